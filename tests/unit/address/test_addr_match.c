/* Unit tests of the address normalizer (src/address/addr_match.c and the
 * index of addr_index.c) on real parts: a SQLite file migrated by the
 * registry module, the real ABR files of ../shared/data/abr (和歌山市 in full)
 * and a small towns.csv written here; expected ids and points are read from
 * the database with SQL, never typed in. Also the JSON, CSV and GeoJSON
 * writers of addr_out.c. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "address/address.h"
#include "app/boot.h"
#include "common/jtext.h"
#include "registry/registry.h"

struct fixture {
	char dir[64];
	struct app app;
	bool have_data;
	struct addr_index *ix;
	struct addr_work *w;
	struct buf out; /* the writers' output (a failed assertion leaves no leak) */
};

static struct fixture fx;

/* The ABR distribution directory: MADO_ABR_DIR, or shared/ beside the
 * repository (as in the workspace and in CI). NULL when absent. */
static const char *abr_dir(char *out, size_t n)
{
	const char *env = getenv("MADO_ABR_DIR");
	if (env && *env)
		snprintf(out, n, "%s", env);
	else
		snprintf(out, n, "%s/../shared/data/abr", MADO_SOURCE_DIR);
	char probe[1100];
	snprintf(probe, sizeof probe, "%s/mt_city_all.csv.zip", out);
	return access(probe, R_OK) == 0 ? out : NULL;
}

static const char *const ABR_FILES[] = {
	"mt_pref_all.csv.zip",
	"mt_city_all.csv.zip",
	"mt_city_pos_all.csv.zip",
	"mt_pref_pos_all.csv.zip",
	"mt_town_all.csv.zip",
	"mt_town_pos_pref30.csv.zip",
	"mt_rsdtdsp_rsdt_pref30.csv.zip",
	"mt_rsdtdsp_rsdt_pos_pref30.csv.zip",
	"mt_parcel_city302015.csv.zip",
	"mt_parcel_pos_city302015.csv.zip",
};

/* A few rows of japanese-addresses' towns.csv, as published. */
static const char TOWNS_CSV[] = "pref,city,town,koaza,lat,lng\n"
				"東京都,千代田区,飯田橋一丁目,,35.69847,139.749414\n"
				"東京都,千代田区,飯田橋二丁目,,35.699206,139.750564\n"
				"東京都,千代田区,霞が関一丁目,,35.673944,139.752558\n"
				"東京都,八王子市,元本郷町一丁目,,35.664474,139.321523\n"
				"大阪府,堺市堺区,南花田口町二丁,,34.576936,135.483624\n"
				"青森県,上北郡横浜町,字三保野,,41.078676,141.251239\n"
				"京都府,宇治市,莵道,,34.904244,135.827041\n"
				"京都府,宇治市,莵道,森本,34.902174,135.807193\n"
				"北海道,札幌市北区,北二十四条西十丁目,,43.089735,141.334547\n"
				/* shortened names: suffixes and place-name variants */
				"東京都,新宿区,四谷一丁目,,35.685906,139.728799\n"
				"東京都,新宿区,四谷三栄町,,35.688757,139.725668\n"
				"東京都,新宿区,四谷本塩町,,35.689053,139.729776\n"
				"東京都,大田区,蒲田一丁目,,35.565696,139.719843\n"
				"東京都,大田区,蒲田本町一丁目,,35.557417,139.715744\n"
				"東京都,大田区,田園調布一丁目,,35.589326,139.671359\n"
				"東京都,大田区,田園調布本町,,35.585089,139.674611\n"
				"東京都,青梅市,本町,,35.790713,139.259518\n"
				"東京都,青梅市,御岳一丁目,,35.794616,139.184934\n"
				"東京都,青梅市,御岳本町,,35.809062,139.178353\n"
				"三重県,津市,河芸町上野,,34.792673,136.544948\n"
				"三重県,津市,河芸町千里ヶ丘,,34.804854,136.545846\n"
				"京都府,京都市中京区,一之船入町,,35.01217,135.769483\n"
				"京都府,京都市中京区,舟屋町,,35.016906,135.765784\n"
				"京都府,京都市中京区,船屋町,,35.005594,135.766252\n";
#define TOWNS_CSV_ROWS 24

static int group_setup(void **state)
{
	(void)state;
	char abr[1024], err[512];
	snprintf(fx.dir, sizeof fx.dir, "/tmp/mado-addr-XXXXXX");
	if (!mkdtemp(fx.dir))
		return -1;
	char url[128];
	snprintf(url, sizeof url, "sqlite:%s/t.db", fx.dir);
	fx.app.db = db_open(url, 2, err, sizeof err);
	if (!fx.app.db)
		return -1;
	struct db_conn *c = db_acquire(fx.app.db);
	int rc = app_migrate_module(c, &registry_module, err, sizeof err);
	db_release(c);
	if (rc != 0) {
		fprintf(stderr, "migrate: %s\n", err);
		return -1;
	}
	fx.w = addr_work_new();
	buf_init(&fx.out, 1 << 16);
	if (!abr_dir(abr, sizeof abr)) {
		print_message("SKIPPED: ../shared/data/abr not present (set MADO_ABR_DIR)\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof ABR_FILES / sizeof ABR_FILES[0]; i++) {
		char path[1200];
		struct abr_import_stats st;
		snprintf(path, sizeof path, "%s/%s", abr, ABR_FILES[i]);
		if (abr_import_file(&fx.app, path, ABR_ABORT, stderr, NULL, &st, err, sizeof err) !=
		    0) {
			fprintf(stderr, "import %s: %s\n", path, err);
			return -1;
		}
	}
	char towns[128];
	snprintf(towns, sizeof towns, "%s/towns.csv", fx.dir);
	FILE *f = fopen(towns, "w");
	if (!f || fputs(TOWNS_CSV, f) < 0 || fclose(f) != 0)
		return -1;
	struct abr_import_stats st;
	if (towns_import_file(&fx.app, towns, ABR_ABORT, stderr, NULL, &st, err, sizeof err) != 0 ||
	    st.rows != TOWNS_CSV_ROWS) {
		fprintf(stderr, "import towns: %s\n", err);
		return -1;
	}
	struct addr_index_stats ist;
	c = db_acquire(fx.app.db);
	rc = addr_index_load(c, &fx.ix, &ist, err, sizeof err);
	db_release(c);
	if (rc != 0) {
		fprintf(stderr, "index: %s\n", err);
		return -1;
	}
	fx.have_data = true;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	addr_index_free(fx.ix);
	addr_work_free(fx.w);
	buf_release(&fx.out);
	db_close(fx.app.db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx.dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void need_data(void)
{
	if (!fx.have_data)
		skip();
}

/* Runs sql with up to two text parameters and copies the first row's
 * columns (NULL as "") into cols[0..ncols). Fails the test without a row. */
static void sql_row(const char *sql, const char *p1, const char *p2, char cols[][128], int ncols)
{
	struct db_conn *c = db_acquire(fx.app.db);
	struct db_stmt *st;
	assert_int_equal(db_prepare(c, sql, &st), 0);
	if (p1)
		db_bind_text(st, 1, p1);
	if (p2)
		db_bind_text(st, 2, p2);
	int rc = db_step(st);
	if (rc != DB_ROW)
		fail_msg("no row for: %s", sql);
	for (int i = 0; i < ncols; i++) {
		const char *v = db_col_text(st, i);
		snprintf(cols[i], 128, "%s", v ? v : "");
	}
	db_done(st);
	db_release(c);
}

static void norm(const char *s, struct addr_result *r)
{
	addr_normalize(fx.ix, fx.w, s, strlen(s), r);
}

/* s and want are equal, where NULL stands for "" on either side. */
static void eq(const char *got, const char *want, const char *what, const char *input)
{
	const char *g = got ? got : "";
	const char *w = want ? want : "";
	if (strcmp(g, w) != 0)
		fail_msg("%s: %s is \"%s\", want \"%s\"", input, what, g, w);
}

static void level_is(const struct addr_result *r, enum addr_level want, const char *input)
{
	if (r->level != want)
		fail_msg("%s: level %s, want %s (others \"%s\", error \"%s\")", input,
			 addr_level_name(r->level), addr_level_name(want),
			 r->others ? r->others : "", r->error ? r->error : "");
}

static void point_is(const struct addr_result *r, double lat, double lon, enum addr_level cl,
		     const char *input)
{
	if (!r->has_point)
		fail_msg("%s: no point", input);
	if (fabs(r->lat - lat) > 1e-7 || fabs(r->lon - lon) > 1e-7)
		fail_msg("%s: point %.9f,%.9f, want %.9f,%.9f", input, r->lat, r->lon, lat, lon);
	if (r->coord_level != cl)
		fail_msg("%s: coordinate level %s, want %s", input, addr_level_name(r->coord_level),
			 addr_level_name(cl));
}

/* ---- 住居表示 ------------------------------------------------------------ */

/* 松江北二丁目19番25号 of 和歌山市 as the registry has it. */
struct rsdt_row {
	char c[6][128]; /* machiaza_id, chome, blk_id, rsdt_id, lat, lon */
};

static void matsue_kita(struct rsdt_row *row)
{
	sql_row("SELECT t.machiaza_id, t.chome, r.blk_id, r.rsdt_id, p.rep_lat, p.rep_lon "
		"FROM abr_town t JOIN abr_rsdt r ON r.lg_code = t.lg_code AND "
		"r.machiaza_id = t.machiaza_id JOIN abr_rsdt_pos p ON p.lg_code = r.lg_code AND "
		"p.machiaza_id = r.machiaza_id AND p.blk_id = r.blk_id AND p.rsdt_id = r.rsdt_id "
		"AND p.rsdt2_id = r.rsdt2_id WHERE t.lg_code = '302015' AND t.oaza_cho = ? AND "
		"t.chome_number = 2 AND r.blk_num = '19' AND r.rsdt_num = ? AND "
		"COALESCE(r.rsdt_num2, '') = ''",
		"松江北", "25", row->c, 6);
}

static void residence_in_every_form(void **state)
{
	(void)state;
	need_data();
	struct rsdt_row row;
	matsue_kita(&row);
	static const char *const forms[] = {
		"和歌山県和歌山市松江北２丁目19-25",
		"和歌山市松江北2-19-25",
		"和歌山市松江北二丁目十九番二十五号",
		"和歌山県和歌山市松江北2丁目19番25号",
		"和歌山県 和歌山市 松江北 2丁目 19番 25号",
		"和歌山市松江北２丁目１９－２５",
		"和歌山市松江北2丁目19ー25",
		"和歌山市松江北2丁目19番地25",
		"和歌山市松江北二丁目19-25",
		"  和歌山市松江北2丁目19-25  ",
		"和歌山巿松江北2丁目19-25",
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct addr_result r;
		norm(forms[i], &r);
		level_is(&r, ADDR_RESIDENTIAL_DETAIL, forms[i]);
		eq(r.pref, "和歌山県", "pref", forms[i]);
		eq(r.city, "和歌山市", "city", forms[i]);
		eq(r.lg_code, "302015", "lg_code", forms[i]);
		eq(r.oaza_cho, "松江北", "oaza_cho", forms[i]);
		eq(r.chome, row.c[1], "chome", forms[i]);
		eq(r.blk_num, "19", "blk_num", forms[i]);
		eq(r.rsdt_num, "25", "rsdt_num", forms[i]);
		eq(r.rsdt_num2, NULL, "rsdt_num2", forms[i]);
		eq(r.machiaza_id, row.c[0], "machiaza_id", forms[i]);
		eq(r.blk_id, row.c[2], "blk_id", forms[i]);
		eq(r.rsdt_id, row.c[3], "rsdt_id", forms[i]);
		eq(r.prc_id, NULL, "prc_id", forms[i]);
		eq(r.others, NULL, "others", forms[i]);
		point_is(&r, strtod(row.c[4], NULL), strtod(row.c[5], NULL),
			 ADDR_RESIDENTIAL_DETAIL, forms[i]);
	}
}

static void postal_code_and_invisible_characters(void **state)
{
	(void)state;
	need_data();
	struct rsdt_row row;
	matsue_kita(&row);
	static const char *const forms[] = {
		"〒640-8156 和歌山市松江北2丁目19-25",
		"〒6408156和歌山市松江北2丁目19-25",
		"〒 640-8156 和歌山県和歌山市松江北2丁目19-25",
		"640-8156 和歌山県和歌山市松江北2丁目19-25",
		"〒６４０－８１５６　和歌山市松江北２丁目１９－２５",
		"\xEF\xBB\xBF和歌山市松江北2丁目19-25",
		"和歌山市\u200B松江北\u200D2丁目19-25", /* zero-width space and joiner */
		"\xEF\xBB\xBF〒640-8156\xE2\x81\xA0和歌山市松江北2丁目19-25",
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct addr_result r;
		norm(forms[i], &r);
		level_is(&r, ADDR_RESIDENTIAL_DETAIL, forms[i]);
		eq(r.rsdt_id, row.c[3], "rsdt_id", forms[i]);
		eq(r.blk_id, row.c[2], "blk_id", forms[i]);
		eq(r.others, NULL, "others", forms[i]);
	}
}

/* Writes n in kanji numerals (19 → 十九) into out. */
static void kanji(const char *n, char *out, size_t cap)
{
	struct buf b;
	buf_init(&b, 256);
	assert_int_equal(jtext_arabic_to_kanji(&b, n, strlen(n)), 0);
	snprintf(out, cap, "%s", buf_cstr(&b));
	buf_release(&b);
}

/* A sample of every 50th residence of 和歌山市, each written twice: with
 * digits and dashes as the registry stores it, and all in kanji with
 * 丁目・番・号 and the prefecture. */
static void residence_sample(void **state)
{
	(void)state;
	need_data();
	struct db_conn *c = db_acquire(fx.app.db);
	struct db_stmt *st;
	assert_int_equal(
		db_prepare(
			c,
			"SELECT t.oaza_cho, COALESCE(t.chome, ''), COALESCE(t.chome_number, 0), "
			"r.blk_num, r.rsdt_num, t.machiaza_id, r.blk_id, r.rsdt_id FROM abr_rsdt r "
			"JOIN abr_town t ON t.lg_code = r.lg_code AND t.machiaza_id = "
			"r.machiaza_id WHERE r.lg_code = '302015' AND COALESCE(r.rsdt_num2, '') "
			"= '' AND COALESCE(r.ablt_date, '') = '' AND COALESCE(t.ablt_date, '') = "
			"'' AND COALESCE(t.koaza, '') = '' ORDER BY r.machiaza_id, r.blk_id, "
			"r.rsdt_id",
			&st),
		0);
	int n = 0, checked = 0;
	while (db_step(st) == DB_ROW) {
		if (n++ % 50)
			continue;
		const char *oaza = db_col_text(st, 0), *chome = db_col_text(st, 1);
		int64_t cn = db_col_int64(st, 2);
		const char *blk = db_col_text(st, 3), *num = db_col_text(st, 4);
		char in1[512], in2[512], kc[64] = "", kb[64], kn[64], cnum[24];
		snprintf(in1, sizeof in1, "和歌山市%s%s%s-%s", oaza, chome, blk, num);
		if (cn > 0) {
			snprintf(cnum, sizeof cnum, "%lld", (long long)cn);
			kanji(cnum, kc, sizeof kc);
			snprintf(kc + strlen(kc), sizeof kc - strlen(kc), "丁目");
		}
		kanji(blk, kb, sizeof kb);
		kanji(num, kn, sizeof kn);
		snprintf(in2, sizeof in2, "和歌山県和歌山市%s%s%s番%s号", oaza, kc, kb, kn);
		const char *const ins[2] = {in1, in2};
		for (int k = 0; k < 2; k++) {
			struct addr_result r;
			norm(ins[k], &r);
			level_is(&r, ADDR_RESIDENTIAL_DETAIL, ins[k]);
			eq(r.machiaza_id, db_col_text(st, 5), "machiaza_id", ins[k]);
			eq(r.blk_id, db_col_text(st, 6), "blk_id", ins[k]);
			eq(r.rsdt_id, db_col_text(st, 7), "rsdt_id", ins[k]);
			checked++;
		}
	}
	db_done(st);
	db_release(c);
	assert_true(checked > 500);
}

static void block_without_that_residence(void **state)
{
	(void)state;
	need_data();
	struct rsdt_row row;
	matsue_kita(&row);
	char c[4][128];
	/* a number above every residence of block 19, and the block's mean point */
	sql_row("SELECT MAX(CAST(r.rsdt_num AS INTEGER)) + 100, AVG(p.rep_lat), AVG(p.rep_lon) "
		"FROM abr_rsdt r LEFT JOIN abr_rsdt_pos p ON p.lg_code = r.lg_code AND "
		"p.machiaza_id = r.machiaza_id AND p.blk_id = r.blk_id AND p.rsdt_id = r.rsdt_id "
		"AND p.rsdt2_id = r.rsdt2_id WHERE r.lg_code = '302015' AND r.machiaza_id = ? AND "
		"r.blk_num = ?",
		row.c[0], "19", c, 3);
	char in[256];
	snprintf(in, sizeof in, "和歌山市松江北2丁目19-%s", c[0]);
	struct addr_result r;
	norm(in, &r);
	level_is(&r, ADDR_RESIDENTIAL_BLOCK, in);
	eq(r.machiaza_id, row.c[0], "machiaza_id", in);
	eq(r.blk_id, row.c[2], "blk_id", in);
	eq(r.blk_num, "19", "blk_num", in);
	eq(r.rsdt_id, NULL, "rsdt_id", in);
	eq(r.rsdt_num, NULL, "rsdt_num", in);
	point_is(&r, strtod(c[1], NULL), strtod(c[2], NULL), ADDR_RESIDENTIAL_BLOCK, in);
	assert_non_null(r.others);
	assert_non_null(strstr(r.others, c[0]));

	/* a block that does not exist: the 丁目, with its point */
	char t[3][128];
	sql_row("SELECT MAX(CAST(blk_num AS INTEGER)) + 50 FROM abr_rsdt WHERE lg_code = "
		"'302015' AND machiaza_id = ?",
		row.c[0], NULL, t, 1);
	sql_row("SELECT rep_lat, rep_lon FROM abr_town_pos WHERE lg_code = '302015' AND "
		"machiaza_id = ?",
		row.c[0], NULL, t + 1, 2);
	snprintf(in, sizeof in, "和歌山市松江北2丁目%s-1", t[0]);
	norm(in, &r);
	level_is(&r, ADDR_MACHIAZA_DETAIL, in);
	eq(r.machiaza_id, row.c[0], "machiaza_id", in);
	eq(r.blk_id, NULL, "blk_id", in);
	point_is(&r, strtod(t[1], NULL), strtod(t[2], NULL), ADDR_MACHIAZA_DETAIL, in);
}

static void building_and_room_go_to_others(void **state)
{
	(void)state;
	need_data();
	struct rsdt_row row;
	matsue_kita(&row);
	static const struct {
		const char *in, *others;
	} cases[] = {
		{"和歌山市松江北2丁目19-25 ABCマンション 301号室", "ABCマンション 301号室"},
		{"和歌山市松江北2丁目19-25ABCマンション301号室", "ABCマンション301号室"},
		{"和歌山市松江北二丁目十九番二十五号　ＡＢＣマンション３０１", "ABCマンション301"},
		{"和歌山市松江北2丁目19番25号 メゾン松江 2F", "メゾン松江 2F"},
		/* an unclosed bracket is kept as written, not a reason to fail */
		{"和歌山市松江北2丁目19-25（ABCマンション", "(ABCマンション"},
		{"和歌山市松江北2丁目19-25「ABC", "「ABC"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct addr_result r;
		norm(cases[i].in, &r);
		level_is(&r, ADDR_RESIDENTIAL_DETAIL, cases[i].in);
		eq(r.rsdt_id, row.c[3], "rsdt_id", cases[i].in);
		eq(r.others, cases[i].others, "others", cases[i].in);
	}
}

/* ---- 地番 ---------------------------------------------------------------- */

/* A parcel n1-n2 of 秋月 (a 大字 of 和歌山市 numbered by 地番 only). */
static void akizuki_parcel(char p[5][128])
{
	sql_row("SELECT p.machiaza_id, p.prc_id, p.prc_num1, p.prc_num2, pos.rep_lat || ',' || "
		"pos.rep_lon FROM abr_parcel p JOIN abr_town t ON t.lg_code = p.lg_code AND "
		"t.machiaza_id = p.machiaza_id JOIN abr_parcel_pos pos ON pos.lg_code = p.lg_code "
		"AND pos.machiaza_id = p.machiaza_id AND pos.prc_id = p.prc_id WHERE p.lg_code = "
		"'302015' AND t.oaza_cho = ? AND COALESCE(t.chome, '') = '' AND t.rsdt_addr_flg = 0 "
		"AND COALESCE(p.prc_num2, '') <> '' AND COALESCE(p.prc_num3, '') = '' AND "
		"CAST(p.prc_num1 AS INTEGER) > 10 AND CAST(p.prc_num2 AS INTEGER) > 1 "
		"ORDER BY p.prc_id LIMIT 1",
		"秋月", NULL, p, 5);
}

static void parcel_in_every_form(void **state)
{
	(void)state;
	need_data();
	char p[5][128];
	akizuki_parcel(p);
	const char *n1 = p[2], *n2 = p[3];
	double lat = strtod(p[4], NULL), lon = strtod(strchr(p[4], ',') + 1, NULL);
	char forms[7][512];
	snprintf(forms[0], 512, "和歌山市秋月%s番地の%s", n1, n2);
	snprintf(forms[1], 512, "和歌山市秋月%s-%s", n1, n2);
	snprintf(forms[2], 512, "和歌山県和歌山市大字秋月%s番地%s", n1, n2);
	snprintf(forms[3], 512, "和歌山市字秋月%s番%s", n1, n2);
	snprintf(forms[4], 512, "和歌山市秋月%sの%s", n1, n2);
	snprintf(forms[5], 512, "和歌山市 大字 秋月 %s－%s", n1, n2);
	snprintf(forms[6], 512, "和歌山市秋月%s-%s 秋月倉庫", n1, n2);
	for (size_t i = 0; i < 7; i++) {
		struct addr_result r;
		norm(forms[i], &r);
		level_is(&r, ADDR_PARCEL, forms[i]);
		eq(r.lg_code, "302015", "lg_code", forms[i]);
		eq(r.oaza_cho, "秋月", "oaza_cho", forms[i]);
		eq(r.machiaza_id, p[0], "machiaza_id", forms[i]);
		eq(r.prc_id, p[1], "prc_id", forms[i]);
		eq(r.prc_num1, n1, "prc_num1", forms[i]);
		eq(r.prc_num2, n2, "prc_num2", forms[i]);
		eq(r.rsdt_id, NULL, "rsdt_id", forms[i]);
		eq(r.others, i == 6 ? "秋月倉庫" : NULL, "others", forms[i]);
		point_is(&r, lat, lon, ADDR_PARCEL, forms[i]);
	}
}

/* 地番 written in kanji numerals, 番地の + kanji as on old documents. */
static void parcel_in_kanji_numerals(void **state)
{
	(void)state;
	need_data();
	char p[5][128], k1[64], k2[64], in[256];
	akizuki_parcel(p);
	kanji(p[2], k1, sizeof k1);
	kanji(p[3], k2, sizeof k2);
	snprintf(in, sizeof in, "和歌山市秋月%s番地の%s", k1, k2);
	struct addr_result r;
	norm(in, &r);
	level_is(&r, ADDR_PARCEL, in);
	eq(r.prc_id, p[1], "prc_id", in);
	eq(r.others, NULL, "others", in);
}

/* A sample of parcels in 大字 that have no 丁目 of the same name (where
 * 太田4-13 could also be read as 太田四丁目13) and plain numbers. */
static void parcel_sample(void **state)
{
	(void)state;
	need_data();
	struct db_conn *c = db_acquire(fx.app.db);
	struct db_stmt *st;
	assert_int_equal(
		db_prepare(
			c,
			"SELECT t.oaza_cho, p.prc_num1, COALESCE(p.prc_num2, ''), "
			"COALESCE(p.prc_num3, ''), p.machiaza_id, p.prc_id FROM abr_parcel p JOIN "
			"abr_town t ON t.lg_code = p.lg_code AND t.machiaza_id = p.machiaza_id WHERE "
			"p.lg_code = '302015' AND t.rsdt_addr_flg = 0 AND COALESCE(t.chome, '') = '' "
			"AND COALESCE(t.koaza, '') = '' AND COALESCE(p.ablt_date, '') = '' AND "
			"COALESCE(t.ablt_date, '') = '' AND t.oaza_cho NOT IN (SELECT u.oaza_cho FROM "
			"abr_town u WHERE u.lg_code = '302015' AND COALESCE(u.chome, '') <> '') AND "
			"p.prc_num1 NOT GLOB '*[^0-9]*' AND COALESCE(p.prc_num2, '') NOT "
			"GLOB '*[^0-9]*' AND COALESCE(p.prc_num3, '') NOT GLOB '*[^0-9]*' ORDER BY "
			"p.machiaza_id, p.prc_id",
			&st),
		0);
	int n = 0, checked = 0;
	while (db_step(st) == DB_ROW) {
		if (n++ % 211)
			continue;
		const char *oaza = db_col_text(st, 0), *n1 = db_col_text(st, 1),
			   *n2 = db_col_text(st, 2), *n3 = db_col_text(st, 3);
		char in1[512], in2[512];
		snprintf(in1, sizeof in1, "和歌山市%s%s%s%s%s%s", oaza, n1, *n2 ? "-" : "", n2,
			 *n3 ? "-" : "", n3);
		snprintf(in2, sizeof in2, "和歌山県和歌山市%s%s番地%s%s%s%s", oaza, n1,
			 *n2 ? "の" : "", n2, *n3 ? "の" : "", n3);
		const char *const ins[2] = {in1, in2};
		for (int k = 0; k < 2; k++) {
			struct addr_result r;
			norm(ins[k], &r);
			level_is(&r, ADDR_PARCEL, ins[k]);
			eq(r.machiaza_id, db_col_text(st, 4), "machiaza_id", ins[k]);
			eq(r.prc_id, db_col_text(st, 5), "prc_id", ins[k]);
			eq(r.others, NULL, "others", ins[k]);
			checked++;
		}
	}
	db_done(st);
	db_release(c);
	assert_true(checked > 500);
}

/* 太田 is a 大字 numbered by 地番, and 太田一丁目… are 住居表示 towns: 太田4-13
 * is read as 太田四丁目 block 13 only when that block exists; otherwise the
 * parcel 4-13 of 太田, which does, is the better reading. */
static void dash_chome_does_not_hide_a_parcel(void **state)
{
	(void)state;
	need_data();
	char p[2][128], t[2][128];
	sql_row("SELECT p.machiaza_id, p.prc_id FROM abr_parcel p JOIN abr_town t ON "
		"t.lg_code = p.lg_code AND t.machiaza_id = p.machiaza_id WHERE p.lg_code = "
		"'302015' AND t.oaza_cho = ? AND COALESCE(t.chome, '') = '' AND p.prc_num1 = '4' "
		"AND p.prc_num2 = ? AND COALESCE(p.prc_num3, '') = ''",
		"太田", "13", p, 2);
	/* the 四丁目 exists, without a block 13 */
	sql_row("SELECT t.machiaza_id, (SELECT COUNT(*) FROM abr_rsdt r WHERE r.lg_code = "
		"t.lg_code AND r.machiaza_id = t.machiaza_id AND r.blk_num = ?) FROM abr_town t "
		"WHERE t.lg_code = '302015' AND t.oaza_cho = '太田' AND t.chome_number = 4",
		"13", NULL, t, 2);
	assert_string_equal(t[1], "0");
	const char *in = "和歌山市太田4-13";
	struct addr_result r;
	norm(in, &r);
	level_is(&r, ADDR_PARCEL, in);
	eq(r.machiaza_id, p[0], "machiaza_id", in);
	eq(r.prc_id, p[1], "prc_id", in);
}

/* ---- towns.csv ---------------------------------------------------------- */

static void lg_of(const char *sql, const char *p1, char out[128])
{
	char c[1][128];
	sql_row(sql, p1, NULL, c, 1);
	memcpy(out, c[0], 128);
}

static void towns_csv_rows(void **state)
{
	(void)state;
	need_data();
	char chiyoda[128], hachioji[128], sakai[128], yokohama[128], uji[128], kita[128];
	lg_of("SELECT lg_code FROM abr_city WHERE pref = '東京都' AND city = ?", "千代田区",
	      chiyoda);
	lg_of("SELECT lg_code FROM abr_city WHERE pref = '東京都' AND city = ?", "八王子市",
	      hachioji);
	lg_of("SELECT lg_code FROM abr_city WHERE city = '堺市' AND ward = ?", "堺区", sakai);
	lg_of("SELECT lg_code FROM abr_city WHERE county = '上北郡' AND city = ?", "横浜町",
	      yokohama);
	lg_of("SELECT lg_code FROM abr_city WHERE pref = '京都府' AND city = ?", "宇治市", uji);
	lg_of("SELECT lg_code FROM abr_city WHERE city = '札幌市' AND ward = ?", "北区", kita);
	static const struct {
		const char *in;
		enum addr_level level;
		int lg; /* index into lgs */
		const char *pref, *oaza_cho, *chome, *koaza, *others;
		double lat, lon;
	} cases[] = {
		{"東京都千代田区飯田橋一丁目", ADDR_MACHIAZA_DETAIL, 0, "東京都", "飯田橋",
		 "一丁目", NULL, NULL, 35.69847, 139.749414},
		{"千代田区飯田橋１丁目", ADDR_MACHIAZA_DETAIL, 0, "東京都", "飯田橋", "一丁目",
		 NULL, NULL, 35.69847, 139.749414},
		{"東京都千代田区飯田橋2丁目3-5", ADDR_MACHIAZA_DETAIL, 0, "東京都", "飯田橋",
		 "二丁目", NULL, "3-5", 35.699206, 139.750564},
		{"千代田区霞ケ関1丁目", ADDR_MACHIAZA_DETAIL, 0, "東京都", "霞が関", "一丁目", NULL,
		 NULL, 35.673944, 139.752558},
		{"東京都千代田区霞ヶ関一丁目", ADDR_MACHIAZA_DETAIL, 0, "東京都", "霞が関",
		 "一丁目", NULL, NULL, 35.673944, 139.752558},
		{"八王子市元本郷町一丁目", ADDR_MACHIAZA_DETAIL, 1, "東京都", "元本郷町", "一丁目",
		 NULL, NULL, 35.664474, 139.321523},
		{"青森県上北郡横浜町字三保野", ADDR_MACHIAZA, 3, "青森県", NULL, NULL, NULL, NULL,
		 41.078676, 141.251239},
		{"横浜町三保野", ADDR_MACHIAZA, 3, "青森県", NULL, NULL, NULL, NULL, 41.078676,
		 141.251239},
		{"上北郡横浜町大字三保野", ADDR_MACHIAZA, 3, "青森県", NULL, NULL, NULL, NULL,
		 41.078676, 141.251239},
		{"京都府宇治市莵道森本", ADDR_MACHIAZA_DETAIL, 4, "京都府", "莵道", NULL, "森本",
		 NULL, 34.902174, 135.807193},
		{"宇治市菟道字森本", ADDR_MACHIAZA_DETAIL, 4, "京都府", "莵道", NULL, "森本", NULL,
		 34.902174, 135.807193},
		{"宇治市莵道", ADDR_MACHIAZA, 4, "京都府", "莵道", NULL, NULL, NULL, 34.904244,
		 135.827041},
		{"札幌市北区北24条西10丁目", ADDR_MACHIAZA_DETAIL, 5, "北海道", "北二十四条西",
		 "十丁目", NULL, NULL, 43.089735, 141.334547},
		{"北海道札幌市北区北二十四条西十丁目", ADDR_MACHIAZA_DETAIL, 5, "北海道",
		 "北二十四条西", "十丁目", NULL, NULL, 43.089735, 141.334547},
	};
	const char *lgs[] = {chiyoda, hachioji, sakai, yokohama, uji, kita};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct addr_result r;
		const char *in = cases[i].in;
		norm(in, &r);
		level_is(&r, cases[i].level, in);
		eq(r.lg_code, lgs[cases[i].lg], "lg_code", in);
		eq(r.pref, cases[i].pref, "pref", in);
		if (cases[i].oaza_cho)
			eq(r.oaza_cho, cases[i].oaza_cho, "oaza_cho", in);
		else if (!r.oaza_cho || !strstr(r.oaza_cho, "三保野"))
			fail_msg("%s: oaza_cho \"%s\"", in, r.oaza_cho ? r.oaza_cho : "");
		if (cases[i].chome)
			eq(r.chome, cases[i].chome, "chome", in);
		eq(r.koaza, cases[i].koaza, "koaza", in);
		eq(r.others, cases[i].others, "others", in);
		/* towns.csv has no ABR ids */
		eq(r.machiaza_id, NULL, "machiaza_id", in);
		point_is(&r, cases[i].lat, cases[i].lon, cases[i].level, in);
	}
	/* the county and the ward are reported */
	struct addr_result r;
	norm("横浜町三保野", &r);
	eq(r.county, "上北郡", "county", "横浜町三保野");
	/* 南花田口町二丁: a 丁 without 目, at the town level either way */
	const char *in = "大阪府堺市堺区南花田口町2丁";
	norm(in, &r);
	if (r.level != ADDR_MACHIAZA && r.level != ADDR_MACHIAZA_DETAIL)
		fail_msg("%s: level %s", in, addr_level_name(r.level));
	eq(r.lg_code, sakai, "lg_code", in);
	eq(r.city, "堺市", "city", in);
	eq(r.ward, "堺区", "ward", in);
	assert_non_null(r.oaza_cho);
	assert_non_null(strstr(r.oaza_cho, "南花田口町"));
	point_is(&r, 34.576936, 135.483624, r.level, in);
}

/* A 丁目 written with a dash (飯田橋1-3-5): the dash separates, so it is not
 * part of what is left over. */
static void others_without_the_separating_dash(void **state)
{
	(void)state;
	need_data();
	struct addr_result r;
	const char *in = "千代田区飯田橋1-3-5";
	norm(in, &r);
	level_is(&r, ADDR_MACHIAZA_DETAIL, in);
	eq(r.chome, "一丁目", "chome", in);
	eq(r.others, "3-5", "others", in);
}

/* 町 left out or written for 丁: each reading finds the town the registry
 * has, with its id. */
static void cho_variants(void **state)
{
	(void)state;
	need_data();
	char t[2][128];
	sql_row("SELECT machiaza_id, oaza_cho FROM abr_town WHERE lg_code = '302015' AND "
		"oaza_cho = '七番丁'",
		NULL, NULL, t, 2);
	static const char *const inputs[] = {"和歌山県和歌山市7番町19", "和歌山市七番町",
					     "和歌山市七番丁"};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		struct addr_result r;
		norm(inputs[i], &r);
		eq(r.oaza_cho, t[1], "oaza_cho", inputs[i]);
		eq(r.machiaza_id, t[0], "machiaza_id", inputs[i]);
	}
}

/* One shortened or variant spelling and what it must give: town (NULL: none,
 * level city) and what is left in others. */
struct short_case {
	const char *in, *lg_city, *oaza_cho, *others;
	enum addr_level level;
	double lat, lon;
};

static void check_short(const struct short_case *c)
{
	char lg[128];
	lg_of("SELECT lg_code FROM abr_city WHERE COALESCE(city, '') || COALESCE(ward, '') = ?",
	      c->lg_city, lg);
	struct addr_result r;
	norm(c->in, &r);
	level_is(&r, c->level, c->in);
	eq(r.lg_code, lg, "lg_code", c->in);
	eq(r.oaza_cho, c->oaza_cho, "oaza_cho", c->in);
	eq(r.others, c->others, "others", c->in);
	if (c->oaza_cho)
		point_is(&r, c->lat, c->lon, ADDR_MACHIAZA, c->in);
}

/* The end of a longer name (三栄町 for 四谷三栄町, from the Geolonia test
 * set): read when exactly one name of the municipality ends so after a
 * boundary (a 大字 of its own, or an old 町/村 starting two names). */
static void town_written_without_its_prefix(void **state)
{
	(void)state;
	need_data();
	static const struct short_case cases[] = {
		{"東京都新宿区三栄町２－８", "新宿区", "四谷三栄町", "2-8", ADDR_MACHIAZA,
		 35.688757, 139.725668},
		{"新宿区三栄町17-16", "新宿区", "四谷三栄町", "17-16", ADDR_MACHIAZA, 35.688757,
		 139.725668},
		{"新宿区 本塩町 四谷ビル3階", "新宿区", "四谷本塩町", "四谷ビル3階", ADDR_MACHIAZA,
		 35.689053, 139.729776},
		{"三重県津市千里ヶ丘1", "津市", "河芸町千里ヶ丘", "1", ADDR_MACHIAZA, 34.804854,
		 136.545846},
		{"津市千里が丘", "津市", "河芸町千里ヶ丘", NULL, ADDR_MACHIAZA, 34.804854,
		 136.545846},
		/* written in full, as before */
		{"新宿区四谷三栄町2-8", "新宿区", "四谷三栄町", "2-8", ADDR_MACHIAZA, 35.688757,
		 139.725668},
		/* a direct match is not displaced: 本町 is a town of 青梅市 (and the
		 * end of 御岳本町) */
		{"東京都青梅市本町1", "青梅市", "本町", "1", ADDR_MACHIAZA, 35.790713, 139.259518},
		{"青梅市御岳本町", "青梅市", "御岳本町", NULL, ADDR_MACHIAZA, 35.809062,
		 139.178353},
		/* ambiguous: 本町 ends 蒲田本町 and 田園調布本町 in 大田区 */
		{"東京都大田区本町1丁目", "大田区", NULL, "本町1丁目", ADDR_CITY, 0, 0},
		{"大田区本町", "大田区", NULL, "本町", ADDR_CITY, 0, 0},
		/* no boundary: 四谷三 is no name of its own, and 町 is one character */
		{"新宿区栄町", "新宿区", NULL, "栄町", ADDR_CITY, 0, 0},
		{"新宿区町1", "新宿区", NULL, "町1", ADDR_CITY, 0, 0},
		/* 河 is one character: no boundary there */
		{"津市芸町上野", "津市", NULL, "芸町上野", ADDR_CITY, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_short(&cases[i]);
	/* the other way round works as before: the 丁目 of 四谷 by its number */
	struct addr_result r;
	norm("新宿区四谷1-2", &r);
	level_is(&r, ADDR_MACHIAZA_DETAIL, "新宿区四谷1-2");
	eq(r.oaza_cho, "四谷", "oaza_cho", "新宿区四谷1-2");
	eq(r.chome, "一丁目", "chome", "新宿区四谷1-2");
	/* 大田区蒲田本町1丁目 in full still reads */
	norm("大田区蒲田本町1丁目", &r);
	level_is(&r, ADDR_MACHIAZA_DETAIL, "大田区蒲田本町1丁目");
	eq(r.oaza_cho, "蒲田本町", "oaza_cho", "大田区蒲田本町1丁目");
}

/* 舟 for 船 (Geolonia test set: 一之舟入町), also in Kyoto's street form;
 * 中京区 has both 舟屋町 and 船屋町, and each keeps its own name. */
static void place_name_variant_spellings(void **state)
{
	(void)state;
	need_data();
	static const struct short_case cases[] = {
		{"京都府京都市中京区河原町二条下ル一之舟入町537-50", "京都市中京区", "一之船入町",
		 "537-50", ADDR_MACHIAZA, 35.01217, 135.769483},
		{"京都市中京区一之舟入町", "京都市中京区", "一之船入町", NULL, ADDR_MACHIAZA,
		 35.01217, 135.769483},
		{"京都市中京区一之船入町", "京都市中京区", "一之船入町", NULL, ADDR_MACHIAZA,
		 35.01217, 135.769483},
		{"京都市中京区舟屋町", "京都市中京区", "舟屋町", NULL, ADDR_MACHIAZA, 35.016906,
		 135.765784},
		{"京都市中京区船屋町", "京都市中京区", "船屋町", NULL, ADDR_MACHIAZA, 35.005594,
		 135.766252},
		/* no town whatever the variant */
		{"京都市中京区舟木町", "京都市中京区", NULL, "舟木町", ADDR_CITY, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_short(&cases[i]);
}

/* 和歌山市12-45 for 十二番丁45 (Geolonia test set): a bare number read as
 * the town N番丁 only when the number after it is there in that town. */
static void numbered_bancho_town(void **state)
{
	(void)state;
	need_data();
	char t[3][128];
	sql_row("SELECT t.machiaza_id, t.oaza_cho, p.prc_id FROM abr_town t JOIN abr_parcel p "
		"ON p.lg_code = t.lg_code AND p.machiaza_id = t.machiaza_id WHERE "
		"t.lg_code = '302015' AND t.oaza_cho = '十二番丁' AND p.prc_num1 = ? AND "
		"COALESCE(p.prc_num2, '') = ''",
		"45", NULL, t, 3);
	static const char *const inputs[] = {"和歌山県和歌山市12-45", "和歌山市１２－４５",
					     "和歌山市十二番丁45", "和歌山市12番丁45"};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		struct addr_result r;
		norm(inputs[i], &r);
		level_is(&r, ADDR_PARCEL, inputs[i]);
		eq(r.oaza_cho, t[1], "oaza_cho", inputs[i]);
		eq(r.machiaza_id, t[0], "machiaza_id", inputs[i]);
		eq(r.prc_id, t[2], "prc_id", inputs[i]);
		eq(r.others, NULL, "others", inputs[i]);
	}
	/* no such parcel, no 番丁 of that number, no dash: no town */
	static const char *const none[] = {"和歌山市12-99999", "和歌山市99-1", "和歌山市12",
					   "和歌山市012-45"};
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		struct addr_result r;
		norm(none[i], &r);
		level_is(&r, ADDR_CITY, none[i]);
		eq(r.oaza_cho, NULL, "oaza_cho", none[i]);
	}
}

static void prefecture_and_city_levels(void **state)
{
	(void)state;
	need_data();
	char pos[2][128];
	sql_row("SELECT rep_lat, rep_lon FROM abr_lg_pos WHERE lg_code = ?", "300004", NULL, pos,
		2);
	struct addr_result r;
	norm("和歌山県", &r);
	level_is(&r, ADDR_PREFECTURE, "和歌山県");
	eq(r.pref, "和歌山県", "pref", "和歌山県");
	eq(r.lg_code, "300004", "lg_code", "和歌山県");
	point_is(&r, strtod(pos[0], NULL), strtod(pos[1], NULL), ADDR_PREFECTURE, "和歌山県");

	sql_row("SELECT rep_lat, rep_lon FROM abr_lg_pos WHERE lg_code = ?", "302015", NULL, pos,
		2);
	norm("和歌山県和歌山市どこか知らない町", &r);
	level_is(&r, ADDR_CITY, "和歌山市…");
	eq(r.lg_code, "302015", "lg_code", "和歌山市…");
	point_is(&r, strtod(pos[0], NULL), strtod(pos[1], NULL), ADDR_CITY, "和歌山市…");
	assert_non_null(r.others);

	/* a county named or left out */
	char lg[128];
	lg_of("SELECT lg_code FROM abr_city WHERE county = '上北郡' AND city = ?", "横浜町", lg);
	norm("青森県上北郡横浜町", &r);
	level_is(&r, ADDR_CITY, "青森県上北郡横浜町");
	eq(r.lg_code, lg, "lg_code", "青森県上北郡横浜町");
	norm("青森県横浜町", &r);
	eq(r.lg_code, lg, "lg_code", "青森県横浜町");
	/* 神奈川県横浜市 is not 青森県の横浜町 */
	lg_of("SELECT lg_code FROM abr_city WHERE city = '横浜市' AND ward = ?", "中区", lg);
	norm("横浜市中区", &r);
	level_is(&r, ADDR_CITY, "横浜市中区");
	eq(r.lg_code, lg, "lg_code", "横浜市中区");
	eq(r.pref, "神奈川県", "pref", "横浜市中区");
}

/* ---- hostile input ------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hostile_input_in_bounded_time(void **state)
{
	(void)state;
	need_data();
	struct addr_result r;
	/* empty and blank: unknown, not error */
	addr_normalize(fx.ix, fx.w, "", 0, &r);
	level_is(&r, ADDR_UNKNOWN, "(empty)");
	assert_false(r.has_point);
	norm(" \t　", &r);
	level_is(&r, ADDR_UNKNOWN, "(blank)");
	norm("ABCマンション", &r);
	level_is(&r, ADDR_UNKNOWN, "ABCマンション");

	/* invalid UTF-8: error with a reason */
	static const char *const bad[] = {"和歌山市\xff", "\xC0\xAF", "和歌山\xE5\x8C",
					  "\xED\xA0\x80和歌山市"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		norm(bad[i], &r);
		level_is(&r, ADDR_ERROR, "(invalid UTF-8)");
		assert_non_null(r.error);
		assert_null(r.pref);
		assert_false(r.has_point);
	}

	/* 100 KB: refused at once */
	size_t big = 100 * 1024;
	char *s = malloc(big);
	assert_non_null(s);
	for (size_t i = 0; i + 3 <= big; i += 3)
		memcpy(s + i, "あ", 3);
	memcpy(s, "和歌山市", 12);
	double t0 = now_s();
	addr_normalize(fx.ix, fx.w, s, big - big % 3, &r);
	assert_true(now_s() - t0 < 0.5);
	level_is(&r, ADDR_ERROR, "(100 KB)");
	assert_non_null(r.error);

	/* just under the limit, in shapes that stress each step */
	static const char *const fill[] = {"（",       "1-", "一", "丁目", "番地の",
					   "和歌山市", "-",  "〒", " ",    "字"};
	for (size_t k = 0; k < sizeof fill / sizeof fill[0]; k++) {
		size_t n = 0, fl = strlen(fill[k]);
		memcpy(s, "和歌山市松江北", 21);
		n = 21;
		while (n + fl <= ADDR_INPUT_MAX) {
			memcpy(s + n, fill[k], fl);
			n += fl;
		}
		t0 = now_s();
		addr_normalize(fx.ix, fx.w, s, n, &r);
		double dt = now_s() - t0;
		if (dt > 0.5)
			fail_msg("%zu bytes of %s took %.3f s", n, fill[k], dt);
		assert_true(r.level >= ADDR_ERROR && r.level <= ADDR_PARCEL);
		if (r.level != ADDR_ERROR)
			assert_true(r.level >= ADDR_CITY); /* 和歌山市 was read */
	}
	free(s);

	/* a NUL byte inside is just a byte */
	static const char nul[] = "和歌山市\0松江北2丁目19-25";
	addr_normalize(fx.ix, fx.w, nul, sizeof nul - 1, &r);
	assert_true(r.level <= ADDR_PARCEL);

	/* unclosed and stray brackets around the whole address */
	static const char *const brackets[] = {"（和歌山市松江北2丁目19-25", "「「「「「「「「",
					       "和歌山市（（（（（（", "【和歌山市】松江北"};
	for (size_t i = 0; i < sizeof brackets / sizeof brackets[0]; i++) {
		norm(brackets[i], &r);
		assert_true(r.level >= ADDR_UNKNOWN && r.level <= ADDR_PARCEL);
	}
}

/* ---- writers ------------------------------------------------------------ */

static json_t *parse(const struct buf *b)
{
	json_error_t e;
	json_t *j = json_loadb(b->p, b->len, 0, &e);
	if (!j)
		fail_msg("not JSON (%s): %.*s", e.text, (int)b->len, b->p);
	return j;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!v)
		fail_msg("key %s missing", k);
	return json_is_null(v) ? NULL : json_string_value(v);
}

static void json_output(void **state)
{
	(void)state;
	need_data();
	struct rsdt_row row;
	matsue_kita(&row);
	const char *in = "和歌山市松江北2丁目19-25 ABC\"マンション\" 301";
	struct addr_result r;
	norm(in, &r);
	struct buf *b = &fx.out;
	buf_reset(b);
	assert_int_equal(addr_result_json(b, in, strlen(in), &r), 0);
	json_t *j = parse(b);
	assert_true(json_is_object(j));
	eq(jstr(j, "input"), in, "input", in);
	eq(jstr(j, "pref"), "和歌山県", "pref", in);
	eq(jstr(j, "city"), "和歌山市", "city", in);
	eq(jstr(j, "oaza_cho"), "松江北", "oaza_cho", in);
	eq(jstr(j, "chome"), row.c[1], "chome", in);
	eq(jstr(j, "blk_num"), "19", "blk_num", in);
	eq(jstr(j, "rsdt_num"), "25", "rsdt_num", in);
	eq(jstr(j, "lg_code"), "302015", "lg_code", in);
	eq(jstr(j, "machiaza_id"), row.c[0], "machiaza_id", in);
	eq(jstr(j, "blk_id"), row.c[2], "blk_id", in);
	eq(jstr(j, "rsdt_id"), row.c[3], "rsdt_id", in);
	eq(jstr(j, "match_level"), "residential_detail", "match_level", in);
	eq(jstr(j, "coordinate_level"), "residential_detail", "coordinate_level", in);
	assert_non_null(strstr(jstr(j, "others"), "ABC\"マンション\""));
	static const char *const keys[] = {"county",   "ward",     "koaza",    "rsdt_num2",
					   "prc_num1", "prc_num2", "prc_num3", "prc_id"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(j, keys[i]);
		if (!v || !json_is_null(v))
			fail_msg("%s should be null", keys[i]);
	}
	assert_true(fabs(json_number_value(json_object_get(j, "lat")) - strtod(row.c[4], NULL)) <
		    1e-6);
	assert_true(fabs(json_number_value(json_object_get(j, "lon")) - strtod(row.c[5], NULL)) <
		    1e-6);
	assert_null(json_object_get(j, "error"));
	json_decref(j);

	/* an error result: valid JSON even with bytes that are not UTF-8 */
	static const char bad[] = "和歌山市\xff\xfe\"\\\n";
	buf_reset(b);
	addr_normalize(fx.ix, fx.w, bad, sizeof bad - 1, &r);
	assert_int_equal(addr_result_json(b, bad, sizeof bad - 1, &r), 0);
	j = parse(b);
	eq(jstr(j, "match_level"), "error", "match_level", "bad");
	assert_non_null(jstr(j, "error"));
	assert_true(json_is_null(json_object_get(j, "lat")));
	assert_true(json_is_null(json_object_get(j, "coordinate_level")));
	assert_non_null(strstr(jstr(j, "input"), "和歌山市"));
	json_decref(j);

	/* too small a buffer: -E2BIG, and nothing half-written is left */
	struct buf small;
	buf_init(&small, 64);
	buf_puts(&small, "[");
	norm(in, &r);
	assert_int_equal(addr_result_json(&small, in, strlen(in), &r), -E2BIG);
	assert_int_equal(small.len, 1);
	assert_string_equal(buf_cstr(&small), "[");
	buf_release(&small);
}

static void geojson_output(void **state)
{
	(void)state;
	need_data();
	struct rsdt_row row;
	matsue_kita(&row);
	const char *in = "和歌山市松江北2丁目19-25";
	struct addr_result r;
	norm(in, &r);
	struct buf *b = &fx.out;
	buf_reset(b);
	assert_int_equal(addr_result_feature(b, in, strlen(in), &r), 0);
	json_t *j = parse(b);
	eq(jstr(j, "type"), "Feature", "type", in);
	json_t *g = json_object_get(j, "geometry");
	eq(jstr(g, "type"), "Point", "geometry.type", in);
	json_t *co = json_object_get(g, "coordinates");
	assert_int_equal(json_array_size(co), 2);
	/* GeoJSON: longitude first */
	assert_true(fabs(json_number_value(json_array_get(co, 0)) - strtod(row.c[5], NULL)) < 1e-6);
	assert_true(fabs(json_number_value(json_array_get(co, 1)) - strtod(row.c[4], NULL)) < 1e-6);
	json_t *pr = json_object_get(j, "properties");
	eq(jstr(pr, "match_level"), "residential_detail", "match_level", in);
	eq(jstr(pr, "rsdt_id"), row.c[3], "rsdt_id", in);
	eq(jstr(pr, "input"), in, "input", in);
	json_decref(j);

	/* without a point: null geometry */
	buf_reset(b);
	norm("どこでもない", &r);
	assert_int_equal(addr_result_feature(b, "どこでもない", strlen("どこでもない"), &r), 0);
	j = parse(b);
	assert_true(json_is_null(json_object_get(j, "geometry")));
	eq(jstr(json_object_get(j, "properties"), "match_level"), "unknown", "match_level",
	   "どこでもない");
	json_decref(j);
}

/* Splits one CSV record (RFC 4180) into at most max fields; returns how many,
 * or -1 when it is not well formed. Fields are copied into f[i]. */
static int csv_split(const char *s, char f[][512], int max)
{
	int n = 0;
	const char *p = s;
	for (;;) {
		if (n == max)
			return -1;
		size_t k = 0;
		if (*p == '"') {
			p++;
			for (;;) {
				if (!*p)
					return -1;
				if (*p == '"' && p[1] == '"') {
					f[n][k++] = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					f[n][k++] = *p++;
				}
				if (k >= 511)
					return -1;
			}
		} else {
			while (*p && *p != ',' && *p != '\r') {
				if (*p == '"')
					return -1; /* a quote inside an unquoted field */
				f[n][k++] = *p++;
				if (k >= 511)
					return -1;
			}
		}
		f[n][k] = '\0';
		n++;
		if (*p == ',') {
			p++;
			continue;
		}
		return strcmp(p, "\r\n") == 0 ? n : -1;
	}
}

static void csv_output(void **state)
{
	(void)state;
	need_data();
	static char f[32][512];
	struct buf *b = &fx.out;
	buf_reset(b);
	assert_int_equal(addr_csv_header(b), 0);
	int nh = csv_split(buf_cstr(b), f, 32);
	assert_true(nh > 20);
	assert_string_equal(f[0], "input");
	int col_others = -1, col_level = -1, col_rsdt = -1, col_lat = -1;
	for (int i = 0; i < nh; i++) {
		if (!strcmp(f[i], "others"))
			col_others = i;
		if (!strcmp(f[i], "match_level"))
			col_level = i;
		if (!strcmp(f[i], "rsdt_id"))
			col_rsdt = i;
		if (!strcmp(f[i], "lat"))
			col_lat = i;
	}
	assert_true(col_others > 0 && col_level > 0 && col_rsdt > 0 && col_lat > 0);

	struct rsdt_row row;
	matsue_kita(&row);
	/* a comma and a quote: quoted, the quote doubled */
	const char *in = "和歌山市松江北2丁目19-25 \"A,B\"ビル";
	struct addr_result r;
	norm(in, &r);
	buf_reset(b);
	assert_int_equal(addr_result_csv(b, in, strlen(in), &r), 0);
	assert_non_null(strstr(buf_cstr(b), "\"和歌山市松江北2丁目19-25 \"\"A,B\"\"ビル\""));
	int n = csv_split(buf_cstr(b), f, 32);
	assert_int_equal(n, nh);
	assert_string_equal(f[0], in);
	assert_string_equal(f[col_others], "\"A,B\"ビル");
	assert_string_equal(f[col_level], "residential_detail");
	assert_string_equal(f[col_rsdt], row.c[3]);
	assert_true(fabs(strtod(f[col_lat], NULL) - strtod(row.c[4], NULL)) < 1e-6);

	/* a formula is defused with a leading ' */
	static const char *const formulas[] = {"=1+2", "+1", "@SUM(A1)", "-1"};
	for (size_t i = 0; i < sizeof formulas / sizeof formulas[0]; i++) {
		buf_reset(b);
		norm(formulas[i], &r);
		assert_int_equal(addr_result_csv(b, formulas[i], strlen(formulas[i]), &r), 0);
		assert_int_equal(csv_split(buf_cstr(b), f, 32), nh);
		assert_int_equal(f[0][0], '\'');
		assert_string_equal(f[0] + 1, formulas[i]);
	}
	/* a line break in the input stays inside one quoted field */
	const char *nl = "和歌山市\r\n松江北";
	buf_reset(b);
	norm(nl, &r);
	assert_int_equal(addr_result_csv(b, nl, strlen(nl), &r), 0);
	assert_int_equal(csv_split(buf_cstr(b), f, 32), nh);
	assert_string_equal(f[0], nl);

	/* bytes that are not UTF-8 become U+FFFD */
	static const char bad[] = "和歌山市\xff";
	buf_reset(b);
	addr_normalize(fx.ix, fx.w, bad, sizeof bad - 1, &r);
	assert_int_equal(addr_result_csv(b, bad, sizeof bad - 1, &r), 0);
	assert_int_equal(csv_split(buf_cstr(b), f, 32), nh);
	assert_string_equal(f[0], "和歌山市\xEF\xBF\xBD");
	assert_string_equal(f[col_level], "error");

	/* a formula that must also be quoted: the ' goes inside the quotes */
	const char *hostile = "=HYPERLINK(\"http://example.com\",\"x\")";
	buf_reset(b);
	norm(hostile, &r);
	assert_int_equal(addr_result_csv(b, hostile, strlen(hostile), &r), 0);
	n = csv_split(buf_cstr(b), f, 32);
	if (n != nh)
		fail_msg("not one well-formed CSV record: %s", buf_cstr(b));
	assert_int_equal(f[0][0], '\'');
	assert_string_equal(f[0] + 1, hostile);
}

static void formats_and_level_names(void **state)
{
	(void)state;
	enum addr_format fmt;
	assert_int_equal(addr_format_parse("json", &fmt), 0);
	assert_int_equal(fmt, ADDR_FMT_JSON);
	assert_int_equal(addr_format_parse("ndjson", &fmt), 0);
	assert_int_equal(fmt, ADDR_FMT_NDJSON);
	assert_int_equal(addr_format_parse("csv", &fmt), 0);
	assert_int_equal(fmt, ADDR_FMT_CSV);
	assert_int_equal(addr_format_parse("geojson", &fmt), 0);
	assert_int_equal(fmt, ADDR_FMT_GEOJSON);
	assert_int_equal(addr_format_parse("xml", &fmt), -EINVAL);
	assert_int_equal(addr_format_parse("JSON", &fmt), -EINVAL);
	assert_int_equal(addr_format_parse(NULL, &fmt), -EINVAL);
	static const char *const names[] = {
		"error",           "unknown",           "prefecture",         "city",   "machiaza",
		"machiaza_detail", "residential_block", "residential_detail", "parcel",
	};
	for (int l = ADDR_ERROR; l <= ADDR_PARCEL; l++)
		assert_string_equal(addr_level_name((enum addr_level)l), names[l]);
	assert_string_equal(addr_level_name((enum addr_level)99), "error");
}

/* An empty registry gives an index that finds nothing, not an error. */
static void empty_registry(void **state)
{
	(void)state;
	char dir[64] = "/tmp/mado-addr0-XXXXXX", url[128], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof url, "sqlite:%s/t.db", dir);
	struct db *db = db_open(url, 1, err, sizeof err);
	assert_non_null(db);
	struct db_conn *c = db_acquire(db);
	assert_int_equal(app_migrate_module(c, &registry_module, err, sizeof err), 0);
	struct addr_index *ix = NULL;
	assert_int_equal(addr_index_load(c, &ix, NULL, err, sizeof err), 0);
	db_release(c);
	struct addr_work *w = addr_work_new();
	struct addr_result r;
	addr_normalize(ix, w, "和歌山市松江北2丁目19-25", strlen("和歌山市松江北2丁目19-25"), &r);
	assert_int_equal(r.level, ADDR_UNKNOWN);
	assert_false(r.has_point);
	addr_normalize(ix, w, "\xff", 1, &r);
	assert_int_equal(r.level, ADDR_ERROR);
	addr_work_free(w);
	addr_index_free(ix);
	db_close(db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(residence_in_every_form),
		cmocka_unit_test(postal_code_and_invisible_characters),
		cmocka_unit_test(residence_sample),
		cmocka_unit_test(block_without_that_residence),
		cmocka_unit_test(building_and_room_go_to_others),
		cmocka_unit_test(parcel_in_every_form),
		cmocka_unit_test(parcel_in_kanji_numerals),
		cmocka_unit_test(parcel_sample),
		cmocka_unit_test(dash_chome_does_not_hide_a_parcel),
		cmocka_unit_test(towns_csv_rows),
		cmocka_unit_test(others_without_the_separating_dash),
		cmocka_unit_test(cho_variants),
		cmocka_unit_test(town_written_without_its_prefix),
		cmocka_unit_test(place_name_variant_spellings),
		cmocka_unit_test(numbered_bancho_town),
		cmocka_unit_test(prefecture_and_city_levels),
		cmocka_unit_test(hostile_input_in_bounded_time),
		cmocka_unit_test(json_output),
		cmocka_unit_test(geojson_output),
		cmocka_unit_test(csv_output),
		cmocka_unit_test(formats_and_level_names),
		cmocka_unit_test(empty_registry),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
