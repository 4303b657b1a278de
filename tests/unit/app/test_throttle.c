/* Unit tests of the per-address log-in throttle (src/app/throttle.c): taking
 * attempts before verifying, giving back the ones that were no failure, the
 * window, the bounded table, and the key (IPv4 itself, IPv6 its /64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/throttle.h"

static int setup(void **state)
{
	throttle_reset();
	return 0;
}

static void allows_until_limit(void **state)
{
	int64_t retry = -1, now = 1000000;
	for (int i = 0; i < 5; i++)
		assert_true(throttle_take("192.0.2.1", 5, now, &retry));
	assert_int_equal(retry, -1);
	assert_false(throttle_take("192.0.2.1", 5, now + 1000, &retry));
	assert_int_equal(retry, THROTTLE_WINDOW_MS / 1000 - 1);
	/* a refused attempt is not counted: giving one back opens exactly one */
	throttle_give_back("192.0.2.1", now + 2000);
	assert_true(throttle_take("192.0.2.1", 5, now + 3000, &retry));
	assert_false(throttle_take("192.0.2.1", 5, now + 3000, &retry));
	/* other addresses are not affected */
	assert_true(throttle_take("192.0.2.2", 5, now, &retry));
}

/* Attempts taken and given back (right passwords) never add up to a refusal,
 * while attempts in flight count: N parallel requests cannot all pass. */
static void give_back_and_in_flight(void **state)
{
	int64_t retry, now = 2000000;
	for (int i = 0; i < 100; i++) {
		assert_true(throttle_take("198.51.100.1", 3, now, &retry));
		throttle_give_back("198.51.100.1", now);
	}
	int passed = 0;
	for (int i = 0; i < 20; i++) /* 20 taken before any is verified */
		passed += throttle_take("198.51.100.1", 3, now, &retry);
	assert_int_equal(passed, 3);
	/* giving back more than was taken never goes below zero */
	for (int i = 0; i < 10; i++)
		throttle_give_back("198.51.100.2", now);
	passed = 0;
	for (int i = 0; i < 10; i++)
		passed += throttle_take("198.51.100.2", 3, now, &retry);
	assert_int_equal(passed, 3);
}

static void window_expires(void **state)
{
	int64_t retry, now = 5000000;
	for (int i = 0; i < 3; i++)
		assert_true(throttle_take("2001:db8::1", 3, now, &retry));
	assert_false(throttle_take("2001:db8::1", 3, now, &retry));
	assert_true(throttle_take("2001:db8::1", 3, now + THROTTLE_WINDOW_MS + 1, &retry));
	/* a give-back after the window turned over takes from the new window
	 * only what it holds */
	throttle_give_back("2001:db8::1", now + THROTTLE_WINDOW_MS + 2);
	throttle_give_back("2001:db8::1", now + THROTTLE_WINDOW_MS + 2);
	for (int i = 0; i < 3; i++)
		assert_true(throttle_take("2001:db8::1", 3, now + THROTTLE_WINDOW_MS + 3, &retry));
	assert_false(throttle_take("2001:db8::1", 3, now + THROTTLE_WINDOW_MS + 3, &retry));
}

static void zero_means_no_limit(void **state)
{
	int64_t retry;
	for (int i = 0; i < 100; i++)
		assert_true(throttle_take("198.51.100.7", 0, 0, &retry));
	/* and nothing was counted meanwhile */
	assert_true(throttle_take("198.51.100.7", 1, 0, &retry));
	assert_false(throttle_take("198.51.100.7", 1, 0, &retry));
}

/* Many addresses never grow memory and never make a busy address forget
 * its count while it is among the most recent. */
static void table_is_bounded(void **state)
{
	int64_t retry, now = 9000000;
	for (int i = 0; i < 10; i++)
		assert_true(throttle_take("203.0.113.9", 100, now, &retry));
	char ip[64];
	for (int i = 0; i < 100000; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		assert_true(throttle_take(ip, 100, now - 1000, &retry));
	}
	/* the table replaces the stalest windows first: the newer one survives */
	assert_false(throttle_take("203.0.113.9", 10, now, &retry));
}

/* Successful log-ins (taken and given back) from many more addresses than
 * the table holds, all newer, do not push out a guessing address's count. */
static void successes_do_not_evict(void **state)
{
	int64_t retry, now = 9000000;
	for (int i = 0; i < 10; i++)
		assert_true(throttle_take("203.0.113.10", 100, now, &retry));
	char ip[64];
	for (int i = 0; i < 100000; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		assert_true(throttle_take(ip, 100, now + 1000, &retry));
		throttle_give_back(ip, now + 1000);
	}
	assert_false(throttle_take("203.0.113.10", 10, now + 2000, &retry));
}

static void key_of(const char *ip, const char *want)
{
	char k[THROTTLE_KEY_MAX];
	memset(k, 'x', sizeof k);
	throttle_key(ip, k, sizeof k);
	assert_string_equal(k, want);
}

static void keys(void **state)
{
	/* IPv4: the whole address, however it is written */
	key_of("192.0.2.1", "192.0.2.1");
	key_of("::ffff:192.0.2.1", "192.0.2.1");
	key_of("::FFFF:c000:0201", "192.0.2.1");
	/* IPv6: the /64, in RFC 5952 form */
	key_of("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64");
	key_of("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64");
	key_of("2001:db8::1", "2001:db8::/64");
	key_of("::1", "::/64");
	key_of("fe80::1234", "fe80::/64");
	/* not an address: itself, bounded */
	key_of("", "");
	key_of("unix", "unix");
	char longtext[200];
	memset(longtext, 'a', sizeof longtext - 1);
	longtext[sizeof longtext - 1] = '\0';
	char k[THROTTLE_KEY_MAX];
	throttle_key(longtext, k, sizeof k);
	assert_int_equal(strlen(k), THROTTLE_KEY_MAX - 1);
	/* the longest IPv6 text still fits with its /64 */
	key_of("1111:2222:3333:4444:5555:6666:7777:8888", "1111:2222:3333:4444::/64");
	char small[8];
	throttle_key("2001:db8:1:2::9", small, sizeof small);
	assert_int_equal(strlen(small), sizeof small - 1);
}

/* One client rotating through its /64 is one key; the next /64 is another. */
static void ipv6_counts_per_64(void **state)
{
	int64_t retry, now = 7000000;
	char ip[64];
	for (int i = 1; i <= 4; i++) {
		snprintf(ip, sizeof ip, "2001:db8:aa:bb::%x", i * 4097);
		assert_true(throttle_take(ip, 4, now, &retry));
	}
	assert_false(throttle_take("2001:db8:aa:bb:ffff::1", 4, now, &retry));
	assert_true(throttle_take("2001:db8:aa:bc::1", 4, now, &retry));
	/* IPv4 neighbours are separate */
	for (int i = 0; i < 4; i++)
		assert_true(throttle_take("192.0.2.50", 4, now, &retry));
	assert_false(throttle_take("192.0.2.50", 4, now, &retry));
	assert_true(throttle_take("192.0.2.51", 4, now, &retry));
	/* a give-back from another address of the /64 frees the shared count */
	throttle_give_back("2001:db8:aa:bb::77", now);
	assert_true(throttle_take("2001:db8:aa:bb::78", 4, now, &retry));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(allows_until_limit, setup),
		cmocka_unit_test_setup(give_back_and_in_flight, setup),
		cmocka_unit_test_setup(window_expires, setup),
		cmocka_unit_test_setup(zero_means_no_limit, setup),
		cmocka_unit_test_setup(table_is_bounded, setup),
		cmocka_unit_test_setup(successes_do_not_evict, setup),
		cmocka_unit_test_setup(keys, setup),
		cmocka_unit_test_setup(ipv6_counts_per_64, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
