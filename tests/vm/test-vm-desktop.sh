#!/bin/bash
# vitrail with real QEMU guests (suite 'vm'): two VMs booted from the test
# guest image, "work" (blue) and "personal" (green), each showing
# weston-simple-shm, plus a local VM "scratch" (gray) as a witness.
#  1. both boot in parallel; a screenshot shows every window framed in its
#     VM's color;
#  2. `vitrailctl run` returns the command's status (exit, signal, failure);
#  3. vitrail restarts: QEMU keeps running, the new vitrail re-attaches and
#     the windows come back;
#  4. a QEMU killed with SIGKILL is seen as crashed, its window goes, the
#     other VMs are unaffected;
#  5. `vitrailctl stop personal` powers it off: QEMU exits, only its window
#     goes.
#  6. two disposable VMs boot together: "throwaway", of a template with a
#     disk and a kernel (the template's kernel, a qcow2 overlay of its disk
#     attached, deleted at stop), and "scratch-vm", of "work" (kernel +
#     initrd only: that kernel, no disk); both show their window.
# The QEMUs of step 1 run under their seccomp filter and hold their pool as
# a sealed memfd on fd 3 (no pool file exists to truncate).
# Needs: GUEST_IMAGE (tools/guest-image), IMAGE_OUT, AGENT, plus what
# tests/lib/harness.sh needs. Exit 77 (skip) without qemu-system-x86_64.
: "${TEST_LIB:?run through meson test}"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "qemu-system-x86_64 is not installed: skipped"
	exit 77
fi
# Booting two guests under TCG on two cores takes a while: generous waits.
export E2E_TIMEOUT=${VM_TIMEOUT:-150}
. "$TEST_LIB/harness.sh" || exit 2
: "${GUEST_IMAGE:?}" "${IMAGE_OUT:?}" "${AGENT:?}"
export VITRAIL_AGENT=$AGENT XDG_DATA_HOME=$T/data

. "$TEST_LIB/vm.sh" || exit 2

t0=$SECONDS
quick_image
log "guest image $image ($((SECONDS - t0)) s)"

APPEND="console=ttyS0 quiet panic=-1 vitrail.cmd=weston-simple-shm"
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
type = qemu
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = $APPEND
memory = 256
pool-size = 16

[vm personal]
label = green
type = qemu
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = $APPEND
memory = 256
pool-size = 16

[vm scratch]
label = gray
type = local
command = weston-simple-shm
autostart = true

[vm disk-tmpl]
label = purple
type = qemu
image = $T/template.raw
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = $APPEND

[vm throwaway]
label = red
type = qemu
disposable-of = disk-tmpl
memory = 256
pool-size = 16

[vm scratch-vm]
label = yellow
type = qemu
disposable-of = work
memory = 256
pool-size = 16
INI
head -c 1048576 /dev/zero >"$T/template.raw"
"$VITRAIL" --check-config --config "$T/vitrail.ini" >/dev/null || fail "config refused"
start_vitrail "$T/vitrail.ini"

# check_frames SHOT: every window framed in its label color; the frames of
# windows stacked above it are ignored.
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

vms_json
json_check "$T/vms.json" '[(v["name"], v["type"]) for v in d] == [("work", "qemu"), ("personal", "qemu"), ("scratch", "local"), ("disk-tmpl", "qemu"), ("throwaway", "qemu"), ("scratch-vm", "qemu")]'
json_check "$T/vms.json" 'all(v["state"] == "stopped" for v in d if v["type"] == "qemu")' "qemu VMs not stopped at first"

# confined PID: QEMU PID runs under seccomp and its fd 3 is a sealed memfd
# pool (checked by python: F_GET_SEALS through /proc/PID/fd/3)
confined() {
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$1/status" || fail "QEMU $1 runs without seccomp"
	$PY -c '
import fcntl, os, sys
fd = os.open("/proc/%s/fd/3" % sys.argv[1], os.O_RDONLY)
want = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL
sys.exit(0 if fcntl.fcntl(fd, fcntl.F_GET_SEALS) & want == want else 1)' "$1" ||
		fail "QEMU $1: fd 3 is not a sealed pool"
}

# ---- 1. boot both (in parallel), screenshot
t_start=$SECONDS
ctl start work >/dev/null || fail "vitrailctl start work failed"
ctl start personal >/dev/null || fail "vitrailctl start personal failed"
wait_windows work 1
log "work: first window $((SECONDS - t_start)) s after start"
wait_windows personal 1
wait_windows scratch 1
log "both QEMU VMs show their window $((SECONDS - t_start)) s after start"
wait_state work running
wait_state personal running
PID_WORK=$(vm_field work pid)
PID_PERSONAL=$(vm_field personal pid)
PID_SCRATCH=$(vm_field scratch pid)
alive "$PID_WORK" && alive "$PID_PERSONAL" && alive "$PID_SCRATCH" || fail "VM processes not alive"
confined "$PID_WORK"
confined "$PID_PERSONAL"
log "QEMU RSS: work $(awk '/VmRSS/ {print $2, $3}' /proc/$PID_WORK/status)," \
	"personal $(awk '/VmRSS/ {print $2, $3}' /proc/$PID_PERSONAL/status)"
screenshot "$T/1.ppm"
check_frames "$T/1.ppm"
json_check "$T/windows.json" 'sorted(w["label"] for w in d) == ["#3465a4", "#555555", "#73d216"]'

# ---- 2. run
rc=0
ctl run work -- sh -c 'exit 7' || rc=$?
[ $rc -eq 7 ] || fail "run 'exit 7' returned $rc"
rc=0
ctl run personal -- sh -c 'kill -9 $$' || rc=$?
[ $rc -eq 137 ] || fail "run 'kill -9 \$\$' returned $rc, want 137"
rc=0
ctl run work -- /no/such/command 2>"$T/run.err" || rc=$?
[ $rc -eq 127 ] || fail "run of a missing command returned $rc, want 127"
grep -q "No such file" "$T/run.err" || fail "no reason for the failed run: $(cat "$T/run.err")"

# ---- 3. vitrail restarts; QEMU stays, the windows come back
stop_vitrail
alive "$PID_WORK" && alive "$PID_PERSONAL" || fail "QEMU did not outlive vitrail"
for _ in $(seq 50); do alive "$PID_SCRATCH" || break; sleep 0.1; done
alive "$PID_SCRATCH" && fail "the local agent of scratch outlived vitrail"
t_restart=$SECONDS
start_vitrail "$T/vitrail.ini"
wait_windows work 1
wait_windows personal 1
log "windows back $((SECONDS - t_restart)) s after the restart"
wait_state work running
wait_state personal running
[ "$(vm_field work pid)" = "$PID_WORK" ] || fail "work: not the same QEMU after the restart"
[ "$(vm_field personal pid)" = "$PID_PERSONAL" ] || fail "personal: not the same QEMU"
wait_windows scratch 1
screenshot "$T/2.ppm"
check_frames "$T/2.ppm"

# ---- 4. a killed QEMU is a crash; the others go on
kill -KILL "$PID_WORK"
wait_state work crashed
reason=$(vm_field work reason)
case "$reason" in
*console.log*) ;;
*) fail "crash reason does not name the console log: $reason" ;;
esac
wait_windows work 0
[ "$(windows_of personal)" = 1 ] || fail "personal lost its window when work crashed"
[ "$(windows_of scratch)" = 1 ] || fail "scratch lost its window when work crashed"
[ "$(vm_field personal state)" = running ] || fail "personal is not running any more"
screenshot "$T/3.ppm"
check_frames "$T/3.ppm"

# ---- 5. stop personal: clean power-off, only its window goes
ctl stop personal >"$T/stop.out" || fail "vitrailctl stop personal failed"
grep -q "stopped" "$T/stop.out" || fail "stop did not report stopped: $(cat "$T/stop.out")"
[ "$(vm_field personal state)" = stopped ] || fail "personal is not stopped"
[ "$(vm_field personal reason)" = stopped ] || fail "personal: $(vm_field personal reason)"
for _ in $(seq 50); do alive "$PID_PERSONAL" || break; sleep 0.1; done
alive "$PID_PERSONAL" && fail "QEMU of personal still runs after stop"
[ "$(windows_of personal)" = 0 ] || fail "personal still has a window"
[ "$(windows_of scratch)" = 1 ] || fail "stopping personal took scratch's window"
ctl logs personal >"$T/logs.out" || fail "vitrailctl logs personal failed"
grep -q "vitrail-init" "$T/logs.out" || fail "the console log of personal lacks the guest's output"

# ---- 6. disposables: a kernel + disk template, and a kernel-only one
t_disp=$SECONDS
overlay=$XDG_RUNTIME_DIR/vitrail/vms/throwaway.overlay.qcow2
ctl start throwaway >/dev/null || fail "vitrailctl start throwaway failed"
ctl start scratch-vm >/dev/null || fail "vitrailctl start scratch-vm failed"
[ -f "$overlay" ] || fail "no overlay $overlay"
[ "$(head -c 4 "$overlay" | od -An -tx1 | tr -d ' \n')" = 514649fb ] ||
	fail "the overlay is not qcow2"
[ ! -e "$XDG_RUNTIME_DIR/vitrail/vms/scratch-vm.overlay.qcow2" ] ||
	fail "scratch-vm (kernel-only template) got a disk"
wait_windows throwaway 1
wait_windows scratch-vm 1
log "both disposables show their window $((SECONDS - t_disp)) s after start"
wait_state throwaway running
wait_state scratch-vm running
PID_THROWAWAY=$(vm_field throwaway pid)
tr '\0' '\n' <"/proc/$PID_THROWAWAY/cmdline" >"$T/throwaway.cmdline"
grep -qx "file=$overlay,format=qcow2,if=virtio" "$T/throwaway.cmdline" ||
	fail "throwaway does not boot with its overlay: $(cat "$T/throwaway.cmdline")"
grep -qx -- "-kernel" "$T/throwaway.cmdline" || fail "throwaway does not boot the template's kernel"
grep -qF "$T/template.raw" "$T/throwaway.cmdline" && fail "the template disk is on QEMU's command line"
tr '\0' '\n' <"/proc/$(vm_field scratch-vm pid)/cmdline" >"$T/scratch-vm.cmdline"
grep -q -- "-drive" "$T/scratch-vm.cmdline" && fail "scratch-vm has a disk"
[ "$(vm_field disk-tmpl state)" = stopped ] || fail "the template disk-tmpl was started"
screenshot "$T/4.ppm"
check_frames "$T/4.ppm"
json_check "$T/windows.json" 'sorted(w["label"] for w in d) == ["#555555", "#cc0000", "#edd400"]'
ctl stop throwaway >/dev/null || fail "vitrailctl stop throwaway failed"
ctl stop scratch-vm >/dev/null || fail "vitrailctl stop scratch-vm failed"
[ "$(vm_field throwaway state)" = stopped ] || fail "throwaway is $(vm_field throwaway state)"
[ ! -e "$overlay" ] || fail "the overlay of throwaway outlived it"
[ "$(head -c 1048576 "$T/template.raw" | tr -d '\0' | wc -c)" = 0 ] ||
	fail "the template disk was written to"
log "vm suite part done in $((SECONDS - t0)) s"
pass
