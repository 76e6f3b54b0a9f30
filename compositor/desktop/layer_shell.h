/*
 * wlr-layer-shell surfaces on the host: bars, launchers, notifications.
 * Arranged per output by anchors, margins and exclusive zones; exclusive
 * zones shrink the output's usable area (what maximized windows fill).
 */
#ifndef VITRAIL_LAYER_SHELL_H
#define VITRAIL_LAYER_SHELL_H

#include <stdbool.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>

#include "server.h"

struct output;
struct wlr_layer_surface_v1;

struct layer_surface {
	struct server *server;
	struct output *output;
	struct wlr_layer_surface_v1 *wlr_layer_surface;
	struct wlr_scene_tree *tree; /* at the surface position */
	struct wlr_scene_node *surface_node;
	struct node_desc desc;
	struct wl_list link; /* output.layer_surfaces */
	struct wlr_box box; /* layout coordinates */
	int configured_width, configured_height; /* last size sent */
	bool mapped;

	struct wl_listener map;
	struct wl_listener unmap;
	struct wl_listener destroy;
	struct wl_listener commit;
	struct wl_listener new_popup;
};

/* Handles server.new_layer_surface. */
void layer_shell_handle_new_surface(struct wl_listener *listener, void *data);
/* Position every layer surface of the output; update its usable area. */
void layer_shell_arrange(struct output *output);
/* The output goes away: close its layer surfaces. */
void layer_shell_output_destroyed(struct output *output);
/* Whether the surface wants the keyboard (exclusive or on demand). */
bool layer_shell_wants_keyboard(const struct layer_surface *surface, bool *exclusive);

#endif
