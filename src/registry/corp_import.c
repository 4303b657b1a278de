/* Import of the National Tax Agency's 法人番号 bulk CSV (see corp.h): the
 * encoding is detected, CP932 is converted with iconv as a stream, each
 * record is checked column by column (one table) and upserted into the
 * history and, when it is the newest for its number, into corp and its
 * bigrams into corp_gram. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/checkdigit.h"
#include "common/csv.h"
#include "common/progress.h"
#include "common/textsrc.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "registry/corp.h"

#define MAX_FIELD 1000 /* bytes of one value */
#define NORM_MAX 8192  /* bytes of a folded name or furigana */
#define OLD_MAX 16384  /* bytes of a stored one (folded by an older version, maybe) */

/* How each column is checked and bound: a positive integer, a corporate
 * number (required or optional), a code of exactly `len` digits (optional
 * when opt), a date YYYY-MM-DD, a 0/1 flag, a required text, a text. Empty
 * optional values are bound as NULL. */
enum vtype { V_SEQ, V_CORPNO, V_DIGITS, V_DATE, V_FLAG, V_NAME, V_TEXT };

struct vcol {
	const char *name; /* the NTA's name, for messages */
	enum vtype type;
	unsigned char len; /* V_DIGITS: number of digits */
	bool opt;
};

static const struct vcol vcols[CORP_NCOLS] = {
	{"sequenceNumber", V_SEQ, 0, false},
	{"corporateNumber", V_CORPNO, 0, false},
	{"process", V_DIGITS, 2, false},
	{"correct", V_FLAG, 0, false},
	{"updateDate", V_DATE, 0, false},
	{"changeDate", V_DATE, 0, false},
	{"name", V_NAME, 0, false},
	{"nameImageId", V_TEXT, 0, true},
	{"kind", V_DIGITS, 3, false},
	{"prefectureName", V_TEXT, 0, true},
	{"cityName", V_TEXT, 0, true},
	{"streetNumber", V_TEXT, 0, true},
	{"addressImageId", V_TEXT, 0, true},
	{"prefectureCode", V_DIGITS, 2, true},
	{"cityCode", V_DIGITS, 3, true},
	{"postCode", V_DIGITS, 7, true},
	{"addressOutside", V_TEXT, 0, true},
	{"addressOutsideImageId", V_TEXT, 0, true},
	{"closeDate", V_DATE, 0, true},
	{"closeCause", V_DIGITS, 2, true},
	{"successorCorporateNumber", V_CORPNO, 0, true},
	{"changeCause", V_TEXT, 0, true},
	{"assignmentDate", V_DATE, 0, true},
	{"latest", V_FLAG, 0, false},
	{"enName", V_TEXT, 0, true},
	{"enPrefectureName", V_TEXT, 0, true},
	{"enCityName", V_TEXT, 0, true},
	{"enAddressOutside", V_TEXT, 0, true},
	{"furigana", V_TEXT, 0, true},
	{"hihyoji", V_FLAG, 0, true},
};

enum { COL_SEQ = 0, COL_NUMBER = 1, COL_PROCESS = 2, COL_NAME = 6, COL_FURIGANA = 28 };

/* 処理区分 as published by the NTA: 01 新規, 11 商号又は名称の変更, 12 国内所在地
 * の変更, 13 国外所在地の変更, 21 登記記録の閉鎖等, 22 登記記録の閉鎖等の抹消,
 * 31 登記記録の復活等, 32 登記記録の復活等の抹消, 71 吸収合併, 72 吸収合併無効,
 * 81 商号の登記の抹消, 99 削除. */
static const char *const processes[] = {"01", "11", "12", "13", "21", "22", "31",
					"32", "71", "72", "81", "99", NULL};

/* Placeholders in column order: the 30 columns (and, for corp, the two folded forms). */
static const char history_sql[] =
	"INSERT INTO corp_history (sequence_number, corporate_number, process, correct, "
	"update_date, change_date, name, name_image_id, kind, prefecture_name, city_name, "
	"street_number, address_image_id, prefecture_code, city_code, post_code, address_outside, "
	"address_outside_image_id, close_date, close_cause, successor_corporate_number, "
	"change_cause, assignment_date, latest, en_name, en_prefecture_name, en_city_name, "
	"en_address_outside, furigana, hihyoji) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (corporate_number, "
	"sequence_number) DO UPDATE SET process = excluded.process, correct = excluded.correct, "
	"update_date = excluded.update_date, change_date = excluded.change_date, name = "
	"excluded.name, name_image_id = excluded.name_image_id, kind = excluded.kind, "
	"prefecture_name = excluded.prefecture_name, city_name = excluded.city_name, street_number "
	"= excluded.street_number, address_image_id = excluded.address_image_id, prefecture_code = "
	"excluded.prefecture_code, city_code = excluded.city_code, post_code = excluded.post_code, "
	"address_outside = excluded.address_outside, address_outside_image_id = "
	"excluded.address_outside_image_id, close_date = excluded.close_date, close_cause = "
	"excluded.close_cause, successor_corporate_number = excluded.successor_corporate_number, "
	"change_cause = excluded.change_cause, assignment_date = excluded.assignment_date, latest ="
	" excluded.latest, en_name = excluded.en_name, en_prefecture_name = "
	"excluded.en_prefecture_name, en_city_name = excluded.en_city_name, en_address_outside = "
	"excluded.en_address_outside, furigana = excluded.furigana, hihyoji = excluded.hihyoji";

/* The WHERE keeps the newest record: an older one imported later changes nothing. */
static const char corp_sql[] =
	"INSERT INTO corp (sequence_number, corporate_number, process, correct, update_date, "
	"change_date, name, name_image_id, kind, prefecture_name, city_name, street_number, "
	"address_image_id, prefecture_code, city_code, post_code, address_outside, "
	"address_outside_image_id, close_date, close_cause, successor_corporate_number, "
	"change_cause, assignment_date, latest, en_name, en_prefecture_name, en_city_name, "
	"en_address_outside, furigana, hihyoji, name_norm, furigana_norm) VALUES (?, ?, ?, ?, ?, ?,"
	" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT"
	" (corporate_number) DO UPDATE SET sequence_number = excluded.sequence_number, process = "
	"excluded.process, correct = excluded.correct, update_date = excluded.update_date, "
	"change_date = excluded.change_date, name = excluded.name, name_image_id = "
	"excluded.name_image_id, kind = excluded.kind, prefecture_name = excluded.prefecture_name, "
	"city_name = excluded.city_name, street_number = excluded.street_number, address_image_id ="
	" excluded.address_image_id, prefecture_code = excluded.prefecture_code, city_code = "
	"excluded.city_code, post_code = excluded.post_code, address_outside = "
	"excluded.address_outside, address_outside_image_id = excluded.address_outside_image_id, "
	"close_date = excluded.close_date, close_cause = excluded.close_cause, "
	"successor_corporate_number = excluded.successor_corporate_number, change_cause = "
	"excluded.change_cause, assignment_date = excluded.assignment_date, latest = "
	"excluded.latest, en_name = excluded.en_name, en_prefecture_name = "
	"excluded.en_prefecture_name, en_city_name = excluded.en_city_name, en_address_outside = "
	"excluded.en_address_outside, furigana = excluded.furigana, hihyoji = excluded.hihyoji, "
	"name_norm = excluded.name_norm, furigana_norm = excluded.furigana_norm WHERE "
	"corp.sequence_number <= excluded.sequence_number";

/* corp_gram is brought up to date once per file, not per record: a
 * temporary table notes each number whose folded texts the file changes,
 * with the texts corp held for it before (NULL: the number is new); at the end the
 * bigrams of the numbers whose texts changed are replaced, the new ones in
 * one sorted INSERT (random inserts into the index cost twice as much). */
static const char touched_create[] =
	"CREATE TEMP TABLE IF NOT EXISTS corp_touched (corporate_number TEXT PRIMARY KEY, "
	"name_norm TEXT, furigana_norm TEXT); DELETE FROM corp_touched";
/* Notes number (bound twice) unless corp already holds the folded name and
 * furigana bound third and fourth: a record that leaves them as they are
 * (an address change, a file imported again) costs the index nothing. */
static const char touch_sql[] =
	"INSERT INTO corp_touched (corporate_number, name_norm, furigana_norm) "
	"SELECT CAST(? AS TEXT), c.name_norm, c.furigana_norm FROM (SELECT 1 AS one) AS o "
	"LEFT JOIN corp c ON c.corporate_number = ? WHERE c.corporate_number IS NULL OR "
	"c.name_norm <> ? OR c.furigana_norm <> ? ON CONFLICT (corporate_number) DO NOTHING";
#define TOUCHED_CHANGED                                                                            \
	"FROM corp_touched k JOIN corp c ON c.corporate_number = k.corporate_number WHERE "        \
	"(k.name_norm IS NULL OR k.name_norm <> c.name_norm OR "                                   \
	"k.furigana_norm <> c.furigana_norm)"
static const char changed_sql[] =
	"SELECT c.corporate_number, k.name_norm, k.furigana_norm, "
	"c.name_norm, c.furigana_norm " TOUCHED_CHANGED " AND k.name_norm IS NOT NULL";
static const char gram_del_sql[] = "DELETE FROM corp_gram WHERE gram = ? AND corporate_number = ?";
static const char gram_fill_sql[] =
	CORP_GRAM_INSERT("SELECT c.corporate_number, c.name_norm " TOUCHED_CHANGED
			 " UNION ALL SELECT c.corporate_number, c.furigana_norm " TOUCHED_CHANGED);

static int gram_cmp(const void *x, const void *y)
{
	return strcmp(((const struct corp_gram *)x)->s, ((const struct corp_gram *)y)->s);
}

static const char *text_or_empty(struct db_stmt *st, int i)
{
	const char *v = db_col_text(st, i);
	return v ? v : "";
}

/* Replaces the bigrams of the numbers whose folded texts the file changed:
 * deletes those only the old texts had (computed here, each by its key),
 * then inserts the new texts' bigrams in one statement. */
static int gram_sync(struct db_conn *c)
{
	struct corp_gram *a = xmalloc(2 * OLD_MAX * sizeof *a),
			 *b = xmalloc(2 * OLD_MAX * sizeof *b);
	struct db_stmt *ch = NULL, *del = NULL;
	int rc = -1, r;
	if (db_prepare(c, changed_sql, &ch) != 0 || db_prepare(c, gram_del_sql, &del) != 0)
		goto out;
	while ((r = db_step(ch)) == DB_ROW) {
		const char *num = db_col_text(ch, 0), *t[4];
		size_t len[4];
		for (int i = 0; i < 4; i++) {
			t[i] = text_or_empty(ch, i + 1);
			len[i] = strlen(t[i]);
			if (len[i] > OLD_MAX)
				goto out;
		}
		size_t na = corp_bigrams(t[0], len[0], t[1], len[1], a);
		size_t nb = corp_bigrams(t[2], len[2], t[3], len[3], b);
		for (size_t i = 0; i < na; i++) {
			if (bsearch(&a[i], b, nb, sizeof *b, gram_cmp))
				continue; /* the new texts have it too */
			db_bind_text(del, 1, a[i].s);
			db_bind_text(del, 2, num);
			int s = db_step(del);
			db_done(del);
			if (s < 0)
				goto out;
		}
	}
	db_done(ch);
	if (r < 0 || db_exec(c, gram_fill_sql) != 0 || db_exec(c, "DELETE FROM corp_touched") != 0)
		goto out;
	rc = 0;
out:
	db_done(ch);
	db_done(del);
	free(a);
	free(b);
	return rc;
}

/* ---- checks ---- */

static bool all_digits(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

/* YYYY-MM-DD, a day that exists. */
static bool valid_date(const char *v)
{
	if (strlen(v) != 10 || v[4] != '-' || v[7] != '-' || !all_digits(v, 4) ||
	    !all_digits(v + 5, 2) || !all_digits(v + 8, 2))
		return false;
	int y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
	int m = (v[5] - '0') * 10 + (v[6] - '0'), d = (v[8] - '0') * 10 + (v[9] - '0');
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1800 || m < 1 || m > 12 || d < 1)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/* Checks one record and binds it to both statements. */
static int bind_record(struct csv *csv, struct db_stmt *hs, struct db_stmt *cs, struct buf *nn,
		       struct buf *fn, char *msg, size_t msglen)
{
	if (csv_nfields(csv) != CORP_NCOLS) {
		snprintf(msg, msglen, "%zu columns instead of %d", csv_nfields(csv), CORP_NCOLS);
		return -1;
	}
	for (int i = 0; i < CORP_NCOLS; i++) {
		const struct vcol *k = &vcols[i];
		const char *v = csv_field(csv, (size_t)i);
		size_t n = csv_field_len(csv, (size_t)i);
		if (n > MAX_FIELD || !utf8_clean_line(v, n)) {
			snprintf(msg, msglen, "%s is too long or not clean UTF-8 text", k->name);
			return -1;
		}
		if (n == 0 && (k->opt || k->type == V_TEXT)) {
			db_bind_null(hs, i + 1);
			db_bind_null(cs, i + 1);
			continue;
		}
		if (n == 0) {
			snprintf(msg, msglen, "%s is empty", k->name);
			return -1;
		}
		switch (k->type) {
		case V_SEQ:
			if (n > 18 || !all_digits(v, n)) {
				snprintf(msg, msglen, "sequenceNumber is not a number: %.24s", v);
				return -1;
			}
			db_bind_int64(hs, i + 1, strtoll(v, NULL, 10));
			db_bind_int64(cs, i + 1, strtoll(v, NULL, 10));
			continue;
		case V_CORPNO: {
			int rc = checkdigit_corporate_check(v, n);
			if (rc != 0) {
				snprintf(msg, msglen, "%s %.20s: %s", k->name, v,
					 rc == CHECKDIGIT_EMISMATCH ? "wrong check digit" :
								      checkdigit_strerror(rc));
				return -1;
			}
			break;
		}
		case V_DIGITS:
			if (n != k->len || !all_digits(v, n)) {
				snprintf(msg, msglen, "%s is not %d digits: %.20s", k->name, k->len,
					 v);
				return -1;
			}
			if (i == COL_PROCESS) {
				const char *const *p = processes;
				while (*p && strcmp(*p, v) != 0)
					p++;
				if (!*p) {
					snprintf(msg, msglen, "unknown process %s", v);
					return -1;
				}
			}
			break;
		case V_DATE:
			if (!valid_date(v)) {
				snprintf(msg, msglen, "%s is not a date YYYY-MM-DD: %.20s", k->name,
					 v);
				return -1;
			}
			break;
		case V_FLAG:
			if (n != 1 || (v[0] != '0' && v[0] != '1')) {
				snprintf(msg, msglen, "%s is not 0 or 1: %.20s", k->name, v);
				return -1;
			}
			db_bind_int64(hs, i + 1, v[0] - '0');
			db_bind_int64(cs, i + 1, v[0] - '0');
			continue;
		case V_NAME:
		case V_TEXT:
			break;
		}
		db_bind_textn(hs, i + 1, v, n);
		db_bind_textn(cs, i + 1, v, n);
	}
	buf_reset(nn);
	buf_reset(fn);
	const char *name = csv_field(csv, COL_NAME), *kana = csv_field(csv, COL_FURIGANA);
	if (corp_fold(nn, name, strlen(name)) != 0 || corp_fold(fn, kana, strlen(kana)) != 0) {
		snprintf(msg, msglen, "name or furigana cannot be normalized");
		return -1;
	}
	db_bind_textn(cs, CORP_NCOLS + 1, buf_cstr(nn), nn->len);
	db_bind_textn(cs, CORP_NCOLS + 2, buf_cstr(fn), fn->len);
	return 0;
}

int corp_import_file(struct app *app, const char *path, enum abr_on_error on_error, FILE *report,
		     FILE *progress, struct corp_import_stats *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	const char *encoding = NULL;
	struct textsrc *s = textsrc_open(path, &encoding, err, errlen);
	if (!s)
		return -1;
	st->encoding = encoding;
	struct csv_opts opts = {.allow_ragged = true, .max_record = 16384};
	struct csv *csv = csv_new(textsrc_read, s, &opts);
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *hs = NULL, *cs = NULL, *ts = NULL;
	struct buf nn, fn;
	buf_init(&nn, NORM_MAX);
	buf_init(&fn, NORM_MAX);
	int rc = -1;
	bool in_tx = false, sqlite = db_kind(app->db) == DB_SQLITE;
	/* A big file rewrites the same index pages again and again: with
	 * SQLite's default 2 MB page cache they go to the file and back (half
	 * the time of a 1,000,000-record import). Two sorter threads sort the
	 * bigrams of the file faster (a fifth). Both restored at the end. */
	if (sqlite)
		db_exec(c, "PRAGMA cache_size = -262144; PRAGMA threads = 2");
	if (db_begin_write(c) != 0) {
		snprintf(err, errlen, "%s: cannot start a transaction: %s", path, db_errmsg(c));
		goto out;
	}
	in_tx = true;
	if (db_exec(c, touched_create) != 0 || db_prepare(c, history_sql, &hs) != 0 ||
	    db_prepare(c, corp_sql, &cs) != 0 || db_prepare(c, touch_sql, &ts) != 0) {
		snprintf(err, errlen, "%s: %s (were migrations applied?)", path, db_errmsg(c));
		goto out;
	}
	double t0 = progress_now(), last = 0;
	int r;
	while ((r = csv_next(csv)) == 1) {
		char msg[200];
		if (bind_record(csv, hs, cs, &nn, &fn, msg, sizeof msg) != 0) {
			db_done(hs);
			db_done(cs);
			if (abr_reject_row(report, on_error, path, csv_line(csv), msg, err,
					   errlen) != 0)
				goto out;
			st->skipped++;
			continue;
		}
		const char *number = csv_field(csv, COL_NUMBER);
		db_bind_text(ts, 1, number);
		db_bind_text(ts, 2, number);
		db_bind_textn(ts, 3, buf_cstr(&nn), nn.len);
		db_bind_textn(ts, 4, buf_cstr(&fn), fn.len);
		unsigned long line = csv_line(csv);
		if (abr_queue_row(ts, path, line, err, errlen) != 0 ||
		    abr_queue_row(hs, path, line, err, errlen) != 0 ||
		    abr_queue_row(cs, path, line, err, errlen) != 0)
			goto out;
		st->rows++;
		if (progress && (st->rows & 4095) == 0 && progress_due(&last))
			progress_show(progress, NULL, textsrc_pct(s), st->rows, last - t0);
	}
	if (r < 0) {
		textsrc_csv_error(s, csv, path, err, errlen);
		goto out;
	}
	if (abr_flush_rows(c, path, err, errlen) != 0)
		goto out;
	if (gram_sync(c) != 0) {
		snprintf(err, errlen, "%s: name index: %s; nothing of this file was imported", path,
			 db_errmsg(c));
		goto out;
	}
	if (db_commit(c) != 0) {
		snprintf(err, errlen, "%s: commit failed: %s", path, db_errmsg(c));
		goto out;
	}
	in_tx = false;
	st->seconds = progress_now() - t0;
	if (progress) {
		progress_show(progress, NULL, 100, st->rows, st->seconds);
		fputc('\n', progress);
	}
	rc = 0;
out:
	db_done(ts);
	db_done(hs);
	db_done(cs);
	if (in_tx)
		db_rollback(c);
	if (sqlite)
		db_exec(c, "PRAGMA cache_size = -2000; PRAGMA threads = 0"); /* SQLite's defaults */
	db_release(c);
	buf_release(&nn);
	buf_release(&fn);
	csv_free(csv);
	textsrc_close(s);
	return rc;
}
