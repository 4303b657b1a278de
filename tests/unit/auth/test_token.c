/* Unit tests for src/auth/token.c: token shape and randomness, the keyed
 * BLAKE2b storage hash against values from an independent implementation
 * (Python's hashlib), and the hex and base64url codecs (RFC 4648 §10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/token.h"

static void test_new_shape_and_uniqueness(void **state)
{
	char a[TOKEN_STR_SIZE], b[TOKEN_STR_SIZE];
	unsigned char raw[TOKEN_BYTES + 8];
	size_t n = 0;

	assert_int_equal(token_new(a), 0);
	assert_int_equal(token_new(b), 0);
	assert_int_equal(strlen(a), TOKEN_STR_LEN);
	assert_true(token_format_ok(a, strlen(a)));
	assert_true(token_format_ok(b, strlen(b)));
	assert_string_not_equal(a, b);
	assert_int_equal(token_b64url_decode(a, strlen(a), raw, sizeof raw, &n), 0);
	assert_int_equal(n, TOKEN_BYTES);

	/* 200 tokens, no two alike and no constant byte position: a broken
	 * random source (all zero, repeated) would fail here. */
	static char many[200][TOKEN_STR_SIZE];
	for (int i = 0; i < 200; i++) {
		assert_int_equal(token_new(many[i]), 0);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(many[i], many[j]);
	}
	for (int pos = 0; pos < TOKEN_STR_LEN - 1; pos++) {
		int same = 0;
		for (int i = 1; i < 200; i++)
			same += many[i][pos] == many[0][pos];
		assert_true(same < 50);
	}
}

static void test_format_ok(void **state)
{
	char t[TOKEN_STR_SIZE];
	assert_int_equal(token_new(t), 0);
	assert_false(token_format_ok(t, TOKEN_STR_LEN - 1));
	assert_false(token_format_ok(NULL, 0));
	char longer[TOKEN_STR_SIZE + 1];
	memcpy(longer, t, TOKEN_STR_LEN);
	longer[TOKEN_STR_LEN] = 'A';
	assert_false(token_format_ok(longer, TOKEN_STR_LEN + 1));

	char bad[TOKEN_STR_SIZE];
	memcpy(bad, t, sizeof bad);
	bad[5] = '+';
	assert_false(token_format_ok(bad, TOKEN_STR_LEN));
	bad[5] = '=';
	assert_false(token_format_ok(bad, TOKEN_STR_LEN));
	/* 43 characters: the last may only be one of A, E, I, … (low bits 0). */
	memcpy(bad, t, sizeof bad);
	bad[TOKEN_STR_LEN - 1] = 'B';
	assert_false(token_format_ok(bad, TOKEN_STR_LEN));
	bad[TOKEN_STR_LEN - 1] = 'E';
	assert_true(token_format_ok(bad, TOKEN_STR_LEN));
}

static void test_hash_known_answers(void **state)
{
	unsigned char key[32], key16[16], h[TOKEN_HASH_BYTES], h2[TOKEN_HASH_BYTES];
	char hex[TOKEN_HASH_HEX_SIZE];
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)i;
	memcpy(key16, key, 16);
	const char *tok = "madoguchi-session-token";

	/* hashlib.blake2b(b'madoguchi-session-token', key=bytes(range(32)),
	 * digest_size=32).hexdigest() */
	assert_int_equal(token_hash_hex(key, 32, tok, strlen(tok), hex), 0);
	assert_string_equal(hex, "4ffc769e8e6e5bbec58a5ffeeee6609e"
				 "7823c3a5853200280171a320022cffe6");
	assert_int_equal(token_hash_hex(key16, 16, "", 0, hex), 0);
	assert_string_equal(hex,
			    "037c7d740ea795902b5aebe210fafffff1f627f74010f8dc79c0d5b8a9fb5847");

	/* Raw and hex forms agree; key and token both matter. */
	assert_int_equal(token_hash(key, 32, tok, strlen(tok), h), 0);
	char hex2[TOKEN_HASH_HEX_SIZE];
	assert_int_equal(token_hex_encode(h, sizeof h, hex2, sizeof hex2), 0);
	assert_int_equal(token_hash_hex(key, 32, tok, strlen(tok), hex), 0);
	assert_string_equal(hex, hex2);
	key[31] ^= 1;
	assert_int_equal(token_hash(key, 32, tok, strlen(tok), h2), 0);
	assert_memory_not_equal(h, h2, sizeof h);
	key[31] ^= 1;
	assert_int_equal(token_hash(key, 32, tok, strlen(tok) - 1, h2), 0);
	assert_memory_not_equal(h, h2, sizeof h);
}

static void test_hash_key_bounds(void **state)
{
	unsigned char key[TOKEN_KEY_MAX + 1] = {0}, h[TOKEN_HASH_BYTES];
	assert_int_equal(token_hash(key, TOKEN_KEY_MIN - 1, "x", 1, h), TOKEN_EINVAL);
	assert_int_equal(token_hash(key, TOKEN_KEY_MAX + 1, "x", 1, h), TOKEN_EINVAL);
	assert_int_equal(token_hash(NULL, 32, "x", 1, h), TOKEN_EINVAL);
	assert_int_equal(token_hash(key, 32, NULL, 1, h), TOKEN_EINVAL);
	assert_int_equal(token_hash(key, TOKEN_KEY_MIN, "x", 1, h), 0);
	assert_int_equal(token_hash(key, TOKEN_KEY_MAX, "x", 1, h), 0);
}

static void test_equal(void **state)
{
	const char a[] = "abcdefghijklmnop", b[] = "abcdefghijklmnoq";
	assert_true(token_equal(a, 16, a, 16));
	assert_false(token_equal(a, 16, b, 16));
	assert_true(token_equal(a, 15, b, 15));
	assert_false(token_equal(a, 16, a, 15));
	assert_true(token_equal(a, 0, b, 0));
}

static void test_hex(void **state)
{
	const unsigned char bin[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char hex[13], small[12];
	unsigned char out[6];
	size_t n = 0;

	assert_int_equal(token_hex_encode(bin, sizeof bin, hex, sizeof hex), 0);
	assert_string_equal(hex, "00017f80abff");
	assert_int_equal(token_hex_encode(bin, sizeof bin, small, sizeof small), TOKEN_ESPACE);
	assert_int_equal(token_hex_decode("00017F80abFF", 12, out, sizeof out, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, bin, 6);
	assert_int_equal(token_hex_decode("0001", 3, out, sizeof out, &n), TOKEN_EINVAL);
	assert_int_equal(token_hex_decode("0g", 2, out, sizeof out, &n), TOKEN_EINVAL);
	assert_int_equal(token_hex_decode("00 1", 4, out, sizeof out, &n), TOKEN_EINVAL);
	assert_int_equal(token_hex_decode("00010203040506", 14, out, sizeof out, &n), TOKEN_ESPACE);
	assert_int_equal(token_hex_decode("", 0, out, sizeof out, &n), 0);
	assert_int_equal(n, 0);
}

static void test_b64url_rfc4648(void **state)
{
	/* RFC 4648 §10 vectors in the URL-safe alphabet, padding removed. */
	static const struct {
		const char *in, *out;
	} v[] = {
		{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
		{"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
	};
	char enc[32];
	unsigned char dec[32];
	size_t n;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_int_equal(token_b64url_encode(v[i].in, strlen(v[i].in), enc, sizeof enc), 0);
		assert_string_equal(enc, v[i].out);
		n = 99;
		assert_int_equal(
			token_b64url_decode(v[i].out, strlen(v[i].out), dec, sizeof dec, &n), 0);
		assert_int_equal(n, strlen(v[i].in));
		assert_memory_equal(dec, v[i].in, n);
	}
	/* The two characters that differ from standard base64. */
	const unsigned char odd[] = {0xfb, 0xff, 0xfe};
	assert_int_equal(token_b64url_encode(odd, 3, enc, sizeof enc), 0);
	assert_string_equal(enc, "-__-");

	assert_int_equal(token_b64url_decode("Zg==", 4, dec, sizeof dec, &n), TOKEN_EINVAL);
	assert_int_equal(token_b64url_decode("Zh", 2, dec, sizeof dec, &n), TOKEN_EINVAL);
	assert_int_equal(token_b64url_decode("Z", 1, dec, sizeof dec, &n), TOKEN_EINVAL);
	assert_int_equal(token_b64url_decode("Zm9v Yg", 7, dec, sizeof dec, &n), TOKEN_EINVAL);
	assert_int_equal(token_b64url_decode("+/8", 3, dec, sizeof dec, &n), TOKEN_EINVAL);
	assert_int_equal(token_b64url_decode("Zm9vYmFy", 8, dec, 5, &n), TOKEN_ESPACE);
	assert_int_equal(token_b64url_encode("foobar", 6, enc, 8), TOKEN_ESPACE);
}

static void test_random(void **state)
{
	unsigned char a[64] = {0}, zero[64] = {0};
	assert_int_equal(token_random(a, sizeof a), 0);
	assert_memory_not_equal(a, zero, sizeof a);
	assert_string_not_equal(token_strerror(TOKEN_EINVAL), token_strerror(TOKEN_ESPACE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_shape_and_uniqueness),
		cmocka_unit_test(test_format_ok),
		cmocka_unit_test(test_hash_known_answers),
		cmocka_unit_test(test_hash_key_bounds),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_b64url_rfc4648),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
