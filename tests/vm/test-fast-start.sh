#!/bin/bash
# Fast start (fast-start = true) with the quick test guest image as the
# template (busybox initramfs, weston-simple-shm):
#  1. the first start of an AppVM boots its guest "late" (no private disk,
#     vitrail.hold=1) and records the template's booted state once its agent
#     is up, then hot-plugs its private disk: the window appears, the disk
#     is there (serial vitrail-private), the guest was told to hold;
#  2. the next start, 12 s later, restores the booted state instead of
#     booting: the window appears, the VM's own private volume is plugged
#     (what it wrote is there), the guest never booted again (no second
#     boot in its console log), its clock is the host's again (it stood
#     still since the state was recorded); it can be suspended and
#     restored (its processes run on, its volume is there);
#  3. a disposable of the same template starts from the same booted state,
#     with no private disk, while the AppVM runs;
#  4. a new template version (its image changed): the next start boots and
#     records anew, the stale state is removed;
#  5. a booted state that cannot be loaded: removed, the VM boots instead;
#  6. vitrail restarted: the running AppVM is re-attached and activated
#     again (its guest may not have been); preload = 1 on the template: a
#     disposable is
#     preloaded (state "preloaded", no window); starting it takes it (its
#     window comes), and the other disposable is preloaded in its place;
#     suspend and pause refuse a preloaded one; stopping a preloaded one
#     leaves it stopped; resume takes one too; vitrail's exit ends the
#     preloaded QEMU;
#  7. a fast-start VM whose network goes through a service VM that is not
#     ready (this guest applies no rules): its hot-plugged NIC has no
#     carrier, after the recording start and after a restored one.
# Needs: GUEST_IMAGE (tools/guest-image), IMAGE_OUT, AGENT, plus what
# tests/lib/harness.sh needs. Exit 77 without qemu-system-x86_64.
: "${TEST_LIB:?run through meson test}"
command -v qemu-system-x86_64 >/dev/null || {
	echo "qemu-system-x86_64 is not installed: skipped"
	exit 77
}
export E2E_TIMEOUT=${VM_TIMEOUT:-150}
. "$TEST_LIB/harness.sh" || exit 2
: "${GUEST_IMAGE:?}" "${IMAGE_OUT:?}" "${AGENT:?}"
export VITRAIL_AGENT=$AGENT XDG_DATA_HOME=$T/data
. "$TEST_LIB/vm.sh" || exit 2

quick_image
qemu-img create -q -f qcow2 "$T/root.qcow2" 64M || fail "qemu-img create root"
truncate -s 16M "$T/private.raw"
# the template: the quick guest's kernel with an empty disk
TPL="[vm tpl]
label = gray
type = qemu
image = $T/root.qcow2
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = console=ttyS0 quiet panic=-1 vitrail.cmd=weston-simple-shm
memory = 256
pool-size = 16"
write_config "$T/vitrail.ini" <<INI
$TPL

[vm work]
label = blue
type = qemu
template = tpl
private = $T/private.raw
memory = 256
pool-size = 16
fast-start = true

[vm disp]
label = red
type = qemu
disposable-of = tpl
memory = 256
pool-size = 16
fast-start = true
INI
start_vitrail "$T/vitrail.ini"
BOOTED=$XDG_DATA_HOME/vitrail/vms/tpl
CONSOLE=$XDG_RUNTIME_DIR/vitrail/vms/work.console.log
booted_states() { ls "$BOOTED" 2>/dev/null | grep -c '^booted-.*\.state$'; }
state_is() { [ "$(vm_field "$1" state)" = "$2" ]; }
# a QEMU gone (or a zombie its detached parent has not reaped)
qemu_gone() {
	for _ in $(seq 100); do
		alive "$1" && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ] || return 0
		sleep 0.1
	done
	fail "QEMU $1 still runs"
}
in_vm() { # VM SHELL-CMD: its exit status
	ctl run "$1" -- sh -c "$2" >/dev/null
}

# 1. first start: boots late, records, plugs
[ "$(vm_field work booted_state)" = None ] || fail "a booted state before any start"
ctl start --wait work >/dev/null || fail "start work"
wait_windows work 1
wait_state work running
wait_line "$VITRAIL_ERR" "\\[vm work\\] recorded the booted state" ||
	fail "no booted state recorded"
[ "$(booted_states)" = 1 ] || fail "booted states: $(ls "$BOOTED")"
[ "$(vm_field work booted_state)" = "$(ls "$BOOTED"/booted-*.state)" ] ||
	fail "vms --json names another booted state: $(vm_field work booted_state)"
ls "$BOOTED"/booted-*.state.overlay >/dev/null || fail "no overlay kept with the booted state"
in_vm work 'grep -q vitrail.hold=1 /proc/cmdline' || fail "the guest was not held"
in_vm work '[ "$(cat /sys/block/vdb/serial)" = vitrail-private ]' ||
	fail "no private disk hot-plugged"
in_vm work 'echo hello-private | dd of=/dev/vdb bs=512 count=1 conv=notrunc 2>/dev/null && sync' ||
	fail "cannot write the private disk"
first=$(cat "$BOOTED"/booted-*.state | md5sum)
ctl stop work >/dev/null || fail "stop work"
wait_state work stopped

# 2. second start: from the booted state
sleep 12
ctl start --wait work >/dev/null || fail "start work again"
wait_windows work 1
wait_line "$VITRAIL_ERR" "\\[vm work\\] starting from the booted state" ||
	fail "not started from the booted state"
in_vm work '[ "$(dd if=/dev/vdb bs=13 count=1 2>/dev/null)" = hello-private ]' ||
	fail "the private volume is not the VM's own after the restore"
grep -q "Linux version" "$CONSOLE" && fail "the restored VM booted (console: $(head -n 3 "$CONSOLE"))"
now=$(date +%s)
in_vm work "d=\$((\$(date +%s) - $now)); [ \$d -ge -4 ] && [ \$d -le 4 ]" ||
	fail "the restored guest's clock is off by more than 4 s"
[ "$(cat "$BOOTED"/booted-*.state | md5sum)" = "$first" ] || fail "the booted state changed"
# 2b. suspend and restore the restored VM (its devices were hot-plugged:
# the restore's command line must lay them out the same)
in_vm work 'sleep 100000 </dev/null >/dev/null 2>&1 & echo $! >/tmp/sleeper' ||
	fail "cannot start the sleeper"
ctl suspend work >/dev/null || fail "suspend of the fast-started work failed"
ctl start --wait work >/dev/null || fail "restore of the fast-started work failed"
wait_windows work 1
in_vm work 'kill -0 "$(cat /tmp/sleeper)"' || fail "the suspended work did not come back as it was"
in_vm work '[ "$(dd if=/dev/vdb bs=13 count=1 2>/dev/null)" = hello-private ]' ||
	fail "the private volume is not there after suspend and restore"
[ "$(booted_states)" = 1 ] || fail "booted states after the restore: $(ls "$BOOTED")"

# 3. a disposable from the same state, next to the AppVM
ctl start --wait disp >/dev/null || fail "start disp"
wait_windows disp 1
grep -c "\\[vm disp\\] starting from the booted state" "$VITRAIL_ERR" >/dev/null ||
	fail "the disposable did not start from the booted state"
in_vm disp '[ "$(ls /sys/block | grep -c ^vd)" = 1 ]' ||
	fail "the disposable has more than its root disk"
wait_windows work 1
ctl stop disp >/dev/null || fail "stop disp"
ctl stop work >/dev/null || fail "stop work (2)"

# 4. a new template version: boot and record anew
old=$(ls "$BOOTED" | grep '\.state$')
touch -d '+1 minute' "$T/root.qcow2"
ctl start --wait work >/dev/null || fail "start work (new template)"
wait_windows work 1
[ "$(grep -c "\\[vm work\\] recorded the booted state" "$VITRAIL_ERR")" = 2 ] ||
	fail "no new booted state for the new template version"
[ "$(booted_states)" = 1 ] && [ "$(ls "$BOOTED" | grep '\.state$')" != "$old" ] ||
	fail "the stale booted state is still there: $(ls "$BOOTED")"
ctl stop work >/dev/null || fail "stop work (3)"

# 5. a booted state that does not load: removed, the VM boots
state=$(ls "$BOOTED"/booted-*.state)
head -c 4096 /dev/urandom >"$state"
ctl start --wait work >/dev/null || fail "start work (broken state)"
wait_windows work 1
wait_line "$VITRAIL_ERR" "\\[vm work\\] starting from the booted state failed" ||
	fail "the broken state was not noticed"
[ "$(grep -c "\\[vm work\\] recorded the booted state" "$VITRAIL_ERR")" = 3 ] ||
	fail "no booted state recorded after the broken one"
in_vm work '[ "$(dd if=/dev/vdb bs=13 count=1 2>/dev/null)" = hello-private ]' ||
	fail "the private volume is not the VM's own after the fallback"

# 6. preloaded disposables (and work re-attached: activated again)
stop_vitrail
sed -i '/^\[vm tpl\]$/a preload = 1' "$T/vitrail.ini"
cat >>"$T/vitrail.ini" <<INI

[vm disp2]
label = orange
type = qemu
disposable-of = tpl
memory = 256
pool-size = 16
fast-start = true
INI
start_vitrail "$T/vitrail.ini"
wait_line "$VITRAIL_ERR" "\\[vm work\\] re-attached" || fail "work was not re-attached"
wait_windows work 1
wait_line "$VITRAIL_ERR" "\\[vm work\\] fast start: itself" || fail "work was not activated again"
in_vm work '[ "$(dd if=/dev/vdb bs=13 count=1 2>/dev/null)" = hello-private ]' ||
	fail "the re-attached work lost its private volume"
ctl stop work >/dev/null || fail "stop work (6)"
wait_for "disp preloaded" state_is disp preloaded
[ "$(windows_of disp)" = 0 ] || fail "a preloaded disposable shows a window"
[ "$(vm_field disp2 state)" = stopped ] || fail "disp2 is $(vm_field disp2 state), not stopped"
ctl start disp >/dev/null || fail "start the preloaded disp"
wait_windows disp 1
wait_line "$VITRAIL_ERR" "\\[vm disp\\] taking the preloaded disposable" || fail "disp was not taken"
wait_for "disp2 preloaded in its place" state_is disp2 preloaded
pid2=$(vm_field disp2 pid)
ctl suspend disp2 2>"$T/susp.err" && fail "a preloaded disposable was suspended"
grep -q "disp2 is preloaded" "$T/susp.err" || fail "suspend said: $(cat "$T/susp.err")"
ctl pause disp2 2>"$T/pause.err" && fail "a preloaded disposable was paused"
grep -q "disp2 is preloaded" "$T/pause.err" || fail "pause said: $(cat "$T/pause.err")"
ctl stop disp2 >/dev/null || fail "stop the preloaded disp2"
qemu_gone "$pid2"
sleep 2
[ "$(vm_field disp2 state)" = stopped ] || fail "disp2 after its stop: $(vm_field disp2 state)"
ctl stop disp >/dev/null || fail "stop disp (6)"
wait_for "disp preloaded again" state_is disp preloaded
ctl resume disp >/dev/null || fail "resume of the preloaded disp"
wait_windows disp 1
[ "$(grep -c "\\[vm disp\\] taking the preloaded disposable" "$VITRAIL_ERR")" = 2 ] ||
	fail "resume did not take the preloaded disp"
ctl stop disp >/dev/null || fail "stop disp (6b)"
wait_for "disp preloaded again" state_is disp preloaded
pid1=$(vm_field disp pid)
stop_vitrail
qemu_gone "$pid1"
# 7. a NIC to a service VM that is not ready stays down
write_config "$T/net.ini" <<INI
$TPL

[vm svc]
label = gray
type = qemu
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = console=ttyS0 quiet panic=-1 vitrail.cmd=true
service = net
network = user
memory = 256
pool-size = 16

[vm netc]
label = blue
type = qemu
template = tpl
network = via:svc
memory = 288
pool-size = 16
fast-start = true
INI
start_vitrail "$T/net.ini"
# shellcheck disable=SC2016 # for the guest's shell
carrier='for n in /sys/class/net/*; do [ "${n##*/}" = lo ] && continue; ip link set "${n##*/}" up; done
sleep 1
for n in /sys/class/net/*; do [ "${n##*/}" = lo ] && continue; [ "$(cat "$n/carrier")" = 1 ] && exit 0; done
exit 1'
for round in recording restored; do
	ctl start --wait netc >/dev/null || fail "start netc ($round)"
	wait_windows netc 1
	in_vm netc 'ls /sys/class/net | grep -qv "^lo$"' || fail "netc has no NIC ($round)"
	in_vm netc "$carrier" && fail "netc's NIC has a carrier while its service VM is not ready ($round)"
	ctl stop netc >/dev/null || fail "stop netc ($round)"
done
grep -q "\\[vm netc\\] starting from the booted state" "$VITRAIL_ERR" || fail "netc was not restored"
stop_vitrail
grep -E "fast start: itself after|recorded the booted state|starting from the booted state|preloaded after|taking the preloaded" \
	"$T"/vitrail-*.err | sed 's/^/  /' >&2
pass
