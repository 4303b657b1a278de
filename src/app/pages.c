/* The web shell's pages: portal top, log-in and log-out, my account, my
 * access history, the staff console and user administration. Each page has
 * a JSON twin in api.c; both call the same platform functions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/dispatch.h"
#include "app/pages.h"
#include "app/platform.h"
#include "app/render.h"
#include "app/roles.h"
#include "audit/audit.h"
#include "auth/password.h"
#include "common/utf8.h"
#include "jobs/jobs.h"
#include "http/req_internal.h"
#include "resident/resident.h"
#include "web/assets.h"

/* Where to go after log-in: a local path only, never another site. */
static const char *safe_next(const char *next, const struct principal *w)
{
	if (next && next[0] == '/' && next[1] != '/' && next[1] != '\\' && strlen(next) < 512 &&
	    !strchr(next, '\r') && !strchr(next, '\n'))
		return next;
	return w->kind == PRINCIPAL_RESIDENT ? "/me" : "/staff";
}

static void page_index(struct req *r, struct res *s)
{
	json_t *ctx = json_object();
	json_object_set_new(ctx, "munis", tenant_list(app_db(r)));
	page_render(r, s, 200, "index", "ホーム", "home", ctx);
}

static json_t *login_ctx(struct req *r, const char *lg, const char *login, const char *next)
{
	json_t *ctx = json_object();
	json_t *munis = tenant_list(app_db(r));
	size_t i;
	json_t *m;
	json_array_foreach (munis, i, m) {
		const char *code = json_string_value(json_object_get(m, "lg_code"));
		json_object_set_new(m, "selected", json_boolean(lg && code && !strcmp(lg, code)));
	}
	json_object_set_new(ctx, "muni_select", json_boolean(json_array_size(munis) > 1));
	json_object_set_new(ctx, "munis", munis);
	json_object_set_new(ctx, "form",
			    json_pack("{s:s, s:s, s:s}", "lg_code", lg ? lg : "", "login",
				      login ? login : "", "next", next ? next : ""));
	return ctx;
}

static void page_login(struct req *r, struct res *s)
{
	if (r->who.kind != PRINCIPAL_NONE) {
		res_redirect(r, s, safe_next(NULL, &r->who));
		return;
	}
	page_render(r, s, 200, "login", "ログイン", NULL,
		    login_ctx(r, NULL, NULL, req_query(r, "next")));
}

/* The single hosted municipality when the form did not name one. */
static const char *default_lg(struct req *r, const char *lg)
{
	if (lg && *lg)
		return lg;
	json_t *list = tenant_list(app_db(r));
	const char *out = NULL;
	if (json_array_size(list) == 1)
		out = arena_strdup(r->arena, json_string_value(json_object_get(
						     json_array_get(list, 0), "lg_code")));
	json_decref(list);
	return out;
}

static void page_login_post(struct req *r, struct res *s)
{
	const char *lg = default_lg(r, req_form(r, "lg_code"));
	const char *login = req_form(r, "login");
	const char *password = req_form(r, "password");
	const char *totp = req_form(r, "totp");
	const char *next = req_form(r, "next");
	json_t *errors = json_object();
	if (!lg || tenant_get(app_db(r), r->arena, lg, NULL, NULL) != 0)
		json_object_set_new(errors, "lg_code", json_string("市区町村を選んでください。"));
	if (!login || !*login)
		json_object_set_new(errors, "login", json_string("ログインIDを入力してください。"));
	if (!password || !*password)
		json_object_set_new(errors, "password",
				    json_string("パスワードを入力してください。"));
	if (json_object_size(errors)) {
		json_t *ctx = login_ctx(r, lg, login, next);
		json_object_set_new(ctx, "errors", errors);
		page_render(r, s, 400, "login", "ログイン", NULL, ctx);
		return;
	}
	struct account acc;
	int64_t retry = 0;
	int rc = login_password(r->app, app_db(r), r->arena, lg, login, password, totp,
				r->client_ip, &acc, &retry);
	snprintf(r->who.lg_code, sizeof r->who.lg_code, "%s", lg);
	if (rc != LOGIN_OK) {
		char subj[32];
		snprintf(subj, sizeof subj, "account:%lld", (long long)acc.id);
		platform_audit(r, "auth.login", rc == LOGIN_BAD ? NULL : subj,
			       "本人確認（ログイン）", "denied", login_message_ja(rc));
		json_t *ctx = login_ctx(r, lg, login, next);
		if (rc == LOGIN_TOTP_REQUIRED || rc == LOGIN_TOTP_BAD) {
			json_object_set_new(ctx, "totp_needed", json_true());
			json_object_set_new(ctx, "errors",
					    json_pack("{s:s}", "totp", login_message_ja(rc)));
		} else {
			json_object_set_new(ctx, "error", json_string(login_message_ja(rc)));
			json_decref(errors);
			errors = NULL;
		}
		json_decref(errors);
		if (rc == LOGIN_LOCKED)
			res_header(r, s, "Retry-After",
				   arena_printf(r->arena, "%lld", (long long)retry));
		page_render(r, s, rc == LOGIN_LOCKED ? 429 : 401, "login", "ログイン", NULL, ctx);
		return;
	}
	json_decref(errors);
	if (session_start(r, s, &acc, "password") != 0) {
		res_problem(r, s, 503, "ただいまログインできません", NULL);
		return;
	}
	r->who.kind = strcmp(acc.kind, "resident") == 0 ? PRINCIPAL_RESIDENT : PRINCIPAL_STAFF;
	r->who.account_id = acc.id;
	r->who.display = acc.display;
	r->who.roles = acc.roles;
	char subj[32];
	snprintf(subj, sizeof subj, "account:%lld", (long long)acc.id);
	platform_audit(r, "auth.login", subj, "本人確認（ログイン）", "ok", "password");
	/* an administrator's temporary password: straight to choosing one's own
	 * (app_dispatch would send every other page there anyway) */
	res_redirect(r, s, acc.must_change_password ? "/me/password" : safe_next(next, &r->who));
}

static void page_logout(struct req *r, struct res *s)
{
	session_end(r, s);
	res_redirect(r, s, "/");
}

/* "2024年5月1日 10時20分" in Japan time from Unix milliseconds, arena-owned. */
const char *jst_time(struct arena *a, int64_t ms)
{
	time_t t = (time_t)(ms / 1000) + 9 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	return arena_printf(a, "%d年%d月%d日 %d時%02d分", tm.tm_year + 1900, tm.tm_mon + 1,
			    tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static json_t *my_sessions(struct req *r)
{
	json_t *arr = json_array();
	struct db_stmt *st;
	if (db_prepare(app_db(r),
		       "SELECT id, created_ms, last_seen_ms, ip, method FROM sessions WHERE "
		       "lg_code = ? AND account_id = ? ORDER BY last_seen_ms DESC LIMIT 20",
		       &st) != 0)
		return arr;
	db_bind_text(st, 1, r->who.lg_code);
	db_bind_int64(st, 2, r->who.account_id);
	while (db_step(st) == DB_ROW) {
		const char *m = db_col_text(st, 4);
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:b}", "created",
				       jst_time(r->arena, db_col_int64(st, 1)), "last_seen",
				       jst_time(r->arena, db_col_int64(st, 2)), "ip",
				       db_col_text(st, 3) ? db_col_text(st, 3) : "", "method_label",
				       m && !strcmp(m, "certificate") ? "電子証明書" : "パスワード",
				       "current", db_col_int64(st, 0) == r->who.session_id));
	}
	db_done(st);
	return arr;
}

json_t *me_certificates(struct req *r)
{
	json_t *arr = json_array();
	struct db_stmt *st;
	if (db_prepare(app_db(r),
		       "SELECT subject, not_after_ms FROM certificates WHERE lg_code = ? AND "
		       "account_id = ? ORDER BY id",
		       &st) != 0)
		return arr;
	db_bind_text(st, 1, r->who.lg_code);
	db_bind_int64(st, 2, r->who.account_id);
	while (db_step(st) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "subject", db_col_text(st, 0),
						     "not_after",
						     jst_time(r->arena, db_col_int64(st, 1))));
	db_done(st);
	return arr;
}

static json_t *role_labels(const char **roles)
{
	json_t *arr = json_array();
	for (const char **p = roles; p && *p; p++) {
		const struct role_def *rd = role_find(*p);
		json_array_append_new(arr, json_pack("{s:s}", "label", rd ? rd->label : *p));
	}
	return arr;
}

static void page_me(struct req *r, struct res *s)
{
	struct account acc;
	if (account_get(app_db(r), r->arena, r->who.lg_code, r->who.account_id, &acc) != 0) {
		res_problem(r, s, 404, "アカウントが見つかりません", NULL);
		return;
	}
	bool resident = strcmp(acc.kind, "resident") == 0;
	json_t *ctx = json_object();
	json_object_set_new(ctx, "user",
			    json_pack("{s:s, s:s, s:s, s:s}", "display", acc.display, "login",
				      acc.login, "kind", acc.kind, "kind_label",
				      resident ? "住民" : "職員"));
	json_object_set_new(ctx, "roles", role_labels(acc.roles));
	json_object_set_new(ctx, "totp", json_pack("{s:b}", "enabled", acc.totp_enabled));
	json_object_set_new(ctx, "sessions", my_sessions(r));
	json_object_set_new(ctx, "certificates", me_certificates(r));
	/* after the setup on /me/totp (?totp=on), only once it really is on */
	const char *q = req_query(r, "totp");
	if (q && !strcmp(q, "on") && acc.totp_enabled)
		json_object_set_new(
			ctx, "notice",
			json_string("確認コード（2段階認証）を有効にしました。次回のログイン"
				    "から、パスワードのあとに確認コードを入力してください。"));
	page_render(r, s, 200, "account", "マイアカウント", "account", ctx);
}

/* ---- changing one's own password (/me/password) ---- */

/* Renders the form with errors ({field: message}, stolen, may be NULL) or a
 * message not tied to a field (error, may be NULL). */
static void render_password(struct req *r, struct res *s, int status, json_t *errors,
			    const char *error)
{
	json_t *ctx = json_object();
	json_object_set_new(ctx, "has_password", json_boolean(account_has_password(r)));
	json_object_set_new(ctx, "min_chars", json_integer(PASSWORD_MIN_CHARS));
	if (errors && json_object_size(errors))
		json_object_set_new(ctx, "errors", errors);
	else
		json_decref(errors);
	if (error)
		json_object_set_new(ctx, "error", json_string(error));
	if (status == 200 && req_query(r, "done"))
		json_object_set_new(ctx, "notice", json_string(account_password_changed_ja()));
	if (r->who.must_change_password)
		json_object_set_new(ctx, "temporary", json_string(account_temporary_password_ja()));
	page_render(r, s, status, "me_password", "パスワードの変更", "account", ctx);
}

static void page_password(struct req *r, struct res *s)
{
	render_password(r, s, 200, NULL, NULL);
}

static void page_password_post(struct req *r, struct res *s)
{
	const char *cur = req_form(r, "current_password");
	const char *nw = req_form(r, "new_password");
	const char *again = req_form(r, "new_password_confirm");
	/* what the form alone can tell, before anything is verified or counted */
	json_t *errors = json_object();
	if (!cur || !*cur)
		json_object_set_new(errors, "current_password",
				    json_string("現在のパスワードを入力してください。"));
	if (!nw || !*nw)
		json_object_set_new(errors, "new_password",
				    json_string("新しいパスワードを入力してください。"));
	else if (!again || strcmp(nw, again) != 0)
		json_object_set_new(
			errors, "new_password_confirm",
			json_string("確認のため、新しいパスワードをもう一度、同じように入力して"
				    "ください。"));
	if (json_object_size(errors)) {
		render_password(r, s, 400, errors, NULL);
		return;
	}
	json_decref(errors);
	errors = NULL;
	char msg[256];
	int64_t retry = 0;
	int rc = account_password_change(r, cur, nw, &errors, &retry, msg, sizeof msg);
	switch (rc) {
	case 0:
		/* a new id for this session, as after a log-in (PRG) */
		if (session_rotate(r, s) != 0) {
			session_end(r, s);
			res_redirect(r, s, "/login");
			return;
		}
		res_redirect(r, s, "/me/password?done=1");
		return;
	case -EINVAL:
		render_password(r, s, 400, errors, NULL);
		return;
	case -EAGAIN:
		res_header(r, s, "Retry-After", arena_printf(r->arena, "%lld", (long long)retry));
		render_password(r, s, 429, NULL, msg);
		return;
	case -EPERM:
	case -ENOENT:
		render_password(r, s, 403, NULL, msg);
		return;
	case -ESTALE:
		render_password(r, s, 409, NULL, msg);
		return;
	default:
		json_decref(errors);
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
}

/* Plain-Japanese names for audit actions shown to residents. */
static const char *action_ja(const char *action)
{
	static const struct {
		const char *a, *ja;
	} tab[] = {
		{"auth.login", "ログイン"},
		{"account.read", "アカウント情報の閲覧"},
		{"account.create", "アカウントの作成"},
		{"account.roles", "役割の変更"},
		{"account.unlock", "ログインのロックの解除"},
		{"account.totp_reset", "確認コード（2段階認証）の設定の解除"},
		{"account.password_reset", "パスワードの再設定"},
		{"account.password_change", "パスワードの変更"},
		{"account.disable", "アカウントの利用停止"},
		{"account.enable", "アカウントの利用再開"},
		{"account.cert_revoke", "ログイン用電子証明書の登録の取り消し"},
		{"self.read", "ご自身による閲覧"},
		{"account.totp_begin", "確認コード（2段階認証）の設定開始"},
		{"account.totp", "確認コード（2段階認証）の有効化"},
		{"certificate.register", "ログイン用電子証明書の登録"},
		{"resident.read", "住民記録の閲覧"},
		{"resident.search", "住民記録の検索"},
		{"resident.history", "住民記録の異動履歴の閲覧"},
		{"resident.household", "世帯の構成員の閲覧"},
		{"resident.prefill", "申請書への記入のための住民記録の利用"},
		{"resident.change", "住民記録の異動の記録"},
		{"resident.mynumber", "個人番号の利用"},
		{"resident.export", "住民記録の書き出し"},
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(tab[i].a, action) == 0)
			return tab[i].ja;
	return action;
}

/* Merges two arrays of audit entries, each newest first, into one newest
 * first of at most limit entries (an entry has one subject: no duplicates).
 * Steals both arrays. */
static json_t *merge_by_seq(json_t *a, json_t *b, int limit)
{
	json_t *out = json_array();
	size_t i = 0, j = 0;
	while ((int)json_array_size(out) < limit &&
	       (i < json_array_size(a) || j < json_array_size(b))) {
		json_t *x = json_array_get(a, i), *y = json_array_get(b, j);
		json_int_t sx = x ? json_integer_value(json_object_get(x, "seq")) : -1;
		json_int_t sy = y ? json_integer_value(json_object_get(y, "seq")) : -1;
		if (sx >= sy) {
			json_array_append(out, x);
			i++;
		} else {
			json_array_append(out, y);
			j++;
		}
	}
	json_decref(a);
	json_decref(b);
	return out;
}

json_t *history_items(struct req *r, int64_t before, int limit, int64_t *next_before)
{
	char subj[32];
	snprintf(subj, sizeof subj, "account:%lld", (long long)r->who.account_id);
	json_t *items = NULL;
	*next_before = 0;
	if (audit_list_subject(app_db(r), r->who.lg_code, subj, before, limit, &items) != 0)
		return NULL;
	/* a resident also sees every use of their resident record (住民記録) */
	char code[12];
	if (r->who.kind == PRINCIPAL_RESIDENT &&
	    resident_of_account(r->app, r->who.lg_code, r->who.account_id, code) == 0) {
		char rsubj[32];
		snprintf(rsubj, sizeof rsubj, "resident:%s", code);
		json_t *more = NULL;
		if (audit_list_subject(app_db(r), r->who.lg_code, rsubj, before, limit, &more) !=
		    0) {
			json_decref(items);
			return NULL;
		}
		items = merge_by_seq(items, more, limit);
	}
	size_t i;
	json_t *e;
	json_array_foreach (items, i, e) {
		const char *a = json_string_value(json_object_get(e, "action"));
		json_object_set_new(e, "action_ja", json_string(action_ja(a ? a : "")));
		const char *o = json_string_value(json_object_get(e, "outcome"));
		json_object_set_new(e, "outcome_ja",
				    json_string(o && !strcmp(o, "ok") ? "完了" : "拒否されました"));
		json_int_t ms = json_integer_value(json_object_get(e, "ts_ms"));
		json_object_set_new(e, "when", json_string(jst_time(r->arena, ms)));
		*next_before = json_integer_value(json_object_get(e, "seq"));
	}
	if ((int)json_array_size(items) < limit)
		*next_before = 0;
	return items;
}

static void page_history(struct req *r, struct res *s)
{
	const char *b = req_query(r, "before");
	int64_t before = 0;
	if (b) {
		char *end;
		long long v = strtoll(b, &end, 10);
		if (*b && !*end && v > 0)
			before = v;
	}
	int64_t next = 0;
	json_t *items = history_items(r, before, 50, &next);
	if (!items) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	/* the plain-language rows the template shows */
	json_t *entries = json_array();
	size_t i;
	json_t *e;
	json_array_foreach (items, i, e) {
		const char *o = json_string_value(json_object_get(e, "outcome"));
		const char *why = json_string_value(json_object_get(e, "purpose"));
		json_array_append_new(entries, json_pack("{s:O?, s:O?, s:O?, s:O?, s:s, s:O?, s:b}",
							 "when", json_object_get(e, "when"), "who",
							 json_object_get(e, "actor_name"), "org",
							 json_object_get(e, "actor_org"), "what",
							 json_object_get(e, "action_ja"), "why",
							 why ? why : "", "outcome",
							 json_object_get(e, "outcome_ja"),
							 "outcome_ok", o && !strcmp(o, "ok")));
	}
	json_decref(items);
	json_t *page = json_pack("{s:b}", "first", before == 0);
	if (next)
		json_object_set_new(page, "older", json_integer(next));
	json_t *ctx = json_object();
	json_object_set_new(ctx, "entries", entries);
	json_object_set_new(ctx, "page", page);
	page_render(r, s, 200, "history", "わたしの情報の利用履歴", "history", ctx);
}

static void page_staff(struct req *r, struct res *s)
{
	json_t *ctx = json_object();
	json_object_set_new(
		ctx, "can",
		json_pack("{s:b, s:b, s:b, s:b, s:b}", "accounts_read", req_can(r, "accounts.read"),
			  "users_admin", req_can(r, "users.admin"), "jobs_admin",
			  req_can(r, "jobs.admin"), "audit_verify", req_can(r, "audit.verify"),
			  "residents_read", req_can(r, "resident.read")));
	page_render(r, s, 200, "staff_home", "職員メニュー", "staff", ctx);
}

static json_t *role_choices(const char *const *have, const char *kind)
{
	json_t *arr = json_array();
	for (const struct role_def *rd = role_defs; rd->name; rd++) {
		if (kind && strcmp(rd->kind, kind) != 0)
			continue;
		bool on = false;
		for (const char *const *p = have; p && *p; p++)
			on |= strcmp(*p, rd->name) == 0;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "name", rd->name,
						     "label", rd->label, "kind_label",
						     strcmp(rd->kind, "resident") ? "職員" : "住民",
						     "checked", on));
	}
	return arr;
}

static void render_users(struct req *r, struct res *s, int status, json_t *errors, json_t *form,
			 const char **form_roles_sel)
{
	json_t *list = account_list(app_db(r), r->arena, r->who.lg_code);
	json_t *users = json_array();
	size_t i;
	json_t *u;
	json_array_foreach (list, i, u) {
		const char *have[32];
		size_t n = 0, j;
		json_t *rv;
		json_array_foreach (json_object_get(u, "roles"), j, rv)
			if (n < 31)
				have[n++] = json_string_value(rv);
		have[n] = NULL;
		const char *kind = json_string_value(json_object_get(u, "kind"));
		json_t *labels = json_array();
		for (size_t k = 0; k < n; k++) {
			const struct role_def *rd = role_find(have[k]);
			json_array_append_new(
				labels, json_pack("{s:s}", "label", rd ? rd->label : have[k]));
		}
		json_array_append_new(
			users,
			json_pack("{s:O?, s:O?, s:O?, s:s, s:O?, s:O?, s:O?, s:O?, s:o, s:o}", "id",
				  json_object_get(u, "id"), "login", json_object_get(u, "login"),
				  "display", json_object_get(u, "display"), "kind_label",
				  kind && !strcmp(kind, "resident") ? "住民" : "職員", "disabled",
				  json_object_get(u, "disabled"), "locked",
				  json_object_get(u, "locked"), "totp_enabled",
				  json_object_get(u, "totp_enabled"), "must_change_password",
				  json_object_get(u, "must_change_password"), "roles", labels,
				  "role_choices", role_choices(have, kind)));
	}
	json_decref(list);
	json_t *ctx = json_object();
	json_object_set_new(ctx, "can_write", json_boolean(req_can(r, "users.admin")));
	json_object_set_new(ctx, "users", users);
	json_object_set_new(ctx, "roles_available", role_choices(form_roles_sel, NULL));
	if (errors && json_object_size(errors))
		json_object_set_new(ctx, "errors", errors);
	else
		json_decref(errors);
	json_object_set_new(ctx, "form", form ? form : json_object());
	const char *q = req_query(r, "created") ? "利用者を登録しました。" :
			req_query(r, "updated") ? "役割を変更しました。" :
						  NULL;
	if (q && status == 200)
		json_object_set_new(ctx, "notice", json_string(q));
	page_render(r, s, status, "admin_users", "利用者と役割の管理", "users", ctx);
}

static void page_users(struct req *r, struct res *s)
{
	if (platform_audit(r, "account.list", NULL, "利用者と役割の管理", "ok", NULL) != 0) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	render_users(r, s, 200, NULL, NULL, NULL);
}

/* Collects the checked "roles" boxes of a form (each sent as roles=<name>). */
static const char **form_roles(struct req *r)
{
	return req_form_all(r, "roles");
}

static void page_users_create(struct req *r, struct res *s)
{
	const char *login = req_form(r, "login"), *display = req_form(r, "display");
	const char *kind = req_form(r, "kind"), *password = req_form(r, "password");
	const char **roles = form_roles(r);
	const char *field = NULL;
	char msg[256];
	int64_t id = 0;
	int rc = account_create(app_db(r), r->who.lg_code, login, display, kind, password, true,
				roles, &id, &field, msg, sizeof msg);
	if (rc != 0) {
		json_t *form = json_pack("{s:s, s:s, s:b, s:b}", "login", login ? login : "",
					 "display", display ? display : "", "kind_resident",
					 kind && !strcmp(kind, "resident"), "kind_staff",
					 kind && !strcmp(kind, "staff"));
		json_t *errors = json_object();
		json_object_set_new(errors, field ? field : "login",
				    json_string(*msg ? msg : "登録できませんでした。"));
		render_users(r, s, rc == -EINVAL || rc == -EEXIST ? 400 : 503, errors, form, roles);
		return;
	}
	char subj[32];
	snprintf(subj, sizeof subj, "account:%lld", (long long)id);
	platform_audit(r, "account.create", subj, "利用者アカウントの登録", "ok", NULL);
	res_redirect(r, s, "/admin/users?created=1");
}

static void page_users_roles(struct req *r, struct res *s)
{
	int64_t id;
	if (!req_param_id(r, "id", &id)) {
		res_problem(r, s, 404, "利用者が見つかりません", NULL);
		return;
	}
	char msg[256] = "";
	int rc = account_set_roles(app_db(r), r->who.lg_code, r->who.account_id, id, form_roles(r),
				   msg, sizeof msg);
	account_roles_audit(r, id, rc);
	if (rc == -ENOENT) {
		res_problem(r, s, 404, "利用者が見つかりません", NULL);
		return;
	}
	if (rc != 0) {
		render_users(r, s, rc == -EPERM ? 403 : 400,
			     json_pack("{s:s}", "roles", *msg ? msg : "変更できませんでした。"),
			     NULL, NULL);
		return;
	}
	res_redirect(r, s, "/admin/users?updated=1");
}

/* ---- one account: its state and the help given at the counter ---- */

/* The form names of the actions that need the confirmation box ticked: the
 * ones that take something away from the person. */
static bool needs_confirm(enum account_action what)
{
	return what == ACCOUNT_TOTP_RESET || what == ACCOUNT_PASSWORD_RESET ||
	       what == ACCOUNT_DISABLE || what == ACCOUNT_CERT_REVOKE;
}

/* What went wrong with a form on /admin/users/<id>: the message, the id of
 * the control it is about (for the error summary's link), the template key
 * of the form that marks it (invalid.<slot>) or the certificate whose box
 * was not ticked. */
struct user_error {
	const char *msg, *field, *slot;
	int64_t cert_id;
};

/* The template key of an action's form ("totp-reset" → "totp_reset"). */
static const char *action_slot(struct arena *a, enum account_action what)
{
	char *k = arena_strdup(a, account_action_key(what));
	for (char *p = k; *p; p++)
		if (*p == '-')
			*p = '_';
	return k;
}

/* Renders /admin/users/<id> with an optional notice and error (NULL: none). */
static void render_user(struct req *r, struct res *s, int status, int64_t id, const char *notice,
			const struct user_error *err)
{
	struct account acc;
	if (account_get(app_db(r), r->arena, r->who.lg_code, id, &acc) != 0) {
		res_problem(r, s, 404, "利用者が見つかりません", NULL);
		return;
	}
	bool locked = acc.locked_until_ms > platform_now_ms();
	json_t *a = json_pack(
		"{s:I, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:i, s:o, s:b}", "id", (json_int_t)acc.id,
		"login", acc.login, "display", acc.display, "kind_label",
		strcmp(acc.kind, "resident") ? "職員" : "住民", "disabled", acc.disabled, "locked",
		locked, "totp_enabled", acc.totp_enabled, "totp_pending",
		!acc.totp_enabled && account_totp_is_pending(app_db(r), r->who.lg_code, id),
		"failed_logins", acc.failed_logins, "roles", role_labels(acc.roles),
		"must_change_password", acc.must_change_password);
	if (locked)
		json_object_set_new(a, "locked_until",
				    json_string(jst_time(r->arena, acc.locked_until_ms)));
	json_t *certs = account_certificates(app_db(r), r->who.lg_code, id);
	size_t i;
	json_t *c;
	json_array_foreach (certs, i, c) {
		json_int_t cid = json_integer_value(json_object_get(c, "id"));
		json_int_t na = json_integer_value(json_object_get(c, "not_after_ms"));
		json_int_t cr = json_integer_value(json_object_get(c, "created_ms"));
		json_object_set_new(c, "not_after", json_string(jst_time(r->arena, na)));
		json_object_set_new(c, "created", json_string(jst_time(r->arena, cr)));
		json_object_set_new(c, "account_id", json_integer(acc.id));
		if (err && err->cert_id == cid)
			json_object_set_new(c, "confirm_error", json_string(err->msg));
	}
	json_t *ctx = json_object();
	json_object_set_new(ctx, "account", a);
	json_object_set_new(ctx, "certificates", certs);
	json_object_set_new(ctx, "self", json_boolean(id == r->who.account_id));
	if (notice)
		json_object_set_new(ctx, "notice", json_string(notice));
	if (err) {
		json_object_set_new(ctx, "error", json_string(err->msg));
		if (err->field)
			json_object_set_new(ctx, "error_field", json_string(err->field));
		if (err->slot)
			json_object_set_new(ctx, "invalid",
					    json_pack("{s:s}", err->slot, err->msg));
	}
	page_render(r, s, status, "admin_user",
		    arena_printf(r->arena, "%s さんのアカウント", acc.display), "users", ctx);
}

static void page_user(struct req *r, struct res *s)
{
	int64_t id;
	struct account acc;
	if (!req_param_id(r, "id", &id) ||
	    account_get(app_db(r), r->arena, r->who.lg_code, id, &acc) != 0) {
		res_problem(r, s, 404, "利用者が見つかりません", NULL);
		return;
	}
	char subj[32];
	snprintf(subj, sizeof subj, "account:%lld", (long long)id);
	if (platform_audit(r, "account.read", subj, "利用者アカウントの管理（窓口での支援）", "ok",
			   NULL) != 0) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	const char *done = req_query(r, "done"), *notice = NULL;
	for (int w = 0; done && w < ACCOUNT_ACTION_COUNT; w++)
		if (!strcmp(done, account_action_key((enum account_action)w)))
			notice = account_action_done_ja((enum account_action)w);
	render_user(r, s, 200, id, notice, NULL);
}

/* The POST of one action's form: checks the confirmation box, acts, and
 * redirects to the account's page with the result (or shows it again with
 * the reason). */
static void user_form(struct req *r, struct res *s, enum account_action what)
{
	int64_t id, cert_id = 0;
	if (!req_param_id(r, "id", &id) ||
	    (what == ACCOUNT_CERT_REVOKE && !req_param_id(r, "cert_id", &cert_id))) {
		res_problem(r, s, 404, "利用者が見つかりません", NULL);
		return;
	}
	const char *confirm = req_form(r, "confirm");
	if (needs_confirm(what) && (!confirm || strcmp(confirm, "yes") != 0)) {
		/* the id of the form's confirmation box (admin_user.html) */
		struct user_error e = {
			.msg = "本人確認を済ませたことを確かめる欄にチェックを入れてから、もう一度"
			       "操作してください。",
			.field = what == ACCOUNT_CERT_REVOKE ?
					 arena_printf(r->arena, "confirm-cert-%lld",
						      (long long)cert_id) :
					 arena_printf(r->arena, "confirm-%s",
						      account_action_key(what)),
			.slot = what == ACCOUNT_CERT_REVOKE ? NULL : action_slot(r->arena, what),
			.cert_id = what == ACCOUNT_CERT_REVOKE ? cert_id : 0,
		};
		render_user(r, s, 400, id, NULL, &e);
		return;
	}
	char msg[256];
	int rc = account_admin_act(r, what, id, req_form(r, "password"), cert_id, msg, sizeof msg);
	if (rc == -ENOENT) {
		res_problem(r, s, 404,
			    what == ACCOUNT_CERT_REVOKE ? "電子証明書が見つかりません" :
							  "利用者が見つかりません",
			    NULL);
		return;
	}
	if (rc == -EPERM || rc == -EINVAL) {
		struct user_error e = {.msg = msg};
		if (rc == -EINVAL) {
			e.field = "password";
			e.slot = "password_input";
		}
		render_user(r, s, rc == -EPERM ? 403 : 400, id, NULL, &e);
		return;
	}
	if (rc != 0) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	res_redirect(r, s,
		     arena_printf(r->arena, "/admin/users/%lld?done=%s", (long long)id,
				  account_action_key(what)));
}

static void page_user_unlock(struct req *r, struct res *s)
{
	user_form(r, s, ACCOUNT_UNLOCK);
}

static void page_user_totp_reset(struct req *r, struct res *s)
{
	user_form(r, s, ACCOUNT_TOTP_RESET);
}

static void page_user_password(struct req *r, struct res *s)
{
	user_form(r, s, ACCOUNT_PASSWORD_RESET);
}

static void page_user_disable(struct req *r, struct res *s)
{
	user_form(r, s, ACCOUNT_DISABLE);
}

static void page_user_enable(struct req *r, struct res *s)
{
	user_form(r, s, ACCOUNT_ENABLE);
}

static void page_user_cert_revoke(struct req *r, struct res *s)
{
	user_form(r, s, ACCOUNT_CERT_REVOKE);
}

static void page_jobs(struct req *r, struct res *s)
{
	json_t *counts = NULL, *dead = NULL;
	jobs_counts(app_db(r), r->who.lg_code, &counts);
	jobs_list(app_db(r), r->who.lg_code, "dead", 100, &dead);
	json_t *rows = json_array();
	static const char *const states[][2] = {{"queued", "待ち"},
						{"running", "実行中"},
						{"failed", "再試行待ち"},
						{"done", "完了"},
						{"dead", "失敗（要対応）"}};
	for (size_t i = 0; i < 5; i++) {
		json_t *v = counts ? json_object_get(counts, states[i][0]) : NULL;
		json_array_append_new(rows, json_pack("{s:s, s:s, s:I}", "state", states[i][0],
						      "label", states[i][1], "count",
						      (json_int_t)(v ? json_integer_value(v) : 0)));
	}
	json_decref(counts);
	json_t *dl = json_array();
	size_t i;
	json_t *j;
	json_array_foreach (dead, i, j) {
		json_int_t ms = json_integer_value(json_object_get(j, "updated_at_ms"));
		json_array_append_new(dl, json_pack("{s:O?, s:O?, s:O?, s:O?, s:s}", "id",
						    json_object_get(j, "id"), "kind",
						    json_object_get(j, "kind"), "attempts",
						    json_object_get(j, "attempts"), "last_error",
						    json_object_get(j, "last_error"), "failed_at",
						    jst_time(r->arena, ms)));
	}
	json_decref(dead);
	json_t *ctx = json_object();
	json_object_set_new(ctx, "counts", rows);
	json_object_set_new(ctx, "dead", dl);
	page_render(r, s, 200, "admin_jobs", "バックグラウンド処理の状況", "jobs", ctx);
}

static void page_jobs_retry(struct req *r, struct res *s)
{
	int64_t id;
	if (!req_param_id(r, "id", &id) || jobs_retry(app_db(r), r->who.lg_code, id) != 0) {
		res_problem(r, s, 404, "対象の処理が見つかりません", NULL);
		return;
	}
	jobs_notify(r->app->jobs);
	res_redirect(r, s, "/admin/jobs");
}

static void static_file(struct req *r, struct res *s)
{
	const char *rest = req_param(r, "path");
	char *path = arena_printf(r->arena, "static/%s", rest ? rest : "");
	const struct asset *a = asset_find(path);
	if (!a) {
		res_problem(r, s, 404, http_status_title_ja(404), NULL);
		return;
	}
	const char *ct = "application/octet-stream";
	const char *dot = strrchr(path, '.');
	if (dot && !strcmp(dot, ".css"))
		ct = "text/css; charset=utf-8";
	else if (dot && !strcmp(dot, ".svg"))
		ct = "image/svg+xml";
	else if (dot && !strcmp(dot, ".png"))
		ct = "image/png";
	else if (dot && !strcmp(dot, ".ico"))
		ct = "image/x-icon";
	res_text(r, s, 200, ct, (const char *)a->data, a->len);
	res_header(r, s, "Cache-Control", "public, max-age=3600");
}

const struct route page_routes[] = {
	{HTTP_GET, "/", page_index, NULL, ROUTE_PUBLIC | ROUTE_HTML, NULL},
	{HTTP_GET, "/login", page_login, NULL, ROUTE_PUBLIC | ROUTE_HTML, NULL},
	{HTTP_POST, "/login", page_login_post, NULL, ROUTE_PUBLIC | ROUTE_HTML, NULL},
	{HTTP_POST, "/logout", page_logout, NULL, ROUTE_HTML, NULL},
	{HTTP_GET, "/me", page_me, NULL, ROUTE_HTML, NULL},
	{HTTP_GET, "/me/history", page_history, NULL, ROUTE_HTML, NULL},
	{HTTP_GET, "/me/password", page_password, NULL, ROUTE_HTML, NULL},
	{HTTP_POST, "/me/password", page_password_post, NULL, ROUTE_HTML, NULL},
	{HTTP_GET, "/staff", page_staff, "staff.console", ROUTE_HTML, NULL},
	{HTTP_GET, "/admin/users", page_users, "users.admin", ROUTE_HTML, NULL},
	{HTTP_POST, "/admin/users", page_users_create, "users.admin", ROUTE_HTML, NULL},
	{HTTP_POST, "/admin/users/:id/roles", page_users_roles, "users.admin", ROUTE_HTML, NULL},
	{HTTP_GET, "/admin/users/:id", page_user, "users.admin", ROUTE_HTML, NULL},
	{HTTP_POST, "/admin/users/:id/unlock", page_user_unlock, "users.admin", ROUTE_HTML, NULL},
	{HTTP_POST, "/admin/users/:id/totp/reset", page_user_totp_reset, "users.admin", ROUTE_HTML,
	 NULL},
	{HTTP_POST, "/admin/users/:id/password", page_user_password, "users.admin", ROUTE_HTML,
	 NULL},
	{HTTP_POST, "/admin/users/:id/disable", page_user_disable, "users.admin", ROUTE_HTML, NULL},
	{HTTP_POST, "/admin/users/:id/enable", page_user_enable, "users.admin", ROUTE_HTML, NULL},
	{HTTP_POST, "/admin/users/:id/certificates/:cert_id/revoke", page_user_cert_revoke,
	 "users.admin", ROUTE_HTML, NULL},
	{HTTP_GET, "/admin/jobs", page_jobs, "jobs.admin", ROUTE_HTML, NULL},
	{HTTP_POST, "/admin/jobs/:id/retry", page_jobs_retry, "jobs.admin", ROUTE_HTML, NULL},
	{HTTP_GET, "/static/*path", static_file, NULL, ROUTE_PUBLIC, "/static"},
	{0, NULL, NULL, NULL, 0, NULL},
};
