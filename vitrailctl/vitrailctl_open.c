#include "vitrailctl_open.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vitrail/protocol.h>

#include <vitrail/common/filename.h>
#include <vitrail/common/fs.h>
#include <vitrail/common/mimetype.h>
#include <vitrail/common/text.h>
#include "vitrailctl.h"

#define CHUNK (64u * 1024u)
#define REPLY_MAX (64u * 1024u)

static int usage(const char *why)
{
	fprintf(stderr,
		"vitrailctl: %s\n"
		"usage: vitrailctl open [--type MIME] (VM | --auto) FILE|URL\n",
		why);
	return 2;
}

/* Stream size bytes of file; stops early when vitrail answers. false on a
 * local read error (printed). */
static bool stream_file(int fd, int file, uint64_t size, const char *path)
{
	static char buf[CHUNK];
	uint64_t sent = 0;
	while (sent < size) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			return true;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			return true; /* an early answer */
		}
		size_t want = size - sent < CHUNK ? (size_t)(size - sent) : CHUNK;
		ssize_t r = read(file, buf, want);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			fprintf(stderr, "vitrailctl: %s: %s\n", path,
				r < 0 ? strerror(errno) : "the file shrank while it was sent");
			return false;
		}
		if (!fs_write_all(fd, buf, (size_t)r)) {
			return true; /* vitrail closed: its answer says why */
		}
		sent += (uint64_t)r;
	}
	return true;
}

static json_object *read_reply(int fd)
{
	char *buf = malloc(REPLY_MAX + 1);
	size_t len = 0;
	if (buf == NULL) {
		return NULL;
	}
	while (len < REPLY_MAX) {
		ssize_t n = recv(fd, buf + len, REPLY_MAX - len, 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		len += (size_t)n;
		if (memchr(buf, '\n', len) != NULL) {
			break;
		}
	}
	buf[len] = '\0';
	json_object *reply = len > 0 ? json_tokener_parse(buf) : NULL;
	free(buf);
	return reply;
}

/* A local file:// URL (as a file manager passes with %u) as its path,
 * percent-decoded; NULL when what is no such URL (or decodes to a NUL). */
static char *file_url_path(const char *what)
{
	const char *p;
	if (strncasecmp(what, "file://", 7) != 0) {
		return NULL;
	}
	p = what + 7;
	if (strncasecmp(p, "localhost/", 10) == 0) {
		p += 9;
	}
	if (*p != '/') {
		return NULL; /* another host's file */
	}
	char *path = malloc(strlen(p) + 1), *o = path;
	for (; path != NULL && *p != '\0'; p++) {
		unsigned int c;
		if (*p == '%' && sscanf(p + 1, "%2x", &c) == 1 && isxdigit((unsigned char)p[1]) &&
			isxdigit((unsigned char)p[2]) && c != 0) {
			*o++ = (char)c;
			p += 2;
		} else if (*p == '%') {
			free(path);
			return NULL;
		} else {
			*o++ = *p;
		}
	}
	if (path != NULL) {
		*o = '\0';
	}
	return path;
}

int vitrailctl_open_run(const char *socket_path, char **args, int n_args)
{
	const char *type = NULL, *vm = NULL, *what = NULL;
	bool is_auto = false;
	for (int i = 0; i < n_args; i++) {
		if (strcmp(args[i], "--type") == 0) {
			if (++i >= n_args) {
				return usage("--type needs a MIME type");
			}
			type = args[i];
		} else if (strcmp(args[i], "--auto") == 0) {
			is_auto = true;
		} else if (args[i][0] == '-' && args[i][1] != '\0') {
			return usage("unknown option");
		} else if (!is_auto && vm == NULL) {
			vm = args[i];
		} else if (what == NULL) {
			what = args[i];
		} else {
			return usage("too many arguments");
		}
	}
	if (what == NULL || (vm == NULL) == !is_auto) {
		return usage("missing VM (or --auto) and FILE|URL");
	}

	char *local = file_url_path(what);
	if (local != NULL) {
		what = local;
	}
	json_object *req = json_object_new_object();
	json_object_object_add(req, "command", json_object_new_string("open"));
	if (is_auto) {
		json_object_object_add(req, "auto", json_object_new_boolean(1));
	} else {
		json_object_object_add(req, "vm", json_object_new_string(vm));
	}
	int file = -1;
	uint64_t size = 0;
	struct stat st;
	if (stat(what, &st) == 0 || !text_looks_like_url(what)) {
		file = open(what, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (file < 0 || fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "vitrailctl: %s: %s\n", what,
				file < 0 ? strerror(errno) : "not a regular file");
			if (file >= 0) {
				close(file);
			}
			json_object_put(req);
			free(local);
			return 1;
		}
		size = (uint64_t)st.st_size;
		const char *slash = strrchr(what, '/');
		const char *base = slash != NULL ? slash + 1 : what;
		char name[FILENAME_MAX_BYTES + 1];
		filename_sanitize(base, strlen(base), name, sizeof(name));
		json_object_object_add(req, "name", json_object_new_string(name));
		char sniffed[VTP_MAX_MIME + 1];
		if (type == NULL) {
			type = mimetype_guess(base, file, sniffed, sizeof(sniffed));
			if (type == NULL) {
				fprintf(stderr, "vitrailctl: %s: %s\n", what, strerror(errno));
				close(file);
				json_object_put(req);
				free(local);
				return 1;
			}
		}
		json_object_object_add(req, "mime", json_object_new_string(type));
		json_object_object_add(req, "size", json_object_new_int64((int64_t)size));
	} else {
		json_object_object_add(req, "url", json_object_new_string(what));
	}

	int status = 1;
	int fd = vitrailctl_connect(socket_path, 0);
	if (fd < 0) {
		goto out;
	}
	const char *line = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (!fs_write_all(fd, line, strlen(line)) || !fs_write_all(fd, "\n", 1)) {
		fprintf(stderr, "vitrailctl: cannot send to %s: %s\n", socket_path,
			strerror(errno));
		goto out;
	}
	if (file >= 0 && !stream_file(fd, file, size, what)) {
		goto out;
	}
	json_object *reply = read_reply(fd);
	json_object *v;
	if (reply == NULL || !json_object_is_type(reply, json_type_object)) {
		fprintf(stderr, "vitrailctl: no answer from vitrail\n");
	} else if (json_object_object_get_ex(reply, "ok", &v) && json_object_get_boolean(v)) {
		json_object *target;
		printf("opened in VM %s\n",
			json_object_object_get_ex(reply, "vm", &target)
				? json_object_get_string(target)
				: "?");
		status = fflush(stdout) == 0 ? 0 : 1;
	} else {
		json_object *err, *code;
		fprintf(stderr, "vitrailctl: open: %s\n",
			json_object_object_get_ex(reply, "error", &err)
				? json_object_get_string(err)
				: "failed");
		const char *c = json_object_object_get_ex(reply, "code", &code)
			? json_object_get_string(code)
			: "";
		status = strcmp(c, "denied") == 0 || strcmp(c, "cancelled") == 0
			? VITRAILCTL_OPEN_DENIED
			: 1;
	}
	json_object_put(reply);
out:
	if (fd >= 0) {
		close(fd);
	}
	if (file >= 0) {
		close(file);
	}
	json_object_put(req);
	free(local);
	return status;
}
