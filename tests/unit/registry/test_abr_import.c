/* Unit tests of the ABR importer (src/registry/abr_import.c) on a real
 * SQLite file: real distribution zips from ../shared/data/abr when present,
 * and small zips made at test time for header binding and bad rows. */
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

#include "app/boot.h"
#include "registry/registry.h"

struct fixture {
	char dir[64];
	struct app app;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof f->dir, "/tmp/mado-abr-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char url[128], err[256];
	snprintf(url, sizeof url, "sqlite:%s/t.db", f->dir);
	f->app.db = db_open(url, 2, err, sizeof err);
	if (!f->app.db)
		return -1;
	struct db_conn *c = db_acquire(f->app.db);
	int rc = app_migrate_module(c, &registry_module, err, sizeof err);
	db_release(c);
	*state = f;
	return rc;
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

static int64_t count(struct fixture *f, const char *sql)
{
	int64_t n = -1;
	struct db_conn *c = db_acquire(f->app.db);
	assert_int_equal(db_query_int64(c, sql, &n), DB_ROW);
	db_release(c);
	return n;
}

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

/* The path of a distribution zip in ../shared/data/abr, or NULL; out holds it. */
static const char *shared_abr(const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/../shared/data/abr/%s", MADO_SOURCE_DIR, name);
	return access(out, R_OK) == 0 ? out : NULL;
}

static void real_files_import_and_reimport(void **state)
{
	struct fixture *f = *state;
	char tbuf[1024], pbuf[1024];
	const char *town = shared_abr("mt_town_all.csv.zip", tbuf, sizeof tbuf);
	const char *parcel = shared_abr("mt_parcel_city302015.csv.zip", pbuf, sizeof pbuf);
	if (!town || !parcel) {
		print_message("SKIPPED: ../shared/data/abr not present\n");
		skip();
	}
	struct abr_import_stats st;
	char err[512];
	for (int round = 0; round < 2; round++) {
		assert_int_equal(
			abr_import_file(&f->app, town, ABR_ABORT, NULL, NULL, &st, err, sizeof err),
			0);
		assert_string_equal(st.kind, "town");
		assert_int_equal(st.rows, 737);
		assert_int_equal(abr_import_file(&f->app, parcel, ABR_ABORT, NULL, NULL, &st, err,
						 sizeof err),
				 0);
		assert_string_equal(st.kind, "parcel");
		assert_int_equal(st.rows, 367519);
		/* importing again changes nothing */
		assert_int_equal(count(f, "SELECT COUNT(*) FROM abr_parcel"), 367519);
		assert_int_equal(count(f, "SELECT COUNT(*) FROM abr_town"), 737);
	}
	assert_int_equal(count(f, "SELECT COUNT(*) FROM abr_town WHERE lg_code = '302015' AND "
				  "oaza_cho = '松江北' AND chome = '２丁目'"),
			 1);
}

static const char *TOWN_HDR =
	"pref,lg_code,machiaza_id,machiaza_type,oaza_cho,chome,rsdt_addr_flg,city\n";

static void columns_bound_by_name(void **state)
{
	struct fixture *f = *state;
	char path[128], csv[1024];
	snprintf(path, sizeof path, "%s/t.zip", f->dir);
	snprintf(csv, sizeof csv, "%s和歌山県,302015,0001000,1,葵町,,1,和歌山市\n", TOWN_HDR);
	make_zip(path, "mt_town_test.csv", csv);
	struct abr_import_stats st;
	char err[512];
	assert_int_equal(
		abr_import_file(&f->app, path, ABR_ABORT, NULL, NULL, &st, err, sizeof err), 0);
	assert_int_equal(st.rows, 1);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM abr_town WHERE oaza_cho = '葵町' AND "
				  "pref = '和歌山県' AND city = '和歌山市' AND machiaza_type = 1"),
			 1);
}

static void bad_row_aborts_or_is_skipped(void **state)
{
	struct fixture *f = *state;
	char path[128], csv[1024], err[512];
	snprintf(path, sizeof path, "%s/bad.zip", f->dir);
	/* line 3 has an lg_code whose check digit is wrong, line 4 a bad integer */
	snprintf(csv, sizeof csv,
		 "%s和歌山県,302015,0001000,1,葵町,,1,和歌山市\n"
		 "和歌山県,302016,0002000,1,青岸,,1,和歌山市\n"
		 "和歌山県,302015,0003000,x,秋月,,1,和歌山市\n"
		 "和歌山県,302015,0004000,1,秋葉町,,0,和歌山市\n",
		 TOWN_HDR);
	make_zip(path, "mt_town_bad.csv", csv);
	struct abr_import_stats st;
	char report[2048] = "";
	FILE *rep = fmemopen(report, sizeof report, "w");
	assert_int_equal(abr_import_file(&f->app, path, ABR_ABORT, rep, NULL, &st, err, sizeof err),
			 -1);
	fclose(rep);
	assert_non_null(strstr(err, ":3:"));
	assert_non_null(strstr(err, "check digit"));
	assert_int_equal(count(f, "SELECT COUNT(*) FROM abr_town"), 0); /* nothing written */

	rep = fmemopen(report, sizeof report, "w");
	assert_int_equal(abr_import_file(&f->app, path, ABR_SKIP, rep, NULL, &st, err, sizeof err),
			 0);
	fclose(rep);
	assert_int_equal(st.rows, 2);
	assert_int_equal(st.skipped, 2);
	assert_non_null(strstr(report, "bad.zip:3: lg_code"));
	assert_non_null(strstr(report, "bad.zip:4: machiaza_type is not an integer"));
	assert_int_equal(count(f, "SELECT COUNT(*) FROM abr_town"), 2);
}

static void not_an_abr_file(void **state)
{
	struct fixture *f = *state;
	char path[128], err[512];
	struct abr_import_stats st;
	snprintf(path, sizeof path, "%s/other.zip", f->dir);
	make_zip(path, "other.csv", "name,value\na,1\n");
	assert_int_equal(
		abr_import_file(&f->app, path, ABR_ABORT, NULL, NULL, &st, err, sizeof err), -1);
	assert_non_null(strstr(err, "not an ABR file"));
	snprintf(path, sizeof path, "%s/missing.zip", f->dir);
	assert_int_equal(
		abr_import_file(&f->app, path, ABR_ABORT, NULL, NULL, &st, err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(real_files_import_and_reimport, setup, teardown),
		cmocka_unit_test_setup_teardown(columns_bound_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_row_aborts_or_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(not_an_abr_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
