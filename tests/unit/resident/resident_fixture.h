/* The fixture shared by the resident record's unit tests: a real SQLite
 * file in a temporary directory, real keys, the audit and resident schemas
 * and a running audit writer, plus generators of valid numbers. */
#ifndef MADO_TEST_RESIDENT_FIXTURE_H
#define MADO_TEST_RESIDENT_FIXTURE_H
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/boot.h"
#include "app/keys.h"
#include "audit/audit.h"
#include "common/checkdigit.h"
#include "resident/resident.h"

#define LG_A "302015" /* 和歌山市 */
#define LG_B "131016" /* 千代田区 */

struct fixture {
	char dir[64];
	char url[1024]; /* the database to use instead of dir/t.db (PostgreSQL), or "" */
	struct app app;
};

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

static inline int setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof f->dir, "/tmp/mado-resident-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return fixture_open(f);
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;
	fixture_close(f);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

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
