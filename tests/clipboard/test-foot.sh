#!/bin/bash
# Copy and paste between two foot terminals in two VMs by keyboard only.
# In VM a the text is only the primary selection (as when selected with the
# mouse in a terminal); Super+C on a's foot copies it (the clipboard is
# empty, so the primary selection is taken); Super+V on b's foot makes it
# b's clipboard and primary selection; foot's own keys then paste it:
# Shift+Insert (primary) and Ctrl+Shift+V (clipboard), which vitrail leaves
# to the apps.
. "${TEST_LIB:?run through meson test}/clipboard.sh"

write_config "$T/vitrail.ini" <<INI
[vm a]
label = red
[vm b]
label = green
INI
start_vitrail "$T/vitrail.ini"
: >"$T/b-typed.txt"
start_agent a a foot -T a-foot -w 300x160 sh -c 'exec cat >/dev/null'
start_agent b b foot -T b-foot -w 300x160 sh -c "exec cat >'$T/b-typed.txt'"
wait_windows a 1
wait_windows b 1

printf 'primary of a' | in_vm a wl-copy --primary || fail "wl-copy --primary in a failed"
[ "$(in_vm a wl-paste --primary --no-newline)" = "primary of a" ] || fail "a has no primary selection"
in_vm a wl-paste --no-newline >/dev/null 2>&1 && fail "a has a clipboard selection"

focus a
keys_copy
wait_log "copied 12 bytes from [a]"
focus b
keys_paste
wait_log "pasted 12 bytes from [a] into [b]"
[ "$(in_vm b wl-paste --no-newline)" = "primary of a" ] || fail "b's clipboard: $(in_vm b wl-paste --no-newline)"
[ "$(in_vm b wl-paste --primary --no-newline)" = "primary of a" ] || fail "b's primary selection: $(in_vm b wl-paste --primary --no-newline)"

# foot's own paste keys: Shift+Insert, then Ctrl+Shift+V
wtype -M shift -k Insert -m shift || fail "wtype failed"
wtype -k Return || fail "wtype failed"
wtype -M ctrl -M shift v -m shift -m ctrl || fail "wtype failed"
wtype -k Return || fail "wtype failed"
deadline=$((SECONDS + E2E_TIMEOUT))
until [ "$(grep -c '^primary of a$' "$T/b-typed.txt")" = 2 ]; do
	[ $SECONDS -lt $deadline ] || fail "foot in b pasted: $(cat "$T/b-typed.txt")"
	sleep 0.1
done
# Ctrl+Shift+V was foot's, not a vitrail paste (that would log another)
[ "$(log_count "pasted ")" = 1 ] || fail "vitrail took Ctrl+Shift+V"
pass
