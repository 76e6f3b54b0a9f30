#define _GNU_SOURCE /* closefrom, vasprintf */
#include <vitrail/vmm_snapshot.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vitrail/vmm.h>

/* qcow2 (docs/interop/qcow2.txt): the header fields read here */
#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_HEADER_BYTES 72
#define QCOW2_SNAPSHOT_FIXED 40
/* bounds on a snapshot table entry's variable parts (QEMU writes 24
 * bytes of extra data, short ids, names of any length) */
#define QCOW2_EXTRA_MAX 1024u
#define QCOW2_ID_MAX 128u
#define QCOW2_NAME_MAX 4096u
#define OUTPUT_MAX 1024

static bool set_error(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool set_error(char **error, const char *fmt, ...)
{
	if (error != NULL) {
		free(*error);
		va_list args;
		va_start(args, fmt);
		if (vasprintf(error, fmt, args) < 0) {
			*error = NULL;
		}
		va_end(args);
	}
	return false;
}

bool vmm_snapshot_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len < 1 || len > VMM_SNAPSHOT_NAME_MAX ||
		!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'))) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '.' || c == '_' || c == '-')) {
			return false;
		}
	}
	return true;
}

static bool is_qcow2_name(const char *path)
{
	size_t len = strlen(path);
	return len > 6 && strcmp(path + len - 6, ".qcow2") == 0;
}

static bool add_volume(struct vmm_snapshot_volumes *volumes, const char *name, const char *path,
	const char *role, char **error)
{
	if (!is_qcow2_name(path)) {
		return set_error(error,
			"VM %s: its %s volume %s is raw: snapshots need qcow2 volumes "
			"(a file name ending in .qcow2)",
			name, role, path);
	}
	volumes->path[volumes->n] = path;
	volumes->role[volumes->n] = role;
	volumes->n++;
	return true;
}

bool vmm_snapshot_volumes(
	const struct vmm_vm *vm, bool running, struct vmm_snapshot_volumes *volumes, char **error)
{
	const char *name = vmm_vm_name(vm);
	memset(volumes, 0, sizeof(*volumes));
	const char *image = vmm_vm_image(vm), *overlay = vmm_vm_overlay_path(vm);
	const char *private = vmm_vm_private_image(vm);
	if (image != NULL && !add_volume(volumes, name, image, "root", error)) {
		return false;
	}
	if (overlay != NULL && running && !add_volume(volumes, name, overlay, "overlay", error)) {
		return false;
	}
	if (private != NULL && !add_volume(volumes, name, private, "private", error)) {
		return false;
	}
	if (volumes->n == 0) {
		return set_error(error, "VM %s has no disk to snapshot%s", name,
			overlay != NULL ? " while it is stopped (its root overlay exists only "
					  "while it runs, and it has no private volume)"
					: " (no image, no private volume)");
	}
	return true;
}

/* ---- reading a qcow2 snapshot table ---- */

static uint32_t be32_at(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t be64_at(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return be64toh(v);
}

static bool read_exact(int fd, void *buf, size_t len, uint64_t offset)
{
	if (offset > (uint64_t)INT64_MAX - len) {
		return false;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		done += (size_t)n;
	}
	return true;
}

/* Add the snapshots of one volume (bit) to *list. */
static bool read_table(
	const char *path, uint32_t bit, struct vmm_snapshot **list, size_t *n, char **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return set_error(error, "%s: %s", path, strerror(errno));
	}
	bool ok = false;
	unsigned char h[QCOW2_HEADER_BYTES];
	if (!read_exact(fd, h, sizeof(h), 0) || be32_at(h) != QCOW2_MAGIC ||
		(be32_at(h + 4) != 2 && be32_at(h + 4) != 3)) {
		set_error(error, "%s is not a qcow2 volume (version 2 or 3)", path);
		goto out;
	}
	uint32_t count = be32_at(h + 60);
	uint64_t offset = be64_at(h + 64);
	if (count > VMM_SNAPSHOTS_MAX) {
		set_error(error, "%s holds %u snapshots, more than %u", path, count,
			VMM_SNAPSHOTS_MAX);
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		unsigned char e[QCOW2_SNAPSHOT_FIXED];
		if (!read_exact(fd, e, sizeof(e), offset)) {
			set_error(error, "%s: its snapshot table cannot be read", path);
			goto out;
		}
		uint32_t id_size = (uint32_t)e[12] << 8 | e[13];
		uint32_t name_size = (uint32_t)e[14] << 8 | e[15];
		uint32_t extra_size = be32_at(e + 36);
		if (id_size > QCOW2_ID_MAX || name_size > QCOW2_NAME_MAX ||
			extra_size > QCOW2_EXTRA_MAX) {
			set_error(error, "%s: its snapshot table is malformed", path);
			goto out;
		}
		uint64_t state_bytes = be32_at(e + 32);
		if (extra_size >= 8) {
			unsigned char large[8];
			if (!read_exact(fd, large, 8, offset + QCOW2_SNAPSHOT_FIXED)) {
				set_error(error, "%s: its snapshot table cannot be read", path);
				goto out;
			}
			state_bytes = be64_at(large);
		}
		char name[QCOW2_NAME_MAX + 1];
		if (!read_exact(fd, name, name_size,
			    offset + QCOW2_SNAPSHOT_FIXED + extra_size + id_size)) {
			set_error(error, "%s: its snapshot table cannot be read", path);
			goto out;
		}
		name[name_size] = '\0';
		uint64_t entry = QCOW2_SNAPSHOT_FIXED + extra_size + id_size + name_size;
		offset += (entry + 7) & ~(uint64_t)7;
		if (strlen(name) != name_size || !vmm_snapshot_name_valid(name)) {
			continue; /* not one of ours to name */
		}
		struct vmm_snapshot *s = NULL;
		for (size_t j = 0; j < *n; j++) {
			if (strcmp((*list)[j].name, name) == 0) {
				s = &(*list)[j];
			}
		}
		if (s == NULL) {
			struct vmm_snapshot *grown = realloc(*list, (*n + 1) * sizeof(**list));
			if (grown == NULL) {
				set_error(error, "out of memory");
				goto out;
			}
			*list = grown;
			s = &grown[(*n)++];
			memset(s, 0, sizeof(*s));
			/* the name rule kept it below sizeof(s->name) */
			memcpy(s->name, name, strnlen(name, sizeof(s->name) - 1));
		}
		int64_t date = (int64_t)be32_at(e + 16);
		if (date > s->date) {
			s->date = date;
		}
		s->vm_state_bytes += state_bytes;
		s->volumes |= bit;
	}
	ok = true;
out:
	close(fd);
	return ok;
}

static int by_date(const void *a, const void *b)
{
	const struct vmm_snapshot *x = a, *y = b;
	if (x->date != y->date) {
		return x->date < y->date ? -1 : 1;
	}
	return strcmp(x->name, y->name);
}

bool vmm_snapshot_list(const struct vmm_vm *vm, bool running, struct vmm_snapshot_volumes *volumes,
	struct vmm_snapshot **list, size_t *n, char **error)
{
	*list = NULL;
	*n = 0;
	if (!vmm_snapshot_volumes(vm, running, volumes, error)) {
		return false;
	}
	for (size_t i = 0; i < volumes->n; i++) {
		if (!read_table(volumes->path[i], 1u << i, list, n, error)) {
			free(*list);
			*list = NULL;
			*n = 0;
			return false;
		}
	}
	if (*n > 1) {
		qsort(*list, *n, sizeof(**list), by_date);
	}
	return true;
}

static const struct vmm_snapshot *find(const struct vmm_snapshot *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].name, name) == 0) {
			return &list[i];
		}
	}
	return NULL;
}

/* ---- qemu-img on a stopped VM ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first line of text, without "qemu-img: ". */
static const char *first_line(char *text)
{
	text[strcspn(text, "\n")] = '\0';
	if (strncmp(text, "qemu-img: ", 10) == 0) {
		text += 10;
	}
	return text[0] != '\0' ? text : "no message";
}

struct vmm_snapshot_job {
	struct vmm_vm *vm;
	enum vmm_snapshot_op op;
	char name[VMM_SNAPSHOT_NAME_MAX + 1];
	struct vmm_snapshot_volumes volumes;
	uint32_t on; /* the volumes holding name when the job began */
	size_t next; /* the volume the next run is for */
	size_t current; /* the volume of the run going on */
	bool undoing; /* a take failed on volume undo_end: deleting it from
			 volumes [0, undo_end) */
	size_t undo_end;
	char *error; /* the first failure */
	pid_t pid; /* the qemu-img running, 0: none */
	int fd; /* its output (non-blocking), -1: none */
	const char *flag;
	const char *path;
	int64_t deadline;
	char out[OUTPUT_MAX + 1];
	size_t out_len;
};

/* Start qemu-img snapshot FLAG NAME -- PATH; false and *why. */
static bool job_spawn(struct vmm_snapshot_job *job, const char *flag, const char *path, char **why)
{
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		return set_error(why, "pipe: %s", strerror(errno));
	}
	const char *argv[] = { vmm_vm_qemu_img(job->vm), "snapshot", "-q", flag, job->name, "--",
		path, NULL };
	pid_t pid = fork();
	if (pid < 0) {
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		return set_error(why, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int null_fd = open("/dev/null", O_RDONLY);
		if (null_fd >= 0) {
			dup2(null_fd, 0);
		}
		dup2(pipe_fds[1], 1);
		dup2(pipe_fds[1], 2);
		closefrom(3);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipe_fds[1]);
	job->pid = pid;
	job->fd = pipe_fds[0];
	job->flag = flag;
	job->path = path;
	job->out_len = 0;
	job->deadline = now_ms() + VMM_QEMU_IMG_TIMEOUT_MS;
	return true;
}

/* The running qemu-img is gone or killed: reap it. true if it worked. */
static bool job_reap(struct vmm_snapshot_job *job, bool killed, char **why)
{
	if (job->fd >= 0) {
		close(job->fd);
		job->fd = -1;
	}
	if (killed) {
		kill(job->pid, SIGKILL);
	}
	int status = 0;
	pid_t r;
	while ((r = waitpid(job->pid, &status, 0)) < 0 && errno == EINTR) {
	}
	job->pid = 0;
	job->out[job->out_len] = '\0';
	if (r < 0) {
		return set_error(why, "waitpid: %s", strerror(errno));
	}
	if (killed) {
		return set_error(why, "qemu-img snapshot %s on %s took longer than %d s: killed",
			job->flag, job->path, VMM_QEMU_IMG_TIMEOUT_MS / 1000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		return set_error(why, "qemu-img snapshot %s on %s failed: %s", job->flag, job->path,
			first_line(job->out));
	}
	return true;
}

/* Record how the last run ended (ok, or why: taken), then start the next
 * one; none is running afterwards when the job is over. */
static void job_advance(struct vmm_snapshot_job *job, bool ok, char *why)
{
	for (;;) {
		if (!ok && !job->undoing) {
			free(job->error);
			job->error = why;
			why = NULL;
			if (job->op == VMM_SNAPSHOT_TAKE) {
				/* undo it where it was done: all or nothing */
				job->undoing = true;
				job->undo_end = job->current;
				job->next = 0;
			} else {
				job->next = job->volumes.n; /* stop here */
			}
		}
		free(why); /* an undo that failed: the first error counts */
		why = NULL;
		size_t end = job->undoing ? job->undo_end : job->volumes.n;
		if (job->next >= end) {
			return;
		}
		size_t i = job->next++;
		if (!job->undoing && job->op == VMM_SNAPSHOT_DELETE && (job->on & (1u << i)) == 0) {
			ok = true;
			continue; /* not on this volume */
		}
		const char *flag = job->undoing          ? "-d"
			: job->op == VMM_SNAPSHOT_TAKE   ? "-c"
			: job->op == VMM_SNAPSHOT_REVERT ? "-a"
							 : "-d";
		job->current = i;
		ok = job_spawn(job, flag, job->volumes.path[i], &why);
		if (ok) {
			return;
		}
	}
}

struct vmm_snapshot_job *vmm_snapshot_offline_start(
	struct vmm_vm *vm, enum vmm_snapshot_op op, const char *name, char **error)
{
	const char *vm_name = vmm_vm_name(vm);
	if (error != NULL) {
		*error = NULL;
	}
	if (!vmm_snapshot_name_valid(name)) {
		set_error(error, "bad snapshot name");
		return NULL;
	}
	enum vmm_state state = vmm_vm_state(vm);
	if (state != VMM_STOPPED && state != VMM_CRASHED) {
		set_error(error, "VM %s is %s", vm_name, vmm_state_name(state));
		return NULL;
	}
	struct vmm_snapshot_job *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		set_error(error, "out of memory");
		return NULL;
	}
	job->vm = vm;
	job->op = op;
	job->fd = -1;
	snprintf(job->name, sizeof(job->name), "%s", name);
	struct vmm_snapshot *list = NULL;
	size_t n = 0;
	if (!vmm_snapshot_list(vm, false, &job->volumes, &list, &n, error)) {
		free(job);
		return NULL;
	}
	const struct vmm_snapshot *s = find(list, n, name);
	job->on = s != NULL ? s->volumes : 0;
	free(list);
	bool ok = true;
	if (op == VMM_SNAPSHOT_TAKE && job->on != 0) {
		ok = set_error(error, "VM %s already has a snapshot %s", vm_name, name);
	} else if (op != VMM_SNAPSHOT_TAKE && job->on == 0) {
		ok = set_error(error, "VM %s has no snapshot %s", vm_name, name);
	}
	for (size_t i = 0; ok && op == VMM_SNAPSHOT_REVERT && i < job->volumes.n; i++) {
		if ((job->on & (1u << i)) == 0) {
			ok = set_error(error,
				"snapshot %s of VM %s is not on its %s volume %s: "
				"reverting would mix two points in time",
				name, vm_name, job->volumes.role[i], job->volumes.path[i]);
		}
	}
	if (ok) {
		job_advance(job, true, NULL); /* a failure to start: step says it */
	}
	if (!ok) {
		vmm_snapshot_job_destroy(job);
		return NULL;
	}
	return job;
}

int vmm_snapshot_job_fd(const struct vmm_snapshot_job *job)
{
	return job->fd;
}

int vmm_snapshot_job_timeout_ms(const struct vmm_snapshot_job *job)
{
	if (job->pid == 0) {
		return 0;
	}
	int64_t left = job->deadline - now_ms();
	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

bool vmm_snapshot_job_step(struct vmm_snapshot_job *job, char **error)
{
	while (job->pid != 0) {
		bool eof = false;
		for (;;) {
			char buf[512];
			ssize_t got = read(job->fd, buf, sizeof(buf));
			if (got < 0 && errno == EINTR) {
				continue;
			}
			if (got < 0 && errno == EAGAIN) {
				break;
			}
			if (got <= 0) {
				eof = true;
				break;
			}
			size_t room = OUTPUT_MAX - job->out_len;
			size_t take = (size_t)got < room ? (size_t)got : room;
			memcpy(job->out + job->out_len, buf, take);
			job->out_len += take;
		}
		bool late = now_ms() >= job->deadline;
		if (!eof && !late) {
			return false; /* qemu-img still runs */
		}
		char *why = NULL;
		bool ok = job_reap(job, !eof, &why);
		job_advance(job, ok, why);
	}
	if (error != NULL) {
		*error = job->error;
		job->error = NULL;
	}
	return true;
}

void vmm_snapshot_job_destroy(struct vmm_snapshot_job *job)
{
	if (job == NULL) {
		return;
	}
	if (job->pid != 0) {
		job_reap(job, true, NULL);
	}
	if (job->fd >= 0) {
		close(job->fd);
	}
	free(job->error);
	free(job);
}

bool vmm_snapshot_job_wait(struct vmm_snapshot_job *job, char **error)
{
	char *why = NULL;
	while (!vmm_snapshot_job_step(job, &why)) {
		struct pollfd pfd = { .fd = vmm_snapshot_job_fd(job), .events = POLLIN };
		poll(&pfd, 1, vmm_snapshot_job_timeout_ms(job));
	}
	if (error != NULL) {
		*error = why;
	} else {
		free(why);
	}
	return why == NULL;
}

bool vmm_snapshot_offline(
	struct vmm_vm *vm, enum vmm_snapshot_op op, const char *name, char **error)
{
	struct vmm_snapshot_job *job = vmm_snapshot_offline_start(vm, op, name, error);
	if (job == NULL) {
		return false;
	}
	bool ok = vmm_snapshot_job_wait(job, error);
	vmm_snapshot_job_destroy(job);
	return ok;
}

/* ---- the monitor, on a running VM ---- */

bool vmm_snapshot_live(struct vmm_vm *vm, enum vmm_snapshot_op op, const char *name,
	vmm_hmp_done_fn done, void *data, char **error)
{
	const char *vm_name = vmm_vm_name(vm);
	if (error != NULL) {
		*error = NULL;
	}
	if (!vmm_snapshot_name_valid(name)) {
		return set_error(error, "bad snapshot name");
	}
	if (vmm_vm_state(vm) != VMM_RUNNING) {
		return set_error(error, "VM %s is %s", vm_name, vmm_state_name(vmm_vm_state(vm)));
	}
	if (vmm_vm_hmp_busy(vm)) {
		return set_error(error, "VM %s: another snapshot command is in progress", vm_name);
	}
	struct vmm_snapshot_volumes volumes;
	struct vmm_snapshot *list = NULL;
	size_t n = 0;
	if (!vmm_snapshot_list(vm, true, &volumes, &list, &n, error)) {
		return false;
	}
	const struct vmm_snapshot *s = find(list, n, name);
	uint32_t on = s != NULL ? s->volumes : 0;
	uint64_t state_bytes = s != NULL ? s->vm_state_bytes : 0;
	free(list);
	const char *command = NULL;
	switch (op) {
	case VMM_SNAPSHOT_TAKE:
		if (on != 0) {
			return set_error(error, "VM %s already has a snapshot %s", vm_name, name);
		}
		command = "savevm";
		break;
	case VMM_SNAPSHOT_REVERT:
		if (on == 0) {
			return set_error(error, "VM %s has no snapshot %s", vm_name, name);
		}
		for (size_t i = 0; i < volumes.n; i++) {
			if ((on & (1u << i)) == 0) {
				return set_error(error,
					"snapshot %s of VM %s is not on its %s volume %s "
					"(an overlay is new at each start): stop %s to "
					"revert its other volumes to it",
					name, vm_name, volumes.role[i], volumes.path[i], vm_name);
			}
		}
		if (state_bytes == 0) {
			return set_error(error,
				"snapshot %s of VM %s holds no RAM (taken while it was stopped): "
				"stop %s to revert to it",
				name, vm_name, vm_name);
		}
		command = "loadvm";
		break;
	case VMM_SNAPSHOT_DELETE:
		if (on == 0) {
			return set_error(error, "VM %s has no snapshot %s", vm_name, name);
		}
		command = "delvm";
		break;
	}
	if (command == NULL) {
		return set_error(error, "bad snapshot operation");
	}
	char line[64];
	snprintf(line, sizeof(line), "%s %s", command, name);
	return vmm_vm_hmp(vm, line, done, data, error);
}

bool vmm_snapshot_outcome(bool ok, const char *output, char *why, size_t cap)
{
	if (ok && output[0] == '\0') {
		return true;
	}
	const char *text = output[0] != '\0' ? output : "QEMU said nothing";
	if (strncmp(text, "Error: ", 7) == 0) {
		text += 7;
	}
	snprintf(why, cap, "%.*s", (int)strcspn(text, "\r\n"), text);
	return false;
}
