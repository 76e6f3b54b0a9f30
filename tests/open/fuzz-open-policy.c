/*
 * Fuzz harness (LLVMFuzzerTestOneInput) of the open-in-VM parsers and
 * matchers: the rule parser and matcher and the URL check of
 * compositor/open_policy.c, and the incoming file name sanitizer of
 * guest-agent/filename.c. The input's first line is a rule, the rest a
 * URL / name; the whole input also goes through the sanitizer. Checked:
 * no crash, and every sanitized name is a safe display string.
 */
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
	char err[256];
	if (!open_policy_parse_schemes("http https ftp mailto", &policy.schemes, &policy.n_schemes,
		    err, sizeof(err))) {
		abort();
	}
	struct open_rule rule;
	if (open_policy_parse_rule(text, &rule, err, sizeof(err))) {
		policy.rules = &rule;
		policy.n_rules = 1;
	}
	char scheme[OPEN_POLICY_SCHEME_MAX + 1], host[OPEN_POLICY_HOST_MAX + 1];
	const char *why = NULL;
	bool url_ok = open_policy_check_url(&policy, rest, scheme, host, &why);
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
	if (open_policy_parse_schemes(rest, &schemes, &n_schemes, err, sizeof(err))) {
		free(schemes);
	}
	free(policy.schemes);
	free(text);
	return 0;
}
