#define _GNU_SOURCE /* accept4 */
#include "outgoing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/util/log.h>
#include <vitrail/common/loop.h>

#include "link.h"
#include "server.h"

enum client_state {
	CLIENT_NEW, /* nothing received yet */
	CLIENT_FILE, /* BEGIN forwarded, chunks flowing */
	CLIENT_SENT, /* the whole request is with the host: wait for OPEN_RESULT */
	CLIENT_REPLYING, /* writing the result, then close */
};

struct outgoing_client {
	struct wl_list link; /* outgoing.clients */
	struct outgoing *out;
	int fd;
	struct wl_event_source *source;
	struct wl_event_source *timer;
	struct vtp_stream in;
	struct vtp_decoder dec;
	enum client_state state;
	uint32_t client_request; /* the id the client chose */
	uint32_t id; /* ours, towards the host */
	uint64_t size, received;
	uint8_t reply[12 + sizeof(struct vtp_result) + VTP_MAX_ERROR_TEXT];
	size_t reply_len, reply_done;
};

struct outgoing {
	struct agent_server *server;
	char *path;
	int listen_fd;
	struct wl_event_source *listen_source;
	struct wl_list clients;
	size_t n_clients;
	uint32_t next_id;
	bool paused; /* the host link is full: read no client */
};

static void client_destroy(struct outgoing_client *c)
{
	if (c == NULL) {
		return;
	}
	loop_source_remove(&c->source);
	loop_source_remove(&c->timer);
	close(c->fd);
	vtp_stream_finish(&c->in);
	wl_list_remove(&c->link);
	c->out->n_clients--;
	free(c);
}

static void set_mask(struct outgoing_client *c)
{
	uint32_t mask = 0;
	if (c->state == CLIENT_REPLYING) {
		mask = WL_EVENT_WRITABLE;
	} else if (!c->out->paused || c->state == CLIENT_SENT) {
		mask = WL_EVENT_READABLE;
	}
	wl_event_source_fd_update(c->source, mask);
}

static bool write_reply(struct outgoing_client *c)
{
	while (c->reply_done < c->reply_len) {
		ssize_t n = send(c->fd, c->reply + c->reply_done, c->reply_len - c->reply_done,
			MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return true; /* later, when writable */
		}
		if (n <= 0) {
			break;
		}
		c->reply_done += (size_t)n;
	}
	client_destroy(c);
	return false;
}

/* Answer the client and close. The text must be a display string. */
static void reply(struct outgoing_client *c, uint32_t code, const char *text, size_t len)
{
	struct vtp_result r = { .request_id = c->client_request, .code = code };
	if (len > VTP_MAX_ERROR_TEXT) {
		len = VTP_MAX_ERROR_TEXT;
	}
	c->reply_len = vtp_msg_encode(
		c->reply, sizeof(c->reply), VTP_OPEN_RESULT, 0, &r, text, (uint32_t)len);
	c->reply_done = 0;
	c->state = CLIENT_REPLYING;
	if (c->timer != NULL) {
		wl_event_source_timer_update(c->timer, OUTGOING_IDLE_TIMEOUT_MS);
	}
	if (c->reply_len == 0) {
		client_destroy(c);
		return;
	}
	if (write_reply(c)) {
		set_mask(c);
	}
}

static void reply_text(struct outgoing_client *c, uint32_t code, const char *text)
{
	reply(c, code, text, strlen(text));
}

/* The host must forget a transfer we began: an END before all the bytes
 * cancels it. */
static void cancel_upstream(struct outgoing_client *c)
{
	if (c->state != CLIENT_FILE) {
		return;
	}
	struct vtp_file_end end = { .request_id = c->id };
	agent_link_send(c->out->server->link, VTP_OPEN_FILE_END, 0, &end, NULL, 0);
	c->state = CLIENT_SENT;
}

static void client_fail(struct outgoing_client *c, const char *why)
{
	wlr_log(WLR_INFO, "vitrail-open request %u: %s", c->id, why);
	cancel_upstream(c);
	reply_text(c, VTP_RESULT_FAILED, why);
}

/* After a forward: stop reading every client while the host link is full. */
static void check_pressure(struct outgoing *out)
{
	struct agent_link *link = out->server->link;
	if (out->paused || link_queued(link) <= LINK_QUEUE_HIGH) {
		return;
	}
	out->paused = true;
	agent_link_want_drain(link);
	struct outgoing_client *c;
	wl_list_for_each(c, &out->clients, link) {
		set_mask(c);
	}
}

/* One message from the client. false: the client is gone. */
static bool handle_client_message(struct outgoing_client *c, const struct vtp_msg *msg)
{
	struct agent_link *link = c->out->server->link;
	uint16_t type = msg->header.type;
	if (c->state == CLIENT_NEW && (type == VTP_OPEN_URL || type == VTP_OPEN_FILE_BEGIN)) {
		if (!agent_link_ready(link)) {
			reply_text(c, VTP_RESULT_FAILED,
				"the vitrail agent is not connected to the host");
			return false;
		}
		c->id = c->out->next_id++;
		if (type == VTP_OPEN_URL) {
			c->client_request = msg->body.open_url.request_id;
			struct vtp_open_url u = { .request_id = c->id };
			agent_link_send(link, VTP_OPEN_URL, 0, &u, msg->tail, msg->tail_len);
			c->state = CLIENT_SENT;
		} else {
			struct vtp_file_begin b = msg->body.file_begin;
			c->client_request = b.request_id;
			c->size = b.size;
			b.request_id = c->id;
			agent_link_send(link, VTP_OPEN_FILE_BEGIN, 0, &b, msg->tail, msg->tail_len);
			c->state = CLIENT_FILE;
			wlr_log(WLR_INFO, "vitrail-open request %u: a file of %llu bytes", c->id,
				(unsigned long long)c->size);
		}
		return true;
	}
	if (c->state == CLIENT_FILE && type == VTP_OPEN_FILE_CHUNK) {
		if (msg->body.file_chunk.request_id != c->client_request ||
			msg->tail_len > c->size - c->received) {
			client_fail(c, "more data than the announced size");
			return false;
		}
		c->received += msg->tail_len;
		struct vtp_file_chunk ch = { .request_id = c->id };
		agent_link_send(link, VTP_OPEN_FILE_CHUNK, 0, &ch, msg->tail, msg->tail_len);
		return true;
	}
	if (c->state == CLIENT_FILE && type == VTP_OPEN_FILE_END) {
		if (msg->body.file_end.request_id != c->client_request || c->received != c->size) {
			client_fail(c, "the file ended before its announced size");
			return false;
		}
		struct vtp_file_end e = msg->body.file_end;
		e.request_id = c->id;
		agent_link_send(link, VTP_OPEN_FILE_END, 0, &e, NULL, 0);
		c->state = CLIENT_SENT;
		return true;
	}
	client_fail(c, "unexpected message from the client");
	return false;
}

/* Handle what the client sent, as far as the link lets us. false: gone. */
static bool process(struct outgoing_client *c)
{
	while (!c->out->paused && (c->state == CLIENT_NEW || c->state == CLIENT_FILE)) {
		struct vtp_msg msg;
		bool have = false;
		enum vtp_status st = vtp_stream_next(&c->in, &c->dec, &msg, &have);
		if (st != VTP_OK) {
			char why[96];
			snprintf(why, sizeof(why), "bad request: %s", vtp_status_str(st));
			client_fail(c, why);
			return false;
		}
		if (!have) {
			break;
		}
		bool alive = handle_client_message(c, &msg);
		vtp_msg_finish(&msg);
		if (!alive) {
			return false;
		}
		check_pressure(c->out);
	}
	return true;
}

static int handle_client(int fd, uint32_t mask, void *data)
{
	struct outgoing_client *c = data;
	if (c->state == CLIENT_REPLYING) {
		if (mask & WL_EVENT_WRITABLE) {
			write_reply(c);
		} else if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
			client_destroy(c);
		}
		return 0;
	}
	bool eof = false;
	enum vtp_status st = VTP_OK;
	if (c->state == CLIENT_SENT) {
		/* nothing more is expected: anything but EOF is an error */
		uint8_t byte;
		ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			/* gone before the answer: forget it */
			client_destroy(c);
		} else if (n > 0) {
			client_fail(c, "data after the end of the request");
		}
		return 0;
	}
	st = vtp_stream_read(&c->in, fd, false, &eof);
	if (c->timer != NULL) {
		wl_event_source_timer_update(c->timer, OUTGOING_IDLE_TIMEOUT_MS);
	}
	if (!process(c)) {
		return 0;
	}
	if (st != VTP_OK) {
		if (c->state == CLIENT_FILE) {
			cancel_upstream(c);
		}
		if (eof || st == VTP_E_IO) {
			client_destroy(c);
		} else {
			client_fail(c, vtp_status_str(st));
		}
		return 0;
	}
	if (c->state == CLIENT_SENT && c->timer != NULL) {
		/* the host may wait for the user: no idle limit from here */
		wl_event_source_timer_update(c->timer, 0);
	}
	set_mask(c);
	return 0;
}

static int handle_client_timeout(void *data)
{
	struct outgoing_client *c = data;
	if (c->state == CLIENT_REPLYING) {
		client_destroy(c);
	} else {
		client_fail(c, "the request stalled");
	}
	return 0;
}

static int handle_listen(int fd, uint32_t mask, void *data)
{
	struct outgoing *out = data;
	int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (conn < 0) {
		return 0;
	}
	if (out->n_clients >= OUTGOING_MAX_CLIENTS) {
		wlr_log(WLR_INFO, "vitrail-open: too many requests at once; refusing one");
		close(conn);
		return 0;
	}
	struct outgoing_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(conn);
		return 0;
	}
	bool stream_ok = vtp_stream_init(&c->in); /* sets pending_fd to -1 first */
	c->out = out;
	c->fd = conn;
	c->dec = (struct vtp_decoder){ .side = VTP_SIDE_HOST, .pool_size = 0 };
	wl_list_insert(&out->clients, &c->link);
	out->n_clients++;
	struct wl_event_loop *loop = out->server->loop;
	if (!stream_ok) {
		client_destroy(c);
		return 0;
	}
	c->source = wl_event_loop_add_fd(loop, conn, 0, handle_client, c);
	c->timer = wl_event_loop_add_timer(loop, handle_client_timeout, c);
	if (c->source == NULL || c->timer == NULL) {
		client_destroy(c);
		return 0;
	}
	wl_event_source_timer_update(c->timer, OUTGOING_IDLE_TIMEOUT_MS);
	set_mask(c);
	return 0;
}

static void handle_drained(void *data)
{
	struct outgoing *out = data;
	out->paused = false;
	struct outgoing_client *c, *tmp;
	wl_list_for_each_safe(c, tmp, &out->clients, link) {
		if (process(c)) {
			set_mask(c);
		}
	}
	/* the processing may have filled the link again: then out->paused
	 * is set and a new drain is wanted */
}

void agent_outgoing_handle_result(struct outgoing *out, const struct vtp_msg *msg)
{
	if (out == NULL) {
		return;
	}
	uint32_t id = msg->body.result.request_id;
	struct outgoing_client *c;
	wl_list_for_each(c, &out->clients, link) {
		if (c->state != CLIENT_REPLYING && c->state != CLIENT_NEW && c->id == id) {
			/* an answer before the END is a refusal: the host ignores
			 * the rest, so we stop reading it */
			reply(c, msg->body.result.code, (const char *)msg->tail, msg->tail_len);
			return;
		}
	}
	wlr_log(WLR_DEBUG, "OPEN_RESULT for request %u, which nobody waits for", id);
}

void agent_outgoing_link_lost(struct outgoing *out)
{
	if (out == NULL) {
		return;
	}
	out->paused = false;
	struct outgoing_client *c, *tmp;
	wl_list_for_each_safe(c, tmp, &out->clients, link) {
		if (c->state == CLIENT_FILE || c->state == CLIENT_SENT) {
			c->state = CLIENT_SENT; /* nothing to cancel upstream any more */
			reply_text(c, VTP_RESULT_FAILED,
				"the connection to the vitrail host was lost");
		}
	}
}

/* Is somebody (another agent) serving path already? */
static bool in_use(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return false;
	}
	bool used = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	close(fd);
	return used;
}

struct outgoing *agent_outgoing_create(struct agent_server *server)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct outgoing *out = calloc(1, sizeof(*out));
	if (out == NULL) {
		return NULL;
	}
	out->server = server;
	out->listen_fd = -1;
	out->next_id = 1;
	wl_list_init(&out->clients);

	/* one per agent, even when several share a runtime dir (local VMs) */
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (runtime != NULL && runtime[0] == '/') {
		size_t len = strlen(runtime) + strlen(server->socket) + 32;
		out->path = malloc(len);
		if (out->path != NULL) {
			snprintf(out->path, len, "%s/" OUTGOING_SOCKET_PREFIX "%s.sock", runtime,
				server->socket);
		}
	} else {
		wlr_log(WLR_INFO, "no XDG_RUNTIME_DIR: vitrail-open is not served");
		goto error;
	}
	if (out->path == NULL || strlen(out->path) >= sizeof(addr.sun_path)) {
		wlr_log(WLR_ERROR, "vitrail-open socket path missing or too long");
		goto error;
	}
	if (in_use(out->path)) {
		wlr_log(WLR_ERROR, "%s is served by another agent: vitrail-open is not served here",
			out->path);
		goto error;
	}
	strcpy(addr.sun_path, out->path);
	out->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (out->listen_fd < 0) {
		goto error;
	}
	unlink(out->path);
	/* the socket is created 0600 from the start: no window for others */
	mode_t old = umask(0177);
	int r = bind(out->listen_fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (r < 0 || listen(out->listen_fd, 8) < 0) {
		wlr_log_errno(WLR_ERROR, "cannot listen on %s", out->path);
		goto error;
	}
	out->listen_source = wl_event_loop_add_fd(
		server->loop, out->listen_fd, WL_EVENT_READABLE, handle_listen, out);
	if (out->listen_source == NULL) {
		goto error;
	}
	server->link->drained = handle_drained;
	server->link->drained_data = out;
	setenv("VITRAIL_OPEN_SOCK", out->path, true);
	wlr_log(WLR_INFO, "vitrail-open requests on %s", out->path);
	return out;

error:
	if (out->listen_fd >= 0) {
		close(out->listen_fd);
	}
	free(out->path);
	free(out);
	return NULL;
}

void agent_outgoing_destroy(struct outgoing *out)
{
	if (out == NULL) {
		return;
	}
	struct outgoing_client *c, *tmp;
	wl_list_for_each_safe(c, tmp, &out->clients, link) {
		client_destroy(c);
	}
	if (out->server->link != NULL && out->server->link->drained_data == out) {
		out->server->link->drained = NULL;
		out->server->link->drained_data = NULL;
	}
	loop_source_remove(&out->listen_source);
	if (out->listen_fd >= 0) {
		close(out->listen_fd);
		unlink(out->path);
	}
	free(out->path);
	free(out);
}
