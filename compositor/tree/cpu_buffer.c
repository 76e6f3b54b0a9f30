#include "tree/cpu_buffer.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

static void buffer_destroy(struct wlr_buffer *wlr_buffer)
{
	struct cpu_buffer *buffer = wl_container_of(wlr_buffer, buffer, base);
	if (buffer->release != NULL) {
		buffer->release(buffer, buffer->user_data);
	}
	free(buffer->owned);
	free(buffer);
}

static bool buffer_begin_data_ptr_access(struct wlr_buffer *wlr_buffer, uint32_t flags, void **data,
	uint32_t *format, size_t *stride)
{
	struct cpu_buffer *buffer = wl_container_of(wlr_buffer, buffer, base);
	if (flags & WLR_BUFFER_DATA_PTR_ACCESS_WRITE) {
		return false;
	}
	/* read access only: the const is dropped for wlroots' signature */
	*data = (void *)buffer->data;
	*format = buffer->format;
	*stride = buffer->stride;
	return true;
}

static void buffer_end_data_ptr_access(struct wlr_buffer *wlr_buffer)
{
}

static const struct wlr_buffer_impl cpu_buffer_impl = {
	.destroy = buffer_destroy,
	.begin_data_ptr_access = buffer_begin_data_ptr_access,
	.end_data_ptr_access = buffer_end_data_ptr_access,
};

struct cpu_buffer *cpu_buffer_wrap(int width, int height, size_t stride, uint32_t format,
	const void *data, cpu_buffer_release_func_t release, void *user_data)
{
	struct cpu_buffer *buffer = calloc(1, sizeof(*buffer));
	if (buffer == NULL) {
		return NULL;
	}
	wlr_buffer_init(&buffer->base, &cpu_buffer_impl, width, height);
	buffer->data = data;
	buffer->stride = stride;
	buffer->format = format;
	buffer->release = release;
	buffer->user_data = user_data;
	return buffer;
}

struct cpu_buffer *cpu_buffer_create(int width, int height, size_t stride, uint32_t format)
{
	if (width <= 0 || height <= 0 || stride == 0 || stride > INT_MAX ||
		stride > SIZE_MAX / (size_t)height) {
		return NULL;
	}
	void *pixels = calloc((size_t)height, stride);
	if (pixels == NULL) {
		return NULL;
	}
	struct cpu_buffer *buffer =
		cpu_buffer_wrap(width, height, stride, format, pixels, NULL, NULL);
	if (buffer == NULL) {
		free(pixels);
		return NULL;
	}
	buffer->owned = pixels;
	return buffer;
}

void *cpu_buffer_pixels(struct cpu_buffer *buffer)
{
	return buffer->owned;
}

void cpu_buffer_set_data(struct cpu_buffer *buffer, const void *data)
{
	assert(buffer->owned == NULL);
	buffer->data = data;
}
