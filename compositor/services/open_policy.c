#include "services/open_policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/common/text.h>
#include <vitrail/protocol.h>

#include "config.h"

/* Schemes that never leave a VM, whatever the config says: they name the
 * target's own files or run code in whatever opens them. */
static const char *const unsafe_schemes[] = {
	"file",
	"javascript",
	"vbscript",
	"data",
	"blob",
	"about",
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Set *error to the formatted message (malloc'd; NULL when out of memory)
 * and return false. */
__attribute__((format(printf, 2, 3))) static bool fail(char **error, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	*error = text_vprintf(fmt, args);
	va_end(args);
	return false;
}

bool open_policy_glob(const char *pattern, const char *text)
{
	/* iterative matcher: remember the last '*' and where it started */
	const char *star = NULL, *resume = NULL;
	while (*text != '\0') {
		if (*pattern == '*') {
			star = pattern++;
			resume = text;
		} else if (*pattern != '\0' &&
			(*pattern == '?' || lower(*pattern) == lower(*text))) {
			pattern++;
			text++;
		} else if (star != NULL) {
			pattern = star + 1;
			text = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*') {
		pattern++;
	}
	return *pattern == '\0';
}

const char *open_policy_target_name(const struct open_rule *rule)
{
	switch (rule->target) {
	case OPEN_TARGET_VM:
		return rule->vm;
	case OPEN_TARGET_DISPOSABLE:
		return "@disposable";
	case OPEN_TARGET_ASK:
		return "@ask";
	case OPEN_TARGET_DENY:
		break;
	}
	return "@deny";
}

/* A VM name (the protocol's rule); with glob, '*' and '?' allowed too. */
static bool valid_name(const char *s, size_t len, bool glob)
{
	char name[OPEN_POLICY_NAME_MAX + 1];

	if (len < 1 || len > OPEN_POLICY_NAME_MAX) {
		return false;
	}
	if (!glob) {
		memcpy(name, s, len);
		name[len] = '\0';
		return strlen(name) == len && vtp_valid_vm_name(name);
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			    (glob && (c == '*' || c == '?')))) {
			return false;
		}
	}
	return true;
}

/* Characters allowed in each kind of pattern (besides alnum). */
static bool pattern_chars(const char *s, const char *extra)
{
	for (; *s != '\0'; s++) {
		if (!is_alnum(*s) && strchr(extra, *s) == NULL) {
			return false;
		}
	}
	return true;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?") != NULL;
}

/* MATCH, one word, already trimmed. */
static bool parse_match(const char *m, struct open_rule *rule, char **error)
{
	size_t len = strlen(m);
	if (len == 0) {
		return fail(error, "missing MATCH before '->'");
	}
	if (len >= sizeof(rule->pattern)) {
		return fail(error, "MATCH longer than %zu bytes", sizeof(rule->pattern) - 1);
	}
	for (size_t i = 0; i < len; i++) {
		if (is_space(m[i])) {
			return fail(
				error, "one MATCH per rule, got '%s' (write one rule for each)", m);
		}
	}
	if (strcmp(m, "*") == 0) {
		rule->match = OPEN_MATCH_ANY;
		rule->pattern[0] = '\0';
		return true;
	}
	if (strncmp(m, "url:", 4) == 0) {
		const char *host = m + 4;
		if (*host == '\0' || !pattern_chars(host, ".-*?[]:")) {
			return fail(error,
				"url: expects a host name pattern such as url:*.example.com, "
				"got '%s'",
				m);
		}
		rule->match = OPEN_MATCH_HOST;
		snprintf(rule->pattern, sizeof(rule->pattern), "%s", host);
	} else if (m[0] == '.') {
		if (len < 2 || !pattern_chars(m + 1, "._+-")) {
			return fail(error,
				"a file extension is '.' and letters, digits, '.', '_', '+' or "
				"'-', got '%s'",
				m);
		}
		rule->match = OPEN_MATCH_EXT;
		snprintf(rule->pattern, sizeof(rule->pattern), "%s", m);
	} else if (strchr(m, '/') != NULL) {
		const char *slash = strchr(m, '/');
		const char *sub = slash + 1;
		size_t type_len = (size_t)(slash - m);
		/* RFC 6838 name characters, plus the globs */
		static const char mime_extra[] = "!#$&^_.+-*?";
		char type[128];
		if (type_len == 0 || type_len >= sizeof(type) || *sub == '\0' ||
			strchr(sub, '/') != NULL) {
			return fail(error,
				"expected a MIME type such as application/pdf or image/*, got "
				"'%s'",
				m);
		}
		memcpy(type, m, type_len);
		type[type_len] = '\0';
		if (!pattern_chars(type, mime_extra) || !pattern_chars(sub, mime_extra)) {
			return fail(error, "invalid character in MIME type '%s'", m);
		}
		if (strcasecmp(type, "x-scheme-handler") == 0) {
			if (!pattern_chars(sub, "+.-*?")) {
				return fail(error, "invalid URL scheme in '%s'", m);
			}
			rule->match = OPEN_MATCH_SCHEME;
			snprintf(rule->pattern, sizeof(rule->pattern), "%s", sub);
		} else {
			rule->match = OPEN_MATCH_MIME;
			snprintf(rule->pattern, sizeof(rule->pattern), "%s", m);
		}
	} else {
		return fail(error,
			"unknown MATCH '%s' (use *, a MIME type, x-scheme-handler/SCHEME, .ext "
			"or url:HOST)",
			m);
	}
	for (char *c = rule->pattern; *c != '\0'; c++) {
		*c = lower(*c);
	}
	return true;
}

static bool parse_target(const char *t, struct open_rule *rule, char **error)
{
	rule->vm[0] = '\0';
	if (strcmp(t, "@deny") == 0) {
		rule->target = OPEN_TARGET_DENY;
	} else if (strcmp(t, "@ask") == 0) {
		rule->target = OPEN_TARGET_ASK;
	} else if (strcmp(t, "@disposable") == 0) {
		rule->target = OPEN_TARGET_DISPOSABLE;
	} else if (t[0] == '@') {
		return fail(error,
			"unknown target '%s' (use a VM name, @disposable, @ask or @deny)", t);
	} else if (valid_name(t, strlen(t), false)) {
		rule->target = OPEN_TARGET_VM;
		snprintf(rule->vm, sizeof(rule->vm), "%s", t);
	} else if (*t == '\0') {
		return fail(error, "missing TARGET after '->'");
	} else {
		return fail(error,
			"invalid target '%s' (a VM name is a-z, 0-9 and '-', 1 to %d characters; "
			"or @disposable, @ask, @deny)",
			t, OPEN_POLICY_NAME_MAX);
	}
	return true;
}

/* Copy s[0..len) trimmed into out (capacity cap); false if it does not fit. */
static bool copy_trimmed(const char *s, size_t len, char *out, size_t cap)
{
	while (len > 0 && is_space(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_space(s[len - 1])) {
		len--;
	}
	if (len >= cap) {
		return false;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

bool open_policy_parse_rule(const char *text, struct open_rule *rule, char **error)
{
	char left[512], right[128];
	*error = NULL;
	memset(rule, 0, sizeof(*rule));
	const char *arrow = strstr(text, "->");
	if (arrow == NULL) {
		return fail(error, "expected 'MATCH -> TARGET', got '%s'", text);
	}
	if (strstr(arrow + 2, "->") != NULL) {
		return fail(error, "more than one '->' in '%s'", text);
	}
	if (!copy_trimmed(text, (size_t)(arrow - text), left, sizeof(left))) {
		return fail(error, "MATCH too long");
	}
	if (!copy_trimmed(arrow + 2, strlen(arrow + 2), right, sizeof(right))) {
		return fail(error, "TARGET too long");
	}

	const char *match = left;
	if (strncmp(left, "from", 4) == 0 && is_space(left[4])) {
		const char *vm = left + 5;
		while (is_space(*vm)) {
			vm++;
		}
		const char *colon = strchr(vm, ':');
		if (colon == NULL) {
			return fail(error, "expected 'from VM: MATCH -> TARGET', got '%s'", text);
		}
		size_t vm_len = (size_t)(colon - vm);
		while (vm_len > 0 && is_space(vm[vm_len - 1])) {
			vm_len--;
		}
		if (!valid_name(vm, vm_len, true)) {
			return fail(error,
				"from: invalid VM name '%.*s' (a-z, 0-9, '-', and '*' or '?' as "
				"wildcards, 1 to %d characters)",
				(int)vm_len, vm, OPEN_POLICY_NAME_MAX);
		}
		memcpy(rule->from, vm, vm_len);
		rule->from[vm_len] = '\0';
		match = colon + 1;
		while (is_space(*match)) {
			match++;
		}
	}
	if (!parse_match(match, rule, error)) {
		return false;
	}
	return parse_target(right, rule, error);
}

bool open_policy_parse_schemes(
	const char *text, char (**out)[OPEN_POLICY_SCHEME_MAX + 1], size_t *n_out, char **error)
{
	char(*schemes)[OPEN_POLICY_SCHEME_MAX + 1] = NULL;
	size_t n = 0;
	*error = NULL;
	const char *p = text;
	for (;;) {
		while (is_space(*p) || *p == ',') {
			p++;
		}
		if (*p == '\0') {
			break;
		}
		const char *start = p;
		while (*p != '\0' && !is_space(*p) && *p != ',') {
			p++;
		}
		size_t len = (size_t)(p - start);
		char scheme[OPEN_POLICY_SCHEME_MAX + 1];
		if (len > OPEN_POLICY_SCHEME_MAX) {
			fail(error, "url-schemes: scheme '%.*s' is too long", (int)len, start);
			goto error;
		}
		for (size_t i = 0; i < len; i++) {
			scheme[i] = lower(start[i]);
		}
		scheme[len] = '\0';
		if (!(scheme[0] >= 'a' && scheme[0] <= 'z') || !pattern_chars(scheme, "+.-")) {
			fail(error,
				"url-schemes: '%s' is not a URL scheme (a letter, then letters, "
				"digits, '+', '.' or '-')",
				scheme);
			goto error;
		}
		for (size_t i = 0; i < sizeof(unsafe_schemes) / sizeof(unsafe_schemes[0]); i++) {
			if (strcmp(scheme, unsafe_schemes[i]) == 0) {
				fail(error, "url-schemes: '%s' is unsafe and cannot be allowed",
					scheme);
				goto error;
			}
		}
		bool dup = false;
		for (size_t i = 0; i < n; i++) {
			dup = dup || strcmp(schemes[i], scheme) == 0;
		}
		if (dup) {
			continue;
		}
		void *grown = realloc(schemes, (n + 1) * sizeof(*schemes));
		if (grown == NULL) {
			goto error; /* out of memory: *error stays NULL */
		}
		schemes = grown;
		memcpy(schemes[n++], scheme, len + 1);
	}
	if (n == 0) {
		fail(error, "url-schemes: empty list");
		goto error;
	}
	*out = schemes;
	*n_out = n;
	return true;
error:
	free(schemes);
	return false;
}

/* "FILE:LINE: PREFIXMSG" ("FILE: ..." without a line), malloc'd; NULL
 * when out of memory. */
static char *error_at(const struct config *config, int line, const char *prefix, const char *msg)
{
	const char *file = config->path != NULL ? config->path : "(built-in)";
	char *s = NULL;
	if (line > 0) {
		fail(&s, "%s:%d: %s%s", file, line, prefix, msg);
	} else {
		fail(&s, "%s: %s%s", file, prefix, msg);
	}
	return s;
}

/* A rule's VM names must exist (a typo must not silently deny or leak). */
static bool check_names(const struct config *config, const struct open_rule *rule, char **error)
{
	if (rule->from[0] != '\0' && !has_glob(rule->from) &&
		config_find_vm(config, rule->from) == NULL) {
		return fail(error, "from: no VM named '%s'", rule->from);
	}
	if (rule->target != OPEN_TARGET_VM) {
		return true;
	}
	const struct config_vm *vm = config_find_vm(config, rule->vm);
	if (vm == NULL) {
		return fail(error, "no VM named '%s'", rule->vm);
	}
	if (vm->disposable_of != NULL) {
		return fail(error,
			"'%s' is a disposable VM: use @disposable to open in a fresh one",
			rule->vm);
	}
	return true;
}

struct open_policy *open_policy_create(const struct config *config, char **error)
{
	char *msg = NULL;
	const char *prefix = "";
	int line = 0;
	*error = NULL;
	struct open_policy *policy = calloc(1, sizeof(*policy));
	if (policy == NULL) {
		goto oom;
	}
	policy->builtin = config->open_line == 0;
	policy->max_file_bytes = config->open_max_file_bytes;
	if (policy->max_file_bytes == 0) {
		policy->max_file_bytes = CONFIG_DEFAULT_OPEN_MAX_FILE_BYTES;
	}

	const char *schemes = config->open_url_schemes;
	if (schemes == NULL) {
		schemes = OPEN_POLICY_DEFAULT_SCHEMES;
	} else {
		line = config->open_url_schemes_line;
	}
	if (!open_policy_parse_schemes(schemes, &policy->schemes, &policy->n_schemes, &msg)) {
		goto fail;
	}

	size_t n = policy->builtin ? 1 : config->n_open_rules;
	if (n > 0) {
		policy->rules = calloc(n, sizeof(*policy->rules));
		if (policy->rules == NULL) {
			goto oom;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *text =
			policy->builtin ? OPEN_POLICY_DEFAULT_RULE : config->open_rules[i].text;
		line = policy->builtin ? 0 : config->open_rules[i].line;
		struct open_rule *rule = &policy->rules[i];
		if (!open_policy_parse_rule(text, rule, &msg) || !check_names(config, rule, &msg)) {
			prefix = "rule: ";
			goto fail;
		}
		rule->line = line;
		policy->n_rules++;
	}
	return policy;

fail:
	if (msg == NULL) {
		goto oom;
	}
	*error = error_at(config, line, prefix, msg);
	free(msg);
	if (*error == NULL) {
		goto oom;
	}
	open_policy_destroy(policy);
	return NULL;
oom:
	open_policy_destroy(policy);
	if (*error == NULL) {
		*error = strdup("out of memory");
	}
	return NULL;
}

void open_policy_destroy(struct open_policy *policy)
{
	if (policy == NULL) {
		return;
	}
	free(policy->rules);
	free(policy->schemes);
	free(policy);
}

/* The MIME type without parameters, lower case. */
static void base_mime(const char *mime, char *out, size_t cap)
{
	size_t i = 0;
	for (; mime[i] != '\0' && mime[i] != ';' && !is_space(mime[i]) && i + 1 < cap; i++) {
		out[i] = lower(mime[i]);
	}
	out[i] = '\0';
}

static bool ends_with_ci(const char *s, const char *suffix)
{
	size_t len = strlen(s), slen = strlen(suffix);
	if (len <= slen) {
		return false; /* ".pdf" alone is a hidden file, not a PDF */
	}
	return strcasecmp(s + len - slen, suffix) == 0;
}

static bool rule_matches(const struct open_rule *rule, const struct open_request_info *r)
{
	if (rule->from[0] != '\0' &&
		(r->source == NULL || !open_policy_glob(rule->from, r->source))) {
		return false;
	}
	switch (rule->match) {
	case OPEN_MATCH_ANY:
		return true;
	case OPEN_MATCH_MIME: {
		if (r->is_url || r->mime == NULL) {
			return false;
		}
		char mime[256];
		base_mime(r->mime, mime, sizeof(mime));
		return open_policy_glob(rule->pattern, mime);
	}
	case OPEN_MATCH_EXT:
		return !r->is_url && r->name != NULL && ends_with_ci(r->name, rule->pattern);
	case OPEN_MATCH_SCHEME:
		return r->is_url && r->scheme != NULL && open_policy_glob(rule->pattern, r->scheme);
	case OPEN_MATCH_HOST:
		return r->is_url && r->host != NULL && r->host[0] != '\0' &&
			open_policy_glob(rule->pattern, r->host);
	}
	return false;
}

const struct open_rule *open_policy_match(
	const struct open_policy *policy, const struct open_request_info *request)
{
	for (size_t i = 0; i < policy->n_rules; i++) {
		if (rule_matches(&policy->rules[i], request)) {
			return &policy->rules[i];
		}
	}
	return NULL;
}

bool open_policy_check_url(const struct open_policy *policy, const char *url,
	char scheme[static OPEN_POLICY_SCHEME_MAX + 1], char host[static OPEN_POLICY_HOST_MAX + 1],
	char **error)
{
	size_t len = strlen(url);
	*error = NULL;
	scheme[0] = '\0';
	host[0] = '\0';
	if (len == 0 || len > 4096) {
		return fail(error, "a URL is 1 to 4096 bytes");
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f) {
			return fail(error,
				"a URL is printable ASCII without spaces (percent-encode the "
				"rest)");
		}
	}
	const char *colon = strchr(url, ':');
	size_t slen = colon != NULL ? (size_t)(colon - url) : 0;
	if (colon == NULL || slen == 0 || slen > OPEN_POLICY_SCHEME_MAX ||
		!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z'))) {
		return fail(error, "not a URL (no scheme)");
	}
	for (size_t i = 0; i < slen; i++) {
		if (!is_alnum(url[i]) && strchr("+.-", url[i]) == NULL) {
			return fail(error, "not a URL (bad scheme)");
		}
		scheme[i] = lower(url[i]);
	}
	scheme[slen] = '\0';
	bool allowed = false;
	for (size_t i = 0; i < policy->n_schemes; i++) {
		allowed = allowed || strcmp(policy->schemes[i], scheme) == 0;
	}
	if (!allowed) {
		return fail(error, "this URL scheme is not allowed (see url-schemes in [open])");
	}

	/* the host of scheme://[userinfo@]host[:port]/... */
	const char *p = colon + 1;
	if (p[0] != '/' || p[1] != '/') {
		return true;
	}
	p += 2;
	size_t alen = strcspn(p, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < alen; i++) {
		if (p[i] == '@') {
			at = p + i;
		}
	}
	if (at != NULL) {
		alen -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	size_t hlen = alen;
	if (p[0] == '[') {
		const char *close = memchr(p, ']', alen);
		hlen = close != NULL ? (size_t)(close - p) + 1 : alen;
	} else {
		const char *port = memchr(p, ':', alen);
		if (port != NULL) {
			hlen = (size_t)(port - p);
		}
	}
	if (hlen > OPEN_POLICY_HOST_MAX) {
		return fail(error, "the URL's host name is too long");
	}
	for (size_t i = 0; i < hlen; i++) {
		host[i] = lower(p[i]);
	}
	host[hlen] = '\0';
	return true;
}
