/*
 * A pasted text and the apps reading it: shared by the host's inter-VM
 * clipboard (compositor/clipboard.c) and the agent's (guest-agent/clipboard.c).
 * Each reader gets its own non-blocking writer with a deadline; the number
 * of readers at once is bounded.
 */
#ifndef VITRAIL_CLIP_TEXT_H
#define VITRAIL_CLIP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_primary_selection.h>

/* A reference-counted text. */
struct clip_text {
	unsigned int refs;
	uint8_t *bytes;
	size_t len;
};

/* Takes bytes (malloc'd) on success; NULL when out of memory. */
struct clip_text *clip_text_create(uint8_t *bytes, size_t len);
struct clip_text *clip_text_ref(struct clip_text *text);
/* Accepts NULL. */
void clip_text_unref(struct clip_text *text);

/* Grow *buf (capacity *cap) to hold want bytes, by doubling from 4 KiB,
 * never beyond limit (the text's cap). false when out of memory. */
bool clip_text_reserve(uint8_t **buf, size_t *cap, size_t want, size_t limit);
/* Read what fd (non-blocking) has into *buf (*len bytes in it, grown by
 * clip_text_reserve up to limit): 1 at its end or once limit bytes are in,
 * 0 when it would block, -1 on an error (errno; ENOMEM: out of memory). */
int clip_text_read(int fd, uint8_t **buf, size_t *len, size_t *cap, size_t limit);
/* The best text MIME type a selection offers (UTF-8 first), or NULL. */
const char *clip_text_pick_mime_type(const struct wl_array *mime_types);

struct clip_text_writers {
	struct wl_event_loop *loop;
	struct wl_list writers; /* struct writer.link, in clip_text.c */
	size_t n, max;
	int timeout_ms;
};

void clip_text_writers_init(
	struct clip_text_writers *writers, struct wl_event_loop *loop, size_t max, int timeout_ms);
/* Ends every writer still running. */
void clip_text_writers_finish(struct clip_text_writers *writers);
/* Write text to fd (a reader's pipe, taken and closed when done, on error,
 * after the deadline, or at once when too many readers are served or
 * writers is NULL). */
void clip_text_serve(struct clip_text_writers *writers, struct clip_text *text, int fd);

/*
 * A selection offering a text as text/plain;charset=utf-8, text/plain and
 * UTF8_STRING: the clipboard (base.data) or, primary, the primary
 * selection (base.primary: middle-click, Shift+Insert); each reader is
 * served through writers. *owner points at it while it is the owner's
 * selection and is cleared when the seat destroys it.
 */
struct clip_text_source {
	union {
		struct wlr_data_source data;
		struct wlr_primary_selection_source primary;
	} base;
	struct clip_text_writers *writers; /* NULL once the owner is gone */
	struct clip_text_source **owner;
	struct clip_text *text;
};

/* Takes a reference to text. NULL when out of memory. */
struct clip_text_source *clip_text_source_create(struct clip_text_writers *writers,
	struct clip_text *text, bool primary, struct clip_text_source **owner);
/* The owner goes away while the source may still be the selection: it
 * stops serving readers. Accepts NULL. */
void clip_text_source_orphan(struct clip_text_source *source);

#endif
