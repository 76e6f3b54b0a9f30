#!/bin/bash
# Host <-> VM through the same two keys: a host app's selection (wl-copy on
# the host) is copied in from a focused host window and pasted into a VM;
# a VM's text pasted on a host window becomes the host selection (served
# by the compositor); the policy applies to "host" too; notices go away.
. "${TEST_LIB:?run through meson test}/clipboard.sh"

write_config "$T/vitrail.ini" <<INI
[vm a]
label = red
[vm b]
label = green
[clipboard]
deny = b -> host
INI
start_vitrail "$T/vitrail.ini"

start_agent a a "$VT_CLIENT" --title a-window --size 200x120
start_agent b b "$VT_CLIENT" --title b-window --size 200x120
"$VT_CLIENT" --title host-window --size 200x120 >"$T/host-client.log" 2>&1 &
HOST_CLIENT=$!
wait_windows a 1
wait_windows b 1
wait_for "the host window" py_state "len([x for x in w if x['vm'] is None]) == 1"

focus_host() {
	ctl focus "$(py_state "[x for x in w if x['vm'] is None][0]['id']")" ||
		fail "cannot focus the host window"
}
host_selection_is() { # TEXT
	[ "$(timeout "$E2E_TIMEOUT" wl-paste -n 2>/dev/null)" = "$1" ]
}

# host -> a
HOST_TEXT='from the host: ünïcödé ✓'
timeout "$E2E_TIMEOUT" wl-copy -- "$HOST_TEXT" || fail "wl-copy on the host failed"
wait_for "the host selection" host_selection_is "$HOST_TEXT"
no_selection a || fail "a sees the host selection"
focus_host
keys_copy
n=$(printf '%s' "$HOST_TEXT" | wc -c)
wait_log "clipboard: copied $n bytes from [host]"
clip "d.get('source') == 'host' and d.get('bytes') == $n" ||
	fail "clipboard after a host copy: $(cat "$T/clip.json")"
no_selection a || fail "a sees the host selection before the paste"
focus a
keys_paste
wait_for "the host's text in a" selection_is a "$HOST_TEXT"
wait_log "clipboard: pasted $n bytes from [host] into [a]"
clip_empty
no_selection b || fail "b sees the host's text"

# a -> host: the compositor serves the host selection
A_TEXT='from a: 漢字 ✓'
copy_in a "$A_TEXT"
keys_copy
wait_log "clipboard: copied $(printf '%s' "$A_TEXT" | wc -c) bytes from [a]"
host_selection_is "$HOST_TEXT" || fail "the host selection changed on a copy"
focus_host
keys_paste
wait_for "a's text as the host selection" host_selection_is "$A_TEXT"
wait_log "clipboard: pasted $(printf '%s' "$A_TEXT" | wc -c) bytes from [a] into [host]"
clip_empty
host_selection_is "$A_TEXT" || fail "the host selection can be read only once"

# the compositor's own host selection copies back in (it reads from itself
# without blocking) and goes on to b
keys_copy
wait_log "clipboard: copied $(printf '%s' "$A_TEXT" | wc -c) bytes from [host]"
focus b
keys_paste
wait_for "the text in b" selection_is b "$A_TEXT"

# deny = b -> host
copy_in b 'secret of b'
keys_copy
wait_log "clipboard: copied 11 bytes from [b]"
focus_host
keys_paste
wait_log "clipboard: paste from [b] into [host] refused by the clipboard policy"
host_selection_is "$A_TEXT" || fail "the host selection changed despite deny = b -> host"
clip "d.get('source') == 'b'" || fail "the refused text left the clipboard"

# a copy with no text selected on the host: refused, the clipboard emptied
timeout "$E2E_TIMEOUT" wl-copy --clear || fail "wl-copy --clear failed"
wait_for "no host selection" sh -c '! timeout 5 wl-paste -n >/dev/null 2>&1'
keys_copy
wait_log "clipboard: nothing copied: no text is selected in [host]"
clip_empty

# notices go away by themselves
wait_pixels "the notices gone" "rect $NOTICE_X $NOTICE_Y 380 200 1e1e1e"

kill "$HOST_CLIENT" 2>/dev/null || true
wait "$HOST_CLIENT" 2>/dev/null || true
pass
