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

struct config_vm;
struct server;

#define VM_LINK_HELLO_TIMEOUT_MS 10000

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
/* Send OUTPUT_INFO with the current usable size. */
void vm_link_send_output_info(struct vm_link *link);

/* A pointer to the pool bytes of an image the decoder checked, or NULL. */
const uint8_t *vm_link_pool_data(const struct vm_link *link, uint64_t offset);

#endif
