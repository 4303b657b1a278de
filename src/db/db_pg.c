/* The PostgreSQL backend behind db.h, on libpq: `?` placeholders become $n,
 * each statement is prepared once per session under a generated name, and
 * results come back whole in text format (bytea decoded from hex). */
#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "db_internal.h"

#define PG_MAX_PARAMS 65535
#define PG_SQL_MAX (16u << 20)
/* Type OIDs from catalog/pg_type.h, fixed since PostgreSQL 7. */
#define BOOLOID 16
#define BYTEAOID 17
/* db_begin_write(): one advisory lock serializes such transactions, as
 * BEGIN IMMEDIATE does on SQLite. The key spells "mado". */
#define WRITE_LOCK_KEY "1835099247"

/* db_queue(): at most PIPE_MAX executions wait in libpq's pipeline for
 * their results. An answer is a few dozen bytes (BindComplete,
 * CommandComplete), so a full pipeline's answers fit in the socket buffers:
 * the server never blocks writing them while we are still sending (and
 * libpq reads while a write would block in any case). */
#define PIPE_MAX 512

struct pg_conn {
	PGconn *h;
	unsigned next_name;  /* statement names s1, s2, … in this session */
	uint64_t *pipe_tags; /* the caller's tag of each execution in the pipeline */
	int npipe;
	/* A pipeline failure read where it could not be returned (a cached
	 * statement finalized to make room): kept for the next call that can. */
	int held_rc;
	uint64_t held_tag;
	char held_msg[DBI_ERRMSG_MAX];
	bool dead; /* the session's state is unknown: reconnect at next acquire */
};

/* Storage for one bound value: numbers in small, text and bytes in heap,
 * which grows and is kept, so binding does not allocate once warm. */
struct pg_param {
	char small[32];
	char *heap;
	size_t cap;
};

enum pg_state { PG_READY, PG_ROWS, PG_DONE, PG_ERROR };

struct pg_stmt {
	struct db_stmt base; /* first: db.c sees only this */
	char name[16];       /* server-side name; "" for a private statement */
	char *text;          /* the $n text of a private statement (PQexecParams) */
	int nparams;
	const char **values;
	int *lengths;
	int *formats;
	struct pg_param *params;
	PGresult *res;
	int row, nrows;
	enum pg_state state;
	int err;
	int64_t changes;
	/* bytea columns of the current row, decoded into scratch on demand */
	unsigned char *scratch;
	size_t scratch_cap;
	size_t *blob_off;
	bool *blob_done;
	int blob_cols; /* length of blob_off / blob_done */
	int blob_row;  /* row blob_off was computed for, -1 none */
};

static inline struct pg_conn *pgc(struct db_conn *c)
{
	return c->be;
}

static inline struct pg_stmt *pgs(struct db_stmt *st)
{
	return (struct pg_stmt *)st;
}

static void quiet(void *arg, const char *message)
{
	/* NOTICEs ("relation already exists, skipping") are not errors. */
}

/* Copies a libpq message without its trailing newline. */
static int conn_error(struct db_conn *c, int rc, const char *prefix, const char *msg)
{
	size_t n = msg ? strlen(msg) : 0;
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	return dbi_error(c, rc, "%s%.*s", prefix, (int)n, msg ? msg : "");
}

/* Maps a failed result to DB_E*. Only the primary message is kept: the
 * DETAIL of a constraint violation quotes the row's values. */
static int result_error(struct db_conn *c, const PGresult *res)
{
	PGconn *h = pgc(c)->h;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int rc = DB_EFAIL;

	if (PQstatus(h) != CONNECTION_OK)
		rc = DB_ECONN;
	else if (state && (!strncmp(state, "08", 2) || !strncmp(state, "57P0", 4)))
		rc = DB_ECONN; /* connection exception, server shutting down */
	else if (state && !strncmp(state, "23", 2))
		rc = DB_ECONSTRAINT;
	else if (state &&
		 (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")))
		rc = DB_EBUSY;
	if (!msg)
		return conn_error(c, rc, "PostgreSQL: ", PQerrorMessage(h));
	return dbi_error(c, rc, "%s (SQLSTATE %s)", msg, state ? state : "?");
}

/* Runs SQL without parameters; 0 or < 0. */
static int simple(struct db_conn *c, const char *sql)
{
	PGresult *res = PQexec(pgc(c)->h, sql);
	ExecStatusType s = PQresultStatus(res);
	int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : result_error(c, res);
	PQclear(res);
	return rc;
}

/* ---- pipelined executions (db_queue / db_flush) ---- */

/* Reads the answers to every execution in the pipeline and leaves pipeline
 * mode. The first failure is returned (and its tag stored in *failed); the
 * executions after it inside the same pipeline were skipped by the server
 * and a transaction around them is aborted. Without a pipeline returns 0. */
static int pipe_end(struct db_conn *c, uint64_t *failed)
{
	struct pg_conn *q = pgc(c);
	PGconn *h = q->h;
	int rc = 0;

	if (q->held_rc) {
		/* given to every caller until one that can take the tag (db_flush,
		 * db_queue) or a rollback takes it */
		char msg[DBI_ERRMSG_MAX];
		snprintf(msg, sizeof msg, "%s", q->held_msg);
		rc = dbi_error(c, q->held_rc, "%s", msg);
		if (failed) {
			*failed = q->held_tag;
			q->held_rc = 0;
		}
		if (PQpipelineStatus(h) == PQ_PIPELINE_OFF)
			return rc;
	}
	if (PQpipelineStatus(h) == PQ_PIPELINE_OFF)
		return 0;
	if (!PQpipelineSync(h)) {
		q->npipe = 0;
		q->dead = true;
		return conn_error(c, DB_ECONN, "PostgreSQL pipeline: ", PQerrorMessage(h));
	}
	for (int i = 0; i < q->npipe; i++) {
		PGresult *res = PQgetResult(h);
		if (!res) { /* every execution has at least one result */
			q->npipe = 0;
			q->dead = true;
			return conn_error(c, DB_ECONN, "PostgreSQL pipeline: ", PQerrorMessage(h));
		}
		do {
			ExecStatusType st = PQresultStatus(res);
			if (st == PGRES_FATAL_ERROR && rc == 0) {
				rc = result_error(c, res);
				if (failed)
					*failed = q->pipe_tags[i];
			}
			PQclear(res);
		} while ((res = PQgetResult(h)));
	}
	q->npipe = 0;
	PGresult *res = PQgetResult(h);
	bool synced = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
	PQclear(res);
	if (!synced || !PQexitPipelineMode(h)) {
		/* The session's state is unknown: it is dropped at the next acquire. */
		q->dead = true;
		if (rc == 0)
			return conn_error(c, DB_ECONN,
					  "PostgreSQL pipeline did not end: ", PQerrorMessage(h));
		rc = DB_ECONN; /* keeping the first failure's message */
	}
	return rc;
}

/* Before anything else talks to the server: the pipeline is emptied. A
 * failure read here is returned and also held, tag and message with it, for
 * the next call that can take the tag (db_flush, db_queue): the caller of
 * db_step or db_prepare never gave one. A rollback drops it. */
static int idle(struct db_conn *c)
{
	struct pg_conn *q = pgc(c);
	uint64_t tag = 0;
	int rc = pipe_end(c, &tag);
	if (rc < 0 && !q->held_rc) {
		q->held_rc = rc;
		q->held_tag = tag;
		snprintf(q->held_msg, sizeof q->held_msg, "%s", c->errmsg);
	}
	return rc;
}

static void pg_disconnect(struct db_conn *c)
{
	struct pg_conn *q = pgc(c);
	if (!q)
		return;
	PQfinish(q->h);
	free(q->pipe_tags);
	free(q);
	c->be = NULL;
}

static int pg_connect(struct db_conn *c, const char *url)
{
	/* Defaults first: settings in the URL override them. */
	static const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {"5", "madoguchi", url, NULL};
	struct pg_conn *q = xcalloc(1, sizeof *q);

	q->h = PQconnectdbParams(keys, vals, 1);
	c->be = q;
	if (!q->h || PQstatus(q->h) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password. */
		conn_error(c, DB_ECONN, "cannot connect to PostgreSQL: ",
			   q->h ? PQerrorMessage(q->h) : "out of memory");
		goto fail;
	}
	PQsetNoticeProcessor(q->h, quiet, NULL);
	/* What the rest of this file relies on, and the 5 s lock wait that
	 * matches SQLite's busy timeout. */
	if (simple(c, "SET client_encoding = 'UTF8'; SET standard_conforming_strings = on; "
		      "SET bytea_output = 'hex'; SET lock_timeout = 5000") < 0) {
		char why[DBI_ERRMSG_MAX];
		snprintf(why, sizeof why, "%s", c->errmsg);
		dbi_error(c, DB_ECONN, "PostgreSQL session setup failed: %s", why);
		goto fail;
	}
	const char *enc = PQparameterStatus(q->h, "server_encoding");
	if (enc && strcmp(enc, "UTF8"))
		log_warn("db: PostgreSQL database encoding is %s, not UTF8", enc);
	return 0;
fail:
	pg_disconnect(c);
	return DB_ECONN;
}

/* A pooled connection is idle: anything readable on its socket means the
 * server has ended the session (a FATAL message, then end of file) or sent
 * something to drop. libpq sees the end of file only on a later read, so
 * read until nothing is left or the connection is found dead. */
static bool pg_needs_reconnect(struct db_conn *c)
{
	PGconn *h = pgc(c)->h;
	/* a pipeline that did not end cleanly, or whose failure nobody took
	 * (db_queue outside a transaction without db_flush): start afresh */
	if (pgc(c)->dead || pgc(c)->held_rc || PQpipelineStatus(h) != PQ_PIPELINE_OFF)
		return true;
	for (int round = 0; round < 4; round++) {
		if (PQstatus(h) != CONNECTION_OK)
			return true;
		struct pollfd p = {.fd = PQsocket(h), .events = POLLIN};
		int n = poll(&p, 1, 0);
		if (n == 0)
			return false;
		if (n < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
			return true;
		if (!PQconsumeInput(h))
			return true;
		PGnotify *note;
		while ((note = PQnotifies(h)))
			PQfreemem(note);
	}
	return PQstatus(h) != CONNECTION_OK;
}

static bool pg_in_transaction(struct db_conn *c)
{
	PGTransactionStatusType s = PQtransactionStatus(pgc(c)->h);
	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

static int pg_exec(struct db_conn *c, const char *sql)
{
	int rc = idle(c);
	return rc < 0 ? rc : simple(c, sql);
}

static int pg_rollback(struct db_conn *c)
{
	idle(c); /* whatever failed in the pipeline is rolled back with the rest */
	pgc(c)->held_rc = 0;
	return simple(c, "ROLLBACK");
}

static int pg_begin(struct db_conn *c, bool write)
{
	int rc0 = idle(c);
	if (rc0 < 0)
		return rc0;
	if (!write)
		return simple(c, "BEGIN");
	/* One round trip; if the lock times out the transaction is aborted. */
	int rc = simple(c, "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")");
	if (rc < 0 && pg_in_transaction(c)) {
		char why[DBI_ERRMSG_MAX];
		snprintf(why, sizeof why, "%s", c->errmsg);
		pg_rollback(c);
		dbi_error(c, rc, "%s", why);
	}
	return rc;
}

static int pg_commit(struct db_conn *c)
{
	int rc = idle(c);
	if (rc < 0)
		return rc; /* db_commit rolls back */
	PGresult *res = PQexec(pgc(c)->h, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = result_error(c, res);
	else if (!strcmp(PQcmdStatus(res), "ROLLBACK")) /* COMMIT of an aborted transaction */
		rc = dbi_error(c, DB_EFAIL,
			       "transaction was aborted by an earlier error and rolled back");
	PQclear(res);
	return rc;
}

/* ---- statements ---- */

static bool is_word_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '$' || ch >= 0x80;
}

/* Copies sql into out with each `?` outside literals, quoted identifiers and
 * comments replaced by $1, $2, …; *nparams gets their number. */
static int rewrite_placeholders(struct db_conn *c, const char *sql, size_t len, struct buf *out,
				int *nparams)
{
	size_t i = 0, start = 0;
	int n = 0;

	while (i < len) {
		size_t j = dbi_sql_skip(sql, i, len, DBI_DIALECT_PG);
		if (j != i) {
			i = j;
			continue;
		}
		if (is_word_char((unsigned char)sql[i])) {
			while (i < len && is_word_char((unsigned char)sql[i]))
				i++;
			continue;
		}
		if (sql[i] == '?') {
			if (++n > PG_MAX_PARAMS)
				return dbi_error(c, DB_EMISUSE, "more than %d parameters",
						 PG_MAX_PARAMS);
			if (buf_append(out, sql + start, i - start) < 0 ||
			    buf_printf(out, "$%d", n) < 0)
				return dbi_error(c, DB_EMISUSE, "SQL text too long");
			start = i + 1;
		}
		i++;
	}
	if (buf_append(out, sql + start, len - start) < 0)
		return dbi_error(c, DB_EMISUSE, "SQL text too long");
	*nparams = n;
	return 0;
}

static void free_stmt(struct pg_stmt *s)
{
	PQclear(s->res);
	for (int i = 0; i < s->nparams; i++)
		free(s->params[i].heap);
	free(s->params);
	free(s->values);
	free(s->lengths);
	free(s->formats);
	free(s->text);
	free(s->scratch);
	free(s->blob_off);
	free(s->blob_done);
	free(s);
}

static int server_prepare(struct db_conn *c, const char *name, const char *text)
{
	PGresult *res = PQprepare(pgc(c)->h, name, text, 0, NULL);
	int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : result_error(c, res);
	PQclear(res);
	return rc;
}

static int pg_prepare(struct db_conn *c, const char *sql, size_t len, bool cached,
		      struct db_stmt **out)
{
	struct pg_conn *q = pgc(c);
	struct buf text;
	int nparams = 0, rc;

	buf_init(&text, PG_SQL_MAX);
	if (cached && (rc = idle(c)) < 0)
		goto out;
	if ((rc = rewrite_placeholders(c, sql, len, &text, &nparams)) < 0)
		goto out;
	struct pg_stmt *s = xcalloc(1, sizeof *s);
	if (cached) {
		snprintf(s->name, sizeof s->name, "s%u", ++q->next_name);
		if ((rc = server_prepare(c, s->name, buf_cstr(&text))) < 0) {
			free(s);
			goto out;
		}
	} else {
		/* The same SQL is already running under its name; this one runs
		 * unnamed with PQexecParams, so it leaves nothing on the server. */
		s->text = buf_detach(&text, NULL);
		if (!s->text)
			s->text = xstrdup("");
	}
	s->nparams = nparams;
	if (nparams) {
		s->values = xcalloc((size_t)nparams, sizeof *s->values);
		s->lengths = xcalloc((size_t)nparams, sizeof *s->lengths);
		s->formats = xcalloc((size_t)nparams, sizeof *s->formats);
		s->params = xcalloc((size_t)nparams, sizeof *s->params);
	}
	s->blob_row = -1;
	s->state = PG_READY;
	*out = &s->base;
	rc = 0;
out:
	buf_release(&text);
	return rc;
}

static void pg_reset(struct db_stmt *st)
{
	struct pg_stmt *s = pgs(st);
	PQclear(s->res);
	s->res = NULL;
	s->state = PG_READY;
	s->row = -1;
	s->nrows = 0;
	s->changes = 0;
	s->blob_row = -1;
	for (int i = 0; i < s->nparams; i++)
		s->values[i] = NULL;
}

static void pg_finalize(struct db_stmt *st, bool server_side)
{
	struct pg_stmt *s = pgs(st);
	PGconn *h = pgc(st->conn)->h;
	/* DEALLOCATE fails inside an aborted transaction; the name is then
	 * simply left until the session ends (names are never reused). */
	if (server_side && s->name[0])
		idle(st->conn); /* a failure is held for the next call */
	if (server_side && s->name[0] && PQstatus(h) == CONNECTION_OK &&
	    PQtransactionStatus(h) != PQTRANS_INERROR) {
		char sql[32];
		snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
		PQclear(PQexec(h, sql));
	}
	free_stmt(s);
}

static int check_idx(struct db_stmt *st, int idx)
{
	struct pg_stmt *s = pgs(st);
	if (idx < 1 || idx > s->nparams)
		return dbi_error(st->conn, DB_EMISUSE,
				 "parameter index %d out of range (statement has %d)", idx,
				 s->nparams);
	if (s->state != PG_READY)
		return dbi_error(st->conn, DB_EMISUSE,
				 "binding to a statement already run; db_done first");
	return 0;
}

/* Room for n bytes for parameter idx (checked). */
static char *param_room(struct pg_stmt *s, int idx, size_t n)
{
	struct pg_param *p = &s->params[idx - 1];
	if (n <= sizeof p->small)
		return p->small;
	if (n > p->cap) {
		size_t cap = p->cap ? p->cap : 64;
		while (cap < n)
			cap *= 2;
		free(p->heap);
		p->heap = xmalloc(cap);
		p->cap = cap;
	}
	return p->heap;
}

static void set_param(struct pg_stmt *s, int idx, const char *v, size_t n, int format)
{
	s->values[idx - 1] = v;
	s->lengths[idx - 1] = (int)n;
	s->formats[idx - 1] = format;
}

static int pg_bind_text(struct db_stmt *st, int idx, const char *v, size_t n)
{
	int rc = check_idx(st, idx);
	if (rc < 0)
		return rc;
	if (n >= INT32_MAX)
		return dbi_error(st->conn, DB_EMISUSE, "text parameter %d too long", idx);
	char *p = param_room(pgs(st), idx, n + 1);
	memcpy(p, v, n);
	p[n] = '\0';
	set_param(pgs(st), idx, p, n, 0);
	return 0;
}

static int pg_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	int rc = check_idx(st, idx);
	if (rc < 0)
		return rc;
	char *p = param_room(pgs(st), idx, 24);
	int n = snprintf(p, 24, "%" PRId64, v);
	set_param(pgs(st), idx, p, (size_t)n, 0);
	return 0;
}

static int pg_bind_double(struct db_stmt *st, int idx, double v)
{
	int rc = check_idx(st, idx);
	if (rc < 0)
		return rc;
	char *p = param_room(pgs(st), idx, 32);
	int n;
	if (isnan(v))
		n = snprintf(p, 32, "NaN");
	else if (isinf(v))
		n = snprintf(p, 32, "%sInfinity", v < 0 ? "-" : "");
	else
		n = snprintf(p, 32, "%.17g", v); /* round-trips exactly */
	set_param(pgs(st), idx, p, (size_t)n, 0);
	return 0;
}

static int pg_bind_blob(struct db_stmt *st, int idx, const void *v, size_t n)
{
	int rc = check_idx(st, idx);
	if (rc < 0)
		return rc;
	if (n >= INT32_MAX)
		return dbi_error(st->conn, DB_EMISUSE, "blob parameter %d too long", idx);
	char *p = param_room(pgs(st), idx, n);
	memcpy(p, v, n);
	set_param(pgs(st), idx, p, n, 1); /* binary: bytea as raw bytes */
	return 0;
}

static int pg_bind_null(struct db_stmt *st, int idx)
{
	int rc = check_idx(st, idx);
	if (rc < 0)
		return rc;
	set_param(pgs(st), idx, NULL, 0, 0);
	return 0;
}

static PGresult *run(struct pg_stmt *s)
{
	PGconn *h = pgc(s->base.conn)->h;
	if (s->name[0])
		return PQexecPrepared(h, s->name, s->nparams, s->values, s->lengths, s->formats, 0);
	return PQexecParams(h, s->text, s->nparams, NULL, s->values, s->lengths, s->formats, 0);
}

/* "cached plan must not change result type": a table under a SELECT * was
 * altered since we prepared. Outside a transaction, prepare afresh once. */
static bool replan(struct pg_stmt *s, const PGresult *res)
{
	struct db_conn *c = s->base.conn;
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (!s->name[0] || !state || strcmp(state, "0A000") ||
	    PQtransactionStatus(pgc(c)->h) != PQTRANS_IDLE)
		return false;
	struct buf text;
	int nparams, rc;
	char sql[32];
	buf_init(&text, PG_SQL_MAX);
	snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
	rc = simple(c, sql);
	if (rc == 0)
		rc = rewrite_placeholders(c, s->base.sql, s->base.len, &text, &nparams);
	if (rc == 0)
		rc = server_prepare(c, s->name, buf_cstr(&text));
	buf_release(&text);
	return rc == 0;
}

static int64_t parse_int(const char *v)
{
	return strtoll(v, NULL, 10);
}

/* Rows an INSERT/UPDATE/DELETE/MERGE changed; PQcmdTuples alone would also
 * count the rows a SELECT returned. */
static int64_t changed_rows(const PGresult *res)
{
	const char *tag = PQcmdStatus((PGresult *)res);
	if (strncmp(tag, "INSERT ", 7) && strncmp(tag, "UPDATE ", 7) &&
	    strncmp(tag, "DELETE ", 7) && strncmp(tag, "MERGE ", 6))
		return 0;
	return parse_int(PQcmdTuples((PGresult *)res));
}

static int pg_step(struct db_stmt *st)
{
	struct pg_stmt *s = pgs(st);

	switch (s->state) {
	case PG_DONE:
		return DB_DONE;
	case PG_ERROR:
		return s->err;
	case PG_ROWS:
		break;
	case PG_READY: {
		int rc = idle(st->conn);
		if (rc < 0) {
			s->state = PG_ERROR;
			s->err = rc;
			return rc;
		}
		PGresult *res = run(s);
		ExecStatusType status = PQresultStatus(res);
		if (status == PGRES_FATAL_ERROR && replan(s, res)) {
			PQclear(res);
			res = run(s);
			status = PQresultStatus(res);
		}
		if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
			s->state = PG_ERROR;
			s->err = result_error(st->conn, res);
			PQclear(res);
			return s->err;
		}
		s->res = res;
		s->nrows = status == PGRES_TUPLES_OK ? PQntuples(res) : 0;
		s->row = -1;
		s->changes = changed_rows(res);
		s->state = PG_ROWS;
		break;
	}
	}
	if (++s->row < s->nrows)
		return DB_ROW;
	s->state = PG_DONE;
	PQclear(s->res); /* the rows are read; free them now */
	s->res = NULL;
	return DB_DONE;
}

static int pg_col_count(struct db_stmt *st)
{
	struct pg_stmt *s = pgs(st);
	return s->res ? PQnfields(s->res) : 0;
}

static bool pg_has_row(struct db_stmt *st)
{
	struct pg_stmt *s = pgs(st);
	return s->state == PG_ROWS && s->row >= 0 && s->row < s->nrows;
}

static bool pg_col_is_null(struct db_stmt *st, int i)
{
	struct pg_stmt *s = pgs(st);
	return PQgetisnull(s->res, s->row, i);
}

static const char *pg_col_text(struct db_stmt *st, int i)
{
	struct pg_stmt *s = pgs(st);
	return PQgetisnull(s->res, s->row, i) ? NULL : PQgetvalue(s->res, s->row, i);
}

static int64_t pg_col_int64(struct db_stmt *st, int i)
{
	struct pg_stmt *s = pgs(st);
	if (PQgetisnull(s->res, s->row, i))
		return 0;
	const char *v = PQgetvalue(s->res, s->row, i);
	if (PQftype(s->res, i) == BOOLOID)
		return v[0] == 't';
	return parse_int(v);
}

static double pg_col_double(struct db_stmt *st, int i)
{
	struct pg_stmt *s = pgs(st);
	if (PQgetisnull(s->res, s->row, i))
		return 0.0;
	const char *v = PQgetvalue(s->res, s->row, i);
	if (PQftype(s->res, i) == BOOLOID)
		return v[0] == 't';
	return strtod(v, NULL);
}

static int hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static size_t hex_len(const PGresult *res, int row, int col)
{
	int n = PQgetlength(res, row, col);
	return n >= 2 ? (size_t)(n - 2) / 2 : 0;
}

/* Lays out every bytea value of the current row in scratch, so that blobs of
 * several columns stay valid together until the next step. */
static void layout_row(struct pg_stmt *s)
{
	int ncols = PQnfields(s->res);
	if (ncols > s->blob_cols) {
		free(s->blob_off);
		free(s->blob_done);
		s->blob_off = xcalloc((size_t)ncols, sizeof *s->blob_off);
		s->blob_done = xcalloc((size_t)ncols, sizeof *s->blob_done);
		s->blob_cols = ncols;
	}
	size_t off = 0;
	for (int i = 0; i < ncols; i++) {
		s->blob_done[i] = false;
		s->blob_off[i] = off;
		if (PQftype(s->res, i) == BYTEAOID && !PQgetisnull(s->res, s->row, i))
			off += hex_len(s->res, s->row, i);
	}
	if (off + 1 > s->scratch_cap) {
		size_t cap = s->scratch_cap ? s->scratch_cap : 256;
		while (cap < off + 1)
			cap *= 2;
		free(s->scratch);
		s->scratch = xmalloc(cap);
		s->scratch_cap = cap;
	}
	s->blob_row = s->row;
}

static const void *pg_col_blob(struct db_stmt *st, int i, size_t *n)
{
	struct pg_stmt *s = pgs(st);
	if (PQgetisnull(s->res, s->row, i))
		return NULL;
	const unsigned char *v = (const unsigned char *)PQgetvalue(s->res, s->row, i);
	if (PQftype(s->res, i) != BYTEAOID) {
		*n = (size_t)PQgetlength(s->res, s->row, i);
		return v; /* text and numbers: their bytes */
	}
	if (s->blob_row != s->row)
		layout_row(s);
	size_t len = hex_len(s->res, s->row, i);
	unsigned char *out = s->scratch + s->blob_off[i];
	if (!s->blob_done[i]) {
		/* bytea_output is set to hex at connect: "\x" then two digits a byte. */
		if (v[0] != '\\' || v[1] != 'x')
			return NULL;
		for (size_t k = 0; k < len; k++) {
			int hi = hexval(v[2 + 2 * k]), lo = hexval(v[3 + 2 * k]);
			if (hi < 0 || lo < 0)
				return NULL;
			out[k] = (unsigned char)(hi << 4 | lo);
		}
		s->blob_done[i] = true;
	}
	*n = len;
	return out;
}

/* Sends one execution of st with its bindings into the pipeline; reads the
 * answers once PIPE_MAX wait. The bindings are cleared as by pg_reset. */
static int pg_queue(struct db_stmt *st, uint64_t tag, uint64_t *failed)
{
	struct pg_stmt *s = pgs(st);
	struct db_conn *c = st->conn;
	struct pg_conn *q = pgc(c);
	PGconn *h = q->h;

	if (s->state != PG_READY)
		return dbi_error(c, DB_EMISUSE,
				 "db_queue on a statement already run; db_done first");
	if (!q->pipe_tags)
		q->pipe_tags = xcalloc(PIPE_MAX, sizeof *q->pipe_tags);
	if (PQpipelineStatus(h) == PQ_PIPELINE_OFF && !PQenterPipelineMode(h))
		return conn_error(c, DB_EFAIL, "PostgreSQL pipeline: ", PQerrorMessage(h));
	int sent = s->name[0] ? PQsendQueryPrepared(h, s->name, s->nparams, s->values, s->lengths,
						    s->formats, 0) :
				PQsendQueryParams(h, s->text, s->nparams, NULL, s->values,
						  s->lengths, s->formats, 0);
	pg_reset(st);
	if (!sent) {
		int rc = conn_error(c, DB_ECONN, "PostgreSQL pipeline: ", PQerrorMessage(h));
		if (failed)
			*failed = tag;
		pipe_end(c, NULL);
		return rc;
	}
	q->pipe_tags[q->npipe++] = tag;
	return q->npipe < PIPE_MAX ? 0 : pipe_end(c, failed);
}

static int pg_flush(struct db_conn *c, uint64_t *failed)
{
	return pipe_end(c, failed);
}

static int64_t pg_changes(struct db_stmt *st)
{
	struct pg_stmt *s = pgs(st);
	return s->state == PG_DONE ? s->changes : 0;
}

const struct db_ops dbi_pg_ops = {
	.kind = DB_POSTGRES,
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.needs_reconnect = pg_needs_reconnect,
	.in_transaction = pg_in_transaction,
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.prepare = pg_prepare,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.bind_text = pg_bind_text,
	.bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.col_count = pg_col_count,
	.col_is_null = pg_col_is_null,
	.col_text = pg_col_text,
	.col_int64 = pg_col_int64,
	.col_double = pg_col_double,
	.col_blob = pg_col_blob,
	.has_row = pg_has_row,
	.changes = pg_changes,
	.queue = pg_queue,
	.flush = pg_flush,
};
