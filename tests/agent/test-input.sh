#!/bin/bash
# Text typed through the host's virtual keyboard (wtype) reaches foot in
# the focused VM only: the shell in each foot writes what it reads to a
# file of its own.
. "${TEST_LIB:?run through meson test}/agent.sh"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm personal]
label = green
INI
start_vitrail "$T/vitrail.ini"

: >"$T/work.txt"
: >"$T/personal.txt"
start_agent work work foot -w 400x240 sh -c "exec cat >'$T/work.txt'"
start_agent personal personal foot -w 400x240 sh -c "exec cat >'$T/personal.txt'"
wait_windows work 1
wait_windows personal 1

file_is() { # FILE TEXT
	[ "$(cat "$1")" = "$2" ]
}

ctl focus "$(win work id)" || fail "cannot focus the work window"
py_state "[x for x in w if x['vm'] == 'work'][0]['focused']" || fail "work is not focused"
wtype 'Hello from work: 1+1=2' || fail "wtype failed"
wtype -k Return
wait_for "the text in work's shell" file_is "$T/work.txt" 'Hello from work: 1+1=2'
[ ! -s "$T/personal.txt" ] || fail "personal received: $(cat "$T/personal.txt")"

ctl focus "$(win personal id)" || fail "cannot focus the personal window"
py_state "[x for x in w if x['vm'] == 'personal'][0]['focused']" || fail "personal is not focused"
wtype 'Personal, Ünïcode ok'
wtype -k Return
wait_for "the text in personal's shell" file_is "$T/personal.txt" 'Personal, Ünïcode ok'
file_is "$T/work.txt" 'Hello from work: 1+1=2' || fail "work received more: $(cat "$T/work.txt")"

# modifiers travel too: Ctrl+C in personal's foot ends its shell (and
# foot with it); work's window and text stay.
personal_app=$(agent_app personal)
wtype -M ctrl c -m ctrl
wait_windows personal 0
wait_for "personal's foot to exit" sh -c "! kill -0 $personal_app"
windows_are work 1 || fail "work's window went too"
file_is "$T/work.txt" 'Hello from work: 1+1=2' || fail "work received more: $(cat "$T/work.txt")"
pass
