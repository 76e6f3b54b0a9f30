#!/bin/bash
# The session lock (ext-session-lock-v1) with Debian's swaylock and the
# test locker vt-locker. While locked, the screen shows only the locker (or
# the host's locked screen) and no key, click or key binding reaches a guest
# or the compositor's actions. Killing the locker keeps the session locked;
# a new locker takes over and unlocks. Skipped (77) without swaylock.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${VT_POINTER:?run through meson test}" "${VT_LOCKER:?run through meson test}"
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

count_lines() { grep -c -- "$2" "$1" || true; }
wait_count() { # FILE REGEX N WHAT
	local deadline=$((SECONDS + E2E_TIMEOUT))
	until [ "$(count_lines "$1" "$2")" -ge "$3" ]; do
		[ $SECONDS -lt $deadline ] || fail "timeout waiting for $4"
		sleep 0.1
	done
}

# swaylock dies (killed, as if it crashed): the session stays locked, on the
# host's own locked screen, and still nothing reaches the guest
kill -KILL $LOCK_PID
wait $LOCK_PID 2>/dev/null || true
unset "GUEST_PID[swaylock]"
wait_line "$VITRAIL_ERR" 'went away without unlocking' "the compositor to see the locker die"
deadline=$((SECONDS + E2E_TIMEOUT))
until screenshot "$T/dead.ppm" && $PY "$TEST_LIB/pixels.py" "$T/dead.ppm" rect 0 0 1280 720 101418 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || pixels "$T/dead.ppm" rect 0 0 1280 720 101418
	sleep 0.2
done
timeout "$E2E_TIMEOUT" wtype d || fail "wtype failed"
"$VT_POINTER" move 100 150 click left || fail "vt-pointer failed"
ctl focus "$id" || fail "vitrailctl focus failed"
vitrail_alive || fail "vitrail died"

# A new locker takes over (it gets 'locked' and shows its surfaces); while
# it lives a second one is refused ('finished'); it unlocks.
start_locker() { # NAME COLOR: vt-locker with its stdin on fd 7 (or 8)
	mkfifo "$T/$1.in"
	"$VT_LOCKER" "$2" <"$T/$1.in" >"$T/$1.out" 2>&1 &
	GUEST_PID[$1]=$!
}
start_locker locker1 405060
exec 7>"$T/locker1.in"
wait_line "$T/locker1.out" '^locked$' "the new locker to take over"
wait_line "$VITRAIL_ERR" 'a new locker took over' "the compositor to hand over the lock"
deadline=$((SECONDS + E2E_TIMEOUT))
# (the pointer at 100,150 shows the default cursor over the locker's surface)
until screenshot "$T/taken.ppm" && $PY "$TEST_LIB/pixels.py" "$T/taken.ppm" rect 0 0 1280 140 405060 2>/dev/null &&
	$PY "$TEST_LIB/pixels.py" "$T/taken.ppm" rect 0 180 1280 540 405060 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || pixels "$T/taken.ppm" rect 0 0 1280 140 405060
	sleep 0.2
done
set +e
"$VT_LOCKER" 000000 </dev/null >"$T/locker2.out" 2>&1
st=$?
set -e
[ $st = 3 ] && grep -qx finished "$T/locker2.out" ||
	fail "a second locker was not refused while the first lives (status $st: $(cat "$T/locker2.out"))"
echo unlock >&7
wait_line "$T/locker1.out" '^unlocked$' "the locker to unlock"
exec 7>&-
unset "GUEST_PID[locker1]"
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
# two keys in all (a, c), each pressed and released: b and d never arrived
[ "$(grep -c '^key ' "$T/g.out")" = 4 ] || fail "the guest got keys typed while locked: $(grep '^key ' "$T/g.out")"

# A locker that destroys its lock after 'locked' (a protocol error) is cut
# off and the session stays locked.
start_locker locker3 405060
exec 7>"$T/locker3.in"
wait_line "$T/locker3.out" '^locked$' "the third locker"
echo destroy >&7
wait_line "$T/locker3.out" '^destroyed error$' "the protocol error"
exec 7>&-
unset "GUEST_PID[locker3]"
wait_count "$VITRAIL_ERR" 'went away without unlocking' 2 "the compositor to stay locked"
ctl focus "$id" || fail "vitrailctl focus failed"
timeout "$E2E_TIMEOUT" wtype e || fail "wtype failed"

# A launcher mapping while locked (an exclusive-keyboard overlay surface,
# which normally takes the keyboard when it maps) gets no key: the 'z'
# typed while locked must not filter its list.
start_locker locker4 405060
exec 7>"$T/locker4.in"
wait_line "$T/locker4.out" '^locked$' "the fourth locker"
printf 'aa\nzz\n' | HOME=$T fuzzel --dmenu >"$T/fuzzel.out" 2>"$T/fuzzel.err" &
FUZZEL_PID=$!
GUEST_PID[fuzzel]=$FUZZEL_PID
sleep 1 # fuzzel maps under the locked screen (nothing shows it)
kill -0 $FUZZEL_PID || fail "fuzzel exited while locked"
timeout "$E2E_TIMEOUT" wtype z || fail "wtype failed"
echo unlock >&7
wait_line "$T/locker4.out" '^unlocked$' "the locker to unlock"
exec 7>&-
unset "GUEST_PID[locker4]"
wait_count "$VITRAIL_ERR" 'screen unlocked' 2 "the second unlock"
deadline=$((SECONDS + E2E_TIMEOUT))
until screenshot "$T/fuzzel.ppm" && ! $PY "$TEST_LIB/pixels.py" "$T/fuzzel.ppm" pixel 640 360 1e1e1e 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || fail "fuzzel did not show up after the unlock"
	sleep 0.2
done
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
# the guest never got d or e either
[ "$(grep -c '^key ' "$T/g.out")" = 4 ] || fail "the guest got keys typed while locked: $(grep '^key ' "$T/g.out")"
pass
