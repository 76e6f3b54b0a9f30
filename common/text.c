#include <vitrail/common/text.h>

#include <stdio.h>
#include <stdlib.h>

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

char *text_vprintf(const char *fmt, va_list args)
{
	va_list copy;
	va_copy(copy, args);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0) {
		return NULL;
	}
	char *s = malloc((size_t)n + 1);
	if (s != NULL) {
		vsnprintf(s, (size_t)n + 1, fmt, args);
	}
	return s;
}

char *text_printf(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	char *s = text_vprintf(fmt, args);
	va_end(args);
	return s;
}
