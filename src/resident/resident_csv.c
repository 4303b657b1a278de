/* CSV import and export of the resident record. Import reads UTF-8, UTF-8
 * with a BOM or CP932 (common/textsrc.c), binds columns by header name in
 * English or Japanese (住民票コード, 氏名カナ, フリガナ …), accepts dates in
 * ISO or 和暦, and loads through resident_bulk_*; a resident whose 住民票コード
 * is already registered is left as it is, so a file imported twice changes
 * nothing. Export writes the same format, with either header. */
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
/* The Japanese header `export --header ja` writes; accepted on import. */
static const char *const col_ja[NCOLS] = {
	"住民票コード", "宛名番号", "世帯番号", "氏名",   "氏名カナ", "生年月日",
	"性別",         "続柄",     "住所",     "町字ID", "街区ID",   "住居ID",
	"地番ID",       "個人番号", "異動事由", "異動日",
};
/* Other names municipal systems give a column. */
static const struct {
	int col;
	const char *name;
} col_extra[] = {
	{C_KANA, "氏名（カナ）"},     {C_KANA, "フリガナ"},
	{C_KANA, "カナ氏名"},         {C_ZOKUGARA, "世帯主との続柄"},
	{C_MYNUMBER, "マイナンバー"}, {C_MOVED_IN, "住民となった日"},
};
#define NEXTRA (sizeof col_extra / sizeof col_extra[0])
#define NALIASES (2 * NCOLS + NEXTRA)
#define MAX_HEADER_FOLD 256 /* bytes of a folded header name; longer matches nothing */

/* Columns a file must have; the others may be absent. */
static const bool col_required[NCOLS] = {true, true, true, true, true, true, true};

/* Name number a of the names a header may give a column (English, then
 * Japanese, then col_extra): its column, the name in *name. */
static int alias(size_t a, const char **name)
{
	if (a < NCOLS) {
		*name = col_names[a];
		return (int)a;
	}
	if (a < 2 * NCOLS) {
		*name = col_ja[a - NCOLS];
		return (int)(a - NCOLS);
	}
	*name = col_extra[a - 2 * NCOLS].name;
	return col_extra[a - 2 * NCOLS].col;
}

/* Reads the header record and binds each column to the field whose name,
 * folded by resident_fold (width, kana, spaces, ASCII case), is one of its
 * names; fields named otherwise are ignored. Returns 0, or -1 with err when
 * there is no header, a column is named twice (by any two of its names) or
 * a required column is missing. */
static int bind_header(struct csv *csv, const char *path, int idx[NCOLS], char *err, size_t errlen)
{
	struct buf names[NALIASES], f;
	const char *by[NCOLS] = {0}; /* the name that bound each column */
	int rc = -1, r = csv_next(csv);
	for (int i = 0; i < NCOLS; i++)
		idx[i] = -1;
	if (r <= 0) {
		snprintf(err, errlen, "%s: no header row (%s)", path,
			 r == 0 ? "the file is empty" : csv_errmsg(csv));
		return -1;
	}
	buf_init(&f, MAX_HEADER_FOLD);
	for (size_t a = 0; a < NALIASES; a++)
		buf_init(&names[a], MAX_HEADER_FOLD);
	for (size_t a = 0; a < NALIASES; a++) {
		const char *name;
		alias(a, &name);
		/* short valid UTF-8: only a failing ICU makes this fail */
		if (resident_fold(&names[a], name, strlen(name)) != 0) {
			snprintf(err, errlen, "%s: cannot fold the header name %s", path, name);
			goto out;
		}
	}
	for (size_t k = 0; k < csv_nfields(csv); k++) {
		buf_reset(&f);
		/* a field that does not fold (not UTF-8, too long) names no column */
		if (resident_fold(&f, csv_field(csv, k), csv_field_len(csv, k)) != 0 || f.len == 0)
			continue;
		for (size_t a = 0; a < NALIASES; a++) {
			if (names[a].len != f.len || memcmp(names[a].p, f.p, f.len) != 0)
				continue;
			const char *name;
			int col = alias(a, &name);
			if (idx[col] >= 0) {
				snprintf(err, errlen,
					 "%s:%lu: 列「%s」（%d列目）と列「%s」（%zu列目）はどちらも"
					 "%s (%s) の列です。どちらか一方にしてください。",
					 path, csv_line(csv), by[col], idx[col] + 1, name, k + 1,
					 col_ja[col], col_names[col]);
				goto out;
			}
			idx[col] = (int)k;
			by[col] = name;
			break;
		}
	}
	for (int i = 0; i < NCOLS; i++)
		if (col_required[i] && idx[i] < 0) {
			snprintf(err, errlen, "%s:%lu: 見出し行に %s (%s) の列がありません。", path,
				 csv_line(csv), col_ja[i], col_names[i]);
			goto out;
		}
	rc = 0;
out:
	for (size_t a = 0; a < NALIASES; a++)
		buf_release(&names[a]);
	buf_release(&f);
	return rc;
}

/* v folded by resident_fold into out (at most outlen - 1 bytes): true, or
 * false when it does not fold or is longer. */
static bool fold_value(const char *v, char *out, size_t outlen)
{
	struct buf f;
	buf_init(&f, outlen - 1);
	bool ok = resident_fold(&f, v, strlen(v)) == 0;
	snprintf(out, outlen, "%s", ok && f.len ? f.p : "");
	buf_release(&f);
	return ok;
}

/* 性別 as the 住民票 codes it (1, 2, 9) or as clerks write it (男, 女性,
 * 未記載, full-width digits); 0 when it is none of these. */
static int parse_sex(const char *v)
{
	static const struct {
		int sex;
		const char *name;
	} names[] = {
		{1, "1"},  {1, "男"},   {1, "男性"}, {2, "2"},
		{2, "女"}, {2, "女性"}, {9, "9"},    {9, "未記載"},
	};
	char f[32];
	if (!fold_value(v, f, sizeof f))
		return 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(f, names[i].name))
			return names[i].sex;
	return 0;
}

/* 異動事由 as a code (tennyu, Tennyu) or in Japanese (転入, 出生), with
 * width and spaces folded. 0 or -EINVAL. */
static int parse_event(const char *v, enum resident_event *ev)
{
	char f[64];
	if (!fold_value(v, f, sizeof f))
		return -EINVAL;
	return resident_event_parse(f, ev);
}

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

/* True when v, after any leading 's, starts with = + - or @: a cell a
 * spreadsheet would take as a formula once its ' guard is gone. */
static bool formula_like(const char *v)
{
	while (*v == '\'')
		v++;
	return *v == '=' || *v == '+' || *v == '-' || *v == '@';
}

/* A value as exported: the one leading ' that export put before = + - @
 * (or before 's followed by one, so that those round-trip too) is taken
 * off again; any other ' stays. */
static const char *unguard(const char *v)
{
	return v[0] == '\'' && formula_like(v) ? v + 1 : v;
}

/* Checks one record and adds it. Returns bulk's code, or -EINVAL with msg. */
static int add_row(struct resident_bulk *b, struct csv *csv, const int idx[NCOLS],
		   const char *lg_code, char *msg, size_t msglen)
{
	const char *v[NCOLS];
	for (int i = 0; i < NCOLS; i++) {
		v[i] = unguard(csv_get(csv, idx[i]));
		if (strlen(v[i]) > MAX_FIELD) {
			snprintf(msg, msglen, "%s (%s) が長すぎます（%d バイトまで）。", col_ja[i],
				 col_names[i], MAX_FIELD);
			return -EINVAL;
		}
	}
	char birth[RES_DATE_LEN + 1], moved_in[RES_DATE_LEN + 1];
	if (parse_date(v[C_BIRTH], "生年月日", "1980-04-01 または 昭和55年4月1日", birth, msg,
		       msglen) != 0)
		return -EINVAL;
	int sex = parse_sex(v[C_SEX]);
	enum resident_event ev = RES_EV_TENNYU;
	if (*v[C_EVENT] && parse_event(v[C_EVENT], &ev) != 0) {
		snprintf(msg, msglen, "異動事由 (event) は 転入（tennyu）か 出生（shussei）です。");
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

/* add_row, then the My Number is wiped from the parser's record buffer
 * (bound, encrypted and indexed by then, or the row refused). */
static int import_row(struct resident_bulk *b, struct csv *csv, const int idx[NCOLS],
		      const char *lg_code, char *msg, size_t msglen)
{
	int rc = add_row(b, csv, idx, lg_code, msg, msglen);
	if (idx[C_MYNUMBER] >= 0) {
		size_t n = csv_field_len(csv, (size_t)idx[C_MYNUMBER]);
		if (n)
			sodium_memzero((char *)csv_get(csv, idx[C_MYNUMBER]), n);
	}
	return rc;
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
	if (bind_header(csv, path, idx, err, errlen) != 0)
		goto out;
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
		textsrc_csv_error(s, csv, path, err, errlen);
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
	/* a cell a spreadsheet would take as a formula gets a leading ' (import
	 * takes it off again), decided before quoting */
	bool guard = formula_like(v);
	if (strpbrk(v, ",\"\r\n")) {
		fputc('"', out);
		if (guard)
			fputc('\'', out);
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		fputc('"', out);
	} else {
		if (guard)
			fputc('\'', out);
		fputs(v, out);
	}
	fputs(last ? "\r\n" : ",", out);
}

int resident_export_csv(struct app *app, const struct resident_actor *who, const char *as_of,
			bool with_mynumber, enum resident_csv_header header, FILE *out, char *err,
			size_t errlen)
{
	const char *const *head = header == RES_CSV_HEADER_JA ? col_ja : col_names;
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
		put_field(out, head[i], i == NCOLS - 1);
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
