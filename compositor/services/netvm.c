#define _GNU_SOURCE /* open_memstream */
#include "services/netvm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wayland-server-core.h>
#include <vitrail/common/text.h>
#include <wlr/util/log.h>

#include "config.h"
#include "guest/vm_link.h"
#include "server.h"
#include "services/vm_manager.h"

/* the NIC of a client VM that leads to its service VM (set_link) */
#define UPLINK_NIC "vtup"
/* NET_STATUS a service VM may send a second (the agent sends one every
 * 3 s and one per apply): more is a flood, and the VM is dropped */
#define STATUS_MAX_PER_S 8

struct net_entry {
	struct vm_link *link;
	const struct config_vm *config;
	int service; /* client: index of its service VM; -1: none */
	/* client: its rules as now in force (netvm_reload_rules) */
	char **rules;
	size_t n_rules;
	bool deny;
	bool nic_known, nic_up; /* client: the link state last set */

	/* service VM */
	bool sent; /* NET_CONFIG sent on the current connection */
	uint32_t sent_gen;
	bool has_status;
	uint32_t status_gen, status_state;
	int64_t status_time;
	int64_t window_start; /* CLOCK_MONOTONIC s of the rate window */
	uint32_t window_count;
	struct vtp_net_counter counters[VTP_MAX_NET_LINKS];
	uint32_t n_counters;
};

struct netvm {
	struct server *server;
	struct net_entry *entries; /* parallel to config->vms and server->vm_links */
	size_t n;
	uint32_t next_gen;
	struct wl_listener vm_state;
};

static void mac_of(uint32_t link, uint8_t last, uint8_t mac[6])
{
	const uint8_t prefix[4] = { 0x52, 0x54, 0x00, 0x8b };
	memcpy(mac, prefix, 4);
	mac[4] = (uint8_t)link;
	mac[5] = last;
}

static void add_nic(struct netvm_nics *out, const char *run_dir, const char *id, uint32_t link,
	bool service_end)
{
	size_t i = out->n++;
	snprintf(out->id[i], sizeof(out->id[i]), "%s", id);
	snprintf(out->local[i], sizeof(out->local[i]), "%s/net-%u.%s", run_dir, link,
		service_end ? "s" : "c");
	snprintf(out->remote[i], sizeof(out->remote[i]), "%s/net-%u.%s", run_dir, link,
		service_end ? "c" : "s");
	out->nic[i] = (struct vmm_nic){
		.id = out->id[i], .local = out->local[i], .remote = out->remote[i]
	};
	mac_of(link, service_end ? 1 : 2, out->nic[i].mac);
}

void netvm_nics(const struct config *config, const char *run_dir, const struct config_vm *vm,
	struct netvm_nics *out)
{
	memset(out, 0, sizeof(*out));
	if (vm->network_via != NULL) {
		add_nic(out, run_dir, UPLINK_NIC, vm->net_link, false);
	}
	if (vm->service == CONFIG_SERVICE_NONE) {
		return;
	}
	for (size_t i = 0; i < config->n_vms && out->n < VMM_MAX_NICS; i++) {
		const struct config_vm *c = &config->vms[i];
		if (c->network_via != NULL && strcmp(c->network_via, vm->name) == 0) {
			char id[16];
			snprintf(id, sizeof(id), "vtl%u", c->net_link);
			add_nic(out, run_dir, id, c->net_link, true);
		}
	}
}

/* ---- rules ---- */

static void free_rules(struct net_entry *e)
{
	for (size_t i = 0; i < e->n_rules; i++) {
		free(e->rules[i]);
	}
	free(e->rules);
	e->rules = NULL;
	e->n_rules = 0;
}

static bool copy_rules(struct net_entry *e, const struct config_vm *c)
{
	free_rules(e);
	e->deny = c->fw_default_deny;
	if (c->n_fw_rules == 0) {
		return true;
	}
	e->rules = calloc(c->n_fw_rules, sizeof(*e->rules));
	if (e->rules == NULL) {
		return false;
	}
	for (size_t i = 0; i < c->n_fw_rules; i++) {
		if ((e->rules[i] = strdup(c->fw_rules[i])) == NULL) {
			return false;
		}
		e->n_rules = i + 1;
	}
	return true;
}

/* ---- the service VM's configuration ---- */

/* The NET_CONFIG text of service VM s (protocol/README.md section 5.10). */
static char *config_text(struct netvm *netvm, size_t s, size_t *len)
{
	const struct config_vm *sc = netvm->entries[s].config;
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (f == NULL) {
		return NULL;
	}
	uint8_t mac[6];
	if (sc->network_via != NULL) {
		mac_of(sc->net_link, 2, mac);
	} else {
		memcpy(mac, (const uint8_t[]){ 0x52, 0x54, 0x00, 0x8b, 0x00, 0x00 }, 6);
	}
	fprintf(f, "role %s\nuplink %02x:%02x:%02x:%02x:%02x:%02x\n",
		sc->service == CONFIG_SERVICE_NET ? "net" : "firewall", mac[0], mac[1], mac[2],
		mac[3], mac[4], mac[5]);
	for (size_t i = 0; i < netvm->n; i++) {
		const struct net_entry *e = &netvm->entries[i];
		if (e->service != (int)s) {
			continue;
		}
		uint32_t k = e->config->net_link;
		fprintf(f, "link %u 52:54:00:8b:%02x:01 %s %s\n", k, k, e->deny ? "deny" : "allow",
			e->config->name);
		for (size_t r = 0; r < e->n_rules; r++) {
			fprintf(f, "rule %u %s\n", k, e->rules[r]);
		}
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static void send_config(struct netvm *netvm, size_t s)
{
	struct net_entry *e = &netvm->entries[s];
	size_t len = 0;
	char *text = config_text(netvm, s, &len);
	if (text == NULL) {
		wlr_log(WLR_ERROR, "[vm %s] out of memory for its network config", e->config->name);
		return;
	}
	struct vtp_net_config body = { .generation = ++netvm->next_gen };
	/* config.c kept every limit of section 5.10: the text is valid */
	if (vm_link_send(e->link, VTP_NET_CONFIG, 0, &body, text, (uint32_t)len)) {
		e->sent = true;
		e->sent_gen = body.generation;
		wlr_log(WLR_INFO, "[vm %s] network config %u sent (%zu bytes)", e->config->name,
			body.generation, len);
	}
	free(text);
}

static bool service_ready(const struct net_entry *e)
{
	return e->sent && e->has_status && e->status_gen == e->sent_gen &&
		e->status_state == VTP_NET_APPLIED && vm_link_connected(e->link);
}

/* Bring everything in line: configs to newly connected service VMs,
 * client links up or down as their service VM is ready or not. */
static void update(struct netvm *netvm)
{
	struct vm_manager *manager = netvm->server->vm_manager;
	for (size_t i = 0; i < netvm->n; i++) {
		struct net_entry *e = &netvm->entries[i];
		if (e->config->service == CONFIG_SERVICE_NONE) {
			continue;
		}
		if (!vm_link_connected(e->link) || vm_link_version(e->link) < 5) {
			e->sent = false;
			e->has_status = false;
		} else if (!e->sent) {
			send_config(netvm, i);
		}
	}
	for (size_t i = 0; i < netvm->n; i++) {
		struct net_entry *e = &netvm->entries[i];
		if (e->service < 0) {
			continue;
		}
		if (!vm_manager_qemu_running(manager, e->link)) {
			e->nic_known = false; /* a new QEMU starts with its link up */
			continue;
		}
		bool up = service_ready(&netvm->entries[e->service]);
		if (e->nic_known && e->nic_up == up) {
			continue;
		}
		char *error = NULL;
		if (vm_manager_set_nic_link(manager, e->link, UPLINK_NIC, up, &error)) {
			e->nic_known = true;
			e->nic_up = up;
			wlr_log(WLR_INFO, "[vm %s] network link %s (service VM %s %s)",
				e->config->name, up ? "up" : "down",
				netvm->entries[e->service].config->name,
				up ? "ready" : "not ready");
		} else {
			wlr_log(WLR_ERROR, "[vm %s] cannot set its network link %s: %s",
				e->config->name, up ? "up" : "down", error ? error : "?");
			free(error);
		}
	}
}

static void handle_vm_state(struct wl_listener *listener, void *data)
{
	struct netvm *netvm = wl_container_of(listener, netvm, vm_state);
	update(netvm);
}

static struct net_entry *entry_of_link(struct netvm *netvm, struct vm_link *link)
{
	for (size_t i = 0; i < netvm->n; i++) {
		if (netvm->entries[i].link == link) {
			return &netvm->entries[i];
		}
	}
	return NULL;
}

static int entry_index(struct netvm *netvm, const char *name)
{
	for (size_t i = 0; i < netvm->n; i++) {
		if (strcmp(netvm->entries[i].config->name, name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

bool netvm_handle_status(struct netvm *netvm, struct vm_link *link, const struct vtp_msg *msg)
{
	struct net_entry *e = entry_of_link(netvm, link);
	const struct vtp_net_status *st = &msg->body.net_status;
	if (e == NULL || !e->sent || st->generation > e->sent_gen || st->generation == 0) {
		vm_link_fail(link, VTP_ERR_PROTOCOL, "NET_STATUS for no network config sent");
		return false;
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != e->window_start) {
		e->window_start = now.tv_sec;
		e->window_count = 0;
	}
	if (++e->window_count > STATUS_MAX_PER_S) {
		vm_link_fail(link, VTP_ERR_LIMIT, "more than %d NET_STATUS in a second",
			STATUS_MAX_PER_S);
		return false;
	}
	size_t s = (size_t)(e - netvm->entries);
	const struct vtp_net_counter *counters = (const struct vtp_net_counter *)msg->tail;
	for (uint32_t i = 0; i < st->count; i++) {
		bool ours = false;
		for (size_t j = 0; j < netvm->n && !ours; j++) {
			ours = netvm->entries[j].service == (int)s &&
				netvm->entries[j].config->net_link == counters[i].link;
		}
		if (!ours) {
			vm_link_fail(link, VTP_ERR_PROTOCOL,
				"NET_STATUS names link %u, not one of "
				"this VM's",
				counters[i].link);
			return false;
		}
	}
	bool was_failed = e->has_status && e->status_state == VTP_NET_FAILED &&
		e->status_gen == st->generation;
	e->has_status = true;
	e->status_gen = st->generation;
	e->status_state = st->state;
	e->status_time = (int64_t)time(NULL);
	e->n_counters = st->count;
	if (st->count > 0) {
		memcpy(e->counters, counters, st->count * sizeof(*counters));
	}
	if (st->state == VTP_NET_FAILED && !was_failed) {
		wlr_log(WLR_ERROR, "[vm %s] could not apply network config %u (see its journal)",
			e->config->name, st->generation);
	}
	update(netvm);
	return true;
}

bool netvm_reload_rules(struct netvm *netvm, const char *name, char **error)
{
	*error = NULL;
	int i = entry_index(netvm, name);
	if (i < 0) {
		*error = text_printf("no VM named '%s'", name);
		return false;
	}
	struct net_entry *e = &netvm->entries[i];
	if (e->service < 0) {
		*error = text_printf(
			"VM %s is not routed through a service VM (network = via:VM)", name);
		return false;
	}
	const char *path = netvm->server->config->path;
	struct config *fresh = path != NULL ? config_load(path, error) : NULL;
	if (fresh == NULL) {
		if (*error == NULL) {
			*error = strdup("vitrail runs without a config file");
		}
		return false;
	}
	const struct config_vm *c = config_find_vm(fresh, name);
	bool ok = c != NULL && c->network_via != NULL &&
		strcmp(c->network_via, netvm->entries[e->service].config->name) == 0;
	if (!ok) {
		*error = strdup("its network changed in the config file: that applies when vitrail "
				"restarts");
	} else if (!copy_rules(e, c)) {
		*error = strdup("out of memory");
		ok = false;
	}
	config_destroy(fresh);
	if (ok) {
		struct net_entry *s = &netvm->entries[e->service];
		wlr_log(WLR_INFO, "[vm %s] firewall: %zu rules, default %s", name, e->n_rules,
			e->deny ? "deny" : "allow");
		if (vm_link_connected(s->link) && vm_link_version(s->link) >= 5) {
			send_config(netvm, (size_t)e->service);
		}
	}
	return ok;
}

const char *netvm_service_state_name(enum netvm_service_state state)
{
	switch (state) {
	case NETVM_DOWN:
		return "down";
	case NETVM_OLD_AGENT:
		return "old-agent";
	case NETVM_APPLYING:
		return "applying";
	case NETVM_APPLIED:
		return "applied";
	case NETVM_FAILED:
		return "failed";
	}
	return "?";
}

bool netvm_get_info(struct netvm *netvm, const char *name, struct netvm_info *info, char **error)
{
	*error = NULL;
	int i = entry_index(netvm, name);
	if (i < 0) {
		*error = text_printf("no VM named '%s'", name);
		return false;
	}
	const struct net_entry *e = &netvm->entries[i];
	if (e->service < 0) {
		*error = text_printf(
			"VM %s is not routed through a service VM (network = via:VM)", name);
		return false;
	}
	const struct net_entry *s = &netvm->entries[e->service];
	memset(info, 0, sizeof(*info));
	info->via = s->config->name;
	info->link = e->config->net_link;
	info->deny = e->deny;
	info->rules = e->rules;
	info->n_rules = e->n_rules;
	info->link_up = e->nic_known && e->nic_up;
	if (!vm_link_connected(s->link)) {
		info->state = NETVM_DOWN;
	} else if (vm_link_version(s->link) < 5) {
		info->state = NETVM_OLD_AGENT;
	} else if (!s->has_status || s->status_gen != s->sent_gen) {
		info->state = NETVM_APPLYING;
	} else {
		info->state = s->status_state == VTP_NET_APPLIED ? NETVM_APPLIED : NETVM_FAILED;
	}
	info->updated = s->has_status ? s->status_time : 0;
	for (uint32_t c = 0; s->has_status && c < s->n_counters; c++) {
		if (s->counters[c].link == info->link) {
			info->has_counter = true;
			info->dropped_packets = s->counters[c].packets;
			info->dropped_bytes = s->counters[c].bytes;
		}
	}
	return true;
}

struct netvm *netvm_create(struct server *server)
{
	struct netvm *netvm = calloc(1, sizeof(*netvm));
	const struct config *config = server->config;
	if (netvm == NULL) {
		return NULL;
	}
	netvm->server = server;
	netvm->n = server->n_vm_links;
	netvm->entries = calloc(netvm->n ? netvm->n : 1, sizeof(*netvm->entries));
	if (netvm->entries == NULL) {
		free(netvm);
		return NULL;
	}
	for (size_t i = 0; i < netvm->n; i++) {
		struct net_entry *e = &netvm->entries[i];
		e->link = server->vm_links[i];
		e->config = &config->vms[i];
		e->service = -1;
	}
	for (size_t i = 0; i < netvm->n; i++) {
		struct net_entry *e = &netvm->entries[i];
		if (e->config->network_via != NULL) {
			e->service = entry_index(netvm, e->config->network_via);
			if (!copy_rules(e, e->config)) {
				netvm_destroy(netvm);
				return NULL;
			}
		}
	}
	netvm->vm_state.notify = handle_vm_state;
	wl_signal_add(&vm_manager_events(server->vm_manager)->state, &netvm->vm_state);
	update(netvm);
	return netvm;
}

void netvm_destroy(struct netvm *netvm)
{
	if (netvm == NULL) {
		return;
	}
	if (netvm->vm_state.link.next != NULL) {
		wl_list_remove(&netvm->vm_state.link);
	}
	for (size_t i = 0; i < netvm->n; i++) {
		free_rules(&netvm->entries[i]);
	}
	free(netvm->entries);
	free(netvm);
}
