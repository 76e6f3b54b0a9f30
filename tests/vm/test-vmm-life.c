/*
 * vmm-glue's life cycle against a fake QEMU (tests/vm/fake-qemu.py: QMP,
 * pidfile, power-down): start, stop, crash, re-attach, start-up failures,
 * the sealed pool memfd QEMU gets (fake-qemu.py checks its seals) and the
 * seals a re-attach demands, the sandbox's environment and directory.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vitrail/protocol.h>
#include <vitrail/vmm.h>
#include <vitrail/vmm_kvm.h>

#ifndef FAKE_QEMU
#error "FAKE_QEMU must name tests/vm/fake-qemu.py"
#endif

struct fixture {
	char run_dir[64];
	char name[33];
	struct vmm_vm_spec spec;
};

static struct fixture fx;

/* QEMU gets no environment but PATH: the fake reads its settings from a
 * file of that name in its directory (the run directory); the KVM probe
 * still reads them from the environment. */
static void fake_setting(const char *name, const char *value)
{
	setenv(name, value, 1);
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", fx.run_dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(value, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(fx.run_dir, sizeof(fx.run_dir), "/tmp/vmm-life-XXXXXX");
	cr_assert_not_null(mkdtemp(fx.run_dir));
	snprintf(fx.name, sizeof(fx.name), "life-%d", (int)getpid());
	fx.spec = (struct vmm_vm_spec){
		.name = fx.name,
		.run_dir = fx.run_dir,
		.kernel = "/nonexistent/vmlinuz",
		.pool_size = 1ull << 20,
		.accel = VMM_ACCEL_TCG,
		.qemu = FAKE_QEMU,
		.start_timeout_ms = 20000,
	};
	fake_setting("FAKE_QEMU_MODE", "normal");
	unsetenv("FAKE_QEMU_KVM");
}

static void teardown(void)
{
	/* A failed test may leave its fake QEMU running: end it. */
	char path[128];
	snprintf(path, sizeof(path), "%s/%s.pid", fx.run_dir, fx.name);
	FILE *f = fopen(path, "r");
	int pid = 0;
	if (f != NULL) {
		if (fscanf(f, "%d", &pid) == 1 && pid > 1) {
			kill(pid, SIGKILL);
		}
		fclose(f);
	}
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.run_dir);
	(void)!system(cmd);
}

TestSuite(life, .init = setup, .fini = teardown, .timeout = 60);

struct changes {
	int count;
	enum vmm_state states[16];
};

static void handle_state_changed(void *data, struct vmm_vm *vm)
{
	struct changes *c = data;
	if (c == NULL) {
		return;
	}
	if (c->count < 16) {
		c->states[c->count] = vmm_vm_state(vm);
	}
	c->count++;
}

static const struct vmm_vm_handler handler = { .state_changed = handle_state_changed };

/* Drive the VM until it reaches state (or 30 s pass). */
static void run_until(struct vmm_vm *vm, enum vmm_state state)
{
	for (int i = 0; i < 3000 && vmm_vm_state(vm) != state; i++) {
		int timeout = vmm_vm_timeout_ms(vm);
		if (timeout < 0 || timeout > 10) {
			timeout = 10;
		}
		struct pollfd pfd = { .fd = vmm_vm_fd(vm), .events = POLLIN };
		int n = poll(&pfd, pfd.fd >= 0 ? 1 : 0, timeout);
		if (n > 0) {
			vmm_vm_dispatch(vm);
		} else {
			vmm_vm_tick(vm);
		}
	}
	cr_assert_eq(vmm_vm_state(vm), state, "state %s, wanted %s (reason: %s)",
		vmm_state_name(vmm_vm_state(vm)), vmm_state_name(state), vmm_vm_reason(vm));
}

static struct vmm_vm *create(struct changes *changes)
{
	char *error = NULL;
	struct vmm_vm *vm = vmm_vm_create(&fx.spec, &handler, changes, &error);
	cr_assert_not_null(vm, "%s", error ? error : "?");
	return vm;
}

static void start(struct vmm_vm *vm)
{
	char *error = NULL;
	cr_assert(vmm_vm_start(vm, &error), "start: %s", error ? error : "?");
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

Test(life, start_stop)
{
	struct changes changes = { 0 };
	struct vmm_vm *vm = create(&changes);
	start(vm);
	cr_assert_eq(vmm_vm_state(vm), VMM_STARTING);
	/* the host made the pool: a memfd of the right size, sealed, open
	 * for us; the fake QEMU refuses to run without those seals on its
	 * fd 3, or with anything in its environment but PATH, or outside
	 * the run directory */
	cr_assert_geq(vmm_vm_pool_fd(vm), 0);
	cr_assert_eq(vtp_pool_sealed_size(vmm_vm_pool_fd(vm)), 1ull << 20);
	cr_assert_gt(vmm_vm_pid(vm), 0);

	run_until(vm, VMM_RUNNING);
	cr_assert_geq(vmm_vm_fd(vm), 0);
	pid_t pid = vmm_vm_pid(vm);
	cr_assert_eq(kill(pid, 0), 0);

	vmm_vm_stop(vm);
	cr_assert_eq(vmm_vm_state(vm), VMM_STOPPING);
	run_until(vm, VMM_STOPPED);
	cr_assert_eq(vmm_vm_pool_fd(vm), -1);
	cr_assert_eq(vmm_vm_pid(vm), 0);
	cr_assert_eq(vmm_vm_fd(vm), -1);
	cr_assert_str_eq(vmm_vm_reason(vm), "stopped");
	cr_assert_eq(changes.count, 4);
	cr_assert_eq(changes.states[0], VMM_STARTING);
	cr_assert_eq(changes.states[1], VMM_RUNNING);
	cr_assert_eq(changes.states[2], VMM_STOPPING);
	cr_assert_eq(changes.states[3], VMM_STOPPED);

	/* and it starts again */
	start(vm);
	run_until(vm, VMM_RUNNING);
	vmm_vm_stop(vm);
	run_until(vm, VMM_STOPPED);
	vmm_vm_destroy(vm);
}

Test(life, crash_is_seen)
{
	struct changes changes = { 0 };
	struct vmm_vm *vm = create(&changes);
	start(vm);
	run_until(vm, VMM_RUNNING);
	cr_assert_eq(kill(vmm_vm_pid(vm), SIGKILL), 0);
	run_until(vm, VMM_CRASHED);
	cr_assert_eq(vmm_vm_pool_fd(vm), -1);
	cr_assert(strstr(vmm_vm_reason(vm), vmm_vm_console_log_path(vm)) != NULL,
		"reason does not name the log: %s", vmm_vm_reason(vm));
	/* a crashed VM can be started again */
	start(vm);
	run_until(vm, VMM_RUNNING);
	vmm_vm_kill(vm);
	run_until(vm, VMM_STOPPED);
	vmm_vm_destroy(vm);
}

Test(life, guest_ignores_power_button)
{
	fake_setting("FAKE_QEMU_MODE", "ignore-powerdown");
	fx.spec.stop_timeout_ms = 300;
	struct vmm_vm *vm = create(NULL);
	start(vm);
	run_until(vm, VMM_RUNNING);
	vmm_vm_stop(vm);
	run_until(vm, VMM_STOPPED); /* through QMP quit */
	cr_assert_eq(vmm_vm_pool_fd(vm), -1);
	vmm_vm_destroy(vm);
}

Test(life, start_failure_is_explained)
{
	fake_setting("FAKE_QEMU_MODE", "die-early");
	struct vmm_vm *vm = create(NULL);
	start(vm);
	run_until(vm, VMM_CRASHED);
	cr_assert(strstr(vmm_vm_reason(vm), "fake failure for the test") != NULL,
		"reason does not quote QEMU: %s", vmm_vm_reason(vm));
	cr_assert_eq(vmm_vm_pool_fd(vm), -1);
	vmm_vm_destroy(vm);
}

Test(life, missing_qemu)
{
	fx.spec.qemu = "/nonexistent/qemu-system-x86_64";
	struct vmm_vm *vm = create(NULL);
	char *error = NULL;
	cr_assert_not(vmm_vm_start(vm, &error));
	cr_assert_not_null(error);
	cr_assert(strstr(error, "cannot run") != NULL, "%s", error);
	free(error);
	cr_assert_eq(vmm_vm_state(vm), VMM_STOPPED);
	cr_assert_eq(vmm_vm_pool_fd(vm), -1);
	vmm_vm_destroy(vm);
}

Test(life, reattach)
{
	struct vmm_vm *first = create(NULL);
	start(first);
	run_until(first, VMM_RUNNING);
	pid_t pid = vmm_vm_pid(first);
	/* the compositor goes away; QEMU stays */
	vmm_vm_destroy(first);
	cr_assert_eq(kill(pid, 0), 0, "QEMU died with its owner");

	struct vmm_vm *second = create(NULL);
	char *error = NULL;
	cr_assert_not(vmm_vm_start(second, &error), "started a second QEMU for one VM");
	cr_assert(strstr(error, "already running") != NULL, "%s", error);
	free(error);

	cr_assert(vmm_vm_attach(second));
	run_until(second, VMM_RUNNING);
	cr_assert_eq(vmm_vm_pid(second), pid);
	cr_assert_geq(vmm_vm_pool_fd(second), 0);
	cr_assert_eq(vmm_vm_pool_size(second), 1ull << 20);
	cr_assert_eq(vtp_pool_sealed_size(vmm_vm_pool_fd(second)), 1ull << 20);
	vmm_vm_stop(second);
	run_until(second, VMM_STOPPED);
	cr_assert_eq(vmm_vm_pool_fd(second), -1);
	vmm_vm_destroy(second);

	/* nothing left to adopt */
	struct vmm_vm *third = create(NULL);
	cr_assert_not(vmm_vm_attach(third));
	cr_assert_eq(vmm_vm_state(third), VMM_STOPPED);
	vmm_vm_destroy(third);
}

Test(life, reattach_refuses_an_unsealed_pool)
{
	/* a compromised QEMU puts a file it can truncate where the pool was */
	fake_setting("FAKE_QEMU_MODE", "swap-pool");
	struct vmm_vm *first = create(NULL);
	start(first);
	run_until(first, VMM_RUNNING);
	pid_t pid = vmm_vm_pid(first);
	vmm_vm_destroy(first);
	char swapped[160];
	snprintf(swapped, sizeof(swapped), "%s/swapped-pool", fx.run_dir);
	for (int i = 0; i < 200 && !exists(swapped); i++) {
		usleep(10000);
	}
	cr_assert(exists(swapped), "the fake did not swap its pool");

	struct vmm_vm *second = create(NULL);
	cr_assert(vmm_vm_attach(second));
	run_until(second, VMM_RUNNING);
	cr_assert_eq(vmm_vm_pid(second), pid);
	cr_assert_eq(vmm_vm_pool_fd(second), -1, "took a pool QEMU can truncate");
	vmm_vm_stop(second);
	run_until(second, VMM_STOPPED);
	vmm_vm_destroy(second);
}

Test(life, reattach_cleans_up_after_a_dead_qemu)
{
	struct vmm_vm *first = create(NULL);
	start(first);
	run_until(first, VMM_RUNNING);
	pid_t pid = vmm_vm_pid(first);
	vmm_vm_destroy(first);
	/* QEMU dies while nobody watches: its pidfile stays behind */
	cr_assert_eq(kill(pid, SIGKILL), 0);
	for (int i = 0; i < 100 && kill(pid, 0) == 0; i++) {
		usleep(10000);
	}
	struct vmm_vm *second = create(NULL);
	cr_assert_not(vmm_vm_attach(second));
	/* and the VM can start again */
	start(second);
	run_until(second, VMM_RUNNING);
	vmm_vm_stop(second);
	run_until(second, VMM_STOPPED);
	vmm_vm_destroy(second);
}

/* Start the disposable VM of fx.spec: its overlay is qcow2 while it runs,
 * and gone (the template kept) once it stopped. */
static void run_disposable(const char *template)
{
	struct vmm_vm *vm = create(NULL);
	start(vm);
	char overlay[160];
	snprintf(overlay, sizeof(overlay), "%s/%s.overlay.qcow2", fx.run_dir, fx.name);
	char magic[4] = { 0 };
	int fd = open(overlay, O_RDONLY);
	cr_assert_geq(fd, 0, "no overlay %s", overlay);
	cr_assert_eq(read(fd, magic, 4), 4);
	close(fd);
	cr_assert_eq(memcmp(magic, "QFI\xfb", 4), 0, "overlay is not qcow2");
	run_until(vm, VMM_RUNNING);
	vmm_vm_stop(vm);
	run_until(vm, VMM_STOPPED);
	cr_assert_not(exists(overlay), "overlay not deleted at stop");
	cr_assert(exists(template), "the template was deleted");
	vmm_vm_destroy(vm);
}

Test(life, disposable_overlay)
{
	/* a template disk; the VM boots from a qcow2 overlay of it */
	char template[128];
	snprintf(template, sizeof(template), "%s/template.raw", fx.run_dir);
	int fd = open(template, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	if (system("command -v qemu-img >/dev/null 2>&1") != 0) {
		cr_skip_test("qemu-img is not installed");
	}
	fx.spec.kernel = NULL;
	fx.spec.disposable_of = template;
	run_disposable(template);
	/* a kernel boot with the overlay attached */
	fx.spec.kernel = "/nonexistent/vmlinuz";
	run_disposable(template);
}

Test(life, busy_qmp_is_not_killed)
{
	struct vmm_vm *owner = create(NULL);
	start(owner);
	run_until(owner, VMM_RUNNING);
	pid_t pid = vmm_vm_pid(owner);

	/* a second vitrail cannot get QMP (QEMU serves one client): it must
	 * give up without harming the VM */
	fx.spec.start_timeout_ms = 500;
	struct vmm_vm *other = create(NULL);
	cr_assert(vmm_vm_attach(other));
	run_until(other, VMM_CRASHED);
	cr_assert(strstr(vmm_vm_reason(other), "left running") != NULL, "%s", vmm_vm_reason(other));
	cr_assert_eq(kill(pid, 0), 0, "the VM was killed");
	cr_assert_eq(vmm_vm_pool_fd(other), -1);
	vmm_vm_destroy(other);

	vmm_vm_stop(owner);
	run_until(owner, VMM_STOPPED);
	vmm_vm_destroy(owner);
}

/* ---- the accelerator: a probe through QEMU itself, and TCG when KVM fails ---- */

static bool kvm_device(void)
{
	return access("/dev/kvm", R_OK | W_OK) == 0;
}

static void kvm_setup(void)
{
	setup();
	char cache[128];
	snprintf(cache, sizeof(cache), "%s/cache", fx.run_dir);
	setenv("XDG_CACHE_HOME", cache, 1);
	fx.spec.accel = VMM_ACCEL_AUTO;
	fx.spec.kvm_progress_ms = 1500;
}

TestSuite(accel, .init = kvm_setup, .fini = teardown, .timeout = 60);

static void assert_contains(const char *text, const char *needle)
{
	cr_assert(text != NULL && strstr(text, needle) != NULL, "'%s' does not mention '%s'",
		text ? text : "(null)", needle);
}

Test(accel, probe_sees_qemu_die_under_kvm)
{
	fake_setting("FAKE_QEMU_KVM", "msr");
	const char *why = NULL;
	cr_assert_not(vmm_kvm_usable(FAKE_QEMU, &why));
	assert_contains(why, kvm_device() ? "failed to set MSR 0x10a" : "/dev/kvm");
	/* the answer is kept for this boot: a second probe does not run QEMU */
	fake_setting("FAKE_QEMU_KVM", "ok");
	cr_assert_not(vmm_kvm_usable(FAKE_QEMU, &why));
}

Test(accel, probe_has_a_deadline)
{
	if (!kvm_device()) {
		cr_skip_test("no usable /dev/kvm: the probe does not run QEMU");
	}
	fake_setting("FAKE_QEMU_KVM", "hang");
	const char *why = NULL;
	cr_assert_not(vmm_kvm_usable(FAKE_QEMU, &why));
	assert_contains(why, "within 5000 ms");
}

Test(accel, probe_passes_and_is_cached_per_boot)
{
	if (!kvm_device()) {
		cr_skip_test("no usable /dev/kvm: the probe does not run QEMU");
	}
	fake_setting("FAKE_QEMU_KVM", "ok");
	const char *why = NULL;
	cr_assert(vmm_kvm_usable(FAKE_QEMU, &why), "%s", why);
	/* the cache file names this boot and the answer */
	char cmd[512], boot[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(boot, sizeof(boot), f));
	fclose(f);
	boot[strcspn(boot, "\n")] = '\0';
	snprintf(cmd, sizeof(cmd),
		"grep -q 'boot=%s ' %s/cache/vitrail/kvm-probe-* && "
		"grep -qx ok %s/cache/vitrail/kvm-probe-*",
		boot, fx.run_dir, fx.run_dir);
	cr_assert_eq(system(cmd), 0, "no cache file for this boot");
	/* argv of an auto VM uses what the probe proved */
	struct vmm_vm *vm = create(NULL);
	char **argv = vmm_vm_qemu_argv(vm, NULL);
	bool kvm = false, host = false;
	for (int i = 0; argv[i] != NULL && argv[i + 1] != NULL; i++) {
		kvm |= strcmp(argv[i], "-accel") == 0 && strcmp(argv[i + 1], "kvm") == 0;
		host |= strcmp(argv[i], "-cpu") == 0 && strcmp(argv[i + 1], "host") == 0;
	}
	cr_assert(kvm && host);
	vmm_strv_free(argv);
	vmm_vm_destroy(vm);
}

Test(accel, explicit_kvm_fails_clearly)
{
	fake_setting("FAKE_QEMU_KVM", "msr");
	fx.spec.accel = VMM_ACCEL_KVM;
	struct vmm_vm *vm = create(NULL);
	char *error = NULL;
	cr_assert_not(vmm_vm_start(vm, &error));
	assert_contains(error, "accel = kvm, but KVM is unusable here");
	free(error);
	cr_assert_eq(vmm_vm_state(vm), VMM_STOPPED);
	vmm_vm_destroy(vm);
}

Test(accel, auto_without_kvm_says_so)
{
	fake_setting("FAKE_QEMU_KVM", "msr");
	struct vmm_vm *vm = create(NULL);
	start(vm);
	run_until(vm, VMM_RUNNING);
	assert_contains(vmm_vm_accel_note(vm), "KVM unusable here");
	assert_contains(vmm_vm_accel_note(vm), "using TCG");
	vmm_vm_kill(vm);
	run_until(vm, VMM_STOPPED);
	vmm_vm_destroy(vm);
}

/* The probe passes, the VM dies under KVM: it is restarted once under TCG,
 * never reported as crashed, and the host remembers. */
Test(accel, vm_dying_under_kvm_restarts_under_tcg)
{
	if (!kvm_device()) {
		cr_skip_test("no usable /dev/kvm: auto never picks KVM here");
	}
	fake_setting("FAKE_QEMU_KVM", "vm-dies");
	struct changes changes = { 0 };
	struct vmm_vm *vm = create(&changes);
	start(vm);
	run_until(vm, VMM_RUNNING);
	assert_contains(vmm_vm_accel_note(vm), "KVM unusable here: ");
	assert_contains(vmm_vm_accel_note(vm), "failed to set MSR 0x10a");
	for (int i = 0; i < changes.count && i < 16; i++) {
		cr_assert_neq(changes.states[i], VMM_CRASHED);
		cr_assert_neq(changes.states[i], VMM_STOPPED);
	}
	const char *why = NULL;
	cr_assert_not(vmm_kvm_usable(FAKE_QEMU, &why), "the host did not remember");
	assert_contains(why, "failed to set MSR 0x10a");
	vmm_vm_stop(vm);
	run_until(vm, VMM_STOPPED);
	vmm_vm_destroy(vm);
}

Test(accel, vm_without_progress_under_kvm_restarts_under_tcg)
{
	if (!kvm_device()) {
		cr_skip_test("no usable /dev/kvm: auto never picks KVM here");
	}
	fake_setting("FAKE_QEMU_KVM", "vm-hangs");
	struct vmm_vm *vm = create(NULL);
	start(vm);
	run_until(vm, VMM_RUNNING);
	cr_assert_str_eq(vmm_vm_accel_note(vm), "");
	/* wait past the progress deadline: QEMU is replaced by a TCG one */
	pid_t first = vmm_vm_pid(vm);
	for (int i = 0; i < 1000 && vmm_vm_accel_note(vm)[0] == '\0'; i++) {
		struct pollfd pfd = { .fd = vmm_vm_fd(vm), .events = POLLIN };
		if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, 10) > 0) {
			vmm_vm_dispatch(vm);
		}
		vmm_vm_tick(vm);
	}
	assert_contains(vmm_vm_accel_note(vm), "no guest progress");
	run_until(vm, VMM_RUNNING);
	cr_assert_neq(vmm_vm_pid(vm), first);
	vmm_vm_stop(vm);
	run_until(vm, VMM_STOPPED);
	vmm_vm_destroy(vm);
}

Test(accel, progress_keeps_kvm)
{
	if (!kvm_device()) {
		cr_skip_test("no usable /dev/kvm: auto never picks KVM here");
	}
	fake_setting("FAKE_QEMU_KVM", "vm-hangs");
	struct vmm_vm *vm = create(NULL);
	start(vm);
	run_until(vm, VMM_RUNNING);
	vmm_vm_note_progress(vm); /* the agent said HELLO */
	pid_t first = vmm_vm_pid(vm);
	usleep(2000 * 1000);
	vmm_vm_tick(vm);
	cr_assert_eq(vmm_vm_pid(vm), first);
	cr_assert_str_eq(vmm_vm_accel_note(vm), "");
	vmm_vm_stop(vm);
	run_until(vm, VMM_STOPPED);
	vmm_vm_destroy(vm);
}

/* ---- suspend to a file and restore (vmm_vm_suspend, vmm_vm_restore) ---- */

struct saves {
	int count;
	char error[256]; /* of the last one, "" when it worked */
};

static void handle_saved(void *data, struct vmm_vm *vm, const char *error)
{
	struct saves *s = data;
	s->count++;
	snprintf(s->error, sizeof(s->error), "%s", error != NULL ? error : "");
}

static const struct vmm_vm_handler save_handler = { .saved = handle_saved };

/* Drive the VM until the save ended (or 30 s pass). */
static void run_until_saved(struct vmm_vm *vm, struct saves *saves)
{
	for (int i = 0; i < 3000 && saves->count == 0; i++) {
		struct pollfd pfd = { .fd = vmm_vm_fd(vm), .events = POLLIN };
		if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, 10) > 0) {
			vmm_vm_dispatch(vm);
		} else {
			vmm_vm_tick(vm);
		}
	}
	cr_assert_eq(saves->count, 1, "the save did not end");
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return NULL;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(life, suspend_and_restore)
{
	struct saves saves = { 0 };
	char *error = NULL;
	struct vmm_vm *vm = vmm_vm_create(&fx.spec, &save_handler, &saves, &error);
	cr_assert_not_null(vm);
	start(vm);
	run_until(vm, VMM_RUNNING);
	pid_t pid = vmm_vm_pid(vm);
	cr_assert_gt(pid, 0);
	char state[160], path[200];
	snprintf(state, sizeof(state), "%s/saved.state", fx.run_dir);
	cr_assert(vmm_vm_suspend(vm, state, &error), "%s", error ? error : "?");
	cr_assert(vmm_vm_saving(vm));
	/* the file is a temporary one until QEMU says completed */
	snprintf(path, sizeof(path), "%s.tmp", state);
	cr_assert(exists(path));
	cr_assert_not(exists(state));
	run_until_saved(vm, &saves);
	cr_assert_str_eq(saves.error, "");
	run_until(vm, VMM_STOPPED);
	cr_assert_str_eq(vmm_vm_reason(vm), "suspended");
	cr_assert_eq(vmm_vm_pid(vm), 0);
	(void)pid;
	cr_assert_not(exists(path), "the temporary file is left");
	/* stopped first: the guest was saved with its CPUs stopped */
	cr_assert_str_eq(slurp(state), "FAKE-STATE paused\n");
	snprintf(path, sizeof(path), "%s.accel", state);
	cr_assert_str_eq(slurp(path), "tcg\n");

	/* restore: -incoming fd:5, STARTING through "inmigrate", then cont */
	cr_assert(vmm_vm_restore(vm, state, &error), "%s", error ? error : "?");
	cr_assert(vmm_vm_restoring(vm));
	run_until(vm, VMM_RUNNING);
	cr_assert_not(vmm_vm_restoring(vm));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)vmm_vm_pid(vm));
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	char cmdline[8192];
	size_t n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
	fclose(f);
	bool incoming = false;
	for (size_t i = 0; i + 1 < n; i += strlen(cmdline + i) + 1) {
		if (strcmp(cmdline + i, "-incoming") == 0 &&
			strcmp(cmdline + i + strlen(cmdline + i) + 1, "fd:5") == 0) {
			incoming = true;
		}
	}
	cr_assert(incoming, "no -incoming fd:5");
	/* after "quit", the restored QEMU's commands: cont among them */
	snprintf(path, sizeof(path), "%s/fake-qemu.log", fx.run_dir);
	char *log = NULL;
	for (int i = 0; i < 200; i++) {
		log = slurp(path);
		const char *quit = log != NULL ? strstr(log, "\nquit ") : NULL;
		if (quit != NULL && strstr(quit, "\ncont ") != NULL) {
			break;
		}
		usleep(10000);
	}
	cr_assert_not_null(log);
	cr_assert_not_null(strstr(strstr(log, "\nquit "), "\ncont "),
		"the restored guest was not continued: %s", log);
	vmm_suspend_discard(state);
	cr_assert_not(exists(state));
	vmm_vm_stop(vm);
	run_until(vm, VMM_STOPPED);
	vmm_vm_destroy(vm);
}

Test(life, failed_save_runs_on)
{
	fake_setting("FAKE_QEMU_MODE", "migrate-fails");
	struct saves saves = { 0 };
	char *error = NULL;
	struct vmm_vm *vm = vmm_vm_create(&fx.spec, &save_handler, &saves, &error);
	cr_assert_not_null(vm);
	start(vm);
	run_until(vm, VMM_RUNNING);
	char state[160], path[200];
	snprintf(state, sizeof(state), "%s/saved.state", fx.run_dir);
	cr_assert(vmm_vm_suspend(vm, state, &error), "%s", error ? error : "?");
	run_until_saved(vm, &saves);
	cr_assert(strstr(saves.error, "failed") != NULL, "error: %s", saves.error);
	cr_assert_eq(vmm_vm_state(vm), VMM_RUNNING);
	cr_assert_not(vmm_vm_saving(vm));
	snprintf(path, sizeof(path), "%s.tmp", state);
	cr_assert_not(exists(path), "the temporary file is left");
	cr_assert_not(exists(state));
	/* the guest runs on */
	snprintf(path, sizeof(path), "%s/fake-qemu.log", fx.run_dir);
	char *log = NULL;
	for (int i = 0; i < 200; i++) {
		log = slurp(path);
		const char *migrate = log != NULL ? strstr(log, "\nmigrate {") : NULL;
		if (migrate != NULL && strstr(migrate, "\ncont ") != NULL) {
			break;
		}
		usleep(10000);
	}
	cr_assert_not_null(log);
	const char *migrate = strstr(log, "\nmigrate {");
	cr_assert_not_null(migrate, "%s", log);
	cr_assert_not_null(strstr(migrate, "\ncont "), "not continued: %s", log);
	vmm_vm_stop(vm);
	run_until(vm, VMM_STOPPED);
	vmm_vm_destroy(vm);
}

Test(life, bad_state_fails_the_restore)
{
	struct changes changes = { 0 };
	struct vmm_vm *vm = create(&changes);
	char state[160];
	snprintf(state, sizeof(state), "%s/saved.state", fx.run_dir);
	FILE *f = fopen(state, "w");
	cr_assert_not_null(f);
	fputs("garbage", f);
	fclose(f);
	char *error = NULL;
	cr_assert(vmm_vm_restore(vm, state, &error), "%s", error ? error : "?");
	run_until(vm, VMM_CRASHED);
	cr_assert(strstr(vmm_vm_reason(vm), "restoring the saved state failed") != NULL,
		"reason: %s", vmm_vm_reason(vm));
	cr_assert(exists(state), "a failed restore removed the state");
	vmm_vm_destroy(vm);
}
