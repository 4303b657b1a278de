/* The JSON API under /api/v1: the twin of every page, for programs and for
 * the browser tests. Errors are RFC 9457 problem documents. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/dispatch.h"
#include "app/pages.h"
#include "app/platform.h"
#include "app/roles.h"
#include "audit/audit.h"
#include "http/req_internal.h"
#include "app/keys.h"
#include "app/metrics.h"
#include "jobs/jobs.h"

static void api_health(struct req *r, struct res *s)
{
	res_json(r, s, 200, json_pack("{s:s}", "status", "ok"));
}

static void api_ready(struct req *r, struct res *s)
{
	int64_t one = 0;
	int rc = db_query_int64(app_db(r), "SELECT 1", &one);
	if (rc != DB_ROW || one != 1) {
		res_json(r, s, 503, json_pack("{s:s}", "status", "unavailable"));
		return;
	}
	res_json(r, s, 200, json_pack("{s:s}", "status", "ready"));
}

static void api_metrics(struct req *r, struct res *s)
{
	struct buf b;
	buf_init(&b, 4u << 20);
	metrics_render(r->app->metrics, r->app, &b);
	res_text(r, s, 200, "text/plain; version=0.0.4; charset=utf-8", buf_cstr(&b), b.len);
	buf_release(&b);
}

static json_t *me_json(struct req *r)
{
	const char *muni = r->who.muni_name;
	json_t *roles = json_array(), *perms = json_array();
	for (const char **p = r->who.roles; p && *p; p++)
		json_array_append_new(roles, json_string(*p));
	for (const char **p = r->who.perms; p && *p; p++)
		json_array_append_new(perms, json_string(*p));
	static const char *const kinds[] = {"none", "resident", "staff", "system"};
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b}", "account_id",
			 (json_int_t)r->who.account_id, "login", r->who.login, "display",
			 r->who.display, "kind", kinds[r->who.kind], "lg_code", r->who.lg_code,
			 "municipality", muni ? muni : "", "roles", roles, "permissions", perms,
			 "must_change_password", r->who.must_change_password);
}

static void api_me(struct req *r, struct res *s)
{
	res_json(r, s, 200, me_json(r));
}

static void api_me_history(struct req *r, struct res *s)
{
	int64_t before = 0;
	const char *b = req_query(r, "before");
	if (b) {
		char *end;
		long long v = strtoll(b, &end, 10);
		if (!*b || *end || v <= 0) {
			res_problem(r, s, 400, "before の値が正しくありません", NULL);
			return;
		}
		before = v;
	}
	int64_t next = 0;
	json_t *items = history_items(r, before, 50, &next);
	if (!items) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	/* what a resident needs to read, with the time in ISO 8601 */
	json_t *clean = json_array();
	size_t i;
	json_t *e;
	json_array_foreach (items, i, e) {
		time_t t = (time_t)(json_integer_value(json_object_get(e, "ts_ms")) / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		char iso[32];
		strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_t *o = json_object();
		static const char *const keep[] = {
			"seq",       "when",    "actor_kind", "actor_name", "actor_org",  "action",
			"action_ja", "purpose", "outcome",    "outcome_ja", "request_id", NULL};
		for (const char *const *k = keep; *k; k++)
			json_object_set(o, *k,
					json_object_get(e, *k) ? json_object_get(e, *k) :
								 json_null());
		json_object_set_new(o, "ts", json_string(iso));
		json_array_append_new(clean, o);
	}
	json_decref(items);
	json_t *out = json_pack("{s:o}", "items", clean);
	json_object_set_new(out, "next", next ? json_integer(next) : json_null());
	res_json(r, s, 200, out);
}

/* Reads a string member, NULL when absent or not a string. */
static const char *jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static void api_login(struct req *r, struct res *s)
{
	json_t *in = req_json(r, s);
	if (!in)
		return;
	const char *lg = jstr(in, "lg_code"), *login = jstr(in, "login");
	const char *password = jstr(in, "password"), *totp = jstr(in, "totp");
	json_t *errors = json_object();
	if (!lg)
		json_object_set_new(errors, "lg_code",
				    json_string("市区町村コードを指定してください。"));
	if (!login)
		json_object_set_new(errors, "login", json_string("ログインIDを指定してください。"));
	if (!password)
		json_object_set_new(errors, "password",
				    json_string("パスワードを指定してください。"));
	if (json_object_size(errors)) {
		res_problem_fields(r, s, 400, "入力内容を確認してください", errors);
		json_decref(in);
		return;
	}
	json_decref(errors);
	if (tenant_get(app_db(r), r->arena, lg, NULL, NULL) != 0) {
		res_problem(r, s, 404, "その市区町村はこのシステムにありません", NULL);
		json_decref(in);
		return;
	}
	struct account acc;
	int64_t retry = 0;
	int rc = login_password(r->app, app_db(r), r->arena, lg, login, password, totp,
				r->client_ip, &acc, &retry);
	snprintf(r->who.lg_code, sizeof r->who.lg_code, "%s", lg);
	json_decref(in);
	char subj[32];
	snprintf(subj, sizeof subj, "account:%lld", (long long)acc.id);
	if (rc != LOGIN_OK) {
		platform_audit(r, "auth.login", rc == LOGIN_BAD ? NULL : subj,
			       "本人確認（ログイン）", "denied", login_message_ja(rc));
		int status = rc == LOGIN_LOCKED ? 429 : rc == LOGIN_ERROR ? 503 : 401;
		res_problem(r, s, status, login_message_ja(rc), NULL);
		if (rc == LOGIN_LOCKED)
			res_header(r, s, "Retry-After",
				   arena_printf(r->arena, "%lld", (long long)retry));
		return;
	}
	if (session_start(r, s, &acc, "password") != 0) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	r->who.kind = strcmp(acc.kind, "resident") == 0 ? PRINCIPAL_RESIDENT : PRINCIPAL_STAFF;
	r->who.account_id = acc.id;
	r->who.display = acc.display;
	r->who.roles = acc.roles;
	platform_audit(r, "auth.login", subj, "本人確認（ログイン）", "ok", "password");
	json_t *out = account_json(&acc);
	json_object_set_new(out, "csrf", json_string(r->who.csrf));
	res_json(r, s, 200, out);
}

static void api_logout(struct req *r, struct res *s)
{
	session_end(r, s);
	res_json(r, s, 200, json_pack("{s:b}", "ok", 1));
}

/* Wipes jansson's copy of the string member key of in (a password) before
 * the object is freed. */
static void wipe_member(json_t *in, const char *key)
{
	json_t *v = json_object_get(in, key);
	if (json_is_string(v))
		sodium_memzero((void *)json_string_value(v), json_string_length(v));
}

/* POST /api/v1/me/password {current_password, new_password}: the signed-in
 * person changes their own password (account_password_change); this session
 * stays signed in under a new id, every other one ends. */
static void api_me_password(struct req *r, struct res *s)
{
	json_t *in = req_json(r, s);
	if (!in)
		return;
	json_t *cur = json_object_get(in, "current_password");
	json_t *nw = json_object_get(in, "new_password");
	json_t *errors = NULL;
	if ((cur && !json_is_string(cur)) || (nw && !json_is_string(nw))) {
		errors = json_object();
		if (cur && !json_is_string(cur))
			json_object_set_new(
				errors, "current_password",
				json_string("現在のパスワードを文字列で指定してください。"));
		if (nw && !json_is_string(nw))
			json_object_set_new(
				errors, "new_password",
				json_string("新しいパスワードを文字列で指定してください。"));
		res_problem_fields(r, s, 400, "入力内容を確認してください", errors);
		goto out;
	}
	char msg[256];
	int64_t retry = 0;
	int rc = account_password_change(r, json_string_value(cur), json_string_value(nw), &errors,
					 &retry, msg, sizeof msg);
	switch (rc) {
	case 0:
		/* a new id for this session, as after a log-in; the password is
		 * changed even if that fails (the person then logs in again) */
		if (session_rotate(r, s) != 0)
			session_end(r, s);
		res_json(r, s, 200,
			 json_pack("{s:s, s:s}", "message", account_password_changed_ja(), "csrf",
				   r->who.csrf ? r->who.csrf : ""));
		break;
	case -EINVAL:
		res_problem_fields(r, s, 400, "入力内容を確認してください", errors);
		break;
	case -EAGAIN:
		res_problem(r, s, 429, msg, NULL);
		res_header(r, s, "Retry-After", arena_printf(r->arena, "%lld", (long long)retry));
		break;
	case -EPERM:
	case -ENOENT:
		res_problem(r, s, 403, "パスワードを変更できません", msg);
		break;
	case -ESTALE:
		res_problem(r, s, 409, "パスワードがほかの操作で変更されました", msg);
		break;
	default:
		json_decref(errors);
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		break;
	}
out:
	wipe_member(in, "current_password");
	wipe_member(in, "new_password");
	json_decref(in);
}

static void api_municipalities(struct req *r, struct res *s)
{
	res_json(r, s, 200, json_pack("{s:o}", "items", tenant_list(app_db(r))));
}

static void api_account_get(struct req *r, struct res *s)
{
	int64_t id;
	struct account acc;
	const char *purpose = req_query(r, "purpose");
	if (!req_param_id(r, "id", &id) ||
	    account_get(app_db(r), r->arena, r->who.lg_code, id, &acc) != 0) {
		res_problem(r, s, 404, "アカウントが見つかりません", NULL);
		return;
	}
	char subj[32];
	snprintf(subj, sizeof subj, "account:%lld", (long long)id);
	/* Personal data is shown only once its access is on the record. */
	if (platform_audit(r, "account.read", subj,
			   purpose && *purpose ? purpose : "窓口での本人確認", "ok", NULL) != 0) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	res_json(r, s, 200, account_json(&acc));
}

static void api_users(struct req *r, struct res *s)
{
	if (platform_audit(r, "account.list", NULL, "利用者と役割の管理", "ok", NULL) != 0) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	res_json(r, s, 200,
		 json_pack("{s:o}", "items", account_list(app_db(r), r->arena, r->who.lg_code)));
}

/* roles: a JSON array of strings → NULL-terminated arena array, or NULL. */
static const char **json_roles(struct req *r, json_t *arr)
{
	if (!json_is_array(arr) || json_array_size(arr) > 16)
		return NULL;
	const char **out = arena_alloc(r->arena, sizeof(char *) * (json_array_size(arr) + 1));
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v) {
		if (!json_is_string(v))
			return NULL;
		out[i] = arena_strdup(r->arena, json_string_value(v));
	}
	out[json_array_size(arr)] = NULL;
	return out;
}

static void api_users_create(struct req *r, struct res *s)
{
	json_t *in = req_json(r, s);
	if (!in)
		return;
	const char **roles =
		json_object_get(in, "roles") ? json_roles(r, json_object_get(in, "roles")) : NULL;
	if (json_object_get(in, "roles") && !roles) {
		res_problem_fields(
			r, s, 400, "入力内容を確認してください",
			json_pack("{s:s}", "roles", "役割は文字列の配列で指定してください。"));
		json_decref(in);
		return;
	}
	const char *field = NULL;
	char msg[256];
	int64_t id = 0;
	int rc = account_create(app_db(r), r->who.lg_code, jstr(in, "login"), jstr(in, "display"),
				jstr(in, "kind"), jstr(in, "password"), true, roles, &id, &field,
				msg, sizeof msg);
	json_decref(in);
	if (rc == -EINVAL || rc == -EEXIST) {
		res_problem_fields(r, s, rc == -EEXIST ? 409 : 400, "入力内容を確認してください",
				   json_pack("{s:s}", field ? field : "login", msg));
		return;
	}
	if (rc != 0) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	char subj[32];
	snprintf(subj, sizeof subj, "account:%lld", (long long)id);
	platform_audit(r, "account.create", subj, "利用者アカウントの登録", "ok", NULL);
	struct account acc;
	account_get(app_db(r), r->arena, r->who.lg_code, id, &acc);
	char *loc = arena_printf(r->arena, "/api/v1/accounts/%lld", (long long)id);
	res_header(r, s, "Location", loc);
	res_json(r, s, 201, account_json(&acc));
}

static void api_users_roles(struct req *r, struct res *s)
{
	int64_t id;
	if (!req_param_id(r, "id", &id)) {
		res_problem(r, s, 404, "利用者が見つかりません", NULL);
		return;
	}
	json_t *in = req_json(r, s);
	if (!in)
		return;
	const char **roles = json_roles(r, json_object_get(in, "roles"));
	json_decref(in);
	if (!roles) {
		res_problem_fields(
			r, s, 400, "入力内容を確認してください",
			json_pack("{s:s}", "roles", "役割は文字列の配列で指定してください。"));
		return;
	}
	char msg[256] = "";
	int rc = account_set_roles(app_db(r), r->who.lg_code, r->who.account_id, id, roles, msg,
				   sizeof msg);
	account_roles_audit(r, id, rc);
	if (rc == -ENOENT) {
		res_problem(r, s, 404, "利用者が見つかりません", NULL);
		return;
	}
	if (rc == -EPERM) {
		res_problem(r, s, 403, "自分自身の役割は変更できません", msg);
		return;
	}
	if (rc != 0) {
		res_problem_fields(r, s, 400, "入力内容を確認してください",
				   json_pack("{s:s}", "roles", msg));
		return;
	}
	struct account acc;
	account_get(app_db(r), r->arena, r->who.lg_code, id, &acc);
	res_json(r, s, 200, account_json(&acc));
}

/* ---- help at the counter (account_admin_act) ---- */

/* The account of the administrator's municipality with its certificates, or
 * NULL when it is not there. */
static json_t *user_detail(struct req *r, int64_t id)
{
	struct account acc;
	if (account_get(app_db(r), r->arena, r->who.lg_code, id, &acc) != 0)
		return NULL;
	json_t *out = account_json(&acc);
	json_object_set_new(out, "totp_pending",
			    json_boolean(!acc.totp_enabled &&
					 account_totp_is_pending(app_db(r), r->who.lg_code, id)));
	json_object_set_new(out, "certificates",
			    account_certificates(app_db(r), r->who.lg_code, id));
	return out;
}

static void api_user_get(struct req *r, struct res *s)
{
	int64_t id;
	json_t *out = req_param_id(r, "id", &id) ? user_detail(r, id) : NULL;
	if (!out) {
		res_problem(r, s, 404, "利用者が見つかりません", NULL);
		return;
	}
	char subj[32];
	snprintf(subj, sizeof subj, "account:%lld", (long long)id);
	if (platform_audit(r, "account.read", subj, "利用者アカウントの管理（窓口での支援）", "ok",
			   NULL) != 0) {
		json_decref(out);
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	res_json(r, s, 200, out);
}

/* Runs what on the :id account and answers with its new state. */
static void user_act(struct req *r, struct res *s, enum account_action what, const char *password)
{
	int64_t id, cert_id = 0;
	if (!req_param_id(r, "id", &id) ||
	    (what == ACCOUNT_CERT_REVOKE && !req_param_id(r, "cert_id", &cert_id))) {
		res_problem(r, s, 404, "利用者が見つかりません", NULL);
		return;
	}
	char msg[256];
	int rc = account_admin_act(r, what, id, password, cert_id, msg, sizeof msg);
	if (rc == -ENOENT) {
		res_problem(r, s, 404,
			    what == ACCOUNT_CERT_REVOKE ? "電子証明書が見つかりません" :
							  "利用者が見つかりません",
			    NULL);
		return;
	}
	if (rc == -EPERM) {
		res_problem(r, s, 403, "ご自身のアカウントには、この操作はできません", msg);
		return;
	}
	if (rc == -EINVAL) {
		res_problem_fields(r, s, 400, "入力内容を確認してください",
				   json_pack("{s:s}", "password", msg));
		return;
	}
	json_t *out = rc == 0 ? user_detail(r, id) : NULL;
	if (!out) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	json_object_set_new(out, "message", json_string(account_action_done_ja(what)));
	res_json(r, s, 200, out);
}

static void api_user_unlock(struct req *r, struct res *s)
{
	user_act(r, s, ACCOUNT_UNLOCK, NULL);
}

static void api_user_totp_reset(struct req *r, struct res *s)
{
	user_act(r, s, ACCOUNT_TOTP_RESET, NULL);
}

static void api_user_password(struct req *r, struct res *s)
{
	json_t *in = req_json(r, s);
	if (!in)
		return;
	const char *pw = jstr(in, "password");
	if (!pw) {
		json_decref(in);
		res_problem_fields(r, s, 400, "入力内容を確認してください",
				   json_pack("{s:s}", "password",
					     "新しいパスワードを文字列で指定してください。"));
		return;
	}
	user_act(r, s, ACCOUNT_PASSWORD_RESET, pw);
	/* jansson's copy of the password is wiped before it is freed */
	json_t *v = json_object_get(in, "password");
	size_t n = json_string_length(v);
	sodium_memzero((void *)json_string_value(v), n);
	json_decref(in);
}

static void api_user_disable(struct req *r, struct res *s)
{
	user_act(r, s, ACCOUNT_DISABLE, NULL);
}

static void api_user_enable(struct req *r, struct res *s)
{
	user_act(r, s, ACCOUNT_ENABLE, NULL);
}

static void api_user_cert_revoke(struct req *r, struct res *s)
{
	user_act(r, s, ACCOUNT_CERT_REVOKE, NULL);
}

static void api_jobs(struct req *r, struct res *s)
{
	const char *state = req_query(r, "state");
	static const char *const ok[] = {"queued", "running", "failed", "done", "dead"};
	bool valid = !state;
	for (size_t i = 0; state && i < 5; i++)
		valid |= strcmp(state, ok[i]) == 0;
	if (!valid) {
		res_problem(r, s, 400, "state の値が正しくありません",
			    "queued, running, failed, done, dead のいずれかを指定してください。");
		return;
	}
	json_t *items = NULL, *counts = NULL;
	if (jobs_list(app_db(r), r->who.lg_code, state, 100, &items) != 0 ||
	    jobs_counts(app_db(r), r->who.lg_code, &counts) != 0) {
		json_decref(items);
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	res_json(r, s, 200, json_pack("{s:o, s:o}", "items", items, "counts", counts));
}

static void api_jobs_retry(struct req *r, struct res *s)
{
	int64_t id;
	if (!req_param_id(r, "id", &id) || jobs_retry(app_db(r), r->who.lg_code, id) != 0) {
		res_problem(r, s, 404, "対象の処理が見つかりません", NULL);
		return;
	}
	jobs_notify(r->app->jobs);
	res_json(r, s, 200, json_pack("{s:b, s:I}", "ok", 1, "id", (json_int_t)id));
}

static void api_audit_verify(struct req *r, struct res *s)
{
	struct audit_verify_result vr;
	int rc = audit_verify(app_db(r), r->app->keys->audit_pk, &vr);
	platform_audit(r, "audit.verify", NULL, "監査ログの改ざん検査", rc == 0 ? "ok" : "error",
		       NULL);
	json_t *out = json_pack("{s:b, s:I, s:I}", "ok", rc == 0 && vr.broken_seq == 0, "entries",
				(json_int_t)vr.entries, "checkpoints", (json_int_t)vr.checkpoints);
	if (vr.broken_seq) {
		json_object_set_new(out, "first_broken_seq", json_integer(vr.broken_seq));
		json_object_set_new(out, "reason", json_string(vr.reason ? vr.reason : ""));
	}
	res_json(r, s, 200, out);
}

const struct route api_routes[] = {
	{HTTP_GET, "/healthz", api_health, NULL, ROUTE_PUBLIC, NULL},
	{HTTP_GET, "/readyz", api_ready, NULL, ROUTE_PUBLIC, NULL},
	/* public to routing only: app_dispatch answers 404 before routing unless
	 * metrics_allowed() (loopback, --metrics-allow, --metrics-token) */
	{HTTP_GET, "/metrics", api_metrics, NULL, ROUTE_PUBLIC, NULL},
	{HTTP_GET, "/api/v1/me", api_me, NULL, 0, NULL},
	{HTTP_GET, "/api/v1/me/access-log", api_me_history, NULL, 0, NULL},
	{HTTP_POST, "/api/v1/me/password", api_me_password, NULL, 0, NULL},
	{HTTP_POST, "/api/v1/auth/login", api_login, NULL, ROUTE_PUBLIC, NULL},
	{HTTP_POST, "/api/v1/auth/logout", api_logout, NULL, 0, NULL},
	{HTTP_GET, "/api/v1/municipalities", api_municipalities, NULL, ROUTE_PUBLIC, NULL},
	{HTTP_GET, "/api/v1/accounts/:id", api_account_get, "accounts.read", 0, NULL},
	{HTTP_GET, "/api/v1/admin/users", api_users, "users.admin", 0, NULL},
	{HTTP_POST, "/api/v1/admin/users", api_users_create, "users.admin", 0, NULL},
	{HTTP_PUT, "/api/v1/admin/users/:id/roles", api_users_roles, "users.admin", 0, NULL},
	{HTTP_GET, "/api/v1/admin/users/:id", api_user_get, "users.admin", 0, NULL},
	{HTTP_POST, "/api/v1/admin/users/:id/unlock", api_user_unlock, "users.admin", 0, NULL},
	{HTTP_POST, "/api/v1/admin/users/:id/totp/reset", api_user_totp_reset, "users.admin", 0,
	 NULL},
	{HTTP_POST, "/api/v1/admin/users/:id/password", api_user_password, "users.admin", 0, NULL},
	{HTTP_POST, "/api/v1/admin/users/:id/disable", api_user_disable, "users.admin", 0, NULL},
	{HTTP_POST, "/api/v1/admin/users/:id/enable", api_user_enable, "users.admin", 0, NULL},
	{HTTP_DELETE, "/api/v1/admin/users/:id/certificates/:cert_id", api_user_cert_revoke,
	 "users.admin", 0, NULL},
	{HTTP_GET, "/api/v1/admin/jobs", api_jobs, "jobs.admin", 0, NULL},
	{HTTP_POST, "/api/v1/admin/jobs/:id/retry", api_jobs_retry, "jobs.admin", 0, NULL},
	{HTTP_GET, "/api/v1/admin/audit/verify", api_audit_verify, "audit.verify", 0, NULL},
	{0, NULL, NULL, NULL, 0, NULL},
};
