/*
 * `vitrailctl open (VM | --auto) [--type MIME] FILE|URL`: the host side of
 * open-in-VM. The file's bytes follow the request line on the control
 * socket (bounded memory on both sides: vitrail stops reading while the
 * target VM is busy); a URL travels in the request.
 */
#ifndef VITRAIL_VITRAILCTL_OPEN_H
#define VITRAIL_VITRAILCTL_OPEN_H

/* Exit status 3: denied (by the policy) or cancelled (by the user). */
#define VITRAILCTL_OPEN_DENIED 3

/* Run the command; args are what follows "open". Returns the exit status. */
int vitrailctl_open_run(const char *socket_path, char **args, int n_args);

#endif
