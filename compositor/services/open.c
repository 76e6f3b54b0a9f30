#include "services/open.h"

#include <errno.h>
#include <inttypes.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_keyboard.h>
#include <vitrail/common/text.h>
#include <wlr/util/log.h>
#include <xkbcommon/xkbcommon.h>
#include <vitrail/common/loop.h>

#include "config.h"
#include "input/seat.h"
#include "services/notify.h"
#include "services/open_chooser.h"
#include "services/open_policy.h"
#include "server.h"
#include "tree/view.h"
#include "guest/vm_link.h"
#include "services/vm_manager.h"

/* A disposable VM we started is stopped when its last window closes, or
 * when none appeared this long after the delivery. */
#define DISPOSABLE_CHECK_MS 1000
#define DISPOSABLE_IDLE_MS 30000

/* A VM whose questions the user cancelled this many times in a row may not
 * ask again for a while: a guest cannot keep the chooser (which takes the
 * keyboard) on the screen in a loop. */
#define ASK_MAX_CANCELS 3
#define ASK_COOLDOWN_MS 30000
/* At most one "asked to open ...: denied" notice per VM this often. */
#define DENY_NOTICE_MS 5000

struct chunk {
	struct chunk *next;
	uint32_t len;
	uint8_t data[];
};

enum transfer_state {
	TRANSFER_ROUTING, /* no target yet: the user chooses, or the target starts */
	TRANSFER_DELIVERING, /* DELIVER_FILE_BEGIN sent; chunks flow */
	TRANSFER_WAITING, /* all sent: waiting for DELIVER_RESULT */
};

/* `vitrailctl open`: the host's request, and the connection that streams
 * its file (open.h). */
struct open_host_source {
	struct transfer *transfer;
	int fd; /* not ours: done gives it back */
	struct wl_event_source *source;
	uint64_t remaining; /* bytes still to read from the socket */
	struct sha256_ctx sha;
	open_host_done_fn done; /* NULL until open_host_start */
	void *data;
};

struct transfer {
	struct wl_list link; /* open_router.transfers */
	struct open_router *router;
	uint32_t id; /* ours: the DELIVER_* request id */
	enum transfer_state state;
	uint32_t visited; /* handle_disconnect's pass that saw it */

	/* the source: a VM, or vitrailctl (ctl != NULL while it waits) */
	struct vm_link *source_link;
	uint32_t source_request;
	struct open_host_source *ctl;
	bool from_host;
	char source_name[CONFIG_VM_NAME_MAX + 1];

	bool is_url;
	char *url;
	char name[VTP_MAX_FILE_NAME + 1];
	char mime[VTP_MAX_MIME + 1];
	uint64_t size, received;
	bool source_ended; /* the whole file and its checksum are in */
	uint8_t sha256[SHA256_DIGEST_SIZE];

	bool fixed_target; /* vitrailctl open VM: no policy */
	struct vm_link *target;
	bool begun; /* DELIVER_FILE_BEGIN or DELIVER_URL sent */
	bool end_sent; /* nothing more goes to the target */
	bool disposable; /* the target is a disposable VM started for this */
	bool asking; /* the chooser has our question */

	struct chunk *head, *tail;
	size_t pending; /* bytes in chunks */
	struct wl_event_source *timer;
	/* the target is starting for this: its crash or stop ends the wait */
	struct vm_op *start_wait;
};

/* Per VM link: its events, and the disposable bookkeeping. */
struct link_watch {
	struct open_router *router;
	struct vm_link *link;
	struct wl_listener welcome;
	struct wl_listener disconnect;
	struct wl_listener drain;
	bool reserved; /* a disposable VM we started and will stop */
	bool had_windows;
	uint64_t maps; /* windows of the VM mapped since it was reserved */
	int idle_ms;
	struct wl_event_source *dispose_timer;
	unsigned int cancels; /* questions of this VM the user cancelled in a row */
	int64_t ask_blocked_until_ms;
	int64_t deny_notice_ms; /* the last denied notice (0: none yet) */
};

struct open_router {
	struct server *server;
	struct open_policy *policy;
	struct wl_list transfers;
	size_t n_transfers;
	uint32_t next_id;
	struct link_watch *watches;
	size_t n_watches;
	struct open_chooser *chooser;
	struct wl_listener view_map; /* server.events.view_map */
	struct seat_grab grab; /* the chooser, while shown, takes keys and clicks */
};

static void pump(struct transfer *t);

/* A window was mapped: count it for its VM's disposable watch (even one
 * that comes and goes between two checks). */
static void handle_view_map(struct wl_listener *listener, void *data)
{
	struct open_router *router = wl_container_of(listener, router, view_map);
	struct view *view = data;
	for (size_t i = 0; i < router->n_watches; i++) {
		if (view->vm != NULL && router->watches[i].link == view->vm) {
			router->watches[i].maps++;
		}
	}
}

/* ---- small helpers ---- */

/* Copy at most max bytes of the UTF-8 string s, never ending inside a
 * sequence. */
static void copy_utf8(char *out, size_t cap, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
			n--;
		}
	}
	if (n >= cap) {
		n = 0;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

static struct link_watch *watch_of(struct open_router *router, struct vm_link *link)
{
	for (size_t i = 0; i < router->n_watches; i++) {
		if (router->watches[i].link == link) {
			return &router->watches[i];
		}
	}
	return NULL;
}

static size_t count_from(struct open_router *router, struct vm_link *source, bool host)
{
	size_t n = 0;
	struct transfer *t;
	wl_list_for_each(t, &router->transfers, link) {
		if (host ? t->from_host : t->source_link == source) {
			n++;
		}
	}
	return n;
}

static struct transfer *find_from_source(
	struct open_router *router, struct vm_link *source, uint32_t request)
{
	struct transfer *t;
	wl_list_for_each(t, &router->transfers, link) {
		if (t->source_link == source && t->source_request == request) {
			return t;
		}
	}
	return NULL;
}

static const char *target_name(const struct transfer *t)
{
	return t->target != NULL ? vm_link_name(t->target) : "?";
}

static const char *result_word(uint32_t code)
{
	switch (code) {
	case VTP_RESULT_OK:
		return "opened";
	case VTP_RESULT_DENIED:
		return "denied";
	case VTP_RESULT_NO_TARGET:
		return "no-target";
	case VTP_RESULT_TOO_LARGE:
		return "too-large";
	case VTP_RESULT_BAD_CHECKSUM:
		return "bad-checksum";
	case VTP_RESULT_CANCELLED:
		return "cancelled";
	default:
		return "failed";
	}
}

/* Pause the source VM while any of its transfers holds too much here. */
static void update_source_pause(struct open_router *router, struct vm_link *source)
{
	if (source == NULL) {
		return;
	}
	bool pause = false;
	struct transfer *t;
	wl_list_for_each(t, &router->transfers, link) {
		if (t->source_link == source && t->pending >= OPEN_PENDING_MAX) {
			pause = true;
		}
	}
	vm_link_set_read_paused(source, pause);
}

static void update_ctl_mask(struct transfer *t)
{
	if (t->ctl == NULL || t->ctl->source == NULL) {
		return;
	}
	bool read = t->ctl->remaining > 0 && t->pending < OPEN_PENDING_MAX;
	wl_event_source_fd_update(t->ctl->source, read ? WL_EVENT_READABLE : 0);
}

/* Let vitrailctl's connection go, with the answer (NULL: none). */
static void ctl_source_end(struct transfer *t, const struct open_host_outcome *outcome)
{
	struct open_host_source *ctl = t->ctl;
	if (ctl == NULL) {
		return;
	}
	t->ctl = NULL;
	loop_source_remove(&ctl->source);
	if (ctl->done != NULL) {
		ctl->done(ctl->data, outcome);
	}
	free(ctl);
}

/* ---- the end of a transfer ---- */

static void transfer_destroy(struct transfer *t)
{
	struct open_router *router = t->router;
	while (t->head != NULL) {
		struct chunk *c = t->head;
		t->head = c->next;
		free(c);
	}
	if (t->asking) {
		open_chooser_forget(router->chooser, t);
	}
	loop_source_remove(&t->timer);
	vm_manager_cancel(t->start_wait);
	ctl_source_end(t, NULL);
	free(t->url);
	wl_list_remove(&t->link);
	router->n_transfers--;
	struct vm_link *source = t->source_link;
	free(t);
	update_source_pause(router, source);
}

/* Tell vitrailctl, then let its connection go. */
static void reply_ctl(struct transfer *t, uint32_t code, const char *text, const char *detail)
{
	struct open_host_outcome outcome = {
		.ok = code == VTP_RESULT_OK,
		.vm = target_name(t),
		.error = text,
		.code = result_word(code),
		.detail = detail != NULL && detail[0] != '\0' ? detail : NULL,
	};
	ctl_source_end(t, &outcome);
}

/* The target must forget a delivery it began: an END before all bytes. */
static void cancel_target(struct transfer *t)
{
	if (!t->begun || t->end_sent || t->is_url) {
		return;
	}
	t->end_sent = true;
	if (vm_link_connected(t->target)) {
		struct vtp_file_end end = { .request_id = t->id };
		vm_link_send(t->target, VTP_DELIVER_FILE_END, 0, &end, NULL, 0);
	}
}

static void stop_vm(struct open_router *router, struct vm_link *link)
{
	vm_manager_stop(router->server->vm_manager, link);
}

static void release_disposable(struct open_router *router, struct vm_link *link)
{
	struct link_watch *w = watch_of(router, link);
	if (w == NULL || !w->reserved) {
		return;
	}
	w->reserved = false;
	loop_source_remove(&w->dispose_timer);
	wlr_log(WLR_INFO, "[vm %s] disposable VM done: stopping it", vm_link_name(link));
	stop_vm(router, link);
}

static int handle_dispose_timer(void *data)
{
	struct link_watch *w = data;
	size_t windows = view_count_mapped(w->router->server, w->link);
	if (windows > 0 || w->maps > 0) {
		/* even one that came and went between two checks */
		w->had_windows = true;
	}
	w->idle_ms += DISPOSABLE_CHECK_MS;
	bool busy = false;
	struct transfer *t;
	wl_list_for_each(t, &w->router->transfers, link) {
		busy = busy || t->target == w->link;
	}
	if (!busy &&
		((w->had_windows && windows == 0) ||
			(!w->had_windows && w->idle_ms >= DISPOSABLE_IDLE_MS))) {
		release_disposable(w->router, w->link);
		return 0;
	}
	wl_event_source_timer_update(w->dispose_timer, DISPOSABLE_CHECK_MS);
	return 0;
}

/* Watch a disposable VM we started until its last window closes. */
static void watch_disposable(struct open_router *router, struct vm_link *link)
{
	struct link_watch *w = watch_of(router, link);
	if (w == NULL || !w->reserved || w->dispose_timer != NULL) {
		return;
	}
	w->had_windows = false;
	w->idle_ms = 0;
	w->dispose_timer = wl_event_loop_add_timer(router->server->loop, handle_dispose_timer, w);
	if (w->dispose_timer == NULL) {
		release_disposable(router, link);
		return;
	}
	wl_event_source_timer_update(w->dispose_timer, DISPOSABLE_CHECK_MS);
}

#define HOST_NOTICE_RGB 0x2e3436 /* the host windows' frame color */

/*
 * The outcome: tell the source (host text only), cancel the target's part
 * if it is unfinished, and forget the transfer. detail (the target's own
 * words, or NULL) goes to the host's log and to vitrailctl, never to a VM.
 */
__attribute__((format(printf, 4, 5))) static void finish(
	struct transfer *t, uint32_t code, const char *detail, const char *fmt, ...)
{
	char text[VTP_MAX_ERROR_TEXT + 1];
	va_list args;
	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);

	wlr_log(WLR_INFO, "[%s%s] open request %u (%s): %s", t->source_link != NULL ? "vm " : "",
		t->source_name, t->source_request, t->is_url ? "URL" : "file", text);
	if (t->source_link == NULL && code != VTP_RESULT_OK && code != VTP_RESULT_CANCELLED) {
		/* the host's own request (a file manager, "Open in a VM"): its
		 * caller may have no terminal, so the user sees why on screen */
		notify_show(t->router->server->notify, NOTIFY_REFUSED, HOST_NOTICE_RGB,
			"Not opened in a VM: %s", text);
	}
	if (t->source_link != NULL && vm_link_connected(t->source_link)) {
		struct vtp_result r = { .request_id = t->source_request, .code = code };
		vm_link_send(t->source_link, VTP_OPEN_RESULT, 0, &r, text, (uint32_t)strlen(text));
	}
	reply_ctl(t, code, text, detail);
	cancel_target(t);
	if (t->disposable && t->target != NULL) {
		if (code == VTP_RESULT_OK) {
			watch_disposable(t->router, t->target);
		} else {
			release_disposable(t->router, t->target);
		}
	}
	transfer_destroy(t);
}

/* ---- delivering ---- */

static int handle_transfer_timer(void *data)
{
	struct transfer *t = data;
	if (t->state == TRANSFER_WAITING) {
		finish(t, VTP_RESULT_FAILED, NULL, "VM %s did not answer", target_name(t));
	} else if (t->asking) {
		finish(t, VTP_RESULT_CANCELLED, NULL, "nobody chose a VM in time");
	} else if (t->target != NULL && !vm_link_connected(t->target)) {
		finish(t, VTP_RESULT_NO_TARGET, NULL, "VM %s did not start in time",
			target_name(t));
	} else {
		finish(t, VTP_RESULT_FAILED, NULL, "timed out");
	}
	return 0;
}

static void arm_timer(struct transfer *t, int ms)
{
	if (t->timer == NULL) {
		t->timer =
			wl_event_loop_add_timer(t->router->server->loop, handle_transfer_timer, t);
	}
	if (t->timer != NULL) {
		wl_event_source_timer_update(t->timer, ms);
	}
}

/* Move pending chunks into the target's queue while it has room; the END
 * once everything went. */
static void pump(struct transfer *t)
{
	if (t->state != TRANSFER_DELIVERING || !vm_link_connected(t->target)) {
		return;
	}
	struct vm_link *target = t->target;
	while (t->head != NULL && !vm_link_backlogged(target)) {
		struct chunk *c = t->head;
		t->head = c->next;
		if (t->head == NULL) {
			t->tail = NULL;
		}
		t->pending -= c->len;
		struct vtp_file_chunk body = { .request_id = t->id };
		bool sent = vm_link_send(target, VTP_DELIVER_FILE_CHUNK, 0, &body, c->data, c->len);
		free(c);
		if (!sent) {
			return; /* the link is failing: its disconnect ends this */
		}
	}
	if (t->head != NULL) {
		vm_link_want_drain(target);
	} else if (t->source_ended && !t->end_sent) {
		struct vtp_file_end end = { .request_id = t->id };
		memcpy(end.sha256, t->sha256, sizeof(end.sha256));
		t->end_sent = true;
		vm_link_send(target, VTP_DELIVER_FILE_END, 0, &end, NULL, 0);
		t->state = TRANSFER_WAITING;
		arm_timer(t, OPEN_RESULT_TIMEOUT_MS);
	}
	update_source_pause(t->router, t->source_link);
	update_ctl_mask(t);
}

/* Bytes from the source: held, then pumped. false: t is gone. */
static bool add_data(struct transfer *t, const uint8_t *data, size_t len)
{
	struct chunk *c = malloc(sizeof(*c) + len);
	if (c == NULL) {
		finish(t, VTP_RESULT_FAILED, NULL, "out of memory on the host");
		return false;
	}
	c->next = NULL;
	c->len = (uint32_t)len;
	memcpy(c->data, data, len);
	if (t->tail != NULL) {
		t->tail->next = c;
	} else {
		t->head = c;
	}
	t->tail = c;
	t->pending += len;
	t->received += len;
	if (t->state == TRANSFER_DELIVERING) {
		pump(t);
	} else {
		update_source_pause(t->router, t->source_link);
		update_ctl_mask(t);
	}
	return true;
}

/* The target is connected: start sending. */
static void deliver(struct transfer *t)
{
	struct vm_link *target = t->target;
	if (t->timer != NULL) {
		wl_event_source_timer_update(t->timer, 0);
	}
	t->begun = true;
	/* what the target opens is a window the user asked for */
	wl_signal_emit(&t->router->server->events.user_launch, target);
	if (t->is_url) {
		size_t ulen = strlen(t->url), slen = strlen(t->source_name);
		char *tail = malloc(ulen + 1 + slen);
		if (tail == NULL) {
			finish(t, VTP_RESULT_FAILED, NULL, "out of memory on the host");
			return;
		}
		memcpy(tail, t->url, ulen + 1);
		memcpy(tail + ulen + 1, t->source_name, slen);
		struct vtp_open_url body = { .request_id = t->id };
		vm_link_send(target, VTP_DELIVER_URL, 0, &body, tail, (uint32_t)(ulen + 1 + slen));
		free(tail);
		t->end_sent = true;
		t->state = TRANSFER_WAITING;
		arm_timer(t, OPEN_RESULT_TIMEOUT_MS);
		return;
	}
	size_t nlen = strlen(t->name), mlen = strlen(t->mime), slen = strlen(t->source_name);
	char tail[VTP_MAX_FILE_NAME + VTP_MAX_MIME + CONFIG_VM_NAME_MAX + 2];
	memcpy(tail, t->name, nlen + 1);
	memcpy(tail + nlen + 1, t->mime, mlen + 1);
	memcpy(tail + nlen + mlen + 2, t->source_name, slen);
	struct vtp_file_begin body = { .request_id = t->id, .size = t->size };
	vm_link_send(
		target, VTP_DELIVER_FILE_BEGIN, 0, &body, tail, (uint32_t)(nlen + mlen + 2 + slen));
	t->state = TRANSFER_DELIVERING;
	wlr_log(WLR_INFO, "open request %u from %s: delivering %" PRIu64 " bytes to VM %s", t->id,
		t->source_name, t->size, vm_link_name(target));
	pump(t);
}

/* The target VM we started: its agent connected (handle_welcome delivers),
 * or the VM crashed or stopped first. */
static void handle_target_started(void *data, const struct vm_op_result *result)
{
	struct transfer *t = data;
	t->start_wait = NULL;
	if (result->error == NULL || t->begun || t->target == NULL ||
		vm_link_connected(t->target)) {
		return;
	}
	finish(t, VTP_RESULT_NO_TARGET, NULL, "VM %s did not start: %s", target_name(t),
		result->error);
}

static void route_to(struct transfer *t, struct vm_link *target)
{
	if (target == t->source_link) {
		/* a VM whose own xdg-open hands files to vitrail-open would send
		 * them round forever */
		finish(t, VTP_RESULT_NO_TARGET, NULL,
			"it is already in VM %s: open it there with an application of that VM "
			"(is vitrail-open its default handler for this type?)",
			vm_link_name(target));
		return;
	}
	t->target = target;
	if (vm_link_connected(target)) {
		deliver(t);
		return;
	}
	char *error = NULL;
	if (!vm_manager_start(t->router->server->vm_manager, target, &error)) {
		finish(t, VTP_RESULT_NO_TARGET, NULL, "VM %s is not running and cannot start: %s",
			vm_link_name(target),
			error != NULL ? error : "the VM manager did not answer");
		free(error);
		return;
	}
	free(error);
	wlr_log(WLR_INFO, "open request %u: starting VM %s", t->id, vm_link_name(target));
	t->state = TRANSFER_ROUTING;
	arm_timer(t, OPEN_CONNECT_TIMEOUT_MS);
	/* a VM that crashes or stops before its agent connects fails the
	 * delivery at once, not at the timeout */
	vm_manager_cancel(t->start_wait);
	error = NULL;
	t->start_wait = vm_manager_wait(t->router->server->vm_manager, target, VM_OP_CONNECTED,
		handle_target_started, t, &error);
	if (t->start_wait == NULL) {
		wlr_log(WLR_ERROR, "open request %u: cannot watch VM %s start: %s", t->id,
			vm_link_name(target), error != NULL ? error : "out of memory");
		free(error);
	}
}

/* A stopped disposable VM, reserved for this transfer: a preloaded one
 * first (vm_manager.h). */
static struct vm_link *take_disposable(struct open_router *router)
{
	struct server *server = router->server;
	bool any = false;
	for (size_t n = 0; n < 2 * server->n_vm_links; n++) {
		struct vm_link *link = server->vm_links[n % server->n_vm_links];
		if (vm_link_config(link)->disposable_of == NULL ||
			(n < server->n_vm_links) !=
				vm_manager_preloaded(server->vm_manager, link)) {
			continue;
		}
		any = true;
		struct link_watch *w = watch_of(router, link);
		enum vm_state state = vm_manager_state(server->vm_manager, link);
		if (w != NULL && !w->reserved && !vm_link_connected(link) &&
			(state == VM_STOPPED || state == VM_CRASHED)) {
			w->reserved = true;
			w->maps = 0;
			return link;
		}
	}
	(void)any;
	return NULL;
}

static bool any_disposable(struct server *server)
{
	for (size_t i = 0; i < server->n_vm_links; i++) {
		if (vm_link_config(server->vm_links[i])->disposable_of != NULL) {
			return true;
		}
	}
	return false;
}

/* Display text for the chooser: what is asked. */
static void describe(const struct transfer *t, char *out, size_t cap)
{
	if (t->is_url) {
		snprintf(out, cap, "a link: %.200s", t->url);
	} else {
		/* cut on code point boundaries: the chooser shows UTF-8 only */
		char name[121], mime[61];
		copy_utf8(name, sizeof(name), t->name, sizeof(name) - 1);
		copy_utf8(mime, sizeof(mime), t->mime, sizeof(mime) - 1);
		snprintf(out, cap, "%s (%s, %" PRIu64 " bytes)", name, mime, t->size);
	}
}

/* Apply the policy (or the fixed target). */
static void route(struct transfer *t)
{
	struct open_router *router = t->router;
	struct server *server = router->server;
	if (t->fixed_target) {
		route_to(t, t->target);
		return;
	}
	char scheme[OPEN_POLICY_SCHEME_MAX + 1] = "", host[OPEN_POLICY_HOST_MAX + 1] = "";
	if (t->is_url) {
		char *error = NULL; /* checked when the request came: only the fields */
		open_policy_check_url(router->policy, t->url, scheme, host, &error);
		free(error);
	}
	struct open_request_info info = {
		.source = t->from_host ? NULL : t->source_name,
		.is_url = t->is_url,
		.mime = t->mime,
		.name = t->name,
		.scheme = scheme,
		.host = host,
	};
	const struct open_rule *rule = open_policy_match(router->policy, &info);
	struct link_watch *source_watch =
		t->source_link != NULL ? watch_of(router, t->source_link) : NULL;
	int64_t now = loop_now_ms();
	if ((rule == NULL || rule->target == OPEN_TARGET_DENY) && source_watch != NULL &&
		(source_watch->deny_notice_ms == 0 ||
			now - source_watch->deny_notice_ms >= DENY_NOTICE_MS)) {
		/* host words only: the VM's name, never what it asked for; and
		 * rate-limited: a guest cannot flood the user with notices */
		source_watch->deny_notice_ms = now;
		notify_show(server->notify, NOTIFY_REFUSED, vm_link_label(t->source_link),
			"[%s] asked to open %s in another VM: denied", t->source_name,
			t->is_url ? "a link" : "a file");
	}
	if (rule == NULL) {
		finish(t, VTP_RESULT_DENIED, NULL, "no rule of the open policy allows it");
		return;
	}
	switch (rule->target) {
	case OPEN_TARGET_DENY:
		if (rule->line > 0) {
			finish(t, VTP_RESULT_DENIED, NULL, "the open policy denies it (%s:%d)",
				server->config->path != NULL ? server->config->path : "config",
				rule->line);
		} else {
			finish(t, VTP_RESULT_DENIED, NULL, "the open policy denies it");
		}
		return;
	case OPEN_TARGET_VM: {
		struct vm_link *target = server_find_vm(server, rule->vm);
		if (target == NULL) {
			finish(t, VTP_RESULT_NO_TARGET, NULL, "no VM named %s", rule->vm);
			return;
		}
		route_to(t, target);
		return;
	}
	case OPEN_TARGET_DISPOSABLE: {
		struct vm_link *target = take_disposable(router);
		if (target == NULL) {
			finish(t, VTP_RESULT_NO_TARGET, NULL, "%s",
				any_disposable(server) ? "every disposable VM is in use"
						       : "no disposable VM is configured (a [vm] "
							 "with disposable-of)");
			return;
		}
		t->disposable = true;
		route_to(t, target);
		return;
	}
	case OPEN_TARGET_ASK: {
		if (source_watch != NULL && now < source_watch->ask_blocked_until_ms) {
			finish(t, VTP_RESULT_DENIED, NULL,
				"the user cancelled %d requests of VM %s in a row: it may not ask "
				"for %d s",
				ASK_MAX_CANCELS, t->source_name, ASK_COOLDOWN_MS / 1000);
			return;
		}
		char what[400];
		describe(t, what, sizeof(what));
		t->asking = true;
		if (!open_chooser_ask(router->chooser, t, t->source_name, what)) {
			t->asking = false;
			finish(t, VTP_RESULT_DENIED, NULL, "the user cannot be asked now");
			return;
		}
		t->state = TRANSFER_ROUTING;
		arm_timer(t, OPEN_ASK_TIMEOUT_MS);
		return;
	}
	}
}

static bool grab_key(void *data, struct wlr_keyboard *keyboard, uint32_t keycode)
{
	struct open_router *router = data;
	if (!open_chooser_active(router->chooser)) {
		return false;
	}
	xkb_keysym_t sym = xkb_state_key_get_one_sym(keyboard->xkb_state, keycode);
	return open_chooser_handle_key(router->chooser, sym, true);
}

static bool grab_button(void *data, double lx, double ly)
{
	struct open_router *router = data;
	return open_chooser_handle_button(router->chooser, lx, ly, true);
}

void open_chosen(struct open_router *router, void *transfer, struct vm_link *target)
{
	struct transfer *t = transfer;
	t->asking = false;
	struct link_watch *w = t->source_link != NULL ? watch_of(router, t->source_link) : NULL;
	if (w != NULL && target == NULL && ++w->cancels >= ASK_MAX_CANCELS) {
		w->cancels = 0;
		w->ask_blocked_until_ms = loop_now_ms() + ASK_COOLDOWN_MS;
		wlr_log(WLR_INFO, "[vm %s] %d questions cancelled in a row: no more for %d s",
			t->source_name, ASK_MAX_CANCELS, ASK_COOLDOWN_MS / 1000);
	} else if (w != NULL && target != NULL) {
		w->cancels = 0;
	}
	if (target == NULL) {
		finish(t, VTP_RESULT_CANCELLED, NULL, "the user cancelled");
		return;
	}
	route_to(t, target);
}

static struct transfer *transfer_create(struct open_router *router)
{
	struct transfer *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->router = router;
	t->id = router->next_id++;
	t->state = TRANSFER_ROUTING;
	wl_list_insert(router->transfers.prev, &t->link);
	router->n_transfers++;
	return t;
}

/* ---- messages from VMs ---- */

static void answer(struct vm_link *link, uint32_t request, uint32_t code, const char *text)
{
	struct vtp_result r = { .request_id = request, .code = code };
	vm_link_send(link, VTP_OPEN_RESULT, 0, &r, text, (uint32_t)strlen(text));
}

static bool admit(struct open_router *router, struct vm_link *link, uint32_t request)
{
	if (find_from_source(router, link, request) != NULL) {
		vm_link_fail(
			link, VTP_ERR_PROTOCOL, "open request %u is already in progress", request);
		return false;
	}
	if (router->n_transfers >= OPEN_MAX_TRANSFERS ||
		count_from(router, link, false) >= OPEN_MAX_PER_SOURCE) {
		answer(link, request, VTP_RESULT_FAILED, "too many open requests at once");
		return false;
	}
	return true;
}

static void handle_open_url(
	struct open_router *router, struct vm_link *link, const struct vtp_msg *msg)
{
	uint32_t request = msg->body.open_url.request_id;
	if (!admit(router, link, request)) {
		return;
	}
	/* the decoder checked: printable ASCII, 1..VTP_MAX_URL */
	const char *untrusted_url = (const char *)msg->tail;
	char scheme[OPEN_POLICY_SCHEME_MAX + 1], host[OPEN_POLICY_HOST_MAX + 1];
	char *error = NULL;
	if (!open_policy_check_url(router->policy, untrusted_url, scheme, host, &error)) {
		const char *why = error != NULL ? error : "out of memory on the host";
		wlr_log(WLR_INFO, "[vm %s] open request %u: URL refused: %s", vm_link_name(link),
			request, why);
		answer(link, request, error != NULL ? VTP_RESULT_DENIED : VTP_RESULT_FAILED, why);
		free(error);
		return;
	}
	struct transfer *t = transfer_create(router);
	if (t == NULL || (t->url = strdup(untrusted_url)) == NULL) {
		if (t != NULL) {
			transfer_destroy(t);
		}
		answer(link, request, VTP_RESULT_FAILED, "out of memory on the host");
		return;
	}
	t->is_url = true;
	t->source_link = link;
	t->source_request = request;
	snprintf(t->source_name, sizeof(t->source_name), "%s", vm_link_name(link));
	route(t);
}

static void handle_begin(
	struct open_router *router, struct vm_link *link, const struct vtp_msg *msg)
{
	const struct vtp_file_begin *b = &msg->body.file_begin;
	if (!admit(router, link, b->request_id)) {
		return;
	}
	if (b->size > router->policy->max_file_bytes) {
		char text[128];
		snprintf(text, sizeof(text),
			"the file is larger than the limit of %" PRIu64 " bytes",
			router->policy->max_file_bytes);
		answer(link, b->request_id, VTP_RESULT_TOO_LARGE, text);
		return;
	}
	struct transfer *t = transfer_create(router);
	if (t == NULL) {
		answer(link, b->request_id, VTP_RESULT_FAILED, "out of memory on the host");
		return;
	}
	/* "name\0mime\0", each a display string, checked by the decoder */
	const char *untrusted_name = (const char *)msg->tail;
	const char *untrusted_mime = untrusted_name + strlen(untrusted_name) + 1;
	snprintf(t->name, sizeof(t->name), "%s", untrusted_name);
	snprintf(t->mime, sizeof(t->mime), "%s", untrusted_mime);
	t->size = b->size;
	t->source_link = link;
	t->source_request = b->request_id;
	snprintf(t->source_name, sizeof(t->source_name), "%s", vm_link_name(link));
	route(t); /* an empty file: nothing but the END will come */
}

static void handle_chunk(
	struct open_router *router, struct vm_link *link, const struct vtp_msg *msg)
{
	struct transfer *t = find_from_source(router, link, msg->body.file_chunk.request_id);
	if (t == NULL || t->is_url) {
		return; /* answered already: the rest is ignored */
	}
	if (msg->tail_len > t->size - t->received) {
		vm_link_fail(link, VTP_ERR_PROTOCOL,
			"OPEN_FILE_CHUNK: more than the %" PRIu64 " bytes announced", t->size);
		return;
	}
	add_data(t, msg->tail, msg->tail_len);
}

static void handle_end(struct open_router *router, struct vm_link *link, const struct vtp_msg *msg)
{
	struct transfer *t = find_from_source(router, link, msg->body.file_end.request_id);
	if (t == NULL || t->is_url || t->source_ended) {
		return;
	}
	if (t->received < t->size) {
		finish(t, VTP_RESULT_CANCELLED, NULL, "cancelled by the sender");
		return;
	}
	t->source_ended = true;
	memcpy(t->sha256, msg->body.file_end.sha256, sizeof(t->sha256));
	pump(t);
}

static void handle_deliver_result(
	struct open_router *router, struct vm_link *link, const struct vtp_msg *msg)
{
	uint32_t id = msg->body.result.request_id;
	uint32_t code = msg->body.result.code;
	struct transfer *t, *found = NULL;
	wl_list_for_each(t, &router->transfers, link) {
		if (t->target == link && t->begun && t->id == id) {
			found = t;
			break;
		}
	}
	char detail[VTP_MAX_ERROR_TEXT + 1];
	/* the guest's words, as any guest text the user may see */
	vtp_sanitize_display_string(
		(const char *)msg->tail, msg->tail_len, VTP_MAX_ERROR_TEXT, detail, sizeof(detail));
	if (found == NULL) {
		wlr_log(WLR_DEBUG, "[vm %s] DELIVER_RESULT for delivery %u, which is over",
			vm_link_name(link), id);
		return;
	}
	t = found;
	wlr_log(WLR_INFO, "[vm %s] delivery %u: %s: %s", vm_link_name(link), id, result_word(code),
		detail);
	/* an answer before the END: the target stopped; so do we */
	t->end_sent = true;
	const char *vm = vm_link_name(link);
	switch (code) {
	case VTP_RESULT_OK:
		finish(t, VTP_RESULT_OK, detail, "opened in VM %s", vm);
		break;
	case VTP_RESULT_BAD_CHECKSUM:
		finish(t, code, detail, "the file arrived damaged in VM %s and was deleted", vm);
		break;
	case VTP_RESULT_CANCELLED:
		finish(t, code, detail, "VM %s cancelled it", vm);
		break;
	case VTP_RESULT_DENIED:
		finish(t, code, detail, "VM %s refused it", vm);
		break;
	default:
		finish(t, VTP_RESULT_FAILED, detail, "VM %s could not open it", vm);
		break;
	}
}

static void handle_message(
	struct open_router *router, struct vm_link *link, const struct vtp_msg *msg)
{
	if (router == NULL) {
		return;
	}
	switch (msg->header.type) {
	case VTP_OPEN_URL:
		handle_open_url(router, link, msg);
		break;
	case VTP_OPEN_FILE_BEGIN:
		handle_begin(router, link, msg);
		break;
	case VTP_OPEN_FILE_CHUNK:
		handle_chunk(router, link, msg);
		break;
	case VTP_OPEN_FILE_END:
		handle_end(router, link, msg);
		break;
	case VTP_DELIVER_RESULT:
		handle_deliver_result(router, link, msg);
		break;
	default:
		break;
	}
}

/* ---- link events ---- */

static void handle_welcome(struct wl_listener *listener, void *data)
{
	struct link_watch *w = wl_container_of(listener, w, welcome);
	struct transfer *t, *tmp;
	wl_list_for_each_safe(t, tmp, &w->router->transfers, link) {
		if (t->target == w->link && !t->begun && !t->asking) {
			deliver(t);
		}
	}
}

static void handle_disconnect(struct wl_listener *listener, void *data)
{
	struct link_watch *w = wl_container_of(listener, w, disconnect);
	struct vm_link *link = w->link;
	static uint32_t pass;
	struct transfer *t;

	/* Ending one transfer can end others (the chooser moves on to its
	 * next question, which may be cancelled): no pointer into the list is
	 * kept across it. Each transfer is looked at once; rescan after each. */
	pass++;
restart:
	wl_list_for_each(t, &w->router->transfers, link) {
		if (t->visited == pass) {
			continue;
		}
		t->visited = pass;
		if (t->source_link == link) {
			/* nobody to answer: the target forgets its part */
			t->source_link = NULL;
			cancel_target(t);
			if (t->disposable && t->target != NULL) {
				release_disposable(w->router, t->target);
			}
			transfer_destroy(t);
			goto restart;
		} else if (t->target == link && t->begun) {
			t->end_sent = true;
			finish(t, VTP_RESULT_FAILED, NULL, "VM %s went away", vm_link_name(link));
			goto restart;
		}
	}
	if (w->reserved && w->dispose_timer != NULL) {
		/* the disposable VM ended by itself */
		release_disposable(w->router, link);
	}
}

static void handle_drain(struct wl_listener *listener, void *data)
{
	struct link_watch *w = wl_container_of(listener, w, drain);
	struct transfer *t, *tmp;
	wl_list_for_each_safe(t, tmp, &w->router->transfers, link) {
		if (t->target == w->link) {
			pump(t);
		}
	}
}

/* ---- vitrailctl open ---- */

static int handle_ctl_fd(int fd, uint32_t mask, void *data)
{
	struct transfer *t = data;
	struct open_host_source *ctl = t->ctl;
	if (ctl->remaining == 0 || !(mask & WL_EVENT_READABLE)) {
		if (ctl->remaining > 0) {
			/* gone before the whole file: cancel */
			ctl_source_end(t, NULL);
			finish(t, VTP_RESULT_CANCELLED, NULL, "vitrailctl went away");
		} else {
			/* the file is in; it no longer waits for the answer */
			ctl_source_end(t, NULL);
		}
		return 0;
	}
	uint8_t buf[VTP_MAX_CHUNK];
	size_t want = ctl->remaining < sizeof(buf) ? (size_t)ctl->remaining : sizeof(buf);
	ssize_t n = recv(fd, buf, want, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		return 0;
	}
	if (n <= 0) {
		ctl_source_end(t, NULL);
		finish(t, VTP_RESULT_CANCELLED, NULL, "vitrailctl went away");
		return 0;
	}
	sha256_update(&ctl->sha, (size_t)n, (const uint8_t *)buf);
	ctl->remaining -= (uint64_t)n;
	bool ended = ctl->remaining == 0;
	if (ended) {
		sha256_digest(&ctl->sha, SHA256_DIGEST_SIZE, t->sha256);
		t->source_ended = true;
	}
	if (!add_data(t, buf, (size_t)n)) {
		return 0;
	}
	if (ended) {
		update_ctl_mask(t);
		pump(t);
	}
	return 0;
}

/* The protocol's file name rule, on a C string. */
static bool valid_name(const char *name)
{
	return vtp_valid_file_name(name, strlen(name));
}

struct open_host_source *open_host_request(
	struct open_router *router, const struct open_host_request *req, char **error)
{
	*error = NULL;
	if (router == NULL) {
		*error = strdup("open is not available");
		return NULL;
	}
	struct server *server = router->server;
	const char *vm = req->vm, *url = req->url, *name = req->name, *mime = req->mime;
	int64_t size = req->size;
	struct vm_link *target = NULL;
	if (req->is_auto == (vm != NULL)) {
		*error = strdup("give either \"vm\" or \"auto\":true");
		return NULL;
	}
	if (vm != NULL && (target = server_find_vm(server, vm)) == NULL) {
		*error = text_printf("no VM named '%s'", vm);
		return NULL;
	}
	if ((url != NULL) == (name != NULL)) {
		*error = strdup("give either \"url\" or \"name\", \"mime\" and \"size\"");
		return NULL;
	}
	if (url != NULL) {
		char scheme[OPEN_POLICY_SCHEME_MAX + 1], host[OPEN_POLICY_HOST_MAX + 1];
		if (!open_policy_check_url(router->policy, url, scheme, host, error)) {
			return NULL; /* *error NULL: out of memory */
		}
	} else {
		if (!valid_name(name)) {
			*error = strdup("bad file name");
			return NULL;
		}
		if (mime == NULL || mime[0] == '\0' || strlen(mime) > VTP_MAX_MIME ||
			vtp_check_display_string((const uint8_t *)mime, strlen(mime)) != VTP_OK) {
			*error = strdup("missing or bad \"mime\"");
			return NULL;
		}
		if (size < 0) {
			*error = strdup("missing \"size\"");
			return NULL;
		}
		if ((uint64_t)size > router->policy->max_file_bytes) {
			*error = text_printf("the file is larger than the limit of %" PRIu64
					     " bytes",
				router->policy->max_file_bytes);
			return NULL;
		}
	}
	if (router->n_transfers >= OPEN_MAX_TRANSFERS ||
		count_from(router, NULL, true) >= OPEN_MAX_PER_SOURCE) {
		*error = strdup("too many open requests at once");
		return NULL;
	}

	struct transfer *t = transfer_create(router);
	struct open_host_source *ctl = calloc(1, sizeof(*ctl));
	if (t == NULL || ctl == NULL || (url != NULL && (t->url = strdup(url)) == NULL)) {
		free(ctl);
		if (t != NULL) {
			transfer_destroy(t);
		}
		*error = strdup("out of memory");
		return NULL;
	}
	ctl->transfer = t;
	ctl->fd = -1;
	t->ctl = ctl;
	t->from_host = true;
	snprintf(t->source_name, sizeof(t->source_name), "%s", OPEN_SOURCE_HOST);
	t->fixed_target = target != NULL;
	t->target = target;
	t->is_url = url != NULL;
	if (!t->is_url) {
		snprintf(t->name, sizeof(t->name), "%s", name);
		snprintf(t->mime, sizeof(t->mime), "%s", mime);
		t->size = (uint64_t)size;
		ctl->remaining = t->size;
		sha256_init(&ctl->sha);
	}
	return ctl;
}

void open_host_abandon(struct open_host_source *ctl)
{
	if (ctl != NULL) {
		transfer_destroy(ctl->transfer);
	}
}

void open_host_start(struct open_host_source *ctl, int fd, const char *rest, size_t rest_len,
	open_host_done_fn done, void *data)
{
	struct transfer *t = ctl->transfer;
	struct server *server = t->router->server;
	ctl->fd = fd;
	ctl->done = done;
	ctl->data = data;
	/* from here, every answer goes through done */
	if (rest_len > ctl->remaining) {
		finish(t, VTP_RESULT_FAILED, NULL, "more data than the announced size");
		return;
	}
	ctl->source = wl_event_loop_add_fd(server->loop, ctl->fd, 0, handle_ctl_fd, t);
	if (ctl->source == NULL) {
		finish(t, VTP_RESULT_FAILED, NULL, "out of resources");
		return;
	}
	if (!t->is_url) {
		if (rest_len > 0) {
			sha256_update(&ctl->sha, rest_len, (const uint8_t *)rest);
			ctl->remaining -= rest_len;
			if (!add_data(t, (const uint8_t *)rest, rest_len)) {
				return;
			}
		}
		if (ctl->remaining == 0) {
			sha256_digest(&ctl->sha, SHA256_DIGEST_SIZE, t->sha256);
			t->source_ended = true;
		}
	}
	update_ctl_mask(t);
	route(t);
}

/* ---- life cycle ---- */

struct open_router *open_create(struct server *server, char **error)
{
	struct open_router *router = calloc(1, sizeof(*router));
	if (router != NULL) {
		wl_list_init(&router->view_map.link);
	}
	if (router == NULL) {
		*error = strdup("out of memory");
		return NULL;
	}
	router->server = server;
	router->next_id = 1;
	wl_list_init(&router->transfers);
	router->policy = open_policy_create(server->config, error);
	if (router->policy == NULL) {
		free(router);
		return NULL;
	}
	router->watches = calloc(server->n_vm_links + 1, sizeof(*router->watches));
	router->chooser = open_chooser_create(server, router);
	if (router->watches == NULL || router->chooser == NULL) {
		open_destroy(router);
		*error = strdup("out of memory");
		return NULL;
	}
	for (size_t i = 0; i < server->n_vm_links; i++) {
		struct link_watch *w = &router->watches[i];
		w->router = router;
		w->link = server->vm_links[i];
		w->welcome.notify = handle_welcome;
		wl_signal_add(&vm_link_events(w->link)->welcome, &w->welcome);
		w->disconnect.notify = handle_disconnect;
		wl_signal_add(&vm_link_events(w->link)->disconnect, &w->disconnect);
		w->drain.notify = handle_drain;
		wl_signal_add(&vm_link_events(w->link)->drain, &w->drain);
		router->n_watches++;
	}
	router->view_map.notify = handle_view_map;
	wl_signal_add(&server->events.view_map, &router->view_map);
	/* while shown, the chooser takes every key and the clicks on its panel */
	router->grab = (struct seat_grab){ .key = grab_key, .button = grab_button, .data = router };
	seat_set_grab(server->seat, &router->grab);
	wlr_log(WLR_INFO, "open policy: %zu rule%s%s, files up to %" PRIu64 " bytes",
		router->policy->n_rules, router->policy->n_rules == 1 ? "" : "s",
		router->policy->builtin ? " (built-in: ask)" : "", router->policy->max_file_bytes);
	return router;
}

void open_destroy(struct open_router *router)
{
	if (router == NULL) {
		return;
	}
	/* the chooser first: no question may come back while we finish */
	struct transfer *t, *tmp;
	wl_list_for_each(t, &router->transfers, link) {
		t->asking = false;
	}
	open_chooser_destroy(router->chooser);
	router->chooser = NULL;
	wl_list_for_each_safe(t, tmp, &router->transfers, link) {
		t->disposable = false;
		finish(t, VTP_RESULT_FAILED, NULL, "vitrail is exiting");
	}
	for (size_t i = 0; i < router->n_watches; i++) {
		struct link_watch *w = &router->watches[i];
		wl_list_remove(&w->welcome.link);
		wl_list_remove(&w->disconnect.link);
		wl_list_remove(&w->drain.link);
		loop_source_remove(&w->dispose_timer);
	}
	wl_list_remove(&router->view_map.link);
	if (router->server->seat != NULL && router->server->seat->grab == &router->grab) {
		seat_set_grab(router->server->seat, NULL);
	}
	free(router->watches);
	open_policy_destroy(router->policy);
	free(router);
}

bool open_handle_message(
	struct open_router *router, struct vm_link *link, const struct vtp_msg *msg)
{
	handle_message(router, link, msg);
	return vm_link_connected(link);
}
