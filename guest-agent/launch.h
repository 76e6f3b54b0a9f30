/*
 * From a desktop entry's Exec line to an argv, as the desktop entry spec
 * says: arguments separated by spaces, double quotes around arguments with
 * reserved characters (inside them \" \` \$ \\ escape), field codes
 * expanded (%f %u: the first file or nothing; %F %U: every file or nothing,
 * standalone only; %i: "--icon" ICON; %c: Name; %k: the desktop file; %%:
 * '%'; the deprecated %d %D %n %N %v %m: removed). No shell is involved:
 * '|', ';', '$', '>', '&', '*' and the like stay literal characters of
 * their argument. Invalid lines are refused: an unterminated quote, an
 * unquoted '\\' or '\'', a bad escape inside quotes, an unknown field code,
 * %F/%U/%i not standing alone, or nothing left to run.
 */
#ifndef VITRAIL_AGENT_LAUNCH_H
#define VITRAIL_AGENT_LAUNCH_H

#include <stdbool.h>

struct apps_entry;

#define LAUNCH_MAX_ARGS 4096u
#define LAUNCH_MAX_BYTES (256u * 1024u) /* all arguments together */

/*
 * exec: the Exec value after the string escapes (\s \n \t \r \\) were
 * processed (apps_entry.exec). name, icon, location: what %c, %i and %k
 * expand to (NULL: nothing). files: NULL or a NULL-terminated list of paths
 * or URIs. Returns a NULL-terminated heap argv (free with
 * agent_launch_argv_free), or NULL with *error set to a malloc'd message (error
 * may be NULL) and errno EINVAL (bad line) or ENOMEM.
 */
char **agent_launch_exec_argv(const char *exec, const char *name, const char *icon,
	const char *location, const char *const *files, char **error);

/* The argv to start a listed entry: its Exec line, wrapped in a terminal
 * emulator when Terminal=true. Errors as agent_launch_exec_argv (errno ENOENT
 * when a terminal is needed and none is installed). */
char **agent_launch_argv_for_entry(
	const struct apps_entry *entry, const char *const *files, char **error);

/* The argv for LAUNCH_APP: finds the listed entry (agent_apps_find) and builds
 * its argv. errno ENOENT when no such app is listed. */
char **agent_launch_argv_for_id(const char *desktop_id, const char *const *files, char **error);

/* The Wayland terminal used for Terminal=true entries: argv prefix
 * ("foot", "--", NULL), or ("weston-terminal", NULL) when only that one is
 * in $PATH, or NULL. Static storage. */
const char *const *launch_terminal(void);

/*
 * weston-terminal runs a program without arguments: a Terminal=true app
 * runs there as `env VITRAIL_AGENT_TERMINAL_RUN=ARGV weston-terminal
 * --shell=AGENT`, ARGV the command's arguments joined by 0x1f, and the
 * agent started so (main.c) execs it (agent_launch_terminal_run), or
 * prints why not in the terminal and waits for Enter.
 */
#define LAUNCH_TERMINAL_RUN_ENV "VITRAIL_AGENT_TERMINAL_RUN"
#define LAUNCH_TERMINAL_RUN_SEP '\x1f'
/* Returns only on failure: the exit status. */
int agent_launch_terminal_run(const char *encoded);

void agent_launch_argv_free(char **argv);

#endif
