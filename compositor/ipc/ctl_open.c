#include "ipc/ctl_open.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/ctl.h"
#include "server.h"
#include "services/open.h"

/* The connection open took over, until the router is through with it. */
struct open_answer {
	int fd;
};

/* Tell vitrailctl (if anyone is to be told), then close. */
static void handle_open_done(void *data, const struct open_host_outcome *outcome)
{
	struct open_answer *answer = data;
	if (outcome != NULL) {
		struct json_object *reply = json_object_new_object();
		json_object_object_add(reply, "ok", json_object_new_boolean(outcome->ok));
		if (outcome->ok) {
			json_object_object_add(reply, "vm", json_object_new_string(outcome->vm));
			json_object_object_add(reply, "result", json_object_new_string("opened"));
		} else {
			json_object_object_add(
				reply, "error", json_object_new_string(outcome->error));
			json_object_object_add(
				reply, "code", json_object_new_string(outcome->code));
		}
		if (outcome->detail != NULL) {
			json_object_object_add(
				reply, "detail", json_object_new_string(outcome->detail));
		}
		size_t len = 0;
		char *line = ctl_reply_line(reply, &len);
		if (line != NULL) {
			/* short, and vitrailctl reads: its socket buffer takes it */
			ssize_t n = send(answer->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)n;
			free(line);
		}
	}
	close(answer->fd);
	free(answer);
}

/*
 * {"command":"open", "vm":NAME | "auto":true, "url":URL | "name":NAME,
 * "mime":TYPE,"size":N}, the file's N bytes following the request line.
 * Answered {"ok":true,"vm":NAME,"result":"opened"[,"detail":...]} or
 * {"ok":false,"error":...,"code":...[,"detail":...]} once it is over.
 */
struct json_object *ctl_open(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	/* members of another type count as absent */
	struct open_host_request req = { .size = -1 };
	ctl_request_string(request, "vm", &req.vm);
	ctl_request_string(request, "url", &req.url);
	ctl_request_string(request, "name", &req.name);
	ctl_request_string(request, "mime", &req.mime);
	req.is_auto = ctl_request_bool(request, "auto", false);
	struct json_object *v;
	if (json_object_object_get_ex(request, "size", &v) &&
		json_object_is_type(v, json_type_int)) {
		req.size = json_object_get_int64(v);
	}

	char *error = NULL;
	struct open_host_source *source = open_host_request(server->open, &req, &error);
	if (source == NULL) {
		return ctl_error_take(error);
	}
	char *rest = NULL;
	size_t rest_len = 0;
	struct open_answer *answer = calloc(1, sizeof(*answer));
	int fd = answer != NULL ? ctl_client_detach(client, &rest, &rest_len) : -1;
	if (fd < 0) {
		free(answer);
		open_host_abandon(source);
		return ctl_error_reply("out of memory");
	}
	answer->fd = fd;
	open_host_start(source, answer->fd, rest, rest_len, handle_open_done, answer);
	free(rest);
	return NULL;
}
