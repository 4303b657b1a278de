/* The audit chain's format: schema, entry validation, the canonical encoding
 * hashed into the chain and the message a checkpoint signs (see audit.h).
 * Writer (audit.c) and verifier (audit_verify.c) share exactly this code. */
#include "audit/audit.h"

#include <string.h>

#include "common/utf8.h"

/* SQLite gets INTEGER PRIMARY KEY so that seq is the rowid (one b-tree fewer
 * per insert); PostgreSQL gets the BIGINT the design names. Both are 64-bit. */
static const char audit_schema_sqlite[] =
	"CREATE TABLE audit_log ("
	" seq INTEGER PRIMARY KEY,"
	" ts_ms BIGINT NOT NULL,"
	" lg_code TEXT NOT NULL,"
	" actor_kind TEXT NOT NULL,"
	" actor_id TEXT,"
	" actor_name TEXT,"
	" actor_org TEXT,"
	" action TEXT NOT NULL,"
	" subject TEXT,"
	" purpose TEXT,"
	" request_id TEXT,"
	" outcome TEXT NOT NULL,"
	" detail TEXT,"
	" prev_hash BLOB NOT NULL,"
	" hash BLOB NOT NULL);"
	"CREATE INDEX audit_log_subject ON audit_log (lg_code, subject, seq);"
	"CREATE INDEX audit_log_tenant ON audit_log (lg_code, seq);"
	"CREATE TABLE audit_checkpoint ("
	" seq INTEGER PRIMARY KEY,"
	" ts_ms BIGINT NOT NULL,"
	" hash BLOB NOT NULL,"
	" signature BLOB NOT NULL,"
	" key_id TEXT NOT NULL)";

static const char audit_schema_pg[] =
	"CREATE TABLE audit_log ("
	" seq BIGINT PRIMARY KEY,"
	" ts_ms BIGINT NOT NULL,"
	" lg_code TEXT NOT NULL,"
	" actor_kind TEXT NOT NULL,"
	" actor_id TEXT,"
	" actor_name TEXT,"
	" actor_org TEXT,"
	" action TEXT NOT NULL,"
	" subject TEXT,"
	" purpose TEXT,"
	" request_id TEXT,"
	" outcome TEXT NOT NULL,"
	" detail TEXT,"
	" prev_hash BYTEA NOT NULL,"
	" hash BYTEA NOT NULL);"
	"CREATE INDEX audit_log_subject ON audit_log (lg_code, subject, seq);"
	"CREATE INDEX audit_log_tenant ON audit_log (lg_code, seq);"
	"CREATE TABLE audit_checkpoint ("
	" seq BIGINT PRIMARY KEY,"
	" ts_ms BIGINT NOT NULL,"
	" hash BYTEA NOT NULL,"
	" signature BYTEA NOT NULL,"
	" key_id TEXT NOT NULL)";

/* Step 2 takes the subject index off the append path: a resident's entries
 * are found through audit_subject, which the indexer (audit.c) fills after
 * the fact, plus the not yet indexed tail (seq > indexed_upto) of audit_log.
 * Existing subjects are copied and the old index dropped in the same step. */
#define AUDIT_STEP2_COMMON                                                                         \
	"CREATE TABLE audit_index_state ("                                                         \
	" id INTEGER PRIMARY KEY CHECK (id = 1),"                                                  \
	" indexed_upto BIGINT NOT NULL);"                                                          \
	"INSERT INTO audit_subject (lg_code, subject, seq)"                                        \
	" SELECT lg_code, subject, seq FROM audit_log WHERE subject IS NOT NULL;"                  \
	"INSERT INTO audit_index_state (id, indexed_upto)"                                         \
	" SELECT 1, COALESCE(MAX(seq), 0) FROM audit_log;"                                         \
	"DROP INDEX IF EXISTS audit_log_subject"

static const char audit_step2_sqlite[] =
	"CREATE TABLE audit_subject ("
	" lg_code TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" PRIMARY KEY (lg_code, subject, seq)) WITHOUT ROWID;" AUDIT_STEP2_COMMON;

static const char audit_step2_pg[] = "CREATE TABLE audit_subject ("
				     " lg_code TEXT NOT NULL,"
				     " subject TEXT NOT NULL,"
				     " seq BIGINT NOT NULL,"
				     " PRIMARY KEY (lg_code, subject, seq));" AUDIT_STEP2_COMMON;

/* Ended by a version-0 entry, as app/modules.c expects; not counted. */
const struct db_migration audit_migrations[] = {
	{1, audit_schema_sqlite, audit_schema_pg},
	{2, audit_step2_sqlite, audit_step2_pg},
	{0, NULL, NULL},
};
const size_t audit_nmigrations = sizeof audit_migrations / sizeof audit_migrations[0] - 1;

int audit_migrate(struct db_conn *c, char *err, size_t errlen)
{
	return db_migrate(c, "audit", audit_migrations, audit_nmigrations, err, errlen);
}

static int field_ok(const char *s, size_t max, int required)
{
	if (!s)
		return !required;
	size_t n = strnlen(s, max + 1);
	if (n > max || (required && n == 0))
		return 0;
	return utf8_valid(s, n);
}

int audit_entry_check(const struct audit_entry *e)
{
	if (!e || !e->lg_code || strlen(e->lg_code) != 6)
		return AUDIT_EINVAL;
	for (int i = 0; i < 6; i++)
		if (e->lg_code[i] < '0' || e->lg_code[i] > '9')
			return AUDIT_EINVAL;
	if (!field_ok(e->actor_kind, AUDIT_FIELD_MAX, 1) ||
	    !field_ok(e->action, AUDIT_FIELD_MAX, 1) || !field_ok(e->outcome, AUDIT_FIELD_MAX, 1) ||
	    !field_ok(e->actor_id, AUDIT_FIELD_MAX, 0) ||
	    !field_ok(e->actor_name, AUDIT_FIELD_MAX, 0) ||
	    !field_ok(e->actor_org, AUDIT_FIELD_MAX, 0) ||
	    !field_ok(e->subject, AUDIT_FIELD_MAX, 0) ||
	    !field_ok(e->purpose, AUDIT_FIELD_MAX, 0) ||
	    !field_ok(e->request_id, AUDIT_FIELD_MAX, 0) ||
	    !field_ok(e->detail, AUDIT_DETAIL_MAX, 0))
		return AUDIT_EINVAL;
	return 0;
}

static void put_u64be(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static void hash_field(crypto_generichash_state *st, const char *s)
{
	unsigned char len[4];
	uint32_t n = 0xffffffffu;
	if (s)
		n = (uint32_t)strlen(s); /* bounded by audit_entry_check on the write side */
	len[0] = (unsigned char)(n >> 24);
	len[1] = (unsigned char)(n >> 16);
	len[2] = (unsigned char)(n >> 8);
	len[3] = (unsigned char)n;
	crypto_generichash_update(st, len, sizeof len);
	if (s && n)
		crypto_generichash_update(st, (const unsigned char *)s, n);
}

void audit_entry_hash(const unsigned char prev[AUDIT_HASH_BYTES], int64_t seq, int64_t ts_ms,
		      const struct audit_entry *e, unsigned char out[AUDIT_HASH_BYTES])
{
	crypto_generichash_state st;
	unsigned char head[1 + 8 + 8];

	head[0] = 1; /* format version */
	put_u64be(head + 1, (uint64_t)seq);
	put_u64be(head + 9, (uint64_t)ts_ms);
	crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_BYTES);
	crypto_generichash_update(&st, prev, AUDIT_HASH_BYTES);
	crypto_generichash_update(&st, head, sizeof head);
	hash_field(&st, e->lg_code);
	hash_field(&st, e->actor_kind);
	hash_field(&st, e->actor_id);
	hash_field(&st, e->actor_name);
	hash_field(&st, e->actor_org);
	hash_field(&st, e->action);
	hash_field(&st, e->subject);
	hash_field(&st, e->purpose);
	hash_field(&st, e->request_id);
	hash_field(&st, e->outcome);
	hash_field(&st, e->detail);
	crypto_generichash_final(&st, out, AUDIT_HASH_BYTES);
}

void audit_checkpoint_message(int64_t seq, const unsigned char hash[AUDIT_HASH_BYTES],
			      unsigned char msg[AUDIT_CKPT_MSG_BYTES])
{
	size_t nd = sizeof(AUDIT_CKPT_DOMAIN) - 1;
	memcpy(msg, AUDIT_CKPT_DOMAIN, nd);
	put_u64be(msg + nd, (uint64_t)seq);
	memcpy(msg + nd + 8, hash, AUDIT_HASH_BYTES);
}

const char *audit_strerror(int rc)
{
	switch (rc) {
	case AUDIT_OK:
		return "success";
	case AUDIT_EINVAL:
		return "invalid audit entry or argument";
	case AUDIT_EDB:
		return "audit database failure";
	case AUDIT_ECLOSED:
		return "audit log is closed";
	case AUDIT_EBROKEN:
		return "audit chain is broken";
	case AUDIT_ESYS:
		return "audit writer thread could not start";
	default:
		return "unknown audit error";
	}
}
