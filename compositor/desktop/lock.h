/*
 * The screen lock: ext-session-lock-v1 (wayland-protocols 1.31; wlroots
 * 0.15 has no helper, so the protocol is implemented here). Debian 12's
 * swaylock speaks it.
 *
 * Fails closed. From the moment a locker asks to lock until that same
 * locker unlocks, every output shows a host-drawn locked screen above
 * everything (windows, panels, notices, choosers), with only the locker's
 * lock surfaces on it; input reaches only those surfaces, never a guest or
 * another client, and no key binding runs. If the locker dies or destroys
 * its lock without unlocking, the session stays locked: the locked screen
 * stays and a new locker may take over (it gets `locked`) and unlock. While
 * a live locker holds the lock, a second one gets `finished`.
 *
 * Every protocol rule is enforced with the protocol's own errors
 * (lock surface committed before its first ack, with a null buffer or at a
 * size other than the acked one, an unknown or stale serial, two lock
 * surfaces for one output, a surface that already has a role or a buffer,
 * unlock before `locked`, destroy after `locked`).
 */
#ifndef VITRAIL_LOCK_H
#define VITRAIL_LOCK_H

#include <stdbool.h>

struct server;
struct wlr_surface;
struct lock;

struct lock *lock_create(struct server *server);
void lock_destroy(struct lock *lock);

/* The session is locked (lock may be NULL: never). */
bool lock_active(const struct lock *lock);
/* May surface get input now? True when not locked, else only for the
 * current locker's lock surfaces (and their subsurfaces). */
bool lock_allows_surface(const struct lock *lock, struct wlr_surface *surface);
/* While locked: the lock surface that gets the keyboard (the first mapped
 * one of the current locker), or NULL. */
struct wlr_surface *lock_keyboard_surface(const struct lock *lock);
/* The outputs or their layout changed: re-cover them, re-configure the
 * lock surfaces. */
void lock_outputs_changed(struct lock *lock);

#endif
