#!/bin/bash
# Menu launches in a VM (vitrailctl run-app, what the menu entries run): a
# Terminal=true app runs in foot, the guest's Wayland terminal (not the X11
# x-terminal-emulator), or in weston-terminal where foot is not installed
# (the agent runs the command for it, out of its environment); a launch whose app exits at once with a failure
# reaches the user as a notification ("Cannot start ID", mako on the
# host's session bus), not only as a line in the agent's log.
. "${TEST_LIB:?run through meson test}/agent.sh"
require_tools foot weston-terminal dbus-daemon mako makoctl

PIDS=()
end_all() {
	local rc=$? p
	set +e
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	(exit $rc)
	cleanup
}
trap end_all EXIT

HOST_BUS="unix:path=$XDG_RUNTIME_DIR/host-bus"
dbus-daemon --session --nofork --nopidfile --address="$HOST_BUS" >"$T/bus.log" 2>&1 &
PIDS+=($!)
wait_for "the host's session bus" test -S "$XDG_RUNTIME_DIR/host-bus"
export DBUS_SESSION_BUS_ADDRESS=$HOST_BUS

GUEST=$T/guest
mkdir -p "$GUEST/applications" "$T/guest-sys"
cat >"$GUEST/applications/tui.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Tui
Terminal=true
Exec=sh -c "echo \\\\"\\\$TERM\\\\" >'$T/term.txt'; exec cat"
DESKTOP
cat >"$GUEST/applications/broken.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Broken
Exec=sh -c "echo broken-ran >'$T/broken.txt'; exit 3"
DESKTOP

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm wt]
label = green
INI
start_vitrail "$T/vitrail.ini"
mkdir -p "$T/mako"
printf 'default-timeout=0\n' >"$T/mako/config"
mako --config "$T/mako/config" >"$T/mako.log" 2>&1 &
PIDS+=($!)
wait_for "mako on the host's bus" sh -c "timeout 5 makoctl list >/dev/null 2>&1"

# the agent has no session bus of its own: its notices go to the host
# all the same (they do not come from a guest app's D-Bus call)
XDG_DATA_HOME=$GUEST XDG_DATA_DIRS=$T/guest-sys DBUS_SESSION_BUS_ADDRESS= \
	start_agent work work sleep infinity
wait_connected work

ctl run-app work tui.desktop || fail "run-app tui.desktop"
wait_windows work 1
[ "$(win work app_id)" = foot ] || fail "the terminal app runs in '$(win work app_id)'"
wait_for "the app's shell in foot" grep -qx foot "$T/term.txt"

# a guest with weston-terminal and no foot (nor x-terminal-emulator, xterm)
mkdir -p "$T/bin"
for tool in sh env cat weston-terminal; do
	ln -s "$(command -v "$tool")" "$T/bin/$tool"
done
cat >"$GUEST/applications/tui2.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Tui2
Terminal=true
Exec=sh -c "echo \\\\"\\\$TERM:\\\${VITRAIL_AGENT_TERMINAL_RUN:-unset}\\\\" >'$T/term2.txt'; exec cat"
DESKTOP
printf '#!/bin/sh\nPATH=%s exec %s "$@"\n' "$T/bin" "$VITRAIL_AGENT" >"$T/agent-wt"
chmod +x "$T/agent-wt"
VITRAIL_AGENT=$T/agent-wt XDG_DATA_HOME=$GUEST XDG_DATA_DIRS=$T/guest-sys \
	DBUS_SESSION_BUS_ADDRESS= start_agent wt wt "$(command -v sleep)" infinity
wait_connected wt
ctl run-app wt tui2.desktop || fail "run-app tui2.desktop"
wait_windows wt 1
wait_for "the app's shell in weston-terminal" grep -qx 'xterm:unset' "$T/term2.txt"

mako_has() {
	timeout "$E2E_TIMEOUT" makoctl list >"$T/mako-list.json" 2>/dev/null &&
		grep -qF -- "$1" "$T/mako-list.json"
}
ctl run-app work broken.desktop || fail "run-app broken.desktop"
wait_for "the broken app to run" test -s "$T/broken.txt"
wait_for "a notification of the failed launch" mako_has "Cannot start broken.desktop"
mako_has "status 3" || fail "the notification does not say why: $(cat "$T/mako-list.json")"
pass
