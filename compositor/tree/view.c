#include "tree/view.h"

#include <stdlib.h>
#include <string.h>
#include <vitrail/common/loop.h>
#include <vitrail/protocol.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/util/log.h>

#include "tree/frame.h"
#include "desktop/idle.h"
#include "desktop/output.h"
#include "input/seat.h"
#include "server.h"
#include "guest/vm_link.h"

#define VIEW_MAX_STRING 1024
#define VIEW_MAX_SIZE 8192

/* Orders views by when they last got the focus (struct view.focus_seq). */
static uint64_t focus_counter;

/* The title bar never leaves the top of the output the frame is on: a
 * window can always be grabbed and shows its [vm] label. */
static void keep_title_on_output(struct view *view)
{
	if (view->fullscreen) {
		return;
	}
	struct wlr_box frame = view_frame_box(view);
	struct wlr_box out;
	if (server_output_box_for(view->server, &frame, &out) && frame.y < out.y) {
		view->y = out.y + (view->y - frame.y);
	}
}

bool view_init(struct view *view, struct server *server, enum view_kind kind,
	const struct view_impl *impl, void *data, struct vm_link *vm, uint32_t label_rgb)
{
	view->server = server;
	view->kind = kind;
	view->impl = impl;
	view->data = data;
	view->vm = vm;
	view->label_rgb = label_rgb;
	wl_list_init(&view->link);
	wl_signal_init(&view->events.unmap);
	wl_signal_init(&view->events.changed);
	view->title = strdup("");
	view->app_id = strdup("");
	if (view->title == NULL || view->app_id == NULL) {
		goto error;
	}
	view->tree = wlr_scene_tree_create(&server->layers[SERVER_LAYER_VIEWS]->node);
	if (view->tree == NULL) {
		goto error;
	}
	view->desc = (struct node_desc){ .kind = NODE_VIEW, .owner = view };
	view->tree->node.data = &view->desc;
	wlr_scene_node_set_enabled(&view->tree->node, false);
	view->frame = frame_create(server, view->tree, label_rgb,
		vm != NULL ? vm_link_name(vm) : NULL, true, NODE_FRAME, view);
	if (view->frame == NULL) {
		goto error;
	}
	view->content = wlr_scene_tree_create(&view->tree->node);
	if (view->content == NULL) {
		goto error;
	}
	view->id = ++server->next_view_id;
	return true;

error:
	frame_destroy(view->frame);
	view->frame = NULL;
	if (view->tree != NULL) {
		wlr_scene_node_destroy(&view->tree->node);
		view->tree = NULL;
	}
	free(view->title);
	free(view->app_id);
	return false;
}

/* Whether the view shows changed: its idle inhibitor may start or stop
 * counting. */
static void idle_changed(struct view *view)
{
	if (view->idle_inhibit) {
		idle_update(view->server->idle);
	}
}

void view_finish(struct view *view)
{
	if (view->mapped) {
		view_unmap(view);
	}
	seat_view_gone(view->server->seat, view);
	frame_destroy(view->frame);
	view->frame = NULL;
	if (view->tree != NULL) {
		wlr_scene_node_destroy(&view->tree->node);
		view->tree = NULL;
	}
	free(view->title);
	free(view->app_id);
	view->title = view->app_id = NULL;
}

struct wlr_box view_content_box(const struct view *view)
{
	return (struct wlr_box){ view->x, view->y, view->width, view->height };
}

struct wlr_box view_frame_box(const struct view *view)
{
	if (view->fullscreen && view->kind == VIEW_HOST) {
		return view_content_box(view);
	}
	if (view->fullscreen) {
		/* a fullscreen guest keeps its border: the VM stays visible */
		return (struct wlr_box){
			view->x - VIEW_BORDER,
			view->y - VIEW_BORDER,
			view->width + 2 * VIEW_BORDER,
			view->height + 2 * VIEW_BORDER,
		};
	}
	return (struct wlr_box){
		view->x - VIEW_BORDER,
		view->y - VIEW_FRAME_TOP,
		view->width + 2 * VIEW_BORDER,
		view->height + VIEW_FRAME_TOP + VIEW_BORDER,
	};
}

void view_update_frame(struct view *view)
{
	if (view->frame == NULL) {
		return;
	}
	/* a window wider than its output keeps its close button on screen */
	struct wlr_box title = { view->x, view->y - 1, 1, 1 }, out;
	int visible = 0;
	if (server_output_box_for(view->server, &title, &out) &&
		view->x + view->width > out.x + out.width) {
		visible = out.x + out.width - view->x;
	}
	frame_set_visible_width(view->frame, visible > 0 ? visible : 0);
	frame_update(view->frame, view->width, view->height, view->title, view->focused);
}

void view_update_scales(struct server *server)
{
	struct view *view;
	wl_list_for_each(view, &server->views, link) {
		if (!view->mapped || view->frame == NULL) {
			continue;
		}
		struct wlr_box box = { view->x, view->y, view->width, view->height };
		struct output *output = server_output_for(server, &box);
		if (output != NULL) {
			frame_set_scale(view->frame, output->wlr_output->scale);
		}
	}
}

static struct output *first_output(struct server *server)
{
	if (wl_list_empty(&server->outputs)) {
		return NULL;
	}
	struct output *output = wl_container_of(server->outputs.next, output, link);
	return output;
}

bool view_just_mapped(const struct view *view)
{
	return view->mapped && loop_now_ms() - view->mapped_at_ms < VIEW_CLICK_GUARD_MS;
}

/* The usable area a new window goes to: of the output with the pointer,
 * else of the focused window's, else of the first output. */
static struct wlr_box placement_area(struct server *server)
{
	struct wlr_cursor *cursor = server->seat->cursor;
	struct wlr_box at = { (int)cursor->x, (int)cursor->y, 1, 1 };
	struct output *output = server_output_for(server, &at);
	struct view *focused = server->seat->focused_view;
	if (output == NULL && focused != NULL && focused->mapped) {
		struct wlr_box box = view_frame_box(focused);
		output = server_output_for(server, &box);
	}
	if (output == NULL) {
		output = first_output(server);
	}
	return output != NULL ? output->usable_area : (struct wlr_box){ 0, 0, 0, 0 };
}

/* How much of box the shown windows other than view cover (summed). */
static long covered(struct server *server, const struct view *view, const struct wlr_box *box)
{
	long sum = 0;
	struct view *other;
	wl_list_for_each(other, &server->views, link) {
		if (other == view || !other->mapped || other->minimized) {
			continue;
		}
		struct wlr_box o = view_frame_box(other), i;
		if (wlr_box_intersection(&i, &o, box)) {
			sum += (long)i.width * i.height;
		}
	}
	return sum;
}

/*
 * Where a new window goes: its frame inside the usable area of
 * placement_area, at the first spot (rows from the top left, in steps of
 * VIEW_CASCADE_STEP from the content position (32, 60)) that no shown
 * window covers, else where the least is covered. A window larger than the
 * area goes to its top left: the title bar on screen first.
 */
static void place(struct view *view)
{
	struct server *server = view->server;
	struct wlr_box area = placement_area(server);
	int fw = view->width + 2 * VIEW_BORDER;
	int fh = view->height + VIEW_FRAME_TOP + VIEW_BORDER;
	int x0 = area.x + VIEW_CASCADE_X - VIEW_BORDER,
	    y0 = area.y + VIEW_CASCADE_Y - VIEW_FRAME_TOP;
	if (x0 + fw > area.x + area.width) {
		x0 = area.x;
	}
	if (y0 + fh > area.y + area.height) {
		y0 = area.y;
	}
	struct wlr_box best = { x0, y0, fw, fh };
	long best_covered = -1;
	for (int y = y0; y == y0 || y + fh <= area.y + area.height; y += VIEW_CASCADE_STEP) {
		for (int x = x0; x == x0 || x + fw <= area.x + area.width; x += VIEW_CASCADE_STEP) {
			struct wlr_box box = { x, y, fw, fh };
			long c = covered(server, view, &box);
			if (best_covered < 0 || c < best_covered) {
				best = box;
				best_covered = c;
			}
			if (c == 0) {
				goto found;
			}
		}
	}
found:
	view->x = best.x + VIEW_BORDER;
	view->y = best.y + VIEW_FRAME_TOP;
}

/* A new window larger than the usable area it went to: ask for what fits
 * (the client may refuse, down to its minimum size). */
static void fit_to_area(struct view *view)
{
	struct wlr_box area = placement_area(view->server);
	int max_w = area.width - 2 * VIEW_BORDER,
	    max_h = area.height - VIEW_FRAME_TOP - VIEW_BORDER;
	if (max_w > 0 && max_h > 0 && (view->width > max_w || view->height > max_h)) {
		view_request_size(view, view->width < max_w ? view->width : max_w,
			view->height < max_h ? view->height : max_h);
	}
}

void view_map(struct view *view, int width, int height, bool focus)
{
	struct server *server = view->server;
	view->width = width;
	view->height = height;
	view->requested_width = width;
	view->requested_height = height;
	place(view);
	wlr_scene_node_set_position(&view->tree->node, view->x, view->y);
	view_update_frame(view);
	wlr_scene_node_set_enabled(&view->tree->node, true);
	struct view *focused = server->seat->focused_view;
	if (!focus && focused != NULL && focused != view && focused->mapped) {
		/* not focused: never above the window in use */
		if (focused->tree->node.parent == view->tree->node.parent) {
			wlr_scene_node_place_below(&view->tree->node, &focused->tree->node);
		} else {
			/* the focused one is fullscreen, above every normal view */
			wlr_scene_node_raise_to_top(&view->tree->node);
		}
		wl_list_insert(&focused->link, &view->link);
	} else {
		wlr_scene_node_raise_to_top(&view->tree->node);
		wl_list_insert(&server->views, &view->link);
	}
	view->mapped = true;
	view->mapped_at_ms = loop_now_ms();
	idle_changed(view);
	wl_signal_emit(&view->server->events.view_map, view);
	if (focus) {
		view_focus(view);
	} else if (view->frame != NULL) {
		/* shown without the keyboard: marked until the user comes to it */
		frame_set_attention(view->frame, true);
		view_update_frame(view);
	}
	fit_to_area(view);
	seat_refresh_pointer(server->seat);
}

size_t view_count_mapped(struct server *server, const struct vm_link *vm)
{
	size_t n = 0;
	struct view *view;
	wl_list_for_each(view, &server->views, link) {
		n += view->mapped && view->vm == vm;
	}
	return n;
}

/* Back to the window focused most recently, never to one that just
 * appeared without the focus (the top of the stack may be a guest's fresh
 * window), nor to a minimized one; false when there is none. */
static bool focus_previous(struct server *server)
{
	struct view *next = NULL, *candidate;
	wl_list_for_each(candidate, &server->views, link) {
		if (candidate->mapped && !candidate->minimized && candidate->focus_seq > 0 &&
			(next == NULL || candidate->focus_seq > next->focus_seq)) {
			next = candidate;
		}
	}
	if (next != NULL) {
		view_focus(next);
	}
	return next != NULL;
}

void view_unmap(struct view *view)
{
	struct server *server = view->server;
	if (!view->mapped) {
		return;
	}
	wl_signal_emit(&view->events.unmap, view);
	bool was_focused = server->seat->focused_view == view;
	view->mapped = false;
	view->minimized = false;
	idle_changed(view);
	if (view->focused) {
		view->focused = false;
		view->impl->focus(view, false);
	}
	wlr_scene_node_set_enabled(&view->tree->node, false);
	wl_list_remove(&view->link);
	wl_list_init(&view->link);
	seat_view_gone(server->seat, view);
	if (was_focused) {
		focus_previous(server);
	}
	seat_refresh_pointer(server->seat);
}

void view_set_size(struct view *view, int width, int height)
{
	if (view->resize_edges & VIEW_EDGE_LEFT) {
		view->x += view->width - width;
	}
	if (view->resize_edges & VIEW_EDGE_TOP) {
		view->y += view->height - height;
	}
	view->width = width;
	view->height = height;
	if (!view->resizing && width == view->requested_width && height == view->requested_height) {
		view->resize_edges = 0;
	}
	keep_title_on_output(view);
	wlr_scene_node_set_position(&view->tree->node, view->x, view->y);
	view_update_frame(view);
}

void view_move(struct view *view, int x, int y)
{
	view->resize_edges = 0;
	view->x = x;
	view->y = y;
	keep_title_on_output(view);
	wlr_scene_node_set_position(&view->tree->node, view->x, view->y);
}

/* A malloc'd display-safe copy (the protocol's sanitizer), or NULL. */
static char *sanitized(const char *untrusted, size_t max_bytes)
{
	char *out = malloc(max_bytes + 1);
	if (out == NULL) {
		return NULL;
	}
	vtp_sanitize_display_string(untrusted, untrusted != NULL ? strlen(untrusted) : 0, max_bytes,
		out, max_bytes + 1);
	return out;
}

void view_set_title(struct view *view, const char *untrusted_title)
{
	char *title = sanitized(untrusted_title, VIEW_MAX_STRING);
	if (title == NULL) {
		return;
	}
	free(view->title);
	view->title = title;
	if (view->mapped) {
		view_update_frame(view);
	}
	wl_signal_emit(&view->events.changed, view);
}

void view_set_app_id(struct view *view, const char *untrusted_app_id)
{
	char *app_id = sanitized(untrusted_app_id, VIEW_MAX_STRING);
	if (app_id == NULL) {
		return;
	}
	free(view->app_id);
	view->app_id = app_id;
	wl_signal_emit(&view->events.changed, view);
}

void view_raise(struct view *view)
{
	if (!view->mapped) {
		return;
	}
	wl_list_remove(&view->link);
	wl_list_insert(&view->server->views, &view->link);
	wlr_scene_node_raise_to_top(&view->tree->node);
}

void view_focus(struct view *view)
{
	struct server *server = view != NULL ? view->server : NULL;
	if (view == NULL || !view->mapped) {
		return;
	}
	struct seat *seat = server->seat;
	struct view *old = seat->focused_view;
	if (view->minimized) {
		view->minimized = false;
		wlr_scene_node_set_enabled(&view->tree->node, true);
		wl_signal_emit(&view->events.changed, view);
		idle_changed(view);
	}
	view->focus_seq = ++focus_counter;
	if (view->frame != NULL) {
		frame_set_attention(view->frame, false);
	}
	if (old != NULL && old != view && old->mapped && old->fullscreen &&
		old->kind == VIEW_GUEST) {
		/* a guest covers the screen only while it is the one in use */
		view_set_fullscreen(old, false);
	}
	view_raise(view);
	if (old != view) {
		if (old != NULL && old->focused) {
			old->focused = false;
			old->impl->focus(old, false);
			view_update_frame(old);
		}
		view->focused = true;
		view->impl->focus(view, true);
		view_update_frame(view);
		if (old != NULL) {
			wl_signal_emit(&old->events.changed, old);
		}
		wl_signal_emit(&view->events.changed, view);
	}
	seat_set_focused_view(seat, view);
	seat_refresh_pointer(seat);
}

void view_close(struct view *view)
{
	view->impl->close(view);
}

static void clamp_size(struct view *view, int *width, int *height)
{
	int min_w = 0, min_h = 0, max_w = 0, max_h = 0;
	view->impl->get_constraints(view, &min_w, &min_h, &max_w, &max_h);
	if (max_w > 0 && *width > max_w) {
		*width = max_w;
	}
	if (max_h > 0 && *height > max_h) {
		*height = max_h;
	}
	if (min_w > 0 && *width < min_w) {
		*width = min_w;
	}
	if (min_h > 0 && *height < min_h) {
		*height = min_h;
	}
	if (*width < 1) {
		*width = 1;
	}
	if (*height < 1) {
		*height = 1;
	}
	if (*width > VIEW_MAX_SIZE) {
		*width = VIEW_MAX_SIZE;
	}
	if (*height > VIEW_MAX_SIZE) {
		*height = VIEW_MAX_SIZE;
	}
}

void view_request_size(struct view *view, int width, int height)
{
	clamp_size(view, &width, &height);
	view->requested_width = width;
	view->requested_height = height;
	view->impl->configure(view, width, height);
}

void view_set_resizing(struct view *view, bool resizing)
{
	view->resizing = resizing;
	/* the grab is over, but commits of sizes asked during it may still
	 * come: they stay anchored to the opposite edge until the client has
	 * the size last asked for (view_set_size), or the window is moved */
	view->impl->configure(view, view->requested_width, view->requested_height);
}

void view_set_maximized(struct view *view, bool maximized)
{
	if (view->fullscreen || maximized == view->maximized || !view->mapped) {
		view->impl->configure(view, view->requested_width, view->requested_height);
		return;
	}
	view->resize_edges = 0;
	if (maximized) {
		struct wlr_box frame = view_frame_box(view);
		struct wlr_box usable;
		if (!server_usable_area_for(view->server, &frame, &usable)) {
			return;
		}
		view->saved = view_content_box(view);
		view->maximized = true;
		view_move(view, usable.x + VIEW_BORDER, usable.y + VIEW_FRAME_TOP);
		view_request_size(view, usable.width - 2 * VIEW_BORDER,
			usable.height - VIEW_FRAME_TOP - VIEW_BORDER);
	} else {
		view->maximized = false;
		view_move(view, view->saved.x, view->saved.y);
		view_request_size(view, view->saved.width, view->saved.height);
	}
	view_update_frame(view);
	wl_signal_emit(&view->events.changed, view);
}

void view_set_fullscreen(struct view *view, bool fullscreen)
{
	struct server *server = view->server;
	if (fullscreen == view->fullscreen || !view->mapped) {
		view->impl->configure(view, view->requested_width, view->requested_height);
		return;
	}
	view->resize_edges = 0;
	if (fullscreen) {
		struct wlr_box frame = view_frame_box(view);
		struct wlr_box box;
		if (!server_output_box_for(server, &frame, &box)) {
			return;
		}
		view->saved_fullscreen = view_content_box(view);
		view->fullscreen = true;
		if (view->kind == VIEW_GUEST) {
			/* the guest gets the output minus a border in its label color */
			frame_set_title_shown(view->frame, false);
			box.x += VIEW_BORDER;
			box.y += VIEW_BORDER;
			box.width -= 2 * VIEW_BORDER;
			box.height -= 2 * VIEW_BORDER;
		} else {
			frame_set_visible(view->frame, false);
		}
		wlr_scene_node_reparent(
			&view->tree->node, &server->layers[SERVER_LAYER_FULLSCREEN]->node);
		view_move(view, box.x, box.y);
		view_request_size(view, box.width, box.height);
		view_update_frame(view);
	} else {
		view->fullscreen = false;
		frame_set_title_shown(view->frame, true);
		frame_set_visible(view->frame, true);
		wlr_scene_node_reparent(
			&view->tree->node, &server->layers[SERVER_LAYER_VIEWS]->node);
		view_move(view, view->saved_fullscreen.x, view->saved_fullscreen.y);
		view_request_size(
			view, view->saved_fullscreen.width, view->saved_fullscreen.height);
		view_update_frame(view);
	}
	wlr_scene_node_raise_to_top(&view->tree->node);
	wl_signal_emit(&view->events.changed, view);
}

void view_set_minimized(struct view *view, bool minimized)
{
	struct server *server = view->server;
	if (!view->mapped || view->minimized == minimized) {
		return;
	}
	if (!minimized) {
		view_focus(view); /* shows it */
		return;
	}
	view->minimized = true;
	wlr_scene_node_set_enabled(&view->tree->node, false);
	idle_changed(view);
	if (server->seat->focused_view == view && !focus_previous(server)) {
		view->focused = false;
		view->impl->focus(view, false);
		view_update_frame(view);
		seat_set_focused_view(server->seat, NULL);
	}
	wl_signal_emit(&view->events.changed, view);
	seat_refresh_pointer(server->seat);
}

struct view *view_next_for_cycle(struct server *server)
{
	struct view *view;
	wl_list_for_each_reverse(view, &server->views, link) {
		if (view->mapped && !view->minimized) {
			return view;
		}
	}
	return NULL;
}

struct view *view_from_id(struct server *server, uint32_t id)
{
	struct view *view;
	wl_list_for_each(view, &server->views, link) {
		if (view->id == id) {
			return view;
		}
	}
	return NULL;
}
