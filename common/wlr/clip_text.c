#include <vitrail/common/clip_text.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <wlr/util/log.h>
#include <vitrail/common/loop.h>

/* The MIME types a text selection is read as, best first. */
static const char *const text_mime_types[] = {
	"text/plain;charset=utf-8",
	"UTF8_STRING",
	"text/plain",
	"TEXT",
	"STRING",
};

bool clip_text_reserve(uint8_t **buf, size_t *cap, size_t want, size_t limit)
{
	if (want <= *cap) {
		return true;
	}
	size_t cap2 = *cap < 4096 ? 4096 : *cap;
	while (cap2 < want) {
		cap2 *= 2;
	}
	if (cap2 > limit) {
		cap2 = limit;
	}
	uint8_t *b = realloc(*buf, cap2);
	if (b == NULL) {
		return false;
	}
	*buf = b;
	*cap = cap2;
	return true;
}

int clip_text_read(int fd, uint8_t **buf, size_t *len, size_t *cap, size_t limit)
{
	for (;;) {
		if (*len >= limit) {
			return 1;
		}
		if (!clip_text_reserve(buf, cap, *len + 4096, limit)) {
			errno = ENOMEM;
			return -1;
		}
		ssize_t n = read(fd, *buf + *len, *cap - *len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		}
		if (n <= 0) {
			return n < 0 ? -1 : 1;
		}
		*len += (size_t)n;
	}
}

const char *clip_text_pick_mime_type(const struct wl_array *mime_types)
{
	for (size_t i = 0; i < sizeof(text_mime_types) / sizeof(text_mime_types[0]); i++) {
		char **p;
		wl_array_for_each(p, mime_types) {
			if (strcasecmp(*p, text_mime_types[i]) == 0) {
				return *p;
			}
		}
	}
	return NULL;
}

struct writer {
	struct clip_text_writers *writers;
	struct wl_list link; /* clip_text_writers.writers */
	struct clip_text *text;
	size_t offset;
	int fd;
	struct wl_event_source *source;
	struct wl_event_source *timer;
};

struct clip_text *clip_text_create(uint8_t *bytes, size_t len)
{
	struct clip_text *text = calloc(1, sizeof(*text));
	if (text == NULL) {
		return NULL;
	}
	text->refs = 1;
	text->bytes = bytes;
	text->len = len;
	return text;
}

struct clip_text *clip_text_ref(struct clip_text *text)
{
	text->refs++;
	return text;
}

void clip_text_unref(struct clip_text *text)
{
	if (text == NULL || --text->refs > 0) {
		return;
	}
	free(text->bytes);
	free(text);
}

static void writer_destroy(struct writer *writer)
{
	loop_source_remove(&writer->source);
	loop_source_remove(&writer->timer);
	close(writer->fd);
	clip_text_unref(writer->text);
	wl_list_remove(&writer->link);
	writer->writers->n--;
	free(writer);
}

static int handle_writable(int fd, uint32_t mask, void *data)
{
	struct writer *writer = data;
	while (writer->offset < writer->text->len) {
		ssize_t n = write(fd, writer->text->bytes + writer->offset,
			writer->text->len - writer->offset);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		}
		if (n <= 0) {
			break; /* the reader went away */
		}
		writer->offset += (size_t)n;
	}
	writer_destroy(writer);
	return 0;
}

static int handle_timeout(void *data)
{
	struct writer *writer = data;
	wlr_log(WLR_INFO, "clipboard: an app did not read the pasted text in time");
	writer_destroy(writer);
	return 0;
}

void clip_text_writers_init(
	struct clip_text_writers *writers, struct wl_event_loop *loop, size_t max, int timeout_ms)
{
	writers->loop = loop;
	wl_list_init(&writers->writers);
	writers->n = 0;
	writers->max = max;
	writers->timeout_ms = timeout_ms;
}

void clip_text_writers_finish(struct clip_text_writers *writers)
{
	struct writer *writer, *tmp;
	wl_list_for_each_safe(writer, tmp, &writers->writers, link) {
		writer_destroy(writer);
	}
}

void clip_text_serve(struct clip_text_writers *writers, struct clip_text *text, int fd)
{
	if (writers == NULL) {
		close(fd);
		return;
	}
	if (writers->n >= writers->max) {
		wlr_log(WLR_INFO, "clipboard: too many apps reading the pasted text at once");
		close(fd);
		return;
	}
	struct writer *writer = calloc(1, sizeof(*writer));
	if (writer == NULL) {
		close(fd);
		return;
	}
	writer->writers = writers;
	writer->text = clip_text_ref(text);
	writer->fd = fd;
	wl_list_insert(&writers->writers, &writer->link);
	writers->n++;
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		writer_destroy(writer);
		return;
	}
	writer->source =
		wl_event_loop_add_fd(writers->loop, fd, WL_EVENT_WRITABLE, handle_writable, writer);
	writer->timer = wl_event_loop_add_timer(writers->loop, handle_timeout, writer);
	if (writer->source == NULL || writer->timer == NULL) {
		writer_destroy(writer);
		return;
	}
	wl_event_source_timer_update(writer->timer, writers->timeout_ms);
}

static const char *const offered_mime_types[] = {
	"text/plain;charset=utf-8",
	"text/plain",
	"UTF8_STRING",
};

/* Drop source: its owner forgets it, its text loses a reference. */
static void source_free(struct clip_text_source *source)
{
	if (source->owner != NULL && *source->owner == source) {
		*source->owner = NULL;
	}
	clip_text_unref(source->text);
	free(source);
}

static void source_send(struct wlr_data_source *wlr_source, const char *mime_type, int32_t fd)
{
	struct clip_text_source *source = wl_container_of(wlr_source, source, base.data);
	clip_text_serve(source->writers, source->text, fd);
}

static void source_destroy(struct wlr_data_source *wlr_source)
{
	struct clip_text_source *source = wl_container_of(wlr_source, source, base.data);
	source_free(source);
}

static const struct wlr_data_source_impl source_impl = {
	.send = source_send,
	.destroy = source_destroy,
};

static void primary_send(
	struct wlr_primary_selection_source *wlr_source, const char *mime_type, int fd)
{
	struct clip_text_source *source = wl_container_of(wlr_source, source, base.primary);
	clip_text_serve(source->writers, source->text, fd);
}

static void primary_destroy(struct wlr_primary_selection_source *wlr_source)
{
	struct clip_text_source *source = wl_container_of(wlr_source, source, base.primary);
	source_free(source);
}

static const struct wlr_primary_selection_source_impl primary_impl = {
	.send = primary_send,
	.destroy = primary_destroy,
};

struct clip_text_source *clip_text_source_create(struct clip_text_writers *writers,
	struct clip_text *text, bool primary, struct clip_text_source **owner)
{
	struct clip_text_source *source = calloc(1, sizeof(*source));
	if (source == NULL) {
		return NULL;
	}
	struct wl_array *mime_types = &source->base.data.mime_types;
	if (primary) {
		wlr_primary_selection_source_init(&source->base.primary, &primary_impl);
		mime_types = &source->base.primary.mime_types;
	} else {
		wlr_data_source_init(&source->base.data, &source_impl);
	}
	source->writers = writers;
	source->owner = owner;
	source->text = clip_text_ref(text);
	for (size_t i = 0; i < sizeof(offered_mime_types) / sizeof(offered_mime_types[0]); i++) {
		char **p = wl_array_add(mime_types, sizeof(*p));
		if (p == NULL || (*p = strdup(offered_mime_types[i])) == NULL) {
			if (p != NULL) {
				mime_types->size -= sizeof(*p);
			}
			source->owner = NULL;
			if (primary) {
				wlr_primary_selection_source_destroy(&source->base.primary);
			} else {
				wlr_data_source_destroy(&source->base.data);
			}
			return NULL;
		}
	}
	return source;
}

void clip_text_source_orphan(struct clip_text_source *source)
{
	if (source != NULL) {
		source->writers = NULL;
		source->owner = NULL;
	}
}
