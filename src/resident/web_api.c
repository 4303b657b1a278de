/* The resident record's JSON API under /api/v1: search, one resident as of
 * a date, the change history, once-only prefill for staff and for the
 * resident, and recording a change. Every read names its purpose, which the
 * core writes to the audit log; errors are problem+json in Japanese. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app/dispatch.h"
#include "app/platform.h"
#include "http/req_internal.h"
#include <sodium.h>
#include "resident/web_util.h"

/* The self-service purpose when a resident reads their own record. */
#define SELF_PURPOSE "本人による閲覧（わたしの情報）"

static void fail(struct req *r, struct res *s, int rc, const char *msg)
{
	if (rc == -ENOENT)
		res_problem(r, s, 404, "住民が見つかりません",
			    "この市区町村の住民記録に、指定した住民は見つかりません。");
	else if (rc == -EINVAL)
		res_problem(r, s, 400, "入力内容を確認してください",
			    msg && *msg ? msg : "指定した値が正しくありません。");
	else
		res_problem(r, s, 503, http_status_title_ja(503),
			    "住民記録を読み出せませんでした。時間をおいてからお試しください。");
}

/* A read of personal data by GET authenticated with the session cookie must
 * send the session's token in X-CSRF-Token: a GET is not CSRF-checked by
 * dispatch, and a link or a top-level navigation from another site carries
 * the SameSite=Lax cookie, which would make a clerk's browser read (and
 * write audit entries) unawares. Bearer-token requests (session_id 0) carry
 * no ambient credential. False after answering 403. */
static bool read_csrf_ok(struct req *r, struct res *s)
{
	if (r->who.session_id == 0)
		return true;
	const char *hdr = req_header(r, "X-CSRF-Token");
	if (hdr && r->who.csrf && platform_token_equal(hdr, r->who.csrf))
		return true;
	res_problem(r, s, 403, "X-CSRF-Token ヘッダーが必要です",
		    "ログインの Cookie で住民の情報を読むときは、ログインで受け取った csrf の値を "
		    "X-CSRF-Token ヘッダーで送ってください。");
	return false;
}

/* The purpose of a staff read, or NULL after answering 400. */
static const char *api_purpose(struct req *r, struct res *s, const char *in)
{
	const char *field = NULL, *err = NULL;
	const char *p = rweb_purpose_resolve(r, in, NULL, true, &field, &err);
	if (!p)
		res_problem(r, s, 400, "利用目的（purpose）を指定してください",
			    in && *in ?
				    err :
				    "住民の情報を読むには、purpose に利用目的（例：証明書の発行）を"
				    "指定してください。");
	return p;
}

/* The route's 住民票コード, or NULL after answering 400. */
static const char *api_code(struct req *r, struct res *s)
{
	const char *code = req_param(r, "code");
	if (!rweb_code_ok(code)) {
		res_problem(r, s, 400, "住民票コードが正しくありません",
			    "住民票コードは11桁の半角数字で指定してください。");
		return NULL;
	}
	return code;
}

/* The route's 住民票コード, with who filled for a staff read for the
 * ?purpose= of the URL, or NULL after answering 400. */
static const char *staff_read(struct req *r, struct res *s, struct resident_actor *who)
{
	if (!read_csrf_ok(r, s))
		return NULL;
	const char *code = api_code(r, s);
	if (!code)
		return NULL;
	const char *purpose = api_purpose(r, s, req_query(r, "purpose"));
	if (!purpose)
		return NULL;
	rweb_actor(r, purpose, who);
	return code;
}

/* Answers a read of one record: 200 with it, or the error of rc. */
static void reply_one(struct req *r, struct res *s, int rc, json_t *rec)
{
	if (rc != 0) {
		fail(r, s, rc, NULL);
		return;
	}
	rweb_decorate(r, rec);
	res_json(r, s, 200, rec);
}

/* Shared by GET and POST search: validates and answers. get says whether
 * the text came in the URL (then a number of RWEB_MN_DIGITS digits or more,
 * counted once folded, is refused). Every copy of q is wiped on every exit
 * of a POST, and of a GET that held such a number. */
static void search(struct req *r, struct res *s, const char *q_in, const char *birth_in,
		   const char *purpose_in, const char *limit_in, bool get)
{
	size_t digits = 0;
	const char *q = NULL;
	const char *purpose = api_purpose(r, s, purpose_in);
	if (!purpose)
		goto out;
	if (q_in && strlen(q_in) > RWEB_Q_MAX) {
		res_problem(r, s, 400, "検索条件が長すぎます",
			    "q は256バイト以内で指定してください。");
		goto out;
	}
	q = rweb_search_text(r, q_in, &digits);
	if (get && digits >= RWEB_MN_DIGITS) {
		res_problem(r, s, 400, "個人番号はURLに含められません",
			    "12桁の番号（個人番号の可能性があるもの）で探すときは、URLに含めず "
			    "POST /api/v1/residents/search で送ってください。");
		goto out;
	}
	const char *birth = NULL, *err = NULL;
	if (rweb_date(r, birth_in, &birth, &err) != 0) {
		res_problem(r, s, 400, "生年月日が正しくありません", err);
		goto out;
	}
	if ((!q || !*q) && !birth) {
		res_problem(
			r, s, 400, "検索条件を指定してください",
			"q（氏名・カナ・住民票コード・宛名番号・個人番号）か birth（生年月日）を"
			"指定してください。");
		goto out;
	}
	int limit = 50;
	if (limit_in && *limit_in) {
		char *end;
		long v = strtol(limit_in, &end, 10);
		if (*end || v < 1 || v > RESIDENT_SEARCH_MAX) {
			res_problem(r, s, 400, "limit の値が正しくありません",
				    "limit は1から100までの整数で指定してください。");
			goto out;
		}
		limit = (int)v;
	}
	struct resident_actor who;
	rweb_actor(r, purpose, &who);
	json_t *items = NULL;
	int rc = resident_search(r->app, &who, q && *q ? q : NULL, birth, limit, &items);
	if (rc != 0) {
		fail(r, s, rc, "検索条件が正しくありません。");
		goto out;
	}
	rweb_decorate_all(r, items);
	res_json(r, s, 200, json_pack("{s:o, s:i}", "items", items, "limit", limit));
out:
	if (!get || digits >= RWEB_MN_DIGITS)
		rweb_wipe(r, q_in, q);
}

void rweb_api_search(struct req *r, struct res *s)
{
	if (!read_csrf_ok(r, s))
		return;
	search(r, s, req_query(r, "q"), req_query(r, "birth"), req_query(r, "purpose"),
	       req_query(r, "limit"), true);
}

/* A string member of a request body: NULL when absent or null; sets *bad
 * when present with another type. */
static const char *body_str(json_t *in, const char *key, bool *bad)
{
	json_t *v = json_object_get(in, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

void rweb_api_search_post(struct req *r, struct res *s)
{
	json_t *in = req_json(r, s);
	if (!in) {
		rweb_wipe(r, NULL, NULL); /* the body may hold a My Number */
		return;
	}
	bool bad = !json_is_object(in);
	const char *q = body_str(in, "q", &bad), *birth = body_str(in, "birth", &bad);
	const char *purpose = body_str(in, "purpose", &bad);
	json_t *lim = json_object_get(in, "limit");
	const char *limit = NULL;
	if (json_is_integer(lim))
		limit = arena_printf(r->arena, "%lld", (long long)json_integer_value(lim));
	else if (lim && !json_is_null(lim))
		bad = true;
	if (bad) {
		res_problem(r, s, 400, "入力内容を確認してください",
			    "q, birth, purpose は文字列、limit は整数で指定してください。");
		rweb_wipe(r, NULL, NULL);
	} else {
		/* copied: the strings belong to in */
		search(r, s, q ? arena_strdup(r->arena, q) : NULL,
		       birth ? arena_strdup(r->arena, birth) : NULL,
		       purpose ? arena_strdup(r->arena, purpose) : NULL, limit, false);
	}
	/* the jansson copy of q (the body and the arena copies were wiped by
	 * search or above); jansson's own parse buffers are not ours to reach */
	if (q)
		sodium_memzero((void *)q, strlen(q));
	json_decref(in);
}

/* staff_read plus the 基準日 (?as_of=, NULL for today); NULL when refused
 * (the answer is sent). */
static const char *staff_read_as_of(struct req *r, struct res *s, struct resident_actor *who,
				    const char **as_of)
{
	const char *code = staff_read(r, s, who), *err = NULL;
	*as_of = NULL;
	if (code && rweb_date(r, req_query(r, "as_of"), as_of, &err) != 0) {
		res_problem(r, s, 400, "基準日（as_of）が正しくありません", err);
		return NULL;
	}
	return code;
}

void rweb_api_get(struct req *r, struct res *s)
{
	struct resident_actor who;
	const char *as_of;
	const char *code = staff_read_as_of(r, s, &who, &as_of);
	if (!code)
		return;
	json_t *rec = NULL;
	int rc = resident_get(r->app, &who, code, as_of, &rec);
	reply_one(r, s, rc, rec);
}

/* GET /api/v1/residents/:code/household?purpose=&as_of=: the household the
 * resident belonged to on the 基準日 (today when none), its members as they
 * were that day — {juminhyo_code, setai_no, as_of, items}. Reading the
 * resident (to learn the 世帯番号 of that day) and each member is audited
 * with the purpose; a household with no active member that day (the
 * resident had moved out, say) is an empty list. */
void rweb_api_household(struct req *r, struct res *s)
{
	struct resident_actor who;
	const char *as_of;
	const char *code = staff_read_as_of(r, s, &who, &as_of);
	if (!code)
		return;
	json_t *rec = NULL, *items = NULL;
	int rc = resident_get(r->app, &who, code, as_of, &rec);
	if (rc != 0) {
		fail(r, s, rc, NULL);
		return;
	}
	/* the day rec was read for (as_of or today), so both are of one day */
	const char *day = arena_strdup(r->arena, rweb_str(rec, "as_of"));
	const char *setai = arena_strdup(r->arena, rweb_str(rec, "setai_no"));
	json_decref(rec);
	rc = resident_household(r->app, &who, setai, day, &items);
	if (rc == -ENOENT) {
		items = json_array();
	} else if (rc != 0) {
		fail(r, s, rc, NULL);
		return;
	}
	rweb_decorate_all(r, items);
	rweb_strip_mynumber(items);
	res_json(r, s, 200,
		 json_pack("{s:s, s:s, s:s, s:s, s:o}", "juminhyo_code", code, "setai_no", setai,
			   "as_of", day, "as_of_ja", rweb_date_ja(r, day), "items", items));
}

void rweb_api_history(struct req *r, struct res *s)
{
	struct resident_actor who;
	const char *code = staff_read(r, s, &who);
	if (!code)
		return;
	json_t *items = NULL;
	int rc = resident_history(r->app, &who, code, &items);
	if (rc != 0) {
		fail(r, s, rc, NULL);
		return;
	}
	rweb_decorate_all(r, items);
	res_json(r, s, 200, json_pack("{s:s, s:o}", "juminhyo_code", code, "items", items));
}

void rweb_api_prefill(struct req *r, struct res *s)
{
	struct resident_actor who;
	const char *code = staff_read(r, s, &who);
	if (!code)
		return;
	json_t *out = NULL;
	int rc = resident_prefill(r->app, &who, code, &out);
	reply_one(r, s, rc, out);
}

void rweb_api_event(struct req *r, struct res *s)
{
	const char *code = api_code(r, s);
	if (!code)
		return;
	json_t *in = req_json(r, s);
	if (!in)
		return;
	bool bad = !json_is_object(in);
	static const char *const keys[] = {"event",       "date",     "notified", "name",
					   "name_kana",   "zokugara", "setai_no", "address",
					   "machiaza_id", "blk_id",   "rsdt_id",  "prc_id",
					   NULL};
	const char *v[13] = {0};
	for (int i = 0; keys[i]; i++) {
		const char *x = body_str(in, keys[i], &bad);
		v[i] = x && *x ? arena_strdup(r->arena, x) : NULL;
	}
	json_decref(in);
	if (bad) {
		res_problem(r, s, 400, "入力内容を確認してください",
			    "各項目は文字列で指定してください。");
		return;
	}
	enum resident_event ev;
	if (!rweb_change_event(v[0], &ev)) {
		/* 転入 and 出生 create residents: they come by import, as on the console */
		res_problem(r, s, 400, "異動の種類（event）が正しくありません",
			    "event には tenkyo, tenshutsu, shibou, setai, correct のいずれかを指定"
			    "してください（転入・出生は住民記録の取り込みで登録します）。");
		return;
	}
	const char *date = NULL, *notified = NULL, *err = NULL;
	if (rweb_date(r, v[1], &date, &err) != 0 || !date) {
		res_problem(r, s, 400, "異動日（date）が正しくありません",
			    err ? err : "異動日を指定してください。");
		return;
	}
	if (rweb_date(r, v[2], &notified, &err) != 0) {
		res_problem(r, s, 400, "届出日（notified）が正しくありません", err);
		return;
	}
	struct resident_rec rec = {
		.name = v[3],
		.name_kana = v[4],
		.zokugara = v[5],
		.setai_no = v[6],
		.address = v[7],
		.machiaza_id = v[8],
		.blk_id = v[9],
		.rsdt_id = v[10],
		.prc_id = v[11],
	};
	char msg[256] = "";
	int rc = rweb_record_change(r, code, ev, date, notified, &rec, msg, sizeof msg);
	if (rc != 0) {
		fail(r, s, rc, msg);
		return;
	}
	res_json(r, s, 201,
		 json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "juminhyo_code", code, "event",
			   resident_event_code(ev), "date", date));
}

/* The signed-in resident's own 住民票コード, or false after answering 404. */
static bool own_code(struct req *r, struct res *s, char code[12])
{
	int rc = resident_of_account(r->app, r->who.lg_code, r->who.account_id, code);
	if (rc == 0)
		return true;
	if (rc == -ENOENT)
		res_problem(r, s, 404, "住民記録が結び付けられていません",
			    "このアカウントには、まだ住民記録が結び付けられていません。"
			    "市区町村の窓口にお問い合わせください。");
	else
		fail(r, s, rc, NULL);
	return false;
}

void rweb_api_me(struct req *r, struct res *s)
{
	char code[12];
	if (!read_csrf_ok(r, s))
		return;
	const char *p = req_query(r, "purpose");
	const char *purpose = SELF_PURPOSE;
	if (p && *p && !(purpose = api_purpose(r, s, p)))
		return;
	if (!own_code(r, s, code))
		return;
	struct resident_actor who;
	rweb_actor(r, purpose, &who);
	who.self_code = code;
	json_t *rec = NULL, *household = NULL;
	int rc = resident_get(r->app, &who, code, NULL, &rec);
	if (rc != 0) {
		fail(r, s, rc, NULL);
		return;
	}
	rweb_decorate(r, rec);
	const char *setai = json_string_value(json_object_get(rec, "setai_no"));
	const char *day = rweb_str(rec, "as_of"); /* the day rec was read for */
	if (setai && resident_household(r->app, &who, setai, *day ? day : NULL, &household) == 0) {
		/* of the members only what わたしの情報 shows: no numbers, no
		 * address, no ids */
		json_t *members = json_array();
		size_t i;
		json_t *m;
		json_array_foreach (household, i, m) {
			json_t *o = json_object();
			static const char *const keep[] = {"name", "name_kana", "zokugara", "birth",
							   NULL};
			for (const char *const *k = keep; *k; k++) {
				json_t *v = json_object_get(m, *k);
				json_object_set(o, *k, v ? v : json_null());
			}
			json_array_append_new(members, o);
		}
		json_decref(household);
		json_object_set_new(rec, "household", members);
	}
	res_json(r, s, 200, rec);
}

void rweb_api_me_prefill(struct req *r, struct res *s)
{
	char code[12];
	if (!read_csrf_ok(r, s))
		return;
	const char *purpose = api_purpose(r, s, req_query(r, "purpose"));
	if (!purpose || !own_code(r, s, code))
		return;
	struct resident_actor who;
	rweb_actor(r, purpose, &who);
	who.self_code = code;
	json_t *out = NULL;
	int rc = resident_prefill(r->app, &who, code, &out);
	reply_one(r, s, rc, out);
}
