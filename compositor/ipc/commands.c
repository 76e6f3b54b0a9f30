#include "ipc/commands.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "desktop/output.h"
#include "guest/vm_link.h"
#include "ipc/ctl.h"
#include "ipc/ctl_apps.h"
#include "ipc/ctl_open.h"
#include "ipc/ctl_net.h"
#include "ipc/ctl_snapshots.h"
#include "ipc/ctl_vms.h"
#include "server.h"
#include "services/clipboard.h"
#include "tree/view.h"

#include <wlr/types/wlr_output.h>

static void format_label(uint32_t rgb, char out[8])
{
	snprintf(out, 8, "#%06x", rgb & 0xffffffu);
}

static struct json_object *windows_reply(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = ctl_ok_reply();
	struct json_object *list = json_object_new_array();
	struct view *view;
	wl_list_for_each(view, &server->views, link) {
		if (!view->mapped) {
			continue;
		}
		char label[8];
		format_label(view->label_rgb, label);
		struct json_object *w = json_object_new_object();
		json_object_object_add(w, "id", json_object_new_int64(view->id));
		json_object_object_add(w, "vm",
			view->vm != NULL ? json_object_new_string(vm_link_name(view->vm)) : NULL);
		json_object_object_add(w, "title", json_object_new_string(view->title));
		json_object_object_add(w, "app_id", json_object_new_string(view->app_id));
		json_object_object_add(w, "x", json_object_new_int(view->x));
		json_object_object_add(w, "y", json_object_new_int(view->y));
		json_object_object_add(w, "width", json_object_new_int(view->width));
		json_object_object_add(w, "height", json_object_new_int(view->height));
		json_object_object_add(w, "focused", json_object_new_boolean(view->focused));
		json_object_object_add(w, "minimized", json_object_new_boolean(view->minimized));
		json_object_object_add(w, "label", json_object_new_string(label));
		if (view->buffer_scale > 0) {
			/* the guest buffer shown: pixels and their scale */
			json_object_object_add(
				w, "buffer_width", json_object_new_int(view->buffer_width));
			json_object_object_add(
				w, "buffer_height", json_object_new_int(view->buffer_height));
			json_object_object_add(
				w, "buffer_scale", json_object_new_int(view->buffer_scale));
		}
		json_object_array_add(list, w);
	}
	json_object_object_add(reply, "windows", list);
	return reply;
}

/* {"outputs":[{"name","x","y","width","height","scale","frames"}...]}, in
 * layout order; frames counts the frames rendered since the output came */
static struct json_object *outputs_reply(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = ctl_ok_reply();
	struct json_object *list = json_object_new_array();
	struct output *output;
	wl_list_for_each(output, &server->outputs, link) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(output->wlr_output->name));
		json_object_object_add(o, "x", json_object_new_int(output->box.x));
		json_object_object_add(o, "y", json_object_new_int(output->box.y));
		json_object_object_add(o, "width", json_object_new_int(output->box.width));
		json_object_object_add(o, "height", json_object_new_int(output->box.height));
		json_object_object_add(
			o, "scale", json_object_new_double(output->wlr_output->scale));
		json_object_object_add(o, "frames", json_object_new_int64((int64_t)output->frames));
		json_object_array_add(list, o);
	}
	json_object_object_add(reply, "outputs", list);
	return reply;
}

/* {"clipboard":{"empty":bool[,"source":"vm"|"host","bytes":N,"age":S]}}: never the text */
static struct json_object *clipboard_reply(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = ctl_ok_reply();
	struct json_object *state = json_object_new_object();
	const char *source;
	size_t bytes;
	uint64_t age;
	bool full = clipboard_status(server->clipboard, &source, &bytes, &age);
	json_object_object_add(state, "empty", json_object_new_boolean(!full));
	if (full) {
		json_object_object_add(state, "source", json_object_new_string(source));
		json_object_object_add(state, "bytes", json_object_new_int64((int64_t)bytes));
		json_object_object_add(state, "age", json_object_new_int64((int64_t)age));
	}
	json_object_object_add(reply, "clipboard", state);
	return reply;
}

static struct json_object *clear_clipboard(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	clipboard_clear(server->clipboard);
	return ctl_ok_reply();
}

/* The window of the request's "id"; NULL and *error if there is none. */
static struct view *view_arg(struct server *server, struct json_object *request, const char **error)
{
	struct json_object *id_obj;
	if (!json_object_object_get_ex(request, "id", &id_obj) ||
		!json_object_is_type(id_obj, json_type_int)) {
		*error = "missing or non-integer \"id\"";
		return NULL;
	}
	int64_t id = json_object_get_int64(id_obj);
	struct view *view = id > 0 && id <= UINT32_MAX ? view_from_id(server, (uint32_t)id) : NULL;
	if (view == NULL || !view->mapped) {
		*error = "no such window";
		return NULL;
	}
	return view;
}

static struct json_object *focus(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	const char *error = NULL;
	struct view *view = view_arg(server, request, &error);
	if (view == NULL) {
		return ctl_error_reply("%s", error);
	}
	view_focus(view);
	return ctl_ok_reply();
}

/* An integer member of the request in [min, max]. */
static bool int_arg(struct json_object *request, const char *key, int min, int max, int *out)
{
	struct json_object *v;
	if (!json_object_object_get_ex(request, key, &v) ||
		!json_object_is_type(v, json_type_int)) {
		return false;
	}
	int64_t n = json_object_get_int64(v);
	if (n < min || n > max) {
		return false;
	}
	*out = (int)n;
	return true;
}

/* "state": "on", "off" or "toggle" (the default), applied to current. */
static bool state_arg(struct json_object *request, bool current, bool *out)
{
	const char *state = "toggle";
	struct json_object *v;
	if (json_object_object_get_ex(request, "state", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			return false;
		}
		state = json_object_get_string(v);
	}
	if (strcmp(state, "toggle") == 0) {
		*out = !current;
	} else if (strcmp(state, "on") == 0 || strcmp(state, "off") == 0) {
		*out = strcmp(state, "on") == 0;
	} else {
		return false;
	}
	return true;
}

/* {"command":"move","id":N,"x":X,"y":Y}: the content's top-left corner */
static struct json_object *move_window(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	const char *error = NULL;
	struct view *view = view_arg(server, request, &error);
	int x, y;
	if (view == NULL) {
		return ctl_error_reply("%s", error);
	}
	if (!int_arg(request, "x", -32768, 32767, &x) ||
		!int_arg(request, "y", -32768, 32767, &y)) {
		return ctl_error_reply("move needs integer \"x\" and \"y\" (-32768..32767)");
	}
	if (view->maximized || view->fullscreen) {
		return ctl_error_reply("the window is %s: restore it first",
			view->fullscreen ? "fullscreen" : "maximized");
	}
	view_move(view, x, y);
	return ctl_ok_reply();
}

/* {"command":"resize","id":N,"width":W,"height":H}: asks the app */
static struct json_object *resize_window(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	const char *error = NULL;
	struct view *view = view_arg(server, request, &error);
	int w, h;
	if (view == NULL) {
		return ctl_error_reply("%s", error);
	}
	if (!int_arg(request, "width", 1, 16384, &w) || !int_arg(request, "height", 1, 16384, &h)) {
		return ctl_error_reply("resize needs integer \"width\" and \"height\" (1..16384)");
	}
	if (view->maximized || view->fullscreen) {
		return ctl_error_reply("the window is %s: restore it first",
			view->fullscreen ? "fullscreen" : "maximized");
	}
	view_request_size(view, w, h);
	return ctl_ok_reply();
}

/* {"command":"maximize"|"fullscreen","id":N[,"state":"on"|"off"|"toggle"]} */
static struct json_object *set_state(
	struct server *server, struct json_object *request, bool fullscreen)
{
	const char *error = NULL;
	struct view *view = view_arg(server, request, &error);
	if (view == NULL) {
		return ctl_error_reply("%s", error);
	}
	bool on;
	if (!state_arg(request, fullscreen ? view->fullscreen : view->maximized, &on)) {
		return ctl_error_reply("\"state\" is \"on\", \"off\" or \"toggle\"");
	}
	if (fullscreen) {
		const struct config_vm *config = view->vm != NULL ? vm_link_config(view->vm) : NULL;
		if (on && view->vm != NULL && (config == NULL || !config->allow_fullscreen)) {
			return ctl_error_reply("VM %s does not allow fullscreen windows "
					       "(allow-fullscreen = false)",
				vm_link_name(view->vm));
		}
		view_set_fullscreen(view, on);
	} else {
		view_set_maximized(view, on);
	}
	struct json_object *reply = ctl_ok_reply();
	json_object_object_add(reply, "state", json_object_new_string(on ? "on" : "off"));
	return reply;
}

static struct json_object *maximize_window(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	return set_state(server, request, false);
}

static struct json_object *fullscreen_window(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	return set_state(server, request, true);
}

static struct json_object *close_window(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	const char *error = NULL;
	struct view *view = view_arg(server, request, &error);
	if (view == NULL) {
		return ctl_error_reply("%s", error);
	}
	view_close(view);
	return ctl_ok_reply();
}

static struct json_object *exit_vitrail(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	ctl_client_exit_after(client);
	return ctl_ok_reply();
}

static struct json_object *version(
	struct ctl_client *client, struct server *server, struct json_object *request)
{
	struct json_object *reply = ctl_ok_reply();
	json_object_object_add(reply, "version", json_object_new_string(VITRAIL_VERSION));
	return reply;
}

static const struct ctl_command commands[] = {
	{ "windows", windows_reply },
	{ "vms", ctl_vms_list },
	{ "outputs", outputs_reply },
	{ "focus", focus },
	{ "close", close_window },
	{ "move", move_window },
	{ "resize", resize_window },
	{ "maximize", maximize_window },
	{ "fullscreen", fullscreen_window },
	{ "exit", exit_vitrail },
	{ "version", version },
	{ "start", ctl_vms_start },
	{ "stop", ctl_vms_stop },
	{ "pause", ctl_vms_pause },
	{ "suspend", ctl_vms_suspend },
	{ "resume", ctl_vms_resume },
	{ "run", ctl_vms_run },
	{ "logs", ctl_vms_logs },
	{ "balloon", ctl_vms_balloon },
	{ "firewall", ctl_net_firewall },
	{ "firewall-reload", ctl_net_firewall_reload },
	{ "snapshot", ctl_snapshots_take },
	{ "snapshots", ctl_snapshots_list },
	{ "revert", ctl_snapshots_revert },
	{ "snapshot-delete", ctl_snapshots_delete },
	{ "menus-sync", ctl_apps_menus_sync },
	{ "run-app", ctl_apps_run_app },
	{ "clipboard", clipboard_reply },
	{ "open", ctl_open },
	{ "clipboard-clear", clear_clipboard },
};

const struct ctl_command *commands_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0) {
			return &commands[i];
		}
	}
	return NULL;
}
