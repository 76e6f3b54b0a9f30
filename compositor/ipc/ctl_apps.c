#include "ipc/ctl_apps.h"

#include <json-c/json.h>
#include <stdint.h>

#include "ipc/ctl.h"
#include "server.h"
#include "services/apps_host.h"

static void cancel_sync(void *op)
{
	apps_host_cancel_sync(op);
}

static void handle_sync_done(void *data, const struct apps_host_sync_result *result)
{
	struct ctl_client *client = data;
	if (result->error != NULL) {
		ctl_client_reply(client, ctl_error_reply("%s", result->error));
		return;
	}
	struct json_object *reply = ctl_ok_reply();
	struct json_object *vms = json_object_new_array();
	for (size_t i = 0; i < result->n_vms; i++) {
		struct json_object *vm = json_object_new_object();
		json_object_object_add(vm, "name", json_object_new_string(result->vms[i].name));
		json_object_object_add(vm, "apps", json_object_new_int64(result->vms[i].apps));
		json_object_array_add(vms, vm);
	}
	json_object_object_add(reply, "vms", vms);
	ctl_client_reply(client, reply);
}

/* {"command":"menus-sync"[,"vm":NAME]} -> {"ok":true,"vms":[{"name":N,"apps":K}]} */
struct json_object *ctl_apps_menus_sync(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	const char *vm_name;
	if (!ctl_request_string(request, "vm", &vm_name)) {
		return ctl_error_reply("\"vm\" must be a string");
	}
	char *error = NULL;
	struct apps_sync *op = apps_host_sync(server, vm_name, handle_sync_done, client, &error);
	if (op == NULL && error != NULL) {
		return ctl_error_take(error);
	}
	if (op == NULL) {
		/* no VM to sync */
		struct json_object *reply = ctl_ok_reply();
		json_object_object_add(reply, "vms", json_object_new_array());
		return reply;
	}
	ctl_client_defer(client, APPS_HOST_SYNC_TIMEOUT_MS + 5000, cancel_sync, op);
	return NULL;
}

static void cancel_launch(void *op)
{
	apps_host_cancel_launch(op);
}

static void handle_launch_done(void *data, const struct apps_host_launch_result *result)
{
	struct ctl_client *client = data;
	if (result->error != NULL) {
		ctl_client_reply(client, ctl_error_reply("%s", result->error));
		return;
	}
	struct json_object *reply = ctl_ok_reply();
	json_object_object_add(reply, "vm", json_object_new_string(result->vm));
	json_object_object_add(reply, "id", json_object_new_string(result->id));
	json_object_object_add(reply, "result", json_object_new_string("started"));
	ctl_client_reply(client, reply);
}

/* {"command":"run-app","vm":NAME,"id":"foo.desktop"} -> {"ok":true,"vm":..,"id":..,"result":"started"} */
struct json_object *ctl_apps_run_app(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	const char *vm_name, *id;
	if (!ctl_request_string(request, "vm", &vm_name) || vm_name == NULL) {
		return ctl_error_reply("missing or non-string \"vm\"");
	}
	if (!ctl_request_string(request, "id", &id) || id == NULL) {
		return ctl_error_reply("missing or non-string \"id\"");
	}
	char *error = NULL;
	struct apps_launch *op =
		apps_host_launch(server, vm_name, id, handle_launch_done, client, &error);
	if (op == NULL) {
		return ctl_error_take(error);
	}
	ctl_client_defer(client, APPS_HOST_START_TIMEOUT_MS + 5000, cancel_launch, op);
	return NULL;
}
