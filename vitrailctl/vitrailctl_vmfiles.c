/*
 * vitrailctl create / remove / clone / set: an AppVM is a [vm NAME]
 * section of the config file (edited as text by config_edit.c, every other
 * line and comment kept, the result checked by config_load before it
 * replaces the file) and a directory $XDG_DATA_HOME/vitrail/vms/NAME/
 * holding its private volume, private.qcow2: an empty qcow2 volume (made by
 * qemu-img; the guest formats it at its first start), so that the VM can be
 * snapshotted. An AppVM made by an older vitrailctl has a raw private.img
 * there instead, which remove and clone still handle. The root disk is not
 * here: vitrail boots a throw-away qcow2 overlay of the template's image,
 * made at every start.
 */
#include "vitrailctl_vmfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vitrail/common/fs.h>
#include <vitrail/common/text.h>
#include <vitrail/protocol.h>

#include "config.h"
#include "config_edit.h"

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define DEFAULT_PRIVATE_GIB 4u
#define MAX_PRIVATE_GIB 1024u

static int fail(const char *fmt, const char *a, const char *b)
	__attribute__((format(printf, 1, 0)));
static int fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "vitrailctl: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

static int usage_fail(const char *msg)
{
	fprintf(stderr, "vitrailctl: %s\nrun 'vitrailctl --help' for usage\n", msg);
	return EXIT_USAGE;
}

static char *config_path(const char *option)
{
	if (option != NULL) {
		return strdup(option);
	}
	const char *env = getenv("VITRAIL_CONFIG");
	if (env != NULL && env[0] != '\0') {
		return strdup(env);
	}
	char *path = fs_user_path("XDG_CONFIG_HOME", ".config", "vitrail/vitrail.ini");
	if (path == NULL) {
		fprintf(stderr,
			"vitrailctl: no config file: set HOME or XDG_CONFIG_HOME, or --config\n");
	}
	return path;
}

/* $XDG_DATA_HOME/vitrail/vms/NAME, else ~/.local/share/vitrail/vms/NAME */
static char *vm_dir(const char *name)
{
	char *dir = fs_user_path("XDG_DATA_HOME", ".local/share", "vitrail/vms/%s", name);
	if (dir == NULL) {
		fprintf(stderr, "vitrailctl: set HOME or XDG_DATA_HOME (where VM files go)\n");
	}
	return dir;
}

/* The config file's text; a missing file is empty. */
static char *read_config(const char *path)
{
	size_t len;
	char *text = fs_read_file(path, CONFIG_MAX_FILE_SIZE, 0, &len);
	if (text == NULL && errno == ENOENT) {
		return strdup("");
	}
	if (text == NULL) {
		fprintf(stderr, "vitrailctl: %s: %s\n", path, strerror(errno));
	}
	return text;
}

/*
 * Write text next to path, check it with config_load (errors name the
 * config file), and only then rename it over path.
 */
static bool write_config(const char *path, const char *text)
{
	char *dir = strdup(path);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (!fs_make_dirs(dir)) {
			fprintf(stderr, "vitrailctl: mkdir %s: %s\n", dir, strerror(errno));
			free(dir);
			return false;
		}
	}
	free(dir);
	char *tmp = text_printf("%s.new-%d", path, (int)getpid());
	if (tmp == NULL) {
		return false;
	}
	struct stat st;
	mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 0777) : 0644;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	bool ok = fd >= 0 && fs_write_all(fd, text, strlen(text)) && fsync(fd) == 0;
	if (fd >= 0) {
		ok = close(fd) == 0 && ok;
	}
	if (!ok) {
		fprintf(stderr, "vitrailctl: write %s: %s\n", tmp, strerror(errno));
		unlink(tmp);
		free(tmp);
		return false;
	}
	char *error = NULL;
	struct config *config = config_load(tmp, &error);
	if (config == NULL) {
		/* name the real file, not the temporary one */
		const char *msg = error != NULL ? error : "invalid";
		size_t tl = strlen(tmp);
		if (strncmp(msg, tmp, tl) == 0) {
			fprintf(stderr,
				"vitrailctl: the change would make the config invalid: %s%s\n",
				path, msg + tl);
		} else {
			fprintf(stderr,
				"vitrailctl: the change would make the config invalid: %s\n", msg);
		}
		free(error);
		unlink(tmp);
		free(tmp);
		return false;
	}
	config_destroy(config);
	if (rename(tmp, path) < 0) {
		fprintf(stderr, "vitrailctl: rename %s: %s\n", tmp, strerror(errno));
		unlink(tmp);
		free(tmp);
		return false;
	}
	free(tmp);
	return true;
}

/* Run argv, quietly; true when it exits 0. */
static bool run_tool(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0) {
		return false;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "vitrailctl: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			return false;
		}
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* An empty qcow2 volume of gib GiB (mode 0600); the guest formats it. */
static bool make_private_volume(const char *path, unsigned gib)
{
	/* claim the name first: qemu-img would overwrite a file in the way */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "vitrailctl: create %s: %s\n", path, strerror(errno));
		return false;
	}
	close(fd);
	char size[24];
	snprintf(size, sizeof(size), "%uG", gib);
	char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", (char *)path, size, NULL };
	if (!run_tool(argv)) {
		fprintf(stderr,
			"vitrailctl: qemu-img create %s failed (Debian package qemu-utils)\n",
			path);
		return false;
	}
	return true;
}

/* The private volume create made in dir: private.qcow2, or the raw
 * private.img of an older vitrailctl. */
static const char *const private_names[] = { "private.qcow2", "private.img" };

/* Does a QEMU of VM name run (its pidfile under the run directory names a
 * live process)? */
bool vitrailctl_vm_running(const char *name)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	if (run == NULL || run[0] != '/') {
		return false;
	}
	char *pidfile = text_printf("%s/vitrail/vms/%s.pid", run, name);
	size_t len;
	char *text = pidfile != NULL ? fs_read_file(pidfile, 64, O_NOFOLLOW, &len) : NULL;
	free(pidfile);
	if (text == NULL) {
		return false;
	}
	long pid = strtol(text, NULL, 10);
	free(text);
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static bool remove_dir_files(const char *dir)
{
	for (size_t i = 0; i < sizeof(private_names) / sizeof(private_names[0]); i++) {
		char *p = text_printf("%s/%s", dir, private_names[i]);
		if (p == NULL || (unlink(p) < 0 && errno != ENOENT)) {
			fprintf(stderr, "vitrailctl: remove %s: %s\n", p ? p : dir,
				strerror(errno));
			free(p);
			return false;
		}
		free(p);
	}
	if (rmdir(dir) < 0 && errno != ENOENT) {
		fprintf(stderr, "vitrailctl: rmdir %s: %s (other files left in it)\n", dir,
			strerror(errno));
		return false;
	}
	return true;
}

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static int create(const char *cfg, char **args, int n)
{
	const char *name = NULL, *template = NULL, *label = NULL, *memory = NULL, *cpus = NULL,
		   *network = "none", *service = NULL;
	unsigned gib = DEFAULT_PRIVATE_GIB;
	for (int a = 0; a < n; a++) {
		const char *opt = args[a];
		bool has_value = a + 1 < n;
		if (opt[0] != '-') {
			if (name != NULL) {
				return usage_fail("create: one VM name");
			}
			name = opt;
		} else if (!has_value) {
			return usage_fail("create: an option needs a value");
		} else if (strcmp(opt, "--template") == 0) {
			template = args[++a];
		} else if (strcmp(opt, "--label") == 0) {
			label = args[++a];
		} else if (strcmp(opt, "--memory") == 0) {
			memory = args[++a];
		} else if (strcmp(opt, "--cpus") == 0) {
			cpus = args[++a];
		} else if (strcmp(opt, "--network") == 0) {
			network = args[++a];
		} else if (strcmp(opt, "--service") == 0) {
			service = args[++a];
		} else if (strcmp(opt, "--private-size") == 0) {
			if (!parse_uint(args[++a], 1, MAX_PRIVATE_GIB, &gib)) {
				return usage_fail("create: --private-size: GiB, 1..1024");
			}
		} else {
			return usage_fail("create: unknown option");
		}
	}
	if (name == NULL || template == NULL || label == NULL) {
		return usage_fail("usage: vitrailctl create NAME --template T --label COLOR "
				  "[--memory MiB] [--cpus N] [--network user|none|via:VM] "
				  "[--service net|firewall] [--private-size GiB]");
	}
	if (!vtp_valid_vm_name(name)) {
		return fail("invalid VM name '%s' (a-z, 0-9 and '-', 1..32)%s", name, "");
	}
	char *path = config_path(cfg);
	char *dir = vm_dir(name);
	char *text = path != NULL ? read_config(path) : NULL;
	char *private_path = dir != NULL ? text_printf("%s/%s", dir, private_names[0]) : NULL;
	int status = EXIT_FAIL;
	char *new_text = NULL, *error = NULL;
	if (text == NULL || private_path == NULL) {
		goto out;
	}
	const char *keys[9], *values[9];
	size_t k = 0;
	keys[k] = "label", values[k++] = label;
	keys[k] = "type", values[k++] = "qemu";
	keys[k] = "template", values[k++] = template;
	keys[k] = "private", values[k++] = private_path;
	keys[k] = "network", values[k++] = network;
	if (memory != NULL) {
		keys[k] = "memory", values[k++] = memory;
	}
	if (cpus != NULL) {
		keys[k] = "cpus", values[k++] = cpus;
	}
	if (service != NULL) {
		keys[k] = "service", values[k++] = service;
	}
	new_text = config_edit_add_vm(text, name, keys, values, k, &error);
	if (new_text == NULL) {
		fail("create %s: %s", name, error);
		goto out;
	}
	struct stat st;
	if (lstat(dir, &st) == 0) {
		fail("create %s: %s exists already (remove it, or choose another name)", name, dir);
		goto out;
	}
	if (!fs_make_dirs(dir)) {
		fail("mkdir %s: %s", dir, strerror(errno));
		goto out;
	}
	/* the section names private.qcow2: validate before making it, then
	 * make it, then put the config in place */
	if (!make_private_volume(private_path, gib) || !write_config(path, new_text)) {
		remove_dir_files(dir);
		goto out;
	}
	printf("created VM %s: [vm %s] in %s, private volume %s (%u GiB, qcow2, empty)\n", name,
		name, path, private_path, gib);
	status = 0;
out:
	free(error);
	free(new_text);
	free(private_path);
	free(text);
	free(dir);
	free(path);
	return status;
}

/* The section's private = path if it is one create made in dir (a name
 * of private_names, malloc'd), else NULL. */
static char *owned_private(const char *text, const char *name, const char *dir)
{
	char *private = config_edit_get_key(text, name, "private");
	for (size_t i = 0; private != NULL && i < sizeof(private_names) / sizeof(private_names[0]);
		i++) {
		char *expected = text_printf("%s/%s", dir, private_names[i]);
		bool owns = expected != NULL && strcmp(private, expected) == 0;
		free(expected);
		if (owns) {
			return private;
		}
	}
	free(private);
	return NULL;
}

static bool owns_private(const char *text, const char *name, const char *dir)
{
	char *private = owned_private(text, name, dir);
	free(private);
	return private != NULL;
}

static int remove_vm(const char *cfg, char **args, int n)
{
	if (n != 1) {
		return usage_fail("usage: vitrailctl remove NAME");
	}
	const char *name = args[0];
	if (!vtp_valid_vm_name(name)) {
		return fail("invalid VM name '%s'%s", name, "");
	}
	if (vitrailctl_vm_running(name)) {
		return fail("VM %s is running: stop it first (vitrailctl stop %s)", name, name);
	}
	char *path = config_path(cfg);
	char *dir = vm_dir(name);
	char *text = path != NULL ? read_config(path) : NULL;
	char *error = NULL, *new_text = NULL;
	int status = EXIT_FAIL;
	if (text == NULL || dir == NULL) {
		goto out;
	}
	/* refuse to leave a VM pointing at a removed template */
	struct config *config = config_load(path, &error);
	if (config == NULL) {
		fail("%s%s", error != NULL ? error : "invalid config", "");
		goto out;
	}
	for (size_t i = 0; i < config->n_vms; i++) {
		const struct config_vm *v = &config->vms[i];
		if ((v->template_of != NULL && strcmp(v->template_of, name) == 0) ||
			(v->disposable_of != NULL && strcmp(v->disposable_of, name) == 0)) {
			fprintf(stderr,
				"vitrailctl: VM %s is the template of %s: remove that first\n",
				name, v->name);
			config_destroy(config);
			goto out;
		}
	}
	config_destroy(config);
	new_text = config_edit_remove_vm(text, name, &error);
	if (new_text == NULL) {
		fail("remove %s: %s", name, error);
		goto out;
	}
	bool owns = owns_private(text, name, dir);
	if (!write_config(path, new_text)) {
		goto out;
	}
	if (owns && !remove_dir_files(dir)) {
		goto out;
	}
	printf("removed VM %s%s%s\n", name, owns ? " and " : "", owns ? dir : "");
	status = 0;
out:
	free(error);
	free(new_text);
	free(text);
	free(dir);
	free(path);
	return status;
}

/* Copy the private volume with holes kept. */
static bool copy_sparse(const char *from, const char *to)
{
	char *argv[] = { "cp", "--sparse=always", "--", (char *)from, (char *)to, NULL };
	if (!run_tool(argv)) {
		fprintf(stderr, "vitrailctl: cp %s %s failed\n", from, to);
		return false;
	}
	return true;
}

static int clone_vm(const char *cfg, char **args, int n)
{
	if (n != 2) {
		return usage_fail("usage: vitrailctl clone NAME NEW");
	}
	const char *name = args[0], *new_name = args[1];
	if (!vtp_valid_vm_name(name) || !vtp_valid_vm_name(new_name)) {
		return fail("invalid VM name '%s' or '%s'", name, new_name);
	}
	if (vitrailctl_vm_running(name)) {
		return fail("VM %s is running: stop it first (its volume is in use)%s", name, "");
	}
	static const char *const keys[] = { "label", "type", "template", "private", "network",
		"memory", "cpus", "accel", "pool-size", "allow-fullscreen", "command", "autostart",
		"kernel", "initrd", "append", "resume-on-input", "idle-inhibit", "service",
		"firewall", "firewall-default", "suspend-after", "fast-start" };
	enum { N_KEYS = sizeof(keys) / sizeof(keys[0]) };
	char *path = config_path(cfg);
	char *dir = vm_dir(name), *new_dir = vm_dir(new_name);
	char *text = path != NULL ? read_config(path) : NULL;
	char *values[N_KEYS] = { 0 };
	const char *ckeys[N_KEYS], *cvalues[N_KEYS];
	char *old_private = NULL, *new_private = NULL;
	char *error = NULL, *new_text = NULL;
	int status = EXIT_FAIL;
	if (text == NULL || dir == NULL || new_dir == NULL) {
		goto out;
	}
	if (!config_edit_has_vm(text, name)) {
		fail("no [vm %s] in %s", name, path);
		goto out;
	}
	char *template = config_edit_get_key(text, name, "template");
	free(template);
	old_private = owned_private(text, name, dir);
	if (template == NULL || old_private == NULL) {
		fail("%s is not an AppVM made by vitrailctl create (template, private = "
		     "%s/private.qcow2)",
			name, dir);
		goto out;
	}
	/* the clone's volume has the same name (and format) as the original's */
	new_private = text_printf("%s%s", new_dir, strrchr(old_private, '/'));
	if (new_private == NULL) {
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i < N_KEYS; i++) {
		values[i] = config_edit_get_key(text, name, keys[i]);
		if (values[i] == NULL) {
			continue;
		}
		ckeys[k] = keys[i];
		cvalues[k++] = strcmp(keys[i], "private") == 0 ? new_private : values[i];
	}
	new_text = config_edit_add_vm(text, new_name, ckeys, cvalues, k, &error);
	if (new_text == NULL) {
		fail("clone %s: %s", new_name, error);
		goto out;
	}
	struct stat st;
	if (lstat(new_dir, &st) == 0) {
		fail("clone: %s exists already%s", new_dir, "");
		goto out;
	}
	bool ok = fs_make_dirs(new_dir) && copy_sparse(old_private, new_private);
	if (!ok || !write_config(path, new_text)) {
		remove_dir_files(new_dir);
		goto out;
	}
	printf("cloned VM %s to %s (%s)\n", name, new_name, new_dir);
	status = 0;
out:
	for (size_t i = 0; i < N_KEYS; i++) {
		free(values[i]);
	}
	free(error);
	free(new_text);
	free(old_private);
	free(new_private);
	free(text);
	free(dir);
	free(new_dir);
	free(path);
	return status;
}

static int set_key(const char *cfg, char **args, int n)
{
	if (n != 3) {
		return usage_fail("usage: vitrailctl set NAME KEY VALUE");
	}
	const char *name = args[0], *key = args[1], *value = args[2];
	if (!vtp_valid_vm_name(name)) {
		return fail("invalid VM name '%s'%s", name, "");
	}
	if (strcmp(key, "private") == 0 || strcmp(key, "type") == 0) {
		return fail("set: '%s' cannot be changed (VM %s)", key, name);
	}
	char *path = config_path(cfg);
	char *text = path != NULL ? read_config(path) : NULL;
	char *error = NULL, *new_text = NULL;
	int status = EXIT_FAIL;
	if (text == NULL) {
		goto out;
	}
	new_text = config_edit_set_key(text, name, key, value, &error);
	if (new_text == NULL) {
		fail("set %s: %s", name, error);
		goto out;
	}
	if (!write_config(path, new_text)) {
		goto out;
	}
	printf("[vm %s] %s = %s%s\n", name, key, value,
		vitrailctl_vm_running(name) && strcmp(key, "memory") != 0
			? " (the VM runs: applies at its next start)"
			: "");
	status = 0;
out:
	free(error);
	free(new_text);
	free(text);
	free(path);
	return status;
}

int vitrailctl_vmfiles_run(const char *config_option, const char *command, char **args, int n_args)
{
	if (strcmp(command, "create") == 0) {
		return create(config_option, args, n_args);
	}
	if (strcmp(command, "remove") == 0) {
		return remove_vm(config_option, args, n_args);
	}
	if (strcmp(command, "clone") == 0) {
		return clone_vm(config_option, args, n_args);
	}
	return set_key(config_option, args, n_args);
}
