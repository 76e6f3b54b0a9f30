/*
 * Bounded, non-blocking output queue: messages are encoded straight into
 * a linear buffer (buf[head .. head+len)) that grows up to its limit; a
 * peer that does not read makes vtp_outq_push fail instead of making us
 * block or allocate without bound.
 */
#include <vitrail/protocol.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUTQ_INITIAL_CAP (16u * 1024u)

bool vtp_outq_init(struct vtp_outq *q)
{
	memset(q, 0, sizeof(*q));
	q->limit = VTP_OUTQ_MAX;
	q->buf = malloc(OUTQ_INITIAL_CAP);
	if (q->buf == NULL) {
		return false;
	}
	q->cap = OUTQ_INITIAL_CAP;
	return true;
}

void vtp_outq_finish(struct vtp_outq *q)
{
	if (q == NULL) {
		return;
	}
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

bool vtp_outq_push(struct vtp_outq *q, uint16_t type, uint32_t object, const void *body,
	const void *tail, uint32_t tail_len)
{
	int body_size = vtp_body_size(type);
	size_t n;

	if (body_size < 0) {
		return false;
	}
	n = sizeof(struct vtp_header) + (size_t)body_size + tail_len;
	if (n > VTP_MSG_MAX || q->len > q->limit || n > q->limit - q->len) {
		return false;
	}
	if (q->head + q->len + n > q->cap) {
		if (q->head > 0) {
			memmove(q->buf, q->buf + q->head, q->len);
			q->head = 0;
		}
		if (q->len + n > q->cap) {
			size_t cap = q->cap ? q->cap : OUTQ_INITIAL_CAP;
			while (cap < q->len + n) {
				cap *= 2;
			}
			uint8_t *buf = realloc(q->buf, cap);
			if (buf == NULL) {
				return false;
			}
			q->buf = buf;
			q->cap = cap;
		}
	}
	size_t w = vtp_msg_encode(q->buf + q->head + q->len, q->cap - q->head - q->len, type,
		object, body, tail, tail_len);
	if (w != n) {
		return false;
	}
	q->len += n;
	return true;
}

enum vtp_status vtp_outq_flush(struct vtp_outq *q, int fd)
{
	bool use_write = false;

	while (q->len > 0) {
		ssize_t r;
		if (use_write) {
			r = write(fd, q->buf + q->head, q->len);
		} else {
			r = send(fd, q->buf + q->head, q->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == ENOTSOCK && !use_write) {
				/* virtio-serial port or pipe: plain write(), the fd
				 * is non-blocking */
				use_write = true;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return VTP_OK;
			}
			return VTP_E_IO;
		}
		if (r == 0) {
			return VTP_OK;
		}
		q->head += (size_t)r;
		q->len -= (size_t)r;
	}
	q->head = 0;
	return VTP_OK;
}
