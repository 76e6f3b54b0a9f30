#!/bin/sh
# Fails when a tracked C file differs from what .clang-format asks for.
set -eu
cd "$1"
if git rev-parse --git-dir >/dev/null 2>&1; then
	files=$(git ls-files -co --exclude-standard '*.c' '*.h')
else
	files=$(find . -name build -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
bad=0
for f in $files; do
	[ -f "$f" ] || continue
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (run: clang-format -i $f)"
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "clang-format: all files clean"
exit $bad
