#include "tree/frame.h"

#include <cairo.h>
#include <drm_fourcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/protocol.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/util/log.h>

#include "tree/cpu_buffer.h"
#include "tree/paint.h"
#include "tree/view.h"

struct frame {
	struct server *server;
	struct wlr_scene_tree *tree;
	struct wlr_scene_rect *rects[4];
	struct wlr_scene_buffer *title;
	struct node_desc desc[FRAME_PART_COUNT];
	uint32_t label_rgb;
	char *prefix;
	bool has_title;

	/* what the title bar shows now */
	int width, height;
	char *shown_title;
	bool shown_focused;
	bool drawn;
	float drawn_scale;
	bool close_shown; /* the close button fitted next to the [vm] label */
	bool unresponsive; /* frame_set_unresponsive */
	bool paused; /* frame_set_paused */
	bool suspended; /* frame_set_suspended (wins over paused) */
	bool attention; /* frame_set_attention */
	int visible_width; /* frame_set_visible_width; 0: all of it */
	float scale; /* of the output it is on (frame_set_scale); the title is drawn at it */
};

uint32_t frame_title_rgb(uint32_t label_rgb, bool focused)
{
	if (focused) {
		return label_rgb;
	}
	uint32_t r = ((label_rgb >> 16) & 0xff) * 7 / 10;
	uint32_t g = ((label_rgb >> 8) & 0xff) * 7 / 10;
	uint32_t b = (label_rgb & 0xff) * 7 / 10;
	return (r << 16) | (g << 8) | b;
}

/* White text on dark colors, black on light ones (relative luminance). */
static bool text_is_dark(uint32_t rgb)
{
	double r = ((rgb >> 16) & 0xff) / 255.0;
	double g = ((rgb >> 8) & 0xff) / 255.0;
	double b = (rgb & 0xff) / 255.0;
	double luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
	return luminance > 0.55;
}

/* The font of title bars. */
#define TITLE_FONT "Sans Bold 10"

/* v rounded up, for 0 <= v < 2^32 (no libm) */
static uint32_t ceil_up(float v)
{
	uint32_t i = (uint32_t)v;
	return (float)i < v ? i + 1 : i;
}

/* Where the title bar's visible part ends (frame_set_visible_width). */
static int frame_title_right(const struct frame *frame, int width)
{
	return frame->visible_width > 0 && frame->visible_width < width ? frame->visible_width
									: width;
}

static struct cpu_buffer *draw_title(
	struct frame *frame, int width, const char *title, bool focused)
{
	int height = VIEW_TITLE_HEIGHT;
	/* drawn in output pixels (logical size times the output's scale),
	 * shown at the logical size: crisp text on a HiDPI output */
	int pixel_w = (int)ceil_up((float)width * frame->scale);
	int pixel_h = (int)ceil_up((float)height * frame->scale);
	struct cpu_buffer *buffer;
	cairo_t *cr = paint_begin(pixel_w, pixel_h, &buffer);
	if (cr == NULL) {
		return NULL;
	}
	cairo_scale(cr, (double)pixel_w / width, (double)pixel_h / height);

	uint32_t bg = frame_title_rgb(frame->label_rgb, focused);
	if (frame->unresponsive || frame->paused || frame->suspended) {
		bg = FRAME_UNRESPONSIVE_RGB;
	}
	uint32_t fg = text_is_dark(bg) ? 0x000000 : 0xffffff;
	paint_set_rgb(cr, bg);
	cairo_paint(cr);

	/* "[vm]" first, in its own layout: nothing the guest names can push
	 * it out, reorder it or ellipsize it; the title gets what is left */
	int x = 6;
	/* the title bar as far as the output shows it: the close button stays
	 * on screen when a window is wider than its output */
	int right = frame_title_right(frame, width);
	int close_w = right >= FRAME_CLOSE_WIDTH ? FRAME_CLOSE_WIDTH : 0;
	paint_set_rgb(cr, fg);
	if (frame->prefix != NULL) {
		char label[VTP_MAX_NAME + 4];
		snprintf(label, sizeof(label), "[%s]", frame->prefix);
		PangoLayout *layout = paint_text_layout(cr, label, TITLE_FONT, 0);
		int lw, lh;
		pango_layout_get_pixel_size(layout, &lw, &lh);
		cairo_move_to(cr, x, (height - lh) / 2.0);
		pango_cairo_show_layout(cr, layout);
		g_object_unref(layout);
		x += lw + 6;
		if (x - 6 > right - close_w) {
			close_w = 0; /* the label wins over the close button */
		}
	}
	if (frame->unresponsive || frame->paused || frame->suspended || frame->attention) {
		/* the host's mark, like the label: before anything the guest names */
		PangoLayout *layout = paint_text_layout(cr,
			frame->suspended ? "(suspended)"
				: frame->paused
				? "(paused)"
				: (frame->unresponsive ? "(not responding)" : "(new)"),
			TITLE_FONT, 0);
		int lw, lh;
		pango_layout_get_pixel_size(layout, &lw, &lh);
		cairo_move_to(cr, x, (height - lh) / 2.0);
		pango_cairo_show_layout(cr, layout);
		g_object_unref(layout);
		x += lw + 6;
	}
	int text_w = right - close_w - 2 - x;
	if (text_w > 0 && title[0] != '\0') {
		PangoLayout *layout = paint_text_layout(cr, title, TITLE_FONT, text_w);
		int tw, th;
		pango_layout_get_pixel_size(layout, &tw, &th);
		/* the title never draws outside its own space */
		cairo_save(cr);
		cairo_rectangle(cr, x, 0, text_w, height);
		cairo_clip(cr);
		cairo_move_to(cr, x, (height - th) / 2.0);
		pango_cairo_show_layout(cr, layout);
		cairo_restore(cr);
		g_object_unref(layout);
	}
	frame->close_shown = close_w > 0;

	if (close_w > 0) {
		/* an "x" of two strokes in the middle of the button */
		double cx = right - close_w / 2.0;
		double cy = height / 2.0;
		double r = 5.0;
		paint_set_rgb(cr, fg);
		cairo_set_line_width(cr, 2.0);
		cairo_move_to(cr, cx - r, cy - r);
		cairo_line_to(cr, cx + r, cy + r);
		cairo_move_to(cr, cx + r, cy - r);
		cairo_line_to(cr, cx - r, cy + r);
		cairo_stroke(cr);
	}

	if (frame->attention) {
		paint_set_rgb(cr, FRAME_ATTENTION_RGB);
		cairo_rectangle(cr, 0, height - 3, width, 3);
		cairo_fill(cr);
	}
	paint_end(cr);
	return buffer;
}

struct frame *frame_create(struct server *server, struct wlr_scene_tree *parent, uint32_t label_rgb,
	const char *prefix, bool has_title, enum node_kind desc_kind, void *owner)
{
	struct frame *frame = calloc(1, sizeof(*frame));
	if (frame == NULL) {
		return NULL;
	}
	frame->server = server;
	frame->scale = 1.0f;
	frame->label_rgb = label_rgb;
	frame->has_title = has_title;
	if (prefix != NULL) {
		frame->prefix = strdup(prefix);
		if (frame->prefix == NULL) {
			goto error;
		}
	}
	frame->tree = wlr_scene_tree_create(&parent->node);
	if (frame->tree == NULL) {
		goto error;
	}
	float color[4];
	server_color_from_rgb(label_rgb, color);
	for (int i = 0; i < FRAME_PART_COUNT; i++) {
		frame->desc[i] = (struct node_desc){ .kind = desc_kind, .owner = owner, .part = i };
	}
	for (int i = 0; i < 4; i++) {
		frame->rects[i] = wlr_scene_rect_create(&frame->tree->node, 0, 0, color);
		if (frame->rects[i] == NULL) {
			goto error;
		}
		frame->rects[i]->node.data = &frame->desc[i];
	}
	return frame;

error:
	frame_destroy(frame);
	return NULL;
}

void frame_destroy(struct frame *frame)
{
	if (frame == NULL) {
		return;
	}
	if (frame->tree != NULL) {
		wlr_scene_node_destroy(&frame->tree->node);
	}
	free(frame->shown_title);
	free(frame->prefix);
	free(frame);
}

void frame_set_visible(struct frame *frame, bool visible)
{
	wlr_scene_node_set_enabled(&frame->tree->node, visible);
}

static void set_rect(struct wlr_scene_rect *rect, int x, int y, int width, int height)
{
	wlr_scene_node_set_position(&rect->node, x, y);
	wlr_scene_rect_set_size(rect, width, height);
}

void frame_update(struct frame *frame, int width, int height, const char *title, bool focused)
{
	int b = VIEW_BORDER;
	int top = frame->has_title ? VIEW_FRAME_TOP : VIEW_BORDER;
	set_rect(frame->rects[FRAME_PART_TOP], -b, -top, width + 2 * b, b);
	set_rect(frame->rects[FRAME_PART_BOTTOM], -b, height, width + 2 * b, b);
	set_rect(frame->rects[FRAME_PART_LEFT], -b, -top + b, b, height + top - b);
	set_rect(frame->rects[FRAME_PART_RIGHT], width, -top + b, b, height + top - b);

	if (frame->title != NULL) {
		wlr_scene_node_set_enabled(&frame->title->node, frame->has_title);
	}
	if (!frame->has_title || width <= 0) {
		return;
	}
	if (frame->drawn && frame->width == width && frame->shown_focused == focused &&
		frame->drawn_scale == frame->scale && frame->shown_title != NULL &&
		strcmp(frame->shown_title, title) == 0) {
		return;
	}
	char *copy = strdup(title);
	struct cpu_buffer *buffer = draw_title(frame, width, title, focused);
	if (copy == NULL || buffer == NULL) {
		wlr_log(WLR_ERROR, "cannot draw a title bar of width %d", width);
		free(copy);
		if (buffer != NULL) {
			wlr_buffer_drop(&buffer->base);
		}
		return;
	}
	struct wlr_scene_buffer *node =
		server_scene_buffer_create(frame->server, frame->tree, &buffer->base, NULL);
	/* the node holds what it needs; drop the producer's reference */
	wlr_buffer_drop(&buffer->base);
	if (node == NULL) {
		free(copy);
		return;
	}
	node->node.data = &frame->desc[FRAME_PART_TITLE];
	wlr_scene_buffer_set_dest_size(node, width, VIEW_TITLE_HEIGHT);
	wlr_scene_node_set_position(&node->node, 0, -VIEW_TITLE_HEIGHT);
	if (frame->title != NULL) {
		wlr_scene_node_destroy(&frame->title->node);
	}
	frame->title = node;
	free(frame->shown_title);
	frame->shown_title = copy;
	frame->width = width;
	frame->height = height;
	frame->shown_focused = focused;
	frame->drawn = true;
	frame->drawn_scale = frame->scale;
}

void frame_set_scale(struct frame *frame, float scale)
{
	if (!(scale >= 0.5f && scale <= 4.0f)) {
		scale = 1.0f;
	}
	if (frame->scale == scale) {
		return;
	}
	frame->scale = scale;
	if (frame->drawn && frame->shown_title != NULL) {
		/* redrawn now: a window moved to another output gets the title
		 * of that output's scale without waiting for a change */
		char *title = strdup(frame->shown_title);
		if (title != NULL) {
			frame_update(
				frame, frame->width, frame->height, title, frame->shown_focused);
			free(title);
		}
	}
}

void frame_set_unresponsive(struct frame *frame, bool unresponsive)
{
	if (frame->unresponsive != unresponsive) {
		frame->unresponsive = unresponsive;
		frame->drawn = false; /* redraw at the next frame_update */
	}
}

void frame_set_paused(struct frame *frame, bool paused)
{
	if (frame->paused != paused) {
		frame->paused = paused;
		frame->drawn = false;
	}
}

void frame_set_suspended(struct frame *frame, bool suspended)
{
	if (frame->suspended != suspended) {
		frame->suspended = suspended;
		frame->drawn = false;
	}
}

void frame_set_visible_width(struct frame *frame, int visible_width)
{
	if (frame->visible_width != visible_width) {
		frame->visible_width = visible_width;
		frame->drawn = false;
	}
}

void frame_set_attention(struct frame *frame, bool attention)
{
	if (frame->attention != attention) {
		frame->attention = attention;
		frame->drawn = false;
	}
}

void frame_set_title_shown(struct frame *frame, bool shown)
{
	frame->has_title = shown;
}

bool frame_title_hit_close(const struct frame *frame, double x)
{
	int right = frame_title_right(frame, frame->width);
	return frame->has_title && frame->close_shown && right >= FRAME_CLOSE_WIDTH &&
		x >= right - FRAME_CLOSE_WIDTH && x < right;
}
