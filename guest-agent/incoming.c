#include "incoming.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/util/log.h>

#include <vitrail/common/filename.h>
#include <vitrail/common/fs.h>
#include <vitrail/common/loop.h>
#include "link.h"
#include "run.h"
#include "server.h"

#define MAX_NUMBERED 9999

struct delivery {
	struct wl_list link; /* incoming.deliveries */
	uint32_t id;
	int fd;
	int dir_fd; /* ~/Incoming/SOURCE */
	char name[FILENAME_MAX_BYTES + 1];
	char path[PATH_MAX];
	char source[33];
	uint64_t size, received;
	struct sha256_ctx sha;
};

struct opener {
	struct wl_list link; /* incoming.openers */
	struct incoming *in;
	uint32_t id;
	pid_t pid;
	struct wl_event_source *timer;
};

struct incoming {
	struct agent_server *server;
	struct wl_list deliveries;
	size_t n_deliveries;
	struct wl_list openers;
};

static void send_result(struct incoming *in, uint32_t id, uint32_t code, const char *text)
{
	struct vtp_result r = { .request_id = id, .code = code };
	size_t len = strlen(text);
	if (len > VTP_MAX_ERROR_TEXT) {
		len = VTP_MAX_ERROR_TEXT;
	}
	agent_link_send(in->server->link, VTP_DELIVER_RESULT, 0, &r, text, (uint32_t)len);
}

/* ---- the opener ---- */

static void opener_destroy(struct opener *o)
{
	if (o == NULL) {
		return;
	}
	if (o->pid > 0) {
		agent_run_unwatch(o->in->server->run, o->pid);
	}
	loop_source_remove(&o->timer);
	wl_list_remove(&o->link);
	free(o);
}

static void handle_opener_exited(void *data, pid_t pid, uint32_t kind, int status)
{
	struct opener *o = data;
	o->pid = -1; /* reaped: nothing to unwatch */
	if (kind == VTP_RUN_EXITED && status == 0) {
		send_result(o->in, o->id, VTP_RESULT_OK, "opened");
	} else {
		char text[128];
		snprintf(text, sizeof(text), "the opener %s %d",
			kind == VTP_RUN_EXITED ? "exited with status" : "was killed by signal",
			status);
		wlr_log(WLR_INFO, "delivery %u: %s", o->id, text);
		send_result(o->in, o->id, VTP_RESULT_FAILED, text);
	}
	opener_destroy(o);
}

static int handle_opener_timer(void *data)
{
	struct opener *o = data;
	/* still running: it found an application (xdg-open waits for it) */
	send_result(o->in, o->id, VTP_RESULT_OK, "opened");
	opener_destroy(o);
	return 0;
}

/* Run the opener on what (a path or a URL); the result is sent later. */
static void open_with_opener(struct incoming *in, uint32_t id, const char *what)
{
	const char *program = getenv("VITRAIL_XDG_OPEN");
	if (program == NULL || program[0] == '\0') {
		program = "xdg-open";
	}
	struct opener *o = calloc(1, sizeof(*o));
	if (o == NULL) {
		send_result(in, id, VTP_RESULT_FAILED, "out of memory");
		return;
	}
	o->in = in;
	o->id = id;
	wl_list_insert(&in->openers, &o->link);
	o->timer = wl_event_loop_add_timer(in->server->loop, handle_opener_timer, o);
	if (o->timer == NULL) {
		send_result(in, id, VTP_RESULT_FAILED, "out of resources");
		opener_destroy(o);
		return;
	}
	char *argv[] = { (char *)program, (char *)what, NULL };
	int error = 0;
	o->pid = agent_run_spawn_watch(in->server->run, argv, handle_opener_exited, o, &error);
	if (o->pid < 0) {
		char text[160];
		snprintf(text, sizeof(text), "cannot run %s: %s",
			strchr(program, '/') != NULL ? "the opener" : program, strerror(error));
		wlr_log(WLR_ERROR, "delivery %u: cannot run %s: %s", id, program, strerror(error));
		send_result(in, id, VTP_RESULT_FAILED, text);
		opener_destroy(o);
		return;
	}
	wl_event_source_timer_update(o->timer, INCOMING_OPENER_GRACE_MS);
}

/* ---- files ---- */

static struct delivery *find_delivery(struct incoming *in, uint32_t id)
{
	struct delivery *d;
	wl_list_for_each(d, &in->deliveries, link) {
		if (d->id == id) {
			return d;
		}
	}
	return NULL;
}

/* Remove a delivery; delete its file unless keep. */
static void delivery_destroy(struct incoming *in, struct delivery *d, bool keep)
{
	if (d->fd >= 0) {
		close(d->fd);
		if (!keep && unlinkat(d->dir_fd, d->name, 0) < 0) {
			wlr_log_errno(WLR_ERROR, "cannot delete %s", d->path);
		}
	}
	if (d->dir_fd >= 0) {
		close(d->dir_fd);
	}
	wl_list_remove(&d->link);
	in->n_deliveries--;
	free(d);
}

/* ~/Incoming/SOURCE, created 0700, opened without following a link at
 * SOURCE. -1 and errno on failure. */
static int open_source_dir(const char *source, char *path, size_t cap)
{
	const char *home = getenv("HOME");
	if (home == NULL || home[0] != '/') {
		errno = ENOENT;
		return -1;
	}
	int n = snprintf(path, cap, "%s/Incoming", home);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		return -1;
	}
	int base = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (base < 0) {
		return -1;
	}
	if (mkdirat(base, source, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		close(base);
		errno = e;
		return -1;
	}
	int dir = openat(base, source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	close(base);
	errno = e;
	size_t len = strlen(path);
	n = snprintf(path + len, cap - len, "/%s", source);
	if (dir >= 0 && (n < 0 || (size_t)n >= cap - len)) {
		close(dir);
		errno = ENAMETOOLONG;
		return -1;
	}
	return dir;
}

/* Create a new file for name in dir: name, else "name (1)", ... */
static int create_unique(int dir, const char *name, char out[FILENAME_MAX_BYTES + 1])
{
	for (unsigned n = 0; n <= MAX_NUMBERED; n++) {
		if (n == 0) {
			snprintf(out, FILENAME_MAX_BYTES + 1, "%s", name);
		} else {
			filename_numbered(name, n, out, FILENAME_MAX_BYTES + 1);
		}
		int fd = openat(
			dir, out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST) {
			return fd;
		}
	}
	errno = EEXIST;
	return -1;
}

static void handle_begin(struct incoming *in, const struct vtp_msg *msg)
{
	const struct vtp_file_begin *b = &msg->body.file_begin;
	/* the decoder checked: "name\0mime\0source", each part valid */
	const char *untrusted_name = (const char *)msg->tail;
	const char *mime = untrusted_name + strlen(untrusted_name) + 1;
	const char *source = mime + strlen(mime) + 1;
	size_t source_len = msg->tail_len - (size_t)(source - (const char *)msg->tail);

	if (find_delivery(in, b->request_id) != NULL) {
		agent_link_fail(in->server->link, "DELIVER_FILE_BEGIN for a delivery in progress");
		return;
	}
	if (in->n_deliveries >= INCOMING_MAX_ACTIVE) {
		send_result(in, b->request_id, VTP_RESULT_FAILED, "too many deliveries at once");
		return;
	}
	struct delivery *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		send_result(in, b->request_id, VTP_RESULT_FAILED, "out of memory");
		return;
	}
	d->id = b->request_id;
	d->size = b->size;
	d->fd = -1;
	snprintf(d->source, sizeof(d->source), "%.*s", (int)source_len, source);
	sha256_init(&d->sha);
	wl_list_insert(&in->deliveries, &d->link);
	in->n_deliveries++;

	char clean[FILENAME_MAX_BYTES + 1];
	filename_sanitize(untrusted_name, strlen(untrusted_name), clean, sizeof(clean));
	d->dir_fd = open_source_dir(d->source, d->path, sizeof(d->path));
	if (d->dir_fd < 0) {
		char text[160];
		snprintf(text, sizeof(text), "cannot create ~/Incoming/%s: %s", d->source,
			strerror(errno));
		wlr_log(WLR_ERROR, "delivery %u: %s", d->id, text);
		send_result(in, d->id, VTP_RESULT_FAILED, text);
		delivery_destroy(in, d, false);
		return;
	}
	d->fd = create_unique(d->dir_fd, clean, d->name);
	size_t dir_len = strlen(d->path);
	if (d->fd < 0 || dir_len + 1 + strlen(d->name) >= sizeof(d->path)) {
		char text[160];
		snprintf(text, sizeof(text), "cannot create a file in ~/Incoming/%s: %s", d->source,
			d->fd < 0 ? strerror(errno) : "path too long");
		wlr_log(WLR_ERROR, "delivery %u: %s", d->id, text);
		send_result(in, d->id, VTP_RESULT_FAILED, text);
		delivery_destroy(in, d, false);
		return;
	}
	snprintf(d->path + dir_len, sizeof(d->path) - dir_len, "/%s", d->name);
	wlr_log(WLR_INFO, "delivery %u from %s: %llu bytes (%s) into %s", d->id, d->source,
		(unsigned long long)d->size, mime, d->path);
}

static void handle_chunk(struct incoming *in, const struct vtp_msg *msg)
{
	struct delivery *d = find_delivery(in, msg->body.file_chunk.request_id);
	if (d == NULL) {
		/* answered already (a failure): the host stops sending */
		return;
	}
	if (msg->tail_len > d->size - d->received) {
		wlr_log(WLR_ERROR, "delivery %u: more data than announced", d->id);
		send_result(in, d->id, VTP_RESULT_FAILED, "more data than announced");
		delivery_destroy(in, d, false);
		return;
	}
	if (!fs_write_all(d->fd, msg->tail, msg->tail_len)) {
		char text[160];
		snprintf(text, sizeof(text), "cannot write the file: %s", strerror(errno));
		wlr_log(WLR_ERROR, "delivery %u: %s", d->id, text);
		send_result(in, d->id, VTP_RESULT_FAILED, text);
		delivery_destroy(in, d, false);
		return;
	}
	sha256_update(&d->sha, msg->tail_len, (const uint8_t *)msg->tail);
	d->received += msg->tail_len;
}

static void handle_end(struct incoming *in, const struct vtp_msg *msg)
{
	struct delivery *d = find_delivery(in, msg->body.file_end.request_id);
	if (d == NULL) {
		return;
	}
	uint32_t id = d->id;
	if (d->received != d->size) {
		/* an early END: the host gave up on this transfer */
		wlr_log(WLR_INFO, "delivery %u cancelled after %llu of %llu bytes", id,
			(unsigned long long)d->received, (unsigned long long)d->size);
		send_result(in, id, VTP_RESULT_CANCELLED, "cancelled");
		delivery_destroy(in, d, false);
		return;
	}
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_digest(&d->sha, SHA256_DIGEST_SIZE, digest);
	if (memcmp(digest, msg->body.file_end.sha256, sizeof(digest)) != 0) {
		wlr_log(WLR_ERROR, "delivery %u: checksum mismatch; %s deleted", id, d->path);
		send_result(in, id, VTP_RESULT_BAD_CHECKSUM,
			"the file arrived damaged (checksum mismatch) and was deleted");
		delivery_destroy(in, d, false);
		return;
	}
	if (close(d->fd) < 0) {
		d->fd = -1;
		unlinkat(d->dir_fd, d->name, 0);
		send_result(in, id, VTP_RESULT_FAILED, "cannot write the file");
		delivery_destroy(in, d, true);
		return;
	}
	d->fd = -1;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", d->path);
	wlr_log(WLR_INFO, "delivery %u complete: %s", id, path);
	delivery_destroy(in, d, true);
	open_with_opener(in, id, path);
}

static void handle_url(struct incoming *in, const struct vtp_msg *msg)
{
	uint32_t id = msg->body.open_url.request_id;
	/* "url\0source", checked by the decoder: printable ASCII */
	const char *url = (const char *)msg->tail;
	const char *source = url + strlen(url) + 1;
	/* a URL starts with its scheme: never with '-' (an option) */
	if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')) ||
		strchr(url, ':') == NULL) {
		send_result(in, id, VTP_RESULT_FAILED, "not a URL");
		return;
	}
	wlr_log(WLR_INFO, "delivery %u: a URL from %.32s", id, source);
	open_with_opener(in, id, url);
}

void agent_incoming_handle_message(struct incoming *in, const struct vtp_msg *msg)
{
	switch (msg->header.type) {
	case VTP_DELIVER_URL:
		handle_url(in, msg);
		break;
	case VTP_DELIVER_FILE_BEGIN:
		handle_begin(in, msg);
		break;
	case VTP_DELIVER_FILE_CHUNK:
		handle_chunk(in, msg);
		break;
	case VTP_DELIVER_FILE_END:
		handle_end(in, msg);
		break;
	default:
		break;
	}
}

void agent_incoming_link_lost(struct incoming *in)
{
	if (in == NULL) {
		return;
	}
	struct delivery *d, *tmp;
	wl_list_for_each_safe(d, tmp, &in->deliveries, link) {
		wlr_log(WLR_INFO, "delivery %u interrupted; %s deleted", d->id, d->path);
		delivery_destroy(in, d, false);
	}
	/* openers running now report to nobody: forget them */
	struct opener *o, *otmp;
	wl_list_for_each_safe(o, otmp, &in->openers, link) {
		opener_destroy(o);
	}
}

struct incoming *agent_incoming_create(struct agent_server *server)
{
	struct incoming *in = calloc(1, sizeof(*in));
	if (in == NULL) {
		return NULL;
	}
	in->server = server;
	wl_list_init(&in->deliveries);
	wl_list_init(&in->openers);
	return in;
}

void agent_incoming_destroy(struct incoming *in)
{
	if (in == NULL) {
		return;
	}
	agent_incoming_link_lost(in);
	free(in);
}
