/*
 * The agent's string sanitizer: whatever a guest app puts in a title or
 * app id, what the agent sends passes the host's decoder and fits the limit.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <vitrail/protocol.h>

#include "sanitize.h"

static char out[VTP_MAX_TITLE + 1];

static const char *clean(const char *in, size_t max)
{
	sanitize_display_string(in, max, out, sizeof(out));
	return out;
}

Test(sanitize, plain_text_is_kept)
{
	cr_assert_str_eq(clean("vim - notes.txt", VTP_MAX_TITLE), "vim - notes.txt");
	cr_assert_str_eq(clean("Grüße, 日本語 🎉", VTP_MAX_TITLE), "Grüße, 日本語 🎉");
}

Test(sanitize, null_and_empty)
{
	cr_assert_eq(sanitize_display_string(NULL, 10, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(clean("", 10), "");
}

Test(sanitize, whitespace_controls_become_spaces)
{
	cr_assert_str_eq(clean("a\tb\nc\rd", VTP_MAX_TITLE), "a b c d");
}

Test(sanitize, other_controls_become_replacement)
{
	cr_assert_str_eq(clean("a\x1b[31mb", VTP_MAX_TITLE), "a\xef\xbf\xbd[31mb");
	cr_assert_str_eq(clean("x\x7fy", VTP_MAX_TITLE), "x\xef\xbf\xbdy");
	/* U+0085 (C1 NEL) */
	cr_assert_str_eq(clean("x\xc2\x85y", VTP_MAX_TITLE), "x\xef\xbf\xbdy");
}

Test(sanitize, invalid_utf8_becomes_replacement)
{
	cr_assert_str_eq(clean("\xff", VTP_MAX_TITLE), "\xef\xbf\xbd");
	/* overlong '/' */
	cr_assert_str_eq(clean("\xc0\xaf", VTP_MAX_TITLE), "\xef\xbf\xbd\xef\xbf\xbd");
	/* a surrogate */
	cr_assert_str_eq(
		clean("\xed\xa0\x80z", VTP_MAX_TITLE), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
	/* truncated sequence at the end */
	cr_assert_str_eq(clean("ok\xe2\x82", VTP_MAX_TITLE), "ok\xef\xbf\xbd\xef\xbf\xbd");
	/* above U+10FFFF */
	cr_assert_str_eq(
		clean("\xf4\x90\x80\x80", 12), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

Test(sanitize, cut_on_a_code_point_boundary)
{
	/* "aé": 'a' + 2 bytes; a 2-byte limit keeps only 'a' */
	cr_assert_str_eq(clean("a\xc3\xa9", 2), "a");
	cr_assert_str_eq(clean("a\xc3\xa9", 3), "a\xc3\xa9");
	/* a replacement character that does not fit is dropped whole */
	cr_assert_str_eq(clean("ab\xff", 4), "ab");
	cr_assert_eq(strlen(clean("0123456789", 4)), 4);
}

Test(sanitize, output_buffer_bounds_the_length)
{
	char small[4];
	cr_assert_eq(sanitize_display_string("abcdef", 100, small, sizeof(small)), 3);
	cr_assert_str_eq(small, "abc");
}

Test(sanitize, long_title_fits_the_limit)
{
	static char in[4 * VTP_MAX_TITLE];
	for (size_t i = 0; i + 3 < sizeof(in); i += 3) {
		memcpy(in + i, "\xe2\x82\xac", 3); /* euro signs */
	}
	size_t n = sanitize_display_string(in, VTP_MAX_TITLE, out, sizeof(out));
	cr_assert_leq(n, VTP_MAX_TITLE);
	cr_assert_eq(n % 3, 0);
	cr_assert_eq(vtp_check_display_string((const uint8_t *)out, n), VTP_OK);
}

/* xorshift64*, fixed seed: reproducible random bytes */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

Test(sanitize, random_bytes_always_pass_the_host_decoder)
{
	char in[300];
	for (int round = 0; round < 20000; round++) {
		size_t len = rng() % (sizeof(in) - 1);
		for (size_t i = 0; i < len; i++) {
			uint8_t b = (uint8_t)rng();
			/* bias towards UTF-8 lead and continuation bytes */
			if (rng() % 3 == 0) {
				b = (uint8_t)(0x80 | (b & 0x7f));
			}
			in[i] = b == 0 ? 'x' : (char)b;
		}
		in[len] = '\0';
		size_t max = 1 + rng() % 200;
		size_t n = sanitize_display_string(in, max, out, sizeof(out));
		cr_assert_leq(n, max);
		cr_assert_eq(strlen(out), n);
		cr_assert_eq(vtp_check_display_string((const uint8_t *)out, n), VTP_OK,
			"round %d: sanitized text rejected", round);
	}
}
