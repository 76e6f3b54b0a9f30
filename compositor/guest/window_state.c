#include "guest/window_state.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define N_SLOTS ((int)VTP_MAX_BUFFERS_PER_WINDOW)

__attribute__((format(printf, 3, 4))) static bool fail(
	struct window_state_error *error, uint32_t code, const char *fmt, ...)
{
	error->code = code;
	va_list args;
	va_start(args, fmt);
	vsnprintf(error->text, sizeof(error->text), fmt, args);
	va_end(args);
	return false;
}

/* Each side ≤ UINT32_MAX: the product fits in 64 bits. */
static uint64_t buffer_pixels(const struct window_buffer *buffer)
{
	return (uint64_t)buffer->width * buffer->height;
}

/* The slot goes back to FREE, its pixels to the budget; RELEASE it. */
static void release(struct window_state *state, struct window_budget *budget, int slot)
{
	struct window_buffer *buffer = &state->buffers[slot];
	assert(buffer->state != WINDOW_BUFFER_FREE);
	assert(budget->pixels >= buffer_pixels(buffer));
	/* each slot is freed once between takes */
	assert(state->n_releases < VTP_MAX_BUFFERS_PER_WINDOW);
	budget->pixels -= buffer_pixels(buffer);
	buffer->state = WINDOW_BUFFER_FREE;
	state->releases[state->n_releases++] = buffer->id;
}

static int free_slot(const struct window_state *state)
{
	for (int i = 0; i < N_SLOTS; i++) {
		if (state->buffers[i].state == WINDOW_BUFFER_FREE) {
			return i;
		}
	}
	return -1;
}

void window_state_init(struct window_state *state, uint32_t window_id)
{
	*state = (struct window_state){
		.window_id = window_id,
		.pending = -1,
		.current = -1,
	};
}

void window_state_finish(struct window_state *state, struct window_budget *budget)
{
	for (int i = 0; i < N_SLOTS; i++) {
		struct window_buffer *buffer = &state->buffers[i];
		if (buffer->state != WINDOW_BUFFER_FREE) {
			assert(budget->pixels >= buffer_pixels(buffer));
			budget->pixels -= buffer_pixels(buffer);
			buffer->state = WINDOW_BUFFER_FREE;
		}
	}
	state->pending = state->current = -1;
	state->n_releases = 0;
}

bool window_state_attach(struct window_state *state, struct window_budget *budget,
	const struct vtp_attach *attach, struct window_state_error *error)
{
	uint32_t scale = attach->scale != 0 ? attach->scale : 1;
	for (int i = 0; i < N_SLOTS; i++) {
		struct window_buffer *b = &state->buffers[i];
		if (b->state == WINDOW_BUFFER_FREE || b->id != attach->buffer_id) {
			continue;
		}
		if (b->offset != attach->offset || b->width != attach->width ||
			b->height != attach->height || b->stride != attach->stride ||
			b->format != attach->format || b->scale != scale) {
			return fail(error, VTP_ERR_PROTOCOL,
				"window %u: buffer %u attached again with other geometry before "
				"its release",
				state->window_id, attach->buffer_id);
		}
		if (state->pending >= 0 && state->pending != i &&
			state->buffers[state->pending].state == WINDOW_BUFFER_PENDING) {
			release(state, budget, state->pending);
		}
		if (b->state == WINDOW_BUFFER_RETIRED) {
			b->state = WINDOW_BUFFER_PENDING;
		}
		state->pending = i;
		return true;
	}

	/* a buffer attached but never committed goes back at once */
	if (state->pending >= 0 && state->buffers[state->pending].state == WINDOW_BUFFER_PENDING) {
		release(state, budget, state->pending);
		state->pending = -1;
	}
	int slot = free_slot(state);
	if (slot < 0) {
		return fail(error, VTP_ERR_LIMIT, "window %u: more than %u unreleased buffers",
			state->window_id, VTP_MAX_BUFFERS_PER_WINDOW);
	}
	/* what the VM holds in all, this one included, compared without a
	 * sum that could wrap */
	uint64_t pixels = (uint64_t)attach->width * attach->height;
	if (budget->pixels > WINDOW_STATE_MAX_VM_PIXELS ||
		pixels > WINDOW_STATE_MAX_VM_PIXELS - budget->pixels) {
		return fail(error, VTP_ERR_LIMIT,
			"window %u: buffers of more than %llu pixels held", state->window_id,
			WINDOW_STATE_MAX_VM_PIXELS);
	}
	state->buffers[slot] = (struct window_buffer){
		.state = WINDOW_BUFFER_PENDING,
		.id = attach->buffer_id,
		.offset = attach->offset,
		.width = attach->width,
		.height = attach->height,
		.stride = attach->stride,
		.format = attach->format,
		.scale = scale,
	};
	budget->pixels += pixels;
	state->pending = slot;
	return true;
}

const struct window_buffer *window_state_pending(const struct window_state *state)
{
	return state->pending >= 0 ? &state->buffers[state->pending] : NULL;
}

const struct window_buffer *window_state_current(const struct window_state *state)
{
	return state->current >= 0 ? &state->buffers[state->current] : NULL;
}

const struct window_buffer *window_state_commit(struct window_state *state)
{
	if (state->pending < 0) {
		return NULL;
	}
	int next = state->pending;
	state->pending = -1;
	if (state->current >= 0 && state->current != next) {
		state->buffers[state->current].state = WINDOW_BUFFER_RETIRED;
	}
	state->current = next;
	state->buffers[next].state = WINDOW_BUFFER_CURRENT;
	return &state->buffers[next];
}

void window_state_frame_done(struct window_state *state, struct window_budget *budget)
{
	for (int i = 0; i < N_SLOTS; i++) {
		if (state->buffers[i].state == WINDOW_BUFFER_RETIRED) {
			release(state, budget, i);
		}
	}
}

size_t window_state_take_releases(
	struct window_state *state, uint32_t ids[VTP_MAX_BUFFERS_PER_WINDOW])
{
	size_t n = state->n_releases;
	memcpy(ids, state->releases, n * sizeof(ids[0]));
	state->n_releases = 0;
	return n;
}

bool window_state_clip_damage(const struct window_state *state, const struct vtp_rect *rect,
	struct window_state_rect *out)
{
	const struct window_buffer *target = window_state_pending(state);
	if (target == NULL) {
		target = window_state_current(state);
	}
	if (target == NULL) {
		return false;
	}
	/* in 64 bits: no sum of two 32-bit values wraps */
	int64_t x1 = rect->x < 0 ? 0 : rect->x;
	int64_t y1 = rect->y < 0 ? 0 : rect->y;
	int64_t x2 = (int64_t)rect->x + rect->width;
	int64_t y2 = (int64_t)rect->y + rect->height;
	if (x2 > target->width) {
		x2 = target->width;
	}
	if (y2 > target->height) {
		y2 = target->height;
	}
	if (x2 <= x1 || y2 <= y1) {
		return false;
	}
	/* 0 ≤ x1 ≤ INT32_MAX and x2 < 2^32: every value fits */
	*out = (struct window_state_rect){
		.x = (int32_t)x1,
		.y = (int32_t)y1,
		.width = (uint32_t)(x2 - x1),
		.height = (uint32_t)(y2 - y1),
	};
	return true;
}
