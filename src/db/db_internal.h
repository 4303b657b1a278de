/* Shared between db.c and its backends (db_sqlite.c, db_pg.c), as redis'
 * ae.c shares its internals with ae_epoll.c: the backend vtable, the common
 * head of connections and statements, and the per-connection statement cache.
 * Nothing outside src/db/ includes this file. */
#ifndef MADO_DB_INTERNAL_H
#define MADO_DB_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define DBI_ERRMSG_MAX 512
/* Cached prepared statements per connection; the least recently used idle
 * one is finalized when a new statement would pass this. */
#define DBI_CACHE_MAX 256
#define DBI_CACHE_BUCKETS 512 /* power of two, > DBI_CACHE_MAX */

/* The common head of every backend statement (first member, so a backend
 * casts struct db_stmt * to its own type). db.c owns the cache fields. */
struct db_stmt {
	struct db_conn *conn;
	char *sql; /* the caller's SQL text, the cache key (owned) */
	size_t len;
	uint64_t hash;
	struct db_stmt *hnext;               /* bucket chain */
	struct db_stmt *lru_prev, *lru_next; /* most recently used first */
	bool cached;                         /* in the cache; otherwise finalized by db_release */
	bool busy;                           /* between db_prepare and db_done */
};

/* The common head of every connection. Backends keep their state in be. */
struct db_conn {
	struct db *db;
	const struct db_ops *ops;
	void *be;       /* backend connection, NULL when not connected */
	bool broken;    /* could not connect, or the connection was lost: every
			* call fails with DB_ECONN until the next db_acquire */
	bool in_tx;     /* inside db_begin*() … db_commit()/db_rollback() */
	int tx_err;     /* the first DB_E* a statement gave inside it, or 0 */
	int nbusy;      /* statements prepared and not yet db_done */
	int ntransient; /* uncached statements, freed at db_release */
	struct db_conn *next_free;
	/* statement cache */
	struct db_stmt *buckets[DBI_CACHE_BUCKETS];
	struct db_stmt *lru_head, *lru_tail;
	int ncached;
	char errmsg[DBI_ERRMSG_MAX];
};

/* A backend. Every function but connect() is called only on a connected
 * connection (c->be != NULL). Functions returning int return 0 / DB_ROW /
 * DB_DONE or a negative DB_E* code after calling dbi_error(). */
struct db_ops {
	enum db_kind kind;
	/* Connects c to target (the URL with any "sqlite:" prefix removed). */
	int (*connect)(struct db_conn *c, const char *target);
	/* Finalizes nothing: db.c has finalized every statement before. */
	void (*disconnect)(struct db_conn *c);
	/* True when the connection died and must be re-established on acquire. */
	bool (*needs_reconnect)(struct db_conn *c);
	/* True when the server side has a transaction open (any state). */
	bool (*in_transaction)(struct db_conn *c);
	int (*exec)(struct db_conn *c, const char *sql);
	/* write: take the write lock up front (db_begin_write). */
	int (*begin)(struct db_conn *c, bool write);
	int (*commit)(struct db_conn *c);
	int (*rollback)(struct db_conn *c);
	/* Prepares sql (len bytes, NUL-terminated) into a new statement whose
	 * head is zeroed except for conn. cached tells whether it will live in
	 * the cache (PostgreSQL prepares those server-side by name). */
	int (*prepare)(struct db_conn *c, const char *sql, size_t len, bool cached,
		       struct db_stmt **out);
	/* Makes a statement ready to run again: clears result and bindings. */
	void (*reset)(struct db_stmt *st);
	/* Frees the statement; server_side: also its server-side counterpart
	 * (false when the connection is about to close anyway). */
	void (*finalize)(struct db_stmt *st, bool server_side);
	/* idx is checked by the backend (1-based). Text is NUL-free. */
	int (*bind_text)(struct db_stmt *st, int idx, const char *s, size_t n);
	int (*bind_int64)(struct db_stmt *st, int idx, int64_t v);
	int (*bind_double)(struct db_stmt *st, int idx, double v);
	int (*bind_blob)(struct db_stmt *st, int idx, const void *p, size_t n);
	int (*bind_null)(struct db_stmt *st, int idx);
	int (*step)(struct db_stmt *st);
	/* Column accessors: i has been checked against col_count() and a row is
	 * current. */
	int (*col_count)(struct db_stmt *st);
	bool (*col_is_null)(struct db_stmt *st, int i);
	const char *(*col_text)(struct db_stmt *st, int i);
	int64_t (*col_int64)(struct db_stmt *st, int i);
	double (*col_double)(struct db_stmt *st, int i);
	const void *(*col_blob)(struct db_stmt *st, int i, size_t *n);
	/* True when a row is current (the last step returned DB_ROW). */
	bool (*has_row)(struct db_stmt *st);
	int64_t (*changes)(struct db_stmt *st);
	/* Optional (NULL: db.c steps and resets at once). queue sends one
	 * execution and may defer reading its answer; flush reads every
	 * deferred answer. Both return 0 or the first failure, whose tag goes
	 * to *failed when failed is not NULL. */
	int (*queue)(struct db_stmt *st, uint64_t tag, uint64_t *failed);
	int (*flush)(struct db_conn *c, uint64_t *failed);
};

extern const struct db_ops dbi_sqlite_ops;
extern const struct db_ops dbi_pg_ops;

/* Records a message for db_errmsg(c) and returns rc. */
int dbi_error(struct db_conn *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

enum dbi_dialect { DBI_DIALECT_SQLITE, DBI_DIALECT_PG };
/* When sql[i] starts a string literal, quoted identifier or comment, returns
 * the index just past it (or n when it is unterminated); otherwise returns i.
 * Used to rewrite `?` and type words only in plain SQL text. */
size_t dbi_sql_skip(const char *sql, size_t i, size_t n, enum dbi_dialect d);

#endif
