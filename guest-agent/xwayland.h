/*
 * X11 apps: Xwayland, started by wlroots when the first X11 client
 * connects (lazy), and its windows forwarded like xdg ones (window.c):
 * toplevels as toplevels, override-redirect windows (menus, tooltips) as
 * popups of an X11 toplevel. DISPLAY is exported to the programs the
 * agent starts.
 */
#ifndef VITRAIL_AGENT_XWAYLAND_H
#define VITRAIL_AGENT_XWAYLAND_H

struct agent_server;
struct agent_xwayland;

/* NULL when Xwayland is not installed or cannot be set up (logged): X11
 * apps then find no DISPLAY (an inherited one is removed). Sets DISPLAY in
 * the agent's environment. */
struct agent_xwayland *agent_xwayland_create(struct agent_server *server);
void agent_xwayland_destroy(struct agent_xwayland *xw);

#endif
