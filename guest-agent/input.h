/*
 * Input from the host to guest apps: pointer events on the surface of the
 * window under the pointer (subsurfaces hit-tested in window coordinates),
 * the host's keymap and repeat info on a keyboard of our own, and keys and
 * modifiers to the window the host says has focus.
 */
#ifndef VITRAIL_AGENT_INPUT_H
#define VITRAIL_AGENT_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <wlr/types/wlr_keyboard.h>
#include <vitrail/protocol.h>

struct agent_server;
struct agent_window;
struct wlr_input_device;
struct xkb_context;

struct agent_input {
	struct agent_server *server;
	struct wlr_input_device *keyboard;
	struct xkb_context *xkb;
	char *keymap_text; /* last keymap from the host */
	uint32_t keymap_len;
	struct wlr_keyboard_modifiers host_modifiers; /* last MODIFIERS */
	struct agent_window *pointer_window;
	struct agent_window *keyboard_window;
};

struct agent_input *agent_input_create(struct agent_server *server);
void agent_input_destroy(struct agent_input *input);
/* POINTER_*, KEYMAP, KEYBOARD_*, KEY, MODIFIERS, REPEAT_INFO. window is
 * the announced window the message names (NULL if unknown or none). */
void agent_input_handle(
	struct agent_input *input, struct agent_window *window, const struct vtp_msg *msg);
/* The window is unmapped or destroyed: drop focus that points at it. */
void agent_input_window_gone(struct agent_input *input, struct agent_window *window);
/* No host any more: every focus leaves. */
void agent_input_link_lost(struct agent_input *input);

#endif
