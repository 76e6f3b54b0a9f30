/*
 * A small QMP (QEMU Machine Protocol) client for a unix socket: connect,
 * greeting, qmp_capabilities, commands with ids, events. Non-blocking: the
 * owner polls vmm_qmp_fd() for input and calls vmm_qmp_dispatch(). Lines
 * are bounded (VMM_QMP_LINE_MAX); a longer one, or anything that is not a
 * JSON object, breaks the connection.
 */
#ifndef VITRAIL_VMM_QMP_H
#define VITRAIL_VMM_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_QMP_LINE_MAX (64u * 1024u)

enum vmm_qmp_kind {
	VMM_QMP_GREETING, /* {"QMP": {...}} */
	VMM_QMP_RETURN, /* {"return": ..., "id": N} */
	VMM_QMP_ERROR, /* {"error": {"class", "desc"}, "id": N} */
	VMM_QMP_EVENT, /* {"event": "NAME", "data": {...}} */
};

/* One QMP message, reduced to what vitrail uses. */
struct vmm_qmp_msg {
	enum vmm_qmp_kind kind;
	bool has_id;
	int64_t id;
	char event[64]; /* EVENT: its name */
	/* EVENT SHUTDOWN: data.guest and data.reason ("guest-shutdown",
	 * "host-qmp-quit", "host-signal", "guest-reset", ...) */
	bool guest;
	char reason[64];
	/* RETURN of query-status: "running", "paused", "shutdown", ...; else "" */
	char status[32];
	bool running;
	char error[256]; /* ERROR: "Class: description" */
	/* RETURN of a string (human-monitor-command's output), cut; else "" */
	char text[512];
};

/* Parse one line (without its CR LF). false: not a QMP message. */
bool vmm_qmp_parse(const char *line, size_t len, struct vmm_qmp_msg *msg);

/* Splits a byte stream into lines, never holding more than VMM_QMP_LINE_MAX. */
struct vmm_qmp_lines {
	char buf[VMM_QMP_LINE_MAX];
	size_t len; /* bytes held */
	size_t start; /* where the next line begins */
};

void vmm_qmp_lines_init(struct vmm_qmp_lines *lines);
/* Append bytes; false when a line would exceed VMM_QMP_LINE_MAX. */
bool vmm_qmp_lines_feed(struct vmm_qmp_lines *lines, const char *data, size_t len);
/* The next whole line (CR LF or LF stripped, NUL-terminated in place), or
 * NULL when more bytes are needed. Valid until the next feed. */
const char *vmm_qmp_lines_next(struct vmm_qmp_lines *lines, size_t *len);

enum vmm_qmp_state {
	VMM_QMP_WAIT_GREETING,
	VMM_QMP_WAIT_CAPABILITIES,
	VMM_QMP_READY,
	VMM_QMP_BROKEN, /* EOF, I/O error or garbage: destroy it */
};

/* Called for every message once the connection is READY (the greeting and
 * the answer to qmp_capabilities are handled inside). */
typedef void (*vmm_qmp_handler)(void *data, const struct vmm_qmp_msg *msg);

struct vmm_qmp {
	int fd;
	enum vmm_qmp_state state;
	int64_t next_id;
	int64_t capabilities_id;
	struct vmm_qmp_lines lines;
	vmm_qmp_handler handler;
	void *data;
	char error[256]; /* why it broke */
};

/*
 * Connect to the QMP socket at path (non-blocking). Returns NULL and sets
 * errno (ENOENT, ECONNREFUSED: QEMU not listening yet) on failure.
 */
struct vmm_qmp *vmm_qmp_create(const char *path, vmm_qmp_handler handler, void *data);
void vmm_qmp_destroy(struct vmm_qmp *qmp);
static inline int vmm_qmp_fd(const struct vmm_qmp *qmp)
{
	return qmp->fd;
}
static inline bool vmm_qmp_ready(const struct vmm_qmp *qmp)
{
	return qmp->state == VMM_QMP_READY;
}
/* Read what the socket has and handle every whole line. Returns false
 * when the connection is broken (state BROKEN, error says why). */
bool vmm_qmp_dispatch(struct vmm_qmp *qmp);
/* Send {"execute": command, "id": N}; *id (may be NULL) gets N. */
bool vmm_qmp_execute(struct vmm_qmp *qmp, const char *command, int64_t *id);
/* The same with "arguments": {arg: value}. */
bool vmm_qmp_execute_int(
	struct vmm_qmp *qmp, const char *command, const char *arg, int64_t value, int64_t *id);
/* set_link {"name": name, "up": up}: a NIC's link up or down. */
bool vmm_qmp_set_link(struct vmm_qmp *qmp, const char *name, bool up, int64_t *id);
/* {"execute": command, "arguments": args}; args (a json-c object) is
 * taken. */
struct json_object;
bool vmm_qmp_execute_object(
	struct vmm_qmp *qmp, const char *command, struct json_object *args, int64_t *id);
/* Block up to timeout_ms for input and dispatch it (for tools and tests). */
bool vmm_qmp_wait(struct vmm_qmp *qmp, int timeout_ms);

/* A command with one string argument, {arg: "value"} (JSON-escaped); fd >= 0
 * goes along as SCM_RIGHTS on its bytes (for getfd). */
bool vmm_qmp_execute_str(struct vmm_qmp *qmp, const char *command, const char *arg,
	const char *value, int fd, int64_t *id);

#endif
