/* CSV import and export of the resident record. Import reads UTF-8, UTF-8
 * with a BOM or CP932 (common/textsrc.c), binds columns by header name,
 * accepts dates in ISO or 和暦, and loads through resident_bulk_*; a
 * resident whose 住民票コード is already registered is left as it is, so a
 * file imported twice changes nothing. Export writes the same format. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "app/keys.h"
#include "common/csv.h"
#include "common/lgcode.h"
#include "common/progress.h"
#include "common/textsrc.h"
#include "common/wareki.h"
#include "resident/resident_internal.h"

#define MAX_FIELD 1000 /* bytes of one value */

enum {
	C_JUMINHYO,
	C_ATENA,
	C_SETAI,
	C_NAME,
	C_KANA,
	C_BIRTH,
	C_SEX,
	C_ZOKUGARA,
	C_ADDRESS,
	C_MACHIAZA,
	C_BLK,
	C_RSDT,
	C_PRC,
	C_MYNUMBER,
	C_EVENT,
	C_MOVED_IN,
	NCOLS
};

static const char *const col_names[NCOLS] = {
	"juminhyo_code", "atena_no", "setai_no", "name",        "name_kana", "birth",
	"sex",           "zokugara", "address",  "machiaza_id", "blk_id",    "rsdt_id",
	"prc_id",        "mynumber", "event",    "moved_in",
};
/* Columns a file must have; the others may be absent. */
static const bool col_required[NCOLS] = {true, true, true, true, true, true, true};

/* A date in ISO or 和暦 → ISO in out; 0 or -EINVAL with msg naming field. */
static int parse_date(const char *v, const char *field, const char *example,
		      char out[RES_DATE_LEN + 1], char *msg, size_t msglen)
{
	struct wareki_date d;
	size_t n = strlen(v);
	char wmsg[WAREKI_MSG_MAX];
	int rc = wareki_parse_iso(v, n, &d, NULL, 0);
	if (rc != 0 && n > 0 && (v[0] < '0' || v[0] > '9'))
		rc = wareki_parse(v, n, &d, wmsg, sizeof wmsg);
	if (rc == 0 && wareki_format_iso(&d, out, RES_DATE_LEN + 1) == RES_DATE_LEN)
		return 0;
	snprintf(msg, msglen, "%sの形式が正しくありません（例: %s）。", field, example);
	return -EINVAL;
}

/* Checks one record and adds it. Returns bulk's code, or -EINVAL with msg. */
static int import_row(struct resident_bulk *b, struct csv *csv, const int idx[NCOLS],
		      const char *lg_code, char *msg, size_t msglen)
{
	const char *v[NCOLS];
	for (int i = 0; i < NCOLS; i++) {
		v[i] = csv_get(csv, idx[i]);
		if (strlen(v[i]) > MAX_FIELD) {
			snprintf(msg, msglen, "%s が長すぎます（%d バイトまで）。", col_names[i],
				 MAX_FIELD);
			return -EINVAL;
		}
	}
	char birth[RES_DATE_LEN + 1], moved_in[RES_DATE_LEN + 1];
	if (parse_date(v[C_BIRTH], "生年月日", "1980-04-01 または 昭和55年4月1日", birth, msg,
		       msglen) != 0)
		return -EINVAL;
	int sex = 0;
	const char *sx = v[C_SEX];
	if (!strcmp(sx, "1") || !strcmp(sx, "男"))
		sex = 1;
	else if (!strcmp(sx, "2") || !strcmp(sx, "女"))
		sex = 2;
	else if (!strcmp(sx, "9"))
		sex = 9;
	enum resident_event ev = RES_EV_TENNYU;
	if (*v[C_EVENT] && resident_event_parse(v[C_EVENT], &ev) != 0) {
		snprintf(msg, msglen, "event は tennyu（転入）か shussei（出生）です。");
		return -EINVAL;
	}
	if (*v[C_MOVED_IN]) {
		if (parse_date(v[C_MOVED_IN], "異動日 (moved_in)",
			       "2020-04-01 または 令和2年4月1日", moved_in, msg, msglen) != 0)
			return -EINVAL;
	} else if (*v[C_EVENT] && ev != RES_EV_SHUSSEI) {
		snprintf(msg, msglen, "転入の記録には異動日 (moved_in) が必要です。");
		return -EINVAL;
	} else {
		/* no date: a resident since birth */
		ev = RES_EV_SHUSSEI;
		memcpy(moved_in, birth, sizeof moved_in);
	}
	struct resident_rec r = {
		.lg_code = lg_code,
		.juminhyo_code = v[C_JUMINHYO],
		.atena_no = v[C_ATENA],
		.setai_no = v[C_SETAI],
		.name = v[C_NAME],
		.name_kana = v[C_KANA],
		.birth = birth,
		.sex = sex,
		.zokugara = v[C_ZOKUGARA],
		.address = v[C_ADDRESS],
		.machiaza_id = v[C_MACHIAZA],
		.blk_id = v[C_BLK],
		.rsdt_id = v[C_RSDT],
		.prc_id = v[C_PRC],
		.status = RES_ST_ACTIVE,
	};
	return resident_bulk_add(b, &r, *v[C_MYNUMBER] ? v[C_MYNUMBER] : NULL, ev, moved_in, msg,
				 msglen);
}

int resident_import_csv(struct app *app, const char *lg_code, const char *path,
			enum abr_on_error on_error, FILE *report, FILE *progress,
			struct resident_import_stats *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	if (!lg_code || !lgcode_valid(lg_code)) {
		snprintf(err, errlen, "%s is not a valid 全国地方公共団体コード",
			 lg_code ? lg_code : "");
		return -1;
	}
	const char *encoding = NULL;
	struct textsrc *s = textsrc_open(path, &encoding, err, errlen);
	if (!s)
		return -1;
	st->encoding = encoding;
	struct csv_opts opts = {.allow_ragged = true, .max_record = 16384};
	struct csv *csv = csv_new(textsrc_read, s, &opts);
	struct db_conn *c = db_acquire(app->db);
	struct resident_bulk *b = NULL;
	int idx[NCOLS];
	int rc = -1, r;
	r = csv_header(csv, col_names, NCOLS, idx, false);
	if (r != 0) {
		snprintf(err, errlen, "%s: no header row (%s)", path, csv_errmsg(csv));
		goto out;
	}
	for (int i = 0; i < NCOLS; i++)
		if (col_required[i] && idx[i] < 0) {
			snprintf(err, errlen, "%s:1: the header lacks column %s", path,
				 col_names[i]);
			goto out;
		}
	if (resident_bulk_begin(app, c, &b) != 0) {
		snprintf(err, errlen, "%s: cannot start a transaction (were migrations applied?)",
			 path);
		goto out;
	}
	double t0 = progress_now(), last = 0;
	while ((r = csv_next(csv)) == 1) {
		char msg[256];
		int ar = import_row(b, csv, idx, lg_code, msg, sizeof msg);
		if (ar == -EEXIST) {
			st->existing++;
			continue;
		}
		if (ar == -EIO) {
			snprintf(err, errlen, "%s:%lu: %s; nothing of this file was imported", path,
				 csv_line(csv), msg);
			goto out;
		}
		if (ar != 0) {
			if (abr_reject_row(report, on_error, path, csv_line(csv), msg, err,
					   errlen) != 0)
				goto out;
			st->skipped++;
			continue;
		}
		st->rows++;
		if (progress && (st->rows & 1023) == 0 && progress_due(&last))
			progress_show(progress, NULL, textsrc_pct(s), st->rows, last - t0);
	}
	if (r < 0) {
		if (textsrc_bad(s))
			snprintf(err, errlen,
				 "%s:%lu: not CP932 text; nothing of this file was imported", path,
				 csv_line(csv));
		else
			snprintf(err, errlen, "%s: %s; nothing of this file was imported", path,
				 csv_errmsg(csv));
		goto out;
	}
	struct resident_bulk *done = b;
	b = NULL;
	if (resident_bulk_end(done, true) != 0) {
		snprintf(err, errlen, "%s: commit failed; nothing of this file was imported", path);
		goto out;
	}
	st->seconds = progress_now() - t0;
	if (progress) {
		progress_show(progress, NULL, 100, st->rows, st->seconds);
		fputc('\n', progress);
	}
	rc = 0;
out:
	if (b)
		resident_bulk_end(b, false);
	db_release(c);
	csv_free(csv);
	textsrc_close(s);
	return rc;
}

/* ---- export ---- */

/* One field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void put_field(FILE *out, const char *v, bool last)
{
	if (!v)
		v = "";
	if (strpbrk(v, ",\"\r\n")) {
		fputc('"', out);
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		fputc('"', out);
	} else {
		fputs(v, out);
	}
	fputs(last ? "\r\n" : ",", out);
}

int resident_export_csv(struct app *app, const struct resident_actor *who, const char *as_of,
			bool with_mynumber, FILE *out, char *err, size_t errlen)
{
	char day[RES_DATE_LEN + 1];
	if (!res_actor_ok(who, true)) {
		snprintf(err, errlen, "an export needs a municipality, an actor and a purpose");
		return -EINVAL;
	}
	if (as_of && !res_valid_date(as_of)) {
		snprintf(err, errlen, "--as-of is not a date YYYY-MM-DD: %.20s", as_of);
		return -EINVAL;
	}
	if (as_of)
		snprintf(day, sizeof day, "%s", as_of);
	else
		res_today(day);
	char detail[96];
	snprintf(detail, sizeof detail, "CSV export of the residents as of %s%s", day,
		 with_mynumber ? ", with My Numbers" : "");
	if (res_audit(app, who, "resident.export", NULL, "ok", detail) != 0) {
		snprintf(err, errlen, "the audit entry could not be written: nothing exported");
		return -EIO;
	}
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st;
	unsigned char key[32];
	keys_derive(app->keys, KEY_MYNUMBER_ENC, key);
	int rc = -EIO, s;
	uint64_t n = 0;
	if (db_prepare(c,
		       "SELECT v.juminhyo_code, v.atena_no, v.setai_no, v.name, v.name_kana, "
		       "v.birth, v.sex, v.zokugara, v.address, v.machiaza_id, v.blk_id, v.rsdt_id, "
		       "v.prc_id, r.mynumber_enc, r.first_event, r.moved_in FROM residents r JOIN "
		       "resident_versions v ON v.resident_id = r.id WHERE r.lg_code = ? AND "
		       "v.valid_from <= ? AND (v.valid_to IS NULL OR ? < v.valid_to) AND v.status "
		       "= 1 ORDER BY v.setai_no, v.atena_no",
		       &st) != 0) {
		snprintf(err, errlen, "%s", db_errmsg(c));
		goto out;
	}
	db_bind_text(st, 1, who->lg_code);
	db_bind_text(st, 2, day);
	db_bind_text(st, 3, day);
	for (int i = 0; i < NCOLS; i++)
		put_field(out, col_names[i], i == NCOLS - 1);
	while ((s = db_step(st)) == DB_ROW) {
		char sex[4], mn[13] = "";
		snprintf(sex, sizeof sex, "%d", (int)db_col_int64(st, 6));
		for (int i = 0; i < 13; i++)
			put_field(out, i == 6 ? sex : db_col_text(st, i), false);
		size_t bn = 0;
		const unsigned char *blob = db_col_blob(st, 13, &bn);
		if (with_mynumber && blob && bn > 0 &&
		    res_mn_open(key, who->lg_code, db_col_text(st, 0), blob, bn, mn) != 0) {
			snprintf(err, errlen, "the My Number of %s does not decrypt",
				 db_col_text(st, 0));
			db_done(st);
			goto out;
		}
		put_field(out, mn, false);
		sodium_memzero(mn, sizeof mn);
		put_field(out, db_col_text(st, 14), false);
		put_field(out, db_col_text(st, 15), true);
		n++;
	}
	db_done(st);
	if (s < 0) {
		snprintf(err, errlen, "%s", db_errmsg(c));
		goto out;
	}
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "write error: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(key, sizeof key);
	db_release(c);
	return rc;
}
