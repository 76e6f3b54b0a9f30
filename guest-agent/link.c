#include "link.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <wlr/util/log.h>
#include <vitrail/common/loop.h>

#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u
#define WELCOME_TIMEOUT_MS 10000
#define DEFAULT_PORT_NAME "org.vitrail.0"
#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define AGENT_NAME "vitrail-agent " VITRAIL_VERSION

static void drop(struct agent_link *link);

/* ---- specification parsing ---- */

static bool valid_port_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 255 || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
		strcmp(name, "..") == 0) {
		return false;
	}
	return true;
}

static bool valid_bdf(const char *bdf)
{
	size_t len = strlen(bdf);
	if (len == 0 || len > 32) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = bdf[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
			    c == ':' || c == '.')) {
			return false;
		}
	}
	return true;
}

struct agent_link *agent_link_create(struct wl_event_loop *loop, const char *connect,
	const char *pool, const struct agent_link_handler *handler, void *data)
{
	struct agent_link *link = calloc(1, sizeof(*link));
	if (link == NULL) {
		return NULL;
	}
	link->loop = loop;
	link->handler = handler;
	link->data = data;
	link->fd = -1;
	link->backoff_ms = BACKOFF_MIN_MS;
	link->in.pending_fd = -1;

	if (connect == NULL) {
		link->transport = AGENT_TRANSPORT_NONE;
	} else if (strncmp(connect, "unix:", 5) == 0) {
		struct sockaddr_un addr;
		const char *path = connect + 5;
		if (path[0] == '\0' || strlen(path) >= sizeof(addr.sun_path)) {
			wlr_log(WLR_ERROR, "--connect unix:PATH: bad path '%s'", path);
			goto error;
		}
		link->transport = AGENT_TRANSPORT_UNIX;
		link->target = strdup(path);
	} else if (strcmp(connect, "virtio") == 0 || strncmp(connect, "virtio:", 7) == 0) {
		const char *name = connect[6] == ':' ? connect + 7 : DEFAULT_PORT_NAME;
		if (!valid_port_name(name)) {
			wlr_log(WLR_ERROR, "--connect virtio:PORTNAME: bad port name '%s'", name);
			goto error;
		}
		link->transport = AGENT_TRANSPORT_VIRTIO;
		link->target = strdup(name);
	} else {
		wlr_log(WLR_ERROR, "--connect: expected unix:PATH or virtio[:PORTNAME], got '%s'",
			connect);
		goto error;
	}
	if (link->transport != AGENT_TRANSPORT_NONE && link->target == NULL) {
		goto error;
	}

	if (pool == NULL) {
		if (link->transport == AGENT_TRANSPORT_VIRTIO) {
			wlr_log(WLR_ERROR, "--connect virtio needs --pool pci[:BDF]");
			goto error;
		}
	} else if (strcmp(pool, "pci") == 0 || strncmp(pool, "pci:", 4) == 0) {
		link->pool_pci = true;
		if (pool[3] == ':') {
			if (!valid_bdf(pool + 4)) {
				wlr_log(WLR_ERROR, "--pool pci:BDF: bad PCI address '%s'",
					pool + 4);
				goto error;
			}
			link->pci_device = strdup(pool + 4);
			if (link->pci_device == NULL) {
				goto error;
			}
		}
	} else {
		wlr_log(WLR_ERROR, "--pool: expected pci[:BDF], got '%s'", pool);
		goto error;
	}
	return link;

error:
	free(link->target);
	free(link->pci_device);
	free(link);
	return NULL;
}

void agent_link_destroy(struct agent_link *link)
{
	if (link == NULL) {
		return;
	}
	link->handler = NULL; /* nobody to tell any more */
	drop(link);
	loop_source_remove(&link->retry_timer);
	loop_source_remove(&link->welcome_timer);
	free(link->target);
	free(link->pci_device);
	free(link);
}

bool agent_link_ready(const struct agent_link *link)
{
	return link != NULL && link->state == AGENT_LINK_READY && !link->broken;
}

/* ---- output ---- */

static void update_mask(struct agent_link *link, bool want_write)
{
	if (link->fd_source == NULL || link->want_write == want_write) {
		return;
	}
	link->want_write = want_write;
	wl_event_source_fd_update(
		link->fd_source, WL_EVENT_READABLE | (want_write ? WL_EVENT_WRITABLE : 0));
}

static void flush(struct agent_link *link)
{
	if (link->fd < 0 || link->broken) {
		return;
	}
	if (vtp_outq_flush(&link->out, link->fd) != VTP_OK) {
		agent_link_fail(link, "cannot write to the host");
		return;
	}
	update_mask(link, !vtp_outq_empty(&link->out));
	if (link->drain_wanted && link->out.len <= LINK_DRAIN_LOW) {
		link->drain_wanted = false;
		if (link->drained != NULL) {
			link->drained(link->drained_data);
		}
	}
}

static void handle_flush_idle(void *data)
{
	struct agent_link *link = data;
	link->flush_idle = NULL;
	flush(link);
}

void agent_link_want_drain(struct agent_link *link)
{
	link->drain_wanted = true;
	if (link->flush_idle == NULL && !link->want_write && link->fd >= 0) {
		link->flush_idle = wl_event_loop_add_idle(link->loop, handle_flush_idle, link);
	}
}

static void push(struct agent_link *link, uint16_t type, uint32_t object, const void *body,
	const void *tail, uint32_t tail_len)
{
	if (link->fd < 0 || link->broken) {
		return;
	}
	if (!vtp_outq_push(&link->out, type, object, body, tail, tail_len)) {
		agent_link_fail(link, "output queue full (the host is not reading)");
		return;
	}
	if (link->flush_idle == NULL && !link->want_write) {
		link->flush_idle = wl_event_loop_add_idle(link->loop, handle_flush_idle, link);
	}
}

void agent_link_send(struct agent_link *link, uint16_t type, uint32_t object, const void *body,
	const void *tail, uint32_t tail_len)
{
	if (!agent_link_ready(link)) {
		return;
	}
	push(link, type, object, body, tail, tail_len);
}

/* ---- connection teardown and retry ---- */

static void unmap_pool(struct agent_link *link)
{
	if (link->pool != NULL) {
		munmap(link->pool, link->pool_map_size);
		vtp_alloc_finish(&link->alloc);
	}
	link->pool = NULL;
	link->pool_size = 0;
	link->pool_map_size = 0;
}

static void schedule_retry(struct agent_link *link)
{
	if (link->transport == AGENT_TRANSPORT_NONE || link->retry_timer == NULL) {
		return;
	}
	wl_event_source_timer_update(link->retry_timer, (int)link->backoff_ms);
	link->backoff_ms *= 2;
	if (link->backoff_ms > BACKOFF_MAX_MS) {
		link->backoff_ms = BACKOFF_MAX_MS;
	}
}

/* Close the connection now. Tells the handler first if it was ready. */
static void drop(struct agent_link *link)
{
	bool was_ready = link->state == AGENT_LINK_READY;

	link->broken = true; /* sends from the lost handler are ignored */
	if (was_ready && link->handler != NULL && link->handler->lost != NULL) {
		link->handler->lost(link->data);
	}
	loop_source_remove(&link->drop_idle);
	loop_source_remove(&link->flush_idle);
	loop_source_remove(&link->fd_source);
	if (link->welcome_timer != NULL) {
		wl_event_source_timer_update(link->welcome_timer, 0);
	}
	if (link->fd >= 0) {
		close(link->fd);
		link->fd = -1;
		vtp_stream_finish(&link->in);
		vtp_outq_finish(&link->out);
	}
	unmap_pool(link);
	link->want_write = false;
	link->state = AGENT_LINK_IDLE;
	link->broken = false;
}

static void handle_drop_idle(void *data)
{
	struct agent_link *link = data;
	link->drop_idle = NULL;
	drop(link);
	schedule_retry(link);
}

void agent_link_fail(struct agent_link *link, const char *reason)
{
	if (link->broken || link->fd < 0) {
		return;
	}
	wlr_log(WLR_ERROR, "host connection: %s; reconnecting", reason);
	link->broken = true;
	link->drop_idle = wl_event_loop_add_idle(link->loop, handle_drop_idle, link);
}

/* ---- opening the transport ---- */

static int open_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		wlr_log_errno(WLR_ERROR, "socket");
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		wlr_log(WLR_DEBUG, "connect %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read a small sysfs file into buf, without the trailing newline. */
static bool read_sysfs(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0) {
		return false;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) {
		buf[--n] = '\0';
	}
	return true;
}

static bool plain_entry(const char *name)
{
	return name[0] != '.' && strchr(name, '/') == NULL && strlen(name) < 64;
}

static int open_virtio(const char *port_name)
{
	DIR *dir = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	int fd = -1;

	if (dir == NULL) {
		wlr_log(WLR_DEBUG, "no /sys/class/virtio-ports: %s", strerror(errno));
		return -1;
	}
	while ((e = readdir(dir)) != NULL) {
		char path[PATH_MAX], name[256];
		if (!plain_entry(e->d_name)) {
			continue;
		}
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		if (!read_sysfs(path, name, sizeof(name)) || strcmp(name, port_name) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			wlr_log(WLR_DEBUG, "open %s: %s", path, strerror(errno));
		}
		break;
	}
	closedir(dir);
	if (e == NULL) {
		wlr_log(WLR_DEBUG, "no virtio port named %s", port_name);
	}
	return fd;
}

static bool try_connect(struct agent_link *link)
{
	int fd;

	if (link->transport == AGENT_TRANSPORT_UNIX) {
		fd = open_unix(link->target);
	} else {
		fd = open_virtio(link->target);
	}
	if (fd < 0) {
		return false;
	}
	if (!vtp_stream_init(&link->in)) {
		close(fd);
		return false;
	}
	if (!vtp_outq_init(&link->out)) {
		vtp_stream_finish(&link->in);
		close(fd);
		return false;
	}
	/* an app list (up to VTP_MAX_APP_LIST_BYTES) is queued at once */
	link->out.limit = VTP_OUTQ_MAX + VTP_MAX_APP_LIST_BYTES + (1u << 20);
	link->fd = fd;
	link->dec.side = VTP_SIDE_GUEST;
	link->dec.pool_size = 0;
	link->state = AGENT_LINK_HELLO;
	link->broken = false;
	link->want_write = false;
	return true;
}

static int handle_fd(int fd, uint32_t mask, void *data);

static int handle_retry(void *data)
{
	struct agent_link *link = data;

	if (link->fd >= 0) {
		return 0;
	}
	if (!try_connect(link)) {
		schedule_retry(link);
		return 0;
	}
	link->fd_source =
		wl_event_loop_add_fd(link->loop, link->fd, WL_EVENT_READABLE, handle_fd, link);
	if (link->fd_source == NULL) {
		drop(link);
		schedule_retry(link);
		return 0;
	}
	struct vtp_hello hello = {
		.version_min = VTP_VERSION_MIN, .version_max = VTP_VERSION_MAX, .features = 0
	};
	push(link, VTP_HELLO, 0, &hello, AGENT_NAME, (uint32_t)strlen(AGENT_NAME));
	wl_event_source_timer_update(link->welcome_timer, WELCOME_TIMEOUT_MS);
	wlr_log(WLR_DEBUG, "connected to %s, HELLO sent", link->target);
	return 0;
}

static int handle_welcome_timeout(void *data)
{
	struct agent_link *link = data;
	if (link->state == AGENT_LINK_HELLO) {
		agent_link_fail(link, "no WELCOME from the host in time");
	}
	return 0;
}

void agent_link_start(struct agent_link *link)
{
	if (link->transport == AGENT_TRANSPORT_NONE) {
		return;
	}
	link->retry_timer = wl_event_loop_add_timer(link->loop, handle_retry, link);
	link->welcome_timer = wl_event_loop_add_timer(link->loop, handle_welcome_timeout, link);
	if (link->retry_timer == NULL || link->welcome_timer == NULL) {
		wlr_log(WLR_ERROR, "cannot create timers");
		return;
	}
	handle_retry(link);
}

/* ---- the pool ---- */

static bool is_ivshmem(const char *dir)
{
	char path[PATH_MAX], value[32];
	snprintf(path, sizeof(path), "%s/vendor", dir);
	if (!read_sysfs(path, value, sizeof(value)) || strtoul(value, NULL, 16) != IVSHMEM_VENDOR) {
		return false;
	}
	snprintf(path, sizeof(path), "%s/device", dir);
	return read_sysfs(path, value, sizeof(value)) && strtoul(value, NULL, 16) == IVSHMEM_DEVICE;
}

static bool find_ivshmem(char *dir_out, size_t cap)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	bool found = false;

	if (dir == NULL) {
		return false;
	}
	while ((e = readdir(dir)) != NULL) {
		if (!plain_entry(e->d_name)) {
			continue;
		}
		snprintf(dir_out, cap, "/sys/bus/pci/devices/%s", e->d_name);
		if (is_ivshmem(dir_out)) {
			found = true;
			break;
		}
	}
	closedir(dir);
	return found;
}

static bool map_pci(struct agent_link *link, uint64_t want)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct stat st;
	int fd;

	if (link->pci_device != NULL) {
		snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", link->pci_device);
		if (!is_ivshmem(dir)) {
			wlr_log(WLR_ERROR, "%s is not an ivshmem device (1af4:1110)", dir);
			return false;
		}
	} else if (!find_ivshmem(dir, sizeof(dir))) {
		wlr_log(WLR_ERROR, "no ivshmem PCI device (1af4:1110) found");
		return false;
	}
	/* Enabled already when a udev rule did it for an unprivileged agent. */
	char enabled[8];
	snprintf(path, sizeof(path), "%s/enable", dir);
	if (!read_sysfs(path, enabled, sizeof(enabled)) || strcmp(enabled, "0") == 0) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "1", 1) != 1) {
			wlr_log(WLR_ERROR, "cannot enable %s: %s", dir, strerror(errno));
		}
		if (fd >= 0) {
			close(fd);
		}
	}
	snprintf(path, sizeof(path), "%s/resource2", dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		wlr_log(WLR_ERROR, "open %s: %s", path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		wlr_log(WLR_ERROR, "%s: no size", path);
		close(fd);
		return false;
	}
	uint64_t size = (uint64_t)st.st_size < want ? (uint64_t)st.st_size : want;
	void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		wlr_log(WLR_ERROR, "mmap %s: %s", path, strerror(errno));
		return false;
	}
	link->pool = p;
	link->pool_size = size;
	link->pool_map_size = (size_t)size;
	return true;
}

static bool map_memfd(struct agent_link *link, uint64_t want)
{
	struct stat st;
	int fd = link->in.pending_fd;

	link->in.pending_fd = -1;
	if (fd < 0) {
		wlr_log(WLR_ERROR, "WELCOME came without the pool file descriptor");
		return false;
	}
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size < want ||
		want > SIZE_MAX) {
		wlr_log(WLR_ERROR, "the pool is smaller than WELCOME says");
		close(fd);
		return false;
	}
	void *p = mmap(NULL, (size_t)want, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		wlr_log(WLR_ERROR, "cannot map the pool: %s", strerror(errno));
		return false;
	}
	link->pool = p;
	link->pool_size = want;
	link->pool_map_size = (size_t)want;
	return true;
}

bool agent_link_pool_get(struct agent_link *link, uint64_t size, uint64_t *offset)
{
	if (!agent_link_ready(link) || link->pool == NULL) {
		return false;
	}
	return vtp_alloc_get(&link->alloc, size, offset);
}

void agent_link_pool_put(struct agent_link *link, uint64_t offset, uint64_t size)
{
	if (link->pool != NULL) {
		vtp_alloc_put(&link->alloc, offset, size);
	}
}

/* ---- input ---- */

static void handle_welcome(struct agent_link *link, const struct vtp_msg *msg)
{
	const struct vtp_welcome *w = &msg->body.welcome;
	bool mapped;

	if (w->version < VTP_VERSION_MIN || w->version > VTP_VERSION_MAX) {
		agent_link_fail(link, "the host chose a protocol version we do not speak");
		return;
	}
	if (w->pool_kind == VTP_POOL_PCI && link->pool_pci) {
		mapped = map_pci(link, w->pool_size);
	} else if (w->pool_kind == VTP_POOL_MEMFD && !link->pool_pci &&
		link->transport == AGENT_TRANSPORT_UNIX) {
		mapped = map_memfd(link, w->pool_size);
	} else {
		agent_link_fail(link, "the host offers a pool kind this agent was not told to use");
		return;
	}
	if (!mapped) {
		agent_link_fail(link, "cannot map the shared pool");
		return;
	}
	if (!vtp_alloc_init(&link->alloc, link->pool_size)) {
		munmap(link->pool, link->pool_map_size);
		link->pool = NULL;
		agent_link_fail(link, "out of memory");
		return;
	}
	link->dec.pool_size = link->pool_size;
	link->dec.version = w->version;
	snprintf(link->vm_name, sizeof(link->vm_name), "%s", (const char *)msg->tail);
	link->state = AGENT_LINK_READY;
	link->backoff_ms = BACKOFF_MIN_MS;
	link->sessions++;
	wl_event_source_timer_update(link->welcome_timer, 0);
	wlr_log(WLR_INFO, "connected to the host as VM '%s' (pool %llu KiB)", link->vm_name,
		(unsigned long long)(link->pool_size / 1024));
	if (link->handler != NULL && link->handler->ready != NULL) {
		link->handler->ready(link->data);
	}
}

static void dispatch(struct agent_link *link, const struct vtp_msg *msg)
{
	uint16_t type = msg->header.type;

	switch (type) {
	case VTP_PING:
		push(link, VTP_PONG, 0, &msg->body.ping, NULL, 0);
		return;
	case VTP_PONG:
		return;
	case VTP_ERROR:
		wlr_log(WLR_ERROR, "the host reports error %u: %s", msg->body.error.code,
			msg->tail != NULL ? (const char *)msg->tail : "");
		agent_link_fail(link, "the host sent ERROR");
		return;
	case VTP_WELCOME:
		if (link->state != AGENT_LINK_HELLO) {
			agent_link_fail(link, "a second WELCOME");
			return;
		}
		handle_welcome(link, msg);
		return;
	default:
		break;
	}
	if (link->state != AGENT_LINK_READY) {
		char reason[96];
		snprintf(reason, sizeof(reason), "%s before WELCOME", vtp_type_name(type));
		agent_link_fail(link, reason);
		return;
	}
	if (link->handler != NULL && link->handler->message != NULL) {
		link->handler->message(link->data, msg);
	}
}

static void read_input(struct agent_link *link)
{
	bool eof = false;
	enum vtp_status st =
		vtp_stream_read(&link->in, link->fd, link->transport == AGENT_TRANSPORT_UNIX, &eof);

	for (;;) {
		struct vtp_msg msg;
		bool have = false;
		if (link->broken) {
			return;
		}
		enum vtp_status next = vtp_stream_next(&link->in, &link->dec, &msg, &have);
		if (next != VTP_OK) {
			char reason[128];
			snprintf(reason, sizeof(reason), "invalid message from the host: %s",
				vtp_status_str(next));
			agent_link_fail(link, reason);
			return;
		}
		if (!have) {
			break;
		}
		dispatch(link, &msg);
		vtp_msg_finish(&msg);
	}
	if (st != VTP_OK) {
		agent_link_fail(link, eof ? "the host closed the connection" : vtp_status_str(st));
	}
}

static int handle_fd(int fd, uint32_t mask, void *data)
{
	struct agent_link *link = data;

	if (link->broken) {
		return 0;
	}
	if (mask & WL_EVENT_WRITABLE) {
		flush(link);
	}
	if (mask & (WL_EVENT_READABLE | WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		read_input(link);
	}
	return 0;
}
