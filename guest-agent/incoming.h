/*
 * Files and URLs the host delivers to this guest (DELIVER_URL,
 * DELIVER_FILE_BEGIN/CHUNK/END). A file is written to
 * ~/Incoming/SOURCE-VM/ (created 0700) under a sanitized name, never
 * overwriting anything (a " (n)" suffix instead), its size and SHA-256
 * checked at the end (a damaged file is deleted), and then opened with
 * xdg-open, as is a URL. $VITRAIL_XDG_OPEN names another opener (tests).
 * The result goes back as DELIVER_RESULT.
 */
#ifndef VITRAIL_AGENT_INCOMING_H
#define VITRAIL_AGENT_INCOMING_H

#include <vitrail/protocol.h>

struct agent_server;
struct incoming;

#define INCOMING_MAX_ACTIVE 8
/* An opener still running after this long counts as success (xdg-open
 * may wait for the application it started). */
#define INCOMING_OPENER_GRACE_MS 3000

struct incoming *agent_incoming_create(struct agent_server *server);
void agent_incoming_destroy(struct incoming *in);
/* DELIVER_URL or DELIVER_FILE_* from the host. */
void agent_incoming_handle_message(struct incoming *in, const struct vtp_msg *msg);
/* The host connection is gone: partial files are deleted. */
void agent_incoming_link_lost(struct incoming *in);

#endif
