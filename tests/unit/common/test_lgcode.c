/* Unit tests for common/lgcode.c: the check digit (published examples and the
 * one-in-ten property), loading from small zips made here, and — when the
 * ABR file is present — every row of the real mt_city_all.csv.zip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include <cmocka.h>

#include "common/lgcode.h"

static void test_check_digit(void **state)
{
	assert_true(lgcode_valid("302015")); /* 和歌山市 */
	assert_true(lgcode_valid("131059")); /* 文京区 */
	assert_true(lgcode_valid("131016")); /* 千代田区 */
	assert_true(lgcode_valid("011002")); /* 札幌市 */
	assert_true(lgcode_valid("465054")); /* the other ABR sample city */
	assert_int_equal(lgcode_check_digit("30201"), 5);
	assert_int_equal(lgcode_check_digit("13105"), 9);
	assert_int_equal(lgcode_check_digit("3020x"), -1);
	assert_int_equal(lgcode_check_digit("302\0"
					    "1"),
			 -1);

	assert_false(lgcode_valid("302016"));
	assert_false(lgcode_valid("131058"));
	assert_false(lgcode_valid("30201"));
	assert_false(lgcode_valid("3020150"));
	assert_false(lgcode_valid("30201a"));
	assert_false(lgcode_valid("-02015"));
	assert_false(lgcode_valid(" 302015"));
	assert_false(lgcode_valid(""));
	assert_false(lgcode_valid(NULL));
	assert_true(lgcode_valid_n("302015xyz", 6));
	assert_false(lgcode_valid_n("302015", 5));
}

/* r = 0 gives check digit 1 and r = 1 gives 0: both ends of the mod-10. */
static void test_check_digit_edges(void **state)
{
	/* 00000: sum 0, r 0 → (11 - 0) % 10 = 1 */
	assert_int_equal(lgcode_check_digit("00000"), 1);
	assert_true(lgcode_valid("000001"));
	/* 00003: sum 6, r 6 → 5 */
	assert_int_equal(lgcode_check_digit("00003"), 5);
	/* 10000: sum 6 → 5; 20000: 12, r 1 → 0 */
	assert_int_equal(lgcode_check_digit("20000"), 0);
	/* exactly one of ten candidates is valid, for every prefix */
	char s[7];
	for (int p = 0; p < 100000; p++) {
		int valid = 0;
		for (int d = 0; d < 10; d++) {
			snprintf(s, sizeof s, "%05d%d", p, d);
			valid += lgcode_valid(s);
		}
		assert_int_equal(valid, 1);
	}
}

/* ---- loading ---- */

struct tally {
	int rows;
	int wards;
	int stop_at;
	char last[7];
};

static int count_cb(const struct lgcode_city *c, void *ctx)
{
	struct tally *t = ctx;
	t->rows++;
	if (c->ward[0])
		t->wards++;
	memcpy(t->last, c->lg_code, 7);
	assert_true(lgcode_valid(c->lg_code));
	return t->stop_at && t->rows == t->stop_at ? 42 : 0;
}

static void write_zip(const char *path, const char *csv)
{
	int err = 0;
	unlink(path);
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_EXCL, &err);
	assert_non_null(z);
	zip_source_t *src = zip_source_buffer(z, csv, strlen(csv), 0);
	assert_true(zip_file_add(z, "mt_city_all.csv", src, 0) >= 0);
	assert_int_equal(zip_close(z), 0);
}

#define HDR                                                                                         \
	"lg_code,pref,pref_kana,pref_roma,county,county_kana,county_roma,city,city_kana,city_roma," \
	"ward,ward_kana,ward_roma,efct_date,ablt_date,remarks\r\n"

static void test_load_synthetic(void **state)
{
	char dir[] = "/tmp/mado-lgcode-XXXXXX", path[64], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/c.zip", dir);

	write_zip(
		path, HDR
		"302015,和歌山県,ワカヤマケン,Wakayama,,,,和歌山市,ワカヤマシ,Wakayama-shi,,,,1947-04-17,,\r\n"
		"011011,北海道,ホッカイドウ,Hokkaido,,,,札幌市,サッポロシ,Sapporo-shi,中央区,チュウオウク,Chuo-ku,1972-04-01,,\r\n"
		"304212,和歌山県,ワカヤマケン,Wakayama,東牟婁郡,ヒガシムログン,Higashimuro-gun,那智勝浦町,ナチカツウラチョウ,Nachikatsuura-cho,,,,1947-04-17,,\r\n");
	struct tally t = {0};
	assert_int_equal(lgcode_load(path, count_cb, &t, err, sizeof err), 0);
	assert_int_equal(t.rows, 3);
	assert_int_equal(t.wards, 1);
	t = (struct tally){.stop_at = 2};
	assert_int_equal(lgcode_load(path, count_cb, &t, err, sizeof err), 42);
	assert_int_equal(t.rows, 2);

	struct lgcode_city c;
	assert_int_equal(lgcode_lookup(path, "011011", &c, err, sizeof err), 0);
	assert_string_equal(c.name, "札幌市中央区");
	assert_string_equal(c.name_kana, "サッポロシチュウオウク");
	assert_string_equal(c.city, "札幌市");
	assert_string_equal(c.ward, "中央区");
	assert_string_equal(c.efct_date, "1972-04-01");
	assert_string_equal(c.ablt_date, "");
	assert_int_equal(lgcode_lookup(path, "304212", &c, err, sizeof err), 0);
	assert_string_equal(c.county, "東牟婁郡");
	assert_string_equal(c.name, "那智勝浦町");
	assert_int_equal(lgcode_lookup(path, "131059", &c, err, sizeof err), LGCODE_ENOTFOUND);
	assert_int_equal(lgcode_lookup(path, "302016", &c, err, sizeof err), LGCODE_ECODE);

	/* a row with a bad check digit fails the whole load, naming its line */
	write_zip(path, HDR "302015,和歌山県,,,,,,和歌山市,,,,,,,,\r\n"
			    "302016,和歌山県,,,,,,偽市,,,,,,,,\r\n");
	t = (struct tally){0};
	assert_int_equal(lgcode_load(path, count_cb, &t, err, sizeof err), LGCODE_ECODE);
	assert_non_null(strstr(err, "line 3"));
	assert_int_equal(t.rows, 1);

	/* a missing column */
	write_zip(path, "lg_code,pref,city\r\n302015,和歌山県,和歌山市\r\n");
	assert_int_equal(lgcode_load(path, count_cb, &t, err, sizeof err), LGCODE_EFORMAT);
	assert_non_null(strstr(err, "missing column"));

	/* a name longer than the struct holds is refused, not cut */
	char row[1024];
	char longname[300] = "";
	for (int i = 0; i < 40; i++)
		memcpy(longname + i * 3, "長", 3);
	snprintf(row, sizeof row, HDR "302015,和歌山県,,,,,,%s,,,,,,,,\r\n", longname);
	write_zip(path, row);
	assert_int_equal(lgcode_load(path, count_cb, &t, err, sizeof err), LGCODE_EFORMAT);

	/* broken CSV and invalid UTF-8 */
	write_zip(path, HDR "302015,\"和歌山県,,,,,,\r\n");
	assert_int_equal(lgcode_load(path, count_cb, &t, err, sizeof err), LGCODE_EFORMAT);
	write_zip(path, HDR "302015,\xFF,,,,,,x,,,,,,,,\r\n");
	assert_int_equal(lgcode_load(path, count_cb, &t, err, sizeof err), LGCODE_EFORMAT);

	assert_int_equal(lgcode_load("/nonexistent.zip", count_cb, &t, err, sizeof err),
			 LGCODE_EOPEN);
	unlink(path);
	rmdir(dir);
}

/* ---- the real ABR file ---- */

static const char *abr_zip(void)
{
	static char path[512];
	const char *env = getenv("MADO_ABR_CITY_ZIP");
	if (env && access(env, R_OK) == 0)
		return env;
	static const char *const rel[] = {
		"/data/abr/mt_city_all.csv.zip",
		"/../shared/data/abr/mt_city_all.csv.zip",
	};
	for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
		snprintf(path, sizeof path, "%s%s", MADO_SOURCE_DIR, rel[i]);
		if (access(path, R_OK) == 0)
			return path;
	}
	return NULL;
}

static void test_real_abr_file(void **state)
{
	const char *zip = abr_zip();
	if (!zip) {
		print_message("ABR city file not found (set MADO_ABR_CITY_ZIP); skipped\n");
		skip();
	}
	char err[256];
	struct tally t = {0};
	/* every row loads, and every code passes its check digit (count_cb) */
	assert_int_equal(lgcode_load(zip, count_cb, &t, err, sizeof err), 0);
	assert_true(t.rows > 1700); /* 1,718 municipalities plus the wards of 政令市 */
	assert_true(t.wards >= 150);

	static const struct {
		const char *code, *pref, *name;
	} known[] = {
		{"302015", "和歌山県", "和歌山市"}, {"131059", "東京都", "文京区"},
		{"131016", "東京都", "千代田区"},   {"011011", "北海道", "札幌市中央区"},
		{"465054", "鹿児島県", "屋久島町"},
	};
	for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
		struct lgcode_city c;
		assert_int_equal(lgcode_lookup(zip, known[i].code, &c, err, sizeof err), 0);
		assert_string_equal(c.lg_code, known[i].code);
		assert_string_equal(c.pref, known[i].pref);
		if (known[i].name)
			assert_string_equal(c.name, known[i].name);
		assert_true(c.name[0] != '\0');
	}
	/* a valid code no municipality has */
	struct lgcode_city c;
	assert_true(lgcode_valid("999997"));
	assert_int_equal(lgcode_lookup(zip, "999997", &c, err, sizeof err), LGCODE_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_digit),
		cmocka_unit_test(test_check_digit_edges),
		cmocka_unit_test(test_load_synthetic),
		cmocka_unit_test(test_real_abr_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
