#!/bin/bash
# vitrailctl against a stand-in control socket (no compositor): request
# format, table and --json output, errors and exit codes.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

sock=$T/ctl.sock
reqs=$T/requests.log

# Not running: exact message, exit 1.
rc=0
"$VITRAILCTL" --socket "$sock" windows >"$T/o" 2>"$T/e" || rc=$?
[ $rc -eq 1 ] || fail "not running: exit $rc, want 1"
grep -qxF "vitrailctl: vitrail is not running (no socket at $sock)" "$T/e" ||
	fail "not running: message: $(cat "$T/e")"
rc=0
VITRAIL_SOCK=$T/other.sock "$VITRAILCTL" vms 2>"$T/e" || rc=$?
[ $rc -eq 1 ] && grep -qF "no socket at $T/other.sock" "$T/e" || fail "VITRAIL_SOCK ignored"
rc=0
"$VITRAILCTL" vms 2>"$T/e" || rc=$?
[ $rc -eq 1 ] && grep -qF "no socket at $XDG_RUNTIME_DIR/vitrail/ctl.sock" "$T/e" ||
	fail "default socket path: $(cat "$T/e")"

# Usage errors: exit 2.
for args in "" "bogus" "focus" "focus x" "focus -1" "windows --yaml" "exit now" "--socket"; do
	rc=0
	# shellcheck disable=SC2086
	"$VITRAILCTL" $args >/dev/null 2>&1 || rc=$?
	[ $rc -eq 2 ] || fail "'vitrailctl $args' exited $rc, want 2"
done
"$VITRAILCTL" --help | grep -q "windows \[--json\]" || fail "--help"

$PY "$E2E_DIR/fake-ctl-server.py" "$sock" "$reqs" 2>"$T/server.err" &
server=$!
GUEST_PID[server]=$server
deadline=$((SECONDS + E2E_TIMEOUT))
until [ -S "$sock" ]; do
	[ $SECONDS -lt $deadline ] || fail "fake server did not start"
	sleep 0.05
done
export VITRAIL_SOCK=$sock

# windows --json: the server's array, as JSON.
ctl windows --json >"$T/w.json" || fail "windows --json failed"
json_check "$T/w.json" 'len(d) == 2 and d[0]["id"] == 3 and d[1]["vm"] is None'
json_check "$T/w.json" 'd[0]["title"] == "Inbox \u2014 mail" and d[0]["label"] == "#3465a4"'
tail -n 1 "$reqs" | json_check /dev/stdin 'd == {"command": "windows"}'

# windows table: header, one row per window, no terminal escapes.
ctl windows >"$T/w.txt" || fail "windows failed"
head -n 1 "$T/w.txt" | grep -q '^ID .*VM .*TITLE' || fail "windows header: $(head -n 1 "$T/w.txt")"
[ "$(wc -l <"$T/w.txt")" -eq 3 ] || fail "windows: want 3 lines"
grep -q '^3 .*work .*\* .*640x480+32+60 .*#3465a4 .*mail .*Inbox — mail$' "$T/w.txt" ||
	fail "windows row 3: $(cat "$T/w.txt")"
grep -q '^7 .*(host) .*300x200+64+92 .*#2e3436 .*foot .*evil?\[31mtitle$' "$T/w.txt" ||
	fail "windows row 7 (host, sanitized title): $(cat -v "$T/w.txt")"
if grep -q $'\x1b' "$T/w.txt"; then fail "escape character printed"; fi

ctl vms --json >"$T/v.json" || fail "vms --json failed"
json_check "$T/v.json" 'd[1] == {"name": "personal", "label": "#73d216", "connected": False, "windows": 0}'
ctl vms >"$T/v.txt" || fail "vms failed"
grep -q '^work .*#3465a4 .*yes .*1$' "$T/v.txt" || fail "vms row: $(cat "$T/v.txt")"
grep -q '^personal .*#73d216 .*no .*0$' "$T/v.txt" || fail "vms row: $(cat "$T/v.txt")"

# focus / close: the request carries the id; errors exit 1 with the server's message.
ctl focus 3 >"$T/o" || fail "focus 3 failed"
[ ! -s "$T/o" ] || fail "focus printed output"
tail -n 1 "$reqs" | json_check /dev/stdin 'd == {"command": "focus", "id": 3}'
rc=0
ctl close 4 2>"$T/e" || rc=$?
[ $rc -eq 1 ] && grep -qx 'vitrailctl: no window 4' "$T/e" || fail "close 4: rc $rc $(cat "$T/e")"
tail -n 1 "$reqs" | json_check /dev/stdin 'd == {"command": "close", "id": 4}'

ctl version >"$T/o" || fail "version failed"
grep -qx 'vitrailctl .*' "$T/o" && grep -qx 'vitrail 9.8.7' "$T/o" || fail "version: $(cat "$T/o")"

ctl exit || fail "exit failed"
tail -n 1 "$reqs" | json_check /dev/stdin 'd == {"command": "exit"}'
wait "$server" || fail "fake server failed: $(cat "$T/server.err")"
unset "GUEST_PID[server]"
pass
