#!/bin/bash
# The host PINGs each agent on its own timer; one that leaves a PING
# unanswered is marked "not responding": `vitrailctl vms` says so and its
# windows' title bars turn grey with the host-drawn mark, until it answers
# again. An unsolicited PONG changes nothing.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

BLUE=3465a4
GREY=5a5a5a # FRAME_UNRESPONSIVE_RGB
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"

start_guest a work
guest_wait a '^welcome work [0-9]+$'
guest a "window 1 200x120"
guest a "title 1 Inbox"
guest a "fill 1 d0e0f0"
guest a "wait-frame 1"
guest_sync a
wait_windows work 1
# content at (32,60): the title bar is 32,36 200x24; its left margin
# (before the "[work]" label) shows the bar's color
json_check "$T/windows.json" 'd[0]["x"] == 32 and d[0]["y"] == 60'

# the host pings without being asked; the fake guest answers
guest_wait a '^ping [0-9]+$'
# a PONG that answers nothing is ignored
guest a "msg 4 0 efbeadde"
guest_sync a
vms_json
json_check "$T/vms.json" 'd[0]["connected"] and d[0]["responding"]'
screenshot "$T/1.ppm"
pixels "$T/1.ppm" frame 32 60 200 120 $BLUE
pixels "$T/1.ppm" not-rect 32 36 200 24 $GREY

responding() {
	vms_json
	json_get "$T/vms.json" 'd[0]["responding"]' | grep -qx "$1"
}

# the guest hangs: no PONG
kill -STOP "${GUEST_PID[a]}"
wait_for "the VM to be marked not responding" responding False
json_check "$T/vms.json" 'd[0]["connected"] and d[0]["windows"] == 1'
ctl vms >"$T/vms.txt" || fail "vitrailctl vms failed"
grep -E '^work +#3465a4 +running +hung +1 +not responding \(vitrailctl stop work\)$' "$T/vms.txt" >/dev/null ||
	fail "vitrailctl vms does not say it: $(cat "$T/vms.txt")"
shot_ok() {
	take_screenshot "$T/2.ppm" && $PY "$TEST_LIB/pixels.py" "$T/2.ppm" rect 32 36 4 24 $GREY
}
wait_for "the grey title bar" shot_ok
# the border keeps the label color; the content is untouched
pixels "$T/2.ppm" rect 28 32 208 4 $BLUE
pixels "$T/2.ppm" rect 32 60 200 120 d0e0f0

# it answers again: the mark goes
kill -CONT "${GUEST_PID[a]}"
wait_for "the VM to respond again" responding True
shot_back() {
	take_screenshot "$T/3.ppm" && $PY "$TEST_LIB/pixels.py" "$T/3.ppm" frame 32 60 200 120 $BLUE
}
wait_for "the title bar in the label color again" shot_back
pixels "$T/3.ppm" not-rect 32 36 200 24 $GREY
ctl vms >"$T/vms.txt" || fail "vitrailctl vms failed"
grep -q 'not responding' "$T/vms.txt" && fail "still marked: $(cat "$T/vms.txt")"
guest_sync a

pass
