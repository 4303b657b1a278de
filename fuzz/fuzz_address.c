/* libFuzzer driver for the address normalizer: a small index is built once
 * from an in-memory SQLite database migrated by the registry module and
 * filled with a handful of real-looking rows (prefectures, municipalities,
 * towns from ABR and towns.csv, residences, parcels); each input is then
 * normalized and written as JSON, CSV and GeoJSON, and the invariants checked:
 * level in range, every field valid UTF-8, JSON output that parses. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address/address.h"
#include "app/boot.h"
#include "common/utf8.h"
#include "registry/registry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct addr_index *ix;
static struct addr_work *work;
static struct buf out;

static const char *const rows[] = {
	"INSERT INTO abr_pref (lg_code, pref) VALUES ('300004', '和歌山県'), "
	"('130001', '東京都'), ('020001', '青森県'), ('260002', '京都府'), "
	"('010006', '北海道')",
	"INSERT INTO abr_city (lg_code, pref, county, city, ward) VALUES "
	"('302015', '和歌山県', NULL, '和歌山市', NULL), "
	"('131016', '東京都', NULL, '千代田区', NULL), "
	"('132012', '東京都', NULL, '八王子市', NULL), "
	"('024066', '青森県', '上北郡', '横浜町', NULL), "
	"('262048', '京都府', NULL, '宇治市', NULL), "
	"('011029', '北海道', NULL, '札幌市', '北区')",
	"INSERT INTO abr_lg_pos (lg_code, rep_lat, rep_lon) VALUES "
	"('300004', 34.226, 135.1675), ('302015', 34.2305, 135.1708), "
	"('131016', 35.694, 139.7535)",
	"INSERT INTO abr_town (lg_code, machiaza_id, machiaza_type, pref, city, oaza_cho, chome, "
	"chome_number, koaza, rsdt_addr_flg) VALUES "
	"('302015', '0352002', 2, '和歌山県', '和歌山市', '松江北', '２丁目', 2, NULL, 1), "
	"('302015', '0352003', 2, '和歌山県', '和歌山市', '松江北', '３丁目', 3, NULL, 1), "
	"('302015', '0002000', 1, '和歌山県', '和歌山市', '秋月', NULL, NULL, NULL, 0), "
	"('302015', '0046000', 1, '和歌山県', '和歌山市', '太田', NULL, NULL, NULL, 0), "
	"('302015', '0046004', 2, '和歌山県', '和歌山市', '太田', '４丁目', 4, NULL, 1), "
	"('302015', '0100000', 1, '和歌山県', '和歌山市', '七番丁', NULL, NULL, NULL, 1), "
	"('302015', '0200000', 1, '和歌山県', '和歌山市', '大字木ノ本', NULL, NULL, NULL, 0), "
	"('302015', '0200101', 3, '和歌山県', '和歌山市', '大字木ノ本', NULL, NULL, '字北田', 0)",
	"INSERT INTO abr_town_pos (lg_code, machiaza_id, rsdt_addr_flg, rep_lat, rep_lon) VALUES "
	"('302015', '0352002', 1, 34.2490, 135.1360), ('302015', '0002000', 0, 34.2303, 135.2037)",
	"INSERT INTO abr_rsdt (lg_code, machiaza_id, blk_id, rsdt_id, rsdt2_id, blk_num, "
	"rsdt_num, rsdt_num2) VALUES "
	"('302015', '0352002', '019', '025', '', '19', '25', NULL), "
	"('302015', '0352002', '019', '001', '', '19', '1', NULL), "
	"('302015', '0352002', '001', '001', '001', '1', '1', '1'), "
	"('302015', '0046004', '001', '002', '', '1', '2', NULL), "
	"('302015', '0100000', '023', '000', '', '23', '0', NULL)",
	"INSERT INTO abr_rsdt_pos (lg_code, machiaza_id, blk_id, rsdt_id, rsdt2_id, rep_lat, "
	"rep_lon) VALUES ('302015', '0352002', '019', '025', '', 34.24935, 135.13613)",
	"INSERT INTO abr_parcel (lg_code, machiaza_id, prc_id, prc_num1, prc_num2, prc_num3) "
	"VALUES ('302015', '0002000', '000010000100000', '1', '1', NULL), "
	"('302015', '0002000', '000110000400000', '11', '4', NULL), "
	"('302015', '0002000', '000120000000000', '12', NULL, NULL), "
	"('302015', '0046000', '000040001300000', '4', '13', NULL), "
	"('302015', '0200101', '001030000300001', '103', '3', '1')",
	"INSERT INTO abr_parcel_pos (lg_code, machiaza_id, prc_id, rep_lat, rep_lon) VALUES "
	"('302015', '0002000', '000010000100000', 34.23646, 135.20648)",
	"INSERT INTO town_names (pref, city, town, koaza, lat, lng, lg_code) VALUES "
	"('東京都', '千代田区', '飯田橋一丁目', '', 35.69847, 139.749414, '131016'), "
	"('東京都', '千代田区', '霞が関一丁目', '', 35.673944, 139.752558, '131016'), "
	"('東京都', '八王子市', '元本郷町一丁目', '', 35.664474, 139.321523, '132012'), "
	"('青森県', '上北郡横浜町', '字三保野', '', 41.078676, 141.251239, '024066'), "
	"('京都府', '宇治市', '莵道', '', 34.904244, 135.827041, '262048'), "
	"('京都府', '宇治市', '莵道', '森本', 34.902174, 135.807193, '262048'), "
	"('北海道', '札幌市北区', '北二十四条西十丁目', '', 43.089735, 141.334547, '011029')",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[256];
	struct db *db = db_open("sqlite::memory:", 1, err, sizeof err);
	if (!db)
		abort();
	struct db_conn *c = db_acquire(db);
	if (app_migrate_module(c, &registry_module, err, sizeof err) != 0)
		abort();
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (db_exec(c, rows[i]) != 0) {
			fprintf(stderr, "fuzz_address: %s: %s\n", rows[i], db_errmsg(c));
			abort();
		}
	struct addr_index_stats st;
	if (addr_index_load(c, &ix, &st, err, sizeof err) != 0 || st.towns < 10 ||
	    st.residences < 5 || st.parcels < 5)
		abort();
	db_release(c);
	/* the index keeps its own copies: the database is not needed any more */
	db_close(db);
	work = addr_work_new();
	buf_init(&out, (size_t)1 << 20);
	return 0;
}

/* Absent is NULL, never "" (unless a NUL byte of the input cut the text
 * short: the fields are C strings), and never broken UTF-8. */
static void check_field(const char *v, bool has_nul)
{
	if (v && ((!*v && !has_nul) || !utf8_valid(v, strlen(v))))
		abort();
}

static void check_json(void)
{
	json_error_t e;
	json_t *j = json_loadb(out.p, out.len, 0, &e);
	if (!j || !json_is_object(j)) {
		fprintf(stderr, "fuzz_address: not a JSON object (%s): %.*s\n", e.text,
			(int)out.len, out.p);
		abort();
	}
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct addr_result r;
	addr_normalize(ix, work, s, size, &r);
	if (r.level < ADDR_ERROR || r.level > ADDR_PARCEL)
		abort();
	if ((r.level == ADDR_ERROR) != (r.error != NULL))
		abort(); /* an error says why, and only an error */
	if (size > ADDR_INPUT_MAX && r.level != ADDR_ERROR)
		abort();
	const char *const fields[] = {
		r.pref,    r.county,      r.city,      r.ward,     r.oaza_cho, r.chome,    r.koaza,
		r.blk_num, r.rsdt_num,    r.rsdt_num2, r.prc_num1, r.prc_num2, r.prc_num3, r.others,
		r.lg_code, r.machiaza_id, r.blk_id,    r.rsdt_id,  r.prc_id,
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		check_field(fields[i], memchr(s, 0, size) != NULL);
	/* what was matched implies the levels above it */
	if (r.level >= ADDR_CITY && r.level != ADDR_ERROR && (!r.pref || !r.lg_code))
		abort();
	if ((r.rsdt_id && !r.blk_id) || (r.level == ADDR_PARCEL && !r.prc_id))
		abort();
	if (r.has_point && (r.coord_level < ADDR_PREFECTURE || r.coord_level > r.level ||
			    !(r.lat > 20 && r.lat < 46 && r.lon > 122 && r.lon < 154)))
		abort();

	buf_reset(&out);
	if (addr_result_json(&out, s, size, &r) != 0)
		abort();
	check_json();
	buf_reset(&out);
	if (addr_result_feature(&out, s, size, &r) != 0)
		abort();
	check_json();
	buf_reset(&out);
	if (addr_result_csv(&out, s, size, &r) != 0)
		abort();
	/* one CSV record: valid UTF-8, ends with CRLF, quotes balanced */
	if (out.len < 2 || memcmp(out.p + out.len - 2, "\r\n", 2) != 0 ||
	    !utf8_valid(out.p, out.len))
		abort();
	size_t quotes = 0;
	for (size_t i = 0; i < out.len; i++)
		quotes += out.p[i] == '"';
	if (quotes % 2)
		abort();
	return 0;
}
