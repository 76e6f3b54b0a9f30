/*
 * Small text tests shared by the host, the agent and vitrailctl. No
 * wlroots dependency (unit-tested alone).
 */
#ifndef VITRAIL_COMMON_TEXT_H
#define VITRAIL_COMMON_TEXT_H

#include <stdbool.h>

/*
 * Whether a command-line argument reads as a URL rather than a file name:
 * an RFC 3986 scheme (a letter, then letters, digits, '+', '.' or '-')
 * followed by ':'. Only a first guess: the policy checks the URL itself.
 */
bool text_looks_like_url(const char *s);

#endif
