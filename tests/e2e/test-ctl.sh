#!/bin/bash
# vitrailctl against a real vitrail: windows/vms/outputs (table and JSON), focus,
# close (reaches the guest as CLOSE), exit; SIGTERM exits 0.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm personal]
label = #123456
[vm idle]
label = purple
INI
start_vitrail "$T/vitrail.ini"

ctl vms --json >"$T/vms.json" || fail "vms --json"
json_check "$T/vms.json" 'sorted(v["name"] for v in d) == ["idle", "personal", "work"]'
json_check "$T/vms.json" 'all(v["connected"] is False and v["windows"] == 0 for v in d)'
json_check "$T/vms.json" '[v["label"] for v in d if v["name"] == "personal"] == ["#123456"]'
ctl windows --json >"$T/w.json" || fail "windows --json"
json_check "$T/w.json" 'd == []'
ctl outputs --json >"$T/o0.json" || fail "outputs --json"
json_check "$T/o0.json" 'len(d) == 1 and d[0]["name"] == "HEADLESS-1" and (d[0]["x"], d[0]["y"], d[0]["width"], d[0]["height"]) == (0, 0, 1280, 720) and d[0]["scale"] == 1 and isinstance(d[0]["frames"], int)'
ctl outputs >"$T/o.txt" || fail "outputs (table)"
grep -q '^HEADLESS-1 .*1280x720+0+0 .*1 ' "$T/o.txt" || fail "outputs table: $(cat "$T/o.txt")"

start_guest a work
start_guest b personal
guest a "window 5 120x80"
guest a "title 5 first"
guest a "app-id 5 org.example.first"
guest a "fill 5 101010"
guest a "wait-frame 5"
guest_sync a
guest b "window 9 100x60"
guest b "title 9 second"
guest b "fill 9 202020"
guest b "wait-frame 9"
guest_sync b
wait_windows personal 1

ctl windows --json >"$T/w.json"
json_check "$T/w.json" 'len(d) == 2'
json_check "$T/w.json" 'all(set(w) >= {"id", "vm", "title", "app_id", "x", "y", "width", "height", "focused", "label"} for w in d)'
json_check "$T/w.json" 'all(isinstance(w["id"], int) and isinstance(w["focused"], bool) for w in d)'
json_check "$T/w.json" 'sum(1 for w in d if w["focused"]) <= 1'
json_check "$T/w.json" '[w["app_id"] for w in d if w["vm"] == "work"] == ["org.example.first"]'
id_a=$(json_get "$T/w.json" '[w["id"] for w in d if w["vm"] == "work"][0]')
id_b=$(json_get "$T/w.json" '[w["id"] for w in d if w["vm"] == "personal"][0]')

# two windows drew: more frames than before
ctl outputs --json >"$T/o1.json" || fail "outputs --json"
[ "$(json_get "$T/o1.json" 'd[0]["frames"]')" -gt "$(json_get "$T/o0.json" 'd[0]["frames"]')" ] ||
	fail "outputs: the frame count did not grow: $(cat "$T/o0.json" "$T/o1.json")"

ctl windows >"$T/w.txt" || fail "windows (table)"
grep -q "^$id_a .*work .*120x80+" "$T/w.txt" || fail "table row for work: $(cat "$T/w.txt")"
grep -q "^$id_b .*personal .*100x60+" "$T/w.txt" || fail "table row for personal"
ctl vms >"$T/v.txt" || fail "vms (table)"
grep -q '^work .*#3465a4 .*yes .*1$' "$T/v.txt" || fail "vms table: $(cat "$T/v.txt")"
grep -q '^idle .*#75507b .*no .*0$' "$T/v.txt" || fail "vms table: $(cat "$T/v.txt")"

# focus: the window becomes the focused one, and its guest gets keyboard focus.
ctl focus "$id_a" || fail "focus $id_a"
ctl windows --json >"$T/w.json"
json_check "$T/w.json" "[w['focused'] for w in d if w['id'] == $id_a] == [True]" "focus did not focus"
guest_wait a '^keyboard-enter 5$'
ctl focus "$id_b" || fail "focus $id_b"
ctl windows --json >"$T/w.json"
json_check "$T/w.json" "[w['focused'] for w in d if w['id'] == $id_b] == [True]"
json_check "$T/w.json" "[w['focused'] for w in d if w['id'] == $id_a] == [False]"
guest_wait b '^keyboard-enter 9$'

# move, resize, maximize, fullscreen (only where the VM allows it)
ctl move "$id_a" 300 200 || fail "move"
ctl windows --json >"$T/w.json"
json_check "$T/w.json" "[(w['x'], w['y']) for w in d if w['id'] == $id_a] == [(300, 200)]" "move did not move"
ctl resize "$id_a" 150 90 || fail "resize"
guest_wait a '^configure 5 150 90 '
ctl maximize "$id_a" on >"$T/o" || fail "maximize on"
guest_wait a '^configure 5 [0-9]+ [0-9]+ .*maximized'
ctl maximize "$id_a" >"$T/o" || fail "maximize (toggle)"
rc=0
ctl fullscreen "$id_a" 2>"$T/e" || rc=$?
[ $rc -eq 1 ] && grep -q 'does not allow fullscreen' "$T/e" || fail "fullscreen of a VM without allow-fullscreen: rc $rc $(cat "$T/e")"
rc=0
ctl move "$id_a" 10 2>"$T/e" || rc=$?
[ $rc -eq 2 ] || fail "move with one number: rc $rc"
rc=0
ctl maximize "$id_a" sideways 2>"$T/e" || rc=$?
[ $rc -eq 2 ] || fail "maximize sideways: rc $rc"

# close: a CLOSE to the owning guest only; the window stays until the guest destroys it.
ctl close "$id_b" || fail "close $id_b"
guest_wait b '^close 9$'
grep -q '^close' "$T/a.out" && fail "close reached the wrong guest"
wait_windows personal 1
guest b "destroy 9"
guest_sync b
wait_windows personal 0

# errors: unknown ids
rc=0
ctl focus 999999 2>"$T/e" || rc=$?
[ $rc -eq 1 ] && [ -s "$T/e" ] || fail "focus of an unknown id: rc $rc"
rc=0
ctl close 999999 2>"$T/e" || rc=$?
[ $rc -eq 1 ] || fail "close of an unknown id: rc $rc"

ctl version >"$T/o" || fail "version"
grep -q '^vitrail ' "$T/o" || fail "version: $(cat "$T/o")"

# exit: vitrail exits 0; guests see the disconnect; vitrailctl then says it is not running.
ctl exit || fail "exit"
rc=0
for i in $(seq $((E2E_TIMEOUT * 10))); do
	kill -0 "$VITRAIL_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$VITRAIL_PID" 2>/dev/null && fail "vitrail did not exit"
wait "$VITRAIL_PID" || rc=$?
VITRAIL_PID=
[ $rc -eq 0 ] || fail "vitrail exited $rc after vitrailctl exit"
guest_wait a '^disconnected'
rc=0
"$VITRAILCTL" windows 2>"$T/e" || rc=$?
[ $rc -eq 1 ] && grep -q 'vitrail is not running' "$T/e" || fail "after exit: rc $rc, $(cat "$T/e")"

# SIGTERM: exit 0 as well.
start_vitrail "$T/vitrail.ini"
kill -TERM "$VITRAIL_PID"
rc=0
for i in $(seq $((E2E_TIMEOUT * 10))); do
	kill -0 "$VITRAIL_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$VITRAIL_PID" 2>/dev/null && fail "vitrail ignored SIGTERM"
wait "$VITRAIL_PID" || rc=$?
VITRAIL_PID=
[ $rc -eq 0 ] || fail "vitrail exited $rc on SIGTERM"
pass
