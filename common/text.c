#include <vitrail/common/text.h>

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool text_looks_like_url(const char *s)
{
	if (!is_alpha(s[0])) {
		return false;
	}
	for (const char *p = s + 1; *p != '\0'; p++) {
		if (*p == ':') {
			return true;
		}
		if (!(is_alpha(*p) || (*p >= '0' && *p <= '9') || *p == '+' || *p == '.' ||
			    *p == '-')) {
			return false;
		}
	}
	return false;
}
