#include "sanitize.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/*
 * Decode one code point at s[0..len). Returns its length in bytes (1..4)
 * and the code point in *cp, or 0 when the sequence is invalid (overlong,
 * surrogate, beyond U+10FFFF, truncated, stray continuation byte).
 */
static size_t decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint8_t c = s[0];
	size_t n;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (len < n) {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0;
		}
		v = (v << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || (v >= 0xd800 && v <= 0xdfff) ||
		v > 0x10ffff) {
		return 0;
	}
	*cp = v;
	return n;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

size_t sanitize_display_string(const char *in, size_t max_bytes, char *out, size_t out_cap)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t len = in != NULL ? strlen(in) : 0;
	size_t limit = max_bytes < out_cap - 1 ? max_bytes : out_cap - 1;
	size_t i = 0, o = 0;

	while (i < len) {
		uint32_t cp = 0;
		size_t n = decode(s + i, len - i, &cp);
		const char *piece;
		size_t piece_len;

		if (n == 0) {
			piece = replacement;
			piece_len = 3;
			n = 1;
		} else if (cp == '\t' || cp == '\n' || cp == '\r') {
			piece = " ";
			piece_len = 1;
		} else if (is_control(cp)) {
			piece = replacement;
			piece_len = 3;
		} else {
			piece = (const char *)s + i;
			piece_len = n;
		}
		if (o + piece_len > limit) {
			break; /* cut on a code point boundary */
		}
		memcpy(out + o, piece, piece_len);
		o += piece_len;
		i += n;
	}
	out[o] = '\0';
	return o;
}
