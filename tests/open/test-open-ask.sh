#!/bin/bash
# @ask: without an [open] section every request asks. The host draws a
# chooser (checked in screenshots: the asking VM's color, one row per other
# VM in its label color); key 1 picks the first VM, a click on a row picks
# that VM, Escape cancels (vitrail-open exits 3).
. "${TEST_LIB:?run through meson test}/open.sh"

write_config "$T/vitrail.ini" <<EOF
[vm a]
label = blue
[vm b]
label = green
[vm web]
label = orange
EOF
start_vitrail "$T/vitrail.ini"
start_open_agent a
start_open_agent b
start_open_agent web
wait_connected a b web

# The panel on the 1280x720 output: 480 wide, a 64 px header, 32 px per
# row (b, web: not the asking VM), a 28 px footer; centered, a third down.
W=480 H=$((64 + 2 * 32 + 28))
X=$(((1280 - W) / 2)) Y=$(((720 - H) / 3))
ROW1=$((Y + 64)) ROW2=$((Y + 96))
PANEL="rect $X $Y $W 2 eeeeec; rect $((X + 2)) $((Y + 4)) 8 40 $BLUE"
PANEL+="; rect $((X + 12)) $((ROW1 + 2)) 8 28 $GREEN; rect $((X + 12)) $((ROW2 + 2)) 8 28 f57900"
GONE="rect $X $Y $W $H $BG"

ask_in_background() { # ARGS of vitrail-open in VM a
	rm -f "$T/ask.status"
	(
		open_in a "$@"
		echo "$OPEN_STATUS" >"$T/ask.status"
	) &
}
asked_status() {
	wait_for "vitrail-open to finish" test -s "$T/ask.status"
	cat "$T/ask.status"
}

# key 1: the first row, b
make_pdf "$T/files/report.pdf" 200000
ask_in_background "$T/files/report.pdf"
wait_pixels "the chooser" "$PANEL"
sleep 0.6 # picks are ignored for 500 ms after a question appears
wtype 1
[ "$(asked_status)" = 0 ] || fail "key 1: vitrail-open status $(cat "$T/ask.status")"
cmp "$T/files/report.pdf" "$T/home-b/Incoming/a/report.pdf" || fail "report.pdf did not reach b"
opened_has "$T/home-b" "$T/home-b/Incoming/a/report.pdf" || fail "b did not open report.pdf"
wait_pixels "the chooser to go" "$GONE"

# Escape: cancelled
ask_in_background "https://example.org/"
wait_pixels "the chooser" "$PANEL"
wtype -k Escape
[ "$(asked_status)" = 3 ] || fail "Escape: vitrail-open status $(cat "$T/ask.status")"
grep -q "cancelled: the user cancelled" "$T/open.err" || fail "Escape: $(cat "$T/open.err")"
wait_pixels "the chooser to go" "$GONE"

# a click on the second row: web
ask_in_background "https://example.org/"
wait_pixels "the chooser" "$PANEL"
sleep 0.6 # picks are ignored for 500 ms after a question appears
"$VT_POINTER" move $((X + 100)) $((ROW2 + 16)) click move 5 5 # (the cursor out of the way)
[ "$(asked_status)" = 0 ] || fail "click: vitrail-open status $(cat "$T/ask.status")"
opened_has "$T/home-web" "https://example.org/" || fail "web did not get the URL"
wait_pixels "the chooser to go" "$GONE"

# nothing was opened where nobody chose
[ ! -e "$T/home-a/opened.txt" ] || fail "a opened something"
[ "$(wc -l <"$T/home-b/opened.txt")" = 1 ] || fail "b opened more than report.pdf"
[ "$(wc -l <"$T/home-web/opened.txt")" = 1 ] || fail "web opened more than one URL"
pass
