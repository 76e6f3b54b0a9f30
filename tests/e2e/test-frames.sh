#!/bin/bash
# Two fake-guest VMs map windows with known pixels: each frame is drawn in
# its VM's label color on all four sides with a title bar, the content is
# exact, a damage update shows, and destroy removes the window.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

BG=1e1e1e
BLUE=3465a4
GREEN=73d216
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm personal]
label = green
INI
start_vitrail "$T/vitrail.ini"

# VM work: a 200x120 window, first toplevel -> content at (32,60).
start_guest a work
guest_wait a '^welcome work [0-9]+$'
guest a "window 1 200x120"
guest a "title 1 Inbox"
guest a "fill 1 d0e0f0"
guest a "wait-frame 1"
guest_sync a
wait_windows work 1
json_check "$T/windows.json" 'len(d) == 1'
w='[w for w in d if w["vm"] == "work"][0]'
json_check "$T/windows.json" "${w}['x'] == 32 and ${w}['y'] == 60" "first window not at (32,60)"
json_check "$T/windows.json" "${w}['width'] == 200 and ${w}['height'] == 120" "work window size"
json_check "$T/windows.json" "${w}['label'] == '#3465a4' and 'Inbox' in ${w}['title']"

screenshot "$T/1.ppm"
pixels "$T/1.ppm" frame 32 60 200 120 $BLUE
pixels "$T/1.ppm" rect 32 60 200 120 d0e0f0
pixels "$T/1.ppm" rect 0 0 1280 32 $BG
pixels "$T/1.ppm" rect 236 0 1044 720 $BG
pixels "$T/1.ppm" rect 0 184 1280 536 $BG
pixels "$T/1.ppm" rect 0 0 28 720 $BG

# VM personal: window id 1 as well (ids are per VM), placed where nothing
# covers it: right of work's window, in steps of 32 from (32,60): (256,60).
start_guest b personal
guest_wait b '^welcome personal [0-9]+$'
guest b "window 1 160x100"
guest b "title 1 Photos"
guest b "fill 1 f0d0e0"
guest b "wait-frame 1"
guest_sync b
wait_windows personal 1
json_check "$T/windows.json" 'len(d) == 2 and d[0]["id"] != d[1]["id"]'
w='[w for w in d if w["vm"] == "personal"][0]'
json_check "$T/windows.json" "${w}['x'] == 256 and ${w}['y'] == 60" "second window not placed in free space at (256,60)"
json_check "$T/windows.json" "${w}['width'] == 160 and ${w}['height'] == 100"
json_check "$T/windows.json" "${w}['label'] == '#73d216' and 'Photos' in ${w}['title']"
ctl vms --json >"$T/vms.json" || fail "vitrailctl vms failed"
json_check "$T/vms.json" 'sorted((v["name"], v["label"], v["connected"], v["windows"]) for v in d) == [("personal", "#73d216", True, 1), ("work", "#3465a4", True, 1)]'

# It opened below work's focused window (a VM's new window never covers the
# window in use), fully visible beside it; the user brings it up.
pid=$(json_get "$T/windows.json" '[w["id"] for w in d if w["vm"] == "personal"][0]')
ctl focus "$pid" >/dev/null || fail "vitrailctl focus $pid failed"

screenshot "$T/2.ppm"
pixels "$T/2.ppm" frame 256 60 160 100 $GREEN
pixels "$T/2.ppm" rect 256 60 160 100 f0d0e0
pixels "$T/2.ppm" frame 32 60 200 120 $BLUE
pixels "$T/2.ppm" rect 32 60 200 120 d0e0f0

# Damage updates: a red rect in personal's window, a green strip in work's.
guest b "rect 1 20 30 50 40 ff0000"
guest b "wait-frame 1"
guest_sync b
guest a "rect 1 0 0 20 4 00ff00"
guest a "wait-frame 1"
guest_sync a
screenshot "$T/3.ppm"
pixels "$T/3.ppm" rect 276 90 50 40 ff0000
pixels "$T/3.ppm" rect 256 60 160 100 f0d0e0 --ignore 276 90 50 40
pixels "$T/3.ppm" rect 32 60 20 4 00ff00
pixels "$T/3.ppm" frame 256 60 160 100 $GREEN

# Destroy personal's window: work's window is whole again, the rest background.
guest b "destroy 1"
guest_sync b
wait_windows personal 0
ctl windows --json >"$T/windows.json"
json_check "$T/windows.json" 'len(d) == 1 and d[0]["vm"] == "work"'
screenshot "$T/4.ppm"
pixels "$T/4.ppm" frame 32 60 200 120 $BLUE
pixels "$T/4.ppm" rect 32 60 200 120 d0e0f0 --ignore 32 60 20 4
pixels "$T/4.ppm" rect 32 60 20 4 00ff00
pixels "$T/4.ppm" rect 60 184 168 12 $BG
pixels "$T/4.ppm" not-rect 0 0 1280 720 $GREEN

# A popup of work's window, anchored at its local (10,10): its content
# shows there, above the parent; destroying it restores the parent.
guest a "popup 2 1 10 10 50x30"
guest a "fill 2 5a5a00"
guest a "wait-frame 2"
guest_sync a
screenshot "$T/popup.ppm"
pixels "$T/popup.ppm" rect 42 70 50 30 5a5a00
pixels "$T/popup.ppm" frame 32 60 200 120 $BLUE
guest a "destroy 2"
guest_sync a
screenshot "$T/popup-gone.ppm"
pixels "$T/popup-gone.ppm" rect 32 60 200 120 d0e0f0 --ignore 32 60 20 4
pixels "$T/popup-gone.ppm" not-rect 0 0 1280 720 5a5a00

# Destroy work's window: only background remains.
guest a "destroy 1"
guest_sync a
wait_windows work 0
screenshot "$T/5.ppm"
pixels "$T/5.ppm" rect 0 0 1280 720 $BG

guest_end a || fail "guest a failed"
guest_end b || fail "guest b failed"
pass
