/*
 * A window on the host desktop: a host xdg toplevel or a guest toplevel.
 * Both share this struct; what differs goes through struct view_impl.
 * The view's scene tree sits at the content position (layout coordinates);
 * the frame hangs around it at negative offsets.
 */
#ifndef VITRAIL_VIEW_H
#define VITRAIL_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>
#include "server.h"

struct frame;
struct input_target;
struct view;
struct vm_link;
struct wlr_cursor;

/* Size of the frame around the content (see the frame geometry contract). */
#define VIEW_BORDER 4
#define VIEW_TITLE_HEIGHT 24
#define VIEW_FRAME_TOP (VIEW_BORDER + VIEW_TITLE_HEIGHT)

/* First window's content position and the cascade step. */
#define VIEW_CASCADE_X 32
#define VIEW_CASCADE_Y 60
#define VIEW_CASCADE_STEP 32
/* Clicks on a window shown less than this long ago are not delivered: a
 * window cannot be timed to appear under a click meant for another. */
#define VIEW_CLICK_GUARD_MS 500

enum view_kind {
	VIEW_HOST,
	VIEW_GUEST,
};

enum view_edge {
	VIEW_EDGE_TOP = 1,
	VIEW_EDGE_BOTTOM = 2,
	VIEW_EDGE_LEFT = 4,
	VIEW_EDGE_RIGHT = 8,
};

struct view_impl {
	/* Ask the client for a content size (0: the client chooses) and send
	 * the view's state (activated, maximized, fullscreen, resizing). */
	void (*configure)(struct view *view, int width, int height);
	/* Ask the client to close the window. */
	void (*close)(struct view *view);
	/* Size limits, 0 for none. */
	void (*get_constraints)(struct view *view, int *min_width, int *min_height, int *max_width,
		int *max_height);
	/* Keyboard focus arrives / leaves. */
	void (*focus)(struct view *view, bool focused);

	/*
	 * Input, for a view whose impl delivers it itself (guest windows):
	 * all set, or all NULL for a view whose surfaces get it through
	 * wlr_seat (host windows). A target is the view's content or one of its popups,
	 * opaque to all but the impl: it names it in the scene (node_desc)
	 * and tells the seat when it goes (seat_input_target_gone). Pointer
	 * coordinates are target-local.
	 */
	/* What takes the keyboard when the view has the focus. */
	struct input_target *(*keyboard_target)(struct view *view);
	void (*keyboard_enter)(struct view *view, struct input_target *target);
	void (*keyboard_leave)(struct view *view, struct input_target *target);
	void (*keyboard_key)(struct view *view, struct input_target *target, uint32_t time_msec,
		uint32_t key, bool pressed);
	/* The seat's modifiers changed (seat_get_modifiers). */
	void (*keyboard_modifiers)(struct view *view, struct input_target *target);
	void (*pointer_enter)(struct view *view, struct input_target *target, double sx, double sy);
	void (*pointer_leave)(struct view *view, struct input_target *target);
	void (*pointer_motion)(struct view *view, struct input_target *target, uint32_t time_msec,
		double sx, double sy);
	void (*pointer_button)(struct view *view, struct input_target *target, uint32_t time_msec,
		uint32_t button, bool pressed);
	void (*pointer_axis)(struct view *view, struct input_target *target, uint32_t time_msec,
		uint32_t orientation, double delta, int32_t discrete, uint32_t source);
	/* The target's box in layout coordinates (motion during a grab). */
	struct wlr_box (*target_box)(struct view *view, struct input_target *target);
	/* Show the target's cursor image; false if it has none (the seat
	 * shows the default one). */
	bool (*set_cursor)(
		struct view *view, struct input_target *target, struct wlr_cursor *cursor);
};

struct view {
	struct server *server;
	const struct view_impl *impl;
	enum view_kind kind;
	void *data; /* the struct behind the impl */
	struct wl_list link; /* server.views, top of the stack first */
	uint32_t id; /* unique, for vitrailctl */
	struct vm_link *vm; /* NULL for host windows */
	uint32_t label_rgb;

	char *title; /* sanitized for display, never NULL */
	char *app_id; /* never NULL */

	struct wlr_scene_tree *tree; /* at (x, y) in SERVER_LAYER_VIEWS */
	struct wlr_scene_tree *content; /* child of tree at (0, 0) */
	struct frame *frame;
	struct node_desc desc;

	int x, y; /* content position, layout coordinates */
	int width, height; /* content size */
	/* guest windows: the buffer shown, in pixels, and its scale (width is
	 * buffer_width / buffer_scale); 0 when unknown (host windows) */
	int buffer_width, buffer_height, buffer_scale;
	bool mapped;
	bool focused;
	bool maximized;
	bool fullscreen;
	bool resizing;
	struct wlr_box saved; /* content box before maximize */
	struct wlr_box saved_fullscreen; /* content box before fullscreen */
	int requested_width, requested_height; /* last size asked of the client */
	uint32_t resize_edges; /* enum view_edge while a resize keeps an edge fixed */
	uint64_t focus_seq; /* when it last got the focus (0: never); later is larger */
	bool minimized; /* hidden by the user (from a taskbar); still mapped */
	/* an app keeps the session awake while this window shows (a host
	 * client's inhibitors are counted apart; a guest's only where its VM's
	 * idle-inhibit allows) */
	bool idle_inhibit;
	int64_t mapped_at_ms; /* loop_now_ms() when it was mapped */

	struct {
		struct wl_signal unmap; /* view_unmap, before it is hidden */
		/* title, app id, focus, maximized, fullscreen or minimized changed */
		struct wl_signal changed;
	} events;
};

/* Mapped less than VIEW_CLICK_GUARD_MS ago. */
bool view_just_mapped(const struct view *view);
/* Set up a view (not mapped, not in the list) with its tree and frame. */
bool view_init(struct view *view, struct server *server, enum view_kind kind,
	const struct view_impl *impl, void *data, struct vm_link *vm, uint32_t label_rgb);
/* Undo view_init; unmaps first. */
void view_finish(struct view *view);
/* Mapped views of a VM (NULL: host windows). */
size_t view_count_mapped(struct server *server, const struct vm_link *vm);

/* Show the view: place it; with focus, on top and focused; without, just
 * below the focused view (a new window never covers the one in use). */
void view_map(struct view *view, int width, int height, bool focus);
void view_unmap(struct view *view);

/* The content has a new size (from a commit). Keeps the resize anchor. */
void view_set_size(struct view *view, int width, int height);
void view_move(struct view *view, int x, int y);
void view_set_title(struct view *view, const char *untrusted_title);
void view_set_app_id(struct view *view, const char *untrusted_app_id);

void view_raise(struct view *view);
/* Focus and raise (a guest fullscreen view that loses the focus leaves
 * fullscreen); NULL does nothing. */
void view_focus(struct view *view);
void view_close(struct view *view);
void view_set_maximized(struct view *view, bool maximized);
void view_set_fullscreen(struct view *view, bool fullscreen);
/* Hide a mapped view (it loses the focus) or show it again; view_focus
 * shows a minimized view too. */
void view_set_minimized(struct view *view, bool minimized);
/* Ask the client for a size during an interactive resize. */
void view_request_size(struct view *view, int width, int height);
void view_set_resizing(struct view *view, bool resizing);

/* Content box and whole-frame box in layout coordinates. */
struct wlr_box view_content_box(const struct view *view);
struct wlr_box view_frame_box(const struct view *view);

/* The views in stacking order; NULL past the end. */
struct view *view_next_for_cycle(struct server *server);
struct view *view_from_id(struct server *server, uint32_t id);

/* Redraw the frame (focus, title or size changed). */
void view_update_frame(struct view *view);
/* Draw each mapped view's title at the scale of the output holding most
 * of it (run before each output frame). */
void view_update_scales(struct server *server);

#endif
