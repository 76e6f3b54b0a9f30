/*
 * X11 apps through Xwayland (see xwayland.h).
 */
#include "xwayland.h"

#include <glib.h>
#include <stdlib.h>
#include <wlr/util/log.h>
#include <wlr/xwayland.h>

#include "input.h"
#include "link.h"
#include "server.h"
#include "window.h"

struct agent_xwayland {
	struct agent_server *server;
	struct wlr_xwayland *wlr;
	struct wl_listener new_surface;
};

/* One X11 window, from its creation to its destruction; forwarded while
 * mapped. */
struct x11_surface {
	struct agent_xwayland *xw;
	struct wlr_xwayland_surface *xsurface;
	struct agent_window *window; /* while mapped and forwarded */
	struct wl_listener destroy;
	struct wl_listener map;
	struct wl_listener unmap;
	struct wl_listener request_configure;
	struct wl_listener request_activate;
	struct wl_listener request_maximize;
	struct wl_listener request_fullscreen;
	struct wl_listener request_move;
	struct wl_listener request_resize;
	struct wl_listener set_geometry;
	struct wl_listener set_title;
	struct wl_listener set_class;
	struct wl_listener set_hints;
};

static struct agent_window *toplevel_of(struct agent_window *w)
{
	while (w != NULL && !w->toplevel) {
		w = w->parent;
	}
	return w;
}

static bool is_x11_toplevel(struct agent_window *w)
{
	return w != NULL && w->xsurface != NULL && w->toplevel && w->mapped;
}

/*
 * The X11 toplevel an override-redirect window belongs to: the one it is
 * transient for, else the one under the pointer or with the keyboard
 * (menus open from input), else the newest; NULL if there is none.
 */
static struct agent_window *popup_parent(struct agent_server *server, struct x11_surface *xs)
{
	for (struct wlr_xwayland_surface *p = xs->xsurface->parent; p != NULL; p = p->parent) {
		struct x11_surface *owner = p->data;
		struct agent_window *w = owner != NULL ? toplevel_of(owner->window) : NULL;
		if (is_x11_toplevel(w)) {
			return w;
		}
	}
	struct agent_window *w = toplevel_of(server->input->pointer_window);
	if (is_x11_toplevel(w)) {
		return w;
	}
	w = toplevel_of(server->input->keyboard_window);
	if (is_x11_toplevel(w)) {
		return w;
	}
	struct agent_window *newest = NULL;
	wl_list_for_each(w, &server->windows, link) {
		if (is_x11_toplevel(w)) {
			newest = w;
		}
	}
	return newest;
}

static void handle_map(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, map);
	struct agent_server *server = xs->xw->server;
	struct agent_window *parent = NULL;

	if (xs->window != NULL) {
		return;
	}
	if (xs->xsurface->override_redirect) {
		parent = popup_parent(server, xs);
		if (parent == NULL) {
			wlr_log(WLR_INFO,
				"an X11 override-redirect window without an X11 "
				"toplevel is not forwarded");
			return;
		}
	}
	xs->window = agent_window_create_x11(server, xs->xsurface, parent, &xs->window);
	if (xs->window == NULL) {
		wlr_log(WLR_ERROR, "cannot forward an X11 window");
	}
}

static void handle_unmap(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, unmap);
	agent_window_destroy(xs->window); /* clears xs->window */
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, destroy);
	agent_window_destroy(xs->window);
	wl_list_remove(&xs->destroy.link);
	wl_list_remove(&xs->map.link);
	wl_list_remove(&xs->unmap.link);
	wl_list_remove(&xs->request_configure.link);
	wl_list_remove(&xs->request_activate.link);
	wl_list_remove(&xs->request_maximize.link);
	wl_list_remove(&xs->request_fullscreen.link);
	wl_list_remove(&xs->request_move.link);
	wl_list_remove(&xs->request_resize.link);
	wl_list_remove(&xs->set_geometry.link);
	wl_list_remove(&xs->set_title.link);
	wl_list_remove(&xs->set_class.link);
	wl_list_remove(&xs->set_hints.link);
	xs->xsurface->data = NULL;
	free(xs);
}

/* The app asks for a size (and place): the size is granted, as an xdg
 * app's own buffer size is; the place is the host's (0,0 on the X side). */
static void handle_request_configure(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, request_configure);
	struct wlr_xwayland_surface_configure_event *event = data;
	uint16_t w = event->width > VTP_MAX_DIM ? VTP_MAX_DIM : event->width;
	uint16_t h = event->height > VTP_MAX_DIM ? VTP_MAX_DIM : event->height;
	wlr_xwayland_surface_configure(xs->xsurface, 0, 0, w, h);
}

static void handle_request_activate(struct wl_listener *listener, void *data)
{
	/* focus is the host's to give: nothing */
}

static void send_flag(struct x11_surface *xs, uint16_t type, bool enable)
{
	struct agent_window *w = xs->window;
	if (w != NULL && w->toplevel && w->id != 0) {
		struct vtp_set_flag f = { .enable = enable };
		agent_link_send(w->server->link, type, w->id, &f, NULL, 0);
	}
}

static void handle_request_maximize(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, request_maximize);
	/* _NET_WM_STATE toggles: ask for the opposite of what it has */
	bool maximized = xs->xsurface->maximized_horz && xs->xsurface->maximized_vert;
	send_flag(xs, VTP_SET_MAXIMIZED, !maximized);
}

static void handle_request_fullscreen(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, request_fullscreen);
	send_flag(xs, VTP_SET_FULLSCREEN, !xs->xsurface->fullscreen);
}

static void handle_request_move(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, request_move);
	struct agent_window *w = xs->window;
	if (w != NULL && w->toplevel && w->id != 0) {
		agent_link_send(w->server->link, VTP_MOVE_REQUEST, w->id, NULL, NULL, 0);
	}
}

static void handle_request_resize(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, request_resize);
	struct wlr_xwayland_resize_event *event = data;
	struct agent_window *w = xs->window;
	uint32_t e = event->edges;
	const uint32_t tb = VTP_RESIZE_TOP | VTP_RESIZE_BOTTOM;
	const uint32_t lr = VTP_RESIZE_LEFT | VTP_RESIZE_RIGHT;
	if (w == NULL || !w->toplevel || w->id == 0 || e == 0 || (e & ~0xfu) || (e & tb) == tb ||
		(e & lr) == lr) {
		return;
	}
	struct vtp_resize_request r = { .edges = e };
	agent_link_send(w->server->link, VTP_RESIZE_REQUEST, w->id, &r, NULL, 0);
}

static void handle_set_geometry(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, set_geometry);
	if (xs->window != NULL) {
		agent_window_x11_moved(xs->window);
	}
}

static void handle_changed(struct x11_surface *xs)
{
	if (xs->window != NULL) {
		agent_window_x11_changed(xs->window);
	}
}

static void handle_set_title(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, set_title);
	handle_changed(xs);
}

static void handle_set_class(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, set_class);
	handle_changed(xs);
}

static void handle_set_hints(struct wl_listener *listener, void *data)
{
	struct x11_surface *xs = wl_container_of(listener, xs, set_hints);
	handle_changed(xs);
}

static void handle_new_surface(struct wl_listener *listener, void *data)
{
	struct agent_xwayland *xw = wl_container_of(listener, xw, new_surface);
	struct wlr_xwayland_surface *xsurface = data;
	struct x11_surface *xs = calloc(1, sizeof(*xs));
	if (xs == NULL) {
		wlr_log(WLR_ERROR, "out of memory: an X11 window is not forwarded");
		return;
	}
	xs->xw = xw;
	xs->xsurface = xsurface;
	xsurface->data = xs;
	struct {
		struct wl_listener *listener;
		wl_notify_func_t notify;
		struct wl_signal *signal;
	} wires[] = {
		{ &xs->destroy, handle_destroy, &xsurface->events.destroy },
		{ &xs->map, handle_map, &xsurface->events.map },
		{ &xs->unmap, handle_unmap, &xsurface->events.unmap },
		{ &xs->request_configure, handle_request_configure,
			&xsurface->events.request_configure },
		{ &xs->request_activate, handle_request_activate,
			&xsurface->events.request_activate },
		{ &xs->request_maximize, handle_request_maximize,
			&xsurface->events.request_maximize },
		{ &xs->request_fullscreen, handle_request_fullscreen,
			&xsurface->events.request_fullscreen },
		{ &xs->request_move, handle_request_move, &xsurface->events.request_move },
		{ &xs->request_resize, handle_request_resize, &xsurface->events.request_resize },
		{ &xs->set_geometry, handle_set_geometry, &xsurface->events.set_geometry },
		{ &xs->set_title, handle_set_title, &xsurface->events.set_title },
		{ &xs->set_class, handle_set_class, &xsurface->events.set_class },
		{ &xs->set_hints, handle_set_hints, &xsurface->events.set_hints },
	};
	for (size_t i = 0; i < sizeof(wires) / sizeof(wires[0]); i++) {
		wires[i].listener->notify = wires[i].notify;
		wl_signal_add(wires[i].signal, wires[i].listener);
	}
}

struct agent_xwayland *agent_xwayland_create(struct agent_server *server)
{
	/* X11 apps the agent starts use its Xwayland or none: never an X
	 * server the agent was started next to (a local VM's host session) */
	unsetenv("DISPLAY");
	char *path = g_find_program_in_path("Xwayland");
	if (path == NULL) {
		wlr_log(WLR_INFO,
			"Xwayland is not installed: X11 apps cannot run "
			"(install the package xwayland)");
		return NULL;
	}
	g_free(path);
	struct agent_xwayland *xw = calloc(1, sizeof(*xw));
	if (xw == NULL) {
		return NULL;
	}
	xw->server = server;
	/* lazy: Xwayland starts when the first X11 client connects */
	xw->wlr = wlr_xwayland_create(server->display, server->compositor, true);
	if (xw->wlr == NULL) {
		wlr_log(WLR_ERROR, "cannot set up Xwayland: X11 apps cannot run");
		free(xw);
		return NULL;
	}
	wlr_xwayland_set_seat(xw->wlr, server->seat);
	xw->new_surface.notify = handle_new_surface;
	wl_signal_add(&xw->wlr->events.new_surface, &xw->new_surface);
	setenv("DISPLAY", xw->wlr->display_name, true);
	wlr_log(WLR_INFO, "X11 apps connect to DISPLAY=%s (Xwayland, started on demand)",
		xw->wlr->display_name);
	return xw;
}

void agent_xwayland_destroy(struct agent_xwayland *xw)
{
	if (xw == NULL) {
		return;
	}
	wl_list_remove(&xw->new_surface.link);
	wlr_xwayland_destroy(xw->wlr);
	free(xw);
}
