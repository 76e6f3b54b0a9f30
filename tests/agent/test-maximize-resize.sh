#!/bin/bash
# Title bar clicks and edge drags on a real app (foot in a VM): a single
# click on a maximized window's title bar keeps it maximized, a double-click
# restores it (and maximizes it again); a fast drag of the left edge keeps
# the right edge where it was, even for commits the app makes after the
# button is released.
. "${TEST_LIB:?run through meson test}/agent.sh"
: "${VT_POINTER:?run through meson test}"

write_config "$T/vitrail.ini" <<INI
[vm work]
label = blue
INI
start_vitrail "$T/vitrail.ini"
start_agent work work foot -w 500x300 sh -c 'echo ready; exec cat'
wait_windows work 1
id=$(win work id)
ctl focus "$id" || fail "vitrailctl focus $id"
geom() { ctl windows --json >"$T/w.json" && json_get "$T/w.json" "' '.join(str(w[k]) for w in d if w['id'] == $id for k in ('x', 'y', 'width', 'height'))"; }
wait_geom() { # PYTHON-CONDITION-ON-x,y,w,h WHAT
	local deadline=$((SECONDS + E2E_TIMEOUT)) g
	while :; do
		g=$(geom)
		read -r x y w h <<<"$g"
		$PY -c "import sys; x, y, w, h = map(int, sys.argv[1:]); sys.exit(0 if ($1) else 1)" $g && return 0
		[ $SECONDS -lt $deadline ] || fail "$2: window at $g"
		sleep 0.1
	done
}
read -r x0 y0 w0 h0 <<<"$(geom)"

# double-click on the title bar: maximized (the whole usable area)
tx=$((x0 + w0 / 2)) ty=$((y0 - 12))
"$VT_POINTER" move "$tx" "$ty" click left click left || fail "vt-pointer failed"
wait_geom "w > 1200 and h > 600" "a double-click did not maximize"
read -r mx my mw mh <<<"$(geom)"
# a single click on the maximized title bar: still maximized
"$VT_POINTER" move $((mx + 100)) $((my - 12)) click left || fail "vt-pointer failed"
sleep 0.6
read -r x y w h <<<"$(geom)"
[ "$w" = "$mw" ] && [ "$h" = "$mh" ] || fail "a single click restored the maximized window ($w x $h)"
# a double-click restores it
"$VT_POINTER" move $((mx + 100)) $((my - 12)) click left click left || fail "vt-pointer failed"
wait_geom "w == $w0 and h == $h0" "a double-click did not restore"
read -r x0 y0 w0 h0 <<<"$(geom)"

# a fast drag of the left edge 150 px to the right: the right edge stays
right=$((x0 + w0))
"$VT_POINTER" drag $((x0 - 2)) $((y0 + h0 / 2)) $((x0 + 148)) $((y0 + h0 / 2)) || fail "vt-pointer failed"
sleep 1 # foot's late commits
wait_geom "x + w == $right and w < $w0 - 100" "the right edge moved after a left-edge drag (right was $right)"
pass
