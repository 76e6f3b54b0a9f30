#!/bin/bash
# Snapshots of a qemu VM (suite 'vm'), on the quick test guest (busybox
# initramfs, weston-simple-shm) with a qcow2 private volume, its only disk
# (/dev/vda in the guest):
#  1. refusals: bad names, a local VM, a raw private volume, a VM without
#     a disk, an unknown VM;
#  2. stopped: `vitrailctl snapshot` (qemu-img) puts s0 on the volume
#     (qemu-img snapshot -l agrees); a second s0 is refused; while a slow
#     qemu-img runs vitrail answers at once, and the VM cannot start nor
#     take a second snapshot;
#  3. running: a file in the guest's RAM (/tmp/f) and bytes on its disk say
#     "before"; snapshot s1 (disks and RAM); both changed to "after";
#     revert s1: the window goes and comes back, both say "before" again;
#     s0 (no RAM) cannot be reverted while it runs; a paused VM stays
#     paused through a snapshot and is resumed by a revert;
#  4. snapshot-delete s1 (running) removes it from the volume;
#  5. stopped again: revert s0 brings the disk back to its zeros (read on
#     the host), snapshot-delete s0 empties the list;
#  6. a template (its own qcow2 image) snapshotted before an "upgrade"
#     (bytes written to its disk) and reverted after it: the disk is as
#     before; while its AppVM runs, the template's snapshots are refused;
#  7. the AppVM's snapshot while it runs covers its overlay and private
#     volume with RAM; after its stop only the private volume's part
#     remains (no RAM).
# Figures on stderr: snapshot and revert times while running.
# Exit 77 (skip) without qemu-system-x86_64.
: "${TEST_LIB:?run through meson test}"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "qemu-system-x86_64 is not installed: skipped"
	exit 77
fi
export E2E_TIMEOUT=${VM_TIMEOUT:-150}
. "$TEST_LIB/harness.sh" || exit 2
: "${GUEST_IMAGE:?}" "${IMAGE_OUT:?}" "${AGENT:?}"
export VITRAIL_AGENT=$AGENT XDG_DATA_HOME=$T/data
. "$TEST_LIB/vm.sh" || exit 2

quick_image
for f in work tmpl app; do
	qemu-img create -q -f qcow2 "$T/$f.qcow2" 16M || fail "qemu-img create failed"
done
head -c 1048576 /dev/zero >"$T/raw.img"
APPEND="console=ttyS0 quiet panic=-1 vitrail.cmd=weston-simple-shm"
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
type = qemu
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = $APPEND
private = $T/work.qcow2
memory = 256
pool-size = 16

[vm rawvm]
label = red
type = qemu
kernel = $image/vmlinuz
initrd = $image/initrd.img
private = $T/raw.img

[vm diskless]
label = green
type = qemu
kernel = $image/vmlinuz
initrd = $image/initrd.img

[vm tmpl]
label = purple
type = qemu
image = $T/tmpl.qcow2
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = $APPEND
memory = 256
pool-size = 16

[vm app]
label = yellow
type = qemu
template = tmpl
private = $T/app.qcow2
memory = 256
pool-size = 16

[vm loc]
label = gray
type = local
command = weston-simple-shm
INI
# vitrail's qemu-img: the real one, 3 s late for `snapshot` while $T/slow exists
mkdir -p "$T/bin"
real_qemu_img=$(command -v qemu-img)
cat >"$T/bin/qemu-img" <<SH
#!/bin/sh
[ "\$1" = snapshot ] && [ -e "$T/slow" ] && sleep 3
exec "$real_qemu_img" "\$@"
SH
chmod +x "$T/bin/qemu-img"
PATH=$T/bin:$PATH start_vitrail "$T/vitrail.ini"
ms() { echo $(($(date +%s%N) / 1000000)); }

# refused COMMAND... -- PATTERN: the command fails (status 1) saying PATTERN
refused() {
	local args=() rc=0
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	ctl "${args[@]}" >"$T/out" 2>"$T/err" || rc=$?
	[ $rc -eq 1 ] || fail "vitrailctl ${args[*]} returned $rc: $(cat "$T/out" "$T/err")"
	grep -q -- "$2" "$T/err" || fail "vitrailctl ${args[*]}: unclear refusal: $(cat "$T/err")"
}
# names COMMAND-ARGS: the snapshot names of `vitrailctl snapshots VM --json`
names() {
	ctl snapshots "$1" --json >"$T/snaps.json" || fail "vitrailctl snapshots $1 failed"
	json_get "$T/snaps.json" '" ".join(s["name"] for s in d["snapshots"])'
}
# on_volume NAME: qemu-img lists NAME on work's volume
on_volume() {
	qemu-img snapshot -U -l "$T/work.qcow2" | awk 'NR > 2 { print $2 }' | grep -qx "$1"
}
# disk_head [FILE]: the first 8 bytes of work's disk (or FILE), read on the
# host (zeros dropped)
disk_head() {
	qemu-img convert -U -O raw "${1:-$T/work.qcow2}" "$T/disk.raw" || fail "qemu-img convert failed"
	head -c 8 "$T/disk.raw" | tr -d '\0'
}

# ---- 1. refusals
for bad in 1abc "a b" ".hidden" "x/y" "a,b" "$(printf 'a%.0s' $(seq 33))" "é" ""; do
	refused snapshot work "$bad" -- "bad snapshot name"
done
rc=0
ctl snapshot work -x 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "vitrailctl snapshot work -x returned $rc, want 2 (usage)"
refused snapshot loc s -- "local VM"
refused snapshots loc -- "local VM"
refused snapshot rawvm s -- "private volume $T/raw.img is raw"
refused snapshot diskless s -- "has no disk"
refused revert nosuch s -- "no VM named"
refused revert work nothere -- "has no snapshot nothere"
refused snapshot-delete work nothere -- "has no snapshot nothere"

# ---- 2. stopped: qemu-img
ctl snapshot work s0 >"$T/out" || fail "snapshot of the stopped VM failed: $(cat "$T/out")"
grep -q "work: snapshot s0 taken" "$T/out" || fail "snapshot said: $(cat "$T/out")"
on_volume s0 || fail "qemu-img does not list s0 on the volume"
[ "$(names work)" = s0 ] || fail "snapshots lists '$(names work)', want s0"
json_check "$T/snaps.json" 'd["running"] == False and d["volumes"] == [{"role": "private", "path": "'"$T"'/work.qcow2"}]'
json_check "$T/snaps.json" 'd["snapshots"][0]["ram"] == False and d["snapshots"][0]["volumes"] == ["private"] and d["snapshots"][0]["date"] > 1700000000'
refused snapshot work s0 -- "already has a snapshot s0"
ctl snapshots work | grep -q "^s0 " || fail "the snapshots table has no s0: $(ctl snapshots work)"
# a slow qemu-img blocks nothing; the VM cannot start meanwhile
touch "$T/slow"
ctl snapshot work slow >"$T/slow.out" 2>&1 &
bg=$!
sleep 0.5
t0=$(ms)
ctl vms >/dev/null || fail "vitrailctl vms failed during a snapshot"
t_vms=$(($(ms) - t0))
[ $t_vms -lt 1500 ] || fail "vitrail took $t_vms ms to answer during a qemu-img run"
refused start work -- "a snapshot command on work is in progress"
refused snapshot work other -- "another snapshot command is in progress"
wait $bg || fail "the slow snapshot failed: $(cat "$T/slow.out")"
rm "$T/slow"
on_volume slow || fail "qemu-img does not list the slow snapshot"
ctl snapshot-delete work slow >/dev/null || fail "snapshot-delete slow failed"

# ---- 3. running: disks and RAM
ctl start work >/dev/null || fail "vitrailctl start work failed"
wait_windows work 1
ctl run work -- test -b /dev/vda || fail "the guest has no /dev/vda (virtio_blk)"
ctl run work -- sh -c 'echo before >/tmp/f && printf before | dd of=/dev/vda conv=fsync 2>/dev/null' ||
	fail "writing 'before' in the guest failed"
t0=$(ms)
ctl snapshot work s1 >"$T/out" || fail "snapshot of the running VM failed: $(cat "$T/out")"
t_snap=$(($(ms) - t0))
[ "$(vm_field work state)" = running ] || fail "work is $(vm_field work state) after a snapshot"
ctl run work -- sh -c 'echo after >/tmp/f && printf after. | dd of=/dev/vda conv=fsync 2>/dev/null' ||
	fail "writing 'after' in the guest failed (the VM did not go on after the snapshot?)"
ctl run work -- grep -qx after /tmp/f || fail "the guest's file did not change"
[ "$(names work)" = "s0 s1" ] || fail "snapshots lists '$(names work)', want 's0 s1'"
json_check "$T/snaps.json" 'd["running"] == True and d["snapshots"][1]["ram"] == True and d["snapshots"][1]["vm_state_bytes"] > 0'
refused revert work s0 -- "holds no RAM"
t0=$(ms)
ctl revert work s1 >"$T/out" || fail "revert of the running VM failed: $(cat "$T/out")"
t_revert=$(($(ms) - t0))
grep -q "work: reverted to s1" "$T/out" || fail "revert said: $(cat "$T/out")"
t0=$(ms)
[ "$(windows_of work)" = 0 ] || fail "the window of the session before the revert is still there"
wait_windows work 1
t_window=$(($(ms) - t0))
ctl run work -- grep -qx before /tmp/f || fail "the guest's file is not as before the snapshot"
ctl run work -- sh -c '[ "$(head -c 6 /dev/vda)" = before ]' ||
	fail "the guest's disk is not as before the snapshot"
log "running VM (256 MiB, TCG): snapshot ${t_snap} ms, revert ${t_revert} ms, window back ${t_window} ms later"

# a paused VM stays paused through a snapshot
ctl pause work >/dev/null || fail "pause failed"
ctl snapshot work p1 >/dev/null || fail "snapshot of the paused VM failed"
[ "$(vm_field work state)" = paused ] || fail "work is $(vm_field work state) after a snapshot while paused"
# ... and a revert resumes it
ctl revert work p1 >/dev/null || fail "revert of the paused VM failed"
wait_windows work 1
[ "$(vm_field work state)" = running ] || fail "work is $(vm_field work state) after a revert while paused"
ctl run work -- true || fail "the guest does not run after a revert while paused"
ctl snapshot-delete work p1 >/dev/null || fail "snapshot-delete p1 failed"

# ---- 4. delete while running
ctl snapshot-delete work s1 >"$T/out" || fail "snapshot-delete s1 failed: $(cat "$T/out")"
[ "$(names work)" = s0 ] || fail "snapshots lists '$(names work)' after deleting s1"
on_volume s1 && fail "s1 is still on the volume"

# ---- 5. stopped again: revert and delete with qemu-img
ctl stop work >/dev/null || fail "vitrailctl stop work failed"
h=$(disk_head); [ "$h" = before ] || fail "the disk holds '$h', not 'before', after the stop"
ctl revert work s0 >"$T/out" || fail "revert of the stopped VM failed: $(cat "$T/out")"
[ "$(disk_head)" = "" ] || fail "revert s0 did not bring back the empty disk: '$(disk_head)'"
ctl snapshot-delete work s0 >/dev/null || fail "snapshot-delete s0 failed"
[ "$(names work)" = "" ] || fail "snapshots lists '$(names work)' after deleting s0"
on_volume s0 && fail "s0 is still on the volume"

# ---- 6. a template before and after an upgrade
ctl snapshot tmpl pre-upgrade >/dev/null || fail "snapshot of the stopped template failed"
ctl snapshots tmpl --json >"$T/snaps.json" || fail "snapshots tmpl failed"
json_check "$T/snaps.json" '[v["role"] for v in d["volumes"]] == ["root"] and d["snapshots"][0]["volumes"] == ["root"]'
ctl start tmpl >/dev/null || fail "vitrailctl start tmpl failed"
wait_windows tmpl 1
ctl run tmpl -- sh -c 'printf upgraded | dd of=/dev/vda conv=fsync 2>/dev/null' ||
	fail "the upgrade of the template failed"
ctl stop tmpl >/dev/null || fail "vitrailctl stop tmpl failed"
h=$(disk_head "$T/tmpl.qcow2")
[ "$h" = upgraded ] || fail "the template's disk holds '$h' after its upgrade"
ctl revert tmpl pre-upgrade >/dev/null || fail "revert of the template failed"
h=$(disk_head "$T/tmpl.qcow2")
[ "$h" = "" ] || fail "the template's disk holds '$h' after the revert"

# ---- 7. an AppVM: overlay, private volume and RAM while it runs
ctl start app >/dev/null || fail "vitrailctl start app failed"
wait_windows app 1
refused snapshot tmpl during-app -- "template of app, which is running"
ctl snapshot app a1 >/dev/null || fail "snapshot of the running AppVM failed"
ctl snapshots app --json >"$T/snaps.json" || fail "snapshots app failed"
json_check "$T/snaps.json" '[v["role"] for v in d["volumes"]] == ["overlay", "private"] and d["snapshots"][0]["volumes"] == ["overlay", "private"] and d["snapshots"][0]["ram"]'
ctl stop app >/dev/null || fail "vitrailctl stop app failed"
ctl snapshots app --json >"$T/snaps.json" || fail "snapshots app (stopped) failed"
json_check "$T/snaps.json" '[v["role"] for v in d["volumes"]] == ["private"] and [(s["name"], s["volumes"], s["ram"]) for s in d["snapshots"]] == [("a1", ["private"], False)]'
ctl revert app a1 >/dev/null || fail "revert of the stopped AppVM's private volume failed"
pass
