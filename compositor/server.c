#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/render/allocator.h>
#include <wlr/render/pixman.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_data_control_v1.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_layer_shell_v1.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_primary_selection_v1.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_screencopy_v1.h>
#include <wlr/types/wlr_viewporter.h>
#include <wlr/types/wlr_virtual_keyboard_v1.h>
#include <wlr/types/wlr_virtual_pointer_v1.h>
#include <wlr/types/wlr_xdg_activation_v1.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_output_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>

#include "config.h"
#include "desktop/layer_shell.h"
#include "desktop/idle.h"
#include "desktop/lock.h"
#include "desktop/taskbar.h"
#include "desktop/output.h"
#include "desktop/xdg.h"
#include "guest/guest_view.h"
#include "input/seat.h"
#include "ipc/ctl.h"
#include "guest/vm_link.h"
#include "services/apps_host.h"
#include "services/clipboard.h"
#include "services/notify.h"
#include "services/vm_notify.h"
#include "services/open.h"
#include "services/vm_manager.h"
#include "services/netvm.h"
#include <vitrail/common/fs.h>

#define HEADLESS_MAX_DIM 16384
#define HEADLESS_MAX_OUTPUTS 16

void server_color_from_rgb(uint32_t rgb, float color[static 4])
{
	color[0] = ((rgb >> 16) & 0xff) / 255.0f;
	color[1] = ((rgb >> 8) & 0xff) / 255.0f;
	color[2] = (rgb & 0xff) / 255.0f;
	color[3] = 1.0f;
}

struct wlr_scene_buffer *server_scene_buffer_create(struct server *server,
	struct wlr_scene_tree *parent, struct wlr_buffer *buffer, struct wlr_texture **texture)
{
	/* a client buffer carries its texture; under pixman the texture reads
	 * the source buffer's memory at every paint (no copy) */
	struct wlr_client_buffer *client = wlr_client_buffer_create(buffer, server->renderer);
	if (client == NULL) {
		return NULL;
	}
	struct wlr_scene_buffer *node = wlr_scene_buffer_create(&parent->node, &client->base);
	/* the node holds its own lock; the client buffer goes with it */
	wlr_buffer_unlock(&client->base);
	if (node != NULL && texture != NULL) {
		*texture = client->texture;
	}
	return node;
}

bool server_parse_headless(
	const char *spec, int *widths, int *heights, float *scales, size_t max, size_t *n)
{
	*n = 0;
	const char *p = spec;
	while (*p != '\0') {
		char *end;
		errno = 0;
		long w = strtol(p, &end, 10);
		if (end == p || *end != 'x' || errno != 0 || w < 1 || w > HEADLESS_MAX_DIM) {
			return false;
		}
		p = end + 1;
		long h = strtol(p, &end, 10);
		if (end == p || errno != 0 || h < 1 || h > HEADLESS_MAX_DIM) {
			return false;
		}
		if (*n >= max) {
			return false;
		}
		double scale = 1.0;
		if (*end == '@') {
			p = end + 1;
			scale = strtod(p, &end);
			if (end == p || errno != 0 || !(scale >= 0.5 && scale <= 4.0)) {
				return false;
			}
		}
		widths[*n] = (int)w;
		heights[*n] = (int)h;
		scales[*n] = (float)scale;
		(*n)++;
		p = end;
		if (*p == ',') {
			p++;
			if (*p == '\0') {
				return false;
			}
		} else if (*p != '\0') {
			return false;
		}
	}
	return *n > 0;
}

struct output *server_output_for(struct server *server, const struct wlr_box *box)
{
	struct output *best = NULL;
	long best_area = 0;
	struct output *output;
	wl_list_for_each(output, &server->outputs, link) {
		struct wlr_box inter;
		if (wlr_box_intersection(&inter, &output->box, box)) {
			long area = (long)inter.width * inter.height;
			if (area > best_area) {
				best_area = area;
				best = output;
			}
		}
	}
	return best;
}

static struct output *output_or_first(struct server *server, const struct wlr_box *box)
{
	struct output *output = server_output_for(server, box);
	if (output == NULL && !wl_list_empty(&server->outputs)) {
		output = wl_container_of(server->outputs.next, output, link);
	}
	return output;
}

bool server_usable_area_for(struct server *server, const struct wlr_box *box, struct wlr_box *out)
{
	struct output *output = output_or_first(server, box);
	if (output == NULL) {
		return false;
	}
	*out = output->usable_area;
	return true;
}

bool server_output_box_for(struct server *server, const struct wlr_box *box, struct wlr_box *out)
{
	struct output *output = output_or_first(server, box);
	if (output == NULL) {
		return false;
	}
	*out = output->box;
	return true;
}

/* ---- the VMs: one transport each, wired to the features ---- */

/*
 * The composition root's per-VM record. The link is the transport; each
 * feature attaches its own per-VM state on events.new_vm_link and frees
 * it with the link (its destroy event); the slot keeps the pointers.
 * Messages the link validated are routed here, so the transport knows no
 * feature and no feature knows another's state.
 */
struct vm_slot {
	struct server *server;
	struct vm_link *link;
	struct guest_vm *windows;
	struct apps_host *apps;
};

/* A click on (or the focus coming to) a window of a paused or suspended
 * VM resumes it, unless its [vm] section says resume-on-input = false.
 * Any input to its windows restarts its suspend-after time. */
static void handle_guest_wake(void *data, struct guest_vm *gvm, bool resume)
{
	struct vm_slot *slot = data;
	vm_manager_note_input(slot->server->vm_manager, slot->link);
	const struct config_vm *config = vm_link_config(slot->link);
	if (!resume || (config != NULL && !config->resume_on_input)) {
		return;
	}
	vm_manager_wake(slot->server->vm_manager, slot->link);
}

static void handle_link_connected(void *data, struct vm_link *link)
{
	struct vm_slot *slot = data;
	guest_vm_connected(slot->windows);
}

static void handle_link_disconnected(void *data, struct vm_link *link)
{
	struct vm_slot *slot = data;
	guest_vm_disconnected(slot->windows);
}

static bool handle_link_message(void *data, struct vm_link *link, const struct vtp_msg *msg)
{
	struct vm_slot *slot = data;
	struct server *server = slot->server;
	switch (msg->header.type) {
	case VTP_WINDOW_CREATE:
	case VTP_WINDOW_DESTROY:
	case VTP_SET_TITLE:
	case VTP_SET_APP_ID:
	case VTP_SET_SIZE_HINTS:
	case VTP_ACK_CONFIGURE:
	case VTP_MOVE_REQUEST:
	case VTP_RESIZE_REQUEST:
	case VTP_SET_MAXIMIZED:
	case VTP_SET_FULLSCREEN:
	case VTP_ATTACH:
	case VTP_DAMAGE:
	case VTP_COMMIT:
	case VTP_SET_CURSOR:
	case VTP_IDLE_INHIBIT:
		return guest_vm_handle_message(slot->windows, msg);
	case VTP_RUN_RESULT:
		/* RUN answers go to the VM manager, LAUNCH_APP answers to the
		 * app host: each ignores the other's request ids */
		vm_manager_handle_run_result(server->vm_manager, link, msg);
		return apps_host_handle_run_result(slot->apps, msg);
	case VTP_APPS_CHANGED:
	case VTP_APP_LIST_BEGIN:
	case VTP_APP_INFO:
	case VTP_APP_ICON:
	case VTP_APP_LIST_END:
		return apps_host_handle_message(slot->apps, msg);
	case VTP_CLIPBOARD_DATA:
		return clipboard_handle_data(server->clipboard, link, msg);
	case VTP_OPEN_URL:
	case VTP_OPEN_FILE_BEGIN:
	case VTP_OPEN_FILE_CHUNK:
	case VTP_OPEN_FILE_END:
	case VTP_DELIVER_RESULT:
		return open_handle_message(server->open, link, msg);
	case VTP_NOTIFY:
	case VTP_NOTIFY_CLOSE:
		return vm_notify_handle_message(server->vm_notify, link, msg);
	case VTP_NET_STATUS:
		if (server->netvm == NULL) {
			vm_link_fail(
				link, VTP_ERR_PROTOCOL, "NET_STATUS for no network config sent");
			return false;
		}
		return netvm_handle_status(server->netvm, link, msg);
	default:
		/* valid messages of no feature of this host */
		wlr_log(WLR_DEBUG, "[vm %s] ignoring %s", vm_link_name(link),
			vtp_type_name(msg->header.type));
		return true;
	}
}

static void handle_link_responding(void *data, struct vm_link *link, bool responding)
{
	struct vm_slot *slot = data;
	guest_vm_set_responding(slot->windows, responding);
}

static const struct vm_link_handler link_handler = {
	.connected = handle_link_connected,
	.message = handle_link_message,
	.disconnected = handle_link_disconnected,
	.responding = handle_link_responding,
};

static bool create_vm_slot(struct server *server, const struct config_vm *vm)
{
	struct vm_slot *slot = &server->vm_slots[server->n_vm_links];
	slot->server = server;
	char *socket_path = NULL;
	if (vm->type != CONFIG_VM_QEMU) {
		size_t len = strlen(server->runtime_dir) + strlen(vm->name) + 16;
		socket_path = malloc(len);
		if (socket_path == NULL) {
			return false;
		}
		snprintf(socket_path, len, "%s/vm/%s.sock", server->runtime_dir, vm->name);
	}
	struct vm_link_options options = {
		.name = vm->name,
		.label_rgb = vm->label_rgb,
		.config = vm,
		.socket_path = socket_path,
		.pool_size = (uint64_t)vm->pool_size_mib << 20,
	};
	slot->link = vm_link_create(server->loop, &options, &link_handler, slot);
	free(socket_path);
	if (slot->link == NULL) {
		return false;
	}
	/* counted now: vm_link_destroy runs for it whatever comes next */
	server->vm_links[server->n_vm_links++] = slot->link;
	/* the features attach their per-VM state; the router keeps theirs */
	wl_signal_emit(&server->events.new_vm_link, slot->link);
	slot->windows = guest_vm_from_link(server, slot->link);
	slot->apps = apps_host_from_link(server, slot->link);
	if (slot->windows != NULL) {
		guest_vm_set_wake(slot->windows, handle_guest_wake, slot);
	}
	return slot->windows != NULL && slot->apps != NULL;
}

/* The user asked for a window of a VM: its next one may take the focus. */
static void handle_user_launch(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, user_launch);
	for (size_t i = 0; i < server->n_vm_links; i++) {
		if (server->vm_slots[i].link == data) {
			guest_vm_expect_window(server->vm_slots[i].windows);
		}
	}
}

/* The VM manager paused or resumed a VM: its windows show it. */
static void handle_vm_paused(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, vm_paused);
	struct vm_link *link = data;
	for (size_t i = 0; i < server->n_vm_links; i++) {
		if (server->vm_slots[i].link == link) {
			guest_vm_set_paused(server->vm_slots[i].windows,
				vm_manager_paused(server->vm_manager, link));
			guest_vm_set_suspended(server->vm_slots[i].windows,
				vm_manager_suspended(server->vm_manager, link));
		}
	}
}

void server_outputs_changed(struct server *server)
{
	lock_outputs_changed(server->lock);
	for (size_t i = 0; i < server->n_vm_links; i++) {
		guest_vm_send_output_info(server->vm_slots[i].windows);
	}
}

struct vm_link *server_find_vm(struct server *server, const char *name)
{
	for (size_t i = 0; i < server->n_vm_links; i++) {
		if (strcmp(vm_link_name(server->vm_links[i]), name) == 0) {
			return server->vm_links[i];
		}
	}
	return NULL;
}

void server_spawn(struct server *server, const char *cmd)
{
	if (cmd == NULL || cmd[0] == '\0') {
		return;
	}
	/* double fork: the command is nobody's child here, no reaping */
	pid_t pid = fork();
	if (pid < 0) {
		wlr_log_errno(WLR_ERROR, "cannot fork for %s", cmd);
		return;
	}
	if (pid == 0) {
		pid_t child = fork();
		if (child == 0) {
			sigset_t set;
			sigemptyset(&set);
			sigprocmask(SIG_SETMASK, &set, NULL);
			signal(SIGPIPE, SIG_DFL);
			setsid();
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			_exit(127);
		}
		_exit(child < 0 ? 1 : 0);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
	}
}

/* ---- listeners ---- */

static void handle_new_output(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_output);
	output_create(server, data);
}

static void handle_layout_change(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, layout_change);
	struct output *output;
	wl_list_for_each(output, &server->outputs, link) {
		output_update_geometry(output);
	}
	output_sort_list(server);
}

static void handle_new_input(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_input);
	seat_add_device(server->seat, data, false);
}

static void handle_new_virtual_keyboard(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_virtual_keyboard);
	struct wlr_virtual_keyboard_v1 *keyboard = data;
	seat_add_device(server->seat, &keyboard->input_device, true);
}

static void handle_new_virtual_pointer(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_virtual_pointer);
	struct wlr_virtual_pointer_v1_new_pointer_event *event = data;
	struct wlr_input_device *device = &event->new_pointer->input_device;
	seat_add_device(server->seat, device, true);
	if (event->suggested_output != NULL) {
		wlr_cursor_map_input_to_output(
			server->seat->cursor, device, event->suggested_output);
	}
}

/* ---- setup ---- */

static bool make_private_dir(const char *path)
{
	if (!fs_private_dir(path)) {
		wlr_log_errno(WLR_ERROR, "cannot use %s as a private directory", path);
		return false;
	}
	return true;
}

static bool make_runtime_dir(struct server *server)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg == NULL || xdg[0] != '/') {
		wlr_log(WLR_ERROR, "XDG_RUNTIME_DIR is not set");
		return false;
	}
	size_t len = strlen(xdg) + 16;
	server->runtime_dir = malloc(len);
	char *vm_dir = malloc(len);
	if (server->runtime_dir == NULL || vm_dir == NULL) {
		free(vm_dir);
		return false;
	}
	snprintf(server->runtime_dir, len, "%s/vitrail", xdg);
	snprintf(vm_dir, len, "%s/vitrail/vm", xdg);
	bool ok = make_private_dir(server->runtime_dir) && make_private_dir(vm_dir);
	free(vm_dir);
	return ok;
}

bool server_init(struct server *server, struct config *config, const char *headless_spec)
{
	memset(server, 0, sizeof(*server));
	server->config = config;
	wl_list_init(&server->outputs);
	wl_list_init(&server->views);
	wl_list_init(&server->guest_frame_pending);
	wl_list_init(&server->guest_vms);
	wl_list_init(&server->apps_hosts);
	wl_signal_init(&server->events.view_map);
	wl_signal_init(&server->events.new_vm_link);
	wl_signal_init(&server->events.user_launch);
	server->user_launch.notify = handle_user_launch;
	wl_signal_add(&server->events.user_launch, &server->user_launch);
	server->guest_new_vm_link.notify = guest_view_handle_new_link;
	wl_signal_add(&server->events.new_vm_link, &server->guest_new_vm_link);
	server->apps_new_vm_link.notify = apps_host_handle_new_link;
	wl_signal_add(&server->events.new_vm_link, &server->apps_new_vm_link);
	struct wl_listener *listeners[] = { &server->new_output, &server->layout_change,
		&server->new_xdg_surface, &server->new_toplevel_decoration,
		&server->new_layer_surface, &server->new_virtual_keyboard,
		&server->new_virtual_pointer, &server->new_input, &server->vm_paused,
		&server->xdg_activate };
	for (size_t i = 0; i < sizeof(listeners) / sizeof(listeners[0]); i++) {
		wl_list_init(&listeners[i]->link);
	}

	_Static_assert(sizeof(server->headless_widths) / sizeof(server->headless_widths[0]) ==
			HEADLESS_MAX_OUTPUTS,
		"room for every headless output");
	if (headless_spec != NULL &&
		!server_parse_headless(headless_spec, server->headless_widths,
			server->headless_heights, server->headless_scales, HEADLESS_MAX_OUTPUTS,
			&server->n_headless)) {
		wlr_log(WLR_ERROR, "bad --headless value: %s", headless_spec);
		return false;
	}
	if (!make_runtime_dir(server)) {
		return false;
	}

	server->display = wl_display_create();
	if (server->display == NULL) {
		return false;
	}
	server->loop = wl_display_get_event_loop(server->display);

	if (headless_spec != NULL) {
		server->backend = wlr_headless_backend_create(server->display);
		server->headless_backend = server->backend;
	} else {
		server->backend = wlr_backend_autocreate(server->display);
	}
	if (server->backend == NULL) {
		wlr_log(WLR_ERROR, "cannot create a backend");
		return false;
	}
	server->renderer = wlr_renderer_autocreate(server->backend);
	if (server->renderer == NULL) {
		wlr_log(WLR_ERROR, "cannot create a renderer");
		return false;
	}
	server->renderer_is_pixman = wlr_renderer_is_pixman(server->renderer);
	wlr_renderer_init_wl_display(server->renderer, server->display);
	server->allocator = wlr_allocator_autocreate(server->backend, server->renderer);
	if (server->allocator == NULL) {
		wlr_log(WLR_ERROR, "cannot create an allocator");
		return false;
	}

	wlr_compositor_create(server->display, server->renderer);
	wlr_data_device_manager_create(server->display);
	wlr_primary_selection_v1_device_manager_create(server->display);
	wlr_data_control_manager_v1_create(server->display);
	wlr_viewporter_create(server->display);

	server->output_layout = wlr_output_layout_create();
	if (server->output_layout == NULL) {
		return false;
	}
	wlr_xdg_output_manager_v1_create(server->display, server->output_layout);
	server->layout_change.notify = handle_layout_change;
	wl_signal_add(&server->output_layout->events.change, &server->layout_change);

	server->scene = wlr_scene_create();
	if (server->scene == NULL) {
		return false;
	}
	for (int i = 0; i < SERVER_LAYER_COUNT; i++) {
		server->layers[i] = wlr_scene_tree_create(&server->scene->node);
		if (server->layers[i] == NULL) {
			return false;
		}
	}
	wlr_scene_attach_output_layout(server->scene, server->output_layout);
	server->presentation = wlr_presentation_create(server->display, server->backend);
	if (server->presentation != NULL) {
		wlr_scene_set_presentation(server->scene, server->presentation);
	}

	server->seat = seat_create(server);
	if (server->seat == NULL) {
		return false;
	}
	/* the session lock (ext-session-lock-v1, swaylock): fails closed */
	server->lock = lock_create(server);
	if (server->lock == NULL) {
		return false;
	}
	server->idle = idle_create(server);
	if (server->idle == NULL) {
		return false;
	}
	server->taskbar = taskbar_create(server);
	if (server->taskbar == NULL) {
		return false;
	}
	server->notify = notify_create(server);
	server->clipboard = clipboard_create(server);
	if (server->notify == NULL || server->clipboard == NULL) {
		return false;
	}
	server->vm_notify = vm_notify_create(server);
	if (server->vm_notify == NULL) {
		return false;
	}

	server->xdg_shell = wlr_xdg_shell_create(server->display);
	server->new_xdg_surface.notify = xdg_handle_new_surface;
	wl_signal_add(&server->xdg_shell->events.new_surface, &server->new_xdg_surface);
	struct wlr_xdg_activation_v1 *activation = wlr_xdg_activation_v1_create(server->display);
	if (activation == NULL) {
		wlr_log(WLR_ERROR, "cannot create the xdg-activation global");
		return false;
	}
	server->xdg_activate.notify = xdg_handle_activate;
	wl_signal_add(&activation->events.request_activate, &server->xdg_activate);
	server->xdg_decoration_manager = wlr_xdg_decoration_manager_v1_create(server->display);
	server->new_toplevel_decoration.notify = xdg_handle_new_decoration;
	wl_signal_add(&server->xdg_decoration_manager->events.new_toplevel_decoration,
		&server->new_toplevel_decoration);
	server->layer_shell = wlr_layer_shell_v1_create(server->display);
	server->new_layer_surface.notify = layer_shell_handle_new_surface;
	wl_signal_add(&server->layer_shell->events.new_surface, &server->new_layer_surface);

	wlr_screencopy_manager_v1_create(server->display);
	server->virtual_keyboard_manager = wlr_virtual_keyboard_manager_v1_create(server->display);
	server->new_virtual_keyboard.notify = handle_new_virtual_keyboard;
	wl_signal_add(&server->virtual_keyboard_manager->events.new_virtual_keyboard,
		&server->new_virtual_keyboard);
	server->virtual_pointer_manager = wlr_virtual_pointer_manager_v1_create(server->display);
	server->new_virtual_pointer.notify = handle_new_virtual_pointer;
	wl_signal_add(&server->virtual_pointer_manager->events.new_virtual_pointer,
		&server->new_virtual_pointer);

	server->new_output.notify = handle_new_output;
	wl_signal_add(&server->backend->events.new_output, &server->new_output);
	server->new_input.notify = handle_new_input;
	wl_signal_add(&server->backend->events.new_input, &server->new_input);

	if (server->headless_backend != NULL &&
		wlr_headless_add_input_device(server->backend, WLR_INPUT_DEVICE_KEYBOARD) == NULL) {
		/* without a keyboard, clients get no keymap at all */
		wlr_log(WLR_ERROR, "cannot add a headless keyboard");
	}
	for (size_t i = 0; i < server->n_headless; i++) {
		if (wlr_headless_add_output(server->backend, (unsigned)server->headless_widths[i],
			    (unsigned)server->headless_heights[i]) == NULL) {
			wlr_log(WLR_ERROR, "cannot add a headless output");
			return false;
		}
	}
	return true;
}

bool server_start(struct server *server)
{
	server->socket_name = wl_display_add_socket_auto(server->display);
	if (server->socket_name == NULL) {
		wlr_log(WLR_ERROR, "cannot open a Wayland socket");
		return false;
	}
	if (!wlr_backend_start(server->backend)) {
		wlr_log(WLR_ERROR, "cannot start the backend");
		return false;
	}
	setenv("WAYLAND_DISPLAY", server->socket_name, true);

	const struct config *config = server->config;
	if (config->n_vms > 0) {
		server->vm_links = calloc(config->n_vms, sizeof(*server->vm_links));
		server->vm_slots = calloc(config->n_vms, sizeof(*server->vm_slots));
		if (server->vm_links == NULL || server->vm_slots == NULL) {
			return false;
		}
	}
	for (size_t i = 0; i < config->n_vms; i++) {
		if (!create_vm_slot(server, &config->vms[i])) {
			return false;
		}
	}
	/* menu entries of VMs no longer configured */
	apps_host_prune(server);
	char *open_error = NULL;
	server->open = open_create(server, &open_error);
	if (server->open == NULL) {
		wlr_log(WLR_ERROR, "%s", open_error != NULL ? open_error : "out of memory");
		free(open_error);
		return false;
	}
	/* re-attach to running VMs, autostart */
	server->vm_manager = vm_manager_create(server);
	if (server->vm_manager == NULL) {
		return false;
	}
	server->vm_paused.notify = handle_vm_paused;
	wl_signal_add(&vm_manager_events(server->vm_manager)->paused, &server->vm_paused);
	server->netvm = netvm_create(server);
	if (server->netvm == NULL) {
		return false;
	}

	const char *ctl_path = getenv("VITRAIL_SOCK");
	char *default_path = NULL;
	if (ctl_path == NULL || ctl_path[0] == '\0') {
		size_t len = strlen(server->runtime_dir) + 16;
		default_path = malloc(len);
		if (default_path == NULL) {
			return false;
		}
		snprintf(default_path, len, "%s/ctl.sock", server->runtime_dir);
		ctl_path = default_path;
	}
	server->ctl = ctl_create(server, ctl_path);
	free(default_path);
	if (server->ctl == NULL) {
		return false;
	}

	printf("WAYLAND_DISPLAY=%s\n", server->socket_name);
	fflush(stdout);
	wlr_log(WLR_INFO, "running on WAYLAND_DISPLAY=%s (%s renderer)", server->socket_name,
		server->renderer_is_pixman ? "pixman" : "gpu");
	return true;
}

void server_finish(struct server *server)
{
	ctl_destroy(server->ctl);
	server->ctl = NULL;
	taskbar_destroy(server->taskbar);
	server->taskbar = NULL;
	idle_destroy(server->idle);
	server->idle = NULL;
	lock_destroy(server->lock); /* before clients go: no more lock events */
	server->lock = NULL;
	open_destroy(server->open);
	server->open = NULL;
	netvm_destroy(server->netvm);
	server->netvm = NULL;
	/* QEMU VMs keep running, local agents stop */
	wl_list_remove(&server->vm_paused.link);
	wl_list_init(&server->vm_paused.link);
	vm_manager_destroy(server->vm_manager);
	server->vm_manager = NULL;
	clipboard_destroy(server->clipboard);
	server->clipboard = NULL;
	vm_notify_destroy(server->vm_notify);
	server->vm_notify = NULL;
	notify_destroy(server->notify);
	server->notify = NULL;
	for (size_t i = 0; i < server->n_vm_links; i++) {
		vm_link_destroy(server->vm_links[i]);
	}
	free(server->vm_links);
	server->vm_links = NULL;
	free(server->vm_slots);
	server->vm_slots = NULL;
	wl_list_remove(&server->guest_new_vm_link.link);
	wl_list_remove(&server->apps_new_vm_link.link);
	wl_list_remove(&server->user_launch.link);
	server->n_vm_links = 0;
	if (server->display != NULL) {
		wl_display_destroy_clients(server->display);
	}
	wl_list_remove(&server->new_output.link);
	wl_list_remove(&server->new_input.link);
	if (server->backend != NULL) {
		wlr_backend_destroy(server->backend);
	}
	wl_list_remove(&server->new_xdg_surface.link);
	wl_list_remove(&server->xdg_activate.link);
	wl_list_remove(&server->new_toplevel_decoration.link);
	wl_list_remove(&server->new_layer_surface.link);
	wl_list_remove(&server->new_virtual_keyboard.link);
	wl_list_remove(&server->new_virtual_pointer.link);
	seat_destroy(server->seat);
	wl_list_remove(&server->layout_change.link);
	if (server->output_layout != NULL) {
		wlr_output_layout_destroy(server->output_layout);
	}
	/* after the layout: the scene listens to its destruction */
	if (server->scene != NULL) {
		wlr_scene_node_destroy(&server->scene->node);
	}
	if (server->allocator != NULL) {
		wlr_allocator_destroy(server->allocator);
	}
	if (server->renderer != NULL) {
		wlr_renderer_destroy(server->renderer);
	}
	if (server->display != NULL) {
		wl_display_destroy(server->display);
	}
	free(server->runtime_dir);
}
