/*
 * Fuzz harness (LLVMFuzzerTestOneInput) of the open-in-VM parsers and
 * matchers: the rule parser and matcher and the URL check of
 * compositor/open_policy.c, and the incoming file name sanitizer of
 * guest-agent/filename.c. The input's first line is a rule, the rest a
 * URL / name; the whole input also goes through the sanitizer. Checked:
 * no crash, every sanitized name is a safe display string, and the
 * parsers follow the error convention (a message on failure, none on
 * success).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/protocol.h>

#include <vitrail/common/filename.h>
#include "services/open_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > FILENAME_MAX_BYTES || strchr(name, '/') != NULL || name[0] == '.' ||
		vtp_check_display_string((const uint8_t *)name, len) != VTP_OK) {
		abort();
	}
}

/* Out of memory aside (not fuzzed), a failure says why and a success
 * leaves no message. */
static void check_error(bool ok, const char *error)
{
	if (ok != (error == NULL)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536) {
		return 0;
	}
	char *text = malloc(size + 1);
	if (text == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';

	char name[FILENAME_MAX_BYTES + 1];
	filename_sanitize((const char *)data, size, name, sizeof(name));
	check_name(name);
	char numbered[FILENAME_MAX_BYTES + 1];
	filename_numbered(name, (unsigned)(size % 10000) + 1, numbered, sizeof(numbered));
	check_name(numbered);

	char *rest = strchr(text, '\n');
	if (rest != NULL) {
		*rest++ = '\0';
	} else {
		rest = text;
	}
	struct open_policy policy = { .max_file_bytes = 1 };
	char *error = NULL;
	if (!open_policy_parse_schemes(
		    "http https ftp mailto", &policy.schemes, &policy.n_schemes, &error)) {
		abort();
	}
	struct open_rule rule;
	bool rule_ok = open_policy_parse_rule(text, &rule, &error);
	check_error(rule_ok, error);
	if (rule_ok) {
		policy.rules = &rule;
		policy.n_rules = 1;
	}
	free(error);
	char scheme[OPEN_POLICY_SCHEME_MAX + 1], host[OPEN_POLICY_HOST_MAX + 1];
	bool url_ok = open_policy_check_url(&policy, rest, scheme, host, &error);
	check_error(url_ok, error);
	free(error);
	struct open_request_info url = {
		.source = "work", .is_url = true, .scheme = scheme, .host = host
	};
	struct open_request_info file = { .source = NULL, .mime = rest, .name = rest };
	if (url_ok) {
		open_policy_match(&policy, &url);
	}
	open_policy_match(&policy, &file);
	open_policy_glob(text, rest);
	char(*schemes)[OPEN_POLICY_SCHEME_MAX + 1] = NULL;
	size_t n_schemes = 0;
	bool schemes_ok = open_policy_parse_schemes(rest, &schemes, &n_schemes, &error);
	check_error(schemes_ok, error);
	free(error);
	if (schemes_ok) {
		free(schemes);
	}
	free(policy.schemes);
	free(text);
	return 0;
}
