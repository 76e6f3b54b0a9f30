/*
 * The one strict decoder, and the encoder. Every message passes through
 * vtp_msg_decode: a per-type table gives its direction, body size, tail
 * limits and whether it names a window; a per-type check then validates
 * every field. Nothing is returned that has not been checked.
 */
#include <vitrail/protocol.h>

#include <stdlib.h>
#include <string.h>

enum dir {
	DIR_G2H = 1,
	DIR_H2G = 2,
	DIR_BOTH = 3,
};

struct type_info {
	const char *name;
	uint8_t dir; /* enum dir; 0: no such type */
	uint8_t body; /* body size */
	bool window; /* object is a window id (non-zero); else must be 0 */
	uint32_t tail_min; /* fewer tail bytes: VTP_E_BAD_SIZE */
	uint32_t tail_max; /* more tail bytes: VTP_E_TAIL_TOO_LONG (0 and no tail: BAD_SIZE) */
	uint8_t since; /* protocol version that added it; 0 means 1 */
};

/* TV: a type added in protocol version `since` (0 or 1: version 1); T:
 * a version 1 type. */
#define TV(since_, type, dir_, body_, window_, min_, max_) \
	[type] = { .name = &#type[4], \
		.dir = dir_, \
		.body = body_, \
		.window = window_, \
		.tail_min = min_, \
		.tail_max = max_, \
		.since = since_ }
#define T(...) TV(0, __VA_ARGS__)

/* Worst-case lengths of multi-part tails. */
#define FILE_BEGIN_TAIL_MAX (VTP_MAX_FILE_NAME + 1 + VTP_MAX_MIME + 1 + 32)
#define DELIVER_URL_TAIL_MAX (VTP_MAX_URL + 1 + 32)
#define NOTIFY_TAIL_MAX \
	(VTP_MAX_NOTIFY_SUMMARY + VTP_MAX_NOTIFY_BODY + VTP_MAX_NOTIFY_APP_NAME + \
		VTP_MAX_NOTIFY_ICON * VTP_MAX_NOTIFY_ICON * 4)

static const struct type_info types[] = {
	T(VTP_HELLO, DIR_G2H, 12, false, 0, VTP_MAX_NAME),
	T(VTP_WELCOME, DIR_H2G, 16, false, 1, 32),
	T(VTP_PING, DIR_BOTH, 4, false, 0, 0),
	T(VTP_PONG, DIR_BOTH, 4, false, 0, 0),
	T(VTP_ERROR, DIR_BOTH, 4, false, 0, VTP_MAX_ERROR_TEXT),
	T(VTP_OUTPUT_INFO, DIR_H2G, 16, false, 0, 0),

	T(VTP_WINDOW_CREATE, DIR_G2H, 48, true, 0, 0),
	T(VTP_WINDOW_DESTROY, DIR_G2H, 0, true, 0, 0),
	T(VTP_SET_TITLE, DIR_G2H, 0, true, 0, VTP_MAX_TITLE),
	T(VTP_SET_APP_ID, DIR_G2H, 0, true, 0, VTP_MAX_APP_ID),
	T(VTP_SET_SIZE_HINTS, DIR_G2H, 16, true, 0, 0),
	T(VTP_CONFIGURE, DIR_H2G, 16, true, 0, 0),
	T(VTP_ACK_CONFIGURE, DIR_G2H, 4, true, 0, 0),
	T(VTP_CLOSE, DIR_H2G, 0, true, 0, 0),
	T(VTP_MOVE_REQUEST, DIR_G2H, 0, true, 0, 0),
	T(VTP_RESIZE_REQUEST, DIR_G2H, 4, true, 0, 0),
	T(VTP_SET_MAXIMIZED, DIR_G2H, 4, true, 0, 0),
	T(VTP_SET_FULLSCREEN, DIR_G2H, 4, true, 0, 0),
	T(VTP_POPUP_DONE, DIR_H2G, 0, true, 0, 0),
	TV(4, VTP_WINDOW_SCALE, DIR_H2G, 4, true, 0, 0),

	T(VTP_ATTACH, DIR_G2H, 32, true, 0, 0),
	T(VTP_DAMAGE, DIR_G2H, 0, true, sizeof(struct vtp_rect),
		VTP_MAX_DAMAGE_RECTS * sizeof(struct vtp_rect)),
	T(VTP_COMMIT, DIR_G2H, 4, true, 0, 0),
	T(VTP_FRAME_DONE, DIR_H2G, 16, true, 0, 0),
	T(VTP_RELEASE, DIR_H2G, 4, true, 0, 0),
	T(VTP_SET_CURSOR, DIR_G2H, 32, true, 0, 0),

	T(VTP_POINTER_ENTER, DIR_H2G, 12, true, 0, 0),
	T(VTP_POINTER_LEAVE, DIR_H2G, 4, true, 0, 0),
	T(VTP_POINTER_MOTION, DIR_H2G, 12, true, 0, 0),
	T(VTP_POINTER_BUTTON, DIR_H2G, 16, true, 0, 0),
	T(VTP_POINTER_AXIS, DIR_H2G, 20, true, 0, 0),
	T(VTP_KEYMAP, DIR_H2G, 4, false, 1, VTP_MAX_KEYMAP),
	T(VTP_KEYBOARD_ENTER, DIR_H2G, 4, true, 0, 0),
	T(VTP_KEYBOARD_LEAVE, DIR_H2G, 4, true, 0, 0),
	T(VTP_KEY, DIR_H2G, 16, true, 0, 0),
	T(VTP_MODIFIERS, DIR_H2G, 20, true, 0, 0),
	T(VTP_REPEAT_INFO, DIR_H2G, 8, false, 0, 0),

	T(VTP_CLIPBOARD_REQUEST, DIR_H2G, 8, false, 0, 0),
	T(VTP_CLIPBOARD_DATA, DIR_G2H, 8, false, 0, VTP_MAX_CHUNK),
	T(VTP_CLIPBOARD_SET, DIR_H2G, 8, false, 0, VTP_MAX_CHUNK),

	T(VTP_OPEN_URL, DIR_G2H, 4, false, 1, VTP_MAX_URL),
	T(VTP_OPEN_FILE_BEGIN, DIR_G2H, 16, false, 4, FILE_BEGIN_TAIL_MAX),
	T(VTP_OPEN_FILE_CHUNK, DIR_G2H, 4, false, 1, VTP_MAX_CHUNK),
	T(VTP_OPEN_FILE_END, DIR_G2H, 36, false, 0, 0),
	T(VTP_OPEN_RESULT, DIR_H2G, 8, false, 0, VTP_MAX_ERROR_TEXT),
	T(VTP_DELIVER_URL, DIR_H2G, 4, false, 3, DELIVER_URL_TAIL_MAX),
	T(VTP_DELIVER_FILE_BEGIN, DIR_H2G, 16, false, 5, FILE_BEGIN_TAIL_MAX),
	T(VTP_DELIVER_FILE_CHUNK, DIR_H2G, 4, false, 1, VTP_MAX_CHUNK),
	T(VTP_DELIVER_FILE_END, DIR_H2G, 36, false, 0, 0),
	T(VTP_DELIVER_RESULT, DIR_G2H, 8, false, 0, VTP_MAX_ERROR_TEXT),

	T(VTP_APPS_REQUEST, DIR_H2G, 4, false, 0, 0),
	T(VTP_APPS_CHANGED, DIR_G2H, 0, false, 0, 0),
	T(VTP_APP_LIST_BEGIN, DIR_G2H, 8, false, 0, 0),
	T(VTP_APP_INFO, DIR_G2H, 4, false, 6, VTP_MAX_APP_INFO),
	T(VTP_APP_ICON, DIR_G2H, 8, false, 48 * 48 * 4, 96 * 96 * 4),
	T(VTP_APP_LIST_END, DIR_G2H, 4, false, 0, 0),
	T(VTP_LAUNCH_APP, DIR_H2G, 4, false, 1, VTP_MAX_DESKTOP_ID),
	T(VTP_RUN, DIR_H2G, 4, false, 2, VTP_MAX_ARGV_BYTES),
	T(VTP_RUN_RESULT, DIR_G2H, 12, false, 0, 0),

	TV(2, VTP_NOTIFY, DIR_G2H, 24, false, 0, NOTIFY_TAIL_MAX),
	TV(2, VTP_NOTIFY_CLOSE, DIR_G2H, 4, false, 0, 0),
	TV(2, VTP_NOTIFY_CLOSED, DIR_H2G, 8, false, 0, 0),
	TV(2, VTP_NOTIFY_ACTION, DIR_H2G, 4, false, 0, 0),

	TV(3, VTP_IDLE_INHIBIT, DIR_G2H, 4, true, 0, 0),

	TV(5, VTP_NET_CONFIG, DIR_H2G, 4, false, 1, VTP_MAX_NET_CONFIG),
	TV(5, VTP_NET_STATUS, DIR_G2H, 12, false, 0,
		VTP_MAX_NET_LINKS * sizeof(struct vtp_net_counter)),
};

#define N_TYPES (sizeof(types) / sizeof(types[0]))

static const struct type_info *lookup(uint16_t type)
{
	if (type >= N_TYPES || types[type].dir == 0) {
		return NULL;
	}
	return &types[type];
}

const char *vtp_type_name(uint16_t type)
{
	const struct type_info *t = lookup(type);
	return t ? t->name : "unknown";
}

int vtp_body_size(uint16_t type)
{
	const struct type_info *t = lookup(type);
	return t ? t->body : -1;
}

const char *vtp_status_str(enum vtp_status status)
{
	switch (status) {
	case VTP_OK:
		return "ok";
	case VTP_E_SHORT:
		return "message too short";
	case VTP_E_TOO_LONG:
		return "message too long";
	case VTP_E_UNKNOWN_TYPE:
		return "unknown message type for this direction";
	case VTP_E_BAD_SIZE:
		return "wrong body or tail size";
	case VTP_E_FLAGS:
		return "flags or reserved field not zero";
	case VTP_E_OBJECT:
		return "wrong object id";
	case VTP_E_TAIL_TOO_LONG:
		return "string or data above its limit";
	case VTP_E_UTF8:
		return "invalid UTF-8";
	case VTP_E_CONTROL_CHAR:
		return "control character in a string";
	case VTP_E_BAD_VALUE:
		return "invalid value";
	case VTP_E_DIMENSIONS:
		return "invalid dimensions";
	case VTP_E_OVERFLOW:
		return "arithmetic overflow";
	case VTP_E_STRIDE:
		return "invalid stride";
	case VTP_E_OUT_OF_POOL:
		return "buffer outside the pool";
	case VTP_E_ALIGN:
		return "misaligned offset";
	case VTP_E_NOMEM:
		return "out of memory";
	case VTP_E_IO:
		return "I/O error or connection closed";
	}
	return "unknown status";
}

/* ---- tail checks; t points into the input, n bytes ---- */

/* A display string of at most max bytes. */
static enum vtp_status check_string(const uint8_t *t, size_t n, size_t max)
{
	if (n > max) {
		return VTP_E_TAIL_TOO_LONG;
	}
	return vtp_check_display_string(t, n);
}

static enum vtp_status check_url(const uint8_t *t, size_t n)
{
	if (n == 0) {
		return VTP_E_BAD_SIZE;
	}
	if (n > VTP_MAX_URL) {
		return VTP_E_TAIL_TOO_LONG;
	}
	for (size_t i = 0; i < n; i++) {
		if (t[i] <= 0x20 || t[i] >= 0x7f) {
			return VTP_E_BAD_VALUE;
		}
	}
	return VTP_OK;
}

static enum vtp_status check_vm_name(const uint8_t *t, size_t n)
{
	char name[33];

	if (n < 1 || n > 32) {
		return VTP_E_BAD_VALUE;
	}
	memcpy(name, t, n);
	name[n] = '\0';
	/* An embedded NUL shortens the copy: still a bad name. */
	if (strlen(name) != n || !vtp_valid_vm_name(name)) {
		return VTP_E_BAD_VALUE;
	}
	return VTP_OK;
}

/* Desktop id: the rule is vtp_valid_desktop_id; the length gets its own
 * status. */
static enum vtp_status check_desktop_id(const uint8_t *t, size_t n)
{
	if (n > VTP_MAX_DESKTOP_ID) {
		return VTP_E_TAIL_TOO_LONG;
	}
	return vtp_valid_desktop_id((const char *)t, n) ? VTP_OK : VTP_E_BAD_VALUE;
}

/* Split t[0..n) at NUL bytes into exactly want parts (want-1 NULs, no
 * trailing NUL); part i is t[off[i] .. off[i]+len[i]). */
static bool split_parts(const uint8_t *t, size_t n, size_t want, size_t *off, size_t *len)
{
	size_t part = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || t[i] == '\0') {
			if (part >= want) {
				return false;
			}
			off[part] = start;
			len[part] = i - start;
			part++;
			start = i + 1;
		}
	}
	return part == want;
}

static enum vtp_status check_file_begin(const uint8_t *t, size_t n, bool deliver)
{
	size_t off[3], len[3];
	enum vtp_status st;
	const uint8_t *name;

	if (!split_parts(t, n, 3, off, len)) {
		return VTP_E_BAD_VALUE;
	}
	name = t + off[0];
	if (len[0] == 0 || len[1] == 0) {
		return VTP_E_BAD_VALUE;
	}
	/* check_string first, for its more precise statuses */
	if ((st = check_string(name, len[0], VTP_MAX_FILE_NAME)) != VTP_OK) {
		return st;
	}
	if (!vtp_valid_file_name((const char *)name, len[0])) {
		return VTP_E_BAD_VALUE;
	}
	if ((st = check_string(t + off[1], len[1], VTP_MAX_MIME)) != VTP_OK) {
		return st;
	}
	if (deliver) {
		return check_vm_name(t + off[2], len[2]);
	}
	return len[2] == 0 ? VTP_OK : VTP_E_BAD_VALUE;
}

static enum vtp_status check_net_status(const struct vtp_net_status *st, const uint8_t *t, size_t n)
{
	if (st->state > VTP_NET_FAILED || st->count > VTP_MAX_NET_LINKS) {
		return VTP_E_BAD_VALUE;
	}
	if (n != st->count * sizeof(struct vtp_net_counter)) {
		return VTP_E_BAD_SIZE;
	}
	uint8_t seen[32] = { 0 }; /* links 1..254, each at most once */
	for (uint32_t i = 0; i < st->count; i++) {
		struct vtp_net_counter c;
		memcpy(&c, t + i * sizeof(c), sizeof(c));
		if (c.reserved != 0) {
			return VTP_E_FLAGS;
		}
		if (c.link < 1 || c.link > 254 || (seen[c.link / 8] & (1u << (c.link % 8)))) {
			return VTP_E_BAD_VALUE;
		}
		seen[c.link / 8] |= (uint8_t)(1u << (c.link % 8));
	}
	return VTP_OK;
}

static enum vtp_status check_deliver_url(const uint8_t *t, size_t n)
{
	size_t off[2], len[2];
	enum vtp_status st;

	if (!split_parts(t, n, 2, off, len)) {
		return VTP_E_BAD_VALUE;
	}
	if ((st = check_url(t + off[0], len[0])) != VTP_OK) {
		return st;
	}
	return check_vm_name(t + off[1], len[1]);
}

static enum vtp_status check_app_info(const uint8_t *t, size_t n)
{
	size_t start = 0, field = 0;
	enum vtp_status st;

	/* Six fields, each followed by a NUL: the last byte is a NUL. */
	if (n == 0 || t[n - 1] != '\0') {
		return VTP_E_BAD_VALUE;
	}
	for (size_t i = 0; i < n; i++) {
		if (t[i] != '\0') {
			continue;
		}
		if (field >= 6) {
			return VTP_E_BAD_VALUE;
		}
		size_t flen = i - start;
		if (field == 0) {
			st = check_desktop_id(t + start, flen);
		} else {
			st = check_string(t + start, flen, VTP_MAX_APP_FIELD);
		}
		if (st != VTP_OK) {
			return st;
		}
		if (field == 1 && flen == 0) {
			return VTP_E_BAD_VALUE; /* Name is required */
		}
		field++;
		start = i + 1;
	}
	return field == 6 ? VTP_OK : VTP_E_BAD_VALUE;
}

static enum vtp_status check_notify(const struct vtp_notify *nf, const uint8_t *t, size_t n)
{
	enum vtp_status st;
	size_t off = 0;

	if (nf->reserved != 0) {
		return VTP_E_FLAGS;
	}
	if (nf->id == 0 || nf->urgency > VTP_URGENCY_CRITICAL) {
		return VTP_E_BAD_VALUE;
	}
	if (nf->expire_timeout < -1 || nf->expire_timeout > VTP_MAX_NOTIFY_TIMEOUT) {
		return VTP_E_BAD_VALUE;
	}
	if ((nf->icon_width == 0) != (nf->icon_height == 0) ||
		nf->icon_width > VTP_MAX_NOTIFY_ICON || nf->icon_height > VTP_MAX_NOTIFY_ICON) {
		return VTP_E_DIMENSIONS;
	}
	if (nf->summary_len > VTP_MAX_NOTIFY_SUMMARY || nf->body_len > VTP_MAX_NOTIFY_BODY ||
		nf->app_name_len > VTP_MAX_NOTIFY_APP_NAME) {
		return VTP_E_TAIL_TOO_LONG;
	}
	if ((size_t)nf->summary_len + nf->body_len + nf->app_name_len +
			(size_t)nf->icon_width * nf->icon_height * 4 !=
		n) {
		return VTP_E_BAD_SIZE;
	}
	if ((st = vtp_check_display_string(t, nf->summary_len)) != VTP_OK) {
		return st;
	}
	off += nf->summary_len;
	if ((st = vtp_check_display_string(t + off, nf->body_len)) != VTP_OK) {
		return st;
	}
	off += nf->body_len;
	return vtp_check_display_string(t + off, nf->app_name_len);
}

static enum vtp_status check_argv(const uint8_t *t, size_t n)
{
	size_t argc = 0;

	if (n > VTP_MAX_ARGV_BYTES) {
		return VTP_E_TAIL_TOO_LONG;
	}
	if (n < 2 || t[0] == '\0' || t[n - 1] != '\0') {
		return VTP_E_BAD_VALUE;
	}
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '\0') {
			argc++;
		}
	}
	if (argc > VTP_MAX_ARGC) {
		return VTP_E_BAD_VALUE;
	}
	return VTP_OK;
}

static enum vtp_status check_rects(const uint8_t *t, size_t n)
{
	if (n % sizeof(struct vtp_rect) != 0) {
		return VTP_E_BAD_SIZE;
	}
	for (size_t i = 0; i < n; i += sizeof(struct vtp_rect)) {
		struct vtp_rect r;
		int32_t end;

		memcpy(&r, t + i, sizeof(r));
		if (r.width <= 0 || r.height <= 0) {
			return VTP_E_DIMENSIONS;
		}
		if (__builtin_add_overflow(r.x, r.width, &end) ||
			__builtin_add_overflow(r.y, r.height, &end)) {
			return VTP_E_OVERFLOW;
		}
	}
	return VTP_OK;
}

static bool edge_ok(uint32_t e)
{
	return e <= VTP_EDGE_BOTTOM_RIGHT;
}

static bool in_dim_range(int32_t v)
{
	return v >= -(int32_t)VTP_MAX_DIM && v <= (int32_t)VTP_MAX_DIM;
}

static enum vtp_status check_window_create(const struct vtp_window_create *w, uint32_t object)
{
	if (w->kind == VTP_WINDOW_TOPLEVEL) {
		if (w->parent != 0 || w->anchor_x != 0 || w->anchor_y != 0 ||
			w->anchor_width != 0 || w->anchor_height != 0 || w->anchor != 0 ||
			w->gravity != 0 || w->offset_x != 0 || w->offset_y != 0) {
			return VTP_E_BAD_VALUE;
		}
	} else if (w->kind == VTP_WINDOW_POPUP) {
		if (w->parent == 0 || w->parent == object || !edge_ok(w->anchor) ||
			!edge_ok(w->gravity) || !in_dim_range(w->anchor_x) ||
			!in_dim_range(w->anchor_y) || !in_dim_range(w->offset_x) ||
			!in_dim_range(w->offset_y) || w->anchor_width > VTP_MAX_DIM ||
			w->anchor_height > VTP_MAX_DIM) {
			return VTP_E_BAD_VALUE;
		}
	} else {
		return VTP_E_BAD_VALUE;
	}
	if (w->width < 1 || w->width > VTP_MAX_DIM || w->height < 1 || w->height > VTP_MAX_DIM) {
		return VTP_E_DIMENSIONS;
	}
	return VTP_OK;
}

/* Stride and placement of a pool image. */
static enum vtp_status check_image(const struct vtp_decoder *dec, uint64_t offset, uint32_t width,
	uint32_t height, uint32_t stride)
{
	if (stride % 4 != 0 || stride < width * 4) { /* width <= VTP_MAX_DIM: no overflow */
		return VTP_E_STRIDE;
	}
	if (offset % VTP_BUFFER_ALIGN != 0) {
		return VTP_E_ALIGN;
	}
	return vtp_pool_check_buffer(dec->pool_size, offset, width, height, stride);
}

static enum vtp_status check_attach(const struct vtp_decoder *dec, const struct vtp_attach *a)
{
	if (dec->version < 4) {
		if (a->scale != 0) {
			return VTP_E_FLAGS; /* reserved before version 4 */
		}
	} else if (a->scale < 1 || a->scale > VTP_MAX_SCALE) {
		return VTP_E_BAD_VALUE;
	}
	if (a->format != VTP_FORMAT_ARGB8888 && a->format != VTP_FORMAT_XRGB8888) {
		return VTP_E_BAD_VALUE;
	}
	if (a->width < 1 || a->width > VTP_MAX_DIM || a->height < 1 || a->height > VTP_MAX_DIM) {
		return VTP_E_DIMENSIONS;
	}
	/* a scaled buffer covers whole logical pixels */
	if (a->scale > 1 && (a->width % a->scale != 0 || a->height % a->scale != 0)) {
		return VTP_E_DIMENSIONS;
	}
	return check_image(dec, a->offset, a->width, a->height, a->stride);
}

static enum vtp_status check_set_cursor(
	const struct vtp_decoder *dec, const struct vtp_set_cursor *c)
{
	if (dec->version < 4 && c->scale != 0) {
		return VTP_E_FLAGS; /* reserved before version 4 */
	}
	if (c->width == 0 && c->height == 0) {
		/* hide: nothing else may be set */
		if (c->offset != 0 || c->stride != 0 || c->hotspot_x != 0 || c->hotspot_y != 0 ||
			c->scale != 0) {
			return VTP_E_BAD_VALUE;
		}
		return VTP_OK;
	}
	if (dec->version >= 4 && (c->scale < 1 || c->scale > VTP_MAX_SCALE)) {
		return VTP_E_BAD_VALUE;
	}
	if (c->width < 1 || c->width > VTP_MAX_CURSOR_DIM || c->height < 1 ||
		c->height > VTP_MAX_CURSOR_DIM) {
		return VTP_E_DIMENSIONS;
	}
	if (c->hotspot_x < 0 || (uint32_t)c->hotspot_x >= c->width || c->hotspot_y < 0 ||
		(uint32_t)c->hotspot_y >= c->height) {
		return VTP_E_BAD_VALUE;
	}
	return check_image(dec, c->offset, c->width, c->height, c->stride);
}

static enum vtp_status check_chunk(const struct vtp_clipboard_data *d, uint32_t tail_len)
{
	if (d->flags & ~(uint32_t)(VTP_CHUNK_LAST | VTP_CHUNK_EMPTY)) {
		return VTP_E_BAD_VALUE;
	}
	if (d->flags & VTP_CHUNK_EMPTY) {
		if (!(d->flags & VTP_CHUNK_LAST) || tail_len != 0) {
			return VTP_E_BAD_VALUE;
		}
	} else if (!(d->flags & VTP_CHUNK_LAST) && tail_len == 0) {
		return VTP_E_BAD_SIZE; /* only the last chunk may be empty */
	}
	return VTP_OK;
}

/* Per-type field and tail validation. b is the decoded body, t the tail
 * in the input buffer. */
static enum vtp_status check_message(const struct vtp_decoder *dec, uint16_t type, uint32_t object,
	const struct vtp_msg *m, const uint8_t *t, uint32_t n)
{
	switch ((enum vtp_type)type) {
	case VTP_HELLO:
		if (m->body.hello.features != 0) {
			return VTP_E_FLAGS;
		}
		if (m->body.hello.version_min == 0 ||
			m->body.hello.version_min > m->body.hello.version_max) {
			return VTP_E_BAD_VALUE;
		}
		return check_string(t, n, VTP_MAX_NAME);
	case VTP_WELCOME:
		if (m->body.welcome.version == 0) {
			return VTP_E_BAD_VALUE;
		}
		if (m->body.welcome.pool_kind != VTP_POOL_MEMFD &&
			m->body.welcome.pool_kind != VTP_POOL_PCI) {
			return VTP_E_BAD_VALUE;
		}
		if (m->body.welcome.pool_size == 0 ||
			m->body.welcome.pool_size > VTP_MAX_POOL_SIZE) {
			return VTP_E_DIMENSIONS;
		}
		return check_vm_name(t, n);
	case VTP_PING:
	case VTP_PONG:
		return VTP_OK;
	case VTP_ERROR:
		if (m->body.error.code < VTP_ERR_PROTOCOL ||
			m->body.error.code > VTP_ERR_INTERNAL) {
			return VTP_E_BAD_VALUE;
		}
		return check_string(t, n, VTP_MAX_ERROR_TEXT);
	case VTP_OUTPUT_INFO:
		if (m->body.output_info.width < 1 || m->body.output_info.width > VTP_MAX_DIM ||
			m->body.output_info.height < 1 ||
			m->body.output_info.height > VTP_MAX_DIM) {
			return VTP_E_DIMENSIONS;
		}
		if (m->body.output_info.scale < 1 || m->body.output_info.scale > 4) {
			return VTP_E_BAD_VALUE;
		}
		return VTP_OK;
	case VTP_WINDOW_CREATE:
		return check_window_create(&m->body.window_create, object);
	case VTP_WINDOW_DESTROY:
	case VTP_CLOSE:
	case VTP_MOVE_REQUEST:
	case VTP_POPUP_DONE:
		return VTP_OK;
	case VTP_SET_TITLE:
		return check_string(t, n, VTP_MAX_TITLE);
	case VTP_SET_APP_ID:
		return check_string(t, n, VTP_MAX_APP_ID);
	case VTP_SET_SIZE_HINTS: {
		const struct vtp_size_hints *h = &m->body.size_hints;
		if (h->min_width > VTP_MAX_DIM || h->min_height > VTP_MAX_DIM ||
			h->max_width > VTP_MAX_DIM || h->max_height > VTP_MAX_DIM) {
			return VTP_E_DIMENSIONS;
		}
		if ((h->max_width != 0 && h->max_width < h->min_width) ||
			(h->max_height != 0 && h->max_height < h->min_height)) {
			return VTP_E_BAD_VALUE;
		}
		return VTP_OK;
	}
	case VTP_CONFIGURE:
		if (m->body.configure.width > VTP_MAX_DIM ||
			m->body.configure.height > VTP_MAX_DIM) {
			return VTP_E_DIMENSIONS;
		}
		if (m->body.configure.states & ~VTP_STATE_ALL) {
			return VTP_E_BAD_VALUE;
		}
		return VTP_OK;
	case VTP_ACK_CONFIGURE:
	case VTP_COMMIT:
	case VTP_FRAME_DONE:
	case VTP_RELEASE:
	case VTP_POINTER_ENTER:
	case VTP_POINTER_LEAVE:
	case VTP_POINTER_MOTION:
	case VTP_KEYBOARD_ENTER:
	case VTP_KEYBOARD_LEAVE:
	case VTP_MODIFIERS:
	case VTP_APPS_REQUEST:
	case VTP_APPS_CHANGED:
	case VTP_APP_LIST_END:
		return VTP_OK;
	case VTP_RESIZE_REQUEST: {
		uint32_t e = m->body.resize_request.edges;
		if (e == 0 || (e & ~0xfu) ||
			(e & (VTP_RESIZE_TOP | VTP_RESIZE_BOTTOM)) ==
				(VTP_RESIZE_TOP | VTP_RESIZE_BOTTOM) ||
			(e & (VTP_RESIZE_LEFT | VTP_RESIZE_RIGHT)) ==
				(VTP_RESIZE_LEFT | VTP_RESIZE_RIGHT)) {
			return VTP_E_BAD_VALUE;
		}
		return VTP_OK;
	}
	case VTP_SET_MAXIMIZED:
	case VTP_SET_FULLSCREEN:
		return m->body.set_flag.enable <= 1 ? VTP_OK : VTP_E_BAD_VALUE;
	case VTP_ATTACH:
		return check_attach(dec, &m->body.attach);
	case VTP_WINDOW_SCALE:
		if (m->body.window_scale.scale < 1 || m->body.window_scale.scale > VTP_MAX_SCALE) {
			return VTP_E_BAD_VALUE;
		}
		return VTP_OK;
	case VTP_DAMAGE:
		return check_rects(t, n);
	case VTP_SET_CURSOR:
		return check_set_cursor(dec, &m->body.set_cursor);
	case VTP_POINTER_BUTTON:
		return m->body.pointer_button.state <= 1 ? VTP_OK : VTP_E_BAD_VALUE;
	case VTP_POINTER_AXIS:
		if (m->body.pointer_axis.axis > 1 || m->body.pointer_axis.source > 3) {
			return VTP_E_BAD_VALUE;
		}
		return VTP_OK;
	case VTP_KEYMAP:
		if (m->body.keymap.format != 1) {
			return VTP_E_BAD_VALUE;
		}
		return memchr(t, '\0', n) == NULL ? VTP_OK : VTP_E_BAD_VALUE;
	case VTP_KEY:
		return m->body.key.state <= 1 ? VTP_OK : VTP_E_BAD_VALUE;
	case VTP_REPEAT_INFO:
		if (m->body.repeat_info.rate < 0 || m->body.repeat_info.rate > 1000 ||
			m->body.repeat_info.delay < 0 || m->body.repeat_info.delay > 10000) {
			return VTP_E_BAD_VALUE;
		}
		return VTP_OK;
	case VTP_CLIPBOARD_REQUEST:
		if (m->body.clipboard_request.max_bytes < 1 ||
			m->body.clipboard_request.max_bytes > VTP_MAX_CLIPBOARD) {
			return VTP_E_BAD_VALUE;
		}
		return VTP_OK;
	case VTP_CLIPBOARD_DATA:
	case VTP_CLIPBOARD_SET:
		return check_chunk(&m->body.clipboard_data, n);
	case VTP_OPEN_URL:
		return check_url(t, n);
	case VTP_DELIVER_URL:
		return check_deliver_url(t, n);
	case VTP_OPEN_FILE_BEGIN:
	case VTP_DELIVER_FILE_BEGIN:
		if (m->body.file_begin.reserved != 0) {
			return VTP_E_FLAGS;
		}
		if (m->body.file_begin.size > VTP_MAX_FILE_SIZE) {
			return VTP_E_BAD_VALUE;
		}
		return check_file_begin(t, n, type == VTP_DELIVER_FILE_BEGIN);
	case VTP_OPEN_FILE_CHUNK:
	case VTP_DELIVER_FILE_CHUNK:
	case VTP_OPEN_FILE_END:
	case VTP_DELIVER_FILE_END:
		return VTP_OK;
	case VTP_OPEN_RESULT:
	case VTP_DELIVER_RESULT:
		if (m->body.result.code > VTP_RESULT_CANCELLED) {
			return VTP_E_BAD_VALUE;
		}
		return check_string(t, n, VTP_MAX_ERROR_TEXT);
	case VTP_APP_LIST_BEGIN:
		return m->body.app_list_begin.count <= VTP_MAX_APPS ? VTP_OK : VTP_E_BAD_VALUE;
	case VTP_APP_INFO:
		if (m->body.app_info.index >= VTP_MAX_APPS) {
			return VTP_E_BAD_VALUE;
		}
		return check_app_info(t, n);
	case VTP_APP_ICON:
		if (m->body.app_icon.index >= VTP_MAX_APPS) {
			return VTP_E_BAD_VALUE;
		}
		if (m->body.app_icon.size != 48 && m->body.app_icon.size != 96) {
			return VTP_E_BAD_VALUE;
		}
		return n == m->body.app_icon.size * m->body.app_icon.size * 4 ? VTP_OK
									      : VTP_E_BAD_SIZE;
	case VTP_LAUNCH_APP:
		return check_desktop_id(t, n);
	case VTP_RUN:
		return check_argv(t, n);
	case VTP_RUN_RESULT:
		return m->body.run_result.kind <= VTP_RUN_STARTED ? VTP_OK : VTP_E_BAD_VALUE;
	case VTP_NOTIFY:
		return check_notify(&m->body.notify, t, n);
	case VTP_NOTIFY_CLOSE:
	case VTP_NOTIFY_ACTION:
		return m->body.notify_id.id != 0 ? VTP_OK : VTP_E_BAD_VALUE;
	case VTP_NOTIFY_CLOSED:
		if (m->body.notify_closed.id == 0 ||
			m->body.notify_closed.reason < VTP_NOTIFY_EXPIRED ||
			m->body.notify_closed.reason > VTP_NOTIFY_UNDEFINED) {
			return VTP_E_BAD_VALUE;
		}
		return VTP_OK;
	case VTP_IDLE_INHIBIT:
		return m->body.idle_inhibit.inhibit <= 1 ? VTP_OK : VTP_E_BAD_VALUE;
	case VTP_NET_CONFIG:
		return vtp_net_config_check(t, n);
	case VTP_NET_STATUS:
		return check_net_status(&m->body.net_status, t, n);
	}
	return VTP_E_UNKNOWN_TYPE;
}

enum vtp_status vtp_msg_decode(
	const struct vtp_decoder *dec, const uint8_t *buf, size_t len, struct vtp_msg *msg)
{
	const struct type_info *ti;
	struct vtp_header h;
	uint32_t tail_len;
	const uint8_t *tail;
	enum vtp_status st;
	uint8_t want;

	memset(msg, 0, sizeof(*msg));
	if (len < sizeof(h)) {
		return VTP_E_SHORT;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.size > VTP_MSG_MAX) {
		return VTP_E_TOO_LONG;
	}
	if (h.size < sizeof(h)) {
		return VTP_E_BAD_SIZE;
	}
	if (len < h.size) {
		return VTP_E_SHORT;
	}
	if (len > h.size) {
		return VTP_E_BAD_SIZE;
	}
	switch (dec->side) {
	case VTP_SIDE_HOST:
		want = DIR_G2H;
		break;
	case VTP_SIDE_GUEST:
		want = DIR_H2G;
		break;
	default:
		return VTP_E_UNKNOWN_TYPE;
	}
	ti = lookup(h.type);
	if (ti == NULL || !(ti->dir & want)) {
		return VTP_E_UNKNOWN_TYPE;
	}
	if (ti->since > (dec->version > 1 ? dec->version : 1)) {
		return VTP_E_UNKNOWN_TYPE; /* not in the negotiated version */
	}
	if (h.flags != 0) {
		return VTP_E_FLAGS;
	}
	if (ti->window ? h.object == 0 : h.object != 0) {
		return VTP_E_OBJECT;
	}
	if (h.size < sizeof(h) + ti->body) {
		return VTP_E_BAD_SIZE;
	}
	tail_len = h.size - (uint32_t)sizeof(h) - ti->body;
	if (ti->tail_max == 0 && tail_len != 0) {
		return VTP_E_BAD_SIZE;
	}
	if (tail_len > ti->tail_max) {
		return VTP_E_TAIL_TOO_LONG;
	}
	if (tail_len < ti->tail_min) {
		return VTP_E_BAD_SIZE;
	}
	tail = buf + sizeof(h) + ti->body;

	msg->header = h;
	memcpy(msg->body.raw, buf + sizeof(h), ti->body);
	st = check_message(dec, h.type, h.object, msg, tail, tail_len);
	if (st != VTP_OK) {
		memset(msg, 0, sizeof(*msg));
		return st;
	}
	if (tail_len > 0) {
		msg->tail = malloc((size_t)tail_len + 1);
		if (msg->tail == NULL) {
			memset(msg, 0, sizeof(*msg));
			return VTP_E_NOMEM;
		}
		memcpy(msg->tail, tail, tail_len);
		msg->tail[tail_len] = '\0';
		msg->tail_len = tail_len;
	}
	if (h.type == VTP_DAMAGE) {
		/* malloc'd memory is suitably aligned for the rects */
		msg->rects = (const struct vtp_rect *)(const void *)msg->tail;
		msg->n_rects = tail_len / (uint32_t)sizeof(struct vtp_rect);
	}
	return VTP_OK;
}

void vtp_msg_finish(struct vtp_msg *msg)
{
	if (msg == NULL) {
		return;
	}
	free(msg->tail);
	memset(msg, 0, sizeof(*msg));
}

size_t vtp_msg_encode(uint8_t *out, size_t out_cap, uint16_t type, uint32_t object,
	const void *body, const void *tail, uint32_t tail_len)
{
	struct vtp_header h;
	int body_size = vtp_body_size(type);
	size_t total;

	if (body_size < 0 || (tail_len > 0 && tail == NULL)) {
		return 0;
	}
	total = sizeof(h) + (size_t)body_size + tail_len;
	if (total > VTP_MSG_MAX || total > out_cap) {
		return 0;
	}
	h.type = type;
	h.flags = 0;
	h.size = (uint32_t)total;
	h.object = object;
	memcpy(out, &h, sizeof(h));
	if (body_size > 0) {
		if (body != NULL) {
			memcpy(out + sizeof(h), body, (size_t)body_size);
		} else {
			memset(out + sizeof(h), 0, (size_t)body_size);
		}
	}
	if (tail_len > 0) {
		memcpy(out + sizeof(h) + body_size, tail, tail_len);
	}
	return total;
}
