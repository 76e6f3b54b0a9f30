#include "vmm_kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_DEADLINE_MS 3000
#define GUEST_ADDR 0x1000
#define PROBE_PORT 0x10
#define PROBE_VALUE 0x42

/* Exit codes of the probe child. */
enum probe_result {
	PROBE_OK = 0,
	PROBE_NO_DEVICE = 10,
	PROBE_BAD_API,
	PROBE_NO_VM,
	PROBE_NO_MEMORY,
	PROBE_NO_VCPU,
	PROBE_NO_REGS,
	PROBE_RUN_FAILED,
	PROBE_WRONG_EXIT,
};

static const char *result_text(int result)
{
	switch (result) {
	case PROBE_OK:
		return "KVM runs a test guest";
	case PROBE_NO_DEVICE:
		return "cannot open /dev/kvm";
	case PROBE_BAD_API:
		return "/dev/kvm speaks an unknown API version";
	case PROBE_NO_VM:
		return "KVM_CREATE_VM failed";
	case PROBE_NO_MEMORY:
		return "KVM cannot map guest memory";
	case PROBE_NO_VCPU:
		return "KVM_CREATE_VCPU failed";
	case PROBE_NO_REGS:
		return "KVM cannot set vCPU registers";
	case PROBE_RUN_FAILED:
		return "KVM_RUN failed";
	case PROBE_WRONG_EXIT:
		return "the KVM test guest did not run as expected";
	default:
		return "the KVM probe failed";
	}
}

/* Runs in the child: mov al, 0x42; out 0x10, al; hlt. */
static int probe(void)
{
	static const uint8_t code[] = { 0xb0, PROBE_VALUE, 0xe6, PROBE_PORT, 0xf4 };
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		return PROBE_NO_DEVICE;
	}
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		return PROBE_BAD_API;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		return PROBE_NO_VM;
	}
	uint8_t *mem =
		mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		return PROBE_NO_MEMORY;
	}
	memcpy(mem, code, sizeof(code));
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = GUEST_ADDR,
		.memory_size = 0x1000,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		return PROBE_NO_MEMORY;
	}
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		return PROBE_NO_VCPU;
	}
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run)) {
		return PROBE_NO_VCPU;
	}
	struct kvm_run *run =
		mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) {
		return PROBE_NO_VCPU;
	}
	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
		return PROBE_NO_REGS;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) {
		return PROBE_NO_REGS;
	}
	struct kvm_regs regs = { .rip = GUEST_ADDR, .rflags = 0x2 };
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
		return PROBE_NO_REGS;
	}

	bool seen_out = false;
	for (int i = 0; i < 4; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			return PROBE_RUN_FAILED;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
			run->io.port == PROBE_PORT && run->io.size == 1) {
			seen_out = ((uint8_t *)run)[run->io.data_offset] == PROBE_VALUE;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT) {
			return seen_out ? PROBE_OK : PROBE_WRONG_EXIT;
		}
		return PROBE_WRONG_EXIT;
	}
	return PROBE_WRONG_EXIT;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_probe(void)
{
	/* Cheap answer first: no device, no child. */
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		return PROBE_NO_DEVICE;
	}
	pid_t pid = fork();
	if (pid < 0) {
		return -1;
	}
	if (pid == 0) {
		_exit(probe());
	}
	int64_t deadline = now_ms() + PROBE_DEADLINE_MS;
	for (;;) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		if (r < 0 && errno != EINTR) {
			return -1;
		}
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return PROBE_WRONG_EXIT;
		}
		struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

bool vmm_kvm_usable(const char **why)
{
	static bool done;
	static int result;
	if (!done) {
		result = run_probe();
		done = true;
	}
	if (why != NULL) {
		*why = result_text(result);
	}
	return result == PROBE_OK;
}
