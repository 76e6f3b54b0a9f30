/*
 * The control commands: one table from a command's name to the function
 * that serves it. A command returns its reply, or NULL once it deferred
 * the client or took the connection over (ipc/ctl.h).
 */
#ifndef VITRAIL_COMMANDS_H
#define VITRAIL_COMMANDS_H

struct ctl_client;
struct json_object;
struct server;

typedef struct json_object *(*ctl_command_fn)(
	struct ctl_client *client, struct server *server, struct json_object *request);

struct ctl_command {
	const char *name;
	ctl_command_fn run;
};

/* NULL: no command of that name. */
const struct ctl_command *commands_find(const char *name);

#endif
