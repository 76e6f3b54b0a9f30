/*
 * The buffers of one guest window (protocol 5.4: ATTACH, DAMAGE, COMMIT,
 * RELEASE) and the pixels one VM holds in them, without wlroots: what
 * guest_view.c asks before it touches the scene, tested on its own.
 *
 * A slot is FREE, PENDING (attached, not committed), CURRENT (shown) or
 * RETIRED (replaced; released after the next presented frame). The budget
 * counts the pixels of every slot that is not FREE, over all windows of
 * one VM. Messages come here decoded and validated (sizes 1..VTP_MAX_DIM,
 * stride, format, pool range); the rules here are those between messages.
 */
#ifndef VITRAIL_GUEST_WINDOW_STATE_H
#define VITRAIL_GUEST_WINDOW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vitrail/protocol.h>

/* Pixels of all buffers a VM holds attached (what GLES2 may copy into
 * textures): 64 Mpixel, 256 MiB of ARGB. */
#define WINDOW_STATE_MAX_VM_PIXELS (64ull * 1024 * 1024)

enum window_buffer_state {
	WINDOW_BUFFER_FREE,
	WINDOW_BUFFER_PENDING, /* attached, not committed yet */
	WINDOW_BUFFER_CURRENT, /* what the window shows */
	WINDOW_BUFFER_RETIRED, /* replaced; RELEASE goes out with the next frame */
};

struct window_buffer {
	enum window_buffer_state state;
	uint32_t id;
	uint64_t offset;
	uint32_t width, height, stride, format;
	uint32_t scale; /* 1..VTP_MAX_SCALE (ATTACH's 0 before version 4 is 1) */
};

/* What one VM holds over all its windows. Owned by the VM, zeroed when
 * it holds nothing; every window_state of the VM is given the same one. */
struct window_budget {
	uint64_t pixels; /* of the buffers not FREE, ≤ WINDOW_STATE_MAX_VM_PIXELS */
};

struct window_state {
	uint32_t window_id; /* for the error texts */
	struct window_buffer buffers[VTP_MAX_BUFFERS_PER_WINDOW];
	int pending; /* index into buffers, -1 if none */
	int current; /* index into buffers, -1 if none */
	/* buffers freed and not yet taken: RELEASE them in this order */
	uint32_t releases[VTP_MAX_BUFFERS_PER_WINDOW];
	size_t n_releases;
};

/* Why a message broke a rule: the code and text for vm_link_fail. */
struct window_state_error {
	uint32_t code; /* VTP_ERR_* */
	char text[VTP_MAX_ERROR_TEXT + 1];
};

/* A damage rectangle inside a buffer, not empty. */
struct window_state_rect {
	int32_t x, y;
	uint32_t width, height;
};

void window_state_init(struct window_state *state, uint32_t window_id);
/* The window is gone: all its buffers go back to the budget (the guest
 * gets no RELEASE for them). */
void window_state_finish(struct window_state *state, struct window_budget *budget);

/*
 * ATTACH. A known id must come with the geometry it has (a retired buffer
 * becomes pending again, any other pending one is released); a new id
 * takes a free slot within the VM's budget, and a pending buffer never
 * committed is released first. false: error says why (the state may have
 * released buffers all the same: take them).
 */
bool window_state_attach(struct window_state *state, struct window_budget *budget,
	const struct vtp_attach *attach, struct window_state_error *error);
/* The buffer the next COMMIT shows, NULL if none is attached. */
const struct window_buffer *window_state_pending(const struct window_state *state);
/* The buffer the window shows, NULL before the first COMMIT of one. */
const struct window_buffer *window_state_current(const struct window_state *state);
/* COMMIT: the pending buffer becomes current, the one it replaces retires.
 * Returns the new current buffer, NULL if nothing was pending. */
const struct window_buffer *window_state_commit(struct window_state *state);
/* A frame of the window was presented: its retired buffers are released. */
void window_state_frame_done(struct window_state *state, struct window_budget *budget);
/* The ids of the buffers released since the last call, in order, into ids;
 * returns how many. Take them after each attach and frame_done. */
size_t window_state_take_releases(
	struct window_state *state, uint32_t ids[VTP_MAX_BUFFERS_PER_WINDOW]);

/* DAMAGE: one rectangle clipped to the buffer it applies to (the pending
 * one, else the current one). false: nothing of it to damage. */
bool window_state_clip_damage(const struct window_state *state, const struct vtp_rect *rect,
	struct window_state_rect *out);

#endif
