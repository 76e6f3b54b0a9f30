#define _GNU_SOURCE /* accept4 */
#include "ipc/ctl.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/util/log.h>

#include "services/apps_host.h"
#include "services/clipboard.h"
#include "config.h"
#include "services/open.h"
#include "server.h"
#include "tree/view.h"
#include "guest/vm_link.h"
#include "services/vm_manager.h"

#define CTL_MAX_REQUEST (64 * 1024)
#define CTL_MAX_CLIENTS 32
#define CTL_CLIENT_TIMEOUT_MS 5000

struct ctl {
	struct server *server;
	char *path;
	int fd;
	struct wl_event_source *source;
	struct wl_list clients; /* struct ctl_client.link */
	size_t n_clients;
};

struct ctl_client {
	struct ctl *ctl;
	struct wl_list link;
	int fd;
	struct wl_event_source *source;
	struct wl_event_source *timer;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_done;
	bool exit_after;
	bool deferred; /* the reply comes later (ctl_client_reply) */
	bool detached; /* the fd was handed over (ctl_client_detach) */
	size_t line_end; /* bytes of the request line, newline included */
	struct {
		struct wl_signal destroy;
	} events;
};

static void client_destroy(struct ctl_client *client)
{
	if (client == NULL) {
		return;
	}
	wl_signal_emit(&client->events.destroy, client);
	if (client->source != NULL) {
		wl_event_source_remove(client->source);
	}
	if (client->timer != NULL) {
		wl_event_source_remove(client->timer);
	}
	if (client->fd >= 0) {
		close(client->fd);
	}
	wl_list_remove(&client->link);
	client->ctl->n_clients--;
	bool exit_after = client->exit_after;
	struct server *server = client->ctl->server;
	free(client->in);
	free(client->out);
	free(client);
	if (exit_after) {
		wl_display_terminate(server->display);
	}
}

static void format_label(uint32_t rgb, char out[8])
{
	snprintf(out, 8, "#%06x", rgb & 0xffffffu);
}

struct json_object *ctl_ok_reply(void)
{
	struct json_object *reply = json_object_new_object();
	if (reply != NULL) {
		json_object_object_add(reply, "ok", json_object_new_boolean(1));
	}
	return reply;
}

struct json_object *ctl_error_reply(const char *fmt, ...)
{
	char message[CTL_ERROR_MAX];
	va_list args;
	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	struct json_object *reply = json_object_new_object();
	if (reply != NULL) {
		json_object_object_add(reply, "ok", json_object_new_boolean(0));
		json_object_object_add(reply, "error", json_object_new_string(message));
	}
	return reply;
}

static struct json_object *windows_reply(struct server *server)
{
	struct json_object *reply = ctl_ok_reply();
	struct json_object *list = json_object_new_array();
	struct view *view;
	wl_list_for_each(view, &server->views, link)
	{
		if (!view->mapped) {
			continue;
		}
		char label[8];
		format_label(view->label_rgb, label);
		struct json_object *w = json_object_new_object();
		json_object_object_add(w, "id", json_object_new_int64(view->id));
		json_object_object_add(w, "vm",
			view->vm != NULL ? json_object_new_string(vm_link_name(view->vm)) : NULL);
		json_object_object_add(w, "title", json_object_new_string(view->title));
		json_object_object_add(w, "app_id", json_object_new_string(view->app_id));
		json_object_object_add(w, "x", json_object_new_int(view->x));
		json_object_object_add(w, "y", json_object_new_int(view->y));
		json_object_object_add(w, "width", json_object_new_int(view->width));
		json_object_object_add(w, "height", json_object_new_int(view->height));
		json_object_object_add(w, "focused", json_object_new_boolean(view->focused));
		json_object_object_add(w, "label", json_object_new_string(label));
		json_object_array_add(list, w);
	}
	json_object_object_add(reply, "windows", list);
	return reply;
}

static struct json_object *vms_reply(struct server *server)
{
	struct json_object *reply = ctl_ok_reply();
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < server->n_vm_links; i++) {
		struct vm_link *link = server->vm_links[i];
		char label[8];
		format_label(vm_link_label(link), label);
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "name", json_object_new_string(vm_link_name(link)));
		json_object_object_add(v, "label", json_object_new_string(label));
		json_object_object_add(
			v, "connected", json_object_new_boolean(vm_link_connected(link)));
		json_object_object_add(v, "windows",
			json_object_new_int64((int64_t)view_count_mapped(server, link)));
		vm_manager_describe(server->vm_manager, link, v); /* state, reason, ... */
		json_object_array_add(list, v);
	}
	json_object_object_add(reply, "vms", list);
	return reply;
}

/* {"clipboard":{"empty":bool[,"source":"vm"|"host","bytes":N,"age":S]}}: never the text */
static struct json_object *clipboard_reply(struct server *server)
{
	struct json_object *reply = ctl_ok_reply();
	struct json_object *state = json_object_new_object();
	const char *source;
	size_t bytes;
	uint64_t age;
	bool full = clipboard_status(server->clipboard, &source, &bytes, &age);
	json_object_object_add(state, "empty", json_object_new_boolean(!full));
	if (full) {
		json_object_object_add(state, "source", json_object_new_string(source));
		json_object_object_add(state, "bytes", json_object_new_int64((int64_t)bytes));
		json_object_object_add(state, "age", json_object_new_int64((int64_t)age));
	}
	json_object_object_add(reply, "clipboard", state);
	return reply;
}

static struct view *view_arg(struct server *server, struct json_object *request, const char **error)
{
	struct json_object *id_obj;
	if (!json_object_object_get_ex(request, "id", &id_obj) ||
		!json_object_is_type(id_obj, json_type_int)) {
		*error = "missing or non-integer \"id\"";
		return NULL;
	}
	int64_t id = json_object_get_int64(id_obj);
	struct view *view = id > 0 && id <= UINT32_MAX ? view_from_id(server, (uint32_t)id) : NULL;
	if (view == NULL || !view->mapped) {
		*error = "no such window";
		return NULL;
	}
	return view;
}

static struct json_object *handle_request(struct ctl_client *client, const char *line)
{
	struct server *server = client->ctl->server;
	enum json_tokener_error jerr;
	struct json_object *request = json_tokener_parse_verbose(line, &jerr);
	if (request == NULL) {
		return ctl_error_reply("invalid JSON");
	}
	struct json_object *reply = NULL;
	struct json_object *cmd_obj;
	if (!json_object_is_type(request, json_type_object) ||
		!json_object_object_get_ex(request, "command", &cmd_obj) ||
		!json_object_is_type(cmd_obj, json_type_string)) {
		reply = ctl_error_reply("missing \"command\"");
		goto out;
	}
	const char *command = json_object_get_string(cmd_obj);
	const char *error = NULL;
	if (strcmp(command, "windows") == 0) {
		reply = windows_reply(server);
	} else if (strcmp(command, "vms") == 0) {
		reply = vms_reply(server);
	} else if (strcmp(command, "focus") == 0) {
		struct view *view = view_arg(server, request, &error);
		if (view != NULL) {
			view_focus(view);
			reply = ctl_ok_reply();
		} else {
			reply = ctl_error_reply("%s", error);
		}
	} else if (strcmp(command, "close") == 0) {
		struct view *view = view_arg(server, request, &error);
		if (view != NULL) {
			view_close(view);
			reply = ctl_ok_reply();
		} else {
			reply = ctl_error_reply("%s", error);
		}
	} else if (strcmp(command, "exit") == 0) {
		client->exit_after = true;
		reply = ctl_ok_reply();
	} else if (strcmp(command, "version") == 0) {
		reply = ctl_ok_reply();
		json_object_object_add(reply, "version", json_object_new_string(VITRAIL_VERSION));
	} else if (vm_manager_handles(command)) {
		/* start, stop, run, logs; NULL: deferred */
		reply = vm_manager_ctl(server->vm_manager, client, command, request);
	} else if (strcmp(command, "menus-sync") == 0) {
		reply = apps_host_ctl_menus_sync(server, client, request); /* NULL: deferred */
	} else if (strcmp(command, "run-app") == 0) {
		reply = apps_host_ctl_run_app(server, client, request); /* NULL: deferred */
	} else if (strcmp(command, "clipboard") == 0) {
		reply = clipboard_reply(server);
	} else if (strcmp(command, "open") == 0) {
		reply = open_ctl(server->open, client, request); /* NULL: taken over */
	} else if (strcmp(command, "clipboard-clear") == 0) {
		clipboard_clear(server->clipboard);
		reply = ctl_ok_reply();
	} else {
		reply = ctl_error_reply("unknown command");
	}
out:
	json_object_put(request);
	return reply;
}

static void set_reply(struct ctl_client *client, struct json_object *reply)
{
	const char *text = json_object_to_json_string_ext(
		reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text);
	client->out = malloc(len + 1);
	if (client->out != NULL) {
		memcpy(client->out, text, len);
		client->out[len] = '\n';
		client->out_len = len + 1;
	}
	json_object_put(reply);
	wl_event_source_fd_update(client->source, WL_EVENT_WRITABLE);
}

static int handle_client(int fd, uint32_t mask, void *data)
{
	struct ctl_client *client = data;
	if (client->out != NULL) {
		if (mask & WL_EVENT_WRITABLE) {
			ssize_t r = send(fd, client->out + client->out_done,
				client->out_len - client->out_done, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				return 0;
			}
			if (r > 0) {
				client->out_done += (size_t)r;
			}
			if (r <= 0 || client->out_done == client->out_len) {
				client_destroy(client);
			}
		} else if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
			client_destroy(client);
		}
		return 0;
	}
	if (!(mask & WL_EVENT_READABLE)) {
		client_destroy(client);
		return 0;
	}
	ssize_t r = recv(
		fd, client->in + client->in_len, CTL_MAX_REQUEST - client->in_len, MSG_DONTWAIT);
	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			client_destroy(client);
		}
		return 0;
	}
	client->in_len += (size_t)r;
	char *newline = memchr(client->in, '\n', client->in_len);
	if (newline == NULL && r > 0 && client->in_len < CTL_MAX_REQUEST) {
		return 0;
	}
	if (newline == NULL && client->in_len == 0) {
		client_destroy(client); /* closed without a request */
		return 0;
	}
	if (newline == NULL && client->in_len >= CTL_MAX_REQUEST) {
		set_reply(client, ctl_error_reply("request too long"));
		return 0;
	}
	/* a whole line, or everything up to EOF */
	size_t line_len = newline != NULL ? (size_t)(newline - client->in) : client->in_len;
	char *line = malloc(line_len + 1);
	if (line == NULL) {
		client_destroy(client);
		return 0;
	}
	memcpy(line, client->in, line_len);
	line[line_len] = '\0';
	client->line_end = newline != NULL ? line_len + 1 : client->in_len;
	struct json_object *reply = handle_request(client, line);
	free(line);
	if (client->detached) {
		json_object_put(reply);
		client_destroy(client);
	} else if (reply != NULL) {
		set_reply(client, reply);
	} else if (!client->deferred) {
		set_reply(client, ctl_error_reply("internal error: no reply"));
	}
	return 0;
}

int ctl_client_detach(struct ctl_client *client, char **rest, size_t *rest_len)
{
	size_t n = client->in_len - client->line_end;
	*rest = NULL;
	*rest_len = 0;
	if (n > 0) {
		*rest = malloc(n);
		if (*rest == NULL) {
			return -1;
		}
		memcpy(*rest, client->in + client->line_end, n);
		*rest_len = n;
	}
	int fd = client->fd;
	client->fd = -1;
	client->detached = true;
	return fd;
}

void ctl_client_defer(struct ctl_client *client, int timeout_ms, struct wl_listener *destroy)
{
	client->deferred = true;
	wl_signal_add(&client->events.destroy, destroy);
	/* no more reading; a hangup still destroys the client */
	wl_event_source_fd_update(client->source, 0);
	wl_event_source_timer_update(client->timer, timeout_ms);
}

void ctl_client_reply(struct ctl_client *client, struct json_object *reply)
{
	client->deferred = false;
	wl_event_source_timer_update(client->timer, CTL_CLIENT_TIMEOUT_MS);
	set_reply(client, reply);
}

static int handle_client_timeout(void *data)
{
	struct ctl_client *client = data;
	client_destroy(client);
	return 0;
}

static int handle_listen(int fd, uint32_t mask, void *data)
{
	struct ctl *ctl = data;
	int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (conn < 0) {
		return 0;
	}
	if (ctl->n_clients >= CTL_MAX_CLIENTS) {
		close(conn);
		return 0;
	}
	struct ctl_client *client = calloc(1, sizeof(*client));
	if (client == NULL) {
		close(conn);
		return 0;
	}
	client->ctl = ctl;
	client->fd = conn;
	wl_signal_init(&client->events.destroy);
	client->in = malloc(CTL_MAX_REQUEST);
	wl_list_insert(&ctl->clients, &client->link);
	ctl->n_clients++;
	struct wl_event_loop *loop = ctl->server->loop;
	client->source = wl_event_loop_add_fd(loop, conn, WL_EVENT_READABLE, handle_client, client);
	client->timer = wl_event_loop_add_timer(loop, handle_client_timeout, client);
	if (client->in == NULL || client->source == NULL || client->timer == NULL) {
		client_destroy(client);
		return 0;
	}
	wl_event_source_timer_update(client->timer, CTL_CLIENT_TIMEOUT_MS);
	return 0;
}

struct ctl *ctl_create(struct server *server, const char *path)
{
	struct ctl *ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		return NULL;
	}
	ctl->server = server;
	ctl->fd = -1;
	wl_list_init(&ctl->clients);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		wlr_log(WLR_ERROR, "control socket path too long: %s", path);
		goto error;
	}
	strcpy(addr.sun_path, path);
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0) {
		goto error;
	}
	unlink(path);
	if (bind(ctl->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		wlr_log_errno(WLR_ERROR, "cannot bind the control socket %s", path);
		goto error;
	}
	ctl->path = strdup(path);
	if (ctl->path == NULL || chmod(path, 0600) < 0 || listen(ctl->fd, 16) < 0) {
		wlr_log_errno(WLR_ERROR, "cannot listen on the control socket %s", path);
		goto error;
	}
	ctl->source =
		wl_event_loop_add_fd(server->loop, ctl->fd, WL_EVENT_READABLE, handle_listen, ctl);
	if (ctl->source == NULL) {
		goto error;
	}
	return ctl;

error:
	ctl_destroy(ctl);
	return NULL;
}

void ctl_destroy(struct ctl *ctl)
{
	if (ctl == NULL) {
		return;
	}
	struct ctl_client *client, *tmp;
	wl_list_for_each_safe(client, tmp, &ctl->clients, link)
	{
		client->exit_after = false;
		client_destroy(client);
	}
	if (ctl->source != NULL) {
		wl_event_source_remove(ctl->source);
	}
	if (ctl->fd >= 0) {
		close(ctl->fd);
	}
	if (ctl->path != NULL) {
		unlink(ctl->path);
	}
	free(ctl->path);
	free(ctl);
}
