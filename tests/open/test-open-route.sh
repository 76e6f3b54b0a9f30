#!/bin/bash
# Open in another VM, with local VMs and real agents: a PDF from VM a lands
# byte-identical in the VM its MIME rule names and is handed to that guest's
# opener (never back into the VM it came from); an https URL goes to the web
# VM; @deny refuses with a clear message
# (exit status 3); a stopped target VM is started by vitrail; vitrailctl open
# (to a named VM, and --auto by the rules); @disposable without a disposable
# VM says so.
. "${TEST_LIB:?run through meson test}/open.sh"

write_config "$T/vitrail.ini" <<EOF
[vm a]
label = blue
[vm b]
label = green
[vm web]
label = orange
[vm c]
label = purple
command = sleep 100000
[open]
rule = application/pdf -> b
rule = x-scheme-handler/https -> web
rule = .odt -> c
rule = image/* -> @disposable
rule = from a: text/plain -> @deny
rule = * -> @deny
EOF
"$VITRAIL" --check-config --config "$T/vitrail.ini" >/dev/null || fail "the config does not check"

start_vitrail "$T/vitrail.ini"
start_open_agent a
start_open_agent b
start_open_agent web
wait_connected a b web

# --- a PDF from a goes to b, by its MIME type ---
make_pdf "$T/files/report.pdf" 3000000
open_in a "$T/files/report.pdf"
[ "$OPEN_STATUS" = 0 ] || fail "vitrail-open report.pdf: status $OPEN_STATUS: $OPEN_ERR"
delivered=$T/home-b/Incoming/a/report.pdf
cmp "$T/files/report.pdf" "$delivered" || fail "the PDF in b differs from the one sent"
[ "$(stat -c %a "$T/home-b/Incoming")" = 700 ] || fail "~/Incoming is not 0700"
[ "$(stat -c %a "$T/home-b/Incoming/a")" = 700 ] || fail "~/Incoming/a is not 0700"
opened_has "$T/home-b" "$delivered" || fail "b's opener was not given $delivered"
[ ! -e "$T/home-a/Incoming" ] && [ ! -e "$T/home-web/Incoming" ] ||
	fail "the PDF went somewhere else too"

# the same name again: a suffix, the first file untouched
make_pdf "$T/files/other.pdf" 1000
mkdir "$T/files/again"
cp "$T/files/other.pdf" "$T/files/again/report.pdf"
open_in a "$T/files/again/report.pdf"
[ "$OPEN_STATUS" = 0 ] || fail "the second report.pdf: status $OPEN_STATUS"
cmp "$T/files/report.pdf" "$delivered" || fail "the first report.pdf was overwritten"
cmp "$T/files/other.pdf" "$T/home-b/Incoming/a/report (1).pdf" ||
	fail "the second report.pdf is not 'report (1).pdf'"
opened_has "$T/home-b" "$T/home-b/Incoming/a/report (1).pdf" || fail "not opened: report (1).pdf"

# an empty file travels too
: >"$T/files/empty.pdf"
open_in a --type application/pdf "$T/files/empty.pdf"
[ "$OPEN_STATUS" = 0 ] || fail "empty.pdf: status $OPEN_STATUS"
[ -f "$T/home-b/Incoming/a/empty.pdf" ] && [ ! -s "$T/home-b/Incoming/a/empty.pdf" ] ||
	fail "empty.pdf did not arrive empty"

# the rule names b for b's own PDF: refused, no loop through b's xdg-open
open_in b "$T/files/report.pdf"
[ "$OPEN_STATUS" = 1 ] || fail "a PDF from b to b: status $OPEN_STATUS, want 1"
[[ $OPEN_ERR == *"it is already in VM b"* ]] || fail "unclear refusal: $OPEN_ERR"
[ ! -e "$T/home-b/Incoming/b" ] || fail "b sent a PDF to itself"

# --- an https URL goes to web ---
url='https://example.org/a/b?q=1&r=%20#frag'
open_in a "$url"
[ "$OPEN_STATUS" = 0 ] || fail "vitrail-open $url: status $OPEN_STATUS: $OPEN_ERR"
opened_has "$T/home-web" "$url" || fail "web's opener did not get the URL"
opened_has "$T/home-b" "$url" && fail "b got the URL too"

# --- @deny: refused with a clear message, exit status 3 ---
echo "hello" >"$T/files/note.txt"
open_in a "$T/files/note.txt"
[ "$OPEN_STATUS" = 3 ] || fail "note.txt from a: status $OPEN_STATUS, want 3 (denied)"
case $OPEN_ERR in
*"note.txt: denied: the open policy denies it ($T/vitrail.ini:15)"*) ;;
*) fail "unclear refusal: $OPEN_ERR" ;;
esac
open_in a "http://example.org/"
[ "$OPEN_STATUS" = 3 ] || fail "http URL: status $OPEN_STATUS, want 3"
[[ $OPEN_ERR == *"denied: the open policy denies it ($T/vitrail.ini:16)"* ]] ||
	fail "unclear refusal: $OPEN_ERR"
# unsafe schemes are refused before any rule
open_in a "javascript:alert(1)"
[ "$OPEN_STATUS" = 3 ] || fail "javascript: URL: status $OPEN_STATUS, want 3"
[[ $OPEN_ERR == *"scheme is not allowed"* ]] || fail "unclear refusal: $OPEN_ERR"
for home in a b web; do
	! grep -qs 'note.txt\|http://\|javascript' "$T/home-$home/opened.txt" ||
		fail "a denied request was opened in $home"
done

# --- vitrailctl open ---
out=$(ctl open b "$T/files/note.txt") || fail "vitrailctl open b note.txt failed"
[ "$out" = "opened in VM b" ] || fail "vitrailctl open said: $out"
cmp "$T/files/note.txt" "$T/home-b/Incoming/host/note.txt" || fail "note.txt from the host"
opened_has "$T/home-b" "$T/home-b/Incoming/host/note.txt" || fail "b did not open note.txt"
out=$(ctl open --auto "https://example.com/") || fail "vitrailctl open --auto URL failed"
[ "$out" = "opened in VM web" ] || fail "vitrailctl open --auto said: $out"
opened_has "$T/home-web" "https://example.com/" || fail "web did not get the host's URL"
status=0
ctl open --auto "$T/files/note.txt" 2>"$T/ctl.err" || status=$?
[ $status = 3 ] || fail "vitrailctl open --auto note.txt: status $status, want 3"
grep -q "denies it ($T/vitrail.ini:16)" "$T/ctl.err" || fail "vitrailctl: $(cat "$T/ctl.err")"
# ...and on screen too (a file manager running "Open in a VM" has no
# terminal): a refused notice with the host's gray stripe, top right
screenshot "$T/notice.ppm"
pixels "$T/notice.ppm" rect $((1280 - 16 - 380)) 16 8 40 2e3436
pixels "$T/notice.ppm" rect $((1280 - 16 - 8)) 16 8 40 5a1e1e
status=0
ctl open nosuchvm "$T/files/note.txt" 2>"$T/ctl.err" || status=$?
[ $status = 1 ] && grep -q "no VM named 'nosuchvm'" "$T/ctl.err" || fail "vitrailctl open nosuchvm"

# --- a stopped target is started by vitrail's VM manager ---
vm_connected c && fail "c runs before anything asked for it"
head -c 100000 /dev/urandom >"$T/files/letter.odt"
open_in a "$T/files/letter.odt"
[ "$OPEN_STATUS" = 0 ] || fail "letter.odt: status $OPEN_STATUS: $OPEN_ERR"
c_home=$T/data/vitrail/vms/c/home
cmp "$T/files/letter.odt" "$c_home/Incoming/a/letter.odt" || fail "letter.odt did not reach c"
opened_has "$c_home" "$c_home/Incoming/a/letter.odt" || fail "c did not open letter.odt"
vm_connected c || fail "c is not connected after the delivery"

# --- @disposable needs a disposable VM ---
head -c 1000 /dev/urandom >"$T/files/photo.png"
open_in a "$T/files/photo.png"
[ "$OPEN_STATUS" = 1 ] || fail "photo.png: status $OPEN_STATUS, want 1"
[[ $OPEN_ERR == *"no disposable VM is configured"* ]] || fail "unclear failure: $OPEN_ERR"

# nothing stray anywhere
[ "$(files_under "$T/home-a")" = "" ] || fail "files in a: $(files_under "$T/home-a")"
want_b=$(printf '%s\n' ./Incoming/a/empty.pdf "./Incoming/a/report (1).pdf" \
	./Incoming/a/report.pdf ./Incoming/host/note.txt)
[ "$(files_under "$T/home-b")" = "$want_b" ] || fail "files in b: $(files_under "$T/home-b")"
[ "$(files_under "$T/home-web")" = "" ] || fail "files in web: $(files_under "$T/home-web")"

# c was started by vitrail: it stops with it
pass
