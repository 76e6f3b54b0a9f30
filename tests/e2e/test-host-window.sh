#!/bin/bash
# A real host client (weston-simple-shm) maps on vitrail: it is listed with
# no VM and the host frame color, framed in the "host" style on all four
# sides, and its content is drawn (not the background). Regression: mapping
# a host window used to abort the compositor (texture upload mid-render).
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

HOST=2e3436
BG=1e1e1e
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"

command -v weston-simple-shm >/dev/null || fail "weston-simple-shm is not installed"
weston-simple-shm >"$T/shm.out" 2>"$T/shm.err" &
SHM_PID=$!

deadline=$((SECONDS + E2E_TIMEOUT))
while :; do
	ctl windows --json >"$T/windows.json" 2>/dev/null || true
	if $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if len(d)==1 else 1)' \
		"$T/windows.json" 2>/dev/null; then
		break
	fi
	vitrail_alive || fail "vitrail died when a host client mapped a window"
	[ $SECONDS -ge $deadline ] && fail "the host window never appeared"
	sleep 0.1
done
json_check "$T/windows.json" 'd[0]["vm"] is None and d[0]["label"] == "#2e3436"' \
	"host window must have no VM and the host frame color"
read -r X Y W H < <($PY -c 'import json,sys; w=json.load(open(sys.argv[1]))[0]; print(w["x"], w["y"], w["width"], w["height"])' "$T/windows.json")
[ "$W" -gt 0 ] && [ "$H" -gt 0 ] || fail "host window has no size"

sleep 0.5
screenshot "$T/host.ppm"
pixels "$T/host.ppm" frame "$X" "$Y" "$W" "$H" $HOST
# weston-simple-shm draws moving stripes: its content is not the background.
pixels "$T/host.ppm" not-rect $((X + W / 4)) $((Y + H / 4)) $((W / 2)) $((H / 2)) $BG
vitrail_alive || fail "vitrail died"
kill $SHM_PID 2>/dev/null || true
pass
