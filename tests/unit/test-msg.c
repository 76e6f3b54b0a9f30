/*
 * Decoder and encoder: a round trip of every message type, and a table
 * of malformed messages each rejected with its exact status.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/protocol.h>

#define POOL_SIZE (16u * 1024u * 1024u)

static const struct vtp_decoder host_dec = {
	.side = VTP_SIDE_HOST, .pool_size = POOL_SIZE, .version = VTP_VERSION_MAX
};
static const struct vtp_decoder guest_dec = {
	.side = VTP_SIDE_GUEST, .pool_size = POOL_SIZE, .version = VTP_VERSION_MAX
};

struct sample {
	struct vtp_msg m; /* header.object and body used */
	const void *tail;
	uint32_t tail_len;
	enum vtp_side side;
};

#define TAIL(s) .tail = (s), .tail_len = sizeof(s) - 1

static const struct vtp_rect sample_rects[] = {
	{ 0, 0, 64, 32 },
	{ -5, 10, 1, 1 },
	{ 100, 200, 300, 400 },
};
static uint8_t icon48[48 * 48 * 4];
/* summary "Build done", body "3 warnings \xe2\x80\x94 ok", app "make", 2x3 icon */
static const uint8_t notify_tail[] = "Build done"
				     "3 warnings \xe2\x80\x94 ok"
				     "make"
				     "RGBARGBARGBARGBARGBARGBA";

static const char net_config_tail[] = "role firewall\n"
				      "uplink 52:54:00:8b:00:00\n"
				      "link 1 52:54:00:8b:01:01 deny web\n"
				      "rule 1 10.0.2.2:8000/tcp\n"
				      "rule 1 debian.org\n"
				      "link 2 52:54:00:8b:02:01 allow bank\n";
static const struct vtp_net_counter net_counter = { .link = 1, .packets = 5, .bytes = 300 };

/* A valid message of each type; false for types it does not know. */
static bool make_sample(uint16_t type, struct sample *s)
{
	memset(s, 0, sizeof(*s));
	s->m.header.type = type;
	s->side = VTP_SIDE_HOST;
	switch ((enum vtp_type)type) {
	case VTP_HELLO:
		s->m.body.hello = (struct vtp_hello){ .version_min = 1, .version_max = 3 };
		s->tail = "vitrail-agent 0.1";
		s->tail_len = 17;
		return true;
	case VTP_WELCOME:
		s->side = VTP_SIDE_GUEST;
		s->m.body.welcome = (struct vtp_welcome){
			.version = 1, .pool_kind = VTP_POOL_MEMFD, .pool_size = POOL_SIZE
		};
		s->tail = "work-2";
		s->tail_len = 6;
		return true;
	case VTP_PING:
	case VTP_PONG:
		s->m.body.ping.serial = 0xdeadbeef;
		return true;
	case VTP_ERROR:
		s->m.body.error.code = VTP_ERR_LIMIT;
		s->tail = "too many windows \xc3\xa9\xe2\x82\xac";
		s->tail_len = (uint32_t)strlen(s->tail);
		return true;
	case VTP_OUTPUT_INFO:
		s->side = VTP_SIDE_GUEST;
		s->m.body.output_info = (struct vtp_output_info){ 1920, 1080, 1, 60000 };
		return true;
	case VTP_WINDOW_CREATE:
		s->m.header.object = 7;
		s->m.body.window_create = (struct vtp_window_create){ .kind = VTP_WINDOW_POPUP,
			.parent = 3,
			.anchor_x = -10,
			.anchor_y = 20,
			.anchor_width = 30,
			.anchor_height = 40,
			.anchor = VTP_EDGE_BOTTOM_LEFT,
			.gravity = VTP_EDGE_BOTTOM_RIGHT,
			.offset_x = 2,
			.offset_y = -2,
			.width = 200,
			.height = 100 };
		return true;
	case VTP_WINDOW_DESTROY:
	case VTP_MOVE_REQUEST:
		s->m.header.object = 7;
		return true;
	case VTP_CLOSE:
	case VTP_POPUP_DONE:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 7;
		return true;
	case VTP_WINDOW_SCALE:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 7;
		s->m.body.window_scale.scale = 2;
		return true;
	case VTP_SET_TITLE:
		s->m.header.object = 1;
		s->tail = "Terminal \xf0\x9f\x98\x80 ~/src";
		s->tail_len = (uint32_t)strlen(s->tail);
		return true;
	case VTP_SET_APP_ID:
		s->m.header.object = 1;
		s->tail = "org.codeberg.dnkl.foot";
		s->tail_len = (uint32_t)strlen(s->tail);
		return true;
	case VTP_SET_SIZE_HINTS:
		s->m.header.object = 1;
		s->m.body.size_hints = (struct vtp_size_hints){ 100, 50, 0, 800 };
		return true;
	case VTP_CONFIGURE:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.configure = (struct vtp_configure){ 9, 640, 480,
			VTP_STATE_ACTIVATED | VTP_STATE_MAXIMIZED };
		return true;
	case VTP_ACK_CONFIGURE:
		s->m.header.object = 1;
		s->m.body.ack_configure.serial = 9;
		return true;
	case VTP_RESIZE_REQUEST:
		s->m.header.object = 1;
		s->m.body.resize_request.edges = VTP_RESIZE_BOTTOM | VTP_RESIZE_RIGHT;
		return true;
	case VTP_SET_MAXIMIZED:
	case VTP_SET_FULLSCREEN:
		s->m.header.object = 1;
		s->m.body.set_flag.enable = 1;
		return true;
	case VTP_ATTACH:
		s->m.header.object = 1;
		s->m.body.attach = (struct vtp_attach){ .offset = 4096,
			.buffer_id = 5,
			.width = 640,
			.height = 480,
			.stride = 2560,
			.format = VTP_FORMAT_XRGB8888,
			.scale = 1 };
		return true;
	case VTP_DAMAGE:
		s->m.header.object = 1;
		s->tail = sample_rects;
		s->tail_len = sizeof(sample_rects);
		return true;
	case VTP_COMMIT:
		s->m.header.object = 1;
		s->m.body.commit.serial = 77;
		return true;
	case VTP_FRAME_DONE:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.frame_done = (struct vtp_frame_done){ 123456789012345ull, 16666666, 77 };
		return true;
	case VTP_RELEASE:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.release.buffer_id = 5;
		return true;
	case VTP_SET_CURSOR:
		s->m.header.object = 1;
		s->m.body.set_cursor = (struct vtp_set_cursor){ .offset = POOL_SIZE - 64 * 256,
			.width = 24,
			.height = 24,
			.stride = 256,
			.hotspot_x = 23,
			.hotspot_y = 0,
			.scale = 2 };
		return true;
	case VTP_POINTER_ENTER:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.pointer_enter = (struct vtp_pointer_enter){ 1, 10 << 8, -(3 << 8) };
		return true;
	case VTP_POINTER_LEAVE:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.pointer_leave.serial = 2;
		return true;
	case VTP_POINTER_MOTION:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.pointer_motion = (struct vtp_pointer_motion){ 1000, 5, 6 };
		return true;
	case VTP_POINTER_BUTTON:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.pointer_button = (struct vtp_pointer_button){ 3, 1001, 0x110, 1 };
		return true;
	case VTP_POINTER_AXIS:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.pointer_axis = (struct vtp_pointer_axis){ 1002, 1, -(10 << 8), -1, 0 };
		return true;
	case VTP_KEYMAP:
		s->side = VTP_SIDE_GUEST;
		s->m.body.keymap.format = 1;
		s->tail = "xkb_keymap {\n\txkb_keycodes \"evdev\" { };\n};\n";
		s->tail_len = (uint32_t)strlen(s->tail);
		return true;
	case VTP_KEYBOARD_ENTER:
	case VTP_KEYBOARD_LEAVE:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.keyboard_enter.serial = 4;
		return true;
	case VTP_KEY:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.key = (struct vtp_key){ 5, 1003, 30, 1 };
		return true;
	case VTP_MODIFIERS:
		s->side = VTP_SIDE_GUEST;
		s->m.header.object = 1;
		s->m.body.modifiers = (struct vtp_modifiers){ 6, 1, 0, 2, 0 };
		return true;
	case VTP_REPEAT_INFO:
		s->side = VTP_SIDE_GUEST;
		s->m.body.repeat_info = (struct vtp_repeat_info){ 25, 600 };
		return true;
	case VTP_CLIPBOARD_REQUEST:
		s->side = VTP_SIDE_GUEST;
		s->m.body.clipboard_request = (struct vtp_clipboard_request){ 8, 1 << 20 };
		return true;
	case VTP_CLIPBOARD_DATA:
		s->m.body.clipboard_data = (struct vtp_clipboard_data){ 8, VTP_CHUNK_LAST };
		s->tail = "line one\nline\ttwo\0binary";
		s->tail_len = 24;
		return true;
	case VTP_CLIPBOARD_SET:
		s->side = VTP_SIDE_GUEST;
		s->m.body.clipboard_data = (struct vtp_clipboard_data){ 9, 0 };
		s->tail = "first chunk";
		s->tail_len = 11;
		return true;
	case VTP_OPEN_URL:
		s->m.body.open_url.request_id = 11;
		s->tail = "https://example.org/a?b=c#d";
		s->tail_len = (uint32_t)strlen(s->tail);
		return true;
	case VTP_OPEN_FILE_BEGIN:
		s->m.body.file_begin = (struct vtp_file_begin){ .request_id = 12, .size = 1 << 30 };
		s->tail = "report \xc3\xa9t\xc3\xa9.pdf\0application/pdf\0";
		s->tail_len = 33;
		return true;
	case VTP_OPEN_FILE_CHUNK:
		s->m.body.file_chunk.request_id = 12;
		s->tail = "\0\1\2\3\xff";
		s->tail_len = 5;
		return true;
	case VTP_OPEN_FILE_END:
	case VTP_DELIVER_FILE_END:
		s->side = type == VTP_OPEN_FILE_END ? VTP_SIDE_HOST : VTP_SIDE_GUEST;
		s->m.body.file_end.request_id = 12;
		for (int i = 0; i < 32; i++) {
			s->m.body.file_end.sha256[i] = (uint8_t)(i * 7);
		}
		return true;
	case VTP_OPEN_RESULT:
		s->side = VTP_SIDE_GUEST;
		s->m.body.result = (struct vtp_result){ 11, VTP_RESULT_DENIED };
		s->tail = "denied by policy";
		s->tail_len = 16;
		return true;
	case VTP_DELIVER_URL:
		s->side = VTP_SIDE_GUEST;
		s->m.body.open_url.request_id = 13;
		s->tail = "https://example.org/\0work";
		s->tail_len = 25;
		return true;
	case VTP_DELIVER_FILE_BEGIN:
		s->side = VTP_SIDE_GUEST;
		s->m.body.file_begin = (struct vtp_file_begin){ .request_id = 14, .size = 0 };
		s->tail = "empty.txt\0text/plain\0personal";
		s->tail_len = 29;
		return true;
	case VTP_DELIVER_FILE_CHUNK:
		s->side = VTP_SIDE_GUEST;
		s->m.body.file_chunk.request_id = 14;
		s->tail = "x";
		s->tail_len = 1;
		return true;
	case VTP_DELIVER_RESULT:
		s->m.body.result = (struct vtp_result){ 14, VTP_RESULT_OK };
		return true;
	case VTP_APPS_REQUEST:
		s->side = VTP_SIDE_GUEST;
		s->m.body.apps_request.serial = 21;
		return true;
	case VTP_APPS_CHANGED:
		return true;
	case VTP_APP_LIST_BEGIN:
		s->m.body.app_list_begin = (struct vtp_app_list_begin){ 21, 2 };
		return true;
	case VTP_APP_INFO:
		s->m.body.app_info.index = 1;
		s->tail = "org.gnome.Terminal.desktop\0Terminal\0\0Use the command "
			  "line\0GTK;System;\0\0";
		s->tail_len = 71;
		return true;
	case VTP_APP_ICON:
		s->m.body.app_icon = (struct vtp_app_icon){ 1, 48 };
		for (size_t i = 0; i < sizeof(icon48); i++) {
			icon48[i] = (uint8_t)i;
		}
		s->tail = icon48;
		s->tail_len = sizeof(icon48);
		return true;
	case VTP_APP_LIST_END:
		s->m.body.app_list_end.serial = 21;
		return true;
	case VTP_LAUNCH_APP:
		s->side = VTP_SIDE_GUEST;
		s->m.body.launch.request_id = 31;
		s->tail = "firefox-esr.desktop";
		s->tail_len = 19;
		return true;
	case VTP_RUN:
		s->side = VTP_SIDE_GUEST;
		s->m.body.launch.request_id = 32;
		s->tail = "sh\0-c\0echo hi; exit 3\0\0";
		s->tail_len = 24;
		return true;
	case VTP_RUN_RESULT:
		s->m.body.run_result = (struct vtp_run_result){ 32, VTP_RUN_EXITED, 3 };
		return true;
	case VTP_NOTIFY:
		s->m.body.notify = (struct vtp_notify){ .id = 9,
			.urgency = VTP_URGENCY_CRITICAL,
			.expire_timeout = 5000,
			.summary_len = 10,
			.body_len = 17,
			.app_name_len = 4,
			.icon_width = 2,
			.icon_height = 3 };
		s->tail = notify_tail;
		s->tail_len = sizeof(notify_tail) - 1;
		return true;
	case VTP_NOTIFY_CLOSE:
		s->m.body.notify_id.id = 9;
		return true;
	case VTP_NOTIFY_ACTION:
		s->side = VTP_SIDE_GUEST;
		s->m.body.notify_id.id = 9;
		return true;
	case VTP_NOTIFY_CLOSED:
		s->side = VTP_SIDE_GUEST;
		s->m.body.notify_closed = (struct vtp_notify_closed){ 9, VTP_NOTIFY_DISMISSED };
		return true;
	case VTP_IDLE_INHIBIT:
		s->m.header.object = 3;
		s->m.body.idle_inhibit.inhibit = 1;
		return true;
	case VTP_NET_CONFIG:
		s->side = VTP_SIDE_GUEST;
		s->m.body.net_config.generation = 3;
		s->tail = net_config_tail;
		s->tail_len = (uint32_t)strlen(net_config_tail);
		return true;
	case VTP_NET_STATUS:
		s->m.body.net_status = (struct vtp_net_status){ 3, VTP_NET_APPLIED, 1 };
		s->tail = (const char *)&net_counter;
		s->tail_len = sizeof(net_counter);
		return true;
	}
	return false;
}

static size_t encode_sample(const struct sample *s, uint8_t *out, size_t cap)
{
	return vtp_msg_encode(
		out, cap, s->m.header.type, s->m.header.object, &s->m.body, s->tail, s->tail_len);
}

static const struct vtp_decoder *decoder_for(enum vtp_side side)
{
	return side == VTP_SIDE_HOST ? &host_dec : &guest_dec;
}

Test(msg, every_type_has_a_name_and_a_sample)
{
	int n = 0;
	for (uint32_t t = 0; t <= 0xffff; t++) {
		struct sample s;
		int body = vtp_body_size((uint16_t)t);
		if (body < 0) {
			cr_assert_str_eq(vtp_type_name((uint16_t)t), "unknown");
			continue;
		}
		n++;
		cr_assert(body <= 48, "type %u body %d", t, body);
		cr_assert_str_neq(vtp_type_name((uint16_t)t), "unknown", "type %u", t);
		cr_assert(make_sample((uint16_t)t, &s), "no sample for %s",
			vtp_type_name((uint16_t)t));
	}
	cr_assert_eq(n, 66);
	cr_assert_str_eq(vtp_type_name(VTP_ATTACH), "ATTACH");
	cr_assert_str_eq(vtp_type_name(VTP_RUN_RESULT), "RUN_RESULT");
}

Test(msg, status_strings)
{
	for (int st = VTP_OK; st <= VTP_E_IO; st++) {
		const char *s = vtp_status_str((enum vtp_status)st);
		cr_assert_not_null(s);
		cr_assert_str_neq(s, "unknown status", "status %d", st);
	}
	cr_assert_str_eq(vtp_status_str((enum vtp_status)999), "unknown status");
}

/* Encode each sample, pass it through a stream, decode it on its side,
 * compare everything; and check the other side refuses it unless it is
 * a BOTH message. */
Test(msg, round_trip_every_type)
{
	static uint8_t buf[VTP_MSG_MAX];
	int checked = 0;

	for (uint32_t t = 0; t <= 0xffff; t++) {
		struct sample s;
		struct vtp_stream st;
		struct vtp_msg m;
		bool have;

		if (vtp_body_size((uint16_t)t) < 0) {
			continue;
		}
		cr_assert(make_sample((uint16_t)t, &s));
		size_t n = encode_sample(&s, buf, sizeof(buf));
		int body = vtp_body_size((uint16_t)t);
		cr_assert_eq(n, 12 + (size_t)body + s.tail_len, "%s", vtp_type_name((uint16_t)t));

		cr_assert(vtp_stream_init(&st));
		cr_assert_eq(vtp_stream_feed(&st, buf, n), VTP_OK);
		enum vtp_status rc = vtp_stream_next(&st, decoder_for(s.side), &m, &have);
		cr_assert_eq(rc, VTP_OK, "%s: %s", vtp_type_name((uint16_t)t), vtp_status_str(rc));
		cr_assert(have);
		cr_assert_eq(st.len, 0);
		cr_assert_eq(m.header.type, t);
		cr_assert_eq(m.header.flags, 0);
		cr_assert_eq(m.header.size, n);
		cr_assert_eq(m.header.object, s.m.header.object);
		cr_assert_eq(memcmp(m.body.raw, s.m.body.raw, (size_t)body), 0, "%s body",
			vtp_type_name((uint16_t)t));
		cr_assert_eq(m.tail_len, s.tail_len);
		if (s.tail_len == 0) {
			cr_assert_null(m.tail);
		} else {
			cr_assert_eq(memcmp(m.tail, s.tail, s.tail_len), 0);
			cr_assert_eq(m.tail[s.tail_len], 0, "tail NUL-terminated");
		}
		if (t == VTP_DAMAGE) {
			cr_assert_eq(m.n_rects, 3);
			cr_assert_eq(m.rects[2].height, 400);
			cr_assert_eq(m.rects[1].x, -5);
		} else {
			cr_assert_null(m.rects);
		}
		vtp_msg_finish(&m);
		cr_assert_null(m.tail);
		vtp_stream_finish(&st);

		/* the other side */
		enum vtp_side other = s.side == VTP_SIDE_HOST ? VTP_SIDE_GUEST : VTP_SIDE_HOST;
		rc = vtp_msg_decode(decoder_for(other), buf, n, &m);
		if (t == VTP_PING || t == VTP_PONG || t == VTP_ERROR) {
			cr_assert_eq(rc, VTP_OK);
			vtp_msg_finish(&m);
		} else {
			cr_assert_eq(rc, VTP_E_UNKNOWN_TYPE, "%s accepted by the wrong side",
				vtp_type_name((uint16_t)t));
		}
		checked++;
	}
	cr_assert_eq(checked, 66);
}

Test(msg, encode_limits)
{
	uint8_t small[16];
	struct vtp_attach a = { 0 };
	static uint8_t big[VTP_MSG_MAX + 64], src[VTP_MSG_MAX];

	cr_assert_eq(vtp_msg_encode(small, sizeof(small), VTP_ATTACH, 1, &a, NULL, 0), 0);
	cr_assert_eq(vtp_msg_encode(small, sizeof(small), 999, 1, NULL, NULL, 0), 0);
	cr_assert_eq(vtp_msg_encode(small, sizeof(small), VTP_COMMIT, 1, NULL, NULL, 0), 16);
	/* body NULL: zeros */
	cr_assert_eq(small[12] | small[13] | small[14] | small[15], 0);
	cr_assert_eq(vtp_msg_encode(big, sizeof(big), VTP_CLIPBOARD_SET, 0, NULL, src,
			     VTP_MSG_MAX - 12 - 8 + 1),
		0);
	cr_assert_eq(vtp_msg_encode(big, sizeof(big), VTP_CLIPBOARD_SET, 0, NULL, src,
			     VTP_MSG_MAX - 12 - 8),
		VTP_MSG_MAX);
	cr_assert_eq(vtp_body_size(VTP_WINDOW_CREATE), 48);
	cr_assert_eq(vtp_body_size(VTP_SET_TITLE), 0);
	cr_assert_eq(vtp_body_size(0), -1);
	cr_assert_eq(vtp_body_size(105), -1);
	cr_assert_eq(vtp_body_size(116), -1);
}

/* ---- malformed messages ---- */

struct bad_case {
	const char *name;
	enum vtp_side side;
	uint16_t type;
	uint16_t flags;
	uint32_t object;
	struct vtp_msg body; /* only .body is used */
	int body_delta; /* bytes added to/removed from the body */
	const void *tail;
	uint32_t tail_len;
	uint8_t fill; /* tail NULL and tail_len > 0: tail_len bytes of fill */
	uint32_t size_set; /* non-zero: header size field */
	int size_delta; /* added to the header size field */
	int len_delta; /* added to the length given to the decoder */
	uint64_t pool_size; /* 0: POOL_SIZE; ~0: 0 (no pool yet) */
	enum vtp_status want;
};

#define H VTP_SIDE_HOST
#define G VTP_SIDE_GUEST
#define BODY(field, ...) .body = { .body = { .field = __VA_ARGS__ } }
#define RECTS(...) \
	.tail = (const struct vtp_rect[]){ __VA_ARGS__ }, \
	.tail_len = sizeof((const struct vtp_rect[]){ __VA_ARGS__ })
#define OK_ATTACH(...) \
	BODY(attach, \
		{ .offset = 0, \
			.buffer_id = 1, \
			.width = 64, \
			.height = 64, \
			.stride = 256, \
			.format = VTP_FORMAT_ARGB8888, \
			.scale = 1, \
			__VA_ARGS__ })
#define OK_CURSOR(...) \
	BODY(set_cursor, \
		{ .offset = 0, .width = 16, .height = 16, .stride = 64, .scale = 1, __VA_ARGS__ })
#define TOPLEVEL(...) BODY(window_create, { .kind = 1, .width = 10, .height = 10, __VA_ARGS__ })
#define POPUP(...) \
	BODY(window_create, { .kind = 2, .parent = 1, .width = 10, .height = 10, __VA_ARGS__ })
#define APPINFO(s) BODY(app_info, { 0 }), TAIL(s)
#define NOTIFY(...) \
	BODY(notify, { .id = 1, .summary_len = 1, .body_len = 1, .app_name_len = 1, __VA_ARGS__ })

/* The OK_* macros give defaults that a case then overrides. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#ifdef __clang__
#pragma GCC diagnostic ignored "-Winitializer-overrides"
#endif
static const struct bad_case bad_cases[] = {
	/* framing */
	{ "11 bytes", H, VTP_COMMIT, .object = 1, .len_delta = -5, .size_delta = -5,
		.want = VTP_E_SHORT },
	{ "empty input", H, VTP_COMMIT, .object = 1, .len_delta = -16, .want = VTP_E_SHORT },
	{ "size says more than given", H, VTP_COMMIT, .object = 1, .size_delta = 4,
		.want = VTP_E_SHORT },
	{ "given more than size says", H, VTP_COMMIT, .object = 1, .len_delta = 4,
		.want = VTP_E_BAD_SIZE },
	{ "size below the header", H, VTP_COMMIT, .object = 1, .size_set = 8,
		.want = VTP_E_BAD_SIZE },
	{ "size 0", H, VTP_COMMIT, .object = 1, .size_set = 0xffffffff, .size_delta = 1,
		.want = VTP_E_BAD_SIZE },
	{ "size above VTP_MSG_MAX", H, VTP_COMMIT, .object = 1, .size_set = VTP_MSG_MAX + 1,
		.want = VTP_E_TOO_LONG },
	{ "size 4 GiB - 1", H, VTP_COMMIT, .object = 1, .size_set = 0xffffffff,
		.want = VTP_E_TOO_LONG },
	{ "type 0", H, 0, .want = VTP_E_UNKNOWN_TYPE },
	{ "type 7 (gap)", H, 7, .want = VTP_E_UNKNOWN_TYPE },
	{ "type 105", G, 105, .want = VTP_E_UNKNOWN_TYPE },
	{ "type 0xffff", H, 0xffff, .want = VTP_E_UNKNOWN_TYPE },
	{ "host receives CONFIGURE", H, VTP_CONFIGURE, .object = 1, .want = VTP_E_UNKNOWN_TYPE },
	{ "host receives KEY", H, VTP_KEY, .object = 1, .want = VTP_E_UNKNOWN_TYPE },
	{ "guest receives ATTACH", G, VTP_ATTACH, .object = 1, OK_ATTACH(),
		.want = VTP_E_UNKNOWN_TYPE },
	{ "guest receives HELLO", G, VTP_HELLO, BODY(hello, { 1, 1, 0 }),
		.want = VTP_E_UNKNOWN_TYPE },
	{ "header flags", H, VTP_COMMIT, .flags = 1, .object = 1, .want = VTP_E_FLAGS },
	{ "header flags high bit", G, VTP_PING, .flags = 0x8000, .want = VTP_E_FLAGS },
	{ "window message without object", H, VTP_COMMIT, .want = VTP_E_OBJECT },
	{ "attach without object", H, VTP_ATTACH, OK_ATTACH(), .want = VTP_E_OBJECT },
	{ "key without object", G, VTP_KEY, .want = VTP_E_OBJECT },
	{ "ping with object", H, VTP_PING, .object = 5, .want = VTP_E_OBJECT },
	{ "keymap with object", G, VTP_KEYMAP, .object = 1, BODY(keymap, { 1 }), TAIL("x"),
		.want = VTP_E_OBJECT },
	{ "body one byte short", H, VTP_COMMIT, .object = 1, .body_delta = -1,
		.want = VTP_E_BAD_SIZE },
	{ "window_create short body", H, VTP_WINDOW_CREATE, .object = 1, TOPLEVEL(),
		.body_delta = -4, .want = VTP_E_BAD_SIZE },
	{ "tail on a fixed message", H, VTP_COMMIT, .object = 1, TAIL("x"),
		.want = VTP_E_BAD_SIZE },
	{ "tail on WINDOW_DESTROY", H, VTP_WINDOW_DESTROY, .object = 1, TAIL("abcd"),
		.want = VTP_E_BAD_SIZE },

	/* connection */
	{ "hello features", H, VTP_HELLO, BODY(hello, { 1, 1, 4 }), .want = VTP_E_FLAGS },
	{ "hello version_min 0", H, VTP_HELLO, BODY(hello, { 0, 1, 0 }), .want = VTP_E_BAD_VALUE },
	{ "hello min > max", H, VTP_HELLO, BODY(hello, { 3, 2, 0 }), .want = VTP_E_BAD_VALUE },
	{ "hello name too long", H, VTP_HELLO, BODY(hello, { 1, 1, 0 }), .fill = 'a',
		.tail_len = VTP_MAX_NAME + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "hello name with newline", H, VTP_HELLO, BODY(hello, { 1, 1, 0 }), TAIL("agent\n"),
		.want = VTP_E_CONTROL_CHAR },
	{ "welcome uppercase vm name", G, VTP_WELCOME, BODY(welcome, { 1, 1, 4096 }), TAIL("Work"),
		.want = VTP_E_BAD_VALUE },
	{ "welcome vm name with NUL", G, VTP_WELCOME, BODY(welcome, { 1, 1, 4096 }), TAIL("wo\0rk"),
		.want = VTP_E_BAD_VALUE },
	{ "welcome no vm name", G, VTP_WELCOME, BODY(welcome, { 1, 1, 4096 }),
		.want = VTP_E_BAD_SIZE },
	{ "welcome vm name 33", G, VTP_WELCOME, BODY(welcome, { 1, 1, 4096 }), .fill = 'a',
		.tail_len = 33, .want = VTP_E_TAIL_TOO_LONG },
	{ "welcome pool kind 3", G, VTP_WELCOME, BODY(welcome, { 1, 3, 4096 }), TAIL("w"),
		.want = VTP_E_BAD_VALUE },
	{ "welcome version 0", G, VTP_WELCOME, BODY(welcome, { 0, 1, 4096 }), TAIL("w"),
		.want = VTP_E_BAD_VALUE },
	{ "welcome pool size 0", G, VTP_WELCOME, BODY(welcome, { 1, 2, 0 }), TAIL("w"),
		.want = VTP_E_DIMENSIONS },
	{ "welcome pool 4 GiB + 1", G, VTP_WELCOME, BODY(welcome, { 1, 2, (1ull << 32) + 1 }),
		TAIL("w"), .want = VTP_E_DIMENSIONS },
	{ "error code 0", H, VTP_ERROR, BODY(error, { 0 }), .want = VTP_E_BAD_VALUE },
	{ "error code 6", G, VTP_ERROR, BODY(error, { 6 }), .want = VTP_E_BAD_VALUE },
	{ "error text too long", H, VTP_ERROR, BODY(error, { 1 }), .fill = 'e',
		.tail_len = VTP_MAX_ERROR_TEXT + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "output scale 0", G, VTP_OUTPUT_INFO, BODY(output_info, { 10, 10, 0, 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "output scale 5", G, VTP_OUTPUT_INFO, BODY(output_info, { 10, 10, 5, 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "output width 0", G, VTP_OUTPUT_INFO, BODY(output_info, { 0, 10, 1, 0 }),
		.want = VTP_E_DIMENSIONS },

	/* windows */
	{ "window kind 0", H, VTP_WINDOW_CREATE, .object = 2,
		BODY(window_create, { .kind = 0, .width = 1, .height = 1 }),
		.want = VTP_E_BAD_VALUE },
	{ "window kind 3", H, VTP_WINDOW_CREATE, .object = 2,
		BODY(window_create, { .kind = 3, .width = 1, .height = 1 }),
		.want = VTP_E_BAD_VALUE },
	{ "toplevel with parent", H, VTP_WINDOW_CREATE, .object = 2, TOPLEVEL(.parent = 1),
		.want = VTP_E_BAD_VALUE },
	{ "toplevel with gravity", H, VTP_WINDOW_CREATE, .object = 2, TOPLEVEL(.gravity = 1),
		.want = VTP_E_BAD_VALUE },
	{ "popup without parent", H, VTP_WINDOW_CREATE, .object = 2, POPUP(.parent = 0),
		.want = VTP_E_BAD_VALUE },
	{ "popup is its own parent", H, VTP_WINDOW_CREATE, .object = 1, POPUP(),
		.want = VTP_E_BAD_VALUE },
	{ "popup anchor 9", H, VTP_WINDOW_CREATE, .object = 2, POPUP(.anchor = 9),
		.want = VTP_E_BAD_VALUE },
	{ "popup gravity 0xffffffff", H, VTP_WINDOW_CREATE, .object = 2,
		POPUP(.gravity = 0xffffffff), .want = VTP_E_BAD_VALUE },
	{ "popup absurd offset", H, VTP_WINDOW_CREATE, .object = 2, POPUP(.offset_x = INT32_MIN),
		.want = VTP_E_BAD_VALUE },
	{ "popup absurd anchor width", H, VTP_WINDOW_CREATE, .object = 2,
		POPUP(.anchor_width = 0x80000000u), .want = VTP_E_BAD_VALUE },
	{ "window width 0", H, VTP_WINDOW_CREATE, .object = 2, TOPLEVEL(.width = 0),
		.want = VTP_E_DIMENSIONS },
	{ "window height 8193", H, VTP_WINDOW_CREATE, .object = 2,
		TOPLEVEL(.height = VTP_MAX_DIM + 1), .want = VTP_E_DIMENSIONS },
	{ "window width 4G", H, VTP_WINDOW_CREATE, .object = 2, TOPLEVEL(.width = 0xffffffffu),
		.want = VTP_E_DIMENSIONS },
	{ "size hints max < min", H, VTP_SET_SIZE_HINTS, .object = 1,
		BODY(size_hints, { 100, 0, 50, 0 }), .want = VTP_E_BAD_VALUE },
	{ "size hints absurd", H, VTP_SET_SIZE_HINTS, .object = 1,
		BODY(size_hints, { 0, 0, 0, 100000 }), .want = VTP_E_DIMENSIONS },
	{ "configure unknown state", G, VTP_CONFIGURE, .object = 1,
		BODY(configure, { 1, 0, 0, 0x10 }), .want = VTP_E_BAD_VALUE },
	{ "configure absurd width", G, VTP_CONFIGURE, .object = 1,
		BODY(configure, { 1, 9000, 0, 0 }), .want = VTP_E_DIMENSIONS },
	{ "resize edges 0", H, VTP_RESIZE_REQUEST, .object = 1, BODY(resize_request, { 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "resize top|bottom", H, VTP_RESIZE_REQUEST, .object = 1, BODY(resize_request, { 3 }),
		.want = VTP_E_BAD_VALUE },
	{ "resize left|right", H, VTP_RESIZE_REQUEST, .object = 1, BODY(resize_request, { 12 }),
		.want = VTP_E_BAD_VALUE },
	{ "resize edge 16", H, VTP_RESIZE_REQUEST, .object = 1, BODY(resize_request, { 16 }),
		.want = VTP_E_BAD_VALUE },
	{ "set_maximized 2", H, VTP_SET_MAXIMIZED, .object = 1, BODY(set_flag, { 2 }),
		.want = VTP_E_BAD_VALUE },
	{ "set_fullscreen ~0", H, VTP_SET_FULLSCREEN, .object = 1, BODY(set_flag, { 0xffffffff }),
		.want = VTP_E_BAD_VALUE },

	/* display strings */
	{ "title not UTF-8 (0xff)", H, VTP_SET_TITLE, .object = 1, TAIL("abc\xff"),
		.want = VTP_E_UTF8 },
	{ "title lone continuation", H, VTP_SET_TITLE, .object = 1, TAIL("\x80"),
		.want = VTP_E_UTF8 },
	{ "title truncated sequence", H, VTP_SET_TITLE, .object = 1, TAIL("ab\xe2\x82"),
		.want = VTP_E_UTF8 },
	{ "title overlong '/'", H, VTP_SET_TITLE, .object = 1, TAIL("\xc0\xaf"),
		.want = VTP_E_UTF8 },
	{ "title overlong 3 bytes", H, VTP_SET_TITLE, .object = 1, TAIL("\xe0\x80\xaf"),
		.want = VTP_E_UTF8 },
	{ "title overlong 4 bytes", H, VTP_SET_TITLE, .object = 1, TAIL("\xf0\x82\x82\xac"),
		.want = VTP_E_UTF8 },
	{ "title surrogate", H, VTP_SET_TITLE, .object = 1, TAIL("\xed\xa0\x80"),
		.want = VTP_E_UTF8 },
	{ "title above U+10FFFF", H, VTP_SET_TITLE, .object = 1, TAIL("\xf4\x90\x80\x80"),
		.want = VTP_E_UTF8 },
	{ "title 0xf5 lead", H, VTP_SET_TITLE, .object = 1, TAIL("\xf5\x80\x80\x80"),
		.want = VTP_E_UTF8 },
	{ "title control char", H, VTP_SET_TITLE, .object = 1, TAIL("evil\x1b[2J"),
		.want = VTP_E_CONTROL_CHAR },
	{ "title newline", H, VTP_SET_TITLE, .object = 1, TAIL("a\nb"),
		.want = VTP_E_CONTROL_CHAR },
	{ "title DEL", H, VTP_SET_TITLE, .object = 1, TAIL("a\x7f"), .want = VTP_E_CONTROL_CHAR },
	{ "title C1 (U+0085)", H, VTP_SET_TITLE, .object = 1, TAIL("a\xc2\x85"),
		.want = VTP_E_CONTROL_CHAR },
	{ "title embedded NUL", H, VTP_SET_TITLE, .object = 1, TAIL("[work] \0fake"),
		.want = VTP_E_CONTROL_CHAR },
	{ "title too long", H, VTP_SET_TITLE, .object = 1, .fill = 'x',
		.tail_len = VTP_MAX_TITLE + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "app id too long", H, VTP_SET_APP_ID, .object = 1, .fill = 'x',
		.tail_len = VTP_MAX_APP_ID + 1, .want = VTP_E_TAIL_TOO_LONG },

	/* buffers */
	{ "attach outside the pool", H, VTP_ATTACH, .object = 1,
		OK_ATTACH(.offset = POOL_SIZE - 64 * 256 + 64), .want = VTP_E_OUT_OF_POOL },
	{ "attach offset past the pool", H, VTP_ATTACH, .object = 1,
		OK_ATTACH(.offset = 1ull << 40), .want = VTP_E_OUT_OF_POOL },
	{ "attach before WELCOME (no pool)", H, VTP_ATTACH, .object = 1, OK_ATTACH(),
		.pool_size = ~0ull, .want = VTP_E_OUT_OF_POOL },
	{ "attach offset+size overflows", H, VTP_ATTACH, .object = 1,
		OK_ATTACH(.offset = UINT64_MAX & ~63ull), .want = VTP_E_OVERFLOW },
	{ "attach stride below width*4", H, VTP_ATTACH, .object = 1, OK_ATTACH(.stride = 252),
		.want = VTP_E_STRIDE },
	{ "attach stride not multiple of 4", H, VTP_ATTACH, .object = 1, OK_ATTACH(.stride = 258),
		.want = VTP_E_STRIDE },
	{ "attach absurd stride", H, VTP_ATTACH, .object = 1, OK_ATTACH(.stride = 0xfffffffc),
		.want = VTP_E_OUT_OF_POOL },
	{ "attach misaligned offset", H, VTP_ATTACH, .object = 1, OK_ATTACH(.offset = 32),
		.want = VTP_E_ALIGN },
	{ "attach width 0", H, VTP_ATTACH, .object = 1, OK_ATTACH(.width = 0),
		.want = VTP_E_DIMENSIONS },
	{ "attach height 8193", H, VTP_ATTACH, .object = 1, OK_ATTACH(.height = VTP_MAX_DIM + 1),
		.want = VTP_E_DIMENSIONS },
	{ "attach width 2^30 (width*4 overflows)", H, VTP_ATTACH, .object = 1,
		OK_ATTACH(.width = 1u << 30, .stride = 0), .want = VTP_E_DIMENSIONS },
	{ "attach 8192x8192 does not fit", H, VTP_ATTACH, .object = 1,
		OK_ATTACH(.width = 8192, .height = 8192, .stride = 32768),
		.want = VTP_E_OUT_OF_POOL },
	{ "attach bad format", H, VTP_ATTACH, .object = 1, OK_ATTACH(.format = 0x36314752),
		.want = VTP_E_BAD_VALUE },
	{ "attach scale 0", H, VTP_ATTACH, .object = 1, OK_ATTACH(.scale = 0),
		.want = VTP_E_BAD_VALUE },
	{ "attach scale 5", H, VTP_ATTACH, .object = 1, OK_ATTACH(.scale = VTP_MAX_SCALE + 1),
		.want = VTP_E_BAD_VALUE },
	{ "attach scale 4", H, VTP_ATTACH, .object = 1, OK_ATTACH(.scale = VTP_MAX_SCALE) },
	{ "attach scale 3, width not a multiple", H, VTP_ATTACH, .object = 1,
		OK_ATTACH(.scale = 3, .width = 64, .height = 63), .want = VTP_E_DIMENSIONS },
	{ "attach scale 2, height not a multiple", H, VTP_ATTACH, .object = 1,
		OK_ATTACH(.scale = 2, .height = 63), .want = VTP_E_DIMENSIONS },
	{ "window scale 0", G, VTP_WINDOW_SCALE, .object = 1, BODY(window_scale, { .scale = 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "window scale 5", G, VTP_WINDOW_SCALE, .object = 1, BODY(window_scale, { .scale = 5 }),
		.want = VTP_E_BAD_VALUE },
	{ "window scale without object", G, VTP_WINDOW_SCALE, BODY(window_scale, { .scale = 2 }),
		.want = VTP_E_OBJECT },
	{ "damage tail not multiple of 16", H, VTP_DAMAGE, .object = 1, .fill = 1, .tail_len = 17,
		.want = VTP_E_BAD_SIZE },
	{ "damage 0 rects", H, VTP_DAMAGE, .object = 1, .want = VTP_E_BAD_SIZE },
	{ "damage 65 rects", H, VTP_DAMAGE, .object = 1, .fill = 1, .tail_len = 65 * 16,
		.want = VTP_E_TAIL_TOO_LONG },
	{ "damage width 0", H, VTP_DAMAGE, .object = 1, RECTS({ 0, 0, 1, 1 }, { 0, 0, 0, 1 }),
		.want = VTP_E_DIMENSIONS },
	{ "damage negative height", H, VTP_DAMAGE, .object = 1, RECTS({ 0, 0, 1, -1 }),
		.want = VTP_E_DIMENSIONS },
	{ "damage x+width overflows", H, VTP_DAMAGE, .object = 1, RECTS({ INT32_MAX, 0, 1, 1 }),
		.want = VTP_E_OVERFLOW },
	{ "damage y+height overflows", H, VTP_DAMAGE, .object = 1,
		RECTS({ 0, 2000000000, 1, 2000000000 }), .want = VTP_E_OVERFLOW },
	{ "cursor too wide", H, VTP_SET_CURSOR, .object = 1, OK_CURSOR(.width = 65, .stride = 260),
		.want = VTP_E_DIMENSIONS },
	{ "cursor 0x5", H, VTP_SET_CURSOR, .object = 1, OK_CURSOR(.width = 0),
		.want = VTP_E_DIMENSIONS },
	{ "cursor hotspot outside", H, VTP_SET_CURSOR, .object = 1, OK_CURSOR(.hotspot_x = 16),
		.want = VTP_E_BAD_VALUE },
	{ "cursor hotspot negative", H, VTP_SET_CURSOR, .object = 1, OK_CURSOR(.hotspot_y = -1),
		.want = VTP_E_BAD_VALUE },
	{ "cursor hide with offset", H, VTP_SET_CURSOR, .object = 1,
		BODY(set_cursor, { .offset = 64 }), .want = VTP_E_BAD_VALUE },
	{ "cursor outside the pool", H, VTP_SET_CURSOR, .object = 1, OK_CURSOR(.offset = POOL_SIZE),
		.want = VTP_E_OUT_OF_POOL },
	{ "cursor stride short", H, VTP_SET_CURSOR, .object = 1, OK_CURSOR(.stride = 60),
		.want = VTP_E_STRIDE },
	{ "cursor scale 0", H, VTP_SET_CURSOR, .object = 1, OK_CURSOR(.scale = 0),
		.want = VTP_E_BAD_VALUE },
	{ "cursor scale 5", H, VTP_SET_CURSOR, .object = 1, OK_CURSOR(.scale = 5),
		.want = VTP_E_BAD_VALUE },
	{ "cursor hide with a scale", H, VTP_SET_CURSOR, .object = 1,
		BODY(set_cursor, { .scale = 1 }), .want = VTP_E_BAD_VALUE },

	/* input */
	{ "button state 2", G, VTP_POINTER_BUTTON, .object = 1,
		BODY(pointer_button, { 1, 1, 0x110, 2 }), .want = VTP_E_BAD_VALUE },
	{ "axis 2", G, VTP_POINTER_AXIS, .object = 1, BODY(pointer_axis, { 1, 2, 0, 0, 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "axis source 4", G, VTP_POINTER_AXIS, .object = 1, BODY(pointer_axis, { 1, 0, 0, 0, 4 }),
		.want = VTP_E_BAD_VALUE },
	{ "key state 5", G, VTP_KEY, .object = 1, BODY(key, { 1, 1, 30, 5 }),
		.want = VTP_E_BAD_VALUE },
	{ "keymap format 2", G, VTP_KEYMAP, BODY(keymap, { 2 }), TAIL("x"),
		.want = VTP_E_BAD_VALUE },
	{ "keymap empty", G, VTP_KEYMAP, BODY(keymap, { 1 }), .want = VTP_E_BAD_SIZE },
	{ "keymap with NUL", G, VTP_KEYMAP, BODY(keymap, { 1 }), TAIL("xkb\0"),
		.want = VTP_E_BAD_VALUE },
	{ "keymap oversize", G, VTP_KEYMAP, BODY(keymap, { 1 }), .fill = 'k',
		.tail_len = VTP_MAX_KEYMAP + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "repeat rate 1001", G, VTP_REPEAT_INFO, BODY(repeat_info, { 1001, 600 }),
		.want = VTP_E_BAD_VALUE },
	{ "repeat delay negative", G, VTP_REPEAT_INFO, BODY(repeat_info, { 25, -1 }),
		.want = VTP_E_BAD_VALUE },

	/* clipboard */
	{ "clipboard request 0 bytes", G, VTP_CLIPBOARD_REQUEST, BODY(clipboard_request, { 1, 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "clipboard request above cap", G, VTP_CLIPBOARD_REQUEST,
		BODY(clipboard_request, { 1, VTP_MAX_CLIPBOARD + 1 }), .want = VTP_E_BAD_VALUE },
	{ "clipboard chunk oversize", H, VTP_CLIPBOARD_DATA, BODY(clipboard_data, { 1, 1 }),
		.fill = 'c', .tail_len = VTP_MAX_CHUNK + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "clipboard set oversize", G, VTP_CLIPBOARD_SET, BODY(clipboard_data, { 1, 0 }),
		.fill = 'c', .tail_len = VTP_MAX_CHUNK + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "clipboard unknown flag", H, VTP_CLIPBOARD_DATA, BODY(clipboard_data, { 1, 4 }),
		TAIL("x"), .want = VTP_E_BAD_VALUE },
	{ "clipboard EMPTY without LAST", H, VTP_CLIPBOARD_DATA,
		BODY(clipboard_data, { 1, VTP_CHUNK_EMPTY }), .want = VTP_E_BAD_VALUE },
	{ "clipboard EMPTY with data", H, VTP_CLIPBOARD_DATA, BODY(clipboard_data, { 1, 3 }),
		TAIL("x"), .want = VTP_E_BAD_VALUE },
	{ "clipboard empty middle chunk", H, VTP_CLIPBOARD_DATA, BODY(clipboard_data, { 1, 0 }),
		.want = VTP_E_BAD_SIZE },

	/* open in VM */
	{ "url with space", H, VTP_OPEN_URL, TAIL("http://a b"), .want = VTP_E_BAD_VALUE },
	{ "url with non-ASCII", H, VTP_OPEN_URL, TAIL("http://\xc3\xa9"), .want = VTP_E_BAD_VALUE },
	{ "url empty", H, VTP_OPEN_URL, .want = VTP_E_BAD_SIZE },
	{ "url too long", H, VTP_OPEN_URL, .fill = 'u', .tail_len = VTP_MAX_URL + 1,
		.want = VTP_E_TAIL_TOO_LONG },
	{ "deliver url without source", G, VTP_DELIVER_URL, TAIL("http://a"),
		.want = VTP_E_BAD_VALUE },
	{ "deliver url bad source", G, VTP_DELIVER_URL, TAIL("http://a\0Bad"),
		.want = VTP_E_BAD_VALUE },
	{ "file begin too large", H, VTP_OPEN_FILE_BEGIN,
		BODY(file_begin, { .size = VTP_MAX_FILE_SIZE + 1 }), TAIL("a\0b/c\0"),
		.want = VTP_E_BAD_VALUE },
	{ "file begin reserved", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { .reserved = 1 }),
		TAIL("a\0b/c\0"), .want = VTP_E_FLAGS },
	{ "file name with '/'", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { 0 }),
		TAIL("../etc/passwd\0text/plain\0"), .want = VTP_E_BAD_VALUE },
	{ "file name '..'", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { 0 }),
		TAIL("..\0text/plain\0"), .want = VTP_E_BAD_VALUE },
	{ "file name empty", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { 0 }),
		TAIL("\0text/plain\0"), .want = VTP_E_BAD_VALUE },
	{ "file name control char", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { 0 }),
		TAIL("a\tb\0text/plain\0"), .want = VTP_E_CONTROL_CHAR },
	{ "file begin without separators", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { 0 }),
		.fill = 'n', .tail_len = 300, .want = VTP_E_BAD_VALUE },
	{ "file begin tail too long", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { 0 }), .fill = 'n',
		.tail_len = 600, .want = VTP_E_TAIL_TOO_LONG },
	{ "file begin missing mime", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { 0 }),
		TAIL("name.txt\0"), .want = VTP_E_BAD_VALUE },
	{ "file begin one part", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { 0 }), TAIL("name.txt"),
		.want = VTP_E_BAD_VALUE },
	{ "open file with a source", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { 0 }),
		TAIL("a\0b/c\0work"), .want = VTP_E_BAD_VALUE },
	{ "file begin trailing NUL", H, VTP_OPEN_FILE_BEGIN, BODY(file_begin, { 0 }),
		TAIL("a\0b/c\0\0"), .want = VTP_E_BAD_VALUE },
	{ "deliver file bad source", G, VTP_DELIVER_FILE_BEGIN, BODY(file_begin, { 0 }),
		TAIL("a\0b/c\0"), .want = VTP_E_BAD_VALUE },
	{ "file chunk oversize", H, VTP_OPEN_FILE_CHUNK, BODY(file_chunk, { 1 }), .fill = 'f',
		.tail_len = VTP_MAX_CHUNK + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "file chunk empty", G, VTP_DELIVER_FILE_CHUNK, BODY(file_chunk, { 1 }),
		.want = VTP_E_BAD_SIZE },
	{ "result code 7", G, VTP_OPEN_RESULT, BODY(result, { 1, 7 }), .want = VTP_E_BAD_VALUE },
	{ "result text not UTF-8", H, VTP_DELIVER_RESULT, BODY(result, { 1, 0 }), TAIL("\xfe"),
		.want = VTP_E_UTF8 },

	/* apps and commands */
	{ "app list count 1025", H, VTP_APP_LIST_BEGIN,
		BODY(app_list_begin, { 1, VTP_MAX_APPS + 1 }), .want = VTP_E_BAD_VALUE },
	{ "app id with '/'", H, VTP_APP_INFO, APPINFO("a/b.desktop\0N\0\0\0\0\0"),
		.want = VTP_E_BAD_VALUE },
	{ "app id with '..'", H, VTP_APP_INFO, APPINFO("a..b.desktop\0N\0\0\0\0\0"),
		.want = VTP_E_BAD_VALUE },
	{ "app id leading dot", H, VTP_APP_INFO, APPINFO(".x.desktop\0N\0\0\0\0\0"),
		.want = VTP_E_BAD_VALUE },
	{ "app id without .desktop", H, VTP_APP_INFO, APPINFO("firefox\0N\0\0\0\0\0"),
		.want = VTP_E_BAD_VALUE },
	{ "app id only .desktop", H, VTP_APP_INFO, APPINFO(".desktop\0N\0\0\0\0\0"),
		.want = VTP_E_BAD_VALUE },
	{ "app id leading '-'", H, VTP_APP_INFO, APPINFO("-x.desktop\0N\0\0\0\0\0"),
		.want = VTP_E_BAD_VALUE },
	{ "app id with space", H, VTP_APP_INFO, APPINFO("my app.desktop\0N\0\0\0\0\0"),
		.want = VTP_E_BAD_VALUE },
	{ "app info 5 fields", H, VTP_APP_INFO, APPINFO("a.desktop\0N\0\0\0\0"),
		.want = VTP_E_BAD_VALUE },
	{ "app info 7 fields", H, VTP_APP_INFO, APPINFO("a.desktop\0N\0\0\0\0\0\0"),
		.want = VTP_E_BAD_VALUE },
	{ "app info not NUL-terminated", H, VTP_APP_INFO, APPINFO("a.desktop\0N\0\0\0\0x"),
		.want = VTP_E_BAD_VALUE },
	{ "app info empty Name", H, VTP_APP_INFO, APPINFO("a.desktop\0\0\0\0\0\0"),
		.want = VTP_E_BAD_VALUE },
	{ "app info bad UTF-8 comment", H, VTP_APP_INFO, APPINFO("a.desktop\0N\0\0\xc0\x80\0\0\0"),
		.want = VTP_E_UTF8 },
	{ "app info index 1024", H, VTP_APP_INFO, BODY(app_info, { VTP_MAX_APPS }),
		TAIL("a.desktop\0N\0\0\0\0\0"), .want = VTP_E_BAD_VALUE },
	{ "app info oversize", H, VTP_APP_INFO, BODY(app_info, { 0 }), .fill = 'a',
		.tail_len = VTP_MAX_APP_INFO + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "icon size 64", H, VTP_APP_ICON, BODY(app_icon, { 0, 64 }), .fill = 1,
		.tail_len = 64 * 64 * 4, .want = VTP_E_BAD_VALUE },
	{ "icon tail wrong length", H, VTP_APP_ICON, BODY(app_icon, { 0, 96 }), .fill = 1,
		.tail_len = 48 * 48 * 4, .want = VTP_E_BAD_SIZE },
	{ "icon tail above 96x96", H, VTP_APP_ICON, BODY(app_icon, { 0, 96 }), .fill = 1,
		.tail_len = 96 * 96 * 4 + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "launch '../x.desktop'", G, VTP_LAUNCH_APP, BODY(launch, { 1 }), TAIL("../x.desktop"),
		.want = VTP_E_BAD_VALUE },
	{ "launch id with NUL", G, VTP_LAUNCH_APP, BODY(launch, { 1 }), TAIL("a\0.desktop"),
		.want = VTP_E_BAD_VALUE },
	{ "launch id leading '-'", G, VTP_LAUNCH_APP, BODY(launch, { 1 }), TAIL("--help.desktop"),
		.want = VTP_E_BAD_VALUE },
	{ "run argv[0] empty", G, VTP_RUN, BODY(launch, { 1 }), TAIL("\0x\0"),
		.want = VTP_E_BAD_VALUE },
	{ "run argv not terminated", G, VTP_RUN, BODY(launch, { 1 }), TAIL("sh\0-c"),
		.want = VTP_E_BAD_VALUE },
	{ "run no argv", G, VTP_RUN, BODY(launch, { 1 }), .want = VTP_E_BAD_SIZE },
	{ "run 257 args", G, VTP_RUN, BODY(launch, { 1 }), .fill = 0, .tail_len = 2 * 257,
		.want = VTP_E_BAD_VALUE },
	{ "run argv too long", G, VTP_RUN, BODY(launch, { 1 }), .fill = 'a',
		.tail_len = VTP_MAX_ARGV_BYTES + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "run result kind 4", H, VTP_RUN_RESULT, BODY(run_result, { 1, 4, 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "notify id 0", H, VTP_NOTIFY, NOTIFY(.id = 0), TAIL("abc"), .want = VTP_E_BAD_VALUE },
	{ "notify urgency 3", H, VTP_NOTIFY, NOTIFY(.urgency = 3), TAIL("abc"),
		.want = VTP_E_BAD_VALUE },
	{ "notify timeout -2", H, VTP_NOTIFY, NOTIFY(.expire_timeout = -2), TAIL("abc"),
		.want = VTP_E_BAD_VALUE },
	{ "notify timeout above max", H, VTP_NOTIFY,
		NOTIFY(.expire_timeout = VTP_MAX_NOTIFY_TIMEOUT + 1), TAIL("abc"),
		.want = VTP_E_BAD_VALUE },
	{ "notify reserved set", H, VTP_NOTIFY, NOTIFY(.reserved = 1), TAIL("abc"),
		.want = VTP_E_FLAGS },
	{ "notify lengths above tail", H, VTP_NOTIFY, NOTIFY(.body_len = 2), TAIL("abc"),
		.want = VTP_E_BAD_SIZE },
	{ "notify lengths below tail", H, VTP_NOTIFY, NOTIFY(.body_len = 0), TAIL("abc"),
		.want = VTP_E_BAD_SIZE },
	{ "notify summary above limit", H, VTP_NOTIFY,
		NOTIFY(.summary_len = VTP_MAX_NOTIFY_SUMMARY + 1, .body_len = 0, .app_name_len = 0),
		.fill = 'a', .tail_len = VTP_MAX_NOTIFY_SUMMARY + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "notify body above limit", H, VTP_NOTIFY,
		NOTIFY(.summary_len = 0, .body_len = VTP_MAX_NOTIFY_BODY + 1, .app_name_len = 0),
		.fill = 'a', .tail_len = VTP_MAX_NOTIFY_BODY + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "notify app name above limit", H, VTP_NOTIFY,
		NOTIFY(.summary_len = 0, .body_len = 0,
			.app_name_len = VTP_MAX_NOTIFY_APP_NAME + 1),
		.fill = 'a', .tail_len = VTP_MAX_NOTIFY_APP_NAME + 1, .want = VTP_E_TAIL_TOO_LONG },
	{ "notify control char in body", H, VTP_NOTIFY, NOTIFY(0),
		TAIL("a\x1b"
		     "c"),
		.want = VTP_E_CONTROL_CHAR },
	{ "notify bad UTF-8 app name", H, VTP_NOTIFY, NOTIFY(.app_name_len = 2), TAIL("ab\xc0\x80"),
		.want = VTP_E_UTF8 },
	{ "notify icon 65 wide", H, VTP_NOTIFY,
		NOTIFY(.summary_len = 0, .body_len = 0, .app_name_len = 0, .icon_width = 65,
			.icon_height = 1),
		.fill = 1, .tail_len = 65 * 4, .want = VTP_E_DIMENSIONS },
	{ "notify icon height 0", H, VTP_NOTIFY,
		NOTIFY(.summary_len = 0, .body_len = 0, .app_name_len = 0, .icon_width = 4),
		.want = VTP_E_DIMENSIONS },
	{ "notify icon short", H, VTP_NOTIFY,
		NOTIFY(.summary_len = 0, .body_len = 0, .app_name_len = 0, .icon_width = 2,
			.icon_height = 2),
		.fill = 1, .tail_len = 15, .want = VTP_E_BAD_SIZE },
	{ "notify with window object", H, VTP_NOTIFY, .object = 1, NOTIFY(0), TAIL("abc"),
		.want = VTP_E_OBJECT },
	{ "notify from the host", G, VTP_NOTIFY, NOTIFY(0), TAIL("abc"),
		.want = VTP_E_UNKNOWN_TYPE },
	{ "notify close id 0", H, VTP_NOTIFY_CLOSE, BODY(notify_id, { 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "notify action id 0", G, VTP_NOTIFY_ACTION, BODY(notify_id, { 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "notify action with a tail", G, VTP_NOTIFY_ACTION, BODY(notify_id, { 1 }),
		TAIL("default"), .want = VTP_E_BAD_SIZE },
	{ "notify closed reason 0", G, VTP_NOTIFY_CLOSED, BODY(notify_closed, { 1, 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "notify closed reason 5", G, VTP_NOTIFY_CLOSED, BODY(notify_closed, { 1, 5 }),
		.want = VTP_E_BAD_VALUE },
	{ "idle inhibit 2", H, VTP_IDLE_INHIBIT, .object = 1, BODY(idle_inhibit, { 2 }),
		.want = VTP_E_BAD_VALUE },
	{ "idle inhibit without a window", H, VTP_IDLE_INHIBIT, BODY(idle_inhibit, { 1 }),
		.want = VTP_E_OBJECT },
	{ "idle inhibit from the host", G, VTP_IDLE_INHIBIT, .object = 1, BODY(idle_inhibit, { 1 }),
		.want = VTP_E_UNKNOWN_TYPE },
	{ "net config from a guest", H, VTP_NET_CONFIG, BODY(net_config, { 1 }),
		TAIL("role net\nuplink 52:54:00:8b:00:00\n"), .want = VTP_E_UNKNOWN_TYPE },
	{ "net config without its end of line", G, VTP_NET_CONFIG, BODY(net_config, { 1 }),
		TAIL("role net\nuplink 52:54:00:8b:00:00"), .want = VTP_E_BAD_VALUE },
	{ "net config: a rule for another link", G, VTP_NET_CONFIG, BODY(net_config, { 1 }),
		TAIL("role firewall\nuplink 52:54:00:8b:00:00\nlink 1 52:54:00:8b:01:01 deny a\n"
		     "rule 2 1.2.3.4\n"),
		.want = VTP_E_BAD_VALUE },
	{ "net config: a shell word", G, VTP_NET_CONFIG, BODY(net_config, { 1 }),
		TAIL("role firewall\nuplink 52:54:00:8b:00:00\nlink 1 52:54:00:8b:01:01 deny a\n"
		     "rule 1 $(reboot)\n"),
		.want = VTP_E_BAD_VALUE },
	{ "net config: a tab", G, VTP_NET_CONFIG, BODY(net_config, { 1 }),
		TAIL("role\tnet\nuplink 52:54:00:8b:00:00\n"), .want = VTP_E_CONTROL_CHAR },
	{ "net config: a link twice", G, VTP_NET_CONFIG, BODY(net_config, { 1 }),
		TAIL("role net\nuplink 52:54:00:8b:00:00\nlink 1 52:54:00:8b:01:01 deny a\n"
		     "link 1 52:54:00:8b:01:01 deny b\n"),
		.want = VTP_E_BAD_VALUE },
	{ "net status: state 2", H, VTP_NET_STATUS, BODY(net_status, { 1, 2, 0 }),
		.want = VTP_E_BAD_VALUE },
	{ "net status: count and tail disagree", H, VTP_NET_STATUS, BODY(net_status, { 1, 0, 2 }),
		TAIL("012345678901234567890123"), .want = VTP_E_BAD_SIZE },
	{ "net status: link 0", H, VTP_NET_STATUS, BODY(net_status, { 1, 0, 1 }),
		TAIL("\0\0\0\0\0\0\0\0"
		     "12345678"
		     "12345678"),
		.want = VTP_E_BAD_VALUE },
	{ "net status: reserved set", H, VTP_NET_STATUS, BODY(net_status, { 1, 0, 1 }),
		TAIL("\1\0\0\0\1\0\0\0"
		     "12345678"
		     "12345678"),
		.want = VTP_E_FLAGS },
	{ "net status: 17 links", H, VTP_NET_STATUS, BODY(net_status, { 1, 0, 17 }),
		.want = VTP_E_BAD_VALUE },
	{ "net status from the host", G, VTP_NET_STATUS, BODY(net_status, { 1, 0, 0 }),
		.want = VTP_E_UNKNOWN_TYPE },
};
#pragma GCC diagnostic pop

/* Build the bytes of a case into a malloc'd buffer; returns the length
 * to hand to the decoder. */
static size_t build_case(const struct bad_case *c, uint8_t **out)
{
	int body = vtp_body_size(c->type);
	if (body < 0) {
		body = 0;
	}
	body += c->body_delta;
	size_t total = 12 + (size_t)body + c->tail_len;
	size_t alloc = total + 64;
	uint8_t *buf = calloc(1, alloc);
	struct vtp_header h = { .type = c->type, .flags = c->flags, .object = c->object };

	cr_assert_not_null(buf);
	h.size = c->size_set ? c->size_set : (uint32_t)total;
	h.size += (uint32_t)c->size_delta;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + 12, c->body.body.raw, (size_t)body < 48 ? (size_t)body : 48);
	if (c->tail_len > 0) {
		if (c->tail != NULL) {
			memcpy(buf + 12 + body, c->tail, c->tail_len);
		} else if (c->type == VTP_RUN && c->fill == 0) {
			for (uint32_t i = 0; i < c->tail_len; i++) {
				buf[12 + body + i] = (i % 2 == 0) ? 'a' : '\0';
			}
		} else {
			memset(buf + 12 + body, c->fill, c->tail_len);
		}
	}
	*out = buf;
	return (size_t)((ptrdiff_t)total + c->len_delta);
}

Test(msg, malformed_table)
{
	size_t n = sizeof(bad_cases) / sizeof(bad_cases[0]);
	cr_assert_geq(n, 40);
	for (size_t i = 0; i < n; i++) {
		const struct bad_case *c = &bad_cases[i];
		struct vtp_decoder dec = {
			.side = c->side, .pool_size = POOL_SIZE, .version = VTP_VERSION_MAX
		};
		struct vtp_msg m;
		uint8_t *buf;

		if (c->pool_size == ~0ull) {
			dec.pool_size = 0;
		} else if (c->pool_size) {
			dec.pool_size = c->pool_size;
		}
		size_t len = build_case(c, &buf);
		memset(&m, 0xaa, sizeof(m));
		enum vtp_status st = vtp_msg_decode(&dec, buf, len, &m);
		cr_expect_eq(st, c->want, "case '%s': got %s, want %s", c->name, vtp_status_str(st),
			vtp_status_str(c->want));
		if (st == VTP_OK) {
			vtp_msg_finish(&m);
		} else {
			cr_expect_null(m.tail, "case '%s': tail left on error", c->name);
		}
		free(buf);
	}
}

/* The boundaries of the limits are accepted, one past them is not (the
 * table above covers "one past"). */
Test(msg, limits_accepted_at_the_boundary)
{
	static uint8_t buf[VTP_MSG_MAX];
	static uint8_t tail[VTP_MAX_KEYMAP];
	struct vtp_msg m;
	size_t n;

	memset(tail, 'a', sizeof(tail));
	n = vtp_msg_encode(buf, sizeof(buf), VTP_SET_TITLE, 1, NULL, tail, VTP_MAX_TITLE);
	cr_assert_eq(vtp_msg_decode(&host_dec, buf, n, &m), VTP_OK);
	vtp_msg_finish(&m);

	struct vtp_keymap km = { 1 };
	n = vtp_msg_encode(buf, sizeof(buf), VTP_KEYMAP, 0, &km, tail, VTP_MAX_KEYMAP);
	cr_assert_eq(vtp_msg_decode(&guest_dec, buf, n, &m), VTP_OK);
	cr_assert_eq(m.tail_len, VTP_MAX_KEYMAP);
	vtp_msg_finish(&m);

	struct vtp_clipboard_data cd = { 1, VTP_CHUNK_LAST };
	n = vtp_msg_encode(buf, sizeof(buf), VTP_CLIPBOARD_DATA, 0, &cd, tail, VTP_MAX_CHUNK);
	cr_assert_eq(vtp_msg_decode(&host_dec, buf, n, &m), VTP_OK);
	vtp_msg_finish(&m);

	/* a buffer that ends exactly at the end of the pool */
	struct vtp_attach a = { .offset = POOL_SIZE - 256 * 64,
		.buffer_id = 1,
		.width = 64,
		.height = 64,
		.stride = 256,
		.format = VTP_FORMAT_ARGB8888,
		.scale = 1 };
	n = vtp_msg_encode(buf, sizeof(buf), VTP_ATTACH, 1, &a, NULL, 0);
	cr_assert_eq(vtp_msg_decode(&host_dec, buf, n, &m), VTP_OK);
	vtp_msg_finish(&m);
	a.offset += 64;
	n = vtp_msg_encode(buf, sizeof(buf), VTP_ATTACH, 1, &a, NULL, 0);
	cr_assert_eq(vtp_msg_decode(&host_dec, buf, n, &m), VTP_E_OUT_OF_POOL);

	/* 64 damage rects, a hidden cursor, 256 argv entries */
	struct vtp_rect rects[64];
	for (int i = 0; i < 64; i++) {
		rects[i] = (struct vtp_rect){ i, -i, 1, INT32_MAX - 64 };
	}
	n = vtp_msg_encode(buf, sizeof(buf), VTP_DAMAGE, 1, NULL, rects, sizeof(rects));
	cr_assert_eq(vtp_msg_decode(&host_dec, buf, n, &m), VTP_OK);
	cr_assert_eq(m.n_rects, 64);
	vtp_msg_finish(&m);

	struct vtp_set_cursor hide = { 0 };
	n = vtp_msg_encode(buf, sizeof(buf), VTP_SET_CURSOR, 1, &hide, NULL, 0);
	cr_assert_eq(vtp_msg_decode(&host_dec, buf, n, &m), VTP_OK);
	vtp_msg_finish(&m);

	for (int i = 0; i < 2 * 256; i++) {
		tail[i] = (i % 2 == 0) ? 'a' : '\0';
	}
	struct vtp_launch run = { 1 };
	n = vtp_msg_encode(buf, sizeof(buf), VTP_RUN, 0, &run, tail, 2 * 256);
	cr_assert_eq(vtp_msg_decode(&guest_dec, buf, n, &m), VTP_OK);
	vtp_msg_finish(&m);

	/* the biggest message there is */
	memset(tail, 'z', sizeof(tail));
	struct vtp_welcome w = { 1, VTP_POOL_PCI, VTP_MAX_POOL_SIZE };
	n = vtp_msg_encode(
		buf, sizeof(buf), VTP_WELCOME, 0, &w, "abcdefghijklmnopqrstuvwxyz-01234", 32);
	cr_assert_eq(vtp_msg_decode(&guest_dec, buf, n, &m), VTP_OK);
	vtp_msg_finish(&m);
}

/* Version 2 types are refused on a version 1 connection (and before
 * WELCOME, version 0), both ways. */
Test(msg, notify_types_need_version_2)
{
	static const uint16_t types[] = { VTP_NOTIFY, VTP_NOTIFY_CLOSE, VTP_NOTIFY_CLOSED,
		VTP_NOTIFY_ACTION };
	static uint8_t buf[4096];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct sample s;
		struct vtp_msg m;
		cr_assert(make_sample(types[i], &s));
		size_t n = encode_sample(&s, buf, sizeof(buf));
		for (uint32_t v = 0; v <= 2; v++) {
			struct vtp_decoder dec = {
				.side = s.side, .pool_size = POOL_SIZE, .version = v
			};
			enum vtp_status st = vtp_msg_decode(&dec, buf, n, &m);
			cr_assert_eq(st, v == 2 ? VTP_OK : VTP_E_UNKNOWN_TYPE, "%s version %u: %s",
				vtp_type_name(types[i]), v, vtp_status_str(st));
			vtp_msg_finish(&m);
		}
	}
}

/* Version 3 types are refused on a version 1 or 2 connection. */
Test(msg, idle_inhibit_needs_version_3)
{
	static uint8_t buf[256];
	struct sample s;
	struct vtp_msg m;
	cr_assert(make_sample(VTP_IDLE_INHIBIT, &s));
	size_t n = encode_sample(&s, buf, sizeof(buf));
	for (uint32_t v = 0; v <= 3; v++) {
		struct vtp_decoder dec = { .side = s.side, .pool_size = POOL_SIZE, .version = v };
		enum vtp_status st = vtp_msg_decode(&dec, buf, n, &m);
		cr_assert_eq(st, v == 3 ? VTP_OK : VTP_E_UNKNOWN_TYPE, "version %u: %s", v,
			vtp_status_str(st));
		vtp_msg_finish(&m);
	}
}

/* Version 4 added WINDOW_SCALE and gave ATTACH's last field its meaning:
 * before it, that field is reserved (0) and WINDOW_SCALE is unknown. */
Test(msg, scale_needs_version_4)
{
	static uint8_t buf[256];
	struct vtp_msg m;
	struct vtp_window_scale ws = { .scale = 2 };
	size_t n = vtp_msg_encode(buf, sizeof(buf), VTP_WINDOW_SCALE, 1, &ws, NULL, 0);
	for (uint32_t v = 1; v <= 4; v++) {
		struct vtp_decoder dec = {
			.side = VTP_SIDE_GUEST, .pool_size = POOL_SIZE, .version = v
		};
		cr_assert_eq(
			vtp_msg_decode(&dec, buf, n, &m), v == 4 ? VTP_OK : VTP_E_UNKNOWN_TYPE);
		vtp_msg_finish(&m);
	}
	struct vtp_attach a = {
		.width = 64, .height = 64, .stride = 256, .format = VTP_FORMAT_ARGB8888
	};
	for (uint32_t scale = 0; scale <= 2; scale++) {
		a.scale = scale;
		n = vtp_msg_encode(buf, sizeof(buf), VTP_ATTACH, 1, &a, NULL, 0);
		struct vtp_decoder v3 = {
			.side = VTP_SIDE_HOST, .pool_size = POOL_SIZE, .version = 3
		};
		struct vtp_decoder v4 = {
			.side = VTP_SIDE_HOST, .pool_size = POOL_SIZE, .version = 4
		};
		cr_assert_eq(vtp_msg_decode(&v3, buf, n, &m), scale == 0 ? VTP_OK : VTP_E_FLAGS);
		vtp_msg_finish(&m);
		cr_assert_eq(
			vtp_msg_decode(&v4, buf, n, &m), scale == 0 ? VTP_E_BAD_VALUE : VTP_OK);
		vtp_msg_finish(&m);
	}
}

/* A notification at every limit at once is accepted. */
Test(msg, notify_at_the_limits)
{
	static uint8_t buf[VTP_MSG_MAX];
	static uint8_t tail[VTP_MAX_NOTIFY_SUMMARY + VTP_MAX_NOTIFY_BODY + VTP_MAX_NOTIFY_APP_NAME +
		VTP_MAX_NOTIFY_ICON * VTP_MAX_NOTIFY_ICON * 4];
	struct vtp_notify nf = { .id = UINT32_MAX,
		.urgency = VTP_URGENCY_LOW,
		.expire_timeout = VTP_MAX_NOTIFY_TIMEOUT,
		.summary_len = VTP_MAX_NOTIFY_SUMMARY,
		.body_len = VTP_MAX_NOTIFY_BODY,
		.app_name_len = VTP_MAX_NOTIFY_APP_NAME,
		.icon_width = VTP_MAX_NOTIFY_ICON,
		.icon_height = VTP_MAX_NOTIFY_ICON };
	struct vtp_msg m;

	memset(tail, 'x', sizeof(tail));
	size_t n = vtp_msg_encode(buf, sizeof(buf), VTP_NOTIFY, 0, &nf, tail, sizeof(tail));
	cr_assert_eq(vtp_msg_decode(&host_dec, buf, n, &m), VTP_OK);
	cr_assert_eq(m.tail_len, sizeof(tail));
	vtp_msg_finish(&m);
	/* no text, no icon, never expires */
	nf = (struct vtp_notify){ .id = 1, .expire_timeout = 0 };
	n = vtp_msg_encode(buf, sizeof(buf), VTP_NOTIFY, 0, &nf, NULL, 0);
	cr_assert_eq(vtp_msg_decode(&host_dec, buf, n, &m), VTP_OK);
	cr_assert_null(m.tail);
	vtp_msg_finish(&m);
}

Test(msg, decoder_with_bad_side)
{
	uint8_t buf[16];
	struct vtp_decoder dec = { .side = (enum vtp_side)7, .pool_size = 0 };
	struct vtp_msg m;
	size_t n = vtp_msg_encode(buf, sizeof(buf), VTP_PING, 0, NULL, NULL, 0);
	cr_assert_eq(vtp_msg_decode(&dec, buf, n, &m), VTP_E_UNKNOWN_TYPE);
	vtp_msg_finish(NULL);
}

Test(msg, file_name_length)
{
	static uint8_t buf[4096];
	uint8_t tail[VTP_MAX_FILE_NAME + 1 + 11];
	struct vtp_file_begin fb = { .request_id = 1, .size = 10 };
	struct vtp_msg m;
	size_t n;

	/* name of exactly VTP_MAX_FILE_NAME bytes: accepted */
	memset(tail, 'n', VTP_MAX_FILE_NAME);
	memcpy(tail + VTP_MAX_FILE_NAME, "\0text/plain\0", 12);
	n = vtp_msg_encode(
		buf, sizeof(buf), VTP_OPEN_FILE_BEGIN, 0, &fb, tail, VTP_MAX_FILE_NAME + 12);
	cr_assert_eq(vtp_msg_decode(&host_dec, buf, n, &m), VTP_OK);
	cr_assert_str_eq((char *)m.tail + VTP_MAX_FILE_NAME + 1, "text/plain");
	vtp_msg_finish(&m);

	/* one more: too long */
	uint8_t tail2[VTP_MAX_FILE_NAME + 2 + 11];
	memset(tail2, 'n', VTP_MAX_FILE_NAME + 1);
	memcpy(tail2 + VTP_MAX_FILE_NAME + 1, "\0text/plain\0", 12);
	n = vtp_msg_encode(
		buf, sizeof(buf), VTP_OPEN_FILE_BEGIN, 0, &fb, tail2, VTP_MAX_FILE_NAME + 13);
	cr_assert_eq(vtp_msg_decode(&host_dec, buf, n, &m), VTP_E_TAIL_TOO_LONG);
}
