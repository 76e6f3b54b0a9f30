/*
 * Service VMs (README section 5.10): the one rule for a firewall rule
 * ("HOST[:PORT][/PROTO]"), used by the host's config parser and the
 * decoder, and the check of a NET_CONFIG text, which the agent hands to
 * its service VM's apply script only after this check.
 */
#include <vitrail/protocol.h>

#include <arpa/inet.h>
#include <string.h>

/* A decimal number lo..hi in s[0..n), no sign, no leading zero. */
static bool parse_uint(const char *s, size_t n, uint32_t lo, uint32_t hi, uint32_t *out)
{
	if (n == 0 || n > 5 || (n > 1 && s[0] == '0')) {
		return false;
	}
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v < lo || v > hi) {
		return false;
	}
	*out = v;
	return true;
}

static bool parse_ipv4(const char *s, size_t n, uint8_t addr[4])
{
	size_t start = 0;
	for (int part = 0; part < 4; part++) {
		size_t end = start;
		while (end < n && s[end] != '.') {
			end++;
		}
		uint32_t v;
		if (end - start > 3 || !parse_uint(s + start, end - start, 0, 255, &v)) {
			return false;
		}
		addr[part] = (uint8_t)v;
		if (part < 3 && end == n) {
			return false;
		}
		start = end + 1;
	}
	return start == n + 1;
}

static bool valid_host_name(const char *s, size_t n)
{
	if (n < 1 || n > VTP_MAX_FW_HOST) {
		return false;
	}
	size_t label = 0;
	bool label_digits = true;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-') {
				return false;
			}
			if (i == n) {
				return !label_digits; /* "10.0.0.300" is no name */
			}
			label = 0;
			label_digits = true;
			continue;
		}
		char c = s[i];
		bool digit = c >= '0' && c <= '9';
		if (!digit && !(c >= 'a' && c <= 'z') && c != '-') {
			return false;
		}
		if (label == 0 && c == '-') {
			return false;
		}
		label_digits = label_digits && digit;
		label++;
	}
	return false;
}

bool vtp_fw_rule_parse(const char *s, size_t n, struct vtp_fw_rule *out)
{
	struct vtp_fw_rule r = { .prefix = 32 };
	if (s == NULL || n == 0 || n > VTP_MAX_FW_HOST + 10) {
		return false;
	}
	/* /PROTO at the end (a "/" followed by digits is a prefix) */
	if (n > 4 && (memcmp(s + n - 4, "/tcp", 4) == 0 || memcmp(s + n - 4, "/udp", 4) == 0)) {
		r.proto = s[n - 3] == 't' ? VTP_FW_TCP : VTP_FW_UDP;
		n -= 4;
	}
	const char *colon = memchr(s, ':', n);
	if (colon != NULL) {
		uint32_t port;
		size_t at = (size_t)(colon - s);
		if (!parse_uint(colon + 1, n - at - 1, 1, 65535, &port)) {
			return false;
		}
		r.port = (uint16_t)port;
		n = at;
	}
	if (n == 0 || n > VTP_MAX_FW_HOST) {
		return false;
	}
	memcpy(r.host, s, n);
	r.host[n] = '\0';
	const char *slash = memchr(s, '/', n);
	size_t addr_len = slash != NULL ? (size_t)(slash - s) : n;
	if (parse_ipv4(s, addr_len, r.addr)) {
		if (slash != NULL) {
			uint32_t prefix;
			if (!parse_uint(slash + 1, n - addr_len - 1, 0, 32, &prefix)) {
				return false;
			}
			r.prefix = (uint8_t)prefix;
			uint32_t a = (uint32_t)r.addr[0] << 24 | (uint32_t)r.addr[1] << 16 |
				(uint32_t)r.addr[2] << 8 | r.addr[3];
			uint32_t host_bits = prefix == 32 ? 0 : 0xffffffffu >> prefix;
			if ((a & host_bits) != 0) {
				return false;
			}
		}
	} else if (slash != NULL || !valid_host_name(s, n) ||
		inet_aton(r.host, &(struct in_addr){ 0 }) != 0) {
		/* a name the resolver reads as an address ("0x7f000001",
		 * "10.1") is neither */
		return false;
	} else {
		r.is_name = true;
	}
	if (out != NULL) {
		*out = r;
	}
	return true;
}

/* ---- NET_CONFIG text ---- */

struct words {
	const char *w[7];
	size_t len[7];
	size_t n;
};

/* Split a line on single spaces; false if there are more than 6 words or
 * an empty one (two spaces, a space at either end). */
static bool split_words(const char *s, size_t n, struct words *out)
{
	out->n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ' ') {
			continue;
		}
		if (i == start || out->n == 6) {
			return false;
		}
		out->w[out->n] = s + start;
		out->len[out->n] = i - start;
		out->n++;
		start = i + 1;
	}
	return true;
}

static bool word_is(const struct words *w, size_t i, const char *lit)
{
	return w->len[i] == strlen(lit) && memcmp(w->w[i], lit, w->len[i]) == 0;
}

/* "52:54:00:8b:01:01": six lower-case hex pairs. */
static bool valid_mac(const char *s, size_t n)
{
	if (n != 17) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
		if (i % 3 == 2 ? s[i] != ':' : !hex) {
			return false;
		}
	}
	return true;
}

static bool word_vm_name(const struct words *w, size_t i)
{
	char name[33];
	if (w->len[i] < 1 || w->len[i] > 32) {
		return false;
	}
	memcpy(name, w->w[i], w->len[i]);
	name[w->len[i]] = '\0';
	return vtp_valid_vm_name(name);
}

enum vtp_status vtp_net_config_check(const uint8_t *t, size_t n)
{
	const char *s = (const char *)t;
	if (n == 0 || s[n - 1] != '\n') {
		return VTP_E_BAD_VALUE;
	}
	uint8_t seen[32] = { 0 };
	size_t lines = 0, links = 0, rules = 0;
	uint32_t link = 0; /* the link rule lines belong to */
	for (size_t start = 0; start < n; lines++) {
		const char *nl = memchr(s + start, '\n', n - start);
		size_t len = (size_t)(nl - (s + start));
		struct words w;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[start + i];
			if (c > 0x7e) {
				return VTP_E_BAD_VALUE;
			}
			if (c < 0x20) {
				return VTP_E_CONTROL_CHAR;
			}
		}
		if (!split_words(s + start, len, &w)) {
			return VTP_E_BAD_VALUE;
		}
		start += len + 1;
		if (lines == 0) { /* role firewall|net */
			if (w.n != 2 || !word_is(&w, 0, "role") ||
				!(word_is(&w, 1, "firewall") || word_is(&w, 1, "net"))) {
				return VTP_E_BAD_VALUE;
			}
			continue;
		}
		if (lines == 1) { /* uplink MAC */
			if (w.n != 2 || !word_is(&w, 0, "uplink") || !valid_mac(w.w[1], w.len[1])) {
				return VTP_E_BAD_VALUE;
			}
			continue;
		}
		uint32_t k;
		if (w.n < 3 || !parse_uint(w.w[1], w.len[1], 1, 254, &k)) {
			return VTP_E_BAD_VALUE;
		}
		if (word_is(&w, 0, "link")) { /* link K MAC allow|deny NAME */
			if (w.n != 5 || !valid_mac(w.w[2], w.len[2]) ||
				!(word_is(&w, 3, "allow") || word_is(&w, 3, "deny")) ||
				!word_vm_name(&w, 4)) {
				return VTP_E_BAD_VALUE;
			}
			if (++links > VTP_MAX_NET_LINKS || (seen[k / 8] & (1u << (k % 8)))) {
				return VTP_E_BAD_VALUE;
			}
			seen[k / 8] |= (uint8_t)(1u << (k % 8));
			link = k;
			rules = 0;
		} else if (word_is(&w, 0, "rule")) { /* rule K SPEC, K the last link */
			if (w.n != 3 || k != link || ++rules > VTP_MAX_FW_RULES ||
				!vtp_fw_rule_parse(w.w[2], w.len[2], NULL)) {
				return VTP_E_BAD_VALUE;
			}
		} else {
			return VTP_E_BAD_VALUE;
		}
	}
	return lines >= 2 ? VTP_OK : VTP_E_BAD_VALUE;
}
