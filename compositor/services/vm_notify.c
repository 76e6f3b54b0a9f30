#include "services/vm_notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <vitrail/protocol.h>
#include <wayland-server-core.h>
#include <wlr/util/log.h>
#include <vitrail/common/bus_loop.h>
#include <vitrail/common/loop.h>

#include "guest/vm_link.h"
#include "server.h"
#include "services/notify.h"
#include "tree/view.h"

struct vm_notes;

/* One guest notification the host shows. */
struct note {
	struct vm_notes *vm;
	struct wl_list link; /* vm_notes.notes */
	uint32_t guest_id;
	uint32_t host_id; /* the daemon's id; 0 until its reply, or on screen */
	sd_bus_slot *call; /* Notify call in flight */
	struct wl_event_source *timer; /* on-screen: reports the expiry */
	bool close_wanted; /* NOTIFY_CLOSE came before the daemon's id */
};

/* Per VM. */
struct vm_notes {
	struct vm_notify *vn;
	struct vm_link *link;
	struct wl_list link_node; /* vm_notify.vms */
	struct wl_list notes;
	size_t n_notes;
	int64_t window_start_ms;
	unsigned window_count;
	bool window_noticed;
	struct wl_listener disconnect;
	struct wl_listener destroy;
};

struct vm_notify {
	struct server *server;
	struct wl_list vms;
};

static void send_closed(struct vm_link *link, uint32_t guest_id, uint32_t reason)
{
	struct vtp_notify_closed closed = { .id = guest_id, .reason = reason };
	vm_link_send(link, VTP_NOTIFY_CLOSED, 0, &closed, NULL, 0);
}

/* Forget a note; with report, tell the guest it is gone. */
static void note_destroy(struct note *note, bool report, uint32_t reason)
{
	if (report && vm_link_connected(note->vm->link)) {
		send_closed(note->vm->link, note->guest_id, reason);
	}
	if (note->call != NULL) {
		sd_bus_slot_unref(note->call);
	}
	loop_source_remove(&note->timer);
	wl_list_remove(&note->link);
	note->vm->n_notes--;
	free(note);
}

static void daemon_close(struct vm_notify *vn, uint32_t host_id)
{
	sd_bus *bus = notify_daemon_bus(vn->server->notify);
	if (bus == NULL || host_id == 0) {
		return;
	}
	sd_bus_call_method_async(bus, NULL, FDN_NAME, FDN_PATH, FDN_NAME, "CloseNotification", NULL,
		NULL, "u", host_id);
	notify_bus_flush(vn->server->notify);
}

static struct note *find_guest(struct vm_notes *vm, uint32_t guest_id)
{
	struct note *note;
	wl_list_for_each(note, &vm->notes, link) {
		if (note->guest_id == guest_id) {
			return note;
		}
	}
	return NULL;
}

static struct note *find_host(struct vm_notify *vn, uint32_t host_id)
{
	struct vm_notes *vm;
	struct note *note;
	if (host_id == 0) {
		return NULL;
	}
	wl_list_for_each(vm, &vn->vms, link_node) {
		wl_list_for_each(note, &vm->notes, link) {
			if (note->host_id == host_id) {
				return note;
			}
		}
	}
	return NULL;
}

static void close_all(struct vm_notes *vm, bool report)
{
	struct note *note, *tmp;
	wl_list_for_each_safe(note, tmp, &vm->notes, link) {
		daemon_close(vm->vn, note->host_id);
		note_destroy(note, report, VTP_NOTIFY_UNDEFINED);
	}
}

static void vm_notes_destroy(struct vm_notes *vm)
{
	close_all(vm, false);
	wl_list_remove(&vm->disconnect.link);
	wl_list_remove(&vm->destroy.link);
	wl_list_remove(&vm->link_node);
	free(vm);
}

static void handle_disconnect(struct wl_listener *listener, void *data)
{
	struct vm_notes *vm = wl_container_of(listener, vm, disconnect);
	close_all(vm, false);
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct vm_notes *vm = wl_container_of(listener, vm, destroy);
	vm_notes_destroy(vm);
}

static struct vm_notes *vm_notes_get(struct vm_notify *vn, struct vm_link *link)
{
	struct vm_notes *vm;
	wl_list_for_each(vm, &vn->vms, link_node) {
		if (vm->link == link) {
			return vm;
		}
	}
	vm = calloc(1, sizeof(*vm));
	if (vm == NULL) {
		return NULL;
	}
	vm->vn = vn;
	vm->link = link;
	wl_list_init(&vm->notes);
	wl_list_insert(&vn->vms, &vm->link_node);
	struct vm_link_events *events = vm_link_events(link);
	vm->disconnect.notify = handle_disconnect;
	wl_signal_add(&events->disconnect, &vm->disconnect);
	vm->destroy.notify = handle_destroy;
	wl_signal_add(&events->destroy, &vm->destroy);
	return vm;
}

/* ---- showing ---- */

/* Escape &, < and > (daemons may read the body as markup). */
static void markup_escape(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (; *in != '\0'; in++) {
		const char *rep = NULL;
		switch (*in) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		}
		size_t n = rep != NULL ? strlen(rep) : 1;
		if (o + n + 1 > cap) {
			break;
		}
		if (rep != NULL) {
			memcpy(out + o, rep, n);
		} else {
			out[o] = *in;
		}
		o += n;
	}
	out[o] = '\0';
}

/* The image-data badge: the guest's icon inside a frame of the VM color,
 * or a square of that color. Returns a malloc'd RGBA image. */
static uint8_t *make_badge(
	uint32_t rgb, const struct vtp_notify *nf, const uint8_t *icon, int *width, int *height)
{
	int iw = nf->icon_width, ih = nf->icon_height;
	int w = iw > 0 ? iw + 2 * VM_NOTIFY_BADGE : VM_NOTIFY_SWATCH;
	int h = ih > 0 ? ih + 2 * VM_NOTIFY_BADGE : VM_NOTIFY_SWATCH;
	uint8_t *img = malloc((size_t)w * (size_t)h * 4);
	if (img == NULL) {
		return NULL;
	}
	for (int i = 0; i < w * h; i++) {
		img[i * 4 + 0] = (uint8_t)(rgb >> 16);
		img[i * 4 + 1] = (uint8_t)(rgb >> 8);
		img[i * 4 + 2] = (uint8_t)rgb;
		img[i * 4 + 3] = 0xff;
	}
	for (int y = 0; y < ih; y++) {
		memcpy(img + ((size_t)(y + VM_NOTIFY_BADGE) * (size_t)w + VM_NOTIFY_BADGE) * 4,
			icon + (size_t)y * (size_t)iw * 4, (size_t)iw * 4);
	}
	*width = w;
	*height = h;
	return img;
}

static int handle_notify_reply(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
	struct note *note = data;
	sd_bus_slot_unref(note->call);
	note->call = NULL;
	uint32_t id = 0;
	if (sd_bus_message_is_method_error(m, NULL) || sd_bus_message_read(m, "u", &id) < 0 ||
		id == 0) {
		wlr_log(WLR_INFO, "[vm %s] the notification daemon refused a notification",
			vm_link_name(note->vm->link));
		note_destroy(note, true, VTP_NOTIFY_UNDEFINED);
		return 0;
	}
	note->host_id = id;
	if (note->close_wanted) {
		daemon_close(note->vm->vn, id);
	}
	return 0;
}

static int handle_notice_expired(void *data)
{
	struct note *note = data;
	note_destroy(note, true, VTP_NOTIFY_EXPIRED);
	return 0;
}

static bool send_to_daemon(struct vm_notify *vn, sd_bus *bus, struct note *note,
	const struct vtp_notify *nf, const char *app, const char *summary, const char *body,
	const uint8_t *icon)
{
	struct vm_link *link = note->vm->link;
	sd_bus_message *m = NULL;
	int iw = 0, ih = 0;
	uint8_t *img = make_badge(vm_link_label(link), nf, icon, &iw, &ih);
	if (img == NULL) {
		return false;
	}
	int r = sd_bus_message_new_method_call(bus, &m, FDN_NAME, FDN_PATH, FDN_NAME, "Notify");
	if (r >= 0) {
		r = sd_bus_message_append(m, "susss", app, note->host_id, "", summary, body);
	}
	if (r >= 0) {
		r = sd_bus_message_append(m, "as", 2, "default", "Open");
	}
	if (r >= 0) {
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	}
	if (r >= 0) {
		r = sd_bus_message_append(m, "{sv}{sv}", "urgency", "y", (uint8_t)nf->urgency,
			"x-vitrail-vm", "s", vm_link_name(link));
	}
	if (r >= 0) {
		r = sd_bus_message_open_container(m, 'e', "sv");
	}
	if (r >= 0) {
		r = sd_bus_message_append(m, "s", "image-data");
	}
	if (r >= 0) {
		r = sd_bus_message_open_container(m, 'v', "(iiibiiay)");
	}
	if (r >= 0) {
		r = sd_bus_message_open_container(m, 'r', "iiibiiay");
	}
	if (r >= 0) {
		r = sd_bus_message_append(m, "iiibii", iw, ih, iw * 4, 1, 8, 4);
	}
	if (r >= 0) {
		r = sd_bus_message_append_array(m, 'y', img, (size_t)iw * (size_t)ih * 4);
	}
	for (int i = 0; i < 4 && r >= 0; i++) {
		r = sd_bus_message_close_container(m);
	}
	if (r >= 0) {
		r = sd_bus_message_append(m, "i", nf->expire_timeout);
	}
	if (r >= 0) {
		r = sd_bus_call_async(bus, &note->call, m, handle_notify_reply, note, 0);
	}
	sd_bus_message_unref(m);
	free(img);
	if (r < 0) {
		wlr_log(WLR_INFO, "[vm %s] cannot send a notification: %s", vm_link_name(link),
			strerror(-r));
		return false;
	}
	notify_bus_flush(vn->server->notify);
	return true;
}

static void show(struct vm_notify *vn, struct vm_notes *vm, const struct vtp_msg *msg)
{
	const struct vtp_notify *nf = &msg->body.notify;
	const char *tail = (const char *)msg->tail;
	const char *name = vm_link_name(vm->link);
	/* the decoder checked the lengths; cleaned once more for display */
	char summary_raw[VTP_MAX_NOTIFY_SUMMARY + 1], app_raw[VTP_MAX_NOTIFY_APP_NAME + 1];
	char body_raw[VTP_MAX_NOTIFY_BODY + 1];
	vtp_sanitize_display_string(
		tail, nf->summary_len, VTP_MAX_NOTIFY_SUMMARY, summary_raw, sizeof(summary_raw));
	vtp_sanitize_display_string(tail != NULL ? tail + nf->summary_len : NULL, nf->body_len,
		VTP_MAX_NOTIFY_BODY, body_raw, sizeof(body_raw));
	vtp_sanitize_display_string(tail != NULL ? tail + nf->summary_len + nf->body_len : NULL,
		nf->app_name_len, VTP_MAX_NOTIFY_APP_NAME, app_raw, sizeof(app_raw));
	const uint8_t *icon = msg->tail != NULL
		? msg->tail + nf->summary_len + nf->body_len + nf->app_name_len
		: NULL;

	char summary[VTP_MAX_NOTIFY_SUMMARY + VTP_MAX_NAME + 8];
	char app[VTP_MAX_NOTIFY_APP_NAME + VTP_MAX_NAME + 8];
	char body[VTP_MAX_NOTIFY_BODY * 5 + 1];
	snprintf(summary, sizeof(summary), "[%s] %s", name, summary_raw);
	if (app_raw[0] != '\0') {
		snprintf(app, sizeof(app), "%s: %s", name, app_raw);
	} else {
		snprintf(app, sizeof(app), "%s", name);
	}
	markup_escape(body_raw, body, sizeof(body));

	struct note *note = find_guest(vm, nf->id);
	if (note != NULL && (note->call != NULL || note->timer != NULL)) {
		/* replacing one not yet known to the daemon, or on screen: a new one */
		daemon_close(vn, note->host_id);
		note_destroy(note, false, 0);
		note = NULL;
	}
	if (note == NULL) {
		note = calloc(1, sizeof(*note));
		if (note == NULL) {
			send_closed(vm->link, nf->id, VTP_NOTIFY_UNDEFINED);
			return;
		}
		note->vm = vm;
		note->guest_id = nf->id;
		wl_list_insert(&vm->notes, &note->link);
		vm->n_notes++;
	}
	note->close_wanted = false;

	sd_bus *bus = notify_daemon_bus(vn->server->notify);
	if (bus != NULL && send_to_daemon(vn, bus, note, nf, app, summary, body, icon)) {
		return;
	}
	/* no daemon: an on-screen notice, reported expired when it goes */
	char text[VTP_MAX_NOTIFY_SUMMARY + VTP_MAX_NOTIFY_BODY + VTP_MAX_NAME + 16];
	snprintf(text, sizeof(text), "%s: %s", summary, body_raw);
	notify_show_on_screen(vn->server->notify, NOTIFY_INFO, vm_link_label(vm->link), text);
	note->host_id = 0;
	note->timer = wl_event_loop_add_timer(vn->server->loop, handle_notice_expired, note);
	if (note->timer == NULL) {
		note_destroy(note, true, VTP_NOTIFY_UNDEFINED);
		return;
	}
	wl_event_source_timer_update(note->timer, notify_notice_timeout_ms(vn->server->notify));
}

static void handle_notify(struct vm_notify *vn, struct vm_notes *vm, const struct vtp_msg *msg)
{
	const struct vtp_notify *nf = &msg->body.notify;
	int64_t now = loop_now_ms();
	if (vm->window_count == 0 || now - vm->window_start_ms >= VM_NOTIFY_WINDOW_MS) {
		vm->window_start_ms = now;
		vm->window_count = 0;
		vm->window_noticed = false;
	}
	if (vm->window_count >= VM_NOTIFY_RATE) {
		send_closed(vm->link, nf->id, VTP_NOTIFY_UNDEFINED);
		if (!vm->window_noticed) {
			vm->window_noticed = true;
			wlr_log(WLR_INFO, "[vm %s] notifications dropped: rate limit",
				vm_link_name(vm->link));
			notify_show(vn->server->notify, NOTIFY_REFUSED, vm_link_label(vm->link),
				"[%s] notifications dropped: more than %d in %d s",
				vm_link_name(vm->link), VM_NOTIFY_RATE, VM_NOTIFY_WINDOW_MS / 1000);
		}
		return;
	}
	if (find_guest(vm, nf->id) == NULL && vm->n_notes >= VM_NOTIFY_MAX_LIVE) {
		send_closed(vm->link, nf->id, VTP_NOTIFY_UNDEFINED);
		return;
	}
	vm->window_count++;
	show(vn, vm, msg);
}

bool vm_notify_handle_message(struct vm_notify *vn, struct vm_link *link, const struct vtp_msg *msg)
{
	struct vm_notes *vm = vm_notes_get(vn, link);
	if (vm == NULL) {
		if (msg->header.type == VTP_NOTIFY) {
			send_closed(link, msg->body.notify.id, VTP_NOTIFY_UNDEFINED);
		}
		return true;
	}
	if (msg->header.type == VTP_NOTIFY) {
		handle_notify(vn, vm, msg);
		return true;
	}
	if (msg->header.type == VTP_NOTIFY_CLOSE) {
		struct note *note = find_guest(vm, msg->body.notify_id.id);
		if (note == NULL) {
			return true; /* gone already: ignored */
		}
		if (note->host_id != 0) {
			/* the daemon's NotificationClosed(3) reports it */
			daemon_close(vn, note->host_id);
		} else if (note->call != NULL) {
			note->close_wanted = true;
		} else {
			note_destroy(note, true, VTP_NOTIFY_CLOSED_BY_CALL);
		}
	}
	return true;
}

/* ---- the daemon's signals ---- */

static void handle_daemon_closed(void *data, uint32_t id, uint32_t reason)
{
	struct note *note = find_host(data, id);
	if (note == NULL) {
		return;
	}
	if (reason < VTP_NOTIFY_EXPIRED || reason > VTP_NOTIFY_UNDEFINED) {
		reason = VTP_NOTIFY_UNDEFINED;
	}
	note_destroy(note, true, reason);
}

static void handle_daemon_action(void *data, uint32_t id, const char *key)
{
	struct vm_notify *vn = data;
	struct note *note = find_host(vn, id);
	if (note == NULL || key == NULL || strcmp(key, "default") != 0) {
		return; /* only "default" crosses */
	}
	struct vm_link *link = note->vm->link;
	/* the VM's most recently focused window */
	struct view *view, *best = NULL;
	wl_list_for_each(view, &vn->server->views, link) {
		if (view->vm == link && view->mapped &&
			(best == NULL || view->focus_seq > best->focus_seq)) {
			best = view;
		}
	}
	if (best != NULL) {
		view_focus(best);
	}
	struct vtp_notify_id action = { .id = note->guest_id };
	vm_link_send(link, VTP_NOTIFY_ACTION, 0, &action, NULL, 0);
}

struct vm_notify *vm_notify_create(struct server *server)
{
	struct vm_notify *vn = calloc(1, sizeof(*vn));
	if (vn == NULL) {
		return NULL;
	}
	vn->server = server;
	wl_list_init(&vn->vms);
	struct notify_daemon_listener listener = {
		.closed = handle_daemon_closed,
		.action = handle_daemon_action,
		.data = vn,
	};
	notify_set_daemon_listener(server->notify, &listener);
	return vn;
}

void vm_notify_destroy(struct vm_notify *vn)
{
	if (vn == NULL) {
		return;
	}
	notify_set_daemon_listener(vn->server->notify, NULL);
	struct vm_notes *vm, *tmp;
	wl_list_for_each_safe(vm, tmp, &vn->vms, link_node) {
		vm_notes_destroy(vm);
	}
	free(vn);
}
