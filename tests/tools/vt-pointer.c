/*
 * vt-pointer: drive the compositor's pointer through
 * wlr-virtual-pointer-unstable-v1, for tests.
 *
 *   vt-pointer [--extent WxH] COMMAND [COMMAND...]
 *     move X Y                 absolute motion to layout coordinates X,Y
 *     click [left|right|middle]
 *     press [BUTTON] / release [BUTTON]
 *     drag X1 Y1 X2 Y2 [BUTTON] move, press, move in steps, release
 *     scroll DY                vertical scroll by DY (axis units)
 *
 * The layout extent (for motion_absolute) comes from xdg-output (the
 * bounding box of every output's logical area), or --extent.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wayland-client.h>

#include "wlr-virtual-pointer-unstable-v1-client-protocol.h"
#include "xdg-output-unstable-v1-client-protocol.h"

#define MAX_OUTPUTS 16

struct output {
	struct wl_output *wl_output;
	struct zxdg_output_v1 *xdg_output;
	int32_t x, y, width, height;
	bool have_geometry;
};

static struct {
	struct wl_display *display;
	struct wl_seat *seat;
	struct zwlr_virtual_pointer_manager_v1 *manager;
	struct zxdg_output_manager_v1 *xdg_output_manager;
	struct output outputs[MAX_OUTPUTS];
	int n_outputs;
	struct zwlr_virtual_pointer_v1 *pointer;
	int32_t min_x, min_y;
	uint32_t extent_w, extent_h;
} vt;

static void die(const char *msg)
{
	fprintf(stderr, "vt-pointer: %s\n", msg);
	exit(1);
}

static uint32_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void handle_logical_position(
	void *data, struct zxdg_output_v1 *xdg_output, int32_t x, int32_t y)
{
	struct output *o = data;
	o->x = x;
	o->y = y;
}

static void handle_logical_size(
	void *data, struct zxdg_output_v1 *xdg_output, int32_t width, int32_t height)
{
	struct output *o = data;
	o->width = width;
	o->height = height;
	o->have_geometry = true;
}

static void handle_done(void *data, struct zxdg_output_v1 *xdg_output)
{
}

static void handle_name(void *data, struct zxdg_output_v1 *xdg_output, const char *name)
{
}

static void handle_description(void *data, struct zxdg_output_v1 *xdg_output, const char *desc)
{
}

static const struct zxdg_output_v1_listener xdg_output_listener = {
	.logical_position = handle_logical_position,
	.logical_size = handle_logical_size,
	.done = handle_done,
	.name = handle_name,
	.description = handle_description,
};

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	if (strcmp(interface, wl_seat_interface.name) == 0 && vt.seat == NULL) {
		vt.seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
	} else if (strcmp(interface, zwlr_virtual_pointer_manager_v1_interface.name) == 0) {
		vt.manager = wl_registry_bind(registry, name,
			&zwlr_virtual_pointer_manager_v1_interface, version < 2 ? version : 2);
	} else if (strcmp(interface, zxdg_output_manager_v1_interface.name) == 0) {
		vt.xdg_output_manager = wl_registry_bind(registry, name,
			&zxdg_output_manager_v1_interface, version < 2 ? version : 2);
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

static void compute_extent(void)
{
	if (vt.xdg_output_manager == NULL) {
		die("the compositor has no xdg-output; use --extent WxH");
	}
	for (int i = 0; i < vt.n_outputs; i++) {
		struct output *o = &vt.outputs[i];
		o->xdg_output =
			zxdg_output_manager_v1_get_xdg_output(vt.xdg_output_manager, o->wl_output);
		zxdg_output_v1_add_listener(o->xdg_output, &xdg_output_listener, o);
	}
	wl_display_roundtrip(vt.display);
	int32_t x1 = INT32_MAX, y1 = INT32_MAX, x2 = INT32_MIN, y2 = INT32_MIN;
	for (int i = 0; i < vt.n_outputs; i++) {
		struct output *o = &vt.outputs[i];
		if (!o->have_geometry) {
			continue;
		}
		x1 = o->x < x1 ? o->x : x1;
		y1 = o->y < y1 ? o->y : y1;
		x2 = o->x + o->width > x2 ? o->x + o->width : x2;
		y2 = o->y + o->height > y2 ? o->y + o->height : y2;
	}
	if (x1 >= x2 || y1 >= y2) {
		die("no output geometry");
	}
	vt.min_x = x1;
	vt.min_y = y1;
	vt.extent_w = (uint32_t)(x2 - x1);
	vt.extent_h = (uint32_t)(y2 - y1);
}

static void roundtrip(void)
{
	if (wl_display_roundtrip(vt.display) < 0) {
		die("lost the connection to the compositor");
	}
}

static void move_to(int32_t x, int32_t y)
{
	int64_t rx = (int64_t)x - vt.min_x, ry = (int64_t)y - vt.min_y;
	if (rx < 0 || ry < 0 || rx > vt.extent_w || ry > vt.extent_h) {
		die("position outside the layout");
	}
	zwlr_virtual_pointer_v1_motion_absolute(
		vt.pointer, now_ms(), (uint32_t)rx, (uint32_t)ry, vt.extent_w, vt.extent_h);
	zwlr_virtual_pointer_v1_frame(vt.pointer);
	roundtrip();
}

static void button(uint32_t code, bool pressed)
{
	zwlr_virtual_pointer_v1_button(vt.pointer, now_ms(), code,
		pressed ? WL_POINTER_BUTTON_STATE_PRESSED : WL_POINTER_BUTTON_STATE_RELEASED);
	zwlr_virtual_pointer_v1_frame(vt.pointer);
	roundtrip();
}

static int32_t parse_int(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < -1000000 || v > 1000000) {
		fprintf(stderr, "vt-pointer: bad number '%s'\n", s);
		exit(2);
	}
	return (int32_t)v;
}

/* A button name at argv[*i], if there is one; else BTN_LEFT. */
static uint32_t parse_button(int argc, char *argv[], int *i)
{
	if (*i + 1 < argc) {
		const char *name = argv[*i + 1];
		uint32_t code = 0;
		if (strcmp(name, "left") == 0) {
			code = BTN_LEFT;
		} else if (strcmp(name, "right") == 0) {
			code = BTN_RIGHT;
		} else if (strcmp(name, "middle") == 0) {
			code = BTN_MIDDLE;
		}
		if (code != 0) {
			(*i)++;
			return code;
		}
	}
	return BTN_LEFT;
}

static void need(int argc, int i, int n, const char *usage)
{
	if (i + n >= argc) {
		fprintf(stderr, "vt-pointer: usage: %s\n", usage);
		exit(2);
	}
}

int main(int argc, char *argv[])
{
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "--extent") == 0) {
		if (sscanf(argv[i + 1], "%ux%u", &vt.extent_w, &vt.extent_h) != 2 ||
			vt.extent_w == 0 || vt.extent_h == 0) {
			die("bad --extent");
		}
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr,
			"usage: vt-pointer [--extent WxH] move X Y | click [BUTTON] | "
			"press [BUTTON] | release [BUTTON] | drag X1 Y1 X2 Y2 [BUTTON] | "
			"scroll DY ...\n");
		return 2;
	}

	vt.display = wl_display_connect(NULL);
	if (vt.display == NULL) {
		die("cannot connect to the Wayland display");
	}
	struct wl_registry *registry = wl_display_get_registry(vt.display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	roundtrip();
	if (vt.manager == NULL) {
		die("the compositor has no zwlr_virtual_pointer_manager_v1");
	}
	if (vt.extent_w == 0) {
		compute_extent();
	}
	vt.pointer = zwlr_virtual_pointer_manager_v1_create_virtual_pointer(vt.manager, vt.seat);
	roundtrip();

	for (; i < argc; i++) {
		const char *cmd = argv[i];
		if (strcmp(cmd, "move") == 0) {
			need(argc, i, 2, "move X Y");
			move_to(parse_int(argv[i + 1]), parse_int(argv[i + 2]));
			i += 2;
		} else if (strcmp(cmd, "click") == 0) {
			uint32_t b = parse_button(argc, argv, &i);
			button(b, true);
			button(b, false);
		} else if (strcmp(cmd, "press") == 0 || strcmp(cmd, "release") == 0) {
			uint32_t b = parse_button(argc, argv, &i);
			button(b, strcmp(cmd, "press") == 0);
		} else if (strcmp(cmd, "drag") == 0) {
			need(argc, i, 4, "drag X1 Y1 X2 Y2 [BUTTON]");
			int32_t x1 = parse_int(argv[i + 1]), y1 = parse_int(argv[i + 2]);
			int32_t x2 = parse_int(argv[i + 3]), y2 = parse_int(argv[i + 4]);
			i += 4;
			uint32_t b = parse_button(argc, argv, &i);
			move_to(x1, y1);
			button(b, true);
			const int steps = 8;
			for (int s = 1; s <= steps; s++) {
				move_to(x1 + (x2 - x1) * s / steps, y1 + (y2 - y1) * s / steps);
			}
			button(b, false);
		} else if (strcmp(cmd, "scroll") == 0) {
			need(argc, i, 1, "scroll DY");
			int32_t dy = parse_int(argv[++i]);
			uint32_t t = now_ms();
			zwlr_virtual_pointer_v1_axis_source(
				vt.pointer, WL_POINTER_AXIS_SOURCE_WHEEL);
			zwlr_virtual_pointer_v1_axis(vt.pointer, t, WL_POINTER_AXIS_VERTICAL_SCROLL,
				wl_fixed_from_int(dy));
			zwlr_virtual_pointer_v1_frame(vt.pointer);
			roundtrip();
		} else {
			fprintf(stderr, "vt-pointer: unknown command '%s'\n", cmd);
			return 2;
		}
	}

	zwlr_virtual_pointer_v1_destroy(vt.pointer);
	roundtrip();
	wl_display_disconnect(vt.display);
	return 0;
}
