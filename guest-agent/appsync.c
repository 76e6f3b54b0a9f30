#include "appsync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wlr/util/log.h>
#include <vitrail/common/loop.h>

#include "apps.h"
#include "launch.h"
#include "link.h"
#include "notify.h"
#include "run.h"

static int handle_debounce(void *data)
{
	struct agent_appsync *appsync = data;
	if (agent_link_ready(appsync->link)) {
		wlr_log(WLR_DEBUG, "apps: the application directories changed");
		agent_link_send(appsync->link, VTP_APPS_CHANGED, 0, NULL, NULL, 0);
	}
	return 0;
}

static int handle_watch(int fd, uint32_t mask, void *data)
{
	struct agent_appsync *appsync = data;
	if (agent_apps_watch_handle(appsync->watch)) {
		/* a burst of changes (a package install) gives one hint */
		wl_event_source_timer_update(appsync->debounce_timer, APPSYNC_DEBOUNCE_MS);
	}
	return 0;
}

static bool send_to_link(
	void *data, uint16_t type, const void *body, const void *tail, uint32_t tail_len)
{
	struct agent_link *link = data;
	agent_link_send(link, type, 0, body, tail, tail_len);
	return agent_link_ready(link);
}

void agent_appsync_request(struct agent_appsync *appsync, const struct vtp_msg *msg)
{
	uint32_t serial = msg->body.apps_request.serial;
	struct apps_list *list = agent_apps_scan();
	if (list == NULL) {
		wlr_log(WLR_ERROR, "apps: cannot scan the applications (out of memory)");
	}
	/* list NULL sends an empty list: the host still gets its answer */
	if (!agent_apps_send(list, serial, APPSYNC_MAX_LIST_BYTES, send_to_link, appsync->link)) {
		wlr_log(WLR_INFO, "apps: the link went away while sending the app list");
	} else {
		wlr_log(WLR_DEBUG, "apps: sent %zu apps (request %u)",
			list != NULL ? list->n_apps : 0, serial);
	}
	agent_apps_list_destroy(list);
}

static void send_result(
	struct agent_appsync *appsync, uint32_t request_id, uint32_t kind, int status)
{
	struct vtp_run_result r = { .request_id = request_id, .kind = kind, .status = status };
	agent_link_send(appsync->link, VTP_RUN_RESULT, 0, &r, NULL, 0);
}

struct appsync_launch {
	struct agent_appsync *appsync;
	struct wl_list link;
	pid_t pid;
	struct timespec start;
	char id[VTP_MAX_DESKTOP_ID + 1];
};

static void launch_failed(struct agent_appsync *appsync, const char *id, const char *why)
{
	char summary[VTP_MAX_DESKTOP_ID + 32];
	snprintf(summary, sizeof(summary), "Cannot start %s", id);
	if (!agent_notify_agent(appsync->notify, summary, why)) {
		wlr_log(WLR_INFO, "launch of %s failed; the host takes no notifications", id);
	}
}

static void handle_launch_exited(void *data, pid_t pid, uint32_t kind, int status)
{
	struct appsync_launch *l = data;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(now.tv_sec - l->start.tv_sec) * 1000 +
		(now.tv_nsec - l->start.tv_nsec) / 1000000;
	if (ms < APPSYNC_QUICK_EXIT_MS && (kind != VTP_RUN_EXITED || status != 0)) {
		char why[96];
		if (kind == VTP_RUN_EXITED) {
			snprintf(why, sizeof(why), "it exited at once with status %d", status);
		} else {
			snprintf(why, sizeof(why), "it was killed at once by signal %d", status);
		}
		wlr_log(WLR_INFO, "launch of %s failed: %s", l->id, why);
		launch_failed(l->appsync, l->id, why);
	}
	wl_list_remove(&l->link);
	free(l);
}

void agent_appsync_launch(struct agent_appsync *appsync, const struct vtp_msg *msg)
{
	uint32_t request_id = msg->body.launch.request_id;
	/* the decoder checked the desktop id rules; the tail is NUL-terminated */
	const char *id = (const char *)msg->tail;
	char *error = NULL;

	errno = 0;
	char **argv = agent_launch_argv_for_id(id, NULL, &error);
	if (argv == NULL) {
		int e = errno != 0 ? errno : EINVAL;
		wlr_log(WLR_INFO, "host asked to launch %s: %s", id,
			error != NULL ? error : strerror(e));
		launch_failed(appsync, id, error != NULL ? error : strerror(e));
		free(error);
		send_result(appsync, request_id, VTP_RUN_FAILED, e);
		return;
	}
	int spawn_error = 0;
	struct appsync_launch *l = calloc(1, sizeof(*l));
	pid_t pid = -1;
	if (l == NULL) {
		spawn_error = ENOMEM;
	} else {
		l->appsync = appsync;
		snprintf(l->id, sizeof(l->id), "%s", id);
		clock_gettime(CLOCK_MONOTONIC, &l->start);
		pid = agent_run_spawn_watch(
			appsync->run, argv, handle_launch_exited, l, &spawn_error);
	}
	if (pid >= 0) {
		l->pid = pid;
		wl_list_insert(&appsync->launches, &l->link);
	} else {
		free(l);
	}
	if (pid < 0) {
		char why[160];
		snprintf(why, sizeof(why), "cannot run %s: %s", argv[0], strerror(spawn_error));
		wlr_log(WLR_INFO, "host asked to launch %s: %s", id, why);
		launch_failed(appsync, id, why);
		send_result(appsync, request_id, VTP_RUN_FAILED, spawn_error);
	} else {
		wlr_log(WLR_INFO, "host asked to launch %s: pid %d", id, (int)pid);
		send_result(appsync, request_id, VTP_RUN_STARTED, 0);
	}
	agent_launch_argv_free(argv);
}

struct agent_appsync *agent_appsync_create(
	struct wl_event_loop *loop, struct agent_link *link, struct agent_run *run)
{
	struct agent_appsync *appsync = calloc(1, sizeof(*appsync));
	if (appsync == NULL) {
		return NULL;
	}
	appsync->link = link;
	appsync->run = run;
	wl_list_init(&appsync->launches);
	appsync->debounce_timer = wl_event_loop_add_timer(loop, handle_debounce, appsync);
	if (appsync->debounce_timer == NULL) {
		goto error;
	}
	appsync->watch = agent_apps_watch_create();
	if (appsync->watch == NULL) {
		/* the list is still sent when asked, just not re-announced */
		wlr_log(WLR_ERROR, "apps: cannot watch the application directories");
		return appsync;
	}
	appsync->watch_source = wl_event_loop_add_fd(loop, agent_apps_watch_fd(appsync->watch),
		WL_EVENT_READABLE, handle_watch, appsync);
	if (appsync->watch_source == NULL) {
		goto error;
	}
	return appsync;

error:
	agent_appsync_destroy(appsync);
	return NULL;
}

void agent_appsync_destroy(struct agent_appsync *appsync)
{
	if (appsync == NULL) {
		return;
	}
	loop_source_remove(&appsync->watch_source);
	loop_source_remove(&appsync->debounce_timer);
	agent_apps_watch_destroy(appsync->watch);
	struct appsync_launch *l, *tmp;
	wl_list_for_each_safe(l, tmp, &appsync->launches, link) {
		agent_run_unwatch(appsync->run, l->pid);
		wl_list_remove(&l->link);
		free(l);
	}
	free(appsync);
}
