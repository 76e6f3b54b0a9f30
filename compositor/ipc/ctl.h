/*
 * The control socket vitrailctl talks to: one JSON request line in, one
 * JSON reply line out, then the server closes. JSON is built and parsed
 * with json-c only.
 */
#ifndef VITRAIL_CTL_H
#define VITRAIL_CTL_H

#include <wayland-server-core.h>

struct server;
struct ctl;
struct ctl_client;
struct json_object;

/* Error messages longer than this are cut (they may quote a guest). */
#define CTL_ERROR_MAX 1024

/* The replies every command shares: {"ok":true}, and {"ok":false,
 * "error":MESSAGE} with MESSAGE printf-formatted. NULL when out of memory
 * (a NULL reply is sent as "null"). */
struct json_object *ctl_ok_reply(void);
struct json_object *ctl_error_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Listen on path (created 0600; a stale socket there is replaced). */
struct ctl *ctl_create(struct server *server, const char *path);
void ctl_destroy(struct ctl *ctl);

/*
 * Commands answered later (menus-sync, run-app): the command's handler
 * returns NULL instead of a reply, after calling ctl_client_defer, and
 * later calls ctl_client_reply exactly once (it takes the reply). If the
 * client goes away first (hangup, timeout_ms, vitrail exiting), destroy is
 * notified with the client as data and the handler must forget it; the
 * listener is removed by the handler (wl_list_remove) either way.
 */
void ctl_client_defer(struct ctl_client *client, int timeout_ms, struct wl_listener *destroy);
void ctl_client_reply(struct ctl_client *client, struct json_object *reply);

/*
 * Commands followed by a byte stream (open): take the connection over.
 * Returns its fd (non-blocking, the handler's to close) and, in *rest
 * (malloc'd, *rest_len bytes, NULL if none), what was read after the
 * request line. The handler returns NULL and writes the one reply line
 * itself. -1 (nothing taken) when out of memory.
 */
int ctl_client_detach(struct ctl_client *client, char **rest, size_t *rest_len);

#endif
