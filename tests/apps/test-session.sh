#!/bin/bash
# data/vitrail-session as a display manager runs it: it names the desktop
# (XDG_CURRENT_DESKTOP=vitrail ...), imports the session's environment into
# the systemd user manager and D-Bus activation (stubs record the calls),
# passes its arguments on to vitrail, and once vitrail listens imports
# WAYLAND_DISPLAY too (vitrail's --startup). `vitrailctl exit` ends it with
# status 0.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2
[ -n "${SESSION_SCRIPT:-}" ] || {
	echo "SESSION_SCRIPT is not set (run through meson test)" >&2
	exit 2
}

# vitrail and the two importers, first in PATH
mkdir -p "$T/bin"
ln -s "$VITRAIL" "$T/bin/vitrail"
for tool in systemctl dbus-update-activation-environment; do
	cat >"$T/bin/$tool" <<EOF
#!/bin/sh
echo "$tool \$* WAYLAND_DISPLAY=\${WAYLAND_DISPLAY:-unset} XDG_CURRENT_DESKTOP=\${XDG_CURRENT_DESKTOP:-unset}" >>"$T/calls"
EOF
	chmod +x "$T/bin/$tool"
done
write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
unset XDG_CURRENT_DESKTOP XDG_SESSION_DESKTOP XDG_SESSION_TYPE
(
	close_guest_fds
	PATH=$T/bin:$PATH exec "$SESSION_SCRIPT" --headless 800x600 --config "$T/vitrail.ini"
) >"$T/vitrail.out" 2>"$T/vitrail.err" &
VITRAIL_PID=$!
wait_line "$T/vitrail.out" '^WAYLAND_DISPLAY=' "vitrail (through vitrail-session) to listen"
display=$(sed -n 's/^WAYLAND_DISPLAY=//p' "$T/vitrail.out")
export WAYLAND_DISPLAY=$display

# the session script replaced itself with vitrail, with the desktop's name
[ "$(readlink "/proc/$VITRAIL_PID/exe")" = "$(readlink -f "$VITRAIL")" ] ||
	fail "the session's process is $(readlink "/proc/$VITRAIL_PID/exe"), not vitrail"
tr '\0' '\n' <"/proc/$VITRAIL_PID/environ" >"$T/environ"
for kv in XDG_CURRENT_DESKTOP=vitrail XDG_SESSION_DESKTOP=vitrail XDG_SESSION_TYPE=wayland; do
	grep -qx "$kv" "$T/environ" || fail "vitrail runs without $kv"
done
tr '\0' ' ' <"/proc/$VITRAIL_PID/cmdline" | grep -q -- '--headless 800x600 --config' ||
	fail "the arguments did not reach vitrail: $(tr '\0' ' ' <"/proc/$VITRAIL_PID/cmdline")"
ctl vms --json >"$T/vms.json" || fail "vitrailctl vms failed"
json_check "$T/vms.json" '[v["name"] for v in d] == ["work"]' "the config given to the session"

# before the compositor: the desktop's name; after: WAYLAND_DISPLAY as well
wait_line "$T/calls" "^systemctl --user import-environment WAYLAND_DISPLAY .* WAYLAND_DISPLAY=$display " \
	"systemctl to import WAYLAND_DISPLAY"
wait_line "$T/calls" "^dbus-update-activation-environment --systemd WAYLAND_DISPLAY .* WAYLAND_DISPLAY=$display " \
	"D-Bus activation to get WAYLAND_DISPLAY"
grep -q '^systemctl --user import-environment XDG_CURRENT_DESKTOP XDG_SESSION_DESKTOP XDG_SESSION_TYPE WAYLAND_DISPLAY=unset XDG_CURRENT_DESKTOP=vitrail' "$T/calls" ||
	fail "the desktop's name was not imported before the compositor: $(cat "$T/calls")"
grep -q '^dbus-update-activation-environment --systemd XDG_CURRENT_DESKTOP' "$T/calls" ||
	fail "D-Bus activation did not get the desktop's name: $(cat "$T/calls")"

ctl exit || fail "vitrailctl exit failed"
rc=0
wait "$VITRAIL_PID" || rc=$?
VITRAIL_PID=
[ $rc -eq 0 ] || fail "the session ended with status $rc"
STATUS=pass
log PASS
