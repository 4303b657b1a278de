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

	/* Writer thread only. */
	struct db_conn *conn;
	int64_t head_seq;
	unsigned char head_hash[AUDIT_HASH_BYTES];
	int64_t ckpt_seq;                          /* seq of the last checkpoint */
	int64_t ckpt_mono_ms;                      /* when it was written (or the writer started) */
	bool warned_foreign;                       /* logged that another writer appends */
	bool multi;                                /* multi-row INSERTs (PostgreSQL) */
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

/* Waits for work and moves up to BATCH_MAX queued requests into batch.
 * Returns their number; 0 when the writer should stop, or when only a
 * timed checkpoint is due (then *ckpt_only is set). Called with mu held.
 *
 * Group commit gathers entries while the previous batch commits; but the
 * callers just woken from that batch have not queued their next entry yet.
 * If fewer entries wait than the last batch held, wait up to GATHER_US for
 * them rather than spend a whole fsync on a few. */
static size_t writer_take(struct audit *a, struct audit_req **batch, size_t last_n, bool *ckpt_only)
{
	*ckpt_only = false;
	while (a->q_len == 0 && !a->stopping) {
		a->wake_at = 1;
		if (a->head_seq > a->ckpt_seq) {
			int64_t left = a->ckpt_mono_ms + (int64_t)a->every_secs * 1000 - mono_ms();
			if (left <= 0) {
				a->wake_at = 0;
				*ckpt_only = true;
				return 0;
			}
			struct timespec dl = deadline_us(left * 1000);
			pthread_cond_timedwait(&a->cv_work, &a->mu, &dl);
		} else {
			pthread_cond_wait(&a->cv_work, &a->mu);
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
		bool ckpt_only;
		size_t n = writer_take(a, batch, last_n, &ckpt_only);
		if (n == 0 && !ckpt_only)
			break;
		pthread_mutex_unlock(&a->mu);
		int rc = write_batch(a, batch, n);
		if (ckpt_only && rc < 0)
			a->ckpt_mono_ms = mono_ms(); /* try again every_secs later */
		if (rc < 0) {
			pthread_mutex_lock(&a->mu);
			a->stats.failed += n;
			pthread_mutex_unlock(&a->mu);
		}
		for (size_t i = 0; i < n; i++) {
			batch[i]->rc = rc < 0 ? AUDIT_EDB : 0;
			sem_post(&batch[i]->done);
		}
		last_n = n;
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);

	/* The queue is empty and no append may start: seal what was written. */
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
	if (read_head(c, &a->head_seq, a->head_hash) < 0 || read_last_ckpt(c, &a->ckpt_seq) < 0) {
		log_error("audit: cannot read the chain head: %s", db_errmsg(c));
		goto out_sync;
	}
	a->stats.head_seq = a->head_seq;
	a->ckpt_mono_ms = mono_ms();
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
