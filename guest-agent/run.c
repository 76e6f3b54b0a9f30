#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wlr/util/log.h>

#include "link.h"

struct agent_child {
	struct wl_list link; /* agent_run.children */
	pid_t pid;
	bool report;
	uint32_t request_id;
	run_exited_fn exited; /* agent_run_spawn_watch; NULL once unwatched */
	void *exited_data;
};

static void send_result(struct agent_run *run, uint32_t request_id, uint32_t kind, int32_t status)
{
	struct vtp_run_result r = { .request_id = request_id, .kind = kind, .status = status };
	agent_link_send(run->link, VTP_RUN_RESULT, 0, &r, NULL, 0);
}

static void child_exited(struct agent_run *run, pid_t pid, int status)
{
	struct agent_child *c;
	wl_list_for_each(c, &run->children, link) {
		if (c->pid != pid) {
			continue;
		}
		if (c->exited != NULL) {
			bool signaled = WIFSIGNALED(status);
			c->exited(c->exited_data, pid, signaled ? VTP_RUN_SIGNALED : VTP_RUN_EXITED,
				signaled ? WTERMSIG(status) : WEXITSTATUS(status));
		}
		if (WIFEXITED(status)) {
			wlr_log(WLR_DEBUG, "child %d exited with %d", (int)pid,
				WEXITSTATUS(status));
			if (c->report) {
				send_result(
					run, c->request_id, VTP_RUN_EXITED, WEXITSTATUS(status));
			}
		} else if (WIFSIGNALED(status)) {
			wlr_log(WLR_DEBUG, "child %d killed by signal %d", (int)pid,
				WTERMSIG(status));
			if (c->report) {
				send_result(run, c->request_id, VTP_RUN_SIGNALED, WTERMSIG(status));
			}
		}
		wl_list_remove(&c->link);
		free(c);
		return;
	}
}

static int handle_sigchld(int signal, void *data)
{
	struct agent_run *run = data;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			child_exited(run, pid, status);
		}
	}
	return 0;
}

struct agent_run *agent_run_create(struct wl_event_loop *loop, struct agent_link *link)
{
	struct agent_run *run = calloc(1, sizeof(*run));
	if (run == NULL) {
		return NULL;
	}
	run->link = link;
	wl_list_init(&run->children);
	run->sigchld = wl_event_loop_add_signal(loop, SIGCHLD, handle_sigchld, run);
	if (run->sigchld == NULL) {
		free(run);
		return NULL;
	}
	return run;
}

void agent_run_destroy(struct agent_run *run)
{
	if (run == NULL) {
		return;
	}
	struct agent_child *c, *tmp;
	wl_list_for_each_safe(c, tmp, &run->children, link) {
		wl_list_remove(&c->link);
		free(c);
	}
	wl_event_source_remove(run->sigchld);
	free(run);
}

static pid_t spawn(struct agent_run *run, char *const argv[], bool report, uint32_t request_id,
	run_exited_fn exited, void *exited_data, int *error)
{
	int pipefd[2];
	struct agent_child *c = calloc(1, sizeof(*c));

	*error = 0;
	if (c == NULL) {
		*error = ENOMEM;
		return -1;
	}
	if (pipe(pipefd) < 0) {
		*error = errno;
		free(c);
		return -1;
	}
	/* closed by a successful exec: the parent then reads nothing */
	fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
	fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
	pid_t agent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		*error = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		free(c);
		return -1;
	}
	if (pid == 0) {
		/* The event loop blocks the signals it handles; apps get a
		 * clean signal state. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		close(pipefd[0]);
		/* Apps die with the agent: SIGTERM when it exits or is killed,
		 * and they stay in its process group (no setsid), so whoever
		 * ends the group (vitrail for a local VM) also ends what they
		 * started; in a VM the agent's systemd unit ends its cgroup. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != agent) {
			_exit(127); /* the agent is already gone */
		}
		execvp(argv[0], argv);
		int e = errno;
		if (write(pipefd[1], &e, sizeof(e)) < 0) {
			/* nothing more to do */
		}
		_exit(127);
	}
	close(pipefd[1]);
	int child_errno = 0;
	ssize_t n;
	do {
		n = read(pipefd[0], &child_errno, sizeof(child_errno));
	} while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		/* exec failed; the child exits at once */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
		}
		*error = child_errno;
		free(c);
		return -1;
	}
	c->pid = pid;
	c->report = report;
	c->request_id = request_id;
	c->exited = exited;
	c->exited_data = exited_data;
	wl_list_insert(&run->children, &c->link);
	return pid;
}

pid_t agent_run_spawn(
	struct agent_run *run, char *const argv[], bool report, uint32_t request_id, int *error)
{
	return spawn(run, argv, report, request_id, NULL, NULL, error);
}

pid_t agent_run_spawn_watch(
	struct agent_run *run, char *const argv[], run_exited_fn exited, void *data, int *error)
{
	return spawn(run, argv, false, 0, exited, data, error);
}

void agent_run_unwatch(struct agent_run *run, pid_t pid)
{
	struct agent_child *c;
	wl_list_for_each(c, &run->children, link) {
		if (c->pid == pid) {
			c->exited = NULL;
			c->exited_data = NULL;
		}
	}
}

void agent_run_request(struct agent_run *run, const struct vtp_msg *msg)
{
	char *argv[VTP_MAX_ARGC + 1];
	size_t argc = 0;
	uint32_t id = msg->body.launch.request_id;

	/* The decoder checked: NUL-terminated strings, 1..VTP_MAX_ARGC. */
	for (uint32_t i = 0; i < msg->tail_len && argc < VTP_MAX_ARGC;) {
		char *arg = (char *)msg->tail + i;
		argv[argc++] = arg;
		i += (uint32_t)strlen(arg) + 1;
	}
	argv[argc] = NULL;
	if (argc == 0 || argv[0][0] == '\0') {
		send_result(run, id, VTP_RUN_FAILED, EINVAL);
		return;
	}
	int error = 0;
	pid_t pid = agent_run_spawn(run, argv, true, id, &error);
	if (pid < 0) {
		wlr_log(WLR_INFO, "host asked to run %s: %s", argv[0], strerror(error));
		send_result(run, id, VTP_RUN_FAILED, error);
		return;
	}
	wlr_log(WLR_INFO, "host asked to run %s: pid %d", argv[0], (int)pid);
}
