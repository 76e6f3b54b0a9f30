#!/bin/bash
# Without a notification daemon on the host, a guest app's notification is
# drawn as the host's own on-screen notice (stripe in the VM's color) and,
# when the notice goes, the app gets NotificationClosed(id, 1: expired).
. "${TEST_LIB:?run through meson test}/clipboard.sh"

for tool in dbus-daemon dbus-monitor notify-send; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done

PIDS=()
end_all() {
	local rc=$? p
	set +e
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	(exit $rc)
	cleanup
}
trap end_all EXIT

GUEST_A="unix:path=$XDG_RUNTIME_DIR/guest-a"
dbus-daemon --session --nofork --nopidfile --address="$GUEST_A" >"$T/guest-a.log" 2>&1 &
PIDS+=($!)
wait_for "the guest's bus" test -S "$XDG_RUNTIME_DIR/guest-a"

write_config "$T/vitrail.ini" <<INI
[vm a]
label = red
INI
export VITRAIL_NOTICE_TIMEOUT_MS=2000
start_vitrail "$T/vitrail.ini"
wait_log "notifications go on screen"
DBUS_SESSION_BUS_ADDRESS=$GUEST_A start_agent a a "$VT_CLIENT" --title a-window --size 200x120
wait_windows a 1
wait_for "agent a serving notifications" grep -qF "serving org.freedesktop.Notifications" "$T/agent-a.log"
dbus-monitor --address "$GUEST_A" "type='signal',interface='org.freedesktop.Notifications'" \
	>"$T/monitor-a.log" 2>&1 &
PIDS+=($!)
sleep 0.5

DBUS_SESSION_BUS_ADDRESS=$GUEST_A timeout "$E2E_TIMEOUT" notify-send -p "On screen" "body" \
	>"$T/id" || fail "notify-send failed"
wait_pixels "an on-screen notice (red stripe)" "$(notice_is $RED $NOTICE_BG)"
closed_with() { # ID REASON
	grep -A2 "member=NotificationClosed" "$T/monitor-a.log" | tr '\n' ' ' |
		grep -qE "uint32 $1 +uint32 $2"
}
wait_for "NotificationClosed(expired)" closed_with "$(cat "$T/id")" 1
pass
