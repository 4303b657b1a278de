/* The corporate number registry's schema, look-ups and JSON API (see
 * corp.h). corp holds the newest record per number, corp_history every
 * record imported; names are searched through folded copies (name_norm,
 * furigana_norm) with LIKE, narrowed by a bigram index (corp_gram), so the
 * same SQL runs on SQLite and PostgreSQL. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "app/dispatch.h"
#include "common/checkdigit.h"
#include "common/jtext.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "registry/corp.h"

#define QUERY_MAX 256             /* bytes of a search query */
#define FOLD_MAX (16 * QUERY_MAX) /* NFKC may expand a character (U+FDFA is 18) */
/* A bigram with this many postings is "common": when every bigram of the
 * query is, the candidates cost as much as a scan (about 4 µs each against
 * 0.23 µs per row scanned on SQLite, so at 1,000,000 rows the break-even is
 * near 60,000), and the search scans (see docs/internals/corp.md). */
#define GRAM_COMMON 50000
#define GRAM_PROBE 16 /* bigrams of a query counted at most */
#define GRAM_USE 3    /* rarest bigrams joined at most */

/* The bigram index, back-filled from the rows already there. */
#define GRAM_BACKFILL                                                                              \
	CORP_GRAM_INSERT("SELECT corporate_number, name_norm FROM corp UNION ALL "                 \
			 "SELECT corporate_number, furigana_norm FROM corp")

static const struct db_migration corp_migrations[] = {
	{1,
	 "CREATE TABLE corp ("
	 " corporate_number TEXT PRIMARY KEY, sequence_number BIGINT NOT NULL,"
	 " process TEXT NOT NULL, correct INTEGER, update_date TEXT, change_date TEXT,"
	 " name TEXT NOT NULL, name_image_id TEXT, kind TEXT, prefecture_name TEXT,"
	 " city_name TEXT, street_number TEXT, address_image_id TEXT, prefecture_code TEXT,"
	 " city_code TEXT, post_code TEXT, address_outside TEXT, address_outside_image_id TEXT,"
	 " close_date TEXT, close_cause TEXT, successor_corporate_number TEXT, change_cause TEXT,"
	 " assignment_date TEXT, latest INTEGER, en_name TEXT, en_prefecture_name TEXT,"
	 " en_city_name TEXT, en_address_outside TEXT, furigana TEXT, hihyoji INTEGER,"
	 " name_norm TEXT NOT NULL, furigana_norm TEXT NOT NULL);"
	 "CREATE TABLE corp_history ("
	 " corporate_number TEXT NOT NULL, sequence_number BIGINT NOT NULL,"
	 " process TEXT NOT NULL, correct INTEGER, update_date TEXT, change_date TEXT,"
	 " name TEXT NOT NULL, name_image_id TEXT, kind TEXT, prefecture_name TEXT,"
	 " city_name TEXT, street_number TEXT, address_image_id TEXT, prefecture_code TEXT,"
	 " city_code TEXT, post_code TEXT, address_outside TEXT, address_outside_image_id TEXT,"
	 " close_date TEXT, close_cause TEXT, successor_corporate_number TEXT, change_cause TEXT,"
	 " assignment_date TEXT, latest INTEGER, en_name TEXT, en_prefecture_name TEXT,"
	 " en_city_name TEXT, en_address_outside TEXT, furigana TEXT, hihyoji INTEGER,"
	 " PRIMARY KEY (corporate_number, sequence_number));",
	 NULL},
	{2,
	 "CREATE TABLE corp_gram (gram TEXT NOT NULL, corporate_number TEXT NOT NULL,"
	 " PRIMARY KEY (gram, corporate_number)) WITHOUT ROWID;" GRAM_BACKFILL ";",
	 "CREATE TABLE corp_gram (gram TEXT NOT NULL, corporate_number TEXT NOT NULL,"
	 " PRIMARY KEY (gram, corporate_number));" GRAM_BACKFILL ";"},
	/* Search orders by the folded name: in code-point order on both
	 * backends, as SQLite compares bytes (PostgreSQL would otherwise use the
	 * database's collation, and under ja-JP a LIMIT keeps other rows). */
	{3, "SELECT 1",
	 "ALTER TABLE corp ALTER COLUMN name_norm TYPE TEXT COLLATE \"C\","
	 " ALTER COLUMN furigana_norm TYPE TEXT COLLATE \"C\""},
	{0, NULL, NULL},
};

static int gram_cmp(const void *a, const void *b)
{
	return strcmp(((const struct corp_gram *)a)->s, ((const struct corp_gram *)b)->s);
}

/* Appends the bigrams of s[0..n) to g at *k. */
static void add_bigrams(const char *s, size_t n, struct corp_gram *g, size_t *k)
{
	size_t pos = 0, prev = SIZE_MAX; /* where the previous code point starts */
	uint32_t cp;
	while (pos < n) {
		size_t at = pos;
		utf8_next(s, n, &pos, &cp);
		if (prev != SIZE_MAX && pos - prev < sizeof g->s) {
			memcpy(g[*k].s, s + prev, pos - prev);
			g[*k].s[pos - prev] = '\0';
			(*k)++;
		}
		prev = at;
	}
}

size_t corp_bigrams(const char *a, size_t an, const char *b, size_t bn, struct corp_gram *g)
{
	size_t k = 0;
	add_bigrams(a, an, g, &k);
	add_bigrams(b, bn, g, &k);
	if (k == 0)
		return 0;
	qsort(g, k, sizeof *g, gram_cmp);
	size_t d = 1;
	for (size_t i = 1; i < k; i++)
		if (strcmp(g[i].s, g[d - 1].s) != 0)
			g[d++] = g[i];
	return d;
}

int corp_fold(struct buf *out, const char *s, size_t n)
{
	struct buf t;
	buf_init(&t, out->max);
	int rc = jtext_fold_for_match(&t, s, n, JTEXT_FOLD_HIRAGANA);
	if (rc != 0)
		goto out;
	/* Abbreviated legal forms, as people type them (NFKC made ㈱ into (株)):
	 * the registry always spells them out. */
	static const struct {
		const char *abbr, *full;
	} forms[] = {{"(株)", "株式会社"}, {"(有)", "有限会社"}, {"(合)", "合同会社"},
		     {"(資)", "合資会社"}, {"(名)", "合名会社"}, {"(社)", "社団法人"},
		     {"(財)", "財団法人"}};
	size_t start = out->len;
	for (size_t i = 0; i < t.len; i++) {
		char ch = t.p[i];
		if (ch == ' ' || ch == '\t')
			continue;
		if (ch == '(') {
			size_t f = 0;
			while (f < sizeof forms / sizeof forms[0] &&
			       (t.len - i < strlen(forms[f].abbr) ||
				memcmp(t.p + i, forms[f].abbr, strlen(forms[f].abbr)) != 0))
				f++;
			if (f < sizeof forms / sizeof forms[0]) {
				rc = buf_puts(out, forms[f].full);
				if (rc != 0) {
					out->len = start;
					if (out->p)
						out->p[start] = '\0';
					goto out;
				}
				i += strlen(forms[f].abbr) - 1;
				continue;
			}
		}
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		rc = buf_putc(out, ch);
		if (rc != 0) {
			out->len = start; /* leave out as it was */
			if (out->p)
				out->p[start] = '\0';
			goto out;
		}
	}
out:
	/* the residents' search folds its queries here too: one may be a My Number */
	if (t.p)
		sodium_memzero(t.p, t.cap);
	buf_release(&t);
	return rc;
}

/* Columns shown for a record, in the order of the SELECTs below. Integers
 * are the ones stored as INTEGER/BIGINT. */
static const char *const rec_cols[] = {"corporate_number",
				       "sequence_number",
				       "process",
				       "correct",
				       "update_date",
				       "change_date",
				       "name",
				       "furigana",
				       "kind",
				       "prefecture_name",
				       "city_name",
				       "street_number",
				       "prefecture_code",
				       "city_code",
				       "post_code",
				       "address_outside",
				       "close_date",
				       "close_cause",
				       "successor_corporate_number",
				       "change_cause",
				       "assignment_date",
				       "latest",
				       "en_name",
				       "en_prefecture_name",
				       "en_city_name",
				       "en_address_outside",
				       "hihyoji",
				       NULL};

#define REC_SELECT                                                                                 \
	"SELECT corporate_number, sequence_number, process, correct, update_date, change_date, "   \
	"name, furigana, kind, prefecture_name, city_name, street_number, prefecture_code, "       \
	"city_code, post_code, address_outside, close_date, close_cause, "                         \
	"successor_corporate_number, change_cause, assignment_date, latest, en_name, "             \
	"en_prefecture_name, en_city_name, en_address_outside, hihyoji "

static bool is_int_col(const char *name)
{
	return !strcmp(name, "sequence_number") || !strcmp(name, "correct") ||
	       !strcmp(name, "latest") || !strcmp(name, "hihyoji");
}

static json_t *row_json(struct db_stmt *st)
{
	json_t *o = json_object();
	for (int i = 0; rec_cols[i]; i++) {
		json_t *v;
		if (db_col_is_null(st, i))
			v = json_null();
		else if (is_int_col(rec_cols[i]))
			v = json_integer((json_int_t)db_col_int64(st, i));
		else
			v = json_string(db_col_text(st, i));
		json_object_set_new(o, rec_cols[i], v ? v : json_null());
	}
	return o;
}

int corp_get(struct db_conn *c, const char *number, json_t **out)
{
	*out = NULL;
	if (!number || checkdigit_corporate_check(number, strlen(number)) != 0)
		return -EINVAL;
	struct db_stmt *st;
	if (db_prepare(c, REC_SELECT "FROM corp WHERE corporate_number = ?", &st) != 0)
		return -EIO;
	db_bind_text(st, 1, number);
	int r = db_step(st);
	json_t *rec = r == DB_ROW ? row_json(st) : NULL;
	db_done(st);
	if (r != DB_ROW)
		return r == DB_DONE ? -ENOENT : -EIO;
	json_t *hist = json_array();
	if (db_prepare(c,
		       REC_SELECT "FROM corp_history WHERE corporate_number = ? "
				  "ORDER BY sequence_number",
		       &st) != 0) {
		json_decref(rec);
		json_decref(hist);
		return -EIO;
	}
	db_bind_text(st, 1, number);
	while ((r = db_step(st)) == DB_ROW)
		json_array_append_new(hist, row_json(st));
	db_done(st);
	if (r < 0) {
		json_decref(rec);
		json_decref(hist);
		return -EIO;
	}
	json_object_set_new(rec, "history", hist);
	*out = rec;
	return 0;
}

/* The search: the same columns, filter and order whether corp is scanned or
 * reached through 1–3 bigrams of the query (each an EXISTS on corp_gram's
 * primary key, the rarest one driving). The LIKE on the candidates makes the
 * result exactly the scan's. */
#define SEARCH_SELECT                                                                              \
	"SELECT c.corporate_number, c.name, c.furigana, c.kind, c.prefecture_name, c.city_name, "  \
	"c.street_number, c.post_code, c.close_date, c.process "
#define SEARCH_FILTER "(c.name_norm LIKE ? ESCAPE '\\' OR c.furigana_norm LIKE ? ESCAPE '\\') "
#define SEARCH_ORDER                                                                               \
	"ORDER BY CASE WHEN c.name_norm LIKE ? ESCAPE '\\' OR c.furigana_norm LIKE ? "             \
	"ESCAPE '\\' THEN 0 ELSE 1 END, c.name_norm, c.corporate_number LIMIT ?"
#define SEARCH_GRAM1                                                                               \
	SEARCH_SELECT "FROM corp_gram g1 CROSS JOIN corp c WHERE g1.gram = ? AND "                 \
		      "c.corporate_number = g1.corporate_number AND "
#define SEARCH_GRAM(n)                                                                             \
	"EXISTS (SELECT 1 FROM corp_gram g" #n " WHERE g" #n ".gram = ? AND g" #n                  \
	".corporate_number = g1.corporate_number) AND "

static const char *const search_sql[GRAM_USE + 1] = {
	SEARCH_SELECT "FROM corp c WHERE " SEARCH_FILTER SEARCH_ORDER,
	SEARCH_GRAM1 SEARCH_FILTER SEARCH_ORDER,
	SEARCH_GRAM1 SEARCH_GRAM(2) SEARCH_FILTER SEARCH_ORDER,
	SEARCH_GRAM1 SEARCH_GRAM(2) SEARCH_GRAM(3) SEARCH_FILTER SEARCH_ORDER,
};

/* Chooses the bigrams of g[0..ng) to join: counts the postings of up to
 * GRAM_PROBE of them and puts the rarest GRAM_USE first in pick. A count
 * stops at GRAM_COMMON, or at the GRAM_USE-th smallest so far (a bigram that
 * common would not be picked), so counting reads little. Returns how many to
 * use: 0 when every counted bigram is common (scan instead), -ENOENT when one
 * has no posting at all (no corporation can match), or -EIO. */
static int pick_grams(struct db_conn *c, const struct corp_gram *g, size_t ng,
		      const char *pick[GRAM_USE])
{
	struct {
		const char *s;
		int64_t n;
	} cand[GRAM_PROBE];
	size_t nc = ng < GRAM_PROBE ? ng : GRAM_PROBE;
	for (size_t i = 0; i < nc; i++) {
		/* spread over the query when it has more bigrams than are counted */
		cand[i].s = g[i * ng / nc].s;
		int64_t cap = i >= GRAM_USE ? cand[GRAM_USE - 1].n + 1 : GRAM_COMMON;
		struct db_stmt *st;
		if (db_prepare(
			    c,
			    "SELECT COUNT(*) FROM (SELECT 1 FROM corp_gram WHERE gram = ? LIMIT ?) "
			    "AS t",
			    &st) != 0)
			return -EIO;
		db_bind_text(st, 1, cand[i].s);
		db_bind_int64(st, 2, cap < GRAM_COMMON ? cap : GRAM_COMMON);
		int r = db_step(st);
		cand[i].n = r == DB_ROW ? db_col_int64(st, 0) : -1;
		db_done(st);
		if (r != DB_ROW)
			return -EIO;
		if (cand[i].n == 0)
			return -ENOENT;
		for (size_t j = i; j > 0 && cand[j].n < cand[j - 1].n; j--) {
			const char *ts = cand[j].s;
			int64_t tn = cand[j].n;
			cand[j] = cand[j - 1];
			cand[j - 1].s = ts;
			cand[j - 1].n = tn;
		}
	}
	if (cand[0].n >= GRAM_COMMON)
		return 0;
	int use = nc < GRAM_USE ? (int)nc : GRAM_USE;
	for (int i = 0; i < use; i++)
		pick[i] = cand[i].s;
	return use;
}

int corp_search(struct db_conn *c, const char *query, int limit, json_t **out)
{
	*out = NULL;
	if (limit <= 0 || limit > CORP_SEARCH_MAX)
		limit = CORP_SEARCH_MAX;
	size_t qn = query ? strlen(query) : 0;
	if (qn == 0 || qn > QUERY_MAX || !utf8_valid(query, qn))
		return -EINVAL;
	struct buf f, prefix, any;
	buf_init(&f, FOLD_MAX);
	buf_init(&prefix, 2 * FOLD_MAX + 2);
	buf_init(&any, 2 * FOLD_MAX + 4);
	struct corp_gram *g = NULL;
	const char *pick[GRAM_USE];
	int use = 0, rc = -EINVAL;
	if (corp_fold(&f, query, qn) != 0 || f.len == 0)
		goto out;
	if (db_like_escape(&prefix, f.p, f.len) != 0 || buf_putc(&prefix, '%') != 0 ||
	    buf_putc(&any, '%') != 0 || db_like_escape(&any, f.p, f.len) != 0 ||
	    buf_putc(&any, '%') != 0)
		goto out;
	/* A one-character query has no bigram: it scans. */
	g = xmalloc(f.len * sizeof *g);
	size_t ng = corp_bigrams(f.p, f.len, NULL, 0, g);
	if (ng > 0)
		use = pick_grams(c, g, ng, pick);
	if (use == -ENOENT) {
		*out = json_array();
		rc = 0;
		goto out;
	}
	rc = -EIO;
	struct db_stmt *st;
	if (use < 0 || db_prepare(c, search_sql[use], &st) != 0)
		goto out;
	for (int i = 0; i < use; i++)
		db_bind_text(st, i + 1, pick[i]);
	db_bind_text(st, use + 1, buf_cstr(&any));
	db_bind_text(st, use + 2, buf_cstr(&any));
	db_bind_text(st, use + 3, buf_cstr(&prefix));
	db_bind_text(st, use + 4, buf_cstr(&prefix));
	db_bind_int64(st, use + 5, limit);
	static const char *const names[] = {"corporate_number",
					    "name",
					    "furigana",
					    "kind",
					    "prefecture_name",
					    "city_name",
					    "street_number",
					    "post_code",
					    "close_date",
					    "process",
					    NULL};
	json_t *items = json_array();
	int r;
	while ((r = db_step(st)) == DB_ROW) {
		json_t *o = json_object();
		for (int i = 0; names[i]; i++)
			json_object_set_new(o, names[i],
					    db_col_is_null(st, i) ?
						    json_null() :
						    json_string(db_col_text(st, i)));
		json_array_append_new(items, o);
	}
	db_done(st);
	if (r < 0) {
		json_decref(items);
		goto out;
	}
	*out = items;
	rc = 0;
out:
	free(g);
	buf_release(&f);
	buf_release(&prefix);
	buf_release(&any);
	return rc;
}

/* ---- API ---- */

static void api_corp_get(struct req *r, struct res *s)
{
	const char *num = req_param(r, "number");
	size_t n = num ? strlen(num) : 0;
	int chk = num ? checkdigit_corporate_check(num, n) : CHECKDIGIT_ELENGTH;
	if (chk == CHECKDIGIT_EMISMATCH) {
		res_problem(r, s, 400, "法人番号が正しくありません",
			    "法人番号のチェックデジット（先頭の1桁）が一致しません。番号を確認して"
			    "ください。");
		return;
	}
	if (chk != 0) {
		res_problem(r, s, 400, "法人番号が正しくありません",
			    "法人番号は13桁の半角数字で指定してください。");
		return;
	}
	json_t *rec = NULL;
	int rc = corp_get(app_db(r), num, &rec);
	if (rc == -ENOENT) {
		res_problem(r, s, 404, "法人が見つかりません",
			    "その法人番号の法人は登録されていません。");
		return;
	}
	if (rc != 0) {
		res_problem(r, s, 503, "ただいま処理できません", NULL);
		return;
	}
	res_json(r, s, 200, rec);
}

static void api_corp_search(struct req *r, struct res *s)
{
	const char *q = req_query_error(r) ? NULL : req_query(r, "name");
	if (!q || !*q || strlen(q) > QUERY_MAX) {
		res_problem(r, s, 400, "検索条件が正しくありません",
			    "name に法人名（256バイト以内）を指定してください。");
		return;
	}
	json_t *items = NULL;
	int rc = corp_search(app_db(r), q, CORP_SEARCH_MAX, &items);
	if (rc == -EINVAL) {
		res_problem(r, s, 400, "検索条件が正しくありません",
			    "法人名として検索できる文字が含まれていません。");
		return;
	}
	if (rc != 0) {
		res_problem(r, s, 503, "ただいま処理できません", NULL);
		return;
	}
	res_json(r, s, 200, json_pack("{s:o, s:i}", "items", items, "limit", CORP_SEARCH_MAX));
}

static const struct route corp_routes[] = {
	{HTTP_GET, "/api/v1/corporations", api_corp_search, NULL, ROUTE_PUBLIC, NULL},
	{HTTP_GET, "/api/v1/corporations/:number", api_corp_get, NULL, ROUTE_PUBLIC, NULL},
	{0, NULL, NULL, NULL, 0, NULL},
};

const struct module corp_module = {
	.name = "corp",
	.migrations = corp_migrations,
	.routes = corp_routes,
};
