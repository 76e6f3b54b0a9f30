#include "desktop/lock.h"

#include <stdlib.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/types/wlr_input_inhibitor.h>
#include <wlr/util/log.h>

#include "input/seat.h"
#include "server.h"

bool lock_active(const struct lock *lock)
{
	return lock != NULL && lock->inhibit->active_client != NULL;
}

bool lock_allows_surface(const struct lock *lock, struct wlr_surface *surface)
{
	if (!lock_active(lock)) {
		return true;
	}
	return surface != NULL &&
		wl_resource_get_client(surface->resource) == lock->inhibit->active_client;
}

static void handle_activate(struct wl_listener *listener, void *data)
{
	struct lock *lock = wl_container_of(listener, lock, activate);
	wlr_log(WLR_INFO, "screen locked: input goes to the locker only");
	seat_lock_changed(lock->server->seat);
}

static void handle_deactivate(struct wl_listener *listener, void *data)
{
	struct lock *lock = wl_container_of(listener, lock, deactivate);
	wlr_log(WLR_INFO, "screen unlocked");
	seat_lock_changed(lock->server->seat);
}

struct lock *lock_create(struct server *server)
{
	struct lock *lock = calloc(1, sizeof(*lock));
	if (lock == NULL) {
		return NULL;
	}
	lock->server = server;
	lock->inhibit = wlr_input_inhibit_manager_create(server->display);
	if (lock->inhibit == NULL) {
		free(lock);
		return NULL;
	}
	lock->activate.notify = handle_activate;
	wl_signal_add(&lock->inhibit->events.activate, &lock->activate);
	lock->deactivate.notify = handle_deactivate;
	wl_signal_add(&lock->inhibit->events.deactivate, &lock->deactivate);
	return lock;
}

void lock_destroy(struct lock *lock)
{
	if (lock == NULL) {
		return;
	}
	/* the manager itself goes with the display */
	wl_list_remove(&lock->activate.link);
	wl_list_remove(&lock->deactivate.link);
	free(lock);
}
