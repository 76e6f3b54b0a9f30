/*
 * vitrail: the host compositor of a seamless multi-VM desktop.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <wayland-server-core.h>
#include <wlr/util/log.h>
#include <vitrail/common/loop.h>

#include "config.h"
#include "services/open_policy.h"
#include "server.h"

static const char usage[] =
	"usage: vitrail [--config PATH] [--headless WxH[@SCALE][,...]] [--startup CMD] [--debug]\n"
	"       vitrail --check-config [--config PATH]\n"
	"       vitrail --version\n";

static int handle_signal(int signal, void *data)
{
	struct wl_display *display = data;
	wl_display_terminate(display);
	return 0;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "headless", required_argument, NULL, 'H' },
		{ "startup", required_argument, NULL, 's' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config_path = NULL;
	const char *headless = NULL;
	const char *startup = NULL;
	bool check_config = false;
	bool debug = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:H:s:Cdvh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'H':
			headless = optarg;
			break;
		case 's':
			startup = optarg;
			break;
		case 'C':
			check_config = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'v':
			printf("vitrail %s\n", VITRAIL_VERSION);
			return 0;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fputs(usage, stderr);
		return 2;
	}

	char *error = NULL;
	struct config *config = config_load(config_path, &error);
	if (config == NULL) {
		fprintf(stderr, "vitrail: %s\n",
			error != NULL ? error : "cannot load the configuration");
		free(error);
		return 1;
	}
	/* the [open] rules are parsed by the open policy: check them here too */
	struct open_policy *open_policy = open_policy_create(config, &error);
	if (open_policy == NULL) {
		fprintf(stderr, "vitrail: %s\n", error != NULL ? error : "out of memory");
		free(error);
		config_destroy(config);
		return 1;
	}
	open_policy_destroy(open_policy);
	if (check_config) {
		for (size_t i = 0; i < config->n_vms; i++) {
			if (!config_vm_check_files(config, &config->vms[i], &error)) {
				fprintf(stderr, "vitrail: %s\n", error);
				free(error);
				config_destroy(config);
				return 1;
			}
		}
		printf("%s: OK (%zu VM%s, %zu binding%s)\n",
			config->path != NULL ? config->path : "built-in defaults", config->n_vms,
			config->n_vms == 1 ? "" : "s", config->n_bindings,
			config->n_bindings == 1 ? "" : "s");
		config_destroy(config);
		return 0;
	}
	if (headless != NULL) {
		int w[16], h[16];
		float scales[16];
		size_t n;
		if (!server_parse_headless(headless, w, h, scales, 16, &n)) {
			fprintf(stderr,
				"vitrail: bad --headless value \"%s\" (want WxH[@SCALE][,...], "
				"SCALE 0.5 to 4)\n",
				headless);
			config_destroy(config);
			return 2;
		}
	}

	wlr_log_init(debug ? WLR_DEBUG : WLR_INFO, NULL);
	/* a guest or client that goes away mid-write must not kill us */
	signal(SIGPIPE, SIG_IGN);

	struct server server;
	int status = 1;
	if (!server_init(&server, config, headless)) {
		goto out;
	}
	struct wl_event_source *sigterm =
		wl_event_loop_add_signal(server.loop, SIGTERM, handle_signal, server.display);
	struct wl_event_source *sigint =
		wl_event_loop_add_signal(server.loop, SIGINT, handle_signal, server.display);
	if (!server_start(&server)) {
		loop_source_remove(&sigterm);
		loop_source_remove(&sigint);
		goto out;
	}
	if (startup != NULL) {
		server_spawn(&server, startup);
	}
	wl_display_run(server.display);
	status = 0;
	wlr_log(WLR_INFO, "exiting");
	loop_source_remove(&sigterm);
	loop_source_remove(&sigint);
out:
	server_finish(&server);
	config_destroy(config);
	return status;
}
