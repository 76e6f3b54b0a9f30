/*
 * The MIME type of a file to open in another VM (vitrail-open, vitrailctl
 * open): first from its name's extension, which says what the user calls
 * the file and what `[open]` rules are written against; when the
 * extension is unknown, from its contents with libmagic.
 */
#ifndef VITRAIL_MIMETYPE_H
#define VITRAIL_MIMETYPE_H

#include <stdbool.h>
#include <stddef.h>

/* The MIME type for name's extension (ASCII case folded), or
 * "application/octet-stream". Never NULL. */
const char *mimetype_from_name(const char *name);

/* The content's MIME type as libmagic sees it (MAGIC_MIME_TYPE), read
 * through fd (its offset moves: rewind before reading it again), into out
 * (capacity cap). False when libmagic fails or names no valid type. In
 * common_magic_dep (links libmagic). */
bool mimetype_sniff_fd(int fd, char *out, size_t cap);

/* The type of the file open on fd whose base name is name: by extension,
 * else by content (fd is rewound to 0 afterwards). Points at a static
 * string or into out (capacity cap). NULL only when fd cannot be rewound
 * (errno set). In common_magic_dep. */
const char *mimetype_guess(const char *name, int fd, char *out, size_t cap);

#endif
