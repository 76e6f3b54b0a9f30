/*
 * Taskbars: wlr-foreign-toplevel-management-v1 (wlroots 0.15 implements
 * it), so bars such as waybar's wlr/taskbar list every window and can
 * activate, minimize, maximize, fullscreen and close them. Guest windows
 * are listed as "[vm] title" with the app id "vitrail-VM-APPID" (the name
 * of the host menu entry of that app, so a bar finds its icon there;
 * "vitrail-VM" when the app gave none); host windows as they are.
 * A request from a bar is the user's: activation may focus a window of any
 * VM and shows a minimized one.
 */
#ifndef VITRAIL_TASKBAR_H
#define VITRAIL_TASKBAR_H

struct server;
struct taskbar;

struct taskbar *taskbar_create(struct server *server);
void taskbar_destroy(struct taskbar *taskbar);

#endif
