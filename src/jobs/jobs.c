/* The durable job queue: its schema, enqueue and administration on any
 * connection, and the worker threads that claim, run, retry and bury jobs.
 * jobs.h shows the life of a job; docs/internals/jobs.md explains the design. */
#include "jobs/jobs.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/lgcode.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/xalloc.h"

const struct db_migration jobs_migrations[] = {
	{1,
	 "CREATE TABLE jobs ("
	 " id AUTOINCREMENT_PK,"
	 " lg_code TEXT NOT NULL,"
	 " kind TEXT NOT NULL,"
	 " payload TEXT,"
	 " state TEXT NOT NULL DEFAULT 'queued'"
	 "  CHECK (state IN ('queued','running','done','failed','dead')),"
	 " attempts INTEGER NOT NULL DEFAULT 0,"
	 " max_attempts INTEGER NOT NULL DEFAULT 5,"
	 " run_at_ms BIGINT NOT NULL,"
	 " locked_by TEXT,"
	 " locked_at_ms BIGINT,"
	 " last_error TEXT,"
	 " created_at_ms BIGINT NOT NULL,"
	 " updated_at_ms BIGINT NOT NULL);"
	 "CREATE INDEX jobs_state_run_at ON jobs(state, run_at_ms);"
	 "CREATE INDEX jobs_lg_state ON jobs(lg_code, state, id);",
	 NULL},
	{0, NULL, NULL}, /* end marker (module registry) */
};
const size_t jobs_nmigrations = sizeof jobs_migrations / sizeof jobs_migrations[0] - 1;

#define JOBS_MAX_KINDS 256
#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define DELAY_MAX_MS (10LL * 366 * 24 * 3600 * 1000) /* ten years */
#define FINISH_TRIES 5
#define HANDLER_ERR_LEN 2048

/* ---- SQL (static text only: every value is a bound parameter) ---- */

static const char SQL_INSERT[] =
	"INSERT INTO jobs (lg_code, kind, payload, state, attempts, max_attempts, run_at_ms,"
	" created_at_ms, updated_at_ms) VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?) RETURNING id";

/* The inner SELECT picks the next due job; the outer WHERE repeats the state
 * test so that a row taken by someone else in the meantime is not taken
 * twice. SQLite serialises writers, so the statement is atomic there; on
 * PostgreSQL, FOR UPDATE SKIP LOCKED makes concurrent claimers pass over each
 * other's rows instead of queueing behind them. */
#define CLAIM_HEAD                                                                                 \
	"UPDATE jobs SET state = 'running', locked_by = ?, locked_at_ms = ?,"                      \
	" attempts = attempts + 1, updated_at_ms = ?"                                              \
	" WHERE id = (SELECT id FROM jobs WHERE state IN ('queued','failed') AND run_at_ms <= ?"   \
	" ORDER BY run_at_ms, id LIMIT 1"
#define CLAIM_TAIL                                                                                 \
	") AND state IN ('queued','failed')"                                                       \
	" RETURNING id, lg_code, kind, payload, attempts, max_attempts"
static const char SQL_CLAIM_SQLITE[] = CLAIM_HEAD CLAIM_TAIL;
static const char SQL_CLAIM_PG[] = CLAIM_HEAD " FOR UPDATE SKIP LOCKED" CLAIM_TAIL;

static const char SQL_DONE[] =
	"UPDATE jobs SET state = 'done', locked_by = NULL, locked_at_ms = NULL, updated_at_ms = ?"
	" WHERE id = ? AND state = 'running' AND locked_by = ?";
static const char SQL_FAIL[] =
	"UPDATE jobs SET state = ?, last_error = ?, run_at_ms = ?, locked_by = NULL,"
	" locked_at_ms = NULL, updated_at_ms = ? WHERE id = ? AND state = 'running' AND locked_by = ?";
static const char SQL_HEARTBEAT[] =
	"UPDATE jobs SET locked_at_ms = ? WHERE id = ? AND state = 'running' AND locked_by = ?";
static const char SQL_RECLAIM[] =
	"UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'failed' END,"
	" last_error = ?, run_at_ms = ?, locked_by = NULL, locked_at_ms = NULL, updated_at_ms = ?"
	" WHERE state = 'running' AND (locked_at_ms IS NULL OR locked_at_ms < ?)";
static const char SQL_PURGE[] =
	"DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'done'"
	" AND updated_at_ms < ? ORDER BY id LIMIT 1000)";
static const char SQL_COUNTS_ALL[] = "SELECT state, COUNT(*) FROM jobs GROUP BY state";
static const char SQL_COUNTS_LG[] =
	"SELECT state, COUNT(*) FROM jobs WHERE lg_code = ? GROUP BY state";
#define LIST_COLS                                                                                  \
	"SELECT id, lg_code, kind, state, attempts, max_attempts, run_at_ms, locked_by,"           \
	" last_error, created_at_ms, updated_at_ms FROM jobs WHERE lg_code = ?"
static const char SQL_LIST[] = LIST_COLS " ORDER BY id DESC LIMIT ?";
static const char SQL_LIST_STATE[] = LIST_COLS " AND state = ? ORDER BY id DESC LIMIT ?";
static const char SQL_RETRY[] =
	"UPDATE jobs SET state = 'queued', attempts = 0, run_at_ms = ?, locked_by = NULL,"
	" locked_at_ms = NULL, updated_at_ms = ? WHERE id = ? AND lg_code = ? AND state = 'dead'";
static const char SQL_EXISTS[] = "SELECT state FROM jobs WHERE id = ? AND lg_code = ?";

/* Messages stored in last_error are read by administrators: Japanese. */
#define MSG_LEASE "ワーカーが応答しなくなったため、実行を打ち切りました（リース期限切れ）。"
#define MSG_UNKNOWN_KIND "種類「%s」のジョブを処理するハンドラーが登録されていません。"
#define MSG_BAD_PAYLOAD "ペイロードの JSON を読み込めません（%d 行 %d 列）。"
#define MSG_HANDLER_RC "ハンドラーが失敗しました（コード %d）。"

static const char *const STATES[] = {"queued", "running", "done", "failed", "dead"};

/* ---- the runner ---- */

struct kind_entry {
	char *kind;
	jobs_fn fn;
	void *user;
};

struct worker {
	struct jobs *j;
	int index;
	pthread_t thread;
	bool started;
	bool failing;               /* last claim failed: log recovery once */
	char id[160];               /* our locked_by value */
	_Atomic int64_t running_id; /* job being run, 0 when idle; read by the maintenance thread */
	uint64_t rng;
};

struct jobs {
	struct db *db;
	int nworkers;
	struct kind_entry *kinds;
	size_t nkinds;
	int64_t base_ms, cap_ms, poll_ms, lease_ms, retention_ms;
	char instance[128];

	pthread_mutex_t mu;
	pthread_cond_t wake;       /* idle workers: notify, stop */
	pthread_cond_t maint_wake; /* maintenance thread: stop */
	uint64_t gen;              /* bumped by jobs_notify; under mu */
	bool stopping;             /* under mu */
	atomic_bool stop_flag;     /* the same, for handlers, without the lock */

	bool started; /* only touched by the controlling thread */
	struct worker *workers;
	pthread_t maint;
	bool maint_started;
};

struct claimed {
	int64_t id;
	char *lg_code;
	char *kind;
	char *payload;
	int attempts;
	int max_attempts;
};

/* ---- small helpers ---- */

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

static struct timespec mono_deadline(int64_t after_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += after_ms / 1000;
	ts.tv_nsec += (long)(after_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* splitmix64: jitter only, nothing secret depends on it. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rng_seed(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
		s = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&s;
	return s;
}

/* Database codes become errno-style codes, so that they cannot be mistaken
 * for this module's own (DB_ECONSTRAINT is -2, which is also -ENOENT). */
static int db_err(int rc)
{
	if (rc >= 0)
		return rc;
	return rc == DB_EBUSY ? -EBUSY : -EIO;
}

static bool valid_lg_code(const char *s)
{
	return s && lgcode_valid(s);
}

static bool valid_kind(const char *s)
{
	size_t n = 0;
	if (!s)
		return false;
	for (; s[n]; n++) {
		char ch = s[n];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
			  ch == '.' || ch == '-';
		if (!ok || n >= JOBS_KIND_MAX)
			return false;
	}
	return n > 0;
}

static bool valid_state(const char *s)
{
	if (!s)
		return false;
	for (size_t i = 0; i < sizeof STATES / sizeof STATES[0]; i++)
		if (strcmp(s, STATES[i]) == 0)
			return true;
	return false;
}

/* Copies in to out (outlen >= 1 bytes of room) as valid UTF-8 without control
 * characters other than TAB and LF, cut on a character boundary: what
 * PostgreSQL's TEXT accepts and an admin page can show. */
static void clean_text(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in), i = 0, o = 0;
	assert(outlen >= 1);
	while (i < n) {
		uint32_t cp = 0;
		char enc[4];
		utf8_next(in, n, &i, &cp); /* invalid bytes come back as U+FFFD */
		if ((cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp <= 0x9f))
			cp = ' ';
		size_t m = utf8_encode(cp, enc);
		if (m == 0 || o + m + 1 > outlen)
			break;
		memcpy(out + o, enc, m);
		o += m;
	}
	out[o] = '\0';
}

/* A JSON string for a nullable text column; invalid UTF-8 is cleaned first. */
static json_t *json_text(const char *s)
{
	if (!s)
		return json_null();
	json_t *v = json_string(s);
	if (v)
		return v;
	size_t n = strlen(s) * 3 + 1; /* each byte may become U+FFFD (3 bytes) */
	char *tmp = xmalloc(n);
	clean_text(s, tmp, n);
	v = json_string(tmp);
	free(tmp);
	return v ? v : json_null();
}

/* ---- back-off ---- */

int64_t jobs_backoff_delay(int failed_attempts, int64_t base_ms, int64_t cap_ms, uint64_t rnd)
{
	if (base_ms < 1)
		base_ms = 1;
	if (cap_ms < 1)
		cap_ms = base_ms;
	if (failed_attempts < 1)
		failed_attempts = 1;
	int64_t d = base_ms < cap_ms ? base_ms : cap_ms;
	for (int i = 1; i < failed_attempts && d < cap_ms; i++)
		d = d > cap_ms / 2 ? cap_ms : d * 2;
	return d - (int64_t)(rnd % (uint64_t)(d / 4 + 1));
}

/* ---- enqueue ---- */

struct dump_ctx {
	struct buf b;
	int rc;
};

static int dump_cb(const char *p, size_t n, void *data)
{
	struct dump_ctx *d = data;
	int rc = buf_append(&d->b, p, n);
	if (rc < 0) {
		d->rc = rc;
		return -1;
	}
	return 0;
}

int jobs_enqueue(struct db_conn *c, const char *lg_code, const char *kind, json_t *payload,
		 int max_attempts, int64_t delay_ms, int64_t *id_out)
{
	struct dump_ctx d = {.rc = 0};
	struct db_stmt *st = NULL;
	int rc = -EINVAL;

	buf_init(&d.b, JOBS_PAYLOAD_MAX);
	if (!c || !valid_lg_code(lg_code) || !valid_kind(kind))
		goto out;
	if (payload) {
		if (json_dump_callback(payload, dump_cb, &d, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
			rc = d.rc < 0 ? d.rc : -EINVAL;
			goto out;
		}
		if (d.b.len == 0)
			goto out;
	}
	if (max_attempts <= 0)
		max_attempts = JOBS_DEFAULT_ATTEMPTS;
	if (max_attempts > JOBS_MAX_ATTEMPTS)
		max_attempts = JOBS_MAX_ATTEMPTS;
	if (delay_ms < 0)
		delay_ms = 0;
	if (delay_ms > DELAY_MAX_MS)
		delay_ms = DELAY_MAX_MS;

	int64_t now = now_ms();
	rc = db_prepare(c, SQL_INSERT, &st);
	if (rc < 0)
		goto db_out;
	db_bind_text(st, 1, lg_code);
	db_bind_text(st, 2, kind);
	if (payload)
		db_bind_textn(st, 3, d.b.p, d.b.len);
	else
		db_bind_null(st, 3);
	db_bind_int64(st, 4, max_attempts);
	db_bind_int64(st, 5, now + delay_ms);
	db_bind_int64(st, 6, now);
	rc = db_bind_int64(st, 7, now);
	if (rc < 0)
		goto db_out;
	rc = db_step(st);
	if (rc != DB_ROW) {
		rc = rc < 0 ? rc : DB_EFAIL;
		goto db_out;
	}
	int64_t id = db_col_int64(st, 0);
	rc = db_step(st); /* finish the statement so that it is complete */
	if (rc < 0)
		goto db_out;
	if (id_out)
		*id_out = id;
	rc = 0;
db_out:
	rc = db_err(rc);
out:
	if (st)
		db_done(st);
	buf_release(&d.b);
	return rc;
}

/* ---- administration ---- */

int jobs_counts(struct db_conn *c, const char *lg_code, json_t **out)
{
	struct db_stmt *st = NULL;
	json_t *o = NULL;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!c || (lg_code && !valid_lg_code(lg_code)))
		return -EINVAL;
	o = json_object();
	for (size_t i = 0; i < sizeof STATES / sizeof STATES[0]; i++)
		json_object_set_new(o, STATES[i], json_integer(0));
	rc = db_prepare(c, lg_code ? SQL_COUNTS_LG : SQL_COUNTS_ALL, &st);
	if (rc < 0)
		goto out;
	if (lg_code && (rc = db_bind_text(st, 1, lg_code)) < 0)
		goto out;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *state = db_col_text(st, 0);
		if (valid_state(state))
			json_object_set_new(o, state, json_integer(db_col_int64(st, 1)));
	}
	if (rc < 0)
		goto out;
	*out = o;
	o = NULL;
	rc = 0;
out:
	if (st)
		db_done(st);
	json_decref(o);
	return db_err(rc);
}

int jobs_list(struct db_conn *c, const char *lg_code, const char *state, int limit, json_t **out)
{
	struct db_stmt *st = NULL;
	json_t *arr = NULL;
	int rc, idx = 1;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!c || !valid_lg_code(lg_code) || (state && !valid_state(state)))
		return -EINVAL;
	if (limit < 1 || limit > LIST_MAX)
		limit = LIST_DEFAULT;
	rc = db_prepare(c, state ? SQL_LIST_STATE : SQL_LIST, &st);
	if (rc < 0)
		goto out;
	db_bind_text(st, idx++, lg_code);
	if (state)
		db_bind_text(st, idx++, state);
	if ((rc = db_bind_int64(st, idx, limit)) < 0)
		goto out;
	arr = json_array();
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(db_col_int64(st, 0)));
		json_object_set_new(o, "lg_code", json_text(db_col_text(st, 1)));
		json_object_set_new(o, "kind", json_text(db_col_text(st, 2)));
		json_object_set_new(o, "state", json_text(db_col_text(st, 3)));
		json_object_set_new(o, "attempts", json_integer(db_col_int64(st, 4)));
		json_object_set_new(o, "max_attempts", json_integer(db_col_int64(st, 5)));
		json_object_set_new(o, "run_at_ms", json_integer(db_col_int64(st, 6)));
		json_object_set_new(o, "locked_by", json_text(db_col_text(st, 7)));
		json_object_set_new(o, "last_error", json_text(db_col_text(st, 8)));
		json_object_set_new(o, "created_at_ms", json_integer(db_col_int64(st, 9)));
		json_object_set_new(o, "updated_at_ms", json_integer(db_col_int64(st, 10)));
		json_array_append_new(arr, o);
	}
	if (rc < 0)
		goto out;
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	if (st)
		db_done(st);
	json_decref(arr);
	return db_err(rc);
}

int jobs_retry(struct db_conn *c, const char *lg_code, int64_t id)
{
	struct db_stmt *st = NULL;
	int rc = -EINVAL;

	if (!c || !valid_lg_code(lg_code) || id <= 0)
		return -EINVAL;
	int64_t now = now_ms();
	rc = db_prepare(c, SQL_RETRY, &st);
	if (rc < 0)
		goto db_out;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, id);
	if ((rc = db_bind_text(st, 4, lg_code)) < 0)
		goto db_out;
	rc = db_step(st);
	if (rc < 0)
		goto db_out;
	int64_t changed = db_changes(st);
	db_done(st);
	st = NULL;
	if (changed > 0) {
		rc = 0;
		goto out;
	}
	/* Nothing changed: tell "not yours / not there" from "not dead". */
	rc = db_prepare(c, SQL_EXISTS, &st);
	if (rc < 0)
		goto db_out;
	db_bind_int64(st, 1, id);
	if ((rc = db_bind_text(st, 2, lg_code)) < 0)
		goto db_out;
	rc = db_step(st);
	if (rc < 0)
		goto db_out;
	rc = rc == DB_ROW ? -EINVAL : -ENOENT;
	goto out;
db_out:
	rc = db_err(rc);
out:
	if (st)
		db_done(st);
	return rc;
}

int jobs_reclaim(struct db_conn *c, int64_t lease_ms, int64_t *n_out)
{
	struct db_stmt *st = NULL;
	int rc;

	if (!c || lease_ms < 0)
		return -EINVAL;
	int64_t now = now_ms();
	rc = db_prepare(c, SQL_RECLAIM, &st);
	if (rc < 0)
		goto out;
	db_bind_text(st, 1, MSG_LEASE);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, now);
	if ((rc = db_bind_int64(st, 4, now - lease_ms)) < 0)
		goto out;
	rc = db_step(st);
	if (rc < 0)
		goto out;
	if (n_out)
		*n_out = db_changes(st);
	rc = 0;
out:
	if (st)
		db_done(st);
	return db_err(rc);
}

int jobs_purge(struct db_conn *c, int64_t older_than_ms, int64_t *n_out)
{
	struct db_stmt *st = NULL;
	int rc;

	if (!c || older_than_ms < 0)
		return -EINVAL;
	rc = db_prepare(c, SQL_PURGE, &st);
	if (rc < 0)
		goto out;
	if ((rc = db_bind_int64(st, 1, now_ms() - older_than_ms)) < 0)
		goto out;
	rc = db_step(st);
	if (rc < 0)
		goto out;
	if (n_out)
		*n_out = db_changes(st);
	rc = 0;
out:
	if (st)
		db_done(st);
	return db_err(rc);
}

const char *jobs_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid argument, or the job is not in a state that allows this";
	case -E2BIG:
		return "payload too large";
	case -ENOENT:
		return "no such job in this municipality";
	case -EEXIST:
		return "job kind already registered";
	case -ENOSPC:
		return "too many job kinds";
	case -EALREADY:
		return "job workers already started";
	case -EAGAIN:
		return "cannot create a worker thread";
	case -EBUSY:
		return "database busy (retry), or workers already running";
	case -EIO:
		return "database error";
	default:
		return "unknown error";
	}
}

/* ---- the runner: configuration ---- */

static void make_instance(struct jobs *j)
{
	char host[64] = "";
	uint32_t r = (uint32_t)rng_seed();
	if (gethostname(host, sizeof host) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	for (char *p = host; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '.' || *p == '-';
		if (!ok)
			*p = '_';
	}
	snprintf(j->instance, sizeof j->instance, "%s:%ld:%08" PRIx32, host[0] ? host : "host",
		 (long)getpid(), r);
}

struct jobs *jobs_new(struct db *db, int workers)
{
	pthread_condattr_t ca;
	struct jobs *j = xcalloc(1, sizeof *j);

	assert(db);
	j->db = db;
	j->nworkers = workers < 0 ? 0 : workers > JOBS_MAX_WORKERS ? JOBS_MAX_WORKERS : workers;
	j->base_ms = 1000;
	j->cap_ms = 3600 * 1000;
	j->poll_ms = 1000;
	j->lease_ms = 5 * 60 * 1000;
	j->retention_ms = 7LL * 24 * 3600 * 1000;
	make_instance(j);
	pthread_mutex_init(&j->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->wake, &ca);
	pthread_cond_init(&j->maint_wake, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&j->stop_flag, false);
	return j;
}

void jobs_free(struct jobs *j)
{
	if (!j)
		return;
	jobs_stop(j);
	for (size_t i = 0; i < j->nkinds; i++)
		free(j->kinds[i].kind);
	free(j->kinds);
	pthread_cond_destroy(&j->wake);
	pthread_cond_destroy(&j->maint_wake);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static struct kind_entry *find_kind(struct jobs *j, const char *kind)
{
	for (size_t i = 0; i < j->nkinds; i++)
		if (strcmp(j->kinds[i].kind, kind) == 0)
			return &j->kinds[i];
	return NULL;
}

int jobs_register(struct jobs *j, const char *kind, jobs_fn fn, void *user)
{
	if (!j || !fn || !valid_kind(kind))
		return -EINVAL;
	/* Workers read the table without a lock: it is frozen while they run. */
	if (j->started)
		return -EBUSY;
	if (find_kind(j, kind))
		return -EEXIST;
	if (j->nkinds >= JOBS_MAX_KINDS)
		return -ENOSPC;
	j->kinds = xrealloc(j->kinds, (j->nkinds + 1) * sizeof *j->kinds);
	j->kinds[j->nkinds++] = (struct kind_entry){.kind = xstrdup(kind), .fn = fn, .user = user};
	return 0;
}

void jobs_set_backoff(struct jobs *j, int64_t base_ms, int64_t cap_ms)
{
	if (base_ms > 0)
		j->base_ms = base_ms;
	if (cap_ms > 0)
		j->cap_ms = cap_ms;
}

void jobs_set_poll(struct jobs *j, int64_t poll_ms)
{
	if (poll_ms > 0)
		j->poll_ms = poll_ms;
}

void jobs_set_lease(struct jobs *j, int64_t lease_ms)
{
	if (lease_ms > 0)
		j->lease_ms = lease_ms < 30 ? 30 : lease_ms;
}

void jobs_set_retention(struct jobs *j, int64_t retention_ms)
{
	if (retention_ms > 0)
		j->retention_ms = retention_ms;
}

void jobs_notify(struct jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	j->gen++;
	pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->mu);
}

bool jobs_ctx_stopping(const struct jobs_ctx *ctx)
{
	return ctx && ctx->jobs && atomic_load(&ctx->jobs->stop_flag);
}

/* ---- the runner: one job ---- */

static void claimed_release(struct claimed *cj)
{
	free(cj->lg_code);
	free(cj->kind);
	free(cj->payload);
	memset(cj, 0, sizeof *cj);
}

/* Takes the next due job. Returns 1 with *cj filled, 0 when none is due, or
 * a database error (DB_E*). */
static int claim(struct worker *w, struct db_conn *c, struct claimed *cj)
{
	struct jobs *j = w->j;
	struct db_stmt *st = NULL;
	int64_t now = now_ms();
	const char *sql = db_kind(j->db) == DB_POSTGRES ? SQL_CLAIM_PG : SQL_CLAIM_SQLITE;
	int rc = db_prepare(c, sql, &st);
	if (rc < 0)
		goto out;
	db_bind_text(st, 1, w->id);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, now);
	if ((rc = db_bind_int64(st, 4, now)) < 0)
		goto out;
	rc = db_step(st);
	if (rc != DB_ROW) {
		rc = rc == DB_DONE ? 0 : rc;
		goto out;
	}
	const char *lg = db_col_text(st, 1), *kind = db_col_text(st, 2);
	const char *payload = db_col_text(st, 3);
	cj->id = db_col_int64(st, 0);
	cj->lg_code = xstrdup(lg ? lg : "");
	cj->kind = xstrdup(kind ? kind : "");
	cj->payload = payload ? xstrdup(payload) : NULL;
	cj->attempts = (int)db_col_int64(st, 4);
	cj->max_attempts = (int)db_col_int64(st, 5);
	/* Step to the end: on SQLite the autocommit transaction completes (and
	 * can only fail) there. */
	rc = db_step(st);
	if (rc < 0) {
		claimed_release(cj);
		goto out;
	}
	rc = 1;
out:
	if (st)
		db_done(st);
	return rc;
}

enum outcome { OUT_DONE, OUT_RETRY, OUT_DEAD };

/* Runs the handler of cj on its own connection. Fills err for failures. */
static enum outcome run_handler(struct worker *w, struct claimed *cj, char *err, size_t errlen)
{
	struct jobs *j = w->j;
	struct kind_entry *k = find_kind(j, cj->kind);
	json_t *payload = NULL;
	char *herr = NULL;
	enum outcome res = OUT_DEAD;

	err[0] = '\0';
	if (!k) {
		snprintf(err, errlen, MSG_UNKNOWN_KIND, cj->kind);
		goto out;
	}
	if (cj->payload) {
		json_error_t jerr;
		payload = json_loads(cj->payload, JSON_DECODE_ANY, &jerr);
		if (!payload) {
			snprintf(err, errlen, MSG_BAD_PAYLOAD, jerr.line, jerr.column);
			goto out;
		}
	} else {
		payload = json_null();
	}

	herr = xcalloc(1, HANDLER_ERR_LEN);
	struct jobs_ctx ctx = {
		.id = cj->id,
		.lg_code = cj->lg_code,
		.kind = cj->kind,
		.payload = payload,
		.attempt = cj->attempts,
		.max_attempts = cj->max_attempts,
		.conn = db_acquire(j->db),
		.err = herr,
		.errlen = HANDLER_ERR_LEN,
		.jobs = j,
	};
	int hrc = k->fn(&ctx, k->user);
	db_release(ctx.conn); /* rolls back a transaction the handler left open */
	herr[HANDLER_ERR_LEN - 1] = '\0';
	if (hrc == 0) {
		res = OUT_DONE;
		goto out;
	}
	if (herr[0])
		snprintf(err, errlen, "%s", herr);
	else
		snprintf(err, errlen, MSG_HANDLER_RC, hrc);
	res = hrc == JOBS_GIVE_UP || cj->attempts >= cj->max_attempts ? OUT_DEAD : OUT_RETRY;
out:
	free(herr);
	json_decref(payload);
	return res;
}

/* Records the outcome, retrying briefly when the database is busy. Our
 * WHERE locked_by = ? keeps us from overwriting a job whose lease we lost. */
static void finish(struct worker *w, struct claimed *cj, enum outcome res, const char *msg)
{
	struct jobs *j = w->j;
	char clean[JOBS_ERROR_MAX + 1];
	int rc = 0;
	int64_t changed = 0;

	clean_text(msg, clean, sizeof clean);
	for (int attempt = 0; attempt < FINISH_TRIES; attempt++) {
		struct db_conn *c = db_acquire(j->db);
		struct db_stmt *st = NULL;
		int64_t now = now_ms();
		int idx = 1;
		rc = db_prepare(c, res == OUT_DONE ? SQL_DONE : SQL_FAIL, &st);
		if (rc == 0) {
			if (res != OUT_DONE) {
				int64_t delay = jobs_backoff_delay(cj->attempts, j->base_ms,
								   j->cap_ms, rng_next(&w->rng));
				db_bind_text(st, idx++, res == OUT_DEAD ? "dead" : "failed");
				db_bind_text(st, idx++, clean);
				db_bind_int64(st, idx++, res == OUT_DEAD ? now : now + delay);
			}
			db_bind_int64(st, idx++, now);
			db_bind_int64(st, idx++, cj->id);
			rc = db_bind_text(st, idx, w->id);
			if (rc == 0)
				rc = db_step(st);
			if (rc >= 0) {
				changed = db_changes(st);
				rc = 0;
			}
		}
		if (rc < 0)
			log_warn("jobs: recording the outcome of job %" PRId64 " failed: %s",
				 cj->id, db_errmsg(c));
		if (st)
			db_done(st);
		db_release(c);
		if ((rc != DB_EBUSY && rc != DB_ECONN) || attempt + 1 == FINISH_TRIES)
			break;
		sleep_ms(100LL << attempt);
	}
	if (rc < 0)
		log_error("jobs: job %" PRId64 " outcome lost; it will run again after its lease",
			  cj->id);
	else if (changed == 0)
		log_warn("jobs: job %" PRId64 " lease was lost while it ran; outcome not recorded",
			 cj->id);
	else if (res == OUT_DEAD)
		log_warn("jobs: job %" PRId64 " (%s) is dead after %d attempt(s)", cj->id, cj->kind,
			 cj->attempts);
	else if (res == OUT_RETRY)
		log_info("jobs: job %" PRId64 " (%s) failed attempt %d/%d; will retry", cj->id,
			 cj->kind, cj->attempts, cj->max_attempts);
}

/* Claims and runs one job. Returns 1 when one ran, 0 when none was due, < 0
 * on a database error. */
static int worker_run_one(struct worker *w)
{
	struct jobs *j = w->j;
	struct claimed cj = {0};
	char err[JOBS_ERROR_MAX + 1];

	struct db_conn *c = db_acquire(j->db);
	int rc = claim(w, c, &cj);
	if (rc < 0 && !w->failing)
		log_warn("jobs: worker %d cannot claim jobs: %s", w->index, db_errmsg(c));
	db_release(c);
	if (rc < 0) {
		w->failing = true;
		return rc;
	}
	if (w->failing)
		log_info("jobs: worker %d claims jobs again", w->index);
	w->failing = false;
	if (rc == 0)
		return 0;

	atomic_store(&w->running_id, cj.id);
	jobs_notify(j); /* there may be more: let an idle worker look too */
	enum outcome res = run_handler(w, &cj, err, sizeof err);
	finish(w, &cj, res, err);
	atomic_store(&w->running_id, 0);
	claimed_release(&cj);
	return 1;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct jobs *j = w->j;

	for (;;) {
		pthread_mutex_lock(&j->mu);
		bool stop = j->stopping;
		uint64_t gen0 = j->gen;
		pthread_mutex_unlock(&j->mu);
		if (stop)
			break;
		if (worker_run_one(w) > 0)
			continue;
		/* Idle (or the database failed): sleep until the next poll, a
		 * notify that came after we looked, or stop. */
		struct timespec dl = mono_deadline(j->poll_ms);
		pthread_mutex_lock(&j->mu);
		while (!j->stopping && j->gen == gen0)
			if (pthread_cond_timedwait(&j->wake, &j->mu, &dl) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&j->mu);
	}
	return NULL;
}

/* ---- the runner: leases ---- */

/* Renews the lease of every job our workers are running. */
static void heartbeat(struct jobs *j)
{
	struct db_conn *c = NULL;
	for (int i = 0; i < j->nworkers; i++) {
		struct worker *w = &j->workers[i];
		int64_t id = atomic_load(&w->running_id);
		struct db_stmt *st = NULL;
		if (id == 0)
			continue;
		if (!c)
			c = db_acquire(j->db);
		int rc = db_prepare(c, SQL_HEARTBEAT, &st);
		if (rc == 0) {
			db_bind_int64(st, 1, now_ms());
			db_bind_int64(st, 2, id);
			rc = db_bind_text(st, 3, w->id);
			if (rc == 0)
				rc = db_step(st);
		}
		if (rc < 0)
			log_warn("jobs: cannot renew the lease of job %" PRId64 ": %s", id,
				 db_errmsg(c));
		if (st)
			db_done(st);
	}
	if (c)
		db_release(c);
}

/* Reclaims jobs abandoned by dead processes and deletes old finished ones. */
static void sweep(struct jobs *j)
{
	struct db_conn *c = db_acquire(j->db);
	int64_t n = 0;
	if (jobs_reclaim(c, j->lease_ms, &n) < 0)
		log_warn("jobs: reclaiming expired leases failed: %s", db_errmsg(c));
	else if (n > 0)
		log_warn("jobs: reclaimed %" PRId64 " job(s) whose worker stopped responding", n);
	if (jobs_purge(c, j->retention_ms, &n) < 0)
		log_warn("jobs: purging finished jobs failed: %s", db_errmsg(c));
	db_release(c);
}

static void *maint_main(void *arg)
{
	struct jobs *j = arg;
	int64_t beat = j->lease_ms / 3, every = j->lease_ms / 2;
	int64_t next_sweep = mono_ms() + every;

	for (;;) {
		struct timespec dl = mono_deadline(beat);
		pthread_mutex_lock(&j->mu);
		while (!j->stopping)
			if (pthread_cond_timedwait(&j->maint_wake, &j->mu, &dl) == ETIMEDOUT)
				break;
		bool stop = j->stopping;
		pthread_mutex_unlock(&j->mu);
		if (stop)
			break;
		heartbeat(j);
		if (mono_ms() >= next_sweep) {
			sweep(j);
			next_sweep = mono_ms() + every;
		}
	}
	return NULL;
}

/* ---- the runner: start and stop ---- */

/* Threads get the process-directed signals blocked, so that the server's
 * signal handling stays on its own thread and a handler writing to a closed
 * socket sees EPIPE instead of dying of SIGPIPE. */
static int spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	int rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -EAGAIN;
}

int jobs_start(struct jobs *j)
{
	int64_t n = 0;
	int rc;

	if (j->started)
		return -EALREADY;
	/* Crash recovery before any worker runs: jobs left 'running' by a
	 * previous process whose lease has expired go back to the queue. */
	struct db_conn *c = db_acquire(j->db);
	rc = jobs_reclaim(c, j->lease_ms, &n);
	if (rc < 0)
		log_error("jobs: cannot reclaim abandoned jobs at start: %s", db_errmsg(c));
	db_release(c);
	if (rc < 0)
		return rc;
	if (n > 0)
		log_warn("jobs: reclaimed %" PRId64 " job(s) left running by a stopped process", n);
	if (j->nworkers == 0)
		return 0;

	pthread_mutex_lock(&j->mu);
	j->stopping = false;
	pthread_mutex_unlock(&j->mu);
	atomic_store(&j->stop_flag, false);
	j->workers = xcalloc((size_t)j->nworkers, sizeof *j->workers);
	j->started = true;
	for (int i = 0; i < j->nworkers; i++) {
		struct worker *w = &j->workers[i];
		w->j = j;
		w->index = i;
		w->rng = rng_seed();
		atomic_init(&w->running_id, 0);
		snprintf(w->id, sizeof w->id, "%s/w%d", j->instance, i);
	}
	for (int i = 0; i < j->nworkers; i++) {
		if ((rc = spawn(&j->workers[i].thread, worker_main, &j->workers[i])) < 0)
			goto fail;
		j->workers[i].started = true;
	}
	if ((rc = spawn(&j->maint, maint_main, j)) < 0)
		goto fail;
	j->maint_started = true;
	log_info("jobs: %d worker(s) started as %s", j->nworkers, j->instance);
	return 0;
fail:
	log_error("jobs: cannot create a worker thread");
	jobs_stop(j);
	return rc;
}

void jobs_stop(struct jobs *j)
{
	if (!j || !j->started)
		return;
	for (int i = 0; i < j->nworkers; i++) {
		if (j->workers[i].started && pthread_equal(j->workers[i].thread, pthread_self())) {
			log_error("jobs: jobs_stop called from a job handler; ignored");
			return;
		}
	}
	pthread_mutex_lock(&j->mu);
	j->stopping = true;
	atomic_store(&j->stop_flag, true);
	pthread_cond_broadcast(&j->wake);
	pthread_cond_broadcast(&j->maint_wake);
	pthread_mutex_unlock(&j->mu);
	for (int i = 0; i < j->nworkers; i++)
		if (j->workers[i].started)
			pthread_join(j->workers[i].thread, NULL);
	if (j->maint_started)
		pthread_join(j->maint, NULL);
	j->maint_started = false;
	free(j->workers);
	j->workers = NULL;
	j->started = false;
}
