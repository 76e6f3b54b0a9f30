/*
 * vitrailctl: the command-line client of vitrail's control socket. It
 * sends one line of JSON and reads one line of JSON back.
 *
 * Exit status: 0 success, 1 failure (vitrail not running, request refused,
 * bad reply), 2 usage error.
 */
#include "vitrailctl.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <vitrail/common/fs.h>

#include "vitrailctl_open.h"
#include "vitrailctl_vmfiles.h"

#ifndef VITRAIL_VERSION
#define VITRAIL_VERSION "unknown"
#endif

#define REPLY_MAX (16u * 1024u * 1024u)
#define TIMEOUT_SECONDS 10

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* menus sync and run-app wait for a VM: longer than vitrail's own limits */
#define SLOW_TIMEOUT_SECONDS 200
static int timeout_seconds = TIMEOUT_SECONDS;
/* snapshot, revert, snapshot-delete: longer than vitrail's own bound (600 s) */
#define SNAPSHOT_TIMEOUT_SECONDS 630

static const char usage_text[] =
	"usage: vitrailctl [--socket PATH] [--config FILE] COMMAND\n"
	"\n"
	"commands:\n"
	"  windows [--json]   list windows (id, VM, title, app id, geometry, focus, label)\n"
	"  vms [--json]       list VMs (name, label, state, connected, window count)\n"
	"  outputs [--json]   list outputs (name, geometry, scale, frames rendered)\n"
	"  focus ID           focus a window\n"
	"  close ID           ask a window to close\n"
	"  move ID X Y        put a window's content at X,Y (layout coordinates)\n"
	"  resize ID W H      ask a window's app for a W x H content size\n"
	"  maximize ID [on|off]   maximize / restore (no argument: toggle)\n"
	"  fullscreen ID [on|off] fullscreen / restore, where the VM allows it\n"
	"  clipboard [--json] show the inter-VM clipboard: source, size, age (never the text)\n"
	"  clipboard clear    empty the inter-VM clipboard\n"
	"  menus sync [VM]    rewrite the app menu entries of the running VMs (or VM)\n"
	"  run-app VM ID      start the app with desktop id ID in VM (what menu entries run)\n"
	"  start [--wait] VM  start VM (--wait: until its agent is connected)\n"
	"  stop [--no-wait] VM stop VM; waits until it is stopped\n"
	"  pause VM           pause VM: its windows stay, dimmed; input does not reach it\n"
	"  resume VM          resume a paused VM, restore a suspended one (a click on\n"
	"                     its window does too)\n"
	"  suspend VM         save a qemu VM's whole state to disk and end its QEMU;\n"
	"                     its windows stay; anything that needs it restores it\n"
	"  run VM -- CMD ARGS run CMD in VM (started if needed); exits with its status\n"
	"  logs VM            the last lines of VM's console (or agent) log\n"
	"  snapshot VM NAME   snapshot a qemu VM's qcow2 volumes (and its RAM if it runs)\n"
	"  snapshots VM [--json]  list VM's snapshots\n"
	"  revert VM NAME     bring VM back to snapshot NAME\n"
	"  snapshot-delete VM NAME  delete snapshot NAME of VM\n"
	"  open VM FILE|URL   open a host file or a URL in VM (the file's bytes are copied)\n"
	"  open --auto FILE|URL  the same, in the VM the [open] rules choose; options:\n"
	"                     --type MIME; exit status 3 when denied or cancelled\n"
	"  create NAME --template T --label COLOR [--memory MiB] [--cpus N]\n"
	"         [--network user|none|via:VM] [--service net|firewall]\n"
	"         [--private-size GiB]\n"
	"                     make an AppVM: a [vm NAME] section in the config file and\n"
	"                     a private volume in $XDG_DATA_HOME/vitrail/vms/NAME/\n"
	"  remove NAME        delete a stopped AppVM: its section and its files\n"
	"  clone NAME NEW     copy a stopped AppVM (section and private volume)\n"
	"  set NAME KEY VALUE set a key of [vm NAME] (checked; applies at its next start;\n"
	"                     memory of a running VM also at once, by its balloon;\n"
	"                     firewall and firewall-default at once, in its service VM)\n"
	"  firewall VM [--json]  the firewall rules in force for VM (network = via:S),\n"
	"                     the state of its service VM and its dropped packets\n"
	"  exit               quit vitrail\n"
	"  version            print the versions of vitrailctl and vitrail\n"
	"\n"
	"The socket is PATH, else $VITRAIL_SOCK, else $XDG_RUNTIME_DIR/vitrail/ctl.sock.\n"
	"create, remove, clone and set edit FILE, else $VITRAIL_CONFIG, else\n"
	"$XDG_CONFIG_HOME/vitrail/vitrail.ini; a running vitrail reads them when it starts.\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vitrailctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nrun 'vitrailctl --help' for usage\n");
	return EXIT_USAGE;
}

static char *socket_path(const char *option)
{
	if (option != NULL) {
		return strdup(option);
	}
	const char *env = getenv("VITRAIL_SOCK");
	if (env != NULL && env[0] != '\0') {
		return strdup(env);
	}
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (runtime == NULL || runtime[0] == '\0') {
		fprintf(stderr, "vitrailctl: XDG_RUNTIME_DIR is not set; use --socket PATH\n");
		return NULL;
	}
	size_t n = strlen(runtime) + sizeof("/vitrail/ctl.sock");
	char *path = malloc(n);
	if (path != NULL) {
		snprintf(path, n, "%s/vitrail/ctl.sock", runtime);
	}
	return path;
}

int vitrailctl_connect(const char *path, int timeout_s)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "vitrailctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "vitrailctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (timeout_s > 0) {
		struct timeval tv = { .tv_sec = timeout_s };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		if (errno == ENOENT || errno == ECONNREFUSED) {
			fprintf(stderr, "vitrailctl: vitrail is not running (no socket at %s)\n",
				path);
		} else {
			fprintf(stderr, "vitrailctl: cannot connect to %s: %s\n", path,
				strerror(errno));
		}
		close(fd);
		return -1;
	}
	return fd;
}

/* Read one line (up to '\n' or EOF), at most REPLY_MAX bytes. */
static char *read_line(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	if (buf == NULL) {
		return NULL;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= REPLY_MAX) {
				fprintf(stderr, "vitrailctl: reply larger than %u bytes\n",
					REPLY_MAX);
				goto error;
			}
			cap *= 2;
			char *b = realloc(buf, cap);
			if (b == NULL) {
				goto error;
			}
			buf = b;
		}
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			fprintf(stderr, "vitrailctl: no reply from vitrail: %s\n",
				errno == EAGAIN || errno == EWOULDBLOCK ? "timed out"
									: strerror(errno));
			goto error;
		}
		if (n == 0) {
			break;
		}
		char *nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl != NULL) {
			len = (size_t)(nl - buf);
			break;
		}
	}
	buf[len] = '\0';
	return buf;
error:
	free(buf);
	return NULL;
}

/* Send req, return the reply object whatever its "ok" says; NULL (after
 * printing why) when vitrail cannot be reached or answers nonsense. */
static json_object *exchange(const char *path, json_object *req)
{
	int fd = vitrailctl_connect(path, timeout_seconds);
	if (fd < 0) {
		return NULL;
	}
	json_object *reply = NULL;
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	char *line = NULL;
	if (!fs_write_all(fd, text, strlen(text)) || !fs_write_all(fd, "\n", 1)) {
		fprintf(stderr, "vitrailctl: cannot send to %s: %s\n", path, strerror(errno));
		goto out;
	}
	line = read_line(fd);
	if (line == NULL) {
		goto out;
	}
	if (line[0] == '\0') {
		fprintf(stderr, "vitrailctl: vitrail closed the connection without a reply\n");
		goto out;
	}
	reply = json_tokener_parse(line);
	if (reply == NULL || !json_object_is_type(reply, json_type_object)) {
		fprintf(stderr, "vitrailctl: bad reply from vitrail\n");
		json_object_put(reply);
		reply = NULL;
	}
out:
	free(line);
	close(fd);
	return reply;
}

static int print_safe_to(FILE *f, const char *s);
static const char *get_string(json_object *obj, const char *key, const char *fallback);
static bool get_bool(json_object *obj, const char *key);

/* Print the reply's error; true if the reply says ok. */
static bool reply_ok(json_object *reply)
{
	if (get_bool(reply, "ok")) {
		return true;
	}
	fprintf(stderr, "vitrailctl: ");
	print_safe_to(stderr, get_string(reply, "error", "request failed"));
	fputc('\n', stderr);
	return false;
}

/* Send the request and return the parsed reply if it says ok; NULL after printing why not. */
static json_object *request(const char *path, json_object *req)
{
	json_object *reply = exchange(path, req);
	if (reply != NULL && !reply_ok(reply)) {
		json_object_put(reply);
		return NULL;
	}
	return reply;
}

/* Print a string from the compositor (maybe from a guest) without
 * terminal controls; the number of characters printed (UTF-8 aware). */
static int print_safe_to(FILE *f, const char *s)
{
	int n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		unsigned char c = *p;
		if (c < 0x20 || c == 0x7f) {
			c = '?';
		} else if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* a C1 control character */
			p++;
			c = '?';
		}
		fputc(c, f);
		if ((c & 0xc0) != 0x80) {
			n++;
		}
	}
	return n;
}

/* print_safe_to stdout, padded with spaces to width characters. */
static void print_safe(const char *s, int width)
{
	for (int n = print_safe_to(stdout, s); n < width; n++) {
		putchar(' ');
	}
}

/* Width of the widest value of key in the objects of array (UTF-8 aware), at least min. */
static int column_width(json_object *array, const char *key, const char *fallback, int min)
{
	int width = min;
	size_t n = json_object_array_length(array);
	for (size_t i = 0; i < n; i++) {
		const char *s = get_string(json_object_array_get_idx(array, i), key, fallback);
		int w = 0;
		for (; *s != '\0'; s++) {
			w += ((unsigned char)*s & 0xc0) != 0x80;
		}
		width = w > width ? w : width;
	}
	return width;
}

static const char *get_string(json_object *obj, const char *key, const char *fallback)
{
	json_object *v;
	if (json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string)) {
		return json_object_get_string(v);
	}
	return fallback;
}

static int64_t get_int(json_object *obj, const char *key)
{
	json_object *v;
	if (json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_int)) {
		return json_object_get_int64(v);
	}
	return 0;
}

static bool get_bool(json_object *obj, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(obj, key, &v) &&
		json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* key is present and false (an older vitrail has no "responding") */
static bool has_false(json_object *obj, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(obj, key, &v) &&
		json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v);
}

static json_object *get_array(json_object *reply, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(reply, key, &v) ||
		!json_object_is_type(v, json_type_array)) {
		fprintf(stderr, "vitrailctl: bad reply from vitrail: no '%s' array\n", key);
		return NULL;
	}
	return v;
}

static void print_json(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void print_windows(json_object *windows)
{
	int vm_width = column_width(windows, "vm", "(host)", 2);
	int app_width = column_width(windows, "app_id", "", 6);
	if (app_width > 24) {
		app_width = 24;
	}
	printf("%-6s %-*s %-5s %-22s %-8s %-*s %s\n", "ID", vm_width, "VM", "FOCUS", "GEOMETRY",
		"LABEL", app_width, "APP-ID", "TITLE");
	size_t n = json_object_array_length(windows);
	for (size_t i = 0; i < n; i++) {
		json_object *w = json_object_array_get_idx(windows, i);
		char geometry[96];
		snprintf(geometry, sizeof(geometry), "%" PRId64 "x%" PRId64 "%+" PRId64 "%+" PRId64,
			get_int(w, "width"), get_int(w, "height"), get_int(w, "x"),
			get_int(w, "y"));
		printf("%-6" PRId64 " ", get_int(w, "id"));
		print_safe(get_string(w, "vm", "(host)"), vm_width);
		printf(" %-5s %-22s ", get_bool(w, "focused") ? "*" : "", geometry);
		print_safe(get_string(w, "label", ""), 8);
		putchar(' ');
		print_safe(get_string(w, "app_id", ""), app_width);
		putchar(' ');
		print_safe(get_string(w, "title", ""), 0);
		putchar('\n');
	}
}

static void print_vms(json_object *vms)
{
	bool with_state = false;
	size_t n = json_object_array_length(vms);
	for (size_t i = 0; i < n; i++) {
		if (get_string(json_object_array_get_idx(vms, i), "state", NULL) != NULL) {
			with_state = true;
		}
	}
	int name_width = column_width(vms, "name", "?", 4);
	printf("%-*s %-8s ", name_width, "NAME", "LABEL");
	if (with_state) {
		printf("%-10s ", "STATE");
	}
	printf("%-10s %s\n", "CONNECTED", "WINDOWS");
	for (size_t i = 0; i < n; i++) {
		json_object *vm = json_object_array_get_idx(vms, i);
		print_safe(get_string(vm, "name", "?"), name_width);
		putchar(' ');
		print_safe(get_string(vm, "label", ""), 8);
		putchar(' ');
		if (with_state) {
			print_safe(get_string(vm, "state", "-"), 10);
			putchar(' ');
		}
		bool hung = get_bool(vm, "connected") && has_false(vm, "responding");
		printf("%-10s %" PRId64,
			hung                                ? "hung"
				: get_bool(vm, "connected") ? "yes"
							    : "no",
			get_int(vm, "windows"));
		/* why a VM failed: the reason names its log */
		if (hung) {
			/* what the user can do about it */
			printf("       not responding (vitrailctl stop ");
			print_safe(get_string(vm, "name", "?"), 0);
			printf(")");
		} else if (strcmp(get_string(vm, "state", ""), "crashed") == 0) {
			printf("       ");
			print_safe(get_string(vm, "reason", ""), 0);
		} else if (get_string(vm, "accel_note", "")[0] != '\0') {
			/* "KVM unusable here: ...; using TCG" */
			printf("       ");
			print_safe(get_string(vm, "accel_note", ""), 0);
		}
		putchar('\n');
	}
}

static void print_outputs(json_object *outputs)
{
	int name_width = column_width(outputs, "name", "?", 4);
	printf("%-*s %-22s %-6s %s\n", name_width, "NAME", "GEOMETRY", "SCALE", "FRAMES");
	size_t n = json_object_array_length(outputs);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(outputs, i);
		char geometry[96];
		snprintf(geometry, sizeof(geometry), "%" PRId64 "x%" PRId64 "%+" PRId64 "%+" PRId64,
			get_int(o, "width"), get_int(o, "height"), get_int(o, "x"),
			get_int(o, "y"));
		json_object *scale = NULL;
		json_object_object_get_ex(o, "scale", &scale);
		print_safe(get_string(o, "name", "?"), name_width);
		printf(" %-22s %-6.3g %" PRId64 "\n", geometry,
			scale != NULL ? json_object_get_double(scale) : 1.0, get_int(o, "frames"));
	}
}

static bool parse_id(const char *s, int64_t *out)
{
	if (s[0] < '0' || s[0] > '9') {
		return false;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX) {
		return false;
	}
	*out = (int64_t)v;
	return true;
}

static json_object *make_request(const char *command)
{
	json_object *req = json_object_new_object();
	if (req != NULL) {
		json_object_object_add(req, "command", json_object_new_string(command));
	}
	return req;
}

/* {"command": command, "vm": vm} */
static json_object *make_vm_request(const char *command, const char *vm)
{
	json_object *req = make_request(command);
	if (req != NULL) {
		json_object_object_add(req, "vm", json_object_new_string(vm));
	}
	return req;
}

/* Send req (taken; NULL: out of memory) to vitrail: the reply if it says
 * ok, else NULL after printing why. */
static json_object *ask(const char *socket_option, json_object *req)
{
	char *path = socket_path(socket_option);
	json_object *reply = path != NULL && req != NULL ? request(path, req) : NULL;
	json_object_put(req);
	free(path);
	return reply;
}

/* The exit status once the output is written: 0, or EXIT_FAIL when stdout
 * did not take it. */
static int flushed(void)
{
	return fflush(stdout) == 0 ? 0 : EXIT_FAIL;
}

/* The object member key of a reply; NULL after saying it is missing. */
static json_object *reply_object(json_object *reply, const char *key)
{
	json_object *obj = NULL;
	if (!json_object_object_get_ex(reply, key, &obj) ||
		!json_object_is_type(obj, json_type_object)) {
		fprintf(stderr, "vitrailctl: bad reply from vitrail: no '%s' object\n", key);
		return NULL;
	}
	return obj;
}

/* set VM memory N on a running VM: its balloon target, now (the config
 * file, already written, gives the memory of its next start). */
static int balloon_live(const char *socket_option, const char *vm, const char *value)
{
	json_object *req = make_vm_request("balloon", vm);
	if (req != NULL) {
		json_object_object_add(req, "mib", json_object_new_int64(strtoll(value, NULL, 10)));
	}
	json_object *reply = ask(socket_option, req);
	if (reply == NULL) {
		return EXIT_FAIL;
	}
	printf("VM %s runs: balloon target %" PRId64 " MiB now (the memory it booted with "
	       "is the most)\n",
		vm, get_int(reply, "mib"));
	json_object_put(reply);
	return flushed();
}

/* set VM firewall|firewall-default ...: the running vitrail reads the
 * VM's rules again and sends them to its service VM. */
static int firewall_reload(const char *socket_option, const char *vm)
{
	json_object *reply = ask(socket_option, make_vm_request("firewall-reload", vm));
	if (reply == NULL) {
		return EXIT_FAIL;
	}
	json_object_put(reply);
	printf("VM %s: firewall rules sent to its service VM\n", vm);
	return flushed();
}

static void print_firewall(const char *vm, json_object *fw)
{
	printf("%s: network via %s, link %" PRId64 " (%s, gateway %s), link %s\n", vm,
		get_string(fw, "via", "?"), get_int(fw, "link"), get_string(fw, "address", "?"),
		get_string(fw, "gateway", "?"), get_bool(fw, "link_up") ? "up" : "down");
	printf("service VM: %s\n", get_string(fw, "state", "?"));
	json_object *rules = get_array(fw, "rules");
	size_t n = rules != NULL ? json_object_array_length(rules) : 0;
	for (size_t i = 0; i < n; i++) {
		printf("  allow %s\n", json_object_get_string(json_object_array_get_idx(rules, i)));
	}
	printf("  %s everything else\n",
		strcmp(get_string(fw, "default", "allow"), "deny") == 0 ? "deny" : "allow");
	json_object *dropped = NULL;
	if (json_object_object_get_ex(fw, "dropped_packets", &dropped) && dropped != NULL) {
		printf("dropped: %" PRId64 " packets, %" PRId64 " bytes\n",
			get_int(fw, "dropped_packets"), get_int(fw, "dropped_bytes"));
	} else {
		printf("dropped: not known yet\n");
	}
}

/* vitrailctl firewall VM [--json] */
static int firewall_command(const char *socket_option, char **args, int n_args)
{
	bool json = false;
	const char *vm = NULL;
	for (int a = 0; a < n_args; a++) {
		if (strcmp(args[a], "--json") == 0) {
			json = true;
		} else if (args[a][0] == '-' || vm != NULL) {
			return usage_error("unexpected argument '%s'", args[a]);
		} else {
			vm = args[a];
		}
	}
	if (vm == NULL) {
		return usage_error("%s", "usage: vitrailctl firewall VM [--json]");
	}
	json_object *reply = ask(socket_option, make_vm_request("firewall", vm));
	json_object *fw = reply != NULL ? reply_object(reply, "firewall") : NULL;
	if (fw != NULL && json) {
		print_json(fw);
	} else if (fw != NULL) {
		print_firewall(vm, fw);
	}
	json_object_put(reply);
	return fw != NULL ? flushed() : EXIT_FAIL;
}

static void print_clipboard(json_object *state, bool json)
{
	if (json) {
		print_json(state);
	} else if (get_bool(state, "empty")) {
		puts("the clipboard is empty");
	} else {
		printf("source: ");
		print_safe(get_string(state, "source", "?"), 0);
		printf("\nsize:   %" PRId64 " bytes\nage:    %" PRId64 " s\n",
			get_int(state, "bytes"), get_int(state, "age"));
	}
}

/* vitrailctl clipboard [--json] | clipboard clear */
static int clipboard_command(const char *socket_option, char **args, int n_args)
{
	bool json = false, clear = false;
	for (int a = 0; a < n_args; a++) {
		if (strcmp(args[a], "--json") == 0 && !clear) {
			json = true;
		} else if (strcmp(args[a], "clear") == 0 && a == 0) {
			clear = true;
		} else {
			return usage_error("unexpected argument '%s'", args[a]);
		}
	}
	json_object *reply =
		ask(socket_option, make_request(clear ? "clipboard-clear" : "clipboard"));
	json_object *state = reply != NULL && !clear ? reply_object(reply, "clipboard") : NULL;
	if (state != NULL) {
		print_clipboard(state, json);
	}
	bool ok = reply != NULL && (clear || state != NULL);
	json_object_put(reply);
	return ok ? flushed() : EXIT_FAIL;
}

/* vitrailctl menus sync [VM] | run-app VM ID: both wait for the VM's answer */
static int apps_command(const char *socket_option, const char *command, char **args, int n_args)
{
	json_object *req;
	bool menus = strcmp(command, "menus") == 0;
	if (menus) {
		if (n_args < 1 || strcmp(args[0], "sync") != 0) {
			return usage_error("%s", "usage: vitrailctl menus sync [VM]");
		}
		if (n_args > 2) {
			return usage_error("unexpected argument '%s'", args[2]);
		}
		req = n_args == 2 ? make_vm_request("menus-sync", args[1])
				  : make_request("menus-sync");
	} else {
		if (n_args != 2) {
			return usage_error("%s", "usage: vitrailctl run-app VM ID");
		}
		req = make_vm_request("run-app", args[0]);
		if (req != NULL) {
			json_object_object_add(req, "id", json_object_new_string(args[1]));
		}
	}
	timeout_seconds = SLOW_TIMEOUT_SECONDS;
	json_object *reply = ask(socket_option, req);
	if (reply == NULL) {
		return EXIT_FAIL;
	}
	json_object *vms = menus ? get_array(reply, "vms") : NULL;
	size_t n = vms != NULL ? json_object_array_length(vms) : 0;
	for (size_t k = 0; k < n; k++) {
		json_object *vm = json_object_array_get_idx(vms, k);
		print_safe(get_string(vm, "name", "?"), 0);
		printf(": %" PRId64 " app%s\n", get_int(vm, "apps"),
			get_int(vm, "apps") == 1 ? "" : "s");
	}
	json_object_put(reply);
	return flushed();
}

/* ---- VM life cycle: start, stop, run, logs ---- */

#define LOG_TAIL_LINES 200
#define LOG_TAIL_BYTES (1024 * 1024)

/* The last LOG_TAIL_LINES lines of a log (guest text: control characters
 * are shown as '?'); false if it cannot be read. */
static bool print_log_tail(const char *path, bool header)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return false;
	}
	long from = 0;
	if (fseek(f, 0, SEEK_END) == 0) {
		long size = ftell(f);
		from = size > LOG_TAIL_BYTES ? size - LOG_TAIL_BYTES : 0;
	}
	char *buf = malloc(LOG_TAIL_BYTES + 1);
	size_t n = 0;
	if (buf != NULL && fseek(f, from, SEEK_SET) == 0) {
		n = fread(buf, 1, LOG_TAIL_BYTES, f);
	}
	fclose(f);
	if (buf == NULL) {
		return false;
	}
	buf[n] = '\0';
	size_t start = n, lines = 0;
	if (start > 0 && buf[start - 1] == '\n') {
		start--;
	}
	while (start > 0) {
		if (buf[start - 1] == '\n' && ++lines == LOG_TAIL_LINES) {
			break;
		}
		start--;
	}
	if (header) {
		printf("==> %s <==\n", path);
	}
	for (char *line = buf + start; line < buf + n;) {
		char *end = memchr(line, '\n', (size_t)(buf + n - line));
		char *next = end != NULL ? end + 1 : buf + n;
		if (end == NULL) {
			end = buf + n;
		}
		while (end > line && end[-1] == '\r') {
			end--;
		}
		*end = '\0';
		print_safe_to(stdout, line);
		putchar('\n');
		line = next;
	}
	free(buf);
	return true;
}

static int logs_reply(json_object *reply)
{
	json_object *logs = get_array(reply, "logs");
	if (logs == NULL) {
		return EXIT_FAIL;
	}
	size_t n = json_object_array_length(logs), shown = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(logs, i);
		const char *path = json_object_get_string(p);
		struct stat st;
		/* the first log always; the others when they have something */
		if (path == NULL || (i > 0 && (stat(path, &st) != 0 || st.st_size == 0))) {
			continue;
		}
		if (!print_log_tail(path, n > 1)) {
			fprintf(stderr, "vitrailctl: cannot read %s: %s\n", path, strerror(errno));
			if (i == 0) {
				return EXIT_FAIL;
			}
		}
		shown++;
	}
	return shown > 0 && fflush(stdout) == 0 ? 0 : EXIT_FAIL;
}

/* Exit status of `run`: the command's; 128+N for signal N; 127 when it
 * could not run. */
static int run_reply(json_object *reply, const char *vm, const char *cmd)
{
	if (!reply_ok(reply)) {
		return 127;
	}
	const char *result = get_string(reply, "result", "");
	int64_t status = get_int(reply, "status");
	if (strcmp(result, "exited") == 0 && status >= 0 && status <= 255) {
		return (int)status;
	}
	if (strcmp(result, "signaled") == 0 && status > 0 && status < 128) {
		return 128 + (int)status;
	}
	fprintf(stderr, "vitrailctl: VM %s: cannot run ", vm);
	print_safe_to(stderr, cmd);
	if (strcmp(result, "failed") == 0 && status > 0 && status < 4096) {
		fprintf(stderr, ": %s\n", strerror((int)status));
	} else {
		fprintf(stderr, " (result '%s', status %" PRId64 ")\n", result, status);
	}
	return 127;
}

/* vitrailctl start [--wait] VM | stop [--no-wait] VM | run VM -- CMD ARGS | logs VM */
static int vm_command(const char *socket_option, const char *command, char **args, int n_args)
{
	bool is_run = strcmp(command, "run") == 0;
	bool wait = strcmp(command, "stop") == 0;
	const char *vm = NULL;
	int a = 0;
	for (; a < n_args; a++) {
		if (is_run && strcmp(args[a], "--") == 0) {
			a++;
			break;
		}
		if (strcmp(command, "start") == 0 && strcmp(args[a], "--wait") == 0) {
			wait = true;
		} else if (strcmp(command, "stop") == 0 && strcmp(args[a], "--no-wait") == 0) {
			wait = false;
		} else if (args[a][0] == '-' || vm != NULL) {
			return usage_error("unexpected argument '%s'", args[a]);
		} else {
			vm = args[a];
		}
	}
	if (vm == NULL) {
		return usage_error("%s needs a VM name", command);
	}
	if (is_run && a >= n_args) {
		return usage_error("%s", "usage: vitrailctl run VM -- COMMAND [ARGS...]");
	}
	json_object *req = make_request(command);
	char *path = socket_path(socket_option);
	if (req == NULL || path == NULL) {
		json_object_put(req);
		free(path);
		return EXIT_FAIL;
	}
	json_object_object_add(req, "vm", json_object_new_string(vm));
	if (is_run) {
		json_object *argv = json_object_new_array();
		for (; a < n_args; a++) {
			json_object_array_add(argv, json_object_new_string(args[a]));
		}
		json_object_object_add(req, "argv", argv);
		timeout_seconds = 0; /* as long as the command runs */
	} else if (strcmp(command, "logs") != 0 && strcmp(command, "pause") != 0 &&
		strcmp(command, "resume") != 0) {
		json_object_object_add(req, "wait", json_object_new_boolean(wait));
		timeout_seconds = SLOW_TIMEOUT_SECONDS;
	}
	int status = is_run ? 127 : EXIT_FAIL;
	json_object *reply = exchange(path, req);
	if (reply == NULL) {
		status = EXIT_FAIL;
	} else if (is_run) {
		json_object *argv;
		json_object_object_get_ex(req, "argv", &argv);
		status = run_reply(
			reply, vm, json_object_get_string(json_object_array_get_idx(argv, 0)));
	} else if (!reply_ok(reply)) {
		status = EXIT_FAIL;
	} else if (strcmp(command, "logs") == 0) {
		status = logs_reply(reply);
	} else {
		print_safe_to(stdout, vm);
		printf(": %s", get_string(reply, "state", "?"));
		const char *reason = get_string(reply, "reason", "");
		if (reason[0] != '\0') {
			printf(" (");
			print_safe_to(stdout, reason);
			putchar(')');
		}
		putchar('\n');
		status = fflush(stdout) == 0 ? 0 : EXIT_FAIL;
	}
	json_object_put(reply);
	json_object_put(req);
	free(path);
	return status;
}

/* snapshot VM NAME, revert VM NAME, snapshot-delete VM NAME, snapshots VM [--json] */
static int snapshot_command(const char *socket_option, const char *command, char **args, int n_args)
{
	bool list = strcmp(command, "snapshots") == 0;
	bool json = false;
	if (list && n_args == 2 && strcmp(args[1], "--json") == 0) {
		json = true;
		n_args = 1;
	}
	if (n_args != (list ? 1 : 2) || args[0][0] == '-' || (!list && args[1][0] == '-')) {
		return usage_error(
			list ? "usage: vitrailctl %s VM [--json]" : "usage: vitrailctl %s VM NAME",
			command);
	}
	json_object *req = make_vm_request(command, args[0]);
	if (!list) {
		if (req != NULL) {
			json_object_object_add(req, "name", json_object_new_string(args[1]));
		}
		/* a running VM's RAM is written or read: vitrail bounds it */
		timeout_seconds = SNAPSHOT_TIMEOUT_SECONDS;
	}
	int status = EXIT_FAIL;
	json_object *reply = ask(socket_option, req);
	if (reply == NULL) {
		goto out;
	}
	if (list && json) {
		json_object_object_del(reply, "ok");
		print_json(reply);
	} else if (list) {
		json_object *snaps = get_array(reply, "snapshots");
		if (snaps == NULL) {
			goto out;
		}
		printf("%-32s %-19s %10s  %s\n", "NAME", "DATE", "RAM", "VOLUMES");
		for (size_t i = 0; i < json_object_array_length(snaps); i++) {
			json_object *sn = json_object_array_get_idx(snaps, i);
			time_t date = (time_t)get_int(sn, "date");
			struct tm tm;
			char when[32] = "?";
			if (localtime_r(&date, &tm) != NULL) {
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			}
			char ram[32] = "-";
			if (get_bool(sn, "ram")) {
				snprintf(ram, sizeof(ram), "%" PRId64 " MiB",
					(get_int(sn, "vm_state_bytes") + (1 << 20) - 1) >> 20);
			}
			print_safe(get_string(sn, "name", "?"), 32);
			printf(" %-19s %10s  ", when, ram);
			json_object *vols;
			if (json_object_object_get_ex(sn, "volumes", &vols) &&
				json_object_is_type(vols, json_type_array)) {
				for (size_t v = 0; v < json_object_array_length(vols); v++) {
					printf("%s", v > 0 ? "," : "");
					print_safe(json_object_get_string(
							   json_object_array_get_idx(vols, v)),
						0);
				}
			}
			putchar('\n');
		}
	} else {
		print_safe_to(stdout, args[0]);
		printf(": %s ", strcmp(command, "revert") == 0 ? "reverted to" : "snapshot");
		print_safe_to(stdout, args[1]);
		printf("%s (%s)\n",
			strcmp(command, "snapshot") == 0         ? " taken"
				: strcmp(command, "revert") == 0 ? ""
								 : " deleted",
			get_string(reply, "state", "?"));
	}
	status = flushed();
out:
	json_object_put(reply);
	return status;
}

int main(int argc, char *argv[])
{
	const char *socket_option = NULL, *config_option = NULL;
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				return usage_error("%s needs a path", argv[i]);
			}
			config_option = argv[++i];
		} else if (strcmp(argv[i], "--socket") == 0) {
			if (i + 1 >= argc) {
				return usage_error("%s needs a path", argv[i]);
			}
			socket_option = argv[++i];
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			socket_option = argv[i] + 9;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			return usage_error("unknown option %s", argv[i]);
		} else {
			break;
		}
	}
	if (i >= argc) {
		return usage_error("%s", "missing command");
	}
	const char *command = argv[i++];
	char **args = &argv[i];
	int n_args = argc - i;

	if (strcmp(command, "create") == 0 || strcmp(command, "remove") == 0 ||
		strcmp(command, "clone") == 0 || strcmp(command, "set") == 0) {
		int status = vitrailctl_vmfiles_run(config_option, command, args, n_args);
		if (status == 0 && strcmp(command, "set") == 0 && strcmp(args[1], "memory") == 0 &&
			vitrailctl_vm_running(args[0])) {
			status = balloon_live(socket_option, args[0], args[2]);
		}
		if (status == 0 && strcmp(command, "set") == 0 &&
			(strcmp(args[1], "firewall") == 0 ||
				strcmp(args[1], "firewall-default") == 0)) {
			char *path = socket_path(socket_option);
			bool up = path != NULL && access(path, F_OK) == 0;
			free(path);
			if (up) {
				status = firewall_reload(socket_option, args[0]);
			}
		}
		return status;
	}
	if (strcmp(command, "clipboard") == 0) {
		return clipboard_command(socket_option, args, n_args);
	}
	if (strcmp(command, "firewall") == 0) {
		return firewall_command(socket_option, args, n_args);
	}
	if (strcmp(command, "open") == 0) {
		char *path = socket_path(socket_option);
		int status = path != NULL ? vitrailctl_open_run(path, args, n_args) : EXIT_FAIL;
		free(path);
		return status;
	}
	if (strcmp(command, "snapshot") == 0 || strcmp(command, "snapshots") == 0 ||
		strcmp(command, "revert") == 0 || strcmp(command, "snapshot-delete") == 0) {
		return snapshot_command(socket_option, command, args, n_args);
	}
	if (strcmp(command, "menus") == 0 || strcmp(command, "run-app") == 0) {
		return apps_command(socket_option, command, args, n_args);
	}
	if (strcmp(command, "start") == 0 || strcmp(command, "stop") == 0 ||
		strcmp(command, "run") == 0 || strcmp(command, "logs") == 0 ||
		strcmp(command, "pause") == 0 || strcmp(command, "resume") == 0 ||
		strcmp(command, "suspend") == 0) {
		return vm_command(socket_option, command, args, n_args);
	}

	bool json = false;
	int64_t id = 0;
	long nums[2] = { 0, 0 };
	const char *state = "toggle";
	const char *array_key = NULL;
	if (strcmp(command, "windows") == 0 || strcmp(command, "vms") == 0 ||
		strcmp(command, "outputs") == 0) {
		array_key = command;
		for (int a = 0; a < n_args; a++) {
			if (strcmp(args[a], "--json") == 0) {
				json = true;
			} else {
				return usage_error("unexpected argument '%s'", args[a]);
			}
		}
	} else if (strcmp(command, "focus") == 0 || strcmp(command, "close") == 0) {
		if (n_args != 1) {
			return usage_error("%s needs one window ID", command);
		}
		if (!parse_id(args[0], &id)) {
			return usage_error("bad window ID '%s'", args[0]);
		}
	} else if (strcmp(command, "move") == 0 || strcmp(command, "resize") == 0) {
		if (n_args != 3) {
			return usage_error("%s needs a window ID and two numbers", command);
		}
		if (!parse_id(args[0], &id)) {
			return usage_error("bad window ID '%s'", args[0]);
		}
		for (int a = 1; a < 3; a++) {
			char *end;
			errno = 0;
			long v = strtol(args[a], &end, 10);
			if (args[a][0] == '\0' || *end != '\0' || errno != 0 || v < -32768 ||
				v > 32767) {
				return usage_error("bad number '%s'", args[a]);
			}
			nums[a - 1] = v;
		}
	} else if (strcmp(command, "maximize") == 0 || strcmp(command, "fullscreen") == 0) {
		if (n_args < 1 || n_args > 2) {
			return usage_error("%s needs a window ID and maybe on or off", command);
		}
		if (!parse_id(args[0], &id)) {
			return usage_error("bad window ID '%s'", args[0]);
		}
		if (n_args == 2) {
			if (strcmp(args[1], "on") != 0 && strcmp(args[1], "off") != 0) {
				return usage_error("'%s': want on or off", args[1]);
			}
			state = args[1];
		}
	} else if (strcmp(command, "exit") == 0 || strcmp(command, "version") == 0) {
		if (n_args != 0) {
			return usage_error("unexpected argument '%s'", args[0]);
		}
	} else {
		return usage_error("unknown command '%s'", command);
	}

	if (strcmp(command, "version") == 0) {
		printf("vitrailctl %s\n", VITRAIL_VERSION);
		fflush(stdout);
	}

	char *path = socket_path(socket_option);
	if (path == NULL) {
		return EXIT_FAIL;
	}
	json_object *req = make_request(command);
	if (req == NULL) {
		free(path);
		return EXIT_FAIL;
	}
	if (strcmp(command, "focus") == 0 || strcmp(command, "close") == 0 ||
		strcmp(command, "move") == 0 || strcmp(command, "resize") == 0 ||
		strcmp(command, "maximize") == 0 || strcmp(command, "fullscreen") == 0) {
		json_object_object_add(req, "id", json_object_new_int64(id));
	}
	if (strcmp(command, "move") == 0 || strcmp(command, "resize") == 0) {
		bool move = strcmp(command, "move") == 0;
		json_object_object_add(req, move ? "x" : "width", json_object_new_int64(nums[0]));
		json_object_object_add(req, move ? "y" : "height", json_object_new_int64(nums[1]));
	}
	if (strcmp(command, "maximize") == 0 || strcmp(command, "fullscreen") == 0) {
		json_object_object_add(req, "state", json_object_new_string(state));
	}

	int status = EXIT_FAIL;
	json_object *reply = request(path, req);
	if (reply == NULL) {
		goto out;
	}
	if (array_key != NULL) {
		json_object *array = get_array(reply, array_key);
		if (array == NULL) {
			goto out;
		}
		if (json) {
			print_json(array);
		} else if (strcmp(array_key, "windows") == 0) {
			print_windows(array);
		} else if (strcmp(array_key, "outputs") == 0) {
			print_outputs(array);
		} else {
			print_vms(array);
		}
	} else if (strcmp(command, "version") == 0) {
		printf("vitrail %s\n", get_string(reply, "version", "(unknown)"));
	}
	status = fflush(stdout) == 0 ? 0 : EXIT_FAIL;
out:
	json_object_put(reply);
	json_object_put(req);
	free(path);
	return status;
}
