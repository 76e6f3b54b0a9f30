/*
 * Short messages to the user about what the host did (a copy, a paste, a
 * refusal). They go to org.freedesktop.Notifications over the session bus
 * (sd-bus, asynchronously: the compositor never waits for the bus) when a
 * notification daemon owns that name; otherwise, or when the daemon
 * refuses, the compositor draws an on-screen notice at the top-right
 * corner of the first output, with a stripe in a label color, for about
 * four seconds. Messages are host text only: never guest content.
 */
#ifndef VITRAIL_NOTIFY_H
#define VITRAIL_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct notify;
struct server;

/* Size of an on-screen notice and its distance from the output's corner. */
#define NOTIFY_WIDTH 380
#define NOTIFY_HEIGHT 40
#define NOTIFY_MARGIN 16
#define NOTIFY_STRIPE 8
#define NOTIFY_TIMEOUT_MS 4000 /* $VITRAIL_NOTICE_TIMEOUT_MS overrides (tests) */
#define NOTIFY_MAX_SHOWN 4
/* The notice's background (never a palette color): plain, and for refusals. */
#define NOTIFY_BACKGROUND_RGB 0x262626u
#define NOTIFY_REFUSED_RGB 0x5a1e1eu

enum notify_kind {
	NOTIFY_INFO, /* something was done */
	NOTIFY_REFUSED, /* something was refused or failed */
};

struct notify *notify_create(struct server *server);
void notify_destroy(struct notify *notify);

/* Tell the user; stripe_rgb is the label color of the VM concerned. */
void notify_show(struct notify *notify, enum notify_kind kind, uint32_t stripe_rgb, const char *fmt,
	...) __attribute__((format(printf, 4, 5)));

/*
 * For vm_notify.c, which forwards guest notifications to the same daemon
 * over the same connection. The daemon's NotificationClosed and
 * ActionInvoked signals go to the listener (one, may be NULL).
 */
struct notify_daemon_listener {
	void (*closed)(void *data, uint32_t id, uint32_t reason);
	void (*action)(void *data, uint32_t id, const char *action_key);
	void *data;
};
void notify_set_daemon_listener(
	struct notify *notify, const struct notify_daemon_listener *listener);
/* The bus when a daemon is present (NULL otherwise); after queuing a call
 * on it, call notify_bus_flush. */
struct sd_bus *notify_daemon_bus(struct notify *notify);
void notify_bus_flush(struct notify *notify);
/* Draw an on-screen notice (whatever the daemon), text as given. */
void notify_show_on_screen(
	struct notify *notify, enum notify_kind kind, uint32_t stripe_rgb, const char *text);
/* How long an on-screen notice stays, ms. */
int notify_notice_timeout_ms(const struct notify *notify);

#endif
