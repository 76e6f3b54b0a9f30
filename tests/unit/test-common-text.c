/* common/text.c: the URL-or-file guess of vitrailctl open and vitrail-open. */
#include <criterion/criterion.h>
#include <vitrail/common/text.h>

Test(text, urls)
{
	const char *urls[] = {
		"https://example.com/",
		"mailto:someone@example.com",
		"HTTP://EXAMPLE.COM",
		"a:",
		"x-scheme+1.2-3:rest",
		"urn:isbn:0451450523",
	};
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		cr_assert(text_looks_like_url(urls[i]), "%s", urls[i]);
	}
}

Test(text, not_urls)
{
	const char *names[] = {
		"",
		"file.pdf",
		"/tmp/a:b",
		"./x:y",
		"1http://example.com",
		":empty-scheme",
		"my file:1",
		"dir/sub:x",
		"caf\xc3\xa9:x",
		"noscheme",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cr_assert_not(text_looks_like_url(names[i]), "%s", names[i]);
	}
}
