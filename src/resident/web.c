/* The resident record's routes (staff console, わたしの情報, JSON API and
 * once-only prefill) and the helpers its pages and API share: purposes, the
 * acting principal, dates in ISO or 和暦, display labels. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app/dispatch.h"
#include "app/platform.h"
#include "common/utf8.h"
#include "common/wareki.h"
#include "http/urlenc.h"
#include "resident/resident_web.h"
#include "resident/web_util.h"

const struct rweb_purpose rweb_purposes[] = {
	{"identity", "窓口での本人確認"},
	{"certificate", "証明書の発行"},
	{"notification", "届出の受付"},
	{"other", "その他"},
	{NULL, NULL},
};

const char *const rweb_change_events[] = {"tenkyo", "setai",   "tenshutsu",
					  "shibou", "correct", NULL};

bool rweb_change_event(const char *code, enum resident_event *ev)
{
	for (const char *const *p = rweb_change_events; code && *p; p++)
		if (!strcmp(code, *p))
			return resident_event_parse(code, ev) == 0;
	return false;
}

/* True when s holds a control character (C0, DEL), which no purpose needs. */
static bool has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* Trims ASCII and ideographic spaces at both ends (arena copy). */
static const char *trim(struct req *r, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s), b = 0;
	for (;;) {
		if (b < n && (s[b] == ' ' || s[b] == '\t'))
			b++;
		else if (n - b >= 3 && !memcmp(s + b, "\xe3\x80\x80", 3))
			b += 3;
		else
			break;
	}
	for (;;) {
		if (n > b && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		else if (n - b >= 3 && !memcmp(s + n - 3, "\xe3\x80\x80", 3))
			n -= 3;
		else
			break;
	}
	return arena_strndup(r->arena, s + b, n - b);
}

const char *rweb_purpose_resolve(struct req *r, const char *code, const char *other, bool free,
				 const char **field, const char **err)
{
	*field = "purpose";
	code = trim(r, code);
	other = trim(r, other);
	if (!code || !*code) {
		*err = "利用目的を選んでください。住民の情報は、目的を記録してから表示します。";
		return NULL;
	}
	for (const struct rweb_purpose *p = rweb_purposes; p->code; p++) {
		if (strcmp(p->code, code) != 0 && strcmp(p->label, code) != 0)
			continue;
		if (strcmp(p->code, "other") != 0)
			return p->label;
		*field = "purpose_other";
		if (!other || !*other) {
			*err = "「その他」を選んだときは、利用目的を具体的に入力してください。";
			return NULL;
		}
		if (utf8_count(other, strlen(other)) > RWEB_PURPOSE_MAX || has_control(other)) {
			*err = "利用目的は改行を含めず100文字以内で入力してください。";
			return NULL;
		}
		return arena_printf(r->arena, "その他：%s", other);
	}
	if (!free) {
		*err = "利用目的を一覧から選んでください。";
		return NULL;
	}
	if (utf8_count(code, strlen(code)) > RWEB_PURPOSE_MAX || has_control(code)) {
		*err = "利用目的（purpose）は改行を含めず100文字以内で指定してください。";
		return NULL;
	}
	return code;
}

json_t *rweb_purpose_choices(const char *selected)
{
	json_t *arr = json_array();
	for (const struct rweb_purpose *p = rweb_purposes; p->code; p++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "value", p->code, "label",
						     p->label, "selected",
						     selected && !strcmp(selected, p->code)));
	return arr;
}

const char *rweb_purpose_query(struct req *r, const char *code, const char *other)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "purpose=");
	if (code)
		urlenc_encode(&b, code, strlen(code));
	if (code && !strcmp(code, "other") && other && *other) {
		buf_puts(&b, "&purpose_other=");
		urlenc_encode(&b, other, strlen(other));
	}
	const char *out = arena_strdup(r->arena, buf_cstr(&b));
	buf_release(&b);
	return out;
}

void rweb_actor(struct req *r, const char *purpose, struct resident_actor *who)
{
	const struct principal *w = &r->who;
	const char *org = platform_actor_org(r); /* resident routes have no anonymous caller */
	memset(who, 0, sizeof *who);
	who->lg_code = w->lg_code;
	who->actor_kind = w->kind == PRINCIPAL_RESIDENT ? "resident" :
			  w->kind == PRINCIPAL_SYSTEM   ? "system" :
							  "staff";
	who->actor_id = arena_printf(r->arena, "%lld", (long long)w->account_id);
	who->actor_name = w->display ? w->display : "";
	who->actor_org = org ? org : "";
	who->purpose = purpose;
	who->request_id = r->request_id;
}

int rweb_record_change(struct req *r, const char *code, enum resident_event ev, const char *date,
		       const char *notified, const struct resident_rec *rec, char *msg,
		       size_t msglen)
{
	struct resident_actor who;
	rweb_actor(r, "届出の受付", &who);
	return resident_record_event(r->app, &who, code, ev, date, notified ? notified : date, rec,
				     msg, msglen);
}

int rweb_date(struct req *r, const char *in, const char **iso, const char **err)
{
	*iso = NULL;
	in = trim(r, in);
	if (!in || !*in)
		return 0;
	size_t n = strlen(in);
	struct wareki_date d;
	char msg[WAREKI_MSG_MAX] = "";
	int rc = wareki_parse_iso(in, n, &d, msg, sizeof msg);
	if (rc != 0) {
		/* not ISO: 和暦 then, with its own message */
		msg[0] = '\0';
		rc = wareki_parse(in, n, &d, msg, sizeof msg);
	}
	if (rc != 0) {
		if (rc == WAREKI_ESYNTAX || rc == WAREKI_ETOOLONG || !msg[0])
			*err = "日付は 2024-04-01 または 令和6年4月1日 の形で入力してください。";
		else
			*err = arena_strdup(r->arena, msg);
		return -EINVAL;
	}
	char buf[WAREKI_FORMAT_MAX];
	if (wareki_format_iso(&d, buf, sizeof buf) < 0) {
		*err = "日付を読み取れませんでした。";
		return -EINVAL;
	}
	*iso = arena_strdup(r->arena, buf);
	return 0;
}

const char *rweb_date_ja(struct req *r, const char *iso)
{
	if (!iso)
		return "";
	struct wareki_date d;
	char buf[WAREKI_FORMAT_MAX];
	if (wareki_parse_iso(iso, strlen(iso), &d, NULL, 0) != 0 ||
	    wareki_format_long(&d, buf, sizeof buf) < 0)
		return iso;
	return arena_strdup(r->arena, buf);
}

bool rweb_code_ok(const char *code)
{
	if (!code || strlen(code) != 11)
		return false;
	for (const char *p = code; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* True when the UTF-8 character at p (n bytes left) is a separator a number
 * may be written with once folded: hyphen-minus, U+2010..U+2015 (hyphens,
 * dashes), U+2212 minus, U+30FC prolonged sound mark; then *len is its
 * length in bytes. */
static bool number_separator(const unsigned char *p, size_t n, size_t *len)
{
	if (*p == '-') {
		*len = 1;
		return true;
	}
	if (n >= 3 && ((p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x90 && p[2] <= 0x95) ||
		       (p[0] == 0xe2 && p[1] == 0x88 && p[2] == 0x92) ||
		       (p[0] == 0xe3 && p[1] == 0x83 && p[2] == 0xbc))) {
		*len = 3;
		return true;
	}
	return false;
}

const char *rweb_search_text(struct req *r, const char *q, size_t *digits)
{
	*digits = 0;
	char *t = (char *)trim(r, q);
	if (!t)
		return NULL;
	size_t n = strlen(t), nd = 0;
	bool only = true;
	const char *out = t;
	/* counted on the text as the search folds it (NFKC, width, spaces), so
	 * that 𝟏𝟐𝟑… or ①②③… count as the digits they become */
	struct buf f;
	buf_init(&f, 16 * RWEB_Q_MAX + 16);
	const unsigned char *p = (const unsigned char *)t;
	size_t m = n;
	if (n > 0 && resident_fold(&f, t, n) == 0) {
		p = (const unsigned char *)f.p;
		m = f.len;
	}
	/* not foldable (bad UTF-8): the search refuses it; count it as it is */
	for (size_t i = 0, len; i < m; i += len) {
		len = 1;
		if (p[i] >= '0' && p[i] <= '9')
			nd++;
		else if (!number_separator(p + i, m - i, &len) && p[i] != ' ')
			only = false;
	}
	*digits = nd;
	if (only && nd > 0) {
		char *d = arena_alloc(r->arena, nd + 1);
		size_t k = 0;
		for (size_t i = 0; i < m; i++)
			if (p[i] >= '0' && p[i] <= '9')
				d[k++] = (char)p[i];
		d[k] = '\0';
		out = d;
		if (nd >= RWEB_MN_DIGITS) /* the digits alone go on; no other copy stays */
			sodium_memzero(t, n);
	}
	if (f.p)
		sodium_memzero(f.p, f.len);
	buf_release(&f);
	return out;
}

/* The MAC of a view token: HMAC-SHA256 keyed with the session's CSRF token
 * over what the link reads and until when, each string with its NUL. */
static void view_mac(const char *csrf, const char *code, const char *pcode, const char *pother,
		     const char *as_of, const char *exp,
		     unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	const char *parts[] = {"resident.view", code, pcode, pother, as_of, exp};
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)csrf, strlen(csrf));
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)parts[i],
					      strlen(parts[i]) + 1);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof st);
}

/* purpose_other counts only with その他, as rweb_purpose_query writes it. */
static const char *other_of(const char *pcode, const char *pother)
{
	return pcode && !strcmp(pcode, "other") && pother ? pother : "";
}

const char *rweb_view_link(struct req *r, const char *code, const char *pcode, const char *pother,
			   const char *as_of)
{
	const char *csrf = r->who.csrf;
	struct buf b;
	buf_init(&b, 4096);
	buf_printf(&b, "/staff/residents/%s?%s", code, rweb_purpose_query(r, pcode, pother));
	if (as_of && *as_of) {
		buf_puts(&b, "&as_of=");
		urlenc_encode(&b, as_of, strlen(as_of));
	}
	if (csrf && *csrf) {
		char exp[24], hex[2 * RWEB_VIEW_MAC_BYTES + 1];
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		snprintf(exp, sizeof exp, "%lld", (long long)time(NULL) + RWEB_VIEW_TTL);
		view_mac(csrf, code, pcode ? pcode : "", other_of(pcode, pother),
			 as_of ? as_of : "", exp, mac);
		sodium_bin2hex(hex, sizeof hex, mac, RWEB_VIEW_MAC_BYTES);
		buf_printf(&b, "&t=%s.%s", exp, hex);
	}
	const char *out = arena_strdup(r->arena, buf_cstr(&b));
	buf_release(&b);
	return out;
}

int rweb_view_check(struct req *r, const char *code)
{
	const char *csrf = r->who.csrf, *t = req_query(r, "t");
	if (!t || !*t)
		return -ENOENT;
	const char *dot = strchr(t, '.');
	if (!csrf || !*csrf || !dot || dot == t || dot - t > 20 ||
	    strlen(dot + 1) != 2 * RWEB_VIEW_MAC_BYTES)
		return -EINVAL;
	char exp[24];
	snprintf(exp, sizeof exp, "%.*s", (int)(dot - t), t);
	char *end;
	errno = 0;
	long long e = strtoll(exp, &end, 10);
	if (*end || errno || exp[0] < '0' || exp[0] > '9')
		return -EINVAL;
	unsigned char want[crypto_auth_hmacsha256_BYTES], got[RWEB_VIEW_MAC_BYTES];
	size_t gn = 0;
	if (sodium_hex2bin(got, sizeof got, dot + 1, strlen(dot + 1), NULL, &gn, NULL) != 0 ||
	    gn != sizeof got)
		return -EINVAL;
	const char *pcode = req_query(r, "purpose"), *pother = req_query(r, "purpose_other");
	const char *as_of = req_query(r, "as_of");
	view_mac(csrf, code, pcode ? pcode : "", other_of(pcode, pother), as_of ? as_of : "", exp,
		 want);
	if (sodium_memcmp(want, got, sizeof got) != 0)
		return -EINVAL;
	long long now = (long long)time(NULL);
	if (e < now || e > now + RWEB_VIEW_TTL + 60)
		return -ETIMEDOUT;
	return 0;
}

const char *rweb_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static const char *sex_label(json_t *v)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
	if (json_is_string(v))
		n = json_string_value(v)[0] ? json_string_value(v)[0] - '0' : 0;
	return n == 1 ? "男" : n == 2 ? "女" : "未記載";
}

static const char *status_label(json_t *v)
{
	const char *s = json_string_value(v);
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
	if ((s && !strcmp(s, "moved_out")) || n == RES_ST_MOVED_OUT)
		return "転出";
	if ((s && !strcmp(s, "deceased")) || n == RES_ST_DECEASED)
		return "死亡";
	if ((s && !strcmp(s, "active")) || n == RES_ST_ACTIVE)
		return "住民";
	return "";
}

void rweb_decorate(struct req *r, json_t *rec)
{
	if (!json_is_object(rec))
		return;
	/* a full My Number never leaves through the web layer */
	json_object_del(rec, "mynumber");
	json_object_del(rec, "mynumber_enc");
	json_object_del(rec, "mynumber_index");
	static const char *const dates[] = {"birth", "valid_from", "valid_to", "notified", NULL};
	for (const char *const *k = dates; *k; k++) {
		const char *v = json_string_value(json_object_get(rec, *k));
		if (v && *v)
			json_object_set_new(rec, arena_printf(r->arena, "%s_ja", *k),
					    json_string(rweb_date_ja(r, v)));
	}
	if (json_object_get(rec, "sex"))
		json_object_set_new(rec, "sex_label",
				    json_string(sex_label(json_object_get(rec, "sex"))));
	if (json_object_get(rec, "status"))
		json_object_set_new(rec, "status_label",
				    json_string(status_label(json_object_get(rec, "status"))));
	const char *ev = json_string_value(json_object_get(rec, "event"));
	enum resident_event e;
	if (ev && resident_event_parse(ev, &e) == 0)
		json_object_set_new(rec, "event_ja", json_string(resident_event_ja(e)));
}

void rweb_decorate_all(struct req *r, json_t *arr)
{
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v)
		rweb_decorate(r, v);
}

void rweb_wipe(struct req *r, const char *a, const char *b)
{
	if (a)
		sodium_memzero((void *)a, strlen(a));
	if (b)
		sodium_memzero((void *)b, strlen(b));
	/* every q of a form (a repeated field is a copy too); the request owns
	 * them and nothing reads them after this */
	if (r->method == HTTP_POST && r->body && r->body_len) {
		const char *ct = req_header(r, "Content-Type");
		if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
			for (const char **v = req_form_all(r, "q"); v && *v; v++)
				sodium_memzero((void *)*v, strlen(*v));
	}
	/* the body buffer belongs to the request and is only read before this */
	if (r->body && r->body_len)
		sodium_memzero((void *)r->body, r->body_len);
}

void rweb_strip_mynumber(json_t *arr)
{
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v)
		json_object_del(v, "mynumber_masked");
}

const struct route resident_routes[] = {
	/* staff console */
	{HTTP_GET, "/staff/residents", rweb_page_search, "resident.read", ROUTE_HTML, NULL},
	{HTTP_POST, "/staff/residents", rweb_page_search, "resident.read", ROUTE_HTML, NULL},
	{HTTP_GET, "/staff/residents/:code", rweb_page_detail, "resident.read", ROUTE_HTML, NULL},
	{HTTP_POST, "/staff/residents/:code", rweb_page_detail_post, "resident.read", ROUTE_HTML,
	 NULL},
	{HTTP_GET, "/staff/residents/:code/change", rweb_page_change, "resident.write", ROUTE_HTML,
	 NULL},
	{HTTP_POST, "/staff/residents/:code/change", rweb_page_change_post, "resident.write",
	 ROUTE_HTML, NULL},
	/* resident portal */
	{HTTP_GET, "/me/info", rweb_page_me, "self.read", ROUTE_HTML, NULL},
	/* JSON API */
	{HTTP_GET, "/api/v1/residents", rweb_api_search, "resident.read", 0, NULL},
	{HTTP_POST, "/api/v1/residents/search", rweb_api_search_post, "resident.read", 0, NULL},
	{HTTP_GET, "/api/v1/residents/:code", rweb_api_get, "resident.read", 0, NULL},
	{HTTP_GET, "/api/v1/residents/:code/history", rweb_api_history, "resident.read", 0, NULL},
	{HTTP_GET, "/api/v1/residents/:code/household", rweb_api_household, "resident.read", 0,
	 NULL},
	{HTTP_GET, "/api/v1/residents/:code/prefill", rweb_api_prefill, "resident.read", 0, NULL},
	{HTTP_POST, "/api/v1/residents/:code/events", rweb_api_event, "resident.write", 0, NULL},
	{HTTP_GET, "/api/v1/me/resident", rweb_api_me, "self.read", 0, NULL},
	{HTTP_GET, "/api/v1/me/prefill", rweb_api_me_prefill, "self.read", 0, NULL},
	{0, NULL, NULL, NULL, 0, NULL},
};
