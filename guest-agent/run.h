/*
 * Programs the agent starts: the command given after `--` and the host's
 * RUN requests. Each runs with WAYLAND_DISPLAY set to the agent's socket;
 * exits are collected through SIGCHLD and RUN requests get their
 * RUN_RESULT.
 */
#ifndef VITRAIL_AGENT_RUN_H
#define VITRAIL_AGENT_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <wayland-server-core.h>
#include <vitrail/protocol.h>

struct agent_link;

struct agent_run {
	struct agent_link *link;
	struct wl_event_source *sigchld;
	struct wl_list children; /* agent_child.link */
};

struct agent_run *agent_run_create(struct wl_event_loop *loop, struct agent_link *link);
void agent_run_destroy(struct agent_run *run);
/* Start argv (argv[0] looked up in PATH). Returns the pid, or -1 and sets
 * *error to an errno value. report: send RUN_RESULT(request_id) on exit. */
pid_t agent_run_spawn(
	struct agent_run *run, char *const argv[], bool report, uint32_t request_id, int *error);
/* Called when a watched child ends: kind VTP_RUN_EXITED (status = exit
 * code) or VTP_RUN_SIGNALED (status = signal). */
typedef void (*run_exited_fn)(void *data, pid_t pid, uint32_t kind, int status);
/* Start argv like agent_run_spawn, without RUN_RESULT; exited is called when it
 * ends, unless agent_run_unwatch(pid) was called before. */
pid_t agent_run_spawn_watch(
	struct agent_run *run, char *const argv[], run_exited_fn exited, void *data, int *error);
void agent_run_unwatch(struct agent_run *run, pid_t pid);
/* A RUN message from the host. */
void agent_run_request(struct agent_run *run, const struct vtp_msg *msg);

#endif
