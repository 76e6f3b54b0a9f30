/*
 * Host clients: xdg-shell toplevels (framed views in the "host" style),
 * their popups, and xdg-decoration forced to server side.
 */
#ifndef VITRAIL_XDG_H
#define VITRAIL_XDG_H

#include <stdbool.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>

struct server;
struct view;
struct wlr_scene_tree;
struct wlr_surface;
struct wlr_xdg_popup;

/* Handles server.new_xdg_surface (toplevels; popups hang off parents). */
void xdg_handle_new_surface(struct wl_listener *listener, void *data);
/* Handles server.new_toplevel_decoration. */
void xdg_handle_new_decoration(struct wl_listener *listener, void *data);

/*
 * Show a popup under parent_tree. root_box is the layout box of the
 * toplevel (or layer surface) the popup chain belongs to, used to keep it
 * on its output.
 */
void xdg_popup_create(struct server *server, struct wlr_xdg_popup *wlr_popup,
	struct wlr_scene_tree *parent_tree, const struct wlr_box *root_box);

/* server.xdg_activation's request_activate: focus the host window if the
 * token was made for an input event on the seat. */
void xdg_handle_activate(struct wl_listener *listener, void *data);

/* The host view whose surface tree holds surface, or NULL. */
struct view *xdg_view_from_surface(struct wlr_surface *surface);
struct wlr_surface *xdg_view_surface(struct view *view);

#endif
