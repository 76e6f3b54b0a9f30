/*
 * Is KVM usable here? /dev/kvm existing is not enough (nested setups
 * without vmx/svm expose a device that cannot run a guest), so the probe
 * boots a tiny real-mode guest: it must write one byte to an I/O port and
 * halt. The probe runs in a child process with a deadline, once; the
 * result is cached.
 */
#ifndef VITRAIL_VMM_KVM_H
#define VITRAIL_VMM_KVM_H

#include <stdbool.h>

/* true: use KVM. On false, *why (if not NULL) points at a static string. */
bool vmm_kvm_usable(const char **why);

#endif
