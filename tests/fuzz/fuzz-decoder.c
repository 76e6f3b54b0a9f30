/*
 * libFuzzer harness of the protocol decoder. The first input byte picks
 * how the rest is cut into chunks for vtp_stream_feed (0: all at once,
 * else sizes from a small generator seeded with it); the rest is the
 * byte stream. Both sides decode it with a fixed pool size. Every
 * decoded message must hold its invariants and encode back to exactly
 * the bytes it came from.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/protocol.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_POOL_SIZE (16u * 1024u * 1024u)

static uint8_t reencoded[VTP_MSG_MAX];

static void check_msg(const struct vtp_decoder *dec, const struct vtp_msg *m)
{
	int body = vtp_body_size(m->header.type);

	if (body < 0 || m->header.flags != 0 ||
		m->header.size != 12 + (uint32_t)body + m->tail_len) {
		__builtin_trap();
	}
	if ((m->tail_len == 0) != (m->tail == NULL)) {
		__builtin_trap();
	}
	if (m->tail != NULL && m->tail[m->tail_len] != '\0') {
		__builtin_trap();
	}
	if (m->header.type == VTP_DAMAGE) {
		if (m->n_rects == 0 || m->n_rects > VTP_MAX_DAMAGE_RECTS) {
			__builtin_trap();
		}
		for (uint32_t i = 0; i < m->n_rects; i++) {
			if (m->rects[i].width <= 0 || m->rects[i].height <= 0) {
				__builtin_trap();
			}
		}
	}
	if (m->header.type == VTP_ATTACH) {
		const struct vtp_attach *a = &m->body.attach;
		if (a->offset + (uint64_t)a->stride * a->height > dec->pool_size) {
			__builtin_trap();
		}
	}
	/* encode back: identical bytes, and they decode again */
	size_t n = vtp_msg_encode(reencoded, sizeof(reencoded), m->header.type, m->header.object,
		&m->body, m->tail, m->tail_len);
	if (n != m->header.size) {
		__builtin_trap();
	}
	struct vtp_msg again;
	if (vtp_msg_decode(dec, reencoded, n, &again) != VTP_OK) {
		__builtin_trap();
	}
	if (again.tail_len != m->tail_len ||
		(m->tail_len && memcmp(again.tail, m->tail, m->tail_len) != 0) ||
		memcmp(again.body.raw, m->body.raw, (size_t)body) != 0) {
		__builtin_trap();
	}
	vtp_msg_finish(&again);
	if (vtp_type_name(m->header.type) == NULL) {
		__builtin_trap();
	}
}

/* Drain every whole message; false once the stream is in error. */
static bool drain(struct vtp_stream *s, const struct vtp_decoder *dec)
{
	for (;;) {
		struct vtp_msg m;
		bool have;
		enum vtp_status st = vtp_stream_next(s, dec, &m, &have);
		if (vtp_status_str(st) == NULL) {
			__builtin_trap();
		}
		if (st != VTP_OK) {
			if (m.tail != NULL) {
				__builtin_trap(); /* nothing to free on error */
			}
			return false;
		}
		if (!have) {
			return true;
		}
		check_msg(dec, &m);
		vtp_msg_finish(&m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct vtp_decoder decs[2] = {
		{ .side = VTP_SIDE_HOST, .pool_size = FUZZ_POOL_SIZE, .version = VTP_VERSION_MAX },
		{ .side = VTP_SIDE_GUEST, .pool_size = FUZZ_POOL_SIZE, .version = VTP_VERSION_MAX },
	};

	if (size < 1) {
		return 0;
	}
	uint8_t mode = data[0];
	data++;
	size--;

	for (int side = 0; side < 2; side++) {
		struct vtp_stream s;
		uint32_t rng = mode * 2654435761u + 1;
		size_t pos = 0;
		bool ok = true;

		/* the whole input as one message, too */
		struct vtp_msg m;
		if (vtp_msg_decode(&decs[side], data, size, &m) == VTP_OK) {
			check_msg(&decs[side], &m);
			vtp_msg_finish(&m);
		}

		if (!vtp_stream_init(&s)) {
			return 0;
		}
		while (ok && pos < size) {
			size_t chunk = size - pos;
			if (mode != 0) {
				rng = rng * 1103515245u + 12345u;
				size_t c = 1 + ((rng >> 16) % (mode < 128 ? mode : 4096));
				if (c < chunk) {
					chunk = c;
				}
			}
			enum vtp_status st = vtp_stream_feed(&s, data + pos, chunk);
			if (st != VTP_OK) {
				break;
			}
			pos += chunk;
			ok = drain(&s, &decs[side]);
		}
		if (s.len > VTP_MSG_MAX || s.cap > VTP_MSG_MAX) {
			__builtin_trap();
		}
		vtp_stream_finish(&s);
	}
	return 0;
}
