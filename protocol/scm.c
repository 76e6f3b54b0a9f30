/*
 * Passing a file descriptor (the pool memfd) over a unix socket.
 */
#include <vitrail/protocol.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

bool vtp_scm_send_fd(int sock, const void *data, size_t len, int fd_to_send)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} control;
	const uint8_t *p = data;
	size_t done = 0;
	bool fd_sent = false;

	if (len == 0 || data == NULL || fd_to_send < 0) {
		return false; /* an fd needs at least one byte to ride on */
	}
	while (done < len) {
		struct iovec iov = { .iov_base = (void *)(p + done), .iov_len = len - done };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (!fd_sent) {
			memset(&control, 0, sizeof(control));
			mh.msg_control = control.buf;
			mh.msg_controllen = sizeof(control.buf);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &fd_to_send, sizeof(int));
		}
		/* never wait on a peer: a full socket is a failure (the caller
		 * sends this first, into an empty socket buffer) */
		ssize_t r = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			return false;
		}
		fd_sent = true;
		done += (size_t)r;
	}
	return true;
}
