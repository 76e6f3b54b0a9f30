#include "input/seat.h"

#include <linux/input-event-codes.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/common/loop.h>
#include <wlr/backend.h>
#include <wlr/backend/session.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_layer_shell_v1.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_pointer.h>
#include <wlr/types/wlr_primary_selection.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <wlr/util/log.h>
#include <xkbcommon/xkbcommon.h>

#include "config.h"
#include "tree/frame.h"
#include "desktop/layer_shell.h"
#include "desktop/idle.h"
#include "desktop/lock.h"
#include "server.h"
#include "tree/view.h"
#include "desktop/xdg.h"

#define DOUBLE_CLICK_MS 400
/* pixels the pointer moves before a press on a maximized title bar is a drag */
#define DRAG_THRESHOLD 6
#define MIN_RESIZE 16

struct keyboard {
	struct seat *seat;
	struct wlr_input_device *device;
	struct wl_list link; /* seat.keyboards */
	struct wl_listener key;
	struct wl_listener modifiers;
	struct wl_listener keymap;
	struct wl_listener destroy;
};

enum hit_kind {
	HIT_NONE,
	HIT_SURFACE, /* a host client surface */
	HIT_TARGET, /* an input target its view's impl delivers to */
	HIT_FRAME, /* a view's frame */
	HIT_POPUP_BORDER, /* the border of such a target's popup */
};

struct hit {
	enum hit_kind kind;
	struct view *view; /* the view it belongs to, if any */
	struct layer_surface *layer;
	struct input_target *target; /* HIT_TARGET */
	struct wlr_surface *surface;
	double sx, sy; /* node-local */
	int part; /* enum frame_part for HIT_FRAME */
};

/* ---- keymap for guests ---- */

static void set_keymap_text(struct seat *seat, const char *text)
{
	if (text == NULL) {
		text = seat->default_keymap_text;
	}
	if (text == NULL) {
		text = "";
	}
	size_t len = strlen(text);
	if (seat->keymap_text != NULL && seat->keymap_len == len &&
		memcmp(seat->keymap_text, text, len) == 0) {
		seat->keymap_text = text;
		return;
	}
	seat->keymap_text = text;
	seat->keymap_len = len;
	seat->keymap_serial++;
}

const char *seat_keymap_text(struct seat *seat, size_t *len, uint64_t *serial)
{
	if (seat->keymap_text == NULL) {
		set_keymap_text(seat, NULL);
	}
	*len = seat->keymap_len;
	*serial = seat->keymap_serial;
	return seat->keymap_text;
}

void seat_get_modifiers(struct seat *seat, uint32_t *depressed, uint32_t *latched, uint32_t *locked,
	uint32_t *group)
{
	struct wlr_keyboard *kb = seat->active_keyboard;
	if (kb == NULL) {
		*depressed = *latched = *locked = *group = 0;
		return;
	}
	*depressed = kb->modifiers.depressed;
	*latched = kb->modifiers.latched;
	*locked = kb->modifiers.locked;
	*group = kb->modifiers.group;
}

static void set_active_keyboard(struct seat *seat, struct wlr_input_device *device)
{
	struct wlr_keyboard *kb = device->keyboard;
	if (seat->active_keyboard != kb) {
		seat->active_keyboard = kb;
		wlr_seat_set_keyboard(seat->wlr_seat, device);
	}
	set_keymap_text(seat, kb->keymap_string);
}

/* ---- keyboard focus ---- */

void seat_update_keyboard_focus(struct seat *seat)
{
	struct wlr_surface *surface = NULL;
	struct seat_target keyboard = { 0 };
	if (lock_active(seat->server->lock)) {
		/* locked: the locker's lock surface or nothing, never a guest */
		surface = lock_keyboard_surface(seat->server->lock);
	} else if (seat->focused_layer != NULL && seat->focused_layer->mapped) {
		surface = seat->focused_layer->wlr_layer_surface->surface;
	} else if (seat->focused_view != NULL && seat->focused_view->mapped) {
		struct view *view = seat->focused_view;
		if (view->impl->keyboard_target != NULL) {
			keyboard.view = view;
			keyboard.target = view->impl->keyboard_target(view);
		} else {
			surface = xdg_view_surface(view);
		}
	}

	if (keyboard.target != seat->keyboard_target.target) {
		struct seat_target old = seat->keyboard_target;
		if (old.view != NULL) {
			old.view->impl->keyboard_leave(old.view, old.target);
		}
		seat->keyboard_target = keyboard;
		if (keyboard.view != NULL) {
			keyboard.view->impl->keyboard_enter(keyboard.view, keyboard.target);
		}
	}

	if (surface != seat->wlr_seat->keyboard_state.focused_surface) {
		if (surface == NULL) {
			wlr_seat_keyboard_notify_clear_focus(seat->wlr_seat);
		} else {
			struct wlr_keyboard *kb = wlr_seat_get_keyboard(seat->wlr_seat);
			if (kb != NULL) {
				wlr_seat_keyboard_notify_enter(seat->wlr_seat, surface,
					kb->keycodes, kb->num_keycodes, &kb->modifiers);
			} else {
				wlr_seat_keyboard_notify_enter(
					seat->wlr_seat, surface, NULL, 0, NULL);
			}
		}
	}
}

void seat_set_focused_view(struct seat *seat, struct view *view)
{
	seat->focused_view = view;
	if (view != NULL && seat->focused_layer != NULL) {
		bool exclusive;
		layer_shell_wants_keyboard(seat->focused_layer, &exclusive);
		if (!exclusive) {
			seat->focused_layer = NULL;
		}
	}
	seat_update_keyboard_focus(seat);
}

void seat_focus_layer(struct seat *seat, struct layer_surface *layer)
{
	if (!lock_allows_surface(seat->server->lock, layer->wlr_layer_surface->surface)) {
		return; /* locked: only the locker's surfaces get the keyboard */
	}
	seat->focused_layer = layer;
	seat_update_keyboard_focus(seat);
}

static void clear_down_surface(struct seat *seat)
{
	if (seat->down_surface != NULL) {
		wl_list_remove(&seat->down_surface_destroy.link);
		wl_list_init(&seat->down_surface_destroy.link);
		seat->down_surface = NULL;
	}
}

void seat_layer_gone(struct seat *seat, struct layer_surface *layer)
{
	if (seat->down_surface != NULL && seat->down_surface == layer->wlr_layer_surface->surface) {
		clear_down_surface(seat);
	}
	if (seat->focused_layer == layer) {
		seat->focused_layer = NULL;
		seat_update_keyboard_focus(seat);
	}
}

static void end_grab(struct seat *seat)
{
	struct view *view = seat->grab_view;
	enum seat_mode mode = seat->mode;
	seat->mode = SEAT_MODE_NORMAL;
	seat->grab_view = NULL;
	if (view != NULL && mode == SEAT_MODE_RESIZE) {
		view_set_resizing(view, false);
	}
}

void seat_view_gone(struct seat *seat, struct view *view)
{
	if (seat->grab_view == view) {
		end_grab(seat);
		seat->mode = seat->buttons_down > 0 ? SEAT_MODE_SWALLOW : SEAT_MODE_NORMAL;
	}
	if (seat->last_title_click_view == view) {
		seat->last_title_click_view = NULL;
	}
	if (seat->focused_view == view) {
		seat->focused_view = NULL;
		seat_update_keyboard_focus(seat);
	}
}

void seat_input_target_gone(struct seat *seat, struct input_target *target)
{
	struct seat_target *held[] = { &seat->keyboard_target, &seat->pointer_target,
		&seat->down_target };
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
		if (held[i]->target == target) {
			*held[i] = (struct seat_target){ 0 };
		}
	}
}

/* ---- bindings ---- */

static bool key_consumed(struct seat *seat, uint32_t keycode, bool remove)
{
	for (size_t i = 0; i < seat->n_consumed_keys; i++) {
		if (seat->consumed_keys[i] == keycode) {
			if (remove) {
				seat->consumed_keys[i] =
					seat->consumed_keys[--seat->n_consumed_keys];
			}
			return true;
		}
	}
	return false;
}

/* Run a binding; false if the action is not available (the key passes on). */
static bool run_action(struct seat *seat, const struct config_binding *binding)
{
	struct server *server = seat->server;
	struct view *focused = seat->focused_view;
	switch (binding->action) {
	case ACTION_EXEC:
		server_spawn(server, binding->command);
		break;
	case ACTION_CLOSE:
		if (focused != NULL) {
			view_close(focused);
		}
		break;
	case ACTION_MAXIMIZE:
		if (focused != NULL) {
			view_set_maximized(focused, !focused->maximized);
		}
		break;
	case ACTION_CYCLE: {
		struct view *next = view_next_for_cycle(server);
		if (next != NULL) {
			view_focus(next);
		}
		break;
	}
	case ACTION_EXIT:
		wl_display_terminate(server->display);
		break;
	case ACTION_CLIPBOARD_COPY:
	case ACTION_CLIPBOARD_PASTE: {
		/* the host's own keys: they never reach the focused client */
		struct seat_action_event event = { .action = binding->action, .view = focused };
		wl_signal_emit(&seat->events.action, &event);
		break;
	}
	}
	return true;
}

/* Ctrl+Alt+Fn on a TTY: the keymap turns it into XF86Switch_VT_n. */
static bool handle_vt_switch(struct seat *seat, struct wlr_keyboard *kb, uint32_t keycode)
{
	const xkb_keysym_t *syms = NULL;
	int n = xkb_state_key_get_syms(kb->xkb_state, keycode, &syms);
	for (int i = 0; i < n; i++) {
		if (syms[i] < XKB_KEY_XF86Switch_VT_1 || syms[i] > XKB_KEY_XF86Switch_VT_12) {
			continue;
		}
		struct wlr_session *session = wlr_backend_get_session(seat->server->backend);
		if (session != NULL) {
			wlr_session_change_vt(session, syms[i] - XKB_KEY_XF86Switch_VT_1 + 1);
		}
		return true;
	}
	return false;
}

static bool handle_binding(struct seat *seat, struct wlr_keyboard *kb, uint32_t keycode)
{
	const struct config *config = seat->server->config;
	uint32_t mods = wlr_keyboard_get_modifiers(kb) &
		(WLR_MODIFIER_SHIFT | WLR_MODIFIER_CTRL | WLR_MODIFIER_ALT | WLR_MODIFIER_LOGO);
	if (config->n_bindings == 0) {
		return false;
	}
	const xkb_keysym_t *translated = NULL;
	int n_translated = xkb_state_key_get_syms(kb->xkb_state, keycode, &translated);
	const xkb_keysym_t *raw = NULL;
	xkb_layout_index_t layout = xkb_state_key_get_layout(kb->xkb_state, keycode);
	int n_raw = xkb_keymap_key_get_syms_by_level(kb->keymap, keycode, layout, 0, &raw);

	for (size_t i = 0; i < config->n_bindings; i++) {
		const struct config_binding *b = &config->bindings[i];
		if (b->modifiers != mods) {
			continue;
		}
		xkb_keysym_t want = xkb_keysym_to_lower(b->keysym);
		bool match = false;
		for (int j = 0; j < n_translated && !match; j++) {
			match = xkb_keysym_to_lower(translated[j]) == want;
		}
		for (int j = 0; j < n_raw && !match; j++) {
			match = xkb_keysym_to_lower(raw[j]) == want;
		}
		if (match) {
			return run_action(seat, b);
		}
	}
	return false;
}

/* ---- keyboards ---- */

static void keyboard_handle_key(struct wl_listener *listener, void *data)
{
	struct keyboard *keyboard = wl_container_of(listener, keyboard, key);
	struct seat *seat = keyboard->seat;
	struct wlr_event_keyboard_key *event = data;
	struct wlr_keyboard *kb = keyboard->device->keyboard;
	set_active_keyboard(seat, keyboard->device);
	idle_activity(seat->server->idle);

	uint32_t xkb_keycode = event->keycode + 8;
	bool pressed = event->state == WL_KEYBOARD_KEY_STATE_PRESSED;
	if (pressed) {
		/* a layer surface with exclusive focus (a launcher, a lock) gets
		 * everything, bindings included */
		bool exclusive = false;
		if (seat->focused_layer != NULL) {
			layer_shell_wants_keyboard(seat->focused_layer, &exclusive);
		}
		/* locked: no binding, no chooser; only VT switches */
		bool locked = lock_active(seat->server->lock);
		/* the @ask chooser, while shown, takes every key */
		if (handle_vt_switch(seat, kb, xkb_keycode) ||
			(!locked && seat->grab != NULL &&
				seat->grab->key(seat->grab->data, kb, xkb_keycode)) ||
			(!exclusive && !locked && handle_binding(seat, kb, xkb_keycode))) {
			if (seat->n_consumed_keys < SEAT_MAX_CONSUMED_KEYS) {
				seat->consumed_keys[seat->n_consumed_keys++] = event->keycode;
			}
			return;
		}
	} else if (key_consumed(seat, event->keycode, true)) {
		return;
	}

	struct seat_target *target = &seat->keyboard_target;
	if (target->view != NULL) {
		target->view->impl->keyboard_key(
			target->view, target->target, event->time_msec, event->keycode, pressed);
	} else {
		wlr_seat_keyboard_notify_key(
			seat->wlr_seat, event->time_msec, event->keycode, event->state);
	}
}

static void keyboard_handle_modifiers(struct wl_listener *listener, void *data)
{
	struct keyboard *keyboard = wl_container_of(listener, keyboard, modifiers);
	struct seat *seat = keyboard->seat;
	set_active_keyboard(seat, keyboard->device);
	wlr_seat_keyboard_notify_modifiers(seat->wlr_seat, &keyboard->device->keyboard->modifiers);
	struct seat_target *target = &seat->keyboard_target;
	if (target->view != NULL) {
		target->view->impl->keyboard_modifiers(target->view, target->target);
	}
}

static void keyboard_handle_keymap(struct wl_listener *listener, void *data)
{
	struct keyboard *keyboard = wl_container_of(listener, keyboard, keymap);
	struct seat *seat = keyboard->seat;
	if (seat->active_keyboard == keyboard->device->keyboard) {
		set_keymap_text(seat, keyboard->device->keyboard->keymap_string);
	}
}

static void keyboard_handle_destroy(struct wl_listener *listener, void *data)
{
	struct keyboard *keyboard = wl_container_of(listener, keyboard, destroy);
	struct seat *seat = keyboard->seat;
	wl_list_remove(&keyboard->key.link);
	wl_list_remove(&keyboard->modifiers.link);
	wl_list_remove(&keyboard->keymap.link);
	wl_list_remove(&keyboard->destroy.link);
	wl_list_remove(&keyboard->link);
	if (seat->active_keyboard == keyboard->device->keyboard) {
		seat->active_keyboard = NULL;
		/* the keymap text lives in the keyboard: fall back to ours */
		seat->keymap_text = NULL;
		set_keymap_text(seat, NULL);
		/* another keyboard becomes the seat's at once: wlroots gives the
		 * clients' keyboards its keymap, so no client ever gets an enter
		 * without one (a virtual keyboard that came and went left the seat
		 * without any, and clients such as fuzzel crashed on the enter) */
		struct keyboard *other;
		wl_list_for_each(other, &seat->keyboards, link) {
			if (other->device->keyboard->keymap != NULL) {
				set_active_keyboard(seat, other->device);
				break;
			}
		}
	}
	free(keyboard);
}

static void add_keyboard(struct seat *seat, struct wlr_input_device *device, bool is_virtual)
{
	struct keyboard *keyboard = calloc(1, sizeof(*keyboard));
	if (keyboard == NULL) {
		return;
	}
	keyboard->seat = seat;
	keyboard->device = device;
	struct wlr_keyboard *kb = device->keyboard;
	if (!is_virtual && seat->keymap != NULL) {
		wlr_keyboard_set_keymap(kb, seat->keymap);
	}
	const struct config *config = seat->server->config;
	wlr_keyboard_set_repeat_info(kb, config->repeat_rate, config->repeat_delay);

	keyboard->key.notify = keyboard_handle_key;
	wl_signal_add(&kb->events.key, &keyboard->key);
	keyboard->modifiers.notify = keyboard_handle_modifiers;
	wl_signal_add(&kb->events.modifiers, &keyboard->modifiers);
	keyboard->keymap.notify = keyboard_handle_keymap;
	wl_signal_add(&kb->events.keymap, &keyboard->keymap);
	keyboard->destroy.notify = keyboard_handle_destroy;
	wl_signal_add(&device->events.destroy, &keyboard->destroy);
	wl_list_insert(&seat->keyboards, &keyboard->link);

	if (seat->active_keyboard == NULL && kb->keymap != NULL) {
		set_active_keyboard(seat, device);
	}
}

void seat_add_device(struct seat *seat, struct wlr_input_device *device, bool is_virtual)
{
	switch (device->type) {
	case WLR_INPUT_DEVICE_KEYBOARD:
		add_keyboard(seat, device, is_virtual);
		break;
	case WLR_INPUT_DEVICE_POINTER:
		wlr_cursor_attach_input_device(seat->cursor, device);
		break;
	default:
		break;
	}
}

/* ---- pointer ---- */

static void set_cursor_name(struct seat *seat, const char *name)
{
	if (!seat->cursor_shown) {
		return;
	}
	if (seat->cursor_name != NULL && strcmp(seat->cursor_name, name) == 0) {
		return;
	}
	seat->cursor_name = name;
	wlr_xcursor_manager_set_cursor_image(seat->xcursor_manager, name, seat->cursor);
}

static const char *cursor_for_edges(uint32_t edges)
{
	switch (edges) {
	case VIEW_EDGE_TOP:
		return "top_side";
	case VIEW_EDGE_BOTTOM:
		return "bottom_side";
	case VIEW_EDGE_LEFT:
		return "left_side";
	case VIEW_EDGE_RIGHT:
		return "right_side";
	case VIEW_EDGE_TOP | VIEW_EDGE_LEFT:
		return "top_left_corner";
	case VIEW_EDGE_TOP | VIEW_EDGE_RIGHT:
		return "top_right_corner";
	case VIEW_EDGE_BOTTOM | VIEW_EDGE_LEFT:
		return "bottom_left_corner";
	case VIEW_EDGE_BOTTOM | VIEW_EDGE_RIGHT:
		return "bottom_right_corner";
	}
	return "left_ptr";
}

static void hit_test(struct seat *seat, double lx, double ly, struct hit *hit)
{
	memset(hit, 0, sizeof(*hit));
	double nx = 0, ny = 0;
	struct wlr_scene_node *node =
		wlr_scene_node_at(&seat->server->scene->node, lx, ly, &nx, &ny);
	if (node == NULL) {
		return;
	}
	hit->sx = nx;
	hit->sy = ny;
	if (node->type == WLR_SCENE_NODE_SURFACE) {
		hit->kind = HIT_SURFACE;
		hit->surface = wlr_scene_surface_from_node(node)->surface;
	}
	struct node_desc *desc = NULL;
	for (struct wlr_scene_node *n = node; n != NULL; n = n->parent) {
		if (n->data != NULL) {
			desc = n->data;
			break;
		}
	}
	if (desc == NULL) {
		return;
	}
	switch (desc->kind) {
	case NODE_VIEW:
		hit->view = desc->owner;
		break;
	case NODE_FRAME:
		hit->kind = HIT_FRAME;
		hit->view = desc->owner;
		hit->part = desc->part;
		break;
	case NODE_INPUT_TARGET:
		hit->kind = HIT_TARGET;
		hit->view = desc->owner;
		hit->target = desc->target;
		break;
	case NODE_POPUP_BORDER:
		hit->kind = HIT_POPUP_BORDER;
		hit->view = desc->owner;
		break;
	case NODE_LAYER_SURFACE:
		hit->layer = desc->owner;
		break;
	}
	if (!lock_allows_surface(seat->server->lock, hit->surface)) {
		/* locked: only the locker's surfaces are there for the pointer */
		memset(hit, 0, sizeof(*hit));
	}
}

/* Which edges a point of the frame resizes. */
static uint32_t frame_edges(const struct hit *hit)
{
	const int corner = 16;
	struct view *view = hit->view;
	uint32_t edges = 0;
	/* node-local coordinates: convert to content-relative ones */
	double x = hit->sx, y = hit->sy;
	switch (hit->part) {
	case FRAME_PART_TOP:
		edges = VIEW_EDGE_TOP;
		x -= VIEW_BORDER;
		break;
	case FRAME_PART_BOTTOM:
		edges = VIEW_EDGE_BOTTOM;
		x -= VIEW_BORDER;
		break;
	case FRAME_PART_LEFT:
		edges = VIEW_EDGE_LEFT;
		y -= VIEW_TITLE_HEIGHT;
		break;
	case FRAME_PART_RIGHT:
		edges = VIEW_EDGE_RIGHT;
		y -= VIEW_TITLE_HEIGHT;
		break;
	default:
		return 0;
	}
	if (edges & (VIEW_EDGE_TOP | VIEW_EDGE_BOTTOM)) {
		if (x < corner) {
			edges |= VIEW_EDGE_LEFT;
		} else if (x > view->width - corner) {
			edges |= VIEW_EDGE_RIGHT;
		}
	} else {
		if (y < corner - VIEW_TITLE_HEIGHT) {
			edges |= VIEW_EDGE_TOP;
		} else if (y > view->height - corner) {
			edges |= VIEW_EDGE_BOTTOM;
		}
	}
	return edges;
}

static void target_pointer_leave(struct seat *seat)
{
	struct seat_target *target = &seat->pointer_target;
	if (target->view != NULL) {
		target->view->impl->pointer_leave(target->view, target->target);
		*target = (struct seat_target){ 0 };
	}
}

/* The pointer enters a target (after leaving the one before). */
static void target_pointer_enter(struct seat *seat, const struct hit *hit)
{
	target_pointer_leave(seat);
	seat->pointer_target = (struct seat_target){ hit->view, hit->target };
	hit->view->impl->pointer_enter(hit->view, hit->target, hit->sx, hit->sy);
}

/* Show the cursor image of the target under the pointer; false if it has
 * none (or nothing is there). */
static bool target_set_cursor(struct seat *seat)
{
	struct seat_target *target = &seat->pointer_target;
	return target->view != NULL &&
		target->view->impl->set_cursor(target->view, target->target, seat->cursor);
}

static void process_motion(struct seat *seat, uint32_t time_msec)
{
	double lx = seat->cursor->x, ly = seat->cursor->y;

	if (seat->mode == SEAT_MODE_MOVE && seat->grab_view != NULL) {
		struct view *view = seat->grab_view;
		if (seat->grab_unmaximize_pending) {
			double dx = lx - seat->grab_cursor_x, dy = ly - seat->grab_cursor_y;
			if (dx * dx + dy * dy < DRAG_THRESHOLD * DRAG_THRESHOLD) {
				return; /* not a drag yet: it stays maximized */
			}
			seat->grab_unmaximize_pending = false;
			view_set_maximized(view, false);
			view_move(view, (int)lx - view->saved.width / 2,
				(int)ly + VIEW_TITLE_HEIGHT / 2);
			seat->grab_cursor_x = lx;
			seat->grab_cursor_y = ly;
			seat->grab_box = view_content_box(view);
		}
		view_move(view, seat->grab_box.x + (int)(lx - seat->grab_cursor_x),
			seat->grab_box.y + (int)(ly - seat->grab_cursor_y));
		return;
	}
	if (seat->mode == SEAT_MODE_RESIZE && seat->grab_view != NULL) {
		int dx = (int)(lx - seat->grab_cursor_x);
		int dy = (int)(ly - seat->grab_cursor_y);
		int width = seat->grab_box.width;
		int height = seat->grab_box.height;
		if (seat->grab_edges & VIEW_EDGE_LEFT) {
			width -= dx;
		} else if (seat->grab_edges & VIEW_EDGE_RIGHT) {
			width += dx;
		}
		if (seat->grab_edges & VIEW_EDGE_TOP) {
			height -= dy;
		} else if (seat->grab_edges & VIEW_EDGE_BOTTOM) {
			height += dy;
		}
		if (width < MIN_RESIZE) {
			width = MIN_RESIZE;
		}
		if (height < MIN_RESIZE) {
			height = MIN_RESIZE;
		}
		view_request_size(seat->grab_view, width, height);
		return;
	}
	if (seat->mode == SEAT_MODE_SWALLOW) {
		return;
	}

	/* implicit grab: the press target keeps the pointer */
	if (seat->buttons_down > 0) {
		struct seat_target *down = &seat->down_target;
		if (down->view != NULL) {
			struct wlr_box box = down->view->impl->target_box(down->view, down->target);
			down->view->impl->pointer_motion(
				down->view, down->target, time_msec, lx - box.x, ly - box.y);
			return;
		}
		if (seat->down_surface != NULL) {
			wlr_seat_pointer_notify_motion(seat->wlr_seat, time_msec,
				lx - seat->down_surface_x, ly - seat->down_surface_y);
			return;
		}
	}

	struct hit hit;
	hit_test(seat, lx, ly, &hit);

	if (hit.kind == HIT_TARGET) {
		if (seat->wlr_seat->pointer_state.focused_surface != NULL) {
			wlr_seat_pointer_notify_clear_focus(seat->wlr_seat);
		}
		if (seat->pointer_target.target != hit.target) {
			seat->cursor_name = NULL;
			target_pointer_enter(seat, &hit);
			if (seat->cursor_shown && !target_set_cursor(seat)) {
				set_cursor_name(seat, "left_ptr");
			}
		} else {
			hit.view->impl->pointer_motion(
				hit.view, hit.target, time_msec, hit.sx, hit.sy);
		}
		return;
	}

	target_pointer_leave(seat);
	if (hit.kind == HIT_SURFACE) {
		if (seat->wlr_seat->pointer_state.focused_surface != hit.surface) {
			/* the client sets its own cursor on enter */
			set_cursor_name(seat, "left_ptr");
			seat->cursor_name = NULL;
		}
		wlr_seat_pointer_notify_enter(seat->wlr_seat, hit.surface, hit.sx, hit.sy);
		wlr_seat_pointer_notify_motion(seat->wlr_seat, time_msec, hit.sx, hit.sy);
		return;
	}
	if (seat->wlr_seat->pointer_state.focused_surface != NULL) {
		wlr_seat_pointer_notify_clear_focus(seat->wlr_seat);
	}
	if (hit.kind == HIT_FRAME) {
		set_cursor_name(seat, cursor_for_edges(frame_edges(&hit)));
	} else {
		set_cursor_name(seat, "left_ptr");
	}
}

void seat_refresh_pointer(struct seat *seat)
{
	if (seat->mode != SEAT_MODE_NORMAL || seat->buttons_down > 0) {
		return;
	}
	process_motion(seat, 0);
}

void seat_lock_changed(struct seat *seat)
{
	idle_update(seat->server->idle); /* inhibitors do not count while locked */
	/* whatever held the pointer or the keyboard lets go */
	if (seat->grab_view != NULL) {
		end_grab(seat);
	}
	seat->mode = seat->buttons_down > 0 ? SEAT_MODE_SWALLOW : SEAT_MODE_NORMAL;
	seat->down_target = (struct seat_target){ 0 };
	clear_down_surface(seat);
	target_pointer_leave(seat);
	wlr_seat_pointer_notify_clear_focus(seat->wlr_seat);
	seat_update_keyboard_focus(seat);
	seat_refresh_pointer(seat);
}

void seat_input_target_cursor_changed(struct seat *seat, struct input_target *target)
{
	if (target == NULL || seat->pointer_target.target != target || !seat->cursor_shown ||
		seat->mode != SEAT_MODE_NORMAL) {
		return;
	}
	seat->cursor_name = NULL;
	if (!target_set_cursor(seat)) {
		set_cursor_name(seat, "left_ptr");
	}
}

static void show_cursor(struct seat *seat)
{
	if (!seat->cursor_shown) {
		seat->cursor_shown = true;
		seat->cursor_name = NULL;
		if (!target_set_cursor(seat)) {
			set_cursor_name(seat, "left_ptr");
		}
	}
}

static void handle_cursor_motion(struct wl_listener *listener, void *data)
{
	struct seat *seat = wl_container_of(listener, seat, cursor_motion);
	struct wlr_event_pointer_motion *event = data;
	idle_activity(seat->server->idle);
	wlr_cursor_move(seat->cursor, event->device, event->delta_x, event->delta_y);
	show_cursor(seat);
	process_motion(seat, event->time_msec);
}

static void handle_cursor_motion_absolute(struct wl_listener *listener, void *data)
{
	struct seat *seat = wl_container_of(listener, seat, cursor_motion_absolute);
	struct wlr_event_pointer_motion_absolute *event = data;
	idle_activity(seat->server->idle);
	wlr_cursor_warp_absolute(seat->cursor, event->device, event->x, event->y);
	show_cursor(seat);
	process_motion(seat, event->time_msec);
}

static void begin_grab(struct seat *seat, struct view *view, enum seat_mode mode, uint32_t edges)
{
	if (view->fullscreen) {
		return;
	}
	/* the client under the pointer loses it for the grab's duration */
	struct seat_target *down = &seat->down_target;
	if (down->view != NULL) {
		down->view->impl->pointer_leave(down->view, down->target);
		if (seat->pointer_target.target == down->target) {
			seat->pointer_target = (struct seat_target){ 0 };
		}
		*down = (struct seat_target){ 0 };
	}
	target_pointer_leave(seat);
	clear_down_surface(seat);
	wlr_seat_pointer_notify_clear_focus(seat->wlr_seat);

	/* dragging a maximized window restores it under the pointer, once it
	 * really is a drag (process_motion) */
	seat->grab_unmaximize_pending = view->maximized && mode == SEAT_MODE_MOVE;
	seat->mode = mode;
	seat->grab_view = view;
	seat->grab_cursor_x = seat->cursor->x;
	seat->grab_cursor_y = seat->cursor->y;
	seat->grab_box = view_content_box(view);
	seat->grab_edges = edges;
	if (mode == SEAT_MODE_RESIZE) {
		view->resize_edges = edges;
		view_set_resizing(view, true);
		set_cursor_name(seat, cursor_for_edges(edges));
	} else {
		set_cursor_name(seat, "grabbing");
	}
}

void seat_request_interactive(struct seat *seat, struct view *view, bool resize, uint32_t edges)
{
	if (seat->mode != SEAT_MODE_NORMAL || seat->buttons_down == 0 || view == NULL ||
		!view->mapped) {
		return;
	}
	bool on_view = false;
	if (seat->down_target.view != NULL) {
		on_view = seat->down_target.view == view;
	} else if (seat->down_surface != NULL) {
		on_view = xdg_view_from_surface(seat->down_surface) == view;
	}
	if (!on_view) {
		return;
	}
	if (resize) {
		edges &= VIEW_EDGE_TOP | VIEW_EDGE_BOTTOM | VIEW_EDGE_LEFT | VIEW_EDGE_RIGHT;
		if (edges == 0) {
			return;
		}
		begin_grab(seat, view, SEAT_MODE_RESIZE, edges);
	} else {
		begin_grab(seat, view, SEAT_MODE_MOVE, 0);
	}
}

static bool logo_held(struct seat *seat)
{
	struct wlr_keyboard *kb = wlr_seat_get_keyboard(seat->wlr_seat);
	return kb != NULL && (wlr_keyboard_get_modifiers(kb) & WLR_MODIFIER_LOGO);
}

static void set_down_surface(struct seat *seat, struct wlr_surface *surface, double sx, double sy)
{
	clear_down_surface(seat);
	seat->down_surface = surface;
	seat->down_surface_x = seat->cursor->x - sx;
	seat->down_surface_y = seat->cursor->y - sy;
	wl_signal_add(&surface->events.destroy, &seat->down_surface_destroy);
}

static void handle_down_surface_destroy(struct wl_listener *listener, void *data)
{
	struct seat *seat = wl_container_of(listener, seat, down_surface_destroy);
	clear_down_surface(seat);
}

/* The first button goes down: the compositor decides what it means. */
static void press(struct seat *seat, struct wlr_event_pointer_button *event)
{
	struct hit hit;
	hit_test(seat, seat->cursor->x, seat->cursor->y, &hit);

	/* clicking anywhere but a popup chain dismisses its popups */
	struct seat_target pressed = { hit.view, hit.target };
	wl_signal_emit(&seat->events.press, hit.kind == HIT_TARGET ? &pressed : NULL);

	if (hit.view != NULL && view_just_mapped(hit.view)) {
		/* shown under the pointer just now: the click was meant for what
		 * was there before, not for it */
		wlr_log(WLR_INFO, "a click on a window shown %" PRId64 " ms ago is ignored",
			loop_now_ms() - hit.view->mapped_at_ms);
		seat->mode = SEAT_MODE_SWALLOW;
		return;
	}
	if (hit.view != NULL && hit.view->mapped) {
		if (logo_held(seat) && (event->button == BTN_LEFT || event->button == BTN_RIGHT)) {
			view_focus(hit.view);
			if (event->button == BTN_LEFT) {
				begin_grab(seat, hit.view, SEAT_MODE_MOVE, 0);
			} else {
				struct wlr_box box = view_content_box(hit.view);
				uint32_t edges = 0;
				edges |= seat->cursor->x < box.x + box.width / 2.0
					? VIEW_EDGE_LEFT
					: VIEW_EDGE_RIGHT;
				edges |= seat->cursor->y < box.y + box.height / 2.0
					? VIEW_EDGE_TOP
					: VIEW_EDGE_BOTTOM;
				begin_grab(seat, hit.view, SEAT_MODE_RESIZE, edges);
			}
			return;
		}
		if (hit.kind == HIT_FRAME) {
			struct view *view = hit.view;
			view_focus(view);
			seat->mode = SEAT_MODE_SWALLOW;
			if (event->button != BTN_LEFT) {
				return;
			}
			if (hit.part == FRAME_PART_TITLE) {
				if (frame_title_hit_close(view->frame, hit.sx)) {
					view_close(view);
					return;
				}
				if (seat->last_title_click_view == view &&
					event->time_msec - seat->last_title_click_msec <
						DOUBLE_CLICK_MS) {
					seat->last_title_click_view = NULL;
					view_set_maximized(view, !view->maximized);
					return;
				}
				seat->last_title_click_view = view;
				seat->last_title_click_msec = event->time_msec;
				begin_grab(seat, view, SEAT_MODE_MOVE, 0);
				return;
			}
			uint32_t edges = frame_edges(&hit);
			if (edges != 0 && !view->maximized) {
				begin_grab(seat, view, SEAT_MODE_RESIZE, edges);
			}
			return;
		}
		view_focus(hit.view);
	}

	if (hit.kind == HIT_TARGET) {
		seat->down_target = (struct seat_target){ hit.view, hit.target };
		if (seat->pointer_target.target != hit.target) {
			target_pointer_enter(seat, &hit);
		}
		hit.view->impl->pointer_button(
			hit.view, hit.target, event->time_msec, event->button, true);
		return;
	}
	if (hit.kind == HIT_POPUP_BORDER) {
		seat->mode = SEAT_MODE_SWALLOW;
		return;
	}
	if (hit.kind == HIT_SURFACE) {
		if (hit.layer != NULL) {
			bool exclusive;
			if (layer_shell_wants_keyboard(hit.layer, &exclusive)) {
				seat_focus_layer(seat, hit.layer);
			}
		}
		set_down_surface(seat, hit.surface, hit.sx, hit.sy);
		wlr_seat_pointer_notify_enter(seat->wlr_seat, hit.surface, hit.sx, hit.sy);
		wlr_seat_pointer_notify_button(
			seat->wlr_seat, event->time_msec, event->button, event->state);
		return;
	}
	/* the background: nothing to do, but eat the release */
	seat->mode = SEAT_MODE_SWALLOW;
}

static void handle_cursor_button(struct wl_listener *listener, void *data)
{
	struct seat *seat = wl_container_of(listener, seat, cursor_button);
	struct wlr_event_pointer_button *event = data;
	bool pressed = event->state == WLR_BUTTON_PRESSED;
	idle_activity(seat->server->idle);
	show_cursor(seat);

	if (pressed) {
		seat->buttons_down++;
		if (seat->buttons_down == 1 && seat->mode == SEAT_MODE_NORMAL) {
			if (!lock_active(seat->server->lock) && seat->grab != NULL &&
				seat->grab->button(
					seat->grab->data, seat->cursor->x, seat->cursor->y)) {
				seat->mode = SEAT_MODE_SWALLOW; /* a click on the chooser */
				return;
			}
			press(seat, event);
			return;
		}
	} else if (seat->buttons_down > 0) {
		seat->buttons_down--;
	}

	if (seat->mode != SEAT_MODE_NORMAL) {
		if (seat->buttons_down == 0) {
			end_grab(seat);
			seat->mode = SEAT_MODE_NORMAL;
			seat->cursor_name = NULL;
			process_motion(seat, event->time_msec);
		}
		return;
	}

	struct seat_target *down = &seat->down_target;
	if (down->view != NULL) {
		down->view->impl->pointer_button(
			down->view, down->target, event->time_msec, event->button, pressed);
	} else if (seat->down_surface != NULL ||
		seat->wlr_seat->pointer_state.focused_surface != NULL) {
		wlr_seat_pointer_notify_button(
			seat->wlr_seat, event->time_msec, event->button, event->state);
	}
	if (seat->buttons_down == 0) {
		*down = (struct seat_target){ 0 };
		clear_down_surface(seat);
		process_motion(seat, event->time_msec);
	}
}

static void handle_cursor_axis(struct wl_listener *listener, void *data)
{
	struct seat *seat = wl_container_of(listener, seat, cursor_axis);
	struct wlr_event_pointer_axis *event = data;
	idle_activity(seat->server->idle);
	if (seat->mode != SEAT_MODE_NORMAL) {
		return;
	}
	struct seat_target *target =
		seat->down_target.view != NULL ? &seat->down_target : &seat->pointer_target;
	if (target->view != NULL) {
		target->view->impl->pointer_axis(target->view, target->target, event->time_msec,
			event->orientation, event->delta, event->delta_discrete, event->source);
		return;
	}
	wlr_seat_pointer_notify_axis(seat->wlr_seat, event->time_msec, event->orientation,
		event->delta, event->delta_discrete, event->source);
}

static void handle_cursor_frame(struct wl_listener *listener, void *data)
{
	struct seat *seat = wl_container_of(listener, seat, cursor_frame);
	wlr_seat_pointer_notify_frame(seat->wlr_seat);
}

static void handle_request_set_cursor(struct wl_listener *listener, void *data)
{
	struct seat *seat = wl_container_of(listener, seat, request_set_cursor);
	struct wlr_seat_pointer_request_set_cursor_event *event = data;
	if (event->seat_client != seat->wlr_seat->pointer_state.focused_client ||
		seat->mode != SEAT_MODE_NORMAL || !seat->cursor_shown) {
		return;
	}
	seat->cursor_name = NULL;
	wlr_cursor_set_surface(seat->cursor, event->surface, event->hotspot_x, event->hotspot_y);
}

static void handle_request_set_selection(struct wl_listener *listener, void *data)
{
	struct seat *seat = wl_container_of(listener, seat, request_set_selection);
	struct wlr_seat_request_set_selection_event *event = data;
	wlr_seat_set_selection(seat->wlr_seat, event->source, event->serial);
}

static void handle_request_set_primary_selection(struct wl_listener *listener, void *data)
{
	struct seat *seat = wl_container_of(listener, seat, request_set_primary_selection);
	struct wlr_seat_request_set_primary_selection_event *event = data;
	wlr_seat_set_primary_selection(seat->wlr_seat, event->source, event->serial);
}

static void handle_request_start_drag(struct wl_listener *listener, void *data)
{
	struct seat *seat = wl_container_of(listener, seat, request_start_drag);
	struct wlr_seat_request_start_drag_event *event = data;
	if (wlr_seat_validate_pointer_grab_serial(seat->wlr_seat, event->origin, event->serial)) {
		wlr_seat_start_pointer_drag(seat->wlr_seat, event->drag, event->serial);
		return;
	}
	wlr_data_source_destroy(event->drag->source);
}

static char *keymap_text_for(struct xkb_keymap *keymap)
{
	return keymap != NULL ? xkb_keymap_get_as_string(keymap, XKB_KEYMAP_FORMAT_TEXT_V1) : NULL;
}

void seat_set_grab(struct seat *seat, const struct seat_grab *grab)
{
	seat->grab = grab;
}

struct seat *seat_create(struct server *server)
{
	struct seat *seat = calloc(1, sizeof(*seat));
	if (seat == NULL) {
		return NULL;
	}
	seat->server = server;
	wl_list_init(&seat->keyboards);
	wl_signal_init(&seat->events.press);
	wl_signal_init(&seat->events.action);
	wl_list_init(&seat->down_surface_destroy.link);
	seat->down_surface_destroy.notify = handle_down_surface_destroy;
	struct wl_listener *listeners[] = { &seat->cursor_motion, &seat->cursor_motion_absolute,
		&seat->cursor_button, &seat->cursor_axis, &seat->cursor_frame,
		&seat->request_set_cursor, &seat->request_set_selection,
		&seat->request_set_primary_selection, &seat->request_start_drag };
	for (size_t i = 0; i < sizeof(listeners) / sizeof(listeners[0]); i++) {
		wl_list_init(&listeners[i]->link);
	}

	const struct config *config = server->config;
	seat->xkb_context = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	if (seat->xkb_context == NULL) {
		goto error;
	}
	struct xkb_rule_names names = {
		.rules = config->xkb_rules,
		.model = config->xkb_model,
		.layout = config->xkb_layout,
		.variant = config->xkb_variant,
		.options = config->xkb_options,
	};
	/* unset fields fall back to XKB_DEFAULT_* and then xkbcommon's defaults */
	seat->keymap =
		xkb_keymap_new_from_names(seat->xkb_context, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (seat->keymap == NULL) {
		wlr_log(WLR_ERROR, "cannot compile the keymap (layout %s)",
			config->xkb_layout ? config->xkb_layout : "default");
		goto error;
	}
	seat->default_keymap_text = keymap_text_for(seat->keymap);
	set_keymap_text(seat, NULL);

	seat->wlr_seat = wlr_seat_create(server->display, "seat0");
	if (seat->wlr_seat == NULL) {
		goto error;
	}
	wlr_seat_set_capabilities(
		seat->wlr_seat, WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
	seat->cursor = wlr_cursor_create();
	if (seat->cursor == NULL) {
		goto error;
	}
	wlr_cursor_attach_output_layout(seat->cursor, server->output_layout);
	seat->xcursor_manager = wlr_xcursor_manager_create(NULL, 24);
	if (seat->xcursor_manager == NULL) {
		goto error;
	}
	wlr_xcursor_manager_load(seat->xcursor_manager, 1);

	seat->cursor_motion.notify = handle_cursor_motion;
	wl_signal_add(&seat->cursor->events.motion, &seat->cursor_motion);
	seat->cursor_motion_absolute.notify = handle_cursor_motion_absolute;
	wl_signal_add(&seat->cursor->events.motion_absolute, &seat->cursor_motion_absolute);
	seat->cursor_button.notify = handle_cursor_button;
	wl_signal_add(&seat->cursor->events.button, &seat->cursor_button);
	seat->cursor_axis.notify = handle_cursor_axis;
	wl_signal_add(&seat->cursor->events.axis, &seat->cursor_axis);
	seat->cursor_frame.notify = handle_cursor_frame;
	wl_signal_add(&seat->cursor->events.frame, &seat->cursor_frame);
	seat->request_set_cursor.notify = handle_request_set_cursor;
	wl_signal_add(&seat->wlr_seat->events.request_set_cursor, &seat->request_set_cursor);
	seat->request_set_selection.notify = handle_request_set_selection;
	wl_signal_add(&seat->wlr_seat->events.request_set_selection, &seat->request_set_selection);
	seat->request_set_primary_selection.notify = handle_request_set_primary_selection;
	wl_signal_add(&seat->wlr_seat->events.request_set_primary_selection,
		&seat->request_set_primary_selection);
	seat->request_start_drag.notify = handle_request_start_drag;
	wl_signal_add(&seat->wlr_seat->events.request_start_drag, &seat->request_start_drag);
	return seat;

error:
	seat_destroy(seat);
	return NULL;
}

void seat_destroy(struct seat *seat)
{
	if (seat == NULL) {
		return;
	}
	clear_down_surface(seat);
	wl_list_remove(&seat->cursor_motion.link);
	wl_list_remove(&seat->cursor_motion_absolute.link);
	wl_list_remove(&seat->cursor_button.link);
	wl_list_remove(&seat->cursor_axis.link);
	wl_list_remove(&seat->cursor_frame.link);
	wl_list_remove(&seat->request_set_cursor.link);
	wl_list_remove(&seat->request_set_selection.link);
	wl_list_remove(&seat->request_set_primary_selection.link);
	wl_list_remove(&seat->request_start_drag.link);
	struct keyboard *keyboard, *tmp;
	wl_list_for_each_safe(keyboard, tmp, &seat->keyboards, link) {
		keyboard_handle_destroy(&keyboard->destroy, NULL);
	}
	if (seat->xcursor_manager != NULL) {
		wlr_xcursor_manager_destroy(seat->xcursor_manager);
	}
	if (seat->cursor != NULL) {
		wlr_cursor_destroy(seat->cursor);
	}
	if (seat->wlr_seat != NULL) {
		wlr_seat_destroy(seat->wlr_seat);
	}
	free(seat->default_keymap_text);
	xkb_keymap_unref(seat->keymap);
	xkb_context_unref(seat->xkb_context);
	free(seat);
}
