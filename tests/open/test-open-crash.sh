#!/bin/bash
# A delivery to a VM that vitrail starts for it, and that crashes before
# its agent connects, fails at once with the VM's reason (not at the
# 180 s start timeout). Here the "crash" is an agent that exits with
# status 1 at once: vitrail runs a wrapper as its agent, which does that
# for VM crashy and runs the real agent for the others.
. "${TEST_LIB:?run through meson test}/open.sh"

cat >"$T/agent-wrap.sh" <<SH
#!/bin/sh
case "\$*" in
*/crashy.sock*) echo "crashy: exiting at once" >&2; exit 1 ;;
esac
exec "$VITRAIL_AGENT" "\$@"
SH
chmod +x "$T/agent-wrap.sh"

write_config "$T/vitrail.ini" <<EOF
[vm a]
label = blue
[vm crashy]
label = red
command = sleep 100000
[open]
rule = application/pdf -> crashy
rule = * -> @deny
EOF

VITRAIL_AGENT=$T/agent-wrap.sh start_vitrail "$T/vitrail.ini"
start_open_agent a
wait_connected a

make_pdf "$T/files/report.pdf" 2000
# E2E_TIMEOUT bounds vitrail-open (open_in): without the fix it waits
# for the 180 s start timeout and is killed
open_in a "$T/files/report.pdf"
[ "$OPEN_STATUS" = 1 ] || fail "vitrail-open to a crashing VM: status $OPEN_STATUS: $OPEN_ERR"
case "$OPEN_ERR" in
*"VM crashy did not start: VM crashy crashed: vitrail-agent exited with status 1"*) ;;
*) fail "unclear error: $OPEN_ERR" ;;
esac
[ "$(vm_field crashy state)" = crashed ] || fail "crashy is $(vm_field crashy state)"
agent_alive a || fail "agent a is gone"

pass
