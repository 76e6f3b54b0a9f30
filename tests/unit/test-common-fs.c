/*
 * common/fs.c: whole writes, small whole-file reads and private
 * directories, used by the host, the agent and vitrailctl.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vitrail/common/fs.h>

static char dir[PATH_MAX];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "%s/vitrail-test-fs.XXXXXX",
		getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[PATH_MAX + 16];
	int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert(n > 0 && (size_t)n < sizeof(cmd));
	cr_assert_eq(system(cmd), 0);
}

/* dir/name, in a buffer the next call reuses */
static char *path_in(const char *name)
{
	static char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert(n > 0 && (size_t)n < sizeof(path));
	return path;
}

static void put(const char *name, const char *text, size_t len)
{
	int fd = open(path_in(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert(fs_write_all(fd, text, len));
	cr_assert_eq(close(fd), 0);
}

TestSuite(fs, .init = make_dir, .fini = remove_dir);

Test(fs, read_file_reads_all_and_terminates)
{
	put("a", "hello\0world", 11);
	size_t len = 0;
	char *text = fs_read_file(path_in("a"), 11, 0, &len);
	cr_assert_not_null(text);
	cr_assert_eq(len, 11);
	cr_assert_eq(memcmp(text, "hello\0world", 11), 0);
	cr_assert_eq(text[11], '\0');
	free(text);
}

Test(fs, read_file_empty)
{
	put("empty", "", 0);
	size_t len = 99;
	char *text = fs_read_file(path_in("empty"), 0, 0, &len);
	cr_assert_not_null(text);
	cr_assert_eq(len, 0);
	cr_assert_eq(text[0], '\0');
	free(text);
}

Test(fs, read_file_refuses_more_than_max)
{
	put("big", "0123456789", 10);
	size_t len = 0;
	errno = 0;
	cr_assert_null(fs_read_file(path_in("big"), 9, 0, &len));
	cr_assert_eq(errno, EFBIG);
	char *text = fs_read_file(path_in("big"), 10, 0, &len);
	cr_assert_not_null(text);
	free(text);
}

Test(fs, read_file_refuses_what_is_not_a_regular_file)
{
	size_t len = 0;
	errno = 0;
	cr_assert_null(fs_read_file(dir, 4096, 0, &len));
	cr_assert_eq(errno, EINVAL);

	/* a FIFO is neither read nor waited for */
	cr_assert_eq(mkfifo(path_in("fifo"), 0600), 0);
	errno = 0;
	cr_assert_null(fs_read_file(path_in("fifo"), 4096, 0, &len));
	cr_assert_eq(errno, EINVAL);

	errno = 0;
	cr_assert_null(fs_read_file(path_in("absent"), 4096, 0, &len));
	cr_assert_eq(errno, ENOENT);
}

Test(fs, read_file_nofollow)
{
	put("target", "x", 1);
	cr_assert_eq(symlink("target", path_in("link")), 0);
	size_t len = 0;
	errno = 0;
	cr_assert_null(fs_read_file(path_in("link"), 16, O_NOFOLLOW, &len));
	cr_assert_eq(errno, ELOOP);
	char *text = fs_read_file(path_in("link"), 16, 0, &len);
	cr_assert_not_null(text);
	cr_assert_str_eq(text, "x");
	free(text);
}

Test(fs, read_fd_reads_from_the_offset_up_to_max)
{
	put("offset", "abcdef", 6);
	int fd = open(path_in("offset"), O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(lseek(fd, 2, SEEK_SET), 2);
	size_t len = 0;
	char *text = fs_read_fd(fd, 6, &len);
	cr_assert_not_null(text);
	cr_assert_str_eq(text, "cdef");
	cr_assert_eq(len, 4);
	free(text);
	close(fd);
}

Test(fs, write_all_to_a_socket_whose_peer_left)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert(fs_write_all(sv[0], "ping", 4));
	char buf[4];
	cr_assert_eq(read(sv[1], buf, 4), 4);
	cr_assert_eq(memcmp(buf, "ping", 4), 0);
	close(sv[1]);
	/* no SIGPIPE (it would kill the test): false and EPIPE */
	errno = 0;
	cr_assert_not(fs_write_all(sv[0], "pong", 4));
	cr_assert_eq(errno, EPIPE);
	close(sv[0]);
}

Test(fs, write_all_large_through_a_pipe)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	size_t size = 1 << 20;
	char *data = malloc(size);
	cr_assert_not_null(data);
	for (size_t i = 0; i < size; i++) {
		data[i] = (char)(i * 7);
	}
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		_exit(fs_write_all(p[1], data, size) ? 0 : 1);
	}
	close(p[1]);
	char *got = malloc(size);
	cr_assert_not_null(got);
	size_t n = 0;
	for (ssize_t r; n < size && (r = read(p[0], got + n, size - n)) > 0;) {
		n += (size_t)r;
	}
	close(p[0]);
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(n, size);
	cr_assert_eq(memcmp(got, data, size), 0);
	free(got);
	free(data);
}

Test(fs, make_dirs_creates_parents_0700)
{
	cr_assert(fs_make_dirs(path_in("a/b/c")));
	cr_assert(fs_make_dirs(path_in("a/b/c/"))); /* again, trailing slash */
	struct stat st;
	cr_assert_eq(stat(path_in("a/b"), &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0700);
	cr_assert_eq(stat(path_in("a/b/c"), &st), 0);
	cr_assert(S_ISDIR(st.st_mode));

	put("file", "x", 1);
	errno = 0;
	cr_assert_not(fs_make_dirs(path_in("file/sub")));
	cr_assert_eq(errno, ENOTDIR);
}

Test(fs, private_dir_fixes_the_mode)
{
	cr_assert_eq(mkdir(path_in("open"), 0755), 0);
	cr_assert(fs_private_dir(path_in("open")));
	struct stat st;
	cr_assert_eq(lstat(path_in("open"), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);

	cr_assert(fs_private_dir(path_in("new/deeper")));
	cr_assert_eq(lstat(path_in("new/deeper"), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
}

Test(fs, private_dir_refuses_links_and_files)
{
	cr_assert_eq(mkdir(path_in("real"), 0700), 0);
	cr_assert_eq(symlink("real", path_in("link")), 0);
	errno = 0;
	cr_assert_not(fs_private_dir(path_in("link")));
	cr_assert_eq(errno, ENOTDIR);

	put("file", "x", 1);
	errno = 0;
	cr_assert_not(fs_private_dir(path_in("file")));
	cr_assert_eq(errno, ENOTDIR);
}

Test(fs, private_dir_refuses_another_users)
{
	/* "/" belongs to root; this test means something when we are not root */
	if (getuid() == 0) {
		cr_skip_test("running as root");
	}
	errno = 0;
	cr_assert_not(fs_private_dir("/"));
	cr_assert_eq(errno, EPERM);
}
