/*
 * The compositor as a whole: the wlroots objects, the scene layers, the
 * list of views and the per-VM links. One struct server per process.
 */
#ifndef VITRAIL_SERVER_H
#define VITRAIL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>

struct config;
struct input_target;
struct wlr_buffer;
struct wlr_scene_tree;
struct wlr_texture;
struct clipboard;
struct ctl;
struct notify;
struct vm_notify;
struct open_router;
struct idle;
struct taskbar;
struct lock;
struct seat;
struct view;
struct vm_link;
struct vm_manager;
struct vm_slot;

/* Scene layers, bottom to top. */
enum server_layer {
	SERVER_LAYER_SHELL_BACKGROUND, /* layer-shell "background" */
	SERVER_LAYER_SHELL_BOTTOM,
	SERVER_LAYER_VIEWS,
	SERVER_LAYER_SHELL_TOP,
	SERVER_LAYER_FULLSCREEN,
	SERVER_LAYER_SHELL_OVERLAY,
	SERVER_LAYER_LOCK, /* the locked screen and the locker's surfaces (lock.h) */
	SERVER_LAYER_COUNT,
};

/* What a scene node with input meaning belongs to (wlr_scene_node.data). */
enum node_kind {
	NODE_VIEW, /* a view's tree; owner: struct view */
	NODE_FRAME, /* a part of a frame; owner: struct view, part: enum frame_part */
	/* content whose view_impl delivers its input (a guest window or
	 * popup); owner: struct view (the toplevel), target: what gets it */
	NODE_INPUT_TARGET,
	/* the border of such a popup; owner: struct view (the toplevel) */
	NODE_POPUP_BORDER,
	NODE_LAYER_SURFACE, /* owner: struct layer_surface */
};

struct node_desc {
	enum node_kind kind;
	void *owner;
	int part;
	struct input_target *target; /* NODE_INPUT_TARGET (tree/view.h) */
};

/* The desktop background: the renderer's clear color (see output.c). */
#define SERVER_BACKGROUND_RGB 0x1e1e1eu

struct server {
	struct wl_display *display;
	struct wl_event_loop *loop;
	struct config *config;
	const char *socket_name;
	char *runtime_dir; /* $XDG_RUNTIME_DIR/vitrail */

	struct wlr_backend *backend;
	struct wlr_backend *headless_backend; /* == backend with --headless */
	struct wlr_renderer *renderer;
	struct wlr_allocator *allocator;
	bool renderer_is_pixman;
	/* --headless outputs, laid out left to right in the order given */
	int headless_widths[16];
	int headless_heights[16];
	float headless_scales[16]; /* --headless WxH@SCALE; 1 when not given */
	size_t n_headless;

	struct wlr_scene *scene;
	struct wlr_scene_tree *layers[SERVER_LAYER_COUNT];
	struct wlr_output_layout *output_layout;
	struct wl_list outputs; /* struct output.link, by layout position (x, then y) */

	struct wlr_xdg_shell *xdg_shell;
	struct wlr_xdg_decoration_manager_v1 *xdg_decoration_manager;
	struct wlr_layer_shell_v1 *layer_shell;
	struct wlr_virtual_keyboard_manager_v1 *virtual_keyboard_manager;
	struct wlr_virtual_pointer_manager_v1 *virtual_pointer_manager;
	struct wlr_presentation *presentation;

	struct seat *seat;
	struct lock *lock; /* the session lock (desktop/lock.h) */
	struct idle *idle; /* idle and idle inhibitors (desktop/idle.h) */
	struct taskbar *taskbar; /* foreign-toplevel for bars (desktop/taskbar.h) */

	struct wl_list views; /* struct view.link; stacking order, top first */
	uint32_t next_view_id;

	struct vm_link **vm_links; /* one per configured VM, in config order */
	size_t n_vm_links;
	struct vm_slot *vm_slots; /* the composition root's per-VM wiring (server.c) */
	struct wl_list guest_vms; /* struct guest_vm (guest/guest_view.c) */
	struct wl_list apps_hosts; /* struct apps_host (services/apps_host.c) */
	/* guest windows that committed and wait for FRAME_DONE */
	struct wl_list guest_frame_pending;

	struct ctl *ctl;
	struct vm_manager *vm_manager; /* starts and supervises the VMs (vm_manager.h) */
	struct notify *notify; /* messages to the user (notify.h) */
	struct vm_notify *vm_notify; /* notifications from VMs (vm_notify.h) */
	struct clipboard *clipboard; /* the inter-VM clipboard (clipboard.h) */
	struct open_router *open; /* open files and URLs in another VM (open.h) */
	struct netvm *netvm; /* service VMs: links and firewall rules (netvm.h) */

	struct {
		struct wl_signal view_map; /* data: struct view, just mapped */
		/* data: struct vm_link, just made; features attach their per-VM
		 * state and free it on the link's destroy event */
		struct wl_signal new_vm_link;
		/* data: struct vm_link whose next new window the user asked for
		 * (run-app, vitrailctl run, an open-in-VM delivery) */
		struct wl_signal user_launch;
	} events;
	struct wl_listener guest_new_vm_link; /* guest_view_handle_new_link */
	struct wl_listener apps_new_vm_link; /* apps_host_handle_new_link */
	struct wl_listener vm_paused; /* vm_manager events.paused */
	struct wl_listener user_launch; /* events.user_launch */

	struct wl_listener new_output;
	struct wl_listener layout_change;
	struct wl_listener new_xdg_surface;
	struct wl_listener xdg_activate; /* xdg_activation request_activate */
	struct wl_listener new_toplevel_decoration;
	struct wl_listener new_layer_surface;
	struct wl_listener new_virtual_keyboard;
	struct wl_listener new_virtual_pointer;
	struct wl_listener new_input;
};

/* Parse "WxH[@SCALE][,WxH[@SCALE]...]" into at most max outputs (SCALE 0.5
 * to 4, default 1); false on a malformed spec. */
bool server_parse_headless(
	const char *spec, int *widths, int *heights, float *scales, size_t max, size_t *n);

bool server_init(struct server *server, struct config *config, const char *headless_spec);
/* Listen on every socket (Wayland, VMs, control) and start the backend. */
bool server_start(struct server *server);
void server_finish(struct server *server);

/* Run `sh -c cmd` detached, with WAYLAND_DISPLAY set. */
void server_spawn(struct server *server, const char *cmd);

/* The usable area (layout coordinates) of the output holding most of box,
 * or of the first output; false when there is no output. */
bool server_usable_area_for(struct server *server, const struct wlr_box *box, struct wlr_box *out);
/* The full box of that output. */
bool server_output_box_for(struct server *server, const struct wlr_box *box, struct wlr_box *out);
struct output *server_output_for(struct server *server, const struct wlr_box *box);

/* Tell every connected VM the current output size. */
void server_outputs_changed(struct server *server);

struct vm_link *server_find_vm(struct server *server, const char *name);

void server_color_from_rgb(uint32_t rgb, float color[static 4]);

/*
 * A scene buffer node for a host-made wlr_buffer, with its texture made
 * now: the scene may not create textures while it renders (our render
 * pass in output.c does not import pending buffers first). The node holds
 * the texture; *texture (may be NULL) gets it, for updates in place.
 */
struct wlr_scene_buffer *server_scene_buffer_create(struct server *server,
	struct wlr_scene_tree *parent, struct wlr_buffer *buffer, struct wlr_texture **texture);

#endif
