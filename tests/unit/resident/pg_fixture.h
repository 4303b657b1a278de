/* PostgreSQL for the resident record's unit tests: one database per test
 * process on the server of MADO_TEST_PG_URL, made with a Japanese ICU
 * collation (as a municipality's server may well have) so that any order
 * the SQL leaves to the collation shows, and a schema of its own per case. */
#ifndef MADO_TEST_RESIDENT_PG_FIXTURE_H
#define MADO_TEST_RESIDENT_PG_FIXTURE_H
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"

static char pg_db_name[64];  /* the process's database, or "" */
static char pg_db_url[1024]; /* its URL, or "" (then MADO_TEST_PG_URL itself) */

/* Runs sql (several statements allowed) on the database at url. */
static inline int pg_exec(const char *url, const char *sql)
{
	char err[512];
	struct db *db = db_open(url, 1, err, sizeof err);
	if (!db) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	struct db_conn *c = db_acquire(db);
	int rc = db_exec(c, sql);
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", sql, db_errmsg(c));
	db_release(c);
	db_close(db);
	return rc == 0 ? 0 : -1;
}

/* The database the cases use: the process's own, or MADO_TEST_PG_URL's. */
static inline const char *pg_base_url(void)
{
	return pg_db_url[0] ? pg_db_url : getenv("MADO_TEST_PG_URL");
}

/* url (postgres[ql]://…/DB?…) with its database replaced by db, into out. */
static inline int pg_url_with_db(const char *url, const char *db, char *out, size_t cap)
{
	const char *auth = strstr(url, "://");
	if (!auth)
		return -1;
	auth += 3;
	const char *q = strchr(auth, '?');
	const char *slash = strchr(auth, '/');
	if (!q)
		q = auth + strlen(auth);
	if (!slash || slash > q)
		slash = q;
	int n = snprintf(out, cap, "%.*s/%s%s", (int)(slash - url), url, db, q);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Makes the process's database with the ja-JP ICU collation. Where the
 * server cannot (no ICU), the cases use MADO_TEST_PG_URL's database. */
static inline void pg_db_begin(void)
{
	const char *base = getenv("MADO_TEST_PG_URL");
	char drop[128], create[256];
	snprintf(pg_db_name, sizeof pg_db_name, "mado_res_%ld", (long)getpid());
	/* one statement each: neither runs inside a transaction block */
	snprintf(drop, sizeof drop, "DROP DATABASE IF EXISTS %s", pg_db_name);
	snprintf(create, sizeof create,
		 "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu "
		 "ICU_LOCALE 'ja-JP' LOCALE 'C.UTF-8'",
		 pg_db_name);
	if (pg_exec(base, drop) != 0 || pg_exec(base, create) != 0 ||
	    pg_url_with_db(base, pg_db_name, pg_db_url, sizeof pg_db_url) != 0) {
		printf("note: no database with the ja-JP ICU collation; the cases use "
		       "MADO_TEST_PG_URL's own\n");
		pg_db_name[0] = pg_db_url[0] = '\0';
	}
}

static inline int pg_db_end(void)
{
	if (!pg_db_name[0])
		return 0;
	char sql[128];
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_db_name);
	pg_db_name[0] = pg_db_url[0] = '\0';
	return pg_exec(getenv("MADO_TEST_PG_URL"), sql);
}

/* A new schema (name into schema[64]) and the URL that selects it. */
static inline int pg_schema_new(char schema[64], char *url, size_t cap)
{
	static int serial;
	const char *base = pg_base_url();
	if (!base || !*base)
		return -1;
	char sql[256];
	snprintf(schema, 64, "mado_res_%ld_%d", (long)getpid(), serial++);
	snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
		 schema);
	if (pg_exec(base, sql) != 0)
		return -1;
	/* commits need not wait for the WAL to reach the disk: nothing here
	 * outlives the process, and the cases commit often (every audit entry) */
	int n = snprintf(url, cap, "%s%soptions=-csearch_path%%3D%s%%20-csynchronous_commit%%3Doff",
			 base, strchr(base, '?') ? "&" : "?", schema);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static inline int pg_schema_drop(const char *schema)
{
	char sql[128];
	snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", schema);
	return pg_exec(pg_base_url(), sql);
}

/* True when MADO_TEST_PG_URL is set (else the PostgreSQL runs are skipped). */
static inline bool pg_wanted(void)
{
	const char *pg = getenv("MADO_TEST_PG_URL");
	return pg && *pg;
}

#endif
