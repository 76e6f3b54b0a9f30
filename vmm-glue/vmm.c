#define _GNU_SOURCE /* execvpe */
#include <vitrail/vmm.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <vitrail/protocol.h>

#include <vitrail/vmm_kvm.h>
#include <vitrail/vmm_qmp.h>

#define DEFAULT_MEMORY_MIB 512u
#define DEFAULT_POOL_SIZE (64ull << 20)
#define DEFAULT_START_TIMEOUT_MS 30000u
#define DEFAULT_STOP_TIMEOUT_MS 20000u
#define QUIT_TIMEOUT_MS 5000
#define KILL_TIMEOUT_MS 3000
#define EXIT_WAIT_MS 5000 /* QMP gone -> process gone */
#define POLL_MS 50
#define MAX_MEMORY_MIB (1u << 20)
#define MAX_CPUS 64u
#define MIN_POOL_SIZE (1ull << 20)
/* A VM that accel=auto put on KVM must show guest progress (console
 * output, or vmm_vm_note_progress()) this soon, or it is restarted under
 * TCG; one that dies before then is restarted at once. */
#define KVM_PROGRESS_MS 20000
/* suspend: the whole save (stop, migrate to the file, fsync) within this */
#define SAVE_TIMEOUT_MS 300000
/* restore: QEMU launched -> the loaded guest runs */
#define RESTORE_TIMEOUT_MS 300000
/* QEMU's descriptor of the state file it restores from */
#define RESTORE_FD 5
/* the fd name of the state file in QEMU's monitor (getfd) */
#define SAVE_FD_NAME "vitrail-save"
/* bytes/s: the guest is stopped, nothing to be gentle with */
#define SAVE_MAX_BANDWIDTH (16ll << 30)
#define STR_(x) #x
#define STR(x) STR_(x)

enum stop_stage {
	STAGE_NONE,
	STAGE_POWERDOWN, /* system_powerdown sent, waiting */
	STAGE_QUIT, /* quit sent, waiting */
	STAGE_KILL, /* SIGKILL sent, waiting */
};

struct vmm_vm {
	/* the spec, copied */
	char *name, *run_dir, *image, *kernel, *initrd, *append, *disposable_of;
	char *private_image;
	char *qemu, *qemu_img, *port_name;
	uint32_t memory_mib, cpus, start_timeout_ms, stop_timeout_ms, kvm_progress_ms;
	uint64_t pool_size;
	bool network_user, no_reboot, fast_start;
	uint32_t tcg_tb_mib;
	struct vmm_nic nics[VMM_MAX_NICS];
	size_t n_nics;
	enum vmm_accel accel;
	bool kvm_failed; /* auto: KVM died or hung for this VM; TCG from now on */
	bool kvm_watch; /* this run is on KVM by auto and has shown no progress yet */
	int64_t progress_deadline; /* ms; while kvm_watch */
	char *accel_note; /* "KVM unusable here: ...; using TCG", or NULL */

	/* derived paths */
	char *control_path, *qmp_path, *pid_path, *console_log_path, *qemu_log_path;
	char *overlay_path;
	char *late_path; /* RUN/NAME.late: exists while QEMU runs late */

	const struct vmm_vm_handler *handler;
	void *data;

	enum vmm_state state;
	char *reason;
	pid_t pid;
	int pool_fd;
	uint64_t actual_pool_size;
	struct vmm_qmp *qmp;
	int64_t status_id; /* the query-status in flight, -1: none */
	/* the human-monitor-command in flight (vmm_vm_hmp), -1: none */
	int64_t hmp_id;
	vmm_hmp_done_fn hmp_done;
	void *hmp_data;

	bool stop_requested;
	bool adopted; /* attached, QMP not confirmed yet */
	enum stop_stage stage;
	bool qemu_gone; /* QMP closed: waiting for the process to disappear */
	int64_t deadline; /* ms, CLOCK_MONOTONIC; 0: none */
	int64_t next_poll; /* ms; 0: none */

	/* fast start: QEMU runs without the private disk and the NIC
	 * (vmm_vm_boot_late, vmm_vm_restore_booted) until vmm_vm_plug */
	bool late;
	/* vmm_vm_plug: its QMP commands in flight (-1: answered) */
	int64_t plug_ids[8];
	size_t n_plug;
	/* vmm_vm_suspend: the guest's state going into save_tmp */
	bool saving;
	bool save_keep; /* vmm_vm_record: the guest runs on afterwards */
	bool suspended_exit; /* saved: QEMU quits, the VM is suspended */
	int save_fd; /* our descriptor of save_tmp, -1: none */
	char *save_path, *save_tmp;
	int64_t save_migrate_id, save_query_id; /* -1: none in flight */
	int64_t save_deadline;
	/* vmm_vm_restore: QEMU loads a saved state (-incoming) */
	bool restoring;
	int restore_fd; /* handed to QEMU as RESTORE_FD, -1: none */
	bool status_poll; /* query-status again at next_poll (incoming) */
	bool run_kvm; /* this run's QEMU is on KVM (saved as STATE.accel) */
	bool restore_tcg; /* the state being restored was saved under TCG */

	/* the last SHUTDOWN event */
	bool shutdown_seen, shutdown_guest;
	char shutdown_reason[64];
};

static void hmp_finish(struct vmm_vm *vm, bool ok, const char *output);

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *vformat(const char *fmt, va_list args)
{
	va_list copy;
	va_copy(copy, args);
	int len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len < 0) {
		return NULL;
	}
	char *s = malloc((size_t)len + 1);
	if (s != NULL) {
		vsnprintf(s, (size_t)len + 1, fmt, args);
	}
	return s;
}

static char *format(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	char *s = vformat(fmt, args);
	va_end(args);
	return s;
}

static bool set_error(char **error, const char *fmt, ...)
{
	if (error != NULL) {
		va_list args;
		va_start(args, fmt);
		*error = vformat(fmt, args);
		va_end(args);
	}
	return false;
}

static bool dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL) {
		return true;
	}
	*dst = strdup(src);
	return *dst != NULL;
}

static void set_reason(struct vmm_vm *vm, const char *fmt, ...)
{
	free(vm->reason);
	va_list args;
	va_start(args, fmt);
	vm->reason = vformat(fmt, args);
	va_end(args);
}

static void set_state(struct vmm_vm *vm, enum vmm_state state)
{
	if (vm->state == state) {
		return;
	}
	vm->state = state;
	if (vm->handler != NULL && vm->handler->state_changed != NULL) {
		vm->handler->state_changed(vm->data, vm);
	}
}

const char *vmm_state_name(enum vmm_state state)
{
	switch (state) {
	case VMM_STOPPED:
		return "stopped";
	case VMM_STARTING:
		return "starting";
	case VMM_RUNNING:
		return "running";
	case VMM_STOPPING:
		return "stopping";
	case VMM_CRASHED:
		return "crashed";
	}
	return "unknown";
}

/* ---- spec ---- */

static bool valid_port_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 64) {
		return false;
	}
	for (const char *p = name; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_';
		if (!ok) {
			return false;
		}
	}
	return true;
}

static bool check_spec(const struct vmm_vm_spec *spec, char **error)
{
	if (spec->name == NULL || !vtp_valid_vm_name(spec->name)) {
		return set_error(error, "VM name '%s' is not [a-z0-9-], 1..32",
			spec->name ? spec->name : "(none)");
	}
	const char *name = spec->name;
	if (spec->run_dir == NULL || spec->run_dir[0] != '/') {
		return set_error(error, "%s: run directory must be an absolute path", name);
	}
	/* a disk (image, or a disposable's overlay of disposable_of), a
	 * kernel, or a kernel booting with the disk attached */
	if (spec->image != NULL && spec->disposable_of != NULL) {
		return set_error(error, "%s: give image or disposable-of, not both", name);
	}
	if (spec->image == NULL && spec->kernel == NULL && spec->disposable_of == NULL) {
		return set_error(
			error, "%s: no boot source: give image, kernel or disposable-of", name);
	}
	if (spec->kernel == NULL && (spec->initrd != NULL || spec->append != NULL)) {
		return set_error(error, "%s: initrd and append need kernel", name);
	}
	if (spec->memory_mib != 0 && (spec->memory_mib < 64 || spec->memory_mib > MAX_MEMORY_MIB)) {
		return set_error(error, "%s: memory must be 64..%u MiB", name, MAX_MEMORY_MIB);
	}
	if (spec->tcg_tb_mib > 4096) {
		return set_error(error, "%s: TCG translation cache above 4096 MiB", name);
	}
	if (spec->cpus > MAX_CPUS) {
		return set_error(error, "%s: cpus must be 1..%u", name, MAX_CPUS);
	}
	uint64_t pool = spec->pool_size;
	if (pool != 0 &&
		(pool < MIN_POOL_SIZE || pool > VTP_MAX_POOL_SIZE || (pool & (pool - 1)) != 0)) {
		return set_error(error, "%s: pool size must be a power of two, 1 MiB..4 GiB", name);
	}
	if (spec->port_name != NULL && !valid_port_name(spec->port_name)) {
		return set_error(error, "%s: bad virtio port name", name);
	}
	if (spec->n_nics > VMM_MAX_NICS || (spec->n_nics > 0 && spec->nics == NULL)) {
		return set_error(error, "%s: more than %u network links", name, VMM_MAX_NICS);
	}
	for (size_t i = 0; i < spec->n_nics; i++) {
		const struct vmm_nic *nic = &spec->nics[i];
		struct sockaddr_un a;
		if (nic->id == NULL || strlen(nic->id) < 1 || strlen(nic->id) > 15 ||
			strspn(nic->id, "abcdefghijklmnopqrstuvwxyz0123456789") !=
				strlen(nic->id)) {
			return set_error(error, "%s: bad NIC id", name);
		}
		if (nic->local == NULL || nic->remote == NULL || nic->local[0] != '/' ||
			nic->remote[0] != '/' || strlen(nic->local) >= sizeof(a.sun_path) ||
			strlen(nic->remote) >= sizeof(a.sun_path)) {
			return set_error(error,
				"%s: NIC %s: socket paths must be absolute and short", name,
				nic->id);
		}
	}
	if (spec->fast_start && (spec->kernel == NULL || spec->n_nics + spec->network_user > 1)) {
		return set_error(error, "%s: fast start needs a kernel and at most one NIC", name);
	}
	/* Longest socket name: NAME.virtio.sock */
	struct sockaddr_un addr;
	if (strlen(spec->run_dir) + 1 + strlen(name) + strlen(".virtio.sock") >=
		sizeof(addr.sun_path)) {
		return set_error(error, "%s: run directory path too long for a unix socket", name);
	}
	return true;
}

struct vmm_vm *vmm_vm_create(const struct vmm_vm_spec *spec, const struct vmm_vm_handler *handler,
	void *data, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	if (!check_spec(spec, error)) {
		return NULL;
	}
	struct vmm_vm *vm = calloc(1, sizeof(*vm));
	if (vm == NULL) {
		set_error(error, "out of memory");
		return NULL;
	}
	vm->pool_fd = -1;
	vm->status_id = -1;
	vm->save_fd = -1;
	vm->restore_fd = -1;
	vm->save_migrate_id = vm->save_query_id = -1;
	vm->hmp_id = -1;
	vm->handler = handler;
	vm->data = data;
	vm->memory_mib = spec->memory_mib ? spec->memory_mib : DEFAULT_MEMORY_MIB;
	vm->cpus = spec->cpus ? spec->cpus : 1;
	vm->pool_size = spec->pool_size ? spec->pool_size : DEFAULT_POOL_SIZE;
	vm->start_timeout_ms =
		spec->start_timeout_ms ? spec->start_timeout_ms : DEFAULT_START_TIMEOUT_MS;
	vm->kvm_progress_ms = spec->kvm_progress_ms ? spec->kvm_progress_ms : KVM_PROGRESS_MS;
	vm->stop_timeout_ms =
		spec->stop_timeout_ms ? spec->stop_timeout_ms : DEFAULT_STOP_TIMEOUT_MS;
	vm->network_user = spec->network_user;
	vm->tcg_tb_mib = spec->tcg_tb_mib;
	vm->n_nics = spec->n_nics;
	for (size_t i = 0; i < spec->n_nics; i++) {
		vm->nics[i] = spec->nics[i];
		vm->nics[i].id = NULL; /* copied below */
		vm->nics[i].local = NULL;
		vm->nics[i].remote = NULL;
	}
	vm->no_reboot = spec->no_reboot;
	vm->fast_start = spec->fast_start;
	vm->accel = spec->accel;

	const char *r = spec->run_dir, *n = spec->name;
	bool ok = dup_opt(&vm->name, spec->name) && dup_opt(&vm->run_dir, spec->run_dir) &&
		dup_opt(&vm->image, spec->image) && dup_opt(&vm->kernel, spec->kernel) &&
		dup_opt(&vm->initrd, spec->initrd) && dup_opt(&vm->append, spec->append) &&
		dup_opt(&vm->disposable_of, spec->disposable_of) &&
		dup_opt(&vm->private_image, spec->private_image) &&
		dup_opt(&vm->qemu, spec->qemu ? spec->qemu : "qemu-system-x86_64") &&
		dup_opt(&vm->qemu_img, spec->qemu_img ? spec->qemu_img : "qemu-img") &&
		dup_opt(&vm->port_name,
			spec->port_name ? spec->port_name : VMM_DEFAULT_PORT_NAME) &&
		(vm->control_path = format("%s/%s.virtio.sock", r, n)) != NULL &&
		(vm->qmp_path = format("%s/%s.qmp", r, n)) != NULL &&
		(vm->pid_path = format("%s/%s.pid", r, n)) != NULL &&
		(vm->console_log_path = format("%s/%s.console.log", r, n)) != NULL &&
		(vm->qemu_log_path = format("%s/%s.qemu.log", r, n)) != NULL &&
		(vm->overlay_path = format("%s/%s.overlay.qcow2", r, n)) != NULL &&
		(vm->late_path = format("%s/%s.late", r, n)) != NULL;
	for (size_t i = 0; ok && i < spec->n_nics; i++) {
		ok = dup_opt((char **)&vm->nics[i].id, spec->nics[i].id) &&
			dup_opt((char **)&vm->nics[i].local, spec->nics[i].local) &&
			dup_opt((char **)&vm->nics[i].remote, spec->nics[i].remote);
	}
	if (!ok) {
		set_error(error, "out of memory");
		vmm_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

void vmm_vm_destroy(struct vmm_vm *vm)
{
	if (vm == NULL) {
		return;
	}
	vmm_qmp_destroy(vm->qmp);
	if (vm->pool_fd >= 0) {
		close(vm->pool_fd);
	}
	/* a save in flight is left to QEMU: a later attach cancels it */
	if (vm->save_fd >= 0) {
		close(vm->save_fd);
	}
	if (vm->restore_fd >= 0) {
		close(vm->restore_fd);
	}
	free(vm->save_path);
	free(vm->save_tmp);
	char *strings[] = { vm->name, vm->run_dir, vm->image, vm->kernel, vm->initrd, vm->append,
		vm->disposable_of, vm->private_image, vm->qemu, vm->qemu_img, vm->port_name,
		vm->control_path, vm->qmp_path, vm->pid_path, vm->console_log_path,
		vm->qemu_log_path, vm->overlay_path, vm->late_path, vm->reason, vm->accel_note };
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		free(strings[i]);
	}
	for (size_t i = 0; i < vm->n_nics; i++) {
		free((char *)vm->nics[i].id);
		free((char *)vm->nics[i].local);
		free((char *)vm->nics[i].remote);
	}
	free(vm);
}

/* ---- argv ---- */

struct strv {
	char **v;
	size_t len, cap;
	bool failed;
};

static void strv_add_owned(struct strv *sv, char *s)
{
	if (sv->failed || s == NULL) {
		sv->failed = true;
		free(s);
		return;
	}
	if (sv->len + 2 > sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 64;
		char **v = realloc(sv->v, cap * sizeof(*v));
		if (v == NULL) {
			sv->failed = true;
			free(s);
			return;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->len++] = s;
	sv->v[sv->len] = NULL;
}

static void strv_add(struct strv *sv, const char *s)
{
	strv_add_owned(sv, strdup(s));
}

static void strv_addf(struct strv *sv, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	strv_add_owned(sv, vformat(fmt, args));
	va_end(args);
}

void vmm_strv_free(char **strv)
{
	if (strv == NULL) {
		return;
	}
	for (char **p = strv; *p; p++) {
		free(*p);
	}
	free(strv);
}

/* QEMU option values separate keys with ',': a literal comma is ",,". */
static char *escape_commas(const char *s)
{
	size_t extra = 0;
	for (const char *p = s; *p; p++) {
		extra += *p == ',';
	}
	char *out = malloc(strlen(s) + extra + 1);
	if (out == NULL) {
		return NULL;
	}
	char *q = out;
	for (const char *p = s; *p; p++) {
		*q++ = *p;
		if (*p == ',') {
			*q++ = ',';
		}
	}
	*q = '\0';
	return out;
}

/*
 * A disk's format, from its name alone: "qcow2" for a name ending in
 * ".qcow2", else "raw". Never from its contents: the guest writes every
 * byte of a raw disk, and a qcow2 header it planted there could name a
 * host file as backing file, which QEMU would open at the next start.
 */
static const char *image_format(const char *path)
{
	size_t len = strlen(path);
	return len > 6 && strcmp(path + len - 6, ".qcow2") == 0 ? "qcow2" : "raw";
}

/* accel=kvm is checked by vmm_vm_start; auto asks the probe (cached). */
static bool uses_kvm(const struct vmm_vm *vm)
{
	if (vm->restore_tcg) {
		return false; /* a state is restored where it was saved */
	}
	return vm->accel == VMM_ACCEL_KVM ||
		(vm->accel == VMM_ACCEL_AUTO && !vm->kvm_failed && vmm_kvm_usable(vm->qemu, NULL));
}

char **vmm_vm_qemu_argv(const struct vmm_vm *vm, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	bool kvm = uses_kvm(vm);
	char *e_control = escape_commas(vm->control_path);
	char *e_qmp = escape_commas(vm->qmp_path);
	char *e_console = escape_commas(vm->console_log_path);
	char *e_disk = NULL;
	const char *disk_format = NULL;
	if (vm->image != NULL) {
		e_disk = escape_commas(vm->image);
		disk_format = image_format(vm->image);
	} else if (vm->disposable_of != NULL) {
		e_disk = escape_commas(vm->overlay_path);
		disk_format = "qcow2";
	}
	struct strv sv = { 0 };
	if (e_control == NULL || e_qmp == NULL || e_console == NULL ||
		(disk_format != NULL && e_disk == NULL)) {
		sv.failed = true;
	}

	strv_add(&sv, vm->qemu);
	strv_add(&sv, "-name");
	strv_addf(&sv, "guest=%s,process=vitrail-%s", vm->name, vm->name);
	strv_add(&sv, "-machine");
	strv_add(&sv, VMM_KVM_MACHINE);
	strv_add(&sv, "-accel");
	if (kvm || vm->tcg_tb_mib == 0) {
		strv_add(&sv, kvm ? "kvm" : "tcg");
	} else {
		strv_addf(&sv, "tcg,tb-size=%u", vm->tcg_tb_mib);
	}
	if (kvm) {
		strv_add(&sv, "-cpu");
		strv_add(&sv, VMM_KVM_CPU); /* what vmm_kvm_usable() proved */
	}
	strv_add(&sv, "-m");
	strv_addf(&sv, "%u", vm->memory_mib);
	strv_add(&sv, "-smp");
	strv_addf(&sv, "%u", vm->cpus);
	strv_add(&sv, "-nodefaults");
	strv_add(&sv, "-no-user-config");
	strv_add(&sv, "-display");
	strv_add(&sv, "none");
	/* QEMU's seccomp filter: no exec, no setuid, no scheduler or
	 * resource changes, none of the obsolete system calls */
	strv_add(&sv, "-sandbox");
	strv_add(&sv, VMM_SANDBOX);
	if (vm->no_reboot) {
		strv_add(&sv, "-no-reboot");
	}

	/* serial console -> log file */
	strv_add(&sv, "-chardev");
	strv_addf(&sv, "file,id=vtcon,path=%s,append=on", e_console);
	strv_add(&sv, "-serial");
	strv_add(&sv, "chardev:vtcon");

	/* the shared pool: the host's sealed memfd, inherited as fd
	 * VMM_POOL_FD, as ivshmem BAR2; master=on: the one peer, so QEMU
	 * saves the pool with the RAM (savevm) instead of refusing to */
	strv_add(&sv, "-object");
	strv_addf(&sv, "memory-backend-file,id=vtpool,size=%llu,mem-path=/proc/self/fd/%d,share=on",
		(unsigned long long)vm->pool_size, VMM_POOL_FD);
	strv_add(&sv, "-device");
	/* master=on: the pool is saved with the guest (vmm_vm_suspend);
	 * QEMU refuses to migrate a peer-mode ivshmem */
	strv_add(&sv, "ivshmem-plain,id=vtpooldev,memdev=vtpool,master=on");

	/* the control channel: a virtio-serial port on a unix socket */
	strv_add(&sv, "-chardev");
	strv_addf(&sv, "socket,id=vtctl,path=%s,server=on,wait=off", e_control);
	strv_add(&sv, "-device");
	strv_add(&sv, "virtio-serial-pci,id=vtserial");
	strv_add(&sv, "-device");
	strv_addf(&sv, "virtserialport,bus=vtserial.0,chardev=vtctl,name=%s", vm->port_name);

	strv_add(&sv, "-qmp");
	strv_addf(&sv, "unix:%s,server=on,wait=off", e_qmp);
	if (vm->restore_fd >= 0) {
		/* a suspended VM: its saved state, then it runs */
		strv_add(&sv, "-incoming");
		strv_addf(&sv, "fd:%d", RESTORE_FD);
	}
	strv_add(&sv, "-pidfile");
	strv_add(&sv, vm->pid_path);

	strv_add(&sv, "-device");
	strv_add(&sv, "virtio-rng-pci");
	if (vm->fast_start) {
		/* hot-plug slots for the private disk and the NIC; a new
		 * generation id each QEMU start (a restored copy reseeds) */
		strv_add(&sv, "-device");
		strv_add(&sv, "pcie-root-port,id=vtrp0,chassis=1,addr=0x1c.0,multifunction=on");
		strv_add(&sv, "-device");
		strv_add(&sv, "pcie-root-port,id=vtrp1,chassis=2,addr=0x1c.1");
		strv_add(&sv, "-device");
		strv_add(&sv, "vmgenid,guid=auto");
	}
	/* the guest hands memory it frees back to the host */
	strv_add(&sv, "-device");
	strv_add(&sv, "virtio-balloon-pci,free-page-reporting=on");
	/* booted late: the NIC and the private disk come with vmm_vm_plug */
	const char *nic_bus = vm->fast_start ? ",bus=vtrp1,id=vtnic" : "";
	if (vm->network_user && !vm->late) {
		strv_add(&sv, "-netdev");
		strv_add(&sv, "user,id=vtnet");
		strv_add(&sv, "-device");
		strv_addf(&sv, "virtio-net-pci,netdev=vtnet,mac=" VMM_USER_MAC "%s", nic_bus);
	}
	for (size_t i = 0; i < vm->n_nics && !vm->late; i++) {
		const struct vmm_nic *nic = &vm->nics[i];
		char *e_local = escape_commas(nic->local), *e_remote = escape_commas(nic->remote);
		strv_add(&sv, "-netdev");
		strv_addf(&sv,
			"dgram,id=nd%s,local.type=unix,local.path=%s,remote.type=unix,remote.path=%"
			"s",
			nic->id, e_local ? e_local : "", e_remote ? e_remote : "");
		strv_add(&sv, "-device");
		strv_addf(&sv,
			"virtio-net-pci,netdev=nd%s,id=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x%s",
			nic->id, nic->id, nic->mac[0], nic->mac[1], nic->mac[2], nic->mac[3],
			nic->mac[4], nic->mac[5], vm->fast_start ? ",bus=vtrp1" : "");
		if (e_local == NULL || e_remote == NULL) {
			sv.failed = true;
		}
		free(e_local);
		free(e_remote);
	}

	if (vm->kernel != NULL) {
		strv_add(&sv, "-kernel");
		strv_add(&sv, vm->kernel);
		if (vm->initrd != NULL) {
			strv_add(&sv, "-initrd");
			strv_add(&sv, vm->initrd);
		}
		if (vm->late) {
			/* the session waits for the host (vitrail.hold, tools/) */
			strv_add(&sv, "-append");
			strv_addf(&sv, "%s%svitrail.hold=1", vm->append ? vm->append : "",
				vm->append ? " " : "");
		} else if (vm->append != NULL) {
			strv_add(&sv, "-append");
			strv_add(&sv, vm->append);
		}
	}
	bool private = vm->private_image != NULL && !vm->late;
	/* fast start: the same devices with or without the private disk */
	if (disk_format != NULL && !private && !vm->fast_start) {
		strv_add(&sv, "-drive");
		strv_addf(&sv, "file=%s,format=%s,if=virtio", e_disk, disk_format);
	} else if (disk_format != NULL) {
		/* QEMU creates the devices of if=virtio drives after every
		 * -device: with a private disk, both are -device, root first, so
		 * that the root stays /dev/vda in the guest */
		strv_add(&sv, "-drive");
		strv_addf(&sv, "file=%s,format=%s,if=none,id=vtroot", e_disk, disk_format);
		strv_add(&sv, "-device");
		strv_add(&sv, "virtio-blk-pci,drive=vtroot");
	}
	if (private) {
		char *e_private = escape_commas(vm->private_image);
		if (e_private == NULL) {
			sv.failed = true;
		} else {
			strv_add(&sv, "-drive");
			/* never probed: the guest writes every byte of a raw
			 * volume, a qcow2 header with a host backing file too */
			strv_addf(&sv, "file=%s,format=%s,if=none,id=vtprivate", e_private,
				image_format(vm->private_image));
			strv_add(&sv, "-device");
			strv_addf(&sv,
				"virtio-blk-pci,drive=vtprivate,serial=" VMM_PRIVATE_SERIAL "%s",
				vm->fast_start ? ",bus=vtrp0,id=vtprivdev" : "");
			free(e_private);
		}
	}

	free(e_control);
	free(e_qmp);
	free(e_console);
	free(e_disk);
	if (sv.failed) {
		vmm_strv_free(sv.v);
		set_error(error, "out of memory");
		return NULL;
	}
	return sv.v;
}

/* ---- processes ---- */

/* Alive and not a zombie. */
static bool process_alive(pid_t pid)
{
	if (pid <= 0) {
		return false;
	}
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return kill(pid, 0) == 0 || errno == EPERM;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return false;
	}
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
}

/* Is pid a QEMU started for this VM? Its command line names our QMP socket. */
static bool process_is_ours(const struct vmm_vm *vm, pid_t pid)
{
	if (!process_alive(pid)) {
		return false;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	char buf[16384];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return false;
	}
	buf[n] = '\0';
	/* exactly as vmm_vm_qemu_argv wrote it */
	char *escaped = escape_commas(vm->qmp_path);
	char *want = escaped != NULL ? format("unix:%s,server=on", escaped) : NULL;
	free(escaped);
	bool found = false;
	for (ssize_t i = 0; want != NULL && i < n; i += (ssize_t)strlen(buf + i) + 1) {
		if (strcmp(buf + i, want) == 0 ||
			(strncmp(buf + i, want, strlen(want)) == 0 &&
				buf[i + (ssize_t)strlen(want)] == ',')) {
			found = true;
			break;
		}
	}
	free(want);
	return found;
}

static pid_t read_pidfile(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return 0;
	}
	char buf[32];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return 0;
	}
	buf[n] = '\0';
	char *end;
	long pid = strtol(buf, &end, 10);
	if (end == buf || pid <= 1 || pid > INT_MAX) {
		return 0;
	}
	return (pid_t)pid;
}

static void close_fds_from(int lowest)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int)lowest, ~0u, 0u) == 0) {
		return;
	}
#endif
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536) {
		max = 65536;
	}
	for (int fd = lowest; fd < max; fd++) {
		close(fd);
	}
}

struct launch_note {
	int kind; /* 1: pid of QEMU, 2: exec failed with errno */
	int value;
};

/*
 * Run argv as a grandchild in its own session (so it outlives us), in dir,
 * with stdin /dev/null, stdout/stderr on log_fd, pool_fd as VMM_POOL_FD,
 * restore_fd (if >= 0) as RESTORE_FD, no other descriptor and only PATH in its environment. Returns its pid, or
 * -1 and errno.
 */
static pid_t spawn_detached(char **argv, int log_fd, int pool_fd, int restore_fd, const char *dir)
{
	int pipefd[2];
	if (pipe(pipefd) < 0) {
		return -1;
	}
	fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
	fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
	pid_t mid = fork();
	if (mid < 0) {
		int saved = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		errno = saved;
		return -1;
	}
	if (mid == 0) {
		setsid();
		pid_t pid = fork();
		if (pid == 0) {
			/* out of the way of 0..4 first, then into place */
			int log = fcntl(log_fd, F_DUPFD_CLOEXEC, 10);
			int note_fd = fcntl(pipefd[1], F_DUPFD_CLOEXEC, 10);
			int pool = fcntl(pool_fd, F_DUPFD_CLOEXEC, 10);
			int restore = restore_fd >= 0 ? fcntl(restore_fd, F_DUPFD_CLOEXEC, 10) : -1;
			int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (log < 0 || note_fd < 0 || pool < 0 || null_fd < 0 ||
				(restore_fd >= 0 &&
					(restore < 0 || dup2(restore, RESTORE_FD) < 0)) ||
				dup2(null_fd, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
				dup2(pool, VMM_POOL_FD) < 0 || dup2(note_fd, 4) < 0 ||
				chdir(dir) < 0) {
				struct launch_note note = { 2, errno };
				(void)!write(pipefd[1], &note, sizeof(note));
				_exit(127);
			}
			_Static_assert(VMM_POOL_FD == 3, "fd 4 is the note pipe");
			fcntl(4, F_SETFD, FD_CLOEXEC);
			_Static_assert(RESTORE_FD == 5, "fds 3, 4, 5: pool, note, state");
			close_fds_from(restore_fd >= 0 ? RESTORE_FD + 1 : RESTORE_FD);
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			for (int sig = 1; sig < NSIG; sig++) {
				signal(sig, SIG_DFL);
			}
			/* execvpe searches our PATH; QEMU gets only that */
			const char *path = getenv("PATH");
			char path_var[4096];
			snprintf(path_var, sizeof(path_var), "PATH=%s",
				path != NULL ? path : "/usr/local/bin:/usr/bin:/bin");
			char *envp[] = { path_var, NULL };
			execvpe(argv[0], argv, envp);
			struct launch_note note = { 2, errno };
			(void)!write(4, &note, sizeof(note));
			_exit(127);
		}
		struct launch_note note = { pid < 0 ? 2 : 1, pid < 0 ? errno : (int)pid };
		(void)!write(pipefd[1], &note, sizeof(note));
		_exit(0);
	}
	close(pipefd[1]);
	int status;
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {
	}
	/* EOF once QEMU has exec'd (close-on-exec) and the middle child is gone. */
	pid_t pid = -1;
	int exec_errno = 0;
	struct launch_note note;
	for (;;) {
		ssize_t n = read(pipefd[0], &note, sizeof(note));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n != (ssize_t)sizeof(note)) {
			break;
		}
		if (note.kind == 1) {
			pid = note.value;
		} else {
			exec_errno = note.value;
		}
	}
	close(pipefd[0]);
	if (exec_errno != 0 || pid <= 0) {
		errno = exec_errno ? exec_errno : ECHILD;
		return -1;
	}
	return pid;
}

/* Run argv to completion (short tools like qemu-img); output to log_fd. */
static bool run_tool(char **argv, int log_fd, char **error)
{
	pid_t pid = fork();
	if (pid < 0) {
		return set_error(error, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int null_fd = open("/dev/null", O_RDWR);
		if (null_fd >= 0) {
			dup2(null_fd, 0);
		}
		dup2(log_fd, 1);
		dup2(log_fd, 2);
		close_fds_from(3);
		execvp(argv[0], argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno == ECHILD) {
			return true; /* SIGCHLD ignored: the status is lost, QEMU will tell */
		}
		if (errno != EINTR) {
			return set_error(error, "waitpid: %s", strerror(errno));
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		return set_error(error, "%s failed (see the log)", argv[0]);
	}
	return true;
}

/* The first 2 KiB of a file as a string (NULL if unreadable). */
static char *head_of_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return NULL;
	}
	char *buf = malloc(2048);
	ssize_t n = buf != NULL ? pread(fd, buf, 2047, 0) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* The last non-empty line of a (small) log file, for error messages. */
static char *last_log_line(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return NULL;
	}
	char buf[2048];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(buf) - 1 ? size - ((off_t)sizeof(buf) - 1) : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0) {
		return NULL;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
		buf[--n] = '\0';
	}
	if (n == 0) {
		return NULL;
	}
	char *line = strrchr(buf, '\n');
	return strdup(line ? line + 1 : buf);
}

/* ---- files ---- */

static bool make_run_dir(const char *dir, char **error)
{
	char path[PATH_MAX];
	if (strlen(dir) >= sizeof(path)) {
		return set_error(error, "run directory path too long");
	}
	strcpy(path, dir);
	for (char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST) {
				return set_error(error, "mkdir %s: %s", path, strerror(errno));
			}
			*p = saved;
			if (saved == '\0') {
				break;
			}
		}
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		return set_error(error, "%s is not a directory", dir);
	}
	if (st.st_uid != getuid() || (st.st_mode & 0077) != 0) {
		return set_error(error, "%s must belong to us with mode 0700", dir);
	}
	return true;
}

/* Remove what a dead QEMU of this VM left behind. */
static void remove_leftovers(struct vmm_vm *vm)
{
	unlink(vm->late_path);
	unlink(vm->overlay_path);
	unlink(vm->control_path);
	unlink(vm->qmp_path);
	unlink(vm->pid_path);
}

/* The pool: an anonymous memfd, sealed before QEMU ever sees it. */
static bool create_pool(struct vmm_vm *vm, char **error)
{
	char name[64];
	snprintf(name, sizeof(name), "vitrail-%s-pool", vm->name);
	int fd = vtp_pool_memfd_create(name, vm->pool_size);
	if (fd < 0) {
		return set_error(
			error, "%s: cannot create the pool: %s", vm->name, strerror(errno));
	}
	vm->pool_fd = fd;
	vm->actual_pool_size = vm->pool_size;
	return true;
}

/* cp FROM TO (TO replaced, 0600, fsync'd); false and errno. */
static bool copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		return false;
	}
	unlink(to);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		int saved = errno;
		close(in);
		errno = saved;
		return false;
	}
	bool ok = true;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
			char buf[65536];
			ssize_t r;
			while ((r = read(in, buf, sizeof(buf))) > 0) {
				if (write(out, buf, (size_t)r) != r) {
					ok = false;
					break;
				}
			}
			ok = ok && r == 0;
			break;
		}
		if (n <= 0) {
			ok = n == 0;
			break;
		}
	}
	int saved = errno;
	ok = ok && fsync(out) == 0;
	close(in);
	if (close(out) != 0) {
		ok = false;
	}
	if (!ok) {
		unlink(to);
		errno = saved;
	}
	return ok;
}

static bool create_overlay(struct vmm_vm *vm, int log_fd, char **error)
{
	char template[PATH_MAX];
	if (realpath(vm->disposable_of, template) == NULL) {
		return set_error(error, "%s: template image %s: %s", vm->name, vm->disposable_of,
			strerror(errno));
	}
	unlink(vm->overlay_path);
	char *argv[] = { vm->qemu_img, "create", "-q", "-f", "qcow2", "-b", template, "-F",
		(char *)image_format(template), vm->overlay_path, NULL };
	char *why = NULL;
	if (!run_tool(argv, log_fd, &why)) {
		set_error(error, "%s: cannot create the disposable overlay: %s", vm->name, why);
		free(why);
		return false;
	}
	return true;
}

/* ---- life cycle ---- */

static void handle_qmp_message(void *data, const struct vmm_qmp_msg *msg);

static bool launch(struct vmm_vm *vm, char **error);
static void reset_run_state(struct vmm_vm *vm);
static void save_end(struct vmm_vm *vm, const char *error);

/* QEMU is gone: clean up and settle on STOPPED or CRASHED, or, when
 * accel=auto chose a KVM that failed this VM, start it again under TCG. */
static void finish(struct vmm_vm *vm)
{
	bool fall_back = vm->kvm_watch && !vm->stop_requested;
	vm->kvm_watch = false;
	hmp_finish(vm, false, "QEMU is gone");
	vm->n_plug = 0;
	vmm_qmp_destroy(vm->qmp);
	vm->qmp = NULL;
	if (vm->pool_fd >= 0) {
		close(vm->pool_fd);
		vm->pool_fd = -1;
	}
	remove_leftovers(vm);
	vm->pid = 0;
	vm->deadline = 0;
	vm->next_poll = 0;
	vm->qemu_gone = false;
	vm->adopted = false;
	vm->status_id = -1;
	enum vmm_state state;
	bool restore_failed = vm->restoring;
	vm->restoring = false;
	vm->restore_tcg = false;
	vm->status_poll = false;
	if (vm->suspended_exit) {
		state = VMM_STOPPED;
		set_reason(vm, "suspended");
	} else if (vm->stop_requested) {
		state = VMM_STOPPED;
		set_reason(vm, "stopped");
	} else if (restore_failed) {
		state = VMM_CRASHED;
		char *last = last_log_line(vm->qemu_log_path);
		set_reason(vm, "restoring the saved state failed: %s; QEMU log: %s",
			last != NULL ? last : "QEMU exited", vm->qemu_log_path);
		free(last);
	} else if (vm->shutdown_seen && vm->shutdown_guest &&
		strcmp(vm->shutdown_reason, "guest-shutdown") == 0) {
		state = VMM_STOPPED;
		set_reason(vm, "the guest powered off");
	} else {
		state = VMM_CRASHED;
		if (vm->reason == NULL || vm->reason[0] == '\0') {
			char *last = last_log_line(vm->qemu_log_path);
			if (vm->shutdown_seen) {
				set_reason(vm, "QEMU stopped on its own (%s); console log: %s",
					vm->shutdown_reason[0] ? vm->shutdown_reason : "shutdown",
					vm->console_log_path);
			} else if (last != NULL) {
				set_reason(vm, "QEMU exited: %s; console log: %s", last,
					vm->console_log_path);
			} else {
				set_reason(vm, "QEMU exited unexpectedly; console log: %s",
					vm->console_log_path);
			}
			free(last);
		}
	}
	vm->stop_requested = false;
	vm->suspended_exit = false;
	vm->stage = STAGE_NONE;
	if (vm->saving) {
		save_end(vm, "QEMU exited while saving");
	}
	if (fall_back && !restore_failed) {
		char *log = head_of_file(vm->qemu_log_path);
		const char *said = log != NULL ? vmm_qemu_message(log) : NULL;
		const char *why = vm->reason != NULL && strncmp(vm->reason, "no guest", 8) == 0
			? vm->reason
			: said != NULL ? said
				       : "QEMU exited at once";
		char *note = format("KVM unusable here: %s; using TCG", why);
		vmm_kvm_mark_unusable(vm->qemu, why);
		free(log);
		vm->kvm_failed = true;
		reset_run_state(vm);
		char *error = NULL;
		if (launch(vm, &error)) {
			free(vm->accel_note);
			vm->accel_note = note;
			return; /* still STARTING, now under TCG */
		}
		set_reason(vm, "%s; restarting under TCG failed: %s", note ? note : "KVM unusable",
			error ? error : "out of memory");
		free(note);
		free(error);
	}
	set_state(vm, state);
}

static void reset_run_state(struct vmm_vm *vm)
{
	free(vm->reason);
	vm->reason = NULL;
	vm->stop_requested = false;
	vm->adopted = false;
	vm->stage = STAGE_NONE;
	vm->qemu_gone = false;
	vm->shutdown_seen = false;
	vm->shutdown_guest = false;
	vm->shutdown_reason[0] = '\0';
	vm->status_id = -1;
	vm->suspended_exit = false;
	vm->status_poll = false;
	vm->n_plug = 0;
}

static bool start(struct vmm_vm *vm, char **error);

/* A vitrail that re-attaches knows from RUN/NAME.late that the devices
 * were never plugged (vmm_vm_attach). */
static void mark_late(struct vmm_vm *vm)
{
	int fd = open(vm->late_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
	}
}

bool vmm_vm_start(struct vmm_vm *vm, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	if (vm->state == VMM_STOPPED || vm->state == VMM_CRASHED) {
		vm->late = false;
	}
	return start(vm, error);
}

static bool restore(struct vmm_vm *vm, const char *state_path, char **error);

/* Boot (state_path NULL) or restore a booted state without the devices
 * vmm_vm_plug adds. */
static bool start_late(struct vmm_vm *vm, const char *state_path, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	if (!vm->fast_start) {
		return set_error(error, "%s: not a fast-start VM", vm->name);
	}
	if (vm->state != VMM_STOPPED && vm->state != VMM_CRASHED) {
		return set_error(error, "%s is %s", vm->name, vmm_state_name(vm->state));
	}
	vm->late = true;
	if (state_path != NULL ? !restore(vm, state_path, error) : !start(vm, error)) {
		vm->late = false;
		return false;
	}
	mark_late(vm);
	return true;
}

bool vmm_vm_boot_late(struct vmm_vm *vm, char **error)
{
	return start_late(vm, NULL, error);
}

bool vmm_vm_late(const struct vmm_vm *vm)
{
	return vm->late;
}

static bool start(struct vmm_vm *vm, char **error)
{
	if (vm->state != VMM_STOPPED && vm->state != VMM_CRASHED) {
		return set_error(error, "%s is %s", vm->name, vmm_state_name(vm->state));
	}
	if (!make_run_dir(vm->run_dir, error)) {
		return false;
	}
	pid_t old = read_pidfile(vm->pid_path);
	if (old > 0 && process_is_ours(vm, old)) {
		return set_error(error, "%s is already running (QEMU pid %d)", vm->name, (int)old);
	}
	remove_leftovers(vm);
	reset_run_state(vm);
	free(vm->accel_note);
	vm->accel_note = NULL;
	if (vm->accel == VMM_ACCEL_KVM) {
		const char *why = NULL;
		if (!vmm_kvm_usable(vm->qemu, &why)) {
			return set_error(error, "%s: accel = kvm, but KVM is unusable here: %s",
				vm->name, why);
		}
	} else if (vm->accel == VMM_ACCEL_AUTO) {
		const char *why = NULL;
		if (vm->kvm_failed || !vmm_kvm_usable(vm->qemu, &why)) {
			vm->accel_note = vm->kvm_failed
				? format("KVM unusable here (this VM failed under it); using TCG")
				: format("KVM unusable here: %s; using TCG", why);
		}
	}
	return launch(vm, error);
}

/* Pool, overlay, console log, QEMU: state STARTING on success. */
static bool launch(struct vmm_vm *vm, char **error)
{
	int log_fd = open(vm->qemu_log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		return set_error(error, "%s: %s: %s", vm->name, vm->qemu_log_path, strerror(errno));
	}
	char **argv = NULL;
	if (!create_pool(vm, error)) {
		goto error;
	}
	if (vm->disposable_of != NULL && vm->restore_fd >= 0) {
		/* the disk as it was when the state was saved */
		char *saved = format("%s.overlay", vm->save_path);
		bool copied = saved != NULL && copy_file(saved, vm->overlay_path);
		if (!copied) {
			set_error(error, "%s: cannot restore the disposable overlay from %s: %s",
				vm->name, saved != NULL ? saved : "?", strerror(errno));
		}
		free(saved);
		if (!copied) {
			goto error;
		}
	} else if (vm->disposable_of != NULL && !create_overlay(vm, log_fd, error)) {
		goto error;
	}
	argv = vmm_vm_qemu_argv(vm, error);
	if (argv == NULL) {
		goto error;
	}
	/* a dgram NIC binds its socket: one left by an earlier run is stale */
	for (size_t i = 0; i < vm->n_nics; i++) {
		unlink(vm->nics[i].local);
	}
	/* QEMU appends to the console log (so the host can cap it by
	 * truncating): each boot starts a fresh one. */
	int console_fd = open(
		vm->console_log_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (console_fd >= 0) {
		close(console_fd);
	}
	pid_t pid = spawn_detached(argv, log_fd, vm->pool_fd, vm->restore_fd, vm->run_dir);
	if (pid < 0) {
		set_error(error, "%s: cannot run %s: %s", vm->name, argv[0], strerror(errno));
		goto error;
	}
	vmm_strv_free(argv);
	close(log_fd);
	if (vm->restore_fd >= 0) {
		close(vm->restore_fd); /* QEMU has it */
		vm->restore_fd = -1;
	}
	vm->pid = pid;
	int64_t now = now_ms();
	vm->deadline = now + (vm->restoring ? RESTORE_TIMEOUT_MS : vm->start_timeout_ms);
	vm->next_poll = now;
	vm->run_kvm = uses_kvm(vm);
	vm->kvm_watch = vm->accel == VMM_ACCEL_AUTO && vm->run_kvm;
	vm->progress_deadline = now + vm->kvm_progress_ms;
	set_state(vm, VMM_STARTING); /* a restart under TCG may come from RUNNING */
	return true;
error:
	vmm_strv_free(argv);
	close(log_fd);
	if (vm->restore_fd >= 0) {
		close(vm->restore_fd);
		vm->restore_fd = -1;
	}
	vm->restoring = false;
	if (vm->pool_fd >= 0) {
		close(vm->pool_fd);
		vm->pool_fd = -1;
	}
	remove_leftovers(vm);
	return false;
}

bool vmm_vm_attach(struct vmm_vm *vm)
{
	if (vm->state != VMM_STOPPED && vm->state != VMM_CRASHED) {
		return vm->state != VMM_STOPPING;
	}
	pid_t pid = read_pidfile(vm->pid_path);
	if (pid <= 0 || !process_is_ours(vm, pid)) {
		remove_leftovers(vm);
		return false;
	}
	reset_run_state(vm);
	vm->pid = pid;
	vm->adopted = true;
	/* an earlier vitrail went before it plugged the devices */
	vm->late = vm->fast_start && access(vm->late_path, F_OK) == 0;
	/* the pool QEMU was given; QEMU may have swapped it since, so it is
	 * only taken with its seals */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, VMM_POOL_FD);
	vm->pool_fd = open(path, O_RDWR | O_CLOEXEC);
	vm->actual_pool_size = vm->pool_fd >= 0 ? vtp_pool_sealed_size(vm->pool_fd) : 0;
	if (vm->actual_pool_size == 0 && vm->pool_fd >= 0) {
		close(vm->pool_fd);
		vm->pool_fd = -1;
	}
	int64_t now = now_ms();
	vm->deadline = now + vm->start_timeout_ms;
	vm->next_poll = now;
	set_state(vm, VMM_STARTING);
	return true;
}

static void send_or_lose(struct vmm_vm *vm, const char *command, int64_t *id)
{
	if (vm->qmp != NULL && vmm_qmp_ready(vm->qmp)) {
		vmm_qmp_execute(vm->qmp, command, id);
	}
}

bool vmm_vm_pause(struct vmm_vm *vm, bool paused)
{
	if (vm->state != VMM_RUNNING || vm->qmp == NULL || !vmm_qmp_ready(vm->qmp) || vm->saving) {
		return false;
	}
	vmm_qmp_execute(vm->qmp, paused ? "stop" : "cont", NULL);
	return true;
}

/* ---- suspend and restore ---- */

bool vmm_vm_restore(struct vmm_vm *vm, const char *state_path, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	if (vm->state != VMM_STOPPED && vm->state != VMM_CRASHED) {
		return set_error(error, "%s is %s", vm->name, vmm_state_name(vm->state));
	}
	vm->late = false;
	return restore(vm, state_path, error);
}

bool vmm_vm_restore_booted(struct vmm_vm *vm, const char *state_path, char **error)
{
	return start_late(vm, state_path, error);
}

static bool restore(struct vmm_vm *vm, const char *state_path, char **error)
{
	int fd = open(state_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		return set_error(error, "%s: cannot open the saved state %s: %s", vm->name,
			state_path, strerror(errno));
	}
	char *path = strdup(state_path);
	if (path == NULL) {
		close(fd);
		return set_error(error, "out of memory");
	}
	free(vm->save_path);
	vm->save_path = path;
	/* CPU state saved under KVM loads only under KVM, and TCG's only
	 * under TCG */
	char accel[8] = "";
	char *accel_path = format("%s.accel", state_path);
	int afd = accel_path != NULL ? open(accel_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	free(accel_path);
	if (afd >= 0) {
		ssize_t n = read(afd, accel, sizeof(accel) - 1);
		accel[n > 0 ? n : 0] = '\0';
		close(afd);
	}
	bool saved_kvm = strncmp(accel, "kvm", 3) == 0;
	if (saved_kvm && (vm->accel == VMM_ACCEL_TCG || !vmm_kvm_usable(vm->qemu, NULL))) {
		close(fd);
		return set_error(error, "%s: its state was saved under KVM, which is unusable here",
			vm->name);
	}
	if (!saved_kvm && vm->accel == VMM_ACCEL_KVM) {
		close(fd);
		return set_error(
			error, "%s: its state was saved under TCG, but accel = kvm", vm->name);
	}
	vm->restore_tcg = !saved_kvm;
	vm->restore_fd = fd;
	vm->restoring = true;
	if (!start(vm, error)) {
		vm->restore_tcg = false;
		if (vm->restore_fd >= 0) {
			close(vm->restore_fd);
			vm->restore_fd = -1;
		}
		vm->restoring = false;
		return false;
	}
	return true;
}

bool vmm_vm_restoring(const struct vmm_vm *vm)
{
	return vm->restoring;
}

bool vmm_vm_saving(const struct vmm_vm *vm)
{
	return vm->saving;
}

void vmm_suspend_discard(const char *state_path)
{
	const char *suffixes[] = { "", ".tmp", ".overlay", ".accel" };
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *path = format("%s%s", state_path, suffixes[i]);
		if (path != NULL) {
			unlink(path);
		}
		free(path);
	}
}

static bool save(struct vmm_vm *vm, const char *state_path, bool keep, char **error);

bool vmm_vm_suspend(struct vmm_vm *vm, const char *state_path, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	if (vm->late) {
		return set_error(
			error, "%s: it is still starting (its devices are not plugged)", vm->name);
	}
	return save(vm, state_path, false, error);
}

bool vmm_vm_record(struct vmm_vm *vm, const char *state_path, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	if (!vm->late) {
		return set_error(error, "%s: only a VM booted late can be recorded", vm->name);
	}
	return save(vm, state_path, true, error);
}

static bool save(struct vmm_vm *vm, const char *state_path, bool keep, char **error)
{
	if (vm->state != VMM_RUNNING || vm->qmp == NULL || !vmm_qmp_ready(vm->qmp)) {
		return set_error(error, "%s: QEMU is not running", vm->name);
	}
	if (vm->saving) {
		return set_error(error, "%s: it is being saved already", vm->name);
	}
	char *path = strdup(state_path);
	char *tmp = format("%s.tmp", state_path);
	if (path == NULL || tmp == NULL) {
		free(path);
		free(tmp);
		return set_error(error, "out of memory");
	}
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		set_error(error, "%s: cannot create %s: %s", vm->name, tmp, strerror(errno));
		free(path);
		free(tmp);
		return false;
	}
	free(vm->save_path);
	free(vm->save_tmp);
	vm->save_path = path;
	vm->save_tmp = tmp;
	vm->save_fd = fd;
	/* the guest stops; its RAM (the pool with it) and devices go into
	 * the file through a descriptor QEMU gets over QMP (its sandbox
	 * forbids exec:) */
	bool sent = vmm_qmp_execute(vm->qmp, "stop", NULL) &&
		vmm_qmp_execute_int(vm->qmp, "migrate-set-parameters", "max-bandwidth",
			SAVE_MAX_BANDWIDTH, NULL) &&
		vmm_qmp_execute_str(vm->qmp, "getfd", "fdname", SAVE_FD_NAME, fd, NULL) &&
		vmm_qmp_execute_str(
			vm->qmp, "migrate", "uri", "fd:" SAVE_FD_NAME, -1, &vm->save_migrate_id);
	vm->saving = true;
	vm->save_keep = keep;
	if (!sent) {
		set_error(error, "%s: QMP: %s", vm->name, vm->qmp->error);
		save_end(vm, NULL);
		return false;
	}
	int64_t now = now_ms();
	vm->save_deadline = now + SAVE_TIMEOUT_MS;
	vm->next_poll = now + POLL_MS;
	return true;
}

/* A save did not complete: the file goes, the guest runs on. error NULL:
 * the caller reports it. */
static void save_end(struct vmm_vm *vm, const char *error)
{
	if (!vm->saving) {
		return;
	}
	vm->saving = false;
	vm->save_migrate_id = vm->save_query_id = -1;
	if (vm->save_fd >= 0) {
		close(vm->save_fd);
		vm->save_fd = -1;
	}
	if (vm->save_tmp != NULL) {
		unlink(vm->save_tmp);
	}
	if (vm->qmp != NULL && vmm_qmp_ready(vm->qmp)) {
		vmm_qmp_execute(vm->qmp, "migrate_cancel", NULL);
		vmm_qmp_execute(vm->qmp, "cont", NULL);
	}
	if (error != NULL && vm->handler != NULL && vm->handler->saved != NULL) {
		vm->handler->saved(vm->data, vm, error);
	}
}

/* fsync the directory holding path (a rename in it). */
static void sync_parent(const char *path)
{
	char *dir = strdup(path);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	if (slash != NULL) {
		*slash = '\0';
		int fd = open(dir[0] != '\0' ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	free(dir);
}

/* QEMU reports the migration completed: make the file the saved state
 * (with the disposable overlay beside it), then QEMU quits. */
static void save_complete(struct vmm_vm *vm)
{
	char why[512] = "";
	if (fsync(vm->save_fd) != 0) {
		snprintf(why, sizeof(why), "%s: %s", vm->save_tmp, strerror(errno));
	}
	if (why[0] == '\0' && vm->disposable_of != NULL) {
		char *saved = format("%s.overlay", vm->save_path);
		if (saved == NULL || !copy_file(vm->overlay_path, saved)) {
			snprintf(why, sizeof(why), "cannot keep the disposable overlay: %s",
				strerror(errno));
		}
		free(saved);
	}
	if (why[0] == '\0') {
		char *accel = format("%s.accel", vm->save_path);
		int afd = accel != NULL
			? open(accel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)
			: -1;
		const char *word = vm->run_kvm ? "kvm\n" : "tcg\n";
		if (afd < 0 || write(afd, word, 4) != 4 || fsync(afd) != 0) {
			snprintf(why, sizeof(why), "cannot write %s: %s", accel ? accel : "?",
				strerror(errno));
		}
		if (afd >= 0) {
			close(afd);
		}
		free(accel);
	}
	if (why[0] == '\0' && rename(vm->save_tmp, vm->save_path) != 0) {
		snprintf(why, sizeof(why), "rename %s: %s", vm->save_tmp, strerror(errno));
	}
	if (why[0] != '\0') {
		save_end(vm, why);
		return;
	}
	sync_parent(vm->save_path);
	close(vm->save_fd);
	vm->save_fd = -1;
	vm->saving = false;
	vm->save_migrate_id = vm->save_query_id = -1;
	if (vm->save_keep) {
		/* a booted state: the guest runs on */
		vm->save_keep = false;
		vmm_qmp_execute(vm->qmp, "cont", NULL);
		if (vm->handler != NULL && vm->handler->saved != NULL) {
			vm->handler->saved(vm->data, vm, NULL);
		}
		return;
	}
	if (vm->handler != NULL && vm->handler->saved != NULL) {
		vm->handler->saved(vm->data, vm, NULL);
	}
	vm->suspended_exit = true;
	vm->stop_requested = true;
	vm->stage = STAGE_QUIT;
	vm->deadline = now_ms() + QUIT_TIMEOUT_MS;
	send_or_lose(vm, "quit", NULL);
	set_state(vm, VMM_STOPPING);
}

/* An answer about the save; true if it was one. */
static bool save_message(struct vmm_vm *vm, const struct vmm_qmp_msg *msg)
{
	if (!vm->saving || !msg->has_id) {
		return false;
	}
	if (msg->id == vm->save_migrate_id) {
		vm->save_migrate_id = -1;
		if (msg->kind == VMM_QMP_ERROR) {
			char why[300];
			snprintf(why, sizeof(why), "migrate: %s", msg->error);
			save_end(vm, why);
		}
		return true;
	}
	if (msg->id != vm->save_query_id) {
		return false;
	}
	vm->save_query_id = -1;
	if (msg->kind == VMM_QMP_ERROR) {
		char why[300];
		snprintf(why, sizeof(why), "query-migrate: %s", msg->error);
		save_end(vm, why);
	} else if (strcmp(msg->status, "completed") == 0) {
		save_complete(vm);
	} else if (strcmp(msg->status, "failed") == 0 || strcmp(msg->status, "cancelled") == 0) {
		char *last = last_log_line(vm->qemu_log_path);
		char why[512];
		snprintf(why, sizeof(why), "the migration to the file %s%s%s", msg->status,
			last != NULL ? ": " : "", last != NULL ? last : "");
		free(last);
		save_end(vm, why);
	} else {
		vm->next_poll = now_ms() + POLL_MS;
	}
	return true;
}

void vmm_vm_stop(struct vmm_vm *vm)
{
	if (vm->state != VMM_STARTING && vm->state != VMM_RUNNING) {
		return;
	}
	vm->stop_requested = true;
	vm->stage = STAGE_POWERDOWN;
	vm->deadline = now_ms() + vm->stop_timeout_ms;
	if (vm->qmp != NULL && vmm_qmp_ready(vm->qmp)) {
		send_or_lose(vm, "system_powerdown", NULL);
	} else {
		/* No QMP yet: nothing to ask, stop it the hard way. */
		vm->stage = STAGE_KILL;
		vm->deadline = now_ms() + KILL_TIMEOUT_MS;
		vm->next_poll = now_ms() + POLL_MS;
		if (vm->pid > 0) {
			kill(vm->pid, SIGKILL);
		}
	}
	set_state(vm, VMM_STOPPING);
}

void vmm_vm_kill(struct vmm_vm *vm)
{
	if (vm->state != VMM_STARTING && vm->state != VMM_RUNNING && vm->state != VMM_STOPPING) {
		return;
	}
	vm->stop_requested = true;
	vm->stage = STAGE_KILL;
	vm->deadline = now_ms() + KILL_TIMEOUT_MS;
	vm->next_poll = now_ms() + POLL_MS;
	if (vm->pid > 0) {
		kill(vm->pid, SIGKILL);
	}
	set_state(vm, VMM_STOPPING);
}

static void qmp_lost(struct vmm_vm *vm)
{
	hmp_finish(vm, false, "QEMU closed its QMP connection");
	vmm_qmp_destroy(vm->qmp);
	vm->qmp = NULL;
	vm->qemu_gone = true;
	int64_t now = now_ms();
	vm->next_poll = now;
	if (vm->stage != STAGE_KILL) {
		vm->deadline = now + EXIT_WAIT_MS;
	}
}

bool vmm_vm_set_link(struct vmm_vm *vm, const char *nic_id, bool up, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	if (vm->state != VMM_RUNNING || vm->qmp == NULL) {
		return set_error(error, "%s: QEMU is not running", vm->name);
	}
	if (!vmm_qmp_set_link(vm->qmp, nic_id, up, NULL)) {
		return set_error(error, "%s: QMP: %s", vm->name, vm->qmp->error);
	}
	return true;
}

bool vmm_vm_balloon(struct vmm_vm *vm, uint32_t mib, uint32_t *applied_mib, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	if (vm->state != VMM_RUNNING || vm->qmp == NULL) {
		return set_error(error, "%s: QEMU is not running", vm->name);
	}
	if (mib < 64) {
		return set_error(error, "%s: memory must be at least 64 MiB", vm->name);
	}
	uint32_t target = mib < vm->memory_mib ? mib : vm->memory_mib;
	if (!vmm_qmp_execute_int(vm->qmp, "balloon", "value", (int64_t)target << 20, NULL)) {
		return set_error(error, "%s: QMP: %s", vm->name, vm->qmp->error);
	}
	if (applied_mib != NULL) {
		*applied_mib = target;
	}
	return true;
}

/* ---- fast start: hot-plugging what a booted state leaves out ---- */

static json_object *object_of(const char *const *kv)
{
	json_object *obj = json_object_new_object();
	for (size_t i = 0; obj != NULL && kv[i] != NULL; i += 2) {
		json_object *v = json_object_new_string(kv[i + 1]);
		if (v == NULL || json_object_object_add(obj, kv[i], v) != 0) {
			json_object_put(v);
			json_object_put(obj);
			obj = NULL;
		}
	}
	return obj;
}

static bool plug_send(struct vmm_vm *vm, const char *command, json_object *args)
{
	int64_t id = -1;
	if (!vmm_qmp_execute_object(vm->qmp, command, args, &id)) {
		return false;
	}
	vm->plug_ids[vm->n_plug++] = id;
	return true;
}

/* A unix-socket address object for netdev dgram. */
static json_object *unix_address(const char *path)
{
	const char *kv[] = { "type", "unix", "path", path, NULL };
	return object_of(kv);
}

bool vmm_vm_plug(struct vmm_vm *vm, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	if (!vm->late || vm->n_plug > 0) {
		return set_error(error, "%s: nothing to plug", vm->name);
	}
	if (vm->state != VMM_RUNNING || vm->qmp == NULL || !vmm_qmp_ready(vm->qmp)) {
		return set_error(error, "%s: QEMU is not running", vm->name);
	}
	bool ok = true;
	if (vm->private_image != NULL) {
		/* as the -drive of a cold start: the format by name, never
		 * probed */
		const char *file[] = { "driver", "file", "node-name", "vtprivfile", "filename",
			vm->private_image, NULL };
		const char *format[] = { "driver", image_format(vm->private_image), "node-name",
			"vtprivate", "file", "vtprivfile", NULL };
		const char *dev[] = { "driver", "virtio-blk-pci", "id", "vtprivdev", "bus", "vtrp0",
			"drive", "vtprivate", "serial", VMM_PRIVATE_SERIAL, NULL };
		ok = plug_send(vm, "blockdev-add", object_of(file)) &&
			plug_send(vm, "blockdev-add", object_of(format)) &&
			plug_send(vm, "device_add", object_of(dev));
	}
	char mac[18] = VMM_USER_MAC;
	const char *netdev = NULL, *dev_id = "vtnic";
	json_object *nd = NULL;
	if (ok && vm->network_user) {
		const char *kv[] = { "type", "user", "id", "vtnet", NULL };
		nd = object_of(kv);
		netdev = "vtnet";
	} else if (ok && vm->n_nics == 1) {
		const struct vmm_nic *nic = &vm->nics[0];
		char *id = format("nd%s", nic->id);
		const char *kv[] = { "type", "dgram", "id", id != NULL ? id : "", NULL };
		nd = id != NULL ? object_of(kv) : NULL;
		json_object *local = unix_address(nic->local), *remote = unix_address(nic->remote);
		if (nd == NULL || local == NULL || remote == NULL) {
			json_object_put(local);
			json_object_put(remote);
			json_object_put(nd);
			nd = NULL;
		} else {
			json_object_object_add(nd, "local", local);
			json_object_object_add(nd, "remote", remote);
		}
		unlink(nic->local); /* stale, from an earlier run */
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0],
			nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
		free(id);
		netdev = json_object_get_string(json_object_object_get(nd, "id"));
		dev_id = nic->id;
	}
	if (ok && netdev != NULL) {
		char *nd_name = strdup(netdev);
		const char *dev[] = { "driver", "virtio-net-pci", "id", dev_id, "bus", "vtrp1",
			"netdev", nd_name != NULL ? nd_name : "", "mac", mac, NULL };
		ok = nd_name != NULL && plug_send(vm, "netdev_add", nd) &&
			plug_send(vm, "device_add", object_of(dev));
		free(nd_name);
		if (ok && vm->n_nics == 1) {
			/* a NIC to a service VM starts down: the owner brings it
			 * up once the service VM is ready (vmm_vm_set_link) */
			int64_t id = -1;
			ok = vmm_qmp_set_link(vm->qmp, dev_id, false, &id);
			vm->plug_ids[vm->n_plug++] = id;
		}
	} else {
		json_object_put(nd);
	}
	if (!ok) {
		vm->n_plug = 0;
		return set_error(error, "%s: QMP: %s", vm->name, vm->qmp->error);
	}
	if (vm->n_plug == 0) {
		vm->late = false; /* nothing to plug: done */
		unlink(vm->late_path);
		if (vm->handler != NULL && vm->handler->plugged != NULL) {
			vm->handler->plugged(vm->data, vm, NULL);
		}
	}
	return true;
}

/* An answer to vmm_vm_plug; true if it was one. */
static bool plug_message(struct vmm_vm *vm, const struct vmm_qmp_msg *msg)
{
	if (vm->n_plug == 0 || !msg->has_id ||
		(msg->kind != VMM_QMP_RETURN && msg->kind != VMM_QMP_ERROR)) {
		return false;
	}
	size_t left = 0;
	bool ours = false;
	for (size_t i = 0; i < vm->n_plug; i++) {
		if (vm->plug_ids[i] == msg->id) {
			vm->plug_ids[i] = -1;
			ours = true;
		}
		left += vm->plug_ids[i] >= 0;
	}
	if (!ours) {
		return false;
	}
	if (msg->kind == VMM_QMP_ERROR || left == 0) {
		char why[300];
		snprintf(why, sizeof(why), "hot-plug: %s",
			msg->kind == VMM_QMP_ERROR ? msg->error : "");
		vm->n_plug = 0;
		if (msg->kind != VMM_QMP_ERROR) {
			vm->late = false;
			unlink(vm->late_path);
		}
		if (vm->handler != NULL && vm->handler->plugged != NULL) {
			vm->handler->plugged(vm->data, vm, msg->kind == VMM_QMP_ERROR ? why : NULL);
		}
	}
	return true;
}

static void handle_qmp_message(void *data, const struct vmm_qmp_msg *msg)
{
	struct vmm_vm *vm = data;
	if (save_message(vm, msg) || plug_message(vm, msg)) {
		return;
	}
	switch (msg->kind) {
	case VMM_QMP_RETURN:
		if (msg->has_id && msg->id == vm->hmp_id) {
			hmp_finish(vm, true, msg->text);
		} else if (msg->has_id && msg->id == vm->qmp->capabilities_id) {
			vmm_qmp_execute(vm->qmp, "query-status", &vm->status_id);
		} else if (msg->has_id && msg->id == vm->status_id) {
			vm->status_id = -1;
			if (vm->state == VMM_STARTING && strcmp(msg->status, "inmigrate") == 0) {
				/* loading a saved state: running once it is loaded */
				vm->status_poll = true;
				vm->next_poll = now_ms() + POLL_MS;
				break;
			}
			if (vm->state == VMM_STARTING && msg->status[0] != '\0' && !msg->running) {
				/* restored: saved stopped, QEMU leaves it paused;
				 * adopted stopped (a vitrail killed while it paused
				 * or saved the VM): a vitrail that knows nothing of
				 * that runs it, its save (if any) abandoned */
				if (!vm->restoring) {
					vmm_qmp_execute(vm->qmp, "migrate_cancel", NULL);
				}
				vmm_qmp_execute(vm->qmp, "cont", NULL);
			}
			if (vm->state == VMM_STARTING) {
				vm->restoring = false;
				vm->deadline = 0;
				vm->next_poll = 0;
				vm->adopted = false;
				set_state(vm, VMM_RUNNING);
			}
		}
		break;
	case VMM_QMP_ERROR:
		if (msg->has_id && msg->id == vm->hmp_id) {
			hmp_finish(vm, false, msg->error);
		} else if (msg->has_id && msg->id == vm->status_id && vm->state == VMM_STARTING) {
			vm->status_id = -1;
			vm->deadline = 0;
			vm->adopted = false;
			set_state(vm, VMM_RUNNING);
		}
		break;
	case VMM_QMP_EVENT:
		if (strcmp(msg->event, "SHUTDOWN") == 0) {
			vm->shutdown_seen = true;
			vm->shutdown_guest = msg->guest;
			snprintf(vm->shutdown_reason, sizeof(vm->shutdown_reason), "%s",
				msg->reason);
		} else if (strcmp(msg->event, "GUEST_PANICKED") == 0) {
			set_reason(vm, "the guest kernel panicked; console log: %s",
				vm->console_log_path);
		}
		break;
	case VMM_QMP_GREETING:
		break;
	}
}

int vmm_vm_fd(const struct vmm_vm *vm)
{
	return vm->qmp != NULL ? vmm_qmp_fd(vm->qmp) : -1;
}

void vmm_vm_dispatch(struct vmm_vm *vm)
{
	if (vm->qmp == NULL) {
		return;
	}
	if (!vmm_qmp_dispatch(vm->qmp)) {
		qmp_lost(vm);
		vmm_vm_tick(vm);
	}
}

int vmm_vm_timeout_ms(const struct vmm_vm *vm)
{
	int64_t next = 0;
	if (vm->deadline != 0) {
		next = vm->deadline;
	}
	if (vm->next_poll != 0 && (next == 0 || vm->next_poll < next)) {
		next = vm->next_poll;
	}
	if (vm->kvm_watch && (next == 0 || vm->progress_deadline < next)) {
		next = vm->progress_deadline;
	}
	if (next == 0) {
		return -1;
	}
	int64_t left = next - now_ms();
	if (left < 0) {
		return 0;
	}
	return left > INT_MAX ? INT_MAX : (int)left;
}

static void try_connect_qmp(struct vmm_vm *vm, int64_t now)
{
	vm->qmp = vmm_qmp_create(vm->qmp_path, handle_qmp_message, vm);
	if (vm->qmp != NULL) {
		vm->next_poll = 0;
		return;
	}
	if (!process_alive(vm->pid)) {
		/* It died before listening: the log says why. */
		vm->qemu_gone = true;
		vm->next_poll = now;
		return;
	}
	vm->next_poll = now + POLL_MS;
}

void vmm_vm_tick(struct vmm_vm *vm)
{
	int64_t now = now_ms();
	if (vm->state == VMM_STOPPED || vm->state == VMM_CRASHED) {
		return;
	}
	if (vm->qemu_gone) {
		if (!process_alive(vm->pid)) {
			finish(vm);
			return;
		}
		if (vm->deadline != 0 && now >= vm->deadline) {
			if (vm->stage == STAGE_KILL) {
				/* Unkillable (or not ours any more): give up on it. */
				finish(vm);
				return;
			}
			kill(vm->pid, SIGKILL);
			vm->stage = STAGE_KILL;
			vm->deadline = now + KILL_TIMEOUT_MS;
		}
		vm->next_poll = now + POLL_MS;
		return;
	}

	if (vm->kvm_watch && now >= vm->progress_deadline && vm->stage == STAGE_NONE) {
		struct stat st;
		if (stat(vm->console_log_path, &st) == 0 && st.st_size > 0) {
			vm->kvm_watch = false; /* the guest wrote to its console */
		} else {
			set_reason(vm, "no guest progress in %u ms under KVM", vm->kvm_progress_ms);
			kill(vm->pid, SIGKILL);
			vmm_qmp_destroy(vm->qmp);
			vm->qmp = NULL;
			vm->stage = STAGE_KILL;
			vm->qemu_gone = true;
			vm->deadline = now + KILL_TIMEOUT_MS;
			vm->next_poll = now + POLL_MS;
			return;
		}
	}

	if (vm->saving && now >= vm->save_deadline) {
		save_end(vm, "saving took longer than " STR(SAVE_TIMEOUT_MS) " ms");
	} else if (vm->saving && vm->save_query_id < 0 && vm->next_poll != 0 &&
		now >= vm->next_poll) {
		vm->next_poll = 0;
		if (!vmm_qmp_execute(vm->qmp, "query-migrate", &vm->save_query_id)) {
			save_end(vm, "QMP connection lost");
		}
	}
	if (vm->state == VMM_STARTING && vm->status_poll && vm->qmp != NULL &&
		vmm_qmp_ready(vm->qmp) && now >= vm->next_poll) {
		vm->status_poll = false;
		vm->next_poll = 0;
		vmm_qmp_execute(vm->qmp, "query-status", &vm->status_id);
	}
	if (vm->state == VMM_STARTING) {
		if (vm->qmp == NULL && (vm->next_poll == 0 || now >= vm->next_poll)) {
			try_connect_qmp(vm, now);
			if (vm->qemu_gone) {
				vmm_vm_tick(vm);
				return;
			}
		}
		if (vm->deadline != 0 && now >= vm->deadline && vm->adopted) {
			/* Not ours to kill: maybe another vitrail holds its QMP. */
			set_reason(vm,
				"QEMU (pid %d) does not answer on QMP (another vitrail attached?); "
				"left running",
				(int)vm->pid);
			vmm_qmp_destroy(vm->qmp);
			vm->qmp = NULL;
			if (vm->pool_fd >= 0) {
				close(vm->pool_fd);
				vm->pool_fd = -1;
			}
			vm->pid = 0;
			vm->deadline = 0;
			vm->next_poll = 0;
			vm->adopted = false;
			set_state(vm, VMM_CRASHED);
			return;
		}
		if (vm->deadline != 0 && now >= vm->deadline) {
			set_reason(vm, "QEMU did not answer on QMP within %u ms; QEMU log: %s",
				vm->start_timeout_ms, vm->qemu_log_path);
			/* stop_requested stays false: this ends as CRASHED */
			vm->stage = STAGE_KILL;
			if (vm->pid > 0) {
				kill(vm->pid, SIGKILL);
			}
			vmm_qmp_destroy(vm->qmp);
			vm->qmp = NULL;
			vm->qemu_gone = true;
			vm->deadline = now + KILL_TIMEOUT_MS;
			vm->next_poll = now + POLL_MS;
		}
		return;
	}

	if (vm->state == VMM_STOPPING && vm->deadline != 0 && now >= vm->deadline) {
		switch (vm->stage) {
		case STAGE_POWERDOWN:
			send_or_lose(vm, "quit", NULL);
			vm->stage = STAGE_QUIT;
			vm->deadline = now + QUIT_TIMEOUT_MS;
			break;
		case STAGE_QUIT:
		case STAGE_NONE:
			if (vm->pid > 0) {
				kill(vm->pid, SIGKILL);
			}
			vm->stage = STAGE_KILL;
			vm->deadline = now + KILL_TIMEOUT_MS;
			vm->next_poll = now + POLL_MS;
			break;
		case STAGE_KILL:
			/* Gone, or unkillable: either way there is nothing left to do. */
			finish(vm);
			return;
		}
	}
	if (vm->stage == STAGE_KILL) {
		if (!process_alive(vm->pid)) {
			finish(vm);
			return;
		}
		vm->next_poll = now + POLL_MS;
	}
}

enum vmm_state vmm_vm_state(const struct vmm_vm *vm)
{
	return vm->state;
}

const char *vmm_vm_reason(const struct vmm_vm *vm)
{
	return vm->reason != NULL ? vm->reason : "";
}

void vmm_vm_note_progress(struct vmm_vm *vm)
{
	vm->kvm_watch = false;
}

const char *vmm_vm_accel_note(const struct vmm_vm *vm)
{
	return vm->accel_note != NULL ? vm->accel_note : "";
}

const char *vmm_vm_name(const struct vmm_vm *vm)
{
	return vm->name;
}

pid_t vmm_vm_pid(const struct vmm_vm *vm)
{
	return vm->pid;
}

uint64_t vmm_vm_pool_size(const struct vmm_vm *vm)
{
	return vm->actual_pool_size ? vm->actual_pool_size : vm->pool_size;
}

int vmm_vm_pool_fd(const struct vmm_vm *vm)
{
	return vm->pool_fd;
}

const char *vmm_vm_control_path(const struct vmm_vm *vm)
{
	return vm->control_path;
}

const char *vmm_vm_qmp_path(const struct vmm_vm *vm)
{
	return vm->qmp_path;
}

const char *vmm_vm_console_log_path(const struct vmm_vm *vm)
{
	return vm->console_log_path;
}

const char *vmm_vm_qemu_log_path(const struct vmm_vm *vm)
{
	return vm->qemu_log_path;
}

/* ---- monitor commands (snapshots) ---- */

/* Answer the command in flight, once. */
static void hmp_finish(struct vmm_vm *vm, bool ok, const char *output)
{
	vmm_hmp_done_fn done = vm->hmp_done;
	void *data = vm->hmp_data;
	vm->hmp_id = -1;
	vm->hmp_done = NULL;
	vm->hmp_data = NULL;
	if (done != NULL) {
		done(data, ok, output);
	}
}

bool vmm_vm_hmp(
	struct vmm_vm *vm, const char *command_line, vmm_hmp_done_fn done, void *data, char **error)
{
	if (error != NULL) {
		*error = NULL;
	}
	if (vm->state != VMM_RUNNING || vm->qmp == NULL || !vmm_qmp_ready(vm->qmp)) {
		return set_error(error, "%s: QEMU's control socket is not ready", vm->name);
	}
	if (vm->hmp_done != NULL) {
		return set_error(error, "%s: another monitor command is in progress", vm->name);
	}
	if (!vmm_qmp_execute_str(vm->qmp, "human-monitor-command", "command-line", command_line, -1,
		    &vm->hmp_id)) {
		vm->hmp_id = -1;
		return set_error(error, "%s: QMP: %s", vm->name, vm->qmp->error);
	}
	vm->hmp_done = done;
	vm->hmp_data = data;
	return true;
}

bool vmm_vm_hmp_busy(const struct vmm_vm *vm)
{
	return vm->hmp_done != NULL;
}

void vmm_vm_hmp_forget(struct vmm_vm *vm)
{
	vm->hmp_done = NULL;
	vm->hmp_data = NULL;
}

const char *vmm_vm_image(const struct vmm_vm *vm)
{
	return vm->image;
}

const char *vmm_vm_private_image(const struct vmm_vm *vm)
{
	return vm->private_image;
}

const char *vmm_vm_overlay_path(const struct vmm_vm *vm)
{
	return vm->disposable_of != NULL ? vm->overlay_path : NULL;
}

const char *vmm_vm_qemu_img(const struct vmm_vm *vm)
{
	return vm->qemu_img;
}
