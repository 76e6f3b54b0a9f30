#!/bin/bash
# Idle (swayidle over org_kde_kwin_idle) and idle inhibitors: the session
# goes idle without input and comes back on a key; a host window with an
# idle inhibitor keeps it awake, but not while the session is locked; a
# guest app's inhibitor counts only for a VM with idle-inhibit = true.
# Skipped (77) without swayidle.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${VT_INHIBIT:?run through meson test}" "${VT_LOCKER:?run through meson test}"
command -v swayidle >/dev/null || {
	echo "swayidle is not installed: skipped"
	STATUS=pass
	exit 77
}
command -v wtype >/dev/null || fail "wtype is not installed"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm video]
label = green
idle-inhibit = true
INI
start_vitrail "$T/vitrail.ini"

count_lines() { grep -c -- "$2" "$1" 2>/dev/null || true; }
wait_count() { # FILE REGEX N WHAT
	local deadline=$((SECONDS + E2E_TIMEOUT))
	until [ "$(count_lines "$1" "$2")" -ge "$3" ]; do
		[ $SECONDS -lt $deadline ] || fail "timeout waiting for $4"
		sleep 0.1
	done
}

: >"$T/idle.log"
swayidle -w timeout 1 "echo idle >>'$T/idle.log'" resume "echo resume >>'$T/idle.log'" \
	>"$T/swayidle.out" 2>&1 &
GUEST_PID[swayidle]=$!

# no input for a second: idle; a key: back
wait_count "$T/idle.log" '^idle$' 1 "the session to go idle"
timeout "$E2E_TIMEOUT" wtype a || fail "wtype failed"
wait_count "$T/idle.log" '^resume$' 1 "a key to end the idle state"

# a host window with an inhibitor: no idle while it shows
mkfifo "$T/inhibit.in"
"$VT_INHIBIT" <"$T/inhibit.in" >"$T/inhibit.out" 2>&1 &
GUEST_PID[inhibit]=$!
exec 7>"$T/inhibit.in"
wait_line "$T/inhibit.out" '^inhibiting$' "the inhibitor"
wait_line "$VITRAIL_ERR" 'idle inhibited by a client' "the compositor to honour the inhibitor"
timeout "$E2E_TIMEOUT" wtype b || fail "wtype failed" # restart the timer
wait_count "$T/idle.log" '^idle$' 2 "the session to go idle" &
waiter=$!
sleep 2.5
if ! kill -0 $waiter 2>/dev/null; then
	fail "the session went idle although a host window inhibits it: $(cat "$T/idle.log")"
fi
kill $waiter 2>/dev/null || true

# locked, the inhibitor does not count: the locked session goes idle
mkfifo "$T/locker.in"
"$VT_LOCKER" 405060 <"$T/locker.in" >"$T/locker.out" 2>&1 &
GUEST_PID[locker]=$!
exec 8>"$T/locker.in"
wait_line "$T/locker.out" '^locked$' "the locker"
wait_count "$T/idle.log" '^idle$' 2 "the locked session to go idle despite the inhibitor"
echo unlock >&8
wait_line "$T/locker.out" '^unlocked$' "the unlock"
exec 8>&-
unset "GUEST_PID[locker]"
timeout "$E2E_TIMEOUT" wtype c || fail "wtype failed"
wait_count "$T/idle.log" '^resume$' 2 "a key to end the idle state"

# the window goes: idle again
exec 7>&-
wait_gone "${GUEST_PID[inhibit]}" "vt-inhibit to exit"
unset "GUEST_PID[inhibit]"
wait_line "$VITRAIL_ERR" 'idle allowed' "the inhibitor to go"
wait_count "$T/idle.log" '^idle$' 3 "the session to go idle once the inhibitor is gone"

# a guest app's inhibitor does not count for a VM without idle-inhibit
# (the default): the session goes idle all the same
# (stdin held open: vt-inhibit holds on until its stdin ends)
start_agent a work sh -c "sleep 600 | \"$VT_INHIBIT\""
wait_line "$T/agent-a.log" '^inhibiting$' "the guest app's inhibitor"
wait_line "$VITRAIL_ERR" '\[vm work\] an app asks to keep the session awake: not allowed' \
	"vitrail to refuse work's inhibitor"
timeout "$E2E_TIMEOUT" wtype d || fail "wtype failed"
wait_count "$T/idle.log" '^idle$' 4 "the session to go idle despite work's inhibitor"
stop_agent a

# ...and counts for a VM with idle-inhibit = true, while its window shows
start_agent v video sh -c "sleep 600 | \"$VT_INHIBIT\""
wait_line "$T/agent-v.log" '^inhibiting$' "the guest app's inhibitor"
wait_line "$VITRAIL_ERR" 'idle inhibited by a client' "vitrail to honour video's inhibitor"
timeout "$E2E_TIMEOUT" wtype e || fail "wtype failed"
wait_count "$T/idle.log" '^idle$' 5 "the session to go idle" &
waiter=$!
sleep 2.5
if ! kill -0 $waiter 2>/dev/null; then
	fail "the session went idle although video's app inhibits it: $(cat "$T/idle.log")"
fi
kill $waiter 2>/dev/null || true
# the app goes: idle again
stop_agent v
wait_count "$T/idle.log" '^idle$' 5 "the session to go idle once video's app is gone"
pass
