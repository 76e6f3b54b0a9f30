/*
 * The guest's notification server: owns org.freedesktop.Notifications on
 * the session bus ($DBUS_SESSION_BUS_ADDRESS) and forwards notifications
 * to the host (NOTIFY, protocol README section 5.8); the host's
 * NOTIFY_CLOSED and NOTIFY_ACTION become NotificationClosed and
 * ActionInvoked("default"). Without a session bus, or when another server
 * owns the name, it logs and does nothing.
 */
#ifndef VITRAIL_AGENT_NOTIFY_H
#define VITRAIL_AGENT_NOTIFY_H

struct agent_link;
struct agent_notify;
#include <stdbool.h>
struct vtp_msg;
struct wl_event_loop;

/* Live notifications the agent tracks; more are refused (closed, 4). */
#define AGENT_NOTIFY_MAX_LIVE 256

/* NULL only on allocation failure. */
struct agent_notify *agent_notify_create(struct wl_event_loop *loop, struct agent_link *link);
void agent_notify_destroy(struct agent_notify *an);
/* A notice from the agent itself (a launch that failed) to the host's
 * notifications, as app "vitrail-agent"; false if the host does not take
 * notifications (no link, or protocol version < 2). */
bool agent_notify_agent(struct agent_notify *an, const char *summary, const char *body);
/* NOTIFY_CLOSED and NOTIFY_ACTION from the host. */
void agent_notify_handle_message(struct agent_notify *an, const struct vtp_msg *msg);
/* The host connection is gone: every notification is closed (reason 4). */
void agent_notify_link_lost(struct agent_notify *an);

#endif
