#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vitrail/common/fs.h>
#include <vitrail/common/text.h>
#include <vitrail/protocol.h>
#include <xkbcommon/xkbcommon.h>

static const struct {
	const char *name;
	uint32_t rgb;
} palette[] = {
	{ "red", 0xcc0000 },
	{ "orange", 0xf57900 },
	{ "yellow", 0xedd400 },
	{ "green", 0x73d216 },
	{ "gray", 0x555555 },
	{ "blue", 0x3465a4 },
	{ "purple", 0x75507b },
	{ "black", 0x000000 },
};

static const char *const action_names[] = {
	[ACTION_EXEC] = "exec",
	[ACTION_CLOSE] = "close",
	[ACTION_MAXIMIZE] = "maximize",
	[ACTION_CYCLE] = "cycle",
	[ACTION_EXIT] = "exit",
	[ACTION_CLIPBOARD_COPY] = "clipboard-copy",
	[ACTION_CLIPBOARD_PASTE] = "clipboard-paste",
};

static const struct {
	uint32_t modifiers;
	uint32_t keysym;
	enum config_action action;
	const char *command;
} default_bindings[] = {
	{ CONFIG_MOD_LOGO, XKB_KEY_Return, ACTION_EXEC, "foot" },
	/* a launcher and a screen lock, when installed (Debian: fuzzel or
	 * wofi; swaylock) */
	{ CONFIG_MOD_LOGO, XKB_KEY_d, ACTION_EXEC,
		"command -v fuzzel >/dev/null && exec fuzzel || exec wofi --show drun" },
	{ CONFIG_MOD_LOGO, XKB_KEY_l, ACTION_EXEC,
		"command -v swaylock >/dev/null && exec swaylock -f -c 1e1e1e" },
	{ CONFIG_MOD_LOGO, XKB_KEY_q, ACTION_CLOSE, NULL },
	{ CONFIG_MOD_LOGO, XKB_KEY_m, ACTION_MAXIMIZE, NULL },
	{ CONFIG_MOD_ALT, XKB_KEY_Tab, ACTION_CYCLE, NULL },
	{ CONFIG_MOD_LOGO | CONFIG_MOD_SHIFT, XKB_KEY_e, ACTION_EXIT, NULL },
	/* Super: the host's modifier; Ctrl+Shift+C/V are terminals' own keys */
	{ CONFIG_MOD_LOGO, XKB_KEY_c, ACTION_CLIPBOARD_COPY, NULL },
	{ CONFIG_MOD_LOGO, XKB_KEY_v, ACTION_CLIPBOARD_PASTE, NULL },
};

static const struct {
	const char *name;
	uint32_t bit;
} modifier_names[] = {
	{ "super", CONFIG_MOD_LOGO },
	{ "logo", CONFIG_MOD_LOGO },
	{ "mod4", CONFIG_MOD_LOGO },
	{ "ctrl", CONFIG_MOD_CTRL },
	{ "control", CONFIG_MOD_CTRL },
	{ "alt", CONFIG_MOD_ALT },
	{ "mod1", CONFIG_MOD_ALT },
	{ "shift", CONFIG_MOD_SHIFT },
};

enum input_key {
	IK_XKB_RULES,
	IK_XKB_MODEL,
	IK_XKB_LAYOUT,
	IK_XKB_VARIANT,
	IK_XKB_OPTIONS,
	IK_REPEAT_RATE,
	IK_REPEAT_DELAY,
	IK_COUNT,
};

static const char *const input_key_names[IK_COUNT] = {
	[IK_XKB_RULES] = "xkb-rules",
	[IK_XKB_MODEL] = "xkb-model",
	[IK_XKB_LAYOUT] = "xkb-layout",
	[IK_XKB_VARIANT] = "xkb-variant",
	[IK_XKB_OPTIONS] = "xkb-options",
	[IK_REPEAT_RATE] = "repeat-rate",
	[IK_REPEAT_DELAY] = "repeat-delay",
};

enum vm_key {
	VK_LABEL,
	VK_ALLOW_FULLSCREEN,
	VK_TYPE,
	VK_COMMAND,
	VK_POOL_SIZE,
	VK_AUTOSTART,
	VK_DISPOSABLE_OF,
	VK_RESUME_ON_INPUT,
	VK_IDLE_INHIBIT,
	/* qemu only from here */
	VK_FIRST_QEMU,
	VK_IMAGE = VK_FIRST_QEMU,
	VK_KERNEL,
	VK_INITRD,
	VK_APPEND,
	VK_MEMORY,
	VK_CPUS,
	VK_NETWORK,
	VK_ACCEL,
	VK_TEMPLATE,
	VK_PRIVATE,
	VK_SERVICE,
	VK_FIREWALL,
	VK_FIREWALL_DEFAULT,
	VK_SUSPEND_AFTER,
	VK_FAST_START,
	VK_PRELOAD,
	VK_COUNT,
};

static const char *const vm_key_names[VK_COUNT] = {
	[VK_LABEL] = "label",
	[VK_ALLOW_FULLSCREEN] = "allow-fullscreen",
	[VK_TYPE] = "type",
	[VK_COMMAND] = "command",
	[VK_POOL_SIZE] = "pool-size",
	[VK_AUTOSTART] = "autostart",
	[VK_IMAGE] = "image",
	[VK_KERNEL] = "kernel",
	[VK_INITRD] = "initrd",
	[VK_APPEND] = "append",
	[VK_MEMORY] = "memory",
	[VK_CPUS] = "cpus",
	[VK_NETWORK] = "network",
	[VK_ACCEL] = "accel",
	[VK_DISPOSABLE_OF] = "disposable-of",
	[VK_RESUME_ON_INPUT] = "resume-on-input",
	[VK_IDLE_INHIBIT] = "idle-inhibit",
	[VK_TEMPLATE] = "template",
	[VK_PRIVATE] = "private",
	[VK_SERVICE] = "service",
	[VK_FIREWALL] = "firewall",
	[VK_FIREWALL_DEFAULT] = "firewall-default",
	[VK_SUSPEND_AFTER] = "suspend-after",
	[VK_FAST_START] = "fast-start",
	[VK_PRELOAD] = "preload",
};

enum section {
	SECTION_NONE,
	SECTION_INPUT,
	SECTION_KEYS,
	SECTION_VM,
	SECTION_CLIPBOARD,
	SECTION_OPEN,
	SECTION_OUTPUT,
};

/* Where each key of a VM section was set (0: not set). */
struct vm_lines {
	int key[VK_COUNT];
};

struct parser {
	const char *file; /* as shown in messages */
	char *dir; /* directory of the file, for relative paths */
	struct config *config;
	char *error;
	int line;
	enum section section;
	int input_line, keys_line; /* header lines, 0 if not seen */
	int input_keys[IK_COUNT];
	int *binding_lines; /* parallel to config->bindings */
	struct vm_lines *vm_lines; /* parallel to config->vms */
	size_t cap_vms, cap_bindings;
	int clipboard_line, clipboard_max_bytes_line; /* 0 if not seen */
	size_t cap_clipboard_rules;
	int open_max_file_bytes_line; /* 0 if not seen */
	size_t cap_open_rules;
	size_t cap_outputs;
};

/* Record an error at a line (0: about the whole file). Always false. */
__attribute__((format(printf, 3, 4))) static bool fail_at(
	struct parser *p, int line, const char *fmt, ...)
{
	if (p->error != NULL) {
		return false;
	}
	va_list args;
	va_start(args, fmt);
	char *msg = text_vprintf(fmt, args);
	va_end(args);
	if (line > 0) {
		p->error = text_printf("%s:%d: %s", p->file, line, msg ? msg : "out of memory");
	} else {
		p->error = text_printf("%s: %s", p->file, msg ? msg : "out of memory");
	}
	free(msg);
	if (p->error == NULL) {
		p->error = strdup("out of memory");
	}
	return false;
}

#define fail(p, ...) fail_at((p), (p)->line, __VA_ARGS__)

const char *config_action_name(enum config_action action)
{
	if ((size_t)action < sizeof(action_names) / sizeof(action_names[0])) {
		return action_names[action];
	}
	return "unknown";
}

bool config_palette_lookup(const char *name, uint32_t *rgb)
{
	for (size_t i = 0; i < sizeof(palette) / sizeof(palette[0]); i++) {
		if (strcasecmp(name, palette[i].name) == 0) {
			*rgb = palette[i].rgb;
			return true;
		}
	}
	return false;
}

const char *config_palette_name(uint32_t rgb)
{
	for (size_t i = 0; i < sizeof(palette) / sizeof(palette[0]); i++) {
		if (palette[i].rgb == rgb) {
			return palette[i].name;
		}
	}
	return NULL;
}

/* The VM name rule is the protocol's: [a-z0-9-], 1..32. */
_Static_assert(CONFIG_VM_NAME_MAX == 32, "VM names are 1..32 bytes");

/* Check a line's bytes: UTF-8, no control characters but tab. */
static bool check_line_bytes(struct parser *p, const char *line, size_t len)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i = 0;
	while (i < len) {
		if (s[i] == '\0') {
			return fail(p, "NUL byte");
		}
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
			return fail(p, "control character 0x%02x", s[i]);
		}
		uint32_t cp;
		size_t n = vtp_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			return fail(p, "invalid UTF-8");
		}
		i += n;
	}
	return true;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	size_t len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
		s[--len] = '\0';
	}
	return s;
}

static bool parse_fw_rules(struct parser *p, const char *value, struct config_vm *vm);

/*
 * Cut an inline comment: a '#' or ';' that follows a space or tab. At the
 * start of a value it only starts a comment when a space, a tab or nothing
 * follows it, so "label = #3465a4" works.
 */
static void cut_inline_comment(char *s)
{
	if (s[0] == '\0') {
		return; /* an empty value: nothing after it to look at */
	}
	if ((s[0] == '#' || s[0] == ';') && (s[1] == '\0' || s[1] == ' ' || s[1] == '\t')) {
		s[0] = '\0';
		return;
	}
	for (size_t i = 1; s[i] != '\0'; i++) {
		if ((s[i] == '#' || s[i] == ';') && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
			s[i] = '\0';
			return;
		}
	}
}

static bool parse_u32(struct parser *p, const char *key, const char *value, uint32_t min,
	uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (*value == '\0') {
		return fail(p, "%s: expected an integer in %u..%u, got nothing", key, min, max);
	}
	for (const char *c = value; *c != '\0'; c++) {
		if (*c < '0' || *c > '9') {
			return fail(p, "%s: expected an integer in %u..%u, got '%s'", key, min, max,
				value);
		}
		v = v * 10 + (uint64_t)(*c - '0');
		if (v > UINT32_MAX) {
			break;
		}
	}
	if (v < min || v > max) {
		return fail(p, "%s: %s is out of range %u..%u", key, value, min, max);
	}
	*out = (uint32_t)v;
	return true;
}

/* "off", or N followed by s, m or h (no unit: seconds), 1 s .. 7 days. */
static bool parse_duration(struct parser *p, const char *key, const char *value, uint32_t *out_s)
{
	if (strcmp(value, "off") == 0) {
		*out_s = 0;
		return true;
	}
	uint64_t v = 0;
	const char *c = value;
	for (; *c >= '0' && *c <= '9' && v <= UINT32_MAX; c++) {
		v = v * 10 + (uint64_t)(*c - '0');
	}
	uint64_t unit = 0;
	if (c == value) {
		unit = 0;
	} else if (strcmp(c, "") == 0 || strcmp(c, "s") == 0) {
		unit = 1;
	} else if (strcmp(c, "m") == 0) {
		unit = 60;
	} else if (strcmp(c, "h") == 0) {
		unit = 3600;
	}
	if (unit == 0) {
		return fail(p, "%s: expected off or a duration like 90s, 15m or 2h, got '%s'", key,
			value);
	}
	v *= unit;
	if (v < 1 || v > CONFIG_SUSPEND_AFTER_MAX_S) {
		return fail(p, "%s: %s is out of range 1s..7d", key, value);
	}
	*out_s = (uint32_t)v;
	return true;
}

static bool parse_bool(struct parser *p, const char *key, const char *value, bool *out)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "on") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "off") == 0) {
		*out = false;
		return true;
	}
	return fail(p, "%s: expected true or false, got '%s'", key, value);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

static bool parse_label(struct parser *p, const char *value, uint32_t *out)
{
	if (config_palette_lookup(value, out)) {
		return true;
	}
	if (value[0] == '#' && strlen(value) == 7) {
		uint32_t rgb = 0;
		for (int i = 1; i < 7; i++) {
			int d = hex_digit(value[i]);
			if (d < 0) {
				goto bad;
			}
			rgb = (rgb << 4) | (uint32_t)d;
		}
		if (rgb == CONFIG_HOST_FRAME_RGB) {
			return fail(p, "label: %s is reserved for host windows", value);
		}
		*out = rgb;
		return true;
	}
bad:
	return fail(p,
		"label: expected red, orange, yellow, green, gray, blue, purple, black or "
		"#rrggbb, got '%s'",
		value);
}

static bool parse_string(struct parser *p, const char *key, const char *value, char **out)
{
	if (*value == '\0') {
		return fail(p, "%s: empty value", key);
	}
	char *s = strdup(value);
	if (s == NULL) {
		return fail(p, "out of memory");
	}
	free(*out);
	*out = s;
	return true;
}

/* A path: absolute, "~/..." (from $HOME) or relative to the file's directory. */
static bool parse_path(struct parser *p, const char *key, const char *value, char **out)
{
	if (*value == '\0') {
		return fail(p, "%s: empty path", key);
	}
	char *s;
	if (value[0] == '/') {
		s = strdup(value);
	} else if (value[0] == '~' && value[1] == '/') {
		const char *home = getenv("HOME");
		if (home == NULL || home[0] == '\0') {
			return fail(p, "%s: '~/' used but HOME is not set", key);
		}
		s = text_printf("%s/%s", home, value + 2);
	} else {
		s = text_printf("%s/%s", p->dir, value);
	}
	if (s == NULL) {
		return fail(p, "out of memory");
	}
	free(*out);
	*out = s;
	return true;
}

/* ---- [output NAME] ---- */

static const char *const output_key_names[CONFIG_OUTPUT_KEY_COUNT] = {
	[CONFIG_OUTPUT_MODE] = "mode",
	[CONFIG_OUTPUT_POSITION] = "position",
	[CONFIG_OUTPUT_SCALE] = "scale",
	[CONFIG_OUTPUT_TRANSFORM] = "transform",
	[CONFIG_OUTPUT_ENABLED] = "enabled",
};

static const char *const transform_names[8] = { "normal", "90", "180", "270", "flipped",
	"flipped-90", "flipped-180", "flipped-270" };

static bool valid_output_name(const char *name)
{
	size_t n = strlen(name);
	if (strcmp(name, "*") == 0) {
		return true;
	}
	if (n == 0 || n > CONFIG_OUTPUT_NAME_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_' || c == '.')) {
			return false;
		}
	}
	return true;
}

static bool start_output(struct parser *p, const char *name)
{
	struct config *c = p->config;
	if (!valid_output_name(name)) {
		return fail(p,
			"invalid output name '%s' (a connector name such as HDMI-A-1: letters, "
			"digits, '-', '_', '.', 1 to %d characters; or '*')",
			name, CONFIG_OUTPUT_NAME_MAX);
	}
	for (size_t i = 0; i < c->n_outputs; i++) {
		if (strcmp(c->outputs[i].name, name) == 0) {
			return fail(p, "duplicate section [output %s] (first at line %d)", name,
				c->outputs[i].line);
		}
	}
	if (c->n_outputs == p->cap_outputs) {
		size_t cap = p->cap_outputs ? p->cap_outputs * 2 : 4;
		struct config_output *outputs = realloc(c->outputs, cap * sizeof(*outputs));
		if (outputs == NULL) {
			return fail(p, "out of memory");
		}
		c->outputs = outputs;
		p->cap_outputs = cap;
	}
	struct config_output *o = &c->outputs[c->n_outputs++];
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->line = p->line;
	o->transform = -1;
	p->section = SECTION_OUTPUT;
	return true;
}

/* A decimal number with at most 3 decimals, as thousandths. */
static bool parse_milli(const char *s, long max_milli, long *out)
{
	long whole = 0, frac = 0;
	int digits = 0, frac_digits = 0;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		whole = whole * 10 + (*s - '0');
		if (whole > max_milli / 1000) {
			return false;
		}
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, frac_digits++) {
			if (frac_digits == 3) {
				return false;
			}
			frac = frac * 10 + (*s - '0');
		}
		if (frac_digits == 0) {
			return false;
		}
	}
	for (int i = frac_digits; i < 3; i++) {
		frac *= 10;
	}
	if (*s != '\0' || digits == 0) {
		return false;
	}
	*out = whole * 1000 + frac;
	return *out <= max_milli;
}

static bool parse_output_key(struct parser *p, const char *key, char *value)
{
	struct config_output *o = &p->config->outputs[p->config->n_outputs - 1];
	int k;
	for (k = 0; k < CONFIG_OUTPUT_KEY_COUNT; k++) {
		if (strcmp(key, output_key_names[k]) == 0) {
			break;
		}
	}
	if (k == CONFIG_OUTPUT_KEY_COUNT) {
		return fail(p,
			"unknown key '%s' in [output %s] (use mode, position, scale, transform "
			"or enabled)",
			key, o->name);
	}
	if (o->key_lines[k] != 0) {
		return fail(p, "duplicate key '%s' (first at line %d)", key, o->key_lines[k]);
	}
	o->key_lines[k] = p->line;
	switch ((enum config_output_key)k) {
	case CONFIG_OUTPUT_MODE: {
		char *at = strchr(value, '@');
		long hz = 0;
		if (at != NULL) {
			*at = '\0';
			if (!parse_milli(at + 1, 1000000, &hz) || hz < 1000) {
				return fail(
					p, "mode: bad refresh rate '%s' (Hz, 1 to 1000)", at + 1);
			}
		}
		int w = 0, h = 0, n = 0;
		if (sscanf(value, "%5dx%5d%n", &w, &h, &n) != 2 || value[n] != '\0' || w < 1 ||
			h < 1 || w > 16384 || h > 16384) {
			return fail(p, "mode: expected WIDTHxHEIGHT[@HZ] (1 to 16384), got '%s'",
				value);
		}
		o->width = w;
		o->height = h;
		o->refresh_mhz = (int)hz;
		return true;
	}
	case CONFIG_OUTPUT_POSITION: {
		int x = 0, y = 0, n = 0;
		if (sscanf(value, "%6d,%6d%n", &x, &y, &n) != 2 || value[n] != '\0' || x < -32768 ||
			y < -32768 || x > 32767 || y > 32767) {
			return fail(p, "position: expected X,Y (-32768 to 32767), got '%s'", value);
		}
		o->x = x;
		o->y = y;
		return true;
	}
	case CONFIG_OUTPUT_SCALE: {
		long milli = 0;
		if (!parse_milli(value, 4000, &milli) || milli < 500) {
			return fail(p,
				"scale: expected a number from 0.5 to 4 (up to 3 decimals), "
				"got '%s'",
				value);
		}
		o->scale = (float)milli / 1000.0f;
		return true;
	}
	case CONFIG_OUTPUT_TRANSFORM:
		for (int t = 0; t < 8; t++) {
			if (strcmp(value, transform_names[t]) == 0) {
				o->transform = t;
				return true;
			}
		}
		return fail(p,
			"transform: expected normal, 90, 180, 270, flipped, flipped-90, "
			"flipped-180 or flipped-270, got '%s'",
			value);
	case CONFIG_OUTPUT_ENABLED:
		return parse_bool(p, key, value, &o->enabled);
	case CONFIG_OUTPUT_KEY_COUNT:
		break;
	}
	return false;
}

const struct config_output *config_find_output(const struct config *config, const char *name)
{
	const struct config_output *any = NULL;
	for (size_t i = 0; i < config->n_outputs; i++) {
		if (strcmp(config->outputs[i].name, name) == 0) {
			return &config->outputs[i];
		}
		if (strcmp(config->outputs[i].name, "*") == 0) {
			any = &config->outputs[i];
		}
	}
	return any;
}

static bool parse_section_header(struct parser *p, char *line)
{
	/* line starts with '[' */
	char *end = strchr(line, ']');
	if (end == NULL) {
		return fail(p, "missing ']' in section header");
	}
	*end = '\0';
	char *rest = trim(end + 1);
	if (*rest != '\0' && *rest != '#' && *rest != ';') {
		return fail(p, "unexpected text after section header: '%s'", rest);
	}
	char *inner = trim(line + 1);

	if (strcmp(inner, "input") == 0) {
		if (p->input_line != 0) {
			return fail(
				p, "duplicate section [input] (first at line %d)", p->input_line);
		}
		p->input_line = p->line;
		p->section = SECTION_INPUT;
		return true;
	}
	if (strcmp(inner, "keys") == 0) {
		if (p->keys_line != 0) {
			return fail(p, "duplicate section [keys] (first at line %d)", p->keys_line);
		}
		p->keys_line = p->line;
		p->section = SECTION_KEYS;
		return true;
	}
	if (strcmp(inner, "open") == 0) {
		if (p->config->open_line != 0) {
			return fail(p, "duplicate section [open] (first at line %d)",
				p->config->open_line);
		}
		p->config->open_line = p->line;
		p->section = SECTION_OPEN;
		return true;
	}
	if (strcmp(inner, "clipboard") == 0) {
		if (p->clipboard_line != 0) {
			return fail(p, "duplicate section [clipboard] (first at line %d)",
				p->clipboard_line);
		}
		p->clipboard_line = p->line;
		p->section = SECTION_CLIPBOARD;
		return true;
	}
	if (strncmp(inner, "vm", 2) == 0 && (inner[2] == ' ' || inner[2] == '\t')) {
		char *name = trim(inner + 2);
		if (!vtp_valid_vm_name(name)) {
			return fail(p,
				"invalid VM name '%s' (use a-z, 0-9 and '-', 1 to %d characters)",
				name, CONFIG_VM_NAME_MAX);
		}
		struct config *c = p->config;
		for (size_t i = 0; i < c->n_vms; i++) {
			if (strcmp(c->vms[i].name, name) == 0) {
				return fail(p, "duplicate VM '%s' (first at line %d)", name,
					c->vms[i].line);
			}
		}
		if (c->n_vms == p->cap_vms) {
			size_t cap = p->cap_vms ? p->cap_vms * 2 : 8;
			struct config_vm *vms = realloc(c->vms, cap * sizeof(*vms));
			if (vms == NULL) {
				return fail(p, "out of memory");
			}
			c->vms = vms;
			struct vm_lines *lines = realloc(p->vm_lines, cap * sizeof(*lines));
			if (lines == NULL) {
				return fail(p, "out of memory");
			}
			p->vm_lines = lines;
			p->cap_vms = cap;
		}
		struct config_vm *vm = &c->vms[c->n_vms];
		memset(vm, 0, sizeof(*vm));
		memset(&p->vm_lines[c->n_vms], 0, sizeof(p->vm_lines[0]));
		c->n_vms++;
		strcpy(vm->name, name);
		vm->type = CONFIG_VM_LOCAL;
		vm->memory_mib = CONFIG_DEFAULT_MEMORY_MIB;
		vm->cpus = CONFIG_DEFAULT_CPUS;
		vm->pool_size_mib = CONFIG_DEFAULT_POOL_SIZE_MIB;
		vm->accel = CONFIG_ACCEL_AUTO;
		vm->resume_on_input = true;
		vm->line = p->line;
		p->section = SECTION_VM;
		return true;
	}
	if (strcmp(inner, "vm") == 0) {
		return fail(p, "section [vm] needs a name: [vm NAME]");
	}
	if (strncmp(inner, "output", 6) == 0 && (inner[6] == ' ' || inner[6] == '\t')) {
		return start_output(p, trim(inner + 6));
	}
	if (strcmp(inner, "output") == 0) {
		return fail(p, "section [output] needs a name: [output NAME] or [output *]");
	}
	return fail(p, "unknown section [%s]", inner);
}

static bool parse_input_key(struct parser *p, const char *key, const char *value)
{
	struct config *c = p->config;
	int k;
	for (k = 0; k < IK_COUNT; k++) {
		if (strcmp(key, input_key_names[k]) == 0) {
			break;
		}
	}
	if (k == IK_COUNT) {
		return fail(p, "unknown key '%s' in [input]", key);
	}
	if (p->input_keys[k] != 0) {
		return fail(p, "duplicate key '%s' (first at line %d)", key, p->input_keys[k]);
	}
	p->input_keys[k] = p->line;

	uint32_t n;
	switch ((enum input_key)k) {
	case IK_XKB_RULES:
		return parse_string(p, key, value, &c->xkb_rules);
	case IK_XKB_MODEL:
		return parse_string(p, key, value, &c->xkb_model);
	case IK_XKB_LAYOUT:
		return parse_string(p, key, value, &c->xkb_layout);
	case IK_XKB_VARIANT:
		return parse_string(p, key, value, &c->xkb_variant);
	case IK_XKB_OPTIONS:
		return parse_string(p, key, value, &c->xkb_options);
	case IK_REPEAT_RATE:
		if (!parse_u32(p, key, value, 1, 1000, &n)) {
			return false;
		}
		c->repeat_rate = (int32_t)n;
		return true;
	case IK_REPEAT_DELAY:
		if (!parse_u32(p, key, value, 1, 10000, &n)) {
			return false;
		}
		c->repeat_delay = (int32_t)n;
		return true;
	case IK_COUNT:
		break;
	}
	return false;
}

static bool parse_key_combo(struct parser *p, char *combo, uint32_t *modifiers, uint32_t *keysym)
{
	uint32_t mods = 0;
	char *part = combo;
	for (;;) {
		char *plus = strchr(part, '+');
		if (plus == NULL) {
			break;
		}
		*plus = '\0';
		char *name = trim(part);
		size_t i;
		for (i = 0; i < sizeof(modifier_names) / sizeof(modifier_names[0]); i++) {
			if (strcasecmp(name, modifier_names[i].name) == 0) {
				break;
			}
		}
		if (i == sizeof(modifier_names) / sizeof(modifier_names[0])) {
			return fail(
				p, "unknown modifier '%s' (use Super, Ctrl, Alt or Shift)", name);
		}
		if (mods & modifier_names[i].bit) {
			return fail(p, "modifier '%s' given twice", name);
		}
		mods |= modifier_names[i].bit;
		part = plus + 1;
	}
	char *key = trim(part);
	if (*key == '\0') {
		return fail(p, "missing key name after the modifiers");
	}
	xkb_keysym_t sym = xkb_keysym_from_name(key, XKB_KEYSYM_CASE_INSENSITIVE);
	if (sym == XKB_KEY_NoSymbol) {
		return fail(p, "unknown key name '%s'", key);
	}
	*modifiers = mods;
	*keysym = xkb_keysym_to_lower(sym);
	return true;
}

static bool add_binding(struct parser *p, uint32_t modifiers, uint32_t keysym,
	enum config_action action, const char *command)
{
	struct config *c = p->config;
	if (c->n_bindings == p->cap_bindings) {
		size_t cap = p->cap_bindings ? p->cap_bindings * 2 : 16;
		struct config_binding *b = realloc(c->bindings, cap * sizeof(*b));
		if (b == NULL) {
			return fail(p, "out of memory");
		}
		c->bindings = b;
		int *lines = realloc(p->binding_lines, cap * sizeof(*lines));
		if (lines == NULL) {
			return fail(p, "out of memory");
		}
		p->binding_lines = lines;
		p->cap_bindings = cap;
	}
	char *cmd = NULL;
	if (command != NULL && (cmd = strdup(command)) == NULL) {
		return fail(p, "out of memory");
	}
	c->bindings[c->n_bindings] = (struct config_binding){
		.modifiers = modifiers,
		.keysym = keysym,
		.action = action,
		.command = cmd,
	};
	p->binding_lines[c->n_bindings] = p->line;
	c->n_bindings++;
	return true;
}

static bool parse_binding(struct parser *p, char *combo, char *value)
{
	uint32_t modifiers = 0, keysym = 0;
	if (!parse_key_combo(p, combo, &modifiers, &keysym)) {
		return false;
	}
	struct config *c = p->config;
	for (size_t i = 0; i < c->n_bindings; i++) {
		if (c->bindings[i].modifiers == modifiers && c->bindings[i].keysym == keysym) {
			return fail(p, "duplicate binding (first at line %d)", p->binding_lines[i]);
		}
	}

	char *args = value;
	while (*args != '\0' && *args != ' ' && *args != '\t') {
		args++;
	}
	if (*args != '\0') {
		*args++ = '\0';
		args = trim(args);
	}
	const char *action = value;
	if (*action == '\0') {
		return fail(p, "missing action");
	}
	for (size_t a = 0; a < sizeof(action_names) / sizeof(action_names[0]); a++) {
		if (strcmp(action, action_names[a]) != 0) {
			continue;
		}
		if (a == ACTION_EXEC) {
			if (*args == '\0') {
				return fail(p, "exec: missing command");
			}
			return add_binding(p, modifiers, keysym, ACTION_EXEC, args);
		}
		if (*args != '\0') {
			return fail(p, "%s takes no arguments", action);
		}
		return add_binding(p, modifiers, keysym, (enum config_action)a, NULL);
	}
	return fail(p,
		"unknown action '%s' (use exec, close, maximize, cycle, exit, clipboard-copy or "
		"clipboard-paste)",
		action);
}

static bool parse_vm_key(struct parser *p, const char *key, const char *value)
{
	struct config *c = p->config;
	struct config_vm *vm = &c->vms[c->n_vms - 1];
	struct vm_lines *lines = &p->vm_lines[c->n_vms - 1];
	int k;
	for (k = 0; k < VK_COUNT; k++) {
		if (strcmp(key, vm_key_names[k]) == 0) {
			break;
		}
	}
	if (k == VK_COUNT) {
		return fail(p, "unknown key '%s' in [vm %s]", key, vm->name);
	}
	if (lines->key[k] != 0) {
		return fail(p, "duplicate key '%s' (first at line %d)", key, lines->key[k]);
	}
	lines->key[k] = p->line;

	switch ((enum vm_key)k) {
	case VK_LABEL:
		return parse_label(p, value, &vm->label_rgb);
	case VK_ALLOW_FULLSCREEN:
		return parse_bool(p, key, value, &vm->allow_fullscreen);
	case VK_TYPE:
		if (strcmp(value, "local") == 0) {
			vm->type = CONFIG_VM_LOCAL;
		} else if (strcmp(value, "qemu") == 0) {
			vm->type = CONFIG_VM_QEMU;
		} else {
			return fail(p, "type: expected local or qemu, got '%s'", value);
		}
		return true;
	case VK_COMMAND:
		return parse_string(p, key, value, &vm->command);
	case VK_POOL_SIZE:
		/* MiB; the pool must stay below VTP_MAX_POOL_SIZE (4 GiB) */
		return parse_u32(p, key, value, 8, 4095, &vm->pool_size_mib);
	case VK_AUTOSTART:
		return parse_bool(p, key, value, &vm->autostart);
	case VK_RESUME_ON_INPUT:
		return parse_bool(p, key, value, &vm->resume_on_input);
	case VK_IDLE_INHIBIT:
		return parse_bool(p, key, value, &vm->idle_inhibit);
	case VK_FAST_START:
		return parse_bool(p, key, value, &vm->fast_start);
	case VK_PRELOAD:
		return parse_u32(p, key, value, 0, CONFIG_PRELOAD_MAX, &vm->preload);
	case VK_IMAGE:
		return parse_path(p, key, value, &vm->image);
	case VK_KERNEL:
		return parse_path(p, key, value, &vm->kernel);
	case VK_INITRD:
		return parse_path(p, key, value, &vm->initrd);
	case VK_APPEND:
		return parse_string(p, key, value, &vm->append);
	case VK_MEMORY:
		return parse_u32(p, key, value, 64, 1048576, &vm->memory_mib);
	case VK_CPUS:
		return parse_u32(p, key, value, 1, 64, &vm->cpus);
	case VK_NETWORK:
		if (strcmp(value, "none") == 0) {
			vm->network_user = false;
		} else if (strcmp(value, "user") == 0) {
			vm->network_user = true;
		} else if (strncmp(value, "via:", 4) == 0 && vtp_valid_vm_name(value + 4)) {
			return parse_string(p, key, value + 4, &vm->network_via);
		} else {
			return fail(p, "network: expected none, user or via:VM, got '%s'", value);
		}
		return true;
	case VK_SERVICE:
		if (strcmp(value, "net") == 0) {
			vm->service = CONFIG_SERVICE_NET;
		} else if (strcmp(value, "firewall") == 0) {
			vm->service = CONFIG_SERVICE_FIREWALL;
		} else {
			return fail(p, "service: expected net or firewall, got '%s'", value);
		}
		return true;
	case VK_FIREWALL:
		return parse_fw_rules(p, value, vm);
	case VK_FIREWALL_DEFAULT:
		if (strcmp(value, "allow") == 0 || strcmp(value, "deny") == 0) {
			vm->fw_default_deny = value[0] == 'd';
			return true;
		}
		return fail(p, "firewall-default: expected allow or deny, got '%s'", value);
	case VK_ACCEL:
		if (strcmp(value, "auto") == 0) {
			vm->accel = CONFIG_ACCEL_AUTO;
		} else if (strcmp(value, "kvm") == 0) {
			vm->accel = CONFIG_ACCEL_KVM;
		} else if (strcmp(value, "tcg") == 0) {
			vm->accel = CONFIG_ACCEL_TCG;
		} else {
			return fail(p, "accel: expected auto, kvm or tcg, got '%s'", value);
		}
		return true;
	case VK_DISPOSABLE_OF:
		if (!vtp_valid_vm_name(value)) {
			return fail(p, "disposable-of: invalid VM name '%s'", value);
		}
		return parse_string(p, key, value, &vm->disposable_of);
	case VK_TEMPLATE:
		if (!vtp_valid_vm_name(value)) {
			return fail(p, "template: invalid VM name '%s'", value);
		}
		return parse_string(p, key, value, &vm->template_of);
	case VK_PRIVATE:
		return parse_path(p, key, value, &vm->private_image);
	case VK_SUSPEND_AFTER:
		return parse_duration(p, key, value, &vm->suspend_after_s);
	case VK_COUNT:
		break;
	}
	return false;
}

/* firewall = allow SPEC, allow SPEC, ... (or "none"): at most
 * VTP_MAX_FW_RULES, each checked by the protocol's one rule. */
static bool parse_fw_rules(struct parser *p, const char *value, struct config_vm *vm)
{
	if (strcmp(value, "none") == 0) {
		return true;
	}
	char *copy = strdup(value);
	vm->fw_rules = calloc(VTP_MAX_FW_RULES, sizeof(*vm->fw_rules));
	if (copy == NULL || vm->fw_rules == NULL) {
		free(copy);
		return fail(p, "out of memory");
	}
	bool ok = true;
	char *save = NULL;
	for (char *item = strtok_r(copy, ",", &save); ok && item != NULL;
		item = strtok_r(NULL, ",", &save)) {
		item = trim(item);
		if (strncmp(item, "allow ", 6) != 0) {
			ok = fail(p, "firewall: expected 'allow HOST[:PORT][/PROTO]', got '%s'",
				item);
			break;
		}
		const char *spec = trim(item + 6);
		if (!vtp_fw_rule_parse(spec, strlen(spec), NULL)) {
			ok = fail(p,
				"firewall: '%s' is not HOST[:PORT][/PROTO] (HOST an IPv4 address, "
				"ADDRESS/PREFIX or a lower-case host name; PROTO tcp or udp)",
				spec);
		} else if (vm->n_fw_rules == VTP_MAX_FW_RULES) {
			ok = fail(p, "firewall: more than %u rules", VTP_MAX_FW_RULES);
		} else if ((vm->fw_rules[vm->n_fw_rules] = strdup(spec)) == NULL) {
			ok = fail(p, "out of memory");
		} else {
			vm->n_fw_rules++;
		}
	}
	free(copy);
	return ok;
}

/* Checks of one [vm] section that need all its keys. */
static bool finish_vm(struct parser *p, size_t index)
{
	struct config_vm *vm = &p->config->vms[index];
	const struct vm_lines *lines = &p->vm_lines[index];
	vm->image_line = lines->key[VK_IMAGE];
	vm->kernel_line = lines->key[VK_KERNEL];
	vm->initrd_line = lines->key[VK_INITRD];
	vm->private_line = lines->key[VK_PRIVATE];
	vm->command_line = lines->key[VK_COMMAND];
	if (lines->key[VK_LABEL] == 0) {
		return fail_at(p, vm->line, "[vm %s]: missing key 'label'", vm->name);
	}
	if (vm->type == CONFIG_VM_LOCAL) {
		for (int k = VK_FIRST_QEMU; k < VK_COUNT; k++) {
			if (lines->key[k] != 0) {
				return fail_at(p, lines->key[k],
					"'%s' is only valid for type = qemu (VM '%s' is local)",
					vm_key_names[k], vm->name);
			}
		}
		return true;
	}

	if (vm->kernel != NULL && vm->initrd == NULL) {
		return fail_at(p, lines->key[VK_KERNEL], "kernel needs initrd");
	}
	if (vm->initrd != NULL && vm->kernel == NULL) {
		return fail_at(p, lines->key[VK_INITRD], "initrd needs kernel");
	}
	if (vm->append != NULL && vm->kernel == NULL) {
		return fail_at(p, lines->key[VK_APPEND], "append needs kernel and initrd");
	}
	if (vm->disposable_of != NULL && vm->image != NULL) {
		return fail_at(p, lines->key[VK_IMAGE],
			"a disposable VM boots from its template's image; remove 'image'");
	}
	if (vm->template_of != NULL && vm->image != NULL) {
		return fail_at(p, lines->key[VK_IMAGE],
			"an AppVM boots from its template's image; remove 'image'");
	}
	if (vm->template_of != NULL && vm->disposable_of != NULL) {
		return fail_at(p, lines->key[VK_TEMPLATE],
			"give template (an AppVM) or disposable-of, not both");
	}
	if (vm->private_image != NULL && vm->disposable_of != NULL) {
		return fail_at(p, lines->key[VK_PRIVATE],
			"a disposable VM has no private volume; remove 'private'");
	}
	if (vm->image == NULL && vm->kernel == NULL && vm->disposable_of == NULL &&
		vm->template_of == NULL) {
		return fail_at(p, vm->line,
			"[vm %s]: type = qemu needs image, kernel + initrd, template or "
			"disposable-of",
			vm->name);
	}
	if (vm->fast_start && vm->template_of == NULL && vm->disposable_of == NULL) {
		return fail_at(p, lines->key[VK_FAST_START],
			"fast-start: only an AppVM (template) or a disposable (disposable-of) "
			"starts from its template's booted state");
	}
	if (vm->fast_start && vm->service != CONFIG_SERVICE_NONE) {
		return fail_at(p, lines->key[VK_FAST_START],
			"fast-start: a service VM always boots (it has a NIC per client)");
	}
	/* QEMU maps the pool as a PCI BAR: a power of two */
	if ((vm->pool_size_mib & (vm->pool_size_mib - 1)) != 0) {
		return fail_at(p, lines->key[VK_POOL_SIZE],
			"pool-size: %u MiB is not a power of two (qemu VMs need one: 16, 32, 64, "
			"...)",
			vm->pool_size_mib);
	}
	return true;
}

static bool finish_section(struct parser *p)
{
	if (p->section == SECTION_VM) {
		return finish_vm(p, p->config->n_vms - 1);
	}
	return true;
}

/* template = T of AppVMs: T is a qemu VM booting from its own image. */
static bool check_templates(struct parser *p)
{
	struct config *c = p->config;
	for (size_t i = 0; i < c->n_vms; i++) {
		const struct config_vm *vm = &c->vms[i];
		if (vm->template_of == NULL) {
			continue;
		}
		int line = p->vm_lines[i].key[VK_TEMPLATE];
		const struct config_vm *t = config_find_vm(c, vm->template_of);
		if (t == NULL) {
			return fail_at(p, line, "template: no VM named '%s'", vm->template_of);
		}
		if (t == vm) {
			return fail_at(
				p, line, "template: VM '%s' cannot be its own template", vm->name);
		}
		if (t->type != CONFIG_VM_QEMU || t->image == NULL || t->template_of != NULL ||
			t->disposable_of != NULL) {
			return fail_at(p, line,
				"template: '%s' is not a template (a qemu VM with its own 'image')",
				t->name);
		}
	}
	return true;
}

/* network = via:S: S a service VM; no cycles; link numbers given out in
 * the order of the sections, at most VTP_MAX_NET_LINKS per service VM. */
static bool check_network(struct parser *p)
{
	struct config *c = p->config;
	uint32_t next_link = 1;
	for (size_t i = 0; i < c->n_vms; i++) {
		struct config_vm *vm = &c->vms[i];
		const int *keys = p->vm_lines[i].key;
		if (vm->service != CONFIG_SERVICE_NONE && !vm->network_user &&
			vm->network_via == NULL) {
			return fail_at(p, keys[VK_SERVICE],
				"service VM '%s' needs an uplink: network = user or via:VM",
				vm->name);
		}
		if (vm->network_via == NULL) {
			int line =
				keys[VK_FIREWALL] ? keys[VK_FIREWALL] : keys[VK_FIREWALL_DEFAULT];
			if (line != 0) {
				return fail_at(p, line,
					"firewall rules apply in the service VM that '%s' goes "
					"through: "
					"set network = via:VM",
					vm->name);
			}
			continue;
		}
		int line = keys[VK_NETWORK];
		const struct config_vm *s = config_find_vm(c, vm->network_via);
		if (s == NULL) {
			return fail_at(p, line, "network: no VM named '%s'", vm->network_via);
		}
		if (s->type != CONFIG_VM_QEMU || s->service == CONFIG_SERVICE_NONE) {
			return fail_at(p, line,
				"network: '%s' is not a service VM (service = net or firewall)",
				s->name);
		}
		/* follow the chain: it must end at an uplink within n steps */
		const struct config_vm *hop = vm;
		for (size_t steps = 0; hop != NULL && hop->network_via != NULL; steps++) {
			if (steps == c->n_vms || strcmp(hop->network_via, vm->name) == 0) {
				return fail_at(p, line,
					"network: via:%s makes a cycle through '%s'",
					vm->network_via, vm->name);
			}
			hop = config_find_vm(c, hop->network_via);
		}
		size_t clients = 0;
		for (size_t j = 0; j < i; j++) {
			const char *via = c->vms[j].network_via;
			clients += via != NULL && strcmp(via, s->name) == 0;
		}
		if (clients == VTP_MAX_NET_LINKS) {
			return fail_at(p, line, "network: service VM '%s' has more than %u clients",
				s->name, VTP_MAX_NET_LINKS);
		}
		if (next_link > 254) {
			return fail_at(p, line, "network: more than 254 VMs routed through VMs");
		}
		vm->net_link = next_link++;
	}
	return true;
}

/* fast-start = true: the guest is told to wait on its kernel command
 * line; preload = N on a template: N of its fast-start disposables. */
static bool check_preload(struct parser *p)
{
	struct config *c = p->config;
	for (size_t i = 0; i < c->n_vms; i++) {
		const struct config_vm *vm = &c->vms[i];
		const char *tname = vm->template_of != NULL ? vm->template_of : vm->disposable_of;
		const struct config_vm *tv = tname != NULL ? config_find_vm(c, tname) : NULL;
		if (vm->fast_start && vm->kernel == NULL && (tv == NULL || tv->kernel == NULL)) {
			return fail_at(p, p->vm_lines[i].key[VK_FAST_START],
				"fast-start needs a kernel (VM '%s' and its template '%s' have "
				"none): "
				"the guest is told to wait on its kernel command line",
				vm->name, tname != NULL ? tname : "?");
		}
	}
	for (size_t i = 0; i < c->n_vms; i++) {
		const struct config_vm *t = &c->vms[i];
		if (t->preload == 0) {
			continue;
		}
		if (t->template_of != NULL || t->disposable_of != NULL) {
			return fail_at(p, p->vm_lines[i].key[VK_PRELOAD],
				"preload is only for a template (a VM that disposables name in "
				"disposable-of); '%s' has %s itself",
				t->name, t->template_of != NULL ? "a template" : "disposable-of");
		}
		uint32_t n = 0;
		for (size_t j = 0; j < c->n_vms; j++) {
			const struct config_vm *d = &c->vms[j];
			n += d->disposable_of != NULL && strcmp(d->disposable_of, t->name) == 0 &&
				d->fast_start;
		}
		if (n < t->preload) {
			return fail_at(p, p->vm_lines[i].key[VK_PRELOAD],
				"preload = %u needs at least %u VMs with disposable-of = %s and "
				"fast-start = true; there %s %u",
				t->preload, t->preload, t->name, n == 1 ? "is" : "are", n);
		}
	}
	return true;
}

static bool check_disposables(struct parser *p)
{
	struct config *c = p->config;
	for (size_t i = 0; i < c->n_vms; i++) {
		const struct config_vm *vm = &c->vms[i];
		if (vm->disposable_of == NULL) {
			continue;
		}
		int line = p->vm_lines[i].key[VK_DISPOSABLE_OF];
		if (strcmp(vm->disposable_of, vm->name) == 0) {
			return fail_at(p, line, "disposable-of: VM '%s' cannot be its own template",
				vm->name);
		}
		const struct config_vm *t = config_find_vm(c, vm->disposable_of);
		if (t == NULL) {
			return fail_at(
				p, line, "disposable-of: no VM named '%s'", vm->disposable_of);
		}
		if (t->disposable_of != NULL) {
			return fail_at(p, line, "disposable-of: template '%s' is itself disposable",
				t->name);
		}
		/* a qemu template has an image or a kernel (finish_vm); a qemu
		 * disposable boots an overlay of the image, the kernel, or both */
		if (t->type != vm->type) {
			return fail_at(p, line,
				"disposable-of: template '%s' is a %s VM; a %s VM needs a %s "
				"template",
				t->name, t->type == CONFIG_VM_QEMU ? "qemu" : "local",
				vm->type == CONFIG_VM_QEMU ? "qemu" : "local",
				vm->type == CONFIG_VM_QEMU ? "qemu" : "local");
		}
	}
	return true;
}

/* ---- [clipboard] ---- */

/* "N", "Nk" or "NM" (KiB, MiB) in 1..CONFIG_CLIPBOARD_MAX_BYTES. */
static bool parse_byte_size(struct parser *p, const char *key, const char *value, uint32_t *out)
{
	uint64_t v = 0;
	const char *c = value;
	for (; *c >= '0' && *c <= '9'; c++) {
		v = v * 10 + (uint64_t)(*c - '0');
		if (v > CONFIG_CLIPBOARD_MAX_BYTES) {
			v = (uint64_t)CONFIG_CLIPBOARD_MAX_BYTES + 1;
		}
	}
	if (c == value) {
		return fail(p, "%s: expected a size in bytes (N, Nk or NM), got '%s'", key, value);
	}
	if (*c == 'k' || *c == 'K') {
		v *= 1024;
		c++;
	} else if (*c == 'M') {
		v *= 1024 * 1024;
		c++;
	}
	if (*c != '\0') {
		return fail(p, "%s: expected a size in bytes (N, Nk or NM), got '%s'", key, value);
	}
	if (v < 1 || v > CONFIG_CLIPBOARD_MAX_BYTES) {
		return fail(p, "%s: %s is out of range 1..%u bytes (16M)", key, value,
			CONFIG_CLIPBOARD_MAX_BYTES);
	}
	*out = (uint32_t)v;
	return true;
}

/* One side of a rule: "*", "host" or a VM name (checked once all VMs are known). */
static bool parse_rule_side(struct parser *p, const char *key, char *text, char *out)
{
	char *name = trim(text);
	if (strcmp(name, "*") != 0 && !vtp_valid_vm_name(name)) {
		return fail(p,
			"%s: expected 'SOURCE -> TARGET' with a VM name, 'host' or '*' on "
			"each side, got '%s'",
			key, name);
	}
	snprintf(out, CONFIG_VM_NAME_MAX + 1, "%s", name);
	return true;
}

static bool parse_clipboard_key(struct parser *p, const char *key, char *value)
{
	struct config *c = p->config;
	if (strcmp(key, "max-bytes") == 0) {
		if (p->clipboard_max_bytes_line != 0) {
			return fail(p, "duplicate key '%s' (first at line %d)", key,
				p->clipboard_max_bytes_line);
		}
		p->clipboard_max_bytes_line = p->line;
		return parse_byte_size(p, key, value, &c->clipboard_max_bytes);
	}
	bool allow = strcmp(key, "allow") == 0;
	if (!allow && strcmp(key, "deny") != 0) {
		return fail(p, "unknown key '%s' in [clipboard]", key);
	}
	char *arrow = strstr(value, "->");
	if (arrow == NULL) {
		return fail(p, "%s: expected 'SOURCE -> TARGET', got '%s'", key, value);
	}
	*arrow = '\0';
	struct config_clipboard_rule rule = { .allow = allow, .line = p->line };
	if (!parse_rule_side(p, key, value, rule.source) ||
		!parse_rule_side(p, key, arrow + 2, rule.target)) {
		return false;
	}
	if (c->n_clipboard_rules == p->cap_clipboard_rules) {
		size_t cap = p->cap_clipboard_rules ? p->cap_clipboard_rules * 2 : 8;
		struct config_clipboard_rule *rules =
			realloc(c->clipboard_rules, cap * sizeof(*rules));
		if (rules == NULL) {
			return fail(p, "out of memory");
		}
		c->clipboard_rules = rules;
		p->cap_clipboard_rules = cap;
	}
	c->clipboard_rules[c->n_clipboard_rules++] = rule;
	return true;
}

static bool check_rule_side(
	struct parser *p, const struct config_clipboard_rule *rule, const char *name)
{
	if (strcmp(name, "*") == 0) {
		return true;
	}
	bool is_vm = config_find_vm(p->config, name) != NULL;
	if (strcmp(name, CONFIG_CLIPBOARD_HOST) == 0) {
		if (is_vm) {
			return fail_at(p, rule->line,
				"%s: 'host' is ambiguous: a VM is named 'host' too",
				rule->allow ? "allow" : "deny");
		}
		return true;
	}
	if (!is_vm) {
		return fail_at(p, rule->line, "%s: no VM named '%s'",
			rule->allow ? "allow" : "deny", name);
	}
	return true;
}

/* Rules name existing VMs (a typo must not silently allow a paste). */
static bool check_clipboard_rules(struct parser *p)
{
	const struct config *c = p->config;
	for (size_t i = 0; i < c->n_clipboard_rules; i++) {
		const struct config_clipboard_rule *rule = &c->clipboard_rules[i];
		if (!check_rule_side(p, rule, rule->source) ||
			!check_rule_side(p, rule, rule->target)) {
			return false;
		}
	}
	return true;
}

static bool rule_side_matches(const char *pattern, const char *name)
{
	return strcmp(pattern, "*") == 0 || strcmp(pattern, name) == 0;
}

bool config_clipboard_allowed(const struct config *config, const char *source, const char *target)
{
	for (size_t i = 0; i < config->n_clipboard_rules; i++) {
		const struct config_clipboard_rule *rule = &config->clipboard_rules[i];
		if (rule_side_matches(rule->source, source) &&
			rule_side_matches(rule->target, target)) {
			return rule->allow;
		}
	}
	return true;
}

/* ---- [open] (the rules themselves are parsed by open_policy.c) ---- */

/* "N", "Nk", "NM" or "NG" (KiB, MiB, GiB) in 1..64G. */
static bool parse_file_size(struct parser *p, const char *key, const char *value, uint64_t *out)
{
	const uint64_t max = 64ull << 30;
	uint64_t v = 0;
	const char *c = value;
	for (; *c >= '0' && *c <= '9'; c++) {
		v = v * 10 + (uint64_t)(*c - '0');
		if (v > max) {
			v = max + 1;
		}
	}
	if (c == value) {
		return fail(
			p, "%s: expected a size in bytes (N, Nk, NM or NG), got '%s'", key, value);
	}
	uint64_t unit = 1;
	if (*c == 'k' || *c == 'K') {
		unit = 1024;
	} else if (*c == 'M') {
		unit = 1024 * 1024;
	} else if (*c == 'G') {
		unit = 1024 * 1024 * 1024;
	}
	if (unit != 1) {
		c++;
		v = v > max ? max + 1 : v * unit;
	}
	if (*c != '\0') {
		return fail(
			p, "%s: expected a size in bytes (N, Nk, NM or NG), got '%s'", key, value);
	}
	if (v < 1 || v > max) {
		return fail(p, "%s: %s is out of range 1..64G", key, value);
	}
	*out = v;
	return true;
}

static bool parse_open_key(struct parser *p, const char *key, const char *value)
{
	struct config *c = p->config;
	if (strcmp(key, "max-file-bytes") == 0) {
		if (p->open_max_file_bytes_line != 0) {
			return fail(p, "duplicate key '%s' (first at line %d)", key,
				p->open_max_file_bytes_line);
		}
		p->open_max_file_bytes_line = p->line;
		return parse_file_size(p, key, value, &c->open_max_file_bytes);
	}
	if (strcmp(key, "url-schemes") == 0) {
		if (c->open_url_schemes_line != 0) {
			return fail(p, "duplicate key '%s' (first at line %d)", key,
				c->open_url_schemes_line);
		}
		c->open_url_schemes_line = p->line;
		return parse_string(p, key, value, &c->open_url_schemes);
	}
	if (strcmp(key, "rule") != 0) {
		return fail(p,
			"unknown key '%s' in [open] (use rule, max-file-bytes or "
			"url-schemes)",
			key);
	}
	if (*value == '\0') {
		return fail(p, "rule: empty value (expected 'MATCH -> TARGET')");
	}
	if (c->n_open_rules == p->cap_open_rules) {
		size_t cap = p->cap_open_rules ? p->cap_open_rules * 2 : 8;
		struct config_open_rule *rules = realloc(c->open_rules, cap * sizeof(*rules));
		if (rules == NULL) {
			return fail(p, "out of memory");
		}
		c->open_rules = rules;
		p->cap_open_rules = cap;
	}
	char *text = strdup(value);
	if (text == NULL) {
		return fail(p, "out of memory");
	}
	c->open_rules[c->n_open_rules++] = (struct config_open_rule){ text, p->line };
	return true;
}

static bool parse_line(struct parser *p, char *raw)
{
	char *line = trim(raw);
	if (*line == '\0' || *line == '#' || *line == ';') {
		return true;
	}
	if (*line == '[') {
		if (!finish_section(p)) {
			return false;
		}
		return parse_section_header(p, line);
	}

	char *eq = strchr(line, '=');
	if (eq == NULL) {
		return fail(p, "expected 'key = value', '[section]' or a comment");
	}
	*eq = '\0';
	char *key = trim(line);
	char *value = eq + 1;
	value = trim(value);
	cut_inline_comment(value);
	value = trim(value);
	if (*key == '\0') {
		return fail(p, "missing key before '='");
	}

	switch (p->section) {
	case SECTION_NONE:
		return fail(p, "key '%s' outside of a section", key);
	case SECTION_INPUT:
		return parse_input_key(p, key, value);
	case SECTION_KEYS:
		return parse_binding(p, key, value);
	case SECTION_VM:
		return parse_vm_key(p, key, value);
	case SECTION_CLIPBOARD:
		return parse_clipboard_key(p, key, value);
	case SECTION_OPEN:
		return parse_open_key(p, key, value);
	case SECTION_OUTPUT:
		return parse_output_key(p, key, value);
	}
	return false;
}

static bool parse_text(struct parser *p, char *text, size_t len)
{
	size_t pos = 0;
	p->line = 0;
	while (pos < len) {
		p->line++;
		char *start = text + pos;
		char *nl = memchr(start, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - start) : len - pos;
		pos += line_len + (nl ? 1 : 0);
		if (line_len > 0 && start[line_len - 1] == '\r') {
			line_len--;
		}
		if (line_len > CONFIG_MAX_LINE) {
			return fail(p, "line longer than %d bytes", CONFIG_MAX_LINE);
		}
		if (!check_line_bytes(p, start, line_len)) {
			return false;
		}
		start[line_len] = '\0';
		if (!parse_line(p, start)) {
			return false;
		}
	}
	if (!finish_section(p)) {
		return false;
	}
	return check_templates(p) && check_disposables(p) && check_preload(p) && check_network(p) &&
		check_clipboard_rules(p);
}

/* The [input] xkb-* settings must compile, or the session would have no
 * keyboard (xkbcommon fills what is not set from XKB_DEFAULT_*). */
static bool check_keymap(struct parser *p)
{
	const struct config *c = p->config;
	int line = 0;
	for (int k = IK_XKB_RULES; k <= IK_XKB_OPTIONS; k++) {
		if (p->input_keys[k] != 0 && (line == 0 || p->input_keys[k] < line)) {
			line = p->input_keys[k];
		}
	}
	if (line == 0) {
		return true; /* the environment's keymap: vitrail says so at start */
	}
	if (p->input_keys[IK_XKB_LAYOUT] != 0) {
		line = p->input_keys[IK_XKB_LAYOUT];
	}
	struct xkb_context *ctx = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	if (ctx == NULL) {
		return fail_at(p, line, "cannot check the keymap: no xkbcommon context");
	}
	xkb_context_set_log_level(ctx, XKB_LOG_LEVEL_CRITICAL);
	struct xkb_rule_names names = {
		.rules = c->xkb_rules,
		.model = c->xkb_model,
		.layout = c->xkb_layout,
		.variant = c->xkb_variant,
		.options = c->xkb_options,
	};
	struct xkb_keymap *keymap =
		xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
	xkb_context_unref(ctx);
	if (keymap == NULL) {
		return fail_at(p, line,
			"the keymap does not compile (xkb-rules '%s', xkb-model '%s', xkb-layout "
			"'%s', xkb-variant '%s', xkb-options '%s'): check the names in "
			"/usr/share/X11/xkb",
			c->xkb_rules ? c->xkb_rules : "", c->xkb_model ? c->xkb_model : "",
			c->xkb_layout ? c->xkb_layout : "", c->xkb_variant ? c->xkb_variant : "",
			c->xkb_options ? c->xkb_options : "");
	}
	xkb_keymap_unref(keymap);
	return true;
}

static char *check_file(const struct config *config, int line, const char *key, const char *path)
{
	struct stat st;
	const char *why = NULL;
	if (stat(path, &st) != 0) {
		why = strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
	} else if (access(path, R_OK) != 0) {
		why = strerror(errno);
	}
	if (why == NULL) {
		return NULL;
	}
	const char *file = config->path != NULL ? config->path : "(built-in)";
	char *error = line > 0 ? text_printf("%s:%d: %s: %s: %s", file, line, key, path, why)
			       : text_printf("%s: %s: %s: %s", file, key, path, why);
	return error != NULL ? error : strdup("out of memory");
}

/*
 * A local VM's command runs as "/bin/sh -c COMMAND". When its first word
 * is a plain program name (no shell syntax, no builtin or keyword, no
 * VAR=value), that program must exist: in PATH, or at an absolute path.
 */
static char *check_command(const struct config *config, const struct config_vm *vm)
{
	static const char *const shell_words[] = { "exec", "cd", "export", "set", "eval", ".", ":",
		"true", "false", "test", "[", "if", "for", "while", "until", "case", "{", "!",
		"command", "trap", "ulimit", "umask", "unset", "read", "echo", "printf" };
	const char *s = vm->command + strspn(vm->command, " \t");
	size_t n = strcspn(s, " \t");
	if (n == 0 || n >= PATH_MAX / 2 || strcspn(s, "$`'\"\\;|&<>()=*?[~#") < n) {
		return NULL;
	}
	char word[PATH_MAX / 2];
	memcpy(word, s, n);
	word[n] = '\0';
	for (size_t i = 0; i < sizeof(shell_words) / sizeof(shell_words[0]); i++) {
		if (strcmp(word, shell_words[i]) == 0) {
			return NULL;
		}
	}
	if (strchr(word, '/') != NULL) {
		if (word[0] != '/' || access(word, X_OK) == 0) {
			return NULL;
		}
	} else {
		const char *path = getenv("PATH");
		char *copy = strdup(path != NULL && path[0] != '\0' ? path : "/usr/bin:/bin");
		bool found = false;
		for (char *save = NULL, *dir = copy != NULL ? strtok_r(copy, ":", &save) : NULL;
			dir != NULL && !found; dir = strtok_r(NULL, ":", &save)) {
			char full[PATH_MAX];
			found = snprintf(full, sizeof(full), "%s/%s", dir, word) <
					(int)sizeof(full) &&
				access(full, X_OK) == 0;
		}
		free(copy);
		if (found || copy == NULL) {
			return NULL;
		}
	}
	const char *file = config->path != NULL ? config->path : "(built-in)";
	char *error = text_printf("%s:%d: command: '%s' is not a program in PATH (%s)", file,
		vm->command_line, word, "/bin/sh -c runs it");
	return error != NULL ? error : strdup("out of memory");
}

bool config_vm_check_files(const struct config *config, const struct config_vm *vm, char **error)
{
	*error = NULL;
	if (vm->type != CONFIG_VM_QEMU) {
		if (vm->command != NULL && vm->command_line > 0) {
			*error = check_command(config, vm);
		}
		return *error == NULL;
	}
	const struct {
		const char *key, *path;
		int line;
	} files[] = {
		{ "image", vm->image, vm->image_line },
		{ "kernel", vm->kernel, vm->kernel_line },
		{ "initrd", vm->initrd, vm->initrd_line },
		{ "private", vm->private_image, vm->private_line },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i].path != NULL &&
			(*error = check_file(config, files[i].line, files[i].key, files[i].path)) !=
				NULL) {
			return false;
		}
	}
	/* an AppVM or a disposable boots from its template's files */
	const char *base = vm->template_of != NULL ? vm->template_of : vm->disposable_of;
	const struct config_vm *template = base != NULL ? config_find_vm(config, base) : NULL;
	if (template != NULL && template != vm && template->disposable_of == NULL &&
		template->template_of == NULL) {
		return config_vm_check_files(config, template, error);
	}
	return true;
}

static bool add_default_bindings(struct parser *p)
{
	for (size_t i = 0; i < sizeof(default_bindings) / sizeof(default_bindings[0]); i++) {
		if (!add_binding(p, default_bindings[i].modifiers, default_bindings[i].keysym,
			    default_bindings[i].action, default_bindings[i].command)) {
			return false;
		}
	}
	return true;
}

static struct config *config_alloc(void)
{
	struct config *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->repeat_rate = CONFIG_DEFAULT_REPEAT_RATE;
	c->repeat_delay = CONFIG_DEFAULT_REPEAT_DELAY;
	c->clipboard_max_bytes = CONFIG_DEFAULT_CLIPBOARD_MAX_BYTES;
	c->open_max_file_bytes = CONFIG_DEFAULT_OPEN_MAX_FILE_BYTES;
	return c;
}

static void parser_finish(struct parser *p)
{
	free(p->dir);
	free(p->binding_lines);
	free(p->vm_lines);
}

struct config *config_create_default(void)
{
	struct parser p = { .file = "(built-in)" };
	p.config = config_alloc();
	if (p.config == NULL) {
		return NULL;
	}
	if (!add_default_bindings(&p)) {
		config_destroy(p.config);
		free(p.error);
		parser_finish(&p);
		return NULL;
	}
	parser_finish(&p);
	return p.config;
}

static char *default_path(void)
{
	return fs_user_path("XDG_CONFIG_HOME", ".config", "vitrail/vitrail.ini");
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		return strdup(".");
	}
	if (slash == path) {
		return strdup("/");
	}
	return strndup(path, (size_t)(slash - path));
}

/* Read the whole file (at most CONFIG_MAX_FILE_SIZE bytes) into a NUL-terminated buffer. */
static char *read_file(struct parser *p, int fd, size_t *len_out)
{
	char *text = fs_read_fd(fd, CONFIG_MAX_FILE_SIZE, len_out);
	if (text != NULL) {
		return text;
	}
	switch (errno) {
	case EINVAL:
		fail_at(p, 0, "not a regular file");
		break;
	case EFBIG:
		fail_at(p, 0, "file is larger than %d bytes", CONFIG_MAX_FILE_SIZE);
		break;
	case ENOMEM:
		fail_at(p, 0, "out of memory");
		break;
	default:
		fail_at(p, 0, "cannot read: %s", strerror(errno));
		break;
	}
	return NULL;
}

struct config *config_load(const char *path, char **error)
{
	struct parser p = { 0 };
	char *owned_path = NULL;
	char *text = NULL;
	int fd = -1;
	*error = NULL;

	if (path == NULL) {
		owned_path = default_path();
		if (owned_path == NULL) {
			return config_create_default();
		}
		path = owned_path;
	}
	p.file = path;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (owned_path != NULL && errno == ENOENT) {
			free(owned_path);
			return config_create_default();
		}
		fail_at(&p, 0, "cannot open: %s", strerror(errno));
		goto error;
	}
	size_t len = 0;
	text = read_file(&p, fd, &len);
	close(fd);
	if (text == NULL) {
		goto error;
	}

	p.config = config_alloc();
	p.dir = dir_of(path);
	if (p.config == NULL || p.dir == NULL || (p.config->path = strdup(path)) == NULL) {
		fail_at(&p, 0, "out of memory");
		goto error;
	}
	if (!parse_text(&p, text, len) || !check_keymap(&p)) {
		goto error;
	}
	if (p.keys_line == 0 && !add_default_bindings(&p)) {
		goto error;
	}

	free(text);
	free(owned_path);
	parser_finish(&p);
	return p.config;

error:
	config_destroy(p.config);
	parser_finish(&p);
	free(text);
	*error = p.error != NULL ? p.error : strdup("out of memory");
	free(owned_path);
	return NULL;
}

void config_destroy(struct config *config)
{
	if (config == NULL) {
		return;
	}
	for (size_t i = 0; i < config->n_vms; i++) {
		struct config_vm *vm = &config->vms[i];
		free(vm->command);
		free(vm->image);
		free(vm->kernel);
		free(vm->initrd);
		free(vm->append);
		free(vm->disposable_of);
		free(vm->template_of);
		free(vm->private_image);
		free(vm->network_via);
		for (size_t r = 0; r < vm->n_fw_rules; r++) {
			free(vm->fw_rules[r]);
		}
		free(vm->fw_rules);
	}
	free(config->vms);
	for (size_t i = 0; i < config->n_bindings; i++) {
		free(config->bindings[i].command);
	}
	free(config->bindings);
	free(config->clipboard_rules);
	for (size_t i = 0; i < config->n_open_rules; i++) {
		free(config->open_rules[i].text);
	}
	free(config->open_rules);
	free(config->open_url_schemes);
	free(config->xkb_rules);
	free(config->xkb_model);
	free(config->xkb_layout);
	free(config->xkb_variant);
	free(config->xkb_options);
	free(config->outputs);
	free(config->path);
	free(config);
}

const struct config_vm *config_find_vm(const struct config *config, const char *name)
{
	for (size_t i = 0; i < config->n_vms; i++) {
		if (strcmp(config->vms[i].name, name) == 0) {
			return &config->vms[i];
		}
	}
	return NULL;
}
