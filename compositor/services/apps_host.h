/*
 * The host's side of the per-VM app menu. For each VM it asks the agent for
 * its app list (APPS_REQUEST on every connect, again on APPS_CHANGED but at
 * most once per APPS_HOST_REQUEST_INTERVAL_MS, and on `vitrailctl menus
 * sync`), receives APP_LIST_BEGIN / APP_INFO / APP_ICON / APP_LIST_END as a
 * strict state machine, and hands each complete list to menus.c, which
 * writes the desktop entries in a worker process (one at a time per VM; the
 * newest complete list waits meanwhile).
 *
 * Protocol rules checked here, on top of the decoder's (a violation
 * disconnects the VM like any malformed message): at most one request is
 * outstanding and a list answers it (its serial); no list inside a list;
 * APP_INFO indices 0, 1, ... count-1 in order; APP_ICON only for an app
 * already described, at most one per size; END after exactly count apps;
 * no desktop id twice; at most VTP_MAX_APP_LIST_BYTES of strings and
 * pixels per list.
 *
 * It also serves `vitrailctl menus sync` and `run-app` (LAUNCH_APP,
 * answered with the guest's RUN_RESULT) as plain functions below. Nothing a guest sends is ever run
 * on the host: entries always run `vitrailctl run-app VM ID`.
 */
#ifndef VITRAIL_APPS_HOST_H
#define VITRAIL_APPS_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vitrail/protocol.h>
#include <wayland-server-core.h>

struct server;
struct vm_link;
struct wl_listener;

#define APPS_HOST_REQUEST_INTERVAL_MS 2000 /* APPS_CHANGED answered at most this often */
#define APPS_HOST_SYNC_TIMEOUT_MS 60000 /* menus-sync: list received and written */
#define APPS_HOST_LAUNCH_TIMEOUT_MS 30000 /* run-app: RUN_RESULT after LAUNCH_APP */
#define APPS_HOST_START_TIMEOUT_MS 180000 /* run-app: a stopped VM's agent connects */

struct apps_host;

/* Follows the link's welcome and disconnect events; destroyed with the
 * link (its destroy event). */
struct apps_host *apps_host_create(struct server *server, struct vm_link *link);
/* server.events.new_vm_link: apps_host_create for that VM. */
void apps_host_handle_new_link(struct wl_listener *listener, void *data);
/* Answers pending control requests with an error. */
void apps_host_destroy(struct apps_host *host);
struct apps_host *apps_host_from_link(struct server *server, struct vm_link *link);

/* APPS_CHANGED, APP_LIST_BEGIN, APP_INFO, APP_ICON, APP_LIST_END. False when
 * the message broke the rules (the VM is being disconnected). */
bool apps_host_handle_message(struct apps_host *host, const struct vtp_msg *msg);
/* A RUN_RESULT: LAUNCH_APP's answers have the top bit set in their request
 * ids (RUN requests of others must not); others are ignored. */
bool apps_host_handle_run_result(struct apps_host *host, const struct vtp_msg *msg);

/* At startup: delete the menu entries of VMs that are not configured. */
void apps_host_prune(struct server *server);

/*
 * menus-sync: ask the VM called vm_name (NULL: every connected VM) for its
 * app list and write its entries; done gets, once every VM answered or
 * APPS_HOST_SYNC_TIMEOUT_MS passed, the VMs written (in the order they
 * finished) or an error naming each VM that failed. NULL and *error when
 * the request is refused; NULL and *error NULL when no VM is connected
 * (nothing to wait for: an empty list). done is never called before this
 * returns; apps_host_cancel_sync forgets the request without calling it.
 */
struct apps_sync;
struct apps_sync_vm {
	const char *name;
	uint32_t apps;
};
struct apps_host_sync_result {
	const char *error; /* NULL: every VM synced */
	const struct apps_sync_vm *vms;
	size_t n_vms;
};
typedef void (*apps_host_sync_done_fn)(void *data, const struct apps_host_sync_result *result);
struct apps_sync *apps_host_sync(struct server *server, const char *vm_name,
	apps_host_sync_done_fn done, void *data, char **error);
void apps_host_cancel_sync(struct apps_sync *sync);

/*
 * run-app: LAUNCH_APP of desktop id in the VM called vm_name, starting the
 * VM if it is stopped; done gets the guest's RUN_RESULT (or why there is
 * none). NULL and *error when refused. Same contract as apps_host_sync.
 */
struct apps_launch;
struct apps_host_launch_result {
	const char *error; /* NULL: started */
	const char *vm;
	const char *id;
};
typedef void (*apps_host_launch_done_fn)(void *data, const struct apps_host_launch_result *result);
struct apps_launch *apps_host_launch(struct server *server, const char *vm_name, const char *id,
	apps_host_launch_done_fn done, void *data, char **error);
void apps_host_cancel_launch(struct apps_launch *launch);

#endif
