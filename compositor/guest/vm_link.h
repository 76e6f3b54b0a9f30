/*
 * The link to one VM: its shared pool (created and owned by the host), the
 * socket it listens on, and the one agent connection it serves at a time.
 * Every message from the guest is decoded once, here, through the
 * protocol library; any error disconnects the VM and removes its windows.
 */
#ifndef VITRAIL_VM_LINK_H
#define VITRAIL_VM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vitrail/protocol.h>
#include <wayland-server-core.h>

struct apps_host;
struct config_vm;
struct server;

#define VM_LINK_HELLO_TIMEOUT_MS 10000
/* events.drain fires (once per vm_link_want_drain) at or below this many
 * bytes queued for the agent */
#define VM_LINK_DRAIN_LOW (512u * 1024u)
/* messages handled per event-loop wakeup of one agent, before the others */
#define VM_LINK_MAX_MSGS_PER_DISPATCH 256

struct vm_link {
	struct server *server;
	const struct config_vm *config;
	char name[VTP_MAX_NAME + 1];
	char *socket_path;

	int listen_fd;
	struct wl_event_source *listen_source;

	/* the pool: a sealed memfd mapped read-only for the lifetime of vitrail */
	int pool_fd;
	const uint8_t *pool;
	uint64_t pool_size;

	/* the current agent, fd -1 when none */
	int fd;
	struct wl_event_source *source;
	struct wl_event_source *hello_timer;
	int hello_timeout_ms;
	struct wl_event_source *fail_idle;
	struct wl_event_source *flush_idle;
	struct vtp_stream stream;
	struct vtp_outq outq;
	struct vtp_decoder decoder;
	bool welcomed; /* HELLO received, WELCOME sent */
	bool failed; /* a disconnect is scheduled; send nothing more */
	char fail_reason[VTP_MAX_ERROR_TEXT];
	uint32_t fail_code;
	uint32_t serial;
	uint64_t keymap_serial_sent; /* 0: none sent on this connection */

	struct wl_list windows; /* struct guest_window.link */
	size_t n_windows;
	uint64_t toplevels_mapped; /* toplevels ever mapped (open.c's disposables) */

	struct apps_host *apps; /* the VM's app list for the host menu */

	/* flow control of file transfers (open.c) */
	bool read_paused; /* vm_link_set_read_paused: the agent is not read */
	bool drain_wanted; /* vm_link_want_drain: emit events.drain */
	struct wl_event_source *resume_idle;

	/* fairness: at most VM_LINK_MAX_MSGS_PER_DISPATCH messages per wakeup;
	 * the rest waits (socket not read) until kick_source (an always
	 * readable eventfd, enabled only while throttled) comes round */
	bool throttled;
	int kick_fd;
	struct wl_event_source *kick_source;

	struct {
		struct wl_signal welcome; /* HELLO answered: the agent is connected */
		struct wl_signal disconnect; /* the agent connection ended */
		struct wl_signal run_result; /* data: the RUN_RESULT struct vtp_msg */
		struct wl_signal drain; /* the output queue is short again (vm_link_want_drain) */
	} events;
};

struct vm_link *vm_link_create(struct server *server, const struct config_vm *vm);
void vm_link_destroy(struct vm_link *link);

const char *vm_link_name(const struct vm_link *link);
bool vm_link_connected(const struct vm_link *link);
uint32_t vm_link_label(const struct vm_link *link);
/* Number of mapped toplevel windows. */
size_t vm_link_window_count(const struct vm_link *link);

/* Queue a message to the agent. On overflow the VM is disconnected. */
bool vm_link_send(struct vm_link *link, uint16_t type, uint32_t object, const void *body,
	const void *tail, uint32_t tail_len);
/* Disconnect the agent soon (from an idle callback): log, send ERROR,
 * close, remove its windows. Safe to call from anywhere. */
void vm_link_fail(struct vm_link *link, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint32_t vm_link_next_serial(struct vm_link *link);
/* Send KEYMAP if the agent has not seen the current one. */
void vm_link_ensure_keymap(struct vm_link *link);
/* Flow control (open.c): stop reading the agent's messages, or resume
 * (messages already buffered wait too). Cleared on disconnect. */
void vm_link_set_read_paused(struct vm_link *link, bool paused);
/* Emit events.drain once, when at most VM_LINK_DRAIN_LOW bytes are queued. */
void vm_link_want_drain(struct vm_link *link);
/* Send OUTPUT_INFO with the current usable size. */
void vm_link_send_output_info(struct vm_link *link);

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
