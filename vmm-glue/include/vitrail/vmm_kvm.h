/*
 * Is KVM usable by QEMU here? /dev/kvm opening, or even running a raw
 * KVM_RUN test, is not enough: on some hosts QEMU itself dies at once
 * under `-accel kvm -cpu host` (an MSR it cannot set) or hangs. So the
 * probe runs the same QEMU binary with the machine, accelerator and -cpu
 * flags a VM gets (VMM_KVM_PROBE_FLAGS) on a 64 KiB firmware that writes
 * one byte to an isa-debug-exit port; KVM is usable when QEMU exits with
 * the status that byte gives within VMM_KVM_PROBE_DEADLINE_MS.
 *
 * The answer is cached per boot of the host, per QEMU binary (path,
 * inode, size, mtime): in the process, and in
 * $XDG_CACHE_HOME/vitrail/kvm-probe-HASH (~/.cache when unset), which a
 * new boot (another /proc/sys/kernel/random/boot_id) invalidates.
 */
#ifndef VITRAIL_VMM_KVM_H
#define VITRAIL_VMM_KVM_H

#include <stdbool.h>

#define VMM_KVM_PROBE_DEADLINE_MS 5000
/* What a KVM VM gets on its QEMU command line, and what the probe runs. */
#define VMM_KVM_MACHINE "q35"
#define VMM_KVM_CPU "host"

/*
 * true: VMs started with `qemu` (a path or a name looked up in PATH) may
 * use KVM. *why (if not NULL) is set either way to a static,
 * human-readable sentence ("cannot open /dev/kvm", "QEMU under KVM: failed
 * to set MSR 0x10a to 0x69", ...), valid until the next call.
 */
bool vmm_kvm_usable(const char *qemu, const char **why);

/* A VM that KVM was chosen for died or made no progress under it: remember
 * for the rest of this boot that KVM is unusable with `qemu`, and why. */
void vmm_kvm_mark_unusable(const char *qemu, const char *why);

/* What QEMU said (its stderr, NUL-terminated, changed in place): the first
 * "error: " line, else the first non-empty one, without the program-name
 * prefix; NULL when there is nothing. */
const char *vmm_qemu_message(char *output);

#endif
