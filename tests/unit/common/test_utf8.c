/* Unit tests for common/utf8.c: the RFC 3629 boundaries (overlongs,
 * surrogates, U+10FFFF), the ASCII fast path at every alignment, the display
 * checks, and json_esc.c, which now decodes through utf8_decode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/json_esc.h"
#include "common/utf8.h"

#define V(s) utf8_valid((s), sizeof(s) - 1)

static void test_valid_boundaries(void **state)
{
	assert_true(V(""));
	assert_true(V("plain ascii"));
	assert_true(V("和歌山市"));
	assert_true(V("\x7F"));
	assert_true(V("\xC2\x80"));         /* U+0080 */
	assert_true(V("\xDF\xBF"));         /* U+07FF */
	assert_true(V("\xE0\xA0\x80"));     /* U+0800 */
	assert_true(V("\xED\x9F\xBF"));     /* U+D7FF */
	assert_true(V("\xEE\x80\x80"));     /* U+E000 */
	assert_true(V("\xEF\xBF\xBF"));     /* U+FFFF */
	assert_true(V("\xF0\x90\x80\x80")); /* U+10000 */
	assert_true(V("\xF4\x8F\xBF\xBF")); /* U+10FFFF */
	assert_true(V("\xF0\xA9\xB8\xBD")); /* 𩸽 (a CJK extension B character) */
	assert_true(utf8_valid("a\0b", 3)); /* NUL is UTF-8; clean() refuses it */
}

static void test_invalid(void **state)
{
	assert_false(V("\x80")); /* lone continuation */
	assert_false(V("\xBF"));
	assert_false(V("\xC0\x80"));         /* overlong NUL */
	assert_false(V("\xC1\xBF"));         /* overlong U+007F */
	assert_false(V("\xE0\x80\x80"));     /* overlong 3-byte */
	assert_false(V("\xE0\x9F\xBF"));     /* overlong U+07FF */
	assert_false(V("\xF0\x80\x80\x80")); /* overlong 4-byte */
	assert_false(V("\xF0\x8F\xBF\xBF")); /* overlong U+FFFF */
	assert_false(V("\xED\xA0\x80"));     /* U+D800 */
	assert_false(V("\xED\xBF\xBF"));     /* U+DFFF */
	assert_false(V("\xF4\x90\x80\x80")); /* U+110000 */
	assert_false(V("\xF5\x80\x80\x80"));
	assert_false(V("\xFE"));
	assert_false(V("\xFF"));
	assert_false(V("\xE3\x81"));     /* truncated あ */
	assert_false(V("\xE3\x41\x82")); /* bad continuation */
	assert_false(V("abc\xE3"));      /* truncated at the end */
	/* the length bound is honoured: the sequence is complete only past n */
	assert_false(utf8_valid("\xE3\x81\x82", 2));
}

static void test_decode_values(void **state)
{
	uint32_t cp = 0;
	assert_int_equal(utf8_decode("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_decode("\xC3\xA9", 2, &cp), 2);
	assert_int_equal(cp, 0xE9);
	assert_int_equal(utf8_decode("和", 3, &cp), 3);
	assert_int_equal(cp, 0x548C);
	assert_int_equal(utf8_decode("\xF4\x8F\xBF\xBF", 4, &cp), 4);
	assert_int_equal(cp, 0x10FFFF);
	cp = 7;
	assert_int_equal(utf8_decode("\xED\xA0\x80", 3, &cp), 0);
	assert_int_equal(cp, 7); /* untouched on error */
	assert_int_equal(utf8_decode("", 0, &cp), 0);
}

/* Every scalar value encodes and decodes back to itself; surrogates and
 * values past U+10FFFF do not encode. */
static void test_encode_roundtrip_all(void **state)
{
	char out[4];
	for (uint32_t c = 0; c <= UTF8_MAX_CP + 16; c++) {
		size_t n = utf8_encode(c, out);
		if ((c >= 0xD800 && c <= 0xDFFF) || c > UTF8_MAX_CP) {
			assert_int_equal(n, 0);
			continue;
		}
		assert_true(n >= 1 && n <= 4);
		uint32_t back = 0;
		assert_int_equal(utf8_decode(out, n, &back), n);
		assert_int_equal(back, c);
	}
}

/* Every 2-byte and 3-byte string is judged as the RFC 3629 grammar says. */
static bool ref_valid3(unsigned a, unsigned b, unsigned c)
{
	if (a < 0xE0 || a > 0xEF)
		return false;
	unsigned lo = 0x80, hi = 0xBF;
	if (a == 0xE0)
		lo = 0xA0;
	if (a == 0xED)
		hi = 0x9F;
	return b >= lo && b <= hi && c >= 0x80 && c <= 0xBF;
}

static void test_exhaustive_short(void **state)
{
	for (unsigned a = 0x80; a < 0x100; a++) {
		for (unsigned b = 0; b < 0x100; b++) {
			char s[2] = {(char)a, (char)b};
			bool ref = a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF;
			assert_int_equal(utf8_decode(s, 2, NULL) == 2, ref);
		}
	}
	for (unsigned a = 0xE0; a <= 0xEF; a++) {
		for (unsigned b = 0; b < 0x100; b++) {
			for (unsigned c = 0; c < 0x100; c++) {
				char s[3] = {(char)a, (char)b, (char)c};
				assert_int_equal(utf8_decode(s, 3, NULL) == 3, ref_valid3(a, b, c));
			}
		}
	}
}

/* The eight-byte ASCII skip must find a bad byte at any offset. */
static void test_valid_prefix_alignment(void **state)
{
	char s[64];
	for (size_t bad = 0; bad < 40; bad++) {
		memset(s, 'a', sizeof s);
		s[bad] = (char)0xFF;
		assert_int_equal(utf8_valid_prefix(s, sizeof s), bad);
		assert_false(utf8_valid(s, sizeof s));
		/* a valid multibyte character at the same place is fine */
		memcpy(s + bad, "\xE5\x92\x8C", 3);
		assert_true(utf8_valid(s, sizeof s));
	}
	assert_int_equal(utf8_valid_prefix("abc", 3), 3);
}

static void test_count(void **state)
{
	assert_int_equal(utf8_count("", 0), 0);
	assert_int_equal(utf8_count("abc", 3), 3);
	assert_int_equal(utf8_count("和歌山市", strlen("和歌山市")), 4);
	assert_int_equal(utf8_count("a\xF0\x9F\x98\x80", 5), 2);
	assert_int_equal(utf8_count("a\xFF", 2), SIZE_MAX);
}

static void test_clean(void **state)
{
	assert_true(utf8_clean("行1\n行2\r\n\tタブ", strlen("行1\n行2\r\n\tタブ")));
	assert_false(utf8_clean("a\x01", 2));
	assert_false(utf8_clean("a\x1B[31m", 6)); /* terminal escape */
	assert_false(utf8_clean("a\x7F", 2));
	assert_false(utf8_clean("a\0b", 3));
	assert_false(utf8_clean("\xC2\x85", 2)); /* U+0085 NEL, a C1 control */
	assert_false(utf8_clean("\xC2\x9F", 2)); /* U+009F */
	assert_true(utf8_clean("\xC2\xA0", 2));  /* U+00A0 is printable */
	assert_false(utf8_clean("\xC0\x80", 2)); /* invalid is never clean */
	assert_true(utf8_clean_line("山田\t太郎", strlen("山田\t太郎")));
	assert_false(utf8_clean_line("a\nb", 3));
	assert_false(utf8_clean_line("a\rb", 3));
	assert_true(utf8_clean("", 0));
}

static void test_next_iteration(void **state)
{
	const char s[] = "a\xFF和";
	size_t n = sizeof s - 1, i = 0;
	uint32_t cps[8];
	size_t lens[8];
	int k = 0;
	while (i < n && k < 8) {
		lens[k] = utf8_next(s, n, &i, &cps[k]);
		k++;
	}
	assert_int_equal(k, 3);
	assert_int_equal(cps[0], 'a');
	assert_int_equal(lens[0], 1);
	assert_int_equal(cps[1], UTF8_REPLACEMENT);
	assert_int_equal(lens[1], 0);
	assert_int_equal(cps[2], 0x548C);
	assert_int_equal(lens[2], 3);
	uint32_t cp = 99;
	assert_int_equal(utf8_next(s, n, &i, &cp), 0);
	assert_int_equal(cp, 0);
	assert_int_equal(i, n);
}

/* json_esc.c switched from its private decoder to utf8_decode. */
static void test_json_esc_uses_decoder(void **state)
{
	struct buf b;
	buf_init(&b, 256);
	assert_int_equal(json_esc_append(&b, "和\"\\\x01\xED\xA0\x80z"), 0);
	assert_string_equal(buf_cstr(&b),
			    "\"和\\\"\\\\\\u0001\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz\"");
	buf_reset(&b);
	/* a truncated sequence at the very end must not read past the NUL */
	assert_int_equal(json_esc_append(&b, "a\xE3\x81"), 0);
	assert_string_equal(buf_cstr(&b), "\"a\xEF\xBF\xBD\xEF\xBF\xBD\"");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_boundaries),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_decode_values),
		cmocka_unit_test(test_encode_roundtrip_all),
		cmocka_unit_test(test_exhaustive_short),
		cmocka_unit_test(test_valid_prefix_alignment),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_next_iteration),
		cmocka_unit_test(test_json_esc_uses_decoder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
