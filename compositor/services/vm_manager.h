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
 *   the connection to the VM's link; the pool is the sealed memfd QEMU shares
 * with the guest as ivshmem.
 *   QEMU outlives vitrail: at start, VMs still running are re-attached.
 *
 * The state of each VM (stopped, starting, running, stopping, crashed)
 * with a reason and a log path is what `vitrailctl vms` shows (struct
 * vm_info). Start, stop and run are plain functions; what is answered
 * later (start --wait, stop --wait, run) comes through a struct vm_op:
 * its done callback is called exactly once, never before the function
 * that made it returned, unless vm_manager_cancel forgets it first.
 */
#ifndef VITRAIL_VM_MANAGER_H
#define VITRAIL_VM_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vitrail/vmm_snapshot.h>
#include <wayland-server-core.h>

struct server;
struct vm_link;
struct vm_manager;
struct vm_op;
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

struct vm_manager_events {
	/* data: struct vm_link whose VM was paused or resumed (vm_manager_paused) */
	struct wl_signal paused;
	/* data: struct vm_link whose VM changed state, whose QEMU came up
	 * (vm_manager_qemu_running), or whose agent connected or went */
	struct wl_signal state;
};
struct vm_manager_events *vm_manager_events(struct vm_manager *manager);
/* Local agents get SIGTERM; QEMU VMs keep running. */
void vm_manager_destroy(struct vm_manager *manager);
/* A RUN_RESULT from the VM of link: the answer to `vitrailctl run`. */
void vm_manager_handle_run_result(
	struct vm_manager *manager, struct vm_link *link, const struct vtp_msg *msg);

const char *vm_manager_state_name(enum vm_state state);
enum vm_state vm_manager_state(struct vm_manager *manager, struct vm_link *link);

/* What `vitrailctl vms` and `logs` show of a VM. Strings belong to the
 * manager and stay valid until the VM's state changes. */
struct vm_info {
	bool qemu; /* type = qemu, else local */
	enum vm_state state; /* as shown: a local VM served by an outside agent runs */
	const char *reason; /* "" when none */
	const char *accel_note; /* qemu with a VMM: KVM or TCG and why; else NULL */
	int64_t pid; /* the agent's or QEMU's, 0: none */
	const char *log; /* local: the agent's log; qemu: the console log; or NULL */
	const char *qemu_log; /* qemu with a VMM: QEMU's own log; else NULL */
	const char *home; /* a disposable local VM's fresh HOME, or NULL */
	bool paused; /* running, paused by the user */
	int64_t paused_since; /* when paused: since (Unix time, s); else 0 */
	int64_t resumed_at; /* the last resume (Unix time, s), 0: never */
	/* qemu: "suspending", "suspended", "restoring", or NULL */
	const char *suspend;
	int64_t suspended_since; /* when suspended: since (Unix time, s); else 0 */
	const char *state_file; /* when suspended: the saved state; else NULL */
	/* fast-start: the booted state its next start restores, NULL when
	 * there is none yet (it boots and records it) or not fast-start */
	const char *booted_state;
	/* a preloaded disposable: "preloading", "preloaded" (state stopped:
	 * free for the taking), or NULL */
	const char *preload;
};

/* false when link is no VM of the manager. */
bool vm_manager_get_info(struct vm_manager *manager, struct vm_link *link, struct vm_info *info);

/* The VM called name, ready for a command; NULL and *error ("no VM named
 * 'NAME'", or "VM NAME: " and why it could not be set up) otherwise. */
struct vm_link *vm_manager_find(struct vm_manager *manager, const char *name, char **error);

/* Start the VM unless it is up or its agent is connected. false and
 * *error when it is stopping or cannot start. */
bool vm_manager_start(struct vm_manager *manager, struct vm_link *link, char **error);
/*
 * Pause a running VM (QEMU: its CPUs stop, QMP stop; local: its agent's
 * process group gets SIGSTOP) or resume it. Its windows stay; the link is
 * frozen (no liveness or stall rule). Emits events.paused. Starting,
 * running a command in, or stopping a paused VM resumes it first.
 */
bool vm_manager_set_paused(
	struct vm_manager *manager, struct vm_link *link, bool paused, char **error);
bool vm_manager_paused(struct vm_manager *manager, struct vm_link *link);
/* Is the VM's QEMU running (QMP answers)? false for local VMs. */
bool vm_manager_qemu_running(struct vm_manager *manager, struct vm_link *link);
/* A NIC of the running QEMU (struct vmm_nic.id) up or down. */
bool vm_manager_set_nic_link(struct vm_manager *manager, struct vm_link *link, const char *nic_id,
	bool up, char **error);
/* Resume the VM if it is paused (something needs it now). */
void vm_manager_wake(struct vm_manager *manager, struct vm_link *link);
/* Ask the VM to stop (local: SIGTERM; qemu: shutdown). true when it is
 * down (stopped or crashed) now: nothing to wait for. */
bool vm_manager_stop(struct vm_manager *manager, struct vm_link *link);
/* A running qemu VM: set its virtio balloon target to mib MiB (at most the
 * memory it booted with; *applied_mib gets the target). false and *error
 * (malloc'd) for a local VM or one that is not running. */
bool vm_manager_balloon(struct vm_manager *manager, struct vm_link *link, uint32_t mib,
	uint32_t *applied_mib, char **error);

/* The outcome of a vm_op; the strings live until done returns. */
struct vm_op_result {
	const char *error; /* NULL: it worked */
	enum vm_state state; /* VM_OP_CONNECTED, VM_OP_STOPPED: the state then */
	const char *reason;
	const char *run_kind; /* run: "exited", "signaled" or "failed" */
	int32_t run_status; /* run: the guest's word, unchecked */
};
typedef void (*vm_op_done_fn)(void *data, const struct vm_op_result *result);

enum vm_op_wait {
	VM_OP_CONNECTED, /* until the agent connects (start --wait) */
	VM_OP_STOPPED, /* until the VM is stopped or crashed (stop --wait) */
};

/* Wait for the VM; NULL and *error when out of memory. */
struct vm_op *vm_manager_wait(struct vm_manager *manager, struct vm_link *link,
	enum vm_op_wait what, vm_op_done_fn done, void *data, char **error);
/* Run argv (1..VTP_MAX_ARGC strings, argv[0] not empty) in the VM,
 * starting it if needed; done gets how it ended. NULL and *error when it
 * cannot be asked. */
struct vm_op *vm_manager_run(struct vm_manager *manager, struct vm_link *link,
	const char *const *argv, size_t argc, vm_op_done_fn done, void *data, char **error);
/* Forget op without calling its done (the one waiting went away). */
void vm_manager_cancel(struct vm_op *op);

/*
 * Suspend a running qemu VM to disk (vmm_vm_suspend): its state goes to
 * DATA/vitrail/vms/NAME/suspend.state, QEMU ends. Its windows stay, kept
 * by the view layer (events.paused, vm_manager_suspended). done comes once
 * QEMU is gone (state stopped, reason "suspended") or with the error when
 * the save failed (the VM runs on). Starting it (start, run, run-app, an
 * open-in-VM delivery, a click or focus on one of its windows) restores
 * it; stopping it discards the saved state. A restore that fails renames
 * the state to suspend.state.failed: the next start boots the VM.
 */
struct vm_op *vm_manager_suspend(struct vm_manager *manager, struct vm_link *link,
	vm_op_done_fn done, void *data, char **error);
/* One of its template's preloaded disposables, not taken yet (its state
 * shows stopped): starting it takes it. */
bool vm_manager_preloaded(struct vm_manager *manager, struct vm_link *link);
/* Being suspended, suspended, or being restored (until its agent is back). */
bool vm_manager_suspended(struct vm_manager *manager, struct vm_link *link);
/* Input went to one of the VM's windows: suspend-after counts from now. */
void vm_manager_note_input(struct vm_manager *manager, struct vm_link *link);

/*
 * Snapshots of a qemu VM (<vitrail/vmm_snapshot.h>: the volumes, the
 * name rule). A local VM has none (error).
 *
 * List: *list (malloc'd, caller frees, *n entries) and *volumes, those of
 * the VM now (*running: QEMU runs, so an AppVM's overlay is one of them).
 */
bool vm_manager_snapshots(struct vm_manager *manager, struct vm_link *link,
	struct vmm_snapshot_volumes *volumes, struct vmm_snapshot **list, size_t *n, bool *running,
	char **error);
/* Seconds a running VM's savevm, loadvm or delvm may take. */
#define VM_MANAGER_SNAPSHOT_TIMEOUT_S 600
/*
 * Take, revert or delete the snapshot name. A stopped VM: qemu-img on its
 * volumes, watched on the loop (the VM, and VMs booting overlays of it,
 * cannot start meanwhile; vitrail exiting waits for it). A running one:
 * asked of QEMU's monitor. true and *op: done is called once, later
 * (state: the VM's then); true and *op NULL: it is done already. Reverting a running VM resumes it if paused, drops its agent
 * connection (its windows go) and connects again once QEMU has loaded the
 * snapshot: the agent maps the windows it had then. false and *error.
 */
bool vm_manager_snapshot(struct vm_manager *manager, struct vm_link *link,
	enum vmm_snapshot_op action, const char *name, vm_op_done_fn done, void *data,
	struct vm_op **op, char **error);

#endif
