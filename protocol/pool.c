/*
 * The host-created shared pool for a local VM: a sealed memfd.
 */
#define _GNU_SOURCE
#include <vitrail/protocol.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

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
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		goto error;
	}
	return fd;

error:
	close(fd);
	return -1;
}
