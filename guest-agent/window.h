/*
 * A forwarded window: one xdg toplevel or popup of a guest app and its
 * subsurfaces, flattened into buffers of the shared pool and shown by the
 * host as one window.
 *
 * Contents: the window's image as of its last flush lives in `current`
 * (a pool buffer the host shows) or, while there is no host, in
 * `snapshot` (guest memory). A flush copies only damaged rectangles: the
 * new damage from the client surfaces, plus in a reused pool buffer the
 * damage it missed since it was last current (its `stale` region), copied
 * from the current buffer.
 */
#ifndef VITRAIL_AGENT_WINDOW_H
#define VITRAIL_AGENT_WINDOW_H

#include <pixman.h>
#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>
#include <vitrail/protocol.h>

struct agent_server;
struct wlr_surface;
struct wlr_subsurface;
struct wlr_xdg_surface;
struct wlr_xwayland_surface;

#define AGENT_BUFFERS_PER_WINDOW 3
#define AGENT_MAX_TREE 32
#define AGENT_MAX_CONFIGURES 16

struct agent_buffer {
	struct wl_list link; /* agent_window.buffers */
	uint32_t id;
	uint64_t offset, size;
	int width, height, stride;
	bool held; /* attached to the host and not released yet */
	bool orphan; /* of an old size: freed once released */
	pixman_region32_t stale; /* window coordinates it is behind on */
};

struct agent_surface {
	struct agent_window *window;
	struct wlr_surface *surface;
	struct wlr_subsurface *subsurface; /* NULL for the window's root */
	pixman_region32_t damage; /* surface-local, since the last flush */
	/* surface-local: what its app declared opaque (wl_surface opaque
	 * region), or all of it when its buffer has no alpha channel */
	pixman_region32_t opaque;
	bool format_opaque; /* of its last readable buffer */
	struct wl_list link; /* agent_window.surfaces */

	struct wl_listener commit;
	struct wl_listener new_subsurface;
	struct wl_listener destroy;
	struct wl_listener subsurface_destroy;
	struct wl_listener subsurface_map;
	struct wl_listener subsurface_unmap;
};

struct agent_tree_entry {
	struct wlr_surface *surface;
	int x, y; /* window coordinates */
	int width, height;
};

struct agent_feedback {
	struct wl_list link; /* agent_window.feedbacks */
	struct wlr_presentation_feedback *feedback;
	uint32_t commit_serial;
};

struct agent_configure {
	uint32_t xdg_serial;
	uint32_t host_serial;
};

struct agent_window {
	struct agent_server *server;
	struct wlr_xdg_surface *xdg; /* NULL for an X11 window */
	/* An X11 window (xwayland.c), mapped for the window's whole life: a
	 * toplevel, or an override-redirect window (menu, tooltip) forwarded
	 * as a popup of an X11 toplevel. */
	struct wlr_xwayland_surface *xsurface;
	struct agent_window **owner_ref; /* X11: set to NULL when destroyed */
	bool dismissed; /* X11 popup: the host sent POPUP_DONE, not shown again */
	int16_t x11_x, x11_y; /* X11 popup: its X position when announced */
	struct wl_list link; /* agent_server.windows */
	bool toplevel;
	struct agent_window *parent; /* popups: the window of the parent surface */

	uint32_t id; /* host window id while announced, else 0 */
	bool mapped;
	struct wlr_box geometry; /* window geometry in root surface coordinates */
	/* size of the contents in pixels: the window geometry times scale */
	int width, height;
	/* pixels per logical pixel of the contents (1..VTP_MAX_SCALE): the
	 * root toplevel's host_scale (or OUTPUT_INFO's); 1 to a host before
	 * protocol version 4, which cannot show scaled buffers */
	uint32_t scale;
	uint32_t host_scale; /* toplevels: last WINDOW_SCALE, 0 if none */
	uint32_t capped_scale; /* the lower scale the pool allowed (logged), or 0 */
	uint32_t old_scale; /* of the previous contents while they are redrawn at scale, else 0 */
	struct wlr_output *entered; /* the agent output its surfaces entered */
	struct agent_tree_entry tree[AGENT_MAX_TREE];
	int tree_len;
	bool tree_truncated_logged;

	struct wl_list surfaces; /* agent_surface.link */
	struct wl_list buffers; /* agent_buffer.link */
	struct agent_buffer *current;
	uint8_t *snapshot; /* width*height*4, stride width*4, or NULL */
	pixman_region32_t pending; /* damage not yet in the contents */
	/* Whether the host may show the contents opaque (XRGB8888: no
	 * blending, no backdrop). Opaque when the surfaces' opaque regions
	 * cover the window; else when every pixel has alpha 0xff, which is
	 * checked in the rectangles each flush paints: `translucent` holds
	 * those (window coordinates) where a pixel was not, and is only
	 * kept up to date (translucent_valid) while the opaque regions
	 * do not cover the window. */
	pixman_region32_t translucent;
	bool translucent_valid;
	bool full_damage;
	bool no_buffer_logged;

	struct wl_event_source *flush_idle;
	struct wl_event_source *frame_timer;
	uint32_t commit_serial;
	bool frame_in_flight;
	struct wl_list feedbacks; /* agent_feedback.link */

	struct agent_configure configures[AGENT_MAX_CONFIGURES];
	int n_configures;
	struct vtp_size_hints hints; /* last sent */

	struct wl_listener destroy;
	struct wl_listener map;
	struct wl_listener unmap;
	struct wl_listener ack_configure;
	struct wl_listener request_move;
	struct wl_listener request_resize;
	struct wl_listener request_maximize;
	struct wl_listener request_fullscreen;
	struct wl_listener request_minimize;
	struct wl_listener set_title;
	struct wl_listener set_app_id;
};

/* For a new xdg toplevel or popup; NULL on failure. */
struct agent_window *agent_window_create(struct agent_server *server, struct wlr_xdg_surface *xdg);
void agent_window_destroy(struct agent_window *window);
/*
 * For a mapped X11 window: a toplevel when parent is NULL, else a popup
 * of the X11 toplevel parent placed at the X11 window's position relative
 * to it. *owner_ref is set to NULL when the window goes. NULL on failure.
 */
struct agent_window *agent_window_create_x11(struct agent_server *server,
	struct wlr_xwayland_surface *xsurface, struct agent_window *parent,
	struct agent_window **owner_ref);
/* An X11 window's geometry changed: a popup that moved is announced
 * again at its new place (a popup cannot move on the host). */
void agent_window_x11_moved(struct agent_window *window);
/* X11 size hints or title or class changed. */
void agent_window_x11_changed(struct agent_window *window);
/* The root surface: the xdg surface's or the X11 window's. */
struct wlr_surface *agent_window_root(struct agent_window *window);
/* The surface that gets the keyboard when the host gives it to this
 * window: its root, except for an X11 popup, whose X11 toplevel's (an
 * override-redirect window never has the X focus; the X server sends keys
 * to the focused window or to a menu's keyboard grab). */
struct wlr_surface *agent_window_keyboard_surface(struct agent_window *window);

/* The host connection came up: announce and send contents. */
void agent_window_link_ready(struct agent_window *window);
/* The host connection is going away: keep the contents in guest memory. */
void agent_window_link_lost(struct agent_window *window);

/* Host messages addressed to this window. */
void agent_window_configure(struct agent_window *window, const struct vtp_configure *configure);
void agent_window_close(struct agent_window *window);
/* WINDOW_SCALE: the host output under the toplevel has this scale. */
void agent_window_set_scale(struct agent_window *window, uint32_t scale);
/* The scale the window follows may have changed: redraw at it. */
void agent_window_scale_changed(struct agent_window *window);
void agent_window_frame_done(struct agent_window *window, const struct vtp_frame_done *done);
/* RELEASE: true if the buffer was this window's. */
bool agent_window_release(struct agent_window *window, uint32_t buffer_id);

/*
 * The surface of the window's tree (root and subsurfaces, not popups)
 * under window coordinates (wx, wy), and the surface-local coordinates;
 * NULL if none accepts input there.
 */
struct wlr_surface *agent_window_surface_at(
	struct agent_window *window, double wx, double wy, double *sx, double *sy);
/* Window coordinates of a surface of the tree; false if not in it. */
bool agent_window_surface_position(
	struct agent_window *window, struct wlr_surface *surface, int *x, int *y);
/* The window whose tree holds this surface, or NULL. */
struct agent_window *agent_window_from_surface(
	struct agent_server *server, struct wlr_surface *surface);

#endif
