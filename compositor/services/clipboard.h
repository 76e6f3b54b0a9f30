/*
 * The inter-VM clipboard: text crosses from one VM (or the host) to
 * another only when the user presses the copy binding on a window of the
 * source and then the paste binding on a window of the target. It holds
 * one text with its source and time, is checked (size, strict UTF-8)
 * before it is stored, goes through the [clipboard] policy at paste time,
 * and is cleared by the paste. Guests never trigger anything here: only
 * the host's key bindings and vitrailctl do. Logs and notifications name
 * sizes and VMs, never the content.
 */
#ifndef VITRAIL_CLIPBOARD_H
#define VITRAIL_CLIPBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clipboard;
struct server;
struct view;
struct vm_link;
struct vtp_msg;

/* How long a source (a guest agent, a host app) may take to hand over its selection. */
#define CLIPBOARD_COPY_TIMEOUT_MS 5000
#define CLIPBOARD_HOST_READ_TIMEOUT_MS 2000
/* A guest that still has not finished its answer after this long is dropped. */
#define CLIPBOARD_GUEST_DEADLINE_MS 30000
/* Host apps reading a pasted text at the same time. */
#define CLIPBOARD_MAX_WRITERS 16

struct clipboard *clipboard_create(struct server *server);
void clipboard_destroy(struct clipboard *clipboard);

/* The bindings, on the focused window (NULL: none; the user is told). */
void clipboard_copy(struct clipboard *clipboard, struct view *view);
void clipboard_paste(struct clipboard *clipboard, struct view *view);

/* A decoded CLIPBOARD_DATA from a VM. One that answers no request, or
 * brings more than was asked for, fails the link: false then (the message
 * handler contract of every feature). */
bool clipboard_handle_data(
	struct clipboard *clipboard, struct vm_link *link, const struct vtp_msg *msg);

/* What vitrailctl shows: false when empty. source is a VM name or "host". */
bool clipboard_status(
	struct clipboard *clipboard, const char **source, size_t *bytes, uint64_t *age_seconds);
void clipboard_clear(struct clipboard *clipboard);

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF)
 * without NUL bytes. */
bool clipboard_text_valid(const uint8_t *text, size_t len);

#endif
