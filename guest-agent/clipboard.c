#define _GNU_SOURCE /* pipe2 */
#include "clipboard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
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
#include "link.h"
#include "server.h"

#define SEND_RETRY_MS 10

struct agent_clipboard {
	struct agent_server *server;

	/* answering a CLIPBOARD_REQUEST: read, then send */
	bool answering;
	uint32_t serial;
	uint32_t max_bytes;
	int fd; /* read end of the pipe while reading, else -1 */
	struct wl_event_source *read_source;
	struct wl_event_source *timer; /* read timeout, then send retries */
	uint8_t *buf;
	size_t len, cap, sent;
	bool chunk_sent; /* a chunk of this answer went out */

	/* receiving a CLIPBOARD_SET */
	bool receiving;
	uint32_t set_serial;
	uint8_t *set_buf;
	size_t set_len, set_cap;

	struct clip_text_writers writers; /* apps reading a paste */
	struct clip_text_source *source; /* ours, while it is the selection */
	struct clip_text_source *primary; /* ours, while it is the primary one */
};

/* ---- answering the host ---- */

static void stop_reading(struct agent_clipboard *clipboard)
{
	loop_source_remove(&clipboard->read_source);
	if (clipboard->fd >= 0) {
		close(clipboard->fd);
		clipboard->fd = -1;
	}
}

static void end_answer(struct agent_clipboard *clipboard)
{
	stop_reading(clipboard);
	wl_event_source_timer_update(clipboard->timer, 0);
	free(clipboard->buf);
	clipboard->buf = NULL;
	clipboard->len = clipboard->cap = clipboard->sent = 0;
	clipboard->chunk_sent = false;
	clipboard->answering = false;
}

/* Close the answer now: nothing selected (or what was sent is all). */
static void answer_empty(struct agent_clipboard *clipboard)
{
	struct vtp_clipboard_data body = {
		.serial = clipboard->serial,
		/* after a chunk only an empty last chunk may follow */
		.flags = VTP_CHUNK_LAST | (clipboard->chunk_sent ? 0 : VTP_CHUNK_EMPTY),
	};
	agent_link_send(clipboard->server->link, VTP_CLIPBOARD_DATA, 0, &body, NULL, 0);
	end_answer(clipboard);
}

/* Queue chunks while the host connection keeps up; the rest later. */
static void send_answer(struct agent_clipboard *clipboard)
{
	struct agent_link *link = clipboard->server->link;
	if (clipboard->len == 0) {
		answer_empty(clipboard);
		return;
	}
	while (clipboard->sent < clipboard->len) {
		if (!agent_link_ready(link)) {
			end_answer(clipboard);
			return;
		}
		if (link->out.len >= AGENT_CLIPBOARD_SEND_WINDOW) {
			wl_event_source_timer_update(clipboard->timer, SEND_RETRY_MS);
			return;
		}
		size_t n = clipboard->len - clipboard->sent;
		if (n > VTP_MAX_CHUNK) {
			n = VTP_MAX_CHUNK;
		}
		struct vtp_clipboard_data body = {
			.serial = clipboard->serial,
			.flags = clipboard->sent + n == clipboard->len ? VTP_CHUNK_LAST : 0,
		};
		agent_link_send(link, VTP_CLIPBOARD_DATA, 0, &body,
			clipboard->buf + clipboard->sent, (uint32_t)n);
		clipboard->sent += n;
		clipboard->chunk_sent = true;
	}
	wlr_log(WLR_INFO, "clipboard: %zu bytes of the selection sent to the host", clipboard->len);
	end_answer(clipboard);
}

static void finish_reading(struct agent_clipboard *clipboard)
{
	stop_reading(clipboard);
	wl_event_source_timer_update(clipboard->timer, 0);
	send_answer(clipboard);
}

static int handle_read(int fd, uint32_t mask, void *data)
{
	struct agent_clipboard *clipboard = data;
	/* at most all the host takes: the rest stays here */
	int r = clip_text_read(
		fd, &clipboard->buf, &clipboard->len, &clipboard->cap, clipboard->max_bytes);
	if (r > 0) {
		finish_reading(clipboard);
	} else if (r < 0 && errno == ENOMEM) {
		wlr_log(WLR_ERROR, "clipboard: out of memory reading the selection");
		answer_empty(clipboard);
	} else if (r < 0) {
		wlr_log(WLR_ERROR, "clipboard: cannot read the selection: %s", strerror(errno));
		answer_empty(clipboard);
	}
	return 0;
}

static int handle_timer(void *data)
{
	struct agent_clipboard *clipboard = data;
	if (!clipboard->answering) {
		return 0;
	}
	if (clipboard->fd >= 0) {
		wlr_log(WLR_INFO,
			"clipboard: the selection owner did not hand over its text "
			"within %d ms",
			AGENT_CLIPBOARD_READ_TIMEOUT_MS);
		answer_empty(clipboard);
		return 0;
	}
	send_answer(clipboard);
	return 0;
}

void agent_clipboard_handle_request(struct agent_clipboard *clipboard, const struct vtp_msg *msg)
{
	if (clipboard->answering) {
		/* the host moved on: close the old answer first */
		answer_empty(clipboard);
	}
	clipboard->answering = true;
	clipboard->serial = msg->body.clipboard_request.serial;
	clipboard->max_bytes = msg->body.clipboard_request.max_bytes;

	/* the clipboard selection, else the primary one (text selected with
	 * the mouse in a terminal, say) */
	struct wlr_data_source *selection = clipboard->server->seat->selection_source;
	struct wlr_primary_selection_source *primary =
		clipboard->server->seat->primary_selection_source;
	const char *mime =
		selection != NULL ? clip_text_pick_mime_type(&selection->mime_types) : NULL;
	const char *primary_mime = mime == NULL && primary != NULL
		? clip_text_pick_mime_type(&primary->mime_types)
		: NULL;
	if (mime == NULL && primary_mime == NULL) {
		wlr_log(WLR_INFO, "clipboard: the host asked for the selection: no text selected");
		answer_empty(clipboard);
		return;
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		wlr_log(WLR_ERROR, "clipboard: pipe: %s", strerror(errno));
		answer_empty(clipboard);
		return;
	}
	clipboard->fd = fds[0];
	if (fcntl(clipboard->fd, F_SETFL, O_NONBLOCK) < 0) {
		close(fds[1]);
		answer_empty(clipboard);
		return;
	}
	/* the owner gets (and the source closes) the write end */
	if (mime != NULL) {
		wlr_data_source_send(selection, mime, fds[1]);
	} else {
		mime = primary_mime;
		wlr_primary_selection_source_send(primary, mime, fds[1]);
	}
	clipboard->read_source = wl_event_loop_add_fd(
		clipboard->server->loop, clipboard->fd, WL_EVENT_READABLE, handle_read, clipboard);
	if (clipboard->read_source == NULL) {
		answer_empty(clipboard);
		return;
	}
	wl_event_source_timer_update(clipboard->timer, AGENT_CLIPBOARD_READ_TIMEOUT_MS);
	wlr_log(WLR_INFO, "clipboard: the host asked for the selection (as %s, at most %u bytes)",
		mime, clipboard->max_bytes);
}

/* ---- pasted texts ---- */

/* Make bytes (taken) the selection of the guest's seat. */
static void set_selection(struct agent_clipboard *clipboard, uint8_t *bytes, size_t len)
{
	struct agent_server *server = clipboard->server;
	struct clip_text *data = clip_text_create(bytes, len);
	if (data == NULL) {
		free(bytes);
		wlr_log(WLR_ERROR, "clipboard: out of memory for the pasted text");
		return;
	}
	struct clip_text_source *source =
		clip_text_source_create(&clipboard->writers, data, false, &clipboard->source);
	clip_text_unref(data); /* the source holds it */
	if (source == NULL) {
		wlr_log(WLR_ERROR, "clipboard: out of memory for the pasted text");
		return;
	}
	/* replaces (and destroys) the previous selection */
	wlr_seat_set_selection(
		server->seat, &source->base.data, wl_display_next_serial(server->display));
	clipboard->source = source;
	/* and the primary selection, so middle-click and Shift+Insert paste
	 * it too */
	struct clip_text_source *primary =
		clip_text_source_create(&clipboard->writers, data, true, &clipboard->primary);
	if (primary != NULL) {
		wlr_seat_set_primary_selection(server->seat, &primary->base.primary,
			wl_display_next_serial(server->display));
		clipboard->primary = primary;
	}
	wlr_log(WLR_INFO, "clipboard: the host pasted %zu bytes: now the selection", len);
}

static void drop_set(struct agent_clipboard *clipboard)
{
	free(clipboard->set_buf);
	clipboard->set_buf = NULL;
	clipboard->set_len = clipboard->set_cap = 0;
	clipboard->receiving = false;
}

void agent_clipboard_handle_set(struct agent_clipboard *clipboard, const struct vtp_msg *msg)
{
	const struct vtp_clipboard_data *body = &msg->body.clipboard_data;
	if (!clipboard->receiving || clipboard->set_serial != body->serial) {
		if (clipboard->receiving) {
			wlr_log(WLR_INFO, "clipboard: an unfinished paste was replaced");
		}
		drop_set(clipboard);
		clipboard->receiving = true;
		clipboard->set_serial = body->serial;
	}
	if (msg->tail_len > VTP_MAX_CLIPBOARD - clipboard->set_len) {
		drop_set(clipboard);
		agent_link_fail(
			clipboard->server->link, "CLIPBOARD_SET larger than VTP_MAX_CLIPBOARD");
		return;
	}
	if (msg->tail_len > 0) {
		if (!clip_text_reserve(&clipboard->set_buf, &clipboard->set_cap,
			    clipboard->set_len + msg->tail_len, VTP_MAX_CLIPBOARD)) {
			wlr_log(WLR_ERROR, "clipboard: out of memory for the pasted text");
			drop_set(clipboard);
			return;
		}
		memcpy(clipboard->set_buf + clipboard->set_len, msg->tail, msg->tail_len);
		clipboard->set_len += msg->tail_len;
	}
	if (!(body->flags & VTP_CHUNK_LAST)) {
		return;
	}
	if ((body->flags & VTP_CHUNK_EMPTY) || clipboard->set_len == 0) {
		drop_set(clipboard);
		wlr_seat_set_selection(clipboard->server->seat, NULL,
			wl_display_next_serial(clipboard->server->display));
		if (clipboard->primary != NULL) {
			wlr_seat_set_primary_selection(clipboard->server->seat, NULL,
				wl_display_next_serial(clipboard->server->display));
		}
		wlr_log(WLR_INFO, "clipboard: the host cleared the selection");
		return;
	}
	uint8_t *bytes = clipboard->set_buf;
	size_t len = clipboard->set_len;
	clipboard->set_buf = NULL;
	drop_set(clipboard);
	set_selection(clipboard, bytes, len);
}

void agent_clipboard_link_lost(struct agent_clipboard *clipboard)
{
	end_answer(clipboard);
	drop_set(clipboard);
}

/* ---- lifetime ---- */

struct agent_clipboard *agent_clipboard_create(struct agent_server *server)
{
	struct agent_clipboard *clipboard = calloc(1, sizeof(*clipboard));
	if (clipboard == NULL) {
		return NULL;
	}
	clipboard->server = server;
	clipboard->fd = -1;
	clip_text_writers_init(&clipboard->writers, server->loop, AGENT_CLIPBOARD_MAX_WRITERS,
		AGENT_CLIPBOARD_WRITE_TIMEOUT_MS);
	clipboard->timer = wl_event_loop_add_timer(server->loop, handle_timer, clipboard);
	if (clipboard->timer == NULL) {
		free(clipboard);
		return NULL;
	}
	return clipboard;
}

void agent_clipboard_destroy(struct agent_clipboard *clipboard)
{
	if (clipboard == NULL) {
		return;
	}
	end_answer(clipboard);
	drop_set(clipboard);
	wl_event_source_remove(clipboard->timer);
	clip_text_writers_finish(&clipboard->writers);
	/* it stays the selection until the seat goes */
	clip_text_source_orphan(clipboard->source);
	clip_text_source_orphan(clipboard->primary);
	free(clipboard);
}
