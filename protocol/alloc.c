/*
 * Guest-side allocator of buffers inside the shared pool: first fit over
 * a sorted array of free ranges, coalesced on free. Every range starts
 * on a VTP_BUFFER_ALIGN boundary and has a size that is a multiple of
 * it, so every offset handed out is aligned. The metadata lives in the
 * guest heap: at most one free range more than there are live
 * allocations.
 */
#include <vitrail/protocol.h>

#include <stdlib.h>
#include <string.h>

static bool round_size(uint64_t size, uint64_t *out)
{
	if (size == 0 || size > UINT64_MAX - (VTP_BUFFER_ALIGN - 1)) {
		return false;
	}
	*out = (size + VTP_BUFFER_ALIGN - 1) & ~(uint64_t)(VTP_BUFFER_ALIGN - 1);
	return true;
}

bool vtp_alloc_init(struct vtp_alloc *a, uint64_t pool_size)
{
	uint64_t usable = pool_size & ~(uint64_t)(VTP_BUFFER_ALIGN - 1);

	memset(a, 0, sizeof(*a));
	if (usable == 0 || pool_size > VTP_MAX_POOL_SIZE) {
		return false;
	}
	a->free = malloc(8 * sizeof(*a->free));
	if (a->free == NULL) {
		return false;
	}
	a->cap_free = 8;
	a->pool_size = pool_size;
	a->free[0] = (struct vtp_alloc_range){ .offset = 0, .size = usable };
	a->n_free = 1;
	return true;
}

void vtp_alloc_finish(struct vtp_alloc *a)
{
	if (a == NULL) {
		return;
	}
	free(a->free);
	memset(a, 0, sizeof(*a));
}

bool vtp_alloc_get(struct vtp_alloc *a, uint64_t size, uint64_t *offset)
{
	uint64_t want;

	if (!round_size(size, &want)) {
		return false;
	}
	for (size_t i = 0; i < a->n_free; i++) {
		struct vtp_alloc_range *r = &a->free[i];
		if (r->size < want) {
			continue;
		}
		*offset = r->offset;
		if (r->size == want) {
			memmove(r, r + 1, (a->n_free - i - 1) * sizeof(*r));
			a->n_free--;
		} else {
			r->offset += want;
			r->size -= want;
		}
		a->used += want;
		return true;
	}
	return false;
}

void vtp_alloc_put(struct vtp_alloc *a, uint64_t offset, uint64_t size)
{
	uint64_t len, end;
	size_t i;

	if (!round_size(size, &len) || offset % VTP_BUFFER_ALIGN != 0 ||
		__builtin_add_overflow(offset, len, &end) || end > a->pool_size || len > a->used) {
		return; /* not something we handed out: ignore */
	}
	/* i: first free range after offset */
	size_t lo = 0, hi = a->n_free;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->free[mid].offset < offset) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	i = lo;
	/* Refuse a range that overlaps a free one (double free). */
	if (i < a->n_free && a->free[i].offset < end) {
		return;
	}
	if (i > 0 && a->free[i - 1].offset + a->free[i - 1].size > offset) {
		return;
	}

	bool join_prev = i > 0 && a->free[i - 1].offset + a->free[i - 1].size == offset;
	bool join_next = i < a->n_free && a->free[i].offset == end;
	if (join_prev && join_next) {
		a->free[i - 1].size += len + a->free[i].size;
		memmove(&a->free[i], &a->free[i + 1], (a->n_free - i - 1) * sizeof(a->free[0]));
		a->n_free--;
	} else if (join_prev) {
		a->free[i - 1].size += len;
	} else if (join_next) {
		a->free[i].offset = offset;
		a->free[i].size += len;
	} else {
		if (a->n_free == a->cap_free) {
			size_t cap = a->cap_free ? a->cap_free * 2 : 8;
			struct vtp_alloc_range *f = realloc(a->free, cap * sizeof(*f));
			if (f == NULL) {
				return; /* the range stays lost, never handed out twice */
			}
			a->free = f;
			a->cap_free = cap;
		}
		memmove(&a->free[i + 1], &a->free[i], (a->n_free - i) * sizeof(a->free[0]));
		a->free[i] = (struct vtp_alloc_range){ .offset = offset, .size = len };
		a->n_free++;
	}
	a->used -= len;
}
