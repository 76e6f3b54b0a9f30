/*
 * The buffers of guest windows (compositor/guest/window_state.c): the
 * ATTACH / COMMIT / RELEASE lifecycle, re-attach rules, the slot limit,
 * the per-VM pixel budget and damage clipping, without a compositor.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <vitrail/protocol.h>

#include "guest/window_state.h"

#define N_SLOTS VTP_MAX_BUFFERS_PER_WINDOW

static struct vtp_attach attach_of(uint32_t id, uint32_t width, uint32_t height)
{
	return (struct vtp_attach){
		.offset = (uint64_t)id * VTP_BUFFER_ALIGN,
		.buffer_id = id,
		.width = width,
		.height = height,
		.stride = width * 4,
		.format = VTP_FORMAT_XRGB8888,
	};
}

static void attach_ok(
	struct window_state *state, struct window_budget *budget, const struct vtp_attach *attach)
{
	struct window_state_error error = { 0 };
	cr_assert(window_state_attach(state, budget, attach, &error), "attach of %u refused: %s",
		attach->buffer_id, error.text);
}

static void attach_new(struct window_state *state, struct window_budget *budget, uint32_t id,
	uint32_t width, uint32_t height)
{
	struct vtp_attach attach = attach_of(id, width, height);
	attach_ok(state, budget, &attach);
}

/* Refused with code and exactly the text given. */
static void attach_refused(struct window_state *state, struct window_budget *budget,
	const struct vtp_attach *attach, uint32_t code, const char *text)
{
	struct window_state_error error = { 0 };
	cr_assert_not(window_state_attach(state, budget, attach, &error));
	cr_assert_eq(error.code, code);
	cr_assert_str_eq(error.text, text);
}

static void commit_ok(struct window_state *state, uint32_t want_id)
{
	const struct window_buffer *b = window_state_commit(state);
	cr_assert_not_null(b);
	cr_assert_eq(b->id, want_id);
	cr_assert_eq(b->state, WINDOW_BUFFER_CURRENT);
	cr_assert_eq(window_state_current(state), b);
	cr_assert_null(window_state_pending(state));
}

/* The releases since the last take are exactly ids[0..n). */
static void expect_releases(struct window_state *state, const uint32_t *ids, size_t n)
{
	uint32_t got[N_SLOTS];
	size_t n_got = window_state_take_releases(state, got);
	cr_assert_eq(n_got, n, "%zu releases, want %zu", n_got, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(got[i], ids[i], "release %zu is %u, want %u", i, got[i], ids[i]);
	}
}

static void expect_no_release(struct window_state *state)
{
	expect_releases(state, NULL, 0);
}

static const struct window_buffer *find(const struct window_state *state, uint32_t id)
{
	for (size_t i = 0; i < N_SLOTS; i++) {
		if (state->buffers[i].state != WINDOW_BUFFER_FREE && state->buffers[i].id == id) {
			return &state->buffers[i];
		}
	}
	return NULL;
}

static enum window_buffer_state state_of(const struct window_state *state, uint32_t id)
{
	const struct window_buffer *b = find(state, id);
	return b != NULL ? b->state : WINDOW_BUFFER_FREE;
}

static size_t n_held(const struct window_state *state)
{
	size_t n = 0;
	for (size_t i = 0; i < N_SLOTS; i++) {
		n += state->buffers[i].state != WINDOW_BUFFER_FREE;
	}
	return n;
}

/* ---- lifecycle ---- */

Test(window_state, fresh)
{
	struct window_state s;
	window_state_init(&s, 7);
	cr_assert_null(window_state_pending(&s));
	cr_assert_null(window_state_current(&s));
	cr_assert_null(window_state_commit(&s), "a commit without a buffer shows nothing");
	cr_assert_eq(n_held(&s), 0);
	expect_no_release(&s);
}

Test(window_state, attach_commit_release)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 7);

	attach_new(&s, &budget, 1, 100, 50);
	cr_assert_eq(state_of(&s, 1), WINDOW_BUFFER_PENDING);
	cr_assert_eq(window_state_pending(&s)->id, 1);
	cr_assert_null(window_state_current(&s));
	cr_assert_eq(budget.pixels, 5000);
	expect_no_release(&s);

	commit_ok(&s, 1);
	/* a frame with nothing retired releases nothing */
	window_state_frame_done(&s, &budget);
	expect_no_release(&s);

	attach_new(&s, &budget, 2, 10, 10);
	cr_assert_eq(budget.pixels, 5100);
	commit_ok(&s, 2);
	cr_assert_eq(state_of(&s, 1), WINDOW_BUFFER_RETIRED);
	/* retired buffers are still read until the next frame */
	expect_no_release(&s);
	cr_assert_eq(budget.pixels, 5100);

	window_state_frame_done(&s, &budget);
	expect_releases(&s, (uint32_t[]){ 1 }, 1);
	cr_assert_eq(state_of(&s, 1), WINDOW_BUFFER_FREE);
	cr_assert_eq(budget.pixels, 100);
	cr_assert_eq(n_held(&s), 1);

	/* a commit without a new attach keeps the buffer shown */
	cr_assert_null(window_state_commit(&s));
	cr_assert_eq(window_state_current(&s)->id, 2);

	window_state_finish(&s, &budget);
	cr_assert_eq(budget.pixels, 0);
	cr_assert_eq(n_held(&s), 0);
	expect_no_release(&s);
}

Test(window_state, commit_keeps_geometry)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 1);
	struct vtp_attach a = attach_of(9, 640, 480);
	a.offset = 3 * VTP_BUFFER_ALIGN;
	a.stride = 4096;
	attach_ok(&s, &budget, &a);
	const struct window_buffer *b = window_state_commit(&s);
	cr_assert_not_null(b);
	cr_assert_eq(b->offset, a.offset);
	cr_assert_eq(b->width, 640);
	cr_assert_eq(b->height, 480);
	cr_assert_eq(b->stride, 4096);
	cr_assert_eq(b->format, VTP_FORMAT_XRGB8888);
}

Test(window_state, uncommitted_buffer_released_at_next_attach)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 7);
	attach_new(&s, &budget, 1, 10, 10);
	commit_ok(&s, 1);
	attach_new(&s, &budget, 2, 20, 10);
	/* 2 is never committed: replaced, it goes back at once */
	attach_new(&s, &budget, 3, 30, 10);
	expect_releases(&s, (uint32_t[]){ 2 }, 1);
	cr_assert_eq(state_of(&s, 2), WINDOW_BUFFER_FREE);
	cr_assert_eq(window_state_pending(&s)->id, 3);
	cr_assert_eq(budget.pixels, 100 + 300);
	commit_ok(&s, 3);
	window_state_frame_done(&s, &budget);
	expect_releases(&s, (uint32_t[]){ 1 }, 1);
	cr_assert_eq(budget.pixels, 300);
}

/* ---- re-attach ---- */

Test(window_state, reattach_retired)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 7);
	attach_new(&s, &budget, 1, 10, 10);
	commit_ok(&s, 1);
	attach_new(&s, &budget, 2, 10, 10);
	commit_ok(&s, 2);
	cr_assert_eq(state_of(&s, 1), WINDOW_BUFFER_RETIRED);

	/* before its release, 1 comes back: no new slot, no new pixels */
	attach_new(&s, &budget, 1, 10, 10);
	cr_assert_eq(state_of(&s, 1), WINDOW_BUFFER_PENDING);
	cr_assert_eq(n_held(&s), 2);
	cr_assert_eq(budget.pixels, 200);
	expect_no_release(&s);
	commit_ok(&s, 1);
	cr_assert_eq(state_of(&s, 2), WINDOW_BUFFER_RETIRED);
	window_state_frame_done(&s, &budget);
	expect_releases(&s, (uint32_t[]){ 2 }, 1);
	cr_assert_eq(budget.pixels, 100);
}

Test(window_state, reattach_current)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 7);
	attach_new(&s, &budget, 1, 10, 10);
	commit_ok(&s, 1);
	/* the same buffer again (damage in place): stays current */
	attach_new(&s, &budget, 1, 10, 10);
	cr_assert_eq(state_of(&s, 1), WINDOW_BUFFER_CURRENT);
	cr_assert_eq(window_state_pending(&s)->id, 1);
	commit_ok(&s, 1);
	window_state_frame_done(&s, &budget);
	expect_no_release(&s);
	cr_assert_eq(n_held(&s), 1);
	cr_assert_eq(budget.pixels, 100);
}

Test(window_state, reattach_pending)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 7);
	attach_new(&s, &budget, 1, 10, 10);
	attach_new(&s, &budget, 1, 10, 10);
	expect_no_release(&s);
	cr_assert_eq(n_held(&s), 1);
	cr_assert_eq(budget.pixels, 100);
	commit_ok(&s, 1);
}

Test(window_state, reattach_known_releases_other_pending)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 7);
	attach_new(&s, &budget, 1, 10, 10);
	commit_ok(&s, 1);
	attach_new(&s, &budget, 2, 20, 10);
	/* back to the current buffer: 2, never committed, goes back */
	attach_new(&s, &budget, 1, 10, 10);
	expect_releases(&s, (uint32_t[]){ 2 }, 1);
	cr_assert_eq(budget.pixels, 100);
	commit_ok(&s, 1);

	/* and to a retired one */
	attach_new(&s, &budget, 3, 30, 10);
	commit_ok(&s, 3);
	attach_new(&s, &budget, 4, 40, 10);
	attach_new(&s, &budget, 1, 10, 10);
	expect_releases(&s, (uint32_t[]){ 4 }, 1);
	cr_assert_eq(state_of(&s, 1), WINDOW_BUFFER_PENDING);
	cr_assert_eq(budget.pixels, 100 + 300);
}

Test(window_state, reattach_other_geometry_refused)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 7);
	const struct vtp_attach good = attach_of(1, 100, 50);
	attach_ok(&s, &budget, &good);
	commit_ok(&s, 1);
	const char *text =
		"window 7: buffer 1 attached again with other geometry before its release";

	struct vtp_attach bad[6];
	for (size_t i = 0; i < 6; i++) {
		bad[i] = good;
	}
	bad[0].offset += VTP_BUFFER_ALIGN;
	bad[1].width = 99;
	bad[2].height = 51;
	bad[3].stride += 4;
	bad[4].format = VTP_FORMAT_ARGB8888;
	bad[5].scale = 2; /* good's 0 counts as 1 */
	for (size_t i = 0; i < 6; i++) {
		attach_refused(&s, &budget, &bad[i], VTP_ERR_PROTOCOL, text);
		/* nothing changed */
		cr_assert_eq(state_of(&s, 1), WINDOW_BUFFER_CURRENT);
		cr_assert_null(window_state_pending(&s));
		cr_assert_eq(budget.pixels, 5000);
		expect_no_release(&s);
	}

	/* retired, still the same rule */
	attach_new(&s, &budget, 2, 10, 10);
	commit_ok(&s, 2);
	attach_refused(&s, &budget, &bad[1], VTP_ERR_PROTOCOL, text);
	cr_assert_eq(state_of(&s, 1), WINDOW_BUFFER_RETIRED);

	/* once released, the id is new again with any geometry */
	window_state_frame_done(&s, &budget);
	expect_releases(&s, (uint32_t[]){ 1 }, 1);
	attach_ok(&s, &budget, &bad[1]);
	cr_assert_eq(find(&s, 1)->width, 99);
	cr_assert_eq(budget.pixels, 100 + 99 * 50);
}

/* A buffer's scale is kept (0, before version 4, as 1); the budget counts
 * its pixels, so a scale-2 buffer costs 4 times its window's area. */
Test(window_state, scale_kept_and_counted_in_pixels)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 3);
	struct vtp_attach a = attach_of(1, 200, 100);
	attach_ok(&s, &budget, &a);
	commit_ok(&s, 1);
	cr_assert_eq(find(&s, 1)->scale, 1);
	a = attach_of(2, 400, 200);
	a.scale = 2;
	attach_ok(&s, &budget, &a);
	commit_ok(&s, 2);
	cr_assert_eq(find(&s, 2)->scale, 2);
	cr_assert_eq(budget.pixels, 200 * 100 + 400 * 200);
}

Test(window_state, same_id_in_two_windows)
{
	struct window_budget budget = { 0 };
	struct window_state a, b;
	window_state_init(&a, 1);
	window_state_init(&b, 2);
	/* buffer ids are per window */
	attach_new(&a, &budget, 1, 10, 10);
	attach_new(&b, &budget, 1, 20, 20);
	cr_assert_eq(budget.pixels, 500);
}

/* ---- slots ---- */

Test(window_state, slot_limit)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 3);
	for (uint32_t id = 1; id <= N_SLOTS; id++) {
		attach_new(&s, &budget, id, 8, 8);
		commit_ok(&s, id);
	}
	cr_assert_eq(n_held(&s), N_SLOTS);
	const struct vtp_attach extra = attach_of(N_SLOTS + 1, 8, 8);
	attach_refused(
		&s, &budget, &extra, VTP_ERR_LIMIT, "window 3: more than 4 unreleased buffers");
	cr_assert_eq(budget.pixels, N_SLOTS * 64);
	expect_no_release(&s);

	/* the frame frees the retired ones */
	window_state_frame_done(&s, &budget);
	uint32_t want[N_SLOTS - 1];
	for (uint32_t i = 0; i < N_SLOTS - 1; i++) {
		want[i] = i + 1;
	}
	expect_releases(&s, want, N_SLOTS - 1);
	attach_ok(&s, &budget, &extra);
}

Test(window_state, slot_limit_counts_the_released_pending)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 3);
	for (uint32_t id = 1; id < N_SLOTS; id++) {
		attach_new(&s, &budget, id, 8, 8);
		commit_ok(&s, id);
	}
	attach_new(&s, &budget, N_SLOTS, 8, 8); /* all slots taken, the last pending */
	cr_assert_eq(n_held(&s), N_SLOTS);
	/* a new buffer replaces the uncommitted one, so it fits */
	attach_new(&s, &budget, 99, 8, 8);
	expect_releases(&s, (uint32_t[]){ N_SLOTS }, 1);
	cr_assert_eq(n_held(&s), N_SLOTS);
	cr_assert_eq(window_state_pending(&s)->id, 99);
}

/* ---- the per-VM budget ---- */

Test(window_state, budget_full_at_max_dim)
{
	struct window_budget budget = { 0 };
	struct window_state a, b;
	window_state_init(&a, 1);
	window_state_init(&b, 2);
	/* VTP_MAX_DIM² is the whole budget */
	cr_assert_eq((uint64_t)VTP_MAX_DIM * VTP_MAX_DIM, WINDOW_STATE_MAX_VM_PIXELS);
	attach_new(&a, &budget, 1, VTP_MAX_DIM, VTP_MAX_DIM);
	cr_assert_eq(budget.pixels, WINDOW_STATE_MAX_VM_PIXELS);
	commit_ok(&a, 1);

	const char *text = "window 2: buffers of more than 67108864 pixels held";
	const struct vtp_attach one = attach_of(1, 1, 1);
	attach_refused(&b, &budget, &one, VTP_ERR_LIMIT, text);
	cr_assert_eq(budget.pixels, WINDOW_STATE_MAX_VM_PIXELS, "a refused buffer takes nothing");
	cr_assert_eq(n_held(&b), 0);

	/* the window's own next buffer counts as well */
	const struct vtp_attach next = attach_of(2, 1, 1);
	attach_refused(&a, &budget, &next, VTP_ERR_LIMIT,
		"window 1: buffers of more than 67108864 pixels held");

	/* the window goes: its pixels are free for the others */
	window_state_finish(&a, &budget);
	cr_assert_eq(budget.pixels, 0);
	attach_ok(&b, &budget, &one);
	cr_assert_eq(budget.pixels, 1);
}

Test(window_state, budget_freed_by_release)
{
	struct window_budget budget = { 0 };
	struct window_state a, b;
	window_state_init(&a, 1);
	window_state_init(&b, 2);
	attach_new(&a, &budget, 1, VTP_MAX_DIM, VTP_MAX_DIM / 2);
	commit_ok(&a, 1);
	attach_new(&a, &budget, 2, VTP_MAX_DIM, VTP_MAX_DIM / 2);
	commit_ok(&a, 2); /* 1 retired, still held */
	cr_assert_eq(budget.pixels, WINDOW_STATE_MAX_VM_PIXELS);
	const struct vtp_attach small = attach_of(1, 16, 16);
	attach_refused(&b, &budget, &small, VTP_ERR_LIMIT,
		"window 2: buffers of more than 67108864 pixels held");

	window_state_frame_done(&a, &budget);
	expect_releases(&a, (uint32_t[]){ 1 }, 1);
	cr_assert_eq(budget.pixels, WINDOW_STATE_MAX_VM_PIXELS / 2);
	attach_ok(&b, &budget, &small);
	cr_assert_eq(budget.pixels, WINDOW_STATE_MAX_VM_PIXELS / 2 + 256);
}

Test(window_state, budget_freed_by_replacing_pending)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 1);
	attach_new(&s, &budget, 1, VTP_MAX_DIM, VTP_MAX_DIM);
	/* the uncommitted buffer goes back before the new one is counted */
	attach_new(&s, &budget, 2, VTP_MAX_DIM, VTP_MAX_DIM);
	expect_releases(&s, (uint32_t[]){ 1 }, 1);
	cr_assert_eq(budget.pixels, WINDOW_STATE_MAX_VM_PIXELS);
}

Test(window_state, budget_refusal_still_releases_pending)
{
	struct window_budget budget = { 0 };
	struct window_state a, b;
	window_state_init(&a, 1);
	window_state_init(&b, 2);
	attach_new(&a, &budget, 1, VTP_MAX_DIM, VTP_MAX_DIM / 2);
	attach_new(&b, &budget, 1, 10, 10);
	/* b's pending goes back, then the new one does not fit */
	const struct vtp_attach big = attach_of(2, VTP_MAX_DIM, VTP_MAX_DIM / 2 + 1);
	attach_refused(&b, &budget, &big, VTP_ERR_LIMIT,
		"window 2: buffers of more than 67108864 pixels held");
	expect_releases(&b, (uint32_t[]){ 1 }, 1);
	cr_assert_eq(budget.pixels, WINDOW_STATE_MAX_VM_PIXELS / 2);
}

Test(window_state, budget_arithmetic_at_limits)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 5);
	const char *text = "window 5: buffers of more than 67108864 pixels held";

	/* far beyond what the decoder lets through: no 32- or 64-bit wrap */
	const struct vtp_attach huge = attach_of(1, UINT32_MAX, UINT32_MAX);
	attach_refused(&s, &budget, &huge, VTP_ERR_LIMIT, text);
	const struct vtp_attach wide = attach_of(1, UINT32_MAX, 1);
	attach_refused(&s, &budget, &wide, VTP_ERR_LIMIT, text);
	/* 65536² wraps to 0 in 32 bits */
	const struct vtp_attach wrap32 = attach_of(1, 65536, 65536);
	attach_refused(&s, &budget, &wrap32, VTP_ERR_LIMIT, text);
	cr_assert_eq(budget.pixels, 0);

	/* exactly up to the limit, then one pixel more */
	attach_new(&s, &budget, 1, VTP_MAX_DIM, VTP_MAX_DIM - 1);
	commit_ok(&s, 1);
	attach_new(&s, &budget, 2, VTP_MAX_DIM, 1);
	commit_ok(&s, 2);
	cr_assert_eq(budget.pixels, WINDOW_STATE_MAX_VM_PIXELS);
	const struct vtp_attach one = attach_of(3, 1, 1);
	attach_refused(&s, &budget, &one, VTP_ERR_LIMIT, text);

	/* a budget past the limit (never, but checked without a sum) */
	struct window_budget broken = { .pixels = UINT64_MAX };
	struct window_state t;
	window_state_init(&t, 5);
	attach_refused(&t, &broken, &one, VTP_ERR_LIMIT, text);
	cr_assert_eq(broken.pixels, UINT64_MAX);
}

/* ---- damage ---- */

static bool clip(const struct window_state *s, int32_t x, int32_t y, int32_t w, int32_t h,
	struct window_state_rect *out)
{
	struct vtp_rect r = { x, y, w, h };
	return window_state_clip_damage(s, &r, out);
}

static void expect_rect(struct window_state_rect r, int32_t x, int32_t y, uint32_t w, uint32_t h)
{
	cr_assert(r.x == x && r.y == y && r.width == w && r.height == h,
		"clipped to %d,%d %ux%u, want %d,%d %ux%u", r.x, r.y, r.width, r.height, x, y, w,
		h);
}

Test(window_state, damage_needs_a_buffer)
{
	struct window_state s;
	window_state_init(&s, 1);
	struct window_state_rect r;
	cr_assert_not(clip(&s, 0, 0, 10, 10, &r));
}

Test(window_state, damage_clipped_to_pending_else_current)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 1);
	struct window_state_rect r;
	attach_new(&s, &budget, 1, 100, 50);
	/* before any commit: the pending buffer */
	cr_assert(clip(&s, 90, 40, 20, 20, &r));
	expect_rect(r, 90, 40, 10, 10);
	commit_ok(&s, 1);
	cr_assert(clip(&s, -10, -5, 20, 10, &r));
	expect_rect(r, 0, 0, 10, 5);
	/* a smaller buffer attached: damage is for it */
	attach_new(&s, &budget, 2, 20, 20);
	cr_assert(clip(&s, 0, 0, 100, 50, &r));
	expect_rect(r, 0, 0, 20, 20);
	commit_ok(&s, 2);
	cr_assert(clip(&s, 5, 5, 100, 100, &r));
	expect_rect(r, 5, 5, 15, 15);
}

Test(window_state, damage_outside_dropped)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 1);
	struct window_state_rect r;
	attach_new(&s, &budget, 1, 100, 50);
	cr_assert_not(clip(&s, 100, 0, 10, 10, &r));
	cr_assert_not(clip(&s, 0, 50, 10, 10, &r));
	cr_assert_not(clip(&s, -10, 0, 10, 10, &r));
	cr_assert_not(clip(&s, 0, -10, 10, 10, &r));
	cr_assert(clip(&s, 99, 49, 1, 1, &r));
	expect_rect(r, 99, 49, 1, 1);
}

Test(window_state, damage_at_limits)
{
	struct window_budget budget = { 0 };
	struct window_state s;
	window_state_init(&s, 1);
	struct window_state_rect r;
	attach_new(&s, &budget, 1, VTP_MAX_DIM, VTP_MAX_DIM);
	cr_assert(clip(&s, INT32_MIN, INT32_MIN, INT32_MAX, INT32_MAX, &r) == false);
	cr_assert(clip(&s, -1, -1, INT32_MAX, INT32_MAX, &r));
	expect_rect(r, 0, 0, VTP_MAX_DIM, VTP_MAX_DIM);
	cr_assert_not(clip(&s, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, &r));
	cr_assert(clip(&s, VTP_MAX_DIM - 1, VTP_MAX_DIM - 1, INT32_MAX, INT32_MAX, &r));
	expect_rect(r, VTP_MAX_DIM - 1, VTP_MAX_DIM - 1, 1, 1);
	/* negative sizes (the decoder refuses them) damage nothing */
	cr_assert_not(clip(&s, 10, 10, -5, 5, &r));
	cr_assert_not(clip(&s, 10, 10, 5, INT32_MIN, &r));
}

/* ---- properties over random operations ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

#define N_WINDOWS 3

static void check_invariants(const struct window_state *w, size_t n, const struct window_budget *b)
{
	uint64_t pixels = 0;
	for (size_t i = 0; i < n; i++) {
		size_t n_pending = 0, n_current = 0;
		for (size_t j = 0; j < N_SLOTS; j++) {
			const struct window_buffer *buf = &w[i].buffers[j];
			if (buf->state == WINDOW_BUFFER_FREE) {
				continue;
			}
			pixels += (uint64_t)buf->width * buf->height;
			n_pending += buf->state == WINDOW_BUFFER_PENDING;
			n_current += buf->state == WINDOW_BUFFER_CURRENT;
			for (size_t k = j + 1; k < N_SLOTS; k++) {
				cr_assert(w[i].buffers[k].state == WINDOW_BUFFER_FREE ||
						w[i].buffers[k].id != buf->id,
					"window %zu holds buffer %u twice", i, buf->id);
			}
		}
		cr_assert_leq(n_pending, 1);
		cr_assert_leq(n_current, 1);
		const struct window_buffer *cur = window_state_current(&w[i]);
		cr_assert_eq(n_current, cur != NULL && cur->state == WINDOW_BUFFER_CURRENT ? 1 : 0);
		const struct window_buffer *pend = window_state_pending(&w[i]);
		if (pend != NULL) {
			cr_assert(pend->state == WINDOW_BUFFER_PENDING ||
				pend->state == WINDOW_BUFFER_CURRENT);
		}
	}
	cr_assert_eq(b->pixels, pixels, "budget %llu, held %llu", (unsigned long long)b->pixels,
		(unsigned long long)pixels);
	cr_assert_leq(b->pixels, WINDOW_STATE_MAX_VM_PIXELS);
}

Test(window_state, random_operations)
{
	struct window_budget budget = { 0 };
	struct window_state w[N_WINDOWS];
	for (size_t i = 0; i < N_WINDOWS; i++) {
		window_state_init(&w[i], (uint32_t)i + 1);
	}
	static const uint32_t sizes[] = { 1, 64, 1024, 4096, VTP_MAX_DIM };
	for (int step = 0; step < 20000; step++) {
		struct window_state *s = &w[rng() % N_WINDOWS];
		uint32_t ids[N_SLOTS];
		switch (rng() % 8) {
		case 0:
		case 1:
		case 2: {
			uint32_t id = (uint32_t)(rng() % 8) + 1;
			struct vtp_attach a = attach_of(id, sizes[rng() % 5], sizes[rng() % 5]);
			const struct window_buffer *known = find(s, id);
			struct window_state_error error;
			bool ok = window_state_attach(s, &budget, &a, &error);
			if (known != NULL &&
				(known->width != a.width || known->height != a.height)) {
				cr_assert_not(ok);
				cr_assert_eq(error.code, VTP_ERR_PROTOCOL);
			}
			if (!ok) {
				cr_assert(error.code == VTP_ERR_PROTOCOL ||
					error.code == VTP_ERR_LIMIT);
			}
			window_state_take_releases(s, ids);
			break;
		}
		case 3:
		case 4:
			window_state_commit(s);
			break;
		case 5:
		case 6:
			window_state_frame_done(s, &budget);
			cr_assert_leq(window_state_take_releases(s, ids), N_SLOTS);
			break;
		case 7:
			if (rng() % 16 == 0) {
				window_state_finish(s, &budget);
				window_state_init(s, s->window_id);
			}
			break;
		}
		check_invariants(w, N_WINDOWS, &budget);
	}
	for (size_t i = 0; i < N_WINDOWS; i++) {
		window_state_finish(&w[i], &budget);
	}
	cr_assert_eq(budget.pixels, 0);
}
