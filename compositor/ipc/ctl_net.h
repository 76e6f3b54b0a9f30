/* The control commands about service VMs: firewall, firewall-reload. */
#ifndef VITRAIL_CTL_NET_H
#define VITRAIL_CTL_NET_H

struct ctl_client;
struct json_object;
struct server;

/* {"command":"firewall","vm":NAME}: the rules in force for a VM routed
 * through a service VM, and its drop counter */
struct json_object *ctl_net_firewall(
	struct ctl_client *client, struct server *server, struct json_object *request);
/* {"command":"firewall-reload","vm":NAME}: its rules read again from the
 * config file and sent to its service VM */
struct json_object *ctl_net_firewall_reload(
	struct ctl_client *client, struct server *server, struct json_object *request);

#endif
