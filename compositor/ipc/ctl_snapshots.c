#include "ipc/ctl_snapshots.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <vitrail/vmm_snapshot.h>

#include "guest/vm_link.h"
#include "ipc/ctl.h"
#include "ipc/ctl_vms.h"
#include "server.h"
#include "services/vm_manager.h"

/* {"command":"snapshots","vm":NAME} -> {"ok":true,"running":B,
 *  "volumes":[{"role","path"}...],"snapshots":[{"name","date","ram",
 *  "vm_state_bytes","volumes":[ROLE...]}...]} (oldest first) */
struct json_object *ctl_snapshots_list(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = NULL;
	struct vm_link *link = ctl_vm_arg(server, request, &reply);
	if (link == NULL) {
		return reply;
	}
	struct vmm_snapshot_volumes volumes;
	struct vmm_snapshot *list = NULL;
	size_t n = 0;
	bool running = false;
	char *error = NULL;
	if (!vm_manager_snapshots(
		    server->vm_manager, link, &volumes, &list, &n, &running, &error)) {
		return ctl_error_take(error);
	}
	reply = ctl_ok_reply();
	json_object_object_add(reply, "running", json_object_new_boolean(running));
	struct json_object *vols = json_object_new_array();
	for (size_t i = 0; i < volumes.n; i++) {
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "role", json_object_new_string(volumes.role[i]));
		json_object_object_add(v, "path", json_object_new_string(volumes.path[i]));
		json_object_array_add(vols, v);
	}
	json_object_object_add(reply, "volumes", vols);
	struct json_object *snaps = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_new_object();
		json_object_object_add(s, "name", json_object_new_string(list[i].name));
		json_object_object_add(s, "date", json_object_new_int64(list[i].date));
		json_object_object_add(
			s, "ram", json_object_new_boolean(list[i].vm_state_bytes > 0));
		json_object_object_add(s, "vm_state_bytes",
			json_object_new_int64((int64_t)list[i].vm_state_bytes));
		struct json_object *on = json_object_new_array();
		for (size_t v = 0; v < volumes.n; v++) {
			if (list[i].volumes & (1u << v)) {
				json_object_array_add(on, json_object_new_string(volumes.role[v]));
			}
		}
		json_object_object_add(s, "volumes", on);
		json_object_array_add(snaps, s);
	}
	json_object_object_add(reply, "snapshots", snaps);
	free(list);
	return reply;
}

static struct json_object *done_reply(enum vm_state state, const char *reason)
{
	struct json_object *reply = ctl_ok_reply();
	json_object_object_add(
		reply, "state", json_object_new_string(vm_manager_state_name(state)));
	json_object_object_add(reply, "reason", json_object_new_string(reason));
	return reply;
}

static void handle_done(void *data, const struct vm_op_result *result)
{
	struct ctl_client *client = data;
	ctl_client_reply(client,
		result->error != NULL ? ctl_error_reply("%s", result->error)
				      : done_reply(result->state, result->reason));
}

static void cancel_op(void *op)
{
	vm_manager_cancel(op);
}

/* {"command":"snapshot"|"revert"|"snapshot-delete","vm":VM,"name":NAME}
 * -> {"ok":true,"state":STATE,"reason":R} once done */
static struct json_object *snapshot_command(struct ctl_client *client, struct server *server,
	struct json_object *request, enum vmm_snapshot_op action)
{
	struct json_object *reply = NULL;
	struct vm_link *link = ctl_vm_arg(server, request, &reply);
	if (link == NULL) {
		return reply;
	}
	const char *name;
	if (!ctl_request_string(request, "name", &name) || name == NULL) {
		return ctl_error_reply("missing \"name\"");
	}
	char *error = NULL;
	struct vm_op *op = NULL;
	if (!vm_manager_snapshot(
		    server->vm_manager, link, action, name, handle_done, client, &op, &error)) {
		return ctl_error_take(error);
	}
	if (op == NULL) {
		struct vm_info info;
		if (!vm_manager_get_info(server->vm_manager, link, &info)) {
			return ctl_error_reply("no VM named '%s'", vm_link_name(link));
		}
		return done_reply(info.state, info.reason);
	}
	ctl_client_defer(client, 0, cancel_op, op);
	return NULL;
}

struct json_object *ctl_snapshots_take(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	return snapshot_command(client, server, request, VMM_SNAPSHOT_TAKE);
}

struct json_object *ctl_snapshots_revert(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	return snapshot_command(client, server, request, VMM_SNAPSHOT_REVERT);
}

struct json_object *ctl_snapshots_delete(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	return snapshot_command(client, server, request, VMM_SNAPSHOT_DELETE);
}
