/*
 * The guest's pool allocator: properties over thousands of random
 * operations with a fixed seed.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <vitrail/protocol.h>

struct live {
	uint64_t offset, size;
};

/* A small deterministic PRNG (xorshift64*), independent of libc. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void check_invariants(const struct vtp_alloc *a, const struct live *l, size_t n)
{
	uint64_t free_bytes = 0, used = 0;

	for (size_t i = 0; i < a->n_free; i++) {
		const struct vtp_alloc_range *r = &a->free[i];
		cr_assert_gt(r->size, 0);
		cr_assert_eq(r->offset % VTP_BUFFER_ALIGN, 0);
		cr_assert_eq(r->size % VTP_BUFFER_ALIGN, 0);
		cr_assert_leq(r->offset + r->size, a->pool_size);
		if (i > 0) {
			/* sorted and coalesced: a gap between neighbours */
			cr_assert_gt(r->offset, a->free[i - 1].offset + a->free[i - 1].size,
				"free ranges %zu and %zu touch or overlap", i - 1, i);
		}
		free_bytes += r->size;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t rounded =
			(l[i].size + VTP_BUFFER_ALIGN - 1) & ~(uint64_t)(VTP_BUFFER_ALIGN - 1);
		used += rounded;
	}
	cr_assert_eq(used, a->used);
	cr_assert_eq(free_bytes + used, a->pool_size & ~(uint64_t)(VTP_BUFFER_ALIGN - 1));
	/* metadata stays bounded by the number of live allocations */
	cr_assert_leq(a->n_free, n + 1);
}

static int cmp_live(const void *pa, const void *pb)
{
	const struct live *a = pa, *b = pb;
	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static void check_no_overlap(struct live *l, size_t n, uint64_t pool_size)
{
	struct live *sorted = malloc(n * sizeof(*sorted) + 1);
	memcpy(sorted, l, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_live);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(sorted[i].offset % VTP_BUFFER_ALIGN, 0);
		cr_assert_leq(sorted[i].offset + sorted[i].size, pool_size);
		if (i > 0) {
			cr_assert_geq(sorted[i].offset, sorted[i - 1].offset + sorted[i - 1].size,
				"allocations overlap");
		}
	}
	free(sorted);
}

Test(alloc, basics)
{
	struct vtp_alloc a;
	uint64_t o1, o2, o3;

	cr_assert_not(vtp_alloc_init(&a, 0));
	cr_assert_not(vtp_alloc_init(&a, 63));
	cr_assert_not(vtp_alloc_init(&a, VTP_MAX_POOL_SIZE + 64));
	cr_assert(vtp_alloc_init(&a, 4096 + 10)); /* the tail that is not aligned is unused */
	cr_assert_not(vtp_alloc_get(&a, 0, &o1));
	cr_assert_not(vtp_alloc_get(&a, 4097, &o1));
	cr_assert_not(vtp_alloc_get(&a, UINT64_MAX, &o1));
	cr_assert(vtp_alloc_get(&a, 1, &o1));
	cr_assert_eq(o1, 0);
	cr_assert(vtp_alloc_get(&a, 100, &o2));
	cr_assert_eq(o2, 64);
	cr_assert(vtp_alloc_get(&a, 64, &o3));
	cr_assert_eq(o3, 192);
	cr_assert_eq(a.used, 256);
	/* free the middle one: a hole, reused first fit */
	vtp_alloc_put(&a, o2, 100);
	cr_assert_eq(a.n_free, 2);
	uint64_t o4;
	cr_assert(vtp_alloc_get(&a, 128, &o4));
	cr_assert_eq(o4, 64);
	vtp_alloc_put(&a, o4, 128);
	/* a double free and a foreign range are ignored */
	vtp_alloc_put(&a, o4, 128);
	vtp_alloc_put(&a, 32, 64);
	vtp_alloc_put(&a, 4096, 64);
	cr_assert_eq(a.used, 128);
	vtp_alloc_put(&a, o1, 1);
	vtp_alloc_put(&a, o3, 64);
	cr_assert_eq(a.n_free, 1);
	cr_assert_eq(a.free[0].offset, 0);
	cr_assert_eq(a.free[0].size, 4096);
	cr_assert_eq(a.used, 0);
	/* now the whole pool fits in one */
	cr_assert(vtp_alloc_get(&a, 4096, &o1));
	cr_assert_eq(a.n_free, 0);
	cr_assert_not(vtp_alloc_get(&a, 1, &o2));
	vtp_alloc_put(&a, o1, 4096);
	cr_assert_eq(a.n_free, 1);
	vtp_alloc_finish(&a);
	vtp_alloc_finish(NULL);
}

Test(alloc, random_operations)
{
	const uint64_t pool_size = 64ull * 1024 * 1024 + 100;
	enum { MAX_LIVE = 300, OPS = 20000 };
	static struct live l[MAX_LIVE];
	struct vtp_alloc a;
	size_t n = 0;
	int fails = 0, reuses = 0;
	uint64_t high_water = 0;

	rng_state = 0x9e3779b97f4a7c15ull;
	cr_assert(vtp_alloc_init(&a, pool_size));
	for (int op = 0; op < OPS; op++) {
		bool do_alloc = n == 0 || (n < MAX_LIVE && rng() % 100 < 55);
		if (do_alloc) {
			/* sizes from tiny cursors to full-HD windows */
			uint64_t size;
			switch (rng() % 4) {
			case 0:
				size = 1 + rng() % 4096;
				break;
			case 1:
				size = 64 * 64 * 4;
				break;
			case 2:
				size = 1 + rng() % (1024 * 1024);
				break;
			default:
				size = 1 + rng() % (1920 * 1080 * 4);
				break;
			}
			uint64_t off;
			if (vtp_alloc_get(&a, size, &off)) {
				if (off + size <= high_water) {
					reuses++;
				}
				if (off + size > high_water) {
					high_water = off + size;
				}
				l[n++] = (struct live){ off, size };
			} else {
				fails++;
				/* a failure is honest: no free range is big enough */
				uint64_t rounded = (size + 63) & ~63ull;
				for (size_t i = 0; i < a.n_free; i++) {
					cr_assert_lt(a.free[i].size, rounded);
				}
			}
		} else {
			size_t i = rng() % n;
			vtp_alloc_put(&a, l[i].offset, l[i].size);
			l[i] = l[--n];
		}
		if (op % 97 == 0) {
			check_no_overlap(l, n, pool_size);
		}
		check_invariants(&a, l, n);
	}
	check_no_overlap(l, n, pool_size);
	cr_assert_gt(reuses, 100, "space freed is handed out again");
	cr_assert_gt(fails, 0, "the pool filled up at some point");
	/* free everything in random order: back to one range */
	while (n > 0) {
		size_t i = rng() % n;
		vtp_alloc_put(&a, l[i].offset, l[i].size);
		l[i] = l[--n];
		check_invariants(&a, l, n);
	}
	cr_assert_eq(a.n_free, 1);
	cr_assert_eq(a.free[0].offset, 0);
	cr_assert_eq(a.free[0].size, pool_size & ~63ull);
	cr_assert_eq(a.used, 0);
	vtp_alloc_finish(&a);
}

Test(alloc, fill_exactly_then_free_alternate)
{
	struct vtp_alloc a;
	uint64_t off[256];

	cr_assert(vtp_alloc_init(&a, 256 * 64));
	for (int i = 0; i < 256; i++) {
		cr_assert(vtp_alloc_get(&a, 64, &off[i]));
		cr_assert_eq(off[i], (uint64_t)i * 64);
	}
	cr_assert_eq(a.n_free, 0);
	cr_assert_not(vtp_alloc_get(&a, 64, &off[0]) && false);
	for (int i = 0; i < 256; i += 2) {
		vtp_alloc_put(&a, off[i], 64);
	}
	cr_assert_eq(a.n_free, 128);
	/* no room for 128 bytes although 8 KiB are free: fragmentation */
	uint64_t o;
	cr_assert_not(vtp_alloc_get(&a, 128, &o));
	for (int i = 1; i < 256; i += 2) {
		vtp_alloc_put(&a, off[i], 64);
	}
	cr_assert_eq(a.n_free, 1);
	cr_assert(vtp_alloc_get(&a, 256 * 64, &o));
	vtp_alloc_finish(&a);
}
