#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <vitrail/common/fs.h>
#include <wlr/util/log.h>

#include "link.h"
#include "run.h"
#include "server.h"

#ifndef VITRAIL_NET_APPLY
#define VITRAIL_NET_APPLY "/usr/libexec/vitrail/vitrail-net-apply"
#endif
#define STATUS_INTERVAL_MS 3000
#define RESOLVE_INTERVAL_MS 60000

struct agent_net {
	struct agent_server *server;
	struct wl_event_source *status_timer;
	struct wl_event_source *resolve_timer;
	char *path; /* the config file */
	uint32_t generation; /* of the config in the file */
	bool configured; /* a config was received */
	bool has_names; /* a rule names a host: apply again every minute */
	pid_t apply_pid; /* a run in progress, 0: none */
	bool apply_again; /* a newer config came during the run */
	uint32_t applying; /* generation of the run in progress */
	uint32_t applied; /* generation of the last finished run */
	uint32_t state; /* enum vtp_net_state of that run */
	uint8_t links[32]; /* bitmap of the config's link numbers */
};

/* Read the drop counters through the helper ("LINK PACKETS BYTES" lines),
 * those of the config's links only. */
static uint32_t read_counters(const struct agent_net *net, struct vtp_net_counter *out)
{
	FILE *f = popen("timeout 5 sudo -n " VITRAIL_NET_APPLY " --counters 2>/dev/null", "r");
	if (f == NULL) {
		return 0;
	}
	uint32_t n = 0;
	unsigned link;
	uint64_t packets, bytes;
	while (n < VTP_MAX_NET_LINKS &&
		fscanf(f, "%u %" SCNu64 " %" SCNu64, &link, &packets, &bytes) == 3) {
		bool dup = false;
		for (uint32_t i = 0; i < n; i++) {
			dup = dup || out[i].link == link;
		}
		if (link >= 1 && link <= 254 && !dup &&
			(net->links[link / 8] & (1u << (link % 8)))) {
			out[n++] = (struct vtp_net_counter){
				.link = link, .packets = packets, .bytes = bytes
			};
		}
	}
	pclose(f);
	return n;
}

static void send_status(struct agent_net *net)
{
	struct agent_link *link = net->server->link;
	if (!net->configured || net->applied == 0 || !agent_link_ready(link)) {
		return;
	}
	struct vtp_net_counter counters[VTP_MAX_NET_LINKS];
	uint32_t n = read_counters(net, counters);
	struct vtp_net_status st = { .generation = net->applied, .state = net->state, .count = n };
	agent_link_send(link, VTP_NET_STATUS, 0, &st, counters, n * (uint32_t)sizeof(counters[0]));
}

static void start_apply(struct agent_net *net);

static void handle_apply_exit(void *data, pid_t pid, uint32_t kind, int status)
{
	struct agent_net *net = data;
	net->apply_pid = 0;
	net->applied = net->applying;
	net->state = kind == VTP_RUN_EXITED && status == 0 ? VTP_NET_APPLIED : VTP_NET_FAILED;
	if (net->state == VTP_NET_FAILED) {
		wlr_log(WLR_ERROR, "network config %u: %s failed (%s %d)", net->applied,
			VITRAIL_NET_APPLY, kind == VTP_RUN_EXITED ? "exit" : "signal", status);
	} else {
		wlr_log(WLR_INFO, "network config %u applied", net->applied);
	}
	send_status(net);
	if (net->apply_again) {
		net->apply_again = false;
		start_apply(net);
	}
}

static void start_apply(struct agent_net *net)
{
	if (net->apply_pid != 0) {
		net->apply_again = true;
		return;
	}
	char *const argv[] = { "sudo", "-n", VITRAIL_NET_APPLY, net->path, NULL };
	int error = 0;
	net->applying = net->generation;
	pid_t pid = agent_run_spawn_watch(net->server->run, argv, handle_apply_exit, net, &error);
	if (pid < 0) {
		wlr_log(WLR_ERROR, "network config: cannot run sudo: %s", strerror(error));
		net->applied = net->generation;
		net->state = VTP_NET_FAILED;
		send_status(net);
		return;
	}
	net->apply_pid = pid;
}

/* Does a rule of the text name a host? Its link numbers go to net->links. */
static bool scan_config(struct agent_net *net, const char *text)
{
	bool names = false;
	memset(net->links, 0, sizeof(net->links));
	for (const char *line = text; *line != '\0';) {
		const char *end = strchr(line, '\n');
		unsigned k;
		if (sscanf(line, "link %u ", &k) == 1 && k >= 1 && k <= 254) {
			net->links[k / 8] |= (uint8_t)(1u << (k % 8));
		}
		if (strncmp(line, "rule ", 5) == 0) {
			const char *spec = strchr(line + 5, ' ');
			struct vtp_fw_rule rule;
			names = names ||
				(spec != NULL &&
					vtp_fw_rule_parse(
						spec + 1, (size_t)(end - spec - 1), &rule) &&
					rule.is_name);
		}
		line = end + 1;
	}
	return names;
}

void agent_net_handle_config(struct agent_net *net, const struct vtp_msg *msg)
{
	if (net->path == NULL) {
		wlr_log(WLR_ERROR, "network config: no XDG_RUNTIME_DIR to keep it in");
		return;
	}
	/* write the checked text, then rename: the helper never reads half */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", net->path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	bool ok = fd >= 0 && fs_write_all(fd, msg->tail, msg->tail_len);
	if (fd >= 0 && close(fd) != 0) {
		ok = false;
	}
	if (!ok || rename(tmp, net->path) != 0) {
		wlr_log_errno(WLR_ERROR, "network config: cannot write %s", net->path);
		unlink(tmp);
		return;
	}
	net->generation = msg->body.net_config.generation;
	net->configured = true;
	net->has_names = scan_config(net, (const char *)msg->tail);
	wlr_log(WLR_INFO, "network config %u received (%u bytes)", net->generation, msg->tail_len);
	start_apply(net);
	wl_event_source_timer_update(net->status_timer, STATUS_INTERVAL_MS);
	wl_event_source_timer_update(net->resolve_timer, net->has_names ? RESOLVE_INTERVAL_MS : 0);
}

static int handle_status_timer(void *data)
{
	struct agent_net *net = data;
	send_status(net);
	wl_event_source_timer_update(net->status_timer, STATUS_INTERVAL_MS);
	return 0;
}

static int handle_resolve_timer(void *data)
{
	struct agent_net *net = data;
	if (net->configured && net->has_names) {
		start_apply(net); /* names resolved again */
		wl_event_source_timer_update(net->resolve_timer, RESOLVE_INTERVAL_MS);
	}
	return 0;
}

void agent_net_link_lost(struct agent_net *net)
{
	if (net != NULL) {
		/* the next host numbers its configs anew: a run still going
		 * reports to nobody, the next config is applied after it */
		wl_event_source_timer_update(net->status_timer, 0);
		net->configured = false;
		net->generation = net->applying = net->applied = 0;
	}
}

struct agent_net *agent_net_create(struct agent_server *server)
{
	struct agent_net *net = calloc(1, sizeof(*net));
	if (net == NULL) {
		return NULL;
	}
	net->server = server;
	const char *dir = getenv("XDG_RUNTIME_DIR");
	if (dir != NULL && dir[0] == '/' && strlen(dir) < 3900) {
		size_t len = strlen(dir) + sizeof("/vitrail-net.conf");
		net->path = malloc(len);
		if (net->path != NULL) {
			snprintf(net->path, len, "%s/vitrail-net.conf", dir);
		}
	}
	net->status_timer = wl_event_loop_add_timer(server->loop, handle_status_timer, net);
	net->resolve_timer = wl_event_loop_add_timer(server->loop, handle_resolve_timer, net);
	if (net->status_timer == NULL || net->resolve_timer == NULL) {
		agent_net_destroy(net);
		return NULL;
	}
	return net;
}

void agent_net_destroy(struct agent_net *net)
{
	if (net == NULL) {
		return;
	}
	if (net->apply_pid != 0) {
		agent_run_unwatch(net->server->run, net->apply_pid);
	}
	if (net->status_timer != NULL) {
		wl_event_source_remove(net->status_timer);
	}
	if (net->resolve_timer != NULL) {
		wl_event_source_remove(net->resolve_timer);
	}
	free(net->path);
	free(net);
}
