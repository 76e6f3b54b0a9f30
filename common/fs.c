#include <vitrail/common/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vitrail/common/text.h>

bool fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	bool is_socket = true; /* until send says otherwise */
	while (len > 0) {
		ssize_t n = is_socket ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
		if (n < 0 && errno == ENOTSOCK && is_socket) {
			is_socket = false;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return false;
		}
		if (n == 0) {
			errno = EIO;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

char *fs_read_fd(int fd, size_t max, size_t *len)
{
	if (max > SIZE_MAX - 2) {
		max = SIZE_MAX - 2; /* room for the byte past max and the NUL */
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		errno = EFBIG;
		return NULL;
	}
	/* room for one byte more than fstat said: the read that sees EOF */
	size_t cap = (size_t)st.st_size + 1;
	char *buf = malloc(cap + 1);
	size_t got = 0;
	if (buf == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (;;) {
		if (got == cap) {
			/* it grew since fstat: more room, up to one byte past max */
			if (cap > max) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			size_t grown = cap <= max / 2 ? cap * 2 : max + 1;
			char *bigger = realloc(buf, grown + 1);
			if (bigger == NULL) {
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = bigger;
			cap = grown;
		}
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int saved = errno;
			free(buf);
			errno = saved;
			return NULL;
		}
		if (n == 0) {
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

char *fs_read_file(const char *path, size_t max, int open_flags, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | open_flags);
	if (fd < 0) {
		return NULL;
	}
	char *data = fs_read_fd(fd, max, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return data;
}

bool fs_make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t n = 0;
	while (path[n] != '\0' && n < sizeof(buf)) {
		n++;
	}
	if (n == 0) {
		errno = ENOENT;
		return false;
	}
	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return false;
	}
	for (size_t i = 0; i <= n; i++) {
		buf[i] = path[i];
		if (i == 0 || (path[i] != '/' && path[i] != '\0')) {
			continue;
		}
		buf[i] = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
			return false;
		}
		buf[i] = path[i];
	}
	return true;
}

bool fs_private_dir(const char *path)
{
	if (!fs_make_dirs(path)) {
		return false;
	}
	struct stat st;
	if (lstat(path, &st) < 0) {
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return false;
	}
	if (st.st_uid != getuid()) {
		errno = EPERM;
		return false;
	}
	return (st.st_mode & 0777) == 0700 || chmod(path, 0700) == 0;
}

char *fs_user_path(const char *env, const char *home_dir, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	char *rest = text_vprintf(fmt, args);
	va_end(args);
	const char *base = getenv(env);
	char *path = NULL;
	if (rest != NULL && base != NULL && base[0] == '/') {
		path = text_printf("%s/%s", base, rest);
	} else if (rest != NULL && (base = getenv("HOME")) != NULL && base[0] == '/') {
		path = text_printf("%s/%s/%s", base, home_dir, rest);
	}
	free(rest);
	return path;
}
