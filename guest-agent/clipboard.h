/*
 * The guest side of the inter-VM clipboard. Inside the VM the clipboard
 * stays local (wl_data_device, primary selection, and wlr-data-control so
 * that wl-copy and wl-paste work without focus). The host asks for the
 * current selection only when the user pressed its copy key on one of
 * this VM's windows (CLIPBOARD_REQUEST): the agent reads it as UTF-8 text
 * from its owner through a pipe, never blocking, capped at what the host
 * asked for, and sends it in CLIPBOARD_DATA chunks. When the user pastes
 * into this VM (CLIPBOARD_SET), the text becomes the selection, offered by
 * the agent itself.
 */
#ifndef VITRAIL_AGENT_CLIPBOARD_H
#define VITRAIL_AGENT_CLIPBOARD_H

struct agent_clipboard;
struct agent_server;
struct vtp_msg;

/* How long the selection owner may take to hand over its text. */
#define AGENT_CLIPBOARD_READ_TIMEOUT_MS 2000
/* Apps reading a pasted text at the same time, and how long each may take. */
#define AGENT_CLIPBOARD_MAX_WRITERS 32
#define AGENT_CLIPBOARD_WRITE_TIMEOUT_MS 30000
/* CLIPBOARD_DATA is queued while less than this is waiting for the host. */
#define AGENT_CLIPBOARD_SEND_WINDOW (1024u * 1024u)

struct agent_clipboard *agent_clipboard_create(struct agent_server *server);
void agent_clipboard_destroy(struct agent_clipboard *clipboard);

/* CLIPBOARD_REQUEST from the host: answer with the selection. */
void agent_clipboard_handle_request(struct agent_clipboard *clipboard, const struct vtp_msg *msg);
/* A CLIPBOARD_SET chunk: the last one makes the text the selection. */
void agent_clipboard_handle_set(struct agent_clipboard *clipboard, const struct vtp_msg *msg);
/* The host connection is gone: stop answering, drop a partial paste. */
void agent_clipboard_link_lost(struct agent_clipboard *clipboard);

#endif
