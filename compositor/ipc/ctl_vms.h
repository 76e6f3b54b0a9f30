/* The control commands about VMs: vms, start, stop, pause, resume, run, logs. */
#ifndef VITRAIL_CTL_VMS_H
#define VITRAIL_CTL_VMS_H

struct ctl_client;
struct json_object;
struct server;
struct vm_link;

/* The VM of the request's "vm"; NULL and *reply if there is none. */
struct vm_link *ctl_vm_arg(
	struct server *server, struct json_object *request, struct json_object **reply);

struct json_object *ctl_vms_list(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_vms_start(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_vms_stop(
	struct ctl_client *client, struct server *server, struct json_object *request);
/* pause / resume VM: a paused VM keeps its windows, dimmed (vm_manager.h) */
struct json_object *ctl_vms_suspend(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_vms_pause(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_vms_resume(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_vms_run(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_vms_balloon(
	struct ctl_client *client, struct server *server, struct json_object *request);
struct json_object *ctl_vms_logs(
	struct ctl_client *client, struct server *server, struct json_object *request);

#endif
