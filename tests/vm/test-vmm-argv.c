/* QEMU command lines built by vmm-glue, and spec validation. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vitrail/vmm.h>
#include <vitrail/vmm_kvm.h>

static struct vmm_vm_spec kernel_spec(void)
{
	return (struct vmm_vm_spec){
		.name = "work",
		.run_dir = "/run/t",
		.kernel = "/img/vmlinuz",
		.initrd = "/img/initrd.img",
		.append = "console=ttyS0 quiet vitrail.cmd=\"foot -e sh\"",
	};
}

static size_t argc_of(char **argv)
{
	size_t n = 0;
	while (argv[n] != NULL) {
		n++;
	}
	return n;
}

/* How many times option appears with exactly value after it. */
static int count_pair(char **argv, const char *option, const char *value)
{
	int count = 0;
	for (size_t i = 0; argv[i] != NULL; i++) {
		if (strcmp(argv[i], option) == 0 && argv[i + 1] != NULL &&
			strcmp(argv[i + 1], value) == 0) {
			count++;
		}
	}
	return count;
}

static int count_arg(char **argv, const char *arg)
{
	int count = 0;
	for (size_t i = 0; argv[i] != NULL; i++) {
		count += strcmp(argv[i], arg) == 0;
	}
	return count;
}

static char **build(const struct vmm_vm_spec *spec, struct vmm_vm **vm_out)
{
	char *error = NULL;
	struct vmm_vm *vm = vmm_vm_create(spec, NULL, NULL, &error);
	cr_assert_not_null(vm, "create failed: %s", error ? error : "?");
	char **argv = vmm_vm_qemu_argv(vm, &error);
	cr_assert_not_null(argv, "argv failed: %s", error ? error : "?");
	if (vm_out != NULL) {
		*vm_out = vm;
	} else {
		vmm_vm_destroy(vm);
	}
	return argv;
}

static void expect_invalid(const struct vmm_vm_spec *spec, const char *needle)
{
	char *error = NULL;
	struct vmm_vm *vm = vmm_vm_create(spec, NULL, NULL, &error);
	cr_assert_null(vm, "spec accepted, expected an error about '%s'", needle);
	cr_assert_not_null(error);
	cr_assert(strstr(error, needle) != NULL, "error '%s' does not mention '%s'", error, needle);
	free(error);
}

Test(argv, kernel_boot)
{
	struct vmm_vm_spec spec = kernel_spec();
	char **argv = build(&spec, NULL);
	cr_assert_str_eq(argv[0], "qemu-system-x86_64");
	cr_assert_eq(count_pair(argv, "-machine", "q35"), 1);
	cr_assert_eq(count_pair(argv, "-accel", vmm_kvm_usable(NULL, NULL) ? "kvm" : "tcg"), 1);
	cr_assert_eq(count_pair(argv, "-m", "512"), 1);
	cr_assert_eq(count_pair(argv, "-smp", "1"), 1);
	cr_assert_eq(count_arg(argv, "-nodefaults"), 1);
	cr_assert_eq(count_arg(argv, "-no-user-config"), 1);
	cr_assert_eq(count_pair(argv, "-display", "none"), 1);
	cr_assert_eq(count_pair(argv, "-chardev",
			     "file,id=vtcon,path=/run/t/work.console.log,append=on"),
		1);
	cr_assert_eq(count_pair(argv, "-serial", "chardev:vtcon"), 1);
	cr_assert_eq(count_pair(argv, "-object",
			     "memory-backend-file,id=vtpool,size=67108864,"
			     "mem-path=/proc/self/fd/3,share=on"),
		1);
	/* QEMU's seccomp filter, every deny option */
	cr_assert_eq(count_pair(argv, "-sandbox",
			     "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
			     "resourcecontrol=deny"),
		1);
	cr_assert_eq(
		count_pair(argv, "-device", "ivshmem-plain,id=vtpooldev,memdev=vtpool,master=on"),
		1);
	cr_assert_eq(count_pair(argv, "-chardev",
			     "socket,id=vtctl,path=/run/t/work.virtio.sock,server=on,wait=off"),
		1);
	cr_assert_eq(count_pair(argv, "-device", "virtio-serial-pci,id=vtserial"), 1);
	cr_assert_eq(count_pair(argv, "-device",
			     "virtserialport,bus=vtserial.0,chardev=vtctl,name=org.vitrail.0"),
		1);
	cr_assert_eq(count_pair(argv, "-qmp", "unix:/run/t/work.qmp,server=on,wait=off"), 1);
	cr_assert_eq(count_pair(argv, "-pidfile", "/run/t/work.pid"), 1);
	cr_assert_eq(count_pair(argv, "-kernel", "/img/vmlinuz"), 1);
	cr_assert_eq(count_pair(argv, "-initrd", "/img/initrd.img"), 1);
	/* the command line is one argument, quotes and spaces untouched */
	cr_assert_eq(
		count_pair(argv, "-append", "console=ttyS0 quiet vitrail.cmd=\"foot -e sh\""), 1);
	cr_assert_eq(count_pair(argv, "-device", "virtio-rng-pci"), 1);
	cr_assert_eq(count_pair(argv, "-device", "virtio-balloon-pci,free-page-reporting=on"), 1);
	cr_assert_eq(count_arg(argv, "-drive"), 0);
	cr_assert_eq(count_arg(argv, "-netdev"), 0);
	cr_assert_eq(count_arg(argv, "-no-reboot"), 0);
	cr_assert_eq(count_arg(argv, "-daemonize"), 0);
	vmm_strv_free(argv);
}

Test(argv, sizes_and_flags)
{
	struct vmm_vm_spec spec = kernel_spec();
	spec.memory_mib = 1024;
	spec.cpus = 2;
	spec.pool_size = 128ull << 20;
	spec.no_reboot = true;
	spec.port_name = "org.example.port";
	spec.qemu = "/opt/qemu/bin/qemu-system-x86_64";
	char **argv = build(&spec, NULL);
	cr_assert_str_eq(argv[0], "/opt/qemu/bin/qemu-system-x86_64");
	cr_assert_eq(count_pair(argv, "-m", "1024"), 1);
	cr_assert_eq(count_pair(argv, "-smp", "2"), 1);
	cr_assert_eq(count_pair(argv, "-object",
			     "memory-backend-file,id=vtpool,size=134217728,"
			     "mem-path=/proc/self/fd/3,share=on"),
		1);
	cr_assert_eq(count_pair(argv, "-device",
			     "virtserialport,bus=vtserial.0,chardev=vtctl,name=org.example.port"),
		1);
	cr_assert_eq(count_arg(argv, "-no-reboot"), 1);
	vmm_strv_free(argv);
}

Test(argv, accel)
{
	struct vmm_vm_spec spec = kernel_spec();
	spec.accel = VMM_ACCEL_TCG;
	char **argv = build(&spec, NULL);
	cr_assert_eq(count_pair(argv, "-accel", "tcg"), 1);
	cr_assert_eq(count_arg(argv, "-cpu"), 0);
	vmm_strv_free(argv);

	spec.accel = VMM_ACCEL_KVM;
	argv = build(&spec, NULL);
	cr_assert_eq(count_pair(argv, "-accel", "kvm"), 1);
	cr_assert_eq(count_pair(argv, "-cpu", "host"), 1);
	vmm_strv_free(argv);
}

Test(argv, network)
{
	struct vmm_vm_spec spec = kernel_spec();
	spec.network_user = true;
	char **argv = build(&spec, NULL);
	cr_assert_eq(count_pair(argv, "-netdev", "user,id=vtnet"), 1);
	cr_assert_eq(count_pair(argv, "-device", "virtio-net-pci,netdev=vtnet"), 1);
	vmm_strv_free(argv);
}

Test(argv, disk_images)
{
	char raw[] = "/tmp/vmm-test-raw-XXXXXX";
	char qcow[] = "/tmp/vmm-test-qcow-XXXXXX.qcow2";
	int fd = mkstemp(raw);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "\0\0\0\0\0\0\0\0", 8), 8);
	close(fd);
	fd = mkstemps(qcow, 6);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "QFI\xfb\0\0\0\3", 8), 8);
	close(fd);

	struct vmm_vm_spec spec = { .name = "disk", .run_dir = "/run/t", .image = raw };
	char **argv = build(&spec, NULL);
	char want[256];
	snprintf(want, sizeof(want), "file=%s,format=raw,if=virtio", raw);
	cr_assert_eq(count_pair(argv, "-drive", want), 1);
	cr_assert_eq(count_arg(argv, "-kernel"), 0);
	vmm_strv_free(argv);

	spec.image = qcow;
	argv = build(&spec, NULL);
	snprintf(want, sizeof(want), "file=%s,format=qcow2,if=virtio", qcow);
	cr_assert_eq(count_pair(argv, "-drive", want), 1);
	vmm_strv_free(argv);

	/* a raw disk whose guest wrote a qcow2 header (that could name a host
	 * file as its backing file) stays raw: the name decides, not the bytes */
	fd = open(raw, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "QFI\xfb\0\0\0\3", 8), 8);
	close(fd);
	spec.image = raw;
	argv = build(&spec, NULL);
	snprintf(want, sizeof(want), "file=%s,format=raw,if=virtio", raw);
	cr_assert_eq(count_pair(argv, "-drive", want), 1);
	vmm_strv_free(argv);

	/* disposable: the overlay in the run directory, never the template */
	spec.image = NULL;
	spec.disposable_of = raw;
	argv = build(&spec, NULL);
	cr_assert_eq(
		count_pair(argv, "-drive", "file=/run/t/disk.overlay.qcow2,format=qcow2,if=virtio"),
		1);
	for (size_t i = 0; argv[i] != NULL; i++) {
		cr_assert(strstr(argv[i], raw) == NULL, "template %s on the command line", raw);
	}
	cr_assert_eq(count_arg(argv, "-kernel"), 0);
	vmm_strv_free(argv);

	/* a disposable may boot a kernel too: with its overlay attached */
	spec.kernel = "/img/vmlinuz";
	spec.initrd = "/img/initrd.img";
	argv = build(&spec, NULL);
	cr_assert_eq(
		count_pair(argv, "-drive", "file=/run/t/disk.overlay.qcow2,format=qcow2,if=virtio"),
		1);
	cr_assert_eq(count_pair(argv, "-kernel", "/img/vmlinuz"), 1);
	cr_assert_eq(count_pair(argv, "-initrd", "/img/initrd.img"), 1);
	for (size_t i = 0; argv[i] != NULL; i++) {
		cr_assert(strstr(argv[i], raw) == NULL, "template %s on the command line", raw);
	}
	vmm_strv_free(argv);

	/* so may a VM with its own disk */
	spec.disposable_of = NULL;
	spec.image = qcow;
	argv = build(&spec, NULL);
	snprintf(want, sizeof(want), "file=%s,format=qcow2,if=virtio", qcow);
	cr_assert_eq(count_pair(argv, "-drive", want), 1);
	cr_assert_eq(count_pair(argv, "-kernel", "/img/vmlinuz"), 1);
	vmm_strv_free(argv);
	unlink(raw);
	unlink(qcow);
}

Test(argv, private_volume)
{
	char raw[] = "/tmp/vmm-test-priv,ate-XXXXXX";
	int fd = mkstemp(raw);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "\0\0\0\0\0\0\0\0", 8), 8);
	close(fd);
	/* an AppVM: the root an overlay of the template, then the private disk */
	struct vmm_vm_spec spec = { .name = "app",
		.run_dir = "/run/t",
		.disposable_of = "/img/template.qcow2",
		.private_image = raw };
	char **argv = build(&spec, NULL);
	char escaped[64], want[256];
	snprintf(escaped, sizeof(escaped), "%s", raw);
	char *comma = strchr(escaped, ',');
	memmove(comma + 1, comma, strlen(comma) + 1); /* "," -> ",," */
	snprintf(want, sizeof(want), "file=%s,format=raw,if=none,id=vtprivate", escaped);
	cr_assert_eq(count_pair(argv, "-drive", want), 1, "no %s", want);
	cr_assert_eq(count_pair(argv, "-device",
			     "virtio-blk-pci,drive=vtprivate,serial=vitrail-private"),
		1);
	size_t root = 0, priv = 0;
	for (size_t i = 0; argv[i] != NULL; i++) {
		if (strcmp(argv[i], "virtio-blk-pci,drive=vtroot") == 0) {
			root = i;
		} else if (strcmp(argv[i], want) == 0) {
			priv = i;
		}
	}
	cr_assert_eq(count_pair(argv, "-drive",
			     "file=/run/t/app.overlay.qcow2,format=qcow2,if=none,id=vtroot"),
		1);
	cr_assert_eq(count_pair(argv, "-device", "virtio-blk-pci,drive=vtroot"), 1);
	cr_assert(root != 0 && root < priv, "the root disk must come first (vda)");
	vmm_strv_free(argv);
	/* a raw volume the guest wrote a qcow2 header into stays raw */
	fd = open(raw, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "QFI\xfb\0\0\0\3", 8), 8);
	close(fd);
	argv = build(&spec, NULL);
	cr_assert_eq(
		count_pair(argv, "-drive", want), 1, "a guest-written header changed the format");
	vmm_strv_free(argv);
	/* qcow2 by name */
	spec.private_image = "/vms/work/private.qcow2";
	argv = build(&spec, NULL);
	cr_assert_eq(count_pair(argv, "-drive",
			     "file=/vms/work/private.qcow2,format=qcow2,if=none,id=vtprivate"),
		1);
	vmm_strv_free(argv);
	/* none without the key */
	spec.private_image = NULL;
	argv = build(&spec, NULL);
	cr_assert_eq(count_arg(argv, "virtio-blk-pci,drive=vtprivate,serial=vitrail-private"), 0);
	vmm_strv_free(argv);
	unlink(raw);
}

Test(argv, commas_are_escaped)
{
	struct vmm_vm_spec spec = kernel_spec();
	spec.run_dir = "/tmp/a,b";
	char **argv = build(&spec, NULL);
	cr_assert_eq(count_pair(argv, "-chardev",
			     "socket,id=vtctl,path=/tmp/a,,b/work.virtio.sock,server=on,wait=off"),
		1);
	cr_assert_eq(count_pair(argv, "-qmp", "unix:/tmp/a,,b/work.qmp,server=on,wait=off"), 1);
	cr_assert_eq(count_pair(argv, "-chardev",
			     "file,id=vtcon,path=/tmp/a,,b/work.console.log,append=on"),
		1);
	/* plain arguments are not option strings: no escaping */
	cr_assert_eq(count_pair(argv, "-pidfile", "/tmp/a,b/work.pid"), 1);
	vmm_strv_free(argv);
}

Test(argv, no_empty_or_null_arguments)
{
	struct vmm_vm_spec spec = kernel_spec();
	spec.initrd = NULL;
	spec.append = NULL;
	char **argv = build(&spec, NULL);
	size_t n = argc_of(argv);
	cr_assert_gt(n, 20);
	for (size_t i = 0; i < n; i++) {
		cr_assert_neq(argv[i][0], '\0', "argument %zu is empty", i);
	}
	cr_assert_eq(count_arg(argv, "-initrd"), 0);
	cr_assert_eq(count_arg(argv, "-append"), 0);
	vmm_strv_free(argv);
}

Test(spec, paths)
{
	struct vmm_vm_spec spec = kernel_spec();
	struct vmm_vm *vm = vmm_vm_create(&spec, NULL, NULL, NULL);
	cr_assert_not_null(vm);
	cr_assert_str_eq(vmm_vm_name(vm), "work");
	cr_assert_str_eq(vmm_vm_control_path(vm), "/run/t/work.virtio.sock");
	cr_assert_str_eq(vmm_vm_qmp_path(vm), "/run/t/work.qmp");
	cr_assert_str_eq(vmm_vm_console_log_path(vm), "/run/t/work.console.log");
	cr_assert_str_eq(vmm_vm_qemu_log_path(vm), "/run/t/work.qemu.log");
	cr_assert_eq(vmm_vm_pool_size(vm), 64ull << 20);
	cr_assert_eq(vmm_vm_state(vm), VMM_STOPPED);
	cr_assert_eq(vmm_vm_fd(vm), -1);
	cr_assert_eq(vmm_vm_pool_fd(vm), -1);
	cr_assert_eq(vmm_vm_pid(vm), 0);
	cr_assert_eq(vmm_vm_timeout_ms(vm), -1);
	cr_assert_str_eq(vmm_vm_reason(vm), "");
	vmm_vm_destroy(vm);
	vmm_vm_destroy(NULL);
}

Test(spec, invalid)
{
	struct vmm_vm_spec spec = kernel_spec();
	spec.name = "Work";
	expect_invalid(&spec, "name");
	spec.name = "a_b";
	expect_invalid(&spec, "name");
	spec.name = "";
	expect_invalid(&spec, "name");
	spec.name = "abcdefghijklmnopqrstuvwxyz0123456";
	expect_invalid(&spec, "name");
	spec.name = NULL;
	expect_invalid(&spec, "name");

	spec = kernel_spec();
	spec.run_dir = "relative/dir";
	expect_invalid(&spec, "absolute");
	spec.run_dir = NULL;
	expect_invalid(&spec, "absolute");
	char long_dir[200];
	memset(long_dir, 'x', sizeof(long_dir) - 1);
	long_dir[0] = '/';
	long_dir[sizeof(long_dir) - 1] = '\0';
	spec.run_dir = long_dir;
	expect_invalid(&spec, "too long");

	spec = kernel_spec();
	spec.kernel = NULL;
	expect_invalid(&spec, "no boot source");
	spec = kernel_spec();
	spec.image = "/img/disk.qcow2";
	spec.disposable_of = "/img/template.qcow2";
	expect_invalid(&spec, "not both");
	spec.kernel = NULL;
	expect_invalid(&spec, "not both");
	spec = kernel_spec();
	spec.kernel = NULL;
	spec.image = "/img/disk.qcow2";
	expect_invalid(&spec, "need kernel");

	spec = kernel_spec();
	spec.pool_size = 3ull << 20;
	expect_invalid(&spec, "power of two");
	spec.pool_size = 512 * 1024;
	expect_invalid(&spec, "power of two");
	spec.pool_size = 8ull << 30;
	expect_invalid(&spec, "power of two");

	spec = kernel_spec();
	spec.memory_mib = 16;
	expect_invalid(&spec, "memory");
	spec = kernel_spec();
	spec.cpus = 1000;
	expect_invalid(&spec, "cpus");
	spec = kernel_spec();
	spec.port_name = "bad name";
	expect_invalid(&spec, "port");
}

Test(spec, largest_valid_values)
{
	struct vmm_vm_spec spec = kernel_spec();
	spec.name = "abcdefghijklmnopqrstuvwxyz-01234";
	spec.pool_size = 4ull << 30;
	spec.memory_mib = 64;
	spec.cpus = 64;
	char **argv = build(&spec, NULL);
	cr_assert_eq(count_pair(argv, "-smp", "64"), 1);
	vmm_strv_free(argv);
}

Test(state, names)
{
	cr_assert_str_eq(vmm_state_name(VMM_STOPPED), "stopped");
	cr_assert_str_eq(vmm_state_name(VMM_STARTING), "starting");
	cr_assert_str_eq(vmm_state_name(VMM_RUNNING), "running");
	cr_assert_str_eq(vmm_state_name(VMM_STOPPING), "stopping");
	cr_assert_str_eq(vmm_state_name(VMM_CRASHED), "crashed");
}

Test(kvm, probe_is_stable)
{
	const char *why1 = NULL, *why2 = NULL;
	bool a = vmm_kvm_usable(NULL, &why1);
	bool b = vmm_kvm_usable(NULL, &why2);
	cr_assert_eq(a, b);
	cr_assert_not_null(why1);
	cr_assert_str_eq(why1, why2);
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		cr_assert_not(a, "no /dev/kvm but KVM reported usable");
	}
}
