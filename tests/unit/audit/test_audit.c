/* Tests of the audit chain on a real SQLite file: concurrent group commit,
 * verification catching edits, gaps, forged checkpoints and cut tails,
 * restart, timed checkpoints, failed batches, tenant-filtered listings and
 * the subject index filled after the fact (exact listings before, across and
 * after indexer passes, crashes, the migration from the step-1 schema). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "db/db.h"

struct fixture {
	bool pg; /* MADO_TEST_PG_URL names a PostgreSQL database to run on */
	char dir[64];
	char path[128];
	struct db *db;
	struct db_conn *c; /* the test's own connection */
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char url[160], err[256];

	const char *pg = getenv("MADO_TEST_PG_URL");

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	if (pg && *pg) {
		f->pg = true;
		snprintf(url, sizeof url, "%s", pg);
	} else {
		snprintf(f->dir, sizeof f->dir, "/tmp/test_audit.XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->path, sizeof f->path, "%s/audit.db", f->dir);
		snprintf(url, sizeof url, "sqlite:%s", f->path);
	}
	f->db = db_open(url, 4, err, sizeof err);
	if (!f->db)
		fail_msg("db_open: %s", err);
	f->c = db_acquire(f->db);
	if (f->pg) {
		/* a fresh schema for every test */
		assert_int_equal(
			db_exec(f->c, "DROP TABLE IF EXISTS audit_log;"
				      " DROP TABLE IF EXISTS audit_checkpoint;"
				      " DROP TABLE IF EXISTS audit_subject;"
				      " DROP TABLE IF EXISTS audit_index_state;"
				      " CREATE TABLE IF NOT EXISTS schema_migrations ("
				      "module TEXT NOT NULL, version INTEGER NOT NULL,"
				      " applied_at BIGINT NOT NULL, PRIMARY KEY (module, version));"
				      " DELETE FROM schema_migrations WHERE module = 'audit'"),
			0);
	}
	if (audit_migrate(f->c, err, sizeof err) != 0)
		fail_msg("audit_migrate: %s", err);
	crypto_sign_keypair(f->pk, f->sk);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	db_release(f->c);
	db_close(f->db);
	if (f->pg) {
		free(f);
		return 0;
	}
	const char *sfx[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	sodium_memzero(f->sk, sizeof f->sk);
	free(f);
	return 0;
}

static struct audit *open_audit(struct fixture *f, int every_n, int every_secs)
{
	struct audit *a = NULL;
	assert_int_equal(audit_open(f->db, f->sk, "test-key-1", every_n, every_secs, &a), 0);
	assert_non_null(a);
	return a;
}

static struct audit_entry sample(const char *lg, const char *subject, const char *action)
{
	struct audit_entry e = {
		.lg_code = lg,
		.actor_kind = "staff",
		.actor_id = "clerk-7",
		.actor_name = "山田 花子",
		.actor_org = "和歌山市 市民課",
		.action = action,
		.subject = subject,
		.purpose = "住民票の写しの交付（住民基本台帳法第12条）",
		.request_id = "req-0001",
		.outcome = "ok",
		.detail = NULL,
	};
	return e;
}

static void append_n(struct audit *a, int n)
{
	for (int i = 0; i < n; i++) {
		struct audit_entry e = sample("302015", "resident-1", "resident.read");
		assert_int_equal(audit_append(a, &e), 0);
	}
}

static int64_t count(struct fixture *f, const char *sql)
{
	int64_t n = -1;
	assert_int_equal(db_query_int64(f->c, sql, &n), DB_ROW);
	return n;
}

/* Runs sql with one int64 parameter (and optionally a blob as the first). */
static void exec_int(struct fixture *f, const char *sql, int64_t v)
{
	struct db_stmt *st = NULL;
	assert_int_equal(db_prepare(f->c, sql, &st), 0);
	assert_int_equal(db_bind_int64(st, 1, v), 0);
	assert_int_equal(db_step(st), DB_DONE);
	db_done(st);
}

static void verify_broken(struct fixture *f, const unsigned char *pk, int64_t seq,
			  const char *reason)
{
	struct audit_verify_result r;
	int rc = audit_verify(f->c, pk, &r);
	assert_int_equal(rc, AUDIT_EBROKEN);
	assert_int_equal(r.broken_seq, seq);
	assert_non_null(r.reason);
	assert_string_equal(r.reason, reason);
}

static void verify_ok(struct fixture *f, int64_t entries, struct audit_verify_result *r)
{
	int rc = audit_verify(f->c, f->pk, r);
	if (rc != 0)
		fail_msg("verify: rc %d at seq %lld: %s", rc, (long long)r->broken_seq,
			 r->reason ? r->reason : "-");
	assert_int_equal(r->entries, entries);
	assert_int_equal(r->last_seq, entries);
	assert_int_equal(r->broken_seq, 0);
	assert_null(r->reason);
}

/* ---- the format ---- */

static void be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* An independent encoding of the documented format, byte by byte. */
static void test_hash_format(void **state)
{
	struct audit_entry e = sample("302015", NULL, "resident.read");
	const char *fields[11] = {e.lg_code,    e.actor_kind, e.actor_id, e.actor_name,
				  e.actor_org,  e.action,     e.subject,  e.purpose,
				  e.request_id, e.outcome,    e.detail};
	unsigned char buf[2048], prev[32], want[32], got[32];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 32; i++)
		prev[i] = (unsigned char)i;
	memcpy(buf, prev, 32);
	n = 32;
	buf[n++] = 1;
	be(buf + n, 42, 8);
	n += 8;
	be(buf + n, (uint64_t)1700000000123LL, 8);
	n += 8;
	for (int i = 0; i < 11; i++) {
		if (!fields[i]) {
			be(buf + n, 0xffffffffu, 4);
			n += 4;
			continue;
		}
		size_t l = strlen(fields[i]);
		be(buf + n, l, 4);
		n += 4;
		memcpy(buf + n, fields[i], l);
		n += l;
	}
	crypto_generichash(want, 32, buf, n, NULL, 0);
	audit_entry_hash(prev, 42, 1700000000123LL, &e, got);
	assert_memory_equal(got, want, 32);

	/* NULL and "" differ; so does any field. */
	e.subject = "";
	audit_entry_hash(prev, 42, 1700000000123LL, &e, got);
	assert_memory_not_equal(got, want, 32);

	unsigned char msg[AUDIT_CKPT_MSG_BYTES];
	assert_int_equal(AUDIT_CKPT_MSG_BYTES, 58);
	audit_checkpoint_message(0x0102030405060708LL, prev, msg);
	assert_memory_equal(msg, "madoguchi-audit-v1", 18);
	assert_int_equal(msg[18], 1);
	assert_int_equal(msg[25], 8);
	assert_memory_equal(msg + 26, prev, 32);
}

static void test_entry_check(void **state)
{
	struct audit_entry e = sample("302015", "r", "a");
	char big[AUDIT_DETAIL_MAX + 2];

	(void)state;
	assert_int_equal(audit_entry_check(&e), 0);
	e.lg_code = "30201";
	assert_int_equal(audit_entry_check(&e), AUDIT_EINVAL);
	e.lg_code = "30201x";
	assert_int_equal(audit_entry_check(&e), AUDIT_EINVAL);
	e.lg_code = NULL;
	assert_int_equal(audit_entry_check(&e), AUDIT_EINVAL);
	e = sample("302015", "r", "");
	assert_int_equal(audit_entry_check(&e), AUDIT_EINVAL);
	e = sample("302015", "r", "a");
	e.outcome = NULL;
	assert_int_equal(audit_entry_check(&e), AUDIT_EINVAL);
	e = sample("302015", "\xe3\x81", "a"); /* truncated UTF-8 */
	assert_int_equal(audit_entry_check(&e), AUDIT_EINVAL);
	e = sample("302015", "\xc0\xaf", "a"); /* overlong */
	assert_int_equal(audit_entry_check(&e), AUDIT_EINVAL);
	e = sample("302015", "\xed\xa0\x80", "a"); /* surrogate */
	assert_int_equal(audit_entry_check(&e), AUDIT_EINVAL);
	e = sample("302015", "r", "a");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	e.detail = big;
	assert_int_equal(audit_entry_check(&e), AUDIT_EINVAL);
	big[AUDIT_DETAIL_MAX] = '\0';
	assert_int_equal(audit_entry_check(&e), 0);
	big[AUDIT_FIELD_MAX + 1] = '\0';
	e.actor_name = big;
	assert_int_equal(audit_entry_check(&e), AUDIT_EINVAL);
}

/* ---- writing ---- */

#define THREADS 32
#define PER_THREAD 100

struct worker {
	struct audit *a;
	int id;
	int failures;
	int64_t seqs[PER_THREAD];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char subject[32];
	snprintf(subject, sizeof subject, "resident-%d", w->id);
	for (int i = 0; i < PER_THREAD; i++) {
		struct audit_entry e =
			sample(w->id % 2 ? "302015" : "131016", subject, "resident.read");
		if (audit_append_seq(w->a, &e, &w->seqs[i]) != 0)
			w->failures++;
	}
	return NULL;
}

static int cmp64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

static void test_concurrent_then_verify(void **state)
{
	struct fixture *f = *state;
	struct audit *a = open_audit(f, 64, 3600);
	static struct worker w[THREADS];
	pthread_t t[THREADS];
	static int64_t all[THREADS * PER_THREAD];
	struct audit_stats st;
	struct audit_verify_result r;

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.a = a, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
		/* one caller's entries are in order */
		for (int k = 1; k < PER_THREAD; k++)
			assert_true(w[i].seqs[k] > w[i].seqs[k - 1]);
		memcpy(all + i * PER_THREAD, w[i].seqs, sizeof w[i].seqs);
	}
	/* every append got its own seq, 1..N */
	qsort(all, THREADS * PER_THREAD, sizeof all[0], cmp64);
	for (int i = 0; i < THREADS * PER_THREAD; i++)
		assert_int_equal(all[i], i + 1);

	audit_get_stats(a, &st);
	assert_int_equal(st.appended, THREADS * PER_THREAD);
	assert_int_equal(st.head_seq, THREADS * PER_THREAD);
	assert_true(st.batches >= 1 && st.batches <= THREADS * PER_THREAD);
	assert_int_equal(audit_close(a), 0);

	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_log"), THREADS * PER_THREAD);
	/* one checkpoint per 64 or more entries, and the final one at the head */
	int64_t nck = count(f, "SELECT COUNT(*) FROM audit_checkpoint");
	assert_true(nck >= 2 && nck <= THREADS * PER_THREAD / 64 + 1);
	assert_int_equal(count(f, "SELECT MAX(seq) FROM audit_checkpoint"), THREADS * PER_THREAD);
	verify_ok(f, THREADS * PER_THREAD, &r);
	assert_int_equal(r.checkpoints, nck);
}

/* Once audit_append returns, another connection sees the row. */
static void test_durable_on_return(void **state)
{
	struct fixture *f = *state;
	struct audit *a = open_audit(f, 1000, 3600);
	struct audit_entry e = sample("302015", "resident-9", "resident.update");
	int64_t seq = 0;

	assert_int_equal(audit_append_seq(a, &e, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(
		count(f, "SELECT COUNT(*) FROM audit_log WHERE action = 'resident.update'"), 1);
	assert_int_equal(audit_append_seq(a, &e, &seq), 0);
	assert_int_equal(seq, 2);
	e.lg_code = "bad";
	assert_int_equal(audit_append(a, &e), AUDIT_EINVAL);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_log"), 2);
	assert_int_equal(audit_close(a), 0);
}

/* 50 entries, a checkpoint every 10. */
static void fill50(struct fixture *f)
{
	struct audit *a = open_audit(f, 10, 3600);
	append_n(a, 50);
	assert_int_equal(audit_close(a), 0);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_checkpoint"), 5);
}

static void test_edit_row(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result r;

	fill50(f);
	verify_ok(f, 50, &r);
	assert_int_equal(r.checkpoints, 5);
	exec_int(f, "UPDATE audit_log SET action = 'resident.delete' WHERE seq = ?", 17);
	verify_broken(f, f->pk, 17, "hash mismatch");
	assert_int_equal(audit_verify(f->c, f->pk, &r), AUDIT_EBROKEN);
	assert_int_equal(r.entries, 16);
	assert_int_equal(r.checkpoints, 1);
}

static void test_edit_null_field(void **state)
{
	struct fixture *f = *state;

	fill50(f);
	/* NULL → "" is an edit too */
	exec_int(f, "UPDATE audit_log SET detail = '' WHERE seq = ?", 3);
	verify_broken(f, f->pk, 3, "hash mismatch");
}

static void test_delete_row(void **state)
{
	struct fixture *f = *state;

	fill50(f);
	exec_int(f, "DELETE FROM audit_log WHERE seq = ?", 23);
	verify_broken(f, f->pk, 23, "gap");
}

/* Deleting the newest entries leaves no hole in seq, but the checkpoint
 * written at close still names seq 50. */
static void test_cut_tail(void **state)
{
	struct fixture *f = *state;

	fill50(f);
	exec_int(f, "DELETE FROM audit_log WHERE seq > ?", 45);
	verify_broken(f, f->pk, 46, "gap");
}

static void test_bad_checkpoint_signature(void **state)
{
	struct fixture *f = *state;
	struct db_stmt *st = NULL;
	unsigned char other_pk[crypto_sign_PUBLICKEYBYTES], other_sk[crypto_sign_SECRETKEYBYTES];

	fill50(f);
	/* the wrong public key fails on the first checkpoint */
	crypto_sign_keypair(other_pk, other_sk);
	verify_broken(f, other_pk, 10, "bad checkpoint signature");
	/* flip one bit of the signature of checkpoint 30 */
	unsigned char sig[crypto_sign_BYTES];
	size_t n = 0;
	assert_int_equal(
		db_prepare(f->c, "SELECT signature FROM audit_checkpoint WHERE seq = ?", &st), 0);
	assert_int_equal(db_bind_int64(st, 1, 30), 0);
	assert_int_equal(db_step(st), DB_ROW);
	const void *p = db_col_blob(st, 0, &n);
	assert_int_equal(n, sizeof sig);
	memcpy(sig, p, sizeof sig);
	db_done(st);
	sig[5] ^= 0x10;
	assert_int_equal(
		db_prepare(f->c, "UPDATE audit_checkpoint SET signature = ? WHERE seq = ?", &st),
		0);
	assert_int_equal(db_bind_blob(st, 1, sig, sizeof sig), 0);
	assert_int_equal(db_bind_int64(st, 2, 30), 0);
	assert_int_equal(db_step(st), DB_DONE);
	db_done(st);
	verify_broken(f, f->pk, 30, "bad checkpoint signature");
}

/* Someone without the key rewrites entry 12 and re-chains everything after
 * it: every hash is consistent, but checkpoint 20 no longer matches. */
static void test_rechained_forgery(void **state)
{
	struct fixture *f = *state;
	struct db_stmt *st = NULL;
	unsigned char prev[32];

	fill50(f);
	exec_int(f, "UPDATE audit_log SET subject = 'someone-else' WHERE seq = ?", 12);
	for (int64_t seq = 12; seq <= 50; seq++) {
		struct audit_entry e;
		int64_t ts;
		unsigned char h[32];
		char *fld[11];
		size_t n = 0;
		const void *p;

		assert_int_equal(
			db_prepare(f->c,
				   "SELECT ts_ms, lg_code, actor_kind, actor_id, actor_name,"
				   " actor_org, action, subject, purpose, request_id, outcome,"
				   " detail, prev_hash FROM audit_log WHERE seq = ?",
				   &st),
			0);
		assert_int_equal(db_bind_int64(st, 1, seq), 0);
		assert_int_equal(db_step(st), DB_ROW);
		ts = db_col_int64(st, 0);
		for (int i = 0; i < 11; i++) {
			const char *s = db_col_text(st, i + 1);
			fld[i] = s ? strdup(s) : NULL;
		}
		if (seq == 12) {
			p = db_col_blob(st, 12, &n);
			assert_int_equal(n, 32);
			memcpy(prev, p, 32);
		}
		db_done(st);
		e = (struct audit_entry){fld[0], fld[1], fld[2], fld[3], fld[4], fld[5],
					 fld[6], fld[7], fld[8], fld[9], fld[10]};
		audit_entry_hash(prev, seq, ts, &e, h);
		assert_int_equal(
			db_prepare(f->c,
				   "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
				   &st),
			0);
		assert_int_equal(db_bind_blob(st, 1, prev, 32), 0);
		assert_int_equal(db_bind_blob(st, 2, h, 32), 0);
		assert_int_equal(db_bind_int64(st, 3, seq), 0);
		assert_int_equal(db_step(st), DB_DONE);
		db_done(st);
		memcpy(prev, h, 32);
		for (int i = 0; i < 11; i++)
			free(fld[i]);
	}
	verify_broken(f, f->pk, 20, "checkpoint does not match chain");
	/* without checkpoints such a forgery would pass: they are what catches it */
	exec_int(f, "DELETE FROM audit_checkpoint WHERE seq >= ?", 0);
	struct audit_verify_result r;
	verify_ok(f, 50, &r);
	assert_int_equal(r.checkpoints, 0);
}

/* A row below seq 1 would be listed but never walked. */
static void test_row_outside_chain(void **state)
{
	struct fixture *f = *state;

	struct db_stmt *st = NULL;
	unsigned char zero[32] = {0};

	fill50(f);
	assert_int_equal(
		db_prepare(f->c,
			   "INSERT INTO audit_log (seq, ts_ms, lg_code, actor_kind, action,"
			   " outcome, prev_hash, hash) VALUES (?, 0, '302015', 'staff', 'x',"
			   " 'ok', ?, ?)",
			   &st),
		0);
	assert_int_equal(db_bind_int64(st, 1, -3), 0);
	assert_int_equal(db_bind_blob(st, 2, zero, sizeof zero), 0);
	assert_int_equal(db_bind_blob(st, 3, zero, sizeof zero), 0);
	assert_int_equal(db_step(st), DB_DONE);
	db_done(st);
	verify_broken(f, f->pk, 1, "gap");
}

static void test_restart_continues(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result r;
	int64_t seq = 0;
	struct audit *a = open_audit(f, 1000, 3600);

	append_n(a, 5);
	assert_int_equal(audit_close(a), 0);
	/* the close sealed the head */
	assert_int_equal(count(f, "SELECT MAX(seq) FROM audit_checkpoint"), 5);

	a = open_audit(f, 1000, 3600);
	struct audit_entry e = sample("302015", "resident-1", "resident.read");
	assert_int_equal(audit_append_seq(a, &e, &seq), 0);
	assert_int_equal(seq, 6);
	append_n(a, 4);
	assert_int_equal(audit_close(a), 0);

	/* closing with nothing new adds no checkpoint */
	a = open_audit(f, 1000, 3600);
	assert_int_equal(audit_close(a), 0);

	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_checkpoint"), 2);
	assert_int_equal(count(f, "SELECT MAX(seq) FROM audit_checkpoint"), 10);
	verify_ok(f, 10, &r);
	assert_int_equal(r.checkpoints, 2);
	/* the key id is recorded */
	assert_int_equal(
		count(f, "SELECT COUNT(*) FROM audit_checkpoint WHERE key_id = 'test-key-1'"), 2);
}

static void test_timed_checkpoint(void **state)
{
	struct fixture *f = *state;
	struct audit *a = open_audit(f, 1000000, 1);
	struct audit_stats st;

	append_n(a, 3);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_checkpoint"), 0);
	/* within a second or so of the last one, with the writer idle */
	for (int i = 0; i < 40 && count(f, "SELECT COUNT(*) FROM audit_checkpoint") == 0; i++)
		usleep(100 * 1000);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_checkpoint"), 1);
	assert_int_equal(count(f, "SELECT seq FROM audit_checkpoint"), 3);
	/* nothing new: no further checkpoint */
	usleep(1300 * 1000);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_checkpoint"), 1);
	audit_get_stats(a, &st);
	assert_int_equal(st.checkpoints, 1);
	assert_int_equal(audit_close(a), 0);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_checkpoint"), 1);
}

/* A batch that the database rejects fails for every caller in it, and the
 * chain continues from what was committed. */
struct failer {
	struct audit *a;
	int id;
	int ok, failed;
};

static void *failer_main(void *arg)
{
	struct failer *w = arg;
	for (int i = 0; i < 100; i++) {
		/* thread 0 poisons every tenth of its entries */
		const char *action = w->id == 0 && i % 10 == 9 ? "poison" : "resident.read";
		struct audit_entry e = sample("302015", "resident-1", action);
		int rc = audit_append(w->a, &e);
		if (rc == 0)
			w->ok++;
		else if (rc == AUDIT_EDB)
			w->failed++;
	}
	return NULL;
}

static void test_failed_batch(void **state)
{
	struct fixture *f = *state;
	struct failer w[4];
	pthread_t t[4];
	struct audit_stats st;
	struct audit_verify_result r;
	int ok = 0, failed = 0;

	if (f->pg)
		assert_int_equal(
			db_exec(f->c,
				"CREATE OR REPLACE FUNCTION audit_poison() RETURNS trigger AS $$"
				" BEGIN IF NEW.action = 'poison' THEN RAISE EXCEPTION 'poisoned';"
				" END IF; RETURN NEW; END $$ LANGUAGE plpgsql;"
				" CREATE TRIGGER audit_poison BEFORE INSERT ON audit_log"
				" FOR EACH ROW EXECUTE FUNCTION audit_poison()"),
			0);
	else
		assert_int_equal(db_exec(f->c,
					 "CREATE TRIGGER audit_poison BEFORE INSERT ON audit_log"
					 " WHEN NEW.action = 'poison'"
					 " BEGIN SELECT RAISE(ABORT, 'poisoned'); END"),
				 0);
	struct audit *a = open_audit(f, 25, 3600);
	struct audit_entry e = sample("302015", "resident-1", "poison");
	assert_int_equal(audit_append(a, &e), AUDIT_EDB);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct failer){.a = a, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, failer_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
		failed += w[i].failed;
	}
	assert_int_equal(ok + failed, 400);
	assert_true(failed >= 10); /* at least the poisoned ones */
	assert_true(w[0].failed >= 10);
	audit_get_stats(a, &st);
	assert_int_equal(st.appended, ok);
	assert_int_equal(st.failed, failed + 1);
	assert_int_equal(audit_close(a), 0);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_log"), ok);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_log WHERE action = 'poison'"), 0);
	verify_ok(f, ok, &r);
}

/* Two writers on one database (two processes, or two nodes on PostgreSQL)
 * interleave without forking the chain. */
static void test_two_writers(void **state)
{
	struct fixture *f = *state;
	struct audit *a1 = open_audit(f, 50, 3600);
	struct audit *a2 = open_audit(f, 50, 3600);
	static struct worker w[4];
	pthread_t t[4];
	struct audit_stats s1, s2;
	struct audit_verify_result r;
	int failures = 0;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.a = i % 2 ? a2 : a1, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		failures += w[i].failures;
	}
	audit_get_stats(a1, &s1);
	audit_get_stats(a2, &s2);
	assert_int_equal(audit_close(a1), 0);
	assert_int_equal(audit_close(a2), 0);
	/* On SQLite the write lock serializes them: nothing fails. On
	 * PostgreSQL a lost race on seq is retried, so failures stay rare. */
	if (!f->pg)
		assert_int_equal(failures, 0);
	assert_true(failures < 4 * PER_THREAD / 10);
	assert_int_equal(s1.appended + s2.appended, 4 * PER_THREAD - failures);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_log"), 4 * PER_THREAD - failures);
	verify_ok(f, 4 * PER_THREAD - failures, &r);
	assert_true(r.checkpoints >= 2);
}

/* ---- listing ---- */

static void test_listing_tenant_filter(void **state)
{
	struct fixture *f = *state;
	struct audit *a = open_audit(f, 1000, 3600);
	json_t *arr = NULL;
	struct {
		const char *lg, *subject;
	} rows[] = {
		{"302015", "resident-A"}, {"131016", "resident-A"}, {"302015", "resident-B"},
		{"302015", "resident-A"}, {"131016", "resident-A"}, {"302015", NULL},
		{"302015", "resident-A"},
	};
	/* seq:          1                2                3
	 *               4                5                6          7 */

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct audit_entry e = sample(rows[i].lg, rows[i].subject, "resident.read");
		if (i == 6)
			e.detail = "写しを1通交付";
		assert_int_equal(audit_append(a, &e), 0);
	}
	assert_int_equal(audit_close(a), 0);

	/* one resident of one municipality, newest first */
	assert_int_equal(audit_list_subject(f->c, "302015", "resident-A", 0, 0, &arr), 0);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "seq")), 7);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 1), "seq")), 4);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 2), "seq")), 1);
	json_t *o = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(o, "lg_code")), "302015");
	assert_string_equal(json_string_value(json_object_get(o, "actor_org")), "和歌山市 市民課");
	assert_string_equal(json_string_value(json_object_get(o, "detail")), "写しを1通交付");
	assert_string_equal(json_string_value(json_object_get(o, "purpose")),
			    "住民票の写しの交付（住民基本台帳法第12条）");
	assert_true(json_is_null(json_object_get(json_array_get(arr, 1), "detail")));
	assert_true(json_integer_value(json_object_get(o, "ts_ms")) > 1600000000000LL);
	json_decref(arr);

	/* the same resident id in another municipality is someone else's data */
	assert_int_equal(audit_list_subject(f->c, "131016", "resident-A", 0, 0, &arr), 0);
	assert_int_equal(json_array_size(arr), 2);
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(
			json_string_value(json_object_get(json_array_get(arr, i), "lg_code")),
			"131016");
	json_decref(arr);

	/* paging: before_seq and limit */
	assert_int_equal(audit_list_subject(f->c, "302015", "resident-A", 7, 1, &arr), 0);
	assert_int_equal(json_array_size(arr), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "seq")), 4);
	json_decref(arr);

	/* administrators: the whole municipality, nothing of the other */
	assert_int_equal(audit_list_tenant(f->c, "302015", 0, 100, &arr), 0);
	assert_int_equal(json_array_size(arr), 5);
	int64_t want[] = {7, 6, 4, 3, 1};
	for (size_t i = 0; i < 5; i++) {
		o = json_array_get(arr, i);
		assert_int_equal(json_integer_value(json_object_get(o, "seq")), want[i]);
		assert_string_equal(json_string_value(json_object_get(o, "lg_code")), "302015");
	}
	assert_true(json_is_null(json_object_get(json_array_get(arr, 1), "subject")));
	json_decref(arr);

	assert_int_equal(audit_list_tenant(f->c, "999999", 0, 10, &arr), 0);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);

	assert_int_equal(audit_list_subject(f->c, NULL, "resident-A", 0, 10, &arr), AUDIT_EINVAL);
	assert_null(arr);
	assert_int_equal(audit_list_subject(f->c, "302015", NULL, 0, 10, &arr), AUDIT_EINVAL);
	assert_int_equal(audit_list_tenant(f->c, "", 0, 10, &arr), AUDIT_EINVAL);
}

static void test_listing_limit(void **state)
{
	struct fixture *f = *state;
	struct audit *a = open_audit(f, 1000, 3600);
	json_t *arr = NULL;

	append_n(a, AUDIT_LIST_MAX + 20);
	assert_int_equal(audit_close(a), 0);
	assert_int_equal(audit_list_subject(f->c, "302015", "resident-1", 0, 100000, &arr), 0);
	assert_int_equal(json_array_size(arr), AUDIT_LIST_MAX);
	json_decref(arr);
	assert_int_equal(audit_list_tenant(f->c, "302015", 0, -1, &arr), 0);
	assert_int_equal(json_array_size(arr), AUDIT_LIST_DEFAULT);
	json_decref(arr);
}

/* ---- the subject index ---- */

static int64_t idx_upto(struct fixture *f)
{
	return count(f, "SELECT indexed_upto FROM audit_index_state WHERE id = 1");
}

/* The seqs audit_list_subject returns, newest first, into seqs; their number. */
static size_t list_seqs(struct fixture *f, const char *lg, const char *subject, int64_t before,
			int limit, int64_t *seqs, size_t max)
{
	json_t *arr = NULL;
	size_t n;
	assert_int_equal(audit_list_subject(f->c, lg, subject, before, limit, &arr), 0);
	n = json_array_size(arr);
	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		seqs[i] = json_integer_value(json_object_get(o, "seq"));
		assert_string_equal(json_string_value(json_object_get(o, "subject")), subject);
		assert_string_equal(json_string_value(json_object_get(o, "lg_code")), lg);
	}
	json_decref(arr);
	return n;
}

/* An entry is listed as soon as audit_append returns, before any indexer
 * pass; after passes (repeated: idempotent) it is still listed once. */
static void test_subject_listed_before_index(void **state)
{
	struct fixture *f = *state;
	struct audit *a = open_audit(f, 1000, 3600);
	struct audit_stats st;
	int64_t seqs[16], seq = 0, upto = -1;
	const char *subj[] = {"resident-A", "resident-B", "resident-A", NULL, "resident-A"};

	audit_set_indexing(a, false);
	for (size_t i = 0; i < 5; i++) {
		struct audit_entry e = sample("302015", subj[i], "resident.read");
		assert_int_equal(audit_append_seq(a, &e, &seq), 0);
		assert_int_equal(seq, (int64_t)i + 1);
		if (subj[i] && strcmp(subj[i], "resident-A") == 0) {
			/* at once, and newest first */
			size_t n = list_seqs(f, "302015", "resident-A", 0, 0, seqs, 16);
			assert_true(n >= 1);
			assert_int_equal(seqs[0], seq);
		}
	}
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_subject"), 0);
	assert_int_equal(idx_upto(f), 0);
	assert_int_equal(list_seqs(f, "302015", "resident-A", 0, 0, seqs, 16), 3);
	assert_int_equal(seqs[0], 5);
	assert_int_equal(seqs[1], 3);
	assert_int_equal(seqs[2], 1);

	/* a pass from another connection, twice */
	assert_int_equal(audit_index_pass(f->c, 0, &upto), 0);
	assert_int_equal(upto, 5);
	assert_int_equal(audit_index_pass(f->c, 0, &upto), 0);
	assert_int_equal(upto, 5);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_subject"), 4); /* not the NULL */
	assert_int_equal(idx_upto(f), 5);
	assert_int_equal(list_seqs(f, "302015", "resident-A", 0, 0, seqs, 16), 3);
	assert_int_equal(seqs[0], 5);
	assert_int_equal(seqs[1], 3);
	assert_int_equal(seqs[2], 1);
	assert_int_equal(list_seqs(f, "302015", "resident-B", 0, 0, seqs, 16), 1);
	assert_int_equal(seqs[0], 2);
	assert_int_equal(list_seqs(f, "131016", "resident-A", 0, 0, seqs, 16), 0);

	/* a lost state row: the listing scans everything, a pass re-indexes
	 * rows already there without failing or duplicating */
	exec_int(f, "DELETE FROM audit_index_state WHERE id >= ?", 0);
	assert_int_equal(list_seqs(f, "302015", "resident-A", 0, 0, seqs, 16), 3);
	assert_int_equal(audit_index_pass(f->c, 2, &upto), 0); /* at most 2 per pass */
	assert_int_equal(upto, 2);
	assert_int_equal(list_seqs(f, "302015", "resident-A", 0, 0, seqs, 16), 3);
	assert_int_equal(audit_index_pass(f->c, 0, &upto), 0);
	assert_int_equal(upto, 5);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_subject"), 4);
	assert_int_equal(list_seqs(f, "302015", "resident-A", 0, 0, seqs, 16), 3);
	assert_int_equal(seqs[0], 5);
	assert_int_equal(seqs[2], 1);

	/* the writer's own pass, within an interval or so of going idle */
	audit_set_indexing(a, true);
	struct audit_entry e = sample("302015", "resident-A", "resident.read");
	assert_int_equal(audit_append(a, &e), 0);
	assert_int_equal(list_seqs(f, "302015", "resident-A", 0, 0, seqs, 16), 4);
	for (int i = 0; i < 50; i++) {
		audit_get_stats(a, &st);
		if (st.indexed_upto == 6)
			break;
		usleep(50 * 1000);
	}
	audit_get_stats(a, &st);
	assert_int_equal(st.indexed_upto, 6);
	assert_true(st.index_passes >= 1);
	assert_int_equal(idx_upto(f), 6);
	assert_int_equal(list_seqs(f, "302015", "resident-A", 0, 0, seqs, 16), 4);
	assert_int_equal(seqs[0], 6);
	assert_int_equal(seqs[3], 1);
	assert_int_equal(audit_close(a), 0);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_subject"), 5);
}

/* Paging with before_seq across the indexed/un-indexed boundary returns
 * every entry once, in order. */
static void test_subject_paging_boundary(void **state)
{
	struct fixture *f = *state;
	struct audit *a = open_audit(f, 1000, 3600);
	int64_t want[64], got[64], page[8], upto = 0;
	size_t nwant = 0, ngot = 0;

	audit_set_indexing(a, false);
	for (int i = 1; i <= 60; i++) {
		/* resident-1 at 2 of every 3 seqs; the others someone else or no one */
		const char *subj = i % 3 ? "resident-1" : i % 2 ? "resident-2" : NULL;
		struct audit_entry e = sample("302015", subj, "resident.read");
		assert_int_equal(audit_append(a, &e), 0);
		if (i % 3)
			want[nwant++] = i;
		if (i == 31) /* boundary in the middle of a page */
			assert_int_equal(audit_index_pass(f->c, 0, &upto), 0);
	}
	assert_int_equal(upto, 31);
	assert_int_equal(idx_upto(f), 31);
	for (int limit = 1; limit <= 7; limit += 3) {
		int64_t before = 0;
		ngot = 0;
		for (;;) {
			size_t n = list_seqs(f, "302015", "resident-1", before, limit, page, 8);
			assert_true(n <= (size_t)limit);
			if (n == 0)
				break;
			for (size_t i = 0; i < n; i++) {
				assert_true(ngot < 64);
				got[ngot++] = page[i];
			}
			before = page[n - 1];
		}
		assert_int_equal(ngot, nwant);
		for (size_t i = 0; i < ngot; i++)
			assert_int_equal(got[i], want[nwant - 1 - i]); /* strictly newest first */
	}
	/* one page holding both parts */
	assert_int_equal(list_seqs(f, "302015", "resident-1", 0, 64, got, 64), nwant);
	assert_int_equal(list_seqs(f, "302015", "resident-1", 35, 3, got, 64), 3);
	assert_int_equal(got[0], 34);
	assert_int_equal(got[1], 32);
	assert_int_equal(got[2], 31);
	assert_int_equal(audit_close(a), 0);
}

/* A process that dies before indexing loses nothing: the listing reads the
 * tail meanwhile, and the next writer indexes it without being asked. */
static void test_subject_crash_before_index(void **state)
{
	struct fixture *f = *state;
	struct audit *a = open_audit(f, 1000, 3600);
	struct audit_stats st;
	struct audit_verify_result r;
	int64_t seqs[32];

	audit_set_indexing(a, false);
	append_n(a, 20);
	assert_int_equal(audit_close(a), 0); /* no pass at close: the "crash" */
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_subject"), 0);
	assert_int_equal(idx_upto(f), 0);
	assert_int_equal(list_seqs(f, "302015", "resident-1", 0, 0, seqs, 32), 20);

	a = open_audit(f, 1000, 3600);
	for (int i = 0; i < 50; i++) {
		audit_get_stats(a, &st);
		if (st.indexed_upto == 20)
			break;
		usleep(50 * 1000);
	}
	audit_get_stats(a, &st);
	assert_int_equal(st.indexed_upto, 20);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_subject"), 20);
	assert_int_equal(list_seqs(f, "302015", "resident-1", 0, 0, seqs, 32), 20);
	for (int i = 0; i < 20; i++)
		assert_int_equal(seqs[i], 20 - i);
	append_n(a, 3);
	assert_int_equal(audit_close(a), 0);
	assert_int_equal(idx_upto(f), 23);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_subject"), 23);
	assert_int_equal(list_seqs(f, "302015", "resident-1", 0, 0, seqs, 32), 23);
	verify_ok(f, 23, &r); /* the new tables do not disturb verify */
}

/* Rows written with the step-1 schema get their subjects copied by step 2,
 * which also drops the old index. */
static void test_migration_from_step1(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result r;
	unsigned char prev[32] = {0}, h[32];
	int64_t seqs[16];
	char err[256];

	assert_int_equal(db_exec(f->c, "DROP TABLE audit_subject; DROP TABLE audit_index_state;"
				       " DROP TABLE audit_log; DROP TABLE audit_checkpoint;"
				       " DELETE FROM schema_migrations WHERE module = 'audit'"),
			 0);
	if (db_migrate(f->c, "audit", audit_migrations, 1, err, sizeof err) != 0)
		fail_msg("step 1: %s", err);
	for (int64_t seq = 1; seq <= 10; seq++) {
		struct db_stmt *st = NULL;
		const char *subj = seq % 5 == 0 ? NULL : seq % 2 ? "resident-A" : "resident-B";
		struct audit_entry e =
			sample(seq == 7 ? "131016" : "302015", subj, "resident.read");
		audit_entry_hash(prev, seq, 1700000000000LL + seq, &e, h);
		assert_int_equal(
			db_prepare(f->c,
				   "INSERT INTO audit_log (seq, ts_ms, lg_code, actor_kind,"
				   " actor_id, actor_name, actor_org, action, subject, purpose,"
				   " request_id, outcome, detail, prev_hash, hash)"
				   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				   &st),
			0);
		const char *t[11] = {e.lg_code,    e.actor_kind, e.actor_id, e.actor_name,
				     e.actor_org,  e.action,     e.subject,  e.purpose,
				     e.request_id, e.outcome,    e.detail};
		assert_int_equal(db_bind_int64(st, 1, seq), 0);
		assert_int_equal(db_bind_int64(st, 2, 1700000000000LL + seq), 0);
		for (int i = 0; i < 11; i++)
			assert_int_equal(db_bind_text(st, 3 + i, t[i]), 0);
		assert_int_equal(db_bind_blob(st, 14, prev, 32), 0);
		assert_int_equal(db_bind_blob(st, 15, h, 32), 0);
		assert_int_equal(db_step(st), DB_DONE);
		db_done(st);
		memcpy(prev, h, 32);
	}
	if (audit_migrate(f->c, err, sizeof err) != 0)
		fail_msg("step 2: %s", err);
	/* seqs 1, 3, 9 (A in 302015), 7 (A in 131016), 2, 4, 6, 8 (B); 5, 10 NULL */
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_subject"), 8);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit_subject WHERE lg_code = '131016'"
				  " AND subject = 'resident-A' AND seq = 7"),
			 1);
	assert_int_equal(idx_upto(f), 10);
	if (f->pg)
		assert_int_equal(count(f, "SELECT COUNT(*) FROM pg_indexes"
					  " WHERE indexname = 'audit_log_subject'"),
				 0);
	else
		assert_int_equal(count(f, "SELECT COUNT(*) FROM sqlite_master"
					  " WHERE name = 'audit_log_subject'"),
				 0);
	assert_int_equal(list_seqs(f, "302015", "resident-A", 0, 0, seqs, 16), 3);
	assert_int_equal(seqs[0], 9);
	assert_int_equal(seqs[1], 3);
	assert_int_equal(seqs[2], 1);
	assert_int_equal(list_seqs(f, "302015", "resident-B", 0, 0, seqs, 16), 4);

	/* the writer continues the migrated chain, and the index with it */
	struct audit *a = open_audit(f, 1000, 3600);
	struct audit_entry e = sample("302015", "resident-A", "resident.read");
	int64_t seq = 0;
	assert_int_equal(audit_append_seq(a, &e, &seq), 0);
	assert_int_equal(seq, 11);
	assert_int_equal(audit_close(a), 0);
	assert_int_equal(idx_upto(f), 11);
	assert_int_equal(list_seqs(f, "302015", "resident-A", 0, 0, seqs, 16), 4);
	assert_int_equal(seqs[0], 11);
	verify_ok(f, 11, &r);
}

static void test_migrations_list(void **state)
{
	struct fixture *f = *state;
	char err[256];

	/* app/modules.c walks the list up to a version-0 entry */
	assert_int_equal(audit_nmigrations, 2);
	assert_int_equal(audit_migrations[audit_nmigrations].version, 0);
	assert_null(audit_migrations[audit_nmigrations].sql);
	for (size_t i = 0; i < audit_nmigrations; i++)
		assert_int_equal(audit_migrations[i].version, (int)i + 1);
	/* applying again is a no-op */
	assert_int_equal(audit_migrate(f->c, err, sizeof err), 0);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM schema_migrations WHERE module = 'audit'"),
			 2);
}

static void test_open_bad_args(void **state)
{
	struct fixture *f = *state;
	struct audit *a = (struct audit *)&a;

	assert_int_equal(audit_open(f->db, f->sk, "k", 0, 10, &a), AUDIT_EINVAL);
	assert_null(a);
	assert_int_equal(audit_open(f->db, f->sk, "k", 10, 0, &a), AUDIT_EINVAL);
	assert_int_equal(audit_open(f->db, f->sk, "", 10, 10, &a), AUDIT_EINVAL);
	assert_int_equal(audit_open(NULL, f->sk, "k", 10, 10, &a), AUDIT_EINVAL);
	/* without the tables */
	assert_int_equal(db_exec(f->c, "DROP TABLE audit_log"), 0);
	assert_int_equal(audit_open(f->db, f->sk, "k", 10, 10, &a), AUDIT_EDB);
	assert_null(a);
	assert_int_equal(audit_close(NULL), 0);
}

static void test_verify_empty(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result r;

	verify_ok(f, 0, &r);
	assert_int_equal(r.checkpoints, 0);
	/* a checkpoint with no entries at all: the chain was emptied */
	struct audit *a = open_audit(f, 1000, 3600);
	append_n(a, 2);
	assert_int_equal(audit_close(a), 0);
	exec_int(f, "DELETE FROM audit_log WHERE seq > ?", 0);
	verify_broken(f, f->pk, 1, "gap");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_format),
		cmocka_unit_test(test_entry_check),
		cmocka_unit_test_setup_teardown(test_concurrent_then_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_on_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_null_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_checkpoint_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rechained_forgery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_outside_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timed_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_tenant_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subject_listed_before_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subject_paging_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subject_crash_before_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_step1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrations_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_empty, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
