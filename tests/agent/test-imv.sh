#!/bin/bash
# imv (Mesa's EGL on wl_shm) in a VM shows a known PNG with its exact
# pixels: the agent offers only wl_shm formats it can forward and converts
# the 10-bit ones Mesa picks. Regression: imv drew a black window (the agent
# offered XRGB2101010 and could not copy it).
. "${TEST_LIB:?run through meson test}/agent.sh"
IMV=$(command -v imv-wayland || command -v imv) || fail "imv is not installed"

# a 240x160 PNG of one colour, written with the Python standard library
$PY - "$T/c.png" <<'PY'
import struct, sys, zlib
w, h, rgb = 240, 160, bytes((0xc8, 0x32, 0x64))
raw = b"".join(b"\0" + rgb * w for _ in range(h))
def chunk(kind, data):
    c = kind + data
    return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"
start_agent work work env LIBGL_ALWAYS_SOFTWARE=1 "$IMV" "$T/c.png"
wait_windows work 1
id=$(win work id)
ctl focus "$id" || fail "vitrailctl focus $id"
x=$(win work x) y=$(win work y) wd=$(win work width) ht=$(win work height)
# imv centres the image at 100 %: its middle 200x120 is the PNG's colour
cx=$((x + wd / 2)) cy=$((y + ht / 2))
wait_pixels "imv showing the PNG" "rect $((cx - 100)) $((cy - 60)) 200 120 c83264"
if grep -q "cannot forward" "$T/agent-work.log"; then
	fail "the agent could not forward imv's buffers: $(grep 'cannot forward' "$T/agent-work.log" | head -n 1)"
fi
pass
