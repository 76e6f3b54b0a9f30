#define _GNU_SOURCE /* pipe2 */
#include "services/clipboard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vitrail/protocol.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/util/log.h>

#include <vitrail/common/clip_text.h>
#include <vitrail/common/loop.h>
#include "config.h"
#include "services/notify.h"
#include "services/vm_manager.h"
#include "input/seat.h"
#include "server.h"
#include "tree/view.h"
#include "guest/vm_link.h"

#define WRITER_TIMEOUT_MS 30000

/* A CLIPBOARD_REQUEST waiting for its CLIPBOARD_DATA chunks. */
struct vm_request {
	struct clipboard *clipboard;
	struct wl_list link; /* clipboard.requests */
	struct vm_link *vm;
	uint32_t serial;
	uint32_t max_bytes; /* what the request asked for */
	uint64_t generation;
	uint8_t *buf;
	size_t len, cap;
	uint64_t received; /* counted even when abandoned */
	bool abandoned; /* timed out: chunks still arrive, are counted, and dropped */
	bool out_of_memory;
	struct wl_event_source *timer;
	struct wl_listener disconnect; /* vm.events.disconnect */
};

/* CLIPBOARD_SET chunks on their way to a VM. */
struct paste {
	struct clipboard *clipboard;
	struct wl_list link; /* clipboard.pastes */
	struct vm_link *vm;
	struct clip_text *data;
	size_t sent;
	uint32_t serial;
	struct wl_listener disconnect; /* vm.events.disconnect */
	struct wl_listener drain; /* vm.events.drain: the agent reads again */
	/* into a suspended VM: sent once it is restored (vm.events.welcome) */
	struct wl_listener welcome;
	struct wl_event_source *restore_timer;
};

/* A paste into a suspended VM waits this long for its restore. */
#define PASTE_RESTORE_TIMEOUT_MS 60000

/* Reading the host selection through a pipe. */
struct host_read {
	struct clipboard *clipboard;
	int fd;
	struct wl_event_source *source;
	struct wl_event_source *timer;
	uint8_t *buf;
	size_t len, cap, max;
	uint64_t generation;
};

struct clipboard {
	struct server *server;
	struct wl_listener seat_action; /* seat.events.action: the copy and paste keys */

	/* the inter-VM clipboard: data NULL when empty */
	struct clip_text *data;
	char source[CONFIG_VM_NAME_MAX + 1]; /* VM name or "host" */
	int64_t stored_ms;

	uint64_t generation; /* copy presses so far */
	uint64_t floor; /* copies of this generation or older are not stored any more */

	struct wl_list requests; /* struct vm_request.link */
	struct wl_list pastes; /* struct paste.link */
	struct host_read *host_read;
	struct clip_text_writers writers; /* host apps reading a paste */
	struct clip_text_source *host_source; /* ours, while it is the host selection */
};

/* Log and tell the user (sizes and names only, never the text). */
__attribute__((format(printf, 4, 5))) static void tell(struct clipboard *clipboard,
	enum notify_kind kind, uint32_t stripe_rgb, const char *fmt, ...)
{
	char text[256];
	va_list args;
	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	wlr_log(WLR_INFO, "clipboard: %s", text);
	notify_show(clipboard->server->notify, kind, stripe_rgb, "%s", text);
}

bool clipboard_text_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = s[i];
		if (c < 0x80) {
			if (c == 0) {
				return false;
			}
			i++;
			continue;
		}
		size_t n;
		uint32_t cp, min;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i < n) {
			return false;
		}
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			return false;
		}
		i += n;
	}
	return true;
}

/* ---- shared texts ---- */

static void forget_text(struct clipboard *clipboard)
{
	clip_text_unref(clipboard->data);
	clipboard->data = NULL;
	clipboard->source[0] = '\0';
	/* a copy still on its way was asked for before this: drop it */
	clipboard->floor = clipboard->generation;
}

/*
 * A copy is complete: check it and store it. buf (owned, may be NULL) holds
 * len bytes; requested_max is what the source was allowed to send (a text
 * that fills it may have been cut, so it counts as too large).
 */
static void finish_copy(struct clipboard *clipboard, const char *source, uint32_t rgb,
	uint64_t generation, uint8_t *buf, size_t len, size_t requested_max)
{
	uint32_t max = clipboard->server->config->clipboard_max_bytes;
	if (len == 0) {
		tell(clipboard, NOTIFY_REFUSED, rgb, "nothing copied: no text is selected in [%s]",
			source);
		goto drop;
	}
	if (len >= requested_max || len > max) {
		tell(clipboard, NOTIFY_REFUSED, rgb,
			"copy from [%s] refused: the text is larger than %u bytes", source, max);
		goto drop;
	}
	if (!clipboard_text_valid(buf, len)) {
		tell(clipboard, NOTIFY_REFUSED, rgb,
			"copy from [%s] refused: %zu bytes that are not UTF-8 text", source, len);
		goto drop;
	}
	if (generation <= clipboard->floor) {
		tell(clipboard, NOTIFY_REFUSED, rgb,
			"copy from [%s] dropped: the clipboard changed meanwhile", source);
		goto drop;
	}
	struct clip_text *data = clip_text_create(buf, len);
	if (data == NULL) {
		tell(clipboard, NOTIFY_REFUSED, rgb, "copy from [%s] failed: out of memory",
			source);
		goto drop;
	}
	clip_text_unref(clipboard->data);
	clipboard->data = data;
	snprintf(clipboard->source, sizeof(clipboard->source), "%s", source);
	clipboard->stored_ms = loop_now_ms();
	clipboard->floor = generation;
	tell(clipboard, NOTIFY_INFO, rgb, "copied %zu bytes from [%s]", len, source);
	return;

drop:
	free(buf);
}

/* ---- the host selection the compositor owns ---- */

static bool set_host_selection(struct clipboard *clipboard, struct clip_text *data)
{
	struct clip_text_source *source =
		clip_text_source_create(&clipboard->writers, data, false, &clipboard->host_source);
	if (source == NULL) {
		return false;
	}
	struct server *server = clipboard->server;
	/* replaces (and destroys) the previous selection source */
	wlr_seat_set_selection(server->seat->wlr_seat, &source->base.data,
		wl_display_next_serial(server->display));
	clipboard->host_source = source;
	return true;
}

/* ---- reading the host selection ---- */

static void host_read_destroy(struct host_read *hr)
{
	if (hr == NULL) {
		return;
	}
	loop_source_remove(&hr->source);
	loop_source_remove(&hr->timer);
	if (hr->fd >= 0) {
		close(hr->fd);
	}
	if (hr->clipboard->host_read == hr) {
		hr->clipboard->host_read = NULL;
	}
	free(hr->buf);
	free(hr);
}

static void host_read_finish(struct host_read *hr)
{
	struct clipboard *clipboard = hr->clipboard;
	uint8_t *buf = hr->buf;
	size_t len = hr->len, max = hr->max;
	uint64_t generation = hr->generation;
	hr->buf = NULL;
	host_read_destroy(hr);
	finish_copy(
		clipboard, CONFIG_CLIPBOARD_HOST, CONFIG_HOST_FRAME_RGB, generation, buf, len, max);
}

static int handle_host_read_fd(int fd, uint32_t mask, void *data)
{
	struct host_read *hr = data;
	int r = clip_text_read(fd, &hr->buf, &hr->len, &hr->cap, hr->max);
	if (r > 0) {
		/* at its end, or full: more would not be kept anyway */
		host_read_finish(hr);
	} else if (r < 0) {
		tell(hr->clipboard, NOTIFY_REFUSED, CONFIG_HOST_FRAME_RGB,
			"copy from [host] failed: %s",
			errno == ENOMEM ? "out of memory" : "cannot read the selection");
		host_read_destroy(hr);
	}
	return 0;
}

static int handle_host_read_timeout(void *data)
{
	struct host_read *hr = data;
	tell(hr->clipboard, NOTIFY_REFUSED, CONFIG_HOST_FRAME_RGB,
		"copy from [host] failed: the application did not hand over its selection");
	host_read_destroy(hr);
	return 0;
}

static void copy_from_host(struct clipboard *clipboard, uint64_t generation)
{
	struct server *server = clipboard->server;
	host_read_destroy(clipboard->host_read);

	struct wlr_data_source *selection = server->seat->wlr_seat->selection_source;
	const char *mime =
		selection != NULL ? clip_text_pick_mime_type(&selection->mime_types) : NULL;
	if (mime == NULL) {
		finish_copy(clipboard, CONFIG_CLIPBOARD_HOST, CONFIG_HOST_FRAME_RGB, generation,
			NULL, 0, 1);
		return;
	}
	struct host_read *hr = calloc(1, sizeof(*hr));
	int fds[2] = { -1, -1 };
	if (hr == NULL || pipe2(fds, O_CLOEXEC) < 0) {
		free(hr);
		tell(clipboard, NOTIFY_REFUSED, CONFIG_HOST_FRAME_RGB,
			"copy from [host] failed: %s", strerror(errno));
		return;
	}
	hr->clipboard = clipboard;
	hr->fd = fds[0];
	hr->generation = generation;
	/* one byte more than allowed: a text that fills it is too large */
	hr->max = (size_t)server->config->clipboard_max_bytes + 1;
	clipboard->host_read = hr;
	if (fcntl(hr->fd, F_SETFL, O_NONBLOCK) < 0) {
		close(fds[1]);
		host_read_destroy(hr);
		return;
	}
	/* the source takes (and closes) the write end */
	wlr_data_source_send(selection, mime, fds[1]);
	hr->source = wl_event_loop_add_fd(
		server->loop, hr->fd, WL_EVENT_READABLE, handle_host_read_fd, hr);
	hr->timer = wl_event_loop_add_timer(server->loop, handle_host_read_timeout, hr);
	if (hr->source == NULL || hr->timer == NULL) {
		host_read_destroy(hr);
		return;
	}
	wl_event_source_timer_update(hr->timer, CLIPBOARD_HOST_READ_TIMEOUT_MS);
}

/* ---- copying from a VM ---- */

static void request_destroy(struct vm_request *request)
{
	if (request == NULL) {
		return;
	}
	loop_source_remove(&request->timer);
	wl_list_remove(&request->disconnect.link);
	wl_list_remove(&request->link);
	free(request->buf);
	free(request);
}

static struct vm_request *find_request(struct clipboard *clipboard, struct vm_link *link)
{
	struct vm_request *request;
	wl_list_for_each(request, &clipboard->requests, link) {
		if (request->vm == link) {
			return request;
		}
	}
	return NULL;
}

static int handle_request_timeout(void *data)
{
	struct vm_request *request = data;
	struct vm_link *link = request->vm;
	if (!request->abandoned) {
		request->abandoned = true;
		free(request->buf);
		request->buf = NULL;
		request->len = request->cap = 0;
		tell(request->clipboard, NOTIFY_REFUSED, vm_link_label(link),
			"copy from [%s] failed: its agent did not answer in time",
			vm_link_name(link));
		wl_event_source_timer_update(
			request->timer, CLIPBOARD_GUEST_DEADLINE_MS - CLIPBOARD_COPY_TIMEOUT_MS);
		return 0;
	}
	/* the disconnect removes the request */
	vm_link_fail(link, VTP_ERR_LIMIT, "CLIPBOARD_REQUEST unanswered for %d s",
		CLIPBOARD_GUEST_DEADLINE_MS / 1000);
	return 0;
}

static void handle_request_disconnect(struct wl_listener *listener, void *data)
{
	struct vm_request *request = wl_container_of(listener, request, disconnect);
	if (!request->abandoned) {
		tell(request->clipboard, NOTIFY_REFUSED, vm_link_label(request->vm),
			"copy from [%s] failed: its agent went away", vm_link_name(request->vm));
	}
	request_destroy(request);
}

static void copy_from_vm(struct clipboard *clipboard, struct vm_link *link, uint64_t generation)
{
	const char *name = vm_link_name(link);
	uint32_t rgb = vm_link_label(link);
	if (!vm_link_connected(link)) {
		tell(clipboard, NOTIFY_REFUSED, rgb,
			"copy from [%s] failed: its agent is not connected", name);
		return;
	}
	struct vm_request *request = calloc(1, sizeof(*request));
	if (request == NULL) {
		return;
	}
	request->clipboard = clipboard;
	request->vm = link;
	request->generation = generation;
	/* one byte more than allowed (up to the protocol's maximum): a text that
	 * fills the request is too large */
	uint64_t max = (uint64_t)clipboard->server->config->clipboard_max_bytes + 1;
	request->max_bytes = max > VTP_MAX_CLIPBOARD ? VTP_MAX_CLIPBOARD : (uint32_t)max;
	request->serial = vm_link_next_serial(link);
	wl_list_insert(&clipboard->requests, &request->link);
	request->disconnect.notify = handle_request_disconnect;
	wl_signal_add(&vm_link_events(link)->disconnect, &request->disconnect);
	request->timer =
		wl_event_loop_add_timer(clipboard->server->loop, handle_request_timeout, request);
	if (request->timer == NULL) {
		request_destroy(request);
		return;
	}
	wl_event_source_timer_update(request->timer, CLIPBOARD_COPY_TIMEOUT_MS);
	struct vtp_clipboard_request body = {
		.serial = request->serial,
		.max_bytes = request->max_bytes,
	};
	if (!vm_link_send(link, VTP_CLIPBOARD_REQUEST, 0, &body, NULL, 0)) {
		request_destroy(request);
		return;
	}
	wlr_log(WLR_INFO, "clipboard: asked [%s] for its selection (at most %u bytes)", name,
		request->max_bytes);
}

static void handle_data(
	struct clipboard *clipboard, struct vm_link *link, const struct vtp_msg *msg)
{
	const struct vtp_clipboard_data *untrusted = &msg->body.clipboard_data;
	struct vm_request *request = clipboard != NULL ? find_request(clipboard, link) : NULL;
	if (request == NULL || request->serial != untrusted->serial) {
		vm_link_fail(link, VTP_ERR_PROTOCOL, "CLIPBOARD_DATA answers no CLIPBOARD_REQUEST");
		return;
	}
	uint32_t n = msg->tail_len;
	if (n > request->max_bytes - request->received) {
		vm_link_fail(link, VTP_ERR_LIMIT,
			"CLIPBOARD_DATA: more than the %u bytes asked for", request->max_bytes);
		return;
	}
	request->received += n;
	if (!request->abandoned && !request->out_of_memory && n > 0) {
		if (clip_text_reserve(
			    &request->buf, &request->cap, request->len + n, request->max_bytes)) {
			memcpy(request->buf + request->len, msg->tail, n);
			request->len += n;
		} else {
			request->out_of_memory = true;
		}
	}
	if (!(untrusted->flags & VTP_CHUNK_LAST)) {
		return;
	}

	const char *name = vm_link_name(link);
	uint32_t rgb = vm_link_label(link);
	if (request->abandoned) {
		wlr_log(WLR_INFO, "clipboard: the late answer of [%s] is dropped", name);
		request_destroy(request);
		return;
	}
	if (request->out_of_memory) {
		tell(clipboard, NOTIFY_REFUSED, rgb, "copy from [%s] failed: out of memory", name);
		request_destroy(request);
		return;
	}
	uint8_t *buf = request->buf;
	size_t len = (untrusted->flags & VTP_CHUNK_EMPTY) ? 0 : request->len;
	size_t max = request->max_bytes;
	uint64_t generation = request->generation;
	request->buf = NULL;
	request_destroy(request);
	finish_copy(clipboard, name, rgb, generation, buf, len, max);
}

/* ---- pasting into a VM ---- */

static void paste_destroy(struct paste *paste)
{
	if (paste == NULL) {
		return;
	}
	wl_list_remove(&paste->disconnect.link);
	wl_list_remove(&paste->drain.link);
	wl_list_remove(&paste->welcome.link);
	loop_source_remove(&paste->restore_timer);
	clip_text_unref(paste->data);
	wl_list_remove(&paste->link);
	free(paste);
}

/* Queue chunks while the VM's output queue is short; the rest when it
 * has drained (the link's flow control, as for file deliveries). */
static void paste_pump(struct paste *paste)
{
	struct vm_link *link = paste->vm;
	const struct clip_text *data = paste->data;
	while (paste->sent < data->len) {
		if (vm_link_backlogged(link)) {
			vm_link_want_drain(link);
			return;
		}
		size_t n = data->len - paste->sent;
		if (n > VTP_MAX_CHUNK) {
			n = VTP_MAX_CHUNK;
		}
		struct vtp_clipboard_data body = {
			.serial = paste->serial,
			.flags = paste->sent + n == data->len ? VTP_CHUNK_LAST : 0,
		};
		if (!vm_link_send(link, VTP_CLIPBOARD_SET, 0, &body, data->bytes + paste->sent,
			    (uint32_t)n)) {
			wlr_log(WLR_INFO, "clipboard: the paste into [%s] was cut off",
				vm_link_name(link));
			paste_destroy(paste);
			return;
		}
		paste->sent += n;
	}
	paste_destroy(paste);
}

static void handle_paste_drain(struct wl_listener *listener, void *data)
{
	struct paste *paste = wl_container_of(listener, paste, drain);
	paste_pump(paste);
}

static void handle_paste_disconnect(struct wl_listener *listener, void *data)
{
	struct paste *paste = wl_container_of(listener, paste, disconnect);
	wlr_log(WLR_INFO, "clipboard: the paste into [%s] was cut off (agent gone)",
		vm_link_name(paste->vm));
	paste_destroy(paste);
}

/* The suspended VM is back: the paste goes in now. */
static void handle_paste_welcome(struct wl_listener *listener, void *data)
{
	struct paste *paste = wl_container_of(listener, paste, welcome);
	wl_list_remove(&paste->welcome.link);
	wl_list_init(&paste->welcome.link);
	loop_source_remove(&paste->restore_timer);
	paste->serial = vm_link_next_serial(paste->vm);
	paste_pump(paste);
}

static int handle_paste_restore_timer(void *data)
{
	struct paste *paste = data;
	tell(paste->clipboard, NOTIFY_REFUSED, vm_link_label(paste->vm),
		"paste into [%s] failed: it was not restored within %d s", vm_link_name(paste->vm),
		PASTE_RESTORE_TIMEOUT_MS / 1000);
	paste_destroy(paste);
	return 0;
}

static bool paste_into_vm(struct clipboard *clipboard, struct vm_link *link)
{
	const char *name = vm_link_name(link);
	uint32_t rgb = vm_link_label(link);
	/* a suspended VM is restored first (vitrailctl suspend) */
	struct vm_manager *manager = clipboard->server->vm_manager;
	bool restoring = false;
	if (!vm_link_connected(link) && manager != NULL && vm_manager_suspended(manager, link)) {
		char *error = NULL;
		restoring = vm_manager_start(manager, link, &error);
		free(error);
	}
	if (!vm_link_connected(link) && !restoring) {
		tell(clipboard, NOTIFY_REFUSED, rgb,
			"paste into [%s] failed: its agent is not connected", name);
		return false;
	}
	struct paste *paste;
	wl_list_for_each(paste, &clipboard->pastes, link) {
		if (paste->vm == link) {
			tell(clipboard, NOTIFY_REFUSED, rgb,
				"paste into [%s] not started: the last one is still "
				"on its way",
				name);
			return false;
		}
	}
	paste = calloc(1, sizeof(*paste));
	if (paste == NULL) {
		return false;
	}
	paste->clipboard = clipboard;
	paste->vm = link;
	paste->data = clip_text_ref(clipboard->data);
	paste->serial = vm_link_next_serial(link);
	wl_list_insert(&clipboard->pastes, &paste->link);
	paste->disconnect.notify = handle_paste_disconnect;
	wl_signal_add(&vm_link_events(link)->disconnect, &paste->disconnect);
	paste->drain.notify = handle_paste_drain;
	wl_signal_add(&vm_link_events(link)->drain, &paste->drain);
	wl_list_init(&paste->welcome.link);
	if (restoring) {
		paste->welcome.notify = handle_paste_welcome;
		wl_signal_add(&vm_link_events(link)->welcome, &paste->welcome);
		paste->restore_timer = wl_event_loop_add_timer(
			clipboard->server->loop, handle_paste_restore_timer, paste);
		if (paste->restore_timer == NULL) {
			paste_destroy(paste);
			return false;
		}
		wl_event_source_timer_update(paste->restore_timer, PASTE_RESTORE_TIMEOUT_MS);
		return true;
	}
	paste_pump(paste);
	return true;
}

/* ---- the bindings ---- */

void clipboard_copy(struct clipboard *clipboard, struct view *view)
{
	if (view == NULL) {
		tell(clipboard, NOTIFY_REFUSED, CONFIG_HOST_FRAME_RGB,
			"nothing copied: no window is focused");
		return;
	}
	if (view->vm != NULL && find_request(clipboard, view->vm) != NULL) {
		tell(clipboard, NOTIFY_REFUSED, vm_link_label(view->vm),
			"copy from [%s] not started: the last one is still pending",
			vm_link_name(view->vm));
		return;
	}
	/* a copy replaces the clipboard even when it fails: the text copied
	 * before is never pasted by mistake */
	forget_text(clipboard);
	uint64_t generation = ++clipboard->generation;
	if (view->vm == NULL) {
		copy_from_host(clipboard, generation);
	} else {
		copy_from_vm(clipboard, view->vm, generation);
	}
}

void clipboard_paste(struct clipboard *clipboard, struct view *view)
{
	if (view == NULL) {
		tell(clipboard, NOTIFY_REFUSED, CONFIG_HOST_FRAME_RGB,
			"nothing pasted: no window is focused");
		return;
	}
	const char *target = view->vm != NULL ? vm_link_name(view->vm) : CONFIG_CLIPBOARD_HOST;
	uint32_t rgb = view->vm != NULL ? vm_link_label(view->vm) : CONFIG_HOST_FRAME_RGB;
	if (clipboard->data == NULL) {
		tell(clipboard, NOTIFY_REFUSED, rgb,
			"nothing pasted into [%s]: the clipboard is empty", target);
		return;
	}
	char source[sizeof(clipboard->source)];
	snprintf(source, sizeof(source), "%s", clipboard->source);
	size_t len = clipboard->data->len;
	if (!config_clipboard_allowed(clipboard->server->config, source, target)) {
		tell(clipboard, NOTIFY_REFUSED, rgb,
			"paste from [%s] into [%s] refused by the clipboard policy", source,
			target);
		return;
	}
	bool ok;
	if (view->vm != NULL) {
		ok = paste_into_vm(clipboard, view->vm);
	} else {
		ok = set_host_selection(clipboard, clipboard->data);
		if (!ok) {
			tell(clipboard, NOTIFY_REFUSED, rgb,
				"paste into [host] failed: out of memory");
		}
	}
	if (!ok) {
		return;
	}
	forget_text(clipboard);
	tell(clipboard, NOTIFY_INFO, rgb, "pasted %zu bytes from [%s] into [%s]", len, source,
		target);
}

/* ---- the rest ---- */

bool clipboard_status(
	struct clipboard *clipboard, const char **source, size_t *bytes, uint64_t *age_seconds)
{
	if (clipboard == NULL || clipboard->data == NULL) {
		return false;
	}
	*source = clipboard->source;
	*bytes = clipboard->data->len;
	int64_t age = loop_now_ms() - clipboard->stored_ms;
	*age_seconds = age > 0 ? (uint64_t)age / 1000 : 0;
	return true;
}

void clipboard_clear(struct clipboard *clipboard)
{
	if (clipboard == NULL) {
		return;
	}
	if (clipboard->data != NULL) {
		wlr_log(WLR_INFO, "clipboard: %zu bytes from [%s] cleared", clipboard->data->len,
			clipboard->source);
	}
	forget_text(clipboard);
}

static void handle_seat_action(struct wl_listener *listener, void *data)
{
	struct clipboard *clipboard = wl_container_of(listener, clipboard, seat_action);
	struct seat_action_event *event = data;
	if (event->action == ACTION_CLIPBOARD_COPY) {
		clipboard_copy(clipboard, event->view);
	} else if (event->action == ACTION_CLIPBOARD_PASTE) {
		clipboard_paste(clipboard, event->view);
	}
}

struct clipboard *clipboard_create(struct server *server)
{
	struct clipboard *clipboard = calloc(1, sizeof(*clipboard));
	if (clipboard == NULL) {
		return NULL;
	}
	clipboard->server = server;
	wl_list_init(&clipboard->requests);
	wl_list_init(&clipboard->pastes);
	clip_text_writers_init(
		&clipboard->writers, server->loop, CLIPBOARD_MAX_WRITERS, WRITER_TIMEOUT_MS);
	clipboard->seat_action.notify = handle_seat_action;
	wl_signal_add(&server->seat->events.action, &clipboard->seat_action);
	return clipboard;
}

void clipboard_destroy(struct clipboard *clipboard)
{
	if (clipboard == NULL) {
		return;
	}
	wl_list_remove(&clipboard->seat_action.link);
	struct vm_request *request, *rtmp;
	wl_list_for_each_safe(request, rtmp, &clipboard->requests, link) {
		request_destroy(request);
	}
	struct paste *paste, *ptmp;
	wl_list_for_each_safe(paste, ptmp, &clipboard->pastes, link) {
		paste_destroy(paste);
	}
	host_read_destroy(clipboard->host_read);
	clip_text_writers_finish(&clipboard->writers);
	/* it stays the host selection until the seat goes */
	clip_text_source_orphan(clipboard->host_source);
	clip_text_unref(clipboard->data);
	free(clipboard);
}

bool clipboard_handle_data(
	struct clipboard *clipboard, struct vm_link *link, const struct vtp_msg *msg)
{
	handle_data(clipboard, link, msg);
	return vm_link_connected(link);
}
