/* Unit tests of the synthetic population (src/resident/populate.c) on real
 * SQLite files holding 和歌山市's real Address Base Registry (imported once
 * from ../shared/data/abr, then copied for each test): counts, check digits,
 * uniqueness, the age pyramid, households, ABR links and determinism; and,
 * when MADO_TEST_PG_URL is set, a small population on PostgreSQL that must
 * be the same city as on SQLite, and the refusals there. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "app/boot.h"
#include "app/keys.h"
#include "common/checkdigit.h"
#include "pg_fixture.h"
#include "registry/registry.h"
#include "resident/names.h"
#include "resident/resident.h"
#include "resident/resident_internal.h"

#define LG "302015" /* 和歌山市 */

static char g_dir[64];  /* the group's temporary directory */
static bool g_have_abr; /* base.db holds 和歌山市's ABR */
static struct keys *g_keys;

struct fixture {
	char path[128];
	struct app app;
};

/* Opens the database at url (a path: SQLite) with the registry and
 * resident schemas. */
static struct db *open_db(const char *path)
{
	char url[1100], err[256];
	snprintf(url, sizeof url, "%s%s", strstr(path, "://") ? "" : "sqlite:", path);
	struct db *db = db_open(url, 2, err, sizeof err);
	if (!db)
		return NULL;
	struct db_conn *c = db_acquire(db);
	int rc = app_migrate_module(c, &registry_module, err, sizeof err);
	if (rc == 0)
		rc = app_migrate_module(c, &resident_module, err, sizeof err);
	db_release(c);
	if (rc != 0) {
		fprintf(stderr, "migrate: %s\n", err);
		db_close(db);
		return NULL;
	}
	return db;
}

static const char *abr_dir(void)
{
	const char *d = getenv("ABR_DIR");
	return d ? d : MADO_SOURCE_DIR "/../shared/data/abr";
}

/* libsodium, a scratch directory g_dir and keys g_keys in it: 0 or -1. */
static int scratch_and_keys(void)
{
	char path[160], err[512];
	if (sodium_init() < 0)
		return -1;
	snprintf(g_dir, sizeof g_dir, "/tmp/mado-populate-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	snprintf(path, sizeof path, "%s/keys", g_dir);
	g_keys = keys_load(path, 1, err, sizeof err);
	return g_keys ? 0 : -1;
}

/* Imports the town, residence and parcel files of 和歌山市 into base.db once. */
static int group_setup(void **state)
{
	(void)state;
	if (scratch_and_keys() != 0)
		return -1;
	char path[160], err[512];
	snprintf(path, sizeof path, "%s/base.db", g_dir);
	struct app app = {.keys = g_keys};
	app.db = open_db(path);
	if (!app.db)
		return -1;
	static const char *const files[] = {"mt_town_all.csv.zip", "mt_rsdtdsp_rsdt_pref30.csv.zip",
					    "mt_parcel_city302015.csv.zip"};
	g_have_abr = true;
	for (size_t i = 0; i < 3 && g_have_abr; i++) {
		char zip[1024];
		snprintf(zip, sizeof zip, "%s/%s", abr_dir(), files[i]);
		struct abr_import_stats st;
		if (access(zip, R_OK) != 0)
			g_have_abr = false;
		else if (abr_import_file(&app, zip, ABR_ABORT, NULL, NULL, &st, err, sizeof err) !=
			 0) {
			fprintf(stderr, "%s\n", err);
			db_close(app.db);
			return -1;
		}
	}
	db_close(app.db);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	keys_free(g_keys);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	assert_non_null(in);
	assert_non_null(out);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* A copy of base.db (with the ABR when present, else empty registries). */
static void open_copy(struct fixture *f, const char *name)
{
	char base[128];
	snprintf(base, sizeof base, "%s/base.db", g_dir);
	snprintf(f->path, sizeof f->path, "%s/%s", g_dir, name);
	copy_file(base, f->path);
	f->app.keys = g_keys;
	f->app.db = open_db(f->path);
	assert_non_null(f->app.db);
}

static void close_copy(struct fixture *f)
{
	db_close(f->app.db);
	f->app.db = NULL;
	unlink(f->path);
}

static void need_abr(void)
{
	if (!g_have_abr) {
		print_message("SKIPPED: ../shared/data/abr not present\n");
		skip();
	}
}

static int64_t count(struct fixture *f, const char *sql)
{
	int64_t n = -1;
	struct db_conn *c = db_acquire(f->app.db);
	int rc = db_query_int64(c, sql, &n);
	if (rc != DB_ROW)
		fprintf(stderr, "%s: %s\n", sql, db_errmsg(c));
	assert_int_equal(rc, DB_ROW);
	db_release(c);
	return n;
}

static void populate(struct fixture *f, uint64_t n, uint64_t seed)
{
	char err[512] = "";
	int rc = resident_populate(&f->app, LG, n, seed, NULL, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "populate: %s\n", err);
	assert_int_equal(rc, 0);
}

/* Every row's numbers: check digits valid; My Numbers decrypt, valid, unique. */
static void check_numbers(struct fixture *f, int64_t n)
{
	unsigned char key[32];
	keys_derive(g_keys, KEY_MYNUMBER_ENC, key);
	char(*mns)[13] = calloc((size_t)n, 13);
	assert_non_null(mns);
	struct db_conn *c = db_acquire(f->app.db);
	struct db_stmt *st;
	assert_int_equal(db_prepare(c,
				    "SELECT juminhyo_code, atena_no, setai_no, mynumber_enc FROM "
				    "residents WHERE lg_code = ? ORDER BY id",
				    &st),
			 0);
	db_bind_text(st, 1, LG);
	int64_t i = 0;
	while (db_step(st) == DB_ROW) {
		const char *code = db_col_text(st, 0), *atena = db_col_text(st, 1),
			   *setai = db_col_text(st, 2);
		assert_int_equal(strlen(code), 11);
		assert_true(checkdigit_atena_valid(code, 11));
		assert_true(checkdigit_atena_valid(atena, strlen(atena)));
		assert_true(checkdigit_atena_valid(setai, strlen(setai)));
		size_t blen;
		const void *blob = db_col_blob(st, 3, &blen);
		assert_non_null(blob);
		assert_true(i < n);
		assert_int_equal(res_mn_open(key, LG, code, blob, blen, mns[i]), 0);
		assert_true(checkdigit_mynumber_valid(mns[i], 12));
		i++;
	}
	db_done(st);
	db_release(c);
	assert_int_equal(i, n);
	qsort(mns, (size_t)n, 13, (int (*)(const void *, const void *))strcmp);
	for (int64_t j = 1; j < n; j++)
		assert_true(strcmp(mns[j - 1], mns[j]) != 0);
	sodium_memzero(mns, (size_t)n * 13);
	sodium_memzero(key, sizeof key);
	free(mns);
}

static void population_is_realistic(void **state)
{
	(void)state;
	need_abr();
	struct fixture f = {0};
	open_copy(&f, "real.db");
	populate(&f, 2000, 42);
	assert_int_equal(count(&f, "SELECT count(*) FROM residents WHERE lg_code = '302015'"),
			 2000);
	assert_int_equal(count(&f, "SELECT count(*) FROM resident_versions"), 2000);
	/* unique numbers */
	assert_int_equal(count(&f, "SELECT count(DISTINCT juminhyo_code) FROM residents"), 2000);
	assert_int_equal(count(&f, "SELECT count(DISTINCT atena_no) FROM residents"), 2000);
	assert_int_equal(count(&f, "SELECT count(DISTINCT mynumber_bidx) FROM residents"), 2000);
	check_numbers(&f, 2000);

	/* the age pyramid, as of the reference day 2026-10-01 */
	int64_t old = count(&f, "SELECT count(*) FROM residents WHERE birth <= '1961-10-01'");
	int64_t young = count(&f, "SELECT count(*) FROM residents WHERE birth > '2011-10-01'");
	print_message("65+: %.1f %%, under 15: %.1f %%\n", old / 20.0, young / 20.0);
	assert_in_range(old, 400, 800);   /* 20–40 % (census: 28.6 %) */
	assert_in_range(young, 160, 320); /* 8–16 % (census: 11.9 %) */
	assert_int_equal(count(&f, "SELECT count(*) FROM residents WHERE birth > '2026-10-01' OR "
				   "birth < '1920-01-01'"),
			 0);
	assert_in_range(count(&f, "SELECT count(*) FROM residents WHERE sex = 1"), 850, 1150);
	assert_int_equal(count(&f, "SELECT count(*) FROM residents WHERE sex NOT IN (1, 2)"), 0);

	/* households: one head each, one surname, one address */
	int64_t nh = count(&f, "SELECT count(DISTINCT setai_no) FROM residents");
	print_message("%lld households, mean size %.2f\n", (long long)nh, 2000.0 / (double)nh);
	assert_in_range(nh, 2000 / 26 * 10, 2000 / 19 * 10); /* mean size 1.9–2.6 */
	assert_int_equal(count(&f, "SELECT count(*) FROM (SELECT setai_no FROM residents GROUP BY "
				   "setai_no HAVING sum(zokugara = '世帯主') <> 1)"),
			 0);
	int64_t singles = count(&f, "SELECT count(*) FROM (SELECT setai_no FROM residents GROUP "
				    "BY setai_no HAVING count(*) = 1)");
	assert_in_range(singles * 100 / nh, 30, 46); /* census: 38 % */
	assert_int_equal(count(&f,
			       "SELECT count(*) FROM (SELECT setai_no FROM residents GROUP BY "
			       "setai_no HAVING count(DISTINCT substr(name, 1, instr(name, '　'))) "
			       "> 1 OR count(DISTINCT address) > 1 OR count(DISTINCT "
			       "coalesce(rsdt_id, prc_id)) > 1)"),
			 0);
	assert_true(count(&f, "SELECT count(DISTINCT zokugara) FROM residents") >= 5);

	/* children 20–45 years younger than both parents; parents of the head
	 * 20–45 years older; grandchildren likewise to their parents */
	assert_true(count(&f, "SELECT count(*) FROM residents WHERE zokugara = '子'") > 200);
	static const char gap_sql[] =
		"SELECT count(*) FROM residents p JOIN residents k ON k.setai_no = p.setai_no "
		"WHERE ((p.zokugara IN ('世帯主', '妻', '夫') AND k.zokugara = '子') OR "
		"(p.zokugara IN ('子', '子の妻', '子の夫') AND k.zokugara = '孫') OR "
		"(k.zokugara = '世帯主' AND p.zokugara IN ('父', '母'))) AND (k.birth <= "
		"date(p.birth, '+20 years') OR k.birth >= date(p.birth, '+45 years'))";
	assert_int_equal(count(&f, gap_sql), 0);

	/* addresses: real ABR residences and parcels of 和歌山市, both kinds */
	assert_int_equal(count(&f, "SELECT count(*) FROM residents WHERE address NOT LIKE "
				   "'和歌山県和歌山市%' OR (rsdt_id IS NULL) = (prc_id IS NULL)"),
			 0);
	assert_int_equal(count(&f,
			       "SELECT count(*) FROM residents r WHERE rsdt_id IS NOT NULL AND "
			       "NOT EXISTS (SELECT 1 FROM abr_rsdt a WHERE a.lg_code = r.lg_code "
			       "AND a.machiaza_id = r.machiaza_id AND a.blk_id = r.blk_id AND "
			       "a.rsdt_id = r.rsdt_id)"),
			 0);
	assert_int_equal(count(&f,
			       "SELECT count(*) FROM residents r WHERE prc_id IS NOT NULL AND "
			       "NOT EXISTS (SELECT 1 FROM abr_parcel a WHERE a.lg_code = r.lg_code "
			       "AND a.machiaza_id = r.machiaza_id AND a.prc_id = r.prc_id)"),
			 0);
	assert_true(count(&f, "SELECT count(*) FROM residents WHERE rsdt_id IS NOT NULL") > 300);
	assert_true(count(&f, "SELECT count(*) FROM residents WHERE prc_id IS NOT NULL") > 300);
	assert_int_equal(count(&f, "SELECT count(*) FROM residents WHERE rsdt_id IS NOT NULL AND "
				   "address NOT LIKE '%番%号'"),
			 0);

	/* born here: 出生 on the birth date; others 転入 later */
	assert_int_equal(count(&f,
			       "SELECT count(*) FROM residents WHERE (first_event = 'shussei' "
			       "AND moved_in <> birth) OR (first_event = 'tennyu' AND moved_in "
			       "<= birth) OR first_event NOT IN ('shussei', 'tennyu') OR moved_in "
			       "> '2026-10-01'"),
			 0);
	assert_in_range(count(&f, "SELECT count(*) FROM residents WHERE first_event = 'shussei'"),
			400, 1600);
	/* nobody is born here before a parent moved in */
	assert_int_equal(count(&f,
			       "SELECT count(*) FROM residents p JOIN residents k ON "
			       "k.setai_no = p.setai_no WHERE ((p.zokugara IN ('世帯主', '妻', "
			       "'夫') AND k.zokugara = '子') OR (p.zokugara IN ('子', '子の妻', "
			       "'子の夫') AND k.zokugara = '孫')) AND k.first_event = 'shussei' "
			       "AND p.moved_in > k.birth"),
			 0);
	/* names: surname, ideographic space, given name; kana likewise */
	assert_int_equal(count(&f, "SELECT count(*) FROM residents WHERE instr(name, '　') < 2 OR "
				   "instr(name_kana, '　') < 2"),
			 0);
	close_copy(&f);
}

/* All fields but the sealed My Number and the time of recording, in order. */
static void digest(struct fixture *f, unsigned char out[32])
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	struct db_conn *c = db_acquire(f->app.db);
	struct db_stmt *st;
	assert_int_equal(
		db_prepare(c,
			   "SELECT juminhyo_code, atena_no, setai_no, name, name_kana, birth, "
			   "sex, zokugara, address, machiaza_id, blk_id, rsdt_id, prc_id, "
			   "moved_in, first_event, mynumber_bidx FROM residents ORDER BY "
			   "atena_no",
			   &st),
		0);
	int rows = 0;
	while (db_step(st) == DB_ROW) {
		int n = db_col_count(st);
		for (int i = 0; i < n - 1; i++) {
			const char *v = db_col_text(st, i);
			if (!v)
				v = "\x01";
			crypto_generichash_update(&h, (const unsigned char *)v, strlen(v) + 1);
		}
		size_t blen = 0;
		const void *bidx = db_col_blob(st, n - 1, &blen);
		assert_non_null(bidx);
		assert_int_equal(blen, 32);
		crypto_generichash_update(&h, bidx, blen);
		rows++;
	}
	db_done(st);
	db_release(c);
	assert_true(rows > 0);
	crypto_generichash_final(&h, out, 32);
}

static void same_seed_same_city(void **state)
{
	(void)state;
	need_abr();
	unsigned char d[3][32];
	static const uint64_t seeds[3] = {7, 7, 8};
	for (int i = 0; i < 3; i++) {
		struct fixture f = {0};
		char name[32];
		snprintf(name, sizeof name, "seed%d.db", i);
		open_copy(&f, name);
		populate(&f, 1000, seeds[i]);
		digest(&f, d[i]);
		close_copy(&f);
	}
	assert_memory_equal(d[0], d[1], 32);
	assert_memory_not_equal(d[0], d[2], 32);
}

/* After n residents in two runs: numbers continue, nothing collides, and
 * household numbers of the two runs do not mix (portable SQL). */
static void check_twice(struct fixture *f, int64_t n)
{
	assert_int_equal(count(f, "SELECT count(*) FROM residents"), n);
	assert_int_equal(count(f, "SELECT count(*) FROM resident_versions"), n);
	assert_int_equal(count(f, "SELECT count(DISTINCT juminhyo_code) FROM residents"), n);
	assert_int_equal(count(f, "SELECT count(DISTINCT atena_no) FROM residents"), n);
	assert_int_equal(count(f, "SELECT count(DISTINCT mynumber_bidx) FROM residents"), n);
	assert_int_equal(count(f, "SELECT count(*) FROM (SELECT setai_no FROM residents GROUP BY "
				  "setai_no HAVING sum(CASE WHEN zokugara = '世帯主' THEN 1 ELSE 0 "
				  "END) <> 1) AS h"),
			 0);
	check_numbers(f, n);
}

/* A second run adds to the first: numbers continue, nothing collides. */
static void populate_twice(void **state)
{
	(void)state;
	need_abr();
	struct fixture f = {0};
	open_copy(&f, "twice.db");
	populate(&f, 300, 1);
	populate(&f, 301, 1);
	check_twice(&f, 601);
	close_copy(&f);
}

/* On a database without the ABR: refusals, nothing written. */
static void refuses(struct fixture *f)
{
	char err[512];
	assert_int_equal(resident_populate(&f->app, LG, 10, 1, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "ABR"));
	assert_non_null(strstr(err, "302015"));
	assert_int_equal(count(f, "SELECT count(*) FROM residents"), 0);
	/* a municipality whose ABR is not imported, a bad code, zero people */
	err[0] = '\0';
	assert_int_equal(resident_populate(&f->app, "131016", 10, 1, NULL, err, sizeof err), -1);
	assert_true(err[0] != '\0');
	assert_int_equal(resident_populate(&f->app, "302016", 10, 1, NULL, err, sizeof err), -1);
	assert_int_equal(resident_populate(&f->app, LG, 0, 1, NULL, err, sizeof err), -1);
	assert_int_equal(count(f, "SELECT count(*) FROM residents"), 0);
}

static void refuses_without_abr(void **state)
{
	(void)state;
	struct fixture f = {0};
	char path[128];
	snprintf(path, sizeof path, "%s/empty.db", g_dir);
	f.app.keys = g_keys;
	f.app.db = open_db(path);
	assert_non_null(f.app.db);
	refuses(&f);
	db_close(f.app.db);
	unlink(path);
}

static bool katakana_only(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	if (!*p)
		return false;
	while (*p) {
		/* U+30A1..U+30FC are E3 82 A1 .. E3 83 BC */
		if (p[0] != 0xE3 || (p[1] != 0x82 && p[1] != 0x83))
			return false;
		unsigned cp = 0x3000u | ((p[1] & 0x0Fu) << 6) | (p[2] & 0x3Fu);
		if (cp < 0x30A1 || cp > 0x30FC)
			return false;
		p += 3;
	}
	return true;
}

static void name_tables(void **state)
{
	(void)state;
	assert_true(popn_nsurnames >= 200);
	assert_true(popn_nmale >= 150);
	assert_true(popn_nfemale >= 150);
	bool rare[4] = {false};
	static const char *const forms[4] = {"髙橋", "齋藤", "渡邊", "𠮷田"};
	for (size_t i = 0; i < popn_nsurnames; i++) {
		assert_true(katakana_only(popn_surnames[i].kana));
		assert_true(popn_surnames[i].weight > 0);
		for (int k = 0; k < 4; k++)
			rare[k] |= !strcmp(popn_surnames[i].kanji, forms[k]);
	}
	for (int k = 0; k < 4; k++)
		assert_true(rare[k]);
	for (int sx = 0; sx < 2; sx++) {
		const struct popn_given *g = sx ? popn_female : popn_male;
		size_t n = sx ? popn_nfemale : popn_nmale;
		unsigned sum[POPN_COHORTS] = {0};
		for (size_t i = 0; i < n; i++) {
			assert_true(katakana_only(g[i].kana));
			for (int c = 0; c < POPN_COHORTS; c++)
				sum[c] += g[i].w[c];
			for (size_t j = 0; j < i; j++)
				assert_true(strcmp(g[i].kanji, g[j].kanji) != 0);
		}
		for (int c = 0; c < POPN_COHORTS; c++)
			assert_true(sum[c] > 100);
	}
	assert_int_equal(popn_cohort(1944), POPN_PRE1945);
	assert_int_equal(popn_cohort(1945), POPN_1945);
	assert_int_equal(popn_cohort(2004), POPN_1985);
	assert_int_equal(popn_cohort(2005), POPN_2005);
}

/* ---- PostgreSQL ---- */

/* A new schema on the process's PostgreSQL database with the registry and
 * resident schemas; its name into schema. */
static void open_pg(struct fixture *f, char schema[64])
{
	char url[1024];
	assert_int_equal(pg_schema_new(schema, url, sizeof url), 0);
	f->app.keys = g_keys;
	f->app.db = open_db(url);
	assert_non_null(f->app.db);
}

static void close_pg(struct fixture *f, const char *schema)
{
	db_close(f->app.db);
	f->app.db = NULL;
	assert_int_equal(pg_schema_drop(schema), 0);
}

/* The towns and the 住居表示 of 和歌山市 only (no parcels: they take long
 * to import and the comparison needs no second kind of address). */
static void import_small_abr(struct fixture *f)
{
	static const char *const files[] = {"mt_town_all.csv.zip",
					    "mt_rsdtdsp_rsdt_pref30.csv.zip"};
	for (size_t i = 0; i < 2; i++) {
		char zip[1024], err[512];
		snprintf(zip, sizeof zip, "%s/%s", abr_dir(), files[i]);
		struct abr_import_stats st;
		if (abr_import_file(&f->app, zip, ABR_ABORT, NULL, NULL, &st, err, sizeof err) != 0)
			fail_msg("%s: %s", files[i], err);
	}
}

/* The same seed on the same ABR makes the same city on PostgreSQL as on
 * SQLite (digest of every field in 宛名番号 order); a second run there adds
 * to the first without collisions. */
static void same_city_on_postgres(void **state)
{
	(void)state;
	need_abr();
	unsigned char d_sqlite[32], d_pg[32];
	struct fixture f = {0};
	char path[128], schema[64];
	snprintf(path, sizeof path, "%s/small.db", g_dir);
	f.app.keys = g_keys;
	f.app.db = open_db(path);
	assert_non_null(f.app.db);
	import_small_abr(&f);
	populate(&f, 400, 7);
	digest(&f, d_sqlite);
	db_close(f.app.db);
	unlink(path);

	struct fixture p = {0};
	open_pg(&p, schema);
	import_small_abr(&p);
	populate(&p, 400, 7);
	digest(&p, d_pg);
	assert_memory_equal(d_sqlite, d_pg, 32);
	assert_int_equal(count(&p, "SELECT count(*) FROM residents WHERE prc_id IS NOT NULL"), 0);
	populate(&p, 101, 1);
	check_twice(&p, 501);
	close_pg(&p, schema);
}

static void refuses_without_abr_pg(void **state)
{
	(void)state;
	struct fixture f = {0};
	char schema[64];
	open_pg(&f, schema);
	refuses(&f);
	close_pg(&f, schema);
}

/* Keys and a directory for the PostgreSQL cases, and the database. */
static int pg_group_setup(void **state)
{
	(void)state;
	if (scratch_and_keys() != 0)
		return -1;
	char zip[1024];
	snprintf(zip, sizeof zip, "%s/mt_rsdtdsp_rsdt_pref30.csv.zip", abr_dir());
	g_have_abr = access(zip, R_OK) == 0;
	pg_db_begin();
	return 0;
}

static int pg_group_teardown(void **state)
{
	int rc = pg_db_end();
	return group_teardown(state) == 0 && rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_tables),
		cmocka_unit_test(refuses_without_abr),
		cmocka_unit_test(population_is_realistic),
		cmocka_unit_test(same_seed_same_city),
		cmocka_unit_test(populate_twice),
	};
	/* On PostgreSQL: refusals, and one small city compared with SQLite's.
	 * The statistics of population_is_realistic (and its SQLite-only SQL:
	 * instr, date(…, '+20 years')) and the determinism of
	 * same_seed_same_city then hold there too, since the rows are equal. */
	const struct CMUnitTest on_pg[] = {
		cmocka_unit_test(refuses_without_abr_pg),
		cmocka_unit_test(same_city_on_postgres),
	};
	int failed =
		cmocka_run_group_tests_name("populate/sqlite", tests, group_setup, group_teardown);
	if (pg_wanted())
		failed += cmocka_run_group_tests_name("populate/postgres", on_pg, pg_group_setup,
						      pg_group_teardown);
	else
		printf("[  SKIPPED ] populate/postgres: MADO_TEST_PG_URL is not set\n");
	return failed;
}
