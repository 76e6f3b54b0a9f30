/* The control command open: a URL, or a file streamed after the request. */
#ifndef VITRAIL_CTL_OPEN_H
#define VITRAIL_CTL_OPEN_H

struct ctl_client;
struct json_object;
struct server;

struct json_object *ctl_open(
	struct ctl_client *client, struct server *server, struct json_object *request);

#endif
