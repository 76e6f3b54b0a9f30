/*
 * vitrailctl create, remove, clone and set: AppVMs as files (the config
 * file's [vm NAME] section and the VM's directory), without the compositor.
 */
#ifndef VITRAIL_VITRAILCTL_VMFILES_H
#define VITRAIL_VITRAILCTL_VMFILES_H

/* args: what follows the command name. Exit status as vitrailctl's. */
int vitrailctl_vmfiles_run(const char *config_option, const char *command, char **args, int n_args);

#endif
