#!/bin/bash
# A real X11 menu: xterm's Ctrl+left-click "Main Options" menu (an
# override-redirect window) opens as a popup of the xterm window, framed in
# the VM's color over xterm's contents, while the button is held; released
# outside it, it goes and nothing was chosen.
. "${TEST_LIB:?run through meson test}/x11.sh"
. "$TEST_LIB/agent.sh"
: "${VT_POINTER:?run through meson test}"
require_tools xterm Xwayland wtype

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"
start_agent work work xterm -geometry 60x20 -bg white -fg black -e sh -c 'exec cat'
wait_windows work 1
id=$(win work id)
ctl focus "$id" || fail "cannot focus the xterm"
x=$(win work x) y=$(win work y) w=$(win work width) h=$(win work height)

# xterm's contents: no pixel in the VM's color (no popup yet)
wait_pixels "xterm framed, nothing over it" "
	frame $x $y $w $h $BLUE;
	not-rect $x $y $w $h $BLUE"

# Ctrl held (wtype holds it 3 s) while the left button goes down
wtype -M ctrl -s 3000 -m ctrl &
wtype_pid=$!
sleep 0.3
"$VT_POINTER" move $((x + 50)) $((y + 50)) press left || fail "vt-pointer failed"
menu_shown() {
	take_screenshot "$T/shot.ppm" &&
		! $PY "$TEST_LIB/pixels.py" "$T/shot.ppm" not-rect $x $y $w $h $BLUE >/dev/null
}
wait_for "xterm's menu as a popup framed in blue over the window" menu_shown
# released far from the menu: nothing chosen, the menu goes
"$VT_POINTER" move $((x + w + 200)) $((y + h + 100)) release left || fail "vt-pointer failed"
wait "$wtype_pid"
wait_pixels "the menu gone" "
	frame $x $y $w $h $BLUE;
	not-rect $x $y $w $h $BLUE"
windows_are work 1 || fail "the xterm went away"
pass
