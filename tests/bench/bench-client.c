/*
 * bench-client: a synthetic Wayland client that measures the frame path of
 * the compositor it runs on (directly, through vitrail-agent or through
 * waypipe). It maps one xdg toplevel of WxH (wl_shm ARGB8888, opaque, four
 * buffers) and runs these phases, each on the same window:
 *
 *   latency-full, latency-partial
 *       isolated frames: fill the damaged area with fresh noise, attach,
 *       damage_buffer (the whole buffer, or a 256x256 square), request a
 *       frame callback (and presentation feedback when offered), commit,
 *       t0 = CLOCK_MONOTONIC, wait for the frame callback (t1); latency is
 *       t1 - t0. A pause after each frame keeps frames from pipelining;
 *       its default, 20 ms, is longer than a 60 Hz refresh so that the
 *       compositor's frame clock is idle again when the next frame comes
 *       (wlroots renders at once when no frame is pending, else at the
 *       next tick): the latency is then the path's, not the clock phase.
 *   throughput-full, throughput-partial
 *       uncapped: the next frame is committed as soon as the previous
 *       frame callback arrives, for a fixed time; reports fps.
 *   paced-full
 *       full frames at a fixed rate (60 Hz) for a fixed time; reports the
 *       CPU usage of the measured processes in percent of one core.
 *   copy-ref
 *       no Wayland traffic: the time of one WxH ARGB memcpy from a buffer
 *       just written (what a forwarding copy costs on this machine now).
 *
 * CPU: --cpu NAME=PID (repeatable; PID may be "parent") adds the CPU time
 * of PID and of its live descendants (this client excluded) over each
 * phase, read through clock_getcpuclockid(), so a phase reports CPU ms per
 * frame for the compositor, the agent or waypipe. The client's own CPU is
 * reported as cpu_client.
 *
 *   bench-client [--size WxH] [--partial WxH] [--frames N] [--warmup N]
 *                [--seconds S] [--pause-ms MS] [--hz HZ] [--paced-seconds S]
 *                [--phases LIST] [--cpu NAME=PID]... [--output FILE]
 *
 * Results: one line per phase, "phase=NAME key=value ...", on stdout or
 * appended to FILE, then "end". Latencies and CPU times are in ms (CPU per
 * frame).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "presentation-time-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#define N_BUFFERS 4
#define MAX_CPU_ROOTS 8
#define MAX_PROCS 1024
#define WAIT_TIMEOUT_NS (10 * 1000000000LL)

struct buffer {
	struct wl_buffer *wl;
	uint32_t *data;
	bool busy;
};

struct region {
	int x, y, width, height;
};

struct cpu_root {
	char name[32];
	pid_t pid; /* 0: our parent */
};

/* CPU time of every process of the measured trees at the start of a phase */
struct cpu_snapshot {
	size_t n;
	pid_t pid[MAX_PROCS];
	int root[MAX_PROCS];
	int64_t ns[MAX_PROCS];
	int64_t self_ns;
	int64_t wall_ns;
};

struct feedback {
	struct wp_presentation_feedback *wp;
	int64_t t0;
};

static struct {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wp_presentation *presentation;

	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	bool configured, closed;

	int width, height;
	struct buffer buffers[N_BUFFERS];
	uint64_t noise;

	struct wl_callback *frame_cb;
	bool frame_done;
	int64_t t0, t1;

	/* presentation feedback of the running phase */
	bool want_feedback;
	int presented, discarded;
	double *presented_ms;
	int presented_cap;

	struct cpu_root roots[MAX_CPU_ROOTS];
	int n_roots;
	FILE *out;
} c;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench-client: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

/* ---- CPU accounting ---- */

static int64_t process_cpu_ns(pid_t pid)
{
	clockid_t clock;
	struct timespec ts;
	if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &ts) != 0) {
		return -1;
	}
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static pid_t read_ppid(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return -1;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses */
	char *p = strrchr(buf, ')');
	int ppid;
	char state;
	if (p == NULL || sscanf(p + 1, " %c %d", &state, &ppid) != 2) {
		return -1;
	}
	return (pid_t)ppid;
}

/* The processes of every measured tree (root and live descendants). */
static void cpu_trees(struct cpu_snapshot *s)
{
	static pid_t all[MAX_PROCS], parent[MAX_PROCS];
	size_t n_all = 0;
	DIR *dir = opendir("/proc");
	if (dir == NULL) {
		die("cannot open /proc");
	}
	struct dirent *de;
	while ((de = readdir(dir)) != NULL && n_all < MAX_PROCS) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0) {
			continue;
		}
		pid_t pp = read_ppid((pid_t)pid);
		if (pp < 0) {
			continue;
		}
		all[n_all] = (pid_t)pid;
		parent[n_all] = pp;
		n_all++;
	}
	closedir(dir);

	s->n = 0;
	pid_t self = getpid();
	for (int r = 0; r < c.n_roots; r++) {
		pid_t root = c.roots[r].pid != 0 ? c.roots[r].pid : getppid();
		size_t first = s->n;
		if (s->n < MAX_PROCS) {
			s->pid[s->n] = root;
			s->root[s->n] = r;
			s->n++;
		}
		/* breadth first over the list of processes found so far */
		for (size_t i = first; i < s->n; i++) {
			for (size_t j = 0; j < n_all && s->n < MAX_PROCS; j++) {
				if (parent[j] == s->pid[i] && all[j] != self) {
					s->pid[s->n] = all[j];
					s->root[s->n] = r;
					s->n++;
				}
			}
		}
	}
	for (size_t i = 0; i < s->n; i++) {
		s->ns[i] = process_cpu_ns(s->pid[i]);
	}
	s->self_ns = process_cpu_ns(0);
	s->wall_ns = now_ns();
}

/* Appends " cpu_NAME=X" for every root plus the total and the client: CPU ms per frame. */
static void cpu_report(const struct cpu_snapshot *start, int frames, char *buf, size_t size)
{
	static struct cpu_snapshot end;
	cpu_trees(&end);
	double per_root[MAX_CPU_ROOTS] = { 0 };
	double total = 0;
	for (size_t i = 0; i < end.n; i++) {
		if (end.ns[i] < 0) {
			continue;
		}
		int64_t before = 0;
		for (size_t j = 0; j < start->n; j++) {
			if (start->pid[j] == end.pid[i] && start->ns[j] >= 0) {
				before = start->ns[j];
				break;
			}
		}
		double ms = (double)(end.ns[i] - before) / 1e6;
		per_root[end.root[i]] += ms;
		total += ms;
	}
	double wall_ms = (double)(end.wall_ns - start->wall_ns) / 1e6;
	size_t len = strlen(buf);
	int f = frames > 0 ? frames : 1;
	for (int r = 0; r < c.n_roots && len < size; r++) {
		len += (size_t)snprintf(
			buf + len, size - len, " cpu_%s=%.3f", c.roots[r].name, per_root[r] / f);
	}
	if (len < size) {
		len += (size_t)snprintf(buf + len, size - len,
			" cpu_total=%.3f cpu_percent=%.1f cpu_client=%.3f wall_s=%.3f", total / f,
			wall_ms > 0 ? 100.0 * total / wall_ms : 0.0,
			(double)(end.self_ns - start->self_ns) / 1e6 / f, wall_ms / 1e3);
	}
}

/* ---- Wayland plumbing ---- */

static void handle_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
	.ping = handle_ping,
};

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		c.compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		c.shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		c.wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(c.wm_base, &wm_base_listener, NULL);
	} else if (strcmp(interface, wp_presentation_interface.name) == 0) {
		c.presentation = wl_registry_bind(registry, name, &wp_presentation_interface, 1);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = handle_global,
	.global_remove = handle_global_remove,
};

static void handle_xdg_surface_configure(
	void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
	xdg_surface_ack_configure(xdg_surface, serial);
	c.configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = handle_xdg_surface_configure,
};

static void handle_toplevel_configure(void *data, struct xdg_toplevel *toplevel, int32_t width,
	int32_t height, struct wl_array *states)
{
	/* the size stays WxH whatever the compositor suggests */
}

static void handle_toplevel_close(void *data, struct xdg_toplevel *toplevel)
{
	c.closed = true;
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = handle_toplevel_configure,
	.close = handle_toplevel_close,
};

static void handle_buffer_release(void *data, struct wl_buffer *wl_buffer)
{
	struct buffer *b = data;
	b->busy = false;
}

static const struct wl_buffer_listener buffer_listener = {
	.release = handle_buffer_release,
};

static void handle_frame_done(void *data, struct wl_callback *callback, uint32_t time)
{
	c.t1 = now_ns();
	c.frame_done = true;
	wl_callback_destroy(callback);
	c.frame_cb = NULL;
}

static const struct wl_callback_listener frame_listener = {
	.done = handle_frame_done,
};

static void feedback_finish(struct feedback *fb)
{
	wp_presentation_feedback_destroy(fb->wp);
	free(fb);
}

static void handle_sync_output(
	void *data, struct wp_presentation_feedback *feedback, struct wl_output *output)
{
}

static void handle_presented(void *data, struct wp_presentation_feedback *feedback,
	uint32_t tv_sec_hi, uint32_t tv_sec_lo, uint32_t tv_nsec, uint32_t refresh, uint32_t seq_hi,
	uint32_t seq_lo, uint32_t flags)
{
	struct feedback *fb = data;
	if (c.want_feedback) {
		if (c.presented == c.presented_cap) {
			c.presented_cap = c.presented_cap ? 2 * c.presented_cap : 256;
			c.presented_ms = realloc(
				c.presented_ms, sizeof(*c.presented_ms) * (size_t)c.presented_cap);
			if (c.presented_ms == NULL) {
				die("out of memory");
			}
		}
		c.presented_ms[c.presented++] = (double)(now_ns() - fb->t0) / 1e6;
	}
	feedback_finish(fb);
}

static void handle_discarded(void *data, struct wp_presentation_feedback *feedback)
{
	if (c.want_feedback) {
		c.discarded++;
	}
	feedback_finish(data);
}

static const struct wp_presentation_feedback_listener feedback_listener = {
	.sync_output = handle_sync_output,
	.presented = handle_presented,
	.discarded = handle_discarded,
};

/* Dispatches events until *flag is set or the deadline (CLOCK_MONOTONIC ns) passes. */
static bool wait_until(const bool *flag, int64_t deadline)
{
	while (true) {
		if (wl_display_dispatch_pending(c.display) < 0) {
			die("the connection to the compositor broke");
		}
		if (flag != NULL && *flag) {
			return true;
		}
		if (c.closed) {
			die("the window was closed");
		}
		int64_t left = deadline - now_ns();
		if (left <= 0) {
			return false;
		}
		while (wl_display_prepare_read(c.display) != 0) {
			if (wl_display_dispatch_pending(c.display) < 0) {
				die("the connection to the compositor broke");
			}
		}
		if (wl_display_flush(c.display) < 0 && errno != EAGAIN) {
			wl_display_cancel_read(c.display);
			die("the connection to the compositor broke");
		}
		struct pollfd pfd = { .fd = wl_display_get_fd(c.display), .events = POLLIN };
		int timeout_ms = (int)((left + 999999) / 1000000);
		int r = poll(&pfd, 1, timeout_ms);
		if (r > 0) {
			if (wl_display_read_events(c.display) < 0) {
				die("the connection to the compositor broke");
			}
		} else {
			wl_display_cancel_read(c.display);
			if (r < 0 && errno != EINTR) {
				die("poll: %s", strerror(errno));
			}
		}
	}
}

static void create_buffers(void)
{
	size_t stride = (size_t)c.width * 4;
	size_t size = stride * (size_t)c.height;
	int fd = memfd_create("bench-client", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)(size * N_BUFFERS)) < 0) {
		die("cannot create the shm file");
	}
	uint8_t *data = mmap(NULL, size * N_BUFFERS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (data == MAP_FAILED) {
		die("mmap");
	}
	struct wl_shm_pool *pool = wl_shm_create_pool(c.shm, fd, (int32_t)(size * N_BUFFERS));
	for (int i = 0; i < N_BUFFERS; i++) {
		struct buffer *b = &c.buffers[i];
		b->data = (uint32_t *)(data + size * (size_t)i);
		b->wl = wl_shm_pool_create_buffer(pool, (int32_t)(size * (size_t)i), c.width,
			c.height, (int32_t)stride, WL_SHM_FORMAT_ARGB8888);
		wl_buffer_add_listener(b->wl, &buffer_listener, b);
		for (size_t p = 0; p < size / 4; p++) {
			b->data[p] = 0xff202020u;
		}
	}
	wl_shm_pool_destroy(pool);
	close(fd);
}

static struct buffer *acquire_buffer(void)
{
	int64_t deadline = now_ns() + WAIT_TIMEOUT_NS;
	while (true) {
		for (int i = 0; i < N_BUFFERS; i++) {
			if (!c.buffers[i].busy) {
				return &c.buffers[i];
			}
		}
		/* wait for any release */
		bool never = false;
		wait_until(&never, now_ns() + 1000000);
		if (now_ns() > deadline) {
			die("no buffer released in 10 s");
		}
	}
}

/* Fresh opaque noise over the region: every byte changes, nothing compresses. */
static void draw(struct buffer *b, const struct region *r)
{
	uint64_t x = c.noise;
	for (int row = r->y; row < r->y + r->height; row++) {
		uint32_t *p = b->data + (size_t)row * (size_t)c.width + (size_t)r->x;
		int col = 0;
		for (; col + 1 < r->width; col += 2) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint64_t v = x | 0xff000000ff000000ull;
			memcpy(p + col, &v, sizeof(v));
		}
		if (col < r->width) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[col] = (uint32_t)x | 0xff000000u;
		}
	}
	c.noise = x;
}

static void submit(const struct region *r)
{
	struct buffer *b = acquire_buffer();
	draw(b, r);
	wl_surface_attach(c.surface, b->wl, 0, 0);
	wl_surface_damage_buffer(c.surface, r->x, r->y, r->width, r->height);
	c.frame_cb = wl_surface_frame(c.surface);
	wl_callback_add_listener(c.frame_cb, &frame_listener, NULL);
	struct feedback *fb = NULL;
	if (c.presentation != NULL) {
		fb = calloc(1, sizeof(*fb));
		if (fb == NULL) {
			die("out of memory");
		}
		fb->wp = wp_presentation_feedback(c.presentation, c.surface);
		wp_presentation_feedback_add_listener(fb->wp, &feedback_listener, fb);
	}
	b->busy = true;
	c.frame_done = false;
	c.t0 = now_ns();
	if (fb != NULL) {
		fb->t0 = c.t0;
	}
	wl_surface_commit(c.surface);
	if (wl_display_flush(c.display) < 0 && errno != EAGAIN) {
		die("the connection to the compositor broke");
	}
}

static void wait_frame(void)
{
	if (!wait_until(&c.frame_done, now_ns() + WAIT_TIMEOUT_NS)) {
		die("no frame callback within 10 s");
	}
}

/* ---- phases ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted array */
static double percentile(const double *v, int n, double p)
{
	if (n == 0) {
		return NAN;
	}
	int k = (int)ceil(p / 100.0 * n) - 1;
	if (k < 0) {
		k = 0;
	}
	return v[k < n ? k : n - 1];
}

static void begin_feedback(void)
{
	c.want_feedback = true;
	c.presented = 0;
	c.discarded = 0;
}

static void feedback_fields(char *buf, size_t size)
{
	size_t len = strlen(buf);
	c.want_feedback = false;
	qsort(c.presented_ms, (size_t)c.presented, sizeof(double), cmp_double);
	snprintf(buf + len, size - len, " presentation=%s presented=%d discarded=%d",
		c.presentation != NULL ? "yes" : "no", c.presented, c.discarded);
	if (c.presented > 0) {
		len = strlen(buf);
		snprintf(buf + len, size - len, " presented_p50=%.3f",
			percentile(c.presented_ms, c.presented, 50));
	}
}

static void emit(const char *line)
{
	fprintf(c.out, "%s\n", line);
	fflush(c.out);
}

static void phase_latency(
	const char *name, const struct region *r, int warmup, int frames, int64_t pause_ns)
{
	static struct cpu_snapshot start;
	double *lat = calloc((size_t)frames, sizeof(double));
	if (lat == NULL) {
		die("out of memory");
	}
	for (int i = 0; i < warmup; i++) {
		submit(r);
		wait_frame();
		sleep_ns(pause_ns);
	}
	/* let the trailing feedback of the warmup arrive before counting */
	wait_until(NULL, now_ns() + 50000000);
	begin_feedback();
	cpu_trees(&start);
	double sum = 0;
	for (int i = 0; i < frames; i++) {
		submit(r);
		wait_frame();
		lat[i] = (double)(c.t1 - c.t0) / 1e6;
		sum += lat[i];
		sleep_ns(pause_ns);
		wait_until(NULL, now_ns()); /* releases, feedback */
	}
	char line[1024];
	qsort(lat, (size_t)frames, sizeof(double), cmp_double);
	snprintf(line, sizeof(line),
		"phase=%s damage=%dx%d frames=%d p50=%.3f p90=%.3f p99=%.3f max=%.3f mean=%.3f",
		name, r->width, r->height, frames, percentile(lat, frames, 50),
		percentile(lat, frames, 90), percentile(lat, frames, 99), lat[frames - 1],
		sum / frames);
	cpu_report(&start, frames, line, sizeof(line));
	wait_until(NULL, now_ns() + 50000000);
	feedback_fields(line, sizeof(line));
	emit(line);
	free(lat);
}

static void phase_throughput(const char *name, const struct region *r, int warmup, double seconds)
{
	static struct cpu_snapshot start;
	for (int i = 0; i < warmup; i++) {
		submit(r);
		wait_frame();
	}
	begin_feedback();
	cpu_trees(&start);
	int64_t t_start = now_ns(), t_end = t_start + (int64_t)(seconds * 1e9);
	int frames = 0;
	while (now_ns() < t_end) {
		submit(r);
		wait_frame();
		frames++;
	}
	int64_t elapsed = now_ns() - t_start;
	char line[1024];
	snprintf(line, sizeof(line), "phase=%s damage=%dx%d frames=%d fps=%.1f", name, r->width,
		r->height, frames, frames / ((double)elapsed / 1e9));
	cpu_report(&start, frames, line, sizeof(line));
	wait_until(NULL, now_ns() + 50000000);
	feedback_fields(line, sizeof(line));
	emit(line);
}

static void phase_paced(const char *name, const struct region *r, double hz, double seconds)
{
	static struct cpu_snapshot start;
	int64_t period = (int64_t)(1e9 / hz);
	begin_feedback();
	cpu_trees(&start);
	int64_t t_start = now_ns(), next = t_start;
	int ticks = (int)(seconds * hz), frames = 0, missed = 0;
	c.frame_done = true;
	for (int i = 0; i < ticks; i++) {
		if (c.frame_done) {
			submit(r);
			frames++;
		} else {
			missed++;
		}
		next += period;
		wait_until(NULL, next);
	}
	char line[1024];
	snprintf(line, sizeof(line), "phase=%s damage=%dx%d hz=%.1f frames=%d missed=%d", name,
		r->width, r->height, hz, frames, missed);
	cpu_report(&start, frames, line, sizeof(line));
	wait_frame();
	wait_until(NULL, now_ns() + 50000000);
	feedback_fields(line, sizeof(line));
	emit(line);
}

/* One WxH ARGB copy, as a yardstick for the forwarding copy: the source
 * was just written (like a client's buffer), the destination is cold. */
static void phase_copy_ref(const char *name, int rounds)
{
	enum { N = 4 };
	size_t size = (size_t)c.width * (size_t)c.height * 4;
	uint8_t *src[N], *dst[N];
	for (int i = 0; i < N; i++) {
		src[i] = mmap(
			NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		dst[i] = mmap(
			NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (src[i] == MAP_FAILED || dst[i] == MAP_FAILED) {
			die("mmap");
		}
		memset(dst[i], 0, size);
	}
	double *ms = calloc((size_t)rounds, sizeof(double));
	if (ms == NULL) {
		die("out of memory");
	}
	for (int r = 0; r < rounds; r++) {
		memset(src[r % N], r & 0xff, size);
		int64_t t0 = now_ns();
		memcpy(dst[r % N], src[r % N], size);
		ms[r] = (double)(now_ns() - t0) / 1e6;
	}
	qsort(ms, (size_t)rounds, sizeof(double), cmp_double);
	char line[256];
	snprintf(line, sizeof(line), "phase=%s size=%dx%d rounds=%d p50=%.3f min=%.3f", name,
		c.width, c.height, rounds, percentile(ms, rounds, 50), ms[0]);
	emit(line);
	free(ms);
	for (int i = 0; i < N; i++) {
		munmap(src[i], size);
		munmap(dst[i], size);
	}
}

/* ---- main ---- */

static bool parse_size(const char *s, int *w, int *h)
{
	char *end;
	long x = strtol(s, &end, 10);
	if (*end != 'x' || x < 1 || x > 8192) {
		return false;
	}
	long y = strtol(end + 1, &end, 10);
	if (*end != '\0' || y < 1 || y > 8192) {
		return false;
	}
	*w = (int)x;
	*h = (int)y;
	return true;
}

static void add_cpu_root(const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(c.roots[0].name) ||
		c.n_roots == MAX_CPU_ROOTS) {
		die("bad --cpu %s (NAME=PID or NAME=parent)", arg);
	}
	struct cpu_root *root = &c.roots[c.n_roots++];
	memcpy(root->name, arg, (size_t)(eq - arg));
	root->name[eq - arg] = '\0';
	if (strcmp(eq + 1, "parent") == 0) {
		root->pid = 0;
	} else {
		char *end;
		long pid = strtol(eq + 1, &end, 10);
		if (*end != '\0' || pid <= 0) {
			die("bad --cpu %s (NAME=PID or NAME=parent)", arg);
		}
		root->pid = (pid_t)pid;
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-client [--size WxH] [--partial WxH] [--frames N] [--warmup N]\n"
		"                    [--seconds S] [--pause-ms MS] [--hz HZ] [--paced-seconds S]\n"
		"                    [--phases LIST] [--cpu NAME=PID|parent]... [--output FILE]\n"
		"phases: latency-full,throughput-full,latency-partial,throughput-partial,"
		"paced-full,copy-ref\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	int pw = 256, ph = 256, frames = 200, warmup = 10;
	double seconds = 2.0, hz = 60.0, paced_seconds = 5.0, pause_ms = 20.0;
	const char *phases = "latency-full,throughput-full,latency-partial,throughput-partial";
	const char *output = NULL;
	c.width = 1920;
	c.height = 1080;
	c.noise = 0x9e3779b97f4a7c15ull;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage();
		}
		if (v == NULL) {
			usage();
		}
		i++;
		if (strcmp(a, "--size") == 0) {
			if (!parse_size(v, &c.width, &c.height)) {
				usage();
			}
		} else if (strcmp(a, "--partial") == 0) {
			if (!parse_size(v, &pw, &ph)) {
				usage();
			}
		} else if (strcmp(a, "--frames") == 0) {
			frames = atoi(v);
		} else if (strcmp(a, "--warmup") == 0) {
			warmup = atoi(v);
		} else if (strcmp(a, "--seconds") == 0) {
			seconds = atof(v);
		} else if (strcmp(a, "--pause-ms") == 0) {
			pause_ms = atof(v);
		} else if (strcmp(a, "--hz") == 0) {
			hz = atof(v);
		} else if (strcmp(a, "--paced-seconds") == 0) {
			paced_seconds = atof(v);
		} else if (strcmp(a, "--phases") == 0) {
			phases = v;
		} else if (strcmp(a, "--cpu") == 0) {
			add_cpu_root(v);
		} else if (strcmp(a, "--output") == 0) {
			output = v;
		} else {
			usage();
		}
	}
	if (frames < 1 || warmup < 0 || seconds <= 0 || hz <= 0 || paced_seconds <= 0 ||
		pause_ms < 0 || pw > c.width || ph > c.height) {
		usage();
	}
	c.out = stdout;
	if (output != NULL && (c.out = fopen(output, "a")) == NULL) {
		die("cannot open %s", output);
	}

	c.display = wl_display_connect(NULL);
	if (c.display == NULL) {
		die("cannot connect to the Wayland display");
	}
	struct wl_registry *registry = wl_display_get_registry(c.display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	wl_display_roundtrip(c.display);
	if (c.compositor == NULL || c.shm == NULL || c.wm_base == NULL) {
		die("the compositor lacks wl_compositor, wl_shm or xdg_wm_base");
	}

	c.surface = wl_compositor_create_surface(c.compositor);
	c.xdg_surface = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
	xdg_surface_add_listener(c.xdg_surface, &xdg_surface_listener, NULL);
	c.toplevel = xdg_surface_get_toplevel(c.xdg_surface);
	xdg_toplevel_add_listener(c.toplevel, &toplevel_listener, NULL);
	xdg_toplevel_set_title(c.toplevel, "bench-client");
	xdg_toplevel_set_app_id(c.toplevel, "vitrail-bench");
	wl_surface_commit(c.surface);
	if (!wait_until(&c.configured, now_ns() + WAIT_TIMEOUT_NS)) {
		die("no configure within 10 s");
	}
	create_buffers();

	/* map: the first frame, then wait until it is shown */
	struct region full = { 0, 0, c.width, c.height };
	struct region part = { (c.width - pw) / 2, (c.height - ph) / 2, pw, ph };
	submit(&full);
	wait_frame();
	fprintf(c.out, "client size=%dx%d presentation=%s\n", c.width, c.height,
		c.presentation != NULL ? "yes" : "no");

	int64_t pause_ns = (int64_t)(pause_ms * 1e6);
	char *list = strdup(phases);
	if (list == NULL) {
		die("out of memory");
	}
	char *save = NULL;
	for (char *p = strtok_r(list, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
		if (strcmp(p, "latency-full") == 0) {
			phase_latency(p, &full, warmup, frames, pause_ns);
		} else if (strcmp(p, "latency-partial") == 0) {
			phase_latency(p, &part, warmup, frames, pause_ns);
		} else if (strcmp(p, "throughput-full") == 0) {
			phase_throughput(p, &full, warmup, seconds);
		} else if (strcmp(p, "throughput-partial") == 0) {
			phase_throughput(p, &part, warmup, seconds);
		} else if (strcmp(p, "paced-full") == 0) {
			phase_paced(p, &full, hz, paced_seconds);
		} else if (strcmp(p, "copy-ref") == 0) {
			phase_copy_ref(p, 40);
		} else {
			die("unknown phase %s", p);
		}
	}
	free(list);
	fprintf(c.out, "end\n");
	fflush(c.out);
	if (c.out != stdout) {
		fclose(c.out);
	}
	wl_display_disconnect(c.display);
	return 0;
}
