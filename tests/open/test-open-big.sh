#!/bin/bash
# A 200 MB file streams from VM a through vitrail to VM b in bounded memory:
# the peak resident size (VmHWM) of vitrail and of both agents grows by less
# than 64 MiB, and the file arrives byte-identical. Then the same through
# vitrailctl open from the host.
. "${TEST_LIB:?run through meson test}/open.sh"

SIZE=$((200 * 1024 * 1024))
LIMIT_KIB=$((64 * 1024))

write_config "$T/vitrail.ini" <<EOF
[vm a]
label = blue
[vm b]
label = green
[open]
rule = from a: application/pdf -> b
EOF
start_vitrail "$T/vitrail.ini"
start_open_agent a
start_open_agent b
wait_connected a b

hwm() { # PID: peak resident KiB
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}
make_pdf "$T/files/big.pdf" "$SIZE"

declare -A before=() pids=()
pids=([vitrail]=$VITRAIL_PID [agent-a]=${AGENT_PID[a]} [agent-b]=${AGENT_PID[b]})
for name in "${!pids[@]}"; do
	before[$name]=$(hwm "${pids[$name]}")
done

check_memory() { # WHAT
	local name grew
	for name in "${!pids[@]}"; do
		grew=$(($(hwm "${pids[$name]}") - ${before[$name]}))
		log "$1: $name peak resident size grew by $grew KiB"
		[ "$grew" -lt "$LIMIT_KIB" ] ||
			fail "$1: $name grew by $grew KiB (limit $LIMIT_KIB KiB): not streaming"
	done
}

E2E_TIMEOUT=120 open_in a "$T/files/big.pdf"
[ "$OPEN_STATUS" = 0 ] || fail "vitrail-open big.pdf: status $OPEN_STATUS: $OPEN_ERR"
cmp "$T/files/big.pdf" "$T/home-b/Incoming/a/big.pdf" || fail "big.pdf differs in b"
opened_has "$T/home-b" "$T/home-b/Incoming/a/big.pdf" || fail "b did not open big.pdf"
check_memory "from VM a"
rm -f "$T/home-b/Incoming/a/big.pdf"

E2E_TIMEOUT=120 ctl open b "$T/files/big.pdf" >/dev/null || fail "vitrailctl open b big.pdf"
cmp "$T/files/big.pdf" "$T/home-b/Incoming/host/big.pdf" || fail "big.pdf from the host differs"
check_memory "from the host"
rm -f "$T/home-b/Incoming/host/big.pdf" "$T/files/big.pdf"
pass
