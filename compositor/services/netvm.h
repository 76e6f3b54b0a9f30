/*
 * Service VMs: VMs whose network goes through another VM (network =
 * via:VM) and the service VMs (service = net | firewall) they go
 * through. Each such link K is a pair of unix datagram sockets in the
 * VM run directory (QEMU -netdev dgram, nothing on the host's network):
 * the client's one NIC (MAC 52:54:00:8b:KK:02, address 10.139.K.2 by
 * DHCP) and one NIC of the service VM (52:54:00:8b:KK:01, 10.139.K.1).
 *
 * This module gives the VM manager the NICs of a VM, sends each service
 * VM its links and their clients' firewall rules (NET_CONFIG) when its
 * agent connects or a rule changes, keeps what the service VM reports
 * (NET_STATUS), and sets each client's NIC link up only while its
 * service VM runs with its rules applied (down otherwise: a client is
 * never killed for it).
 */
#ifndef VITRAIL_SERVICES_NETVM_H
#define VITRAIL_SERVICES_NETVM_H

#include <stdbool.h>
#include <stdint.h>
#include <vitrail/protocol.h>
#include <vitrail/vmm.h>

struct server;
struct config;
struct config_vm;
struct vm_link;
struct netvm;

/* After the VM manager exists. */
struct netvm *netvm_create(struct server *server);
void netvm_destroy(struct netvm *netvm);

/* The dgram NICs of vm (its uplink to its service VM, then one per
 * client if it is a service VM), sockets under run_dir. */
struct netvm_nics {
	struct vmm_nic nic[VMM_MAX_NICS];
	size_t n;
	char id[VMM_MAX_NICS][16];
	char local[VMM_MAX_NICS][108];
	char remote[VMM_MAX_NICS][108];
};
void netvm_nics(const struct config *config, const char *run_dir, const struct config_vm *vm,
	struct netvm_nics *out);

/* NET_STATUS from link's VM. false (and the link failed) when that VM is
 * no service VM waiting for it, or names a link that is not its own. */
bool netvm_handle_status(struct netvm *netvm, struct vm_link *link, const struct vtp_msg *msg);

/* Read vm's firewall and firewall-default again from the config file
 * and send its service VM the new rules. false and *error (malloc'd) if
 * the file does not load or vm is not routed through a service VM. */
bool netvm_reload_rules(struct netvm *netvm, const char *name, char **error);

/* What `vitrailctl firewall VM` shows. Strings belong to netvm. */
enum netvm_service_state {
	NETVM_DOWN, /* the service VM's agent is not connected */
	NETVM_OLD_AGENT, /* its agent speaks a protocol before version 5 */
	NETVM_APPLYING, /* NET_CONFIG sent, no NET_STATUS for it yet */
	NETVM_APPLIED,
	NETVM_FAILED, /* the service VM could not apply it */
};
const char *netvm_service_state_name(enum netvm_service_state state);
struct netvm_info {
	const char *via; /* the service VM */
	uint32_t link; /* 1..254 */
	bool deny; /* firewall-default = deny */
	char *const *rules; /* "HOST[:PORT][/PROTO]" */
	size_t n_rules;
	enum netvm_service_state state;
	bool has_counter;
	uint64_t dropped_packets, dropped_bytes;
	int64_t updated; /* Unix time of the last NET_STATUS, 0: none */
	bool link_up; /* the client's NIC link, as last set */
};
/* false and *error (malloc'd) if there is no VM name or it is not routed
 * through a service VM. */
bool netvm_get_info(struct netvm *netvm, const char *name, struct netvm_info *info, char **error);

#endif
