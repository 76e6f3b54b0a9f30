#!/bin/bash
# vm-start benchmark (prints figures, asserts nothing): a QEMU VM booted
# from the quick test guest image (busybox initramfs, weston-simple-shm):
# cold boot to its first window, vitrailctl pause / resume round trips
# (QMP stop / cont), the host RSS of its QEMU running idle and paused, and
# vitrailctl snapshot / revert of the running VM (savevm / loadvm of its RAM
# and its qcow2 private volume; revert until the agent's window is back).
#   meson test -C build --benchmark vm-start -v
# Then suspend to disk and restore, three times: vitrailctl suspend
# (until QEMU is gone), restore (vitrailctl start --wait: until the agent
# is connected again), the host RSS of the suspended VM (no QEMU process:
# 0) and the size of its state file. Then fast start (vitrail restarted
# with a template of the same guest): an AppVM with fast-start = true
# started three times from the template's booted state (start -> first
# window; the first start, which boots and records it, is shown apart),
# and a disposable of a template with preload = 1 taken three times
# (start -> first window), with the host RSS of the preloaded (paused) VM.
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
qemu-img create -q -f qcow2 "$T/private.qcow2" 64M || fail "qemu-img create failed"
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
type = qemu
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = console=ttyS0 quiet panic=-1 vitrail.cmd=weston-simple-shm
memory = 256
pool-size = 16
private = $T/private.qcow2
INI
start_vitrail "$T/vitrail.ini"
ms() { echo $(($(date +%s%N) / 1000000)); }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

t0=$(ms)
ctl start work >/dev/null || fail "vitrailctl start work failed"
until [ "$(windows_of work)" = 1 ]; do
	[ $(($(ms) - t0)) -lt $((E2E_TIMEOUT * 1000)) ] || fail "no window within ${E2E_TIMEOUT}s"
	sleep 0.05
done
cold=$(($(ms) - t0))
pid=$(cat "$XDG_RUNTIME_DIR/vitrail/vms/work.pid")
accel=$(tr '\0' ' ' <"/proc/$pid/cmdline" | grep -Eo 'accel[ =](kvm|tcg)' | head -n 1 | tr -d ' =' | sed 's/accel//')
sleep 5
rss_run=$(rss_kib "$pid")

: >"$T/pause" && : >"$T/resume"
for i in $(seq 10); do
	a=$(ms); ctl pause work >/dev/null || fail "pause failed"; b=$(ms)
	echo $((b - a)) >>"$T/pause"
	[ "$i" = 5 ] && { sleep 2; rss_paused=$(rss_kib "$pid"); }
	a=$(ms); ctl resume work >/dev/null || fail "resume failed"; b=$(ms)
	echo $((b - a)) >>"$T/resume"
	sleep 0.2
done

: >"$T/suspend" && : >"$T/restore"
state=$XDG_DATA_HOME/vitrail/vms/work/suspend.state
for i in $(seq 3); do
	sleep 1
	a=$(ms); ctl suspend work >/dev/null || fail "suspend failed"; b=$(ms)
	echo $((b - a)) >>"$T/suspend"
	state_kib=$(($(stat -c %s "$state") / 1024))
	for _ in $(seq 50); do
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)" != gone ] &&
			[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
		sleep 0.1
	done
	rss_susp=$(rss_kib "$pid")
	rss_susp=${rss_susp:-0}
	a=$(ms); ctl start --wait work >/dev/null || fail "restore failed"; b=$(ms)
	echo $((b - a)) >>"$T/restore"
	pid=$(cat "$XDG_RUNTIME_DIR/vitrail/vms/work.pid")
done
: >"$T/snap" && : >"$T/revert" && : >"$T/back"
for i in $(seq 5); do
	a=$(ms); ctl snapshot work "b$i" >/dev/null || fail "snapshot failed"; b=$(ms)
	echo $((b - a)) >>"$T/snap"
	a=$(ms); ctl revert work "b$i" >/dev/null || fail "revert failed"; b=$(ms)
	echo $((b - a)) >>"$T/revert"
	until [ "$(windows_of work)" = 1 ]; do
		[ $(($(ms) - b)) -lt $((E2E_TIMEOUT * 1000)) ] || fail "no window after revert"
		sleep 0.05
	done
	echo $(($(ms) - a)) >>"$T/back"
done
snap_size=$(ctl snapshots work --json | $PY -c 'import json, sys; print(json.load(sys.stdin)["snapshots"][0]["vm_state_bytes"] >> 20)')

# ---- fast start
ctl stop work >/dev/null || fail "stop work"
stop_vitrail
qemu-img create -q -f qcow2 "$T/root.qcow2" 64M || fail "qemu-img create root"
truncate -s 16M "$T/fast-private.raw"
write_config "$T/fast.ini" <<INI
[vm tpl]
label = gray
type = qemu
image = $T/root.qcow2
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = console=ttyS0 quiet panic=-1 vitrail.cmd=weston-simple-shm
memory = 256
pool-size = 16

[vm fast]
label = blue
type = qemu
template = tpl
private = $T/fast-private.raw
memory = 256
pool-size = 16
fast-start = true

[vm tpl2]
label = gray
type = qemu
image = $T/root.qcow2
kernel = $image/vmlinuz
initrd = $image/initrd.img
append = console=ttyS0 quiet panic=-1 vitrail.cmd=weston-simple-shm
memory = 256
pool-size = 16
preload = 1

[vm pre]
label = red
type = qemu
disposable-of = tpl2
memory = 256
pool-size = 16
fast-start = true
INI
start_vitrail "$T/fast.ini"
first_window() { # VM: ms from now until it shows one window
	local a
	a=$(ms)
	ctl start "$1" >/dev/null || fail "start $1 failed"
	until [ "$(windows_of "$1")" = 1 ]; do
		[ $(($(ms) - a)) -lt $((E2E_TIMEOUT * 1000)) ] || fail "no window of $1"
		sleep 0.02
	done
	echo $(($(ms) - a))
}
state_is() { [ "$(vm_field "$1" state)" = "$2" ]; }
wait_for "pre preloaded" state_is pre preloaded
rss_pre=$(rss_kib "$(vm_field pre pid)")
record=$(first_window fast)
: >"$T/fast" && : >"$T/pre"
for i in $(seq 3); do
	ctl stop fast >/dev/null || fail "stop fast"
	first_window fast >>"$T/fast"
	wait_for "pre preloaded" state_is pre preloaded
	sleep 1
	first_window pre >>"$T/pre"
	ctl stop pre >/dev/null || fail "stop pre"
done

echo "vm-start benchmark (quick initramfs guest, $accel, 256 MiB, pool 16 MiB)"
printf '%-44s %s\n' "cold boot -> first window" "${cold} ms"
printf '%-44s %s\n' "fast start, first (boot + record) -> window" "${record} ms"
printf '%-44s %s\n' "restore from a booted state -> first window" "$(median <"$T/fast") ms (median of 3)"
printf '%-44s %s\n' "preloaded disposable -> first window" "$(median <"$T/pre") ms (median of 3)"
printf '%-44s %s\n' "host RSS of QEMU, a preloaded disposable" "$((rss_pre / 1024)) MiB"
printf '%-44s %s\n' "vitrailctl pause (QMP stop), median of 10" "$(median <"$T/pause") ms"
printf '%-44s %s\n' "vitrailctl resume (QMP cont), median of 10" "$(median <"$T/resume") ms"
printf '%-44s %s\n' "vitrailctl suspend (until QEMU gone), median of 3" "$(median <"$T/suspend") ms"
printf '%-44s %s\n' "restore (until the agent is back), median of 3" "$(median <"$T/restore") ms"
printf '%-44s %s\n' "vitrailctl snapshot (savevm), median of 5" "$(median <"$T/snap") ms (RAM state ${snap_size} MiB)"
printf '%-44s %s\n' "vitrailctl revert (loadvm), median of 5" "$(median <"$T/revert") ms"
printf '%-44s %s\n' "revert -> window back, median of 5" "$(median <"$T/back") ms (1.5 s reconnect delay)"
printf '%-44s %s\n' "host RSS of QEMU, running idle" "$((rss_run / 1024)) MiB"
printf '%-44s %s\n' "host RSS of QEMU, paused" "$((rss_paused / 1024)) MiB"
printf '%-44s %s\n' "host RSS of a suspended VM" "$((rss_susp / 1024)) MiB (state file $((state_kib / 1024)) MiB on disk)"
pass
