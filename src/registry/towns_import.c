/* Import of japanese-addresses' towns.csv (pref, city, town, koaza, lat,
 * lng): town-level names for all of Japan, joined to lg_code through the
 * ABR municipality list, for the normalizer outside the ABR town files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/csv.h"
#include "common/jtext.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "registry/registry.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct file_src {
	FILE *f;
	uint64_t done;
};

static ssize_t read_file(void *ctx, char *b, size_t n)
{
	struct file_src *s = ctx;
	size_t got = fread(b, 1, n, s->f);
	if (got == 0 && ferror(s->f))
		return -1;
	s->done += got;
	return (ssize_t)got;
}

static int parse_coord(const char *v, double lo, double hi, double *out)
{
	char *end = NULL;
	errno = 0;
	double d = strtod(v, &end);
	if (!*v || errno || *end || d < lo || d > hi)
		return -1;
	*out = d;
	return 0;
}

/* Checks one record and binds it to the upsert. */
static int bind_town(struct db_stmt *st, struct csv *csv, const int idx[6], char *msg,
		     size_t msglen)
{
	static const char *const what[4] = {"pref", "city", "town", "koaza"};
	for (int i = 0; i < 4; i++) {
		const char *v = csv_get(csv, idx[i]);
		size_t n = strlen(v);
		if (i < 3 && n == 0) {
			snprintf(msg, msglen, "%s is empty", what[i]);
			return -1;
		}
		if (n > 200 || !utf8_valid(v, n)) {
			snprintf(msg, msglen, "%s is not valid UTF-8 of at most 200 bytes",
				 what[i]);
			return -1;
		}
		db_bind_textn(st, i + 1, v, n);
	}
	double lat, lng;
	if (!*csv_get(csv, idx[4]) && !*csv_get(csv, idx[5])) { /* a town without a point */
		db_bind_null(st, 5);
		db_bind_null(st, 6);
		return 0;
	}
	if (parse_coord(csv_get(csv, idx[4]), 20, 46, &lat) != 0 ||
	    parse_coord(csv_get(csv, idx[5]), 122, 154, &lng) != 0) {
		snprintf(msg, msglen, "lat/lng is not a coordinate in Japan: %.20s,%.20s",
			 csv_get(csv, idx[4]), csv_get(csv, idx[5]));
		return -1;
	}
	db_bind_double(st, 5, lat);
	db_bind_double(st, 6, lng);
	return 0;
}

static const char upsert_sql[] =
	"INSERT INTO town_names (pref, city, town, koaza, lat, lng, lg_code) "
	"VALUES (?, ?, ?, ?, ?, ?, ?) "
	"ON CONFLICT (pref, city, town, koaza) DO UPDATE SET lat = excluded.lat, "
	"lng = excluded.lng, lg_code = excluded.lg_code";

/* The current municipalities, keyed by folded "pref\tcounty city ward" (the
 * way towns.csv names them), sorted for bsearch. */
struct city_key {
	char *key;
	char lg_code[7];
};
struct city_map {
	struct city_key *v;
	size_t n;
};

static int city_fold(struct buf *out, const char *pref, const char *name)
{
	buf_reset(out);
	if (jtext_fold_for_match(out, pref, strlen(pref), 0) != 0 || buf_putc(out, '\t') != 0 ||
	    jtext_fold_for_match(out, name, strlen(name), 0) != 0)
		return -1;
	return 0;
}

static int cmp_city(const void *a, const void *b)
{
	return strcmp(((const struct city_key *)a)->key, ((const struct city_key *)b)->key);
}

static int city_map_load(struct db_conn *c, struct city_map *m)
{
	struct db_stmt *st;
	if (db_prepare(c,
		       "SELECT lg_code, pref, COALESCE(county, '') || COALESCE(city, '') || "
		       "COALESCE(ward, '') FROM abr_city WHERE COALESCE(ablt_date, '') = '' "
		       "ORDER BY lg_code",
		       &st) != 0)
		return -1;
	struct buf b;
	buf_init(&b, 4096);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *lg = db_col_text(st, 0);
		if (!lg || strlen(lg) != 6 ||
		    city_fold(&b, db_col_text(st, 1) ? db_col_text(st, 1) : "",
			      db_col_text(st, 2) ? db_col_text(st, 2) : "") != 0)
			continue;
		if (m->n == cap) {
			cap = cap ? cap * 2 : 2048;
			m->v = xrealloc(m->v, cap * sizeof(*m->v));
		}
		m->v[m->n].key = xstrdup(buf_cstr(&b));
		memcpy(m->v[m->n].lg_code, lg, 7);
		m->n++;
	}
	db_done(st);
	buf_release(&b);
	qsort(m->v, m->n, sizeof(*m->v), cmp_city);
	return rc == DB_DONE ? 0 : -1;
}

static void city_map_free(struct city_map *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].key);
	free(m->v);
}

static const char *city_lookup(const struct city_map *m, struct buf *b, const char *pref,
			       const char *city)
{
	if (city_fold(b, pref, city) != 0)
		return NULL;
	struct city_key k = {.key = (char *)buf_cstr(b)};
	const struct city_key *hit = bsearch(&k, m->v, m->n, sizeof(*m->v), cmp_city);
	return hit ? hit->lg_code : NULL;
}

int towns_import_file(struct app *app, const char *path, enum abr_on_error on_error, FILE *report,
		      FILE *progress, struct abr_import_stats *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	st->kind = "towns";
	struct file_src src = {.f = fopen(path, "rb")};
	if (!src.f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fseek(src.f, 0, SEEK_END);
	long total = ftell(src.f);
	fseek(src.f, 0, SEEK_SET);
	struct csv_opts opts = {.utf8 = false, .allow_ragged = false};
	struct csv *csv = csv_new(read_file, &src, &opts);
	static const char *const names[6] = {"pref", "city", "town", "koaza", "lat", "lng"};
	int idx[6];
	struct db_conn *c = NULL;
	struct db_stmt *stmt = NULL;
	struct city_map cities = {0};
	struct buf fold;
	buf_init(&fold, 4096);
	int rc = -1;
	if (csv_header(csv, names, 6, idx, true) != 0) {
		snprintf(err, errlen,
			 "%s: not a towns file (needs the columns pref,city,town,koaza,lat,lng): "
			 "%s",
			 path, csv_errmsg(csv));
		goto out;
	}
	c = db_acquire(app->db);
	int64_t ncity = 0;
	if (db_query_int64(c, "SELECT COUNT(*) FROM abr_city", &ncity) < 0 || ncity == 0) {
		snprintf(err, errlen,
			 "%s: the municipality list is empty: import mt_city_all.csv.zip first "
			 "(madoguchi import abr)",
			 path);
		goto out;
	}
	if (city_map_load(c, &cities) != 0) {
		snprintf(err, errlen, "%s: cannot read the municipality list: %s", path,
			 db_errmsg(c));
		goto out;
	}
	if (db_begin_write(c) != 0 || db_prepare(c, upsert_sql, &stmt) != 0) {
		snprintf(err, errlen, "%s: %s (were migrations applied?)", path, db_errmsg(c));
		db_rollback(c);
		goto out;
	}
	double t0 = now_s(), last = 0;
	int r;
	while ((r = csv_next(csv)) == 1) {
		char msg[200];
		if (bind_town(stmt, csv, idx, msg, sizeof msg) != 0) {
			if (report)
				fprintf(report, "%s:%lu: %s\n", path, csv_line(csv), msg);
			db_done(stmt);
			if (on_error == ABR_ABORT) {
				snprintf(err, errlen,
					 "%s:%lu: %s; nothing of this file was imported", path,
					 csv_line(csv), msg);
				db_rollback(c);
				goto out;
			}
			st->skipped++;
			continue;
		}
		db_bind_text(
			stmt, 7,
			city_lookup(&cities, &fold, csv_get(csv, idx[0]), csv_get(csv, idx[1])));
		if (abr_queue_row(stmt, path, csv_line(csv), err, errlen) != 0) {
			db_rollback(c);
			goto out;
		}
		st->rows++;
		if (progress && (st->rows & 4095) == 0 && now_s() - last > 0.1) {
			last = now_s();
			int pct = total > 0 ? (int)((double)src.done * 100 / (double)total) : 0;
			fprintf(progress, "\r%-24s %3d%% %10llu rows %8.0f rows/s", "towns.csv",
				pct > 100 ? 100 : pct, (unsigned long long)st->rows,
				(double)st->rows / (last - t0 + 1e-9));
			fflush(progress);
		}
	}
	if (r < 0) {
		snprintf(err, errlen, "%s:%lu: %s; nothing of this file was imported", path,
			 csv_line(csv), csv_errmsg(csv));
		db_rollback(c);
		goto out;
	}
	if (abr_flush_rows(c, path, err, errlen) != 0 ||
	    (st->rows > 0 && registry_generation_bump(c, path, err, errlen) != 0)) {
		db_rollback(c);
		goto out;
	}
	if (db_commit(c) != 0) {
		snprintf(err, errlen, "%s: %s; nothing of this file was imported", path,
			 db_errmsg(c));
		db_rollback(c);
		goto out;
	}
	st->seconds = now_s() - t0;
	if (progress)
		fprintf(progress, "\r%-24s 100%% %10llu rows %8.0f rows/s\n", "towns.csv",
			(unsigned long long)st->rows, (double)st->rows / (st->seconds + 1e-9));
	rc = 0;
out:
	db_done(stmt);
	if (c)
		db_release(c);
	city_map_free(&cities);
	buf_release(&fold);
	csv_free(csv);
	fclose(src.f);
	return rc;
}
