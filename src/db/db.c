/* The storage front end: URL dispatch to a backend, the connection pool, the
 * per-connection prepared-statement cache, transaction bookkeeping that makes
 * both backends behave alike, and the migration runner. */
#include "db.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "db_internal.h"

#define DB_POOL_MAX 1024
#define MIGRATION_SQL_MAX (8u << 20)

struct db {
	const struct db_ops *ops;
	char *target; /* URL or path handed to ops->connect; may hold a password */
	int nconns;
	struct db_conn **conns;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct db_conn *free_list; /* guarded by lock */
	int in_use;                /* guarded by lock */
	uint64_t waits;            /* guarded by lock */
};

/* What db_acquire(NULL) hands out: a connection on which every call fails
 * with DB_ECONN. It is never written to, so threads may share it. */
static struct db_conn dead_conn = {
	.broken = true,
	.errmsg = "database is not open",
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int dbi_error(struct db_conn *c, int rc, const char *fmt, ...)
{
	if (c == &dead_conn)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- SQL scanning shared with the PostgreSQL placeholder rewriter ---- */

static bool is_word_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '$' || ch >= 0x80;
}

static bool is_tag_start(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch >= 0x80;
}

/* Past a literal quoted by q in which q is escaped by doubling it; when
 * backslash is set a backslash escapes the next byte too (E'…'). */
static size_t skip_quoted(const char *s, size_t i, size_t n, char q, bool backslash)
{
	while (i < n) {
		if (backslash && s[i] == '\\') {
			i += 2;
			continue;
		}
		if (s[i] == q) {
			if (i + 1 < n && s[i + 1] == q) {
				i += 2;
				continue;
			}
			return i + 1;
		}
		i++;
	}
	return n;
}

size_t dbi_sql_skip(const char *s, size_t i, size_t n, enum dbi_dialect d)
{
	char ch = s[i];
	char next = i + 1 < n ? s[i + 1] : '\0';

	if (ch == '\'')
		return skip_quoted(s, i + 1, n, '\'', false);
	if (ch == '"')
		return skip_quoted(s, i + 1, n, '"', false);
	if (ch == '-' && next == '-') {
		const char *nl = memchr(s + i, '\n', n - i);
		return nl ? (size_t)(nl - s) + 1 : n;
	}
	if (ch == '/' && next == '*') {
		/* PostgreSQL nests block comments; SQLite does not. */
		int depth = 1;
		i += 2;
		while (i < n) {
			if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
				i += 2;
				if (--depth == 0)
					return i;
			} else if (d == DBI_DIALECT_PG && s[i] == '/' && i + 1 < n &&
				   s[i + 1] == '*') {
				depth++;
				i += 2;
			} else {
				i++;
			}
		}
		return n;
	}
	if (d == DBI_DIALECT_SQLITE) {
		if (ch == '`')
			return skip_quoted(s, i + 1, n, '`', false);
		if (ch == '[') {
			const char *end = memchr(s + i, ']', n - i);
			return end ? (size_t)(end - s) + 1 : n;
		}
		return i;
	}
	/* PostgreSQL: E'…' and dollar quoting. */
	if ((ch == 'E' || ch == 'e') && next == '\'' &&
	    (i == 0 || !is_word_char((unsigned char)s[i - 1])))
		return skip_quoted(s, i + 2, n, '\'', true);
	if (ch == '$' && (i == 0 || !is_word_char((unsigned char)s[i - 1]))) {
		size_t j = i + 1;
		if (j < n && is_tag_start((unsigned char)s[j])) {
			while (j < n && is_word_char((unsigned char)s[j]) && s[j] != '$')
				j++;
		}
		if (j >= n || s[j] != '$')
			return i; /* $1 or a lone $: not a quote */
		size_t taglen = j + 1 - i;
		const char *tag = s + i;
		for (size_t k = j + 1; k + taglen <= n; k++) {
			if (s[k] == '$' && memcmp(s + k, tag, taglen) == 0)
				return k + taglen;
		}
		return n;
	}
	return i;
}

/* ---- pool ---- */

static void cache_unlink(struct db_conn *c, struct db_stmt *st);
static void lru_remove(struct db_conn *c, struct db_stmt *st);

/* Finalizes every statement and closes the backend connection. */
static void drop_connection(struct db_conn *c)
{
	while (c->lru_head) {
		struct db_stmt *st = c->lru_head;
		if (st->cached)
			cache_unlink(c, st);
		else
			lru_remove(c, st);
		free(st->sql);
		c->ops->finalize(st, false);
	}
	c->ncached = 0;
	c->nbusy = 0;
	c->ntransient = 0;
	memset(c->buckets, 0, sizeof c->buckets);
	if (c->be)
		c->ops->disconnect(c);
	c->be = NULL;
	c->in_tx = false;
	c->tx_err = 0;
}

static void free_db(struct db *db)
{
	for (int i = 0; i < db->nconns; i++) {
		if (db->conns[i]->be)
			drop_connection(db->conns[i]);
		free(db->conns[i]);
	}
	free(db->conns);
	if (db->target) {
		sodium_memzero(db->target, strlen(db->target));
		free(db->target);
	}
	pthread_mutex_destroy(&db->lock);
	pthread_cond_destroy(&db->freed);
	free(db);
}

struct db *db_open(const char *url, int pool_size, char *err, size_t errlen)
{
	const struct db_ops *ops;
	const char *target;

	set_err(err, errlen, "%s", "");
	if (!url || !*url) {
		set_err(err, errlen, "database URL is empty");
		return NULL;
	}
	if (pool_size < 1 || pool_size > DB_POOL_MAX) {
		set_err(err, errlen, "database pool size must be between 1 and %d", DB_POOL_MAX);
		return NULL;
	}
	if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13)) {
		ops = &dbi_pg_ops;
		target = url;
	} else {
		ops = &dbi_sqlite_ops;
		target = !strncmp(url, "sqlite:", 7) ? url + 7 : url;
		if (!*target) {
			set_err(err, errlen, "SQLite database path is empty");
			return NULL;
		}
		/* Every connection to ":memory:" would be a database of its own. */
		if (!strcmp(target, ":memory:"))
			pool_size = 1;
	}

	struct db *db = xcalloc(1, sizeof *db);
	db->ops = ops;
	db->target = xstrdup(target);
	pthread_mutex_init(&db->lock, NULL);
	pthread_cond_init(&db->freed, NULL);
	db->nconns = pool_size;
	db->conns = xcalloc((size_t)pool_size, sizeof *db->conns);
	for (int i = 0; i < pool_size; i++) {
		struct db_conn *c = xcalloc(1, sizeof *c);
		c->db = db;
		c->ops = ops;
		db->conns[i] = c;
	}
	/* Connect one now so that a wrong URL is reported here, the rest on demand. */
	struct db_conn *first = db->conns[0];
	if (ops->connect(first, db->target) < 0) {
		set_err(err, errlen, "%s", first->errmsg);
		free_db(db);
		return NULL;
	}
	/* Free list in index order, conns[0] (already connected) first. */
	for (int i = pool_size - 1; i >= 0; i--) {
		db->conns[i]->next_free = db->free_list;
		db->free_list = db->conns[i];
	}
	return db;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&db->lock);
	int in_use = db->in_use;
	pthread_mutex_unlock(&db->lock);
	if (in_use) {
		/* Freeing connections other threads hold would crash them later. */
		log_error("db_close: %d connection(s) still in use; pool not freed", in_use);
		return;
	}
	free_db(db);
}

enum db_kind db_kind(const struct db *db)
{
	return db ? db->ops->kind : (enum db_kind)0;
}

struct db_conn *db_acquire(struct db *db)
{
	if (!db)
		return &dead_conn;
	pthread_mutex_lock(&db->lock);
	if (!db->free_list) {
		db->waits++;
		while (!db->free_list)
			pthread_cond_wait(&db->freed, &db->lock);
	}
	struct db_conn *c = db->free_list;
	db->free_list = c->next_free;
	c->next_free = NULL;
	db->in_use++;
	pthread_mutex_unlock(&db->lock);

	/* (Re)connect outside the lock: a slow server must not stall the pool. */
	if (c->be && (c->broken || c->ops->needs_reconnect(c))) {
		log_warn("db: connection lost, reconnecting");
		drop_connection(c);
	}
	if (!c->be) {
		c->errmsg[0] = '\0';
		c->broken = c->ops->connect(c, db->target) < 0;
		if (c->broken)
			log_warn("db: cannot connect: %s", c->errmsg);
	}
	c->in_tx = false;
	c->tx_err = 0;
	return c;
}

/* At release every statement becomes idle and the private (uncached) ones
 * are freed: statements are valid from db_prepare until db_release. */
static void release_statements(struct db_conn *c)
{
	struct db_stmt *st = c->lru_head;
	while (st) {
		struct db_stmt *next = st->lru_next;
		if (st->busy) {
			c->ops->reset(st);
			st->busy = false;
			c->nbusy--;
		}
		if (!st->cached) {
			lru_remove(c, st);
			free(st->sql);
			c->ops->finalize(st, true);
			c->ntransient--;
		}
		st = next;
	}
}

void db_release(struct db_conn *c)
{
	if (!c || c == &dead_conn)
		return;
	struct db *db = c->db;
	if (c->be) {
		/* A caller that forgot db_done() is told; the reset below keeps no
		 * lock or result alive on its behalf. */
		if (c->nbusy)
			log_warn("db_release: %d statement(s) not finished with db_done", c->nbusy);
		if (c->nbusy || c->ntransient)
			release_statements(c);
		if (!c->broken && (c->in_tx || c->ops->in_transaction(c)))
			c->ops->rollback(c);
	}
	c->in_tx = false;
	c->tx_err = 0;
	pthread_mutex_lock(&db->lock);
	c->next_free = db->free_list;
	db->free_list = c;
	db->in_use--;
	pthread_cond_signal(&db->freed);
	pthread_mutex_unlock(&db->lock);
}

void db_pool_stats(struct db *db, int *in_use, int *total, uint64_t *waits)
{
	int u = 0, t = 0;
	uint64_t w = 0;
	if (db) {
		pthread_mutex_lock(&db->lock);
		u = db->in_use;
		t = db->nconns;
		w = db->waits;
		pthread_mutex_unlock(&db->lock);
	}
	if (in_use)
		*in_use = u;
	if (total)
		*total = t;
	if (waits)
		*waits = w;
}

/* ---- transactions ---- */

static bool usable(const struct db_conn *c)
{
	return c && !c->broken && c->be;
}

/* A statement failed: inside a transaction, that dooms the transaction on
 * both backends (PostgreSQL would refuse everything until ROLLBACK anyway).
 * A lost connection stays lost until db_release: every later call gives
 * DB_ECONN, and the next db_acquire reconnects. */
static int failed(struct db_conn *c, int rc)
{
	if (c->in_tx && !c->tx_err)
		c->tx_err = rc;
	if (rc == DB_ECONN)
		c->broken = true;
	return rc;
}

static int begin(struct db_conn *c, bool write)
{
	if (!usable(c))
		return DB_ECONN;
	if (c->in_tx || c->ops->in_transaction(c))
		return dbi_error(c, DB_EMISUSE, "a transaction is already open on this connection");
	int rc = c->ops->begin(c, write);
	if (rc < 0)
		return failed(c, rc);
	c->in_tx = true;
	c->tx_err = 0;
	return 0;
}

int db_begin(struct db_conn *c)
{
	return begin(c, false);
}

int db_begin_write(struct db_conn *c)
{
	return begin(c, true);
}

int db_commit(struct db_conn *c)
{
	int rc;
	if (!usable(c))
		return DB_ECONN;
	if (!c->in_tx)
		return dbi_error(c, DB_EMISUSE, "db_commit without db_begin");
	if (c->tx_err) {
		/* The first failure's code: DB_EBUSY still says "retry". */
		char why[DBI_ERRMSG_MAX];
		snprintf(why, sizeof why, "%s", c->errmsg);
		if (c->ops->in_transaction(c))
			c->ops->rollback(c);
		rc = dbi_error(c, c->tx_err,
			       "transaction rolled back because a statement in it failed: %s", why);
	} else {
		rc = c->ops->commit(c);
		/* Whatever happened, leave no transaction open. */
		if (rc < 0 && c->ops->in_transaction(c)) {
			char why[DBI_ERRMSG_MAX];
			snprintf(why, sizeof why, "%s", c->errmsg);
			c->ops->rollback(c);
			dbi_error(c, rc, "%s", why);
		}
	}
	c->in_tx = false;
	c->tx_err = 0;
	return failed(c, rc);
}

int db_rollback(struct db_conn *c)
{
	int rc = 0;
	if (!usable(c))
		return DB_ECONN;
	if (c->in_tx || c->ops->in_transaction(c))
		rc = c->ops->rollback(c);
	c->in_tx = false;
	c->tx_err = 0;
	return rc < 0 ? failed(c, rc) : 0;
}

int db_like_escape(struct buf *b, const char *s, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (s[i] == '\\' || s[i] == '%' || s[i] == '_')
			rc = buf_putc(b, '\\');
		if (rc == 0)
			rc = buf_putc(b, s[i]);
	}
	return rc;
}

int db_exec(struct db_conn *c, const char *sql)
{
	if (!usable(c))
		return DB_ECONN;
	if (!sql)
		return dbi_error(c, DB_EMISUSE, "db_exec: sql is NULL");
	int rc = c->ops->exec(c, sql);
	return rc < 0 ? failed(c, rc) : 0;
}

/* ---- statement cache ---- */

static uint64_t hash_sql(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void lru_remove(struct db_conn *c, struct db_stmt *st)
{
	if (st->lru_prev)
		st->lru_prev->lru_next = st->lru_next;
	else
		c->lru_head = st->lru_next;
	if (st->lru_next)
		st->lru_next->lru_prev = st->lru_prev;
	else
		c->lru_tail = st->lru_prev;
	st->lru_prev = st->lru_next = NULL;
}

static void lru_push_front(struct db_conn *c, struct db_stmt *st)
{
	st->lru_prev = NULL;
	st->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = st;
	else
		c->lru_tail = st;
	c->lru_head = st;
}

static void cache_unlink(struct db_conn *c, struct db_stmt *st)
{
	struct db_stmt **pp = &c->buckets[st->hash & (DBI_CACHE_BUCKETS - 1)];
	while (*pp && *pp != st)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = st->hnext;
	st->hnext = NULL;
	lru_remove(c, st);
	c->ncached--;
}

/* The list holds cached statements and, unhashed, statements that were
 * prepared privately because their SQL was already running (so that
 * db_release can reset them). */
int db_prepare(struct db_conn *c, const char *sql, struct db_stmt **out)
{
	if (!out)
		return usable(c) ? dbi_error(c, DB_EMISUSE, "db_prepare: out is NULL") : DB_ECONN;
	*out = NULL;
	if (!usable(c))
		return DB_ECONN;
	if (!sql)
		return dbi_error(c, DB_EMISUSE, "db_prepare: sql is NULL");

	size_t len = strlen(sql);
	uint64_t h = hash_sql(sql, len);
	struct db_stmt **bucket = &c->buckets[h & (DBI_CACHE_BUCKETS - 1)];
	struct db_stmt *st;
	for (st = *bucket; st; st = st->hnext) {
		if (st->hash == h && st->len == len && !memcmp(st->sql, sql, len))
			break;
	}
	if (st && !st->busy) {
		if (c->lru_head != st) {
			lru_remove(c, st);
			lru_push_front(c, st);
		}
		st->busy = true;
		c->nbusy++;
		*out = st;
		return 0;
	}

	bool cache = !st; /* the same SQL already running: prepare a private one */
	if (cache && c->ncached >= DBI_CACHE_MAX) {
		struct db_stmt *victim = c->lru_tail;
		while (victim && (victim->busy || !victim->cached))
			victim = victim->lru_prev;
		if (victim) {
			cache_unlink(c, victim);
			free(victim->sql);
			c->ops->finalize(victim, true);
		} else {
			cache = false;
		}
	}
	int rc = c->ops->prepare(c, sql, len, cache, &st);
	if (rc < 0)
		return failed(c, rc);
	st->conn = c;
	st->sql = xstrndup(sql, len);
	st->len = len;
	st->hash = h;
	st->cached = cache;
	st->busy = true;
	c->nbusy++;
	if (cache) {
		st->hnext = *bucket;
		*bucket = st;
		c->ncached++;
	} else {
		c->ntransient++;
	}
	lru_push_front(c, st);
	*out = st;
	return 0;
}

void db_done(struct db_stmt *st)
{
	if (!st || !st->busy)
		return;
	/* Private statements too stay until db_release, so that the pattern
	 * "prepare once; loop { bind; step; db_done }" works for every one. */
	st->busy = false;
	st->conn->nbusy--;
	st->conn->ops->reset(st);
}

/* Makes a statement used again after db_done() busy once more. */
static inline void arm(struct db_stmt *st)
{
	if (!st->busy) {
		st->busy = true;
		st->conn->nbusy++;
	}
}

/* ---- binding, stepping, columns ---- */

int db_bind_text(struct db_stmt *st, int idx, const char *s)
{
	if (!st)
		return DB_EMISUSE;
	arm(st);
	if (!s)
		return st->conn->ops->bind_null(st, idx);
	return st->conn->ops->bind_text(st, idx, s, strlen(s));
}

int db_bind_textn(struct db_stmt *st, int idx, const char *s, size_t n)
{
	if (!st)
		return DB_EMISUSE;
	arm(st);
	if (!s)
		return st->conn->ops->bind_null(st, idx);
	/* PostgreSQL text cannot hold NUL; refuse it on both backends alike. */
	if (memchr(s, '\0', n))
		return dbi_error(st->conn, DB_EMISUSE, "text parameter %d contains a NUL byte",
				 idx);
	return st->conn->ops->bind_text(st, idx, s, n);
}

int db_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	if (!st)
		return DB_EMISUSE;
	arm(st);
	return st->conn->ops->bind_int64(st, idx, v);
}

int db_bind_double(struct db_stmt *st, int idx, double v)
{
	if (!st)
		return DB_EMISUSE;
	arm(st);
	return st->conn->ops->bind_double(st, idx, v);
}

int db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t n)
{
	if (!st)
		return DB_EMISUSE;
	arm(st);
	if (!p && n)
		return dbi_error(st->conn, DB_EMISUSE,
				 "blob parameter %d: NULL pointer with length", idx);
	return st->conn->ops->bind_blob(st, idx, p ? p : "", n);
}

int db_bind_null(struct db_stmt *st, int idx)
{
	if (!st)
		return DB_EMISUSE;
	arm(st);
	return st->conn->ops->bind_null(st, idx);
}

int db_step(struct db_stmt *st)
{
	if (!st)
		return DB_EMISUSE;
	arm(st);
	int rc = st->conn->ops->step(st);
	return rc < 0 ? failed(st->conn, rc) : rc;
}

struct db_conn *db_stmt_conn(struct db_stmt *st)
{
	return st ? st->conn : NULL;
}

int db_queue(struct db_stmt *st, uint64_t tag, uint64_t *failed_tag)
{
	if (!st)
		return DB_EMISUSE;
	struct db_conn *c = st->conn;
	if (!usable(c))
		return DB_ECONN;
	arm(st);
	int rc;
	if (c->ops->queue) {
		rc = c->ops->queue(st, tag, failed_tag);
	} else {
		rc = c->ops->step(st);
		if (rc < 0 && failed_tag)
			*failed_tag = tag;
		c->ops->reset(st);
	}
	return rc < 0 ? failed(c, rc) : 0;
}

int db_flush(struct db_conn *c, uint64_t *failed_tag)
{
	if (!usable(c))
		return DB_ECONN;
	int rc = c->ops->flush ? c->ops->flush(c, failed_tag) : 0;
	return rc < 0 ? failed(c, rc) : 0;
}

int db_col_count(struct db_stmt *st)
{
	return st ? st->conn->ops->col_count(st) : 0;
}

static bool col_ok(struct db_stmt *st, int i)
{
	return st && i >= 0 && st->conn->ops->has_row(st) && i < st->conn->ops->col_count(st);
}

bool db_col_is_null(struct db_stmt *st, int i)
{
	return col_ok(st, i) ? st->conn->ops->col_is_null(st, i) : true;
}

const char *db_col_text(struct db_stmt *st, int i)
{
	return col_ok(st, i) ? st->conn->ops->col_text(st, i) : NULL;
}

int64_t db_col_int64(struct db_stmt *st, int i)
{
	return col_ok(st, i) ? st->conn->ops->col_int64(st, i) : 0;
}

double db_col_double(struct db_stmt *st, int i)
{
	return col_ok(st, i) ? st->conn->ops->col_double(st, i) : 0.0;
}

const void *db_col_blob(struct db_stmt *st, int i, size_t *n)
{
	size_t dummy;
	if (!n)
		n = &dummy;
	*n = 0;
	return col_ok(st, i) ? st->conn->ops->col_blob(st, i, n) : NULL;
}

int64_t db_changes(struct db_stmt *st)
{
	return st ? st->conn->ops->changes(st) : 0;
}

const char *db_errmsg(struct db_conn *c)
{
	if (!c)
		return dead_conn.errmsg;
	return c->errmsg[0] ? c->errmsg : "no error";
}

const char *db_strerror(int rc)
{
	switch (rc) {
	case DB_OK:
		return "success";
	case DB_ROW:
		return "row ready";
	case DB_DONE:
		return "no more rows";
	case DB_EFAIL:
		return "database error";
	case DB_ECONSTRAINT:
		return "constraint violation";
	case DB_EBUSY:
		return "database busy, retry";
	case DB_ECONN:
		return "database connection failed";
	case DB_EMISUSE:
		return "database API misuse";
	default:
		return "unknown database error";
	}
}

int db_query_int64(struct db_conn *c, const char *sql, int64_t *out)
{
	struct db_stmt *st;
	int rc = db_prepare(c, sql, &st);
	if (rc < 0)
		return rc;
	rc = db_step(st);
	if (rc == DB_ROW && out)
		*out = db_col_int64(st, 0);
	db_done(st);
	return rc;
}

/* ---- migrations ---- */

/* Copies sql into out with the portable type words replaced for kind. Only
 * whole words in upper case outside literals and comments are replaced. */
static int rewrite_types(const char *sql, enum db_kind kind, struct buf *out)
{
	enum dbi_dialect d = kind == DB_POSTGRES ? DBI_DIALECT_PG : DBI_DIALECT_SQLITE;
	size_t n = strlen(sql), i = 0, start = 0;
	int rc = 0;

	buf_reset(out);
	while (i < n) {
		size_t j = dbi_sql_skip(sql, i, n, d);
		if (j != i) {
			i = j;
			continue;
		}
		if (!is_word_char((unsigned char)sql[i])) {
			i++;
			continue;
		}
		size_t w = i;
		while (w < n && is_word_char((unsigned char)sql[w]))
			w++;
		const char *rep = NULL;
		if (w - i == 4 && !memcmp(sql + i, "BLOB", 4))
			rep = kind == DB_POSTGRES ? "BYTEA" : NULL;
		else if (w - i == 16 && !memcmp(sql + i, "AUTOINCREMENT_PK", 16))
			rep = kind == DB_POSTGRES ?
				      "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" :
				      "INTEGER PRIMARY KEY AUTOINCREMENT";
		if (rep) {
			if ((rc = buf_append(out, sql + start, i - start)) < 0 ||
			    (rc = buf_puts(out, rep)) < 0)
				return rc;
			start = w;
		}
		i = w;
	}
	if ((rc = buf_append(out, sql + start, n - start)) < 0)
		return rc;
	return 0;
}

static int current_version(struct db_conn *c, const char *module, int64_t *version)
{
	struct db_stmt *st;
	int rc = db_prepare(
		c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE module = ?", &st);
	if (rc < 0)
		return rc;
	if ((rc = db_bind_text(st, 1, module)) == 0 && (rc = db_step(st)) == DB_ROW) {
		*version = db_col_int64(st, 0);
		rc = 0;
	} else if (rc >= 0) {
		rc = dbi_error(c, DB_EFAIL, "schema_migrations: no row");
	}
	db_done(st);
	return rc;
}

static int record_version(struct db_conn *c, const char *module, int version)
{
	struct db_stmt *st;
	int rc = db_prepare(
		c, "INSERT INTO schema_migrations(module, version, applied_at) VALUES (?, ?, ?)",
		&st);
	if (rc < 0)
		return rc;
	if ((rc = db_bind_text(st, 1, module)) == 0 && (rc = db_bind_int64(st, 2, version)) == 0 &&
	    (rc = db_bind_int64(st, 3, (int64_t)time(NULL))) == 0 && (rc = db_step(st)) == DB_DONE)
		rc = 0;
	db_done(st);
	return rc;
}

/* Applies one step in its own write transaction, unless another process
 * applied it meanwhile. *cur is the module's version before and after. */
static int apply_step(struct db_conn *c, const char *module, const struct db_migration *m,
		      int64_t *cur, struct buf *sql)
{
	int rc;
	/* The write lock serializes concurrent migrators; re-read under it. */
	if ((rc = db_begin_write(c)) < 0 || (rc = current_version(c, module, cur)) < 0)
		return rc;
	if (m->version <= *cur)
		return db_rollback(c);
	const char *text = c->ops->kind == DB_POSTGRES && m->sql_pg ? m->sql_pg : m->sql;
	if (rewrite_types(text, c->ops->kind, sql) < 0)
		return dbi_error(c, DB_EMISUSE, "migration SQL longer than %u bytes",
				 MIGRATION_SQL_MAX);
	if ((rc = db_exec(c, buf_cstr(sql))) < 0 ||
	    (rc = record_version(c, module, m->version)) < 0 || (rc = db_commit(c)) < 0)
		return rc;
	*cur = m->version;
	log_info("db: applied migration %s version %d", module, m->version);
	return 0;
}

int db_migrate(struct db_conn *c, const char *module, const struct db_migration *steps, size_t n,
	       char *err, size_t errlen)
{
	struct buf sql;
	int64_t cur = 0;
	int rc;

	buf_init(&sql, MIGRATION_SQL_MAX);
	set_err(err, errlen, "%s", "");
	if (!usable(c)) {
		rc = DB_ECONN;
		set_err(err, errlen, "migrations: %s", db_errmsg(c));
		goto out;
	}
	if (!module || !*module || (n && !steps) || c->in_tx) {
		rc = DB_EMISUSE;
		set_err(err, errlen,
			"migrations: bad arguments (module, steps, or a transaction open)");
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		if (steps[k].version < 1 || (k && steps[k].version <= steps[k - 1].version) ||
		    !steps[k].sql) {
			rc = DB_EMISUSE;
			set_err(err, errlen,
				"migrations of %s: step %zu must have SQL and a version above the one before",
				module, k);
			goto out;
		}
	}

	if ((rc = db_begin_write(c)) < 0 ||
	    (rc = db_exec(
		     c,
		     "CREATE TABLE IF NOT EXISTS schema_migrations ("
		     "module TEXT NOT NULL, version INTEGER NOT NULL, applied_at BIGINT NOT NULL, "
		     "PRIMARY KEY (module, version))")) < 0 ||
	    (rc = db_commit(c)) < 0) {
		set_err(err, errlen, "migrations: cannot create schema_migrations: %s",
			db_errmsg(c));
		db_rollback(c);
		goto out;
	}
	if ((rc = current_version(c, module, &cur)) < 0) {
		set_err(err, errlen, "migrations of %s: %s", module, db_errmsg(c));
		goto out;
	}
	if (n && cur > steps[n - 1].version)
		log_warn("db: schema of %s is at version %lld, newer than this program's %d",
			 module, (long long)cur, steps[n - 1].version);

	for (size_t k = 0; k < n; k++) {
		if (steps[k].version <= cur)
			continue;
		if ((rc = apply_step(c, module, &steps[k], &cur, &sql)) < 0) {
			set_err(err, errlen, "migration %s version %d failed: %s", module,
				steps[k].version, db_errmsg(c));
			db_rollback(c);
			goto out;
		}
	}
	rc = 0;
out:
	buf_release(&sql);
	return rc;
}
