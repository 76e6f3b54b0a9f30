/*
 * vt-activate: a host window that uses xdg-activation-v1, for tests.
 *
 *   vt-activate TITLE
 *
 * Maps a 120x80 xdg toplevel titled TITLE and prints "mapped". Then reads
 * commands on stdin, one a line, until it ends:
 *   token        asks for a token naming no input event; prints "token T"
 *   token-click  asks for a token for the last pointer button event on
 *                its window (seat, serial, surface); prints "token T"
 *   activate T   asks that its window be activated with token T; prints
 *                "requested"
 * and prints "button" when a pointer button is pressed on its window.
 * Exits 3 (printing "no xdg-activation") when the compositor offers none.
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

#include "xdg-activation-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#define WIDTH 120
#define HEIGHT 80

static struct {
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct wl_seat *seat;
	struct wl_pointer *pointer;
	struct xdg_wm_base *wm_base;
	struct xdg_activation_v1 *activation;
	struct wl_surface *surface;
	uint32_t button_serial;
	bool have_button;
	bool configured;
	bool token_done;
} vt;

static void die(const char *msg)
{
	fprintf(stderr, "vt-activate: %s\n", msg);
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

static void p_enter(void *data, struct wl_pointer *p, uint32_t serial, struct wl_surface *s,
	wl_fixed_t x, wl_fixed_t y)
{
}
static void p_leave(void *data, struct wl_pointer *p, uint32_t serial, struct wl_surface *s)
{
}
static void p_motion(void *data, struct wl_pointer *p, uint32_t time, wl_fixed_t x, wl_fixed_t y)
{
}
static void p_button(void *data, struct wl_pointer *p, uint32_t serial, uint32_t time,
	uint32_t button, uint32_t state)
{
	if (state == WL_POINTER_BUTTON_STATE_PRESSED) {
		vt.button_serial = serial;
		vt.have_button = true;
		printf("button\n");
		fflush(stdout);
	}
}
static void p_axis(void *data, struct wl_pointer *p, uint32_t time, uint32_t axis, wl_fixed_t v)
{
}

static const struct wl_pointer_listener pointer_listener = {
	.enter = p_enter,
	.leave = p_leave,
	.motion = p_motion,
	.button = p_button,
	.axis = p_axis,
};

static void seat_capabilities(void *data, struct wl_seat *seat, uint32_t caps)
{
	if ((caps & WL_SEAT_CAPABILITY_POINTER) && vt.pointer == NULL) {
		vt.pointer = wl_seat_get_pointer(seat);
		wl_pointer_add_listener(vt.pointer, &pointer_listener, NULL);
	}
}
static void seat_name(void *data, struct wl_seat *seat, const char *name)
{
}

static const struct wl_seat_listener seat_listener = {
	.capabilities = seat_capabilities,
	.name = seat_name,
};

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		vt.compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		vt.shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, wl_seat_interface.name) == 0 && vt.seat == NULL) {
		vt.seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
		wl_seat_add_listener(vt.seat, &seat_listener, NULL);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		vt.wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
	} else if (strcmp(interface, xdg_activation_v1_interface.name) == 0) {
		vt.activation = wl_registry_bind(registry, name, &xdg_activation_v1_interface, 1);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = handle_global,
	.global_remove = handle_global_remove,
};

static void token_done(void *data, struct xdg_activation_token_v1 *token, const char *string)
{
	printf("token %s\n", string);
	fflush(stdout);
	vt.token_done = true;
}

static const struct xdg_activation_token_v1_listener token_listener = { .done = token_done };

static struct wl_buffer *make_buffer(void)
{
	size_t size = WIDTH * HEIGHT * 4;
	int fd = memfd_create("vt-activate", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		die("memfd");
	}
	uint32_t *px = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (px == MAP_FAILED) {
		die("mmap");
	}
	for (size_t i = 0; i < WIDTH * HEIGHT; i++) {
		px[i] = 0xff40a040u;
	}
	munmap(px, size);
	struct wl_shm_pool *pool = wl_shm_create_pool(vt.shm, fd, (int32_t)size);
	struct wl_buffer *buffer = wl_shm_pool_create_buffer(
		pool, 0, WIDTH, HEIGHT, WIDTH * 4, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buffer;
}

static void command(struct wl_display *display, char *line)
{
	line[strcspn(line, "\n")] = '\0';
	if (strcmp(line, "token") == 0 || strcmp(line, "token-click") == 0) {
		struct xdg_activation_token_v1 *token =
			xdg_activation_v1_get_activation_token(vt.activation);
		xdg_activation_token_v1_add_listener(token, &token_listener, NULL);
		if (strcmp(line, "token-click") == 0) {
			if (!vt.have_button) {
				die("token-click before any click");
			}
			xdg_activation_token_v1_set_serial(token, vt.button_serial, vt.seat);
			xdg_activation_token_v1_set_surface(token, vt.surface);
		}
		vt.token_done = false;
		xdg_activation_token_v1_commit(token);
		while (!vt.token_done) {
			if (wl_display_dispatch(display) < 0) {
				die("the compositor closed the connection");
			}
		}
		xdg_activation_token_v1_destroy(token);
	} else if (strncmp(line, "activate ", 9) == 0) {
		xdg_activation_v1_activate(vt.activation, line + 9, vt.surface);
		wl_display_roundtrip(display);
		printf("requested\n");
		fflush(stdout);
	} else {
		die("unknown command");
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: vt-activate TITLE\n");
		return 2;
	}
	struct wl_display *display = wl_display_connect(NULL);
	if (display == NULL) {
		die("cannot connect to the compositor");
	}
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	wl_display_roundtrip(display);
	if (vt.compositor == NULL || vt.shm == NULL || vt.wm_base == NULL || vt.seat == NULL) {
		die("the compositor lacks wl_compositor, wl_shm, wl_seat or xdg_wm_base");
	}
	if (vt.activation == NULL) {
		printf("no xdg-activation\n");
		return 3;
	}
	xdg_wm_base_add_listener(vt.wm_base, &wm_base_listener, NULL);
	vt.surface = wl_compositor_create_surface(vt.compositor);
	struct xdg_surface *xdg_surface = xdg_wm_base_get_xdg_surface(vt.wm_base, vt.surface);
	xdg_surface_add_listener(xdg_surface, &xdg_surface_listener, NULL);
	struct xdg_toplevel *toplevel = xdg_surface_get_toplevel(xdg_surface);
	xdg_toplevel_add_listener(toplevel, &toplevel_listener, NULL);
	xdg_toplevel_set_title(toplevel, argv[1]);
	wl_surface_commit(vt.surface);
	while (!vt.configured) {
		if (wl_display_dispatch(display) < 0) {
			die("the compositor closed the connection");
		}
	}
	wl_surface_attach(vt.surface, make_buffer(), 0, 0);
	wl_surface_damage(vt.surface, 0, 0, WIDTH, HEIGHT);
	wl_surface_commit(vt.surface);
	wl_display_roundtrip(display);
	printf("mapped\n");
	fflush(stdout);

	char line[512];
	size_t used = 0;
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
			ssize_t n = read(STDIN_FILENO, line + used, sizeof(line) - 1 - used);
			if (n <= 0) {
				return 0;
			}
			used += (size_t)n;
			line[used] = '\0';
			char *nl;
			while ((nl = strchr(line, '\n')) != NULL) {
				*nl = '\0';
				command(display, line);
				size_t rest = used - (size_t)(nl + 1 - line);
				memmove(line, nl + 1, rest + 1);
				used = rest;
			}
			if (used == sizeof(line) - 1) {
				die("line too long");
			}
		}
	}
}
