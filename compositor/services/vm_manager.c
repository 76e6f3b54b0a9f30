#define _GNU_SOURCE /* closefrom */
#include "services/vm_manager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vitrail/common/fs.h>
#include <vitrail/common/text.h>
#include <vitrail/protocol.h>
#include <wayland-server-core.h>
#include <wlr/util/log.h>

#include "config.h"
#include "server.h"
#include "guest/vm_link.h"
#include "services/netvm.h"
#include <vitrail/vmm.h>
#include <vitrail/vmm_snapshot.h>
#include <vitrail/common/loop.h>

/* A guest only notices a host that went away if it stays away a while
 * (virtio-serial has a "host connected" flag, no events): see vmm.h. */
#define RECONNECT_DELAY_MS 1500
/* A restored guest was told at once that its host went (the connection
 * saved with it is gone): its agent has dropped that session by then. */
#define RESTORE_CONNECT_DELAY_MS 500
/* A guest that is up says HELLO at once on a new connection. */
#define HELLO_TIMEOUT_MS 5000
/* The first connection to a VM we boot waits for the boot. */
#define BOOT_HELLO_TIMEOUT_MS 120000
/* The control socket is not there (yet): try again. */
#define CONNECT_RETRY_MS 1000
/* A local agent that ignores SIGTERM gets SIGKILL after this. */
#define AGENT_STOP_TIMEOUT_MS 5000
/* after a local agent is gone: SIGTERM to what is left of its process
 * group (the apps it started), SIGKILL this much later */
#define AGENT_GROUP_KILL_MS 2000
/* Directories nested deeper than this in a disposable HOME are left
 * (each level holds a file descriptor while it is emptied). */
#define TEMP_HOME_MAX_DEPTH 64
/* RUN request ids keep the top bit clear: LAUNCH_APP's have it set
 * (apps_host.c), and both answer with RUN_RESULT. */
#define RUN_ID_MASK 0x7fffffffu
/* QEMU's TCG code cache of a service VM, MiB (vmm.h tcg_tb_mib) */
#define SERVICE_TCG_TB_MIB 128

enum waiter_kind {
	WAIT_STOPPED, /* stop: until the VM is stopped or crashed */
	WAIT_CONNECTED, /* start --wait: until the agent connects */
	WAIT_RUN, /* run: until the agent connects, then until RUN_RESULT */
	WAIT_SUSPENDED, /* suspend: until saved and QEMU gone, or the save failed */
	WAIT_SNAPSHOT, /* a snapshot command on a running VM (not in waiters) */
};

/* Fast start (config fast_start): an AppVM or disposable from its
 * template's booted state (vmm.h). */
enum fast_stage {
	FAST_NONE,
	FAST_BOOTING, /* booted late: its booted state is recorded at HELLO */
	FAST_RESTORING, /* from the booted state, until QEMU runs */
	FAST_RECORDING, /* the booted state is being saved; the guest runs on */
	FAST_PLUGGING, /* QEMU hot-plugs the private disk and the NIC */
	FAST_PLUGGED, /* restored and plugged: activated at HELLO */
	FAST_PRELOADED, /* preload: plugged, agent held, paused until taken */
	/* a later agent connection of a fast-start VM (vitrail restarted, the
	 * guest rebooted or was restored): activated again (activate is
	 * idempotent: the guest may not have been, or its clock is off) */
	FAST_ATTACHED,
	FAST_ACTIVATING, /* the guest mounts its volume, then its session starts */
};
/* What the guest runs (as the session user) to take up its devices, set
 * its clock and let its session start; argv[1] is "private" or "none",
 * argv[2] the host's time as "@SECONDS" (the guest's clock stopped when
 * the booted state was recorded). */
#define FAST_ACTIVATE "/usr/lib/vitrail/activate"
/* The booted state's file format and QEMU argv: a change makes every
 * recorded state stale. */
#define FAST_FORMAT "vitrail-booted-1"
/* The guest answers activate within this (it waits up to 15 s for the
 * private volume, then formats an empty one). */
#define FAST_ACTIVATE_TIMEOUT_S 60
#define STR_(x) #x
#define STR(x) STR_(x)

/* Suspend to disk (vm_manager_suspend), for qemu VMs. */
enum suspend_stage {
	SUSPEND_NONE,
	SUSPEND_SAVING, /* the guest is stopped and being saved */
	SUSPEND_SAVED, /* QEMU gone; the state waits in state_path */
	SUSPEND_RESTORING, /* QEMU loads it; until the agent connects again */
};

struct managed_vm;

/* Someone waiting for an answer that comes later (vm_manager.h). */
struct vm_op {
	struct wl_list link; /* managed_vm.waiters */
	struct managed_vm *vm;
	vm_op_done_fn done;
	void *data;
	enum waiter_kind kind;
	bool sent; /* WAIT_RUN: RUN sent, waiting for its RUN_RESULT */
	uint32_t request_id;
	char *argv; /* WAIT_RUN: the RUN tail (NUL-terminated strings) */
	uint32_t argv_len;
	struct wl_event_source *timer; /* waiting for the agent to connect */
};

struct managed_vm {
	struct vm_manager *manager;
	struct vm_link *link;
	const struct config_vm *config;
	enum vm_state state;
	char reason[512];
	char *log_path; /* local: the agent's log; qemu: the console log */
	struct wl_list waiters; /* struct vm_op.link */

	struct wl_listener handshake;
	struct wl_listener welcome;
	struct wl_listener disconnect;

	/* type = local */
	pid_t agent_pid; /* 0: none */
	int agent_pidfd;
	struct wl_event_source *agent_source;
	struct wl_event_source *kill_timer;
	/* the process group of an agent that is gone, while its apps get
	 * AGENT_GROUP_KILL_MS to end before SIGKILL; 0: none */
	pid_t orphan_group;
	struct wl_event_source *group_timer;
	bool stop_requested;
	char *temp_home; /* disposable: its fresh HOME, removed when it stops */

	/* type = qemu */
	struct vmm_vm *vmm;
	int vmm_fd; /* the fd vmm_source watches, -1: none */
	bool vmm_resync;
	struct wl_event_source *vmm_source;
	struct wl_event_source *vmm_timer;
	struct wl_event_source *connect_timer;
	bool booting; /* started by us: the first connection waits for the boot */

	/* paused by the user (vm_manager_set_paused) */
	bool paused;
	int64_t paused_since; /* CLOCK_REALTIME seconds */
	int64_t resumed_at; /* CLOCK_REALTIME seconds of the last resume, 0: never */

	/* suspend to disk: DATA/vitrail/vms/NAME/suspend.state (qemu), or NULL */
	char *state_path;
	enum suspend_stage suspend;
	int64_t suspended_since; /* CLOCK_REALTIME seconds */
	struct wl_event_source *idle_timer; /* suspend-after */
	/* something needs the VM between its save and QEMU's exit: restore
	 * it then (its waiters wait for that) */
	bool restore_pending;
	/* the snapshot command waiting for QEMU's monitor (or NULL), and
	 * whether a revert's reconnection is due when it answers */
	struct vm_op *snap_op;
	bool snap_revert;
	/* a stopped VM's qemu-img runs, watched on the loop (or NULL) */
	struct vmm_snapshot_job *snap_job;
	struct wl_event_source *snap_source, *snap_timer;

	/* fast start: the stage, the booted state this start uses, when it
	 * began (ms), why it failed (the stop's reason) */
	enum fast_stage fast;
	char *shown_booted; /* vm_manager_get_info's booted_state */
	bool fast_hello; /* its agent said HELLO (held) while it was plugged */
	/* the activation in flight is a later one (FAST_ATTACHED): the VM may
	 * be in use, a failure does not kill it */
	bool fast_again;
	struct wl_event_source *fast_timer; /* the activation's deadline */
	/* started as one of its template's preloaded disposables: paused at
	 * FAST_PRELOADED instead of activated */
	bool preload;
	/* the user stopped it while it was preloaded: not preloaded again
	 * until the user starts it */
	bool no_preload;
	char *booted_path;
	int64_t fast_t0;
	char fast_error[256];
};

struct vm_manager {
	struct server *server;
	char *run_dir; /* $XDG_RUNTIME_DIR/vitrail/vms */
	char *agent_path;
	struct managed_vm *vms;
	size_t n_vms;
	uint32_t next_run_id;
	struct wl_event_source *log_timer;
	struct wl_event_source *preload_idle; /* preload_fill soon */
	bool exiting;
	struct vm_manager_events events;
};

struct vm_manager_events *vm_manager_events(struct vm_manager *manager)
{
	return &manager->events;
}

/*
 * A guest writes its serial console (and a local agent its output) into a
 * log under $XDG_RUNTIME_DIR, usually RAM-backed: without a cap a guest
 * could fill it. Logs are opened for appending, so truncating one to zero
 * restarts it cleanly; it is checked every few seconds.
 */
#define VM_LOG_MAX_BYTES (16 * 1024 * 1024)
#define VM_LOG_CHECK_MS 5000

static const struct vmm_vm_handler vmm_handler;
static void suspend_vmm_state(struct managed_vm *vm, enum vmm_state state);
static void suspend_restore_pending(struct managed_vm *vm, enum vmm_state state);
static void suspend_changed(struct managed_vm *vm, enum suspend_stage stage);
static void arm_idle(struct managed_vm *vm);

/* ---- helpers ---- */

static struct managed_vm *find_vm(struct vm_manager *manager, struct vm_link *link)
{
	for (size_t i = 0; i < manager->n_vms; i++) {
		if (manager->vms[i].link == link) {
			return &manager->vms[i];
		}
	}
	return NULL;
}

static struct managed_vm *find_vm_by_name(struct vm_manager *manager, const char *name)
{
	for (size_t i = 0; i < manager->n_vms; i++) {
		if (strcmp(manager->vms[i].config->name, name) == 0) {
			return &manager->vms[i];
		}
	}
	return NULL;
}

const char *vm_manager_state_name(enum vm_state state)
{
	switch (state) {
	case VM_STOPPED:
		return "stopped";
	case VM_STARTING:
		return "starting";
	case VM_RUNNING:
		return "running";
	case VM_STOPPING:
		return "stopping";
	case VM_CRASHED:
		return "crashed";
	}
	return "unknown";
}

/* What the user sees: a local VM served by an agent started elsewhere runs. */
static enum vm_state shown_state(const struct managed_vm *vm)
{
	if (vm->preload) {
		return VM_STOPPED; /* free for the taking (vm_manager_preloaded) */
	}
	if (vm->config->type == CONFIG_VM_LOCAL && vm->agent_pid == 0 &&
		vm_link_connected(vm->link)) {
		return VM_RUNNING;
	}
	return vm->state;
}

/* ---- waiters ---- */

static void waiter_free(struct vm_op *waiter)
{
	if (waiter->vm->snap_op == waiter) {
		waiter->vm->snap_op = NULL;
	}
	wl_list_remove(&waiter->link);
	loop_source_remove(&waiter->timer);
	free(waiter->argv);
	free(waiter);
}

/* Forget the waiter, then give its answer. */
static void waiter_done(struct vm_op *waiter, const struct vm_op_result *result)
{
	vm_op_done_fn done = waiter->done;
	void *data = waiter->data;
	waiter_free(waiter);
	done(data, result);
}

/* Answer with the VM's state. */
static void waiter_state(struct vm_op *waiter)
{
	struct managed_vm *vm = waiter->vm;
	struct vm_op_result result = {
		.state = shown_state(vm),
		.reason = vm->reason,
	};
	waiter_done(waiter, &result);
}

static void waiter_fail(struct vm_op *waiter, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void waiter_fail(struct vm_op *waiter, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	char *message = text_vprintf(fmt, args);
	va_end(args);
	struct vm_op_result result = { .error = message != NULL ? message : "out of memory" };
	waiter_done(waiter, &result);
	free(message);
}

void vm_manager_cancel(struct vm_op *op)
{
	if (op == NULL) {
		return;
	}
	if (op->sent) {
		wlr_log(WLR_INFO, "[vm %s] run request %u: the client went away",
			op->vm->config->name, op->request_id);
	}
	waiter_free(op);
}

static int handle_waiter_timeout(void *data)
{
	struct vm_op *waiter = data;
	waiter_fail(waiter, "the agent of VM %s did not connect within %d s",
		waiter->vm->config->name, VM_MANAGER_CONNECT_TIMEOUT_S);
	return 0;
}

static bool send_run(struct managed_vm *vm, struct vm_op *waiter)
{
	struct vtp_launch run = { .request_id = waiter->request_id };
	wl_signal_emit(&vm->manager->server->events.user_launch, vm->link);
	if (!vm_link_send(vm->link, VTP_RUN, 0, &run, waiter->argv, waiter->argv_len)) {
		return false;
	}
	waiter->sent = true;
	loop_source_remove(&waiter->timer);
	return true;
}

/* The agent connected: pending runs go out, start --wait is answered. */
static void waiters_connected(struct managed_vm *vm)
{
	struct vm_op *waiter, *tmp;
	wl_list_for_each_safe(waiter, tmp, &vm->waiters, link) {
		if (waiter->kind == WAIT_CONNECTED) {
			waiter_state(waiter);
		} else if (waiter->kind == WAIT_RUN && !waiter->sent && !send_run(vm, waiter)) {
			waiter_fail(waiter, "cannot send the command to VM %s", vm->config->name);
		}
	}
}

/* The VM is stopped or crashed: every waiter gets its answer. */
static void waiters_stopped(struct managed_vm *vm)
{
	struct vm_op *waiter, *tmp;
	wl_list_for_each_safe(waiter, tmp, &vm->waiters, link) {
		if (waiter->kind == WAIT_STOPPED ||
			(waiter->kind == WAIT_SUSPENDED && vm->suspend == SUSPEND_SAVED)) {
			waiter_state(waiter);
		} else if (vm->restore_pending) {
			continue; /* for the restore that comes next */
		} else {
			waiter_fail(waiter, "VM %s %s%s%s", vm->config->name,
				vm_manager_state_name(vm->state), vm->reason[0] != '\0' ? ": " : "",
				vm->reason);
		}
	}
}

/* The agent connection ended: runs in flight have lost their result. */
static void waiters_disconnected(struct managed_vm *vm)
{
	struct vm_op *waiter, *tmp;
	wl_list_for_each_safe(waiter, tmp, &vm->waiters, link) {
		if (waiter->kind == WAIT_RUN && waiter->sent) {
			waiter_fail(waiter,
				"the connection to VM %s was lost before the command ended",
				vm->config->name);
		}
	}
}

static struct vm_op *waiter_create(
	struct managed_vm *vm, enum waiter_kind kind, vm_op_done_fn done, void *data)
{
	struct vm_op *waiter = calloc(1, sizeof(*waiter));
	if (waiter == NULL) {
		return NULL;
	}
	waiter->vm = vm;
	waiter->done = done;
	waiter->data = data;
	waiter->kind = kind;
	if (kind != WAIT_STOPPED && kind != WAIT_SUSPENDED) {
		waiter->timer = wl_event_loop_add_timer(
			vm->manager->server->loop, handle_waiter_timeout, waiter);
		if (waiter->timer == NULL) {
			free(waiter);
			return NULL;
		}
		wl_event_source_timer_update(waiter->timer, VM_MANAGER_CONNECT_TIMEOUT_S * 1000);
	}
	wl_list_insert(vm->waiters.prev, &waiter->link);
	return waiter;
}

/* ---- state ---- */

static void set_state(struct managed_vm *vm, enum vm_state state, const char *reason)
{
	if (reason != NULL) {
		snprintf(vm->reason, sizeof(vm->reason), "%s", reason);
	}
	if (vm->state == state) {
		return;
	}
	vm->state = state;
	if (state != VM_RUNNING && vm->paused) {
		/* whatever ended it ended the pause too */
		vm->paused = false;
		vm_link_set_frozen(vm->link, false);
		wl_signal_emit(&vm->manager->events.paused, vm->link);
	}
	wlr_log(WLR_INFO, "[vm %s] %s%s%s", vm->config->name, vm_manager_state_name(state),
		vm->reason[0] != '\0' ? ": " : "", vm->reason);
	if (state == VM_STOPPED || state == VM_CRASHED) {
		waiters_stopped(vm);
	}
	wl_signal_emit(&vm->manager->events.state, vm->link);
}

enum vm_state vm_manager_state(struct vm_manager *manager, struct vm_link *link)
{
	struct managed_vm *vm = find_vm(manager, link);
	return vm != NULL ? shown_state(vm) : VM_STOPPED;
}

/* ---- link events ---- */

static void handle_welcome(struct wl_listener *listener, void *data)
{
	struct managed_vm *vm = wl_container_of(listener, vm, welcome);
	vm->booting = false;
	if (vm->vmm != NULL) {
		vmm_vm_note_progress(vm->vmm); /* the guest runs: KVM (if used) works */
	}
	if (vm->suspend == SUSPEND_RESTORING) {
		vm->suspend = SUSPEND_NONE;
		wlr_log(WLR_INFO, "[vm %s] restored: its agent is back", vm->config->name);
		wl_signal_emit(&vm->manager->events.paused, vm->link);
	}
	arm_idle(vm);
	if (vm->state == VM_STARTING) {
		set_state(vm, VM_RUNNING, "");
	} else {
		/* an agent back on a VM that kept running */
		wl_signal_emit(&vm->manager->events.state, vm->link);
	}
	waiters_connected(vm);
}

static void schedule_connect(struct managed_vm *vm, int delay_ms)
{
	if (vm->connect_timer != NULL) {
		/* 0 disarms a wl timer: connect "now" is 1 ms */
		wl_event_source_timer_update(vm->connect_timer, delay_ms > 0 ? delay_ms : 1);
	}
}

static void handle_disconnect(struct wl_listener *listener, void *data)
{
	struct managed_vm *vm = wl_container_of(listener, vm, disconnect);
	waiters_disconnected(vm);
	wl_signal_emit(&vm->manager->events.state, vm->link);
	if (vm->vmm != NULL && vmm_vm_state(vm->vmm) == VMM_RUNNING) {
		schedule_connect(vm, RECONNECT_DELAY_MS);
	}
}

void vm_manager_handle_run_result(
	struct vm_manager *manager, struct vm_link *link, const struct vtp_msg *msg)
{
	struct managed_vm *vm = manager != NULL ? find_vm(manager, link) : NULL;
	if (vm == NULL) {
		return;
	}
	/* the decoder checked the kind; id and status are the guest's word */
	uint32_t untrusted_id = msg->body.run_result.request_id;
	int32_t untrusted_status = msg->body.run_result.status;
	const char *kind;
	switch (msg->body.run_result.kind) {
	case VTP_RUN_EXITED:
		kind = "exited";
		break;
	case VTP_RUN_SIGNALED:
		kind = "signaled";
		break;
	case VTP_RUN_FAILED:
		kind = "failed";
		break;
	default:
		return; /* STARTED answers LAUNCH_APP (apps_host.c), not RUN */
	}
	struct vm_op *waiter;
	wl_list_for_each(waiter, &vm->waiters, link) {
		if (waiter->kind == WAIT_RUN && waiter->sent &&
			waiter->request_id == untrusted_id) {
			/* vitrailctl checks the status's range */
			struct vm_op_result result = {
				.run_kind = kind,
				.run_status = untrusted_status,
			};
			waiter_done(waiter, &result);
			arm_idle(vm); /* idle from the end of the run */
			return;
		}
	}
}

/* ---- local VMs: the agent as our child ---- */

static void remove_temp_home(struct managed_vm *vm);

static void agent_forget(struct managed_vm *vm)
{
	loop_source_remove(&vm->agent_source);
	if (vm->agent_pidfd >= 0) {
		close(vm->agent_pidfd);
		vm->agent_pidfd = -1;
	}
	loop_source_remove(&vm->kill_timer);
	vm->agent_pid = 0;
}

static int handle_group_timer(void *data)
{
	struct managed_vm *vm = data;
	if (vm->orphan_group > 0 && kill(-vm->orphan_group, SIGKILL) == 0) {
		wlr_log(WLR_INFO, "[vm %s] apps of the gone agent ignored SIGTERM: SIGKILL",
			vm->config->name);
	}
	vm->orphan_group = 0;
	return 0;
}

/* The agent (pid, leader of its process group) is gone: end the apps it
 * left, which stay in its group; those that ignore SIGTERM are killed
 * AGENT_GROUP_KILL_MS later. */
static void end_agent_group(struct managed_vm *vm, pid_t pid)
{
	if (vm->orphan_group > 0) {
		kill(-vm->orphan_group, SIGKILL); /* an earlier agent's: no more waiting */
	}
	vm->orphan_group = 0;
	if (kill(-pid, SIGTERM) < 0) {
		return; /* nothing left */
	}
	wlr_log(WLR_INFO, "[vm %s] ending the apps of the gone agent (process group %d)",
		vm->config->name, (int)pid);
	if (vm->group_timer == NULL) {
		vm->group_timer =
			wl_event_loop_add_timer(vm->manager->server->loop, handle_group_timer, vm);
	}
	if (vm->group_timer == NULL) {
		kill(-pid, SIGKILL);
		return;
	}
	vm->orphan_group = pid;
	wl_event_source_timer_update(vm->group_timer, AGENT_GROUP_KILL_MS);
}

static int handle_agent_exit(int fd, uint32_t mask, void *data)
{
	struct managed_vm *vm = data;
	int status;
	pid_t r = waitpid(vm->agent_pid, &status, WNOHANG);
	if (r == 0 || (r < 0 && errno == EINTR)) {
		return 0;
	}
	pid_t pid = vm->agent_pid;
	bool requested = vm->stop_requested;
	agent_forget(vm);
	end_agent_group(vm, pid);
	vm->stop_requested = false;
	vm_link_disconnect(vm->link, "the agent exited");
	remove_temp_home(vm);
	char reason[512];
	enum vm_state state = VM_CRASHED;
	if (r < 0) {
		snprintf(reason, sizeof(reason), "vitrail-agent (pid %d) is gone", (int)pid);
		state = requested ? VM_STOPPED : VM_CRASHED;
	} else if (requested) {
		snprintf(reason, sizeof(reason), "stopped");
		state = VM_STOPPED;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		snprintf(reason, sizeof(reason), "vitrail-agent exited; log: %s", vm->log_path);
		state = VM_STOPPED;
	} else if (WIFEXITED(status)) {
		snprintf(reason, sizeof(reason), "vitrail-agent exited with status %d; log: %s",
			WEXITSTATUS(status), vm->log_path);
	} else {
		snprintf(reason, sizeof(reason), "vitrail-agent was killed by signal %d; log: %s",
			WTERMSIG(status), vm->log_path);
	}
	set_state(vm, state, reason);
	return 0;
}

static int handle_kill_timer(void *data)
{
	struct managed_vm *vm = data;
	if (vm->agent_pid > 0) {
		wlr_log(WLR_INFO, "[vm %s] the agent ignores SIGTERM: SIGKILL", vm->config->name);
		kill(-vm->agent_pid, SIGKILL);
	}
	return 0;
}

/* The agent's home: $XDG_DATA_HOME/vitrail/vms/NAME/home (0700). */
static char *agent_home(const struct managed_vm *vm)
{
	return fs_user_path(
		"XDG_DATA_HOME", ".local/share", "vitrail/vms/%s/home", vm->config->name);
}

/* Empty the directory dfd (taken: closed here) without following any
 * symbolic link: every entry is reached through its parent's descriptor,
 * unlinkat() removes links themselves, and subdirectories are opened with
 * O_NOFOLLOW. false if something was left. */
static bool empty_dir_at(int dfd, int depth)
{
	/* a directory the guest made read-only: we own it, we may empty it */
	struct stat st;
	if (fstat(dfd, &st) == 0 && (st.st_mode & 0700) != 0700) {
		fchmod(dfd, (st.st_mode & 07777) | 0700);
	}
	DIR *dir = fdopendir(dfd);
	if (dir == NULL) {
		close(dfd);
		return false;
	}
	bool ok = true;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
			continue;
		}
		if (unlinkat(dirfd(dir), e->d_name, 0) == 0 || errno == ENOENT) {
			continue;
		}
		if (errno != EISDIR) {
			ok = false;
			continue;
		}
		int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
		int sub = openat(dirfd(dir), e->d_name, flags);
		if (sub < 0 && errno == EACCES &&
			fchmodat(dirfd(dir), e->d_name, 0700, AT_SYMLINK_NOFOLLOW) == 0) {
			/* glibc refuses AT_SYMLINK_NOFOLLOW on a symlink: never followed */
			sub = openat(dirfd(dir), e->d_name, flags);
		}
		if (sub < 0 || depth >= TEMP_HOME_MAX_DEPTH) {
			if (sub >= 0) {
				close(sub);
			}
			ok = false;
			continue;
		}
		if (!empty_dir_at(sub, depth + 1) ||
			unlinkat(dirfd(dir), e->d_name, AT_REMOVEDIR) < 0) {
			ok = false;
		}
	}
	closedir(dir);
	return ok;
}

/* rm -r PATH, for a directory we made (never through a symlink). */
static bool remove_tree(const char *path)
{
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		return errno == ENOENT;
	}
	/* twice: a file that appeared while the first pass ran */
	bool emptied = false;
	for (int pass = 0; pass < 2 && !emptied; pass++) {
		int fd = dup(dfd);
		if (fd < 0) {
			break;
		}
		/* the copy shares the offset: rewind */
		if (lseek(fd, 0, SEEK_SET) != 0) {
			close(fd);
			break;
		}
		emptied = empty_dir_at(fd, 0);
	}
	close(dfd);
	return emptied && rmdir(path) == 0;
}

/* The HOME of a disposable local VM is gone with it. */
static void remove_temp_home(struct managed_vm *vm)
{
	if (vm->temp_home == NULL) {
		return;
	}
	if (remove_tree(vm->temp_home)) {
		wlr_log(WLR_INFO, "[vm %s] removed its disposable home %s", vm->config->name,
			vm->temp_home);
	} else {
		wlr_log_errno(WLR_ERROR, "[vm %s] cannot remove all of its disposable home %s",
			vm->config->name, vm->temp_home);
	}
	free(vm->temp_home);
	vm->temp_home = NULL;
}

/* A fresh HOME for a disposable local VM: RUN/NAME.disp.XXXXXX (0700). */
static char *make_temp_home(const struct managed_vm *vm)
{
	char *path = text_printf("%s/%s.disp.XXXXXX", vm->manager->run_dir, vm->config->name);
	if (path != NULL && mkdtemp(path) == NULL) {
		free(path);
		return NULL;
	}
	return path;
}

/* Leftovers of a vitrail that did not stop its disposable VMs. */
static void remove_stale_temp_homes(struct managed_vm *vm)
{
	char prefix[CONFIG_VM_NAME_MAX + 8];
	snprintf(prefix, sizeof(prefix), "%s.disp.", vm->config->name);
	DIR *dir = opendir(vm->manager->run_dir);
	if (dir == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
			strlen(e->d_name) != strlen(prefix) + 6) {
			continue;
		}
		vm->temp_home = text_printf("%s/%s", vm->manager->run_dir, e->d_name);
		remove_temp_home(vm);
	}
	closedir(dir);
}

static void free_strv(char **strv)
{
	for (size_t i = 0; strv != NULL && strv[i] != NULL; i++) {
		free(strv[i]);
	}
	free(strv);
}

/* vitrail's environment for the agent: HOME is the VM's; no display of
 * ours, no XDG directories of the host user (they follow HOME). */
static char **agent_environment(const char *home)
{
	static const char *const drop[] = { "HOME", "WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY",
		"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
		"VITRAIL_SOCK", "VITRAIL_AGENT" };
	size_t n = 0;
	while (environ[n] != NULL) {
		n++;
	}
	char **envp = calloc(n + 2, sizeof(*envp));
	if (envp == NULL) {
		return NULL;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool dropped = false;
		for (size_t d = 0; d < sizeof(drop) / sizeof(drop[0]); d++) {
			size_t len = strlen(drop[d]);
			if (strncmp(environ[i], drop[d], len) == 0 && environ[i][len] == '=') {
				dropped = true;
				break;
			}
		}
		if (!dropped && (envp[k] = strdup(environ[i])) != NULL) {
			k++;
		}
	}
	envp[k] = text_printf("HOME=%s", home);
	if (envp[k] == NULL) {
		free_strv(envp);
		return NULL;
	}
	return envp;
}

static bool start_local(struct managed_vm *vm, char **error)
{
	struct vm_manager *manager = vm->manager;
	if (vm->agent_pid > 0) {
		*error = text_printf(
			"VM %s is %s", vm->config->name, vm_manager_state_name(vm->state));
		return false;
	}
	char *home = NULL;
	if (vm->config->disposable_of != NULL) {
		remove_temp_home(vm);
		home = make_temp_home(vm);
		if (home == NULL || (vm->temp_home = strdup(home)) == NULL) {
			*error = text_printf("VM %s: cannot create a home directory in %s: %s",
				vm->config->name, manager->run_dir, strerror(errno));
			if (home != NULL) {
				rmdir(home);
			}
			free(home);
			return false;
		}
	} else {
		home = agent_home(vm);
		if (home == NULL) {
			*error = text_printf("VM %s: cannot create its home directory "
					     "(HOME is not set)",
				vm->config->name);
			return false;
		}
		if (!fs_private_dir(home)) {
			*error = text_printf("VM %s: cannot create its home directory %s: %s",
				vm->config->name, home, strerror(errno));
			free(home);
			return false;
		}
	}
	int log_fd = open(vm->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		*error = text_printf(
			"VM %s: %s: %s", vm->config->name, vm->log_path, strerror(errno));
		free(home);
		remove_temp_home(vm);
		return false;
	}
	char *connect = text_printf("unix:%s", vm_link_socket_path(vm->link));
	const char *argv[] = { manager->agent_path, "--connect", connect, "--", "/bin/sh", "-c",
		vm->config->command, NULL };
	if (vm->config->command == NULL) {
		argv[3] = NULL;
	}
	/* made before fork: the child only calls async-signal-safe functions */
	char **envp = agent_environment(home);
	pid_t parent = getpid();
	pid_t pid = connect != NULL && envp != NULL ? fork() : -1;
	if (pid == 0) {
		/* the agent goes with us, even if we crash */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent) {
			_exit(127);
		}
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int sig = 1; sig < NSIG; sig++) {
			signal(sig, SIG_DFL);
		}
		setsid();
		if (chdir(home) < 0) {
			_exit(127);
		}
		int null_fd = open("/dev/null", O_RDONLY);
		if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 ||
			dup2(log_fd, 2) < 0) {
			_exit(127);
		}
		closefrom(3);
		if (strchr(argv[0], '/') != NULL) {
			execve(argv[0], (char *const *)argv, envp);
		} else {
			execvpe(argv[0], (char *const *)argv, envp);
		}
		static const char msg[] = "vitrail: cannot run vitrail-agent (set VITRAIL_AGENT)\n";
		ssize_t n = write(2, msg, sizeof(msg) - 1);
		(void)n;
		_exit(127);
	}
	int saved = errno;
	close(log_fd);
	free(connect);
	free(home);
	free_strv(envp);
	if (pid < 0) {
		*error = text_printf("VM %s: cannot fork: %s", vm->config->name, strerror(saved));
		remove_temp_home(vm);
		return false;
	}
	vm->agent_pid = pid;
	vm->stop_requested = false;
	vm->agent_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (vm->agent_pidfd >= 0) {
		vm->agent_source = wl_event_loop_add_fd(manager->server->loop, vm->agent_pidfd,
			WL_EVENT_READABLE, handle_agent_exit, vm);
	}
	if (vm->agent_source == NULL) {
		wlr_log_errno(WLR_ERROR, "[vm %s] cannot watch the agent", vm->config->name);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
		}
		agent_forget(vm);
		remove_temp_home(vm);
		*error = text_printf("VM %s: cannot watch its agent", vm->config->name);
		return false;
	}
	wlr_log(WLR_INFO, "[vm %s] started %s (pid %d), log %s%s%s", vm->config->name,
		manager->agent_path, (int)pid, vm->log_path,
		vm->temp_home != NULL ? ", disposable home " : "",
		vm->temp_home != NULL ? vm->temp_home : "");
	set_state(vm, VM_STARTING, "");
	return true;
}

static void stop_local(struct managed_vm *vm)
{
	if (vm->agent_pid <= 0 || vm->stop_requested) {
		return;
	}
	vm->stop_requested = true;
	/* the agent leads its process group, with the apps it started */
	kill(-vm->agent_pid, SIGTERM);
	vm->kill_timer = wl_event_loop_add_timer(vm->manager->server->loop, handle_kill_timer, vm);
	if (vm->kill_timer != NULL) {
		wl_event_source_timer_update(vm->kill_timer, AGENT_STOP_TIMEOUT_MS);
	}
	set_state(vm, VM_STOPPING, "");
}

/* ---- QEMU VMs: vmm-glue on the event loop ---- */

static void vmm_sync(struct managed_vm *vm);

static int handle_vmm_fd(int fd, uint32_t mask, void *data)
{
	struct managed_vm *vm = data;
	vmm_vm_dispatch(vm->vmm);
	vmm_sync(vm);
	return 0;
}

static int handle_vmm_timer(void *data)
{
	struct managed_vm *vm = data;
	vmm_vm_tick(vm->vmm);
	vmm_sync(vm);
	return 0;
}

/* Watch what vmm-glue wants watched now: its fd and its next tick. */
static void vmm_sync(struct managed_vm *vm)
{
	int fd = vmm_vm_fd(vm->vmm);
	if (fd != vm->vmm_fd || vm->vmm_resync) {
		loop_source_remove(&vm->vmm_source);
		vm->vmm_fd = -1;
		vm->vmm_resync = false;
		if (fd >= 0) {
			vm->vmm_source = wl_event_loop_add_fd(vm->manager->server->loop, fd,
				WL_EVENT_READABLE, handle_vmm_fd, vm);
			if (vm->vmm_source != NULL) {
				vm->vmm_fd = fd;
			}
		}
	}
	int ms = vmm_vm_timeout_ms(vm->vmm);
	if (fd >= 0 && vm->vmm_source == NULL && (ms < 0 || ms > 100)) {
		ms = 100; /* no fd source: poll */
	}
	wl_event_source_timer_update(vm->vmm_timer, ms < 0 ? 0 : ms == 0 ? 1 : ms);
}

static int handle_connect_timer(void *data)
{
	struct managed_vm *vm = data;
	if (vm->vmm == NULL || vmm_vm_state(vm->vmm) != VMM_RUNNING ||
		vm_link_has_connection(vm->link)) {
		return 0;
	}
	const char *path = vmm_vm_control_path(vm->vmm);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		wlr_log(WLR_ERROR, "[vm %s] control socket path too long: %s", vm->config->name,
			path);
		return 0;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		wlr_log_errno(WLR_ERROR, "[vm %s] socket", vm->config->name);
		schedule_connect(vm, CONNECT_RETRY_MS);
		return 0;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		wlr_log(WLR_DEBUG, "[vm %s] connect %s: %s", vm->config->name, path,
			strerror(errno));
		close(fd);
		schedule_connect(vm, CONNECT_RETRY_MS);
		return 0;
	}
	int timeout = vm->booting ? BOOT_HELLO_TIMEOUT_MS : HELLO_TIMEOUT_MS;
	if (vm->config->fast_start) {
		vm_link_hold(vm->link); /* told who it is first: fast_activate */
	}
	wlr_log(WLR_DEBUG, "[vm %s] connected to %s; waiting %d ms for HELLO", vm->config->name,
		path, timeout);
	if (!vm_link_connect_fd(vm->link, fd, timeout)) {
		schedule_connect(vm, CONNECT_RETRY_MS);
	}
	return 0;
}

static bool fast_fall_back(struct managed_vm *vm, enum vmm_state state);
static void fast_plug(struct managed_vm *vm, bool hello);
static void preload_schedule(struct vm_manager *manager);

static void handle_vmm_state(void *data, struct vmm_vm *vmm)
{
	struct managed_vm *vm = data;
	vm->vmm_resync = true;
	enum vmm_state state = vmm_vm_state(vmm);
	if (fast_fall_back(vm, state)) {
		return;
	}
	suspend_vmm_state(vm, state);
	switch (state) {
	case VMM_STARTING:
		/* also QEMU restarted under TCG because KVM failed it: the old
		 * process's socket and pool are gone */
		if (vm->connect_timer != NULL) {
			wl_event_source_timer_update(vm->connect_timer, 0);
		}
		vm_link_disconnect(vm->link, "QEMU restarts");
		vm_link_set_pool(vm->link, -1, 0);
		if (vmm_vm_accel_note(vmm)[0] != '\0') {
			wlr_log(WLR_INFO, "[vm %s] %s", vm->config->name, vmm_vm_accel_note(vmm));
		}
		set_state(vm, VM_STARTING, "");
		break;
	case VMM_RUNNING:
		wlr_log(WLR_INFO, "[vm %s] QEMU runs (pid %d)", vm->config->name,
			(int)vmm_vm_pid(vmm));
		if (vmm_vm_pool_fd(vmm) < 0) {
			/* re-attached: see vmm_vm_attach() */
			set_state(vm, VM_STARTING,
				"cannot map the VM's pool: QEMU holds no sealed pool on its fd 3 "
				"(started by an older vitrail, or compromised); stop the VM");
			break;
		}
		if (!vm_link_set_pool(vm->link, vmm_vm_pool_fd(vmm), vmm_vm_pool_size(vmm))) {
			set_state(vm, VM_STARTING, "cannot map the VM's pool");
			break;
		}
		if (vm->fast == FAST_RESTORING) {
			/* while its agent notices its old host went */
			fast_plug(vm, false);
		}
		/* a guest we booted is not up yet; one we re-attached to may
		 * not have seen its last host go: give it time */
		schedule_connect(vm,
			vm->booting ? 0
				: vm->suspend == SUSPEND_RESTORING || vm->fast == FAST_PLUGGING ||
					vm->fast == FAST_PLUGGED
				? RESTORE_CONNECT_DELAY_MS
				: RECONNECT_DELAY_MS);
		wl_signal_emit(&vm->manager->events.state, vm->link);
		break;
	case VMM_STOPPING:
		set_state(vm, VM_STOPPING, "");
		break;
	case VMM_STOPPED:
	case VMM_CRASHED:
		if (vm->connect_timer != NULL) {
			wl_event_source_timer_update(vm->connect_timer, 0);
		}
		vm_link_disconnect(vm->link, vmm_vm_reason(vmm));
		vm_link_set_pool(vm->link, -1, 0);
		vm->booting = false;
		if (vm->preload) {
			/* a preload that failed is not tried again and again */
			vm->no_preload = vm->fast != FAST_PRELOADED;
			vm->preload = false;
		}
		vm->fast = FAST_NONE;
		vm->fast_again = false;
		if (vm->fast_timer != NULL) {
			wl_event_source_timer_update(vm->fast_timer, 0);
		}
		preload_schedule(vm->manager);
		set_state(vm, state == VMM_STOPPED ? VM_STOPPED : VM_CRASHED,
			vm->fast_error[0] != '\0' ? vm->fast_error : vmm_vm_reason(vmm));
		break;
	}
	suspend_restore_pending(vm, state);
}

static void handle_vmm_saved(void *data, struct vmm_vm *vmm, const char *error);
static void handle_vmm_plugged(void *data, struct vmm_vm *vmm, const char *error);

static const struct vmm_vm_handler vmm_handler = {
	.state_changed = handle_vmm_state,
	.saved = handle_vmm_saved,
	.plugged = handle_vmm_plugged,
};

/* The template whose image a qemu VM boots an overlay of (AppVM or
 * disposable), NULL if none. */
static const char *template_name(const struct config_vm *c)
{
	if (c->type != CONFIG_VM_QEMU) {
		return NULL;
	}
	return c->template_of != NULL ? c->template_of : c->disposable_of;
}

/* Is this VM's QEMU up (starting, running or stopping)? A suspended VM
 * counts: its saved state goes with the disks as they are. */
static bool qemu_up(const struct managed_vm *vm)
{
	if (vm->config->type != CONFIG_VM_QEMU || vm->vmm == NULL) {
		return false;
	}
	if (vm->suspend != SUSPEND_NONE) {
		return true;
	}
	enum vmm_state state = vmm_vm_state(vm->vmm);
	return state != VMM_STOPPED && state != VMM_CRASHED;
}

/* Overlays are read-only views of a template that is not running: a
 * template and the VMs booting overlays of it never run at once. */
static bool check_template_exclusion(struct managed_vm *vm, char **error)
{
	struct vm_manager *manager = vm->manager;
	const char *tname = template_name(vm->config);
	for (size_t i = 0; i < manager->n_vms; i++) {
		struct managed_vm *other = &manager->vms[i];
		if (other == vm || !qemu_up(other)) {
			continue;
		}
		const char *how = other->suspend == SUSPEND_SAVED ? "suspended"
			: other->preload                          ? "preloaded"
								  : "running";
		if (tname != NULL && strcmp(other->config->name, tname) == 0) {
			*error = text_printf("VM %s: its template %s is %s; stop %s first",
				vm->config->name, tname, how, tname);
			return false;
		}
		const char *otname = template_name(other->config);
		if (otname != NULL && strcmp(otname, vm->config->name) == 0) {
			*error = text_printf("VM %s is the template of %s, which is %s; "
					     "stop %s first",
				vm->config->name, other->config->name, how, other->config->name);
			return false;
		}
	}
	return true;
}

static bool restore_qemu(struct managed_vm *vm, char **error);
static bool snapshot_check_start(struct managed_vm *vm, char **error);
static bool fast_start_qemu(struct managed_vm *vm, char **error);

static bool start_qemu(struct managed_vm *vm, char **error)
{
	enum vmm_state state = vmm_vm_state(vm->vmm);
	if (state != VMM_STOPPED && state != VMM_CRASHED) {
		*error = text_printf("VM %s is %s", vm->config->name, vmm_state_name(state));
		return false;
	}
	if (!check_template_exclusion(vm, error) || !snapshot_check_start(vm, error)) {
		return false;
	}
	if (vm->suspend == SUSPEND_SAVED && access(vm->state_path, F_OK) == 0) {
		return restore_qemu(vm, error);
	}
	if (vm->suspend == SUSPEND_SAVED) {
		/* its state is gone (removed by hand): a cold boot */
		wlr_log(WLR_ERROR, "[vm %s] its saved state %s is gone: booting it",
			vm->config->name, vm->state_path);
		suspend_changed(vm, SUSPEND_NONE);
	}
	vm->fast_error[0] = '\0';
	if (vm->config->fast_start) {
		return fast_start_qemu(vm, error);
	}
	vm->booting = true;
	if (!vmm_vm_start(vm->vmm, error)) {
		vm->booting = false;
		vmm_sync(vm);
		return false;
	}
	wlr_log(WLR_INFO, "[vm %s] QEMU started (pid %d); console log %s", vm->config->name,
		(int)vmm_vm_pid(vm->vmm), vm->log_path);
	vmm_sync(vm);
	return true;
}

static bool setup_qemu(struct managed_vm *vm)
{
	struct vm_manager *manager = vm->manager;
	const struct config_vm *c = vm->config;
	/* a disposable or an AppVM: an overlay of the template's disk if it
	 * has one, and its own kernel, else the template's (config.c checked
	 * the template) */
	const char *disk = NULL;
	const char *kernel = c->kernel, *initrd = c->initrd, *append = c->append;
	const char *tname = template_name(c);
	if (tname != NULL) {
		const struct config_vm *t = config_find_vm(manager->server->config, tname);
		if (t == NULL || t->type != CONFIG_VM_QEMU ||
			(t->image == NULL && t->kernel == NULL)) {
			snprintf(vm->reason, sizeof(vm->reason),
				"template %s is not a qemu VM with an image or a kernel", tname);
			return false;
		}
		disk = t->image;
		if (kernel == NULL) {
			kernel = t->kernel;
			initrd = t->initrd;
			append = t->append;
		}
	}
	/* dgram NICs to and from service VMs (netvm.h); a service VM's kernel
	 * learns its role (the template's session then starts no app) */
	struct netvm_nics nics;
	netvm_nics(manager->server->config, manager->run_dir, c, &nics);
	char *service_append = NULL;
	if (c->service != CONFIG_SERVICE_NONE && kernel != NULL) {
		service_append = text_printf("%s%svitrail.service=%s", append ? append : "",
			append ? " " : "", c->service == CONFIG_SERVICE_NET ? "net" : "firewall");
		append = service_append;
	}
	enum vmm_accel accel = c->accel == CONFIG_ACCEL_KVM ? VMM_ACCEL_KVM
		: c->accel == CONFIG_ACCEL_TCG              ? VMM_ACCEL_TCG
							    : VMM_ACCEL_AUTO;
	struct vmm_vm_spec spec = {
		.name = c->name,
		.run_dir = manager->run_dir,
		.image = c->image,
		.kernel = kernel,
		.initrd = initrd,
		.append = append,
		.disposable_of = disk,
		.private_image = c->private_image,
		.memory_mib = c->memory_mib,
		.cpus = c->cpus,
		.pool_size = (uint64_t)c->pool_size_mib << 20,
		.network_user = c->network_user,
		.nics = nics.nic,
		.n_nics = nics.n,
		.accel = accel,
		/* a service VM runs little code: a small TCG cache keeps its
		 * QEMU's memory near its guest's */
		.tcg_tb_mib = c->service != CONFIG_SERVICE_NONE ? SERVICE_TCG_TB_MIB : 0,
		.fast_start = c->fast_start,
	};
	char *error = NULL;
	vm->vmm = vmm_vm_create(&spec, &vmm_handler, vm, &error);
	free(service_append);
	if (vm->vmm == NULL) {
		snprintf(vm->reason, sizeof(vm->reason), "%s",
			error != NULL ? error : "out of memory");
		free(error);
		return false;
	}
	vm->log_path = strdup(vmm_vm_console_log_path(vm->vmm));
	struct wl_event_loop *loop = manager->server->loop;
	vm->vmm_timer = wl_event_loop_add_timer(loop, handle_vmm_timer, vm);
	vm->connect_timer = wl_event_loop_add_timer(loop, handle_connect_timer, vm);
	return vm->log_path != NULL && vm->vmm_timer != NULL && vm->connect_timer != NULL;
}

/* ---- start / stop ---- */

static bool is_down(const struct managed_vm *vm);
static bool vm_start(struct managed_vm *vm, char **error);

/* network = via:S: S (and what S goes through) starts first; config.c
 * ruled out cycles. */
static bool start_service_vm(struct managed_vm *vm, char **error)
{
	const char *via = vm->config->network_via;
	struct managed_vm *s = via != NULL ? find_vm_by_name(vm->manager, via) : NULL;
	if (s == NULL || !is_down(s)) {
		return true;
	}
	wlr_log(WLR_INFO, "[vm %s] starting %s first (its network goes through it)",
		vm->config->name, via);
	if (!vm_start(s, error)) {
		char *why = *error;
		*error = text_printf("cannot start %s, the service VM of %s: %s", via,
			vm->config->name, why != NULL ? why : "?");
		free(why);
		return false;
	}
	return true;
}

static bool preload_take(struct managed_vm *vm, char **error);

static bool vm_start(struct managed_vm *vm, char **error)
{
	*error = NULL;
	vm->no_preload = false;
	if (vm->fast == FAST_PRELOADED) {
		return preload_take(vm, error);
	}
	if (vm->preload) {
		/* asked for while being preloaded: it becomes itself when up */
		vm->preload = false;
		wlr_log(WLR_INFO, "[vm %s] asked for while being preloaded", vm->config->name);
		preload_schedule(vm->manager);
		return true;
	}
	bool ok = start_service_vm(vm, error) &&
		config_vm_check_files(vm->manager->server->config, vm->config, error) &&
		(vm->config->type == CONFIG_VM_QEMU ? start_qemu(vm, error)
						    : start_local(vm, error));
	if (!ok) {
		wlr_log(WLR_ERROR, "[vm %s] cannot start: %s", vm->config->name,
			*error != NULL ? *error : "?");
		set_state(vm, VM_CRASHED, *error != NULL ? *error : "cannot start");
	}
	return ok;
}

static int64_t realtime_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

/* Stop or continue what runs the VM: QEMU's CPUs (QMP), or the local
 * agent's whole process group (it runs in its own session). */
static bool pause_vm(struct managed_vm *vm, bool paused, char **error)
{
	const char *name = vm->config->name;
	if (vm->preload && paused) {
		*error = text_printf("VM %s is preloaded (not taken yet): nothing to pause", name);
		return false;
	}
	if (vm->preload) {
		return vm_start(vm, error); /* resume of a preloaded one takes it */
	}
	if (vm->paused == paused) {
		return true;
	}
	if (vm->state != VM_RUNNING) {
		*error = text_printf(
			"VM %s is not running (%s)", name, vm_manager_state_name(shown_state(vm)));
		return false;
	}
	if (vm->config->type == CONFIG_VM_QEMU) {
		if (vm->vmm == NULL || !vmm_vm_pause(vm->vmm, paused)) {
			*error = text_printf("VM %s: QEMU's control socket is not ready", name);
			return false;
		}
	} else if (vm->agent_pid <= 0) {
		*error = text_printf("VM %s: its agent was not started by vitrail", name);
		return false;
	} else if (kill(-vm->agent_pid, paused ? SIGSTOP : SIGCONT) != 0) {
		*error = text_printf("VM %s: cannot %s its processes: %s", name,
			paused ? "stop" : "continue", strerror(errno));
		return false;
	}
	vm->paused = paused;
	if (paused) {
		vm->paused_since = realtime_s();
	} else {
		vm->resumed_at = realtime_s();
	}
	vm_link_set_frozen(vm->link, paused);
	wlr_log(WLR_INFO, "[vm %s] %s", name, paused ? "paused" : "resumed");
	wl_signal_emit(&vm->manager->events.paused, vm->link);
	return true;
}

static bool suspend_stop(struct managed_vm *vm);

static void vm_stop(struct managed_vm *vm)
{
	if (suspend_stop(vm)) {
		return;
	}
	if (vm->preload) {
		/* nothing of the user's runs in it yet */
		wlr_log(WLR_INFO,
			"[vm %s] stopping a preloaded disposable: not preloaded again "
			"until it is started",
			vm->config->name);
		vm->no_preload = true;
		vm->preload = false;
		vm->fast = FAST_NONE;
		vmm_vm_kill(vm->vmm);
		vmm_sync(vm);
		return;
	}
	if (vm->paused) {
		/* a paused VM cannot take a shutdown request */
		char *error = NULL;
		if (!pause_vm(vm, false, &error)) {
			wlr_log(WLR_ERROR, "%s", error);
		}
		free(error);
	}
	if (vm->config->type == CONFIG_VM_QEMU) {
		enum vmm_state state = vmm_vm_state(vm->vmm);
		if (state == VMM_STARTING || state == VMM_RUNNING) {
			vmm_vm_stop(vm->vmm);
			vmm_sync(vm);
		}
	} else {
		stop_local(vm);
	}
}

static bool is_down(const struct managed_vm *vm)
{
	return vm->state == VM_STOPPED || vm->state == VM_CRASHED || vm->preload;
}

/* ---- suspend to disk (qemu VMs) ---- */

static int handle_idle_timer(void *data);

/* DATA/vitrail/vms/NAME/suspend.state: the VM's directory, as vitrailctl
 * create makes it; NULL without HOME. */
static char *state_path_for(const struct managed_vm *vm)
{
	return fs_user_path(
		"XDG_DATA_HOME", ".local/share", "vitrail/vms/%s/suspend.state", vm->config->name);
}

static bool suspend_setup(struct managed_vm *vm)
{
	vm->state_path = state_path_for(vm);
	if (vm->config->suspend_after_s > 0) {
		vm->idle_timer =
			wl_event_loop_add_timer(vm->manager->server->loop, handle_idle_timer, vm);
		if (vm->idle_timer == NULL) {
			snprintf(vm->reason, sizeof(vm->reason), "out of memory");
			return false;
		}
	}
	return true;
}

static void suspend_changed(struct managed_vm *vm, enum suspend_stage stage)
{
	vm->suspend = stage;
	wl_signal_emit(&vm->manager->events.paused, vm->link);
}

/* No QEMU runs for it: a saved state makes the VM suspended. */
static bool suspend_found(struct managed_vm *vm)
{
	if (vm->state_path == NULL || access(vm->state_path, F_OK) != 0) {
		return false;
	}
	vm->suspended_since = realtime_s();
	struct stat st;
	if (stat(vm->state_path, &st) == 0) {
		vm->suspended_since = (int64_t)st.st_mtime;
	}
	set_state(vm, VM_STOPPED, "suspended");
	suspend_changed(vm, SUSPEND_SAVED);
	wlr_log(WLR_INFO, "[vm %s] suspended in %s: restored when needed", vm->config->name,
		vm->state_path);
	return true;
}

/* vmm-glue: the save completed (QEMU quits next) or failed. */
static void fast_recorded(struct managed_vm *vm, const char *error);

static void handle_vmm_saved(void *data, struct vmm_vm *vmm, const char *error)
{
	struct managed_vm *vm = data;
	if (vm->fast == FAST_RECORDING) {
		fast_recorded(vm, error);
		return;
	}
	if (vm->suspend != SUSPEND_SAVING) {
		return;
	}
	if (error != NULL) {
		wlr_log(WLR_ERROR, "[vm %s] cannot suspend: %s; it runs on", vm->config->name,
			error);
		vm_link_set_frozen(vm->link, false);
		suspend_changed(vm, SUSPEND_NONE);
		struct vm_op *waiter, *tmp;
		wl_list_for_each_safe(waiter, tmp, &vm->waiters, link) {
			if (waiter->kind == WAIT_SUSPENDED) {
				waiter_fail(waiter, "cannot suspend VM %s: %s", vm->config->name,
					error);
			}
		}
		arm_idle(vm);
		return;
	}
	vm->suspended_since = realtime_s();
	wlr_log(WLR_INFO, "[vm %s] saved to %s; QEMU quits", vm->config->name, vm->state_path);
	vm->suspend = SUSPEND_SAVED;
	/* its windows stay (guest_vm_set_suspended): the link was told */
	vm_link_disconnect(vm->link, "suspended to disk");
	vm_link_set_frozen(vm->link, false); /* the restored agent is judged anew */
}

/* What a QEMU state change means for a suspend or a restore. */
static void suspend_vmm_state(struct managed_vm *vm, enum vmm_state state)
{
	if (vm->state_path == NULL) {
		return;
	}
	if (state == VMM_RUNNING) {
		/* restored, or adopted: what was saved is stale now */
		vmm_suspend_discard(vm->state_path);
		return;
	}
	if ((state != VMM_STOPPED && state != VMM_CRASHED) || vm->suspend != SUSPEND_RESTORING) {
		return;
	}
	if (state == VMM_CRASHED) {
		/* never again the same failure: kept for a look, and the next
		 * start boots the VM afresh */
		char *failed = text_printf("%s.failed", vm->state_path);
		if (failed != NULL && rename(vm->state_path, failed) == 0) {
			wlr_log(WLR_ERROR,
				"[vm %s] restore failed: its saved state is now %s; "
				"the next start boots it",
				vm->config->name, failed);
		}
		free(failed);
		vmm_suspend_discard(vm->state_path);
		suspend_changed(vm, SUSPEND_NONE);
	} else {
		/* stopped while loading: the state is still there, unless the
		 * loaded guest ran already (then it is gone: a cold boot next) */
		suspend_changed(
			vm, access(vm->state_path, F_OK) == 0 ? SUSPEND_SAVED : SUSPEND_NONE);
	}
}

/* After QEMU's state change: a restore asked for while it quit. */
static void suspend_restore_pending(struct managed_vm *vm, enum vmm_state state)
{
	if (!vm->restore_pending || (state != VMM_STOPPED && state != VMM_CRASHED)) {
		return;
	}
	vm->restore_pending = false;
	char *error = NULL;
	if (state != VMM_STOPPED || vm->suspend != SUSPEND_SAVED || !vm_start(vm, &error)) {
		waiters_stopped(vm); /* those that waited for it */
	}
	free(error);
}

static bool restore_qemu(struct managed_vm *vm, char **error)
{
	vm->booting = false; /* the guest is up: its agent reconnects at once */
	if (!vmm_vm_restore(vm->vmm, vm->state_path, error)) {
		vmm_sync(vm);
		return false;
	}
	wlr_log(WLR_INFO, "[vm %s] restoring from %s (QEMU pid %d)", vm->config->name,
		vm->state_path, (int)vmm_vm_pid(vm->vmm));
	suspend_changed(vm, SUSPEND_RESTORING);
	vmm_sync(vm);
	return true;
}

/* stop of a VM being suspended or suspended: true when that was all. A
 * suspended VM's saved state is discarded: its next start boots it. */
static bool suspend_stop(struct managed_vm *vm)
{
	if (vm->suspend == SUSPEND_SAVING) {
		wlr_log(WLR_INFO, "[vm %s] stop: it is being suspended", vm->config->name);
		return true;
	}
	if (vm->suspend == SUSPEND_SAVED) {
		vmm_suspend_discard(vm->state_path);
		set_state(vm, VM_STOPPED, "stopped; its suspended state was discarded");
		suspend_changed(vm, SUSPEND_NONE);
		return true;
	}
	if (vm->suspend == SUSPEND_RESTORING) {
		vmm_suspend_discard(vm->state_path);
		suspend_changed(vm, SUSPEND_NONE);
	}
	return false;
}

/* Begin a suspend. false and *error when it cannot. */
static bool suspend_vm(struct managed_vm *vm, char **error)
{
	const char *name = vm->config->name;
	if (vm->config->type != CONFIG_VM_QEMU) {
		*error = text_printf("VM %s: only qemu VMs can be suspended", name);
		return false;
	}
	if (vm->suspend == SUSPEND_SAVING || vm->suspend == SUSPEND_SAVED) {
		return true;
	}
	if (vm->preload) {
		*error = text_printf("VM %s is preloaded (not taken yet): start it first", name);
		return false;
	}
	if (vm->state != VM_RUNNING || vm->suspend != SUSPEND_NONE) {
		*error = text_printf(
			"VM %s is not running (%s)", name, vm_manager_state_name(shown_state(vm)));
		return false;
	}
	if (vm->state_path == NULL) {
		*error = text_printf("VM %s: no directory for its state (HOME is not set)", name);
		return false;
	}
	char *dir = strdup(vm->state_path);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	if (slash != NULL) {
		*slash = '\0';
	}
	if (dir == NULL || !fs_private_dir(dir)) {
		*error = text_printf("VM %s: cannot create %s: %s", name, dir != NULL ? dir : "?",
			strerror(errno));
		free(dir);
		return false;
	}
	free(dir);
	if (!vmm_vm_suspend(vm->vmm, vm->state_path, error)) {
		vmm_sync(vm);
		return false;
	}
	/* QMP stop came first: a user pause is part of the suspend now */
	vm->paused = false;
	vm_link_set_frozen(vm->link, true);
	if (vm->idle_timer != NULL) {
		wl_event_source_timer_update(vm->idle_timer, 0);
	}
	wlr_log(WLR_INFO, "[vm %s] suspending to %s", name, vm->state_path);
	suspend_changed(vm, SUSPEND_SAVING);
	vmm_sync(vm);
	return true;
}

/* Runs in flight: a `vitrailctl run` the agent has not answered. */
static bool runs_in_flight(const struct managed_vm *vm)
{
	const struct vm_op *waiter;
	wl_list_for_each(waiter, &vm->waiters, link) {
		if (waiter->kind == WAIT_RUN) {
			return true;
		}
	}
	return false;
}

static int handle_idle_timer(void *data)
{
	struct managed_vm *vm = data;
	if (vm->suspend != SUSPEND_NONE || vm->state != VM_RUNNING || runs_in_flight(vm)) {
		return 0; /* the end of the run arms it again */
	}
	/* a service VM is in use while a VM whose network goes through it runs */
	for (size_t i = 0; i < vm->manager->n_vms; i++) {
		const struct managed_vm *client = &vm->manager->vms[i];
		const char *via = client->config->network_via;
		if (via != NULL && strcmp(via, vm->config->name) == 0 && qemu_up(client)) {
			arm_idle(vm);
			return 0;
		}
	}
	char *error = NULL;
	wlr_log(WLR_INFO, "[vm %s] no input for %u s: suspending (suspend-after)", vm->config->name,
		vm->config->suspend_after_s);
	if (!suspend_vm(vm, &error)) {
		wlr_log(WLR_ERROR, "[vm %s] suspend-after: %s", vm->config->name,
			error != NULL ? error : "?");
	}
	free(error);
	return 0;
}

/* suspend-after counts from now. */
static void arm_idle(struct managed_vm *vm)
{
	if (vm->idle_timer != NULL && vm->config->suspend_after_s > 0) {
		wl_event_source_timer_update(
			vm->idle_timer, (int)vm->config->suspend_after_s * 1000);
	}
}

/* ---- commands ---- */

struct vm_link *vm_manager_find(struct vm_manager *manager, const char *name, char **error)
{
	struct managed_vm *vm = manager != NULL ? find_vm_by_name(manager, name) : NULL;
	if (vm == NULL) {
		*error = text_printf("no VM named '%s'", name);
		return NULL;
	}
	if (vm->config->type == CONFIG_VM_QEMU && vm->vmm == NULL) {
		*error = text_printf("VM %s: %s", name, vm->reason);
		return NULL;
	}
	return vm->link;
}

/* find_vm and vm_manager_find's checks, for a link. */
static struct managed_vm *command_vm(struct vm_manager *manager, struct vm_link *link, char **error)
{
	if (vm_manager_find(manager, vm_link_name(link), error) == NULL) {
		return NULL;
	}
	return find_vm(manager, link);
}

/* Start a VM that is down and not served by an outside agent. */
static bool start_if_down(struct managed_vm *vm, char **error)
{
	if (vm->state == VM_STOPPING && vm->suspend == SUSPEND_SAVED) {
		vm->restore_pending = true; /* saved, QEMU quitting: then restored */
		return true;
	}
	if (vm->state == VM_STOPPING) {
		*error = text_printf("VM %s is stopping", vm->config->name);
		return false;
	}
	if (is_down(vm) && !vm_link_connected(vm->link) && !vm_start(vm, error)) {
		if (*error == NULL) {
			*error = strdup("cannot start");
		}
		return false;
	}
	return true;
}

bool vm_manager_start(struct vm_manager *manager, struct vm_link *link, char **error)
{
	*error = NULL;
	struct managed_vm *vm = command_vm(manager, link, error);
	if (vm != NULL && vm->paused) {
		return pause_vm(vm, false, error);
	}
	return vm != NULL && start_if_down(vm, error);
}

bool vm_manager_set_paused(
	struct vm_manager *manager, struct vm_link *link, bool paused, char **error)
{
	*error = NULL;
	struct managed_vm *vm = command_vm(manager, link, error);
	return vm != NULL && pause_vm(vm, paused, error);
}

bool vm_manager_paused(struct vm_manager *manager, struct vm_link *link)
{
	struct managed_vm *vm = manager != NULL ? find_vm(manager, link) : NULL;
	return vm != NULL && vm->paused;
}

void vm_manager_wake(struct vm_manager *manager, struct vm_link *link)
{
	struct managed_vm *vm = manager != NULL ? find_vm(manager, link) : NULL;
	if (vm == NULL || (!vm->paused && vm->suspend != SUSPEND_SAVED)) {
		return;
	}
	char *error = NULL;
	if (vm->suspend == SUSPEND_SAVED ? !start_if_down(vm, &error)
					 : !pause_vm(vm, false, &error)) {
		wlr_log(WLR_ERROR, "%s", error != NULL ? error : "cannot resume");
	}
	free(error);
}

bool vm_manager_qemu_running(struct vm_manager *manager, struct vm_link *link)
{
	struct managed_vm *vm = find_vm(manager, link);
	/* a NIC plugged late is not there yet */
	return vm != NULL && vm->config->type == CONFIG_VM_QEMU && vm->vmm != NULL &&
		vmm_vm_state(vm->vmm) == VMM_RUNNING && !vmm_vm_late(vm->vmm);
}

bool vm_manager_set_nic_link(
	struct vm_manager *manager, struct vm_link *link, const char *nic_id, bool up, char **error)
{
	struct managed_vm *vm = find_vm(manager, link);
	if (vm == NULL || vm->vmm == NULL) {
		*error = strdup("not a qemu VM");
		return false;
	}
	return vmm_vm_set_link(vm->vmm, nic_id, up, error);
}

bool vm_manager_balloon(struct vm_manager *manager, struct vm_link *link, uint32_t mib,
	uint32_t *applied_mib, char **error)
{
	*error = NULL;
	struct managed_vm *vm = command_vm(manager, link, error);
	if (vm == NULL) {
		return false;
	}
	if (vm->config->type != CONFIG_VM_QEMU) {
		*error = text_printf("VM %s is not a qemu VM", vm->config->name);
		return false;
	}
	if (vmm_vm_state(vm->vmm) != VMM_RUNNING) {
		*error = text_printf("VM %s is not running", vm->config->name);
		return false;
	}
	return vmm_vm_balloon(vm->vmm, mib, applied_mib, error);
}

struct vm_op *vm_manager_suspend(struct vm_manager *manager, struct vm_link *link,
	vm_op_done_fn done, void *data, char **error)
{
	*error = NULL;
	struct managed_vm *vm = command_vm(manager, link, error);
	if (vm == NULL || !suspend_vm(vm, error)) {
		return NULL;
	}
	struct vm_op *op = waiter_create(vm, WAIT_SUSPENDED, done, data);
	if (op == NULL) {
		*error = strdup("out of memory");
	}
	return op;
}

bool vm_manager_suspended(struct vm_manager *manager, struct vm_link *link)
{
	struct managed_vm *vm = manager != NULL ? find_vm(manager, link) : NULL;
	return vm != NULL && vm->suspend != SUSPEND_NONE;
}

void vm_manager_note_input(struct vm_manager *manager, struct vm_link *link)
{
	struct managed_vm *vm = manager != NULL ? find_vm(manager, link) : NULL;
	if (vm != NULL && vm->suspend == SUSPEND_NONE && vm->state == VM_RUNNING) {
		arm_idle(vm);
	}
}

bool vm_manager_stop(struct vm_manager *manager, struct vm_link *link)
{
	char *error = NULL;
	struct managed_vm *vm = command_vm(manager, link, &error);
	free(error);
	if (vm == NULL) {
		return true;
	}
	vm_stop(vm);
	return is_down(vm);
}

struct vm_op *vm_manager_wait(struct vm_manager *manager, struct vm_link *link,
	enum vm_op_wait what, vm_op_done_fn done, void *data, char **error)
{
	*error = NULL;
	struct managed_vm *vm = command_vm(manager, link, error);
	if (vm == NULL) {
		return NULL;
	}
	struct vm_op *op = waiter_create(
		vm, what == VM_OP_STOPPED ? WAIT_STOPPED : WAIT_CONNECTED, done, data);
	if (op == NULL) {
		*error = strdup("out of memory");
	}
	return op;
}

/* The RUN tail: the strings one after the other, each NUL-terminated. */
static char *argv_tail(const char *const *argv, size_t argc, uint32_t *len, char **error)
{
	if (argc < 1 || argc > VTP_MAX_ARGC) {
		*error = strdup("argv must have 1 to 256 strings");
		return NULL;
	}
	if (argv[0][0] == '\0') {
		*error = strdup("the command is empty");
		return NULL;
	}
	size_t total = 0;
	for (size_t i = 0; i < argc; i++) {
		total += strlen(argv[i]) + 1;
	}
	if (total > VTP_MAX_ARGV_BYTES) {
		*error = strdup("argv is longer than 64 KiB");
		return NULL;
	}
	char *tail = malloc(total);
	if (tail == NULL) {
		*error = strdup("out of memory");
		return NULL;
	}
	size_t off = 0;
	for (size_t i = 0; i < argc; i++) {
		size_t slen = strlen(argv[i]);
		memcpy(tail + off, argv[i], slen + 1);
		off += slen + 1;
	}
	*len = (uint32_t)total;
	return tail;
}

struct vm_op *vm_manager_run(struct vm_manager *manager, struct vm_link *link,
	const char *const *argv, size_t argc, vm_op_done_fn done, void *data, char **error)
{
	*error = NULL;
	struct managed_vm *vm = command_vm(manager, link, error);
	if (vm == NULL) {
		return NULL;
	}
	vm_manager_wake(manager, link);
	uint32_t len = 0;
	char *tail = argv_tail(argv, argc, &len, error);
	if (tail == NULL) {
		return NULL;
	}
	if (vm->state == VM_STOPPING && !vm->restore_pending) {
		free(tail);
		*error = text_printf("VM %s is stopping", vm->config->name);
		return NULL;
	}
	char *why = NULL;
	if (is_down(vm) && !vm_link_connected(vm->link) && !vm_start(vm, &why)) {
		*error = text_printf(
			"cannot start VM %s: %s", vm->config->name, why != NULL ? why : "?");
		free(why);
		free(tail);
		return NULL;
	}
	struct vm_op *waiter = waiter_create(vm, WAIT_RUN, done, data);
	if (waiter == NULL) {
		free(tail);
		*error = strdup("out of memory");
		return NULL;
	}
	waiter->argv = tail;
	waiter->argv_len = len;
	vm->manager->next_run_id = (vm->manager->next_run_id + 1) & RUN_ID_MASK;
	if (vm->manager->next_run_id == 0) {
		vm->manager->next_run_id = 1;
	}
	waiter->request_id = vm->manager->next_run_id;
	if (vm_link_connected(vm->link) && !send_run(vm, waiter)) {
		waiter_free(waiter);
		*error = text_printf("cannot send the command to VM %s", vm->config->name);
		return NULL;
	}
	return waiter;
}

static char *booted_path_for(const struct managed_vm *vm);

bool vm_manager_get_info(struct vm_manager *manager, struct vm_link *link, struct vm_info *info)
{
	struct managed_vm *vm = manager != NULL ? find_vm(manager, link) : NULL;
	if (vm == NULL) {
		return false;
	}
	bool qemu = vm->config->type == CONFIG_VM_QEMU;
	free(vm->shown_booted);
	vm->shown_booted = vm->config->fast_start ? booted_path_for(vm) : NULL;
	if (vm->shown_booted != NULL && access(vm->shown_booted, F_OK) != 0) {
		free(vm->shown_booted); /* not recorded (yet): the next start boots */
		vm->shown_booted = NULL;
	}
	*info = (struct vm_info){
		.qemu = qemu,
		.state = shown_state(vm),
		.reason = vm->reason,
		.accel_note = qemu && vm->vmm != NULL ? vmm_vm_accel_note(vm->vmm) : NULL,
		.pid = qemu ? (vm->vmm != NULL ? vmm_vm_pid(vm->vmm) : 0) : vm->agent_pid,
		.log = vm->log_path,
		.qemu_log = vm->vmm != NULL ? vmm_vm_qemu_log_path(vm->vmm) : NULL,
		.home = vm->temp_home,
		.paused = vm->paused,
		.paused_since = vm->paused ? vm->paused_since : 0,
		.resumed_at = vm->resumed_at,
		.suspend = vm->suspend == SUSPEND_SAVING ||
				(vm->suspend == SUSPEND_SAVED && !is_down(vm))
			? "suspending"
			: vm->suspend == SUSPEND_SAVED     ? "suspended"
			: vm->suspend == SUSPEND_RESTORING ? "restoring"
							   : NULL,
		.suspended_since = vm->suspend == SUSPEND_SAVED ? vm->suspended_since : 0,
		.state_file = vm->suspend == SUSPEND_SAVED ? vm->state_path : NULL,
		.booted_state = vm->shown_booted,
		.preload = vm->fast == FAST_PRELOADED ? "preloaded"
			: vm->preload                 ? "preloading"
						      : NULL,
	};
	return true;
}

/* ---- life cycle ---- */

/* The agent binary: $VITRAIL_AGENT, else next to vitrail (installed),
 * else in the build tree, else vitrail-agent from PATH. */
static char *find_agent(void)
{
	const char *env = getenv("VITRAIL_AGENT");
	if (env != NULL && env[0] != '\0') {
		return strdup(env);
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			const char *candidates[] = { "%s/vitrail-agent",
				"%s/../guest-agent/vitrail-agent" };
			for (size_t i = 0; i < 2; i++) {
				char path[PATH_MAX + 64];
				snprintf(path, sizeof(path), candidates[i], exe);
				if (access(path, X_OK) == 0) {
					return realpath(path, NULL);
				}
			}
		}
	}
	return strdup("vitrail-agent");
}

/* ---- fast start: an AppVM or disposable from its template's booted state ---- */

static uint64_t fnv_text(uint64_t h, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	}
	return (h ^ 0xffu) * 0x100000001b3ull; /* a separator */
}

/* A file as it is now: path, inode, size and modification time. */
static uint64_t fnv_file(uint64_t h, const char *path)
{
	struct stat st;
	char buf[128];
	if (path == NULL || stat(path, &st) != 0) {
		return fnv_text(fnv_text(h, path), "-");
	}
	snprintf(buf, sizeof(buf), "%llu:%llu:%lld:%lld.%09ld", (unsigned long long)st.st_dev,
		(unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		st.st_mtim.tv_nsec);
	return fnv_text(fnv_text(h, path), buf);
}

/* A qcow2 image and its backing files (a template may be an overlay of a
 * disk that changes underneath), at most 8 deep. */
static uint64_t fnv_image(uint64_t h, const char *path, int depth)
{
	h = fnv_file(h, path);
	uint8_t head[20];
	int fd = depth < 8 ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) : -1;
	if (fd < 0) {
		return h;
	}
	char name[PATH_MAX];
	bool ok = pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
		memcmp(head, "QFI\xfb", 4) == 0;
	uint64_t off = 0;
	uint32_t len = 0;
	for (int i = 0; ok && i < 8; i++) {
		off = off << 8 | head[8 + i];
	}
	for (int i = 0; ok && i < 4; i++) {
		len = len << 8 | head[16 + i];
	}
	ok = ok && off != 0 && len > 0 && len < sizeof(name) &&
		pread(fd, name, len, (off_t)off) == (ssize_t)len;
	close(fd);
	if (!ok) {
		return h;
	}
	name[len] = '\0';
	if (name[0] == '/') {
		return fnv_image(h, name, depth + 1);
	}
	/* relative to the image's directory */
	const char *slash = strrchr(path, '/');
	char *full = text_printf("%.*s/%s", slash != NULL ? (int)(slash - path) : 1,
		slash != NULL ? path : ".", name);
	if (full != NULL) {
		h = fnv_image(h, full, depth + 1);
	}
	free(full);
	return h;
}

/*
 * DATA/vitrail/vms/TEMPLATE/booted-V-C.state: V names the template's
 * version (its disk and the disks it is an overlay of, or its kernel and
 * initramfs, as they are now: starting the template changes them), C what
 * else the guest's memory depends on
 * (kernel, command line, memory, CPUs, pool, accelerator, QEMU). The
 * private volume and the network are not in it: they are plugged later.
 */
static char *booted_path_for(const struct managed_vm *vm)
{
	const struct config_vm *c = vm->config;
	const struct config_vm *t = config_find_vm(vm->manager->server->config, template_name(c));
	if (t == NULL) {
		return NULL;
	}
	const char *kernel = c->kernel != NULL ? c->kernel : t->kernel;
	const char *initrd = c->kernel != NULL ? c->initrd : t->initrd;
	const char *append = c->kernel != NULL ? c->append : t->append;
	uint64_t v = fnv_text(0xcbf29ce484222325ull, FAST_FORMAT);
	v = t->image != NULL ? fnv_image(v, t->image, 0)
			     : fnv_file(fnv_file(v, t->kernel), t->initrd);
	char numbers[96];
	snprintf(numbers, sizeof(numbers), "%u %u %u %d", c->memory_mib, c->cpus, c->pool_size_mib,
		(int)c->accel);
	uint64_t h = fnv_file(fnv_file(fnv_text(v, numbers), kernel), initrd);
	h = fnv_file(fnv_text(h, append), "/usr/bin/qemu-system-x86_64");
	return fs_user_path("XDG_DATA_HOME", ".local/share",
		"vitrail/vms/%s/booted-%016llx-%016llx.state", t->name, (unsigned long long)v,
		(unsigned long long)h);
}

/* Remove the booted states of other versions of the template (prefix
 * "booted-V-" differs) beside path. */
static void remove_stale_booted(const char *path)
{
	char *dir = strdup(path);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	DIR *d = slash != NULL ? (*slash = '\0', opendir(dir)) : NULL;
	const char *base = strrchr(path, '/') + 1;
	size_t keep = strlen("booted-") + 17; /* "booted-V-" */
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "booted-", 7) == 0 && strncmp(e->d_name, base, keep) != 0 &&
			strlen(e->d_name) < 200) {
			char *old = text_printf("%s/%s", dir, e->d_name);
			if (old != NULL && unlink(old) == 0) {
				wlr_log(WLR_INFO, "removed the stale booted state %s", old);
			}
			free(old);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	free(dir);
}

static bool fast_start_qemu(struct managed_vm *vm, char **error)
{
	free(vm->booted_path);
	vm->booted_path = booted_path_for(vm);
	if (vm->booted_path == NULL) {
		*error = text_printf(
			"VM %s: no place for its booted state (set HOME)", vm->config->name);
		return false;
	}
	vm->fast_t0 = loop_now_ms();
	if (access(vm->booted_path, F_OK) == 0) {
		char *why = NULL;
		vm->booting = false;
		if (vmm_vm_restore_booted(vm->vmm, vm->booted_path, &why)) {
			vm->fast = FAST_RESTORING;
			wlr_log(WLR_INFO, "[vm %s] starting from the booted state %s (QEMU pid %d)",
				vm->config->name, vm->booted_path, (int)vmm_vm_pid(vm->vmm));
			vmm_sync(vm);
			return true;
		}
		wlr_log(WLR_ERROR, "[vm %s] cannot start from the booted state: %s; booting it",
			vm->config->name, why != NULL ? why : "?");
		free(why);
		vmm_suspend_discard(vm->booted_path);
	}
	vm->booting = true;
	if (!vmm_vm_boot_late(vm->vmm, error)) {
		vm->booting = false;
		vmm_sync(vm);
		return false;
	}
	vm->fast = FAST_BOOTING;
	wlr_log(WLR_INFO,
		"[vm %s] QEMU started (pid %d), booting: no booted state %s for this template "
		"version and configuration yet; it is recorded when its agent is up; console "
		"log %s",
		vm->config->name, (int)vmm_vm_pid(vm->vmm), vm->booted_path, vm->log_path);
	vmm_sync(vm);
	return true;
}

/* The booted state did not load: it goes, and the VM boots instead. */
static bool fast_fall_back(struct managed_vm *vm, enum vmm_state state)
{
	if (vm->fast != FAST_RESTORING || state != VMM_CRASHED) {
		return false;
	}
	wlr_log(WLR_ERROR,
		"[vm %s] starting from the booted state failed (%s): removing it, "
		"booting the VM",
		vm->config->name, vmm_vm_reason(vm->vmm));
	vmm_suspend_discard(vm->booted_path);
	vm->fast = FAST_NONE;
	char *why = NULL;
	vm->booting = true;
	if (!vmm_vm_boot_late(vm->vmm, &why)) {
		wlr_log(WLR_ERROR, "[vm %s] cannot boot it: %s", vm->config->name,
			why != NULL ? why : "?");
		free(why);
		vm->booting = false;
		return false;
	}
	vm->fast = FAST_BOOTING;
	vmm_sync(vm);
	return true;
}

static void fast_fail(struct managed_vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The VM cannot become itself: it is killed (nothing of the user's ran in
 * it yet), the reason shown as its state's. */
static void fast_fail(struct managed_vm *vm, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	char *message = text_vprintf(fmt, args);
	va_end(args);
	snprintf(vm->fast_error, sizeof(vm->fast_error), "fast start failed: %s",
		message != NULL ? message : "out of memory");
	free(message);
	wlr_log(WLR_ERROR, "[vm %s] %s; stopping it", vm->config->name, vm->fast_error);
	vm->fast = FAST_NONE;
	if (vm->vmm != NULL) {
		vmm_vm_kill(vm->vmm);
		vmm_sync(vm);
	}
}

/* The activation ended: why it failed (NULL: it worked). A failure kills a
 * VM that was never itself (nothing of the user's ran in it); one activated
 * again (fast_again), or one that is stopping, or vitrail exiting, only
 * logs it: the VM may be in use. */
static void activation_end(struct managed_vm *vm, const char *why)
{
	if (vm->fast_timer != NULL) {
		wl_event_source_timer_update(vm->fast_timer, 0);
	}
	bool first = !vm->fast_again;
	vm->fast_again = false;
	if (why != NULL && first && !vm->manager->exiting && vm->vmm != NULL &&
		vmm_vm_state(vm->vmm) == VMM_RUNNING) {
		fast_fail(vm, "%s", why);
		return;
	}
	vm->fast = FAST_NONE;
	if (why != NULL) {
		wlr_log(WLR_ERROR, "[vm %s] %s again failed: %s; it is left as it is",
			vm->config->name, FAST_ACTIVATE, why);
	} else {
		wlr_log(WLR_INFO, "[vm %s] fast start: itself after %lld ms", vm->config->name,
			(long long)(loop_now_ms() - vm->fast_t0));
	}
	vm_link_release(vm->link); /* events.welcome: handle_welcome and the rest */
}

static void handle_activated(void *data, const struct vm_op_result *result)
{
	struct managed_vm *vm = data;
	if (vm->fast != FAST_ACTIVATING) {
		return;
	}
	char why[512];
	if (result->error != NULL) {
		snprintf(why, sizeof(why), "%s", result->error);
	} else if (strcmp(result->run_kind, "exited") != 0 || result->run_status != 0) {
		snprintf(why, sizeof(why),
			"%s in the guest %s with %d (its private volume or devices; see its "
			"console log %s)",
			FAST_ACTIVATE, result->run_kind, result->run_status, vm->log_path);
	}
	activation_end(vm,
		result->error != NULL || strcmp(result->run_kind, "exited") != 0 ||
				result->run_status != 0
			? why
			: NULL);
}

static int handle_fast_timer(void *data)
{
	struct managed_vm *vm = data;
	if (vm->fast != FAST_ACTIVATING) {
		return 0;
	}
	/* its waiter goes: a late answer finds no one */
	struct vm_op *waiter, *tmp;
	wl_list_for_each_safe(waiter, tmp, &vm->waiters, link) {
		if (waiter->done == handle_activated) {
			waiter_free(waiter);
		}
	}
	activation_end(vm,
		"the guest did not finish " FAST_ACTIVATE
		" within " STR(FAST_ACTIVATE_TIMEOUT_S) " s");
	return 0;
}

/* Its devices are in: the guest mounts its volume and starts its session. */
static void preload_park(struct managed_vm *vm);

static void fast_activate(struct managed_vm *vm)
{
	if (vm->preload) {
		preload_park(vm);
		return;
	}
	char now[32];
	snprintf(now, sizeof(now), "@%lld", (long long)realtime_s());
	const char *argv[] = { FAST_ACTIVATE,
		vm->config->private_image != NULL ? "private" : "none", now };
	char *error = NULL;
	uint32_t len = 0;
	char *tail = argv_tail(argv, 3, &len, &error);
	struct vm_op *waiter =
		tail != NULL ? waiter_create(vm, WAIT_RUN, handle_activated, vm) : NULL;
	if (waiter == NULL) {
		free(tail);
		free(error);
		fast_fail(vm, "out of memory");
		return;
	}
	waiter->argv = tail;
	waiter->argv_len = len;
	vm->manager->next_run_id = (vm->manager->next_run_id + 1) & RUN_ID_MASK;
	if (vm->manager->next_run_id == 0) {
		vm->manager->next_run_id = 1;
	}
	waiter->request_id = vm->manager->next_run_id;
	vm->fast = FAST_ACTIVATING;
	if (vm->fast_timer == NULL) {
		vm->fast_timer =
			wl_event_loop_add_timer(vm->manager->server->loop, handle_fast_timer, vm);
	}
	if (vm->fast_timer != NULL) {
		wl_event_source_timer_update(vm->fast_timer, FAST_ACTIVATE_TIMEOUT_S * 1000);
	}
	if (!send_run(vm, waiter)) {
		waiter_free(waiter);
		activation_end(vm, "cannot send " FAST_ACTIVATE " to the guest");
	}
}

static void handle_vmm_plugged(void *data, struct vmm_vm *vmm, const char *error)
{
	struct managed_vm *vm = data;
	if (vm->fast != FAST_PLUGGING) {
		return;
	}
	if (error != NULL) {
		fast_fail(vm, "%s", error);
		return;
	}
	/* its NIC is there now: netvm sets its link as its service VM is */
	wl_signal_emit(&vm->manager->events.state, vm->link);
	if (vm->fast_hello) {
		fast_activate(vm); /* its agent is there (held) */
	} else {
		vm->fast = FAST_PLUGGED; /* restored: activated at HELLO */
	}
}

/* hello: its agent said HELLO already (held) */
static void fast_plug(struct managed_vm *vm, bool hello)
{
	char *why = NULL;
	vm->fast = FAST_PLUGGING;
	vm->fast_hello = hello;
	if (!vmm_vm_plug(vm->vmm, &why)) {
		fast_fail(vm, "%s", why != NULL ? why : "out of memory");
	}
	free(why);
	vmm_sync(vm);
}

static void fast_recorded(struct managed_vm *vm, const char *error)
{
	if (error != NULL) {
		wlr_log(WLR_ERROR,
			"[vm %s] cannot record the booted state: %s; the next start "
			"boots again",
			vm->config->name, error);
	} else {
		wlr_log(WLR_INFO, "[vm %s] recorded the booted state %s", vm->config->name,
			vm->booted_path);
		remove_stale_booted(vm->booted_path);
	}
	fast_plug(vm, true);
}

/* ---- preloaded disposables (preload = N on their template) ---- */

/* A preloaded disposable is plugged, its agent held: it waits paused. */
static void preload_park(struct managed_vm *vm)
{
	if (!vmm_vm_pause(vm->vmm, true)) {
		vm->no_preload = true;
		fast_fail(vm, "cannot pause the preloaded disposable");
		return;
	}
	vm_link_set_frozen(vm->link, true); /* a paused agent answers no PING */
	vm->fast = FAST_PRELOADED;
	wlr_log(WLR_INFO, "[vm %s] preloaded after %lld ms: paused until it is asked for",
		vm->config->name, (long long)(loop_now_ms() - vm->fast_t0));
	wl_signal_emit(&vm->manager->events.state, vm->link);
}

static void preload_schedule(struct vm_manager *manager);

/* Asked for: it runs on and becomes itself; another one is preloaded. */
static bool preload_take(struct managed_vm *vm, char **error)
{
	vm->preload = false;
	if (!vmm_vm_pause(vm->vmm, false)) {
		*error = text_printf("VM %s: its preloaded QEMU does not answer", vm->config->name);
		fast_fail(vm, "its preloaded QEMU does not answer");
		return false;
	}
	vm_link_set_frozen(vm->link, false);
	wlr_log(WLR_INFO, "[vm %s] taking the preloaded disposable", vm->config->name);
	char *why = NULL;
	if (!start_service_vm(vm, &why)) {
		/* its link stays down until the service VM runs (netvm) */
		wlr_log(WLR_ERROR, "[vm %s] %s", vm->config->name, why != NULL ? why : "?");
	}
	free(why);
	vm->fast_t0 = loop_now_ms();
	fast_activate(vm);
	preload_schedule(vm->manager);
	return true;
}

/* Keep preload = N disposables of each template preloaded. */
static void preload_fill(struct vm_manager *manager)
{
	const struct config *config = manager->server->config;
	for (size_t t = 0; t < config->n_vms; t++) {
		const struct config_vm *tmpl = &config->vms[t];
		uint32_t have = 0;
		for (size_t i = 0; i < manager->n_vms && tmpl->preload > 0; i++) {
			const struct managed_vm *vm = &manager->vms[i];
			have += vm->preload && vm->config->disposable_of != NULL &&
				strcmp(vm->config->disposable_of, tmpl->name) == 0;
		}
		for (size_t i = 0; i < manager->n_vms && have < tmpl->preload; i++) {
			struct managed_vm *vm = &manager->vms[i];
			const struct config_vm *c = vm->config;
			if (c->disposable_of == NULL || strcmp(c->disposable_of, tmpl->name) != 0 ||
				!c->fast_start || vm->no_preload || vm->vmm == NULL ||
				vm->state != VM_STOPPED || vm->suspend != SUSPEND_NONE) {
				continue;
			}
			char *error = NULL;
			vm->preload = true;
			if (!check_template_exclusion(vm, &error) ||
				!start_service_vm(vm, &error) ||
				!config_vm_check_files(config, c, &error) ||
				!start_qemu(vm, &error)) {
				wlr_log(WLR_INFO, "[vm %s] not preloaded: %s", c->name,
					error != NULL ? error : "?");
				vm->preload = false;
				free(error);
				return; /* the same reason holds for the others */
			}
			wlr_log(WLR_INFO, "[vm %s] preloading (preload = %u of %s)", c->name,
				tmpl->preload, tmpl->name);
			have++;
		}
	}
}

static void handle_preload_idle(void *data)
{
	struct vm_manager *manager = data;
	manager->preload_idle = NULL;
	preload_fill(manager);
}

static void preload_schedule(struct vm_manager *manager)
{
	if (manager->preload_idle == NULL && !manager->exiting) {
		manager->preload_idle =
			wl_event_loop_add_idle(manager->server->loop, handle_preload_idle, manager);
	}
}

bool vm_manager_preloaded(struct vm_manager *manager, struct vm_link *link)
{
	struct managed_vm *vm = manager != NULL ? find_vm(manager, link) : NULL;
	return vm != NULL && vm->preload;
}

/* Its agent said HELLO (the link holds it): record, or plug. */
static void handle_handshake(struct wl_listener *listener, void *data)
{
	struct managed_vm *vm = wl_container_of(listener, vm, handshake);
	if (vm->fast == FAST_PLUGGING) {
		vm->fast_hello = true; /* activated once plugged */
		return;
	}
	if (vm->fast == FAST_NONE && vm->config->fast_start) {
		vm->fast = FAST_ATTACHED; /* a later connection: held, activated again */
		vm->fast_t0 = loop_now_ms();
	}
	if (vm->fast == FAST_PLUGGED || vm->fast == FAST_ATTACHED) {
		vm->fast_again = vm->fast == FAST_ATTACHED;
		vmm_vm_note_progress(vm->vmm);
		fast_activate(vm);
		return;
	}
	if (vm->fast != FAST_BOOTING) {
		return;
	}
	vm->booting = false;
	vmm_vm_note_progress(vm->vmm);
	/* one recorder of a state at a time: two would write the same files */
	for (size_t i = 0; i < vm->manager->n_vms; i++) {
		struct managed_vm *other = &vm->manager->vms[i];
		if (other != vm && other->fast == FAST_RECORDING &&
			strcmp(other->booted_path, vm->booted_path) == 0) {
			fast_plug(vm, true);
			return;
		}
	}
	char *dir = strdup(vm->booted_path);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	char *why = NULL;
	bool ok = slash != NULL && (*slash = '\0', fs_private_dir(dir));
	if (!ok) {
		wlr_log(WLR_ERROR, "[vm %s] cannot make %s: %s", vm->config->name,
			dir != NULL ? dir : "?", strerror(errno));
	} else if (vmm_vm_record(vm->vmm, vm->booted_path, &why)) {
		vm->fast = FAST_RECORDING;
	} else {
		wlr_log(WLR_ERROR, "[vm %s] cannot record the booted state: %s", vm->config->name,
			why != NULL ? why : "?");
	}
	free(why);
	free(dir);
	vmm_sync(vm);
	if (vm->fast != FAST_RECORDING) {
		fast_plug(vm, true);
	}
}

static void vm_init(struct vm_manager *manager, struct managed_vm *vm, struct vm_link *link)
{
	vm->manager = manager;
	vm->link = link;
	vm->config = vm_link_config(link);
	vm->state = VM_STOPPED;
	vm->agent_pidfd = -1;
	vm->vmm_fd = -1;
	wl_list_init(&vm->waiters);
	vm->handshake.notify = handle_handshake;
	wl_signal_add(&vm_link_events(link)->handshake, &vm->handshake);
	vm->welcome.notify = handle_welcome;
	wl_signal_add(&vm_link_events(link)->welcome, &vm->welcome);
	vm->disconnect.notify = handle_disconnect;
	wl_signal_add(&vm_link_events(link)->disconnect, &vm->disconnect);
}

static void vm_finish(struct managed_vm *vm)
{
	if (vm->vmm != NULL &&
		(vm->preload ||
			(vm->fast != FAST_NONE && vm->fast != FAST_ACTIVATING &&
				vm->fast != FAST_ATTACHED))) {
		/* never itself yet, or preloaded: nothing of the user's runs
		 * in it, and a later vitrail could not tell where it stood */
		vmm_vm_kill(vm->vmm);
	}
	struct vm_op *waiter, *tmp;
	wl_list_for_each_safe(waiter, tmp, &vm->waiters, link) {
		waiter_fail(waiter, "vitrail is exiting");
	}
	if (vm->snap_job != NULL) {
		/* qemu-img is changing the volumes: let it finish them */
		char *why = NULL;
		vmm_snapshot_job_wait(vm->snap_job, &why);
		free(why);
		vmm_snapshot_job_destroy(vm->snap_job);
		vm->snap_job = NULL;
		loop_source_remove(&vm->snap_source);
		loop_source_remove(&vm->snap_timer);
	}
	if (vm->snap_op != NULL) {
		waiter_fail(vm->snap_op, "vitrail is exiting");
	}
	wl_list_remove(&vm->handshake.link);
	wl_list_remove(&vm->welcome.link);
	wl_list_remove(&vm->disconnect.link);
	if (vm->agent_pid > 0) {
		/* local agents end with vitrail, and their apps with them */
		kill(-vm->agent_pid, SIGTERM);
		if (vm->paused) {
			kill(-vm->agent_pid, SIGCONT); /* stopped, they would not hear it */
		}
	} else if (vm->paused && vm->vmm != NULL) {
		/* QEMU keeps running: not paused for a vitrail that knows nothing of it */
		vmm_vm_pause(vm->vmm, false);
	}
	agent_forget(vm);
	loop_source_remove(&vm->group_timer);
	if (vm->orphan_group > 0) {
		kill(-vm->orphan_group, SIGKILL);
	}
	remove_temp_home(vm);
	loop_source_remove(&vm->vmm_source);
	loop_source_remove(&vm->vmm_timer);
	loop_source_remove(&vm->connect_timer);
	loop_source_remove(&vm->idle_timer);
	loop_source_remove(&vm->fast_timer);
	/* QEMU keeps running: the next vitrail re-attaches (and runs on a
	 * guest it finds stopped by a save in flight); a saved state stays */
	vmm_vm_destroy(vm->vmm);
	free(vm->log_path);
	free(vm->state_path);
	free(vm->booted_path);
	free(vm->shown_booted);
}

static int handle_log_timer(void *data)
{
	struct vm_manager *manager = data;
	for (size_t i = 0; i < manager->n_vms; i++) {
		struct managed_vm *vm = &manager->vms[i];
		struct stat st;
		if (vm->log_path == NULL || lstat(vm->log_path, &st) != 0 || !S_ISREG(st.st_mode) ||
			st.st_size <= VM_LOG_MAX_BYTES) {
			continue;
		}
		if (truncate(vm->log_path, 0) == 0) {
			wlr_log(WLR_INFO, "[vm %s] log %s passed %d MiB: truncated",
				vm->config->name, vm->log_path, VM_LOG_MAX_BYTES >> 20);
		}
	}
	wl_event_source_timer_update(manager->log_timer, VM_LOG_CHECK_MS);
	return 0;
}

struct vm_manager *vm_manager_create(struct server *server)
{
	struct vm_manager *manager = calloc(1, sizeof(*manager));
	if (manager == NULL) {
		return NULL;
	}
	manager->server = server;
	wl_signal_init(&manager->events.paused);
	wl_signal_init(&manager->events.state);
	manager->run_dir = text_printf("%s/vms", server->runtime_dir);
	manager->agent_path = find_agent();
	if (manager->run_dir == NULL || manager->agent_path == NULL) {
		goto error;
	}
	if (!fs_private_dir(manager->run_dir)) {
		wlr_log_errno(WLR_ERROR, "cannot use %s as a private directory", manager->run_dir);
		goto error;
	}
	if (server->n_vm_links > 0) {
		manager->vms = calloc(server->n_vm_links, sizeof(*manager->vms));
		if (manager->vms == NULL) {
			goto error;
		}
	}
	for (size_t i = 0; i < server->n_vm_links; i++) {
		struct managed_vm *vm = &manager->vms[manager->n_vms++];
		vm_init(manager, vm, server->vm_links[i]);
		if (vm->config->type == CONFIG_VM_LOCAL) {
			vm->log_path =
				text_printf("%s/%s.agent.log", manager->run_dir, vm->config->name);
			if (vm->log_path == NULL) {
				goto error;
			}
			if (vm->config->disposable_of != NULL) {
				remove_stale_temp_homes(vm);
			}
		} else if (!setup_qemu(vm) || !suspend_setup(vm)) {
			/* the others still work; this one reports why */
			char why[sizeof(vm->reason) + 32];
			snprintf(why, sizeof(why), "cannot set up the VM: %s", vm->reason);
			wlr_log(WLR_ERROR, "[vm %s] %s", vm->config->name, why);
			set_state(vm, VM_CRASHED, why);
			continue;
		}
	}

	manager->log_timer = wl_event_loop_add_timer(server->loop, handle_log_timer, manager);
	if (manager->log_timer != NULL) {
		wl_event_source_timer_update(manager->log_timer, VM_LOG_CHECK_MS);
	}

	for (size_t i = 0; i < manager->n_vms; i++) {
		struct managed_vm *vm = &manager->vms[i];
		if (vm->vmm != NULL && vmm_vm_attach(vm->vmm)) {
			wlr_log(WLR_INFO, "[vm %s] re-attached to QEMU pid %d", vm->config->name,
				(int)vmm_vm_pid(vm->vmm));
			if (vm->config->fast_start && vmm_vm_late(vm->vmm)) {
				/* an earlier vitrail went before it plugged its
				 * devices: plugged once QEMU answers */
				vm->fast = FAST_RESTORING;
				vm->fast_t0 = loop_now_ms();
			}
			vmm_sync(vm);
			continue;
		}
		if (suspend_found(vm)) {
			continue; /* restored on demand, even with autostart */
		}
		if (vm->config->autostart &&
			(vm->vmm != NULL || vm->config->type == CONFIG_VM_LOCAL)) {
			char *error = NULL;
			vm_start(vm, &error);
			free(error);
		}
	}
	preload_schedule(manager);
	return manager;

error:
	wlr_log(WLR_ERROR, "cannot set up the VM manager");
	vm_manager_destroy(manager);
	return NULL;
}

void vm_manager_destroy(struct vm_manager *manager)
{
	if (manager == NULL) {
		return;
	}
	loop_source_remove(&manager->log_timer);
	manager->exiting = true;
	loop_source_remove(&manager->preload_idle);
	for (size_t i = 0; i < manager->n_vms; i++) {
		vm_finish(&manager->vms[i]);
	}
	free(manager->vms);
	free(manager->run_dir);
	free(manager->agent_path);
	free(manager);
}

/* ---- snapshots (vmm_snapshot.h) ---- */

static const char *const snapshot_verbs[] = {
	[VMM_SNAPSHOT_TAKE] = "snapshot",
	[VMM_SNAPSHOT_REVERT] = "revert",
	[VMM_SNAPSHOT_DELETE] = "snapshot-delete",
};

/* A qemu VM whose snapshots may be asked for; NULL and *error if not. */
static struct managed_vm *snapshot_vm(
	struct vm_manager *manager, struct vm_link *link, char **error)
{
	*error = NULL;
	struct managed_vm *vm = command_vm(manager, link, error);
	if (vm == NULL) {
		return NULL;
	}
	if (vm->config->type != CONFIG_VM_QEMU || vm->vmm == NULL) {
		*error = text_printf("VM %s is a local VM (type = local): it has no disks to "
				     "snapshot",
			vm->config->name);
		return NULL;
	}
	return vm;
}

bool vm_manager_snapshots(struct vm_manager *manager, struct vm_link *link,
	struct vmm_snapshot_volumes *volumes, struct vmm_snapshot **list, size_t *n, bool *running,
	char **error)
{
	struct managed_vm *vm = snapshot_vm(manager, link, error);
	if (vm == NULL) {
		return false;
	}
	*running = vmm_vm_state(vm->vmm) == VMM_RUNNING;
	return vmm_snapshot_list(vm->vmm, *running, volumes, list, n, error);
}

static int handle_snapshot_timeout(void *data)
{
	struct vm_op *op = data;
	waiter_fail(op,
		"VM %s: QEMU did not answer within %d s (it may still be working: "
		"see vitrailctl snapshots)",
		op->vm->config->name, VM_MANAGER_SNAPSHOT_TIMEOUT_S);
	return 0;
}

/* QEMU's monitor answered savevm, loadvm or delvm (or QEMU went away). */
static void handle_snapshot_hmp(void *data, bool ok, const char *output)
{
	struct managed_vm *vm = data;
	char why[512];
	bool done = vmm_snapshot_outcome(ok, output, why, sizeof(why));
	vm_link_set_frozen(vm->link, vm->paused);
	bool revert = vm->snap_revert;
	vm->snap_revert = false;
	if (revert && vmm_vm_state(vm->vmm) == VMM_RUNNING) {
		/* the guest must see the host go before it comes back:
		 * its agent then starts a new session and maps its windows again */
		schedule_connect(vm, RECONNECT_DELAY_MS);
	}
	wlr_log(done ? WLR_INFO : WLR_ERROR, "[vm %s] %s: %s", vm->config->name,
		revert ? "revert" : "snapshot command", done ? "done" : why);
	struct vm_op *op = vm->snap_op;
	if (op == NULL) {
		return; /* the client went away */
	}
	if (done) {
		struct vm_op_result result = { .state = shown_state(vm), .reason = vm->reason };
		waiter_done(op, &result);
	} else if (revert && vmm_vm_state(vm->vmm) == VMM_RUNNING) {
		waiter_fail(op,
			"VM %s: %s; QEMU may have left it stopped in an undefined state: "
			"stop it (vitrailctl stop %s)",
			vm->config->name, why, vm->config->name);
	} else {
		waiter_fail(op, "VM %s: %s", vm->config->name, why);
	}
}

/* A running VM: the monitor command, answered later through *op. */
static bool snapshot_live(struct managed_vm *vm, enum vmm_snapshot_op action, const char *name,
	vm_op_done_fn done, void *data, struct vm_op **op, char **error)
{
	struct vm_op *waiter = calloc(1, sizeof(*waiter));
	if (waiter == NULL) {
		*error = strdup("out of memory");
		return false;
	}
	wl_list_init(&waiter->link);
	waiter->vm = vm;
	waiter->done = done;
	waiter->data = data;
	waiter->kind = WAIT_SNAPSHOT;
	waiter->timer =
		wl_event_loop_add_timer(vm->manager->server->loop, handle_snapshot_timeout, waiter);
	if (waiter->timer == NULL) {
		free(waiter);
		*error = strdup("out of memory");
		return false;
	}
	if (!vmm_snapshot_live(vm->vmm, action, name, handle_snapshot_hmp, vm, error)) {
		waiter_free(waiter);
		return false;
	}
	if (action == VMM_SNAPSHOT_REVERT && vm->paused) {
		/* loadvm keeps a stopped guest stopped: QEMU continues it after
		 * the load (QMP commands are answered in order) */
		char *why = NULL;
		if (!pause_vm(vm, false, &why)) {
			wlr_log(WLR_ERROR, "%s", why != NULL ? why : "cannot resume");
		}
		free(why);
	}
	wl_event_source_timer_update(waiter->timer, VM_MANAGER_SNAPSHOT_TIMEOUT_S * 1000);
	vm->snap_op = waiter;
	/* the guest stands still while QEMU saves or loads: no liveness rule */
	vm_link_set_frozen(vm->link, true);
	if (action == VMM_SNAPSHOT_REVERT) {
		/* the agent's session jumps back in time: the host drops this one
		 * (the windows go) and connects again once QEMU has loaded the
		 * snapshot (handle_snapshot_hmp) */
		vm->snap_revert = true;
		vm_link_disconnect(vm->link, "reverting to a snapshot");
		wl_event_source_timer_update(vm->connect_timer, 0);
	}
	vmm_sync(vm);
	wlr_log(WLR_INFO, "[vm %s] %s %s: asked QEMU", vm->config->name, snapshot_verbs[action],
		name);
	*op = waiter;
	return true;
}

/* A VM whose volumes qemu-img is changing, or whose template's, cannot
 * start. */
static bool snapshot_check_start(struct managed_vm *vm, char **error)
{
	const char *tname = template_name(vm->config);
	struct managed_vm *t = tname != NULL ? find_vm_by_name(vm->manager, tname) : NULL;
	if (vm->snap_job != NULL || (t != NULL && t->snap_job != NULL)) {
		*error = text_printf("VM %s: a snapshot command on %s is in progress",
			vm->config->name, vm->snap_job != NULL ? vm->config->name : tname);
		return false;
	}
	return true;
}

static int handle_snapshot_job(int fd, uint32_t mask, void *data);

/* The qemu-img job went on (its output, or its deadline): watch it again,
 * or answer once it is over. */
static void snapshot_job_sync(struct managed_vm *vm)
{
	loop_source_remove(&vm->snap_source); /* each run has its own pipe */
	char *error = NULL;
	if (!vmm_snapshot_job_step(vm->snap_job, &error)) {
		int fd = vmm_snapshot_job_fd(vm->snap_job);
		int ms = vmm_snapshot_job_timeout_ms(vm->snap_job);
		vm->snap_source = fd >= 0 ? wl_event_loop_add_fd(vm->manager->server->loop, fd,
						    WL_EVENT_READABLE, handle_snapshot_job, vm)
					  : NULL;
		if (vm->snap_source == NULL && ms > 100) {
			ms = 100; /* no fd source: poll */
		}
		wl_event_source_timer_update(vm->snap_timer, ms > 0 ? ms : 1);
		return;
	}
	vmm_snapshot_job_destroy(vm->snap_job);
	vm->snap_job = NULL;
	loop_source_remove(&vm->snap_timer);
	wlr_log(error == NULL ? WLR_INFO : WLR_ERROR, "[vm %s] snapshot command (qemu-img): %s",
		vm->config->name, error == NULL ? "done" : error);
	struct vm_op *op = vm->snap_op;
	if (op == NULL) {
		/* the client went away */
	} else if (error == NULL) {
		struct vm_op_result result = { .state = shown_state(vm), .reason = vm->reason };
		waiter_done(op, &result);
	} else {
		waiter_fail(op, "VM %s: %s", vm->config->name, error);
	}
	free(error);
}

static int handle_snapshot_job(int fd, uint32_t mask, void *data)
{
	snapshot_job_sync(data);
	return 0;
}

static int handle_snapshot_job_timer(void *data)
{
	snapshot_job_sync(data);
	return 0;
}

/* A stopped VM: qemu-img on its volumes, watched on the loop; answered
 * through *op, or at once (*op NULL) when it is over already. */
static bool snapshot_offline(struct managed_vm *vm, enum vmm_snapshot_op action, const char *name,
	vm_op_done_fn done, void *data, struct vm_op **op, char **error)
{
	struct wl_event_loop *loop = vm->manager->server->loop;
	struct vm_op *waiter = calloc(1, sizeof(*waiter));
	vm->snap_timer = wl_event_loop_add_timer(loop, handle_snapshot_job_timer, vm);
	if (waiter == NULL || vm->snap_timer == NULL) {
		free(waiter);
		loop_source_remove(&vm->snap_timer);
		*error = strdup("out of memory");
		return false;
	}
	vm->snap_job = vmm_snapshot_offline_start(vm->vmm, action, name, error);
	if (vm->snap_job == NULL) {
		free(waiter);
		loop_source_remove(&vm->snap_timer);
		return false;
	}
	wl_list_init(&waiter->link);
	waiter->vm = vm;
	waiter->done = done;
	waiter->data = data;
	waiter->kind = WAIT_SNAPSHOT;
	vm->snap_op = waiter;
	wlr_log(WLR_INFO, "[vm %s] %s %s: qemu-img on its volumes", vm->config->name,
		snapshot_verbs[action], name);
	snapshot_job_sync(vm);
	if (vm->snap_op == NULL) {
		return true; /* answered already: done was called */
	}
	*op = waiter;
	return true;
}

/* A VM that another running VM boots an overlay of cannot have its disk
 * changed under it. */
static bool snapshot_check_template(struct managed_vm *vm, char **error)
{
	struct vm_manager *manager = vm->manager;
	for (size_t i = 0; i < manager->n_vms; i++) {
		struct managed_vm *other = &manager->vms[i];
		const char *tname = template_name(other->config);
		if (other != vm && qemu_up(other) && tname != NULL &&
			strcmp(tname, vm->config->name) == 0) {
			*error = text_printf("VM %s is the template of %s, which is running; "
					     "stop %s first",
				vm->config->name, other->config->name, other->config->name);
			return false;
		}
	}
	return true;
}

bool vm_manager_snapshot(struct vm_manager *manager, struct vm_link *link,
	enum vmm_snapshot_op action, const char *name, vm_op_done_fn done, void *data,
	struct vm_op **op, char **error)
{
	*op = NULL;
	struct managed_vm *vm = snapshot_vm(manager, link, error);
	if (vm == NULL) {
		return false;
	}
	if (!vmm_snapshot_name_valid(name)) {
		*error = text_printf("bad snapshot name '%s': 1 to %d characters of A-Z a-z 0-9 "
				     ". _ -, the first a letter",
			name, VMM_SNAPSHOT_NAME_MAX);
		return false;
	}
	if (vm->snap_op != NULL || vm->snap_job != NULL || vmm_vm_hmp_busy(vm->vmm)) {
		*error = text_printf(
			"VM %s: another snapshot command is in progress", vm->config->name);
		return false;
	}
	/* a saved RAM state belongs with the disks as they are: neither may
	 * change under the other */
	if (vm->suspend != SUSPEND_NONE) {
		*error =
			text_printf("VM %s is suspended (or being suspended or restored): start it "
				    "first, then use its snapshots",
				vm->config->name);
		return false;
	}
	enum vmm_state state = vmm_vm_state(vm->vmm);
	if (state == VMM_RUNNING) {
		return snapshot_live(vm, action, name, done, data, op, error);
	}
	if (state != VMM_STOPPED && state != VMM_CRASHED) {
		*error = text_printf("VM %s is %s: wait until it runs or is stopped",
			vm->config->name, vmm_state_name(state));
		return false;
	}
	if (!snapshot_check_template(vm, error)) {
		return false;
	}
	return snapshot_offline(vm, action, name, done, data, op, error);
}
