# Helpers of the open-in-VM end-to-end tests; sourced by test-*.sh. Builds on
# the agent tests' lib.sh (a private XDG_RUNTIME_DIR, a headless vitrail, real
# agents, cleanup on exit). Environment from meson: those of
# tests/agent/lib.sh plus VITRAIL_OPEN, FAKE_GUEST, OPEN_TEST_DIR.

for v in VITRAIL_OPEN FAKE_GUEST OPEN_TEST_DIR; do
	if [ -z "${!v:-}" ]; then
		echo "open e2e: $v is not set (run through meson test)" >&2
		exit 2
	fi
done
# shellcheck source=../agent/lib.sh
. "$AGENT_TEST_DIR/lib.sh"

# VMs started by vitrail's VM manager live under XDG_DATA_HOME (and vitrail
# writes menu entries there): never the user's.
export XDG_DATA_HOME=$T/data
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

vm_connected() { # VM
	py_state "any(x['name'] == '$1' and x['connected'] for x in v)"
}

wait_connected() { # VM...
	local vm
	for vm in "$@"; do
		wait_for "VM $vm to connect" vm_connected "$vm"
	done
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
