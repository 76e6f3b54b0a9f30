#!/bin/bash
# A real GTK4 popover in a VM (issue 14 §4): GTK4 draws popovers with
# rounded corners and a shadow in transparent pixels around them. The host
# crops to the window geometry and blends what is transparent over its own
# backdrop in the VM's label color: no black pixel anywhere (guest buffers
# drawn opaque made the corners and margins black), and the popover's white
# face is on screen.
. "${TEST_LIB:?run through meson test}/agent.sh"
$PY -c 'import gi; gi.require_version("Gtk", "4.0"); from gi.repository import Gtk' 2>/dev/null ||
	fail "GTK4 for Python is not installed (python3-gi, gir1.2-gtk-4.0)"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"
start_agent g work "$PY" "$(dirname "${BASH_SOURCE[0]}")/vt-popover.py"
wait_windows work 1
wait_line "$T/agent-g.log" '^popped$' "the popover to open"
ctl windows --json >"$T/w.json" || fail "vitrailctl windows failed"
read -r x y w h < <(json_get "$T/w.json" "' '.join(str(v[k]) for v in d if v['vm'] == 'work' for k in ('x', 'y', 'width', 'height'))")
"$VT_POINTER" move 1279 719 || fail "vt-pointer failed"
wait_pixels "the popover, with no black pixel" \
	"not-rect 0 0 1280 720 000000; +mostly $x $y $w $h ffffff 5"
pass
