#include "desktop/scene_render.h"

#include <drm_fourcc.h>
#include <wlr/render/pixman.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/render/wlr_texture.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_matrix.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/util/box.h>

#include "server.h"

struct render_pass {
	struct wlr_renderer *renderer;
	struct wlr_output *output;
	pixman_region32_t *damage;
	struct wlr_presentation *presentation;
	pixman_image_t *target; /* the pixman path's destination, or NULL: none */
};

void scene_render_scissor(
	struct wlr_output *output, struct wlr_renderer *renderer, const pixman_box32_t *rect)
{
	int w, h;
	wlr_output_transformed_resolution(output, &w, &h);
	struct wlr_box box = {
		.x = rect->x1,
		.y = rect->y1,
		.width = rect->x2 - rect->x1,
		.height = rect->y2 - rect->y1,
	};
	wlr_box_transform(&box, &box, wlr_output_transform_invert(output->transform), w, h);
	wlr_renderer_scissor(renderer, &box);
}

/* The part of the damage inside box; false when there is none. */
static bool damage_in(struct render_pass *pass, const struct wlr_box *box, pixman_region32_t *out)
{
	pixman_region32_init_rect(out, box->x, box->y, (unsigned)box->width, (unsigned)box->height);
	pixman_region32_intersect(out, out, pass->damage);
	if (!pixman_region32_not_empty(out)) {
		pixman_region32_fini(out);
		return false;
	}
	return true;
}

static void render_rect(struct render_pass *pass, const struct wlr_box *box, const float color[4])
{
	pixman_region32_t region;
	if (!damage_in(pass, box, &region)) {
		return;
	}
	int n;
	pixman_box32_t *rects = pixman_region32_rectangles(&region, &n);
	for (int i = 0; i < n; i++) {
		scene_render_scissor(pass->output, pass->renderer, &rects[i]);
		wlr_render_rect(pass->renderer, box, color, pass->output->transform_matrix);
	}
	pixman_region32_fini(&region);
}

static pixman_format_code_t pixman_format_of(uint32_t drm_format)
{
	switch (drm_format) {
	case DRM_FORMAT_ARGB8888:
		return PIXMAN_a8r8g8b8;
	case DRM_FORMAT_XRGB8888:
		return PIXMAN_x8r8g8b8;
	case DRM_FORMAT_ABGR8888:
		return PIXMAN_a8b8g8r8;
	case DRM_FORMAT_XBGR8888:
		return PIXMAN_x8b8g8r8;
	case DRM_FORMAT_RGB565:
		return PIXMAN_r5g6b5;
	}
	return 0;
}

/* The damaged part of box straight from the source buffer's memory (what
 * the texture shows): false, having drawn nothing, when that cannot be. */
static bool composite_direct(struct render_pass *pass, struct wlr_buffer *source,
	const struct wlr_fbox *src, const struct wlr_box *box, pixman_box32_t *rects, int n)
{
	void *data;
	uint32_t format;
	size_t stride;
	if (source == NULL ||
		!wlr_buffer_begin_data_ptr_access(
			source, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format, &stride)) {
		return false;
	}
	pixman_format_code_t pf = pixman_format_of(format);
	pixman_image_t *image = pf != 0 ? pixman_image_create_bits_no_clear(pf, source->width,
						  source->height, data, (int)stride)
					: NULL;
	if (image == NULL) {
		wlr_buffer_end_data_ptr_access(source);
		return false;
	}
	wlr_renderer_scissor(pass->renderer, NULL);
	for (int i = 0; i < n; i++) {
		pixman_box32_t *r = &rects[i];
		pixman_image_composite32(PIXMAN_OP_OVER, image, NULL, pass->target,
			(int)src->x + r->x1 - box->x, (int)src->y + r->y1 - box->y, 0, 0, r->x1,
			r->y1, r->x2 - r->x1, r->y2 - r->y1);
	}
	pixman_image_unref(image);
	wlr_buffer_end_data_ptr_access(source);
	return true;
}

/*
 * A texture at box. src: the part of the texture shown (may be empty:
 * all); transform: the buffer's; source: the buffer the texture reads, if
 * known. Shown 1:1 on a plain output: pixman straight from the source.
 */
static void render_texture(struct render_pass *pass, struct wlr_texture *texture,
	struct wlr_buffer *source, const struct wlr_fbox *src, const struct wlr_box *box,
	enum wl_output_transform transform)
{
	pixman_region32_t region;
	if (!damage_in(pass, box, &region)) {
		return;
	}
	struct wlr_fbox full = { 0, 0, texture->width, texture->height };
	if (wlr_fbox_empty(src)) {
		src = &full;
	}
	int n;
	pixman_box32_t *rects = pixman_region32_rectangles(&region, &n);
	bool one_to_one = pass->target != NULL && source != NULL &&
		transform == WL_OUTPUT_TRANSFORM_NORMAL && src->x == (int)src->x &&
		src->y == (int)src->y && src->width == box->width && src->height == box->height &&
		source->width == (int)texture->width && source->height == (int)texture->height;
	if (!one_to_one || !composite_direct(pass, source, src, box, rects, n)) {
		float matrix[9];
		wlr_matrix_project_box(matrix, box, wlr_output_transform_invert(transform), 0.0,
			pass->output->transform_matrix);
		for (int i = 0; i < n; i++) {
			scene_render_scissor(pass->output, pass->renderer, &rects[i]);
			wlr_render_subtexture_with_matrix(
				pass->renderer, texture, src, matrix, 1.0);
		}
	}
	pixman_region32_fini(&region);
}

static void render_node(struct render_pass *pass, struct wlr_scene_node *node, int x, int y)
{
	if (!node->state.enabled) {
		return;
	}
	x += node->state.x;
	y += node->state.y;
	float scale = pass->output->scale;
	struct wlr_box box = { .x = x, .y = y };
	switch (node->type) {
	case WLR_SCENE_NODE_ROOT:
	case WLR_SCENE_NODE_TREE:
		break;
	case WLR_SCENE_NODE_SURFACE: {
		struct wlr_surface *surface = wlr_scene_surface_from_node(node)->surface;
		struct wlr_texture *texture = wlr_surface_get_texture(surface);
		if (texture == NULL) {
			break;
		}
		box.width = surface->current.width;
		box.height = surface->current.height;
		box = (struct wlr_box){ (int)(box.x * scale), (int)(box.y * scale),
			(int)(box.width * scale), (int)(box.height * scale) };
		struct wlr_fbox src;
		wlr_surface_get_buffer_source_box(surface, &src);
		pixman_region32_t seen;
		if (damage_in(pass, &box, &seen)) {
			pixman_region32_fini(&seen);
			struct wlr_buffer *source =
				surface->buffer != NULL ? surface->buffer->source : NULL;
			render_texture(
				pass, texture, source, &src, &box, surface->current.transform);
			if (pass->presentation != NULL) {
				wlr_presentation_surface_sampled_on_output(
					pass->presentation, surface, pass->output);
			}
		}
		break;
	}
	case WLR_SCENE_NODE_RECT: {
		struct wlr_scene_rect *rect = (struct wlr_scene_rect *)node;
		box.width = rect->width;
		box.height = rect->height;
		box = (struct wlr_box){ (int)(box.x * scale), (int)(box.y * scale),
			(int)(box.width * scale), (int)(box.height * scale) };
		render_rect(pass, &box, rect->color);
		break;
	}
	case WLR_SCENE_NODE_BUFFER: {
		struct wlr_scene_buffer *buffer = (struct wlr_scene_buffer *)node;
		/* as wlroots: a client buffer's own texture, else the node's
		 * (uploaded before the pass, output.c) */
		struct wlr_client_buffer *client = wlr_client_buffer_get(buffer->buffer);
		struct wlr_texture *texture = client != NULL ? client->texture : buffer->texture;
		if (texture == NULL) {
			break;
		}
		if (buffer->dst_width > 0 && buffer->dst_height > 0) {
			box.width = buffer->dst_width;
			box.height = buffer->dst_height;
		} else {
			box.width = buffer->buffer->width;
			box.height = buffer->buffer->height;
			if (buffer->transform & WL_OUTPUT_TRANSFORM_90) {
				box.width = buffer->buffer->height;
				box.height = buffer->buffer->width;
			}
		}
		box = (struct wlr_box){ (int)(box.x * scale), (int)(box.y * scale),
			(int)(box.width * scale), (int)(box.height * scale) };
		struct wlr_buffer *source = client != NULL ? client->source : buffer->buffer;
		render_texture(pass, texture, source, &buffer->src_box, &box, buffer->transform);
		break;
	}
	}
	struct wlr_scene_node *child;
	wl_list_for_each(child, &node->state.children, state.link) {
		render_node(pass, child, x, y);
	}
}

void scene_render(
	struct server *server, struct wlr_output *output, int lx, int ly, pixman_region32_t *damage)
{
	struct render_pass pass = {
		.renderer = server->renderer,
		.output = output,
		.damage = damage,
		.presentation = server->scene->presentation,
	};
	if (server->renderer_is_pixman && output->scale == 1.0f &&
		output->transform == WL_OUTPUT_TRANSFORM_NORMAL) {
		pass.target = wlr_pixman_renderer_get_current_image(server->renderer);
	}
	render_node(&pass, &server->scene->node, -lx, -ly);
	wlr_renderer_scissor(server->renderer, NULL);
}
