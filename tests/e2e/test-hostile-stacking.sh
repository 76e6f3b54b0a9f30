#!/bin/bash
# A hostile VM's new windows (security review, finding 2): they open below
# the window in use, never above it, and never get the keyboard; when the
# focused window closes, the focus goes back to the window focused before
# it, not to whatever a guest just stacked on top.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${VT_POINTER:?}"

BLUE=3465a4
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm evil]
label = red
INI
start_vitrail "$T/vitrail.ini"

# work: window 1 (400x300 at 32,60), then window 2, focused in turn; then
# the user goes back to window 1.
start_guest w work
guest w "window 1 400x300"
guest w "fill 1 00ff00"
guest w "wait-frame 1"
guest_sync w
wait_windows work 1
ctl windows --json >"$T/windows.json"
w1=$(json_get "$T/windows.json" '[w["id"] for w in d if w["vm"] == "work"][0]')
guest w "window 2 200x100"
guest w "fill 2 00c000"
guest w "wait-frame 2"
guest_sync w
wait_windows work 2
"$VT_POINTER" move 200 200 click left || fail "vt-pointer failed"
guest_wait w '^button 1 272 0$'
ctl windows --json >"$T/windows.json"
json_check "$T/windows.json" "[w['id'] for w in d if w['focused']] == [$w1]" \
	"window 1 must have the focus after the click"

# evil opens three windows that would cover the whole screen.
start_guest e evil
for i in 1 2 3; do
	guest e "window $i 1200x650"
	guest e "fill $i ff00ff"
	guest e "wait-frame $i"
done
guest_sync e
wait_windows evil 3
"$VT_POINTER" move 1250 20 || fail "vt-pointer failed" # the cursor out of the way
screenshot "$T/covered.ppm"
pixels "$T/covered.ppm" rect 32 60 400 300 00ff00
pixels "$T/covered.ppm" frame 32 60 400 300 $BLUE
ctl windows --json >"$T/windows.json"
json_check "$T/windows.json" "[w['id'] for w in d if w['focused']] == [$w1]" \
	"work's window 1 must keep the focus"
# a click on work's window still reaches work
"$VT_POINTER" move 100 100 click left || fail "vt-pointer failed"
guest_wait_count w '^button 1 272 0$' 2
grep -Eq '^(keyboard-enter|button) ' "$T/e.out" && fail "evil got input"

# work's window 1 closes: the focus returns to window 2 (focused before
# it), not to one of evil's windows stacked just below.
guest w "destroy 1"
guest_sync w
wait_windows work 1
ctl windows --json >"$T/windows.json"
json_check "$T/windows.json" \
	"[w['vm'] for w in d if w['focused']] == ['work']" \
	"the focus must go back to work's window 2"
grep -Eq '^keyboard-enter ' "$T/e.out" && fail "evil got the keyboard"
"$VT_POINTER" move 1250 20 || fail "vt-pointer failed"
screenshot "$T/after.ppm"
w2x=$(json_get "$T/windows.json" '[w["x"] for w in d if w["vm"] == "work"][0]')
w2y=$(json_get "$T/windows.json" '[w["y"] for w in d if w["vm"] == "work"][0]')
pixels "$T/after.ppm" rect "$w2x" "$w2y" 200 100 00c000

# window 2 closes too: nothing the user chose is left; evil still gets no
# focus.
guest w "destroy 2"
guest_sync w
wait_windows work 0
ctl windows --json >"$T/windows.json"
json_check "$T/windows.json" "not any(w['focused'] for w in d)" \
	"no window may get the focus by itself"
grep -Eq '^keyboard-enter ' "$T/e.out" && fail "evil got the keyboard"
pass
