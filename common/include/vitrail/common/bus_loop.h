/*
 * An sd-bus connection run by a wayland-server event loop, shared by the
 * host's notifications and the agent's notification server: the bus's fd
 * and its next timeout are watched, and the bus is processed when one
 * fires.
 */
#ifndef VITRAIL_COMMON_BUS_LOOP_H
#define VITRAIL_COMMON_BUS_LOOP_H

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <wayland-server-core.h>

/* The desktop notification service. */
#define FDN_NAME "org.freedesktop.Notifications"
#define FDN_PATH "/org/freedesktop/Notifications"

struct bus_loop {
	sd_bus *bus; /* NULL: closed */
	struct wl_event_source *fd_source, *timer;
	/* processing failed with -errno error: the owner logs it and calls
	 * bus_loop_close */
	void (*failed)(void *data, int error);
	void *data;
};

/* Watch bus (bus_loop_close closes it, also after a failure here). false
 * when out of memory. */
bool bus_loop_watch(struct bus_loop *bl, struct wl_event_loop *loop, sd_bus *bus,
	void (*failed)(void *data, int error), void *data);
/* Watch for what the bus wants next: after queuing a message on it. */
void bus_loop_update(struct bus_loop *bl);
/* Process all that is pending, then bus_loop_update. */
void bus_loop_process(struct bus_loop *bl);
/* Stop watching and close the bus, after writing what is queued when
 * flush. Accepts a closed one. */
void bus_loop_close(struct bus_loop *bl, bool flush);

#endif
