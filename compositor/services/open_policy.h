/*
 * The open-in-VM policy: the ordered rules of the config's [open]
 * section ("rule = [from VM:] MATCH -> TARGET"), the URL schemes allowed,
 * and the matcher that picks the first rule for a request. No wlroots
 * dependency: unit tests link it with config.c alone.
 *
 *   MATCH   *                      anything (files and URLs)
 *           type/subtype           a file's MIME type; '*' and '?' glob
 *                                  (image/png, application/pdf)
 *           x-scheme-handler/S     a URL whose scheme is S (glob)
 *           .ext                   a file whose name ends in .ext
 *           url:HOST               a URL whose host matches HOST (glob,
 *                                  *.example.com)
 *   from VM:  only requests from VMs whose name matches VM (glob); never
 *             requests made on the host (vitrailctl open --auto)
 *   TARGET  VM name, @disposable, @ask, @deny
 *
 * No rule matching means @deny. A config without an [open] section gets
 * the built-in default policy (data/open-policy.ini): every request asks.
 */
#ifndef VITRAIL_OPEN_POLICY_H
#define VITRAIL_OPEN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

#define OPEN_POLICY_NAME_MAX 32 /* VM names, as in config.h */
#define OPEN_POLICY_SCHEME_MAX 32
#define OPEN_POLICY_HOST_MAX 255

/* The built-in policy, used when the config has no [open] section. Kept
 * equal to the rules of data/open-policy.ini (a unit test checks). */
#define OPEN_POLICY_DEFAULT_RULE "* -> @ask"
#define OPEN_POLICY_DEFAULT_SCHEMES "http https ftp mailto"

enum open_match_kind {
	OPEN_MATCH_ANY, /* * */
	OPEN_MATCH_MIME, /* type/subtype glob, files */
	OPEN_MATCH_SCHEME, /* x-scheme-handler/GLOB, URLs */
	OPEN_MATCH_EXT, /* .ext, files */
	OPEN_MATCH_HOST, /* url:GLOB, URLs */
};

enum open_target_kind {
	OPEN_TARGET_VM,
	OPEN_TARGET_DISPOSABLE,
	OPEN_TARGET_ASK,
	OPEN_TARGET_DENY,
};

struct open_rule {
	char from[OPEN_POLICY_NAME_MAX + 1]; /* VM name glob; "" for any source */
	enum open_match_kind match;
	char pattern[256]; /* lower case; "" for OPEN_MATCH_ANY */
	enum open_target_kind target;
	char vm[OPEN_POLICY_NAME_MAX + 1]; /* OPEN_TARGET_VM */
	int line; /* in the config file; 0 when built in */
};

struct open_policy {
	struct open_rule *rules;
	size_t n_rules;
	char (*schemes)[OPEN_POLICY_SCHEME_MAX + 1]; /* lower case */
	size_t n_schemes;
	uint64_t max_file_bytes;
	bool builtin; /* the config had no [open] section */
};

/* What a request is, for matching. Strings are as the source gave them
 * (validated by the protocol decoder); matching folds ASCII case. */
struct open_request_info {
	const char *source; /* the source VM's name; NULL for the host */
	bool is_url;
	const char *mime; /* files */
	const char *name; /* files */
	const char *scheme; /* URLs, lower case */
	const char *host; /* URLs with an authority, lower case; else NULL */
};

/*
 * Errors, as everywhere in the compositor: on failure *error is a malloc'd
 * message the caller frees, or NULL when out of memory; on success it is
 * NULL.
 */

/* Parse the text of one rule (what follows "rule ="). false and a message
 * (without file:line) when it is malformed. */
bool open_policy_parse_rule(const char *text, struct open_rule *rule, char **error);

/* Parse "http https,ftp" into *out (malloc'd, lower case). false and a
 * message on a bad or unsafe scheme (file, javascript, data, ...). */
bool open_policy_parse_schemes(
	const char *text, char (**out)[OPEN_POLICY_SCHEME_MAX + 1], size_t *n, char **error);

/* Build the policy of a loaded config: parse every rule and check the VM
 * names it uses. NULL and *error = "FILE:LINE: message" (on out of memory
 * "out of memory" if that can be allocated, else NULL). */
struct open_policy *open_policy_create(const struct config *config, char **error);
void open_policy_destroy(struct open_policy *policy);

/* The first rule that matches, or NULL (which means @deny). */
const struct open_rule *open_policy_match(
	const struct open_policy *policy, const struct open_request_info *request);

/* Whether the URL may be opened: printable ASCII, 1..4096 bytes, a scheme
 * in the policy's list. Fills scheme and host (lower case; host "" when
 * the URL has no authority). false and *error (why) otherwise. */
bool open_policy_check_url(const struct open_policy *policy, const char *url,
	char scheme[static OPEN_POLICY_SCHEME_MAX + 1], char host[static OPEN_POLICY_HOST_MAX + 1],
	char **error);

/* Glob match, '*' (any run) and '?' (one byte), ASCII case folded. */
bool open_policy_glob(const char *pattern, const char *text);

/* "@deny", "@ask", "@disposable" or the VM name. */
const char *open_policy_target_name(const struct open_rule *rule);

#endif
