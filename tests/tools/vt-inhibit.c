/*
 * vt-inhibit: a window with an idle inhibitor, for tests.
 *
 *   vt-inhibit
 *
 * Maps a 64x64 xdg toplevel and puts a zwp_idle_inhibitor_v1 on its surface.
 * Prints "inhibiting" on stdout, then holds on until stdin ends. Exits 3
 * (printing "no idle inhibit manager") when the compositor offers none.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include "idle-inhibit-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#define SIZE 64

static struct {
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct zwp_idle_inhibit_manager_v1 *inhibit_manager;
	struct wl_surface *surface;
	bool configured;
} vt;

static void die(const char *msg)
{
	fprintf(stderr, "vt-inhibit: %s\n", msg);
	exit(1);
}

static void handle_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = { .ping = handle_ping };

static void handle_surface_configure(void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
	xdg_surface_ack_configure(xdg_surface, serial);
	vt.configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = handle_surface_configure,
};

static void handle_toplevel_configure(
	void *data, struct xdg_toplevel *toplevel, int32_t w, int32_t h, struct wl_array *states)
{
}

static void handle_toplevel_close(void *data, struct xdg_toplevel *toplevel)
{
	exit(0);
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = handle_toplevel_configure,
	.close = handle_toplevel_close,
};

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		vt.compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		vt.shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		vt.wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
	} else if (strcmp(interface, zwp_idle_inhibit_manager_v1_interface.name) == 0) {
		vt.inhibit_manager =
			wl_registry_bind(registry, name, &zwp_idle_inhibit_manager_v1_interface, 1);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = handle_global,
	.global_remove = handle_global_remove,
};

static struct wl_buffer *make_buffer(void)
{
	size_t size = SIZE * SIZE * 4;
	int fd = memfd_create("vt-inhibit", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		die("memfd");
	}
	uint32_t *px = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (px == MAP_FAILED) {
		die("mmap");
	}
	for (size_t i = 0; i < SIZE * SIZE; i++) {
		px[i] = 0xff808080u;
	}
	munmap(px, size);
	struct wl_shm_pool *pool = wl_shm_create_pool(vt.shm, fd, (int32_t)size);
	struct wl_buffer *buffer =
		wl_shm_pool_create_buffer(pool, 0, SIZE, SIZE, SIZE * 4, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buffer;
}

int main(void)
{
	struct wl_display *display = wl_display_connect(NULL);
	if (display == NULL) {
		die("cannot connect to the compositor");
	}
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	wl_display_roundtrip(display);
	if (vt.compositor == NULL || vt.shm == NULL || vt.wm_base == NULL) {
		die("the compositor lacks wl_compositor, wl_shm or xdg_wm_base");
	}
	if (vt.inhibit_manager == NULL) {
		printf("no idle inhibit manager\n");
		return 3;
	}
	xdg_wm_base_add_listener(vt.wm_base, &wm_base_listener, NULL);
	vt.surface = wl_compositor_create_surface(vt.compositor);
	struct xdg_surface *xdg_surface = xdg_wm_base_get_xdg_surface(vt.wm_base, vt.surface);
	xdg_surface_add_listener(xdg_surface, &xdg_surface_listener, NULL);
	struct xdg_toplevel *toplevel = xdg_surface_get_toplevel(xdg_surface);
	xdg_toplevel_add_listener(toplevel, &toplevel_listener, NULL);
	xdg_toplevel_set_title(toplevel, "vt-inhibit");
	wl_surface_commit(vt.surface);
	while (!vt.configured) {
		if (wl_display_dispatch(display) < 0) {
			die("the compositor closed the connection");
		}
	}
	zwp_idle_inhibit_manager_v1_create_inhibitor(vt.inhibit_manager, vt.surface);
	wl_surface_attach(vt.surface, make_buffer(), 0, 0);
	wl_surface_damage(vt.surface, 0, 0, SIZE, SIZE);
	wl_surface_commit(vt.surface);
	wl_display_roundtrip(display);
	printf("inhibiting\n");
	fflush(stdout);
	for (;;) {
		wl_display_flush(display);
		struct pollfd fds[2] = {
			{ .fd = wl_display_get_fd(display), .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		if (poll(fds, 2, -1) < 0) {
			die("poll");
		}
		if ((fds[0].revents & POLLIN) && wl_display_dispatch(display) < 0) {
			die("the compositor closed the connection");
		}
		if (fds[1].revents & (POLLIN | POLLHUP)) {
			char buf[64];
			if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0) {
				return 0;
			}
		}
	}
}
