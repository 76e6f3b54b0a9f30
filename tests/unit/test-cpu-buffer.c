/*
 * tree/cpu_buffer.c: the read-only CPU wlr_buffer of title bars, notices,
 * the open chooser and guest surfaces (over pool memory it does not own).
 */
#include <criterion/criterion.h>
#include <drm_fourcc.h>
#include <stdint.h>
#include <string.h>
#include <wlr/types/wlr_buffer.h>

#include "tree/cpu_buffer.h"

Test(cpu_buffer, owned_pixels_are_zeroed_and_read_only)
{
	struct cpu_buffer *buffer = cpu_buffer_create(3, 2, 12, DRM_FORMAT_ARGB8888);
	cr_assert_not_null(buffer);
	cr_assert_eq(buffer->base.width, 3);
	cr_assert_eq(buffer->base.height, 2);
	uint8_t *pixels = cpu_buffer_pixels(buffer);
	cr_assert_not_null(pixels);
	for (size_t i = 0; i < 24; i++) {
		cr_assert_eq(pixels[i], 0);
	}
	pixels[23] = 0xab;

	void *data = NULL;
	uint32_t format = 0;
	size_t stride = 0;
	cr_assert(wlr_buffer_begin_data_ptr_access(
		&buffer->base, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format, &stride));
	cr_assert_eq(data, pixels);
	cr_assert_eq(format, DRM_FORMAT_ARGB8888);
	cr_assert_eq(stride, 12);
	cr_assert_eq(((uint8_t *)data)[23], 0xab);
	wlr_buffer_end_data_ptr_access(&buffer->base);

	cr_assert_not(wlr_buffer_begin_data_ptr_access(
		&buffer->base, WLR_BUFFER_DATA_PTR_ACCESS_WRITE, &data, &format, &stride));
	wlr_buffer_drop(&buffer->base);
}

Test(cpu_buffer, create_refuses_bad_sizes)
{
	cr_assert_null(cpu_buffer_create(0, 2, 12, DRM_FORMAT_ARGB8888));
	cr_assert_null(cpu_buffer_create(3, 0, 12, DRM_FORMAT_ARGB8888));
	cr_assert_null(cpu_buffer_create(3, 2, 0, DRM_FORMAT_ARGB8888));
	/* cairo_format_stride_for_width's error value, cast */
	cr_assert_null(cpu_buffer_create(3, 2, (size_t)-1, DRM_FORMAT_ARGB8888));
}

struct release_log {
	int calls;
	const void *data;
};

static void note_release(struct cpu_buffer *buffer, void *user_data)
{
	struct release_log *log = user_data;
	log->calls++;
	log->data = buffer->data;
}

Test(cpu_buffer, wrapped_memory_is_released_after_the_last_reference)
{
	static const uint8_t pool[2][16] = { { 1 }, { 2 } };
	struct release_log log = { 0 };
	struct cpu_buffer *buffer =
		cpu_buffer_wrap(2, 2, 8, DRM_FORMAT_XRGB8888, pool[0], note_release, &log);
	cr_assert_not_null(buffer);
	cr_assert_null(cpu_buffer_pixels(buffer));

	void *data = NULL;
	uint32_t format = 0;
	size_t stride = 0;
	cr_assert(wlr_buffer_begin_data_ptr_access(
		&buffer->base, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format, &stride));
	cr_assert_eq(data, pool[0]);
	cr_assert_eq(format, DRM_FORMAT_XRGB8888);
	cr_assert_eq(stride, 8);
	wlr_buffer_end_data_ptr_access(&buffer->base);

	/* the next frame of the same layout: no new buffer */
	cpu_buffer_set_data(buffer, pool[1]);
	cr_assert(wlr_buffer_begin_data_ptr_access(
		&buffer->base, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format, &stride));
	cr_assert_eq(data, pool[1]);
	wlr_buffer_end_data_ptr_access(&buffer->base);

	/* a scene node's lock keeps the memory in use past the producer's drop */
	wlr_buffer_lock(&buffer->base);
	wlr_buffer_drop(&buffer->base);
	cr_assert_eq(log.calls, 0);
	wlr_buffer_unlock(&buffer->base);
	cr_assert_eq(log.calls, 1);
	cr_assert_eq(log.data, pool[1]);
}

Test(cpu_buffer, wrap_without_release)
{
	static const uint8_t pixels[4] = { 0 };
	struct cpu_buffer *buffer =
		cpu_buffer_wrap(1, 1, 4, DRM_FORMAT_XRGB8888, pixels, NULL, NULL);
	cr_assert_not_null(buffer);
	wlr_buffer_drop(&buffer->base);
}
