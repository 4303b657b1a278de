/* Benchmark of the synthetic population (resident_populate): imports 和歌山市's
 * Address Base Registry into a fresh SQLite data directory, then populates N
 * residents through the bulk path and prints residents/s and seconds.
 * Usage: bench_populate [N] [-s seed] [-a abr_dir] [-d dir] [-k] (keep files) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/boot.h"
#include "app/keys.h"
#include "audit/audit.h"
#include "registry/registry.h"
#include "resident/resident.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long long n = 1000000, seed = 1;
	const char *dir = "/tmp", *abr = getenv("ABR_DIR");
	if (!abr)
		abr = "../shared/data/abr"; /* from the repository's root */
	bool keep = false;
	int opt;
	while ((opt = getopt(argc, argv, "s:a:d:k")) != -1) {
		if (opt == 's')
			seed = strtoull(optarg, NULL, 10);
		else if (opt == 'a')
			abr = optarg;
		else if (opt == 'd')
			dir = optarg;
		else if (opt == 'k')
			keep = true;
		else {
			fprintf(stderr, "usage: bench_populate [N] [-s seed] [-a abr_dir] [-d dir] "
					"[-k]\n");
			return 2;
		}
	}
	if (optind < argc)
		n = strtoull(argv[optind], NULL, 10);
	if (sodium_init() < 0) {
		fprintf(stderr, "bench_populate: libsodium failed to initialise\n");
		return 1;
	}
	char data[512], path[600], err[512];
	snprintf(data, sizeof data, "%s/bench_populate_%d", dir, (int)getpid());
	if (mkdir(data, 0700) != 0) {
		perror(data);
		return 1;
	}
	struct app app = {0};
	int rc = 1;
	snprintf(path, sizeof path, "%s/keys", data);
	app.keys = keys_load(path, 1, err, sizeof err);
	snprintf(path, sizeof path, "sqlite:%s/madoguchi.db", data);
	app.db = app.keys ? db_open(path, 2, err, sizeof err) : NULL;
	if (!app.db) {
		fprintf(stderr, "bench_populate: %s\n", err);
		goto out;
	}
	struct db_conn *c = db_acquire(app.db);
	int mrc = audit_migrate(c, err, sizeof err);
	if (mrc == 0)
		mrc = app_migrate_module(c, &registry_module, err, sizeof err);
	if (mrc == 0)
		mrc = app_migrate_module(c, &resident_module, err, sizeof err);
	db_release(c);
	if (mrc != 0 || audit_open(app.db, app.keys->audit_sk, app.keys->audit_key_id, 1000, 3600,
				   &app.audit) != 0) {
		fprintf(stderr, "bench_populate: cannot migrate or open the audit log: %s\n", err);
		goto out;
	}
	static const char *const files[] = {"mt_town_all.csv.zip", "mt_rsdtdsp_rsdt_pref30.csv.zip",
					    "mt_parcel_city302015.csv.zip"};
	double t = now_s();
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct abr_import_stats st;
		snprintf(path, sizeof path, "%s/%s", abr, files[i]);
		if (abr_import_file(&app, path, ABR_ABORT, stderr, NULL, &st, err, sizeof err) !=
		    0) {
			fprintf(stderr, "bench_populate: %s\n", err);
			goto out;
		}
	}
	printf("ABR of 和歌山市 imported: %.2f s\n", now_s() - t);
	t = now_s();
	if (resident_populate(&app, "302015", n, seed, isatty(2) ? stderr : NULL, err,
			      sizeof err) != 0) {
		fprintf(stderr, "bench_populate: %s\n", err);
		goto out;
	}
	double secs = now_s() - t;
	printf("populate %llu residents (SQLite, seed %llu): %.2f s, %.0f residents/s\n", n, seed,
	       secs, (double)n / secs);
	rc = 0;
out:
	if (app.audit)
		audit_close(app.audit);
	if (app.db)
		db_close(app.db);
	keys_free(app.keys);
	if (!keep) {
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", data);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_populate: cannot remove %s\n", data);
	} else {
		printf("kept %s\n", data);
	}
	return rc;
}
