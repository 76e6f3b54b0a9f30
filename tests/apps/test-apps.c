/*
 * Unit tests of the guest's app scanner (guest-agent/apps.c) and Exec line
 * handling (guest-agent/launch.c). Every test builds its own XDG tree in a
 * temporary directory; Criterion runs each test in its own process, so the
 * environment changes stay local.
 */
#include <cairo.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vitrail/protocol.h>

#include "apps.h"
#include "launch.h"

static char root[PATH_MAX];

/* snprintf that must not truncate. */
static void fmt(char *buf, size_t cap, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(buf, cap, format, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < cap, "path too long");
}

static void mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	fmt(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0700);
			*p = '/';
		}
	}
	mkdir(tmp, 0700);
}

/* root/rel, its parent directories created. */
static const char *at(const char *rel)
{
	static char path[4][PATH_MAX];
	static int next;
	char *p = path[next++ % 4];
	fmt(p, PATH_MAX, "%s/%s", root, rel);
	char dir[PATH_MAX];
	fmt(dir, sizeof(dir), "%s", p);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	mkdirs(dir);
	return p;
}

static void write_bytes(const char *rel, const void *data, size_t len)
{
	FILE *f = fopen(at(rel), "wb");
	cr_assert_not_null(f, "cannot write %s", rel);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void put(const char *rel, const char *format, ...)
{
	static char buf[32768];
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(buf, sizeof(buf), format, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(buf));
	write_bytes(rel, buf, (size_t)n);
}

/* A minimal application entry. */
static void app(const char *rel, const char *name, const char *extra)
{
	put(rel, "[Desktop Entry]\nType=Application\nName=%s\nExec=prog-%s\n%s", name, name,
		extra != NULL ? extra : "");
}

static void setup_env(void)
{
	const char *tmp = getenv("TMPDIR");
	fmt(root, sizeof(root), "%s/vitrail-apps-XXXXXX", tmp != NULL ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(root));
	char v[PATH_MAX * 2];
	fmt(v, sizeof(v), "%s", at("home/.keep"));
	*strrchr(v, '/') = '\0';
	setenv("HOME", v, 1);
	fmt(v, sizeof(v), "%s/home/.local/share", root);
	setenv("XDG_DATA_HOME", v, 1);
	fmt(v, sizeof(v), "%s/sys1:%s/sys2:relative/dir", root, root);
	setenv("XDG_DATA_DIRS", v, 1);
	setenv("XDG_CURRENT_DESKTOP", "vitrail:wlroots", 1);
	setenv("PATH", "/usr/bin:/bin", 1);
	unsetenv("LANGUAGE");
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	unsetenv("LANG");
}

static void teardown_env(void)
{
	char cmd[PATH_MAX + 32];
	if (root[0] == '/') {
		fmt(cmd, sizeof(cmd), "/bin/rm -rf '%s'", root);
		cr_expect_eq(system(cmd), 0);
	}
}

TestSuite(apps, .init = setup_env, .fini = teardown_env);
TestSuite(launch, .init = setup_env, .fini = teardown_env);

static const struct apps_entry *find(const struct apps_list *l, const char *id)
{
	for (size_t i = 0; i < l->n_apps; i++) {
		if (strcmp(l->apps[i].id, id) == 0) {
			return &l->apps[i];
		}
	}
	return NULL;
}

static bool display_ok(const char *s)
{
	return s != NULL && vtp_check_display_string((const uint8_t *)s, strlen(s)) == VTP_OK &&
		strlen(s) <= VTP_MAX_APP_FIELD;
}

#define HOME_APPS "home/.local/share/applications/"

Test(apps, visibility_rules_and_shadowing)
{
	app(HOME_APPS "a.desktop", "AlphaHome", NULL);
	app("sys1/applications/a.desktop", "AlphaSys", NULL);
	app("sys1/applications/b.desktop", "BetaHidden", "Hidden=true\n");
	app("sys2/applications/b.desktop", "BetaSys2", NULL);
	app("sys1/applications/nodisplay.desktop", "NoDisp", "NoDisplay=true\n");
	app("sys1/applications/nodisplay-false.desktop", "Shown", "NoDisplay=false\n");
	app("sys1/applications/kde/konsole.desktop", "Konsole", NULL);
	app("sys1/applications/tryexec-missing.desktop", "TE1", "TryExec=/nonexistent/prog\n");
	app("sys1/applications/tryexec-path.desktop", "TE2", "TryExec=sh\n");
	app("sys1/applications/tryexec-abs.desktop", "TE3", "TryExec=/bin/sh\n");
	app("sys1/applications/only-gnome.desktop", "OG", "OnlyShowIn=GNOME;KDE;\n");
	app("sys1/applications/only-us.desktop", "OU", "OnlyShowIn=GNOME;wlroots;\n");
	app("sys1/applications/not-us.desktop", "NU", "NotShowIn=vitrail;\n");
	app("sys1/applications/not-others.desktop", "NO", "NotShowIn=GNOME;\n");
	put("sys1/applications/link.desktop", "[Desktop Entry]\nType=Link\nName=L\nURL=x\n");
	put("sys1/applications/noexec.desktop", "[Desktop Entry]\nType=Application\nName=N\n");
	put("sys1/applications/noname.desktop", "[Desktop Entry]\nType=Application\nExec=x\n");
	put("sys1/applications/badexec.desktop",
		"[Desktop Entry]\nType=Application\nName=B\nExec=\"unterminated\n");
	put("sys1/applications/wronggroup.desktop",
		"[Desktop Action x]\nName=W\n[Desktop Entry]\nType=Application\nName=W\nExec=w\n");
	put("sys1/applications/garbage.desktop",
		"[Desktop Entry]\nType=Application\nName=G\n"
		"Exec=g\nthis line has no equals sign\n");
	put("sys1/applications/notes.txt", "[Desktop Entry]\nType=Application\nName=T\nExec=t\n");
	app("sys2/applications/sys2only.desktop", "Sys2Only", NULL);
	app("relative/dir/applications/rel.desktop", "Rel", NULL);

	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);

	const struct apps_entry *a = find(l, "a.desktop");
	cr_assert_not_null(a);
	cr_expect_str_eq(a->name, "AlphaHome", "XDG_DATA_HOME shadows XDG_DATA_DIRS");
	cr_expect_null(find(l, "b.desktop"), "a Hidden entry hides the same id in later dirs");
	cr_expect_null(find(l, "nodisplay.desktop"));
	cr_expect_not_null(find(l, "nodisplay-false.desktop"));
	cr_expect_not_null(find(l, "kde-konsole.desktop"), "subdirectory ids use '-'");
	cr_expect_null(find(l, "tryexec-missing.desktop"));
	cr_expect_not_null(find(l, "tryexec-path.desktop"));
	cr_expect_not_null(find(l, "tryexec-abs.desktop"));
	cr_expect_null(find(l, "only-gnome.desktop"));
	cr_expect_not_null(find(l, "only-us.desktop"));
	cr_expect_null(find(l, "not-us.desktop"));
	cr_expect_not_null(find(l, "not-others.desktop"));
	cr_expect_null(find(l, "link.desktop"));
	cr_expect_null(find(l, "noexec.desktop"));
	cr_expect_null(find(l, "noname.desktop"));
	cr_expect_null(find(l, "badexec.desktop"));
	cr_expect_null(find(l, "wronggroup.desktop"));
	cr_expect_null(find(l, "garbage.desktop"));
	cr_expect_not_null(find(l, "sys2only.desktop"));
	cr_expect_null(find(l, "rel.desktop"), "relative XDG_DATA_DIRS entries are ignored");
	cr_expect_eq(l->n_apps, 8, "got %zu apps", l->n_apps);
	for (size_t i = 1; i < l->n_apps; i++) {
		cr_expect(strcmp(l->apps[i - 1].id, l->apps[i].id) < 0, "sorted by id");
	}
	agent_apps_list_destroy(l);
}

Test(apps, without_current_desktop_only_show_in_hides)
{
	unsetenv("XDG_CURRENT_DESKTOP");
	app("sys1/applications/only.desktop", "O", "OnlyShowIn=vitrail;\n");
	app("sys1/applications/not.desktop", "N", "NotShowIn=vitrail;\n");
	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	cr_expect_null(find(l, "only.desktop"));
	cr_expect_not_null(find(l, "not.desktop"));
	agent_apps_list_destroy(l);
}

Test(apps, host_menu_entries_are_not_listed)
{
	/* what menus.c writes on a host: an agent next to it must not list
	 * it back as an app of its VM */
	app(HOME_APPS "vitrail-work-foo.desktop", "F",
		"X-Vitrail-VM=work\nX-Vitrail-App=foo.desktop\n");
	app(HOME_APPS "plain.desktop", "P", NULL);
	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	cr_expect_null(find(l, "vitrail-work-foo.desktop"));
	cr_expect_not_null(find(l, "plain.desktop"));
	agent_apps_list_destroy(l);
	cr_expect_null(agent_apps_find("vitrail-work-foo.desktop"));
}

Test(apps, default_dirs_when_unset)
{
	unsetenv("XDG_DATA_HOME");
	setenv("XDG_DATA_DIRS", "", 1);
	app("home/.local/share/applications/mine.desktop", "Mine", NULL);
	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	cr_expect_not_null(find(l, "mine.desktop"), "~/.local/share is the default data home");
	agent_apps_list_destroy(l);
}

/* Messages agent_apps_send emits, each checked by the host-side decoder. */

struct capture {
	struct vtp_msg msgs[64];
	size_t n;
	size_t bytes;
	int fail_after; /* -1: never */
};

static bool capture_send(
	void *data, uint16_t type, const void *body, const void *tail, uint32_t tail_len)
{
	struct capture *c = data;
	static uint8_t buf[VTP_MSG_MAX];
	struct vtp_decoder dec = { .side = VTP_SIDE_HOST };

	if (c->fail_after >= 0 && (int)c->n >= c->fail_after) {
		return false;
	}
	size_t len = vtp_msg_encode(buf, sizeof(buf), type, 0, body, tail, tail_len);
	cr_assert_gt(len, 0);
	cr_assert_lt(c->n, 64);
	enum vtp_status st = vtp_msg_decode(&dec, buf, len, &c->msgs[c->n]);
	cr_assert_eq(st, VTP_OK, "the host decoder refuses %s: %s", vtp_type_name(type),
		vtp_status_str(st));
	c->n++;
	c->bytes += len;
	return true;
}

static void capture_finish(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++) {
		vtp_msg_finish(&c->msgs[i]);
	}
}

Test(apps, hostile_entries)
{
	/* Too large: 64 KiB + 1 of padding comments. */
	size_t big = APPS_MAX_FILE_SIZE + 1;
	char *huge = malloc(big);
	cr_assert_not_null(huge);
	memset(huge, '#', big);
	const char *head = "[Desktop Entry]\nType=Application\nName=Huge\nExec=huge\n";
	memcpy(huge, head, strlen(head));
	huge[big - 1] = '\n';
	write_bytes("sys1/applications/huge.desktop", huge, big);
	free(huge);

	/* Bad UTF-8, control characters, escapes, an overlong Name. */
	put("sys1/applications/utf8.desktop",
		"[Desktop Entry]\nType=Application\nName=Caf\xe9 \xc0\xaf bad\nExec=u\n"
		"GenericName=tab\there and\\nnewline\\tesc \x1b[31m\nComment=\xed\xa0\x80 "
		"surrogate\n");
	char longname[6000];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	app("sys1/applications/long.desktop", longname, NULL);
	/* A NUL byte inside the file. */
	static const char nul[] = "[Desktop Entry]\nType=Application\nName=N\0ul\nExec=n\n";
	write_bytes("sys1/applications/nul.desktop", nul, sizeof(nul) - 1);
	/* Ids the protocol refuses. */
	app("sys1/applications/x..y.desktop", "DotDot", NULL);
	app("sys1/applications/a b.desktop", "Space", NULL);
	app("sys1/applications/plus+.desktop", "Plus", NULL);
	app("sys1/applications/..x/y.desktop", "HiddenDir", NULL);
	app("sys1/applications/dir./x.desktop", "DirDot", NULL);
	app("sys1/applications/\xc3\xa9t\xc3\xa9.desktop", "Utf8Id", NULL);
	/* An id longer than 255 bytes, through a subdirectory. */
	char rel[400] = "sys1/applications/";
	memset(rel + strlen(rel), 'd', 150);
	strcpy(rel + strlen("sys1/applications/") + 150, "/");
	memset(rel + strlen(rel), 'i', 120);
	strcpy(rel + strlen("sys1/applications/") + 150 + 1 + 120, ".desktop");
	app(rel, "LongId", NULL);
	/* Lists with junk. */
	app("sys1/applications/lists.desktop", "Lists",
		"Categories=Network;WebBrowser;Bad Cat;X-Foo;;Network;\xff;\n"
		"MimeType=text/html;bogus;x-scheme-handler/http;a/b/c;text/;/x;te xt/y;"
		"image/png\\;evil;\n");
	/* A symlink loop must not hang the walk. */
	mkdirs(at("sys1/applications/loop/.keep"));
	symlink("..", at("sys1/applications/loop/up"));

	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	cr_expect_null(find(l, "huge.desktop"));
	cr_expect_null(find(l, "nul.desktop"));
	cr_expect_null(find(l, "x..y.desktop"));
	cr_expect_null(find(l, "a b.desktop"));
	cr_expect_null(find(l, "plus+.desktop"));
	cr_expect_null(find(l, "..x-y.desktop"));
	cr_expect_null(find(l, "loop-up-utf8.desktop"), "symlink loops are not followed");

	const struct apps_entry *u = find(l, "utf8.desktop");
	cr_assert_not_null(u);
	cr_expect(strstr(u->name, "Caf\xef\xbf\xbd") == u->name, "invalid bytes become U+FFFD");
	cr_expect_null(strchr(u->generic_name, '\t'));
	cr_expect_null(strchr(u->generic_name, '\n'));
	cr_expect(strstr(u->generic_name, "tab here and newline esc") != NULL, "got '%s'",
		u->generic_name);
	const struct apps_entry *lg = find(l, "long.desktop");
	cr_assert_not_null(lg);
	cr_expect_eq(strlen(lg->name), VTP_MAX_APP_FIELD);

	const struct apps_entry *li = find(l, "lists.desktop");
	cr_assert_not_null(li);
	cr_expect_str_eq(li->categories, "Network;WebBrowser;X-Foo;");
	cr_expect_str_eq(li->mime_types, "text/html;x-scheme-handler/http;");

	for (size_t i = 0; i < l->n_apps; i++) {
		const struct apps_entry *e = &l->apps[i];
		cr_expect(strstr(e->id, "..") == NULL && e->id[0] != '.', "id %s", e->id);
		cr_expect(strlen(e->id) <= VTP_MAX_DESKTOP_ID);
		cr_expect(display_ok(e->name) && e->name[0] != '\0');
		cr_expect(display_ok(e->generic_name) && display_ok(e->comment));
		cr_expect(display_ok(e->categories) && display_ok(e->mime_types));
	}
	/* The host's decoder accepts what the agent sends of them. */
	struct capture c = { .fail_after = -1 };
	cr_assert(agent_apps_send(l, 9, SIZE_MAX, capture_send, &c));
	cr_expect_eq(c.n, l->n_apps + 2);
	capture_finish(&c);
	agent_apps_list_destroy(l);
}

Test(apps, localized_names)
{
	setenv("LANG", "de_AT.UTF-8", 1);
	put("sys1/applications/loc.desktop",
		"[Desktop Entry]\nType=Application\nName=Hello\nName[de]=Hallo\n"
		"Name[de_AT]=Servus\nName[fr]=Bonjour\nComment[de]=Kommentar\nComment=Comment\n"
		"Exec=x\n");
	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	const struct apps_entry *e = find(l, "loc.desktop");
	cr_assert_not_null(e);
	cr_expect_str_eq(e->name, "Servus");
	cr_expect_str_eq(e->comment, "Kommentar");
	agent_apps_list_destroy(l);

	/* LANGUAGE comes first, as for every GLib and gettext program. */
	setenv("LANGUAGE", "fr:de", 1);
	l = agent_apps_scan();
	cr_assert_not_null(l);
	cr_expect_str_eq(find(l, "loc.desktop")->name, "Bonjour");
	cr_expect_str_eq(find(l, "loc.desktop")->comment, "Kommentar");
	agent_apps_list_destroy(l);
}

Test(apps, at_most_max_apps)
{
	for (unsigned i = 0; i < VTP_MAX_APPS + 40; i++) {
		char rel[128];
		fmt(rel, sizeof(rel), "sys1/applications/app%04u.desktop", i);
		app(rel, "Many", NULL);
	}
	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	cr_expect_eq(l->n_apps, VTP_MAX_APPS);
	agent_apps_list_destroy(l);
}

/* ---- icons ---- */

static void write_png(const char *rel, int w, int h, double r, double g, double b, double a)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
	cairo_t *cr = cairo_create(s);
	cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
	cairo_set_source_rgba(cr, r, g, b, a);
	cairo_paint(cr);
	cairo_destroy(cr);
	cr_assert_eq(cairo_surface_write_to_png(s, at(rel)), CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
}

static void expect_pixel(
	const uint8_t *rgba, uint32_t size, uint32_t x, uint32_t y, int r, int g, int b, int a)
{
	const uint8_t *p = rgba + ((size_t)y * size + x) * 4;
	cr_expect(abs(p[0] - r) <= 2 && abs(p[1] - g) <= 2 && abs(p[2] - b) <= 2 &&
			abs(p[3] - a) <= 2,
		"pixel (%u,%u) is %d,%d,%d,%d, want %d,%d,%d,%d", x, y, p[0], p[1], p[2], p[3], r,
		g, b, a);
}

Test(apps, icons_from_theme_pixmaps_and_paths)
{
	write_png("sys1/icons/hicolor/48x48/apps/red.png", 48, 48, 1, 0, 0, 1);
	write_png("sys1/icons/hicolor/256x256/apps/red.png", 256, 256, 0, 0, 1, 1);
	write_png("home/.local/share/icons/hicolor/96x96/apps/half.png", 96, 96, 0, 1, 0, 0.5);
	write_png("elsewhere/abs.png", 30, 10, 1, 1, 0, 1);
	put("elsewhere/notapng.png", "this is not a PNG");
	app("sys1/applications/red.desktop", "Red", "Icon=red\n");
	app("sys1/applications/redpng.desktop", "RedPng", "Icon=red.png\n");
	app("sys1/applications/half.desktop", "Half", "Icon=half\n");
	put("sys1/applications/abs.desktop",
		"[Desktop Entry]\nType=Application\nName=Abs\nExec=x\nIcon=%s\n",
		at("elsewhere/abs.png"));
	put("sys1/applications/bad.desktop",
		"[Desktop Entry]\nType=Application\nName=Bad\nExec=x\nIcon=%s\n",
		at("elsewhere/notapng.png"));
	app("sys1/applications/none.desktop", "None", "Icon=no-such-icon\n");
	app("sys1/applications/escape.desktop", "Esc", "Icon=../../../etc/passwd\n");

	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	uint8_t *rgba = malloc(96 * 96 * 4);
	cr_assert_not_null(rgba);

	/* 48: the exact size (red); 96: the next larger one (blue, 256). */
	cr_assert(agent_apps_icon_render(find(l, "red.desktop"), 48, rgba));
	expect_pixel(rgba, 48, 0, 0, 255, 0, 0, 255);
	expect_pixel(rgba, 48, 47, 47, 255, 0, 0, 255);
	cr_assert(agent_apps_icon_render(find(l, "red.desktop"), 96, rgba));
	expect_pixel(rgba, 96, 50, 50, 0, 0, 255, 255);
	cr_assert(
		agent_apps_icon_render(find(l, "redpng.desktop"), 48, rgba), "Icon=name.png works");

	/* Straight alpha out: half-transparent green stays (0,255,0,128). */
	cr_assert(agent_apps_icon_render(find(l, "half.desktop"), 96, rgba));
	expect_pixel(rgba, 96, 10, 10, 0, 255, 0, 128);
	/* 48 from the only (larger) size. */
	cr_assert(agent_apps_icon_render(find(l, "half.desktop"), 48, rgba));
	expect_pixel(rgba, 48, 24, 24, 0, 255, 0, 128);

	/* An absolute path, 30x10: scaled to fit and centered, transparent
	 * above and below. */
	cr_assert(agent_apps_icon_render(find(l, "abs.desktop"), 96, rgba));
	expect_pixel(rgba, 96, 48, 48, 255, 255, 0, 255);
	expect_pixel(rgba, 96, 48, 2, 0, 0, 0, 0);

	cr_expect_not(agent_apps_icon_render(find(l, "bad.desktop"), 48, rgba));
	cr_expect_not(agent_apps_icon_render(find(l, "none.desktop"), 48, rgba));
	cr_expect_not(agent_apps_icon_render(find(l, "escape.desktop"), 48, rgba));
	free(rgba);
	agent_apps_list_destroy(l);
}

#ifdef HAVE_RSVG
Test(apps, svg_icons)
{
	put("sys2/icons/hicolor/scalable/apps/vec.svg",
		"<svg xmlns='http://www.w3.org/2000/svg' width='16' height='16'>"
		"<rect width='16' height='16' fill='#0000ff'/></svg>");
	app("sys1/applications/vec.desktop", "Vec", "Icon=vec\n");
	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	uint8_t *rgba = malloc(96 * 96 * 4);
	cr_assert(agent_apps_icon_render(find(l, "vec.desktop"), 96, rgba));
	expect_pixel(rgba, 96, 95, 95, 0, 0, 255, 255);
	free(rgba);
	agent_apps_list_destroy(l);
}
#endif

static struct apps_list *three_apps(void)
{
	write_png("sys1/icons/hicolor/48x48/apps/ic.png", 48, 48, 1, 0, 0, 1);
	app("sys1/applications/one.desktop", "One",
		"Icon=ic\nCategories=Utility;\nMimeType=text/plain;\nComment=First\n");
	app("sys1/applications/two.desktop", "Two", "Icon=ic\n");
	app("sys1/applications/three.desktop", "Three", NULL);
	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	cr_assert_eq(l->n_apps, 3);
	return l;
}

Test(apps, send_whole_list_the_host_accepts)
{
	struct apps_list *l = three_apps();
	struct capture c = { .fail_after = -1 };

	cr_assert(agent_apps_send(l, 77, SIZE_MAX, capture_send, &c));
	/* BEGIN, one(INFO, 48, 96), three(INFO), two(INFO, 48, 96), END */
	cr_assert_eq(c.n, 9, "%zu messages", c.n);
	cr_expect_eq(c.msgs[0].header.type, VTP_APP_LIST_BEGIN);
	cr_expect_eq(c.msgs[0].body.app_list_begin.serial, 77);
	cr_expect_eq(c.msgs[0].body.app_list_begin.count, 3);
	cr_expect_eq(c.msgs[1].header.type, VTP_APP_INFO);
	cr_expect_eq(c.msgs[1].body.app_info.index, 0);
	const char *t = (const char *)c.msgs[1].tail;
	cr_expect_str_eq(t, "one.desktop");
	t += strlen(t) + 1;
	cr_expect_str_eq(t, "One");
	t += strlen(t) + 1;
	cr_expect_str_eq(t, "");
	t += strlen(t) + 1;
	cr_expect_str_eq(t, "First");
	t += strlen(t) + 1;
	cr_expect_str_eq(t, "Utility;");
	t += strlen(t) + 1;
	cr_expect_str_eq(t, "text/plain;");
	cr_expect_eq(c.msgs[2].header.type, VTP_APP_ICON);
	cr_expect_eq(c.msgs[2].body.app_icon.size, 48);
	cr_expect_eq(c.msgs[2].tail[0], 255, "red");
	cr_expect_eq(c.msgs[3].body.app_icon.size, 96);
	cr_expect_eq(c.msgs[4].header.type, VTP_APP_INFO);
	cr_expect_eq(c.msgs[4].body.app_info.index, 1);
	cr_expect_eq(c.msgs[5].header.type, VTP_APP_INFO, "three has no icon");
	cr_expect_eq(c.msgs[8].header.type, VTP_APP_LIST_END);
	cr_expect_eq(c.msgs[8].body.app_list_end.serial, 77);
	capture_finish(&c);
	agent_apps_list_destroy(l);
}

Test(apps, send_within_budget_drops_icons_then_apps)
{
	struct apps_list *l = three_apps();
	struct capture c = { .fail_after = -1 };
	size_t info_only = 0;

	/* Measure the list without icons. */
	cr_assert(agent_apps_send(l, 1, 2000, capture_send, &c));
	for (size_t i = 0; i < c.n; i++) {
		cr_expect_neq(c.msgs[i].header.type, VTP_APP_ICON);
	}
	info_only = c.bytes;
	cr_expect_leq(c.bytes, 2000);
	cr_expect_eq(c.msgs[0].body.app_list_begin.count, 3);
	capture_finish(&c);

	/* Room for one 48 px icon only. */
	c = (struct capture){ .fail_after = -1 };
	size_t budget = info_only + 12 + 8 + 48 * 48 * 4;
	cr_assert(agent_apps_send(l, 1, budget, capture_send, &c));
	size_t icons = 0;
	for (size_t i = 0; i < c.n; i++) {
		icons += c.msgs[i].header.type == VTP_APP_ICON;
	}
	cr_expect_eq(icons, 1);
	cr_expect_leq(c.bytes, budget);
	capture_finish(&c);

	/* Too little for every APP_INFO: fewer apps, count says so. */
	c = (struct capture){ .fail_after = -1 };
	cr_assert(agent_apps_send(l, 1, 100, capture_send, &c));
	cr_expect_lt(c.msgs[0].body.app_list_begin.count, 3);
	cr_expect_eq(c.n, c.msgs[0].body.app_list_begin.count + 2);
	cr_expect_leq(c.bytes, 100);
	capture_finish(&c);

	/* A failing link stops the sender. */
	c = (struct capture){ .fail_after = 2 };
	cr_expect_not(agent_apps_send(l, 1, SIZE_MAX, capture_send, &c));
	capture_finish(&c);
	agent_apps_list_destroy(l);
}

Test(apps, send_empty_list)
{
	struct capture c = { .fail_after = -1 };
	cr_assert(agent_apps_send(NULL, 5, SIZE_MAX, capture_send, &c));
	cr_assert_eq(c.n, 2);
	cr_expect_eq(c.msgs[0].body.app_list_begin.count, 0);
	capture_finish(&c);
}

Test(apps, find_follows_the_same_rules)
{
	app(HOME_APPS "a.desktop", "AlphaHome", NULL);
	app("sys1/applications/a.desktop", "AlphaSys", NULL);
	app("sys1/applications/b.desktop", "BetaHidden", "Hidden=true\n");
	app("sys2/applications/b.desktop", "BetaSys2", NULL);
	app("sys1/applications/sub/c.desktop", "Sub", NULL);

	struct apps_entry *e = agent_apps_find("a.desktop");
	cr_assert_not_null(e);
	cr_expect_str_eq(e->name, "AlphaHome");
	agent_apps_entry_destroy(e);
	cr_expect_null(agent_apps_find("b.desktop"));
	e = agent_apps_find("sub-c.desktop");
	cr_expect_not_null(e);
	agent_apps_entry_destroy(e);
	cr_expect_null(agent_apps_find("../sys1/applications/a.desktop"));
	cr_expect_null(agent_apps_find("sub/c.desktop"));
	cr_expect_null(agent_apps_find("missing.desktop"));
	cr_expect_null(agent_apps_find(NULL));
}

/* ---- watching ---- */

Test(apps, watch_reports_changes)
{
	mkdirs(at(HOME_APPS ".keep"));
	mkdirs(at("sys1/.keep"));
	struct apps_watch *w = agent_apps_watch_create();
	cr_assert_not_null(w);
	cr_assert_geq(agent_apps_watch_fd(w), 0);
	cr_expect_not(agent_apps_watch_handle(w), "nothing happened yet");

	/* inotify queues events before write/close return: no waiting. */
	app(HOME_APPS "new.desktop", "New", NULL);
	cr_expect(agent_apps_watch_handle(w));
	cr_expect_not(agent_apps_watch_handle(w), "drained");

	put(HOME_APPS "readme.txt", "not an entry");
	cr_expect_not(agent_apps_watch_handle(w), "other files do not count");

	/* A new applications/ directory in a data dir, then a subdirectory
	 * inside it: both are picked up. */
	mkdirs(at("sys1/applications"));
	cr_expect(agent_apps_watch_handle(w));
	mkdirs(at("sys1/applications/sub"));
	cr_expect(agent_apps_watch_handle(w));
	app("sys1/applications/sub/deep.desktop", "Deep", NULL);
	cr_expect(agent_apps_watch_handle(w), "the new subdirectory is watched");

	unlink(at(HOME_APPS "new.desktop"));
	cr_expect(agent_apps_watch_handle(w));
	agent_apps_watch_destroy(w);
	agent_apps_watch_destroy(NULL);
}

/* ---- Exec lines ---- */

struct exec_case {
	const char *exec;
	const char *const files[4];
	const char *const want[24]; /* NULL-terminated; want[0] NULL: must fail */
};

static const struct exec_case exec_cases[] = {
	{ "foo", { NULL }, { "foo", NULL } },
	{ "  foo   bar  ", { NULL }, { "foo", "bar", NULL } },
	{ "foo %f", { NULL }, { "foo", NULL } },
	{ "foo %f", { "/a b", "/c", NULL }, { "foo", "/a b", NULL } },
	{ "foo %u", { "file:///x", NULL }, { "foo", "file:///x", NULL } },
	{ "foo %F", { "/a", "/b c", NULL }, { "foo", "/a", "/b c", NULL } },
	{ "foo %U --end", { NULL }, { "foo", "--end", NULL } },
	{ "foo --file=%f", { NULL }, { "foo", "--file=", NULL } },
	{ "foo %i", { NULL }, { "foo", "--icon", "the-icon", NULL } },
	{ "foo %c", { NULL }, { "foo", "My App", NULL } },
	{ "foo --class=%c", { NULL }, { "foo", "--class=My App", NULL } },
	{ "foo %k", { NULL }, { "foo", "/apps/my.desktop", NULL } },
	{ "foo 100%% %%f", { NULL }, { "foo", "100%", "%f", NULL } },
	{ "foo %d %D %n %N %v %m x", { NULL }, { "foo", "x", NULL } },
	{ "\"/opt/my app/bin\" --x", { NULL }, { "/opt/my app/bin", "--x", NULL } },
	{ "sh -c \"echo \\$HOME \\\"q\\\" \\`id\\` \\\\\"", { NULL },
		{ "sh", "-c", "echo $HOME \"q\" `id` \\", NULL } },
	{ "foo \"\" bar", { NULL }, { "foo", "", "bar", NULL } },
	{ "foo a\"b c\"d", { NULL }, { "foo", "ab cd", NULL } },
	/* Shell metacharacters are plain characters of their argument. */
	{ "foo ; rm -rf / | cat > /tmp/x && $(id) `id` * ~ # < ( ) ? $HOME", { NULL },
		{ "foo", ";", "rm", "-rf", "/", "|", "cat", ">", "/tmp/x", "&&", "$(id)", "`id`",
			"*", "~", "#", "<", "(", ")", "?", "$HOME", NULL } },
	{ "foo;id", { NULL }, { "foo;id", NULL } },
	/* File names are never parsed again. */
	{ "foo %F", { "%f", "$(id)", "a;b", NULL }, { "foo", "%f", "$(id)", "a;b", NULL } },
	/* Refused. */
	{ "", { NULL }, { NULL } },
	{ "    ", { NULL }, { NULL } },
	{ "%f", { NULL }, { NULL } },
	{ "\"\" foo", { NULL }, { NULL } },
	{ "foo \"bar", { NULL }, { NULL } },
	{ "foo \\ bar", { NULL }, { NULL } },
	{ "foo bar\\", { NULL }, { NULL } },
	{ "foo 'bar baz'", { NULL }, { NULL } },
	{ "foo \"a\\qb\"", { NULL }, { NULL } },
	{ "foo \"a\\", { NULL }, { NULL } },
	{ "foo %x", { NULL }, { NULL } },
	{ "foo %", { NULL }, { NULL } },
	{ "foo --x=%F", { NULL }, { NULL } },
	{ "foo x%U", { NULL }, { NULL } },
	{ "foo x%i", { NULL }, { NULL } },
	{ "foo\tbar", { NULL }, { NULL } },
	{ "foo\nbar", { NULL }, { NULL } },
};

Test(launch, exec_table)
{
	for (size_t i = 0; i < sizeof(exec_cases) / sizeof(exec_cases[0]); i++) {
		const struct exec_case *c = &exec_cases[i];
		char *error = NULL;
		const char *const *files = c->files[0] != NULL ? c->files : NULL;
		char **argv = agent_launch_exec_argv(
			c->exec, "My App", "the-icon", "/apps/my.desktop", files, &error);
		if (c->want[0] == NULL) {
			cr_expect_null(argv, "case %zu '%s' should fail", i, c->exec);
			cr_expect_not_null(error, "case %zu: an error message", i);
			cr_expect_eq(errno, EINVAL, "case %zu", i);
			agent_launch_argv_free(argv);
			free(error);
			continue;
		}
		cr_assert_not_null(argv, "case %zu '%s': %s", i, c->exec, error ? error : "?");
		size_t n = 0;
		while (argv[n] != NULL && c->want[n] != NULL) {
			cr_expect_str_eq(argv[n], c->want[n], "case %zu arg %zu", i, n);
			n++;
		}
		cr_expect(argv[n] == NULL && c->want[n] == NULL, "case %zu: argc differs", i);
		agent_launch_argv_free(argv);
	}
}

Test(launch, icon_and_name_missing)
{
	char **argv = agent_launch_exec_argv("foo %i %c %k", NULL, NULL, NULL, NULL, NULL);
	cr_assert_not_null(argv);
	cr_expect_str_eq(argv[0], "foo");
	cr_expect_str_eq(argv[1], "");
	cr_expect_str_eq(argv[2], "");
	cr_expect_null(argv[3]);
	agent_launch_argv_free(argv);
}

Test(launch, limits)
{
	size_t n = LAUNCH_MAX_ARGS * 2 + 16;
	char *exec = malloc(n);
	cr_assert_not_null(exec);
	for (size_t i = 0; i + 1 < n; i += 2) {
		exec[i] = 'a';
		exec[i + 1] = ' ';
	}
	exec[n - 1] = '\0';
	cr_expect_null(agent_launch_exec_argv(exec, NULL, NULL, NULL, NULL, NULL));
	free(exec);
}

Test(launch, by_desktop_id)
{
	/* In the file: "a\\\\b" -> string escapes -> "a\\b" -> quoting -> a\b */
	put("sys1/applications/esc.desktop", "%s",
		"[Desktop Entry]\nType=Application\nName=Esc App\nIcon=ic\n"
		"Exec=prog \"a\\\\\\\\b\" \"x\\\\$y\" %%c=%c %i\n");
	app("sys1/applications/hidden.desktop", "H", "NoDisplay=true\n");

	char *error = NULL;
	char **argv = agent_launch_argv_for_id("esc.desktop", NULL, &error);
	cr_assert_not_null(argv, "%s", error ? error : "?");
	cr_expect_str_eq(argv[0], "prog");
	cr_expect_str_eq(argv[1], "a\\b");
	cr_expect_str_eq(argv[2], "x$y");
	cr_expect_str_eq(argv[3], "%c=Esc App");
	cr_expect_str_eq(argv[4], "--icon");
	cr_expect_str_eq(argv[5], "ic");
	cr_expect_null(argv[6]);
	agent_launch_argv_free(argv);

	cr_expect_null(agent_launch_argv_for_id("hidden.desktop", NULL, &error));
	cr_expect_eq(errno, ENOENT);
	free(error);
	error = NULL;
	cr_expect_null(agent_launch_argv_for_id("missing.desktop", NULL, &error));
	cr_expect_eq(errno, ENOENT);
	cr_expect_not_null(error);
	free(error);
	cr_expect_null(agent_launch_argv_for_id("../../x.desktop", NULL, NULL));
}

Test(launch, terminal_apps)
{
	app("sys1/applications/tui.desktop", "Tui", "Terminal=true\n");

	/* No terminal emulator in PATH: not listed, not launchable. */
	char path[PATH_MAX];
	fmt(path, sizeof(path), "%s", at("emptybin/.keep"));
	*strrchr(path, '/') = '\0';
	setenv("PATH", path, 1);
	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	cr_expect_null(find(l, "tui.desktop"));
	agent_apps_list_destroy(l);
	cr_expect_null(agent_launch_argv_for_id("tui.desktop", NULL, NULL));

	/* An X11 terminal (x-terminal-emulator, xterm) is not used: the app
	 * is still not listed. */
	put("bin/xterm", "#!/bin/sh\n");
	chmod(at("bin/xterm"), 0755);
	put("bin/x-terminal-emulator", "#!/bin/sh\n");
	chmod(at("bin/x-terminal-emulator"), 0755);
	fmt(path, sizeof(path), "%s/bin", root);
	setenv("PATH", path, 1);
	l = agent_apps_scan();
	cr_assert_not_null(l);
	cr_expect_null(find(l, "tui.desktop"));
	agent_apps_list_destroy(l);
	cr_expect_null(agent_launch_argv_for_id("tui.desktop", NULL, NULL));

	/* With weston-terminal only: it runs the agent (--shell=, no
	 * arguments), which runs the command from the environment. */
	put("bin/weston-terminal", "#!/bin/sh\n");
	chmod(at("bin/weston-terminal"), 0755);
	char **wargv = agent_launch_argv_for_id("tui.desktop", NULL, NULL);
	cr_assert_not_null(wargv);
	cr_expect_str_eq(wargv[0], "env");
	cr_expect_str_eq(wargv[1], LAUNCH_TERMINAL_RUN_ENV "=prog-Tui");
	cr_expect_str_eq(wargv[2], "weston-terminal");
	cr_expect(strncmp(wargv[3], "--shell=/", 9) == 0);
	cr_expect_null(wargv[4]);
	agent_launch_argv_free(wargv);

	/* With foot, the preferred Wayland terminal: wrapped in it. */
	put("bin/foot", "#!/bin/sh\n");
	chmod(at("bin/foot"), 0755);
	char **argv = agent_launch_argv_for_id("tui.desktop", NULL, NULL);
	cr_assert_not_null(argv);
	cr_expect_str_eq(argv[0], "foot");
	cr_expect_str_eq(argv[1], "--");
	cr_expect_str_eq(argv[2], "prog-Tui");
	cr_expect_null(argv[3]);
	agent_launch_argv_free(argv);
}

Test(apps, trailing_blanks_and_spaces_around_equals)
{
	put("sys1/applications/blanks.desktop", "%s",
		"[Desktop Entry]\nType = Application \t\nName=  Blank  \nExec=blank %U \n"
		"NoDisplay=false \n");
	struct apps_list *l = agent_apps_scan();
	cr_assert_not_null(l);
	const struct apps_entry *e = find(l, "blanks.desktop");
	cr_assert_not_null(e);
	cr_expect_str_eq(e->name, "Blank");
	cr_expect_str_eq(e->exec, "blank %U");
	agent_apps_list_destroy(l);
}
