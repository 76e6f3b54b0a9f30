/*
 * The agent's connection to the host: a byte stream (a unix socket, or a
 * virtio-serial port inside a VM) plus the shared pool (a memfd passed on
 * WELCOME, or the ivshmem BAR2). Handles the handshake, PING, the bounded
 * output queue and reconnection with backoff; everything else goes to the
 * handler. Everything the host sends is decoded with VTP_SIDE_GUEST; a
 * broken message drops the connection and the agent connects again.
 */
#ifndef VITRAIL_AGENT_LINK_H
#define VITRAIL_AGENT_LINK_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <vitrail/protocol.h>

struct agent_link_handler {
	/* WELCOME received and the pool mapped: announce everything. */
	void (*ready)(void *data);
	/* The connection is going away; the pool is still mapped. */
	void (*lost)(void *data);
	/* A validated message other than WELCOME/PING/PONG/ERROR. */
	void (*message)(void *data, const struct vtp_msg *msg);
};

enum agent_transport {
	AGENT_TRANSPORT_NONE, /* no host: run the guest side alone */
	AGENT_TRANSPORT_UNIX,
	AGENT_TRANSPORT_VIRTIO,
};

enum agent_link_state {
	AGENT_LINK_IDLE, /* not connected, maybe waiting to retry */
	AGENT_LINK_HELLO, /* HELLO sent, waiting for WELCOME */
	AGENT_LINK_READY,
};

struct agent_link {
	struct wl_event_loop *loop;
	const struct agent_link_handler *handler;
	void *data;

	enum agent_transport transport;
	char *target; /* unix socket path or virtio port name */
	bool pool_pci;
	char *pci_device; /* BDF or NULL: search for the ivshmem device */

	enum agent_link_state state;
	int fd;
	struct wl_event_source *fd_source;
	struct wl_event_source *retry_timer;
	struct wl_event_source *welcome_timer;
	struct wl_event_source *drop_idle;
	struct wl_event_source *flush_idle;
	uint32_t backoff_ms;
	bool broken; /* a drop is scheduled; sends are ignored */
	bool want_write;

	struct vtp_stream in;
	struct vtp_outq out;
	struct vtp_decoder dec;

	uint8_t *pool;
	uint64_t pool_size; /* usable bytes (what both sides agree on) */
	size_t pool_map_size;
	struct vtp_alloc alloc;
	char vm_name[33];
	unsigned int sessions; /* WELCOMEs received so far */

	/* flow control of bulk senders (outgoing.c): called once after a
	 * flush leaves at most LINK_DRAIN_LOW bytes queued, if wanted */
	void (*drained)(void *data);
	void *drained_data;
	bool drain_wanted;
};

/* Bulk senders stop queueing above LINK_QUEUE_HIGH and wait for drained. */
#define LINK_QUEUE_HIGH (1024u * 1024u)
#define LINK_DRAIN_LOW (256u * 1024u)

/*
 * connect: "unix:PATH", "virtio" or "virtio:PORTNAME", or NULL (no host).
 * pool: NULL, "pci" or "pci:BDF" (required with virtio). Returns NULL and
 * logs on a bad specification.
 */
struct agent_link *agent_link_create(struct wl_event_loop *loop, const char *connect,
	const char *pool, const struct agent_link_handler *handler, void *data);
void agent_link_destroy(struct agent_link *link);
/* First connection attempt (then retries with backoff until destroyed). */
void agent_link_start(struct agent_link *link);
bool agent_link_ready(const struct agent_link *link);
/* Queue a message; on overflow or error the connection is dropped (later,
 * from an idle callback) and further sends are ignored until reconnected. */
void agent_link_send(struct agent_link *link, uint16_t type, uint32_t object, const void *body,
	const void *tail, uint32_t tail_len);
/* Drop the connection (later, from an idle callback) and reconnect. */
void agent_link_fail(struct agent_link *link, const char *reason);

/* Bytes queued for the host (0 when not connected). */
static inline size_t link_queued(const struct agent_link *link)
{
	return link->fd >= 0 ? link->out.len : 0;
}
/* Ask for one call of link->drained once the queue is short again. */
void agent_link_want_drain(struct agent_link *link);

/* Pool space while ready. */
bool agent_link_pool_get(struct agent_link *link, uint64_t size, uint64_t *offset);
void agent_link_pool_put(struct agent_link *link, uint64_t offset, uint64_t size);
static inline uint8_t *link_pool_data(struct agent_link *link)
{
	return link->pool;
}

#endif
