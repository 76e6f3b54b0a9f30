#define _GNU_SOURCE /* accept4 */
#include "guest/vm_link.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <wlr/util/log.h>
#include <vitrail/common/loop.h>

struct vm_link {
	struct wl_event_loop *loop;
	const struct vm_link_handler *handler;
	void *data;
	const struct config_vm *config;
	uint32_t label_rgb;
	char name[VTP_MAX_NAME + 1];
	char *socket_path;
	bool pci_pool; /* QEMU: the agent maps its ivshmem BAR, no fd on WELCOME */

	int listen_fd;
	struct wl_event_source *listen_source;

	/* the pool: mapped read-only for the lifetime of the link */
	int pool_fd;
	const uint8_t *pool;
	uint64_t pool_size;

	/* the current agent, fd -1 when none */
	int fd;
	struct wl_event_source *source;
	struct wl_event_source *hello_timer;
	struct wl_event_source *stall_timer; /* armed while bytes wait for the agent */
	bool stall_armed;
	/* liveness: the host's own PING every VM_LINK_PING_INTERVAL_MS, one at
	 * a time; no PONG within VM_LINK_PING_TIMEOUT_MS marks it unresponsive */
	bool frozen; /* vm_link_set_frozen: no liveness or stall judgment */
	struct wl_event_source *ping_timer;
	uint32_t ping_serial; /* of the PING in flight */
	bool ping_outstanding;
	bool unresponsive;
	int hello_timeout_ms;
	struct wl_event_source *fail_idle;
	struct wl_event_source *flush_idle;
	struct vtp_stream stream;
	struct vtp_outq outq;
	struct vtp_decoder decoder;
	bool welcomed; /* HELLO received, WELCOME sent */
	bool hold; /* vm_link_hold: hold the next connection after WELCOME */
	bool held; /* welcomed, not connected until vm_link_release */
	bool failed; /* a disconnect is scheduled; send nothing more */
	char fail_reason[VTP_MAX_ERROR_TEXT];
	uint32_t fail_code;
	uint32_t serial;

	/* flow control of bulk transfers (open, clipboard) */
	bool read_paused; /* vm_link_set_read_paused: the agent is not read */
	bool drain_wanted; /* vm_link_want_drain: emit events.drain */
	struct wl_event_source *resume_idle;

	/* fairness: at most VM_LINK_MAX_MSGS_PER_DISPATCH messages per wakeup;
	 * the rest waits (socket not read) until kick_source (an always
	 * readable eventfd, enabled only while throttled) comes round */
	bool throttled;
	int kick_fd;
	struct wl_event_source *kick_source;

	struct vm_link_events events;
};

static void disconnect(struct vm_link *link, const char *reason);

struct vm_link_events *vm_link_events(struct vm_link *link)
{
	return &link->events;
}

const struct config_vm *vm_link_config(const struct vm_link *link)
{
	return link->config;
}

const char *vm_link_socket_path(const struct vm_link *link)
{
	return link->socket_path;
}

bool vm_link_backlogged(const struct vm_link *link)
{
	return link->outq.len > VM_LINK_QUEUE_HIGH;
}

uint32_t vm_link_version(const struct vm_link *link)
{
	return link->decoder.version;
}

const char *vm_link_name(const struct vm_link *link)
{
	return link->name;
}

bool vm_link_has_connection(const struct vm_link *link)
{
	return link->fd >= 0;
}

bool vm_link_connected(const struct vm_link *link)
{
	return link->fd >= 0 && link->welcomed && !link->failed && !link->held;
}

bool vm_link_responding(const struct vm_link *link)
{
	return vm_link_connected(link) && !link->unresponsive;
}

uint32_t vm_link_label(const struct vm_link *link)
{
	return link->label_rgb;
}

uint32_t vm_link_next_serial(struct vm_link *link)
{
	link->serial++;
	if (link->serial == 0) {
		link->serial = 1;
	}
	return link->serial;
}

const uint8_t *vm_link_pool_data(const struct vm_link *link, uint64_t offset)
{
	if (link->pool == NULL || offset >= link->pool_size) {
		return NULL;
	}
	return link->pool + offset;
}

/* ---- sending ---- */

static void update_mask(struct vm_link *link)
{
	if (link->source == NULL) {
		return;
	}
	uint32_t mask = link->read_paused || link->throttled ? 0 : WL_EVENT_READABLE;
	if (!vtp_outq_empty(&link->outq)) {
		mask |= WL_EVENT_WRITABLE;
	}
	wl_event_source_fd_update(link->source, mask);
}

/* An agent that leaves what is queued for it unread for
 * VM_LINK_STALL_TIMEOUT_MS is dropped: a host feature waiting on its queue
 * (a file delivery, a paste) must not wait for it forever, nor keep the
 * VM that sends the file waiting with it. Any progress re-arms the timer. */
static void watch_stall(struct vm_link *link, bool progress)
{
	if (link->stall_timer == NULL || link->frozen) {
		return;
	}
	if (vtp_outq_empty(&link->outq)) {
		if (link->stall_armed) {
			wl_event_source_timer_update(link->stall_timer, 0);
			link->stall_armed = false;
		}
	} else if (progress || !link->stall_armed) {
		wl_event_source_timer_update(link->stall_timer, VM_LINK_STALL_TIMEOUT_MS);
		link->stall_armed = true;
	}
}

static int handle_stall_timeout(void *data)
{
	struct vm_link *link = data;
	link->stall_armed = false;
	if (!vtp_outq_empty(&link->outq)) {
		vm_link_fail(link, VTP_ERR_LIMIT,
			"the agent read nothing of %zu queued bytes in %d s", link->outq.len,
			VM_LINK_STALL_TIMEOUT_MS / 1000);
	}
	return 0;
}

static bool flush(struct vm_link *link)
{
	if (link->fd < 0) {
		return false;
	}
	size_t before = link->outq.len;
	if (vtp_outq_flush(&link->outq, link->fd) != VTP_OK) {
		vm_link_fail(link, 0, "write error: %s", strerror(errno));
		return false;
	}
	watch_stall(link, link->outq.len < before);
	update_mask(link);
	if (link->drain_wanted && link->outq.len <= VM_LINK_DRAIN_LOW) {
		link->drain_wanted = false;
		wl_signal_emit(&link->events.drain, link);
	}
	return true;
}

static void handle_flush_idle(void *data)
{
	struct vm_link *link = data;
	link->flush_idle = NULL;
	if (!link->failed) {
		flush(link);
	}
}

bool vm_link_send(struct vm_link *link, uint16_t type, uint32_t object, const void *body,
	const void *tail, uint32_t tail_len)
{
	if (link->fd < 0 || !link->welcomed || link->failed) {
		return false;
	}
	if (!vtp_outq_push(&link->outq, type, object, body, tail, tail_len)) {
		vm_link_fail(link, VTP_ERR_LIMIT, "output queue full (the agent is not reading)");
		return false;
	}
	/* one write per loop iteration, not one per message */
	if (link->flush_idle == NULL) {
		link->flush_idle = wl_event_loop_add_idle(link->loop, handle_flush_idle, link);
		if (link->flush_idle == NULL) {
			return flush(link);
		}
	}
	return true;
}

static void handle_fail_idle(void *data)
{
	struct vm_link *link = data;
	link->fail_idle = NULL;
	if (link->failed) {
		disconnect(link, link->fail_reason);
	}
}

void vm_link_fail(struct vm_link *link, uint32_t code, const char *fmt, ...)
{
	if (link->fd < 0 || link->failed) {
		return;
	}
	va_list args;
	va_start(args, fmt);
	vsnprintf(link->fail_reason, sizeof(link->fail_reason), fmt, args);
	va_end(args);
	link->failed = true;
	link->fail_code = code;
	link->fail_idle = wl_event_loop_add_idle(link->loop, handle_fail_idle, link);
	if (link->fail_idle == NULL) {
		/* no idle source: stop reading at least; destroy cleans up */
		wlr_log(WLR_ERROR, "[vm %s] cannot schedule the disconnect", link->name);
	}
}

/* Best effort: one ERROR to a connection we are about to close. */
static void send_error_now(int fd, uint32_t code, const char *reason)
{
	uint8_t buf[12 + 4 + VTP_MAX_ERROR_TEXT];
	struct vtp_error error = { .code = code };
	size_t len = strlen(reason);
	if (len > VTP_MAX_ERROR_TEXT) {
		len = VTP_MAX_ERROR_TEXT;
	}
	size_t n = vtp_msg_encode(buf, sizeof(buf), VTP_ERROR, 0, &error, reason, (uint32_t)len);
	if (n > 0) {
		ssize_t r = send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)r;
	}
}

/* Text for the log and for ERROR: through the one display-string sanitizer. */
static void sanitize(const char *untrusted, char *out, size_t cap)
{
	vtp_sanitize_display_string(untrusted, strlen(untrusted), cap - 1, out, cap);
}

static void disconnect(struct vm_link *link, const char *reason)
{
	if (link->fd < 0) {
		return;
	}
	char why[VTP_MAX_ERROR_TEXT];
	sanitize(reason, why, sizeof(why));
	if (link->failed && link->fail_code != 0) {
		/* whatever is queued goes first if the socket takes it; the
		 * ERROR only follows whole messages */
		if (vtp_outq_flush(&link->outq, link->fd) == VTP_OK &&
			vtp_outq_empty(&link->outq)) {
			send_error_now(link->fd, link->fail_code, why);
		}
	}
	wlr_log(WLR_INFO, "[vm %s] disconnected: %s", link->name, why);

	loop_source_remove(&link->source);
	loop_source_remove(&link->hello_timer);
	loop_source_remove(&link->stall_timer);
	link->stall_armed = false;
	loop_source_remove(&link->ping_timer);
	link->ping_outstanding = false;
	link->unresponsive = false; /* its windows go with the connection */
	loop_source_remove(&link->fail_idle);
	loop_source_remove(&link->flush_idle);
	loop_source_remove(&link->resume_idle);
	link->read_paused = false;
	link->drain_wanted = false;
	link->throttled = false;
	loop_source_remove(&link->kick_source);
	if (link->kick_fd >= 0) {
		close(link->kick_fd);
		link->kick_fd = -1;
	}
	close(link->fd);
	link->fd = -1;
	link->welcomed = false;
	link->hold = link->held = false;
	vtp_stream_finish(&link->stream);
	vtp_outq_finish(&link->outq);
	/* fd is -1: nothing the owner does now sends to the dead connection */
	link->failed = false;
	link->fail_code = 0;
	link->decoder.pool_size = 0;
	link->decoder.version = 0;
	if (link->handler->disconnected != NULL) {
		link->handler->disconnected(link->data, link);
	}
	wl_signal_emit(&link->events.disconnect, link);
}

/* ---- receiving ---- */

static bool handle_hello(struct vm_link *link, const struct vtp_msg *msg)
{
	const struct vtp_hello *hello = &msg->body.hello;
	if (hello->version_min > VTP_VERSION_MAX || hello->version_max < VTP_VERSION_MIN) {
		vm_link_fail(link, VTP_ERR_VERSION,
			"no common protocol version (agent %u..%u, host %u..%u)",
			hello->version_min, hello->version_max, VTP_VERSION_MIN, VTP_VERSION_MAX);
		return false;
	}
	uint32_t version =
		hello->version_max < VTP_VERSION_MAX ? hello->version_max : VTP_VERSION_MAX;
	/* a QEMU VM maps its ivshmem BAR: no fd rides on WELCOME */
	bool pci = link->pci_pool;
	struct vtp_welcome welcome = {
		.version = version,
		.pool_kind = pci ? VTP_POOL_PCI : VTP_POOL_MEMFD,
		.pool_size = link->pool_size,
	};
	uint8_t buf[12 + 16 + VTP_MAX_NAME];
	size_t n = vtp_msg_encode(buf, sizeof(buf), VTP_WELCOME, 0, &welcome, link->name,
		(uint32_t)strlen(link->name));
	/* nothing was sent before: the socket buffer takes this at once */
	bool sent = n > 0 &&
		(pci ? send(link->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n
		     : vtp_scm_send_fd(link->fd, buf, n, link->pool_fd));
	if (!sent) {
		vm_link_fail(link, 0, "cannot send WELCOME: %s", strerror(errno));
		return false;
	}
	link->welcomed = true;
	link->decoder.pool_size = link->pool_size;
	link->decoder.version = version;
	loop_source_remove(&link->hello_timer);
	wl_event_source_timer_update(link->ping_timer, VM_LINK_PING_INTERVAL_MS);
	char software[VTP_MAX_NAME + 1];
	sanitize(msg->tail != NULL ? (const char *)msg->tail : "", software, sizeof(software));
	wlr_log(WLR_INFO, "[vm %s] agent connected (%s, protocol %u)%s", link->name, software,
		version, link->hold ? ", held" : "");
	link->held = link->hold;
	link->hold = false;
	wl_signal_emit(&link->events.handshake, link);
	if (!link->held && link->fd >= 0 && !link->failed) {
		if (link->handler->connected != NULL) {
			link->handler->connected(link->data, link);
		}
		wl_signal_emit(&link->events.welcome, link);
	}
	return true;
}

void vm_link_hold(struct vm_link *link)
{
	link->hold = true;
}

void vm_link_release(struct vm_link *link)
{
	link->hold = false;
	if (!link->held) {
		return;
	}
	link->held = false;
	if (vm_link_connected(link)) {
		wlr_log(WLR_INFO, "[vm %s] agent released", link->name);
		if (link->handler->connected != NULL) {
			link->handler->connected(link->data, link);
		}
		wl_signal_emit(&link->events.welcome, link);
	}
}

static void set_responding(struct vm_link *link, bool responding)
{
	if (link->unresponsive == !responding) {
		return;
	}
	link->unresponsive = !responding;
	if (responding) {
		wlr_log(WLR_INFO, "[vm %s] the agent answers again", link->name);
	} else {
		wlr_log(WLR_INFO, "[vm %s] the agent is not responding (no PONG in %d ms)",
			link->name, VM_LINK_PING_TIMEOUT_MS);
	}
	if (link->handler->responding != NULL) {
		link->handler->responding(link->data, link, responding);
	}
}

/* The host's timer alone decides when to PING: one PING in flight at a
 * time, the next VM_LINK_PING_INTERVAL_MS after its PONG, so nothing the
 * guest sends makes the host ping it more often. */
static int handle_ping_timer(void *data)
{
	struct vm_link *link = data;
	if (link->fd < 0 || !link->welcomed || link->failed || link->frozen) {
		return 0;
	}
	if (link->ping_outstanding) {
		/* no PONG in time; the timer rests until the PONG comes */
		set_responding(link, false);
		return 0;
	}
	link->ping_serial++;
	if (link->ping_serial == 0) {
		link->ping_serial = 1;
	}
	struct vtp_ping ping = { .serial = link->ping_serial };
	if (!vm_link_send(link, VTP_PING, 0, &ping, NULL, 0)) {
		return 0;
	}
	link->ping_outstanding = true;
	wl_event_source_timer_update(link->ping_timer, VM_LINK_PING_TIMEOUT_MS);
	return 0;
}

void vm_link_set_frozen(struct vm_link *link, bool frozen)
{
	if (link->frozen == frozen) {
		return;
	}
	link->frozen = frozen;
	if (frozen) {
		if (link->stall_timer != NULL) {
			wl_event_source_timer_update(link->stall_timer, 0);
		}
		link->stall_armed = false;
		if (link->ping_timer != NULL) {
			wl_event_source_timer_update(link->ping_timer, 0);
		}
		link->ping_outstanding = false; /* a PONG to it is stale: ignored */
		return;
	}
	if (link->fd >= 0 && link->welcomed) {
		wl_event_source_timer_update(link->ping_timer, VM_LINK_PING_INTERVAL_MS);
	}
	watch_stall(link, true);
}

static void handle_pong(struct vm_link *link, uint32_t serial)
{
	if (!link->ping_outstanding || serial != link->ping_serial) {
		return; /* answers no PING in flight: ignored */
	}
	link->ping_outstanding = false;
	set_responding(link, true);
	wl_event_source_timer_update(link->ping_timer, VM_LINK_PING_INTERVAL_MS);
}

static bool handle_message(struct vm_link *link, const struct vtp_msg *msg)
{
	uint16_t type = msg->header.type;
	if (!link->welcomed) {
		if (type != VTP_HELLO) {
			vm_link_fail(
				link, VTP_ERR_PROTOCOL, "%s before HELLO", vtp_type_name(type));
			return false;
		}
		return handle_hello(link, msg);
	}
	switch (type) {
	case VTP_HELLO:
		vm_link_fail(link, VTP_ERR_PROTOCOL, "second HELLO");
		return false;
	case VTP_PING: {
		struct vtp_ping pong = msg->body.ping;
		return vm_link_send(link, VTP_PONG, 0, &pong, NULL, 0);
	}
	case VTP_PONG:
		handle_pong(link, msg->body.ping.serial);
		return true;
	case VTP_ERROR: {
		char text[VTP_MAX_ERROR_TEXT + 1];
		sanitize(msg->tail != NULL ? (const char *)msg->tail : "", text, sizeof(text));
		vm_link_fail(
			link, 0, "the agent reported error %u: %s", msg->body.error.code, text);
		return false;
	}
	default:
		return link->handler->message(link->data, link, msg);
	}
}

/* "TYPE: status" for a message the decoder refused (protocol 7). */
static void fail_decode(struct vm_link *link, enum vtp_status st)
{
	uint32_t code = st == VTP_E_NOMEM ? VTP_ERR_INTERNAL : VTP_ERR_PROTOCOL;
	const char *type = "message";
	if (link->stream.len >= sizeof(uint16_t)) {
		uint16_t t;
		memcpy(&t, link->stream.buf + link->stream.start, sizeof(t));
		type = vtp_type_name(t);
	}
	vm_link_fail(link, code, "%s: %s", type, vtp_status_str(st));
}

static int handle_kick(int fd, uint32_t mask, void *data);

/* Stop (or resume) reading the agent's socket because its share of this
 * wakeup is used up; the kick source brings it back after one round of
 * the event loop, so other agents, clients and frames get their turn. */
static bool set_throttled(struct vm_link *link, bool throttled)
{
	if (throttled && link->kick_source == NULL) {
		if (link->kick_fd < 0) {
			link->kick_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
		}
		if (link->kick_fd >= 0) {
			link->kick_source = wl_event_loop_add_fd(
				link->loop, link->kick_fd, 0, handle_kick, link);
		}
		if (link->kick_source == NULL) {
			return false;
		}
	}
	link->throttled = throttled;
	update_mask(link);
	if (link->kick_source != NULL) {
		wl_event_source_fd_update(link->kick_source, throttled ? WL_EVENT_READABLE : 0);
	}
	return true;
}

static void process(struct vm_link *link)
{
	int budget = VM_LINK_MAX_MSGS_PER_DISPATCH;
	for (;;) {
		if (link->read_paused) {
			return; /* the rest waits in the stream buffer */
		}
		struct vtp_msg msg;
		bool have = false;
		enum vtp_status st = vtp_stream_next(&link->stream, &link->decoder, &msg, &have);
		if (st != VTP_OK) {
			fail_decode(link, st);
			return;
		}
		if (!have) {
			return;
		}
		handle_message(link, &msg);
		vtp_msg_finish(&msg);
		if (link->failed || link->fd < 0) {
			return;
		}
		if (--budget <= 0 && set_throttled(link, true)) {
			return; /* the rest after the others had their turn */
		}
	}
}

static int handle_kick(int fd, uint32_t mask, void *data)
{
	struct vm_link *link = data;
	if (link->fd < 0 || link->failed) {
		return 0;
	}
	set_throttled(link, false);
	process(link);
	if (link->failed) {
		disconnect(link, link->fail_reason);
	}
	return 0;
}

static void handle_resume_idle(void *data)
{
	struct vm_link *link = data;
	link->resume_idle = NULL;
	if (link->fd < 0 || link->failed || link->read_paused) {
		return;
	}
	/* what was buffered while paused; then the socket again */
	process(link);
	if (link->failed) {
		disconnect(link, link->fail_reason);
	}
}

void vm_link_set_read_paused(struct vm_link *link, bool paused)
{
	if (link->fd < 0 || link->read_paused == paused) {
		return;
	}
	link->read_paused = paused;
	update_mask(link);
	if (!paused && link->resume_idle == NULL) {
		link->resume_idle = wl_event_loop_add_idle(link->loop, handle_resume_idle, link);
	}
}

void vm_link_want_drain(struct vm_link *link)
{
	if (link->fd < 0 || link->failed) {
		return;
	}
	link->drain_wanted = true;
	if (link->flush_idle == NULL) {
		link->flush_idle = wl_event_loop_add_idle(link->loop, handle_flush_idle, link);
	}
}

static int handle_connection(int fd, uint32_t mask, void *data)
{
	struct vm_link *link = data;
	if (mask & WL_EVENT_WRITABLE) {
		flush(link);
	}
	if ((mask & WL_EVENT_READABLE) && !link->failed) {
		bool eof = false;
		enum vtp_status st = vtp_stream_read(&link->stream, fd, false, &eof);
		/* what arrived before an EOF or an error still counts */
		process(link);
		if (!link->failed && st != VTP_OK) {
			if (eof) {
				vm_link_fail(link, 0, "connection closed");
			} else if (st == VTP_E_IO) {
				vm_link_fail(link, 0, "read error: %s", strerror(errno));
			} else {
				fail_decode(link, st);
			}
		}
	} else if ((mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) && !link->failed) {
		vm_link_fail(link, 0, "connection closed");
	}
	if (link->failed) {
		disconnect(link, link->fail_reason);
	}
	return 0;
}

static int handle_hello_timeout(void *data)
{
	struct vm_link *link = data;
	if (!link->welcomed) {
		vm_link_fail(
			link, VTP_ERR_PROTOCOL, "no HELLO within %d ms", link->hello_timeout_ms);
	}
	return 0;
}

/* Serve the agent on conn (taken). */
static bool accept_connection(struct vm_link *link, int conn, int hello_timeout_ms)
{
	if (!vtp_stream_init(&link->stream)) {
		close(conn);
		return false;
	}
	if (!vtp_outq_init(&link->outq)) {
		vtp_stream_finish(&link->stream);
		close(conn);
		return false;
	}
	link->fd = conn;
	link->welcomed = false;
	link->failed = false;
	link->serial = 0;
	link->decoder = (struct vtp_decoder){ .side = VTP_SIDE_HOST, .pool_size = 0 };
	link->source =
		wl_event_loop_add_fd(link->loop, conn, WL_EVENT_READABLE, handle_connection, link);
	link->hello_timer = wl_event_loop_add_timer(link->loop, handle_hello_timeout, link);
	link->stall_timer = wl_event_loop_add_timer(link->loop, handle_stall_timeout, link);
	link->ping_timer = wl_event_loop_add_timer(link->loop, handle_ping_timer, link);
	link->ping_outstanding = false;
	link->unresponsive = false;
	if (link->source == NULL || link->hello_timer == NULL || link->stall_timer == NULL ||
		link->ping_timer == NULL) {
		vm_link_fail(link, VTP_ERR_INTERNAL, "out of resources");
		disconnect(link, link->fail_reason);
		return false;
	}
	link->hello_timeout_ms = hello_timeout_ms;
	wl_event_source_timer_update(link->hello_timer, hello_timeout_ms);
	wlr_log(WLR_INFO, "[vm %s] agent connecting (waiting for its HELLO)", link->name);
	return true;
}

static int handle_listen(int fd, uint32_t mask, void *data)
{
	struct vm_link *link = data;
	int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			wlr_log_errno(WLR_ERROR, "[vm %s] accept", link->name);
		}
		return 0;
	}
	/* a connection counts as the VM's agent from its HELLO on: one that
	 * has not said HELLO yet gives way to the newer one, as does one
	 * being dropped already */
	if (link->fd >= 0 && link->failed) {
		disconnect(link, link->fail_reason);
	} else if (link->fd >= 0 && !link->welcomed) {
		send_error_now(
			link->fd, VTP_ERR_BUSY, "replaced by a newer connection before HELLO");
		disconnect(link, "replaced by a newer connection before HELLO");
	}
	if (link->fd >= 0) {
		/* one agent per VM: the connection is the VM's identity */
		send_error_now(conn, VTP_ERR_BUSY, "another agent already serves this VM");
		close(conn);
		wlr_log(WLR_INFO, "[vm %s] refused a second agent connection", link->name);
		return 0;
	}
	accept_connection(link, conn, VM_LINK_HELLO_TIMEOUT_MS);
	return 0;
}

static void unmap_pool(struct vm_link *link)
{
	if (link->pool != NULL) {
		munmap((void *)link->pool, link->pool_size);
	}
	link->pool = NULL;
	link->pool_size = 0;
}

bool vm_link_set_pool(struct vm_link *link, int pool_fd, uint64_t size)
{
	if (link->fd >= 0) {
		link->failed = false;
		disconnect(link, "the VM's pool changed");
	}
	unmap_pool(link);
	if (pool_fd < 0) {
		return true;
	}
	if (size == 0 || size > VTP_MAX_POOL_SIZE || size > SIZE_MAX) {
		wlr_log(WLR_ERROR, "[vm %s] bad pool size %" PRIu64, link->name, size);
		return false;
	}
	/* only a pool the other side cannot shrink under the mapping (a
	 * SIGBUS would end the whole desktop) */
	if (vtp_pool_sealed_size(pool_fd) < size) {
		wlr_log(WLR_ERROR, "[vm %s] its pool is not a sealed memfd of %" PRIu64 " bytes",
			link->name, size);
		return false;
	}
	/* the host only reads the pool */
	void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, pool_fd, 0);
	if (map == MAP_FAILED) {
		wlr_log_errno(WLR_ERROR, "[vm %s] cannot map its pool", link->name);
		return false;
	}
	link->pool = map;
	link->pool_size = size;
	return true;
}

bool vm_link_connect_fd(struct vm_link *link, int fd, int hello_timeout_ms)
{
	if (link->fd >= 0 || link->pool == NULL) {
		close(fd);
		return false;
	}
	return accept_connection(link, fd, hello_timeout_ms);
}

void vm_link_disconnect(struct vm_link *link, const char *reason)
{
	if (link->fd >= 0) {
		link->failed = false;
		disconnect(link, reason);
	}
}

/* ---- life cycle ---- */

static bool listen_on(struct vm_link *link)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(link->socket_path) >= sizeof(addr.sun_path)) {
		wlr_log(WLR_ERROR, "[vm %s] socket path too long: %s", link->name,
			link->socket_path);
		return false;
	}
	strcpy(addr.sun_path, link->socket_path);
	link->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (link->listen_fd < 0) {
		return false;
	}
	unlink(link->socket_path);
	if (bind(link->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
		chmod(link->socket_path, 0600) < 0 || listen(link->listen_fd, 4) < 0) {
		wlr_log_errno(
			WLR_ERROR, "[vm %s] cannot listen on %s", link->name, link->socket_path);
		return false;
	}
	link->listen_source = wl_event_loop_add_fd(
		link->loop, link->listen_fd, WL_EVENT_READABLE, handle_listen, link);
	return link->listen_source != NULL;
}

struct vm_link *vm_link_create(struct wl_event_loop *loop, const struct vm_link_options *options,
	const struct vm_link_handler *handler, void *data)
{
	struct vm_link *link = calloc(1, sizeof(*link));
	if (link == NULL) {
		return NULL;
	}
	link->loop = loop;
	link->handler = handler;
	link->data = data;
	link->config = options->config;
	link->label_rgb = options->label_rgb;
	link->fd = -1;
	link->listen_fd = -1;
	link->pool_fd = -1;
	link->kick_fd = -1;
	wl_signal_init(&link->events.handshake);
	wl_signal_init(&link->events.welcome);
	wl_signal_init(&link->events.disconnect);
	wl_signal_init(&link->events.drain);
	wl_signal_init(&link->events.destroy);
	snprintf(link->name, sizeof(link->name), "%s", options->name);
	if (options->socket_path == NULL) {
		/* the VM manager brings the pool and the connection */
		link->pci_pool = true;
		return link;
	}

	uint64_t size = options->pool_size;
	if (size == 0 || size > VTP_MAX_POOL_SIZE) {
		wlr_log(WLR_ERROR, "[vm %s] bad pool size %" PRIu64 " bytes", link->name, size);
		goto error;
	}
	char pool_name[VTP_MAX_NAME + 16];
	snprintf(pool_name, sizeof(pool_name), "vitrail-pool-%s", link->name);
	link->pool_fd = vtp_pool_memfd_create(pool_name, size);
	if (link->pool_fd < 0) {
		wlr_log_errno(WLR_ERROR, "[vm %s] cannot create its pool", link->name);
		goto error;
	}
	/* the host only reads the pool; sealed, it cannot shrink under us */
	void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, link->pool_fd, 0);
	if (map == MAP_FAILED) {
		wlr_log_errno(WLR_ERROR, "[vm %s] cannot map its pool", link->name);
		goto error;
	}
	link->pool = map;
	link->pool_size = size;

	link->socket_path = strdup(options->socket_path);
	if (link->socket_path == NULL || !listen_on(link)) {
		goto error;
	}
	return link;

error:
	vm_link_destroy(link);
	return NULL;
}

void vm_link_destroy(struct vm_link *link)
{
	if (link == NULL) {
		return;
	}
	if (link->fd >= 0) {
		link->failed = false;
		disconnect(link, "compositor exiting");
	}
	/* the owners drop their per-VM state (no agent any more) */
	wl_signal_emit(&link->events.destroy, link);
	loop_source_remove(&link->listen_source);
	if (link->listen_fd >= 0) {
		close(link->listen_fd);
		if (link->socket_path != NULL) {
			unlink(link->socket_path);
		}
	}
	unmap_pool(link);
	if (link->pool_fd >= 0) {
		close(link->pool_fd);
	}
	free(link->socket_path);
	free(link);
}
