/* Unit tests for src/auth/totp.c: the RFC 6238 Appendix B vectors for
 * HMAC-SHA1/SHA256/SHA512 (exact values), the RFC 4226 Appendix D HOTP
 * vectors, the verification window and replay rule, RFC 4648 §10 base32
 * vectors, and the otpauth:// URI. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/totp.h"

/* RFC 6238 Appendix B seeds: the ASCII digits repeated to 20, 32 and 64
 * bytes, one per hash (not the 20-byte seed for all three). */
static const unsigned char seed20[] = "12345678901234567890";
static const unsigned char seed32[] = "12345678901234567890123456789012";
static const unsigned char seed64[] = "1234567890123456789012345678901234567890"
				      "123456789012345678901234";

static void test_rfc6238_vectors(void **state)
{
	static const struct {
		long long t;
		const char *sha1, *sha256, *sha512;
	} v[] = {
		{59LL, "94287082", "46119246", "90693936"},
		{1111111109LL, "07081804", "68084774", "25091201"},
		{1111111111LL, "14050471", "67062674", "99943326"},
		{1234567890LL, "89005924", "91819424", "93441116"},
		{2000000000LL, "69279037", "90698825", "38618901"},
		{20000000000LL, "65353130", "77737706", "47863826"},
	};
	assert_int_equal(sizeof seed20 - 1, 20);
	assert_int_equal(sizeof seed32 - 1, 32);
	assert_int_equal(sizeof seed64 - 1, 64);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char code[TOTP_CODE_SIZE];
		struct totp_params p = {TOTP_SHA1, 8, 30, 1};
		assert_int_equal(totp_generate(seed20, 20, &p, (time_t)v[i].t, code), 0);
		assert_string_equal(code, v[i].sha1);
		p.alg = TOTP_SHA256;
		assert_int_equal(totp_generate(seed32, 32, &p, (time_t)v[i].t, code), 0);
		assert_string_equal(code, v[i].sha256);
		p.alg = TOTP_SHA512;
		assert_int_equal(totp_generate(seed64, 64, &p, (time_t)v[i].t, code), 0);
		assert_string_equal(code, v[i].sha512);
	}
	/* The time steps the RFC tabulates (T in hex). */
	uint64_t step;
	struct totp_params p = TOTP_PARAMS_DEFAULT;
	assert_int_equal(totp_step(&p, 1111111109, &step), 0);
	assert_int_equal(step, 0x23523EC);
	assert_int_equal(totp_step(&p, 20000000000LL, &step), 0);
	assert_int_equal(step, 0x27BC86AA);
}

static void test_rfc4226_hotp_vectors(void **state)
{
	static const uint32_t want[] = {755224, 287082, 359152, 969429, 338314,
					254676, 287922, 162583, 399871, 520489};
	for (uint64_t c = 0; c < 10; c++) {
		uint32_t v = 0;
		assert_int_equal(totp_hotp(seed20, 20, TOTP_SHA1, 6, c, &v), 0);
		assert_int_equal(v, want[c]);
	}
}

static void test_six_digits_zero_padded(void **state)
{
	/* 07081804 in 8 digits is 081804 in 6: leading zero kept. */
	struct totp_params p = TOTP_PARAMS_DEFAULT;
	char code[TOTP_CODE_SIZE];
	assert_int_equal(totp_generate(seed20, 20, &p, 1111111109, code), 0);
	assert_string_equal(code, "081804");
}

static void code_at(uint64_t step, const struct totp_params *p, char out[TOTP_CODE_SIZE])
{
	uint32_t v;
	assert_int_equal(totp_hotp(seed20, 20, p->alg, p->digits, step, &v), 0);
	char tmp[16];
	int n = snprintf(tmp, sizeof tmp, "%0*u", (int)p->digits, v);
	assert_int_equal(n, (int)p->digits);
	memcpy(out, tmp, (size_t)n + 1);
}

static void test_verify_window(void **state)
{
	struct totp_params p = TOTP_PARAMS_DEFAULT;
	const time_t now = 1111111111;
	const uint64_t s = 1111111111 / 30;
	char c[TOTP_CODE_SIZE];
	uint64_t got = 0;

	code_at(s, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, 0, &got), 0);
	assert_int_equal(got, s);
	code_at(s - 1, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, 0, &got), 0);
	assert_int_equal(got, s - 1);
	code_at(s + 1, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, 0, &got), 0);
	assert_int_equal(got, s + 1);
	code_at(s - 2, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, 0, &got), TOTP_EMISMATCH);
	code_at(s + 2, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, 0, &got), TOTP_EMISMATCH);

	/* Window 0: only the current step. */
	p.window = 0;
	code_at(s - 1, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, 0, &got), TOTP_EMISMATCH);
	code_at(s, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, 0, &got), 0);

	/* Near the epoch the window must not wrap below step 0. */
	p.window = 1;
	code_at(0, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), 10, 0, &got), TOTP_EREPLAY);
	code_at(1, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), 10, 0, &got), 0);
	assert_int_equal(got, 1);
}

static void test_verify_replay(void **state)
{
	struct totp_params p = TOTP_PARAMS_DEFAULT;
	const time_t now = 1234567890;
	const uint64_t s = 1234567890 / 30;
	char c[TOTP_CODE_SIZE];
	uint64_t got = 0;

	code_at(s, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, 0, &got), 0);
	assert_int_equal(got, s);
	/* Same code again, with the step recorded: refused. */
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, got, &got), TOTP_EREPLAY);
	/* Still refused 20 s later, while its step is inside the window. */
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now + 20, s, &got),
			 TOTP_EREPLAY);
	/* An older code after a newer one was used: refused. */
	code_at(s - 1, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, s, &got), TOTP_EREPLAY);
	/* The next code is fine. */
	code_at(s + 1, &p, c);
	assert_int_equal(totp_verify(seed20, 20, &p, c, strlen(c), now, s, &got), 0);
	assert_int_equal(got, s + 1);
	/* A wrong code is a mismatch, not a replay: pick one no step in the
	 * window produces. */
	char w[3][TOTP_CODE_SIZE], wrong[TOTP_CODE_SIZE] = "000000";
	for (int i = 0; i < 3; i++)
		code_at(s - 1 + (uint64_t)i, &p, w[i]);
	while (!strcmp(wrong, w[0]) || !strcmp(wrong, w[1]) || !strcmp(wrong, w[2]))
		wrong[0]++;
	assert_int_equal(totp_verify(seed20, 20, &p, wrong, 6, now, s, &got), TOTP_EMISMATCH);
}

static void test_verify_input_forms(void **state)
{
	struct totp_params p = TOTP_PARAMS_DEFAULT;
	const time_t now = 1111111111;
	const uint64_t s = 1111111111 / 30;
	char c[TOTP_CODE_SIZE], spaced[16], wide[40];
	uint64_t got = 0;

	code_at(s, &p, c);
	/* "123 456" as apps display it. */
	snprintf(spaced, sizeof spaced, "%.3s %.3s", c, c + 3);
	assert_int_equal(totp_verify(seed20, 20, &p, spaced, strlen(spaced), now, 0, &got), 0);
	/* Full-width digits from a Japanese IME: ０ is EF BC 90. */
	size_t k = 0;
	for (int i = 0; i < 6; i++) {
		wide[k++] = (char)0xEF;
		wide[k++] = (char)0xBC;
		wide[k++] = (char)(0x90 + (c[i] - '0'));
	}
	assert_int_equal(totp_verify(seed20, 20, &p, wide, k, now, 0, &got), 0);
	/* Truncated full-width sequence. */
	assert_int_equal(totp_verify(seed20, 20, &p, wide, k - 1, now, 0, &got), TOTP_EFORMAT);

	assert_int_equal(totp_verify(seed20, 20, &p, c, 5, now, 0, &got), TOTP_EFORMAT);
	char seven[8];
	memcpy(seven, c, 6);
	seven[6] = '1';
	assert_int_equal(totp_verify(seed20, 20, &p, seven, 7, now, 0, &got), TOTP_EFORMAT);
	assert_int_equal(totp_verify(seed20, 20, &p, "12a456", 6, now, 0, &got), TOTP_EFORMAT);
	assert_int_equal(totp_verify(seed20, 20, &p, "123-456", 7, now, 0, &got), TOTP_EFORMAT);
	assert_int_equal(totp_verify(seed20, 20, &p, "", 0, now, 0, &got), TOTP_EFORMAT);
	char longin[TOTP_INPUT_MAX + 2];
	memset(longin, ' ', sizeof longin);
	memcpy(longin, c, 6);
	assert_int_equal(totp_verify(seed20, 20, &p, longin, TOTP_INPUT_MAX, now, 0, &got), 0);
	assert_int_equal(totp_verify(seed20, 20, &p, longin, TOTP_INPUT_MAX + 1, now, 0, &got),
			 TOTP_EFORMAT);
}

static void test_verify_sha256_8_digits(void **state)
{
	struct totp_params p = {TOTP_SHA256, 8, 30, 1};
	uint64_t got = 0;
	assert_int_equal(totp_verify(seed32, 32, &p, "68084774", 8, 1111111109, 0, &got), 0);
	assert_int_equal(got, 0x23523EC);
	/* The SHA-1 code of the same instant is not accepted under SHA-256. */
	assert_int_equal(totp_verify(seed32, 32, &p, "07081804", 8, 1111111109, 0, &got),
			 TOTP_EMISMATCH);
	p.alg = TOTP_SHA512;
	assert_int_equal(totp_verify(seed64, 64, &p, "25091201", 8, 1111111109, 0, &got), 0);
}

static void test_bad_arguments(void **state)
{
	struct totp_params p = TOTP_PARAMS_DEFAULT;
	char code[TOTP_CODE_SIZE];
	uint64_t got;
	uint32_t v;

	assert_int_equal(totp_generate(seed20, 20, &p, -1, code), TOTP_EINVAL);
	assert_int_equal(totp_generate(seed20, TOTP_KEY_MIN - 1, &p, 0, code), TOTP_EINVAL);
	assert_int_equal(totp_generate(NULL, 20, &p, 0, code), TOTP_EINVAL);
	assert_int_equal(totp_verify(seed20, 20, &p, "123456", 6, -5, 0, &got), TOTP_EINVAL);
	assert_int_equal(totp_hotp(seed20, 20, TOTP_SHA1, 5, 0, &v), TOTP_EINVAL);
	assert_int_equal(totp_hotp(seed20, 20, TOTP_SHA1, 9, 0, &v), TOTP_EINVAL);
	assert_int_equal(totp_hotp(seed20, 20, (enum totp_alg)7, 6, 0, &v), TOTP_EINVAL);
	p.period = 0;
	assert_int_equal(totp_generate(seed20, 20, &p, 100, code), TOTP_EINVAL);
	p = TOTP_PARAMS_DEFAULT;
	p.window = 11;
	assert_int_equal(totp_verify(seed20, 20, &p, "123456", 6, 100, 0, &got), TOTP_EINVAL);
}

static void test_base32_rfc4648(void **state)
{
	static const struct {
		const char *in, *padded, *bare;
	} v[] = {
		{"", "", ""},
		{"f", "MY======", "MY"},
		{"fo", "MZXQ====", "MZXQ"},
		{"foo", "MZXW6===", "MZXW6"},
		{"foob", "MZXW6YQ=", "MZXW6YQ"},
		{"fooba", "MZXW6YTB", "MZXW6YTB"},
		{"foobar", "MZXW6YTBOI======", "MZXW6YTBOI"},
	};
	char enc[33]; /* 20 bytes take exactly 32 characters and the NUL */
	unsigned char dec[32];
	size_t n;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t len = strlen(v[i].in);
		assert_int_equal(totp_base32_encode((const unsigned char *)v[i].in, len, true, enc,
						    sizeof enc),
				 0);
		assert_string_equal(enc, v[i].padded);
		assert_int_equal(totp_base32_encode((const unsigned char *)v[i].in, len, false, enc,
						    sizeof enc),
				 0);
		assert_string_equal(enc, v[i].bare);
		n = 99;
		assert_int_equal(
			totp_base32_decode(v[i].padded, strlen(v[i].padded), dec, sizeof dec, &n),
			0);
		assert_int_equal(n, len);
		assert_memory_equal(dec, v[i].in, len);
		n = 99;
		assert_int_equal(
			totp_base32_decode(v[i].bare, strlen(v[i].bare), dec, sizeof dec, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(dec, v[i].in, len);
	}
	/* The RFC 6238 seed, as authenticator apps show it; lowercase accepted. */
	assert_int_equal(totp_base32_encode(seed20, 20, false, enc, sizeof enc), 0);
	assert_string_equal(enc, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	assert_int_equal(
		totp_base32_decode("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", 32, dec, sizeof dec, &n), 0);
	assert_int_equal(n, 20);
	assert_memory_equal(dec, seed20, 20);
}

static void test_base32_rejects(void **state)
{
	unsigned char dec[32];
	size_t n;
	static const char *const bad[] = {
		"M",         /* 1 character: impossible length */
		"MZX",       /* 3 */
		"MZXW6Y",    /* 6 */
		"MY=",       /* padding to no multiple of 8 */
		"MY=====",   /* 7 characters */
		"MZXQ=====", /* 9 characters */
		"MY=======", /* too much padding */
		"MZ======",  /* stray bits: Z = 25 leaves 1 set below the byte */
		"MZXW6YR",   /* stray bits */
		"MZ=XW6YQ",  /* padding inside */
		"MZXW6YQ1",  /* 1 is not base32 */
		"MZXW 6YQ",  /* no whitespace */
		"========",  /* padding only */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = totp_base32_decode(bad[i], strlen(bad[i]), dec, sizeof dec, &n);
		if (rc != TOTP_EINVAL)
			fail_msg("accepted \"%s\" (rc %d)", bad[i], rc);
	}
	assert_int_equal(totp_base32_decode("MZXW6YTBOI", 10, dec, 5, &n), TOTP_ESPACE);
	char small[8];
	assert_int_equal(
		totp_base32_encode((const unsigned char *)"foobar", 6, false, small, sizeof small),
		TOTP_ESPACE);
}

static void test_secret_round_trip(void **state)
{
	unsigned char k1[TOTP_SECRET_BYTES], k2[TOTP_SECRET_BYTES], back[TOTP_SECRET_BYTES];
	char b32[64];
	size_t n;
	assert_int_equal(totp_secret_new(k1, sizeof k1), 0);
	assert_int_equal(totp_secret_new(k2, sizeof k2), 0);
	assert_memory_not_equal(k1, k2, sizeof k1);
	assert_int_equal(totp_base32_encode(k1, sizeof k1, false, b32, sizeof b32), 0);
	assert_int_equal(strlen(b32), 32);
	assert_int_equal(totp_base32_decode(b32, strlen(b32), back, sizeof back, &n), 0);
	assert_int_equal(n, sizeof k1);
	assert_memory_equal(back, k1, sizeof k1);
}

static void test_uri(void **state)
{
	struct totp_params p = TOTP_PARAMS_DEFAULT;
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(totp_uri(&b, "和歌山市", "taro@example.jp", seed20, 20, &p), 0);
	assert_string_equal(buf_cstr(&b),
			    "otpauth://totp/%E5%92%8C%E6%AD%8C%E5%B1%B1%E5%B8%82:taro%40example.jp"
			    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
			    "&issuer=%E5%92%8C%E6%AD%8C%E5%B1%B1%E5%B8%82"
			    "&algorithm=SHA1&digits=6&period=30");
	buf_reset(&b);
	p = (struct totp_params){TOTP_SHA512, 8, 60, 1};
	assert_int_equal(totp_uri(&b, "madoguchi", "a b", seed64, 64, &p), 0);
	assert_non_null(strstr(buf_cstr(&b), "totp/madoguchi:a%20b?"));
	assert_non_null(strstr(buf_cstr(&b), "&algorithm=SHA512&digits=8&period=60"));

	buf_reset(&b);
	p = TOTP_PARAMS_DEFAULT;
	assert_int_equal(totp_uri(&b, "a:b", "x", seed20, 20, &p), TOTP_EINVAL);
	assert_int_equal(totp_uri(&b, "a", "x:y", seed20, 20, &p), TOTP_EINVAL);
	assert_int_equal(totp_uri(&b, "", "x", seed20, 20, &p), TOTP_EINVAL);
	assert_int_equal(totp_uri(&b, "a", "x\ny", seed20, 20, &p), TOTP_EINVAL);
	assert_int_equal(totp_uri(&b, "a", "\xff", seed20, 20, &p), TOTP_EINVAL);
	assert_int_equal(totp_uri(&b, NULL, "x", seed20, 20, &p), TOTP_EINVAL);
	assert_int_equal(totp_uri(&b, "a", "x", seed20, 8, &p), TOTP_EINVAL);
	assert_int_equal(b.len, 0);
	buf_release(&b);

	buf_init(&b, 40);
	assert_int_equal(totp_uri(&b, "和歌山市", "taro@example.jp", seed20, 20, &p), -E2BIG);
	buf_release(&b);
}

static void test_names_and_messages(void **state)
{
	enum totp_alg a;
	assert_string_equal(totp_alg_name(TOTP_SHA256), "SHA256");
	assert_int_equal(totp_alg_parse("sha512", &a), 0);
	assert_int_equal(a, TOTP_SHA512);
	assert_int_equal(totp_alg_parse("MD5", &a), TOTP_EINVAL);
	assert_string_not_equal(totp_message_ja(TOTP_EMISMATCH), totp_message_ja(TOTP_EREPLAY));
	assert_string_not_equal(totp_message_ja(TOTP_EFORMAT), totp_message_ja(TOTP_EREPLAY));
	assert_non_null(strstr(totp_message_ja(TOTP_EREPLAY), "既に使用"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_rfc4226_hotp_vectors),
		cmocka_unit_test(test_six_digits_zero_padded),
		cmocka_unit_test(test_verify_window),
		cmocka_unit_test(test_verify_replay),
		cmocka_unit_test(test_verify_input_forms),
		cmocka_unit_test(test_verify_sha256_8_digits),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_base32_rfc4648),
		cmocka_unit_test(test_base32_rejects),
		cmocka_unit_test(test_secret_round_trip),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_names_and_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
