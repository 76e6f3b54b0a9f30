#include "services/apps_host.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vitrail/common/text.h>
#include <wlr/util/log.h>
#include <vitrail/common/loop.h>

#include "config.h"
#include "services/menus.h"
#include "server.h"
#include "guest/vm_link.h"
#include "services/vm_manager.h"

/* LAUNCH_APP request ids have the top bit set, so that RUN_RESULTs of RUN
 * requests (numbered by whoever sends them) are never taken for ours. */
#define LAUNCH_ID_BIT 0x80000000u

enum app_field {
	FIELD_ID,
	FIELD_NAME,
	FIELD_GENERIC_NAME,
	FIELD_COMMENT,
	FIELD_CATEGORIES,
	FIELD_MIME_TYPES,
	FIELD_COUNT,
};

struct app {
	char *strings; /* the APP_INFO tail: six NUL-terminated strings */
	const char *field[FIELD_COUNT];
	uint8_t *icon48, *icon96;
};

struct app_list {
	uint32_t serial;
	uint32_t count; /* announced by APP_LIST_BEGIN */
	uint32_t n; /* APP_INFOs received */
	size_t bytes; /* strings and pixels held */
	struct app *apps; /* count entries */
};

struct apps_sync;

/* One VM a menus-sync request waits for. */
struct sync_wait {
	struct wl_list link; /* apps_host.syncs, or empty when done */
	struct apps_sync *op;
	struct apps_host *host;
	char name[CONFIG_VM_NAME_MAX + 1]; /* the host's VM (which may go first) */
	uint64_t connection;
	uint32_t min_serial; /* a list at least this new; 0: the next request's */
	bool done;
};

struct apps_sync {
	apps_host_sync_done_fn done;
	void *data;
	struct wl_event_source *timer;
	struct apps_sync_vm *results; /* n_waits entries, n_results used */
	size_t n_results;
	char error[1024];
	size_t n_waits, n_pending;
	struct sync_wait waits[];
};

struct apps_launch {
	struct wl_list link; /* apps_host.launches */
	struct apps_host *host;
	apps_host_launch_done_fn done;
	void *data;
	struct wl_event_source *timer;
	char id[VTP_MAX_DESKTOP_ID + 1];
	uint64_t connection; /* of the LAUNCH_APP sent; 0: waiting for the VM */
	uint32_t request_id;
};

struct apps_host {
	struct server *server;
	struct vm_link *link;
	struct wl_list link_in_server; /* server.apps_hosts */
	struct wl_event_loop *loop;
	uint64_t connection; /* connections so far; serials are per connection */

	/* requests: at most one outstanding */
	bool outstanding;
	uint32_t requested; /* serial of the outstanding request */
	bool want_request; /* ask (again) when allowed */
	bool want_now; /* ... without waiting for the rate limit */
	int64_t last_request_ms;
	struct wl_event_source *request_timer;

	struct app_list *receiving;

	/* the menus.c worker writing a list, and the newest list after it */
	int write_fd;
	struct wl_event_source *write_source;
	uint32_t write_serial;
	uint64_t write_connection;
	uint32_t write_n_apps;
	struct app_list *pending;
	uint64_t pending_connection;

	struct wl_list syncs; /* struct sync_wait.link */
	struct wl_list launches; /* struct apps_launch.link */
	uint32_t next_request_id;

	struct wl_listener welcome;
	struct wl_listener disconnect;
	struct wl_listener link_destroy;
};

/* ---- small helpers ---- */

/* a is b or newer, serials wrapping around */
static bool serial_at_least(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

static const char *host_name(const struct apps_host *host)
{
	return vm_link_name(host->link);
}

/* A protocol violation: disconnect the VM (logged there with its name). */
static bool violation(struct apps_host *host, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool violation(struct apps_host *host, const char *fmt, ...)
{
	char text[VTP_MAX_ERROR_TEXT];
	va_list args;
	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	vm_link_fail(host->link, VTP_ERR_PROTOCOL, "%s", text);
	return false;
}

static void list_destroy(struct app_list *list)
{
	if (list == NULL) {
		return;
	}
	for (uint32_t i = 0; i < list->count; i++) {
		free(list->apps[i].strings);
		free(list->apps[i].icon48);
		free(list->apps[i].icon96);
	}
	free(list->apps);
	free(list);
}

/*
 * The vitrailctl that entries run: plain "vitrailctl" (found in PATH) when
 * that is the one installed next to this vitrail, else the absolute path
 * of the one next to it (a build tree, another prefix), else "vitrailctl".
 */
static const char *vitrailctl_program(void)
{
	static bool done;
	static char path[PATH_MAX];
	static const char *program;
	char exe[PATH_MAX];
	struct stat sibling;

	if (done) {
		return program;
	}
	done = true;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		return NULL;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash == NULL) {
		return NULL;
	}
	*slash = '\0';
	int len = snprintf(path, sizeof(path), "%s/vitrailctl", exe);
	if (len < 0 || (size_t)len >= sizeof(path) || stat(path, &sibling) != 0 ||
		!S_ISREG(sibling.st_mode) || access(path, X_OK) != 0) {
		return NULL;
	}
	const char *env = getenv("PATH");
	while (env != NULL && *env != '\0') {
		const char *end = strchr(env, ':');
		size_t dlen = end != NULL ? (size_t)(end - env) : strlen(env);
		char candidate[PATH_MAX];
		struct stat st;
		if (dlen > 0 && dlen < sizeof(candidate) - sizeof("/vitrailctl")) {
			memcpy(candidate, env, dlen);
			memcpy(candidate + dlen, "/vitrailctl", sizeof("/vitrailctl"));
			if (stat(candidate, &st) == 0 && access(candidate, X_OK) == 0) {
				if (st.st_dev == sibling.st_dev && st.st_ino == sibling.st_ino) {
					return NULL; /* the first in PATH is ours */
				}
				break;
			}
		}
		env = end != NULL ? end + 1 : NULL;
	}
	program = path;
	return program;
}

/* ---- menus-sync waits ---- */

static void sync_op_free(struct apps_sync *op)
{
	for (size_t i = 0; i < op->n_waits; i++) {
		wl_list_remove(&op->waits[i].link);
	}
	loop_source_remove(&op->timer);
	free(op->results);
	free(op);
}

static void sync_op_finish(struct apps_sync *op)
{
	struct apps_host_sync_result result = {
		.error = op->error[0] != '\0' ? op->error : NULL,
		.vms = op->results,
		.n_vms = op->n_results,
	};
	op->done(op->data, &result);
	sync_op_free(op);
}

/* Record the outcome of one VM; does not finish the op. */
static void wait_complete(struct sync_wait *wait, bool ok, uint32_t n_apps, const char *error)
{
	struct apps_sync *op = wait->op;
	wl_list_remove(&wait->link);
	wl_list_init(&wait->link);
	wait->done = true;
	op->n_pending--;
	if (ok) {
		op->results[op->n_results++] = (struct apps_sync_vm){
			.name = wait->name,
			.apps = n_apps,
		};
		return;
	}
	size_t used = strlen(op->error);
	snprintf(op->error + used, sizeof(op->error) - used, "%sVM %s: %s", used > 0 ? "; " : "",
		wait->name, error);
}

static void wait_done(struct sync_wait *wait, bool ok, uint32_t n_apps, const char *error)
{
	struct apps_sync *op = wait->op;
	wait_complete(wait, ok, n_apps, error);
	if (op->n_pending == 0) {
		sync_op_finish(op);
	}
}

void apps_host_cancel_sync(struct apps_sync *op)
{
	if (op != NULL) {
		sync_op_free(op);
	}
}

static int handle_sync_timeout(void *data)
{
	struct apps_sync *op = data;
	for (size_t i = 0; i < op->n_waits; i++) {
		if (!op->waits[i].done) {
			wait_complete(&op->waits[i], false, 0,
				"no app list received in time (is its agent answering?)");
		}
	}
	sync_op_finish(op);
	return 0;
}

/* ---- run-app launches ---- */

static void launch_free(struct apps_launch *op)
{
	wl_list_remove(&op->link);
	loop_source_remove(&op->timer);
	free(op);
}

/* Give the answer (error NULL: started), then forget the launch. */
static void launch_finish(struct apps_launch *op, const char *error)
{
	struct apps_host_launch_result result = {
		.error = error,
		.vm = host_name(op->host),
		.id = op->id,
	};
	op->done(op->data, &result);
	launch_free(op);
}

static void launch_fail(struct apps_launch *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void launch_fail(struct apps_launch *op, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	char *message = text_vprintf(fmt, args);
	va_end(args);
	launch_finish(op, message != NULL ? message : "out of memory");
	free(message);
}

void apps_host_cancel_launch(struct apps_launch *op)
{
	if (op != NULL) {
		launch_free(op);
	}
}

static int handle_launch_timeout(void *data)
{
	struct apps_launch *op = data;
	if (op->connection == 0) {
		launch_fail(op, "VM %s did not start within %d s", host_name(op->host),
			APPS_HOST_START_TIMEOUT_MS / 1000);
	} else {
		launch_fail(
			op, "VM %s did not answer the launch of %s", host_name(op->host), op->id);
	}
	return 0;
}

static void send_launch(struct apps_launch *op)
{
	struct apps_host *host = op->host;
	host->next_request_id = (host->next_request_id + 1) & ~LAUNCH_ID_BIT;
	op->request_id = host->next_request_id | LAUNCH_ID_BIT;
	op->connection = host->connection;
	struct vtp_launch launch = { .request_id = op->request_id };
	/* on failure the VM is being disconnected: the launch fails then */
	vm_link_send(host->link, VTP_LAUNCH_APP, 0, &launch, op->id, (uint32_t)strlen(op->id));
	wl_signal_emit(&host->server->events.user_launch, host->link);
	wl_event_source_timer_update(op->timer, APPS_HOST_LAUNCH_TIMEOUT_MS);
	wlr_log(WLR_INFO, "[vm %s] launching %s", host_name(host), op->id);
}

/* Start a stopped VM for run-app through the VM manager. The launch
 * waits for the agent to connect. */
static bool start_vm(struct apps_host *host, char **error)
{
	struct vm_manager *manager = host->server->vm_manager;
	if (manager == NULL) {
		*error = text_printf("VM %s is not running", host_name(host));
		return false;
	}
	char *why = NULL;
	if (!vm_manager_start(manager, host->link, &why)) {
		*error = text_printf("VM %s is not running and cannot be started: %s",
			host_name(host), why != NULL ? why : "no answer");
		free(why);
		return false;
	}
	wlr_log(WLR_INFO, "[vm %s] started for run-app", host_name(host));
	return true;
}

bool apps_host_handle_run_result(struct apps_host *host, const struct vtp_msg *msg)
{
	uint32_t untrusted_id = msg->body.run_result.request_id;
	struct apps_launch *op, *found = NULL;
	if (!(untrusted_id & LAUNCH_ID_BIT)) {
		return true; /* the answer to a RUN: not ours */
	}
	wl_list_for_each(op, &host->launches, link) {
		if (op->connection == host->connection && op->request_id == untrusted_id) {
			found = op;
			break;
		}
	}
	if (found == NULL) {
		/* late (timed out, client gone): harmless */
		wlr_log(WLR_DEBUG, "[vm %s] RUN_RESULT for no pending launch", host_name(host));
		return true;
	}
	uint32_t kind = msg->body.run_result.kind; /* decoder: a known kind */
	int32_t untrusted_status = msg->body.run_result.status;
	if (kind == VTP_RUN_STARTED) {
		launch_finish(found, NULL);
		return true;
	}
	if (kind != VTP_RUN_FAILED) {
		launch_fail(
			found, "VM %s: bad answer to the launch of %s", host_name(host), found->id);
		return violation(host, "RUN_RESULT kind %u answers LAUNCH_APP", kind);
	}
	char why[64];
	if (untrusted_status > 0 && untrusted_status < 4096) {
		snprintf(why, sizeof(why), "%s", strerror(untrusted_status));
	} else {
		snprintf(why, sizeof(why), "error %d", (int)untrusted_status);
	}
	wlr_log(WLR_INFO, "[vm %s] cannot launch %s: %s", host_name(host), found->id, why);
	launch_fail(found, "VM %s cannot launch %s: %s", host_name(host), found->id, why);
	return true;
}

/* ---- asking for the list ---- */

static void send_request(struct apps_host *host)
{
	uint32_t serial = vm_link_next_serial(host->link);
	struct vtp_apps_request request = { .serial = serial };
	if (!vm_link_send(host->link, VTP_APPS_REQUEST, 0, &request, NULL, 0)) {
		return;
	}
	host->outstanding = true;
	host->requested = serial;
	host->want_request = false;
	host->want_now = false;
	host->last_request_ms = loop_now_ms();
	struct sync_wait *wait;
	wl_list_for_each(wait, &host->syncs, link) {
		if (wait->min_serial == 0 && wait->connection == host->connection) {
			wait->min_serial = serial;
		}
	}
}

static void maybe_request(struct apps_host *host)
{
	if (!host->want_request || host->outstanding || !vm_link_connected(host->link)) {
		return;
	}
	if (!host->want_now) {
		int64_t wait =
			host->last_request_ms + APPS_HOST_REQUEST_INTERVAL_MS - loop_now_ms();
		if (wait > 0) {
			wl_event_source_timer_update(host->request_timer, (int)wait);
			return;
		}
	}
	send_request(host);
}

static int handle_request_timer(void *data)
{
	struct apps_host *host = data;
	maybe_request(host);
	return 0;
}

/* ---- writing the entries ---- */

static void write_finished(
	struct apps_host *host, uint32_t serial, uint64_t connection, bool ok, uint32_t n_apps)
{
	if (ok) {
		wlr_log(WLR_INFO, "[vm %s] menu entries written (%u apps)", host_name(host),
			n_apps);
	} else {
		wlr_log(WLR_ERROR, "[vm %s] the menu entries could not be written",
			host_name(host));
	}
	struct sync_wait *wait, *tmp;
	wl_list_for_each_safe(wait, tmp, &host->syncs, link) {
		if (wait->connection == connection && wait->min_serial != 0 &&
			serial_at_least(serial, wait->min_serial)) {
			wait_done(wait, ok, n_apps,
				"cannot write the menu entries (see vitrail's log)");
		}
	}
}

static void start_write(struct apps_host *host, struct app_list *list, uint64_t connection);

static int handle_write_done(int fd, uint32_t mask, void *data)
{
	struct apps_host *host = data;
	uint8_t result = 0;
	ssize_t n = read(fd, &result, 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	wl_event_source_remove(host->write_source);
	host->write_source = NULL;
	close(host->write_fd);
	host->write_fd = -1;
	write_finished(host, host->write_serial, host->write_connection, n == 1 && result == 1,
		host->write_n_apps);
	if (host->pending != NULL) {
		struct app_list *next = host->pending;
		host->pending = NULL;
		start_write(host, next, host->pending_connection);
		list_destroy(next);
	}
	return 0;
}

static void start_write(struct apps_host *host, struct app_list *list, uint64_t connection)
{
	struct menus_app *apps = calloc(list->n > 0 ? list->n : 1, sizeof(*apps));
	int fd = -1;
	if (apps != NULL) {
		for (uint32_t i = 0; i < list->n; i++) {
			const struct app *a = &list->apps[i];
			apps[i] = (struct menus_app){
				.id = a->field[FIELD_ID],
				.name = a->field[FIELD_NAME],
				.generic_name = a->field[FIELD_GENERIC_NAME],
				.comment = a->field[FIELD_COMMENT],
				.categories = a->field[FIELD_CATEGORIES],
				.icon48 = a->icon48,
				.icon96 = a->icon96,
			};
		}
		fd = menus_sync_vm_start(host_name(host), vm_link_label(host->link), apps, list->n,
			vitrailctl_program());
		free(apps);
	}
	if (fd >= 0) {
		host->write_source = wl_event_loop_add_fd(
			host->loop, fd, WL_EVENT_READABLE, handle_write_done, host);
		if (host->write_source == NULL) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		write_finished(host, list->serial, connection, false, list->n);
		return;
	}
	host->write_fd = fd;
	host->write_serial = list->serial;
	host->write_connection = connection;
	host->write_n_apps = list->n;
}

static void write_list(struct apps_host *host, struct app_list *list)
{
	if (host->write_fd >= 0) {
		/* one worker at a time; only the newest list matters */
		list_destroy(host->pending);
		host->pending = list;
		host->pending_connection = host->connection;
		return;
	}
	start_write(host, list, host->connection);
	list_destroy(list);
}

/* ---- receiving the list ---- */

static bool account(struct apps_host *host, struct app_list *list, size_t bytes)
{
	if (bytes > VTP_MAX_APP_LIST_BYTES - list->bytes) {
		return violation(host, "app list larger than %u bytes", VTP_MAX_APP_LIST_BYTES);
	}
	list->bytes += bytes;
	return true;
}

static bool handle_begin(struct apps_host *host, const struct vtp_msg *msg)
{
	uint32_t untrusted_serial = msg->body.app_list_begin.serial;
	uint32_t untrusted_count = msg->body.app_list_begin.count;
	if (host->receiving != NULL) {
		return violation(host, "APP_LIST_BEGIN inside an app list");
	}
	if (!host->outstanding || untrusted_serial != host->requested) {
		return violation(
			host, "APP_LIST_BEGIN %u answers no APPS_REQUEST", untrusted_serial);
	}
	if (untrusted_count > VTP_MAX_APPS) {
		return violation(host, "APP_LIST_BEGIN with %u apps", untrusted_count);
	}
	uint32_t count = untrusted_count;
	struct app_list *list = calloc(1, sizeof(*list));
	if (list != NULL) {
		list->apps = calloc(count > 0 ? count : 1, sizeof(*list->apps));
	}
	if (list == NULL || list->apps == NULL) {
		free(list);
		vm_link_fail(host->link, VTP_ERR_INTERNAL, "out of memory for the app list");
		return false;
	}
	list->serial = untrusted_serial;
	list->count = count;
	host->receiving = list;
	return true;
}

static bool handle_info(struct apps_host *host, const struct vtp_msg *msg)
{
	struct app_list *list = host->receiving;
	uint32_t untrusted_index = msg->body.app_info.index;
	if (list == NULL) {
		return violation(host, "APP_INFO outside an app list");
	}
	if (list->n >= list->count) {
		return violation(host, "more APP_INFOs than the %u announced", list->count);
	}
	if (untrusted_index != list->n) {
		return violation(
			host, "APP_INFO %u out of order (expected %u)", untrusted_index, list->n);
	}
	if (!account(host, list, (size_t)msg->tail_len + 1)) {
		return false;
	}
	struct app *app = &list->apps[list->n];
	app->strings = malloc((size_t)msg->tail_len + 1);
	if (app->strings == NULL) {
		vm_link_fail(host->link, VTP_ERR_INTERNAL, "out of memory for the app list");
		return false;
	}
	memcpy(app->strings, msg->tail, msg->tail_len);
	app->strings[msg->tail_len] = '\0';
	/* the decoder checked six NUL-terminated display strings; split them */
	size_t field = 0, start = 0;
	for (size_t i = 0; i < msg->tail_len; i++) {
		if (app->strings[i] != '\0') {
			continue;
		}
		if (field >= FIELD_COUNT) {
			return violation(host, "APP_INFO %u with too many fields", untrusted_index);
		}
		app->field[field++] = app->strings + start;
		start = i + 1;
	}
	if (field != FIELD_COUNT || start != msg->tail_len || app->field[FIELD_NAME][0] == '\0') {
		return violation(host, "APP_INFO %u malformed", untrusted_index);
	}
	list->n++;
	return true;
}

static bool handle_icon(struct apps_host *host, const struct vtp_msg *msg)
{
	struct app_list *list = host->receiving;
	uint32_t untrusted_index = msg->body.app_icon.index;
	uint32_t untrusted_size = msg->body.app_icon.size;
	if (list == NULL) {
		return violation(host, "APP_ICON outside an app list");
	}
	if (untrusted_index >= list->n) {
		return violation(host, "APP_ICON for app %u, not described yet", untrusted_index);
	}
	if ((untrusted_size != 48 && untrusted_size != 96) ||
		msg->tail_len != untrusted_size * untrusted_size * 4) {
		return violation(host, "APP_ICON of a bad size");
	}
	struct app *app = &list->apps[untrusted_index];
	uint8_t **slot = untrusted_size == 48 ? &app->icon48 : &app->icon96;
	if (*slot != NULL) {
		return violation(
			host, "second %u px APP_ICON for app %u", untrusted_size, untrusted_index);
	}
	if (!account(host, list, msg->tail_len)) {
		return false;
	}
	*slot = malloc(msg->tail_len);
	if (*slot == NULL) {
		vm_link_fail(host->link, VTP_ERR_INTERNAL, "out of memory for the app list");
		return false;
	}
	memcpy(*slot, msg->tail, msg->tail_len);
	return true;
}

static int compare_ids(const void *a, const void *b)
{
	const struct app *const *x = a, *const *y = b;
	return strcmp((*x)->field[FIELD_ID], (*y)->field[FIELD_ID]);
}

static bool handle_end(struct apps_host *host, const struct vtp_msg *msg)
{
	struct app_list *list = host->receiving;
	uint32_t untrusted_serial = msg->body.app_list_end.serial;
	if (list == NULL) {
		return violation(host, "APP_LIST_END outside an app list");
	}
	if (untrusted_serial != list->serial) {
		return violation(
			host, "APP_LIST_END %u ends list %u", untrusted_serial, list->serial);
	}
	if (list->n != list->count) {
		return violation(host, "APP_LIST_END after %u of %u apps", list->n, list->count);
	}
	if (list->n > 1) {
		const struct app **sorted = calloc(list->n, sizeof(*sorted));
		if (sorted == NULL) {
			vm_link_fail(
				host->link, VTP_ERR_INTERNAL, "out of memory for the app list");
			return false;
		}
		for (uint32_t i = 0; i < list->n; i++) {
			sorted[i] = &list->apps[i];
		}
		qsort(sorted, list->n, sizeof(*sorted), compare_ids);
		bool duplicate = false;
		for (uint32_t i = 1; i < list->n && !duplicate; i++) {
			duplicate = strcmp(sorted[i - 1]->field[FIELD_ID],
					    sorted[i]->field[FIELD_ID]) == 0;
		}
		free(sorted);
		if (duplicate) {
			return violation(host, "the app list names a desktop id twice");
		}
	}
	host->receiving = NULL;
	host->outstanding = false;
	wlr_log(WLR_INFO, "[vm %s] received its app list (%u apps)", host_name(host), list->n);
	write_list(host, list);
	maybe_request(host); /* changed again meanwhile, or a sync wants a newer one */
	return true;
}

bool apps_host_handle_message(struct apps_host *host, const struct vtp_msg *msg)
{
	switch (msg->header.type) {
	case VTP_APPS_CHANGED:
		host->want_request = true;
		maybe_request(host);
		return true;
	case VTP_APP_LIST_BEGIN:
		return handle_begin(host, msg);
	case VTP_APP_INFO:
		return handle_info(host, msg);
	case VTP_APP_ICON:
		return handle_icon(host, msg);
	case VTP_APP_LIST_END:
		return handle_end(host, msg);
	default:
		return true;
	}
}

/* ---- connection life ---- */

/* The agent said HELLO and got WELCOME: ask for its apps, send the
 * launches that waited for the VM to start. */
static void handle_welcome(struct wl_listener *listener, void *data)
{
	struct apps_host *host = wl_container_of(listener, host, welcome);
	host->connection++;
	host->outstanding = false;
	host->want_request = true;
	host->want_now = true;
	maybe_request(host);
	struct apps_launch *op, *tmp;
	wl_list_for_each_safe(op, tmp, &host->launches, link) {
		if (op->connection == 0) {
			send_launch(op);
		}
	}
}

/* The agent is gone: drop a half-received list, fail waiting requests. */
static void handle_disconnect(struct wl_listener *listener, void *data)
{
	struct apps_host *host = wl_container_of(listener, host, disconnect);
	list_destroy(host->receiving);
	host->receiving = NULL;
	host->outstanding = false;
	host->want_request = false;
	host->want_now = false;
	wl_event_source_timer_update(host->request_timer, 0);
	struct sync_wait *wait, *wtmp;
	wl_list_for_each_safe(wait, wtmp, &host->syncs, link) {
		wait_done(wait, false, 0, "disconnected before its app list was written");
	}
	struct apps_launch *op, *ltmp;
	wl_list_for_each_safe(op, ltmp, &host->launches, link) {
		if (op->connection != 0) {
			launch_fail(op, "VM %s disconnected before launching %s", host_name(host),
				op->id);
		}
	}
}

static void handle_link_destroy(struct wl_listener *listener, void *data)
{
	struct apps_host *host = wl_container_of(listener, host, link_destroy);
	apps_host_destroy(host);
}

struct apps_host *apps_host_from_link(struct server *server, struct vm_link *link)
{
	struct apps_host *host;
	wl_list_for_each(host, &server->apps_hosts, link_in_server) {
		if (host->link == link) {
			return host;
		}
	}
	return NULL;
}

void apps_host_handle_new_link(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, apps_new_vm_link);
	struct vm_link *link = data;
	if (apps_host_create(server, link) == NULL) {
		wlr_log(WLR_ERROR, "[vm %s] out of memory", vm_link_name(link));
	}
}

struct apps_host *apps_host_create(struct server *server, struct vm_link *link)
{
	struct apps_host *host = calloc(1, sizeof(*host));
	if (host == NULL) {
		return NULL;
	}
	host->server = server;
	host->link = link;
	host->loop = server->loop;
	host->write_fd = -1;
	wl_list_init(&host->syncs);
	wl_list_init(&host->launches);
	host->request_timer = wl_event_loop_add_timer(host->loop, handle_request_timer, host);
	if (host->request_timer == NULL) {
		free(host);
		return NULL;
	}
	struct vm_link_events *events = vm_link_events(link);
	host->welcome.notify = handle_welcome;
	wl_signal_add(&events->welcome, &host->welcome);
	host->disconnect.notify = handle_disconnect;
	wl_signal_add(&events->disconnect, &host->disconnect);
	host->link_destroy.notify = handle_link_destroy;
	wl_signal_add(&events->destroy, &host->link_destroy);
	wl_list_insert(&server->apps_hosts, &host->link_in_server);
	return host;
}

void apps_host_destroy(struct apps_host *host)
{
	if (host == NULL) {
		return;
	}
	wl_list_remove(&host->welcome.link);
	wl_list_remove(&host->disconnect.link);
	wl_list_remove(&host->link_destroy.link);
	wl_list_remove(&host->link_in_server);
	struct sync_wait *wait, *wtmp;
	wl_list_for_each_safe(wait, wtmp, &host->syncs, link) {
		wait_done(wait, false, 0, "removed");
	}
	struct apps_launch *op, *ltmp;
	wl_list_for_each_safe(op, ltmp, &host->launches, link) {
		launch_fail(op, "VM %s was removed", host_name(host));
	}
	loop_source_remove(&host->write_source);
	if (host->write_fd >= 0) {
		close(host->write_fd);
	}
	wl_event_source_remove(host->request_timer);
	list_destroy(host->receiving);
	list_destroy(host->pending);
	free(host);
}

void apps_host_prune(struct server *server)
{
	const char **names =
		calloc(server->n_vm_links > 0 ? server->n_vm_links : 1, sizeof(*names));
	if (names == NULL) {
		return;
	}
	for (size_t i = 0; i < server->n_vm_links; i++) {
		names[i] = vm_link_name(server->vm_links[i]);
	}
	if (!menus_prune(names, server->n_vm_links)) {
		wlr_log(WLR_ERROR, "cannot remove the menu entries of removed VMs");
	}
	free(names);
}

/* ---- commands ---- */

struct apps_sync *apps_host_sync(struct server *server, const char *vm_name,
	apps_host_sync_done_fn done, void *data, char **error)
{
	*error = NULL;
	size_t n = 0;
	if (vm_name != NULL) {
		struct vm_link *link = server_find_vm(server, vm_name);
		if (link == NULL) {
			*error = text_printf("no VM named \"%s\"", vm_name);
			return NULL;
		}
		if (!vm_link_connected(link)) {
			*error = text_printf("VM %s is not running", vm_name);
			return NULL;
		}
		n = 1;
	} else {
		for (size_t i = 0; i < server->n_vm_links; i++) {
			n += vm_link_connected(server->vm_links[i]);
		}
	}
	if (n == 0) {
		return NULL; /* nothing to wait for: an empty list */
	}
	struct apps_sync *op = calloc(1, sizeof(*op) + n * sizeof(op->waits[0]));
	if (op == NULL) {
		*error = strdup("out of memory");
		return NULL;
	}
	op->done = done;
	op->data = data;
	op->results = calloc(n, sizeof(*op->results));
	op->timer = wl_event_loop_add_timer(server->loop, handle_sync_timeout, op);
	if (op->results == NULL || op->timer == NULL) {
		sync_op_free(op);
		*error = strdup("out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		wl_list_init(&op->waits[i].link);
	}
	wl_event_source_timer_update(op->timer, APPS_HOST_SYNC_TIMEOUT_MS);

	size_t k = 0;
	for (size_t i = 0; i < server->n_vm_links && k < n; i++) {
		struct vm_link *link = server->vm_links[i];
		if (!vm_link_connected(link) ||
			(vm_name != NULL && strcmp(vm_link_name(link), vm_name) != 0)) {
			continue;
		}
		struct apps_host *host = apps_host_from_link(server, link);
		if (host == NULL) {
			continue;
		}
		struct sync_wait *wait = &op->waits[k++];
		wait->op = op;
		wait->host = host;
		snprintf(wait->name, sizeof(wait->name), "%s", host_name(host));
		wait->connection = host->connection;
		wait->min_serial = 0;
		wl_list_insert(host->syncs.prev, &wait->link);
		op->n_pending++;
	}
	op->n_waits = k; /* VMs without an apps_host: nothing to wait for */
	/* ask only once every wait is in place: the answers come later */
	for (size_t i = 0; i < k; i++) {
		struct apps_host *host = op->waits[i].host;
		host->want_request = true;
		host->want_now = true;
		maybe_request(host);
	}
	return op;
}

struct apps_launch *apps_host_launch(struct server *server, const char *vm_name, const char *id,
	apps_host_launch_done_fn done, void *data, char **error)
{
	*error = NULL;
	struct vm_link *link = server_find_vm(server, vm_name);
	if (link == NULL) {
		*error = text_printf("no VM named \"%s\"", vm_name);
		return NULL;
	}
	if (!vtp_valid_desktop_id(id, strlen(id))) {
		*error = strdup("invalid desktop id (want NAME.desktop of [A-Za-z0-9._-])");
		return NULL;
	}
	struct apps_host *host = apps_host_from_link(server, link);
	if (host == NULL) {
		*error = text_printf("no app list for VM \"%s\"", vm_name);
		return NULL;
	}
	if (!vm_link_connected(link) && !start_vm(host, error)) {
		return NULL;
	}
	struct apps_launch *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		*error = strdup("out of memory");
		return NULL;
	}
	wl_list_init(&op->link);
	op->host = host;
	op->done = done;
	op->data = data;
	snprintf(op->id, sizeof(op->id), "%s", id);
	op->timer = wl_event_loop_add_timer(server->loop, handle_launch_timeout, op);
	if (op->timer == NULL) {
		launch_free(op);
		*error = strdup("out of memory");
		return NULL;
	}
	wl_list_insert(host->launches.prev, &op->link);
	if (vm_link_connected(link)) {
		send_launch(op);
	} else {
		wl_event_source_timer_update(op->timer, APPS_HOST_START_TIMEOUT_MS);
		wlr_log(WLR_INFO, "[vm %s] %s waits for the VM to start", vm_name, op->id);
	}
	return op;
}
