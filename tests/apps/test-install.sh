#!/bin/sh
# test-install.sh MESON BUILD_DIR PREFIX DATADIR BINDIR MANDIR VALIDATE
# `meson install --destdir` puts the session entry where display managers
# look (DATADIR/wayland-sessions), it validates, vitrail-session is an
# executable next to vitrail, and the manual pages are installed.
set -eu
meson=$1 build=$2 prefix=$3 datadir=$4 bindir=$5 mandir=$6 validate=$7
here=$(dirname "$0")
dest=$(mktemp -d "${TMPDIR:-/tmp}/vitrail-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT

# Relative install dirs are below the prefix.
under() { case $1 in /*) printf '%s%s' "$dest" "$1" ;; *) printf '%s%s/%s' "$dest" "$prefix" "$1" ;; esac; }

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$dest" >/dev/null

fail=0
session=$(under "$datadir")/wayland-sessions/vitrail.desktop
if [ -f "$session" ]; then
	"$here/validate-desktop.sh" "$validate" "$session" || { echo "FAIL: $session does not validate"; fail=1; }
	grep -qx 'Exec=vitrail-session' "$session" || { echo "FAIL: Exec is not vitrail-session"; fail=1; }
else
	echo "FAIL: no $session"
	fail=1
fi
for prog in vitrail-session vitrail vitrailctl; do
	p=$(under "$bindir")/$prog
	[ -x "$p" ] || { echo "FAIL: $p missing or not executable"; fail=1; }
done
if command -v scdoc >/dev/null 2>&1; then
	for page in man1/vitrail.1 man5/vitrail.5 man1/vitrailctl.1 man1/vitrail-agent.1; do
		p=$(under "$mandir")/$page
		[ -s "$p" ] || { echo "FAIL: $p missing"; fail=1; }
	done
fi
[ $fail -eq 0 ] && echo "install: session entry, launcher and manual pages in place"
exit $fail
