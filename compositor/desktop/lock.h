/*
 * Screen locking for lockers such as swaylock 1.7 (Debian 12): the
 * wlr-input-inhibitor protocol (wlroots 0.15 has no ext-session-lock-v1
 * helper). While a client holds the inhibitor, input reaches only that
 * client's surfaces (its overlay layer surfaces, which cover every output):
 * no key or button reaches a guest or another client, no key binding runs.
 *
 * The limit of this protocol: when the locker exits or crashes, the
 * inhibitor is gone and the desktop is unlocked. ext-session-lock-v1 (a
 * compositor that stays locked until a new locker unlocks it) needs
 * wlroots 0.16.
 */
#ifndef VITRAIL_LOCK_H
#define VITRAIL_LOCK_H

#include <stdbool.h>
#include <wayland-server-core.h>

struct server;
struct wlr_surface;

struct lock {
	struct server *server;
	struct wlr_input_inhibit_manager *inhibit;
	struct wl_listener activate;
	struct wl_listener deactivate;
};

struct lock *lock_create(struct server *server);
void lock_destroy(struct lock *lock);

/* A locker holds the input (lock may be NULL: never). */
bool lock_active(const struct lock *lock);
/* May surface get input now? True when not locked, else only for the
 * locker's surfaces. */
bool lock_allows_surface(const struct lock *lock, struct wlr_surface *surface);

#endif
