/* Import of the Address Base Registry's official zips (see registry.h).
 * Each kind of file is one row of the table below: the header columns that
 * identify it, the columns it binds (by name, in the order of the statement's
 * placeholders) and a literal upsert statement. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/csv.h"
#include "common/lgcode.h"
#include "common/progress.h"
#include "common/utf8.h"
#include "common/zipcsv.h"
#include "registry/registry.h"

#define ABR_MAX_COLS 20

/* Column types: a key part that must not be empty (text, or an integer),
 * text ('' kept as ''), integer (''→NULL), real (''→NULL). */
enum col_type { C_KEY, C_KEYINT, C_TEXT, C_INT, C_REAL };

struct col {
	const char *name;
	enum col_type type;
};

struct abr_kind {
	const char *name;
	const char *const *must;     /* every one of these columns is in the header */
	const char *const *must_not; /* none of these is */
	const struct col *cols;      /* NULL-terminated */
	const char *sql;
};

#define COLS(...) ((const struct col[]){__VA_ARGS__, {NULL, C_TEXT}})
#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct abr_kind kinds[] = {
	{"parcel", NAMES("prc_id", "prc_num1"), NAMES("rep_lon"),
	 COLS({"lg_code", C_KEY}, {"machiaza_id", C_KEY}, {"prc_id", C_KEY}, {"prc_num1", C_TEXT},
	      {"prc_num2", C_TEXT}, {"prc_num3", C_TEXT}, {"rsdt_addr_flg", C_INT},
	      {"efct_date", C_TEXT}, {"ablt_date", C_TEXT}),
	 "INSERT INTO abr_parcel (lg_code, machiaza_id, prc_id, prc_num1, prc_num2, prc_num3, "
	 "rsdt_addr_flg, efct_date, ablt_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
	 "ON CONFLICT (lg_code, machiaza_id, prc_id) DO UPDATE SET prc_num1 = excluded.prc_num1, "
	 "prc_num2 = excluded.prc_num2, prc_num3 = excluded.prc_num3, "
	 "rsdt_addr_flg = excluded.rsdt_addr_flg, efct_date = excluded.efct_date, "
	 "ablt_date = excluded.ablt_date"},
	{"parcel_pos", NAMES("prc_id", "rep_lon"), NAMES("prc_num1"),
	 COLS({"lg_code", C_KEY}, {"machiaza_id", C_KEY}, {"prc_id", C_KEY}, {"rep_lon", C_REAL},
	      {"rep_lat", C_REAL}, {"rep_srid", C_TEXT}),
	 "INSERT INTO abr_parcel_pos (lg_code, machiaza_id, prc_id, rep_lon, rep_lat, rep_srid) "
	 "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (lg_code, machiaza_id, prc_id) DO UPDATE SET "
	 "rep_lon = excluded.rep_lon, rep_lat = excluded.rep_lat, rep_srid = excluded.rep_srid"},
	{"rsdt", NAMES("rsdt_id", "blk_num"), NAMES("rep_lon"),
	 COLS({"lg_code", C_KEY}, {"machiaza_id", C_KEY}, {"blk_id", C_KEY}, {"rsdt_id", C_KEY},
	      {"rsdt2_id", C_TEXT}, {"blk_num", C_TEXT}, {"rsdt_num", C_TEXT},
	      {"rsdt_num2", C_TEXT}, {"basic_rsdt_div", C_INT}, {"efct_date", C_TEXT},
	      {"ablt_date", C_TEXT}),
	 "INSERT INTO abr_rsdt (lg_code, machiaza_id, blk_id, rsdt_id, rsdt2_id, blk_num, "
	 "rsdt_num, rsdt_num2, basic_rsdt_div, efct_date, ablt_date) VALUES "
	 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lg_code, machiaza_id, blk_id, rsdt_id, "
	 "rsdt2_id) DO UPDATE SET blk_num = excluded.blk_num, rsdt_num = excluded.rsdt_num, "
	 "rsdt_num2 = excluded.rsdt_num2, basic_rsdt_div = excluded.basic_rsdt_div, "
	 "efct_date = excluded.efct_date, ablt_date = excluded.ablt_date"},
	{"rsdt_pos", NAMES("rsdt_id", "rep_lon"), NAMES("blk_num"),
	 COLS({"lg_code", C_KEY}, {"machiaza_id", C_KEY}, {"blk_id", C_KEY}, {"rsdt_id", C_KEY},
	      {"rsdt2_id", C_TEXT}, {"rep_lon", C_REAL}, {"rep_lat", C_REAL}, {"rep_srid", C_TEXT}),
	 "INSERT INTO abr_rsdt_pos (lg_code, machiaza_id, blk_id, rsdt_id, rsdt2_id, rep_lon, "
	 "rep_lat, rep_srid) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lg_code, machiaza_id, "
	 "blk_id, rsdt_id, rsdt2_id) DO UPDATE SET rep_lon = excluded.rep_lon, "
	 "rep_lat = excluded.rep_lat, rep_srid = excluded.rep_srid"},
	{"town", NAMES("machiaza_id", "oaza_cho", "machiaza_type"), NAMES("rep_lon"),
	 COLS({"lg_code", C_KEY}, {"machiaza_id", C_KEY}, {"machiaza_type", C_INT},
	      {"pref", C_TEXT}, {"county", C_TEXT}, {"city", C_TEXT}, {"ward", C_TEXT},
	      {"oaza_cho", C_TEXT}, {"oaza_cho_kana", C_TEXT}, {"chome", C_TEXT},
	      {"chome_kana", C_TEXT}, {"chome_number", C_INT}, {"koaza", C_TEXT},
	      {"koaza_kana", C_TEXT}, {"rsdt_addr_flg", C_KEYINT}, {"efct_date", C_TEXT},
	      {"ablt_date", C_TEXT}, {"post_code", C_TEXT}),
	 "INSERT INTO abr_town (lg_code, machiaza_id, machiaza_type, pref, county, city, ward, "
	 "oaza_cho, oaza_cho_kana, chome, chome_kana, chome_number, koaza, koaza_kana, "
	 "rsdt_addr_flg, efct_date, ablt_date, post_code) VALUES "
	 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lg_code, machiaza_id, "
	 "rsdt_addr_flg) DO UPDATE SET machiaza_type = excluded.machiaza_type, pref = excluded.pref, "
	 "county = excluded.county, city = excluded.city, ward = excluded.ward, "
	 "oaza_cho = excluded.oaza_cho, oaza_cho_kana = excluded.oaza_cho_kana, "
	 "chome = excluded.chome, chome_kana = excluded.chome_kana, "
	 "chome_number = excluded.chome_number, koaza = excluded.koaza, "
	 "koaza_kana = excluded.koaza_kana, efct_date = excluded.efct_date, ablt_date = excluded.ablt_date, "
	 "post_code = excluded.post_code"},
	{"town_pos", NAMES("machiaza_id", "rep_lon"), NAMES("prc_id", "rsdt_id"),
	 COLS({"lg_code", C_KEY}, {"machiaza_id", C_KEY}, {"rsdt_addr_flg", C_KEYINT},
	      {"rep_lon", C_REAL}, {"rep_lat", C_REAL}, {"rep_srid", C_TEXT}),
	 "INSERT INTO abr_town_pos (lg_code, machiaza_id, rsdt_addr_flg, rep_lon, rep_lat, "
	 "rep_srid) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (lg_code, machiaza_id, rsdt_addr_flg) "
	 "DO UPDATE SET "
	 "rep_lon = excluded.rep_lon, rep_lat = excluded.rep_lat, rep_srid = excluded.rep_srid"},
	{"city", NAMES("city", "ward", "pref"), NAMES("machiaza_id"),
	 COLS({"lg_code", C_KEY}, {"pref", C_TEXT}, {"county", C_TEXT}, {"county_kana", C_TEXT},
	      {"city", C_TEXT}, {"city_kana", C_TEXT}, {"city_roma", C_TEXT}, {"ward", C_TEXT},
	      {"ward_kana", C_TEXT}, {"ward_roma", C_TEXT}, {"efct_date", C_TEXT},
	      {"ablt_date", C_TEXT}),
	 "INSERT INTO abr_city (lg_code, pref, county, county_kana, city, city_kana, city_roma, "
	 "ward, ward_kana, ward_roma, efct_date, ablt_date) VALUES "
	 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lg_code) DO UPDATE SET "
	 "pref = excluded.pref, county = excluded.county, county_kana = excluded.county_kana, "
	 "city = excluded.city, city_kana = excluded.city_kana, city_roma = excluded.city_roma, "
	 "ward = excluded.ward, ward_kana = excluded.ward_kana, ward_roma = excluded.ward_roma, "
	 "efct_date = excluded.efct_date, ablt_date = excluded.ablt_date"},
	{"pref", NAMES("pref", "pref_kana"), NAMES("city", "machiaza_id"),
	 COLS({"lg_code", C_KEY}, {"pref", C_TEXT}, {"pref_kana", C_TEXT}, {"pref_roma", C_TEXT},
	      {"efct_date", C_TEXT}, {"ablt_date", C_TEXT}),
	 "INSERT INTO abr_pref (lg_code, pref, pref_kana, pref_roma, efct_date, ablt_date) VALUES "
	 "(?, ?, ?, ?, ?, ?) ON CONFLICT (lg_code) DO UPDATE SET pref = excluded.pref, "
	 "pref_kana = excluded.pref_kana, pref_roma = excluded.pref_roma, "
	 "efct_date = excluded.efct_date, ablt_date = excluded.ablt_date"},
	{"lg_pos", NAMES("lg_code", "rep_lon"), NAMES("machiaza_id", "city", "pref"),
	 COLS({"lg_code", C_KEY}, {"rep_lon", C_REAL}, {"rep_lat", C_REAL}, {"rep_srid", C_TEXT}),
	 "INSERT INTO abr_lg_pos (lg_code, rep_lon, rep_lat, rep_srid) VALUES (?, ?, ?, ?) "
	 "ON CONFLICT (lg_code) DO UPDATE SET rep_lon = excluded.rep_lon, "
	 "rep_lat = excluded.rep_lat, rep_srid = excluded.rep_srid"},
};

/* Every column name any kind looks at, for binding the header once. */
static const char *const all_names[] = {
	"lg_code",     "machiaza_id",    "machiaza_type", "prc_id",    "prc_num1",   "prc_num2",
	"prc_num3",    "rsdt_addr_flg",  "efct_date",     "ablt_date", "rep_lon",    "rep_lat",
	"rep_srid",    "blk_id",         "rsdt_id",       "rsdt2_id",  "blk_num",    "rsdt_num",
	"rsdt_num2",   "basic_rsdt_div", "pref",          "pref_kana", "pref_roma",  "county",
	"county_kana", "city",           "city_kana",     "city_roma", "ward",       "ward_kana",
	"ward_roma",   "oaza_cho",       "oaza_cho_kana", "chome",     "chome_kana", "chome_number",
	"koaza",       "koaza_kana",     "post_code",
};
#define NALL (sizeof all_names / sizeof all_names[0])

static int name_index(const char *name)
{
	for (size_t i = 0; i < NALL; i++)
		if (strcmp(all_names[i], name) == 0)
			return (int)i;
	return -1;
}

static const struct abr_kind *detect(const int idx[NALL])
{
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		bool ok = true;
		for (const char *const *m = kinds[k].must; *m && ok; m++)
			ok = idx[name_index(*m)] >= 0;
		for (const char *const *m = kinds[k].must_not; *m && ok; m++)
			ok = idx[name_index(*m)] < 0;
		if (ok)
			return &kinds[k];
	}
	return NULL;
}

/* Binds one CSV row; on a bad value returns -1 with a message. */
static int bind_row(struct db_stmt *st, const struct abr_kind *k, struct csv *csv, const int *cidx,
		    char *msg, size_t msglen)
{
	for (int i = 0; k->cols[i].name; i++) {
		const char *v = csv_get(csv, cidx[i]);
		const char *name = k->cols[i].name;
		if (!utf8_valid(v, strlen(v))) {
			snprintf(msg, msglen, "%s is not valid UTF-8", name);
			return -1;
		}
		switch (k->cols[i].type) {
		case C_KEY:
			if (!*v || strlen(v) > 32) {
				snprintf(msg, msglen, "%s is empty or too long", name);
				return -1;
			}
			if (i == 0 && !lgcode_valid(v)) {
				snprintf(msg, msglen, "lg_code %.16s fails its check digit", v);
				return -1;
			}
			db_bind_text(st, i + 1, v);
			break;
		case C_TEXT:
			db_bind_text(st, i + 1, v);
			break;
		case C_KEYINT:
		case C_INT:
		case C_REAL: {
			if (!*v && k->cols[i].type == C_KEYINT) {
				snprintf(msg, msglen, "%s is empty", name);
				return -1;
			}
			if (!*v) {
				db_bind_null(st, i + 1);
				break;
			}
			char *end = NULL;
			errno = 0;
			if (k->cols[i].type != C_REAL) {
				long long n = strtoll(v, &end, 10);
				if (errno || *end) {
					snprintf(msg, msglen, "%s is not an integer: %.32s", name,
						 v);
					return -1;
				}
				db_bind_int64(st, i + 1, n);
			} else {
				double d = strtod(v, &end);
				if (errno || *end || d < -360 || d > 360) {
					snprintf(msg, msglen, "%s is not a coordinate: %.32s", name,
						 v);
					return -1;
				}
				db_bind_double(st, i + 1, d);
			}
			break;
		}
		}
	}
	return 0;
}

int abr_reject_row(FILE *report, enum abr_on_error on_error, const char *path, unsigned long line,
		   const char *msg, char *err, size_t errlen)
{
	if (report)
		fprintf(report, "%s:%lu: %s\n", path, line, msg);
	if (on_error != ABR_ABORT)
		return 0;
	snprintf(err, errlen, "%s:%lu: %s; nothing of this file was imported", path, line, msg);
	return -1;
}

static int write_failed(struct db_conn *c, const char *path, uint64_t line, char *err,
			size_t errlen)
{
	snprintf(err, errlen, "%s:%lu: %s; nothing of this file was imported", path,
		 (unsigned long)line, db_errmsg(c));
	return -1;
}

int abr_queue_row(struct db_stmt *st, const char *path, unsigned long line, char *err,
		  size_t errlen)
{
	uint64_t bad = line;
	if (db_queue(st, line, &bad) < 0)
		return write_failed(db_stmt_conn(st), path, bad, err, errlen);
	return 0;
}

int abr_flush_rows(struct db_conn *c, const char *path, char *err, size_t errlen)
{
	uint64_t bad = 0;
	return db_flush(c, &bad) < 0 ? write_failed(c, path, bad, err, errlen) : 0;
}

int abr_import_file(struct app *app, const char *path, enum abr_on_error on_error, FILE *report,
		    FILE *progress, struct abr_import_stats *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	struct zipcsv *z = NULL;
	struct csv_opts opts = {.utf8 = false, .allow_ragged = false};
	int rc = zipcsv_open(path, NULL, &opts, &z, err, errlen);
	if (rc != 0)
		return -1;
	struct csv *csv = zipcsv_csv(z);
	int idx[NALL];
	struct db_conn *c = NULL;
	rc = -1;
	if (csv_header(csv, all_names, NALL, idx, false) != 0) {
		snprintf(err, errlen, "%s: cannot read the header: %s", path, csv_errmsg(csv));
		goto out;
	}
	if (idx[name_index("lg_code")] < 0) {
		snprintf(err, errlen, "%s: no lg_code column: not an ABR file", path);
		goto out;
	}
	const struct abr_kind *k = detect(idx);
	if (!k) {
		snprintf(err, errlen, "%s: not a kind of ABR file this version reads", path);
		goto out;
	}
	st->kind = k->name;
	int cidx[ABR_MAX_COLS];
	for (int i = 0; k->cols[i].name; i++)
		cidx[i] = idx[name_index(k->cols[i].name)];

	c = db_acquire(app->db);
	if (db_begin_write(c) != 0) {
		snprintf(err, errlen, "%s: cannot start a transaction: %s", path, db_errmsg(c));
		goto out;
	}
	struct db_stmt *stmt;
	if (db_prepare(c, k->sql, &stmt) != 0) {
		snprintf(err, errlen, "%s: %s (were migrations applied?)", path, db_errmsg(c));
		db_rollback(c);
		goto out;
	}
	double t0 = progress_now(), last = 0;
	int r;
	while ((r = csv_next(csv)) == 1) {
		char msg[160];
		if (bind_row(stmt, k, csv, cidx, msg, sizeof msg) != 0) {
			db_done(stmt);
			if (abr_reject_row(report, on_error, path, csv_line(csv), msg, err,
					   errlen) != 0) {
				db_rollback(c);
				goto out;
			}
			st->skipped++;
			continue;
		}
		if (abr_queue_row(stmt, path, csv_line(csv), err, errlen) != 0) {
			db_done(stmt);
			db_rollback(c);
			goto out;
		}
		st->rows++;
		if (progress && (st->rows & 4095) == 0 && progress_due(&last)) {
			uint64_t done, total;
			zipcsv_progress(z, &done, &total);
			progress_show(progress, zipcsv_member(z), progress_pct(done, total),
				      st->rows, last - t0);
		}
	}
	db_done(stmt);
	if (r < 0) {
		snprintf(err, errlen, "%s:%lu: %s; nothing of this file was imported", path,
			 csv_line(csv), csv_errmsg(csv));
		db_rollback(c);
		goto out;
	}
	if (abr_flush_rows(c, path, err, errlen) != 0 ||
	    (st->rows > 0 && registry_generation_bump(c, path, err, errlen) != 0)) {
		db_rollback(c);
		goto out;
	}
	if (db_commit(c) != 0) {
		snprintf(err, errlen, "%s: commit failed: %s", path, db_errmsg(c));
		goto out;
	}
	st->seconds = progress_now() - t0;
	if (progress) {
		uint64_t total, done;
		zipcsv_progress(z, &done, &total);
		progress_show(progress, zipcsv_member(z), total || done ? 100 : 0, st->rows,
			      st->seconds);
		fputc('\n', progress);
	}
	rc = 0;
out:
	if (c)
		db_release(c);
	zipcsv_close(z);
	return rc;
}
