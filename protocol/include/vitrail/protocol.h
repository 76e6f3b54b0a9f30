/*
 * vitrail wire protocol, version 1.
 *
 * The normative description is protocol/README.md. This header pins the
 * wire layout: every message is a 12-byte header followed by a fixed body
 * (one struct per type, pinned by _Static_assert) and, for some types, a
 * variable tail whose length is header.size - sizeof(header) - sizeof(body).
 * All integers are little-endian; the library refuses to build on a
 * big-endian host rather than byte-swap.
 *
 * Names: the library's functions are vtp_<file>_<verb>; "G2H" marks a
 * message a guest sends to the host, "H2G" the reverse, "BOTH" either.
 */
#ifndef VITRAIL_PROTOCOL_H
#define VITRAIL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vitrail's wire structs are little-endian; this host is not"
#endif

#define VTP_VERSION_MIN 1
#define VTP_VERSION_MAX \
	5 /* 2: notifications; 3: idle inhibitors; 4: buffer scale; 5: service VMs \
	     (README section 10) */

/* ---- limits (every number from a guest has one) ---- */
#define VTP_MSG_MAX (1u << 20) /* whole message, header included */
#define VTP_MAX_DIM 8192u /* window/buffer width or height */
#define VTP_MAX_SCALE 4u /* buffer, cursor and window scale: 1..VTP_MAX_SCALE (version 4) */
#define VTP_MAX_WINDOWS 64u /* live windows per VM */
#define VTP_MAX_BUFFERS_PER_WINDOW 4u /* attached, not yet released */
#define VTP_MAX_TITLE 1024u /* bytes of UTF-8 */
#define VTP_MAX_APP_ID 256u
#define VTP_MAX_NAME 64u /* software name in HELLO, VM name */
#define VTP_MAX_ERROR_TEXT 512u
/* service VMs (version 5, README section 5.10) */
#define VTP_MAX_NET_LINKS 16u /* client links of one service VM */
#define VTP_MAX_FW_RULES 64u /* firewall rules of one link */
#define VTP_MAX_FW_HOST 253u /* host name in a rule */
#define VTP_MAX_NET_CONFIG (300u * 1024u) /* NET_CONFIG tail */
#define VTP_MAX_DAMAGE_RECTS 64u /* per DAMAGE message */
#define VTP_MAX_CURSOR_DIM 64u
#define VTP_MAX_KEYMAP (512u * 1024u)
#define VTP_MAX_CHUNK (64u * 1024u) /* clipboard/file/icon data per message */
#define VTP_MAX_CLIPBOARD (16u * 1024u * 1024u) /* hard cap; config may lower */
#define VTP_MAX_URL 4096u
#define VTP_MAX_FILE_NAME 255u
#define VTP_MAX_MIME 255u
#define VTP_MAX_FILE_SIZE (64ull * 1024 * 1024 * 1024) /* 64 GiB; config lowers */
#define VTP_MAX_APPS 1024u
#define VTP_MAX_APP_FIELD 1024u /* each string in APP_INFO */
#define VTP_MAX_APP_INFO 8192u /* whole APP_INFO tail */
/* One app list as the host holds it: each APP_INFO tail + 1, each APP_ICON
 * tail (its pixels), summed from APP_LIST_BEGIN to APP_LIST_END. */
#define VTP_MAX_APP_LIST_BYTES (16u << 20)
#define VTP_MAX_DESKTOP_ID 255u
#define VTP_MAX_ARGV_BYTES (64u * 1024u)
#define VTP_MAX_ARGC 256u
#define VTP_MAX_POOL_SIZE (1ull << 32) /* 4 GiB */
#define VTP_BUFFER_ALIGN 64u /* pool offsets of buffers */
#define VTP_MAX_NOTIFY_SUMMARY 256u /* bytes of UTF-8 */
#define VTP_MAX_NOTIFY_BODY 2048u
#define VTP_MAX_NOTIFY_APP_NAME 64u
#define VTP_MAX_NOTIFY_ICON 64u /* icon width and height */
#define VTP_MAX_NOTIFY_TIMEOUT 600000 /* ms */

/* ---- header ---- */
struct vtp_header {
	uint16_t type; /* enum vtp_type */
	uint16_t flags; /* must be 0 in v1 */
	uint32_t size; /* whole message in bytes, header included */
	uint32_t object; /* window id for window messages, else 0 */
};
_Static_assert(sizeof(struct vtp_header) == 12, "header layout");

enum vtp_type {
	/* connection */
	VTP_HELLO = 1, /* G2H first message */
	VTP_WELCOME = 2, /* H2G answer; pool fd rides on it locally */
	VTP_PING = 3, /* BOTH */
	VTP_PONG = 4, /* BOTH */
	VTP_ERROR = 5, /* BOTH, sender then closes */
	VTP_OUTPUT_INFO = 6, /* H2G */

	/* windows, object = window id (guest-chosen, non-zero) */
	VTP_WINDOW_CREATE = 16, /* G2H */
	VTP_WINDOW_DESTROY = 17, /* G2H */
	VTP_SET_TITLE = 18, /* G2H */
	VTP_SET_APP_ID = 19, /* G2H */
	VTP_SET_SIZE_HINTS = 20, /* G2H */
	VTP_CONFIGURE = 21, /* H2G */
	VTP_ACK_CONFIGURE = 22, /* G2H */
	VTP_CLOSE = 23, /* H2G */
	VTP_MOVE_REQUEST = 24, /* G2H */
	VTP_RESIZE_REQUEST = 25, /* G2H */
	VTP_SET_MAXIMIZED = 26, /* G2H */
	VTP_SET_FULLSCREEN = 27, /* G2H */
	VTP_POPUP_DONE = 28, /* H2G: dismiss a popup */
	VTP_WINDOW_SCALE = 29, /* H2G (version 4): the scale of the window's output */

	/* buffers, object = window id */
	VTP_ATTACH = 32, /* G2H */
	VTP_DAMAGE = 33, /* G2H */
	VTP_COMMIT = 34, /* G2H */
	VTP_FRAME_DONE = 35, /* H2G */
	VTP_RELEASE = 36, /* H2G */
	VTP_SET_CURSOR = 37, /* G2H */

	/* input, H2G; object = window id, except KEYMAP and REPEAT_INFO (0) */
	VTP_POINTER_ENTER = 48,
	VTP_POINTER_LEAVE = 49,
	VTP_POINTER_MOTION = 50,
	VTP_POINTER_BUTTON = 51,
	VTP_POINTER_AXIS = 52,
	VTP_KEYMAP = 53,
	VTP_KEYBOARD_ENTER = 54,
	VTP_KEYBOARD_LEAVE = 55,
	VTP_KEY = 56,
	VTP_MODIFIERS = 57,
	VTP_REPEAT_INFO = 58,

	/* clipboard */
	VTP_CLIPBOARD_REQUEST = 64, /* H2G: send me your selection */
	VTP_CLIPBOARD_DATA = 65, /* G2H: chunks of it */
	VTP_CLIPBOARD_SET = 66, /* H2G: chunks of the new guest selection */

	/* open in VM */
	VTP_OPEN_URL = 80, /* G2H */
	VTP_OPEN_FILE_BEGIN = 81, /* G2H */
	VTP_OPEN_FILE_CHUNK = 82, /* G2H */
	VTP_OPEN_FILE_END = 83, /* G2H */
	VTP_OPEN_RESULT = 84, /* H2G: outcome of an OPEN_* request */
	VTP_DELIVER_URL = 85, /* H2G */
	VTP_DELIVER_FILE_BEGIN = 86, /* H2G */
	VTP_DELIVER_FILE_CHUNK = 87, /* H2G */
	VTP_DELIVER_FILE_END = 88, /* H2G */
	VTP_DELIVER_RESULT = 89, /* G2H */

	/* apps and commands */
	VTP_APPS_REQUEST = 96, /* H2G */
	VTP_APPS_CHANGED = 97, /* G2H: hint; host may send APPS_REQUEST */
	VTP_APP_LIST_BEGIN = 98, /* G2H */
	VTP_APP_INFO = 99, /* G2H */
	VTP_APP_ICON = 100, /* G2H */
	VTP_APP_LIST_END = 101, /* G2H */
	VTP_LAUNCH_APP = 102, /* H2G */
	VTP_RUN = 103, /* H2G */
	VTP_RUN_RESULT = 104, /* G2H */

	/* notifications (version 2) */
	VTP_NOTIFY = 112, /* G2H: show or replace a notification */
	VTP_NOTIFY_CLOSE = 113, /* G2H: the app withdrew it */
	VTP_NOTIFY_CLOSED = 114, /* H2G: it is gone, with a reason */
	VTP_NOTIFY_ACTION = 115, /* H2G: the user activated it ("default") */

	/* session (version 3) */
	VTP_IDLE_INHIBIT = 120, /* G2H: an app of the window keeps the session awake, or not */

	/* service VMs (version 5) */
	VTP_NET_CONFIG = 128, /* H2G: the links and firewall rules a service VM applies */
	VTP_NET_STATUS = 129, /* G2H: what the service VM applied, drop counters */
};

/* ---- bodies ---- */

struct vtp_hello {
	uint32_t version_min;
	uint32_t version_max;
	uint32_t features; /* must be 0 in v1 */
	/* tail: software name, display string, <= VTP_MAX_NAME */
};
_Static_assert(sizeof(struct vtp_hello) == 12, "layout");

enum vtp_pool_kind {
	VTP_POOL_MEMFD = 1, /* a sealed memfd rides on WELCOME (SCM_RIGHTS) */
	VTP_POOL_PCI = 2, /* the guest maps its ivshmem BAR2 */
};

struct vtp_welcome {
	uint32_t version;
	uint32_t pool_kind; /* enum vtp_pool_kind */
	uint64_t pool_size;
	/* tail: VM name as the host knows it, [a-z0-9-], 1..32 */
};
_Static_assert(sizeof(struct vtp_welcome) == 16, "layout");

struct vtp_ping {
	uint32_t serial;
};
_Static_assert(sizeof(struct vtp_ping) == 4, "layout");

enum vtp_error_code {
	VTP_ERR_PROTOCOL = 1, /* a message failed validation */
	VTP_ERR_VERSION = 2, /* no common version */
	VTP_ERR_LIMIT = 3, /* a limit was exceeded */
	VTP_ERR_BUSY = 4, /* another agent already serves this VM */
	VTP_ERR_INTERNAL = 5,
};

struct vtp_error {
	uint32_t code; /* enum vtp_error_code */
	/* tail: reason, display string, <= VTP_MAX_ERROR_TEXT */
};
_Static_assert(sizeof(struct vtp_error) == 4, "layout");

struct vtp_output_info {
	uint32_t width; /* usable area in logical pixels */
	uint32_t height;
	uint32_t scale; /* 1..4 */
	uint32_t refresh_mhz;
};
_Static_assert(sizeof(struct vtp_output_info) == 16, "layout");

enum vtp_window_kind {
	VTP_WINDOW_TOPLEVEL = 1,
	VTP_WINDOW_POPUP = 2,
};

/* Popup placement, same meaning as xdg_positioner's anchor/gravity. */
enum vtp_edge {
	VTP_EDGE_NONE = 0,
	VTP_EDGE_TOP = 1,
	VTP_EDGE_BOTTOM = 2,
	VTP_EDGE_LEFT = 3,
	VTP_EDGE_RIGHT = 4,
	VTP_EDGE_TOP_LEFT = 5,
	VTP_EDGE_BOTTOM_LEFT = 6,
	VTP_EDGE_TOP_RIGHT = 7,
	VTP_EDGE_BOTTOM_RIGHT = 8,
};

struct vtp_window_create {
	uint32_t kind; /* enum vtp_window_kind */
	uint32_t parent; /* popup: parent window id; toplevel: 0 */
	int32_t anchor_x, anchor_y; /* popup: anchor rect in parent-local px */
	uint32_t anchor_width, anchor_height;
	uint32_t anchor; /* enum vtp_edge */
	uint32_t gravity; /* enum vtp_edge */
	int32_t offset_x, offset_y;
	uint32_t width, height; /* 1..VTP_MAX_DIM */
};
_Static_assert(sizeof(struct vtp_window_create) == 48, "layout");

/* SET_TITLE, SET_APP_ID: no body; tail is the string. */

struct vtp_size_hints {
	uint32_t min_width, min_height; /* 0: none */
	uint32_t max_width, max_height; /* 0: none; else >= min */
};
_Static_assert(sizeof(struct vtp_size_hints) == 16, "layout");

enum vtp_window_state {
	VTP_STATE_ACTIVATED = 1u << 0,
	VTP_STATE_MAXIMIZED = 1u << 1,
	VTP_STATE_FULLSCREEN = 1u << 2,
	VTP_STATE_RESIZING = 1u << 3,
};
#define VTP_STATE_ALL 0xfu

struct vtp_configure {
	uint32_t serial;
	uint32_t width, height; /* 0: the guest chooses */
	uint32_t states; /* enum vtp_window_state bits */
};
_Static_assert(sizeof(struct vtp_configure) == 16, "layout");

struct vtp_ack_configure {
	uint32_t serial;
};
_Static_assert(sizeof(struct vtp_ack_configure) == 4, "layout");

/* CLOSE, MOVE_REQUEST, WINDOW_DESTROY, POPUP_DONE: no body. */

enum vtp_resize_edge {
	VTP_RESIZE_TOP = 1,
	VTP_RESIZE_BOTTOM = 2,
	VTP_RESIZE_LEFT = 4,
	VTP_RESIZE_RIGHT = 8,
};

struct vtp_resize_request {
	uint32_t edges; /* non-zero, only enum vtp_resize_edge bits, not both of a pair */
};
_Static_assert(sizeof(struct vtp_resize_request) == 4, "layout");

struct vtp_set_flag {
	uint32_t enable; /* 0 or 1: SET_MAXIMIZED, SET_FULLSCREEN */
};
_Static_assert(sizeof(struct vtp_set_flag) == 4, "layout");

/* DRM fourcc codes; the only two formats in v1. */
#define VTP_FORMAT_ARGB8888 0x34325241u
#define VTP_FORMAT_XRGB8888 0x34325258u

struct vtp_attach {
	uint64_t offset; /* into the pool, multiple of VTP_BUFFER_ALIGN */
	uint32_t buffer_id; /* guest-chosen, echoed by RELEASE */
	uint32_t width, height; /* 1..VTP_MAX_DIM */
	uint32_t stride; /* >= width*4, multiple of 4 */
	uint32_t format; /* VTP_FORMAT_* */
	uint32_t scale; /* version 4: 1..VTP_MAX_SCALE; before: must be 0 (means 1) */
};
_Static_assert(sizeof(struct vtp_attach) == 32, "layout");

/* WINDOW_SCALE (version 4): the integer scale a toplevel should draw at. */
struct vtp_window_scale {
	uint32_t scale; /* 1..VTP_MAX_SCALE */
};
_Static_assert(sizeof(struct vtp_window_scale) == 4, "layout");

struct vtp_rect {
	int32_t x, y;
	int32_t width, height; /* > 0 */
};
_Static_assert(sizeof(struct vtp_rect) == 16, "layout");
/* DAMAGE: no body; tail is 1..VTP_MAX_DAMAGE_RECTS struct vtp_rect in
 * buffer coordinates. */

struct vtp_commit {
	uint32_t serial;
};
_Static_assert(sizeof(struct vtp_commit) == 4, "layout");

struct vtp_frame_done {
	uint64_t time_ns; /* CLOCK_MONOTONIC of presentation */
	uint32_t refresh_ns; /* 0 if unknown */
	uint32_t commit_serial;
};
_Static_assert(sizeof(struct vtp_frame_done) == 16, "layout");

struct vtp_release {
	uint32_t buffer_id;
};
_Static_assert(sizeof(struct vtp_release) == 4, "layout");

struct vtp_set_cursor {
	uint64_t offset; /* pool offset of ARGB8888 pixels */
	uint32_t width, height; /* 0x0: hide; else 1..VTP_MAX_CURSOR_DIM */
	uint32_t stride;
	int32_t hotspot_x, hotspot_y; /* inside the image, in its pixels */
	uint32_t scale; /* version 4: shown 1..VTP_MAX_SCALE, hidden 0; before: 0 */
};
_Static_assert(sizeof(struct vtp_set_cursor) == 32, "layout");

/* Pointer coordinates are wl_fixed_t (24.8), surface-local. */
struct vtp_pointer_enter {
	uint32_t serial;
	int32_t x, y;
};
_Static_assert(sizeof(struct vtp_pointer_enter) == 12, "layout");

struct vtp_pointer_leave {
	uint32_t serial;
};
_Static_assert(sizeof(struct vtp_pointer_leave) == 4, "layout");

struct vtp_pointer_motion {
	uint32_t time_ms;
	int32_t x, y;
};
_Static_assert(sizeof(struct vtp_pointer_motion) == 12, "layout");

struct vtp_pointer_button {
	uint32_t serial;
	uint32_t time_ms;
	uint32_t button; /* linux input code, BTN_LEFT.. */
	uint32_t state; /* 0 released, 1 pressed */
};
_Static_assert(sizeof(struct vtp_pointer_button) == 16, "layout");

struct vtp_pointer_axis {
	uint32_t time_ms;
	uint32_t axis; /* 0 vertical, 1 horizontal */
	int32_t value; /* wl_fixed_t */
	int32_t discrete;
	uint32_t source; /* wl_pointer axis_source */
};
_Static_assert(sizeof(struct vtp_pointer_axis) == 20, "layout");

struct vtp_keymap {
	uint32_t format; /* 1: xkb v1 text */
	/* tail: keymap text, no NUL, <= VTP_MAX_KEYMAP */
};
_Static_assert(sizeof(struct vtp_keymap) == 4, "layout");

struct vtp_keyboard_enter {
	uint32_t serial;
};
_Static_assert(sizeof(struct vtp_keyboard_enter) == 4, "layout");

struct vtp_key {
	uint32_t serial;
	uint32_t time_ms;
	uint32_t key; /* evdev code */
	uint32_t state; /* 0 released, 1 pressed */
};
_Static_assert(sizeof(struct vtp_key) == 16, "layout");

struct vtp_modifiers {
	uint32_t serial;
	uint32_t depressed, latched, locked, group;
};
_Static_assert(sizeof(struct vtp_modifiers) == 20, "layout");

struct vtp_repeat_info {
	int32_t rate; /* 0..1000 per second */
	int32_t delay; /* 0..10000 ms */
};
_Static_assert(sizeof(struct vtp_repeat_info) == 8, "layout");

struct vtp_clipboard_request {
	uint32_t serial;
	uint32_t max_bytes; /* what the host will accept in total */
};
_Static_assert(sizeof(struct vtp_clipboard_request) == 8, "layout");

enum vtp_chunk_flags {
	VTP_CHUNK_LAST = 1u << 0, /* last chunk of this transfer */
	VTP_CHUNK_EMPTY = 1u << 1, /* clipboard: nothing (text) selected; with LAST, no tail */
};

struct vtp_clipboard_data {
	uint32_t serial; /* DATA: the request's; SET: the host's */
	uint32_t flags; /* enum vtp_chunk_flags */
	/* tail: 0..VTP_MAX_CHUNK bytes of text/plain;charset=utf-8 */
};
_Static_assert(sizeof(struct vtp_clipboard_data) == 8, "layout");

struct vtp_open_url {
	uint32_t request_id;
	/* tail: URL, printable ASCII, <= VTP_MAX_URL */
};
_Static_assert(sizeof(struct vtp_open_url) == 4, "layout");

struct vtp_file_begin {
	uint32_t request_id;
	uint32_t reserved; /* must be 0 */
	uint64_t size; /* <= VTP_MAX_FILE_SIZE */
	/* tail: "name\0mime\0source" (exactly two NUL separators, no NUL at
	 * the end), each part a display string, name 1..VTP_MAX_FILE_NAME
	 * without '/' and not "." or "..", mime 1..VTP_MAX_MIME; source is
	 * the source VM name for DELIVER_FILE_BEGIN and empty for OPEN. */
};
_Static_assert(sizeof(struct vtp_file_begin) == 16, "layout");

struct vtp_file_chunk {
	uint32_t request_id;
	/* tail: 1..VTP_MAX_CHUNK bytes */
};
_Static_assert(sizeof(struct vtp_file_chunk) == 4, "layout");

struct vtp_file_end {
	uint32_t request_id;
	uint8_t sha256[32];
};
_Static_assert(sizeof(struct vtp_file_end) == 36, "layout");

enum vtp_result_code {
	VTP_RESULT_OK = 0,
	VTP_RESULT_DENIED = 1,
	VTP_RESULT_FAILED = 2,
	VTP_RESULT_NO_TARGET = 3,
	VTP_RESULT_TOO_LARGE = 4,
	VTP_RESULT_BAD_CHECKSUM = 5,
	VTP_RESULT_CANCELLED = 6,
};

struct vtp_result {
	uint32_t request_id;
	uint32_t code; /* enum vtp_result_code */
	/* tail: human message, display string, <= VTP_MAX_ERROR_TEXT */
};
_Static_assert(sizeof(struct vtp_result) == 8, "layout");

/* DELIVER_URL: same layout as OPEN_URL; tail "url\0source" (one NUL
 * separator, no NUL at the end), source the source VM name. */

struct vtp_apps_request {
	uint32_t serial;
};
_Static_assert(sizeof(struct vtp_apps_request) == 4, "layout");

struct vtp_app_list_begin {
	uint32_t serial;
	uint32_t count; /* <= VTP_MAX_APPS */
};
_Static_assert(sizeof(struct vtp_app_list_begin) == 8, "layout");

struct vtp_app_info {
	uint32_t index; /* < count */
	/* tail: six NUL-terminated display strings: desktop id, Name,
	 * GenericName, Comment, Categories, MimeType (';'-lists as in the
	 * desktop entry), each <= VTP_MAX_APP_FIELD; id as vtp_valid_desktop_id
	 * says; Name non-empty. */
};
_Static_assert(sizeof(struct vtp_app_info) == 4, "layout");

struct vtp_app_icon {
	uint32_t index;
	uint32_t size; /* 48 or 96; tail is exactly size*size*4 RGBA bytes */
};
_Static_assert(sizeof(struct vtp_app_icon) == 8, "layout");

struct vtp_app_list_end {
	uint32_t serial;
};
_Static_assert(sizeof(struct vtp_app_list_end) == 4, "layout");

struct vtp_launch {
	uint32_t request_id;
	/* LAUNCH_APP tail: desktop id (rules as in APP_INFO).
	 * RUN tail: argv as 1..VTP_MAX_ARGC NUL-terminated strings,
	 * <= VTP_MAX_ARGV_BYTES in all, argv[0] non-empty. */
};
_Static_assert(sizeof(struct vtp_launch) == 4, "layout");

enum vtp_run_status_kind {
	VTP_RUN_EXITED = 0, /* status = exit code */
	VTP_RUN_SIGNALED = 1, /* status = signal number */
	VTP_RUN_FAILED = 2, /* could not start; status = errno */
	VTP_RUN_STARTED = 3, /* LAUNCH_APP: started, not waited for */
};

struct vtp_run_result {
	uint32_t request_id;
	uint32_t kind; /* enum vtp_run_status_kind */
	int32_t status;
};
_Static_assert(sizeof(struct vtp_run_result) == 12, "layout");

enum vtp_notify_urgency {
	VTP_URGENCY_LOW = 0,
	VTP_URGENCY_NORMAL = 1,
	VTP_URGENCY_CRITICAL = 2,
};

struct vtp_notify {
	uint32_t id; /* guest-chosen, non-zero; same id replaces */
	uint32_t urgency; /* enum vtp_notify_urgency */
	int32_t expire_timeout; /* ms: -1 default, 0 never, 1..VTP_MAX_NOTIFY_TIMEOUT */
	uint16_t summary_len; /* <= VTP_MAX_NOTIFY_SUMMARY */
	uint16_t body_len; /* <= VTP_MAX_NOTIFY_BODY */
	uint16_t app_name_len; /* <= VTP_MAX_NOTIFY_APP_NAME */
	uint16_t reserved; /* 0 */
	uint16_t icon_width; /* 0 (no icon) or 1..VTP_MAX_NOTIFY_ICON */
	uint16_t icon_height; /* 0 iff icon_width is 0 */
	/* tail, no separators: summary, body, app name (display strings of
	 * the lengths above), then icon_width*icon_height*4 bytes of RGBA.
	 * The tail is exactly that long. */
};
_Static_assert(sizeof(struct vtp_notify) == 24, "layout");

enum vtp_notify_reason { /* as org.freedesktop.Notifications */
	VTP_NOTIFY_EXPIRED = 1,
	VTP_NOTIFY_DISMISSED = 2,
	VTP_NOTIFY_CLOSED_BY_CALL = 3,
	VTP_NOTIFY_UNDEFINED = 4,
};

struct vtp_notify_id { /* NOTIFY_CLOSE, NOTIFY_ACTION */
	uint32_t id; /* non-zero */
};
_Static_assert(sizeof(struct vtp_notify_id) == 4, "layout");

struct vtp_notify_closed {
	uint32_t id; /* non-zero */
	uint32_t reason; /* enum vtp_notify_reason */
};
_Static_assert(sizeof(struct vtp_notify_closed) == 8, "layout");

struct vtp_idle_inhibit { /* IDLE_INHIBIT */
	uint32_t inhibit; /* 1: inhibit, 0: no more */
};
_Static_assert(sizeof(struct vtp_idle_inhibit) == 4, "layout");

/* NET_CONFIG (version 5): tail = the configuration as text (section 5.10),
 * checked by vtp_net_config_check. */
struct vtp_net_config {
	uint32_t generation; /* the host's counter; NET_STATUS echoes it */
};
_Static_assert(sizeof(struct vtp_net_config) == 4, "layout");

enum vtp_net_state {
	VTP_NET_APPLIED = 0,
	VTP_NET_FAILED = 1, /* the service VM could not apply it */
};

struct vtp_net_status { /* NET_STATUS */
	uint32_t generation; /* of the NET_CONFIG this is about */
	uint32_t state; /* enum vtp_net_state */
	uint32_t count; /* records in the tail, <= VTP_MAX_NET_LINKS */
	/* tail: count * struct vtp_net_counter */
};
_Static_assert(sizeof(struct vtp_net_status) == 12, "layout");

struct vtp_net_counter {
	uint32_t link; /* 1..254, a link of the NET_CONFIG */
	uint32_t reserved; /* 0 */
	uint64_t packets; /* dropped by the link's rules */
	uint64_t bytes;
};
_Static_assert(sizeof(struct vtp_net_counter) == 24, "layout");

/* ---- decoding ---- */

enum vtp_side {
	VTP_SIDE_HOST, /* decoding what a guest sent */
	VTP_SIDE_GUEST, /* decoding what the host sent */
};

enum vtp_status {
	VTP_OK = 0,
	VTP_E_SHORT, /* fewer bytes than the header or its size says */
	VTP_E_TOO_LONG, /* size > VTP_MSG_MAX */
	VTP_E_UNKNOWN_TYPE, /* no such type, or not for this direction */
	VTP_E_BAD_SIZE, /* body/tail length wrong for the type */
	VTP_E_FLAGS, /* header flags or a reserved field not 0 */
	VTP_E_OBJECT, /* object id 0 where a window is needed, or set where not */
	VTP_E_TAIL_TOO_LONG, /* a string/data tail above its maximum */
	VTP_E_UTF8, /* a display string is not valid UTF-8 */
	VTP_E_CONTROL_CHAR, /* a display string holds a control character */
	VTP_E_BAD_VALUE, /* an enum/flag/range value is invalid */
	VTP_E_DIMENSIONS, /* zero or absurd width/height */
	VTP_E_OVERFLOW, /* arithmetic on the values would overflow */
	VTP_E_STRIDE, /* stride below width*4 or misaligned */
	VTP_E_OUT_OF_POOL, /* buffer not wholly inside the pool */
	VTP_E_ALIGN, /* offset not aligned */
	VTP_E_NOMEM,
	VTP_E_IO, /* read/write failed or peer closed */
};

/* Human-readable name of a status, for logs. Never NULL. */
const char *vtp_status_str(enum vtp_status status);
/* Name of a message type ("ATTACH"), or "unknown". */
const char *vtp_type_name(uint16_t type);

/*
 * A decoded message. Everything is copied out of the input; tail is a
 * heap copy with a NUL after tail_len bytes (so string tails can be used
 * as C strings), or NULL when tail_len is 0. Release with vtp_msg_finish.
 */
struct vtp_msg {
	struct vtp_header header;
	union {
		struct vtp_hello hello;
		struct vtp_welcome welcome;
		struct vtp_ping ping; /* PING and PONG */
		struct vtp_error error;
		struct vtp_output_info output_info;
		struct vtp_window_create window_create;
		struct vtp_size_hints size_hints;
		struct vtp_configure configure;
		struct vtp_ack_configure ack_configure;
		struct vtp_resize_request resize_request;
		struct vtp_set_flag set_flag;
		struct vtp_attach attach;
		struct vtp_window_scale window_scale;
		struct vtp_commit commit;
		struct vtp_frame_done frame_done;
		struct vtp_release release;
		struct vtp_set_cursor set_cursor;
		struct vtp_pointer_enter pointer_enter;
		struct vtp_pointer_leave pointer_leave;
		struct vtp_pointer_motion pointer_motion;
		struct vtp_pointer_button pointer_button;
		struct vtp_pointer_axis pointer_axis;
		struct vtp_keymap keymap;
		struct vtp_keyboard_enter keyboard_enter; /* and KEYBOARD_LEAVE */
		struct vtp_key key;
		struct vtp_modifiers modifiers;
		struct vtp_repeat_info repeat_info;
		struct vtp_clipboard_request clipboard_request;
		struct vtp_clipboard_data clipboard_data; /* DATA and SET */
		struct vtp_open_url open_url; /* OPEN_URL, DELIVER_URL */
		struct vtp_file_begin file_begin; /* OPEN_/DELIVER_FILE_BEGIN */
		struct vtp_file_chunk file_chunk;
		struct vtp_file_end file_end;
		struct vtp_result result; /* OPEN_RESULT, DELIVER_RESULT */
		struct vtp_apps_request apps_request;
		struct vtp_app_list_begin app_list_begin;
		struct vtp_app_info app_info;
		struct vtp_app_icon app_icon;
		struct vtp_app_list_end app_list_end;
		struct vtp_launch launch; /* LAUNCH_APP, RUN */
		struct vtp_run_result run_result;
		struct vtp_notify notify;
		struct vtp_notify_id notify_id; /* NOTIFY_CLOSE, NOTIFY_ACTION */
		struct vtp_notify_closed notify_closed;
		struct vtp_idle_inhibit idle_inhibit;
		struct vtp_net_config net_config;
		struct vtp_net_status net_status;
		uint8_t raw[48];
	} body;
	uint8_t *tail;
	uint32_t tail_len;
	/* DAMAGE: tail viewed as rects (tail_len / 16 of them) */
	const struct vtp_rect *rects;
	uint32_t n_rects;
};

/*
 * Context of the receiving side. pool_size is the size of the VM's pool
 * (0 before WELCOME): ATTACH and SET_CURSOR are checked against it.
 */
struct vtp_decoder {
	enum vtp_side side;
	uint64_t pool_size;
	/* Negotiated protocol version (0 before WELCOME counts as 1): types of
	 * a later version are VTP_E_UNKNOWN_TYPE. */
	uint32_t version;
};

/*
 * Decode exactly one message from buf[0..len). len must equal the
 * header's size field (vtp_stream hands out whole messages). On VTP_OK
 * *msg owns its tail; on error *msg holds nothing to free.
 */
enum vtp_status vtp_msg_decode(
	const struct vtp_decoder *dec, const uint8_t *buf, size_t len, struct vtp_msg *msg);
void vtp_msg_finish(struct vtp_msg *msg);

/*
 * Encode a message into out (capacity out_cap). body must point at the
 * body struct for type (or be NULL for types without one); tail may be
 * NULL when tail_len is 0. Returns the encoded size, or 0 when it does not
 * fit or is larger than VTP_MSG_MAX. The encoder does not validate; the
 * receiver does.
 */
size_t vtp_msg_encode(uint8_t *out, size_t out_cap, uint16_t type, uint32_t object,
	const void *body, const void *tail, uint32_t tail_len);
/* Size of the fixed body of a type; -1 for an unknown type. */
int vtp_body_size(uint16_t type);

/* ---- validation helpers, shared by both sides ---- */

/* Decode one strict UTF-8 sequence (no overlongs, no surrogates, <=
 * U+10FFFF) at s[0..len): its length 1..4 with the code point in *cp, or 0
 * when s does not start with a valid sequence (or len is 0). The one UTF-8
 * decoder of vitrail: host and agent code use it too. */
size_t vtp_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);
/* Valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF) with no C0/C1
 * control characters and no DEL. */
enum vtp_status vtp_check_display_string(const uint8_t *s, size_t len);
/* Host check that a buffer (stride * height bytes from offset) lies inside
 * the pool, computed without overflow. */
enum vtp_status vtp_pool_check_buffer(
	uint64_t pool_size, uint64_t offset, uint32_t width, uint32_t height, uint32_t stride);
/* A VM name: [a-z0-9-], 1..32. */
bool vtp_valid_vm_name(const char *name);
/* A desktop id (APP_INFO, LAUNCH_APP): 1..VTP_MAX_DESKTOP_ID bytes of
 * [A-Za-z0-9._-], ".desktop" at the end with something before it, no
 * leading '.' or '-', no "..". It becomes a host file name and an argv
 * element. The n bytes at id, which may hold a NUL (then invalid). */
bool vtp_valid_desktop_id(const char *id, size_t n);
/* A MIME type name (RFC 6838 restricted names): type "/" subtype, each
 * 1..127 bytes of [A-Za-z0-9!#$&^_.+-] starting with a letter or digit. */
bool vtp_valid_mime_type(const char *s, size_t n);
/* A file name a guest sends (OPEN_FILE_BEGIN, DELIVER_FILE_BEGIN):
 * 1..VTP_MAX_FILE_NAME bytes, a display string, no '/', not "." or "..". */
bool vtp_valid_file_name(const char *name, size_t n);

/* ---- service VMs (net.c; README section 5.10) ---- */

enum vtp_fw_proto {
	VTP_FW_ANY = 0,
	VTP_FW_TCP = 6,
	VTP_FW_UDP = 17,
};

/* One firewall rule, "HOST[:PORT][/PROTO]". */
struct vtp_fw_rule {
	char host[VTP_MAX_FW_HOST + 1]; /* as written: an address, ADDR/PREFIX or a name */
	bool is_name; /* a host name (resolved in the service VM), else IPv4 */
	uint8_t addr[4]; /* IPv4, when !is_name */
	uint8_t prefix; /* 0..32; 32 for a single address */
	uint16_t port; /* 1..65535; 0: every port */
	uint8_t proto; /* enum vtp_fw_proto */
};
/*
 * Parse s[0..n): HOST is a dotted IPv4 address (no leading zeros), an
 * address with "/PREFIX" (0..32, host bits zero), or a host name (1..253
 * bytes, labels of 1..63 [a-z0-9-] not starting or ending with '-', the
 * last one not all digits); PORT 1..65535 without leading zeros; PROTO
 * "tcp" or "udp". A PORT without PROTO means tcp and udp. false if it is
 * not one.
 */
bool vtp_fw_rule_parse(const char *s, size_t n, struct vtp_fw_rule *out);
/* The text of a NET_CONFIG (section 5.10), every line and limit. */
enum vtp_status vtp_net_config_check(const uint8_t *t, size_t n);

/* ---- showing untrusted text (sanitize.c; README section 9) ---- */

/*
 * Write a display-safe copy of untrusted[0..len) (NULL: empty) into out
 * (capacity out_cap; NUL-terminated when out_cap >= 1) with at most
 * max_bytes bytes of text, cut on a code point boundary. Each byte that
 * does not start a valid UTF-8 sequence becomes U+FFFD; tab, LF and CR
 * become a space; other C0 (NUL too), DEL and C1 become U+FFFD; Unicode
 * format characters (Cf), default-ignorable code points and U+2028/U+2029
 * are dropped. The result always passes vtp_check_display_string. Returns
 * its length without the NUL.
 */
size_t vtp_sanitize_display_string(
	const char *untrusted, size_t len, size_t max_bytes, char *out, size_t out_cap);
/* Whether the sanitizer drops cp (Cf, default-ignorable, U+2028/2029). */
bool vtp_sanitize_is_invisible(uint32_t cp);

/* ---- stream reassembly ---- */

/*
 * A bounded receive buffer: bytes in, whole messages out. Never grows
 * beyond VTP_MSG_MAX.
 */
struct vtp_stream {
	uint8_t *buf;
	size_t start; /* offset of the first held byte in buf */
	size_t len; /* bytes held, from buf + start */
	size_t cap;
	int pending_fd; /* an fd received with SCM_RIGHTS, -1 if none */
};

bool vtp_stream_init(struct vtp_stream *s);
void vtp_stream_finish(struct vtp_stream *s);
/* Append bytes (tests, fuzzing, non-socket transports). Fails with
 * VTP_E_TOO_LONG when they don't fit. */
enum vtp_status vtp_stream_feed(struct vtp_stream *s, const uint8_t *data, size_t len);
/* Read what is available from a non-blocking fd (recvmsg when want_fds,
 * keeping at most one passed fd in pending_fd, closing extra ones).
 * VTP_OK: read something or would block; VTP_E_IO: error or EOF (*eof set
 * on EOF). */
enum vtp_status vtp_stream_read(struct vtp_stream *s, int fd, bool want_fds, bool *eof);
/*
 * Take the next whole message, decoded. Returns VTP_OK with *have = true
 * and *msg filled, VTP_OK with *have = false when more bytes are needed,
 * or an error (the stream is then unusable: disconnect).
 */
enum vtp_status vtp_stream_next(
	struct vtp_stream *s, const struct vtp_decoder *dec, struct vtp_msg *msg, bool *have);

/* ---- bounded non-blocking output queue ---- */

#define VTP_OUTQ_MAX (8u * 1024u * 1024u)

struct vtp_outq {
	uint8_t *buf;
	size_t head, len, cap;
	size_t limit; /* VTP_OUTQ_MAX unless changed */
};

bool vtp_outq_init(struct vtp_outq *q);
void vtp_outq_finish(struct vtp_outq *q);
/* Queue one message; false (and nothing queued) if the queue would exceed
 * its limit: the peer is not reading, disconnect it. */
bool vtp_outq_push(struct vtp_outq *q, uint16_t type, uint32_t object, const void *body,
	const void *tail, uint32_t tail_len);
/* Write as much as the fd takes without blocking. VTP_OK (maybe partial),
 * VTP_E_IO on error. */
enum vtp_status vtp_outq_flush(struct vtp_outq *q, int fd);
static inline bool vtp_outq_empty(const struct vtp_outq *q)
{
	return q->len == 0;
}

/* ---- file descriptors over unix sockets ---- */

/* Send len bytes with one fd attached, never waiting (MSG_DONTWAIT): false if
 * the socket cannot take all of it now. */
bool vtp_scm_send_fd(int sock, const void *data, size_t len, int fd_to_send);

/* ---- shared pool ---- */

/* Host: create a sealed memfd pool of size bytes (seals: shrink, grow,
 * seal). Returns the fd or -1. */
int vtp_pool_memfd_create(const char *name, uint64_t size);
/* Host: the size of fd if it is a pool nobody can shrink, grow or unseal
 * (all three seals set, 1..VTP_MAX_POOL_SIZE bytes), else 0. The host maps
 * only such a pool: a file the other side could truncate would turn the
 * host's reads into SIGBUS. */
uint64_t vtp_pool_sealed_size(int fd);

/*
 * Guest-side allocator of window buffers inside the pool. First fit over
 * a sorted list of free ranges, coalesced on free; offsets aligned to
 * VTP_BUFFER_ALIGN. Metadata lives in guest heap, never in the pool.
 */
struct vtp_alloc_range {
	uint64_t offset, size;
};

struct vtp_alloc {
	uint64_t pool_size;
	struct vtp_alloc_range *free; /* sorted by offset, coalesced */
	size_t n_free, cap_free;
	uint64_t used;
};

bool vtp_alloc_init(struct vtp_alloc *a, uint64_t pool_size);
void vtp_alloc_finish(struct vtp_alloc *a);
/* Returns true and the offset, or false when no range fits. */
bool vtp_alloc_get(struct vtp_alloc *a, uint64_t size, uint64_t *offset);
/* Free a range previously returned (size as requested). */
void vtp_alloc_put(struct vtp_alloc *a, uint64_t offset, uint64_t size);

#endif
