/*
 * Copying pixels with pixman: client surface buffers into a window image,
 * and damaged rectangles between window images. All images are ARGB8888
 * (premultiplied), as the host reads them.
 */
#ifndef VITRAIL_AGENT_PAINT_H
#define VITRAIL_AGENT_PAINT_H

#include <pixman.h>
#include <stdbool.h>
#include <stdint.h>

struct wlr_surface;

struct paint_image {
	uint8_t *data;
	int width, height, stride;
};

/* Copy region (destination coordinates) from src to dst; sizes may differ,
 * the part outside src is left alone. */
void agent_paint_copy(const struct paint_image *dst, const struct paint_image *src,
	const pixman_region32_t *region);
/* As agent_paint_copy, with src magnified by factor (dst pixels per src
 * pixel; bilinear): the old contents of a window whose scale changed. */
void agent_paint_copy_scaled(const struct paint_image *dst, const struct paint_image *src,
	double factor, const pixman_region32_t *region);
/* Make region transparent. */
void agent_paint_clear(const struct paint_image *dst, const pixman_region32_t *region);
/*
 * Draw the current buffer of surface, whose top-left corner is at (x, y)
 * of dst and whose size is width x height (surface-local units), clipped
 * to region. over: blend over what is there; else replace. False when the
 * surface has no readable buffer (nothing drawn). translucent (or NULL):
 * gets the rectangles of what was drawn where some pixel of dst is not
 * opaque now (found while copying in the common case: ARGB8888/XRGB8888
 * 1:1 replaced; else by reading dst back).
 */
bool agent_paint_surface(const struct paint_image *dst, struct wlr_surface *surface, int x, int y,
	int width, int height, const pixman_region32_t *region, bool over,
	pixman_region32_t *translucent);
/* A DRM format agent_paint_surface reads (the agent offers its clients
 * only these wl_shm formats); one without alpha. */
bool agent_paint_format_supported(uint32_t drm);
bool agent_paint_format_opaque(uint32_t drm);
/* The DRM format of the surface's buffer; false if it has none readable. */
bool agent_paint_surface_format(struct wlr_surface *surface, uint32_t *format);
/* True if every pixel of box (clipped to img) has alpha 0xff. */
bool agent_paint_box_opaque(const struct paint_image *img, const pixman_box32_t *box);
/* Add to out each rectangle of region holding a pixel that is not opaque. */
void agent_paint_find_translucent(
	const struct paint_image *img, const pixman_region32_t *region, pixman_region32_t *out);
/* True if the surface's buffer can be read (a wl_shm buffer still held). */
bool agent_paint_surface_readable(struct wlr_surface *surface);

#endif
