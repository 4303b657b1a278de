/* The client behind a trusted reverse proxy (see proxy.h): the standard
 * rightmost-untrusted walk over X-Forwarded-For, and X-Forwarded-Proto for
 * what the scheme decides (Secure cookies, HSTS). */
#include "app/proxy.h"

#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "common/log.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* "1-5 digits, at most 65535". */
static bool port_ok(const char *p, const char *e)
{
	if (p == e || e - p > 5)
		return false;
	unsigned v = 0;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	return v <= 65535;
}

/* One X-Forwarded-For entry, blanks already trimmed. */
static int parse_entry(const char *s, size_t len, struct ipaddr *out)
{
	const char *e = s + len;
	if (len == 0 || len > IP_TEXT_MAX + 8)
		return -1;
	if (*s == '[') {
		const char *close = memchr(s, ']', len);
		if (!close || !memchr(s + 1, ':', (size_t)(close - s - 1)))
			return -1;
		if (close + 1 != e && (close[1] != ':' || !port_ok(close + 2, e)))
			return -1;
		return ip_parse(s + 1, (size_t)(close - s - 1), out);
	}
	const char *colon = memchr(s, ':', len);
	if (colon && !memchr(colon + 1, ':', (size_t)(e - colon - 1))) {
		/* exactly one colon: IPv4 with a port */
		if (!port_ok(colon + 1, e) || !memchr(s, '.', (size_t)(colon - s)))
			return -1;
		return ip_parse(s, (size_t)(colon - s), out);
	}
	return ip_parse(s, len, out);
}

int proxy_xff_client(const char *xff, size_t len, const struct cidr_list *trusted,
		     struct ipaddr *out)
{
	struct ipaddr ip, last;
	size_t end = len;
	int hops = 0;

	for (;;) {
		size_t start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		if (++hops > PROXY_MAX_HOPS)
			return PROXY_TOO_MANY;
		size_t b = start, e = end;
		while (b < e && blank(xff[b]))
			b++;
		while (e > b && blank(xff[e - 1]))
			e--;
		if (parse_entry(xff + b, e - b, &ip) < 0)
			return PROXY_MALFORMED;
		if (!cidr_list_contains(trusted, &ip)) {
			*out = ip;
			return PROXY_OK;
		}
		last = ip;
		if (start == 0)
			break;
		end = start - 1; /* the comma */
	}
	/* every hop is a trusted proxy: the request began inside (monitoring,
	 * an internal client); the leftmost is the closest to its origin */
	*out = last;
	return PROXY_OK;
}

int proxy_forwarded_https(const char *xfp)
{
	if (!xfp)
		return -1;
	const char *b = xfp;
	while (blank(*b))
		b++;
	const char *e = b;
	while (*e && *e != ',')
		e++;
	while (e > b && blank(e[-1]))
		e--;
	size_t n = (size_t)(e - b);
	if (n == 5 && strncasecmp(b, "https", 5) == 0)
		return 1;
	if (n == 4 && strncasecmp(b, "http", 4) == 0)
		return 0;
	return -1;
}

void proxy_resolve(struct req *r)
{
	const struct cidr_list *trusted = r->app && r->app->cfg ? r->app->cfg->trusted_proxy : NULL;
	struct ipaddr peer, client;
	if (!trusted || ip_parse(r->peer_ip, strlen(r->peer_ip), &peer) < 0 ||
	    !cidr_list_contains(trusted, &peer))
		return;

	const char *xff = req_header_all(r, "X-Forwarded-For");
	if (xff) {
		int rc = proxy_xff_client(xff, strlen(xff), trusted, &client);
		if (rc == PROXY_OK)
			ip_format(&client, r->client_ip, sizeof r->client_ip);
		else
			/* the header's text is not logged: it is whatever a client sent */
			log_debug("request %s: X-Forwarded-For from proxy %s is %s; using the "
				  "proxy's address",
				  r->request_id, r->peer_ip,
				  rc == PROXY_TOO_MANY ? "longer than the hop limit" : "malformed");
	}
	int https = proxy_forwarded_https(req_header(r, "X-Forwarded-Proto"));
	if (https >= 0)
		r->tls = https == 1;
}
