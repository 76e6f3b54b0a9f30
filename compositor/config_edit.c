#include "config_edit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/common/text.h>
#include <vitrail/protocol.h>

#define KEY_MAX 32
#define VALUE_MAX 1024

bool config_edit_valid_key(const char *key)
{
	size_t len = strlen(key);
	if (len == 0 || len > KEY_MAX || key[0] < 'a' || key[0] > 'z') {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!((key[i] >= 'a' && key[i] <= 'z') || key[i] == '-')) {
			return false;
		}
	}
	return true;
}

bool config_edit_valid_value(const char *value)
{
	size_t len = strlen(value);
	if (len == 0 || len > VALUE_MAX || value[0] == ' ' || value[0] == '\t' ||
		value[len - 1] == ' ' || value[len - 1] == '\t') {
		return false;
	}
	return strpbrk(value, "\n\r") == NULL;
}

static char *set_error(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *set_error(char **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char buf[1200];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char *msg = strdup(buf);
	if (error != NULL) {
		*error = msg;
	} else {
		free(msg);
	}
	return NULL;
}

/* One line of the text: [start, end) without its newline; next is the
 * start of the following line (or the end of the text). */
struct line {
	const char *start, *end, *next;
};

static bool next_line(const char *pos, struct line *l)
{
	if (*pos == '\0') {
		return false;
	}
	l->start = pos;
	const char *nl = strchr(pos, '\n');
	l->end = nl != NULL ? nl : pos + strlen(pos);
	l->next = nl != NULL ? nl + 1 : l->end;
	return true;
}

/* The line without leading and trailing blanks (and a '\r'). */
static void trim(const struct line *l, const char **s, const char **e)
{
	const char *a = l->start, *b = l->end;
	while (a < b && (*a == ' ' || *a == '\t')) {
		a++;
	}
	while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r')) {
		b--;
	}
	*s = a;
	*e = b;
}

static bool is_header(const struct line *l)
{
	const char *s, *e;
	trim(l, &s, &e);
	return s < e && *s == '[';
}

static bool is_blank_or_comment(const struct line *l)
{
	const char *s, *e;
	trim(l, &s, &e);
	return s == e || *s == '#' || *s == ';';
}

/* "[vm NAME]" with the parser's spacing rules: "[", "vm", blanks, NAME, "]". */
static bool is_vm_header(const struct line *l, const char *name)
{
	const char *s, *e;
	trim(l, &s, &e);
	if (e - s < 4 || *s != '[' || e[-1] != ']') {
		return false;
	}
	s++;
	e--;
	while (s < e && (*s == ' ' || *s == '\t')) {
		s++;
	}
	while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
		e--;
	}
	if (e - s < 3 || strncmp(s, "vm", 2) != 0 || (s[2] != ' ' && s[2] != '\t')) {
		return false;
	}
	s += 2;
	while (s < e && (*s == ' ' || *s == '\t')) {
		s++;
	}
	return (size_t)(e - s) == strlen(name) && strncmp(s, name, (size_t)(e - s)) == 0;
}

/* "KEY = VALUE" (any spacing around '='): does the key match? */
static bool key_line(const struct line *l, const char *key, const char **value, const char **vend)
{
	const char *s, *e;
	trim(l, &s, &e);
	if (s == e || *s == '#' || *s == ';' || *s == '[') {
		return false;
	}
	const char *eq = memchr(s, '=', (size_t)(e - s));
	if (eq == NULL) {
		return false;
	}
	const char *ke = eq;
	while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t')) {
		ke--;
	}
	if (key != NULL &&
		((size_t)(ke - s) != strlen(key) || strncmp(s, key, (size_t)(ke - s)) != 0)) {
		return false;
	}
	if (value != NULL) {
		const char *v = eq + 1;
		while (v < e && (*v == ' ' || *v == '\t')) {
			v++;
		}
		*value = v;
		*vend = e;
	}
	return true;
}

/* The section of NAME: its header line's start, and the end of its body
 * (start of the next header, or the end of the text). */
struct section {
	const char *header, *body, *end;
	const char *last_key_next; /* after the last KEY = VALUE line, else body */
};

static bool find_section(const char *text, const char *name, struct section *sec)
{
	struct line l;
	const char *pos = text;
	sec->header = NULL;
	while (next_line(pos, &l)) {
		if (sec->header == NULL) {
			if (is_vm_header(&l, name)) {
				sec->header = l.start;
				sec->body = l.next;
				sec->last_key_next = l.next;
				sec->end = text + strlen(text);
			}
		} else if (is_header(&l)) {
			sec->end = l.start;
			return true;
		} else if (key_line(&l, NULL, NULL, NULL)) {
			sec->last_key_next = l.next;
		}
		pos = l.next;
	}
	return sec->header != NULL;
}

bool config_edit_has_vm(const char *text, const char *name)
{
	struct section sec;
	return find_section(text, name, &sec);
}

/* prefix + middle + suffix, as one malloc'd string */
static char *splice(
	const char *text, const char *cut, const char *middle, const char *resume, char **error)
{
	size_t a = (size_t)(cut - text), m = strlen(middle), r = strlen(resume);
	char *out = malloc(a + m + r + 1);
	if (out == NULL) {
		return set_error(error, "out of memory");
	}
	memcpy(out, text, a);
	memcpy(out + a, middle, m);
	memcpy(out + a + m, resume, r + 1);
	return out;
}

char *config_edit_add_vm(const char *text, const char *name, const char *const *keys,
	const char *const *values, size_t n, char **error)
{
	if (!vtp_valid_vm_name(name)) {
		return set_error(error, "invalid VM name '%s' (a-z, 0-9 and '-', 1..32)", name);
	}
	if (config_edit_has_vm(text, name)) {
		return set_error(error, "a [vm %s] section exists already", name);
	}
	size_t len = strlen(text);
	bool need_nl = len > 0 && text[len - 1] != '\n';
	char *section =
		text_printf("%s%s[vm %s]\n", need_nl ? "\n" : "", len > 0 ? "\n" : "", name);
	for (size_t i = 0; i < n && section != NULL; i++) {
		if (!config_edit_valid_key(keys[i]) || !config_edit_valid_value(values[i])) {
			free(section);
			return set_error(error, "bad key or value '%s = %s'", keys[i], values[i]);
		}
		char *more = text_printf("%s%s = %s\n", section, keys[i], values[i]);
		free(section);
		section = more;
	}
	if (section == NULL) {
		return set_error(error, "out of memory");
	}
	char *out = splice(text, text + len, section, "", error);
	free(section);
	return out;
}

char *config_edit_remove_vm(const char *text, const char *name, char **error)
{
	struct section sec;
	if (!find_section(text, name, &sec)) {
		return set_error(error, "no [vm %s] section", name);
	}
	/* keep the comment and blank lines leading to the next header */
	const char *cut_end = sec.end;
	if (*sec.end != '\0') {
		const char *keep = sec.end;
		struct line l;
		const char *pos = sec.body;
		const char *run = NULL; /* start of the current run of blank/comment lines */
		while (pos < sec.end && next_line(pos, &l)) {
			if (is_blank_or_comment(&l)) {
				if (run == NULL) {
					run = l.start;
				}
			} else {
				run = NULL;
			}
			pos = l.next;
		}
		if (run != NULL) {
			keep = run;
		}
		cut_end = keep;
	} else {
		/* at the end of the file: drop the section's trailing lines too */
		cut_end = sec.end;
	}
	/* and the blank line(s) just before the header that add_vm wrote */
	const char *cut = sec.header;
	while (cut > text + 1 && cut[-1] == '\n' && cut[-2] == '\n') {
		cut--;
	}
	return splice(text, cut, "", cut_end, error);
}

char *config_edit_set_key(
	const char *text, const char *name, const char *key, const char *value, char **error)
{
	if (!config_edit_valid_key(key)) {
		return set_error(error, "invalid key '%s'", key);
	}
	if (!config_edit_valid_value(value)) {
		return set_error(error,
			"invalid value for %s: one line, not empty, no blanks at "
			"either end, at most %d bytes",
			key, VALUE_MAX);
	}
	struct section sec;
	if (!find_section(text, name, &sec)) {
		return set_error(error, "no [vm %s] section", name);
	}
	char *line = text_printf("%s = %s\n", key, value);
	if (line == NULL) {
		return set_error(error, "out of memory");
	}
	struct line l;
	const char *pos = sec.body;
	char *out = NULL;
	bool found = false;
	while (pos < sec.end && next_line(pos, &l)) {
		if (key_line(&l, key, NULL, NULL)) {
			/* keep the line ending the file had */
			if (*l.next == '\0' && l.next == l.end) {
				line[strlen(line) - 1] = '\0';
			}
			out = splice(text, l.start, line, l.next, error);
			found = true;
			break;
		}
		pos = l.next;
	}
	if (!found) {
		const char *at = sec.last_key_next;
		if (at > text && at[-1] != '\n') {
			char *nl = text_printf("\n%s", line);
			free(line);
			line = nl;
		}
		out = line != NULL ? splice(text, at, line, at, error)
				   : set_error(error, "out of memory");
	}
	free(line);
	return out;
}

char *config_edit_get_key(const char *text, const char *name, const char *key)
{
	struct section sec;
	if (!find_section(text, name, &sec)) {
		return NULL;
	}
	struct line l;
	const char *pos = sec.body;
	while (pos < sec.end && next_line(pos, &l)) {
		const char *v, *ve;
		if (key_line(&l, key, &v, &ve)) {
			return strndup(v, (size_t)(ve - v));
		}
		pos = l.next;
	}
	return NULL;
}
