/*
 * vmm-glue: start, supervise, stop and re-attach QEMU guests.
 *
 * A struct vmm_vm is one VM definition plus what is known about its QEMU
 * process. It does not depend on wlroots or on an event loop: the owner
 * polls vmm_vm_fd() (the QMP socket, -1 when there is none) for input and
 * calls vmm_vm_dispatch(), and calls vmm_vm_tick() when vmm_vm_timeout_ms()
 * expires. Both may change after any call into the VM: re-read them each
 * time. State changes are reported through the handler.
 *
 * Files of VM NAME (run_dir is private to the user, created 0700):
 *   RUN/NAME.virtio.sock  the guest's control port (QEMU listens; the
 *                         host connects as a client, the agent speaks the
 *                         vitrail protocol on it)
 *   RUN/NAME.qmp          QMP socket
 *   RUN/NAME.pid          QEMU's pidfile (re-attach)
 *   RUN/NAME.console.log  the guest's serial console
 *   RUN/NAME.qemu.log     QEMU's own stdout/stderr
 *   RUN/NAME.overlay.qcow2  the throw-away disk of a disposable VM
 *   RUN/NAME.late         fast start: QEMU runs without the devices
 *                         vmm_vm_plug adds (a re-attaching vmm reads it)
 *
 * The shared pool is no file: a memfd "vitrail-NAME-pool" the host makes
 * and seals (vtp_pool_memfd_create: QEMU can neither shrink it under the host's
 * mapping, which would SIGBUS the host, nor grow it, nor change the seals),
 * handed to QEMU as its fd VMM_POOL_FD (mem-path=/proc/self/fd/3).
 *
 * QEMU is started in its own session through a double fork, so it
 * outlives the compositor; a new compositor adopts it with
 * vmm_vm_attach(), which takes the pool back from /proc/PID/fd/3 only if
 * it still carries those seals. QEMU runs in the run directory, with
 * only PATH in its environment, no descriptor but 0, 1, 2 and the pool,
 * and its seccomp sandbox (VMM_SANDBOX).
 *
 * The control socket accepts once QEMU runs (state RUNNING); the agent
 * then sends HELLO when the guest has booted. virtio-serial only tells the
 * guest whether a host is connected, so a disconnect followed at once by a
 * new connection may go unseen and the agent keeps its old session: after
 * closing a control connection wait about a second before connecting
 * again, and if no HELLO comes within a few seconds of connecting to a
 * guest that is up, close, wait and connect again.
 */
#ifndef VITRAIL_VMM_H
#define VITRAIL_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum vmm_accel {
	VMM_ACCEL_AUTO, /* KVM when the probe proves QEMU runs under it, else TCG;
			   a VM that then dies, or shows no progress in
			   kvm_progress_ms, under KVM is restarted once under TCG */
	VMM_ACCEL_KVM,
	VMM_ACCEL_TCG,
};

enum vmm_state {
	VMM_STOPPED,
	VMM_STARTING, /* QEMU launched (or being adopted), QMP not answering yet */
	VMM_RUNNING,
	VMM_STOPPING, /* power-down requested */
	VMM_CRASHED, /* QEMU went away without being asked to */
};

/* the MAC of the user-mode network's NIC */
#define VMM_USER_MAC "52:54:00:8b:00:00"
#define VMM_DEFAULT_PORT_NAME "org.vitrail.0"
/* The guest finds the private volume as /dev/disk/by-id/virtio-vitrail-private. */
#define VMM_PRIVATE_SERIAL "vitrail-private"
/* QEMU's descriptor of the pool memfd */
#define VMM_POOL_FD 3
/* QEMU's -sandbox option */
#define VMM_SANDBOX "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

/* A NIC whose other end is another VM: -netdev dgram between two unix
 * datagram sockets (connectionless, so either end may restart). */
#define VMM_MAX_NICS 17 /* one uplink + VTP_MAX_NET_LINKS clients */
struct vmm_nic {
	const char *id; /* device id for set_link: [a-z0-9], 1..15 */
	const char *local; /* absolute path this QEMU binds (removed first) */
	const char *remote; /* absolute path of the other end */
	uint8_t mac[6];
};

struct vmm_vm_spec {
	const char *name; /* [a-z0-9-], 1..32 */
	const char *run_dir; /* absolute; sockets, pidfile and logs go there */
	/* Boot source: a disk (image or disposable_of, not both), a kernel,
	 * or both: the kernel boots with the disk attached. */
	const char *image; /* disk image, qcow2 or raw (detected) */
	const char *kernel; /* direct kernel boot ... */
	const char *initrd; /* ... optional */
	const char *append; /* ... optional kernel command line */
	const char *disposable_of; /* disk image booted through a throw-away
	                              qcow2 overlay, deleted when the VM stops */
	const char *private_image; /* optional persistent second disk: qcow2
	                              if its name ends in ".qcow2", else raw
	                              (never probed: the guest writes it);
	                              virtio-blk with serial
	                              VMM_PRIVATE_SERIAL, after the boot disk
	                              (both then given as -device, the boot
	                              disk first: it stays /dev/vda) */
	uint32_t memory_mib; /* 0: 512 */
	uint32_t cpus; /* 0: 1 */
	uint64_t pool_size; /* bytes, a power of two, 1 MiB..4 GiB; 0: 64 MiB */
	bool network_user; /* -netdev user + virtio-net (MAC VMM_USER_MAC) */
	const struct vmm_nic *nics; /* after the user NIC, in this order */
	size_t n_nics; /* <= VMM_MAX_NICS */
	bool no_reboot; /* a guest reboot exits QEMU (seen as a crash) */
	enum vmm_accel accel;
	/* Fast start (vmm_vm_boot_late, vmm_vm_restore_booted): the private
	 * disk and the NIC sit on PCIe root ports (vtrp0, vtrp1) where they
	 * can be hot-plugged, and a vmgenid device tells a guest restored
	 * from a shared state that it is a new copy (its kernel reseeds its
	 * random generator). Needs a kernel (the hold goes on its command
	 * line) and at most one NIC. */
	bool fast_start;
	/* under TCG: QEMU's translated-code cache in MiB (0: QEMU's default,
	 * 1 GiB, which a booting guest fills and keeps resident) */
	uint32_t tcg_tb_mib;
	/* Optional overrides (NULL: defaults). */
	const char *qemu; /* qemu-system-x86_64 */
	const char *qemu_img; /* qemu-img */
	const char *port_name; /* VMM_DEFAULT_PORT_NAME */
	uint32_t start_timeout_ms; /* 0: 30000; QEMU launched -> QMP answers */
	uint32_t stop_timeout_ms; /* 0: 20000; power-down -> quit -> kill */
	uint32_t kvm_progress_ms; /* 0: 20000; accel=auto on KVM: launch -> guest
	                             progress (console output or
	                             vmm_vm_note_progress), else TCG */
};

struct vmm_vm;

struct vmm_vm_handler {
	/* vmm_vm_state() changed; vmm_vm_reason() tells why for CRASHED. */
	void (*state_changed)(void *data, struct vmm_vm *vm);
	/* vmm_vm_suspend: error NULL when the state file is complete (QEMU
	 * quits next: STOPPING, then STOPPED with reason "suspended"); else
	 * why the save failed (the temporary file is gone, the guest runs
	 * on). May be NULL. */
	void (*saved)(void *data, struct vmm_vm *vm, const char *error);
	/* vmm_vm_plug ended: error NULL when QEMU took every device. */
	void (*plugged)(void *data, struct vmm_vm *vm, const char *error);
};

/* Validate and copy the spec (no files touched). NULL and *error (malloc'd
 * message, caller frees) on a bad spec. handler may be NULL. */
struct vmm_vm *vmm_vm_create(const struct vmm_vm_spec *spec, const struct vmm_vm_handler *handler,
	void *data, char **error);
/* Forget the VM. A running QEMU keeps running (attach to it later). */
void vmm_vm_destroy(struct vmm_vm *vm);

/*
 * Start QEMU: pool memfd, overlay, launch. State STARTING, then RUNNING
 * once QMP answers. false and *error when nothing was started (the VM is
 * already running, a file is in the way, QEMU cannot be executed, ...).
 */
bool vmm_vm_start(struct vmm_vm *vm, char **error);
/*
 * Adopt a QEMU left running by a previous compositor: its pidfile names a
 * live QEMU of this VM. true: state STARTING, then RUNNING when QMP
 * answers. false: nothing runs (leftover files of a dead one are removed).
 */
bool vmm_vm_attach(struct vmm_vm *vm);
/* ACPI power-down; after stop_timeout_ms QMP quit, then SIGKILL. */
void vmm_vm_stop(struct vmm_vm *vm);
/* Stop or continue the guest's CPUs (QMP stop / cont); its memory and
 * devices stay. False when QEMU is not running or QMP is not ready. */
bool vmm_vm_pause(struct vmm_vm *vm, bool paused);
/*
 * Suspend to a file: QMP stop, then migrate the guest's whole state (RAM,
 * the pool, devices) to STATE.tmp through a descriptor passed with getfd
 * (QEMU's sandbox forbids exec:), poll query-migrate until "completed",
 * fsync, copy a disposable overlay to STATE.overlay, write STATE.accel
 * ("kvm" or "tcg": the accelerator it ran under), rename STATE.tmp to
 * STATE, then QMP quit. The end comes through handler->saved. false and
 * *error when nothing was begun.
 */
bool vmm_vm_suspend(struct vmm_vm *vm, const char *state_path, char **error);
/*
 * Fast start (spec.fast_start). A "booted state" is a saved state of a
 * guest that booted without its private disk and NIC, with "vitrail.hold=1"
 * on its kernel command line (its session waits to be told to start), so
 * that any VM with the same template, kernel, memory and devices can start
 * from it. vmm_vm_boot_late boots such a guest; vmm_vm_record saves it
 * like vmm_vm_suspend but lets it run on (handler->saved, QEMU stays);
 * vmm_vm_restore_booted starts from one (as vmm_vm_restore, the overlay
 * copied from STATE.overlay); vmm_vm_plug then hot-plugs the private disk
 * and the NIC (QMP blockdev-add, netdev_add, device_add; a NIC to a service
 * VM then set_link down), reported by handler->plugged. Until vmm_vm_plug
 * succeeds a suspend is refused.
 */
bool vmm_vm_boot_late(struct vmm_vm *vm, char **error);
bool vmm_vm_record(struct vmm_vm *vm, const char *state_path, char **error);
bool vmm_vm_restore_booted(struct vmm_vm *vm, const char *state_path, char **error);
bool vmm_vm_plug(struct vmm_vm *vm, char **error);
/* Devices still to be plugged (booted late, vmm_vm_plug not done). */
bool vmm_vm_late(const struct vmm_vm *vm);
/* A suspend is under way (the guest is stopped). */
bool vmm_vm_saving(const struct vmm_vm *vm);
/*
 * Start QEMU from a state STATE written by vmm_vm_suspend: the same argv
 * plus -incoming fd:5 (STATE open on fd 5), a disposable's overlay copied
 * back from STATE.overlay, under the accelerator of STATE.accel (false
 * and *error when that is KVM and KVM is unusable, or TCG with accel =
 * kvm). STARTING until the loaded guest runs
 * (query-status leaves "inmigrate"), then RUNNING. A load that fails
 * ends QEMU: CRASHED, reason "restoring the saved state failed: ...".
 * The files are left: vmm_suspend_discard removes them.
 */
bool vmm_vm_restore(struct vmm_vm *vm, const char *state_path, char **error);
bool vmm_vm_restoring(const struct vmm_vm *vm);
/* Remove STATE, STATE.tmp, STATE.overlay and STATE.accel. */
void vmm_suspend_discard(const char *state_path);
/* SIGKILL at once (state STOPPING until it is gone). */
void vmm_vm_kill(struct vmm_vm *vm);

int vmm_vm_fd(const struct vmm_vm *vm);
void vmm_vm_dispatch(struct vmm_vm *vm);
/* Milliseconds until vmm_vm_tick() wants to run, -1: never. */
int vmm_vm_timeout_ms(const struct vmm_vm *vm);
void vmm_vm_tick(struct vmm_vm *vm);

enum vmm_state vmm_vm_state(const struct vmm_vm *vm);
const char *vmm_state_name(enum vmm_state state);
/* Why the VM stopped or crashed, for the user; "" if nothing to say. */
const char *vmm_vm_reason(const struct vmm_vm *vm);
/* When accel=auto did not get KVM: "KVM unusable here: WHY; using TCG";
 * "" otherwise. */
const char *vmm_vm_accel_note(const struct vmm_vm *vm);
/* A NIC (struct vmm_nic.id) of the running VM up or down: the guest sees
 * its carrier come and go (QMP set_link). */
bool vmm_vm_set_link(struct vmm_vm *vm, const char *nic_id, bool up, char **error);
/* Ask the guest's virtio balloon for a memory target of mib MiB (QMP
 * "balloon"): the guest gives back the rest; a target above the memory it
 * booted with is that memory (no hot-plug). false and *error unless QEMU
 * runs (state RUNNING). The guest's driver applies it when it can; nothing
 * waits for that. *applied_mib: the target asked for. */
bool vmm_vm_balloon(struct vmm_vm *vm, uint32_t mib, uint32_t *applied_mib, char **error);
/* The guest made progress (its agent said HELLO): stop watching whether
 * KVM works for it. */
void vmm_vm_note_progress(struct vmm_vm *vm);
const char *vmm_vm_name(const struct vmm_vm *vm);
pid_t vmm_vm_pid(const struct vmm_vm *vm); /* 0 when not running */
uint64_t vmm_vm_pool_size(const struct vmm_vm *vm);
/* The pool memfd, open O_RDWR and sealed while QEMU runs (map it
 * MAP_SHARED); -1 otherwise, or when an adopted QEMU's pool lost its seals. */
int vmm_vm_pool_fd(const struct vmm_vm *vm);
const char *vmm_vm_control_path(const struct vmm_vm *vm);
const char *vmm_vm_qmp_path(const struct vmm_vm *vm);
const char *vmm_vm_console_log_path(const struct vmm_vm *vm);
const char *vmm_vm_qemu_log_path(const struct vmm_vm *vm);

/* A human monitor command line (QMP human-monitor-command), answered
 * later: done(data, ok, output) is called once from vmm_vm_dispatch,
 * vmm_vm_tick or when QEMU goes away, never from vmm_vm_hmp itself; ok is
 * false for a QMP error or a lost QEMU (output says why), else output is
 * what the command printed ("" for none). One at a time: false and
 * *error when QEMU is not RUNNING or a command is in flight. QEMU
 * answers no other QMP command meanwhile (savevm, loadvm hold its main
 * loop); the caller is not blocked. */
typedef void (*vmm_hmp_done_fn)(void *data, bool ok, const char *output);
bool vmm_vm_hmp(struct vmm_vm *vm, const char *command_line, vmm_hmp_done_fn done, void *data,
	char **error);
bool vmm_vm_hmp_busy(const struct vmm_vm *vm);
/* Do not call done for the command in flight (it still runs in QEMU). */
void vmm_vm_hmp_forget(struct vmm_vm *vm);
/* The spec's disks: image, private_image (NULL if none), the overlay a
 * disposable boots (NULL unless disposable_of; it exists while QEMU
 * runs), and qemu-img. */
const char *vmm_vm_image(const struct vmm_vm *vm);
const char *vmm_vm_private_image(const struct vmm_vm *vm);
const char *vmm_vm_overlay_path(const struct vmm_vm *vm);
const char *vmm_vm_qemu_img(const struct vmm_vm *vm);

/* QEMU's argv for this VM (what vmm_vm_start runs), NULL-terminated; free
 * with vmm_strv_free. accel=auto is resolved with vmm_kvm_usable(QEMU). */
char **vmm_vm_qemu_argv(const struct vmm_vm *vm, char **error);
void vmm_strv_free(char **strv);

#endif
