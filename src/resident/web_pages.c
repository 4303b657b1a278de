/* The resident record's pages: the staff console's search, detail (as of a
 * date, household, 異動履歴) and change (異動届) forms, and the resident's
 * own わたしの情報. Every read goes through resident.h with its purpose, so
 * the core writes the audit entry before anything is shown. */
#include <errno.h>
#include <string.h>

#include "app/dispatch.h"
#include "http/req_internal.h"
#include "app/render.h"
#include "resident/web_util.h"

#define SELF_PURPOSE "本人による閲覧（わたしの情報）"

/* A field of the submitted form (POST) or of the query string (GET). */
static const char *field(struct req *r, const char *name)
{
	return r->method == HTTP_POST ? req_form(r, name) : req_query(r, name);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static void page_fail(struct req *r, struct res *s, int rc)
{
	if (rc == -ENOENT)
		res_problem(r, s, 404, "住民が見つかりません",
			    "この市区町村の住民記録に、指定した住民は見つかりません。"
			    "基準日を指定した場合は、その日に住民であったかも確かめてください。");
	else
		res_problem(r, s, 503, http_status_title_ja(503),
			    "住民記録を読み出せませんでした。時間をおいてからお試しください。");
}

/* Search form and results. Only a POST of the form (with its CSRF token)
 * searches: a GET, from a link or a bookmark, shows the form filled in and
 * reads nothing, so that another site cannot make a clerk's browser search
 * (and write audit entries) unawares, and a My Number stays out of URLs. */
void rweb_page_search(struct req *r, struct res *s)
{
	bool post = r->method == HTTP_POST;
	const char *q_raw = field(r, "q"), *birth_in = field(r, "birth");
	const char *q_in = q_raw;
	const char *pcode = field(r, "purpose"), *pother = field(r, "purpose_other");
	json_t *ctx = json_object();
	json_t *errors = json_object();
	bool asked = post || (q_in && *q_in) || (birth_in && *birth_in) || (pcode && *pcode);
	size_t digits = 0;
	const char *q = NULL, *birth = NULL, *purpose = NULL, *err = NULL, *pfield = NULL;
	if (asked) {
		if (q_in && strlen(q_in) > RWEB_Q_MAX) {
			json_object_set_new(
				errors, "q",
				json_string("検索する文字は256バイト（全角で約80文字）以内で"
					    "入力してください。"));
			q_in = NULL;
		} else {
			q = rweb_search_text(r, q_in, &digits);
			if (digits >= RWEB_MN_DIGITS && !post)
				json_object_set_new(
					errors, "q",
					json_string(
						"個人番号で探すときは、この画面の検索ボタンから送信"
						"してください（URLに個人番号を含めないため）。"));
		}
	}
	if (post) {
		if (rweb_date(r, birth_in, &birth, &err) != 0)
			json_object_set_new(errors, "birth", json_string(err));
		if (!(purpose = rweb_purpose_resolve(r, pcode, pother, false, &pfield, &err)))
			json_object_set_new(errors, pfield, json_string(err));
		if ((!q || !*q) && !birth && !json_object_get(errors, "q") &&
		    !json_object_get(errors, "birth"))
			json_object_set_new(
				errors, "q",
				json_string("氏名・カナ・番号のいずれか、または生年月日を"
					    "入力してください。"));
	}
	/* a number that may be a My Number is not written back into the page */
	json_object_set_new(ctx, "form",
			    json_pack("{s:s, s:s, s:s}", "q",
				      digits >= RWEB_MN_DIGITS ? "" : or_empty(q_in), "birth",
				      or_empty(birth_in), "purpose_other", or_empty(pother)));
	json_object_set_new(ctx, "purposes", rweb_purpose_choices(pcode));
	int status = 200;
	if (json_object_size(errors)) {
		json_object_set_new(ctx, "errors", errors);
		status = 400;
	} else if (!post) {
		json_decref(errors);
		if (asked)
			json_object_set_new(
				ctx, "notice",
				json_string("条件を確かめて「検索する」を押してください。"
					    "検索は、このボタンからだけ行います。"));
	} else {
		json_decref(errors);
		struct resident_actor who;
		rweb_actor(r, purpose, &who);
		json_t *items = NULL;
		int rc = resident_search(r->app, &who, q && *q ? q : NULL, birth,
					 RESIDENT_SEARCH_MAX, &items);
		if (rc == -EINVAL) {
			json_object_set_new(
				ctx, "errors",
				json_pack("{s:s}", "q", "検索条件を読み取れませんでした。"));
			status = 400;
		} else if (rc != 0) {
			json_decref(ctx);
			page_fail(r, s, rc);
			goto out;
		} else {
			rweb_decorate_all(r, items);
			size_t i;
			json_t *it;
			json_array_foreach (items, i, it)
				json_object_set_new(
					it, "view_href",
					json_string(rweb_view_link(r, rweb_str(it, "juminhyo_code"),
								   pcode, pother, NULL)));
			json_object_set_new(ctx, "results", items);
			json_object_set_new(ctx, "searched", json_true());
			json_object_set_new(ctx, "result_count",
					    json_integer((json_int_t)json_array_size(items)));
			json_object_set_new(
				ctx, "result_max",
				json_boolean(json_array_size(items) >= RESIDENT_SEARCH_MAX));
		}
	}
	page_render(r, s, status, "resident_search", "住民記録の検索", "residents", ctx);
out:
	/* every copy of what was typed, once answered (a POST always: it is the
	 * way a My Number comes in) */
	if (post || digits >= RWEB_MN_DIGITS)
		rweb_wipe(r, q_raw, q);
}

/* The household list as of day (ISO), with links to the other members'
 * records for staff (links true: each with its own view token and the
 * 基準日 link_as_of, NULL for today) and without the current member's own
 * row marked twice. */
static json_t *household_rows(struct req *r, const struct resident_actor *who, const char *setai,
			      const char *day, const char *link_as_of, const char *self_code,
			      bool links, const char *pcode, const char *pother)
{
	json_t *hh = NULL;
	if (!setai || !*setai || resident_household(r->app, who, setai, day, &hh) != 0)
		return NULL;
	rweb_decorate_all(r, hh);
	rweb_strip_mynumber(hh);
	size_t i;
	json_t *m;
	json_array_foreach (hh, i, m) {
		const char *c = rweb_str(m, "juminhyo_code");
		json_object_set_new(m, "is_self", json_boolean(!strcmp(c, self_code)));
		static const char *const keys[] = {"name", "name_kana", "zokugara", "birth_ja",
						   NULL};
		for (const char *const *k = keys; *k; k++)
			if (!json_is_string(json_object_get(m, *k)))
				json_object_set_new(m, *k, json_string(""));
		if (links)
			json_object_set_new(
				m, "view_href",
				json_string(rweb_view_link(r, c, pcode, pother, link_as_of)));
	}
	return hh;
}

static json_t *history_rows(struct req *r, const struct resident_actor *who, const char *code)
{
	json_t *h = NULL;
	if (resident_history(r->app, who, code, &h) != 0)
		return NULL;
	rweb_decorate_all(r, h);
	/* newest first, as a clerk reads a 異動履歴 */
	json_t *rev = json_array();
	for (size_t i = json_array_size(h); i > 0; i--) {
		json_t *v = json_array_get(h, i - 1);
		json_object_del(v, "mynumber_masked");
		/* every key the template reads, so none is looked up outside the row */
		static const char *const keys[] = {"valid_from_ja", "notified_ja", "event_ja",
						   "name",          "address",     "zokugara",
						   "status_label",  NULL};
		for (const char *const *k = keys; *k; k++)
			if (!json_is_string(json_object_get(v, *k)))
				json_object_set_new(v, *k, json_string(""));
		json_array_append(rev, v);
	}
	json_decref(h);
	return rev;
}

/* Puts rec (decorated), its household on rec's day (its "as_of", which
 * resident_get sets: the 基準日 or today) and its 異動履歴 into ctx for the
 * detail page and わたしの情報, with household_as_of_ja the day of the
 * household list in 和暦; links: the household links to the members'
 * records (staff) with purpose pcode/pother and that 基準日. */
static void show_record(struct req *r, json_t *ctx, const struct resident_actor *who,
			const char *code, json_t *rec, bool links, const char *pcode,
			const char *pother, const char *as_of)
{
	rweb_decorate(r, rec);
	/* the day rec was read for, so that both are of one day even at midnight */
	const char *day = rweb_str(rec, "as_of");
	json_object_set_new(ctx, "household_as_of_ja", json_string(rweb_date_ja(r, day)));
	json_t *hh = household_rows(r, who, rweb_str(rec, "setai_no"), *day ? day : as_of, as_of,
				    code, links, pcode, pother);
	json_t *hist = history_rows(r, who, code);
	if (hh)
		json_object_set_new(ctx, "household", hh);
	if (hist)
		json_object_set_new(ctx, "history", hist);
	json_object_set_new(ctx, "resident", rec);
	json_object_set_new(ctx, "shown", json_true());
}

/* The detail page's purpose form (nothing read): status 200 or 400 with
 * errors, notice NULL or a message. */
static void ask_purpose(struct req *r, struct res *s, const char *code, const char *pcode,
			const char *pother, const char *as_of_in, json_t *errors,
			const char *notice)
{
	json_t *ctx = json_object();
	json_object_set_new(ctx, "code", json_string(code));
	json_object_set_new(ctx, "purposes", rweb_purpose_choices(pcode));
	json_object_set_new(ctx, "form",
			    json_pack("{s:s, s:s, s:s}", "purpose", or_empty(pcode),
				      "purpose_other", or_empty(pother), "as_of",
				      or_empty(as_of_in)));
	json_object_set_new(ctx, "need_purpose", json_true());
	if (notice)
		json_object_set_new(ctx, "notice", json_string(notice));
	int status = 200;
	if (errors && json_object_size(errors)) {
		json_object_set_new(ctx, "errors", errors);
		status = 400;
	} else {
		json_decref(errors);
	}
	page_render(r, s, status, "resident_detail", "住民記録の表示", "residents", ctx);
}

/* The route's 住民票コード, or NULL after answering 404. */
static const char *page_code(struct req *r, struct res *s)
{
	const char *code = req_param(r, "code");
	if (rweb_code_ok(code))
		return code;
	res_problem(r, s, 404, "住民が見つかりません",
		    "住民票コードは11桁の数字です。アドレスを確かめてください。");
	return NULL;
}

/* Resolves the purpose and the 基準日 of the detail page's fields (query or
 * form): the errors by field (empty when none), *purpose and *as_of set. */
static json_t *detail_fields(struct req *r, const char **pcode, const char **pother,
			     const char **as_of_in, const char **purpose, const char **as_of)
{
	*pcode = field(r, "purpose");
	*pother = field(r, "purpose_other");
	*as_of_in = field(r, "as_of");
	json_t *errors = json_object();
	const char *pfield = NULL, *err = NULL;
	if (!(*purpose = rweb_purpose_resolve(r, *pcode, *pother, false, &pfield, &err)))
		json_object_set_new(errors, pfield, json_string(err));
	if (rweb_date(r, *as_of_in, as_of, &err) != 0)
		json_object_set_new(errors, "as_of", json_string(err));
	return errors;
}

/* GET /staff/residents/:code shows the record only with a valid view token
 * (rweb_view_link: made after a POST of the purpose form, or for a link of
 * a page this session was shown); without one it asks for the purpose and
 * reads nothing. */
void rweb_page_detail(struct req *r, struct res *s)
{
	const char *code = page_code(r, s);
	if (!code)
		return;
	const char *pcode, *pother, *as_of_in, *purpose, *as_of = NULL;
	int tk = rweb_view_check(r, code);
	json_t *errors = detail_fields(r, &pcode, &pother, &as_of_in, &purpose, &as_of);
	if (tk != 0) { /* whatever the fields: nothing is read without a token */
		json_decref(errors);
		ask_purpose(r, s, code, pcode, pother, as_of_in, NULL,
			    tk == -ENOENT ? NULL :
					    "表示の有効期限が切れたか、リンクが正しくありません。"
					    "利用目的を確かめて「表示する」を押してください。");
		return;
	}
	if (json_object_size(errors)) {
		ask_purpose(r, s, code, pcode, pother, as_of_in, errors, NULL);
		return;
	}
	json_decref(errors);
	struct resident_actor who;
	rweb_actor(r, purpose, &who);
	json_t *rec = NULL;
	int rc = resident_get(r->app, &who, code, as_of, &rec);
	if (rc != 0) {
		page_fail(r, s, rc);
		return;
	}
	json_t *ctx = json_object();
	json_object_set_new(ctx, "code", json_string(code));
	json_object_set_new(ctx, "form",
			    json_pack("{s:s, s:s, s:s}", "purpose", or_empty(pcode),
				      "purpose_other", or_empty(pother), "as_of",
				      or_empty(as_of_in)));
	json_object_set_new(ctx, "purpose_label", json_string(purpose));
	if (as_of)
		json_object_set_new(ctx, "as_of_ja", json_string(rweb_date_ja(r, as_of)));
	show_record(r, ctx, &who, code, rec, true, pcode, pother, as_of);
	json_object_set_new(ctx, "can_change", json_boolean(req_can(r, "resident.write")));
	if (req_query(r, "changed"))
		json_object_set_new(ctx, "notice", json_string("異動を記録しました。"));
	page_render(r, s, 200, "resident_detail", "住民記録の表示", "residents", ctx);
}

/* POST /staff/residents/:code: the purpose form (and the 基準日 form) with
 * its CSRF token. Declares nothing and reads nothing itself: when valid it
 * answers 303 to the GET link carrying a view token. */
void rweb_page_detail_post(struct req *r, struct res *s)
{
	const char *code = page_code(r, s);
	if (!code)
		return;
	const char *pcode, *pother, *as_of_in, *purpose, *as_of = NULL;
	json_t *errors = detail_fields(r, &pcode, &pother, &as_of_in, &purpose, &as_of);
	if (json_object_size(errors)) {
		ask_purpose(r, s, code, pcode, pother, as_of_in, errors, NULL);
		return;
	}
	json_decref(errors);
	res_redirect(r, s, rweb_view_link(r, code, pcode, pother, as_of));
}

static json_t *event_choices(const char *selected)
{
	json_t *arr = json_array();
	for (const char *const *p = rweb_change_events; *p; p++) {
		enum resident_event ev;
		if (resident_event_parse(*p, &ev) != 0)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "value", *p, "label",
						     resident_event_ja(ev), "selected",
						     selected && !strcmp(selected, *p)));
	}
	return arr;
}

static const char *const change_fields[] = {"date",     "notified", "address",   "setai_no",
					    "zokugara", "name",     "name_kana", NULL};

static void render_change(struct req *r, struct res *s, int status, const char *code,
			  json_t *errors, const char *error)
{
	json_t *ctx = json_object();
	json_t *form = json_object();
	for (const char *const *f = change_fields; *f; f++)
		json_object_set_new(form, *f, json_string(or_empty(req_form(r, *f))));
	json_object_set_new(ctx, "code", json_string(code));
	json_object_set_new(ctx, "back_href",
			    json_string(rweb_view_link(r, code, "notification", NULL, NULL)));
	json_object_set_new(ctx, "form", form);
	json_object_set_new(ctx, "events", event_choices(req_form(r, "event")));
	if (errors && json_object_size(errors))
		json_object_set_new(ctx, "errors", errors);
	else
		json_decref(errors);
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	page_render(r, s, status, "resident_change", "異動の記録", "residents", ctx);
}

void rweb_page_change(struct req *r, struct res *s)
{
	const char *code = req_param(r, "code");
	if (!rweb_code_ok(code)) {
		res_problem(r, s, 404, "住民が見つかりません", NULL);
		return;
	}
	render_change(r, s, 200, code, NULL, NULL);
}

void rweb_page_change_post(struct req *r, struct res *s)
{
	const char *code = req_param(r, "code");
	if (!rweb_code_ok(code)) {
		res_problem(r, s, 404, "住民が見つかりません", NULL);
		return;
	}
	json_t *errors = json_object();
	enum resident_event ev = 0;
	const char *evs = req_form(r, "event");
	bool ev_ok = rweb_change_event(evs, &ev);
	if (!ev_ok)
		json_object_set_new(errors, "event", json_string("異動の種類を選んでください。"));
	const char *date = NULL, *notified = NULL, *err = NULL;
	if (rweb_date(r, req_form(r, "date"), &date, &err) != 0)
		json_object_set_new(errors, "date", json_string(err));
	else if (!date)
		json_object_set_new(errors, "date", json_string("異動日を入力してください。"));
	if (rweb_date(r, req_form(r, "notified"), &notified, &err) != 0)
		json_object_set_new(errors, "notified", json_string(err));
	const char *v[5];
	static const char *const keys[] = {"address", "setai_no", "zokugara", "name", "name_kana"};
	for (int i = 0; i < 5; i++) {
		const char *x = req_form(r, keys[i]);
		v[i] = x && *x ? x : NULL;
	}
	if (ev_ok && ev == RES_EV_TENKYO && !v[0])
		json_object_set_new(errors, "address",
				    json_string("転居のときは、新しい住所を入力してください。"));
	if (json_object_size(errors)) {
		render_change(r, s, 400, code, errors, NULL);
		return;
	}
	json_decref(errors);
	struct resident_rec rec = {
		.address = v[0],
		.setai_no = v[1],
		.zokugara = v[2],
		.name = v[3],
		.name_kana = v[4],
	};
	char msg[256] = "";
	int rc = rweb_record_change(r, code, ev, date, notified, &rec, msg, sizeof msg);
	if (rc == -EINVAL) {
		render_change(r, s, 400, code, NULL,
			      *msg ? msg :
				     "異動を記録できませんでした。入力内容を確かめてください。");
		return;
	}
	if (rc != 0) {
		page_fail(r, s, rc);
		return;
	}
	res_redirect(r, s,
		     arena_printf(r->arena, "%s&changed=1",
				  rweb_view_link(r, code, "notification", NULL, NULL)));
}

void rweb_page_me(struct req *r, struct res *s)
{
	json_t *ctx = json_object();
	char code[12];
	int rc = resident_of_account(r->app, r->who.lg_code, r->who.account_id, code);
	if (rc == -ENOENT) {
		json_object_set_new(ctx, "no_record", json_true());
		page_render(r, s, 200, "resident_me", "わたしの情報", "info", ctx);
		return;
	}
	struct resident_actor who;
	rweb_actor(r, SELF_PURPOSE, &who);
	who.self_code = code;
	json_t *rec = NULL;
	if (rc == 0)
		rc = resident_get(r->app, &who, code, NULL, &rec);
	if (rc != 0) {
		json_decref(ctx);
		page_fail(r, s, rc);
		return;
	}
	show_record(r, ctx, &who, code, rec, false, NULL, NULL, NULL);
	page_render(r, s, 200, "resident_me", "わたしの情報", "info", ctx);
}
