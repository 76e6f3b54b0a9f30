#include "tree/paint.h"

#include <drm_fourcc.h>
#include <stddef.h>

#include "tree/cpu_buffer.h"

cairo_t *paint_begin(int width, int height, struct cpu_buffer **buffer)
{
	int stride = cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, width);
	*buffer = cpu_buffer_create(width, height, (size_t)stride, DRM_FORMAT_ARGB8888);
	if (*buffer == NULL) {
		return NULL;
	}
	cairo_surface_t *surface = cairo_image_surface_create_for_data(
		cpu_buffer_pixels(*buffer), CAIRO_FORMAT_ARGB32, width, height, stride);
	cairo_t *cr = cairo_create(surface);
	cairo_surface_destroy(surface); /* the context holds it */
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		cairo_destroy(cr);
		wlr_buffer_drop(&(*buffer)->base);
		*buffer = NULL;
		return NULL;
	}
	return cr;
}

void paint_end(cairo_t *cr)
{
	cairo_surface_flush(cairo_get_target(cr));
	cairo_destroy(cr);
}

void paint_set_rgb(cairo_t *cr, uint32_t rgb)
{
	cairo_set_source_rgb(cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
		(rgb & 0xff) / 255.0);
}

PangoLayout *paint_text_layout(cairo_t *cr, const char *text, const char *font, int max_width)
{
	PangoLayout *layout = pango_cairo_create_layout(cr);
	PangoFontDescription *desc = pango_font_description_from_string(font);
	pango_layout_set_font_description(layout, desc);
	pango_font_description_free(desc);
	pango_layout_set_auto_dir(layout, FALSE);
	pango_layout_set_single_paragraph_mode(layout, TRUE);
	if (max_width > 0) {
		pango_layout_set_width(layout, max_width * PANGO_SCALE);
		pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
	}
	pango_layout_set_text(layout, text, -1);
	return layout;
}
