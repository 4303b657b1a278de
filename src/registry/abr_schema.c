/* Tables of the Address Base Registry as imported by abr_import.c. A town
 * (町字) may be listed twice, once for its 住居表示 part and once for its 地番
 * part, so rsdt_addr_flg is part of its key. Names and
 * codes are kept as published (e.g. "２丁目" with full-width digits); the
 * normalizer reads them through its own folded indexes. Positions live in
 * their own tables because ABR distributes them in separate files.
 * town_names holds japanese-addresses' towns.csv (towns_import.c): names and
 * points of towns nationwide, without ABR's ids. registry_generation is a
 * one-row counter the importers bump with their rows, so that a running
 * server sees that its address index is out of date. */
#include "registry/registry.h"

static const struct db_migration registry_migrations[] = {
	{1,
	 "CREATE TABLE abr_pref ("
	 " lg_code TEXT PRIMARY KEY, pref TEXT NOT NULL, pref_kana TEXT, pref_roma TEXT,"
	 " efct_date TEXT, ablt_date TEXT);"
	 "CREATE TABLE abr_city ("
	 " lg_code TEXT PRIMARY KEY, pref TEXT NOT NULL, county TEXT, county_kana TEXT,"
	 " city TEXT, city_kana TEXT, city_roma TEXT, ward TEXT, ward_kana TEXT, ward_roma TEXT,"
	 " efct_date TEXT, ablt_date TEXT);"
	 "CREATE TABLE abr_lg_pos ("
	 " lg_code TEXT PRIMARY KEY, rep_lon DOUBLE PRECISION, rep_lat DOUBLE PRECISION,"
	 " rep_srid TEXT);"
	 "CREATE TABLE abr_town ("
	 " lg_code TEXT NOT NULL, machiaza_id TEXT NOT NULL, machiaza_type INTEGER,"
	 " pref TEXT, county TEXT, city TEXT, ward TEXT, oaza_cho TEXT, oaza_cho_kana TEXT,"
	 " chome TEXT, chome_kana TEXT, chome_number INTEGER, koaza TEXT, koaza_kana TEXT,"
	 " rsdt_addr_flg INTEGER NOT NULL, efct_date TEXT, ablt_date TEXT, post_code TEXT,"
	 " PRIMARY KEY (lg_code, machiaza_id, rsdt_addr_flg));"
	 "CREATE TABLE abr_town_pos ("
	 " lg_code TEXT NOT NULL, machiaza_id TEXT NOT NULL, rsdt_addr_flg INTEGER NOT NULL,"
	 " rep_lon DOUBLE PRECISION, rep_lat DOUBLE PRECISION, rep_srid TEXT,"
	 " PRIMARY KEY (lg_code, machiaza_id, rsdt_addr_flg));"
	 "CREATE TABLE abr_rsdt ("
	 " lg_code TEXT NOT NULL, machiaza_id TEXT NOT NULL, blk_id TEXT NOT NULL,"
	 " rsdt_id TEXT NOT NULL, rsdt2_id TEXT NOT NULL, blk_num TEXT, rsdt_num TEXT,"
	 " rsdt_num2 TEXT, basic_rsdt_div INTEGER, efct_date TEXT, ablt_date TEXT,"
	 " PRIMARY KEY (lg_code, machiaza_id, blk_id, rsdt_id, rsdt2_id));"
	 "CREATE TABLE abr_rsdt_pos ("
	 " lg_code TEXT NOT NULL, machiaza_id TEXT NOT NULL, blk_id TEXT NOT NULL,"
	 " rsdt_id TEXT NOT NULL, rsdt2_id TEXT NOT NULL, rep_lon DOUBLE PRECISION,"
	 " rep_lat DOUBLE PRECISION, rep_srid TEXT,"
	 " PRIMARY KEY (lg_code, machiaza_id, blk_id, rsdt_id, rsdt2_id));"
	 "CREATE TABLE abr_parcel ("
	 " lg_code TEXT NOT NULL, machiaza_id TEXT NOT NULL, prc_id TEXT NOT NULL,"
	 " prc_num1 TEXT, prc_num2 TEXT, prc_num3 TEXT, rsdt_addr_flg INTEGER,"
	 " efct_date TEXT, ablt_date TEXT, PRIMARY KEY (lg_code, machiaza_id, prc_id));"
	 "CREATE TABLE abr_parcel_pos ("
	 " lg_code TEXT NOT NULL, machiaza_id TEXT NOT NULL, prc_id TEXT NOT NULL,"
	 " rep_lon DOUBLE PRECISION, rep_lat DOUBLE PRECISION, rep_srid TEXT,"
	 " PRIMARY KEY (lg_code, machiaza_id, prc_id));",
	 NULL},
	{2,
	 "CREATE TABLE town_names ("
	 " pref TEXT NOT NULL, city TEXT NOT NULL, town TEXT NOT NULL, koaza TEXT NOT NULL,"
	 " lat DOUBLE PRECISION, lng DOUBLE PRECISION, lg_code TEXT,"
	 " PRIMARY KEY (pref, city, town, koaza));"
	 "CREATE INDEX town_names_lg ON town_names (lg_code);",
	 NULL},
	{3,
	 "CREATE TABLE registry_generation ("
	 " id INTEGER PRIMARY KEY CHECK (id = 1), generation BIGINT NOT NULL);"
	 "INSERT INTO registry_generation (id, generation) VALUES (1, 0);",
	 NULL},
	{0, NULL, NULL},
};

int registry_generation_bump(struct db_conn *c, const char *path, char *err, size_t errlen)
{
	struct db_stmt *st;
	int rc = db_prepare(c,
			    "INSERT INTO registry_generation (id, generation) VALUES (1, 1) "
			    "ON CONFLICT (id) DO UPDATE SET "
			    "generation = registry_generation.generation + 1",
			    &st);
	if (rc == 0)
		rc = db_step(st);
	db_done(st);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot record the registry generation: %s", path,
			 db_errmsg(c));
		return -1;
	}
	return 0;
}

int registry_generation(struct db_conn *c, int64_t *out)
{
	*out = 0;
	int rc = db_query_int64(c, "SELECT generation FROM registry_generation WHERE id = 1", out);
	return rc < 0 ? rc : 0;
}

const struct module registry_module = {
	.name = "registry",
	.migrations = registry_migrations,
};
