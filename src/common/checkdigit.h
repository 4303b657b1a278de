/* Check digits of the identifiers every procedure handles: 個人番号 (My
 * Number), 法人番号 (corporate number), 全国地方公共団体コード and the 宛名番号 /
 * 世帯番号 of the resident record. Pure functions over ASCII digits only;
 * full-width digits are the text normalizer's job, not this module's. */
#ifndef MADO_CHECKDIGIT_H
#define MADO_CHECKDIGIT_H
#include <stdbool.h>
#include <stddef.h>

enum checkdigit_err {
	CHECKDIGIT_ELENGTH = -1,   /* wrong number of characters for the scheme */
	CHECKDIGIT_EDIGIT = -2,    /* a character other than ASCII '0'..'9' (or s NULL) */
	CHECKDIGIT_EMISMATCH = -3, /* well formed, but the check digit is wrong */
};

#define CHECKDIGIT_MYNUMBER_LEN 12  /* 11 digits then the check digit */
#define CHECKDIGIT_CORPORATE_LEN 13 /* the check digit, then 12 digits */
#define CHECKDIGIT_LGCODE_LEN 6     /* 5 digits then the check digit */
#define CHECKDIGIT_ATENA_MAX 16 /* 宛名番号/世帯番号: 1..15 digits then the check digit */

/* The compute functions take the base without its check digit (s[0..n),
 * not NUL-terminated) and return the check digit 0..9, CHECKDIGIT_ELENGTH
 * when n is wrong, or CHECKDIGIT_EDIGIT. They never read past s[n-1], and
 * stop at the first non-digit.
 *
 * The check functions take the whole number and return 0 when it is valid,
 * else CHECKDIGIT_ELENGTH, CHECKDIGIT_EDIGIT or CHECKDIGIT_EMISMATCH (in
 * that order of precedence). The valid functions are the same as bool. */

/* 個人番号: base of 11 digits; weights from the left 6,5,4,3,2,7,6,5,4,3,2;
 * r = sum mod 11; check 0 when r <= 1, else 11 - r. */
int checkdigit_mynumber(const char *s, size_t n);
int checkdigit_mynumber_check(const char *s, size_t n);
bool checkdigit_mynumber_valid(const char *s, size_t n);

/* 法人番号: base of 12 digits; the check digit comes FIRST in the 13-digit
 * number. P_n is the n-th base digit from the right, Q_n 1 for odd n and 2
 * for even n; check = 9 - (sum P_n*Q_n mod 9), so always 1..9. */
int checkdigit_corporate(const char *s, size_t n);
int checkdigit_corporate_check(const char *s, size_t n);
bool checkdigit_corporate_valid(const char *s, size_t n);

/* 全国地方公共団体コード: base of 5 digits; weights 6,5,4,3,2; r = sum mod 11;
 * check = (11 - r) mod 10. lgcode.h uses this. */
int checkdigit_lgcode(const char *s, size_t n);
int checkdigit_lgcode_check(const char *s, size_t n);
bool checkdigit_lgcode_valid(const char *s, size_t n);

/* 宛名番号 / 世帯番号: modulus 11, weights 2,3,4,5,6,7,2,3,… from the rightmost
 * base digit leftwards; r = sum mod 11; check 0 when r <= 1, else 11 - r.
 * Base of 1..15 digits (whole number 2..16). For an 11-digit base this is
 * exactly the 個人番号 rule. */
int checkdigit_atena(const char *s, size_t n);
int checkdigit_atena_check(const char *s, size_t n);
bool checkdigit_atena_valid(const char *s, size_t n);

/* A short English name for an error code ("wrong length", …). */
const char *checkdigit_strerror(int rc);

#endif
