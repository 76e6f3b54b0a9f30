#include "server.h"

#include <drm_fourcc.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/interfaces/wlr_output.h>
#include <wlr/render/allocator.h>
#include <wlr/render/pixman.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_data_control_v1.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_primary_selection.h>
#include <wlr/types/wlr_primary_selection_v1.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_viewporter.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_output_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>
#include <vitrail/common/loop.h>

#include "appsync.h"
#include "idle_inhibit.h"
#include "net.h"
#include "clipboard.h"
#include "cursor.h"
#include "incoming.h"
#include "notify.h"
#include "input.h"
#include "link.h"
#include "outgoing.h"
#include "paint.h"
#include "run.h"
#include "window.h"
#include "xwayland.h"

#define DEFAULT_WIDTH 1920
#define DEFAULT_HEIGHT 1080
#define DEFAULT_REFRESH_MHZ 60000

/* ---- globals and their events ---- */

static void handle_new_xdg_surface(struct wl_listener *listener, void *data)
{
	struct agent_server *server = wl_container_of(listener, server, new_xdg_surface);
	struct wlr_xdg_surface *xdg = data;

	if (xdg->role != WLR_XDG_SURFACE_ROLE_TOPLEVEL && xdg->role != WLR_XDG_SURFACE_ROLE_POPUP) {
		return;
	}
	if (agent_window_create(server, xdg) == NULL) {
		wlr_log(WLR_ERROR, "cannot track a new window");
	}
}

struct decoration {
	struct wlr_xdg_toplevel_decoration_v1 *decoration;
	struct wl_listener request_mode;
	struct wl_listener destroy;
};

static void handle_decoration_request_mode(struct wl_listener *listener, void *data)
{
	struct decoration *d = wl_container_of(listener, d, request_mode);
	/* The host draws every frame: always server-side. */
	wlr_xdg_toplevel_decoration_v1_set_mode(
		d->decoration, WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

static void handle_decoration_destroy(struct wl_listener *listener, void *data)
{
	struct decoration *d = wl_container_of(listener, d, destroy);
	wl_list_remove(&d->request_mode.link);
	wl_list_remove(&d->destroy.link);
	free(d);
}

static void handle_new_toplevel_decoration(struct wl_listener *listener, void *data)
{
	struct wlr_xdg_toplevel_decoration_v1 *decoration = data;
	struct decoration *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return;
	}
	d->decoration = decoration;
	d->request_mode.notify = handle_decoration_request_mode;
	wl_signal_add(&decoration->events.request_mode, &d->request_mode);
	d->destroy.notify = handle_decoration_destroy;
	wl_signal_add(&decoration->events.destroy, &d->destroy);
	wlr_xdg_toplevel_decoration_v1_set_mode(
		decoration, WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

static void handle_request_set_selection(struct wl_listener *listener, void *data)
{
	struct agent_server *server = wl_container_of(listener, server, request_set_selection);
	struct wlr_seat_request_set_selection_event *event = data;
	wlr_seat_set_selection(server->seat, event->source, event->serial);
}

static void handle_request_set_primary_selection(struct wl_listener *listener, void *data)
{
	struct agent_server *server =
		wl_container_of(listener, server, request_set_primary_selection);
	struct wlr_seat_request_set_primary_selection_event *event = data;
	wlr_seat_set_primary_selection(server->seat, event->source, event->serial);
}

static int handle_terminate(int signal, void *data)
{
	struct agent_server *server = data;
	wlr_log(WLR_INFO, "signal %d: exiting", signal);
	wl_display_terminate(server->display);
	return 0;
}

/* ---- the output ---- */

/* Advertise the host's size (scaled) without a modeset: the headless
 * frame timer keeps the slow pace set at start. */
static void advertise_mode(struct agent_server *server, struct wlr_output *output, uint32_t scale)
{
	const struct vtp_output_info *info = &server->output_info;
	int32_t refresh = info->refresh_mhz > 0 && info->refresh_mhz <= 1000000
		? (int32_t)info->refresh_mhz
		: DEFAULT_REFRESH_MHZ;
	wlr_output_update_custom_mode(
		output, (int32_t)(info->width * scale), (int32_t)(info->height * scale), refresh);
}

static void apply_output_info(struct agent_server *server, const struct vtp_output_info *info)
{
	server->output_info = *info;
	for (uint32_t i = 0; i < VTP_MAX_SCALE; i++) {
		if (server->outputs[i] != NULL) {
			advertise_mode(server, server->outputs[i], i + 1);
		}
	}
	struct wlr_output *output = agent_server_output(server, info->scale);
	if (output == NULL) {
		wlr_log(WLR_ERROR, "cannot make an output of scale %u", info->scale);
		return;
	}
	if (output != server->output) {
		server->output = output;
		/* windows without a scale of their own follow it */
		struct agent_window *window;
		wl_list_for_each(window, &server->windows, link) {
			agent_window_scale_changed(window);
		}
	}
}

/*
 * wl_shm with only the formats the agent can forward: what the renderer
 * can take and paint.c can copy (wlr_renderer_init_wl_display would offer
 * every pixman format, and a client choosing one the copy cannot read drew
 * a black window). No dmabuf: nothing here has a GPU.
 */
static bool init_shm(struct agent_server *server)
{
	if (wl_display_init_shm(server->display) != 0) {
		return false;
	}
	size_t n = 0;
	const uint32_t *formats = wlr_renderer_get_shm_texture_formats(server->renderer, &n);
	for (size_t i = 0; formats != NULL && i < n; i++) {
		uint32_t f = formats[i];
		if (f == DRM_FORMAT_ARGB8888 || f == DRM_FORMAT_XRGB8888 ||
			!agent_paint_format_supported(f)) {
			continue; /* the first two are always there; the rest: not copyable */
		}
		wl_display_add_shm_format(server->display, f);
	}
	return true;
}

struct wlr_output *agent_server_output(struct agent_server *server, uint32_t scale)
{
	if (scale < 1 || scale > VTP_MAX_SCALE) {
		return NULL;
	}
	if (server->outputs[scale - 1] != NULL) {
		return server->outputs[scale - 1];
	}
	struct wlr_output *output =
		wlr_headless_add_output(server->backend, DEFAULT_WIDTH, DEFAULT_HEIGHT);
	if (output == NULL) {
		return NULL;
	}
	wlr_output_init_render(output, server->allocator, server->renderer);
	wlr_output_layout_add_auto(server->layout, output);
	if (server->started) {
		/* as agent_server_start does for the first one: nothing is
		 * rendered, the frame timer may be slow */
		wlr_output_set_custom_mode(output, DEFAULT_WIDTH, DEFAULT_HEIGHT, 1);
	}
	wlr_output_set_scale(output, (float)scale);
	if (!wlr_output_commit(output)) {
		wlr_log(WLR_ERROR, "cannot set up the output of scale %u", scale);
	}
	advertise_mode(server, output, scale);
	wlr_output_create_global(output);
	server->outputs[scale - 1] = output;
	return output;
}

static bool create_output(struct agent_server *server)
{
	server->output_info =
		(struct vtp_output_info){ DEFAULT_WIDTH, DEFAULT_HEIGHT, 1, DEFAULT_REFRESH_MHZ };
	server->output = agent_server_output(server, 1);
	return server->output != NULL;
}

/* ---- host messages ---- */

static void handle_link_ready(void *data)
{
	struct agent_server *server = data;
	struct agent_window *window;
	wl_list_for_each(window, &server->windows, link) {
		agent_window_link_ready(window);
	}
	agent_idle_inhibit_link_ready(server->idle_inhibit);
}

static void handle_link_lost(void *data)
{
	struct agent_server *server = data;
	struct agent_window *window;
	agent_input_link_lost(server->input);
	agent_cursor_link_lost(server->cursor);
	agent_incoming_link_lost(server->incoming);
	agent_notify_link_lost(server->notify);
	agent_outgoing_link_lost(server->outgoing);
	agent_clipboard_link_lost(server->clipboard);
	agent_idle_inhibit_link_lost(server->idle_inhibit);
	agent_net_link_lost(server->net);
	wl_list_for_each(window, &server->windows, link) {
		agent_window_link_lost(window);
	}
}

static void reply_unsupported(struct agent_server *server, const struct vtp_msg *msg)
{
	/* every H2G message of v1 has its handler above */
	wlr_log(WLR_DEBUG, "ignoring %s from the host", vtp_type_name(msg->header.type));
}

static void handle_link_message(void *data, const struct vtp_msg *msg)
{
	struct agent_server *server = data;
	struct agent_window *window = NULL;

	if (msg->header.object != 0) {
		/* A window we destroyed may still be named: that is no error. */
		window = agent_server_find_window(server, msg->header.object);
	}
	switch (msg->header.type) {
	case VTP_OUTPUT_INFO:
		apply_output_info(server, &msg->body.output_info);
		break;
	case VTP_CONFIGURE:
		if (window != NULL) {
			agent_window_configure(window, &msg->body.configure);
		}
		break;
	case VTP_WINDOW_SCALE:
		if (window != NULL) {
			agent_window_set_scale(window, msg->body.window_scale.scale);
		}
		break;
	case VTP_CLOSE:
		if (window != NULL) {
			agent_window_close(window);
		}
		break;
	case VTP_POPUP_DONE:
		if (window != NULL && !window->toplevel) {
			agent_window_close(window);
		}
		break;
	case VTP_FRAME_DONE:
		if (window != NULL) {
			agent_window_frame_done(window, &msg->body.frame_done);
		}
		break;
	case VTP_RELEASE:
		if (window != NULL) {
			agent_window_release(window, msg->body.release.buffer_id);
		}
		break;
	case VTP_POINTER_ENTER:
	case VTP_POINTER_LEAVE:
	case VTP_POINTER_MOTION:
	case VTP_POINTER_BUTTON:
	case VTP_POINTER_AXIS:
	case VTP_KEYMAP:
	case VTP_KEYBOARD_ENTER:
	case VTP_KEYBOARD_LEAVE:
	case VTP_KEY:
	case VTP_MODIFIERS:
	case VTP_REPEAT_INFO:
		agent_input_handle(server->input, window, msg);
		break;
	case VTP_RUN:
		agent_run_request(server->run, msg);
		break;
	case VTP_CLIPBOARD_REQUEST:
		agent_clipboard_handle_request(server->clipboard, msg);
		break;
	case VTP_CLIPBOARD_SET:
		agent_clipboard_handle_set(server->clipboard, msg);
		break;
	case VTP_APPS_REQUEST:
		agent_appsync_request(server->appsync, msg);
		break;
	case VTP_LAUNCH_APP:
		agent_appsync_launch(server->appsync, msg);
		break;
	case VTP_DELIVER_URL:
	case VTP_DELIVER_FILE_BEGIN:
	case VTP_DELIVER_FILE_CHUNK:
	case VTP_DELIVER_FILE_END:
		agent_incoming_handle_message(server->incoming, msg);
		break;
	case VTP_OPEN_RESULT:
		agent_outgoing_handle_result(server->outgoing, msg);
		break;
	case VTP_NOTIFY_CLOSED:
	case VTP_NOTIFY_ACTION:
		agent_notify_handle_message(server->notify, msg);
		break;
	case VTP_NET_CONFIG:
		agent_net_handle_config(server->net, msg);
		break;
	default:
		reply_unsupported(server, msg);
		break;
	}
}

static const struct agent_link_handler link_handler = {
	.ready = handle_link_ready,
	.lost = handle_link_lost,
	.message = handle_link_message,
};

struct agent_window *agent_server_find_window(struct agent_server *server, uint32_t id)
{
	struct agent_window *window;
	if (id == 0) {
		return NULL;
	}
	wl_list_for_each(window, &server->windows, link) {
		if (window->id == id) {
			return window;
		}
	}
	return NULL;
}

/* ---- lifetime ---- */

struct agent_server *agent_server_create(const struct agent_options *options)
{
	struct agent_server *server = calloc(1, sizeof(*server));
	if (server == NULL) {
		return NULL;
	}
	wl_list_init(&server->windows);
	server->display = wl_display_create();
	if (server->display == NULL) {
		free(server);
		return NULL;
	}
	server->loop = wl_display_get_event_loop(server->display);

	server->link = agent_link_create(
		server->loop, options->connect, options->pool, &link_handler, server);
	if (server->link == NULL) {
		goto error;
	}
	server->backend = wlr_headless_backend_create(server->display);
	if (server->backend == NULL) {
		wlr_log(WLR_ERROR, "cannot create the headless backend");
		goto error;
	}
	/* Only so that wlroots can take wl_shm buffers: nothing is rendered. */
	server->renderer = wlr_pixman_renderer_create();
	if (server->renderer == NULL || !init_shm(server)) {
		wlr_log(WLR_ERROR, "cannot create the pixman renderer");
		goto error;
	}
	server->allocator = wlr_allocator_autocreate(server->backend, server->renderer);
	if (server->allocator == NULL) {
		wlr_log(WLR_ERROR, "cannot create an allocator");
		goto error;
	}

	server->compositor = wlr_compositor_create(server->display, server->renderer);
	server->layout = wlr_output_layout_create();
	server->xdg_shell = wlr_xdg_shell_create(server->display);
	server->decoration = wlr_xdg_decoration_manager_v1_create(server->display);
	server->presentation = wlr_presentation_create(server->display, server->backend);
	server->seat = wlr_seat_create(server->display, "seat0");
	if (server->compositor == NULL || server->layout == NULL || server->xdg_shell == NULL ||
		server->decoration == NULL || server->presentation == NULL ||
		server->seat == NULL) {
		wlr_log(WLR_ERROR, "cannot create the Wayland globals");
		goto error;
	}
	if (wlr_data_device_manager_create(server->display) == NULL ||
		wlr_primary_selection_v1_device_manager_create(server->display) == NULL ||
		wlr_data_control_manager_v1_create(server->display) == NULL ||
		wlr_viewporter_create(server->display) == NULL ||
		wlr_xdg_output_manager_v1_create(server->display, server->layout) == NULL) {
		wlr_log(WLR_ERROR, "cannot create the Wayland globals");
		goto error;
	}
	if (!create_output(server)) {
		wlr_log(WLR_ERROR, "cannot create the headless output");
		goto error;
	}
	wlr_seat_set_capabilities(
		server->seat, WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);

	server->input = agent_input_create(server);
	server->cursor = agent_cursor_create(server);
	server->run = agent_run_create(server->loop, server->link);
	server->clipboard = agent_clipboard_create(server);
	if (server->input == NULL || server->cursor == NULL || server->run == NULL ||
		server->clipboard == NULL) {
		goto error;
	}
	server->appsync = agent_appsync_create(server->loop, server->link, server->run);
	if (server->appsync == NULL) {
		goto error;
	}
	server->incoming = agent_incoming_create(server);
	if (server->incoming == NULL) {
		goto error;
	}
	server->notify = agent_notify_create(server->loop, server->link);
	if (server->notify == NULL) {
		goto error;
	}
	server->appsync->notify = server->notify;
	server->net = agent_net_create(server);
	if (server->net == NULL) {
		goto error;
	}
	server->idle_inhibit = agent_idle_inhibit_create(server);
	if (server->idle_inhibit == NULL) {
		goto error;
	}

	/* optional: without it X11 apps find no DISPLAY (logged) */
	server->xwayland = agent_xwayland_create(server);

	server->new_xdg_surface.notify = handle_new_xdg_surface;
	wl_signal_add(&server->xdg_shell->events.new_surface, &server->new_xdg_surface);
	server->new_toplevel_decoration.notify = handle_new_toplevel_decoration;
	wl_signal_add(&server->decoration->events.new_toplevel_decoration,
		&server->new_toplevel_decoration);
	server->request_set_selection.notify = handle_request_set_selection;
	wl_signal_add(&server->seat->events.request_set_selection, &server->request_set_selection);
	server->request_set_primary_selection.notify = handle_request_set_primary_selection;
	wl_signal_add(&server->seat->events.request_set_primary_selection,
		&server->request_set_primary_selection);
	server->sigterm = wl_event_loop_add_signal(server->loop, SIGTERM, handle_terminate, server);
	server->sigint = wl_event_loop_add_signal(server->loop, SIGINT, handle_terminate, server);

	if (options->socket_name != NULL) {
		if (wl_display_add_socket(server->display, options->socket_name) != 0) {
			wlr_log(WLR_ERROR, "cannot listen on Wayland socket %s: %s",
				options->socket_name, strerror(errno));
			goto error;
		}
		server->socket = options->socket_name;
	} else {
		server->socket = wl_display_add_socket_auto(server->display);
		if (server->socket == NULL) {
			wlr_log(WLR_ERROR, "cannot open a Wayland socket");
			goto error;
		}
	}
	/* named after the Wayland socket; optional (no runtime dir: not served) */
	server->outgoing = agent_outgoing_create(server);
	return server;

error:
	agent_server_destroy(server);
	return NULL;
}

bool agent_server_start(struct agent_server *server, const struct agent_options *options)
{
	if (!wlr_backend_start(server->backend)) {
		wlr_log(WLR_ERROR, "cannot start the headless backend");
		return false;
	}
	/* Nothing is ever rendered: a refresh of 1 mHz makes the headless
	 * backend's frame timer fire every ~17 minutes instead of 60 times a
	 * second. Clients are told the real rate. */
	for (uint32_t i = 0; i < VTP_MAX_SCALE; i++) {
		struct wlr_output *output = server->outputs[i];
		if (output == NULL) {
			continue;
		}
		wlr_output_set_custom_mode(output, DEFAULT_WIDTH, DEFAULT_HEIGHT, 1);
		if (!wlr_output_commit(output)) {
			wlr_log(WLR_INFO, "cannot slow down the headless output timer");
		}
		advertise_mode(server, output, i + 1);
	}
	server->started = true;
	setenv("WAYLAND_DISPLAY", server->socket, true);
	wlr_log(WLR_INFO, "guest apps connect to WAYLAND_DISPLAY=%s", server->socket);
	agent_link_start(server->link);
	if (options->command != NULL && options->command[0] != NULL) {
		int error = 0;
		if (agent_run_spawn(server->run, options->command, false, 0, &error) < 0) {
			wlr_log(WLR_ERROR, "cannot run %s: %s", options->command[0],
				strerror(error));
			return false;
		}
	}
	return true;
}

void agent_server_destroy(struct agent_server *server)
{
	if (server == NULL) {
		return;
	}
	if (server->display != NULL) {
		wl_display_destroy_clients(server->display);
	}
	/* windows are gone with their clients */
	agent_xwayland_destroy(server->xwayland);
	agent_appsync_destroy(server->appsync);
	agent_outgoing_destroy(server->outgoing);
	agent_notify_destroy(server->notify);
	agent_idle_inhibit_destroy(server->idle_inhibit);
	agent_net_destroy(server->net);
	agent_incoming_destroy(server->incoming);
	agent_run_destroy(server->run);
	agent_clipboard_destroy(server->clipboard);
	agent_cursor_destroy(server->cursor);
	agent_input_destroy(server->input);
	agent_link_destroy(server->link);
	if (server->new_xdg_surface.link.next != NULL) {
		wl_list_remove(&server->new_xdg_surface.link);
		wl_list_remove(&server->new_toplevel_decoration.link);
		wl_list_remove(&server->request_set_selection.link);
		wl_list_remove(&server->request_set_primary_selection.link);
	}
	loop_source_remove(&server->sigterm);
	loop_source_remove(&server->sigint);
	if (server->backend != NULL) {
		wlr_backend_destroy(server->backend);
	}
	if (server->display != NULL) {
		wl_display_destroy(server->display);
	}
	if (server->allocator != NULL) {
		wlr_allocator_destroy(server->allocator);
	}
	if (server->renderer != NULL) {
		wlr_renderer_destroy(server->renderer);
	}
	if (server->layout != NULL) {
		wlr_output_layout_destroy(server->layout);
	}
	free(server);
}
