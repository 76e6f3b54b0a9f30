/*
 * The display-string sanitizer: the one rule for turning a guest's (or any
 * untrusted) string into text that is safe to show. The exact character
 * set is specified in protocol/README.md, section 9.
 */
#include <vitrail/protocol.h>

#include <string.h>

struct range {
	uint32_t first, last;
};

/*
 * Default_Ignorable_Code_Point and general categories Cf, Zl, Zp, generated
 * at build time from the Unicode data Debian ships (gen-invisible.py);
 * C0, DEL and C1 are handled apart.
 */
#include "sanitize_invisible.h"

bool vtp_sanitize_is_invisible(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(invisible) / sizeof(invisible[0]);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < invisible[mid].first) {
			hi = mid;
		} else if (cp > invisible[mid].last) {
			lo = mid + 1;
		} else {
			return true;
		}
	}
	return false;
}

size_t vtp_sanitize_display_string(
	const char *untrusted, size_t len, size_t max_bytes, char *out, size_t out_cap)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	const uint8_t *s = (const uint8_t *)untrusted;
	size_t limit, i = 0, o = 0;

	if (out == NULL || out_cap == 0) {
		return 0;
	}
	if (s == NULL) {
		len = 0;
	}
	limit = max_bytes < out_cap - 1 ? max_bytes : out_cap - 1;
	while (i < len) {
		uint32_t cp = 0;
		size_t n = vtp_utf8_decode(s + i, len - i, &cp);
		const char *piece;
		size_t piece_len;

		if (n == 0) {
			/* not the start of a valid sequence: one byte, one U+FFFD */
			piece = replacement;
			piece_len = 3;
			n = 1;
		} else if (cp == '\t' || cp == '\n' || cp == '\r') {
			piece = " ";
			piece_len = 1;
		} else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
			piece = replacement; /* C0 (NUL included), DEL, C1 */
			piece_len = 3;
		} else if (vtp_sanitize_is_invisible(cp)) {
			i += n;
			continue;
		} else {
			piece = (const char *)s + i;
			piece_len = n;
		}
		if (o + piece_len > limit) {
			break; /* cut on a code point boundary, never inside one */
		}
		memcpy(out + o, piece, piece_len);
		o += piece_len;
		i += n;
	}
	out[o] = '\0';
	return o;
}
