/*
 * Service VMs (protocol version 5, protocol/README.md section 5.10): in a
 * VM the host made a network or firewall VM, NET_CONFIG carries its
 * client links and their firewall rules. The agent writes the checked
 * text to $XDG_RUNTIME_DIR/vitrail-net.conf and runs the root helper
 * (`sudo -n` LIBEXECDIR/vitrail/vitrail-net-apply) on it, one run at a
 * time; it answers NET_STATUS after each run and every few seconds with
 * the drop counters, and runs it again every minute while a rule names a
 * host (host names are resolved in this VM).
 */
#ifndef VITRAIL_AGENT_NET_H
#define VITRAIL_AGENT_NET_H

#include <vitrail/protocol.h>

struct agent_server;
struct agent_net;

struct agent_net *agent_net_create(struct agent_server *server);
void agent_net_destroy(struct agent_net *net);
/* NET_CONFIG from the host (checked by the decoder). */
void agent_net_handle_config(struct agent_net *net, const struct vtp_msg *msg);
/* The link went down: stop reporting (the applied rules stay in force). */
void agent_net_link_lost(struct agent_net *net);

#endif
