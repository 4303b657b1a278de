/* Bulk loading of new residents (CSV import, demo populate): one write
 * transaction, two prepared statements reused for every row (one on
 * PostgreSQL, where a data-modifying WITH inserts both rows), the folding
 * buffers reused, the My Number keys derived once. A row costs two inserts,
 * the folding of two names and, when given, one AEAD seal and one keyed hash. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "app/keys.h"
#include "audit/audit.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "resident/resident_internal.h"

#define MAX_TENANTS 16 /* municipalities counted for the audit entries */

static const char ins_resident_sql[] =
	"INSERT INTO residents (lg_code, " RES_STATE_COLS
	", name_fold, kana_fold, seq, valid_from, "
	"moved_in, first_event, mynumber_enc, mynumber_bidx, updated_ms) VALUES (?, ?, ?, ?, ?, ?, "
	"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id";

/* On PostgreSQL both rows go in one statement (one round trip instead of
 * two): the version is made from the resident row as inserted. Same
 * parameters as ins_resident_sql; no row back means a unique key was taken. */
static const char ins_both_pg_sql[] =
	"WITH ins AS (INSERT INTO residents (lg_code, " RES_STATE_COLS
	", name_fold, kana_fold, seq, valid_from, "
	"moved_in, first_event, mynumber_enc, mynumber_bidx, updated_ms) VALUES (?, ?, ?, ?, ?, ?, "
	"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING "
	"RETURNING id, lg_code, valid_from, moved_in, first_event, updated_ms, " RES_STATE_COLS
	") INSERT INTO resident_versions (resident_id, seq, lg_code, valid_from, valid_to, notified, "
	"event, recorded_ms, recorded_by, " RES_STATE_COLS
	") SELECT id, 1, lg_code, valid_from, NULL, moved_in, first_event, updated_ms, 'bulk', " RES_STATE_COLS
	" FROM ins RETURNING resident_id";

static const char ins_version_sql[] =
	"INSERT INTO resident_versions (resident_id, seq, lg_code, valid_from, valid_to, notified, "
	"event, recorded_ms, recorded_by, " RES_STATE_COLS
	") VALUES (?, 1, ?, ?, NULL, ?, ?, ?, ?, "
	"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

struct resident_bulk {
	struct app *app;
	struct db_conn *c;
	struct db_stmt *ins_res, *ins_ver;
	unsigned char *keys; /* sodium_malloc'd: enc key, then index key */
	struct buf name_fold, kana_fold;
	bool broken, sqlite;
	int64_t now_ms;
	char today[RES_DATE_LEN + 1];
	struct {
		char lg_code[7];
		uint64_t n;
	} tenants[MAX_TENANTS];
	int ntenants;
};

static void bulk_free(struct resident_bulk *b)
{
	db_done(b->ins_res); /* both were prepared busy; a row may not have used them */
	db_done(b->ins_ver);
	if (b->sqlite)
		db_exec(b->c, "PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT");
	if (b->keys)
		sodium_free(b->keys); /* wipes */
	buf_release(&b->name_fold);
	buf_release(&b->kana_fold);
	free(b);
}

int resident_bulk_begin(struct app *app, struct db_conn *c, struct resident_bulk **out)
{
	*out = NULL;
	if (!app->keys)
		return -EINVAL;
	struct resident_bulk *b = xcalloc(1, sizeof(*b));
	b->app = app;
	b->c = c;
	b->sqlite = db_kind(app->db) == DB_SQLITE;
	b->now_ms = res_now_ms();
	res_today(b->today);
	buf_init(&b->name_fold, RES_FOLD_MAX);
	buf_init(&b->kana_fold, RES_FOLD_MAX);
	b->keys = sodium_malloc(64);
	if (!b->keys) {
		bulk_free(b);
		return -EIO;
	}
	keys_derive(app->keys, KEY_MYNUMBER_ENC, b->keys);
	keys_derive(app->keys, KEY_MYNUMBER_IDX, b->keys + 32);
	/* index pages are rewritten again and again: keep them in memory; and
	 * each insert's statement journal (several unique keys) in memory too,
	 * not in a temporary file written row after row */
	if (b->sqlite)
		db_exec(c, "PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY");
	if (db_begin_write(c) != 0) {
		log_error("resident bulk: cannot begin: %s", db_errmsg(c));
		bulk_free(b);
		return -EIO;
	}
	if (db_prepare(c, b->sqlite ? ins_resident_sql : ins_both_pg_sql, &b->ins_res) != 0 ||
	    (b->sqlite && db_prepare(c, ins_version_sql, &b->ins_ver) != 0)) {
		log_error("resident bulk: %s (were migrations applied?)", db_errmsg(c));
		db_rollback(c);
		bulk_free(b);
		return -EIO;
	}
	*out = b;
	return 0;
}

static void count_tenant(struct resident_bulk *b, const char *lg_code)
{
	for (int i = 0; i < b->ntenants; i++)
		if (!strcmp(b->tenants[i].lg_code, lg_code)) {
			b->tenants[i].n++;
			return;
		}
	if (b->ntenants < MAX_TENANTS) {
		snprintf(b->tenants[b->ntenants].lg_code, 7, "%s", lg_code);
		b->tenants[b->ntenants++].n = 1;
	}
}

/* After an insert that did nothing: which unique key was taken? */
static int conflict(struct resident_bulk *b, const struct resident_rec *r, char *msg, size_t msglen)
{
	struct db_stmt *st;
	if (db_prepare(b->c, "SELECT 1 FROM residents WHERE lg_code = ? AND juminhyo_code = ?",
		       &st) != 0)
		return -EIO;
	db_bind_text(st, 1, r->lg_code);
	db_bind_text(st, 2, r->juminhyo_code);
	int s = db_step(st);
	db_done(st);
	if (s == DB_ROW) {
		snprintf(msg, msglen, "住民票コード %s は既に登録されています。", r->juminhyo_code);
		return -EEXIST;
	}
	if (s < 0)
		return -EIO;
	snprintf(msg, msglen, "宛名番号 %s は既に別の住民に使われています。", r->atena_no);
	return -EINVAL;
}

static int fail_io(struct resident_bulk *b, char *msg, size_t msglen)
{
	snprintf(msg, msglen, "データベースへの書き込みに失敗しました: %s", db_errmsg(b->c));
	b->broken = true;
	return -EIO;
}

int resident_bulk_add(struct resident_bulk *b, const struct resident_rec *rin, const char *mynumber,
		      enum resident_event ev, const char *moved_in, char *msg, size_t msglen)
{
	if (b->broken)
		return fail_io(b, msg, msglen);
	struct resident_rec r = *rin;
	if (r.status == 0)
		r.status = RES_ST_ACTIVE;
	int rc = resident_validate(&r, msg, msglen);
	if (rc != 0)
		return rc;
	if (ev != RES_EV_TENNYU && ev != RES_EV_SHUSSEI) {
		snprintf(msg, msglen, "最初の異動は転入か出生です。");
		return -EINVAL;
	}
	if (!res_valid_date(moved_in)) {
		snprintf(msg, msglen,
			 "異動日の形式が正しくありません（例: 2020-04-01 または 令和2年4月1日）。");
		return -EINVAL;
	}
	if (strcmp(moved_in, r.birth) < 0 || strcmp(moved_in, b->today) > 0) {
		snprintf(msg, msglen, "異動日は生年月日から今日までの日付です。");
		return -EINVAL;
	}
	if (mynumber && *mynumber && res_mn_check(mynumber, msg, msglen) != 0)
		return -EINVAL;
	buf_reset(&b->name_fold);
	buf_reset(&b->kana_fold);
	if (resident_fold(&b->name_fold, r.name, strlen(r.name)) != 0 ||
	    resident_fold(&b->kana_fold, r.name_kana, strlen(r.name_kana)) != 0) {
		snprintf(msg, msglen, "氏名を検索用に正規化できません。");
		return -EINVAL;
	}
	struct db_stmt *st = b->ins_res;
	db_bind_text(st, 1, r.lg_code);
	res_state_bind(st, 2, &r);
	db_bind_textn(st, 16, buf_cstr(&b->name_fold), b->name_fold.len);
	db_bind_textn(st, 17, buf_cstr(&b->kana_fold), b->kana_fold.len);
	db_bind_text(st, 18, moved_in);
	db_bind_text(st, 19, moved_in);
	db_bind_text(st, 20, resident_event_code(ev));
	if (mynumber && *mynumber) {
		unsigned char enc[RES_MN_ENC_BYTES], bidx[RES_MN_BIDX_BYTES];
		res_mn_seal(b->keys, r.lg_code, r.juminhyo_code, mynumber, enc);
		res_mn_bidx(b->keys + 32, mynumber, bidx);
		db_bind_blob(st, 21, enc, sizeof enc);
		db_bind_blob(st, 22, bidx, sizeof bidx);
	} else {
		db_bind_null(st, 21);
		db_bind_null(st, 22);
	}
	db_bind_int64(st, 23, b->now_ms);
	int s = db_step(st);
	int64_t id = s == DB_ROW ? db_col_int64(st, 0) : 0;
	db_done(st);
	if (s == DB_DONE) {
		rc = conflict(b, &r, msg, msglen);
		return rc == -EIO ? fail_io(b, msg, msglen) : rc;
	}
	if (s != DB_ROW)
		return fail_io(b, msg, msglen);
	if (!b->sqlite) { /* the version went in with it */
		count_tenant(b, r.lg_code);
		return 0;
	}
	st = b->ins_ver;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, r.lg_code);
	db_bind_text(st, 3, moved_in);
	db_bind_text(st, 4, moved_in);
	db_bind_text(st, 5, resident_event_code(ev));
	db_bind_int64(st, 6, b->now_ms);
	db_bind_text(st, 7, "bulk");
	res_state_bind(st, 8, &r);
	s = db_step(st);
	db_done(st);
	if (s < 0)
		return fail_io(b, msg, msglen);
	count_tenant(b, r.lg_code);
	return 0;
}

int resident_bulk_end(struct resident_bulk *b, bool commit)
{
	if (!b)
		return 0;
	int rc = 0;
	if (commit && !b->broken) {
		if (db_commit(b->c) != 0) {
			log_error("resident bulk: commit failed: %s", db_errmsg(b->c));
			db_rollback(b->c);
			rc = -EIO;
		}
	} else {
		db_rollback(b->c);
		rc = commit ? -EIO : 0;
	}
	if (rc == 0 && commit && b->app->audit) {
		for (int i = 0; i < b->ntenants; i++) {
			char detail[64];
			snprintf(detail, sizeof detail, "%llu residents added by bulk load",
				 (unsigned long long)b->tenants[i].n);
			struct resident_actor sys = {
				.lg_code = b->tenants[i].lg_code,
				.actor_kind = "system",
				.actor_id = "resident-bulk",
				.actor_name = "madoguchi",
				.purpose = "住民記録の一括登録",
			};
			if (res_audit(b->app, &sys, "resident.change", NULL, "ok", detail) != 0)
				log_error("resident bulk: audit append failed");
		}
	}
	bulk_free(b);
	return rc;
}
