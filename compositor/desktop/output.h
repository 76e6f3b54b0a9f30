/*
 * One struct output per wlr_output: its place in the layout, the
 * layer-shell surfaces on it and the usable area they
 * leave, and the frame loop (render the scene, then tell clients and
 * guests their frame was shown).
 */
#ifndef VITRAIL_OUTPUT_H
#define VITRAIL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>

struct server;
struct wlr_output;

struct output {
	struct server *server;
	struct wlr_output *wlr_output;
	struct wl_list link; /* server.outputs */
	struct wlr_box box; /* layout coordinates */
	struct wlr_box usable_area; /* layout coordinates, minus exclusive zones */
	struct wl_list layer_surfaces; /* struct layer_surface.link */
	uint64_t frames; /* frames rendered and committed since it appeared */

	struct wl_listener frame;
	struct wl_listener destroy;
	struct wl_listener commit;
};

/* Configure a new wlr_output, add it to the layout and the scene. */
struct output *output_create(struct server *server, struct wlr_output *wlr_output);
void output_destroy(struct output *output);
/* Re-sort server.outputs by layout position after the layout changed. */
void output_sort_list(struct server *server);
/* Re-read the layout box, re-arrange layers. */
void output_update_geometry(struct output *output);
/* Refresh period in ns, 0 if unknown. */
uint32_t output_refresh_ns(const struct output *output);

#endif
