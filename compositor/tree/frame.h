/*
 * The host-drawn decoration around a window: four thin solid rects (the
 * 4 px border in the label color) and a title bar buffer drawn with
 * cairo/pango showing "[vm] title" and a close button. Guests never draw
 * any of it.
 */
#ifndef VITRAIL_FRAME_H
#define VITRAIL_FRAME_H

#include <stdbool.h>
#include <stdint.h>
#include "server.h"

struct wlr_scene_tree;

enum frame_part {
	FRAME_PART_TOP,
	FRAME_PART_BOTTOM,
	FRAME_PART_LEFT,
	FRAME_PART_RIGHT,
	FRAME_PART_TITLE,
	FRAME_PART_COUNT,
};

/* The title bar of a window whose VM does not answer PING. */
#define FRAME_UNRESPONSIVE_RGB 0x5a5a5a
#define FRAME_ATTENTION_RGB 0xf57900 /* the "(new)" line under a title */

/* Width of the close button at the right end of the title bar. */
#define FRAME_CLOSE_WIDTH 24

struct frame;

/*
 * Create a frame under parent, whose origin is the content's top-left.
 * prefix: the VM name shown as "[prefix] " before the title, or NULL.
 * has_title: false gives a border only (popups). The scene nodes carry
 * node descriptors {NODE_FRAME or desc_kind, owner, part}.
 */
struct frame *frame_create(struct server *server, struct wlr_scene_tree *parent, uint32_t label_rgb,
	const char *prefix, bool has_title, enum node_kind desc_kind, void *owner);
void frame_destroy(struct frame *frame);

/* Lay out for a content size and redraw the title bar when needed. */
void frame_update(struct frame *frame, int width, int height, const char *title, bool focused);
void frame_set_visible(struct frame *frame, bool visible);
/* The scale of the output the frame is on: the title is drawn at it
 * (0.5..4; anything else counts as 1). Redraws the title if it changed. */
void frame_set_scale(struct frame *frame, float scale);

/* Show or hide the title bar (a fullscreen guest keeps the border only);
 * takes effect at the next frame_update. */
void frame_set_title_shown(struct frame *frame, bool shown);

/* Mark the window's VM as not responding: the title bar dims to grey and
 * shows "not responding" after the [vm] label, drawn by the host (takes
 * effect at the next frame_update). */
void frame_set_unresponsive(struct frame *frame, bool unresponsive);
/* Mark the window's VM as paused: the title bar dims to grey and shows
 * "(paused)" after the [vm] label (wins over "not responding"). */
void frame_set_paused(struct frame *frame, bool paused);
/* The same for a VM suspended to disk: "(suspended)", wins over paused. */
void frame_set_suspended(struct frame *frame, bool suspended);
/* A window that appeared without the keyboard: "(new)" in its title bar
 * and an orange line under it until the user comes to it. */
void frame_set_attention(struct frame *frame, bool attention);
/* How much of the title bar (from its left end) its output shows, 0 for
 * all: the close button is drawn at that end. */
void frame_set_visible_width(struct frame *frame, int visible_width);

/* True if x (title-bar local) lies on the close button. */
bool frame_title_hit_close(const struct frame *frame, double x);

/* The title bar color for a label: full for focused, 70% otherwise. */
uint32_t frame_title_rgb(uint32_t label_rgb, bool focused);

#endif
