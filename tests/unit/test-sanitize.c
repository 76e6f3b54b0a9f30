/*
 * The display-string sanitizer (protocol/sanitize.c, README section 9):
 * whatever goes in, what comes out is valid, visible text within the
 * limit, and passes the host's decoder.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- against the whole Unicode data (package unicode-data) ---- */

#define N_CODE_POINTS 0x110000

/* Mark in set every code point that the file's lines give for prop: in
 * DerivedCoreProperties.txt "X..Y ; prop", in UnicodeData.txt field 2 (the
 * general category) equal to prop. Returns how many lines matched. */
static int mark(const char *file, const char *prop, bool unicode_data, uint8_t *set, uint8_t bit)
{
	char path[512], line[1024];
	int matched = 0;

	snprintf(path, sizeof(path), "%s/%s", UNICODE_DIR, file);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: install the package unicode-data", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned first, last;
		char *field = line;
		if (line[0] == '#' || line[0] == '\n') {
			continue;
		}
		if (unicode_data) {
			/* code;name;category;... */
			char *a = strchr(line, ';'), *b = a != NULL ? strchr(a + 1, ';') : NULL;
			char *c = b != NULL ? strchr(b + 1, ';') : NULL;
			if (c == NULL || (size_t)(c - b - 1) != strlen(prop) ||
				strncmp(b + 1, prop, strlen(prop)) != 0) {
				continue;
			}
			/* "<..., First>" then "<..., Last>": a range */
			static unsigned range_first;
			static bool in_range;
			last = (unsigned)strtoul(line, NULL, 16);
			first = in_range ? range_first : last;
			in_range = false;
			if (strstr(line, ", First>;") != NULL) {
				range_first = last;
				in_range = true;
				continue;
			}
		} else {
			char *semi = strchr(line, ';');
			if (semi == NULL || strstr(semi, prop) == NULL) {
				continue;
			}
			first = (unsigned)strtoul(field, &field, 16);
			last = strncmp(field, "..", 2) == 0 ? (unsigned)strtoul(field + 2, NULL, 16)
							    : first;
		}
		for (unsigned cp = first; cp <= last && cp < N_CODE_POINTS; cp++) {
			set[cp] |= bit;
		}
		matched++;
	}
	fclose(f);
	return matched;
}

static size_t put_utf8(uint32_t cp, char *buf)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xc0 | (cp >> 6));
		buf[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | (cp >> 12));
		buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | (cp >> 18));
	buf[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	buf[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	buf[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* "a" CP "b" through the sanitizer */
static const char *around(uint32_t cp)
{
	char in[8] = "a";
	size_t n = 1 + put_utf8(cp, in + 1);
	in[n++] = 'b';
	vtp_sanitize_display_string(in, n, VTP_MAX_TITLE, out, sizeof(out));
	return out;
}

Test(sanitize, every_invisible_code_point_of_the_unicode_data_is_dropped)
{
	enum { INVISIBLE = 1, VISIBLE = 2 };
	uint8_t *set = calloc(N_CODE_POINTS, 1);
	cr_assert_not_null(set);
	cr_assert_gt(mark("DerivedCoreProperties.txt", "Default_Ignorable_Code_Point", false, set,
			     INVISIBLE),
		10);
	cr_assert_gt(mark("UnicodeData.txt", "Cf", true, set, INVISIBLE), 100);
	mark("UnicodeData.txt", "Zl", true, set, INVISIBLE);
	mark("UnicodeData.txt", "Zp", true, set, INVISIBLE);
	/* letters, digits, punctuation and symbols: what people read */
	static const char *const visible[] = { "Lu", "Ll", "Lt", "Lo", "Nd", "Po", "Sm", "So" };
	for (size_t i = 0; i < sizeof(visible) / sizeof(*visible); i++) {
		cr_assert_gt(mark("UnicodeData.txt", visible[i], true, set, VISIBLE), 10);
	}

	size_t dropped = 0, kept = 0;
	for (uint32_t cp = 0xa0; cp < N_CODE_POINTS; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff) {
			continue; /* surrogates are not text */
		}
		if (set[cp] & INVISIBLE) {
			cr_expect_str_eq(around(cp), "ab", "U+%04X is invisible but kept", cp);
			cr_expect(vtp_sanitize_is_invisible(cp), "U+%04X", cp);
			dropped++;
		} else if (set[cp] & VISIBLE) {
			cr_expect_neq(
				strcmp(around(cp), "ab"), 0, "U+%04X is visible but dropped", cp);
			kept++;
		}
	}
	/* the Hangul and musical fillers the attack suite found, and tags */
	static const uint32_t found[] = { 0x00ad, 0x034f, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180b,
		0x3164, 0xffa0, 0xfff0, 0x1d173, 0x1d17a, 0xe0001, 0xe007f, 0xfe0f, 0xe0100 };
	for (size_t i = 0; i < sizeof(found) / sizeof(*found); i++) {
		cr_expect(set[found[i]] & INVISIBLE, "U+%04X not in the data", found[i]);
		cr_expect_str_eq(around(found[i]), "ab", "U+%04X", found[i]);
	}
	cr_expect_gt(dropped, 4000);
	cr_expect_gt(kept, 30000, "%zu visible code points checked", kept);
	free(set);
}
