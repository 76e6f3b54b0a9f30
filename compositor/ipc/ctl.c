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
#include <vitrail/common/loop.h>

#include "ipc/commands.h"
#include "server.h"

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
	void (*cancel)(void *op); /* deferred: forget op when the client goes */
	void *op;
	bool detached; /* the fd was handed over (ctl_client_detach) */
	size_t line_end; /* bytes of the request line, newline included */
};

static void client_destroy(struct ctl_client *client)
{
	if (client == NULL) {
		return;
	}
	if (client->deferred && client->cancel != NULL) {
		client->deferred = false;
		client->cancel(client->op);
	}
	loop_source_remove(&client->source);
	loop_source_remove(&client->timer);
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

struct json_object *ctl_error_take(char *message)
{
	struct json_object *reply =
		ctl_error_reply("%s", message != NULL ? message : "out of memory");
	free(message);
	return reply;
}

char *ctl_reply_line(struct json_object *reply, size_t *len)
{
	const char *text = json_object_to_json_string_ext(
		reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(text);
	char *line = malloc(n + 1);
	if (line != NULL) {
		memcpy(line, text, n);
		line[n] = '\n';
		*len = n + 1;
	}
	json_object_put(reply);
	return line;
}

bool ctl_request_string(struct json_object *request, const char *key, const char **out)
{
	struct json_object *value;
	*out = NULL;
	if (!json_object_object_get_ex(request, key, &value) || value == NULL) {
		return true;
	}
	if (!json_object_is_type(value, json_type_string)) {
		return false;
	}
	*out = json_object_get_string(value);
	return true;
}

bool ctl_request_bool(struct json_object *request, const char *key, bool fallback)
{
	struct json_object *value;
	if (json_object_object_get_ex(request, key, &value) &&
		json_object_is_type(value, json_type_boolean)) {
		return json_object_get_boolean(value);
	}
	return fallback;
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
	const struct ctl_command *command = commands_find(json_object_get_string(cmd_obj));
	if (command == NULL) {
		reply = ctl_error_reply("unknown command");
		goto out;
	}
	/* NULL: deferred (ctl_client_defer) or taken over (ctl_client_detach) */
	reply = command->run(client, server, request);
out:
	json_object_put(request);
	return reply;
}

static void set_reply(struct ctl_client *client, struct json_object *reply)
{
	client->out = ctl_reply_line(reply, &client->out_len);
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

void ctl_client_defer(struct ctl_client *client, int timeout_ms, void (*cancel)(void *op), void *op)
{
	client->deferred = true;
	client->cancel = cancel;
	client->op = op;
	/* no more reading; a hangup still destroys the client */
	wl_event_source_fd_update(client->source, 0);
	wl_event_source_timer_update(client->timer, timeout_ms);
}

void ctl_client_reply(struct ctl_client *client, struct json_object *reply)
{
	client->deferred = false;
	client->cancel = NULL;
	client->op = NULL;
	wl_event_source_timer_update(client->timer, CTL_CLIENT_TIMEOUT_MS);
	set_reply(client, reply);
}

void ctl_client_exit_after(struct ctl_client *client)
{
	client->exit_after = true;
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
	wl_list_for_each_safe(client, tmp, &ctl->clients, link) {
		client->exit_after = false;
		client_destroy(client);
	}
	loop_source_remove(&ctl->source);
	if (ctl->fd >= 0) {
		close(ctl->fd);
	}
	if (ctl->path != NULL) {
		unlink(ctl->path);
	}
	free(ctl->path);
	free(ctl);
}
