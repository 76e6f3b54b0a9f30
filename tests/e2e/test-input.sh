#!/bin/bash
# A virtual-pointer click and a wtype key press reach only the guest that
# owns the window under the pointer / with focus, in surface-local
# coordinates.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${VT_POINTER:?}"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm personal]
label = green
INI
start_vitrail "$T/vitrail.ini"

start_guest a work
guest a "window 1 200x120"
guest a "fill 1 d0e0f0"
guest a "wait-frame 1"
guest_sync a
wait_windows work 1
start_guest b personal
guest b "window 1 160x100"
guest b "fill 1 f0d0e0"
guest b "wait-frame 1"
guest_sync b
wait_windows personal 1
ctl windows --json >"$T/w.json"
ax=$(json_get "$T/w.json" '[w["x"] for w in d if w["vm"] == "work"][0]')
ay=$(json_get "$T/w.json" '[w["y"] for w in d if w["vm"] == "work"][0]')
bx=$(json_get "$T/w.json" '[w["x"] for w in d if w["vm"] == "personal"][0]')
by=$(json_get "$T/w.json" '[w["y"] for w in d if w["vm"] == "personal"][0]')

# position_before_button OUT: the last pointer position the guest got before its last press.
position_before_button() {
	$PY - "$1" <<'PY'
import sys
pos = None
last = None
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] in ("pointer-enter", "pointer-motion"):
        pos = (float(f[2]), float(f[3]))
    elif f and f[0] == "button" and f[3] == "1":
        last = pos
print("%g %g" % last if last else "none")
PY
}
count() { grep -c -E "$2" "$T/$1.out" || true; }

# 1. Click on work's window at local (10,10): a part personal's window does not cover.
b_pointer=$(count b '^(button|pointer-enter|pointer-motion) ')
"$VT_POINTER" move $((ax + 10)) $((ay + 10)) click left || fail "vt-pointer failed"
guest_wait a '^button 1 272 1$'
guest_wait a '^button 1 272 0$'
[ "$(position_before_button "$T/a.out")" = "10 10" ] ||
	fail "work got the click at $(position_before_button "$T/a.out"), want 10 10"
[ "$(count b '^(button|pointer-enter|pointer-motion) ')" = "$b_pointer" ] ||
	fail "personal got pointer events for a click on work"

# 2. A key press goes to the focused (clicked) window only.
guest_wait a '^keyboard-enter 1$'
timeout "$E2E_TIMEOUT" wtype a || fail "wtype failed"
guest_wait a '^key 1 [0-9]+ 1$'
guest_wait a '^key 1 [0-9]+ 0$'
[ "$(count b '^key ')" = 0 ] || fail "personal got a key meant for work"

# 3. The click raised work's window over personal's. Click the strip of
#    personal's window below work's frame, at local (20,96): only personal gets it.
a_buttons=$(count a '^button ')
"$VT_POINTER" move $((bx + 20)) $((by + 96)) click left || fail "vt-pointer failed"
guest_wait b '^button 1 272 1$'
guest_wait b '^button 1 272 0$'
[ "$(position_before_button "$T/b.out")" = "20 96" ] ||
	fail "personal got the click at $(position_before_button "$T/b.out"), want 20 96"
[ "$(count a '^button ')" = "$a_buttons" ] || fail "work got a click meant for personal"
guest_wait a '^pointer-leave 1$'

# 3b. Now personal's window is on top: a click at its local (20,30), over
#     work's window, goes to personal only.
b_presses=$(count b '^button 1 272 1$')
"$VT_POINTER" move $((bx + 20)) $((by + 30)) click left || fail "vt-pointer failed"
guest_wait_count b '^button 1 272 0$' $((b_presses + 1))
[ "$(position_before_button "$T/b.out")" = "20 30" ] ||
	fail "personal (on top) got the click at $(position_before_button "$T/b.out"), want 20 30"
[ "$(count a '^button ')" = "$a_buttons" ] || fail "work (below) got a click meant for personal"

# 4. Keys now go to personal only.
guest_wait b '^keyboard-enter 1$'
guest_wait a '^keyboard-leave 1$'
a_keys=$(count a '^key ')
timeout "$E2E_TIMEOUT" wtype b || fail "wtype failed"
guest_wait b '^key 1 [0-9]+ 1$'
guest_wait b '^key 1 [0-9]+ 0$'
guest_sync a
[ "$(count a '^key ')" = "$a_keys" ] || fail "work got a key meant for personal"

# 5. A click on the background reaches nobody.
a_buttons=$(count a '^button ')
b_buttons=$(count b '^button ')
"$VT_POINTER" move 1000 600 click left || fail "vt-pointer failed"
guest_sync a
guest_sync b
[ "$(count a '^button ')" = "$a_buttons" ] && [ "$(count b '^button ')" = "$b_buttons" ] ||
	fail "a click on the background reached a guest"

# 6. A key pressed in personal and released once work has the focus: work
# gets no release (its press was not work's), personal none after its leave.
a_id=$(json_get "$T/w.json" '[w["id"] for w in d if w["vm"] == "work"][0]')
b_id=$(json_get "$T/w.json" '[w["id"] for w in d if w["vm"] == "personal"][0]')
ctl focus "$b_id"
b_presses=$(count b '^key 1 [0-9]+ 1$')
timeout "$E2E_TIMEOUT" wtype -P x || fail "wtype failed"
guest_wait_count b '^key 1 [0-9]+ 1$' $((b_presses + 1))
ctl focus "$a_id"
guest_wait_count a '^keyboard-enter 1$' 2
a_keys=$(count a '^key ')
b_keys=$(count b '^key ')
timeout "$E2E_TIMEOUT" wtype -p x || fail "wtype failed"
timeout "$E2E_TIMEOUT" wtype y || fail "wtype failed"
guest_wait_count a '^key ' $((a_keys + 2)) # y's press and release
guest_sync b
[ "$(count a '^key ')" = $((a_keys + 2)) ] || fail "work got the release of a key pressed in personal: $(grep '^key ' "$T/a.out" | tail -n 3)"
[ "$(count b '^key ')" = "$b_keys" ] || fail "personal got a key after it lost the focus"
pass
