/* The address API: GET /api/v1/address/normalize?q= for one address and
 * POST /api/v1/address/normalize for a batch. Public reference data, so the
 * routes are public; every request holds a reference to the shared index
 * (addr_shared.c) while it normalizes. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "address/addr_internal.h"
#include "common/jsonin.h"

/* The server builds the index in the background as it starts, so that the
 * first request does not wait a second for it, and rebuilds it when the
 * registry is re-imported (addr_shared.c). */
static int addr_start(struct app *app)
{
	if (!app->router) /* a CLI command, not the server */
		return 0;
	addr_shared_start(app);
	return 0;
}

static void addr_stop(struct app *app)
{
	addr_shared_stop(app);
}

/* A reference to the shared index (addr_shared_release it), or NULL after
 * answering 503. */
static const struct addr_index *index_or_503(struct req *r, struct res *s)
{
	char err[256];
	const struct addr_index *ix = addr_shared_acquire(r->app, err, sizeof err);
	if (!ix)
		res_problem(
			r, s, 503, "ただいま処理できません",
			"住所データを読み込めませんでした。しばらくしてからもう一度お試しください。");
	return ix;
}

static bool format_of(struct req *r, struct res *s, enum addr_format dflt, enum addr_format *f)
{
	const char *v = req_query(r, "format");
	*f = dflt;
	if (!v || !*v)
		return true;
	if (addr_format_parse(v, f) == 0)
		return true;
	res_problem(r, s, 400, "出力形式が正しくありません",
		    "format には json、ndjson、csv、geojson のいずれかを指定してください。");
	return false;
}

static const char *content_type(enum addr_format f)
{
	switch (f) {
	case ADDR_FMT_CSV:
		return "text/csv; charset=utf-8";
	case ADDR_FMT_GEOJSON:
		return "application/geo+json";
	case ADDR_FMT_NDJSON:
		return "application/x-ndjson";
	default:
		return "application/json";
	}
}

static void api_normalize_one(struct req *r, struct res *s)
{
	const char *q = req_query_error(r) ? NULL : req_query(r, "q");
	if (!q || !*q) {
		res_problem(r, s, 400, "住所が指定されていません",
			    "q に住所を指定してください（例: q=和歌山市七番丁23）。");
		return;
	}
	if (strlen(q) > ADDR_INPUT_MAX) {
		res_problem(r, s, 400, "住所が長すぎます",
			    "住所は4096バイト以内で指定してください。");
		return;
	}
	enum addr_format f;
	if (!format_of(r, s, ADDR_FMT_JSON, &f))
		return;
	const struct addr_index *ix = index_or_503(r, s);
	if (!ix)
		return;
	struct addr_work *w = addr_work_new();
	struct addr_result res;
	size_t n = strlen(q);
	addr_normalize(ix, w, q, n, &res);
	struct buf b;
	buf_init(&b, (size_t)1 << 20);
	int rc = f == ADDR_FMT_CSV     ? (addr_csv_header(&b) || addr_result_csv(&b, q, n, &res)) :
		 f == ADDR_FMT_GEOJSON ? addr_result_feature(&b, q, n, &res) :
					 addr_result_json(&b, q, n, &res);
	if (rc == 0 && f != ADDR_FMT_CSV)
		rc = buf_putc(&b, '\n');
	addr_work_free(w);
	addr_shared_release(ix); /* res points into it: only now */
	if (rc != 0)
		res_problem(r, s, 500, "処理できませんでした", NULL);
	else
		res_text(r, s, 200, content_type(f), b.p, b.len);
	buf_release(&b);
}

/* The body as JSON: an array or an object (req_json takes objects only). */
static json_t *body_json(struct req *r, struct res *s)
{
	const char *ct = req_header(r, "Content-Type");
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		res_problem(r, s, 415, "この形式の本文は受け付けられません",
			    "Content-Type には application/json を指定してください。");
		return NULL;
	}
	char err[160];
	json_t *j = jsonin_parse(r->body, r->body_len, err, sizeof err);
	if (!j)
		res_problem(r, s, 400, "JSON の形式に誤りがあります", err);
	return j;
}

/* The batch body: ["…", …] or {"addresses": ["…", …]}. */
static json_t *batch_items(struct req *r, struct res *s, json_t *body)
{
	json_t *arr = json_is_array(body) ? body : json_object_get(body, "addresses");
	if (!json_is_array(arr)) {
		res_problem(r, s, 400, "住所の一覧がありません",
			    "本文は住所の配列か {\"addresses\": [\"住所\", …]} にしてください。");
		return NULL;
	}
	if (json_array_size(arr) == 0 || json_array_size(arr) > ADDR_BATCH_MAX) {
		res_problem(r, s, 400, "住所の件数が正しくありません",
			    "1回に送れる住所は1件以上10000件以下です。");
		return NULL;
	}
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v) {
		if (!json_is_string(v) || json_string_length(v) > ADDR_INPUT_MAX) {
			char detail[160];
			snprintf(detail, sizeof detail,
				 "%zu番目の要素が文字列でないか、4096バイトを超えています。",
				 i + 1);
			res_problem(r, s, 400, "住所の一覧が正しくありません", detail);
			return NULL;
		}
	}
	return arr;
}

static void api_normalize_batch(struct req *r, struct res *s)
{
	enum addr_format f;
	if (!format_of(r, s, ADDR_FMT_JSON, &f))
		return;
	json_t *body = body_json(r, s);
	if (!body)
		return;
	json_t *arr = batch_items(r, s, body);
	const struct addr_index *ix = arr ? index_or_503(r, s) : NULL;
	if (!ix) {
		json_decref(body);
		return;
	}
	struct addr_work *w = addr_work_new();
	struct buf b;
	buf_init(&b, ADDR_BATCH_OUT_MAX);
	int rc = f == ADDR_FMT_JSON ?
			 buf_puts(&b, "{\"items\":[") :
		 f == ADDR_FMT_GEOJSON ?
			 buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[") :
		 f == ADDR_FMT_CSV ? addr_csv_header(&b) :
				     0;
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v) {
		if (rc != 0)
			break;
		const char *q = json_string_value(v);
		size_t n = json_string_length(v);
		struct addr_result res;
		addr_normalize(ix, w, q, n, &res);
		if (i && (f == ADDR_FMT_JSON || f == ADDR_FMT_GEOJSON))
			rc = buf_putc(&b, ',');
		if (rc == 0)
			rc = f == ADDR_FMT_CSV     ? addr_result_csv(&b, q, n, &res) :
			     f == ADDR_FMT_GEOJSON ? addr_result_feature(&b, q, n, &res) :
						     addr_result_json(&b, q, n, &res);
		if (rc == 0 && f == ADDR_FMT_NDJSON)
			rc = buf_putc(&b, '\n');
	}
	if (rc == 0 && (f == ADDR_FMT_JSON || f == ADDR_FMT_GEOJSON))
		rc = buf_puts(&b, "]}\n");
	addr_work_free(w);
	addr_shared_release(ix);
	json_decref(body);
	if (rc != 0)
		res_problem(r, s, 413, "結果が大きすぎます",
			    "住所の件数を減らして、分けて送ってください。");
	else
		res_text(r, s, 200, content_type(f), b.p, b.len);
	buf_release(&b);
}

static const struct route address_routes[] = {
	{HTTP_GET, "/api/v1/address/normalize", api_normalize_one, NULL, ROUTE_PUBLIC, NULL},
	/* computes only, changes nothing: no CSRF token needed */
	{HTTP_POST, "/api/v1/address/normalize", api_normalize_batch, NULL,
	 ROUTE_PUBLIC | ROUTE_NO_CSRF, NULL},
	{0, NULL, NULL, NULL, 0, NULL},
};

const struct module address_module = {
	.name = "address",
	.routes = address_routes,
	.start = addr_start,
	.stop = addr_stop,
};
