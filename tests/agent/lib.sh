# Shared helpers of the guest agent's end-to-end tests; sourced by test-*.sh.
#
# Environment (set by meson): VITRAIL, VITRAILCTL, VITRAIL_AGENT, VT_CLIENT,
# AGENT_TEST_DIR, PIXELS (tests/e2e/pixels.py). Every test gets a private
# XDG_RUNTIME_DIR, starts its own headless vitrail and real agents running
# real clients, and kills what it started on exit. Every wait has a timeout
# (E2E_TIMEOUT seconds, default 20) so a broken part fails the test instead
# of hanging it. KEEP_E2E=1 keeps the temp dir.

set -euo pipefail

PY=/usr/bin/python3
E2E_TIMEOUT=${E2E_TIMEOUT:-20}
for v in VITRAIL VITRAILCTL VITRAIL_AGENT VT_CLIENT AGENT_TEST_DIR PIXELS; do
	if [ -z "${!v:-}" ]; then
		echo "agent e2e: $v is not set (run through meson test)" >&2
		exit 2
	fi
done
for tool in grim wtype foot weston-simple-shm; do
	command -v "$tool" >/dev/null || {
		echo "agent e2e: $tool is not installed" >&2
		exit 1
	}
done

T=$(mktemp -d /tmp/vitrail-agent-e2e.XXXXXX)
export XDG_RUNTIME_DIR=$T/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
export XDG_CONFIG_HOME=$T/config
# vitrail writes (and prunes) menu entries under XDG_DATA_HOME: never the user's
export XDG_DATA_HOME=$T/data
unset VITRAIL_SOCK WAYLAND_DISPLAY DISPLAY
export WLR_RENDERER=${WLR_RENDERER:-pixman}
export WLR_BACKENDS=headless
export WLR_LIBINPUT_NO_DEVICES=1

BG=1e1e1e
BLUE=3465a4
GREEN=73d216
VITRAIL_PID=
VITRAIL_RUNS=0
declare -A AGENT_PID=()
STATUS=fail

log() { printf 'agent e2e: %s\n' "$*" >&2; }

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

dump_logs() {
	local f
	for f in "$T"/*.log "$T"/*.out "$T"/*.err; do
		[ -s "$f" ] || continue
		printf -- '----- %s (last 40 lines)\n' "${f##*/}" >&2
		tail -n 40 "$f" >&2
	done
}

# stop_pid PID [SIGNAL]: signal (default TERM), then KILL after 5 s.
stop_pid() {
	local pid=$1 sig=${2:-TERM} i
	kill -0 "$pid" 2>/dev/null || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? name
	set +e
	for name in "${!AGENT_PID[@]}"; do
		pkill -TERM -P "${AGENT_PID[$name]}" 2>/dev/null
		stop_pid "${AGENT_PID[$name]}"
	done
	[ -n "$VITRAIL_PID" ] && stop_pid "$VITRAIL_PID"
	if [ $rc -ne 0 ] || [ "$STATUS" != pass ]; then
		dump_logs
		[ $rc -ne 0 ] || rc=1
	fi
	if [ -n "${KEEP_E2E:-}" ]; then
		log "kept $T"
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for WHAT CMD...: run CMD until it succeeds, at most E2E_TIMEOUT s.
wait_for() {
	local what=$1 deadline=$((SECONDS + E2E_TIMEOUT))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || fail "timeout after ${E2E_TIMEOUT}s waiting for $what"
		sleep 0.1
	done
}

write_config() { # FILE, text on stdin
	cat >"$1"
}

vitrail_alive() {
	[ -n "$VITRAIL_PID" ] && kill -0 "$VITRAIL_PID" 2>/dev/null
}

# start_vitrail CONFIG: a headless vitrail; exports WAYLAND_DISPLAY (the host's).
start_vitrail() {
	VITRAIL_RUNS=$((VITRAIL_RUNS + 1))
	local out=$T/vitrail-$VITRAIL_RUNS.out
	"$VITRAIL" --headless 1280x720 --config "$1" >"$out" 2>"$T/vitrail-$VITRAIL_RUNS.err" &
	VITRAIL_PID=$!
	local deadline=$((SECONDS + E2E_TIMEOUT))
	until grep -q '^WAYLAND_DISPLAY=' "$out"; do
		vitrail_alive || fail "vitrail exited at start"
		[ $SECONDS -lt $deadline ] || fail "vitrail printed no WAYLAND_DISPLAY"
		sleep 0.05
	done
	WAYLAND_DISPLAY=$(sed -n 's/^WAYLAND_DISPLAY=//p' "$out" | head -n 1)
	export WAYLAND_DISPLAY
}

# stop_vitrail: SIGTERM; it must exit 0.
stop_vitrail() {
	local rc=0 i
	vitrail_alive || fail "vitrail is not running any more"
	kill -TERM "$VITRAIL_PID"
	for i in $(seq $((E2E_TIMEOUT * 10))); do
		kill -0 "$VITRAIL_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$VITRAIL_PID" 2>/dev/null && fail "vitrail did not exit on SIGTERM"
	wait "$VITRAIL_PID" || rc=$?
	VITRAIL_PID=
	[ $rc -eq 0 ] || fail "vitrail exited with status $rc"
}

# start_agent NAME VM COMMAND...: a vitrail-agent for VM running COMMAND
# (its output, and its apps', in $T/agent-NAME.log).
start_agent() {
	local name=$1 vm=$2
	shift 2
	"$VITRAIL_AGENT" --connect "unix:$XDG_RUNTIME_DIR/vitrail/vm/$vm.sock" \
		--socket "agent-$name" -- "$@" >>"$T/agent-$name.log" 2>&1 &
	AGENT_PID[$name]=$!
	wait_for "the Wayland socket of agent $name" test -S "$XDG_RUNTIME_DIR/agent-$name"
}

agent_alive() {
	kill -0 "${AGENT_PID[$1]}" 2>/dev/null
}

# stop_agent NAME [SIGNAL]
stop_agent() {
	stop_pid "${AGENT_PID[$1]}" "${2:-TERM}"
	unset "AGENT_PID[$1]"
}

# agent_app NAME: the pid of the app the agent started.
agent_app() {
	pgrep -P "${AGENT_PID[$1]}" | head -n 1
}

ctl() {
	timeout "$E2E_TIMEOUT" "$VITRAILCTL" "$@"
}

# py EXPR: evaluate EXPR with w = the list of windows, v = the list of VMs.
py_state() {
	ctl windows --json >"$T/windows.json" || return 1
	ctl vms --json >"$T/vms.json" || return 1
	$PY - "$T/windows.json" "$T/vms.json" "$1" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
v = json.load(open(sys.argv[2]))
w = w["windows"] if isinstance(w, dict) else w
v = v["vms"] if isinstance(v, dict) else v
r = eval(sys.argv[3], {"w": w, "v": v, "len": len, "any": any, "all": all})
if isinstance(r, bool):
    sys.exit(0 if r else 1)
print(r)
PY
}

# count VM: the number of windows of VM.
count_windows() {
	py_state "len([x for x in w if x['vm'] == '$1'])"
}

windows_are() { # VM N
	[ "$(count_windows "$1")" = "$2" ]
}

wait_windows() { # VM N
	wait_for "VM $1 to have $2 window(s)" windows_are "$1" "$2"
}

# win VM FIELD [TITLE]: a field of VM's window (the one whose title has TITLE).
win() {
	py_state "[x for x in w if x['vm'] == '$1' and '${3:-}' in x['title']][0]['$2']"
}

screenshot() { # FILE
	timeout "$E2E_TIMEOUT" grim -t ppm "$1"
}

# shot_check SHOT CHECKS: CHECKS is a list of pixels.py / agentpix.py checks
# separated by ';' (agentpix checks start with '+').
shot_check() {
	local shot=$1 check checks
	local -a args
	IFS=';' read -r -d '' -a checks <<<"$2" || true
	for check in "${checks[@]}"; do
		IFS=$' \t\n' read -r -d '' -a args <<<"$check" || true
		[ ${#args[@]} -gt 0 ] || continue
		if [ "${args[0]:0:1}" = + ]; then
			args[0]=${args[0]:1}
			$PY "$AGENT_TEST_DIR/agentpix.py" "$shot" "${args[@]}" || return 1
		else
			$PY "$PIXELS" "$shot" "${args[@]}" || return 1
		fi
	done
}

# wait_pixels WHAT CHECKS: take screenshots until CHECKS hold (apps draw
# when they like); on timeout show why the last one failed.
wait_pixels() {
	local what=$1 checks=$2 deadline=$((SECONDS + E2E_TIMEOUT))
	local shot=$T/shot.ppm
	while :; do
		if screenshot "$shot" && shot_check "$shot" "$checks" 2>/dev/null; then
			return 0
		fi
		if [ $SECONDS -ge $deadline ]; then
			cp "$shot" "$T/failed-shot.ppm" 2>/dev/null || true
			shot_check "$shot" "$checks" || true
			fail "screenshot never showed $what"
		fi
		sleep 0.2
	done
}

pass() {
	local name
	for name in "${!AGENT_PID[@]}"; do
		agent_alive "$name" || fail "agent $name died"
	done
	for name in "${!AGENT_PID[@]}"; do
		stop_agent "$name"
	done
	[ -n "$VITRAIL_PID" ] && stop_vitrail
	STATUS=pass
	log "PASS"
}
