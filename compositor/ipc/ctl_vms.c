#include "ipc/ctl_vms.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/protocol.h>

#include "guest/vm_link.h"
#include "ipc/ctl.h"
#include "server.h"
#include "services/vm_manager.h"
#include "tree/view.h"

/* `vms`: one entry per VM, its link's facts and the manager's. */
struct json_object *ctl_vms_list(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = ctl_ok_reply();
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < server->n_vm_links; i++) {
		struct vm_link *link = server->vm_links[i];
		char label[8];
		snprintf(label, sizeof(label), "#%06x", vm_link_label(link) & 0xffffffu);
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "name", json_object_new_string(vm_link_name(link)));
		json_object_object_add(v, "label", json_object_new_string(label));
		json_object_object_add(
			v, "connected", json_object_new_boolean(vm_link_connected(link)));
		/* false while the connected agent leaves the host's PING unanswered */
		json_object_object_add(v, "responding",
			json_object_new_boolean(
				!vm_link_connected(link) || vm_link_responding(link)));
		json_object_object_add(v, "windows",
			json_object_new_int64((int64_t)view_count_mapped(server, link)));
		struct vm_info info;
		if (vm_manager_get_info(server->vm_manager, link, &info)) {
			json_object_object_add(
				v, "type", json_object_new_string(info.qemu ? "qemu" : "local"));
			json_object_object_add(v, "state",
				json_object_new_string(info.suspend != NULL ? info.suspend
						: info.preload != NULL      ? info.preload
						: info.paused               ? "paused"
							      : vm_manager_state_name(info.state)));
			json_object_object_add(v, "suspended_since",
				info.suspended_since > 0
					? json_object_new_int64(info.suspended_since)
					: NULL);
			if (info.state_file != NULL) {
				json_object_object_add(
					v, "state_file", json_object_new_string(info.state_file));
			}
			json_object_object_add(v, "paused_since",
				info.paused ? json_object_new_int64(info.paused_since) : NULL);
			json_object_object_add(v, "resumed_at",
				info.resumed_at > 0 ? json_object_new_int64(info.resumed_at)
						    : NULL);
			json_object_object_add(v, "reason", json_object_new_string(info.reason));
			if (info.accel_note != NULL) {
				json_object_object_add(
					v, "accel_note", json_object_new_string(info.accel_note));
			}
			json_object_object_add(v, "pid", json_object_new_int64(info.pid));
			json_object_object_add(v, "log",
				info.log != NULL ? json_object_new_string(info.log) : NULL);
			json_object_object_add(v, "booted_state",
				info.booted_state != NULL
					? json_object_new_string(info.booted_state)
					: NULL);
			if (info.home != NULL) {
				json_object_object_add(
					v, "home", json_object_new_string(info.home));
			}
		}
		json_object_array_add(list, v);
	}
	json_object_object_add(reply, "vms", list);
	return reply;
}

/* An error reply with a feature's message (taken), or fallback if none. */
static struct json_object *error_from(char *message, const char *fallback)
{
	struct json_object *reply = ctl_error_reply("%s", message != NULL ? message : fallback);
	free(message);
	return reply;
}

struct vm_link *ctl_vm_arg(
	struct server *server, struct json_object *request, struct json_object **reply)
{
	const char *name;
	if (!ctl_request_string(request, "vm", &name) || name == NULL) {
		*reply = ctl_error_reply("missing \"vm\"");
		return NULL;
	}
	char *error = NULL;
	struct vm_link *link = vm_manager_find(server->vm_manager, name, &error);
	if (link == NULL) {
		*reply = ctl_error_take(error);
	}
	return link;
}

static struct json_object *state_reply(enum vm_state state, const char *reason)
{
	struct json_object *reply = ctl_ok_reply();
	json_object_object_add(
		reply, "state", json_object_new_string(vm_manager_state_name(state)));
	json_object_object_add(reply, "reason", json_object_new_string(reason));
	return reply;
}

static struct json_object *current_state_reply(struct server *server, struct vm_link *link)
{
	struct vm_info info;
	if (!vm_manager_get_info(server->vm_manager, link, &info)) {
		return ctl_error_reply("no VM named '%s'", vm_link_name(link));
	}
	return state_reply(info.state, info.reason);
}

static void cancel_op(void *op)
{
	vm_manager_cancel(op);
}

/* start --wait, stop --wait */
static void handle_state_done(void *data, const struct vm_op_result *result)
{
	struct ctl_client *client = data;
	ctl_client_reply(client,
		result->error != NULL ? ctl_error_reply("%s", result->error)
				      : state_reply(result->state, result->reason));
}

static struct json_object *defer_wait(struct ctl_client *client, struct server *server,
	struct vm_link *link, enum vm_op_wait what)
{
	char *error = NULL;
	struct vm_op *op =
		vm_manager_wait(server->vm_manager, link, what, handle_state_done, client, &error);
	if (op == NULL) {
		return ctl_error_take(error);
	}
	ctl_client_defer(client, 0, cancel_op, op);
	return NULL;
}

/* {"command":"start","vm":NAME[,"wait":true]} */
struct json_object *ctl_vms_start(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = NULL;
	struct vm_link *link = ctl_vm_arg(server, request, &reply);
	if (link == NULL) {
		return reply;
	}
	bool wait = ctl_request_bool(request, "wait", false);
	char *error = NULL;
	if (!vm_manager_start(server->vm_manager, link, &error)) {
		return error_from(error, "cannot start");
	}
	if (!wait || vm_link_connected(link)) {
		return current_state_reply(server, link);
	}
	return defer_wait(client, server, link, VM_OP_CONNECTED);
}

/* {"command":"pause"|"resume","vm":NAME} -> {"ok":true,"state":...} */
static struct json_object *set_paused(
	struct server *server, struct json_object *request, bool paused)
{
	struct json_object *reply = NULL;
	struct vm_link *link = ctl_vm_arg(server, request, &reply);
	if (link == NULL) {
		return reply;
	}
	char *error = NULL;
	if (!paused && vm_manager_suspended(server->vm_manager, link)) {
		/* resume of a suspended VM: restore it */
		if (!vm_manager_start(server->vm_manager, link, &error)) {
			return error_from(error, "cannot restore");
		}
		return current_state_reply(server, link);
	}
	if (!vm_manager_set_paused(server->vm_manager, link, paused, &error)) {
		return ctl_error_take(error);
	}
	reply = ctl_ok_reply();
	json_object_object_add(
		reply, "state", json_object_new_string(paused ? "paused" : "running"));
	json_object_object_add(reply, "reason", json_object_new_string(""));
	return reply;
}

struct json_object *ctl_vms_pause(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	return set_paused(server, request, true);
}

struct json_object *ctl_vms_resume(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	return set_paused(server, request, false);
}

/* {"command":"suspend","vm":NAME} -> {"ok":true,"state":"stopped",
 * "reason":"suspended"} once QEMU is gone, or the error */
struct json_object *ctl_vms_suspend(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = NULL;
	struct vm_link *link = ctl_vm_arg(server, request, &reply);
	if (link == NULL) {
		return reply;
	}
	char *error = NULL;
	struct vm_op *op =
		vm_manager_suspend(server->vm_manager, link, handle_state_done, client, &error);
	if (op == NULL) {
		return error_from(error, "cannot suspend");
	}
	ctl_client_defer(client, 0, cancel_op, op);
	return NULL;
}

/* {"command":"stop","vm":NAME[,"wait":false]} */
struct json_object *ctl_vms_stop(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = NULL;
	struct vm_link *link = ctl_vm_arg(server, request, &reply);
	if (link == NULL) {
		return reply;
	}
	bool wait = ctl_request_bool(request, "wait", true);
	if (vm_manager_stop(server->vm_manager, link) || !wait) {
		return current_state_reply(server, link);
	}
	return defer_wait(client, server, link, VM_OP_STOPPED);
}

static void handle_run_done(void *data, const struct vm_op_result *result)
{
	struct ctl_client *client = data;
	if (result->error != NULL) {
		ctl_client_reply(client, ctl_error_reply("%s", result->error));
		return;
	}
	struct json_object *reply = ctl_ok_reply();
	json_object_object_add(reply, "result", json_object_new_string(result->run_kind));
	json_object_object_add(reply, "status", json_object_new_int(result->run_status));
	ctl_client_reply(client, reply);
}

/* The strings of the request's "argv" (pointing into request), checked
 * against the RUN limits; NULL and *error if they do not fit. */
static const char **argv_arg(struct json_object *request, size_t *argc, const char **error)
{
	struct json_object *array;
	if (!json_object_object_get_ex(request, "argv", &array) ||
		!json_object_is_type(array, json_type_array)) {
		*error = "missing \"argv\" array";
		return NULL;
	}
	size_t n = json_object_array_length(array);
	if (n < 1 || n > VTP_MAX_ARGC) {
		*error = "argv must have 1 to 256 strings";
		return NULL;
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(array, i);
		if (!json_object_is_type(s, json_type_string)) {
			*error = "argv must hold strings";
			return NULL;
		}
		size_t slen = (size_t)json_object_get_string_len(s);
		if (strlen(json_object_get_string(s)) != slen) {
			*error = "argv strings cannot hold NUL";
			return NULL;
		}
		if (i == 0 && slen == 0) {
			*error = "the command is empty";
			return NULL;
		}
		total += slen + 1;
	}
	if (total > VTP_MAX_ARGV_BYTES) {
		*error = "argv is longer than 64 KiB";
		return NULL;
	}
	const char **argv = calloc(n, sizeof(*argv));
	if (argv == NULL) {
		*error = "out of memory";
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		argv[i] = json_object_get_string(json_object_array_get_idx(array, i));
	}
	*argc = n;
	return argv;
}

/* {"command":"run","vm":NAME,"argv":[...]} -> {"ok":true,"result":KIND,"status":N} */
struct json_object *ctl_vms_run(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = NULL;
	struct vm_link *link = ctl_vm_arg(server, request, &reply);
	if (link == NULL) {
		return reply;
	}
	const char *why = NULL;
	size_t argc = 0;
	const char **argv = argv_arg(request, &argc, &why);
	if (argv == NULL) {
		return ctl_error_reply("%s", why);
	}
	char *error = NULL;
	struct vm_op *op = vm_manager_run(
		server->vm_manager, link, argv, argc, handle_run_done, client, &error);
	free(argv);
	if (op == NULL) {
		return ctl_error_take(error);
	}
	ctl_client_defer(client, 0, cancel_op, op);
	return NULL;
}

/* {"command":"balloon","vm":NAME,"mib":N} -> {"ok":true,"mib":TARGET} */
struct json_object *ctl_vms_balloon(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = NULL;
	struct vm_link *link = ctl_vm_arg(server, request, &reply);
	if (link == NULL) {
		return reply;
	}
	struct json_object *mib_obj = NULL;
	if (!json_object_object_get_ex(request, "mib", &mib_obj) ||
		!json_object_is_type(mib_obj, json_type_int)) {
		return ctl_error_reply("missing \"mib\" (an integer)");
	}
	int64_t mib = json_object_get_int64(mib_obj);
	if (mib < 64 || mib > 1048576) {
		return ctl_error_reply("mib must be 64..1048576");
	}
	char *error = NULL;
	uint32_t applied = 0;
	if (!vm_manager_balloon(server->vm_manager, link, (uint32_t)mib, &applied, &error)) {
		return ctl_error_take(error);
	}
	reply = ctl_ok_reply();
	json_object_object_add(reply, "mib", json_object_new_int64(applied));
	return reply;
}

/* {"command":"logs","vm":NAME} -> {"ok":true,"logs":[PATH...]} */
struct json_object *ctl_vms_logs(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = NULL;
	struct vm_link *link = ctl_vm_arg(server, request, &reply);
	struct vm_info info;
	if (link == NULL) {
		return reply;
	}
	if (!vm_manager_get_info(server->vm_manager, link, &info)) {
		return ctl_error_reply("no VM named '%s'", vm_link_name(link));
	}
	reply = ctl_ok_reply();
	struct json_object *logs = json_object_new_array();
	if (info.log != NULL) {
		json_object_array_add(logs, json_object_new_string(info.log));
	}
	if (info.qemu_log != NULL) {
		json_object_array_add(logs, json_object_new_string(info.qemu_log));
	}
	json_object_object_add(reply, "logs", logs);
	return reply;
}
