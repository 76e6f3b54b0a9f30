/* The firewall rule syntax and the NET_CONFIG text (protocol/net.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <vitrail/protocol.h>

static bool rule(const char *s, struct vtp_fw_rule *r)
{
	return vtp_fw_rule_parse(s, strlen(s), r);
}

Test(net, rules_parse)
{
	struct vtp_fw_rule r;
	cr_assert(rule("10.0.2.2:8000/tcp", &r));
	cr_assert(!r.is_name && r.addr[0] == 10 && r.addr[3] == 2 && r.prefix == 32);
	cr_assert(r.port == 8000 && r.proto == VTP_FW_TCP);
	cr_assert_str_eq(r.host, "10.0.2.2");
	cr_assert(rule("192.168.0.0/16", &r));
	cr_assert(r.prefix == 16 && r.port == 0 && r.proto == VTP_FW_ANY);
	cr_assert(rule("0.0.0.0/0:53/udp", &r));
	cr_assert(r.prefix == 0 && r.port == 53 && r.proto == VTP_FW_UDP);
	cr_assert(rule("debian.org:443", &r));
	cr_assert(r.is_name && r.port == 443 && r.proto == VTP_FW_ANY);
	cr_assert_str_eq(r.host, "debian.org");
	cr_assert(rule("a-b.example/udp", &r) && r.is_name && r.proto == VTP_FW_UDP);
	cr_assert(rule("localhost", &r) && r.is_name);
}

Test(net, rules_refused)
{
	static const char *const bad[] = { "", ":80", "10.0.2.2:0", "10.0.2.2:65536",
		"10.0.2.2:080", "10.0.2.256", "10.0.2", "10.0.2.2.1", "010.0.2.2", "10.0.0.1/8",
		"10.0.0.0/33", "10.0.0.0/", "Debian.org", "-a.org", "a-.org", "a..org", "a.org.",
		"1.2.3.400", "host/tcp/udp", "a.org:80/icmp", "a b", "a;reboot", "$(x)",
		"a.org:80:90", "10.0.0.0/8/tcp/" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(!rule(bad[i], NULL), "accepted '%s'", bad[i]);
	}
	char longname[300];
	memset(longname, 'a', sizeof(longname));
	for (size_t i = 63; i < 260; i += 64) {
		longname[i] = '.';
	}
	longname[253] = '\0';
	cr_assert(rule(longname, NULL), "253 bytes");
	longname[253] = 'a';
	longname[254] = '\0';
	cr_assert(!rule(longname, NULL), "254 bytes");
	memset(longname, 'a', 64);
	longname[64] = '\0';
	cr_assert(!rule(longname, NULL), "a 64-byte label");
}

static enum vtp_status check(const char *s)
{
	return vtp_net_config_check((const uint8_t *)s, strlen(s));
}

Test(net, config_text)
{
	cr_assert_eq(check("role net\nuplink 52:54:00:8b:00:00\n"), VTP_OK);
	cr_assert_eq(check("role firewall\nuplink 52:54:00:12:34:56\n"
			   "link 254 52:54:00:8b:fe:01 allow a-1\nrule 254 1.2.3.4/32\n"),
		VTP_OK);
	cr_assert_eq(check("role router\nuplink 52:54:00:8b:00:00\n"), VTP_E_BAD_VALUE);
	cr_assert_eq(check("uplink 52:54:00:8b:00:00\nrole net\n"), VTP_E_BAD_VALUE);
	cr_assert_eq(check("role net\nuplink 52:54:00:8B:00:00\n"), VTP_E_BAD_VALUE);
	cr_assert_eq(check("role net\n"), VTP_E_BAD_VALUE);
	cr_assert_eq(
		check("role net\nuplink 52:54:00:8b:00:00\nlink 255 52:54:00:8b:00:01 deny a\n"),
		VTP_E_BAD_VALUE);
	cr_assert_eq(check("role net\nuplink 52:54:00:8b:00:00\nlink 1 52:54:00:8b:00:01 deny A\n"),
		VTP_E_BAD_VALUE);
	cr_assert_eq(
		check("role net\nuplink 52:54:00:8b:00:00\nrule 1 1.2.3.4\n"), VTP_E_BAD_VALUE);
	cr_assert_eq(
		check("role net\nuplink 52:54:00:8b:00:00\nlink 1 52:54:00:8b:00:01 deny a \n"),
		VTP_E_BAD_VALUE);
	cr_assert_eq(check("role net\nuplink 52:54:00:8b:00:00\n\n"), VTP_E_BAD_VALUE);
	cr_assert_eq(check("role net\nuplink 52:54:00:8b:00:00\nlink 1 52:54:00:8b:00:01 deny "
			   "\xc3\xa9\n"),
		VTP_E_BAD_VALUE);
}

/* The limits: VTP_MAX_NET_LINKS links, VTP_MAX_FW_RULES rules a link. */
Test(net, config_limits)
{
	static char buf[VTP_MAX_NET_CONFIG];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "role firewall\nuplink 52:54:00:8b:00:00\n");
	for (unsigned k = 1; k <= VTP_MAX_NET_LINKS; k++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			"link %u 52:54:00:8b:%02x:01 deny v%u\n", k, k, k);
		for (unsigned r = 0; r < VTP_MAX_FW_RULES; r++) {
			n += (size_t)snprintf(
				buf + n, sizeof(buf) - n, "rule %u 10.%u.%u.1:443/tcp\n", k, k, r);
		}
	}
	cr_assert_eq(check(buf), VTP_OK);
	size_t full = n;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "rule %u 10.0.0.1\n", VTP_MAX_NET_LINKS);
	cr_assert_eq(check(buf), VTP_E_BAD_VALUE, "one rule too many");
	n = full;
	snprintf(buf + n, sizeof(buf) - n, "link 99 52:54:00:8b:99:01 deny w\n");
	cr_assert_eq(check(buf), VTP_E_BAD_VALUE, "one link too many");
}
