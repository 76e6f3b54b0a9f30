# Helpers of the QEMU tests (tests/vm), sourced after harness.sh.
#
# QEMU outlives vitrail by design: whatever the test started goes at its
# exit (vm_cleanup, on the EXIT trap this sets; a test that starts more
# defines vm_cleanup_extra). quick_image sets $image to the quick test
# guest (tools/guest-image: busybox initramfs, the agent, Wayland clients);
# debian_template sets $tdir to the Debian 12 template (tools/guest-template),
# or skips the test (exit 77) without one.

vm_cleanup() {
	local f pid
	for f in "$XDG_RUNTIME_DIR"/vitrail/vms/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null) || continue
		if [ -n "$pid" ] && grep -qF "$XDG_RUNTIME_DIR" "/proc/$pid/cmdline" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	if declare -F vm_cleanup_extra >/dev/null; then
		vm_cleanup_extra
	fi
	true
}
trap 'rc=$?; vm_cleanup; (exit $rc); cleanup' EXIT

# quick_image: $image, the directory of the quick guest's vmlinuz and initrd.img
quick_image() {
	: "${GUEST_IMAGE:?}" "${IMAGE_OUT:?}" "${AGENT:?}"
	image=$("$GUEST_IMAGE" --out "$IMAGE_OUT" --agent "$AGENT" | tail -n 1)
	[ -f "$image/vmlinuz" ] && [ -f "$image/initrd.img" ] || fail "no guest image in '$image'"
}

# debian_template: $tdir, the template's directory (disk.qcow2, vmlinuz,
# initrd.img): VITRAIL_TEST_TEMPLATE (tools/dev test builds it), else, as
# root, tools/guest-template build debian-12 (cached), else the cached one.
debian_template() {
	: "${GUEST_TEMPLATE:?}"
	local disk t_build=$SECONDS
	tdir=${VITRAIL_TEST_TEMPLATE:-}
	if [ -z "$tdir" ] && [ "$(id -u)" -eq 0 ]; then
		disk=$("$GUEST_TEMPLATE" build debian-12 2>"$T/template.err" | tail -n 3 | head -n 1) ||
			fail "tools/guest-template failed: $(tail -n 20 "$T/template.err")"
		tdir=$(dirname "$disk")
		log "debian-12 template: $tdir ($((SECONDS - t_build)) s)"
	fi
	if [ -z "$tdir" ]; then
		tdir=${XDG_CACHE_HOME:-$HOME/.cache}/vitrail/templates/debian-12/current
	fi
	if [ ! -f "$tdir/disk.qcow2" ] || [ ! -f "$tdir/vmlinuz" ] || [ ! -f "$tdir/initrd.img" ]; then
		echo "no debian-12 template in '$tdir' (tools/dev template builds it): skipped"
		exit 77
	fi
}
