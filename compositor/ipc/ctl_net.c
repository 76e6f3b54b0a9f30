#include "ipc/ctl_net.h"

#include <json-c/json.h>
#include <stdio.h>

#include "ipc/ctl.h"
#include "server.h"
#include "services/netvm.h"

static const char *vm_name(struct json_object *request, struct json_object **reply)
{
	const char *name = NULL;
	if (!ctl_request_string(request, "vm", &name)) {
		*reply = ctl_error_reply("missing 'vm'");
	}
	return name;
}

struct json_object *ctl_net_firewall(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = NULL;
	const char *name = vm_name(request, &reply);
	if (name == NULL) {
		return reply;
	}
	struct netvm_info info;
	char *error = NULL;
	if (!netvm_get_info(server->netvm, name, &info, &error)) {
		return ctl_error_take(error);
	}
	char address[24], gateway[24];
	snprintf(address, sizeof(address), "10.139.%u.2", info.link);
	snprintf(gateway, sizeof(gateway), "10.139.%u.1", info.link);
	struct json_object *fw = json_object_new_object();
	json_object_object_add(fw, "vm", json_object_new_string(name));
	json_object_object_add(fw, "via", json_object_new_string(info.via));
	json_object_object_add(fw, "link", json_object_new_int64(info.link));
	json_object_object_add(fw, "address", json_object_new_string(address));
	json_object_object_add(fw, "gateway", json_object_new_string(gateway));
	json_object_object_add(fw, "link_up", json_object_new_boolean(info.link_up));
	json_object_object_add(fw, "default", json_object_new_string(info.deny ? "deny" : "allow"));
	struct json_object *rules = json_object_new_array();
	for (size_t i = 0; i < info.n_rules; i++) {
		json_object_array_add(rules, json_object_new_string(info.rules[i]));
	}
	json_object_object_add(fw, "rules", rules);
	json_object_object_add(
		fw, "state", json_object_new_string(netvm_service_state_name(info.state)));
	json_object_object_add(fw, "dropped_packets",
		info.has_counter ? json_object_new_int64((int64_t)info.dropped_packets) : NULL);
	json_object_object_add(fw, "dropped_bytes",
		info.has_counter ? json_object_new_int64((int64_t)info.dropped_bytes) : NULL);
	json_object_object_add(
		fw, "updated", info.updated > 0 ? json_object_new_int64(info.updated) : NULL);
	reply = ctl_ok_reply();
	json_object_object_add(reply, "firewall", fw);
	return reply;
}

struct json_object *ctl_net_firewall_reload(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = NULL;
	const char *name = vm_name(request, &reply);
	if (name == NULL) {
		return reply;
	}
	char *error = NULL;
	if (!netvm_reload_rules(server->netvm, name, &error)) {
		return ctl_error_take(error);
	}
	return ctl_ok_reply();
}
