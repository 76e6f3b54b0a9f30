/*
 * vitrail-open FILE|URL: ask the vitrail host to open a file or a link in
 * the VM its policy names. Talks to this guest's vitrail-agent over the
 * agent's private socket ($VITRAIL_OPEN_SOCK, which the agent sets for the
 * programs it starts, else $XDG_RUNTIME_DIR/vitrail-agent-open-$WAYLAND_DISPLAY.sock)
 * with the protocol's own
 * messages: OPEN_URL, or OPEN_FILE_BEGIN, OPEN_FILE_CHUNK..., OPEN_FILE_END
 * (with the SHA-256 computed while reading), then waits for OPEN_RESULT.
 *
 * Exit status: 0 opened, 3 denied (by the policy or the user), 1 failed
 * (the host's message on stderr), 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <nettle/sha2.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vitrail/protocol.h>

#include <vitrail/common/filename.h>
#include <vitrail/common/fs.h>
#include <vitrail/common/mimetype.h>
#include <vitrail/common/text.h>

#ifndef VITRAIL_VERSION
#define VITRAIL_VERSION "unknown"
#endif

#define SOCKET_PREFIX "vitrail-agent-open-"
#define REQUEST_ID 1

enum { EXIT_OPENED = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_DENIED = 3 };

static const char usage_text[] =
	"usage: vitrail-open [--type MIME] FILE|URL\n"
	"\n"
	"Open FILE or URL in the VM the vitrail host's [open] rules choose (or ask\n"
	"the user). The file's bytes are copied to that VM, never a path.\n"
	"\n"
	"  -t, --type MIME   the file's MIME type (default: from its extension, else\n"
	"                    `file --mime-type`)\n"
	"  -h, --help        this text\n"
	"  -V, --version     print the version\n"
	"\n"
	"Exit status: 0 opened, 3 denied or cancelled, 1 failed, 2 usage error.\n";

static const char *prog = "vitrail-open";

static int socket_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *env = getenv("VITRAIL_OPEN_SOCK");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	const char *display = getenv("WAYLAND_DISPLAY");
	if (env != NULL && env[0] != '\0') {
		if (strlen(env) >= sizeof(addr.sun_path)) {
			fprintf(stderr, "%s: VITRAIL_OPEN_SOCK is too long\n", prog);
			return -1;
		}
		strcpy(addr.sun_path, env);
	} else if (runtime != NULL && runtime[0] != '\0' && display != NULL && display[0] != '\0' &&
		strchr(display, '/') == NULL) {
		/* the agent that serves our Wayland socket */
		int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s%s.sock", runtime,
			SOCKET_PREFIX, display);
		if (n < 0 || (size_t)n >= sizeof(addr.sun_path)) {
			fprintf(stderr, "%s: XDG_RUNTIME_DIR is too long\n", prog);
			return -1;
		}
	} else {
		fprintf(stderr,
			"%s: no vitrail agent known: set VITRAIL_OPEN_SOCK, or run under the agent "
			"(XDG_RUNTIME_DIR and WAYLAND_DISPLAY)\n",
			prog);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "%s: the vitrail agent is not running (no socket at %s: %s)\n",
			prog, addr.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Write a whole message; false when the agent closed (it may have answered). */
static bool send_msg(int fd, uint16_t type, const void *body, const void *tail, uint32_t tail_len)
{
	static uint8_t buf[12 + 16 + VTP_MAX_CHUNK + 1024];
	size_t n = vtp_msg_encode(buf, sizeof(buf), type, 0, body, tail, tail_len);
	if (n == 0) {
		return false;
	}
	return fs_write_all(fd, buf, n);
}

static bool read_full(int fd, uint8_t *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t r = recv(fd, buf + done, len - done, 0);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			return false;
		}
		done += (size_t)r;
	}
	return true;
}

/* Wait for OPEN_RESULT and turn it into the exit status. */
static int read_result(int fd, const char *what)
{
	uint8_t buf[12 + sizeof(struct vtp_result) + VTP_MAX_ERROR_TEXT];
	struct vtp_header h;
	if (!read_full(fd, buf, sizeof(h))) {
		fprintf(stderr,
			"%s: %s: the vitrail agent closed the connection without an answer\n", prog,
			what);
		return EXIT_FAILED;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.type != VTP_OPEN_RESULT || h.size < sizeof(h) || h.size > sizeof(buf) ||
		!read_full(fd, buf + sizeof(h), h.size - sizeof(h))) {
		fprintf(stderr, "%s: %s: bad answer from the vitrail agent\n", prog, what);
		return EXIT_FAILED;
	}
	struct vtp_decoder dec = { .side = VTP_SIDE_GUEST };
	struct vtp_msg msg;
	if (vtp_msg_decode(&dec, buf, h.size, &msg) != VTP_OK) {
		fprintf(stderr, "%s: %s: bad answer from the vitrail agent\n", prog, what);
		return EXIT_FAILED;
	}
	uint32_t code = msg.body.result.code;
	const char *text = msg.tail != NULL ? (const char *)msg.tail : "";
	int status = EXIT_FAILED;
	if (code == VTP_RESULT_OK) {
		status = EXIT_OPENED;
	} else if (code == VTP_RESULT_DENIED || code == VTP_RESULT_CANCELLED) {
		fprintf(stderr, "%s: %s: %s: %s\n", prog, what,
			code == VTP_RESULT_DENIED ? "denied" : "cancelled", text);
		status = EXIT_DENIED;
	} else {
		static const char *const names[] = {
			[VTP_RESULT_FAILED] = "failed",
			[VTP_RESULT_NO_TARGET] = "no VM to open it in",
			[VTP_RESULT_TOO_LARGE] = "too large",
			[VTP_RESULT_BAD_CHECKSUM] = "damaged on the way",
			[VTP_RESULT_CANCELLED] = "cancelled",
		};
		const char *name = code < sizeof(names) / sizeof(names[0]) && names[code] != NULL
			? names[code]
			: "failed";
		fprintf(stderr, "%s: %s: %s: %s\n", prog, what, name, text);
	}
	vtp_msg_finish(&msg);
	return status;
}

static int open_url(const char *url)
{
	size_t len = strlen(url);
	if (len > VTP_MAX_URL) {
		fprintf(stderr, "%s: the URL is longer than %u bytes\n", prog, VTP_MAX_URL);
		return EXIT_FAILED;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f) {
			fprintf(stderr,
				"%s: a URL must be printable ASCII without spaces (percent-encode "
				"the rest)\n",
				prog);
			return EXIT_FAILED;
		}
	}
	int fd = socket_connect();
	if (fd < 0) {
		return EXIT_FAILED;
	}
	struct vtp_open_url body = { .request_id = REQUEST_ID };
	send_msg(fd, VTP_OPEN_URL, &body, url, (uint32_t)len);
	int status = read_result(fd, url);
	close(fd);
	return status;
}

static int open_file(const char *path, const char *type)
{
	int file = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (file < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return EXIT_FAILED;
	}
	struct stat st;
	if (fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: %s: not a regular file\n", prog, path);
		close(file);
		return EXIT_FAILED;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (size > VTP_MAX_FILE_SIZE) {
		fprintf(stderr, "%s: %s: larger than %llu bytes\n", prog, path,
			(unsigned long long)VTP_MAX_FILE_SIZE);
		close(file);
		return EXIT_FAILED;
	}

	/* the name the other VM sees: the base name, made a valid display string */
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	char name[FILENAME_MAX_BYTES + 1];
	filename_sanitize(base, strlen(base), name, sizeof(name));

	char sniffed[VTP_MAX_MIME + 1];
	if (type == NULL) {
		type = mimetype_guess(base, file, sniffed, sizeof(sniffed));
		if (type == NULL) {
			fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
			close(file);
			return EXIT_FAILED;
		}
	}
	size_t name_len = strlen(name), type_len = strlen(type);
	if (type_len == 0 || type_len > VTP_MAX_MIME ||
		vtp_check_display_string((const uint8_t *)type, type_len) != VTP_OK) {
		fprintf(stderr, "%s: bad MIME type '%s'\n", prog, type);
		close(file);
		return EXIT_USAGE;
	}
	char tail[FILENAME_MAX_BYTES + VTP_MAX_MIME + 2];
	memcpy(tail, name, name_len + 1);
	memcpy(tail + name_len + 1, type, type_len + 1);
	uint32_t tail_len = (uint32_t)(name_len + type_len + 2);

	int fd = socket_connect();
	if (fd < 0) {
		close(file);
		return EXIT_FAILED;
	}
	struct vtp_file_begin begin = { .request_id = REQUEST_ID, .size = size };
	struct sha256_ctx sha;
	sha256_init(&sha);
	static uint8_t chunk[VTP_MAX_CHUNK];
	uint64_t sent = 0;
	bool open_link = send_msg(fd, VTP_OPEN_FILE_BEGIN, &begin, tail, tail_len);
	while (open_link && sent < size) {
		/* an early answer (a refusal) ends the upload */
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			break;
		}
		size_t want = size - sent < sizeof(chunk) ? (size_t)(size - sent) : sizeof(chunk);
		ssize_t r = read(file, chunk, want);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, path,
				r < 0 ? strerror(errno) : "the file shrank while it was sent");
			close(fd); /* the agent cancels the transfer */
			close(file);
			return EXIT_FAILED;
		}
		sha256_update(&sha, (size_t)r, (const uint8_t *)chunk);
		struct vtp_file_chunk body = { .request_id = REQUEST_ID };
		open_link = send_msg(fd, VTP_OPEN_FILE_CHUNK, &body, chunk, (uint32_t)r);
		sent += (uint64_t)r;
	}
	close(file);
	if (open_link && sent == size) {
		struct vtp_file_end end = { .request_id = REQUEST_ID };
		sha256_digest(&sha, SHA256_DIGEST_SIZE, end.sha256);
		send_msg(fd, VTP_OPEN_FILE_END, &end, NULL, 0);
	}
	int status = read_result(fd, path);
	close(fd);
	return status;
}

/* file:///path (or file://localhost/path), percent-decoded; NULL if not one. */
static char *file_url_path(const char *url)
{
	const char *p;
	if (strncmp(url, "file:///", 8) == 0) {
		p = url + 7;
	} else if (strncmp(url, "file://localhost/", 17) == 0) {
		p = url + 16;
	} else {
		return NULL;
	}
	char *out = malloc(strlen(p) + 1);
	if (out == NULL) {
		return NULL;
	}
	size_t n = 0;
	for (; *p != '\0'; p++) {
		unsigned hi, lo;
		if (*p == '%' && sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
			char c = (char)(hi * 16 + lo);
			if (c == '\0') {
				free(out);
				return NULL;
			}
			out[n++] = c;
			p += 2;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return out;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *type = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "t:hV", options, NULL)) != -1) {
		switch (opt) {
		case 't':
			type = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OPENED;
		case 'V':
			puts("vitrail-open " VITRAIL_VERSION);
			return EXIT_OPENED;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	const char *arg = argv[optind];
	struct stat st;
	char *path = file_url_path(arg);
	if (path != NULL) {
		int status = open_file(path, type);
		free(path);
		return status;
	}
	if (stat(arg, &st) == 0 || !text_looks_like_url(arg)) {
		return open_file(arg, type);
	}
	return open_url(arg);
}
