/*
 * The host-created shared pool of a VM (local or QEMU): a sealed memfd.
 */
#define _GNU_SOURCE
#include <vitrail/protocol.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define POOL_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int vtp_pool_memfd_create(const char *name, uint64_t size)
{
	int fd;

	if (size == 0 || size > VTP_MAX_POOL_SIZE) {
		return -1;
	}
	fd = memfd_create(name ? name : "vitrail-pool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		return -1;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		goto error;
	}
	if (fcntl(fd, F_ADD_SEALS, POOL_SEALS) < 0) {
		goto error;
	}
	return fd;

error:
	close(fd);
	return -1;
}

uint64_t vtp_pool_sealed_size(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);
	struct stat st;
	if (seals < 0 || (seals & POOL_SEALS) != POOL_SEALS || fstat(fd, &st) < 0 ||
		!S_ISREG(st.st_mode) || st.st_size <= 0 ||
		(uint64_t)st.st_size > VTP_MAX_POOL_SIZE) {
		return 0;
	}
	return (uint64_t)st.st_size;
}
