#include <vitrail/common/filename.h>

#include <stdio.h>
#include <string.h>
#include <vitrail/protocol.h>

/* Extensions longer than this are not worth keeping when a name is cut. */
#define MAX_KEPT_EXTENSION 32

/* Characters that must not appear in a name someone will read: controls,
 * and what the display-string rule calls invisible (bidi controls and every
 * other format or default-ignorable character: "gpj.exe" tricks). */
static bool unwanted(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
		vtp_sanitize_is_invisible(cp);
}

/* The largest length <= max at which s (valid UTF-8) may be cut. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max) {
		return len;
	}
	size_t cut = max;
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80) {
		cut--;
	}
	return cut;
}

/* Where the extension starts (its '.'), or len when there is none worth keeping. */
static size_t extension_start(const char *s, size_t len)
{
	const char *dot = NULL;
	for (size_t i = 1; i < len; i++) {
		if (s[i] == '.') {
			dot = s + i;
		}
	}
	if (dot == NULL || (size_t)(s + len - dot) > MAX_KEPT_EXTENSION) {
		return len;
	}
	return (size_t)(dot - s);
}

/* Fit stem + tail into max bytes by cutting the stem; write to out. */
static void fit(
	const char *stem, size_t stem_len, const char *tail, size_t tail_len, char *out, size_t cap)
{
	size_t max = cap - 1 < FILENAME_MAX_BYTES ? cap - 1 : FILENAME_MAX_BYTES;
	if (tail_len > max) {
		tail_len = 0;
	}
	stem_len = utf8_cut(stem, stem_len, max - tail_len);
	memmove(out, stem, stem_len);
	memcpy(out + stem_len, tail, tail_len);
	out[stem_len + tail_len] = '\0';
}

void filename_sanitize(const char *untrusted, size_t len, char *out, size_t cap)
{
	/* the last path component */
	for (size_t i = len; i > 0; i--) {
		if (untrusted[i - 1] == '/') {
			untrusted += i;
			len -= i;
			break;
		}
	}
	/* clean into a buffer big enough for the worst case of one '_' per
	 * input byte, but stop early: only the first and last bytes matter */
	char clean[4 * FILENAME_MAX_BYTES + 1];
	char ext[MAX_KEPT_EXTENSION * 3 + 1];
	size_t n = 0, i = 0;
	bool leading = true;
	while (i < len && n + 4 < sizeof(clean)) {
		uint32_t cp = 0;
		size_t seq = vtp_utf8_decode((const uint8_t *)untrusted + i, len - i, &cp);
		if (seq == 0 || unwanted(cp) || cp == '\0') {
			seq = seq == 0 ? 1 : seq;
			if (!leading) {
				clean[n++] = '_';
			}
			i += seq;
			continue;
		}
		if (leading && (cp == '.' || cp == ' ')) {
			i += seq;
			continue;
		}
		leading = false;
		memcpy(clean + n, untrusted + i, seq);
		n += seq;
		i += seq;
	}
	/* a long name keeps the extension of its real end */
	size_t ext_len = 0;
	if (i < len) {
		char tailbuf[MAX_KEPT_EXTENSION + 1];
		size_t from = len - (len - i < MAX_KEPT_EXTENSION ? len - i : MAX_KEPT_EXTENSION);
		size_t t = 0;
		for (size_t j = from; j < len; j++) {
			tailbuf[t++] = untrusted[j];
		}
		tailbuf[t] = '\0';
		const char *dot = strrchr(tailbuf, '.');
		if (dot != NULL) {
			/* sanitize the extension like the rest */
			size_t e = 0;
			for (const char *c = dot; *c != '\0';) {
				uint32_t cp = 0;
				size_t seq = vtp_utf8_decode((const uint8_t *)c, strlen(c), &cp);
				if (seq == 0 || unwanted(cp)) {
					ext[e++] = '_';
					c += seq == 0 ? 1 : seq;
				} else {
					memcpy(ext + e, c, seq);
					e += seq;
					c += seq;
				}
			}
			ext_len = e;
		}
	} else {
		size_t start = extension_start(clean, n);
		ext_len = n - start;
		memcpy(ext, clean + start, ext_len);
		n = start;
	}
	if (n == 0 && ext_len == 0) {
		snprintf(out, cap, "file");
		return;
	}
	if (n == 0) {
		/* only an extension: keep it as the name, without its dot */
		fit(ext + 1, ext_len - 1, "", 0, out, cap);
		return;
	}
	fit(clean, n, ext, ext_len, out, cap);
}

void filename_numbered(const char *name, unsigned n, char *out, size_t cap)
{
	char suffix[24 + MAX_KEPT_EXTENSION * 3];
	size_t len = strlen(name);
	size_t start = extension_start(name, len);
	int s = snprintf(suffix, sizeof(suffix), " (%u)%.*s", n, (int)(len - start), name + start);
	char stem[FILENAME_MAX_BYTES + 1];
	if (start > FILENAME_MAX_BYTES) {
		start = FILENAME_MAX_BYTES;
	}
	memcpy(stem, name, start);
	fit(stem, start, suffix, (size_t)s, out, cap);
}
