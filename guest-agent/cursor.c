#include "cursor.h"

#include <stdlib.h>
#include <time.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/util/log.h>
#include <vitrail/protocol.h>

#include "link.h"
#include "paint.h"
#include "server.h"
#include "window.h"

#define SLOT_STRIDE (VTP_MAX_CURSOR_DIM * 4u)
#define SLOT_SIZE ((uint64_t)SLOT_STRIDE * VTP_MAX_CURSOR_DIM)

static bool ensure_slots(struct agent_cursor *cursor)
{
	struct agent_link *link = cursor->server->link;
	if (cursor->have_slots) {
		return true;
	}
	if (!agent_link_pool_get(link, SLOT_SIZE, &cursor->slots[0])) {
		return false;
	}
	if (!agent_link_pool_get(link, SLOT_SIZE, &cursor->slots[1])) {
		agent_link_pool_put(link, cursor->slots[0], SLOT_SIZE);
		return false;
	}
	cursor->have_slots = true;
	return true;
}

static int32_t clamp(int32_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Send the current cursor image for the window under the pointer. */
static void send_cursor(struct agent_cursor *cursor)
{
	struct agent_link *link = cursor->server->link;
	struct agent_window *window = cursor->window;
	struct vtp_set_cursor sc = { 0 };

	if (window == NULL || window->id == 0 || !agent_link_ready(link)) {
		return;
	}
	struct wlr_surface *surface = cursor->surface;
	if (!cursor->hidden && surface != NULL && agent_paint_surface_readable(surface)) {
		/* at the window's scale (version 4), as large as the limit allows */
		int scale = link->dec.version >= 4 ? (int)window->scale : 1;
		int lw = surface->current.width, lh = surface->current.height;
		while (scale > 1 &&
			(lw * scale > (int)VTP_MAX_CURSOR_DIM ||
				lh * scale > (int)VTP_MAX_CURSOR_DIM)) {
			scale--;
		}
		int w = lw * scale, h = lh * scale;
		if (w > (int)VTP_MAX_CURSOR_DIM) {
			w = VTP_MAX_CURSOR_DIM;
		}
		if (h > (int)VTP_MAX_CURSOR_DIM) {
			h = VTP_MAX_CURSOR_DIM;
		}
		if (w > 0 && h > 0 && ensure_slots(cursor)) {
			uint64_t offset = cursor->slots[cursor->next_slot];
			cursor->next_slot ^= 1;
			struct paint_image img = {
				.data = link_pool_data(link) + offset,
				.width = w,
				.height = h,
				.stride = SLOT_STRIDE,
			};
			pixman_region32_t all;
			pixman_region32_init_rect(&all, 0, 0, (unsigned)w, (unsigned)h);
			agent_paint_clear(&img, &all);
			agent_paint_surface(
				&img, surface, 0, 0, lw * scale, lh * scale, &all, false, NULL);
			pixman_region32_fini(&all);
			sc = (struct vtp_set_cursor){
				.offset = offset,
				.width = (uint32_t)w,
				.height = (uint32_t)h,
				.stride = SLOT_STRIDE,
				.hotspot_x = clamp(cursor->hotspot_x * scale, 0, w - 1),
				.hotspot_y = clamp(cursor->hotspot_y * scale, 0, h - 1),
				.scale = link->dec.version >= 4 ? (uint32_t)scale : 0,
			};
		}
	} else if (!cursor->hidden) {
		return; /* nothing to show yet */
	}
	agent_link_send(link, VTP_SET_CURSOR, window->id, &sc, NULL, 0);
	if (surface != NULL) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		wlr_surface_send_frame_done(surface, &now);
	}
}

static void forget_surface(struct agent_cursor *cursor)
{
	if (cursor->surface != NULL) {
		wl_list_remove(&cursor->surface_commit.link);
		wl_list_remove(&cursor->surface_destroy.link);
		cursor->surface = NULL;
	}
}

static void handle_surface_commit(struct wl_listener *listener, void *data)
{
	struct agent_cursor *cursor = wl_container_of(listener, cursor, surface_commit);
	cursor->hotspot_x -= cursor->surface->current.dx;
	cursor->hotspot_y -= cursor->surface->current.dy;
	send_cursor(cursor);
}

static void handle_surface_destroy(struct wl_listener *listener, void *data)
{
	struct agent_cursor *cursor = wl_container_of(listener, cursor, surface_destroy);
	forget_surface(cursor);
}

static void handle_request_set_cursor(struct wl_listener *listener, void *data)
{
	struct agent_cursor *cursor = wl_container_of(listener, cursor, request_set_cursor);
	struct wlr_seat_pointer_request_set_cursor_event *event = data;
	struct wlr_seat *seat = cursor->server->seat;

	if (event->seat_client != seat->pointer_state.focused_client) {
		return; /* only the app under the pointer sets it */
	}
	forget_surface(cursor);
	cursor->hidden = event->surface == NULL;
	cursor->hotspot_x = event->hotspot_x;
	cursor->hotspot_y = event->hotspot_y;
	if (event->surface != NULL) {
		cursor->surface = event->surface;
		cursor->surface_commit.notify = handle_surface_commit;
		wl_signal_add(&event->surface->events.commit, &cursor->surface_commit);
		cursor->surface_destroy.notify = handle_surface_destroy;
		wl_signal_add(&event->surface->events.destroy, &cursor->surface_destroy);
	}
	send_cursor(cursor);
}

struct agent_cursor *agent_cursor_create(struct agent_server *server)
{
	struct agent_cursor *cursor = calloc(1, sizeof(*cursor));
	if (cursor == NULL) {
		return NULL;
	}
	cursor->server = server;
	cursor->request_set_cursor.notify = handle_request_set_cursor;
	wl_signal_add(&server->seat->events.request_set_cursor, &cursor->request_set_cursor);
	return cursor;
}

void agent_cursor_destroy(struct agent_cursor *cursor)
{
	if (cursor == NULL) {
		return;
	}
	forget_surface(cursor);
	wl_list_remove(&cursor->request_set_cursor.link);
	free(cursor);
}

void agent_cursor_pointer_moved(struct agent_cursor *cursor, struct agent_window *window)
{
	if (cursor->window == window) {
		return;
	}
	/* The app under the pointer sets its cursor on wl_pointer.enter. */
	cursor->window = window;
	forget_surface(cursor);
	cursor->hidden = false;
}

void agent_cursor_window_gone(struct agent_cursor *cursor, struct agent_window *window)
{
	if (cursor != NULL && cursor->window == window) {
		cursor->window = NULL;
	}
}

void agent_cursor_link_lost(struct agent_cursor *cursor)
{
	cursor->have_slots = false; /* the allocator goes with the pool */
	cursor->next_slot = 0;
}
