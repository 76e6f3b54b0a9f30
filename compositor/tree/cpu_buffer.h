/*
 * A wlr_buffer over pixels in CPU memory that the renderer reads in place
 * (begin_data_ptr_access grants read access only; write access is
 * refused). Either the buffer owns its pixels (cpu_buffer_create: zeroed,
 * freed with the buffer) or it shows memory someone else owns
 * (cpu_buffer_wrap, e.g. a guest's shared pool): then the release
 * callback runs once, when the last reference to the wlr_buffer is gone,
 * so the owner knows the renderer no longer reads that memory.
 *
 * Like any wlr_buffer: the producer drops its reference with
 * wlr_buffer_drop(&buffer->base) once the scene holds its own.
 */
#ifndef VITRAIL_CPU_BUFFER_H
#define VITRAIL_CPU_BUFFER_H

#include <stddef.h>
#include <stdint.h>
#include <wlr/types/wlr_buffer.h>

struct cpu_buffer;

/* Called from the buffer's destroy, before it is freed; buffer->data is
 * still the memory last shown. */
typedef void (*cpu_buffer_release_func_t)(struct cpu_buffer *buffer, void *user_data);

struct cpu_buffer {
	struct wlr_buffer base; /* width and height are here */
	const void *data; /* what the renderer reads */
	size_t stride;
	uint32_t format; /* DRM_FORMAT_* */

	/* private */
	void *owned; /* cpu_buffer_create's pixels, writable; NULL when wrapped */
	cpu_buffer_release_func_t release;
	void *user_data;
};

/*
 * A buffer with its own zeroed pixels (height rows of stride bytes),
 * writable through cpu_buffer_pixels until it is shown. NULL when out of
 * memory or when the sizes are not positive, stride is over INT_MAX (as
 * from cairo_format_stride_for_width's -1) or height * stride overflows.
 */
struct cpu_buffer *cpu_buffer_create(int width, int height, size_t stride, uint32_t format);

/* The pixels of a buffer from cpu_buffer_create; NULL for a wrapped one. */
void *cpu_buffer_pixels(struct cpu_buffer *buffer);

/*
 * A buffer over memory the caller owns, which must stay valid and hold
 * height rows of stride bytes until release runs (release may be NULL).
 * NULL when out of memory (release is not called then).
 */
struct cpu_buffer *cpu_buffer_wrap(int width, int height, size_t stride, uint32_t format,
	const void *data, cpu_buffer_release_func_t release, void *user_data);

/*
 * Point a wrapped buffer at other memory of the same size, stride and
 * format (a new frame in the same pool): the renderer reads the new
 * pixels from its next paint. The caller damages what changed.
 */
void cpu_buffer_set_data(struct cpu_buffer *buffer, const void *data);

#endif
