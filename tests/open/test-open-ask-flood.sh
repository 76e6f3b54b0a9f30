#!/bin/bash
# A hostile VM and the @ask chooser (which takes the keyboard while shown):
# it may have one question at a time (a second one is denied at once, not
# queued), and after the user cancelled three of its questions in a row its
# next ones are denied without showing the chooser, so that a guest cannot
# keep the chooser on the screen in a loop.
. "${TEST_LIB:?run through meson test}/open.sh"

write_config "$T/vitrail.ini" <<EOF2
[vm a]
label = blue
[vm evil]
label = red
EOF2
start_vitrail "$T/vitrail.ini"
err=$VITRAIL_ERR

url() { # ID: an OPEN_URL message for fake-guest's "msg"
	printf 'msg 80 0 %s\n' "$($PY -c "import struct,sys; \
print((struct.pack('<I', $1) + b'https://example.org/$1').hex())")"
}
{
	url 1
	url 2
	echo "wait open-result 2 1"
	echo "wait open-result 1 6"
	url 3
	echo "wait open-result 3 6"
	url 4
	echo "wait open-result 4 6"
	url 5
	echo "wait open-result 5 1 the user cancelled 3 requests of VM evil in a row"
	echo "echo done"
} >"$T/evil.script"
timeout "$E2E_TIMEOUT" "$FAKE_GUEST" --socket "$XDG_RUNTIME_DIR/vitrail/vm/evil.sock" \
	--timeout "$E2E_TIMEOUT" --script "$T/evil.script" >"$T/evil.out" 2>"$T/evil.err" &
guest=$!

asked() { # N: the chooser was shown N times for evil
	[ "$(grep -c 'open: asking where to open a request from evil' "$err")" -ge "$1" ]
}
for n in 1 2 3; do
	wait_for "question $n of evil" asked $n
	wtype -k Escape
done
wait "$guest" || fail "the fake guest failed: $(tail -3 "$T/evil.err")"
grep -q '^open-result 2 1 ' "$T/evil.out" || fail "a second question of evil was not denied"
grep -q '^done' "$T/evil.out" || fail "evil's fifth request was not denied"
[ "$(grep -c 'open: asking where to open a request from evil' "$err")" = 3 ] ||
	fail "the chooser was shown for more than 3 requests of evil"
pass
