#!/bin/bash
# A hostile VM floods valid SET_TITLE / SET_APP_ID / SET_CURSOR messages
# (security review, finding 3). vitrail survives it, keeps serving the
# other VM while the flood runs (its window still gets FRAME_DONE and
# pointer input, which needs the event loop to come round between batches
# of the flood), vitrailctl answers, and the flooder's last title wins.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${VT_POINTER:?}"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm evil]
label = red
INI
start_vitrail "$T/vitrail.ini"

# work: a small focused window at (32,60).
start_guest w work
guest w "window 1 100x80"
guest w "fill 1 00ff00"
guest w "wait-frame 1"
guest_sync w
wait_windows work 1

# evil: a 300x200 window at (64,92), below work's but mostly visible; the
# pointer rests on it so that its cursors are honoured.
(
	close_guest_fds
	exec $PY "$E2E_DIR/flood-guest.py" "$XDG_RUNTIME_DIR/vitrail/vm/evil.sock" \
		"$T/flood.stop" "$T/flood.quit"
) >"$T/flood.out" 2>"$T/flood.err" &
GUEST_PID[flood]=$!
wait_line "$T/flood.out" '^flooding$' "the flood to start"
wait_windows evil 1
"$VT_POINTER" move 300 250 || fail "vt-pointer failed"

# While it floods: work's commits are presented, one after the other...
for c in ff0000 0000ff ffff00; do
	guest w "rect 1 0 0 10 10 $c"
	guest w "wait-frame 1"
	guest_sync w
	kill -0 "${GUEST_PID[flood]}" 2>/dev/null || fail "the flood ended early"
done
# ...the pointer reaches work's window and a click is delivered...
"$VT_POINTER" move 50 80 click left || fail "vt-pointer failed"
guest_wait w '^pointer-enter 1 '
guest_wait w '^button 1 272 0$'
# ...and vitrailctl answers.
ctl windows --json >"$T/windows.json" || fail "vitrailctl windows failed during the flood"
json_check "$T/windows.json" 'len(d) == 2'
"$VT_POINTER" move 300 250 || fail "vt-pointer failed"
ctl vms --json >"$T/vms.json" || fail "vitrailctl vms failed during the flood"
json_check "$T/vms.json" 'all(v["connected"] for v in d)'
kill -0 "${GUEST_PID[flood]}" 2>/dev/null || fail "the flood ended early"
grep -q '^disconnected' "$T/flood.out" && fail "the flooder was disconnected"

# The flood stops; its last title is the one shown (coalescing keeps the
# latest request, never an older one).
touch "$T/flood.stop"
wait_line "$T/flood.out" '^sent [0-9]+ messages$' "the flood to stop"
n=$(sed -n 's/^sent \([0-9]*\) messages$/\1/p' "$T/flood.out")
[ "$n" -gt 0 ] || fail "nothing was flooded"
log "flooded $n messages"
deadline=$((SECONDS + E2E_TIMEOUT))
until ctl windows --json >"$T/windows.json" &&
	json_check "$T/windows.json" \
		'[w["title"] for w in d if w["vm"] == "evil"] == ["flood-end"]' 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || fail "the last title never showed"
	sleep 0.1
done
json_check "$T/windows.json" 'len(d) == 2'
touch "$T/flood.quit"
wait "${GUEST_PID[flood]}" || fail "the flood guest failed: $(cat "$T/flood.out")"
unset "GUEST_PID[flood]"

# work still works.
guest w "rect 1 0 0 10 10 00ff00"
guest w "wait-frame 1"
guest_sync w
pass
