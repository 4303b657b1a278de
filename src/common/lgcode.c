/* 全国地方公共団体コード check digits and the ABR municipality list (see
 * lgcode.h). The list is read straight from the published zip through
 * zipcsv, columns bound by their header names. */
#include "lgcode.h"

#include <stdio.h>
#include <string.h>

#include "checkdigit.h"
#include "csv.h"
#include "zipcsv.h"

int lgcode_check_digit(const char *five)
{
	/* the rule lives in checkdigit.c; it stops at the first non-digit */
	int cd = checkdigit_lgcode(five, 5);
	return cd < 0 ? -1 : cd;
}

bool lgcode_valid_n(const char *s, size_t n)
{
	if (n != 6)
		return false;
	int cd = lgcode_check_digit(s); /* stops at the first non-digit */
	return cd >= 0 && s[5] == '0' + cd;
}

bool lgcode_valid(const char *s)
{
	return s && lgcode_valid_n(s, strnlen(s, 7));
}

enum col {
	C_CODE,
	C_PREF,
	C_PREF_KANA,
	C_COUNTY,
	C_CITY,
	C_CITY_KANA,
	C_CITY_ROMA,
	C_WARD,
	C_WARD_KANA,
	C_EFCT,
	C_ABLT,
	C_COUNT
};

static const char *const col_names[C_COUNT] = {
	"lg_code",   "pref", "pref_kana", "county",    "city",      "city_kana",
	"city_roma", "ward", "ward_kana", "efct_date", "ablt_date",
};

/* Copies a field, refusing one that does not fit rather than cutting it. */
static int put(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static int fill_city(struct csv *csv, const int *idx, struct lgcode_city *c)
{
	const char *code = csv_get(csv, idx[C_CODE]);
	if (strlen(code) != 6)
		return LGCODE_ECODE;
	memcpy(c->lg_code, code, 7);
	int bad = put(c->pref, sizeof c->pref, csv_get(csv, idx[C_PREF])) |
		  put(c->pref_kana, sizeof c->pref_kana, csv_get(csv, idx[C_PREF_KANA])) |
		  put(c->county, sizeof c->county, csv_get(csv, idx[C_COUNTY])) |
		  put(c->city, sizeof c->city, csv_get(csv, idx[C_CITY])) |
		  put(c->city_kana, sizeof c->city_kana, csv_get(csv, idx[C_CITY_KANA])) |
		  put(c->city_roma, sizeof c->city_roma, csv_get(csv, idx[C_CITY_ROMA])) |
		  put(c->ward, sizeof c->ward, csv_get(csv, idx[C_WARD])) |
		  put(c->ward_kana, sizeof c->ward_kana, csv_get(csv, idx[C_WARD_KANA])) |
		  put(c->efct_date, sizeof c->efct_date, csv_get(csv, idx[C_EFCT])) |
		  put(c->ablt_date, sizeof c->ablt_date, csv_get(csv, idx[C_ABLT]));
	if (bad)
		return LGCODE_EFORMAT;
	int n = snprintf(c->name, sizeof c->name, "%s%s", c->city, c->ward);
	int k = snprintf(c->name_kana, sizeof c->name_kana, "%s%s", c->city_kana, c->ward_kana);
	if (n < 0 || (size_t)n >= sizeof c->name || k < 0 || (size_t)k >= sizeof c->name_kana)
		return LGCODE_EFORMAT;
	if (!lgcode_valid(c->lg_code))
		return LGCODE_ECODE;
	return 0;
}

int lgcode_load(const char *zip_path, int (*fn)(const struct lgcode_city *c, void *ctx), void *ctx,
		char *err, size_t errlen)
{
	/* one record is a few hundred bytes; the whole file a few hundred KB */
	struct csv_opts opts = {.max_record = 4096, .max_fields = 64, .utf8 = true};
	struct zipcsv *z = NULL;
	struct lgcode_city c;
	int idx[C_COUNT];
	int rc;

	if (errlen)
		err[0] = '\0';
	rc = zipcsv_open(zip_path, NULL, &opts, &z, err, errlen);
	if (rc) {
		rc = LGCODE_EOPEN;
		goto out;
	}
	struct csv *csv = zipcsv_csv(z);
	rc = csv_header(csv, col_names, C_COUNT, idx, true);
	while (rc == 0 && (rc = csv_next(csv)) > 0) {
		memset(&c, 0, sizeof c);
		rc = fill_city(csv, idx, &c);
		if (rc) {
			snprintf(err, errlen, "%s: line %lu: %s", zip_path, csv_line(csv),
				 rc == LGCODE_ECODE ? "invalid lg_code" : "value too long");
			goto out;
		}
		rc = fn(&c, ctx);
		if (rc)
			goto out;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", zip_path, csv_errmsg(csv));
		rc = rc == CSV_EIO ? LGCODE_EOPEN : LGCODE_EFORMAT;
	}
out:
	zipcsv_close(z);
	return rc;
}

struct find {
	const char *code;
	struct lgcode_city *out;
	bool found;
};

static int find_cb(const struct lgcode_city *c, void *ctx)
{
	struct find *f = ctx;
	if (strcmp(c->lg_code, f->code) != 0)
		return 0;
	/* a code reused after an abolition: prefer the row in force */
	if (!f->found || f->out->ablt_date[0]) {
		*f->out = *c;
		f->found = true;
	}
	return 0;
}

int lgcode_lookup(const char *zip_path, const char *lg_code, struct lgcode_city *out, char *err,
		  size_t errlen)
{
	struct find f = {lg_code, out, false};
	if (!lgcode_valid(lg_code)) {
		snprintf(err, errlen, "invalid lg_code");
		return LGCODE_ECODE;
	}
	int rc = lgcode_load(zip_path, find_cb, &f, err, errlen);
	if (rc)
		return rc;
	if (!f.found) {
		snprintf(err, errlen, "%s: no municipality %s", zip_path, lg_code);
		return LGCODE_ENOTFOUND;
	}
	return 0;
}
