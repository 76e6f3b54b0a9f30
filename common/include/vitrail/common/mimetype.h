/*
 * A small table from file name extensions to MIME types, for when
 * `file --mime-type` is not installed (vitrail-open, vitrailctl open).
 */
#ifndef VITRAIL_MIMETYPE_H
#define VITRAIL_MIMETYPE_H

/* The MIME type for name's extension (ASCII case folded), or
 * "application/octet-stream". Never NULL. */
const char *mimetype_from_name(const char *name);

#endif
