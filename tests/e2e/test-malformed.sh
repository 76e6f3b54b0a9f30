#!/bin/bash
# Each class of malformed message disconnects the VM that sent it (its
# window disappears), while the other VM's window stays, vitrail keeps
# running and vitrailctl still answers. Finally the bad VM reconnects and
# works again.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

write_config "$T/vitrail.ini" <<INI
[vm good]
label = green
[vm bad]
label = red
INI
start_vitrail "$T/vitrail.ini"

start_guest good good
guest good "window 1 200x120"
guest good "title-fill 1 1024" # the longest title allowed: not an error
guest good "title 1 well behaved"
guest good "fill 1 abcdef"
guest good "wait-frame 1"
guest_sync good
wait_windows good 1

ROUND=0
# bad_round NAME [--no-hello] REASON -- COMMAND...: a bad guest maps a
# window (unless --no-hello), sends the commands, and must be disconnected
# with an ERROR whose text matches the regex REASON (case-insensitive), so
# that the round fails if the host rejects something else than meant.
bad_round() {
	local name=$1 hello=1 reason
	shift
	if [ "$1" = --no-hello ]; then
		hello=0
		shift
	fi
	reason=$1
	shift
	[ "$1" = -- ] && shift
	ROUND=$((ROUND + 1))
	local g=bad$ROUND
	log "round $ROUND: $name"
	if [ $hello = 1 ]; then
		start_guest $g bad
		guest_wait $g '^welcome bad [0-9]+$'
		guest $g "window 1 100x80"
		guest $g "fill 1 404040"
		guest $g "wait-frame 1"
		guest_sync $g
		wait_windows bad 1
	else
		start_guest $g bad --no-hello
	fi
	local cmd logs
	logs=$(grep -c bad "$VITRAIL_ERR" || true)
	for cmd in "$@"; do
		guest $g "$cmd"
	done
	guest $g "expect-disconnect"
	guest_wait $g '^disconnected'
	grep -Eqi "^disconnected error [0-9]+ .*($reason)" "$T/$g.out" ||
		fail "$name: $(grep '^disconnected' "$T/$g.out"), want an ERROR matching '$reason'"
	guest_end $g || fail "$name: fake guest failed: $(tail -n 2 "$T/$g.err")"
	wait_windows bad 0
	ctl vms --json >"$T/vms.json" || fail "$name: vitrailctl vms failed"
	json_check "$T/vms.json" '[(v["connected"], v["windows"]) for v in d if v["name"] == "bad"] == [(False, 0)]' \
		"$name: bad VM still connected"
	json_check "$T/vms.json" '[(v["connected"], v["windows"]) for v in d if v["name"] == "good"] == [(True, 1)]' \
		"$name: good VM affected"
	vitrail_alive || fail "$name: vitrail died"
	if grep -q '^disconnected' "$T/good.out"; then fail "$name: good VM disconnected"; fi
	[ "$(grep -c bad "$VITRAIL_ERR")" -gt "$logs" ] || fail "$name: no log line naming the VM"
}

# header size below the header / above the limit
bad_round "size below header" "size" -- "raw 22000000 04000000 01000000"
bad_round "size above VTP_MSG_MAX" "long|size|limit" -- "raw 22000000 00002000 01000000"
# body size wrong for the type (COMMIT with 2 bytes)
bad_round "bad body size" "size" -- "msg 34 1 0000"
# unknown type; a host-to-guest type sent by the guest
bad_round "unknown type" "type" -- "msg 999 1"
bad_round "wrong direction" "type|direction" -- "msg 21 1 01000000 00000000 00000000 00000000"
bad_round "non-zero flags" "flag|reserved" -- "raw 2200 0100 10000000 01000000 01000000"
# buffers outside the pool
bad_round "buffer far outside pool" "pool" -- "attach-raw 1 0x7fffffffffff0000 10 10 40"
bad_round "buffer across the pool end" "pool" -- "attach-raw 1 end-64 10 10 40"
bad_round "misaligned offset" "align" -- "attach-raw 1 4 10 10 40"
# bad strides, sizes, formats
bad_round "stride below width*4" "stride" -- "attach-raw 1 0 100 10 396"
bad_round "stride not a multiple of 4" "stride" -- "attach-raw 1 0 100 10 402"
bad_round "zero width" "dimension|size|width" -- "attach-raw 1 0 0 10 40"
bad_round "unknown format" "format|value" -- "attach-raw 1 0 10 10 40 0x12345678"
# titles
bad_round "oversize title" "limit|long|title" -- "title-fill 1 1025"
bad_round "non-UTF-8 title" "utf" -- "title-hex 1 48ff49"
bad_round "control character in title" "control" -- "title-hex 1 481b5b33316d"
# unknown window ids
bad_round "title of an unknown window" "unknown window|no window" -- "title 77 hello"
bad_round "commit on an unknown window" "unknown window|no window" -- "msg 34 77 01000000"
# too many windows: 1 mapped + 64 more
cmds=()
for i in $(seq 2 65); do cmds+=("window $i 8x8"); done
bad_round "too many windows" "64|too many|limit" -- "${cmds[@]}"
# message before HELLO
# service VMs (protocol 5.10): a guest cannot push a network config to the
# host, nor report on one it was not sent; a status that breaks its own
# layout is malformed like any other
net_text=$(printf 'role firewall\nuplink 52:54:00:8b:00:00\nlink 1 52:54:00:8b:01:01 allow a\n' | od -An -tx1 | tr -d ' \n')
bad_round "network config pushed by a guest" "unknown message type" -- "msg 128 0 01000000$net_text"
bad_round "network status for no config" "no network config" -- "msg 129 0 010000000000000000000000"
bad_round "network status: count without records" "size" -- "msg 129 0 010000000000000001000000"
bad_round "network status: state 7" "invalid value" -- "msg 129 0 010000000700000000000000"
bad_round "window before hello" --no-hello "hello" -- "msg 16 1 01000000 $(printf '%072d' 0) 0a000000 0a000000"
bad_round "title before hello" --no-hello "hello" -- "title 1 hi"

# truncated message, then the guest closes the connection
ROUND=$((ROUND + 1))
log "round $ROUND: truncated then close"
start_guest trunc bad
guest trunc "window 1 100x80"
guest trunc "fill 1 404040"
guest trunc "wait-frame 1"
guest_sync trunc
wait_windows bad 1
guest trunc "raw 2200 0000 10000000 0100"
guest trunc "quit"
guest_end trunc || fail "truncated: fake guest failed"
wait_windows bad 0
vitrail_alive || fail "truncated: vitrail died"

# the other VM is intact on screen
screenshot "$T/after.ppm"
pixels "$T/after.ppm" frame 32 60 200 120 73d216
pixels "$T/after.ppm" rect 32 60 200 120 abcdef

# and the bad VM can connect again and work
start_guest again bad
guest again "window 1 100x80"
guest again "fill 1 404040"
guest again "wait-frame 1"
guest_sync again
wait_windows bad 1
guest_end again || fail "reconnected guest failed"
wait_windows bad 0
pass
