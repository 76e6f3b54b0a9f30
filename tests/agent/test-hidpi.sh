#!/bin/bash
# HiDPI end to end. Three headless outputs at scale 1, 2 and 1.5; the same
# foot text in a guest window (through a real vitrail-agent) and in a host
# window. A guest window is told the scale of the output holding most of
# it (WINDOW_SCALE): its buffer is width × scale pixels (scale 2 on the
# 1.5 output: integer scale rounded up), and its text edges in a
# screenshot of that output (grim -o, native pixels) are as sharp as the
# host client's. Moving the window to another output changes its scale.
# The title bar is drawn at the output's scale too (its text is as sharp
# on the scale-2 output as the client text is), and the guest's cursor
# shows on the scale-2 output.
. "${TEST_LIB:?run through meson test}/agent.sh"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm small]
label = green
pool-size = 8
[vm plain]
label = green
INI
# logical: HEADLESS-1 1280x720 at 0, HEADLESS-2 800x600 at 1280 (scale 2),
# HEADLESS-3 800x600 at 2080 (scale 1.5)
VITRAIL_SIZE=1280x720,1600x1200@2,1200x900@1.5
start_vitrail "$T/vitrail.ini"

# the same foot, same text, in the guest and on the host
mkdir -p "$XDG_CONFIG_HOME/foot"
cat >"$XDG_CONFIG_HOME/foot/foot.ini" <<INI
font=monospace:size=11
[cursor]
blink=no
[colors]
background=ffffff
foreground=000000
INI
TEXT='printf "\033[?25lSharp edges: HiDPI WMW 0123 ijkl\nvitrail agent text @ scale"; exec sleep 600'
start_agent work work foot -w 360x160 sh -c "$TEXT"
wait_windows work 1
foot -w 360x160 sh -c "$TEXT" >"$T/host-foot.log" 2>&1 &
HOST_FOOT=$!
wait_for "the host foot window" py_state 'len(w) == 2'
gid=$(win work id)
hid=$(py_state "[x for x in w if x['vm'] is None][0]['id']")

# place_on ID X Y: move a window, wait until it is there
place_on() {
	ctl move "$1" "$2" "$3" || fail "vitrailctl move $*"
	wait_for "window $1 at $2,$3" py_state "[(x['x'], x['y']) for x in w if x['id'] == $1] == [($2, $3)]"
}
# expect_buffer SCALE [VM]: the guest window's buffer is its size × SCALE
expect_buffer() {
	local s=$1 vm=${2:-work} deadline=$((SECONDS + E2E_TIMEOUT))
	local want="[(x['buffer_scale'], x['buffer_width'] == $s * x['width'], x['buffer_height'] == $s * x['height']) for x in w if x['vm'] == '$vm'] == [($s, True, True)]"
	until py_state "$want" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			fail "$vm's buffer not of scale $s: $(py_state "[x for x in w if x['vm'] == '$vm']" 2>&1)"
		fi
		sleep 0.1
	done
}

# sharpness OUTPUT OX SCALE ID...: screenshot OUTPUT (left edge OX in
# layout coordinates) and print, per window, the mean absolute gradient
# of the text rows of its content (the first 40 logical rows) in output
# pixels, then how much of its title bar's detail is finer than 2 output
# pixels (the share of horizontal steps inside aligned 2x2 blocks).
sharpness() {
	local output=$1 ox=$2 scale=$3
	shift 3
	timeout "$E2E_TIMEOUT" grim -o "$output" -t ppm "$T/$output.ppm" || fail "grim -o $output"
	local boxes=""
	for id in "$@"; do
		boxes="$boxes $(py_state "' '.join(str(v) for x in w if x['id'] == $id for v in (x['x'], x['y'], x['width']))")"
	done
	$PY - "$T/$output.ppm" "$ox" "$scale" $boxes <<'PY'
import sys
path, ox, scale = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
vals = list(map(int, sys.argv[4:]))
data = open(path, "rb").read()
# P6 header: magic, width, height, maxval
parts, pos = [], 0
while len(parts) < 4:
    while data[pos:pos + 1].isspace():
        pos += 1
    end = pos
    while not data[end:end + 1].isspace():
        end += 1
    parts.append(data[pos:end])
    pos = end
pos += 1
W, H = int(parts[1]), int(parts[2])
px = data[pos:]
def lum(x, y):
    i = (y * W + x) * 3
    return (px[i] * 2126 + px[i + 1] * 7152 + px[i + 2] * 722) // 10000
def grad(x0, y0, w, h):
    x0, y0 = int(round(x0)), int(round(y0))
    w, h = int(w), int(h)
    tot = n = 0
    for y in range(y0, min(y0 + h, H) - 1):
        for x in range(x0, min(x0 + w, W) - 1):
            l = lum(x, y)
            tot += abs(lum(x + 1, y) - l) + abs(lum(x, y + 1) - l)
            n += 1
    return tot / max(n, 1)
out = []
for i in range(0, len(vals), 3):
    x, y, w = vals[i:i + 3]
    # content text: logical rows 0..40 (2 lines of foot text)
    out.append("%.3f" % grad((x - ox) * scale, y * scale, w * scale, 40 * scale))
    # title bar (24 px above the content): the share of its horizontal
    # steps that fall inside a 2x2 block of output pixels; a title drawn
    # at scale 1 and magnified has none (every block is one pixel)
    tx, ty = int((x - ox) * scale), int((y - 22) * scale)
    inside = total = 0
    for yy in range(ty, ty + int(18 * scale)):
        for xx in range(tx, tx + int(w * scale) - 1):
            d = abs(lum(xx + 1, yy) - lum(xx, yy))
            total += d
            if xx % 2 == 0:
                inside += d
    out.append("%.3f" % (inside / max(total, 1)))
print(" ".join(out))
PY
}

# settle WHAT FUNC: apps redraw when they like: run FUNC until it passes;
# on timeout, fail with its last output
settle() {
	local what=$1 deadline=$((SECONDS + E2E_TIMEOUT))
	shift
	until "$@" >"$T/settle.out" 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			cat "$T/settle.out" >&2
			fail "$what"
		fi
		sleep 0.2
	done
	cat "$T/settle.out"
}

# 1. scale 1: buffer of the window's size, as sharp as the host's foot
place_on "$gid" 100 100
place_on "$hid" 100 330
expect_buffer 1
check_scale_1() {
	local g gt h ht
	read -r g gt h ht < <(sharpness HEADLESS-1 0 1 "$gid" "$hid")
	echo "scale 1: text sharpness guest $g host $h"
	$PY -c "import sys; sys.exit(0 if $g >= 0.9 * $h and $h > 0 else 1)"
}
settle "guest text at scale 1 blurrier than the host's" check_scale_1

# 2. scale 2: a 2x buffer, shown 1:1: as sharp as the host's foot
place_on "$gid" 1320 60
place_on "$hid" 1320 330
expect_buffer 2
check_scale_2() {
	local g gt h ht
	read -r g gt h ht < <(sharpness HEADLESS-2 1280 2 "$gid" "$hid")
	echo "scale 2: text sharpness guest $g host $h; title detail inside 2x2 blocks: guest $gt host $ht"
	# as sharp as the host's foot; and a title drawn at scale 2 has about
	# as much detail inside the 2x2 blocks as across them (magnified from
	# scale 1 it has none)
	$PY -c "import sys; sys.exit(0 if $g >= 0.9 * $h and $h > 0 and $gt >= 0.2 and $ht >= 0.2 else 1)"
}
settle "guest text or title bars at scale 2 blurrier than the host's" check_scale_2

# 2b. the guest's cursor shows on the scale-2 output too (foot's text
# cursor, an I-beam, centred on the pointer; wlr_cursor_set_image reaches
# only outputs of the scale it is given, so a guest cursor set at scale 1
# left the host's arrow, or nothing, there), drawn at scale 2
"$VT_POINTER" move 1520 170 || fail "vt-pointer failed"
check_cursor() {
	timeout "$E2E_TIMEOUT" grim -o HEADLESS-2 -t ppm "$T/cursor.ppm" || return 1
	$PY - "$T/cursor.ppm" $(((1520 - 1280) * 2)) $((170 * 2)) <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
magic, dims, maxval, px = d.split(b"\n", 3)
W, H = map(int, dims.split())
hx, hy = int(sys.argv[2]), int(sys.argv[3])
def dark(x, y):
    i = (y * W + x) * 3
    return px[i] + px[i + 1] + px[i + 2] < 3 * 128
left = sum(dark(x, y) for y in range(hy - 24, hy + 25) for x in range(hx - 24, hx - 2))
right = sum(dark(x, y) for y in range(hy - 24, hy + 25) for x in range(hx + 3, hx + 25))
# drawn at scale 2 (SET_CURSOR scale), not magnified from scale 1: steps
# inside the 2x2 blocks of output pixels too
def lum(x, y):
    i = (y * W + x) * 3
    return px[i] + px[i + 1] + px[i + 2]
inside = total = 0
for y in range(hy - 24, hy + 25):
    for x in range(hx - 24, hx + 24):
        d = abs(lum(x + 1, y) - lum(x, y))
        total += d
        inside += d if x % 2 == 0 else 0
print("dark pixels left of the pointer %d, right %d; detail inside 2x2 blocks %.3f"
      % (left, right, inside / max(total, 1)))
sys.exit(0 if left > 0 and right > 0 and inside >= 0.05 * total else 1)
PY
}
settle "no guest cursor (an I-beam) drawn at scale 2 at the pointer on the scale-2 output" check_cursor

# 3. scale 1.5: buffer of scale 2 (rounded up), downscaled by the host
# exactly as the host client's is
place_on "$gid" 2120 60
place_on "$hid" 2120 330
expect_buffer 2
check_scale_1_5() {
	local g gt h ht
	read -r g gt h ht < <(sharpness HEADLESS-3 2080 1.5 "$gid" "$hid")
	echo "scale 1.5: text sharpness guest $g host $h"
	$PY -c "import sys; sys.exit(0 if $g >= 0.9 * $h and $h > 0 else 1)"
}
settle "guest text at scale 1.5 blurrier than the host's" check_scale_1_5

# 4. back to scale 1
place_on "$gid" 100 100
expect_buffer 1

# 5. a pool too small for scale 2 (8 MiB; 3 buffers of 1400x1000 would
# take 16 MiB): the agent draws that window at scale 1 and says so,
# instead of running out of pool
start_agent small small foot -w 700x500 sh -c "$TEXT"
wait_windows small 1
sid=$(win small id)
place_on "$sid" 1290 40
wait_line "$T/agent-small.log" 'drawn at scale 1 instead of 2' "the agent's note on the pool"
expect_buffer 1 small
! grep -q 'the pool has no room' "$T/agent-small.log" || fail "the small pool ran out"

# 6. an app that does not redraw when its scale changes (vt-client draws
# once): moved from scale 1 to the 1.5 output (scale 2), its window is
# still all there, the old pixels magnified, not a quarter of it
start_agent plain plain "$VT_CLIENT" --title plain --size 200x100 --color 00ff80
wait_windows plain 1
pid_=$(win plain id)
place_on "$pid_" 100 400
expect_buffer 1 plain
place_on "$pid_" 2400 60
expect_buffer 2 plain
check_plain() {
	timeout "$E2E_TIMEOUT" grim -o HEADLESS-3 -t ppm "$T/plain.ppm" || return 1
	$PY - "$T/plain.ppm" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
magic, dims, maxval, px = d.split(b"\n", 3)
W, H = map(int, dims.split())
# content 200x100 at (2400 - 2080, 60) logical, 1.5 output pixels each,
# 3 px in from the edges (the scaled edges blend)
x0, y0, x1, y1 = int(320 * 1.5) + 3, int(60 * 1.5) + 3, int(520 * 1.5) - 3, int(160 * 1.5) - 3
bad = [(x, y) for y in range(y0, y1) for x in range(x0, x1)
       if px[(y * W + x) * 3:(y * W + x) * 3 + 3] != bytes([0x00, 0xff, 0x80])]
print("%d pixels of the content not 00ff80" % len(bad))
sys.exit(0 if not bad else 1)
PY
}
settle "the window of an app that did not redraw lost part of its contents at scale 2" check_plain

kill "$HOST_FOOT" 2>/dev/null || true
pass
