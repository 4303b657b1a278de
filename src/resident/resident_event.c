/* Recording a change (異動): the current version is closed on the 異動日 and
 * a new one opened with the changed fields; the residents row, a cache of
 * the newest version, follows. Nothing is ever overwritten, so the record as
 * of any past date stays answerable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address/address.h"
#include "common/xalloc.h"
#include "resident/resident_internal.h"

/* The current state read from residents, strings owned here. */
struct current {
	int64_t id, seq;
	char valid_from[RES_DATE_LEN + 1];
	char *v[13]; /* juminhyo_code … prc_id, as RES_STATE_COLS without sex */
	int sex, status;
};

static void current_release(struct current *cur)
{
	for (int i = 0; i < 13; i++)
		free(cur->v[i]);
}

/* Returns 0, -ENOENT or -EIO. */
static int read_current(struct db_conn *c, const char *lg_code, const char *jc, struct current *cur)
{
	struct db_stmt *st;
	if (db_prepare(c,
		       "SELECT id, seq, valid_from, " RES_STATE_COLS " FROM residents WHERE "
		       "lg_code = ? AND juminhyo_code = ?",
		       &st) != 0)
		return -EIO;
	db_bind_text(st, 1, lg_code);
	db_bind_text(st, 2, jc);
	int s = db_step(st);
	if (s == DB_ROW) {
		cur->id = db_col_int64(st, 0);
		cur->seq = db_col_int64(st, 1);
		snprintf(cur->valid_from, sizeof cur->valid_from, "%s", db_col_text(st, 2));
		for (int i = 0, k = 0; i < RES_STATE_NCOLS; i++) {
			int col = 3 + i;
			if (i == 6) {
				cur->sex = (int)db_col_int64(st, col);
				continue;
			}
			if (i == 13) {
				cur->status = (int)db_col_int64(st, col);
				continue;
			}
			const char *t = db_col_text(st, col);
			cur->v[k++] = t ? xstrdup(t) : NULL;
		}
	}
	db_done(st);
	return s == DB_ROW ? 0 : s == DB_DONE ? -ENOENT : -EIO;
}

static const char *pick(const char *changed, const char *old)
{
	return changed && *changed ? changed : old;
}

static int refuse(char *msg, size_t msglen, const char *text)
{
	snprintf(msg, msglen, "%s", text);
	return -EINVAL;
}

/* ABR ids of a new address. */
struct addr_ids {
	char machiaza[16], blk[16], rsdt[16], prc[40];
};

static const char *id_or_null(const char *s)
{
	return *s ? s : NULL;
}

/* A new address written without ABR ids gets them from the address
 * normalizer (once-only: the clerk types the address, the registry supplies
 * the ids) when it lies in the municipality at town level or deeper. A
 * 転居 to an address the normalizer places in another municipality is
 * refused: that is a 転出. Without address data the address is kept as
 * written, with no ids. Returns 0 or -EINVAL with msg. */
/* ABR ids given with a new address must name a town of the municipality
 * when the registry holds its towns (without them nothing can be checked
 * and the ids are kept as given). */
static int check_given_town(struct app *app, const char *lg_code, const char *machiaza_id,
			    char *msg, size_t msglen)
{
	char err[160];
	const struct addr_index *ix = addr_shared_acquire(app, err, sizeof err);
	bool unknown = ix && addr_town_known(ix, lg_code, machiaza_id) == 0;
	addr_shared_release(ix);
	if (unknown) {
		snprintf(msg, msglen, "町字ID %s はこの市区町村の町字ではありません。",
			 machiaza_id && *machiaza_id ? machiaza_id : "（空）");
		return -EINVAL;
	}
	return 0;
}

static int link_address(struct app *app, const char *lg_code, const char *address,
			enum resident_event ev, struct addr_ids *ids, char *msg, size_t msglen)
{
	memset(ids, 0, sizeof(*ids));
	char err[160];
	const struct addr_index *ix = addr_shared_acquire(app, err, sizeof err);
	if (!ix)
		return 0;
	struct addr_work *w = addr_work_new();
	struct addr_result ar;
	addr_normalize(ix, w, address, strlen(address), &ar);
	int rc = 0;
	if (ar.lg_code && strcmp(ar.lg_code, lg_code) == 0 && ar.level >= ADDR_MACHIAZA) {
		snprintf(ids->machiaza, sizeof ids->machiaza, "%s",
			 ar.machiaza_id ? ar.machiaza_id : "");
		snprintf(ids->blk, sizeof ids->blk, "%s", ar.blk_id ? ar.blk_id : "");
		snprintf(ids->rsdt, sizeof ids->rsdt, "%s", ar.rsdt_id ? ar.rsdt_id : "");
		snprintf(ids->prc, sizeof ids->prc, "%s", ar.prc_id ? ar.prc_id : "");
	} else if (ev == RES_EV_TENKYO && ar.level >= ADDR_CITY && ar.lg_code &&
		   strlen(ar.lg_code) == 6 && strcmp(ar.lg_code, lg_code) != 0) {
		snprintf(
			msg, msglen,
			"転居先の住所（%s%s%s）は市区町村の外です。市区町村の外への引っ越しは転出として"
			"記録してください。",
			ar.pref ? ar.pref : "", ar.city ? ar.city : "", ar.ward ? ar.ward : "");
		rc = -EINVAL;
	}
	addr_work_free(w); /* ar points into w and ix: both are let go only now */
	addr_shared_release(ix);
	return rc;
}

int resident_record_event(struct app *app, const struct resident_actor *who,
			  const char *juminhyo_code, enum resident_event ev, const char *date,
			  const char *notified, const struct resident_rec *r, char *msg,
			  size_t msglen)
{
	snprintf(msg, msglen, "%s", "");
	if (!res_actor_ok(who, false))
		return refuse(msg, msglen, "操作者の情報が正しくありません。");
	if (!juminhyo_code || strlen(juminhyo_code) != 11 || !res_all_digits(juminhyo_code, 11))
		return refuse(msg, msglen, "住民票コードは11桁の半角数字で入力してください。");
	if (!*resident_event_code(ev))
		return refuse(msg, msglen, "異動の種類が正しくありません。");
	if (!res_valid_date(date))
		return refuse(msg, msglen,
			      "異動日の形式が正しくありません（例: 2024-04-01 または "
			      "令和6年4月1日）。");
	if (notified && *notified && !res_valid_date(notified))
		return refuse(msg, msglen,
			      "届出日の形式が正しくありません（例: 2024-04-01 または "
			      "令和6年4月1日）。");
	char today[RES_DATE_LEN + 1];
	res_today(today);
	if (strcmp(date, today) > 0)
		return refuse(msg, msglen,
			      "異動日が未来の日付です。異動日当日以降に記録してください。");
	if (notified && *notified && strcmp(notified, today) > 0)
		return refuse(msg, msglen, "届出日が未来の日付です。");
	if (r &&
	    ((r->juminhyo_code && *r->juminhyo_code && strcmp(r->juminhyo_code, juminhyo_code)) ||
	     (r->lg_code && *r->lg_code && strcmp(r->lg_code, who->lg_code))))
		return refuse(msg, msglen, "住民票コードと市区町村は異動で変えられません。");

	/* a new address: its ABR ids as given, or from the normalizer (before a
	 * database connection is held: building the index takes one) */
	bool new_address = r && r->address && *r->address;
	bool ids_given =
		new_address && ((r->machiaza_id && *r->machiaza_id) || (r->blk_id && *r->blk_id) ||
				(r->rsdt_id && *r->rsdt_id) || (r->prc_id && *r->prc_id));
	struct addr_ids ids = {0};
	if (ids_given && check_given_town(app, who->lg_code, r->machiaza_id, msg, msglen) != 0)
		return -EINVAL;
	if (new_address && !ids_given &&
	    link_address(app, who->lg_code, r->address, ev, &ids, msg, msglen) != 0)
		return -EINVAL;

	struct resident_actor w = *who;
	if (!w.purpose || !*w.purpose)
		w.purpose = "住民異動届の処理";
	struct db_conn *c = db_acquire(app->db);
	struct current cur = {0};
	struct buf nf, kf;
	buf_init(&nf, RES_FOLD_MAX);
	buf_init(&kf, RES_FOLD_MAX);
	bool audited = false;
	int rc = read_current(c, who->lg_code, juminhyo_code, &cur);
	if (rc == -ENOENT) {
		snprintf(msg, msglen, "住民票コード %s の住民は見つかりません。", juminhyo_code);
		goto out;
	}
	if (rc != 0) {
		snprintf(msg, msglen, "データベースを読めません。");
		goto out;
	}
	rc = -EINVAL;
	if (strcmp(date, cur.valid_from) < 0) {
		snprintf(msg, msglen,
			 "異動日 %s は現在の記録の開始日 %s より前です。過去の記録は書き換えられま"
			 "せん。",
			 date, cur.valid_from);
		goto out;
	}
	/* what each kind of change may follow (出生 and 転入 from elsewhere
	 * create a resident: they come by import, never onto a record) */
	const char *refused = NULL;
	switch (ev) {
	case RES_EV_SHUSSEI:
		refused = "出生は新しい住民の登録です。既にある住民の記録には記録できません。";
		break;
	case RES_EV_TENNYU:
		if (cur.status != RES_ST_MOVED_OUT)
			refused = cur.status == RES_ST_DECEASED ?
					  "死亡した方の記録には職権修正のみ記録できます。" :
					  "転入は、転出した方が戻ったときだけ記録できます。この方は"
					  "現在この市区町村の住民です。";
		break;
	case RES_EV_TENSHUTSU:
	case RES_EV_SHIBOU:
	case RES_EV_TENKYO:
	case RES_EV_SETAI:
		if (cur.status == RES_ST_DECEASED)
			refused = "死亡した方の記録には職権修正のみ記録できます。";
		else if (cur.status == RES_ST_MOVED_OUT)
			refused = "転出した方の記録には転入または職権修正のみ記録できます。";
		else if (cur.status != RES_ST_ACTIVE)
			refused = "この方の記録には職権修正のみ記録できます。";
		break;
	case RES_EV_CORRECT:
		break;
	default:
		refused = "異動の種類が正しくありません。";
		break;
	}
	if (refused) {
		snprintf(msg, msglen, "%s", refused);
		goto out;
	}
	/* one change a day: a second one on the current version's first day is
	 * refused (history stays one version per day), except a 職権修正, which
	 * supersedes that day's version (left as the empty span [date, date)) */
	if (strcmp(date, cur.valid_from) == 0 && ev != RES_EV_CORRECT) {
		snprintf(msg, msglen,
			 "%s には既に異動が記録されています。同じ日の2つ目の異動は記録できませ"
			 "ん。記載の誤りは職権修正で直してください。",
			 date);
		goto out;
	}
	struct resident_rec nr = {
		.lg_code = who->lg_code,
		.juminhyo_code = juminhyo_code,
		.atena_no = pick(r ? r->atena_no : NULL, cur.v[1]),
		.setai_no = pick(r ? r->setai_no : NULL, cur.v[2]),
		.name = pick(r ? r->name : NULL, cur.v[3]),
		.name_kana = pick(r ? r->name_kana : NULL, cur.v[4]),
		.birth = pick(r ? r->birth : NULL, cur.v[5]),
		.sex = r && r->sex ? r->sex : cur.sex,
		.zokugara = pick(r ? r->zokugara : NULL, cur.v[6]),
		.address = pick(r ? r->address : NULL, cur.v[7]),
		.machiaza_id = pick(r ? r->machiaza_id : NULL, cur.v[8]),
		.blk_id = pick(r ? r->blk_id : NULL, cur.v[9]),
		.rsdt_id = pick(r ? r->rsdt_id : NULL, cur.v[10]),
		.prc_id = pick(r ? r->prc_id : NULL, cur.v[11]),
		.status = cur.status,
	};
	if (new_address) { /* the old address's ids never stay with a new one */
		nr.machiaza_id = ids_given ? r->machiaza_id : id_or_null(ids.machiaza);
		nr.blk_id = ids_given ? r->blk_id : id_or_null(ids.blk);
		nr.rsdt_id = ids_given ? r->rsdt_id : id_or_null(ids.rsdt);
		nr.prc_id = ids_given ? r->prc_id : id_or_null(ids.prc);
	}
	switch (ev) {
	case RES_EV_TENNYU:
	case RES_EV_SHUSSEI:
		nr.status = RES_ST_ACTIVE;
		break;
	case RES_EV_TENSHUTSU:
		nr.status = RES_ST_MOVED_OUT;
		break;
	case RES_EV_SHIBOU:
		nr.status = RES_ST_DECEASED;
		break;
	case RES_EV_CORRECT:
		if (r && r->status)
			nr.status = r->status;
		break;
	default:
		break;
	}
	if (resident_validate(&nr, msg, msglen) != 0)
		goto out;
	if (resident_fold(&nf, nr.name, strlen(nr.name)) != 0 ||
	    resident_fold(&kf, nr.name_kana, strlen(nr.name_kana)) != 0) {
		snprintf(msg, msglen, "氏名を検索用に正規化できません。");
		goto out;
	}

	/* the change is on the record before anything is written */
	char detail[96];
	snprintf(detail, sizeof detail, "%s on %s (version %lld)", resident_event_code(ev), date,
		 (long long)cur.seq + 1);
	rc = -EIO;
	/* one entry per change, written first; a failure adds a second */
	if (res_audit(app, &w, "resident.change", juminhyo_code, "ok", detail) != 0) {
		snprintf(msg, msglen, "監査記録を書けないため、異動を記録できません。");
		goto out;
	}
	audited = true;
	if (db_begin_write(c) != 0)
		goto dberr;
	struct db_stmt *st;
	int64_t seq_now = -1;
	if (db_prepare(c, "SELECT seq FROM residents WHERE id = ?", &st) != 0)
		goto dberr;
	db_bind_int64(st, 1, cur.id);
	int s = db_step(st);
	if (s == DB_ROW)
		seq_now = db_col_int64(st, 0);
	db_done(st);
	if (seq_now != cur.seq) {
		snprintf(msg, msglen,
			 "同時に別の異動が記録されました。記録を確認してからやり直してください。");
		goto out;
	}
	if (db_prepare(
		    c,
		    "UPDATE resident_versions SET valid_to = ? WHERE resident_id = ? AND seq = ? "
		    "AND valid_to IS NULL",
		    &st) != 0)
		goto dberr;
	db_bind_text(st, 1, date);
	db_bind_int64(st, 2, cur.id);
	db_bind_int64(st, 3, cur.seq);
	s = db_step(st);
	db_done(st);
	if (s < 0 ||
	    db_prepare(c,
		       "INSERT INTO resident_versions (resident_id, seq, lg_code, valid_from, "
		       "valid_to, notified, event, recorded_ms, recorded_by, " RES_STATE_COLS
		       ") VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		       "?, ?, ?, ?, ?)",
		       &st) != 0)
		goto dberr;
	int64_t now = res_now_ms();
	db_bind_int64(st, 1, cur.id);
	db_bind_int64(st, 2, cur.seq + 1);
	db_bind_text(st, 3, who->lg_code);
	db_bind_text(st, 4, date);
	db_bind_text(st, 5, notified && *notified ? notified : date);
	db_bind_text(st, 6, resident_event_code(ev));
	db_bind_int64(st, 7, now);
	db_bind_text(st, 8, who->actor_id);
	res_state_bind(st, 9, &nr);
	s = db_step(st);
	db_done(st);
	if (s < 0 ||
	    db_prepare(c,
		       "UPDATE residents SET juminhyo_code = ?, atena_no = ?, setai_no = ?, "
		       "name = ?, name_kana = ?, birth = ?, sex = ?, zokugara = ?, address "
		       "= ?, machiaza_id = ?, blk_id = ?, rsdt_id = ?, prc_id = ?, status = "
		       "?, name_fold = ?, kana_fold = ?, seq = ?, valid_from = ?, updated_ms "
		       "= ? WHERE id = ?",
		       &st) != 0)
		goto dberr;
	res_state_bind(st, 1, &nr);
	db_bind_textn(st, 15, buf_cstr(&nf), nf.len);
	db_bind_textn(st, 16, buf_cstr(&kf), kf.len);
	db_bind_int64(st, 17, cur.seq + 1);
	db_bind_text(st, 18, date);
	db_bind_int64(st, 19, now);
	db_bind_int64(st, 20, cur.id);
	s = db_step(st);
	db_done(st);
	if (s == DB_ECONSTRAINT) {
		rc = -EINVAL;
		snprintf(msg, msglen, "宛名番号 %s は既に別の住民に使われています。", nr.atena_no);
		goto out;
	}
	if (s < 0 || db_commit(c) != 0)
		goto dberr;
	rc = 0;
	goto out;
dberr:
	rc = -EIO;
	snprintf(msg, msglen, "データベースへの書き込みに失敗しました。");
out:
	db_release(c); /* rolls back an open transaction */
	if (audited && rc != 0)
		res_audit(app, &w, "resident.change", juminhyo_code, "error", msg);
	current_release(&cur);
	buf_release(&nf);
	buf_release(&kf);
	return rc;
}
