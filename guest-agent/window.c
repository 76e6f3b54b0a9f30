#include "window.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vitrail/protocol.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/xwayland.h>
#include <wlr/util/log.h>
#include <wlr/util/region.h>
#include <vitrail/common/loop.h>

#include "idle_inhibit.h"
#include "cursor.h"
#include "input.h"
#include "link.h"
#include "paint.h"
#include "server.h"

/* Frame callbacks when nothing goes to the host (no damage, no host). */
#define LOCAL_FRAME_MS 16

static void schedule_flush(struct agent_window *window);
static void unannounce(struct agent_window *window);

/* ---- surface tree tracking ---- */

struct wlr_surface *agent_window_root(struct agent_window *window)
{
	return window->xsurface != NULL ? window->xsurface->surface : window->xdg->surface;
}

struct wlr_surface *agent_window_keyboard_surface(struct agent_window *window)
{
	if (window->xsurface != NULL && !window->toplevel && window->parent != NULL) {
		return agent_window_root(window->parent);
	}
	return agent_window_root(window);
}

/* The window geometry in root surface coordinates: an X11 window is all
 * of its surface. */
static void get_geometry(struct agent_window *window, struct wlr_box *geo)
{
	if (window->xsurface != NULL) {
		struct wlr_surface *root = window->xsurface->surface;
		*geo = (struct wlr_box){ 0, 0, root->current.width, root->current.height };
		return;
	}
	wlr_xdg_surface_get_geometry(window->xdg, geo);
}

static void surface_destroy(struct agent_surface *as);
static struct agent_surface *surface_create(
	struct agent_window *window, struct wlr_surface *surface, struct wlr_subsurface *sub);

static void tree_changed(struct agent_window *window)
{
	window->tree_len = 0; /* forget raw surface pointers */
	window->full_damage = true;
	schedule_flush(window);
}

/* The surface's opaque part, kept through the release of its buffer
 * (release_client_buffers). */
static void update_opaque(struct agent_surface *as)
{
	struct wlr_surface *surface = as->surface;
	uint32_t format;
	if (agent_paint_surface_format(surface, &format)) {
		as->format_opaque = agent_paint_format_opaque(format);
	}
	unsigned int width = surface->current.width > 0 ? (unsigned)surface->current.width : 0;
	unsigned int height = surface->current.height > 0 ? (unsigned)surface->current.height : 0;
	if (as->format_opaque) {
		pixman_region32_fini(&as->opaque);
		pixman_region32_init_rect(&as->opaque, 0, 0, width, height);
	} else {
		pixman_region32_intersect_rect(
			&as->opaque, &surface->current.opaque, 0, 0, width, height);
	}
}

static void handle_surface_commit(struct wl_listener *listener, void *data)
{
	struct agent_surface *as = wl_container_of(listener, as, commit);
	pixman_region32_t damage;

	update_opaque(as);

	pixman_region32_init(&damage);
	wlr_surface_get_effective_damage(as->surface, &damage);
	pixman_region32_union(&as->damage, &as->damage, &damage);
	pixman_region32_fini(&damage);
	if (as->window->mapped && as->window->entered != NULL) {
		wlr_surface_send_enter(as->surface, as->window->entered);
	}
	schedule_flush(as->window);
}

static void handle_surface_new_subsurface(struct wl_listener *listener, void *data)
{
	struct agent_surface *as = wl_container_of(listener, as, new_subsurface);
	struct wlr_subsurface *sub = data;
	surface_create(as->window, sub->surface, sub);
}

static void handle_surface_destroy(struct wl_listener *listener, void *data)
{
	struct agent_surface *as = wl_container_of(listener, as, destroy);
	if (as->subsurface == NULL) {
		agent_window_destroy(as->window);
		return;
	}
	struct agent_window *window = as->window;
	surface_destroy(as);
	tree_changed(window);
}

static void handle_subsurface_destroy(struct wl_listener *listener, void *data)
{
	struct agent_surface *as = wl_container_of(listener, as, subsurface_destroy);
	struct agent_window *window = as->window;
	surface_destroy(as);
	tree_changed(window);
}

static void handle_subsurface_map(struct wl_listener *listener, void *data)
{
	struct agent_surface *as = wl_container_of(listener, as, subsurface_map);
	tree_changed(as->window);
}

static void handle_subsurface_unmap(struct wl_listener *listener, void *data)
{
	struct agent_surface *as = wl_container_of(listener, as, subsurface_unmap);
	tree_changed(as->window);
}

static void track_subsurfaces(struct agent_window *window, struct wlr_surface *surface)
{
	struct wlr_subsurface *sub;
	wl_list_for_each(sub, &surface->current.subsurfaces_below, current.link) {
		surface_create(window, sub->surface, sub);
	}
	wl_list_for_each(sub, &surface->current.subsurfaces_above, current.link) {
		surface_create(window, sub->surface, sub);
	}
}

static struct agent_surface *surface_create(
	struct agent_window *window, struct wlr_surface *surface, struct wlr_subsurface *sub)
{
	struct agent_surface *as;

	wl_list_for_each(as, &window->surfaces, link) {
		if (as->surface == surface) {
			return as;
		}
	}
	as = calloc(1, sizeof(*as));
	if (as == NULL) {
		wlr_log(WLR_ERROR, "out of memory");
		return NULL;
	}
	as->window = window;
	as->surface = surface;
	as->subsurface = sub;
	pixman_region32_init(&as->damage);
	pixman_region32_init(&as->opaque);
	wl_list_insert(window->surfaces.prev, &as->link);
	update_opaque(as);

	as->commit.notify = handle_surface_commit;
	wl_signal_add(&surface->events.commit, &as->commit);
	as->new_subsurface.notify = handle_surface_new_subsurface;
	wl_signal_add(&surface->events.new_subsurface, &as->new_subsurface);
	as->destroy.notify = handle_surface_destroy;
	wl_signal_add(&surface->events.destroy, &as->destroy);
	if (sub != NULL) {
		as->subsurface_destroy.notify = handle_subsurface_destroy;
		wl_signal_add(&sub->events.destroy, &as->subsurface_destroy);
		as->subsurface_map.notify = handle_subsurface_map;
		wl_signal_add(&sub->events.map, &as->subsurface_map);
		as->subsurface_unmap.notify = handle_subsurface_unmap;
		wl_signal_add(&sub->events.unmap, &as->subsurface_unmap);
		window->full_damage = true;
	}
	track_subsurfaces(window, surface);
	return as;
}

static void surface_destroy(struct agent_surface *as)
{
	if (as == NULL) {
		return;
	}
	wl_list_remove(&as->commit.link);
	wl_list_remove(&as->new_subsurface.link);
	wl_list_remove(&as->destroy.link);
	if (as->subsurface != NULL) {
		wl_list_remove(&as->subsurface_destroy.link);
		wl_list_remove(&as->subsurface_map.link);
		wl_list_remove(&as->subsurface_unmap.link);
	}
	wl_list_remove(&as->link);
	pixman_region32_fini(&as->damage);
	pixman_region32_fini(&as->opaque);
	free(as);
}

static struct agent_surface *find_surface(struct agent_window *window, struct wlr_surface *s)
{
	struct agent_surface *as;
	wl_list_for_each(as, &window->surfaces, link) {
		if (as->surface == s) {
			return as;
		}
	}
	return NULL;
}

struct tree_walk {
	struct agent_window *window;
	struct agent_tree_entry *entries;
	int len;
	bool truncated;
	uint32_t scale;
};

static void collect_iter(struct wlr_surface *surface, int sx, int sy, void *data)
{
	struct tree_walk *walk = data;
	if (walk->len >= AGENT_MAX_TREE) {
		walk->truncated = true;
		return;
	}
	/* in pixels of the contents: logical times the window's scale */
	int scale = (int)walk->scale;
	walk->entries[walk->len++] = (struct agent_tree_entry){
		.surface = surface,
		.x = (sx - walk->window->geometry.x) * scale,
		.y = (sy - walk->window->geometry.y) * scale,
		.width = surface->current.width * scale,
		.height = surface->current.height * scale,
	};
}

static void send_enter_iter(struct wlr_surface *surface, int sx, int sy, void *data)
{
	wlr_surface_send_enter(surface, data);
}

static void send_leave_iter(struct wlr_surface *surface, int sx, int sy, void *data)
{
	wlr_surface_send_leave(surface, data);
}

/* ---- buffers ---- */

static void buffer_free(struct agent_window *window, struct agent_buffer *b, bool to_pool)
{
	if (to_pool) {
		agent_link_pool_put(window->server->link, b->offset, b->size);
	}
	if (window->current == b) {
		window->current = NULL;
	}
	pixman_region32_fini(&b->stale);
	wl_list_remove(&b->link);
	free(b);
}

static void free_all_buffers(struct agent_window *window, bool to_pool)
{
	struct agent_buffer *b, *tmp;
	wl_list_for_each_safe(b, tmp, &window->buffers, link) {
		buffer_free(window, b, to_pool);
	}
	window->current = NULL;
}

/* Free the buffers of an old size that the host no longer reads. */
static void collect_orphans(struct agent_window *window)
{
	struct agent_buffer *b, *tmp;
	wl_list_for_each_safe(b, tmp, &window->buffers, link) {
		if (b->orphan && !b->held && b != window->current) {
			buffer_free(window, b, true);
		}
	}
}

static struct agent_buffer *pick_buffer(struct agent_window *window)
{
	struct agent_server *server = window->server;
	struct agent_buffer *b, *best = NULL;
	unsigned int live = 0, held = 0;

	wl_list_for_each(b, &window->buffers, link) {
		held += b->held;
		if (b->orphan) {
			continue;
		}
		live++;
		if (!b->held && b != window->current && best == NULL) {
			best = b;
		}
	}
	if (best != NULL) {
		return best;
	}
	if (live >= AGENT_BUFFERS_PER_WINDOW || held >= VTP_MAX_BUFFERS_PER_WINDOW) {
		return NULL;
	}

	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		return NULL;
	}
	b->width = window->width;
	b->height = window->height;
	b->stride = window->width * 4;
	b->size = (uint64_t)b->stride * (uint64_t)b->height;
	if (!agent_link_pool_get(server->link, b->size, &b->offset)) {
		if (!window->no_buffer_logged) {
			wlr_log(WLR_ERROR, "the pool has no room for a %dx%d buffer", window->width,
				window->height);
			window->no_buffer_logged = true;
		}
		free(b);
		return NULL;
	}
	window->no_buffer_logged = false;
	if (++server->next_buffer_id == 0) {
		server->next_buffer_id = 1;
	}
	b->id = server->next_buffer_id;
	pixman_region32_init_rect(&b->stale, 0, 0, (unsigned)b->width, (unsigned)b->height);
	wl_list_insert(window->buffers.prev, &b->link);
	return b;
}

static struct paint_image buffer_image(struct agent_window *window, struct agent_buffer *b)
{
	return (struct paint_image){
		.data = link_pool_data(window->server->link) + b->offset,
		.width = b->width,
		.height = b->height,
		.stride = b->stride,
	};
}

/* ---- frame callbacks and presentation ---- */

static void frame_done_iter(struct wlr_surface *surface, int sx, int sy, void *data)
{
	wlr_surface_send_frame_done(surface, data);
}

static void send_frame_done(struct agent_window *window)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	wlr_surface_for_each_surface(agent_window_root(window), frame_done_iter, &now);
}

static void discard_feedbacks(struct agent_window *window)
{
	struct agent_feedback *f, *tmp;
	wl_list_for_each_safe(f, tmp, &window->feedbacks, link) {
		wlr_presentation_feedback_destroy(f->feedback);
		wl_list_remove(&f->link);
		free(f);
	}
}

static int handle_frame_timer(void *data)
{
	struct agent_window *window = data;
	if (!window->frame_in_flight) {
		send_frame_done(window);
	}
	return 0;
}

static void arm_local_frame(struct agent_window *window)
{
	if (!window->frame_in_flight && window->frame_timer != NULL) {
		wl_event_source_timer_update(window->frame_timer, LOCAL_FRAME_MS);
	}
}

static void sample_feedbacks(struct agent_window *window)
{
	struct agent_server *server = window->server;
	for (int i = 0; i < window->tree_len; i++) {
		struct wlr_presentation_feedback *fb = wlr_presentation_surface_sampled(
			server->presentation, window->tree[i].surface);
		if (fb == NULL) {
			continue;
		}
		struct agent_feedback *f = calloc(1, sizeof(*f));
		if (f == NULL) {
			wlr_presentation_feedback_destroy(fb);
			continue;
		}
		f->feedback = fb;
		f->commit_serial = window->commit_serial;
		wl_list_insert(window->feedbacks.prev, &f->link);
	}
}

void agent_window_frame_done(struct agent_window *window, const struct vtp_frame_done *done)
{
	struct agent_server *server = window->server;
	struct timespec now;
	struct agent_feedback *f, *tmp;

	/* Times are ours: in a VM the host's clock is not the guest's. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done->commit_serial == window->commit_serial) {
		window->frame_in_flight = false;
	}
	wl_list_for_each_safe(f, tmp, &window->feedbacks, link) {
		if ((int32_t)(done->commit_serial - f->commit_serial) < 0) {
			continue;
		}
		struct wlr_presentation_event event = {
			.output = server->output,
			.tv_sec = (uint64_t)now.tv_sec,
			.tv_nsec = (uint32_t)now.tv_nsec,
			.refresh = done->refresh_ns,
			.seq = 0,
			.flags = 0,
		};
		wlr_presentation_feedback_send_presented(f->feedback, &event);
		wlr_presentation_feedback_destroy(f->feedback);
		wl_list_remove(&f->link);
		free(f);
	}
	wlr_surface_for_each_surface(agent_window_root(window), frame_done_iter, &now);
}

/* ---- announcing to the host ---- */

/* The title (SET_TITLE), or with app_id the app id (SET_APP_ID). */
static void send_name(struct agent_window *window, bool app_id)
{
	char text[VTP_MAX_TITLE + 1];
	if (!window->toplevel || window->id == 0) {
		return;
	}
	/* an X11 window's app id is the class part of its WM_CLASS */
	const char *untrusted_name = window->xsurface != NULL
		? (app_id ? window->xsurface->class : window->xsurface->title)
		: (app_id ? window->xdg->toplevel->app_id : window->xdg->toplevel->title);
	size_t n = vtp_sanitize_display_string(untrusted_name,
		untrusted_name != NULL ? strlen(untrusted_name) : 0,
		app_id ? VTP_MAX_APP_ID : VTP_MAX_TITLE, text, sizeof(text));
	agent_link_send(window->server->link, app_id ? VTP_SET_APP_ID : VTP_SET_TITLE, window->id,
		NULL, text, (uint32_t)n);
}

static uint32_t clamp_dim(uint32_t v)
{
	return v > VTP_MAX_DIM ? VTP_MAX_DIM : v;
}

static void send_hints(struct agent_window *window, bool force)
{
	if (!window->toplevel || window->id == 0) {
		return;
	}
	struct vtp_size_hints h = { 0 };
	if (window->xsurface != NULL) {
		/* WM_NORMAL_HINTS; wlroots gives -1 where the app set none */
		struct wlr_xwayland_surface_size_hints *x = window->xsurface->size_hints;
		if (x != NULL) {
			h.min_width = clamp_dim(x->min_width > 0 ? (uint32_t)x->min_width : 0);
			h.min_height = clamp_dim(x->min_height > 0 ? (uint32_t)x->min_height : 0);
			h.max_width = clamp_dim(x->max_width > 0 ? (uint32_t)x->max_width : 0);
			h.max_height = clamp_dim(x->max_height > 0 ? (uint32_t)x->max_height : 0);
		}
	} else {
		struct wlr_xdg_toplevel_state *s = &window->xdg->toplevel->current;
		h.min_width = clamp_dim(s->min_width);
		h.min_height = clamp_dim(s->min_height);
		h.max_width = clamp_dim(s->max_width);
		h.max_height = clamp_dim(s->max_height);
	}
	if (h.max_width != 0 && h.max_width < h.min_width) {
		h.max_width = h.min_width;
	}
	if (h.max_height != 0 && h.max_height < h.min_height) {
		h.max_height = h.min_height;
	}
	if (!force && memcmp(&h, &window->hints, sizeof(h)) == 0) {
		return;
	}
	window->hints = h;
	agent_link_send(window->server->link, VTP_SET_SIZE_HINTS, window->id, &h, NULL, 0);
}

static int32_t clamp_coord(int32_t v)
{
	if (v < -(int32_t)VTP_MAX_DIM) {
		return -(int32_t)VTP_MAX_DIM;
	}
	if (v > (int32_t)VTP_MAX_DIM) {
		return (int32_t)VTP_MAX_DIM;
	}
	return v;
}

static unsigned int count_announced(struct agent_server *server)
{
	unsigned int n = 0;
	struct agent_window *w;
	wl_list_for_each(w, &server->windows, link) {
		n += w->id != 0;
	}
	return n;
}

/*
 * The host requires a popup's anchor rect to lie inside its parent (a
 * popup must not claim a place outside the window it belongs to). Apps may
 * anchor past their buffer (shadows, off-by-one): clip the rect to the
 * parent, keeping at least one pixel, instead of sending something the
 * host would disconnect us for.
 */
static void clamp_anchor(struct vtp_window_create *create, const struct wlr_box *rect,
	int parent_width, int parent_height)
{
	int pw = parent_width > 0 ? parent_width : 1;
	int ph = parent_height > 0 ? parent_height : 1;
	int64_t x0 = rect->x, y0 = rect->y;
	int64_t x1 = x0 + (rect->width > 0 ? rect->width : 1);
	int64_t y1 = y0 + (rect->height > 0 ? rect->height : 1);
	x0 = x0 < 0 ? 0 : (x0 > pw - 1 ? pw - 1 : x0);
	y0 = y0 < 0 ? 0 : (y0 > ph - 1 ? ph - 1 : y0);
	x1 = x1 > pw ? pw : x1;
	y1 = y1 > ph ? ph : y1;
	if (x1 <= x0) {
		x1 = x0 + 1;
	}
	if (y1 <= y0) {
		y1 = y0 + 1;
	}
	create->anchor_x = (int32_t)x0;
	create->anchor_y = (int32_t)y0;
	create->anchor_width = (uint32_t)(x1 - x0);
	create->anchor_height = (uint32_t)(y1 - y0);
}

static bool announce(struct agent_window *window)
{
	struct agent_server *server = window->server;

	if (window->id != 0) {
		return true;
	}
	if (!agent_link_ready(server->link) || !window->mapped || window->dismissed ||
		window->width <= 0 || window->height <= 0) {
		return false;
	}
	if (!window->toplevel && (window->parent == NULL || !announce(window->parent))) {
		return false;
	}
	if (count_announced(server) >= VTP_MAX_WINDOWS) {
		wlr_log(WLR_ERROR, "more than %u windows: not forwarding another one",
			VTP_MAX_WINDOWS);
		return false;
	}
	do {
		server->next_window_id++;
	} while (server->next_window_id == 0 ||
		agent_server_find_window(server, server->next_window_id) != NULL);
	window->id = server->next_window_id;
	agent_idle_inhibit_window_announced(server->idle_inhibit);

	struct vtp_window_create create = {
		.kind = window->toplevel ? VTP_WINDOW_TOPLEVEL : VTP_WINDOW_POPUP,
		.width = (uint32_t)window->width / window->scale,
		.height = (uint32_t)window->height / window->scale,
	};
	if (!window->toplevel && window->xsurface != NULL) {
		/* X11 override-redirect: its position relative to the parent,
		 * the part outside the parent carried by the offset */
		struct wlr_xwayland_surface *xp = window->parent->xsurface;
		window->x11_x = window->xsurface->x;
		window->x11_y = window->xsurface->y;
		int32_t rx = clamp_coord(window->xsurface->x - (xp != NULL ? xp->x : 0));
		int32_t ry = clamp_coord(window->xsurface->y - (xp != NULL ? xp->y : 0));
		struct wlr_box point = { rx, ry, 1, 1 };
		create.parent = window->parent->id;
		clamp_anchor(&create, &point, window->parent->width, window->parent->height);
		create.anchor_width = create.anchor_height = 1;
		create.anchor = XDG_POSITIONER_ANCHOR_TOP_LEFT;
		create.gravity = XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT;
		create.offset_x = clamp_coord(rx - create.anchor_x);
		create.offset_y = clamp_coord(ry - create.anchor_y);
	} else if (!window->toplevel) {
		struct wlr_xdg_positioner *p = &window->xdg->popup->positioner;
		create.parent = window->parent->id;
		uint32_t ps = window->parent->scale;
		clamp_anchor(&create, &p->anchor_rect, window->parent->width / (int)ps,
			window->parent->height / (int)ps);
		create.anchor = p->anchor <= XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT ? p->anchor : 0;
		create.gravity = p->gravity <= XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT ? p->gravity : 0;
		create.offset_x = clamp_coord(p->offset.x);
		create.offset_y = clamp_coord(p->offset.y);
	}
	agent_link_send(server->link, VTP_WINDOW_CREATE, window->id, &create, NULL, 0);
	wlr_log(WLR_DEBUG, "window %u: %s %dx%d announced", window->id,
		window->toplevel ? "toplevel" : "popup", window->width, window->height);
	if (window->toplevel) {
		send_name(window, false);
		send_name(window, true);
		send_hints(window, true);
	}
	if (window->toplevel && window->xsurface != NULL) {
		struct wlr_xwayland_surface *x = window->xsurface;
		if (x->fullscreen) {
			struct vtp_set_flag f = { .enable = 1 };
			agent_link_send(server->link, VTP_SET_FULLSCREEN, window->id, &f, NULL, 0);
		} else if (x->maximized_horz && x->maximized_vert) {
			struct vtp_set_flag f = { .enable = 1 };
			agent_link_send(server->link, VTP_SET_MAXIMIZED, window->id, &f, NULL, 0);
		}
	} else if (window->toplevel) {
		struct wlr_xdg_toplevel *t = window->xdg->toplevel;
		if (t->requested.maximized) {
			struct vtp_set_flag f = { .enable = 1 };
			agent_link_send(server->link, VTP_SET_MAXIMIZED, window->id, &f, NULL, 0);
		}
		if (t->requested.fullscreen) {
			struct vtp_set_flag f = { .enable = 1 };
			agent_link_send(server->link, VTP_SET_FULLSCREEN, window->id, &f, NULL, 0);
		}
	}
	window->full_damage = true;
	window->frame_in_flight = false;
	schedule_flush(window);
	return true;
}

/* Tell the host the window is gone (children first); forget its buffers. */
static void unannounce(struct agent_window *window)
{
	struct agent_server *server = window->server;
	struct agent_window *w;

	if (window->id == 0) {
		return;
	}
	wl_list_for_each(w, &server->windows, link) {
		if (w->parent == window) {
			unannounce(w);
		}
	}
	agent_input_window_gone(server->input, window);
	agent_cursor_window_gone(server->cursor, window);
	agent_link_send(server->link, VTP_WINDOW_DESTROY, window->id, NULL, NULL, 0);
	/* The host reads no buffer of a destroyed window. */
	free_all_buffers(window, true);
	window->id = 0;
	window->n_configures = 0;
	window->frame_in_flight = false;
	discard_feedbacks(window);
	arm_local_frame(window);
}

/* ---- the flush: copy damage, send a frame ---- */

static void region_to_host(struct agent_window *window, pixman_region32_t *damage)
{
	struct vtp_rect rects[VTP_MAX_DAMAGE_RECTS];
	int n = 0;
	pixman_box32_t *boxes = pixman_region32_rectangles(damage, &n);
	uint32_t count = 0;

	if (n > (int)VTP_MAX_DAMAGE_RECTS) {
		pixman_box32_t *e = pixman_region32_extents(damage);
		rects[0] = (struct vtp_rect){ e->x1, e->y1, e->x2 - e->x1, e->y2 - e->y1 };
		count = 1;
	} else {
		for (int i = 0; i < n; i++) {
			rects[count++] = (struct vtp_rect){ boxes[i].x1, boxes[i].y1,
				boxes[i].x2 - boxes[i].x1, boxes[i].y2 - boxes[i].y1 };
		}
	}
	if (count > 0) {
		agent_link_send(window->server->link, VTP_DAMAGE, window->id, NULL, rects,
			count * (uint32_t)sizeof(struct vtp_rect));
	}
}

/*
 * Paint the window into dst: `copy` from prev (older contents, maybe of
 * another size), `damage` from the client surfaces. translucent (or
 * NULL): where it can tell at no cost (a lone surface replacing the
 * damage), gets the rectangles of the damage holding a pixel that is not
 * opaque, and then the return value is true.
 */
static bool paint_window(struct agent_window *window, const struct paint_image *dst,
	const struct paint_image *prev, pixman_region32_t *copy, pixman_region32_t *damage,
	pixman_region32_t *translucent)
{
	bool told = false;
	pixman_region32_t area;
	pixman_region32_init(&area);
	pixman_region32_copy(&area, damage);

	if (prev != NULL && prev->data != dst->data) {
		agent_paint_copy(dst, prev, copy);
	} else if (prev == NULL) {
		pixman_region32_union(&area, &area, copy);
	}

	int first = 0;
	if (window->tree_len > 0 && agent_paint_surface_readable(window->tree[0].surface)) {
		/* The bottom surface replaces; the rest is transparent. */
		struct agent_tree_entry *e = &window->tree[0];
		pixman_region32_t outside;
		pixman_region32_init_rect(
			&outside, e->x, e->y, (unsigned)e->width, (unsigned)e->height);
		pixman_region32_subtract(&outside, &area, &outside);
		agent_paint_clear(dst, &outside);
		bool alone = window->tree_len == 1 && translucent != NULL;
		if (alone) {
			/* cleared: transparent */
			pixman_region32_union(translucent, translucent, &outside);
		}
		pixman_region32_fini(&outside);
		told = agent_paint_surface(dst, e->surface, e->x, e->y, e->width, e->height, &area,
			       false, alone ? translucent : NULL) &&
			alone;
		first = 1;
	} else if (prev != NULL && prev->data != dst->data) {
		/* The bottom surface's buffer went back to the client already:
		 * its pixels are in the previous contents (at the old scale
		 * until the app draws at the new one). */
		if (prev->width != dst->width || prev->height != dst->height) {
			agent_paint_clear(dst, &area);
		}
		if (window->old_scale != 0 && window->old_scale != window->scale) {
			agent_paint_copy_scaled(
				dst, prev, (double)window->scale / window->old_scale, &area);
		} else {
			agent_paint_copy(dst, prev, &area);
		}
		first = 1;
	} else if (prev == NULL) {
		agent_paint_clear(dst, &area);
	}
	for (int i = first; i < window->tree_len; i++) {
		struct agent_tree_entry *e = &window->tree[i];
		agent_paint_surface(
			dst, e->surface, e->x, e->y, e->width, e->height, &area, true, NULL);
	}
	pixman_region32_fini(&area);
	return told;
}

/* Let the client reuse its buffer at once: the pixels are copied. Only for
 * a lone surface; with subsurfaces, each buffer stays until replaced, as
 * damage on one surface needs the pixels of the others. */
static void release_client_buffers(struct agent_window *window)
{
	if (window->tree_len != 1) {
		return;
	}
	struct wlr_surface *surface = window->tree[0].surface;
	if (surface->buffer != NULL) {
		wlr_buffer_unlock(&surface->buffer->base);
		surface->buffer = NULL;
	}
}

static void resize_contents(struct agent_window *window, int width, int height)
{
	struct agent_buffer *b;
	wl_list_for_each(b, &window->buffers, link) {
		b->orphan = true;
	}
	window->width = width;
	window->height = height;
	window->full_damage = true;
	pixman_region32_clear(&window->translucent);
	window->translucent_valid = false;
}

/* True if the opaque parts of the surfaces cover the whole window. */
static bool declared_opaque(struct agent_window *window)
{
	pixman_region32_t rest, part;
	pixman_region32_init_rect(&rest, 0, 0, (unsigned)window->width, (unsigned)window->height);
	pixman_region32_init(&part);
	for (int i = 0; i < window->tree_len && pixman_region32_not_empty(&rest); i++) {
		struct agent_tree_entry *e = &window->tree[i];
		struct agent_surface *as = find_surface(window, e->surface);
		if (as == NULL) {
			continue;
		}
		pixman_region32_copy(&part, &as->opaque);
		pixman_region32_translate(&part, e->x, e->y);
		pixman_region32_subtract(&rest, &rest, &part);
	}
	bool covered = !pixman_region32_not_empty(&rest);
	pixman_region32_fini(&part);
	pixman_region32_fini(&rest);
	return covered;
}

/*
 * After painting damage into dst (dst then holds the whole contents): may
 * the host show them opaque? found: the translucent rectangles of the
 * damage if paint_window told them, else NULL (then dst is read back).
 */
static bool contents_opaque(struct agent_window *window, const struct paint_image *dst,
	pixman_region32_t *damage, pixman_region32_t *found)
{
	if (declared_opaque(window)) {
		window->translucent_valid = false;
		return true;
	}
	pixman_region32_t all;
	pixman_region32_init_rect(&all, 0, 0, (unsigned)window->width, (unsigned)window->height);
	if (!window->translucent_valid) {
		/* not followed while the opaque regions covered the window */
		pixman_region32_clear(&window->translucent);
		pixman_region32_subtract(&all, &all, damage);
		if (pixman_region32_not_empty(&all)) {
			agent_paint_find_translucent(dst, &all, &window->translucent);
		}
	}
	pixman_region32_subtract(&window->translucent, &window->translucent, damage);
	if (found != NULL) {
		pixman_region32_union(&window->translucent, &window->translucent, found);
	} else {
		agent_paint_find_translucent(dst, damage, &window->translucent);
	}
	pixman_region32_fini(&all);
	window->translucent_valid = true;
	return !pixman_region32_not_empty(&window->translucent);
}

static bool same_tree(struct agent_window *window, const struct agent_tree_entry *tree, int len)
{
	return len == window->tree_len &&
		memcmp(tree, window->tree, (size_t)len * sizeof(*tree)) == 0;
}

/* Walk the surface tree; true if its layout changed since the last flush. */
static bool update_tree(struct agent_window *window, const struct wlr_box *geo)
{
	struct agent_tree_entry tree[AGENT_MAX_TREE];
	bool moved = geo->x != window->geometry.x || geo->y != window->geometry.y;

	window->geometry = *geo;
	struct tree_walk walk = { .window = window, .entries = tree, .scale = window->scale };
	wlr_surface_for_each_surface(agent_window_root(window), collect_iter, &walk);
	if (walk.truncated && !window->tree_truncated_logged) {
		wlr_log(WLR_ERROR, "a window has more than %d surfaces; drawing the first ones",
			AGENT_MAX_TREE);
		window->tree_truncated_logged = true;
	}
	bool changed = moved || !same_tree(window, tree, walk.len);
	memcpy(window->tree, tree, (size_t)walk.len * sizeof(*tree));
	window->tree_len = walk.len;
	return changed;
}

/* The damage since the last flush, in window coordinates; resets it. */
static void collect_damage(struct agent_window *window, pixman_region32_t *damage)
{
	struct agent_surface *as;

	pixman_region32_copy(damage, &window->pending);
	if (window->full_damage) {
		pixman_region32_union_rect(
			damage, damage, 0, 0, (unsigned)window->width, (unsigned)window->height);
	}
	for (int i = 0; i < window->tree_len; i++) {
		struct agent_tree_entry *e = &window->tree[i];
		as = find_surface(window, e->surface);
		if (as != NULL && pixman_region32_not_empty(&as->damage)) {
			/* surface-local logical units to pixels of the contents */
			wlr_region_scale(&as->damage, &as->damage, (float)window->scale);
			pixman_region32_translate(&as->damage, e->x, e->y);
			pixman_region32_union(damage, damage, &as->damage);
		}
	}
	wl_list_for_each(as, &window->surfaces, link) {
		pixman_region32_clear(&as->damage);
	}
	pixman_region32_intersect_rect(
		damage, damage, 0, 0, (unsigned)window->width, (unsigned)window->height);
	pixman_region32_clear(&window->pending);
	window->full_damage = false;
}

/* Paint damage into a free pool buffer and send it. False if no buffer is
 * free (the damage then waits in window->pending). */
static bool send_frame(
	struct agent_window *window, const struct paint_image *prev, pixman_region32_t *damage)
{
	struct agent_server *server = window->server;
	struct agent_buffer *target = pick_buffer(window);
	struct agent_buffer *b;

	if (target == NULL) {
		pixman_region32_copy(&window->pending, damage);
		return false;
	}
	wl_list_for_each(b, &window->buffers, link) {
		if (b != target) {
			pixman_region32_union(&b->stale, &b->stale, damage);
		}
	}
	pixman_region32_t copy;
	pixman_region32_init(&copy);
	pixman_region32_subtract(&copy, &target->stale, damage);
	struct paint_image dst = buffer_image(window, target);
	pixman_region32_t found;
	pixman_region32_init(&found);
	bool told = paint_window(window, &dst, prev, &copy, damage, &found);
	pixman_region32_fini(&copy);
	pixman_region32_clear(&target->stale);
	window->current = target;
	collect_orphans(window);
	bool opaque = contents_opaque(window, &dst, damage, told ? &found : NULL);
	pixman_region32_fini(&found);

	struct vtp_attach attach = {
		.offset = target->offset,
		.buffer_id = target->id,
		.width = (uint32_t)target->width,
		.height = (uint32_t)target->height,
		.stride = (uint32_t)target->stride,
		/* the host blends ARGB8888 over a backdrop of its own */
		.format = opaque ? VTP_FORMAT_XRGB8888 : VTP_FORMAT_ARGB8888,
		/* version 4 names the scale; before, the field is reserved */
		.scale = server->link->dec.version >= 4 ? window->scale : 0,
	};
	agent_link_send(server->link, VTP_ATTACH, window->id, &attach, NULL, 0);
	region_to_host(window, damage);
	struct vtp_commit commit = { .serial = ++window->commit_serial };
	agent_link_send(server->link, VTP_COMMIT, window->id, &commit, NULL, 0);
	target->held = true;
	window->frame_in_flight = true;
	sample_feedbacks(window);
	return true;
}

/* No host (or not announced): keep the contents in guest memory. */
static bool paint_snapshot(
	struct agent_window *window, const struct paint_image *prev, pixman_region32_t *damage)
{
	if (window->snapshot == NULL) {
		size_t size = (size_t)window->width * (size_t)window->height * 4;
		window->snapshot = calloc(1, size);
		if (window->snapshot == NULL) {
			wlr_log(WLR_ERROR, "out of memory for a %dx%d window", window->width,
				window->height);
			return false;
		}
	}
	struct paint_image dst = { window->snapshot, window->width, window->height,
		window->width * 4 };
	pixman_region32_t none;
	pixman_region32_init(&none);
	paint_window(window, &dst, prev != NULL ? prev : &dst, &none, damage, NULL);
	pixman_region32_fini(&none);
	return true;
}

/* The host's limit on a popup: it fits, framed (4 px each side), in the
 * output's usable area (protocol README, WINDOW_CREATE). Checked only for
 * X11 override-redirect windows, whose size no positioner bounds. */
static bool x11_popup_too_large(struct agent_window *window, int width, int height)
{
	const struct vtp_output_info *o = &window->server->output_info;
	return window->xsurface != NULL && !window->toplevel && !window->dismissed &&
		(width > (int)o->width - 8 || height > (int)o->height - 8);
}

/* The toplevel a popup belongs to (a toplevel: itself). */
static struct agent_window *root_window(struct agent_window *window)
{
	while (!window->toplevel && window->parent != NULL) {
		window = window->parent;
	}
	return window;
}

/* The scale its apps are told: the host's for its toplevel, else the one
 * of OUTPUT_INFO. */
static uint32_t follow_scale(struct agent_window *window)
{
	struct agent_window *root = root_window(window);
	uint32_t scale =
		root->host_scale != 0 ? root->host_scale : window->server->output_info.scale;
	return scale >= 1 && scale <= VTP_MAX_SCALE ? scale : 1;
}

/* The scale of the contents sent to the host: what the apps are told,
 * unless the host predates scaled buffers (then the agent scales down), or
 * the window's buffers at that scale would take more than half the pool:
 * a buffer of scale s has s² × the pixels, and the pool is sized for
 * scale 1 by default (then the agent draws it at a lower scale, scaling
 * the apps' buffers down, rather than not at all). */
static uint32_t contents_scale(struct agent_window *window, const struct wlr_box *geo)
{
	struct agent_link *link = window->server->link;
	if (agent_link_ready(link) && link->dec.version < 4) {
		return 1;
	}
	uint32_t want = follow_scale(window), scale = want;
	uint64_t pool = agent_link_ready(link) ? link->pool_size : 0;
	while (scale > 1 && pool > 0 &&
		(uint64_t)AGENT_BUFFERS_PER_WINDOW * 4 * (uint64_t)geo->width * scale *
				(uint64_t)geo->height * scale >
			pool / 2) {
		scale--;
	}
	if (scale != want && window->capped_scale != scale) {
		wlr_log(WLR_INFO,
			"a %dx%d window is drawn at scale %u instead of %u: its buffers "
			"would take more than half the pool (%" PRIu64 " MiB)",
			geo->width, geo->height, scale, want, pool >> 20);
	}
	window->capped_scale = scale != want ? scale : 0;
	return scale;
}

static void flush(struct agent_window *window)
{
	struct agent_server *server = window->server;
	struct agent_surface *as;
	struct wlr_box geo;

	get_geometry(window, &geo);
	uint32_t scale = contents_scale(window, &geo);
	/* capped by the pool: the apps draw at the scale shown */
	struct wlr_output *output = agent_server_output(
		server, window->capped_scale != 0 ? scale : follow_scale(window));
	if (output == NULL) {
		output = server->output;
	}
	int max = (int)(VTP_MAX_DIM / scale);
	int width = (geo.width > max ? max : geo.width) * (int)scale;
	int height = (geo.height > max ? max : geo.height) * (int)scale;
	if (window->mapped && x11_popup_too_large(window, geo.width, geo.height)) {
		/* the host refuses a popup larger than its output (and drops
		 * the VM): an X11 app's override-redirect window that big is
		 * not shown, until it maps again */
		wlr_log(WLR_ERROR,
			"an X11 override-redirect window of %dx%d does not fit "
			"the host's output: not shown",
			geo.width, geo.height);
		unannounce(window);
		window->dismissed = true;
	}
	if (!window->mapped || (window->xsurface != NULL && window->dismissed)) {
		wl_list_for_each(as, &window->surfaces, link) {
			pixman_region32_clear(&as->damage);
		}
		if (window->mapped) {
			arm_local_frame(window); /* the app keeps getting frames */
		}
		return;
	}
	if (width <= 0 || height <= 0) {
		arm_local_frame(window);
		return;
	}
	if (scale != window->scale) {
		window->old_scale = window->scale;
		window->scale = scale;
		window->full_damage = true;
	}
	if (update_tree(window, &geo)) {
		window->full_damage = true;
	}
	if (window->entered != NULL && window->entered != output) {
		/* moved to a host output of another scale: its apps learn it
		 * by leaving one output of the agent and entering another */
		wlr_surface_for_each_surface(
			agent_window_root(window), send_leave_iter, window->entered);
	}
	window->entered = output;
	wlr_surface_for_each_surface(agent_window_root(window), send_enter_iter, output);

	/* The previous contents stay readable through a resize. */
	struct paint_image prev = { 0 };
	bool have_prev = false;
	uint8_t *old_snapshot = NULL;
	if (window->current != NULL) {
		prev = buffer_image(window, window->current);
		have_prev = true;
	} else if (window->snapshot != NULL) {
		prev = (struct paint_image){ window->snapshot, window->width, window->height,
			window->width * 4 };
		have_prev = true;
	}
	if (width != window->width || height != window->height) {
		resize_contents(window, width, height);
		old_snapshot = window->snapshot;
		window->snapshot = NULL;
	}

	bool connected = announce(window);
	pixman_region32_t damage;
	pixman_region32_init(&damage);
	collect_damage(window, &damage);
	if (window->toplevel) {
		send_hints(window, false);
	}

	if (!pixman_region32_not_empty(&damage)) {
		arm_local_frame(window);
	} else if (connected) {
		if (send_frame(window, have_prev ? &prev : NULL, &damage)) {
			window->old_scale = 0; /* the contents are at the scale now */
			free(window->snapshot); /* the pool has it now */
			window->snapshot = NULL;
			release_client_buffers(window);
		}
	} else {
		bool resized = old_snapshot != NULL || window->current != NULL;
		if (paint_snapshot(window, have_prev && resized ? &prev : NULL, &damage)) {
			window->old_scale = 0;
			release_client_buffers(window);
		}
		window->current = NULL;
		collect_orphans(window);
		arm_local_frame(window);
	}
	pixman_region32_fini(&damage);
	free(old_snapshot);
}

static void handle_flush_idle(void *data)
{
	struct agent_window *window = data;
	window->flush_idle = NULL;
	flush(window);
}

static void schedule_flush(struct agent_window *window)
{
	if (window->flush_idle == NULL) {
		window->flush_idle =
			wl_event_loop_add_idle(window->server->loop, handle_flush_idle, window);
	}
}

/* ---- host connection ---- */

void agent_window_link_ready(struct agent_window *window)
{
	if (window->mapped) {
		window->full_damage = true;
		schedule_flush(window);
	}
}

void agent_window_link_lost(struct agent_window *window)
{
	if (window->current != NULL && window->snapshot == NULL) {
		struct agent_buffer *b = window->current;
		size_t row = (size_t)b->width * 4;
		window->snapshot = malloc(row * (size_t)b->height);
		if (window->snapshot != NULL) {
			struct paint_image img = buffer_image(window, b);
			for (int y = 0; y < b->height; y++) {
				memcpy(window->snapshot + row * (size_t)y,
					img.data + (size_t)img.stride * (size_t)y, row);
			}
			if (b->width != window->width || b->height != window->height) {
				/* a resize waited for a buffer: start over */
				free(window->snapshot);
				window->snapshot = NULL;
				window->full_damage = true;
			}
		}
	}
	free_all_buffers(window, false);
	window->id = 0;
	window->n_configures = 0;
	window->frame_in_flight = false;
	discard_feedbacks(window);
	arm_local_frame(window);
}

/* ---- host requests ---- */

void agent_window_configure(struct agent_window *window, const struct vtp_configure *c)
{
	if (!window->toplevel) {
		return;
	}
	if (window->xsurface != NULL) {
		/* X11 has no configure serial: applied now, acked now. Every
		 * X11 toplevel sits at 0,0 of the X screen (the host places it);
		 * pointer coordinates are relative to the window. */
		struct wlr_xwayland_surface *x = window->xsurface;
		uint16_t w = c->width > 0 ? (uint16_t)c->width : x->width;
		uint16_t h = c->height > 0 ? (uint16_t)c->height : x->height;
		bool activated = c->states & VTP_STATE_ACTIVATED;
		wlr_xwayland_surface_configure(x, 0, 0, w, h);
		wlr_xwayland_surface_set_maximized(x, c->states & VTP_STATE_MAXIMIZED);
		wlr_xwayland_surface_set_fullscreen(x, c->states & VTP_STATE_FULLSCREEN);
		wlr_xwayland_surface_activate(x, activated);
		if (activated) {
			wlr_xwayland_surface_restack(x, NULL, XCB_STACK_MODE_ABOVE);
		}
		if (window->id != 0) {
			struct vtp_ack_configure ack = { .serial = c->serial };
			agent_link_send(
				window->server->link, VTP_ACK_CONFIGURE, window->id, &ack, NULL, 0);
		}
		return;
	}
	struct wlr_xdg_surface *xdg = window->xdg;
	wlr_xdg_toplevel_set_size(xdg, c->width, c->height);
	wlr_xdg_toplevel_set_activated(xdg, c->states & VTP_STATE_ACTIVATED);
	wlr_xdg_toplevel_set_maximized(xdg, c->states & VTP_STATE_MAXIMIZED);
	wlr_xdg_toplevel_set_fullscreen(xdg, c->states & VTP_STATE_FULLSCREEN);
	uint32_t serial = wlr_xdg_toplevel_set_resizing(xdg, c->states & VTP_STATE_RESIZING);

	if (window->n_configures == AGENT_MAX_CONFIGURES) {
		memmove(&window->configures[0], &window->configures[1],
			sizeof(window->configures[0]) * (AGENT_MAX_CONFIGURES - 1));
		window->n_configures--;
	}
	if (window->n_configures > 0 &&
		window->configures[window->n_configures - 1].xdg_serial == serial) {
		/* same pending xdg configure: the newest host serial wins */
		window->configures[window->n_configures - 1].host_serial = c->serial;
		return;
	}
	window->configures[window->n_configures++] = (struct agent_configure){
		.xdg_serial = serial,
		.host_serial = c->serial,
	};
}

void agent_window_scale_changed(struct agent_window *window)
{
	if (window->mapped) {
		schedule_flush(window);
	}
}

void agent_window_set_scale(struct agent_window *window, uint32_t scale)
{
	if (!window->toplevel || window->host_scale == scale) {
		return;
	}
	window->host_scale = scale;
	struct agent_window *w;
	wl_list_for_each(w, &window->server->windows, link) {
		if (root_window(w) == window) {
			agent_window_scale_changed(w);
		}
	}
}

void agent_window_close(struct agent_window *window)
{
	if (window->xsurface != NULL && window->toplevel) {
		wlr_xwayland_surface_close(window->xsurface);
	} else if (window->xsurface != NULL) {
		/* an override-redirect window is the app's to unmap: hidden
		 * until it maps again */
		unannounce(window);
		window->dismissed = true;
	} else if (window->toplevel) {
		wlr_xdg_toplevel_send_close(window->xdg);
	} else {
		wlr_xdg_popup_destroy(window->xdg);
	}
}

bool agent_window_release(struct agent_window *window, uint32_t buffer_id)
{
	struct agent_buffer *b;
	wl_list_for_each(b, &window->buffers, link) {
		if (b->id != buffer_id) {
			continue;
		}
		b->held = false;
		if (b->orphan && b != window->current) {
			buffer_free(window, b, true);
		}
		if (pixman_region32_not_empty(&window->pending)) {
			schedule_flush(window);
		}
		return true;
	}
	return false;
}

/* ---- xdg events ---- */

static void handle_map(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, map);
	wlr_log(WLR_DEBUG, "%s mapped", window->toplevel ? "toplevel" : "popup");
	window->mapped = true;
	window->full_damage = true;
	schedule_flush(window);
}

static void handle_unmap(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, unmap);
	unannounce(window);
	window->mapped = false;
	free_all_buffers(window, true);
	free(window->snapshot);
	window->snapshot = NULL;
	window->width = window->height = 0;
	window->tree_len = 0;
	pixman_region32_clear(&window->pending);
	agent_input_window_gone(window->server->input, window);
	agent_cursor_window_gone(window->server->cursor, window);
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, destroy);
	agent_window_destroy(window);
}

static void handle_ack_configure(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, ack_configure);
	struct wlr_xdg_surface_configure *configure = data;

	for (int i = 0; i < window->n_configures; i++) {
		if (window->configures[i].xdg_serial != configure->serial) {
			continue;
		}
		struct vtp_ack_configure ack = { .serial = window->configures[i].host_serial };
		if (window->id != 0) {
			agent_link_send(
				window->server->link, VTP_ACK_CONFIGURE, window->id, &ack, NULL, 0);
		}
		/* this one and the older ones are done */
		memmove(&window->configures[0], &window->configures[i + 1],
			sizeof(window->configures[0]) * (size_t)(window->n_configures - i - 1));
		window->n_configures -= i + 1;
		return;
	}
}

static void handle_request_move(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, request_move);
	if (window->id != 0) {
		agent_link_send(window->server->link, VTP_MOVE_REQUEST, window->id, NULL, NULL, 0);
	}
}

static void handle_request_resize(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, request_resize);
	struct wlr_xdg_toplevel_resize_event *event = data;
	uint32_t e = event->edges;
	const uint32_t tb = VTP_RESIZE_TOP | VTP_RESIZE_BOTTOM;
	const uint32_t lr = VTP_RESIZE_LEFT | VTP_RESIZE_RIGHT;

	if (window->id == 0 || e == 0 || (e & ~0xfu) || (e & tb) == tb || (e & lr) == lr) {
		return;
	}
	struct vtp_resize_request r = { .edges = e };
	agent_link_send(window->server->link, VTP_RESIZE_REQUEST, window->id, &r, NULL, 0);
}

static void handle_request_maximize(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, request_maximize);
	if (window->id == 0) {
		/* xdg-shell wants a configure in reply; the host answers later */
		wlr_xdg_surface_schedule_configure(window->xdg);
		return;
	}
	struct vtp_set_flag f = { .enable = window->xdg->toplevel->requested.maximized };
	agent_link_send(window->server->link, VTP_SET_MAXIMIZED, window->id, &f, NULL, 0);
}

static void handle_request_fullscreen(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, request_fullscreen);
	struct wlr_xdg_toplevel_set_fullscreen_event *event = data;
	if (window->id == 0) {
		wlr_xdg_surface_schedule_configure(window->xdg);
		return;
	}
	struct vtp_set_flag f = { .enable = event->fullscreen };
	agent_link_send(window->server->link, VTP_SET_FULLSCREEN, window->id, &f, NULL, 0);
}

static void handle_request_minimize(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, request_minimize);
	if (window->xdg->added) {
		wlr_xdg_surface_schedule_configure(window->xdg);
	}
}

static void handle_set_title(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, set_title);
	send_name(window, false);
}

static void handle_set_app_id(struct wl_listener *listener, void *data)
{
	struct agent_window *window = wl_container_of(listener, window, set_app_id);
	send_name(window, true);
}

/* ---- lifetime ---- */

struct agent_window *agent_window_from_surface(
	struct agent_server *server, struct wlr_surface *surface)
{
	if (surface == NULL) {
		return NULL;
	}
	struct wlr_surface *root = wlr_surface_get_root_surface(surface);
	if (root == NULL) {
		return NULL;
	}
	if (wlr_surface_is_xwayland_surface(root)) {
		struct agent_window *w;
		wl_list_for_each(w, &server->windows, link) {
			if (w->xsurface != NULL && w->xsurface->surface == root) {
				return w;
			}
		}
		return NULL;
	}
	if (!wlr_surface_is_xdg_surface(root)) {
		return NULL;
	}
	struct wlr_xdg_surface *xdg = wlr_xdg_surface_from_wlr_surface(root);
	return xdg != NULL ? xdg->data : NULL;
}

/* A window showing surface and its subsurfaces, not yet in the server's
 * list; NULL when out of memory. */
static struct agent_window *window_new(
	struct agent_server *server, bool toplevel, struct wlr_surface *surface)
{
	struct agent_window *window = calloc(1, sizeof(*window));
	if (window == NULL) {
		return NULL;
	}
	window->scale = 1;
	window->server = server;
	window->toplevel = toplevel;
	wl_list_init(&window->surfaces);
	wl_list_init(&window->buffers);
	wl_list_init(&window->feedbacks);
	pixman_region32_init(&window->pending);
	pixman_region32_init(&window->translucent);
	window->frame_timer = wl_event_loop_add_timer(server->loop, handle_frame_timer, window);
	if (window->frame_timer == NULL || surface_create(window, surface, NULL) == NULL) {
		loop_source_remove(&window->frame_timer);
		pixman_region32_fini(&window->pending);
		pixman_region32_fini(&window->translucent);
		free(window);
		return NULL;
	}
	return window;
}

struct agent_window *agent_window_create(struct agent_server *server, struct wlr_xdg_surface *xdg)
{
	struct agent_window *window =
		window_new(server, xdg->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL, xdg->surface);
	if (window == NULL) {
		return NULL;
	}
	window->xdg = xdg;
	if (!window->toplevel) {
		window->parent = agent_window_from_surface(server, xdg->popup->parent);
		if (window->parent == NULL) {
			wlr_log(WLR_INFO, "a popup without a known parent window is not forwarded");
		}
	}
	xdg->data = window;

	window->destroy.notify = handle_destroy;
	wl_signal_add(&xdg->events.destroy, &window->destroy);
	window->map.notify = handle_map;
	wl_signal_add(&xdg->events.map, &window->map);
	window->unmap.notify = handle_unmap;
	wl_signal_add(&xdg->events.unmap, &window->unmap);
	window->ack_configure.notify = handle_ack_configure;
	wl_signal_add(&xdg->events.ack_configure, &window->ack_configure);
	if (window->toplevel) {
		struct wlr_xdg_toplevel *t = xdg->toplevel;
		window->request_move.notify = handle_request_move;
		wl_signal_add(&t->events.request_move, &window->request_move);
		window->request_resize.notify = handle_request_resize;
		wl_signal_add(&t->events.request_resize, &window->request_resize);
		window->request_maximize.notify = handle_request_maximize;
		wl_signal_add(&t->events.request_maximize, &window->request_maximize);
		window->request_fullscreen.notify = handle_request_fullscreen;
		wl_signal_add(&t->events.request_fullscreen, &window->request_fullscreen);
		window->request_minimize.notify = handle_request_minimize;
		wl_signal_add(&t->events.request_minimize, &window->request_minimize);
		window->set_title.notify = handle_set_title;
		wl_signal_add(&t->events.set_title, &window->set_title);
		window->set_app_id.notify = handle_set_app_id;
		wl_signal_add(&t->events.set_app_id, &window->set_app_id);
	}
	wl_list_insert(server->windows.prev, &window->link);
	if (xdg->mapped) {
		window->mapped = true;
		window->full_damage = true;
		schedule_flush(window);
	}
	return window;
}

void agent_window_destroy(struct agent_window *window)
{
	if (window == NULL) {
		return;
	}
	struct agent_server *server = window->server;
	struct agent_window *w;

	unannounce(window);
	wl_list_for_each(w, &server->windows, link) {
		if (w->parent == window) {
			w->parent = NULL;
		}
	}
	agent_input_window_gone(server->input, window);
	agent_cursor_window_gone(server->cursor, window);

	if (window->xdg != NULL) {
		wl_list_remove(&window->destroy.link);
		wl_list_remove(&window->map.link);
		wl_list_remove(&window->unmap.link);
		wl_list_remove(&window->ack_configure.link);
	}
	if (window->xdg != NULL && window->toplevel) {
		wl_list_remove(&window->request_move.link);
		wl_list_remove(&window->request_resize.link);
		wl_list_remove(&window->request_maximize.link);
		wl_list_remove(&window->request_fullscreen.link);
		wl_list_remove(&window->request_minimize.link);
		wl_list_remove(&window->set_title.link);
		wl_list_remove(&window->set_app_id.link);
	}
	struct agent_surface *as, *tmp;
	wl_list_for_each_safe(as, tmp, &window->surfaces, link) {
		surface_destroy(as);
	}
	free_all_buffers(window, true);
	discard_feedbacks(window);
	free(window->snapshot);
	pixman_region32_fini(&window->pending);
	pixman_region32_fini(&window->translucent);
	loop_source_remove(&window->flush_idle);
	wl_event_source_remove(window->frame_timer);
	if (window->xdg != NULL) {
		window->xdg->data = NULL;
	}
	if (window->owner_ref != NULL) {
		*window->owner_ref = NULL;
	}
	wl_list_remove(&window->link);
	free(window);
}

struct agent_window *agent_window_create_x11(struct agent_server *server,
	struct wlr_xwayland_surface *xsurface, struct agent_window *parent,
	struct agent_window **owner_ref)
{
	if (xsurface->surface == NULL) {
		return NULL;
	}
	struct agent_window *window = window_new(server, parent == NULL, xsurface->surface);
	if (window == NULL) {
		return NULL;
	}
	window->xsurface = xsurface;
	window->parent = parent;
	window->owner_ref = owner_ref;
	wl_list_insert(server->windows.prev, &window->link);
	window->mapped = true;
	window->full_damage = true;
	schedule_flush(window);
	return window;
}

void agent_window_x11_moved(struct agent_window *window)
{
	if (window->toplevel || window->id == 0 ||
		(window->xsurface->x == window->x11_x && window->xsurface->y == window->x11_y)) {
		return; /* a new size is just a new buffer */
	}
	unannounce(window);
	window->full_damage = true;
	schedule_flush(window);
}

void agent_window_x11_changed(struct agent_window *window)
{
	send_name(window, false);
	send_name(window, true);
	send_hints(window, false);
}

/* ---- input helpers ---- */

struct wlr_surface *agent_window_surface_at(
	struct agent_window *window, double wx, double wy, double *sx, double *sy)
{
	if (!window->mapped) {
		return NULL;
	}
	return wlr_surface_surface_at(agent_window_root(window), wx + window->geometry.x,
		wy + window->geometry.y, sx, sy);
}

struct position_search {
	struct wlr_surface *surface;
	int x, y;
	bool found;
};

static void position_iter(struct wlr_surface *surface, int sx, int sy, void *data)
{
	struct position_search *s = data;
	if (surface == s->surface) {
		s->x = sx;
		s->y = sy;
		s->found = true;
	}
}

bool agent_window_surface_position(
	struct agent_window *window, struct wlr_surface *surface, int *x, int *y)
{
	struct position_search s = { .surface = surface };
	wlr_surface_for_each_surface(agent_window_root(window), position_iter, &s);
	if (!s.found) {
		return false;
	}
	*x = s.x - window->geometry.x;
	*y = s.y - window->geometry.y;
	return true;
}
