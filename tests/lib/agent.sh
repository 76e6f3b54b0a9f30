# shellcheck shell=bash
# Helpers of the tests with real vitrail-agents running real clients (the
# agent's, the clipboard's and open-in-VM's end-to-end tests), on top of
# harness.sh; sourced by test-*.sh as ". "$TEST_LIB/agent.sh"".
#
# Environment (set by meson): that of harness.sh plus VITRAIL_AGENT and
# VT_CLIENT. Waits default to 20 s here (E2E_TIMEOUT): apps draw when they
# like.

: "${E2E_TIMEOUT:=20}"
: "${HARNESS_NAME:=agent-e2e}"
# shellcheck source=harness.sh
. "$TEST_LIB/harness.sh"

require_env VITRAIL_AGENT VT_CLIENT
require_tools grim wtype foot weston-simple-shm

BG=1e1e1e
BLUE=3465a4
GREEN=73d216

# py_state EXPR: evaluate EXPR with w = the list of windows, v = the list of VMs.
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

# win VM FIELD [TITLE]: a field of VM's window (the one whose title has TITLE).
win() {
	py_state "[x for x in w if x['vm'] == '$1' and '${3:-}' in x['title']][0]['$2']"
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
			$PY "$TEST_LIB/agentpix.py" "$shot" "${args[@]}" || return 1
		else
			$PY "$TEST_LIB/pixels.py" "$shot" "${args[@]}" || return 1
		fi
	done
}

# wait_pixels WHAT CHECKS: take screenshots until CHECKS hold (apps draw
# when they like); on timeout show why the last one failed.
wait_pixels() {
	local what=$1 checks=$2 deadline=$((SECONDS + E2E_TIMEOUT))
	local shot=$T/shot.ppm
	while :; do
		if take_screenshot "$shot" && shot_check "$shot" "$checks" 2>/dev/null; then
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
