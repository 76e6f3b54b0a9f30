/*
 * Idle: the org_kde_kwin_idle protocol (wlroots' wlr_idle, what Debian 12's
 * swayidle uses on wlroots 0.15) and idle inhibitors
 * (zwp_idle_inhibit_manager_v1).
 *
 * Every key, pointer motion, button and scroll on the seat is activity.
 * An inhibitor keeps the session from going idle only while its surface
 * is a host client's surface that shows (has a buffer) and the session is
 * not locked. A guest app's inhibitor (IDLE_INHIBIT) counts the same way
 * while its window is mapped and not minimized, but only for a VM whose
 * config says idle-inhibit = true (off by default: a video player in a VM
 * does not keep the host awake unless the user allowed that VM to).
 */
#ifndef VITRAIL_IDLE_H
#define VITRAIL_IDLE_H

struct server;
struct idle;

struct idle *idle_create(struct server *server);
void idle_destroy(struct idle *idle);

/* The user did something (idle may be NULL). */
void idle_activity(struct idle *idle);
/* Something that decides whether inhibitors count changed (the lock). */
void idle_update(struct idle *idle);

#endif
