# shellcheck shell=bash
# The shell harness of every end-to-end test (and of the frame-path
# benchmark); sourced first, as ". "$TEST_LIB/harness.sh"", or through a
# topic file of this directory that sources it (agent.sh, clipboard.sh,
# open.sh).
#
# Environment (set by meson): TEST_LIB (this directory), VITRAIL,
# VITRAILCTL; FAKE_GUEST for start_guest, VITRAIL_AGENT for start_agent.
# Every test gets a private XDG_RUNTIME_DIR (and XDG_CONFIG_HOME,
# XDG_DATA_HOME), starts its own headless vitrail, and stops what it
# started on exit. Every wait has a timeout (E2E_TIMEOUT seconds, default
# 15; a topic file or a test may raise it before sourcing) so a broken
# compositor fails the test instead of hanging it. KEEP_E2E=1 keeps the
# temp dir.
#
# Output of the n-th start_vitrail: $T/vitrail-n.out and $T/vitrail-n.err,
# also named by VITRAIL_OUT and VITRAIL_ERR.

set -euo pipefail

PY=/usr/bin/python3
: "${E2E_TIMEOUT:=15}"
: "${HARNESS_NAME:=e2e}"

# require_env VAR...: exit 2 (a setup error) unless every VAR is set.
require_env() {
	local v
	for v in "$@"; do
		if [ -z "${!v:-}" ]; then
			echo "$HARNESS_NAME: $v is not set (run through meson test)" >&2
			exit 2
		fi
	done
}

# require_tools TOOL...: fail (exit 1) unless every TOOL is installed.
require_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || {
			echo "$HARNESS_NAME: $tool is not installed" >&2
			exit 1
		}
	done
}

require_env TEST_LIB VITRAIL VITRAILCTL

T=$(mktemp -d "/tmp/vitrail-$HARNESS_NAME.XXXXXX")
export XDG_RUNTIME_DIR=$T/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
export XDG_CONFIG_HOME=$T/config
# vitrail writes (and prunes) menu entries under XDG_DATA_HOME: never the user's
export XDG_DATA_HOME=$T/data
unset VITRAIL_SOCK WAYLAND_DISPLAY DISPLAY
export WLR_RENDERER=${WLR_RENDERER:-pixman}
export WLR_BACKENDS=headless
export WLR_LIBINPUT_NO_DEVICES=1

VITRAIL_PID=
VITRAIL_RUNS=0
VITRAIL_OUT=
VITRAIL_ERR=
# the output size of start_vitrail
VITRAIL_SIZE=${VITRAIL_SIZE:-1280x720}
# GUEST_PID/GUEST_FD: fake guests (start_guest); AGENT_PID: agents
# (start_agent); BG_PIDS: anything else the cleanup is to stop.
declare -A GUEST_PID=() GUEST_FD=() AGENT_PID=()
declare -a BG_PIDS=()
SYNC_N=0
STATUS=fail

log() { printf '%s: %s\n' "$HARNESS_NAME" "$*" >&2; }

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

# stop_pid PID [SIGNAL]: a process we started: signal (default TERM), then
# KILL after 5 s.
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

# The EXIT trap: stop what the test started; on a failure show the logs.
cleanup() {
	local rc=$? name pid
	set +e
	for pid in "${BG_PIDS[@]}"; do
		stop_pid "$pid"
	done
	for name in "${!GUEST_PID[@]}"; do
		stop_pid "${GUEST_PID[$name]}"
	done
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

# pass: every agent must still run; end the agents, the fake guests and
# vitrail (which must exit cleanly), then succeed.
pass() {
	local name
	for name in "${!AGENT_PID[@]}"; do
		agent_alive "$name" || fail "agent $name died"
	done
	for name in "${!AGENT_PID[@]}"; do
		stop_agent "$name"
	done
	for name in "${!GUEST_FD[@]}"; do
		[ -n "${GUEST_PID[$name]:-}" ] && { guest_end "$name" || true; }
	done
	stop_vitrail
	STATUS=pass
	log "PASS"
}

# ---- waiting ----

# wait_for WHAT CMD...: run CMD until it succeeds, at most E2E_TIMEOUT s;
# fails at once when vitrail died meanwhile.
wait_for() {
	local what=$1 deadline=$((SECONDS + E2E_TIMEOUT))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || fail "timeout after ${E2E_TIMEOUT}s waiting for $what"
		if [ -n "$VITRAIL_PID" ] && ! vitrail_alive; then
			fail "vitrail died while waiting for $what"
		fi
		sleep 0.1
	done
}

# wait_line FILE REGEX [WHAT]: wait until a line of FILE matches REGEX.
wait_line() {
	local file=$1 re=$2 what=${3:-"'$2' in ${1##*/}"}
	local deadline=$((SECONDS + E2E_TIMEOUT))
	while ! grep -Eq -- "$re" "$file" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			fail "timeout after ${E2E_TIMEOUT}s waiting for $what"
		fi
		if [ -n "$VITRAIL_PID" ] && ! vitrail_alive; then
			fail "vitrail died while waiting for $what"
		fi
		sleep 0.05
	done
}

# wait_gone PID: until the process PID has exited.
wait_gone() {
	for _ in $(seq $((E2E_TIMEOUT * 10))); do
		alive "$1" || return 0
		sleep 0.1
	done
	fail "process $1 is still there"
}

alive() { kill -0 "$1" 2>/dev/null; }

# ---- vitrail ----

# write_config FILE: the config text comes on stdin.
write_config() {
	cat >"$1"
}

vitrail_alive() {
	[ -n "$VITRAIL_PID" ] && kill -0 "$VITRAIL_PID" 2>/dev/null
}

# start_vitrail CONFIG [ARGS...]: a headless vitrail (VITRAIL_SIZE);
# exports WAYLAND_DISPLAY (the host's).
start_vitrail() {
	local config=$1
	shift
	VITRAIL_RUNS=$((VITRAIL_RUNS + 1))
	VITRAIL_OUT=$T/vitrail-$VITRAIL_RUNS.out
	VITRAIL_ERR=$T/vitrail-$VITRAIL_RUNS.err
	(
		close_guest_fds
		exec "$VITRAIL" --headless "$VITRAIL_SIZE" --config "$config" "$@"
	) >"$VITRAIL_OUT" 2>"$VITRAIL_ERR" &
	VITRAIL_PID=$!
	wait_line "$VITRAIL_OUT" '^WAYLAND_DISPLAY=' "vitrail to print WAYLAND_DISPLAY"
	WAYLAND_DISPLAY=$(sed -n 's/^WAYLAND_DISPLAY=//p' "$VITRAIL_OUT" | head -n 1)
	export WAYLAND_DISPLAY
	[ -S "$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY" ] || fail "no Wayland socket $WAYLAND_DISPLAY"
}

# stop_vitrail: SIGTERM; vitrail must exit 0 (a crash on the way out fails the test).
stop_vitrail() {
	local i rc=0
	[ -n "$VITRAIL_PID" ] || return 0
	vitrail_alive || fail "vitrail is not running any more"
	kill -TERM "$VITRAIL_PID"
	for i in $(seq $((E2E_TIMEOUT * 10))); do
		kill -0 "$VITRAIL_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$VITRAIL_PID" 2>/dev/null && fail "vitrail did not exit on SIGTERM"
	wait "$VITRAIL_PID" || rc=$?
	VITRAIL_PID=
	[ $rc -eq 0 ] || fail "vitrail exited with status $rc on SIGTERM"
}

ctl() {
	timeout "$E2E_TIMEOUT" "$VITRAILCTL" "$@"
}

# ---- JSON (of vitrailctl --json) ----

# json_check FILE EXPR [WHAT]: EXPR is Python with d = the parsed JSON.
json_check() {
	$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {"d": d, "any": any, "all": all, "len": len})
if not ok:
    sys.stderr.write("json check failed: %s\n%s\n" % (sys.argv[2], json.dumps(d, indent=1)))
    sys.exit(1)
' "$1" "$2" || fail "${3:-json check: $2}"
}

# json_get FILE EXPR: print a Python expression of d.
json_get() {
	$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2], {"d": d}))
' "$1" "$2"
}

# ---- windows and VMs, per vitrailctl ----

# windows_of VM: the windows (JSON list) into $T/windows.json; prints VM's count.
windows_of() {
	ctl windows --json >"$T/windows.json" || fail "vitrailctl windows failed"
	json_get "$T/windows.json" "len([w for w in d if w['vm'] == '$1'])"
}

windows_are() { # VM N
	[ "$(windows_of "$1")" = "$2" ]
}

# wait_windows VM N: wait until VM has N windows per vitrailctl; stop at
# once, saying why, when the VM has crashed.
wait_windows() {
	local deadline=$((SECONDS + E2E_TIMEOUT)) n crashed
	while :; do
		n=$(windows_of "$1")
		if [ "$n" = "$2" ]; then
			# a window shown less than 0.5 s ago takes no click (the
			# click guard): wait that out, as a person would
			[ "$2" = 0 ] || sleep 0.5
			return 0
		fi
		if [ "$2" != 0 ]; then
			ctl vms --json >"$T/vms-wait.json" || fail "vitrailctl vms failed"
			crashed=$(json_get "$T/vms-wait.json" \
				"[v.get('reason', '') for v in d if v['name'] == '$1' and v.get('state') == 'crashed'][:1]")
			[ "$crashed" = "[]" ] || fail "VM $1 crashed while waiting for $2 windows: $crashed"
		fi
		[ $SECONDS -ge $deadline ] && fail "VM $1 has $n windows, want $2"
		sleep 0.1
	done
}

# vms_json: `vitrailctl vms --json` into $T/vms.json.
vms_json() {
	ctl vms --json >"$T/vms.json" || fail "vitrailctl vms failed"
}

vm_field() { # VM FIELD
	vms_json
	json_get "$T/vms.json" "[v for v in d if v['name'] == '$1'][0]['$2']"
}

# wait_state VM STATE: until VM is in STATE (stopped, running, crashed...).
wait_state() {
	local deadline=$((SECONDS + E2E_TIMEOUT)) s
	while :; do
		s=$(vm_field "$1" state)
		[ "$s" = "$2" ] && return 0
		[ $SECONDS -ge $deadline ] && fail "VM $1 is $s, want $2 ($(vm_field "$1" reason))"
		sleep 0.1
	done
}

vm_connected() { # VM
	ctl vms --json >"$T/vms.json" &&
		json_get "$T/vms.json" "any(x['name'] == '$1' and x['connected'] for x in d)" | grep -qx True
}

wait_connected() { # VM...
	local vm
	for vm in "$@"; do
		wait_for "VM $vm to connect" vm_connected "$vm"
	done
}

# ---- screenshots ----

# take_screenshot FILE: grim's status (for loops that retry).
take_screenshot() {
	timeout "$E2E_TIMEOUT" grim -t ppm "$1"
}

screenshot() { # FILE
	take_screenshot "$1" || fail "grim failed"
}

# pixels SHOT CHECK ARGS...: a check of pixels.py; fails the test.
pixels() {
	$PY "$TEST_LIB/pixels.py" "$@" || fail "pixel check failed: ${*:2}"
}

# ---- fake guests (tests/fake-guest.c) ----

# In a child: close the write ends of the guests' command fifos, so that
# closing ours gives the guest EOF.
close_guest_fds() {
	local fd
	for fd in "${GUEST_FD[@]}"; do
		eval "exec $fd>&-"
	done
}

# start_guest NAME VM [FAKE-GUEST ARGS...]: a fake guest of VM fed through a fifo.
start_guest() {
	local name=$1 vm=$2 fd
	shift 2
	require_env FAKE_GUEST
	rm -f "$T/$name.in"
	mkfifo "$T/$name.in"
	(
		close_guest_fds
		exec "$FAKE_GUEST" --socket "$XDG_RUNTIME_DIR/vitrail/vm/$vm.sock" \
			--timeout "$E2E_TIMEOUT" "$@"
	) <"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" &
	GUEST_PID[$name]=$!
	exec {fd}>"$T/$name.in"
	GUEST_FD[$name]=$fd
}

# guest NAME COMMAND...: send one command line.
guest() {
	local name=$1
	shift
	printf '%s\n' "$*" >&"${GUEST_FD[$name]}" ||
		fail "guest $name is gone (writing '$*')"
}

guest_wait() { # NAME REGEX
	local pid=${GUEST_PID[$1]}
	local deadline=$((SECONDS + E2E_TIMEOUT))
	while ! grep -Eq -- "$2" "$T/$1.out" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			fail "timeout waiting for '$2' from guest $1"
		fi
		if ! kill -0 "$pid" 2>/dev/null && ! grep -Eq -- "$2" "$T/$1.out"; then
			fail "guest $1 exited before '$2': $(tail -n 3 "$T/$1.err" 2>/dev/null)"
		fi
		sleep 0.05
	done
}

# guest_wait_count NAME REGEX N: wait until at least N lines match.
guest_wait_count() {
	local deadline=$((SECONDS + E2E_TIMEOUT)) n
	while :; do
		n=$(grep -c -E -- "$2" "$T/$1.out" || true)
		[ "$n" -ge "$3" ] && return 0
		[ $SECONDS -ge $deadline ] && fail "timeout waiting for $3 lines '$2' from guest $1 (have $n)"
		sleep 0.05
	done
}

# guest_sync NAME: wait until the guest has run every command sent so far.
guest_sync() {
	SYNC_N=$((SYNC_N + 1))
	guest "$1" "echo sync-$SYNC_N"
	guest_wait "$1" "^sync-$SYNC_N\$"
}

# guest_end NAME: close its input; wait for its exit; print its status.
guest_end() {
	local name=$1 pid=${GUEST_PID[$1]} i rc=0
	eval "exec ${GUEST_FD[$name]}>&-"
	for i in $(seq $((E2E_TIMEOUT * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "guest $name did not exit"
	wait "$pid" || rc=$?
	unset "GUEST_PID[$name]" "GUEST_FD[$name]"
	return $rc
}

# ---- real agents (vitrail-agent) ----

# start_agent NAME VM COMMAND...: a vitrail-agent for VM running COMMAND
# (its output, and its apps', in $T/agent-NAME.log).
start_agent() {
	local name=$1 vm=$2
	shift 2
	require_env VITRAIL_AGENT
	(
		close_guest_fds
		exec "$VITRAIL_AGENT" --connect "unix:$XDG_RUNTIME_DIR/vitrail/vm/$vm.sock" \
			--socket "agent-$name" -- "$@"
	) >>"$T/agent-$name.log" 2>&1 &
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
