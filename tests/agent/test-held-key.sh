#!/bin/bash
# A key held down in VM A while the focus moves to VM B is released in A at
# once (Qubes QSB-104: a guest went on repeating a key after the focus had
# moved): A's app gets the key's release before the keyboard leaves it, so
# its repeat stops, and the key is not shown held when the focus comes
# back. vt-client --keys logs the keyboard events it gets.
. "${TEST_LIB:?run through meson test}/agent.sh"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm personal]
label = green
INI
start_vitrail "$T/vitrail.ini"

start_agent work work sh -c "exec '$VT_CLIENT' --keys 1 --title held >'$T/keys.log'"
start_agent personal personal "$VT_CLIENT" --title other
wait_windows work 1
wait_windows personal 1

ctl focus "$(win work id)" || fail "cannot focus the work window"
py_state "[x for x in w if x['vm'] == 'work'][0]['focused']" || fail "work is not focused"
wait_line "$T/keys.log" '^key-enter 0$' "the keyboard entering work's window"

# hold 'a' in work for 3 s (its code is wtype's keymap's); move the focus
# to personal meanwhile
wtype -P a -s 3000 -p a &
wtype_pid=$!
BG_PIDS+=("$wtype_pid")
wait_line "$T/keys.log" '^key [0-9]+ pressed$' "the held key in work"
code=$(sed -n 's/^key \([0-9]*\) pressed$/\1/p' "$T/keys.log" | head -n 1)
ctl focus "$(win personal id)" || fail "cannot focus the personal window"
wait_line "$T/keys.log" '^key-leave$' "the keyboard leaving work's window"
# the release comes before the leave, while the key is still held
sed -n "/^key $code pressed\$/,/^key-leave\$/p" "$T/keys.log" | grep -qx "key $code released" ||
	fail "work's app got no release before the leave: $(tr '\n' ' ' <"$T/keys.log")"
wait "$wtype_pid" || fail "wtype failed"

# back in work: no key held, nothing more came while it was away
ctl focus "$(win work id)" || fail "cannot focus the work window again"
# (the first enter is there already: wait for the count, not the line)
deadline=$((SECONDS + E2E_TIMEOUT))
until [ "$(grep -c '^key-enter' "$T/keys.log")" -ge 2 ]; do
	[ $SECONDS -lt $deadline ] || fail "the keyboard did not come back: $(tr '\n' ' ' <"$T/keys.log")"
	sleep 0.05
done
sleep 0.2 # anything that would follow the enter
[ "$(grep -c '^key-enter' "$T/keys.log")" = 2 ] || fail "keyboard entered $(grep -c '^key-enter' "$T/keys.log") times"
[ "$(tail -n 1 "$T/keys.log")" = "key-enter 0" ] ||
	fail "work's window got on return: $(tr '\n' ' ' <"$T/keys.log")"
[ "$(grep -c "^key $code " "$T/keys.log")" = 2 ] ||
	fail "work's app got more of the key: $(tr '\n' ' ' <"$T/keys.log")"
pass
