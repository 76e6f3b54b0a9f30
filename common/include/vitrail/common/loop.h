/*
 * Event loop helper for the two wayland-server programs (the host and the
 * agent); header only, so common/ links no Wayland library.
 */
#ifndef VITRAIL_COMMON_LOOP_H
#define VITRAIL_COMMON_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <wayland-server-core.h>

/* The clock of timers and deadlines: CLOCK_MONOTONIC in ms. */
static inline int64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Remove *source from its loop if there is one, and forget it. */
static inline void loop_source_remove(struct wl_event_source **source)
{
	if (*source != NULL) {
		wl_event_source_remove(*source);
		*source = NULL;
	}
}

#endif
