/*
 * vt-x11: a tiny X11 client for the agent's tests. A 300x200 toplevel
 * filled with 204060, titled "x11 popup test", class "VtX11"; once it has
 * the keyboard focus, an override-redirect window (what X11 menus and
 * tooltips are) of 100x50 filled with ff8000 at (150, 100) of the
 * toplevel (with --big: 2000x50, wider than the test outputs). Prints
 * "toplevel-focused" and "popup-mapped" on stdout. With --move-when
 * FILE: once FILE exists, the override-redirect window moves to (20, 20)
 * of the toplevel ("popup-moved").
 */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xcb/xcb.h>

static void fill(
	xcb_connection_t *c, xcb_window_t w, uint32_t color, uint16_t width, uint16_t height)
{
	xcb_gcontext_t gc = xcb_generate_id(c);
	uint32_t values[] = { color };
	xcb_create_gc(c, gc, w, XCB_GC_FOREGROUND, values);
	xcb_rectangle_t r = { 0, 0, width, height };
	xcb_poly_fill_rectangle(c, w, gc, 1, &r);
	xcb_free_gc(c, gc);
	xcb_flush(c);
}

static void move_popup(xcb_connection_t *c, xcb_window_t root, xcb_window_t top, xcb_window_t popup)
{
	xcb_translate_coordinates_reply_t *t = xcb_translate_coordinates_reply(
		c, xcb_translate_coordinates(c, top, root, 20, 20), NULL);
	if (t == NULL) {
		exit(1);
	}
	uint32_t xy[] = { (uint32_t)t->dst_x, (uint32_t)t->dst_y };
	free(t);
	xcb_configure_window(c, popup, XCB_CONFIG_WINDOW_X | XCB_CONFIG_WINDOW_Y, xy);
	xcb_flush(c);
	printf("popup-moved\n");
}

int main(int argc, char *argv[])
{
	uint16_t popup_width = 100;
	const char *move_when = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--big") == 0) {
			popup_width = 2000;
		} else if (strcmp(argv[i], "--move-when") == 0 && i + 1 < argc) {
			move_when = argv[++i];
		}
	}
	xcb_connection_t *c = xcb_connect(NULL, NULL);
	if (xcb_connection_has_error(c)) {
		fprintf(stderr, "vt-x11: cannot open the display\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	xcb_screen_t *screen = xcb_setup_roots_iterator(xcb_get_setup(c)).data;

	xcb_window_t top = xcb_generate_id(c);
	uint32_t top_values[] = { 0x204060, XCB_EVENT_MASK_EXPOSURE | XCB_EVENT_MASK_FOCUS_CHANGE };
	xcb_create_window(c, XCB_COPY_FROM_PARENT, top, screen->root, 0, 0, 300, 200, 0,
		XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual,
		XCB_CW_BACK_PIXEL | XCB_CW_EVENT_MASK, top_values);
	const char *title = "x11 popup test";
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, top, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8,
		(uint32_t)strlen(title), title);
	const char class[] = "vt-x11\0VtX11";
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, top, XCB_ATOM_WM_CLASS, XCB_ATOM_STRING, 8,
		sizeof(class), class);
	xcb_map_window(c, top);
	xcb_flush(c);

	xcb_window_t popup = 0;
	bool moved = false;
	xcb_generic_event_t *e;
	for (;;) {
		e = xcb_poll_for_event(c);
		if (e == NULL) {
			if (xcb_connection_has_error(c)) {
				break;
			}
			if (popup != 0 && !moved && move_when != NULL &&
				access(move_when, F_OK) == 0) {
				moved = true;
				move_popup(c, screen->root, top, popup);
			}
			struct pollfd pfd = { xcb_get_file_descriptor(c), POLLIN, 0 };
			poll(&pfd, 1, 100);
			continue;
		}
		uint8_t type = e->response_type & 0x7f;
		if (type == XCB_EXPOSE) {
			xcb_expose_event_t *ex = (xcb_expose_event_t *)e;
			if (ex->window == top) {
				fill(c, top, 0x204060, 300, 200);
			} else if (ex->window == popup) {
				fill(c, popup, 0xff8000, popup_width, 50);
			}
		} else if (type == XCB_FOCUS_IN && popup == 0) {
			printf("toplevel-focused\n");
			xcb_translate_coordinates_reply_t *t = xcb_translate_coordinates_reply(
				c, xcb_translate_coordinates(c, top, screen->root, 150, 100), NULL);
			if (t == NULL) {
				return 1;
			}
			popup = xcb_generate_id(c);
			uint32_t values[] = { 0xff8000, 1, XCB_EVENT_MASK_EXPOSURE | 0 };
			xcb_create_window(c, XCB_COPY_FROM_PARENT, popup, screen->root, t->dst_x,
				t->dst_y, popup_width, 50, 0, XCB_WINDOW_CLASS_INPUT_OUTPUT,
				screen->root_visual,
				XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT | XCB_CW_EVENT_MASK,
				values);
			free(t);
			xcb_map_window(c, popup);
			xcb_flush(c);
			printf("popup-mapped\n");
		}
		free(e);
	}
	xcb_disconnect(c);
	return 0;
}
