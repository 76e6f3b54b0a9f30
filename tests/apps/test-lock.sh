#!/bin/bash
# Screen lock with Debian's swaylock (1.7: layer-shell + input-inhibitor).
# While swaylock runs it covers the screen, and no key, click or key
# binding reaches a guest or the compositor's actions; once it is gone the
# guest gets the keyboard back. Killing swaylock unlocks (the limit of the
# input-inhibitor protocol; ext-session-lock-v1 needs wlroots 0.16).
# Skipped (77) without swaylock.
. "${E2E_DIR:?run through meson test}/lib.sh" || exit 2
: "${VT_POINTER:?run through meson test}"
command -v swaylock >/dev/null || {
	echo "swaylock is not installed: skipped"
	STATUS=pass
	exit 77
}
command -v wtype >/dev/null || fail "wtype is not installed"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"
start_guest g work
guest g "window 1 300x200"
guest g "title 1 locked out"
guest g "fill 1 abcdef"
guest g "wait-frame 1"
guest_sync g
wait_windows work 1
id=$(json_get "$T/windows.json" "[w['id'] for w in d if w['vm'] == 'work'][0]")
ctl focus "$id" || fail "vitrailctl focus failed"
guest_wait g '^keyboard-enter 1$'
timeout "$E2E_TIMEOUT" wtype a || fail "wtype failed"
guest_wait g '^key 1 [0-9]+ 0$'

# lock
HOME=$T swaylock -u -c 102030 >"$T/swaylock.out" 2>&1 &
LOCK_PID=$!
GUEST_PID[swaylock]=$LOCK_PID # stopped by the cleanup if the test fails
wait_line "$T/vitrail.err" 'screen locked' "the compositor to see the lock"
guest_wait g '^keyboard-leave 1$'
deadline=$((SECONDS + E2E_TIMEOUT))
until screenshot "$T/locked.ppm" && $PY "$E2E_DIR/pixels.py" "$T/locked.ppm" rect 0 0 1280 720 102030 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || pixels "$T/locked.ppm" rect 0 0 1280 720 102030
	sleep 0.2
done

# keys, a click on the window, a binding (exit) and vitrailctl focus: none
# reaches the guest or runs
timeout "$E2E_TIMEOUT" wtype b || fail "wtype failed"
"$VT_POINTER" move 100 150 click left || fail "vt-pointer failed"
timeout "$E2E_TIMEOUT" wtype -M logo -M shift e -m shift -m logo || fail "wtype failed"
ctl focus "$id" || fail "vitrailctl focus failed"
vitrail_alive || fail "a key binding ran while locked"
kill -0 $LOCK_PID || fail "swaylock exited: $(tail -n 3 "$T/swaylock.out")"

# swaylock goes away (killed, as if it crashed): the desktop is unlocked
kill -KILL $LOCK_PID
wait $LOCK_PID 2>/dev/null || true
unset "GUEST_PID[swaylock]"
wait_line "$T/vitrail.err" 'screen unlocked' "the compositor to see the unlock"
ctl focus "$id" || fail "vitrailctl focus failed"
guest_wait_count g '^keyboard-enter 1$' 2
timeout "$E2E_TIMEOUT" wtype c || fail "wtype failed"
guest_wait_count g '^key 1 [0-9]+ 0$' 2
# nothing between the lock and the unlock
sed -n '/^keyboard-leave 1$/,/^keyboard-enter 1$/p' "$T/g.out" >"$T/during.out"
if grep -E '^(key|button|pointer-enter|pointer-motion) ' "$T/during.out"; then
	fail "input reached the guest while locked"
fi
# two keys in all (a, c), each pressed and released: b never arrived
[ "$(grep -c '^key ' "$T/g.out")" = 4 ] || fail "the guest got keys typed while locked: $(grep '^key ' "$T/g.out")"
pass
