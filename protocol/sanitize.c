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
 * Unicode general category Cf (format) and property
 * Default_Ignorable_Code_Point (DerivedCoreProperties.txt), Unicode 15.0,
 * merged and sorted; C0, DEL and C1 are handled apart.
 */
static const struct range invisible[] = {
	{ 0x00ad, 0x00ad }, /* soft hyphen */
	{ 0x034f, 0x034f }, /* combining grapheme joiner */
	{ 0x0600, 0x0605 }, /* Arabic number signs */
	{ 0x061c, 0x061c }, /* Arabic letter mark */
	{ 0x06dd, 0x06dd }, /* Arabic end of ayah */
	{ 0x070f, 0x070f }, /* Syriac abbreviation mark */
	{ 0x0890, 0x0891 }, /* Arabic pound and piastre marks above */
	{ 0x08e2, 0x08e2 }, /* Arabic disputed end of ayah */
	{ 0x115f, 0x1160 }, /* Hangul choseong and jungseong fillers */
	{ 0x17b4, 0x17b5 }, /* Khmer inherent vowels */
	{ 0x180b, 0x180f }, /* Mongolian free variation selectors, vowel separator */
	{ 0x200b, 0x200f }, /* zero width space, ZWNJ, ZWJ, LRM, RLM */
	{ 0x2028, 0x2029 }, /* line and paragraph separators (Zl, Zp) */
	{ 0x202a, 0x202e }, /* bidi embeddings and overrides */
	{ 0x2060, 0x206f }, /* word joiner, invisible operators, bidi isolates, deprecated */
	{ 0x3164, 0x3164 }, /* Hangul filler */
	{ 0xfe00, 0xfe0f }, /* variation selectors */
	{ 0xfeff, 0xfeff }, /* zero width no-break space (BOM) */
	{ 0xffa0, 0xffa0 }, /* halfwidth Hangul filler */
	{ 0xfff0, 0xfffb }, /* reserved, interlinear annotation */
	{ 0x110bd, 0x110bd }, /* Kaithi number sign */
	{ 0x110cd, 0x110cd }, /* Kaithi number sign above */
	{ 0x13430, 0x1343f }, /* Egyptian hieroglyph format controls */
	{ 0x1bca0, 0x1bca3 }, /* shorthand format controls */
	{ 0x1d173, 0x1d17a }, /* musical symbol format controls */
	{ 0xe0000, 0xe0fff }, /* tags, variation selectors supplement, reserved */
};

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
