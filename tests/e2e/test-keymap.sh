#!/bin/bash
# Every client keyboard gets a keymap before any enter: after a virtual
# keyboard (wtype) has come and gone, a host client that maps and takes the
# keyboard (fuzzel) must get one, not crash, and take keys.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
command -v wtype >/dev/null || fail "wtype is not installed"
command -v fuzzel >/dev/null || fail "fuzzel is not installed"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"
# a virtual keyboard comes, types, and goes
timeout "$E2E_TIMEOUT" wtype a || fail "wtype failed"
sleep 0.3
printf 'aa\nzz\n' | HOME=$T fuzzel --dmenu >"$T/fuzzel.out" 2>"$T/fuzzel.err" &
FUZZEL_PID=$!
GUEST_PID[fuzzel]=$FUZZEL_PID
deadline=$((SECONDS + E2E_TIMEOUT))
until screenshot "$T/f.ppm" && ! $PY "$TEST_LIB/pixels.py" "$T/f.ppm" pixel 640 360 1e1e1e 2>/dev/null; do
	kill -0 $FUZZEL_PID 2>/dev/null || {
		st=0
		wait $FUZZEL_PID || st=$?
		fail "fuzzel died (status $st) on the keyboard enter: $(tail -n 3 "$T/fuzzel.err")"
	}
	[ $SECONDS -lt $deadline ] || fail "fuzzel did not show up"
	sleep 0.2
done
sleep 0.5
kill -0 $FUZZEL_PID 2>/dev/null || {
	st=0
	wait $FUZZEL_PID || st=$?
	fail "fuzzel died (status $st): $(tail -n 3 "$T/fuzzel.err")"
}
# it has the keyboard and a keymap: 'z' filters, Return picks zz
timeout "$E2E_TIMEOUT" wtype z || fail "wtype failed"
sleep 0.2
timeout "$E2E_TIMEOUT" wtype -k Return || fail "wtype failed"
deadline=$((SECONDS + E2E_TIMEOUT))
while kill -0 $FUZZEL_PID 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || fail "fuzzel did not take the keys"
	sleep 0.1
done
unset "GUEST_PID[fuzzel]"
[ "$(cat "$T/fuzzel.out")" = zz ] || fail "fuzzel chose '$(cat "$T/fuzzel.out")', want zz"
pass
