#include "launch.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps.h"

/* A growing argv, bounded by LAUNCH_MAX_ARGS / LAUNCH_MAX_BYTES. */
struct args {
	char **v;
	size_t n, cap, bytes;
};

/* A growing string. */
struct str {
	char *s;
	size_t len, cap;
};

static bool str_add(struct str *b, const char *s, size_t n)
{
	if (n > LAUNCH_MAX_BYTES || b->len + n > LAUNCH_MAX_BYTES) {
		errno = E2BIG;
		return false;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1) {
			cap *= 2;
		}
		char *p = realloc(b->s, cap);
		if (p == NULL) {
			errno = ENOMEM;
			return false;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return true;
}

static bool str_addc(struct str *b, char c)
{
	return str_add(b, &c, 1);
}

static bool args_push(struct args *a, const char *s)
{
	size_t n = strlen(s);

	if (a->n + 1 >= LAUNCH_MAX_ARGS || n + 1 > LAUNCH_MAX_BYTES - a->bytes) {
		errno = E2BIG;
		return false;
	}
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (v == NULL) {
			errno = ENOMEM;
			return false;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n] = strdup(s);
	if (a->v[a->n] == NULL) {
		errno = ENOMEM;
		return false;
	}
	a->n++;
	a->v[a->n] = NULL;
	a->bytes += n + 1;
	return true;
}

void agent_launch_argv_free(char **argv)
{
	if (argv == NULL) {
		return;
	}
	for (char **p = argv; *p != NULL; p++) {
		free(*p);
	}
	free(argv);
}

static void set_error(char **error, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (error == NULL) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(*error);
	*error = strdup(buf);
}

/* Split the Exec line into unquoted words (field codes still in them). */
static bool split_words(const char *exec, struct args *words, char **error)
{
	const char *p = exec;
	struct str w = { 0 };

	for (;;) {
		while (*p == ' ') {
			p++;
		}
		if (*p == '\0') {
			break;
		}
		w.len = 0;
		if (!str_add(&w, "", 0)) {
			goto fail;
		}
		while (*p != '\0' && *p != ' ') {
			char c = *p++;
			if (c == '"') {
				/* A quoted part: \" \` \$ \\ are the only escapes. */
				for (;;) {
					c = *p++;
					if (c == '\0') {
						set_error(error, "unterminated quote");
						errno = EINVAL;
						goto fail;
					}
					if (c == '"') {
						break;
					}
					if (c == '\\') {
						c = *p++;
						if (c != '"' && c != '`' && c != '$' && c != '\\') {
							set_error(
								error, "invalid escape in quotes");
							errno = EINVAL;
							goto fail;
						}
					}
					if (!str_addc(&w, c)) {
						goto fail;
					}
				}
				continue;
			}
			if (c == '\\' || c == '\'' || c == '\t' || c == '\n' || c == '\r') {
				set_error(error, "%s outside quotes",
					c == '\\'           ? "backslash"
						: c == '\'' ? "single quote"
							    : "tab or newline");
				errno = EINVAL;
				goto fail;
			}
			if (!str_addc(&w, c)) {
				goto fail;
			}
		}
		if (!args_push(words, w.s)) {
			goto fail;
		}
	}
	free(w.s);
	return true;
fail:
	if (errno == E2BIG) {
		set_error(error, "command line too long");
		errno = EINVAL;
	}
	free(w.s);
	return false;
}

static size_t count_files(const char *const *files)
{
	size_t n = 0;
	while (files != NULL && files[n] != NULL) {
		n++;
	}
	return n;
}

/* Expand the field codes of one word into args. */
static bool expand_word(const char *word, const char *name, const char *icon, const char *location,
	const char *const *files, struct args *out, char **error)
{
	size_t n_files = count_files(files);
	struct str b = { 0 };

	if (strcmp(word, "%F") == 0 || strcmp(word, "%U") == 0) {
		for (size_t i = 0; i < n_files; i++) {
			if (!args_push(out, files[i])) {
				return false;
			}
		}
		return true;
	}
	if (strcmp(word, "%i") == 0) {
		if (icon != NULL && icon[0] != '\0') {
			return args_push(out, "--icon") && args_push(out, icon);
		}
		return true;
	}
	/* A lone code that expands to nothing removes the argument. */
	if (word[0] == '%' && word[1] != '\0' && word[2] == '\0' &&
		(strchr("dDnNvm", word[1]) != NULL ||
			(strchr("fu", word[1]) != NULL && n_files == 0))) {
		return true;
	}

	if (!str_add(&b, "", 0)) {
		return false;
	}
	for (const char *p = word; *p != '\0'; p++) {
		const char *val = NULL;
		bool ok = true;
		if (*p != '%') {
			ok = str_addc(&b, *p);
		} else {
			char code = *++p;
			switch (code) {
			case '%':
				val = "%";
				break;
			case 'f':
			case 'u':
				val = n_files > 0 ? files[0] : "";
				break;
			case 'c':
				val = name != NULL ? name : "";
				break;
			case 'k':
				val = location != NULL ? location : "";
				break;
			case 'd':
			case 'D':
			case 'n':
			case 'N':
			case 'v':
			case 'm':
				val = "";
				break;
			case 'F':
			case 'U':
			case 'i':
				set_error(error, "field code %%%c must be a whole argument", code);
				free(b.s);
				errno = EINVAL;
				return false;
			case '\0':
				set_error(error, "'%%' at the end of the command line");
				free(b.s);
				errno = EINVAL;
				return false;
			default:
				set_error(error, "unknown field code");
				free(b.s);
				errno = EINVAL;
				return false;
			}
			ok = str_add(&b, val, strlen(val));
		}
		if (!ok) {
			free(b.s);
			return false;
		}
	}
	bool ok = args_push(out, b.s);
	free(b.s);
	return ok;
}

char **agent_launch_exec_argv(const char *exec, const char *name, const char *icon,
	const char *location, const char *const *files, char **error)
{
	struct args words = { 0 }, out = { 0 };

	if (error != NULL) {
		*error = NULL;
	}
	if (exec == NULL) {
		set_error(error, "no Exec line");
		errno = EINVAL;
		return NULL;
	}
	if (!split_words(exec, &words, error)) {
		goto fail;
	}
	for (size_t i = 0; i < words.n; i++) {
		if (!expand_word(words.v[i], name, icon, location, files, &out, error)) {
			goto fail;
		}
	}
	if (out.n == 0 || out.v[0][0] == '\0') {
		set_error(error, "nothing to run");
		errno = EINVAL;
		goto fail;
	}
	agent_launch_argv_free(words.v);
	return out.v;
fail:
	if (errno == E2BIG) {
		set_error(error, "command line too long");
		errno = EINVAL;
	} else if (errno == ENOMEM) {
		set_error(error, "out of memory");
	}
	int saved = errno;
	agent_launch_argv_free(words.v);
	agent_launch_argv_free(out.v);
	errno = saved;
	return NULL;
}

/* The Wayland terminals of the guest, in order of preference (X11 ones
 * such as x-terminal-emulator are not used: a Terminal=true app must not
 * depend on Xwayland). foot runs "COMMAND ARGS..." after "--";
 * weston-terminal runs only a program without arguments (--shell=PATH),
 * so it runs the agent itself, which execs the command it finds in
 * LAUNCH_TERMINAL_RUN_ENV (agent_launch_terminal_run). */
static const char *const terminals[][3] = {
	{ "foot", "--", NULL },
	{ "weston-terminal", NULL, NULL },
};

const char *const *launch_terminal(void)
{
	for (size_t i = 0; i < sizeof(terminals) / sizeof(terminals[0]); i++) {
		if (agent_apps_program_exists(terminals[i][0])) {
			return terminals[i];
		}
	}
	return NULL;
}

/* env LAUNCH_TERMINAL_RUN_ENV=ARGV weston-terminal --shell=AGENT */
static bool push_weston_terminal(struct args *out, char **argv, char **error)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		set_error(error, "cannot find the agent's own path for weston-terminal");
		errno = ENOENT;
		return false;
	}
	self[n] = '\0';
	struct str var = { 0 }, shell = { 0 };
	bool ok = str_add(&var, LAUNCH_TERMINAL_RUN_ENV "=", strlen(LAUNCH_TERMINAL_RUN_ENV) + 1);
	for (size_t i = 0; ok && argv[i] != NULL; i++) {
		if (strchr(argv[i], LAUNCH_TERMINAL_RUN_SEP) != NULL) {
			set_error(error, "an argument holds the control character 0x1f");
			free(var.s);
			errno = EINVAL;
			return false;
		}
		ok = (i == 0 || str_addc(&var, LAUNCH_TERMINAL_RUN_SEP)) &&
			str_add(&var, argv[i], strlen(argv[i]));
	}
	ok = ok && str_add(&shell, "--shell=", 8) && str_add(&shell, self, strlen(self));
	ok = ok && args_push(out, "env") && args_push(out, var.s) &&
		args_push(out, "weston-terminal") && args_push(out, shell.s);
	free(var.s);
	free(shell.s);
	if (!ok) {
		set_error(error, errno == ENOMEM ? "out of memory" : "command line too long");
	}
	return ok;
}

char **agent_launch_argv_for_entry(
	const struct apps_entry *entry, const char *const *files, char **error)
{
	char **argv = agent_launch_exec_argv(
		entry->exec, entry->name, entry->icon, entry->path, files, error);
	const char *const *term;
	struct args out = { 0 };

	if (argv == NULL || !entry->terminal) {
		return argv;
	}
	term = launch_terminal();
	if (term == NULL) {
		set_error(error,
			"Terminal=true and no Wayland terminal (foot or "
			"weston-terminal) is installed");
		agent_launch_argv_free(argv);
		errno = ENOENT;
		return NULL;
	}
	if (strcmp(term[0], "weston-terminal") == 0) {
		if (!push_weston_terminal(&out, argv, error)) {
			int saved = errno;
			agent_launch_argv_free(argv);
			agent_launch_argv_free(out.v);
			errno = saved;
			return NULL;
		}
		agent_launch_argv_free(argv);
		return out.v;
	}
	for (size_t i = 0; term[i] != NULL; i++) {
		if (!args_push(&out, term[i])) {
			goto fail;
		}
	}
	for (size_t i = 0; argv[i] != NULL; i++) {
		if (!args_push(&out, argv[i])) {
			goto fail;
		}
	}
	agent_launch_argv_free(argv);
	return out.v;
fail:
	set_error(error, errno == ENOMEM ? "out of memory" : "command line too long");
	if (errno != ENOMEM) {
		errno = EINVAL;
	}
	int saved = errno;
	agent_launch_argv_free(argv);
	agent_launch_argv_free(out.v);
	errno = saved;
	return NULL;
}

char **agent_launch_argv_for_id(const char *desktop_id, const char *const *files, char **error)
{
	struct apps_entry *entry;
	char **argv;

	if (error != NULL) {
		*error = NULL;
	}
	entry = agent_apps_find(desktop_id);
	if (entry == NULL) {
		set_error(error, "no listed application with this desktop id");
		errno = ENOENT;
		return NULL;
	}
	argv = agent_launch_argv_for_entry(entry, files, error);
	int saved = errno;
	agent_apps_entry_destroy(entry);
	errno = saved;
	return argv;
}

int agent_launch_terminal_run(const char *encoded)
{
	char *copy = strdup(encoded);
	if (copy == NULL) {
		return 127;
	}
	unsetenv(LAUNCH_TERMINAL_RUN_ENV); /* not for the app */
	char *argv[LAUNCH_MAX_ARGS + 1];
	size_t argc = 0;
	for (char *p = copy; argc < LAUNCH_MAX_ARGS;) {
		argv[argc++] = p;
		p = strchr(p, LAUNCH_TERMINAL_RUN_SEP);
		if (p == NULL) {
			break;
		}
		*p++ = '\0';
	}
	argv[argc] = NULL;
	if (argv[0][0] != '\0') {
		execvp(argv[0], argv);
	}
	/* shown in the terminal, which closes when this returns */
	fprintf(stderr, "vitrail-agent: cannot run %s: %s\nPress Enter to close.\n", argv[0],
		strerror(argv[0][0] != '\0' ? errno : EINVAL));
	getchar();
	free(copy);
	return 127;
}
