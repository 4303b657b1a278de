/* The corporate number registry (法人番号): the National Tax Agency's bulk
 * CSV imported with its history, search by number and by name, the JSON API,
 * and a generator of realistic files in the same format. Public data. */
#ifndef MADO_CORP_H
#define MADO_CORP_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/app.h"
#include "common/buf.h"
#include "registry/registry.h"

/* Migrations (tables corp, corp_history and the name index corp_gram) and
 * the two GET routes under /api/v1/corporations, both ROUTE_PUBLIC. */
extern const struct module corp_module;

#define CORP_NCOLS 30      /* columns of the NTA file, no header */
#define CORP_SEARCH_MAX 50 /* rows a name search returns at most */

/* One bigram of folded text: two consecutive code points (at most 8 bytes),
 * NUL-terminated. corp_gram holds every distinct bigram of each number's
 * name_norm and furigana_norm. */
struct corp_gram {
	char s[9];
};

struct corp_import_stats {
	const char *encoding; /* "UTF-8", "UTF-8 (BOM)" or "CP932" (static) */
	uint64_t rows;        /* records written to corp_history (inserted or updated) */
	uint64_t skipped;     /* records left out (ABR_SKIP) */
	double seconds;
};

/* Imports one NTA bulk file: a plain CSV or a zip holding one CSV, encoded
 * in UTF-8, UTF-8 with a BOM or CP932 (decided from the first 64 KiB; a file
 * that is neither is refused). Every record is upserted into corp_history by
 * (corporate_number, sequence_number); corp keeps, per number, the record
 * with the highest sequence number. Re-importing changes nothing. One
 * transaction per file. Each rejected record is reported on report as
 * "FILE:LINE: message"; ABR_ABORT rolls the file back, ABR_SKIP imports the
 * rest. progress (may be NULL) gets a line redrawn with '\r'. Returns 0, or
 * -1 with a message in err (then nothing of this file was written). */
int corp_import_file(struct app *app, const char *path, enum abr_on_error on_error, FILE *report,
		     FILE *progress, struct corp_import_stats *st, char *err, size_t errlen);

/* Writes count realistic records in the NTA format (no header, CRLF line
 * ends, valid check digits, several records for some numbers with rising
 * sequence numbers), the same bytes for the same seed. cp932: encode in
 * CP932 instead of UTF-8. Memory is bounded whatever count is. Returns 0, or
 * -1 with errno set when writing fails or (ERANGE) count passes what the
 * synthetic registry offices can number (always above 10,000,000). */
int corp_generate(FILE *out, unsigned long count, uint64_t seed, bool cp932);

/* The folding applied to names, furigana and queries before comparing them:
 * jtext_fold_for_match with katakana → hiragana (width, half-width kana,
 * old kanji …), then spaces removed, ASCII lower-cased and abbreviated legal
 * forms spelled out ((株) and ㈱ → 株式会社, (有) → 有限会社, (合), (資), (名), (社),
 * (財)). Appends to out;
 * returns 0 or a negative errno (-EILSEQ, -E2BIG, -EIO). */
int corp_fold(struct buf *out, const char *s, size_t n);

/* An INSERT of the bigrams of texts (a SELECT of corporate_number, text
 * rows) into corp_gram, sorted for the index: substr and length count code
 * points on both backends, so it gives what corp_bigrams gives. */
#define CORP_GRAM_INSERT(texts)                                                                    \
	"INSERT INTO corp_gram (gram, corporate_number) WITH RECURSIVE t(n, s) AS (" texts "), "   \
	"g(n, s, i) AS (SELECT n, s, 1 FROM t UNION ALL SELECT n, s, i + 1 FROM g "                \
	"WHERE i + 1 < length(s)) SELECT substr(s, i, 2), n FROM g WHERE i < length(s) "           \
	"ORDER BY 1, 2 ON CONFLICT (gram, corporate_number) DO NOTHING"

/* Stores in g the distinct bigrams of the texts a[0..an) and b[0..bn)
 * (valid UTF-8, already folded), sorted bytewise; g has room for an + bn
 * entries. Returns how many. */
size_t corp_bigrams(const char *a, size_t an, const char *b, size_t bn, struct corp_gram *g);

/* The latest record of number with its history (oldest first) as a JSON
 * object (owned by the caller). Returns 0, -ENOENT when the number is not
 * registered, -EINVAL when it is not 13 digits with a right check digit, or
 * -EIO on a database error. */
int corp_get(struct db_conn *c, const char *number, json_t **out);

/* Up to limit (≤ CORP_SEARCH_MAX) corporations whose folded name or
 * furigana contains the folded query, prefix matches first. *out is a JSON
 * array owned by the caller. Returns 0, -EINVAL for an empty or unreadable
 * query, or -EIO. */
int corp_search(struct db_conn *c, const char *query, int limit, json_t **out);

#endif
