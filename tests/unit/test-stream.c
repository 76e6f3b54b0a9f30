/*
 * Stream reassembly and the output queue: a multi-message byte sequence
 * split at every point, byte by byte, header errors as soon as the
 * header is in, reading from a real socket, the bounded queue.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vitrail/protocol.h>

static const struct vtp_decoder host_dec = { .side = VTP_SIDE_HOST, .pool_size = 1 << 24 };
static const struct vtp_decoder guest_dec = { .side = VTP_SIDE_GUEST, .pool_size = 1 << 24 };

#define SEQ_MAX 32

struct seq {
	uint8_t bytes[8192];
	size_t len;
	uint16_t types[SEQ_MAX];
	uint32_t sizes[SEQ_MAX];
	size_t n;
};

static void seq_add(struct seq *q, uint16_t type, uint32_t object, const void *body,
	const void *tail, uint32_t tail_len)
{
	size_t n = vtp_msg_encode(
		q->bytes + q->len, sizeof(q->bytes) - q->len, type, object, body, tail, tail_len);
	cr_assert_neq(n, 0);
	q->types[q->n] = type;
	q->sizes[q->n] = (uint32_t)n;
	q->n++;
	q->len += n;
}

/* What a guest typically sends when a window appears. */
static void make_seq(struct seq *q)
{
	memset(q, 0, sizeof(*q));
	struct vtp_hello hello = { 1, 1, 0 };
	seq_add(q, VTP_HELLO, 0, &hello, "agent", 5);
	struct vtp_window_create wc = { .kind = 1, .width = 300, .height = 200 };
	seq_add(q, VTP_WINDOW_CREATE, 1, &wc, NULL, 0);
	seq_add(q, VTP_SET_TITLE, 1, NULL, "caf\xc3\xa9", 5);
	seq_add(q, VTP_SET_APP_ID, 1, NULL, NULL, 0);
	struct vtp_attach a = { .offset = 0,
		.buffer_id = 1,
		.width = 300,
		.height = 200,
		.stride = 1200,
		.format = VTP_FORMAT_ARGB8888 };
	seq_add(q, VTP_ATTACH, 1, &a, NULL, 0);
	struct vtp_rect r[2] = { { 0, 0, 300, 200 }, { 5, 5, 1, 1 } };
	seq_add(q, VTP_DAMAGE, 1, NULL, r, sizeof(r));
	struct vtp_commit c = { 1 };
	seq_add(q, VTP_COMMIT, 1, &c, NULL, 0);
	struct vtp_ping p = { 42 };
	seq_add(q, VTP_PONG, 0, &p, NULL, 0);
	seq_add(q, VTP_APPS_CHANGED, 0, NULL, NULL, 0);
}

/* Take every whole message out; append their types to got. */
static void drain(struct vtp_stream *s, struct seq *got)
{
	for (;;) {
		struct vtp_msg m;
		bool have;
		enum vtp_status st = vtp_stream_next(s, &host_dec, &m, &have);
		cr_assert_eq(st, VTP_OK, "%s", vtp_status_str(st));
		if (!have) {
			return;
		}
		cr_assert_lt(got->n, SEQ_MAX);
		got->types[got->n] = m.header.type;
		got->sizes[got->n] = m.header.size;
		got->n++;
		vtp_msg_finish(&m);
	}
}

static void expect_same(const struct seq *want, const struct seq *got, size_t split)
{
	cr_assert_eq(got->n, want->n, "split %zu: %zu messages", split, got->n);
	for (size_t i = 0; i < want->n; i++) {
		cr_assert_eq(got->types[i], want->types[i], "split %zu msg %zu", split, i);
		cr_assert_eq(got->sizes[i], want->sizes[i], "split %zu msg %zu", split, i);
	}
}

Test(stream, split_at_every_point)
{
	static struct seq want, got;
	make_seq(&want);
	for (size_t k = 0; k <= want.len; k++) {
		struct vtp_stream s;
		memset(&got, 0, sizeof(got));
		cr_assert(vtp_stream_init(&s));
		cr_assert_eq(vtp_stream_feed(&s, want.bytes, k), VTP_OK);
		drain(&s, &got);
		cr_assert_eq(vtp_stream_feed(&s, want.bytes + k, want.len - k), VTP_OK);
		drain(&s, &got);
		cr_assert_eq(s.len, 0);
		expect_same(&want, &got, k);
		vtp_stream_finish(&s);
	}
}

Test(stream, split_at_every_pair_of_points)
{
	static struct seq want, got;
	make_seq(&want);
	for (size_t a = 0; a <= want.len; a += 3) {
		for (size_t b = a; b <= want.len; b += 5) {
			struct vtp_stream s;
			memset(&got, 0, sizeof(got));
			cr_assert(vtp_stream_init(&s));
			cr_assert_eq(vtp_stream_feed(&s, want.bytes, a), VTP_OK);
			drain(&s, &got);
			cr_assert_eq(vtp_stream_feed(&s, want.bytes + a, b - a), VTP_OK);
			drain(&s, &got);
			cr_assert_eq(vtp_stream_feed(&s, want.bytes + b, want.len - b), VTP_OK);
			drain(&s, &got);
			expect_same(&want, &got, a * 10000 + b);
			vtp_stream_finish(&s);
		}
	}
}

Test(stream, byte_by_byte)
{
	static struct seq want, got;
	struct vtp_stream s;

	make_seq(&want);
	memset(&got, 0, sizeof(got));
	cr_assert(vtp_stream_init(&s));
	for (size_t i = 0; i < want.len; i++) {
		cr_assert_eq(vtp_stream_feed(&s, want.bytes + i, 1), VTP_OK);
		size_t before = got.n;
		drain(&s, &got);
		/* a message comes out exactly when its last byte is in */
		size_t end = 0, complete = 0;
		for (size_t m = 0; m < want.n; m++) {
			end += want.sizes[m];
			if (end <= i + 1) {
				complete++;
			}
		}
		cr_assert_eq(got.n, complete, "after byte %zu (had %zu)", i, before);
	}
	expect_same(&want, &got, 0);
	vtp_stream_finish(&s);
}

Test(stream, all_at_once_without_draining)
{
	static struct seq want, got;
	struct vtp_stream s;

	make_seq(&want);
	memset(&got, 0, sizeof(got));
	cr_assert(vtp_stream_init(&s));
	cr_assert_eq(vtp_stream_feed(&s, want.bytes, want.len), VTP_OK);
	cr_assert_eq(vtp_stream_feed(&s, want.bytes, want.len), VTP_OK);
	drain(&s, &got);
	cr_assert_eq(got.n, 2 * want.n);
	vtp_stream_finish(&s);
}

static void header_bytes(uint8_t out[12], uint16_t type, uint32_t size)
{
	struct vtp_header h = { .type = type, .flags = 0, .size = size, .object = 0 };
	memcpy(out, &h, sizeof(h));
}

Test(stream, bad_size_caught_when_the_header_is_complete)
{
	uint8_t h[12];
	struct vtp_stream s;

	header_bytes(h, VTP_PING, 11);
	cr_assert(vtp_stream_init(&s));
	for (int i = 0; i < 11; i++) {
		cr_assert_eq(vtp_stream_feed(&s, h + i, 1), VTP_OK);
	}
	cr_assert_eq(vtp_stream_feed(&s, h + 11, 1), VTP_E_BAD_SIZE);
	vtp_stream_finish(&s);

	header_bytes(h, VTP_PING, VTP_MSG_MAX + 1);
	cr_assert(vtp_stream_init(&s));
	cr_assert_eq(vtp_stream_feed(&s, h, 11), VTP_OK);
	cr_assert_eq(vtp_stream_feed(&s, h + 11, 1), VTP_E_TOO_LONG);
	vtp_stream_finish(&s);

	/* vtp_stream_next says the same */
	header_bytes(h, VTP_PING, 0);
	cr_assert(vtp_stream_init(&s));
	vtp_stream_feed(&s, h, 12);
	struct vtp_msg m;
	bool have = true;
	cr_assert_eq(vtp_stream_next(&s, &host_dec, &m, &have), VTP_E_BAD_SIZE);
	cr_assert_not(have);
	vtp_stream_finish(&s);
}

Test(stream, decode_error_propagates)
{
	uint8_t buf[64];
	struct vtp_stream s;
	struct vtp_msg m;
	bool have;

	size_t n = vtp_msg_encode(buf, sizeof(buf), VTP_SET_TITLE, 1, NULL, "a\x01", 2);
	cr_assert(vtp_stream_init(&s));
	cr_assert_eq(vtp_stream_feed(&s, buf, n), VTP_OK);
	cr_assert_eq(vtp_stream_next(&s, &host_dec, &m, &have), VTP_E_CONTROL_CHAR);
	cr_assert_not(have);
	cr_assert_null(m.tail);
	vtp_stream_finish(&s);
}

Test(stream, never_holds_more_than_msg_max)
{
	uint8_t buf[16];
	struct vtp_stream s;
	size_t n = vtp_msg_encode(buf, sizeof(buf), VTP_PING, 0, NULL, NULL, 0);
	size_t fed = 0;

	cr_assert(vtp_stream_init(&s));
	while (fed + n <= VTP_MSG_MAX) {
		cr_assert_eq(vtp_stream_feed(&s, buf, n), VTP_OK);
		fed += n;
	}
	cr_assert_eq(vtp_stream_feed(&s, buf, n), VTP_E_TOO_LONG);
	cr_assert_eq(s.len, fed);
	cr_assert_leq(s.cap, VTP_MSG_MAX);
	/* drain all, then it takes bytes again */
	struct vtp_msg m;
	bool have;
	size_t count = 0;
	while (vtp_stream_next(&s, &host_dec, &m, &have) == VTP_OK && have) {
		vtp_msg_finish(&m);
		count++;
	}
	cr_assert_eq(count, fed / n);
	cr_assert_eq(vtp_stream_feed(&s, buf, n), VTP_OK);
	vtp_stream_finish(&s);
}

static void nb_socketpair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

Test(stream, read_from_socket_and_eof)
{
	static struct seq want, got;
	struct vtp_stream s;
	bool eof = true;
	int sv[2];

	make_seq(&want);
	memset(&got, 0, sizeof(got));
	nb_socketpair(sv);
	cr_assert(vtp_stream_init(&s));
	/* nothing there yet: OK, no EOF */
	cr_assert_eq(vtp_stream_read(&s, sv[0], true, &eof), VTP_OK);
	cr_assert_not(eof);
	cr_assert_eq(write(sv[1], want.bytes, 100), 100);
	cr_assert_eq(vtp_stream_read(&s, sv[0], true, &eof), VTP_OK);
	drain(&s, &got);
	cr_assert_eq(write(sv[1], want.bytes + 100, want.len - 100), (ssize_t)(want.len - 100));
	close(sv[1]);
	/* the data before EOF is returned first */
	cr_assert_eq(vtp_stream_read(&s, sv[0], false, &eof), VTP_OK);
	cr_assert_not(eof);
	drain(&s, &got);
	expect_same(&want, &got, 100);
	cr_assert_eq(vtp_stream_read(&s, sv[0], false, &eof), VTP_E_IO);
	cr_assert(eof);
	close(sv[0]);
	vtp_stream_finish(&s);
}

/* A 1 MiB message written through the bounded queue and read back
 * through the stream over a real socket, both non-blocking. */
Test(stream, biggest_message_through_socket)
{
	static uint8_t keymap[VTP_MAX_KEYMAP];
	struct vtp_outq q;
	struct vtp_stream s;
	struct vtp_keymap km = { 1 };
	int sv[2];
	bool have = false, eof;
	struct vtp_msg m;

	for (size_t i = 0; i < sizeof(keymap); i++) {
		keymap[i] = (uint8_t)('a' + i % 26);
	}
	nb_socketpair(sv);
	cr_assert(vtp_outq_init(&q));
	cr_assert(vtp_stream_init(&s));
	cr_assert(vtp_outq_push(&q, VTP_KEYMAP, 0, &km, keymap, sizeof(keymap)));
	cr_assert(vtp_outq_push(&q, VTP_PING, 0, &(struct vtp_ping){ 7 }, NULL, 0));
	int rounds = 0;
	while (!have) {
		cr_assert_eq(vtp_outq_flush(&q, sv[1]), VTP_OK);
		cr_assert_eq(vtp_stream_read(&s, sv[0], true, &eof), VTP_OK);
		cr_assert_eq(vtp_stream_next(&s, &guest_dec, &m, &have), VTP_OK);
		cr_assert_lt(++rounds, 10000);
	}
	cr_assert_eq(m.header.type, VTP_KEYMAP);
	cr_assert_eq(m.tail_len, sizeof(keymap));
	cr_assert_eq(memcmp(m.tail, keymap, sizeof(keymap)), 0);
	vtp_msg_finish(&m);
	have = false;
	while (!have) {
		cr_assert_eq(vtp_outq_flush(&q, sv[1]), VTP_OK);
		cr_assert_eq(vtp_stream_read(&s, sv[0], true, &eof), VTP_OK);
		cr_assert_eq(vtp_stream_next(&s, &guest_dec, &m, &have), VTP_OK);
		cr_assert_lt(++rounds, 10000);
	}
	cr_assert_eq(m.header.type, VTP_PING);
	cr_assert_eq(m.body.ping.serial, 7);
	cr_assert(vtp_outq_empty(&q));
	vtp_outq_finish(&q);
	vtp_stream_finish(&s);
	close(sv[0]);
	close(sv[1]);
}

Test(outq, limit)
{
	struct vtp_outq q;
	uint8_t tail[88];
	size_t pushed = 0;

	memset(tail, 'x', sizeof(tail));
	cr_assert(vtp_outq_init(&q));
	cr_assert_eq(q.limit, VTP_OUTQ_MAX);
	q.limit = 1000;
	/* 12 + 0 + 88 = 100 bytes each: exactly ten fit */
	while (vtp_outq_push(&q, VTP_SET_TITLE, 1, NULL, tail, sizeof(tail))) {
		pushed++;
		cr_assert_leq(pushed, 10);
	}
	cr_assert_eq(pushed, 10);
	cr_assert_eq(q.len, 1000);
	/* a refused push leaves nothing behind */
	cr_assert_not(vtp_outq_push(&q, VTP_PING, 0, NULL, NULL, 0));
	cr_assert_eq(q.len, 1000);
	/* unknown types and oversize messages are refused */
	q.limit = VTP_OUTQ_MAX;
	cr_assert_not(vtp_outq_push(&q, 999, 0, NULL, NULL, 0));
	static uint8_t big[VTP_MSG_MAX];
	cr_assert_not(vtp_outq_push(&q, VTP_CLIPBOARD_SET, 0, NULL, big, VTP_MSG_MAX - 12 - 8 + 1));
	cr_assert_eq(q.len, 1000);
	vtp_outq_finish(&q);
	vtp_outq_finish(NULL);
}

Test(outq, default_limit_stops_a_peer_that_does_not_read)
{
	static uint8_t chunk[VTP_MAX_CHUNK];
	struct vtp_outq q;
	struct vtp_clipboard_data cd = { 1, 0 };
	int sv[2];
	size_t pushed = 0;

	nb_socketpair(sv);
	cr_assert(vtp_outq_init(&q));
	for (;;) {
		if (!vtp_outq_push(&q, VTP_CLIPBOARD_SET, 0, &cd, chunk, sizeof(chunk))) {
			break;
		}
		pushed++;
		cr_assert_eq(vtp_outq_flush(&q, sv[0]), VTP_OK);
		cr_assert_lt(pushed, 10000);
	}
	/* the socket buffer took some, the queue holds at most its limit */
	cr_assert_leq(q.len, VTP_OUTQ_MAX);
	cr_assert_gt(q.len, VTP_OUTQ_MAX - (12 + 8 + sizeof(chunk)));
	cr_assert_leq(q.cap, VTP_OUTQ_MAX * 2);
	vtp_outq_finish(&q);
	close(sv[0]);
	close(sv[1]);
}

Test(outq, flush_to_a_pipe_and_after_partial_writes)
{
	struct vtp_outq q;
	int p[2];
	uint8_t want[64], got[64];
	struct vtp_ping ping = { 99 };

	cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	cr_assert(vtp_outq_init(&q));
	cr_assert(vtp_outq_push(&q, VTP_PING, 0, &ping, NULL, 0));
	cr_assert(vtp_outq_push(&q, VTP_SET_TITLE, 3, NULL, "t", 1));
	size_t n = vtp_msg_encode(want, sizeof(want), VTP_PING, 0, &ping, NULL, 0);
	n += vtp_msg_encode(want + n, sizeof(want) - n, VTP_SET_TITLE, 3, NULL, "t", 1);
	cr_assert_eq(vtp_outq_flush(&q, p[1]), VTP_OK);
	cr_assert(vtp_outq_empty(&q));
	cr_assert_eq(read(p[0], got, sizeof(got)), (ssize_t)n);
	cr_assert_eq(memcmp(got, want, n), 0);

	/* an fd that is neither: error */
	close(p[0]);
	close(p[1]);
	cr_assert(vtp_outq_push(&q, VTP_PING, 0, &ping, NULL, 0));
	cr_assert_eq(vtp_outq_flush(&q, p[1]), VTP_E_IO);
	vtp_outq_finish(&q);
}

Test(outq, peer_gone_is_an_error_not_a_signal)
{
	struct vtp_outq q;
	int sv[2];

	nb_socketpair(sv);
	close(sv[1]);
	cr_assert(vtp_outq_init(&q));
	cr_assert(vtp_outq_push(&q, VTP_PING, 0, NULL, NULL, 0));
	cr_assert_eq(vtp_outq_flush(&q, sv[0]), VTP_E_IO);
	vtp_outq_finish(&q);
	close(sv[0]);
}

Test(outq, partial_then_rest)
{
	static uint8_t chunk[VTP_MAX_CHUNK];
	static uint8_t sink[1 << 16];
	struct vtp_outq q;
	struct vtp_clipboard_data cd = { 1, 0 };
	int sv[2];
	size_t total = 0, received = 0;

	nb_socketpair(sv);
	cr_assert(vtp_outq_init(&q));
	for (int i = 0; i < 40; i++) {
		memset(chunk, i, sizeof(chunk));
		cr_assert(vtp_outq_push(&q, VTP_CLIPBOARD_SET, 0, &cd, chunk, sizeof(chunk)));
		total += 12 + 8 + sizeof(chunk);
	}
	cr_assert_eq(vtp_outq_flush(&q, sv[0]), VTP_OK);
	cr_assert_not(vtp_outq_empty(&q), "2.6 MB should not fit a socket buffer");
	int rounds = 0;
	while (received < total) {
		ssize_t r = read(sv[1], sink, sizeof(sink));
		if (r > 0) {
			received += (size_t)r;
		} else {
			cr_assert(r < 0 && errno == EAGAIN);
		}
		cr_assert_eq(vtp_outq_flush(&q, sv[0]), VTP_OK);
		cr_assert_lt(++rounds, 100000);
	}
	cr_assert_eq(received, total);
	cr_assert(vtp_outq_empty(&q));
	cr_assert_eq(q.head, 0);
	vtp_outq_finish(&q);
	close(sv[0]);
	close(sv[1]);
}
