#include "apps.h"

#include <cairo.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vitrail/common/fs.h>
#include <vitrail/protocol.h>
#include <wlr/util/log.h>
#ifdef HAVE_RSVG
#include <dlfcn.h>
#include <librsvg/rsvg.h>
#endif

#include "launch.h"

#define MAX_DIRENTS (4u * APPS_MAX_FILES) /* directory entries per walk */
#define MAX_CATEGORY 64u /* bytes of one category */
#define MAX_WATCHES 256u

/* ---- small helpers ---- */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '.' || c == '_' || c == '-';
}

/* A list of malloc'd strings. */
struct strv {
	char **v;
	size_t n, cap;
};

static bool strv_push(struct strv *sv, const char *s, size_t len)
{
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof(*v));
		if (v == NULL) {
			return false;
		}
		sv->v = v;
		sv->cap = cap;
	}
	char *copy = strndup(s, len);
	if (copy == NULL) {
		return false;
	}
	sv->v[sv->n++] = copy;
	return true;
}

static void strv_finish(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		free(sv->v[i]);
	}
	free(sv->v);
	*sv = (struct strv){ 0 };
}

static bool strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (strcmp(sv->v[i], s) == 0) {
			return true;
		}
	}
	return false;
}

/* Split s at sep into sv, skipping empty parts. */
static bool split(struct strv *sv, const char *s, char sep)
{
	while (s != NULL && *s != '\0') {
		const char *end = strchr(s, sep);
		size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
		if (len > 0 && !strv_push(sv, s, len)) {
			return false;
		}
		s = end != NULL ? end + 1 : NULL;
	}
	return true;
}

/* An absolute directory from an environment variable, or NULL. */
static const char *env_abs(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && v[0] == '/' ? v : NULL;
}

/*
 * The data directories in order of precedence: $XDG_DATA_HOME (or
 * ~/.local/share), then $XDG_DATA_DIRS (or /usr/local/share:/usr/share).
 * Relative entries are ignored, as the base dir spec says.
 */
static bool data_dirs(struct strv *dirs)
{
	const char *home = env_abs("XDG_DATA_HOME");
	const char *dirs_env = getenv("XDG_DATA_DIRS");
	struct strv list = { 0 };
	char buf[PATH_MAX];

	if (home != NULL) {
		if (!strv_push(dirs, home, strlen(home))) {
			return false;
		}
	} else if (env_abs("HOME") != NULL) {
		int n = snprintf(buf, sizeof(buf), "%s/.local/share", env_abs("HOME"));
		if (n > 0 && (size_t)n < sizeof(buf) && !strv_push(dirs, buf, (size_t)n)) {
			return false;
		}
	}
	if (dirs_env == NULL || dirs_env[0] == '\0') {
		dirs_env = "/usr/local/share:/usr/share";
	}
	if (!split(&list, dirs_env, ':')) {
		strv_finish(&list);
		return false;
	}
	for (size_t i = 0; i < list.n && dirs->n < APPS_MAX_DATA_DIRS + 1; i++) {
		char *d = list.v[i];
		size_t len = strlen(d);
		while (len > 1 && d[len - 1] == '/') {
			d[--len] = '\0';
		}
		if (d[0] != '/' || strv_contains(dirs, d)) {
			continue;
		}
		if (!strv_push(dirs, d, len)) {
			strv_finish(&list);
			return false;
		}
	}
	strv_finish(&list);
	return true;
}

bool agent_apps_program_exists(const char *name)
{
	char *found = name != NULL && name[0] != '\0' ? g_find_program_in_path(name) : NULL;
	bool exists = found != NULL;

	g_free(found);
	return exists;
}

/* ---- desktop entry parsing (GKeyFile) ---- */

/*
 * The keys of a desktop file held in buf, or NULL if it is no desktop
 * entry: a NUL byte, a line GKeyFile refuses, a first group other than
 * [Desktop Entry]. Bytes that are not UTF-8 become U+FFFD first, so a bad
 * byte costs the characters it spoils, not the whole value.
 */
static GKeyFile *parse_entry(const char *buf, size_t size)
{
	GKeyFile *kf = g_key_file_new();
	char *utf8 = NULL, *start = NULL;
	bool ok = memchr(buf, '\0', size) == NULL;

	if (ok) {
		utf8 = g_utf8_make_valid(buf, (gssize)size);
		ok = g_key_file_load_from_data(kf, utf8, (gsize)-1, G_KEY_FILE_NONE, NULL);
	}
	start = ok ? g_key_file_get_start_group(kf) : NULL;
	ok = start != NULL && strcmp(start, G_KEY_FILE_DESKTOP_GROUP) == 0;
	g_free(start);
	g_free(utf8);
	if (!ok) {
		g_key_file_free(kf);
		return NULL;
	}
	return kf;
}

/* A string of the main group, escapes processed, trailing blanks dropped;
 * a localized key in the environment's best locale. malloc'd, NULL if
 * unset. */
static char *get_string(GKeyFile *kf, const char *key, bool localized)
{
	char *v = localized
		? g_key_file_get_locale_string(kf, G_KEY_FILE_DESKTOP_GROUP, key, NULL, NULL)
		: g_key_file_get_string(kf, G_KEY_FILE_DESKTOP_GROUP, key, NULL);
	char *out = v != NULL ? strdup(g_strchomp(v)) : NULL;

	g_free(v);
	return out;
}

static bool get_bool(GKeyFile *kf, const char *key)
{
	char *v = get_string(kf, key, false);
	bool b = v != NULL && strcmp(v, "true") == 0;

	free(v);
	return b;
}

/* A display string: sanitized, at most VTP_MAX_APP_FIELD bytes. */
static char *display_string(GKeyFile *kf, const char *key)
{
	char *s = get_string(kf, key, true);
	char *out = malloc(VTP_MAX_APP_FIELD + 1);

	if (out == NULL) {
		free(s);
		return NULL;
	}
	vtp_sanitize_display_string(
		s, s != NULL ? strlen(s) : 0, VTP_MAX_APP_FIELD, out, VTP_MAX_APP_FIELD + 1);
	free(s);
	/* Trim spaces at both ends (a "\s" name is no name). */
	size_t len = strlen(out), start = 0;
	while (len > 0 && out[len - 1] == ' ') {
		out[--len] = '\0';
	}
	while (out[start] == ' ') {
		start++;
	}
	memmove(out, out + start, len - start + 1);
	return out;
}

static bool valid_category(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MAX_CATEGORY) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!is_id_char(c) && c != '+') {
			return false;
		}
	}
	return true;
}

static bool valid_mime(const char *s)
{
	return vtp_valid_mime_type(s, strlen(s));
}

/* Is item (n bytes, no ';') one of the items of a ';'-terminated list? */
static bool in_list(const char *list, const char *item, size_t n)
{
	for (const char *p = list; *p != '\0'; p = strchr(p, ';') + 1) {
		if (strncmp(p, item, n) == 0 && p[n] == ';') {
			return true;
		}
	}
	return false;
}

/* A ';'-list of the valid, distinct items, within VTP_MAX_APP_FIELD bytes. */
static char *filtered_list(GKeyFile *kf, const char *key, bool (*valid)(const char *))
{
	char **items = g_key_file_get_string_list(kf, G_KEY_FILE_DESKTOP_GROUP, key, NULL, NULL);
	char *out = malloc(VTP_MAX_APP_FIELD + 1);
	size_t o = 0;

	if (out != NULL) {
		out[0] = '\0';
	}
	for (size_t i = 0; out != NULL && items != NULL && items[i] != NULL; i++) {
		size_t n = strlen(items[i]);
		if (!valid(items[i]) || o + n + 1 > VTP_MAX_APP_FIELD ||
			in_list(out, items[i], n)) {
			continue;
		}
		memcpy(out + o, items[i], n);
		o += n;
		out[o++] = ';';
		out[o] = '\0';
	}
	g_strfreev(items);
	return out;
}

/* Does the ';'-list key name one of the current desktops? */
static bool list_matches(GKeyFile *kf, const char *key, const struct strv *desktops)
{
	char **items = g_key_file_get_string_list(kf, G_KEY_FILE_DESKTOP_GROUP, key, NULL, NULL);
	bool match = false;

	for (size_t i = 0; items != NULL && items[i] != NULL && !match; i++) {
		match = strv_contains(desktops, items[i]);
	}
	g_strfreev(items);
	return match;
}

static void entry_finish(struct apps_entry *e)
{
	free(e->id);
	free(e->name);
	free(e->generic_name);
	free(e->comment);
	free(e->categories);
	free(e->mime_types);
	free(e->exec);
	free(e->icon);
	free(e->path);
	*e = (struct apps_entry){ 0 };
}

void agent_apps_entry_destroy(struct apps_entry *entry)
{
	if (entry == NULL) {
		return;
	}
	entry_finish(entry);
	free(entry);
}

/* What one walk needs to decide whether an entry is listed. */
struct scan {
	struct strv dirs;
	struct strv desktops; /* $XDG_CURRENT_DESKTOP */
	bool have_terminal;
	GHashTable *seen; /* desktop ids seen so far: later directories are shadowed */
	size_t dirents;
	/* the directories being walked, to stop at symlink loops */
	struct {
		dev_t dev;
		ino_t ino;
	} open_dirs[APPS_MAX_DEPTH + 1];
	int n_open_dirs;
	bool limit_logged;
	/* scan mode */
	struct apps_list *list;
	size_t cap;
	/* find mode */
	const char *find_id;
	struct apps_entry *found;
	bool done;
	bool oom;
};

static bool scan_init(struct scan *s)
{
	*s = (struct scan){ 0 };
	if (!data_dirs(&s->dirs) || !split(&s->desktops, getenv("XDG_CURRENT_DESKTOP"), ':')) {
		strv_finish(&s->dirs);
		strv_finish(&s->desktops);
		return false;
	}
	s->have_terminal = launch_terminal() != NULL;
	s->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return true;
}

static void scan_finish(struct scan *s)
{
	strv_finish(&s->dirs);
	strv_finish(&s->desktops);
	g_hash_table_destroy(s->seen);
}

/*
 * Parse the desktop file at path with this desktop id. Returns a listed
 * entry, or NULL (not listed: hidden, invalid, not for this desktop, or
 * out of memory, which sets s->oom).
 */
static struct apps_entry *load_entry(struct scan *s, const char *path, const char *id)
{
	GKeyFile *kf = NULL;
	struct apps_entry *e = NULL;
	size_t size = 0;
	char *buf = fs_read_file(path, APPS_MAX_FILE_SIZE, 0, &size);
	char *type = NULL, *try_exec = NULL, *error = NULL;
	char **argv;
	const char *why = NULL;

	if (buf == NULL) {
		why = "unreadable, not a regular file or too large";
		goto skip;
	}
	kf = parse_entry(buf, size);
	if (kf == NULL) {
		why = "not a valid desktop entry";
		goto skip;
	}
	type = get_string(kf, "Type", false);
	if (type == NULL || strcmp(type, "Application") != 0) {
		why = "not Type=Application";
		goto skip;
	}
	if (get_bool(kf, "Hidden") || get_bool(kf, "NoDisplay")) {
		why = "Hidden or NoDisplay";
		goto skip;
	}
	if (g_key_file_has_key(kf, G_KEY_FILE_DESKTOP_GROUP, "X-Vitrail-VM", NULL)) {
		/* a host's menu entry for a VM (an agent next to a host sees
		 * them): listing it would nest "[vm] [vm] ..." */
		why = "written by vitrail for a VM";
		goto skip;
	}
	if (g_key_file_has_key(kf, G_KEY_FILE_DESKTOP_GROUP, "OnlyShowIn", NULL) &&
		!list_matches(kf, "OnlyShowIn", &s->desktops)) {
		why = "OnlyShowIn excludes this desktop";
		goto skip;
	}
	if (list_matches(kf, "NotShowIn", &s->desktops)) {
		why = "NotShowIn excludes this desktop";
		goto skip;
	}
	try_exec = get_string(kf, "TryExec", false);
	if (try_exec != NULL && try_exec[0] != '\0' && !agent_apps_program_exists(try_exec)) {
		why = "TryExec not found";
		goto skip;
	}
	if (get_bool(kf, "Terminal") && !s->have_terminal) {
		why = "Terminal=true and no terminal emulator";
		goto skip;
	}

	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		goto oom;
	}
	e->id = strdup(id);
	e->path = strdup(path);
	e->name = display_string(kf, "Name");
	e->generic_name = display_string(kf, "GenericName");
	e->comment = display_string(kf, "Comment");
	e->categories = filtered_list(kf, "Categories", valid_category);
	e->mime_types = filtered_list(kf, "MimeType", valid_mime);
	e->exec = get_string(kf, "Exec", false);
	e->icon = get_string(kf, "Icon", true);
	e->terminal = get_bool(kf, "Terminal");
	if (e->id == NULL || e->path == NULL || e->name == NULL || e->generic_name == NULL ||
		e->comment == NULL || e->categories == NULL || e->mime_types == NULL ||
		(e->exec == NULL &&
			g_key_file_has_key(kf, G_KEY_FILE_DESKTOP_GROUP, "Exec", NULL))) {
		goto oom;
	}
	if (e->name[0] == '\0') {
		why = "no Name";
		goto skip;
	}
	if (e->exec == NULL || e->exec[0] == '\0') {
		why = "no Exec";
		goto skip;
	}
	if (e->icon != NULL && e->icon[0] == '\0') {
		free(e->icon);
		e->icon = NULL;
	}
	argv = agent_launch_exec_argv(e->exec, e->name, e->icon, e->path, NULL, &error);
	if (argv == NULL) {
		if (errno == ENOMEM) {
			free(error);
			goto oom;
		}
		wlr_log(WLR_DEBUG, "apps: %s: skipped: Exec: %s", path, error ? error : "invalid");
		free(error);
		goto skip_quiet;
	}
	agent_launch_argv_free(argv);
	g_key_file_free(kf);
	free(buf);
	free(type);
	free(try_exec);
	return e;

oom:
	s->oom = true;
	why = "out of memory";
skip:
	wlr_log(WLR_DEBUG, "apps: %s: skipped: %s", path, why);
skip_quiet:
	agent_apps_entry_destroy(e);
	if (kf != NULL) {
		g_key_file_free(kf);
	}
	free(buf);
	free(type);
	free(try_exec);
	return NULL;
}

static bool list_add(struct scan *s, struct apps_entry *e)
{
	struct apps_list *list = s->list;

	if (list->n_apps == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct apps_entry *apps = realloc(list->apps, cap * sizeof(*apps));
		if (apps == NULL) {
			return false;
		}
		list->apps = apps;
		s->cap = cap;
	}
	list->apps[list->n_apps++] = *e;
	free(e);
	return true;
}

/* One desktop file found in the walk. */
static void visit_file(struct scan *s, const char *path, const char *id)
{
	if (!g_hash_table_add(s->seen, g_strdup(id))) {
		return; /* shadowed by an earlier directory */
	}
	if (s->find_id != NULL) {
		if (strcmp(id, s->find_id) == 0) {
			s->found = vtp_valid_desktop_id(id, strlen(id)) ? load_entry(s, path, id)
									: NULL;
			s->done = true;
		}
		return;
	}
	if (!vtp_valid_desktop_id(id, strlen(id))) {
		wlr_log(WLR_DEBUG, "apps: %s: skipped: desktop id not accepted by the protocol",
			path);
		return;
	}
	if (s->list->n_apps >= VTP_MAX_APPS) {
		if (!s->limit_logged) {
			wlr_log(WLR_INFO, "apps: more than %u apps; listing the first ones",
				VTP_MAX_APPS);
			s->limit_logged = true;
		}
		return;
	}
	struct apps_entry *e = load_entry(s, path, id);
	if (e != NULL && !list_add(s, e)) {
		agent_apps_entry_destroy(e);
		s->oom = true;
	}
	if (s->oom) {
		s->done = true;
	}
}

static int compare_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Walk dir (whose desktop id prefix is prefix) in name order. */
static void walk(struct scan *s, const char *dir, const char *prefix, int depth)
{
	struct dirent **names = NULL;
	struct stat self;
	int n;

	if (stat(dir, &self) != 0 || s->n_open_dirs > APPS_MAX_DEPTH) {
		return;
	}
	for (int i = 0; i < s->n_open_dirs; i++) {
		if (s->open_dirs[i].dev == self.st_dev && s->open_dirs[i].ino == self.st_ino) {
			return; /* a link back to a directory being walked */
		}
	}
	n = scandir(dir, &names, skip_dot, compare_names);
	if (n < 0) {
		return;
	}
	s->open_dirs[s->n_open_dirs].dev = self.st_dev;
	s->open_dirs[s->n_open_dirs].ino = self.st_ino;
	s->n_open_dirs++;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[PATH_MAX], id[PATH_MAX];
		struct stat st;
		int pl, il;

		if (s->done) {
			break;
		}
		if (++s->dirents > MAX_DIRENTS) {
			wlr_log(WLR_INFO,
				"apps: more than %u directory entries; scan stopped early",
				MAX_DIRENTS);
			s->done = true;
			break;
		}
		pl = snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (pl < 0 || (size_t)pl >= sizeof(path) || stat(path, &st) != 0) {
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			il = snprintf(id, sizeof(id), "%s%s-", prefix, name);
			if (depth < APPS_MAX_DEPTH && il > 0 && (size_t)il < sizeof(id)) {
				walk(s, path, id, depth + 1);
			}
			continue;
		}
		if (!S_ISREG(st.st_mode) || !has_suffix(name, ".desktop")) {
			continue;
		}
		il = snprintf(id, sizeof(id), "%s%s", prefix, name);
		if (il > 0 && (size_t)il < sizeof(id)) {
			visit_file(s, path, id);
		}
	}
	for (int i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
	s->n_open_dirs--;
}

static void walk_all(struct scan *s)
{
	for (size_t i = 0; i < s->dirs.n && !s->done; i++) {
		char path[PATH_MAX];
		int n = snprintf(path, sizeof(path), "%s/applications", s->dirs.v[i]);
		if (n > 0 && (size_t)n < sizeof(path)) {
			walk(s, path, "", 0);
		}
	}
}

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const struct apps_entry *)a)->id, ((const struct apps_entry *)b)->id);
}

struct apps_list *agent_apps_scan(void)
{
	struct scan s;
	struct apps_list *list = calloc(1, sizeof(*list));

	if (list == NULL || !scan_init(&s)) {
		free(list);
		return NULL;
	}
	s.list = list;
	walk_all(&s);
	scan_finish(&s);
	if (s.oom) {
		agent_apps_list_destroy(list);
		return NULL;
	}
	if (list->n_apps > 1) {
		qsort(list->apps, list->n_apps, sizeof(*list->apps), compare_entries);
	}
	return list;
}

void agent_apps_list_destroy(struct apps_list *list)
{
	if (list == NULL) {
		return;
	}
	for (size_t i = 0; i < list->n_apps; i++) {
		entry_finish(&list->apps[i]);
	}
	free(list->apps);
	free(list);
}

struct apps_entry *agent_apps_find(const char *desktop_id)
{
	struct scan s;
	struct apps_entry *found;

	if (desktop_id == NULL || !vtp_valid_desktop_id(desktop_id, strlen(desktop_id)) ||
		!scan_init(&s)) {
		return NULL;
	}
	s.find_id = desktop_id;
	walk_all(&s);
	found = s.found;
	scan_finish(&s);
	return found;
}

/* ---- icons ---- */

static const uint32_t icon_sizes[] = { 16, 22, 24, 32, 36, 48, 64, 72, 96, 128, 192, 256, 512 };
#define N_ICON_SIZES (sizeof(icon_sizes) / sizeof(icon_sizes[0]))

static bool usable_icon_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
		(uint64_t)st.st_size <= APPS_MAX_ICON_FILE;
}

#ifdef HAVE_RSVG
/*
 * librsvg is loaded when the first SVG icon is drawn, not linked: it pulls
 * in ICU, GIO, Pango and libxml2, which a minimal guest (the test image) should
 * not carry or map for every agent. Guests with librsvg2-2 get SVG icons;
 * others get PNG icons only.
 */
struct rsvg_api {
	bool tried;
	void *lib;
	RsvgHandle *(*new_from_file)(const char *path, GError **error);
	gboolean (*render_document)(
		RsvgHandle *handle, cairo_t *cr, const RsvgRectangle *viewport, GError **error);
	void (*object_unref)(gpointer object);
	void (*clear_error)(GError **error);
};

static struct rsvg_api *rsvg_api(void)
{
	static struct rsvg_api api;
	if (!api.tried) {
		api.tried = true;
		api.lib = dlopen("librsvg-2.so.2", RTLD_NOW | RTLD_LOCAL);
		if (api.lib != NULL) {
			*(void **)&api.new_from_file = dlsym(api.lib, "rsvg_handle_new_from_file");
			*(void **)&api.render_document =
				dlsym(api.lib, "rsvg_handle_render_document");
			*(void **)&api.object_unref = dlsym(api.lib, "g_object_unref");
			*(void **)&api.clear_error = dlsym(api.lib, "g_clear_error");
			if (api.new_from_file == NULL || api.render_document == NULL ||
				api.object_unref == NULL || api.clear_error == NULL) {
				dlclose(api.lib);
				api.lib = NULL;
			}
		}
	}
	return api.lib != NULL ? &api : NULL;
}
#endif

static bool svg_supported(void)
{
#ifdef HAVE_RSVG
	return rsvg_api() != NULL;
#else
	return false;
#endif
}

/* Icon names: [A-Za-z0-9._+-], no leading '.'. */
static bool valid_icon_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 255 || name[0] == '.') {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_id_char(name[i]) && name[i] != '+') {
			return false;
		}
	}
	return true;
}

static bool try_path(char *out, size_t cap, const char *fmt_dir, const char *sub, const char *name,
	const char *ext)
{
	int n = snprintf(out, cap, "%s/%s/%s.%s", fmt_dir, sub, name, ext);
	return n > 0 && (size_t)n < cap && usable_icon_file(out);
}

/* Find the file that best renders name at size px. */
static bool find_icon(const char *icon, uint32_t size, char *out, size_t cap)
{
	struct strv dirs = { 0 }, bases = { 0 };
	char name[256], sub[64];
	bool found = false;

	if (icon[0] == '/') {
		if ((has_suffix(icon, ".png") || (svg_supported() && has_suffix(icon, ".svg"))) &&
			strlen(icon) < cap && usable_icon_file(icon)) {
			strcpy(out, icon);
			return true;
		}
		return false;
	}
	if (!valid_icon_name(icon)) {
		return false;
	}
	strcpy(name, icon);
	if (has_suffix(name, ".png") || has_suffix(name, ".svg") || has_suffix(name, ".xpm")) {
		name[strlen(name) - 4] = '\0';
	}
	if (name[0] == '\0' || !data_dirs(&dirs)) {
		strv_finish(&dirs);
		return false;
	}
	/* Icon theme base directories: ~/.icons, then DATA/icons. */
	if (env_abs("HOME") != NULL) {
		char b[PATH_MAX];
		int n = snprintf(b, sizeof(b), "%s/.icons/hicolor", env_abs("HOME"));
		if (n > 0 && (size_t)n < sizeof(b) && !strv_push(&bases, b, (size_t)n)) {
			goto out;
		}
	}
	for (size_t i = 0; i < dirs.n; i++) {
		char b[PATH_MAX];
		int n = snprintf(b, sizeof(b), "%s/icons/hicolor", dirs.v[i]);
		if (n > 0 && (size_t)n < sizeof(b) && !strv_push(&bases, b, (size_t)n)) {
			goto out;
		}
	}

	/* Sizes in order of preference: exact, larger (ascending), scalable,
	 * smaller (descending). */
	uint32_t order[N_ICON_SIZES + 1];
	size_t n_order = 0;
	for (size_t i = 0; i < N_ICON_SIZES; i++) {
		if (icon_sizes[i] == size) {
			order[n_order++] = size;
		}
	}
	for (size_t i = 0; i < N_ICON_SIZES; i++) {
		if (icon_sizes[i] > size) {
			order[n_order++] = icon_sizes[i];
		}
	}
	order[n_order++] = 0; /* scalable */
	for (size_t i = N_ICON_SIZES; i-- > 0;) {
		if (icon_sizes[i] < size) {
			order[n_order++] = icon_sizes[i];
		}
	}
	for (size_t o = 0; o < n_order && !found; o++) {
		for (size_t b = 0; b < bases.n && !found; b++) {
			if (order[o] == 0) {
				found = svg_supported() &&
					try_path(
						out, cap, bases.v[b], "scalable/apps", name, "svg");
				continue;
			}
			snprintf(sub, sizeof(sub), "%ux%u/apps", order[o], order[o]);
			found = try_path(out, cap, bases.v[b], sub, name, "png");
		}
	}
	if (!found) {
		found = try_path(out, cap, "/usr/share", "pixmaps", name, "png") ||
			(svg_supported() &&
				try_path(out, cap, "/usr/share", "pixmaps", name, "svg"));
	}
out:
	strv_finish(&dirs);
	strv_finish(&bases);
	return found;
}

/* PNG width and height from its IHDR, without decoding it. */
static bool png_dimensions(const char *path, uint32_t *w, uint32_t *h)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t hdr[24];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;

	if (fd < 0) {
		return false;
	}
	n = read(fd, hdr, sizeof(hdr));
	close(fd);
	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, sig, 8) != 0 || memcmp(hdr + 12, "IHDR", 4)) {
		return false;
	}
	*w = (uint32_t)hdr[16] << 24 | (uint32_t)hdr[17] << 16 | (uint32_t)hdr[18] << 8 | hdr[19];
	*h = (uint32_t)hdr[20] << 24 | (uint32_t)hdr[21] << 16 | (uint32_t)hdr[22] << 8 | hdr[23];
	return true;
}

static bool draw_png(cairo_t *cr, const char *path, uint32_t size)
{
	uint32_t w, h;

	if (!png_dimensions(path, &w, &h) || w == 0 || h == 0 || w > APPS_MAX_ICON_DIM ||
		h > APPS_MAX_ICON_DIM) {
		return false;
	}
	cairo_surface_t *img = cairo_image_surface_create_from_png(path);
	if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(img);
		return false;
	}
	double iw = cairo_image_surface_get_width(img), ih = cairo_image_surface_get_height(img);
	double scale = (double)size / (iw > ih ? iw : ih);
	cairo_save(cr);
	cairo_translate(cr, ((double)size - iw * scale) / 2, ((double)size - ih * scale) / 2);
	cairo_scale(cr, scale, scale);
	cairo_set_source_surface(cr, img, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
	cairo_paint(cr);
	cairo_restore(cr);
	cairo_surface_destroy(img);
	return true;
}

static bool draw_svg(cairo_t *cr, const char *path, uint32_t size)
{
#ifdef HAVE_RSVG
	struct rsvg_api *api = rsvg_api();
	if (api == NULL) {
		return false;
	}
	GError *err = NULL;
	RsvgHandle *svg = api->new_from_file(path, &err);
	bool ok;

	if (svg == NULL) {
		api->clear_error(&err);
		return false;
	}
	RsvgRectangle viewport = { 0, 0, size, size };
	ok = api->render_document(svg, cr, &viewport, &err);
	api->clear_error(&err);
	api->object_unref(svg);
	return ok;
#else
	(void)cr;
	(void)path;
	(void)size;
	return false;
#endif
}

/* Cairo's premultiplied native-endian ARGB32 to straight R, G, B, A bytes. */
static void to_rgba(cairo_surface_t *surface, uint32_t size, uint8_t *rgba)
{
	const uint8_t *data = cairo_image_surface_get_data(surface);
	int stride = cairo_image_surface_get_stride(surface);

	for (uint32_t y = 0; y < size; y++) {
		const uint32_t *row = (const uint32_t *)(data + (size_t)y * (size_t)stride);
		uint8_t *out = rgba + (size_t)y * size * 4;
		for (uint32_t x = 0; x < size; x++) {
			uint32_t p = row[x], a = p >> 24;
			uint32_t c[3] = { (p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff };
			for (int i = 0; i < 3; i++) {
				uint32_t v = a == 0 ? 0 : (c[i] * 255 + a / 2) / a;
				out[x * 4 + (uint32_t)i] = (uint8_t)(v > 255 ? 255 : v);
			}
			out[x * 4 + 3] = (uint8_t)a;
		}
	}
}

bool agent_apps_icon_render(const struct apps_entry *entry, uint32_t size, uint8_t *rgba)
{
	char path[PATH_MAX];
	bool ok;

	if (entry == NULL || entry->icon == NULL || size == 0 || size > 1024 ||
		!find_icon(entry->icon, size, path, sizeof(path))) {
		return false;
	}
	cairo_surface_t *surface =
		cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)size, (int)size);
	cairo_t *cr = cairo_create(surface);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		cairo_destroy(cr);
		cairo_surface_destroy(surface);
		return false;
	}
	ok = has_suffix(path, ".svg") ? draw_svg(cr, path, size) : draw_png(cr, path, size);
	cairo_destroy(cr);
	cairo_surface_flush(surface);
	if (ok) {
		to_rgba(surface, size, rgba);
	}
	cairo_surface_destroy(surface);
	return ok;
}

/* ---- sending ---- */

size_t agent_apps_info_tail(const struct apps_entry *entry, char *out, size_t cap)
{
	const char *fields[6] = { entry->id, entry->name, entry->generic_name, entry->comment,
		entry->categories, entry->mime_types };
	size_t o = 0;

	for (int i = 0; i < 6; i++) {
		const char *f = fields[i] != NULL ? fields[i] : "";
		size_t n = strlen(f) + 1;
		if (out != NULL && o + n <= cap) {
			memcpy(out + o, f, n);
		}
		o += n;
	}
	return o;
}

#define HEADER_SIZE sizeof(struct vtp_header)
#define ICON_MSG(s) (HEADER_SIZE + sizeof(struct vtp_app_icon) + (size_t)(s) * (s)*4)

bool agent_apps_send(const struct apps_list *list, uint32_t serial, size_t max_bytes,
	apps_send_func send, void *data)
{
	char *tail = NULL;
	size_t n = list != NULL ? list->n_apps : 0;
	size_t total = HEADER_SIZE + sizeof(struct vtp_app_list_begin) + HEADER_SIZE +
		sizeof(struct vtp_app_list_end);
	size_t count = 0;
	uint8_t *want = NULL, *rgba = NULL;
	bool ok = false;

	if (n > VTP_MAX_APPS) {
		n = VTP_MAX_APPS;
	}
	/* Plan: every app's APP_INFO first, then 48 px icons, then 96 px. */
	for (; count < n; count++) {
		size_t t = agent_apps_info_tail(&list->apps[count], NULL, 0);
		size_t m = HEADER_SIZE + sizeof(struct vtp_app_info) + t;
		if (t > VTP_MAX_APP_INFO || total > max_bytes || m > max_bytes - total) {
			break;
		}
		total += m;
	}
	want = calloc(count > 0 ? count : 1, 1);
	rgba = malloc(96 * 96 * 4);
	tail = malloc(VTP_MAX_APP_INFO);
	if (want == NULL || rgba == NULL || tail == NULL) {
		goto out;
	}
	for (int pass = 0; pass < 2; pass++) {
		size_t cost = ICON_MSG(pass == 0 ? 48 : 96);
		for (size_t i = 0; i < count; i++) {
			if (list->apps[i].icon == NULL || (pass == 1 && !(want[i] & 1)) ||
				max_bytes - total < cost) {
				continue;
			}
			want[i] |= (uint8_t)(1u << pass);
			total += cost;
		}
	}

	struct vtp_app_list_begin begin = { .serial = serial, .count = (uint32_t)count };
	if (!send(data, VTP_APP_LIST_BEGIN, &begin, NULL, 0)) {
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		const struct apps_entry *e = &list->apps[i];
		struct vtp_app_info info = { .index = (uint32_t)i };
		size_t t = agent_apps_info_tail(e, tail, VTP_MAX_APP_INFO);
		if (!send(data, VTP_APP_INFO, &info, tail, (uint32_t)t)) {
			goto out;
		}
		for (int pass = 0; pass < 2; pass++) {
			uint32_t size = pass == 0 ? 48 : 96;
			if (!(want[i] & (1u << pass)) || !agent_apps_icon_render(e, size, rgba)) {
				continue;
			}
			struct vtp_app_icon icon = { .index = (uint32_t)i, .size = size };
			if (!send(data, VTP_APP_ICON, &icon, rgba, size * size * 4)) {
				goto out;
			}
		}
	}
	struct vtp_app_list_end end = { .serial = serial };
	ok = send(data, VTP_APP_LIST_END, &end, NULL, 0);
out:
	free(want);
	free(rgba);
	free(tail);
	return ok;
}

/* ---- watching ---- */

struct watched {
	int wd;
	bool parent; /* a data directory: only its applications/ child matters */
};

struct apps_watch {
	int fd;
	struct watched *dirs;
	size_t n, cap;
};

#define PARENT_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
#define APPS_MASK \
	(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | \
		IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

static void watch_add(struct apps_watch *w, const char *path, bool parent)
{
	int wd = inotify_add_watch(w->fd, path, parent ? PARENT_MASK : APPS_MASK);

	if (wd < 0) {
		return;
	}
	for (size_t i = 0; i < w->n; i++) {
		if (w->dirs[i].wd == wd) {
			w->dirs[i].parent = parent;
			return;
		}
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct watched *d = realloc(w->dirs, cap * sizeof(*d));
		if (d == NULL) {
			inotify_rm_watch(w->fd, wd);
			return;
		}
		w->dirs = d;
		w->cap = cap;
	}
	w->dirs[w->n++] = (struct watched){ .wd = wd, .parent = parent };
}

static void watch_tree(struct apps_watch *w, const char *dir, int depth)
{
	struct dirent **names = NULL;
	int n;

	if (w->n >= MAX_WATCHES) {
		return;
	}
	watch_add(w, dir, false);
	n = scandir(dir, &names, skip_dot, compare_names);
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;
		int l = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (depth < APPS_MAX_DEPTH && l > 0 && (size_t)l < sizeof(path) &&
			stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			watch_tree(w, path, depth + 1);
		}
		free(names[i]);
	}
	free(names);
}

static void watch_all(struct apps_watch *w)
{
	struct strv dirs = { 0 };

	if (!data_dirs(&dirs)) {
		strv_finish(&dirs);
		return;
	}
	for (size_t i = 0; i < dirs.n; i++) {
		char path[PATH_MAX];
		int n = snprintf(path, sizeof(path), "%s/applications", dirs.v[i]);
		watch_add(w, dirs.v[i], true);
		if (n > 0 && (size_t)n < sizeof(path)) {
			watch_tree(w, path, 0);
		}
	}
	strv_finish(&dirs);
}

struct apps_watch *agent_apps_watch_create(void)
{
	struct apps_watch *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		return NULL;
	}
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		wlr_log_errno(WLR_ERROR, "apps: inotify_init1");
		free(w);
		return NULL;
	}
	watch_all(w);
	return w;
}

void agent_apps_watch_destroy(struct apps_watch *watch)
{
	if (watch == NULL) {
		return;
	}
	close(watch->fd);
	free(watch->dirs);
	free(watch);
}

int agent_apps_watch_fd(const struct apps_watch *watch)
{
	return watch->fd;
}

static struct watched *find_watched(struct apps_watch *w, int wd)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->dirs[i].wd == wd) {
			return &w->dirs[i];
		}
	}
	return NULL;
}

bool agent_apps_watch_handle(struct apps_watch *watch)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;

	for (;;) {
		ssize_t n = read(watch->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				changed = true;
				continue;
			}
			struct watched *wd = find_watched(watch, ev->wd);
			if (ev->mask & IN_IGNORED) {
				if (wd != NULL) {
					*wd = watch->dirs[--watch->n];
				}
				continue;
			}
			if (wd == NULL) {
				continue;
			}
			const char *name = ev->len > 0 ? ev->name : "";
			if (wd->parent) {
				changed = changed || strcmp(name, "applications") == 0;
			} else {
				changed = changed ||
					(ev->mask & (IN_ISDIR | IN_DELETE_SELF | IN_MOVE_SELF)) ||
					has_suffix(name, ".desktop");
			}
		}
	}
	if (changed) {
		watch_all(watch); /* new subdirectories, a new applications/ */
	}
	return changed;
}
