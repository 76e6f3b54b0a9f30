/*
 * Validation helpers shared by the decoder and both sides: display
 * strings, VM names, buffer placement inside the pool.
 */
#include <vitrail/protocol.h>

#include <string.h>

size_t vtp_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n;

	if (len == 0 || s == NULL) {
		return 0;
	}
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
	} else {
		/* 0x80..0xc1 (continuation or overlong lead), 0xf5.. */
		return 0;
	}
	if (len < n) {
		return 0;
	}
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80) {
			return 0;
		}
		c = (c << 6) | (s[k] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000)) {
		return 0; /* overlong */
	}
	if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
		return 0; /* surrogate, or beyond Unicode */
	}
	*cp = c;
	return n;
}

enum vtp_status vtp_check_display_string(const uint8_t *s, size_t len)
{
	size_t i = 0;

	if (len > 0 && s == NULL) {
		return VTP_E_BAD_VALUE;
	}
	while (i < len) {
		uint32_t cp;
		size_t n = vtp_utf8_decode(s + i, len - i, &cp);

		if (n == 0) {
			return VTP_E_UTF8;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
			return VTP_E_CONTROL_CHAR; /* C0, DEL, C1 */
		}
		i += n;
	}
	return VTP_OK;
}

bool vtp_valid_vm_name(const char *name)
{
	size_t len;

	if (name == NULL) {
		return false;
	}
	len = strnlen(name, 33);
	if (len < 1 || len > 32) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			return false;
		}
	}
	return true;
}

enum vtp_status vtp_pool_check_buffer(
	uint64_t pool_size, uint64_t offset, uint32_t width, uint32_t height, uint32_t stride)
{
	uint32_t row;
	uint64_t need, end;

	if (width == 0 || height == 0) {
		return VTP_E_DIMENSIONS;
	}
	if (__builtin_mul_overflow(width, (uint32_t)4, &row)) {
		return VTP_E_OVERFLOW;
	}
	if (stride % 4 != 0 || stride < row) {
		return VTP_E_STRIDE;
	}
	/* The whole stride of every row, the last one included, must lie in
	 * the pool: readers may touch up to stride * height bytes. */
	if (__builtin_mul_overflow((uint64_t)stride, (uint64_t)height, &need)) {
		return VTP_E_OVERFLOW;
	}
	if (__builtin_add_overflow(offset, need, &end)) {
		return VTP_E_OVERFLOW;
	}
	if (offset >= pool_size || end > pool_size) {
		return VTP_E_OUT_OF_POOL;
	}
	return VTP_OK;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool vtp_valid_desktop_id(const char *id, size_t n)
{
	static const char suffix[] = ".desktop";
	const size_t slen = sizeof(suffix) - 1;

	if (id == NULL || n <= slen || n > VTP_MAX_DESKTOP_ID ||
		memcmp(id + n - slen, suffix, slen) != 0 || id[0] == '.' || id[0] == '-') {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!is_alnum(c) && c != '.' && c != '_' && c != '-') {
			return false;
		}
		if (i > 0 && c == '.' && id[i - 1] == '.') {
			return false;
		}
	}
	return true;
}

/* One side of a MIME type: 1..127 restricted-name characters. */
static bool valid_mime_part(const char *s, size_t n)
{
	if (n < 1 || n > 127 || !is_alnum(s[0])) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_alnum(s[i]) && (s[i] == '\0' || strchr("!#$&^_.+-", s[i]) == NULL)) {
			return false;
		}
	}
	return true;
}

bool vtp_valid_mime_type(const char *s, size_t n)
{
	const char *slash = s != NULL ? memchr(s, '/', n) : NULL;

	if (slash == NULL) {
		return false;
	}
	size_t tn = (size_t)(slash - s);
	return valid_mime_part(s, tn) && valid_mime_part(slash + 1, n - tn - 1);
}

bool vtp_valid_file_name(const char *name, size_t n)
{
	if (name == NULL || n < 1 || n > VTP_MAX_FILE_NAME || memchr(name, '/', n) != NULL ||
		(n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.')) {
		return false;
	}
	return vtp_check_display_string((const uint8_t *)name, n) == VTP_OK;
}
