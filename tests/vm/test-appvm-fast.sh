#!/bin/bash
# Fast start of AppVMs of the real Debian 12 template (suite 'vm'):
#  1. work (fast-start = true, network = user, an empty raw private
#     volume) boots "late" the first time: its guest holds its session,
#     vitrail records the template's booted state, hot-plugs the private
#     disk and the NIC and runs /usr/lib/vitrail/activate: the volume is
#     formatted and mounted on /rw, /home and /usr/local, the NIC is up,
#     then the session's foot window comes;
#  2. a file is written to /home; work stops;
#  3. work starts again from the booted state (no boot: no kernel line in
#     its console log): foot comes back, /home is its private volume with
#     the file, its clock is the host's, and the guest's kernel was told it
#     is a new copy (vmgenid);
#  4. the disposable scratch starts from the same state, with no private
#     volume mounted.
# Figures on stderr: first window after the first (recording) start and
# after the restored one.
# The template: as in test-appvm.sh. Exit 77 (skip) without
# qemu-system-x86_64 or a template.
: "${TEST_LIB:?run through meson test}"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "qemu-system-x86_64 is not installed: skipped"
	exit 77
fi
export E2E_TIMEOUT=${VM_TIMEOUT:-150}
. "$TEST_LIB/harness.sh" || exit 2
export XDG_DATA_HOME=$T/data

. "$TEST_LIB/vm.sh" || exit 2
debian_template

qemu-img create -q -f qcow2 -b "$tdir/disk.qcow2" -F qcow2 "$T/template.qcow2" ||
	fail "qemu-img create of the template overlay failed"
truncate -s 1G "$T/work-private.img"
write_config "$T/vitrail.ini" <<INI
[vm debian-12]
label = gray
type = qemu
image = $T/template.qcow2
kernel = $tdir/vmlinuz
initrd = $tdir/initrd.img
append = root=/dev/vda rw console=ttyS0
memory = 1024
cpus = 2

[vm work]
label = blue
type = qemu
template = debian-12
private = $T/work-private.img
network = user
memory = 1024
cpus = 2
fast-start = true

[vm scratch]
label = red
type = qemu
disposable-of = debian-12
memory = 1024
cpus = 2
fast-start = true
INI
start_vitrail "$T/vitrail.ini"
CONSOLE=$XDG_RUNTIME_DIR/vitrail/vms/work.console.log

# ---- 1. the first start records the booted state
t_start=$SECONDS
ctl start work >/dev/null || fail "vitrailctl start work failed"
wait_windows work 1
log "first start (boot, record, plug, activate): foot $((SECONDS - t_start)) s after start"
wait_line "$VITRAIL_ERR" "\\[vm work\\] recorded the booted state" || fail "no booted state"
ctl run work -- grep -q "vitrail.hold=1" /proc/cmdline || fail "the guest was not held"
ctl run work -- sh -c 'mountpoint -q /rw && [ "$(findmnt -n -o SOURCE /rw)" = /dev/vdb ] &&
	findmnt -n -o SOURCE /home | grep -q "^/dev/vdb\[/home\]$"' ||
	fail "/home is not on the hot-plugged private volume"
ctl run work -- sh -c 'ls /sys/class/net | grep -q "^en"' || fail "no NIC was hot-plugged"

# ---- 2. a file in /home; stop
ctl run work -- sh -c 'echo kept >/home/user/kept.txt && sync' || fail "cannot write /home"
ctl stop work >/dev/null || fail "vitrailctl stop work failed"
sleep 5

# ---- 3. from the booted state
t_start=$SECONDS
ctl start work >/dev/null || fail "vitrailctl start work (again) failed"
wait_windows work 1
log "restored start: foot $((SECONDS - t_start)) s after start ($(grep -o 'fast start: itself after [0-9]* ms' "$VITRAIL_ERR" | tail -n 1))"
wait_line "$VITRAIL_ERR" "\\[vm work\\] starting from the booted state" || fail "not restored"
grep -q "Linux version" "$CONSOLE" && fail "the restored AppVM booted"
ctl run work -- grep -qx kept /home/user/kept.txt || fail "the /home file is not there after the restore"
now=$(date +%s)
ctl run work -- sh -c "d=\$((\$(date +%s) - $now)); [ \$d -ge -4 ] && [ \$d -le 4 ]" ||
	fail "the restored guest's clock is off by more than 4 s"
# Debian 12's amd64 kernel has the driver (vitrail(5) says so): a restored
# copy reseeds its random generator
ctl run work -- sh -c 'ls /sys/bus/acpi/drivers/vmgenid | grep -q ":"' ||
	fail "no vmgenid device bound in the guest (the restored copies would share their RNG state)"
ctl stop work >/dev/null || fail "vitrailctl stop work (2) failed"

# ---- 4. a disposable from the same state
ctl start scratch >/dev/null || fail "vitrailctl start scratch failed"
wait_windows scratch 1
wait_line "$VITRAIL_ERR" "\\[vm scratch\\] starting from the booted state" ||
	fail "the disposable did not start from the booted state"
ctl run scratch -- sh -c '! mountpoint -q /rw && [ -s /home/user/.config/vitrail/autostart ]' ||
	fail "the disposable has /rw mounted, or no /home of its own"
ctl stop scratch >/dev/null || fail "vitrailctl stop scratch failed"
pass
