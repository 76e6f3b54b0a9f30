/*
 * Unit tests of the guest side of open-in-VM that need no agent: the name
 * sanitizer for incoming files (common/filename.c), SHA-256 as the tree
 * uses nettle's, and the MIME table (common/mimetype.c).
 */
#include <criterion/criterion.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vitrail/protocol.h>

#include <vitrail/common/filename.h>
#include <vitrail/common/mimetype.h>

static char out[FILENAME_MAX_BYTES + 1];

static const char *clean(const char *in)
{
	filename_sanitize(in, strlen(in), out, sizeof(out));
	return out;
}

/* What every sanitized name must be. */
static void assert_safe(const char *name)
{
	size_t len = strlen(name);
	cr_assert(len >= 1 && len <= FILENAME_MAX_BYTES, "length %zu", len);
	cr_assert_null(strchr(name, '/'));
	cr_assert_neq(name[0], '.');
	cr_assert_str_neq(name, ".");
	cr_assert_str_neq(name, "..");
	/* valid UTF-8 without control characters: a display string */
	cr_assert_eq(vtp_check_display_string((const uint8_t *)name, len), VTP_OK, "'%s'", name);
}

Test(sanitize, path_components)
{
	cr_assert_str_eq(clean("../../x"), "x");
	cr_assert_str_eq(clean("/etc/passwd"), "passwd");
	cr_assert_str_eq(clean("a/b/c.pdf"), "c.pdf");
	cr_assert_str_eq(clean("..\\..\\x"), "\\..\\x"); /* a backslash is no separator */
	cr_assert_str_eq(clean("dir/"), "file");
	cr_assert_str_eq(clean(".."), "file");
	cr_assert_str_eq(clean("."), "file");
	cr_assert_str_eq(clean(""), "file");
	cr_assert_str_eq(clean("..."), "file");
}

Test(sanitize, leading_dots_and_hidden)
{
	cr_assert_str_eq(clean(".bashrc"), "bashrc");
	cr_assert_str_eq(clean("...x"), "x");
	cr_assert_str_eq(clean(" . .x.pdf"), "x.pdf");
	cr_assert_str_eq(clean(".pdf"), "pdf");
	cr_assert_str_eq(clean("report.pdf"), "report.pdf");
	cr_assert_str_eq(clean("a..b"), "a..b");
}

Test(sanitize, control_characters)
{
	cr_assert_str_eq(clean("a\nb"), "a_b");
	cr_assert_str_eq(clean("a\tb\x7f"
			       "c"),
		"a_b_c");
	cr_assert_str_eq(clean("\x1b[31mred.pdf"), "[31mred.pdf");
	cr_assert_str_eq(clean("x\xc2\x85y"), "x_y"); /* C1 NEL */
	cr_assert_str_eq(clean("x\xe2\x80\xaey"), "x_y"); /* U+202E RIGHT-TO-LEFT OVERRIDE */
	/* invisible characters of the display-string rule, not only bidi ones */
	cr_assert_str_eq(clean("p\xc2\xad"
			       "aypal.pdf"),
		"p_aypal.pdf"); /* U+00AD SOFT HYPHEN */
	cr_assert_str_eq(clean("a\xe3\x85\xa4"
			       "b"),
		"a_b"); /* U+3164 HANGUL FILLER */
	cr_assert_str_eq(clean("a\xf3\xa0\x81\x81"
			       "b"),
		"a_b"); /* U+E0041 TAG LATIN A */
	cr_assert_str_eq(clean("a\xf0\x9d\x85\xb3"
			       "b"),
		"a_b"); /* U+1D173 */
	cr_assert_str_eq(clean("x\xe2\x81\xa6y"), "x_y"); /* U+2066 isolate */
	cr_assert_str_eq(clean("caf\xc3\xa9.txt"), "caf\xc3\xa9.txt");
	char with_nul[] = { 'a', '\0', 'b', '.', 't', 'x', 't' };
	filename_sanitize(with_nul, sizeof(with_nul), out, sizeof(out));
	cr_assert_str_eq(out, "a_b.txt");
	assert_safe(out);
}

Test(sanitize, invalid_utf8)
{
	cr_assert_str_eq(clean("a\xff"
			       "b"),
		"a_b");
	cr_assert_str_eq(clean("a\xc0\xaf"
			       "b"),
		"a__b"); /* overlong '/' */
	cr_assert_str_eq(clean("a\xed\xa0\x80"
			       "b"),
		"a___b"); /* surrogate */
	cr_assert_str_eq(clean("a\xe2\x82"), "a__"); /* truncated */
	assert_safe(out);
}

Test(sanitize, long_names)
{
	/* 10 KB of hostility: slashes, controls, dots, and a real extension */
	size_t n = 10 * 1024;
	char *evil = malloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		evil[i] = "../\x01\n\xe2\x80\xae"
			  "ab\xc3\xa9"[i % 12];
	}
	memcpy(evil + n - 4, ".pdf", 4);
	evil[n] = '\0';
	filename_sanitize(evil, n, out, sizeof(out));
	assert_safe(out);
	cr_assert_str_eq(out + strlen(out) - 4, ".pdf");
	/* without the slashes: long, cut to 255 bytes, still a PDF */
	for (size_t i = 0; i < n - 4; i++) {
		if (evil[i] == '/') {
			evil[i] = 'x';
		}
	}
	filename_sanitize(evil, n, out, sizeof(out));
	assert_safe(out);
	cr_assert_gt(strlen(out), 250);
	cr_assert_str_eq(out + strlen(out) - 4, ".pdf");
	free(evil);

	/* multi-byte characters are never cut in the middle */
	char big[1024] = "";
	for (int i = 0; i < 200; i++) {
		strcat(big, "\xc3\xa9"); /* 2 bytes each: 400 bytes */
	}
	strcat(big, ".txt");
	filename_sanitize(big, strlen(big), out, sizeof(out));
	assert_safe(out);
	cr_assert_str_eq(out + strlen(out) - 4, ".txt");
	cr_assert_leq(strlen(out), FILENAME_MAX_BYTES);

	char big3[1024] = "";
	for (int i = 0; i < 100; i++) {
		strcat(big3, "\xe2\x82\xac"); /* 3 bytes each */
	}
	filename_sanitize(big3, strlen(big3), out, sizeof(out));
	assert_safe(out);
	cr_assert_eq(strlen(out), 255); /* 85 whole euro signs */

	/* a long extension is not kept */
	char longext[600];
	memset(longext, 'a', 300);
	longext[300] = '.';
	memset(longext + 301, 'b', 100);
	longext[401] = '\0';
	filename_sanitize(longext, strlen(longext), out, sizeof(out));
	assert_safe(out);
	cr_assert_eq(strlen(out), 255);
}

Test(sanitize, small_buffer)
{
	char small[8];
	filename_sanitize("abcdefghijkl.pdf", 16, small, sizeof(small));
	cr_assert_eq(strlen(small), 7);
	cr_assert_str_eq(small, "abc.pdf");
}

Test(numbered, suffixes)
{
	filename_numbered("report.pdf", 1, out, sizeof(out));
	cr_assert_str_eq(out, "report (1).pdf");
	filename_numbered("report", 12, out, sizeof(out));
	cr_assert_str_eq(out, "report (12)");
	filename_numbered("archive.tar.gz", 2, out, sizeof(out));
	cr_assert_str_eq(out, "archive.tar (2).gz");

	char name[FILENAME_MAX_BYTES + 1];
	memset(name, 'x', 251);
	memcpy(name + 251, ".pdf", 5);
	filename_numbered(name, 9999, out, sizeof(out));
	assert_safe(out);
	cr_assert_eq(strlen(out), 255);
	cr_assert_str_eq(out + 255 - 11, " (9999).pdf");

	/* a stem of multi-byte characters is cut on a boundary */
	name[0] = '\0';
	for (int i = 0; i < 83; i++) {
		strcat(name, "\xe2\x82\xac");
	}
	filename_numbered(name, 3, out, sizeof(out));
	assert_safe(out);
	cr_assert_str_eq(out + strlen(out) - 4, " (3)");
}

static void sha256_hex(const uint8_t d[SHA256_DIGEST_SIZE], char hex[65])
{
	for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++) {
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	}
}

static void sha_hex(const void *data, size_t len, char hex[65])
{
	struct sha256_ctx s;
	uint8_t d[32];
	sha256_init(&s);
	sha256_update(&s, len, (const uint8_t *)data);
	sha256_digest(&s, SHA256_DIGEST_SIZE, d);
	sha256_hex(d, hex);
}

Test(sha256, known_answers)
{
	char hex[65];
	sha_hex("", 0, hex);
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha_hex("abc", 3, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha_hex(two, strlen(two), hex);
	cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

	/* a million 'a', fed in uneven pieces */
	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	struct sha256_ctx s;
	uint8_t d[32];
	sha256_init(&s);
	size_t done = 0, step = 1;
	while (done < 1000000) {
		size_t take = step < 1000000 - done ? step : 1000000 - done;
		sha256_update(&s, take, (const uint8_t *)a + done);
		done += take;
		step = step * 3 % 1021 + 1;
	}
	sha256_digest(&s, SHA256_DIGEST_SIZE, d);
	sha256_hex(d, hex);
	cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);

	/* lengths around the padding boundary agree with one-shot hashing */
	uint8_t buf[130];
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = (uint8_t)(i * 7);
	}
	for (size_t len = 50; len < 130; len++) {
		char h1[65], h2[65];
		sha_hex(buf, len, h1);
		sha256_init(&s);
		for (size_t i = 0; i < len; i++) {
			sha256_update(&s, 1, (const uint8_t *)buf + i);
		}
		sha256_digest(&s, SHA256_DIGEST_SIZE, d);
		sha256_hex(d, h2);
		cr_assert_str_eq(h1, h2, "length %zu", len);
	}
}

Test(mimetype, table)
{
	cr_assert_str_eq(mimetype_from_name("a.pdf"), "application/pdf");
	cr_assert_str_eq(mimetype_from_name("/x/y/A.PDF"), "application/pdf");
	cr_assert_str_eq(mimetype_from_name("photo.jpeg"), "image/jpeg");
	cr_assert_str_eq(mimetype_from_name(".pdf"), "application/octet-stream");
	cr_assert_str_eq(mimetype_from_name("x.unknown"), "application/octet-stream");
	cr_assert_str_eq(mimetype_from_name("noext"), "application/octet-stream");
	cr_assert_str_eq(mimetype_from_name("dir.pdf/file"), "application/octet-stream");
}

static int temp_with(const char *content)
{
	char path[] = "/tmp/vitrail-sniff.XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

Test(mimetype, sniffed_with_libmagic)
{
	char type[VTP_MAX_MIME + 1];
	int fd = temp_with("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n");
	cr_assert(mimetype_sniff_fd(fd, type, sizeof(type)));
	cr_assert_str_eq(type, "application/pdf");
	close(fd);
	fd = temp_with("just some words\n");
	cr_assert(mimetype_sniff_fd(fd, type, sizeof(type)));
	cr_assert_str_eq(type, "text/plain");
	/* too small an output buffer: refused, not cut */
	cr_assert_not(mimetype_sniff_fd(fd, type, 4));
	close(fd);
}
