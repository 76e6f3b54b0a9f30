/*
 * bench-keys: key latency from the host seat to an app, for benchmarks.
 *
 *   bench-keys receive OUT   map a 160x90 window; append "recv NS" to OUT
 *                            (CLOCK_MONOTONIC) for every key press it gets;
 *                            print "mapped" once shown
 *   bench-keys send N MS OUT press and release KEY_A N times through a
 *                            virtual keyboard, one press every MS ms;
 *                            append "send NS" to OUT at each press
 *
 * Both ends run on one machine, so the i-th "send" and the i-th "recv"
 * give the latency of the i-th key: virtual keyboard -> compositor -> (the
 * agent ->) the app.
 */
#define _GNU_SOURCE
#include <linux/input-event-codes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>
#include <xkbcommon/xkbcommon.h>

#include "virtual-keyboard-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

static struct {
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_seat *seat;
	struct zwp_virtual_keyboard_manager_v1 *vk_manager;
	bool configured;
	FILE *out;
} b;

static void die(const char *msg)
{
	fprintf(stderr, "bench-keys: %s\n", msg);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		b.compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		b.shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		b.wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
	} else if (strcmp(interface, wl_seat_interface.name) == 0 && b.seat == NULL) {
		b.seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
	} else if (strcmp(interface, zwp_virtual_keyboard_manager_v1_interface.name) == 0) {
		b.vk_manager = wl_registry_bind(
			registry, name, &zwp_virtual_keyboard_manager_v1_interface, 1);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = handle_global,
	.global_remove = handle_global_remove,
};

static int memfd_with(const void *data, size_t size)
{
	int fd = memfd_create("bench-keys", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		die("memfd");
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		die("mmap");
	}
	if (data != NULL) {
		memcpy(p, data, size);
	} else {
		memset(p, 0x60, size);
	}
	munmap(p, size);
	return fd;
}

/* ---- receive ---- */

static void kb_keymap(
	void *data, struct wl_keyboard *kb, uint32_t format, int32_t fd, uint32_t size)
{
	close(fd);
}
static void kb_enter(void *data, struct wl_keyboard *kb, uint32_t serial, struct wl_surface *s,
	struct wl_array *keys)
{
}
static void kb_leave(void *data, struct wl_keyboard *kb, uint32_t serial, struct wl_surface *s)
{
}
static void kb_key(void *data, struct wl_keyboard *kb, uint32_t serial, uint32_t time, uint32_t key,
	uint32_t state)
{
	if (state == WL_KEYBOARD_KEY_STATE_PRESSED) {
		fprintf(b.out, "recv %llu\n", (unsigned long long)now_ns());
		fflush(b.out);
	}
}
static void kb_modifiers(void *data, struct wl_keyboard *kb, uint32_t serial, uint32_t d,
	uint32_t l, uint32_t k, uint32_t g)
{
}
static void kb_repeat(void *data, struct wl_keyboard *kb, int32_t rate, int32_t delay)
{
}

static const struct wl_keyboard_listener keyboard_listener = {
	.keymap = kb_keymap,
	.enter = kb_enter,
	.leave = kb_leave,
	.key = kb_key,
	.modifiers = kb_modifiers,
	.repeat_info = kb_repeat,
};

static void handle_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
	xdg_wm_base_pong(wm_base, serial);
}
static const struct xdg_wm_base_listener wm_base_listener = { .ping = handle_ping };

static void handle_surface_configure(void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
	xdg_surface_ack_configure(xdg_surface, serial);
	b.configured = true;
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

static int receive(struct wl_display *display)
{
	if (b.compositor == NULL || b.shm == NULL || b.wm_base == NULL || b.seat == NULL) {
		die("the compositor lacks wl_compositor, wl_shm, xdg_wm_base or wl_seat");
	}
	xdg_wm_base_add_listener(b.wm_base, &wm_base_listener, NULL);
	struct wl_keyboard *kb = wl_seat_get_keyboard(b.seat);
	wl_keyboard_add_listener(kb, &keyboard_listener, NULL);
	struct wl_surface *surface = wl_compositor_create_surface(b.compositor);
	struct xdg_surface *xdg_surface = xdg_wm_base_get_xdg_surface(b.wm_base, surface);
	xdg_surface_add_listener(xdg_surface, &xdg_surface_listener, NULL);
	struct xdg_toplevel *toplevel = xdg_surface_get_toplevel(xdg_surface);
	xdg_toplevel_add_listener(toplevel, &toplevel_listener, NULL);
	xdg_toplevel_set_title(toplevel, "bench-keys");
	wl_surface_commit(surface);
	while (!b.configured) {
		if (wl_display_dispatch(display) < 0) {
			die("the compositor closed the connection");
		}
	}
	const int w = 160, h = 90;
	int fd = memfd_with(NULL, (size_t)w * h * 4);
	struct wl_shm_pool *pool = wl_shm_create_pool(b.shm, fd, w * h * 4);
	struct wl_buffer *buffer =
		wl_shm_pool_create_buffer(pool, 0, w, h, w * 4, WL_SHM_FORMAT_XRGB8888);
	close(fd);
	wl_surface_attach(surface, buffer, 0, 0);
	wl_surface_damage(surface, 0, 0, w, h);
	wl_surface_commit(surface);
	wl_display_roundtrip(display);
	printf("mapped\n");
	fflush(stdout);
	while (wl_display_dispatch(display) >= 0) {
	}
	return 0;
}

/* ---- send ---- */

static int send_keys(struct wl_display *display, int n, int interval_ms)
{
	if (b.seat == NULL || b.vk_manager == NULL) {
		die("the compositor lacks wl_seat or zwp_virtual_keyboard_manager_v1");
	}
	struct zwp_virtual_keyboard_v1 *vk =
		zwp_virtual_keyboard_manager_v1_create_virtual_keyboard(b.vk_manager, b.seat);
	struct xkb_context *ctx = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	struct xkb_rule_names names = { .layout = "us" };
	struct xkb_keymap *keymap =
		ctx ? xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS) : NULL;
	char *text = keymap ? xkb_keymap_get_as_string(keymap, XKB_KEYMAP_FORMAT_TEXT_V1) : NULL;
	if (text == NULL) {
		die("cannot compile a keymap");
	}
	size_t size = strlen(text) + 1;
	int fd = memfd_with(text, size);
	zwp_virtual_keyboard_v1_keymap(vk, WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1, fd, (uint32_t)size);
	close(fd);
	wl_display_roundtrip(display);
	struct timespec half = { .tv_sec = interval_ms / 2000,
		.tv_nsec = (long)(interval_ms % 2000) * 500000L };
	for (int i = 0; i < n; i++) {
		uint64_t t = now_ns();
		zwp_virtual_keyboard_v1_key(
			vk, (uint32_t)(t / 1000000), KEY_A, WL_KEYBOARD_KEY_STATE_PRESSED);
		wl_display_flush(display);
		fprintf(b.out, "send %llu\n", (unsigned long long)t);
		nanosleep(&half, NULL);
		zwp_virtual_keyboard_v1_key(
			vk, (uint32_t)(now_ns() / 1000000), KEY_A, WL_KEYBOARD_KEY_STATE_RELEASED);
		wl_display_flush(display);
		nanosleep(&half, NULL);
	}
	fflush(b.out);
	wl_display_roundtrip(display);
	return 0;
}

int main(int argc, char *argv[])
{
	bool recv_mode = argc == 3 && strcmp(argv[1], "receive") == 0;
	bool send_mode = argc == 5 && strcmp(argv[1], "send") == 0;
	if (!recv_mode && !send_mode) {
		fprintf(stderr, "usage: bench-keys receive OUT | bench-keys send N MS OUT\n");
		return 2;
	}
	b.out = fopen(argv[argc - 1], "a");
	if (b.out == NULL) {
		die("cannot open the output file");
	}
	struct wl_display *display = wl_display_connect(NULL);
	if (display == NULL) {
		die("cannot connect to the compositor");
	}
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	wl_display_roundtrip(display);
	if (recv_mode) {
		return receive(display);
	}
	return send_keys(display, atoi(argv[2]), atoi(argv[3]));
}
