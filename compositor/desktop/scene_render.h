/*
 * Render the scene on one output: what wlr_scene_render_output does, but
 * with a direct pixman path. wlroots 0.15's pixman renderer composites
 * every texture through a float transform turned into a 16.16 one; for a
 * window anywhere but at the origin that transform is never exactly the
 * identity, and pixman falls to its scaled nearest-neighbour path (about
 * 0.6 ms more per 1920x1080 frame here; sway pays the same for a window
 * not at 0,0). A texture shown 1:1 (no scale, no transform, no crop to
 * another size) on an untransformed scale-1 output is composited here
 * straight with pixman; everything else goes the wlroots way.
 */
#ifndef VITRAIL_SCENE_RENDER_H
#define VITRAIL_SCENE_RENDER_H

#include <pixman.h>
#include <stdbool.h>

struct server;
struct wlr_output;
struct wlr_renderer;

/* Between wlr_renderer_begin and _end: draw server->scene on output, whose
 * top-left is at lx,ly in the layout, where damage (output buffer
 * coordinates) says. */
void scene_render(struct server *server, struct wlr_output *output, int lx, int ly,
	pixman_region32_t *damage);
/* Limit renderer to rect, in output's buffer coordinates. */
void scene_render_scissor(
	struct wlr_output *output, struct wlr_renderer *renderer, const pixman_box32_t *rect);

#endif
