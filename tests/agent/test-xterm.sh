#!/bin/bash
# An X11 app in a VM (xterm, through the agent's Xwayland): it is a framed
# window with its title and WM_CLASS, and text typed on the host reaches
# it (the shell in it writes the line it reads to a file).
. "${TEST_LIB:?run through meson test}/x11.sh"
. "$TEST_LIB/agent.sh"
require_tools xterm Xwayland

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"

: >"$T/typed.txt"
start_agent work work xterm -T "x11 term" -geometry 40x8 -bg '#204060' -fg white \
	-e sh -c "read x; echo \"\$x\" >'$T/typed.txt'"
wait_windows work 1
[ "$(win work title)" = "x11 term" ] || fail "title: $(win work title)"
[ "$(win work app_id)" = "XTerm" ] || fail "app id: $(win work app_id)"

x=$(win work x) y=$(win work y) w=$(win work width) h=$(win work height)
[ "$w" -gt 100 ] && [ "$h" -gt 50 ] || fail "size ${w}x$h"
wait_pixels "xterm framed in the VM's color" "
	frame $x $y $w $h $BLUE;
	rect $((x + w - 8)) $((y + h - 8)) 4 4 204060"

ctl focus "$(win work id)" || fail "cannot focus the xterm"
wtype 'typed into X11' || fail "wtype failed"
wtype -k Return
wait_for "the text in xterm's shell" grep -qx 'typed into X11' "$T/typed.txt"
pass
