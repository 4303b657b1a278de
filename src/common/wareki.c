/* 和暦 parsing and formatting (see wareki.h). The input is decoded once into
 * at most eight tokens (era, number, 年/月/日, separator); a fixed grammar is
 * matched over them, then the day is checked against the calendar and the era. */
#include "wareki.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "utf8.h"

struct era {
	const char *name, *letter;
	int start;   /* first day as YYYYMMDD */
	int last;    /* last day as YYYYMMDD (0: still in force) */
	int start_y; /* Gregorian year of 元年 */
};

static const struct era eras[] = {
	[WAREKI_ERA_NONE] = {"", "", 0, 0, 0},
	[WAREKI_MEIJI] = {"明治", "M", 18680125, 19120729, 1868},
	[WAREKI_TAISHO] = {"大正", "T", 19120730, 19261224, 1912},
	[WAREKI_SHOWA] = {"昭和", "S", 19261225, 19890107, 1926},
	[WAREKI_HEISEI] = {"平成", "H", 19890108, 20190430, 1989},
	[WAREKI_REIWA] = {"令和", "R", 20190501, 0, 2019},
};

#define GREGORIAN_FIRST 18730101 /* 明治6年1月1日: the solar calendar begins */
#define YEAR_MAX 9999

static void setmsg(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void setmsg(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;
	if (!msg || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

const char *wareki_era_name(enum wareki_era era)
{
	return era >= WAREKI_MEIJI && era <= WAREKI_REIWA ? eras[era].name : "";
}

const char *wareki_era_letter(enum wareki_era era)
{
	return era >= WAREKI_MEIJI && era <= WAREKI_REIWA ? eras[era].letter : "";
}

int wareki_from_ymd(int year, int month, int day, struct wareki_date *out)
{
	if (year < 1 || year > YEAR_MAX)
		return WAREKI_ERANGE;
	if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
		return WAREKI_EDATE;
	int key = year * 10000 + month * 100 + day;
	if (key < GREGORIAN_FIRST)
		return WAREKI_EOLD;
	enum wareki_era e = WAREKI_REIWA;
	while (key < eras[e].start)
		e--;
	out->year = year;
	out->month = month;
	out->day = day;
	out->era = e;
	out->era_year = year - eras[e].start_y + 1;
	return 0;
}

/* ---- tokenizer ---- */

enum tok_kind { T_ERA, T_NUM, T_NEN, T_GATSU, T_NICHI, T_SEP };

struct tok {
	enum tok_kind kind;
	int val;  /* era, number, or separator character */
	bool gan; /* the number was 元 */
};

#define TOK_MAX 8

/* The value 0..9 of a kanji numeral, 10 for 十, or -1. */
static int kanji_digit(uint32_t cp)
{
	switch (cp) {
	case 0x3007: /* 〇 */
	case 0x96F6: /* 零 */
		return 0;
	case 0x4E00: /* 一 */
		return 1;
	case 0x4E8C: /* 二 */
		return 2;
	case 0x4E09: /* 三 */
		return 3;
	case 0x56DB: /* 四 */
		return 4;
	case 0x4E94: /* 五 */
		return 5;
	case 0x516D: /* 六 */
		return 6;
	case 0x4E03: /* 七 */
		return 7;
	case 0x516B: /* 八 */
		return 8;
	case 0x4E5D: /* 九 */
		return 9;
	case 0x5341: /* 十 */
		return 10;
	default:
		return -1;
	}
}

/* Evaluates a run of kanji numerals: with 十 as [1-9]?十[1-9]? (二十五, 十二,
 * 三十), without it positionally (二〇 = 20, 一 = 1). Returns the value or -1. */
static int kanji_value(const int *k, int n)
{
	int ten = -1, v = 0;
	for (int i = 0; i < n; i++) {
		if (k[i] == 10) {
			if (ten >= 0)
				return -1;
			ten = i;
		}
	}
	if (ten < 0) {
		if (n > 4)
			return -1;
		for (int i = 0; i < n; i++)
			v = v * 10 + k[i];
		return v;
	}
	if (ten > 1 || n - ten - 1 > 1)
		return -1;
	int tens = ten == 1 ? k[0] : 1;
	int ones = ten + 1 < n ? k[ten + 1] : 0;
	if (tens == 0 || (ten + 1 < n && ones == 0))
		return -1; /* 〇十, 十〇 */
	return tens * 10 + ones;
}

/* Folds full-width ASCII (！..～) to ASCII and the dash family to '-'. */
static uint32_t fold(uint32_t cp)
{
	if (cp >= 0xFF01 && cp <= 0xFF5E)
		return cp - 0xFEE0;
	switch (cp) {
	case 0x2010: /* ‐ */
	case 0x2011:
	case 0x2012:
	case 0x2013: /* – */
	case 0x2014: /* — */
	case 0x2015: /* ― */
	case 0x2212: /* − */
		return '-';
	default:
		return cp;
	}
}

static bool is_space(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == 0x3000;
}

/* Decodes the code point at s[*pos], folded; 0 with *ok false on bad UTF-8. */
static uint32_t next_cp(const char *s, size_t n, size_t *pos, bool *ok)
{
	uint32_t cp = 0;
	size_t k = utf8_decode(s + *pos, n - *pos, &cp);
	if (k == 0) {
		*ok = false;
		return 0;
	}
	*pos += k;
	return fold(cp);
}

/* The era a letter or kanji (or square era glyph) opens, and the second
 * kanji that may follow it (0 for none). */
static enum wareki_era era_of(uint32_t cp, uint32_t *second)
{
	*second = 0;
	switch (cp) {
	case 'M':
	case 'm':
	case 0x337E: /* ㍾ */
		return WAREKI_MEIJI;
	case 'T':
	case 't':
	case 0x337D: /* ㍽ */
		return WAREKI_TAISHO;
	case 'S':
	case 's':
	case 0x337C: /* ㍼ */
		return WAREKI_SHOWA;
	case 'H':
	case 'h':
	case 0x337B: /* ㍻ */
		return WAREKI_HEISEI;
	case 'R':
	case 'r':
	case 0x32FF: /* ㋿ */
		return WAREKI_REIWA;
	case 0x660E: /* 明(治) */
		*second = 0x6CBB;
		return WAREKI_MEIJI;
	case 0x5927: /* 大(正) */
		*second = 0x6B63;
		return WAREKI_TAISHO;
	case 0x662D: /* 昭(和) */
		*second = 0x548C;
		return WAREKI_SHOWA;
	case 0x5E73: /* 平(成) */
		*second = 0x6210;
		return WAREKI_HEISEI;
	case 0x4EE4: /* 令(和) */
		*second = 0x548C;
		return WAREKI_REIWA;
	default:
		return WAREKI_ERA_NONE;
	}
}

/* Splits s into tokens. Returns the count, or -1 on anything unexpected
 * (bad UTF-8, an unknown character, a number too long, too many tokens). */
static int tokenize(const char *s, size_t n, struct tok *t)
{
	size_t pos = 0;
	int nt = 0;
	bool ok = true;

	while (pos < n) {
		size_t at = pos;
		uint32_t cp = next_cp(s, n, &pos, &ok), second;
		if (!ok)
			return -1;
		if (is_space(cp))
			continue;
		if (nt == TOK_MAX)
			return -1;
		struct tok *k = &t[nt++];
		k->gan = false;
		k->val = 0;
		enum wareki_era e = era_of(cp, &second);
		if (e != WAREKI_ERA_NONE) {
			k->kind = T_ERA;
			k->val = (int)e;
			if (second) {
				size_t p2 = pos;
				bool ok2 = true;
				if (pos < n && next_cp(s, n, &p2, &ok2) == second && ok2)
					pos = p2;
			}
		} else if (cp >= '0' && cp <= '9') {
			int nd = 0;
			k->kind = T_NUM;
			pos = at;
			while (pos < n) {
				size_t p2 = pos;
				uint32_t c = next_cp(s, n, &p2, &ok);
				if (!ok)
					return -1;
				if (c < '0' || c > '9')
					break;
				if (++nd > 4)
					return -1;
				k->val = k->val * 10 + (int)(c - '0');
				pos = p2;
			}
		} else if (kanji_digit(cp) >= 0) {
			int digits[5], nd = 0;
			k->kind = T_NUM;
			pos = at;
			while (pos < n) {
				size_t p2 = pos;
				int d = kanji_digit(next_cp(s, n, &p2, &ok));
				if (!ok)
					return -1;
				if (d < 0)
					break;
				if (nd == 5)
					return -1;
				digits[nd++] = d;
				pos = p2;
			}
			k->val = kanji_value(digits, nd);
			if (k->val < 0)
				return -1;
		} else if (cp == 0x5143) { /* 元 */
			k->kind = T_NUM;
			k->val = 1;
			k->gan = true;
		} else if (cp == 0x5E74) { /* 年 */
			k->kind = T_NEN;
		} else if (cp == 0x6708) { /* 月 */
			k->kind = T_GATSU;
		} else if (cp == 0x65E5) { /* 日 */
			k->kind = T_NICHI;
		} else if (cp == '.' || cp == '/' || cp == '-') {
			k->kind = T_SEP;
			k->val = (int)cp;
		} else {
			return -1;
		}
	}
	return nt;
}

/* "元" or the year as digits, for messages. */
static void year_text(int y, char *buf, size_t cap)
{
	if (y == 1)
		snprintf(buf, cap, "元");
	else
		snprintf(buf, cap, "%d", y);
}

static void last_day_text(int key, char *msg, size_t len, const char *name)
{
	setmsg(msg, len, "%sは%d年%d月%d日までです。", name, key / 10000, key / 100 % 100,
	       key % 100);
}

int wareki_parse(const char *s, size_t n, struct wareki_date *out, char *msg, size_t msglen)
{
	struct tok t[TOK_MAX];
	int rc = WAREKI_ESYNTAX;
	char ytxt[16];

	setmsg(msg, msglen, "%s", "");
	if (n > WAREKI_INPUT_MAX) {
		rc = WAREKI_ETOOLONG;
		setmsg(msg, msglen, "%s", wareki_strerror(rc));
		goto out;
	}
	int nt = s ? tokenize(s, n, t) : -1;
	bool long_form = nt == 7 && t[2].kind == T_NEN && t[3].kind == T_NUM &&
			 t[4].kind == T_GATSU && t[5].kind == T_NUM && t[6].kind == T_NICHI;
	bool short_form = nt == 6 && t[2].kind == T_SEP && t[3].kind == T_NUM &&
			  t[4].kind == T_SEP && t[4].val == t[2].val && t[5].kind == T_NUM;
	if (nt < 2 || t[0].kind != T_ERA || t[1].kind != T_NUM || !(long_form || short_form) ||
	    t[3].gan || t[5].gan) {
		setmsg(msg, msglen, "%s", wareki_strerror(WAREKI_ESYNTAX));
		goto out;
	}
	enum wareki_era e = (enum wareki_era)t[0].val;
	const struct era *era = &eras[e];
	int ey = t[1].val, m = t[3].val, d = t[5].val;
	int gy = era->start_y + ey - 1;
	year_text(ey, ytxt, sizeof ytxt);

	if (ey < 1) {
		rc = WAREKI_ERANGE;
		setmsg(msg, msglen, "年は1（元年）以上で入力してください。");
		goto out;
	}
	if (gy > YEAR_MAX) {
		rc = WAREKI_ERANGE;
		setmsg(msg, msglen, "%s", wareki_strerror(rc));
		goto out;
	}
	if (m < 1 || m > 12) {
		rc = WAREKI_EDATE;
		setmsg(msg, msglen, "月は1から12までの数字で入力してください。");
		goto out;
	}
	if (d < 1 || d > days_in_month(gy, m)) {
		rc = WAREKI_EDATE;
		if (d > 31 || d < 1)
			setmsg(msg, msglen, "日は1から31までの数字で入力してください。");
		else
			setmsg(msg, msglen, "%s%s年%d月は%d日までです。", era->name, ytxt, m,
			       days_in_month(gy, m));
		goto out;
	}
	int key = gy * 10000 + m * 100 + d;
	if (key < GREGORIAN_FIRST) {
		rc = WAREKI_EOLD;
		setmsg(msg, msglen, "%s", wareki_strerror(rc));
		goto out;
	}
	if (key < era->start) {
		rc = WAREKI_EBEFORE;
		setmsg(msg, msglen, "%sは%d年%d月%d日からです。", era->name, era->start / 10000,
		       era->start / 100 % 100, era->start % 100);
		goto out;
	}
	if (era->last && key > era->last) {
		rc = WAREKI_EAFTER;
		last_day_text(era->last, msg, msglen, era->name);
		goto out;
	}
	rc = wareki_from_ymd(gy, m, d, out);
	assert(rc == 0 && out->era == e && out->era_year == ey);
out:
	return rc;
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int wareki_parse_iso(const char *s, size_t n, struct wareki_date *out, char *msg, size_t msglen)
{
	int rc = WAREKI_ESYNTAX, y = -1, m = -1, d = -1;

	setmsg(msg, msglen, "%s", "");
	if (s && n == 10 && s[4] == '-' && s[7] == '-') {
		y = digits(s, 4);
		m = digits(s + 5, 2);
		d = digits(s + 8, 2);
	}
	if (y < 0 || m < 0 || d < 0) {
		setmsg(msg, msglen, "日付は「2024-04-01」の形で入力してください。");
		goto out;
	}
	rc = wareki_from_ymd(y, m, d, out);
	if (rc == WAREKI_EDATE && m >= 1 && m <= 12 && d >= 1 && d <= 31 && y >= 1)
		setmsg(msg, msglen, "%d年%d月は%d日までです。", y, m, days_in_month(y, m));
	else if (rc)
		setmsg(msg, msglen, "%s", wareki_strerror(rc));
out:
	return rc;
}

/* Validates *d and recomputes its era. */
static int check_date(const struct wareki_date *d, struct wareki_date *ok)
{
	int rc = d ? wareki_from_ymd(d->year, d->month, d->day, ok) : WAREKI_EDATE;
	return rc ? WAREKI_EDATE : 0;
}

static int finish(char *buf, size_t cap, int len)
{
	if (len < 0 || (size_t)len >= cap) {
		if (cap)
			buf[0] = '\0';
		return WAREKI_ENOSPACE;
	}
	return len;
}

int wareki_format_long(const struct wareki_date *d, char *buf, size_t cap)
{
	struct wareki_date v;
	char ytxt[16];
	int rc = check_date(d, &v);
	if (rc) {
		if (cap)
			buf[0] = '\0';
		return rc;
	}
	year_text(v.era_year, ytxt, sizeof ytxt);
	return finish(buf, cap,
		      snprintf(buf, cap, "%s%s年%d月%d日", eras[v.era].name, ytxt, v.month, v.day));
}

int wareki_format_short(const struct wareki_date *d, char *buf, size_t cap)
{
	struct wareki_date v;
	int rc = check_date(d, &v);
	if (rc) {
		if (cap)
			buf[0] = '\0';
		return rc;
	}
	return finish(
		buf, cap,
		snprintf(buf, cap, "%s%d.%d.%d", eras[v.era].letter, v.era_year, v.month, v.day));
}

int wareki_format_iso(const struct wareki_date *d, char *buf, size_t cap)
{
	struct wareki_date v;
	int rc = check_date(d, &v);
	if (rc) {
		if (cap)
			buf[0] = '\0';
		return rc;
	}
	return finish(buf, cap, snprintf(buf, cap, "%04d-%02d-%02d", v.year, v.month, v.day));
}

const char *wareki_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "";
	case WAREKI_ESYNTAX:
		return "日付の形式が正しくありません。「令和6年4月1日」または「R6.4.1」の形で入力してください。";
	case WAREKI_ETOOLONG:
		return "入力が長すぎます。";
	case WAREKI_EDATE:
		return "存在しない日付です。";
	case WAREKI_EBEFORE:
		return "元号の始まりより前の日付です。";
	case WAREKI_EAFTER:
		return "元号の終わりより後の日付です。";
	case WAREKI_EOLD:
		return "明治6年（1873年）1月1日より前の日付は扱えません。";
	case WAREKI_ERANGE:
		return "年が範囲外です。";
	case WAREKI_ENOSPACE:
		return "出力領域が足りません。";
	default:
		return "日付を確認してください。";
	}
}
