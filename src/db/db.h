/* The storage interface: one API, two backends (db_sqlite.c, db_pg.c).
 *
 * SQL is written once with `?` placeholders; the PostgreSQL backend rewrites
 * them to $1, $2, ….  Keep SQL portable: INTEGER/BIGINT, TEXT, BLOB (rewritten
 * to BYTEA for PostgreSQL by the migration runner), INSERT … RETURNING,
 * ON CONFLICT … DO …; times are integers (Unix seconds or milliseconds).
 *
 * Only prepared statements with bound parameters: no string-built SQL.
 *
 * Threading: a struct db is a pool and may be shared by threads; a struct
 * db_conn belongs to one thread between db_acquire() and db_release().
 *
 * Errors: functions returning int give 0 (or DB_ROW/DB_DONE for db_step) or a
 * negative DB_E* code; db_errmsg() describes the last error on that connection. */
#ifndef MADO_DB_H
#define MADO_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct db_conn;
struct db_stmt;

enum db_kind { DB_SQLITE = 1, DB_POSTGRES = 2 };

enum {
	DB_OK = 0,
	DB_ROW = 1,          /* db_step: a row is ready */
	DB_DONE = 2,         /* db_step: no (more) rows */
	DB_EFAIL = -1,       /* generic failure; see db_errmsg */
	DB_ECONSTRAINT = -2, /* unique / foreign key / check violation */
	DB_EBUSY = -3,       /* lock timeout / serialization failure: retry */
	DB_ECONN = -4,       /* connection lost or cannot connect */
	DB_EMISUSE = -5,     /* API misuse (bad index, wrong state) */
};

/* Opens a pool. url: a file path or "sqlite:PATH" for SQLite (WAL, busy
 * timeout 5 s, foreign keys on, synchronous=FULL), or "postgres://…" /
 * "postgresql://…" for PostgreSQL. pool_size connections at most (>= 1).
 * On failure returns NULL and writes a message into err. */
struct db *db_open(const char *url, int pool_size, char *err, size_t errlen);
/* Closes every connection. All connections must have been released. */
void db_close(struct db *db);
enum db_kind db_kind(const struct db *db);

/* A connection for this thread; waits for one when all are in use.
 * Never NULL: on connection failure it returns a connection whose every call
 * fails with DB_ECONN (so callers have a single error path). */
struct db_conn *db_acquire(struct db *db);
/* Gives the connection back. Rolls back a transaction left open. */
void db_release(struct db_conn *c);

/* Connections in use / total, for /metrics. */
void db_pool_stats(struct db *db, int *in_use, int *total, uint64_t *waits);

/* Transactions. db_begin_write() takes the write lock up front
 * (BEGIN IMMEDIATE on SQLite) for read-modify-write sequences. */
int db_begin(struct db_conn *c);
int db_begin_write(struct db_conn *c);
int db_commit(struct db_conn *c);
int db_rollback(struct db_conn *c);

/* Runs SQL without parameters or results (DDL, pragmas). May hold several
 * statements separated by ';'. */
int db_exec(struct db_conn *c, const char *sql);

/* Prepares (or takes from the connection's statement cache) a statement.
 * The statement is owned by the connection: call db_done() when finished with
 * it, which resets it for reuse. *out is NULL on error. */
int db_prepare(struct db_conn *c, const char *sql, struct db_stmt **out);
void db_done(struct db_stmt *st);

/* Parameters are 1-based. Text and blobs are copied. */
int db_bind_text(struct db_stmt *st, int idx, const char *s); /* NULL binds NULL */
int db_bind_textn(struct db_stmt *st, int idx, const char *s, size_t n);
int db_bind_int64(struct db_stmt *st, int idx, int64_t v);
int db_bind_double(struct db_stmt *st, int idx, double v);
int db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t n);
int db_bind_null(struct db_stmt *st, int idx);

/* The connection a statement belongs to. */
struct db_conn *db_stmt_conn(struct db_stmt *st);

/* Executes on first call; DB_ROW while rows remain, then DB_DONE; or < 0. */
int db_step(struct db_stmt *st);

/* Bulk writes. db_queue() executes st with its current bindings as db_step()
 * would, for a statement whose rows (if any) are not wanted, and clears the
 * bindings for the next execution; db_done() once after the last. SQLite
 * executes at once. PostgreSQL sends the execution without waiting for its
 * answer (libpq's pipeline mode) and reads the answers when 512 are waiting,
 * at db_flush(), and before anything else runs on the connection (db_step,
 * db_exec, db_commit …), which is where a deferred failure then surfaces.
 * Returns 0 or the first failure, which dooms a transaction as usual;
 * *failed_tag (when not NULL) gets the tag given with the execution that
 * failed, e.g. the line of the input it came from. Use inside a transaction:
 * outside one, PostgreSQL commits each batch as one implicit transaction. */
int db_queue(struct db_stmt *st, uint64_t tag, uint64_t *failed_tag);
int db_flush(struct db_conn *c, uint64_t *failed_tag);

/* Columns are 0-based; valid until the next db_step/db_done.
 * db_col_text returns NULL for SQL NULL. */
int db_col_count(struct db_stmt *st);
bool db_col_is_null(struct db_stmt *st, int i);
const char *db_col_text(struct db_stmt *st, int i);
int64_t db_col_int64(struct db_stmt *st, int i);
double db_col_double(struct db_stmt *st, int i);
const void *db_col_blob(struct db_stmt *st, int i, size_t *n);

/* Rows changed by the last INSERT/UPDATE/DELETE on this statement. */
int64_t db_changes(struct db_stmt *st);

const char *db_errmsg(struct db_conn *c);
const char *db_strerror(int rc);

struct buf;
/* Appends n bytes of s to b with LIKE's wildcards (% _) and the backslash
 * escaped by a backslash, for a pattern compared with LIKE ? ESCAPE and a
 * backslash as the escape character (both backends). Returns 0, or buf's
 * error when b would pass its maximum. */
int db_like_escape(struct buf *b, const char *s, size_t n);

/* Convenience: prepare, bind nothing, step once; *out gets column 0 as int64.
 * Returns DB_ROW, DB_DONE (no row; *out untouched) or < 0. */
int db_query_int64(struct db_conn *c, const char *sql, int64_t *out);

/* ---- migrations ---- */

/* One numbered schema step of a module. sql runs on both backends unless
 * sql_pg is given, which replaces it on PostgreSQL. In sql, the words BLOB and
 * AUTOINCREMENT_PK are rewritten for PostgreSQL (BYTEA; BIGINT GENERATED BY
 * DEFAULT AS IDENTITY PRIMARY KEY) and for SQLite (BLOB; INTEGER PRIMARY KEY
 * AUTOINCREMENT). */
struct db_migration {
	int version; /* 1, 2, 3 … within the module, never reused */
	const char *sql;
	const char *sql_pg;
};

/* Applies, in one transaction per step, the steps of `module` newer than
 * those recorded in table schema_migrations. Returns 0 or < 0 with err set. */
int db_migrate(struct db_conn *c, const char *module, const struct db_migration *steps, size_t n,
	       char *err, size_t errlen);

#endif
