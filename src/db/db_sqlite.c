/* The SQLite backend behind db.h: one sqlite3 handle per pooled connection,
 * opened in WAL mode with a 5 s busy timeout, foreign keys on and
 * synchronous=FULL, so that a committed transaction survives power loss. */
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "db_internal.h"

#define BUSY_TIMEOUT_MS 5000

struct sq_conn {
	sqlite3 *h;
	/* Transaction control, prepared once per connection. */
	sqlite3_stmt *begin, *begin_write, *commit, *rollback;
};

enum sq_state { SQ_READY, SQ_ROW, SQ_DONE, SQ_ERROR };

struct sq_stmt {
	struct db_stmt base; /* first: db.c sees only this */
	sqlite3_stmt *h;
	enum sq_state state;
	int err;              /* the DB_E* code once state is SQ_ERROR */
	int64_t total_before; /* sqlite3_total_changes64 before the first step */
	int64_t changes;
};

static inline struct sq_conn *sqc(struct db_conn *c)
{
	return c->be;
}

static inline struct sq_stmt *sqs(struct db_stmt *st)
{
	return (struct sq_stmt *)st;
}

static inline sqlite3 *handle_of(struct db_stmt *st)
{
	return sqc(st->conn)->h;
}

/* Maps an SQLite result code to DB_E* and records the message. */
static int fail(struct db_conn *c, sqlite3 *h, int rc)
{
	int out;
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		out = DB_ECONSTRAINT;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		out = DB_EBUSY;
		break;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
		out = DB_EMISUSE;
		break;
	default:
		out = DB_EFAIL;
		break;
	}
	return dbi_error(c, out, "%s", h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
}

static void sq_disconnect(struct db_conn *c)
{
	struct sq_conn *q = sqc(c);
	if (!q)
		return;
	sqlite3_finalize(q->begin);
	sqlite3_finalize(q->begin_write);
	sqlite3_finalize(q->commit);
	sqlite3_finalize(q->rollback);
	/* _v2: never fails; a statement a buggy caller kept defers the close. */
	sqlite3_close_v2(q->h);
	free(q);
	c->be = NULL;
}

static int prepare_persistent(sqlite3 *h, const char *sql, sqlite3_stmt **out)
{
	return sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
}

static int sq_connect(struct db_conn *c, const char *path)
{
	struct sq_conn *q = xcalloc(1, sizeof *q);
	int rc;

	rc = sqlite3_open_v2(path, &q->h,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				     SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		dbi_error(c, DB_ECONN, "cannot open SQLite database %s: %s", path,
			  q->h ? sqlite3_errmsg(q->h) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(q->h, BUSY_TIMEOUT_MS);
	/* Portability with PostgreSQL and hardening: "x" is never a string,
	 * and SQL cannot corrupt the file through the schema table. */
	sqlite3_db_config(q->h, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(q->h, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	sqlite3_db_config(q->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(q->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	rc = sqlite3_exec(
		q->h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
		NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		dbi_error(c, DB_ECONN, "cannot set up SQLite database %s: %s", path,
			  sqlite3_errmsg(q->h));
		goto fail;
	}
	if (prepare_persistent(q->h, "BEGIN", &q->begin) != SQLITE_OK ||
	    prepare_persistent(q->h, "BEGIN IMMEDIATE", &q->begin_write) != SQLITE_OK ||
	    prepare_persistent(q->h, "COMMIT", &q->commit) != SQLITE_OK ||
	    prepare_persistent(q->h, "ROLLBACK", &q->rollback) != SQLITE_OK) {
		dbi_error(c, DB_ECONN, "SQLite: %s", sqlite3_errmsg(q->h));
		goto fail;
	}
	c->be = q;
	return 0;
fail:
	c->be = q;
	sq_disconnect(c);
	return DB_ECONN;
}

static bool sq_needs_reconnect(struct db_conn *c)
{
	return false; /* a file does not go away */
}

static bool sq_in_transaction(struct db_conn *c)
{
	return !sqlite3_get_autocommit(sqc(c)->h);
}

static int sq_exec(struct db_conn *c, const char *sql)
{
	sqlite3 *h = sqc(c)->h;
	int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(c, h, rc);
}

static int run(struct db_conn *c, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(c, sqc(c)->h, rc);
}

static int sq_begin(struct db_conn *c, bool write)
{
	return run(c, write ? sqc(c)->begin_write : sqc(c)->begin);
}

static int sq_commit(struct db_conn *c)
{
	return run(c, sqc(c)->commit);
}

static int sq_rollback(struct db_conn *c)
{
	return run(c, sqc(c)->rollback);
}

/* True when text holds nothing but white space, semicolons and comments. */
static bool only_blanks(const char *text)
{
	size_t n = strlen(text), i = 0;
	while (i < n) {
		size_t j = dbi_sql_skip(text, i, n, DBI_DIALECT_SQLITE);
		if (j != i && (text[i] == '-' || text[i] == '/')) {
			i = j;
			continue;
		}
		if (!strchr(" \t\r\n\f\v;", text[i]))
			return false;
		i++;
	}
	return true;
}

static int sq_prepare(struct db_conn *c, const char *sql, size_t len, bool cached,
		      struct db_stmt **out)
{
	sqlite3 *h = sqc(c)->h;
	sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;

	if (len >= INT_MAX)
		return dbi_error(c, DB_EMISUSE, "SQL text too long");
	/* Passing the length with its NUL spares SQLite a copy. */
	int rc = sqlite3_prepare_v3(h, sql, (int)len + 1, cached ? SQLITE_PREPARE_PERSISTENT : 0,
				    &stmt, &tail);
	if (rc != SQLITE_OK)
		return fail(c, h, rc);
	if (!stmt)
		return dbi_error(c, DB_EMISUSE, "db_prepare: no SQL statement in the text");
	if (tail && !only_blanks(tail)) {
		sqlite3_finalize(stmt);
		return dbi_error(c, DB_EMISUSE,
				 "db_prepare takes one statement; use db_exec for several");
	}
	struct sq_stmt *s = xcalloc(1, sizeof *s);
	s->h = stmt;
	s->state = SQ_READY;
	*out = &s->base;
	return 0;
}

static void sq_reset(struct db_stmt *st)
{
	struct sq_stmt *s = sqs(st);
	sqlite3_reset(s->h);
	sqlite3_clear_bindings(s->h);
	s->state = SQ_READY;
	s->changes = 0;
}

static void sq_finalize(struct db_stmt *st, bool server_side)
{
	sqlite3_finalize(sqs(st)->h);
	free(st);
}

static int bound(struct db_stmt *st, int rc)
{
	return rc == SQLITE_OK ? 0 : fail(st->conn, handle_of(st), rc);
}

static int sq_bind_text(struct db_stmt *st, int idx, const char *s, size_t n)
{
	return bound(st, sqlite3_bind_text64(sqs(st)->h, idx, s, n, SQLITE_TRANSIENT, SQLITE_UTF8));
}

static int sq_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	return bound(st, sqlite3_bind_int64(sqs(st)->h, idx, v));
}

static int sq_bind_double(struct db_stmt *st, int idx, double v)
{
	return bound(st, sqlite3_bind_double(sqs(st)->h, idx, v));
}

static int sq_bind_blob(struct db_stmt *st, int idx, const void *p, size_t n)
{
	/* p is never NULL here (db.c), so n == 0 binds an empty blob, not NULL. */
	return bound(st, sqlite3_bind_blob64(sqs(st)->h, idx, p, n, SQLITE_TRANSIENT));
}

static int sq_bind_null(struct db_stmt *st, int idx)
{
	return bound(st, sqlite3_bind_null(sqs(st)->h, idx));
}

static int sq_step(struct db_stmt *st)
{
	struct sq_stmt *s = sqs(st);
	sqlite3 *h = handle_of(st);

	switch (s->state) {
	case SQ_DONE:
		return DB_DONE; /* SQLite would silently run it again */
	case SQ_ERROR:
		return s->err;
	case SQ_READY:
		s->total_before = sqlite3_total_changes64(h);
		break;
	case SQ_ROW:
		break;
	}
	int rc = sqlite3_step(s->h);
	if (rc == SQLITE_ROW) {
		s->state = SQ_ROW;
		return DB_ROW;
	}
	if (rc == SQLITE_DONE) {
		s->state = SQ_DONE;
		/* sqlite3_changes64() keeps the count of the last INSERT/UPDATE/
		 * DELETE on the connection; it is ours only if we changed rows. */
		s->changes =
			sqlite3_total_changes64(h) != s->total_before ? sqlite3_changes64(h) : 0;
		return DB_DONE;
	}
	s->state = SQ_ERROR;
	s->err = fail(st->conn, h, rc);
	return s->err;
}

static int sq_col_count(struct db_stmt *st)
{
	return sqlite3_column_count(sqs(st)->h);
}

static bool sq_col_is_null(struct db_stmt *st, int i)
{
	return sqlite3_column_type(sqs(st)->h, i) == SQLITE_NULL;
}

static const char *sq_col_text(struct db_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(sqs(st)->h, i);
}

static int64_t sq_col_int64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(sqs(st)->h, i);
}

static double sq_col_double(struct db_stmt *st, int i)
{
	return sqlite3_column_double(sqs(st)->h, i);
}

static const void *sq_col_blob(struct db_stmt *st, int i, size_t *n)
{
	sqlite3_stmt *h = sqs(st)->h;
	if (sqlite3_column_type(h, i) == SQLITE_NULL)
		return NULL;
	const void *p = sqlite3_column_blob(h, i);
	*n = (size_t)sqlite3_column_bytes(h, i);
	return p ? p : ""; /* an empty blob is not NULL */
}

static bool sq_has_row(struct db_stmt *st)
{
	return sqs(st)->state == SQ_ROW;
}

/* Known once the statement is done: SQLite counts the rows an INSERT …
 * RETURNING changed only after its last row (PostgreSQL is made to agree). */
static int64_t sq_changes(struct db_stmt *st)
{
	struct sq_stmt *s = sqs(st);
	return s->state == SQ_DONE ? s->changes : 0;
}

const struct db_ops dbi_sqlite_ops = {
	.kind = DB_SQLITE,
	.connect = sq_connect,
	.disconnect = sq_disconnect,
	.needs_reconnect = sq_needs_reconnect,
	.in_transaction = sq_in_transaction,
	.exec = sq_exec,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.prepare = sq_prepare,
	.reset = sq_reset,
	.finalize = sq_finalize,
	.bind_text = sq_bind_text,
	.bind_int64 = sq_bind_int64,
	.bind_double = sq_bind_double,
	.bind_blob = sq_bind_blob,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.col_count = sq_col_count,
	.col_is_null = sq_col_is_null,
	.col_text = sq_col_text,
	.col_int64 = sq_col_int64,
	.col_double = sq_col_double,
	.col_blob = sq_col_blob,
	.has_row = sq_has_row,
	.changes = sq_changes,
};
