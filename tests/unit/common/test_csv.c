/* Unit tests for common/csv.c: RFC 4180 quoting, line ends, BOM, blank
 * lines, every error with its line number, the bounds, header binding, and a
 * streaming source that hands over one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/csv.h"

/* Reads every record of s into "f1|f2;f1|f2;" and returns the final code. */
static int dump(const char *s, size_t n, const struct csv_opts *o, char *out, size_t cap)
{
	struct csv *c = csv_new_mem(s, n, o);
	size_t len = 0;
	int rc;
	out[0] = '\0';
	while ((rc = csv_next(c)) > 0) {
		for (size_t i = 0; i < csv_nfields(c); i++)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "|" : "",
						csv_field(c, i));
		len += (size_t)snprintf(out + len, cap - len, ";");
	}
	csv_free(c);
	return rc;
}

#define DUMP(lit, opts, out) dump((lit), sizeof(lit) - 1, (opts), (out), sizeof(out))

static void test_basic(void **state)
{
	char out[512];
	struct csv_opts ragged = {.allow_ragged = true};
	assert_int_equal(DUMP("a,b,c\r\n1,2,3\r\n", NULL, out), 0);
	assert_string_equal(out, "a|b|c;1|2|3;");
	assert_int_equal(DUMP("a,b\n1,2", NULL, out), 0); /* LF, no final newline */
	assert_string_equal(out, "a|b;1|2;");
	assert_int_equal(DUMP("", NULL, out), 0);
	assert_string_equal(out, "");
	assert_int_equal(DUMP("\r\n\n\r\n", NULL, out), 0); /* blank lines only */
	assert_string_equal(out, "");
	assert_int_equal(DUMP("a,b\r\n\r\n1,2\n\n", NULL, out), 0);
	assert_string_equal(out, "a|b;1|2;");
	assert_int_equal(DUMP(",\r\na,\r\n,b\n", NULL, out), 0);
	assert_string_equal(out, "|;a|;|b;");
	assert_int_equal(DUMP("a,", NULL, out), 0);
	assert_string_equal(out, "a|;");
	assert_int_equal(DUMP("x\r", NULL, out), 0);
	assert_string_equal(out, "x;");
	assert_int_equal(DUMP(" a , b ", NULL, out), 0); /* spaces are data */
	assert_string_equal(out, " a | b ;");
	assert_int_equal(DUMP("a\nb,c\n", &ragged, out), 0);
	assert_string_equal(out, "a;b|c;");
}

static void test_quotes(void **state)
{
	char out[512];
	assert_int_equal(DUMP("\"a,b\",\"say \"\"hi\"\"\",\"\"\r\n", NULL, out), 0);
	assert_string_equal(out, "a,b|say \"hi\"|;");
	assert_int_equal(DUMP("\"line1\r\nline2\",x\r\n", NULL, out), 0);
	assert_string_equal(out, "line1\r\nline2|x;");
	assert_int_equal(DUMP("\"\"\"\"", NULL, out), 0);
	assert_string_equal(out, "\";");
	assert_int_equal(DUMP("\"和歌山市\",\"302015\"", NULL, out), 0);
	assert_string_equal(out, "和歌山市|302015;");
}

static void test_bom(void **state)
{
	char out[128];
	assert_int_equal(DUMP("\xEF\xBB\xBFlg_code,pref\r\n", NULL, out), 0);
	assert_string_equal(out, "lg_code|pref;");
	/* a BOM is only skipped at the start */
	assert_int_equal(DUMP("a\n\xEF\xBB\xBF", NULL, out), 0);
	assert_string_equal(out, "a;\xEF\xBB\xBF;");
	/* text starting with EF that is not a BOM: halfwidth ｱ (EF BD B1) */
	assert_int_equal(DUMP("\xEF\xBD\xB1,b", NULL, out), 0);
	assert_string_equal(out, "\xEF\xBD\xB1|b;");
	assert_int_equal(DUMP("\xEF\xBB", NULL, out), 0);
	assert_string_equal(out, "\xEF\xBB;");
}

static void expect_error(const char *s, size_t n, const struct csv_opts *o, int rc,
			 unsigned long line, int good_records)
{
	struct csv *c = csv_new_mem(s, n, o);
	int r, k = 0;
	while ((r = csv_next(c)) > 0)
		k++;
	if (r != rc)
		fail_msg("'%s': got %d (%s), want %d", s, r, csv_errmsg(c), rc);
	assert_int_equal(k, good_records);
	char want[32];
	snprintf(want, sizeof want, "line %lu: ", line);
	if (strncmp(csv_errmsg(c), want, strlen(want)) != 0)
		fail_msg("'%s': message '%s', want line %lu", s, csv_errmsg(c), line);
	/* errors are sticky, and fields are gone */
	assert_int_equal(csv_next(c), rc);
	assert_int_equal(csv_nfields(c), 0);
	assert_string_equal(csv_field(c, 0), "");
	csv_free(c);
}

#define ERR(lit, o, rc, line, good) expect_error((lit), sizeof(lit) - 1, (o), (rc), (line), (good))

static void test_errors(void **state)
{
	struct csv_opts utf = {.utf8 = true};
	ERR("a,b\nc\"d,e\n", NULL, CSV_EQUOTE, 2, 1);
	ERR("a,b\n\"c\"d,e\n", NULL, CSV_EQUOTE, 2, 1);
	ERR("a,b\n\n\"open,\nstill open\n", NULL, CSV_EQUOTE, 3, 1);
	ERR("a,b\rc,d\n", NULL, CSV_ECR, 1, 0);
	ERR("a,b\nc\0,d\n", NULL, CSV_ENUL, 2, 1);
	ERR("a,b\nc\n", NULL, CSV_EWIDTH, 2, 1);
	ERR("a,b\nc,d,e\n", NULL, CSV_EWIDTH, 2, 1);
	ERR("a,b\n\xFF,c\n", &utf, CSV_EUTF8, 2, 1);
	ERR("a,b\n\"x\ny\",\"\xED\xA0\x80\"\n", &utf, CSV_EUTF8, 2, 1); /* record start line */
	ERR("\xEF\xBB\xBF\xFF", &utf, CSV_EUTF8, 1, 0);
}

static void test_bounds(void **state)
{
	char out[4096];
	struct csv_opts rec = {.max_record = 8};
	assert_int_equal(DUMP("1234567\n", &rec, out), 0); /* 8 bytes with the LF */
	ERR("12345678\n", &rec, CSV_ETOOBIG, 1, 0);
	ERR("\"1234\"\"\"\"\"\n", &rec, CSV_ETOOBIG, 1, 0); /* raw bytes count, not unescaped */
	struct csv_opts nf = {.max_fields = 3};
	assert_int_equal(DUMP("a,b,c\n", &nf, out), 0);
	ERR("a,b,c,d\n", &nf, CSV_ETOOMANY, 1, 0);
	ERR("a,b,c\n,,,\n", &nf, CSV_ETOOMANY, 2, 1);
	struct csv_opts total = {.max_bytes = 10};
	assert_int_equal(DUMP("abc\ndef\n", &total, out), 0);
	ERR("abc\ndef\nghi\n", &total, CSV_ETOOBIG, 3, 2); /* at the 11th byte */

	/* many tiny fields: the record buffer holds a NUL per field */
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 255; i++)
		assert_int_equal(buf_putc(&b, ','), 0);
	struct csv *c = csv_new_mem(b.p, b.len, NULL);
	assert_int_equal(csv_next(c), 1);
	assert_int_equal(csv_nfields(c), 256);
	csv_free(c);
	/* a default-size record: 64 KiB */
	buf_reset(&b);
	for (int i = 0; i < 70000; i++)
		assert_int_equal(buf_putc(&b, 'x'), 0);
	c = csv_new_mem(b.p, b.len, NULL);
	assert_int_equal(csv_next(c), CSV_ETOOBIG);
	csv_free(c);
	buf_release(&b);
}

static void test_header(void **state)
{
	static const char text[] = "city,lg_code,pref,extra\r\n"
				   "和歌山市,302015,和歌山県,x\r\n"
				   "文京区,131059,東京都,y\r\n";
	static const char *const names[] = {"lg_code", "pref", "city", "absent"};
	int idx[4];
	struct csv *c = csv_new_mem(text, sizeof text - 1, NULL);
	assert_int_equal(csv_header(c, names, 4, idx, false), 0);
	assert_int_equal(idx[0], 1);
	assert_int_equal(idx[1], 2);
	assert_int_equal(idx[2], 0);
	assert_int_equal(idx[3], -1);
	assert_int_equal(csv_next(c), 1);
	assert_string_equal(csv_get(c, idx[0]), "302015");
	assert_string_equal(csv_get(c, idx[2]), "和歌山市");
	assert_string_equal(csv_get(c, idx[3]), "");
	assert_int_equal(csv_field_len(c, (size_t)idx[2]), strlen("和歌山市"));
	assert_int_equal(csv_line(c), 2);
	assert_int_equal(csv_next(c), 1);
	assert_string_equal(csv_get(c, idx[1]), "東京都");
	assert_int_equal(csv_line(c), 3);
	assert_int_equal(csv_next(c), 0);
	csv_free(c);

	c = csv_new_mem(text, sizeof text - 1, NULL);
	assert_int_equal(csv_header(c, names, 4, idx, true), CSV_EHEADER);
	assert_non_null(strstr(csv_errmsg(c), "'absent'"));
	assert_int_equal(csv_next(c), CSV_EHEADER);
	csv_free(c);

	static const char dup[] = "a,b,a\n1,2,3\n";
	c = csv_new_mem(dup, sizeof dup - 1, NULL);
	assert_int_equal(csv_header(c, names, 0, idx, true), 0); /* nothing bound: fine */
	csv_free(c);
	static const char *const an[] = {"a"};
	c = csv_new_mem(dup, sizeof dup - 1, NULL);
	assert_int_equal(csv_header(c, an, 1, idx, false), CSV_EHEADER);
	assert_non_null(strstr(csv_errmsg(c), "twice"));
	csv_free(c);

	c = csv_new_mem("", 0, NULL);
	assert_int_equal(csv_header(c, an, 1, idx, false), CSV_EHEADER);
	csv_free(c);
}

/* A stream that hands out step bytes per call, or fails after fail_at. */
struct drip {
	const char *p;
	size_t n, pos, step, fail_at;
};

static ssize_t drip_read(void *ctx, char *buf, size_t cap)
{
	struct drip *d = ctx;
	if (d->fail_at && d->pos >= d->fail_at)
		return -1;
	size_t k = d->n - d->pos;
	if (k > d->step)
		k = d->step;
	if (k > cap)
		k = cap;
	memcpy(buf, d->p + d->pos, k);
	d->pos += k;
	return (ssize_t)k;
}

static void test_stream_matches_memory(void **state)
{
	static const char text[] = "\xEF\xBB\xBFid,\"name\",note\r\n"
				   "1,\"a,b\",\"multi\r\nline\"\r\n"
				   "\r\n"
				   "2,\"q\"\"q\",\n"
				   "3,和歌山,end";
	char want[512], got[512];
	struct csv_opts o = {.utf8 = true};
	assert_int_equal(DUMP(text, &o, want), 0);
	assert_string_equal(want, "id|name|note;1|a,b|multi\r\nline;2|q\"q|;3|和歌山|end;");
	for (size_t step = 1; step <= 7; step++) {
		struct drip d = {text, sizeof text - 1, 0, step, 0};
		struct csv *c = csv_new(drip_read, &d, &o);
		size_t len = 0;
		int rc;
		got[0] = '\0';
		while ((rc = csv_next(c)) > 0) {
			for (size_t i = 0; i < csv_nfields(c); i++)
				len += (size_t)snprintf(got + len, sizeof got - len, "%s%s",
							i ? "|" : "", csv_field(c, i));
			len += (size_t)snprintf(got + len, sizeof got - len, ";");
		}
		assert_int_equal(rc, 0);
		assert_string_equal(got, want);
		csv_free(c);
	}
	/* a failing source */
	struct drip d = {text, sizeof text - 1, 0, 4, 30};
	struct csv *c = csv_new(drip_read, &d, NULL);
	int rc;
	while ((rc = csv_next(c)) > 0)
		;
	assert_int_equal(rc, CSV_EIO);
	csv_free(c);
	/* max_bytes on a stream */
	struct drip d2 = {text, sizeof text - 1, 0, 16, 0};
	struct csv_opts small = {.max_bytes = 20};
	c = csv_new(drip_read, &d2, &small);
	while ((rc = csv_next(c)) > 0)
		;
	assert_int_equal(rc, CSV_ETOOBIG);
	csv_free(c);
}

static void test_strerror(void **state)
{
	for (int e = CSV_EHEADER; e < 0; e++) {
		assert_string_not_equal(csv_strerror(e), "unknown error");
		for (int g = e + 1; g < 0; g++)
			assert_string_not_equal(csv_strerror(e), csv_strerror(g));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_stream_matches_memory),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
