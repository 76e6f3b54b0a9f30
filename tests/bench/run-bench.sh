#!/bin/bash
# Frame-path benchmark of vitrail: prints figures, asserts nothing.
#
#   meson test -C build --benchmark frame-path -v    (built and run by meson)
#   tests/bench/run-bench.sh [BUILD_DIR]             (default BUILD_DIR: build)
#
# One headless vitrail (1920x1080, pixman) and one synthetic client
# (bench-client: a 1920x1080 wl_shm ARGB8888 window redrawing noise), run
# three ways in one go:
#   native   bench-client connected to vitrail directly
#   agent    through vitrail-agent (a local [vm bench]: shared pool by memfd)
#   waypipe  through Debian's waypipe (waypipe client on vitrail, waypipe
#            server running bench-client; --no-gpu, default compression)
#   sway     bench-client native on a headless sway 1.7 (pixman), the best
#            native compositor as a baseline (xS columns); needs sway and
#            root (sway runs as BENCH_SWAY_USER, default nobody)
# Phases: isolated frames with full damage, then with a 256x256 damage
# (latency commit -> frame done, p50/p99), the same uncapped (fps), and a
# paced 60 Hz full-frame phase (CPU % of compositor + agent). CPU per frame
# is that of vitrail plus the agent or both waypipe processes, read from
# their CPU clocks over each phase. Prints one table with the ratios to
# native (x) and to sway (xS). A full run takes about 100 s.
#
# Environment: VITRAIL, VITRAILCTL, VITRAIL_AGENT, BENCH_CLIENT, TEST_LIB
# (set by meson; else found in BUILD_DIR and tests/lib), BENCH_FRAMES (isolated frames per phase, 200),
# BENCH_SECONDS (uncapped phase length, 2), BENCH_PACED_SECONDS (5),
# BENCH_PAUSE_MS (pause after an isolated frame, 20), WAYPIPE_ARGS (extra
# waypipe options, e.g. "-c none"), KEEP_BENCH=1 (or KEEP_E2E=1) keeps the
# temp dir.
set -euo pipefail

build=${1:-build}
VITRAIL=${VITRAIL:-$build/compositor/vitrail}
VITRAILCTL=${VITRAILCTL:-$build/vitrailctl/vitrailctl}
VITRAIL_AGENT=${VITRAIL_AGENT:-$build/guest-agent/vitrail-agent}
BENCH_CLIENT=${BENCH_CLIENT:-$build/tests/bench/bench-client}
FRAMES=${BENCH_FRAMES:-200}
SECONDS_UNCAPPED=${BENCH_SECONDS:-2}
SECONDS_PACED=${BENCH_PACED_SECONDS:-5}
PAUSE_MS=${BENCH_PAUSE_MS:-20}
WAYPIPE_ARGS=${WAYPIPE_ARGS:-}
PHASES=latency-full,throughput-full,latency-partial,throughput-partial,paced-full
PATH_TIMEOUT=150

for exe in "$VITRAIL" "$VITRAIL_AGENT" "$BENCH_CLIENT"; do
	if [ ! -x "$exe" ]; then
		echo "run-bench: $exe is missing (build it, or pass the build dir)" >&2
		exit 2
	fi
done
VITRAIL=$(realpath "$VITRAIL")
VITRAIL_AGENT=$(realpath "$VITRAIL_AGENT")
BENCH_CLIENT=$(realpath "$BENCH_CLIENT")
export VITRAILCTL
TEST_LIB=${TEST_LIB:-$(dirname "$(realpath "$0")")/../lib}

# The tests' harness: a private XDG_RUNTIME_DIR, a headless vitrail, and
# whatever was started (BG_PIDS too) stopped at exit.
HARNESS_NAME=bench
KEEP_E2E=${KEEP_E2E:-${KEEP_BENCH:-}}
E2E_TIMEOUT=${E2E_TIMEOUT:-20}
VITRAIL_SIZE=1920x1080
# shellcheck source=../lib/harness.sh
. "$TEST_LIB/harness.sh"

# wait_results FILE PID...: until FILE ends with "end"; fails when a PID dies first.
wait_results() {
	local file=$1 deadline=$((SECONDS + PATH_TIMEOUT)) pid
	shift
	until grep -q '^end$' "$file" 2>/dev/null; do
		for pid in "$@"; do
			if ! kill -0 "$pid" 2>/dev/null; then
				grep -q '^end$' "$file" 2>/dev/null && return 0
				log "${file##*/}: a process of this path exited early"
				return 1
			fi
		done
		if [ $SECONDS -ge $deadline ]; then
			log "${file##*/}: no results after ${PATH_TIMEOUT}s"
			return 1
		fi
		sleep 0.2
	done
}

cat >"$T/vitrail.ini" <<'INI'
[vm bench]
label = blue
INI
start_vitrail "$T/vitrail.ini"
# each path below says which display it runs on
HOST_DISPLAY=$WAYLAND_DISPLAY
unset WAYLAND_DISPLAY
CLIENT_ARGS=(--frames "$FRAMES" --seconds "$SECONDS_UNCAPPED" --paced-seconds "$SECONDS_PACED"
	--pause-ms "$PAUSE_MS" --cpu "compositor=$VITRAIL_PID")

# (a) native
log "native..."
WAYLAND_DISPLAY=$HOST_DISPLAY "$BENCH_CLIENT" "${CLIENT_ARGS[@]}" --phases "copy-ref,$PHASES" \
	--output "$T/native.txt" >"$T/native.log" 2>&1 &
client=$!
BG_PIDS+=("$client")
wait_results "$T/native.txt" "$client" "$VITRAIL_PID"
wait "$client"

# (b) through vitrail-agent
log "vitrail-agent..."
"$VITRAIL_AGENT" --connect "unix:$XDG_RUNTIME_DIR/vitrail/vm/bench.sock" \
	--socket vitrail-bench-agent -- "$BENCH_CLIENT" "${CLIENT_ARGS[@]}" --cpu agent=parent \
	--phases "$PHASES" --output "$T/agent.txt" >"$T/agent.log" 2>&1 &
agent=$!
BG_PIDS+=("$agent")
wait_results "$T/agent.txt" "$agent" "$VITRAIL_PID"
stop_pid "$agent"

# (c) through waypipe
log "waypipe..."
# shellcheck disable=SC2086
WAYLAND_DISPLAY=$HOST_DISPLAY waypipe --no-gpu $WAYPIPE_ARGS --socket "$T/waypipe.sock" \
	client >"$T/waypipe-client.log" 2>&1 &
wp_client=$!
BG_PIDS+=("$wp_client")
wait_for "the waypipe client to listen" test -S "$T/waypipe.sock"
# shellcheck disable=SC2086
waypipe --no-gpu $WAYPIPE_ARGS --socket "$T/waypipe.sock" server -- "$BENCH_CLIENT" \
	"${CLIENT_ARGS[@]}" --cpu "waypipe=$wp_client" --cpu waypipe-server=parent \
	--phases "${PHASES%,paced-full}" --output "$T/waypipe.txt" >"$T/waypipe-server.log" 2>&1 &
wp_server=$!
BG_PIDS+=("$wp_server")
wait_results "$T/waypipe.txt" "$wp_server" "$wp_client" "$VITRAIL_PID"
stop_pid "$wp_server"
stop_pid "$wp_client"

# (d) native on sway: the best native compositor of Debian 12 (sway 1.7,
# wlroots 0.15 too), headless with the pixman renderer like vitrail, run as
# the unprivileged user BENCH_SWAY_USER (default nobody: sway refuses root),
# no borders and no gaps so the window is exactly 1920x1080. Skipped, with
# a line saying so, when sway is not installed (tools/dev bench installs it).
SWAY_USER=${BENCH_SWAY_USER:-nobody}
have_sway=0
if command -v sway >/dev/null && [ "$(id -u)" = 0 ]; then
	log "native on sway..."
	# its own runtime dir: the unprivileged user cannot enter $T
	sway_dir=$(mktemp -d /tmp/vitrail-bench-sway.XXXXXX)
	cat >"$sway_dir/config" <<'SWAY'
output HEADLESS-1 resolution 1920x1080 position 0 0
default_border none
default_floating_border none
gaps inner 0
gaps outer 0
focus_follows_mouse no
SWAY
	chmod 700 "$sway_dir"
	chown -R "$SWAY_USER" "$sway_dir"
	runuser -u "$SWAY_USER" -- env -i PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$sway_dir" \
		WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 HOME="$sway_dir" \
		sway -c "$sway_dir/config" >"$T/sway.log" 2>&1 &
	sway_pid=$!
	BG_PIDS+=("$sway_pid")
	wait_for "sway to listen" test -S "$sway_dir/wayland-1"
	sway_comp=$(pgrep -u "$SWAY_USER" -x sway | head -n 1)
	XDG_RUNTIME_DIR=$sway_dir WAYLAND_DISPLAY=wayland-1 "$BENCH_CLIENT" \
		"${CLIENT_ARGS[@]/compositor=$VITRAIL_PID/compositor=$sway_comp}" \
		--phases "$PHASES" --output "$T/sway.txt" >"$T/sway-client.log" 2>&1 &
	client=$!
	BG_PIDS+=("$client")
	if wait_results "$T/sway.txt" "$client" "$sway_pid"; then
		have_sway=1
	fi
	stop_pid "$client"
	stop_pid "$sway_pid"
	cp "$sway_dir/config" "$T/sway.config"
	rm -rf "$sway_dir"
else
	log "sway is not installed (or not root to run it as $SWAY_USER): no sway baseline"
fi

/usr/bin/python3 - "$T" "$(waypipe --version 2>&1 | head -n 1)" "$PAUSE_MS" "$have_sway" <<'PY'
import sys

tdir, wp_version, pause, have_sway = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"


def load(name):
    phases = {}
    for line in open(f"{tdir}/{name}.txt"):
        if not line.startswith("phase="):
            continue
        kv = dict(f.split("=", 1) for f in line.split())
        phases[kv["phase"]] = kv
    return phases


paths = [("native", load("native"), []),
         ("agent", load("agent"), ["agent"]),
         ("waypipe", load("waypipe"), ["waypipe", "waypipe-server"])]
native = paths[0][1]
sway = load("sway") if have_sway else {}
if have_sway:
    paths.append(("sway", sway, []))


def num(kv, key):
    return float(kv[key]) if kv and key in kv else float("nan")


def proxy_cpu(kv, names):
    return sum(num(kv, "cpu_" + n) for n in names)


def ratio(a, b):
    return f"{a / b:5.2f}x" if b == b and b != 0 and a == a else "    - "


print()
print("vitrail frame path: 1920x1080 wl_shm ARGB8888 window of noise on vitrail --headless "
      "1920x1080 (pixman)")
print(f"latency: isolated frames, commit -> frame done (ms), a {pause} ms pause after each; "
      "fps: uncapped, next commit on frame done")
print("CPU: ms per frame over the isolated phase, vitrail + proxy (agent, or waypipe client + "
      "server); xN = ratio to native")
print()
hdr = (f"{'damage':<10}{'path':<9}{'p50':>7}{'p99':>7}{'fps':>7}"
       f"{'CPU':>7}{'comp':>7}{'proxy':>7}{'CPUunc':>8}"
       f"{'p50 x':>8}{'p99 x':>8}{'fps x':>8}{'CPU x':>8}"
       + (f"{'p50 xS':>8}{'CPU xS':>8}" if have_sway else ""))
print(hdr)
print("-" * len(hdr))
for kind, label in (("full", "1920x1080"), ("partial", "256x256")):
    n_lat, n_thr = native.get("latency-" + kind), native.get("throughput-" + kind)
    for name, res, proxies in paths:
        lat, thr = res.get("latency-" + kind), res.get("throughput-" + kind)
        comp = num(lat, "cpu_compositor")
        prox = proxy_cpu(lat, proxies)
        print(f"{label:<10}{name:<9}{num(lat, 'p50'):7.2f}{num(lat, 'p99'):7.2f}"
              f"{num(thr, 'fps'):7.1f}{num(lat, 'cpu_total'):7.2f}{comp:7.2f}{prox:7.2f}"
              f"{num(thr, 'cpu_total'):8.2f}"
              f"{ratio(num(lat, 'p50'), num(n_lat, 'p50')):>8}"
              f"{ratio(num(lat, 'p99'), num(n_lat, 'p99')):>8}"
              f"{ratio(num(thr, 'fps'), num(n_thr, 'fps')):>8}"
              f"{ratio(num(lat, 'cpu_total'), num(n_lat, 'cpu_total')):>8}"
              + (f"{ratio(num(lat, 'p50'), num(sway.get('latency-' + kind), 'p50')):>8}"
                 f"{ratio(num(lat, 'cpu_total'), num(sway.get('latency-' + kind), 'cpu_total')):>8}"
                 if have_sway else ""))
print()
if have_sway:
    print("xS: ratio to the same client native on sway 1.7 (headless, pixman, as vitrail)")
print("CPUunc: CPU ms per frame over the uncapped phase. fps is bounded by the headless")
print("frame clock (a 16 ms timer re-armed after each render): fps <= 1000 / (16 + render ms).")
ref = native.get("copy-ref")
if ref:
    copy = num(ref, "p50")
    print(f"one 1920x1080 ARGB memcpy here, now: {copy:.2f} ms (p50; min {num(ref, 'min'):.2f})")
    for name, res, proxies in paths[1:]:
        extra = num(res.get("latency-full"), "cpu_total") - num(native.get("latency-full"),
                                                                  "cpu_total")
        print(f"  {name}: {extra:+.2f} ms CPU per full frame over native = "
              f"{extra / copy:.1f} copies")
for name, res, _ in paths:
    fb = [f"{k}: {res[k].get('presented', '?')}/{res[k].get('frames', '?')}"
          for k in ("latency-full", "latency-partial") if k in res]
    print(f"presentation feedback received ({name}): " + ", ".join(fb))
print()
for name, res, proxies in paths:
    p = res.get("paced-full")
    if not p:
        continue
    frames, wall = num(p, "frames"), num(p, "wall_s")
    comp_name = "sway" if name == "sway" else "vitrail"
    names = [(comp_name, "compositor")] + [(px, px) for px in proxies]
    at_rate = " + ".join(f"{n} {num(p, 'cpu_' + k) * frames / wall / 10:.1f}%" for n, k in names)
    at_60 = " + ".join(f"{n} {num(p, 'cpu_' + k) * 6:.0f}%" for n, k in names)
    print(f"1920x1080 window paced at 60 Hz, {name}: {frames:.0f} frames in {wall:.1f} s "
          f"({frames / wall:.0f} fps got through the frame clock): {at_rate} = "
          f"{num(p, 'cpu_percent'):.1f}% of one core; per frame "
          f"{num(p, 'cpu_total'):.2f} ms, so at a true 60 Hz: {at_60} = "
          f"{num(p, 'cpu_total') * 6:.0f}% (client {num(p, 'cpu_client') * 6:.0f}% more)")
print(f"waypipe: {wp_version}")
print()
print("raw results:")
for name, _, _ in paths:
    for line in open(f"{tdir}/{name}.txt"):
        if line.startswith("phase="):
            print(f"  {name}: {line.rstrip()}")
PY
STATUS=pass
