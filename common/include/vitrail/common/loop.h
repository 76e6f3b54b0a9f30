/*
 * Event loop helper for the two wayland-server programs (the host and the
 * agent); header only, so common/ links no Wayland library.
 */
#ifndef VITRAIL_COMMON_LOOP_H
#define VITRAIL_COMMON_LOOP_H

#include <stddef.h>
#include <wayland-server-core.h>

/* Remove *source from its loop if there is one, and forget it. */
static inline void loop_source_remove(struct wl_event_source **source)
{
	if (*source != NULL) {
		wl_event_source_remove(*source);
		*source = NULL;
	}
}

#endif
