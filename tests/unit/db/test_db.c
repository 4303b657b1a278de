/* Unit tests for src/db (db.h): every case runs against a temporary SQLite
 * file and, when MADO_TEST_PG_URL is set, against that PostgreSQL database
 * too (inside a schema of its own, dropped afterwards). No mocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "db/db.h"

#define POOL 3

struct fixture {
	struct db *db;
	enum db_kind kind;
	char url[1024];
	char dir[128];       /* SQLite: the temporary directory */
	char schema[64];     /* PostgreSQL: the schema the tests run in */
	char base_url[1024]; /* PostgreSQL: MADO_TEST_PG_URL as given */
};

/* ---- helpers ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void exec_ok(struct db_conn *c, const char *sql)
{
	int rc = db_exec(c, sql);
	if (rc != 0)
		fail_msg("db_exec(%s) = %d: %s", sql, rc, db_errmsg(c));
}

/* DDL that differs only in spelling between the backends. */
static void ddl(struct fixture *f, struct db_conn *c, const char *sqlite_sql, const char *pg_sql)
{
	exec_ok(c, f->kind == DB_POSTGRES ? pg_sql : sqlite_sql);
}

static int64_t query_int(struct db_conn *c, const char *sql)
{
	int64_t v = -12345;
	int rc = db_query_int64(c, sql, &v);
	if (rc != DB_ROW)
		fail_msg("db_query_int64(%s) = %d: %s", sql, rc, db_errmsg(c));
	return v;
}

static struct db_stmt *prep(struct db_conn *c, const char *sql)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(c, sql, &st);
	if (rc != 0)
		fail_msg("db_prepare(%s) = %d: %s", sql, rc, db_errmsg(c));
	assert_non_null(st);
	return st;
}

static void url_with_param(char *out, size_t n, const char *base, const char *param)
{
	snprintf(out, n, "%s%s%s", base, strchr(base, '?') ? "&" : "?", param);
}

/* ---- fixtures ---- */

static int setup_sqlite(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/mado_test_db.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->url, sizeof f->url, "sqlite:%s/test.db", f->dir);
	f->kind = DB_SQLITE;
	*state = f;
	return 0;
}

static int setup_pg(void **state)
{
	const char *base = getenv("MADO_TEST_PG_URL");
	struct fixture *f = calloc(1, sizeof *f);
	char err[512], param[128], sql[256];

	f->kind = DB_POSTGRES;
	snprintf(f->base_url, sizeof f->base_url, "%s", base);
	snprintf(f->schema, sizeof f->schema, "mado_unit_%ld", (long)getpid());
	struct db *admin = db_open(base, 1, err, sizeof err);
	if (!admin) {
		fprintf(stderr, "db_open(MADO_TEST_PG_URL): %s\n", err);
		return -1;
	}
	struct db_conn *c = db_acquire(admin);
	snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", f->schema,
		 f->schema);
	int rc = db_exec(c, sql);
	if (rc)
		fprintf(stderr, "%s: %s\n", sql, db_errmsg(c));
	db_release(c);
	db_close(admin);
	if (rc)
		return -1;
	snprintf(param, sizeof param, "options=-csearch_path%%3D%s", f->schema);
	url_with_param(f->url, sizeof f->url, base, param);
	*state = f;
	return 0;
}

/* Each case gets a pool of its own, so that one failing while it holds
 * connections cannot leave the next waiting for them forever. */
static int open_pool(void **state)
{
	struct fixture *f = *state;
	char err[512];
	f->db = db_open(f->url, POOL, err, sizeof err);
	if (!f->db) {
		fprintf(stderr, "db_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int close_pool(void **state)
{
	struct fixture *f = *state;
	db_close(f->db); /* refuses (and leaks) if a failed case kept connections */
	f->db = NULL;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->kind == DB_SQLITE) {
		rm_tree(f->dir);
	} else {
		char err[512], sql[256];
		struct db *admin = db_open(f->base_url, 1, err, sizeof err);
		if (admin) {
			struct db_conn *c = db_acquire(admin);
			snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", f->schema);
			db_exec(c, sql);
			db_release(c);
			db_close(admin);
		}
	}
	free(f);
	return 0;
}

/* ---- cases on both backends ---- */

static void test_bind_all_types(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	struct db_stmt *st;
	static const unsigned char blob[] = {1, 0, 2, 0, 255};

	ddl(f, c,
	    "CREATE TABLE t_types (k INTEGER, i BIGINT, d DOUBLE PRECISION, t TEXT, b BLOB, n TEXT)",
	    "CREATE TABLE t_types (k INTEGER, i BIGINT, d DOUBLE PRECISION, t TEXT, b BYTEA, n TEXT)");
	st = prep(c, "INSERT INTO t_types (k, i, d, t, b, n) VALUES (?, ?, ?, ?, ?, ?)");
	const int64_t ints[] = {INT64_MIN, INT64_MAX, 0, -1};
	const double dbls[] = {3.141592653589793, -0.5e-300, 0.0, 1e300};
	for (int k = 0; k < 4; k++) {
		assert_int_equal(db_bind_int64(st, 1, k), 0);
		assert_int_equal(db_bind_int64(st, 2, ints[k]), 0);
		assert_int_equal(db_bind_double(st, 3, dbls[k]), 0);
		assert_int_equal(db_bind_text(st, 4, k == 3 ? NULL : "hello"), 0);
		assert_int_equal(db_bind_blob(st, 5, blob, sizeof blob), 0);
		assert_int_equal(k % 2 ? db_bind_null(st, 6) : db_bind_text(st, 6, NULL), 0);
		assert_int_equal(db_step(st), DB_DONE);
		assert_int_equal(db_changes(st), 1);
		db_done(st);
	}

	st = prep(c, "SELECT k, i, d, t, b, n FROM t_types ORDER BY k");
	for (int k = 0; k < 4; k++) {
		assert_int_equal(db_step(st), DB_ROW);
		assert_int_equal(db_col_count(st), 6); /* known once a row is read */
		assert_int_equal(db_col_int64(st, 0), k);
		assert_true(db_col_int64(st, 1) == ints[k]);
		assert_true(db_col_double(st, 2) == dbls[k]);
		if (k == 3) {
			assert_true(db_col_is_null(st, 3));
			assert_null(db_col_text(st, 3));
		} else {
			assert_false(db_col_is_null(st, 3));
			assert_string_equal(db_col_text(st, 3), "hello");
		}
		size_t n = 99;
		const unsigned char *p = db_col_blob(st, 4, &n);
		assert_int_equal(n, sizeof blob);
		assert_memory_equal(p, blob, sizeof blob);
		assert_true(db_col_is_null(st, 5));
		assert_null(db_col_text(st, 5));
		assert_int_equal(db_col_int64(st, 5), 0);
		n = 99;
		assert_null(db_col_blob(st, 5, &n));
		assert_int_equal(n, 0);
	}
	assert_int_equal(db_step(st), DB_DONE);
	assert_int_equal(db_step(st), DB_DONE); /* stays done, no re-execution */
	db_done(st);

	/* Integers read as text, the same on both backends. */
	st = prep(c, "SELECT i FROM t_types WHERE k = ?");
	assert_int_equal(db_bind_int64(st, 1, 1), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "9223372036854775807");
	db_done(st);
	db_release(c);
}

static void test_blobs(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	unsigned char all[1024], zeros[16] = {0};
	size_t big_n = 1u << 20;
	unsigned char *big = malloc(big_n);
	for (size_t i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)i;
	for (size_t i = 0; i < big_n; i++)
		big[i] = (unsigned char)(i * 2654435761u >> 13);

	ddl(f, c, "CREATE TABLE t_blob (k INTEGER PRIMARY KEY, b BLOB)",
	    "CREATE TABLE t_blob (k INTEGER PRIMARY KEY, b BYTEA)");
	struct db_stmt *st = prep(c, "INSERT INTO t_blob (k, b) VALUES (?, ?)");
	const void *ptrs[] = {all, zeros, "", NULL, big};
	const size_t lens[] = {sizeof all, sizeof zeros, 0, 0, big_n};
	for (int k = 0; k < 5; k++) {
		assert_int_equal(db_bind_int64(st, 1, k), 0);
		if (k == 2) /* a NULL pointer of length 0 is an empty blob too */
			assert_int_equal(db_bind_blob(st, 2, NULL, 0), 0);
		else if (ptrs[k])
			assert_int_equal(db_bind_blob(st, 2, ptrs[k], lens[k]), 0);
		else
			assert_int_equal(db_bind_null(st, 2), 0);
		assert_int_equal(db_step(st), DB_DONE);
		db_done(st);
	}
	/* A NULL pointer with a length is misuse, not a crash. */
	assert_int_equal(db_bind_blob(st, 2, NULL, 5), DB_EMISUSE);
	db_done(st);

	st = prep(c, "SELECT b, length(b) FROM t_blob ORDER BY k");
	for (int k = 0; k < 5; k++) {
		size_t n = 12345;
		assert_int_equal(db_step(st), DB_ROW);
		const void *p = db_col_blob(st, 0, &n);
		if (!ptrs[k]) {
			assert_null(p);
			assert_int_equal(n, 0);
			assert_true(db_col_is_null(st, 0));
			continue;
		}
		assert_non_null(p); /* an empty blob is not NULL */
		assert_false(db_col_is_null(st, 0));
		assert_int_equal(n, lens[k]);
		assert_int_equal(db_col_int64(st, 1), (int64_t)lens[k]);
		if (n)
			assert_memory_equal(p, ptrs[k], n);
	}
	assert_int_equal(db_step(st), DB_DONE);
	db_done(st);
	free(big);
	db_release(c);
}

static void test_utf8_japanese(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	/* Kanji, a kana half-width run, and 𠮷 outside the BMP (4 bytes). */
	const char *name = "和歌山市 〒640-8511 𠮷野家 ｶﾀｶﾅ";

	exec_ok(c, "CREATE TABLE t_utf8 (k INTEGER PRIMARY KEY, name TEXT NOT NULL)");
	struct db_stmt *st = prep(c, "INSERT INTO t_utf8 (k, name) VALUES (?, ?)");
	assert_int_equal(db_bind_int64(st, 1, 1), 0);
	assert_int_equal(db_bind_text(st, 2, name), 0);
	assert_int_equal(db_step(st), DB_DONE);
	db_done(st);
	st = prep(c, "INSERT INTO t_utf8 (k, name) VALUES (?, ?)");
	assert_int_equal(db_bind_int64(st, 1, 2), 0);
	assert_int_equal(db_bind_textn(st, 2, name, 6), 0); /* "和歌": 2 characters */
	assert_int_equal(db_step(st), DB_DONE);
	db_done(st);

	st = prep(c, "SELECT name, length(name) FROM t_utf8 WHERE name LIKE ? ORDER BY k");
	assert_int_equal(db_bind_text(st, 1, "和歌%"), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), name);
	assert_int_equal(db_col_int64(st, 1), 23); /* characters, not bytes */
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "和歌");
	assert_int_equal(db_col_int64(st, 1), 2);
	assert_int_equal(db_step(st), DB_DONE);
	db_done(st);

	st = prep(c, "SELECT length(CAST(? AS TEXT))");
	assert_int_equal(db_bind_text(st, 1, "和歌山市"), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int64(st, 0), 4);
	db_done(st);

	/* Text with an embedded NUL is refused on both backends. */
	st = prep(c, "SELECT ?");
	assert_int_equal(db_bind_textn(st, 1, "a\0b", 3), DB_EMISUSE);
	db_done(st);
	db_release(c);
}

static void test_transactions(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	struct db_conn *other = db_acquire(f->db);
	assert_ptr_not_equal(c, other);

	exec_ok(c, "CREATE TABLE t_tx (v INTEGER NOT NULL)");
	assert_int_equal(db_begin(c), 0);
	exec_ok(c, "INSERT INTO t_tx VALUES (1)");
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_tx"), 1);
	assert_int_equal(db_rollback(c), 0);
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_tx"), 0);

	assert_int_equal(db_begin_write(c), 0);
	assert_int_equal(db_begin(c), DB_EMISUSE); /* no nesting */
	exec_ok(c, "INSERT INTO t_tx VALUES (2)");
	/* Not visible to another connection before commit. */
	assert_int_equal(query_int(other, "SELECT COUNT(*) FROM t_tx"), 0);
	assert_int_equal(db_commit(c), 0);
	assert_int_equal(query_int(other, "SELECT COUNT(*) FROM t_tx"), 1);

	assert_int_equal(db_commit(c), DB_EMISUSE); /* nothing open */
	assert_int_equal(db_rollback(c), 0);        /* harmless when nothing is open */

	/* Releasing with a transaction open rolls it back. */
	assert_int_equal(db_begin(c), 0);
	exec_ok(c, "INSERT INTO t_tx VALUES (3)");
	db_release(c);
	assert_int_equal(query_int(other, "SELECT COUNT(*) FROM t_tx"), 1);
	c = db_acquire(f->db);
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_tx"), 1);
	assert_int_equal(db_begin(c), 0); /* the connection came back clean */
	assert_int_equal(db_rollback(c), 0);
	db_release(other);
	db_release(c);
}

static void test_failed_statement_dooms_transaction(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);

	exec_ok(c, "CREATE TABLE t_doom (k INTEGER PRIMARY KEY)");
	assert_int_equal(db_begin_write(c), 0);
	exec_ok(c, "INSERT INTO t_doom VALUES (1)");
	assert_int_equal(db_exec(c, "INSERT INTO t_doom VALUES (1)"), DB_ECONSTRAINT);
	/* Commit after a failure rolls everything back on both backends, and
	 * says why with the first failure's code. */
	assert_int_equal(db_commit(c), DB_ECONSTRAINT);
	assert_non_null(strstr(db_errmsg(c), "rolled back"));
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_doom"), 0);
	assert_int_equal(db_begin(c), 0);
	exec_ok(c, "INSERT INTO t_doom VALUES (2)");
	assert_int_equal(db_commit(c), 0);
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_doom"), 1);
	db_release(c);
}

static void test_constraint_mapping(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	struct db_stmt *st;

	exec_ok(c, "CREATE TABLE t_con (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, "
		   "age INTEGER CHECK (age >= 0))");
	exec_ok(c, "CREATE TABLE t_child (pid INTEGER REFERENCES t_con(id))");
	st = prep(c, "INSERT INTO t_con (id, email, age) VALUES (?, ?, ?)");
	assert_int_equal(db_bind_int64(st, 1, 1), 0);
	assert_int_equal(db_bind_text(st, 2, "secret-address@example.jp"), 0);
	assert_int_equal(db_bind_int64(st, 3, 30), 0);
	assert_int_equal(db_step(st), DB_DONE);
	db_done(st);

	struct {
		int64_t id;
		const char *email;
		int64_t age;
	} bad[] = {
		{2, "secret-address@example.jp", 1}, /* unique */
		{1, "other@example.jp", 1},          /* primary key */
		{3, NULL, 1},                        /* not null */
		{4, "x@example.jp", -1},             /* check */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(db_bind_int64(st, 1, bad[i].id), 0);
		assert_int_equal(db_bind_text(st, 2, bad[i].email), 0);
		assert_int_equal(db_bind_int64(st, 3, bad[i].age), 0);
		assert_int_equal(db_step(st), DB_ECONSTRAINT);
		assert_true(strlen(db_errmsg(c)) > 0);
		/* The offending value never reaches the message (it may be personal). */
		assert_null(strstr(db_errmsg(c), "secret-address"));
		db_done(st);
	}
	/* Foreign keys are enforced (SQLite: PRAGMA foreign_keys=ON). */
	assert_int_equal(db_exec(c, "INSERT INTO t_child VALUES (999)"), DB_ECONSTRAINT);
	exec_ok(c, "INSERT INTO t_child VALUES (1)");
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_con"), 1);

	/* Strings of every code are distinct. */
	const int codes[] = {DB_OK,          DB_ROW,   DB_DONE,  DB_EFAIL,
			     DB_ECONSTRAINT, DB_EBUSY, DB_ECONN, DB_EMISUSE};
	for (size_t i = 0; i < 8; i++) {
		assert_non_null(db_strerror(codes[i]));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(db_strerror(codes[i]), db_strerror(codes[j]));
	}
	assert_non_null(db_strerror(-999));
	db_release(c);
}

static void test_busy_mapping(void **state)
{
	struct fixture *f = *state;
	struct db_conn *a = db_acquire(f->db);
	struct db_conn *b = db_acquire(f->db);

	exec_ok(a, "CREATE TABLE t_busy (k INTEGER PRIMARY KEY, v INTEGER)");
	exec_ok(a, "INSERT INTO t_busy VALUES (1, 0)");
	if (f->kind == DB_SQLITE) {
		/* b reads a snapshot, a commits a write, b's write cannot upgrade. */
		assert_int_equal(db_begin(b), 0);
		assert_int_equal(query_int(b, "SELECT v FROM t_busy"), 0);
		exec_ok(a, "UPDATE t_busy SET v = 1");
		assert_int_equal(db_exec(b, "UPDATE t_busy SET v = 2"), DB_EBUSY);
		db_rollback(b);
	} else {
		/* a holds a row lock; b gives up after its lock timeout. */
		exec_ok(b, "SET lock_timeout = 100");
		assert_int_equal(db_begin(a), 0);
		exec_ok(a, "UPDATE t_busy SET v = 1");
		assert_int_equal(db_begin(b), 0);
		assert_int_equal(db_exec(b, "UPDATE t_busy SET v = 2"), DB_EBUSY);
		assert_int_equal(db_rollback(b), 0);
		assert_int_equal(db_commit(a), 0);
		exec_ok(b, "SET lock_timeout = 5000");
	}
	assert_int_equal(query_int(b, "SELECT v FROM t_busy"), 1);
	db_release(a);
	db_release(b);
}

static void test_stmt_cache(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	const char *sql = "SELECT ? + 1";
	struct db_stmt *s1, *s2, *s3;

	s1 = prep(c, sql);
	assert_int_equal(db_bind_int64(s1, 1, 41), 0);
	assert_int_equal(db_step(s1), DB_ROW);
	assert_int_equal(db_col_int64(s1, 0), 42);
	db_done(s1);
	/* Same text, even from another buffer: the same cached statement. */
	char copy[32];
	snprintf(copy, sizeof copy, "%s", sql);
	s2 = prep(c, copy);
	assert_ptr_equal(s1, s2);
	/* Bindings do not leak from one use to the next. */
	assert_int_equal(db_step(s2), DB_ROW);
	assert_true(db_col_is_null(s2, 0));

	/* Same SQL while it is running: a private statement, both usable. */
	s3 = prep(c, sql);
	assert_ptr_not_equal(s2, s3);
	assert_int_equal(db_bind_int64(s3, 1, 1), 0);
	assert_int_equal(db_step(s3), DB_ROW);
	assert_int_equal(db_col_int64(s3, 0), 2);
	db_done(s3);
	db_done(s2);
	assert_ptr_equal(prep(c, sql), s1);
	db_done(s1);

	/* Nested queries: iterate one result while running another statement. */
	exec_ok(c, "CREATE TABLE t_cache (k INTEGER PRIMARY KEY, v INTEGER)");
	struct db_stmt *ins = prep(c, "INSERT INTO t_cache (k, v) VALUES (?, ?)");
	db_done(ins);
	assert_int_equal(db_begin_write(c), 0);
	for (int k = 0; k < 1000; k++) {
		struct db_stmt *again = prep(c, "INSERT INTO t_cache (k, v) VALUES (?, ?)");
		assert_ptr_equal(again, ins);
		assert_int_equal(db_bind_int64(again, 1, k), 0);
		assert_int_equal(db_bind_int64(again, 2, k * 2), 0);
		assert_int_equal(db_step(again), DB_DONE);
		db_done(again);
	}
	assert_int_equal(db_commit(c), 0);
	struct db_stmt *outer = prep(c, "SELECT k FROM t_cache WHERE k < 5 ORDER BY k");
	int rows = 0;
	while (db_step(outer) == DB_ROW) {
		struct db_stmt *inner = prep(c, "SELECT v FROM t_cache WHERE k = ?");
		assert_int_equal(db_bind_int64(inner, 1, db_col_int64(outer, 0)), 0);
		assert_int_equal(db_step(inner), DB_ROW);
		assert_int_equal(db_col_int64(inner, 0), 2 * db_col_int64(outer, 0));
		db_done(inner);
		rows++;
	}
	assert_int_equal(rows, 5);
	db_done(outer);

	/* More distinct statements than the cache holds: all still work. */
	char text[64];
	for (int k = 0; k < 600; k++) {
		snprintf(text, sizeof text, "SELECT %d", k);
		struct db_stmt *st = prep(c, text);
		assert_int_equal(db_step(st), DB_ROW);
		assert_int_equal(db_col_int64(st, 0), k);
		db_done(st);
	}
	s1 = prep(c, sql);
	assert_int_equal(db_bind_int64(s1, 1, 9), 0);
	assert_int_equal(db_step(s1), DB_ROW);
	assert_int_equal(db_col_int64(s1, 0), 10);
	db_done(s1);
	db_release(c);
}

static void test_schema_change_under_cached_statement(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	const char *sql = "SELECT * FROM t_shape";

	exec_ok(c, "CREATE TABLE t_shape (a INTEGER)");
	exec_ok(c, "INSERT INTO t_shape VALUES (1)");
	struct db_stmt *st = prep(c, sql);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_count(st), 1);
	db_done(st);
	/* The cached statement's result shape changes under it. */
	exec_ok(c, "ALTER TABLE t_shape ADD COLUMN b TEXT DEFAULT 'x'");
	st = prep(c, sql);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_count(st), 2);
	assert_string_equal(db_col_text(st, 1), "x");
	db_done(st);
	db_release(c);
}

struct counter_arg {
	struct db *db;
	int iterations;
	atomic_int errors;
};

static void *counter_thread(void *p)
{
	struct counter_arg *a = p;
	for (int i = 0; i < a->iterations; i++) {
		struct db_conn *c = db_acquire(a->db);
		int rc, tries = 0;
		do {
			int64_t v = 0;
			rc = db_begin_write(c);
			if (rc == 0)
				rc = db_query_int64(c, "SELECT v FROM t_counter", &v) == DB_ROW ?
					     0 :
					     DB_EFAIL;
			struct db_stmt *st = NULL;
			if (rc == 0)
				rc = db_prepare(c, "UPDATE t_counter SET v = ?", &st);
			if (rc == 0 && (rc = db_bind_int64(st, 1, v + 1)) == 0)
				rc = db_step(st) == DB_DONE ? 0 : DB_EFAIL;
			db_done(st);
			if (rc == 0)
				rc = db_commit(c);
			else
				db_rollback(c);
		} while (rc == DB_EBUSY && ++tries < 100);
		if (rc != 0)
			atomic_fetch_add(&a->errors, 1);
		db_release(c);
	}
	return NULL;
}

static void test_concurrent_acquire(void **state)
{
	struct fixture *f = *state;
	enum { THREADS = 6, ITER = 100 };
	struct db_conn *c = db_acquire(f->db);
	exec_ok(c, "CREATE TABLE t_counter (v INTEGER NOT NULL)");
	exec_ok(c, "INSERT INTO t_counter VALUES (0)");
	db_release(c);

	struct counter_arg arg = {.db = f->db, .iterations = ITER};
	atomic_init(&arg.errors, 0);
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, counter_thread, &arg), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&arg.errors), 0);

	c = db_acquire(f->db);
	/* Every read-modify-write under db_begin_write() counted exactly once. */
	assert_int_equal(query_int(c, "SELECT v FROM t_counter"), THREADS * ITER);
	int in_use, total;
	uint64_t waits;
	db_pool_stats(f->db, &in_use, &total, &waits);
	assert_int_equal(in_use, 1);
	assert_int_equal(total, POOL);
	db_release(c);
	db_pool_stats(f->db, &in_use, NULL, NULL);
	assert_int_equal(in_use, 0);
}

struct waiter_arg {
	struct db *db;
	atomic_int got;
};

static void *waiter_thread(void *p)
{
	struct waiter_arg *a = p;
	struct db_conn *c = db_acquire(a->db);
	atomic_store(&a->got, 1);
	db_release(c);
	return NULL;
}

static void test_pool_waits_for_release(void **state)
{
	struct fixture *f = *state;
	char err[512];
	struct db *db = db_open(f->url, 1, err, sizeof err);
	assert_non_null(db);
	struct db_conn *c = db_acquire(db);
	struct waiter_arg arg = {.db = db};
	atomic_init(&arg.got, 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, waiter_thread, &arg), 0);
	uint64_t waits = 0;
	for (int i = 0; i < 5000 && waits == 0; i++) {
		db_pool_stats(db, NULL, NULL, &waits);
		usleep(1000);
	}
	assert_int_equal(waits, 1);
	assert_int_equal(atomic_load(&arg.got), 0); /* still blocked */
	db_release(c);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&arg.got), 1);
	db_close(db);
}

static const struct db_migration mig_steps[] = {
	{1, "CREATE TABLE t_mig (id AUTOINCREMENT_PK, name TEXT NOT NULL, data BLOB)", NULL},
	/* Words inside literals stay as written. */
	{2, "INSERT INTO t_mig (name) VALUES ('BLOB AUTOINCREMENT_PK ?')", NULL},
	{3, "CREATE TABLE t_mig3 (which TEXT); INSERT INTO t_mig3 VALUES ('sqlite')",
	 "CREATE TABLE t_mig3 (which TEXT); INSERT INTO t_mig3 VALUES ('postgres')"},
	{4, "ALTER TABLE t_mig ADD COLUMN note TEXT", NULL},
	{7, "INSERT INTO t_mig (name, note) VALUES ('seven', 'after 4')", NULL},
};

static void check_versions(struct db_conn *c, const char *module, const int *want, int n)
{
	struct db_stmt *st =
		prep(c, "SELECT version, applied_at FROM schema_migrations WHERE module = ? "
			"ORDER BY version");
	assert_int_equal(db_bind_text(st, 1, module), 0);
	for (int i = 0; i < n; i++) {
		assert_int_equal(db_step(st), DB_ROW);
		assert_int_equal(db_col_int64(st, 0), want[i]);
		assert_true(db_col_int64(st, 1) > 1600000000);
	}
	assert_int_equal(db_step(st), DB_DONE);
	db_done(st);
}

static void test_migrations(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	char err[512];

	/* First three steps, twice: the second run changes nothing. */
	for (int run = 0; run < 2; run++) {
		assert_int_equal(db_migrate(c, "test_mig", mig_steps, 3, err, sizeof err), 0);
		assert_string_equal(err, "");
		check_versions(c, "test_mig", (const int[]){1, 2, 3}, 3);
		assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_mig"), 1);
	}
	struct db_stmt *st = prep(c, "SELECT name FROM t_mig");
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "BLOB AUTOINCREMENT_PK ?");
	db_done(st);
	st = prep(c, "SELECT which FROM t_mig3");
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), f->kind == DB_POSTGRES ? "postgres" : "sqlite");
	db_done(st);

	/* AUTOINCREMENT_PK generates ids; BLOB holds bytes. */
	st = prep(c, "INSERT INTO t_mig (name, data) VALUES (?, ?) RETURNING id");
	assert_int_equal(db_bind_text(st, 1, "two"), 0);
	assert_int_equal(db_bind_blob(st, 2, "\0\1", 2), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int64(st, 0), 2);
	db_done(st);

	/* Adding steps applies only the new ones, in order (7 needs 4). */
	assert_int_equal(db_migrate(c, "test_mig", mig_steps, 5, err, sizeof err), 0);
	check_versions(c, "test_mig", (const int[]){1, 2, 3, 4, 7}, 5);
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_mig WHERE note = 'after 4'"), 1);
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_mig"), 3);

	/* Another module has versions of its own. */
	static const struct db_migration other[] = {
		{1, "CREATE TABLE t_mig_other (x INTEGER)", NULL}};
	assert_int_equal(db_migrate(c, "test_mig_other", other, 1, err, sizeof err), 0);
	check_versions(c, "test_mig_other", (const int[]){1}, 1);
	check_versions(c, "test_mig", (const int[]){1, 2, 3, 4, 7}, 5);

	/* Steps out of order are refused before anything runs. */
	static const struct db_migration unsorted[] = {
		{9, "CREATE TABLE t_never (x INTEGER)", NULL},
		{8, "CREATE TABLE t_never2 (x INTEGER)", NULL},
	};
	assert_int_equal(db_migrate(c, "test_mig", unsorted, 2, err, sizeof err), DB_EMISUSE);
	assert_true(strlen(err) > 0);
	check_versions(c, "test_mig", (const int[]){1, 2, 3, 4, 7}, 5);
	db_release(c);
}

static void test_migration_failure_rolls_back(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	char err[512];
	static const struct db_migration steps[] = {
		{1, "CREATE TABLE t_mfail (x INTEGER)", NULL},
		{2, "INSERT INTO t_mfail VALUES (1); THIS IS NOT SQL", NULL},
		{3, "INSERT INTO t_mfail VALUES (3)", NULL},
	};
	assert_true(db_migrate(c, "test_mfail", steps, 3, err, sizeof err) < 0);
	assert_non_null(strstr(err, "test_mfail version 2"));
	check_versions(c, "test_mfail", (const int[]){1}, 1);
	/* Step 2's first statement was undone with it; step 3 never ran. */
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_mfail"), 0);
	/* The connection is usable afterwards. */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_commit(c), 0);
	db_release(c);
}

static void test_placeholders_in_literals(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	struct db_stmt *st = prep(c, "SELECT '?' AS a, /* ? */ ? AS b, 'it''s ?' AS c, -- ? here\n"
				     " ? AS \"d?\"");
	assert_int_equal(db_bind_int64(st, 1, 7), 0);
	assert_int_equal(db_bind_text(st, 2, "x"), 0);
	assert_int_equal(db_bind_int64(st, 3, 1), DB_EMISUSE); /* only two parameters */
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_count(st), 4);
	assert_string_equal(db_col_text(st, 0), "?");
	assert_int_equal(db_col_int64(st, 1), 7);
	assert_string_equal(db_col_text(st, 2), "it's ?");
	assert_string_equal(db_col_text(st, 3), "x");
	db_done(st);

	if (f->kind == DB_POSTGRES) {
		st = prep(c, "SELECT E'\\'?' AS a, $$?$$ AS b, $t$ '? $t$ AS c, ? AS d");
		assert_int_equal(db_bind_text(st, 1, "y"), 0);
		assert_int_equal(db_step(st), DB_ROW);
		assert_string_equal(db_col_text(st, 0), "'?");
		assert_string_equal(db_col_text(st, 1), "?");
		assert_string_equal(db_col_text(st, 2), " '? ");
		assert_string_equal(db_col_text(st, 3), "y");
		db_done(st);
	}
	db_release(c);
}

static void test_query_int64(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	int64_t v = 77;

	exec_ok(c, "CREATE TABLE t_q (v BIGINT)");
	assert_int_equal(db_query_int64(c, "SELECT v FROM t_q", &v), DB_DONE);
	assert_int_equal(v, 77); /* untouched */
	exec_ok(c, "INSERT INTO t_q VALUES (5000000000)");
	assert_int_equal(db_query_int64(c, "SELECT v FROM t_q", &v), DB_ROW);
	assert_true(v == 5000000000LL);
	assert_true(db_query_int64(c, "SELECT nothing FROM nowhere", &v) < 0);
	assert_true(strlen(db_errmsg(c)) > 0);
	db_release(c);
}

static void test_changes_and_returning(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	struct db_stmt *st;

	ddl(f, c, "CREATE TABLE t_chg (id INTEGER PRIMARY KEY AUTOINCREMENT, v INTEGER)",
	    "CREATE TABLE t_chg (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v INTEGER)");
	exec_ok(c, "INSERT INTO t_chg (v) VALUES (1), (2), (3)");
	st = prep(c, "UPDATE t_chg SET v = v + 10 WHERE v >= ?");
	assert_int_equal(db_bind_int64(st, 1, 2), 0);
	assert_int_equal(db_step(st), DB_DONE);
	assert_int_equal(db_changes(st), 2);
	db_done(st);
	st = prep(c, "SELECT v FROM t_chg");
	while (db_step(st) == DB_ROW)
		;
	assert_int_equal(db_changes(st), 0); /* not the UPDATE's count */
	db_done(st);
	st = prep(c, "DELETE FROM t_chg WHERE v > 100");
	assert_int_equal(db_step(st), DB_DONE);
	assert_int_equal(db_changes(st), 0);
	db_done(st);

	st = prep(c, "INSERT INTO t_chg (v) VALUES (?) RETURNING id, v");
	assert_int_equal(db_bind_int64(st, 1, 99), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int64(st, 0), 4);
	assert_int_equal(db_col_int64(st, 1), 99);
	assert_int_equal(db_changes(st), 0); /* counted once done, on both backends */
	assert_int_equal(db_step(st), DB_DONE);
	assert_int_equal(db_changes(st), 1);
	db_done(st);
	db_release(c);
}

static void test_misuse(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	struct db_stmt *st = (struct db_stmt *)&st;

	assert_true(db_prepare(c, "SELEKT broken", &st) < 0);
	assert_null(st);
	assert_true(strlen(db_errmsg(c)) > 0);
	assert_int_equal(db_prepare(c, "SELECT 1; SELECT 2", &st),
			 f->kind == DB_POSTGRES ? DB_EFAIL : DB_EMISUSE);
	assert_null(st);
	assert_int_equal(db_prepare(c, NULL, &st), DB_EMISUSE);
	/* One statement with a trailing semicolon and comment is fine. */
	st = prep(c, "SELECT 1; -- the end\n /* really */ ");
	assert_int_equal(db_step(st), DB_ROW);
	db_done(st);

	st = prep(c, "SELECT ?");
	assert_int_equal(db_bind_int64(st, 0, 1), DB_EMISUSE);
	assert_int_equal(db_bind_int64(st, 2, 1), DB_EMISUSE);
	assert_int_equal(db_bind_text(st, -1, "x"), DB_EMISUSE);
	/* No row yet: columns read as nothing. */
	assert_null(db_col_text(st, 0));
	assert_int_equal(db_bind_int64(st, 1, 5), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_bind_int64(st, 1, 6), DB_EMISUSE); /* running: db_done first */
	assert_int_equal(db_col_int64(st, 0), 5);
	assert_null(db_col_text(st, 1));
	assert_null(db_col_text(st, -1));
	assert_int_equal(db_col_int64(st, 7), 0);
	assert_true(db_col_is_null(st, 7));
	assert_int_equal(db_step(st), DB_DONE);
	assert_null(db_col_text(st, 0)); /* no row after DB_DONE */
	db_done(st);
	db_done(st); /* twice is harmless */
	/* Used again after db_done (until db_release): bindings were cleared. */
	assert_int_equal(db_step(st), DB_ROW);
	assert_true(db_col_is_null(st, 0));
	db_done(st);
	assert_int_equal(db_bind_int64(st, 1, 6), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int64(st, 0), 6);
	db_done(st);

	assert_int_equal(db_step(NULL), DB_EMISUSE);
	assert_int_equal(db_bind_int64(NULL, 1, 1), DB_EMISUSE);
	assert_null(db_col_text(NULL, 0));
	assert_int_equal(db_col_count(NULL), 0);
	db_done(NULL);
	assert_int_equal(db_kind(f->db), f->kind);
	db_release(c);
}

/* A connection that cannot be made gives DB_ECONN everywhere, never NULL. */
static void check_dead(struct db_conn *c)
{
	struct db_stmt *st = (struct db_stmt *)&st;
	int64_t v = 5;
	char err[256];

	assert_non_null(c);
	assert_int_equal(db_exec(c, "SELECT 1"), DB_ECONN);
	assert_int_equal(db_prepare(c, "SELECT 1", &st), DB_ECONN);
	assert_null(st);
	assert_int_equal(db_begin(c), DB_ECONN);
	assert_int_equal(db_begin_write(c), DB_ECONN);
	assert_int_equal(db_commit(c), DB_ECONN);
	assert_int_equal(db_rollback(c), DB_ECONN);
	assert_int_equal(db_query_int64(c, "SELECT 1", &v), DB_ECONN);
	assert_int_equal(v, 5);
	assert_int_equal(db_migrate(c, "m", NULL, 0, err, sizeof err), DB_ECONN);
	assert_true(strlen(err) > 0);
	assert_true(strlen(db_errmsg(c)) > 0);
}

static void test_broken_connection(void **state)
{
	struct fixture *f = *state;
	char err[512], url[PATH_MAX + 64], sub[PATH_MAX];

	if (f->kind == DB_SQLITE) {
		/* The second connection opens lazily; by then its directory is gone. */
		snprintf(sub, sizeof sub, "%s/gone", f->dir);
		assert_int_equal(mkdir(sub, 0700), 0);
		snprintf(url, sizeof url, "sqlite:%s/x.db", sub);
		struct db *db = db_open(url, 2, err, sizeof err);
		assert_non_null(db);
		struct db_conn *first = db_acquire(db);
		rm_tree(sub);
		struct db_conn *dead = db_acquire(db);
		check_dead(dead);
		assert_non_null(strstr(db_errmsg(dead), "gone/x.db"));
		db_release(dead);
		/* The next acquire tries again and succeeds once the path exists. */
		assert_int_equal(mkdir(sub, 0700), 0);
		struct db_conn *again = db_acquire(db);
		assert_int_equal(query_int(again, "SELECT 1"), 1);
		db_release(again);
		db_release(first);
		db_close(db);
		return;
	}

	/* PostgreSQL: a role that may log in, then may not. */
	struct db_conn *admin = db_acquire(f->db);
	exec_ok(admin, "DROP ROLE IF EXISTS mado_unit_login");
	exec_ok(admin, "CREATE ROLE mado_unit_login LOGIN");
	url_with_param(url, sizeof url, f->base_url, "user=mado_unit_login");
	struct db *db = db_open(url, 1, err, sizeof err);
	if (!db)
		fail_msg("db_open as mado_unit_login: %s", err);
	struct db_conn *c = db_acquire(db);
	assert_int_equal(query_int(c, "SELECT 1"), 1);
	db_release(c);
	exec_ok(admin, "ALTER ROLE mado_unit_login NOLOGIN");
	exec_ok(admin, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
		       "WHERE usename = 'mado_unit_login'");
	c = db_acquire(db);
	check_dead(c);
	db_release(c);
	exec_ok(admin, "ALTER ROLE mado_unit_login LOGIN");
	c = db_acquire(db);
	assert_int_equal(query_int(c, "SELECT 1"), 1);
	db_release(c);
	db_close(db);
	exec_ok(admin, "DROP ROLE mado_unit_login");
	db_release(admin);
}

static void test_pg_reconnect(void **state)
{
	struct fixture *f = *state;
	if (f->kind != DB_POSTGRES)
		skip();
	struct db_conn *c = db_acquire(f->db);
	struct db_conn *killer = db_acquire(f->db);
	int64_t pid = query_int(c, "SELECT pg_backend_pid()");
	struct db_stmt *st = prep(killer, "SELECT pg_terminate_backend(CAST(? AS INTEGER), 5000)");
	assert_int_equal(db_bind_int64(st, 1, pid), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "t");
	assert_int_equal(db_col_int64(st, 0), 1); /* booleans read as 0/1 */
	db_done(st);

	/* The connection died under its holder: DB_ECONN, not a crash, and
	 * from then on every call, even for SQL in the statement cache. */
	assert_int_equal(db_begin(c), DB_ECONN);
	assert_int_equal(db_prepare(c, "SELECT pg_backend_pid()", &st), DB_ECONN);
	assert_null(st);
	assert_non_null(strstr(db_errmsg(c), "PostgreSQL"));
	db_release(c);
	/* The next acquire reconnects, with a fresh statement cache. */
	c = db_acquire(f->db);
	int64_t pid2 = query_int(c, "SELECT pg_backend_pid()");
	assert_true(pid2 != pid);
	exec_ok(c, "CREATE TABLE IF NOT EXISTS t_reconnect (x INTEGER)");

	/* Killed while idle in the pool: acquire notices and reconnects. */
	db_release(c);
	st = prep(killer, "SELECT pg_terminate_backend(CAST(? AS INTEGER), 5000)");
	assert_int_equal(db_bind_int64(st, 1, pid2), 0);
	assert_int_equal(db_step(st), DB_ROW);
	db_done(st);
	c = db_acquire(f->db);
	assert_true(query_int(c, "SELECT pg_backend_pid()") != pid2);
	db_release(c);
	db_release(killer);
}

/* ---- without a fixture ---- */

static void test_open_errors(void **state)
{
	char err[512];
	char path[PATH_MAX];

	assert_null(db_open("sqlite:/nonexistent-mado-dir/a.db", 1, err, sizeof err));
	assert_true(strlen(err) > 0);
	assert_null(db_open("", 1, err, sizeof err));
	assert_null(db_open(NULL, 1, err, sizeof err));
	assert_null(db_open("sqlite:", 1, err, sizeof err));
	assert_null(db_open("/tmp/x.db", 0, err, sizeof err));

	/* A file that is not a database. */
	snprintf(path, sizeof path, "/tmp/mado_test_notdb.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char junk[4096];
	memset(junk, 'j', sizeof junk);
	assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
	close(fd);
	assert_null(db_open(path, 1, err, sizeof err));
	assert_non_null(strstr(err, "not a database"));
	unlink(path);

	/* Nothing listens on port 1; the password never reaches the message. */
	assert_null(db_open("postgresql://u:s3cretpw@127.0.0.1:1/x?connect_timeout=2", 1, err,
			    sizeof err));
	assert_true(strlen(err) > 0);
	assert_null(strstr(err, "s3cretpw"));

	/* No pool at all: still never NULL. */
	struct db_conn *c = db_acquire(NULL);
	check_dead(c);
	db_release(c);
	db_close(NULL);

	/* In memory: one connection, since each would be a database of its own. */
	struct db *db = db_open("sqlite::memory:", 8, err, sizeof err);
	assert_non_null(db);
	int total;
	db_pool_stats(db, NULL, &total, NULL);
	assert_int_equal(total, 1);
	assert_int_equal(db_kind(db), DB_SQLITE);
	db_close(db);
}

/* ---- bulk writes (db_queue / db_flush) ---- */

static void test_queue_bulk(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	uint64_t tag = 0;

	exec_ok(c, "CREATE TABLE t_qb (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
	assert_int_equal(db_begin_write(c), 0);
	struct db_stmt *st = prep(c, "INSERT INTO t_qb (k, v) VALUES (?, ?)");
	/* More than one pipeline's worth, and a last partial one. */
	for (int i = 0; i < 1300; i++) {
		char v[32];
		snprintf(v, sizeof v, "値%d", i);
		assert_int_equal(db_bind_int64(st, 1, i), 0);
		assert_int_equal(db_bind_text(st, 2, v), 0);
		int rc = db_queue(st, (uint64_t)i, &tag);
		if (rc != 0)
			fail_msg("db_queue(%d) = %d (tag %llu): %s", i, rc, (unsigned long long)tag,
				 db_errmsg(c));
	}
	db_done(st);
	assert_int_equal(db_flush(c, &tag), 0);
	assert_int_equal(db_flush(c, &tag), 0); /* nothing left: a no-op */
	assert_int_equal(db_commit(c), 0);
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_qb"), 1300);
	assert_int_equal(query_int(c, "SELECT SUM(k) FROM t_qb"), 1299 * 1300 / 2);
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_qb WHERE v = '値1299'"), 1);
	db_release(c);
}

/* A row that fails in the middle of a pipeline is named by its tag, the
 * failure dooms the transaction, and nothing of it is kept. */
static void test_queue_failure_names_row(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);

	exec_ok(c, "CREATE TABLE t_qf (k INTEGER PRIMARY KEY)");
	assert_int_equal(db_begin_write(c), 0);
	struct db_stmt *st = prep(c, "INSERT INTO t_qf (k) VALUES (?)");
	int first_rc = 0;
	uint64_t tag = 0;
	for (int i = 0; i < 1000 && first_rc == 0; i++) {
		db_bind_int64(st, 1, i == 700 ? 5 : i); /* line 1700 repeats key 5 */
		first_rc = db_queue(st, 1000 + (uint64_t)i, &tag);
	}
	db_done(st);
	if (first_rc == 0)
		first_rc = db_flush(c, &tag);
	assert_int_equal(first_rc, DB_ECONSTRAINT);
	assert_int_equal(tag, 1700);
	assert_true(db_commit(c) < 0);
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_qf"), 0);

	/* A failure still in the pipeline surfaces at commit, which rolls back. */
	assert_int_equal(db_begin_write(c), 0);
	st = prep(c, "INSERT INTO t_qf (k) VALUES (?)");
	int rc = 0;
	for (int i = 0; i < 3 && rc == 0; i++) {
		db_bind_int64(st, 1, 9);
		rc = db_queue(st, (uint64_t)i, NULL);
	}
	db_done(st);
	if (rc == 0)
		rc = db_commit(c);
	else
		assert_true(db_commit(c) < 0);
	assert_int_equal(rc, DB_ECONSTRAINT);
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_qf"), 0);
	db_release(c);
}

/* Anything else on the connection first reads the pipeline's answers: a
 * SELECT sees every queued row, and other statements mix with queued ones. */
static void test_queue_then_other_statements(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);

	exec_ok(c, "CREATE TABLE t_qm (k INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
	assert_int_equal(db_begin_write(c), 0);
	struct db_stmt *ins = prep(c, "INSERT INTO t_qm (k, n) VALUES (?, ?)");
	for (int i = 1; i <= 3; i++) {
		db_bind_int64(ins, 1, i);
		db_bind_int64(ins, 2, i * 10);
		assert_int_equal(db_queue(ins, (uint64_t)i, NULL), 0);
	}
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_qm"), 3);
	/* A statement with rows, queued: its rows are not wanted, no failure. */
	struct db_stmt *sel = prep(c, "SELECT k FROM t_qm WHERE n > ?");
	db_bind_int64(sel, 1, 0);
	assert_int_equal(db_queue(sel, 0, NULL), 0);
	db_done(sel);
	db_bind_int64(ins, 1, 4);
	db_bind_int64(ins, 2, 40);
	assert_int_equal(db_queue(ins, 4, NULL), 0);
	db_done(ins);
	exec_ok(c, "UPDATE t_qm SET n = n + 1 WHERE k = 4");
	assert_int_equal(db_commit(c), 0);
	assert_int_equal(query_int(c, "SELECT n FROM t_qm WHERE k = 4"), 41);
	assert_int_equal(query_int(c, "SELECT SUM(n) FROM t_qm"), 101);
	db_release(c);
}

/* A failure read while a cached statement is finalized to make room in the
 * cache (where it cannot be returned) is not lost: db_flush still reports
 * it with its tag, and the transaction is doomed. */
static void test_queue_failure_survives_eviction(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->db);
	uint64_t tag = 0;

	exec_ok(c, "CREATE TABLE t_qe (k INTEGER PRIMARY KEY)");
	assert_int_equal(db_begin_write(c), 0);
	exec_ok(c, "INSERT INTO t_qe VALUES (1)");
	struct db_stmt *ins = prep(c, "INSERT INTO t_qe (k) VALUES (?)");
	db_bind_int64(ins, 1, 1); /* taken */
	int rc = db_queue(ins, 42, &tag);
	db_done(ins);
	if (rc == 0) { /* deferred (PostgreSQL): push every cached statement out */
		for (int i = 0; i < 300; i++) {
			char sql[64];
			struct db_stmt *st = NULL;
			snprintf(sql, sizeof sql, "SELECT %d AS evict", i);
			if (db_prepare(c, sql, &st) == 0)
				db_done(st);
		}
		rc = db_flush(c, &tag);
	}
	assert_int_equal(rc, DB_ECONSTRAINT);
	assert_int_equal(tag, 42);
	assert_non_null(strstr(db_errmsg(c), "duplicate") ? db_errmsg(c) :
							    strstr(db_errmsg(c), "UNIQUE"));
	assert_true(db_commit(c) < 0);
	assert_int_equal(query_int(c, "SELECT COUNT(*) FROM t_qe"), 0);
	db_release(c);
}

#define CASE(t) cmocka_unit_test_setup_teardown(t, open_pool, close_pool)

int main(void)
{
	const struct CMUnitTest common[] = {cmocka_unit_test(test_open_errors)};
	/* The same cases on each backend. */
	const struct CMUnitTest cases[] = {
		CASE(test_bind_all_types),
		CASE(test_blobs),
		CASE(test_utf8_japanese),
		CASE(test_transactions),
		CASE(test_failed_statement_dooms_transaction),
		CASE(test_constraint_mapping),
		CASE(test_busy_mapping),
		CASE(test_stmt_cache),
		CASE(test_schema_change_under_cached_statement),
		CASE(test_concurrent_acquire),
		CASE(test_pool_waits_for_release),
		CASE(test_migrations),
		CASE(test_migration_failure_rolls_back),
		CASE(test_placeholders_in_literals),
		CASE(test_query_int64),
		CASE(test_changes_and_returning),
		CASE(test_misuse),
		CASE(test_broken_connection),
		CASE(test_pg_reconnect),
		CASE(test_queue_bulk),
		CASE(test_queue_failure_names_row),
		CASE(test_queue_then_other_statements),
		CASE(test_queue_failure_survives_eviction),
	};
	int failed = 0;

	log_set_level(LOG_ERROR); /* the cases provoke expected warnings */
	failed += cmocka_run_group_tests_name("db", common, NULL, NULL);
	failed += cmocka_run_group_tests_name("db_sqlite", cases, setup_sqlite, teardown);
	if (getenv("MADO_TEST_PG_URL") && *getenv("MADO_TEST_PG_URL"))
		failed += cmocka_run_group_tests_name("db_postgres", cases, setup_pg, teardown);
	else
		printf("[  SKIPPED ] db_postgres: MADO_TEST_PG_URL is not set\n");
	return failed ? 1 : 0;
}
