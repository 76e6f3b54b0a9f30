#include <vitrail/common/bus_loop.h>

#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <vitrail/common/loop.h>

void bus_loop_update(struct bus_loop *bl)
{
	if (bl->bus == NULL) {
		return;
	}
	int events = sd_bus_get_events(bl->bus);
	uint32_t mask = 0;
	if (events > 0 && (events & POLLIN)) {
		mask |= WL_EVENT_READABLE;
	}
	if (events > 0 && (events & POLLOUT)) {
		mask |= WL_EVENT_WRITABLE;
	}
	wl_event_source_fd_update(bl->fd_source, mask);
	uint64_t usec = UINT64_MAX;
	int delay = 0;
	if (sd_bus_get_timeout(bl->bus, &usec) >= 0 && usec != UINT64_MAX) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		uint64_t ms = usec > now ? (usec - now + 999) / 1000 : 1;
		delay = ms > 60000 ? 60000 : (ms < 1 ? 1 : (int)ms);
	}
	wl_event_source_timer_update(bl->timer, delay);
}

void bus_loop_process(struct bus_loop *bl)
{
	int r;
	while ((r = sd_bus_process(bl->bus, NULL)) > 0) {
		/* one message at a time */
	}
	if (r < 0) {
		bl->failed(bl->data, -r);
		return;
	}
	bus_loop_update(bl);
}

static int handle_fd(int fd, uint32_t mask, void *data)
{
	bus_loop_process(data);
	return 0;
}

static int handle_timer(void *data)
{
	bus_loop_process(data);
	return 0;
}

bool bus_loop_watch(struct bus_loop *bl, struct wl_event_loop *loop, sd_bus *bus,
	void (*failed)(void *data, int error), void *data)
{
	bl->bus = bus;
	bl->failed = failed;
	bl->data = data;
	int fd = sd_bus_get_fd(bus);
	bl->fd_source =
		fd >= 0 ? wl_event_loop_add_fd(loop, fd, WL_EVENT_READABLE, handle_fd, bl) : NULL;
	bl->timer = wl_event_loop_add_timer(loop, handle_timer, bl);
	return bl->fd_source != NULL && bl->timer != NULL;
}

void bus_loop_close(struct bus_loop *bl, bool flush)
{
	loop_source_remove(&bl->fd_source);
	loop_source_remove(&bl->timer);
	bl->bus = flush ? sd_bus_flush_close_unref(bl->bus) : sd_bus_close_unref(bl->bus);
}
