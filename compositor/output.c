#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/util/log.h>

#include "guest_view.h"
#include "layer_shell.h"
#include "server.h"

uint32_t output_refresh_ns(const struct output *output)
{
	int32_t mhz = output->wlr_output->refresh;
	if (mhz <= 0) {
		return 0;
	}
	return (uint32_t)(1000000000000ull / (uint64_t)mhz);
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
	if (!wlr_scene_output_commit(scene_output)) {
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
	if (output->background != NULL) {
		wlr_scene_node_set_position(
			&output->background->node, output->box.x, output->box.y);
		wlr_scene_rect_set_size(output->background, output->box.width, output->box.height);
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
	wl_list_for_each(other, &server->outputs, link)
	{
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
	wl_list_for_each_safe(output, tmp, &all, link)
	{
		wl_list_remove(&output->link);
		insert_sorted(server, output);
	}
}

struct output *output_create(struct server *server, struct wlr_output *wlr_output)
{
	if (!wlr_output_init_render(wlr_output, server->allocator, server->renderer)) {
		wlr_log(WLR_ERROR, "output %s: cannot initialize rendering", wlr_output->name);
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

	struct wlr_output_mode *mode = wlr_output_preferred_mode(wlr_output);
	if (mode != NULL) {
		wlr_output_set_mode(wlr_output, mode);
	}
	wlr_output_enable(wlr_output, true);
	if (!wlr_output_commit(wlr_output)) {
		wlr_log(WLR_ERROR, "output %s: cannot enable", wlr_output->name);
	}

	output->frame.notify = handle_frame;
	wl_signal_add(&wlr_output->events.frame, &output->frame);
	output->destroy.notify = handle_destroy;
	wl_signal_add(&wlr_output->events.destroy, &output->destroy);
	output->commit.notify = handle_commit;
	wl_signal_add(&wlr_output->events.commit, &output->commit);

	float color[4];
	server_color_from_rgb(SERVER_BACKGROUND_RGB, color);
	output->background = wlr_scene_rect_create(
		&server->layers[SERVER_LAYER_BACKGROUND_COLOR]->node, 0, 0, color);

	int index = headless_index(server, wlr_output);
	if (index >= 0) {
		/* --headless outputs go left to right in the order given, whatever
		 * order the backend announces them in */
		int x = 0;
		for (int i = 0; i < index; i++) {
			x += server->headless_widths[i];
		}
		wlr_output_layout_add(server->output_layout, wlr_output, x, 0);
	} else {
		wlr_output_layout_add_auto(server->output_layout, wlr_output);
	}
	output_update_geometry(output);
	insert_sorted(server, output);
	wlr_log(WLR_INFO, "output %s: %dx%d at %d,%d", wlr_output->name, output->box.width,
		output->box.height, output->box.x, output->box.y);
	server_outputs_changed(server);
	return output;
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
	if (output->background != NULL) {
		wlr_scene_node_destroy(&output->background->node);
	}
	output->wlr_output->data = NULL;
	free(output);
	server_outputs_changed(server);
}
