/* Unit tests for common/jsonin.c: the depth bound at exactly 32, brackets
 * inside strings, duplicate keys, top-level scalars, size, UTF-8 and NUL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/jsonin.h"

static json_t *parse(const char *s, char *err, size_t errlen)
{
	return jsonin_parse(s, strlen(s), err, errlen);
}

static void test_ok(void **state)
{
	char err[200] = "x";
	json_t *j = parse("{\"name\":\"山田\",\"lg_code\":\"302015\",\"n\":[1,2,{\"a\":null}]}",
			  err, sizeof err);
	assert_non_null(j);
	assert_string_equal(err, "");
	assert_string_equal(json_string_value(json_object_get(j, "name")), "山田");
	json_decref(j);
	j = parse("[]", err, sizeof err);
	assert_non_null(j);
	json_decref(j);
	/* not NUL-terminated: only n bytes are read */
	j = jsonin_parse("{}garbage", 2, err, sizeof err);
	assert_non_null(j);
	json_decref(j);
}

static char *nest(int depth, const char *open, const char *close, const char *inner)
{
	size_t ol = strlen(open), cl = strlen(close), il = strlen(inner);
	char *s = malloc((size_t)depth * (ol + cl) + il + 1);
	size_t n = 0;
	for (int i = 0; i < depth; i++, n += ol)
		memcpy(s + n, open, ol);
	memcpy(s + n, inner, il);
	n += il;
	for (int i = 0; i < depth; i++, n += cl)
		memcpy(s + n, close, cl);
	s[n] = '\0';
	return s;
}

static void test_depth(void **state)
{
	char err[200];
	char *s = nest(JSONIN_MAX_DEPTH, "[", "]", "1");
	json_t *j = parse(s, err, sizeof err);
	assert_non_null(j);
	json_decref(j);
	free(s);

	s = nest(JSONIN_MAX_DEPTH + 1, "[", "]", "1");
	assert_null(parse(s, err, sizeof err));
	assert_non_null(strstr(err, "nested"));
	free(s);

	s = nest(JSONIN_MAX_DEPTH, "{\"k\":", "}", "1");
	j = parse(s, err, sizeof err);
	assert_non_null(j);
	json_decref(j);
	free(s);
	s = nest(JSONIN_MAX_DEPTH + 1, "{\"k\":", "}", "1");
	assert_null(parse(s, err, sizeof err));
	free(s);

	/* a megabyte of '[': refused by the scan, fast, without jansson */
	s = nest(500000, "[", "]", "");
	assert_null(parse(s, err, sizeof err));
	free(s);

	/* brackets and escaped quotes inside strings are not nesting */
	s = nest(JSONIN_MAX_DEPTH, "[", "]",
		 "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[{{{{\"");
	j = parse(s, err, sizeof err);
	assert_non_null(j);
	json_decref(j);
	free(s);

	/* siblings do not add up: 40 arrays side by side at depth 2 */
	j = parse("[[1],[2],[3],[4],[5],[6],[7],[8],[9],[10],[11],[12],[13],[14],[15],[16],[17],"
		  "[18],[19],[20],[21],[22],[23],[24],[25],[26],[27],[28],[29],[30],[31],[32],[33],"
		  "[34],[35],[36],[37],[38],[39],[40]]",
		  err, sizeof err);
	assert_non_null(j);
	json_decref(j);

	/* explicit limits */
	assert_null(jsonin_parse_limits("[[1]]", 5, 100, 1, err, sizeof err));
	j = jsonin_parse_limits("[[1]]", 5, 100, 2, err, sizeof err);
	assert_non_null(j);
	json_decref(j);
}

static void test_refusals(void **state)
{
	char err[200];
	static const char *const bad[] = {
		"",                  /* empty */
		"{\"a\":1,\"a\":2}", /* duplicate key */
		"\"just a string\"", /* top-level scalar */
		"42",
		"null",
		"{\"a\":\"\\u0000\"}",      /* NUL in a string */
		"{\"a\":\"\xFF\"}",         /* invalid UTF-8 */
		"{\"a\":\"\xED\xA0\x80\"}", /* surrogate as UTF-8 */
		"{\"a\":1}x",               /* trailing garbage */
		"{\"a\":1,}",               /* trailing comma */
		"{'a':1}",                  /* single quotes */
		"[1,2",                     /* truncated */
		"{\"a\":NaN}",
		"[01]",
		"[99999999999999999999999]", /* integer overflow */
		"{\"a\":\"\x01\"}",          /* raw control character */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		json_t *j = parse(bad[i], err, sizeof err);
		if (j) {
			json_decref(j);
			fail_msg("accepted: %s", bad[i]);
		}
		assert_true(err[0] != '\0');
	}
	/* an embedded NUL byte in the body */
	assert_null(jsonin_parse("{\"a\":1}\0", 8, err, sizeof err));
}

static void test_size(void **state)
{
	char err[200];
	size_t n = JSONIN_MAX_BYTES + 1;
	char *s = malloc(n + 1);
	memset(s, ' ', n);
	s[0] = '[';
	s[n - 1] = ']';
	s[n] = '\0';
	assert_null(jsonin_parse(s, n, err, sizeof err));
	assert_non_null(strstr(err, "larger"));
	json_t *j = jsonin_parse(s + 1, n - 1, err, sizeof err); /* exactly the limit... */
	assert_null(j); /* ...but it lacks its '[' now: a syntax error, not a size error */
	assert_null(strstr(err, "larger"));
	s[1] = '[';
	j = jsonin_parse(s + 1, n - 1, err, sizeof err);
	assert_non_null(j);
	json_decref(j);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
