#!/bin/bash
# type = local VMs (suite 'e2e'): `vitrailctl start` spawns vitrail-agent on
# the host with the VM's command under the VM's own home; its window shows
# framed in the VM's color; `run` returns the command's status (and starts
# the VM when needed); `stop` ends the agent and removes the window; a
# killed agent is a crash; apps started with `run`, and what they leave
# behind, end with their agent (stop or kill -9) within 3 s; vitrail's exit
# stops local agents.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${AGENT:?}"
export VITRAIL_AGENT=$AGENT XDG_DATA_HOME=$T/data

PURPLE=75507b
write_config "$T/vitrail.ini" <<INI
[vm alpha]
label = purple
type = local
command = weston-simple-shm

[vm beta]
label = yellow
type = local
INI
start_vitrail "$T/vitrail.ini"

ctl vms >"$T/vms.txt" || fail "vitrailctl vms failed"
grep -q '^NAME .* STATE ' "$T/vms.txt" || fail "no STATE column: $(head -n 1 "$T/vms.txt")"
grep -Eq '^alpha +#75507b +stopped ' "$T/vms.txt" || fail "alpha not shown stopped: $(cat "$T/vms.txt")"
[ "$(vm_field alpha type)" = local ] || fail "alpha is not local"
[ "$(vm_field alpha pid)" = 0 ] || fail "alpha has a process before start"

# ---- start: the agent runs the command; the window appears framed
ctl start alpha >"$T/start.out" || fail "vitrailctl start alpha failed"
grep -Eq '^alpha: (starting|running)' "$T/start.out" || fail "start said: $(cat "$T/start.out")"
pid=$(vm_field alpha pid)
[ "$pid" -gt 0 ] && alive "$pid" || fail "no agent process for alpha"
[ "$(readlink -f "/proc/$pid/exe")" = "$(readlink -f "$AGENT")" ] || fail "alpha runs $(readlink "/proc/$pid/exe")"
home=$XDG_DATA_HOME/vitrail/vms/alpha/home
[ -d "$home" ] && [ "$(stat -c %a "$home")" = 700 ] || fail "no 0700 home $home"
tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "HOME=$home" || fail "the agent's HOME is not $home"
tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qx "unix:$XDG_RUNTIME_DIR/vitrail/vm/alpha.sock" ||
	fail "the agent does not connect to alpha's socket: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
wait_windows alpha 1
wait_state alpha running
json_check "$T/windows.json" '[w["label"] for w in d] == ["#75507b"]'
ctl windows --json >"$T/windows.json"
read -r x y w h < <(json_get "$T/windows.json" '"%d %d %d %d" % (d[0]["x"], d[0]["y"], d[0]["width"], d[0]["height"])')
screenshot "$T/1.ppm"
pixels "$T/1.ppm" frame "$x" "$y" "$w" "$h" $PURPLE
# starting a running VM changes nothing
ctl start alpha >/dev/null || fail "start of a running VM failed"
[ "$(vm_field alpha pid)" = "$pid" ] || fail "a second start spawned another agent"

# ---- run: the command's exit status, 128+N for a signal, 127 when it cannot run
rc=0
ctl run alpha -- sh -c 'exit 7' || rc=$?
[ $rc -eq 7 ] || fail "run 'exit 7' returned $rc"
rc=0
ctl run alpha -- sh -c 'kill -TERM $$' || rc=$?
[ $rc -eq 143 ] || fail "run 'kill -TERM \$\$' returned $rc, want 143"
rc=0
ctl run alpha -- /no/such/command 2>"$T/run.err" || rc=$?
[ $rc -eq 127 ] || fail "run of a missing command returned $rc, want 127"
# the command runs as the agent's child, in the VM's home
ctl run alpha -- sh -c 'test "$HOME" = "$0" && test "$PWD" = "$0"' "$home" ||
	fail "the command does not run with HOME and cwd $home"

# apps_of VM AGENT_PID: start two apps in VM, a long one through `run` (the
# agent's child, `run` waits for it) and one its shell leaves behind; sets
# APP and ORPHAN to their pids.
apps_of() {
	local i
	rm -f "$T/orphan.pid"
	ctl run "$1" -- sleep 1001 >/dev/null 2>&1 &
	ctl run "$1" -- sh -c 'sleep 1002 & echo $! >"$0"' "$T/orphan.pid" || fail "run in $1 failed"
	ORPHAN=$(cat "$T/orphan.pid")
	APP=
	for i in $(seq 50); do
		APP=$(pgrep -P "$2" -f '^sleep 1001$' || true)
		[ -n "$APP" ] && break
		sleep 0.1
	done
	[ -n "$APP" ] && alive "$ORPHAN" || fail "the apps of $1 did not start"
}

# gone_soon PID WHAT: PID ends (a zombie counts as ended) within 3 s
gone_soon() {
	local i state
	for i in $(seq 30); do
		state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || true # gone meanwhile
		[ -z "$state" ] || [ "$state" = Z ] && return 0
		sleep 0.1
	done
	fail "$2 (pid $1) outlived its agent"
}

# ---- stop: the agent exits, the window goes, and its apps with it
apps_of alpha "$pid"
ctl stop alpha >"$T/stop.out" || fail "vitrailctl stop alpha failed"
grep -q '^alpha: stopped' "$T/stop.out" || fail "stop said: $(cat "$T/stop.out")"
wait_gone "$pid"
gone_soon "$APP" "an app started with run"
gone_soon "$ORPHAN" "a process an app left behind"
[ "$(vm_field alpha state)" = stopped ] || fail "alpha is not stopped"
wait_windows alpha 0
screenshot "$T/2.ppm"
pixels "$T/2.ppm" not-rect $((x - 4)) $((y - 28)) $((w + 8)) $((h + 32)) $PURPLE
ctl stop alpha >/dev/null || fail "stop of a stopped VM failed"
ctl logs alpha >"$T/logs.out" || fail "vitrailctl logs alpha failed"
grep -q "guest apps connect to" "$T/logs.out" || fail "logs lack the agent's output: $(head -n 5 "$T/logs.out")"

# ---- run starts a stopped VM (beta has no command of its own)
rc=0
ctl run beta -- sh -c 'exit 3' || rc=$?
[ $rc -eq 3 ] || fail "run in the stopped VM beta returned $rc"
wait_state beta running
bpid=$(vm_field beta pid)

# ---- a killed agent is a crash, and its apps end with it
apps_of beta "$bpid"
kill -KILL "$bpid"
gone_soon "$APP" "an app of a killed agent"
gone_soon "$ORPHAN" "a process left behind in a VM whose agent was killed"
wait_state beta crashed
case "$(vm_field beta reason)" in
*"signal 9"*) ;;
*) fail "beta's crash reason: $(vm_field beta reason)" ;;
esac
ctl vms >"$T/vms.txt" || fail "vitrailctl vms failed"
grep -Eq '^beta +#edd400 +crashed +no +0 +vitrail-agent was killed by signal 9; log: ' "$T/vms.txt" ||
	fail "the vms table does not say why beta failed: $(cat "$T/vms.txt")"

# ---- errors
ctl start nosuchvm 2>"$T/err.txt" && fail "start of an unknown VM succeeded"
grep -q "no VM named" "$T/err.txt" || fail "unknown VM: $(cat "$T/err.txt")"
rc=0
ctl run nosuchvm -- true 2>/dev/null || rc=$?
[ $rc -eq 127 ] || fail "run in an unknown VM returned $rc, want 127"

# ---- config: a qemu VM's pool must be a power of two (file:line)
write_config "$T/bad.ini" <<INI
[vm q]
label = red
type = qemu
kernel = /boot/vmlinuz
initrd = /boot/initrd.img
pool-size = 48
INI
"$VITRAIL" --check-config --config "$T/bad.ini" 2>"$T/bad.err" && fail "pool-size 48 accepted"
grep -q "bad.ini:6: pool-size: 48 MiB is not a power of two" "$T/bad.err" ||
	fail "pool-size error: $(cat "$T/bad.err")"

# ---- vitrail's exit stops local agents
ctl start --wait alpha >/dev/null || fail "start --wait alpha failed"
[ "$(vm_field alpha state)" = running ] || fail "start --wait returned before alpha runs"
pid=$(vm_field alpha pid)
stop_vitrail
wait_gone "$pid"
pass
