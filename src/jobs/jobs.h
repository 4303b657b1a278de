/* Durable background jobs: a queue kept in the database (table jobs), worker
 * threads that claim rows atomically, retries with exponential back-off and a
 * dead-letter state that administrators can see and retry.
 *
 * Life of a job:
 *
 *   queued ──claim──> running ──ok──> done
 *     ^                  │
 *     │                  ├─error, attempts < max──> failed (waits run_at_ms) ──claim──> running …
 *     │                  └─error, attempts = max, give-up, unknown kind──> dead
 *     └────────── jobs_retry() (attempts reset) ─────────────────────────────┘
 *
 * Delivery is at least once: a job whose worker dies (process killed, node
 * lost) is run again once its lease expires, so handlers must be idempotent.
 * Workers of a live process renew their leases, so a long handler is never
 * taken over while it runs.
 *
 * Threading: one struct jobs per process is enough; its workers and a
 * maintenance thread share it. jobs_enqueue() and the admin functions take a
 * caller's connection and may be called from any thread. */
#ifndef MADO_JOBS_H
#define MADO_JOBS_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

struct jobs;

/* The schema (module "jobs"), for db_migrate(). */
extern const struct db_migration jobs_migrations[];
extern const size_t jobs_nmigrations;

/* Limits. Enqueue refuses payloads whose compact JSON is larger. */
#define JOBS_PAYLOAD_MAX (1024 * 1024)
#define JOBS_KIND_MAX 64    /* kind: 1..64 of [a-z0-9_.-] */
#define JOBS_ERROR_MAX 1000 /* last_error is cut to this many bytes (valid UTF-8) */
#define JOBS_DEFAULT_ATTEMPTS 5
#define JOBS_MAX_ATTEMPTS 100
#define JOBS_MAX_WORKERS 64

/* A handler returns 0 on success, JOBS_GIVE_UP to send the job to 'dead'
 * without further attempts (bad payload, permanent refusal), and any other
 * non-zero value for a failure worth retrying. */
#define JOBS_GIVE_UP (-4242)

/* What a handler gets. Everything is owned by the worker and valid only
 * during the call (json_incref the payload to keep it). */
struct jobs_ctx {
	int64_t id;
	const char *lg_code; /* the tenant the job belongs to: stay inside it */
	const char *kind;
	json_t *payload; /* never NULL: JSON null when the job has none */
	int attempt;     /* 1 on the first run */
	int max_attempts;
	/* A connection for the handler, outside any transaction. The handler
	 * manages its own transactions; one left open is rolled back. The
	 * job's own 'done' is written afterwards, separately: keep handlers
	 * idempotent. */
	struct db_conn *conn;
	/* On failure, write a message for administrators here (Japanese; no
	 * personal data). NUL-terminated, errlen bytes of room. */
	char *err;
	size_t errlen;
	struct jobs *jobs;
};

typedef int (*jobs_fn)(struct jobs_ctx *ctx, void *user);

/* A queue runner with `workers` threads (0..JOBS_MAX_WORKERS; 0 makes an
 * object for registering kinds only, e.g. in CLI commands). db must outlive
 * it and should have a pool larger than `workers` (each running job holds a
 * connection). Never NULL. Free with jobs_free(). */
struct jobs *jobs_new(struct db *db, int workers);
/* Stops the workers if running (see jobs_stop) and frees everything. NULL is a no-op. */
void jobs_free(struct jobs *j);

/* Routes jobs of `kind` to fn(ctx, user). Call before jobs_start().
 * Returns 0, -EINVAL (bad kind or fn NULL), -EEXIST (kind already
 * registered), -EBUSY (workers already started) or -ENOSPC (256 kinds). */
int jobs_register(struct jobs *j, const char *kind, jobs_fn fn, void *user);

/* Tuning, before jobs_start(). Values <= 0 keep the current setting.
 * Back-off of attempt n: d = min(cap, base·2^(n-1)), less up to 25 % jitter
 *   (defaults: base 1 s, cap 1 h);
 * poll: how long an idle worker sleeps before looking again (default 1 s);
 * lease: a 'running' job whose lock is older is presumed abandoned and is
 *   re-queued (default 5 min; live workers renew theirs every lease/3);
 * retention: 'done' jobs older than this are deleted (default 7 days). */
void jobs_set_backoff(struct jobs *j, int64_t base_ms, int64_t cap_ms);
void jobs_set_poll(struct jobs *j, int64_t poll_ms);
void jobs_set_lease(struct jobs *j, int64_t lease_ms);
void jobs_set_retention(struct jobs *j, int64_t retention_ms);

/* Reclaims expired leases (crash recovery), then starts the workers and the
 * maintenance thread. With 0 workers it only reclaims. Returns 0, -EALREADY
 * if already started, -EAGAIN if a thread cannot be created, or a database
 * error (-EBUSY, -EIO) when the reclaim fails (nothing is started then). */
int jobs_start(struct jobs *j);
/* Stops claiming, lets running handlers finish, joins every thread. A handler
 * can see the request with jobs_ctx_stopping(). Never call from a handler.
 * No-op when not started. jobs_start() may be called again afterwards. */
void jobs_stop(struct jobs *j);
/* Wakes an idle worker now. Call after committing the transaction that
 * enqueued a job, so that it starts without waiting for the next poll. */
void jobs_notify(struct jobs *j);
/* True once jobs_stop() was called: long handlers may return early (a
 * failure, retried later). */
bool jobs_ctx_stopping(const struct jobs_ctx *ctx);

/* Adds a job on the caller's connection, inside the caller's transaction if
 * one is open (so the job exists if and only if the data that caused it is
 * committed). lg_code: a valid 全国地方公共団体コード
 * (check digit included). kind: see JOBS_KIND_MAX. payload may
 * be NULL; it is not consumed (the caller keeps its reference).
 * max_attempts <= 0 means JOBS_DEFAULT_ATTEMPTS; it is capped at
 * JOBS_MAX_ATTEMPTS. delay_ms (>= 0) postpones the first run.
 * *id_out (may be NULL) gets the job id. Returns 0, -EINVAL, -E2BIG, or a
 * database error (-EBUSY, -EIO; details in db_errmsg(c)). */
int jobs_enqueue(struct db_conn *c, const char *lg_code, const char *kind, json_t *payload,
		 int max_attempts, int64_t delay_ms, int64_t *id_out);

/* ---- administration (the caller checks the permission "jobs.admin") ---- */

/* *out = a new object {"queued":n,"running":n,"done":n,"failed":n,"dead":n}
 * (every state present) for one municipality, or for all when lg_code is
 * NULL (aggregate figures for /metrics). The caller json_decref()s it. */
int jobs_counts(struct db_conn *c, const char *lg_code, json_t **out);

/* *out = a new array of the newest jobs of lg_code (required), optionally of
 * one state (NULL for all), at most limit (1..1000; others mean 100):
 * objects {id, lg_code, kind, state, attempts, max_attempts, run_at_ms,
 * locked_by, last_error, created_at_ms, updated_at_ms}. Payloads are not
 * included: they may hold personal data. */
int jobs_list(struct db_conn *c, const char *lg_code, const char *state, int limit, json_t **out);

/* Sends a dead job of lg_code back to the queue, attempts reset, to run now.
 * Returns 0, -ENOENT (no such job in this municipality), -EINVAL (the job is
 * not dead) or a database error. Call jobs_notify() after a commit. */
int jobs_retry(struct db_conn *c, const char *lg_code, int64_t id);

/* Puts 'running' jobs whose lock is older than lease_ms back to 'failed'
 * (due now), or to 'dead' when their attempts are used up. The workers do
 * this themselves; exposed for CLI commands and tests. *n_out (may be NULL)
 * gets the number of rows. */
int jobs_reclaim(struct db_conn *c, int64_t lease_ms, int64_t *n_out);

/* Deletes up to 1000 'done' jobs last updated more than older_than_ms ago.
 * *n_out (may be NULL) gets the number deleted. */
int jobs_purge(struct db_conn *c, int64_t older_than_ms, int64_t *n_out);

/* The back-off before attempt `failed_attempts + 1`, in ms: d = min(cap,
 * base·2^(failed_attempts-1)), minus rnd mod (d/4 + 1). Never above cap,
 * never overflows. Pure: exposed for tests. */
int64_t jobs_backoff_delay(int failed_attempts, int64_t base_ms, int64_t cap_ms, uint64_t rnd);

/* A short English description of a code returned by this module. */
const char *jobs_strerror(int rc);

#endif
