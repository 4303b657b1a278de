/* Unit tests of app/proxy.c: the rightmost-untrusted walk over
 * X-Forwarded-For (trusted hops, spoofed prefixes, ports and brackets) and
 * hostile values (garbage, zones, a 1 MiB entry, thousands of entries),
 * and X-Forwarded-Proto. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "app/proxy.h"

static struct cidr_list trusted;

static int setup(void **state)
{
	char err[160];
	/* the city's load balancers and the local nginx */
	if (cidr_list_parse("10.0.0.0/8, 127.0.0.1/32, 2001:db8:ffff::/48", &trusted, err,
			    sizeof err) != 0)
		fail_msg("%s", err);
	return 0;
}

/* The client text the walk finds, or "ERR<rc>". */
static const char *walk(const char *xff)
{
	static char out[64];
	struct ipaddr ip;
	int rc = proxy_xff_client(xff, strlen(xff), &trusted, &ip);
	if (rc != PROXY_OK)
		snprintf(out, sizeof out, "ERR%d", rc);
	else
		ip_format(&ip, out, sizeof out);
	return out;
}

#define MALFORMED "ERR-1"
#define TOO_MANY "ERR-2"

static void test_walk(void **state)
{
	assert_string_equal(walk("198.51.100.7"), "198.51.100.7");
	/* the client's own prefix is left of the address its proxy appended */
	assert_string_equal(walk("1.2.3.4, 198.51.100.7"), "198.51.100.7");
	assert_string_equal(walk("1.2.3.4,198.51.100.7"), "198.51.100.7");
	/* trusted hops on the right are skipped */
	assert_string_equal(walk("198.51.100.7, 10.1.1.1, 127.0.0.1"), "198.51.100.7");
	assert_string_equal(walk("203.0.113.5, 198.51.100.7, 10.1.1.1"), "198.51.100.7");
	/* a client claiming to be a trusted proxy gains nothing: its real
	 * address (appended by the proxy) is untrusted and stops the walk */
	assert_string_equal(walk("10.9.9.9, 127.0.0.1, 198.51.100.7"), "198.51.100.7");
	/* every hop trusted: the leftmost (an internal client) */
	assert_string_equal(walk("10.2.2.2, 10.1.1.1"), "10.2.2.2");
	assert_string_equal(walk("127.0.0.1"), "127.0.0.1");
	/* IPv6, brackets, ports */
	assert_string_equal(walk("2001:db8::7"), "2001:db8::7");
	assert_string_equal(walk("[2001:db8::7]"), "2001:db8::7");
	assert_string_equal(walk("[2001:db8::7]:4431, 10.0.0.1"), "2001:db8::7");
	assert_string_equal(walk("198.51.100.7:61000"), "198.51.100.7");
	assert_string_equal(walk("2001:db8::7, 2001:db8:ffff::1"), "2001:db8::7");
	assert_string_equal(walk("::ffff:198.51.100.7"), "198.51.100.7");
	/* blanks (SP, HTAB) around entries */
	assert_string_equal(walk(" \t198.51.100.7 \t"), "198.51.100.7");
	/* garbage left of the client is never looked at */
	assert_string_equal(walk("not an address, unknown, 198.51.100.7"), "198.51.100.7");
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		" ",
		",",
		"198.51.100.7,",            /* empty rightmost entry */
		"198.51.100.7, , 10.0.0.1", /* empty entry reached through a trusted hop */
		"unknown",
		"_hidden",
		"proxy.example.jp",
		"198.51.100.7 10.0.0.1",
		"198.51.100.7;10.0.0.1",
		"fe80::1%eth0",
		"[fe80::1%25eth0]",
		"[fe80::1%eth0]:80",
		"[2001:db8::7",
		"2001:db8::7]",
		"[2001:db8::7]x",
		"[2001:db8::7]:",
		"[2001:db8::7]:99999",
		"[2001:db8::7]:-1",
		"[198.51.100.7]",
		"[]",
		"198.51.100.7:",
		"198.51.100.7:123456",
		"198.51.100.7:http",
		"198.51.100.7:80:80",
		"\"198.51.100.7\"",
		"for=198.51.100.7",
		"198.51.100.7\r\n",
		"1.2.3.4.5",
		"0x7f000001",
		"2130706433",
		"::ffff:198.51.100.7:80",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *got = walk(bad[i]);
		if (strcmp(got, MALFORMED) != 0)
			fail_msg("'%s' → %s, want malformed", bad[i], got);
	}
	/* a NUL inside the value (len covers it) is not an address either */
	struct ipaddr ip;
	assert_int_equal(proxy_xff_client("198.51.100.7\0x", 14, &trusted, &ip), PROXY_MALFORMED);
	/* a NULL list trusts nothing: the rightmost entry is the client */
	assert_int_equal(proxy_xff_client("10.0.0.1, 10.0.0.2", 18, NULL, &ip), PROXY_OK);
	char txt[IP_TEXT_MAX];
	ip_format(&ip, txt, sizeof txt);
	assert_string_equal(txt, "10.0.0.2");
}

/* Guards against a hang (quadratic walk), not a benchmark: the limit is far
 * above what the linear walk takes even under sanitizers. */
static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_hostile(void **state)
{
	struct ipaddr ip;
	struct timespec t0;
	size_t big = 1u << 20;
	char *s = malloc(big * 2 + 64);
	assert_non_null(s);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* one 1 MiB entry */
	memset(s, '1', big);
	assert_int_equal(proxy_xff_client(s, big, &trusted, &ip), PROXY_MALFORMED);
	/* 1 MiB of commas */
	memset(s, ',', big);
	assert_int_equal(proxy_xff_client(s, big, &trusted, &ip), PROXY_MALFORMED);
	/* 1 MiB of blanks */
	memset(s, ' ', big);
	assert_int_equal(proxy_xff_client(s, big, &trusted, &ip), PROXY_MALFORMED);
	/* random bytes: any answer, no crash, no hang */
	srand(7);
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(rand() % 4096);
		for (size_t i = 0; i < n; i++)
			s[i] = "0123456789abcdef.:,[]% \t\x80\xff"[rand() % 26];
		(void)proxy_xff_client(s, n, &trusted, &ip);
	}

	/* 1,000 trusted entries: stops at the hop limit */
	size_t n = 0;
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(s + n, 64, "%s10.0.%d.%d", i ? ", " : "", i / 250, i % 250);
	assert_int_equal(proxy_xff_client(s, n, &trusted, &ip), PROXY_TOO_MANY);

	/* 1,000 spoofed entries left of the real client: found at once */
	n = 0;
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(s + n, 64, "203.0.%d.%d, ", i / 250, i % 250);
	n += (size_t)snprintf(s + n, 64, "198.51.100.7, 127.0.0.1");
	assert_int_equal(proxy_xff_client(s, n, &trusted, &ip), PROXY_OK);
	char txt[IP_TEXT_MAX];
	ip_format(&ip, txt, sizeof txt);
	assert_string_equal(txt, "198.51.100.7");

	/* exactly PROXY_MAX_HOPS trusted entries: still answered (the leftmost) */
	n = 0;
	for (int i = 0; i < PROXY_MAX_HOPS; i++)
		n += (size_t)snprintf(s + n, 64, "%s10.0.0.%d", i ? "," : "", i + 1);
	assert_int_equal(proxy_xff_client(s, n, &trusted, &ip), PROXY_OK);
	ip_format(&ip, txt, sizeof txt);
	assert_string_equal(txt, "10.0.0.1");
	/* one more and it is too many */
	n += (size_t)snprintf(s + n, 64, ",10.0.0.99");
	assert_int_equal(proxy_xff_client(s, n, &trusted, &ip), PROXY_TOO_MANY);

	/* ~2 MiB of short trusted entries */
	n = 0;
	while (n + 16 < big * 2)
		n += (size_t)snprintf(s + n, 16, "%s10.0.0.1", n ? "," : "");
	assert_int_equal(proxy_xff_client(s, n, &trusted, &ip), PROXY_TOO_MANY);

	double secs = seconds_since(&t0);
	if (secs > 10.0)
		fail_msg("hostile inputs took %.1f s", secs);
	free(s);
}

static void test_proto(void **state)
{
	assert_int_equal(proxy_forwarded_https("https"), 1);
	assert_int_equal(proxy_forwarded_https("HTTPS"), 1);
	assert_int_equal(proxy_forwarded_https(" https "), 1);
	assert_int_equal(proxy_forwarded_https("https, http"), 1);
	assert_int_equal(proxy_forwarded_https("http"), 0);
	assert_int_equal(proxy_forwarded_https("http,https"), 0);
	assert_int_equal(proxy_forwarded_https(NULL), -1);
	assert_int_equal(proxy_forwarded_https(""), -1);
	assert_int_equal(proxy_forwarded_https("httpsx"), -1);
	assert_int_equal(proxy_forwarded_https("wss"), -1);
	assert_int_equal(proxy_forwarded_https("htt"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_proto),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
