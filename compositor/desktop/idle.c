#include "desktop/idle.h"

#include <stdlib.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_idle.h>
#include <wlr/types/wlr_idle_inhibit_v1.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/util/log.h>

#include "desktop/lock.h"
#include "input/seat.h"
#include "tree/view.h"
#include "server.h"

struct idle {
	struct server *server;
	struct wlr_idle *wlr_idle;
	struct wlr_idle_inhibit_manager_v1 *inhibit_manager;
	struct wl_list inhibitors; /* struct inhibitor.link */
	bool inhibited;
	struct wl_listener new_inhibitor;
};

struct inhibitor {
	struct idle *idle;
	struct wlr_idle_inhibitor_v1 *wlr_inhibitor;
	struct wl_list link;
	struct wl_listener destroy;
	struct wl_listener commit; /* its surface's: it may start or stop showing */
};

static bool inhibitor_counts(const struct idle *idle, const struct inhibitor *inhibitor)
{
	struct wlr_surface *surface = inhibitor->wlr_inhibitor->surface;
	return !lock_active(idle->server->lock) && surface != NULL &&
		wlr_surface_has_buffer(surface);
}

void idle_update(struct idle *idle)
{
	if (idle == NULL) {
		return;
	}
	bool inhibited = false;
	struct inhibitor *inhibitor;
	wl_list_for_each(inhibitor, &idle->inhibitors, link) {
		if (inhibitor_counts(idle, inhibitor)) {
			inhibited = true;
			break;
		}
	}
	struct view *view;
	wl_list_for_each(view, &idle->server->views, link) {
		if (inhibited || lock_active(idle->server->lock)) {
			break;
		}
		inhibited = view->idle_inhibit && view->mapped && !view->minimized;
	}
	if (inhibited != idle->inhibited) {
		idle->inhibited = inhibited;
		wlr_log(WLR_INFO, "idle %s", inhibited ? "inhibited by a client" : "allowed");
		wlr_idle_set_enabled(idle->wlr_idle, idle->server->seat->wlr_seat, !inhibited);
	}
}

void idle_activity(struct idle *idle)
{
	if (idle == NULL) {
		return;
	}
	struct wlr_seat *seat = idle->server->seat->wlr_seat;
	if (!idle->inhibited) {
		wlr_idle_notify_activity(idle->wlr_idle, seat);
		return;
	}
	/* wlr_idle ignores activity while disabled, so a session that went
	 * idle before an inhibitor came would never hear of the user again:
	 * enable it for the moment of the activity (idle clients get
	 * 'resumed'), then stop the timers again */
	wlr_idle_set_enabled(idle->wlr_idle, seat, true);
	wlr_idle_notify_activity(idle->wlr_idle, seat);
	wlr_idle_set_enabled(idle->wlr_idle, seat, false);
}

static void handle_inhibitor_destroy(struct wl_listener *listener, void *data)
{
	struct inhibitor *inhibitor = wl_container_of(listener, inhibitor, destroy);
	struct idle *idle = inhibitor->idle;
	wl_list_remove(&inhibitor->link);
	wl_list_remove(&inhibitor->destroy.link);
	wl_list_remove(&inhibitor->commit.link);
	free(inhibitor);
	idle_update(idle);
}

static void handle_inhibitor_commit(struct wl_listener *listener, void *data)
{
	struct inhibitor *inhibitor = wl_container_of(listener, inhibitor, commit);
	idle_update(inhibitor->idle);
}

static void handle_new_inhibitor(struct wl_listener *listener, void *data)
{
	struct idle *idle = wl_container_of(listener, idle, new_inhibitor);
	struct wlr_idle_inhibitor_v1 *wlr_inhibitor = data;
	struct inhibitor *inhibitor = calloc(1, sizeof(*inhibitor));
	if (inhibitor == NULL) {
		wl_resource_post_no_memory(wlr_inhibitor->resource);
		return;
	}
	inhibitor->idle = idle;
	inhibitor->wlr_inhibitor = wlr_inhibitor;
	wl_list_insert(&idle->inhibitors, &inhibitor->link);
	inhibitor->destroy.notify = handle_inhibitor_destroy;
	wl_signal_add(&wlr_inhibitor->events.destroy, &inhibitor->destroy);
	inhibitor->commit.notify = handle_inhibitor_commit;
	wl_signal_add(&wlr_inhibitor->surface->events.commit, &inhibitor->commit);
	idle_update(idle);
}

struct idle *idle_create(struct server *server)
{
	struct idle *idle = calloc(1, sizeof(*idle));
	if (idle == NULL) {
		return NULL;
	}
	idle->server = server;
	wl_list_init(&idle->inhibitors);
	idle->wlr_idle = wlr_idle_create(server->display);
	idle->inhibit_manager = wlr_idle_inhibit_v1_create(server->display);
	if (idle->wlr_idle == NULL || idle->inhibit_manager == NULL) {
		free(idle);
		return NULL;
	}
	idle->new_inhibitor.notify = handle_new_inhibitor;
	wl_signal_add(&idle->inhibit_manager->events.new_inhibitor, &idle->new_inhibitor);
	return idle;
}

void idle_destroy(struct idle *idle)
{
	if (idle == NULL) {
		return;
	}
	/* the managers and inhibitors go with the display; stop listening */
	wl_list_remove(&idle->new_inhibitor.link);
	struct inhibitor *inhibitor, *tmp;
	wl_list_for_each_safe(inhibitor, tmp, &idle->inhibitors, link) {
		wl_list_remove(&inhibitor->link);
		wl_list_remove(&inhibitor->destroy.link);
		wl_list_remove(&inhibitor->commit.link);
		free(inhibitor);
	}
	free(idle);
}
