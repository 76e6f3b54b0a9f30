#include "idle_inhibit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_idle_inhibit_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>
#include <vitrail/protocol.h>
#include <vitrail/common/loop.h>

#include "link.h"
#include "server.h"
#include "window.h"

struct agent_idle_inhibit {
	struct agent_server *server;
	struct wlr_idle_inhibit_manager_v1 *manager;
	struct wl_list inhibitors; /* struct inhibitor.link */
	struct wl_listener new_inhibitor;
	struct wl_event_source *sync_idle; /* a sync is scheduled */
	uint32_t sent[VTP_MAX_WINDOWS]; /* window ids the host was told inhibit */
	size_t n_sent;
};

struct inhibitor {
	struct agent_idle_inhibit *ii;
	struct wlr_idle_inhibitor_v1 *wlr;
	struct wl_list link;
	struct wl_listener destroy;
	struct wl_listener commit; /* its surface may map (its window be announced) */
};

/* The announced toplevel window that surface belongs to, or NULL. */
static struct agent_window *window_of(struct agent_server *server, struct wlr_surface *surface)
{
	struct wlr_surface *root = wlr_surface_get_root_surface(surface);
	if (root == NULL || !wlr_surface_is_xdg_surface(root)) {
		return NULL;
	}
	struct wlr_xdg_surface *xdg = wlr_xdg_surface_from_wlr_surface(root);
	struct agent_window *window;
	wl_list_for_each(window, &server->windows, link) {
		if (window->xdg == xdg) {
			while (!window->toplevel && window->parent != NULL) {
				window = window->parent;
			}
			return window->toplevel && window->id != 0 ? window : NULL;
		}
	}
	return NULL;
}

static bool has(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == id) {
			return true;
		}
	}
	return false;
}

static void send_inhibit(struct agent_idle_inhibit *ii, uint32_t id, bool inhibit)
{
	struct vtp_idle_inhibit body = { .inhibit = inhibit ? 1 : 0 };
	agent_link_send(ii->server->link, VTP_IDLE_INHIBIT, id, &body, NULL, 0);
}

/* Tell the host what changed since the last sync. */
static void sync_now(struct agent_idle_inhibit *ii)
{
	uint32_t want[VTP_MAX_WINDOWS];
	size_t n_want = 0;
	struct agent_link *link = ii->server->link;

	if (!agent_link_ready(link) || link->dec.version < 3) {
		return;
	}
	struct inhibitor *in;
	wl_list_for_each(in, &ii->inhibitors, link) {
		struct agent_window *w = window_of(ii->server, in->wlr->surface);
		if (w != NULL && n_want < VTP_MAX_WINDOWS && !has(want, n_want, w->id)) {
			want[n_want++] = w->id;
		}
	}
	for (size_t i = 0; i < ii->n_sent; i++) {
		if (!has(want, n_want, ii->sent[i]) &&
			agent_server_find_window(ii->server, ii->sent[i]) != NULL) {
			send_inhibit(ii, ii->sent[i], false);
		}
	}
	for (size_t i = 0; i < n_want; i++) {
		if (!has(ii->sent, ii->n_sent, want[i])) {
			send_inhibit(ii, want[i], true);
		}
	}
	memcpy(ii->sent, want, n_want * sizeof(*want));
	ii->n_sent = n_want;
}

static void handle_sync_idle(void *data)
{
	struct agent_idle_inhibit *ii = data;
	ii->sync_idle = NULL;
	sync_now(ii);
}

/* Sync once the current dispatch is over (windows announce on commit). */
static void schedule_sync(struct agent_idle_inhibit *ii)
{
	if (ii->sync_idle == NULL) {
		ii->sync_idle = wl_event_loop_add_idle(ii->server->loop, handle_sync_idle, ii);
	}
}

static void handle_commit(struct wl_listener *listener, void *data)
{
	struct inhibitor *in = wl_container_of(listener, in, commit);
	schedule_sync(in->ii);
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct inhibitor *in = wl_container_of(listener, in, destroy);
	struct agent_idle_inhibit *ii = in->ii;
	wl_list_remove(&in->link);
	wl_list_remove(&in->destroy.link);
	wl_list_remove(&in->commit.link);
	free(in);
	schedule_sync(ii);
}

static void handle_new_inhibitor(struct wl_listener *listener, void *data)
{
	struct agent_idle_inhibit *ii = wl_container_of(listener, ii, new_inhibitor);
	struct wlr_idle_inhibitor_v1 *wlr = data;
	struct inhibitor *in = calloc(1, sizeof(*in));
	if (in == NULL) {
		wl_resource_post_no_memory(wlr->resource);
		return;
	}
	in->ii = ii;
	in->wlr = wlr;
	wl_list_insert(&ii->inhibitors, &in->link);
	in->destroy.notify = handle_destroy;
	wl_signal_add(&wlr->events.destroy, &in->destroy);
	in->commit.notify = handle_commit;
	wl_signal_add(&wlr->surface->events.commit, &in->commit);
	schedule_sync(ii);
}

struct agent_idle_inhibit *agent_idle_inhibit_create(struct agent_server *server)
{
	struct agent_idle_inhibit *ii = calloc(1, sizeof(*ii));
	if (ii == NULL) {
		return NULL;
	}
	ii->server = server;
	wl_list_init(&ii->inhibitors);
	ii->manager = wlr_idle_inhibit_v1_create(server->display);
	if (ii->manager == NULL) {
		free(ii);
		return NULL;
	}
	ii->new_inhibitor.notify = handle_new_inhibitor;
	wl_signal_add(&ii->manager->events.new_inhibitor, &ii->new_inhibitor);
	return ii;
}

void agent_idle_inhibit_destroy(struct agent_idle_inhibit *ii)
{
	if (ii == NULL) {
		return;
	}
	struct inhibitor *in, *tmp;
	wl_list_for_each_safe(in, tmp, &ii->inhibitors, link) {
		wl_list_remove(&in->link);
		wl_list_remove(&in->destroy.link);
		wl_list_remove(&in->commit.link);
		free(in);
	}
	wl_list_remove(&ii->new_inhibitor.link);
	loop_source_remove(&ii->sync_idle);
	free(ii);
}

void agent_idle_inhibit_link_ready(struct agent_idle_inhibit *ii)
{
	if (ii != NULL) {
		ii->n_sent = 0;
		sync_now(ii);
	}
}

void agent_idle_inhibit_link_lost(struct agent_idle_inhibit *ii)
{
	if (ii != NULL) {
		ii->n_sent = 0; /* the host forgets the windows with the link */
	}
}

void agent_idle_inhibit_window_announced(struct agent_idle_inhibit *ii)
{
	if (ii != NULL && !wl_list_empty(&ii->inhibitors)) {
		schedule_sync(ii);
	}
}
