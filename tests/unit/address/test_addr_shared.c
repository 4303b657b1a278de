/* Unit tests of the shared index (src/address/addr_shared.c): a re-import
 * through the real importers bumps the registry generation, the index is
 * rebuilt and swapped in, and a reference taken before keeps working until it
 * is released. Small ABR zips are made at test time; SQLite always,
 * PostgreSQL too when MADO_TEST_PG_URL is set. Meant to run under ASan. */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include <cmocka.h>

#include "address/addr_internal.h"
#include "app/boot.h"
#include "registry/registry.h"

struct fixture {
	char dir[64];
	struct app app;
	char schema[64]; /* PostgreSQL: the schema to drop afterwards, or "" */
};

/* Writes a zip holding one member with the given CSV text. */
static void make_zip(const char *path, const char *member, const char *csv)
{
	int zerr = 0;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	assert_non_null(z);
	zip_source_t *src = zip_source_buffer(z, csv, strlen(csv), 0);
	assert_non_null(src);
	assert_true(zip_file_add(z, member, src, ZIP_FL_ENC_UTF_8) >= 0);
	assert_int_equal(zip_close(z), 0);
}

static const char TOWN_HDR[] =
	"lg_code,machiaza_id,machiaza_type,pref,city,oaza_cho,chome,rsdt_addr_flg\n";

/* Imports one zip made of csv; returns the rows written. */
static uint64_t import_csv(struct fixture *f, const char *name, const char *csv)
{
	char path[160], err[512];
	snprintf(path, sizeof path, "%s/%s.zip", f->dir, name);
	make_zip(path, name, csv);
	struct abr_import_stats st;
	if (abr_import_file(&f->app, path, ABR_ABORT, NULL, NULL, &st, err, sizeof err) != 0)
		fail_msg("import %s: %s", name, err);
	return st.rows;
}

static int64_t generation(struct fixture *f)
{
	int64_t g = -1;
	struct db_conn *c = db_acquire(f->app.db);
	assert_int_equal(registry_generation(c, &g), 0);
	db_release(c);
	return g;
}

static void exec_sql(struct fixture *f, const char *sql)
{
	struct db_conn *c = db_acquire(f->app.db);
	if (db_exec(c, sql) != 0)
		fail_msg("%s: %s", sql, db_errmsg(c));
	db_release(c);
}

/* 和歌山県, 和歌山市 and its one town 葵町. */
static void import_base(struct fixture *f)
{
	assert_int_equal(import_csv(f, "mt_pref_t.csv",
				    "lg_code,pref,pref_kana,pref_roma,efct_date,ablt_date\n"
				    "300004,和歌山県,ワカヤマケン,Wakayama,1947-04-17,\n"),
			 1);
	assert_int_equal(import_csv(f, "mt_city_t.csv",
				    "lg_code,pref,county,city,ward,efct_date,ablt_date\n"
				    "302015,和歌山県,,和歌山市,,1947-04-17,\n"),
			 1);
	char csv[512];
	snprintf(csv, sizeof csv, "%s302015,0001000,1,和歌山県,和歌山市,葵町,,0\n", TOWN_HDR);
	assert_int_equal(import_csv(f, "mt_town_t.csv", csv), 1);
}

static int open_db(struct fixture *f, const char *url)
{
	char err[512];
	f->app.db = db_open(url, 3, err, sizeof err);
	if (!f->app.db) {
		fprintf(stderr, "db_open: %s\n", err);
		return -1;
	}
	struct db_conn *c = db_acquire(f->app.db);
	int rc = app_migrate_module(c, &registry_module, err, sizeof err);
	db_release(c);
	if (rc != 0)
		fprintf(stderr, "migrate: %s\n", err);
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	*state = f;
	snprintf(f->dir, sizeof f->dir, "/tmp/mado-addrsh-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char url[128];
	snprintf(url, sizeof url, "sqlite:%s/t.db", f->dir);
	return open_db(f, url);
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

/* PostgreSQL in a schema of its own; skipped without MADO_TEST_PG_URL. */
static int setup_pg(void **state)
{
	const char *base = getenv("MADO_TEST_PG_URL");
	struct fixture *f = calloc(1, sizeof(*f));
	*state = f;
	snprintf(f->dir, sizeof f->dir, "/tmp/mado-addrsh-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	if (!base || !*base)
		return 0;
	char sql[256], url[1024];
	snprintf(f->schema, sizeof f->schema, "addr_shared_test_%ld", (long)getpid());
	snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", f->schema,
		 f->schema);
	pg_exec(base, sql);
	snprintf(url, sizeof url, "%s%soptions=-csearch_path%%3D%s", base,
		 strchr(base, '?') ? "&" : "?", f->schema);
	return open_db(f, url);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	/* drops the shared index of this app and this thread's pinned one */
	addr_shared_stop(&f->app);
	db_close(f->app.db);
	if (f->schema[0]) {
		char sql[128];
		snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", f->schema);
		pg_exec(getenv("MADO_TEST_PG_URL"), sql);
	}
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	int rc = system(cmd) == 0 ? 0 : -1;
	free(f);
	return rc;
}

static enum addr_level level_of(const struct addr_index *ix, const char *s, struct addr_result *r)
{
	struct addr_work *w = addr_work_new();
	addr_normalize(ix, w, s, strlen(s), r);
	addr_work_free(w);
	return r->level;
}

static const char NEW_TOWN[] = "和歌山県和歌山市窓口町1番地";

/* The scenario of the issue: an index is in use, a further ABR file adds a
 * town, the index is rebuilt; the new one finds the town, the old one (held
 * since before) still answers as before until released. Then towns.csv. */
static void reload_on(struct fixture *f)
{
	char err[512];
	import_base(f);
	int64_t g0 = generation(f);
	assert_int_equal(g0, 3); /* one bump per import that wrote rows */

	const struct addr_index *old = addr_shared_acquire(&f->app, err, sizeof err);
	assert_non_null(old);
	assert_int_equal(addr_index_generation(old), g0);
	struct addr_result r;
	assert_int_equal(level_of(old, NEW_TOWN, &r), ADDR_CITY);
	assert_int_equal(level_of(old, "和歌山市葵町", &r), ADDR_MACHIAZA);
	/* nothing changed: nothing to do, the same index */
	assert_int_equal(addr_shared_refresh(&f->app, err, sizeof err), 0);
	const struct addr_index *same = addr_shared_acquire(&f->app, err, sizeof err);
	assert_ptr_equal(same, old);
	addr_shared_release(same);

	/* a further ABR file adds 窓口町 */
	char csv[512];
	snprintf(csv, sizeof csv, "%s302015,0999001,1,和歌山県,和歌山市,窓口町,,0\n", TOWN_HDR);
	assert_int_equal(import_csv(f, "mt_town_new.csv", csv), 1);
	assert_int_equal(generation(f), g0 + 1);
	/* the index in use does not change under its reader */
	const struct addr_index *still = addr_shared_acquire(&f->app, err, sizeof err);
	assert_ptr_equal(still, old);
	addr_shared_release(still);

	assert_int_equal(addr_shared_refresh(&f->app, err, sizeof err), 1);
	const struct addr_index *fresh = addr_shared_acquire(&f->app, err, sizeof err);
	assert_non_null(fresh);
	assert_ptr_not_equal(fresh, old);
	assert_int_equal(addr_index_generation(fresh), g0 + 1);
	assert_int_equal(level_of(fresh, NEW_TOWN, &r), ADDR_MACHIAZA);
	assert_string_equal(r.oaza_cho, "窓口町");
	assert_string_equal(r.machiaza_id, "0999001");
	assert_string_equal(r.lg_code, "302015");

	/* the old reference still works: under ASan a freed index would show */
	assert_int_equal(level_of(old, NEW_TOWN, &r), ADDR_CITY);
	assert_int_equal(level_of(old, "和歌山市葵町", &r), ADDR_MACHIAZA);
	assert_string_equal(r.oaza_cho, "葵町");
	assert_string_equal(r.city, "和歌山市");
	assert_int_equal(addr_index_generation(old), g0);
	addr_shared_release(old); /* its last user: freed here */
	assert_int_equal(level_of(fresh, "和歌山市葵町", &r), ADDR_MACHIAZA);
	addr_shared_release(fresh);
	assert_int_equal(addr_shared_refresh(&f->app, err, sizeof err), 0);

	/* the towns.csv importer bumps the generation too */
	char towns[160];
	snprintf(towns, sizeof towns, "%s/towns.csv", f->dir);
	FILE *tf = fopen(towns, "w");
	assert_non_null(tf);
	fputs("pref,city,town,koaza,lat,lng\n"
	      "東京都,千代田区,飯田橋一丁目,,35.69847,139.749414\n",
	      tf);
	assert_int_equal(fclose(tf), 0);
	struct abr_import_stats st;
	assert_int_equal(
		towns_import_file(&f->app, towns, ABR_ABORT, NULL, NULL, &st, err, sizeof err), 0);
	assert_int_equal(st.rows, 1);
	assert_int_equal(generation(f), g0 + 2);
	assert_int_equal(addr_shared_refresh(&f->app, err, sizeof err), 1);
	const struct addr_index *ix = addr_shared_acquire(&f->app, err, sizeof err);
	assert_int_equal(addr_index_generation(ix), g0 + 2);
	addr_shared_release(ix);
}

static void reimport_is_seen_old_reference_stays_valid(void **state)
{
	reload_on(*state);
}

static void reimport_is_seen_on_postgresql(void **state)
{
	struct fixture *f = *state;
	if (!f->app.db) {
		print_message("SKIPPED: MADO_TEST_PG_URL not set\n");
		skip();
	}
	reload_on(f);
}

/* Imports that write nothing, and imports rolled back, leave the generation
 * alone; so the index is not rebuilt for them. */
static void no_bump_without_rows(void **state)
{
	struct fixture *f = *state;
	char err[512], path[160], csv[512];
	import_base(f);
	int64_t g = generation(f);
	assert_int_equal(import_csv(f, "mt_town_empty.csv", TOWN_HDR), 0);
	assert_int_equal(generation(f), g);
	/* a bad row aborts the file: nothing written, nothing bumped */
	snprintf(csv, sizeof csv,
		 "%s302015,0999002,1,和歌山県,和歌山市,甲町,,0\n302015,0999003,x,,,乙町,,0\n",
		 TOWN_HDR);
	snprintf(path, sizeof path, "%s/bad.zip", f->dir);
	make_zip(path, "mt_town_bad.csv", csv);
	struct abr_import_stats st;
	assert_int_equal(
		abr_import_file(&f->app, path, ABR_ABORT, NULL, NULL, &st, err, sizeof err), -1);
	assert_int_equal(generation(f), g);
	/* with skip, the good row is written and the generation bumped */
	assert_int_equal(abr_import_file(&f->app, path, ABR_SKIP, NULL, NULL, &st, err, sizeof err),
			 0);
	assert_int_equal(st.rows, 1);
	assert_int_equal(generation(f), g + 1);
}

/* A rebuild that fails keeps the index in use; the next one succeeds. */
static void failed_rebuild_keeps_the_old_index(void **state)
{
	struct fixture *f = *state;
	char err[512];
	import_base(f);
	const struct addr_index *ix = addr_shared_acquire(&f->app, err, sizeof err);
	assert_non_null(ix);
	int64_t g = addr_index_generation(ix);
	exec_sql(f, "ALTER TABLE abr_parcel RENAME TO abr_parcel_off");
	exec_sql(f, "UPDATE registry_generation SET generation = generation + 1");
	err[0] = '\0';
	assert_int_equal(addr_shared_refresh(&f->app, err, sizeof err), -1);
	assert_non_null(strstr(err, "parcels"));
	const struct addr_index *again = addr_shared_acquire(&f->app, err, sizeof err);
	assert_ptr_equal(again, ix);
	struct addr_result r;
	assert_int_equal(level_of(again, "和歌山市葵町", &r), ADDR_MACHIAZA);
	addr_shared_release(again);
	exec_sql(f, "ALTER TABLE abr_parcel_off RENAME TO abr_parcel");
	assert_int_equal(addr_shared_refresh(&f->app, err, sizeof err), 1);
	again = addr_shared_acquire(&f->app, err, sizeof err);
	assert_ptr_not_equal(again, ix);
	assert_int_equal(addr_index_generation(again), g + 1);
	addr_shared_release(again);
	addr_shared_release(ix);
}

/* A first build that fails is not retried by every caller: the same error
 * for ADDR_RETRY_S seconds (a refresh still tries). */
static void failed_first_build_backs_off(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", err2[512] = "";
	import_base(f);
	exec_sql(f, "ALTER TABLE abr_town RENAME TO abr_town_off");
	assert_null(addr_shared_acquire(&f->app, err, sizeof err));
	assert_non_null(strstr(err, "towns"));
	exec_sql(f, "ALTER TABLE abr_town_off RENAME TO abr_town");
	assert_null(addr_shared_acquire(&f->app, err2, sizeof err2));
	assert_string_equal(err, err2);
	assert_int_equal(addr_shared_refresh(&f->app, err, sizeof err), 1);
	const struct addr_index *ix = addr_shared_acquire(&f->app, err, sizeof err);
	assert_non_null(ix);
	addr_shared_release(ix);
}

/* Readers on several threads while the index is swapped again and again:
 * each reader's index stays whole until it lets go (ASan, and the answers,
 * would show otherwise). */
struct reader {
	struct app *app;
	atomic_bool *stop;
	unsigned long rounds, bad;
};

static void *read_loop(void *arg)
{
	struct reader *rd = arg;
	struct addr_work *w = addr_work_new();
	char err[256];
	while (!*rd->stop) {
		const struct addr_index *ix = addr_shared_acquire(rd->app, err, sizeof err);
		struct addr_result r;
		if (!ix) {
			rd->bad++;
			continue;
		}
		for (int i = 0; i < 20; i++) {
			addr_normalize(ix, w, "和歌山市葵町3", strlen("和歌山市葵町3"), &r);
			if (r.level != ADDR_MACHIAZA || strcmp(r.oaza_cho, "葵町") != 0 ||
			    strcmp(r.machiaza_id, "0001000") != 0)
				rd->bad++;
		}
		addr_shared_release(ix);
		rd->rounds++;
	}
	addr_work_free(w);
	return NULL;
}

static void swaps_under_concurrent_readers(void **state)
{
	struct fixture *f = *state;
	char err[512];
	import_base(f);
	const struct addr_index *first = addr_shared_acquire(&f->app, err, sizeof err);
	assert_non_null(first);
	atomic_bool stop = false;
	enum { NREADERS = 4 };
	struct reader rd[NREADERS];
	pthread_t th[NREADERS];
	for (int i = 0; i < NREADERS; i++) {
		rd[i] = (struct reader){.app = &f->app, .stop = &stop};
		assert_int_equal(pthread_create(&th[i], NULL, read_loop, &rd[i]), 0);
	}
	for (int i = 0; i < 25; i++) {
		exec_sql(f, "UPDATE registry_generation SET generation = generation + 1");
		assert_int_equal(addr_shared_refresh(&f->app, err, sizeof err), 1);
	}
	stop = true;
	for (int i = 0; i < NREADERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(rd[i].bad, 0);
		assert_true(rd[i].rounds > 0);
	}
	const struct addr_index *last = addr_shared_acquire(&f->app, err, sizeof err);
	assert_int_equal(addr_index_generation(last), addr_index_generation(first) + 25);
	struct addr_result r;
	assert_int_equal(level_of(first, "和歌山市葵町", &r), ADDR_MACHIAZA);
	addr_shared_release(first);
	addr_shared_release(last);
}

/* The server's refresher notices the new generation by itself within a few
 * check intervals (the bound here is generous; it is not a timing test). */
static void refresher_picks_up_an_import(void **state)
{
	struct fixture *f = *state;
	char err[512], csv[512];
	import_base(f);
	assert_int_equal(addr_shared_start(&f->app), 0);
	snprintf(csv, sizeof csv, "%s302015,0999001,1,和歌山県,和歌山市,窓口町,,0\n", TOWN_HDR);
	assert_int_equal(import_csv(f, "mt_town_new.csv", csv), 1);
	enum addr_level level = ADDR_ERROR;
	for (int i = 0; i < 300 && level != ADDR_MACHIAZA; i++) {
		const struct addr_index *ix = addr_shared_acquire(&f->app, err, sizeof err);
		struct addr_result r;
		if (ix)
			level = level_of(ix, NEW_TOWN, &r);
		addr_shared_release(ix);
		if (level != ADDR_MACHIAZA)
			usleep(100 * 1000);
	}
	assert_int_equal(level, ADDR_MACHIAZA);
	/* teardown stops the refresher */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reimport_is_seen_old_reference_stays_valid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(reimport_is_seen_on_postgresql, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(no_bump_without_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_rebuild_keeps_the_old_index, setup,
						teardown),
		cmocka_unit_test_setup_teardown(failed_first_build_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(swaps_under_concurrent_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(refresher_picks_up_an_import, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
