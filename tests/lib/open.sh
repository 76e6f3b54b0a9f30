# shellcheck shell=bash
# Helpers of the open-in-VM end-to-end tests, on top of agent.sh (a private
# XDG_RUNTIME_DIR and XDG_DATA_HOME, a headless vitrail, real agents,
# cleanup on exit); sourced by tests/open/test-*.sh as
# ". "$TEST_LIB/open.sh"". Environment from meson: that of agent.sh plus
# VITRAIL_OPEN, FAKE_GUEST, VT_POINTER, OPEN_TEST_DIR.

# shellcheck source=agent.sh
. "$TEST_LIB/agent.sh"
require_env VITRAIL_OPEN FAKE_GUEST OPEN_TEST_DIR

mkdir -p "$T/files"

# The guests' xdg-open: records its arguments, one line per call, in
# $HOME/opened.txt (the agents pass VITRAIL_XDG_OPEN on to it).
cat >"$T/opener.sh" <<'SH'
#!/bin/sh
printf '%s\n' "$*" >>"$HOME/opened.txt"
SH
chmod +x "$T/opener.sh"
export VITRAIL_XDG_OPEN=$T/opener.sh

# start_open_agent VM: an agent for VM with HOME=$T/home-VM.
start_open_agent() {
	mkdir -p "$T/home-$1"
	HOME=$T/home-$1 start_agent "$1" "$1" sleep 100000
}

# open_in VM ARGS...: run vitrail-open as an app of VM's agent would (its
# socket); sets OPEN_STATUS and OPEN_ERR (stderr).
open_in() {
	local vm=$1
	shift
	OPEN_STATUS=0
	VITRAIL_OPEN_SOCK=$XDG_RUNTIME_DIR/vitrail-agent-open-agent-$vm.sock \
		timeout "$E2E_TIMEOUT" "$VITRAIL_OPEN" "$@" 2>"$T/open.err" || OPEN_STATUS=$?
	OPEN_ERR=$(cat "$T/open.err")
	log "vitrail-open in $vm $*: status $OPEN_STATUS ${OPEN_ERR:+($OPEN_ERR)}"
}

# A "PDF": the magic, then random bytes (N bytes in all).
make_pdf() { # PATH N
	{
		printf '%%PDF-1.4\n'
		head -c "$(($2 - 9))" /dev/urandom
	} >"$1"
}

opened_has() { # HOME-DIR LINE
	[ -f "$1/opened.txt" ] && grep -Fqx -- "$2" "$1/opened.txt"
}

# Regular files under DIR other than opened.txt, relative, sorted.
files_under() {
	(cd "$1" && find . -type f ! -name opened.txt | LC_ALL=C sort)
}
