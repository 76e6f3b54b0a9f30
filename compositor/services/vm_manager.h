/*
 * Starting, supervising and stopping the VMs of the config.
 *
 * type = local: the agent runs on the host as our child,
 *   vitrail-agent --connect unix:RUNTIME/vitrail/vm/NAME.sock [-- sh -c CMD]
 *   with HOME=$XDG_DATA_HOME/vitrail/vms/NAME/home; stopped with SIGTERM,
 *   and when vitrail exits. A disposable (disposable-of) gets a fresh HOME,
 *   RUNTIME/vitrail/vms/NAME.disp.XXXXXX (0700), removed without following
 *   symlinks when its agent exits (and leftovers at the next start).
 * type = qemu, disposable: a qcow2 overlay of the template's disk (if it
 *   has one) and its own kernel, else the template's kernel, initrd, append.
 * type = qemu: a QEMU guest through vmm-glue, supervised on the event loop.
 *   vitrail connects to the VM's virtio-serial socket as a client and hands
 *   the connection to the VM's link; the pool is the VM's ivshmem file.
 *   QEMU outlives vitrail: at start, VMs still running are re-attached.
 *
 * The state of each VM (stopped, starting, running, stopping, crashed)
 * with a reason and a log path is what `vitrailctl vms` shows; the
 * control commands start, stop, run and logs are served here, stop and run
 * with deferred replies.
 */
#ifndef VITRAIL_VM_MANAGER_H
#define VITRAIL_VM_MANAGER_H

#include <stdbool.h>

struct ctl_client;
struct json_object;
struct server;
struct vm_link;
struct vm_manager;
struct vtp_msg;

enum vm_state {
	VM_STOPPED,
	VM_STARTING, /* launched; the agent has not connected yet */
	VM_RUNNING,
	VM_STOPPING,
	VM_CRASHED,
};

/* Seconds a `run` or `start --wait` waits for the agent to connect. */
#define VM_MANAGER_CONNECT_TIMEOUT_S 180

/* After every link exists: re-attach to running QEMU VMs, autostart. */
struct vm_manager *vm_manager_create(struct server *server);
/* Local agents get SIGTERM; QEMU VMs keep running. */
void vm_manager_destroy(struct vm_manager *manager);
/* A RUN_RESULT from the VM of link: the answer to `vitrailctl run`. */
void vm_manager_handle_run_result(
	struct vm_manager *manager, struct vm_link *link, const struct vtp_msg *msg);

const char *vm_manager_state_name(enum vm_state state);
enum vm_state vm_manager_state(struct vm_manager *manager, struct vm_link *link);

/* Add "state", "reason", "type", "pid" and "log" to a `vms` entry. */
void vm_manager_describe(
	struct vm_manager *manager, struct vm_link *link, struct json_object *entry);

/* true for the control commands served here (start, stop, run, logs). */
bool vm_manager_handles(const char *command);
/* Serve one of them: a reply, or NULL once the client is deferred. */
struct json_object *vm_manager_ctl(struct vm_manager *manager, struct ctl_client *client,
	const char *command, struct json_object *request);

#endif
