/*
 * The guest's side of the host's app menu: answers APPS_REQUEST with the
 * scanned app list (apps.c), tells the host when the application
 * directories change (inotify, debounced, then APPS_CHANGED), and starts a
 * listed app by desktop id on LAUNCH_APP (launch.c, run.c). The Exec line
 * never leaves the guest; the host only ever names a desktop id.
 */
#ifndef VITRAIL_AGENT_APPSYNC_H
#define VITRAIL_AGENT_APPSYNC_H

#include <stdint.h>
#include <wayland-server-core.h>
#include <vitrail/protocol.h>

struct agent_link;
struct agent_notify;
struct agent_run;
struct apps_watch;

/* Encoded bytes of one app list at most: the host's limit (which counts
 * less than the encoded messages), so a list is never refused. The link's
 * queue has room for a whole list (agent_link_connect). */
#define APPSYNC_MAX_LIST_BYTES VTP_MAX_APP_LIST_BYTES
/* Quiet time after the last directory change before APPS_CHANGED. */
#define APPSYNC_DEBOUNCE_MS 500

struct agent_appsync {
	struct agent_link *link;
	struct agent_run *run;
	struct apps_watch *watch; /* NULL if inotify is not available */
	struct wl_event_source *watch_source;
	struct wl_event_source *debounce_timer;
	struct agent_notify *notify; /* launch failures go there (set by the server) */
	struct wl_list launches; /* appsync_launch.link: apps started, until they exit */
};

/* An app that exits with a failure within this time of its launch is a
 * failed launch: the user gets a notification. */
#define APPSYNC_QUICK_EXIT_MS 3000

struct agent_appsync *agent_appsync_create(
	struct wl_event_loop *loop, struct agent_link *link, struct agent_run *run);
void agent_appsync_destroy(struct agent_appsync *appsync);
/* An APPS_REQUEST from the host: scan and send the list. */
void agent_appsync_request(struct agent_appsync *appsync, const struct vtp_msg *msg);
/* A LAUNCH_APP from the host: start the app, answer RUN_RESULT. */
void agent_appsync_launch(struct agent_appsync *appsync, const struct vtp_msg *msg);

#endif
