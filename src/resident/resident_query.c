/* Reading the resident record: one resident as of a date, the history, the
 * staff console's search, a household, the My Number, the once-only prefill
 * and the link between a resident login and its record. Every read is
 * scoped to the actor's municipality and is on the audit record before any
 * of its data is handed back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "app/keys.h"
#include "common/utf8.h"
#include "common/wareki.h"
#include "resident/resident_internal.h"

#define QUERY_MAX 256 /* bytes of a search query */

static bool valid_code(const char *jc)
{
	return jc && strlen(jc) == 11 && res_all_digits(jc, 11);
}

/* The masked My Number of an encrypted blob, or null. */
static json_t *masked(struct app *app, const char *lg_code, const char *jc, struct db_stmt *st,
		      int col)
{
	size_t n = 0;
	const unsigned char *blob = db_col_blob(st, col, &n);
	if (!blob || n == 0)
		return json_null();
	unsigned char key[32];
	char mn[13], mask[13];
	keys_derive(app->keys, KEY_MYNUMBER_ENC, key);
	int rc = res_mn_open(key, lg_code, jc, blob, n, mn);
	sodium_memzero(key, sizeof key);
	if (rc != 0)
		return json_string("（復号できません）");
	res_mn_mask(mn, mask);
	sodium_memzero(mn, sizeof mn);
	return json_string(mask);
}

static void opt_text(json_t *o, const char *key, struct db_stmt *st, int col)
{
	const char *v = db_col_text(st, col);
	json_object_set_new(o, key, v ? json_string(v) : json_null());
}

/* Prepares sql and binds its first two parameters: the municipality and a
 * key (住民票コード, 世帯番号, 町字ID). 0, or -EIO when it does not prepare. */
static int prepare_keyed(struct db_conn *c, const char *sql, const char *lg_code, const char *key,
			 struct db_stmt **st)
{
	if (db_prepare(c, sql, st) != 0)
		return -EIO;
	db_bind_text(*st, 1, lg_code);
	db_bind_text(*st, 2, key);
	return 0;
}

/* Steps st to its end, appending each row's state (columns from 0) to arr,
 * and finishes it. Returns db_step's last result (< 0: an error). */
static int state_rows(struct db_stmt *st, json_t *arr)
{
	int s;
	while ((s = db_step(st)) == DB_ROW) {
		json_t *o = json_object();
		res_state_json(o, st, 0);
		json_array_append_new(arr, o);
	}
	db_done(st);
	return s;
}

/* Writes the audit entry of a read, then hands *obj over to *out: 0, or
 * -ENOENT when found is false (recorded as not_found), or -EIO when the
 * entry could not be written (then nothing is handed over). */
static int audit_handover(struct app *app, const struct resident_actor *who, const char *action,
			  const char *juminhyo_code, bool found, const char *detail, json_t **obj,
			  json_t **out)
{
	if (res_audit(app, who, action, juminhyo_code, found ? "ok" : "not_found", detail) != 0)
		return -EIO;
	if (!found)
		return -ENOENT;
	*out = *obj;
	*obj = NULL;
	return 0;
}

static void event_json(json_t *o, const char *code)
{
	enum resident_event ev;
	json_object_set_new(o, "event", json_string(code ? code : ""));
	json_object_set_new(
		o, "event_ja",
		json_string(resident_event_parse(code, &ev) == 0 ? resident_event_ja(ev) : ""));
}

int resident_get(struct app *app, const struct resident_actor *who, const char *juminhyo_code,
		 const char *as_of, json_t **out)
{
	*out = NULL;
	char day[RES_DATE_LEN + 1];
	if (!res_actor_ok(who, true) || !valid_code(juminhyo_code))
		return -EINVAL;
	if (as_of && !res_valid_date(as_of))
		return -EINVAL;
	if (as_of)
		snprintf(day, sizeof day, "%s", as_of);
	else
		res_today(day);
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st;
	json_t *o = NULL;
	int rc = -EIO;
	if (prepare_keyed(
		    c,
		    "SELECT r.id, v.seq, v.valid_from, v.valid_to, v.notified, v.event, "
		    "r.mynumber_enc, r.moved_in, v.juminhyo_code, v.atena_no, v.setai_no, v.name, "
		    "v.name_kana, v.birth, v.sex, v.zokugara, v.address, v.machiaza_id, v.blk_id, "
		    "v.rsdt_id, v.prc_id, v.status FROM residents r JOIN resident_versions v ON "
		    "v.resident_id = r.id WHERE r.lg_code = ? AND r.juminhyo_code = ? AND "
		    "v.valid_from <= ? AND (v.valid_to IS NULL OR ? < v.valid_to) ORDER BY "
		    "v.seq DESC LIMIT 1",
		    who->lg_code, juminhyo_code, &st) != 0)
		goto out;
	db_bind_text(st, 3, day);
	db_bind_text(st, 4, day);
	int s = db_step(st);
	if (s == DB_ROW) {
		o = json_object();
		json_object_set_new(o, "id", json_integer((json_int_t)db_col_int64(st, 0)));
		json_object_set_new(o, "lg_code", json_string(who->lg_code));
		res_state_json(o, st, 8);
		json_object_set_new(o, "seq", json_integer((json_int_t)db_col_int64(st, 1)));
		opt_text(o, "valid_from", st, 2);
		opt_text(o, "valid_to", st, 3);
		opt_text(o, "notified", st, 4);
		event_json(o, db_col_text(st, 5));
		opt_text(o, "moved_in", st, 7);
		json_object_set_new(o, "as_of", json_string(day));
		json_object_set_new(o, "mynumber_masked",
				    masked(app, who->lg_code, juminhyo_code, st, 6));
	}
	db_done(st);
	if (s < 0)
		goto out;
	char detail[48];
	snprintf(detail, sizeof detail, "as of %s", day);
	rc = audit_handover(app, who, "resident.read", juminhyo_code, o != NULL, detail, &o, out);
out:
	json_decref(o);
	db_release(c);
	return rc;
}

int resident_history(struct app *app, const struct resident_actor *who, const char *juminhyo_code,
		     json_t **out)
{
	*out = NULL;
	if (!res_actor_ok(who, true) || !valid_code(juminhyo_code))
		return -EINVAL;
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st;
	json_t *arr = json_array();
	int rc = -EIO, s;
	if (prepare_keyed(
		    c,
		    "SELECT v.seq, v.valid_from, v.valid_to, v.notified, v.event, v.recorded_ms, "
		    "v.recorded_by, v.juminhyo_code, v.atena_no, v.setai_no, v.name, v.name_kana, "
		    "v.birth, v.sex, v.zokugara, v.address, v.machiaza_id, v.blk_id, v.rsdt_id, "
		    "v.prc_id, v.status FROM residents r JOIN resident_versions v ON "
		    "v.resident_id = r.id WHERE r.lg_code = ? AND r.juminhyo_code = ? ORDER BY "
		    "v.seq",
		    who->lg_code, juminhyo_code, &st) != 0)
		goto out;
	while ((s = db_step(st)) == DB_ROW) {
		json_t *o = json_object();
		json_object_set_new(o, "seq", json_integer((json_int_t)db_col_int64(st, 0)));
		opt_text(o, "valid_from", st, 1);
		opt_text(o, "valid_to", st, 2);
		opt_text(o, "notified", st, 3);
		event_json(o, db_col_text(st, 4));
		json_object_set_new(o, "recorded_ms",
				    json_integer((json_int_t)db_col_int64(st, 5)));
		opt_text(o, "recorded_by", st, 6);
		res_state_json(o, st, 7);
		json_array_append_new(arr, o);
	}
	db_done(st);
	if (s < 0)
		goto out;
	rc = audit_handover(app, who, "resident.read", juminhyo_code, json_array_size(arr) > 0,
			    "history", &arr, out);
out:
	json_decref(arr);
	db_release(c);
	return rc;
}

/* A date typed as ISO or in 和暦 → ISO in out. */
static bool parse_day(const char *s, char out[RES_DATE_LEN + 1])
{
	struct wareki_date d;
	size_t n = strlen(s);
	if (wareki_parse_iso(s, n, &d, NULL, 0) != 0 && wareki_parse(s, n, &d, NULL, 0) != 0)
		return false;
	return wareki_format_iso(&d, out, RES_DATE_LEN + 1) == RES_DATE_LEN;
}

#define SUMMARY_SELECT "SELECT " RES_STATE_COLS " FROM residents WHERE lg_code = ? "

int resident_search(struct app *app, const struct resident_actor *who, const char *q,
		    const char *birth, int limit, json_t **out)
{
	*out = NULL;
	if (!res_actor_ok(who, true))
		return -EINVAL;
	if (limit <= 0 || limit > RESIDENT_SEARCH_MAX)
		limit = RESIDENT_SEARCH_MAX;
	size_t qn = q ? strlen(q) : 0;
	bool has_birth = birth && *birth;
	char day[RES_DATE_LEN + 1] = "";
	if ((qn == 0 && !has_birth) || qn > QUERY_MAX || (q && !utf8_valid(q, qn)))
		return -EINVAL;
	if (has_birth && !parse_day(birth, day))
		return -EINVAL;
	struct buf f, any, prefix;
	buf_init(&f, 16 * QUERY_MAX);
	buf_init(&any, 32 * QUERY_MAX + 4);
	buf_init(&prefix, 32 * QUERY_MAX + 4);
	json_t *arr = NULL;
	struct db_conn *c = NULL;
	const char *kind = "birth";
	int rc = -EINVAL;
	if (qn > 0 && (resident_fold(&f, q, qn) != 0 || f.len == 0))
		goto out;
	c = db_acquire(app->db);
	struct db_stmt *st = NULL;
	rc = -EIO;
	if (f.len > 0 && res_all_digits(f.p, f.len)) {
		/* a number: 住民票コード, 宛名番号 or (by its blind index) My Number */
		unsigned char bidx[RES_MN_BIDX_BYTES];
		bool mn = f.len == 12 && checkdigit_mynumber_valid(f.p, 12);
		kind = mn ? "number (12 digits)" : "number";
		if (db_prepare(c,
			       SUMMARY_SELECT "AND (juminhyo_code = ? OR atena_no = ? OR "
					      "mynumber_bidx = ?) AND (? = '' OR birth = ?) "
					      "ORDER BY atena_no LIMIT ?",
			       &st) != 0)
			goto out;
		db_bind_text(st, 1, who->lg_code);
		db_bind_text(st, 2, f.p);
		db_bind_text(st, 3, f.p);
		if (mn) {
			unsigned char key[32];
			keys_derive(app->keys, KEY_MYNUMBER_IDX, key);
			res_mn_bidx(key, f.p, bidx);
			sodium_memzero(key, sizeof key);
			db_bind_blob(st, 4, bidx, sizeof bidx);
		} else {
			db_bind_null(st, 4);
		}
		db_bind_text(st, 5, day);
		db_bind_text(st, 6, day);
		db_bind_int64(st, 7, limit);
	} else if (f.len > 0) {
		kind = "name";
		if (db_like_escape(&prefix, f.p, f.len) != 0 || buf_putc(&prefix, '%') != 0 ||
		    buf_putc(&any, '%') != 0 || db_like_escape(&any, f.p, f.len) != 0 ||
		    buf_putc(&any, '%') != 0) {
			rc = -EINVAL;
			goto out;
		}
		if (db_prepare(c,
			       SUMMARY_SELECT
			       "AND (name_fold LIKE ? ESCAPE '\\' OR kana_fold LIKE ? ESCAPE '\\') "
			       "AND (? = '' OR birth = ?) ORDER BY CASE WHEN name_fold LIKE ? "
			       "ESCAPE '\\' OR kana_fold LIKE ? ESCAPE '\\' THEN 0 ELSE 1 END, "
			       "kana_fold, atena_no LIMIT ?",
			       &st) != 0)
			goto out;
		db_bind_text(st, 1, who->lg_code);
		db_bind_text(st, 2, buf_cstr(&any));
		db_bind_text(st, 3, buf_cstr(&any));
		db_bind_text(st, 4, day);
		db_bind_text(st, 5, day);
		db_bind_text(st, 6, buf_cstr(&prefix));
		db_bind_text(st, 7, buf_cstr(&prefix));
		db_bind_int64(st, 8, limit);
	} else {
		if (db_prepare(c,
			       SUMMARY_SELECT "AND birth = ? ORDER BY kana_fold, atena_no LIMIT ?",
			       &st) != 0)
			goto out;
		db_bind_text(st, 1, who->lg_code);
		db_bind_text(st, 2, day);
		db_bind_int64(st, 3, limit);
	}
	arr = json_array();
	if (state_rows(st, arr) < 0)
		goto out;
	/* the query itself is not logged: it may be a My Number, and a name is
	 * personal data of someone who may not even be found */
	char detail[96];
	snprintf(detail, sizeof detail, "%zu hits (query by %s%s)", json_array_size(arr), kind,
		 has_birth && strcmp(kind, "birth") ? " and birth" : "");
	rc = audit_handover(app, who, "resident.search", NULL, true, detail, &arr, out);
out:
	json_decref(arr);
	if (c)
		db_release(c);
	/* the folded query may be a My Number: no copy stays behind */
	struct buf *bufs[] = {&f, &any, &prefix};
	for (size_t i = 0; i < 3; i++) {
		if (bufs[i]->p)
			sodium_memzero(bufs[i]->p, bufs[i]->len);
		buf_release(bufs[i]);
	}
	return rc;
}

/* The household on a day: every resident whose version valid on that day
 * has the 世帯番号 and is active — so a member who left by 世帯変更, moved
 * out or died before the day is not listed, nor one who joined, moved in or
 * was born after it. A resident's versions never overlap (a change on D
 * closes the previous one at D; a same-day 職権修正 leaves it [D, D)), so
 * at most one of them is valid on a day. */
#define HOUSEHOLD_SELECT                                                                           \
	"SELECT " RES_STATE_COLS " FROM resident_versions WHERE lg_code = ? AND setai_no = ? AND " \
	"valid_from <= ? AND (valid_to IS NULL OR ? < valid_to) AND status = 1 ORDER BY CASE "     \
	"WHEN zokugara = '世帯主' THEN 0 ELSE 1 END, birth, atena_no"

int resident_household(struct app *app, const struct resident_actor *who, const char *setai_no,
		       const char *as_of, json_t **out)
{
	*out = NULL;
	char day[RES_DATE_LEN + 1];
	if (!res_actor_ok(who, true) || !setai_no ||
	    !checkdigit_atena_valid(setai_no, strlen(setai_no)))
		return -EINVAL;
	if (as_of && !res_valid_date(as_of))
		return -EINVAL;
	if (as_of)
		snprintf(day, sizeof day, "%s", as_of);
	else
		res_today(day);
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st;
	json_t *arr = json_array();
	int rc = -EIO;
	if (prepare_keyed(c, HOUSEHOLD_SELECT, who->lg_code, setai_no, &st) != 0)
		goto out;
	db_bind_text(st, 3, day);
	db_bind_text(st, 4, day);
	if (state_rows(st, arr) < 0)
		goto out;
	char detail[64];
	snprintf(detail, sizeof detail, "household %s as of %s", setai_no, day);
	if (json_array_size(arr) == 0) {
		rc = audit_handover(app, who, "resident.read", NULL, false, detail, &arr, out);
		goto out;
	}
	/* one entry per member, so each finds this read among their own entries */
	size_t i;
	json_t *m;
	json_array_foreach (arr, i, m) {
		const char *jc = json_string_value(json_object_get(m, "juminhyo_code"));
		if (res_audit(app, who, "resident.read", jc, "ok", detail) != 0)
			goto out;
	}
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	json_decref(arr);
	db_release(c);
	return rc;
}

int resident_mynumber(struct app *app, const struct resident_actor *who, const char *juminhyo_code,
		      char out[13])
{
	memset(out, 0, 13);
	if (!res_actor_ok(who, true) || !valid_code(juminhyo_code))
		return -EINVAL;
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st;
	unsigned char blob[RES_MN_ENC_BYTES];
	size_t n = 0;
	int rc = -EIO, s;
	if (prepare_keyed(
		    c, "SELECT mynumber_enc FROM residents WHERE lg_code = ? AND juminhyo_code = ?",
		    who->lg_code, juminhyo_code, &st) != 0)
		goto out;
	s = db_step(st);
	if (s == DB_ROW) {
		const void *p = db_col_blob(st, 0, &n);
		if (p && n == sizeof blob)
			memcpy(blob, p, n);
		else
			n = 0;
	}
	db_done(st);
	if (s < 0)
		goto out;
	bool found = s == DB_ROW && n > 0;
	if (res_audit(app, who, "resident.mynumber", juminhyo_code, found ? "ok" : "not_found",
		      NULL) != 0)
		goto out;
	if (!found) {
		rc = -ENOENT;
		goto out;
	}
	unsigned char key[32];
	keys_derive(app->keys, KEY_MYNUMBER_ENC, key);
	rc = res_mn_open(key, who->lg_code, juminhyo_code, blob, n, out);
	sodium_memzero(key, sizeof key);
out:
	sodium_memzero(blob, sizeof blob);
	db_release(c);
	return rc;
}

int resident_link_account(struct app *app, const char *lg_code, const char *juminhyo_code,
			  int64_t account_id)
{
	if (!lg_code || !valid_code(juminhyo_code) || account_id <= 0)
		return -EINVAL;
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st;
	int rc = -EIO;
	if (db_begin_write(c) != 0)
		goto out;
	/* a login belongs to one record: unlink it from any other first */
	if (db_prepare(
		    c,
		    "UPDATE residents SET account_id = NULL WHERE lg_code = ? AND account_id = ? "
		    "AND juminhyo_code <> ?",
		    &st) != 0)
		goto out;
	db_bind_text(st, 1, lg_code);
	db_bind_int64(st, 2, account_id);
	db_bind_text(st, 3, juminhyo_code);
	int s = db_step(st);
	db_done(st);
	if (s < 0 || db_prepare(c,
				"UPDATE residents SET account_id = ? WHERE lg_code = ? AND "
				"juminhyo_code = ?",
				&st) != 0)
		goto out;
	db_bind_int64(st, 1, account_id);
	db_bind_text(st, 2, lg_code);
	db_bind_text(st, 3, juminhyo_code);
	s = db_step(st);
	int64_t changed = s >= 0 ? db_changes(st) : 0;
	db_done(st);
	if (s < 0)
		goto out;
	if (changed == 0) {
		rc = -ENOENT;
		goto out;
	}
	rc = db_commit(c) == 0 ? 0 : -EIO;
out:
	db_release(c); /* rolls back what was not committed */
	return rc;
}

int resident_of_account(struct app *app, const char *lg_code, int64_t account_id,
			char juminhyo_code[12])
{
	juminhyo_code[0] = '\0';
	if (!lg_code || account_id <= 0)
		return -EINVAL;
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st;
	int rc = -EIO;
	if (db_prepare(c,
		       "SELECT juminhyo_code FROM residents WHERE lg_code = ? AND account_id = ? "
		       "ORDER BY status, id DESC LIMIT 1",
		       &st) == 0) {
		db_bind_text(st, 1, lg_code);
		db_bind_int64(st, 2, account_id);
		int s = db_step(st);
		if (s == DB_ROW) {
			snprintf(juminhyo_code, 12, "%s", db_col_text(st, 0));
			rc = 0;
		} else if (s == DB_DONE) {
			rc = -ENOENT;
		}
		db_done(st);
	}
	db_release(c);
	return rc;
}

/* The postal code and address parts of the resident's 町字 from the
 * Address Base Registry, when it is loaded. */
static void town_parts(struct db_conn *c, const char *lg_code, const char *machiaza_id, json_t *o)
{
	json_t *post = json_null(), *pref = json_null(), *city = json_null(), *town = json_null();
	struct db_stmt *st;
	if (machiaza_id &&
	    prepare_keyed(c,
			  "SELECT post_code, pref, coalesce(county, '') || coalesce(city, '') || "
			  "coalesce(ward, ''), coalesce(oaza_cho, '') || coalesce(chome, '') || "
			  "coalesce(koaza, '') FROM abr_town WHERE lg_code = ? AND machiaza_id = ? "
			  "ORDER BY rsdt_addr_flg DESC LIMIT 1",
			  lg_code, machiaza_id, &st) == 0) {
		if (db_step(st) == DB_ROW) {
			const char *v[4];
			for (int i = 0; i < 4; i++)
				v[i] = db_col_text(st, i);
			json_decref(post);
			json_decref(pref);
			json_decref(city);
			json_decref(town);
			post = v[0] && *v[0] ? json_string(v[0]) : json_null();
			pref = v[1] ? json_string(v[1]) : json_null();
			city = v[2] ? json_string(v[2]) : json_null();
			town = v[3] ? json_string(v[3]) : json_null();
		}
		db_done(st);
	}
	json_object_set_new(o, "postal_code", post);
	json_object_set_new(o, "pref", pref);
	json_object_set_new(o, "city", city);
	json_object_set_new(o, "town", town);
}

int resident_prefill(struct app *app, const struct resident_actor *who, const char *juminhyo_code,
		     json_t **out)
{
	*out = NULL;
	if (!res_actor_ok(who, true) || !valid_code(juminhyo_code))
		return -EINVAL;
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st;
	json_t *o = NULL, *codes = NULL;
	int rc = -EIO, s;
	if (prepare_keyed(c, SUMMARY_SELECT "AND juminhyo_code = ?", who->lg_code, juminhyo_code,
			  &st) != 0)
		goto out;
	s = db_step(st);
	char setai[CHECKDIGIT_ATENA_MAX + 1] = "", machiaza[16] = "";
	if (s == DB_ROW) {
		json_t *all = json_object();
		res_state_json(all, st, 0);
		o = json_object();
		static const char *const keep[] = {
			"juminhyo_code", "name",    "name_kana", "birth",    "birth_wareki", "sex",
			"sex_ja",        "address", "setai_no",  "zokugara", "status",       NULL};
		for (int i = 0; keep[i]; i++) {
			json_t *v = json_object_get(all, keep[i]);
			json_object_set(o, keep[i], v ? v : json_null());
		}
		json_decref(all);
		snprintf(setai, sizeof setai, "%s", db_col_text(st, 2));
		const char *m = db_col_text(st, 9);
		snprintf(machiaza, sizeof machiaza, "%s", m ? m : "");
	}
	db_done(st);
	if (s < 0)
		goto out;
	if (!o) {
		rc = audit_handover(app, who, "resident.prefill", juminhyo_code, false, NULL, &o,
				    out);
		goto out;
	}
	town_parts(c, who->lg_code, *machiaza ? machiaza : NULL, o);
	json_t *members = json_array();
	json_object_set_new(o, "household", members);
	codes = json_array();
	if (prepare_keyed(
		    c,
		    "SELECT name, name_kana, zokugara, birth, juminhyo_code FROM residents WHERE "
		    "lg_code = ? AND "
		    "setai_no = ? AND status = 1 AND juminhyo_code <> ? ORDER BY CASE WHEN "
		    "zokugara = '世帯主' THEN 0 ELSE 1 END, birth, atena_no",
		    who->lg_code, setai, &st) != 0)
		goto out;
	db_bind_text(st, 3, juminhyo_code);
	while ((s = db_step(st)) == DB_ROW) {
		json_t *m = json_object();
		opt_text(m, "name", st, 0);
		opt_text(m, "name_kana", st, 1);
		opt_text(m, "zokugara", st, 2);
		opt_text(m, "birth", st, 3);
		json_array_append_new(members, m);
		const char *mc = db_col_text(st, 4);
		json_array_append_new(codes, json_string(mc ? mc : ""));
	}
	db_done(st);
	if (s < 0)
		goto out;
	/* one entry per other member, so each finds this read of their name and
	 * birth among their own entries (as resident_household does) */
	size_t i;
	json_t *mc;
	json_array_foreach (codes, i, mc) {
		if (res_audit(app, who, "resident.prefill", json_string_value(mc), "ok",
			      "name, kana, zokugara, birth (as a member of the household)") != 0)
			goto out;
	}
	char detail[96];
	snprintf(detail, sizeof detail,
		 "name, kana, birth, sex, address, household (%zu other members' names)",
		 json_array_size(members));
	rc = audit_handover(app, who, "resident.prefill", juminhyo_code, true, detail, &o, out);
out:
	json_decref(o);
	json_decref(codes);
	db_release(c);
	return rc;
}
