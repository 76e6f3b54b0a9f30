#include "desktop/lock.h"

#include <stdlib.h>
#include <string.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/util/log.h>

#include "desktop/output.h"
#include "ext-session-lock-v1-protocol.h"
#include "input/seat.h"
#include "server.h"

/* The locked screen under the lock surfaces, and where none is mapped. */
#define LOCK_SCREEN_RGB 0x101418u
/* Configures a lock surface may have sent and not yet acked. */
#define LOCK_MAX_PENDING_CONFIGURES 16

struct lock {
	struct server *server;
	struct wl_global *global;
	struct wlr_scene_tree *tree; /* server.layers[SERVER_LAYER_LOCK] */
	struct wlr_scene_tree *backdrops; /* one rect an output, under the surfaces */
	bool locked;
	struct session_lock *holder; /* the locker that may unlock; NULL: it died */
	struct wl_list sessions; /* struct session_lock.link */
};

/* One ext_session_lock_v1. */
struct session_lock {
	struct lock *lock;
	struct wl_resource *resource;
	bool locked_sent;
	struct wl_list surfaces; /* struct lock_surface.link */
	struct wl_list link; /* lock.sessions */
};

struct configure {
	uint32_t serial, width, height;
};

/* One ext_session_lock_surface_v1. */
struct lock_surface {
	struct session_lock *session; /* NULL once its lock object is gone */
	struct wl_resource *resource;
	struct wlr_surface *surface; /* NULL once destroyed */
	struct wlr_output *output; /* NULL once gone */
	struct wl_list link; /* session_lock.surfaces */
	struct wlr_scene_node *node; /* NULL until the first good commit */
	struct configure pending[LOCK_MAX_PENDING_CONFIGURES];
	size_t n_pending;
	bool acked;
	uint32_t acked_width, acked_height;
	struct wl_listener surface_destroy;
	struct wl_listener output_destroy;
};

static const struct ext_session_lock_v1_interface session_lock_impl;
static const struct ext_session_lock_surface_v1_interface lock_surface_impl;
static void lock_surface_role_commit(struct wlr_surface *surface);

static const struct wlr_surface_role lock_surface_role = {
	.name = "ext_session_lock_surface_v1",
	.commit = lock_surface_role_commit,
};

bool lock_active(const struct lock *lock)
{
	return lock != NULL && lock->locked;
}

static struct lock_surface *lock_surface_of(struct wlr_surface *surface)
{
	if (surface == NULL) {
		return NULL;
	}
	struct wlr_surface *root = wlr_surface_get_root_surface(surface);
	if (root == NULL || root->role != &lock_surface_role) {
		return NULL;
	}
	return root->role_data;
}

bool lock_allows_surface(const struct lock *lock, struct wlr_surface *surface)
{
	if (!lock_active(lock)) {
		return true;
	}
	struct lock_surface *ls = lock_surface_of(surface);
	return ls != NULL && ls->session != NULL && ls->session == lock->holder && ls->node != NULL;
}

struct wlr_surface *lock_keyboard_surface(const struct lock *lock)
{
	if (!lock_active(lock) || lock->holder == NULL) {
		return NULL;
	}
	struct lock_surface *ls;
	wl_list_for_each(ls, &lock->holder->surfaces, link) {
		if (ls->node != NULL) {
			return ls->surface;
		}
	}
	return NULL;
}

static struct output *output_of(struct lock *lock, struct wlr_output *wlr_output)
{
	struct output *output;
	wl_list_for_each(output, &lock->server->outputs, link) {
		if (output->wlr_output == wlr_output) {
			return output;
		}
	}
	return NULL;
}

/* ---- the locked screen ---- */

static void cover_outputs(struct lock *lock)
{
	if (lock->backdrops != NULL) {
		wlr_scene_node_destroy(&lock->backdrops->node);
		lock->backdrops = NULL;
	}
	if (!lock->locked) {
		return;
	}
	lock->backdrops = wlr_scene_tree_create(&lock->tree->node);
	if (lock->backdrops == NULL) {
		/* no way to cover the screen: never fall back to showing it */
		wlr_log(WLR_ERROR, "lock: out of memory drawing the locked screen");
		abort();
	}
	wlr_scene_node_lower_to_bottom(&lock->backdrops->node);
	float color[4];
	server_color_from_rgb(LOCK_SCREEN_RGB, color);
	struct output *output;
	wl_list_for_each(output, &lock->server->outputs, link) {
		struct wlr_scene_rect *rect = wlr_scene_rect_create(
			&lock->backdrops->node, output->box.width, output->box.height, color);
		if (rect == NULL) {
			wlr_log(WLR_ERROR, "lock: out of memory drawing the locked screen");
			abort();
		}
		wlr_scene_node_set_position(&rect->node, output->box.x, output->box.y);
	}
}

/* ---- lock surfaces ---- */

static void unmap_surface(struct lock_surface *ls)
{
	if (ls->node != NULL) {
		wlr_scene_node_destroy(ls->node);
		ls->node = NULL;
	}
}

static void send_configure(struct lock_surface *ls)
{
	struct output *output = ls->session != NULL && ls->output != NULL
		? output_of(ls->session->lock, ls->output)
		: NULL;
	if (output == NULL) {
		return;
	}
	uint32_t w = (uint32_t)output->box.width, h = (uint32_t)output->box.height;
	if (ls->n_pending > 0 && ls->pending[ls->n_pending - 1].width == w &&
		ls->pending[ls->n_pending - 1].height == h) {
		return; /* that size is on its way */
	}
	if (ls->n_pending == 0 && ls->acked && ls->acked_width == w && ls->acked_height == h) {
		return;
	}
	if (ls->n_pending == LOCK_MAX_PENDING_CONFIGURES) {
		memmove(&ls->pending[0], &ls->pending[1],
			(LOCK_MAX_PENDING_CONFIGURES - 1) * sizeof(ls->pending[0]));
		ls->n_pending--;
	}
	uint32_t serial = wl_display_next_serial(ls->session->lock->server->display);
	ls->pending[ls->n_pending++] = (struct configure){ serial, w, h };
	ext_session_lock_surface_v1_send_configure(ls->resource, serial, w, h);
	if (ls->node != NULL) {
		wlr_scene_node_set_position(ls->node, output->box.x, output->box.y);
	}
}

static void lock_surface_role_commit(struct wlr_surface *surface)
{
	struct lock_surface *ls = surface->role_data;
	if (ls == NULL || ls->session == NULL) {
		return; /* its objects are gone: nothing shows it */
	}
	if (!ls->acked) {
		wl_resource_post_error(ls->resource,
			EXT_SESSION_LOCK_SURFACE_V1_ERROR_COMMIT_BEFORE_FIRST_ACK,
			"lock surface committed before its first ack_configure");
		return;
	}
	if (!wlr_surface_has_buffer(surface)) {
		wl_resource_post_error(ls->resource, EXT_SESSION_LOCK_SURFACE_V1_ERROR_NULL_BUFFER,
			"lock surface committed with a null buffer");
		return;
	}
	if ((uint32_t)surface->current.width != ls->acked_width ||
		(uint32_t)surface->current.height != ls->acked_height) {
		wl_resource_post_error(ls->resource,
			EXT_SESSION_LOCK_SURFACE_V1_ERROR_DIMENSIONS_MISMATCH,
			"lock surface is %dx%d, the acked configure said %ux%u",
			surface->current.width, surface->current.height, ls->acked_width,
			ls->acked_height);
		return;
	}
	struct lock *lock = ls->session->lock;
	struct output *output = ls->output != NULL ? output_of(lock, ls->output) : NULL;
	if (ls->node != NULL || output == NULL || !lock->locked || ls->session != lock->holder) {
		return;
	}
	ls->node = wlr_scene_subsurface_tree_create(&lock->tree->node, surface);
	if (ls->node == NULL) {
		wl_resource_post_no_memory(ls->resource);
		return;
	}
	wlr_scene_node_set_position(ls->node, output->box.x, output->box.y);
	seat_update_keyboard_focus(lock->server->seat);
}

static void lock_surface_free(struct lock_surface *ls)
{
	struct lock *lock = ls->session != NULL ? ls->session->lock : NULL;
	bool had_node = ls->node != NULL;
	unmap_surface(ls);
	if (ls->surface != NULL) {
		ls->surface->role_data = NULL; /* the role stays; nothing shows it */
	}
	wl_list_remove(&ls->link);
	wl_list_remove(&ls->surface_destroy.link);
	wl_list_remove(&ls->output_destroy.link);
	wl_resource_set_user_data(ls->resource, NULL);
	free(ls);
	if (had_node && lock != NULL) {
		seat_update_keyboard_focus(lock->server->seat);
	}
}

static void handle_lock_surface_resource_destroy(struct wl_resource *resource)
{
	struct lock_surface *ls = wl_resource_get_user_data(resource);
	if (ls != NULL) {
		lock_surface_free(ls);
	}
}

static void handle_surface_destroy(struct wl_listener *listener, void *data)
{
	struct lock_surface *ls = wl_container_of(listener, ls, surface_destroy);
	/* the scene's subsurface tree goes with the surface on its own */
	bool had_node = ls->node != NULL;
	ls->node = NULL;
	ls->surface = NULL;
	wl_list_remove(&ls->surface_destroy.link);
	wl_list_init(&ls->surface_destroy.link);
	if (had_node && ls->session != NULL) {
		seat_update_keyboard_focus(ls->session->lock->server->seat);
	}
}

static void handle_output_destroy(struct wl_listener *listener, void *data)
{
	struct lock_surface *ls = wl_container_of(listener, ls, output_destroy);
	unmap_surface(ls);
	ls->output = NULL;
	wl_list_remove(&ls->output_destroy.link);
	wl_list_init(&ls->output_destroy.link);
	if (ls->session != NULL) {
		seat_update_keyboard_focus(ls->session->lock->server->seat);
	}
}

static void handle_surface_ack_configure(
	struct wl_client *client, struct wl_resource *resource, uint32_t serial)
{
	struct lock_surface *ls = wl_resource_get_user_data(resource);
	if (ls == NULL) {
		return;
	}
	size_t i;
	for (i = 0; i < ls->n_pending; i++) {
		if (ls->pending[i].serial == serial) {
			break;
		}
	}
	if (i == ls->n_pending) {
		wl_resource_post_error(resource, EXT_SESSION_LOCK_SURFACE_V1_ERROR_INVALID_SERIAL,
			"ack_configure of serial %u, which is not a pending configure", serial);
		return;
	}
	ls->acked = true;
	ls->acked_width = ls->pending[i].width;
	ls->acked_height = ls->pending[i].height;
	/* this one and every older one are consumed */
	memmove(&ls->pending[0], &ls->pending[i + 1],
		(ls->n_pending - i - 1) * sizeof(ls->pending[0]));
	ls->n_pending -= i + 1;
}

static void handle_resource_destroy_request(struct wl_client *client, struct wl_resource *resource)
{
	wl_resource_destroy(resource);
}

static const struct ext_session_lock_surface_v1_interface lock_surface_impl = {
	.destroy = handle_resource_destroy_request,
	.ack_configure = handle_surface_ack_configure,
};

/* ---- ext_session_lock_v1 ---- */

static void unlock(struct lock *lock)
{
	lock->locked = false;
	lock->holder = NULL;
	cover_outputs(lock);
	wlr_log(WLR_INFO, "screen unlocked");
	seat_lock_changed(lock->server->seat);
}

/* Its lock surfaces stay (their client owns them) but show nothing. */
static void session_lock_detach(struct session_lock *session)
{
	struct lock_surface *ls, *tmp;
	wl_list_for_each_safe(ls, tmp, &session->surfaces, link) {
		unmap_surface(ls);
		ls->session = NULL;
		wl_list_remove(&ls->link);
		wl_list_init(&ls->link);
	}
	wl_list_remove(&session->link);
	wl_resource_set_user_data(session->resource, NULL);
}

static void session_lock_free(struct session_lock *session)
{
	struct lock *lock = session->lock;
	session_lock_detach(session);
	if (lock->holder == session) {
		lock->holder = NULL;
		if (lock->locked) {
			wlr_log(WLR_ERROR,
				"the screen locker went away without unlocking: the screen stays "
				"locked until a new locker unlocks it");
			seat_update_keyboard_focus(lock->server->seat);
		}
	}
	free(session);
}

static void handle_session_resource_destroy(struct wl_resource *resource)
{
	struct session_lock *session = wl_resource_get_user_data(resource);
	if (session != NULL) {
		session_lock_free(session);
	}
}

static void handle_session_destroy(struct wl_client *client, struct wl_resource *resource)
{
	struct session_lock *session = wl_resource_get_user_data(resource);
	if (session != NULL && session->locked_sent) {
		wl_resource_post_error(resource, EXT_SESSION_LOCK_V1_ERROR_INVALID_DESTROY,
			"destroy after locked: use unlock_and_destroy");
		return;
	}
	wl_resource_destroy(resource);
}

static void handle_unlock_and_destroy(struct wl_client *client, struct wl_resource *resource)
{
	struct session_lock *session = wl_resource_get_user_data(resource);
	if (session == NULL || !session->locked_sent) {
		wl_resource_post_error(resource, EXT_SESSION_LOCK_V1_ERROR_INVALID_UNLOCK,
			"unlock_and_destroy without a locked event");
		return;
	}
	struct lock *lock = session->lock;
	if (lock->holder == session && lock->locked) {
		unlock(lock);
	}
	wl_resource_destroy(resource);
}

static void handle_get_lock_surface(struct wl_client *client, struct wl_resource *resource,
	uint32_t id, struct wl_resource *surface_resource, struct wl_resource *output_resource)
{
	struct session_lock *session = wl_resource_get_user_data(resource);
	struct wlr_surface *surface = wlr_surface_from_resource(surface_resource);
	struct wlr_output *output = wlr_output_from_resource(output_resource);
	if (surface->role != NULL) {
		wl_resource_post_error(
			resource, EXT_SESSION_LOCK_V1_ERROR_ROLE, "the surface already has a role");
		return;
	}
	if (wlr_surface_has_buffer(surface) || surface->pending.buffer != NULL) {
		wl_resource_post_error(resource, EXT_SESSION_LOCK_V1_ERROR_ALREADY_CONSTRUCTED,
			"the surface already has a buffer");
		return;
	}
	if (session != NULL && output != NULL) {
		struct lock_surface *other;
		wl_list_for_each(other, &session->surfaces, link) {
			if (other->output == output) {
				wl_resource_post_error(resource,
					EXT_SESSION_LOCK_V1_ERROR_DUPLICATE_OUTPUT,
					"a lock surface for this output exists already");
				return;
			}
		}
	}
	struct lock_surface *ls = calloc(1, sizeof(*ls));
	if (ls == NULL) {
		wl_resource_post_no_memory(resource);
		return;
	}
	ls->resource = wl_resource_create(client, &ext_session_lock_surface_v1_interface,
		wl_resource_get_version(resource), id);
	if (ls->resource == NULL) {
		free(ls);
		wl_resource_post_no_memory(resource);
		return;
	}
	if (!wlr_surface_set_role(
		    surface, &lock_surface_role, ls, resource, EXT_SESSION_LOCK_V1_ERROR_ROLE)) {
		wl_resource_destroy(ls->resource);
		free(ls);
		return;
	}
	wl_resource_set_implementation(
		ls->resource, &lock_surface_impl, ls, handle_lock_surface_resource_destroy);
	ls->session = session;
	ls->surface = surface;
	ls->output = output;
	ls->surface_destroy.notify = handle_surface_destroy;
	wl_signal_add(&surface->events.destroy, &ls->surface_destroy);
	ls->output_destroy.notify = handle_output_destroy;
	if (output != NULL) {
		wl_signal_add(&output->events.destroy, &ls->output_destroy);
	} else {
		wl_list_init(&ls->output_destroy.link);
	}
	if (session != NULL) {
		wl_list_insert(session->surfaces.prev, &ls->link);
		send_configure(ls);
	} else {
		wl_list_init(&ls->link); /* of a lock that is gone: inert */
	}
}

static const struct ext_session_lock_v1_interface session_lock_impl = {
	.destroy = handle_session_destroy,
	.get_lock_surface = handle_get_lock_surface,
	.unlock_and_destroy = handle_unlock_and_destroy,
};

static void handle_manager_lock(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
	struct lock *lock = wl_resource_get_user_data(resource);
	struct session_lock *session = calloc(1, sizeof(*session));
	if (session == NULL) {
		wl_resource_post_no_memory(resource);
		return;
	}
	session->resource = wl_resource_create(
		client, &ext_session_lock_v1_interface, wl_resource_get_version(resource), id);
	if (session->resource == NULL) {
		free(session);
		wl_resource_post_no_memory(resource);
		return;
	}
	session->lock = lock;
	wl_list_init(&session->surfaces);
	wl_list_insert(&lock->sessions, &session->link);
	wl_resource_set_implementation(
		session->resource, &session_lock_impl, session, handle_session_resource_destroy);
	if (lock->holder != NULL) {
		/* a live locker holds the lock: this one may not */
		ext_session_lock_v1_send_finished(session->resource);
		return;
	}
	bool was_locked = lock->locked;
	lock->holder = session;
	lock->locked = true;
	if (!was_locked) {
		cover_outputs(lock);
		wlr_log(WLR_INFO, "screen locked: input goes to the locker only");
		seat_lock_changed(lock->server->seat);
	} else {
		wlr_log(WLR_INFO, "screen locked: a new locker took over the lock");
	}
	session->locked_sent = true;
	ext_session_lock_v1_send_locked(session->resource);
}

static void handle_manager_destroy(struct wl_client *client, struct wl_resource *resource)
{
	wl_resource_destroy(resource);
}

static const struct ext_session_lock_manager_v1_interface manager_impl = {
	.destroy = handle_manager_destroy,
	.lock = handle_manager_lock,
};

static void bind_manager(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
	struct wl_resource *resource =
		wl_resource_create(client, &ext_session_lock_manager_v1_interface, version, id);
	if (resource == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &manager_impl, data, NULL);
}

void lock_outputs_changed(struct lock *lock)
{
	if (lock == NULL || !lock->locked) {
		return;
	}
	cover_outputs(lock);
	if (lock->holder != NULL) {
		struct lock_surface *ls;
		wl_list_for_each(ls, &lock->holder->surfaces, link) {
			send_configure(ls);
		}
	}
}

struct lock *lock_create(struct server *server)
{
	struct lock *lock = calloc(1, sizeof(*lock));
	if (lock == NULL) {
		return NULL;
	}
	lock->server = server;
	lock->tree = server->layers[SERVER_LAYER_LOCK];
	wl_list_init(&lock->sessions);
	lock->global = wl_global_create(
		server->display, &ext_session_lock_manager_v1_interface, 1, lock, bind_manager);
	if (lock->global == NULL) {
		free(lock);
		return NULL;
	}
	return lock;
}

void lock_destroy(struct lock *lock)
{
	if (lock == NULL) {
		return;
	}
	wl_global_destroy(lock->global);
	/* the lock objects outlive it (their clients own them): cut them off */
	struct session_lock *session, *tmp;
	wl_list_for_each_safe(session, tmp, &lock->sessions, link) {
		session_lock_detach(session);
		free(session);
	}
	if (lock->backdrops != NULL) {
		wlr_scene_node_destroy(&lock->backdrops->node);
	}
	free(lock);
}
