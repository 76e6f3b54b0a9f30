/*
 * fake-guest: a scripted guest speaking the vitrail protocol, without
 * wlroots, for end-to-end tests of the host.
 *
 *   fake-guest --socket PATH [--script FILE] [--no-hello] [--timeout SEC]
 *
 * Commands come from FILE or stdin, one per line ('#' starts a comment).
 * Every message from the host is printed as one line on stdout (flushed),
 * so tests can assert on it. See usage_text for the commands and events.
 *
 * Exit status: 0 when the script ran to its end (or "hold" /
 * "expect-disconnect" saw the host disconnect), 1 on a failed command, a
 * timeout or an unexpected disconnect, 2 on a usage error.
 */
#include <vitrail/protocol.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: fake-guest --socket PATH [--script FILE] [--no-hello] [--timeout SEC]\n"
	"\n"
	"commands (from FILE or stdin):\n"
	"  hello                        handshake (done at start unless --no-hello)\n"
	"  window ID WxH                create a toplevel\n"
	"  popup ID PARENT X Y WxH      create a popup at parent-local X,Y\n"
	"  fill ID RRGGBB               paint the whole window, attach, damage all, commit\n"
	"  rect ID X Y W H RRGGBB       paint a rectangle, damage just it, commit\n"
	"  title ID TEXT                set the title\n"
	"  app-id ID TEXT               set the app id\n"
	"  title-hex ID HEX             set the title to raw bytes\n"
	"  title-fill ID N              set a title of N 'x' bytes\n"
	"  fullscreen ID 0|1            request fullscreen\n"
	"  maximize ID 0|1              request maximize\n"
	"  destroy ID                   destroy a window (sent even for unknown ids)\n"
	"  attach-raw ID OFFSET W H STRIDE [FORMAT]  ATTACH with any values (OFFSET may be\n"
	"                               end-N: N bytes before the pool's end), then commit\n"
	"  msg TYPE OBJECT [HEX]        a message with a correct header and any body\n"
	"  apps-begin SERIAL|last N     APP_LIST_BEGIN (last: the last APPS_REQUEST's serial)\n"
	"  app-info INDEX F1|F2|..|F6   APP_INFO with these six strings ('|' separates them)\n"
	"  app-icon INDEX SIZE RRGGBBAA [BYTES]  APP_ICON of one color (BYTES: tail length)\n"
	"  apps-end SERIAL|last         APP_LIST_END\n"
	"  run-result ID|last KIND STATUS  RUN_RESULT (last: the last LAUNCH_APP's id)\n"
	"  raw HEX...                   arbitrary bytes\n"
	"  wait-frame ID                wait for FRAME_DONE of the last commit\n"
	"  wait TEXT                    wait for an event line starting with TEXT\n"
	"  expect-close [ID]            wait for a CLOSE\n"
	"  expect-disconnect            wait until the host disconnects, then exit 0\n"
	"  sleep MS                     sleep, still handling events\n"
	"  echo TEXT                    print TEXT\n"
	"  hold                         print events until the host disconnects or a signal\n"
	"  quit                         close the connection and exit 0\n"
	"\n"
	"events on stdout:\n"
	"  welcome NAME POOLSIZE, output-info W H SCALE MHZ, keymap BYTES,\n"
	"  repeat-info RATE DELAY, configure ID W H STATES, close ID, popup-done ID,\n"
	"  window-scale ID SCALE,\n"
	"  frame-done ID SERIAL, release ID BUFFER, pointer-enter ID X Y,\n"
	"  pointer-leave ID, pointer-motion ID X Y, button ID BTN STATE,\n"
	"  axis ID AXIS VALUE, keyboard-enter ID, keyboard-leave ID,\n"
	"  key ID KEYCODE STATE, modifiers ID DEPRESSED LATCHED LOCKED GROUP,\n"
	"  ping SERIAL, error CODE TEXT, apps-request SERIAL, launch-app ID DESKTOP-ID,\n"
	"  open-result ID CODE TEXT,\n"
	"  event TYPE ID, disconnected REASON\n";

#define BUFFERS_PER_WINDOW 2
#define MAX_EVENT_LINES 100000

struct buffer {
	uint32_t id;
	uint64_t offset, size;
	bool allocated;
	bool busy; /* attached and not yet released */
};

struct window {
	uint32_t id;
	uint32_t width, height;
	uint32_t *pixels; /* the window's content, copied into a free buffer on commit */
	struct buffer buffers[BUFFERS_PER_WINDOW];
	uint32_t commit_serial; /* of the last commit */
	uint32_t done_serial; /* of the last FRAME_DONE */
	unsigned closes; /* CLOSE events received */
	struct window *next;
};

struct guest {
	int fd;
	bool connected, welcomed;
	uint32_t version; /* from WELCOME */
	struct vtp_stream in;
	struct vtp_outq out;
	struct vtp_decoder dec;
	uint8_t *pool;
	uint64_t pool_size;
	struct vtp_alloc alloc;
	bool alloc_ready;
	struct window *windows;
	uint32_t next_buffer_id;
	uint32_t next_serial;
	unsigned closes, closes_seen;
	char reason[VTP_MAX_ERROR_TEXT + 64];
	int timeout_ms;
	uint32_t apps_serial; /* of the last APPS_REQUEST */
	uint32_t launch_id; /* of the last LAUNCH_APP */
	/* event lines, for "wait" */
	char **events;
	size_t n_events, cap_events, events_seen;
};

static struct guest guest = { .fd = -1, .timeout_ms = 10000 };

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list args;
	fflush(stdout);
	fprintf(stderr, "fake-guest: ");
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fprintf(stderr, "\n");
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Print one event line, flush it, and keep it for "wait". */
__attribute__((format(printf, 1, 2))) static void emit(const char *fmt, ...)
{
	char line[2048];
	va_list args;
	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	printf("%s\n", line);
	fflush(stdout);
	struct guest *g = &guest;
	if (g->n_events >= MAX_EVENT_LINES) {
		return;
	}
	if (g->n_events == g->cap_events) {
		size_t cap = g->cap_events ? g->cap_events * 2 : 64;
		char **e = realloc(g->events, cap * sizeof(*e));
		if (e == NULL) {
			die("out of memory");
		}
		g->events = e;
		g->cap_events = cap;
	}
	g->events[g->n_events] = strdup(line);
	if (g->events[g->n_events] == NULL) {
		die("out of memory");
	}
	g->n_events++;
}

/* wl_fixed_t as text: "12" or "12.5". */
static const char *fixed_str(int32_t v, char *buf, size_t n)
{
	if (v % 256 == 0) {
		snprintf(buf, n, "%d", v / 256);
	} else {
		snprintf(buf, n, "%.3f", v / 256.0);
	}
	return buf;
}

static struct window *find_window(uint32_t id)
{
	for (struct window *w = guest.windows; w != NULL; w = w->next) {
		if (w->id == id) {
			return w;
		}
	}
	return NULL;
}

static void disconnect(const char *reason)
{
	struct guest *g = &guest;
	if (!g->connected) {
		return;
	}
	g->connected = false;
	if (g->reason[0] == '\0') {
		snprintf(g->reason, sizeof(g->reason), "%s", reason);
	}
	emit("disconnected %s", g->reason);
	close(g->fd);
	g->fd = -1;
}

static const char *states_str(uint32_t states, char *buf, size_t n)
{
	static const char *const names[] = { "activated", "maximized", "fullscreen", "resizing" };
	buf[0] = '\0';
	for (int i = 0; i < 4; i++) {
		if (states & (1u << i)) {
			if (buf[0] != '\0') {
				strncat(buf, ",", n - strlen(buf) - 1);
			}
			strncat(buf, names[i], n - strlen(buf) - 1);
		}
	}
	if (buf[0] == '\0') {
		snprintf(buf, n, "none");
	}
	return buf;
}

static void queue_msg(
	uint16_t type, uint32_t object, const void *body, const void *tail, uint32_t tail_len)
{
	struct guest *g = &guest;
	if (!g->connected) {
		die("not connected");
	}
	if (!vtp_outq_push(&g->out, type, object, body, tail, tail_len)) {
		die("output queue full: the host does not read");
	}
}

static void handle_welcome(struct vtp_msg *m)
{
	struct guest *g = &guest;
	const struct vtp_welcome *w = &m->body.welcome;
	int pool_fd = g->in.pending_fd;
	g->in.pending_fd = -1;
	if (w->pool_kind != VTP_POOL_MEMFD) {
		die("WELCOME with pool kind %u; only memfd pools are supported", w->pool_kind);
	}
	if (pool_fd < 0) {
		die("WELCOME came without a pool fd");
	}
	void *pool = mmap(NULL, w->pool_size, PROT_READ | PROT_WRITE, MAP_SHARED, pool_fd, 0);
	close(pool_fd);
	if (pool == MAP_FAILED) {
		die("mmap of the pool (%" PRIu64 " bytes): %s", w->pool_size, strerror(errno));
	}
	g->pool = pool;
	g->pool_size = w->pool_size;
	if (!vtp_alloc_init(&g->alloc, g->pool_size)) {
		die("cannot set up the pool allocator");
	}
	g->alloc_ready = true;
	g->welcomed = true;
	g->version = w->version;
	g->dec.version = w->version; /* messages of later versions decode */
	emit("welcome %s %" PRIu64, m->tail ? (const char *)m->tail : "", w->pool_size);
}

static void handle_msg(struct vtp_msg *m)
{
	struct guest *g = &guest;
	uint32_t id = m->header.object;
	struct window *w = find_window(id);
	char a[32], b[32], s[64];

	if (!g->welcomed && m->header.type != VTP_WELCOME && m->header.type != VTP_ERROR) {
		emit("event %s %u (before WELCOME)", vtp_type_name(m->header.type), id);
		return;
	}
	switch (m->header.type) {
	case VTP_WELCOME:
		if (g->welcomed) {
			die("second WELCOME");
		}
		handle_welcome(m);
		break;
	case VTP_PING: {
		emit("ping %u", m->body.ping.serial);
		struct vtp_ping pong = { .serial = m->body.ping.serial };
		queue_msg(VTP_PONG, 0, &pong, NULL, 0);
		break;
	}
	case VTP_ERROR:
		snprintf(g->reason, sizeof(g->reason), "error %u %s", m->body.error.code,
			m->tail ? (const char *)m->tail : "");
		emit("error %u %s", m->body.error.code, m->tail ? (const char *)m->tail : "");
		break;
	case VTP_OUTPUT_INFO:
		emit("output-info %u %u %u %u", m->body.output_info.width,
			m->body.output_info.height, m->body.output_info.scale,
			m->body.output_info.refresh_mhz);
		break;
	case VTP_KEYMAP:
		emit("keymap %u", m->tail_len);
		break;
	case VTP_REPEAT_INFO:
		emit("repeat-info %d %d", m->body.repeat_info.rate, m->body.repeat_info.delay);
		break;
	case VTP_CONFIGURE: {
		const struct vtp_configure *c = &m->body.configure;
		emit("configure %u %u %u %s", id, c->width, c->height,
			states_str(c->states, s, sizeof(s)));
		if (w != NULL) {
			struct vtp_ack_configure ack = { .serial = c->serial };
			queue_msg(VTP_ACK_CONFIGURE, id, &ack, NULL, 0);
		}
		break;
	}
	case VTP_CLOSE:
		g->closes++;
		if (w != NULL) {
			w->closes++;
		}
		emit("close %u", id);
		break;
	case VTP_POPUP_DONE:
		emit("popup-done %u", id);
		break;
	case VTP_WINDOW_SCALE:
		emit("window-scale %u %u", id, m->body.window_scale.scale);
		break;
	case VTP_FRAME_DONE:
		if (w != NULL) {
			w->done_serial = m->body.frame_done.commit_serial;
		}
		emit("frame-done %u %u", id, m->body.frame_done.commit_serial);
		break;
	case VTP_RELEASE:
		if (w != NULL) {
			for (int i = 0; i < BUFFERS_PER_WINDOW; i++) {
				if (w->buffers[i].id == m->body.release.buffer_id) {
					w->buffers[i].busy = false;
				}
			}
		}
		emit("release %u %u", id, m->body.release.buffer_id);
		break;
	case VTP_POINTER_ENTER:
		emit("pointer-enter %u %s %s", id, fixed_str(m->body.pointer_enter.x, a, sizeof(a)),
			fixed_str(m->body.pointer_enter.y, b, sizeof(b)));
		break;
	case VTP_POINTER_LEAVE:
		emit("pointer-leave %u", id);
		break;
	case VTP_POINTER_MOTION:
		emit("pointer-motion %u %s %s", id,
			fixed_str(m->body.pointer_motion.x, a, sizeof(a)),
			fixed_str(m->body.pointer_motion.y, b, sizeof(b)));
		break;
	case VTP_POINTER_BUTTON:
		emit("button %u %u %u", id, m->body.pointer_button.button,
			m->body.pointer_button.state);
		break;
	case VTP_POINTER_AXIS:
		emit("axis %u %u %s", id, m->body.pointer_axis.axis,
			fixed_str(m->body.pointer_axis.value, a, sizeof(a)));
		break;
	case VTP_KEYBOARD_ENTER:
		emit("keyboard-enter %u", id);
		break;
	case VTP_KEYBOARD_LEAVE:
		emit("keyboard-leave %u", id);
		break;
	case VTP_KEY:
		emit("key %u %u %u", id, m->body.key.key, m->body.key.state);
		break;
	case VTP_MODIFIERS:
		emit("modifiers %u %u %u %u %u", id, m->body.modifiers.depressed,
			m->body.modifiers.latched, m->body.modifiers.locked,
			m->body.modifiers.group);
		break;
	case VTP_APPS_REQUEST:
		g->apps_serial = m->body.apps_request.serial;
		emit("apps-request %u", g->apps_serial);
		break;
	case VTP_OPEN_RESULT:
		emit("open-result %u %u %s", m->body.result.request_id, m->body.result.code,
			m->tail ? (const char *)m->tail : "");
		break;
	case VTP_LAUNCH_APP:
		g->launch_id = m->body.launch.request_id;
		emit("launch-app %u %s", g->launch_id, m->tail ? (const char *)m->tail : "");
		break;
	default:
		emit("event %s %u", vtp_type_name(m->header.type), id);
		break;
	}
}

/* Read and handle what the host sent, waiting at most timeout_ms for it. */
static void pump(int timeout_ms)
{
	struct guest *g = &guest;
	if (!g->connected) {
		if (timeout_ms > 0) {
			poll(NULL, 0, timeout_ms);
		}
		return;
	}
	struct pollfd p = { .fd = g->fd, .events = POLLIN };
	if (!vtp_outq_empty(&g->out)) {
		p.events |= POLLOUT;
	}
	int r = poll(&p, 1, timeout_ms);
	if (r < 0) {
		if (errno == EINTR) {
			return;
		}
		die("poll: %s", strerror(errno));
	}
	if (p.revents & POLLOUT) {
		if (vtp_outq_flush(&g->out, g->fd) != VTP_OK) {
			/* the host may have closed after an ERROR: read that first */
			p.revents |= POLLIN;
		}
	}
	if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) {
		return;
	}
	bool eof = false;
	enum vtp_status st = vtp_stream_read(&g->in, g->fd, true, &eof);
	bool failed = st != VTP_OK;
	for (;;) {
		struct vtp_msg m;
		bool have = false;
		enum vtp_status nst = vtp_stream_next(&g->in, &g->dec, &m, &have);
		if (nst != VTP_OK) {
			emit("bad-message %s", vtp_status_str(nst));
			disconnect("bad message from host");
			return;
		}
		if (!have) {
			break;
		}
		handle_msg(&m);
		if (m.header.type == VTP_WELCOME) {
			g->dec.pool_size = g->pool_size;
		}
		vtp_msg_finish(&m);
	}
	if (g->welcomed && g->in.pending_fd >= 0) {
		close(g->in.pending_fd);
		g->in.pending_fd = -1;
	}
	if (failed) {
		disconnect(eof ? "eof" : vtp_status_str(st));
	}
}

/* Send everything queued, handling events meanwhile. */
static void flush_out(void)
{
	struct guest *g = &guest;
	int64_t deadline = now_ms() + g->timeout_ms;
	while (g->connected && !vtp_outq_empty(&g->out)) {
		if (vtp_outq_flush(&g->out, g->fd) != VTP_OK) {
			pump(0);
			disconnect("write failed");
			return;
		}
		if (vtp_outq_empty(&g->out)) {
			break;
		}
		if (now_ms() > deadline) {
			die("timeout: the host does not read");
		}
		pump(50);
	}
}

static void send_msg(
	uint16_t type, uint32_t object, const void *body, const void *tail, uint32_t tail_len)
{
	queue_msg(type, object, body, tail, tail_len);
	flush_out();
}

static void send_raw(const uint8_t *data, size_t len)
{
	struct guest *g = &guest;
	flush_out();
	if (!g->connected) {
		die("not connected");
	}
	int64_t deadline = now_ms() + g->timeout_ms;
	while (len > 0) {
		ssize_t n = send(g->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (now_ms() > deadline) {
					die("timeout: the host does not read");
				}
				pump(50);
				if (!g->connected) {
					return;
				}
				continue;
			}
			pump(0);
			disconnect("write failed");
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

typedef bool (*condition_fn)(const void *arg);

/* Handle events until cond holds; die with what after the timeout. */
static void wait_for(condition_fn cond, const void *arg, const char *what)
{
	struct guest *g = &guest;
	int64_t deadline = now_ms() + g->timeout_ms;
	while (!cond(arg)) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			die("timeout after %d ms waiting for %s", g->timeout_ms, what);
		}
		if (!g->connected) {
			die("disconnected (%s) while waiting for %s", g->reason, what);
		}
		pump(left > 100 ? 100 : (int)left);
	}
}

static bool is_welcomed(const void *arg)
{
	return guest.welcomed;
}

static void do_hello(void)
{
	struct vtp_hello hello = { .version_min = VTP_VERSION_MIN, .version_max = VTP_VERSION_MAX };
	static const char name[] = "fake-guest";
	send_msg(VTP_HELLO, 0, &hello, name, sizeof(name) - 1);
	wait_for(is_welcomed, NULL, "WELCOME");
}

static void connect_socket(const char *path)
{
	struct guest *g = &guest;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		die("socket path too long");
	}
	strcpy(addr.sun_path, path);
	g->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g->fd < 0) {
		die("socket: %s", strerror(errno));
	}
	/* The host may not listen yet: retry until the timeout. */
	int64_t deadline = now_ms() + g->timeout_ms;
	while (connect(g->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		if ((errno != ENOENT && errno != ECONNREFUSED) || now_ms() > deadline) {
			die("connect %s: %s", path, strerror(errno));
		}
		poll(NULL, 0, 50);
	}
	int flags = fcntl(g->fd, F_GETFL);
	if (flags < 0 || fcntl(g->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		die("fcntl: %s", strerror(errno));
	}
	g->connected = true;
}

/* ---- parsing helpers ---- */

static uint32_t parse_u32(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (s[0] == '-' || errno != 0 || end == s || *end != '\0' || v > UINT32_MAX) {
		die("bad %s '%s'", what, s);
	}
	return (uint32_t)v;
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (s[0] == '-' || errno != 0 || end == s || *end != '\0') {
		die("bad %s '%s'", what, s);
	}
	return v;
}

/* A pool offset: a number, or "end-N" for N bytes before the end of the pool. */
static uint64_t parse_offset(const char *s)
{
	if (strncmp(s, "end-", 4) == 0) {
		uint64_t back = parse_u64(s + 4, "offset");
		if (back > guest.pool_size) {
			die("offset '%s' before the start of the pool", s);
		}
		return guest.pool_size - back;
	}
	return parse_u64(s, "offset");
}

static int32_t parse_i32(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v < INT32_MIN || v > INT32_MAX) {
		die("bad %s '%s'", what, s);
	}
	return (int32_t)v;
}

static void parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	char *x = strchr(buf, 'x');
	if (x == NULL) {
		die("bad size '%s' (want WxH)", s);
	}
	*x = '\0';
	*w = parse_u32(buf, "width");
	*h = parse_u32(x + 1, "height");
}

static uint32_t parse_color(const char *s)
{
	if (s[0] == '#') {
		s++;
	}
	if (strlen(s) != 6) {
		die("bad color '%s' (want RRGGBB)", s);
	}
	char *end;
	unsigned long v = strtoul(s, &end, 16);
	if (*end != '\0') {
		die("bad color '%s'", s);
	}
	return 0xff000000u | (uint32_t)v;
}

/* Hex bytes, spaces allowed between them. Returns a malloc'd buffer. */
static uint8_t *parse_hex(const char *s, size_t *len)
{
	uint8_t *out = malloc(strlen(s) / 2 + 1);
	size_t n = 0;
	int nibble = -1;
	if (out == NULL) {
		die("out of memory");
	}
	for (; *s != '\0'; s++) {
		int d;
		if (*s == ' ' || *s == '\t') {
			if (nibble >= 0) {
				die("odd number of hex digits");
			}
			continue;
		} else if (*s >= '0' && *s <= '9') {
			d = *s - '0';
		} else if (*s >= 'a' && *s <= 'f') {
			d = *s - 'a' + 10;
		} else if (*s >= 'A' && *s <= 'F') {
			d = *s - 'A' + 10;
		} else {
			die("bad hex digit '%c'", *s);
		}
		if (nibble < 0) {
			nibble = d;
		} else {
			out[n++] = (uint8_t)(nibble << 4 | d);
			nibble = -1;
		}
	}
	if (nibble >= 0) {
		die("odd number of hex digits");
	}
	*len = n;
	return out;
}

/* ---- windows ---- */

static struct window *get_window(const char *id_str)
{
	uint32_t id = parse_u32(id_str, "window id");
	struct window *w = find_window(id);
	if (w == NULL) {
		die("no window %u", id);
	}
	return w;
}

static void create_window(
	uint32_t id, uint32_t width, uint32_t height, const struct vtp_window_create *create)
{
	struct guest *g = &guest;
	if (!g->welcomed) {
		die("window before WELCOME");
	}
	if (find_window(id) != NULL) {
		die("window %u exists", id);
	}
	if (width == 0 || height == 0 || width > VTP_MAX_DIM || height > VTP_MAX_DIM) {
		die("bad window size %ux%u", width, height);
	}
	struct window *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		die("out of memory");
	}
	w->id = id;
	w->width = width;
	w->height = height;
	w->pixels = calloc((size_t)width * height, 4);
	if (w->pixels == NULL) {
		die("out of memory");
	}
	for (size_t i = 0; i < (size_t)width * height; i++) {
		w->pixels[i] = 0xff000000u;
	}
	uint64_t size = (uint64_t)width * 4 * height;
	for (int i = 0; i < BUFFERS_PER_WINDOW; i++) {
		struct buffer *b = &w->buffers[i];
		if (!vtp_alloc_get(&g->alloc, size, &b->offset)) {
			die("pool full: no room for a %ux%u buffer", width, height);
		}
		b->size = size;
		b->allocated = true;
		b->id = ++g->next_buffer_id;
	}
	w->next = g->windows;
	g->windows = w;
	send_msg(VTP_WINDOW_CREATE, id, create, NULL, 0);
}

static void destroy_window(uint32_t id)
{
	struct guest *g = &guest;
	for (struct window **link = &g->windows; *link != NULL; link = &(*link)->next) {
		struct window *w = *link;
		if (w->id != id) {
			continue;
		}
		*link = w->next;
		send_msg(VTP_WINDOW_DESTROY, id, NULL, NULL, 0);
		for (int i = 0; i < BUFFERS_PER_WINDOW; i++) {
			if (w->buffers[i].allocated) {
				vtp_alloc_put(&g->alloc, w->buffers[i].offset, w->buffers[i].size);
			}
		}
		free(w->pixels);
		free(w);
		return;
	}
	send_msg(VTP_WINDOW_DESTROY, id, NULL, NULL, 0);
}

static bool has_free_buffer(const void *arg)
{
	const struct window *w = arg;
	for (int i = 0; i < BUFFERS_PER_WINDOW; i++) {
		if (!w->buffers[i].busy) {
			return true;
		}
	}
	return false;
}

/* Copy the window's pixels into a free buffer; attach, damage rect, commit. */
static void commit_window(struct window *w, const struct vtp_rect *damage)
{
	struct guest *g = &guest;
	wait_for(has_free_buffer, w, "a released buffer");
	struct buffer *b = NULL;
	for (int i = 0; i < BUFFERS_PER_WINDOW; i++) {
		if (!w->buffers[i].busy) {
			b = &w->buffers[i];
			break;
		}
	}
	memcpy(g->pool + b->offset, w->pixels, b->size);
	struct vtp_attach attach = {
		.offset = b->offset,
		.buffer_id = b->id,
		.width = w->width,
		.height = w->height,
		.stride = w->width * 4,
		.format = VTP_FORMAT_XRGB8888,
		.scale = g->version >= 4 ? 1 : 0,
	};
	b->busy = true;
	struct vtp_commit commit = { .serial = ++g->next_serial };
	w->commit_serial = commit.serial;
	queue_msg(VTP_ATTACH, w->id, &attach, NULL, 0);
	queue_msg(VTP_DAMAGE, w->id, NULL, damage, sizeof(*damage));
	queue_msg(VTP_COMMIT, w->id, &commit, NULL, 0);
	flush_out();
}

static bool frame_done(const void *arg)
{
	const struct window *w = arg;
	return w->done_serial == w->commit_serial;
}

static bool close_received(const void *arg)
{
	const struct window *w = arg;
	if (w != NULL) {
		return w->closes > 0;
	}
	return guest.closes > guest.closes_seen;
}

static bool is_disconnected(const void *arg)
{
	return !guest.connected;
}

static bool event_seen(const void *arg)
{
	const char *prefix = arg;
	struct guest *g = &guest;
	for (; g->events_seen < g->n_events; g->events_seen++) {
		if (strncmp(g->events[g->events_seen], prefix, strlen(prefix)) == 0) {
			g->events_seen++;
			return true;
		}
	}
	return false;
}

/* ---- commands ---- */

#define MAX_ARGS 16

/* Split line into words; the last word may be "the rest of the line" (rest_from). */
static int split_words(char *line, char **argv, int rest_from)
{
	int argc = 0;
	char *p = line;
	while (argc < MAX_ARGS) {
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		if (*p == '\0') {
			break;
		}
		if (argc == rest_from) {
			argv[argc++] = p;
			break;
		}
		argv[argc++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			p++;
		}
		if (*p != '\0') {
			*p++ = '\0';
		}
	}
	return argc;
}

static void need_args(int argc, int want, const char *usage)
{
	if (argc != want) {
		die("usage: %s", usage);
	}
}

/* Returns false when the program should exit (status in *status). */
static bool run_command(char *line, int *status)
{
	struct guest *g = &guest;
	char *argv[MAX_ARGS];
	char first[32];
	/* first word decides how many words to split before "the rest" */
	sscanf(line, "%31s", first);
	int rest_from = -1;
	if (strcmp(first, "title") == 0 || strcmp(first, "app-id") == 0) {
		rest_from = 2;
	} else if (strcmp(first, "echo") == 0 || strcmp(first, "wait") == 0 ||
		strcmp(first, "raw") == 0) {
		rest_from = 1;
	} else if (strcmp(first, "msg") == 0) {
		rest_from = 3;
	} else if (strcmp(first, "app-info") == 0) {
		rest_from = 2;
	}
	int argc = split_words(line, argv, rest_from);
	const char *cmd = argv[0];

	if (strcmp(cmd, "hello") == 0) {
		need_args(argc, 1, "hello");
		do_hello();
	} else if (strcmp(cmd, "window") == 0) {
		need_args(argc, 3, "window ID WxH");
		uint32_t id = parse_u32(argv[1], "window id"), w, h;
		parse_size(argv[2], &w, &h);
		struct vtp_window_create c = {
			.kind = VTP_WINDOW_TOPLEVEL, .width = w, .height = h
		};
		create_window(id, w, h, &c);
	} else if (strcmp(cmd, "popup") == 0) {
		need_args(argc, 6, "popup ID PARENT X Y WxH");
		uint32_t id = parse_u32(argv[1], "window id"), w, h;
		parse_size(argv[5], &w, &h);
		struct vtp_window_create c = {
			.kind = VTP_WINDOW_POPUP,
			.parent = parse_u32(argv[2], "parent id"),
			.anchor_x = parse_i32(argv[3], "x"),
			.anchor_y = parse_i32(argv[4], "y"),
			.anchor_width = 1,
			.anchor_height = 1,
			.anchor = VTP_EDGE_TOP_LEFT,
			.gravity = VTP_EDGE_BOTTOM_RIGHT,
			.width = w,
			.height = h,
		};
		create_window(id, w, h, &c);
	} else if (strcmp(cmd, "fill") == 0) {
		need_args(argc, 3, "fill ID RRGGBB");
		struct window *w = get_window(argv[1]);
		uint32_t color = parse_color(argv[2]);
		for (size_t i = 0; i < (size_t)w->width * w->height; i++) {
			w->pixels[i] = color;
		}
		struct vtp_rect r = { 0, 0, (int32_t)w->width, (int32_t)w->height };
		commit_window(w, &r);
	} else if (strcmp(cmd, "rect") == 0) {
		need_args(argc, 7, "rect ID X Y W H RRGGBB");
		struct window *w = get_window(argv[1]);
		uint32_t x = parse_u32(argv[2], "x"), y = parse_u32(argv[3], "y");
		uint32_t rw = parse_u32(argv[4], "width"), rh = parse_u32(argv[5], "height");
		uint32_t color = parse_color(argv[6]);
		if (rw == 0 || rh == 0 || x >= w->width || y >= w->height || rw > w->width - x ||
			rh > w->height - y) {
			die("rect %u,%u %ux%u outside window %u (%ux%u)", x, y, rw, rh, w->id,
				w->width, w->height);
		}
		for (uint32_t j = y; j < y + rh; j++) {
			for (uint32_t i = x; i < x + rw; i++) {
				w->pixels[(size_t)j * w->width + i] = color;
			}
		}
		struct vtp_rect r = { (int32_t)x, (int32_t)y, (int32_t)rw, (int32_t)rh };
		commit_window(w, &r);
	} else if (strcmp(cmd, "title") == 0 || strcmp(cmd, "app-id") == 0) {
		if (argc < 2) {
			die("usage: %s ID TEXT", cmd);
		}
		uint32_t id = parse_u32(argv[1], "window id");
		const char *text = argc > 2 ? argv[2] : "";
		send_msg(strcmp(cmd, "title") == 0 ? VTP_SET_TITLE : VTP_SET_APP_ID, id, NULL, text,
			(uint32_t)strlen(text));
	} else if (strcmp(cmd, "title-hex") == 0) {
		need_args(argc, 3, "title-hex ID HEX");
		size_t len;
		uint8_t *bytes = parse_hex(argv[2], &len);
		send_msg(
			VTP_SET_TITLE, parse_u32(argv[1], "window id"), NULL, bytes, (uint32_t)len);
		free(bytes);
	} else if (strcmp(cmd, "title-fill") == 0) {
		need_args(argc, 3, "title-fill ID N");
		uint32_t n = parse_u32(argv[2], "length");
		if (n > VTP_MSG_MAX - 64) {
			die("title too long for one message");
		}
		char *text = malloc(n + 1);
		if (text == NULL) {
			die("out of memory");
		}
		memset(text, 'x', n);
		send_msg(VTP_SET_TITLE, parse_u32(argv[1], "window id"), NULL, text, n);
		free(text);
	} else if (strcmp(cmd, "fullscreen") == 0 || strcmp(cmd, "maximize") == 0) {
		need_args(argc, 3, "fullscreen|maximize ID 0|1");
		struct vtp_set_flag f = { .enable = parse_u32(argv[2], "flag") };
		send_msg(strcmp(cmd, "fullscreen") == 0 ? VTP_SET_FULLSCREEN : VTP_SET_MAXIMIZED,
			parse_u32(argv[1], "window id"), &f, NULL, 0);
	} else if (strcmp(cmd, "destroy") == 0) {
		need_args(argc, 2, "destroy ID");
		destroy_window(parse_u32(argv[1], "window id"));
	} else if (strcmp(cmd, "attach-raw") == 0) {
		if (argc != 6 && argc != 7) {
			die("usage: attach-raw ID OFFSET W H STRIDE [FORMAT]");
		}
		uint32_t id = parse_u32(argv[1], "window id");
		struct vtp_attach a = {
			.offset = parse_offset(argv[2]),
			.buffer_id = ++g->next_buffer_id,
			.width = parse_u32(argv[3], "width"),
			.height = parse_u32(argv[4], "height"),
			.stride = parse_u32(argv[5], "stride"),
			.format = argc == 7 ? parse_u32(argv[6], "format") : VTP_FORMAT_XRGB8888,
			.scale = g->version >= 4 ? 1 : 0,
		};
		struct vtp_rect r = { 0, 0, 1, 1 };
		struct vtp_commit c = { .serial = ++g->next_serial };
		queue_msg(VTP_ATTACH, id, &a, NULL, 0);
		queue_msg(VTP_DAMAGE, id, NULL, &r, sizeof(r));
		queue_msg(VTP_COMMIT, id, &c, NULL, 0);
		flush_out();
	} else if (strcmp(cmd, "msg") == 0) {
		if (argc < 3) {
			die("usage: msg TYPE OBJECT [HEX]");
		}
		size_t len = 0;
		uint8_t *body = parse_hex(argc > 3 ? argv[3] : "", &len);
		struct vtp_header h = {
			.type = (uint16_t)parse_u32(argv[1], "type"),
			.size = (uint32_t)(sizeof(h) + len),
			.object = parse_u32(argv[2], "object"),
		};
		uint8_t *buf = malloc(sizeof(h) + len);
		if (buf == NULL) {
			die("out of memory");
		}
		memcpy(buf, &h, sizeof(h));
		if (len > 0) {
			memcpy(buf + sizeof(h), body, len);
		}
		send_raw(buf, sizeof(h) + len);
		free(buf);
		free(body);
	} else if (strcmp(cmd, "apps-begin") == 0 || strcmp(cmd, "apps-end") == 0) {
		bool begin = strcmp(cmd, "apps-begin") == 0;
		need_args(argc, begin ? 3 : 2,
			begin ? "apps-begin SERIAL|last N" : "apps-end SERIAL|last");
		uint32_t serial = strcmp(argv[1], "last") == 0 ? g->apps_serial
							       : parse_u32(argv[1], "serial");
		if (begin) {
			struct vtp_app_list_begin b = { .serial = serial,
				.count = parse_u32(argv[2], "count") };
			send_msg(VTP_APP_LIST_BEGIN, 0, &b, NULL, 0);
		} else {
			struct vtp_app_list_end e = { .serial = serial };
			send_msg(VTP_APP_LIST_END, 0, &e, NULL, 0);
		}
	} else if (strcmp(cmd, "app-info") == 0) {
		need_args(argc, 3, "app-info INDEX F1|F2|F3|F4|F5|F6");
		struct vtp_app_info info = { .index = parse_u32(argv[1], "index") };
		size_t len = strlen(argv[2]);
		char *tail = malloc(len + 1);
		if (tail == NULL) {
			die("out of memory");
		}
		for (size_t i = 0; i <= len; i++) {
			tail[i] = argv[2][i] == '|' ? '\0' : argv[2][i];
		}
		send_msg(VTP_APP_INFO, 0, &info, tail, (uint32_t)len + 1);
		free(tail);
	} else if (strcmp(cmd, "app-icon") == 0) {
		if (argc != 4 && argc != 5) {
			die("usage: app-icon INDEX SIZE RRGGBBAA [BYTES]");
		}
		struct vtp_app_icon icon = { .index = parse_u32(argv[1], "index"),
			.size = parse_u32(argv[2], "size") };
		char *end;
		errno = 0;
		unsigned long rgba = strtoul(argv[3], &end, 16);
		if (strlen(argv[3]) != 8 || errno != 0 || *end != '\0') {
			die("bad color '%s' (want RRGGBBAA)", argv[3]);
		}
		uint64_t bytes = argc == 5 ? parse_u32(argv[4], "bytes")
					   : (uint64_t)icon.size * icon.size * 4;
		if (bytes > VTP_MSG_MAX - 64) {
			die("icon too large for one message");
		}
		uint8_t *data = malloc(bytes > 0 ? bytes : 1);
		if (data == NULL) {
			die("out of memory");
		}
		for (uint64_t i = 0; i < bytes; i++) {
			data[i] = (uint8_t)(rgba >> (24 - 8 * (i % 4)));
		}
		send_msg(VTP_APP_ICON, 0, &icon, data, (uint32_t)bytes);
		free(data);
	} else if (strcmp(cmd, "run-result") == 0) {
		need_args(argc, 4, "run-result ID|last KIND STATUS");
		struct vtp_run_result r = {
			.request_id = strcmp(argv[1], "last") == 0
				? g->launch_id
				: parse_u32(argv[1], "request id"),
			.kind = parse_u32(argv[2], "kind"),
			.status = parse_i32(argv[3], "status"),
		};
		send_msg(VTP_RUN_RESULT, 0, &r, NULL, 0);
	} else if (strcmp(cmd, "raw") == 0) {
		need_args(argc, 2, "raw HEX...");
		size_t len;
		uint8_t *bytes = parse_hex(argv[1], &len);
		send_raw(bytes, len);
		free(bytes);
	} else if (strcmp(cmd, "wait-frame") == 0) {
		need_args(argc, 2, "wait-frame ID");
		struct window *w = get_window(argv[1]);
		wait_for(frame_done, w, "FRAME_DONE");
	} else if (strcmp(cmd, "wait") == 0) {
		need_args(argc, 2, "wait TEXT");
		char what[256];
		snprintf(what, sizeof(what), "an event '%s'", argv[1]);
		wait_for(event_seen, argv[1], what);
	} else if (strcmp(cmd, "expect-close") == 0) {
		if (argc == 2) {
			struct window *w = get_window(argv[1]);
			wait_for(close_received, w, "CLOSE");
			w->closes--;
		} else {
			need_args(argc, 1, "expect-close [ID]");
			wait_for(close_received, NULL, "CLOSE");
		}
		g->closes_seen++;
	} else if (strcmp(cmd, "expect-disconnect") == 0) {
		need_args(argc, 1, "expect-disconnect");
		wait_for(is_disconnected, NULL, "the host to disconnect");
		*status = 0;
		return false;
	} else if (strcmp(cmd, "sleep") == 0) {
		need_args(argc, 2, "sleep MS");
		int64_t end = now_ms() + parse_u32(argv[1], "milliseconds");
		for (int64_t left; (left = end - now_ms()) > 0;) {
			pump((int)left);
		}
	} else if (strcmp(cmd, "echo") == 0) {
		emit("%s", argc > 1 ? argv[1] : "");
	} else if (strcmp(cmd, "hold") == 0) {
		need_args(argc, 1, "hold");
		while (g->connected) {
			pump(-1);
		}
		*status = 0;
		return false;
	} else if (strcmp(cmd, "quit") == 0) {
		*status = 0;
		return false;
	} else {
		die("unknown command '%s'", cmd);
	}
	return true;
}

/* ---- command input: a line reader that lets host events through while it waits ---- */

struct reader {
	int fd;
	char buf[70000];
	size_t len;
	bool eof;
};

static char *next_line(struct reader *r)
{
	struct guest *g = &guest;
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		if (nl != NULL || (r->eof && r->len > 0)) {
			size_t n = nl ? (size_t)(nl - r->buf) : r->len;
			char *line = malloc(n + 1);
			if (line == NULL) {
				die("out of memory");
			}
			memcpy(line, r->buf, n);
			line[n] = '\0';
			size_t used = nl ? n + 1 : n;
			memmove(r->buf, r->buf + used, r->len - used);
			r->len -= used;
			return line;
		}
		if (r->eof) {
			return NULL;
		}
		if (r->len == sizeof(r->buf)) {
			die("command line too long");
		}
		struct pollfd p[2] = {
			{ .fd = r->fd, .events = POLLIN },
			{ .fd = g->fd, .events = POLLIN },
		};
		int np = g->connected ? 2 : 1;
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			die("poll: %s", strerror(errno));
		}
		if (np == 2 && p[1].revents) {
			pump(0);
			/* answers (PONG) go out while the script waits for commands */
			if (g->connected && !vtp_outq_empty(&g->out)) {
				flush_out();
			}
		}
		if (p[0].revents) {
			ssize_t n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				die("reading commands: %s", strerror(errno));
			}
			if (n == 0) {
				r->eof = true;
			} else if (n > 0) {
				r->len += (size_t)n;
			}
		}
	}
}

int main(int argc, char *argv[])
{
	struct guest *g = &guest;
	const char *socket_path = NULL, *script = NULL;
	bool hello = true;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			socket_path = argv[++i];
		} else if (strcmp(argv[i], "--script") == 0 && i + 1 < argc) {
			script = argv[++i];
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			uint32_t s = parse_u32(argv[++i], "timeout");
			if (s == 0 || s > 3600) {
				die("bad timeout");
			}
			g->timeout_ms = (int)s * 1000;
		} else if (strcmp(argv[i], "--no-hello") == 0) {
			hello = false;
		} else if (strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else {
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (socket_path == NULL) {
		fputs(usage_text, stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	static struct reader reader;
	reader.fd = 0;
	if (script != NULL) {
		reader.fd = open(script, O_RDONLY | O_CLOEXEC);
		if (reader.fd < 0) {
			die("cannot open %s: %s", script, strerror(errno));
		}
	}
	if (!vtp_stream_init(&g->in) || !vtp_outq_init(&g->out)) {
		die("out of memory");
	}
	g->dec.side = VTP_SIDE_GUEST;
	connect_socket(socket_path);
	if (hello) {
		do_hello();
	}

	int status = 0;
	char *line;
	while ((line = next_line(&reader)) != NULL) {
		char *p = line;
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		size_t n = strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r')) {
			p[--n] = '\0';
		}
		bool go_on = true;
		if (*p != '\0' && *p != '#') {
			go_on = run_command(p, &status);
		}
		free(line);
		if (!go_on) {
			break;
		}
	}
	if (g->connected) {
		close(g->fd);
	}
	return status;
}
