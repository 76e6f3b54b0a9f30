/*
 * Fuzz harness (LLVMFuzzerTestOneInput) of the [clipboard] section of the
 * config parser (compositor/config.c) and of the rule matcher
 * config_clipboard_allowed. The input is the body of a [clipboard]
 * section, after two VMs 'a' and 'b'; it is parsed from a memfd as a
 * config file. Checked: no crash; a failure says why with "FILE:LINE: " or
 * "FILE: " and a success leaves no message; every rule of a loaded config
 * names '*', 'host' or a configured VM on both sides, and max-bytes is in
 * range; the matcher's answer for every pair of 'a', 'b', 'host' and an
 * unknown name is that of the first matching rule (allowed when none).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char prefix[] = "[vm a]\nlabel = red\n[vm b]\nlabel = blue\n[clipboard]\n";

static bool side_ok(const struct config *c, const char *side)
{
	return strcmp(side, "*") == 0 || strcmp(side, CONFIG_CLIPBOARD_HOST) == 0 ||
		config_find_vm(c, side) != NULL;
}

static bool first_match(const struct config *c, const char *source, const char *target)
{
	for (size_t i = 0; i < c->n_clipboard_rules; i++) {
		const struct config_clipboard_rule *r = &c->clipboard_rules[i];
		if ((strcmp(r->source, "*") == 0 || strcmp(r->source, source) == 0) &&
			(strcmp(r->target, "*") == 0 || strcmp(r->target, target) == 0)) {
			return r->allow;
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536) {
		return 0;
	}
	int fd = memfd_create("fuzz-clipboard", MFD_CLOEXEC);
	if (fd < 0) {
		return 0;
	}
	if (write(fd, prefix, sizeof(prefix) - 1) != (ssize_t)(sizeof(prefix) - 1) ||
		(size > 0 && write(fd, data, size) != (ssize_t)size)) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	char *error = NULL;
	struct config *c = config_load(path, &error);
	close(fd);
	if (c == NULL) {
		/* "PATH:LINE: why" or "PATH: why" */
		if (error == NULL || strncmp(error, path, strlen(path)) != 0 ||
			error[strlen(path)] != ':' || strlen(error) <= strlen(path) + 2) {
			abort();
		}
		free(error);
		return 0;
	}
	if (error != NULL || c->clipboard_max_bytes < 1 ||
		c->clipboard_max_bytes > CONFIG_CLIPBOARD_MAX_BYTES) {
		abort();
	}
	for (size_t i = 0; i < c->n_clipboard_rules; i++) {
		if (!side_ok(c, c->clipboard_rules[i].source) ||
			!side_ok(c, c->clipboard_rules[i].target)) {
			abort();
		}
	}
	static const char *const names[] = { "a", "b", CONFIG_CLIPBOARD_HOST, "zz" };
	for (size_t s = 0; s < 4; s++) {
		for (size_t t = 0; t < 4; t++) {
			if (config_clipboard_allowed(c, names[s], names[t]) !=
				first_match(c, names[s], names[t])) {
				abort();
			}
		}
	}
	config_destroy(c);
	return 0;
}
