/* Unit tests of compositor/config.c. CONFIG_TEST_DIR and EXAMPLE_INI come from meson. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xkbcommon/xkbcommon.h>

#include "config.h"

static char *path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	cr_assert_not_null(p);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static struct config *load_ok(const char *path)
{
	char *error = NULL;
	struct config *c = config_load(path, &error);
	cr_assert_not_null(c, "%s: unexpected error: %s", path, error ? error : "(none)");
	cr_assert_null(error);
	return c;
}

/* Load path expecting an error that starts with "path:line: " and contains needle. */
static void expect_error(const char *path, int line, const char *needle)
{
	char *error = NULL;
	struct config *c = config_load(path, &error);
	cr_expect_null(c, "%s: loaded but should fail", path);
	config_destroy(c);
	cr_assert_not_null(error, "%s: no error message", path);
	char prefix[4200];
	if (line > 0) {
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	} else {
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	}
	cr_expect(strncmp(error, prefix, strlen(prefix)) == 0, "error '%s' should start with '%s'",
		error, prefix);
	cr_expect(strstr(error, needle) != NULL, "error '%s' should contain '%s'", error, needle);
	free(error);
}

static const struct config_binding *find_binding(
	const struct config *c, uint32_t modifiers, uint32_t keysym)
{
	for (size_t i = 0; i < c->n_bindings; i++) {
		if (c->bindings[i].modifiers == modifiers && c->bindings[i].keysym == keysym) {
			return &c->bindings[i];
		}
	}
	return NULL;
}

static void expect_default_bindings(const struct config *c)
{
	cr_expect_eq(c->n_bindings, 9);
	const struct config_binding *b = find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_Return);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_EXEC);
	cr_expect_str_eq(b->command, "foot");
	b = find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_d);
	cr_assert_not_null(b);
	cr_expect_str_eq(
		b->command, "command -v fuzzel >/dev/null && exec fuzzel || exec wofi --show drun");
	b = find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_l);
	cr_assert_not_null(b);
	cr_expect_str_eq(
		b->command, "command -v swaylock >/dev/null && exec swaylock -f -c 1e1e1e");
	b = find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_q);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_CLOSE);
	cr_expect_null(b->command);
	b = find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_m);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_MAXIMIZE);
	b = find_binding(c, CONFIG_MOD_ALT, XKB_KEY_Tab);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_CYCLE);
	b = find_binding(c, CONFIG_MOD_LOGO | CONFIG_MOD_SHIFT, XKB_KEY_e);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_EXIT);
	b = find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_c);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_CLIPBOARD_COPY);
	b = find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_v);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_CLIPBOARD_PASTE);
	/* terminals' own copy and paste keys are left to the apps */
	cr_expect_null(find_binding(c, CONFIG_MOD_CTRL | CONFIG_MOD_SHIFT, XKB_KEY_c));
	cr_expect_null(find_binding(c, CONFIG_MOD_CTRL | CONFIG_MOD_SHIFT, XKB_KEY_v));
}

Test(config, full_file_values)
{
	char *path = path_in(CONFIG_TEST_DIR, "valid/full.ini");
	struct config *c = load_ok(path);

	cr_expect_str_eq(c->path, path);
	cr_expect_str_eq(c->xkb_rules, "evdev");
	cr_expect_str_eq(c->xkb_model, "pc105");
	cr_expect_str_eq(c->xkb_layout, "us,de");
	cr_expect_str_eq(c->xkb_variant, ",nodeadkeys");
	cr_expect_str_eq(c->xkb_options, "grp:alt_shift_toggle,caps:escape");
	cr_expect_eq(c->repeat_rate, 30);
	cr_expect_eq(c->repeat_delay, 250);

	cr_expect_eq(c->n_bindings, 9);
	const struct config_binding *b = find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_Return);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_EXEC);
	/* '#' and ';' not after a space are part of the command */
	cr_expect_str_eq(b->command, "foot --title a#b;c");
	b = find_binding(c, CONFIG_MOD_LOGO | CONFIG_MOD_SHIFT, XKB_KEY_e);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_EXIT);
	b = find_binding(c, CONFIG_MOD_CTRL | CONFIG_MOD_ALT, XKB_KEY_t);
	cr_assert_not_null(b);
	cr_expect_str_eq(b->command, "weston-terminal");
	cr_expect_not_null(find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_q));
	cr_expect_not_null(find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_m));
	cr_expect_not_null(find_binding(c, CONFIG_MOD_ALT, XKB_KEY_Tab));
	cr_expect_not_null(find_binding(c, CONFIG_MOD_CTRL | CONFIG_MOD_SHIFT, XKB_KEY_c));
	/* "V" matches case-insensitively and is stored lower case */
	b = find_binding(c, CONFIG_MOD_CTRL | CONFIG_MOD_SHIFT, XKB_KEY_v);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_CLIPBOARD_PASTE);
	b = find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_F1);
	cr_assert_not_null(b);
	cr_expect_str_eq(b->command, "echo hi");

	cr_assert_eq(c->n_vms, 4);
	const struct config_vm *vm = &c->vms[0];
	cr_expect_str_eq(vm->name, "work");
	cr_expect_eq(vm->label_rgb, 0x3465a4);
	cr_expect(vm->allow_fullscreen);
	cr_expect_eq(vm->type, CONFIG_VM_LOCAL);
	cr_expect_str_eq(vm->command, "weston-simple-shm");
	cr_expect_eq(vm->pool_size_mib, 128);
	cr_expect_null(vm->image);
	cr_expect_eq(vm->memory_mib, 512);
	cr_expect_eq(vm->cpus, 1);
	cr_expect_eq(vm->suspend_after_s, 0);
	cr_expect_eq(vm->line, 24);

	vm = &c->vms[1];
	cr_expect_str_eq(vm->name, "personal");
	cr_expect_eq(vm->label_rgb, 0x73d216);
	cr_expect_not(vm->allow_fullscreen);
	cr_expect_eq(vm->type, CONFIG_VM_QEMU);
	cr_expect_null(vm->command);
	cr_expect_str_eq(vm->image, "/var/lib/vitrail/personal.qcow2");
	cr_expect_eq(vm->memory_mib, 2048);
	cr_expect_eq(vm->cpus, 2);
	cr_expect_eq(vm->pool_size_mib, 256);
	cr_expect(vm->network_user);
	cr_expect(vm->autostart);
	cr_expect_eq(vm->accel, CONFIG_ACCEL_TCG);
	cr_expect_eq(vm->suspend_after_s, 900);
	cr_expect_eq(vm->line, 31);

	vm = &c->vms[2];
	cr_expect_str_eq(vm->name, "untrusted-1");
	cr_expect_eq(vm->label_rgb, 0xa1b2c3);
	char *kernel = path_in(CONFIG_TEST_DIR, "valid/vmlinuz");
	char *initrd = path_in(CONFIG_TEST_DIR, "valid/images/initrd.img");
	cr_expect_str_eq(vm->kernel, kernel);
	cr_expect_str_eq(vm->initrd, initrd);
	free(kernel);
	free(initrd);
	cr_expect_str_eq(vm->append, "console=ttyS0 quiet");
	cr_expect_null(vm->image);
	cr_expect_eq(vm->accel, CONFIG_ACCEL_KVM);
	cr_expect_not(vm->network_user);
	cr_expect_not(vm->autostart);
	cr_expect_eq(vm->pool_size_mib, 64);

	vm = &c->vms[3];
	cr_expect_str_eq(vm->name, "throwaway");
	cr_expect_eq(vm->label_rgb, 0xcc0000);
	cr_expect_str_eq(vm->disposable_of, "personal");
	cr_expect_eq(vm->accel, CONFIG_ACCEL_AUTO);

	cr_expect_eq(config_find_vm(c, "personal"), &c->vms[1]);
	cr_expect_null(config_find_vm(c, "nope"));
	cr_expect_null(config_find_vm(c, ""));
	config_destroy(c);
	free(path);
}

Test(config, comments_only_gives_defaults)
{
	char *path = path_in(CONFIG_TEST_DIR, "valid/empty.ini");
	struct config *c = load_ok(path);
	cr_expect_str_eq(c->path, path);
	cr_expect_eq(c->n_vms, 0);
	cr_expect_null(c->xkb_layout);
	cr_expect_eq(c->repeat_rate, 25);
	cr_expect_eq(c->repeat_delay, 600);
	expect_default_bindings(c);
	config_destroy(c);
	free(path);
}

Test(config, keys_section_replaces_defaults)
{
	char *path = path_in(CONFIG_TEST_DIR, "valid/keys.ini");
	struct config *c = load_ok(path);
	cr_expect_eq(c->n_bindings, 2);
	const struct config_binding *b = find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_x);
	cr_assert_not_null(b);
	cr_expect_str_eq(b->command, "fuzzel");
	b = find_binding(c, CONFIG_MOD_ALT, XKB_KEY_F4);
	cr_assert_not_null(b);
	cr_expect_eq(b->action, ACTION_CLOSE);
	cr_expect_null(find_binding(c, CONFIG_MOD_LOGO, XKB_KEY_Return));
	config_destroy(c);
	free(path);
}

Test(config, crlf_and_whole_palette)
{
	char *path = path_in(CONFIG_TEST_DIR, "valid/crlf-palette.ini");
	struct config *c = load_ok(path);
	static const struct {
		const char *name;
		uint32_t rgb;
	} want[] = {
		{ "a", 0x75507b },
		{ "b", 0xf57900 },
		{ "c", 0xedd400 },
		{ "d", 0x555555 },
		{ "e", 0x000000 },
		{ "f", 0xcc0000 },
		{ "0123456789-abcdefghijklmnopqrstu", 0x000001 },
	};
	cr_assert_eq(c->n_vms, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < c->n_vms; i++) {
		cr_expect_str_eq(c->vms[i].name, want[i].name);
		cr_expect_eq(c->vms[i].label_rgb, want[i].rgb, "%s: %06x", want[i].name,
			c->vms[i].label_rgb);
		cr_expect_eq(c->vms[i].line, (int)(2 * i + 1));
	}
	config_destroy(c);
	free(path);
}

Test(config, palette_is_exact)
{
	uint32_t rgb = 1;
	cr_expect(config_palette_lookup("red", &rgb));
	cr_expect_eq(rgb, 0xcc0000);
	cr_expect(config_palette_lookup("orange", &rgb));
	cr_expect_eq(rgb, 0xf57900);
	cr_expect(config_palette_lookup("yellow", &rgb));
	cr_expect_eq(rgb, 0xedd400);
	cr_expect(config_palette_lookup("green", &rgb));
	cr_expect_eq(rgb, 0x73d216);
	cr_expect(config_palette_lookup("gray", &rgb));
	cr_expect_eq(rgb, 0x555555);
	cr_expect(config_palette_lookup("blue", &rgb));
	cr_expect_eq(rgb, 0x3465a4);
	cr_expect(config_palette_lookup("purple", &rgb));
	cr_expect_eq(rgb, 0x75507b);
	cr_expect(config_palette_lookup("black", &rgb));
	cr_expect_eq(rgb, 0x000000);
	cr_expect_not(config_palette_lookup("pink", &rgb));
	cr_expect_str_eq(config_palette_name(0x3465a4), "blue");
	cr_expect_null(config_palette_name(CONFIG_HOST_FRAME_RGB));
	cr_expect_str_eq(config_action_name(ACTION_CLIPBOARD_PASTE), "clipboard-paste");
}

Test(config, builtin_defaults)
{
	struct config *c = config_create_default();
	cr_assert_not_null(c);
	cr_expect_null(c->path);
	cr_expect_eq(c->n_vms, 0);
	expect_default_bindings(c);
	config_destroy(c);
	config_destroy(NULL);
}

static const struct {
	const char *file;
	int line;
	const char *needle;
} invalid_cases[] = {
	{ "unknown-section", 5, "unknown section [display]" },
	{ "unknown-input-key", 3, "unknown key 'keyboard' in [input]" },
	{ "unknown-vm-key", 3, "unknown key 'colour' in [vm work]" },
	{ "duplicate-key", 4, "duplicate key 'label' (first at line 2)" },
	{ "duplicate-vm", 6, "duplicate VM 'work' (first at line 1)" },
	{ "duplicate-section", 5, "duplicate section [input] (first at line 1)" },
	{ "vm-name-upper", 1, "invalid VM name 'Work'" },
	{ "vm-name-long", 2, "invalid VM name 'abcdefghijklmnopqrstuvwxyz0123456'" },
	{ "vm-name-underscore", 1, "invalid VM name 'my_vm'" },
	{ "vm-no-name", 1, "[vm] needs a name" },
	{ "bad-label", 3, "label: expected red, orange" },
	{ "bad-label-hex", 2, "got '#12345g'" },
	{ "bad-label-short", 2, "got '#12345'" },
	{ "host-label", 2, "#2E3436 is reserved for host windows" },
	{ "missing-label", 1, "[vm work]: missing key 'label'" },
	{ "number-trailing", 2, "repeat-rate: expected an integer in 1..1000, got '25x'" },
	{ "number-range-low", 3, "repeat-delay: 0 is out of range 1..10000" },
	{ "number-range-high", 3, "repeat-rate: 1001 is out of range 1..1000" },
	{ "number-negative", 5, "cpus: expected an integer in 1..64, got '-1'" },
	{ "number-overflow", 5, "memory: 99999999999999999999 is out of range" },
	{ "number-empty", 5, "memory: expected an integer in 64..1048576, got nothing" },
	{ "bad-bool", 3, "allow-fullscreen: expected true or false, got 'maybe'" },
	{ "bad-type", 3, "type: expected local or qemu, got 'kvm'" },
	{ "bad-network", 5, "network: expected none, user or via:VM, got 'bridge'" },
	{ "net-via-unknown", 6, "network: no VM named 'nosuch'" },
	{ "net-via-not-service", 13, "network: 'fw' is not a service VM" },
	{ "net-cycle", 7, "network: via:b makes a cycle through 'a'" },
	{ "net-service-no-uplink", 6, "service VM 'fw' needs an uplink" },
	{ "net-bad-service", 6, "service: expected net or firewall, got 'router'" },
	{ "net-firewall-no-via", 7,
		"firewall rules apply in the service VM that 'web' goes through" },
	{ "net-bad-rule", 15, "firewall: '10.0.0.1/8' is not HOST[:PORT][/PROTO]" },
	{ "net-rule-no-allow", 15,
		"firewall: expected 'allow HOST[:PORT][/PROTO]', got 'deny 1.2.3.4'" },
	{ "net-bad-default", 15, "firewall-default: expected allow or deny, got 'reject'" },
	{ "net-via-local", 11, "'network' is only valid for type = qemu" },
	{ "bad-accel", 5, "accel: expected auto, kvm or tcg, got 'hvf'" },
	{ "key-outside-section", 2, "key 'repeat-rate' outside of a section" },
	{ "no-equals", 2, "expected 'key = value'" },
	{ "no-key", 2, "missing key before '='" },
	{ "header-unclosed", 3, "missing ']'" },
	{ "header-trailing", 1, "unexpected text after section header: 'extra'" },
	{ "qemu-no-image", 4,
		"[vm q]: type = qemu needs image, kernel + initrd, template or disposable-of" },
	{ "qemu-kernel-no-initrd", 4, "kernel needs initrd" },
	{ "qemu-initrd-no-kernel", 5, "initrd needs kernel" },
	{ "qemu-append-no-kernel", 5, "append needs kernel and initrd" },
	{ "local-qemu-key", 4, "'memory' is only valid for type = qemu" },
	{ "local-default-qemu-key", 3, "'image' is only valid for type = qemu" },
	{ "qemu-key-before-type-local", 2, "'image' is only valid for type = qemu" },
	{ "disposable-unknown", 4, "disposable-of: no VM named 'nosuch'" },
	{ "disposable-self", 4, "cannot be its own template" },
	{ "disposable-of-local", 6,
		"disposable-of: template 't' is a local VM; a qemu VM needs a qemu template" },
	{ "disposable-of-qemu-local", 8,
		"disposable-of: template 't' is a qemu VM; a local VM needs a local template" },
	{ "disposable-chain", 8, "disposable-of: template 'd1' is itself disposable" },
	{ "disposable-local-image", 6, "'image' is only valid for type = qemu" },
	{ "pool-size-not-power-of-two", 6, "pool-size: 100 MiB is not a power of two" },
	{ "disposable-with-image", 8, "remove 'image'" },
	{ "disposable-bad-name", 4, "disposable-of: invalid VM name 'Not A Name'" },
	{ "appvm-template-unknown", 4, "template: no VM named 'nosuch'" },
	{ "appvm-template-no-image", 9,
		"template: 't' is not a template (a qemu VM with its own 'image')" },
	{ "appvm-template-chain", 12, "template: 'a' is not a template" },
	{ "appvm-with-image", 9, "an AppVM boots from its template's image; remove 'image'" },
	{ "disposable-with-private", 9, "a disposable VM has no private volume; remove 'private'" },
	{ "appvm-local-private", 4, "'private' is only valid for type = qemu" },
	{ "suspend-after-unit", 5,
		"suspend-after: expected off or a duration like 90s, 15m or 2h, got '10d'" },
	{ "suspend-after-range", 5, "suspend-after: 169h is out of range 1s..7d" },
	{ "suspend-after-zero", 5, "suspend-after: 0s is out of range 1s..7d" },
	{ "suspend-after-local", 3, "'suspend-after' is only valid for type = qemu" },
	{ "binding-bad-key", 3, "unknown key name 'NoSuchKeyAtAll'" },
	{ "binding-bad-modifier", 2, "unknown modifier 'Hyper'" },
	{ "binding-double-modifier", 2, "modifier 'shift' given twice" },
	{ "binding-no-key", 2, "missing key name" },
	{ "binding-bad-action", 2, "unknown action 'launch'" },
	{ "binding-duplicate", 4, "duplicate binding (first at line 2)" },
	{ "binding-args", 2, "close takes no arguments" },
	{ "binding-exec-empty", 2, "exec: missing command" },
	{ "empty-string", 2, "xkb-layout: empty value" },
	{ "relative-path-empty", 4, "image: empty path" },
	{ "fast-start-no-template", 6,
		"fast-start: only an AppVM (template) or a disposable (disposable-of) starts from "
		"its template's booted state" },
	{ "fast-start-service", 14, "fast-start: a service VM always boots" },
	{ "fast-start-no-kernel", 10,
		"fast-start needs a kernel (VM 'a' and its template 't' have none)" },
	{ "preload-too-many", 6,
		"preload = 2 needs at least 2 VMs with disposable-of = t and fast-start = true; "
		"there is 1" },
	{ "preload-not-template", 12, "preload is only for a template" },
	{ "preload-range", 6, "preload: 9 is out of range 0..8" },
};

Test(config, invalid_files_name_file_and_line)
{
	size_t n = sizeof(invalid_cases) / sizeof(invalid_cases[0]);
	cr_assert_geq(n, 20);
	for (size_t i = 0; i < n; i++) {
		char name[128];
		snprintf(name, sizeof(name), "invalid/%s.ini", invalid_cases[i].file);
		char *path = path_in(CONFIG_TEST_DIR, name);
		cr_assert_eq(access(path, R_OK), 0, "%s is missing", path);
		expect_error(path, invalid_cases[i].line, invalid_cases[i].needle);
		free(path);
	}
}

/* Files that cannot live in the source tree are written to a temp dir. */
static char tmp_dir[64];

static void make_tmp_dir(void)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/vitrail-test-config.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp_dir));
}

static void remove_tmp_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	cr_expect_eq(system(cmd), 0);
}

static char *write_tmp(const char *name, const void *data, size_t len)
{
	char *path = path_in(tmp_dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static void expect_bytes_error(
	const char *name, const char *data, size_t len, int line, const char *needle)
{
	char *path = write_tmp(name, data, len);
	expect_error(path, line, needle);
	free(path);
}

#define BYTES(s) (s), (sizeof(s) - 1)

TestSuite(config_bytes, .init = make_tmp_dir, .fini = remove_tmp_dir);

Test(config_bytes, bad_encodings)
{
	expect_bytes_error(
		"latin1.ini", BYTES("[vm work]\n# caf\xe9\nlabel = blue\n"), 2, "invalid UTF-8");
	expect_bytes_error("overlong.ini", BYTES("[vm work]\nlabel = blue\ncommand = a\xc0\xaf\n"),
		3, "invalid UTF-8");
	expect_bytes_error("surrogate.ini", BYTES("# \xed\xa0\x80\n"), 1, "invalid UTF-8");
	expect_bytes_error("above-max.ini", BYTES("\n\n# \xf4\x90\x80\x80\n"), 3, "invalid UTF-8");
	expect_bytes_error("truncated.ini", BYTES("[input]\n# \xe2\x82"), 2, "invalid UTF-8");
	expect_bytes_error("nul.ini", BYTES("[input]\nxkb-layout = us\n# a\0b\n"), 3, "NUL byte");
	expect_bytes_error("escape.ini", BYTES("[vm w]\nlabel = blue\ncommand = a\x1b[31m\n"), 3,
		"control character 0x1b");
	expect_bytes_error(
		"lone-cr.ini", BYTES("[input]\rxkb-layout = us\n"), 1, "control character 0x0d");
}

Test(config_bytes, utf8_is_fine)
{
	char *path = write_tmp("utf8.ini",
		BYTES("# caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\xa7\n[vm w]\nlabel = blue\n"
		      "command = echo h\xc3\xa9llo\n"));
	struct config *c = load_ok(path);
	cr_assert_eq(c->n_vms, 1);
	cr_expect_str_eq(c->vms[0].command, "echo h\xc3\xa9llo");
	config_destroy(c);
	free(path);
}

Test(config_bytes, line_length_limit)
{
	/* A 4096-byte line is allowed, 4097 is not. */
	size_t len = CONFIG_MAX_LINE + 64;
	char *buf = malloc(len);
	cr_assert_not_null(buf);
	int n = snprintf(buf, len, "[input]\n");
	buf[n] = '#';
	memset(buf + n + 1, 'x', CONFIG_MAX_LINE - 1);
	buf[n + CONFIG_MAX_LINE] = '\n';
	char *path = write_tmp("4096.ini", buf, (size_t)n + CONFIG_MAX_LINE + 1);
	struct config *c = load_ok(path);
	config_destroy(c);
	free(path);

	memset(buf + n + 1, 'x', CONFIG_MAX_LINE);
	buf[n + CONFIG_MAX_LINE + 1] = '\n';
	path = write_tmp("4097.ini", buf, (size_t)n + CONFIG_MAX_LINE + 2);
	expect_error(path, 2, "line longer than 4096 bytes");
	free(path);
	free(buf);
}

Test(config_bytes, file_size_limit)
{
	size_t len = CONFIG_MAX_FILE_SIZE + 1;
	char *buf = malloc(len);
	cr_assert_not_null(buf);
	/* lines of 63 '#' and a newline */
	for (size_t i = 0; i < len; i++) {
		buf[i] = (i % 64 == 63) ? '\n' : '#';
	}
	char *path = write_tmp("1MiB.ini", buf, CONFIG_MAX_FILE_SIZE);
	struct config *c = load_ok(path);
	config_destroy(c);
	free(path);

	path = write_tmp("1MiB+1.ini", buf, len);
	expect_error(path, 0, "file is larger than 1048576 bytes");
	free(path);
	free(buf);
}

Test(config_bytes, explicit_missing_file)
{
	char *path = path_in(tmp_dir, "nope.ini");
	char *error = NULL;
	cr_expect_null(config_load(path, &error));
	cr_assert_not_null(error);
	char want[256];
	snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
	cr_expect_str_eq(error, want);
	free(error);
	free(path);

	expect_error(tmp_dir, 0, "not a regular file");
}

Test(config_bytes, default_location)
{
	cr_assert_eq(setenv("XDG_CONFIG_HOME", tmp_dir, 1), 0);
	/* no file: built-in defaults */
	char *error = NULL;
	struct config *c = config_load(NULL, &error);
	cr_assert_not_null(c, "%s", error ? error : "");
	cr_expect_null(c->path);
	cr_expect_eq(c->n_vms, 0);
	expect_default_bindings(c);
	config_destroy(c);

	char *dir = path_in(tmp_dir, "vitrail");
	cr_assert_eq(mkdir(dir, 0700), 0);
	free(dir);
	char *path = write_tmp("vitrail/vitrail.ini", BYTES("[vm dflt]\nlabel = gray\n"));
	c = load_ok(NULL);
	cr_expect_str_eq(c->path, path);
	cr_assert_eq(c->n_vms, 1);
	cr_expect_str_eq(c->vms[0].name, "dflt");
	config_destroy(c);

	/* a broken default file is an error, not a silent fallback */
	free(path);
	path = write_tmp("vitrail/vitrail.ini", BYTES("[vm dflt]\nlabel = grey\n"));
	expect_error(path, 2, "label: expected");
	c = config_load(NULL, &error);
	cr_expect_null(c);
	cr_expect_not_null(error);
	free(error);
	free(path);
}

Test(config_bytes, home_relative_paths)
{
	cr_assert_eq(setenv("HOME", "/home/tester", 1), 0);
	char *path = write_tmp("home.ini",
		BYTES("[vm q]\nlabel = blue\ntype = qemu\nimage = ~/vms/q.qcow2\n"
		      "[vm d]\nlabel = red\ntype = qemu\ndisposable-of = q\n"));
	struct config *c = load_ok(path);
	cr_assert_eq(c->n_vms, 2);
	cr_expect_str_eq(c->vms[0].image, "/home/tester/vms/q.qcow2");
	cr_expect_null(c->vms[1].image);
	cr_expect_str_eq(c->vms[1].disposable_of, "q");
	config_destroy(c);
	free(path);
}

Test(config, disposables)
{
	char *path = path_in(CONFIG_TEST_DIR, "valid/disposable.ini");
	struct config *c = load_ok(path);
	free(path);
	cr_assert_eq(c->n_vms, 7);
	const struct config_vm *vm = config_find_vm(c, "disp-kernel");
	cr_assert_not_null(vm);
	cr_expect_eq(vm->type, CONFIG_VM_QEMU);
	cr_expect_str_eq(vm->disposable_of, "kernel-only");
	cr_expect_null(vm->image);
	cr_expect_null(vm->kernel);
	vm = config_find_vm(c, "disp-disk");
	cr_assert_not_null(vm);
	cr_expect_str_eq(vm->disposable_of, "disk");
	cr_expect_null(vm->image);
	cr_expect_str_eq(vm->kernel, "/g/other-vmlinuz");
	cr_expect_str_eq(vm->initrd, "/g/other-initrd.img");
	vm = config_find_vm(c, "disp1");
	cr_assert_not_null(vm);
	cr_expect_eq(vm->type, CONFIG_VM_LOCAL);
	cr_expect_str_eq(vm->disposable_of, "tmpl");
	cr_expect_null(vm->command);
	vm = config_find_vm(c, "disp2");
	cr_assert_not_null(vm);
	cr_expect_eq(vm->type, CONFIG_VM_LOCAL);
	cr_expect_str_eq(vm->disposable_of, "tmpl");
	cr_expect_str_eq(vm->command, "weston-terminal");
	cr_expect_null(config_find_vm(c, "tmpl")->disposable_of);
	config_destroy(c);
}

Test(config, service_vms)
{
	char *path = path_in(CONFIG_TEST_DIR, "valid/service.ini");
	struct config *c = load_ok(path);
	free(path);
	const struct config_vm *net = config_find_vm(c, "net");
	const struct config_vm *fw = config_find_vm(c, "fw");
	const struct config_vm *web = config_find_vm(c, "web");
	const struct config_vm *bank = config_find_vm(c, "bank");
	cr_assert(net && fw && web && bank);
	cr_expect_eq(net->service, CONFIG_SERVICE_NET);
	cr_expect(net->network_user);
	cr_expect_null(net->network_via);
	cr_expect_eq(net->net_link, 0);
	cr_expect_eq(fw->service, CONFIG_SERVICE_FIREWALL);
	cr_expect_str_eq(fw->network_via, "net");
	cr_expect_eq(fw->net_link, 1);
	cr_expect_str_eq(web->network_via, "fw");
	cr_expect_eq(web->net_link, 2);
	cr_expect_eq(bank->net_link, 3);
	cr_expect_eq(web->service, CONFIG_SERVICE_NONE);
	cr_assert_eq(web->n_fw_rules, 3);
	cr_expect_str_eq(web->fw_rules[0], "10.0.2.2:8000/tcp");
	cr_expect_str_eq(web->fw_rules[1], "debian.org:443");
	cr_expect_str_eq(web->fw_rules[2], "192.168.0.0/16");
	cr_expect(web->fw_default_deny);
	cr_expect_eq(bank->n_fw_rules, 0);
	cr_expect_not(bank->fw_default_deny);
	config_destroy(c);
}

Test(config, example_file_parses)
{
	struct config *c = load_ok(EXAMPLE_INI);
	cr_expect_geq(c->n_vms, 2);
	const struct config_vm *work = config_find_vm(c, "work");
	cr_assert_not_null(work);
	cr_expect_eq(work->label_rgb, 0x3465a4);
	const struct config_vm *personal = config_find_vm(c, "personal");
	cr_assert_not_null(personal);
	cr_expect_eq(personal->label_rgb, 0x73d216);
	expect_default_bindings(c);
	config_destroy(c);
}

Test(config_bytes, example_file_with_every_option)
{
	/* Lines starting with "#:" are optional examples: enabled, they must parse too. */
	FILE *in = fopen(EXAMPLE_INI, "r");
	cr_assert_not_null(in);
	char *path = path_in(tmp_dir, "example-all.ini");
	FILE *out = fopen(path, "w");
	cr_assert_not_null(out);
	char line[4200];
	int enabled = 0;
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, "#:", 2) == 0) {
			fputs(line + 2, out);
			enabled++;
		} else {
			fputs(line, out);
		}
	}
	fclose(in);
	cr_assert_eq(fclose(out), 0);
	cr_expect_gt(enabled, 20);

	struct config *c = load_ok(path);
	cr_expect_str_eq(c->xkb_variant, "intl");
	cr_expect_str_eq(c->vms[0].command, "foot");
	const struct config_vm *vm = config_find_vm(c, "banking");
	cr_assert_not_null(vm);
	cr_expect_eq(vm->type, CONFIG_VM_QEMU);
	cr_expect_eq(vm->memory_mib, 1024);
	vm = config_find_vm(c, "untrusted");
	cr_assert_not_null(vm);
	cr_expect_str_eq(vm->kernel, "/var/lib/vitrail/guest/vmlinuz");
	vm = config_find_vm(c, "throwaway");
	cr_assert_not_null(vm);
	cr_expect_str_eq(vm->disposable_of, "banking");
	config_destroy(c);
	free(path);
}
