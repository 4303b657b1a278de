/* Benchmark of the corporate number import: generates N records (UTF-8 or
 * CP932) into a file, imports it into a fresh SQLite file, imports it again
 * (every row an update), and searches by name.
 * Usage: bench_corp [-n records] [-s] (CP932) [-d dir] [-k] (keep files) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "registry/corp.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long n = 1000000;
	bool cp932 = false, keep = false;
	const char *dir = "/tmp";
	int opt;
	while ((opt = getopt(argc, argv, "n:sd:k")) != -1) {
		if (opt == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (opt == 's')
			cp932 = true;
		else if (opt == 'd')
			dir = optarg;
		else if (opt == 'k')
			keep = true;
		else {
			fprintf(stderr, "usage: bench_corp [-n records] [-s] [-d dir] [-k]\n");
			return 2;
		}
	}
	char csv[512], dbpath[512], url[520], err[512];
	snprintf(csv, sizeof csv, "%s/bench_corp_%d.csv", dir, (int)getpid());
	snprintf(dbpath, sizeof dbpath, "%s/bench_corp_%d.db", dir, (int)getpid());
	snprintf(url, sizeof url, "sqlite:%s", dbpath);
	double t = now_s();
	FILE *out = fopen(csv, "wb");
	if (!out || corp_generate(out, n, 1, cp932) != 0 || fclose(out) != 0) {
		fprintf(stderr, "bench_corp: cannot write %s\n", csv);
		return 1;
	}
	printf("generate %lu records (%s): %.2f s\n", n, cp932 ? "CP932" : "UTF-8", now_s() - t);
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
	for (int round = 0; rc == 0 && round < 2; round++) {
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
		static const char *const queries[] = {"ﾏﾄﾞｸﾞﾁ", "株式会社窓口", "きしゅううめぼし"};
		for (size_t i = 0; i < 3; i++) {
			json_t *items = NULL;
			t = now_s();
			int r = corp_search(c, queries[i], CORP_SEARCH_MAX, &items);
			printf("search %s: %zu hits in %.1f ms\n", queries[i],
			       r == 0 ? json_array_size(items) : 0, (now_s() - t) * 1000);
			json_decref(items);
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
