/* Request accessors and response builders for handlers (see http.h). */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/jsonin.h"
#include "common/utf8.h"
#include "http/multipart.h"
#include "http/req_internal.h"
#include "http/urlenc.h"

static html_error_fn html_error;
static req_cleanup_fn cleanup_hook;
static req_client_fn client_hook;

void http_set_html_error(html_error_fn fn)
{
	html_error = fn;
}

void http_set_cleanup_hook(req_cleanup_fn fn)
{
	cleanup_hook = fn;
}

void http_set_client_hook(req_client_fn fn)
{
	client_hook = fn;
}

void req_resolve_client(struct req *r)
{
	if (client_hook)
		client_hook(r);
}

/* Responses are at most 8 MiB: larger exports go through jobs and files. */
#define RES_MAX_BODY (8u << 20)

void req_setup(struct req *r, struct res *s, struct app *app, struct MHD_Connection *conn)
{
	memset(r, 0, sizeof(*r));
	memset(s, 0, sizeof(*s));
	r->arena = arena_new();
	r->app = app;
	r->conn = conn;
	r->res = s;
	r->path = "";
	r->query = "";
	r->body = "";
	s->status = 200;
	buf_init(&s->body, RES_MAX_BODY);
}

void req_cleanup(struct req *r, struct res *s)
{
	if (cleanup_hook)
		cleanup_hook(r);
	buf_release(&s->body);
	arena_free(r->arena);
	r->arena = NULL;
}

const char *http_status_title_ja(int status)
{
	switch (status) {
	case 400:
		return "入力内容に誤りがあります";
	case 401:
		return "ログインが必要です";
	case 403:
		return "この操作は許可されていません";
	case 404:
		return "ページが見つかりません";
	case 405:
		return "この方法では利用できません";
	case 409:
		return "ほかの操作と競合しました";
	case 413:
		return "送信された内容が大きすぎます";
	case 415:
		return "送信された形式に対応していません";
	case 422:
		return "入力内容を確認してください";
	case 429:
		return "しばらく時間をおいてからお試しください";
	case 431:
		return "要求のヘッダーが大きすぎます";
	case 501:
		return "この要求には対応していません";
	case 503:
		return "ただいま混み合っているか、準備中です";
	default:
		return status >= 500 ? "システムでエラーが発生しました" :
				       "要求を処理できませんでした";
	}
}

void req_fail(struct req *r, struct res *s, int status)
{
	res_problem(r, s, status, http_status_title_ja(status), NULL);
}

const char *req_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

struct header_join {
	const char *name;
	struct buf b;
	int n;
};

static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct header_join *j = cls;
	if (!key || strcasecmp(key, j->name) != 0)
		return MHD_YES;
	/* the buffer is larger than any request's headers: cannot overflow */
	if ((j->n++ && buf_puts(&j->b, ", ")) || buf_puts(&j->b, value ? value : ""))
		return MHD_NO;
	return MHD_YES;
}

const char *req_header_all(struct req *r, const char *name)
{
	struct header_join j = {.name = name, .n = 0};
	buf_init(&j.b, 4u << 20);
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, join_header, &j);
	const char *out = j.n ? arena_strdup(r->arena, buf_cstr(&j.b)) : NULL;
	buf_release(&j.b);
	return out;
}

const char *req_cookie(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *req_param(struct req *r, const char *name)
{
	for (int i = 0; i < r->nparams; i++)
		if (strcmp(r->param_name[i], name) == 0)
			return r->param_value[i];
	return NULL;
}

struct query_state {
	int error;
	struct urlenc_form fields;
};

static struct query_state *query_parse(struct req *r)
{
	if (r->qform)
		return r->qform;
	struct query_state *q = arena_zalloc(r->arena, sizeof(*q));
	r->qform = q;
	q->error = urlenc_parse(r->arena, r->query, strlen(r->query), NULL, &q->fields);
	return q;
}

const char *req_query(struct req *r, const char *name)
{
	struct query_state *q = query_parse(r);
	return q->error ? NULL : urlenc_get(&q->fields, name);
}

int req_query_error(struct req *r)
{
	return query_parse(r)->error;
}

struct form_state {
	int error;
	struct urlenc_form fields;
};

/* Text fields of a multipart body as a form field list (files are left to
 * handlers that ask for them). */
static int multipart_as_form(struct req *r, const char *ct, struct urlenc_form *out)
{
	char boundary[128];
	struct multipart mp;
	int rc = multipart_boundary(ct, boundary, sizeof boundary);
	if (rc == 0)
		rc = multipart_parse(r->arena, r->body, r->body_len, boundary, NULL, &mp);
	if (rc != 0)
		return rc;
	out->fields = arena_zalloc(r->arena, sizeof(struct urlenc_field) * (mp.n ? mp.n : 1));
	out->n = 0;
	for (size_t i = 0; i < mp.n; i++) {
		if (!mp.parts[i].value)
			continue;
		struct urlenc_field *f = &out->fields[out->n++];
		f->name = mp.parts[i].name;
		f->name_len = strlen(f->name);
		f->value = mp.parts[i].value;
		f->value_len = mp.parts[i].len;
	}
	return 0;
}

static struct form_state *form_parse(struct req *r)
{
	if (r->form)
		return r->form;
	struct form_state *f = arena_zalloc(r->arena, sizeof(*f));
	r->form = f;
	const char *ct = req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!ct) {
		f->error = -EINVAL;
	} else if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
		f->error = urlenc_parse(r->arena, r->body, r->body_len, NULL, &f->fields);
	} else if (strncasecmp(ct, "multipart/form-data", 19) == 0) {
		f->error = multipart_as_form(r, ct, &f->fields);
	} else {
		f->error = -EPROTO;
	}
	return f;
}

const char *req_form(struct req *r, const char *name)
{
	struct form_state *f = form_parse(r);
	if (f->error)
		return NULL;
	return urlenc_get(&f->fields, name);
}

const char **req_form_all(struct req *r, const char *name)
{
	struct form_state *f = form_parse(r);
	size_t n = 0;
	for (size_t i = 0; !f->error && i < f->fields.n; i++)
		n += strcmp(f->fields.fields[i].name, name) == 0;
	const char **out = arena_alloc(r->arena, sizeof(char *) * (n + 1));
	n = 0;
	for (size_t i = 0; !f->error && i < f->fields.n; i++)
		if (strcmp(f->fields.fields[i].name, name) == 0)
			out[n++] = f->fields.fields[i].value;
	out[n] = NULL;
	return out;
}

int req_form_error(struct req *r)
{
	return form_parse(r)->error;
}

json_t *req_json(struct req *r, struct res *res)
{
	const char *ct = req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!ct || (strncasecmp(ct, "application/json", 16) != 0 &&
		    strncasecmp(ct, "application/problem+json", 24) != 0)) {
		res_problem(r, res, 415, http_status_title_ja(415),
			    "Content-Type には application/json を指定してください。");
		return NULL;
	}
	char err[160];
	json_t *j = jsonin_parse(r->body, r->body_len, err, sizeof err);
	if (!j) {
		res_problem(r, res, 400, "JSON の形式に誤りがあります", err);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		res_problem(r, res, 400, "JSON の形式に誤りがあります",
			    "JSON オブジェクトを送信してください。");
		return NULL;
	}
	return j;
}

bool req_wants_html(const struct req *r)
{
	if (r->route)
		return (r->route->flags & ROUTE_HTML) != 0;
	const char *acc = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept");
	return acc && strstr(acc, "text/html") != NULL;
}

int res_header(struct req *r, struct res *s, const char *name, const char *value)
{
	if (s->nheaders >= RES_MAX_HEADERS)
		return -1;
	s->headers[s->nheaders].name = arena_strdup(r->arena, name);
	s->headers[s->nheaders].value = arena_strdup(r->arena, value);
	s->nheaders++;
	return 0;
}

static void set_body(struct res *s, const char *p, size_t n)
{
	buf_reset(&s->body);
	if (buf_append(&s->body, p, n) != 0) {
		/* cannot happen for our own documents; never send a truncated one */
		buf_reset(&s->body);
		s->status = 500;
	}
}

void res_json(struct req *r, struct res *s, int status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	s->status = status;
	s->content_type = "application/json";
	if (!text) {
		s->status = 500;
		set_body(s, "{}", 2);
		return;
	}
	set_body(s, text, strlen(text));
	free(text);
}

static void problem_json(struct req *r, struct res *s, int status, const char *title,
			 const char *detail, json_t *errors)
{
	json_t *p = json_object();
	json_object_set_new(p, "type", json_string("about:blank"));
	json_object_set_new(p, "title", json_string(title));
	json_object_set_new(p, "status", json_integer(status));
	if (detail)
		json_object_set_new(p, "detail", json_string(detail));
	if (r->path && *r->path && utf8_valid(r->path, strlen(r->path)))
		json_object_set_new(p, "instance", json_string(r->path));
	json_object_set_new(p, "request_id", json_string(r->request_id));
	if (errors)
		json_object_set_new(p, "errors", errors);
	res_json(r, s, status, p);
	s->content_type = "application/problem+json";
}

void res_problem(struct req *r, struct res *s, int status, const char *title, const char *detail)
{
	if (html_error && req_wants_html(r)) {
		html_error(r, s, status, title, detail);
		return;
	}
	problem_json(r, s, status, title, detail, NULL);
}

void res_problem_fields(struct req *r, struct res *s, int status, const char *title, json_t *errors)
{
	problem_json(r, s, status, title, NULL, errors);
}

void res_text(struct req *r, struct res *s, int status, const char *ctype, const char *body,
	      size_t len)
{
	s->status = status;
	s->content_type = arena_strdup(r->arena, ctype);
	set_body(s, body, len);
}

void res_redirect(struct req *r, struct res *s, const char *location)
{
	/* only local paths: never an open redirect */
	if (!location || location[0] != '/' || location[1] == '/' || location[1] == '\\')
		location = "/";
	s->status = 303;
	res_header(r, s, "Location", location);
	s->content_type = "text/plain; charset=utf-8";
	set_body(s, "", 0);
}

void res_cookie(struct req *r, struct res *s, const char *name, const char *value, long max_age)
{
	char *v;
	const char *secure = r->tls ? "; Secure" : "";
	if (max_age < 0)
		v = arena_printf(r->arena, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s", name, value,
				 secure);
	else
		v = arena_printf(r->arena, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
				 name, max_age ? value : "", max_age, secure);
	res_header(r, s, "Set-Cookie", v);
}
