/* IP addresses and CIDR networks (see cidr.h): strict parsing through
 * inet_pton on a bounded copy, and prefix matching on the 16-byte form. */
#include "common/errf.h"
#include "common/cidr.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* As ip_parse; *v4 tells which family the text was. */
static int parse_addr(const char *s, size_t len, struct ipaddr *out, bool *v4)
{
	char tmp[IP_TEXT_MAX];
	if (len == 0 || len >= sizeof tmp || memchr(s, '\0', len))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (strchr(tmp, ':') == NULL) {
		/* inet_pton(AF_INET) takes only the four-part dotted decimal form;
		 * refuse leading zeros too, which some parsers read as octal */
		for (size_t i = 0; i + 1 < len; i++)
			if ((i == 0 || tmp[i - 1] == '.') && tmp[i] == '0' && tmp[i + 1] != '.')
				return -1;
		uint8_t a[4];
		if (inet_pton(AF_INET, tmp, a) != 1)
			return -1;
		memcpy(out->b, v4_prefix, 12);
		memcpy(out->b + 12, a, 4);
		*v4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, out->b) != 1)
		return -1; /* also refuses zones ("fe80::1%eth0") and brackets */
	*v4 = false;
	return 0;
}

int ip_parse(const char *s, size_t len, struct ipaddr *out)
{
	bool v4;
	return parse_addr(s, len, out, &v4);
}

void ip_format(const struct ipaddr *ip, char *out, size_t cap)
{
	if (cap == 0)
		return;
	out[0] = '\0';
	if (memcmp(ip->b, v4_prefix, 12) == 0)
		inet_ntop(AF_INET, ip->b + 12, out, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, ip->b, out, (socklen_t)cap);
}

bool ip_is_loopback(const struct ipaddr *ip)
{
	static const uint8_t v6_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	if (memcmp(ip->b, v4_prefix, 12) == 0)
		return ip->b[12] == 127;
	return memcmp(ip->b, v6_loop, 16) == 0;
}

bool cidr_contains(const struct cidr *net, const struct ipaddr *ip)
{
	unsigned full = net->bits / 8, rest = net->bits % 8;
	if (memcmp(net->net.b, ip->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (ip->b[full] & mask) == net->net.b[full];
}

int cidr_parse(const char *s, size_t len, struct cidr *out, char *err, size_t errlen)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	bool v4 = false;
	struct cidr c;

	if (parse_addr(s, alen, &c.net, &v4) < 0)
		return errf(err, errlen, "'%.*s' is not an IPv4 or IPv6 address", (int)alen, s);
	unsigned max = v4 ? 32 : 128, n = max;
	if (slash) {
		const char *p = slash + 1, *e = s + len;
		if (p == e || e - p > 3 || (*p == '0' && e - p > 1))
			return errf(err, errlen, "'%.*s' is not a prefix length", (int)(e - p), p);
		n = 0;
		for (; p < e; p++) {
			if (*p < '0' || *p > '9')
				return errf(err, errlen, "'%.*s' is not a prefix length",
					    (int)(e - slash - 1), slash + 1);
			n = n * 10 + (unsigned)(*p - '0');
		}
		if (n > max)
			return errf(err, errlen, "prefix /%u is longer than %u", n, max);
	}
	c.bits = v4 ? 96 + n : n;
	/* host bits must be zero */
	for (unsigned i = c.bits; i < 128; i++) {
		if (c.net.b[i / 8] & (0x80u >> (i % 8))) {
			char txt[IP_TEXT_MAX];
			struct cidr fixed = c;
			for (unsigned k = c.bits; k < 128; k++)
				fixed.net.b[k / 8] &= (uint8_t) ~(0x80u >> (k % 8));
			ip_format(&fixed.net, txt, sizeof txt);
			return errf(err, errlen, "'%.*s' has host bits set (the network is %s/%u)",
				    (int)len, s, txt, n);
		}
	}
	*out = c;
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

int cidr_list_parse(const char *s, struct cidr_list *out, char *err, size_t errlen)
{
	char msg[160];
	out->n = 0;
	const char *p = s;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *e = comma ? comma : p + strlen(p);
		const char *b = p;
		while (b < e && blank(*b))
			b++;
		while (e > b && blank(e[-1]))
			e--;
		if (b == e)
			return errf(err, errlen, "empty item in the list of networks");
		if (out->n == CIDR_LIST_MAX)
			return errf(err, errlen, "more than %d networks", CIDR_LIST_MAX);
		if (cidr_parse(b, (size_t)(e - b), &out->v[out->n], msg, sizeof msg) < 0)
			return errf(err, errlen, "%s", msg);
		out->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

bool cidr_list_contains(const struct cidr_list *l, const struct ipaddr *ip)
{
	if (!l)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (cidr_contains(&l->v[i], ip))
			return true;
	return false;
}
