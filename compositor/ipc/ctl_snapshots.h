/* The control commands about snapshots: snapshot, snapshots, revert,
 * snapshot-delete (vm_manager.h, <vitrail/vmm_snapshot.h>). */
#ifndef VITRAIL_CTL_SNAPSHOTS_H
#define VITRAIL_CTL_SNAPSHOTS_H

struct ctl_client;
struct json_object;
struct server;

struct json_object *ctl_snapshots_list(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_snapshots_take(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_snapshots_revert(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_snapshots_delete(
	struct ctl_client *client, struct server *server, struct json_object *request);

#endif
