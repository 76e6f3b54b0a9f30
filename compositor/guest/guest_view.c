#include "guest/guest_view.h"

#include <drm_fourcc.h>
#include <inttypes.h>
#include <pixman.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wayland-server-core.h>
#include <wlr/render/wlr_texture.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_damage.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/util/log.h>
#include <vitrail/common/loop.h>

#include "config.h"
#include "tree/cpu_buffer.h"
#include "tree/frame.h"
#include "desktop/idle.h"
#include "desktop/output.h"
#include "guest/window_state.h"
#include "input/seat.h"
#include "server.h"
#include "tree/view.h"
#include "guest/vm_link.h"

/* Beyond this many rectangles, pending damage collapses to its extents. */
#define MAX_PENDING_DAMAGE_RECTS 256

/* The guest windows of one VM, and what the VM was last told. */
#define GUEST_MAX_HELD_KEYS 32

struct guest_vm {
	struct server *server;
	struct vm_link *link;
	const struct config_vm *config;
	struct wl_list link_in_server; /* server.guest_vms */
	struct wl_list windows; /* struct guest_window.link */
	size_t n_windows;
	struct window_budget budget; /* pixels of all its windows' buffers */
	uint64_t keymap_serial_sent; /* 0: none sent on this connection */
	struct wl_listener link_destroy;
	bool paused; /* guest_vm_set_paused */
	/* guest_vm_set_suspended: the host suspends (or restores) the VM;
	 * a disconnect then keeps its toplevels (struct guest_window.kept) */
	bool suspended;
	size_t n_kept;
	struct wl_event_source *kept_timer; /* drops what is kept after a restore */
	bool idle_inhibit_logged; /* said once that its inhibitors do not count */
	uint32_t expected; /* new windows the user asked for (guest_vm_expect_window) */
	int64_t expected_until_ms; /* ... until then (CLOCK_MONOTONIC) */
	/* keys pressed in the window that has the VM's keyboard focus since it
	 * got it: only their releases are sent (a release whose press went
	 * elsewhere, say to a launcher that just closed, is not the VM's) */
	uint32_t held[GUEST_MAX_HELD_KEYS];
	size_t n_held;
	struct guest_window *keyboard_window; /* that window, or NULL */
	void (*wake)(void *data, struct guest_vm *gvm, bool resume);
	void *wake_data;
};

struct guest_window {
	struct vm_link *vm;
	struct guest_vm *gvm;
	struct wl_list link; /* guest_vm.windows */
	uint32_t id;
	enum vtp_window_kind kind;
	struct node_desc desc;

	/* toplevels */
	struct view view;
	bool has_view;
	struct vtp_size_hints hints;
	uint32_t last_configure_serial;
	bool want_maximized, want_fullscreen; /* asked before mapping */
	struct wlr_scene_rect *paused_dim; /* over the content while the VM is paused */
	/* kept across a suspend: the last frame in host memory, no agent
	 * window behind it any more (find_window never returns it) */
	bool kept;
	void *kept_pixels;

	/* popups */
	struct guest_window *parent;
	struct wl_list children; /* popups, struct guest_window.child_link */
	struct wl_list child_link;
	struct vtp_window_create placement;
	struct wlr_scene_tree *popup_tree; /* child of the root view's tree */
	struct frame *popup_frame;
	struct wlr_box popup_box; /* relative to the root content origin */
	bool popup_done_sent; /* dismissed: hidden for good, the guest destroys it */
	struct wl_listener seat_press; /* a press elsewhere dismisses it */

	/* content */
	struct wlr_scene_tree *content_parent;
	/* The buffer the scene reads (tree/cpu_buffer.h) wraps the window's
	 * current pool buffer in place. Under pixman the renderer asks for the
	 * pointer at every paint, so switching the pointer switches the pixels
	 * without a copy; a new one is made only when the size, stride or
	 * format changes. */
	struct cpu_buffer *sbuf;
	uint32_t sbuf_vtp_format;
	struct wlr_scene_buffer *scene_buffer;
	/* Under a translucent (ARGB8888) buffer, in its rectangle: the
	 * window's own label color, so that what the guest leaves
	 * transparent is neither black nor whatever lies below the window.
	 * Disabled under an opaque (XRGB8888) buffer. */
	struct wlr_scene_rect *backdrop;
	struct wlr_texture *texture; /* the node's, for updates in place (GLES2) */
	bool mapped;
	int width, height; /* of the current buffer, in logical px (its size / scale) */
	int buffer_width, buffer_height; /* of the current buffer, in pixels */
	uint32_t scale; /* of the current buffer, 1..VTP_MAX_SCALE */
	uint32_t told_scale; /* toplevels: last WINDOW_SCALE sent, 0 none */

	struct window_state state; /* buffers: pending, current, retired */
	pixman_region32_t pending_damage; /* buffer coordinates */

	bool frame_requested;
	uint32_t frame_serial;
	struct wl_list frame_link; /* server.guest_frame_pending */

	/* the latest title, app id and cursor requests, applied together from
	 * an idle callback: a flood of them costs one redraw per wakeup */
	struct wl_event_source *apply_idle;
	char *pending_title, *pending_app_id; /* NULL: none pending */
	bool cursor_pending;
	struct vtp_set_cursor pending_cursor;

	/* cursor, copied out of the pool */
	bool cursor_set;
	uint8_t *cursor_pixels; /* NULL: hidden */
	uint32_t cursor_width, cursor_height;
	uint32_t cursor_scale; /* of cursor_pixels, 1..VTP_MAX_SCALE */
	int32_t cursor_hotspot_x, cursor_hotspot_y;
};

/* ---- helpers ---- */

static struct server *window_server(struct guest_window *window)
{
	return window->gvm->server;
}

/* The seat's opaque handle for a window (tree/view.h): the window itself. */
static struct input_target *window_target(struct guest_window *window)
{
	return (struct input_target *)window;
}

static struct guest_window *target_window(struct input_target *target)
{
	return (struct guest_window *)target;
}

struct guest_window *guest_view_from_view(struct view *view)
{
	if (view == NULL || view->kind != VIEW_GUEST) {
		return NULL;
	}
	return view->data;
}

bool guest_view_has_content(const struct guest_window *window)
{
	return window != NULL && window->scene_buffer != NULL && window->mapped;
}

static struct guest_window *root_window(struct guest_window *window)
{
	while (window != NULL && window->kind == VTP_WINDOW_POPUP) {
		window = window->parent;
	}
	return window;
}

static struct view *window_root(struct guest_window *window)
{
	struct guest_window *root = root_window(window);
	return root != NULL && root->has_view ? &root->view : NULL;
}

static struct wlr_box window_content_box(struct guest_window *window)
{
	struct view *root = window_root(window);
	if (root == NULL) {
		return (struct wlr_box){ 0 };
	}
	if (window->kind == VTP_WINDOW_TOPLEVEL) {
		return (struct wlr_box){ root->x, root->y, window->width, window->height };
	}
	return (struct wlr_box){
		root->x + window->popup_box.x,
		root->y + window->popup_box.y,
		window->popup_box.width,
		window->popup_box.height,
	};
}

static struct guest_window *find_window(struct guest_vm *gvm, uint32_t id)
{
	struct guest_window *window;
	wl_list_for_each(window, &gvm->windows, link) {
		if (window->id == id && !window->kept) {
			return window;
		}
	}
	return NULL;
}

/* A paused VM's window: last frame under a host-drawn dimming, "(paused)"
 * in its title bar. */
#define PAUSED_DIM_ALPHA 0.5f

static void show_paused(struct guest_window *window, bool paused)
{
	struct view *view = &window->view;
	bool suspended = window->kept || window->gvm->suspended;
	paused = paused || suspended;
	frame_set_paused(view->frame, paused);
	frame_set_suspended(view->frame, suspended);
	if (paused && window->paused_dim == NULL) {
		float black[4] = { 0, 0, 0, PAUSED_DIM_ALPHA };
		window->paused_dim = wlr_scene_rect_create(&view->tree->node, 1, 1, black);
		if (window->paused_dim != NULL) {
			/* clicks on it are the window's: they resume the VM */
			window->paused_dim->node.data = &window->desc;
		}
	}
	if (window->paused_dim != NULL) {
		wlr_scene_rect_set_size(window->paused_dim, view->width > 0 ? view->width : 1,
			view->height > 0 ? view->height : 1);
		wlr_scene_node_raise_to_top(&window->paused_dim->node);
		wlr_scene_node_set_enabled(&window->paused_dim->node, paused);
	}
	view_update_frame(view);
}

static void window_destroy(struct guest_window *window);

void guest_vm_expect_window(struct guest_vm *gvm)
{
	if (gvm->expected < GUEST_MAX_EXPECTED) {
		gvm->expected++;
	}
	gvm->expected_until_ms = loop_now_ms() + GUEST_EXPECT_WINDOW_MS;
}

void guest_vm_set_paused(struct guest_vm *gvm, bool paused)
{
	if (paused && gvm->n_held > 0 && gvm->keyboard_window != NULL) {
		/* keys held now are released for it (it reads them on resume):
		 * their real releases come while it is paused and are dropped */
		for (size_t i = 0; i < gvm->n_held; i++) {
			struct vtp_key event = {
				.serial = vm_link_next_serial(gvm->link),
				.key = gvm->held[i],
				.state = 0,
			};
			vm_link_send(gvm->link, VTP_KEY, gvm->keyboard_window->id, &event, NULL, 0);
		}
	}
	if (paused) {
		gvm->n_held = 0;
	}
	gvm->paused = paused;
	struct guest_window *window;
	wl_list_for_each(window, &gvm->windows, link) {
		if (window->has_view) {
			show_paused(window, paused);
		}
	}
}

void guest_vm_set_wake(struct guest_vm *gvm,
	void (*wake)(void *data, struct guest_vm *gvm, bool resume), void *data)
{
	gvm->wake = wake;
	gvm->wake_data = data;
}

/* Input meets a paused VM: a click or the keyboard focus resumes it
 * (through the owner, which may refuse); nothing else reaches it. The
 * owner hears of input to a VM that runs too (its idle time). */
static void wake(struct guest_vm *gvm, bool resume)
{
	if (gvm->wake != NULL) {
		gvm->wake(gvm->wake_data, gvm, resume);
	}
}

/* No input reaches the window: its VM is paused or suspended, or it is a
 * copy kept across a suspend. */
static bool window_frozen(const struct guest_window *window)
{
	return window->gvm->paused || window->gvm->suspended || window->kept;
}

/* Keep a toplevel across a suspend: its last frame copied to host memory
 * (the pool goes with QEMU), its popups gone. */
static void keep_window(struct guest_window *window)
{
	while (!wl_list_empty(&window->children)) {
		struct guest_window *child =
			wl_container_of(window->children.next, child, child_link);
		window_destroy(child);
	}
	if (window->sbuf != NULL) {
		size_t size = window->sbuf->stride * (size_t)window->sbuf->base.height;
		window->kept_pixels = malloc(size);
		if (window->kept_pixels == NULL) {
			window_destroy(window);
			return;
		}
		memcpy(window->kept_pixels, window->sbuf->data, size);
		cpu_buffer_set_data(window->sbuf, window->kept_pixels);
	}
	wl_list_remove(&window->frame_link);
	wl_list_init(&window->frame_link);
	window->frame_requested = false;
	window->kept = true;
	window->gvm->n_kept++;
	show_paused(window, true);
}

static void destroy_kept(struct guest_vm *gvm)
{
	struct guest_window *window, *tmp;
	wl_list_for_each_safe(window, tmp, &gvm->windows, link) {
		if (window->kept) {
			window_destroy(window);
		}
	}
	loop_source_remove(&gvm->kept_timer);
}

static int handle_kept_timer(void *data)
{
	struct guest_vm *gvm = data;
	destroy_kept(gvm);
	return 0;
}

void guest_vm_set_suspended(struct guest_vm *gvm, bool suspended)
{
	if (gvm->suspended == suspended) {
		return;
	}
	gvm->suspended = suspended;
	if (!suspended && !vm_link_connected(gvm->link)) {
		destroy_kept(gvm); /* stopped, or the restore failed */
	}
	struct guest_window *window;
	wl_list_for_each(window, &gvm->windows, link) {
		if (window->has_view) {
			show_paused(window, gvm->paused);
		}
	}
}

/* A new toplevel of a VM restored from a suspend: it takes the place of
 * the kept window of the same app id (else the oldest kept one), which
 * goes. */
static void replace_kept(struct guest_window *window)
{
	struct guest_vm *gvm = window->gvm;
	const char *app_id =
		window->pending_app_id != NULL ? window->pending_app_id : window->view.app_id;
	struct guest_window *match = NULL, *w;
	wl_list_for_each(w, &gvm->windows, link) {
		if (!w->kept || !w->has_view) {
			continue;
		}
		if (match == NULL || strcmp(w->view.app_id, app_id) == 0) {
			match = w;
			if (strcmp(w->view.app_id, app_id) == 0) {
				break;
			}
		}
	}
	if (match != NULL) {
		view_move(&window->view, match->view.x, match->view.y);
		window_destroy(match);
	}
}

void guest_vm_set_responding(struct guest_vm *gvm, bool responding)
{
	struct guest_window *window;
	wl_list_for_each(window, &gvm->windows, link) {
		if (window->has_view) {
			frame_set_unresponsive(window->view.frame, !responding);
			view_update_frame(&window->view);
		}
	}
}

static bool window_visible(struct guest_window *window)
{
	if (!window->mapped || window->content_parent == NULL) {
		return false;
	}
	int lx, ly;
	return wlr_scene_node_coords(&window->content_parent->node, &lx, &ly);
}

/* ---- toplevel view_impl ---- */

static void send_configure(struct guest_window *window, int width, int height)
{
	struct view *view = &window->view;
	struct vtp_configure configure = {
		.serial = vm_link_next_serial(window->vm),
		.width = width > 0 ? (uint32_t)width : 0,
		.height = height > 0 ? (uint32_t)height : 0,
	};
	if (view->focused) {
		configure.states |= VTP_STATE_ACTIVATED;
	}
	if (view->maximized) {
		configure.states |= VTP_STATE_MAXIMIZED;
	}
	if (view->fullscreen) {
		configure.states |= VTP_STATE_FULLSCREEN;
	}
	if (view->resizing) {
		configure.states |= VTP_STATE_RESIZING;
	}
	window->last_configure_serial = configure.serial;
	vm_link_send(window->vm, VTP_CONFIGURE, window->id, &configure, NULL, 0);
}

static void impl_configure(struct view *view, int width, int height)
{
	send_configure(view->data, width, height);
}

static void impl_close(struct view *view)
{
	struct guest_window *window = view->data;
	vm_link_send(window->vm, VTP_CLOSE, window->id, NULL, NULL, 0);
}

static void impl_get_constraints(
	struct view *view, int *min_width, int *min_height, int *max_width, int *max_height)
{
	struct guest_window *window = view->data;
	*min_width = (int)window->hints.min_width;
	*min_height = (int)window->hints.min_height;
	*max_width = (int)window->hints.max_width;
	*max_height = (int)window->hints.max_height;
}

static void popup_dismiss(struct guest_window *window);

/* Dismiss (hide, POPUP_DONE) every popup of the toplevel window. */
static void dismiss_popups_of(struct guest_window *toplevel)
{
	struct guest_window *child;
	wl_list_for_each(child, &toplevel->children, child_link) {
		popup_dismiss(child);
	}
}

static void impl_focus(struct view *view, bool focused)
{
	struct guest_window *window = view->data;
	/* popups live only while their toplevel has the keyboard */
	if (!focused) {
		dismiss_popups_of(window);
	}
	/* keyboard enter/leave go through the seat; the state goes here */
	send_configure(window, view->requested_width, view->requested_height);
}

/* Defined with the input hooks, below. */
static const struct view_impl guest_view_impl;
static void handle_seat_press(struct wl_listener *listener, void *data);

/* ---- popups ---- */

/*
 * An edge (xdg_positioner's anchor or gravity) as halves along each axis:
 * 0 left/top, 1 the middle, 2 right/bottom.
 */
static void edge_halves(uint32_t edge, int *hx, int *hy)
{
	*hx = 1;
	*hy = 1;
	switch (edge) {
	case VTP_EDGE_TOP_LEFT:
	case VTP_EDGE_LEFT:
	case VTP_EDGE_BOTTOM_LEFT:
		*hx = 0;
		break;
	case VTP_EDGE_TOP_RIGHT:
	case VTP_EDGE_RIGHT:
	case VTP_EDGE_BOTTOM_RIGHT:
		*hx = 2;
		break;
	}
	switch (edge) {
	case VTP_EDGE_TOP_LEFT:
	case VTP_EDGE_TOP:
	case VTP_EDGE_TOP_RIGHT:
		*hy = 0;
		break;
	case VTP_EDGE_BOTTOM_LEFT:
	case VTP_EDGE_BOTTOM:
	case VTP_EDGE_BOTTOM_RIGHT:
		*hy = 2;
		break;
	}
}

/* The point of the anchor rect the popup is attached to. */
static void anchor_point(const struct vtp_window_create *p, int *x, int *y)
{
	int hx, hy;
	edge_halves(p->anchor, &hx, &hy);
	*x = p->anchor_x + (int)p->anchor_width * hx / 2;
	*y = p->anchor_y + (int)p->anchor_height * hy / 2;
}

/* Top-left of a w x h box put at the point (px, py) with a gravity: the
 * box extends from the point towards the gravity's edge. */
static void apply_gravity(uint32_t gravity, int px, int py, int w, int h, int *x, int *y)
{
	int hx, hy;
	edge_halves(gravity, &hx, &hy);
	*x = px - w * (2 - hx) / 2;
	*y = py - h * (2 - hy) / 2;
}

/* The size a window's popups are anchored in: its buffer once mapped,
 * else the size it announced. */
static void window_geometry_size(const struct guest_window *window, int64_t *w, int64_t *h)
{
	if (window->mapped) {
		*w = window->width;
		*h = window->height;
	} else {
		*w = window->placement.width;
		*h = window->placement.height;
	}
}

/* A framed popup must fit on the output of its toplevel (protocol 5.2):
 * larger is a LIMIT error. */
static bool check_popup_size(
	struct guest_window *window, struct view *root, uint32_t width, uint32_t height)
{
	struct wlr_box box = root != NULL ? view_content_box(root) : (struct wlr_box){ 0 };
	struct wlr_box out;
	if (!server_output_box_for(window_server(window), &box, &out)) {
		return true; /* no output: nothing shows it */
	}
	int64_t max_w = (int64_t)out.width - 2 * VIEW_BORDER;
	int64_t max_h = (int64_t)out.height - 2 * VIEW_BORDER;
	if ((int64_t)width > max_w || (int64_t)height > max_h) {
		vm_link_fail(window->vm, VTP_ERR_LIMIT,
			"popup %u: %ux%u does not fit on the output (at most %" PRId64 "x%" PRId64
			")",
			window->id, width, height, max_w, max_h);
		return false;
	}
	return true;
}

/* Whether a popup may be shown: its toplevel has keyboard focus and
 * neither it nor a parent popup was dismissed. */
static bool popup_may_show(struct guest_window *window)
{
	for (struct guest_window *w = window; w != NULL && w->kind == VTP_WINDOW_POPUP;
		w = w->parent) {
		if (w->popup_done_sent) {
			return false;
		}
	}
	struct view *root = window_root(window);
	return root != NULL && root->mapped && root->focused;
}

/* Hide a popup and its children at once and tell the guest (POPUP_DONE);
 * it stays hidden until the guest destroys it. */
static void popup_dismiss(struct guest_window *window)
{
	if (window->kind != VTP_WINDOW_POPUP) {
		return;
	}
	struct guest_window *child;
	wl_list_for_each(child, &window->children, child_link) {
		popup_dismiss(child);
	}
	if (window->popup_tree != NULL) {
		wlr_scene_node_set_enabled(&window->popup_tree->node, false);
	}
	if (!window->popup_done_sent) {
		window->popup_done_sent = true;
		vm_link_send(window->vm, VTP_POPUP_DONE, window->id, NULL, NULL, 0);
	}
}

/* Place a popup relative to its parent and keep its frame on the output. */
static void place_popup(struct guest_window *window)
{
	struct view *root = window_root(window);
	if (root == NULL || window->popup_tree == NULL) {
		return;
	}
	int w = window->mapped ? window->width : (int)window->placement.width;
	int h = window->mapped ? window->height : (int)window->placement.height;
	int px, py, x, y;
	anchor_point(&window->placement, &px, &py);
	apply_gravity(window->placement.gravity, px, py, w, h, &x, &y);
	x += window->placement.offset_x;
	y += window->placement.offset_y;
	struct guest_window *parent = window->parent;
	if (parent->kind == VTP_WINDOW_POPUP) {
		x += parent->popup_box.x;
		y += parent->popup_box.y;
	}

	/* on screen: the whole framed popup inside the root's output */
	struct wlr_box root_box = view_content_box(root);
	struct wlr_box out;
	if (server_output_box_for(window_server(window), &root_box, &out)) {
		int lx = root->x + x, ly = root->y + y;
		if (lx + w + VIEW_BORDER > out.x + out.width) {
			lx = out.x + out.width - w - VIEW_BORDER;
		}
		if (ly + h + VIEW_BORDER > out.y + out.height) {
			ly = out.y + out.height - h - VIEW_BORDER;
		}
		if (lx - VIEW_BORDER < out.x) {
			lx = out.x + VIEW_BORDER;
		}
		if (ly - VIEW_BORDER < out.y) {
			ly = out.y + VIEW_BORDER;
		}
		x = lx - root->x;
		y = ly - root->y;
	}
	window->popup_box = (struct wlr_box){ x, y, w, h };
	wlr_scene_node_set_position(&window->popup_tree->node, x, y);
	frame_update(window->popup_frame, w, h, "", false);

	struct guest_window *child;
	wl_list_for_each(child, &window->children, child_link) {
		place_popup(child);
	}
}

/* ---- content ---- */

static void destroy_content(struct guest_window *window)
{
	if (window->scene_buffer != NULL) {
		wlr_scene_node_destroy(&window->scene_buffer->node);
		window->scene_buffer = NULL;
		window->texture = NULL;
	}
	if (window->backdrop != NULL) {
		wlr_scene_node_destroy(&window->backdrop->node);
		window->backdrop = NULL;
	}
	if (window->sbuf != NULL) {
		wlr_buffer_drop(&window->sbuf->base);
		window->sbuf = NULL;
	}
}

static void destroy_popup_scene(struct guest_window *window)
{
	destroy_content(window);
	frame_destroy(window->popup_frame);
	window->popup_frame = NULL;
	if (window->popup_tree != NULL) {
		wlr_scene_node_destroy(&window->popup_tree->node);
		window->popup_tree = NULL;
	}
	window->content_parent = NULL;
}

static void damage_rects(struct guest_window *window, pixman_region32_t *damage)
{
	struct server *server = window_server(window);
	if (!window_visible(window)) {
		return;
	}
	struct wlr_box box = window_content_box(window);
	int nrects;
	pixman_box32_t *rects = pixman_region32_rectangles(damage, &nrects);
	struct wlr_scene_output *scene_output;
	/* buffer pixels to logical ones, rounded outwards */
	int bs = window->scale > 1 ? (int)window->scale : 1;
	wl_list_for_each(scene_output, &server->scene->outputs, link) {
		float scale = scene_output->output->scale;
		for (int i = 0; i < nrects; i++) {
			int x1 = rects[i].x1 / bs, y1 = rects[i].y1 / bs;
			int x2 = (rects[i].x2 + bs - 1) / bs, y2 = (rects[i].y2 + bs - 1) / bs;
			struct wlr_box r = {
				.x = box.x + x1 - scene_output->x,
				.y = box.y + y1 - scene_output->y,
				.width = x2 - x1,
				.height = y2 - y1,
			};
			if (scale != 1.0f) {
				r.x = (int)(r.x * scale);
				r.y = (int)(r.y * scale);
				r.width = (int)(r.width * scale + 1);
				r.height = (int)(r.height * scale + 1);
			}
			wlr_output_damage_add_box(scene_output->damage, &r);
		}
	}
}

/* GLES2 keeps a copy of the pixels: write the damaged rectangles into it. */
static void update_texture(struct guest_window *window, pixman_region32_t *damage)
{
	struct server *server = window_server(window);
	if (server->renderer_is_pixman || window->scene_buffer == NULL || window->texture == NULL) {
		return;
	}
	int nrects;
	pixman_box32_t *rects = pixman_region32_rectangles(damage, &nrects);
	for (int i = 0; i < nrects; i++) {
		wlr_texture_write_pixels(window->texture, (uint32_t)window->sbuf->stride,
			(uint32_t)(rects[i].x2 - rects[i].x1),
			(uint32_t)(rects[i].y2 - rects[i].y1), (uint32_t)rects[i].x1,
			(uint32_t)rects[i].y1, (uint32_t)rects[i].x1, (uint32_t)rects[i].y1,
			window->sbuf->data);
	}
}

/* Point the scene at a buffer. Returns false on allocation failure. */
static bool show_buffer(struct guest_window *window, const struct window_buffer *buffer)
{
	const uint8_t *data = vm_link_pool_data(window->vm, buffer->offset);
	if (data == NULL) {
		return false;
	}
	/* a buffer of scale s covers size / s logical px: on an output of
	 * scale s, one buffer pixel is one output pixel */
	int dest_w = (int)(buffer->width / buffer->scale);
	int dest_h = (int)(buffer->height / buffer->scale);
	struct cpu_buffer *sbuf = window->sbuf;
	if (sbuf != NULL && sbuf->base.width == (int)buffer->width &&
		sbuf->base.height == (int)buffer->height && sbuf->stride == buffer->stride &&
		window->sbuf_vtp_format == buffer->format) {
		cpu_buffer_set_data(sbuf, data);
		wlr_scene_buffer_set_dest_size(window->scene_buffer, dest_w, dest_h);
		if (window->backdrop != NULL) {
			wlr_scene_rect_set_size(window->backdrop, dest_w, dest_h);
		}
		return true;
	}

	/* A translucent buffer is blended over the window's backdrop, an
	 * opaque one replaces it: a guest cannot let another VM's window
	 * show through inside its own frame. */
	bool translucent = buffer->format == VTP_FORMAT_ARGB8888;
	sbuf = cpu_buffer_wrap((int)buffer->width, (int)buffer->height, buffer->stride,
		translucent ? DRM_FORMAT_ARGB8888 : DRM_FORMAT_XRGB8888, data, NULL, NULL);
	if (sbuf == NULL) {
		return false;
	}
	struct wlr_scene_rect *backdrop = NULL;
	if (translucent) {
		float color[4];
		server_color_from_rgb(vm_link_label(window->vm), color);
		backdrop =
			wlr_scene_rect_create(&window->content_parent->node, dest_w, dest_h, color);
		if (backdrop == NULL) {
			wlr_buffer_drop(&sbuf->base);
			return false;
		}
		backdrop->node.data = &window->desc;
	}
	struct wlr_texture *texture = NULL;
	struct wlr_scene_buffer *node = server_scene_buffer_create(
		window_server(window), window->content_parent, &sbuf->base, &texture);
	if (node == NULL) {
		if (backdrop != NULL) {
			wlr_scene_node_destroy(&backdrop->node);
		}
		wlr_buffer_drop(&sbuf->base);
		return false;
	}
	node->node.data = &window->desc;
	wlr_scene_buffer_set_dest_size(node, dest_w, dest_h);
	destroy_content(window);
	window->backdrop = backdrop;
	window->sbuf = sbuf;
	window->sbuf_vtp_format = buffer->format;
	window->scene_buffer = node;
	window->texture = texture;
	return true;
}

/* RELEASE the buffers the window state let go of. */
static void send_releases(struct guest_window *window)
{
	uint32_t ids[VTP_MAX_BUFFERS_PER_WINDOW];
	size_t n = window_state_take_releases(&window->state, ids);
	for (size_t i = 0; i < n; i++) {
		struct vtp_release release = { .buffer_id = ids[i] };
		vm_link_send(window->vm, VTP_RELEASE, window->id, &release, NULL, 0);
	}
}

static void schedule_frame(struct guest_window *window)
{
	struct server *server = window_server(window);
	struct wlr_box box = window_content_box(window);
	struct output *output = window_visible(window) ? server_output_for(server, &box) : NULL;
	if (output == NULL && !wl_list_empty(&server->outputs)) {
		output = wl_container_of(server->outputs.next, output, link);
	}
	if (output != NULL) {
		wlr_output_schedule_frame(output->wlr_output);
	}
}

/* ---- creation and destruction ---- */

static void window_destroy(struct guest_window *window)
{
	struct server *server = window_server(window);
	/* destroying a parent destroys its popups (protocol 5.2) */
	while (!wl_list_empty(&window->children)) {
		struct guest_window *child =
			wl_container_of(window->children.next, child, child_link);
		window_destroy(child);
	}
	seat_input_target_gone(server->seat, window_target(window));
	wl_list_remove(&window->seat_press.link);
	if (window->kind == VTP_WINDOW_POPUP) {
		destroy_popup_scene(window);
		wl_list_remove(&window->child_link);
	} else {
		destroy_content(window);
	}
	if (window->kept) {
		window->gvm->n_kept--;
	}
	free(window->kept_pixels); /* after the scene let go of the copy */
	if (window->has_view) {
		view_finish(&window->view);
	}
	wl_list_remove(&window->frame_link);
	wl_list_remove(&window->link);
	if (window->gvm->keyboard_window == window) {
		window->gvm->keyboard_window = NULL;
		window->gvm->n_held = 0;
	}
	window->gvm->n_windows--;
	window_state_finish(&window->state, &window->gvm->budget);
	pixman_region32_fini(&window->pending_damage);
	loop_source_remove(&window->apply_idle);
	free(window->pending_title);
	free(window->pending_app_id);
	free(window->cursor_pixels);
	free(window);
	seat_refresh_pointer(server->seat);
}

static bool create_window(struct guest_vm *gvm, uint32_t id, const struct vtp_window_create *create)
{
	struct server *server = gvm->server;
	struct vm_link *link = gvm->link;
	if (find_window(gvm, id) != NULL) {
		vm_link_fail(link, VTP_ERR_PROTOCOL, "window %u: duplicate window id", id);
		return false;
	}
	if (gvm->n_windows >= VTP_MAX_WINDOWS) {
		vm_link_fail(link, VTP_ERR_LIMIT, "more than %u windows", VTP_MAX_WINDOWS);
		return false;
	}
	struct guest_window *parent = NULL;
	if (create->kind == VTP_WINDOW_POPUP) {
		parent = find_window(gvm, create->parent);
		if (parent == NULL) {
			vm_link_fail(link, VTP_ERR_PROTOCOL, "popup %u: unknown parent %u", id,
				create->parent);
			return false;
		}
		/* the anchor rect lies within the parent (protocol 5.2) */
		int64_t pw, ph;
		window_geometry_size(parent, &pw, &ph);
		if (create->anchor_x < 0 || create->anchor_y < 0 ||
			(int64_t)create->anchor_x + create->anchor_width > pw ||
			(int64_t)create->anchor_y + create->anchor_height > ph) {
			vm_link_fail(link, VTP_ERR_PROTOCOL,
				"popup %u: anchor rect %d,%d %ux%u outside its parent (%" PRId64
				"x%" PRId64 ")",
				id, create->anchor_x, create->anchor_y, create->anchor_width,
				create->anchor_height, pw, ph);
			return false;
		}
	}

	struct guest_window *window = calloc(1, sizeof(*window));
	if (window == NULL) {
		vm_link_fail(link, VTP_ERR_INTERNAL, "out of memory");
		return false;
	}
	window->vm = link;
	window->gvm = gvm;
	window->id = id;
	window->kind = create->kind;
	window->placement = *create;
	window_state_init(&window->state, id);
	window->desc = (struct node_desc){
		.kind = NODE_INPUT_TARGET,
		.owner = parent != NULL ? window_root(parent) : &window->view,
		.target = window_target(window),
	};
	pixman_region32_init(&window->pending_damage);
	wl_list_init(&window->children);
	wl_list_init(&window->child_link);
	wl_list_init(&window->frame_link);
	wl_list_init(&window->seat_press.link);

	if (create->kind == VTP_WINDOW_TOPLEVEL) {
		if (!view_init(&window->view, server, VIEW_GUEST, &guest_view_impl, window, link,
			    vm_link_label(link))) {
			goto error;
		}
		window->has_view = true;
		window->content_parent = window->view.content;
		frame_set_unresponsive(window->view.frame, !vm_link_responding(link));
		frame_set_paused(window->view.frame, gvm->paused);
	} else {
		window->parent = parent;
		wl_list_insert(parent->children.prev, &window->child_link);
		/* parents outlive their popups: the chain ends at a toplevel */
		struct view *root = window_root(parent);
		if (!check_popup_size(window, root, create->width, create->height)) {
			wl_list_remove(&window->child_link);
			pixman_region32_fini(&window->pending_damage);
			free(window);
			return false;
		}
		window->popup_tree = root != NULL ? wlr_scene_tree_create(&root->tree->node) : NULL;
		if (window->popup_tree == NULL) {
			goto error;
		}
		wlr_scene_node_set_enabled(&window->popup_tree->node, false);
		window->popup_frame = frame_create(server, window->popup_tree, vm_link_label(link),
			NULL, false, NODE_POPUP_BORDER, root);
		if (window->popup_frame == NULL) {
			goto error;
		}
		window->seat_press.notify = handle_seat_press;
		wl_signal_add(&server->seat->events.press, &window->seat_press);
		window->content_parent = window->popup_tree;
	}
	wl_list_insert(gvm->windows.prev, &window->link);
	gvm->n_windows++;
	if (window->kind == VTP_WINDOW_POPUP) {
		place_popup(window);
	} else {
		/* let the guest pick its size; the activated state comes on focus */
		send_configure(window, 0, 0);
	}
	return true;

error:
	if (window->popup_tree != NULL) {
		frame_destroy(window->popup_frame);
		wlr_scene_node_destroy(&window->popup_tree->node);
	}
	wl_list_remove(&window->child_link);
	if (window->has_view) {
		view_finish(&window->view);
	}
	pixman_region32_fini(&window->pending_damage);
	free(window);
	vm_link_fail(link, VTP_ERR_INTERNAL, "out of memory");
	return false;
}

static void destroy_all(struct guest_vm *gvm)
{
	struct guest_window *window;
	/* one at a time: a toplevel takes its popups along */
	while (!wl_list_empty(&gvm->windows)) {
		window = wl_container_of(gvm->windows.next, window, link);
		window_destroy(window);
	}
}

/* ---- one VM ---- */

static void ensure_keymap(struct guest_vm *gvm)
{
	if (!vm_link_connected(gvm->link)) {
		return;
	}
	size_t len;
	uint64_t serial;
	const char *text = seat_keymap_text(gvm->server->seat, &len, &serial);
	if (serial == gvm->keymap_serial_sent) {
		return;
	}
	gvm->keymap_serial_sent = serial;
	if (len == 0 || len > VTP_MAX_KEYMAP) {
		wlr_log(WLR_ERROR, "[vm %s] keymap of %zu bytes not sent (limit %u)",
			vm_link_name(gvm->link), len, VTP_MAX_KEYMAP);
		return;
	}
	struct vtp_keymap keymap = { .format = 1 };
	vm_link_send(gvm->link, VTP_KEYMAP, 0, &keymap, text, (uint32_t)len);
}

/* The integer scale apps draw at for an output: its scale rounded up
 * (an output of 1.5 gets buffers of scale 2, drawn at 0.75). */
static uint32_t output_int_scale(const struct output *output)
{
	float scale = output->wlr_output->scale;
	if (!(scale > 1.0f)) {
		return 1;
	}
	if (scale >= (float)VTP_MAX_SCALE) {
		return VTP_MAX_SCALE;
	}
	uint32_t s = (uint32_t)scale;
	return (float)s < scale ? s + 1 : s;
}

void guest_vm_send_output_info(struct guest_vm *gvm)
{
	struct server *server = gvm->server;
	if (!vm_link_connected(gvm->link) || wl_list_empty(&server->outputs)) {
		return;
	}
	struct output *output = wl_container_of(server->outputs.next, output, link);
	/* what a maximized window gets: the usable area minus the frame */
	int width = output->usable_area.width - 2 * VIEW_BORDER;
	int height = output->usable_area.height - VIEW_FRAME_TOP - VIEW_BORDER;
	if (width < 1 || height < 1) {
		return;
	}
	uint32_t iscale = output_int_scale(output);
	struct vtp_output_info info = {
		.width = width > (int)VTP_MAX_DIM ? VTP_MAX_DIM : (uint32_t)width,
		.height = height > (int)VTP_MAX_DIM ? VTP_MAX_DIM : (uint32_t)height,
		.scale = iscale,
		.refresh_mhz =
			output->wlr_output->refresh > 0 ? (uint32_t)output->wlr_output->refresh : 0,
	};
	vm_link_send(gvm->link, VTP_OUTPUT_INFO, 0, &info, NULL, 0);
}

void guest_vm_connected(struct guest_vm *gvm)
{
	gvm->keymap_serial_sent = 0;
	if (gvm->n_kept > 0) {
		/* restored: new toplevels take the places of the kept ones
		 * (replace_kept); what is not replaced soon goes */
		if (gvm->kept_timer == NULL) {
			gvm->kept_timer =
				wl_event_loop_add_timer(gvm->server->loop, handle_kept_timer, gvm);
		}
		if (gvm->kept_timer == NULL) {
			destroy_kept(gvm);
		} else {
			wl_event_source_timer_update(gvm->kept_timer, GUEST_KEPT_GRACE_MS);
		}
	}
	guest_vm_send_output_info(gvm);
	const struct config *config = gvm->server->config;
	struct vtp_repeat_info repeat = {
		.rate = config->repeat_rate,
		.delay = config->repeat_delay,
	};
	vm_link_send(gvm->link, VTP_REPEAT_INFO, 0, &repeat, NULL, 0);
	ensure_keymap(gvm);
}

void guest_vm_disconnected(struct guest_vm *gvm)
{
	/* one at a time, from the start: a window takes its popups along */
	for (;;) {
		struct guest_window *window, *next = NULL;
		wl_list_for_each(window, &gvm->windows, link) {
			if (!window->kept) {
				next = window;
				break;
			}
		}
		if (next == NULL) {
			break;
		}
		/* only a suspend the host started keeps windows: the guest
		 * cannot set this */
		if (gvm->suspended && next->kind == VTP_WINDOW_TOPLEVEL && next->mapped &&
			next->has_view) {
			keep_window(next);
		} else {
			window_destroy(next);
		}
	}
	gvm->keymap_serial_sent = 0;
}

static void handle_link_destroy(struct wl_listener *listener, void *data)
{
	struct guest_vm *gvm = wl_container_of(listener, gvm, link_destroy);
	loop_source_remove(&gvm->kept_timer);
	destroy_all(gvm);
	wl_list_remove(&gvm->link_destroy.link);
	wl_list_remove(&gvm->link_in_server);
	free(gvm);
}

struct guest_vm *guest_vm_from_link(struct server *server, struct vm_link *link)
{
	struct guest_vm *gvm;
	wl_list_for_each(gvm, &server->guest_vms, link_in_server) {
		if (gvm->link == link) {
			return gvm;
		}
	}
	return NULL;
}

void guest_view_handle_new_link(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, guest_new_vm_link);
	struct vm_link *link = data;
	struct guest_vm *gvm = calloc(1, sizeof(*gvm));
	if (gvm == NULL) {
		wlr_log(WLR_ERROR, "[vm %s] out of memory", vm_link_name(link));
		return;
	}
	gvm->server = server;
	gvm->link = link;
	gvm->config = vm_link_config(link);
	wl_list_init(&gvm->windows);
	wl_list_insert(server->guest_vms.prev, &gvm->link_in_server);
	gvm->link_destroy.notify = handle_link_destroy;
	wl_signal_add(&vm_link_events(link)->destroy, &gvm->link_destroy);
}

/* ---- messages ---- */

static bool handle_attach(struct guest_window *window, const struct vtp_attach *attach)
{
	struct window_state_error error;
	bool ok = window_state_attach(&window->state, &window->gvm->budget, attach, &error);
	/* a pending buffer it replaces goes back even when this one is refused */
	send_releases(window);
	if (!ok) {
		vm_link_fail(window->vm, error.code, "%s", error.text);
	}
	return ok;
}

static void handle_damage(struct guest_window *window, const struct vtp_msg *msg)
{
	for (uint32_t i = 0; i < msg->n_rects; i++) {
		struct vtp_rect r;
		memcpy(&r, &msg->rects[i], sizeof(r));
		/* clipped to the buffer it applies to */
		struct window_state_rect clip;
		if (!window_state_clip_damage(&window->state, &r, &clip)) {
			continue;
		}
		pixman_region32_union_rect(&window->pending_damage, &window->pending_damage, clip.x,
			clip.y, clip.width, clip.height);
	}
	if (pixman_region32_n_rects(&window->pending_damage) > MAX_PENDING_DAMAGE_RECTS) {
		pixman_box32_t *ext = pixman_region32_extents(&window->pending_damage);
		pixman_box32_t box = *ext;
		pixman_region32_fini(&window->pending_damage);
		pixman_region32_init_rect(&window->pending_damage, box.x1, box.y1,
			(unsigned)(box.x2 - box.x1), (unsigned)(box.y2 - box.y1));
	}
}

static bool may_take_focus(struct guest_window *window)
{
	/* a window the user asked for takes the focus (one per request) */
	struct guest_vm *gvm = window->gvm;
	if (gvm->expected > 0 && loop_now_ms() < gvm->expected_until_ms) {
		gvm->expected--;
		return true;
	}
	gvm->expected = 0;
	/* else a new window gets the focus only if its VM already has it (or
	 * nothing has): no VM can steal focus from another by opening one */
	struct view *focused = window_server(window)->seat->focused_view;
	return focused == NULL || !focused->mapped || focused->vm == window->vm;
}

static bool handle_commit(struct guest_window *window, const struct vtp_commit *commit)
{
	struct server *server = window_server(window);
	bool resized = false;
	bool first = false;
	const struct window_buffer *next = window_state_pending(&window->state);
	if (next != NULL) {
		if (window->kind == VTP_WINDOW_POPUP &&
			!check_popup_size(window, window_root(window), next->width / next->scale,
				next->height / next->scale)) {
			return false;
		}
		const struct window_buffer *b = window_state_commit(&window->state);
		int lw = (int)(b->width / b->scale), lh = (int)(b->height / b->scale);
		resized = lw != window->width || lh != window->height;
		window->width = lw;
		window->height = lh;
		window->buffer_width = (int)b->width;
		window->buffer_height = (int)b->height;
		window->scale = b->scale;
		if (window->has_view) {
			window->view.buffer_width = window->buffer_width;
			window->view.buffer_height = window->buffer_height;
			window->view.buffer_scale = (int)window->scale;
		}
		if (window->content_parent != NULL) {
			struct wlr_scene_buffer *before = window->scene_buffer;
			if (!show_buffer(window, b)) {
				vm_link_fail(window->vm, VTP_ERR_INTERNAL, "out of memory");
				return false;
			}
			if (window->scene_buffer != before) {
				/* a new node: the scene damaged all of it already */
				pixman_region32_clear(&window->pending_damage);
			}
		}
		first = !window->mapped;
		window->mapped = true;
	}

	/* damage never reaches past the buffer shown */
	bool has_current = window_state_current(&window->state) != NULL;
	pixman_region32_intersect_rect(&window->pending_damage, &window->pending_damage, 0, 0,
		has_current ? (unsigned)window->buffer_width : 0,
		has_current ? (unsigned)window->buffer_height : 0);
	if (window->content_parent != NULL && has_current) {
		update_texture(window, &window->pending_damage);
	}

	if (window->kind == VTP_WINDOW_TOPLEVEL) {
		struct view *view = &window->view;
		if (first) {
			view_map(view, window->width, window->height, may_take_focus(window));
			if (window->gvm->n_kept > 0 && vm_link_connected(window->vm)) {
				replace_kept(window);
			}
			if (window->want_fullscreen) {
				/* fullscreen only for a VM that may, and only focused */
				if (window->gvm->config->allow_fullscreen && view->focused) {
					view_set_fullscreen(view, true);
				} else {
					view_set_maximized(view, true);
				}
			} else if (window->want_maximized) {
				view_set_maximized(view, true);
			}
		} else if (resized) {
			view_set_size(view, window->width, window->height);
		}
	} else if (window->popup_tree != NULL && (first || resized)) {
		place_popup(window);
		if (first) {
			/* a popup of a window without the keyboard never shows */
			if (popup_may_show(window)) {
				wlr_scene_node_set_enabled(&window->popup_tree->node, true);
			} else {
				popup_dismiss(window);
			}
		}
	}

	damage_rects(window, &window->pending_damage);
	pixman_region32_clear(&window->pending_damage);

	window->frame_requested = true;
	window->frame_serial = commit->serial;
	if (wl_list_empty(&window->frame_link)) {
		wl_list_insert(server->guest_frame_pending.prev, &window->frame_link);
	}
	schedule_frame(window);
	if (first || resized) {
		seat_refresh_pointer(server->seat);
	}
	return true;
}

static void clear_cursor(struct guest_window *window)
{
	free(window->cursor_pixels);
	window->cursor_pixels = NULL;
	window->cursor_set = false;
}

/* Copy a cursor out of the pool and show it; the request was checked by
 * the decoder (size ≤ VTP_MAX_CURSOR_DIM, hotspot inside the image). */
static void apply_cursor(struct guest_window *window, const struct vtp_set_cursor *c)
{
	/* only the window under the pointer may set it (protocol 5.3) */
	if (window_server(window)->seat->pointer_target.target != window_target(window)) {
		return;
	}
	free(window->cursor_pixels);
	window->cursor_pixels = NULL;
	window->cursor_set = true;
	if (c->width != 0) {
		const uint8_t *src = vm_link_pool_data(window->vm, c->offset);
		size_t row = (size_t)c->width * 4;
		uint8_t *pixels = malloc(row * c->height);
		if (src == NULL || pixels == NULL) {
			free(pixels);
			vm_link_fail(window->vm, VTP_ERR_INTERNAL, "out of memory");
			return;
		}
		/* copy out of the pool: the guest may rewrite it at any time */
		for (uint32_t y = 0; y < c->height; y++) {
			memcpy(pixels + row * y, src + (size_t)c->stride * y, row);
		}
		window->cursor_pixels = pixels;
		window->cursor_width = c->width;
		window->cursor_height = c->height;
		window->cursor_hotspot_x = c->hotspot_x;
		window->cursor_hotspot_y = c->hotspot_y;
		window->cursor_scale = c->scale != 0 ? c->scale : 1;
	}
	seat_input_target_cursor_changed(window_server(window)->seat, window_target(window));
}

/* Apply the latest title, app id and cursor asked for since the last time. */
static void handle_apply_idle(void *data)
{
	struct guest_window *window = data;
	window->apply_idle = NULL;
	if (window->pending_title != NULL) {
		if (window->has_view) {
			view_set_title(&window->view, window->pending_title);
		}
		free(window->pending_title);
		window->pending_title = NULL;
	}
	if (window->pending_app_id != NULL) {
		if (window->has_view) {
			view_set_app_id(&window->view, window->pending_app_id);
		}
		free(window->pending_app_id);
		window->pending_app_id = NULL;
	}
	if (window->cursor_pending) {
		window->cursor_pending = false;
		apply_cursor(window, &window->pending_cursor);
	}
}

static bool schedule_apply(struct guest_window *window)
{
	if (window->apply_idle == NULL) {
		window->apply_idle = wl_event_loop_add_idle(
			window_server(window)->loop, handle_apply_idle, window);
		if (window->apply_idle == NULL) {
			vm_link_fail(window->vm, VTP_ERR_INTERNAL, "out of resources");
			return false;
		}
	}
	return true;
}

static bool handle_set_cursor(struct guest_window *window, const struct vtp_set_cursor *c)
{
	/* only the window under the pointer may set it (protocol 5.3) */
	if (window_server(window)->seat->pointer_target.target != window_target(window)) {
		return true;
	}
	window->pending_cursor = *c;
	window->cursor_pending = true;
	return schedule_apply(window);
}

/* Keep the latest string of a SET_TITLE / SET_APP_ID for the idle. */
static bool handle_set_string(
	struct guest_window *window, char **pending, const struct vtp_msg *msg)
{
	if (!window->has_view) {
		return true;
	}
	char *copy = strdup(msg->tail != NULL ? (const char *)msg->tail : "");
	if (copy == NULL) {
		vm_link_fail(window->vm, VTP_ERR_INTERNAL, "out of memory");
		return false;
	}
	free(*pending);
	*pending = copy;
	return schedule_apply(window);
}

static bool toplevel_only(struct guest_window *window, const struct vtp_msg *msg)
{
	if (window->kind == VTP_WINDOW_TOPLEVEL) {
		return true;
	}
	vm_link_fail(window->vm, VTP_ERR_PROTOCOL, "window %u: %s is for toplevels only",
		window->id, vtp_type_name(msg->header.type));
	return false;
}

/* IDLE_INHIBIT: honoured only where the VM's config allows it. */
static bool handle_idle_inhibit(struct guest_window *window, bool inhibit)
{
	struct server *server = window_server(window);
	const struct config_vm *config = window->gvm->config;
	if (!window->has_view) {
		vm_link_fail(window->vm, VTP_ERR_PROTOCOL, "IDLE_INHIBIT for popup %u", window->id);
		return false;
	}
	bool allowed = config != NULL && config->idle_inhibit;
	if (inhibit && !allowed && !window->gvm->idle_inhibit_logged) {
		window->gvm->idle_inhibit_logged = true;
		wlr_log(WLR_INFO,
			"[vm %s] an app asks to keep the session awake: not allowed "
			"(idle-inhibit = false)",
			vm_link_name(window->vm));
	}
	if (window->view.idle_inhibit != (inhibit && allowed)) {
		window->view.idle_inhibit = inhibit && allowed;
		idle_update(server->idle);
	}
	return true;
}

bool guest_vm_handle_message(struct guest_vm *gvm, const struct vtp_msg *msg)
{
	struct vm_link *link = gvm->link;
	uint32_t id = msg->header.object;
	if (msg->header.type == VTP_WINDOW_CREATE) {
		return create_window(gvm, id, &msg->body.window_create);
	}
	struct guest_window *window = find_window(gvm, id);
	if (window == NULL) {
		vm_link_fail(link, VTP_ERR_PROTOCOL, "%s for unknown window %u",
			vtp_type_name(msg->header.type), id);
		return false;
	}
	struct server *server = gvm->server;

	switch (msg->header.type) {
	case VTP_WINDOW_DESTROY:
		window_destroy(window);
		return true;
	case VTP_SET_TITLE:
		return handle_set_string(window, &window->pending_title, msg);
	case VTP_SET_APP_ID:
		return handle_set_string(window, &window->pending_app_id, msg);
	case VTP_SET_SIZE_HINTS:
		if (!toplevel_only(window, msg)) {
			return false;
		}
		window->hints = msg->body.size_hints;
		return true;
	case VTP_ACK_CONFIGURE: {
		uint32_t serial = msg->body.ack_configure.serial;
		if (!toplevel_only(window, msg)) {
			return false;
		}
		/* serials run forward per link: an ack may lag behind, but one
		 * for a configure never sent is a lie */
		uint32_t last = window->last_configure_serial;
		if (serial == 0 || last == 0 || last - serial >= 0x80000000u) {
			vm_link_fail(link, VTP_ERR_PROTOCOL,
				"window %u: ack of configure %u never sent", window->id, serial);
			return false;
		}
		return true;
	}
	case VTP_MOVE_REQUEST:
		if (!toplevel_only(window, msg)) {
			return false;
		}
		seat_request_interactive(server->seat, &window->view, false, 0);
		return true;
	case VTP_RESIZE_REQUEST:
		if (!toplevel_only(window, msg)) {
			return false;
		}
		/* VTP_RESIZE_* and VIEW_EDGE_* share their values */
		seat_request_interactive(
			server->seat, &window->view, true, msg->body.resize_request.edges);
		return true;
	case VTP_SET_MAXIMIZED:
		if (!toplevel_only(window, msg)) {
			return false;
		}
		if (!window->view.mapped) {
			/* applied when it maps; the answer comes now */
			window->want_maximized = msg->body.set_flag.enable != 0;
			send_configure(window, 0, 0);
			return true;
		}
		view_set_maximized(&window->view, msg->body.set_flag.enable != 0);
		return true;
	case VTP_SET_FULLSCREEN: {
		if (!toplevel_only(window, msg)) {
			return false;
		}
		bool enable = msg->body.set_flag.enable != 0;
		if (!window->view.mapped) {
			window->want_fullscreen = enable;
			send_configure(window, 0, 0);
			return true;
		}
		if (gvm->config->allow_fullscreen) {
			/* only the window the user is in may cover the screen */
			if (enable && !window->view.focused) {
				send_configure(window, window->view.requested_width,
					window->view.requested_height);
				return true;
			}
			view_set_fullscreen(&window->view, enable);
		} else {
			/* fullscreen is the VM's privilege; otherwise maximize */
			view_set_maximized(&window->view, enable);
		}
		return true;
	}
	case VTP_ATTACH:
		return handle_attach(window, &msg->body.attach);
	case VTP_DAMAGE:
		handle_damage(window, msg);
		return true;
	case VTP_COMMIT:
		return handle_commit(window, &msg->body.commit);
	case VTP_SET_CURSOR:
		return handle_set_cursor(window, &msg->body.set_cursor);
	case VTP_IDLE_INHIBIT:
		return handle_idle_inhibit(window, msg->body.idle_inhibit.inhibit == 1);
	default:
		vm_link_fail(
			link, VTP_ERR_PROTOCOL, "unexpected %s", vtp_type_name(msg->header.type));
		return false;
	}
}

/* ---- frames ---- */

void guest_view_update_scales(struct server *server)
{
	struct guest_vm *gvm;
	wl_list_for_each(gvm, &server->guest_vms, link_in_server) {
		if (!vm_link_connected(gvm->link) || vm_link_version(gvm->link) < 4) {
			continue;
		}
		struct guest_window *window;
		wl_list_for_each(window, &gvm->windows, link) {
			if (window->kind != VTP_WINDOW_TOPLEVEL || !window_visible(window) ||
				window->kept) {
				continue;
			}
			/* the output with the largest part of the window */
			struct wlr_box box = window_content_box(window);
			struct output *output = server_output_for(server, &box);
			if (output == NULL) {
				continue;
			}
			uint32_t scale = output_int_scale(output);
			if (scale != window->told_scale) {
				window->told_scale = scale;
				struct vtp_window_scale ws = { .scale = scale };
				vm_link_send(
					window->vm, VTP_WINDOW_SCALE, window->id, &ws, NULL, 0);
			}
		}
	}
}

void guest_view_output_frame(
	struct server *server, struct output *output, const struct timespec *now)
{
	uint64_t time_ns = (uint64_t)now->tv_sec * 1000000000ull + (uint64_t)now->tv_nsec;
	uint32_t refresh_ns = output_refresh_ns(output);
	struct guest_window *window, *tmp;
	wl_list_for_each_safe(window, tmp, &server->guest_frame_pending, frame_link) {
		struct output *primary = NULL;
		if (window_visible(window)) {
			struct wlr_box box = window_content_box(window);
			primary = server_output_for(server, &box);
		}
		if (primary != NULL && primary != output) {
			continue;
		}
		wl_list_remove(&window->frame_link);
		wl_list_init(&window->frame_link);
		if (!window->frame_requested) {
			continue;
		}
		window->frame_requested = false;
		struct vtp_frame_done done = {
			.time_ns = time_ns,
			.refresh_ns = refresh_ns,
			.commit_serial = window->frame_serial,
		};
		vm_link_send(window->vm, VTP_FRAME_DONE, window->id, &done, NULL, 0);
		window_state_frame_done(&window->state, &window->gvm->budget);
		send_releases(window);
	}
}

/* ---- input (view_impl hooks; the seat's targets are windows) ---- */

static int32_t to_fixed(double v)
{
	if (v > 8000000.0) {
		v = 8000000.0;
	} else if (v < -8000000.0) {
		v = -8000000.0;
	}
	return wl_fixed_from_double(v);
}

static void impl_pointer_enter(struct view *view, struct input_target *target, double sx, double sy)
{
	struct guest_window *window = target_window(target);
	struct vtp_pointer_enter enter = {
		.serial = vm_link_next_serial(window->vm),
		.x = to_fixed(sx),
		.y = to_fixed(sy),
	};
	vm_link_send(window->vm, VTP_POINTER_ENTER, window->id, &enter, NULL, 0);
}

static void impl_pointer_leave(struct view *view, struct input_target *target)
{
	struct guest_window *window = target_window(target);
	/* the next enter starts from the default cursor until the guest sets one */
	clear_cursor(window);
	window->cursor_pending = false;
	struct vtp_pointer_leave leave = { .serial = vm_link_next_serial(window->vm) };
	vm_link_send(window->vm, VTP_POINTER_LEAVE, window->id, &leave, NULL, 0);
}

static void impl_pointer_motion(
	struct view *view, struct input_target *target, uint32_t time_msec, double sx, double sy)
{
	struct guest_window *window = target_window(target);
	wake(window->gvm, false);
	if (window_frozen(window)) {
		return;
	}
	struct vtp_pointer_motion motion = {
		.time_ms = time_msec,
		.x = to_fixed(sx),
		.y = to_fixed(sy),
	};
	vm_link_send(window->vm, VTP_POINTER_MOTION, window->id, &motion, NULL, 0);
}

static void impl_pointer_button(struct view *view, struct input_target *target, uint32_t time_msec,
	uint32_t button, bool pressed)
{
	struct guest_window *window = target_window(target);
	wake(window->gvm, window_frozen(window) && pressed);
	if (window_frozen(window)) {
		return; /* a click resumes it, and goes no further */
	}
	struct vtp_pointer_button event = {
		.serial = vm_link_next_serial(window->vm),
		.time_ms = time_msec,
		.button = button,
		.state = pressed ? 1 : 0,
	};
	vm_link_send(window->vm, VTP_POINTER_BUTTON, window->id, &event, NULL, 0);
}

static void impl_pointer_axis(struct view *view, struct input_target *target, uint32_t time_msec,
	uint32_t orientation, double delta, int32_t discrete, uint32_t source)
{
	struct guest_window *window = target_window(target);
	wake(window->gvm, false);
	if (window_frozen(window)) {
		return;
	}
	struct vtp_pointer_axis axis = {
		.time_ms = time_msec,
		.axis = orientation > 1 ? 0 : orientation,
		.value = to_fixed(delta),
		.discrete = discrete,
		.source = source > 3 ? 0 : source,
	};
	vm_link_send(window->vm, VTP_POINTER_AXIS, window->id, &axis, NULL, 0);
}

static struct input_target *impl_keyboard_target(struct view *view)
{
	/* the toplevel window; its popups never hold the keyboard */
	return window_target(view->data);
}

static void impl_keyboard_modifiers(struct view *view, struct input_target *target)
{
	struct guest_window *window = target_window(target);
	struct vtp_modifiers mods = { .serial = vm_link_next_serial(window->vm) };
	seat_get_modifiers(window_server(window)->seat, &mods.depressed, &mods.latched,
		&mods.locked, &mods.group);
	vm_link_send(window->vm, VTP_MODIFIERS, window->id, &mods, NULL, 0);
}

static void impl_keyboard_enter(struct view *view, struct input_target *target)
{
	struct guest_window *window = target_window(target);
	wake(window->gvm, true); /* focusing a paused VM's window resumes it */
	ensure_keymap(window->gvm);
	struct vtp_keyboard_enter enter = { .serial = vm_link_next_serial(window->vm) };
	window->gvm->n_held = 0;
	window->gvm->keyboard_window = window;
	vm_link_send(window->vm, VTP_KEYBOARD_ENTER, window->id, &enter, NULL, 0);
	impl_keyboard_modifiers(view, target);
}

/* Note a press; for a release, whether its press was sent (and forget it). */
static bool track_key(struct guest_vm *gvm, uint32_t key, bool pressed)
{
	for (size_t i = 0; i < gvm->n_held; i++) {
		if (gvm->held[i] == key) {
			if (!pressed) {
				gvm->held[i] = gvm->held[--gvm->n_held];
			}
			return true;
		}
	}
	if (pressed && gvm->n_held < GUEST_MAX_HELD_KEYS) {
		gvm->held[gvm->n_held++] = key;
	}
	return pressed;
}

static void impl_keyboard_leave(struct view *view, struct input_target *target)
{
	struct guest_window *window = target_window(target);
	struct vtp_keyboard_enter leave = { .serial = vm_link_next_serial(window->vm) };
	window->gvm->n_held = 0;
	window->gvm->keyboard_window = NULL;
	vm_link_send(window->vm, VTP_KEYBOARD_LEAVE, window->id, &leave, NULL, 0);
}

static void impl_keyboard_key(struct view *view, struct input_target *target, uint32_t time_msec,
	uint32_t key, bool pressed)
{
	struct guest_window *window = target_window(target);
	wake(window->gvm, false);
	if (window_frozen(window)) {
		return; /* typed while paused: never delivered, not even later */
	}
	if (!track_key(window->gvm, key, pressed)) {
		return; /* the release of a key pressed elsewhere */
	}
	ensure_keymap(window->gvm);
	struct vtp_key event = {
		.serial = vm_link_next_serial(window->vm),
		.time_ms = time_msec,
		.key = key,
		.state = pressed ? 1 : 0,
	};
	vm_link_send(window->vm, VTP_KEY, window->id, &event, NULL, 0);
}

static struct wlr_box impl_target_box(struct view *view, struct input_target *target)
{
	return window_content_box(target_window(target));
}

/* v rounded up, for 0 <= v < 2^32 (no libm) */
static uint32_t ceil_up(float v)
{
	uint32_t i = (uint32_t)v;
	return (float)i < v ? i + 1 : i;
}

/* Show the window's cursor on the outputs of this scale: the guest's image
 * (of its own scale) resized by nearest neighbour if the scales differ. */
static void set_cursor_at_scale(struct guest_window *window, struct wlr_cursor *cursor, float scale)
{
	uint32_t w = window->cursor_width, h = window->cursor_height;
	float factor = scale / (float)window->cursor_scale;
	if (factor == 1.0f || !(scale >= 0.5f && scale <= 4.0f)) {
		wlr_cursor_set_image(cursor, window->cursor_pixels, (int32_t)(w * 4), w, h,
			window->cursor_hotspot_x, window->cursor_hotspot_y, scale);
		return;
	}
	uint32_t sw = ceil_up((float)w * factor), sh = ceil_up((float)h * factor);
	sw = sw > 0 ? sw : 1;
	sh = sh > 0 ? sh : 1;
	uint32_t *pixels = malloc((size_t)sw * sh * 4);
	if (pixels == NULL) {
		return;
	}
	const uint32_t *src = (const uint32_t *)window->cursor_pixels;
	for (uint32_t y = 0; y < sh; y++) {
		uint32_t sy = (uint32_t)((float)y / factor);
		for (uint32_t x = 0; x < sw; x++) {
			uint32_t sx = (uint32_t)((float)x / factor);
			pixels[y * sw + x] = src[(sy < h ? sy : h - 1) * w + (sx < w ? sx : w - 1)];
		}
	}
	wlr_cursor_set_image(cursor, (const uint8_t *)pixels, (int32_t)(sw * 4), sw, sh,
		(int32_t)((float)window->cursor_hotspot_x * factor),
		(int32_t)((float)window->cursor_hotspot_y * factor), scale);
	free(pixels);
}

static bool impl_set_cursor(
	struct view *view, struct input_target *target, struct wlr_cursor *cursor)
{
	struct guest_window *window = target_window(target);
	if (!window->cursor_set) {
		return false;
	}
	if (window->cursor_pixels == NULL) {
		wlr_cursor_set_image(cursor, NULL, 0, 0, 0, 0, 0, 0);
		return true;
	}
	/* wlr_cursor_set_image reaches only the outputs of the scale it is
	 * given: give each scale in use the image at its size, or the cursor
	 * on an output of another scale would stay what it was before the
	 * pointer entered the window */
	struct server *server = window_server(window);
	float done[8];
	size_t n_done = 0;
	struct output *output;
	wl_list_for_each(output, &server->outputs, link) {
		float scale = output->wlr_output->scale;
		bool seen = false;
		for (size_t i = 0; i < n_done; i++) {
			seen = seen || done[i] == scale;
		}
		if (seen || n_done == sizeof(done) / sizeof(done[0])) {
			continue;
		}
		done[n_done++] = scale;
		set_cursor_at_scale(window, cursor, scale);
	}
	return true;
}

static const struct view_impl guest_view_impl = {
	.configure = impl_configure,
	.close = impl_close,
	.get_constraints = impl_get_constraints,
	.focus = impl_focus,
	.keyboard_target = impl_keyboard_target,
	.keyboard_enter = impl_keyboard_enter,
	.keyboard_leave = impl_keyboard_leave,
	.keyboard_key = impl_keyboard_key,
	.keyboard_modifiers = impl_keyboard_modifiers,
	.pointer_enter = impl_pointer_enter,
	.pointer_leave = impl_pointer_leave,
	.pointer_motion = impl_pointer_motion,
	.pointer_button = impl_pointer_button,
	.pointer_axis = impl_pointer_axis,
	.target_box = impl_target_box,
	.set_cursor = impl_set_cursor,
};

static bool is_ancestor_or_self(struct guest_window *maybe, struct guest_window *window)
{
	for (struct guest_window *w = window; w != NULL; w = w->parent) {
		if (w == maybe) {
			return true;
		}
	}
	return false;
}

/* A button went down somewhere: a popup not in the pressed window's chain
 * is dismissed (POPUP_DONE), like a click outside an xdg_popup grab. */
static void handle_seat_press(struct wl_listener *listener, void *data)
{
	struct guest_window *window = wl_container_of(listener, window, seat_press);
	const struct seat_target *pressed = data;
	if (window->popup_done_sent ||
		(pressed != NULL && pressed->view->impl == &guest_view_impl &&
			is_ancestor_or_self(window, target_window(pressed->target)))) {
		return;
	}
	/* hidden now, not when the guest gets round to destroying it */
	popup_dismiss(window);
}
