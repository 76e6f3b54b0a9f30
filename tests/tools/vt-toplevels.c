/*
 * vt-toplevels: a taskbar for tests, through
 * wlr-foreign-toplevel-management-unstable-v1.
 *
 *   vt-toplevels list          one line a window: TITLE<TAB>APP_ID<TAB>STATES
 *                              (STATES: comma-separated of maximized,
 *                              minimized, activated, fullscreen, or -),
 *                              <TAB>outputs=N (outputs it was told of)
 *   vt-toplevels ACTION TITLE  activate, minimize, unminimize, maximize,
 *                              unmaximize, fullscreen, unfullscreen or close
 *                              the window titled TITLE; exit 3 if none is
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-client.h>

#include "wlr-foreign-toplevel-management-unstable-v1-client-protocol.h"

#define MAX_TOPLEVELS 256

struct toplevel {
	struct zwlr_foreign_toplevel_handle_v1 *handle;
	char title[512], app_id[512];
	uint32_t states; /* bit per state */
	int outputs;
	bool closed;
};

static struct {
	struct wl_seat *seat;
	struct zwlr_foreign_toplevel_manager_v1 *manager;
	struct toplevel toplevels[MAX_TOPLEVELS];
	int n;
} vt;

static void copy(char *dst, const char *src)
{
	snprintf(dst, 512, "%s", src != NULL ? src : "");
}

static void h_title(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, const char *title)
{
	copy(((struct toplevel *)data)->title, title);
}
static void h_app_id(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, const char *app_id)
{
	copy(((struct toplevel *)data)->app_id, app_id);
}
static void h_output_enter(
	void *data, struct zwlr_foreign_toplevel_handle_v1 *h, struct wl_output *o)
{
	((struct toplevel *)data)->outputs++;
}
static void h_output_leave(
	void *data, struct zwlr_foreign_toplevel_handle_v1 *h, struct wl_output *o)
{
	((struct toplevel *)data)->outputs--;
}
static void h_state(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, struct wl_array *states)
{
	struct toplevel *t = data;
	t->states = 0;
	uint32_t *s;
	wl_array_for_each(s, states) {
		if (*s < 32) {
			t->states |= 1u << *s;
		}
	}
}
static void h_done(void *data, struct zwlr_foreign_toplevel_handle_v1 *h)
{
}
static void h_closed(void *data, struct zwlr_foreign_toplevel_handle_v1 *h)
{
	((struct toplevel *)data)->closed = true;
}
static void h_parent(void *data, struct zwlr_foreign_toplevel_handle_v1 *h,
	struct zwlr_foreign_toplevel_handle_v1 *parent)
{
}

static const struct zwlr_foreign_toplevel_handle_v1_listener handle_listener = {
	.title = h_title,
	.app_id = h_app_id,
	.output_enter = h_output_enter,
	.output_leave = h_output_leave,
	.state = h_state,
	.done = h_done,
	.closed = h_closed,
	.parent = h_parent,
};

static void m_toplevel(void *data, struct zwlr_foreign_toplevel_manager_v1 *m,
	struct zwlr_foreign_toplevel_handle_v1 *handle)
{
	if (vt.n == MAX_TOPLEVELS) {
		return;
	}
	struct toplevel *t = &vt.toplevels[vt.n++];
	t->handle = handle;
	zwlr_foreign_toplevel_handle_v1_add_listener(handle, &handle_listener, t);
}
static void m_finished(void *data, struct zwlr_foreign_toplevel_manager_v1 *m)
{
}

static const struct zwlr_foreign_toplevel_manager_v1_listener manager_listener = {
	.toplevel = m_toplevel,
	.finished = m_finished,
};

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	if (strcmp(interface, wl_output_interface.name) == 0) {
		/* bound, so that the compositor can say which output a window is on */
		wl_registry_bind(registry, name, &wl_output_interface, 1);
	} else if (strcmp(interface, wl_seat_interface.name) == 0 && vt.seat == NULL) {
		vt.seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
	} else if (strcmp(interface, zwlr_foreign_toplevel_manager_v1_interface.name) == 0) {
		vt.manager = wl_registry_bind(registry, name,
			&zwlr_foreign_toplevel_manager_v1_interface, version < 3 ? version : 3);
		zwlr_foreign_toplevel_manager_v1_add_listener(vt.manager, &manager_listener, NULL);
	}
}
static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}
static const struct wl_registry_listener registry_listener = {
	.global = handle_global,
	.global_remove = handle_global_remove,
};

int main(int argc, char *argv[])
{
	if (argc < 2 || (strcmp(argv[1], "list") != 0 && argc != 3)) {
		fprintf(stderr, "usage: vt-toplevels list | vt-toplevels ACTION TITLE\n");
		return 2;
	}
	struct wl_display *display = wl_display_connect(NULL);
	if (display == NULL) {
		fprintf(stderr, "vt-toplevels: cannot connect\n");
		return 1;
	}
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	wl_display_roundtrip(display);
	if (vt.manager == NULL || vt.seat == NULL) {
		fprintf(stderr, "vt-toplevels: no zwlr_foreign_toplevel_manager_v1\n");
		return 1;
	}
	wl_display_roundtrip(display);
	wl_display_roundtrip(display);
	if (strcmp(argv[1], "list") == 0) {
		static const char *const names[] = { "maximized", "minimized", "activated",
			"fullscreen" };
		for (int i = 0; i < vt.n; i++) {
			struct toplevel *t = &vt.toplevels[i];
			if (t->closed) {
				continue;
			}
			char states[128] = "";
			for (int s = 0; s < 4; s++) {
				if (t->states & (1u << s)) {
					strcat(states, states[0] ? "," : "");
					strcat(states, names[s]);
				}
			}
			printf("%s\t%s\t%s\toutputs=%d\n", t->title, t->app_id,
				states[0] ? states : "-", t->outputs);
		}
		return 0;
	}
	struct toplevel *t = NULL;
	for (int i = 0; i < vt.n; i++) {
		if (!vt.toplevels[i].closed && strcmp(vt.toplevels[i].title, argv[2]) == 0) {
			t = &vt.toplevels[i];
		}
	}
	if (t == NULL) {
		fprintf(stderr, "vt-toplevels: no window titled '%s'\n", argv[2]);
		return 3;
	}
	const char *a = argv[1];
	if (strcmp(a, "activate") == 0) {
		zwlr_foreign_toplevel_handle_v1_activate(t->handle, vt.seat);
	} else if (strcmp(a, "minimize") == 0) {
		zwlr_foreign_toplevel_handle_v1_set_minimized(t->handle);
	} else if (strcmp(a, "unminimize") == 0) {
		zwlr_foreign_toplevel_handle_v1_unset_minimized(t->handle);
	} else if (strcmp(a, "maximize") == 0) {
		zwlr_foreign_toplevel_handle_v1_set_maximized(t->handle);
	} else if (strcmp(a, "unmaximize") == 0) {
		zwlr_foreign_toplevel_handle_v1_unset_maximized(t->handle);
	} else if (strcmp(a, "fullscreen") == 0) {
		zwlr_foreign_toplevel_handle_v1_set_fullscreen(t->handle, NULL);
	} else if (strcmp(a, "unfullscreen") == 0) {
		zwlr_foreign_toplevel_handle_v1_unset_fullscreen(t->handle);
	} else if (strcmp(a, "close") == 0) {
		zwlr_foreign_toplevel_handle_v1_close(t->handle);
	} else {
		fprintf(stderr, "vt-toplevels: unknown action '%s'\n", a);
		return 2;
	}
	wl_display_roundtrip(display);
	return 0;
}
