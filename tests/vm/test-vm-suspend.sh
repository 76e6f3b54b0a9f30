#!/bin/bash
# Suspend to disk (vitrailctl suspend) of a QEMU VM booted from the quick
# test guest image (busybox initramfs, weston-simple-shm):
#  1. suspend ends the QEMU process; vitrail holds nothing of its pool; the
#     state file is under the VM's directory; the window stays on screen
#     with its last frame, "(suspended)" in a grey title bar;
#  2. a click on the window restores it: the same processes run on (a
#     background process keeps its pid, a counter counts on from where it
#     was: a cold boot would have neither), the window is live again;
#  3. vitrailctl run on a suspended VM restores it and runs the command;
#  4. vitrail killed with SIGKILL during a suspend: the VM can still be
#     started (adopted and run on, or restored), its processes intact;
#  5. suspend-after = 3s (vitrail restarted with it): the VM suspends by
#     itself without input; vitrailctl resume restores it;
#  6. a state that cannot be loaded: the VM is crashed, the state kept as
#     suspend.state.failed, and the next start boots it afresh.
# Needs: GUEST_IMAGE (tools/guest-image), IMAGE_OUT, AGENT, VT_POINTER,
# plus what tests/lib/harness.sh needs. Exit 77 without qemu-system-x86_64.
: "${TEST_LIB:?run through meson test}"
command -v qemu-system-x86_64 >/dev/null || {
	echo "qemu-system-x86_64 is not installed: skipped"
	exit 77
}
export E2E_TIMEOUT=${VM_TIMEOUT:-150}
. "$TEST_LIB/harness.sh" || exit 2
: "${GUEST_IMAGE:?}" "${IMAGE_OUT:?}" "${AGENT:?}" "${VT_POINTER:?}"
export VITRAIL_AGENT=$AGENT XDG_DATA_HOME=$T/data
. "$TEST_LIB/vm.sh" || exit 2

quick_image
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
type = qemu
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = console=ttyS0 quiet panic=-1 vitrail.cmd=weston-simple-shm
memory = 256
pool-size = 16
INI
start_vitrail "$T/vitrail.ini"
STATE=$XDG_DATA_HOME/vitrail/vms/work/suspend.state

ctl start --wait work >/dev/null || fail "start work"
wait_windows work 1
wait_state work running
# a process that must survive, and a counter (every 0.2 s)
ctl run work -- sh -c 'sleep 100000 </dev/null >/dev/null 2>&1 & echo $! >/tmp/sleeper' ||
	fail "cannot start the sleeper"
ctl run work -- sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/tmp/count; sleep 0.2; done </dev/null >/dev/null 2>&1 &' ||
	fail "cannot start the counter"
sleep 1

# suspend_checked: suspend work and check what that leaves
suspend_checked() {
	local pid out
	pid=$(vm_field work pid)
	alive "$pid" || fail "QEMU is not running before the suspend"
	ctl run work -- sh -c 'cp /tmp/count /tmp/before' || fail "cannot note the count"
	ctl suspend work >"$T/out" || fail "suspend failed"
	grep -qx 'work: stopped (suspended)' "$T/out" || fail "suspend said: $(cat "$T/out")"
	# gone, or a zombie its (detached) parent has not reaped yet
	for _ in $(seq 50); do
		alive "$pid" && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
		sleep 0.1
	done
	alive "$pid" && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] &&
		fail "QEMU $pid still runs after the suspend"
	[ "$(vm_field work state)" = suspended ] || fail "vms state: $(vm_field work state)"
	[ "$(vm_field work state_file)" = "$STATE" ] || fail "state_file: $(vm_field work state_file)"
	[ -s "$STATE" ] || fail "no state file $STATE"
	[ -e "$STATE.tmp" ] && fail "a temporary state file is left"
	# nothing of the VM in vitrail: no pool mapped, no descriptor of it
	grep -q 'vitrail-work-pool' "/proc/$VITRAIL_PID/maps" && fail "vitrail still maps the pool"
	out=$(ls -l "/proc/$VITRAIL_PID/fd" 2>/dev/null | grep -c 'vitrail-work-pool' || true)
	[ "$out" = 0 ] || fail "vitrail still holds the pool"
	[ "$(windows_of work)" = 1 ] || fail "the window went with the suspend"
}

# ---- 1. suspend: QEMU ends, the window stays, marked
suspend_checked
read -r x y w h < <(json_get "$T/windows.json" "' '.join(str(v[k]) for v in d if v['vm'] == 'work' for k in ('x', 'y', 'width', 'height'))")
screenshot "$T/suspended.ppm"
pixels "$T/suspended.ppm" rect "$((x + 2))" "$((y - 23))" "$((w - 40))" 2 5a5a5a
# the last frame, dimmed: not the empty desktop
$PY "$TEST_LIB/pixels.py" "$T/suspended.ppm" rect "$x" "$y" "$w" "$h" 000000 2>/dev/null &&
	fail "the suspended window shows nothing"
# stays so
sleep 2
[ "$(vm_field work state)" = suspended ] || fail "no longer suspended: $(vm_field work state)"

# ---- 2. a click restores it, with its processes
t0=$SECONDS
"$VT_POINTER" move $((x + w / 2)) $((y + h / 2)) click left || fail "vt-pointer failed"
wait_state work running
wait_connected work
log "click -> agent back in $((SECONDS - t0)) s"
wait_windows work 1
[ -e "$STATE" ] && fail "the state file outlived the restore"
ctl run work -- sh -c 'kill -0 $(cat /tmp/sleeper) && grep -q sleep /proc/$(cat /tmp/sleeper)/cmdline' ||
	fail "the sleeper did not survive the suspend"
ctl run work -- sh -c 'a=$(cat /tmp/before); sleep 0.5; b=$(cat /tmp/count); [ "$b" -gt "$a" ] && [ "$b" -lt $((a + 400)) ]' ||
	fail "the counter did not count on from where it was"
screenshot "$T/back.ppm"
read -r x2 y2 w h < <(json_get "$T/windows.json" "' '.join(str(v[k]) for v in d if v['vm'] == 'work' for k in ('x', 'y', 'width', 'height'))")
[ "$x2 $y2" = "$x $y" ] || fail "the restored window moved from $x,$y to $x2,$y2"
$PY "$TEST_LIB/pixels.py" "$T/back.ppm" rect "$((x + 2))" "$((y - 23))" "$((w - 40))" 2 5a5a5a 2>/dev/null &&
	fail "the restored window is still marked"

# ---- 3. vitrailctl run restores a suspended VM
suspend_checked
ctl run work -- sh -c 'kill -0 $(cat /tmp/sleeper)' || fail "run on a suspended VM"
[ "$(vm_field work state)" = running ] || fail "run did not restore: $(vm_field work state)"

# ---- 4. vitrail killed with SIGKILL during a suspend
ctl suspend work >/dev/null 2>&1 &
for _ in $(seq 100); do
	[ -e "$STATE.tmp" ] || [ -e "$STATE" ] && break
	sleep 0.02
done
kill -KILL "$VITRAIL_PID"
wait "$VITRAIL_PID" 2>/dev/null || true
VITRAIL_PID=
sleep 1
start_vitrail "$T/vitrail.ini"
ctl start --wait work >/dev/null || fail "start after vitrail was killed during a suspend"
wait_state work running
ctl run work -- sh -c 'kill -0 $(cat /tmp/sleeper)' || fail "the VM lost its processes"
wait_windows work 1

# ---- 5. suspend-after
stop_vitrail
sed -i 's/^pool-size = 16$/pool-size = 16\nsuspend-after = 3s/' "$T/vitrail.ini"
"$VITRAIL" --check-config --config "$T/vitrail.ini" >/dev/null || fail "suspend-after refused"
start_vitrail "$T/vitrail.ini"
wait_state work running
wait_connected work
t0=$SECONDS
wait_state work suspended
[ $((SECONDS - t0)) -ge 2 ] || fail "suspended after $((SECONDS - t0)) s, before its 3 s"
ctl resume work >/dev/null || fail "resume of a suspended VM"
wait_state work running
ctl run work -- sh -c 'kill -0 $(cat /tmp/sleeper)' || fail "lost its processes"

# ---- 6. a state that cannot be loaded
wait_state work suspended
printf 'not a QEMU state' >"$STATE"
rc=0
ctl start --wait work >/dev/null 2>&1 || rc=$?
wait_state work crashed
case "$(vm_field work reason)" in
*"restoring the saved state failed"*) ;;
*) fail "reason: $(vm_field work reason)" ;;
esac
[ -e "$STATE.failed" ] || fail "no $STATE.failed"
[ -e "$STATE" ] && fail "the bad state is still there to load"
wait_windows work 0
ctl start --wait work >/dev/null || fail "no cold boot after a failed restore"
wait_state work running
rc=0
ctl run work -- test -e /tmp/sleeper || rc=$?
[ $rc = 1 ] || fail "not a cold boot: /tmp/sleeper (rc $rc)"
pass
