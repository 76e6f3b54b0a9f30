/*
 * SHA-256 (FIPS 180-4), incremental: the checksum of files sent between
 * VMs, computed while they stream. Written from the standard; no
 * dependencies, so vitrail-open, the agent and the host share it.
 */
#ifndef VITRAIL_SHA256_H
#define VITRAIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct sha256 {
	uint32_t state[8];
	uint64_t length; /* bytes hashed so far */
	uint8_t block[64];
	size_t used; /* bytes in block */
};

void sha256_init(struct sha256 *ctx);
void sha256_update(struct sha256 *ctx, const void *data, size_t len);
void sha256_final(struct sha256 *ctx, uint8_t digest[SHA256_DIGEST_SIZE]);
/* Lower-case hex of a digest into out (65 bytes with the NUL). */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char out[65]);

#endif
