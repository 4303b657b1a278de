/* Unit tests of the corporate number registry (src/registry/corp*.c) on real
 * SQLite files (and PostgreSQL when MADO_TEST_PG_URL is set): generated files
 * in UTF-8, UTF-8 with a BOM and CP932 are imported and compared, bad rows
 * abort or are skipped with FILE:LINE, name search is width- and
 * kana-insensitive, and the bigram index gives what a full scan gives. */
#include <errno.h>
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include <cmocka.h>

#include "common/checkdigit.h"
#include "app/boot.h"
#include "registry/corp.h"

#define NGEN 2000
#define NINDEX 20000 /* records of the index test */
#define NQUERY 200
#define STR_(x) #x
#define STR(x) STR_(x)

struct fixture {
	char dir[64];
	struct app app;
};

static struct db *open_db(const char *dir, const char *name)
{
	char url[160], err[256];
	snprintf(url, sizeof url, "sqlite:%s/%s", dir, name);
	struct db *db = db_open(url, 2, err, sizeof err);
	if (!db)
		return NULL;
	struct db_conn *c = db_acquire(db);
	int rc = app_migrate_module(c, &corp_module, err, sizeof err);
	db_release(c);
	if (rc != 0) {
		db_close(db);
		return NULL;
	}
	return db;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof f->dir, "/tmp/mado-corp-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->app.db = open_db(f->dir, "t.db");
	*state = f;
	return f->app.db ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	db_close(f->app.db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int64_t count(struct db *db, const char *sql)
{
	int64_t n = -1;
	struct db_conn *c = db_acquire(db);
	assert_int_equal(db_query_int64(c, sql, &n), DB_ROW);
	db_release(c);
	return n;
}

/* Every history record in sequence order as one string (malloc'd). */
static char *dump(struct db *db)
{
	struct db_conn *c = db_acquire(db);
	struct db_stmt *st;
	assert_int_equal(db_prepare(c,
				    "SELECT group_concat(x, '|') FROM (SELECT corporate_number || "
				    "process || name || coalesce(street_number, '') || "
				    "coalesce(furigana, '') || coalesce(close_date, '') AS x FROM "
				    "corp_history ORDER BY sequence_number)",
				    &st),
			 0);
	assert_int_equal(db_step(st), DB_ROW);
	char *s = strdup(db_col_text(st, 0));
	db_done(st);
	db_release(c);
	return s;
}

static void gen_file(const char *path, unsigned long n, uint64_t seed, bool cp932, bool bom)
{
	FILE *out = fopen(path, "wb");
	assert_non_null(out);
	if (bom)
		assert_int_equal(fwrite("\xEF\xBB\xBF", 1, 3, out), 3);
	assert_int_equal(corp_generate(out, n, seed, cp932), 0);
	assert_int_equal(fclose(out), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *out = fopen(path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(text, 1, strlen(text), out), strlen(text));
	assert_int_equal(fclose(out), 0);
}

/* The invariants of an imported generated file of NGEN records. */
static void check_generated(struct db *db)
{
	assert_int_equal(count(db, "SELECT COUNT(*) FROM corp_history"), NGEN);
	int64_t ncorp = count(db, "SELECT COUNT(*) FROM corp");
	assert_int_equal(ncorp,
			 count(db, "SELECT COUNT(*) FROM corp_history WHERE process = '01'"));
	assert_int_equal(ncorp,
			 count(db, "SELECT COUNT(DISTINCT corporate_number) FROM corp_history"));
	assert_true(ncorp < NGEN);
	/* corp holds the newest record, which the file marks latest */
	assert_int_equal(count(db, "SELECT COUNT(*) FROM corp c WHERE sequence_number <> (SELECT "
				   "MAX(sequence_number) FROM corp_history h WHERE "
				   "h.corporate_number = c.corporate_number)"),
			 0);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM corp WHERE latest <> 1"), 0);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM corp_history WHERE latest = 1"), ncorp);
	/* several records for some numbers: changes and closures */
	assert_true(count(db, "SELECT COUNT(*) FROM (SELECT corporate_number FROM corp_history "
			      "GROUP BY corporate_number HAVING COUNT(*) >= 3) t") > 10);
	assert_true(count(db, "SELECT COUNT(*) FROM corp WHERE process = '11'") > 10);
	assert_true(count(db, "SELECT COUNT(*) FROM corp WHERE process = '12'") > 10);
	assert_true(count(db, "SELECT COUNT(*) FROM corp WHERE process = '21' AND close_date IS "
			      "NOT NULL") > 5);
	assert_true(count(db, "SELECT COUNT(*) FROM corp WHERE process = '71' AND "
			      "successor_corporate_number IS NOT NULL") > 2);
}

static void generated_in_three_encodings(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *file, *encoding;
		bool cp932, bom, zip;
	} cases[] = {
		{"u.csv", "UTF-8", false, false, false},
		{"s.csv", "CP932", true, false, false},
		{"b.csv", "UTF-8 (BOM)", false, true, false},
		{"z.zip", "CP932", true, false, true},
	};
	char *first = NULL;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[128], dbname[16], err[512];
		snprintf(path, sizeof path, "%s/%s", f->dir, cases[i].file);
		snprintf(dbname, sizeof dbname, "e%zu.db", i);
		if (cases[i].zip) {
			char member[128];
			snprintf(member, sizeof member, "%s/member.csv", f->dir);
			gen_file(member, NGEN, 42, cases[i].cp932, cases[i].bom);
			int zerr = 0;
			zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
			assert_non_null(z);
			zip_source_t *src = zip_source_file(z, member, 0, -1);
			assert_non_null(src);
			assert_true(zip_file_add(z, "hojin.csv", src, 0) >= 0);
			assert_int_equal(zip_close(z), 0);
		} else {
			gen_file(path, NGEN, 42, cases[i].cp932, cases[i].bom);
		}
		struct app app = {0};
		app.db = open_db(f->dir, dbname);
		assert_non_null(app.db);
		for (int round = 0; round < 2; round++) { /* the second import changes nothing */
			struct corp_import_stats st;
			int rc = corp_import_file(&app, path, ABR_ABORT, stderr, NULL, &st, err,
						  sizeof err);
			if (rc != 0)
				fail_msg("%s", err);
			assert_string_equal(st.encoding, cases[i].encoding);
			assert_int_equal(st.rows, NGEN);
			assert_int_equal(st.skipped, 0);
			check_generated(app.db);
		}
		char *d = dump(app.db);
		if (!first)
			first = d;
		else {
			assert_string_equal(d, first); /* same text whatever the encoding */
			free(d);
		}
		db_close(app.db);
	}
	assert_non_null(strstr(first, "株式会社"));
	assert_non_null(strstr(first, "丁目"));
	free(first);
	/* another seed, another file; the same seed, the same bytes */
	char a[128], b[128];
	snprintf(a, sizeof a, "%s/a.csv", f->dir);
	snprintf(b, sizeof b, "%s/u.csv", f->dir);
	gen_file(a, NGEN, 43, false, false);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
	assert_int_not_equal(system(cmd), 0);
	gen_file(a, NGEN, 42, false, false);
	assert_int_equal(system(cmd), 0);
}

/* Reads path, replaces column col (0-based) of line (1-based) by value. */
static void patch_file(const char *path, int line, int col, const char *value)
{
	FILE *in = fopen(path, "rb");
	assert_non_null(in);
	static char text[1 << 20], out[1 << 20];
	size_t n = fread(text, 1, sizeof text - 1, in);
	fclose(in);
	text[n] = '\0';
	char *p = text;
	for (int l = 1; l < line; l++) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	for (int c = 0; c < col; c++) {
		p = strchr(p, ',');
		assert_non_null(p);
		p++;
	}
	char *end = strpbrk(p, ",\r\n");
	assert_non_null(end);
	int k = snprintf(out, sizeof out, "%.*s%s%s", (int)(p - text), text, value, end);
	assert_true(k > 0 && (size_t)k < sizeof out);
	write_file(path, out);
}

static void bad_rows_abort_or_skip(void **state)
{
	struct fixture *f = *state;
	char path[128], err[512];
	snprintf(path, sizeof path, "%s/bad.csv", f->dir);
	gen_file(path, 50, 7, false, false);
	/* line 7: the check digit of corporateNumber changed */
	char num[32];
	{
		FILE *in = fopen(path, "rb");
		char line[4096];
		for (int l = 0; l < 7; l++)
			assert_non_null(fgets(line, sizeof line, in));
		fclose(in);
		char *p = strchr(line, ',') + 1;
		snprintf(num, sizeof num, "%.13s", p);
		num[0] = num[0] == '9' ? '1' : (char)(num[0] + 1);
		assert_false(checkdigit_corporate_valid(num, 13));
	}
	patch_file(path, 7, 1, num);
	char *rep = NULL;
	size_t replen = 0;
	FILE *report = open_memstream(&rep, &replen);
	struct corp_import_stats st;
	assert_int_equal(
		corp_import_file(&f->app, path, ABR_ABORT, report, NULL, &st, err, sizeof err), -1);
	fclose(report);
	char want[300];
	snprintf(want, sizeof want, "%s:7: corporateNumber %s: wrong check digit", path, num);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(rep, want));
	free(rep);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM corp_history"), 0);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM corp"), 0);

	assert_int_equal(
		corp_import_file(&f->app, path, ABR_SKIP, NULL, NULL, &st, err, sizeof err), 0);
	assert_int_equal(st.rows, 49);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM corp_history"), 49);

	/* a day that does not exist, a wrong successor, a short row */
	static const struct {
		int line, col;
		const char *value, *msg;
	} bad[] = {
		{3, 4, "2021-02-30", ":3: updateDate is not a date YYYY-MM-DD: 2021-02-30"},
		{4, 22, "2015/10/05", ":4: assignmentDate is not a date"},
		{5, 20, "1234567890123", ":5: successorCorporateNumber 1234567890123: wrong check"},
		{6, 2, "05", ":6: unknown process 05"},
		{8, 29, "0,1", ":8: 31 columns instead of 30"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		gen_file(path, 50, 7, false, false);
		patch_file(path, bad[i].line, bad[i].col, bad[i].value);
		int rc = corp_import_file(&f->app, path, ABR_ABORT, NULL, NULL, &st, err,
					  sizeof err);
		assert_int_equal(rc, -1);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s does not name %s", err, bad[i].msg);
	}
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM corp_history"), 49);

	/* a CP932 file with a byte that is not CP932 on line 1500, past the
	 * 64 KiB from which the encoding is decided */
	gen_file(path, NGEN, 7, true, false);
	patch_file(path, 1500, 6, "\"\xFF\xFE\"");
	assert_int_equal(
		corp_import_file(&f->app, path, ABR_SKIP, NULL, NULL, &st, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:1500: not CP932 text", path);
	if (!strstr(err, want))
		fail_msg("%s does not name %s", err, want);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM corp_history"), 49);

	/* neither UTF-8 nor CP932; a missing file */
	write_file(path, "1,5835678256246,01,0,2020-01-01,2020-01-01,\"\xFF\xFE\"\n");
	assert_int_equal(
		corp_import_file(&f->app, path, ABR_SKIP, NULL, NULL, &st, err, sizeof err), -1);
	assert_non_null(strstr(err, "neither UTF-8 nor CP932"));
	snprintf(path, sizeof path, "%s/none.csv", f->dir);
	assert_int_equal(
		corp_import_file(&f->app, path, ABR_SKIP, NULL, NULL, &st, err, sizeof err), -1);
}

/* Hand-written records with the numbers given in the issue. */
static const char given[] =
	"1,5835678256246,01,0,2015-10-30,2015-10-05,\"株式会社マドグチテスト\",,301,\"和歌山県\","
	"\"和歌山市\",\"七番丁２３\",,30,201,6408511,,,,,,,2015-10-05,0,,,,,\"マドグチテスト\",0\r\n"
	"2,7123456789012,01,0,2016-04-01,2016-04-01,\"一般社団法人ＡＢＣ　ネットワーク協会\",,399,"
	"\"東京都\",\"千代田区\",\"霞が関３丁目１－１\",,13,101,1000013,,,,,,,2016-04-01,1,,,,,"
	"\"エービーシーネットワークキョウカイ\",0\r\n"
	"3,5835678256246,11,0,2020-06-01,2020-05-20,\"株式会社まどぐち１００％テスト\",,301,"
	"\"和歌山県\",\"和歌山市\",\"七番丁２３\",,30,201,6408511,,,,,,,2015-10-05,1,,,,,"
	"\"マドグチヒャクパーセントテスト\",0\r\n"
	"4,5835678256247,01,0,2016-04-01,2016-04-01,\"株式会社誤り\",,301,,,,,,,,,,,,,,,1,,,,,,0\r\n";

static void given_numbers_and_search(void **state)
{
	struct fixture *f = *state;
	char path[128], err[512];
	snprintf(path, sizeof path, "%s/given.csv", f->dir);
	write_file(path, given);
	struct corp_import_stats st;
	assert_int_equal(
		corp_import_file(&f->app, path, ABR_SKIP, NULL, NULL, &st, err, sizeof err), 0);
	assert_int_equal(st.rows, 3);
	assert_int_equal(st.skipped, 1);

	/* the same records in CP932, a file smaller than the 64 KiB head */
	iconv_t cd = iconv_open("CP932", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	char sjis[sizeof given], *ip = (char *)given, *op = sjis;
	size_t il = strlen(given), ol = sizeof sjis - 1;
	assert_int_equal(iconv(cd, &ip, &il, &op, &ol), 0);
	iconv_close(cd);
	*op = '\0';
	snprintf(path, sizeof path, "%s/given-sjis.csv", f->dir);
	write_file(path, sjis);
	assert_int_equal(
		corp_import_file(&f->app, path, ABR_SKIP, NULL, NULL, &st, err, sizeof err), 0);
	assert_string_equal(st.encoding, "CP932");
	assert_int_equal(st.rows, 3);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM corp_history"), 3);

	struct db_conn *c = db_acquire(f->app.db);
	json_t *j = NULL;
	assert_int_equal(corp_get(c, "5835678256246", &j), 0);
	assert_string_equal(json_string_value(json_object_get(j, "name")),
			    "株式会社まどぐち１００％テスト");
	assert_int_equal(json_array_size(json_object_get(j, "history")), 2);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "history"), 0), "name")),
			    "株式会社マドグチテスト");
	assert_true(json_is_null(json_object_get(j, "close_date")));
	json_decref(j);
	assert_int_equal(corp_get(c, "7123456789012", &j), 0);
	json_decref(j);
	assert_int_equal(corp_get(c, "5835678256247", &j), -EINVAL);
	assert_int_equal(corp_get(c, "583567825624", &j), -EINVAL);
	char unknown[14] = "0999999999999";
	unknown[0] = (char)('0' + checkdigit_corporate(unknown + 1, 12));
	assert_int_equal(corp_get(c, unknown, &j), -ENOENT);
	assert_null(j);

	static const struct {
		const char *q, *number; /* NULL: no match */
	} cases[] = {
		{"ﾏﾄﾞｸﾞﾁ", "5835678256246"},           /* half-width katakana, furigana */
		{"まどぐち", "5835678256246"},         /* hiragana */
		{"マドグチ　１００", "5835678256246"}, /* full-width digits and space */
		{"まどぐち100%", "5835678256246"},     /* % is a character, not a wildcard */
		{"abc ネットワーク", "7123456789012"}, /* ASCII for full-width letters */
		{"ｴｰﾋﾞｰｼｰ", "7123456789012"},          /* half-width furigana */
		{"ＡＢＣネット", "7123456789012"},
		{"㈱まどぐち100", "5835678256246"},        /* ㈱ for 株式会社 */
		{"（株）マドグチ１００", "5835678256246"}, /* (株) for 株式会社 */
		{"(有)まどぐち", NULL},                    /* 有限会社 is another form */
		{"ち%て", NULL}, /* would match 株式会社まどぐち100%てすと as a wildcard */
		{"ち_00", NULL},
		{"まどぐち_", NULL},
		{"存在しない法人", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *items = NULL;
		assert_int_equal(corp_search(c, cases[i].q, 50, &items), 0);
		if (!cases[i].number) {
			if (json_array_size(items) != 0)
				fail_msg("%s matched", cases[i].q);
		} else {
			if (json_array_size(items) != 1)
				fail_msg("%s: %zu matches", cases[i].q, json_array_size(items));
			assert_string_equal(json_string_value(json_object_get(
						    json_array_get(items, 0), "corporate_number")),
					    cases[i].number);
		}
		json_decref(items);
	}
	json_t *items = NULL;
	assert_int_equal(corp_search(c, "", 50, &items), -EINVAL);
	assert_int_equal(corp_search(c, "  ", 50, &items), -EINVAL);
	assert_int_equal(corp_search(c, "\xFF", 50, &items), -EINVAL);
	db_release(c);
}

/* Generates NGEN records with seed into dir/name and imports them. */
static void import_generated(struct fixture *f, const char *name, uint64_t seed)
{
	char path[128], err[512];
	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	gen_file(path, NGEN, seed, false, false);
	struct corp_import_stats st;
	assert_int_equal(
		corp_import_file(&f->app, path, ABR_ABORT, NULL, NULL, &st, err, sizeof err), 0);
}

static void search_generated(void **state)
{
	struct fixture *f = *state;
	import_generated(f, "g.csv", 1);
	struct db_conn *c = db_acquire(f->app.db);
	json_t *items = NULL;
	/* a prefix match on the folded name comes before substring matches */
	assert_int_equal(corp_search(c, "ｶﾌﾞｼｷｶﾞｲｼｬ", 50, &items), 0); /* no furigana has it */
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);
	assert_int_equal(corp_search(c, "株式会社", 50, &items), 0);
	assert_int_equal(json_array_size(items), 50);
	const char *first = json_string_value(json_object_get(json_array_get(items, 0), "name"));
	assert_int_equal(strncmp(first, "株式会社", strlen("株式会社")), 0);
	json_decref(items);
	assert_int_equal(corp_search(c, "かぶしきがいしゃ", 5, &items), 0);
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);
	assert_int_equal(corp_search(c, "ｼｮｳｼﾞ", 500, &items), 0); /* the limit is 50 at most */
	assert_true(json_array_size(items) > 0 && json_array_size(items) <= 50);
	json_decref(items);
	db_release(c);
}

/* ---- the bigram index ---- */

/* The search without the index: LIKE over every row; the numbers in order,
 * each followed by a space (malloc'd). */
static char *scan_numbers(struct db_conn *c, const char *q)
{
	struct buf f, any, prefix, out;
	buf_init(&f, 4096);
	buf_init(&any, 8200);
	buf_init(&prefix, 8200);
	buf_init(&out, 4096);
	assert_int_equal(corp_fold(&f, q, strlen(q)), 0);
	assert_int_equal(buf_putc(&any, '%'), 0);
	assert_int_equal(db_like_escape(&any, f.p, f.len), 0);
	assert_int_equal(buf_putc(&any, '%'), 0);
	assert_int_equal(db_like_escape(&prefix, f.p, f.len), 0);
	assert_int_equal(buf_putc(&prefix, '%'), 0);
	struct db_stmt *st;
	assert_int_equal(db_prepare(c,
				    "SELECT corporate_number FROM corp WHERE name_norm LIKE ? "
				    "ESCAPE '\\' OR furigana_norm LIKE ? ESCAPE '\\' ORDER BY CASE "
				    "WHEN name_norm LIKE ? ESCAPE '\\' OR furigana_norm LIKE ? "
				    "ESCAPE '\\' THEN 0 ELSE 1 END, name_norm, corporate_number "
				    "LIMIT 50",
				    &st),
			 0);
	db_bind_text(st, 1, buf_cstr(&any));
	db_bind_text(st, 2, buf_cstr(&any));
	db_bind_text(st, 3, buf_cstr(&prefix));
	db_bind_text(st, 4, buf_cstr(&prefix));
	assert_int_equal(buf_puts(&out, ""), 0);
	int r;
	while ((r = db_step(st)) == DB_ROW)
		assert_int_equal(buf_printf(&out, "%s ", db_col_text(st, 0)), 0);
	db_done(st);
	assert_int_equal(r, DB_DONE);
	char *s = strdup(buf_cstr(&out));
	buf_release(&f);
	buf_release(&any);
	buf_release(&prefix);
	buf_release(&out);
	return s;
}

/* corp_search's numbers in the same form. */
static char *search_numbers(struct db_conn *c, const char *q)
{
	json_t *items = NULL;
	if (corp_search(c, q, 50, &items) != 0)
		fail_msg("search %s failed", q);
	struct buf out;
	buf_init(&out, 4096);
	assert_int_equal(buf_puts(&out, ""), 0);
	for (size_t i = 0; i < json_array_size(items); i++)
		assert_int_equal(buf_printf(&out, "%s ",
					    json_string_value(json_object_get(
						    json_array_get(items, i), "corporate_number"))),
				 0);
	json_decref(items);
	char *s = strdup(buf_cstr(&out));
	buf_release(&out);
	return s;
}

/* "number|gram", for comparing the index with what the texts give */
struct pair {
	char s[24];
};

static int pair_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pair *)a)->s, ((const struct pair *)b)->s);
}

/* corp_gram holds exactly the bigrams that corp_bigrams gives for each row's
 * folded texts, and nothing for numbers that are gone. */
static void check_grams(struct db *db)
{
	int64_t rows = count(db, "SELECT COUNT(*) FROM corp"),
		stored = count(db, "SELECT COUNT(*) FROM corp_gram");
	assert_true(rows > 0);
	struct db_conn *c = db_acquire(db);
	struct db_stmt *st;
	struct corp_gram *g = malloc(2 * 8192 * sizeof *g);
	size_t cap = (size_t)stored + 1, nw = 0, nh = 0;
	struct pair *want = malloc(cap * sizeof *want), *have = malloc(cap * sizeof *have);
	assert_int_equal(
		db_prepare(c, "SELECT corporate_number, name_norm, furigana_norm FROM corp", &st),
		0);
	while (db_step(st) == DB_ROW) {
		const char *num = db_col_text(st, 0), *nn = db_col_text(st, 1),
			   *fn = db_col_text(st, 2);
		size_t k = corp_bigrams(nn, strlen(nn), fn, strlen(fn), g);
		for (size_t i = 0; i < k; i++) {
			if (nw == cap)
				fail_msg("%s: the texts have more bigrams than corp_gram", num);
			snprintf(want[nw++].s, sizeof want->s, "%s|%s", num, g[i].s);
		}
	}
	db_done(st);
	assert_int_equal(db_prepare(c, "SELECT corporate_number, gram FROM corp_gram", &st), 0);
	while (db_step(st) == DB_ROW) {
		assert_true(nh < cap);
		snprintf(have[nh++].s, sizeof have->s, "%s|%s", db_col_text(st, 0),
			 db_col_text(st, 1));
	}
	db_done(st);
	db_release(c);
	/* sorted here: the backend's collation may order them otherwise */
	qsort(want, nw, sizeof *want, pair_cmp);
	qsort(have, nh, sizeof *have, pair_cmp);
	assert_int_equal(nh, nw);
	for (size_t i = 0; i < nw; i++)
		if (strcmp(want[i].s, have[i].s) != 0)
			fail_msg("bigram %zu: the texts give %s, corp_gram has %s", i, want[i].s,
				 have[i].s);
	free(g);
	free(want);
	free(have);
}

static void bigrams_by_code_point(void **state)
{
	(void)state;
	struct corp_gram g[16];
	/* 1, 2, 3 and 4-byte characters; a repeated bigram is kept once */
	const char *s = "aé窓𠮷aé";
	size_t n = corp_bigrams(s, strlen(s), "", 0, g);
	assert_int_equal(n, 4);
	assert_string_equal(g[0].s, "aé");
	assert_string_equal(g[1].s, "é窓");
	assert_string_equal(g[2].s, "窓𠮷");
	assert_string_equal(g[3].s, "𠮷a");
	/* no bigram across the two texts, none of a single character */
	assert_int_equal(corp_bigrams("ab", 2, "cd", 2, g), 2);
	assert_string_equal(g[0].s, "ab");
	assert_string_equal(g[1].s, "cd");
	assert_int_equal(corp_bigrams("a", 1, "", 0, g), 0);
}

/* Queries taken from the stored names and furigana: a random run of 1–6
 * characters of a random row (sometimes the whole text), plus wildcards and
 * mixed forms. */
static void index_queries(struct db *db, uint64_t seed)
{
	struct db_conn *c = db_acquire(db);
	int64_t ncorp = count(db, "SELECT COUNT(*) FROM corp");
	assert_true(ncorp > 1000);
	uint64_t x = seed;
	int nonempty = 0, multi = 0;
	for (int q = 0; q < NQUERY + 6; q++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		char text[1024];
		static const char *const fixed[] = {"株式会社", "ち%て", "ち_00", "%", "_", "\\"};
		if (q >= NQUERY) {
			snprintf(text, sizeof text, "%s", fixed[q - NQUERY]);
		} else {
			struct db_stmt *st;
			bool kana = (x >> 40) & 1;
			assert_int_equal(db_prepare(c,
						    kana ? "SELECT furigana FROM corp ORDER BY "
							   "corporate_number LIMIT 1 OFFSET ?" :
							   "SELECT name FROM corp ORDER BY "
							   "corporate_number LIMIT 1 OFFSET ?",
						    &st),
					 0);
			db_bind_int64(st, 1, (int64_t)((x >> 20) % (uint64_t)ncorp));
			assert_int_equal(db_step(st), DB_ROW);
			const char *v = db_col_text(st, 0);
			snprintf(text, sizeof text, "%s", v ? v : "ＡＢＣ");
			db_done(st);
			/* a run of characters of it */
			size_t len = strlen(text), chars = 0, starts[1024];
			for (size_t i = 0; i < len; i++)
				if (((unsigned char)text[i] & 0xC0) != 0x80)
					starts[chars++] = i;
			starts[chars] = len;
			size_t want = 1 + (x >> 8) % 6, from = (x >> 12) % chars;
			if ((x >> 44) % 8 == 0)
				want = chars, from = 0;
			size_t to = from + want < chars ? from + want : chars;
			memmove(text, text + starts[from], starts[to] - starts[from]);
			text[starts[to] - starts[from]] = '\0';
		}
		char *a = search_numbers(c, text), *b = scan_numbers(c, text);
		if (strcmp(a, b) != 0)
			fail_msg("query %s: index gives [%s], the scan [%s]", text, a, b);
		nonempty += *a != '\0';
		multi += strchr(a, ' ') && strchr(a, ' ')[1] != '\0';
		free(a);
		free(b);
	}
	db_release(c);
	/* the queries come from the data: most match, many more than one */
	assert_true(nonempty >= NQUERY * 9 / 10);
	assert_true(multi >= NQUERY / 4);
}

/* Splits a generated file into two at a record boundary (line half). */
static void split_file(const char *path, const char *p1, const char *p2, unsigned long half)
{
	FILE *in = fopen(path, "rb"), *o1 = fopen(p1, "wb"), *o2 = fopen(p2, "wb");
	assert_true(in && o1 && o2);
	char line[8192];
	unsigned long n = 0;
	while (fgets(line, sizeof line, in))
		fputs(line, n++ < half ? o1 : o2);
	fclose(in);
	assert_int_equal(fclose(o1), 0);
	assert_int_equal(fclose(o2), 0);
}

/* NINDEX generated records in two files (so that the second changes names
 * the first stored), the newer one imported first and again later; the
 * index must equal what the texts give, and the search what a scan gives. */
static void index_on(struct db *db, const char *dir)
{
	struct app app = {.db = db};
	char path[160], p1[160], p2[160], err[512];
	snprintf(path, sizeof path, "%s/idx.csv", dir);
	snprintf(p1, sizeof p1, "%s/idx1.csv", dir);
	snprintf(p2, sizeof p2, "%s/idx2.csv", dir);
	gen_file(path, NINDEX, 7, false, false);
	split_file(path, p1, p2, NINDEX / 2);
	struct corp_import_stats st;
	assert_int_equal(corp_import_file(&app, p1, ABR_ABORT, NULL, NULL, &st, err, sizeof err),
			 0);
	check_grams(db);
	int64_t before = count(db, "SELECT COUNT(*) FROM corp_gram");
	assert_int_equal(corp_import_file(&app, p2, ABR_ABORT, NULL, NULL, &st, err, sizeof err),
			 0);
	/* the second half changed names of numbers of the first */
	assert_true(count(db,
			  "SELECT COUNT(*) FROM corp c WHERE process = '11' AND EXISTS "
			  "(SELECT 1 FROM corp_history h WHERE h.corporate_number = "
			  "c.corporate_number AND h.sequence_number <= " STR(NINDEX / 2) ")") > 10);
	assert_true(count(db, "SELECT COUNT(*) FROM corp_gram") > before);
	check_grams(db);
	/* the older half again and the whole file again: nothing changes */
	int64_t grams = count(db, "SELECT COUNT(*) FROM corp_gram");
	assert_int_equal(corp_import_file(&app, p1, ABR_ABORT, NULL, NULL, &st, err, sizeof err),
			 0);
	assert_int_equal(corp_import_file(&app, path, ABR_ABORT, NULL, NULL, &st, err, sizeof err),
			 0);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM corp_gram"), grams);
	check_grams(db);
	index_queries(db, 11);
}

static void index_equals_scan(void **state)
{
	struct fixture *f = *state;
	index_on(f->app.db, f->dir);
}

/* An existing database upgrades: corp_gram dropped and migration 2 applied
 * again back-fills it from corp. */
static void migration_backfills(void **state)
{
	struct fixture *f = *state;
	char err[512];
	import_generated(f, "m.csv", 5);
	struct db_conn *c = db_acquire(f->app.db);
	assert_int_equal(db_exec(c, "DROP TABLE corp_gram; DELETE FROM schema_migrations WHERE "
				    "module = 'corp' AND version >= 2"),
			 0);
	assert_int_equal(app_migrate_module(c, &corp_module, err, sizeof err), 0);
	db_release(c);
	check_grams(f->app.db);
	index_queries(f->app.db, 3);
}

/* Runs sql on the PostgreSQL server at url. */
static void pg_exec(const char *url, const char *sql)
{
	char err[512];
	struct db *db = db_open(url, 1, err, sizeof err);
	if (!db)
		fail_msg("%s", err);
	struct db_conn *c = db_acquire(db);
	if (db_exec(c, sql) != 0)
		fail_msg("%s: %s", sql, db_errmsg(c));
	db_release(c);
	db_close(db);
}

/* The same on PostgreSQL, in a schema of its own, when MADO_TEST_PG_URL is set. */
static void index_equals_scan_pg(void **state)
{
	struct fixture *f = *state;
	const char *base = getenv("MADO_TEST_PG_URL");
	if (!base || !*base) {
		skip();
		return;
	}
	char schema[64], sql[256], url[1024], err[512];
	snprintf(schema, sizeof schema, "corp_test_%ld", (long)getpid());
	snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
		 schema);
	pg_exec(base, sql);
	snprintf(url, sizeof url, "%s%soptions=-csearch_path%%3D%s", base,
		 strchr(base, '?') ? "&" : "?", schema);
	struct db *db = db_open(url, 2, err, sizeof err);
	if (!db)
		fail_msg("%s", err);
	struct db_conn *c = db_acquire(db);
	assert_int_equal(app_migrate_module(c, &corp_module, err, sizeof err), 0);
	db_release(c);
	index_on(db, f->dir);
	/* and the back-fill of migration 2 */
	c = db_acquire(db);
	assert_int_equal(db_exec(c, "DROP TABLE corp_gram; DELETE FROM schema_migrations WHERE "
				    "module = 'corp' AND version >= 2"),
			 0);
	assert_int_equal(app_migrate_module(c, &corp_module, err, sizeof err), 0);
	db_release(c);
	check_grams(db);
	db_close(db);
	snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", schema);
	pg_exec(base, sql);
}

/* Search answers in the same order on SQLite and on a PostgreSQL database
 * whose collation is Japanese (ICU ja-JP), as a municipality's may be: the
 * folded names compare in code-point order on both (corp migration 3), so a
 * LIMIT keeps the same corporations. */
static void same_order_under_japanese_collation(void **state)
{
	struct fixture *f = *state;
	const char *base = getenv("MADO_TEST_PG_URL");
	if (!base || !*base) {
		skip();
		return;
	}
	char dbname[64], sql[256], url[1024], err[512];
	snprintf(dbname, sizeof dbname, "mado_corp_ja_%ld", (long)getpid());
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", dbname);
	pg_exec(base, sql);
	snprintf(sql, sizeof sql,
		 "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu "
		 "ICU_LOCALE 'ja-JP' LOCALE 'C.UTF-8'",
		 dbname);
	pg_exec(base, sql);
	const char *auth = strstr(base, "://"), *slash = auth ? strchr(auth + 3, '/') : NULL;
	const char *q = slash ? strchr(slash, '?') : NULL;
	assert_non_null(slash);
	snprintf(url, sizeof url, "%.*s/%s%s", (int)(slash - base), base, dbname, q ? q : "");
	struct db *pg = db_open(url, 2, err, sizeof err);
	if (!pg)
		fail_msg("%s", err);
	struct db_conn *c = db_acquire(pg);
	assert_int_equal(app_migrate_module(c, &corp_module, err, sizeof err), 0);
	db_release(c);

	char path[160];
	snprintf(path, sizeof path, "%s/ja.csv", f->dir);
	gen_file(path, 3000, 11, false, false);
	struct app pg_app = {.db = pg};
	struct corp_import_stats st;
	assert_int_equal(
		corp_import_file(&f->app, path, ABR_ABORT, NULL, NULL, &st, err, sizeof err), 0);
	assert_int_equal(
		corp_import_file(&pg_app, path, ABR_ABORT, NULL, NULL, &st, err, sizeof err), 0);
	static const char *const queries[] = {"株式会社", "かぶしき", "ｼｮｳｼﾞ",
					      "会",       "商事",     "がい"};
	struct db_conn *a = db_acquire(f->app.db), *b = db_acquire(pg);
	for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
		json_t *x = NULL, *y = NULL;
		assert_int_equal(corp_search(a, queries[i], 20, &x), 0);
		assert_int_equal(corp_search(b, queries[i], 20, &y), 0);
		char *sx = json_dumps(x, JSON_COMPACT), *sy = json_dumps(y, JSON_COMPACT);
		if (strcmp(sx, sy) != 0)
			fail_msg("%s: SQLite %.300s\nPostgreSQL %.300s", queries[i], sx, sy);
		free(sx);
		free(sy);
		json_decref(x);
		json_decref(y);
	}
	db_release(a);
	db_release(b);
	db_close(pg);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	pg_exec(base, sql);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(generated_in_three_encodings, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_rows_abort_or_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(given_numbers_and_search, setup, teardown),
		cmocka_unit_test_setup_teardown(search_generated, setup, teardown),
		cmocka_unit_test(bigrams_by_code_point),
		cmocka_unit_test_setup_teardown(index_equals_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(migration_backfills, setup, teardown),
		cmocka_unit_test_setup_teardown(index_equals_scan_pg, setup, teardown),
		cmocka_unit_test_setup_teardown(same_order_under_japanese_collation, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
