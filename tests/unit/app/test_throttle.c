/* Unit tests of the per-address log-in throttle (src/app/throttle.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
	for (int i = 0; i < 5; i++) {
		assert_true(throttle_allow("192.0.2.1", 5, now, &retry));
		throttle_fail("192.0.2.1", now);
	}
	assert_false(throttle_allow("192.0.2.1", 5, now + 1000, &retry));
	assert_int_equal(retry, THROTTLE_WINDOW_MS / 1000 - 1);
	/* other addresses are not affected */
	assert_true(throttle_allow("192.0.2.2", 5, now, &retry));
}

static void window_expires(void **state)
{
	int64_t retry, now = 5000000;
	for (int i = 0; i < 3; i++)
		throttle_fail("2001:db8::1", now);
	assert_false(throttle_allow("2001:db8::1", 3, now, &retry));
	assert_true(throttle_allow("2001:db8::1", 3, now + THROTTLE_WINDOW_MS + 1, &retry));
}

static void zero_means_no_limit(void **state)
{
	int64_t retry;
	for (int i = 0; i < 100; i++)
		throttle_fail("198.51.100.7", 0);
	assert_true(throttle_allow("198.51.100.7", 0, 0, &retry));
	assert_false(throttle_allow("198.51.100.7", 100, 0, &retry));
}

/* Many addresses never grow memory and never make a busy address forget
 * its count while it is among the most recent. */
static void table_is_bounded(void **state)
{
	int64_t retry, now = 9000000;
	for (int i = 0; i < 10; i++)
		throttle_fail("203.0.113.9", now);
	char ip[64];
	for (int i = 0; i < 100000; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		throttle_fail(ip, now - 1000);
	}
	/* the table replaces the stalest windows first: the newer one survives */
	assert_false(throttle_allow("203.0.113.9", 10, now, &retry));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(allows_until_limit, setup),
		cmocka_unit_test_setup(window_expires, setup),
		cmocka_unit_test_setup(zero_means_no_limit, setup),
		cmocka_unit_test_setup(table_is_bounded, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
