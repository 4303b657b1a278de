/* The HTTP layer's public API for handlers: requests, responses, routes.
 *
 * A handler is `void fn(struct req *, struct res *)`. It runs on a server
 * worker thread, allocates from req->arena (freed after the response is
 * sent) and fills res. Authentication, tenant, CSRF and permission checks
 * have already passed when a handler runs (see route flags). */
#ifndef MADO_HTTP_H
#define MADO_HTTP_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"

struct app;
struct db_conn;
struct MHD_Connection;

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_PATCH = 1 << 4,
	HTTP_DELETE = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
};

#define REQ_MAX_PARAMS 8

/* Who is making the request, set by the auth middleware. */
enum principal_kind { PRINCIPAL_NONE = 0, PRINCIPAL_RESIDENT, PRINCIPAL_STAFF, PRINCIPAL_SYSTEM };

struct principal {
	enum principal_kind kind;
	int64_t account_id;
	char lg_code[7];       /* tenant of the account */
	const char *login;     /* arena-owned */
	const char *display;   /* display name, arena-owned */
	const char *muni_name; /* the municipality's name, arena-owned */
	const char **roles;    /* NULL-terminated role names, arena-owned */
	const char **perms;    /* NULL-terminated permission names, arena-owned */
	int64_t session_id;    /* 0 for token requests */
	const char *csrf;      /* the session's CSRF token (HTML forms), arena-owned */
	/* the password was set by an administrator and the person has not yet
	 * changed it: only /me/password, log-out and GET /api/v1/me answer
	 * (set by app_dispatch after authentication) */
	bool must_change_password;
};

struct req {
	struct arena *arena;
	struct app *app;
	struct MHD_Connection *conn; /* internal */
	struct res *res;             /* internal: this request's response */
	struct db_conn *dbc;         /* internal: see app_db() */
	const char *raw_url;         /* path as received, still percent-encoded */
	enum http_method method;
	const char *path;  /* percent-decoded path, without the query */
	const char *query; /* raw query string after '?', or "" */
	const char *body;  /* NUL-terminated; body_len bytes */
	size_t body_len;
	char request_id[33];
	/* The client's address: the TCP peer's, or behind a trusted reverse
	 * proxy the one it forwarded (app/proxy.h). Use this one everywhere. */
	char client_ip[64];
	char peer_ip[64]; /* the TCP peer's address, whoever it is */
	/* The client reached us over HTTPS: this connection is TLS, or a trusted
	 * proxy said so (X-Forwarded-Proto). Decides Secure cookies and HSTS. */
	bool tls;
	const struct route *route;
	int nparams;
	const char *param_name[REQ_MAX_PARAMS];
	const char *param_value[REQ_MAX_PARAMS];
	struct principal who;
	void *form;  /* internal: parsed form, see req_form */
	void *qform; /* internal: parsed query string, see req_query */
};

struct res_header {
	const char *name, *value; /* arena-owned */
};

#define RES_MAX_HEADERS 24

struct res {
	int status;
	const char *content_type;
	struct buf body;
	int nheaders;
	struct res_header headers[RES_MAX_HEADERS];
};

/* ---- request accessors (results are arena-owned or NULL) ---- */
const char *req_header(struct req *r, const char *name);
/* Every line of a header that may repeat, joined with ", " in the order
 * received (RFC 9110 5.3), or NULL when absent. */
const char *req_header_all(struct req *r, const char *name);
const char *req_cookie(struct req *r, const char *name);
const char *req_param(struct req *r, const char *name); /* route parameter */
/* Query parameter, percent-decoded and checked to be valid UTF-8 (NULL if absent). */
const char *req_query(struct req *r, const char *name);
/* Non-zero when the query string is malformed (bad escape, invalid UTF-8 …). */
int req_query_error(struct req *r);
/* Field of an application/x-www-form-urlencoded or multipart/form-data body,
 * decoded and UTF-8 checked; NULL when absent. The form is parsed on first use;
 * a malformed form makes every field NULL and req_form_error() non-zero. */
const char *req_form(struct req *r, const char *name);
int req_form_error(struct req *r);
/* Every value of a repeated form field (checkboxes), NULL-terminated, arena-owned. */
const char **req_form_all(struct req *r, const char *name);
/* The body as JSON. On malformed input returns NULL and fills res with a 400
 * problem (or 415 when the content type is not JSON). Owned by the caller:
 * json_decref() it. */
json_t *req_json(struct req *r, struct res *res);
/* True for HTML routes, and for unrouted requests whose Accept prefers text/html. */
bool req_wants_html(const struct req *r);

/* Renders the HTML error page for status; installed once by the app layer.
 * Without one, errors are always problem+json. */
typedef void (*html_error_fn)(struct req *r, struct res *s, int status, const char *title,
			      const char *detail);
void http_set_html_error(html_error_fn fn);

/* ---- responses ---- */
/* Adds a header (copied into the arena). Returns -1 when the table is full. */
int res_header(struct req *r, struct res *s, const char *name, const char *value);
/* Sets status and a JSON body. Steals the reference to j. */
void res_json(struct req *r, struct res *s, int status, json_t *j);
/* RFC 9457 problem+json; type is "about:blank" unless given. detail may be NULL.
 * For HTML routes this renders the friendly Japanese error page instead. */
void res_problem(struct req *r, struct res *s, int status, const char *title, const char *detail);
/* Problem with field errors: errors is {"field": "日本語のメッセージ", …} (stolen). */
void res_problem_fields(struct req *r, struct res *s, int status, const char *title,
			json_t *errors);
void res_text(struct req *r, struct res *s, int status, const char *ctype, const char *body,
	      size_t len);
/* 303 See Other to a local path. */
void res_redirect(struct req *r, struct res *s, const char *location);
/* Set-Cookie with HttpOnly, SameSite=Lax, Path=/, Secure when TLS.
 * max_age < 0 means a session cookie; 0 deletes it. */
void res_cookie(struct req *r, struct res *s, const char *name, const char *value, long max_age);

/* ---- routes ---- */
typedef void (*handler_fn)(struct req *r, struct res *s);

enum route_flags {
	ROUTE_PUBLIC = 1 << 0, /* no log-in needed */
	ROUTE_HTML = 1 << 1,   /* HTML page: errors as pages, log-in redirects */
	ROUTE_NO_CSRF = 1 << 2 /* a form POST exempt from CSRF (only the log-in form) */
};

struct route {
	unsigned methods;    /* HTTP_GET | … */
	const char *pattern; /* "/api/v1/users/:id" — ':name' matches one segment */
	handler_fn fn;
	const char *perm; /* permission needed, or NULL for any signed-in account */
	unsigned flags;
	const char *name; /* label for metrics; defaults to pattern */
};

#endif
