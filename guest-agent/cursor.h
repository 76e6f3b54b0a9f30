/*
 * Cursor images from guest apps (wl_pointer.set_cursor) to the host: the
 * cursor surface is copied into one of two small pool areas and sent with
 * SET_CURSOR for the window under the pointer.
 */
#ifndef VITRAIL_AGENT_CURSOR_H
#define VITRAIL_AGENT_CURSOR_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>

struct agent_server;
struct agent_window;
struct wlr_surface;

struct agent_cursor {
	struct agent_server *server;
	struct wlr_surface *surface; /* the app's cursor surface, or NULL */
	bool hidden; /* the app asked for no cursor */
	int32_t hotspot_x, hotspot_y;
	struct agent_window *window; /* where the pointer is */

	bool have_slots;
	uint64_t slots[2]; /* pool offsets of two cursor images */
	int next_slot;

	struct wl_listener request_set_cursor;
	struct wl_listener surface_commit;
	struct wl_listener surface_destroy;
};

struct agent_cursor *agent_cursor_create(struct agent_server *server);
void agent_cursor_destroy(struct agent_cursor *cursor);
/* The pointer entered another window (or none). */
void agent_cursor_pointer_moved(struct agent_cursor *cursor, struct agent_window *window);
void agent_cursor_window_gone(struct agent_cursor *cursor, struct agent_window *window);
/* The pool is going away. */
void agent_cursor_link_lost(struct agent_cursor *cursor);

#endif
