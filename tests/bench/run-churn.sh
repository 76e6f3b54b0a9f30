#!/bin/bash
# Churn benchmark of vitrail: prints figures, asserts nothing.
#
#   meson test -C build --benchmark churn -v
#   tests/bench/run-churn.sh [BUILD_DIR]
#
# CHURN_CYCLES (100) times: an agent connects, maps a window and is killed
# with SIGKILL (as a crashing guest would go); then CHURN_CYCLES times a
# local VM is started with vitrailctl start --wait, maps a window and is
# stopped with vitrailctl stop. Prints vitrail's open file descriptors and
# RSS before and after each series (after one warm-up cycle), and the time
# per cycle.
set -euo pipefail

build=${1:-build}
VITRAIL=$(realpath "${VITRAIL:-$build/compositor/vitrail}")
VITRAILCTL=$(realpath "${VITRAILCTL:-$build/vitrailctl/vitrailctl}")
VITRAIL_AGENT=$(realpath "${VITRAIL_AGENT:-$build/guest-agent/vitrail-agent}")
BENCH_KEYS=$(realpath "${BENCH_KEYS:-$build/tests/bench/bench-keys}")
export VITRAILCTL VITRAIL_AGENT
TEST_LIB=${TEST_LIB:-$(dirname "$(realpath "$0")")/../lib}
CYCLES=${CHURN_CYCLES:-100}

HARNESS_NAME=churn
KEEP_E2E=${KEEP_E2E:-${KEEP_BENCH:-}}
E2E_TIMEOUT=${E2E_TIMEOUT:-30}
# shellcheck source=../lib/harness.sh
. "$TEST_LIB/harness.sh"

cat >"$T/vitrail.ini" <<INI
[vm crash]
label = red
[vm cycle]
label = blue
command = $BENCH_KEYS receive /dev/null
INI
start_vitrail "$T/vitrail.ini"

fds() { find "/proc/$VITRAIL_PID/fd" -mindepth 1 | wc -l; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$VITRAIL_PID/status"; }
n_windows() { ctl windows --json | $PY -c 'import json,sys; print(sum(1 for w in json.load(sys.stdin) if w["vm"] == sys.argv[1]))' "$1"; }
wait_n_windows() { # VM N
	local deadline=$((SECONDS + E2E_TIMEOUT))
	until [ "$(n_windows "$1")" = "$2" ]; do
		[ $SECONDS -lt $deadline ] || fail "VM $1: not $2 windows after ${E2E_TIMEOUT}s"
		sleep 0.05
	done
}

crash_cycle() {
	start_agent c crash "$BENCH_KEYS" receive /dev/null
	wait_n_windows crash 1
	local app
	app=$(agent_app c)
	kill -KILL "${AGENT_PID[c]}" ${app:+"$app"}
	wait "${AGENT_PID[c]}" 2>/dev/null || true
	unset "AGENT_PID[c]"
	wait_n_windows crash 0
	until [ "$(vm_field crash connected)" = False ]; do sleep 0.05; done
}

vm_cycle() {
	ctl start --wait cycle >/dev/null
	wait_n_windows cycle 1
	ctl stop cycle >/dev/null
	wait_n_windows cycle 0
}

series() { # NAME FUNCTION
	"$2" # warm-up
	local fd0 rss0 t0 fd1 rss1 t1
	fd0=$(fds) rss0=$(rss_kib) t0=$(date +%s.%N)
	for _ in $(seq 1 "$CYCLES"); do
		"$2"
		vitrail_alive || fail "vitrail died during $1"
	done
	fd1=$(fds) rss1=$(rss_kib) t1=$(date +%s.%N)
	$PY -c 'import sys
name, fd0, fd1, rss0, rss1, t0, t1, n = sys.argv[1:]
fd0, fd1, rss0, rss1, n = int(fd0), int(fd1), int(rss0), int(rss1), int(n)
print(f"{name:<34} fds {fd0:3d} -> {fd1:3d} ({fd1 - fd0:+d})   RSS {rss0 / 1024:6.1f} -> "
      f"{rss1 / 1024:6.1f} MiB ({(rss1 - rss0) / 1024:+.1f})   "
      f"{(float(t1) - float(t0)) * 1000 / n:.0f} ms per cycle")' "$1" "$fd0" "$fd1" "$rss0" "$rss1" "$t0" "$t1" "$CYCLES" >>"$T/results.txt"
}

: >"$T/results.txt"
log "$CYCLES agent kill -9 / reconnect cycles..."
series "$CYCLES agent kill -9 + reconnect" crash_cycle
log "$CYCLES VM start/stop cycles..."
series "$CYCLES VM start --wait + stop" vm_cycle
echo
echo "vitrail churn (after one warm-up cycle each; one window per cycle):"
cat "$T/results.txt"
STATUS=pass
