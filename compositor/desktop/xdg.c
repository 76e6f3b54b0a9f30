#include "desktop/xdg.h"

#include <stdlib.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_activation_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>

#include "config.h"
#include "input/seat.h"
#include "server.h"
#include "tree/view.h"

struct xdg_view {
	struct view view;
	struct wlr_xdg_surface *xdg_surface;
	struct wlr_scene_node *surface_node;

	struct wl_listener map;
	struct wl_listener unmap;
	struct wl_listener destroy;
	struct wl_listener commit;
	struct wl_listener new_popup;
	struct wl_listener request_move;
	struct wl_listener request_resize;
	struct wl_listener request_maximize;
	struct wl_listener request_fullscreen;
	struct wl_listener set_title;
	struct wl_listener set_app_id;
};

struct xdg_popup {
	struct server *server;
	struct wlr_xdg_popup *wlr_popup;
	struct wlr_scene_node *node;
	struct wlr_box root_box;

	struct wl_listener new_popup;
	struct wl_listener destroy;
};

struct xdg_decoration {
	struct wlr_xdg_toplevel_decoration_v1 *wlr_decoration;
	struct wl_listener request_mode;
	struct wl_listener destroy;
};

/* xdg_surface.data: for toplevels the struct xdg_view, for popups the
 * struct xdg_popup; tell them apart by the role. */

static struct xdg_view *xdg_view_from_view(struct view *view)
{
	return view->data;
}

struct wlr_surface *xdg_view_surface(struct view *view)
{
	if (view->kind != VIEW_HOST) {
		return NULL;
	}
	return xdg_view_from_view(view)->xdg_surface->surface;
}

struct view *xdg_view_from_surface(struct wlr_surface *surface)
{
	while (surface != NULL && wlr_surface_is_xdg_surface(surface)) {
		struct wlr_xdg_surface *xdg_surface = wlr_xdg_surface_from_wlr_surface(surface);
		if (xdg_surface == NULL) {
			return NULL;
		}
		if (xdg_surface->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
			struct xdg_view *xv = xdg_surface->data;
			return xv != NULL ? &xv->view : NULL;
		}
		if (xdg_surface->role != WLR_XDG_SURFACE_ROLE_POPUP) {
			return NULL;
		}
		surface = xdg_surface->popup->parent;
	}
	return NULL;
}

/* ---- view_impl ---- */

static void impl_configure(struct view *view, int width, int height)
{
	struct xdg_view *xv = xdg_view_from_view(view);
	struct wlr_xdg_surface *s = xv->xdg_surface;
	wlr_xdg_toplevel_set_maximized(s, view->maximized);
	wlr_xdg_toplevel_set_fullscreen(s, view->fullscreen);
	wlr_xdg_toplevel_set_resizing(s, view->resizing);
	wlr_xdg_toplevel_set_activated(s, view->focused);
	wlr_xdg_toplevel_set_size(s, width < 0 ? 0 : width, height < 0 ? 0 : height);
}

static void impl_close(struct view *view)
{
	wlr_xdg_toplevel_send_close(xdg_view_from_view(view)->xdg_surface);
}

static void impl_get_constraints(
	struct view *view, int *min_width, int *min_height, int *max_width, int *max_height)
{
	struct wlr_xdg_toplevel_state *state =
		&xdg_view_from_view(view)->xdg_surface->toplevel->current;
	*min_width = (int)state->min_width;
	*min_height = (int)state->min_height;
	*max_width = (int)state->max_width;
	*max_height = (int)state->max_height;
}

static void impl_focus(struct view *view, bool focused)
{
	wlr_xdg_toplevel_set_activated(xdg_view_from_view(view)->xdg_surface, focused);
}

static const struct view_impl xdg_view_impl = {
	.configure = impl_configure,
	.close = impl_close,
	.get_constraints = impl_get_constraints,
	.focus = impl_focus,
};

/* ---- popups ---- */

static void popup_handle_new_popup(struct wl_listener *listener, void *data)
{
	struct xdg_popup *popup = wl_container_of(listener, popup, new_popup);
	struct wlr_xdg_popup *wlr_popup = data;
	xdg_popup_create(
		popup->server, wlr_popup, (struct wlr_scene_tree *)popup->node, &popup->root_box);
}

static void popup_handle_destroy(struct wl_listener *listener, void *data)
{
	struct xdg_popup *popup = wl_container_of(listener, popup, destroy);
	wl_list_remove(&popup->new_popup.link);
	wl_list_remove(&popup->destroy.link);
	free(popup);
}

void xdg_popup_create(struct server *server, struct wlr_xdg_popup *wlr_popup,
	struct wlr_scene_tree *parent_tree, const struct wlr_box *root_box)
{
	struct xdg_popup *popup = calloc(1, sizeof(*popup));
	if (popup == NULL) {
		wlr_xdg_popup_destroy(wlr_popup->base);
		return;
	}
	popup->server = server;
	popup->wlr_popup = wlr_popup;
	popup->root_box = *root_box;
	popup->node = wlr_scene_xdg_surface_create(&parent_tree->node, wlr_popup->base);
	if (popup->node == NULL) {
		free(popup);
		wlr_xdg_popup_destroy(wlr_popup->base);
		return;
	}
	wlr_popup->base->data = popup;

	/* keep the popup on the output of its toplevel (toplevel coordinates) */
	struct wlr_box output_box;
	if (server_output_box_for(server, root_box, &output_box)) {
		output_box.x -= root_box->x;
		output_box.y -= root_box->y;
		wlr_xdg_popup_unconstrain_from_box(wlr_popup, &output_box);
	}

	popup->new_popup.notify = popup_handle_new_popup;
	wl_signal_add(&wlr_popup->base->events.new_popup, &popup->new_popup);
	popup->destroy.notify = popup_handle_destroy;
	wl_signal_add(&wlr_popup->base->events.destroy, &popup->destroy);
}

/* ---- toplevels ---- */

static void handle_map(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, map);
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(xv->xdg_surface, &geo);
	view_set_title(&xv->view, xv->xdg_surface->toplevel->title);
	view_set_app_id(&xv->view, xv->xdg_surface->toplevel->app_id);
	view_map(&xv->view, geo.width, geo.height, true);
	struct wlr_xdg_toplevel_requested *req = &xv->xdg_surface->toplevel->requested;
	if (req->fullscreen) {
		view_set_fullscreen(&xv->view, true);
	} else if (req->maximized) {
		view_set_maximized(&xv->view, true);
	}
}

static void handle_unmap(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, unmap);
	view_unmap(&xv->view);
}

static void handle_commit(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, commit);
	if (!xv->view.mapped) {
		return;
	}
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(xv->xdg_surface, &geo);
	if (geo.width != xv->view.width || geo.height != xv->view.height) {
		view_set_size(&xv->view, geo.width, geo.height);
	}
}

static void handle_new_popup(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, new_popup);
	struct wlr_xdg_popup *wlr_popup = data;
	struct wlr_box root = view_content_box(&xv->view);
	xdg_popup_create(xv->view.server, wlr_popup, xv->view.content, &root);
}

static void handle_request_move(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, request_move);
	seat_request_interactive(xv->view.server->seat, &xv->view, false, 0);
}

static void handle_request_resize(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, request_resize);
	struct wlr_xdg_toplevel_resize_event *event = data;
	seat_request_interactive(xv->view.server->seat, &xv->view, true, event->edges);
}

static void handle_request_maximize(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, request_maximize);
	if (!xv->xdg_surface->added) {
		return;
	}
	if (!xv->view.mapped) {
		wlr_xdg_surface_schedule_configure(xv->xdg_surface);
		return;
	}
	view_set_maximized(&xv->view, xv->xdg_surface->toplevel->requested.maximized);
}

static void handle_request_fullscreen(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, request_fullscreen);
	if (!xv->xdg_surface->added) {
		return;
	}
	if (!xv->view.mapped) {
		wlr_xdg_surface_schedule_configure(xv->xdg_surface);
		return;
	}
	view_set_fullscreen(&xv->view, xv->xdg_surface->toplevel->requested.fullscreen);
}

static void handle_set_title(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, set_title);
	view_set_title(&xv->view, xv->xdg_surface->toplevel->title);
}

static void handle_set_app_id(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, set_app_id);
	view_set_app_id(&xv->view, xv->xdg_surface->toplevel->app_id);
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct xdg_view *xv = wl_container_of(listener, xv, destroy);
	wl_list_remove(&xv->map.link);
	wl_list_remove(&xv->unmap.link);
	wl_list_remove(&xv->destroy.link);
	wl_list_remove(&xv->commit.link);
	wl_list_remove(&xv->new_popup.link);
	wl_list_remove(&xv->request_move.link);
	wl_list_remove(&xv->request_resize.link);
	wl_list_remove(&xv->request_maximize.link);
	wl_list_remove(&xv->request_fullscreen.link);
	wl_list_remove(&xv->set_title.link);
	wl_list_remove(&xv->set_app_id.link);
	xv->xdg_surface->data = NULL;
	view_finish(&xv->view);
	free(xv);
}

static void create_toplevel(struct server *server, struct wlr_xdg_surface *xdg_surface)
{
	struct xdg_view *xv = calloc(1, sizeof(*xv));
	if (xv == NULL) {
		wl_resource_post_no_memory(xdg_surface->resource);
		return;
	}
	if (!view_init(&xv->view, server, VIEW_HOST, &xdg_view_impl, xv, NULL,
		    CONFIG_HOST_FRAME_RGB)) {
		free(xv);
		wl_resource_post_no_memory(xdg_surface->resource);
		return;
	}
	xv->xdg_surface = xdg_surface;
	xv->surface_node = wlr_scene_xdg_surface_create(&xv->view.content->node, xdg_surface);
	if (xv->surface_node == NULL) {
		view_finish(&xv->view);
		free(xv);
		wl_resource_post_no_memory(xdg_surface->resource);
		return;
	}
	xdg_surface->data = xv;

	xv->map.notify = handle_map;
	wl_signal_add(&xdg_surface->events.map, &xv->map);
	xv->unmap.notify = handle_unmap;
	wl_signal_add(&xdg_surface->events.unmap, &xv->unmap);
	xv->destroy.notify = handle_destroy;
	wl_signal_add(&xdg_surface->events.destroy, &xv->destroy);
	xv->commit.notify = handle_commit;
	wl_signal_add(&xdg_surface->surface->events.commit, &xv->commit);
	xv->new_popup.notify = handle_new_popup;
	wl_signal_add(&xdg_surface->events.new_popup, &xv->new_popup);

	struct wlr_xdg_toplevel *toplevel = xdg_surface->toplevel;
	xv->request_move.notify = handle_request_move;
	wl_signal_add(&toplevel->events.request_move, &xv->request_move);
	xv->request_resize.notify = handle_request_resize;
	wl_signal_add(&toplevel->events.request_resize, &xv->request_resize);
	xv->request_maximize.notify = handle_request_maximize;
	wl_signal_add(&toplevel->events.request_maximize, &xv->request_maximize);
	xv->request_fullscreen.notify = handle_request_fullscreen;
	wl_signal_add(&toplevel->events.request_fullscreen, &xv->request_fullscreen);
	xv->set_title.notify = handle_set_title;
	wl_signal_add(&toplevel->events.set_title, &xv->set_title);
	xv->set_app_id.notify = handle_set_app_id;
	wl_signal_add(&toplevel->events.set_app_id, &xv->set_app_id);
}

void xdg_handle_new_surface(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_xdg_surface);
	struct wlr_xdg_surface *xdg_surface = data;
	if (xdg_surface->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
		create_toplevel(server, xdg_surface);
	}
	/* popups are created from their parent's new_popup event */
}

/* ---- decorations: always server side ---- */

static void decoration_handle_request_mode(struct wl_listener *listener, void *data)
{
	struct xdg_decoration *deco = wl_container_of(listener, deco, request_mode);
	wlr_xdg_toplevel_decoration_v1_set_mode(
		deco->wlr_decoration, WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

static void decoration_handle_destroy(struct wl_listener *listener, void *data)
{
	struct xdg_decoration *deco = wl_container_of(listener, deco, destroy);
	wl_list_remove(&deco->request_mode.link);
	wl_list_remove(&deco->destroy.link);
	free(deco);
}

void xdg_handle_new_decoration(struct wl_listener *listener, void *data)
{
	struct wlr_xdg_toplevel_decoration_v1 *wlr_decoration = data;
	struct xdg_decoration *deco = calloc(1, sizeof(*deco));
	if (deco == NULL) {
		return;
	}
	deco->wlr_decoration = wlr_decoration;
	deco->request_mode.notify = decoration_handle_request_mode;
	wl_signal_add(&wlr_decoration->events.request_mode, &deco->request_mode);
	deco->destroy.notify = decoration_handle_destroy;
	wl_signal_add(&wlr_decoration->events.destroy, &deco->destroy);
	wlr_xdg_toplevel_decoration_v1_set_mode(
		wlr_decoration, WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

/* xdg-activation-v1: a host client hands the focus to one of its windows
 * (or another host client's) with a token made for an input event on the
 * seat; tokens without a seat (nobody's input) are refused. Guest windows
 * are not host surfaces: their activation is the user's (vitrail's own
 * rules for asked-for windows). */
void xdg_handle_activate(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, xdg_activate);
	struct wlr_xdg_activation_v1_request_activate_event *event = data;
	struct view *view = xdg_view_from_surface(event->surface);
	if (view == NULL || !view->mapped) {
		return;
	}
	if (event->token->seat == NULL) {
		wlr_log(WLR_INFO, "xdg-activation of \"%s\" refused: its token names no input",
			view->title);
		return;
	}
	view_focus(view);
}
