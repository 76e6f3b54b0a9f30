#include "notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <vitrail/protocol.h>
#include <wayland-server-core.h>
#include <wlr/util/log.h>
#include <vitrail/common/bus_loop.h>

#include "link.h"

struct agent_notify {
	struct wl_event_loop *loop;
	struct agent_link *link;
	struct bus_loop bus;
	sd_bus_slot *vtable_slot;
	uint32_t next_id;
	uint32_t live[AGENT_NOTIFY_MAX_LIVE];
	size_t n_live;
};

static void close_bus(struct agent_notify *an)
{
	an->vtable_slot = sd_bus_slot_unref(an->vtable_slot);
	bus_loop_close(&an->bus, true);
}

static void handle_bus_failed(void *data, int error)
{
	wlr_log(WLR_ERROR, "session bus: %s; no more notifications", strerror(error));
	close_bus(data);
}

/* ---- live ids ---- */

static bool is_live(struct agent_notify *an, uint32_t id)
{
	for (size_t i = 0; i < an->n_live; i++) {
		if (an->live[i] == id) {
			return true;
		}
	}
	return false;
}

static void forget(struct agent_notify *an, uint32_t id)
{
	for (size_t i = 0; i < an->n_live; i++) {
		if (an->live[i] == id) {
			an->live[i] = an->live[--an->n_live];
			return;
		}
	}
}

static void emit_closed(struct agent_notify *an, uint32_t id, uint32_t reason)
{
	if (an->bus.bus == NULL) {
		return;
	}
	sd_bus_emit_signal(an->bus.bus, FDN_PATH, FDN_NAME, "NotificationClosed", "uu", id, reason);
	bus_loop_update(&an->bus);
}

/* ---- Notify ---- */

struct icon {
	int width, height;
	uint8_t *rgba; /* width*height*4, NULL: none */
};

/* Read an image-data hint (iiibiiay): 8-bit RGB or RGBA, scaled down
 * (nearest neighbour) to fit VTP_MAX_NOTIFY_ICON. Bad images are ignored. */
static int read_image(sd_bus_message *m, struct icon *icon)
{
	int32_t w, h, stride, bits, channels;
	int alpha;
	const void *data;
	size_t len;
	int r = sd_bus_message_enter_container(m, 'r', "iiibiiay");
	if (r < 0) {
		return r;
	}
	if ((r = sd_bus_message_read(m, "iiibii", &w, &h, &stride, &alpha, &bits, &channels)) < 0 ||
		(r = sd_bus_message_read_array(m, 'y', &data, &len)) < 0) {
		return r;
	}
	if ((r = sd_bus_message_exit_container(m)) < 0) {
		return r;
	}
	if (w <= 0 || h <= 0 || w > 4096 || h > 4096 || bits != 8 ||
		(channels != 3 && channels != 4) || (channels == 4) != (alpha != 0) ||
		stride < w * channels ||
		(size_t)stride * (size_t)(h - 1) + (size_t)w * channels > len) {
		return 0; /* ignored */
	}
	int max = VTP_MAX_NOTIFY_ICON;
	int ow = w, oh = h;
	if (ow > max || oh > max) {
		if (w >= h) {
			ow = max;
			oh = h * max / w > 0 ? h * max / w : 1;
		} else {
			oh = max;
			ow = w * max / h > 0 ? w * max / h : 1;
		}
	}
	uint8_t *out = malloc((size_t)ow * (size_t)oh * 4);
	if (out == NULL) {
		return 0;
	}
	const uint8_t *src = data;
	for (int y = 0; y < oh; y++) {
		int sy = y * h / oh;
		for (int x = 0; x < ow; x++) {
			int sx = x * w / ow;
			const uint8_t *p =
				src + (size_t)sy * (size_t)stride + (size_t)sx * channels;
			uint8_t *o = out + ((size_t)y * (size_t)ow + (size_t)x) * 4;
			o[0] = p[0];
			o[1] = p[1];
			o[2] = p[2];
			o[3] = channels == 4 ? p[3] : 0xff;
		}
	}
	free(icon->rgba);
	icon->rgba = out;
	icon->width = ow;
	icon->height = oh;
	return 0;
}

static int read_hints(sd_bus_message *m, uint8_t *urgency, struct icon *icon)
{
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0) {
		return r;
	}
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key;
		if ((r = sd_bus_message_read(m, "s", &key)) < 0) {
			return r;
		}
		if (strcmp(key, "urgency") == 0 &&
			sd_bus_message_enter_container(m, 'v', "y") > 0) {
			if ((r = sd_bus_message_read(m, "y", urgency)) < 0 ||
				(r = sd_bus_message_exit_container(m)) < 0) {
				return r;
			}
		} else if ((strcmp(key, "image-data") == 0 || strcmp(key, "image_data") == 0 ||
				   strcmp(key, "icon_data") == 0) &&
			sd_bus_message_enter_container(m, 'v', "(iiibiiay)") > 0) {
			if ((r = read_image(m, icon)) < 0 ||
				(r = sd_bus_message_exit_container(m)) < 0) {
				return r;
			}
		} else if ((r = sd_bus_message_skip(m, "v")) < 0) {
			return r;
		}
		if ((r = sd_bus_message_exit_container(m)) < 0) {
			return r;
		}
	}
	if (r < 0) {
		return r;
	}
	return sd_bus_message_exit_container(m);
}

static bool host_takes_notifications(struct agent_notify *an)
{
	return agent_link_ready(an->link) && an->link->dec.version >= 2;
}

static void send_notify(struct agent_notify *an, uint32_t id, uint8_t urgency, int32_t timeout,
	const char *app, const char *summary, const char *body, const struct icon *icon)
{
	static uint8_t tail[VTP_MAX_NOTIFY_SUMMARY + VTP_MAX_NOTIFY_BODY + VTP_MAX_NOTIFY_APP_NAME +
		VTP_MAX_NOTIFY_ICON * VTP_MAX_NOTIFY_ICON * 4];
	char s[VTP_MAX_NOTIFY_SUMMARY + 1], b[VTP_MAX_NOTIFY_BODY + 1],
		a[VTP_MAX_NOTIFY_APP_NAME + 1];
	/* cut to the limits and cleaned by the one display-string rule */
	size_t sl = vtp_sanitize_display_string(
		summary, strlen(summary), VTP_MAX_NOTIFY_SUMMARY, s, sizeof(s));
	size_t bl =
		vtp_sanitize_display_string(body, strlen(body), VTP_MAX_NOTIFY_BODY, b, sizeof(b));
	size_t al = vtp_sanitize_display_string(
		app, strlen(app), VTP_MAX_NOTIFY_APP_NAME, a, sizeof(a));
	struct vtp_notify nf = {
		.id = id,
		.urgency = urgency > VTP_URGENCY_CRITICAL ? VTP_URGENCY_CRITICAL : urgency,
		.expire_timeout = timeout < -1
			? -1
			: (timeout > VTP_MAX_NOTIFY_TIMEOUT ? VTP_MAX_NOTIFY_TIMEOUT : timeout),
		.summary_len = (uint16_t)sl,
		.body_len = (uint16_t)bl,
		.app_name_len = (uint16_t)al,
	};
	size_t n = 0;
	memcpy(tail + n, s, sl);
	n += sl;
	memcpy(tail + n, b, bl);
	n += bl;
	memcpy(tail + n, a, al);
	n += al;
	if (icon->rgba != NULL) {
		nf.icon_width = (uint16_t)icon->width;
		nf.icon_height = (uint16_t)icon->height;
		size_t il = (size_t)icon->width * (size_t)icon->height * 4;
		memcpy(tail + n, icon->rgba, il);
		n += il;
	}
	agent_link_send(an->link, VTP_NOTIFY, 0, &nf, tail, (uint32_t)n);
}

bool agent_notify_agent(struct agent_notify *an, const char *summary, const char *body)
{
	if (an == NULL || !host_takes_notifications(an)) {
		return false;
	}
	/* an id no app has: the host's replies about it are ignored */
	uint32_t id;
	do {
		id = ++an->next_id;
	} while (id == 0 || is_live(an, id));
	struct icon none = { 0 };
	send_notify(an, id, VTP_URGENCY_NORMAL, -1, "vitrail-agent", summary, body, &none);
	return true;
}

static int method_notify(sd_bus_message *m, void *data, sd_bus_error *error)
{
	struct agent_notify *an = data;
	const char *app, *app_icon, *summary, *body;
	uint32_t replaces;
	int32_t timeout;
	uint8_t urgency = VTP_URGENCY_NORMAL;
	struct icon icon = { 0 };
	int r = sd_bus_message_read(m, "susss", &app, &replaces, &app_icon, &summary, &body);
	if (r >= 0) {
		r = sd_bus_message_skip(m, "as"); /* only "default" ever crosses */
	}
	if (r >= 0) {
		r = read_hints(m, &urgency, &icon);
	}
	if (r >= 0) {
		r = sd_bus_message_read(m, "i", &timeout);
	}
	if (r < 0) {
		free(icon.rgba);
		return r;
	}
	uint32_t id = replaces;
	if (id == 0 || !is_live(an, id)) {
		do {
			id = ++an->next_id;
		} while (id == 0 || is_live(an, id));
	}
	r = sd_bus_reply_method_return(m, "u", id);
	if (r < 0) {
		free(icon.rgba);
		return r;
	}
	if (!is_live(an, id)) {
		if (!host_takes_notifications(an) || an->n_live >= AGENT_NOTIFY_MAX_LIVE) {
			free(icon.rgba);
			emit_closed(an, id, VTP_NOTIFY_UNDEFINED);
			return 1;
		}
		an->live[an->n_live++] = id;
	}
	if (!host_takes_notifications(an)) {
		forget(an, id);
		free(icon.rgba);
		emit_closed(an, id, VTP_NOTIFY_UNDEFINED);
		return 1;
	}
	send_notify(an, id, urgency, timeout, app, summary, body, &icon);
	free(icon.rgba);
	return 1;
}

static int method_close(sd_bus_message *m, void *data, sd_bus_error *error)
{
	struct agent_notify *an = data;
	uint32_t id;
	int r = sd_bus_message_read(m, "u", &id);
	if (r < 0) {
		return r;
	}
	if (id != 0 && is_live(an, id) && host_takes_notifications(an)) {
		struct vtp_notify_id body = { .id = id };
		agent_link_send(an->link, VTP_NOTIFY_CLOSE, 0, &body, NULL, 0);
	}
	return sd_bus_reply_method_return(m, "");
}

static int method_capabilities(sd_bus_message *m, void *data, sd_bus_error *error)
{
	return sd_bus_reply_method_return(m, "as", 2, "body", "actions");
}

static int method_server_info(sd_bus_message *m, void *data, sd_bus_error *error)
{
	return sd_bus_reply_method_return(
		m, "ssss", "vitrail-agent", "vitrail", VITRAIL_VERSION, "1.2");
}

static const sd_bus_vtable notify_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Notify", "susssasa{sv}i", "u", method_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("CloseNotification", "u", "", method_close, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetCapabilities", "", "as", method_capabilities, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD(
		"GetServerInformation", "", "ssss", method_server_info, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL("NotificationClosed", "uu", 0),
	SD_BUS_SIGNAL("ActionInvoked", "us", 0),
	SD_BUS_VTABLE_END,
};

/* ---- host messages ---- */

void agent_notify_handle_message(struct agent_notify *an, const struct vtp_msg *msg)
{
	if (an == NULL) {
		return;
	}
	if (msg->header.type == VTP_NOTIFY_CLOSED) {
		uint32_t id = msg->body.notify_closed.id;
		if (is_live(an, id)) {
			forget(an, id);
			emit_closed(an, id, msg->body.notify_closed.reason);
		}
	} else if (msg->header.type == VTP_NOTIFY_ACTION) {
		uint32_t id = msg->body.notify_id.id;
		if (is_live(an, id) && an->bus.bus != NULL) {
			sd_bus_emit_signal(an->bus.bus, FDN_PATH, FDN_NAME, "ActionInvoked", "us",
				id, "default");
			bus_loop_update(&an->bus);
		}
	}
}

void agent_notify_link_lost(struct agent_notify *an)
{
	if (an == NULL) {
		return;
	}
	while (an->n_live > 0) {
		uint32_t id = an->live[--an->n_live];
		emit_closed(an, id, VTP_NOTIFY_UNDEFINED);
	}
}

/* ---- lifetime ---- */

struct agent_notify *agent_notify_create(struct wl_event_loop *loop, struct agent_link *link)
{
	struct agent_notify *an = calloc(1, sizeof(*an));
	if (an == NULL) {
		return NULL;
	}
	an->loop = loop;
	an->link = link;
	const char *address = getenv("DBUS_SESSION_BUS_ADDRESS");
	if (address == NULL || address[0] == '\0') {
		wlr_log(WLR_INFO, "no session bus: notifications are not forwarded");
		return an;
	}
	sd_bus *bus = NULL;
	int r = sd_bus_open_user(&bus);
	if (r < 0) {
		wlr_log(WLR_INFO,
			"cannot open the session bus (%s): notifications are not forwarded",
			strerror(-r));
		return an;
	}
	an->bus.bus = bus;
	r = sd_bus_add_object_vtable(bus, &an->vtable_slot, FDN_PATH, FDN_NAME, notify_vtable, an);
	if (r >= 0) {
		r = sd_bus_request_name(bus, FDN_NAME, 0);
	}
	if (r < 0) {
		wlr_log(WLR_INFO, "%s: %s; notifications are not forwarded", FDN_NAME,
			r == -EEXIST ? "another server owns it" : strerror(-r));
		close_bus(an);
		return an;
	}
	if (!bus_loop_watch(&an->bus, loop, bus, handle_bus_failed, an)) {
		wlr_log(WLR_ERROR, "cannot watch the session bus: notifications are not forwarded");
		close_bus(an);
		return an;
	}
	wlr_log(WLR_INFO, "serving %s on the session bus", FDN_NAME);
	bus_loop_process(&an->bus);
	return an;
}

void agent_notify_destroy(struct agent_notify *an)
{
	if (an == NULL) {
		return;
	}
	close_bus(an);
	free(an);
}
