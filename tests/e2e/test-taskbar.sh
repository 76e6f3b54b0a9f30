#!/bin/bash
# Taskbars (wlr-foreign-toplevel-management): vt-toplevels, a test bar,
# lists guest windows as "[vm] title" with app id vitrail-VM-APPID (APPID
# with every byte outside [A-Za-z0-9_] as "_", as the menu entry is named) and a
# host window as it is, each on the output; activating one focuses it (also
# across VMs), minimizing hides it and gives the focus back, activating a
# minimized window shows it again, close asks its guest.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${VT_TOPLEVELS:?run through meson test}"

BLUE=3465a4
GREEN=73d216
BG=1e1e1e
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm personal]
label = green
INI
start_vitrail "$T/vitrail.ini"

start_guest a work
start_guest b personal
guest a "window 5 200x120"
guest a "title 5 Inbox"
guest a "app-id 5 org.example.Mail"
guest a "fill 5 d0e0f0"
guest a "wait-frame 5"
guest_sync a
wait_windows work 1
guest b "window 9 160x100"
guest b "title 9 Photos"
guest b "fill 9 f0d0e0"
guest b "wait-frame 9"
guest_sync b
wait_windows personal 1
id_a=$(json_get "$T/windows.json" '[w["id"] for w in d if w["vm"] == "work"][0]')
id_b=$(json_get "$T/windows.json" '[w["id"] for w in d if w["vm"] == "personal"][0]')
ctl focus "$id_a"
guest_wait a '^keyboard-enter 5$'

list() { "$VT_TOPLEVELS" list >"$T/list.txt" || fail "vt-toplevels list failed"; }
has() { grep -qxF -- "$1" "$T/list.txt" || fail "taskbar: no line '$1' in: $(cat "$T/list.txt")"; }
tab=$'\t'
list
[ "$(wc -l <"$T/list.txt")" = 2 ] || fail "taskbar lists $(wc -l <"$T/list.txt") windows, want 2: $(cat "$T/list.txt")"
has "[work] Inbox${tab}vitrail-work-org_example_Mail${tab}activated${tab}outputs=1"
has "[personal] Photos${tab}vitrail-personal${tab}-${tab}outputs=1"

# activate across VMs: personal gets the focus
"$VT_TOPLEVELS" activate "[personal] Photos" || fail "activate failed"
guest_wait b '^keyboard-enter 9$'
ctl windows --json >"$T/w.json"
json_check "$T/w.json" "[w['focused'] for w in d if w['id'] == $id_b] == [True]" "activate did not focus"
list
has "[personal] Photos${tab}vitrail-personal${tab}activated${tab}outputs=1"
has "[work] Inbox${tab}vitrail-work-org_example_Mail${tab}-${tab}outputs=1"

# minimize: hidden, the focus goes back to work, listed as minimized
read -r bx by bw bh < <(json_get "$T/w.json" "' '.join(str(w[k]) for w in d if w['id'] == $id_b for k in ('x', 'y', 'width', 'height'))")
"$VT_TOPLEVELS" minimize "[personal] Photos" || fail "minimize failed"
guest_wait_count a '^keyboard-enter 5$' 2
ctl windows --json >"$T/w.json"
json_check "$T/w.json" "[w['minimized'] for w in d if w['id'] == $id_b] == [True]" "not minimized"
json_check "$T/w.json" "[w['focused'] for w in d if w['id'] == $id_a] == [True]" "focus did not go back"
screenshot "$T/min.ppm"
# where personal's window was: work's window or the background, never green
$PY "$TEST_LIB/pixels.py" "$T/min.ppm" rect "$bx" "$by" "$bw" "$bh" f0d0e0 2>/dev/null &&
	fail "the minimized window is still drawn"
list
has "[personal] Photos${tab}vitrail-personal${tab}minimized${tab}outputs=1"

# activate shows it again, focused, drawn
"$VT_TOPLEVELS" activate "[personal] Photos" || fail "activate failed"
guest_wait_count b '^keyboard-enter 9$' 2
screenshot "$T/back.ppm"
pixels "$T/back.ppm" frame "$bx" "$by" "$bw" "$bh" $GREEN
pixels "$T/back.ppm" rect "$bx" "$by" "$bw" "$bh" f0d0e0
list
has "[personal] Photos${tab}vitrail-personal${tab}activated${tab}outputs=1"

# close: CLOSE to the owning guest only
"$VT_TOPLEVELS" close "[work] Inbox" || fail "close failed"
guest_wait a '^close 5$'
grep -q '^close' "$T/b.out" && fail "close reached the wrong guest"
guest a "destroy 5"
guest_sync a
wait_windows work 0
list
[ "$(wc -l <"$T/list.txt")" = 1 ] || fail "the destroyed window is still listed: $(cat "$T/list.txt")"
pass
