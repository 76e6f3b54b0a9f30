/*
 * Guest windows: toplevels (a struct view framed in the VM's label color)
 * and popups (placed by the host from the anchor rules, framed, kept on
 * screen). Their pixels stay in the VM's pool: a custom wlr_buffer points
 * the scene at the committed buffer in place, and only the committed
 * rectangles are damaged. Their input comes through their view_impl.
 */
#ifndef VITRAIL_GUEST_VIEW_H
#define VITRAIL_GUEST_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <vitrail/protocol.h>
#include <wlr/util/box.h>

struct guest_vm;
struct guest_window;
struct output;
struct server;
struct view;
struct vm_link;
struct wl_listener;

/* server.events.new_vm_link: make the guest windows of that VM (a struct
 * guest_vm), freed with the link (its destroy event). */
void guest_view_handle_new_link(struct wl_listener *listener, void *data);
struct guest_vm *guest_vm_from_link(struct server *server, struct vm_link *link);
/* The agent is connected: send it the output size, key repeat and keymap. */
void guest_vm_connected(struct guest_vm *gvm);
/* The agent is gone: remove all of the VM's windows. */
void guest_vm_disconnected(struct guest_vm *gvm);
/* The agent stopped answering PING (or answers again): mark its windows'
 * title bars "not responding" (or clear the mark). */
void guest_vm_set_responding(struct guest_vm *gvm, bool responding);
/* The VM was paused (or resumed): its windows keep their last frame,
 * dimmed, with "(paused)" in the title bar; no key, motion, scroll or
 * click reaches it. A click on one of its windows, or the keyboard focus
 * coming to one, calls wake (set by the owner) and goes no further. */
void guest_vm_set_paused(struct guest_vm *gvm, bool paused);
/* The user asked for a window of this VM (run-app, vitrailctl run, an
 * open-in-VM delivery): its next new toplevel within
 * GUEST_EXPECT_WINDOW_MS is raised and focused, even if another VM has the
 * focus (one window per request, at most GUEST_MAX_EXPECTED pending). */
void guest_vm_expect_window(struct guest_vm *gvm);
#define GUEST_EXPECT_WINDOW_MS 30000
#define GUEST_MAX_EXPECTED 4
/* wake is called for input to a window of the VM: resume true for a
 * click on, or the focus coming to, a window of a paused or suspended VM
 * (a request to resume it), false for any other input (idle time). */
void guest_vm_set_wake(struct guest_vm *gvm,
	void (*wake)(void *data, struct guest_vm *gvm, bool resume), void *data);
/* The host suspends the VM to disk (true), or it is running again or
 * stopped for good (false). While true, its windows show "(suspended)"
 * like paused ones, and the disconnect that ends a suspend keeps its
 * mapped toplevels (last frame copied to host memory, popups gone);
 * a click or focus on one resumes the VM as for a pause. When the agent
 * connects again, each new toplevel takes the place of the kept one of
 * the same app id (else the oldest); the others go GUEST_KEPT_GRACE_MS
 * later, or at once when this is set false while disconnected. */
void guest_vm_set_suspended(struct guest_vm *gvm, bool suspended);
#define GUEST_KEPT_GRACE_MS 5000
/* A window message from the VM (WINDOW_CREATE .. SET_CURSOR). false: the
 * message broke a rule; the link has been told to fail. */
bool guest_vm_handle_message(struct guest_vm *gvm, const struct vtp_msg *msg);
/* Send OUTPUT_INFO with the current usable size. */
void guest_vm_send_output_info(struct guest_vm *gvm);
/* Tell each toplevel of a VM that speaks version 4 the integer scale of
 * the output holding most of it (WINDOW_SCALE), when it changed: run
 * before each output frame, so moves, output changes and new windows
 * are all seen. */
void guest_view_update_scales(struct server *server);
/* An output presented a frame: FRAME_DONE and RELEASE for what it showed. */
void guest_view_output_frame(
	struct server *server, struct output *output, const struct timespec *now);

struct guest_window *guest_view_from_view(struct view *view);
/* Whether the window shows a buffer (then its content box is opaque). */
bool guest_view_has_content(const struct guest_window *window);

#endif
