#!/bin/bash
# Notifications go to org.freedesktop.Notifications when a daemon owns the
# name on the session bus: a private dbus-daemon and mako (a real
# notification daemon, itself a client of the host compositor). When mako
# goes away, the compositor draws its own notices again.
. "${TEST_LIB:?run through meson test}/clipboard.sh"

for tool in dbus-daemon mako makoctl busctl; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done

DBUS_PID=
MAKO_PID=
stop_bus() {
	[ -n "$MAKO_PID" ] && stop_pid "$MAKO_PID"
	[ -n "$DBUS_PID" ] && stop_pid "$DBUS_PID"
	MAKO_PID=
	DBUS_PID=
}
end_all() {
	local rc=$?
	set +e
	stop_bus
	(exit $rc)
	cleanup
}
trap end_all EXIT

export DBUS_SESSION_BUS_ADDRESS="unix:path=$XDG_RUNTIME_DIR/bus"
dbus-daemon --session --nofork --nopidfile --address="$DBUS_SESSION_BUS_ADDRESS" \
	>"$T/dbus.log" 2>&1 &
DBUS_PID=$!
wait_for "the session bus" test -S "$XDG_RUNTIME_DIR/bus"

write_config "$T/vitrail.ini" <<INI
[vm a]
label = red
[vm b]
label = green
INI
export VITRAIL_NOTICE_TIMEOUT_MS=600000
start_vitrail "$T/vitrail.ini"
wait_log "notification daemon: none (notices go on screen)"

mkdir -p "$T/mako"
printf 'default-timeout=0\nmax-visible=10\n' >"$T/mako/config"
mako --config "$T/mako/config" >"$T/mako.log" 2>&1 &
MAKO_PID=$!
wait_log "notification daemon appeared"

start_agent a a "$VT_CLIENT" --title a-window --size 200x120
start_agent b b "$VT_CLIENT" --title b-window --size 200x120
wait_windows a 1
wait_windows b 1

mako_has() { # TEXT
	timeout "$E2E_TIMEOUT" makoctl list >"$T/mako-list.json" 2>/dev/null &&
		grep -qF -- "$1" "$T/mako-list.json"
}

copy_in a "$TEXT"
focus a
keys_copy
wait_log "clipboard: copied $TEXT_BYTES bytes from [a]"
wait_for "the copy in mako's list" mako_has "copied $TEXT_BYTES bytes from [a]"
grep -qF "$TEXT" "$T/mako-list.json" && fail "the text went to the notification daemon"
focus b
keys_paste
wait_for "the text in b" selection_is b "$TEXT"
wait_for "the paste in mako's list" mako_has "pasted $TEXT_BYTES bytes from [a] into [b]"
# through the daemon only: no notice of the compositor's own
screenshot "$T/shot.ppm"
shot_check "$T/shot.ppm" "not-rect $NOTICE_X $NOTICE_Y 8 40 $RED; not-rect $NOTICE_X $NOTICE_Y 8 40 $GREEN" ||
	fail "the compositor drew its own notice while mako runs"

# the daemon goes away: notices are drawn on screen again
stop_pid "$MAKO_PID"
MAKO_PID=
wait_log "notification daemon went away"
focus b
keys_paste
wait_log "clipboard: nothing pasted into [b]: the clipboard is empty"
wait_pixels "an on-screen notice (green stripe)" "$(notice_is $GREEN $NOTICE_REFUSED_BG)"
pass
