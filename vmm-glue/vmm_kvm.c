#define _GNU_SOURCE /* memfd_create, pipe2 */
#include <vitrail/vmm_kvm.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FIRMWARE_SIZE 65536
#define DEBUG_EXIT_PORT 0xf4
#define PROBE_VALUE 0x21
/* isa-debug-exit: QEMU exits with (value << 1) | 1 */
#define PROBE_EXIT_STATUS ((PROBE_VALUE << 1) | 1)
#define MAX_OUTPUT 2048
#define WHY_SIZE 320
#define KEY_SIZE (PATH_MAX + 160)

static char why_text[WHY_SIZE];

/* The process-wide cache: one answer per QEMU key. */
static char cached_key[KEY_SIZE];
static bool cached_ok;
static char cached_why[WHY_SIZE];

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keep one printable line: QEMU's messages end up in `vitrailctl vms`. */
static void set_text(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	for (; *src != '\0' && n + 1 < size; src++) {
		unsigned char c = (unsigned char)*src;
		dst[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

/* PATH lookup as execvp does it, so the key names the binary that runs. */
static bool find_binary(const char *qemu, char *out, size_t size)
{
	if (strchr(qemu, '/') != NULL) {
		return realpath(qemu, out) != NULL;
	}
	const char *path = getenv("PATH");
	if (path == NULL) {
		path = "/usr/local/bin:/usr/bin:/bin";
	}
	while (*path != '\0') {
		size_t len = strcspn(path, ":");
		char candidate[PATH_MAX];
		if (len > 0 && len + strlen(qemu) + 2 <= sizeof(candidate)) {
			snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)len, path, qemu);
			if (access(candidate, X_OK) == 0 && realpath(candidate, out) != NULL) {
				return strlen(out) < size;
			}
		}
		path += len;
		if (*path == ':') {
			path++;
		}
	}
	return false;
}

static void read_boot_id(char *out, size_t size)
{
	snprintf(out, size, "unknown");
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f == NULL) {
		return;
	}
	char line[64];
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, size, "%s", line);
	}
	fclose(f);
}

/* false: no such QEMU binary. */
static bool make_key(const char *qemu, char *key, size_t size, char *binary, size_t binary_size)
{
	struct stat st;
	if (!find_binary(qemu, binary, binary_size) || stat(binary, &st) != 0) {
		return false;
	}
	char boot[64];
	read_boot_id(boot, sizeof(boot));
	snprintf(key, size, "boot=%s qemu=%s ino=%llu size=%lld mtime=%lld machine=%s cpu=%s", boot,
		binary, (unsigned long long)st.st_ino, (long long)st.st_size,
		(long long)st.st_mtime, VMM_KVM_MACHINE, VMM_KVM_CPU);
	return true;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s != '\0'; s++) {
		h = (h ^ (uint8_t)*s) * 16777619u;
	}
	return h;
}

/* $XDG_CACHE_HOME/vitrail/kvm-probe-HASH, one file per QEMU binary path. */
static bool cache_file(const char *binary, bool create_dir, char *out, size_t size)
{
	const char *base = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char dir[PATH_MAX];
	int n;
	if (base != NULL && base[0] == '/') {
		n = snprintf(dir, sizeof(dir), "%s/vitrail", base);
	} else if (home != NULL && home[0] == '/') {
		n = snprintf(dir, sizeof(dir), "%s/.cache/vitrail", home);
	} else {
		return false;
	}
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		return false;
	}
	if (create_dir) {
		char parent[PATH_MAX];
		snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(dir, '/') - dir), dir);
		mkdir(parent, 0700);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			return false;
		}
	}
	n = snprintf(out, size, "%s/kvm-probe-%08x", dir, hash(binary));
	return n > 0 && (size_t)n < size;
}

/* The file holds three lines: key, "ok" or "no", why. */
static bool cache_load(const char *binary, const char *key, bool *ok, char *why, size_t size)
{
	char path[PATH_MAX];
	if (!cache_file(binary, false, path, sizeof(path))) {
		return false;
	}
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return false;
	}
	char line_key[KEY_SIZE], result[8], line_why[WHY_SIZE];
	bool found = fgets(line_key, sizeof(line_key), f) != NULL &&
		fgets(result, sizeof(result), f) != NULL &&
		fgets(line_why, sizeof(line_why), f) != NULL;
	fclose(f);
	if (!found) {
		return false;
	}
	line_key[strcspn(line_key, "\n")] = '\0';
	result[strcspn(result, "\n")] = '\0';
	line_why[strcspn(line_why, "\n")] = '\0';
	if (strcmp(line_key, key) != 0 ||
		(strcmp(result, "ok") != 0 && strcmp(result, "no") != 0)) {
		return false;
	}
	*ok = strcmp(result, "ok") == 0;
	set_text(why, size, line_why);
	return true;
}

/* Atomic: a reader sees the old answer or the new one. Best effort. */
static void cache_store(const char *binary, const char *key, bool ok, const char *why)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	if (!cache_file(binary, true, path, sizeof(path))) {
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		return;
	}
	FILE *f = fdopen(fd, "we");
	if (f == NULL) {
		close(fd);
		unlink(tmp);
		return;
	}
	fprintf(f, "%s\n%s\n%s\n", key, ok ? "ok" : "no", why);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
	}
}

/* A firmware image whose reset vector (the last 16 bytes, mapped at
 * 0xfffffff0) does: mov al, PROBE_VALUE; out DEBUG_EXIT_PORT, al; hlt. */
static int make_firmware(void)
{
	int fd = memfd_create("vitrail-kvm-probe", 0); /* inherited by QEMU */
	if (fd < 0) {
		return -1;
	}
	static uint8_t image[FIRMWARE_SIZE];
	memset(image, 0xf4, sizeof(image)); /* hlt everywhere else */
	static const uint8_t code[] = { 0xb0, PROBE_VALUE, 0xe6, DEBUG_EXIT_PORT, 0xf4, 0xeb,
		0xfd };
	memcpy(image + FIRMWARE_SIZE - 16, code, sizeof(code));
	size_t done = 0;
	while (done < sizeof(image)) {
		ssize_t w = write(fd, image + done, sizeof(image) - done);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	return fd;
}

const char *vmm_qemu_message(char *output)
{
	const char *first = NULL;
	char *line = output;
	while (line != NULL && *line != '\0') {
		char *end = strchr(line, '\n');
		if (end != NULL) {
			*end = '\0';
		}
		char *text = strstr(line, ": ");
		text = (text != NULL && strncmp(line, "qemu", 4) == 0) ? text + 2 : line;
		if (strncmp(text, "error: ", 7) == 0) {
			return text + 7;
		}
		if (first == NULL && *text != '\0') {
			first = text;
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return first;
}

/* Runs QEMU on the firmware; true when it exits as the firmware asks. */
static bool run_probe(const char *binary, char *why, size_t size)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		snprintf(why, size, "cannot open /dev/kvm: %s", strerror(errno));
		return false;
	}
	int fw = make_firmware();
	int out[2] = { -1, -1 };
	if (fw < 0 || pipe2(out, O_CLOEXEC) != 0) {
		snprintf(why, size, "cannot set up the KVM probe: %s", strerror(errno));
		if (fw >= 0) {
			close(fw);
		}
		return false;
	}
	char bios[64], device[64];
	snprintf(bios, sizeof(bios), "/proc/self/fd/%d", fw);
	snprintf(device, sizeof(device), "isa-debug-exit,iobase=0x%x,iosize=1", DEBUG_EXIT_PORT);
	char *argv[] = { (char *)binary, "-machine", VMM_KVM_MACHINE, "-accel", "kvm", "-cpu",
		VMM_KVM_CPU, "-m", "16", "-smp", "1", "-nodefaults", "-no-user-config", "-display",
		"none", "-no-reboot", "-bios", bios, "-device", device, NULL };
	int64_t start = now_ms();
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
		}
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		execv(binary, argv);
		_exit(127);
	}
	close(out[1]);
	close(fw);
	if (pid < 0) {
		close(out[0]);
		snprintf(why, size, "cannot run %.200s: %s", binary, strerror(errno));
		return false;
	}
	char output[MAX_OUTPUT + 1];
	size_t len = 0;
	bool timed_out = false, eof = false;
	while (!eof) {
		int64_t left = start + VMM_KVM_PROBE_DEADLINE_MS - now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd pfd = { .fd = out[0], .events = POLLIN };
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			timed_out = r == 0;
			break;
		}
		char chunk[512];
		ssize_t n = read(out[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			eof = true;
			break;
		}
		size_t keep = (size_t)n < MAX_OUTPUT - len ? (size_t)n : MAX_OUTPUT - len;
		memcpy(output + len, chunk, keep);
		len += keep;
	}
	close(out[0]);
	output[len] = '\0';
	int status = 0;
	pid_t r;
	if (timed_out) {
		kill(pid, SIGKILL);
	} else {
		/* output closed: QEMU is exiting; give it the rest of the deadline */
		while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
			now_ms() < start + VMM_KVM_PROBE_DEADLINE_MS) {
			struct timespec ts = { .tv_nsec = 5 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		if (r == pid) {
			goto exited;
		}
		timed_out = true;
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	snprintf(why, size, "QEMU under KVM did not run a test guest within %d ms",
		VMM_KVM_PROBE_DEADLINE_MS);
	return false;
exited:
	if (WIFEXITED(status) && WEXITSTATUS(status) == PROBE_EXIT_STATUS) {
		snprintf(why, size, "QEMU runs a test guest under KVM (%lld ms)",
			(long long)(now_ms() - start));
		return true;
	}
	const char *message = vmm_qemu_message(output);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && message == NULL) {
		snprintf(why, size, "cannot run %.200s", binary);
	} else if (message != NULL) {
		snprintf(why, size, "QEMU under KVM: %.240s", message);
	} else if (WIFSIGNALED(status)) {
		snprintf(why, size, "QEMU under KVM was killed by signal %d", WTERMSIG(status));
	} else {
		snprintf(why, size, "QEMU under KVM exited with status %d, not %d",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1, PROBE_EXIT_STATUS);
	}
	return false;
}

bool vmm_kvm_usable(const char *qemu, const char **why)
{
	char key[KEY_SIZE], binary[PATH_MAX];
	if (qemu == NULL) {
		qemu = "qemu-system-x86_64";
	}
	bool ok;
	if (!make_key(qemu, key, sizeof(key), binary, sizeof(binary))) {
		ok = false;
		snprintf(why_text, sizeof(why_text), "%s not found", qemu);
	} else if (strcmp(key, cached_key) == 0) {
		ok = cached_ok;
		snprintf(why_text, sizeof(why_text), "%s", cached_why);
	} else {
		if (!cache_load(binary, key, &ok, why_text, sizeof(why_text))) {
			char text[WHY_SIZE];
			ok = run_probe(binary, text, sizeof(text));
			set_text(why_text, sizeof(why_text), text);
			cache_store(binary, key, ok, why_text);
		}
		snprintf(cached_key, sizeof(cached_key), "%s", key);
		cached_ok = ok;
		snprintf(cached_why, sizeof(cached_why), "%s", why_text);
	}
	if (why != NULL) {
		*why = why_text;
	}
	return ok;
}

void vmm_kvm_mark_unusable(const char *qemu, const char *why)
{
	char key[KEY_SIZE], binary[PATH_MAX];
	if (qemu == NULL) {
		qemu = "qemu-system-x86_64";
	}
	if (!make_key(qemu, key, sizeof(key), binary, sizeof(binary))) {
		return;
	}
	char text[WHY_SIZE];
	set_text(text, sizeof(text), why);
	cache_store(binary, key, false, text);
	snprintf(cached_key, sizeof(cached_key), "%s", key);
	cached_ok = false;
	snprintf(cached_why, sizeof(cached_why), "%s", text);
}
