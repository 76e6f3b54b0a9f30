/* Unit tests of the [clipboard] section of the config (compositor/config.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char tmp_path[64];

static void write_ini(const char *text)
{
	snprintf(tmp_path, sizeof(tmp_path), "/tmp/vitrail-clipboard-config.XXXXXX");
	int fd = mkstemp(tmp_path);
	cr_assert_geq(fd, 0);
	size_t len = strlen(text);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static struct config *load_text(const char *text, char **error)
{
	write_ini(text);
	*error = NULL;
	struct config *c = config_load(tmp_path, error);
	unlink(tmp_path);
	return c;
}

static struct config *load_ok(const char *text)
{
	char *error = NULL;
	struct config *c = load_text(text, &error);
	cr_assert_not_null(c, "unexpected error: %s", error != NULL ? error : "(none)");
	return c;
}

/* The error names the line and contains needle. */
static void expect_error(const char *text, int line, const char *needle)
{
	char *error = NULL;
	struct config *c = load_text(text, &error);
	cr_expect_null(c, "loaded but should fail: %s", text);
	config_destroy(c);
	cr_assert_not_null(error);
	char where[96];
	snprintf(where, sizeof(where), "%s:%d: ", tmp_path, line);
	cr_expect(strncmp(error, where, strlen(where)) == 0, "error '%s' should start with '%s'",
		error, where);
	cr_expect(strstr(error, needle) != NULL, "error '%s' should contain '%s'", error, needle);
	free(error);
}

#define VMS "[vm a]\nlabel = red\n[vm b]\nlabel = green\n[vm c]\nlabel = blue\n"

Test(clipboard_config, defaults)
{
	struct config *c = load_ok(VMS);
	cr_expect_eq(c->clipboard_max_bytes, 262144u);
	cr_expect_eq(c->n_clipboard_rules, 0u);
	cr_expect(config_clipboard_allowed(c, "a", "b"));
	cr_expect(config_clipboard_allowed(c, "host", "c"));
	cr_expect(config_clipboard_allowed(c, "c", "host"));
	config_destroy(c);

	c = config_create_default();
	cr_assert_not_null(c);
	cr_expect_eq(c->clipboard_max_bytes, CONFIG_DEFAULT_CLIPBOARD_MAX_BYTES);
	config_destroy(c);
}

Test(clipboard_config, max_bytes_units)
{
	static const struct {
		const char *value;
		uint32_t bytes;
	} cases[] = {
		{ "1", 1 },
		{ "1000", 1000 },
		{ "64k", 65536 },
		{ "64K", 65536 },
		{ "1M", 1048576 },
		{ "16M", 16777216 },
		{ "16777216", 16777216 },
		{ "16384k", 16777216 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "[clipboard]\nmax-bytes = %s\n", cases[i].value);
		struct config *c = load_ok(text);
		cr_expect_eq(c->clipboard_max_bytes, cases[i].bytes, "%s gave %u", cases[i].value,
			c->clipboard_max_bytes);
		config_destroy(c);
	}
}

Test(clipboard_config, max_bytes_errors)
{
	const char *bad[] = { "0", "16777217", "17M", "16385k", "99999999999999999999", "12x", "k",
		"", "-1", "1 M", "1m", "1.5M" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "# c\n[clipboard]\nmax-bytes = %s\n", bad[i]);
		expect_error(text, 3, "max-bytes");
	}
	expect_error("[clipboard]\nmax-bytes = 1k\nmax-bytes = 2k\n", 3, "duplicate key");
}

Test(clipboard_config, rules_first_match_wins)
{
	struct config *c = load_ok(VMS "[clipboard]\n"
				       "allow = a -> b\n"
				       "deny = * -> b\n"
				       "deny=a->c   # no spaces needed\n"
				       "deny = host -> *\n"
				       "allow = * -> *\n");
	cr_assert_eq(c->n_clipboard_rules, 5u);
	cr_expect(c->clipboard_rules[0].allow);
	cr_expect_str_eq(c->clipboard_rules[0].source, "a");
	cr_expect_str_eq(c->clipboard_rules[0].target, "b");
	cr_expect_eq(c->clipboard_rules[0].line, 8);
	cr_expect_not(c->clipboard_rules[2].allow);
	cr_expect_str_eq(c->clipboard_rules[2].source, "a");
	cr_expect_str_eq(c->clipboard_rules[2].target, "c");

	cr_expect(config_clipboard_allowed(c, "a", "b"), "allow a -> b comes first");
	cr_expect_not(config_clipboard_allowed(c, "c", "b"));
	cr_expect_not(config_clipboard_allowed(c, "host", "b"));
	cr_expect_not(config_clipboard_allowed(c, "a", "c"));
	cr_expect(config_clipboard_allowed(c, "b", "c"));
	cr_expect_not(config_clipboard_allowed(c, "host", "a"));
	cr_expect(config_clipboard_allowed(c, "a", "host"));
	config_destroy(c);
}

Test(clipboard_config, deny_into_one_vm)
{
	struct config *c = load_ok(VMS "[clipboard]\ndeny = * -> c\n");
	cr_expect_not(config_clipboard_allowed(c, "a", "c"));
	cr_expect_not(config_clipboard_allowed(c, "host", "c"));
	cr_expect_not(config_clipboard_allowed(c, "c", "c"));
	cr_expect(config_clipboard_allowed(c, "c", "a"));
	cr_expect(config_clipboard_allowed(c, "c", "host"));
	config_destroy(c);
}

Test(clipboard_config, rules_before_the_vms_they_name)
{
	struct config *c = load_ok("[clipboard]\ndeny = a -> b\n" VMS);
	cr_expect_not(config_clipboard_allowed(c, "a", "b"));
	config_destroy(c);
}

Test(clipboard_config, rule_errors)
{
	/* a typo must not silently allow a paste */
	expect_error(VMS "[clipboard]\ndeny = a -> d\n", 8, "no VM named 'd'");
	expect_error(VMS "[clipboard]\nallow = x -> *\n", 8, "no VM named 'x'");
	expect_error(VMS "[clipboard]\ndeny = a c\n", 8, "SOURCE -> TARGET");
	expect_error(VMS "[clipboard]\ndeny = a ->\n", 8, "SOURCE -> TARGET");
	expect_error(VMS "[clipboard]\ndeny = -> a\n", 8, "SOURCE -> TARGET");
	expect_error(VMS "[clipboard]\ndeny = A -> b\n", 8, "SOURCE -> TARGET");
	expect_error(VMS "[clipboard]\ndeny = a -> b -> c\n", 8, "SOURCE -> TARGET");
	expect_error(VMS "[clipboard]\ndeny = a b -> c\n", 8, "SOURCE -> TARGET");
	expect_error(VMS "[clipboard]\nblock = a -> b\n", 8, "unknown key 'block' in [clipboard]");
	expect_error(VMS "[clipboard]\n[clipboard]\n", 8, "duplicate section [clipboard]");
	expect_error("[vm host]\nlabel = red\n[clipboard]\ndeny = host -> *\n", 4, "ambiguous");
}
