/*
 * Small file helpers of the host, the agent and vitrailctl: whole writes,
 * small whole-file reads and private directories. No wlroots and no
 * logging: each returns false or NULL with errno set, and the caller says
 * what failed.
 */
#ifndef VITRAIL_COMMON_FS_H
#define VITRAIL_COMMON_FS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Write all len bytes to a blocking fd, retrying on EINTR and short
 * writes. On a socket it sends with MSG_NOSIGNAL: a closed peer gives
 * false and EPIPE, never SIGPIPE. false with errno set on failure (EIO
 * when a write made no progress).
 */
bool fs_write_all(int fd, const void *data, size_t len);

/*
 * Read a whole regular file of at most max bytes from fd (from its current
 * offset), NUL-terminated; *len is the size without the NUL. A file that
 * grows or shrinks while it is read is read as it is then, within max.
 * NULL with errno: EINVAL when fd is not a regular file, EFBIG when it is
 * larger than max, ENOMEM, or what fstat or read set. fd stays open.
 */
char *fs_read_fd(int fd, size_t max, size_t *len);

/*
 * fs_read_fd on path, opened read-only (O_CLOEXEC, O_NOCTTY, O_NONBLOCK so
 * a FIFO cannot block) with open_flags added (O_NOFOLLOW, or 0). NULL with
 * errno as open or fs_read_fd set it.
 */
char *fs_read_file(const char *path, size_t max, int open_flags, size_t *len);

/*
 * mkdir -p: create path and its missing parents with mode 0700. false
 * with errno (ENAMETOOLONG past PATH_MAX, or mkdir's).
 */
bool fs_make_dirs(const char *path);

/*
 * A directory only we may use: fs_make_dirs, then path must be a real
 * directory (not a symlink) owned by our uid; its mode is set to 0700 if
 * it is not. false with errno: ENOTDIR when it is no directory, EPERM when
 * another user owns it, or what mkdir, lstat or chmod set.
 */
bool fs_private_dir(const char *path);

/*
 * A file of the user's by the XDG base-directory rule: "$ENV/REST" when the
 * environment variable env holds an absolute path, else "$HOME/home_dir/REST"
 * (REST from fmt). NULL when neither is absolute, or out of memory.
 */
char *fs_user_path(const char *env, const char *home_dir, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
