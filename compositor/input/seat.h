/*
 * Input: keyboards (bindings, focus), the pointer (focus under the
 * cursor, implicit grabs, interactive move/resize), the cursor image, and
 * routing of all of it either to host clients through wlr_seat or, through
 * its view_impl, to the one view's input target that may receive it.
 */
#ifndef VITRAIL_SEAT_H
#define VITRAIL_SEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>

struct input_target;
struct layer_surface;
struct server;
struct view;
struct wlr_input_device;
struct wlr_keyboard;
struct wlr_surface;

enum seat_mode {
	SEAT_MODE_NORMAL,
	SEAT_MODE_MOVE,
	SEAT_MODE_RESIZE,
	SEAT_MODE_SWALLOW, /* a press the compositor used; eat until all released */
};

#define SEAT_MAX_CONSUMED_KEYS 32

/* An input target (tree/view.h) and the view whose impl delivers to it. */
struct seat_target {
	struct view *view; /* NULL: none */
	struct input_target *target;
};

struct seat {
	struct server *server;
	struct wlr_seat *wlr_seat;
	struct wlr_cursor *cursor;
	struct wlr_xcursor_manager *xcursor_manager;
	struct wl_list keyboards; /* struct keyboard.link */
	struct xkb_context *xkb_context;
	struct xkb_keymap *keymap; /* from the config, for physical keyboards */
	char *default_keymap_text; /* keymap text when no keyboard exists */
	struct wlr_keyboard *active_keyboard;

	/* what guests must know about the keymap */
	uint64_t keymap_serial; /* bumped when the active keymap text changes */
	const char *keymap_text; /* points into active keyboard or default */
	size_t keymap_len;

	/* keyboard focus */
	struct view *focused_view;
	struct layer_surface *focused_layer;
	struct seat_target keyboard_target; /* holding keyboard focus */
	uint32_t consumed_keys[SEAT_MAX_CONSUMED_KEYS];
	size_t n_consumed_keys;

	/* pointer */
	bool cursor_shown;
	const char *cursor_name; /* xcursor image shown, NULL if a client's */
	struct seat_target pointer_target; /* with pointer focus */
	uint32_t buttons_down;
	/* implicit grab: the press target keeps the pointer until release */
	struct seat_target down_target;
	struct wlr_surface *down_surface;
	double down_surface_x, down_surface_y; /* surface origin, layout coords */
	struct wl_listener down_surface_destroy;

	enum seat_mode mode;
	struct view *grab_view;
	double grab_cursor_x, grab_cursor_y;
	struct wlr_box grab_box;
	uint32_t grab_edges;
	/* a move grab of a maximized window: restored only once the pointer
	 * has moved (a click or a double-click on its title bar is not a drag) */
	bool grab_unmaximize_pending;

	/* double click on a title bar */
	uint32_t last_title_click_msec;
	struct view *last_title_click_view;

	struct wl_listener cursor_motion;
	struct wl_listener cursor_motion_absolute;
	struct wl_listener cursor_button;
	struct wl_listener cursor_axis;
	struct wl_listener cursor_frame;
	struct wl_listener request_set_cursor;
	struct wl_listener request_set_selection;
	struct wl_listener request_set_primary_selection;
	struct wl_listener request_start_drag;

	/* input taken before bindings and clients (seat_set_grab) */
	const struct seat_grab *grab;

	struct {
		/* The first button went down; data: the struct seat_target it
		 * goes to, NULL for anything else (popups elsewhere close). */
		struct wl_signal press;
		/* A binding a service carries out (clipboard copy and paste);
		 * data: struct seat_action_event. */
		struct wl_signal action;
	} events;
};

struct seat_action_event {
	int action; /* enum action (config.h) */
	struct view *view; /* the focused view, or NULL */
};

/*
 * Input that a host panel takes before bindings and clients (the @ask
 * chooser of open-in-VM): key and button return true when they took the
 * event. Not while the screen is locked. One grab at a time.
 */
struct seat_grab {
	bool (*key)(void *data, struct wlr_keyboard *keyboard, uint32_t keycode);
	bool (*button)(void *data, double lx, double ly);
	void *data;
};
/* Set (or, with NULL, remove) the grab; grab must outlive its use. */
void seat_set_grab(struct seat *seat, const struct seat_grab *grab);

struct seat *seat_create(struct server *server);
void seat_destroy(struct seat *seat);

/* A new input device (backend or virtual). */
void seat_add_device(struct seat *seat, struct wlr_input_device *device, bool is_virtual);

/* Keyboard focus follows server-side decisions only. */
void seat_set_focused_view(struct seat *seat, struct view *view);
void seat_focus_layer(struct seat *seat, struct layer_surface *layer);
void seat_layer_gone(struct seat *seat, struct layer_surface *layer);
void seat_view_gone(struct seat *seat, struct view *view);
/* An input target is going away: the seat forgets it, telling nobody. */
void seat_input_target_gone(struct seat *seat, struct input_target *target);
/* Re-route the keyboard after a focus change. */
void seat_update_keyboard_focus(struct seat *seat);

/* A client (host or guest) asks to start an interactive move/resize; only
 * honoured while a button pressed on that view is held. */
void seat_request_interactive(struct seat *seat, struct view *view, bool resize, uint32_t edges);

/* Re-evaluate what is under the cursor (after windows moved/appeared). */
void seat_refresh_pointer(struct seat *seat);
/* The screen was locked or unlocked (lock.c): drop grabs and focus that
 * the locker does not own, then find the targets again. */
void seat_lock_changed(struct seat *seat);
/* A target's cursor image changed: show it if the pointer is over it. */
void seat_input_target_cursor_changed(struct seat *seat, struct input_target *target);

/* The keymap text guests must use now (never NULL, no NUL counted). */
const char *seat_keymap_text(struct seat *seat, size_t *len, uint64_t *serial);
/* The modifiers guests must see now. */
void seat_get_modifiers(struct seat *seat, uint32_t *depressed, uint32_t *latched, uint32_t *locked,
	uint32_t *group);

#endif
