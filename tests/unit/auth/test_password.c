/* Unit tests for src/auth/password.c: Argon2id hashing and verification with
 * real libsodium, rehash decisions, and the password policy with its Japanese
 * messages. Most tests run at the minimum cost to stay fast; one runs the
 * production INTERACTIVE cost end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth/password.h"

static int use_minimum_cost(void **state)
{
	struct password_cost c = password_cost_minimum();
	return password_set_default_cost(&c);
}

static void test_interactive_cost_round_trip(void **state)
{
	struct password_cost c = password_cost_interactive();
	char h[PASSWORD_HASH_SIZE];
	const char *pw = "correct horse battery staple";

	assert_int_equal(password_hash(pw, strlen(pw), &c, h), 0);
	/* Argon2id, version 19, 64 MiB, 2 passes, one lane. */
	assert_non_null(strstr(h, "$argon2id$v=19$m=65536,t=2,p=1$"));
	assert_int_equal(password_verify(h, pw, strlen(pw)), 0);
	assert_int_equal(password_verify(h, "correct horse battery stapl", strlen(pw) - 1),
			 PASSWORD_EMISMATCH);
	assert_int_equal(password_needs_rehash(h, &c), 0);
}

static void test_hash_verify(void **state)
{
	char h1[PASSWORD_HASH_SIZE], h2[PASSWORD_HASH_SIZE];
	const char *pw = "わかやましみんか2024";

	assert_int_equal(password_hash(pw, strlen(pw), NULL, h1), 0);
	assert_int_equal(password_hash(pw, strlen(pw), NULL, h2), 0);
	assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
	assert_string_not_equal(h1, h2); /* fresh salt each time */
	assert_int_equal(password_verify(h1, pw, strlen(pw)), 0);
	assert_int_equal(password_verify(h2, pw, strlen(pw)), 0);
	assert_int_equal(password_verify(h1, "わかやましみんか2025", strlen(pw)),
			 PASSWORD_EMISMATCH);
	assert_int_equal(password_verify(h1, "", 0), PASSWORD_EMISMATCH);
	/* The dummy must not disturb anything and must accept any input. */
	password_verify_dummy(pw, strlen(pw));
	password_verify_dummy("", 0);
	assert_int_equal(password_verify(h1, pw, strlen(pw)), 0);
}

static void test_length_is_explicit(void **state)
{
	/* Bytes after a NUL count: the length, not strlen, is the password. */
	const char pw[] = "abcdefghij\0klmnop";
	char h[PASSWORD_HASH_SIZE];
	assert_int_equal(password_hash(pw, sizeof pw - 1, NULL, h), 0);
	assert_int_equal(password_verify(h, pw, sizeof pw - 1), 0);
	assert_int_equal(password_verify(h, pw, 10), PASSWORD_EMISMATCH);
}

static void test_max_length(void **state)
{
	static char pw[PASSWORD_MAX_BYTES + 1];
	char h[PASSWORD_HASH_SIZE];
	memset(pw, 'x', sizeof pw);
	assert_int_equal(password_hash(pw, PASSWORD_MAX_BYTES + 1, NULL, h), PASSWORD_ETOOLONG);
	assert_int_equal(password_hash(pw, PASSWORD_MAX_BYTES, NULL, h), 0);
	assert_int_equal(password_verify(h, pw, PASSWORD_MAX_BYTES), 0);
	assert_int_equal(password_verify(h, pw, PASSWORD_MAX_BYTES + 1), PASSWORD_ETOOLONG);
}

static void test_stored_garbage(void **state)
{
	char longstr[PASSWORD_HASH_SIZE + 10];
	memset(longstr, 'a', sizeof longstr);
	memcpy(longstr, "$argon2id$", 10);
	longstr[sizeof longstr - 1] = '\0';

	assert_int_equal(password_verify(NULL, "x", 1), PASSWORD_EFORMAT);
	assert_int_equal(password_verify("", "x", 1), PASSWORD_EFORMAT);
	assert_int_equal(password_verify("plaintext-password", "plaintext-password", 18),
			 PASSWORD_EFORMAT);
	assert_int_equal(password_verify("$2y$10$abcdefghijklmnopqrstuv", "x", 1),
			 PASSWORD_EFORMAT);
	assert_int_equal(password_verify(longstr, "x", 1), PASSWORD_EFORMAT);
	/* Looks like Argon2id but cannot be parsed: can never match. */
	assert_int_equal(password_verify("$argon2id$v=19$m=8,t=1,p=1$xx$yy", "x", 1),
			 PASSWORD_EMISMATCH);
	assert_int_equal(password_needs_rehash("plaintext", NULL), PASSWORD_EFORMAT);
	assert_int_equal(password_needs_rehash("$argon2id$garbage", NULL), PASSWORD_EFORMAT);
}

static void test_needs_rehash(void **state)
{
	struct password_cost min = password_cost_minimum(), inter = password_cost_interactive();
	char h[PASSWORD_HASH_SIZE];
	assert_int_equal(password_hash("abcdefghijk", 11, &min, h), 0);
	assert_int_equal(password_needs_rehash(h, &min), 0);
	assert_int_equal(password_needs_rehash(h, NULL), 0); /* default is min here */
	assert_int_equal(password_needs_rehash(h, &inter), 1);

	/* A legacy Argon2i string verifies, but must be upgraded even when its
	 * numbers are the current ones. */
	struct password_cost same = {crypto_pwhash_argon2i_OPSLIMIT_MIN, min.memlimit};
	char legacy[crypto_pwhash_argon2i_STRBYTES];
	assert_int_equal(
		crypto_pwhash_argon2i_str(legacy, "abcdefghijk", 11, same.opslimit, same.memlimit),
		0);
	assert_int_equal(strncmp(legacy, "$argon2i$", 9), 0);
	assert_int_equal(password_verify(legacy, "abcdefghijk", 11), 0);
	assert_int_equal(password_verify(legacy, "abcdefghijj", 11), PASSWORD_EMISMATCH);
	/* libsodium alone says "current" for these numbers; we still upgrade. */
	assert_int_equal(crypto_pwhash_str_needs_rehash(legacy, same.opslimit, same.memlimit), 0);
	assert_int_equal(password_needs_rehash(legacy, &same), 1);
	assert_int_equal(password_needs_rehash(legacy, NULL), 1);
}

static void test_cost_configuration(void **state)
{
	struct password_cost bad = {0, 1 << 20}, before = password_default_cost();
	assert_int_equal(password_set_default_cost(&bad), PASSWORD_EINVAL);
	assert_int_equal(password_set_default_cost(NULL), PASSWORD_EINVAL);
	struct password_cost after = password_default_cost();
	assert_int_equal(after.opslimit, before.opslimit);
	assert_int_equal(after.memlimit, before.memlimit);
	bad.opslimit = 1;
	bad.memlimit = 1024; /* below Argon2id's 8 KiB floor */
	char h[PASSWORD_HASH_SIZE];
	assert_int_equal(password_hash("abcdefghijk", 11, &bad, h), PASSWORD_EINVAL);
	struct password_cost inter = password_cost_interactive();
	assert_int_equal(inter.opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
	assert_int_equal(inter.memlimit, crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

static void test_policy(void **state)
{
	const char *msg = "unset";
	static char big[PASSWORD_MAX_BYTES + 1];

	assert_int_equal(password_policy_check("abcdefghij", 10, &msg), 0);
	assert_null(msg);
	assert_int_equal(password_policy_check("abcdefghi", 9, &msg), PASSWORD_ETOOSHORT);
	assert_string_equal(msg, "パスワードは10文字以上で入力してください。");
	assert_int_equal(password_policy_check("", 0, &msg), PASSWORD_ETOOSHORT);
	assert_int_equal(password_policy_check(NULL, 0, NULL), PASSWORD_ETOOSHORT);

	/* Characters, not bytes: nine kana are 27 bytes but still too short. */
	const char *nine = "あいうえおかきくけ", *ten = "あいうえおかきくけこ";
	assert_int_equal(password_policy_check(nine, strlen(nine), &msg), PASSWORD_ETOOSHORT);
	assert_int_equal(password_policy_check(ten, strlen(ten), &msg), 0);
	/* Spaces and symbols are allowed. */
	assert_int_equal(password_policy_check("pass phrase !", 13, &msg), 0);

	assert_int_equal(password_policy_check("abcdefghij\xff", 11, &msg), PASSWORD_EENCODING);
	assert_non_null(strstr(msg, "使用できない文字"));
	assert_int_equal(password_policy_check("abcde\xc0\xafghijk", 12, &msg), PASSWORD_EENCODING);
	assert_int_equal(password_policy_check("abcdefghij\n", 11, &msg), PASSWORD_EENCODING);
	assert_int_equal(password_policy_check("abcde\0fghij", 11, &msg), PASSWORD_EENCODING);
	assert_int_equal(password_policy_check("abcdefghij\x7f", 11, &msg), PASSWORD_EENCODING);

	memset(big, 'a', sizeof big);
	assert_int_equal(password_policy_check(big, PASSWORD_MAX_BYTES, &msg), 0);
	assert_int_equal(password_policy_check(big, PASSWORD_MAX_BYTES + 1, &msg),
			 PASSWORD_ETOOLONG);
	assert_non_null(strstr(msg, "1024バイト"));
}

static void test_messages(void **state)
{
	const int codes[] = {PASSWORD_ETOOSHORT, PASSWORD_ETOOLONG, PASSWORD_EENCODING,
			     PASSWORD_EMISMATCH, PASSWORD_EINTERNAL};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		assert_true(strlen(password_message_ja(codes[i])) > 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(password_message_ja(codes[i]),
						password_message_ja(codes[j]));
	}
	/* A wrong password and an unusable stored hash read the same to a user. */
	assert_string_equal(password_message_ja(PASSWORD_EMISMATCH),
			    password_message_ja(PASSWORD_EFORMAT));
	assert_string_not_equal(password_strerror(PASSWORD_EMISMATCH),
				password_strerror(PASSWORD_EFORMAT));
}

/* Hashing and verifying on many threads at once: never more than the gate
 * allows run together, and every result is right. Each computation costs
 * 8 MiB and a few passes, long enough that the threads overlap. */
enum { NGATE = 6 };
static pthread_barrier_t gate_start;

static void *gate_worker(void *arg)
{
	const struct password_cost c = {4, 8u << 20};
	char h[PASSWORD_HASH_SIZE];
	int *ok = arg;
	pthread_barrier_wait(&gate_start);
	*ok = password_hash("gate-password", 13, &c, h) == 0 &&
	      password_verify(h, "gate-password", 13) == 0 &&
	      password_verify(h, "gate-passwore", 13) == PASSWORD_EMISMATCH;
	return NULL;
}

static unsigned run_gate(unsigned limit)
{
	pthread_t th[NGATE];
	int ok[NGATE] = {0};
	password_set_concurrency(limit);
	pthread_barrier_init(&gate_start, NULL, NGATE);
	for (int i = 0; i < NGATE; i++)
		assert_int_equal(pthread_create(&th[i], NULL, gate_worker, &ok[i]), 0);
	for (int i = 0; i < NGATE; i++) {
		pthread_join(th[i], NULL);
		assert_true(ok[i]);
	}
	pthread_barrier_destroy(&gate_start);
	return password_peak_concurrency();
}

static void test_concurrency_is_bounded(void **state)
{
	(void)state;
	assert_int_equal(run_gate(1), 1);
	unsigned two = run_gate(2);
	assert_true(two >= 1 && two <= 2);
	/* with room for all, they do run together (so the bound above is real) */
	assert_true(run_gate(NGATE) >= 2);
	password_set_concurrency(0); /* back to the default */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interactive_cost_round_trip),
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_length_is_explicit),
		cmocka_unit_test(test_max_length),
		cmocka_unit_test(test_stored_garbage),
		cmocka_unit_test(test_needs_rehash),
		cmocka_unit_test(test_cost_configuration),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_concurrency_is_bounded),
	};
	return cmocka_run_group_tests(tests, use_minimum_cost, NULL);
}
