#!/bin/bash
# imv (a real Debian image viewer drawing with EGL on wl_shm) shows a known
# PNG with its exact pixels. Mesa picks the wl_shm format with the most
# color bits the agent offers: an agent that offers a format it cannot
# forward (XRGB2101010) gave a black window. The agent offers only what it
# can forward and converts the 10-bit formats to the protocol's 8888.
. "${TEST_LIB:?run through meson test}/agent.sh"
require_tools imv-wayland

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"

# A 200x100 PNG: four 100x50 quadrants of known colors.
$PY - "$T/quads.png" <<'PY'
import struct, sys, zlib
w, h = 200, 100
colors = [(0xff, 0x00, 0x00), (0x00, 0xff, 0x00), (0x00, 0x00, 0xff), (0xff, 0xff, 0xff)]
rows = b''
for y in range(h):
    rows += b'\0' + b''.join(bytes(colors[(y >= 50) * 2 + (x >= 100)]) for x in range(w))
def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' +
    chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
    chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
PY
mkdir -p "$XDG_CONFIG_HOME/imv"
cat >"$XDG_CONFIG_HOME/imv/config" <<INI
[options]
width = 400
height = 300
background = 808080
INI

start_agent work work imv-wayland -s none -u nearest_neighbour "$T/quads.png"
wait_windows work 1
id=$(win work id)
ctl focus "$id" || fail "vitrailctl focus $id"
x=$(win work x) y=$(win work y)
[ "$(win work width)x$(win work height)" = 400x300 ] ||
	fail "imv's window is $(win work width)x$(win work height), asked for 400x300"
# the image at 1:1 in the middle, on imv's grey background
ix=$((x + 100)) iy=$((y + 100))
wait_pixels "imv's image with exact pixels" "
	frame $x $y 400 300 $BLUE;
	rect $ix $iy 100 50 ff0000; rect $((ix + 100)) $iy 100 50 00ff00;
	rect $ix $((iy + 50)) 100 50 0000ff; rect $((ix + 100)) $((iy + 50)) 100 50 ffffff;
	rect $x $((y + 30)) 400 60 808080; rect $x $((y + 210)) 400 60 808080"
pass
