#!/bin/bash
# An AppVM of the real Debian 12 template (suite 'vm'), under the default
# accelerator (accel = auto: KVM when it works, else TCG), booted with
# systemd; its agent is started by its systemd user unit.
#  1. `vitrailctl create` makes "work" (blue) of the template: a [vm work]
#     section added to the config (its comments kept) and a private volume
#     in $XDG_DATA_HOME/vitrail/vms/work/;
#  2. work boots: its autostarted foot window comes up; the template cannot
#     start while work runs;
#  3. `vitrailctl run` returns the command's status; a GTK app (mousepad)
#     started with it shows a window; every window is framed in blue;
#     `vitrailctl set work memory 768` while it runs shrinks the guest's
#     MemTotal through the virtio balloon;
#  4. files are written under /home (the private volume) and /etc (the
#     throw-away root);
#  5. `vitrailctl stop` powers it off through ACPI (the guest's kernel
#     prints "reboot: Power down"); its root overlay is gone;
#  6. work boots again: the /home file is there, the /etc file is not;
#  7. the template boots while work is stopped, and then neither work nor
#     the disposable scratch (disposable-of = debian-12) can start.
# Also: create's private.qcow2 is qcow2, the stopped AppVM can be
# snapshotted; clone copies the volume and remove takes the clone again.
# Figures on stderr: first window, stop time, disk per VM, QEMU RSS.
#
# The template: VITRAIL_TEST_TEMPLATE (a directory with disk.qcow2, vmlinuz,
# initrd.img; tools/dev test builds it), else, as root,
# tools/guest-template build debian-12 (cached), else the cached one.
# The test never writes to it: its template VM boots a qcow2 overlay of it.
# Exit 77 (skip) without qemu-system-x86_64 or a template.
: "${TEST_LIB:?run through meson test}"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "qemu-system-x86_64 is not installed: skipped"
	exit 77
fi
export E2E_TIMEOUT=${VM_TIMEOUT:-150}
. "$TEST_LIB/harness.sh" || exit 2
export XDG_DATA_HOME=$T/data

vm_cleanup_extra() {
	[ -n "${RUN_PID:-}" ] && kill "$RUN_PID" 2>/dev/null
	true
}
. "$TEST_LIB/vm.sh" || exit 2
debian_template

# the test's template: a thin overlay of the cached one
qemu-img create -q -f qcow2 -b "$tdir/disk.qcow2" -F qcow2 "$T/template.qcow2" ||
	fail "qemu-img create of the template overlay failed"
write_config "$T/vitrail.ini" <<INI
# vitrail test config: this comment and the [input] section must survive
[vm debian-12]
label = gray
type = qemu
image = $T/template.qcow2
kernel = $tdir/vmlinuz
initrd = $tdir/initrd.img
append = root=/dev/vda rw console=ttyS0
memory = 1024
cpus = 2

# a disposable of the template: the same overlay mechanism, no private volume
[vm scratch]
label = red
type = qemu
disposable-of = debian-12
memory = 1024

# keep this comment
[input]
repeat-rate = 30
INI
cp "$T/vitrail.ini" "$T/vitrail.ini.orig"

# ---- 1. create
ctl --config "$T/vitrail.ini" create work --template debian-12 --label blue --memory 1024 \
	--cpus 2 >"$T/create.out" || fail "vitrailctl create failed"
vmdir=$XDG_DATA_HOME/vitrail/vms/work
[ -f "$vmdir/private.qcow2" ] || fail "no private volume $vmdir/private.qcow2"
qemu-img info "$vmdir/private.qcow2" | grep -qx "file format: qcow2" ||
	fail "the private volume is not qcow2: $(qemu-img info "$vmdir/private.qcow2")"
head -n "$(wc -l <"$T/vitrail.ini.orig")" "$T/vitrail.ini" | cmp -s - "$T/vitrail.ini.orig" || fail "create changed the lines before its section"
grep -qx "template = debian-12" "$T/vitrail.ini" || fail "no template line: $(cat "$T/vitrail.ini")"
rc=0
ctl --config "$T/vitrail.ini" create work --template debian-12 --label red 2>/dev/null || rc=$?
[ $rc -eq 1 ] || fail "a second create of work returned $rc"
"$VITRAIL" --check-config --config "$T/vitrail.ini" >/dev/null || fail "config refused"
log "disk per VM after create: $(du -sh "$vmdir" | cut -f1) ($vmdir)"

start_vitrail "$T/vitrail.ini"
# (the pools are sealed memfds held by each QEMU: nothing to clean up)

check_frames() {
	local args
	ctl windows --json >"$T/windows.json" || fail "vitrailctl windows failed"
	while read -r args; do
		# shellcheck disable=SC2086
		pixels "$1" frame $args
	done < <($PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
for i, w in enumerate(d):
    ign = ""
    for a in d[:i]:
        ign += " --ignore %d %d %d %d" % (a["x"] - 4, a["y"] - 28, a["width"] + 8, a["height"] + 32)
    print("%d %d %d %d %s%s" % (w["x"], w["y"], w["width"], w["height"], w["label"][1:], ign))
' "$T/windows.json")
}

# ---- 2. boot; the template is refused meanwhile
overlay=$XDG_RUNTIME_DIR/vitrail/vms/work.overlay.qcow2
t_start=$SECONDS
ctl start work >/dev/null || fail "vitrailctl start work failed"
[ -f "$overlay" ] || fail "no root overlay $overlay"
rc=0
ctl start debian-12 2>"$T/tmpl.err" || rc=$?
[ $rc -ne 0 ] || fail "the template started while its AppVM runs"
grep -q "template of work" "$T/tmpl.err" || fail "unclear refusal: $(cat "$T/tmpl.err")"
wait_windows work 1
log "AppVM first window (foot) $((SECONDS - t_start)) s after start"
wait_state work running
PID=$(vm_field work pid)
tr '\0' '\n' <"/proc/$PID/cmdline" >"$T/cmdline"
grep -qx "file=$overlay,format=qcow2,if=none,id=vtroot" "$T/cmdline" || fail "root is not the overlay"
grep -qx "file=$vmdir/private.qcow2,format=qcow2,if=none,id=vtprivate" "$T/cmdline" ||
	fail "no private volume on QEMU's command line: $(cat "$T/cmdline")"

# ---- 3. run; a GTK app; frames
rc=0
ctl run work -- sh -c 'exit 7' || rc=$?
[ $rc -eq 7 ] || fail "run 'exit 7' returned $rc"
# (run gives the exit status, not the output)
ctl run work -- sh -c 'mountpoint -q /rw && [ "$(findmnt -n -o SOURCE /rw)" = /dev/vdb ] &&
	findmnt -n -o SOURCE /home | grep -q "^/dev/vdb\[/home\]$"' ||
	fail "/home is not on the private volume (/dev/vdb mounted on /rw)"
t_gtk=$SECONDS
timeout "$E2E_TIMEOUT" "$VITRAILCTL" run work -- mousepad >/dev/null 2>&1 &
RUN_PID=$!
wait_windows work 2
log "GTK app (mousepad) window $((SECONDS - t_gtk)) s after run"
sleep 1
screenshot "$T/1.ppm"
check_frames "$T/1.ppm"
json_check "$T/windows.json" 'sorted(w["label"] for w in d) == ["#3465a4", "#3465a4"]'

# ---- 3b. set memory on the running VM: the balloon takes it now
ctl run work -- awk '/MemTotal/ { exit !($2 > 900000) }' /proc/meminfo ||
	fail "MemTotal is not about 1024 MiB at first"
ctl --config "$T/vitrail.ini" set work memory 768 >"$T/set.out" || fail "vitrailctl set memory failed"
grep -q "balloon target 768 MiB" "$T/set.out" || fail "set memory did not balloon: $(cat "$T/set.out")"
grep -qx "memory = 768" "$T/vitrail.ini" || fail "set memory did not write the config"
t_balloon=$SECONDS
until ctl run work -- awk '/MemTotal/ { exit !($2 < 800000) }' /proc/meminfo; do
	[ $((SECONDS - t_balloon)) -lt 60 ] || fail "the guest's MemTotal did not shrink to 768 MiB"
	sleep 1
done
log "balloon to 768 MiB: the guest's MemTotal shrank within $((SECONDS - t_balloon)) s"

# ---- 4. write /home and /etc
ctl run work -- sh -c 'echo kept >/home/user/kept.txt && sudo sh -c "echo gone >/etc/vitrail-gone" && sync' ||
	fail "writing the test files failed"
log "QEMU RSS: $(awk '/VmRSS/ {print $2, $3}' "/proc/$PID/status")"

# ---- 5. stop through ACPI
t_stop=$SECONDS
ctl stop work >"$T/stop.out" || fail "vitrailctl stop work failed"
log "stop took $((SECONDS - t_stop)) s"
[ "$(vm_field work reason)" = stopped ] || fail "work: $(vm_field work reason)"
for _ in $(seq 50); do alive "$PID" || break; sleep 0.1; done
alive "$PID" && fail "QEMU still runs after stop"
grep -q "reboot: Power down" "$XDG_RUNTIME_DIR/vitrail/vms/work.console.log" ||
	fail "the guest did not power itself down (ACPI)"
[ ! -e "$overlay" ] || fail "the root overlay outlived the VM"
wait "$RUN_PID" 2>/dev/null || true
RUN_PID=
wait_windows work 0
log "disk per VM: $(du -sh "$vmdir" | cut -f1) ($vmdir)"
# an AppVM create made can be snapshotted (its volume is qcow2)
ctl snapshot work before >/dev/null || fail "snapshot of the stopped AppVM failed"
ctl snapshots work --json >"$T/snaps.json" || fail "vitrailctl snapshots failed"
json_check "$T/snaps.json" '[s["name"] for s in d["snapshots"]] == ["before"]'
ctl snapshot-delete work before >/dev/null || fail "snapshot-delete failed"

# ---- 6. start again: /home kept, /etc not
t_start=$SECONDS
ctl start work >/dev/null || fail "vitrailctl start work (again) failed"
wait_windows work 1
log "AppVM first window $((SECONDS - t_start)) s after the second start"
ctl run work -- grep -qx kept /home/user/kept.txt || fail "the /home file did not survive"
rc=0
ctl run work -- test -e /etc/vitrail-gone || rc=$?
[ $rc -eq 1 ] || fail "the /etc file survived the restart (test -e returned $rc)"
t_stop=$SECONDS
ctl stop work >/dev/null || fail "vitrailctl stop work (again) failed"
log "second stop took $((SECONDS - t_stop)) s"

# ---- 7. the template runs; its AppVM is refused
ctl start debian-12 >/dev/null || fail "vitrailctl start debian-12 failed"
wait_state debian-12 running
rc=0
ctl start work 2>"$T/work.err" || rc=$?
[ $rc -ne 0 ] || fail "work started while its template runs"
grep -q "template debian-12 is running" "$T/work.err" || fail "unclear refusal: $(cat "$T/work.err")"
rc=0
ctl start scratch 2>"$T/scratch.err" || rc=$?
[ $rc -ne 0 ] || fail "the disposable scratch started while its template runs"
grep -q "template debian-12 is running" "$T/scratch.err" || fail "unclear refusal: $(cat "$T/scratch.err")"
kill -KILL "$(vm_field debian-12 pid)"
wait_state debian-12 crashed

# clone copies the volume (same name and format); remove takes it again
stop_vitrail
cp "$T/vitrail.ini" "$T/vitrail.ini.before-clone"
ctl --config "$T/vitrail.ini" clone work work2 >/dev/null || fail "vitrailctl clone failed"
grep -qx "private = $XDG_DATA_HOME/vitrail/vms/work2/private.qcow2" "$T/vitrail.ini" ||
	fail "the clone's section names no private.qcow2 of its own"
cmp -s "$vmdir/private.qcow2" "$XDG_DATA_HOME/vitrail/vms/work2/private.qcow2" ||
	fail "clone did not copy the private volume"
ctl --config "$T/vitrail.ini" remove work2 >/dev/null || fail "vitrailctl remove work2 failed"
cmp -s "$T/vitrail.ini" "$T/vitrail.ini.before-clone" || fail "remove of the clone left the config changed"
# remove refuses nothing here (work is stopped) and takes the files
ctl --config "$T/vitrail.ini" remove work >/dev/null || fail "vitrailctl remove work failed"
[ ! -e "$vmdir" ] || fail "remove left $vmdir"
cmp -s "$T/vitrail.ini" "$T/vitrail.ini.orig" || fail "remove did not restore the config: $(diff "$T/vitrail.ini.orig" "$T/vitrail.ini")"
pass
