#!/bin/bash
# A connection counts as the VM's agent from its HELLO on. One that has
# not said HELLO gives way to a newer connection (it gets ERROR BUSY and is
# closed): the agent that connects next is served at once, not refused
# until the first one's handshake timeout. A connected agent is never
# displaced: a second connection gets BUSY.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"

# a connection that never says HELLO; the host has taken it as the VM's
# connection once its log says so (an older vitrail did not log it: then
# give it a moment)
start_guest x work --no-hello
for i in $(seq 50); do
	grep -q 'vm work\] agent connecting' "$VITRAIL_ERR" && break
	sleep 0.05
done

start_guest a work
guest_wait a '^(welcome work [0-9]+|error .*)$'
grep -q '^welcome work' "$T/a.out" || fail "the agent was refused: $(cat "$T/a.out")"
guest a "window 1 120x80"
guest a "fill 1 d0e0f0"
guest a "wait-frame 1"
guest_sync a
wait_windows work 1
guest_wait x '^error 4 replaced by a newer connection before HELLO$'

# the connected agent stays: a newer connection is refused
start_guest b work
guest_wait b '^error 4 '
guest_sync a
windows_are work 1 || fail "the agent lost its window"
vms_json
json_check "$T/vms.json" 'd[0]["connected"] and d[0]["windows"] == 1'

pass
