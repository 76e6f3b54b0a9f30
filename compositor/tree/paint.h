/*
 * Pixels the host draws itself (title bars, notices, the open chooser):
 * a cairo context over a new ARGB cpu_buffer.
 */
#ifndef VITRAIL_PAINT_H
#define VITRAIL_PAINT_H

#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdint.h>

struct cpu_buffer;

/* A context drawing into a new zeroed width x height ARGB buffer, stored
 * in *buffer; NULL (and *buffer NULL) when out of memory. */
cairo_t *paint_begin(int width, int height, struct cpu_buffer **buffer);
/* Done drawing: flushes into the buffer and frees the context. */
void paint_end(cairo_t *cr);
/* Source color 0xRRGGBB, opaque. */
void paint_set_rgb(cairo_t *cr, uint32_t rgb);
/* A one-line layout of text in font (a Pango font description), never
 * reordered for bidi (it may be what a guest wrote); max_width > 0
 * ellipsizes it at the end. */
PangoLayout *paint_text_layout(cairo_t *cr, const char *text, const char *font, int max_width);

#endif
