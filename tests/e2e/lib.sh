# Shared helpers of the end-to-end tests; sourced by test-*.sh.
#
# Environment (set by meson): VITRAIL, VITRAILCTL, FAKE_GUEST, VT_POINTER,
# E2E_DIR. Every test gets a private XDG_RUNTIME_DIR, starts its own
# headless vitrail, and kills what it started on exit. Every wait has a
# timeout (E2E_TIMEOUT seconds, default 15) so a broken compositor fails
# the test instead of hanging it. KEEP_E2E=1 keeps the temp dir.

set -euo pipefail

PY=/usr/bin/python3
E2E_TIMEOUT=${E2E_TIMEOUT:-15}
for v in VITRAIL VITRAILCTL FAKE_GUEST E2E_DIR; do
	if [ -z "${!v:-}" ]; then
		echo "e2e: $v is not set (run through meson test)" >&2
		exit 2
	fi
done

T=$(mktemp -d /tmp/vitrail-e2e.XXXXXX)
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
declare -A GUEST_PID=() GUEST_FD=()
SYNC_N=0
STATUS=fail

log() { printf 'e2e: %s\n' "$*" >&2; }

dump_logs() {
	local f
	for f in "$T"/*.out "$T"/*.err; do
		[ -s "$f" ] || continue
		printf -- '----- %s (last 40 lines)\n' "${f##*/}" >&2
		tail -n 40 "$f" >&2
	done
}

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# Stop a process we started: SIGTERM, then SIGKILL after 5 s.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
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
	for name in "${!GUEST_PID[@]}"; do
		stop_pid "${GUEST_PID[$name]}"
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

# pass: end the guests and vitrail (which must exit cleanly), then succeed.
pass() {
	local name
	for name in "${!GUEST_FD[@]}"; do
		[ -n "${GUEST_PID[$name]:-}" ] && { guest_end "$name" || true; }
	done
	stop_vitrail
	STATUS=pass
	log "PASS"
}

vitrail_alive() {
	[ -n "$VITRAIL_PID" ] && kill -0 "$VITRAIL_PID" 2>/dev/null
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

# In a child: close the write ends of the guests' command fifos, so that
# closing ours gives the guest EOF.
close_guest_fds() {
	local fd
	for fd in "${GUEST_FD[@]}"; do
		eval "exec $fd>&-"
	done
}

# write_config FILE: the config text comes on stdin.
write_config() {
	cat >"$1"
}

# start_vitrail CONFIG [ARGS...]: start vitrail and export WAYLAND_DISPLAY.
start_vitrail() {
	local config=$1
	shift
	(
		close_guest_fds
		exec "$VITRAIL" --headless 1280x720 --config "$config" "$@"
	) >"$T/vitrail.out" 2>"$T/vitrail.err" &
	VITRAIL_PID=$!
	wait_line "$T/vitrail.out" '^WAYLAND_DISPLAY=' "vitrail to print WAYLAND_DISPLAY"
	WAYLAND_DISPLAY=$(sed -n 's/^WAYLAND_DISPLAY=//p' "$T/vitrail.out" | head -n 1)
	export WAYLAND_DISPLAY
	[ -S "$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY" ] || fail "no Wayland socket $WAYLAND_DISPLAY"
}

# start_guest NAME VM [FAKE-GUEST ARGS...]: a fake guest of VM fed through a fifo.
start_guest() {
	local name=$1 vm=$2 fd
	shift 2
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

ctl() {
	timeout "$E2E_TIMEOUT" "$VITRAILCTL" "$@"
}

screenshot() { # FILE
	timeout "$E2E_TIMEOUT" grim -t ppm "$1" || fail "grim failed"
}

pixels() { # SHOT CHECK ARGS...
	$PY "$E2E_DIR/pixels.py" "$@" || fail "pixel check failed: ${*:2}"
}

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

# window_json VM: the windows of VM (JSON list) into $T/windows.json; prints count.
windows_of() {
	ctl windows --json >"$T/windows.json" || fail "vitrailctl windows failed"
	json_get "$T/windows.json" "len([w for w in d if w['vm'] == '$1'])"
}

# wait_windows VM N: wait until VM has N windows per vitrailctl; stop at
# once, saying why, when the VM has crashed.
wait_windows() {
	local deadline=$((SECONDS + E2E_TIMEOUT)) n crashed
	while :; do
		n=$(windows_of "$1")
		[ "$n" = "$2" ] && return 0
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
