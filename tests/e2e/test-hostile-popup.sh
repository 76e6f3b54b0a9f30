#!/bin/bash
# A hostile VM's popups (security review, finding 1): a popup never covers
# the screen (bigger than the output minus its border: LIMIT error), is
# anchored inside its parent (else PROTOCOL error), shows only while its
# toplevel has the keyboard, and disappears as soon as the host dismisses
# it, whether or not the guest ever destroys it.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${VT_POINTER:?}"

BLUE=3465a4
RED=cc0000
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm evil]
label = red
INI
start_vitrail "$T/vitrail.ini"

# work: a focused 400x300 window at (32,60).
start_guest w work
guest w "window 1 400x300"
guest w "fill 1 00ff00"
guest w "wait-frame 1"
guest_sync w
wait_windows work 1

# evil: a small window (not focused: work has the keyboard) and a popup as
# large as allowed, anchored at its corner: dismissed at once, never shown.
start_guest e evil
guest e "window 1 50x50"
guest e "fill 1 ff00ff"
guest e "wait-frame 1"
guest_sync e
wait_windows evil 1
guest e "popup 2 1 0 0 1272x712"
guest e "fill 2 ffff00"
guest e "wait-frame 2"
guest_wait e '^popup-done 2$'
guest_sync e
screenshot "$T/unfocused.ppm"
pixels "$T/unfocused.ppm" not-rect 0 0 1280 720 ffff00
pixels "$T/unfocused.ppm" rect 32 60 400 300 00ff00
pixels "$T/unfocused.ppm" frame 32 60 400 300 $BLUE
# a click on work's window goes to work, not to evil
"$VT_POINTER" move 300 300 click left || fail "vt-pointer failed"
guest_wait w '^button 1 272 0$'
grep -Eq '^(button|keyboard-enter) ' "$T/e.out" && fail "evil got input"
ctl windows --json >"$T/windows.json"
json_check "$T/windows.json" 'all(w["focused"] == (w["vm"] == "work") for w in d)' \
	"work must keep the focus"

# evil gets the focus (the user's choice): now a popup shows, framed red.
eid=$(json_get "$T/windows.json" '[w["id"] for w in d if w["vm"] == "evil"][0]')
ex=$(json_get "$T/windows.json" '[w["x"] for w in d if w["vm"] == "evil"][0]')
ey=$(json_get "$T/windows.json" '[w["y"] for w in d if w["vm"] == "evil"][0]')
ctl focus "$eid" >/dev/null || fail "vitrailctl focus failed"
guest_wait e '^keyboard-enter 1$'
guest e "destroy 2"
guest e "popup 3 1 10 10 100x80"
guest e "fill 3 ffff00"
guest e "wait-frame 3"
guest_sync e
screenshot "$T/shown.ppm"
pixels "$T/shown.ppm" rect $((ex + 10)) $((ey + 10)) 100 80 ffff00
pixels "$T/shown.ppm" rect $((ex + 6)) $((ey + 6)) 108 4 $RED

# A click outside dismisses it: gone from the screen at once although the
# guest keeps it (it never destroys it).
"$VT_POINTER" move 1200 650 click left || fail "vt-pointer failed"
guest_wait e '^popup-done 3$'
ctl windows >/dev/null || fail "vitrailctl windows failed"
screenshot "$T/dismissed.ppm"
pixels "$T/dismissed.ppm" not-rect 0 0 1280 720 ffff00

# A popup of the focused window is dismissed when the focus goes elsewhere.
guest e "popup 4 1 10 10 60x40"
guest e "fill 4 ffff00"
guest e "wait-frame 4"
guest_sync e
screenshot "$T/shown2.ppm"
pixels "$T/shown2.ppm" rect $((ex + 10)) $((ey + 10)) 60 40 ffff00
wid=$(json_get "$T/windows.json" '[w["id"] for w in d if w["vm"] == "work"][0]')
ctl focus "$wid" >/dev/null || fail "vitrailctl focus failed"
guest_wait e '^popup-done 4$'
ctl windows >/dev/null || fail "vitrailctl windows failed"
screenshot "$T/unfocused2.ppm"
pixels "$T/unfocused2.ppm" not-rect 0 0 1280 720 ffff00
guest_end e || fail "guest e failed"

# Larger than the output minus its border: the VM is dropped (LIMIT = 3).
start_guest big evil
guest big "window 1 50x50"
guest big "fill 1 ff00ff"
guest big "wait-frame 1"
guest big "popup 2 1 0 0 1273x100"
guest big "expect-disconnect"
guest_wait big '^error 3 '
guest_end big || fail "guest big failed"
wait_windows evil 0

# An anchor rect outside the parent: dropped (PROTOCOL = 1).
start_guest far evil
guest far "window 1 50x50"
guest far "fill 1 ff00ff"
guest far "wait-frame 1"
guest far "popup 2 1 50 0 10x10"
guest far "expect-disconnect"
guest_wait far '^error 1 '
guest_end far || fail "guest far failed"
wait_windows evil 0

# work is untouched by all of it.
ctl windows --json >"$T/windows.json"
json_check "$T/windows.json" 'len(d) == 1 and d[0]["vm"] == "work" and d[0]["focused"]'
pass
