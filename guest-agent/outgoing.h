/*
 * Requests from this guest to open a file or URL in another VM. The agent
 * listens on a private unix socket (0600) named after its Wayland socket,
 * $XDG_RUNTIME_DIR/vitrail-agent-open-WAYLAND.sock (so that agents sharing a
 * runtime dir do not collide), exports its path as $VITRAIL_OPEN_SOCK to the
 * programs it starts, and vitrail-open finds it there or through
 * $WAYLAND_DISPLAY. vitrail-open sends
 * one request per connection as protocol messages: OPEN_URL, or
 * OPEN_FILE_BEGIN, OPEN_FILE_CHUNK..., OPEN_FILE_END. The agent checks them
 * with the host's decoder, gives each its own request id and forwards it
 * to the host, with flow control: it stops reading the local socket while
 * more than LINK_QUEUE_HIGH bytes wait for the host. The host's
 * OPEN_RESULT goes back to the client, which then disconnects.
 */
#ifndef VITRAIL_AGENT_OUTGOING_H
#define VITRAIL_AGENT_OUTGOING_H

#include <stdbool.h>
#include <vitrail/protocol.h>

struct agent_server;
struct outgoing;

#define OUTGOING_SOCKET_PREFIX "vitrail-agent-open-"
#define OUTGOING_MAX_CLIENTS 8
/* A client that sends nothing for this long is dropped. */
#define OUTGOING_IDLE_TIMEOUT_MS 60000

/* Listen (and export VITRAIL_OPEN_SOCK for the apps the agent starts).
 * NULL when there is no place to listen; the agent runs on without it. */
struct outgoing *agent_outgoing_create(struct agent_server *server);
void agent_outgoing_destroy(struct outgoing *out);
/* OPEN_RESULT from the host. */
void agent_outgoing_handle_result(struct outgoing *out, const struct vtp_msg *msg);
/* The host connection is gone: every pending request fails. */
void agent_outgoing_link_lost(struct outgoing *out);

#endif
