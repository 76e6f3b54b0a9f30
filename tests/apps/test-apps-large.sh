#!/bin/bash
# A large install is listed whole: a real vitrail-agent whose guest has
# 1,024 applications (the protocol's VTP_MAX_APPS), each with a 96 px icon,
# stays connected and the host writes all 1,024 menu entries, every one with
# the guest's picture in its icon (the agent keeps the list within the
# host's documented 16 MiB, VTP_MAX_APP_LIST_BYTES, by sending 48 px icons
# for all before any 96 px one).
#
# Environment (meson): the e2e variables plus VITRAIL_AGENT and
# APPS_TEST_DIR.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

for v in VITRAIL_AGENT APPS_TEST_DIR; do
	[ -n "${!v:-}" ] || {
		echo "$v is not set (run through meson test)" >&2
		exit 2
	}
done

N=1024
BLUE=3465a4
export XDG_DATA_HOME=$T/data
APPS=$XDG_DATA_HOME/applications
ICONS=$XDG_DATA_HOME/icons/hicolor/96x96/apps
GUEST=$T/guest
mkdir -p "$GUEST/applications" "$T/guest-sys" "$APPS"

# one 96 px picture, solid green
$PY - "$T/icon.png" <<'PY'
import struct, sys, zlib
path, size = sys.argv[1], 96
raw = b''.join(b'\0' + b'\x00\xcc\x00\xff' * size for _ in range(size))
def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
with open(path, 'wb') as f:
    f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', size, size, 8, 6, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
PY
for i in $(seq 0 $((N - 1))); do
	printf '[Desktop Entry]\nType=Application\nName=Application number %d\nComment=One of many\nExec=true\nIcon=%s\nCategories=Utility;\n' \
		"$i" "$T/icon.png" >"$GUEST/applications/org.example.App$i.desktop"
done

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"
(
	close_guest_fds
	exec env -u XDG_CURRENT_DESKTOP XDG_DATA_HOME="$GUEST" XDG_DATA_DIRS="$T/guest-sys" \
		"$VITRAIL_AGENT" --connect "unix:$XDG_RUNTIME_DIR/vitrail/vm/work.sock" \
		--socket agent-work
) >"$T/agent.out" 2>"$T/agent.err" &
GUEST_PID[agent]=$!
wait_connected work

ctl menus sync work >"$T/sync.out" || fail "vitrailctl menus sync work failed: $(cat "$T/sync.out")"
grep -qx "work: $N apps" "$T/sync.out" || fail "menus sync printed: $(cat "$T/sync.out")"
vm_connected work || fail "the agent was dropped: $(grep -i 'larger\|disconnect' "$VITRAIL_OUT" | tail -3)"
n=$(ls "$APPS" | grep -c '^vitrail-work-' || true)
[ "$n" = $N ] || fail "want $N entries, have $n"
n=$(ls "$ICONS" | grep -c '^vitrail-work-' || true)
[ "$n" = $N ] || fail "want $N icons, have $n"
# the guest's picture (green, not the VM's placeholder) in some icons,
# App999 last in the agent's (sorted) list
for i in 0 511 $((N - 1)) 998 999; do
	icon=$ICONS/vitrail-work-org_example_App$i.png
	$PY "$APPS_TEST_DIR/pngcheck.py" "$icon" size 96 96 pixel 0 0 $BLUE \
		pixel 30 30 00cc00 || fail "app $i: its icon has no guest picture ($icon)"
done
pass
