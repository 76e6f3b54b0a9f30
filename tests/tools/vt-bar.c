/*
 * vt-bar: a panel for tests, through wlr-layer-shell-unstable-v1.
 *
 *   vt-bar HEIGHT
 *
 * Maps a layer surface on the top layer, anchored to the top, left and
 * right edges of the first output, HEIGHT pixels high with an exclusive
 * zone of HEIGHT, and prints "mapped". Holds on until stdin ends.
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

#include "wlr-layer-shell-unstable-v1-client-protocol.h"

static struct {
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct zwlr_layer_shell_v1 *layer_shell;
	uint32_t width, height;
	bool configured;
} vt;

static void die(const char *msg)
{
	fprintf(stderr, "vt-bar: %s\n", msg);
	exit(1);
}

static void layer_configure(void *data, struct zwlr_layer_surface_v1 *surface, uint32_t serial,
	uint32_t width, uint32_t height)
{
	zwlr_layer_surface_v1_ack_configure(surface, serial);
	vt.width = width;
	vt.height = height;
	vt.configured = true;
}

static void layer_closed(void *data, struct zwlr_layer_surface_v1 *surface)
{
	exit(0);
}

static const struct zwlr_layer_surface_v1_listener layer_listener = {
	.configure = layer_configure,
	.closed = layer_closed,
};

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		vt.compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		vt.shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, zwlr_layer_shell_v1_interface.name) == 0) {
		vt.layer_shell =
			wl_registry_bind(registry, name, &zwlr_layer_shell_v1_interface, 1);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = handle_global,
	.global_remove = handle_global_remove,
};

static struct wl_buffer *make_buffer(uint32_t width, uint32_t height)
{
	size_t size = (size_t)width * height * 4;
	int fd = memfd_create("vt-bar", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		die("memfd");
	}
	uint32_t *px = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (px == MAP_FAILED) {
		die("mmap");
	}
	for (size_t i = 0; i < (size_t)width * height; i++) {
		px[i] = 0xffc0c0c0u;
	}
	munmap(px, size);
	struct wl_shm_pool *pool = wl_shm_create_pool(vt.shm, fd, (int32_t)size);
	struct wl_buffer *buffer = wl_shm_pool_create_buffer(pool, 0, (int32_t)width,
		(int32_t)height, (int32_t)width * 4, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buffer;
}

int main(int argc, char **argv)
{
	int height = argc == 2 ? atoi(argv[1]) : 0;
	if (height < 1 || height > 1000) {
		fprintf(stderr, "usage: vt-bar HEIGHT (1..1000)\n");
		return 2;
	}
	struct wl_display *display = wl_display_connect(NULL);
	if (display == NULL) {
		die("cannot connect to the compositor");
	}
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	wl_display_roundtrip(display);
	if (vt.compositor == NULL || vt.shm == NULL || vt.layer_shell == NULL) {
		die("the compositor lacks wl_compositor, wl_shm or zwlr_layer_shell_v1");
	}
	struct wl_surface *surface = wl_compositor_create_surface(vt.compositor);
	struct zwlr_layer_surface_v1 *layer = zwlr_layer_shell_v1_get_layer_surface(
		vt.layer_shell, surface, NULL, ZWLR_LAYER_SHELL_V1_LAYER_TOP, "vt-bar");
	zwlr_layer_surface_v1_add_listener(layer, &layer_listener, NULL);
	zwlr_layer_surface_v1_set_anchor(layer,
		ZWLR_LAYER_SURFACE_V1_ANCHOR_TOP | ZWLR_LAYER_SURFACE_V1_ANCHOR_LEFT |
			ZWLR_LAYER_SURFACE_V1_ANCHOR_RIGHT);
	zwlr_layer_surface_v1_set_size(layer, 0, (uint32_t)height);
	zwlr_layer_surface_v1_set_exclusive_zone(layer, height);
	wl_surface_commit(surface);
	while (!vt.configured) {
		if (wl_display_dispatch(display) < 0) {
			die("the compositor closed the connection");
		}
	}
	if (vt.width == 0 || vt.height == 0) {
		die("configured with a zero size");
	}
	wl_surface_attach(surface, make_buffer(vt.width, vt.height), 0, 0);
	wl_surface_damage(surface, 0, 0, (int32_t)vt.width, (int32_t)vt.height);
	wl_surface_commit(surface);
	wl_display_roundtrip(display);
	printf("mapped\n");
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
