#!/bin/bash
# Hostile app lists from a scripted fake guest. A list that keeps to the
# protocol but carries nasty strings (shell syntax, field codes, bidi and
# line-separator characters, made-up categories, malformed MIME types) is
# sanitized: every entry validates, Exec is always `vitrailctl run-app VM
# ID` and running it as a launcher would only sends LAUNCH_APP to the
# guest. Lists that break the rules (control characters, ids with '/' or
# '..' or that read as an option (leading '-'), out-of-order, duplicate or surplus
# apps, early END, icons of unknown apps or of a bad size, unsolicited or
# nested lists, more than 1024 apps, more than the byte limit) disconnect
# the VM and change no file. APPS_CHANGED floods get at most one request
# in flight; bad run-app ids never reach the guest; a bad RUN_RESULT
# disconnects. A marker file that any of the payloads would create if a
# shell ever saw them never appears.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

for v in DESKTOP_FILE_VALIDATE APPS_TEST_DIR; do
	[ -n "${!v:-}" ] || {
		echo "$v is not set (run through meson test)" >&2
		exit 2
	}
done

export XDG_DATA_HOME=$T/data
APPS=$XDG_DATA_HOME/applications
MARKER=$T/pwned
PAYLOAD="\$(touch $MARKER)\`touch $MARKER\`;touch $MARKER|touch $MARKER"

write_config "$T/vitrail.ini" <<INI
[vm evil]
label = red
INI
start_vitrail "$T/vitrail.ini"

# tailhex FIELD...: the fields joined by NULs with a NUL at the end, as hex
tailhex() { $PY -c 'import sys; print("".join(f + "\0" for f in sys.argv[1:]).encode().hex())' "$@"; }

# send_nasty_list GUEST: answer the last APPS_REQUEST with four apps whose
# strings a shell, a desktop entry parser or a terminal would misread.
send_nasty_list() {
	local g=$1
	guest $g "apps-begin last 4"
	# the '|' of the payload would split app-info fields: msg instead
	guest $g "msg 99 0 00000000$(tailhex org.evil.Shell.desktop "Shell $PAYLOAD" 'Generic %f %c' \
		'Comment "q" \\ ;' 'Graphics;Exec=x;X-Foo;Office;' 'image/png;;text/ht ml;a/b/c;audio/ok;')"
	guest $g "app-info 1 bidi.desktop|Evil$(printf '\xe2\x80\xae')txt.exe|Gen$(printf '\xe2\x80\xa8')Exec=touch $MARKER|Line$(printf '\xe2\x80\xa9')sep|AudioVideo;|"
	guest $g "app-info 2 fields.desktop|Name %f %U %c %k %%|||;;;|"
	guest $g "app-info 3 org.evil.Long.desktop|$(printf 'N%.0s' $(seq 1000))||$(printf 'C%.0s' $(seq 1000))||"
	guest $g "app-icon 0 48 ff00ff80"
	guest $g "app-icon 1 96 112233ff"
	guest $g "apps-end last"
	guest_sync $g
}

# ---- round A: a valid list with nasty strings is sanitized ----
start_guest a evil
guest_wait a '^apps-request [0-9]+$'
send_nasty_list a
# menus sync asks again and answers once the new list is written
ctl menus sync evil >"$T/sync-a.out" 2>&1 &
SYNC_PID=$!
guest_wait_count a '^apps-request [0-9]+$' 2
send_nasty_list a
wait "$SYNC_PID" || fail "menus sync evil: $(cat "$T/sync-a.out")"
grep -qx 'evil: 4 apps' "$T/sync-a.out" || fail "menus sync printed: $(cat "$T/sync-a.out")"

ls "$APPS" >"$T/entries"
for f in org_evil_Shell bidi fields org_evil_Long; do
	grep -qx "vitrail-evil-$f.desktop" "$T/entries" || fail "no entry for $f: $(cat "$T/entries")"
done
[ "$(grep -c '^vitrail-evil-' "$T/entries")" = 4 ] ||
	fail "unexpected entries: $(cat "$T/entries")"
"$APPS_TEST_DIR/validate-desktop.sh" "$DESKTOP_FILE_VALIDATE" "$APPS"/vitrail-evil-*.desktop ||
	fail "sanitized entries do not validate"
key() { sed -n "s/^$2=//p" "$APPS/vitrail-evil-$1.desktop"; }
for f in org_evil_Shell bidi fields org_evil_Long; do
	id=$(key $f X-Vitrail-App)
	case $(key $f Exec) in
	"vitrailctl run-app evil $id" | "$VITRAILCTL run-app evil $id") ;;
	*) fail "$f: Exec is '$(key $f Exec)'" ;;
	esac
	[ "$(grep -c '^Exec=' "$APPS/vitrail-evil-$f.desktop")" = 1 ] || fail "$f: more than one Exec line"
done
[ "$(key bidi Name)" = "[evil] Eviltxt.exe" ] || fail "bidi Name: '$(key bidi Name)'"
[ "$(key bidi GenericName)" = "[evil] GenExec=touch $MARKER" ] || fail "bidi GenericName: '$(key bidi GenericName)'"
[ "$(key bidi Categories)" = "AudioVideo;X-Vitrail-VM;X-Vitrail-VM-evil;" ] || fail "bidi Categories: '$(key bidi Categories)'"
[ "$(key org_evil_Shell Categories)" = "Graphics;Office;X-Vitrail-VM;X-Vitrail-VM-evil;" ] ||
	fail "Shell Categories: '$(key org_evil_Shell Categories)'"
# a guest's MimeType never reaches the host (it would make the VM a handler)
grep -q '^MimeType=' "$APPS/vitrail-evil-org_evil_Shell.desktop" && fail "Shell kept a MimeType line"
name=$(key org_evil_Long Name)
[ ${#name} -le 140 ] || fail "a 1000-byte Name was not shortened (${#name} bytes)"
ICONS=$XDG_DATA_HOME/icons/hicolor/96x96/apps
$PY "$APPS_TEST_DIR/pngcheck.py" "$ICONS/$(key org_evil_Shell Icon).png" size 96 96 pixel 0 0 cc0000 pixel 85 85 cc0000 ||
	fail "Shell's icon"
$PY "$APPS_TEST_DIR/pngcheck.py" "$ICONS/$(key bidi Icon).png" size 96 96 pixel 0 0 cc0000 pixel 30 30 112233 ||
	fail "bidi's icon"

# Run an entry as a launcher does (Exec split as the spec says, no shell):
# only LAUNCH_APP reaches the guest.
exec_line=$(key org_evil_Shell Exec)
$PY - "$exec_line" "$VITRAILCTL" >"$T/launch.out" 2>&1 <<'PY' &
import shlex, subprocess, sys
argv = shlex.split(sys.argv[1])
if argv[0] == 'vitrailctl':
    argv[0] = sys.argv[2]
sys.exit(subprocess.run(argv, timeout=60).returncode)
PY
LAUNCH_PID=$!
guest_wait a '^launch-app [0-9]+ org\.evil\.Shell\.desktop$'
guest a "run-result last 3 0"
wait "$LAUNCH_PID" || fail "running the Shell entry: $(cat "$T/launch.out")"

# run-app ids that are not desktop ids never reach the guest
for id in "\$(touch $MARKER).desktop" "../../x.desktop" "a/b.desktop" "-x.desktop" ".x.desktop" \
	"x.desktop;touch" "x desktop" "x.desktop
y.desktop"; do
	if ctl run-app evil "$id" 2>/dev/null; then fail "run-app took the id '$id'"; fi
done
# a failed launch is reported with the guest's errno
ctl run-app evil fields.desktop 2>"$T/failed.err" &
LAUNCH_PID=$!
guest_wait_count a '^launch-app ' 2
guest a "run-result last 2 13"
if wait "$LAUNCH_PID"; then fail "a FAILED launch succeeded"; fi
grep -q 'Permission denied' "$T/failed.err" || fail "failed launch: $(cat "$T/failed.err")"
# a RUN_RESULT nobody asked for is ignored
guest a "run-result 0x80000077 3 0"
guest a "run-result 12 0 0"
guest_sync a
[ "$(grep -c '^launch-app ' "$T/a.out")" = 2 ] || fail "bad run-app ids reached the guest"

# APPS_CHANGED floods: one request in flight, whatever the guest says
n0=$(grep -c '^apps-request ' "$T/a.out")
for i in $(seq 50); do guest a "msg 97 0"; done
guest_wait_count a '^apps-request ' $((n0 + 1))
for i in $(seq 50); do guest a "msg 97 0"; done
guest a "sleep 2500"
guest_sync a
[ "$(grep -c '^apps-request ' "$T/a.out")" = $((n0 + 1)) ] ||
	fail "APPS_CHANGED flood: $(($(grep -c '^apps-request ' "$T/a.out") - n0)) requests in flight"
# a RUN_RESULT of another kind than STARTED/FAILED for a launch disconnects
ctl run-app evil bidi.desktop 2>"$T/exited.err" &
LAUNCH_PID=$!
guest_wait_count a '^launch-app ' 3
guest a "run-result last 0 0"
guest a "expect-disconnect"
guest_wait a '^disconnected'
if wait "$LAUNCH_PID"; then fail "a launch answered with EXITED succeeded"; fi
grep -Eq '^disconnected error [0-9]+ .*RUN_RESULT' "$T/a.out" || fail "EXITED for a launch: $(grep '^disconnected' "$T/a.out")"
guest_end a || fail "round A: fake guest failed: $(tail -n 2 "$T/a.err")"

ls -l --time-style=+%s.%N "$APPS" "$ICONS" >"$T/files-before"

# ---- lists that break the rules ----
ROUND=0
# bad_list NAME REASON -- COMMANDS...: a new connection of VM evil answers
# its APPS_REQUEST with COMMANDS and must be disconnected with an ERROR
# matching REASON; no file changes. "last" in commands is the request's serial.
bad_list() {
	local name=$1 reason=$2 cmd
	shift 2
	[ "$1" = -- ] && shift
	ROUND=$((ROUND + 1))
	local g=bad$ROUND
	log "round $ROUND: $name"
	start_guest $g evil
	guest_wait $g '^apps-request [0-9]+$'
	for cmd in "$@"; do
		guest $g "$cmd"
	done
	guest $g "expect-disconnect"
	guest_wait $g '^disconnected'
	grep -Eqi "^disconnected error [0-9]+ .*($reason)" "$T/$g.out" ||
		fail "$name: $(grep '^disconnected' "$T/$g.out"), want an ERROR matching '$reason'"
	guest_end $g || fail "$name: fake guest failed: $(tail -n 2 "$T/$g.err")"
	vitrail_alive || fail "$name: vitrail died"
	grep -q '\[vm evil\]' "$VITRAIL_ERR" || fail "$name: no log line naming the VM"
}

bad_list "control character in Name" "control" -- "apps-begin last 1" \
	"msg 99 0 00000000$(tailhex a.desktop $'Bad\nExec=x' '' '' '' '')"
bad_list "id with a slash" "APP_INFO" -- "apps-begin last 1" "app-info 0 a/b.desktop|A||||"
bad_list "id with .." "APP_INFO" -- "apps-begin last 1" "app-info 0 a..b.desktop|A||||"
# a desktop id becomes a host file name and an argv element: no option
bad_list "id starting with '-'" "APP_INFO" -- "apps-begin last 1" "app-info 0 -rf.desktop|Dash||||"
bad_list "id without .desktop" "APP_INFO" -- "apps-begin last 1" "app-info 0 evil|A||||"
bad_list "empty Name" "APP_INFO" -- "apps-begin last 1" "app-info 0 a.desktop|||||"
bad_list "five fields" "APP_INFO" -- "apps-begin last 1" "msg 99 0 00000000$(tailhex a.desktop A '' '' '')"
bad_list "seven fields" "APP_INFO" -- "apps-begin last 1" "app-info 0 a.desktop|A|||||"
bad_list "out of order" "out of order" -- "apps-begin last 2" "app-info 1 a.desktop|A||||"
bad_list "index twice" "out of order" -- "apps-begin last 2" "app-info 0 a.desktop|A||||" \
	"app-info 0 b.desktop|B||||"
bad_list "more apps than announced" "more APP_INFO" -- "apps-begin last 1" \
	"app-info 0 a.desktop|A||||" "app-info 1 b.desktop|B||||"
bad_list "index out of range" "APP_INFO" -- "apps-begin last 1" "app-info 5000 a.desktop|A||||"
bad_list "duplicate desktop id" "twice" -- "apps-begin last 2" "app-info 0 a.desktop|A||||" \
	"app-info 1 a.desktop|B||||" "apps-end last"
bad_list "END too early" "after 1 of 2" -- "apps-begin last 2" "app-info 0 a.desktop|A||||" "apps-end last"
bad_list "END of another list" "ends list" -- "apps-begin last 0" "apps-end 7"
bad_list "icon of an unknown app" "not described" -- "apps-begin last 1" "app-icon 0 48 ff0000ff"
bad_list "two icons of one size" "second" -- "apps-begin last 1" "app-info 0 a.desktop|A||||" \
	"app-icon 0 48 ff0000ff" "app-icon 0 48 ff0000ff"
bad_list "icon of 64 px" "APP_ICON" -- "apps-begin last 1" "app-info 0 a.desktop|A||||" \
	"app-icon 0 64 ff0000ff"
bad_list "icon with the wrong byte count" "APP_ICON" -- "apps-begin last 1" \
	"app-info 0 a.desktop|A||||" "app-icon 0 48 ff0000ff 9215"
bad_list "icon bigger than 96" "APP_ICON" -- "apps-begin last 1" "app-info 0 a.desktop|A||||" \
	"app-icon 0 256 ff0000ff"
bad_list "list nobody asked for" "no APPS_REQUEST" -- "apps-begin 123456 0"
bad_list "END outside a list" "outside" -- "apps-end last"
bad_list "APP_INFO outside a list" "outside" -- "app-info 0 a.desktop|A||||"
bad_list "list inside a list" "inside" -- "apps-begin last 1" "apps-begin last 1"
bad_list "1025 apps" "APP_LIST_BEGIN" -- "apps-begin last 1025"
# huge: 1024 apps with both icons is about 47 MB, above the host's 16 MiB
# (a script file, not the fifo: the guest stops reading once disconnected)
ROUND=$((ROUND + 1))
log "round $ROUND: huge list"
{
	echo "wait apps-request"
	echo "apps-begin last 1024"
	for i in $(seq 0 1023); do
		printf 'app-info %d app%d.desktop|App %d||||\napp-icon %d 48 ff0000ff\napp-icon %d 96 00ff00ff\n' \
			$i $i $i $i $i
	done
	echo "expect-disconnect"
} >"$T/huge.cmds"
timeout $((E2E_TIMEOUT * 4)) "$FAKE_GUEST" --socket "$XDG_RUNTIME_DIR/vitrail/vm/evil.sock" \
	--timeout "$E2E_TIMEOUT" --script "$T/huge.cmds" >"$T/huge.out" 2>"$T/huge.err" || true
grep -Eq '^disconnected error [0-9]+ .*larger than' "$T/huge.out" ||
	fail "huge list: $(grep '^disconnected' "$T/huge.out")"
vitrail_alive || fail "huge list: vitrail died"

# nothing written by any broken list
ls -l --time-style=+%s.%N "$APPS" "$ICONS" >"$T/files-after"
diff "$T/files-before" "$T/files-after" || fail "a broken list changed files"

# and a well-behaved connection still works
start_guest good evil
guest_wait good '^apps-request [0-9]+$'
guest good "apps-begin last 1"
guest good "app-info 0 fine.desktop|Fine||||"
guest good "apps-end last"
guest_sync good
deadline=$((SECONDS + E2E_TIMEOUT))
until [ -f "$APPS/vitrail-evil-fine.desktop" ]; do
	[ $SECONDS -lt $deadline ] || fail "the good list was not written"
	sleep 0.1
done
ls "$APPS" | grep -q '^vitrail-evil-org_evil_Shell' && fail "apps no longer listed kept their entries"
guest_end good || fail "good guest failed"

[ ! -e "$MARKER" ] || fail "a guest payload ran on the host"
pass
