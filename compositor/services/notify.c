#include "services/notify.h"

#include <cairo.h>
#include <drm_fourcc.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/util/log.h>
#include <vitrail/common/bus_loop.h>
#include <vitrail/common/loop.h>

#include "desktop/output.h"
#include "server.h"
#include "tree/cpu_buffer.h"
#include "tree/paint.h"

#define NOTIFY_TEXT_MAX 256
/* After the bus failed (or was absent), try it again at most this often. */
#define BUS_RETRY_MS 10000

struct notice {
	struct notify *notify;
	struct wl_list link; /* notify.notices, newest first */
	struct wlr_scene_buffer *node;
	struct wl_event_source *timer;
};

struct notify {
	struct server *server;
	struct wlr_scene_tree *tree; /* in the overlay layer */
	struct wl_list notices;
	size_t n_notices;
	int timeout_ms; /* how long a notice stays */

	struct bus_loop bus;
	bool daemon_present;
	int64_t bus_attempt_ms; /* last time the bus was opened */
	struct notify_daemon_listener listener; /* vm_notify.c */
};

/* A Notify call waiting for its reply: shown on screen if it fails. */
struct pending_call {
	struct notify *notify;
	enum notify_kind kind;
	uint32_t stripe_rgb;
	char text[NOTIFY_TEXT_MAX];
};

/* ---- on-screen notices ---- */

static struct cpu_buffer *draw_notice(enum notify_kind kind, uint32_t stripe_rgb, const char *text)
{
	int width = NOTIFY_WIDTH, height = NOTIFY_HEIGHT;
	struct cpu_buffer *buffer;
	cairo_t *cr = paint_begin(width, height, &buffer);
	if (cr == NULL) {
		return NULL;
	}
	paint_set_rgb(cr, kind == NOTIFY_REFUSED ? NOTIFY_REFUSED_RGB : NOTIFY_BACKGROUND_RGB);
	cairo_paint(cr);
	paint_set_rgb(cr, stripe_rgb);
	cairo_rectangle(cr, 0, 0, NOTIFY_STRIPE, height);
	cairo_fill(cr);

	PangoLayout *layout = paint_text_layout(cr, text, "Sans 10", width - NOTIFY_STRIPE - 20);
	int tw, th;
	pango_layout_get_pixel_size(layout, &tw, &th);
	paint_set_rgb(cr, 0xffffff);
	cairo_move_to(cr, NOTIFY_STRIPE + 10, (height - th) / 2.0);
	pango_cairo_show_layout(cr, layout);
	g_object_unref(layout);

	paint_end(cr);
	return buffer;
}

/* Newest at the top, the others below it. */
static void arrange(struct notify *notify)
{
	struct server *server = notify->server;
	if (wl_list_empty(&server->outputs)) {
		return;
	}
	struct output *output = wl_container_of(server->outputs.next, output, link);
	int x = output->box.x + output->box.width - NOTIFY_WIDTH - NOTIFY_MARGIN;
	int y = output->box.y + NOTIFY_MARGIN;
	struct notice *notice;
	wl_list_for_each(notice, &notify->notices, link) {
		wlr_scene_node_set_position(&notice->node->node, x, y);
		y += NOTIFY_HEIGHT + NOTIFY_MARGIN / 2;
	}
	/* above layer-shell overlays that came later */
	wlr_scene_node_raise_to_top(&notify->tree->node);
}

static void notice_destroy(struct notice *notice)
{
	if (notice == NULL) {
		return;
	}
	loop_source_remove(&notice->timer);
	if (notice->node != NULL) {
		wlr_scene_node_destroy(&notice->node->node);
	}
	wl_list_remove(&notice->link);
	notice->notify->n_notices--;
	free(notice);
}

static int handle_notice_timeout(void *data)
{
	struct notice *notice = data;
	struct notify *notify = notice->notify;
	notice_destroy(notice);
	arrange(notify);
	return 0;
}

static void show_on_screen(
	struct notify *notify, enum notify_kind kind, uint32_t stripe_rgb, const char *text)
{
	while (notify->n_notices >= NOTIFY_MAX_SHOWN) {
		struct notice *oldest = wl_container_of(notify->notices.prev, oldest, link);
		notice_destroy(oldest);
	}
	struct notice *notice = calloc(1, sizeof(*notice));
	if (notice == NULL) {
		return;
	}
	notice->notify = notify;
	wl_list_insert(&notify->notices, &notice->link);
	notify->n_notices++;

	struct cpu_buffer *buffer = draw_notice(kind, stripe_rgb, text);
	if (buffer == NULL) {
		goto error;
	}
	notice->node =
		server_scene_buffer_create(notify->server, notify->tree, &buffer->base, NULL);
	wlr_buffer_drop(&buffer->base);
	notice->timer =
		wl_event_loop_add_timer(notify->server->loop, handle_notice_timeout, notice);
	if (notice->node == NULL || notice->timer == NULL) {
		goto error;
	}
	wl_event_source_timer_update(notice->timer, notify->timeout_ms);
	arrange(notify);
	return;

error:
	wlr_log(WLR_ERROR, "cannot draw an on-screen notice");
	notice_destroy(notice);
}

/* ---- the session bus ---- */

static void close_bus(struct notify *notify)
{
	/* pending calls are dropped with it (their slots free their data) */
	bus_loop_close(&notify->bus, false);
	notify->daemon_present = false;
}

static void handle_bus_failed(void *data, int error)
{
	wlr_log(WLR_INFO, "session bus: %s; notifications go on screen", strerror(error));
	close_bus(data);
}

static int handle_name_owner_changed(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
	struct notify *notify = data;
	const char *name = NULL, *old_owner = NULL, *new_owner = NULL;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
		strcmp(name, FDN_NAME) != 0) {
		return 0;
	}
	notify->daemon_present = new_owner[0] != '\0';
	wlr_log(WLR_INFO, "notification daemon %s",
		notify->daemon_present ? "appeared" : "went away");
	return 0;
}

static int handle_get_name_owner(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
	struct notify *notify = data;
	notify->daemon_present = !sd_bus_message_is_method_error(m, NULL);
	wlr_log(WLR_INFO, "notification daemon: %s",
		notify->daemon_present ? "present" : "none (notices go on screen)");
	return 0;
}

static int handle_daemon_signal(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
	struct notify *notify = data;
	uint32_t id = 0, reason = 0;
	const char *key = NULL;
	if (sd_bus_message_is_signal(m, FDN_NAME, "NotificationClosed")) {
		if (sd_bus_message_read(m, "uu", &id, &reason) >= 0 &&
			notify->listener.closed != NULL) {
			notify->listener.closed(notify->listener.data, id, reason);
		}
	} else if (sd_bus_message_is_signal(m, FDN_NAME, "ActionInvoked")) {
		if (sd_bus_message_read(m, "us", &id, &key) >= 0 &&
			notify->listener.action != NULL) {
			notify->listener.action(notify->listener.data, id, key);
		}
	}
	return 0;
}

static void open_bus(struct notify *notify)
{
	notify->bus_attempt_ms = loop_now_ms();
	sd_bus *bus = NULL;
	/* connects without blocking; authentication runs in the event loop */
	int r = sd_bus_open_user(&bus);
	if (r < 0) {
		wlr_log(WLR_INFO, "no session bus (%s): notifications go on screen", strerror(-r));
		return;
	}
	if (!bus_loop_watch(&notify->bus, notify->server->loop, bus, handle_bus_failed, notify)) {
		goto error;
	}
	r = sd_bus_add_match_async(bus, NULL,
		"type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
		"member='NameOwnerChanged',arg0='" FDN_NAME "'",
		handle_name_owner_changed, NULL, notify);
	if (r < 0) {
		goto error;
	}
	r = sd_bus_add_match_async(bus, NULL,
		"type='signal',interface='" FDN_NAME "',path='" FDN_PATH "'", handle_daemon_signal,
		NULL, notify);
	if (r < 0) {
		goto error;
	}
	r = sd_bus_call_method_async(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "GetNameOwner", handle_get_name_owner, notify, "s",
		FDN_NAME);
	if (r < 0) {
		goto error;
	}
	bus_loop_update(&notify->bus);
	return;

error:
	wlr_log(WLR_ERROR, "session bus setup failed: %s", strerror(r < 0 ? -r : ENOMEM));
	close_bus(notify);
}

static int handle_notify_reply(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
	struct pending_call *call = data;
	if (sd_bus_message_is_method_error(m, NULL)) {
		const sd_bus_error *error = sd_bus_message_get_error(m);
		wlr_log(WLR_INFO, "notification daemon refused a message (%s): shown on screen",
			error != NULL && error->name != NULL ? error->name : "error");
		show_on_screen(call->notify, call->kind, call->stripe_rgb, call->text);
	}
	return 0;
}

static void free_pending_call(void *data)
{
	free(data);
}

static bool send_to_daemon(
	struct notify *notify, enum notify_kind kind, uint32_t stripe_rgb, const char *text)
{
	struct pending_call *call = calloc(1, sizeof(*call));
	if (call == NULL) {
		return false;
	}
	call->notify = notify;
	call->kind = kind;
	call->stripe_rgb = stripe_rgb;
	snprintf(call->text, sizeof(call->text), "%s", text);
	sd_bus_slot *slot = NULL;
	/* Notify(app_name, replaces_id, app_icon, summary, body, actions, hints,
	 * timeout); hints: urgency 0 low, 1 normal */
	int r = sd_bus_call_method_async(notify->bus.bus, &slot, FDN_NAME, FDN_PATH, FDN_NAME,
		"Notify", handle_notify_reply, call, "susssasa{sv}i", "vitrail", (uint32_t)0, "",
		"vitrail", text, 0, 1, "urgency", "y", (uint8_t)(kind == NOTIFY_REFUSED ? 1 : 0),
		(int32_t)NOTIFY_TIMEOUT_MS);
	if (r < 0) {
		free(call);
		wlr_log(WLR_INFO, "cannot send a notification: %s", strerror(-r));
		return false;
	}
	/* the slot lives with the bus and frees the call when done */
	sd_bus_slot_set_destroy_callback(slot, free_pending_call);
	sd_bus_slot_set_floating(slot, 1);
	sd_bus_slot_unref(slot);
	bus_loop_update(&notify->bus);
	return true;
}

/* ---- API ---- */

void notify_show(
	struct notify *notify, enum notify_kind kind, uint32_t stripe_rgb, const char *fmt, ...)
{
	if (notify == NULL) {
		return;
	}
	char text[NOTIFY_TEXT_MAX];
	va_list args;
	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);

	if (notify->bus.bus == NULL && loop_now_ms() - notify->bus_attempt_ms >= BUS_RETRY_MS) {
		open_bus(notify);
	}
	if (notify->bus.bus != NULL && notify->daemon_present &&
		send_to_daemon(notify, kind, stripe_rgb, text)) {
		return;
	}
	show_on_screen(notify, kind, stripe_rgb, text);
}

void notify_set_daemon_listener(
	struct notify *notify, const struct notify_daemon_listener *listener)
{
	if (listener != NULL) {
		notify->listener = *listener;
	} else {
		notify->listener = (struct notify_daemon_listener){ 0 };
	}
}

struct sd_bus *notify_daemon_bus(struct notify *notify)
{
	if (notify->bus.bus == NULL && loop_now_ms() - notify->bus_attempt_ms >= BUS_RETRY_MS) {
		open_bus(notify);
	}
	return notify->bus.bus != NULL && notify->daemon_present ? notify->bus.bus : NULL;
}

void notify_bus_flush(struct notify *notify)
{
	bus_loop_update(&notify->bus);
}

void notify_show_on_screen(
	struct notify *notify, enum notify_kind kind, uint32_t stripe_rgb, const char *text)
{
	show_on_screen(notify, kind, stripe_rgb, text);
}

int notify_notice_timeout_ms(const struct notify *notify)
{
	return notify->timeout_ms;
}

struct notify *notify_create(struct server *server)
{
	struct notify *notify = calloc(1, sizeof(*notify));
	if (notify == NULL) {
		return NULL;
	}
	notify->server = server;
	wl_list_init(&notify->notices);
	notify->timeout_ms = NOTIFY_TIMEOUT_MS;
	const char *env = getenv("VITRAIL_NOTICE_TIMEOUT_MS");
	if (env != NULL && env[0] != '\0') {
		char *end;
		long ms = strtol(env, &end, 10);
		if (*end == '\0' && ms >= 1 && ms <= 3600000) {
			notify->timeout_ms = (int)ms;
		}
	}
	notify->tree = wlr_scene_tree_create(&server->layers[SERVER_LAYER_SHELL_OVERLAY]->node);
	if (notify->tree == NULL) {
		free(notify);
		return NULL;
	}
	open_bus(notify);
	return notify;
}

void notify_destroy(struct notify *notify)
{
	if (notify == NULL) {
		return;
	}
	close_bus(notify);
	struct notice *notice, *tmp;
	wl_list_for_each_safe(notice, tmp, &notify->notices, link) {
		notice_destroy(notice);
	}
	wlr_scene_node_destroy(&notify->tree->node);
	free(notify);
}
