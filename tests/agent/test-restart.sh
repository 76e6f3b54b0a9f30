#!/bin/bash
# Agents and host restart independently: killing one agent removes only
# that VM's windows and a restarted agent brings them back; when the host
# restarts, the surviving agents reconnect and their apps' windows come
# back with their contents (vt-client never redraws: the agent re-sends
# what it kept).
. "${TEST_LIB:?run through meson test}/agent.sh"

FOOT_BG=3a2d4a
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm personal]
label = green
INI
start_vitrail "$T/vitrail.ini"

start_agent work work foot -o "colors.background=$FOOT_BG" -w 360x240
wait_windows work 1
start_agent personal personal "$VT_CLIENT" --title steady --size 320x180 --color 8f5902
wait_windows personal 1

personal_ok() {
	local x y
	x=$(win personal x) && y=$(win personal y) || return 1
	take_screenshot "$T/p.ppm" && shot_check "$T/p.ppm" "frame $x $y 320 180 $GREEN;
		rect $x $y 320 180 8f5902"
}
ctl focus "$(win personal id)"
wait_for "vt-client framed in green" personal_ok

# Kill the work agent: only its window goes.
client=$(agent_app personal)
stop_agent work KILL
wait_windows work 0
windows_are personal 1 || fail "personal lost its window with work's agent"
py_state "[x['connected'] for x in v if x['name'] == 'work'] == [False]" ||
	fail "work still connected: $(cat "$T/vms.json")"
personal_ok || fail "personal's window changed when work's agent died"

# A new agent for work: its app's window comes.
start_agent work work foot -o "colors.background=$FOOT_BG" -w 360x240
wait_windows work 1
ctl focus "$(win work id)"
work_ok() {
	local x y
	x=$(win work x) && y=$(win work y) || return 1
	take_screenshot "$T/w.ppm" && shot_check "$T/w.ppm" "frame $x $y 360 240 $BLUE;
		rect $x $((y + 120)) 360 120 $FOOT_BG"
}
wait_for "foot framed in blue after the agent restart" work_ok

# Restart the host: agents and apps live on and come back.
stop_vitrail
agent_alive work && agent_alive personal || fail "an agent died with the host"
kill -0 "$client" || fail "vt-client died with the host"
start_vitrail "$T/vitrail.ini"
wait_windows personal 1
wait_windows work 1
ctl focus "$(win personal id)"
wait_for "vt-client's contents after the host restart" personal_ok
ctl focus "$(win work id)"
wait_for "foot's contents after the host restart" work_ok
[ "$(agent_app personal)" = "$client" ] || fail "vt-client was restarted"
pass
