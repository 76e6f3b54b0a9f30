#!/bin/bash
# @disposable with a local disposable VM: a PDF from VM a starts the stopped
# disposable VM disp1 (disposable-of = tmpl), lands byte-identical in
# ~/Incoming/a/ of its fresh temporary HOME and is handed to its opener,
# which shows a window. Closing that window stops disp1 and removes its
# HOME (without following the symlinks in it). The next one gets another
# fresh HOME; one left running when vitrail exits is removed too. The
# template never runs.
. "${TEST_LIB:?run through meson test}/open.sh"

# The disposable VM's opener: records what it got, then shows a window
# until the user closes it (vt-client exits 0 when its toplevel is closed).
cat >"$T/disp-opener.sh" <<SH
#!/bin/sh
printf '%s\n' "\$*" >>"\$HOME/opened.txt"
exec "$VT_CLIENT" --title viewer --size 200x120 --color 884422
SH
chmod +x "$T/disp-opener.sh"
export VITRAIL_XDG_OPEN=$T/disp-opener.sh

write_config "$T/vitrail.ini" <<EOF
[vm a]
label = blue
[vm tmpl]
label = gray
command = touch "\$HOME/template-ran"
[vm disp1]
label = red
type = local
disposable-of = tmpl
[open]
rule = application/pdf -> @disposable
rule = * -> @deny
EOF
"$VITRAIL" --check-config --config "$T/vitrail.ini" >/dev/null || fail "the config does not check"

vms_dir=$XDG_RUNTIME_DIR/vitrail/vms
# a leftover of a vitrail that died with disp1 running: removed at start
mkdir -p -m 0700 "$vms_dir/disp1.disp.Stale1/sub"
touch "$vms_dir/disp1.disp.Stale1/sub/file"

start_vitrail "$T/vitrail.ini"
start_open_agent a
wait_connected a
[ ! -e "$vms_dir/disp1.disp.Stale1" ] || fail "a stale disposable home was left"

disp_state() {
	py_state "[x for x in v if x['name'] == 'disp1'][0]['state']"
}
disp_home() {
	py_state "[x for x in v if x['name'] == 'disp1'][0].get('home', '')"
}
disp_is() { # STATE...
	local s
	s=$(disp_state) || return 1
	for want in "$@"; do
		[ "$s" = "$want" ] && return 0
	done
	return 1
}
disp_homes() {
	find "$vms_dir" -maxdepth 1 -name 'disp1.disp.*' | LC_ALL=C sort
}

[ "$(disp_state)" = stopped ] || fail "disp1 is $(disp_state) before anything asked for it"
[ -z "$(disp_homes)" ] || fail "a disposable home exists already: $(disp_homes)"

# --- a PDF from a: disp1 starts for it ---
make_pdf "$T/files/report.pdf" 500000
VITRAIL_OPEN_SOCK=$XDG_RUNTIME_DIR/vitrail-agent-open-agent-a.sock \
	timeout "$E2E_TIMEOUT" "$VITRAIL_OPEN" "$T/files/report.pdf" \
	>"$T/open1.out" 2>"$T/open1.err" &
open_pid=$!
wait_for "disp1 to start" disp_is starting running
status=0
wait "$open_pid" || status=$?
[ $status = 0 ] || fail "vitrail-open report.pdf: status $status: $(cat "$T/open1.err")"
disp_is running || fail "disp1 is $(disp_state) after the delivery"

home=$(disp_home)
case $home in
"$vms_dir"/disp1.disp.??????) ;;
*) fail "disp1's home is '$home', not a fresh $vms_dir/disp1.disp.XXXXXX" ;;
esac
[ "$(disp_homes)" = "$home" ] || fail "disposable homes: $(disp_homes)"
[ "$(stat -c %a "$home")" = 700 ] || fail "disp1's home is not 0700"
delivered=$home/Incoming/a/report.pdf
cmp "$T/files/report.pdf" "$delivered" || fail "the PDF in disp1 differs from the one sent"
opened_has "$home" "$delivered" || fail "disp1's opener was not given $delivered"
[ ! -e "$home/template-ran" ] || fail "the template's command ran in disp1"
[ ! -e "$T/data/vitrail/vms/disp1" ] || fail "disp1 used a persistent home"
[ ! -e "$T/data/vitrail/vms/tmpl" ] || fail "the template was started"
[ "$(py_state "[x for x in v if x['name'] == 'tmpl'][0]['state']")" = stopped ] ||
	fail "the template is not stopped"

# its window: the opener's
wait_windows disp1 1
[ "$(win disp1 title)" = "viewer" ] || fail "disp1's window is '$(win disp1 title)'"
id=$(win disp1 id)

# things the removal must not follow out of the home
mkdir "$T/outside"
echo keep >"$T/outside/precious"
ln -s "$T/outside" "$home/link-to-dir"
ln -s "$T/outside/precious" "$home/link-to-file"
mkdir -p "$home/deep/a/b/c"
echo x >"$home/deep/a/b/c/file"
ln -s "$T/outside" "$home/deep/a/b/link"
chmod 0500 "$home/deep/a/b/c"

# --- its last window closes: disp1 stops, its home is gone ---
ctl close "$id" >/dev/null || fail "vitrailctl close $id"
wait_for "disp1 to stop" disp_is stopped
wait_for "disp1's home to be removed" test ! -e "$home"
[ -z "$(disp_homes)" ] || fail "disposable homes left: $(disp_homes)"
[ "$(cat "$T/outside/precious")" = keep ] || fail "the removal followed a symlink"
[ -z "$(disp_home)" ] || fail "vitrailctl vms still shows a home for disp1"
windows_are disp1 0 || fail "disp1 still has windows"

# --- the next PDF: a fresh home again ---
make_pdf "$T/files/second.pdf" 1000
open_in a "$T/files/second.pdf"
[ "$OPEN_STATUS" = 0 ] || fail "second.pdf: status $OPEN_STATUS: $OPEN_ERR"
home2=$(disp_home)
[ -n "$home2" ] && [ "$home2" != "$home" ] || fail "disp1 did not get a fresh home: '$home2'"
[ "$(files_under "$home2")" = ./Incoming/a/second.pdf ] ||
	fail "files in the fresh home: $(files_under "$home2")"
cmp "$T/files/second.pdf" "$home2/Incoming/a/second.pdf" || fail "second.pdf differs"
opened_has "$home2" "$home2/Incoming/a/second.pdf" || fail "second.pdf was not opened"
wait_windows disp1 1

# --- vitrail exits with disp1 running: its home goes too ---
stop_agent a
stop_vitrail
[ ! -e "$home2" ] || fail "disp1's home outlived vitrail: $(find "$home2" | head)"
[ "$(cat "$T/outside/precious")" = keep ] || fail "the outside file is gone"
pass
