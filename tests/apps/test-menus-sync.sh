#!/bin/bash
# The host's app menu from a real agent: a local VM whose vitrail-agent sees
# fixture application directories (XDG_DATA_HOME/XDG_DATA_DIRS of the
# "guest"). `vitrailctl menus sync` writes one desktop entry per listed app
# that desktop-file-validate accepts, whose Exec only ever runs vitrailctl,
# and whose icon is a valid PNG with the VM's color around the guest's
# picture; hidden apps are left out; an app added or deleted in the guest
# appears or disappears by itself (inotify -> APPS_CHANGED -> a new list);
# `vitrailctl run-app` opens the app in that VM, framed in its color and
# focused even when another VM had the keyboard; a
# stopped VM keeps its entries and a VM removed from the configuration
# loses them at the next start.
#
# Environment (meson): the e2e variables plus VITRAIL_AGENT, VT_CLIENT,
# DESKTOP_FILE_VALIDATE and APPS_TEST_DIR.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

for v in VITRAIL_AGENT VT_CLIENT DESKTOP_FILE_VALIDATE APPS_TEST_DIR; do
	[ -n "${!v:-}" ] || {
		echo "$v is not set (run through meson test)" >&2
		exit 2
	}
done
command -v grim >/dev/null || fail "grim is not installed"

BLUE=3465a4
export XDG_DATA_HOME=$T/data
APPS=$XDG_DATA_HOME/applications
GUEST=$T/guest # the guest's XDG_DATA_HOME
mkdir -p "$GUEST/applications/sub" "$GUEST/icons/hicolor/48x48/apps" "$T/guest-sys" "$APPS"

# png FILE SIZE RRGGBB: a solid opaque square PNG
png() {
	$PY - "$@" <<'PY'
import struct, sys, zlib
path, size, color = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3]) + b'\xff'
raw = b''.join(b'\0' + color * size for _ in range(size))
def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
with open(path, 'wb') as f:
    f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', size, size, 8, 6, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
PY
}

# ---- the guest's applications ----
png "$GUEST/icons/hicolor/48x48/apps/vitrail-test-painter.png" 48 ff0000
png "$T/notes-icon.png" 96 00aa00
cat >"$GUEST/applications/org.vitrail.Painter.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Painter
GenericName=Paint program
Comment=Fills its window with one color
Exec=$VT_CLIENT --size 200x150 --color 00ff80 --title "Painter window"
Icon=vitrail-test-painter
Categories=Graphics;2DGraphics;NotARealCategory;
MimeType=x-scheme-handler/https;text/html;application/x-shellscript;image/png;
EOF
# in a subdirectory: desktop id "sub-notes.desktop"
cat >"$GUEST/applications/sub/notes.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Notes
Exec=true %F
Icon=$T/notes-icon.png
Categories=Office;
EOF
cat >"$GUEST/applications/remove-me.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Remove Me
Exec=true
EOF
cat >"$GUEST/applications/hidden.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Hidden
Exec=true
NoDisplay=true
EOF
cat >"$GUEST/applications/kde-only.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=KDE only
Exec=true
OnlyShowIn=KDE;
EOF
cat >"$GUEST/applications/missing-tryexec.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Not installed
Exec=true
TryExec=/nonexistent/program
EOF

# ---- host files that a start must prune, or must not touch ----
cat >"$APPS/vitrail-gone-old.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=[gone] Old
Exec=vitrailctl run-app gone old.desktop
X-Vitrail-VM=gone
X-Vitrail-App=old.desktop
EOF
# an entry of a configured VM written by an older vitrail, with the guest's
# MimeType: the start drops that line (the VM need not run again)
cat >"$APPS/vitrail-other-stale.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=[other] Stale
Exec=vitrailctl run-app other stale.desktop
MimeType=x-scheme-handler/http;text/plain;
X-Vitrail-VM=other
X-Vitrail-App=stale.desktop
EOF
# update-desktop-database's cache from those days still names it (and
# xdg-mime would take it as the handler): the start drops vitrail entries
printf '[MIME Cache]\nx-scheme-handler/http=vitrail-other-stale.desktop;firefox-esr.desktop;\ntext/plain=vitrail-other-stale.desktop;\n' \
	>"$APPS/mimeinfo.cache"
cat >"$APPS/vitrail-user-mine.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Not written by vitrail
Exec=true
EOF

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
[vm other]
label = green
INI
start_vitrail "$T/vitrail.ini"
[ ! -e "$APPS/vitrail-gone-old.desktop" ] || fail "the entry of a VM that is not configured was kept"
[ -e "$APPS/vitrail-user-mine.desktop" ] || fail "a file without vitrail's marker was deleted"
grep -q '^MimeType=' "$APPS/vitrail-other-stale.desktop" && fail "a stale entry keeps the guest's MimeType"
grep -q '^X-Vitrail-App=stale.desktop$' "$APPS/vitrail-other-stale.desktop" ||
	fail "the stale entry of a configured VM was lost"
[ "$(cat "$APPS/mimeinfo.cache")" = "$(printf '[MIME Cache]\nx-scheme-handler/http=firefox-esr.desktop;')" ] ||
	fail "mimeinfo.cache still names VM entries: $(cat "$APPS/mimeinfo.cache")"

# start_work_agent: a vitrail-agent of VM work that sees the fixture apps
# (no app of its own; output in $T/agent-N.out/err)
AGENT_N=0
start_work_agent() {
	AGENT_N=$((AGENT_N + 1))
	(
		close_guest_fds
		exec env -u XDG_CURRENT_DESKTOP XDG_DATA_HOME="$GUEST" XDG_DATA_DIRS="$T/guest-sys" \
			"$VITRAIL_AGENT" --connect "unix:$XDG_RUNTIME_DIR/vitrail/vm/work.sock" \
			--socket agent-work
	) >"$T/agent-$AGENT_N.out" 2>"$T/agent-$AGENT_N.err" &
	GUEST_PID[agent]=$!
}
start_work_agent
wait_connected work

# ---- sync ----
ctl menus sync work >"$T/sync.out" || fail "vitrailctl menus sync work failed"
grep -qx 'work: 3 apps' "$T/sync.out" || fail "menus sync printed: $(cat "$T/sync.out")"
ctl menus sync >"$T/sync-all.out" || fail "vitrailctl menus sync failed"
grep -qx 'work: 3 apps' "$T/sync-all.out" || fail "menus sync (all) printed: $(cat "$T/sync-all.out")"
if ctl menus sync other 2>"$T/sync-other.err"; then fail "menus sync of a stopped VM succeeded"; fi
grep -q 'not running' "$T/sync-other.err" || fail "menus sync other: $(cat "$T/sync-other.err")"

PAINTER=$APPS/vitrail-work-org_vitrail_Painter.desktop
NOTES=$APPS/vitrail-work-sub_notes.desktop
REMOVE=$APPS/vitrail-work-remove_me.desktop
for f in "$PAINTER" "$NOTES" "$REMOVE"; do
	[ -f "$f" ] || fail "no entry $f ($(ls "$APPS"))"
done
n=$(ls "$APPS" | grep -c '^vitrail-work-' || true)
[ "$n" = 3 ] || fail "want 3 entries of VM work (hidden, KDE-only and TryExec ones left out), have: $(ls "$APPS")"

"$APPS_TEST_DIR/validate-desktop.sh" "$DESKTOP_FILE_VALIDATE" "$APPS"/vitrail-work-*.desktop ||
	fail "the generated entries do not validate"
for d in "$XDG_DATA_HOME"/desktop-directories/vitrail-work.directory; do
	[ -f "$d" ] || fail "no $d"
	"$APPS_TEST_DIR/validate-desktop.sh" "$DESKTOP_FILE_VALIDATE" "$d" || fail "$d does not validate"
done
[ -f "$XDG_CONFIG_HOME/menus/applications-merged/vitrail-work.menu" ] || fail "no menu merge file"

# Exec runs vitrailctl and nothing else; the name says the VM
key() { sed -n "s/^$2=//p" "$1"; }
exec_line=$(key "$PAINTER" Exec)
case $exec_line in
"vitrailctl run-app work org.vitrail.Painter.desktop" | \
	"$VITRAILCTL run-app work org.vitrail.Painter.desktop") ;;
*) fail "Painter's Exec is '$exec_line'" ;;
esac
[ "$(key "$PAINTER" Name)" = "[work] Painter" ] || fail "Painter's Name is '$(key "$PAINTER" Name)'"
[ "$(key "$PAINTER" Categories)" = "Graphics;2DGraphics;X-Vitrail-VM;X-Vitrail-VM-work;" ] ||
	fail "Painter's Categories are '$(key "$PAINTER" Categories)'"
# A guest never becomes the host's handler of a type or scheme (its entry
# asked for https, text/html and shell scripts): no MimeType on the host,
# and after update-desktop-database gio names none of vitrail's entries.
grep -l '^MimeType=' "$APPS"/vitrail-*.desktop && fail "a VM's entry claims MIME types on the host"
command -v update-desktop-database >/dev/null || fail "update-desktop-database is not installed"
command -v gio >/dev/null || fail "gio is not installed"
update-desktop-database "$APPS" || fail "update-desktop-database failed"
for t in x-scheme-handler/https text/html application/x-shellscript image/png; do
	XDG_DATA_DIRS=$T/empty-share gio mime "$t" >"$T/gio-mime.out" 2>&1 || true
	grep -q 'vitrail-' "$T/gio-mime.out" && fail "gio mime $t: $(cat "$T/gio-mime.out")"
done
grep -q "$VT_CLIENT" "$APPS"/*.desktop && fail "a guest Exec line reached the host's entries"

# icons: names in the user's hicolor theme; valid PNGs, the guest's picture
# inside the VM's color
ICONS=$XDG_DATA_HOME/icons/hicolor/96x96/apps
[ "$(key "$PAINTER" Icon)" = vitrail-work-org_vitrail_Painter ] || fail "Painter's Icon is '$(key "$PAINTER" Icon)'"
icon=$ICONS/$(key "$PAINTER" Icon).png
$PY "$APPS_TEST_DIR/pngcheck.py" "$icon" size 96 96 pixel 0 0 $BLUE pixel 95 95 $BLUE \
	pixel 2 50 $BLUE pixel 85 85 $BLUE pixel 30 30 ff0000 || fail "Painter's icon $icon"
icon=$ICONS/$(key "$NOTES" Icon).png
$PY "$APPS_TEST_DIR/pngcheck.py" "$icon" size 96 96 pixel 0 0 $BLUE pixel 85 85 $BLUE \
	pixel 30 30 00aa00 || fail "Notes' icon $icon"
icon=$ICONS/$(key "$REMOVE" Icon).png
$PY "$APPS_TEST_DIR/pngcheck.py" "$icon" size 96 96 pixel 0 0 $BLUE pixel 85 85 $BLUE ||
	fail "the icon of an app without one: $icon"

# ---- changes in the guest reach the host by themselves ----
rm "$GUEST/applications/remove-me.desktop"
wait_for "the deleted app's entry to go" test ! -e "$REMOVE"
[ ! -e "$ICONS/vitrail-work-remove_me.png" ] || fail "the deleted app's icon was kept"
cat >"$GUEST/applications/added.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Added later
Exec=true
EOF
wait_for "the added app's entry" test -f "$APPS/vitrail-work-added.desktop"
"$APPS_TEST_DIR/validate-desktop.sh" "$DESKTOP_FILE_VALIDATE" "$APPS/vitrail-work-added.desktop" ||
	fail "the added entry does not validate"
[ -f "$PAINTER" ] && [ -f "$NOTES" ] || fail "unchanged apps lost their entries"

# ---- run-app: the app opens in its VM, framed in its color ----
if ctl run-app work ../evil.desktop 2>"$T/bad-id.err"; then fail "run-app took an id with '/'"; fi
grep -q 'invalid desktop id' "$T/bad-id.err" || fail "bad id: $(cat "$T/bad-id.err")"
if ctl run-app work 'x;touch.desktop' 2>/dev/null; then fail "run-app took an id with ';'"; fi
if ctl run-app work nope.desktop 2>"$T/nope.err"; then fail "run-app of an unknown app succeeded"; fi
grep -q 'No such file or directory' "$T/nope.err" || fail "unknown app: $(cat "$T/nope.err")"
if ctl run-app nosuch x.desktop 2>/dev/null; then fail "run-app in an unknown VM succeeded"; fi

ctl run-app work org.vitrail.Painter.desktop || fail "run-app work org.vitrail.Painter.desktop failed"
wait_windows work 1
ctl windows --json >"$T/windows.json"
json_check "$T/windows.json" \
	'[(w["title"], w["label"], w["width"], w["height"]) for w in d if w["vm"] == "work"] == [("Painter window", "#3465a4", 200, 150)]' \
	"the Painter window in VM work"
x=$(json_get "$T/windows.json" "[w['x'] for w in d if w['vm'] == 'work'][0]")
y=$(json_get "$T/windows.json" "[w['y'] for w in d if w['vm'] == 'work'][0]")
deadline=$((SECONDS + E2E_TIMEOUT))
until screenshot "$T/shot.ppm" && $PY "$TEST_LIB/pixels.py" "$T/shot.ppm" rect "$x" "$y" 200 150 00ff80 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || pixels "$T/shot.ppm" rect "$x" "$y" 200 150 00ff80
	sleep 0.2
done
pixels "$T/shot.ppm" frame "$x" "$y" 200 150 $BLUE
px=$x py=$y

# run-app starts a stopped VM (its agent, from the VM manager, sees the
# system's applications), then opens the app there, framed in its color
command -v foot >/dev/null || fail "foot is not installed"
ctl run-app other foot.desktop || fail "run-app other foot.desktop failed"
vm_connected other || fail "VM other is not connected after run-app"
wait_windows other 1
ctl windows --json >"$T/windows.json"
# launched from the menu (run-app) while work's Painter has the keyboard:
# the app the user asked for comes up with the keyboard
json_check "$T/windows.json" '[w["vm"] for w in d if w["focused"]] == ["other"]' \
	"the app started with run-app must have the keyboard"
x=$(json_get "$T/windows.json" "[w['x'] for w in d if w['vm'] == 'other'][0]")
y=$(json_get "$T/windows.json" "[w['y'] for w in d if w['vm'] == 'other'][0]")
w=$(json_get "$T/windows.json" "[w['width'] for w in d if w['vm'] == 'other'][0]")
h=$(json_get "$T/windows.json" "[w['height'] for w in d if w['vm'] == 'other'][0]")
json_check "$T/windows.json" '[w["label"] for w in d if w["vm"] == "other"] == ["#73d216"]' "foot in VM other"
deadline=$((SECONDS + E2E_TIMEOUT))
# a new guest window does not raise itself: Painter's frame may cover it
ignore=(--ignore "$((px - 4))" "$((py - 28))" 208 182)
until screenshot "$T/shot2.ppm" &&
	$PY "$TEST_LIB/pixels.py" "$T/shot2.ppm" frame "$x" "$y" "$w" "$h" 73d216 "${ignore[@]}" 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || pixels "$T/shot2.ppm" frame "$x" "$y" "$w" "$h" 73d216 "${ignore[@]}"
	sleep 0.2
done

# ---- a stopped VM keeps its entries; a removed VM loses them ----
stop_pid "${GUEST_PID[agent]}"
unset "GUEST_PID[agent]"
wait_for "VM work to disconnect" eval '! vm_connected work'
[ -f "$PAINTER" ] || fail "a stopped VM lost its entries"
stop_vitrail
write_config "$T/vitrail2.ini" <<INI
[vm other]
label = green
INI
start_vitrail "$T/vitrail2.ini"
if ls "$APPS" "$ICONS" | grep -q '^vitrail-work'; then fail "VM work was removed but kept files: $(ls "$APPS" "$ICONS")"; fi
[ ! -e "$XDG_CONFIG_HOME/menus/applications-merged/vitrail-work.menu" ] || fail "VM work kept its menu file"
[ -e "$APPS/vitrail-user-mine.desktop" ] || fail "a file without vitrail's marker was deleted"
pass
