/* Unit tests of common/cidr.c: address parsing and formatting, CIDR parsing
 * (prefix rules, host bits, list syntax) and matching across IPv4, IPv6 and
 * IPv4-mapped IPv6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cidr.h"

static struct ipaddr ip(const char *s)
{
	struct ipaddr a;
	if (ip_parse(s, strlen(s), &a) != 0)
		fail_msg("'%s' does not parse", s);
	return a;
}

static bool parses(const char *s)
{
	struct ipaddr a;
	return ip_parse(s, strlen(s), &a) == 0;
}

static void assert_format(const char *in, const char *want)
{
	char out[IP_TEXT_MAX];
	struct ipaddr a = ip(in);
	ip_format(&a, out, sizeof out);
	assert_string_equal(out, want);
}

static void test_ip_parse(void **state)
{
	assert_true(parses("192.0.2.1"));
	assert_true(parses("0.0.0.0"));
	assert_true(parses("255.255.255.255"));
	assert_true(parses("2001:db8::1"));
	assert_true(parses("::1"));
	assert_true(parses("::"));
	assert_true(parses("::ffff:192.0.2.1"));

	static const char *const bad[] = {
		"",
		"1.2.3",
		"1.2.3.4.5",
		"256.1.1.1",
		"01.2.3.4",
		"1.2.3.04",
		"1.2.3.4 ",
		" 1.2.3.4",
		"1.2.3.4:80",
		"[2001:db8::1]",
		"fe80::1%eth0",
		"fe80::1%1",
		"2001:db8:::1",
		"localhost",
		"unknown",
		"0x7f.0.0.1",
		"1.2.3.-4",
		"12345::",
		"1::2::3",
		"::ffff:1.2.3",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (parses(bad[i]))
			fail_msg("'%s' parsed", bad[i]);

	/* exactly len bytes: a longer string is cut, an embedded NUL refused */
	struct ipaddr a;
	assert_int_equal(ip_parse("10.0.0.1junk", 8, &a), 0);
	assert_int_equal(ip_parse("10.0\0.0.1", 9, &a), -1);
	/* too long for any address */
	char longs[200];
	memset(longs, '1', sizeof longs - 1);
	longs[sizeof longs - 1] = '\0';
	assert_false(parses(longs));
}

static void test_ip_format(void **state)
{
	assert_format("192.0.2.1", "192.0.2.1");
	assert_format("::ffff:192.0.2.1", "192.0.2.1"); /* mapped → dotted */
	assert_format("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
	assert_format("::1", "::1");
}

static void test_loopback(void **state)
{
	struct ipaddr a;
	a = ip("127.0.0.1");
	assert_true(ip_is_loopback(&a));
	a = ip("127.255.3.4");
	assert_true(ip_is_loopback(&a));
	a = ip("::ffff:127.0.0.1");
	assert_true(ip_is_loopback(&a));
	a = ip("::1");
	assert_true(ip_is_loopback(&a));
	a = ip("128.0.0.1");
	assert_false(ip_is_loopback(&a));
	a = ip("::2");
	assert_false(ip_is_loopback(&a));
	a = ip("::127.0.0.1"); /* IPv4-compatible, not mapped: not loopback */
	assert_false(ip_is_loopback(&a));
}

static bool in(const char *net, const char *addr)
{
	struct cidr c;
	char err[160];
	if (cidr_parse(net, strlen(net), &c, err, sizeof err) != 0)
		fail_msg("'%s': %s", net, err);
	struct ipaddr a = ip(addr);
	return cidr_contains(&c, &a);
}

static void test_cidr_match(void **state)
{
	assert_true(in("10.0.0.0/8", "10.255.1.2"));
	assert_false(in("10.0.0.0/8", "11.0.0.0"));
	assert_true(in("192.168.1.0/24", "192.168.1.255"));
	assert_false(in("192.168.1.0/24", "192.168.2.0"));
	assert_true(in("172.16.0.0/12", "172.31.255.255"));
	assert_false(in("172.16.0.0/12", "172.32.0.0"));
	assert_true(in("127.0.0.1/32", "127.0.0.1"));
	assert_false(in("127.0.0.1/32", "127.0.0.2"));
	assert_true(in("127.0.0.1", "127.0.0.1")); /* bare address: one host */
	assert_true(in("0.0.0.0/0", "203.0.113.9"));
	assert_false(in("0.0.0.0/0", "2001:db8::1")); /* IPv4 /0 is not IPv6 */
	assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(in("2001:db8::/32", "2001:db9::1"));
	assert_true(in("2001:db8::/127", "2001:db8::1"));
	assert_false(in("2001:db8::/128", "2001:db8::1"));
	assert_true(in("::/0", "2001:db8::1"));
	assert_true(in("fd00::/8", "fdff::1"));
	/* a v4 peer on an IPv6 socket arrives as ::ffff:a.b.c.d */
	assert_true(in("10.0.0.0/8", "::ffff:10.1.2.3"));
	assert_true(in("::ffff:10.0.0.0/104", "10.1.2.3"));
}

static void test_cidr_refusals(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33",    "2001:db8::/129", "10.0.0.0/",   "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/08",    "10.0.0.0/8/8",   "10.0.0.0/ 8", "/8",          "10.0.0.1/8",
		"2001:db8::1/32", "fe80::%eth0/64", "[::1]/128",   "host/32",     "10.0.0.0/1000",
	};
	struct cidr c;
	char err[160];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		if (cidr_parse(bad[i], strlen(bad[i]), &c, err, sizeof err) == 0)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(cidr_parse("10.0.0.1/8", 10, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "10.0.0.0/8")); /* the message names the network */
	assert_int_equal(cidr_parse("0.0.0.0/0", 9, &c, err, sizeof err), 0);
	assert_int_equal(c.bits, 96);
}

static void test_list(void **state)
{
	struct cidr_list *l = malloc(sizeof *l);
	char err[200];
	assert_int_equal(cidr_list_parse("10.0.0.0/8, 192.168.0.0/16,\t::1", l, err, sizeof err),
			 0);
	assert_int_equal(l->n, 3);
	struct ipaddr a = ip("192.168.4.4");
	assert_true(cidr_list_contains(l, &a));
	a = ip("::1");
	assert_true(cidr_list_contains(l, &a));
	a = ip("8.8.8.8");
	assert_false(cidr_list_contains(l, &a));
	assert_false(cidr_list_contains(NULL, &a));

	static const char *const bad[] = {
		"", ",", "10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.0/8,,::1", "10.0.0.0/8;::1", " "};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (cidr_list_parse(bad[i], l, err, sizeof err) == 0)
			fail_msg("list '%s' was accepted", bad[i]);

	/* at most CIDR_LIST_MAX items */
	char big[CIDR_LIST_MAX * 16 + 32];
	size_t n = 0;
	for (int i = 0; i <= CIDR_LIST_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "%s10.0.%d.0/24", i ? "," : "", i);
	assert_int_equal(cidr_list_parse(big, l, err, sizeof err), -1);
	assert_non_null(strstr(err, "more than"));
	*strrchr(big, ',') = '\0';
	assert_int_equal(cidr_list_parse(big, l, err, sizeof err), 0);
	assert_int_equal(l->n, CIDR_LIST_MAX);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_parse),      cmocka_unit_test(test_ip_format),
		cmocka_unit_test(test_loopback),      cmocka_unit_test(test_cidr_match),
		cmocka_unit_test(test_cidr_refusals), cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
