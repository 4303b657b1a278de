/* Benchmark of the audit chain: durable appends per second through group
 * commit on a fresh SQLite file (WAL, synchronous=FULL), then verify speed.
 * Usage: bench_audit [-t threads] [-n entries] [-s subjects] [-c ckpt_every] [-d dir] [-k]
 *                    [-u postgres://…]
 * -s: distinct residents per thread (default 1000; 0: no subject).
 * -u: run on that (emptied) PostgreSQL database instead of a new SQLite file. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "db/db.h"

struct worker {
	struct audit *a;
	int id;
	long n;
	long subjects;
	long failures;
	double *lat_us; /* n latencies */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char subject[32], req[32];

	for (long i = 0; i < w->n; i++) {
		if (w->subjects > 0)
			snprintf(subject, sizeof subject, "resident-%d-%ld", w->id,
				 i % w->subjects);
		snprintf(req, sizeof req, "req-%d-%ld", w->id, i);
		struct audit_entry e = {
			.lg_code = "302015",
			.actor_kind = "staff",
			.actor_id = "clerk-7",
			.actor_name = "山田 花子",
			.actor_org = "和歌山市 市民課",
			.action = "resident.read",
			.subject = w->subjects > 0 ? subject : NULL,
			.purpose = "住民票の写しの交付（住民基本台帳法第12条）",
			.request_id = req,
			.outcome = "ok",
		};
		double t0 = now_s();
		if (audit_append(w->a, &e) != 0)
			w->failures++;
		w->lat_us[i] = (now_s() - t0) * 1e6;
	}
	return NULL;
}

static long arg_long(const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max) {
		fprintf(stderr, "bench_audit: bad number '%s' (%ld..%ld)\n", s, min, max);
		exit(2);
	}
	return v;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
	long nthreads = 64, total = 200000, every_n = 1000, subjects = 1000;
	const char *base = getenv("TMPDIR"), *pg_url = NULL;
	int keep = 0, opt;
	char dir[PATH_MAX], path[PATH_MAX + 16], url[PATH_MAX + 32], err[256];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

	while ((opt = getopt(argc, argv, "t:n:s:c:d:ku:")) != -1) {
		switch (opt) {
		case 't':
			nthreads = arg_long(optarg, 1, 4096);
			break;
		case 'n':
			total = arg_long(optarg, 1, 100000000);
			break;
		case 's':
			subjects = arg_long(optarg, 0, 100000000);
			break;
		case 'c':
			every_n = arg_long(optarg, 1, INT_MAX);
			break;
		case 'd':
			base = optarg;
			break;
		case 'k':
			keep = 1;
			break;
		case 'u':
			pg_url = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-t threads] [-n entries] [-s subjects] [-c ckpt_every]"
				" [-d dir] [-k] [-u postgres-url]\n",
				argv[0]);
			return 2;
		}
	}
	if (!base || !*base)
		base = "/tmp";
	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof dir, "%s/bench_audit.XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/audit.db", dir);
	snprintf(url, sizeof url, "sqlite:%s", path);
	if (pg_url) {
		rmdir(dir);
		keep = 1;
		snprintf(path, sizeof path, "(postgresql)");
		snprintf(url, sizeof url, "%s", pg_url);
	}
	struct db *db = db_open(url, 4, err, sizeof err);
	if (!db) {
		fprintf(stderr, "db_open: %s\n", err);
		return 1;
	}
	struct db_conn *c = db_acquire(db);
	if (pg_url &&
	    db_exec(c,
		    "DROP TABLE IF EXISTS audit_log; DROP TABLE IF EXISTS audit_checkpoint;"
		    " DROP TABLE IF EXISTS audit_subject; DROP TABLE IF EXISTS audit_index_state;"
		    " DELETE FROM schema_migrations WHERE module = 'audit'") != 0) {
		fprintf(stderr, "cannot empty the PostgreSQL database: %s\n", db_errmsg(c));
		return 1;
	}
	if (audit_migrate(c, err, sizeof err) != 0) {
		fprintf(stderr, "migrate: %s\n", err);
		return 1;
	}
	crypto_sign_keypair(pk, sk);

	struct audit *a = NULL;
	int rc = audit_open(db, sk, "bench-key", (int)every_n, 5, &a);
	sodium_memzero(sk, sizeof sk);
	if (rc != 0) {
		fprintf(stderr, "audit_open: %s\n", audit_strerror(rc));
		return 1;
	}

	struct worker *w = calloc((size_t)nthreads, sizeof *w);
	pthread_t *t = calloc((size_t)nthreads, sizeof *t);
	double *lat = calloc((size_t)total, sizeof *lat);
	if (!w || !t || !lat)
		return 1;
	long given = 0;
	for (long i = 0; i < nthreads; i++) {
		w[i].a = a;
		w[i].id = (int)i;
		w[i].n = total / nthreads + (i < total % nthreads);
		w[i].subjects = subjects;
		w[i].lat_us = lat + given;
		given += w[i].n;
	}
	double t0 = now_s();
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, worker_main, &w[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	long failures = 0;
	for (long i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		failures += w[i].failures;
	}
	double el = now_s() - t0;
	struct audit_stats st;
	audit_get_stats(a, &st);
	double tc = now_s();
	if (audit_close(a) != 0)
		fprintf(stderr, "audit_close failed\n");
	tc = now_s() - tc;

	qsort(lat, (size_t)total, sizeof *lat, cmp_double);
	printf("audit_appends_per_s=%.0f entries=%" PRIu64 " threads=%ld batches=%" PRIu64 "\n",
	       (double)st.appended / el, st.appended, nthreads, st.batches);
	printf("audit_bench subjects_per_thread=%ld checkpoint_every=%ld db=%s\n", subjects,
	       every_n, path);
	printf("audit_append_latency_us p50=%.0f p99=%.0f max=%.0f avg_batch=%.1f failures=%ld\n",
	       lat[total / 2], lat[(size_t)((double)total * 0.99)], lat[total - 1],
	       st.batches ? (double)st.appended / (double)st.batches : 0.0, failures);
	/* The subject index is filled after the fact; the last pass runs in
	 * audit_close(), outside the timed part, so its time is shown here. */
	printf("audit_index passes=%" PRIu64 " indexed_upto_before_close=%" PRId64
	       " close_ms=%.1f\n",
	       st.index_passes, st.indexed_upto, tc * 1e3);

	struct audit_verify_result r;
	t0 = now_s();
	rc = audit_verify(c, pk, &r);
	el = now_s() - t0;
	printf("audit_verify_entries_per_s=%.0f entries=%" PRId64 " checkpoints=%" PRId64
	       " ok=%d\n",
	       (double)r.entries / el, r.entries, r.checkpoints, rc == 0);
	if (rc != 0)
		fprintf(stderr, "verify: %s at seq %" PRId64 ": %s\n", audit_strerror(rc),
			r.broken_seq, r.reason ? r.reason : "-");

	db_release(c);
	db_close(db);
	free(w);
	free(t);
	free(lat);
	if (!keep) {
		const char *sfx[] = {"", "-wal", "-shm"};
		for (int i = 0; i < 3; i++) {
			snprintf(url, sizeof url, "%s%s", path, sfx[i]);
			unlink(url);
		}
		rmdir(dir);
	} else if (!pg_url) {
		printf("kept %s\n", path);
	}
	return rc == 0 && failures == 0 ? 0 : 1;
}
