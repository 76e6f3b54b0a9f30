/* Unit tests of compositor/config_edit.c (vitrailctl create/remove/set). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "config_edit.h"

static const char base[] = "# my config\n"
			   "[vm debian-12]\n"
			   "label = gray   # the template\n"
			   "type = qemu\n"
			   "\n"
			   "; keep me\n"
			   "[input]\n"
			   "repeat-rate = 30\n";

static char *add_work(const char *text)
{
	const char *keys[] = { "label", "template" };
	const char *values[] = { "blue", "debian-12" };
	char *error = NULL;
	char *out = config_edit_add_vm(text, "work", keys, values, 2, &error);
	cr_assert_not_null(out, "add_vm: %s", error ? error : "?");
	return out;
}

Test(config_edit, add_keeps_every_line)
{
	char *out = add_work(base);
	cr_assert(strncmp(out, base, strlen(base)) == 0, "lines before changed:\n%s", out);
	cr_assert_str_eq(out + strlen(base), "\n[vm work]\nlabel = blue\ntemplate = debian-12\n");
	cr_assert(config_edit_has_vm(out, "work"));
	cr_assert(config_edit_has_vm(out, "debian-12"));
	cr_assert_not(config_edit_has_vm(out, "input"));
	free(out);
}

Test(config_edit, add_to_a_file_without_final_newline)
{
	char *out = add_work("[input]\nrepeat-rate = 30");
	cr_assert_str_eq(out,
		"[input]\nrepeat-rate = 30\n\n[vm work]\nlabel = blue\ntemplate = debian-12\n");
	free(out);
	out = add_work("");
	cr_assert_str_eq(out, "[vm work]\nlabel = blue\ntemplate = debian-12\n");
	free(out);
}

Test(config_edit, add_refuses_duplicates_and_bad_names)
{
	char *error = NULL;
	const char *keys[] = { "label" }, *values[] = { "blue" };
	cr_assert_null(config_edit_add_vm(base, "debian-12", keys, values, 1, &error));
	cr_assert_not_null(strstr(error, "exists"), "%s", error);
	free(error);
	error = NULL;
	/* the header's spacing does not hide a duplicate */
	cr_assert_null(config_edit_add_vm("[ vm  x ]\n", "x", keys, values, 1, &error));
	free(error);
	const char *bad[] = { "", "Work", "a_b", "../x", "a b", "x]\n[vm y",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		cr_assert_null(
			config_edit_add_vm(base, bad[i], keys, values, 1, &error), "%s", bad[i]);
		cr_assert_not_null(error);
		free(error);
	}
	const char *bad_values[] = { "blue\n[vm evil]" };
	error = NULL;
	cr_assert_null(config_edit_add_vm(base, "work", keys, bad_values, 1, &error));
	free(error);
}

Test(config_edit, remove_restores_the_file)
{
	char *with = add_work(base);
	char *error = NULL;
	char *out = config_edit_remove_vm(with, "work", &error);
	cr_assert_not_null(out, "%s", error ? error : "?");
	cr_assert_str_eq(out, base);
	free(out);
	free(with);
}

Test(config_edit, remove_keeps_comments_of_the_next_section)
{
	char *error = NULL;
	char *out = config_edit_remove_vm(base, "debian-12", &error);
	cr_assert_not_null(out, "%s", error ? error : "?");
	cr_assert_str_eq(out, "# my config\n\n; keep me\n[input]\nrepeat-rate = 30\n");
	free(out);
	cr_assert_null(config_edit_remove_vm(base, "nope", &error));
	free(error);
}

Test(config_edit, set_replaces_or_adds)
{
	char *error = NULL;
	char *out = config_edit_set_key(base, "debian-12", "type", "local", &error);
	cr_assert_not_null(out, "%s", error ? error : "?");
	cr_assert_not_null(strstr(out,
				   "[vm debian-12]\nlabel = gray   # the template\ntype = "
				   "local\n\n; keep me\n"),
		"%s", out);
	free(out);
	out = config_edit_set_key(base, "debian-12", "memory", "2048", &error);
	cr_assert_not_null(out);
	cr_assert_not_null(
		strstr(out, "type = qemu\nmemory = 2048\n\n; keep me\n[input]\n"), "%s", out);
	free(out);
	/* the key of another section is not touched */
	out = config_edit_set_key(base, "debian-12", "repeat-rate", "5", &error);
	cr_assert_not_null(strstr(out, "[input]\nrepeat-rate = 30\n"));
	free(out);
	char *v = config_edit_get_key(base, "debian-12", "label");
	cr_assert_str_eq(v, "gray   # the template");
	free(v);
	cr_assert_null(config_edit_get_key(base, "debian-12", "memory"));
}

Test(config_edit, set_refuses_bad_keys_and_values)
{
	const char *bad_keys[] = { "", "Memory", "mem ory", "a=b", "-x", "memory\nx" };
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		char *error = NULL;
		cr_assert_null(config_edit_set_key(base, "debian-12", bad_keys[i], "1", &error));
		cr_assert_not_null(error);
		free(error);
	}
	const char *bad_values[] = { "", " 1", "1 ", "1\n[vm x]", "1\r" };
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		char *error = NULL;
		cr_assert_null(
			config_edit_set_key(base, "debian-12", "memory", bad_values[i], &error));
		free(error);
	}
	char *error = NULL;
	cr_assert_null(config_edit_set_key(base, "nope", "memory", "1", &error));
	cr_assert_not_null(strstr(error, "no [vm nope]"));
	free(error);
}
