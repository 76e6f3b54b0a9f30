/* The control commands of the app menus: menus-sync, run-app. */
#ifndef VITRAIL_CTL_APPS_H
#define VITRAIL_CTL_APPS_H

struct ctl_client;
struct json_object;
struct server;

struct json_object *ctl_apps_menus_sync(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_apps_run_app(
	struct ctl_client *client, struct server *server, struct json_object *request);

#endif
