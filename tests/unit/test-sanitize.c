/*
 * The display-string sanitizer (protocol/sanitize.c, README section 9):
 * whatever goes in, what comes out is valid, visible text within the
 * limit, and passes the host's decoder.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <vitrail/protocol.h>

static char out[VTP_MAX_TITLE + 1];

static const char *clean(const char *in, size_t max)
{
	vtp_sanitize_display_string(in, in != NULL ? strlen(in) : 0, max, out, sizeof(out));
	return out;
}

#define FFFD "\xef\xbf\xbd"

Test(sanitize, plain_text_is_kept)
{
	cr_assert_str_eq(clean("vim - notes.txt", VTP_MAX_TITLE), "vim - notes.txt");
	cr_assert_str_eq(clean("Grüße, 日本語 🎉", VTP_MAX_TITLE), "Grüße, 日本語 🎉");
	/* U+00A0 and U+2800 are visible (or spacing) and kept */
	cr_assert_str_eq(clean("a\xc2\xa0"
			       "b\xe2\xa0\x80",
				 VTP_MAX_TITLE),
		"a\xc2\xa0"
		"b\xe2\xa0\x80");
}

Test(sanitize, null_and_empty)
{
	cr_assert_eq(vtp_sanitize_display_string(NULL, 10, 10, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(clean("", 10), "");
	/* no room at all: nothing written, nothing returned */
	cr_assert_eq(vtp_sanitize_display_string("abc", 3, 10, out, 0), 0);
}

Test(sanitize, whitespace_controls_become_spaces)
{
	cr_assert_str_eq(clean("a\tb\nc\rd", VTP_MAX_TITLE), "a b c d");
}

Test(sanitize, other_controls_become_replacement)
{
	cr_assert_str_eq(clean("a\x1b[31mb", VTP_MAX_TITLE), "a" FFFD "[31mb");
	cr_assert_str_eq(clean("x\x7fy", VTP_MAX_TITLE), "x" FFFD "y");
	cr_assert_str_eq(clean("x\x0b\x0cy", VTP_MAX_TITLE), "x" FFFD FFFD "y");
	/* U+0085 (C1 NEL), U+009F */
	cr_assert_str_eq(clean("x\xc2\x85y\xc2\x9f", VTP_MAX_TITLE), "x" FFFD "y" FFFD);
	/* a NUL inside the given length */
	vtp_sanitize_display_string("a\0b", 3, 100, out, sizeof(out));
	cr_assert_str_eq(out, "a" FFFD "b");
}

Test(sanitize, invalid_utf8_becomes_replacement)
{
	cr_assert_str_eq(clean("\xff", VTP_MAX_TITLE), FFFD);
	/* overlong '/' */
	cr_assert_str_eq(clean("\xc0\xaf", VTP_MAX_TITLE), FFFD FFFD);
	/* a surrogate */
	cr_assert_str_eq(clean("\xed\xa0\x80z", VTP_MAX_TITLE), FFFD FFFD FFFD "z");
	/* truncated sequence at the end */
	cr_assert_str_eq(clean("ok\xe2\x82", VTP_MAX_TITLE), "ok" FFFD FFFD);
	/* above U+10FFFF */
	cr_assert_str_eq(clean("\xf4\x90\x80\x80", 12), FFFD FFFD FFFD FFFD);
}

Test(sanitize, format_and_ignorable_characters_are_dropped)
{
	/* bidi: RLO, LRE..PDF, LRM, RLM, ALM, isolates */
	cr_assert_str_eq(clean("invoice\xe2\x80\xae"
			       "fdp.exe",
				 VTP_MAX_TITLE),
		"invoicefdp.exe");
	cr_assert_str_eq(clean("a\xe2\x80\xaa\xe2\x80\xac"
			       "b\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c"
			       "c\xe2\x81\xa6\xe2\x81\xa9"
			       "d",
				 VTP_MAX_TITLE),
		"abcd");
	/* zero width space/joiners, word joiner, BOM, soft hyphen */
	cr_assert_str_eq(clean("p\xe2\x80\x8b"
			       "a\xe2\x80\x8d"
			       "y\xe2\x81\xa0"
			       "p\xef\xbb\xbf"
			       "a\xc2\xad"
			       "l",
				 VTP_MAX_TITLE),
		"paypal");
	/* line and paragraph separators */
	cr_assert_str_eq(clean("a\xe2\x80\xa8"
			       "b\xe2\x80\xa9"
			       "c",
				 VTP_MAX_TITLE),
		"abc");
	/* default-ignorable, not Cf: CGJ, Hangul fillers, variation selectors */
	cr_assert_str_eq(clean("x\xcd\x8fx\xe1\x85\x9fx\xe3\x85\xa4x\xef\xbe\xa0x\xef\xb8\x8fx",
				 VTP_MAX_TITLE),
		"xxxxxx");
	/* tags and variation selectors supplement (plane 14), U+E0FFF */
	cr_assert_str_eq(
		clean("t\xf3\xa0\x80\x81t\xf3\xa0\x84\x80t\xf3\xa0\xbf\xbft", VTP_MAX_TITLE),
		"tttt");
	/* just outside the ranges: kept */
	cr_assert(!vtp_sanitize_is_invisible(0x200a));
	cr_assert(!vtp_sanitize_is_invisible(0x2027));
	cr_assert(!vtp_sanitize_is_invisible(0x2070));
	cr_assert(!vtp_sanitize_is_invisible(0xfffc));
	cr_assert(!vtp_sanitize_is_invisible(0xfffd));
	cr_assert(!vtp_sanitize_is_invisible(0xe1000));
	cr_assert(!vtp_sanitize_is_invisible('a'));
	cr_assert(vtp_sanitize_is_invisible(0x00ad));
	cr_assert(vtp_sanitize_is_invisible(0xe0fff));
}

Test(sanitize, dropped_characters_cost_nothing)
{
	/* "ab" + RLO: the RLO is dropped, so a 2-byte limit keeps "ab" */
	cr_assert_str_eq(clean("a\xe2\x80\xae"
			       "b",
				 2),
		"ab");
}

Test(sanitize, cut_on_a_code_point_boundary)
{
	/* "aé": 'a' + 2 bytes; a 2-byte limit keeps only 'a' */
	cr_assert_str_eq(clean("a\xc3\xa9", 2), "a");
	cr_assert_str_eq(clean("a\xc3\xa9", 3), "a\xc3\xa9");
	/* a replacement character that does not fit is dropped whole */
	cr_assert_str_eq(clean("ab\xff", 4), "ab");
	cr_assert_eq(strlen(clean("0123456789", 4)), 4);
	/* nothing after the cut, even if it would fit */
	cr_assert_str_eq(clean("a\xe2\x82\xac"
			       "b",
				 3),
		"a");
	cr_assert_str_eq(clean("abc", 0), "");
}

Test(sanitize, output_buffer_bounds_the_length)
{
	char small[4];
	cr_assert_eq(vtp_sanitize_display_string("abcdef", 6, 100, small, sizeof(small)), 3);
	cr_assert_str_eq(small, "abc");
}

Test(sanitize, long_title_fits_the_limit)
{
	static char in[4 * VTP_MAX_TITLE];
	for (size_t i = 0; i + 3 < sizeof(in); i += 3) {
		memcpy(in + i, "\xe2\x82\xac", 3); /* euro signs */
	}
	size_t n = vtp_sanitize_display_string(in, strlen(in), VTP_MAX_TITLE, out, sizeof(out));
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
			in[i] = (char)b;
		}
		size_t max = 1 + rng() % 200;
		size_t n = vtp_sanitize_display_string(in, len, max, out, sizeof(out));
		cr_assert_leq(n, max);
		cr_assert_eq(strlen(out), n);
		cr_assert_eq(vtp_check_display_string((const uint8_t *)out, n), VTP_OK,
			"round %d: sanitized text rejected", round);
		/* nothing the sanitizer drops survives it */
		for (size_t i = 0; i < n;) {
			uint32_t cp;
			size_t k = vtp_utf8_decode((const uint8_t *)out + i, n - i, &cp);
			cr_assert_gt(k, 0);
			cr_assert_not(
				vtp_sanitize_is_invisible(cp), "round %d: U+%04X kept", round, cp);
			i += k;
		}
	}
}
