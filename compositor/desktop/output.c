#include "desktop/output.h"

#include "config.h"
#include "desktop/scene_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_damage.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/util/log.h>
#include <wlr/util/region.h>

#include "guest/guest_view.h"
#include "desktop/layer_shell.h"
#include "server.h"
#include "tree/view.h"

uint32_t output_refresh_ns(const struct output *output)
{
	int32_t mhz = output->wlr_output->refresh;
	if (mhz <= 0) {
		return 0;
	}
	return (uint32_t)(1000000000000ull / (uint64_t)mhz);
}

static void subtract_box(pixman_region32_t *region, int x, int y, int width, int height)
{
	if (width <= 0 || height <= 0) {
		return;
	}
	pixman_region32_t box;
	pixman_region32_init_rect(&box, x, y, (unsigned)width, (unsigned)height);
	pixman_region32_subtract(region, region, &box);
	pixman_region32_fini(&box);
}

/* Take out of region what an opaque node will paint over anyway: the
 * background only needs clearing where nothing opaque lies. Guest content
 * is shown opaque and frames are solid; host surfaces are not assumed to be. */
static void subtract_opaque(
	struct output *output, struct wlr_scene_output *scene_output, pixman_region32_t *region)
{
	struct wlr_output *wlr_output = output->wlr_output;
	if (wlr_output->scale != 1.0f || wlr_output->transform != WL_OUTPUT_TRANSFORM_NORMAL) {
		return;
	}
	struct view *view;
	wl_list_for_each(view, &output->server->views, link) {
		if (!view->mapped || view->minimized) {
			continue;
		}
		struct wlr_box frame = view_frame_box(view);
		frame.x -= scene_output->x;
		frame.y -= scene_output->y;
		if (view->kind == VIEW_GUEST &&
			guest_view_has_content(guest_view_from_view(view))) {
			subtract_box(region, frame.x, frame.y, frame.width, frame.height);
			continue;
		}
		if (view->fullscreen) {
			continue;
		}
		/* the frame of a host window: title bar and borders, not the content */
		int cx = view->x - scene_output->x, cy = view->y - scene_output->y;
		subtract_box(region, frame.x, frame.y, frame.width, VIEW_FRAME_TOP);
		subtract_box(region, frame.x, cy + view->height, frame.width, VIEW_BORDER);
		subtract_box(region, frame.x, cy, VIEW_BORDER, view->height);
		subtract_box(region, cx + view->width, cy, VIEW_BORDER, view->height);
	}
}

/*
 * Render the scene on one output. Like wlr_scene_output_commit, but the
 * background is the clear color (no big rect behind every window: under
 * pixman that would cost a fill of every damaged pixel) and only the
 * damage no opaque window covers is cleared at all.
 */
static bool render(struct output *output, struct wlr_scene_output *scene_output)
{
	struct wlr_output *wlr_output = output->wlr_output;
	struct wlr_renderer *renderer = output->server->renderer;
	bool needs_frame;
	pixman_region32_t damage;
	pixman_region32_init(&damage);
	if (!wlr_output_damage_attach_render(scene_output->damage, &needs_frame, &damage)) {
		pixman_region32_fini(&damage);
		return false;
	}
	if (!needs_frame) {
		pixman_region32_fini(&damage);
		wlr_output_rollback(wlr_output);
		return true;
	}

	/* wlr_scene_output_commit uploads new buffers before it renders;
	 * wlr_scene_render_output does not, and creating a texture inside
	 * begin/end aborts. Do it here, as the wlroots 0.15 commit path does. */
	struct wlr_scene_buffer *pending, *pending_tmp;
	wl_list_for_each_safe(
		pending, pending_tmp, &output->server->scene->pending_buffers, pending_link) {
		if (pending->texture == NULL && pending->buffer != NULL) {
			pending->texture = wlr_texture_from_buffer(renderer, pending->buffer);
		}
		wl_list_remove(&pending->pending_link);
		wl_list_init(&pending->pending_link);
	}

	wlr_renderer_begin(renderer, wlr_output->width, wlr_output->height);
	pixman_region32_t clear;
	pixman_region32_init(&clear);
	pixman_region32_copy(&clear, &damage);
	subtract_opaque(output, scene_output, &clear);
	float color[4];
	server_color_from_rgb(SERVER_BACKGROUND_RGB, color);
	int nrects;
	pixman_box32_t *rects = pixman_region32_rectangles(&clear, &nrects);
	for (int i = 0; i < nrects; i++) {
		scene_render_scissor(wlr_output, renderer, &rects[i]);
		wlr_renderer_clear(renderer, color);
	}
	pixman_region32_fini(&clear);
	scene_render(output->server, wlr_output, scene_output->x, scene_output->y, &damage);
	wlr_output_render_software_cursors(wlr_output, &damage);
	wlr_renderer_scissor(renderer, NULL);
	wlr_renderer_end(renderer);
	pixman_region32_fini(&damage);

	int width, height;
	wlr_output_transformed_resolution(wlr_output, &width, &height);
	pixman_region32_t frame_damage;
	pixman_region32_init(&frame_damage);
	wlr_region_transform(&frame_damage, &scene_output->damage->current,
		wlr_output_transform_invert(wlr_output->transform), width, height);
	wlr_output_set_damage(wlr_output, &frame_damage);
	pixman_region32_fini(&frame_damage);
	if (!wlr_output_commit(wlr_output)) {
		return false;
	}
	output->frames++;
	return true;
}

static void handle_frame(struct wl_listener *listener, void *data)
{
	struct output *output = wl_container_of(listener, output, frame);
	struct server *server = output->server;
	struct wlr_scene_output *scene_output =
		wlr_scene_get_scene_output(server->scene, output->wlr_output);
	if (scene_output == NULL) {
		return;
	}
	/* titles and guest buffers follow the scale of the output under
	 * each window (moves, output changes) */
	view_update_scales(server);
	guest_view_update_scales(server);
	if (!render(output, scene_output)) {
		wlr_log(WLR_DEBUG, "output %s: commit failed", output->wlr_output->name);
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	wlr_scene_output_send_frame_done(scene_output, &now);
	guest_view_output_frame(server, output, &now);
}

static void handle_commit(struct wl_listener *listener, void *data)
{
	struct output *output = wl_container_of(listener, output, commit);
	struct wlr_output_event_commit *event = data;
	if (event->committed &
		(WLR_OUTPUT_STATE_MODE | WLR_OUTPUT_STATE_SCALE | WLR_OUTPUT_STATE_TRANSFORM |
			WLR_OUTPUT_STATE_ENABLED)) {
		output_update_geometry(output);
		server_outputs_changed(output->server);
	}
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct output *output = wl_container_of(listener, output, destroy);
	output_destroy(output);
}

void output_update_geometry(struct output *output)
{
	struct server *server = output->server;
	struct wlr_box *box = wlr_output_layout_get_box(server->output_layout, output->wlr_output);
	if (box == NULL) {
		output->box = (struct wlr_box){ 0 };
	} else {
		output->box = *box;
	}
	layer_shell_arrange(output);
}

/* The position of a headless output in the --headless list (its name is
 * HEADLESS-N, N counting from 1), or -1. */
static int headless_index(struct server *server, struct wlr_output *wlr_output)
{
	if (server->headless_backend == NULL || !wlr_output_is_headless(wlr_output)) {
		return -1;
	}
	const char *prefix = "HEADLESS-";
	size_t len = strlen(prefix);
	if (strncmp(wlr_output->name, prefix, len) != 0) {
		return -1;
	}
	long n = strtol(wlr_output->name + len, NULL, 10);
	if (n < 1 || (size_t)n > server->n_headless) {
		return -1;
	}
	return (int)n - 1;
}

/* Keep server.outputs in layout order: the first one is the top-left. */
static void insert_sorted(struct server *server, struct output *output)
{
	struct output *other;
	wl_list_for_each(other, &server->outputs, link) {
		if (output->box.x < other->box.x ||
			(output->box.x == other->box.x && output->box.y < other->box.y)) {
			wl_list_insert(other->link.prev, &output->link);
			return;
		}
	}
	wl_list_insert(server->outputs.prev, &output->link);
}

void output_sort_list(struct server *server)
{
	struct wl_list all;
	wl_list_init(&all);
	wl_list_insert_list(&all, &server->outputs);
	wl_list_init(&server->outputs);
	struct output *output, *tmp;
	wl_list_for_each_safe(output, tmp, &all, link) {
		wl_list_remove(&output->link);
		insert_sorted(server, output);
	}
}

/* The logical width the headless output i will have: --headless size and
 * scale, unless its [output] section says otherwise; 0 if disabled. */
static void headless_logical_size(struct server *server, int i, int *width, int *height)
{
	char name[32];
	snprintf(name, sizeof(name), "HEADLESS-%d", i + 1);
	const struct config_output *oc = config_find_output(server->config, name);
	if (oc != NULL && oc->key_lines[CONFIG_OUTPUT_ENABLED] != 0 && !oc->enabled) {
		*width = *height = 0;
		return;
	}
	int w = oc != NULL && oc->width > 0 ? oc->width : server->headless_widths[i];
	int h = oc != NULL && oc->width > 0 ? oc->height : server->headless_heights[i];
	if (oc != NULL && oc->transform >= 0 && (oc->transform & 1)) {
		int t = w; /* 90 or 270 degrees */
		w = h;
		h = t;
	}
	float scale = oc != NULL && oc->scale > 0 ? oc->scale : server->headless_scales[i];
	*width = (int)(w / scale);
	*height = (int)(h / scale);
}

/*
 * Where headless output index goes when its [output] section gives no
 * position: left to right in the --headless order, each at the smallest
 * x >= 0 (y 0) where it meets no output placed by the config and none
 * placed before it.
 */
#define HEADLESS_LAYOUT_MAX 32 /* outputs considered (--headless takes at most 16) */

static int headless_auto_x(struct server *server, int index)
{
	struct wlr_box placed[HEADLESS_LAYOUT_MAX];
	size_t n = 0;
	for (int i = 0; i < (int)server->n_headless && n < HEADLESS_LAYOUT_MAX; i++) {
		char name[32];
		snprintf(name, sizeof(name), "HEADLESS-%d", i + 1);
		const struct config_output *oc = config_find_output(server->config, name);
		if (oc != NULL && oc->key_lines[CONFIG_OUTPUT_POSITION] != 0) {
			placed[n] = (struct wlr_box){ oc->x, oc->y, 0, 0 };
			headless_logical_size(server, i, &placed[n].width, &placed[n].height);
			n++;
		}
	}
	for (int i = 0; i <= index && n < HEADLESS_LAYOUT_MAX; i++) {
		char name[32];
		snprintf(name, sizeof(name), "HEADLESS-%d", i + 1);
		const struct config_output *oc = config_find_output(server->config, name);
		if (oc != NULL && oc->key_lines[CONFIG_OUTPUT_POSITION] != 0) {
			continue;
		}
		struct wlr_box box = { 0, 0, 0, 0 };
		headless_logical_size(server, i, &box.width, &box.height);
		for (bool moved = true; moved;) {
			moved = false;
			for (size_t k = 0; k < n; k++) {
				struct wlr_box hit;
				if (box.width > 0 && wlr_box_intersection(&hit, &box, &placed[k])) {
					box.x = placed[k].x + placed[k].width;
					moved = true;
				}
			}
		}
		if (i == index) {
			return box.x;
		}
		placed[n++] = box;
	}
	return 0;
}

/* The mode [output] asks for, else the preferred one. */
static void set_mode(struct wlr_output *wlr_output, const struct config_output *oc)
{
	if (oc != NULL && oc->width > 0) {
		struct wlr_output_mode *mode, *best = NULL;
		wl_list_for_each(mode, &wlr_output->modes, link) {
			if (mode->width == oc->width && mode->height == oc->height &&
				(oc->refresh_mhz == 0 ||
					abs(mode->refresh - oc->refresh_mhz) <= 500) &&
				(best == NULL || mode->refresh > best->refresh)) {
				best = mode;
			}
		}
		if (best != NULL) {
			wlr_output_set_mode(wlr_output, best);
			return;
		}
		if (wl_list_empty(&wlr_output->modes)) {
			/* headless, nested: any size */
			wlr_output_set_custom_mode(
				wlr_output, oc->width, oc->height, oc->refresh_mhz);
			return;
		}
		wlr_log(WLR_ERROR, "output %s: no mode %dx%d (line %d); using its preferred mode",
			wlr_output->name, oc->width, oc->height, oc->key_lines[CONFIG_OUTPUT_MODE]);
	}
	struct wlr_output_mode *mode = wlr_output_preferred_mode(wlr_output);
	if (mode != NULL) {
		wlr_output_set_mode(wlr_output, mode);
	}
}

struct output *output_create(struct server *server, struct wlr_output *wlr_output)
{
	if (!wlr_output_init_render(wlr_output, server->allocator, server->renderer)) {
		wlr_log(WLR_ERROR, "output %s: cannot initialize rendering", wlr_output->name);
		return NULL;
	}
	const struct config_output *oc = config_find_output(server->config, wlr_output->name);
	if (oc != NULL && oc->key_lines[CONFIG_OUTPUT_ENABLED] != 0 && !oc->enabled) {
		wlr_log(WLR_INFO, "output %s: disabled ([output %s], line %d)", wlr_output->name,
			oc->name, oc->key_lines[CONFIG_OUTPUT_ENABLED]);
		wlr_output_enable(wlr_output, false);
		wlr_output_commit(wlr_output);
		return NULL;
	}
	struct output *output = calloc(1, sizeof(*output));
	if (output == NULL) {
		return NULL;
	}
	output->server = server;
	output->wlr_output = wlr_output;
	wl_list_init(&output->link);
	wlr_output->data = output;
	wl_list_init(&output->layer_surfaces);

	int index = headless_index(server, wlr_output);
	set_mode(wlr_output, oc);
	if (oc != NULL && oc->scale > 0) {
		wlr_output_set_scale(wlr_output, oc->scale);
	} else if (index >= 0) {
		wlr_output_set_scale(wlr_output, server->headless_scales[index]);
	}
	if (oc != NULL && oc->transform >= 0) {
		wlr_output_set_transform(wlr_output, (enum wl_output_transform)oc->transform);
	}
	wlr_output_enable(wlr_output, true);
	if (!wlr_output_commit(wlr_output)) {
		wlr_log(WLR_ERROR, "output %s: cannot enable%s", wlr_output->name,
			oc != NULL ? " with its [output] settings; trying its preferred mode" : "");
		if (oc != NULL) {
			set_mode(wlr_output, NULL);
			wlr_output_set_scale(wlr_output, 1.0f);
			wlr_output_set_transform(wlr_output, WL_OUTPUT_TRANSFORM_NORMAL);
			wlr_output_enable(wlr_output, true);
			if (!wlr_output_commit(wlr_output)) {
				wlr_log(WLR_ERROR, "output %s: cannot enable", wlr_output->name);
			}
		}
	}

	output->frame.notify = handle_frame;
	wl_signal_add(&wlr_output->events.frame, &output->frame);
	output->destroy.notify = handle_destroy;
	wl_signal_add(&wlr_output->events.destroy, &output->destroy);
	output->commit.notify = handle_commit;
	wl_signal_add(&wlr_output->events.commit, &output->commit);

	if (oc != NULL && oc->key_lines[CONFIG_OUTPUT_POSITION] != 0) {
		wlr_output_layout_add(server->output_layout, wlr_output, oc->x, oc->y);
	} else if (index >= 0) {
		/* --headless outputs go left to right in the order given, whatever
		 * order the backend announces them in, around those the config
		 * places */
		wlr_output_layout_add(
			server->output_layout, wlr_output, headless_auto_x(server, index), 0);
	} else {
		wlr_output_layout_add_auto(server->output_layout, wlr_output);
	}
	output_update_geometry(output);
	insert_sorted(server, output);
	wlr_log(WLR_INFO, "output %s: %dx%d at %d,%d, scale %.3g", wlr_output->name,
		output->box.width, output->box.height, output->box.x, output->box.y,
		wlr_output->scale);
	server_outputs_changed(server);
	return output;
}

/* After an output went: windows left on no output come onto the first
 * one's usable area, cascaded, so that none is out of reach. */
static void rescue_views(struct server *server)
{
	if (wl_list_empty(&server->outputs)) {
		return;
	}
	struct output *first = wl_container_of(server->outputs.next, first, link);
	int step = 0;
	struct view *view;
	wl_list_for_each(view, &server->views, link) {
		struct wlr_box frame = view_frame_box(view);
		if (!view->mapped || server_output_for(server, &frame) != NULL) {
			continue;
		}
		if (view->fullscreen) {
			view_set_fullscreen(view, false);
		}
		if (view->maximized) {
			view_set_maximized(view, false);
		}
		view_move(view, first->usable_area.x + VIEW_BORDER + step,
			first->usable_area.y + VIEW_FRAME_TOP + step);
		step = (step + VIEW_CASCADE_STEP) % 256;
		wlr_log(WLR_INFO, "window %u: its output went; moved onto %s", view->id,
			first->wlr_output->name);
	}
}

void output_destroy(struct output *output)
{
	if (output == NULL) {
		return;
	}
	struct server *server = output->server;
	layer_shell_output_destroyed(output);
	wl_list_remove(&output->frame.link);
	wl_list_remove(&output->destroy.link);
	wl_list_remove(&output->commit.link);
	wl_list_remove(&output->link);
	output->wlr_output->data = NULL;
	free(output);
	rescue_views(server);
	server_outputs_changed(server);
}
