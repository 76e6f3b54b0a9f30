/*
 * The control socket vitrailctl talks to: one JSON request line in, one
 * JSON reply line out, then the server closes. JSON is built and parsed
 * with json-c, here in ipc/ only: the commands (ipc/commands.c and the
 * per-feature ctl_*.c) call the features' plain C functions and turn
 * their answers into replies.
 */
#ifndef VITRAIL_CTL_H
#define VITRAIL_CTL_H

#include <stdbool.h>
#include <stddef.h>

struct server;
struct ctl;
struct ctl_client;
struct json_object;

/* Listen on path (created 0600; a stale socket there is replaced). */
struct ctl *ctl_create(struct server *server, const char *path);
void ctl_destroy(struct ctl *ctl);

/* ---- for the commands of ipc/ ---- */

/* Error messages longer than this are cut (they may quote a guest). */
#define CTL_ERROR_MAX 1024

/* The replies every command shares: {"ok":true}, and {"ok":false,
 * "error":MESSAGE} with MESSAGE printf-formatted. NULL when out of memory
 * (a NULL reply is sent as "null"). */
struct json_object *ctl_ok_reply(void);
struct json_object *ctl_error_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The error reply with a feature's message (taken; NULL: "out of memory"). */
struct json_object *ctl_error_take(char *message);
/* The reply as one line, newline included (malloc'd, *len bytes); the
 * reply is taken. NULL when out of memory. */
char *ctl_reply_line(struct json_object *reply, size_t *len);

/* The member key of request: a string, or NULL when absent or null.
 * false when it is there but not a string. */
bool ctl_request_string(struct json_object *request, const char *key, const char **out);
/* The boolean member key, or fallback when absent or not a boolean. */
bool ctl_request_bool(struct json_object *request, const char *key, bool fallback);

/*
 * Commands answered later: the command calls a feature that returns an
 * operation (op) and promises a callback, calls ctl_client_defer and
 * returns NULL; the callback calls ctl_client_reply exactly once (it
 * takes the reply). If the client goes away first (hangup, timeout_ms,
 * vitrail exiting), cancel(op) is called instead, and the feature forgets
 * op without calling back.
 */
void ctl_client_defer(
	struct ctl_client *client, int timeout_ms, void (*cancel)(void *op), void *op);
void ctl_client_reply(struct ctl_client *client, struct json_object *reply);

/*
 * Commands followed by a byte stream (open): take the connection over.
 * Returns its fd (non-blocking, the command's to close) and, in *rest
 * (malloc'd, *rest_len bytes, NULL if none), what was read after the
 * request line. The command returns NULL and writes the one reply line
 * itself (ctl_reply_line). -1 (nothing taken) when out of memory.
 */
int ctl_client_detach(struct ctl_client *client, char **rest, size_t *rest_len);

/* `exit`: vitrail ends once the reply is sent. */
void ctl_client_exit_after(struct ctl_client *client);

#endif
