# shellcheck shell=bash
# Helpers of the clipboard's end-to-end tests, on top of agent.sh (a private
# XDG_RUNTIME_DIR, a headless vitrail, real agents, timeouts on every
# wait). Sourced by tests/clipboard/test-*.sh as ". "$TEST_LIB/clipboard.sh"".
# Environment from meson: that of agent.sh plus CLIPBOARD_TEST_DIR.

# shellcheck source=agent.sh
. "$TEST_LIB/agent.sh"
require_env CLIPBOARD_TEST_DIR
require_tools wl-copy wl-paste # wl-clipboard
# the tests that want a session bus start their own
unset DBUS_SESSION_BUS_ADDRESS

TEXT='héllo wörld ✓ 漢字'
TEXT_BYTES=24
RED=cc0000
HOST_RGB=2e3436
# an on-screen notice: the newest is at the top-right corner of the
# 1280x720 output, 380x40, 16 px from the edges, an 8 px stripe in the VM's
# label color on its left; the background tells success from refusal
NOTICE_X=$((1280 - 16 - 380))
NOTICE_Y=16
NOTICE_BG=262626
NOTICE_REFUSED_BG=5a1e1e

# log_count TEXT: how many lines of vitrail's log contain TEXT.
log_count() {
	grep -cF -- "$1" "$VITRAIL_ERR" || true
}

log_has() { # TEXT N
	[ "$(log_count "$1")" -ge "$2" ]
}

# wait_log TEXT [N]: until N (default 1) lines of vitrail's log contain TEXT.
wait_log() {
	wait_for "'$1' (x${2:-1}) in vitrail's log" log_has "$1" "${2:-1}"
}

# The bindings, typed through the host's virtual keyboard.
keys_copy() {
	wtype -M logo c -m logo || fail "wtype failed"
}
keys_paste() {
	wtype -M logo v -m logo || fail "wtype failed"
}

# focus VM: focus VM's window (its only one, or the one titled $2).
focus() {
	ctl focus "$(win "$1" id "${2:-}")" || fail "cannot focus $1's window"
	py_state "[x for x in w if x['vm'] == '$1' and '${2:-}' in x['title']][0]['focused']" ||
		fail "$1's window is not focused"
}

# in_vm VM CMD...: run CMD as a Wayland client of VM's agent.
in_vm() {
	local vm=$1
	shift
	WAYLAND_DISPLAY=agent-$vm timeout "$E2E_TIMEOUT" "$@"
}

# The text selection of a VM, read with wl-paste (data-control: no focus).
selection_of() {
	in_vm "$1" wl-paste -n
}
selection_is() { # VM TEXT
	[ "$(selection_of "$1" 2>/dev/null)" = "$2" ]
}
no_selection() { # VM
	local out
	if out=$(selection_of "$1" 2>/dev/null); then
		printf 'selection of %s: %s\n' "$1" "$out" >&2
		return 1
	fi
}

# copy_in VM TEXT: wl-copy in VM, and wait until VM's own clipboard has it.
copy_in() {
	in_vm "$1" wl-copy -- "$2" || fail "wl-copy in $1 failed"
	wait_for "wl-copy's text in $1's own clipboard" selection_is "$1" "$2"
}

# clip EXPR: EXPR (Python) holds for d = vitrailctl clipboard --json.
clip() {
	ctl clipboard --json >"$T/clip.json" || return 1
	$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2], {"d": d}) else 1)
' "$T/clip.json" "$1"
}

clip_empty() {
	clip "d == {'empty': True}" || fail "the clipboard is not empty: $(cat "$T/clip.json")"
}

# notice_is STRIPE BG: the newest on-screen notice has that stripe and background.
notice_is() {
	echo "rect $NOTICE_X $NOTICE_Y 8 40 $1; rect $((NOTICE_X + 372)) $NOTICE_Y 8 40 $2"
}
