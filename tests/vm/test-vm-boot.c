/*
 * A real QEMU guest under vmm-glue (suite 'vm').
 *
 *   test-vm-boot GUEST_IMAGE_SCRIPT IMAGE_DIR [AGENT]
 *
 * Builds (or reuses) the guest image with tools/guest-image, then:
 *  1. boots it (TCG unless KVM proves usable): QEMU holds the host's sealed
 *     pool memfd, runs under its seccomp filter, in the run directory,
 *     with only PATH in its environment; the test
 *     plays a minimal host on
 *     the virtio-serial socket: with an agent in the image, HELLO ->
 *     WELCOME (pool kind PCI) -> a WINDOW_CREATE from weston-simple-shm;
 *     without one, the guest's probe line must report an ivshmem BAR of
 *     the pool's size;
 *  2. forgets the VM (as a compositor that exits) and re-attaches to the
 *     QEMU still running; the guest talks again on a new connection;
 *  3. powers it off over QMP: state stopped, QEMU gone, pool closed;
 *  4. starts a second VM and SIGKILLs its QEMU: state crashed with a
 *     reason, pool closed.
 * Prints the seconds each step took and QEMU's RSS (information only).
 * Exit status 77 (skip) when qemu-system-x86_64 is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <vitrail/protocol.h>

#include <vitrail/vmm.h>
#include <vitrail/vmm_kvm.h>

#define BOOT_TIMEOUT_MS 60000
#ifndef GUEST_TIMEOUT_MS
#define GUEST_TIMEOUT_MS 90000
#endif
#define STOP_TIMEOUT_MS 60000

static double t0;
static char run_dir[64] = "";
static struct vmm_vm *current;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	printf("[%6.2f] ", now_s() - t0);
	vprintf(fmt, args);
	printf("\n");
	fflush(stdout);
	va_end(args);
}

static void dump_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return;
	}
	fprintf(stderr, "---- %s\n", path);
	char line[512];
	while (fgets(line, sizeof(line), f) != NULL) {
		fputs(line, stderr);
	}
	fprintf(stderr, "----\n");
	fclose(f);
}

struct host;
static bool pump(struct vmm_vm *vm, struct host *host, int ms);

static void cleanup(void)
{
	if (current != NULL && vmm_vm_pid(current) > 0) {
		vmm_vm_kill(current);
		/* let vmm-glue see it go */
		for (int i = 0; i < 50 && vmm_vm_state(current) != VMM_STOPPED &&
			vmm_vm_state(current) != VMM_CRASHED;
			i++) {
			pump(current, NULL, 100);
		}
	}
	vmm_vm_destroy(current);
	current = NULL;
	if (run_dir[0] != '\0') {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run_dir);
		(void)!system(cmd);
	}
}

static void fail(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, args);
	fprintf(stderr, "\n");
	va_end(args);
	if (current != NULL) {
		fprintf(stderr, "VM %s: state %s, reason: %s\n", vmm_vm_name(current),
			vmm_state_name(vmm_vm_state(current)), vmm_vm_reason(current));
		dump_file(vmm_vm_console_log_path(current));
		dump_file(vmm_vm_qemu_log_path(current));
	}
	cleanup();
	exit(1);
}

/* ---- the VM's event loop, with an optional control connection ---- */

struct host {
	int fd; /* control connection, -1 if none */
	struct vtp_stream in;
	struct vtp_decoder dec;
	char text[4096]; /* probe mode: bytes received */
	size_t text_len;
};

/* Poll the VM (and the control connection) for up to ms; true when the
 * control connection has new input. */
static bool pump(struct vmm_vm *vm, struct host *host, int ms)
{
	struct pollfd pfds[2];
	int n = 0;
	int vm_fd = vmm_vm_fd(vm);
	if (vm_fd >= 0) {
		pfds[n++] = (struct pollfd){ .fd = vm_fd, .events = POLLIN };
	}
	int host_index = -1;
	if (host != NULL && host->fd >= 0) {
		host_index = n;
		pfds[n++] = (struct pollfd){ .fd = host->fd, .events = POLLIN };
	}
	int timeout = vmm_vm_timeout_ms(vm);
	if (timeout < 0 || timeout > ms) {
		timeout = ms;
	}
	int r = poll(pfds, (nfds_t)n, timeout);
	if (r < 0 && errno != EINTR) {
		fail("poll: %s", strerror(errno));
	}
	if (r > 0 && vm_fd >= 0 && (pfds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
		vmm_vm_dispatch(vm);
	}
	vmm_vm_tick(vm);
	return r > 0 && host_index >= 0 && pfds[host_index].revents != 0;
}

static void wait_state(struct vmm_vm *vm, enum vmm_state state, int timeout_ms)
{
	double end = now_s() + timeout_ms / 1000.0;
	while (vmm_vm_state(vm) != state) {
		if (now_s() > end) {
			fail("%s: still %s after %d ms, wanted %s", vmm_vm_name(vm),
				vmm_state_name(vmm_vm_state(vm)), timeout_ms,
				vmm_state_name(state));
		}
		enum vmm_state s = vmm_vm_state(vm);
		if (s != state && (s == VMM_STOPPED || s == VMM_CRASHED)) {
			fail("%s: %s while waiting for %s", vmm_vm_name(vm), vmm_state_name(s),
				vmm_state_name(state));
		}
		pump(vm, NULL, 100);
	}
}

static void host_connect(struct host *host, struct vmm_vm *vm)
{
	host->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (host->fd < 0) {
		fail("socket: %s", strerror(errno));
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", vmm_vm_control_path(vm));
	if (connect(host->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fail("connect %s: %s", addr.sun_path, strerror(errno));
	}
	if (!vtp_stream_init(&host->in)) {
		fail("out of memory");
	}
	host->dec = (struct vtp_decoder){ .side = VTP_SIDE_HOST, .pool_size = 0 };
	host->text_len = 0;
}

static void host_close(struct host *host)
{
	if (host->fd >= 0) {
		close(host->fd);
		host->fd = -1;
		vtp_stream_finish(&host->in);
	}
}

static void host_send(struct host *host, uint16_t type, uint32_t object, const void *body,
	const void *tail, uint32_t tail_len)
{
	uint8_t buf[1024];
	size_t len = vtp_msg_encode(buf, sizeof(buf), type, object, body, tail, tail_len);
	if (len == 0) {
		fail("cannot encode %s", vtp_type_name(type));
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(host->fd, buf + off, len - off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = { .fd = host->fd, .events = POLLOUT };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (n <= 0) {
			fail("write %s: %s", vtp_type_name(type), strerror(errno));
		}
		off += (size_t)n;
	}
}

/* Wait for a message of type want (PINGs answered, others noted); false
 * after timeout_ms. */
static bool host_wait(
	struct host *host, struct vmm_vm *vm, uint16_t want, struct vtp_msg *out, int timeout_ms)
{
	double end = now_s() + timeout_ms / 1000.0;
	for (;;) {
		struct vtp_msg msg;
		bool have = false;
		enum vtp_status st = vtp_stream_next(&host->in, &host->dec, &msg, &have);
		if (st != VTP_OK) {
			fail("guest sent a bad message: %s", vtp_status_str(st));
		}
		if (have) {
			uint16_t type = msg.header.type;
			if (type == VTP_PING) {
				host_send(host, VTP_PONG, 0, &msg.body.ping, NULL, 0);
			}
			if (type == want) {
				*out = msg;
				return true;
			}
			note("  (guest sent %s)", vtp_type_name(type));
			vtp_msg_finish(&msg);
			continue;
		}
		if (now_s() > end) {
			return false;
		}
		if (vmm_vm_state(vm) != VMM_RUNNING) {
			fail("VM %s while waiting for %s", vmm_state_name(vmm_vm_state(vm)),
				vtp_type_name(want));
		}
		if (pump(vm, host, 200)) {
			bool eof = false;
			if (vtp_stream_read(&host->in, host->fd, false, &eof) != VTP_OK) {
				fail("control connection %s", eof ? "closed by QEMU" : "failed");
			}
		}
	}
}

static void host_expect(
	struct host *host, struct vmm_vm *vm, uint16_t want, struct vtp_msg *out, int timeout_ms)
{
	if (!host_wait(host, vm, want, out, timeout_ms)) {
		fail("no %s from the guest within %d ms", vtp_type_name(want), timeout_ms);
	}
}

/* Without an agent: wait for the guest's "vitrail-probe ok BDF SIZE" line. */
static void host_expect_probe(struct host *host, struct vmm_vm *vm, int timeout_ms)
{
	double end = now_s() + timeout_ms / 1000.0;
	for (;;) {
		char *nl = memchr(host->text, '\n', host->text_len);
		if (nl != NULL) {
			*nl = '\0';
			char bdf[32];
			unsigned long long size;
			if (sscanf(host->text, "vitrail-probe ok %31s %llu", bdf, &size) != 2) {
				fail("unexpected line from the guest: '%s'", host->text);
			}
			note("guest: %s", host->text);
			if (strcmp(bdf, "none") == 0) {
				fail("the guest found no ivshmem device");
			}
			if (size != vmm_vm_pool_size(vm)) {
				fail("guest sees a pool of %llu bytes, host made %llu", size,
					(unsigned long long)vmm_vm_pool_size(vm));
			}
			return;
		}
		if (now_s() > end) {
			fail("no probe line from the guest within %d ms", timeout_ms);
		}
		if (vmm_vm_state(vm) != VMM_RUNNING) {
			fail("VM %s while waiting for the probe", vmm_state_name(vmm_vm_state(vm)));
		}
		if (pump(vm, host, 200)) {
			ssize_t n = read(host->fd, host->text + host->text_len,
				sizeof(host->text) - 1 - host->text_len);
			if (n == 0) {
				fail("control connection closed by QEMU");
			}
			if (n > 0) {
				host->text_len += (size_t)n;
			}
			if (host->text_len >= sizeof(host->text) - 1) {
				fail("guest sent too much");
			}
		}
	}
}

/*
 * Connect and wait for the agent's HELLO. A guest cannot see a disconnect
 * that is followed by a new connection before it looks (virtio-serial only
 * has a "host connected" flag), so it may keep waiting in its old session:
 * then close, give it time to notice, and connect again.
 */
static void connect_for_hello(
	struct host *host, struct vmm_vm *vm, struct vtp_msg *hello, int first_timeout_ms)
{
	for (int attempt = 1;; attempt++) {
		host_connect(host, vm);
		int timeout = attempt == 1 ? first_timeout_ms : 15000;
		if (host_wait(host, vm, VTP_HELLO, hello, timeout)) {
			return;
		}
		if (attempt == 4) {
			fail("no HELLO from the guest after %d connections", attempt);
		}
		note("no HELLO on this connection: reconnecting");
		host_close(host);
		double until = now_s() + 1.5;
		while (now_s() < until) {
			pump(vm, NULL, 100);
		}
	}
}

/* The agent handshake: HELLO -> WELCOME (PCI pool) -> a WINDOW_CREATE. */
static void handshake(struct host *host, struct vmm_vm *vm, const char *name, int first_timeout_ms)
{
	struct vtp_msg msg;
	connect_for_hello(host, vm, &msg, first_timeout_ms);
	note("HELLO from '%s', versions %u..%u", msg.tail ? (char *)msg.tail : "",
		msg.body.hello.version_min, msg.body.hello.version_max);
	if (msg.body.hello.version_min > 1 || msg.body.hello.version_max < 1) {
		fail("agent does not speak version 1");
	}
	vtp_msg_finish(&msg);
	struct vtp_welcome welcome = {
		.version = 1,
		.pool_kind = VTP_POOL_PCI,
		.pool_size = vmm_vm_pool_size(vm),
	};
	host_send(host, VTP_WELCOME, 0, &welcome, name, (uint32_t)strlen(name));
	host->dec.pool_size = welcome.pool_size;
	struct vtp_output_info output = {
		.width = 1280, .height = 720, .scale = 1, .refresh_mhz = 60000
	};
	host_send(host, VTP_OUTPUT_INFO, 0, &output, NULL, 0);

	host_expect(host, vm, VTP_WINDOW_CREATE, &msg, GUEST_TIMEOUT_MS);
	note("WINDOW_CREATE: window %u, %ux%u, kind %u", msg.header.object,
		msg.body.window_create.width, msg.body.window_create.height,
		msg.body.window_create.kind);
	if (msg.body.window_create.kind != VTP_WINDOW_TOPLEVEL) {
		fail("first window is not a toplevel");
	}
	vtp_msg_finish(&msg);
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long kib = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) {
			break;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	return kib;
}

/* QEMU pid runs under seccomp (mode 2, filter), in dir, with only PATH in
 * its environment, and its fd VMM_POOL_FD is the sealed pool. */
static void check_confined(pid_t pid, const char *dir)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	bool seccomp = false;
	while (f != NULL && fgets(buf, sizeof(buf), f) != NULL) {
		if (strncmp(buf, "Seccomp:", 8) == 0) {
			seccomp = atoi(buf + 8) == 2;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	if (!seccomp) {
		fail("QEMU pid %d runs without its seccomp filter", (int)pid);
	}
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (strcmp(buf, dir) != 0) {
		fail("QEMU runs in '%s', not in %s", buf, dir);
	}
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0) {
		close(fd);
	}
	if (n <= 0 || strncmp(buf, "PATH=", 5) != 0 || (size_t)n != strlen(buf) + 1) {
		fail("QEMU's environment is not PATH alone");
	}
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, VMM_POOL_FD);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || vtp_pool_sealed_size(fd) == 0) {
		fail("QEMU's fd %d is not the sealed pool", VMM_POOL_FD);
	}
	close(fd);
	note("QEMU pid %d: seccomp on, cwd %s, env PATH only, sealed pool on fd %d", (int)pid, dir,
		VMM_POOL_FD);
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static bool process_gone(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return true;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

/* Run the image script; its last stdout line is the image directory. */
static void build_image(
	const char *script, const char *out, const char *agent, char *dir, size_t dir_size)
{
	char cmd[2048];
	if (agent != NULL) {
		snprintf(cmd, sizeof(cmd), "'%s' --out '%s' --agent '%s'", script, out, agent);
	} else {
		snprintf(cmd, sizeof(cmd), "'%s' --out '%s'", script, out);
	}
	FILE *p = popen(cmd, "r");
	if (p == NULL) {
		fail("cannot run %s", script);
	}
	char line[1024];
	dir[0] = '\0';
	while (fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(dir, dir_size, "%s", line);
	}
	int status = pclose(p);
	if (status != 0 || dir[0] == '\0') {
		fail("%s failed (status %d)", script, status);
	}
}

static struct vmm_vm *new_vm(const struct vmm_vm_spec *spec)
{
	char *error = NULL;
	struct vmm_vm *vm = vmm_vm_create(spec, NULL, NULL, &error);
	if (vm == NULL) {
		fail("vmm_vm_create: %s", error);
	}
	return vm;
}

int main(int argc, char *argv[])
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s GUEST_IMAGE_SCRIPT IMAGE_DIR [AGENT]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	t0 = now_s();
	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0) {
		printf("qemu-system-x86_64 is not installed: skipped\n");
		return 77;
	}
	const char *agent = argc == 4 && argv[3][0] != '\0' ? argv[3] : NULL;
	if (agent != NULL && access(agent, X_OK) != 0) {
		note("agent %s not built: testing the image without it", agent);
		agent = NULL;
	}

	char image[1024], kernel[1100], initrd[1100];
	build_image(argv[1], argv[2], agent, image, sizeof(image));
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", image);
	snprintf(initrd, sizeof(initrd), "%s/initrd.img", image);
	if (!file_exists(kernel) || !file_exists(initrd)) {
		fail("no vmlinuz/initrd.img in %s", image);
	}
	const char *why;
	bool kvm = vmm_kvm_usable(NULL, &why);
	note("image %s (agent: %s); accel %s (%s)", image, agent ? agent : "none",
		kvm ? "kvm" : "tcg", why);

	snprintf(run_dir, sizeof(run_dir), "/tmp/vitrail-vmtest-XXXXXX");
	if (mkdtemp(run_dir) == NULL) {
		fail("mkdtemp: %s", strerror(errno));
	}
	char name_a[33], name_b[33];
	snprintf(name_a, sizeof(name_a), "vmtest-%d-a", (int)getpid());
	snprintf(name_b, sizeof(name_b), "vmtest-%d-b", (int)getpid());
	const char *append = agent ? "console=ttyS0 quiet panic=-1 vitrail.cmd=weston-simple-shm"
				   : "console=ttyS0 quiet panic=-1 vitrail.mode=idle";
	struct vmm_vm_spec spec = {
		.name = name_a,
		.run_dir = run_dir,
		.kernel = kernel,
		.initrd = initrd,
		.append = append,
		.memory_mib = 512,
		.pool_size = 64ull << 20,
		.no_reboot = true,
		.accel = VMM_ACCEL_AUTO,
		.stop_timeout_ms = 30000,
	};

	/* 1. boot and talk */
	struct vmm_vm *vm = current = new_vm(&spec);
	char *error = NULL;
	double t_start = now_s();
	if (!vmm_vm_start(vm, &error)) {
		fail("start: %s", error);
	}
	if (vmm_vm_pool_fd(vm) < 0 ||
		vtp_pool_sealed_size(vmm_vm_pool_fd(vm)) != vmm_vm_pool_size(vm)) {
		fail("no sealed pool memfd of %llu bytes",
			(unsigned long long)vmm_vm_pool_size(vm));
	}
	wait_state(vm, VMM_RUNNING, BOOT_TIMEOUT_MS);
	pid_t pid = vmm_vm_pid(vm);
	note("%s running (QEMU pid %d) after %.2f s", name_a, (int)pid, now_s() - t_start);
	check_confined(pid, run_dir);

	struct host host = { .fd = -1 };
	if (agent != NULL) {
		handshake(&host, vm, name_a, GUEST_TIMEOUT_MS);
	} else {
		host_connect(&host, vm);
		host_expect_probe(&host, vm, GUEST_TIMEOUT_MS);
	}
	note("guest ready %.2f s after start; QEMU RSS %ld KiB", now_s() - t_start, rss_kib(pid));

	/* 2. the compositor goes away and comes back (after a second, as a
	 * restarted compositor would: see connect_for_hello) */
	host_close(&host);
	double until = now_s() + 1.5;
	while (now_s() < until) {
		pump(vm, NULL, 100);
	}
	vmm_vm_destroy(vm);
	current = NULL;
	if (process_gone(pid)) {
		fail("QEMU died with its owner");
	}
	vm = current = new_vm(&spec);
	if (!vmm_vm_attach(vm)) {
		fail("could not re-attach to QEMU pid %d", (int)pid);
	}
	wait_state(vm, VMM_RUNNING, BOOT_TIMEOUT_MS);
	if (vmm_vm_pid(vm) != pid || vmm_vm_pool_fd(vm) < 0) {
		fail("re-attached to pid %d (want %d), pool fd %d", (int)vmm_vm_pid(vm), (int)pid,
			vmm_vm_pool_fd(vm));
	}
	note("re-attached to QEMU pid %d", (int)pid);
	if (agent != NULL) {
		/* the guest is up: a HELLO comes at once, unless it missed the
		 * disconnect (see connect_for_hello) */
		handshake(&host, vm, name_a, 5000);
	} else {
		host_connect(&host, vm);
		host_expect_probe(&host, vm, GUEST_TIMEOUT_MS);
	}
	note("guest talks again after re-attach");

	/* 3. power off over QMP */
	double t_stop = now_s();
	vmm_vm_stop(vm);
	while (vmm_vm_state(vm) == VMM_STOPPING && now_s() - t_stop < STOP_TIMEOUT_MS / 1000.0) {
		if (pump(vm, &host, 200)) {
			char sink[4096];
			ssize_t n = read(host.fd, sink, sizeof(sink));
			if (n == 0) {
				host_close(&host);
			}
		}
	}
	host_close(&host);
	if (vmm_vm_state(vm) != VMM_STOPPED) {
		fail("after power-down: %s (%s)", vmm_state_name(vmm_vm_state(vm)),
			vmm_vm_reason(vm));
	}
	note("stopped in %.2f s: %s", now_s() - t_stop, vmm_vm_reason(vm));
	if (strcmp(vmm_vm_reason(vm), "stopped") != 0) {
		fail("unexpected stop reason: %s", vmm_vm_reason(vm));
	}
	if (vmm_vm_pool_fd(vm) >= 0) {
		fail("pool still open after stop");
	}
	for (int i = 0; i < 100 && !process_gone(pid); i++) {
		usleep(20000);
	}
	if (!process_gone(pid)) {
		fail("QEMU pid %d still running after stop", (int)pid);
	}
	vmm_vm_destroy(vm);
	current = NULL;

	/* 4. a killed QEMU is a crash */
	spec.name = name_b;
	spec.append = "console=ttyS0 quiet panic=-1 vitrail.mode=idle";
	vm = current = new_vm(&spec);
	if (!vmm_vm_start(vm, &error)) {
		fail("start %s: %s", name_b, error);
	}
	wait_state(vm, VMM_RUNNING, BOOT_TIMEOUT_MS);
	pid = vmm_vm_pid(vm);
	kill(pid, SIGKILL);
	wait_state(vm, VMM_CRASHED, STOP_TIMEOUT_MS);
	note("%s crashed as expected: %s", name_b, vmm_vm_reason(vm));
	if (strstr(vmm_vm_reason(vm), vmm_vm_console_log_path(vm)) == NULL) {
		fail("crash reason does not name the console log");
	}
	if (vmm_vm_pool_fd(vm) >= 0) {
		fail("pool still open after the crash");
	}
	vmm_vm_destroy(vm);
	current = NULL;

	cleanup();
	note("all good");
	return 0;
}
