#!/bin/bash
# A VM cannot fill the host's runtime directory through its log: a local
# VM whose command writes 20 MiB to its output gets its log truncated by
# vitrail (cap 16 MiB, checked every 5 s); vitrail keeps running and says
# so in its log. (The QEMU serial console log is capped the same way.)
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
: "${AGENT:?}"
export VITRAIL_AGENT=$AGENT XDG_DATA_HOME=$T/data
E2E_TIMEOUT=30

write_config "$T/vitrail.ini" <<INI
[vm noisy]
label = red
type = local
command = head -c 20971520 /dev/zero; sleep 600
INI
start_vitrail "$T/vitrail.ini"
ctl start noisy || fail "vitrailctl start noisy failed"
log=$XDG_RUNTIME_DIR/vitrail/vms/noisy.agent.log
wait_line "$VITRAIL_ERR" '\[vm noisy\] log .* truncated' "vitrail to truncate noisy's log"
size=$(stat -c %s "$log")
[ "$size" -le 16777216 ] || fail "noisy's log is still $size bytes"
ctl vms >/dev/null || fail "vitrailctl stopped answering"
ctl stop noisy >/dev/null 2>&1 || true
pass
