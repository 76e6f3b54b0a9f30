#include "paint.h"

#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/util/box.h>
#include <wlr/util/log.h>

/* DRM fourcc codes of the wl_shm formats pixman reads directly. */
#define FOURCC(a, b, c, d) \
	((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))

static pixman_format_code_t pixman_format(uint32_t drm)
{
	switch (drm) {
	case FOURCC('A', 'R', '2', '4'):
		return PIXMAN_a8r8g8b8;
	case FOURCC('X', 'R', '2', '4'):
		return PIXMAN_x8r8g8b8;
	case FOURCC('A', 'B', '2', '4'):
		return PIXMAN_a8b8g8r8;
	case FOURCC('X', 'B', '2', '4'):
		return PIXMAN_x8b8g8r8;
	case FOURCC('R', 'A', '2', '4'):
		return PIXMAN_r8g8b8a8;
	case FOURCC('R', 'X', '2', '4'):
		return PIXMAN_r8g8b8x8;
	case FOURCC('B', 'A', '2', '4'):
		return PIXMAN_b8g8r8a8;
	case FOURCC('B', 'X', '2', '4'):
		return PIXMAN_b8g8r8x8;
	case FOURCC('R', 'G', '1', '6'):
		return PIXMAN_r5g6b5;
	/* 10 bits a channel (Mesa's EGL on wl_shm picks these when offered):
	 * converted to 8 bits as they are copied */
	case FOURCC('X', 'R', '3', '0'):
		return PIXMAN_x2r10g10b10;
	case FOURCC('A', 'R', '3', '0'):
		return PIXMAN_a2r10g10b10;
	case FOURCC('X', 'B', '3', '0'):
		return PIXMAN_x2b10g10r10;
	case FOURCC('A', 'B', '3', '0'):
		return PIXMAN_a2b10g10r10;
	default:
		return 0;
	}
}

bool agent_paint_format_supported(uint32_t drm_format)
{
	return pixman_format(drm_format) != 0;
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

bool agent_paint_surface_readable(struct wlr_surface *surface)
{
	return source_buffer(surface) != NULL;
}

bool agent_paint_surface(const struct paint_image *dst, struct wlr_surface *surface, int x, int y,
	int width, int height, const pixman_region32_t *region, bool over)
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
	pixman_format_code_t pf = pixman_format(format);
	pixman_image_t *src = NULL, *d = NULL;
	if (pf == 0 || stride > INT32_MAX || stride % 4 != 0) {
		/* never offered (agent_paint_format_supported), so a client
		 * bug: say so once per format, never a silent black window */
		static uint32_t last_reported;
		if (format != last_reported) {
			last_reported = format;
			wlr_log(WLR_ERROR,
				"a client's buffer has format 0x%08x, stride %zu, which the agent "
				"cannot forward: its window stays empty",
				format, stride);
		}
		goto out;
	}
	src = pixman_image_create_bits_no_clear(
		pf, buffer->width, buffer->height, data, (int)stride);
	d = wrap(dst);
	if (src == NULL || d == NULL) {
		goto out;
	}

	/* Map surface-local units to buffer pixels: scale, viewport. Buffer
	 * transforms other than normal are drawn as normal. */
	struct wlr_fbox box;
	wlr_surface_get_buffer_source_box(surface, &box);
	double sx = box.width / width, sy = box.height / height;
	bool identity = sx == 1.0 && sy == 1.0 && box.x == (int)box.x && box.y == (int)box.y;
	int src_x = 0, src_y = 0;
	if (identity) {
		src_x = (int)box.x;
		src_y = (int)box.y;
	} else {
		pixman_transform_t t;
		pixman_transform_init_scale(
			&t, pixman_double_to_fixed(sx), pixman_double_to_fixed(sy));
		pixman_transform_translate(
			&t, NULL, pixman_double_to_fixed(box.x), pixman_double_to_fixed(box.y));
		pixman_image_set_transform(src, &t);
		pixman_image_set_filter(src, PIXMAN_FILTER_BILINEAR, NULL, 0);
	}

	pixman_region32_t clip;
	pixman_region32_init_rect(&clip, x, y, (unsigned)width, (unsigned)height);
	pixman_region32_intersect(&clip, &clip, (pixman_region32_t *)region);
	pixman_image_set_clip_region32(d, &clip);
	pixman_image_composite32(over ? PIXMAN_OP_OVER : PIXMAN_OP_SRC, src, NULL, d, src_x, src_y,
		0, 0, x, y, width, height);
	pixman_region32_fini(&clip);
	ok = true;

out:
	if (src != NULL) {
		pixman_image_unref(src);
	}
	if (d != NULL) {
		pixman_image_unref(d);
	}
	wlr_buffer_end_data_ptr_access(buffer);
	return ok;
}
