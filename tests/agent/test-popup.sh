#!/bin/bash
# A client with a subsurface and an xdg popup (tests/agent/vt-client.c,
# known colors): the subsurface is flattened into the window's contents at
# its place, and the popup appears at its anchor, framed in the VM's color
# on top of its parent.
. "${TEST_LIB:?run through meson test}/agent.sh"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"

start_agent work work "$VT_CLIENT" --title "with popup" --size 300x200 --color 204060 \
	--subsurface 20,24,60x40,c0ffee --popup 150,100,100x50,ff8000
wait_windows work 1
wait_for "the popup to map" grep -q '^popup-mapped$' "$T/agent-work.log"
[ "$(win work title)" = "with popup" ] || fail "title: $(win work title)"

x=$(win work x) y=$(win work y)
[ "$(win work width)x$(win work height)" = 300x200 ] || fail "toplevel size"
px=$((x + 150)) py=$((y + 100))
wait_pixels "the toplevel, its subsurface and its popup" "
	frame $x $y 300 200 $BLUE;
	rect $x $y 300 24 204060;
	rect $x $((y + 24)) 20 40 204060;
	rect $((x + 20)) $((y + 24)) 60 40 c0ffee;
	rect $((x + 80)) $((y + 24)) 66 72 204060;
	rect $px $py 100 50 ff8000;
	rect $((px - 4)) $((py - 4)) 108 4 $BLUE;
	rect $((px - 4)) $((py + 50)) 108 4 $BLUE;
	rect $((px - 4)) $py 4 50 $BLUE;
	rect $((px + 100)) $py 4 50 $BLUE;
	rect $x $((y + 154)) 146 46 204060"
pass
