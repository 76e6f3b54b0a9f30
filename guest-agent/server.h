/*
 * The agent's Wayland server: a wlroots compositor on the headless backend
 * that renders nothing. It owns the globals guest apps bind, the seat, the
 * list of forwarded windows, and the link to the host, and dispatches what
 * the host sends.
 */
#ifndef VITRAIL_AGENT_SERVER_H
#define VITRAIL_AGENT_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <vitrail/protocol.h>

struct agent_options {
	const char *connect; /* NULL: no host */
	const char *pool;
	const char *socket_name; /* NULL: wayland-N */
	char *const *command; /* run under the agent at start, or NULL */
};

struct agent_server {
	struct wl_display *display;
	struct wl_event_loop *loop;
	const char *socket;

	struct wlr_backend *backend;
	struct wlr_renderer *renderer;
	struct wlr_allocator *allocator;
	struct wlr_compositor *compositor;
	/* One headless output per integer scale a window needs (index scale -
	 * 1), made on demand: a window enters the one of its host output's
	 * scale, so its apps draw at that scale. `output` is the one of the
	 * scale in OUTPUT_INFO, for windows the host has not told a scale. */
	struct wlr_output *outputs[VTP_MAX_SCALE];
	struct wlr_output *output;
	struct wlr_output_layout *layout;
	bool started; /* agent_server_start ran: new outputs get the slow timer */
	struct wlr_seat *seat;
	struct wlr_xdg_shell *xdg_shell;
	struct wlr_xdg_decoration_manager_v1 *decoration;
	struct wlr_presentation *presentation;

	struct agent_link *link;
	struct agent_input *input;
	struct agent_cursor *cursor;
	struct agent_run *run;
	struct agent_clipboard *clipboard;
	struct agent_appsync *appsync;
	struct incoming *incoming; /* files and URLs delivered to this guest */
	struct outgoing *outgoing; /* vitrail-open requests; NULL if not served */
	struct agent_notify *notify; /* org.freedesktop.Notifications (notify.h) */
	struct agent_idle_inhibit *idle_inhibit; /* apps' idle inhibitors (idle_inhibit.h) */
	struct agent_net *net; /* service VMs: links and firewall rules (net.h) */
	struct agent_xwayland *xwayland; /* X11 apps; NULL if not installed (xwayland.h) */

	struct wl_list windows; /* agent_window.link, oldest first */
	uint32_t next_window_id;
	uint32_t next_buffer_id;
	struct vtp_output_info output_info;

	struct wl_listener new_xdg_surface;
	struct wl_listener new_toplevel_decoration;
	struct wl_listener request_set_selection;
	struct wl_listener request_set_primary_selection;
	struct wl_event_source *sigterm;
	struct wl_event_source *sigint;
};

struct agent_server *agent_server_create(const struct agent_options *options);
void agent_server_destroy(struct agent_server *server);
/* Start the backend and the link and run the command; false on failure. */
bool agent_server_start(struct agent_server *server, const struct agent_options *options);

/* The output of this scale (1..VTP_MAX_SCALE), made if needed; NULL if it
 * cannot be made. */
struct wlr_output *agent_server_output(struct agent_server *server, uint32_t scale);

/* The announced window with this host id, or NULL. */
struct agent_window *agent_server_find_window(struct agent_server *server, uint32_t id);

#endif
