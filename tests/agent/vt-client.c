/*
 * vt-client: a small Wayland client with known pixels, for the agent's
 * end-to-end tests. It maps an xdg toplevel filled with one color,
 * optionally with a subsurface of another color (flattening) and an xdg
 * popup at a known anchor (placement by the host).
 *
 *   vt-client [--size WxH] [--color RRGGBB] [--title TEXT]
 *             [--subsurface X,Y,WxH,RRGGBB] [--popup X,Y,WxH,RRGGBB]
 *             [--stripes N --frames K] [--keys 1]
 *             [--geometry X,Y,WxH] [--fill X,Y,WxH,AARRGGBB]...
 *
 * The popup is anchored at the point (X, Y) of the toplevel (anchor rect
 * X,Y 1x1, anchor top-left, gravity bottom-right), so its top-left corner
 * lands there. Prints "mapped", "popup-mapped", "popup-done" and "closed"
 * on stdout; exits 0 when the toplevel is closed.
 *
 * --stripes N --frames K: after mapping, draw K more frames paced by frame
 * callbacks. The window is cut into N horizontal stripes; frame k (1..K)
 * repaints stripe k mod N with the color 0xKKKK55 (k in the red and green
 * bytes) and damages only that stripe, so a compositor that copies damage
 * must also carry the other stripes over. Prints "animated" at the end.
 *
 * --geometry X,Y,WxH: the toplevel's buffer (--size) is ARGB8888 with a
 * translucent black shadow (premultiplied 0x40000000) around the xdg
 * window geometry X,Y,WxH (buffer coordinates), which is filled with
 * --color, opaque.
 * --fill X,Y,WxH,AARRGGBB (up to 8): then paint that rectangle of the
 * toplevel's buffer with the raw premultiplied pixel AARRGGBB (the buffer
 * is ARGB8888 with or without --geometry).
 *
 * --keys 1: log the keyboard on stdout: "key-enter N" (N keys held at
 * enter), "key K pressed" / "key K released" (K the evdev code), and
 * "key-leave".
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

struct rect_spec {
	bool set;
	int x, y, width, height;
	uint32_t color;
};

static struct {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_subcompositor *subcompositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_seat *seat;
	struct wl_keyboard *keyboard;
	bool log_keys;

	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct wl_buffer *buffer;
	bool configured, mapped, closed;

	struct wl_surface *popup_surface;
	struct xdg_surface *popup_xdg_surface;
	struct xdg_popup *popup;
	struct wl_buffer *popup_buffer;
	bool popup_configured, popup_mapped;

	/* --stripes */
	int width, height, stripes, frames, frame;
	uint32_t color;
	struct wl_buffer *anim[2];
	uint32_t *anim_pixels[2];
	bool anim_busy[2];
	bool anim_waiting; /* for a buffer release */
} c;

static void die(const char *msg)
{
	fprintf(stderr, "vt-client: %s\n", msg);
	exit(1);
}

static const struct wl_buffer_listener anim_buffer_listener;

#define MAX_FILLS 8

/* --geometry and --fill: the toplevel's translucent buffer */
static struct {
	struct rect_spec geometry; /* color unused */
	struct rect_spec fills[MAX_FILLS]; /* color: the raw AARRGGBB pixel */
	int n_fills;
} translucent;

static void fill_rect(
	uint32_t *pixels, int width, int height, int x, int y, int w, int h, uint32_t pixel)
{
	for (int j = y < 0 ? 0 : y; j < y + h && j < height; j++) {
		for (int i = x < 0 ? 0 : x; i < x + w && i < width; i++) {
			pixels[(size_t)j * (size_t)width + (size_t)i] = pixel;
		}
	}
}

/* A buffer filled with color; *keep gets the mapping (else unmapped). */
static struct wl_buffer *map_buffer_format(
	int width, int height, uint32_t color, uint32_t **keep, bool argb)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	char path[4096];
	size_t size = (size_t)width * (size_t)height * 4;

	snprintf(path, sizeof(path), "%s/vt-client-XXXXXX", dir != NULL ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		die("cannot create a buffer file");
	}
	unlink(path);
	if (ftruncate(fd, (off_t)size) < 0) {
		die("ftruncate");
	}
	uint32_t *pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (pixels == MAP_FAILED) {
		die("mmap");
	}
	for (size_t i = 0; i < size / 4; i++) {
		pixels[i] = 0xff000000u | color;
	}
	if (argb && translucent.geometry.set) {
		struct rect_spec *g = &translucent.geometry;
		fill_rect(pixels, width, height, 0, 0, width, height, 0x40000000u);
		fill_rect(pixels, width, height, g->x, g->y, g->width, g->height,
			0xff000000u | color);
	}
	for (int i = 0; argb && i < translucent.n_fills; i++) {
		struct rect_spec *f = &translucent.fills[i];
		fill_rect(pixels, width, height, f->x, f->y, f->width, f->height, f->color);
	}
	if (keep != NULL) {
		*keep = pixels;
	} else {
		munmap(pixels, size);
	}
	struct wl_shm_pool *pool = wl_shm_create_pool(c.shm, fd, (int32_t)size);
	struct wl_buffer *buffer = wl_shm_pool_create_buffer(pool, 0, width, height, width * 4,
		argb ? WL_SHM_FORMAT_ARGB8888 : WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buffer;
}

static struct wl_buffer *map_buffer(int width, int height, uint32_t color, uint32_t **keep)
{
	return map_buffer_format(width, height, color, keep, false);
}

static struct wl_buffer *make_buffer(int width, int height, uint32_t color)
{
	return map_buffer(width, height, color, NULL);
}

/* ---- --stripes ---- */

static void draw_frame(void);

static uint32_t frame_color(int k)
{
	return ((uint32_t)(k & 0xffff) << 8) | 0x55;
}

static void handle_anim_release(void *data, struct wl_buffer *buffer)
{
	int i = buffer == c.anim[1];
	c.anim_busy[i] = false;
	if (c.anim_waiting) {
		c.anim_waiting = false;
		draw_frame();
	}
}

static const struct wl_buffer_listener anim_buffer_listener = {
	.release = handle_anim_release,
};

static void handle_frame_done(void *data, struct wl_callback *callback, uint32_t time)
{
	wl_callback_destroy(callback);
	draw_frame();
}

static const struct wl_callback_listener frame_listener = {
	.done = handle_frame_done,
};

/* Paint frame c.frame + 1 whole, damage only its stripe. */
static void draw_frame(void)
{
	if (c.frame >= c.frames) {
		return;
	}
	int i = c.anim_busy[0] ? 1 : 0;
	if (c.anim_busy[i]) {
		c.anim_waiting = true;
		return;
	}
	int k = ++c.frame;
	uint32_t *px = c.anim_pixels[i];
	for (int y = 0; y < c.height; y++) {
		int stripe = y * c.stripes / c.height;
		/* the last frame <= k that painted this stripe */
		int last = k - ((k - stripe) % c.stripes + c.stripes) % c.stripes;
		uint32_t color = last >= 1 ? frame_color(last) : c.color;
		for (int x = 0; x < c.width; x++) {
			px[y * c.width + x] = 0xff000000u | color;
		}
	}
	/* the rows y with y * stripes / height == s */
	int s = k % c.stripes;
	int y0 = (s * c.height + c.stripes - 1) / c.stripes;
	int y1 = ((s + 1) * c.height + c.stripes - 1) / c.stripes;
	wl_surface_attach(c.surface, c.anim[i], 0, 0);
	wl_surface_damage_buffer(c.surface, 0, y0, c.width, y1 - y0);
	c.anim_busy[i] = true;
	if (k < c.frames) {
		wl_callback_add_listener(wl_surface_frame(c.surface), &frame_listener, NULL);
	} else {
		printf("animated\n");
	}
	wl_surface_commit(c.surface);
}

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		c.compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_subcompositor_interface.name) == 0) {
		c.subcompositor = wl_registry_bind(registry, name, &wl_subcompositor_interface, 1);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		c.shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		c.wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 2);
	} else if (strcmp(interface, wl_seat_interface.name) == 0 && c.log_keys && c.seat == NULL) {
		c.seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
	}
}

/* ---- --keys: the keyboard's events on stdout ---- */

static void handle_keymap(
	void *data, struct wl_keyboard *keyboard, uint32_t format, int32_t fd, uint32_t size)
{
	close(fd);
}

static void handle_key_enter(void *data, struct wl_keyboard *keyboard, uint32_t serial,
	struct wl_surface *surface, struct wl_array *keys)
{
	printf("key-enter %zu\n", keys->size / sizeof(uint32_t));
}

static void handle_key_leave(
	void *data, struct wl_keyboard *keyboard, uint32_t serial, struct wl_surface *surface)
{
	printf("key-leave\n");
}

static void handle_key(void *data, struct wl_keyboard *keyboard, uint32_t serial, uint32_t time,
	uint32_t key, uint32_t state)
{
	printf("key %u %s\n", key, state == WL_KEYBOARD_KEY_STATE_PRESSED ? "pressed" : "released");
}

static void handle_key_modifiers(void *data, struct wl_keyboard *keyboard, uint32_t serial,
	uint32_t depressed, uint32_t latched, uint32_t locked, uint32_t group)
{
}

static const struct wl_keyboard_listener keyboard_listener = {
	.keymap = handle_keymap,
	.enter = handle_key_enter,
	.leave = handle_key_leave,
	.key = handle_key,
	.modifiers = handle_key_modifiers,
};

static void handle_seat_capabilities(void *data, struct wl_seat *seat, uint32_t caps)
{
	if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) != 0 && c.keyboard == NULL) {
		c.keyboard = wl_seat_get_keyboard(seat);
		wl_keyboard_add_listener(c.keyboard, &keyboard_listener, NULL);
	}
}

static const struct wl_seat_listener seat_listener = {
	.capabilities = handle_seat_capabilities,
};

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = handle_global,
	.global_remove = handle_global_remove,
};

static void handle_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
	.ping = handle_ping,
};

static void handle_surface_configure(void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
	xdg_surface_ack_configure(xdg_surface, serial);
	if (xdg_surface == c.xdg_surface) {
		if (!c.configured) {
			wl_surface_attach(c.surface, c.buffer, 0, 0);
			wl_surface_damage_buffer(c.surface, 0, 0, INT32_MAX, INT32_MAX);
		}
		c.configured = true;
		wl_surface_commit(c.surface);
	} else if (xdg_surface == c.popup_xdg_surface) {
		if (!c.popup_configured) {
			wl_surface_attach(c.popup_surface, c.popup_buffer, 0, 0);
			wl_surface_damage_buffer(c.popup_surface, 0, 0, INT32_MAX, INT32_MAX);
		}
		c.popup_configured = true;
		wl_surface_commit(c.popup_surface);
	}
}

static const struct xdg_surface_listener surface_listener = {
	.configure = handle_surface_configure,
};

static void handle_toplevel_configure(void *data, struct xdg_toplevel *toplevel, int32_t width,
	int32_t height, struct wl_array *states)
{
	/* the size is ours: the tests want known pixels */
}

static void handle_toplevel_close(void *data, struct xdg_toplevel *toplevel)
{
	c.closed = true;
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = handle_toplevel_configure,
	.close = handle_toplevel_close,
};

static void handle_popup_configure(
	void *data, struct xdg_popup *popup, int32_t x, int32_t y, int32_t width, int32_t height)
{
}

static void handle_popup_done(void *data, struct xdg_popup *popup)
{
	printf("popup-done\n");
	xdg_popup_destroy(c.popup);
	c.popup = NULL;
	wl_surface_attach(c.popup_surface, NULL, 0, 0);
	wl_surface_commit(c.popup_surface);
}

static const struct xdg_popup_listener popup_listener = {
	.configure = handle_popup_configure,
	.popup_done = handle_popup_done,
};

static bool parse_size(const char *s, int *w, int *h)
{
	return sscanf(s, "%dx%d", w, h) == 2 && *w > 0 && *h > 0 && *w <= 4096 && *h <= 4096;
}

static bool parse_rect(const char *s, struct rect_spec *r)
{
	char color[7];
	if (sscanf(s, "%d,%d,%dx%d,%6[0-9a-fA-F]", &r->x, &r->y, &r->width, &r->height, color) !=
			5 ||
		strlen(color) != 6 || r->width <= 0 || r->height <= 0 || r->width > 4096 ||
		r->height > 4096) {
		return false;
	}
	r->color = (uint32_t)strtoul(color, NULL, 16);
	r->set = true;
	return true;
}

static bool parse_fill(const char *s, struct rect_spec *r)
{
	char color[9];
	if (sscanf(s, "%d,%d,%dx%d,%8[0-9a-fA-F]", &r->x, &r->y, &r->width, &r->height, color) !=
			5 ||
		strlen(color) != 8 || r->width <= 0 || r->height <= 0 || r->width > 4096 ||
		r->height > 4096) {
		return false;
	}
	r->color = (uint32_t)strtoul(color, NULL, 16);
	r->set = true;
	return true;
}

static void roundtrip(void)
{
	if (wl_display_roundtrip(c.display) < 0) {
		die("lost the compositor");
	}
}

int main(int argc, char *argv[])
{
	int width = 300, height = 200;
	uint32_t color = 0x204060;
	const char *title = "vt-client";
	struct rect_spec sub = { 0 }, popup = { 0 };

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (val == NULL) {
			die("every option takes a value");
		}
		i++;
		if (strcmp(arg, "--size") == 0) {
			if (!parse_size(val, &width, &height)) {
				die("--size WxH");
			}
		} else if (strcmp(arg, "--color") == 0) {
			color = (uint32_t)strtoul(val, NULL, 16) & 0xffffff;
		} else if (strcmp(arg, "--title") == 0) {
			title = val;
		} else if (strcmp(arg, "--subsurface") == 0) {
			if (!parse_rect(val, &sub)) {
				die("--subsurface X,Y,WxH,RRGGBB");
			}
		} else if (strcmp(arg, "--stripes") == 0) {
			c.stripes = atoi(val);
		} else if (strcmp(arg, "--frames") == 0) {
			c.frames = atoi(val);
		} else if (strcmp(arg, "--keys") == 0) {
			c.log_keys = atoi(val) != 0;
		} else if (strcmp(arg, "--geometry") == 0) {
			struct rect_spec *g = &translucent.geometry;
			if (sscanf(val, "%d,%d,%dx%d", &g->x, &g->y, &g->width, &g->height) != 4 ||
				g->width <= 0 || g->height <= 0) {
				die("--geometry X,Y,WxH");
			}
			g->set = true;
		} else if (strcmp(arg, "--fill") == 0) {
			if (translucent.n_fills == MAX_FILLS ||
				!parse_fill(val, &translucent.fills[translucent.n_fills++])) {
				die("--fill X,Y,WxH,AARRGGBB (at most 8)");
			}
		} else if (strcmp(arg, "--popup") == 0) {
			if (!parse_rect(val, &popup)) {
				die("--popup X,Y,WxH,RRGGBB");
			}
		} else {
			die("unknown option");
		}
	}
	if ((c.stripes > 0) != (c.frames > 0) || c.stripes < 0 || c.stripes > height ||
		c.frames < 0) {
		die("--stripes N (1..height) and --frames K go together");
	}
	c.width = width;
	c.height = height;
	c.color = color;
	setvbuf(stdout, NULL, _IOLBF, 0);

	c.display = wl_display_connect(NULL);
	if (c.display == NULL) {
		die("cannot connect to the Wayland display");
	}
	struct wl_registry *registry = wl_display_get_registry(c.display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	roundtrip();
	if (c.compositor == NULL || c.shm == NULL || c.wm_base == NULL ||
		(sub.set && c.subcompositor == NULL)) {
		die("missing globals");
	}
	if (c.log_keys) {
		if (c.seat == NULL) {
			die("no wl_seat");
		}
		wl_seat_add_listener(c.seat, &seat_listener, NULL);
		roundtrip();
	}
	xdg_wm_base_add_listener(c.wm_base, &wm_base_listener, NULL);

	c.surface = wl_compositor_create_surface(c.compositor);
	c.xdg_surface = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
	xdg_surface_add_listener(c.xdg_surface, &surface_listener, NULL);
	c.toplevel = xdg_surface_get_toplevel(c.xdg_surface);
	xdg_toplevel_add_listener(c.toplevel, &toplevel_listener, NULL);
	xdg_toplevel_set_title(c.toplevel, title);
	xdg_toplevel_set_app_id(c.toplevel, "vt-client");
	bool argb = translucent.geometry.set || translucent.n_fills > 0;
	c.buffer = map_buffer_format(width, height, color, NULL, argb);
	if (translucent.geometry.set) {
		struct rect_spec *g = &translucent.geometry;
		xdg_surface_set_window_geometry(c.xdg_surface, g->x, g->y, g->width, g->height);
	}

	if (sub.set) {
		/* synchronized: shown with the toplevel's first buffer */
		struct wl_surface *s = wl_compositor_create_surface(c.compositor);
		struct wl_subsurface *ss =
			wl_subcompositor_get_subsurface(c.subcompositor, s, c.surface);
		wl_subsurface_set_position(ss, sub.x, sub.y);
		wl_surface_attach(s, make_buffer(sub.width, sub.height, sub.color), 0, 0);
		wl_surface_damage_buffer(s, 0, 0, INT32_MAX, INT32_MAX);
		wl_surface_commit(s);
	}
	wl_surface_commit(c.surface);
	while (!c.configured) {
		if (wl_display_dispatch(c.display) < 0) {
			die("lost the compositor");
		}
	}
	roundtrip();
	printf("mapped\n");

	if (c.frames > 0) {
		for (int i = 0; i < 2; i++) {
			c.anim[i] = map_buffer(width, height, color, &c.anim_pixels[i]);
			wl_buffer_add_listener(c.anim[i], &anim_buffer_listener, NULL);
		}
		draw_frame();
	}

	if (popup.set) {
		struct xdg_positioner *p = xdg_wm_base_create_positioner(c.wm_base);
		xdg_positioner_set_size(p, popup.width, popup.height);
		xdg_positioner_set_anchor_rect(p, popup.x, popup.y, 1, 1);
		xdg_positioner_set_anchor(p, XDG_POSITIONER_ANCHOR_TOP_LEFT);
		xdg_positioner_set_gravity(p, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT);
		c.popup_surface = wl_compositor_create_surface(c.compositor);
		c.popup_xdg_surface = xdg_wm_base_get_xdg_surface(c.wm_base, c.popup_surface);
		xdg_surface_add_listener(c.popup_xdg_surface, &surface_listener, NULL);
		c.popup = xdg_surface_get_popup(c.popup_xdg_surface, c.xdg_surface, p);
		xdg_popup_add_listener(c.popup, &popup_listener, NULL);
		xdg_positioner_destroy(p);
		c.popup_buffer = make_buffer(popup.width, popup.height, popup.color);
		wl_surface_commit(c.popup_surface);
		while (!c.popup_configured) {
			if (wl_display_dispatch(c.display) < 0) {
				die("lost the compositor");
			}
		}
		roundtrip();
		printf("popup-mapped\n");
	}

	while (!c.closed) {
		if (wl_display_dispatch(c.display) < 0) {
			die("lost the compositor");
		}
	}
	printf("closed\n");
	wl_display_disconnect(c.display);
	return 0;
}
