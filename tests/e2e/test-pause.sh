#!/bin/bash
# Pause and resume (vitrailctl pause/resume): a paused local VM's window
# stays on screen with its last frame, dimmed, "(paused)" in a grey title
# bar; its processes are stopped; keys typed meanwhile never reach it, not
# even after the resume; a click on its window resumes it (unless
# resume-on-input = false); a long pause is not "not responding"; stop
# works on a paused VM.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${VT_POINTER:?run through meson test}" "${BENCH_KEYS:?run through meson test}"
command -v wtype >/dev/null || fail "wtype is not installed"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
command = $BENCH_KEYS receive $T/keys.txt
[vm other]
label = green
resume-on-input = false
command = $BENCH_KEYS receive $T/keys2.txt
INI
start_vitrail "$T/vitrail.ini"

recv_count() { grep -c '^recv ' "$1" 2>/dev/null || true; }
wait_recv() { # FILE N
	local deadline=$((SECONDS + E2E_TIMEOUT))
	until [ "$(recv_count "$1")" -ge "$2" ]; do
		[ $SECONDS -lt $deadline ] || fail "the app got $(recv_count "$1") keys, want $2"
		sleep 0.1
	done
}
state_of() { vm_field "$1" state; }
proc_state() { awk '{print $3}' "/proc/$1/stat"; }

ctl start --wait work >/dev/null || fail "start work"
wait_windows work 1
read -r id x y w h < <(json_get "$T/windows.json" "' '.join(str(v[k]) for v in d if v['vm'] == 'work' for k in ('id', 'x', 'y', 'width', 'height'))")
cx=$((x + w / 2)) cy=$((y + h / 2))
ctl focus "$id"
timeout "$E2E_TIMEOUT" wtype a || fail "wtype failed"
wait_recv "$T/keys.txt" 1
screenshot "$T/run.ppm"
pixels "$T/run.ppm" rect "$x" "$y" "$w" "$h" 606060
pixels "$T/run.ppm" frame "$x" "$y" "$w" "$h" 3465a4
pid=$(vm_field work pid)

# pause: window stays, dimmed, grey "(paused)" title bar; processes stopped
ctl pause work >"$T/out" || fail "pause failed"
grep -qx 'work: paused' "$T/out" || fail "pause said: $(cat "$T/out")"
[ "$(state_of work)" = paused ] || fail "vms state: $(state_of work)"
since=$(vm_field work paused_since)
[ "$since" -gt 1600000000 ] || fail "paused_since: $since"
[ "$(proc_state "$pid")" = T ] || fail "the agent is not stopped: $(proc_state "$pid")"
ctl vms >"$T/vms.txt"
grep -q '^work .* paused ' "$T/vms.txt" || fail "vms table: $(cat "$T/vms.txt")"
screenshot "$T/paused.ppm"
pixels "$T/paused.ppm" rect "$x" "$y" "$w" "$h" 303030
pixels "$T/paused.ppm" rect "$((x + 2))" "$((y - 23))" "$((w - 40))" 2 5a5a5a

# typed while paused: never delivered, not even after the resume
timeout "$E2E_TIMEOUT" wtype b || fail "wtype failed"
sleep 0.5

# a long pause is not "not responding"
sleep 6
[ "$(vm_field work responding)" = True ] || fail "a paused VM was marked not responding"
[ "$(state_of work)" = paused ] || fail "no longer paused: $(state_of work)"

# a click on its window resumes it
"$VT_POINTER" move "$cx" "$cy" click left || fail "vt-pointer failed"
deadline=$((SECONDS + E2E_TIMEOUT))
until [ "$(state_of work)" = running ]; do
	[ $SECONDS -lt $deadline ] || fail "a click did not resume the VM: $(state_of work)"
	sleep 0.1
done
[ "$(proc_state "$pid")" != T ] || fail "the agent is still stopped"
[ "$(vm_field work resumed_at)" -ge "$since" ] || fail "resumed_at: $(vm_field work resumed_at)"
deadline=$((SECONDS + E2E_TIMEOUT))
cursor=(--ignore "$((cx - 2))" "$((cy - 2))" 32 32) # the pointer is on it
until screenshot "$T/back.ppm" && $PY "$TEST_LIB/pixels.py" "$T/back.ppm" rect "$x" "$y" "$w" "$h" 606060 "${cursor[@]}" 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || pixels "$T/back.ppm" rect "$x" "$y" "$w" "$h" 606060 "${cursor[@]}"
	sleep 0.2
done
timeout "$E2E_TIMEOUT" wtype c || fail "wtype failed"
wait_recv "$T/keys.txt" 2
sleep 0.3
[ "$(recv_count "$T/keys.txt")" = 2 ] || fail "keys typed while paused arrived: $(recv_count "$T/keys.txt") keys"

# resume-on-input = false: a click does not resume; vitrailctl resume does
ctl start --wait other >/dev/null || fail "start other"
wait_windows other 1
read -r oid ox oy ow oh < <(json_get "$T/windows.json" "' '.join(str(v[k]) for v in d if v['vm'] == 'other' for k in ('id', 'x', 'y', 'width', 'height'))")
ctl pause other >/dev/null || fail "pause other"
ctl focus "$oid"
"$VT_POINTER" move $((ox + ow / 2)) $((oy + oh / 2)) click left || fail "vt-pointer failed"
sleep 0.5
[ "$(state_of other)" = paused ] || fail "resume-on-input = false, but a click resumed it"
ctl resume other >"$T/out" || fail "resume failed"
grep -qx 'other: running' "$T/out" || fail "resume said: $(cat "$T/out")"
[ "$(state_of other)" = running ] || fail "not resumed: $(state_of other)"

# errors, and stop of a paused VM
rc=0
ctl pause nosuch 2>"$T/err" || rc=$?
[ $rc = 1 ] && grep -q "no VM named 'nosuch'" "$T/err" || fail "pause of an unknown VM: rc $rc $(cat "$T/err")"
ctl pause work >/dev/null || fail "pause work"
timeout "$E2E_TIMEOUT" "$VITRAILCTL" stop work >/dev/null || fail "stop of a paused VM failed"
[ "$(state_of work)" = stopped ] || fail "after stop: $(state_of work)"
rc=0
ctl pause work 2>"$T/err" || rc=$?
[ $rc = 1 ] && grep -q "not running" "$T/err" || fail "pause of a stopped VM: rc $rc $(cat "$T/err")"
pass
