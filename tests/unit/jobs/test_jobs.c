/* Unit tests of the durable job queue (src/jobs/jobs.c) on a real SQLite file
 * in a temporary directory, and again on PostgreSQL when MADO_TEST_PG_URL is
 * set (each test then works in its own schema, dropped afterwards). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/utf8.h"
#include "db/db.h"
#include "jobs/jobs.h"

#define LG "302015"   /* 和歌山市 */
#define LG_B "131016" /* 千代田区 */
#define WAIT_MS 60000 /* generous: ASan builds on a busy machine are slow */

struct backend {
	const char *name;
	bool pg;
};
static struct backend be_sqlite = {"sqlite", false};
static struct backend be_pg = {"postgres", true};

/* What the test handler does and saw. */
struct tstate {
	atomic_int calls;
	int fail_until; /* fail while attempt < fail_until */
	atomic_bool always_fail;
	int fail_rc;     /* returned on failure (default -1) */
	const char *msg; /* written to ctx->err on failure */
	int sleep_ms;    /* before returning */
	atomic_bool started, finished;
	int64_t attempt_at[8];
	int last_attempt;
	char lg[8];
	json_int_t n;
	bool payload_null;
	bool conn_ok;
};

#define MAX_RUNNERS 4

struct fx {
	const struct backend *be;
	char dir[256];
	char schema[64];
	char url[2048];
	struct db *db;
	struct db_conn *c; /* the test's own connection */
	/* Owned by the fixture, so that a failing test (cmocka longjmps out of
	 * it) leaves no worker running against a closed database or a dead
	 * stack frame: teardown stops and frees them. */
	struct tstate t;
	struct jobs *runners[MAX_RUNNERS];
	int nrunners;
};

/* ---- helpers ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void pg_admin_exec(const char *base, const char *sql)
{
	char err[256] = "";
	struct db *db = db_open(base, 1, err, sizeof err);
	if (!db)
		fail_msg("cannot connect to MADO_TEST_PG_URL: %s", err);
	struct db_conn *c = db_acquire(db);
	int rc = db_exec(c, sql);
	if (rc < 0)
		fail_msg("%s: %s", sql, db_errmsg(c));
	db_release(c);
	db_close(db);
}

static int setup(void **state)
{
	static atomic_int seq;
	const struct backend *be = *state;
	struct fx *f = calloc(1, sizeof *f);
	char err[512] = "";
	assert_non_null(f);
	f->be = be;
	if (be->pg) {
		const char *base = getenv("MADO_TEST_PG_URL");
		char sql[256];
		assert_non_null(base);
		snprintf(f->schema, sizeof f->schema, "jobs_test_%ld_%d", (long)getpid(),
			 atomic_fetch_add(&seq, 1));
		snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s",
			 f->schema, f->schema);
		pg_admin_exec(base, sql);
		snprintf(f->url, sizeof f->url, "%s%soptions=-csearch_path%%3D%s", base,
			 strchr(base, '?') ? "&" : "?", f->schema);
	} else {
		snprintf(f->dir, sizeof f->dir, "/tmp/mado-test-jobs-XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->url, sizeof f->url, "%s/jobs.db", f->dir);
	}
	f->db = db_open(f->url, 12, err, sizeof err);
	if (!f->db)
		fail_msg("db_open(%s): %s", be->name, err);
	f->c = db_acquire(f->db);
	if (db_migrate(f->c, "jobs", jobs_migrations, jobs_nmigrations, err, sizeof err) < 0)
		fail_msg("migrate: %s", err);
	/* A second run finds nothing to do. */
	assert_int_equal(
		db_migrate(f->c, "jobs", jobs_migrations, jobs_nmigrations, err, sizeof err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	for (int i = 0; i < f->nrunners; i++)
		jobs_free(f->runners[i]);
	db_release(f->c);
	db_close(f->db);
	if (f->be->pg) {
		char sql[256];
		snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", f->schema);
		pg_admin_exec(getenv("MADO_TEST_PG_URL"), sql);
	} else {
		const char *suffix[] = {"", "-wal", "-shm", "-journal"};
		for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
			char p[512];
			snprintf(p, sizeof p, "%s/jobs.db%s", f->dir, suffix[i]);
			unlink(p);
		}
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

static int64_t count(struct fx *f, const char *lg, const char *state)
{
	json_t *o = NULL;
	assert_int_equal(jobs_counts(f->c, lg, &o), 0);
	json_t *v = json_object_get(o, state);
	assert_true(json_is_integer(v));
	int64_t n = json_integer_value(v);
	json_decref(o);
	return n;
}

/* Waits until `state` holds n jobs (all tenants); fails the test on timeout. */
static void wait_count(struct fx *f, const char *state, int64_t n)
{
	int64_t end = mono_ms() + WAIT_MS;
	while (count(f, NULL, state) != n) {
		if (mono_ms() > end)
			fail_msg("timed out waiting for %" PRId64
				 " job(s) in state %s (have %" PRId64 ")",
				 n, state, count(f, NULL, state));
		sleep_ms(5);
	}
}

/* The row of job id as jobs_list shows it (a new reference), or NULL. */
static json_t *job_row(struct fx *f, const char *lg, int64_t id)
{
	json_t *arr = NULL, *found = NULL, *o;
	size_t i;
	assert_int_equal(jobs_list(f->c, lg, NULL, 1000, &arr), 0);
	json_array_foreach (arr, i, o) {
		if (json_integer_value(json_object_get(o, "id")) == id) {
			found = json_incref(o);
			break;
		}
	}
	json_decref(arr);
	return found;
}

static int64_t row_int(json_t *row, const char *key)
{
	json_t *v = json_object_get(row, key);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static const char *row_str(json_t *row, const char *key)
{
	return json_string_value(json_object_get(row, key));
}

/* Inserts a row as a (possibly crashed) process would have left it. */
static int64_t insert_raw(struct fx *f, const char *kind, const char *payload, const char *state,
			  int attempts, int max_attempts, const char *locked_by, int64_t locked_at,
			  int64_t updated_at)
{
	struct db_stmt *st = NULL;
	int64_t now = now_ms();
	assert_int_equal(
		db_prepare(
			f->c,
			"INSERT INTO jobs (lg_code, kind, payload, state, attempts, max_attempts,"
			" run_at_ms, locked_by, locked_at_ms, created_at_ms, updated_at_ms)"
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			&st),
		0);
	db_bind_text(st, 1, LG);
	db_bind_text(st, 2, kind);
	db_bind_text(st, 3, payload);
	db_bind_text(st, 4, state);
	db_bind_int64(st, 5, attempts);
	db_bind_int64(st, 6, max_attempts);
	db_bind_int64(st, 7, now);
	db_bind_text(st, 8, locked_by);
	if (locked_at)
		db_bind_int64(st, 9, locked_at);
	else
		db_bind_null(st, 9);
	db_bind_int64(st, 10, now);
	db_bind_int64(st, 11, updated_at);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t id = db_col_int64(st, 0);
	assert_int_equal(db_step(st), DB_DONE);
	db_done(st);
	return id;
}

static int64_t enqueue(struct fx *f, const char *lg, const char *kind, json_t *payload, int max)
{
	int64_t id = 0;
	int rc = jobs_enqueue(f->c, lg, kind, payload, max, 0, &id);
	if (rc != 0)
		fail_msg("jobs_enqueue: %s (%s)", jobs_strerror(rc), db_errmsg(f->c));
	assert_true(id > 0);
	return id;
}

/* ---- a configurable handler ---- */

static int handler(struct jobs_ctx *ctx, void *user)
{
	struct tstate *t = user;
	int k = atomic_fetch_add(&t->calls, 1);
	atomic_store(&t->started, true);
	if (k < 8)
		t->attempt_at[k] = mono_ms();
	t->last_attempt = ctx->attempt;
	snprintf(t->lg, sizeof t->lg, "%s", ctx->lg_code);
	t->payload_null = json_is_null(ctx->payload);
	t->n = json_integer_value(json_object_get(ctx->payload, "n"));
	int64_t one = 0;
	t->conn_ok = db_query_int64(ctx->conn, "SELECT 1", &one) == DB_ROW && one == 1;
	if (t->sleep_ms)
		sleep_ms(t->sleep_ms);
	atomic_store(&t->finished, true);
	if (atomic_load(&t->always_fail) || ctx->attempt < t->fail_until) {
		if (t->msg)
			snprintf(ctx->err, ctx->errlen, "%s", t->msg);
		return t->fail_rc ? t->fail_rc : -1;
	}
	return 0;
}

/* A runner freed by teardown. */
static struct jobs *track(struct fx *f, struct jobs *j)
{
	assert_true(f->nrunners < MAX_RUNNERS);
	f->runners[f->nrunners++] = j;
	return j;
}

/* A runner with the test handler on kind "test.job", fast poll and back-off. */
static struct jobs *runner(struct fx *f, int workers, struct tstate *t)
{
	struct jobs *j = track(f, jobs_new(f->db, workers));
	jobs_set_poll(j, 10);
	jobs_set_backoff(j, 5, 20);
	if (t)
		assert_int_equal(jobs_register(j, "test.job", handler, t), 0);
	return j;
}

/* ---- tests ---- */

static void test_backoff_delay(void **state)
{
	(void)state;
	const int64_t cap = 3600 * 1000;
	assert_int_equal(jobs_backoff_delay(1, 1000, cap, 0), 1000);
	assert_int_equal(jobs_backoff_delay(0, 1000, cap, 0), 1000);
	assert_int_equal(jobs_backoff_delay(2, 1000, cap, 0), 2000);
	assert_int_equal(jobs_backoff_delay(3, 1000, cap, 0), 4000);
	assert_int_equal(jobs_backoff_delay(13, 1000, cap, 0), cap); /* 4096 s > 1 h */
	assert_int_equal(jobs_backoff_delay(100, 1000, cap, 0), cap);
	for (uint64_t r = 0; r < 5000; r += 7) {
		int64_t d = jobs_backoff_delay(1, 1000, cap, r * 2654435761u);
		assert_true(d >= 750 && d <= 1000);
		d = jobs_backoff_delay(40, 1000, cap, r * 2654435761u);
		assert_true(d >= cap - cap / 4 && d <= cap);
	}
	/* Jitter actually varies. */
	assert_int_not_equal(jobs_backoff_delay(5, 1000, cap, 1),
			     jobs_backoff_delay(5, 1000, cap, 2));
	/* No overflow with absurd settings. */
	int64_t big = jobs_backoff_delay(1000000, INT64_MAX / 2, INT64_MAX, UINT64_MAX);
	assert_true(big > 0 && big <= INT64_MAX);
	assert_true(jobs_backoff_delay(INT32_MAX, 1, 10, 0) == 10);
}

static void test_enqueue_validation(void **state)
{
	struct fx *f = *state;
	int64_t id = 0;
	json_t *p = json_pack("{s:i}", "n", 1);

	assert_int_equal(jobs_enqueue(f->c, "30201", "test.job", p, 0, 0, &id), -EINVAL);
	assert_int_equal(jobs_enqueue(f->c, "3020155", "test.job", p, 0, 0, &id), -EINVAL);
	assert_int_equal(jobs_enqueue(f->c, "30201a", "test.job", p, 0, 0, &id), -EINVAL);
	assert_int_equal(jobs_enqueue(f->c, "302016", "test.job", p, 0, 0, &id),
			 -EINVAL); /* check digit */
	assert_int_equal(jobs_enqueue(f->c, NULL, "test.job", p, 0, 0, &id), -EINVAL);
	assert_int_equal(jobs_enqueue(f->c, LG, "", p, 0, 0, &id), -EINVAL);
	assert_int_equal(jobs_enqueue(f->c, LG, "Test", p, 0, 0, &id), -EINVAL);
	assert_int_equal(jobs_enqueue(f->c, LG, "a b", p, 0, 0, &id), -EINVAL);
	assert_int_equal(jobs_enqueue(f->c, LG, "x'); DROP TABLE jobs; --", p, 0, 0, &id), -EINVAL);
	char longkind[JOBS_KIND_MAX + 2];
	memset(longkind, 'k', sizeof longkind - 1);
	longkind[sizeof longkind - 1] = '\0';
	assert_int_equal(jobs_enqueue(f->c, LG, longkind, p, 0, 0, &id), -EINVAL);
	longkind[JOBS_KIND_MAX] = '\0';
	assert_int_equal(jobs_enqueue(f->c, LG, longkind, p, 0, 0, &id), 0);

	/* A payload over the limit is refused before touching the database. */
	char *big = malloc(JOBS_PAYLOAD_MAX + 1);
	assert_non_null(big);
	memset(big, 'x', JOBS_PAYLOAD_MAX);
	big[JOBS_PAYLOAD_MAX] = '\0';
	json_t *bp = json_pack("{s:s}", "blob", big);
	free(big);
	assert_int_equal(jobs_enqueue(f->c, LG, "test.job", bp, 0, 0, &id), -E2BIG);
	json_decref(bp);

	int64_t a = enqueue(f, LG, "test.job", p, 0);
	int64_t b = enqueue(f, LG, "test.job", NULL, 500);
	assert_true(b > a);
	assert_int_equal(count(f, LG, "queued"), 3);
	json_t *row = job_row(f, LG, a);
	assert_non_null(row);
	assert_int_equal(row_int(row, "max_attempts"), JOBS_DEFAULT_ATTEMPTS);
	assert_int_equal(row_int(row, "attempts"), 0);
	assert_string_equal(row_str(row, "state"), "queued");
	assert_string_equal(row_str(row, "kind"), "test.job");
	assert_null(json_object_get(row, "payload")); /* never shown to admins */
	json_decref(row);
	row = job_row(f, LG, b);
	assert_int_equal(row_int(row, "max_attempts"), JOBS_MAX_ATTEMPTS);
	json_decref(row);
	json_decref(p);

	/* Admin functions check their arguments too. */
	json_t *out = NULL;
	assert_int_equal(jobs_list(f->c, NULL, NULL, 10, &out), -EINVAL);
	assert_int_equal(jobs_list(f->c, LG, "sleeping", 10, &out), -EINVAL);
	assert_null(out);
	assert_int_equal(jobs_counts(f->c, "bad", &out), -EINVAL);
	assert_int_equal(jobs_retry(f->c, LG, 0), -EINVAL);
}

static void test_enqueue_follows_transaction(void **state)
{
	struct fx *f = *state;
	assert_int_equal(db_begin(f->c), 0);
	enqueue(f, LG, "test.job", NULL, 0);
	assert_int_equal(count(f, LG, "queued"), 1); /* visible inside */
	assert_int_equal(db_rollback(f->c), 0);
	assert_int_equal(count(f, LG, "queued"), 0);

	assert_int_equal(db_begin_write(f->c), 0);
	enqueue(f, LG, "test.job", NULL, 0);
	assert_int_equal(db_commit(f->c), 0);
	assert_int_equal(count(f, LG, "queued"), 1);
}

static void test_delay_postpones(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	struct jobs *j = runner(f, 1, t);
	int64_t id = 0;
	assert_int_equal(jobs_enqueue(f->c, LG, "test.job", NULL, 0, 3600 * 1000, &id), 0);
	assert_int_equal(jobs_start(j), 0);
	sleep_ms(200);
	assert_int_equal(atomic_load(&t->calls), 0);
	assert_int_equal(count(f, LG, "queued"), 1);
	jobs_stop(j);
}

static void test_success_runs_once(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	struct jobs *j = runner(f, 2, t);
	json_t *p = json_pack("{s:i}", "n", 42);
	int64_t id = enqueue(f, LG, "test.job", p, 3);
	json_decref(p);

	assert_int_equal(jobs_start(j), 0);
	jobs_notify(j);
	wait_count(f, "done", 1);
	sleep_ms(100); /* a second run, if any, would show now */
	assert_int_equal(atomic_load(&t->calls), 1);
	assert_int_equal(t->n, 42);
	assert_string_equal(t->lg, LG);
	assert_int_equal(t->last_attempt, 1);
	assert_true(t->conn_ok);

	json_t *row = job_row(f, LG, id);
	assert_non_null(row);
	assert_string_equal(row_str(row, "state"), "done");
	assert_int_equal(row_int(row, "attempts"), 1);
	assert_true(json_is_null(json_object_get(row, "locked_by")));
	assert_true(json_is_null(json_object_get(row, "last_error")));
	json_decref(row);

	/* A job without payload gets JSON null. */
	enqueue(f, LG, "test.job", NULL, 0);
	jobs_notify(j);
	wait_count(f, "done", 2);
	assert_true(t->payload_null);
	jobs_stop(j);
}

static void test_fail_twice_then_succeed(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	t->fail_until = 3;
	t->msg = "一時的なエラー";
	struct jobs *j = runner(f, 2, t);
	jobs_set_backoff(j, 60, 1000);
	int64_t id = enqueue(f, LG, "test.job", NULL, 5);

	assert_int_equal(jobs_start(j), 0);
	wait_count(f, "done", 1);
	assert_int_equal(atomic_load(&t->calls), 3);
	/* Back-off: ≥ 75 % of 60 ms, then of 120 ms, between attempts. */
	assert_true(t->attempt_at[1] - t->attempt_at[0] >= 45);
	assert_true(t->attempt_at[2] - t->attempt_at[1] >= 90);
	json_t *row = job_row(f, LG, id);
	assert_int_equal(row_int(row, "attempts"), 3);
	assert_string_equal(row_str(row, "state"), "done");
	assert_string_equal(row_str(row, "last_error"), "一時的なエラー");
	json_decref(row);
	jobs_stop(j);
}

static void test_always_failing_goes_dead(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	t->msg = "接続できません";
	atomic_store(&t->always_fail, true);
	struct jobs *j = runner(f, 2, t);
	int64_t id = enqueue(f, LG, "test.job", NULL, 3);

	assert_int_equal(jobs_start(j), 0);
	wait_count(f, "dead", 1);
	sleep_ms(100);
	assert_int_equal(atomic_load(&t->calls), 3);
	json_t *row = job_row(f, LG, id);
	assert_string_equal(row_str(row, "state"), "dead");
	assert_int_equal(row_int(row, "attempts"), 3);
	assert_string_equal(row_str(row, "last_error"), "接続できません");
	json_decref(row);

	/* Without a message, the return code is recorded. */
	t->msg = NULL;
	t->fail_rc = -7;
	id = enqueue(f, LG, "test.job", NULL, 1);
	jobs_notify(j);
	wait_count(f, "dead", 2);
	row = job_row(f, LG, id);
	assert_non_null(strstr(row_str(row, "last_error"), "-7"));
	json_decref(row);
	jobs_stop(j);
}

static void test_give_up_is_dead_at_once(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	t->fail_rc = JOBS_GIVE_UP;
	t->msg = "内容が不正です";
	atomic_store(&t->always_fail, true);
	struct jobs *j = runner(f, 1, t);
	int64_t id = enqueue(f, LG, "test.job", NULL, 10);
	assert_int_equal(jobs_start(j), 0);
	wait_count(f, "dead", 1);
	assert_int_equal(atomic_load(&t->calls), 1);
	json_t *row = job_row(f, LG, id);
	assert_int_equal(row_int(row, "attempts"), 1);
	json_decref(row);
	jobs_stop(j);
}

static void test_unknown_kind_and_bad_payload(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	struct jobs *j = runner(f, 1, t);
	int64_t a = enqueue(f, LG, "test.nobody", NULL, 5);
	int64_t b = insert_raw(f, "test.job", "{not json", "queued", 0, 5, NULL, 0, now_ms());
	assert_int_equal(jobs_start(j), 0);
	wait_count(f, "dead", 2);
	assert_int_equal(atomic_load(&t->calls), 0);
	json_t *row = job_row(f, LG, a);
	assert_int_equal(row_int(row, "attempts"), 1);
	assert_non_null(strstr(row_str(row, "last_error"), "test.nobody"));
	json_decref(row);
	row = job_row(f, LG, b);
	assert_non_null(strstr(row_str(row, "last_error"), "JSON"));
	json_decref(row);
	jobs_stop(j);
}

static void test_retry_from_dead(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	t->msg = "失敗";
	atomic_store(&t->always_fail, true);
	struct jobs *j = runner(f, 1, t);
	int64_t id = enqueue(f, LG, "test.job", NULL, 2);
	assert_int_equal(jobs_start(j), 0);
	wait_count(f, "dead", 1);
	assert_int_equal(atomic_load(&t->calls), 2);

	/* Another municipality cannot see or retry it. */
	assert_int_equal(jobs_retry(f->c, LG_B, id), -ENOENT);
	assert_int_equal(jobs_retry(f->c, LG, id + 1000), -ENOENT);
	assert_int_equal(count(f, NULL, "dead"), 1);

	atomic_store(&t->always_fail, false);
	assert_int_equal(jobs_retry(f->c, LG, id), 0);
	jobs_notify(j);
	wait_count(f, "done", 1);
	assert_int_equal(atomic_load(&t->calls), 3);
	json_t *row = job_row(f, LG, id);
	assert_int_equal(row_int(row, "attempts"), 1); /* reset, then one run */
	json_decref(row);
	/* Only dead jobs can be retried. */
	assert_int_equal(jobs_retry(f->c, LG, id), -EINVAL);
	jobs_stop(j);
}

static void test_tenant_filter(void **state)
{
	struct fx *f = *state;
	int64_t ids[3];
	for (int i = 0; i < 3; i++)
		ids[i] = enqueue(f, LG, "test.job", NULL, 0);
	enqueue(f, LG_B, "test.job", NULL, 0);
	enqueue(f, LG_B, "test.other", NULL, 0);

	json_t *arr = NULL, *o;
	size_t i;
	assert_int_equal(jobs_list(f->c, LG, NULL, 100, &arr), 0);
	assert_int_equal(json_array_size(arr), 3);
	json_array_foreach (arr, i, o)
		assert_string_equal(row_str(o, "lg_code"), LG);
	/* Newest first. */
	assert_int_equal(row_int(json_array_get(arr, 0), "id"), ids[2]);
	json_decref(arr);

	assert_int_equal(jobs_list(f->c, LG_B, NULL, 100, &arr), 0);
	assert_int_equal(json_array_size(arr), 2);
	json_array_foreach (arr, i, o)
		assert_string_equal(row_str(o, "lg_code"), LG_B);
	json_decref(arr);

	assert_int_equal(jobs_list(f->c, LG, NULL, 2, &arr), 0);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
	assert_int_equal(jobs_list(f->c, LG, "queued", 100, &arr), 0);
	assert_int_equal(json_array_size(arr), 3);
	json_decref(arr);
	assert_int_equal(jobs_list(f->c, LG, "dead", 100, &arr), 0);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	assert_int_equal(jobs_list(f->c, "401005", NULL, 100, &arr), 0);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);

	assert_int_equal(count(f, LG, "queued"), 3);
	assert_int_equal(count(f, LG_B, "queued"), 2);
	assert_int_equal(count(f, NULL, "queued"), 5);
	assert_int_equal(count(f, NULL, "dead"), 0);
	json_t *c = NULL;
	assert_int_equal(jobs_counts(f->c, NULL, &c), 0);
	assert_int_equal(json_object_size(c), 5); /* every state, zeros included */
	json_decref(c);

	/* A dead job of LG_B cannot be retried through LG. */
	int64_t dead = insert_raw(f, "test.job", NULL, "dead", 5, 5, NULL, 0, now_ms());
	assert_int_equal(jobs_retry(f->c, LG_B, dead), -ENOENT);
	assert_int_equal(jobs_retry(f->c, LG, dead), 0);
}

#define MANY 500
#define WORKERS 4
#define HERDED 200 /* jobs whose handlers meet before returning together */
struct many {
	atomic_int total;
	atomic_int seen[MANY];
	atomic_int inflight, max_inflight;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int arrived;  /* handlers waiting at the meeting point; under mu */
	unsigned gen; /* meetings completed; under mu */
};

/* Handlers of the first HERDED jobs wait (at most 100 ms) until WORKERS of
 * them are running, then all return at once, so that the workers claim their
 * next jobs at the same instant: the case where a claim without row locking
 * would hand one job to two workers. */
static void meet(struct many *m)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += 100 * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&m->mu);
	unsigned gen = m->gen;
	if (++m->arrived == WORKERS) {
		m->arrived = 0;
		m->gen++;
		pthread_cond_broadcast(&m->cv);
	} else {
		while (m->gen == gen)
			if (pthread_cond_timedwait(&m->cv, &m->mu, &dl) != 0)
				break;
		if (m->gen == gen)
			m->arrived--; /* gave up waiting */
	}
	pthread_mutex_unlock(&m->mu);
}

static int many_handler(struct jobs_ctx *ctx, void *user)
{
	struct many *m = user;
	json_int_t i = json_integer_value(json_object_get(ctx->payload, "i"));
	if (i < 0 || i >= MANY)
		return JOBS_GIVE_UP;
	atomic_fetch_add(&m->seen[i], 1);
	atomic_fetch_add(&m->total, 1);
	int now = atomic_fetch_add(&m->inflight, 1) + 1;
	int max = atomic_load(&m->max_inflight);
	while (now > max && !atomic_compare_exchange_weak(&m->max_inflight, &max, now))
		;
	if (i < HERDED)
		meet(m);
	atomic_fetch_sub(&m->inflight, 1);
	return 0;
}

static void test_workers_never_share_a_job(void **state)
{
	struct fx *f = *state;
	struct many *m = calloc(1, sizeof *m);
	assert_non_null(m);
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	struct jobs *j = track(f, jobs_new(f->db, WORKERS));
	jobs_set_poll(j, 20);
	assert_int_equal(jobs_register(j, "test.many", many_handler, m), 0);

	assert_int_equal(db_begin_write(f->c), 0);
	for (int i = 0; i < MANY; i++) {
		json_t *p = json_pack("{s:i}", "i", i);
		enqueue(f, LG, "test.many", p, 1);
		json_decref(p);
	}
	assert_int_equal(db_commit(f->c), 0);

	assert_int_equal(jobs_start(j), 0);
	jobs_notify(j);
	wait_count(f, "done", MANY);
	sleep_ms(100);
	jobs_stop(j);
	assert_int_equal(atomic_load(&m->total), MANY);
	for (int i = 0; i < MANY; i++)
		assert_int_equal(atomic_load(&m->seen[i]), 1);
	/* The workers really ran side by side. */
	assert_int_equal(atomic_load(&m->max_inflight), WORKERS);
	assert_int_equal(count(f, NULL, "dead"), 0);
	assert_int_equal(count(f, NULL, "running"), 0);
	jobs_stop(j);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static void test_crash_recovery(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	int64_t now = now_ms(), hour = 3600 * 1000;
	/* Left by a process that died an hour ago. */
	int64_t stale = insert_raw(f, "test.job", "{\"n\":7}", "running", 1, 5, "gone:1:0/w0",
				   now - hour, now - hour);
	/* Ditto, but its attempts are used up: it may be what killed the process. */
	int64_t poison = insert_raw(f, "test.job", NULL, "running", 3, 3, "gone:1:0/w1", now - hour,
				    now - hour);
	/* Held right now by a live worker elsewhere: must not be touched. */
	int64_t live = insert_raw(f, "test.job", NULL, "running", 1, 5, "alive:2:0/w0", now, now);

	struct jobs *j = runner(f, 2, t);
	assert_int_equal(jobs_start(j), 0);
	wait_count(f, "done", 1);
	wait_count(f, "dead", 1);
	sleep_ms(100);
	assert_int_equal(atomic_load(&t->calls), 1);
	assert_int_equal(t->n, 7);

	json_t *row = job_row(f, LG, stale);
	assert_string_equal(row_str(row, "state"), "done");
	assert_int_equal(row_int(row, "attempts"), 2);
	json_decref(row);
	row = job_row(f, LG, poison);
	assert_string_equal(row_str(row, "state"), "dead");
	assert_non_null(strstr(row_str(row, "last_error"), "リース"));
	json_decref(row);
	row = job_row(f, LG, live);
	assert_string_equal(row_str(row, "state"), "running");
	assert_string_equal(row_str(row, "locked_by"), "alive:2:0/w0");
	json_decref(row);
	jobs_stop(j);

	/* jobs_reclaim on its own: the live one after its lease. */
	int64_t n = -1;
	assert_int_equal(jobs_reclaim(f->c, hour, &n), 0);
	assert_int_equal(n, 0);
	sleep_ms(20);
	assert_int_equal(jobs_reclaim(f->c, 10, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(count(f, NULL, "failed"), 1);
}

/* Two runners on one database, as two nodes would be: the second must not
 * take over a long job from the first while the first renews its lease. The
 * job (5 s) outlives the lease (2 s): without renewal, b would reclaim and
 * run it again after 2-3 s. Margins are wide for loaded machines. */
static void test_lease_renewed_while_running(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	t->sleep_ms = 5000;
	struct jobs *a = runner(f, 1, t);
	struct jobs *b = runner(f, 1, t);
	jobs_set_lease(a, 2000);
	jobs_set_lease(b, 2000);

	enqueue(f, LG, "test.job", NULL, 5);
	assert_int_equal(jobs_start(a), 0);
	jobs_notify(a);
	int64_t end = mono_ms() + WAIT_MS;
	while (!atomic_load(&t->started) && mono_ms() < end)
		sleep_ms(5);
	assert_true(atomic_load(&t->started));
	assert_int_equal(jobs_start(b), 0);
	end = mono_ms() + WAIT_MS;
	while (count(f, NULL, "done") != 1 && atomic_load(&t->calls) == 1 && mono_ms() < end)
		sleep_ms(10);
	assert_int_equal(atomic_load(&t->calls), 1);
	assert_int_equal(count(f, NULL, "done"), 1);
	sleep_ms(400);
	assert_int_equal(atomic_load(&t->calls), 1);
	jobs_stop(b);
	jobs_stop(a);
}

static void test_notify_wakes_and_stop_is_prompt(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	struct jobs *j = runner(f, 2, t);
	jobs_set_poll(j, 30000);
	assert_int_equal(jobs_start(j), 0);
	sleep_ms(100); /* the workers looked, found nothing, and sleep 30 s */
	enqueue(f, LG, "test.job", NULL, 0);
	int64_t t0 = mono_ms();
	jobs_notify(j);
	while (count(f, NULL, "done") != 1 && mono_ms() - t0 < 10000)
		sleep_ms(5);
	assert_int_equal(count(f, NULL, "done"), 1);
	t0 = mono_ms();
	jobs_stop(j);
	assert_true(mono_ms() - t0 < 5000);
	jobs_stop(j);
}

static void test_stop_lets_handler_finish(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	t->sleep_ms = 300;
	struct jobs *j = runner(f, 1, t);
	enqueue(f, LG, "test.job", NULL, 0);
	assert_int_equal(jobs_start(j), 0);
	jobs_notify(j);
	int64_t end = mono_ms() + WAIT_MS;
	while (!atomic_load(&t->started) && mono_ms() < end)
		sleep_ms(2);
	assert_true(atomic_load(&t->started));
	jobs_stop(j);
	assert_true(atomic_load(&t->finished));
	assert_int_equal(count(f, NULL, "done"), 1);
	/* Restartable. */
	assert_int_equal(jobs_start(j), 0);
	assert_int_equal(jobs_start(j), -EALREADY);
	jobs_stop(j);
}

static void test_register(void **state)
{
	struct fx *f = *state;
	struct tstate *t = &f->t;
	struct jobs *j = track(f, jobs_new(f->db, 1));
	assert_int_equal(jobs_register(j, "a.b", handler, t), 0);
	assert_int_equal(jobs_register(j, "a.b", handler, t), -EEXIST);
	assert_int_equal(jobs_register(j, "A.b", handler, t), -EINVAL);
	assert_int_equal(jobs_register(j, "c", NULL, t), -EINVAL);
	assert_int_equal(jobs_start(j), 0);
	assert_int_equal(jobs_register(j, "c", handler, t), -EBUSY);
	jobs_stop(j);
	/* A runner without workers registers and reclaims, nothing more. */
	j = track(f, jobs_new(f->db, 0));
	assert_int_equal(jobs_start(j), 0);
	jobs_stop(j);
	jobs_free(NULL);
}

static int dirty_handler(struct jobs_ctx *ctx, void *user)
{
	snprintf(ctx->err, ctx->errlen, "%s", (const char *)user);
	return JOBS_GIVE_UP;
}

static void test_error_text_is_cleaned(void **state)
{
	struct fx *f = *state;
	static char msg[4096];
	/* Invalid UTF-8, control characters, then far too much text. */
	const char head[] = "bad\xff\xfe\x01\x1b[31m";
	size_t n = sizeof head - 1;
	memcpy(msg, head, n);
	while (n + 3 < sizeof msg - 1) {
		memcpy(msg + n, "あ", 3);
		n += 3;
	}
	msg[n] = '\0';
	struct jobs *j = track(f, jobs_new(f->db, 1));
	jobs_set_poll(j, 10);
	assert_int_equal(jobs_register(j, "test.dirty", dirty_handler, msg), 0);
	int64_t id = enqueue(f, LG, "test.dirty", NULL, 3);
	assert_int_equal(jobs_start(j), 0);
	wait_count(f, "dead", 1);
	json_t *row = job_row(f, LG, id);
	const char *e = row_str(row, "last_error");
	assert_non_null(e);
	assert_true(strlen(e) <= JOBS_ERROR_MAX);
	assert_true(strlen(e) > JOBS_ERROR_MAX - 4);
	assert_true(utf8_clean(e, strlen(e)));
	assert_int_equal(strncmp(e, "bad", 3), 0);
	json_decref(row);
	jobs_stop(j);
}

static void test_purge(void **state)
{
	struct fx *f = *state;
	int64_t now = now_ms(), day = 24LL * 3600 * 1000;
	insert_raw(f, "test.job", NULL, "done", 1, 5, NULL, 0, now - 10 * day);
	insert_raw(f, "test.job", NULL, "done", 1, 5, NULL, 0, now);
	insert_raw(f, "test.job", NULL, "dead", 5, 5, NULL, 0, now - 10 * day);
	int64_t n = -1;
	assert_int_equal(jobs_purge(f->c, 7 * day, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(count(f, NULL, "done"), 1);
	assert_int_equal(count(f, NULL, "dead"), 1);
}

/* Every database test, each with a fresh database of backend be. */
#define T(fn, be) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, be)
#define JOB_TESTS(be)                                                                              \
	T(test_enqueue_validation, be), T(test_enqueue_follows_transaction, be),                   \
		T(test_delay_postpones, be), T(test_success_runs_once, be),                        \
		T(test_fail_twice_then_succeed, be), T(test_always_failing_goes_dead, be),         \
		T(test_give_up_is_dead_at_once, be), T(test_unknown_kind_and_bad_payload, be),     \
		T(test_retry_from_dead, be), T(test_tenant_filter, be),                            \
		T(test_workers_never_share_a_job, be), T(test_crash_recovery, be),                 \
		T(test_lease_renewed_while_running, be),                                           \
		T(test_notify_wakes_and_stop_is_prompt, be), T(test_stop_lets_handler_finish, be), \
		T(test_register, be), T(test_error_text_is_cleaned, be), T(test_purge, be)

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_backoff_delay),
	};
	const struct CMUnitTest on_sqlite[] = {JOB_TESTS(&be_sqlite)};
	const struct CMUnitTest on_pg[] = {JOB_TESTS(&be_pg)};
	int failed = 0;

	failed += cmocka_run_group_tests_name("jobs", pure, NULL, NULL);
	failed += cmocka_run_group_tests_name("jobs/sqlite", on_sqlite, NULL, NULL);
	const char *pg = getenv("MADO_TEST_PG_URL");
	if (pg && *pg)
		failed += cmocka_run_group_tests_name("jobs/postgres", on_pg, NULL, NULL);
	else
		printf("[  SKIPPED ] jobs/postgres: MADO_TEST_PG_URL is not set\n");
	return failed ? 1 : 0;
}
