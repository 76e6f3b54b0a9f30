#!/bin/sh
# validate-desktop.sh DESKTOP_FILE_VALIDATE FILE...
# desktop-file-validate exits 0 on some errors ("will be fatal in the
# future") and on warnings; vitrail's files must have neither.
set -eu
validate=$1
shift
status=0
for f in "$@"; do
	if ! out=$("$validate" "$f" 2>&1); then
		status=1
	fi
	if printf '%s\n' "$out" | grep -E -q 'error|warning'; then
		status=1
	fi
	[ -z "$out" ] || printf '%s\n' "$out"
done
exit $status
