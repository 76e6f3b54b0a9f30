/*
 * Turning guest strings (titles, app ids) into what the host accepts: valid
 * UTF-8 without control characters, at most a given number of bytes, cut on
 * a code point boundary. The host disconnects on an invalid string, so the
 * agent never sends one.
 */
#ifndef VITRAIL_AGENT_SANITIZE_H
#define VITRAIL_AGENT_SANITIZE_H

#include <stddef.h>

/*
 * Write a sanitized copy of in (NUL-terminated, may be NULL) into out
 * (capacity out_cap >= 1, NUL-terminated on return), keeping at most
 * max_bytes bytes of text. Invalid sequences and control characters other
 * than tab/newline become U+FFFD; tabs and newlines become spaces. Returns
 * the length written (without the NUL).
 */
size_t sanitize_display_string(const char *in, size_t max_bytes, char *out, size_t out_cap);

#endif
