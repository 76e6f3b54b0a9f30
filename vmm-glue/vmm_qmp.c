#include <vitrail/vmm_qmp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

static void copy_string(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src != NULL ? src : "");
}

static const char *member_string(json_object *obj, const char *key)
{
	json_object *value;
	if (!json_object_object_get_ex(obj, key, &value) ||
		!json_object_is_type(value, json_type_string)) {
		return NULL;
	}
	return json_object_get_string(value);
}

static bool member_bool(json_object *obj, const char *key)
{
	json_object *value;
	return json_object_object_get_ex(obj, key, &value) &&
		json_object_is_type(value, json_type_boolean) && json_object_get_boolean(value);
}

bool vmm_qmp_parse(const char *line, size_t len, struct vmm_qmp_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	if (len == 0 || len > VMM_QMP_LINE_MAX || len > INT32_MAX) {
		return false;
	}
	struct json_tokener *tok = json_tokener_new_ex(16);
	if (tok == NULL) {
		return false;
	}
	json_object *root = json_tokener_parse_ex(tok, line, (int)len);
	bool whole = root != NULL && json_tokener_get_error(tok) == json_tokener_success &&
		(size_t)json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	bool ok = false;
	if (!whole || !json_object_is_type(root, json_type_object)) {
		goto out;
	}

	json_object *id, *value;
	if (json_object_object_get_ex(root, "id", &id)) {
		if (!json_object_is_type(id, json_type_int)) {
			goto out;
		}
		msg->has_id = true;
		msg->id = json_object_get_int64(id);
	}

	if (json_object_object_get_ex(root, "QMP", &value)) {
		msg->kind = VMM_QMP_GREETING;
		ok = json_object_is_type(value, json_type_object);
	} else if (json_object_object_get_ex(root, "return", &value)) {
		msg->kind = VMM_QMP_RETURN;
		const char *status;
		if (json_object_is_type(value, json_type_object) &&
			(status = member_string(value, "status")) != NULL) {
			copy_string(msg->status, sizeof(msg->status), status);
			msg->running = member_bool(value, "running");
		} else if (json_object_is_type(value, json_type_string)) {
			copy_string(msg->text, sizeof(msg->text), json_object_get_string(value));
		}
		ok = true;
	} else if (json_object_object_get_ex(root, "error", &value)) {
		msg->kind = VMM_QMP_ERROR;
		if (json_object_is_type(value, json_type_object)) {
			const char *cls = member_string(value, "class");
			const char *desc = member_string(value, "desc");
			snprintf(msg->error, sizeof(msg->error), "%s: %s", cls ? cls : "Error",
				desc ? desc : "(no description)");
		} else {
			copy_string(msg->error, sizeof(msg->error), "Error: (malformed)");
		}
		ok = true;
	} else if (json_object_object_get_ex(root, "event", &value)) {
		if (!json_object_is_type(value, json_type_string)) {
			goto out;
		}
		msg->kind = VMM_QMP_EVENT;
		copy_string(msg->event, sizeof(msg->event), json_object_get_string(value));
		json_object *data;
		if (json_object_object_get_ex(root, "data", &data) &&
			json_object_is_type(data, json_type_object)) {
			msg->guest = member_bool(data, "guest");
			copy_string(
				msg->reason, sizeof(msg->reason), member_string(data, "reason"));
		}
		ok = true;
	}
out:
	json_object_put(root);
	return ok;
}

void vmm_qmp_lines_init(struct vmm_qmp_lines *lines)
{
	lines->len = 0;
	lines->start = 0;
}

bool vmm_qmp_lines_feed(struct vmm_qmp_lines *lines, const char *data, size_t len)
{
	if (lines->start > 0) {
		memmove(lines->buf, lines->buf + lines->start, lines->len - lines->start);
		lines->len -= lines->start;
		lines->start = 0;
	}
	/* One byte stays free for the NUL that vmm_qmp_lines_next writes. */
	if (len >= sizeof(lines->buf) - lines->len) {
		return false;
	}
	memcpy(lines->buf + lines->len, data, len);
	lines->len += len;
	return true;
}

const char *vmm_qmp_lines_next(struct vmm_qmp_lines *lines, size_t *len)
{
	char *begin = lines->buf + lines->start;
	size_t avail = lines->len - lines->start;
	char *nl = memchr(begin, '\n', avail);
	if (nl == NULL) {
		return NULL;
	}
	size_t n = (size_t)(nl - begin);
	lines->start += n + 1;
	if (n > 0 && begin[n - 1] == '\r') {
		n--;
	}
	begin[n] = '\0';
	*len = n;
	return begin;
}

struct vmm_qmp *vmm_qmp_create(const char *path, vmm_qmp_handler handler, void *data)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);

	struct vmm_qmp *qmp = calloc(1, sizeof(*qmp));
	if (qmp == NULL) {
		return NULL;
	}
	qmp->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (qmp->fd < 0) {
		goto error;
	}
	/* A local stream connect completes at once or fails (EAGAIN: the
	 * backlog is full, as good as refused). */
	if (connect(qmp->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		goto error;
	}
	qmp->state = VMM_QMP_WAIT_GREETING;
	qmp->next_id = 1;
	qmp->capabilities_id = -1;
	qmp->handler = handler;
	qmp->data = data;
	vmm_qmp_lines_init(&qmp->lines);
	return qmp;
error:;
	int saved = errno;
	if (qmp->fd >= 0) {
		close(qmp->fd);
	}
	free(qmp);
	errno = saved;
	return NULL;
}

void vmm_qmp_destroy(struct vmm_qmp *qmp)
{
	if (qmp == NULL) {
		return;
	}
	if (qmp->fd >= 0) {
		close(qmp->fd);
	}
	free(qmp);
}

static bool fail(struct vmm_qmp *qmp, const char *why)
{
	if (qmp->state != VMM_QMP_BROKEN) {
		copy_string(qmp->error, sizeof(qmp->error), why);
		qmp->state = VMM_QMP_BROKEN;
	}
	return false;
}

static bool execute(struct vmm_qmp *qmp, const char *command, const char *arg, json_object *value,
	int fd, int64_t *id);

bool vmm_qmp_execute(struct vmm_qmp *qmp, const char *command, int64_t *id)
{
	return execute(qmp, command, NULL, NULL, -1, id);
}

bool vmm_qmp_execute_int(
	struct vmm_qmp *qmp, const char *command, const char *arg, int64_t value, int64_t *id)
{
	return execute(qmp, command, arg, json_object_new_int64(value), -1, id);
}

static bool execute_args(
	struct vmm_qmp *qmp, const char *command, json_object *args, int fd, int64_t *id);

/* value (taken) is the one argument arg, when arg is not NULL. */
static bool execute(struct vmm_qmp *qmp, const char *command, const char *arg, json_object *value,
	int fd, int64_t *id)
{
	json_object *args = NULL;
	if (arg != NULL) {
		args = json_object_new_object();
		if (args == NULL || value == NULL) {
			json_object_put(args);
			json_object_put(value);
			return fail(qmp, "out of memory");
		}
		json_object_object_add(args, arg, value);
	}
	return execute_args(qmp, command, args, fd, id);
}

bool vmm_qmp_execute_object(
	struct vmm_qmp *qmp, const char *command, json_object *args, int64_t *id)
{
	if (args == NULL) {
		return fail(qmp, "out of memory");
	}
	return execute_args(qmp, command, args, -1, id);
}

bool vmm_qmp_set_link(struct vmm_qmp *qmp, const char *name, bool up, int64_t *id)
{
	json_object *args = json_object_new_object();
	if (args == NULL) {
		return fail(qmp, "out of memory");
	}
	json_object_object_add(args, "name", json_object_new_string(name));
	json_object_object_add(args, "up", json_object_new_boolean(up));
	return execute_args(qmp, "set_link", args, -1, id);
}

/* args (may be NULL) is owned by the call; fd >= 0 rides on the command's
 * bytes (SCM_RIGHTS), as getfd wants it. */
static bool execute_args(
	struct vmm_qmp *qmp, const char *command, json_object *args, int fd, int64_t *id)
{
	if (qmp->state == VMM_QMP_BROKEN) {
		json_object_put(args);
		return false;
	}
	json_object *obj = json_object_new_object();
	if (obj == NULL) {
		json_object_put(args);
		return fail(qmp, "out of memory");
	}
	int64_t n = qmp->next_id++;
	json_object_object_add(obj, "execute", json_object_new_string(command));
	if (args != NULL) {
		json_object_object_add(obj, "arguments", args);
	}
	json_object_object_add(obj, "id", json_object_new_int64(n));
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	char buf[512];
	int len = snprintf(buf, sizeof(buf), "%s\r\n", text != NULL ? text : "");
	json_object_put(obj);
	if (text == NULL || len < 0 || (size_t)len >= sizeof(buf)) {
		return fail(qmp, "command too long");
	}
	struct iovec iov = { .iov_base = buf, .iov_len = (size_t)len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	/* Commands are tiny and QEMU reads them promptly: a short write or a
	 * full socket buffer means something is wrong. */
	ssize_t written = sendmsg(qmp->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (written != len) {
		char why[128];
		snprintf(why, sizeof(why), "write: %s",
			written < 0 ? strerror(errno) : "short write");
		return fail(qmp, why);
	}
	if (id != NULL) {
		*id = n;
	}
	return true;
}

static bool handle_line(struct vmm_qmp *qmp, const char *line, size_t len)
{
	struct vmm_qmp_msg msg;
	if (!vmm_qmp_parse(line, len, &msg)) {
		return fail(qmp, "malformed QMP message");
	}
	switch (qmp->state) {
	case VMM_QMP_WAIT_GREETING:
		if (msg.kind != VMM_QMP_GREETING) {
			return fail(qmp, "no QMP greeting");
		}
		qmp->state = VMM_QMP_WAIT_CAPABILITIES;
		return vmm_qmp_execute(qmp, "qmp_capabilities", &qmp->capabilities_id);
	case VMM_QMP_WAIT_CAPABILITIES:
		if (msg.kind == VMM_QMP_EVENT) {
			return true; /* events may come before the answer: not for us yet */
		}
		if (!msg.has_id || msg.id != qmp->capabilities_id || msg.kind != VMM_QMP_RETURN) {
			return fail(qmp, "qmp_capabilities failed");
		}
		qmp->state = VMM_QMP_READY;
		/* Let the owner know through a RETURN for the capabilities id. */
		if (qmp->handler != NULL) {
			qmp->handler(qmp->data, &msg);
		}
		return qmp->state != VMM_QMP_BROKEN;
	case VMM_QMP_READY:
		if (msg.kind == VMM_QMP_GREETING) {
			return fail(qmp, "unexpected greeting");
		}
		if (qmp->handler != NULL) {
			qmp->handler(qmp->data, &msg);
		}
		return qmp->state != VMM_QMP_BROKEN;
	case VMM_QMP_BROKEN:
		break;
	}
	return false;
}

bool vmm_qmp_dispatch(struct vmm_qmp *qmp)
{
	char buf[4096];
	while (qmp->state != VMM_QMP_BROKEN) {
		ssize_t n = recv(qmp->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				break;
			}
			char why[128];
			snprintf(why, sizeof(why), "read: %s", strerror(errno));
			return fail(qmp, why);
		}
		if (n == 0) {
			return fail(qmp, "QEMU closed the QMP connection");
		}
		if (!vmm_qmp_lines_feed(&qmp->lines, buf, (size_t)n)) {
			return fail(qmp, "QMP line too long");
		}
		const char *line;
		size_t len;
		while (qmp->state != VMM_QMP_BROKEN &&
			(line = vmm_qmp_lines_next(&qmp->lines, &len)) != NULL) {
			if (len > 0 && !handle_line(qmp, line, len)) {
				return false;
			}
		}
	}
	return qmp->state != VMM_QMP_BROKEN;
}

bool vmm_qmp_wait(struct vmm_qmp *qmp, int timeout_ms)
{
	struct pollfd pfd = { .fd = qmp->fd, .events = POLLIN };
	int n = poll(&pfd, 1, timeout_ms);
	if (n < 0 && errno != EINTR) {
		return fail(qmp, "poll failed");
	}
	if (n > 0) {
		return vmm_qmp_dispatch(qmp);
	}
	return qmp->state != VMM_QMP_BROKEN;
}

bool vmm_qmp_execute_str(struct vmm_qmp *qmp, const char *command, const char *arg,
	const char *value, int fd, int64_t *id)
{
	return execute(qmp, command, arg, json_object_new_string(value), fd, id);
}
