#!/bin/bash
# Text crosses VMs only on an explicit copy and an explicit paste:
# wl-copy in VM a, Super+C on a's window, Super+V on b's window:
# wl-paste in b returns the exact text (multi-byte UTF-8 included), VM c
# never sees it, nothing moves without the keys, the clipboard is empty
# after the paste, a deny rule blocks (and says so), an oversize or
# non-UTF-8 copy is refused, and the keys never reach the guests.
. "${TEST_LIB:?run through meson test}/clipboard.sh"

write_config "$T/vitrail.ini" <<INI
[vm a]
label = red
[vm b]
label = green
[vm c]
label = blue
[clipboard]
max-bytes = 1k
deny = a -> c
INI
# notices stay up for the whole test: the newest is always on top
export VITRAIL_NOTICE_TIMEOUT_MS=600000
start_vitrail "$T/vitrail.ini"

: >"$T/b-typed.txt"
start_agent a a "$VT_CLIENT" --title a-window --size 200x120
# b runs foot with a shell writing what it reads to a file: had a paste key
# reached foot, foot would have pasted b's selection there
start_agent b b foot -w 300x160 sh -c "exec cat >'$T/b-typed.txt'"
start_agent c c "$VT_CLIENT" --title c-window --size 200x120
wait_windows a 1
wait_windows b 1
wait_windows c 1

clip_empty
for vm in a b c; do
	no_selection $vm || fail "$vm starts with a selection"
done

# inside a VM the clipboard works as usual (data-control: no focus needed),
# and stays there
copy_in a "$TEXT"
clip_empty
no_selection b || fail "b sees a's local copy"
no_selection c || fail "c sees a's local copy"

# a paste without a copy: nothing
focus b
keys_paste
wait_log "clipboard: nothing pasted into [b]: the clipboard is empty"
no_selection b || fail "b got something from an empty clipboard"

# copy from a
focus a
keys_copy
wait_log "clipboard: copied $TEXT_BYTES bytes from [a]"
clip "not d['empty'] and d['source'] == 'a' and d['bytes'] == $TEXT_BYTES and d['age'] >= 0" ||
	fail "clipboard state after the copy: $(cat "$T/clip.json")"
ctl clipboard >"$T/clip.txt" || fail "vitrailctl clipboard failed"
grep -q '^source: a$' "$T/clip.txt" || fail "vitrailctl clipboard: $(cat "$T/clip.txt")"
grep -q "^size:   $TEXT_BYTES bytes$" "$T/clip.txt" || fail "vitrailctl clipboard: $(cat "$T/clip.txt")"
grep -qF "$TEXT" "$T/clip.txt" "$T/clip.json" "$VITRAIL_ERR" &&
	fail "the text shows in vitrailctl or the log"
wait_pixels "the copy notice (red stripe)" "$(notice_is $RED $NOTICE_BG)"
# copied, not pasted: nobody else has it
no_selection b || fail "b got the text before the paste"
no_selection c || fail "c got the text before the paste"

# paste into b
focus b
keys_paste
wait_for "the text in b's clipboard" selection_is b "$TEXT"
wait_log "clipboard: pasted $TEXT_BYTES bytes from [a] into [b]"
wait_pixels "the paste notice (green stripe)" "$(notice_is $GREEN $NOTICE_BG)"
clip_empty
no_selection c || fail "c sees the text"
selection_is a "$TEXT" || fail "a lost its own selection"

# the clipboard was emptied by the paste: pasting into c gives nothing
focus c
keys_paste
wait_log "clipboard: nothing pasted into [c]: the clipboard is empty" 1
no_selection c || fail "c got the text after it was pasted once"

# policy: deny = a -> c blocks, says so, and keeps the text
focus a
keys_copy
wait_log "clipboard: copied $TEXT_BYTES bytes from [a]" 2
focus c
keys_paste
wait_log "clipboard: paste from [a] into [c] refused by the clipboard policy"
wait_pixels "the refusal notice (blue stripe, red background)" \
	"$(notice_is $BLUE $NOTICE_REFUSED_BG)"
no_selection c || fail "c got the text despite deny = a -> c"
clip "not d['empty'] and d['source'] == 'a'" || fail "a refused paste emptied the clipboard"
# vitrailctl clipboard clear
ctl clipboard clear || fail "vitrailctl clipboard clear failed"
clip_empty
focus b
keys_paste
wait_log "clipboard: nothing pasted into [b]: the clipboard is empty" 2

# oversize (max-bytes = 1k) is refused, and a refused copy empties the clipboard
big=$(head -c 1025 /dev/zero | tr '\0' x)
exact=$(head -c 1024 /dev/zero | tr '\0' y)
copy_in a "$exact"
focus a
keys_copy
wait_log "clipboard: copied 1024 bytes from [a]"
clip "d.get('bytes') == 1024" || fail "1024 bytes not copied: $(cat "$T/clip.json")"
copy_in a "$big"
keys_copy
wait_log "clipboard: copy from [a] refused: the text is larger than 1024 bytes"
wait_pixels "the oversize notice" "$(notice_is $RED $NOTICE_REFUSED_BG)"
clip_empty

# not UTF-8: refused
printf 'ab\377\376cd' | in_vm a wl-copy -t text/plain || fail "wl-copy failed"
wait_for "the bytes in a's own clipboard" sh -c \
	"WAYLAND_DISPLAY=agent-a wl-paste -n | od -An -tx1 | tr -d ' \n' | grep -qx 6162fffe6364"
keys_copy
wait_log "clipboard: copy from [a] refused: 6 bytes that are not UTF-8 text"
clip_empty
focus b
keys_paste
wait_log "clipboard: nothing pasted into [b]: the clipboard is empty" 3
selection_is b "$TEXT" || fail "b's selection changed"

# the largest text allowed crosses whole
copy_in a "$exact"
focus a
keys_copy
wait_log "clipboard: copied 1024 bytes from [a]" 2
focus b
keys_paste
wait_for "1024 bytes in b's clipboard" selection_is b "$exact"
clip_empty
no_selection c || fail "c sees a selection"

# the keys never reached b's app: only what is typed now arrives
wtype 'done' || fail "wtype failed"
wtype -k Return
wait_for "typed text in b's shell" sh -c "[ \"\$(cat '$T/b-typed.txt')\" = done ]"
py_state "all(x['connected'] for x in v)" || fail "a VM was disconnected: $(cat "$T/vms.json")"
pass
