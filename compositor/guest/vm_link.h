/*
 * The link to one VM: the transport, and the one place where guest bytes
 * enter the host. It owns the shared pool (a sealed memfd, or the QEMU
 * VM's ivshmem file), the socket it listens on, and the one agent
 * connection it serves at a time. Every message from the guest is decoded
 * once, here, through the protocol library, then handed to the owner's
 * struct vm_link_handler; any error disconnects the VM. It knows nothing
 * of windows, services or the seat: it includes only the protocol
 * library, wayland-server and wlroots' log.
 */
#ifndef VITRAIL_VM_LINK_H
#define VITRAIL_VM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vitrail/protocol.h>
#include <wayland-server-core.h>

struct config_vm;

#define VM_LINK_HELLO_TIMEOUT_MS 10000
/* Flow control of bulk senders: vm_link_backlogged() is true above
 * VM_LINK_QUEUE_HIGH bytes queued for the agent; events.drain fires (once
 * per vm_link_want_drain) at or below VM_LINK_DRAIN_LOW. */
#define VM_LINK_QUEUE_HIGH (2u * 1024u * 1024u)
#define VM_LINK_DRAIN_LOW (512u * 1024u)
/* an agent that reads none of what is queued for it this long is dropped */
#define VM_LINK_STALL_TIMEOUT_MS 15000
/* liveness: the host PINGs a connected agent VM_LINK_PING_INTERVAL_MS
 * after its last PONG (or its WELCOME); an agent that leaves the PING
 * unanswered VM_LINK_PING_TIMEOUT_MS is "not responding" until it answers.
 * It is never dropped for that: the user stops or kills the VM. */
#define VM_LINK_PING_INTERVAL_MS 2000
#define VM_LINK_PING_TIMEOUT_MS 3000
/* messages handled per event-loop wakeup of one agent, before the others */
#define VM_LINK_MAX_MSGS_PER_DISPATCH 256

/* The transport; opaque. Its identity (name, label, config) is the host's. */
struct vm_link;

struct vm_link_options {
	const char *name; /* the VM's name, from the host config */
	uint32_t label_rgb;
	const struct config_vm *config; /* kept for the owner, never read here */
	/* NULL: the VM manager hands over connections and the pool (QEMU);
	 * else listen on this socket with an own sealed memfd pool */
	const char *socket_path;
	uint64_t pool_size; /* bytes of the memfd pool (socket_path != NULL) */
};

/*
 * What the link delivers to its owner (the composition root). Every
 * message has been decoded and validated once, by the protocol library,
 * before it gets here. HELLO, PING, PONG and ERROR are the link's own.
 */
struct vm_link_handler {
	/* WELCOME sent: the agent is connected. */
	void (*connected)(void *data, struct vm_link *link);
	/* A validated message after HELLO. The one handler contract of every
	 * feature: return false when the message broke a rule, after
	 * vm_link_fail(); true otherwise. */
	bool (*message)(void *data, struct vm_link *link, const struct vtp_msg *msg);
	/* The connection is closing (fd already closed): drop what the agent
	 * owned (its windows). Runs before events.disconnect. */
	void (*disconnected)(void *data, struct vm_link *link);
	/* The agent stopped answering PING, or answers again (may be NULL). */
	void (*responding)(void *data, struct vm_link *link, bool responding);
};

struct vm_link_events {
	/* WELCOME sent, also while the link is held (vm_link_hold): the owner
	 * may send to the agent (vm_link_send) before anyone else sees it */
	struct wl_signal handshake;
	struct wl_signal welcome; /* HELLO answered: the agent is connected */
	struct wl_signal disconnect; /* the agent connection ended */
	struct wl_signal drain; /* the output queue is short again (vm_link_want_drain) */
	struct wl_signal destroy; /* the link goes away: drop per-VM state */
};

struct vm_link *vm_link_create(struct wl_event_loop *loop, const struct vm_link_options *options,
	const struct vm_link_handler *handler, void *data);
void vm_link_destroy(struct vm_link *link);

struct vm_link_events *vm_link_events(struct vm_link *link);
const char *vm_link_name(const struct vm_link *link);
bool vm_link_connected(const struct vm_link *link);
/* Protocol version agreed in the handshake; 0 while not connected. */
uint32_t vm_link_version(const struct vm_link *link);
/* Connected and answering PING (false while "not responding"). */
bool vm_link_responding(const struct vm_link *link);
/* An agent connection is open (maybe before HELLO, maybe failing). */
bool vm_link_has_connection(const struct vm_link *link);
uint32_t vm_link_label(const struct vm_link *link);
const struct config_vm *vm_link_config(const struct vm_link *link);
/* The listening socket, NULL for QEMU VMs. */
const char *vm_link_socket_path(const struct vm_link *link);

/*
 * Hold the next agent connection: after its handshake (events.handshake)
 * it does not count as connected (vm_link_connected() is false, no
 * handler->connected, no events.welcome) until vm_link_release(). For a
 * VM that is told who it is first (fast start, vm_manager.c). The hold
 * ends with the connection.
 */
void vm_link_hold(struct vm_link *link);
void vm_link_release(struct vm_link *link);
/* Queue a message to the agent (also while held). On overflow the VM is
 * disconnected. */
bool vm_link_send(struct vm_link *link, uint16_t type, uint32_t object, const void *body,
	const void *tail, uint32_t tail_len);
/* Disconnect the agent soon (from an idle callback): log, send ERROR,
 * close, remove its windows. Safe to call from anywhere. */
void vm_link_fail(struct vm_link *link, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint32_t vm_link_next_serial(struct vm_link *link);
/* The VM is paused by the user (its CPUs or processes stopped): no PING
 * and no stall rule until it is thawed, so it is neither marked "not
 * responding" nor dropped for reading nothing. */
void vm_link_set_frozen(struct vm_link *link, bool frozen);
/* Flow control (open.c): stop reading the agent's messages, or resume
 * (messages already buffered wait too). Cleared on disconnect. */
void vm_link_set_read_paused(struct vm_link *link, bool paused);
/* More than VM_LINK_QUEUE_HIGH bytes wait for the agent: a sender of bulk
 * data should stop, call vm_link_want_drain and go on at events.drain. */
bool vm_link_backlogged(const struct vm_link *link);
/* Emit events.drain once, when at most VM_LINK_DRAIN_LOW bytes are queued. */
void vm_link_want_drain(struct vm_link *link);

/*
 * QEMU VMs (type = qemu) do not listen: the VM manager connects to the
 * VM's virtio-serial socket and hands the connection over; the pool is
 * the VM's ivshmem file, mapped here (WELCOME says VTP_POOL_PCI, no fd).
 */
/* Map pool_fd (size bytes) as the pool, replacing any previous mapping
 * (disconnects first); fd -1 only unmaps. The fd is not kept. */
bool vm_link_set_pool(struct vm_link *link, int pool_fd, uint64_t size);
/* Serve the agent on fd (taken in every case); no HELLO within
 * hello_timeout_ms drops it. false if connected already or no pool. */
bool vm_link_connect_fd(struct vm_link *link, int fd, int hello_timeout_ms);
/* Close the agent connection now and remove its windows. */
void vm_link_disconnect(struct vm_link *link, const char *reason);

/* A pointer to the pool bytes of an image the decoder checked, or NULL. */
const uint8_t *vm_link_pool_data(const struct vm_link *link, uint64_t offset);

#endif
