/*
 * File names that came from another VM: what the agent may create in
 * ~/Incoming/SOURCE/. No wlroots dependency (unit-tested alone).
 */
#ifndef VITRAIL_AGENT_FILENAME_H
#define VITRAIL_AGENT_FILENAME_H

#include <stdbool.h>
#include <stddef.h>

#define FILENAME_MAX_BYTES 255 /* NAME_MAX on Linux */

/*
 * Write a safe name for untrusted (len bytes, any content) into out
 * (capacity at least FILENAME_MAX_BYTES + 1): the last path component
 * only; invalid UTF-8, control characters (C0, DEL, C1) and bidirectional
 * formatting characters each become '_' (dropped before the first character
 * kept, as are leading dots and spaces);
 * at most FILENAME_MAX_BYTES bytes, cut on a UTF-8 boundary, keeping a
 * short extension; "file" when nothing is left. Never ".", ".." or empty,
 * never contains '/'.
 */
void filename_sanitize(const char *untrusted, size_t len, char *out, size_t cap);

/*
 * The n-th alternative of a sanitized name: "stem (n).ext", the stem cut
 * (on a UTF-8 boundary) so that the result fits FILENAME_MAX_BYTES.
 * n >= 1. out has the same capacity rule.
 */
void filename_numbered(const char *name, unsigned n, char *out, size_t cap);

#endif
