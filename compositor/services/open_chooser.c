#include "services/open_chooser.h"

#include <cairo.h>
#include <drm_fourcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/protocol.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/util/log.h>
#include <xkbcommon/xkbcommon.h>
#include <vitrail/common/loop.h>

#include "config.h"
#include "services/open.h"
#include "desktop/output.h"
#include "server.h"
#include "tree/cpu_buffer.h"
#include "tree/paint.h"
#include "guest/vm_link.h"

#define PAD 12
/* A question that appears while the user is typing or clicking elsewhere
 * must not be answered by that keystroke or click: picks are ignored for
 * this long after a question is shown (Escape always works). */
#define PICK_DELAY_MS 500
#define SWATCH 20
#define FOOTER_HEIGHT 28
#define WHAT_MAX 256

struct question {
	struct wl_list link; /* open_chooser.questions, oldest first */
	void *transfer;
	char source[CONFIG_VM_NAME_MAX + 1];
	char what[WHAT_MAX];
};

struct open_chooser {
	struct server *server;
	struct open_router *router;
	struct wl_list questions;
	size_t n_questions;
	struct wlr_scene_tree *tree; /* in the overlay layer */
	struct wlr_scene_buffer *node; /* the shown question's panel, or NULL */
	struct wlr_box box; /* the panel, layout coordinates */
	struct vm_link *rows[OPEN_CHOOSER_MAX_ROWS];
	size_t n_rows;
	int64_t shown_ms; /* CLOCK_MONOTONIC when the question was shown */
};

static bool picks_allowed(const struct open_chooser *chooser)
{
	return loop_now_ms() - chooser->shown_ms >= PICK_DELAY_MS;
}

/* White or black, whichever reads better on rgb. */
static uint32_t text_on(uint32_t rgb)
{
	uint32_t r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
	return (r * 299 + g * 587 + b * 114) / 1000 > 140 ? 0x000000 : 0xffffff;
}

static void show_text(cairo_t *cr, const char *text, const char *font_name, double x, double y,
	int width, uint32_t rgb)
{
	PangoLayout *layout = paint_text_layout(cr, text, font_name, width);
	paint_set_rgb(cr, rgb);
	cairo_move_to(cr, x, y);
	pango_cairo_show_layout(cr, layout);
	g_object_unref(layout);
}

static struct cpu_buffer *draw_panel(struct open_chooser *chooser, const struct question *q)
{
	int width = chooser->box.width, height = chooser->box.height;
	struct cpu_buffer *buffer;
	cairo_t *cr = paint_begin(width, height, &buffer);
	if (cr == NULL) {
		return NULL;
	}

	paint_set_rgb(cr, OPEN_CHOOSER_BORDER_RGB);
	cairo_paint(cr);
	paint_set_rgb(cr, OPEN_CHOOSER_BACKGROUND_RGB);
	cairo_rectangle(cr, 2, 2, width - 4, height - 4);
	cairo_fill(cr);

	/* who asks: the source's label color as a stripe, its name by the host */
	struct vm_link *source = server_find_vm(chooser->server, q->source);
	uint32_t source_rgb = source != NULL ? vm_link_label(source) : CONFIG_HOST_FRAME_RGB;
	paint_set_rgb(cr, source_rgb);
	cairo_rectangle(cr, 2, 2, 8, OPEN_CHOOSER_HEADER_HEIGHT - 4);
	cairo_fill(cr);
	char line[64 + CONFIG_VM_NAME_MAX];
	if (source != NULL) {
		snprintf(line, sizeof(line), "[%s] asks to open", q->source);
	} else {
		snprintf(line, sizeof(line), "The host asks to open");
	}
	show_text(cr, line, "Sans Bold 11", PAD + 8, 8, width - 2 * PAD - 8, 0xffffff);
	show_text(cr, q->what, "Sans 10", PAD + 8, 32, width - 2 * PAD - 8, 0xd3d7cf);

	for (size_t i = 0; i < chooser->n_rows; i++) {
		struct vm_link *link = chooser->rows[i];
		uint32_t rgb = vm_link_label(link);
		double y = OPEN_CHOOSER_HEADER_HEIGHT + (double)i * OPEN_CHOOSER_ROW_HEIGHT;
		paint_set_rgb(cr, rgb);
		cairo_rectangle(cr, PAD, y + 2, width - 2 * PAD, OPEN_CHOOSER_ROW_HEIGHT - 4);
		cairo_fill(cr);
		snprintf(line, sizeof(line), "%zu   %s%s", i + 1, vm_link_name(link),
			vm_link_connected(link) ? "" : "  (starts)");
		show_text(cr, line, "Sans 11", PAD + 10, y + 7, width - 2 * PAD - 20, text_on(rgb));
	}
	show_text(cr, "1-9 or a click: open there     Escape: cancel", "Sans 9", PAD,
		height - FOOTER_HEIGHT + 6, width - 2 * PAD, 0xbabdb6);

	paint_end(cr);
	return buffer;
}

static void hide(struct open_chooser *chooser)
{
	if (chooser->node != NULL) {
		wlr_scene_node_destroy(&chooser->node->node);
		chooser->node = NULL;
	}
	chooser->n_rows = 0;
}

/* Show the oldest question; false if it cannot be shown. */
static bool show(struct open_chooser *chooser)
{
	struct server *server = chooser->server;
	if (wl_list_empty(&chooser->questions) || wl_list_empty(&server->outputs)) {
		return false;
	}
	struct question *q = wl_container_of(chooser->questions.next, q, link);
	chooser->n_rows = 0;
	for (size_t i = 0; i < server->n_vm_links && chooser->n_rows < OPEN_CHOOSER_MAX_ROWS; i++) {
		struct vm_link *link = server->vm_links[i];
		/* the asking VM has it already; a disposable VM is @disposable's */
		if (strcmp(vm_link_name(link), q->source) == 0 ||
			vm_link_config(link)->disposable_of != NULL) {
			continue;
		}
		chooser->rows[chooser->n_rows++] = link;
	}
	struct output *output = wl_container_of(server->outputs.next, output, link);
	int width = OPEN_CHOOSER_WIDTH;
	int height = OPEN_CHOOSER_HEADER_HEIGHT + (int)chooser->n_rows * OPEN_CHOOSER_ROW_HEIGHT +
		FOOTER_HEIGHT;
	if (width > output->box.width) {
		width = output->box.width;
	}
	chooser->box = (struct wlr_box){
		.x = output->box.x + (output->box.width - width) / 2,
		.y = output->box.y + (output->box.height - height) / 3,
		.width = width,
		.height = height,
	};
	struct cpu_buffer *buffer = draw_panel(chooser, q);
	if (buffer == NULL) {
		return false;
	}
	chooser->node = server_scene_buffer_create(server, chooser->tree, &buffer->base, NULL);
	wlr_buffer_drop(&buffer->base);
	if (chooser->node == NULL) {
		return false;
	}
	wlr_scene_node_set_position(&chooser->node->node, chooser->box.x, chooser->box.y);
	wlr_scene_node_raise_to_top(&chooser->tree->node);
	chooser->shown_ms = loop_now_ms();
	wlr_log(WLR_INFO, "open: asking where to open a request from %s (%zu choices)", q->source,
		chooser->n_rows);
	return true;
}

/* The shown question is answered: tell the router, then the next one. */
static void answer(struct open_chooser *chooser, struct vm_link *target)
{
	if (wl_list_empty(&chooser->questions)) {
		return;
	}
	struct question *q = wl_container_of(chooser->questions.next, q, link);
	void *transfer = q->transfer;
	wl_list_remove(&q->link);
	chooser->n_questions--;
	free(q);
	hide(chooser);
	open_chosen(chooser->router, transfer, target);
	while (!wl_list_empty(&chooser->questions) && chooser->node == NULL && !show(chooser)) {
		/* cannot show it: cancel it rather than wait forever */
		answer(chooser, NULL);
	}
}

bool open_chooser_ask(
	struct open_chooser *chooser, void *transfer, const char *source, const char *what)
{
	if (chooser->n_questions >= OPEN_CHOOSER_MAX_QUEUED ||
		wl_list_empty(&chooser->server->outputs)) {
		return false;
	}
	/* one question per source at a time: a VM cannot fill the queue (and
	 * keep the others' questions out) or stack choosers */
	struct question *other;
	wl_list_for_each(other, &chooser->questions, link) {
		if (strcmp(other->source, source) == 0) {
			return false;
		}
	}
	struct question *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		return false;
	}
	q->transfer = transfer;
	snprintf(q->source, sizeof(q->source), "%s", source);
	/* display text (the what may hold a guest's file name): the
	 * protocol's sanitizer, cut to fit */
	vtp_sanitize_display_string(what, strlen(what), WHAT_MAX - 1, q->what, sizeof(q->what));
	wl_list_insert(chooser->questions.prev, &q->link);
	chooser->n_questions++;
	if (chooser->node == NULL && !show(chooser)) {
		wl_list_remove(&q->link);
		chooser->n_questions--;
		free(q);
		return false;
	}
	return true;
}

void open_chooser_forget(struct open_chooser *chooser, void *transfer)
{
	struct question *q, *tmp;
	bool was_shown = false;
	bool first = true;
	wl_list_for_each_safe(q, tmp, &chooser->questions, link) {
		if (q->transfer == transfer) {
			was_shown = first && chooser->node != NULL;
			wl_list_remove(&q->link);
			chooser->n_questions--;
			free(q);
			break;
		}
		first = false;
	}
	if (was_shown) {
		hide(chooser);
		while (!wl_list_empty(&chooser->questions) && !show(chooser)) {
			answer(chooser, NULL);
		}
	}
}

bool open_chooser_active(const struct open_chooser *chooser)
{
	return chooser != NULL && chooser->node != NULL;
}

bool open_chooser_handle_key(struct open_chooser *chooser, uint32_t keysym, bool pressed)
{
	if (!open_chooser_active(chooser)) {
		return false;
	}
	if (!pressed) {
		return true;
	}
	if (keysym == XKB_KEY_Escape) {
		answer(chooser, NULL);
	} else if (!picks_allowed(chooser)) {
		/* too soon: the key was meant for something else */
	} else if (keysym >= XKB_KEY_1 && keysym <= XKB_KEY_9) {
		size_t i = keysym - XKB_KEY_1;
		if (i < chooser->n_rows) {
			answer(chooser, chooser->rows[i]);
		}
	} else if (keysym >= XKB_KEY_KP_1 && keysym <= XKB_KEY_KP_9) {
		size_t i = keysym - XKB_KEY_KP_1;
		if (i < chooser->n_rows) {
			answer(chooser, chooser->rows[i]);
		}
	}
	/* every other key is the chooser's too while it is shown */
	return true;
}

bool open_chooser_handle_button(struct open_chooser *chooser, double lx, double ly, bool pressed)
{
	if (!open_chooser_active(chooser) || !wlr_box_contains_point(&chooser->box, lx, ly)) {
		return false;
	}
	if (!pressed || !picks_allowed(chooser)) {
		return true;
	}
	double y = ly - chooser->box.y - OPEN_CHOOSER_HEADER_HEIGHT;
	double x = lx - chooser->box.x;
	if (y >= 0 && x >= PAD && x < chooser->box.width - PAD) {
		size_t i = (size_t)(y / OPEN_CHOOSER_ROW_HEIGHT);
		if (i < chooser->n_rows) {
			answer(chooser, chooser->rows[i]);
		}
	}
	return true;
}

struct open_chooser *open_chooser_create(struct server *server, struct open_router *router)
{
	struct open_chooser *chooser = calloc(1, sizeof(*chooser));
	if (chooser == NULL) {
		return NULL;
	}
	chooser->server = server;
	chooser->router = router;
	wl_list_init(&chooser->questions);
	chooser->tree = wlr_scene_tree_create(&server->layers[SERVER_LAYER_SHELL_OVERLAY]->node);
	if (chooser->tree == NULL) {
		free(chooser);
		return NULL;
	}
	return chooser;
}

void open_chooser_destroy(struct open_chooser *chooser)
{
	if (chooser == NULL) {
		return;
	}
	struct question *q, *tmp;
	wl_list_for_each_safe(q, tmp, &chooser->questions, link) {
		wl_list_remove(&q->link);
		free(q);
	}
	hide(chooser);
	wlr_scene_node_destroy(&chooser->tree->node);
	free(chooser);
}
