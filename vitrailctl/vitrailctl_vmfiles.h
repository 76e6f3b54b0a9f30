/*
 * vitrailctl create, remove, clone and set: AppVMs as files (the config
 * file's [vm NAME] section and the VM's directory), without the compositor.
 */
#ifndef VITRAIL_VITRAILCTL_VMFILES_H
#define VITRAIL_VITRAILCTL_VMFILES_H

#include <stdbool.h>

/* args: what follows the command name. Exit status as vitrailctl's. */
/* Does a QEMU of VM name run (its pidfile in $XDG_RUNTIME_DIR/vitrail/vms
 * names a live process)? */
bool vitrailctl_vm_running(const char *name);
int vitrailctl_vmfiles_run(const char *config_option, const char *command, char **args, int n_args);

#endif
