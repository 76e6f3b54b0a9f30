/*
 * Validation helpers: display strings, VM names, buffer placement.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <vitrail/protocol.h>

static enum vtp_status chk(const char *s)
{
	return vtp_check_display_string((const uint8_t *)s, strlen(s));
}

Test(check, display_strings_accepted)
{
	cr_assert_eq(vtp_check_display_string(NULL, 0), VTP_OK);
	cr_assert_eq(chk(""), VTP_OK);
	cr_assert_eq(chk("Hello, world ~ !"), VTP_OK);
	cr_assert_eq(chk("\xc2\xa0"), VTP_OK); /* U+00A0, first after C1 */
	cr_assert_eq(chk("caf\xc3\xa9"), VTP_OK);
	cr_assert_eq(chk("\xe2\x82\xac"), VTP_OK); /* euro */
	cr_assert_eq(chk("\xe0\xa0\x80"), VTP_OK); /* U+0800 */
	cr_assert_eq(chk("\xed\x9f\xbf"), VTP_OK); /* U+D7FF */
	cr_assert_eq(chk("\xee\x80\x80"), VTP_OK); /* U+E000 */
	cr_assert_eq(chk("\xef\xbf\xbd"), VTP_OK); /* U+FFFD */
	cr_assert_eq(chk("\xf0\x90\x80\x80"), VTP_OK); /* U+10000 */
	cr_assert_eq(chk("\xf4\x8f\xbf\xbf"), VTP_OK); /* U+10FFFF */
	cr_assert_eq(chk("\xf0\x9f\x98\x80 smile"), VTP_OK);
}

Test(check, display_strings_rejected)
{
	/* every C0 control and DEL */
	for (int c = 0; c < 0x20; c++) {
		uint8_t s[3] = { 'a', (uint8_t)c, 'b' };
		cr_assert_eq(vtp_check_display_string(s, 3), VTP_E_CONTROL_CHAR, "C0 %#x", c);
	}
	cr_assert_eq(chk("\x7f"), VTP_E_CONTROL_CHAR);
	/* every C1 control */
	for (int c = 0x80; c <= 0x9f; c++) {
		uint8_t s[2] = { 0xc2, (uint8_t)c };
		cr_assert_eq(vtp_check_display_string(s, 2), VTP_E_CONTROL_CHAR, "C1 %#x", c);
	}
	cr_assert_eq(chk("\xc0\x80"), VTP_E_UTF8); /* overlong NUL */
	cr_assert_eq(chk("\xc1\xbf"), VTP_E_UTF8);
	cr_assert_eq(chk("\xe0\x9f\xbf"), VTP_E_UTF8); /* overlong U+07FF */
	cr_assert_eq(chk("\xf0\x8f\xbf\xbf"), VTP_E_UTF8); /* overlong U+FFFF */
	cr_assert_eq(chk("\xed\xa0\x80"), VTP_E_UTF8); /* U+D800 */
	cr_assert_eq(chk("\xed\xbf\xbf"), VTP_E_UTF8); /* U+DFFF */
	cr_assert_eq(chk("\xf4\x90\x80\x80"), VTP_E_UTF8); /* U+110000 */
	cr_assert_eq(chk("\xf8\x88\x80\x80\x80"), VTP_E_UTF8); /* 5 bytes */
	cr_assert_eq(chk("\xff"), VTP_E_UTF8);
	cr_assert_eq(chk("\xfe"), VTP_E_UTF8);
	cr_assert_eq(chk("\x80"), VTP_E_UTF8);
	cr_assert_eq(chk("\xc3"), VTP_E_UTF8); /* truncated at the end */
	cr_assert_eq(chk("\xe2\x82"), VTP_E_UTF8);
	cr_assert_eq(chk("\xf0\x9f\x98"), VTP_E_UTF8);
	cr_assert_eq(chk("\xc3\x28"), VTP_E_UTF8); /* bad continuation */
	cr_assert_eq(chk("\xe2\x28\xa1"), VTP_E_UTF8);
	/* the length is honoured: a valid prefix of an invalid buffer */
	cr_assert_eq(vtp_check_display_string((const uint8_t *)"ab\xff", 2), VTP_OK);
}

Test(check, vm_names)
{
	cr_assert(vtp_valid_vm_name("work"));
	cr_assert(vtp_valid_vm_name("a"));
	cr_assert(vtp_valid_vm_name("vm-2-disp"));
	cr_assert(vtp_valid_vm_name("abcdefghijklmnopqrstuvwxyz-01234"));
	cr_assert_not(vtp_valid_vm_name("abcdefghijklmnopqrstuvwxyz-012345"));
	cr_assert_not(vtp_valid_vm_name(""));
	cr_assert_not(vtp_valid_vm_name(NULL));
	cr_assert_not(vtp_valid_vm_name("Work"));
	cr_assert_not(vtp_valid_vm_name("a_b"));
	cr_assert_not(vtp_valid_vm_name("a b"));
	cr_assert_not(vtp_valid_vm_name("../x"));
	cr_assert_not(vtp_valid_vm_name("caf\xc3\xa9"));
}

Test(check, pool_buffer)
{
	const uint64_t pool = 1 << 20;

	cr_assert_eq(vtp_pool_check_buffer(pool, 0, 256, 1024, 1024), VTP_OK);
	cr_assert_eq(vtp_pool_check_buffer(pool, 0, 256, 1025, 1024), VTP_E_OUT_OF_POOL);
	cr_assert_eq(vtp_pool_check_buffer(pool, 1024, 256, 1023, 1024), VTP_OK);
	cr_assert_eq(vtp_pool_check_buffer(pool, 1024, 256, 1024, 1024), VTP_E_OUT_OF_POOL);
	cr_assert_eq(vtp_pool_check_buffer(pool, pool, 1, 1, 4), VTP_E_OUT_OF_POOL);
	cr_assert_eq(vtp_pool_check_buffer(pool, pool - 4, 1, 1, 4), VTP_OK);
	cr_assert_eq(vtp_pool_check_buffer(0, 0, 1, 1, 4), VTP_E_OUT_OF_POOL);
	cr_assert_eq(vtp_pool_check_buffer(pool, 0, 0, 1, 4), VTP_E_DIMENSIONS);
	cr_assert_eq(vtp_pool_check_buffer(pool, 0, 1, 0, 4), VTP_E_DIMENSIONS);
	cr_assert_eq(vtp_pool_check_buffer(pool, 0, 2, 1, 4), VTP_E_STRIDE);
	cr_assert_eq(vtp_pool_check_buffer(pool, 0, 1, 1, 6), VTP_E_STRIDE);
	/* width * 4 overflows 32 bits */
	cr_assert_eq(vtp_pool_check_buffer(pool, 0, 0x40000000u, 1, 0), VTP_E_OVERFLOW);
	cr_assert_eq(
		vtp_pool_check_buffer(UINT64_MAX, 0, 0xffffffffu, 1, 0xfffffffcu), VTP_E_OVERFLOW);
	/* stride * height does not fit 32 bits but is computed in 64 */
	cr_assert_eq(vtp_pool_check_buffer(UINT64_MAX, 0, 1 << 20, 1 << 20, 1 << 22), VTP_OK);
	cr_assert_eq(vtp_pool_check_buffer(pool, 0, 1 << 20, 1 << 20, 1 << 22), VTP_E_OUT_OF_POOL);
	/* offset + size overflows 64 bits */
	cr_assert_eq(
		vtp_pool_check_buffer(UINT64_MAX, UINT64_MAX - 100, 64, 64, 256), VTP_E_OVERFLOW);
	cr_assert_eq(vtp_pool_check_buffer(UINT64_MAX, UINT64_MAX - 16384, 64, 64, 256), VTP_OK);
}

static bool id(const char *s)
{
	return vtp_valid_desktop_id(s, strlen(s));
}

Test(check, desktop_ids)
{
	cr_assert(id("firefox-esr.desktop"));
	cr_assert(id("org.gnome.Terminal.desktop"));
	cr_assert(id("a_b-c.desktop"));
	cr_assert(id("x.desktop"));
	cr_assert_not(id(".desktop"));
	cr_assert_not(id("firefox"));
	cr_assert_not(id(".x.desktop"));
	cr_assert_not(id("-x.desktop")); /* would be an option on a command line */
	cr_assert_not(id("--help.desktop"));
	cr_assert_not(id("a..b.desktop"));
	cr_assert_not(id("a/b.desktop"));
	cr_assert_not(id("my app.desktop"));
	cr_assert_not(id("caf\xc3\xa9.desktop"));
	cr_assert_not(vtp_valid_desktop_id("a\0.desktop", 10));
	cr_assert_not(vtp_valid_desktop_id(NULL, 0));
	char longid[VTP_MAX_DESKTOP_ID + 2];
	memset(longid, 'a', sizeof(longid));
	memcpy(longid + VTP_MAX_DESKTOP_ID - 8, ".desktop", 9);
	cr_assert(id(longid));
	memset(longid, 'a', sizeof(longid));
	memcpy(longid + VTP_MAX_DESKTOP_ID + 1 - 8, ".desktop", 9);
	cr_assert_not(id(longid));
}

static bool mime(const char *s)
{
	return vtp_valid_mime_type(s, strlen(s));
}

Test(check, mime_types)
{
	cr_assert(mime("text/plain"));
	cr_assert(mime("application/vnd.oasis.opendocument.text"));
	cr_assert(mime("image/svg+xml"));
	cr_assert(mime("x-scheme-handler/https"));
	cr_assert(mime("message/x"));
	cr_assert_not(mime("text"));
	cr_assert_not(mime("text/"));
	cr_assert_not(mime("/plain"));
	cr_assert_not(mime("a/b/c"));
	cr_assert_not(mime("text/pla in"));
	cr_assert_not(mime("text/-x"));
	cr_assert_not(mime("text/plain; charset=utf-8"));
	cr_assert_not(vtp_valid_mime_type("text/p\0", 7));
	cr_assert_not(vtp_valid_mime_type(NULL, 0));
	char longm[300];
	memset(longm, 'a', sizeof(longm));
	longm[127] = '/';
	cr_assert(vtp_valid_mime_type(longm, 255));
	cr_assert_not(vtp_valid_mime_type(longm, 256));
}

static bool fname(const char *s)
{
	return vtp_valid_file_name(s, strlen(s));
}

Test(check, file_names)
{
	cr_assert(fname("report.pdf"));
	cr_assert(fname("..x"));
	cr_assert(fname("caf\xc3\xa9"));
	cr_assert_not(fname(""));
	cr_assert_not(fname("."));
	cr_assert_not(fname(".."));
	cr_assert_not(fname("a/b"));
	cr_assert_not(fname("a\nb"));
	cr_assert_not(fname("\xff"));
	char longn[VTP_MAX_FILE_NAME + 1];
	memset(longn, 'a', sizeof(longn));
	cr_assert(vtp_valid_file_name(longn, VTP_MAX_FILE_NAME));
	cr_assert_not(vtp_valid_file_name(longn, VTP_MAX_FILE_NAME + 1));
}
