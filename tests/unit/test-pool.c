/*
 * The shared pool: a sealed memfd, passed over a unix socket with
 * SCM_RIGHTS and received by vtp_stream_read.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vitrail/protocol.h>

static const struct vtp_decoder guest_dec = { .side = VTP_SIDE_GUEST, .pool_size = 0 };

Test(pool, memfd_is_sealed)
{
	const uint64_t size = 1 << 20;
	struct stat st;
	int fd = vtp_pool_memfd_create("test-pool", size);

	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq((uint64_t)st.st_size, size);
	int seals = fcntl(fd, F_GET_SEALS);
	cr_assert_eq(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
		F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	cr_assert_eq(seals & F_SEAL_WRITE, 0, "the guest must be able to write pixels");
	cr_assert_neq(ftruncate(fd, size / 2), 0);
	cr_assert_neq(ftruncate(fd, size * 2), 0);
	cr_assert_neq(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	cr_assert_eq(vtp_pool_memfd_create("x", 0), -1);
	cr_assert_eq(vtp_pool_memfd_create("x", VTP_MAX_POOL_SIZE + 1), -1);
}

/* The host maps only a pool that cannot shrink under it (SIGBUS). */
Test(pool, sealed_size_demands_all_seals)
{
	int fd = vtp_pool_memfd_create("test-pool", 1 << 20);
	cr_assert_eq(vtp_pool_sealed_size(fd), 1 << 20);
	close(fd);

	/* a memfd without seals, or with some only */
	const int partial[] = { 0, F_SEAL_GROW | F_SEAL_SEAL, F_SEAL_SHRINK | F_SEAL_GROW,
		F_SEAL_SHRINK | F_SEAL_SEAL };
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		fd = memfd_create("partial", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		cr_assert_geq(fd, 0);
		cr_assert_eq(ftruncate(fd, 1 << 20), 0);
		if (partial[i] != 0) {
			cr_assert_eq(fcntl(fd, F_ADD_SEALS, partial[i]), 0);
		}
		cr_assert_eq(vtp_pool_sealed_size(fd), 0, "seals %#x accepted", partial[i]);
		close(fd);
	}

	/* a plain file anybody with it open could truncate */
	char path[] = "/tmp/vitrail-pool-XXXXXX";
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	cr_assert_eq(vtp_pool_sealed_size(fd), 0);
	close(fd);
	cr_assert_eq(vtp_pool_sealed_size(-1), 0);
}

Test(pool, memfd_over_scm_rights)
{
	const uint64_t size = 256 * 1024;
	int sv[2];
	uint8_t buf[64];
	struct vtp_welcome w = { 1, VTP_POOL_MEMFD, size };
	struct vtp_stream s;
	struct vtp_msg m;
	bool have, eof;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	int pool = vtp_pool_memfd_create("vitrail-test", size);
	cr_assert_geq(pool, 0);
	uint8_t *host_map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, pool, 0);
	cr_assert_neq(host_map, MAP_FAILED);

	size_t n = vtp_msg_encode(buf, sizeof(buf), VTP_WELCOME, 0, &w, "work", 4);
	cr_assert(vtp_scm_send_fd(sv[0], buf, n, pool));
	cr_assert_not(vtp_scm_send_fd(sv[0], buf, 0, pool));
	cr_assert_not(vtp_scm_send_fd(sv[0], buf, n, -1));

	cr_assert(vtp_stream_init(&s));
	cr_assert_eq(vtp_stream_read(&s, sv[1], true, &eof), VTP_OK);
	cr_assert_eq(vtp_stream_next(&s, &guest_dec, &m, &have), VTP_OK);
	cr_assert(have);
	cr_assert_eq(m.header.type, VTP_WELCOME);
	cr_assert_eq(m.body.welcome.pool_size, size);
	cr_assert_str_eq((char *)m.tail, "work");
	vtp_msg_finish(&m);

	int fd = s.pending_fd;
	s.pending_fd = -1;
	cr_assert_geq(fd, 0);
	cr_assert_neq(fd, pool);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC, "received with MSG_CMSG_CLOEXEC");
	int seals = fcntl(fd, F_GET_SEALS);
	cr_assert_eq(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
		F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	/* the same memory: the guest writes, the host sees it */
	uint8_t *guest_map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(guest_map, MAP_FAILED);
	guest_map[size - 1] = 0x5a;
	cr_assert_eq(host_map[size - 1], 0x5a);
	munmap(guest_map, size);
	munmap(host_map, size);
	close(fd);
	close(pool);
	vtp_stream_finish(&s);
	close(sv[0]);
	close(sv[1]);
}

/* Only one fd is kept: extra ones are closed, not leaked. */
Test(pool, extra_fds_are_closed)
{
	int sv[2], p[2];
	uint8_t buf[16];
	struct vtp_stream s;
	struct vtp_msg m;
	bool have, eof;
	char c;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	int pool = vtp_pool_memfd_create("one", 4096);
	size_t n = vtp_msg_encode(buf, sizeof(buf), VTP_PING, 0, &(struct vtp_ping){ 1 }, NULL, 0);
	cr_assert(vtp_scm_send_fd(sv[0], buf, n, pool));
	cr_assert(vtp_scm_send_fd(sv[0], buf, n, p[1]));
	close(p[1]); /* now only the copy in flight holds the write end */
	close(pool);

	cr_assert(vtp_stream_init(&s));
	cr_assert_eq(vtp_stream_read(&s, sv[1], true, &eof), VTP_OK);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(vtp_stream_next(&s, &guest_dec, &m, &have), VTP_OK);
		cr_assert(have);
		vtp_msg_finish(&m);
	}
	cr_assert_geq(s.pending_fd, 0);
	cr_assert_eq(fcntl(s.pending_fd, F_GET_SEALS) & F_SEAL_SEAL, F_SEAL_SEAL, "the first fd");
	/* the write end was closed by the stream: EOF on the read end */
	cr_assert_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	vtp_stream_finish(&s); /* closes pending_fd */
	close(sv[0]);
	close(sv[1]);
}

/* Without want_fds the fds are dropped (plain read()). */
Test(pool, fds_ignored_without_want_fds)
{
	int sv[2], p[2];
	uint8_t buf[16];
	struct vtp_stream s;
	bool eof;
	char c;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	size_t n = vtp_msg_encode(buf, sizeof(buf), VTP_PING, 0, NULL, NULL, 0);
	cr_assert(vtp_scm_send_fd(sv[0], buf, n, p[1]));
	close(p[1]);
	cr_assert(vtp_stream_init(&s));
	cr_assert_eq(vtp_stream_read(&s, sv[1], false, &eof), VTP_OK);
	cr_assert_eq(s.len, n);
	cr_assert_eq(s.pending_fd, -1);
	cr_assert_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	vtp_stream_finish(&s);
	close(sv[0]);
	close(sv[1]);
}
