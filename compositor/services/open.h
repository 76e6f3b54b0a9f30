/*
 * Open in another VM: the router between a VM that asks to open a file or
 * a URL (OPEN_URL, OPEN_FILE_*) or `vitrailctl open`, the policy of the
 * config's [open] section (open_policy.h), and the VM that opens it
 * (DELIVER_URL, DELIVER_FILE_*, answered by DELIVER_RESULT).
 *
 * A file streams through in constant memory: every chunk is forwarded as
 * it arrives. At most OPEN_PENDING_MAX bytes of one transfer wait on the
 * host (while the target starts, while the user chooses, while the
 * target's link is backlogged, vm_link.h); beyond that the source is not
 * read (its link is paused, or the vitrailctl socket) until they drain.
 * The target checks the SHA-256 the source sent. An END before all the
 * bytes cancels a transfer, in both directions.
 *
 * The source learns the outcome as a result code and a message the host
 * writes: nothing the target says reaches the source VM.
 */
#ifndef VITRAIL_OPEN_H
#define VITRAIL_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vitrail/protocol.h>

struct open_router;
struct server;
struct vm_link;
struct wlr_keyboard;

#define OPEN_MAX_TRANSFERS 32 /* in progress, all sources */
#define OPEN_MAX_PER_SOURCE 4 /* in progress from one VM (or the host) */
#define OPEN_PENDING_MAX (4u * 1024u * 1024u) /* per transfer, held on the host */
#define OPEN_CONNECT_TIMEOUT_MS 180000 /* a target VM starting */
#define OPEN_RESULT_TIMEOUT_MS 120000 /* END sent -> DELIVER_RESULT */
#define OPEN_ASK_TIMEOUT_MS 300000 /* the user's choice */
#define OPEN_SOURCE_HOST "host" /* source name of vitrailctl requests */

/* After the links exist; NULL and *error ("FILE:LINE: ...") on a bad
 * [open] section. */
struct open_router *open_create(struct server *server, char **error);
void open_destroy(struct open_router *router);

/* OPEN_URL, OPEN_FILE_BEGIN/CHUNK/END or DELIVER_RESULT from link. false:
 * the message broke a rule and the link has been told to fail. */
bool open_handle_message(
	struct open_router *router, struct vm_link *link, const struct vtp_msg *msg);

/*
 * vitrailctl open, in two steps. open_host_request checks a request and
 * holds it (NULL and *error if refused). Then open_host_start hands it the
 * connection fd (the caller's: the router reads the file's size bytes from
 * it, rest_len of which came already in rest, and never closes it) or
 * open_host_abandon drops it. done is called once, never before
 * open_host_start returns, when the router is through with the
 * connection: with the outcome to answer, or NULL when there is nobody to
 * answer (vitrailctl went away, or hung up after sending the whole file).
 */
struct open_host_request {
	const char *vm; /* the target, or NULL */
	bool is_auto; /* the policy chooses */
	const char *url; /* a URL, or a file: */
	const char *name;
	const char *mime;
	int64_t size; /* -1: not given */
};
struct open_host_outcome {
	bool ok;
	const char *vm; /* ok: where it opened */
	const char *error; /* !ok: what went wrong, in host words */
	const char *code; /* !ok: "denied", "no-target", "cancelled", ... */
	const char *detail; /* the target's own words, or NULL */
};
typedef void (*open_host_done_fn)(void *data, const struct open_host_outcome *outcome);
struct open_host_source;
struct open_host_source *open_host_request(
	struct open_router *router, const struct open_host_request *request, char **error);
void open_host_start(struct open_host_source *source, int fd, const char *rest, size_t rest_len,
	open_host_done_fn done, void *data);
void open_host_abandon(struct open_host_source *source);

/* The chooser of @ask (open_chooser.c) picked a VM (NULL: cancelled). */
void open_chosen(struct open_router *router, void *transfer, struct vm_link *target);

#endif
