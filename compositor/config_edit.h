/*
 * Editing vitrail's config file as text, for vitrailctl create, remove,
 * clone and set: every line and comment outside the edited [vm NAME]
 * section is kept byte for byte. These functions only edit text; the
 * caller validates the result with config_load() before writing it.
 */
#ifndef VITRAIL_CONFIG_EDIT_H
#define VITRAIL_CONFIG_EDIT_H

#include <stdbool.h>
#include <stddef.h>

/* A key of a [vm] section as vitrailctl may write it: [a-z] then [a-z-],
 * at most 32 bytes. Whether it is a known key is config_load's matter. */
bool config_edit_valid_key(const char *key);
/* A value on one line: no newline or NUL, no leading or trailing blank,
 * at most 1024 bytes, and not empty. */
bool config_edit_valid_value(const char *value);

/* Is there a [vm NAME] section? */
bool config_edit_has_vm(const char *text, const char *name);

/*
 * Each returns a new malloc'd text, or NULL with *error (malloc'd) set:
 *   add_vm:    append "[vm NAME]" and the n KEY = VALUE lines (after a
 *              blank line); error if the section exists.
 *   remove_vm: drop the section: its header and every line up to the next
 *              section header, except comment and blank lines right
 *              before that header (they belong to the next section).
 *   set_key:   replace the KEY line of the section, else add it after the
 *              section's last KEY = VALUE line; error if no section.
 * get_key returns the VALUE of KEY in the section (malloc'd), or NULL.
 */
char *config_edit_add_vm(const char *text, const char *name, const char *const *keys,
	const char *const *values, size_t n, char **error);
char *config_edit_remove_vm(const char *text, const char *name, char **error);
char *config_edit_set_key(
	const char *text, const char *name, const char *key, const char *value, char **error);
char *config_edit_get_key(const char *text, const char *name, const char *key);

#endif
