#include "paint.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/util/box.h>
#include <wlr/util/log.h>

/* DRM fourcc codes (wl_shm uses them too, but for 0 and 1). */
#define FOURCC(a, b, c, d) \
	((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))

/* Seconds between two "cannot forward a buffer" errors in the log. */
#define UNSUPPORTED_LOG_INTERVAL_S 10

/*
 * Every wl_shm format the agent offers its apps, and the pixman format it
 * reads it as: pixman converts each to the ARGB8888 the protocol carries
 * (10-bit channels are reduced to 8 bits). Apps get no other format, so
 * none can pick one the agent cannot forward (Mesa's EGL on wl_shm takes
 * the one with the most color bits).
 */
static const struct {
	uint32_t drm;
	pixman_format_code_t pixman;
	bool opaque; /* no alpha channel */
} formats[] = {
	{ FOURCC('A', 'R', '2', '4'), PIXMAN_a8r8g8b8, false },
	{ FOURCC('X', 'R', '2', '4'), PIXMAN_x8r8g8b8, true },
	{ FOURCC('A', 'B', '2', '4'), PIXMAN_a8b8g8r8, false },
	{ FOURCC('X', 'B', '2', '4'), PIXMAN_x8b8g8r8, true },
	{ FOURCC('R', 'A', '2', '4'), PIXMAN_r8g8b8a8, false },
	{ FOURCC('R', 'X', '2', '4'), PIXMAN_r8g8b8x8, true },
	{ FOURCC('B', 'A', '2', '4'), PIXMAN_b8g8r8a8, false },
	{ FOURCC('B', 'X', '2', '4'), PIXMAN_b8g8r8x8, true },
	{ FOURCC('R', 'G', '1', '6'), PIXMAN_r5g6b5, true },
	{ FOURCC('B', 'G', '1', '6'), PIXMAN_b5g6r5, true },
	{ FOURCC('A', 'R', '3', '0'), PIXMAN_a2r10g10b10, false },
	{ FOURCC('X', 'R', '3', '0'), PIXMAN_x2r10g10b10, true },
	{ FOURCC('A', 'B', '3', '0'), PIXMAN_a2b10g10r10, false },
	{ FOURCC('X', 'B', '3', '0'), PIXMAN_x2b10g10r10, true },
};

#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

static int format_index(uint32_t drm)
{
	for (size_t i = 0; i < N_FORMATS; i++) {
		if (formats[i].drm == drm) {
			return (int)i;
		}
	}
	return -1;
}

bool agent_paint_format_supported(uint32_t drm)
{
	return format_index(drm) >= 0;
}

bool agent_paint_format_opaque(uint32_t drm)
{
	int i = format_index(drm);
	return i >= 0 && formats[i].opaque;
}

/* An app's buffer the agent cannot forward: an error, at most one line
 * every UNSUPPORTED_LOG_INTERVAL_S seconds, with the count of the others. */
static void log_unsupported(uint32_t format, size_t stride, const char *why)
{
	static struct timespec last;
	static unsigned long suppressed;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec != 0 && now.tv_sec - last.tv_sec < UNSUPPORTED_LOG_INTERVAL_S) {
		suppressed++;
		return;
	}
	wlr_log(WLR_ERROR,
		"cannot forward a buffer of format 0x%08x (%.4s), stride %zu: %s; "
		"its window is not updated (%lu more since the last report)",
		format, (const char *)&format, stride, why, suppressed);
	last = now;
	suppressed = 0;
}

#define ALPHA 0xff000000u

/* Four pixels at a time (SSE2 on x86-64, NEON on arm64), unaligned
 * loads and stores through memcpy. */
typedef uint32_t pixel_vec __attribute__((vector_size(16)));

/* The AND of n pixels: its alpha byte is 0xff if all of them are opaque. */
static uint32_t and_row(const uint32_t *row, int n)
{
	pixel_vec all = { ~0u, ~0u, ~0u, ~0u };
	int i = 0;
	for (; i + 4 <= n; i += 4) {
		pixel_vec v;
		memcpy(&v, row + i, sizeof(v));
		all &= v;
	}
	uint32_t r = all[0] & all[1] & all[2] & all[3];
	for (; i < n; i++) {
		r &= row[i];
	}
	return r;
}

/* Copy n pixels, OR-ing set into each (ALPHA: from XRGB), and return the
 * AND of what was written (as and_row), in one pass over the memory. */
static uint32_t copy_row(uint32_t *restrict dst, const uint32_t *restrict src, int n, uint32_t set)
{
	pixel_vec all = { ~0u, ~0u, ~0u, ~0u };
	pixel_vec or = { set, set, set, set };
	int i = 0;
	for (; i + 4 <= n; i += 4) {
		pixel_vec v;
		memcpy(&v, src + i, sizeof(v));
		v |= or ;
		all &= v;
		memcpy(dst + i, &v, sizeof(v));
	}
	uint32_t r = all[0] & all[1] & all[2] & all[3];
	for (; i < n; i++) {
		uint32_t v = src[i] | set;
		r &= v;
		dst[i] = v;
	}
	return r;
}

/*
 * The common case without pixman: an ARGB8888 or XRGB8888 buffer copied
 * 1:1 (SRC) into the ARGB8888 image, box by box of clip, noting in
 * translucent (if not NULL) the boxes where a pixel is not opaque. The
 * source rectangle (sx, sy) + w x h is inside the buffer.
 */
static void copy_direct(const struct paint_image *dst, const uint8_t *src, size_t stride,
	uint32_t set, int dx, int dy, int sx, int sy, pixman_region32_t *clip,
	pixman_region32_t *translucent)
{
	int n = 0;
	pixman_box32_t *boxes = pixman_region32_rectangles(clip, &n);
	for (int i = 0; i < n; i++) {
		int x1 = boxes[i].x1 < 0 ? 0 : boxes[i].x1;
		int y1 = boxes[i].y1 < 0 ? 0 : boxes[i].y1;
		int x2 = boxes[i].x2 > dst->width ? dst->width : boxes[i].x2;
		int y2 = boxes[i].y2 > dst->height ? dst->height : boxes[i].y2;
		if (x1 >= x2 || y1 >= y2) {
			continue;
		}
		uint32_t all = ~0u;
		for (int y = y1; y < y2; y++) {
			uint32_t *d =
				(uint32_t *)(dst->data + (size_t)y * (size_t)dst->stride) + x1;
			const uint32_t *s =
				(const uint32_t *)(src + (size_t)(y - dy + sy) * stride) +
				(x1 - dx + sx);
			all &= copy_row(d, s, x2 - x1, set);
		}
		if (translucent != NULL && (all & ALPHA) != ALPHA) {
			pixman_region32_union_rect(translucent, translucent, x1, y1,
				(unsigned)(x2 - x1), (unsigned)(y2 - y1));
		}
	}
}

static pixman_image_t *wrap(const struct paint_image *img)
{
	return pixman_image_create_bits_no_clear(
		PIXMAN_a8r8g8b8, img->width, img->height, (uint32_t *)img->data, img->stride);
}

void agent_paint_copy(const struct paint_image *dst, const struct paint_image *src,
	const pixman_region32_t *region)
{
	if (!pixman_region32_not_empty((pixman_region32_t *)region)) {
		return;
	}
	pixman_image_t *d = wrap(dst);
	pixman_image_t *s = wrap(src);
	if (d != NULL && s != NULL) {
		pixman_region32_t clip;
		pixman_region32_init_rect(&clip, 0, 0, (unsigned)src->width, (unsigned)src->height);
		pixman_region32_intersect(&clip, &clip, (pixman_region32_t *)region);
		pixman_image_set_clip_region32(d, &clip);
		pixman_image_composite32(
			PIXMAN_OP_SRC, s, NULL, d, 0, 0, 0, 0, 0, 0, dst->width, dst->height);
		pixman_region32_fini(&clip);
	}
	if (s != NULL) {
		pixman_image_unref(s);
	}
	if (d != NULL) {
		pixman_image_unref(d);
	}
}

void agent_paint_copy_scaled(const struct paint_image *dst, const struct paint_image *src,
	double factor, const pixman_region32_t *region)
{
	if (!pixman_region32_not_empty((pixman_region32_t *)region) || !(factor > 0)) {
		return;
	}
	pixman_image_t *d = wrap(dst);
	pixman_image_t *s = wrap(src);
	if (d != NULL && s != NULL) {
		pixman_transform_t t;
		pixman_transform_init_scale(&t, pixman_double_to_fixed(1.0 / factor),
			pixman_double_to_fixed(1.0 / factor));
		pixman_image_set_transform(s, &t);
		pixman_image_set_filter(s, PIXMAN_FILTER_BILINEAR, NULL, 0);
		pixman_image_set_clip_region32(d, (pixman_region32_t *)region);
		pixman_image_composite32(
			PIXMAN_OP_SRC, s, NULL, d, 0, 0, 0, 0, 0, 0, dst->width, dst->height);
	}
	if (s != NULL) {
		pixman_image_unref(s);
	}
	if (d != NULL) {
		pixman_image_unref(d);
	}
}

void agent_paint_clear(const struct paint_image *dst, const pixman_region32_t *region)
{
	int n = 0;
	pixman_box32_t *boxes = pixman_region32_rectangles((pixman_region32_t *)region, &n);
	if (n == 0) {
		return;
	}
	pixman_image_t *d = wrap(dst);
	if (d == NULL) {
		return;
	}
	pixman_color_t transparent = { 0, 0, 0, 0 };
	pixman_image_fill_boxes(PIXMAN_OP_CLEAR, d, &transparent, n, boxes);
	pixman_image_unref(d);
}

static struct wlr_buffer *source_buffer(struct wlr_surface *surface)
{
	if (surface == NULL || surface->buffer == NULL) {
		return NULL;
	}
	return surface->buffer->source;
}

bool agent_paint_surface_format(struct wlr_surface *surface, uint32_t *format)
{
	struct wlr_buffer *buffer = source_buffer(surface);
	void *data = NULL;
	size_t stride = 0;
	if (buffer == NULL ||
		!wlr_buffer_begin_data_ptr_access(
			buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, format, &stride)) {
		return false;
	}
	wlr_buffer_end_data_ptr_access(buffer);
	return true;
}

bool agent_paint_box_opaque(const struct paint_image *img, const pixman_box32_t *box)
{
	int x1 = box->x1 < 0 ? 0 : box->x1, y1 = box->y1 < 0 ? 0 : box->y1;
	int x2 = box->x2 > img->width ? img->width : box->x2;
	int y2 = box->y2 > img->height ? img->height : box->y2;
	for (int y = y1; y < y2 && x1 < x2; y++) {
		const uint32_t *row =
			(const uint32_t *)(img->data + (size_t)y * (size_t)img->stride) + x1;
		if ((and_row(row, x2 - x1) & ALPHA) != ALPHA) {
			return false;
		}
	}
	return true;
}

void agent_paint_find_translucent(
	const struct paint_image *img, const pixman_region32_t *region, pixman_region32_t *out)
{
	int n = 0;
	pixman_box32_t *boxes = pixman_region32_rectangles((pixman_region32_t *)region, &n);
	for (int i = 0; i < n; i++) {
		pixman_box32_t *b = &boxes[i];
		if (!agent_paint_box_opaque(img, b)) {
			pixman_region32_union_rect(out, out, b->x1, b->y1,
				(unsigned)(b->x2 - b->x1), (unsigned)(b->y2 - b->y1));
		}
	}
}

bool agent_paint_surface_readable(struct wlr_surface *surface)
{
	return source_buffer(surface) != NULL;
}

bool agent_paint_surface(const struct paint_image *dst, struct wlr_surface *surface, int x, int y,
	int width, int height, const pixman_region32_t *region, bool over,
	pixman_region32_t *translucent)
{
	struct wlr_buffer *buffer = source_buffer(surface);
	void *data = NULL;
	uint32_t format = 0;
	size_t stride = 0;
	bool ok = false;

	if (buffer == NULL || width <= 0 || height <= 0) {
		return false;
	}
	if (!wlr_buffer_begin_data_ptr_access(
		    buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format, &stride)) {
		return false;
	}
	int fi = format_index(format);
	pixman_image_t *src = NULL, *d = NULL;
	uint8_t *aligned = NULL;
	if (fi < 0) {
		log_unsupported(format, stride, "a format the agent does not offer");
		goto out;
	}
	if (stride > INT32_MAX / 2 || buffer->width <= 0 || buffer->height <= 0) {
		log_unsupported(format, stride, "absurd size");
		goto out;
	}
	if (stride % 4 != 0) {
		/* pixman wants rows of whole 32-bit words: 16-bit pixels of an
		 * odd width may come without padding. Copy them into rows that
		 * have it. */
		size_t padded = (stride + 3) & ~(size_t)3;
		aligned = malloc(padded * (size_t)buffer->height);
		if (aligned == NULL) {
			log_unsupported(format, stride, "out of memory to realign its rows");
			goto out;
		}
		for (int row = 0; row < buffer->height; row++) {
			memcpy(aligned + padded * (size_t)row,
				(uint8_t *)data + stride * (size_t)row, stride);
		}
		data = aligned;
		stride = padded;
	}
	/* Map surface-local units to buffer pixels: scale, viewport. Buffer
	 * transforms other than normal are drawn as normal. */
	struct wlr_fbox box;
	wlr_surface_get_buffer_source_box(surface, &box);
	double sx = box.width / width, sy = box.height / height;
	bool identity = sx == 1.0 && sy == 1.0 && box.x == (int)box.x && box.y == (int)box.y;
	int src_x = identity ? (int)box.x : 0, src_y = identity ? (int)box.y : 0;

	pixman_region32_t clip;
	pixman_region32_init_rect(&clip, x, y, (unsigned)width, (unsigned)height);
	pixman_region32_intersect(&clip, &clip, (pixman_region32_t *)region);

	uint32_t drm = formats[fi].drm;
	if (!over && identity &&
		(drm == FOURCC('A', 'R', '2', '4') || drm == FOURCC('X', 'R', '2', '4')) &&
		src_x >= 0 && src_y >= 0 && src_x + width <= buffer->width &&
		src_y + height <= buffer->height) {
		copy_direct(dst, data, stride, drm == FOURCC('X', 'R', '2', '4') ? ALPHA : 0, x, y,
			src_x, src_y, &clip, translucent);
		pixman_region32_fini(&clip);
		ok = true;
		goto out;
	}

	src = pixman_image_create_bits_no_clear(
		formats[fi].pixman, buffer->width, buffer->height, data, (int)stride);
	d = wrap(dst);
	if (src == NULL || d == NULL) {
		pixman_region32_fini(&clip);
		goto out;
	}
	if (!identity) {
		pixman_transform_t t;
		pixman_transform_init_scale(
			&t, pixman_double_to_fixed(sx), pixman_double_to_fixed(sy));
		pixman_transform_translate(
			&t, NULL, pixman_double_to_fixed(box.x), pixman_double_to_fixed(box.y));
		pixman_image_set_transform(src, &t);
		pixman_image_set_filter(src, PIXMAN_FILTER_BILINEAR, NULL, 0);
	}

	pixman_image_set_clip_region32(d, &clip);
	pixman_image_composite32(over ? PIXMAN_OP_OVER : PIXMAN_OP_SRC, src, NULL, d, src_x, src_y,
		0, 0, x, y, width, height);
	if (translucent != NULL) {
		agent_paint_find_translucent(dst, &clip, translucent);
	}
	pixman_region32_fini(&clip);
	ok = true;

out:
	if (src != NULL) {
		pixman_image_unref(src);
	}
	if (d != NULL) {
		pixman_image_unref(d);
	}
	free(aligned);
	wlr_buffer_end_data_ptr_access(buffer);
	return ok;
}
