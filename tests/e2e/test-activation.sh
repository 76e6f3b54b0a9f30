#!/bin/bash
# xdg-activation-v1 for host clients (issue 15 §4): a token made for an
# input event on the seat (here a click on host window A) hands the focus
# to another host window (B) even while a VM's window has it; a token that
# names no input event, or one the compositor never made, changes nothing.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${VT_POINTER:?run through meson test}" "${VT_ACTIVATE:?run through meson test}"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"

# start_host NAME: vt-activate titled NAME, fed through $T/NAME.in
start_host() {
	local fd
	rm -f "$T/$1.in"
	mkfifo "$T/$1.in"
	"$VT_ACTIVATE" "$1" <"$T/$1.in" >"$T/$1.out" 2>"$T/$1.err" &
	BG_PIDS+=($!)
	exec {fd}>"$T/$1.in"
	eval "FD_$1=$fd"
}
host() { # NAME LINE
	local fd="FD_$1"
	printf '%s\n' "$2" >&"${!fd}" || fail "vt-activate $1 is gone"
}
focused_is() { # TITLE
	ctl windows --json >"$T/windows.json" || return 1
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if [w["title"] for w in d if w["focused"]] == [sys.argv[2]] else 1)' \
		"$T/windows.json" "$1"
}
token_of() { # NAME: the last token NAME printed
	sed -n 's/^token //p' "$T/$1.out" | tail -n 1
}

start_host A
wait_line "$T/A.out" '^mapped$' "host window A"
start_host B
wait_line "$T/B.out" '^mapped$' "host window B"

start_guest w work
guest w "window 1 300x200"
guest w "fill 1 0000ff"
guest w "wait-frame 1"
guest_sync w
wait_windows work 1
wid=$(json_get "$T/windows.json" '[w["id"] for w in d if w["vm"] == "work"][0]')
ctl focus "$wid" >/dev/null || fail "vitrailctl focus failed"
wait_for "the VM's window to have the focus" focused_is ""

# A token that names no input event: refused.
host B token
wait_line "$T/B.out" '^token ' "a token for B"
host B "activate $(token_of B)"
wait_line "$T/B.out" '^requested$' "B's activation request"
wait_line "$VITRAIL_ERR" 'xdg-activation of "B" refused' "the refusal"
focused_is "" || fail "a token without an input event moved the focus"

# A token vitrail never made: nothing.
host B "activate not-a-token"
wait_line "$T/B.out" '^requested$' "B's activation request"
sleep 0.2
focused_is "" || fail "an unknown token moved the focus"

# The user clicks A; A makes a token for that click and passes it to B:
# B gets the focus.
read -r ax ay < <(json_get "$T/windows.json" "' '.join(str(w[k]) for w in d if w['title'] == 'A' for k in ('x', 'y'))")
"$VT_POINTER" move $((ax + 10)) $((ay + 10)) click left || fail "vt-pointer failed"
wait_line "$T/A.out" '^button$' "the click on A"
wait_for "A to have the focus after the click" focused_is A
host A token-click
wait_line "$T/A.out" '^token ' "a token for the click on A"
host B "activate $(token_of A)"
wait_for "B to be activated with A's token" focused_is B
pass
