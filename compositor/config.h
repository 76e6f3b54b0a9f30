/*
 * vitrail's configuration file: an INI file parsed strictly (unknown
 * sections or keys, duplicates and bad values are errors naming
 * "file:line"). No wlroots dependency; key names go through xkbcommon.
 */
#ifndef VITRAIL_CONFIG_H
#define VITRAIL_CONFIG_H

#define CONFIG_SUSPEND_AFTER_MAX_S (7u * 24u * 3600u)

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_VM_NAME_MAX 32
#define CONFIG_PRELOAD_MAX 8
#define CONFIG_MAX_FILE_SIZE (1024 * 1024) /* bytes */
#define CONFIG_MAX_LINE 4096 /* bytes, newline excluded */

/* Frame color of host (non-VM) windows; no VM may use it as its label. */
#define CONFIG_HOST_FRAME_RGB 0x2e3436u

/* Defaults of the [vm] numbers and of [input]. */
#define CONFIG_DEFAULT_MEMORY_MIB 512u
#define CONFIG_DEFAULT_CPUS 1u
#define CONFIG_DEFAULT_POOL_SIZE_MIB 64u
#define CONFIG_DEFAULT_REPEAT_RATE 25
#define CONFIG_DEFAULT_REPEAT_DELAY 600

/* [clipboard]: max-bytes default and hard maximum (VTP_MAX_CLIPBOARD). */
#define CONFIG_DEFAULT_CLIPBOARD_MAX_BYTES (256u * 1024u)
#define CONFIG_CLIPBOARD_MAX_BYTES (16u * 1024u * 1024u)
/* The name clipboard rules use for host windows. */
#define CONFIG_CLIPBOARD_HOST "host"

enum config_vm_type {
	CONFIG_VM_LOCAL,
	CONFIG_VM_QEMU,
};

enum config_accel {
	CONFIG_ACCEL_AUTO,
	CONFIG_ACCEL_KVM,
	CONFIG_ACCEL_TCG,
};

enum config_service {
	CONFIG_SERVICE_NONE,
	CONFIG_SERVICE_NET, /* owns the uplink; routes and NATs for its clients */
	CONFIG_SERVICE_FIREWALL, /* the same, and applies its clients' firewall rules */
};

struct config_vm {
	char name[CONFIG_VM_NAME_MAX + 1];
	uint32_t label_rgb; /* 0xRRGGBB */
	bool allow_fullscreen;
	/* a click on or the focus to a window of the paused VM resumes it (true) */
	bool resume_on_input;
	/* qemu: suspend to disk after this long without input to its windows
	 * and without `vitrailctl run` in flight; 0: never (the default) */
	uint32_t suspend_after_s;
	/* its apps' idle inhibitors keep the host session awake (false) */
	bool idle_inhibit;
	enum config_vm_type type;
	char *command; /* app run under the agent when the VM starts; may be NULL */

	/* qemu only (NULL / defaults for local VMs). Paths are absolute or
	 * relative to the config file's directory, "~/" expanded. */
	char *image; /* disk image; NULL if none */
	char *kernel, *initrd, *append; /* direct kernel boot; NULL if none */
	/* Template VM name (same type, not disposable itself); NULL if not
	 * disposable. qemu: a throw-away overlay of the template's image,
	 * and/or a kernel (its own, else the template's). local: a fresh
	 * temporary HOME, removed at stop; the template's command is not used.
	 * (Valid for both types.) */
	char *disposable_of;
	/* AppVM (qemu): the template VM (a qemu VM with its own image) whose
	 * image the root is a throw-away overlay of, recreated at every start;
	 * kernel, initrd and append are the template's unless set here. NULL:
	 * not an AppVM. */
	char *template_of;
	/* qemu: the persistent private volume (qcow2 or raw), attached as a
	 * virtio disk with serial "vitrail-private"; NULL: none. */
	char *private_image;
	/* where image, kernel, initrd and private were set (0: not set) */
	int image_line, kernel_line, initrd_line, private_line, command_line;
	uint32_t memory_mib; /* default 512 */
	uint32_t cpus; /* default 1 */
	bool network_user; /* network = user; default none */
	/* network = via:VM: the service VM this VM's one NIC leads to; NULL:
	 * not routed through a VM */
	char *network_via;
	/* via: this VM's link number (1..254, unique in the config): its
	 * subnet and MAC addresses in the service VM */
	uint32_t net_link;
	enum config_service service; /* service = net | firewall; default none */
	/* firewall = allow SPEC, ...: the rules of a via VM, in order, each
	 * a valid vtp_fw_rule_parse() text; firewall-default = allow | deny */
	char **fw_rules;
	size_t n_fw_rules;
	bool fw_default_deny;
	enum config_accel accel; /* default auto */
	/* fast-start = true: an AppVM or disposable starts from its template's
	 * booted state (vm_manager.c); default false */
	bool fast_start;
	/* preload = N on a template: keep N of its fast-start disposables
	 * started, paused and waiting (0..CONFIG_PRELOAD_MAX; default 0) */
	uint32_t preload;

	/* both types */
	uint32_t pool_size_mib; /* default 64 */
	bool autostart; /* default false */

	int line; /* line of the [vm NAME] header, 0 if built in */
};

enum config_action {
	ACTION_EXEC,
	ACTION_CLOSE,
	ACTION_MAXIMIZE,
	ACTION_CYCLE,
	ACTION_EXIT,
	ACTION_CLIPBOARD_COPY,
	ACTION_CLIPBOARD_PASTE,
};

/* Same values as enum wlr_keyboard_modifier. */
#define CONFIG_MOD_SHIFT 1u
#define CONFIG_MOD_CAPS 2u
#define CONFIG_MOD_CTRL 4u
#define CONFIG_MOD_ALT 8u
#define CONFIG_MOD_MOD2 16u
#define CONFIG_MOD_MOD3 32u
#define CONFIG_MOD_LOGO 64u
#define CONFIG_MOD_MOD5 128u

struct config_binding {
	uint32_t modifiers; /* CONFIG_MOD_* bits */
	uint32_t keysym; /* xkb_keysym_t, lower case where the keysym has one */
	enum config_action action;
	char *command; /* ACTION_EXEC only, else NULL */
};

/* [open]: ordered "rule = MATCH -> TARGET" lines, kept as text and parsed
 * by open_policy.c (which reports errors as "FILE:LINE: ..."). */
#define CONFIG_DEFAULT_OPEN_MAX_FILE_BYTES (1ull << 30) /* 1 GiB */
struct config_open_rule {
	char *text;
	int line;
};

/* [clipboard] allow/deny = SOURCE -> TARGET; each side a VM name, "host" or "*". */
struct config_clipboard_rule {
	bool allow;
	char source[CONFIG_VM_NAME_MAX + 1];
	char target[CONFIG_VM_NAME_MAX + 1];
	int line;
};

/* [output NAME]: settings of one output, or of every output ("*"). */
#define CONFIG_OUTPUT_NAME_MAX 63
enum config_output_key {
	CONFIG_OUTPUT_MODE,
	CONFIG_OUTPUT_POSITION,
	CONFIG_OUTPUT_SCALE,
	CONFIG_OUTPUT_TRANSFORM,
	CONFIG_OUTPUT_ENABLED,
	CONFIG_OUTPUT_KEY_COUNT,
};
struct config_output {
	char name[CONFIG_OUTPUT_NAME_MAX + 1]; /* a connector name, or "*" */
	int line; /* of the section header */
	int key_lines[CONFIG_OUTPUT_KEY_COUNT]; /* where each key was set, 0: not set */
	int width, height; /* mode; 0: the preferred one */
	int refresh_mhz; /* with mode; 0: any */
	int x, y; /* position, when key_lines[CONFIG_OUTPUT_POSITION] != 0 */
	float scale; /* 0.5..4; 0: not set */
	int transform; /* as wl_output.transform (0 normal .. 7 flipped-270); -1: not set */
	bool enabled; /* when key_lines[CONFIG_OUTPUT_ENABLED] != 0 */
};

struct config {
	char *path; /* NULL for built-in defaults */
	struct config_vm *vms;
	size_t n_vms;
	struct config_binding *bindings;
	size_t n_bindings;
	/* NULL: not set (use XKB_DEFAULT_* or xkbcommon's defaults) */
	char *xkb_rules, *xkb_model, *xkb_layout, *xkb_variant, *xkb_options;
	int32_t repeat_rate; /* per second, 1..1000 */
	int32_t repeat_delay; /* ms, 1..10000 */
	/* [clipboard] */
	uint32_t clipboard_max_bytes; /* 1..CONFIG_CLIPBOARD_MAX_BYTES */
	struct config_clipboard_rule *clipboard_rules; /* in file order */
	size_t n_clipboard_rules;
	/* [open] */
	int open_line; /* line of the [open] header; 0: no section (built-in policy) */
	struct config_open_rule *open_rules; /* in file order */
	size_t n_open_rules;
	uint64_t open_max_file_bytes; /* 1..64 GiB, default 1 GiB */
	char *open_url_schemes; /* NULL: the default list */
	int open_url_schemes_line;
	/* [output NAME] sections, in file order */
	struct config_output *outputs;
	size_t n_outputs;
};

/*
 * Load a config file. path NULL: the default location
 * ($XDG_CONFIG_HOME/vitrail/vitrail.ini, else ~/.config/vitrail/vitrail.ini);
 * a missing default file gives the built-in defaults (path NULL, no VMs).
 * An explicit path must exist. On error returns NULL and sets *error to a
 * malloc'd message "FILE:LINE: message" (or "FILE: message" for errors
 * about the whole file), which the caller frees.
 */
struct config *config_load(const char *path, char **error);
/* The built-in defaults: no VMs, default bindings and input settings. */
struct config *config_create_default(void);
void config_destroy(struct config *config);
const struct config_vm *config_find_vm(const struct config *config, const char *name);
/*
 * The files a qemu VM boots from (image, kernel, initrd; its template's
 * image for an AppVM or disposable; private) exist and are regular
 * readable files. false with "FILE:LINE: key: PATH: why" in *error (to
 * free). vitrail --check-config checks every VM; a VM's start checks its
 * own.
 */
bool config_vm_check_files(const struct config *config, const struct config_vm *vm, char **error);

/* The [output] section for an output named name: its own, else "*", else NULL. */
const struct config_output *config_find_output(const struct config *config, const char *name);
/* May text copied in source be pasted into target (VM names or "host")?
 * The first matching [clipboard] rule decides; no match: allowed. */
bool config_clipboard_allowed(const struct config *config, const char *source, const char *target);

/* "close", "exec", ... Never NULL. */
const char *config_action_name(enum config_action action);
/* A palette name ("blue") to its color; false if no such name. */
bool config_palette_lookup(const char *name, uint32_t *rgb);
/* The palette name of a color, or NULL if it is not a palette color. */
const char *config_palette_name(uint32_t rgb);

#endif
