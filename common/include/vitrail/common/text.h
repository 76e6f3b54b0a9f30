/*
 * Small text tests shared by the host, the agent and vitrailctl. No
 * wlroots dependency (unit-tested alone).
 */
#ifndef VITRAIL_COMMON_TEXT_H
#define VITRAIL_COMMON_TEXT_H

#include <stdarg.h>
#include <stdbool.h>

/*
 * Whether a command-line argument reads as a URL rather than a file name:
 * an RFC 3986 scheme (a letter, then letters, digits, '+', '.' or '-')
 * followed by ':'. Only a first guess: the policy checks the URL itself.
 */
bool text_looks_like_url(const char *s);

/* A printf-formatted string (malloc'd); NULL when out of memory. */
char *text_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *text_vprintf(const char *fmt, va_list args) __attribute__((format(printf, 1, 0)));

#endif
