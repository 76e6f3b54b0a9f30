#!/bin/bash
# A translucent window: a client whose ARGB8888 buffer has a shadow around
# its xdg window geometry, a fully transparent corner and a half
# transparent band inside it (vt-client --geometry --fill), on top of
# another VM's window. The host shows only the geometry, and blends what
# the guest leaves transparent over its own backdrop in the window's label
# color: never black (as when guest buffers were drawn opaque), and
# nothing of the window below shows through.
. "${TEST_LIB:?run through meson test}/agent.sh"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm personal]
label = green
INI
start_vitrail "$T/vitrail.ini"

BELOW=ff00ff
start_agent personal personal "$VT_CLIENT" --title below --size 900x560 --color $BELOW
wait_windows personal 1
# buffer 340x240; geometry 300x200 at 20,20; corner 12x10 transparent;
# band of 30 rows (content rows 170..199) premultiplied 0x80402010
start_agent work work "$VT_CLIENT" --title translucent --size 340x240 --color 204060 \
	--geometry 20,20,300x200 --fill 20,20,12x10,00000000 --fill 20,190,300x30,80402010
wait_windows work 1
id=$(win work id)
ctl focus "$id" || fail "vitrailctl focus $id"

# over the window below (new windows go where nothing covers them)
ctl move "$id" "$(($(win personal x) + 100))" "$(($(win personal y) + 100))" ||
	fail "vitrailctl move $id"
x=$(win work x) y=$(win work y)
[ "$(win work width)x$(win work height)" = 300x200 ] ||
	fail "the window is $(win work width)x$(win work height), its geometry 300x200"
bx=$(win personal x) by=$(win personal y)
bw=$(win personal width) bh=$(win personal height)
# the test needs the translucent parts over the window below
[ "$x" -ge "$bx" ] && [ "$y" -ge "$by" ] && [ $((x + 300)) -le $((bx + bw)) ] &&
	[ $((y + 200)) -le $((by + bh)) ] || fail "the windows do not overlap as planned"

# the band: 0x80402010 over the blue label, as pixman blends it
band=$($PY -c '
def div255(t):
    t += 0x80
    return ((t >> 8) + t) >> 8
s, a, d = (0x40, 0x20, 0x10), 0x80, (0x34, 0x65, 0xa4)
print("".join("%02x" % (s[i] + div255(d[i] * (255 - a))) for i in range(3)))')
wait_pixels "the translucent window over its backdrop" "
	frame $x $y 300 200 $BLUE;
	rect $x $y 12 10 $BLUE;
	rect $((x + 12)) $y 288 10 204060;
	rect $x $((y + 10)) 300 160 204060;
	rect $x $((y + 170)) 300 30 $band;
	not-rect $x $y 300 200 000000;
	not-rect $x $y 300 200 $BELOW"
pass
