#!/bin/bash
# A VM that stops reading cannot freeze another VM: an honest VM "src"
# opens a big file that the policy sends to "dst", which says HELLO and
# never reads again. The host stops reading src while the file waits for
# dst; dst, leaving its queue unread for VM_LINK_STALL_TIMEOUT_MS (15 s),
# is dropped, the transfer fails, and src is served again (its PING is
# answered, it gets OPEN_RESULT). Before the stall rule src waited forever.
. "${TEST_LIB:?run through meson test}/open.sh"

write_config "$T/vitrail.ini" <<EOF
[vm src]
label = blue
[vm dst]
label = red
[open]
max-file-bytes = 1G
rule = * -> dst
EOF
start_vitrail "$T/vitrail.ini"
S=$XDG_RUNTIME_DIR/vitrail/vm
$PY "$OPEN_TEST_DIR/stallguest.py" target "$S/dst.sock" "$T/QUIT" >"$T/dst.out" 2>&1 &
dst_pid=$!
for _ in $(seq 100); do grep -q welcomed "$T/dst.out" && break; sleep 0.1; done
grep -q welcomed "$T/dst.out" || fail "the stalling guest did not connect"

$PY "$OPEN_TEST_DIR/stallguest.py" source "$S/src.sock" 40 >"$T/src.out" 2>&1
touch "$T/QUIT"
wait "$dst_pid" 2>/dev/null
cat "$T/src.out" >&2
grep -q '^PONG after' "$T/src.out" || fail "src was never served again (no PONG in 40 s)"
grep -q '^OPEN_RESULT after' "$T/src.out" || fail "src never learned the transfer's end"
grep -q '\[vm dst\] disconnected: the agent read nothing of' "$VITRAIL_ERR" ||
	fail "dst was not dropped for leaving its queue unread"
vitrail_alive || fail "vitrail died"
pass
