/* Snapshots in vmm-glue without QEMU: the name rule, the volumes, the
 * qcow2 snapshot table reader (against qemu-img), qemu-img on a stopped
 * VM (take, revert, delete, undo of a half-done take), monitor answers. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vitrail/vmm.h>
#include <vitrail/vmm_snapshot.h>

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vt-snap-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void need_qemu_img(void)
{
	if (system("command -v qemu-img >/dev/null 2>&1") != 0) {
		cr_skip_test("qemu-img is not installed");
	}
}

static void sh(const char *fmt, const char *arg)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

static struct vmm_vm *vm_with(
	const char *image, const char *private, const char *disposable_of, const char *qemu_img)
{
	struct vmm_vm_spec spec = {
		.name = "work",
		.run_dir = dir,
		.image = image,
		.kernel = image == NULL && disposable_of == NULL ? "/img/vmlinuz" : NULL,
		.disposable_of = disposable_of,
		.private_image = private,
		.qemu_img = qemu_img,
	};
	char *error = NULL;
	struct vmm_vm *vm = vmm_vm_create(&spec, NULL, NULL, &error);
	cr_assert_not_null(vm, "create failed: %s", error ? error : "?");
	return vm;
}

static char *path_of(const char *name)
{
	static char paths[4][128];
	static int next;
	char *p = paths[next++ % 4];
	snprintf(p, 128, "%s/%s", dir, name);
	return p;
}

/* qemu-img snapshot -l of path lists name */
static bool listed(const char *path, const char *name)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		"qemu-img snapshot -U -l '%s' | awk 'NR > 2 { print $2 }' | grep -qx '%s'", path,
		name);
	return system(cmd) == 0;
}

Test(snapshot, names)
{
	const char *good[] = { "a", "pre-upgrade", "Z.9_x-", "a23456789012345678901234567890bc" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert(vmm_snapshot_name_valid(good[i]), "%s", good[i]);
	}
	const char *bad[] = { "", "1", "1abc", "-a", ".a", "_a", "a b", "a/b", "a,b", "a;b", "a\nb",
		"a\xc3\xa9", "a234567890123456789012345678901bc" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_not(vmm_snapshot_name_valid(bad[i]), "%s", bad[i]);
	}
}

Test(snapshot, volumes, .init = make_dir, .fini = remove_dir)
{
	struct vmm_snapshot_volumes v;
	char *error = NULL;
	struct vmm_vm *vm = vm_with(path_of("root.qcow2"), path_of("private.qcow2"), NULL, NULL);
	cr_assert(vmm_snapshot_volumes(vm, false, &v, &error));
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.role[0], "root");
	cr_assert_str_eq(v.path[1], path_of("private.qcow2"));
	cr_assert_str_eq(v.role[1], "private");
	vmm_vm_destroy(vm);

	/* an AppVM: its overlay only while it runs */
	vm = vm_with(NULL, path_of("private.qcow2"), "/img/template.qcow2", NULL);
	cr_assert(vmm_snapshot_volumes(vm, false, &v, &error));
	cr_assert_eq(v.n, 1);
	cr_assert_str_eq(v.role[0], "private");
	cr_assert(vmm_snapshot_volumes(vm, true, &v, &error));
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.role[0], "overlay");
	cr_assert_str_eq(v.path[0], path_of("work.overlay.qcow2"));
	vmm_vm_destroy(vm);

	/* a disposable without a private volume, stopped */
	vm = vm_with(NULL, NULL, "/img/template.qcow2", NULL);
	cr_assert_not(vmm_snapshot_volumes(vm, false, &v, &error));
	cr_assert(strstr(error, "no disk to snapshot while it is stopped") != NULL, "%s", error);
	free(error);
	error = NULL;
	vmm_vm_destroy(vm);

	/* raw volumes, no volume */
	vm = vm_with(path_of("root.qcow2"), path_of("private.img"), NULL, NULL);
	cr_assert_not(vmm_snapshot_volumes(vm, true, &v, &error));
	cr_assert(strstr(error, "private volume") != NULL && strstr(error, "is raw") != NULL, "%s",
		error);
	free(error);
	error = NULL;
	vmm_vm_destroy(vm);
	vm = vm_with(NULL, NULL, NULL, NULL);
	cr_assert_not(vmm_snapshot_volumes(vm, true, &v, &error));
	cr_assert(strstr(error, "has no disk") != NULL, "%s", error);
	free(error);
	vmm_vm_destroy(vm);
}

Test(snapshot, table_matches_qemu_img, .init = make_dir, .fini = remove_dir)
{
	need_qemu_img();
	const char *root = path_of("root.qcow2");
	const char *private = path_of("private.qcow2");
	sh("qemu-img create -q -f qcow2 '%s' 8M", root);
	sh("qemu-img create -q -f qcow2 -o compat=0.10 '%s' 8M", private); /* version 2 */
	sh("qemu-img snapshot -c both '%s'", root);
	sh("qemu-img snapshot -c both '%s'", private);
	sh("qemu-img snapshot -c 7up '%s'", root); /* not ours to name: left out */
	sh("qemu-img snapshot -c rootonly '%s'", root);
	struct vmm_vm *vm = vm_with(root, private, NULL, NULL);
	struct vmm_snapshot_volumes v;
	struct vmm_snapshot *list = NULL;
	size_t n = 0;
	char *error = NULL;
	cr_assert(vmm_snapshot_list(vm, false, &v, &list, &n, &error), "%s", error);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(list[0].name, "both");
	cr_assert_eq(list[0].volumes, 3u);
	cr_assert_str_eq(list[1].name, "rootonly");
	cr_assert_eq(list[1].volumes, 1u);
	cr_assert_eq(list[0].vm_state_bytes, 0);
	cr_assert(list[0].date > 1700000000 && list[0].date <= list[1].date);
	free(list);
	vmm_vm_destroy(vm);
}

Test(snapshot, table_bounded, .init = make_dir, .fini = remove_dir)
{
	const char *root = path_of("root.qcow2");
	/* not qcow2 at all */
	sh("head -c 4096 /dev/zero >'%s'", root);
	struct vmm_vm *vm = vm_with(root, NULL, NULL, NULL);
	struct vmm_snapshot_volumes v;
	struct vmm_snapshot *list = NULL;
	size_t n = 0;
	char *error = NULL;
	cr_assert_not(vmm_snapshot_list(vm, false, &v, &list, &n, &error));
	cr_assert(strstr(error, "is not a qcow2 volume") != NULL, "%s", error);
	free(error);
	error = NULL;
	/* a header claiming 100000 snapshots */
	unsigned char h[72] = { 0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3 };
	h[60] = 0;
	h[61] = 0x01;
	h[62] = 0x86;
	h[63] = 0xa0;
	int fd = open(root, O_WRONLY | O_TRUNC);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, h, sizeof(h)), (ssize_t)sizeof(h));
	close(fd);
	cr_assert_not(vmm_snapshot_list(vm, false, &v, &list, &n, &error));
	cr_assert(strstr(error, "more than 256") != NULL, "%s", error);
	free(error);
	error = NULL;
	/* one snapshot whose table lies beyond the end of the file */
	h[60] = h[61] = h[62] = 0;
	h[63] = 1;
	h[64] = 0x10; /* offset 2^60 */
	fd = open(root, O_WRONLY | O_TRUNC);
	cr_assert_eq(write(fd, h, sizeof(h)), (ssize_t)sizeof(h));
	close(fd);
	cr_assert_not(vmm_snapshot_list(vm, false, &v, &list, &n, &error));
	cr_assert(strstr(error, "cannot be read") != NULL, "%s", error);
	free(error);
	vmm_vm_destroy(vm);
}

Test(snapshot, offline, .init = make_dir, .fini = remove_dir)
{
	need_qemu_img();
	const char *root = path_of("root.qcow2");
	const char *private = path_of("private.qcow2");
	sh("qemu-img create -q -f qcow2 '%s' 8M", root);
	sh("qemu-img create -q -f qcow2 '%s' 8M", private);
	struct vmm_vm *vm = vm_with(root, private, NULL, NULL);
	char *error = NULL;
	cr_assert(vmm_snapshot_offline(vm, VMM_SNAPSHOT_TAKE, "s1", &error), "%s", error);
	cr_assert(listed(root, "s1") && listed(private, "s1"));
	cr_assert_not(vmm_snapshot_offline(vm, VMM_SNAPSHOT_TAKE, "s1", &error));
	cr_assert(strstr(error, "already has a snapshot s1") != NULL, "%s", error);
	free(error);
	error = NULL;

	/* bytes written after s1 go away with a revert */
	sh("qemu-io -f qcow2 -c 'write -P 0x41 0 4k' '%s' >/dev/null", root);
	sh("qemu-img convert -O raw '%s' '%s.raw' && head -c 1 '%s.raw' | grep -q A", root);
	cr_assert(vmm_snapshot_offline(vm, VMM_SNAPSHOT_REVERT, "s1", &error), "%s", error);
	sh("qemu-img convert -O raw '%s' '%s.raw' && [ -z \"$(head -c 1 '%s.raw' | tr -d '\\0')\" "
	   "]",
		root);

	/* a snapshot missing on one volume is not reverted (two points in time) */
	sh("qemu-img snapshot -c rootonly '%s'", root);
	cr_assert_not(vmm_snapshot_offline(vm, VMM_SNAPSHOT_REVERT, "rootonly", &error));
	cr_assert(strstr(error, "mix two points in time") != NULL, "%s", error);
	free(error);
	error = NULL;
	/* ... but deleted where it is */
	cr_assert(vmm_snapshot_offline(vm, VMM_SNAPSHOT_DELETE, "rootonly", &error), "%s", error);
	cr_assert_not(listed(root, "rootonly"));
	cr_assert(vmm_snapshot_offline(vm, VMM_SNAPSHOT_DELETE, "s1", &error), "%s", error);
	cr_assert_not(listed(root, "s1") || listed(private, "s1"));
	cr_assert_not(vmm_snapshot_offline(vm, VMM_SNAPSHOT_DELETE, "s1", &error));
	cr_assert(strstr(error, "has no snapshot s1") != NULL, "%s", error);
	free(error);
	error = NULL;
	cr_assert_not(vmm_snapshot_offline(vm, VMM_SNAPSHOT_TAKE, "1bad", &error));
	free(error);
	vmm_vm_destroy(vm);
}

/* A take that fails on the second volume is undone on the first. */
Test(snapshot, offline_all_or_nothing, .init = make_dir, .fini = remove_dir)
{
	need_qemu_img();
	const char *root = path_of("root.qcow2");
	const char *private = path_of("private.qcow2");
	const char *fake = path_of("fake-qemu-img");
	sh("qemu-img create -q -f qcow2 '%s' 8M", root);
	sh("qemu-img create -q -f qcow2 '%s' 8M", private);
	FILE *f = fopen(fake, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"#!/bin/sh\n"
		"case \"$*\" in *-c*private.qcow2) echo 'qemu-img: boom' >&2; exit 1;; esac\n"
		"exec qemu-img \"$@\"\n");
	fclose(f);
	chmod(fake, 0755);
	struct vmm_vm *vm = vm_with(root, private, NULL, fake);
	char *error = NULL;
	cr_assert_not(vmm_snapshot_offline(vm, VMM_SNAPSHOT_TAKE, "s1", &error));
	cr_assert(strstr(error, "failed: boom") != NULL, "%s", error);
	free(error);
	cr_assert_not(listed(root, "s1"), "the half-done snapshot stayed on the root volume");
	vmm_vm_destroy(vm);
}

Test(snapshot, outcome)
{
	char why[64];
	cr_assert(vmm_snapshot_outcome(true, "", why, sizeof(why)));
	cr_assert_not(vmm_snapshot_outcome(
		true, "Error: Snapshot 'x' does not exist\r\n", why, sizeof(why)));
	cr_assert_str_eq(why, "Snapshot 'x' does not exist");
	cr_assert_not(vmm_snapshot_outcome(false, "QEMU is gone", why, sizeof(why)));
	cr_assert_str_eq(why, "QEMU is gone");
	cr_assert_not(vmm_snapshot_outcome(false, "", why, sizeof(why)));
	cr_assert_str_eq(why, "QEMU said nothing");
}
