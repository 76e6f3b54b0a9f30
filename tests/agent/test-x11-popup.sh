#!/bin/bash
# An X11 override-redirect window (what X11 menus and tooltips are; here
# tests/agent/vt-x11.c's, mapped once its toplevel has the focus) is shown
# as a popup of its X11 toplevel: framed in the VM's color, at its place
# relative to the toplevel, above it; when it moves, it is shown at its new
# place. One wider than the output (which the
# host would drop the VM for) is not shown, and the VM stays connected.
. "${TEST_LIB:?run through meson test}/x11.sh"
. "$TEST_LIB/agent.sh"
: "${VT_X11:?run through meson test}"
require_tools Xwayland

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm big]
label = green
INI
start_vitrail "$T/vitrail.ini"

start_agent work work "$VT_X11" --move-when "$T/move"
wait_windows work 1
[ "$(win work title)" = "x11 popup test" ] || fail "title: $(win work title)"
[ "$(win work app_id)" = "VtX11" ] || fail "app id: $(win work app_id)"
ctl focus "$(win work id)" || fail "cannot focus the X11 window"
wait_for "the override-redirect window to map" grep -q '^popup-mapped$' "$T/agent-work.log"

x=$(win work x) y=$(win work y)
[ "$(win work width)x$(win work height)" = 300x200 ] || fail "toplevel size"
px=$((x + 150)) py=$((y + 100))
wait_pixels "the X11 toplevel and its override-redirect popup" "
	frame $x $y 300 200 $BLUE;
	rect $x $y 300 96 204060;
	rect $x $((y + 100)) 146 100 204060;
	rect $px $py 100 50 ff8000;
	rect $((px - 4)) $((py - 4)) 108 4 $BLUE;
	rect $((px - 4)) $((py + 50)) 108 4 $BLUE;
	rect $((px - 4)) $py 4 50 $BLUE;
	rect $((px + 100)) $py 4 50 $BLUE"

# vt-x11 moves its override-redirect window to (20, 20)
touch "$T/move"
wait_for "the override-redirect window to move" grep -q '^popup-moved$' "$T/agent-work.log"
px=$((x + 20)) py=$((y + 20))
wait_pixels "the override-redirect popup at its new place" "
	frame $x $y 300 200 $BLUE;
	rect $px $py 100 50 ff8000;
	rect $((px - 4)) $((py - 4)) 108 4 $BLUE;
	rect $((px - 4)) $((py + 50)) 108 4 $BLUE;
	rect $x $((y + 100)) 300 100 204060"

start_agent big big "$VT_X11" --big
wait_windows big 1
ctl focus "$(win big id)" || fail "cannot focus the second X11 window"
wait_for "the big override-redirect window to map" grep -q '^popup-mapped$' "$T/agent-big.log"
wait_for "the agent to refuse it" grep -q 'override-redirect window of 2000x50 does not fit' "$T/agent-big.log"
sleep 0.3
vm_connected big || fail "the VM was dropped for a big X11 popup"
windows_are big 1 || fail "big has $(windows_of big) windows"
pass
