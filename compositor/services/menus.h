/*
 * Guest applications in the host's app menu: one desktop entry per app of
 * a VM, written by the host from a validated app list, in
 * $XDG_DATA_HOME/applications/vitrail-VM-ID.desktop, where ID is the
 * guest's desktop id without ".desktop" with every character outside
 * [A-Za-z0-9_] turned into '_' (so the last '-' of the file name always
 * separates the VM name from ID). Each entry has:
 *
 *   Name=[VM] Name (GenericName likewise), Comment carried over, with
 *     format characters (bidi overrides, line separators) removed;
 *   Exec=vitrailctl run-app VM ID.desktop (the VM name and the desktop id
 *     are checked against their charsets; nothing else from the guest is
 *     ever in Exec);
 *   Icon=vitrail-VM-ID, a PNG the host draws from the guest's RGBA with a
 *     frame and a corner badge in the VM's label color, in the user's
 *     hicolor icon theme ($XDG_DATA_HOME/icons/hicolor/96x96/apps/
 *     vitrail-VM-ID.png: launchers such as fuzzel look icons up by name);
 *   Categories= the registered freedesktop categories the guest gave, plus
 *     X-Vitrail-VM and X-Vitrail-VM-VM; never a MimeType (a guest must not
 *     become the host's handler of a file type or URL scheme: the user's
 *     [open] rules decide, through the host-owned org.vitrail.OpenInVM.desktop);
 *   X-Vitrail-VM=VM and X-Vitrail-App=ID.desktop (the marker that makes a
 *     file ours: nothing without it is ever deleted).
 *
 * Plus an XDG menu merge file
 * $XDG_CONFIG_HOME/menus/applications-merged/vitrail-VM.menu with a
 * submenu of the VM's apps, its $XDG_DATA_HOME/desktop-directories/
 * vitrail-VM.directory and the VM's icon. Every file is written atomically
 * (temporary file + rename) and only when its content changes. Every
 * generated desktop file passes desktop-file-validate.
 */
#ifndef VITRAIL_MENUS_H
#define VITRAIL_MENUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MENUS_ICON_SIZE 96 /* px of the icons the host writes */
#define MENUS_MAX_NAME 128 /* bytes of Name/GenericName kept from a guest */
#define MENUS_MAX_COMMENT 512 /* bytes of Comment kept from a guest */

/*
 * One app of a VM's list, as the host received it (APP_INFO decoded and
 * validated by the protocol library). The strings are checked again here;
 * an app that fails is skipped with a log line.
 */
struct menus_app {
	const char *id; /* desktop id, "foo.bar.desktop" */
	const char *name; /* non-empty */
	const char *generic_name; /* may be NULL or "" */
	const char *comment; /* may be NULL or "" */
	const char *categories; /* ';'-list, may be NULL */
	const uint8_t *icon48; /* 48*48*4 RGBA (straight alpha), or NULL */
	const uint8_t *icon96; /* 96*96*4 RGBA, or NULL */
};

/*
 * Make the menu entries of VM vm_name (a valid VM name) exactly apps:
 * write or update one entry (and icon) per app, delete the entries of apps
 * no longer listed, write the VM's menu file (or remove it when no app
 * is left). label_rgb: 0xRRGGBB. vitrailctl: the program in Exec and
 * TryExec, NULL for "vitrailctl" (looked up in PATH); quoted as the desktop
 * entry spec says. Returns false on an I/O error or a bad vm_name (logged;
 * what could be written is written).
 */
bool menus_sync_vm(const char *vm_name, uint32_t label_rgb, const struct menus_app *apps,
	size_t n_apps, const char *vitrailctl);

/*
 * menus_sync_vm in a separate process (double fork: nothing to reap), so
 * the compositor never waits for the disk: writing a thousand entries with
 * icons takes seconds on a slow disk. apps may be freed once this returns.
 * Returns a non-blocking fd that becomes readable when the work is done:
 * one byte, 1 on success or 0 on failure, or end of file if the worker
 * died. The caller reads it and closes it. Returns -1 (logged) if the
 * worker could not be started. Run at most one per VM at a time (keep the
 * newest list pending meanwhile), or an older list may win.
 */
int menus_sync_vm_start(const char *vm_name, uint32_t label_rgb, const struct menus_app *apps,
	size_t n_apps, const char *vitrailctl);

/* Delete every file menus_sync_vm wrote for this VM. */
bool menus_remove_vm(const char *vm_name);

/* Delete the files of every VM not in vm_names (e.g. VMs removed from the
 * config), found by their X-Vitrail-VM marker. */
bool menus_prune(const char *const *vm_names, size_t n_vm_names);

/*
 * The file name ("vitrail-VM-ID.desktop") of an app's entry; false if the
 * VM name or the desktop id is not acceptable or the name would be too
 * long. Ids starting with '-' are refused (they would read as options).
 */
bool menus_entry_file_name(const char *vm_name, const char *desktop_id, char *out, size_t cap);

#endif
