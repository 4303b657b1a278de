/* The fixture shared by the resident record's unit tests: a real SQLite
 * file in a temporary directory — or, for the PostgreSQL run, a schema of
 * its own in the process's database on MADO_TEST_PG_URL's server — real keys, the audit and resident schemas
 * and a running audit writer, plus generators of valid numbers. */
#ifndef MADO_TEST_RESIDENT_FIXTURE_H
#define MADO_TEST_RESIDENT_FIXTURE_H
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pg_fixture.h"
#include "app/boot.h"
#include "app/keys.h"
#include "audit/audit.h"
#include "common/checkdigit.h"
#include "resident/resident.h"

#define LG_A "302015" /* 和歌山市 */
#define LG_B "131016" /* 千代田区 */

struct fixture {
	char dir[64];
	char url[1024];  /* the database to use instead of dir/t.db (PostgreSQL), or "" */
	char schema[64]; /* url's schema (search_path), dropped by fixture_drop */
	struct app app;
};

/* True when f runs on PostgreSQL (for the few checks whose SQL differs). */
static inline bool on_pg(const struct fixture *f)
{
	return f->url[0] != '\0';
}

/* Makes f's temporary directory and, when pg, a new schema (pg_fixture.h)
 * with f->url selecting it: each case, and each second deployment of a
 * case, gets one, as the cases expect empty tables. */
static inline int fixture_make(struct fixture *f, bool pg)
{
	snprintf(f->dir, sizeof f->dir, "/tmp/mado-resident-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->url[0] = f->schema[0] = '\0';
	return pg ? pg_schema_new(f->schema, f->url, sizeof f->url) : 0;
}

static inline int fixture_open(struct fixture *f)
{
	char path[160], err[256];
	snprintf(path, sizeof path, "%s/keys", f->dir);
	f->app.keys = keys_load(path, 1, err, sizeof err);
	if (!f->app.keys)
		return -1;
	snprintf(path, sizeof path, "sqlite:%s/t.db", f->dir);
	f->app.db = db_open(*f->url ? f->url : path, 3, err, sizeof err);
	if (!f->app.db)
		return -1;
	struct db_conn *c = db_acquire(f->app.db);
	int rc = audit_migrate(c, err, sizeof err);
	if (rc == 0)
		rc = app_migrate_module(c, &resident_module, err, sizeof err);
	db_release(c);
	if (rc != 0) {
		fprintf(stderr, "migrate: %s\n", err);
		return -1;
	}
	return audit_open(f->app.db, f->app.keys->audit_sk, f->app.keys->audit_key_id, 1000, 3600,
			  &f->app.audit) == 0 ?
		       0 :
		       -1;
}

static inline void fixture_close(struct fixture *f)
{
	audit_close(f->app.audit);
	f->app.audit = NULL;
	db_close(f->app.db);
	keys_free(f->app.keys);
}

/* Closes f, removes its directory and drops its PostgreSQL schema. */
static inline int fixture_drop(struct fixture *f)
{
	fixture_close(f);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	int rc = system(cmd) == 0 ? 0 : -1;
	if (f->schema[0] && pg_schema_drop(f->schema) != 0)
		rc = -1;
	return rc;
}

static inline int setup_on(void **state, bool pg)
{
	if (sodium_init() < 0)
		return -1;
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || fixture_make(f, pg) != 0)
		return -1;
	*state = f;
	return fixture_open(f);
}

/* A case on SQLite. */
static inline int setup(void **state)
{
	return setup_on(state, false);
}

/* The same on PostgreSQL: run_both puts it in place of setup. */
static inline int setup_pg(void **state)
{
	return setup_on(state, true);
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = fixture_drop(f);
	free(f);
	return rc;
}

/* Runs the n tests as group "name/sqlite" and, when MADO_TEST_PG_URL is
 * set, the ones whose setup is setup again as "name/postgres" with
 * setup_pg, in a database of their own (ja-JP collation, pg_fixture.h);
 * returns the number of failures. A case with another setup function runs
 * on SQLite only: say why where it is listed. */
static inline int run_both(const char *name, const struct CMUnitTest *tests, size_t n)
{
	char gname[128];
	snprintf(gname, sizeof gname, "%s/sqlite", name);
	int failed = _cmocka_run_group_tests(gname, tests, n, NULL, NULL);
	snprintf(gname, sizeof gname, "%s/postgres", name);
	if (!pg_wanted()) {
		printf("[  SKIPPED ] %s: MADO_TEST_PG_URL is not set\n", gname);
		return failed;
	}
	struct CMUnitTest *on_pg = calloc(n, sizeof *on_pg);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (tests[i].setup_func == setup) {
			on_pg[m] = tests[i];
			on_pg[m++].setup_func = setup_pg;
		}
	pg_db_begin();
	failed += _cmocka_run_group_tests(gname, on_pg, m, NULL, NULL);
	if (pg_db_end() != 0)
		failed++;
	free(on_pg);
	return failed;
}

#define RUN_BOTH(name, tests) run_both(name, tests, sizeof(tests) / sizeof((tests)[0]))

/* base digits followed by their 宛名番号 check digit, into out. */
static inline const char *atena(char *out, size_t cap, unsigned long long base)
{
	char b[24];
	int n = snprintf(b, sizeof b, "%010llu", base % 10000000000ULL);
	assert_true(n == 10 && cap > 11);
	memcpy(out, b, 10);
	out[10] = (char)('0' + checkdigit_atena(b, 10));
	out[11] = '\0';
	return out;
}

/* A valid My Number from an 11-digit base. */
static inline const char *mynumber(char out[13], unsigned long long base)
{
	char b[24];
	snprintf(b, sizeof b, "%011llu", base % 100000000000ULL);
	memcpy(out, b, 11);
	out[11] = (char)('0' + checkdigit_mynumber(b, 11));
	out[12] = '\0';
	return out;
}

static inline int64_t count(struct db *db, const char *sql)
{
	int64_t n = -1;
	struct db_conn *c = db_acquire(db);
	assert_int_equal(db_query_int64(c, sql, &n), DB_ROW);
	db_release(c);
	return n;
}

/* Adds one resident by bulk (moved in on moved_in); returns bulk's code. */
static inline int add_one(struct app *app, const struct resident_rec *r, const char *mn,
			  const char *moved_in)
{
	struct db_conn *c = db_acquire(app->db);
	struct resident_bulk *b;
	char msg[256];
	assert_int_equal(resident_bulk_begin(app, c, &b), 0);
	int rc = resident_bulk_add(b, r, mn, RES_EV_TENNYU, moved_in, msg, sizeof msg);
	assert_int_equal(resident_bulk_end(b, rc == 0), 0);
	db_release(c);
	return rc;
}

static inline struct resident_actor staff(const char *lg, const char *purpose)
{
	struct resident_actor w = {
		.lg_code = lg,
		.actor_kind = "staff",
		.actor_id = "42",
		.actor_name = "市民課 窓口一郎",
		.actor_org = "和歌山市 市民課",
		.purpose = purpose,
		.request_id = "req-1",
	};
	return w;
}

#endif
