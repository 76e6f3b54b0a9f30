#include "input.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wayland-server-core.h>
#include <wlr/backend/headless.h>
#include <wlr/interfaces/wlr_keyboard.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>
#include <xkbcommon/xkbcommon.h>

#include "cursor.h"
#include "server.h"
#include "window.h"

struct agent_input *agent_input_create(struct agent_server *server)
{
	struct agent_input *input = calloc(1, sizeof(*input));
	if (input == NULL) {
		return NULL;
	}
	input->server = server;
	input->xkb = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	if (input->xkb == NULL) {
		wlr_log(WLR_ERROR, "cannot create an xkb context");
		goto error;
	}
	input->keyboard = wlr_headless_add_input_device(server->backend, WLR_INPUT_DEVICE_KEYBOARD);
	if (input->keyboard == NULL || input->keyboard->keyboard == NULL) {
		wlr_log(WLR_ERROR, "cannot create the keyboard");
		goto error;
	}
	/* Until the host sends its keymap: the default one (XKB_DEFAULT_*). */
	struct xkb_keymap *keymap =
		xkb_keymap_new_from_names(input->xkb, NULL, XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (keymap != NULL) {
		wlr_keyboard_set_keymap(input->keyboard->keyboard, keymap);
		xkb_keymap_unref(keymap);
	} else {
		wlr_log(WLR_INFO, "no default keymap; waiting for the host's");
	}
	wlr_keyboard_set_repeat_info(input->keyboard->keyboard, 25, 600);
	wlr_seat_set_keyboard(server->seat, input->keyboard);
	return input;

error:
	if (input->xkb != NULL) {
		xkb_context_unref(input->xkb);
	}
	free(input);
	return NULL;
}

void agent_input_destroy(struct agent_input *input)
{
	if (input == NULL) {
		return;
	}
	/* the keyboard belongs to the backend */
	xkb_context_unref(input->xkb);
	free(input->keymap_text);
	free(input);
}

static struct wlr_keyboard *keyboard(struct agent_input *input)
{
	return input->keyboard->keyboard;
}

/* ---- pointer ---- */

/*
 * Give pointer focus to the surface under (wx, wy) of the window, and
 * return surface-local coordinates. While a button is down the focused
 * surface keeps the pointer (implicit grab).
 */
static bool pointer_focus(struct agent_input *input, struct agent_window *window, double wx,
	double wy, double *sx, double *sy)
{
	struct wlr_seat *seat = input->server->seat;
	struct wlr_surface *focused = seat->pointer_state.focused_surface;
	int x, y;

	if (focused != NULL && seat->pointer_state.button_count > 0 &&
		agent_window_surface_position(window, focused, &x, &y)) {
		*sx = wx - x;
		*sy = wy - y;
		return true;
	}
	struct wlr_surface *surface = agent_window_surface_at(window, wx, wy, sx, sy);
	if (surface == NULL) {
		wlr_seat_pointer_notify_clear_focus(seat);
		return false;
	}
	wlr_seat_pointer_notify_enter(seat, surface, *sx, *sy);
	return true;
}

static void pointer_enter(struct agent_input *input, struct agent_window *window, int32_t x,
	int32_t y, uint32_t time_ms, bool motion)
{
	double sx, sy;
	struct agent_window *before = input->pointer_window;

	input->pointer_window = window;
	if (!pointer_focus(input, window, wl_fixed_to_double(x), wl_fixed_to_double(y), &sx, &sy)) {
		return;
	}
	if (motion) {
		wlr_seat_pointer_notify_motion(input->server->seat, time_ms, sx, sy);
	}
	wlr_seat_pointer_notify_frame(input->server->seat);
	if (before != window) {
		agent_cursor_pointer_moved(input->server->cursor, window);
	}
}

static void pointer_leave(struct agent_input *input, struct agent_window *window)
{
	if (input->pointer_window != window) {
		return;
	}
	input->pointer_window = NULL;
	wlr_seat_pointer_notify_clear_focus(input->server->seat);
	wlr_seat_pointer_notify_frame(input->server->seat);
	agent_cursor_pointer_moved(input->server->cursor, NULL);
}

/* ---- keyboard ---- */

static void set_keymap(struct agent_input *input, const struct vtp_msg *msg)
{
	if (input->keymap_text != NULL && input->keymap_len == msg->tail_len &&
		memcmp(input->keymap_text, msg->tail, msg->tail_len) == 0) {
		return; /* unchanged, e.g. after a reconnection */
	}
	struct xkb_keymap *keymap = xkb_keymap_new_from_buffer(input->xkb, (const char *)msg->tail,
		msg->tail_len, XKB_KEYMAP_FORMAT_TEXT_V1, XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (keymap == NULL) {
		wlr_log(WLR_ERROR, "the host's keymap does not compile; keeping the old one");
		return;
	}
	struct wlr_keyboard *kb = keyboard(input);
	wlr_keyboard_set_keymap(kb, keymap);
	xkb_keymap_unref(keymap);
	/* A new keymap starts from a fresh state: clients get the host's
	 * modifiers again after it (the host may have sent them first). */
	struct wlr_keyboard_modifiers *m = &input->host_modifiers;
	wlr_keyboard_notify_modifiers(kb, m->depressed, m->latched, m->locked, m->group);
	wlr_seat_keyboard_notify_modifiers(input->server->seat, &kb->modifiers);
	char *copy = malloc(msg->tail_len + 1);
	if (copy != NULL) {
		memcpy(copy, msg->tail, msg->tail_len);
		copy[msg->tail_len] = '\0';
	}
	free(input->keymap_text);
	input->keymap_text = copy;
	input->keymap_len = copy != NULL ? msg->tail_len : 0;
}

static void keyboard_enter(struct agent_input *input, struct agent_window *window)
{
	struct wlr_keyboard *kb = keyboard(input);
	input->keyboard_window = window;
	wlr_seat_keyboard_notify_enter(input->server->seat, agent_window_keyboard_surface(window),
		kb->keycodes, kb->num_keycodes, &kb->modifiers);
}

/* Release every key the keyboard holds; with to_seat the focused client
 * gets the releases too (else they carry no time). */
static void release_held_keys(struct agent_input *input, bool to_seat)
{
	struct wlr_keyboard *kb = keyboard(input);
	uint32_t held[WLR_KEYBOARD_KEYS_CAP];
	size_t n = kb->num_keycodes;
	memcpy(held, kb->keycodes, n * sizeof(held[0]));
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint32_t time_ms = (uint32_t)((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	for (size_t i = 0; i < n; i++) {
		struct wlr_event_keyboard_key event = {
			.time_msec = to_seat ? time_ms : 0,
			.keycode = held[i],
			.update_state = false,
			.state = WL_KEYBOARD_KEY_STATE_RELEASED,
		};
		wlr_keyboard_notify_key(kb, &event);
		if (to_seat) {
			wlr_seat_keyboard_notify_key(input->server->seat, time_ms, held[i],
				WL_KEYBOARD_KEY_STATE_RELEASED);
		}
	}
}

/* Focus left the window: every key still held is released to it first, so
 * that no app goes on repeating a key the user now types elsewhere, and
 * the next enter carries no stale key (the host sends the release to the
 * window that has focus then, not to this one). */
static void keyboard_leave(struct agent_input *input, struct agent_window *window)
{
	if (input->keyboard_window != window) {
		return;
	}
	release_held_keys(input, true);
	input->keyboard_window = NULL;
	wlr_seat_keyboard_notify_clear_focus(input->server->seat);
}

static void key(struct agent_input *input, struct agent_window *window, const struct vtp_key *k)
{
	struct wlr_keyboard *kb = keyboard(input);
	struct wlr_event_keyboard_key event = {
		.time_msec = k->time_ms,
		.keycode = k->key,
		.update_state = false, /* the host sends MODIFIERS */
		.state = k->state ? WL_KEYBOARD_KEY_STATE_PRESSED : WL_KEYBOARD_KEY_STATE_RELEASED,
	};
	if (input->keyboard_window != window) {
		keyboard_enter(input, window);
	}
	/* keeps the list of pressed keys for later enters */
	wlr_keyboard_notify_key(kb, &event);
	wlr_seat_keyboard_notify_key(input->server->seat, k->time_ms, k->key, event.state);
}

static void modifiers(
	struct agent_input *input, struct agent_window *window, const struct vtp_modifiers *m)
{
	struct wlr_keyboard *kb = keyboard(input);
	input->host_modifiers =
		(struct wlr_keyboard_modifiers){ m->depressed, m->latched, m->locked, m->group };
	if (input->keyboard_window != window) {
		keyboard_enter(input, window);
	}
	if (kb->xkb_state != NULL) {
		wlr_keyboard_notify_modifiers(kb, m->depressed, m->latched, m->locked, m->group);
	} else {
		kb->modifiers = (struct wlr_keyboard_modifiers){ m->depressed, m->latched,
			m->locked, m->group };
	}
	wlr_seat_keyboard_notify_modifiers(input->server->seat, &kb->modifiers);
}

void agent_input_handle(
	struct agent_input *input, struct agent_window *window, const struct vtp_msg *msg)
{
	struct wlr_seat *seat = input->server->seat;

	switch (msg->header.type) {
	case VTP_KEYMAP:
		set_keymap(input, msg);
		return;
	case VTP_REPEAT_INFO:
		wlr_keyboard_set_repeat_info(
			keyboard(input), msg->body.repeat_info.rate, msg->body.repeat_info.delay);
		return;
	default:
		break;
	}
	if (window == NULL || !window->mapped) {
		return; /* a window that just went away */
	}
	switch (msg->header.type) {
	case VTP_POINTER_ENTER:
		pointer_enter(input, window, msg->body.pointer_enter.x, msg->body.pointer_enter.y,
			0, false);
		break;
	case VTP_POINTER_LEAVE:
		pointer_leave(input, window);
		break;
	case VTP_POINTER_MOTION:
		pointer_enter(input, window, msg->body.pointer_motion.x, msg->body.pointer_motion.y,
			msg->body.pointer_motion.time_ms, true);
		break;
	case VTP_POINTER_BUTTON:
		if (input->pointer_window != window) {
			break;
		}
		wlr_seat_pointer_notify_button(seat, msg->body.pointer_button.time_ms,
			msg->body.pointer_button.button,
			msg->body.pointer_button.state ? WLR_BUTTON_PRESSED : WLR_BUTTON_RELEASED);
		wlr_seat_pointer_notify_frame(seat);
		break;
	case VTP_POINTER_AXIS: {
		const struct vtp_pointer_axis *a = &msg->body.pointer_axis;
		if (input->pointer_window != window) {
			break;
		}
		wlr_seat_pointer_notify_axis(seat, a->time_ms,
			a->axis ? WLR_AXIS_ORIENTATION_HORIZONTAL : WLR_AXIS_ORIENTATION_VERTICAL,
			wl_fixed_to_double(a->value), a->discrete, (enum wlr_axis_source)a->source);
		wlr_seat_pointer_notify_frame(seat);
		break;
	}
	case VTP_KEYBOARD_ENTER:
		keyboard_enter(input, window);
		break;
	case VTP_KEYBOARD_LEAVE:
		keyboard_leave(input, window);
		break;
	case VTP_KEY:
		key(input, window, &msg->body.key);
		break;
	case VTP_MODIFIERS:
		modifiers(input, window, &msg->body.modifiers);
		break;
	default:
		break;
	}
}

void agent_input_window_gone(struct agent_input *input, struct agent_window *window)
{
	if (input == NULL) {
		return;
	}
	if (input->pointer_window == window) {
		input->pointer_window = NULL;
		wlr_seat_pointer_notify_clear_focus(input->server->seat);
	}
	if (input->keyboard_window == window) {
		input->keyboard_window = NULL;
		wlr_seat_keyboard_notify_clear_focus(input->server->seat);
	}
}

void agent_input_link_lost(struct agent_input *input)
{
	if (input->pointer_window != NULL) {
		agent_input_window_gone(input, input->pointer_window);
	}
	if (input->keyboard_window != NULL) {
		agent_input_window_gone(input, input->keyboard_window);
	}
	input->host_modifiers = (struct wlr_keyboard_modifiers){ 0 };
	/* keys held when the host went away are up now */
	release_held_keys(input, false);
}
