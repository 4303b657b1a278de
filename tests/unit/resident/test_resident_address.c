/* A change of address (転居) typed as text gets its ABR ids from the address
 * normalizer over the real 和歌山市 registry; a 転居 to another municipality
 * is refused; an address the registry does not know keeps no stale ids. On
 * SQLite and, when MADO_TEST_PG_URL is set, on PostgreSQL. */
#include <unistd.h>

#include "address/address.h"
#include "app/app.h"
#include "registry/registry.h"
#include "resident_fixture.h"

static const char *abr_dir(void)
{
	const char *d = getenv("MADO_ABR_DIR");
	return d ? d : MADO_SOURCE_DIR "/../shared/data/abr";
}

/* The registry schema and 和歌山市's towns and 住居表示, plus the municipality
 * list; false when the shared data is not there. */
static bool load_registry(struct fixture *f)
{
	char err[512];
	struct db_conn *c = db_acquire(f->app.db);
	int rc = app_migrate_module(c, &registry_module, err, sizeof err);
	db_release(c);
	assert_int_equal(rc, 0);
	static const char *const files[] = {"mt_pref_all.csv.zip", "mt_city_all.csv.zip",
					    "mt_town_all.csv.zip",
					    "mt_rsdtdsp_rsdt_pref30.csv.zip"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char zip[1024];
		snprintf(zip, sizeof zip, "%s/%s", abr_dir(), files[i]);
		if (access(zip, R_OK) != 0)
			return false;
		struct abr_import_stats st;
		if (abr_import_file(&f->app, zip, ABR_ABORT, NULL, NULL, &st, err, sizeof err) != 0)
			fail_msg("%s", err);
	}
	return true;
}

/* One column of the resident's current row, or "" for NULL. */
static void column(struct fixture *f, const char *col, char *out, size_t cap)
{
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT COALESCE(%s, '') FROM residents WHERE juminhyo_code = ?",
		 col);
	struct db_conn *c = db_acquire(f->app.db);
	struct db_stmt *st;
	assert_int_equal(db_prepare(c, sql, &st), 0);
	db_bind_text(st, 1, "55555555555");
	assert_int_equal(db_step(st), DB_ROW);
	snprintf(out, cap, "%s", db_col_text(st, 0));
	db_done(st);
	db_release(c);
}

static void moving_links_the_registry(void **state)
{
	struct fixture *f = *state;
	if (!load_registry(f)) {
		print_message("SKIPPED: ../shared/data/abr not present\n");
		return;
	}
	/* a real residence of 松江北２丁目 and its ids */
	char want_town[16] = "", want_blk[16] = "", want_rsdt[16] = "", blk[16] = "", num[16] = "";
	struct db_conn *c = db_acquire(f->app.db);
	struct db_stmt *st;
	assert_int_equal(
		db_prepare(c,
			   "SELECT r.machiaza_id, r.blk_id, r.rsdt_id, r.blk_num, r.rsdt_num "
			   "FROM abr_rsdt r JOIN abr_town t ON t.lg_code = r.lg_code AND "
			   "t.machiaza_id = r.machiaza_id WHERE r.lg_code = '302015' AND "
			   "t.oaza_cho = '松江北' AND t.chome = '２丁目' AND "
			   "COALESCE(r.rsdt_num2, '') = '' ORDER BY r.blk_id, r.rsdt_id LIMIT 1",
			   &st),
		0);
	assert_int_equal(db_step(st), DB_ROW);
	snprintf(want_town, sizeof want_town, "%s", db_col_text(st, 0));
	snprintf(want_blk, sizeof want_blk, "%s", db_col_text(st, 1));
	snprintf(want_rsdt, sizeof want_rsdt, "%s", db_col_text(st, 2));
	snprintf(blk, sizeof blk, "%s", db_col_text(st, 3));
	snprintf(num, sizeof num, "%s", db_col_text(st, 4));
	db_done(st);
	db_release(c);

	char a[16], s[16];
	struct resident_rec r = {
		.lg_code = LG_A,
		.juminhyo_code = "55555555555",
		.atena_no = atena(a, sizeof a, 5550001),
		.setai_no = atena(s, sizeof s, 5550002),
		.name = "和歌山 花子",
		.name_kana = "ワカヤマ　ハナコ",
		.birth = "1950-05-05",
		.sex = 2,
		.zokugara = "世帯主",
		.address = "和歌山県和歌山市七番丁23番地",
		.machiaza_id = "0176000",
		.prc_id = "000230000000000",
		.status = RES_ST_ACTIVE,
	};
	assert_int_equal(add_one(&f->app, &r, NULL, "2001-04-01"), 0);
	struct resident_actor w = staff(LG_A, "届出の受付");
	char msg[256], got[64], addr[160];

	/* 転居 typed as clerks and residents write it: ids from the registry */
	snprintf(addr, sizeof addr, "和歌山市松江北二丁目%s番%s号 コーポ松江 101", blk, num);
	struct resident_rec change = {.address = addr};
	assert_int_equal(resident_record_event(&f->app, &w, "55555555555", RES_EV_TENKYO,
					       "2020-06-01", "2020-06-03", &change, msg,
					       sizeof msg),
			 0);
	column(f, "machiaza_id", got, sizeof got);
	assert_string_equal(got, want_town);
	column(f, "blk_id", got, sizeof got);
	assert_string_equal(got, want_blk);
	column(f, "rsdt_id", got, sizeof got);
	assert_string_equal(got, want_rsdt);
	column(f, "prc_id", got, sizeof got); /* the old parcel does not follow */
	assert_string_equal(got, "");
	column(f, "address", got, sizeof got);
	assert_string_equal(got, addr);

	/* another municipality: that is a 転出, not a 転居 */
	struct resident_rec away = {.address = "東京都千代田区霞が関1-3-1"};
	assert_int_equal(resident_record_event(&f->app, &w, "55555555555", RES_EV_TENKYO,
					       "2021-06-01", NULL, &away, msg, sizeof msg),
			 -EINVAL);
	assert_non_null(strstr(msg, "転出"));
	column(f, "rsdt_id", got, sizeof got);
	assert_string_equal(got, want_rsdt); /* nothing was written */

	/* an address the registry cannot place keeps no ids of the old one */
	struct resident_rec unknown = {.address = "和歌山市どこか知らない町9-9"};
	assert_int_equal(resident_record_event(&f->app, &w, "55555555555", RES_EV_TENKYO,
					       "2022-06-01", NULL, &unknown, msg, sizeof msg),
			 0);
	column(f, "machiaza_id", got, sizeof got);
	assert_string_equal(got, "");
	column(f, "rsdt_id", got, sizeof got);
	assert_string_equal(got, "");

	/* ids given explicitly must name a town of the municipality */
	struct resident_rec bogus = {.address = "和歌山県和歌山市七番丁23番地",
				     .machiaza_id = "9999999"};
	assert_int_equal(resident_record_event(&f->app, &w, "55555555555", RES_EV_TENKYO,
					       "2023-01-10", NULL, &bogus, msg, sizeof msg),
			 -EINVAL);
	assert_non_null(strstr(msg, "9999999"));
	struct resident_rec no_town = {.address = "和歌山県和歌山市七番丁23番地", .blk_id = "001"};
	assert_int_equal(resident_record_event(&f->app, &w, "55555555555", RES_EV_TENKYO,
					       "2023-01-10", NULL, &no_town, msg, sizeof msg),
			 -EINVAL);

	/* ids given explicitly are kept as given */
	struct resident_rec given = {.address = "和歌山県和歌山市七番丁23番地",
				     .machiaza_id = "0176000",
				     .prc_id = "000230000000000"};
	assert_int_equal(resident_record_event(&f->app, &w, "55555555555", RES_EV_TENKYO,
					       "2023-06-01", NULL, &given, msg, sizeof msg),
			 0);
	column(f, "prc_id", got, sizeof got);
	assert_string_equal(got, "000230000000000");
}

/* The shared index belongs to one app: free it before the fixture goes. */
static int teardown_index(void **state)
{
	struct fixture *f = *state;
	address_module.stop(&f->app);
	return teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(moving_links_the_registry, setup, teardown_index),
	};
	return RUN_BOTH("resident_address", tests);
}
