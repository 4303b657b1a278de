/* 全国地方公共団体コード (local government codes): the tenant key of every row.
 * A code is six digits, the sixth a check digit over the first five (weights
 * 6,5,4,3,2; r = sum mod 11; check = (11 - r) mod 10). Names come from the
 * Digital Agency's address base registry (ABR) file mt_city_all.csv.zip. */
#ifndef MADO_LGCODE_H
#define MADO_LGCODE_H
#include <stdbool.h>
#include <stddef.h>

/* The check digit (0..9) for five ASCII digits, or -1 if they are not digits. */
int lgcode_check_digit(const char *five);
/* True when s is exactly six ASCII digits (then NUL) with a correct check digit. */
bool lgcode_valid(const char *s);
/* As lgcode_valid for s[0..n), for codes inside larger text. */
bool lgcode_valid_n(const char *s, size_t n);

enum lgcode_err {
	LGCODE_EOPEN = -1,     /* the zip could not be opened or read */
	LGCODE_EFORMAT = -2,   /* CSV malformed, or a column missing, or a value too long */
	LGCODE_ECODE = -3,     /* a row whose lg_code fails the check digit */
	LGCODE_ENOTFOUND = -4, /* lgcode_lookup: no such code */
};

#define LGCODE_NAME_MAX 96 /* bytes, NUL included; ABR names are far shorter */

/* One municipality row. pref is the prefecture (和歌山県); county the 郡 of a
 * town or village, or ""; city the 市区町村; ward the 区 of a 政令指定都市, or ""
 * (then city is the designated city itself); name is city followed by ward
 * (和歌山市, 札幌市中央区) — the official name without prefecture or county.
 * Dates are "YYYY-MM-DD" or "" (abolished is ablt_date, "" while in force). */
struct lgcode_city {
	char lg_code[7];
	char pref[LGCODE_NAME_MAX], pref_kana[LGCODE_NAME_MAX];
	char county[LGCODE_NAME_MAX];
	char city[LGCODE_NAME_MAX], city_kana[LGCODE_NAME_MAX], city_roma[LGCODE_NAME_MAX];
	char ward[LGCODE_NAME_MAX], ward_kana[LGCODE_NAME_MAX];
	char name[LGCODE_NAME_MAX], name_kana[LGCODE_NAME_MAX];
	char efct_date[11], ablt_date[11];
};

/* Calls fn for every row of the ABR city file at zip_path (a 政令指定都市 and
 * each of its wards are separate rows). fn returns
 * 0 to go on or non-zero to stop (that value is returned). Returns 0, a
 * callback's value, or an lgcode_err with "file: line N: …" in err. Rows are
 * checked: a bad check digit or a name over LGCODE_NAME_MAX fails the load. */
int lgcode_load(const char *zip_path, int (*fn)(const struct lgcode_city *c, void *ctx), void *ctx,
		char *err, size_t errlen);

/* Finds one code in the file. Returns 0 with *out filled, LGCODE_ENOTFOUND,
 * or another lgcode_err (invalid codes are LGCODE_ECODE without reading). */
int lgcode_lookup(const char *zip_path, const char *lg_code, struct lgcode_city *out, char *err,
		  size_t errlen);

#endif
