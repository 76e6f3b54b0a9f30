#!/bin/bash
# Screen lock with Debian's swaylock (1.7: layer-shell + input-inhibitor).
# While swaylock runs it covers the screen, and no key, click or key
# binding reaches a guest or the compositor's actions; once it is gone the
# guest gets the keyboard back. Killing swaylock unlocks (the limit of the
# input-inhibitor protocol; ext-session-lock-v1 needs wlroots 0.16).
# Skipped (77) without swaylock.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
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
wait_line "$VITRAIL_ERR" 'screen locked' "the compositor to see the lock"
guest_wait g '^keyboard-leave 1$'
deadline=$((SECONDS + E2E_TIMEOUT))
until screenshot "$T/locked.ppm" && $PY "$TEST_LIB/pixels.py" "$T/locked.ppm" rect 0 0 1280 720 102030 2>/dev/null; do
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
wait_line "$VITRAIL_ERR" 'screen unlocked' "the compositor to see the unlock"
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

# A launcher mapping while locked (an exclusive-keyboard overlay surface,
# which normally takes the keyboard when it maps) gets no key. swaylock is
# transparent this time, so that the screenshot shows the launcher mapped
# below it; the 'z' typed while locked must not filter its list.
count_lines() { grep -c -- "$2" "$1" || true; }
HOME=$T swaylock -u -c 10203000 >"$T/swaylock2.out" 2>&1 &
LOCK_PID=$!
GUEST_PID[swaylock]=$LOCK_PID
wait_until_count() { # FILE REGEX N WHAT
	local deadline=$((SECONDS + E2E_TIMEOUT))
	until [ "$(count_lines "$1" "$2")" -ge "$3" ]; do
		[ $SECONDS -lt $deadline ] || fail "timeout waiting for $4"
		sleep 0.1
	done
}
wait_until_count "$VITRAIL_ERR" 'screen locked' 2 "the second lock"
printf 'aa\nzz\n' | HOME=$T fuzzel --dmenu >"$T/fuzzel.out" 2>"$T/fuzzel.err" &
FUZZEL_PID=$!
GUEST_PID[fuzzel]=$FUZZEL_PID
deadline=$((SECONDS + E2E_TIMEOUT))
until screenshot "$T/fuzzel.ppm" && ! $PY "$TEST_LIB/pixels.py" "$T/fuzzel.ppm" pixel 640 360 1e1e1e 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || fail "fuzzel did not show up"
	kill -0 $FUZZEL_PID || fail "fuzzel exited while locked (it took the keyboard from the locker and lost it?)"
	sleep 0.2
done
timeout "$E2E_TIMEOUT" wtype z || fail "wtype failed"
kill -KILL $LOCK_PID
wait $LOCK_PID 2>/dev/null || true
unset "GUEST_PID[swaylock]"
wait_until_count "$VITRAIL_ERR" 'screen unlocked' 2 "the second unlock"
# unlocked: a click gives the launcher the keyboard, Return picks the first
# entry matching what it got: 'aa' unless the 'z' got through
"$VT_POINTER" move 640 360 click left || fail "vt-pointer failed"
timeout "$E2E_TIMEOUT" wtype -k Return || fail "wtype failed"
deadline=$((SECONDS + E2E_TIMEOUT))
while kill -0 $FUZZEL_PID 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || fail "fuzzel did not take the click and Return after the unlock"
	sleep 0.1
done
unset "GUEST_PID[fuzzel]"
[ "$(cat "$T/fuzzel.out")" = aa ] || fail "fuzzel got keys while locked: it chose '$(cat "$T/fuzzel.out")'"
pass
