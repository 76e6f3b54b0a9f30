/*
 * vt-locker: a screen locker for tests, through ext-session-lock-v1.
 *
 *   vt-locker [RRGGBB]
 *
 * Locks the session and covers every output with a lock surface of colour
 * RRGGBB (default 204060). Prints "locked" (or "finished" and exits 3 when
 * the compositor refuses the lock) on stdout. Then reads commands on stdin:
 *   unlock     unlock_and_destroy, wait for the compositor, exit 0
 *   destroy    the destroy request (a protocol error once locked)
 * At the end of stdin it exits without unlocking, like a locker that died.
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

#include "ext-session-lock-v1-client-protocol.h"

#define MAX_OUTPUTS 16

struct out {
	struct wl_output *wl_output;
	struct wl_surface *surface;
	struct ext_session_lock_surface_v1 *lock_surface;
	struct wl_buffer *buffer;
};

static struct {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct ext_session_lock_manager_v1 *manager;
	struct ext_session_lock_v1 *lock;
	struct out outputs[MAX_OUTPUTS];
	int n_outputs;
	uint32_t color;
	bool locked, finished;
} vt;

static void die(const char *msg)
{
	fprintf(stderr, "vt-locker: %s\n", msg);
	exit(1);
}

static struct wl_buffer *make_buffer(uint32_t w, uint32_t h)
{
	size_t size = (size_t)w * h * 4;
	int fd = memfd_create("vt-locker", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		die("memfd");
	}
	uint32_t *px = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (px == MAP_FAILED) {
		die("mmap");
	}
	for (size_t i = 0; i < (size_t)w * h; i++) {
		px[i] = 0xff000000u | vt.color;
	}
	munmap(px, size);
	struct wl_shm_pool *pool = wl_shm_create_pool(vt.shm, fd, (int32_t)size);
	struct wl_buffer *buffer = wl_shm_pool_create_buffer(
		pool, 0, (int32_t)w, (int32_t)h, (int32_t)w * 4, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buffer;
}

static void handle_configure(void *data, struct ext_session_lock_surface_v1 *surface,
	uint32_t serial, uint32_t width, uint32_t height)
{
	struct out *o = data;
	ext_session_lock_surface_v1_ack_configure(surface, serial);
	if (o->buffer != NULL) {
		wl_buffer_destroy(o->buffer);
	}
	o->buffer = make_buffer(width, height);
	wl_surface_attach(o->surface, o->buffer, 0, 0);
	wl_surface_damage(o->surface, 0, 0, (int32_t)width, (int32_t)height);
	wl_surface_commit(o->surface);
}

static const struct ext_session_lock_surface_v1_listener lock_surface_listener = {
	.configure = handle_configure,
};

static void handle_locked(void *data, struct ext_session_lock_v1 *lock)
{
	vt.locked = true;
}

static void handle_finished(void *data, struct ext_session_lock_v1 *lock)
{
	vt.finished = true;
}

static const struct ext_session_lock_v1_listener lock_listener = {
	.locked = handle_locked,
	.finished = handle_finished,
};

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		vt.compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		vt.shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, ext_session_lock_manager_v1_interface.name) == 0) {
		vt.manager =
			wl_registry_bind(registry, name, &ext_session_lock_manager_v1_interface, 1);
	} else if (strcmp(interface, wl_output_interface.name) == 0 && vt.n_outputs < MAX_OUTPUTS) {
		vt.outputs[vt.n_outputs++].wl_output =
			wl_registry_bind(registry, name, &wl_output_interface, 1);
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
	vt.color = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 16) : 0x204060u;
	vt.display = wl_display_connect(NULL);
	if (vt.display == NULL) {
		die("cannot connect to the compositor");
	}
	struct wl_registry *registry = wl_display_get_registry(vt.display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	wl_display_roundtrip(vt.display);
	if (vt.compositor == NULL || vt.shm == NULL || vt.manager == NULL) {
		die("the compositor has no ext_session_lock_manager_v1");
	}
	vt.lock = ext_session_lock_manager_v1_lock(vt.manager);
	ext_session_lock_v1_add_listener(vt.lock, &lock_listener, NULL);
	wl_display_roundtrip(vt.display);
	if (vt.finished || !vt.locked) {
		printf("finished\n");
		fflush(stdout);
		return 3;
	}
	for (int i = 0; i < vt.n_outputs; i++) {
		struct out *o = &vt.outputs[i];
		o->surface = wl_compositor_create_surface(vt.compositor);
		o->lock_surface =
			ext_session_lock_v1_get_lock_surface(vt.lock, o->surface, o->wl_output);
		ext_session_lock_surface_v1_add_listener(
			o->lock_surface, &lock_surface_listener, o);
	}
	wl_display_roundtrip(vt.display);
	wl_display_roundtrip(vt.display);
	printf("locked\n");
	fflush(stdout);

	char line[64];
	size_t len = 0;
	for (;;) {
		wl_display_flush(vt.display);
		struct pollfd fds[2] = {
			{ .fd = wl_display_get_fd(vt.display), .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		if (poll(fds, 2, -1) < 0) {
			die("poll");
		}
		if ((fds[0].revents & POLLIN) && wl_display_dispatch(vt.display) < 0) {
			die("the compositor closed the connection");
		}
		if (fds[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(STDIN_FILENO, line + len, sizeof(line) - 1 - len);
			if (n <= 0) {
				return 0; /* like a locker that died: no unlock */
			}
			len += (size_t)n;
			line[len] = '\0';
			char *nl = strchr(line, '\n');
			if (nl == NULL) {
				continue;
			}
			*nl = '\0';
			if (strcmp(line, "unlock") == 0) {
				ext_session_lock_v1_unlock_and_destroy(vt.lock);
				wl_display_roundtrip(vt.display);
				printf("unlocked\n");
				fflush(stdout);
				return 0;
			}
			if (strcmp(line, "destroy") == 0) {
				ext_session_lock_v1_destroy(vt.lock);
				int r = wl_display_roundtrip(vt.display);
				printf("destroyed %s\n", r < 0 ? "error" : "ok");
				fflush(stdout);
				return r < 0 ? 4 : 0;
			}
			len = 0;
		}
	}
}
