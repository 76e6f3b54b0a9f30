#!/bin/bash
# vitrail --check-config and start-up with a bad or missing config.
. "${TEST_LIB:?run through meson test}/harness.sh" || exit 2

"$VITRAIL" --check-config --config "$SOURCE_ROOT/data/vitrail.ini.example" >"$T/o" 2>"$T/e" ||
	fail "the example config does not check: $(cat "$T/e")"

bad=$T/bad.ini
printf '[vm work]\nlabel = blue\n\n[vm work]\nlabel = red\n' >"$bad"
rc=0
"$VITRAIL" --check-config --config "$bad" >"$T/o" 2>"$T/e" || rc=$?
[ $rc -ne 0 ] || fail "--check-config accepted a duplicate VM"
grep -qF "$bad:4: " "$T/e" || fail "--check-config error does not name $bad:4: $(cat "$T/e")"

printf '[vm work]\nlabel = blue\ncolour = red\n' >"$bad"
rc=0
"$VITRAIL" --check-config --config "$bad" >"$T/o" 2>"$T/e" || rc=$?
[ $rc -ne 0 ] && grep -qF "$bad:3: " "$T/e" || fail "unknown key: rc $rc, $(cat "$T/e")"

rc=0
"$VITRAIL" --check-config --config "$T/missing.ini" >"$T/o" 2>"$T/e" || rc=$?
[ $rc -ne 0 ] && grep -qF "$T/missing.ini: cannot open" "$T/e" ||
	fail "missing explicit config: rc $rc, $(cat "$T/e")"

bad2=$T/bad2.ini
# A keymap that does not compile (issue: xkb-layout = zz passed, then vitrail
# exited at start), and files a VM boots from that are missing.
printf '[input]\nrepeat-rate = 30\nxkb-layout = zz\n' >"$bad2"
rc=0
"$VITRAIL" --check-config --config "$bad2" >"$T/o" 2>"$T/e" || rc=$?
[ $rc -ne 0 ] && grep -qF "$bad2:3: the keymap does not compile" "$T/e" || fail "bad keymap: rc $rc, $(cat "$T/e")"
printf '[input]\nxkb-layout = de\nxkb-variant = nodeadkeys\n' >"$T/good.ini"
"$VITRAIL" --check-config --config "$T/good.ini" >"$T/o" 2>"$T/e" || fail "a good keymap: $(cat "$T/e")"
printf '[vm work]\nlabel = blue\ntype = qemu\nkernel = %s\ninitrd = %s\n' "$T/no-vmlinuz" "$T/good.ini" >"$bad2"
rc=0
"$VITRAIL" --check-config --config "$bad2" >"$T/o" 2>"$T/e" || rc=$?
[ $rc -ne 0 ] && grep -qF "$bad2:4: kernel: $T/no-vmlinuz: No such file or directory" "$T/e" ||
	fail "missing kernel: rc $rc, $(cat "$T/e")"
# a local VM's command whose program does not exist (sh -c would say 127)
printf '[vm work]\nlabel = blue\ncommand = no-such-program-vitrail --x\n' >"$bad2"
rc=0
"$VITRAIL" --check-config --config "$bad2" >"$T/o" 2>"$T/e" || rc=$?
[ $rc -ne 0 ] && grep -qF "$bad2:3: command: 'no-such-program-vitrail' is not a program in PATH" "$T/e" ||
	fail "missing command: rc $rc, $(cat "$T/e")"
# shell syntax is left to the shell
printf '[vm work]\nlabel = blue\ncommand = exec sh -c "no-such-program-vitrail"\n' >"$T/good2.ini"
"$VITRAIL" --check-config --config "$T/good2.ini" >"$T/o" 2>"$T/e" || fail "a shell command: $(cat "$T/e")"
printf '[vm work]\nlabel = blue\ntype = qemu\nimage = %s\n' "$T" >"$bad2"
rc=0
"$VITRAIL" --check-config --config "$bad2" >"$T/o" 2>"$T/e" || rc=$?
[ $rc -ne 0 ] && grep -qF "$bad2:4: image: $T: not a regular file" "$T/e" || fail "image is a directory: rc $rc, $(cat "$T/e")"
# vitrail itself starts (the other VMs are fine); the VM says why it cannot
start_vitrail "$bad2"
rc=0
ctl start work >"$T/o" 2>"$T/e" || rc=$?
[ $rc -ne 0 ] && grep -qF "image: $T: not a regular file" "$T/e" || fail "start with a bad image: rc $rc, $(cat "$T/o" "$T/e")"
stop_vitrail

# A missing default config is fine: built-in defaults.
"$VITRAIL" --check-config >"$T/o" 2>"$T/e" || fail "no default config: $(cat "$T/e")"

# vitrail itself refuses to start with a broken config (and says where).
rc=0
timeout "$E2E_TIMEOUT" "$VITRAIL" --headless 640x480 --config "$bad" >"$T/o" 2>"$T/e" || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "vitrail started with a broken config (rc $rc)"
grep -q '^WAYLAND_DISPLAY=' "$T/o" && fail "vitrail printed WAYLAND_DISPLAY with a broken config"
grep -qF "$bad:3: " "$T/e" || fail "vitrail's config error does not name $bad:3"
pass
