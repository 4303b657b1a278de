/* Unit tests for http/multipart.c: boundary extraction from Content-Type,
 * a browser-shaped body with text fields and a binary file, and every way a
 * body can be malformed or too large. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "http/multipart.h"

#define B "----WebKitFormBoundary7MA4YWxkTrZu0gW"

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

static void test_boundary(void **state)
{
	char b[MULTIPART_BOUNDARY_MAX + 1];
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=" B, b, sizeof b), 0);
	assert_string_equal(b, B);
	assert_int_equal(multipart_boundary("Multipart/Form-Data;BOUNDARY=\"a b:c\"", b, sizeof b),
			 0);
	assert_string_equal(b, "a b:c");
	assert_int_equal(multipart_boundary("multipart/form-data; charset=utf-8; boundary=xyz ;", b,
					    sizeof b),
			 0);
	assert_string_equal(b, "xyz");
	assert_int_equal(
		multipart_boundary("multipart/form-data; boundary=\"=_Part_1\"", b, sizeof b), 0);
	assert_string_equal(b, "=_Part_1");

	assert_int_equal(multipart_boundary("application/x-www-form-urlencoded", b, sizeof b),
			 MULTIPART_ENOTFORM);
	assert_int_equal(multipart_boundary("multipart/form-datax; boundary=a", b, sizeof b),
			 MULTIPART_ENOTFORM);
	assert_int_equal(multipart_boundary("multipart/mixed; boundary=a", b, sizeof b),
			 MULTIPART_ENOTFORM);
	assert_int_equal(multipart_boundary(NULL, b, sizeof b), MULTIPART_ENOTFORM);
	assert_int_equal(multipart_boundary("multipart/form-data", b, sizeof b),
			 MULTIPART_EBOUNDARY);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=", b, sizeof b),
			 MULTIPART_EBOUNDARY);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=\"\"", b, sizeof b),
			 MULTIPART_EBOUNDARY);
	assert_int_equal(
		multipart_boundary("multipart/form-data; boundary=a; boundary=b", b, sizeof b),
		MULTIPART_EBOUNDARY);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=\"a \"", b, sizeof b),
			 MULTIPART_EBOUNDARY); /* space may not be last */
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=a*b", b, sizeof b),
			 MULTIPART_EBOUNDARY); /* '*' is not a bchar */
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=\"abc", b, sizeof b),
			 MULTIPART_EBOUNDARY);
	assert_int_equal(multipart_boundary("multipart/form-data; junk", b, sizeof b),
			 MULTIPART_EBOUNDARY);
	char max[200];
	snprintf(max, sizeof max, "multipart/form-data; boundary=%070d", 7);
	assert_int_equal(multipart_boundary(max, b, sizeof b), 0);
	assert_int_equal(strlen(b), 70);
	snprintf(max, sizeof max, "multipart/form-data; boundary=%071d", 7);
	assert_int_equal(multipart_boundary(max, b, sizeof b), MULTIPART_EBOUNDARY);
	char tiny[4];
	assert_int_equal(
		multipart_boundary("multipart/form-data; boundary=abcd", tiny, sizeof tiny),
		MULTIPART_EBOUNDARY);
	assert_string_equal(tiny, "");
}

#define FORM_HEAD                                                                                  \
	"--" B "\r\n"                                                                              \
	"Content-Disposition: form-data; name=\"name\"\r\n"                                        \
	"\r\n"                                                                                     \
	"山田 太郎\r\n"                                                                        \
	"--" B "\r\n"                                                                              \
	"content-disposition: form-data; name=\"memo\"\r\n"                                        \
	"\r\n"                                                                                     \
	"line 1\r\nline 2\r\n"                                                                     \
	"--" B "\r\n"                                                                              \
	"Content-Disposition: form-data; name=\"doc\"; filename=\"C:\\dir\\申請書.pdf\"\r\n"    \
	"Content-Type: application/pdf\r\n"                                                        \
	"\r\n"
#define FORM_TAIL                                                                                  \
	"\r\n"                                                                                     \
	"--" B "\r\n"                                                                              \
	"Content-Disposition: form-data; name=\"empty\"\r\n"                                       \
	"\r\n"                                                                                     \
	"\r\n"                                                                                     \
	"--" B "\r\n"                                                                              \
	"Content-Disposition: form-data; name=\"nofile\"; filename=\"\"\r\n"                       \
	"Content-Type: application/octet-stream\r\n"                                               \
	"\r\n"                                                                                     \
	"\r\n"                                                                                     \
	"--" B "--\r\n"

/* The file holds a NUL, CR LF, "--" and a byte that is not UTF-8. */
static const char good_form[] = FORM_HEAD "%PDF\0\r\n-- x\xFF" FORM_TAIL;
/* This file holds "CRLF--boundary" followed by 'x': not a delimiter, and by
 * RFC 2046 the boundary must not occur in content, so the body is malformed. */
static const char bad_form[] = FORM_HEAD "%PDF\0\r\n--" B "x\xFF" FORM_TAIL;

static void test_browser_form(void **state)
{
	struct arena *a = *state;
	struct multipart mp;
	assert_int_equal(multipart_parse(a, bad_form, sizeof bad_form - 1, B, NULL, &mp),
			 MULTIPART_ESYNTAX);
	assert_int_equal(mp.n, 0);
	assert_null(mp.parts);

	const char *body = good_form;
	size_t len = sizeof good_form - 1;
	assert_int_equal(multipart_parse(a, body, len, B, NULL, &mp), 0);
	assert_int_equal(mp.n, 5);
	assert_string_equal(mp.parts[0].name, "name");
	assert_string_equal(mp.parts[0].value, "山田 太郎");
	assert_null(mp.parts[0].filename);
	assert_null(mp.parts[0].content_type);
	assert_string_equal(mp.parts[1].value, "line 1\r\nline 2");
	assert_string_equal(mp.parts[2].name, "doc");
	assert_string_equal(mp.parts[2].filename, "C:\\dir\\申請書.pdf"); /* backslashes literal */
	assert_string_equal(mp.parts[2].content_type, "application/pdf");
	assert_null(mp.parts[2].value);
	assert_int_equal(mp.parts[2].len, 12);
	assert_memory_equal(mp.parts[2].data, "%PDF\0\r\n-- x\xFF", 12);
	assert_true(mp.parts[2].data >= body && mp.parts[2].data < body + len); /* not copied */
	assert_string_equal(mp.parts[3].value, "");
	assert_int_equal(mp.parts[3].len, 0);
	assert_string_equal(mp.parts[4].filename, "");
	assert_int_equal(mp.parts[4].len, 0);

	assert_string_equal(multipart_get(&mp, "memo"), "line 1\r\nline 2");
	assert_null(multipart_get(&mp, "doc")); /* a file is not a text field */
	assert_ptr_equal(multipart_file(&mp, "doc"), &mp.parts[2]);
	assert_null(multipart_file(&mp, "name"));
	assert_null(multipart_get(&mp, "absent"));
}

static void test_preamble_epilogue_padding(void **state)
{
	struct arena *a = *state;
	struct multipart mp;
	static const char body[] = "this is a preamble\r\n"
				   "--XYZ  \t\r\n"
				   "Content-Disposition: form-data; name=a\r\n"
				   "X-Ignored: yes\r\n"
				   "\r\n"
				   "1\r\n"
				   "--XYZ--\r\n"
				   "epilogue, ignored --XYZ garbage";
	assert_int_equal(multipart_parse(a, body, sizeof body - 1, "XYZ", NULL, &mp), 0);
	assert_int_equal(mp.n, 1);
	assert_string_equal(mp.parts[0].name, "a"); /* token (unquoted) parameter value */
	assert_string_equal(mp.parts[0].value, "1");

	static const char only_close[] = "--XYZ--";
	assert_int_equal(multipart_parse(a, only_close, sizeof only_close - 1, "XYZ", NULL, &mp),
			 0);
	assert_int_equal(mp.n, 0);
}

static int parse_str(struct arena *a, const char *body, const struct multipart_limits *lim)
{
	struct multipart mp;
	int rc = multipart_parse(a, body, strlen(body), "b", lim, &mp);
	if (rc) {
		assert_int_equal(mp.n, 0);
		assert_null(mp.parts);
	}
	return rc;
}

#define CD "Content-Disposition: form-data; name=\"f\"\r\n"

static void test_malformed(void **state)
{
	struct arena *a = *state;
	static const struct {
		const char *body;
		int rc;
		const char *why;
	} cases[] = {
		{"", MULTIPART_ESYNTAX, "empty"},
		{"--b", MULTIPART_ESYNTAX, "delimiter only"},
		{"--b\r\n" CD "\r\nvalue", MULTIPART_ESYNTAX, "no closing delimiter"},
		{"--b\r\n" CD "\r\nvalue\r\n--b", MULTIPART_ESYNTAX, "ends after delimiter"},
		{"--b\r\n" CD, MULTIPART_ESYNTAX, "ends in headers"},
		{"--b\r\n\r\nv\r\n--b--", MULTIPART_ESYNTAX, "no Content-Disposition"},
		{"--b\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nv\r\n--b--",
		 MULTIPART_ESYNTAX, "not form-data"},
		{"--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--", MULTIPART_ESYNTAX,
		 "no name"},
		{"--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--b--",
		 MULTIPART_ESYNTAX, "empty name"},
		{"--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nv\r\n--b--",
		 MULTIPART_ESYNTAX, "name twice"},
		{"--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--b--",
		 MULTIPART_ESYNTAX, "unterminated quote"},
		{"--b\r\n" CD CD "\r\nv\r\n--b--", MULTIPART_ESYNTAX, "header twice"},
		{"--b\r\n" CD " folded\r\n\r\nv\r\n--b--", MULTIPART_ESYNTAX, "obsolete folding"},
		{"--b\n" CD "\nv\n--b--", MULTIPART_ESYNTAX, "bare LF"},
		{"--b\r\nContent-Disposition: form-data; name=\"f\"\n\r\nv\r\n--b--",
		 MULTIPART_ESYNTAX, "bare LF in header"},
		{"--b\r\nContent-Disposition form-data\r\n\r\nv\r\n--b--", MULTIPART_ESYNTAX,
		 "no colon"},
		{"--b\r\nBad Name: x\r\n" CD "\r\nv\r\n--b--", MULTIPART_ESYNTAX, "space in name"},
		{"--bX\r\n" CD "\r\nv\r\n--b--", MULTIPART_ESYNTAX,
		 "boundary prefix of a longer one"},
		{"--b\r\n" CD "\r\nv\r\n--bX\r\n--b--", MULTIPART_ESYNTAX,
		 "look-alike inside content"},
		{"--b\r\n" CD "\r\nv\r\n--bXY" CD "\r\nw\r\n--b--", MULTIPART_ESYNTAX,
		 "text right after a delimiter"},
		{"--b\r\n" CD "\r\n\xFF\r\n--b--", MULTIPART_EUTF8, "invalid UTF-8 text"},
		{"--b\r\nContent-Disposition: form-data; name=\"\xFF\"\r\n\r\nv\r\n--b--",
		 MULTIPART_EUTF8, "invalid UTF-8 name"},
		{"--b\r\nContent-Disposition: form-data; name=\"a\x01\"\r\n\r\nv\r\n--b--",
		 MULTIPART_EUTF8, "control character in header"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int rc = parse_str(a, cases[i].body, NULL);
		if (rc != cases[i].rc)
			fail_msg("%s: got %d (%s), want %d", cases[i].why, rc,
				 multipart_strerror(rc), cases[i].rc);
	}
	/* NUL in a text field, which strlen-based cases cannot hold */
	static const char nul[] = "--b\r\n" CD "\r\na\0b\r\n--b--";
	struct multipart mp;
	assert_int_equal(multipart_parse(a, nul, sizeof nul - 1, "b", NULL, &mp), MULTIPART_ENUL);
	/* but a file may hold anything */
	static const char nulf[] =
		"--b\r\nContent-Disposition: form-data; name=f; filename=x\r\n\r\n"
		"a\0\xFF\r\n--b--";
	assert_int_equal(multipart_parse(a, nulf, sizeof nulf - 1, "b", NULL, &mp), 0);
	assert_int_equal(mp.parts[0].len, 3);
	/* no body at all */
	assert_int_equal(multipart_parse(a, NULL, 0, "b", NULL, &mp), MULTIPART_ESYNTAX);
	/* an invalid boundary argument */
	assert_int_equal(multipart_parse(a, nulf, sizeof nulf - 1, "", NULL, &mp),
			 MULTIPART_EBOUNDARY);
	assert_int_equal(multipart_parse(a, nulf, sizeof nulf - 1, NULL, NULL, &mp),
			 MULTIPART_EBOUNDARY);
	assert_int_equal(multipart_parse(a, nulf, sizeof nulf - 1, "a*", NULL, &mp),
			 MULTIPART_EBOUNDARY);
}

static void test_limits(void **state)
{
	struct arena *a = *state;
	struct multipart_limits lim = {.max_parts = 2, .max_header = 64, .max_value = 4};
	assert_int_equal(parse_str(a, "--b\r\n" CD "\r\n1234\r\n--b--", &lim), 0);
	assert_int_equal(parse_str(a, "--b\r\n" CD "\r\n12345\r\n--b--", &lim), MULTIPART_ETOOBIG);
	assert_int_equal(parse_str(a, "--b\r\n" CD "\r\n1\r\n--b\r\n" CD "\r\n2\r\n--b--", &lim),
			 0);
	assert_int_equal(parse_str(a,
				   "--b\r\n" CD "\r\n1\r\n--b\r\n" CD "\r\n2\r\n--b\r\n" CD
				   "\r\n3\r\n--b--",
				   &lim),
			 MULTIPART_ETOOMANY);
	/* 64 bytes of headers is not enough for this block */
	assert_int_equal(parse_str(a,
				   "--b\r\n" CD
				   "Content-Type: text/plain; charset=utf-8\r\n\r\n1\r\n--b--",
				   &lim),
			 MULTIPART_ETOOBIG);
	/* files are not bounded by max_value */
	assert_int_equal(
		parse_str(
			a,
			"--b\r\nContent-Disposition: form-data; name=f; filename=x\r\n\r\n0123456789\r\n--b--",
			&(struct multipart_limits){
				.max_parts = 2, .max_header = 128, .max_value = 4}),
		0);
	/* too many header lines */
	struct buf b;
	buf_init(&b, 8192);
	assert_int_equal(buf_puts(&b, "--b\r\n" CD), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(buf_printf(&b, "X-%d: y\r\n", i), 0);
	assert_int_equal(buf_puts(&b, "\r\nv\r\n--b--"), 0);
	assert_int_equal(parse_str(a, b.p, NULL), MULTIPART_ETOOBIG);
	buf_release(&b);
	/* the default part count */
	buf_init(&b, 1 << 20);
	for (int i = 0; i <= MULTIPART_DEFAULT_MAX_PARTS; i++)
		assert_int_equal(
			buf_printf(&b,
				   "--b\r\nContent-Disposition: form-data; name=f%d\r\n\r\n%d\r\n",
				   i, i),
			0);
	assert_int_equal(buf_puts(&b, "--b--"), 0);
	assert_int_equal(parse_str(a, b.p, NULL), MULTIPART_ETOOMANY);
	buf_release(&b);
}

/* Every prefix of a valid body is refused cleanly (a truncated upload). */
static void test_every_truncation(void **state)
{
	struct arena *a = *state;
	static const char body[] = "--b\r\n" CD "\r\nvalue\r\n--b\r\n"
				   "Content-Disposition: form-data; name=g; filename=\"x.bin\"\r\n"
				   "\r\nDATA\r\n--b--";
	struct multipart mp;
	for (size_t n = 0; n < sizeof body - 1; n++) {
		int rc = multipart_parse(a, body, n, "b", NULL, &mp);
		if (rc == 0)
			fail_msg("prefix of %zu bytes accepted", n);
	}
	assert_int_equal(multipart_parse(a, body, sizeof body - 1, "b", NULL, &mp), 0);
	assert_int_equal(mp.n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundary),
		cmocka_unit_test_setup_teardown(test_browser_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preamble_epilogue_padding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
