#!/bin/bash
# Service VMs with real Debian 12 template guests (suite 'vm'), the
# README's chain:
#   net  service = net, network = user (the uplink)
#   fw   service = firewall, network = via:net
#   web  network = via:fw, firewall = allow HOST:PORT/tcp of a test HTTP
#        server on the host's loopback (10.0.2.2 from QEMU's user network),
#        firewall-default = deny
#   bank network = via:fw, firewall-default = deny
#  1. starting web starts fw and net first; web and bank get 10.139.K.2
#     from fw's DHCP server; web fetches the page (web -> fw -> net -> host);
#  2. bank reaches fw's DNS listener (its network is up) but not the page:
#     its drop counter (vitrailctl firewall bank --json) rises;
#  3. web cannot reach a listener in bank (no client-to-client traffic);
#  4. web resolves a name through fw's DNS; `vitrailctl set bank firewall
#     'allow NAME:PORT/tcp'` (NAME in fw's /etc/hosts) lets bank through at
#     once, without a restart;
#  5. kill -9 of fw's QEMU: web's link goes down and it cannot fetch; web
#     keeps running; `vitrailctl start fw` brings its network back.
# Figures on stderr: fw boot to rules applied, QEMU RSS of fw.
# The template as in test-appvm.sh. Exit 77 (skip) without QEMU or template.
: "${TEST_LIB:?run through meson test}"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "qemu-system-x86_64 is not installed: skipped"
	exit 77
fi
export E2E_TIMEOUT=${VM_TIMEOUT:-240}
. "$TEST_LIB/harness.sh" || exit 2

vm_cleanup_extra() {
	[ -n "${HTTP_PID:-}" ] && kill "$HTTP_PID" 2>/dev/null
	true
}
. "$TEST_LIB/vm.sh" || exit 2
debian_template

# the page, on the host's loopback only
mkdir -p "$T/www"
marker="vitrail-service-vm-$RANDOM$RANDOM"
echo "$marker" >"$T/www/page.html"
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$PY -m http.server --bind 127.0.0.1 --directory "$T/www" "$port" >"$T/http.log" 2>&1 &
HTTP_PID=$!
wait_for "the test HTTP server" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"

qemu-img create -q -f qcow2 -b "$tdir/disk.qcow2" -F qcow2 "$T/template.qcow2" ||
	fail "qemu-img create of the template overlay failed"
write_config "$T/vitrail.ini" <<INI
[vm debian-12]
label = gray
type = qemu
image = $T/template.qcow2
kernel = $tdir/vmlinuz
initrd = $tdir/initrd.img
append = root=/dev/vda rw console=ttyS0

[vm net]
label = red
type = qemu
template = debian-12
service = net
network = user
memory = ${NET_MEMORY:-256}

[vm fw]
label = orange
type = qemu
template = debian-12
service = firewall
network = via:net
memory = ${FW_MEMORY:-256}

[vm web]
label = blue
type = qemu
template = debian-12
network = via:fw
firewall = allow 10.0.2.2:$port/tcp
firewall-default = deny

[vm bank]
label = green
type = qemu
template = debian-12
network = via:fw
firewall-default = deny
INI
"$VITRAIL" --check-config --config "$T/vitrail.ini" >/dev/null || fail "config refused"
start_vitrail "$T/vitrail.ini"

# in VM: get the page through its network (exit 0 if the marker came back)
fetch() {
	ctl run "$1" -- timeout 8 bash -c "exec 3<>/dev/tcp/10.0.2.2/$port &&
		printf 'GET /page.html HTTP/1.0\r\n\r\n' >&3 && grep -q $marker <&3" 2>/dev/null
}
# in VM: a TCP connection to ADDR PORT
connects() {
	ctl run "$1" -- timeout 8 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null
}
# until CMD... succeeds (at most SECONDS)
within() {
	local secs=$1 deadline
	shift
	deadline=$((SECONDS + secs))
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		vitrail_alive || fail "vitrail died"
		sleep 1
	done
}
firewall_json() {
	ctl firewall "$1" --json >"$T/fw-$1.json" || fail "vitrailctl firewall $1 failed"
}

# ---- 1. web starts fw first; web gets the page
t0=$SECONDS
ctl start web >/dev/null || fail "vitrailctl start web failed"
for v in fw net; do
	s=$(vm_field $v state)
	[ "$s" = starting ] || [ "$s" = running ] || fail "$v is $s after web started"
done
ctl start bank >/dev/null || fail "vitrailctl start bank failed"
wait_state fw running
log "fw: agent connected $((SECONDS - t0)) s after start"
within 200 bash -c "$VITRAILCTL firewall web --json | grep -q '\"state\": *\"applied\"'" ||
	fail "fw never applied the rules: $(ctl firewall web)"
ctl windows --json >"$T/win.json" || fail "vitrailctl windows failed"
json_check "$T/win.json" "not [w for w in d if w['vm'] in ('fw', 'net')]" "a service VM shows a window"
for v in net fw; do
	ctl run $v -- sh -c "grep -E 'MemTotal|MemAvailable' /proc/meminfo | tr -s ' \n' ' ' | sed 's/^/vitrail-mem: /' | sudo tee /dev/ttyS0" >/dev/null ||
		fail "cannot read $v's memory"
	within 10 bash -c "$VITRAILCTL logs $v | grep -q vitrail-mem:" || fail "no memory line from $v"
	log "$v (memory = $(sed -n "/^\[vm $v\]/,/^\[/s/^memory = //p" "$T/vitrail.ini") MiB): in the guest $(ctl logs $v | grep -o 'vitrail-mem:.*' | tail -n 1 | cut -c14-); QEMU RSS $(($(awk '/VmRSS/ { print $2 }' "/proc/$(vm_field $v pid)/status") / 1024)) MiB"
done
log "fw: rules applied $((SECONDS - t0)) s after start"
within 200 fetch web || fail "web never got the page through fw: $(ctl firewall web)"
log "web: page fetched through fw $((SECONDS - t0)) s after start"
firewall_json web
json_check "$T/fw-web.json" "d['via'] == 'fw' and d['link'] == 2 and d['address'] == '10.139.2.2' and d['link_up'] and d['rules'] == ['10.0.2.2:$port/tcp'] and d['default'] == 'deny'" "web's firewall state"
grep -q "GET /page.html" "$T/http.log" || fail "the server saw no request"

# ---- 2. bank: network up, the page denied, the drop counter rises
within 120 connects bank 10.139.3.1 53 || fail "bank never reached fw's DNS listener"
firewall_json bank
before=$(json_get "$T/fw-bank.json" "d['dropped_packets'] or 0")
! fetch bank || fail "bank got the page although its default is deny"
within 30 bash -c "[ \$($VITRAILCTL firewall bank --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"dropped_packets\"] or 0)') -gt $before ]" ||
	fail "bank's drop counter did not rise: $(ctl firewall bank)"
ctl firewall bank >"$T/fw-bank.txt" || fail "vitrailctl firewall bank failed"
grep -q "deny everything else" "$T/fw-bank.txt" || fail "firewall text: $(cat "$T/fw-bank.txt")"

# ---- 3. no client-to-client traffic
ctl run bank -- sh -c 'nohup nc -lk 9000 >/dev/null 2>&1 &' || fail "cannot start a listener in bank"
within 30 connects bank 127.0.0.1 9000 || fail "bank's listener is not up"
! connects web 10.139.3.2 9000 || fail "web reached a listener in bank"

# ---- 4. a rule changed live, naming a host that fw resolves; the clients
# resolve names through fw too
ctl run fw -- sudo sh -c "echo '10.0.2.2 pages.test' >>/etc/hosts" || fail "cannot edit fw's /etc/hosts"
within 60 ctl run web -- getent hosts pages.test || fail "web cannot resolve a name through fw"
ctl --config "$T/vitrail.ini" set bank firewall "allow pages.test:$port/tcp" >/dev/null ||
	fail "vitrailctl set bank firewall failed"
grep -qx "firewall = allow pages.test:$port/tcp" "$T/vitrail.ini" || fail "the config file was not changed"
within 60 fetch bank || fail "bank still cannot get the page after the rule change: $(ctl firewall bank)"
firewall_json bank
json_check "$T/fw-bank.json" "d['rules'] == ['pages.test:$port/tcp'] and d['state'] == 'applied'" "bank's new rule"
rc=0
ctl --config "$T/vitrail.ini" set bank firewall "allow 10.0.0.1/8" 2>"$T/set.err" || rc=$?
[ $rc -ne 0 ] || fail "a bad rule was accepted"
grep -q "10.0.0.1/8" "$T/set.err" || fail "unclear refusal: $(cat "$T/set.err")"

# ---- 5. fw killed: web's network is cut, web runs on; fw back: network back
fw_pid=$(vm_field fw pid)
web_pid=$(vm_field web pid)
kill -KILL "$fw_pid"
wait_state fw crashed
within 30 bash -c "$VITRAILCTL firewall web --json | grep -q '\"link_up\": *false'" ||
	fail "web's link is still up with fw gone: $(ctl firewall web)"
! fetch web || fail "web got the page with fw dead"
[ "$(vm_field web state)" = running ] && [ "$(vm_field web pid)" = "$web_pid" ] ||
	fail "web did not keep running when fw died"
t1=$SECONDS
ctl start fw >/dev/null || fail "vitrailctl start fw failed"
within 200 fetch web || fail "web's network did not come back with fw: $(ctl firewall web)"
log "fw restarted: web fetches again $((SECONDS - t1)) s later"
ctl windows --json >"$T/win.json" || fail "vitrailctl windows failed"
json_check "$T/win.json" "not [w for w in d if w['vm'] in ('fw', 'net')] and [w for w in d if w['vm'] == 'web']" "windows at the end: fw and net none, web its terminal"
pass
