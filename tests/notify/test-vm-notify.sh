#!/bin/bash
# A guest app's notification (notify-send on the agent's own session bus)
# shows in mako on the host's session bus as "[vm] summary"; control and
# invisible characters are cleaned, an oversized summary is cut to 256
# bytes, a flood is cut to 10 per 10 s with one host notice; a dismissal and
# an expiry come back as NotificationClosed with reasons 2 and 1; the
# "default" action focuses the VM's window and reaches the app.
. "${TEST_LIB:?run through meson test}/clipboard.sh"

for tool in dbus-daemon dbus-monitor mako makoctl notify-send; do
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

bus() { # NAME: start a dbus-daemon at $XDG_RUNTIME_DIR/NAME
	dbus-daemon --session --nofork --nopidfile --address="unix:path=$XDG_RUNTIME_DIR/$1" \
		>"$T/$1.log" 2>&1 &
	PIDS+=($!)
	wait_for "the bus $1" test -S "$XDG_RUNTIME_DIR/$1"
}
bus host-bus
bus guest-a
bus guest-b
HOST_BUS="unix:path=$XDG_RUNTIME_DIR/host-bus"
GUEST_A="unix:path=$XDG_RUNTIME_DIR/guest-a"
GUEST_B="unix:path=$XDG_RUNTIME_DIR/guest-b"

write_config "$T/vitrail.ini" <<INI
[vm a]
label = red
[vm b]
label = green
INI
export DBUS_SESSION_BUS_ADDRESS=$HOST_BUS
start_vitrail "$T/vitrail.ini"
mkdir -p "$T/mako"
printf 'default-timeout=0\nmax-visible=20\nmax-history=50\n' >"$T/mako/config"
mako --config "$T/mako/config" >"$T/mako.log" 2>&1 &
PIDS+=($!)
wait_log "notification daemon appeared"

DBUS_SESSION_BUS_ADDRESS=$GUEST_A start_agent a a "$VT_CLIENT" --title a-window --size 200x120
DBUS_SESSION_BUS_ADDRESS=$GUEST_B start_agent b b "$VT_CLIENT" --title b-window --size 200x120
wait_windows a 1
wait_windows b 1
wait_for "agent a serving notifications" grep -qF "serving org.freedesktop.Notifications" "$T/agent-a.log"
wait_for "agent b serving notifications" grep -qF "serving org.freedesktop.Notifications" "$T/agent-b.log"

# the guest's bus, as an app sees it
dbus-monitor --address "$GUEST_A" "type='signal',interface='org.freedesktop.Notifications'" \
	>"$T/monitor-a.log" 2>&1 &
PIDS+=($!)
sleep 0.5

mako_list() {
	DBUS_SESSION_BUS_ADDRESS=$HOST_BUS timeout "$E2E_TIMEOUT" makoctl list >"$T/mako-list.json" 2>/dev/null
}
mako_has() { # TEXT
	mako_list && grep -qF -- "$1" "$T/mako-list.json"
}
mako_count() { # TEXT: notifications whose summary or body holds TEXT
	mako_list
	$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for n in d["data"][0] if sys.argv[2] in n["summary"]["data"] + n["body"]["data"]))
' "$T/mako-list.json" "$1"
}
# mako_id TEXT: the host id of the notification whose summary holds TEXT
mako_id() {
	mako_list
	$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
for n in d["data"][0]:
    if sys.argv[2] in n["summary"]["data"]:
        print(n["id"]["data"]); break
' "$T/mako-list.json" "$1"
}
in_guest() { # VM CMD...
	local addr=$GUEST_A
	[ "$1" = b ] && addr=$GUEST_B
	shift
	DBUS_SESSION_BUS_ADDRESS=$addr timeout "$E2E_TIMEOUT" "$@"
}

# 1. prefixed, with the app name
in_guest a notify-send -a Editor "Hello from a" "the body" || fail "notify-send failed"
wait_for "[a] Hello in mako" mako_has "[a] Hello from a"
grep -qF '"a: Editor"' "$T/mako-list.json" || fail "the app name is not 'a: Editor'"

# 2. control and invisible characters are cleaned (ESC -> U+FFFD, ZWSP and RLO dropped)
in_guest a notify-send "$(printf 'Bad\033[31mred\u200btext\u202e')" "x" || fail "notify-send failed"
wait_for "the cleaned summary in mako" mako_has "[a] Bad"
$PY - "$T/mako-list.json" <<'PY' || fail "the summary was not cleaned"
import json, sys
d = json.load(open(sys.argv[1]))
s = [n["summary"]["data"] for n in d["data"][0] if "Bad" in n["summary"]["data"]][0]
assert s == "[a] Bad\ufffd[31mredtext", repr(s)
PY

# 3. an oversized summary is cut to 256 bytes
in_guest a notify-send "$(printf 'S%.0s' $(seq 300))" "y" || fail "notify-send failed"
wait_for "the long summary in mako" mako_has "[a] SSSS"
$PY - "$T/mako-list.json" <<'PY' || fail "the summary was not cut to 256 bytes"
import json, sys
d = json.load(open(sys.argv[1]))
s = [n["summary"]["data"] for n in d["data"][0] if "SSSS" in n["summary"]["data"]][0]
assert s == "[a] " + "S" * 256, len(s)
PY

# 4. dismissed on the host: NotificationClosed(id, 2) in the guest
in_guest a notify-send -p "Dismiss me" "z" >"$T/id-dismiss" || fail "notify-send failed"
wait_for "Dismiss me in mako" mako_has "[a] Dismiss me"
DBUS_SESSION_BUS_ADDRESS=$HOST_BUS makoctl dismiss -n "$(mako_id "Dismiss me")" || fail "makoctl dismiss failed"
closed_with() { # ID REASON: a NotificationClosed(ID, REASON) on the guest's bus
	grep -A2 "member=NotificationClosed" "$T/monitor-a.log" | tr '\n' ' ' |
		grep -qE "uint32 $1 +uint32 $2"
}
wait_for "NotificationClosed(dismissed)" closed_with "$(cat "$T/id-dismiss")" 2

# 5. expiry: NotificationClosed(id, 1)
in_guest a notify-send -p -t 300 "Short-lived" "w" >"$T/id-expire" || fail "notify-send failed"
wait_for "NotificationClosed(expired)" closed_with "$(cat "$T/id-expire")" 1

# 6. the "default" action focuses a's window and reaches the app
focus b
in_guest a notify-send -A default=Open "Act on me" "v" >"$T/action.out" &
ACT_PID=$!
wait_for "Act on me in mako" mako_has "[a] Act on me"
DBUS_SESSION_BUS_ADDRESS=$HOST_BUS makoctl invoke -n "$(mako_id "Act on me")" default ||
	fail "makoctl invoke failed"
wait "$ACT_PID" || fail "notify-send -A failed"
grep -qx default "$T/action.out" || fail "the app did not get the default action"
py_state "[x for x in w if x['vm'] == 'a'][0]['focused']" || fail "a's window is not focused"
# another action does not cross
in_guest a notify-send -p -A other=Other "Other action" "u" >"$T/other.out" &
OTHER_PID=$!
wait_for "Other action in mako" mako_has "[a] Other action"
DBUS_SESSION_BUS_ADDRESS=$HOST_BUS makoctl invoke -n "$(mako_id "Other action")" other 2>/dev/null
sleep 0.5
DBUS_SESSION_BUS_ADDRESS=$HOST_BUS makoctl dismiss -n "$(mako_id "Other action")"
wait "$OTHER_PID"
grep -qF '"other"' "$T/monitor-a.log" "$T/other.out" && fail "an action other than default crossed"

# 7. a flood from b: 10 shown, the rest dropped with one host notice
for i in $(seq 1 14); do
	in_guest b notify-send "flood-$i" "f" || fail "notify-send failed"
done
wait_for "the drop notice" mako_has "[b] notifications dropped: more than 10 in 10 s"
sleep 0.5
[ "$(mako_count '[b] flood-')" = 10 ] || fail "want 10 flood notifications, got $(mako_count '[b] flood-')"
[ "$(mako_count 'notifications dropped')" = 1 ] || fail "more than one drop notice"

pass
