#!/bin/bash
# Outputs: [output NAME] / [output *] sections (mode, position, scale,
# transform, enabled), --headless WxH@SCALE, vitrailctl outputs, and the
# errors --check-config gives for bad [output] sections.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

outputs() { ctl outputs --json >"$T/o.json" || fail "vitrailctl outputs failed"; }

# 1. three headless outputs: the second at scale 2 placed by the config, the
# third disabled
write_config "$T/a.ini" <<INI
[vm work]
label = blue
[output HEADLESS-2]
scale = 2
position = 1280,100
[output HEADLESS-3]
enabled = false
[output *]
transform = normal
INI
VITRAIL_SIZE=1280x720,800x600,640x480
start_vitrail "$T/a.ini"
outputs
json_check "$T/o.json" '[(o["name"], o["x"], o["y"], o["width"], o["height"], o["scale"]) for o in d] == [("HEADLESS-1", 0, 0, 1280, 720, 1), ("HEADLESS-2", 1280, 100, 400, 300, 2)]' \
	"outputs with [output] sections"
grep -q 'output HEADLESS-3: disabled (\[output HEADLESS-3\], line 7)' "$VITRAIL_ERR" ||
	fail "no log line for the disabled output"
stop_vitrail

# 2. --headless WxH@SCALE (fractional), laid out by logical width; a mode
# and a transform from [output *]
write_config "$T/b.ini" <<INI
[output *]
mode = 1024x768
transform = 90
[output HEADLESS-2]
INI
VITRAIL_SIZE=1280x720,1200x900@1.5
start_vitrail "$T/b.ini"
outputs
json_check "$T/o.json" '[(o["name"], o["x"], o["y"], o["width"], o["height"], o["scale"]) for o in d] == [("HEADLESS-1", 0, 0, 768, 1024, 1), ("HEADLESS-2", 768, 0, 800, 600, 1.5)]' \
	"outputs from --headless WxH@SCALE and [output *]"
ctl outputs >"$T/o.txt"
grep -q '^HEADLESS-2 .*800x600+768+0 .*1.5 ' "$T/o.txt" || fail "outputs table: $(cat "$T/o.txt")"
stop_vitrail

# 2b. an output without a position never lands on one the config placed:
# HEADLESS-2 at 0,0 takes HEADLESS-1's usual place, HEADLESS-1 goes right
write_config "$T/c.ini" <<INI
[output HEADLESS-2]
position = 0,0
INI
VITRAIL_SIZE=1280x720,1280x720
start_vitrail "$T/c.ini"
outputs
json_check "$T/o.json" 'sorted((o["name"], o["x"], o["y"]) for o in d) == [("HEADLESS-1", 1280, 0), ("HEADLESS-2", 0, 0)]' \
	"an unplaced output next to (not over) a placed one"
stop_vitrail

# 3. a bad --headless scale is refused
rc=0
"$VITRAIL" --headless 640x480@9 --config "$T/b.ini" >"$T/out" 2>"$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'bad --headless value' "$T/err" || fail "--headless 640x480@9: rc $rc, $(cat "$T/err")"

# 4. --check-config names file:line for each bad [output] line
check_bad() { # TEXT LINE WHAT
	printf '%b' "$1" >"$T/bad.ini"
	local rc=0
	"$VITRAIL" --check-config --config "$T/bad.ini" >"$T/out" 2>"$T/err" || rc=$?
	[ $rc -ne 0 ] && grep -qF "$T/bad.ini:$2: " "$T/err" || fail "$3: rc $rc, $(cat "$T/err")"
}
check_bad '[output HDMI-A-1]\nscale = 9\n' 2 "scale out of range"
check_bad '[output HDMI-A-1]\nscale = 1.2345\n' 2 "scale with 4 decimals"
check_bad '[output HDMI-A-1]\ntransform = 45\n' 2 "bad transform"
check_bad '[output HDMI-A-1]\nmode = 1920*1080\n' 2 "bad mode"
check_bad '[output HDMI-A-1]\nmode = 1920x1080@0\n' 2 "bad refresh"
check_bad '[output HDMI-A-1]\nposition = 10\n' 2 "bad position"
check_bad '[output HDMI-A-1]\nenabled = maybe\n' 2 "bad enabled"
check_bad '[output HDMI-A-1]\ndpi = 96\n' 2 "unknown key"
check_bad '[output HDMI-A-1]\nscale = 2\nscale = 1\n' 3 "duplicate key"
check_bad '[output bad/name]\n' 1 "bad output name"
check_bad '[output]\n' 1 "output without a name"
check_bad '[output *]\n[output *]\n' 2 "duplicate section"
printf '[output eDP-1]\nmode = 2560x1600@59.94\nscale = 1.25\nposition = -2560,0\ntransform = flipped-90\nenabled = true\n' >"$T/good.ini"
"$VITRAIL" --check-config --config "$T/good.ini" >"$T/out" 2>"$T/err" || fail "a good [output] section: $(cat "$T/err")"
pass
