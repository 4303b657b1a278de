/* 和暦 (Japanese era) dates: parse what clerks and residents write — 令和6年4月1日,
 * 令和元年5月1日, R6.4.1, H31/4/30, full-width and kanji numerals — and format
 * to the long (令和6年4月1日) and short (R6.4.1) forms and to ISO 8601. */
#ifndef MADO_WAREKI_H
#define MADO_WAREKI_H
#include <stdbool.h>
#include <stddef.h>

enum wareki_era {
	WAREKI_ERA_NONE = 0,
	WAREKI_MEIJI,  /* 明治 M, 1868-01-25 (Gregorian from 明治6年 = 1873-01-01) */
	WAREKI_TAISHO, /* 大正 T, 1912-07-30 */
	WAREKI_SHOWA,  /* 昭和 S, 1926-12-25 */
	WAREKI_HEISEI, /* 平成 H, 1989-01-08 */
	WAREKI_REIWA,  /* 令和 R, 2019-05-01 */
};

enum wareki_err {
	WAREKI_ESYNTAX = -1,  /* not a date in any accepted form (also invalid UTF-8) */
	WAREKI_ETOOLONG = -2, /* input longer than WAREKI_INPUT_MAX bytes */
	WAREKI_EDATE = -3,    /* month or day out of range, or no such calendar day */
	WAREKI_EBEFORE = -4,  /* before the first day of the named era */
	WAREKI_EAFTER = -5,   /* on or after the first day of the next era */
	WAREKI_EOLD = -6,     /* before 1873-01-01 (明治6年): pre-Gregorian calendar */
	WAREKI_ERANGE = -7,   /* after 9999-12-31, or year 0 */
	WAREKI_ENOSPACE = -8, /* format: the output buffer is too small */
};

/* Longest input accepted by the parsers, in bytes. Real dates are < 40. */
#define WAREKI_INPUT_MAX 128
/* Room for any formatted date, NUL included (令和7981年12月31日 is 26 bytes). */
#define WAREKI_FORMAT_MAX 32
/* Room for a parse error message (Japanese, UTF-8), NUL included. */
#define WAREKI_MSG_MAX 160

/* A valid date from 1873-01-01 to 9999-12-31. year/month/day are Gregorian;
 * era and era_year are the 和暦 of that day (era_year 1 is 元年). */
struct wareki_date {
	int year, month, day;
	enum wareki_era era;
	int era_year;
};

/* Parses a 和暦 date in s[0..n) (not NUL-terminated; NUL bytes inside are
 * simply invalid). Accepted, with optional spaces (ASCII or U+3000) between
 * parts, ASCII or full-width digits, and kanji numerals (〇一二…九, 十) or 元:
 *   era + Y年M月D日   era one of 明治 大正 昭和 平成 令和, 明 大 昭 平 令,
 *                    M T S H R (either case, ASCII or full-width), ㍾㍽㍼㍻㋿
 *   era + Y.M.D, Y/M/D or Y-M-D (one separator kind; full-width too)
 * The day must lie inside the named era: 令和1年4月30日 and 平成31年5月1日 are
 * errors, never silently another era. Returns 0 with *out filled, or a
 * wareki_err with a Japanese message for a form field in msg (msg may be NULL;
 * WAREKI_MSG_MAX bytes are always enough). */
int wareki_parse(const char *s, size_t n, struct wareki_date *out, char *msg, size_t msglen);

/* Parses ISO 8601 calendar dates YYYY-MM-DD exactly (no spaces, no time).
 * Returns as wareki_parse. */
int wareki_parse_iso(const char *s, size_t n, struct wareki_date *out, char *msg, size_t msglen);

/* Fills *out for a Gregorian date. Returns 0, WAREKI_EDATE, WAREKI_EOLD or
 * WAREKI_ERANGE. */
int wareki_from_ymd(int year, int month, int day, struct wareki_date *out);

/* Formatters write a NUL-terminated string into buf[0..cap) and return its
 * length in bytes, or WAREKI_ENOSPACE (buf then holds "" if cap > 0), or
 * WAREKI_EDATE when *d is not a valid date (its era is recomputed from
 * year/month/day, so a hand-filled struct needs only those three).
 * long:  令和6年4月1日, 令和元年5月1日
 * short: R6.4.1, R1.5.1 (no leading zeros)
 * iso:   2024-04-01 */
int wareki_format_long(const struct wareki_date *d, char *buf, size_t cap);
int wareki_format_short(const struct wareki_date *d, char *buf, size_t cap);
int wareki_format_iso(const struct wareki_date *d, char *buf, size_t cap);

/* 令和, R; "" and "" for WAREKI_ERA_NONE or an unknown value. */
const char *wareki_era_name(enum wareki_era era);
const char *wareki_era_letter(enum wareki_era era);

/* A generic Japanese message for an error code (the parsers' msg is more
 * specific). Never NULL. */
const char *wareki_strerror(int rc);

#endif
