/*
 * Unit tests of the open-in-VM policy (compositor/open_policy.c): the rule
 * parser, the [open] section of the config, the matcher and the URL check.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "services/open_policy.h"

static struct open_rule parse_ok(const char *text)
{
	struct open_rule rule;
	char *error = NULL;
	cr_assert(open_policy_parse_rule(text, &rule, &error), "'%s': %s", text, error);
	cr_assert_null(error);
	return rule;
}

static void parse_bad(const char *text, const char *want)
{
	struct open_rule rule;
	char *error = NULL;
	cr_assert_not(open_policy_parse_rule(text, &rule, &error), "'%s' parsed", text);
	cr_assert_not_null(error, "'%s': no message", text);
	cr_assert(strstr(error, want) != NULL, "'%s': error '%s' lacks '%s'", text, error, want);
	free(error);
}

Test(rule, kinds)
{
	struct open_rule r = parse_ok("application/pdf -> work");
	cr_assert_eq(r.match, OPEN_MATCH_MIME);
	cr_assert_str_eq(r.pattern, "application/pdf");
	cr_assert_eq(r.target, OPEN_TARGET_VM);
	cr_assert_str_eq(r.vm, "work");
	cr_assert_str_eq(r.from, "");

	r = parse_ok("  Image/*->@disposable  ");
	cr_assert_eq(r.match, OPEN_MATCH_MIME);
	cr_assert_str_eq(r.pattern, "image/*");
	cr_assert_eq(r.target, OPEN_TARGET_DISPOSABLE);

	r = parse_ok("x-scheme-handler/https -> web");
	cr_assert_eq(r.match, OPEN_MATCH_SCHEME);
	cr_assert_str_eq(r.pattern, "https");

	r = parse_ok(".PDF -> @ask");
	cr_assert_eq(r.match, OPEN_MATCH_EXT);
	cr_assert_str_eq(r.pattern, ".pdf");
	cr_assert_eq(r.target, OPEN_TARGET_ASK);

	r = parse_ok(".tar.gz -> @deny");
	cr_assert_eq(r.match, OPEN_MATCH_EXT);
	cr_assert_str_eq(r.pattern, ".tar.gz");
	cr_assert_eq(r.target, OPEN_TARGET_DENY);

	r = parse_ok("url:*.Example.com -> web");
	cr_assert_eq(r.match, OPEN_MATCH_HOST);
	cr_assert_str_eq(r.pattern, "*.example.com");

	r = parse_ok("* -> @ask");
	cr_assert_eq(r.match, OPEN_MATCH_ANY);

	r = parse_ok("from mail: application/pdf -> @disposable");
	cr_assert_str_eq(r.from, "mail");
	cr_assert_eq(r.match, OPEN_MATCH_MIME);

	r = parse_ok("from work-*:url:intranet.corp -> work");
	cr_assert_str_eq(r.from, "work-*");
	cr_assert_eq(r.match, OPEN_MATCH_HOST);
	cr_assert_str_eq(r.pattern, "intranet.corp");
}

Test(rule, errors)
{
	parse_bad("application/pdf work", "expected 'MATCH -> TARGET'");
	parse_bad("-> work", "missing MATCH");
	parse_bad("application/pdf ->", "missing TARGET");
	parse_bad("a -> b -> c", "more than one '->'");
	parse_bad("application/pdf image/png -> work", "one MATCH per rule");
	parse_bad("application -> work", "unknown MATCH");
	parse_bad("application/pdf/x -> work", "MIME type");
	parse_bad("/pdf -> work", "MIME type");
	parse_bad("text/pl ain -> work", "one MATCH");
	parse_bad("appl(ication/pdf -> work", "invalid character");
	parse_bad(". -> work", "file extension");
	parse_bad(".p/df -> work", "file extension");
	parse_bad("url: -> web", "url:");
	parse_bad("url:a/b -> web", "url:");
	parse_bad("x-scheme-handler/ht~tp -> web", "");
	parse_bad("* -> @trash", "unknown target '@trash'");
	parse_bad("* -> Work", "invalid target 'Work'");
	parse_bad("* -> a-very-long-name-that-is-longer-than-32", "invalid target");
	parse_bad("from : * -> work", "from: invalid VM name");
	parse_bad("from Work: * -> work", "from: invalid VM name");
	parse_bad("from work * -> web", "expected 'from VM: MATCH -> TARGET'");
}

Test(glob, basics)
{
	cr_assert(open_policy_glob("*", ""));
	cr_assert(open_policy_glob("*", "anything"));
	cr_assert(open_policy_glob("image/*", "image/png"));
	cr_assert(open_policy_glob("IMAGE/*", "image/PNG"));
	cr_assert_not(open_policy_glob("image/*", "video/png"));
	cr_assert(open_policy_glob("*.example.com", "a.example.com"));
	cr_assert(open_policy_glob("*.example.com", "a.b.example.com"));
	cr_assert_not(open_policy_glob("*.example.com", "example.com"));
	cr_assert_not(open_policy_glob("*.example.com", "evil-example.com"));
	cr_assert(open_policy_glob("a?c", "abc"));
	cr_assert_not(open_policy_glob("a?c", "ac"));
	cr_assert(open_policy_glob("*a*b*c", "xxaxxbxxc"));
	cr_assert_not(open_policy_glob("*a*b*c", "xxaxxcxxb"));
	cr_assert(open_policy_glob("**", "x"));
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/vitrail-open-policy-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static const char vms[] = "[vm work]\nlabel = blue\n"
			  "[vm web]\nlabel = orange\n"
			  "[vm mail]\nlabel = green\n";

/* Load config text; NULL and *error if the config or the policy is bad. */
static struct open_policy *load(const char *text, char **error, struct config **config_out)
{
	char *path = write_temp(text);
	*error = NULL;
	struct config *config = config_load(path, error);
	unlink(path);
	free(path);
	if (config == NULL) {
		return NULL;
	}
	struct open_policy *policy = open_policy_create(config, error);
	if (config_out != NULL && policy != NULL) {
		*config_out = config;
	} else {
		config_destroy(config);
	}
	return policy;
}

static void load_bad(const char *open_section, const char *want)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s%s", vms, open_section);
	char *error = NULL;
	struct open_policy *policy = load(text, &error, NULL);
	cr_assert_null(policy, "loaded: %s", open_section);
	cr_assert_not_null(error);
	cr_assert(strstr(error, want) != NULL, "error '%s' lacks '%s'", error, want);
	free(error);
}

Test(config, errors_name_file_and_line)
{
	load_bad(
		"[open]\nrule = application/pdf -> nosuchvm\n", ":8: rule: no VM named 'nosuchvm'");
	load_bad("[open]\n\nrule = from nosuch: * -> work\n", ":9: rule: from: no VM named");
	load_bad("[open]\nrule = application/pdf work\n", ":8: rule: expected 'MATCH -> TARGET'");
	load_bad("[open]\nurl-schemes = http file\n", ":8: url-schemes: 'file' is unsafe");
	load_bad("[open]\nurl-schemes = http 9p\n", "is not a URL scheme");
	load_bad("[open]\nurl-schemes = javascript\n", "unsafe");
	load_bad("[open]\nmax-file-bytes = 0\n", ":8: max-file-bytes: 0 is out of range");
	load_bad("[open]\nmax-file-bytes = 65G\n", "out of range");
	load_bad("[open]\nmax-file-bytes = 1T\n", "expected a size");
	load_bad("[open]\nmax-file-bytes = 1\nmax-file-bytes = 2\n", ":9: duplicate key");
	load_bad("[open]\nrules = * -> work\n", ":8: unknown key 'rules' in [open]");
	load_bad("[open]\n[open]\n", ":8: duplicate section [open]");
	load_bad("[open]\nrule =\n", ":8: rule: empty value");
}

Test(config, values)
{
	char text[4096];
	snprintf(text, sizeof(text),
		"%s[open]\nmax-file-bytes = 10M\nurl-schemes = HTTPS, http gopher\n"
		"rule = from mail: application/pdf -> @disposable\n"
		"rule = application/pdf -> work\n"
		"rule = x-scheme-handler/http* -> web\n",
		vms);
	char *error = NULL;
	struct config *config = NULL;
	struct open_policy *p = load(text, &error, &config);
	cr_assert_not_null(p, "%s", error);
	cr_assert_not(p->builtin);
	cr_assert_eq(p->max_file_bytes, 10u * 1024 * 1024);
	cr_assert_eq(p->n_schemes, 3);
	cr_assert_str_eq(p->schemes[0], "https");
	cr_assert_str_eq(p->schemes[2], "gopher");
	cr_assert_eq(p->n_rules, 3);
	cr_assert_eq(p->rules[0].line, 10);
	cr_assert_eq(p->rules[2].line, 12);
	open_policy_destroy(p);
	config_destroy(config);

	/* no [open] section: the built-in policy */
	p = load(vms, &error, &config);
	cr_assert_not_null(p, "%s", error);
	cr_assert(p->builtin);
	cr_assert_eq(p->max_file_bytes, 1ull << 30);
	cr_assert_eq(p->n_rules, 1);
	cr_assert_eq(p->rules[0].target, OPEN_TARGET_ASK);
	cr_assert_eq(p->n_schemes, 4);
	open_policy_destroy(p);
	config_destroy(config);
}

static const struct open_rule *match_file(
	const struct open_policy *p, const char *source, const char *mime, const char *name)
{
	struct open_request_info r = { .source = source, .mime = mime, .name = name };
	return open_policy_match(p, &r);
}

static const struct open_rule *match_url(
	const struct open_policy *p, const char *source, const char *scheme, const char *host)
{
	struct open_request_info r = {
		.source = source, .is_url = true, .scheme = scheme, .host = host
	};
	return open_policy_match(p, &r);
}

static const char *target(const struct open_rule *rule)
{
	return rule != NULL ? open_policy_target_name(rule) : "(none)";
}

Test(match, first_match_wins)
{
	char text[4096];
	snprintf(text, sizeof(text),
		"%s[open]\n"
		"rule = from mail: application/pdf -> @disposable\n"
		"rule = from web: x-scheme-handler/* -> web\n"
		"rule = url:*.corp.example -> work\n"
		"rule = x-scheme-handler/https -> web\n"
		"rule = x-scheme-handler/mailto -> mail\n"
		"rule = application/pdf -> work\n"
		"rule = .docx -> @disposable\n"
		"rule = image/* -> @ask\n"
		"rule = from w*: text/plain -> mail\n",
		vms);
	char *error = NULL;
	struct config *config = NULL;
	struct open_policy *p = load(text, &error, &config);
	cr_assert_not_null(p, "%s", error);

	cr_assert_str_eq(target(match_file(p, "mail", "application/pdf", "a.pdf")), "@disposable");
	cr_assert_str_eq(target(match_file(p, "work", "application/pdf", "a.pdf")), "work");
	cr_assert_str_eq(target(match_file(p, "web", "Application/PDF; x=y", "a")), "work");
	cr_assert_str_eq(target(match_file(p, NULL, "application/pdf", "a.pdf")), "work");
	cr_assert_str_eq(target(match_file(p, "web", "application/zip", "r.DOCX")), "@disposable");
	cr_assert_str_eq(target(match_file(p, "web", "application/zip", ".docx")), "(none)");
	cr_assert_str_eq(target(match_file(p, "mail", "image/png", "x.png")), "@ask");
	cr_assert_str_eq(target(match_file(p, "web", "text/plain", "x.txt")), "mail");
	cr_assert_str_eq(target(match_file(p, "work", "text/plain", "x.txt")), "mail");
	cr_assert_str_eq(target(match_file(p, "mail", "text/plain", "x.txt")), "(none)");
	cr_assert_str_eq(target(match_file(p, NULL, "text/plain", "x.txt")), "(none)");
	cr_assert_str_eq(target(match_file(p, "mail", "application/octet-stream", "x")), "(none)");

	cr_assert_str_eq(target(match_url(p, "web", "ftp", "h")), "web");
	cr_assert_str_eq(target(match_url(p, "mail", "https", "wiki.corp.example")), "work");
	cr_assert_str_eq(target(match_url(p, "mail", "https", "corp.example")), "web");
	cr_assert_str_eq(target(match_url(p, "mail", "https", "example.org")), "web");
	cr_assert_str_eq(target(match_url(p, "work", "mailto", "")), "mail");
	cr_assert_str_eq(target(match_url(p, "work", "ftp", "x.org")), "(none)");
	/* URLs never match MIME or extension rules, files never URL rules */
	cr_assert_str_eq(target(match_url(p, "work", "application", "pdf")), "(none)");
	cr_assert_str_eq(target(match_file(p, "work", "x-scheme-handler/https", "h")), "(none)");
	open_policy_destroy(p);
	config_destroy(config);
}

Test(url, check)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s", vms);
	char *error = NULL;
	struct config *config = NULL;
	struct open_policy *p = load(text, &error, &config);
	cr_assert_not_null(p, "%s", error);
	char scheme[OPEN_POLICY_SCHEME_MAX + 1], host[OPEN_POLICY_HOST_MAX + 1];
	char *why = NULL;

	cr_assert(open_policy_check_url(
		p, "https://user:pw@Www.Example.com:8443/a?b#c", scheme, host, &why));
	cr_assert_str_eq(scheme, "https");
	cr_assert_str_eq(host, "www.example.com");
	cr_assert(open_policy_check_url(p, "HTTP://[::1]:80/", scheme, host, &why));
	cr_assert_str_eq(scheme, "http");
	cr_assert_str_eq(host, "[::1]");
	cr_assert(open_policy_check_url(p, "mailto:someone@example.com", scheme, host, &why));
	cr_assert_str_eq(scheme, "mailto");
	cr_assert_str_eq(host, "");
	cr_assert(open_policy_check_url(p, "ftp://a.b?x@evil", scheme, host, &why));
	cr_assert_str_eq(host, "a.b");

	const char *bad[] = {
		"file:///etc/passwd",
		"javascript:alert(1)",
		"data:text/html,hi",
		"ssh://host",
		"no-scheme",
		":nothing",
		"1http://x",
		"https://a b",
		"https://\x01",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_not(open_policy_check_url(p, bad[i], scheme, host, &why), "%s", bad[i]);
		cr_assert_not_null(why);
		free(why);
	}
	char *longurl = malloc(5000);
	memcpy(longurl, "https://", 8);
	memset(longurl + 8, 'a', 4991);
	longurl[4999] = '\0';
	cr_assert_not(open_policy_check_url(p, longurl, scheme, host, &why));
	cr_assert_not_null(why);
	free(why);
	free(longurl);
	open_policy_destroy(p);
	config_destroy(config);
}

/* data/open-policy.ini documents the built-in policy: its rules are the
 * built-in ones, and the file's examples parse. */
Test(default_policy, matches_data_file)
{
	FILE *f = fopen(OPEN_POLICY_INI, "r");
	cr_assert_not_null(f, "%s", OPEN_POLICY_INI);
	char line[1024];
	size_t n_rules = 0;
	bool saw_schemes = false;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "rule = ", 7) == 0) {
			cr_assert_str_eq(line + 7, OPEN_POLICY_DEFAULT_RULE);
			n_rules++;
		} else if (strncmp(line, "url-schemes = ", 14) == 0) {
			cr_assert_str_eq(line + 14, OPEN_POLICY_DEFAULT_SCHEMES);
			saw_schemes = true;
		} else if (strncmp(line, "#: rule = ", 10) == 0) {
			struct open_rule rule;
			char *error = NULL;
			cr_assert(open_policy_parse_rule(line + 10, &rule, &error),
				"example '%s': %s", line + 10, error);
		}
	}
	fclose(f);
	cr_assert_eq(n_rules, 1);
	cr_assert(saw_schemes);

	/* and the whole file loads as a config (with the VMs it names) */
	char *error = NULL;
	FILE *in = fopen(OPEN_POLICY_INI, "r");
	char *text = calloc(1, 65536);
	size_t len = fread(text, 1, 65535, in);
	fclose(in);
	text[len] = '\0';
	char *all = malloc(len + 256);
	snprintf(all, len + 256, "%s%s", vms, text);
	struct config *config = NULL;
	struct open_policy *p = load(all, &error, &config);
	cr_assert_not_null(p, "%s", error);
	open_policy_destroy(p);
	config_destroy(config);
	free(all);
	free(text);
}
