/*
 * The chooser of the @ask open target: a host-drawn panel in the middle of
 * the first output, above every window, that says which VM asks to open
 * what and lists the VMs in their label colors. Keys 1..9 pick a VM,
 * Escape cancels; a click on a row picks it, a click elsewhere on the
 * panel does nothing. While it is shown it has the keyboard: no window
 * gets keys. One question at a time; the next waits in line.
 */
#ifndef VITRAIL_OPEN_CHOOSER_H
#define VITRAIL_OPEN_CHOOSER_H

#include <stdbool.h>
#include <stdint.h>

struct open_chooser;
struct open_router;
struct server;
struct wlr_scene_node;

#define OPEN_CHOOSER_MAX_QUEUED 8
#define OPEN_CHOOSER_WIDTH 480
#define OPEN_CHOOSER_ROW_HEIGHT 32
#define OPEN_CHOOSER_HEADER_HEIGHT 64
#define OPEN_CHOOSER_MAX_ROWS 9 /* keys 1..9 */
/* The panel's background and frame (host colors, never a palette color). */
#define OPEN_CHOOSER_BACKGROUND_RGB 0x2e3436u
#define OPEN_CHOOSER_BORDER_RGB 0xeeeeecu

struct open_chooser *open_chooser_create(struct server *server, struct open_router *router);
void open_chooser_destroy(struct open_chooser *chooser);

/*
 * Ask where to open something. source: the asking VM's name (or "host");
 * what: a short description for the user (sanitized here). The answer
 * comes through open_chosen(router, transfer, link or NULL). false when
 * the question cannot be asked (no output, too many waiting).
 */
bool open_chooser_ask(
	struct open_chooser *chooser, void *transfer, const char *source, const char *what);
/* The transfer is gone: drop its question (shown or waiting). */
void open_chooser_forget(struct open_chooser *chooser, void *transfer);

/* Input while a question is shown (seat.c). true: the chooser took it. */
bool open_chooser_active(const struct open_chooser *chooser);
bool open_chooser_handle_key(struct open_chooser *chooser, uint32_t keysym, bool pressed);
/* A button press at layout coordinates; true when it was on the panel. */
bool open_chooser_handle_button(struct open_chooser *chooser, double lx, double ly, bool pressed);

#endif
