#!/bin/bash
# Closing a guest window from the host (vitrailctl close) closes the app:
# foot and weston-simple-shm exit, their windows go, the agent stays.
. "${TEST_LIB:?run through meson test}/agent.sh"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm personal]
label = green
INI
start_vitrail "$T/vitrail.ini"

start_agent work work foot -w 300x200
start_agent personal personal weston-simple-shm
wait_windows work 1
wait_windows personal 1
foot_pid=$(agent_app work)
shm_pid=$(agent_app personal)
[ -n "$foot_pid" ] && [ -n "$shm_pid" ] || fail "no app processes under the agents"

app_gone() { ! kill -0 "$1" 2>/dev/null; }

ctl close "$(win work id)" || fail "vitrailctl close failed"
wait_for "foot to exit" app_gone "$foot_pid"
wait_windows work 0
windows_are personal 1 || fail "personal lost its window"
kill -0 "$shm_pid" || fail "simple-shm exited too"

ctl close "$(win personal id)" || fail "vitrailctl close failed"
wait_for "weston-simple-shm to exit" app_gone "$shm_pid"
wait_windows personal 0
agent_alive work && agent_alive personal || fail "an agent exited with its app"
py_state "all(x['connected'] for x in v)" || fail "an agent disconnected: $(cat "$T/vms.json")"
pass
