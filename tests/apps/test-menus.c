/*
 * Unit tests of the host's menu writer (compositor/menus.c): entries that
 * desktop-file-validate accepts, icons in the VM's color, stale entries
 * removed, hostile app lists refused or sanitized. DESKTOP_FILE_VALIDATE
 * and XMLLINT are program paths from meson ("" when not installed).
 */
#include <cairo.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vitrail/common/fs.h>
#include <vitrail/protocol.h>

#include "services/menus.h"

extern char **environ;

static char root[PATH_MAX];
static char data_home[PATH_MAX], config_home[PATH_MAX];

/* snprintf that must not truncate. */
static void fmt(char *buf, size_t cap, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(buf, cap, format, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < cap, "path too long");
}

static void setup_env(void)
{
	const char *tmp = getenv("TMPDIR");
	fmt(root, sizeof(root), "%s/vitrail-menus-XXXXXX", tmp != NULL ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(root));
	fmt(data_home, sizeof(data_home), "%s/data", root);
	fmt(config_home, sizeof(config_home), "%s/config", root);
	setenv("XDG_DATA_HOME", data_home, 1);
	setenv("XDG_CONFIG_HOME", config_home, 1);
	setenv("HOME", root, 1);
}

static void teardown_env(void)
{
	char cmd[PATH_MAX + 32];
	if (root[0] == '/') {
		fmt(cmd, sizeof(cmd), "/bin/rm -rf '%s'", root);
		cr_expect_eq(system(cmd), 0);
	}
}

TestSuite(menus, .init = setup_env, .fini = teardown_env);

static const char *path_of(const char *dir, const char *name)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *p = buf[next++ % 4];
	fmt(p, PATH_MAX, "%s/%s", dir, name);
	return p;
}

static const char *entry_path(const char *name)
{
	char dir[PATH_MAX];
	fmt(dir, sizeof(dir), "%s/applications", data_home);
	return path_of(dir, name);
}

static const char *icon_path(const char *name)
{
	char dir[PATH_MAX];
	fmt(dir, sizeof(dir), "%s/icons/hicolor/96x96/apps", data_home);
	return path_of(dir, name);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static char *slurp(const char *path)
{
	size_t len;
	char *buf = fs_read_file(path, 65535, 0, &len);
	cr_assert_not_null(buf, "cannot read %s: %s", path, strerror(errno));
	return buf;
}

/* Number of lines of text that start with prefix. */
static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			n++;
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	return n;
}

/* The value of "key=" in text, copied into out. */
static const char *value_of(const char *text, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, "\n");
			fmt(out, cap, "%.*s", (int)n, p + kl + 1);
			return out;
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	return NULL;
}

/* Run prog with one argument; its output (stdout+stderr) into out. */
static int run(const char *prog, const char *arg1, const char *arg2, char *out, size_t cap)
{
	int fds[2];
	pid_t pid;
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)prog, (char *)arg1, (char *)arg2, NULL };

	cr_assert_eq(pipe(fds), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	cr_assert_eq(posix_spawn(&pid, prog, &fa, NULL, argv, environ), 0, "spawn %s", prog);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fds[0], out + n, cap - 1 - n)) > 0) {
		n += (size_t)r;
	}
	out[n] = '\0';
	close(fds[0]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* desktop-file-validate must accept the file: exit 0, no error or
 * warning (hints about category choices are fine). */
static void expect_valid(const char *path)
{
	char out[8192];
	if (DESKTOP_FILE_VALIDATE[0] == '\0') {
		cr_log_warn("desktop-file-validate not installed; %s not validated", path);
		return;
	}
	int rc = run(DESKTOP_FILE_VALIDATE, path, NULL, out, sizeof(out));
	cr_expect_eq(rc, 0, "%s: desktop-file-validate failed: %s", path, out);
	cr_expect(strstr(out, "error") == NULL && strstr(out, "warning") == NULL,
		"%s: desktop-file-validate: %s", path, out);
}

static void expect_all_entries_valid(void)
{
	char dir[PATH_MAX];
	fmt(dir, sizeof(dir), "%s/applications", data_home);
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".desktop") != NULL) {
			expect_valid(path_of(dir, de->d_name));
			n++;
		}
		cr_expect(de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
				strcmp(de->d_name, "..") == 0,
			"no temporary file left: %s", de->d_name);
	}
	closedir(d);
	cr_expect_gt(n, 0);
}

static uint8_t *solid_icon(int size, uint8_t r, uint8_t g, uint8_t b)
{
	uint8_t *p = malloc((size_t)size * size * 4);
	cr_assert_not_null(p);
	for (int i = 0; i < size * size; i++) {
		p[i * 4] = r;
		p[i * 4 + 1] = g;
		p[i * 4 + 2] = b;
		p[i * 4 + 3] = 255;
	}
	return p;
}

/* The pixel (x, y) of a PNG as 0xRRGGBB, and its alpha. */
static uint32_t png_pixel(const char *path, int x, int y, int *alpha, int *size)
{
	cairo_surface_t *s = cairo_image_surface_create_from_png(path);
	cr_assert_eq(cairo_surface_status(s), CAIRO_STATUS_SUCCESS, "%s is not a PNG", path);
	*size = cairo_image_surface_get_width(s);
	cr_assert_eq(cairo_image_surface_get_height(s), *size);
	const uint8_t *data = cairo_image_surface_get_data(s);
	uint32_t p = *(const uint32_t *)(data + y * cairo_image_surface_get_stride(s) + x * 4);
	cairo_surface_destroy(s);
	*alpha = (int)(p >> 24);
	return p & 0xffffff; /* opaque pixels: premultiplied == straight */
}

#define BLUE 0x3465a4u
#define GREEN 0x73d216u

Test(menus, sync_writes_valid_entries_and_icons)
{
	uint8_t *red96 = solid_icon(96, 255, 0, 0);
	uint8_t *green48 = solid_icon(48, 0, 255, 0);
	const struct menus_app apps[] = {
		{ .id = "org.mozilla.firefox.desktop",
			.name = "Firefox",
			.generic_name = "Web Browser",
			.comment = "Browse the World Wide Web",
			.categories = "Network;WebBrowser;",
			.icon96 = red96 },
		{ .id = "gedit.desktop",
			.name = "Text Editor",
			.generic_name = "Text Editor",
			.comment = "Text Editor",
			.categories = "GNOME;GTK;Utility;TextEditor;",
			.icon48 = green48 },
		{ .id = "kde-konsole_x.desktop", .name = "Konsole" },
	};

	cr_assert(menus_sync_vm("work", BLUE, apps, 3, NULL));

	const char *ff = entry_path("vitrail-work-org_mozilla_firefox.desktop");
	cr_assert(exists(ff));
	cr_assert(exists(entry_path("vitrail-work-gedit.desktop")));
	cr_assert(exists(entry_path("vitrail-work-kde_konsole_x.desktop")));
	expect_all_entries_valid();

	char *text = slurp(ff), v[1024];
	cr_expect_str_eq(value_of(text, "Name", v, sizeof(v)), "[work] Firefox");
	cr_expect_str_eq(value_of(text, "GenericName", v, sizeof(v)), "[work] Web Browser");
	cr_expect_str_eq(value_of(text, "Comment", v, sizeof(v)), "Browse the World Wide Web");
	cr_expect_str_eq(value_of(text, "Exec", v, sizeof(v)),
		"vitrailctl run-app work org.mozilla.firefox.desktop");
	cr_expect_str_eq(value_of(text, "TryExec", v, sizeof(v)), "vitrailctl");
	cr_expect_str_eq(value_of(text, "Categories", v, sizeof(v)),
		"Network;WebBrowser;X-Vitrail-VM;X-Vitrail-VM-work;");
	/* a guest is never a handler of a type or scheme on the host */
	cr_expect_null(value_of(text, "MimeType", v, sizeof(v)));
	cr_expect_str_eq(value_of(text, "X-Vitrail-VM", v, sizeof(v)), "work");
	/* a name in the user's hicolor theme, where the PNG is */
	cr_expect_str_eq(value_of(text, "Icon", v, sizeof(v)), "vitrail-work-org_mozilla_firefox");
	free(text);

	/* GenericName/Comment equal to Name are left out. */
	text = slurp(entry_path("vitrail-work-gedit.desktop"));
	cr_expect_eq(count_lines(text, "GenericName="), 0);
	cr_expect_eq(count_lines(text, "Comment="), 0);
	free(text);

	/* Icons: the guest's picture inside a frame and a badge in the label
	 * color. */
	int a, size;
	const char *ic = icon_path("vitrail-work-org_mozilla_firefox.png");
	cr_expect_eq(png_pixel(ic, 85, 85, &a, &size), BLUE, "badge");
	cr_expect_eq(size, MENUS_ICON_SIZE);
	cr_expect_eq(a, 255);
	cr_expect_eq(png_pixel(ic, 1, 40, &a, &size), BLUE, "frame");
	cr_expect_eq(png_pixel(ic, 40, 94, &a, &size), BLUE, "frame");
	cr_expect_eq(png_pixel(ic, 40, 40, &a, &size), 0xff0000u, "guest picture");
	ic = icon_path("vitrail-work-gedit.png");
	cr_expect_eq(png_pixel(ic, 20, 20, &a, &size), 0x00ff00u, "48 px picture, scaled");
	cr_expect_eq(png_pixel(ic, 90, 90, &a, &size), BLUE);
	ic = icon_path("vitrail-work-kde_konsole_x.png");
	cr_expect_eq(png_pixel(ic, 90, 90, &a, &size), BLUE, "no picture: still badged");

	/* The menu merge file and its directory entry. */
	char menu[PATH_MAX];
	fmt(menu, sizeof(menu), "%s/menus/applications-merged/vitrail-work.menu", config_home);
	cr_assert(exists(menu));
	text = slurp(menu);
	cr_expect(strstr(text, "<Category>X-Vitrail-VM-work</Category>") != NULL);
	cr_expect(strstr(text, "<Directory>vitrail-work.directory</Directory>") != NULL);
	free(text);
	if (XMLLINT[0] != '\0') {
		char out[4096];
		cr_expect_eq(run(XMLLINT, "--noout", menu, out, sizeof(out)), 0, "%s", out);
	}
	char dir[PATH_MAX];
	fmt(dir, sizeof(dir), "%s/desktop-directories/vitrail-work.directory", data_home);
	cr_assert(exists(dir));
	expect_valid(dir);

	free(red96);
	free(green48);
}

Test(menus, unchanged_files_are_not_rewritten_and_stale_ones_go)
{
	const struct menus_app apps[] = {
		{ .id = "a.desktop", .name = "A" },
		{ .id = "b.desktop", .name = "B" },
	};
	struct stat st1, st2;

	cr_assert(menus_sync_vm("work", BLUE, apps, 2, NULL));
	cr_assert_eq(stat(entry_path("vitrail-work-a.desktop"), &st1), 0);
	cr_assert(menus_sync_vm("work", BLUE, apps, 2, NULL));
	cr_assert_eq(stat(entry_path("vitrail-work-a.desktop"), &st2), 0);
	cr_expect_eq(st1.st_ino, st2.st_ino, "same content: the file is left alone");
	struct stat ic1, ic2;
	cr_assert_eq(stat(icon_path("vitrail-work-a.png"), &ic1), 0);
	cr_assert(menus_sync_vm("work", BLUE, apps, 2, NULL));
	cr_assert_eq(stat(icon_path("vitrail-work-a.png"), &ic2), 0);
	cr_expect_eq(ic1.st_ino, ic2.st_ino, "same picture and color: the icon is left alone");
	/* A deleted icon comes back even though the entry is unchanged. */
	unlink(icon_path("vitrail-work-a.png"));
	cr_assert(menus_sync_vm("work", BLUE, apps, 2, NULL));
	cr_expect(exists(icon_path("vitrail-work-a.png")));

	/* A new label color rewrites the icon. */
	cr_assert_eq(stat(icon_path("vitrail-work-a.png"), &st1), 0);
	cr_assert(menus_sync_vm("work", GREEN, apps, 2, NULL));
	cr_assert_eq(stat(icon_path("vitrail-work-a.png"), &st2), 0);
	cr_expect_neq(st1.st_ino, st2.st_ino);
	int a, size;
	cr_expect_eq(png_pixel(icon_path("vitrail-work-a.png"), 90, 90, &a, &size), GREEN);

	/* b goes away in the guest. */
	cr_assert(menus_sync_vm("work", GREEN, apps, 1, NULL));
	cr_expect(exists(entry_path("vitrail-work-a.desktop")));
	cr_expect_not(exists(entry_path("vitrail-work-b.desktop")));
	cr_expect_not(exists(icon_path("vitrail-work-b.png")));

	/* Nothing left: the menu goes too. */
	char menu[PATH_MAX];
	fmt(menu, sizeof(menu), "%s/menus/applications-merged/vitrail-work.menu", config_home);
	cr_expect(exists(menu));
	cr_assert(menus_sync_vm("work", GREEN, NULL, 0, NULL));
	cr_expect_not(exists(entry_path("vitrail-work-a.desktop")));
	cr_expect_not(exists(icon_path("vitrail-work-a.png")));
	cr_expect_not(exists(menu));
}

Test(menus, remove_vm_touches_only_that_vm_and_our_files)
{
	const struct menus_app apps[] = { { .id = "x.desktop", .name = "X" } };
	const struct menus_app apps2[] = { { .id = "b-x.desktop", .name = "BX" } };

	cr_assert(menus_sync_vm("work", BLUE, apps, 1, NULL));
	cr_assert(menus_sync_vm("work-b", GREEN, apps, 1, NULL));
	cr_assert(menus_sync_vm("work", BLUE, apps2, 1, NULL));
	/* "work-b"'s x and "work"'s b-x do not collide: '-' in ids becomes '_'. */
	cr_expect(exists(entry_path("vitrail-work-b-x.desktop")));
	cr_expect(exists(entry_path("vitrail-work-b_x.desktop")));
	cr_expect_not(exists(entry_path("vitrail-work-x.desktop")), "stale entry of work");

	/* A file of the user's that looks like ours but has no marker. */
	FILE *f = fopen(entry_path("vitrail-work-mine.desktop"), "w");
	cr_assert_not_null(f);
	fputs("[Desktop Entry]\nType=Application\nName=Mine\nExec=mine\n", f);
	fclose(f);

	cr_assert(menus_sync_vm("work", BLUE, apps2, 1, NULL));
	cr_expect(exists(entry_path("vitrail-work-mine.desktop")), "sync keeps user files");

	cr_assert(menus_remove_vm("work"));
	cr_expect_not(exists(entry_path("vitrail-work-b_x.desktop")));
	cr_expect(exists(entry_path("vitrail-work-b-x.desktop")), "other VM untouched");
	cr_expect(exists(entry_path("vitrail-work-mine.desktop")), "user file untouched");

	/* Prune: VMs no longer configured. */
	cr_assert(menus_sync_vm("gone", BLUE, apps, 1, NULL));
	const char *keep[] = { "work" };
	cr_assert(menus_prune(keep, 1));
	cr_expect_not(exists(entry_path("vitrail-work-b-x.desktop")));
	cr_expect_not(exists(entry_path("vitrail-gone-x.desktop")));
	cr_expect(exists(entry_path("vitrail-work-mine.desktop")));

	cr_expect_not(menus_remove_vm("../etc"));
	cr_expect_not(menus_remove_vm(NULL));
}

Test(menus, hostile_app_lists)
{
	char longname[1001]; /* the protocol allows 1024 bytes */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	const struct menus_app apps[] = {
		/* refused ids */
		{ .id = "../../etc/passwd.desktop", .name = "P" },
		{ .id = "a/b.desktop", .name = "Slash" },
		{ .id = "..desktop", .name = "DotDot" },
		{ .id = "x..y.desktop", .name = "DotDot2" },
		{ .id = ".hidden.desktop", .name = "Hidden" },
		{ .id = "-rf.desktop", .name = "Option" },
		{ .id = "x y.desktop", .name = "Space" },
		{ .id = "a;b.desktop", .name = "Semi" },
		{ .id = "a%f.desktop", .name = "Field" },
		{ .id = "x.desktop\nExec=evil", .name = "Newline" },
		{ .id = "nodesktop", .name = "Suffix" },
		{ .id = ".desktop", .name = "Empty" },
		{ .id = NULL, .name = "Null" },
		/* refused strings */
		{ .id = "nl.desktop", .name = "two\nlines" },
		{ .id = "cr.desktop", .name = "A\rExec=evil" },
		{ .id = "esc.desktop", .name = "esc \x1b[31m" },
		{ .id = "utf8.desktop", .name = "bad \xff" },
		{ .id = "empty.desktop", .name = "" },
		{ .id = "gn.desktop", .name = "G", .generic_name = "x\ny" },
		/* sanitized */
		{
			.id = "inject.desktop",
			.name = "Evil Exec=rm -rf / %f $(id) `id` \\ ; |",
			.comment = " leading space",
			.categories = "Network;Exec=evil;X-Evil;Screensaver;Audio;Network;;Bogus;",
		},
		{ .id = "bidi.desktop",
			.name = "\xe2\x80\xae"
				"cod.exe\xe2\x80\xa8 x\xef\xbb\xbf" },
		{ .id = "long.desktop", .name = longname },
		{ .id = "org.foo-bar_baz.Qux.desktop", .name = "Ok" },
		{ .id = "org.foo_bar-baz.Qux.desktop", .name = "Same file name" },
	};
	size_t n = sizeof(apps) / sizeof(apps[0]);

	cr_assert(menus_sync_vm("work", BLUE, apps, n, NULL));

	/* Exactly the sanitized four, nothing else in the directory. */
	char dir[PATH_MAX];
	fmt(dir, sizeof(dir), "%s/applications", data_home);
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	struct dirent *de;
	int count = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			count++;
		}
	}
	closedir(d);
	cr_expect_eq(count, 4, "%d files", count);
	expect_all_entries_valid();

	char *text = slurp(entry_path("vitrail-work-inject.desktop")), v[4096];
	cr_expect_eq(count_lines(text, "Exec="), 1);
	cr_expect_str_eq(
		value_of(text, "Exec", v, sizeof(v)), "vitrailctl run-app work inject.desktop");
	cr_expect_str_eq(value_of(text, "Name", v, sizeof(v)),
		"[work] Evil Exec=rm -rf / %f $(id) `id` \\\\ ; |");
	cr_expect_str_eq(value_of(text, "Comment", v, sizeof(v)), "leading space");
	cr_expect_str_eq(value_of(text, "Categories", v, sizeof(v)),
		"Network;Audio;AudioVideo;X-Vitrail-VM;X-Vitrail-VM-work;");
	cr_expect_null(value_of(text, "MimeType", v, sizeof(v)));
	free(text);

	text = slurp(entry_path("vitrail-work-bidi.desktop"));
	cr_expect_str_eq(value_of(text, "Name", v, sizeof(v)), "[work] cod.exe x",
		"format characters removed");
	free(text);

	text = slurp(entry_path("vitrail-work-long.desktop"));
	cr_expect_eq(
		strlen(value_of(text, "Name", v, sizeof(v))), strlen("[work] ") + MENUS_MAX_NAME);
	free(text);

	text = slurp(entry_path("vitrail-work-org_foo_bar_baz_Qux.desktop"));
	cr_expect_str_eq(value_of(text, "Exec", v, sizeof(v)),
		"vitrailctl run-app work org.foo-bar_baz.Qux.desktop",
		"the first of two ids with the same file name wins");
	free(text);

	/* Limits and bad VM names. */
	cr_expect_not(menus_sync_vm("Bad Name", BLUE, apps, n, NULL));
	cr_expect_not(menus_sync_vm("../x", BLUE, apps, n, NULL));
	cr_expect_not(menus_sync_vm("", BLUE, apps, n, NULL));
}

Test(menus, exec_quoting_of_the_vitrailctl_path)
{
	const struct menus_app apps[] = { { .id = "a.desktop", .name = "A" } };

	cr_assert(menus_sync_vm("work", BLUE, apps, 1, "/opt/my dir/100%/vitrail$ctl"));
	expect_all_entries_valid();
	char *text = slurp(entry_path("vitrail-work-a.desktop")), v[1024];
	cr_expect_str_eq(value_of(text, "Exec", v, sizeof(v)),
		"\"/opt/my dir/100%%/vitrail\\\\$ctl\" run-app work a.desktop");
	cr_expect_str_eq(value_of(text, "TryExec", v, sizeof(v)), "/opt/my dir/100%/vitrail$ctl");
	free(text);
}

Test(menus, entry_file_names)
{
	char out[NAME_MAX + 1];
	cr_expect(menus_entry_file_name("work", "org.gnome.Foo.desktop", out, sizeof(out)));
	cr_expect_str_eq(out, "vitrail-work-org_gnome_Foo.desktop");
	cr_expect(menus_entry_file_name("a-b", "c-d.desktop", out, sizeof(out)));
	cr_expect_str_eq(out, "vitrail-a-b-c_d.desktop");
	cr_expect_not(menus_entry_file_name("work", "-x.desktop", out, sizeof(out)));
	cr_expect_not(menus_entry_file_name("work", "x.desktop.txt", out, sizeof(out)));
	cr_expect_not(menus_entry_file_name("Work", "x.desktop", out, sizeof(out)));
	cr_expect_not(menus_entry_file_name("work", "x.desktop", out, 8));
	char longid[260];
	memset(longid, 'a', sizeof(longid));
	strcpy(longid + 240, ".desktop");
	cr_expect_not(menus_entry_file_name("work", longid, out, sizeof(out)), "too long");
}

Test(menus, sync_in_a_worker_process)
{
	const struct menus_app apps[] = { { .id = "a.desktop", .name = "A" } };
	uint8_t result = 0xff;

	int fd = menus_sync_vm_start("work", BLUE, apps, 1, NULL);
	cr_assert_geq(fd, 0);
	/* Wait for the worker: the fd is non-blocking, so poll it. */
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, -1), 1);
	cr_assert_eq(read(fd, &result, 1), 1);
	close(fd);
	cr_expect_eq(result, 1);
	cr_expect(exists(entry_path("vitrail-work-a.desktop")));

	cr_expect_eq(menus_sync_vm_start("../bad", BLUE, apps, 1, NULL), -1);
}
