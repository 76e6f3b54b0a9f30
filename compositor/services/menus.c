#define _GNU_SOURCE /* close_range */
#include "services/menus.h"

#include <cairo.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vitrail/common/fs.h>
#include <vitrail/protocol.h>
#include <wlr/util/log.h>

#define MARKER_KEY "X-Vitrail-VM="
#define MAX_EXISTING (64u * 1024u) /* bytes read of an existing file */

/* ---- validation ---- */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool valid_display(const char *s, size_t max)
{
	size_t n = s != NULL ? strlen(s) : 0;
	return n <= max && vtp_check_display_string((const uint8_t *)s, n) == VTP_OK;
}

/*
 * A validated display string as the host shows it: the protocol's
 * sanitizer (format and invisible characters dropped), runs of spaces
 * collapsed, trimmed, cut on a code point boundary to at most max bytes.
 * Returns a malloc'd string.
 */
static char *clean_display(const char *s, size_t max)
{
	size_t len = s != NULL ? strlen(s) : 0;
	char *clean = malloc(3 * len + 1); /* a byte becomes at most U+FFFD */
	char *out = malloc(len + 1);
	size_t n, o = 0;

	if (clean == NULL || out == NULL) {
		free(clean);
		free(out);
		return NULL;
	}
	n = vtp_sanitize_display_string(s, len, 3 * len, clean, 3 * len + 1);
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = vtp_utf8_decode((const uint8_t *)clean + i, n - i, &cp);
		if (k == 0) {
			break; /* not reached: the sanitizer's output is valid */
		}
		if (cp == ' ' && (o == 0 || out[o - 1] == ' ')) {
			i += k;
			continue;
		}
		if (o + k > max || o + k > len) {
			break;
		}
		memcpy(out + o, clean + i, k);
		o += k;
		i += k;
	}
	while (o > 0 && out[o - 1] == ' ') {
		o--;
	}
	out[o] = '\0';
	free(clean);
	return out;
}

/* Registered categories of the desktop menu specification (main and
 * additional; the reserved ones need OnlyShowIn and are left out). */
static const char *const registered_categories[] = {
	"AudioVideo",
	"Audio",
	"Video",
	"Development",
	"Education",
	"Game",
	"Graphics",
	"Network",
	"Office",
	"Science",
	"Settings",
	"System",
	"Utility",
	"Building",
	"Debugger",
	"IDE",
	"GUIDesigner",
	"Profiling",
	"RevisionControl",
	"Translation",
	"Calendar",
	"ContactManagement",
	"Database",
	"Dictionary",
	"Chart",
	"Email",
	"Finance",
	"FlowChart",
	"PDA",
	"ProjectManagement",
	"Presentation",
	"Spreadsheet",
	"WordProcessor",
	"2DGraphics",
	"VectorGraphics",
	"RasterGraphics",
	"3DGraphics",
	"Scanning",
	"OCR",
	"Photography",
	"Publishing",
	"Viewer",
	"TextTools",
	"DesktopSettings",
	"HardwareSettings",
	"Printing",
	"PackageManager",
	"Dialup",
	"InstantMessaging",
	"Chat",
	"IRCClient",
	"Feed",
	"FileTransfer",
	"HamRadio",
	"News",
	"P2P",
	"RemoteAccess",
	"Telephony",
	"TelephonyTools",
	"VideoConference",
	"WebBrowser",
	"WebDevelopment",
	"Midi",
	"Mixer",
	"Sequencer",
	"Tuner",
	"TV",
	"AudioVideoEditing",
	"Player",
	"Recorder",
	"DiscBurning",
	"ActionGame",
	"AdventureGame",
	"ArcadeGame",
	"BoardGame",
	"BlocksGame",
	"CardGame",
	"KidsGame",
	"LogicGame",
	"RolePlaying",
	"Shooter",
	"Simulation",
	"SportsGame",
	"StrategyGame",
	"Art",
	"Construction",
	"Music",
	"Languages",
	"ArtificialIntelligence",
	"Astronomy",
	"Biology",
	"Chemistry",
	"ComputerScience",
	"DataVisualization",
	"Economy",
	"Electricity",
	"Geography",
	"Geology",
	"Geoscience",
	"History",
	"Humanities",
	"ImageProcessing",
	"Literature",
	"Maps",
	"Math",
	"NumericalAnalysis",
	"MedicalSoftware",
	"Physics",
	"Robotics",
	"Spirituality",
	"Sports",
	"ParallelComputing",
	"Amusement",
	"Archiving",
	"Compression",
	"Electronics",
	"Emulator",
	"Engineering",
	"FileTools",
	"FileManager",
	"TerminalEmulator",
	"Filesystem",
	"Monitor",
	"Security",
	"Accessibility",
	"Calculator",
	"Clock",
	"TextEditor",
	"Documentation",
	"Adult",
	"Core",
	"KDE",
	"GNOME",
	"XFCE",
	"GTK",
	"Qt",
	"Motif",
	"Java",
	"ConsoleOnly",
};

static bool registered_category(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(registered_categories) / sizeof(*registered_categories);
		i++) {
		if (strlen(registered_categories[i]) == n &&
			memcmp(registered_categories[i], s, n) == 0) {
			return true;
		}
	}
	return false;
}

/* Does the ';'-list in b (items followed by ';') hold item? */
static bool list_has(const GString *b, const char *item, size_t n)
{
	const char *p = b->str;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ';');
		if (end == NULL) {
			break;
		}
		if ((size_t)(end - p) == n && memcmp(p, item, n) == 0) {
			return true;
		}
		p = end + 1;
	}
	return false;
}

/* Categories: the registered ones the guest gave, then ours. */
static void build_categories(GString *out, const char *categories, const char *vm)
{
	const char *p = categories != NULL ? categories : "";
	bool media = false;

	g_string_append(out, "");
	while (*p != '\0') {
		size_t n = strcspn(p, ";");
		if (n > 0 && registered_category(p, n) && !list_has(out, p, n)) {
			g_string_append_len(out, p, n);
			g_string_append(out, ";");
			media = media ||
				(n == 5 &&
					(memcmp(p, "Audio", 5) == 0 || memcmp(p, "Video", 5) == 0));
		}
		p += n;
		if (*p == ';') {
			p++;
		}
	}
	/* Audio and Video require AudioVideo. */
	if (media && !list_has(out, "AudioVideo", 10)) {
		g_string_append(out, "AudioVideo;");
	}
	g_string_append_printf(out, "X-Vitrail-VM;X-Vitrail-VM-%s;", vm);
}

/* ---- desktop entry values ---- */

/* A string value: \\ \n \t \r escaped, a leading space as \s. */
static void put_string(GString *b, const char *s)
{
	for (size_t i = 0; s[i] != '\0'; i++) {
		switch (s[i]) {
		case '\\':
			g_string_append(b, "\\\\");
			break;
		case '\n':
			g_string_append(b, "\\n");
			break;
		case '\t':
			g_string_append(b, "\\t");
			break;
		case '\r':
			g_string_append(b, "\\r");
			break;
		case ' ':
			g_string_append(b, i == 0 ? "\\s" : " ");
			break;
		default:
			g_string_append_len(b, &s[i], 1);
		}
	}
}

/* One Exec argument, quoted as the desktop entry spec says (before the
 * string escaping, which put_string does). '%' is doubled. */
static void put_exec_arg(GString *b, const char *arg)
{
	static const char reserved[] = " \t\n\"'\\><~|&;$*?#()`";
	bool quote = arg[0] == '\0' || strpbrk(arg, reserved) != NULL;

	if (quote) {
		g_string_append(b, "\"");
	}
	for (const char *p = arg; *p != '\0'; p++) {
		if (quote && strchr("\"`$\\", *p) != NULL) {
			g_string_append(b, "\\");
		}
		g_string_append_len(b, p, 1);
		if (*p == '%') {
			g_string_append(b, "%");
		}
	}
	if (quote) {
		g_string_append(b, "\"");
	}
}

/* ---- paths and files ---- */

static bool base_dir(char *out, size_t cap, const char *env, const char *fallback)
{
	const char *v = getenv(env);
	int n;

	if (v != NULL && v[0] == '/') {
		n = snprintf(out, cap, "%s", v);
	} else {
		const char *home = getenv("HOME");
		if (home == NULL || home[0] != '/') {
			return false;
		}
		n = snprintf(out, cap, "%s/%s", home, fallback);
	}
	if (n <= 0 || (size_t)n >= cap) {
		return false;
	}
	while (n > 1 && out[n - 1] == '/') {
		out[--n] = '\0';
	}
	return true;
}

struct paths {
	char apps[PATH_MAX]; /* $XDG_DATA_HOME/applications */
	char icons[PATH_MAX]; /* $XDG_DATA_HOME/icons/hicolor/96x96/apps */
	char dirs[PATH_MAX]; /* $XDG_DATA_HOME/desktop-directories */
	char menus[PATH_MAX]; /* $XDG_CONFIG_HOME/menus/applications-merged */
};

static bool paths_init(struct paths *p)
{
	char data[PATH_MAX], config[PATH_MAX];

	if (!base_dir(data, sizeof(data), "XDG_DATA_HOME", ".local/share") ||
		!base_dir(config, sizeof(config), "XDG_CONFIG_HOME", ".config")) {
		wlr_log(WLR_ERROR, "menus: neither XDG_DATA_HOME/XDG_CONFIG_HOME nor HOME is set");
		return false;
	}
	return snprintf(p->apps, sizeof(p->apps), "%s/applications", data) < (int)sizeof(p->apps) &&
		snprintf(p->icons, sizeof(p->icons), "%s/icons/hicolor/%dx%d/apps", data,
			MENUS_ICON_SIZE, MENUS_ICON_SIZE) < (int)sizeof(p->icons) &&
		snprintf(p->dirs, sizeof(p->dirs), "%s/desktop-directories", data) <
		(int)sizeof(p->dirs) &&
		snprintf(p->menus, sizeof(p->menus), "%s/menus/applications-merged", config) <
		(int)sizeof(p->menus);
}

static bool mkdir_p(const char *path)
{
	if (!fs_make_dirs(path)) {
		wlr_log_errno(WLR_ERROR, "menus: mkdir %s", path);
		return false;
	}
	return true;
}

static bool path_join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	return n > 0 && (size_t)n < cap;
}

/* Does dir/name hold exactly these bytes? */
static bool file_equals(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	size_t old_len = 0;
	char *old;
	bool same;

	if (!path_join(path, sizeof(path), dir, name)) {
		return false;
	}
	old = fs_read_file(path, len, O_NOFOLLOW, &old_len);
	same = old != NULL && old_len == len && memcmp(old, data, len) == 0;
	free(old);
	return same;
}

static bool file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	return path_join(path, sizeof(path), dir, name) && stat(path, &st) == 0 &&
		S_ISREG(st.st_mode);
}

/* Write path atomically (temporary file in the same directory, then
 * rename), unless it already holds exactly these bytes. */
static bool write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd;

	if (!path_join(path, sizeof(path), dir, name)) {
		return false;
	}
	if (file_equals(dir, name, data, len)) {
		return true;
	}
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp) ||
		!mkdir_p(dir)) {
		return false;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		wlr_log_errno(WLR_ERROR, "menus: cannot create %s", tmp);
		return false;
	}
	if (!fs_write_all(fd, data, len)) {
		wlr_log_errno(WLR_ERROR, "menus: cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return false;
	}
	if (fchmod(fd, 0644) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		wlr_log_errno(WLR_ERROR, "menus: cannot write %s", path);
		unlink(tmp);
		return false;
	}
	return true;
}

static void remove_file(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof(path), dir, name) && unlink(path) != 0 && errno != ENOENT) {
		wlr_log_errno(WLR_ERROR, "menus: cannot remove %s", path);
	}
}

/* ---- icons ---- */

static cairo_status_t png_append(void *closure, const unsigned char *data, unsigned int length)
{
	GString *b = closure;
	g_string_append_len(b, (const char *)data, length);
	return CAIRO_STATUS_SUCCESS;
}

static void set_rgb(cairo_t *cr, uint32_t rgb)
{
	cairo_set_source_rgb(cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
		(rgb & 0xff) / 255.0);
}

/* White or black, whichever reads better on rgb. */
static uint32_t contrast(uint32_t rgb)
{
	uint32_t luma = ((rgb >> 16) & 0xff) * 299 + ((rgb >> 8) & 0xff) * 587 + (rgb & 0xff) * 114;
	return luma > 150000 ? 0x000000 : 0xffffff;
}

/* A cairo surface from straight-alpha RGBA bytes. */
static cairo_surface_t *surface_from_rgba(const uint8_t *rgba, int size)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, size, size);
	uint8_t *data;
	int stride;

	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		return s;
	}
	cairo_surface_flush(s);
	data = cairo_image_surface_get_data(s);
	stride = cairo_image_surface_get_stride(s);
	for (int y = 0; y < size; y++) {
		uint32_t *row = (uint32_t *)(data + (size_t)y * (size_t)stride);
		const uint8_t *in = rgba + (size_t)y * (size_t)size * 4;
		for (int x = 0; x < size; x++) {
			uint32_t r = in[x * 4], g = in[x * 4 + 1], b = in[x * 4 + 2],
				 a = in[x * 4 + 3];
			r = (r * a + 127) / 255;
			g = (g * a + 127) / 255;
			b = (b * a + 127) / 255;
			row[x] = a << 24 | r << 16 | g << 8 | b;
		}
	}
	cairo_surface_mark_dirty(s);
	return s;
}

/*
 * The icon the host shows: the guest's picture inside a 4 px frame in the
 * label color, with a badge in the label color over the bottom-right
 * corner (rows and columns 64..95), outlined in white or black. Without a
 * guest picture, a plain dark tile. PNG bytes in out.
 */
static bool draw_icon(GString *out, uint32_t label_rgb, const uint8_t *rgba, int src_size)
{
	const int size = MENUS_ICON_SIZE, border = 4, badge = 32;
	cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, size, size);
	cairo_t *cr = cairo_create(surface);
	bool ok = false;

	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		goto out;
	}
	cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
	if (rgba != NULL) {
		cairo_surface_t *src = surface_from_rgba(rgba, src_size);
		if (cairo_surface_status(src) != CAIRO_STATUS_SUCCESS) {
			cairo_surface_destroy(src);
			goto out;
		}
		double inner = size - 2 * border;
		cairo_save(cr);
		cairo_rectangle(cr, border, border, inner, inner);
		cairo_clip(cr);
		cairo_translate(cr, border, border);
		cairo_scale(cr, inner / src_size, inner / src_size);
		cairo_set_source_surface(cr, src, 0, 0);
		cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
		cairo_paint(cr);
		cairo_restore(cr);
		cairo_surface_destroy(src);
	} else {
		cairo_set_source_rgb(cr, 0x3c / 255.0, 0x3c / 255.0, 0x3c / 255.0);
		cairo_rectangle(cr, border, border, size - 2 * border, size - 2 * border);
		cairo_fill(cr);
	}
	/* The frame: four bands. */
	set_rgb(cr, label_rgb);
	cairo_rectangle(cr, 0, 0, size, border);
	cairo_rectangle(cr, 0, size - border, size, border);
	cairo_rectangle(cr, 0, border, border, size - 2 * border);
	cairo_rectangle(cr, size - border, border, border, size - 2 * border);
	cairo_fill(cr);
	/* The badge, outlined on its inner sides. */
	set_rgb(cr, contrast(label_rgb));
	cairo_rectangle(cr, size - badge - 2, size - badge - 2, badge + 2, badge + 2);
	cairo_fill(cr);
	set_rgb(cr, label_rgb);
	cairo_rectangle(cr, size - badge, size - badge, badge, badge);
	cairo_fill(cr);
	cairo_surface_flush(surface);
	ok = cairo_surface_write_to_png_stream(surface, png_append, out) == CAIRO_STATUS_SUCCESS;
out:
	cairo_destroy(cr);
	cairo_surface_destroy(surface);
	return ok;
}

/* ---- file names ---- */

bool menus_entry_file_name(const char *vm_name, const char *desktop_id, char *out, size_t cap)
{
	char base[VTP_MAX_DESKTOP_ID + 1];
	size_t n;
	int len;

	if (vm_name == NULL || desktop_id == NULL || !vtp_valid_vm_name(vm_name) ||
		!vtp_valid_desktop_id(desktop_id, strlen(desktop_id))) {
		return false;
	}
	n = strlen(desktop_id) - strlen(".desktop");
	for (size_t i = 0; i < n; i++) {
		char c = desktop_id[i];
		bool alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		base[i] = alnum || c == '_' ? c : '_';
	}
	base[n] = '\0';
	len = snprintf(out, cap, "vitrail-%s-%s.desktop", vm_name, base);
	/* NAME_MAX, and room for the icon's ".png" and the temporary suffix */
	return len > 0 && (size_t)len < cap && len <= NAME_MAX - 16;
}

/*
 * The VM that an entry file name "vitrail-VM-ID.desktop" belongs to (the
 * ID part has no '-'), copied into vm (cap >= VTP_MAX_NAME).
 */
static bool entry_vm(const char *file, char *vm, size_t cap)
{
	size_t n = strlen(file);
	const char *start = file + strlen("vitrail-");
	const char *dash;

	if (strncmp(file, "vitrail-", 8) != 0 || !has_suffix(file, ".desktop") ||
		n <= strlen("vitrail-") + strlen(".desktop")) {
		return false;
	}
	dash = NULL;
	for (const char *p = start; p < file + n - strlen(".desktop"); p++) {
		if (*p == '-') {
			dash = p;
		}
	}
	if (dash == NULL || (size_t)(dash - start) >= cap) {
		return false;
	}
	memcpy(vm, start, (size_t)(dash - start));
	vm[dash - start] = '\0';
	return vtp_valid_vm_name(vm);
}

/* Is this file in dir one we wrote for vm (it has our marker line)? */
static bool is_ours(const char *dir, const char *file, const char *vm)
{
	char path[PATH_MAX], marker[64];
	size_t len = 0;
	char *data;
	bool ours;

	if (!path_join(path, sizeof(path), dir, file)) {
		return false;
	}
	data = fs_read_file(path, MAX_EXISTING, O_NOFOLLOW, &len);
	if (data == NULL) {
		return false;
	}
	snprintf(marker, sizeof(marker), "\n" MARKER_KEY "%s\n", vm);
	ours = strstr(data, marker) != NULL;
	free(data);
	return ours;
}

static void icon_name_of(char *out, size_t cap, const char *entry_file)
{
	size_t n = strlen(entry_file) - strlen(".desktop");
	snprintf(out, cap, "%.*s.png", (int)n, entry_file);
}

/* Delete vm's entries (and their icons) whose names are not among the
 * n_keep names in keep. */
static bool remove_entries(const struct paths *p, const char *vm, char *const *keep, size_t n_keep)
{
	DIR *d = opendir(p->apps);
	struct dirent *de;

	if (d == NULL) {
		return errno == ENOENT;
	}
	while ((de = readdir(d)) != NULL) {
		char owner[VTP_MAX_NAME + 1], icon[NAME_MAX + 1];
		bool kept = false;

		if (!entry_vm(de->d_name, owner, sizeof(owner)) || strcmp(owner, vm) != 0) {
			continue;
		}
		for (size_t i = 0; i < n_keep && !kept; i++) {
			kept = strcmp(keep[i], de->d_name) == 0;
		}
		if (kept || !is_ours(p->apps, de->d_name, vm)) {
			continue;
		}
		icon_name_of(icon, sizeof(icon), de->d_name);
		remove_file(p->apps, de->d_name);
		remove_file(p->icons, icon);
	}
	closedir(d);
	return true;
}

/* ---- the per-VM menu ---- */

static bool write_vm_menu(const struct paths *p, const char *vm, uint32_t label_rgb)
{
	GString *b = g_string_new(NULL), *png = g_string_new(NULL);
	char name[NAME_MAX + 1];
	bool ok;

	/* The VM's own icon: a tile in its color. */
	snprintf(name, sizeof(name), "vitrail-%s.png", vm);
	ok = draw_icon(png, label_rgb, NULL, 0) && write_file(p->icons, name, png->str, png->len);
	g_string_free(png, TRUE);

	g_string_append(b, "[Desktop Entry]\nType=Directory\nName=");
	put_string(b, "VM ");
	put_string(b, vm);
	g_string_append(b, "\nComment=");
	put_string(b, "Applications of the virtual machine ");
	put_string(b, vm);
	/* a name in the hicolor theme: every launcher looks icons up by name */
	g_string_append_printf(b, "\nIcon=vitrail-%s", vm);
	g_string_append_printf(b, "\n" MARKER_KEY "%s\n", vm);
	snprintf(name, sizeof(name), "vitrail-%s.directory", vm);
	ok = ok && write_file(p->dirs, name, b->str, b->len);
	g_string_truncate(b, 0);

	g_string_append(b,
		"<!DOCTYPE Menu PUBLIC \"-//freedesktop//DTD Menu 1.0//EN\"\n"
		" \"http://www.freedesktop.org/standards/menu-spec/1.0/menu.dtd\">\n");
	g_string_append_printf(b, "<!-- Written by vitrail: the applications of VM %s. -->\n", vm);
	g_string_append(b, "<Menu>\n\t<Name>Applications</Name>\n\t<Menu>\n");
	g_string_append_printf(b, "\t\t<Name>vitrail-%s</Name>\n", vm);
	g_string_append_printf(b, "\t\t<Directory>vitrail-%s.directory</Directory>\n", vm);
	g_string_append_printf(
		b, "\t\t<Include>\n\t\t\t<Category>X-Vitrail-VM-%s</Category>\n", vm);
	g_string_append(b, "\t\t</Include>\n\t</Menu>\n</Menu>\n");
	snprintf(name, sizeof(name), "vitrail-%s.menu", vm);
	ok = ok && write_file(p->menus, name, b->str, b->len);
	g_string_free(b, TRUE);
	return ok;
}

static void remove_vm_menu(const struct paths *p, const char *vm)
{
	char name[NAME_MAX + 1];

	snprintf(name, sizeof(name), "vitrail-%s.menu", vm);
	remove_file(p->menus, name);
	snprintf(name, sizeof(name), "vitrail-%s.directory", vm);
	if (is_ours(p->dirs, name, vm)) {
		remove_file(p->dirs, name);
	}
	snprintf(name, sizeof(name), "vitrail-%s.png", vm);
	remove_file(p->icons, name);
}

/* ---- one app ---- */

static bool build_entry(GString *b, const char *vm, const struct menus_app *app,
	const char *icon_name, uint64_t icon_hash, const char *vitrailctl)
{
	char *name = clean_display(app->name, MENUS_MAX_NAME);
	char *generic = clean_display(app->generic_name, MENUS_MAX_NAME);
	char *comment = clean_display(app->comment, MENUS_MAX_COMMENT);
	GString *cats = g_string_new(NULL), *exec = g_string_new(NULL);
	bool ok = false;

	if (name == NULL || generic == NULL || comment == NULL) {
		goto out;
	}
	if (name[0] == '\0') {
		wlr_log(WLR_INFO, "[%s] menus: app %s: empty name, skipped", vm, app->id);
		goto out;
	}
	build_categories(cats, app->categories, vm);
	put_exec_arg(exec, vitrailctl);
	g_string_append(exec, " run-app ");
	put_exec_arg(exec, vm);
	g_string_append(exec, " ");
	put_exec_arg(exec, app->id);

	g_string_append(b, "[Desktop Entry]\n");
	g_string_append_printf(b, "# Written by vitrail for an application of VM %s.\n", vm);
	g_string_append(b, "Type=Application\nVersion=1.4\nName=");
	g_string_append_printf(b, "[%s] ", vm);
	put_string(b, name);
	g_string_append(b, "\n");
	if (generic[0] != '\0' && strcmp(generic, name) != 0) {
		g_string_append_printf(b, "GenericName=[%s] ", vm);
		put_string(b, generic);
		g_string_append(b, "\n");
	}
	if (comment[0] != '\0' && strcmp(comment, name) != 0 && strcmp(comment, generic) != 0) {
		g_string_append(b, "Comment=");
		put_string(b, comment);
		g_string_append(b, "\n");
	}
	g_string_append(b, "TryExec=");
	put_string(b, vitrailctl);
	g_string_append(b, "\nExec=");
	put_string(b, exec->str);
	g_string_append(b, "\nIcon=");
	put_string(b, icon_name);
	g_string_append(b, "\nTerminal=false\nStartupNotify=false\nCategories=");
	g_string_append(b, cats->str);
	g_string_append(b, "\n");
	g_string_append_printf(b, MARKER_KEY "%s\nX-Vitrail-App=%s\nX-Vitrail-Icon=%016llx\n", vm,
		app->id, (unsigned long long)icon_hash);
	ok = true;
out:
	free(name);
	free(generic);
	free(comment);
	g_string_free(cats, TRUE);
	g_string_free(exec, TRUE);
	return ok;
}

/* Checks an app; the reason it is refused, or NULL. */
static const char *check_app(const struct menus_app *app)
{
	if (app->id == NULL || !vtp_valid_desktop_id(app->id, strlen(app->id))) {
		return "desktop id not accepted";
	}
	if (app->name == NULL || app->name[0] == '\0' ||
		!valid_display(app->name, VTP_MAX_APP_FIELD) ||
		!valid_display(app->generic_name, VTP_MAX_APP_FIELD) ||
		!valid_display(app->comment, VTP_MAX_APP_FIELD) ||
		!valid_display(app->categories, VTP_MAX_APP_FIELD)) {
		return "a string is not a valid display string";
	}
	return NULL;
}

/* What an app's icon is drawn from, and how: FNV-1a over the label color
 * and the guest's pixels, with a version for the drawing code. */
static uint64_t icon_hash(uint32_t label_rgb, const uint8_t *rgba, int size)
{
	uint64_t h = 1469598103934665603ull;
	uint8_t head[8] = { 1 /* drawing version */, (uint8_t)(label_rgb >> 16),
		(uint8_t)(label_rgb >> 8), (uint8_t)label_rgb, (uint8_t)(rgba != NULL ? size : 0) };
	size_t n = rgba != NULL ? (size_t)size * (size_t)size * 4 : 0;

	for (size_t i = 0; i < sizeof(head); i++) {
		h = (h ^ head[i]) * 1099511628211ull;
	}
	for (size_t i = 0; i < n; i++) {
		h = (h ^ rgba[i]) * 1099511628211ull;
	}
	return h;
}

static bool write_app(const struct paths *p, const char *vm, uint32_t label_rgb,
	const struct menus_app *app, const char *file, const char *vitrailctl)
{
	char icon[NAME_MAX + 1], icon_name[NAME_MAX + 1];
	GString *png = g_string_new(NULL), *entry = g_string_new(NULL);
	const uint8_t *rgba = app->icon96 != NULL ? app->icon96 : app->icon48;
	int src_size = app->icon96 != NULL ? 96 : 48;
	bool ok;

	icon_name_of(icon, sizeof(icon), file);
	/* Icon= names it in the hicolor theme (the file name without .png) */
	snprintf(icon_name, sizeof(icon_name), "%.*s", (int)(strlen(icon) - strlen(".png")), icon);
	ok = build_entry(
		entry, vm, app, icon_name, icon_hash(label_rgb, rgba, src_size), vitrailctl);
	if (!ok) {
		g_string_free(png, TRUE);
		g_string_free(entry, TRUE);
		return false;
	}
	/* The entry names a hash of what the icon was drawn from: when the
	 * entry is unchanged and the icon is there, there is nothing to do. */
	if (file_equals(p->apps, file, entry->str, entry->len) && file_exists(p->icons, icon)) {
		g_string_free(png, TRUE);
		g_string_free(entry, TRUE);
		return true;
	}
	/* The icon first, so that the entry never names a missing file. */
	ok = draw_icon(png, label_rgb, rgba, src_size) &&
		write_file(p->icons, icon, png->str, png->len) &&
		write_file(p->apps, file, entry->str, entry->len);
	g_string_free(png, TRUE);
	g_string_free(entry, TRUE);
	return ok;
}

bool menus_sync_vm(const char *vm_name, uint32_t label_rgb, const struct menus_app *apps,
	size_t n_apps, const char *vitrailctl)
{
	struct paths p;
	char **written = NULL;
	size_t n_written = 0;
	bool ok = true;

	if (vm_name == NULL || !vtp_valid_vm_name(vm_name)) {
		wlr_log(WLR_ERROR, "menus: invalid VM name");
		return false;
	}
	if (vitrailctl == NULL || vitrailctl[0] == '\0') {
		vitrailctl = "vitrailctl";
	}
	if (!paths_init(&p) || !mkdir_p(p.apps) || !mkdir_p(p.icons)) {
		return false;
	}
	if (n_apps > VTP_MAX_APPS) {
		wlr_log(WLR_INFO, "[%s] menus: %zu apps, keeping the first %u", vm_name, n_apps,
			VTP_MAX_APPS);
		n_apps = VTP_MAX_APPS;
	}
	written = calloc(n_apps > 0 ? n_apps : 1, sizeof(*written));
	if (written == NULL) {
		return false;
	}
	label_rgb &= 0xffffff;
	for (size_t i = 0; i < n_apps; i++) {
		const struct menus_app *app = &apps[i];
		const char *why = check_app(app);
		char file[NAME_MAX + 1];
		bool dup = false;

		if (why == NULL && !menus_entry_file_name(vm_name, app->id, file, sizeof(file))) {
			why = "desktop id too long or starts with '-'";
		}
		if (why != NULL) {
			wlr_log(WLR_INFO, "[%s] menus: app %zu skipped: %s", vm_name, i, why);
			continue;
		}
		for (size_t j = 0; j < n_written && !dup; j++) {
			dup = strcmp(written[j], file) == 0;
		}
		if (dup) {
			wlr_log(WLR_INFO, "[%s] menus: app %s skipped: same file name as another",
				vm_name, app->id);
			continue;
		}
		if (!write_app(&p, vm_name, label_rgb, app, file, vitrailctl)) {
			ok = false;
			continue;
		}
		written[n_written] = strdup(file);
		if (written[n_written] == NULL) {
			ok = false;
			break;
		}
		n_written++;
	}
	/* Only delete stale entries once everything current is in place. */
	if (ok && !remove_entries(&p, vm_name, written, n_written)) {
		ok = false;
	}
	if (n_written > 0) {
		ok = mkdir_p(p.dirs) && mkdir_p(p.menus) && write_vm_menu(&p, vm_name, label_rgb) &&
			ok;
	} else if (ok) {
		remove_vm_menu(&p, vm_name);
	}
	for (size_t i = 0; i < n_written; i++) {
		free(written[i]);
	}
	free(written);
	return ok;
}

int menus_sync_vm_start(const char *vm_name, uint32_t label_rgb, const struct menus_app *apps,
	size_t n_apps, const char *vitrailctl)
{
	int fds[2];
	pid_t mid;
	int status;

	if (vm_name == NULL || !vtp_valid_vm_name(vm_name)) {
		wlr_log(WLR_ERROR, "menus: invalid VM name");
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		wlr_log_errno(WLR_ERROR, "menus: pipe");
		return -1;
	}
	mid = fork();
	if (mid < 0) {
		wlr_log_errno(WLR_ERROR, "menus: fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (mid == 0) {
		/* The middle process: start the worker and leave, so that the
		 * worker belongs to init (or the session's subreaper). */
		close(fds[0]);
		pid_t worker = fork();
		if (worker == 0) {
			/* hold none of the compositor's files (guest sockets, the
			 * DRM device) while writing: only the result pipe */
			if (fds[1] > 3) {
				close_range(3, (unsigned int)fds[1] - 1, 0);
			}
			close_range((unsigned int)fds[1] + 1, ~0u, 0);
			uint8_t ok = menus_sync_vm(vm_name, label_rgb, apps, n_apps, vitrailctl);
			ssize_t w;
			do {
				w = write(fds[1], &ok, 1);
			} while (w < 0 && errno == EINTR);
			_exit(ok ? 0 : 1);
		}
		_exit(worker < 0 ? 1 : 0);
	}
	close(fds[1]);
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		wlr_log(WLR_ERROR, "[%s] menus: cannot start the worker", vm_name);
		close(fds[0]);
		return -1;
	}
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
		wlr_log_errno(WLR_ERROR, "menus: fcntl");
	}
	return fds[0];
}

bool menus_remove_vm(const char *vm_name)
{
	struct paths p;

	if (vm_name == NULL || !vtp_valid_vm_name(vm_name) || !paths_init(&p)) {
		return false;
	}
	remove_vm_menu(&p, vm_name);
	return remove_entries(&p, vm_name, NULL, 0);
}

/* Entries written before guests' MimeType was dropped: remove that line, so
 * that a VM that does not run again is no handler of any type either. */
static void drop_mime_types(const char *dir, const char *file)
{
	char path[PATH_MAX];
	size_t len = 0;
	char *data, *line;

	if (!path_join(path, sizeof(path), dir, file)) {
		return;
	}
	data = fs_read_file(path, MAX_EXISTING, O_NOFOLLOW, &len);
	line = data != NULL ? strstr(data, "\nMimeType=") : NULL;
	if (line != NULL) {
		char *end = strchr(line + 1, '\n');
		size_t cut = end != NULL ? (size_t)(end - line) : strlen(line);
		memmove(line, line + cut, len - (size_t)(line - data) - cut + 1);
		wlr_log(WLR_INFO, "menus: %s: MimeType removed", file);
		write_file(dir, file, data, len - cut);
	}
	free(data);
}

/* mimeinfo.cache (update-desktop-database's index of MimeType lines) may
 * still name entries written before guests' MimeType was dropped, and
 * xdg-mime and GLib would take such a VM's app as the handler: drop every
 * vitrail-*.desktop from it (the user's own mimeapps.list is left alone). */
static void clean_mime_cache(const char *dir)
{
	char path[PATH_MAX];
	size_t len = 0;
	char *data;

	if (!path_join(path, sizeof(path), dir, "mimeinfo.cache") ||
		(data = fs_read_file(path, 16u << 20, O_NOFOLLOW, &len)) == NULL) {
		return;
	}
	GString *out = g_string_new(NULL);
	bool changed = false;
	for (char *line = data, *next; line < data + len; line = next) {
		char *nl = memchr(line, '\n', (size_t)(data + len - line));
		next = nl != NULL ? nl + 1 : data + len;
		char *eq = memchr(line, '=', (size_t)(next - line));
		if (line[0] == '[' || eq == NULL) {
			g_string_append_len(out, line, next - line);
			continue;
		}
		GString *kept = g_string_new(NULL);
		for (char *item = eq + 1, *end; item < next && *item != '\n'; item = end + 1) {
			end = item;
			while (end < next && *end != ';' && *end != '\n') {
				end++;
			}
			size_t n = (size_t)(end - item);
			if (n > 0 &&
				!(n > 16 && strncmp(item, "vitrail-", 8) == 0 &&
					strncmp(end - 8, ".desktop", 8) == 0)) {
				g_string_append_len(kept, item, (gssize)n);
				g_string_append_c(kept, ';');
			} else if (n > 0) {
				changed = true;
			}
			if (end >= next || *end == '\n') {
				break;
			}
		}
		if (kept->len > 0) {
			g_string_append_len(out, line, eq + 1 - line);
			g_string_append_len(out, kept->str, (gssize)kept->len);
			g_string_append_c(out, '\n');
		}
		g_string_free(kept, TRUE);
	}
	if (changed) {
		wlr_log(WLR_INFO, "menus: %s: VM entries removed", path);
		write_file(dir, "mimeinfo.cache", out->str, out->len);
	}
	g_string_free(out, TRUE);
	free(data);
}

bool menus_prune(const char *const *vm_names, size_t n_vm_names)
{
	struct paths p;
	char gone[16][VTP_MAX_NAME + 1];
	size_t n_gone;
	bool ok = true, more = true;

	if (!paths_init(&p)) {
		return false;
	}
	clean_mime_cache(p.apps);
	/* Collect up to 16 unknown VMs per pass over the directory; a bounded
	 * number of passes, in case some file cannot be deleted. */
	for (int pass = 0; more && pass < 64; pass++) {
		DIR *d = opendir(p.apps);
		struct dirent *de;

		if (d == NULL) {
			return errno == ENOENT;
		}
		n_gone = 0;
		more = false;
		while ((de = readdir(d)) != NULL) {
			char vm[VTP_MAX_NAME + 1];
			bool known = false;
			if (!entry_vm(de->d_name, vm, sizeof(vm))) {
				continue;
			}
			for (size_t i = 0; i < n_vm_names && !known; i++) {
				known = strcmp(vm_names[i], vm) == 0;
			}
			for (size_t i = 0; i < n_gone && !known; i++) {
				known = strcmp(gone[i], vm) == 0;
			}
			if (!is_ours(p.apps, de->d_name, vm)) {
				continue;
			}
			if (known) {
				drop_mime_types(p.apps, de->d_name);
				continue;
			}
			if (n_gone == sizeof(gone) / sizeof(gone[0])) {
				more = true;
				break;
			}
			strcpy(gone[n_gone++], vm);
		}
		closedir(d);
		for (size_t i = 0; i < n_gone; i++) {
			wlr_log(WLR_INFO, "menus: removing the entries of VM %s (not configured)",
				gone[i]);
			ok = menus_remove_vm(gone[i]) && ok;
		}
	}
	return ok;
}
