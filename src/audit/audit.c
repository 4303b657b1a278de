/* The audit writer: group commit of audit entries by one thread.
 * Callers queue their entry and sleep; the writer takes everything queued,
 * chains and inserts it in one transaction, signs a checkpoint when one is
 * due, commits, and wakes each caller with its result. */
#include "audit/audit.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/xalloc.h"

#define QUEUE_CAP 4096 /* callers beyond this many block until there is room */
#define BATCH_MAX 1024 /* entries per transaction */
#define GATHER_US 400  /* see writer_take() */
#define RETRIES 3      /* batch attempts when another writer took the seq first */

static const char sql_head[] = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
static const char sql_last_ckpt[] = "SELECT seq FROM audit_checkpoint ORDER BY seq DESC LIMIT 1";
#define INSERT_HEAD                                                                                \
	"INSERT INTO audit_log (seq, ts_ms, lg_code, actor_kind, actor_id, actor_name, actor_org," \
	" action, subject, purpose, request_id, outcome, detail, prev_hash, hash) VALUES "
#define ROW1 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define ROW4 ROW1 ", " ROW1 ", " ROW1 ", " ROW1
#define ROW16 ROW4 ", " ROW4 ", " ROW4 ", " ROW4
#define NCOLS 15
#define MULTI 16 /* rows per INSERT on PostgreSQL, see insert_rows() */
static const char sql_insert1[] = INSERT_HEAD ROW1;
static const char sql_insert4[] = INSERT_HEAD ROW4;
static const char sql_insert16[] = INSERT_HEAD ROW16;
static const char sql_idx_upto[] = "SELECT indexed_upto FROM audit_index_state WHERE id = 1";
static const char sql_max_seq[] = "SELECT COALESCE(MAX(seq), 0) FROM audit_log";
/* Sorted, so that the rows go into the b-tree in its own order: a pass dirties
 * each leaf page once, however many of its entries concern that page. */
static const char sql_idx_copy[] = "INSERT INTO audit_subject (lg_code, subject, seq)"
				   " SELECT lg_code, subject, seq FROM audit_log"
				   " WHERE seq > ? AND seq <= ? AND subject IS NOT NULL"
				   " ORDER BY lg_code, subject, seq ON CONFLICT DO NOTHING";
static const char sql_idx_set[] =
	"INSERT INTO audit_index_state (id, indexed_upto) VALUES (1, ?)"
	" ON CONFLICT (id) DO UPDATE SET indexed_upto = excluded.indexed_upto"
	" WHERE audit_index_state.indexed_upto < excluded.indexed_upto";
static const char sql_insert_ckpt[] =
	"INSERT INTO audit_checkpoint (seq, ts_ms, hash, signature, key_id) VALUES (?, ?, ?, ?, ?)"
	" ON CONFLICT (seq) DO NOTHING";

/* One waiting caller; lives on the caller's stack until the writer posts
 * done, after which the writer never touches it again. A semaphore per caller
 * (not a condition variable on the queue's mutex) lets the writer wake a
 * whole batch without the woken callers piling up on that mutex. */
struct audit_req {
	const struct audit_entry *e;
	sem_t done;
	int64_t seq;
	int rc;
};

struct audit {
	struct db *db;
	unsigned char *sk; /* sodium_malloc'ed, crypto_sign_SECRETKEYBYTES */
	char *key_id;
	int every_n;
	int every_secs;
	pthread_t thread;

	/* Everything below up to the writer-only part is guarded by mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv_work;             /* writer: queue reached wake_at, or stopping */
	pthread_cond_t cv_space;            /* callers: room in the queue */
	struct audit_req *queue[QUEUE_CAP]; /* ring */
	size_t q_head;
	size_t q_len;
	size_t wake_at; /* signal the writer once q_len reaches this; 0: it is busy */
	bool stopping;
	struct audit_stats stats;
	int close_rc;
	bool index_off; /* audit_set_indexing(a, false) */

	/* Writer thread only. */
	struct db_conn *conn;
	int64_t head_seq;
	unsigned char head_hash[AUDIT_HASH_BYTES];
	int64_t ckpt_seq;                          /* seq of the last checkpoint */
	int64_t ckpt_mono_ms;                      /* when it was written (or the writer started) */
	bool warned_foreign;                       /* logged that another writer appends */
	bool multi;                                /* multi-row INSERTs (PostgreSQL) */
	int64_t idx_upto;                          /* indexed_upto as last read or written */
	int64_t idx_mono_ms;                       /* when the last indexer pass ran */
	unsigned char (*hashes)[AUDIT_HASH_BYTES]; /* BATCH_MAX + 1: the chain through a batch */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A CLOCK_MONOTONIC deadline us microseconds from now, for cv_work. */
static struct timespec deadline_us(int64_t us)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(us / 1000000);
	ts.tv_nsec += (long)(us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Reads the chain head; an empty chain has seq 0 and the zero hash. */
static int read_head(struct db_conn *c, int64_t *seq, unsigned char hash[AUDIT_HASH_BYTES])
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(c, sql_head, &st);
	if (rc < 0)
		return rc;
	rc = db_step(st);
	if (rc == DB_ROW) {
		size_t n = 0;
		const void *h = db_col_blob(st, 1, &n);
		if (!h || n != AUDIT_HASH_BYTES) {
			log_error("audit: stored hash of the chain head has a wrong size");
			rc = DB_EFAIL;
			goto out;
		}
		*seq = db_col_int64(st, 0);
		memcpy(hash, h, AUDIT_HASH_BYTES);
		rc = 0;
	} else if (rc == DB_DONE) {
		*seq = 0;
		memset(hash, 0, AUDIT_HASH_BYTES);
		rc = 0;
	}
out:
	db_done(st);
	return rc;
}

static int read_last_ckpt(struct db_conn *c, int64_t *seq)
{
	int rc = db_query_int64(c, sql_last_ckpt, seq);
	if (rc == DB_DONE)
		*seq = 0;
	return rc < 0 ? rc : 0;
}

/* Inserts batch[0..n) (n is 1, 4 or MULTI) as seq + 1 …; hashes[i] is the
 * chain hash before batch[i] and hashes[i + 1] its own. The statements come
 * from the connection's cache. On PostgreSQL every statement is a round trip,
 * so rows go MULTI at a time; on SQLite one row per statement measured faster
 * (a multi-row VALUES runs as a co-routine there). */
static int insert_rows(struct db_conn *c, struct audit_req **batch, size_t n, int64_t seq,
		       int64_t ts, unsigned char (*hashes)[AUDIT_HASH_BYTES])
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(c, n == 1 ? sql_insert1 : n == 4 ? sql_insert4 : sql_insert16, &st);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const struct audit_entry *e = batch[i]->e;
		int k = (int)i * NCOLS;
		if ((rc = db_bind_int64(st, k + 1, seq + 1 + (int64_t)i)) < 0 ||
		    (rc = db_bind_int64(st, k + 2, ts)) < 0 ||
		    (rc = db_bind_text(st, k + 3, e->lg_code)) < 0 ||
		    (rc = db_bind_text(st, k + 4, e->actor_kind)) < 0 ||
		    (rc = db_bind_text(st, k + 5, e->actor_id)) < 0 ||
		    (rc = db_bind_text(st, k + 6, e->actor_name)) < 0 ||
		    (rc = db_bind_text(st, k + 7, e->actor_org)) < 0 ||
		    (rc = db_bind_text(st, k + 8, e->action)) < 0 ||
		    (rc = db_bind_text(st, k + 9, e->subject)) < 0 ||
		    (rc = db_bind_text(st, k + 10, e->purpose)) < 0 ||
		    (rc = db_bind_text(st, k + 11, e->request_id)) < 0 ||
		    (rc = db_bind_text(st, k + 12, e->outcome)) < 0 ||
		    (rc = db_bind_text(st, k + 13, e->detail)) < 0 ||
		    (rc = db_bind_blob(st, k + 14, hashes[i], AUDIT_HASH_BYTES)) < 0 ||
		    (rc = db_bind_blob(st, k + 15, hashes[i + 1], AUDIT_HASH_BYTES)) < 0)
			goto out;
	}
	rc = db_step(st);
	if (rc == DB_DONE)
		rc = 0;
	else if (rc >= 0)
		rc = DB_EFAIL;
out:
	db_done(st);
	return rc;
}

static int insert_ckpt(struct audit *a, int64_t seq, const unsigned char hash[AUDIT_HASH_BYTES])
{
	unsigned char msg[AUDIT_CKPT_MSG_BYTES];
	unsigned char sig[crypto_sign_BYTES];
	struct db_stmt *st = NULL;
	int rc;

	audit_checkpoint_message(seq, hash, msg);
	crypto_sign_detached(sig, NULL, msg, sizeof msg, a->sk);
	rc = db_prepare(a->conn, sql_insert_ckpt, &st);
	if (rc < 0)
		return rc;
	if ((rc = db_bind_int64(st, 1, seq)) < 0 || (rc = db_bind_int64(st, 2, wall_ms())) < 0 ||
	    (rc = db_bind_blob(st, 3, hash, AUDIT_HASH_BYTES)) < 0 ||
	    (rc = db_bind_blob(st, 4, sig, sizeof sig)) < 0 ||
	    (rc = db_bind_text(st, 5, a->key_id)) < 0)
		goto out;
	rc = db_step(st);
	if (rc == DB_DONE)
		rc = 0;
	else if (rc >= 0)
		rc = DB_EFAIL;
out:
	db_done(st);
	return rc;
}

static bool ckpt_due(const struct audit *a, int64_t head_seq, int64_t now)
{
	if (head_seq <= a->ckpt_seq)
		return false;
	return head_seq - a->ckpt_seq >= a->every_n ||
	       now - a->ckpt_mono_ms >= (int64_t)a->every_secs * 1000;
}

/* A lost connection is replaced before the next attempt. */
static void writer_conn_check(struct audit *a, int rc)
{
	if (rc == DB_ECONN) {
		db_release(a->conn);
		a->conn = db_acquire(a->db);
	}
}

/* Chains and inserts batch[0..n) in one transaction (n may be 0: then only a
 * due checkpoint is written), with a checkpoint at its end when one is due.
 * The head is re-read inside the transaction, so that the chain continues
 * correctly even if another process appended (a primary key conflict, when
 * two writers race on PostgreSQL, makes the batch start over).
 * On success advances the in-memory head; on failure leaves it unchanged. */
static int write_batch(struct audit *a, struct audit_req **batch, size_t n)
{
	int rc = DB_EFAIL;

	for (int attempt = 0; attempt < RETRIES; attempt++) {
		int64_t seq, start_seq = a->head_seq;
		unsigned char prev[AUDIT_HASH_BYTES];
		int64_t ts = wall_ms();
		bool ckpt = false;

		rc = db_begin_write(a->conn);
		if (rc < 0)
			goto fail;
		rc = read_head(a->conn, &seq, prev);
		if (rc < 0)
			goto fail;
		start_seq = seq;
		if ((seq != a->head_seq || memcmp(prev, a->head_hash, AUDIT_HASH_BYTES) != 0) &&
		    !a->warned_foreign) {
			/* Another process appends too: normal with several nodes on
			 * PostgreSQL, suspicious otherwise. Said once. */
			log_warn(
				"audit: chain head moved from seq %lld to %lld outside this writer",
				(long long)a->head_seq, (long long)seq);
			a->warned_foreign = true;
		}
		memcpy(a->hashes[0], prev, AUDIT_HASH_BYTES);
		for (size_t i = 0; i < n; i++) {
			batch[i]->seq = seq + 1 + (int64_t)i;
			audit_entry_hash(a->hashes[i], batch[i]->seq, ts, batch[i]->e,
					 a->hashes[i + 1]);
		}
		for (size_t i = 0; i < n;) {
			size_t k = !a->multi ? 1 : n - i >= MULTI ? MULTI : n - i >= 4 ? 4 : 1;
			rc = insert_rows(a->conn, batch + i, k, seq + (int64_t)i, ts,
					 a->hashes + i);
			if (rc < 0)
				goto fail;
			i += k;
		}
		seq += (int64_t)n;
		memcpy(prev, a->hashes[n], AUDIT_HASH_BYTES);
		if (ckpt_due(a, seq, mono_ms())) {
			rc = insert_ckpt(a, seq, prev);
			if (rc < 0)
				goto fail;
			ckpt = true;
		}
		rc = db_commit(a->conn);
		if (rc < 0)
			goto fail;
		a->head_seq = seq;
		memcpy(a->head_hash, prev, AUDIT_HASH_BYTES);
		if (ckpt) {
			a->ckpt_seq = seq;
			a->ckpt_mono_ms = mono_ms();
		}
		pthread_mutex_lock(&a->mu);
		a->stats.head_seq = seq;
		a->stats.appended += n;
		a->stats.batches += n > 0;
		a->stats.checkpoints += ckpt;
		pthread_mutex_unlock(&a->mu);
		return 0;
fail:
		log_error("audit: batch of %zu entries failed: %s (%s)", n, db_strerror(rc),
			  db_errmsg(a->conn));
		db_rollback(a->conn);
		writer_conn_check(a, rc);
		/* Restore the head from what is committed. */
		if (read_head(a->conn, &a->head_seq, a->head_hash) < 0)
			log_error("audit: cannot re-read the chain head");
		/* Only a seq taken by another writer is worth another try. */
		if (rc != DB_ECONSTRAINT || a->head_seq == start_seq)
			break;
	}
	return rc;
}

/* Reads indexed_upto; 0 when the state row is missing (everything is then
 * re-indexed, which is harmless). */
static int read_idx_upto(struct db_conn *c, int64_t *upto)
{
	int rc = db_query_int64(c, sql_idx_upto, upto);
	if (rc == DB_DONE)
		*upto = 0;
	return rc < 0 ? rc : 0;
}

static int exec_range(struct db_conn *c, const char *sql, int64_t v1, int64_t v2, int nbind)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(c, sql, &st);
	if (rc < 0)
		return rc;
	if ((rc = db_bind_int64(st, 1, v1)) < 0 ||
	    (nbind > 1 && (rc = db_bind_int64(st, 2, v2)) < 0))
		goto out;
	rc = db_step(st);
	if (rc == DB_DONE)
		rc = 0;
	else if (rc >= 0)
		rc = DB_EFAIL;
out:
	db_done(st);
	return rc;
}

/* One pass: under the write lock, reads indexed_upto (lo) and the head, copies
 * the subjects of (lo, min(head, lo + max)] and advances indexed_upto. Both
 * in one transaction, so that audit_subject never holds less than
 * indexed_upto claims; ON CONFLICT makes a repeated range harmless. Returns
 * 0 or a DB_E* code. */
static int index_pass(struct db_conn *c, int64_t max, int64_t *upto)
{
	int64_t lo = 0, hi = 0;
	int rc;

	if ((rc = db_begin_write(c)) < 0 || (rc = read_idx_upto(c, &lo)) < 0 ||
	    (rc = db_query_int64(c, sql_max_seq, &hi)) < 0)
		goto fail;
	if (hi > lo + max)
		hi = lo + max;
	if (hi > lo) {
		if ((rc = exec_range(c, sql_idx_copy, lo, hi, 2)) < 0 ||
		    (rc = exec_range(c, sql_idx_set, hi, 0, 1)) < 0)
			goto fail;
	} else {
		hi = lo;
	}
	if ((rc = db_commit(c)) < 0)
		goto fail;
	*upto = hi;
	return 0;
fail:
	db_rollback(c);
	return rc;
}

int audit_index_pass(struct db_conn *c, int64_t max_entries, int64_t *upto)
{
	int64_t u = 0;
	if (!c)
		return AUDIT_EINVAL;
	int rc = index_pass(c, max_entries > 0 ? max_entries : AUDIT_INDEX_PASS_MAX, &u);
	if (rc < 0) {
		log_error("audit: subject indexer pass failed: %s (%s)", db_strerror(rc),
			  db_errmsg(c));
		return AUDIT_EDB;
	}
	if (upto)
		*upto = u;
	return 0;
}

static bool index_due(const struct audit *a, int64_t now)
{
	if (a->head_seq <= a->idx_upto)
		return false;
	return a->head_seq - a->idx_upto >= AUDIT_INDEX_PENDING ||
	       now - a->idx_mono_ms >= AUDIT_INDEX_INTERVAL_MS;
}

/* The writer's pass. A failure is logged and retried an interval later: the
 * listing reads the tail meanwhile, and nothing is lost. */
static void writer_index(struct audit *a)
{
	int64_t upto = 0;
	int rc = index_pass(a->conn, AUDIT_INDEX_PASS_MAX, &upto);

	a->idx_mono_ms = mono_ms();
	if (rc < 0) {
		log_error("audit: subject indexer pass failed: %s (%s)", db_strerror(rc),
			  db_errmsg(a->conn));
		writer_conn_check(a, rc);
		return;
	}
	a->idx_upto = upto;
	pthread_mutex_lock(&a->mu);
	a->stats.index_passes++;
	a->stats.indexed_upto = upto;
	pthread_mutex_unlock(&a->mu);
}

/* Waits for work and moves up to BATCH_MAX queued requests into batch.
 * Returns their number; 0 when the writer should stop, or when, idle, a
 * timed checkpoint or an indexer pass is due (then *idle_work is set).
 * Called with mu held.
 *
 * Group commit gathers entries while the previous batch commits; but the
 * callers just woken from that batch have not queued their next entry yet.
 * If fewer entries wait than the last batch held, wait up to GATHER_US for
 * them rather than spend a whole fsync on a few. */
static size_t writer_take(struct audit *a, struct audit_req **batch, size_t last_n, bool *idle_work)
{
	*idle_work = false;
	while (a->q_len == 0 && !a->stopping) {
		int64_t now = mono_ms(), left = INT64_MAX;
		a->wake_at = 1;
		if (a->head_seq > a->ckpt_seq)
			left = a->ckpt_mono_ms + (int64_t)a->every_secs * 1000 - now;
		if (!a->index_off && a->head_seq > a->idx_upto) {
			int64_t l2 = a->idx_mono_ms + AUDIT_INDEX_INTERVAL_MS - now;
			left = l2 < left ? l2 : left;
		}
		if (left <= 0) {
			a->wake_at = 0;
			*idle_work = true;
			return 0;
		}
		if (left == INT64_MAX) {
			pthread_cond_wait(&a->cv_work, &a->mu);
		} else {
			struct timespec dl = deadline_us(left * 1000);
			pthread_cond_timedwait(&a->cv_work, &a->mu, &dl);
		}
	}
	if (a->q_len > 0 && a->q_len < last_n && !a->stopping) {
		size_t want = last_n < BATCH_MAX ? last_n : BATCH_MAX;
		struct timespec dl = deadline_us(GATHER_US);
		a->wake_at = want;
		while (a->q_len < want && !a->stopping)
			if (pthread_cond_timedwait(&a->cv_work, &a->mu, &dl) == ETIMEDOUT)
				break;
	}
	a->wake_at = 0;

	size_t n = a->q_len < BATCH_MAX ? a->q_len : BATCH_MAX;
	bool was_full = a->q_len == QUEUE_CAP;
	for (size_t i = 0; i < n; i++) {
		batch[i] = a->queue[a->q_head];
		a->q_head = (a->q_head + 1) % QUEUE_CAP;
	}
	a->q_len -= n;
	if (was_full && n > 0)
		pthread_cond_broadcast(&a->cv_space);
	return n;
}

static void *writer_main(void *arg)
{
	struct audit *a = arg;
	struct audit_req **batch = xcalloc(BATCH_MAX, sizeof *batch);
	size_t last_n = 0;

	a->conn = db_acquire(a->db);
	pthread_mutex_lock(&a->mu);
	for (;;) {
		bool idle_work, index_on;
		size_t n = writer_take(a, batch, last_n, &idle_work);
		if (n == 0 && !idle_work)
			break;
		index_on = !a->index_off;
		pthread_mutex_unlock(&a->mu);
		int rc = 0;
		if (n > 0 || ckpt_due(a, a->head_seq, mono_ms())) {
			rc = write_batch(a, batch, n);
			if (n == 0 && rc < 0)
				a->ckpt_mono_ms = mono_ms(); /* try again every_secs later */
		}
		if (rc < 0) {
			pthread_mutex_lock(&a->mu);
			a->stats.failed += n;
			pthread_mutex_unlock(&a->mu);
		}
		for (size_t i = 0; i < n; i++) {
			batch[i]->rc = rc < 0 ? AUDIT_EDB : 0;
			sem_post(&batch[i]->done);
		}
		/* After the callers are woken: they queue their next entries
		 * while the pass runs, and the next batch is the bigger. */
		if (index_on && index_due(a, mono_ms()))
			writer_index(a);
		last_n = n;
		pthread_mutex_lock(&a->mu);
	}
	bool index_on = !a->index_off;
	pthread_mutex_unlock(&a->mu);

	/* The queue is empty and no append may start: index and seal what was
	 * written. */
	if (index_on && a->head_seq > a->idx_upto) {
		writer_index(a);
		if (a->idx_upto < a->head_seq) /* more than one pass's worth, or failed */
			writer_index(a);
	}
	a->close_rc = 0;
	if (a->head_seq > a->ckpt_seq) {
		a->every_n = 1; /* due now */
		if (write_batch(a, batch, 0) < 0 || a->ckpt_seq != a->head_seq)
			a->close_rc = AUDIT_EDB;
	}
	db_release(a->conn);
	a->conn = NULL;
	free(batch);
	return NULL;
}

int audit_open(struct db *db, const unsigned char sk[crypto_sign_SECRETKEYBYTES],
	       const char *key_id, int every_n, int every_secs, struct audit **out)
{
	struct audit *a = NULL;
	struct db_conn *c = NULL;
	pthread_condattr_t ca;
	int rc = AUDIT_EINVAL;

	*out = NULL;
	if (!db || !sk || !key_id || !*key_id || strlen(key_id) > AUDIT_FIELD_MAX || every_n < 1 ||
	    every_secs < 1)
		goto out;
	rc = AUDIT_ESYS;
	if (sodium_init() < 0)
		goto out;

	a = xcalloc(1, sizeof *a);
	a->db = db;
	a->every_n = every_n;
	a->every_secs = every_secs;
	a->multi = db_kind(db) == DB_POSTGRES;
	a->hashes = xcalloc(BATCH_MAX + 1, sizeof *a->hashes);
	a->key_id = xstrdup(key_id);
	a->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (!a->sk)
		goto out;
	memcpy(a->sk, sk, crypto_sign_SECRETKEYBYTES);
	sodium_mprotect_readonly(a->sk);

	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv_work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&a->cv_space, NULL);

	c = db_acquire(db);
	rc = AUDIT_EDB;
	if (read_head(c, &a->head_seq, a->head_hash) < 0 || read_last_ckpt(c, &a->ckpt_seq) < 0 ||
	    read_idx_upto(c, &a->idx_upto) < 0) {
		log_error("audit: cannot read the chain head: %s", db_errmsg(c));
		goto out_sync;
	}
	a->stats.head_seq = a->head_seq;
	a->stats.indexed_upto = a->idx_upto;
	a->ckpt_mono_ms = mono_ms();
	/* A tail left by a crash is indexed as soon as the writer is idle. */
	a->idx_mono_ms = a->ckpt_mono_ms - AUDIT_INDEX_INTERVAL_MS;
	rc = AUDIT_ESYS;
	if (pthread_create(&a->thread, NULL, writer_main, a) != 0)
		goto out_sync;
	*out = a;
	a = NULL;
	rc = 0;
out_sync:
	db_release(c);
	if (a) {
		pthread_cond_destroy(&a->cv_space);
		pthread_cond_destroy(&a->cv_work);
		pthread_mutex_destroy(&a->mu);
	}
out:
	if (a) {
		sodium_free(a->sk);
		free(a->key_id);
		free(a->hashes);
		free(a);
	}
	return rc;
}

int audit_append_seq(struct audit *a, const struct audit_entry *e, int64_t *seq)
{
	struct audit_req req;
	int rc = audit_entry_check(e);

	if (rc < 0 || !a)
		return AUDIT_EINVAL;
	req.e = e;
	req.seq = 0;
	req.rc = AUDIT_EDB;
	sem_init(&req.done, 0, 0);

	pthread_mutex_lock(&a->mu);
	while (a->q_len == QUEUE_CAP && !a->stopping)
		pthread_cond_wait(&a->cv_space, &a->mu);
	if (a->stopping) {
		pthread_mutex_unlock(&a->mu);
		rc = AUDIT_ECLOSED;
		goto out;
	}
	a->queue[(a->q_head + a->q_len) % QUEUE_CAP] = &req;
	a->q_len++;
	if (a->wake_at && a->q_len >= a->wake_at)
		pthread_cond_signal(&a->cv_work);
	pthread_mutex_unlock(&a->mu);
	while (sem_wait(&req.done) != 0)
		; /* EINTR */
	rc = req.rc;
	if (rc == 0 && seq)
		*seq = req.seq;
out:
	sem_destroy(&req.done);
	return rc;
}

int audit_append(struct audit *a, const struct audit_entry *e)
{
	return audit_append_seq(a, e, NULL);
}

void audit_get_stats(struct audit *a, struct audit_stats *st)
{
	pthread_mutex_lock(&a->mu);
	*st = a->stats;
	pthread_mutex_unlock(&a->mu);
}

void audit_set_indexing(struct audit *a, bool on)
{
	pthread_mutex_lock(&a->mu);
	a->index_off = !on;
	pthread_mutex_unlock(&a->mu);
}

int audit_close(struct audit *a)
{
	if (!a)
		return 0;
	pthread_mutex_lock(&a->mu);
	a->stopping = true;
	pthread_cond_signal(&a->cv_work);
	pthread_cond_broadcast(&a->cv_space);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);

	int rc = a->close_rc;
	pthread_cond_destroy(&a->cv_space);
	pthread_cond_destroy(&a->cv_work);
	pthread_mutex_destroy(&a->mu);
	sodium_free(a->sk); /* wipes before unmapping */
	free(a->key_id);
	free(a->hashes);
	free(a);
	return rc;
}
