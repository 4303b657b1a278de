/* Unit tests for common/checkdigit.c: the published valid numbers, every
 * single-digit mutation of them, wrong lengths, non-digits, and each
 * scheme's one-valid-digit-per-base property over many bases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/checkdigit.h"

typedef int (*check_fn)(const char *s, size_t n);
typedef int (*compute_fn)(const char *s, size_t n);

/* Mutates every position of a valid number to every other digit. Returns how
 * many mutations check() accepted (the caller asserts the expected count). */
static int accepted_mutations(const char *valid, check_fn check)
{
	char s[32];
	size_t n = strlen(valid);
	int accepted = 0;
	assert_true(n < sizeof s);
	memcpy(s, valid, n + 1);
	assert_int_equal(check(s, n), 0);
	for (size_t i = 0; i < n; i++) {
		for (char d = '0'; d <= '9'; d++) {
			if (d == valid[i])
				continue;
			s[i] = d;
			int rc = check(s, n);
			assert_true(rc == 0 || rc == CHECKDIGIT_EMISMATCH);
			if (rc == 0)
				accepted++;
		}
		s[i] = valid[i];
	}
	return accepted;
}

static void test_mynumber(void **state)
{
	assert_int_equal(checkdigit_mynumber("98320567321", 11), 4);
	assert_true(checkdigit_mynumber_valid("983205673214", 12));
	assert_int_equal(checkdigit_mynumber_check("983205673214", 12), 0);
	assert_int_equal(checkdigit_mynumber_check("983205673215", 12), CHECKDIGIT_EMISMATCH);
	/* r = 7 for this base: no single substitution reaches r' = 7 again, and
	 * r' in {0,1} gives 0, not 4, so every mutation is caught */
	assert_int_equal(accepted_mutations("983205673214", checkdigit_mynumber_check), 0);
	/* the r <= 1 branch: 00000000000 has r = 0, 00000000010 has r = 3*1 = 3,
	 * 00000000005 has 2*5 = 10 → 1 */
	assert_int_equal(checkdigit_mynumber("00000000000", 11), 0);
	assert_int_equal(checkdigit_mynumber("00000000010", 11), 8);
	assert_int_equal(checkdigit_mynumber("00000000005", 11), 1);
	assert_int_equal(checkdigit_mynumber("00000000006", 11), 0); /* 12 mod 11 = 1 */
	/* leftmost weight is 6 (P_11, Q = 11 - 5) */
	assert_int_equal(checkdigit_mynumber("10000000000", 11), 5);
	/* 7th from the right has weight 2 (n − 5 = 2) */
	assert_int_equal(checkdigit_mynumber("00001000000", 11), 9);

	assert_int_equal(checkdigit_mynumber_check("98320567321", 11), CHECKDIGIT_ELENGTH);
	assert_int_equal(checkdigit_mynumber_check("9832056732140", 13), CHECKDIGIT_ELENGTH);
	assert_int_equal(checkdigit_mynumber_check("", 0), CHECKDIGIT_ELENGTH);
	assert_int_equal(checkdigit_mynumber_check("98320567321a", 12), CHECKDIGIT_EDIGIT);
	assert_int_equal(checkdigit_mynumber_check("9832056 3214", 12), CHECKDIGIT_EDIGIT);
	assert_int_equal(checkdigit_mynumber_check("-83205673214", 12), CHECKDIGIT_EDIGIT);
	assert_int_equal(checkdigit_mynumber_check("98320\0"
						   "673214",
						   12),
			 CHECKDIGIT_EDIGIT);
	assert_int_equal(checkdigit_mynumber_check(NULL, 12), CHECKDIGIT_EDIGIT);
	assert_int_equal(checkdigit_mynumber("9832056732", 10), CHECKDIGIT_ELENGTH);
	assert_int_equal(checkdigit_mynumber("9832056732x", 11), CHECKDIGIT_EDIGIT);
	/* full-width digits are not accepted here (the normalizer folds them) */
	assert_false(checkdigit_mynumber_valid("\xef\xbc\x99"
					       "83205673214",
					       14));
	/* only the first n bytes count */
	assert_true(checkdigit_mynumber_valid("983205673214999", 12));
	assert_false(checkdigit_mynumber_valid("983205673214", 11));
}

static void test_corporate(void **state)
{
	assert_true(checkdigit_corporate_valid("5835678256246", 13));
	assert_true(checkdigit_corporate_valid("7123456789012", 13));
	assert_int_equal(checkdigit_corporate("835678256246", 12), 5);
	assert_int_equal(checkdigit_corporate("123456789012", 12), 7);
	/* the check digit is first: the same digits with it last are wrong */
	assert_false(checkdigit_corporate_valid("8356782562465", 13));
	/* mod 9 with weights 1 and 2 cannot see 0 <-> 9 in a base digit (the sum
	 * moves by 9 or 18); every other single substitution is caught */
	const char *nums[] = {"5835678256246", "7123456789012"};
	for (size_t k = 0; k < 2; k++) {
		char s[14];
		memcpy(s, nums[k], 14);
		int expect = 0;
		for (size_t i = 1; i < 13; i++)
			if (s[i] == '0' || s[i] == '9')
				expect++;
		assert_int_equal(accepted_mutations(nums[k], checkdigit_corporate_check), expect);
	}
	assert_int_equal(checkdigit_corporate("000000000000", 12), 9);
	assert_int_equal(checkdigit_corporate("000000000009", 12), 9);
	assert_int_equal(checkdigit_corporate("000000000010", 12), 7); /* even n: weight 2 */
	/* a leading 0 can never be valid: check is 1..9 */
	for (int i = 0; i < 1000; i++) {
		char b[13];
		snprintf(b, sizeof b, "%012d", i * 7919);
		int cd = checkdigit_corporate(b, 12);
		assert_true(cd >= 1 && cd <= 9);
	}
	assert_int_equal(checkdigit_corporate_check("583567825624", 12), CHECKDIGIT_ELENGTH);
	assert_int_equal(checkdigit_corporate_check("58356782562460", 14), CHECKDIGIT_ELENGTH);
	assert_int_equal(checkdigit_corporate_check("x835678256246", 13), CHECKDIGIT_EDIGIT);
	assert_int_equal(checkdigit_corporate_check("583567825624x", 13), CHECKDIGIT_EDIGIT);
	assert_int_equal(checkdigit_corporate_check("6835678256246", 13), CHECKDIGIT_EMISMATCH);
	assert_int_equal(checkdigit_corporate_check(NULL, 13), CHECKDIGIT_EDIGIT);
}

static void test_lgcode(void **state)
{
	assert_true(checkdigit_lgcode_valid("302015", 6)); /* 和歌山市 */
	assert_true(checkdigit_lgcode_valid("131016", 6)); /* 千代田区 */
	assert_int_equal(checkdigit_lgcode("13105", 5), 9);
	assert_int_equal(checkdigit_lgcode("00000", 5), 1); /* r = 0 */
	assert_int_equal(checkdigit_lgcode("20000", 5), 0); /* r = 1 */
	assert_int_equal(checkdigit_lgcode("00005", 5), 1); /* r = 10 */
	assert_int_equal(checkdigit_lgcode_check("30201", 5), CHECKDIGIT_ELENGTH);
	assert_int_equal(checkdigit_lgcode_check("3020a5", 6), CHECKDIGIT_EDIGIT);
	assert_int_equal(checkdigit_lgcode_check("302016", 6), CHECKDIGIT_EMISMATCH);
	/* (11 - r) mod 10 folds r = 0 and r = 10 together: a mutation is missed
	 * exactly when it moves r between those two; count it from the rule */
	const char *codes[] = {"302015", "131016", "011002", "465054"};
	for (size_t k = 0; k < 4; k++) {
		char b[6];
		int expect = 0;
		memcpy(b, codes[k], 5);
		for (size_t i = 0; i < 5; i++) {
			for (char d = '0'; d <= '9'; d++) {
				if (d == codes[k][i])
					continue;
				b[i] = d;
				if (checkdigit_lgcode(b, 5) == codes[k][5] - '0')
					expect++;
			}
			b[i] = codes[k][i];
		}
		assert_int_equal(accepted_mutations(codes[k], checkdigit_lgcode_check), expect);
	}
}

static void test_atena(void **state)
{
	/* worked by hand: base 1234567 → weights from the right 2,3,4,5,6,7,2:
	 * 7*2+6*3+5*4+4*5+3*6+2*7+1*2 = 106, 106 mod 11 = 7, check 4 */
	assert_int_equal(checkdigit_atena("1234567", 7), 4);
	assert_true(checkdigit_atena_valid("12345674", 8));
	/* the cycle restarts at the 7th digit from the right: 1000000 → 1*2 */
	assert_int_equal(checkdigit_atena("1000000", 7), 9);
	assert_int_equal(checkdigit_atena("100000", 6), 4); /* weight 7: r 7 */
	assert_int_equal(checkdigit_atena("0", 1), 0);      /* r = 0 → 0 */
	assert_int_equal(checkdigit_atena("5", 1), 1);      /* 10 → 1 */
	assert_int_equal(checkdigit_atena("6", 1), 0);      /* 12 mod 11 = 1 → 0 */
	assert_int_equal(checkdigit_atena("1", 1), 9);      /* 2 → 9 */
	/* an 11-digit base is the My Number rule */
	assert_int_equal(checkdigit_atena("98320567321", 11), 4);
	/* lengths: base 1..15 */
	assert_int_equal(checkdigit_atena("", 0), CHECKDIGIT_ELENGTH);
	assert_true(checkdigit_atena("123456789012345", 15) >= 0);
	assert_int_equal(checkdigit_atena("1234567890123456", 16), CHECKDIGIT_ELENGTH);
	assert_int_equal(checkdigit_atena_check("1", 1), CHECKDIGIT_ELENGTH);
	assert_int_equal(checkdigit_atena_check("12345678901234567", 17), CHECKDIGIT_ELENGTH);
	assert_int_equal(checkdigit_atena_check("1234a674", 8), CHECKDIGIT_EDIGIT);
	assert_int_equal(checkdigit_atena_check("1234567x", 8), CHECKDIGIT_EDIGIT);
	assert_int_equal(checkdigit_atena_check("12345675", 8), CHECKDIGIT_EMISMATCH);
	/* weights 2..7 are units mod 11, so a base substitution always moves r;
	 * it is missed only when r moves between 0 and 1 (both give check 0) */
	assert_int_equal(accepted_mutations("12345674", checkdigit_atena_check), 0);
	/* for every length, exactly one check digit is valid per base */
	char s[17];
	for (size_t len = 1; len <= 15; len++) {
		for (int seed = 0; seed < 200; seed++) {
			unsigned x = (unsigned)seed * 2654435761u + (unsigned)len;
			for (size_t i = 0; i < len; i++) {
				x = x * 1103515245u + 12345u;
				s[i] = (char)('0' + (x >> 16) % 10);
			}
			int valid = 0;
			for (char d = '0'; d <= '9'; d++) {
				s[len] = d;
				if (checkdigit_atena_valid(s, len + 1))
					valid++;
			}
			assert_int_equal(valid, 1);
		}
	}
}

static void test_strerror(void **state)
{
	assert_string_equal(checkdigit_strerror(CHECKDIGIT_EMISMATCH), "check digit mismatch");
	assert_string_equal(checkdigit_strerror(CHECKDIGIT_ELENGTH), "wrong length");
	assert_string_equal(checkdigit_strerror(CHECKDIGIT_EDIGIT), "not ASCII digits");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mynumber), cmocka_unit_test(test_corporate),
		cmocka_unit_test(test_lgcode),   cmocka_unit_test(test_atena),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
