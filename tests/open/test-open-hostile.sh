#!/bin/bash
# A hostile source VM (the scripted fake guest) sends files with hostile
# names to a real agent: what passes the protocol's checks lands inside
# ~/Incoming/evil/ under a cleaned-up name, never overwriting; a damaged file
# (bad checksum) and a cancelled one leave nothing; names the protocol
# forbids ("../../x", control characters, 10 KB) get the guest disconnected
# and write nothing anywhere.
. "${TEST_LIB:?run through meson test}/open.sh"

write_config "$T/vitrail.ini" <<EOF
[vm b]
label = green
[vm evil]
label = red
[open]
rule = from evil: * -> b
EOF
start_vitrail "$T/vitrail.ini"
start_open_agent b
wait_connected b
touch "$T/marker"

evil_sock=$XDG_RUNTIME_DIR/vitrail/vm/evil.sock
printf 'some text\n' >"$T/files/t.txt"
head -c 150000 /dev/urandom >"$T/files/blob"

# run_evil NAME: run the fake guest on the script $T/NAME.script
run_evil() {
	local status=0
	timeout "$E2E_TIMEOUT" "$FAKE_GUEST" --socket "$evil_sock" --timeout "$E2E_TIMEOUT" \
		--script "$T/$1.script" >"$T/$1.out" 2>"$T/$1.err" || status=$?
	return $status
}
msgs() { # ID NAME MIME FILE [options]
	$PY "$OPEN_TEST_DIR/openmsg.py" "$@"
}

{
	msgs 1 '.bashrc' text/plain "$T/files/t.txt"
	echo "wait open-result 1 0 opened in VM b"
	msgs 2 'invoice\u202efdp.exe' application/pdf "$T/files/blob"
	echo "wait open-result 2 0"
	msgs 3 'same.txt' text/plain "$T/files/t.txt"
	echo "wait open-result 3 0"
	msgs 4 'same.txt' text/plain "$T/files/blob"
	echo "wait open-result 4 0"
	# 85 euro signs: 255 bytes, at the limit
	msgs 5 "$(printf '\\u20ac%.0s' $(seq 85))" text/plain "$T/files/t.txt"
	echo "wait open-result 5 0"
	msgs 6 ' . ..hidden' text/plain "$T/files/t.txt"
	echo "wait open-result 6 0"
	msgs 7 '...' text/plain "$T/files/t.txt"
	echo "wait open-result 7 0"
	# a checksum that does not match: deleted, and said so
	msgs 8 'damaged.bin' application/octet-stream "$T/files/blob" --bad-sha
	echo "wait open-result 8 5 the file arrived damaged in VM b"
	# announced bigger than what comes before the END: cancelled
	msgs 9 'short.bin' application/octet-stream "$T/files/t.txt" --size 100000
	echo "wait open-result 9 6"
	# a request id in use: a protocol error
	msgs 10 'slow.bin' application/octet-stream "$T/files/t.txt" --size 100000 --no-end
	msgs 10 'again.bin' application/octet-stream "$T/files/t.txt" --begin-only
	echo "expect-disconnect"
} >"$T/evil1.script"
run_evil evil1 || fail "the first fake guest failed: $(tail -3 "$T/evil1.err")"
grep -q "^disconnected error 1 open request 10 is already in progress" "$T/evil1.out" ||
	fail "reusing a request id did not disconnect the guest"

inc=$T/home-b/Incoming/evil
check_file() { # NAME SOURCE-FILE
	cmp "$2" "$inc/$1" || fail "'$1' in Incoming/evil is not $2"
	opened_has "$T/home-b" "$inc/$1" || fail "'$1' was not opened"
}
check_file bashrc "$T/files/t.txt"
check_file 'invoice_fdp.exe' "$T/files/blob"
check_file same.txt "$T/files/t.txt"
check_file 'same (1).txt' "$T/files/blob"
check_file "$(printf '\u20ac%.0s' $(seq 85))" "$T/files/t.txt"
check_file hidden "$T/files/t.txt"
check_file file "$T/files/t.txt"
wait_for "the damaged and cancelled files to go" \
	test ! -e "$inc/damaged.bin" -a ! -e "$inc/short.bin" -a ! -e "$inc/slow.bin"

# names the decoder refuses: the guest is dropped, nothing is written
for name in '../../x' 'a\x01b.txt' 'x\ny' '@long:10240:.pdf' '..' '@hex:fffe2e747874'; do
	{
		msgs 20 "$name" text/plain "$T/files/t.txt" --begin-only
		echo "expect-disconnect"
	} >"$T/evil2.script"
	run_evil evil2 || fail "name '$name': the fake guest failed: $(tail -3 "$T/evil2.err")"
	grep -q '^disconnected error 1 OPEN_FILE_BEGIN: ' "$T/evil2.out" ||
		fail "name '$name': not refused by the decoder: $(cat "$T/evil2.out")"
done

# everything the guest wrote is inside ~/Incoming/evil, nothing elsewhere
want=$(printf '%s\n' ./Incoming/evil/bashrc ./Incoming/evil/file ./Incoming/evil/hidden \
	"./Incoming/evil/invoice_fdp.exe" "./Incoming/evil/same (1).txt" \
	./Incoming/evil/same.txt "./Incoming/evil/$(printf '\u20ac%.0s' $(seq 85))" |
	LC_ALL=C sort)
got=$(files_under "$T/home-b")
[ "$got" = "$want" ] || fail "files in b: $got"
stray=$(find "$T" -newer "$T/marker" -type f ! -path "$T/home-b/Incoming/evil/*" \
	! -name opened.txt ! -name '*.log' ! -name '*.out' ! -name '*.err' ! -name '*.script' \
	! -name '*.json' ! -path "$T/run/*" ! -path "$T/data/*" ! -path "$T/config/*" \
	! -path "$T/files/*" -print)
[ -z "$stray" ] || fail "files written outside Incoming/evil: $stray"
for f in "$inc"/*; do
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f is not 0600"
done
pass
