/*
 * Notifications from apps in VMs (protocol README section 5.8). The agent
 * forwards what guest apps send to org.freedesktop.Notifications; the host
 * shows them through its notification daemon (notify.c's bus), prefixed
 * "[vm]" and badged with the VM's label color, or as on-screen notices
 * without a daemon. Per VM: at most VM_NOTIFY_RATE per VM_NOTIFY_WINDOW_MS
 * and VM_NOTIFY_MAX_LIVE at once. Only the "default" action crosses back
 * (it focuses the VM's most recently focused window); closes and expiries
 * are reported to the guest.
 */
#ifndef VITRAIL_VM_NOTIFY_H
#define VITRAIL_VM_NOTIFY_H

#include <stdbool.h>

struct server;
struct vm_link;
struct vtp_msg;

#define VM_NOTIFY_RATE 10
#define VM_NOTIFY_WINDOW_MS 10000
#define VM_NOTIFY_MAX_LIVE 32
#define VM_NOTIFY_BADGE 4 /* pixels of label color around a guest icon */
#define VM_NOTIFY_SWATCH 16 /* size of the color square without an icon */

struct vm_notify;

struct vm_notify *vm_notify_create(struct server *server);
void vm_notify_destroy(struct vm_notify *vn);

/* NOTIFY and NOTIFY_CLOSE from a VM; false after vm_link_fail. */
bool vm_notify_handle_message(
	struct vm_notify *vn, struct vm_link *link, const struct vtp_msg *msg);

#endif
