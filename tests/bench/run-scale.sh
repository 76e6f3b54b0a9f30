#!/bin/bash
# Scale and soak benchmark of vitrail: prints figures, asserts nothing.
#
#   meson test -C build --benchmark scale -v     (built and run by meson)
#   tests/bench/run-scale.sh [BUILD_DIR]
#
# One headless vitrail (1920x1080, pixman) with SCALE_VMS local VMs (8),
# each running SCALE_WINDOWS windows (25): SCALE_ANIMATED of them (3)
# animating weston-simple-shm, the rest mostly idle foot terminals. Plus one
# bench-keys window in the first VM, focused, that records key arrivals.
# For SCALE_SECONDS (600) it samples vitrail's RSS every 60 s; halfway it
# types SCALE_KEYS (200) keys through a virtual keyboard, one every 50 ms,
# for the input-to-guest latency under load. At the end: vitrail's RSS at
# start and end, its CPU per composited frame (CPU clock over the soak /
# frames rendered, from vitrailctl outputs), key latency p50/p99, and a
# check of every window's frame: each window in turn is focused (raised)
# and its host-drawn frame checked on a screenshot in its VM's colour.
#
# Environment: VITRAIL, VITRAILCTL, VITRAIL_AGENT, BENCH_KEYS, TEST_LIB (set
# by meson; else found in BUILD_DIR and tests/lib), the SCALE_* above,
# KEEP_BENCH=1 keeps the temp dir.
set -euo pipefail

build=${1:-build}
VITRAIL=$(realpath "${VITRAIL:-$build/compositor/vitrail}")
VITRAILCTL=$(realpath "${VITRAILCTL:-$build/vitrailctl/vitrailctl}")
VITRAIL_AGENT=$(realpath "${VITRAIL_AGENT:-$build/guest-agent/vitrail-agent}")
BENCH_KEYS=$(realpath "${BENCH_KEYS:-$build/tests/bench/bench-keys}")
export VITRAILCTL VITRAIL_AGENT
TEST_LIB=${TEST_LIB:-$(dirname "$(realpath "$0")")/../lib}
VMS=${SCALE_VMS:-8}
WINDOWS=${SCALE_WINDOWS:-25}
ANIMATED=${SCALE_ANIMATED:-3}
SOAK=${SCALE_SECONDS:-600}
KEYS=${SCALE_KEYS:-200}
for tool in weston-simple-shm foot grim; do
	command -v $tool >/dev/null || {
		echo "run-scale: $tool is not installed (tools/dev bench installs it)" >&2
		exit 2
	}
done

HARNESS_NAME=scale
KEEP_E2E=${KEEP_E2E:-${KEEP_BENCH:-}}
E2E_TIMEOUT=${E2E_TIMEOUT:-120}
VITRAIL_SIZE=1920x1080
# shellcheck source=../lib/harness.sh
. "$TEST_LIB/harness.sh"

colors=(red orange yellow green gray blue purple black)
hexes=(cc0000 f57900 edd400 73d216 555555 3465a4 75507b 000000)
: >"$T/vitrail.ini"
for i in $(seq 1 "$VMS"); do
	c=$(((i - 1) % ${#colors[@]}))
	cat >>"$T/vitrail.ini" <<INI
[vm vm$i]
label = ${colors[$c]}
INI
done
start_vitrail "$T/vitrail.ini"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
frames() { ctl outputs --json | $PY -c 'import json,sys; print(sum(o["frames"] for o in json.load(sys.stdin)))'; }

# the VMs and their apps
for i in $(seq 1 "$VMS"); do
	extra=""
	[ "$i" = 1 ] && extra="$BENCH_KEYS receive '$T/recv.txt' & "
	start_agent "vm$i" "vm$i" sh -c "$extra
		for n in \$(seq 1 $ANIMATED); do weston-simple-shm & done
		for n in \$(seq 1 $((WINDOWS - ANIMATED))); do foot -W 30x6 sleep 1d & done
		wait"
done
total=$((VMS * WINDOWS + 1))
log "waiting for $total windows..."
deadline=$((SECONDS + 300))
until [ "$(ctl windows --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge "$total" ]; do
	[ $SECONDS -lt $deadline ] || fail "only $(ctl windows --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))') of $total windows after 300 s"
	sleep 1
done
ctl windows --json >"$T/windows.json"
keys_id=$(json_get "$T/windows.json" '[w["id"] for w in d if w["title"] == "bench-keys"][0]')
ctl focus "$keys_id"

sleep 5 # settle
rss0=$(rss_kib "$VITRAIL_PID")
cpu0=$(cpu_ticks "$VITRAIL_PID")
frames0=$(frames)
t0=$SECONDS
log "soak: $SOAK s with $total windows (vitrail RSS $rss0 KiB)"
samples=("0:$rss0")
keys_done=0
while [ $((SECONDS - t0)) -lt "$SOAK" ]; do
	if [ $keys_done = 0 ] && [ $((SECONDS - t0)) -ge $((SOAK / 2)) ]; then
		ctl focus "$keys_id"
		"$BENCH_KEYS" send "$KEYS" 50 "$T/send.txt"
		keys_done=1
	fi
	sleep 10
	if [ $(((SECONDS - t0) % 60)) -lt 10 ]; then
		samples+=("$((SECONDS - t0)):$(rss_kib "$VITRAIL_PID")")
	fi
	vitrail_alive || fail "vitrail died during the soak"
done
if [ $keys_done = 0 ]; then
	ctl focus "$keys_id"
	"$BENCH_KEYS" send "$KEYS" 50 "$T/send.txt"
fi
rss1=$(rss_kib "$VITRAIL_PID")
cpu1=$(cpu_ticks "$VITRAIL_PID")
frames1=$(frames)
t1=$SECONDS
hz=$(getconf CLK_TCK)

# every window's frame, raised one at a time
log "checking the frames of $total windows..."
ctl windows --json >"$T/windows.json"
ok=0 bad=0 off=0
while read -r id x y w h label; do
	if [ "$x" -lt 4 ] || [ "$y" -lt 28 ] || [ $((x + w + 4)) -gt 1920 ] || [ $((y + h + 4)) -gt 1080 ]; then
		off=$((off + 1))
		continue
	fi
	ctl focus "$id"
	if screenshot "$T/w.ppm" && $PY "$TEST_LIB/pixels.py" "$T/w.ppm" frame "$x" "$y" "$w" "$h" "$label" 2>>"$T/frames.err"; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		cp "$T/w.ppm" "$T/bad-$id.ppm"
	fi
done < <($PY -c 'import json,sys
for w in json.load(open(sys.argv[1])):
    print(w["id"], w["x"], w["y"], w["width"], w["height"], w["label"][1:])' "$T/windows.json")
screenshot "$T/all.ppm"

$PY - "$T" "$rss0" "$rss1" "$cpu0" "$cpu1" "$hz" "$frames0" "$frames1" "$((t1 - t0))" \
	"$ok" "$bad" "$off" "$total" "$VMS" "$WINDOWS" "$ANIMATED" "${samples[*]}" <<'PY'
import sys
(tdir, rss0, rss1, cpu0, cpu1, hz, f0, f1, secs, ok, bad, off, total, vms, wins,
 anim, samples) = sys.argv[1:]
rss0, rss1, cpu0, cpu1, hz, f0, f1, secs = map(int, (rss0, rss1, cpu0, cpu1, hz, f0, f1, secs))
frames = f1 - f0
cpu_ms = (cpu1 - cpu0) * 1000 / hz
sends = [int(l.split()[1]) for l in open(f"{tdir}/send.txt") if l.startswith("send ")]
try:
    recvs = [int(l.split()[1]) for l in open(f"{tdir}/recv.txt") if l.startswith("recv ")]
except FileNotFoundError:
    recvs = []
lat = sorted((r - s) / 1e6 for s, r in zip(sends, recvs))
def pct(p):
    return lat[min(len(lat) - 1, int(len(lat) * p / 100))] if lat else float("nan")
print()
print(f"vitrail scale/soak: {vms} local VMs x {wins} windows ({anim} weston-simple-shm "
      f"animating + {int(wins) - int(anim)} foot each) + 1 bench-keys = {total} windows, "
      f"headless 1920x1080 pixman, {secs} s")
print(f"vitrail RSS: start {rss0 / 1024:.1f} MiB, end {rss1 / 1024:.1f} MiB "
      f"({(rss1 - rss0) / 1024:+.1f} MiB); samples (s:KiB): {samples}")
print(f"vitrail CPU: {cpu_ms / 1000:.1f} s over {secs} s = {cpu_ms / secs / 10:.1f}% of one core; "
      f"{frames} frames composited ({frames / secs:.1f} fps): "
      f"{cpu_ms / frames if frames else float('nan'):.2f} ms CPU per frame")
print(f"input to guest app under that load: {len(lat)} of {len(sends)} keys arrived; "
      f"latency p50 {pct(50):.2f} ms, p99 {pct(99):.2f} ms, max {lat[-1] if lat else float('nan'):.2f} ms")
print(f"frames on screen: {ok} correct, {bad} wrong, {off} not fully on the output (not checked)")
PY
STATUS=pass
