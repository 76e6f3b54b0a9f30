/*
 * The control socket vitrailctl talks to: one JSON request line in, one
 * JSON reply line out, then the server closes. JSON is built and parsed
 * with json-c only.
 */
#ifndef VITRAIL_CTL_H
#define VITRAIL_CTL_H

struct server;
struct ctl;

/* Listen on path (created 0600; a stale socket there is replaced). */
struct ctl *ctl_create(struct server *server, const char *path);
void ctl_destroy(struct ctl *ctl);

#endif
