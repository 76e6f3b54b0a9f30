#include "desktop/taskbar.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/common/text.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_foreign_toplevel_management_v1.h>
#include <wlr/types/wlr_output.h>
#include <wlr/util/log.h>

#include "desktop/output.h"
#include "guest/vm_link.h"
#include "server.h"
#include "tree/view.h"

struct taskbar {
	struct server *server;
	struct wlr_foreign_toplevel_manager_v1 *manager;
	struct wl_list entries; /* struct entry.link */
	struct wl_listener view_map;
};

/* One listed window, from its map to its unmap. */
struct entry {
	struct taskbar *taskbar;
	struct view *view;
	struct wlr_foreign_toplevel_handle_v1 *handle;
	struct wlr_output *output; /* the one the bar was told, or NULL */
	struct wl_list link;
	struct wl_listener view_unmap;
	struct wl_listener view_changed;
	struct wl_listener request_activate;
	struct wl_listener request_close;
	struct wl_listener request_minimize;
	struct wl_listener request_maximize;
	struct wl_listener request_fullscreen;
	struct wl_listener handle_destroy;
};

static void update(struct entry *entry)
{
	struct view *view = entry->view;
	struct wlr_foreign_toplevel_handle_v1 *handle = entry->handle;
	if (view->vm != NULL) {
		const char *vm = vm_link_name(view->vm);
		char *title = text_printf("[%s] %s", vm, view->title);
		/* the app id as the app's menu entry is named (vitrail-VM-ID, ID
		 * with every byte outside [A-Za-z0-9_] as '_'): the last '-' ends
		 * the VM name, so no guest can name another VM's entry */
		char *app_id = view->app_id[0] != '\0'
			? text_printf("vitrail-%s-%s", vm, view->app_id)
			: text_printf("vitrail-%s", vm);
		if (app_id != NULL && view->app_id[0] != '\0') {
			for (char *c = app_id + strlen(app_id) - strlen(view->app_id); *c; c++) {
				bool keep = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
					(*c >= '0' && *c <= '9') || *c == '_';
				*c = keep ? *c : '_';
			}
		}
		if (title != NULL) {
			wlr_foreign_toplevel_handle_v1_set_title(handle, title);
		}
		if (app_id != NULL) {
			wlr_foreign_toplevel_handle_v1_set_app_id(handle, app_id);
		}
		free(title);
		free(app_id);
	} else {
		wlr_foreign_toplevel_handle_v1_set_title(handle, view->title);
		wlr_foreign_toplevel_handle_v1_set_app_id(handle, view->app_id);
	}
	wlr_foreign_toplevel_handle_v1_set_activated(handle, view->focused);
	wlr_foreign_toplevel_handle_v1_set_maximized(handle, view->maximized);
	wlr_foreign_toplevel_handle_v1_set_fullscreen(handle, view->fullscreen);
	wlr_foreign_toplevel_handle_v1_set_minimized(handle, view->minimized);

	struct wlr_box frame = view_frame_box(view);
	struct output *output = server_output_for(entry->taskbar->server, &frame);
	if (output == NULL && !wl_list_empty(&entry->taskbar->server->outputs)) {
		output = wl_container_of(entry->taskbar->server->outputs.next, output, link);
	}
	struct wlr_output *wlr_output = output != NULL ? output->wlr_output : NULL;
	if (wlr_output != entry->output) {
		if (entry->output != NULL) {
			wlr_foreign_toplevel_handle_v1_output_leave(handle, entry->output);
		}
		if (wlr_output != NULL) {
			wlr_foreign_toplevel_handle_v1_output_enter(handle, wlr_output);
		}
		entry->output = wlr_output;
	}
}

static void entry_free(struct entry *entry)
{
	wl_list_remove(&entry->link);
	wl_list_remove(&entry->view_unmap.link);
	wl_list_remove(&entry->view_changed.link);
	wl_list_remove(&entry->request_activate.link);
	wl_list_remove(&entry->request_close.link);
	wl_list_remove(&entry->request_minimize.link);
	wl_list_remove(&entry->request_maximize.link);
	wl_list_remove(&entry->request_fullscreen.link);
	wl_list_remove(&entry->handle_destroy.link);
	free(entry);
}

static void handle_view_unmap(struct wl_listener *listener, void *data)
{
	struct entry *entry = wl_container_of(listener, entry, view_unmap);
	struct wlr_foreign_toplevel_handle_v1 *handle = entry->handle;
	entry_free(entry);
	wlr_foreign_toplevel_handle_v1_destroy(handle);
}

static void handle_handle_destroy(struct wl_listener *listener, void *data)
{
	struct entry *entry = wl_container_of(listener, entry, handle_destroy);
	entry_free(entry);
}

static void handle_view_changed(struct wl_listener *listener, void *data)
{
	struct entry *entry = wl_container_of(listener, entry, view_changed);
	update(entry);
}

static void handle_request_activate(struct wl_listener *listener, void *data)
{
	struct entry *entry = wl_container_of(listener, entry, request_activate);
	wlr_log(WLR_INFO, "taskbar: activate window %u", entry->view->id);
	view_focus(entry->view);
}

static void handle_request_close(struct wl_listener *listener, void *data)
{
	struct entry *entry = wl_container_of(listener, entry, request_close);
	view_close(entry->view);
}

static void handle_request_minimize(struct wl_listener *listener, void *data)
{
	struct entry *entry = wl_container_of(listener, entry, request_minimize);
	struct wlr_foreign_toplevel_handle_v1_minimized_event *event = data;
	view_set_minimized(entry->view, event->minimized);
}

static void handle_request_maximize(struct wl_listener *listener, void *data)
{
	struct entry *entry = wl_container_of(listener, entry, request_maximize);
	struct wlr_foreign_toplevel_handle_v1_maximized_event *event = data;
	view_set_maximized(entry->view, event->maximized);
}

static void handle_request_fullscreen(struct wl_listener *listener, void *data)
{
	struct entry *entry = wl_container_of(listener, entry, request_fullscreen);
	struct wlr_foreign_toplevel_handle_v1_fullscreen_event *event = data;
	/* a guest's fullscreen keeps a border in its label colour (view.c) */
	view_set_fullscreen(entry->view, event->fullscreen);
}

static void listen(struct wl_signal *signal, struct wl_listener *listener, wl_notify_func_t notify)
{
	listener->notify = notify;
	wl_signal_add(signal, listener);
}

static void handle_view_map(struct wl_listener *listener, void *data)
{
	struct taskbar *taskbar = wl_container_of(listener, taskbar, view_map);
	struct view *view = data;
	struct entry *entry = calloc(1, sizeof(*entry));
	if (entry == NULL) {
		return;
	}
	entry->handle = wlr_foreign_toplevel_handle_v1_create(taskbar->manager);
	if (entry->handle == NULL) {
		free(entry);
		return;
	}
	entry->taskbar = taskbar;
	entry->view = view;
	wl_list_insert(&taskbar->entries, &entry->link);
	listen(&view->events.unmap, &entry->view_unmap, handle_view_unmap);
	listen(&view->events.changed, &entry->view_changed, handle_view_changed);
	struct wlr_foreign_toplevel_handle_v1 *h = entry->handle;
	listen(&h->events.request_activate, &entry->request_activate, handle_request_activate);
	listen(&h->events.request_close, &entry->request_close, handle_request_close);
	listen(&h->events.request_minimize, &entry->request_minimize, handle_request_minimize);
	listen(&h->events.request_maximize, &entry->request_maximize, handle_request_maximize);
	listen(&h->events.request_fullscreen, &entry->request_fullscreen,
		handle_request_fullscreen);
	listen(&h->events.destroy, &entry->handle_destroy, handle_handle_destroy);
	update(entry);
}

struct taskbar *taskbar_create(struct server *server)
{
	struct taskbar *taskbar = calloc(1, sizeof(*taskbar));
	if (taskbar == NULL) {
		return NULL;
	}
	taskbar->server = server;
	wl_list_init(&taskbar->entries);
	taskbar->manager = wlr_foreign_toplevel_manager_v1_create(server->display);
	if (taskbar->manager == NULL) {
		free(taskbar);
		return NULL;
	}
	listen(&server->events.view_map, &taskbar->view_map, handle_view_map);
	return taskbar;
}

void taskbar_destroy(struct taskbar *taskbar)
{
	if (taskbar == NULL) {
		return;
	}
	wl_list_remove(&taskbar->view_map.link);
	struct entry *entry, *tmp;
	wl_list_for_each_safe(entry, tmp, &taskbar->entries, link) {
		struct wlr_foreign_toplevel_handle_v1 *handle = entry->handle;
		entry_free(entry);
		wlr_foreign_toplevel_handle_v1_destroy(handle);
	}
	free(taskbar);
}
