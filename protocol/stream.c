/*
 * Bounded reassembly of the byte stream into whole messages. The buffer
 * grows on demand up to VTP_MSG_MAX and never beyond: a header whose
 * size is below the header or above VTP_MSG_MAX is an error as soon as
 * its 12 bytes are in.
 */
#include <vitrail/protocol.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STREAM_INITIAL_CAP (16u * 1024u)
#define STREAM_MAX_FDS 16

bool vtp_stream_init(struct vtp_stream *s)
{
	memset(s, 0, sizeof(*s));
	s->pending_fd = -1;
	s->buf = malloc(STREAM_INITIAL_CAP);
	if (s->buf == NULL) {
		return false;
	}
	s->cap = STREAM_INITIAL_CAP;
	return true;
}

void vtp_stream_finish(struct vtp_stream *s)
{
	if (s == NULL) {
		return;
	}
	free(s->buf);
	if (s->pending_fd >= 0) {
		close(s->pending_fd);
	}
	memset(s, 0, sizeof(*s));
	s->pending_fd = -1;
}

/* Check the header of the first held message, if complete. */
static enum vtp_status check_head(const struct vtp_stream *s)
{
	struct vtp_header h;

	if (s->len < sizeof(h)) {
		return VTP_OK;
	}
	memcpy(&h, s->buf + s->start, sizeof(h));
	if (h.size > VTP_MSG_MAX) {
		return VTP_E_TOO_LONG;
	}
	if (h.size < sizeof(h)) {
		return VTP_E_BAD_SIZE;
	}
	return VTP_OK;
}

/* Make room for at least want more bytes (want <= VTP_MSG_MAX - len). */
static bool make_room(struct vtp_stream *s, size_t want)
{
	if (s->start > 0 && s->start + s->len + want > s->cap) {
		memmove(s->buf, s->buf + s->start, s->len);
		s->start = 0;
	}
	if (s->len + want > s->cap) {
		size_t cap = s->cap ? s->cap : STREAM_INITIAL_CAP;
		while (cap < s->len + want) {
			cap *= 2;
		}
		if (cap > VTP_MSG_MAX) {
			cap = VTP_MSG_MAX;
		}
		uint8_t *buf = realloc(s->buf, cap);
		if (buf == NULL) {
			return false;
		}
		s->buf = buf;
		s->cap = cap;
	}
	return true;
}

enum vtp_status vtp_stream_feed(struct vtp_stream *s, const uint8_t *data, size_t len)
{
	if (len == 0) {
		return VTP_OK;
	}
	if (len > VTP_MSG_MAX - s->len) {
		return VTP_E_TOO_LONG;
	}
	if (!make_room(s, len)) {
		return VTP_E_NOMEM;
	}
	memcpy(s->buf + s->start + s->len, data, len);
	s->len += len;
	return check_head(s);
}

static void close_fds(struct msghdr *mh, struct vtp_stream *s)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (fd < 0) {
				continue;
			}
			if (s != NULL && s->pending_fd < 0) {
				s->pending_fd = fd; /* keep the first one */
			} else {
				close(fd);
			}
		}
	}
}

static ssize_t read_some(struct vtp_stream *s, int fd, bool want_fds, uint8_t *dst, size_t n)
{
	if (!want_fds) {
		return read(fd, dst, n);
	}
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int) * STREAM_MAX_FDS)];
	} control;
	struct iovec iov = { .iov_base = dst, .iov_len = n };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (r >= 0) {
		/* Whatever fds came along (even with MSG_CTRUNC), keep one
		 * and close the rest. */
		close_fds(&mh, s);
	}
	return r;
}

enum vtp_status vtp_stream_read(struct vtp_stream *s, int fd, bool want_fds, bool *eof)
{
	bool got = false;

	if (eof != NULL) {
		*eof = false;
	}
	for (;;) {
		size_t room = VTP_MSG_MAX - s->len;
		if (room == 0) {
			return VTP_OK; /* full: the caller drains with vtp_stream_next */
		}
		/* Read in pieces of at most 64 KiB; grow the buffer as needed. */
		size_t want = room < 65536 ? room : 65536;
		if (s->start + s->len + want > s->cap && !make_room(s, want)) {
			return VTP_E_NOMEM;
		}
		ssize_t r = read_some(s, fd, want_fds, s->buf + s->start + s->len, want);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return VTP_OK;
			}
			return VTP_E_IO;
		}
		if (r == 0) {
			if (got) {
				return VTP_OK; /* report EOF on the next call */
			}
			if (eof != NULL) {
				*eof = true;
			}
			return VTP_E_IO;
		}
		got = true;
		s->len += (size_t)r;
		enum vtp_status st = check_head(s);
		if (st != VTP_OK) {
			return st;
		}
	}
}

enum vtp_status vtp_stream_next(
	struct vtp_stream *s, const struct vtp_decoder *dec, struct vtp_msg *msg, bool *have)
{
	struct vtp_header h;
	enum vtp_status st;

	*have = false;
	if (s->len < sizeof(h)) {
		return VTP_OK;
	}
	st = check_head(s);
	if (st != VTP_OK) {
		return st;
	}
	memcpy(&h, s->buf + s->start, sizeof(h));
	if (s->len < h.size) {
		return VTP_OK;
	}
	st = vtp_msg_decode(dec, s->buf + s->start, h.size, msg);
	if (st != VTP_OK) {
		return st;
	}
	s->start += h.size;
	s->len -= h.size;
	if (s->len == 0) {
		s->start = 0;
	}
	*have = true;
	return VTP_OK;
}
