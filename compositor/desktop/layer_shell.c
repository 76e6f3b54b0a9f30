#include "desktop/layer_shell.h"

#include <stdlib.h>
#include <wlr/types/wlr_layer_shell_v1.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>

#include "desktop/output.h"
#include "input/seat.h"
#include "server.h"
#include "tree/view.h"
#include "desktop/xdg.h"

static enum server_layer scene_layer_for(enum zwlr_layer_shell_v1_layer layer)
{
	switch (layer) {
	case ZWLR_LAYER_SHELL_V1_LAYER_BACKGROUND:
		return SERVER_LAYER_SHELL_BACKGROUND;
	case ZWLR_LAYER_SHELL_V1_LAYER_BOTTOM:
		return SERVER_LAYER_SHELL_BOTTOM;
	case ZWLR_LAYER_SHELL_V1_LAYER_TOP:
		return SERVER_LAYER_SHELL_TOP;
	case ZWLR_LAYER_SHELL_V1_LAYER_OVERLAY:
		return SERVER_LAYER_SHELL_OVERLAY;
	}
	return SERVER_LAYER_SHELL_TOP;
}

bool layer_shell_wants_keyboard(const struct layer_surface *surface, bool *exclusive)
{
	const struct wlr_layer_surface_v1_state *state = &surface->wlr_layer_surface->current;
	*exclusive = state->keyboard_interactive ==
			ZWLR_LAYER_SURFACE_V1_KEYBOARD_INTERACTIVITY_EXCLUSIVE &&
		state->layer >= ZWLR_LAYER_SHELL_V1_LAYER_TOP;
	return state->keyboard_interactive != ZWLR_LAYER_SURFACE_V1_KEYBOARD_INTERACTIVITY_NONE;
}

/* Shrink the usable area by an exclusive zone along the anchored edge. */
static void apply_exclusive(struct wlr_box *usable, uint32_t anchor, int32_t zone,
	int32_t margin_top, int32_t margin_right, int32_t margin_bottom, int32_t margin_left)
{
	const uint32_t top = ZWLR_LAYER_SURFACE_V1_ANCHOR_TOP;
	const uint32_t bottom = ZWLR_LAYER_SURFACE_V1_ANCHOR_BOTTOM;
	const uint32_t left = ZWLR_LAYER_SURFACE_V1_ANCHOR_LEFT;
	const uint32_t right = ZWLR_LAYER_SURFACE_V1_ANCHOR_RIGHT;
	if (anchor == top || anchor == (top | left | right)) {
		usable->y += zone + margin_top;
		usable->height -= zone + margin_top;
	} else if (anchor == bottom || anchor == (bottom | left | right)) {
		usable->height -= zone + margin_bottom;
	} else if (anchor == left || anchor == (left | top | bottom)) {
		usable->x += zone + margin_left;
		usable->width -= zone + margin_left;
	} else if (anchor == right || anchor == (right | top | bottom)) {
		usable->width -= zone + margin_right;
	}
	if (usable->width < 0) {
		usable->width = 0;
	}
	if (usable->height < 0) {
		usable->height = 0;
	}
}

/* Place a surface along one axis of bounds (from start, extent long) by
 * its anchors at the start and the end: stretched between both when it
 * has no size, at one, or centred. */
static void place(int *pos, int *size, int start, int extent, bool at_start, bool at_end,
	int margin_start, int margin_end)
{
	if (*size == 0 && at_start && at_end) {
		*pos = start + margin_start;
		*size = extent - margin_start - margin_end;
	} else if (at_start && !at_end) {
		*pos = start + margin_start;
	} else if (at_end && !at_start) {
		*pos = start + extent - *size - margin_end;
	} else {
		*pos = start + (extent - *size) / 2;
	}
}

static void arrange_one(
	struct layer_surface *ls, const struct wlr_box *full, struct wlr_box *usable)
{
	struct wlr_layer_surface_v1 *wlr = ls->wlr_layer_surface;
	const struct wlr_layer_surface_v1_state *state = &wlr->current;
	const struct wlr_box bounds = state->exclusive_zone == -1 ? *full : *usable;
	struct wlr_box box = {
		.width = (int)state->desired_width,
		.height = (int)state->desired_height,
	};
	uint32_t a = state->anchor;
	place(&box.x, &box.width, bounds.x, bounds.width, a & ZWLR_LAYER_SURFACE_V1_ANCHOR_LEFT,
		a & ZWLR_LAYER_SURFACE_V1_ANCHOR_RIGHT, (int)state->margin.left,
		(int)state->margin.right);
	place(&box.y, &box.height, bounds.y, bounds.height, a & ZWLR_LAYER_SURFACE_V1_ANCHOR_TOP,
		a & ZWLR_LAYER_SURFACE_V1_ANCHOR_BOTTOM, (int)state->margin.top,
		(int)state->margin.bottom);
	if (box.width <= 0 || box.height <= 0) {
		/* not configured: the client cannot map (closing it here would
		 * re-enter the arrangement) */
		wlr_log(WLR_INFO, "layer surface %s: no room",
			wlr->namespace ? wlr->namespace : "?");
		return;
	}
	ls->box = box;
	wlr_scene_node_set_position(&ls->tree->node, box.x, box.y);
	if (ls->configured_width != box.width || ls->configured_height != box.height) {
		ls->configured_width = box.width;
		ls->configured_height = box.height;
		wlr_layer_surface_v1_configure(wlr, (uint32_t)box.width, (uint32_t)box.height);
	}
	if (state->exclusive_zone > 0) {
		apply_exclusive(usable, state->anchor, state->exclusive_zone,
			(int32_t)state->margin.top, (int32_t)state->margin.right,
			(int32_t)state->margin.bottom, (int32_t)state->margin.left);
	}
}

void layer_shell_arrange(struct output *output)
{
	struct wlr_box full = output->box;
	struct wlr_box usable = full;
	/* surfaces with an exclusive zone first, top layers first */
	for (int pass = 0; pass < 2; pass++) {
		for (int layer = ZWLR_LAYER_SHELL_V1_LAYER_OVERLAY;
			layer >= ZWLR_LAYER_SHELL_V1_LAYER_BACKGROUND; layer--) {
			struct layer_surface *ls, *tmp;
			wl_list_for_each_safe(ls, tmp, &output->layer_surfaces, link) {
				const struct wlr_layer_surface_v1_state *state =
					&ls->wlr_layer_surface->current;
				if ((int)state->layer != layer) {
					continue;
				}
				if ((pass == 0) != (state->exclusive_zone > 0)) {
					continue;
				}
				arrange_one(ls, &full, &usable);
			}
		}
	}
	if (output->usable_area.x != usable.x || output->usable_area.y != usable.y ||
		output->usable_area.width != usable.width ||
		output->usable_area.height != usable.height) {
		output->usable_area = usable;
		server_outputs_changed(output->server);
	}
}

static void handle_map(struct wl_listener *listener, void *data)
{
	struct layer_surface *ls = wl_container_of(listener, ls, map);
	ls->mapped = true;
	bool exclusive;
	if (layer_shell_wants_keyboard(ls, &exclusive) && exclusive) {
		seat_focus_layer(ls->server->seat, ls);
	}
}

static void handle_unmap(struct wl_listener *listener, void *data)
{
	struct layer_surface *ls = wl_container_of(listener, ls, unmap);
	ls->mapped = false;
	seat_layer_gone(ls->server->seat, ls);
}

static void handle_commit(struct wl_listener *listener, void *data)
{
	struct layer_surface *ls = wl_container_of(listener, ls, commit);
	struct wlr_layer_surface_v1 *wlr = ls->wlr_layer_surface;
	if (wlr->current.committed == 0) {
		return;
	}
	if (wlr->current.committed & WLR_LAYER_SURFACE_V1_STATE_LAYER) {
		wlr_scene_node_reparent(&ls->tree->node,
			&ls->server->layers[scene_layer_for(wlr->current.layer)]->node);
	}
	if (ls->output != NULL) {
		layer_shell_arrange(ls->output);
	}
	if (wlr->current.committed & WLR_LAYER_SURFACE_V1_STATE_KEYBOARD_INTERACTIVITY) {
		bool exclusive;
		if (ls->mapped && layer_shell_wants_keyboard(ls, &exclusive) && exclusive) {
			seat_focus_layer(ls->server->seat, ls);
		} else if (!layer_shell_wants_keyboard(ls, &exclusive)) {
			seat_layer_gone(ls->server->seat, ls);
		}
	}
}

static void handle_new_popup(struct wl_listener *listener, void *data)
{
	struct layer_surface *ls = wl_container_of(listener, ls, new_popup);
	struct wlr_xdg_popup *wlr_popup = data;
	xdg_popup_create(ls->server, wlr_popup, ls->tree, &ls->box);
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct layer_surface *ls = wl_container_of(listener, ls, destroy);
	seat_layer_gone(ls->server->seat, ls);
	wl_list_remove(&ls->map.link);
	wl_list_remove(&ls->unmap.link);
	wl_list_remove(&ls->destroy.link);
	wl_list_remove(&ls->commit.link);
	wl_list_remove(&ls->new_popup.link);
	wl_list_remove(&ls->link);
	struct output *output = ls->output;
	wlr_scene_node_destroy(&ls->tree->node);
	ls->wlr_layer_surface->data = NULL;
	free(ls);
	if (output != NULL) {
		layer_shell_arrange(output);
	}
}

void layer_shell_handle_new_surface(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_layer_surface);
	struct wlr_layer_surface_v1 *wlr = data;

	if (wlr->output == NULL) {
		struct output *first = NULL;
		struct output *o;
		wl_list_for_each(o, &server->outputs, link) {
			first = o;
			break;
		}
		if (first == NULL) {
			wlr_layer_surface_v1_destroy(wlr);
			return;
		}
		wlr->output = first->wlr_output;
	}
	struct output *output = wlr->output->data;
	if (output == NULL) {
		wlr_layer_surface_v1_destroy(wlr);
		return;
	}

	struct layer_surface *ls = calloc(1, sizeof(*ls));
	if (ls == NULL) {
		wlr_layer_surface_v1_destroy(wlr);
		return;
	}
	ls->server = server;
	ls->output = output;
	ls->wlr_layer_surface = wlr;
	ls->tree =
		wlr_scene_tree_create(&server->layers[scene_layer_for(wlr->pending.layer)]->node);
	if (ls->tree == NULL) {
		free(ls);
		wlr_layer_surface_v1_destroy(wlr);
		return;
	}
	ls->surface_node = wlr_scene_subsurface_tree_create(&ls->tree->node, wlr->surface);
	if (ls->surface_node == NULL) {
		wlr_scene_node_destroy(&ls->tree->node);
		free(ls);
		wlr_layer_surface_v1_destroy(wlr);
		return;
	}
	ls->desc = (struct node_desc){ .kind = NODE_LAYER_SURFACE, .owner = ls };
	ls->tree->node.data = &ls->desc;
	wlr->data = ls;
	wl_list_insert(output->layer_surfaces.prev, &ls->link);

	ls->map.notify = handle_map;
	wl_signal_add(&wlr->events.map, &ls->map);
	ls->unmap.notify = handle_unmap;
	wl_signal_add(&wlr->events.unmap, &ls->unmap);
	ls->destroy.notify = handle_destroy;
	wl_signal_add(&wlr->events.destroy, &ls->destroy);
	ls->commit.notify = handle_commit;
	wl_signal_add(&wlr->surface->events.commit, &ls->commit);
	ls->new_popup.notify = handle_new_popup;
	wl_signal_add(&wlr->events.new_popup, &ls->new_popup);

	/* the initial state is current now: the first configure carries a size */
	layer_shell_arrange(output);
}

void layer_shell_output_destroyed(struct output *output)
{
	struct layer_surface *ls, *tmp;
	wl_list_for_each_safe(ls, tmp, &output->layer_surfaces, link) {
		ls->output = NULL;
		wl_list_remove(&ls->link);
		wl_list_init(&ls->link);
		wlr_layer_surface_v1_destroy(ls->wlr_layer_surface);
	}
}
