/* The QMP parser, line splitter and client (against an in-process fake QEMU). */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vitrail/vmm_qmp.h>

static bool parse(const char *line, struct vmm_qmp_msg *msg)
{
	return vmm_qmp_parse(line, strlen(line), msg);
}

Test(parse, greeting)
{
	struct vmm_qmp_msg msg;
	cr_assert(
		parse("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": "
		      "7}, \"package\": \"Debian\"}, \"capabilities\": [\"oob\"]}}",
			&msg));
	cr_assert_eq(msg.kind, VMM_QMP_GREETING);
	cr_assert_not(msg.has_id);
}

Test(parse, returns)
{
	struct vmm_qmp_msg msg;
	cr_assert(parse("{\"return\": {}, \"id\": 7}", &msg));
	cr_assert_eq(msg.kind, VMM_QMP_RETURN);
	cr_assert(msg.has_id);
	cr_assert_eq(msg.id, 7);
	cr_assert_str_eq(msg.status, "");

	cr_assert(parse("{\"return\": {\"status\": \"running\", \"singlestep\": false, "
			"\"running\": true}, \"id\": 12}",
		&msg));
	cr_assert_eq(msg.kind, VMM_QMP_RETURN);
	cr_assert_str_eq(msg.status, "running");
	cr_assert(msg.running);
	cr_assert_eq(msg.id, 12);

	cr_assert(parse("{\"return\": {\"status\": \"paused\", \"running\": false}}", &msg));
	cr_assert_str_eq(msg.status, "paused");
	cr_assert_not(msg.running);
	cr_assert_not(msg.has_id);

	/* a string (human-monitor-command's output) */
	cr_assert(parse("{\"return\": \"Error: no \\\"x\\\"\\r\\n\", \"id\": 4}", &msg));
	cr_assert_eq(msg.kind, VMM_QMP_RETURN);
	cr_assert_str_eq(msg.text, "Error: no \"x\"\r\n");

	/* a return value that is not an object */
	cr_assert(parse("{\"return\": [1, 2], \"id\": 3}", &msg));
	cr_assert_eq(msg.kind, VMM_QMP_RETURN);
	cr_assert_str_eq(msg.status, "");
}

Test(parse, error)
{
	struct vmm_qmp_msg msg;
	cr_assert(parse("{\"id\": 4, \"error\": {\"class\": \"CommandNotFound\", \"desc\": "
			"\"The command nope has not been found\"}}",
		&msg));
	cr_assert_eq(msg.kind, VMM_QMP_ERROR);
	cr_assert_eq(msg.id, 4);
	cr_assert_str_eq(msg.error, "CommandNotFound: The command nope has not been found");

	cr_assert(parse("{\"error\": 5}", &msg));
	cr_assert_eq(msg.kind, VMM_QMP_ERROR);
	cr_assert(strstr(msg.error, "malformed") != NULL);
}

Test(parse, events)
{
	struct vmm_qmp_msg msg;
	cr_assert(
		parse("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": "
		      "\"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}",
			&msg));
	cr_assert_eq(msg.kind, VMM_QMP_EVENT);
	cr_assert_str_eq(msg.event, "SHUTDOWN");
	cr_assert(msg.guest);
	cr_assert_str_eq(msg.reason, "guest-shutdown");

	cr_assert(parse("{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": "
			"\"host-qmp-quit\"}}",
		&msg));
	cr_assert_not(msg.guest);
	cr_assert_str_eq(msg.reason, "host-qmp-quit");

	cr_assert(parse("{\"event\": \"RESUME\"}", &msg));
	cr_assert_eq(msg.kind, VMM_QMP_EVENT);
	cr_assert_str_eq(msg.event, "RESUME");
	cr_assert_str_eq(msg.reason, "");

	/* over-long names are cut, not overflowed */
	char line[512];
	char name[300];
	memset(name, 'E', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(line, sizeof(line), "{\"event\": \"%s\"}", name);
	cr_assert(parse(line, &msg));
	cr_assert_eq(strlen(msg.event), sizeof(msg.event) - 1);
}

Test(parse, rejects)
{
	struct vmm_qmp_msg msg;
	const char *bad[] = {
		"",
		"{",
		"[1, 2]",
		"\"return\"",
		"42",
		"{\"return\": {}} trailing",
		"{\"return\": {}}{\"return\": {}}",
		"{\"id\": \"seven\", \"return\": {}}",
		"{\"nothing\": 1}",
		"{\"event\": 5}",
		"not json at all",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_not(parse(bad[i], &msg), "accepted: %s", bad[i]);
	}
	/* the length given is what counts, not a NUL further on */
	cr_assert_not(vmm_qmp_parse("{\"return\": {}}", 5, &msg));
}

Test(lines, split_and_join)
{
	struct vmm_qmp_lines *lines = malloc(sizeof(*lines));
	vmm_qmp_lines_init(lines);
	size_t len;
	cr_assert_null(vmm_qmp_lines_next(lines, &len));
	cr_assert(vmm_qmp_lines_feed(lines, "{\"a\":", 5));
	cr_assert_null(vmm_qmp_lines_next(lines, &len));
	cr_assert(vmm_qmp_lines_feed(lines, "1}\r\n{\"b\":2}\n\r\n{\"c\"", 18));
	const char *line = vmm_qmp_lines_next(lines, &len);
	cr_assert_not_null(line);
	cr_assert_str_eq(line, "{\"a\":1}");
	cr_assert_eq(len, 7);
	line = vmm_qmp_lines_next(lines, &len);
	cr_assert_str_eq(line, "{\"b\":2}");
	line = vmm_qmp_lines_next(lines, &len);
	cr_assert_not_null(line);
	cr_assert_eq(len, 0);
	cr_assert_null(vmm_qmp_lines_next(lines, &len));
	cr_assert(vmm_qmp_lines_feed(lines, ":3}\r\n", 5));
	line = vmm_qmp_lines_next(lines, &len);
	cr_assert_str_eq(line, "{\"c\":3}");
	free(lines);
}

Test(lines, bounded)
{
	struct vmm_qmp_lines *lines = malloc(sizeof(*lines));
	vmm_qmp_lines_init(lines);
	char *chunk = malloc(VMM_QMP_LINE_MAX);
	memset(chunk, 'x', VMM_QMP_LINE_MAX);
	/* one byte less than the buffer fits (room for the NUL) ... */
	cr_assert(vmm_qmp_lines_feed(lines, chunk, VMM_QMP_LINE_MAX - 1));
	/* ... and nothing more */
	cr_assert_not(vmm_qmp_lines_feed(lines, "\n", 1));
	free(lines);

	/* consumed lines make room again */
	lines = malloc(sizeof(*lines));
	vmm_qmp_lines_init(lines);
	size_t len;
	for (int i = 0; i < 64; i++) {
		chunk[4000] = '\n';
		cr_assert(vmm_qmp_lines_feed(lines, chunk, 4001));
		cr_assert_not_null(vmm_qmp_lines_next(lines, &len));
		cr_assert_eq(len, 4000);
	}
	free(lines);
	free(chunk);
}

/* ---- the client against a fake QEMU ---- */

struct fake {
	char path[108];
	int listen_fd;
	int fd; /* accepted connection */
};

static void fake_listen(struct fake *f)
{
	snprintf(f->path, sizeof(f->path), "/tmp/vmm-qmp-test-%d.sock", (int)getpid());
	unlink(f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(f->listen_fd, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strcpy(addr.sun_path, f->path);
	cr_assert_eq(bind(f->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(listen(f->listen_fd, 4), 0);
	f->fd = -1;
}

static void fake_accept(struct fake *f)
{
	f->fd = accept(f->listen_fd, NULL, NULL);
	cr_assert_geq(f->fd, 0);
}

static void fake_close(struct fake *f)
{
	if (f->fd >= 0) {
		close(f->fd);
	}
	close(f->listen_fd);
	unlink(f->path);
}

static void fake_send(struct fake *f, const char *text)
{
	size_t len = strlen(text);
	cr_assert_eq(write(f->fd, text, len), (ssize_t)len);
}

/* Read one command line from the client: returns its "execute" and "id". */
static void fake_expect(struct fake *f, const char *command, int64_t *id)
{
	char buf[1024];
	size_t len = 0;
	while (len == 0 || buf[len - 1] != '\n') {
		struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
		cr_assert_eq(poll(&pfd, 1, 5000), 1, "client sent nothing");
		ssize_t n = read(f->fd, buf + len, sizeof(buf) - 1 - len);
		cr_assert_gt(n, 0);
		len += (size_t)n;
	}
	buf[len] = '\0';
	cr_assert(len >= 2 && buf[len - 2] == '\r', "not CR LF terminated: %s", buf);
	json_object *obj = json_tokener_parse(buf);
	cr_assert_not_null(obj, "not JSON: %s", buf);
	json_object *execute, *jid;
	cr_assert(json_object_object_get_ex(obj, "execute", &execute));
	cr_assert_str_eq(json_object_get_string(execute), command);
	cr_assert(json_object_object_get_ex(obj, "id", &jid));
	cr_assert(json_object_is_type(jid, json_type_int));
	*id = json_object_get_int64(jid);
	json_object_put(obj);
}

/* The next command is {"execute": command, "arguments": {arg: value}}. */
static void fake_expect_arg(struct fake *f, const char *command, const char *arg, int64_t value)
{
	char buf[1024];
	size_t len = 0;
	while (len == 0 || buf[len - 1] != '\n') {
		struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
		cr_assert_eq(poll(&pfd, 1, 5000), 1, "client sent nothing");
		ssize_t n = read(f->fd, buf + len, sizeof(buf) - 1 - len);
		cr_assert_gt(n, 0);
		len += (size_t)n;
	}
	buf[len] = '\0';
	json_object *obj = json_tokener_parse(buf);
	cr_assert_not_null(obj, "not JSON: %s", buf);
	json_object *execute, *args, *v;
	cr_assert(json_object_object_get_ex(obj, "execute", &execute));
	cr_assert_str_eq(json_object_get_string(execute), command);
	cr_assert(json_object_object_get_ex(obj, "arguments", &args), "no arguments: %s", buf);
	cr_assert(json_object_object_get_ex(args, arg, &v), "no %s: %s", arg, buf);
	cr_assert(json_object_is_type(v, json_type_int));
	cr_assert_eq(json_object_get_int64(v), value, "%s", buf);
	json_object_put(obj);
}

struct seen {
	int count;
	struct vmm_qmp_msg last[8];
};

static void record(void *data, const struct vmm_qmp_msg *msg)
{
	struct seen *seen = data;
	if (seen->count < 8) {
		seen->last[seen->count] = *msg;
	}
	seen->count++;
}

static void pump(struct vmm_qmp *qmp)
{
	cr_assert(vmm_qmp_wait(qmp, 5000), "client broke: %s", qmp->error);
}

static const char *greeting =
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
	"\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n";

Test(client, handshake_commands_events)
{
	struct fake f;
	fake_listen(&f);
	struct seen seen = { 0 };
	struct vmm_qmp *qmp = vmm_qmp_create(f.path, record, &seen);
	cr_assert_not_null(qmp);
	fake_accept(&f);
	cr_assert_not(vmm_qmp_ready(qmp));

	fake_send(&f, greeting);
	pump(qmp);
	int64_t id;
	fake_expect(&f, "qmp_capabilities", &id);
	cr_assert_not(vmm_qmp_ready(qmp));
	/* an event before the answer is not passed on */
	char line[256];
	fake_send(&f, "{\"event\": \"RESUME\"}\r\n");
	snprintf(line, sizeof(line), "{\"return\": {}, \"id\": %lld}\r\n", (long long)id);
	fake_send(&f, line);
	pump(qmp);
	cr_assert(vmm_qmp_ready(qmp));
	cr_assert_eq(seen.count, 1);
	cr_assert_eq(seen.last[0].kind, VMM_QMP_RETURN);
	cr_assert_eq(seen.last[0].id, qmp->capabilities_id);

	/* a command with an argument (vitrailctl set VM memory: the balloon) */
	cr_assert(vmm_qmp_execute_int(qmp, "balloon", "value", 768ll << 20, NULL));
	fake_expect_arg(&f, "balloon", "value", 768ll << 20);

	int64_t status_id;
	cr_assert(vmm_qmp_execute(qmp, "query-status", &status_id));
	int64_t got;
	fake_expect(&f, "query-status", &got);
	cr_assert_eq(got, status_id);
	cr_assert_neq(status_id, id);
	snprintf(line, sizeof(line),
		"{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": %lld}\r\n"
		"{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": "
		"\"guest-shutdown\"}}\r\n",
		(long long)got);
	fake_send(&f, line);
	pump(qmp);
	if (seen.count < 3) {
		pump(qmp);
	}
	cr_assert_eq(seen.count, 3);
	cr_assert_str_eq(seen.last[1].status, "running");
	cr_assert_eq(seen.last[1].id, status_id);
	cr_assert_eq(seen.last[2].kind, VMM_QMP_EVENT);
	cr_assert_str_eq(seen.last[2].reason, "guest-shutdown");

	/* EOF breaks it */
	close(f.fd);
	f.fd = -1;
	cr_assert_not(vmm_qmp_wait(qmp, 5000));
	cr_assert_eq(qmp->state, VMM_QMP_BROKEN);
	cr_assert(strstr(qmp->error, "closed") != NULL);
	cr_assert_not(vmm_qmp_execute(qmp, "quit", NULL));
	vmm_qmp_destroy(qmp);
	fake_close(&f);
}

Test(client, garbage_breaks)
{
	struct fake f;
	fake_listen(&f);
	struct vmm_qmp *qmp = vmm_qmp_create(f.path, NULL, NULL);
	cr_assert_not_null(qmp);
	fake_accept(&f);
	fake_send(&f, "{\"return\": {}}\r\n"); /* no greeting */
	cr_assert_not(vmm_qmp_wait(qmp, 5000));
	cr_assert_eq(qmp->state, VMM_QMP_BROKEN);
	vmm_qmp_destroy(qmp);
	fake_close(&f);

	fake_listen(&f);
	qmp = vmm_qmp_create(f.path, NULL, NULL);
	fake_accept(&f);
	fake_send(&f, "this is not json\r\n");
	cr_assert_not(vmm_qmp_wait(qmp, 5000));
	cr_assert(strstr(qmp->error, "malformed") != NULL);
	vmm_qmp_destroy(qmp);
	fake_close(&f);
}

Test(client, endless_line_breaks)
{
	struct fake f;
	fake_listen(&f);
	struct vmm_qmp *qmp = vmm_qmp_create(f.path, NULL, NULL);
	cr_assert_not_null(qmp);
	fake_accept(&f);
	char chunk[4096];
	memset(chunk, ' ', sizeof(chunk));
	bool broke = false;
	for (int i = 0; i < 64 && !broke; i++) {
		fake_send(&f, i == 0 ? "{\"QMP\": " : "");
		cr_assert_eq(write(f.fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
		broke = !vmm_qmp_wait(qmp, 5000);
	}
	cr_assert(broke, "a line of 256 KiB was accepted");
	cr_assert(strstr(qmp->error, "too long") != NULL);
	vmm_qmp_destroy(qmp);
	fake_close(&f);
}

Test(client, no_server)
{
	char path[108];
	snprintf(path, sizeof(path), "/tmp/vmm-qmp-none-%d.sock", (int)getpid());
	unlink(path);
	cr_assert_null(vmm_qmp_create(path, NULL, NULL));
	cr_assert_eq(errno, ENOENT);
	vmm_qmp_destroy(NULL);
}
