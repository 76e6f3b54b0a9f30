/*
 * vitrail-agent: runs inside a guest VM (or next to the host for a local
 * VM), serves guest apps as their Wayland compositor and forwards their
 * windows to the host vitrail compositor.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-server-core.h>
#include <wlr/util/log.h>

#include "launch.h"
#include "server.h"

static const char usage[] =
	"Usage: vitrail-agent [options] [-- COMMAND [ARGS...]]\n"
	"\n"
	"Serve guest apps as their Wayland compositor and show their windows on the\n"
	"vitrail host.\n"
	"\n"
	"  -c, --connect unix:PATH      connect to the host's socket for this VM\n"
	"  -c, --connect virtio[:NAME]  use the virtio-serial port NAME\n"
	"                               (default org.vitrail.0), inside a VM\n"
	"  -p, --pool pci[:BDF]         the shared pool is the ivshmem device's BAR2\n"
	"                               (found by its id 1af4:1110, or at BDF)\n"
	"  -s, --socket NAME            Wayland socket name (default: wayland-N)\n"
	"  -v, --verbose                debug logging\n"
	"  -h, --help                   this text\n"
	"  -V, --version                print the version\n"
	"\n"
	"COMMAND runs with WAYLAND_DISPLAY set to the agent's socket. Without\n"
	"--connect the agent serves apps without a host. When the host goes away the\n"
	"apps keep running and the agent reconnects.\n";

int main(int argc, char *argv[])
{
	static const struct option long_options[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "pool", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_options options = { 0 };
	enum wlr_log_importance level = WLR_INFO;
	int c;

	/* started by weston-terminal for a Terminal=true app (launch.h) */
	const char *terminal_run = getenv(LAUNCH_TERMINAL_RUN_ENV);
	if (terminal_run != NULL) {
		return agent_launch_terminal_run(terminal_run);
	}

	while ((c = getopt_long(argc, argv, "+c:p:s:vhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'c':
			options.connect = optarg;
			break;
		case 'p':
			options.pool = optarg;
			break;
		case 's':
			options.socket_name = optarg;
			break;
		case 'v':
			level = WLR_DEBUG;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_SUCCESS;
		case 'V':
			puts("vitrail-agent " VITRAIL_VERSION);
			return EXIT_SUCCESS;
		default:
			fputs(usage, stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind < argc) {
		options.command = &argv[optind];
	}
	if (options.socket_name != NULL &&
		(options.socket_name[0] == '\0' || strchr(options.socket_name, '/') != NULL)) {
		fprintf(stderr, "vitrail-agent: --socket takes a name, not a path\n");
		return EXIT_FAILURE;
	}

	wlr_log_init(level, NULL);
	/* Writes to a closed host socket are errors, not signals. */
	signal(SIGPIPE, SIG_IGN);

	struct agent_server *server = agent_server_create(&options);
	if (server == NULL) {
		return EXIT_FAILURE;
	}
	if (options.connect == NULL) {
		wlr_log(WLR_INFO, "no --connect: serving apps without a host");
	}
	if (!agent_server_start(server, &options)) {
		agent_server_destroy(server);
		return EXIT_FAILURE;
	}
	wl_display_run(server->display);
	agent_server_destroy(server);
	return EXIT_SUCCESS;
}
