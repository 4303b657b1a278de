/* Benchmark of the corporate number import: generates N records (UTF-8 or
 * CP932) into a file, imports it into a fresh SQLite file, imports it again
 * (every row an update), and searches by name, through the bigram index and
 * by a full scan (the same results are required).
 * Usage: bench_corp [-n records] [-s] (CP932) [-d dir] [-k] (keep files)
 *        bench_corp -b FILE.db (only the searches, on a database kept by -k) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "registry/corp.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The search without the index, as it was before: LIKE over every row. Only
 * the corporate numbers, in order, for the comparison. */
static int scan_search(struct db_conn *c, const char *q, json_t **out)
{
	struct buf f, any, prefix;
	buf_init(&f, 4096);
	buf_init(&any, 8200);
	buf_init(&prefix, 8200);
	int rc = -1;
	struct db_stmt *st;
	*out = NULL;
	if (corp_fold(&f, q, strlen(q)) != 0 || buf_putc(&any, '%') != 0 ||
	    db_like_escape(&any, f.p, f.len) != 0 || buf_putc(&any, '%') != 0 ||
	    db_like_escape(&prefix, f.p, f.len) != 0 || buf_putc(&prefix, '%') != 0 ||
	    db_prepare(c,
		       "SELECT corporate_number FROM corp WHERE name_norm LIKE ? ESCAPE '\\' OR "
		       "furigana_norm LIKE ? ESCAPE '\\' ORDER BY CASE WHEN name_norm LIKE ? "
		       "ESCAPE '\\' OR furigana_norm LIKE ? ESCAPE '\\' THEN 0 ELSE 1 END, "
		       "name_norm, corporate_number LIMIT ?",
		       &st) != 0)
		goto out;
	db_bind_text(st, 1, buf_cstr(&any));
	db_bind_text(st, 2, buf_cstr(&any));
	db_bind_text(st, 3, buf_cstr(&prefix));
	db_bind_text(st, 4, buf_cstr(&prefix));
	db_bind_int64(st, 5, CORP_SEARCH_MAX);
	*out = json_array();
	int r;
	while ((r = db_step(st)) == DB_ROW)
		json_array_append_new(*out, json_string(db_col_text(st, 0)));
	db_done(st);
	rc = r < 0 ? -1 : 0;
out:
	buf_release(&f);
	buf_release(&any);
	buf_release(&prefix);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned long n = 1000000;
	bool cp932 = false, keep = false;
	const char *dir = "/tmp", *reuse = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "n:sd:kb:")) != -1) {
		if (opt == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (opt == 's')
			cp932 = true;
		else if (opt == 'd')
			dir = optarg;
		else if (opt == 'k')
			keep = true;
		else if (opt == 'b')
			reuse = optarg, keep = true;
		else {
			fprintf(stderr,
				"usage: bench_corp [-n records] [-s] [-d dir] [-k] | -b FILE.db\n");
			return 2;
		}
	}
	char csv[512], dbpath[512], url[520], err[512];
	snprintf(csv, sizeof csv, "%s/bench_corp_%d.csv", dir, (int)getpid());
	snprintf(dbpath, sizeof dbpath, "%s/bench_corp_%d.db", dir, (int)getpid());
	snprintf(url, sizeof url, "sqlite:%s", reuse ? reuse : dbpath);
	double t = now_s();
	FILE *out = reuse ? NULL : fopen(csv, "wb");
	if (!reuse && (!out || corp_generate(out, n, 1, cp932) != 0 || fclose(out) != 0)) {
		fprintf(stderr, "bench_corp: cannot write %s\n", csv);
		return 1;
	}
	if (!reuse)
		printf("generate %lu records (%s): %.2f s\n", n, cp932 ? "CP932" : "UTF-8",
		       now_s() - t);
	struct app app = {0};
	app.db = db_open(url, 2, err, sizeof err);
	if (!app.db) {
		fprintf(stderr, "bench_corp: %s\n", err);
		return 1;
	}
	struct db_conn *c = db_acquire(app.db);
	size_t nsteps = 0;
	while (corp_module.migrations[nsteps].version)
		nsteps++;
	int rc = db_migrate(c, "corp", corp_module.migrations, nsteps, err, sizeof err);
	db_release(c);
	for (int round = 0; rc == 0 && !reuse && round < 2; round++) {
		struct corp_import_stats st;
		t = now_s();
		rc = corp_import_file(&app, csv, ABR_ABORT, stderr, NULL, &st, err, sizeof err);
		double secs = now_s() - t;
		if (rc == 0)
			printf("import %s (%s): %llu records in %.2f s, %.0f records/s\n",
			       round ? "again" : "fresh", st.encoding, (unsigned long long)st.rows,
			       secs, (double)st.rows / secs);
	}
	if (rc == 0) {
		c = db_acquire(app.db);
		/* the three of before, a single character (scans), one that no name
		 * has, and the name of the record in the middle of the table */
		char mid[1024] = "";
		struct db_stmt *st;
		if (db_prepare(c,
			       "SELECT name FROM corp ORDER BY corporate_number LIMIT 1 OFFSET ?",
			       &st) == 0) {
			db_bind_int64(st, 1, (int64_t)(n / 2));
			if (db_step(st) == DB_ROW)
				snprintf(mid, sizeof mid, "%s", db_col_text(st, 0));
			db_done(st);
		}
		const char *const queries[] = {"ﾏﾄﾞｸﾞﾁ", "株式会社窓口",   "きしゅううめぼし",
					       "窓",     "存在しない法人", mid};
		for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
			json_t *items = NULL, *scan = NULL;
			t = now_s();
			int r = corp_search(c, queries[i], CORP_SEARCH_MAX, &items);
			double ms = (now_s() - t) * 1000;
			t = now_s();
			int r2 = scan_search(c, queries[i], &scan);
			double scan_ms = (now_s() - t) * 1000;
			json_t *nums = json_array();
			for (size_t k = 0; r == 0 && k < json_array_size(items); k++)
				json_array_append(nums, json_object_get(json_array_get(items, k),
									"corporate_number"));
			bool same = r == 0 && r2 == 0 && json_equal(nums, scan);
			json_decref(nums);
			printf("search %s: %zu hits in %.1f ms (full scan %.1f ms)%s\n", queries[i],
			       r == 0 ? json_array_size(items) : 0, ms, scan_ms,
			       same ? "" : " RESULTS DIFFER");
			if (!same)
				rc = -1;
			json_decref(items);
			json_decref(scan);
		}
		db_release(c);
	} else {
		fprintf(stderr, "bench_corp: %s\n", err);
	}
	db_close(app.db);
	if (!keep) {
		unlink(csv);
		unlink(dbpath);
		char side[540];
		snprintf(side, sizeof side, "%s-wal", dbpath);
		unlink(side);
		snprintf(side, sizeof side, "%s-shm", dbpath);
		unlink(side);
	}
	return rc == 0 ? 0 : 1;
}
