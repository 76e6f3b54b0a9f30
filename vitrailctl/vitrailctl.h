/*
 * vitrailctl's connection to the control socket, shared by its commands
 * (vitrailctl.c, vitrailctl_open.c).
 */
#ifndef VITRAIL_VITRAILCTL_H
#define VITRAIL_VITRAILCTL_H

#include <stdbool.h>
#include <stddef.h>

/* Connect to the control socket at path; timeout_s bounds each send
 * and receive (0: none). Prints why on failure ("vitrail is not running"
 * when nothing listens) and returns -1. */
int vitrailctl_connect(const char *path, int timeout_s);

#endif
