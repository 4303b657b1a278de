/* The address normalizer and geocoder: one free-form Japanese address in,
 * its parts as the Address Base Registry names them out, with ABR ids, the
 * match level (the same levels as the Digital Agency's abr-geocoder) and a
 * point. It works on an immutable in-memory index built from the registry
 * tables (abr_* and town_names), so one index serves every thread; the
 * server replaces it with a new one when the registry is re-imported. */
#ifndef MADO_ADDRESS_H
#define MADO_ADDRESS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "app/app.h"
#include "common/buf.h"

/* Routes under /api/v1/address. */
extern const struct module address_module;

/* Longest input read, in bytes; a longer line is refused (level error). */
#define ADDR_INPUT_MAX 4096
/* Lines a batch request may hold; the server's --max-body (1 MiB by
 * default) bounds it too: 10,000 addresses of ~40 bytes fit, 10,000 of
 * 4 KB do not. The answer is refused (413) past ADDR_BATCH_OUT_MAX. */
#define ADDR_BATCH_MAX 10000
#define ADDR_BATCH_OUT_MAX ((size_t)32 << 20)

enum addr_level {
	ADDR_ERROR = 0,
	ADDR_UNKNOWN,
	ADDR_PREFECTURE,
	ADDR_CITY,
	ADDR_MACHIAZA,
	ADDR_MACHIAZA_DETAIL,
	ADDR_RESIDENTIAL_BLOCK,
	ADDR_RESIDENTIAL_DETAIL,
	ADDR_PARCEL,
};
/* "error", "unknown", … "parcel", as abr-geocoder writes them. */
const char *addr_level_name(enum addr_level l);

struct addr_index;

struct addr_index_stats {
	size_t prefs, cities, towns, blocks, residences, parcels, memory_bytes;
	double seconds;
};

/* Builds an index of one's own from the registry tables (the CLI, tests; the
 * server shares one: addr_shared_acquire below). Returns 0, or -1 with a
 * message in err. An empty registry gives an index that finds nothing (level
 * unknown), not an error. addr_index_free frees it at once. */
int addr_index_load(struct db_conn *c, struct addr_index **out, struct addr_index_stats *st,
		    char *err, size_t errlen);
void addr_index_free(struct addr_index *ix);

/* A normalized address. Every string is NULL when absent; strings point into
 * the index or into the addr_work that produced them (valid until its next
 * use). */
struct addr_result {
	enum addr_level level;
	const char *error; /* why the level is error (English, for logs and API) */
	const char *pref, *county, *city, *ward, *oaza_cho, *chome, *koaza;
	const char *blk_num, *rsdt_num, *rsdt_num2, *prc_num1, *prc_num2, *prc_num3;
	const char *others; /* what followed: building, floor, room … */
	const char *lg_code, *machiaza_id, *blk_id, *rsdt_id, *prc_id;
	bool has_point;
	double lat, lon;
	enum addr_level coord_level; /* which part the point belongs to */
};

/* Whether machiaza_id is a town of municipality lg_code, for checking ids
 * given with an address: 1 yes, 0 no, -1 the index cannot tell (it holds no
 * ABR towns of that municipality). */
int addr_town_known(const struct addr_index *ix, const char *lg_code, const char *machiaza_id);

/* Per-thread scratch space. */
struct addr_work;
struct addr_work *addr_work_new(void);
void addr_work_free(struct addr_work *w);

/* Normalizes s[0..n). Never fails: bad input gives level ADDR_ERROR with
 * res->error set. Time is bounded by ADDR_INPUT_MAX. */
void addr_normalize(const struct addr_index *ix, struct addr_work *w, const char *s, size_t n,
		    struct addr_result *res);

/* Output formats of the CLI and the API. */
enum addr_format { ADDR_FMT_JSON, ADDR_FMT_NDJSON, ADDR_FMT_CSV, ADDR_FMT_GEOJSON };
int addr_format_parse(const char *s, enum addr_format *out); /* 0 or -EINVAL */

/* Appends one result as a JSON object (input first) to b. Returns 0 or
 * -E2BIG. */
int addr_result_json(struct buf *b, const char *input, size_t n, const struct addr_result *r);
/* The CSV header line and one CSV row (RFC 4180, CRLF), the same columns. */
int addr_csv_header(struct buf *b);
int addr_result_csv(struct buf *b, const char *input, size_t n, const struct addr_result *r);
/* One GeoJSON Feature (Point, or null geometry without a point). */
int addr_result_feature(struct buf *b, const char *input, size_t n, const struct addr_result *r);

/* The index the server shares, built from app->db (in the background when
 * the server starts, else at first use: callers wait for that first build)
 * and rebuilt when an importer has changed the registry since
 * (registry_generation, checked every ADDR_REFRESH_S seconds by the server).
 * A rebuilt index replaces the old one atomically; the old one lives until
 * its last reference is released.
 *
 * addr_shared_acquire: a reference to the current index, to be given back
 * with addr_shared_release (any thread); cheap (a mutex, a counter), never
 * waits for a rebuild. NULL with a message in err when no index could be
 * built (the same message for ADDR_RETRY_S seconds after a failure, without
 * another attempt). Strings of results stay valid until the release. */
#define ADDR_REFRESH_S 5
#define ADDR_RETRY_S 30
const struct addr_index *addr_shared_acquire(struct app *app, char *err, size_t errlen);
void addr_shared_release(const struct addr_index *ix); /* NULL: nothing */

/* Compares the registry generation with the current index's and, when it is
 * newer (or there is no index of app yet), builds a new index and swaps it in.
 * Runs in the caller's thread (the server calls it from its refresher; tests
 * and CLI commands may call it directly); one build at a time. Returns 1 when
 * an index was swapped in, 0 when the index is current, -1 with err when the
 * generation cannot be read or the build failed (the old index is kept). */
int addr_shared_refresh(struct app *app, char *err, size_t errlen);

/* The registry generation an index was built from (0 for addr_index_load). */
int64_t addr_index_generation(const struct addr_index *ix);

/* `madoguchi address normalize [--format F] [--timing] [FILE|-]`: reads one
 * address per line from path (NULL or "-": standard input), writes the
 * results to standard output, progress to a terminal on standard error, and
 * with timing one line "[madoguchi] n=… load_s=… normalize_s=… addr_per_s=…"
 * on standard error. Returns the exit status. */
int addr_cli_normalize(struct app *app, const char *path, enum addr_format fmt, bool timing);

#endif
