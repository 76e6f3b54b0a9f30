/*
 * Internal qcow2 snapshots of a VM's disks, and of its RAM while it runs.
 *
 * The volumes a snapshot covers (struct vmm_snapshot_volumes), root first:
 *   - the VM's own disk (spec image), or, while QEMU runs, the overlay a
 *     disposable or AppVM boots (made at each start, deleted at stop);
 *   - its private volume (spec private_image).
 * A template's disk is an AppVM's backing file, never one of its volumes.
 * Every volume must be qcow2 (its name ends in ".qcow2"): a raw one makes
 * every snapshot command fail with an error that names it.
 *
 * A running VM (QEMU RUNNING): QEMU's monitor commands savevm, loadvm and
 * delvm (vmm_vm_hmp: QMP human-monitor-command, answered later, the
 * caller not blocked). savevm writes the disks' snapshot and the RAM and
 * device state (into the first volume) while the guest's CPUs stand
 * still, then lets it go on as it was (running or paused).
 * A stopped VM: `qemu-img snapshot -c|-a|-d` on each volume, one after the
 * other, as a job the caller watches on its event loop (nothing blocks);
 * each run is bounded by VMM_QEMU_IMG_TIMEOUT_MS (then killed).
 * Listing reads the snapshot tables of the volumes' qcow2 headers (no
 * QEMU, no qemu-img), for a running VM too.
 */
#ifndef VITRAIL_VMM_SNAPSHOT_H
#define VITRAIL_VMM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vitrail/vmm.h>

/* A name: 1..32 characters of [A-Za-z0-9._-], the first a letter (QEMU
 * also finds a snapshot by its numeric id: a name never looks like one). */
#define VMM_SNAPSHOT_NAME_MAX 32
/* More snapshots than this on one volume: listing fails. */
#define VMM_SNAPSHOTS_MAX 256
/* One qemu-img run on a stopped VM's volume. */
#define VMM_QEMU_IMG_TIMEOUT_MS 60000
#define VMM_SNAPSHOT_VOLUMES_MAX 2

bool vmm_snapshot_name_valid(const char *name);

struct vmm_snapshot_volumes {
	size_t n;
	const char *path[VMM_SNAPSHOT_VOLUMES_MAX]; /* owned by the vmm_vm */
	const char *role[VMM_SNAPSHOT_VOLUMES_MAX]; /* "root", "overlay", "private" */
};

/* The volumes of vm now (running: QEMU RUNNING, else stopped). false and
 * *error when one is raw or there is none. */
bool vmm_snapshot_volumes(
	const struct vmm_vm *vm, bool running, struct vmm_snapshot_volumes *volumes, char **error);

struct vmm_snapshot {
	char name[VMM_SNAPSHOT_NAME_MAX + 1];
	int64_t date; /* when it was taken: Unix time, s (the latest volume's) */
	uint64_t vm_state_bytes; /* RAM and device state, 0: disks only */
	uint32_t volumes; /* bit i: on volumes->path[i] */
};

/* The snapshots on vm's volumes, by date (malloc'd array, *n entries;
 * NULL and 0 for none). Snapshots whose names break the rule above (made
 * by other tools) are left out. false and *error when a volume cannot be
 * read or is not qcow2. */
bool vmm_snapshot_list(const struct vmm_vm *vm, bool running, struct vmm_snapshot_volumes *volumes,
	struct vmm_snapshot **list, size_t *n, char **error);

enum vmm_snapshot_op {
	VMM_SNAPSHOT_TAKE,
	VMM_SNAPSHOT_REVERT,
	VMM_SNAPSHOT_DELETE,
};

/*
 * A stopped VM: take (on every volume; none may hold the name; undone on
 * the ones done when one fails), revert (every volume must hold it) or
 * delete (from every volume holding it; at least one), one qemu-img run
 * per volume, one after the other, each killed after
 * VMM_QEMU_IMG_TIMEOUT_MS.
 *
 * vmm_snapshot_offline_start checks, starts the first run and returns the
 * job (NULL and *error, malloc'd, when refused). The caller polls
 * vmm_snapshot_job_fd() (the running qemu-img's output; -1 when none) for
 * input and calls vmm_snapshot_job_step() then, and when
 * vmm_snapshot_job_timeout_ms() expires (both change after each step):
 * it returns true once the job is over, *error NULL if it worked, else
 * why (malloc'd). Destroying a job kills the qemu-img it runs. The job
 * must not outlive vm.
 */
struct vmm_snapshot_job;
struct vmm_snapshot_job *vmm_snapshot_offline_start(
	struct vmm_vm *vm, enum vmm_snapshot_op op, const char *name, char **error);
int vmm_snapshot_job_fd(const struct vmm_snapshot_job *job);
int vmm_snapshot_job_timeout_ms(const struct vmm_snapshot_job *job);
bool vmm_snapshot_job_step(struct vmm_snapshot_job *job, char **error);
void vmm_snapshot_job_destroy(struct vmm_snapshot_job *job);
/* Block until the job is over (vitrail exiting); what step said. */
bool vmm_snapshot_job_wait(struct vmm_snapshot_job *job, char **error);
/* start and wait (tools and tests). */
bool vmm_snapshot_offline(
	struct vmm_vm *vm, enum vmm_snapshot_op op, const char *name, char **error);

/*
 * A running VM: the same checks, then savevm, loadvm or delvm through the
 * monitor (vmm_vm_hmp: done is called once, later; pass its ok and output
 * to vmm_snapshot_outcome). A revert needs a snapshot on every current
 * volume with RAM state: one taken during this run of a VM that boots an
 * overlay, or one taken while running of a VM with its own disk. false
 * and *error when it cannot be asked (done is then never called).
 */
bool vmm_snapshot_live(struct vmm_vm *vm, enum vmm_snapshot_op op, const char *name,
	vmm_hmp_done_fn done, void *data, char **error);
/* true when the monitor command worked (it printed nothing), else false
 * and why (one line, cut to cap). */
bool vmm_snapshot_outcome(bool ok, const char *output, char *why, size_t cap);

#endif
