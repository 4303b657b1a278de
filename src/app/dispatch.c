/* Request dispatch: the middleware every request passes through, in order —
 * path decoding, the /metrics gate, routing, authentication (session cookie
 * or bearer token), the temporary-password gate, the permission the route
 * names, CSRF on state-changing requests — then the handler; afterwards one
 * access-log line and the metrics. Handlers never repeat these checks. */
#include "app/dispatch.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app/metrics.h"
#include "app/platform.h"
#include "app/proxy.h"
#include "app/roles.h"
#include "common/json_esc.h"
#include "common/log.h"
#include "http/req_internal.h"
#include "http/router.h"
#include "http/urlenc.h"

struct db_conn *app_db(struct req *r)
{
	if (!r->dbc)
		r->dbc = db_acquire(r->app->db);
	return r->dbc;
}

static void release_db(struct req *r)
{
	if (r->dbc) {
		db_release(r->dbc);
		r->dbc = NULL;
	}
}

bool req_param_id(struct req *r, const char *name, int64_t *out)
{
	const char *s = req_param(r, name);
	if (!s || !*s || strlen(s) > 18)
		return false;
	int64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v <= 0)
		return false;
	*out = v;
	return true;
}

bool req_can(const struct req *r, const char *perm)
{
	if (!perm)
		return r->who.kind != PRINCIPAL_NONE;
	for (const char **p = r->who.perms; p && *p; p++)
		if (strcmp(*p, perm) == 0)
			return true;
	return false;
}

static bool unsafe_method(enum http_method m)
{
	return m == HTTP_POST || m == HTTP_PUT || m == HTTP_PATCH || m == HTTP_DELETE;
}

static bool is_form(struct req *r)
{
	const char *ct = req_header(r, "Content-Type");
	return ct && (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 ||
		      strncasecmp(ct, "multipart/form-data", 19) == 0);
}

static bool is_json(struct req *r)
{
	const char *ct = req_header(r, "Content-Type");
	return ct && strncasecmp(ct, "application/json", 16) == 0;
}

/* CSRF. Pages: every state-changing request must be a form that echoes the
 * token of its session (or, before log-in, of the pre-session cookie: double
 * submit) — a body-less cross-site POST gets no further. API: a request
 * authenticated by the session cookie must send JSON (which a cross-site page
 * cannot do without a CORS preflight, never granted here) or the session's
 * token in X-CSRF-Token. Bearer-token requests carry no ambient credentials. */
static bool csrf_ok(struct req *r, bool bearer)
{
	if (bearer || !unsafe_method(r->method) || (r->route->flags & ROUTE_NO_CSRF))
		return true;
	const char *want =
		r->who.kind != PRINCIPAL_NONE ? r->who.csrf : req_cookie(r, PRE_SESSION_COOKIE);
	if (r->route->flags & ROUTE_HTML) {
		const char *sent = is_form(r) ? req_form(r, "csrf") : NULL;
		return sent && want && platform_token_equal(sent, want);
	}
	if (is_json(r) || r->who.kind == PRINCIPAL_NONE)
		return true;
	const char *hdr = req_header(r, "X-CSRF-Token");
	return hdr && want && platform_token_equal(hdr, want);
}

/* What a person whose password an administrator set (and who has not yet
 * changed it) may still do: change it, look at who they are, and leave. */
static bool temporary_password_allows(enum http_method m, const char *pattern)
{
	static const struct {
		enum http_method m;
		const char *pattern;
	} open[] = {
		{HTTP_GET, "/me/password"},
		{HTTP_POST, "/me/password"},
		{HTTP_POST, "/api/v1/me/password"},
		{HTTP_GET, "/api/v1/me"},
		{HTTP_POST, "/logout"},
		{HTTP_POST, "/api/v1/auth/logout"},
	};
	for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
		if (open[i].m == m && strcmp(open[i].pattern, pattern) == 0)
			return true;
	return false;
}

void app_dispatch(struct req *r, struct res *s)
{
	struct app *app = r->app;
	const char *path = NULL;
	const char *qmark = strchr(r->raw_url, '?');
	size_t plen = qmark ? (size_t)(qmark - r->raw_url) : strlen(r->raw_url);
	if (urlenc_decode_path(r->arena, r->raw_url, plen, (char **)&path) != 0) {
		res_problem(r, s, 400, http_status_title_ja(400), "URL の形式に誤りがあります。");
		return;
	}
	r->path = path;
	r->query = qmark ? qmark + 1 : "";
	/* The metrics are for the operators' own network: to anyone else the
	 * path does not exist (404, not 403, and before routing, so neither a
	 * 405 nor an error page tells them apart from an unknown path). */
	bool ops = strcmp(path, METRICS_PATH) == 0;
	if (ops && !metrics_allowed(r)) {
		res_problem(r, s, 404, http_status_title_ja(404), NULL);
		return;
	}
	if (req_query_error(r) != 0) {
		res_problem(r, s, 400, http_status_title_ja(400),
			    "URL の検索条件（? 以降）の形式に誤りがあります。");
		return;
	}

	unsigned allowed = 0;
	enum http_method m = r->method == HTTP_HEAD ? HTTP_GET : r->method;
	int found = router_match(app->router, m, path, r, &allowed);
	if (found == ROUTER_NOT_FOUND) {
		res_problem(r, s, 404, http_status_title_ja(404), NULL);
		return;
	}
	if (found == ROUTER_BAD_METHOD) {
		static const char *const names[] = {"GET",   "HEAD",   "POST",   "PUT",
						    "PATCH", "DELETE", "OPTIONS"};
		char allow[64] = "";
		size_t n = 0;
		for (int i = 0; i < 7; i++)
			if (allowed & (1u << i))
				n += (size_t)snprintf(allow + n, sizeof allow - n, "%s%s",
						      n ? ", " : "", names[i]);
		res_problem(r, s, 405, http_status_title_ja(405), NULL);
		res_header(r, s, "Allow", allow);
		return;
	}
	const struct route *rt = r->route;

	/* /metrics needs no account (its bearer token is --metrics-token, not
	 * an API token) and must answer while the database is down */
	bool bearer = false;
	int arc = ops ? PLATFORM_AUTH_NONE : platform_authenticate(r, &bearer);
	if (arc == PLATFORM_AUTH_UNAVAILABLE) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	if (!(rt->flags & ROUTE_PUBLIC) && r->who.kind == PRINCIPAL_NONE) {
		if (rt->flags & ROUTE_HTML) {
			const char *next = r->method == HTTP_GET ? path : "/";
			struct buf loc;
			buf_init(&loc, 4096);
			buf_puts(&loc, "/login?next=");
			urlenc_encode(&loc, next, strlen(next));
			res_redirect(r, s, arena_strdup(r->arena, buf_cstr(&loc)));
			buf_release(&loc);
		} else {
			res_problem(r, s, 401, http_status_title_ja(401),
				    "ログインするか、API トークンを指定してください。");
			res_header(r, s, "WWW-Authenticate", "Bearer realm=\"madoguchi\"");
		}
		return;
	}
	/* A password an administrator set (a new account's, or a reset at the
	 * counter) is known to that administrator: until the person has chosen
	 * their own, the account can do nothing but change it. Decided here, for
	 * every module's routes; public routes need no account and are left alone. */
	if (r->who.kind != PRINCIPAL_NONE && !(rt->flags & ROUTE_PUBLIC)) {
		/* must_change_password was read with the principal (session.c) */
		if (r->who.must_change_password && !temporary_password_allows(m, rt->pattern)) {
			if (rt->flags & ROUTE_HTML)
				res_redirect(r, s, "/me/password");
			else
				res_problem(r, s, 403, "パスワードの変更が必要です",
					    account_temporary_password_ja());
			res_header(r, s, "Cache-Control", "no-store");
			return;
		}
	}
	if (rt->perm && !req_can(r, rt->perm)) {
		res_problem(r, s, 403, http_status_title_ja(403), NULL);
		return;
	}
	if (unsafe_method(r->method) && is_form(r) && req_form_error(r) != 0) {
		res_problem(
			r, s, 400, http_status_title_ja(400),
			"送信された内容の形式に誤りがあります。文字化けしていないか確かめてください。");
		return;
	}
	if (!csrf_ok(r, bearer)) {
		res_problem(r, s, 403, "フォームの有効期限が切れたか、不正な送信です",
			    "お手数ですが、画面を開き直してからもう一度送信してください。");
		return;
	}
	/* pages and the JSON API alike may carry personal data: never cached */
	if ((rt->flags & ROUTE_HTML) || strncmp(path, "/api/", 5) == 0)
		res_header(r, s, "Cache-Control", "no-store");
	rt->fn(r, s);
}

void app_finished(struct req *r, struct res *s, long dur_us)
{
	struct app *app = r->app;
	const char *route = r->route ? (r->route->name ? r->route->name : r->route->pattern) : NULL;
	static const char *const names[] = {"GET",   "HEAD",   "POST",   "PUT",
					    "PATCH", "DELETE", "OPTIONS"};
	const char *method = "OTHER";
	for (int i = 0; i < 7; i++)
		if ((int)r->method == (1 << i))
			method = names[i];
	metrics_record(app->metrics, route, method, s->status, dur_us);
	release_db(r);
	if (!app->cfg->access_log)
		return;

	/* One line per request: no query strings, bodies, cookies or tokens. */
	struct buf b;
	buf_init(&b, 1536);
	const char *path = r->path && *r->path ? r->path : "";
	char ts[32];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(&b, "{\"ts\":\"%s.%03ldZ\",\"rid\":\"%s\",\"method\":\"%s\",\"path\":", ts,
		   now.tv_nsec / 1000000, r->request_id, method);
	if (json_esc_append(&b, strlen(path) > 512 ? "(long path)" : path) != 0)
		buf_puts(&b, "\"\"");
	buf_puts(&b, ",\"route\":");
	json_esc_append(&b, route ? route : "");
	buf_printf(&b, ",\"status\":%d,\"bytes\":%zu,\"dur_ms\":%.3f,\"ip\":\"%s\"", s->status,
		   s->body.len, (double)dur_us / 1000.0, r->client_ip);
	if (strcmp(r->peer_ip, r->client_ip) != 0) /* forwarded by a trusted proxy */
		buf_printf(&b, ",\"peer\":\"%s\"", r->peer_ip);
	if (r->who.kind != PRINCIPAL_NONE)
		buf_printf(&b, ",\"account\":%lld,\"lg\":\"%s\"", (long long)r->who.account_id,
			   r->who.lg_code);
	buf_puts(&b, "}\n");
	/* One write(2) per line: no stdio lock shared by the workers, and lines
	 * from different threads never interleave (each is one call). */
	ssize_t w;
	do
		w = write(STDOUT_FILENO, buf_cstr(&b), b.len);
	while (w < 0 && errno == EINTR);
	buf_release(&b);
}

void app_dispatch_install(void)
{
	http_set_cleanup_hook(release_db);
	http_set_client_hook(proxy_resolve);
}
