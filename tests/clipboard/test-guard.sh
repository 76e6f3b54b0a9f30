#!/bin/bash
# The host's side of the clipboard protocol against a scripted guest that
# breaks the rules: an answer nobody asked for, a wrong serial, more than
# max_bytes — each disconnects the VM; an answer in chunks that split UTF-8
# sequences is put together; a guest that never answers is given up on
# (and a new copy from it waits); a paste reaches the guest as
# CLIPBOARD_SET chunks of exactly the text.
. "${TEST_LIB:?run through meson test}/clipboard.sh"

write_config "$T/vitrail.ini" <<INI
[vm x]
label = purple
[vm a]
label = red
[clipboard]
max-bytes = 4k
INI
start_vitrail "$T/vitrail.ini"
start_agent a a "$VT_CLIENT" --title a-window --size 200x120
wait_windows a 1

CLIP_GUEST_PID=
CLIP_GUEST_N=0
# clip_guest MODE [HEXTEXT]: a new scripted guest of VM x (output in $T/guest-N.out)
clip_guest() {
	CLIP_GUEST_N=$((CLIP_GUEST_N + 1))
	$PY "$CLIPBOARD_TEST_DIR/clip-guest.py" "$XDG_RUNTIME_DIR/vitrail/vm/x.sock" "$@" \
		>"$T/guest-$CLIP_GUEST_N.out" 2>&1 &
	CLIP_GUEST_PID=$!
}
clip_guest_says() { # REGEX
	grep -Eq -- "$1" "$T/guest-$CLIP_GUEST_N.out"
}
clip_guest_wait() { # REGEX
	wait_for "'$1' from the scripted guest" clip_guest_says "$1"
}
clip_guest_end() {
	kill "$CLIP_GUEST_PID" 2>/dev/null || true
	wait "$CLIP_GUEST_PID" 2>/dev/null || true
	wait_for "x to be disconnected" py_state "not [x for x in v if x['name'] == 'x'][0]['connected']"
}
hex() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# the real agent with nothing selected answers EMPTY
focus a
keys_copy
wait_log "clipboard: nothing copied: no text is selected in [a]"

# an answer nobody asked for
clip_guest unsolicited
clip_guest_wait '^disconnected'
wait_log "[vm x] disconnected: CLIPBOARD_DATA answers no CLIPBOARD_REQUEST"
wait_windows x 0
clip_empty

# a good answer in three chunks, cut inside UTF-8 sequences
clip_guest answer "$(hex "$TEXT")"
clip_guest_wait '^mapped'
wait_windows x 1
focus x
keys_copy
clip_guest_wait '^request [0-9]+ 4097$'
wait_log "clipboard: copied $TEXT_BYTES bytes from [x]"
focus a
keys_paste
wait_for "x's text in a" selection_is a "$TEXT"
# a paste into x arrives as CLIPBOARD_SET with exactly the text
copy_in a 'to x: ✓ ok'
keys_copy
wait_log "clipboard: copied 12 bytes from [a]"
focus x
keys_paste
clip_guest_wait "^set 12 $(hex 'to x: ✓ ok')\$"
clip_empty
# a copy from x with no text: EMPTY is fine
clip_guest_end

clip_guest answer ''
clip_guest_wait '^mapped'
focus x
keys_copy
wait_log "clipboard: nothing copied: no text is selected in [x]"
clip_guest_end

# a wrong serial
clip_guest wrong-serial
clip_guest_wait '^mapped'
focus x
keys_copy
clip_guest_wait '^disconnected'
wait_log "[vm x] disconnected: CLIPBOARD_DATA answers no CLIPBOARD_REQUEST" 2
wait_log "clipboard: copy from [x] failed: its agent went away"
clip_empty

# more than max_bytes
clip_guest oversize
clip_guest_wait '^mapped'
focus x
keys_copy
clip_guest_wait '^disconnected'
wait_log "[vm x] disconnected: CLIPBOARD_DATA: more than the 4097 bytes asked for"
clip_empty

# no answer at all: the copy is given up, the VM stays
clip_guest silent
clip_guest_wait '^mapped'
focus x
keys_copy
clip_guest_wait '^request '
wait_log "clipboard: copy from [x] failed: its agent did not answer in time"
clip_empty
keys_copy
wait_log "clipboard: copy from [x] not started: the last one is still pending"
py_state "[x for x in v if x['name'] == 'x'][0]['connected']" || fail "x was disconnected"
[ "$(grep -c '^request ' "$T/guest-$CLIP_GUEST_N.out")" = 1 ] || fail "a second request was sent"
clip_guest_end

py_state "[x for x in v if x['name'] == 'a'][0]['connected']" || fail "a was disconnected"
pass
