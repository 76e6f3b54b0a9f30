/*
 * The guest's applications, as the host's menu shows them: a scanner of the
 * XDG application directories (desktop entry spec 1.5, read with GLib's
 * GKeyFile: Name etc. in the locale of LANGUAGE, LC_ALL, LC_MESSAGES or
 * LANG; bytes that are not UTF-8 become U+FFFD), the sender of the
 * APP_LIST_BEGIN / APP_INFO / APP_ICON / APP_LIST_END sequence, icon
 * rendering to RGBA, and an inotify watcher that says when to rescan.
 *
 * Directories: $XDG_DATA_HOME/applications (default ~/.local/share), then
 * each $XDG_DATA_DIRS/applications (default /usr/local/share:/usr/share),
 * walked recursively; a file's desktop id is its path below applications/
 * with '/' turned into '-'. An id found in an earlier directory shadows the
 * same id later, even when the earlier entry is hidden (Hidden=true is how
 * a user deletes a system entry).
 *
 * Listed: Type=Application entries with a Name and a valid Exec line, not
 * written by vitrail for a VM (X-Vitrail-VM), not
 * NoDisplay or Hidden, whose TryExec is found, shown in
 * $XDG_CURRENT_DESKTOP per OnlyShowIn/NotShowIn, with a desktop id the
 * protocol accepts (APP_INFO rules); Terminal=true only when a terminal
 * emulator is installed. Everything is bounded: file sizes, files walked,
 * depth, number of apps, field lengths; every string field passes
 * vtp_check_display_string.
 */
#ifndef VITRAIL_AGENT_APPS_H
#define VITRAIL_AGENT_APPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APPS_MAX_FILE_SIZE (64u * 1024u) /* bytes of one desktop file */
#define APPS_MAX_FILES 8192u /* desktop files looked at per scan */
#define APPS_MAX_DEPTH 6 /* directory levels below applications/ */
#define APPS_MAX_DATA_DIRS 32u /* entries of $XDG_DATA_DIRS used */
#define APPS_MAX_ICON_FILE (8u * 1024u * 1024u) /* bytes of an icon file */
#define APPS_MAX_ICON_DIM 4096u /* width/height of a PNG icon */

struct apps_entry {
	char *id; /* desktop id, passes the APP_INFO id rules */
	/* Display strings (valid UTF-8, no control characters), at most
	 * VTP_MAX_APP_FIELD bytes; name is non-empty, the others may be "". */
	char *name;
	char *generic_name;
	char *comment;
	char *categories; /* "A;B;" items of [A-Za-z0-9_.+-], or "" */
	char *mime_types; /* "type/subtype;..." well-formed items, or "" */
	/* Guest-local values, never sent to the host. */
	char *exec; /* Exec after string unescaping */
	char *icon; /* Icon value, NULL if none */
	char *path; /* the desktop file */
	bool terminal;
};

struct apps_list {
	struct apps_entry *apps; /* sorted by id */
	size_t n_apps; /* <= VTP_MAX_APPS */
};

/* Scan the directories named by the environment. NULL only when out of
 * memory; an empty system gives an empty list. */
struct apps_list *agent_apps_scan(void);
void agent_apps_list_destroy(struct apps_list *list);

/*
 * The listed entry with this desktop id (same rules as agent_apps_scan: shadowing,
 * NoDisplay, TryExec, ...), read fresh from disk; NULL if there is none.
 */
struct apps_entry *agent_apps_find(const char *desktop_id);
void agent_apps_entry_destroy(struct apps_entry *entry);

/*
 * Render the entry's icon to size x size RGBA (not premultiplied, bytes
 * R, G, B, A, rows top to bottom) into rgba (size * size * 4 bytes).
 * Icon= is an absolute PNG/SVG path or a name looked up in the hicolor
 * theme of every data directory, then /usr/share/pixmaps. SVG needs
 * librsvg (built with HAVE_RSVG). False when there is no usable icon.
 */
bool agent_apps_icon_render(const struct apps_entry *entry, uint32_t size, uint8_t *rgba);

/* True if name (a path with '/', else looked up in $PATH) is an executable
 * file, as g_find_program_in_path says. Used for TryExec and to find a
 * terminal emulator. */
bool agent_apps_program_exists(const char *name);

/*
 * Called for each message agent_apps_send emits (object 0). Returns false to
 * stop (the link is gone).
 */
typedef bool (*apps_send_func)(
	void *data, uint16_t type, const void *body, const void *tail, uint32_t tail_len);

/*
 * Answer APPS_REQUEST(serial): APP_LIST_BEGIN, then for each app APP_INFO
 * and its APP_ICONs (48, then 96), then APP_LIST_END. Everything emitted
 * stays within max_bytes of encoded messages (use SIZE_MAX for no limit):
 * 96 px icons are left out first (from the last app backwards), then 48 px
 * icons, then apps at the end of the list. Icons are rendered one at a time
 * while sending, so memory stays small. list may be NULL (empty list).
 * Returns false if send failed.
 */
bool agent_apps_send(const struct apps_list *list, uint32_t serial, size_t max_bytes,
	apps_send_func send, void *data);

/*
 * Encoded size of APP_INFO for this entry and its tail (six NUL-terminated
 * strings). agent_apps_info_tail returns the tail length, writing at most cap
 * bytes into out (out may be NULL to measure).
 */
size_t agent_apps_info_tail(const struct apps_entry *entry, char *out, size_t cap);

/*
 * Watches the application directories (and their parents, to see an
 * applications/ directory appear) with inotify. Add agent_apps_watch_fd() to the
 * event loop; when it is readable call agent_apps_watch_handle(), which drains
 * the events and re-adds watches for new subdirectories; when it returns
 * true the list may have changed: debounce, then send APPS_CHANGED.
 */
struct apps_watch;

struct apps_watch *agent_apps_watch_create(void);
void agent_apps_watch_destroy(struct apps_watch *watch);
int agent_apps_watch_fd(const struct apps_watch *watch);
bool agent_apps_watch_handle(struct apps_watch *watch);

#endif
