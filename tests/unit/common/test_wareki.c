/* Unit tests for common/wareki.c: every written form of a 和暦 date, era
 * boundaries, rejections with their Japanese messages, hostile input, and a
 * round trip of every day from 1873-01-01 to 2030-12-31 through all formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/wareki.h"

/* Parses a NUL-terminated string; fails the test unless it is y-m-d. */
static void expect_date(const char *s, int y, int m, int d)
{
	struct wareki_date w = {0};
	char msg[WAREKI_MSG_MAX];
	int rc = wareki_parse(s, strlen(s), &w, msg, sizeof msg);
	if (rc != 0 || w.year != y || w.month != m || w.day != d) {
		print_error("%s: rc %d (%s) got %d-%d-%d, want %d-%d-%d\n", s, rc, msg, w.year,
			    w.month, w.day, y, m, d);
		fail();
	}
	assert_string_equal(msg, "");
}

static void expect_error(const char *s, int want, const char *want_msg)
{
	struct wareki_date w = {0};
	char msg[WAREKI_MSG_MAX];
	int rc = wareki_parse(s, strlen(s), &w, msg, sizeof msg);
	if (rc != want) {
		print_error("%s: rc %d (%s), want %d\n", s, rc, msg, want);
		fail();
	}
	assert_true(msg[0] != '\0');
	if (want_msg)
		assert_string_equal(msg, want_msg);
}

static void test_forms(void **state)
{
	expect_date("令和6年4月1日", 2024, 4, 1);
	expect_date("令和元年5月1日", 2019, 5, 1);
	expect_date("R6.4.1", 2024, 4, 1);
	expect_date("R06.04.01", 2024, 4, 1);
	expect_date("r6.4.1", 2024, 4, 1);
	expect_date("H31/4/30", 2019, 4, 30);
	expect_date("h31-4-30", 2019, 4, 30);
	expect_date("S64.1.7", 1989, 1, 7);
	expect_date("昭和６４年１月７日", 1989, 1, 7);
	expect_date("平成三十一年四月三十日", 2019, 4, 30);
	expect_date("令和六年十二月二十五日", 2024, 12, 25);
	expect_date("令和二〇年一〇月一日", 2038, 10, 1);
	expect_date("令和元年五月一日", 2019, 5, 1);
	expect_date("平成十年十月十日", 1998, 10, 10);
	expect_date(" 令和 6 年 4 月 1 日 ", 2024, 4, 1);
	expect_date("令和\xe3\x80\x80"
		    "6年4月1日",
		    2024, 4, 1); /* U+3000 */
	expect_date("R 6.4.1", 2024, 4, 1);
	expect_date("令6年4月1日", 2024, 4, 1);
	expect_date("平31.4.30", 2019, 4, 30);
	expect_date("昭64年1月7日", 1989, 1, 7);
	expect_date("大15.12.24", 1926, 12, 24);
	expect_date("明45.7.29", 1912, 7, 29);
	expect_date("M6.1.1", 1873, 1, 1);
	expect_date("T1.7.30", 1912, 7, 30);
	expect_date("大正元年7月30日", 1912, 7, 30);
	expect_date("Ｒ６．４．１", 2024, 4, 1); /* full-width letter and dots */
	expect_date("Ｈ３１／４／３０", 2019, 4, 30);
	expect_date("R6年4月1日", 2024, 4, 1);
	expect_date("\xe3\x8b\xbf"
		    "6年4月1日",
		    2024, 4, 1); /* ㋿ */
	expect_date("\xe3\x8d\xbb"
		    "31年4月30日",
		    2019, 4, 30); /* ㍻ */
	expect_date("R6\xe2\x88\x92"
		    "4\xe2\x88\x92"
		    "1",
		    2024, 4, 1); /* − minus */
	expect_date("令和6年04月01日", 2024, 4, 1);
	expect_date("平成4年2月29日", 1992, 2, 29);
	expect_date("平成12年2月29日", 2000, 2, 29); /* 2000 is a leap year */

	struct wareki_date w;
	assert_int_equal(wareki_parse("令和6年4月1日", strlen("令和6年4月1日"), &w, NULL, 0), 0);
	assert_int_equal(w.era, WAREKI_REIWA);
	assert_int_equal(w.era_year, 6);
	assert_int_equal(wareki_parse("H1.1.8", 6, &w, NULL, 0), 0);
	assert_int_equal(w.era, WAREKI_HEISEI);
	assert_int_equal(w.era_year, 1);
}

static void test_boundaries(void **state)
{
	/* each era's last day and the next era's first */
	expect_date("明治45年7月29日", 1912, 7, 29);
	expect_date("大正元年7月30日", 1912, 7, 30);
	expect_date("大正15年12月24日", 1926, 12, 24);
	expect_date("昭和元年12月25日", 1926, 12, 25);
	expect_date("昭和64年1月7日", 1989, 1, 7);
	expect_date("平成元年1月8日", 1989, 1, 8);
	expect_date("平成31年4月30日", 2019, 4, 30);
	expect_date("令和元年5月1日", 2019, 5, 1);
	expect_date("明治6年1月1日", 1873, 1, 1);

	/* one day either side, in the wrong era */
	expect_error("明治45年7月30日", WAREKI_EAFTER, "明治は1912年7月29日までです。");
	expect_error("大正元年7月29日", WAREKI_EBEFORE, "大正は1912年7月30日からです。");
	expect_error("大正15年12月25日", WAREKI_EAFTER, "大正は1926年12月24日までです。");
	expect_error("昭和元年12月24日", WAREKI_EBEFORE, "昭和は1926年12月25日からです。");
	expect_error("昭和64年1月8日", WAREKI_EAFTER, "昭和は1989年1月7日までです。");
	expect_error("平成1年1月7日", WAREKI_EBEFORE, "平成は1989年1月8日からです。");
	expect_error("平成31年5月1日", WAREKI_EAFTER, "平成は2019年4月30日までです。");
	expect_error("令和1年4月30日", WAREKI_EBEFORE, "令和は2019年5月1日からです。");
	expect_error("R1.4.30", WAREKI_EBEFORE, "令和は2019年5月1日からです。");
	expect_error("明治5年12月31日", WAREKI_EOLD, NULL);
	expect_error("明治元年1月1日", WAREKI_EOLD, NULL);
	expect_error("平成32年1月1日", WAREKI_EAFTER, NULL);
	expect_error("昭和65年1月1日", WAREKI_EAFTER, NULL);
}

static void test_rejections(void **state)
{
	expect_error("令和5年2月29日", WAREKI_EDATE, "令和5年2月は28日までです。");
	expect_error("令和元年6月31日", WAREKI_EDATE, "令和元年6月は30日までです。");
	expect_error("平成11年2月29日", WAREKI_EDATE, NULL);
	expect_error("R6.13.1", WAREKI_EDATE, "月は1から12までの数字で入力してください。");
	expect_error("R6.0.1", WAREKI_EDATE, NULL);
	expect_error("R6.4.0", WAREKI_EDATE, "日は1から31までの数字で入力してください。");
	expect_error("R6.4.32", WAREKI_EDATE, NULL);
	expect_error("R0.5.1", WAREKI_ERANGE, NULL);
	expect_error("令和〇年5月1日", WAREKI_ERANGE, NULL);
	expect_error("R9999.1.1", WAREKI_ERANGE, NULL);
	const char *syntax[] = {
		"",
		" ",
		"令和",
		"令和6年",
		"令和6年4月",
		"令和6年4月1",
		"6年4月1日",
		"2024-04-01",
		"R6.4",
		"R6.4.1.",
		"R6.4/1",
		"R6..4.1",
		"RR6.4.1",
		"X6.4.1",
		"R6.4.1日",
		"令和6年4月1日生",
		"令和元.5.1x",
		"令和6年元月1日",
		"令和6年4月元日",
		"R12345.1.1",
		"R6.004.1x",
		"令和十十年1月1日",
		"令和〇十年1月1日",
		"令和十〇年1月1日",
		"令和一二三四五年1月1日",
		"R-6.4.1",
		"R6 4 1",
		"令和6年4月1日日",
		"昭和和6年1月1日",
		"R６.4.1年",
		"明治治6年1月1日",
	};
	for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++)
		expect_error(syntax[i], WAREKI_ESYNTAX, NULL);
	struct wareki_date w;
	assert_int_equal(wareki_parse(NULL, 5, &w, NULL, 0), WAREKI_ESYNTAX);
	/* a small message buffer is cut, never overrun */
	char small[8];
	memset(small, 'x', sizeof small);
	assert_int_equal(wareki_parse("R1.4.30", 7, &w, small, sizeof small), WAREKI_EBEFORE);
	assert_true(memchr(small, '\0', sizeof small) != NULL);
}

static void test_hostile(void **state)
{
	struct wareki_date w;
	char msg[WAREKI_MSG_MAX];
	/* embedded NUL, through the length */
	assert_int_equal(wareki_parse("R6.4.1\0", 7, &w, msg, sizeof msg), WAREKI_ESYNTAX);
	assert_int_equal(wareki_parse("R6.4\0.1", 7, &w, msg, sizeof msg), WAREKI_ESYNTAX);
	/* only the first n bytes are read */
	assert_int_equal(wareki_parse("R6.4.1zzz", 6, &w, msg, sizeof msg), 0);
	/* invalid UTF-8: lone continuation, overlong, truncated, surrogate */
	const char *bad[] = {"R6.4.1\x80",   "\xc0\xae", "令和6年4月1\xe6\x97",
			     "\xed\xa0\x80", "\xff",     "令\xe5\x92 6年4月1日"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(wareki_parse(bad[i], strlen(bad[i]), &w, msg, sizeof msg),
				 WAREKI_ESYNTAX);
	/* the limit itself: 128 bytes of spaces around a date are fine, 129 not */
	char buf[WAREKI_INPUT_MAX + 1];
	memset(buf, ' ', sizeof buf);
	memcpy(buf, "R6.4.1", 6);
	assert_int_equal(wareki_parse(buf, WAREKI_INPUT_MAX, &w, msg, sizeof msg), 0);
	assert_int_equal(wareki_parse(buf, WAREKI_INPUT_MAX + 1, &w, msg, sizeof msg),
			 WAREKI_ETOOLONG);
	assert_string_equal(msg, "入力が長すぎます。");
	/* 16 MiB is refused without being read */
	size_t big = 16u << 20;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, '1', big);
	assert_int_equal(wareki_parse(huge, big, &w, msg, sizeof msg), WAREKI_ETOOLONG);
	free(huge);
	/* long runs of digits or tokens inside the limit */
	memset(buf, '9', sizeof buf);
	buf[0] = 'R';
	assert_int_equal(wareki_parse(buf, WAREKI_INPUT_MAX, &w, msg, sizeof msg), WAREKI_ESYNTAX);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = i % 2 ? '.' : '1';
	assert_int_equal(wareki_parse(buf, WAREKI_INPUT_MAX, &w, msg, sizeof msg), WAREKI_ESYNTAX);
	/* every single byte and every two-byte string */
	unsigned char two[2];
	for (int a = 0; a < 256; a++) {
		two[0] = (unsigned char)a;
		assert_true(wareki_parse((char *)two, 1, &w, NULL, 0) < 0);
		for (int b = 0; b < 256; b++) {
			two[1] = (unsigned char)b;
			assert_true(wareki_parse((char *)two, 2, &w, NULL, 0) < 0);
		}
	}
}

static void test_iso(void **state)
{
	struct wareki_date w;
	char msg[WAREKI_MSG_MAX], out[WAREKI_FORMAT_MAX];
	assert_int_equal(wareki_parse_iso("2024-04-01", 10, &w, msg, sizeof msg), 0);
	assert_int_equal(w.era, WAREKI_REIWA);
	assert_int_equal(w.era_year, 6);
	assert_int_equal(wareki_format_long(&w, out, sizeof out), (int)strlen("令和6年4月1日"));
	assert_string_equal(out, "令和6年4月1日");
	assert_int_equal(wareki_format_short(&w, out, sizeof out), 6);
	assert_string_equal(out, "R6.4.1");
	assert_int_equal(wareki_format_iso(&w, out, sizeof out), 10);
	assert_string_equal(out, "2024-04-01");

	assert_int_equal(wareki_parse_iso("2023-02-29", 10, &w, msg, sizeof msg), WAREKI_EDATE);
	assert_string_equal(msg, "2023年2月は28日までです。");
	assert_int_equal(wareki_parse_iso("1872-12-31", 10, &w, msg, sizeof msg), WAREKI_EOLD);
	assert_int_equal(wareki_parse_iso("0000-01-01", 10, &w, msg, sizeof msg), WAREKI_ERANGE);
	assert_int_equal(wareki_parse_iso("9999-12-31", 10, &w, msg, sizeof msg), 0);
	int len = wareki_format_long(&w, out, sizeof out);
	assert_string_equal(out, "令和7981年12月31日");
	assert_int_equal(len, (int)strlen(out));
	const char *bad[] = {"2024-4-1",    "2024/04/01", "2024-04-01T00",
			     " 2024-04-01", "2024-04-0x", "+024-04-01",
			     "2024-13-01",  "2024-00-10", "2024-04-31"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_true(wareki_parse_iso(bad[i], strlen(bad[i]), &w, msg, sizeof msg) < 0);
	assert_int_equal(wareki_parse_iso(NULL, 10, &w, msg, sizeof msg), WAREKI_ESYNTAX);
	assert_int_equal(wareki_parse_iso("2024-04-01", 9, &w, msg, sizeof msg), WAREKI_ESYNTAX);
}

static void test_format(void **state)
{
	struct wareki_date w;
	char out[WAREKI_FORMAT_MAX];
	assert_int_equal(wareki_from_ymd(2019, 5, 1, &w), 0);
	assert_int_equal(wareki_format_long(&w, out, sizeof out), (int)strlen("令和元年5月1日"));
	assert_string_equal(out, "令和元年5月1日");
	assert_int_equal(wareki_format_short(&w, out, sizeof out), 6);
	assert_string_equal(out, "R1.5.1");
	/* the era is recomputed from year/month/day */
	struct wareki_date hand = {.year = 1989, .month = 1, .day = 7, .era = WAREKI_REIWA};
	assert_int_equal(wareki_format_long(&hand, out, sizeof out), (int)strlen("昭和64年1月7日"));
	assert_string_equal(out, "昭和64年1月7日");
	/* too small: error and "" */
	assert_int_equal(wareki_format_short(&w, out, 6), WAREKI_ENOSPACE);
	assert_string_equal(out, "");
	assert_int_equal(wareki_format_short(&w, out, 7), 6);
	assert_int_equal(wareki_format_iso(&w, out, 10), WAREKI_ENOSPACE);
	assert_int_equal(wareki_format_long(&w, out, 0), WAREKI_ENOSPACE);
	/* invalid dates */
	struct wareki_date bad = {.year = 2023, .month = 2, .day = 29};
	assert_int_equal(wareki_format_long(&bad, out, sizeof out), WAREKI_EDATE);
	assert_string_equal(out, "");
	bad = (struct wareki_date){.year = 1872, .month = 12, .day = 31};
	assert_int_equal(wareki_format_iso(&bad, out, sizeof out), WAREKI_EDATE);
	assert_int_equal(wareki_format_short(NULL, out, sizeof out), WAREKI_EDATE);
	assert_int_equal(wareki_from_ymd(1900, 2, 29, &w), WAREKI_EDATE); /* not leap */
	assert_int_equal(wareki_from_ymd(2000, 2, 29, &w), 0);
	assert_int_equal(wareki_from_ymd(10000, 1, 1, &w), WAREKI_ERANGE);
	assert_string_equal(wareki_era_name(WAREKI_TAISHO), "大正");
	assert_string_equal(wareki_era_letter(WAREKI_SHOWA), "S");
	assert_string_equal(wareki_era_name((enum wareki_era)42), "");
	assert_string_equal(wareki_strerror(WAREKI_EOLD),
			    "明治6年（1873年）1月1日より前の日付は扱えません。");
}

/* Appends the kanji numeral of v (1..99) to p. */
static char *put_kanji(char *p, int v)
{
	static const char *const d[10] = {"〇", "一", "二", "三", "四",
					  "五", "六", "七", "八", "九"};
	if (v >= 20) {
		p += snprintf(p, 8, "%s", d[v / 10]);
	}
	if (v >= 10)
		p += snprintf(p, 8, "十");
	if (v % 10)
		p += snprintf(p, 8, "%s", d[v % 10]);
	return p;
}

static void roundtrip(const char *s, const struct wareki_date *want)
{
	struct wareki_date w = {0};
	char msg[WAREKI_MSG_MAX];
	int rc = wareki_parse(s, strlen(s), &w, msg, sizeof msg);
	if (rc || w.year != want->year || w.month != want->month || w.day != want->day ||
	    w.era != want->era || w.era_year != want->era_year) {
		print_error("%s: rc %d %s, want %04d-%02d-%02d\n", s, rc, msg, want->year,
			    want->month, want->day);
		fail();
	}
}

static void test_roundtrip(void **state)
{
	int y = 1873, m = 1, d = 1, days = 0, era_changes = 0;
	enum wareki_era prev = WAREKI_MEIJI;
	char out[WAREKI_FORMAT_MAX], kanji[96], wide[96];
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	while (y <= 2030) {
		struct wareki_date w, back;
		assert_int_equal(wareki_from_ymd(y, m, d, &w), 0);
		if (w.era != prev) {
			assert_int_equal(w.era, prev + 1);
			assert_int_equal(w.era_year, 1);
			era_changes++;
			prev = w.era;
		}
		assert_true(wareki_format_long(&w, out, sizeof out) > 0);
		roundtrip(out, &w);
		assert_true(wareki_format_short(&w, out, sizeof out) > 0);
		roundtrip(out, &w);
		/* the short form in lower case and with slashes */
		out[0] = (char)(out[0] - 'A' + 'a');
		for (char *p = out; *p; p++)
			if (*p == '.')
				*p = '/';
		roundtrip(out, &w);
		assert_int_equal(wareki_format_iso(&w, out, sizeof out), 10);
		assert_int_equal(wareki_parse_iso(out, 10, &back, NULL, 0), 0);
		assert_memory_equal(&back, &w, sizeof w);
		/* kanji numerals (元 for year 1) and full-width digits */
		char *p = kanji + snprintf(kanji, sizeof kanji, "%s", wareki_era_name(w.era));
		if (w.era_year == 1)
			p += snprintf(p, 8, "元");
		else
			p = put_kanji(p, w.era_year);
		p += snprintf(p, 8, "年");
		p = put_kanji(p, w.month);
		p += snprintf(p, 8, "月");
		p = put_kanji(p, w.day);
		snprintf(p, 8, "日");
		roundtrip(kanji, &w);
		p = wide + snprintf(wide, sizeof wide, "%s", wareki_era_name(w.era));
		char num[48];
		snprintf(num, sizeof num, "%d年%d月%d日", w.era_year, w.month, w.day);
		for (const char *q = num; *q; q++) {
			if (*q >= '0' && *q <= '9') {
				*p++ = '\xef';
				*p++ = '\xbc';
				*p++ = (char)(0x90 + (*q - '0'));
			} else {
				*p++ = *q;
			}
		}
		*p = '\0';
		roundtrip(wide, &w);

		days++;
		int last =
			m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : dim[m - 1];
		if (++d > last) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	assert_int_equal(days, 57708); /* 158 years, 38 of them leap */
	assert_int_equal(era_changes, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),      cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_rejections), cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_iso),        cmocka_unit_test(test_format),
		cmocka_unit_test(test_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
