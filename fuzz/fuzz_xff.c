/* libFuzzer driver for the reverse-proxy parsers: the X-Forwarded-For walk
 * (app/proxy.c) over the input, X-Forwarded-Proto, and the CIDR list parser
 * (common/cidr.c) on the input as text. Every address found must format and
 * parse back to the same bytes, and must not be trusted unless all were. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/proxy.h"
#include "common/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cidr_list trusted;
static int ready;

static void roundtrip(const struct ipaddr *ip)
{
	char txt[IP_TEXT_MAX];
	struct ipaddr back;
	ip_format(ip, txt, sizeof txt);
	if (ip_parse(txt, strlen(txt), &back) != 0 || memcmp(ip, &back, sizeof back) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	if (!ready) {
		if (cidr_list_parse("10.0.0.0/8, 127.0.0.1, 2001:db8:ffff::/48", &trusted, err,
				    sizeof err) != 0)
			abort();
		ready = 1;
	}
	const char *s = (const char *)data;
	struct ipaddr ip;
	int rc = proxy_xff_client(s, size, &trusted, &ip);
	if (rc != PROXY_OK && rc != PROXY_MALFORMED && rc != PROXY_TOO_MANY)
		abort();
	if (rc == PROXY_OK)
		roundtrip(&ip);
	if (ip_parse(s, size, &ip) == 0)
		roundtrip(&ip);

	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	int https = proxy_forwarded_https(text);
	if (https < -1 || https > 1)
		abort();
	struct cidr_list *l = malloc(sizeof *l);
	err[0] = '\0';
	if (cidr_list_parse(text, l, err, sizeof err) == 0) {
		if (l->n == 0 || l->n > CIDR_LIST_MAX)
			abort();
		for (size_t i = 0; i < l->n; i++) {
			/* a network contains its own base address */
			if (l->v[i].bits > 128 || !cidr_contains(&l->v[i], &l->v[i].net))
				abort();
			roundtrip(&l->v[i].net);
		}
	} else if (!err[0]) {
		abort();
	}
	free(l);
	free(text);
	return 0;
}
