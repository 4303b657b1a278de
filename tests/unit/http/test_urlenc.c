/* Unit tests for http/urlenc.c: path decoding and its distinct refusals,
 * query/form parsing with '+', empty pieces and limits, and encoding that
 * round-trips through the decoder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "http/urlenc.h"

static int setup(void **state)
{
	*state = arena_new();
	return 0;
}

static int teardown(void **state)
{
	arena_free(*state);
	return 0;
}

static int path(struct arena *a, const char *raw, char **out)
{
	return urlenc_decode_path(a, raw, strlen(raw), out);
}

static void test_path_ok(void **state)
{
	struct arena *a = *state;
	char *out;
	assert_int_equal(path(a, "/", &out), 0);
	assert_string_equal(out, "/");
	assert_int_equal(path(a, "/a%20b/c+d", &out), 0);
	assert_string_equal(out, "/a b/c+d"); /* '+' is literal in paths */
	assert_int_equal(path(a, "/%E5%92%8C%e6%ad%8c%E5%B1%B1", &out), 0);
	assert_string_equal(out, "/和歌山");
	assert_int_equal(path(a, "/raw/和歌山", &out), 0); /* unescaped UTF-8 too */
	assert_string_equal(out, "/raw/和歌山");
	assert_int_equal(path(a, "/a/.b/..c/.../d.", &out), 0); /* dots, not dot segments */
	assert_string_equal(out, "/a/.b/..c/.../d.");
	assert_int_equal(path(a, "/a//b/", &out), 0); /* structure is the router's business */
	assert_string_equal(out, "/a//b/");
	/* the length bound: n, not strlen, is what counts */
	assert_int_equal(urlenc_decode_path(a, "/abc/def", 4, &out), 0);
	assert_string_equal(out, "/abc");
}

static void test_path_refusals(void **state)
{
	struct arena *a = *state;
	static const struct {
		const char *raw;
		int rc;
	} cases[] = {
		{"", URLENC_EPATH},
		{"a/b", URLENC_EPATH},
		{"%2Fa", URLENC_EPATH},
		{"/a%", URLENC_EHEX},
		{"/a%4", URLENC_EHEX},
		{"/a%zz", URLENC_EHEX},
		{"/a%4g", URLENC_EHEX},
		{"/a%%41", URLENC_EHEX},
		{"/a%00b", URLENC_ENUL},
		{"/a%2Fb", URLENC_ESLASH},
		{"/a%2fb", URLENC_ESLASH},
		{"/a%0Ab", URLENC_ECTRL},
		{"/a%0d", URLENC_ECTRL},
		{"/a%7F", URLENC_ECTRL},
		{"/a\tb", URLENC_ECTRL},
		{"/%C0%80", URLENC_EUTF8},
		{"/%ED%A0%80", URLENC_EUTF8},
		{"/%FF", URLENC_EUTF8},
		{"/\xE5\x92", URLENC_EUTF8},
		{"/..", URLENC_EDOTSEG},
		{"/.", URLENC_EDOTSEG},
		{"/a/..", URLENC_EDOTSEG},
		{"/a/../b", URLENC_EDOTSEG},
		{"/a/./b", URLENC_EDOTSEG},
		{"/a/%2e%2E/b", URLENC_EDOTSEG},
		{"/a/%2e", URLENC_EDOTSEG},
		{"/a/.%2e/", URLENC_EDOTSEG},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *out = (char *)"sentinel";
		int rc = path(a, cases[i].raw, &out);
		if (rc != cases[i].rc)
			fail_msg("'%s': got %d (%s), want %d", cases[i].raw, rc,
				 urlenc_strerror(rc), cases[i].rc);
		assert_null(out);
	}
	/* a raw NUL inside the length is refused too */
	char *out;
	assert_int_equal(urlenc_decode_path(a, "/a\0b", 4, &out), URLENC_ENUL);
	/* every error has its own text */
	for (int e = URLENC_ENAME; e < 0; e++)
		for (int g = e + 1; g < 0; g++)
			assert_string_not_equal(urlenc_strerror(e), urlenc_strerror(g));
}

static void test_path_too_long(void **state)
{
	struct arena *a = *state;
	size_t n = URLENC_MAX_PATH + 1;
	char *p = malloc(n + 1);
	memset(p, 'a', n);
	p[0] = '/';
	p[n] = '\0';
	char *out;
	assert_int_equal(urlenc_decode_path(a, p, n, &out), URLENC_ETOOBIG);
	assert_int_equal(urlenc_decode_path(a, p, n - 1, &out), 0);
	free(p);
}

static void test_decode_component(void **state)
{
	struct arena *a = *state;
	char *out;
	size_t n;
	assert_int_equal(urlenc_decode(a, "a+b%2Bc%2F", 10, true, &out, &n), 0);
	assert_string_equal(out, "a b+c/");
	assert_int_equal(n, 6);
	assert_int_equal(urlenc_decode(a, "a+b", 3, false, &out, &n), 0);
	assert_string_equal(out, "a+b");
	assert_int_equal(urlenc_decode(a, "x%0D%0Ay", 8, true, &out, &n), 0);
	assert_string_equal(out, "x\r\ny"); /* textarea line breaks survive */
	assert_int_equal(urlenc_decode(a, "%00", 3, true, &out, &n), URLENC_ENUL);
	assert_null(out);
	assert_int_equal(urlenc_decode(a, "%E3%81", 6, true, &out, &n), URLENC_EUTF8);
	assert_int_equal(urlenc_decode(a, "", 0, true, &out, NULL), 0);
	assert_string_equal(out, "");
}

static void test_parse_basic(void **state)
{
	struct arena *a = *state;
	struct urlenc_form f;
	const char *q = "name=%E5%B1%B1%E7%94%B0+%E5%A4%AA%E9%83%8E&lg=302015&flag&empty=&x=a=b";
	assert_int_equal(urlenc_parse(a, q, strlen(q), NULL, &f), 0);
	assert_int_equal(f.n, 5);
	assert_string_equal(f.fields[0].name, "name");
	assert_string_equal(f.fields[0].value, "山田 太郎");
	assert_int_equal(f.fields[0].value_len, strlen("山田 太郎"));
	assert_string_equal(f.fields[1].value, "302015");
	assert_string_equal(f.fields[2].name, "flag");
	assert_string_equal(f.fields[2].value, "");
	assert_string_equal(f.fields[3].value, "");
	assert_string_equal(f.fields[4].value, "a=b"); /* only the first '=' splits */
	assert_string_equal(urlenc_get(&f, "lg"), "302015");
	assert_null(urlenc_get(&f, "missing"));
	assert_null(urlenc_get(&f, "Name")); /* names are case-sensitive */
}

static void test_parse_pieces(void **state)
{
	struct arena *a = *state;
	struct urlenc_form f;
	assert_int_equal(urlenc_parse(a, "", 0, NULL, &f), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(urlenc_parse(a, "&&&", 3, NULL, &f), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(urlenc_parse(a, "a=1&&b=2&", 9, NULL, &f), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.fields[1].name, "b");
	/* repeated names keep their order; urlenc_get gives the first */
	assert_int_equal(urlenc_parse(a, "k=1&k=2", 7, NULL, &f), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(urlenc_get(&f, "k"), "1");
	assert_string_equal(f.fields[1].value, "2");
	/* names are decoded too */
	assert_int_equal(urlenc_parse(a, "a%5B%5D=1", 9, NULL, &f), 0);
	assert_string_equal(f.fields[0].name, "a[]");
}

static void test_parse_errors(void **state)
{
	struct arena *a = *state;
	struct urlenc_form f;
	static const struct {
		const char *s;
		int rc;
	} cases[] = {
		{"=x", URLENC_ENAME},         {"a=1&=2", URLENC_ENAME},
		{"a=%", URLENC_EHEX},         {"a=%G0", URLENC_EHEX},
		{"%=1", URLENC_EHEX},         {"a=%00", URLENC_ENUL},
		{"a%00=1", URLENC_ENUL},      {"a=%FF", URLENC_EUTF8},
		{"a=\xC0\x80", URLENC_EUTF8}, {"a=1&b=%ED%A0%80", URLENC_EUTF8},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int rc = urlenc_parse(a, cases[i].s, strlen(cases[i].s), NULL, &f);
		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].s, rc, cases[i].rc);
		assert_int_equal(f.n, 0); /* all or nothing */
		assert_null(f.fields);
	}
}

static void test_parse_limits(void **state)
{
	struct arena *a = *state;
	struct urlenc_form f;
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < URLENC_DEFAULT_MAX_FIELDS; i++)
		assert_int_equal(buf_printf(&b, "f%d=%d&", i, i), 0);
	assert_int_equal(urlenc_parse(a, b.p, b.len, NULL, &f), 0);
	assert_int_equal(f.n, URLENC_DEFAULT_MAX_FIELDS);
	assert_int_equal(buf_puts(&b, "one=more"), 0);
	assert_int_equal(urlenc_parse(a, b.p, b.len, NULL, &f), URLENC_ETOOMANY);

	struct urlenc_limits lim = {.max_fields = 4, .max_name = 3, .max_value = 6};
	assert_int_equal(urlenc_parse(a, "abc=123456", 10, &lim, &f), 0);
	assert_int_equal(urlenc_parse(a, "abcd=1", 6, &lim, &f), URLENC_ETOOBIG);
	assert_int_equal(urlenc_parse(a, "a=1234567", 9, &lim, &f), URLENC_ETOOBIG);
	/* the bound is on decoded bytes: six escapes decode to six bytes */
	const char *esc = "a=%41%42%43%44%45%46";
	assert_int_equal(urlenc_parse(a, esc, strlen(esc), &lim, &f), 0);
	assert_string_equal(f.fields[0].value, "ABCDEF");
	assert_int_equal(urlenc_parse(a, "a&b&c&d&e", 9, &lim, &f), URLENC_ETOOMANY);
	assert_int_equal(urlenc_parse(a, "a&&&b&&&c&&&d&&&", 16, &lim, &f), 0);
	buf_release(&b);
}

static void test_encode(void **state)
{
	struct arena *a = *state;
	struct buf b;
	buf_init(&b, 256);
	const char *s = "a b/和?&=+~-._";
	assert_int_equal(urlenc_encode(&b, s, strlen(s)), 0);
	assert_string_equal(buf_cstr(&b), "a%20b%2F%E5%92%8C%3F%26%3D%2B~-._");
	char *back;
	size_t n;
	assert_int_equal(urlenc_decode(a, b.p, b.len, true, &back, &n), 0);
	assert_string_equal(back, s);

	/* over the bound: -E2BIG and the buffer as it was */
	struct buf small;
	buf_init(&small, 8);
	assert_int_equal(buf_puts(&small, "x="), 0);
	assert_int_equal(urlenc_encode(&small, "和歌山", strlen("和歌山")), -E2BIG);
	assert_string_equal(buf_cstr(&small), "x=");
	assert_int_equal(small.len, 2);
	buf_release(&small);
	buf_release(&b);
}

/* Random valid text survives encode → parse as one field. */
static void test_roundtrip_random(void **state)
{
	struct arena *a = *state;
	static const char *const pieces[] = {"a", " ", "+", "&", "=", "%", "和", "\r\n", "é", "~"};
	unsigned seed = 12345;
	for (int round = 0; round < 500; round++) {
		char val[128] = "";
		size_t len = 0;
		int k = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
		for (int i = 0; i < k; i++) {
			const char *p = pieces[((seed = seed * 1103515245u + 12345u) >> 16) % 10];
			size_t pl = strlen(p);
			memcpy(val + len, p, pl);
			len += pl;
		}
		val[len] = '\0';
		struct buf b;
		buf_init(&b, 4096);
		assert_int_equal(buf_puts(&b, "v="), 0);
		assert_int_equal(urlenc_encode(&b, val, len), 0);
		struct urlenc_form f;
		assert_int_equal(urlenc_parse(a, b.p, b.len, NULL, &f), 0);
		assert_int_equal(f.n, 1);
		assert_string_equal(f.fields[0].value, val);
		assert_int_equal(f.fields[0].value_len, len);
		buf_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_path_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_component, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_random, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
