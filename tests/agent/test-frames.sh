#!/bin/bash
# Two VMs, each with a real vitrail-agent running a real Debian client:
# weston-simple-shm in "work" (blue), foot in "personal" (green). A grim
# screenshot shows each window framed in its VM's color around the app's
# own pixels, and the animated client keeps updating.
. "${TEST_LIB:?run through meson test}/agent.sh"

FOOT_BG=2d4a6b
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm personal]
label = green
INI
start_vitrail "$T/vitrail.ini"

start_agent work work weston-simple-shm
wait_windows work 1
start_agent personal personal foot -o "colors.background=$FOOT_BG" -w 420x300 \
	sh -c 'echo ready; exec cat'
wait_windows personal 1

py_state "all(x['vm'] in ('work', 'personal') for x in w)" || fail "a window without its VM"
[ "$(win work app_id)" = org.freedesktop.weston.simple-shm ] || fail "work: app id $(win work app_id)"
[ "$(win work title)" = simple-shm ] || fail "work: title $(win work title)"
[ "$(win work label)" = "#$BLUE" ] || fail "work: label $(win work label)"
[ "$(win personal app_id)" = foot ] || fail "personal: app id $(win personal app_id)"
[ "$(win personal label)" = "#$GREEN" ] || fail "personal: label $(win personal label)"
py_state "sorted((x['name'], x['connected'], x['windows']) for x in v) == [('personal', True, 1), ('work', True, 1)]" ||
	fail "vitrailctl vms: $(cat "$T/vms.json")"

# weston-simple-shm on top: 250x250, a 20 px white margin around its
# animated rings, framed in blue.
id=$(win work id)
ctl focus "$id" || fail "vitrailctl focus $id"
x=$(win work x) y=$(win work y) wd=$(win work width) ht=$(win work height)
[ "$wd" = 250 ] && [ "$ht" = 250 ] || fail "work window is ${wd}x$ht, simple-shm draws 250x250"
wait_pixels "simple-shm framed in blue" "frame $x $y $wd $ht $BLUE;
	rect $x $y $wd 20 ffffff; rect $x $((y + ht - 20)) $wd 20 ffffff;
	+colors $((x + 20)) $((y + 20)) 210 210 40"
# the animation goes on: the same rectangle changes between screenshots
$PY "$TEST_LIB/agentpix.py" "$T/shot.ppm" save $((x + 20)) $((y + 20)) 210 210 "$T/rings"
wait_pixels "simple-shm's next frames" "+changed $((x + 20)) $((y + 20)) 210 210 $T/rings"

# foot on top: its background color fills the terminal, framed in green.
id=$(win personal id)
ctl focus "$id" || fail "vitrailctl focus $id"
x=$(win personal x) y=$(win personal y) wd=$(win personal width) ht=$(win personal height)
[ "$wd" = 420 ] && [ "$ht" = 300 ] || fail "personal window is ${wd}x$ht, foot was asked for 420x300"
wait_pixels "foot framed in green" "frame $x $y $wd $ht $GREEN;
	rect $x $((y + ht / 2)) $wd $((ht / 2)) $FOOT_BG;
	+mostly $x $y $wd $ht $FOOT_BG 90;
	+colors $x $y $wd 20 3"
pass
