/* The audit chain: every read or write of personal data is appended here as a
 * hash-chained, durably committed entry, with Ed25519-signed checkpoints, so
 * that residents can see who used their data and tampering can be found.
 *
 * Writing (audit.c): one writer thread per process owns a database connection
 * and commits the entries queued by all caller threads in batches (group
 * commit). audit_append() returns only after its entry is committed.
 *
 * The chain (audit_chain.c): entry n stores
 *     hash_n = BLAKE2b-256(hash_{n-1} || canonical(entry_n)),  hash_0 = 32 zero bytes
 * where canonical() is, in this order:
 *     u8      format version, 1
 *     u64 BE  seq
 *     u64 BE  ts_ms (two's complement)
 *     then for each of lg_code, actor_kind, actor_id, actor_name, actor_org,
 *     action, subject, purpose, request_id, outcome, detail:
 *     u32 BE  length in bytes, or 0xFFFFFFFF for NULL (then no bytes)
 *     bytes   the UTF-8 text, no terminator
 * A checkpoint signs (Ed25519, detached) the 58-byte message
 *     "madoguchi-audit-v1" || u64 BE seq || hash_seq.
 *
 * Reading (audit_verify.c): audit_verify() walks the whole chain; the listing
 * functions return a municipality's or a resident's entries as JSON. */
#ifndef MADO_AUDIT_H
#define MADO_AUDIT_H
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

struct audit;

#define AUDIT_HASH_BYTES 32
#define AUDIT_CKPT_DOMAIN "madoguchi-audit-v1"
#define AUDIT_CKPT_MSG_BYTES (sizeof(AUDIT_CKPT_DOMAIN) - 1 + 8 + AUDIT_HASH_BYTES)
#define AUDIT_FIELD_MAX 1024   /* bytes, every text field except detail */
#define AUDIT_DETAIL_MAX 16384 /* bytes, detail */
#define AUDIT_LIST_DEFAULT 50  /* audit_list_*: limit <= 0 means this */
#define AUDIT_LIST_MAX 200     /* audit_list_*: larger limits are cut to this */

enum {
	AUDIT_OK = 0,
	AUDIT_EINVAL = -101,  /* invalid argument or entry (see audit_entry_check) */
	AUDIT_EDB = -102,     /* the database failed; nothing of the batch was stored */
	AUDIT_ECLOSED = -103, /* audit_close() has begun */
	AUDIT_EBROKEN = -104, /* audit_verify: the chain is broken (see result) */
	AUDIT_ESYS = -105,    /* a thread could not be started */
};

/* One audit record. Every field is NUL-terminated UTF-8 owned by the caller,
 * read only during audit_append(). Required fields are marked; others may be
 * NULL (stored as SQL NULL, which the chain distinguishes from "").
 * Never put secrets (passwords, tokens, My Number) into any field. */
struct audit_entry {
	const char *lg_code;    /* required: the municipality, 6 ASCII digits
				   ("000000" for deployment-wide events) */
	const char *actor_kind; /* required: "resident", "staff", "system", … */
	const char *actor_id;   /* account id or system name */
	const char *actor_name; /* display name at the time of the action */
	const char *actor_org;  /* body and department, e.g. "和歌山市 市民課" */
	const char *action;     /* required: what was done, e.g. "resident.read" */
	const char *subject;    /* the resident/account the data concerns, or NULL */
	const char *purpose;    /* purpose or legal basis */
	const char *request_id; /* the HTTP request id, to join with access logs */
	const char *outcome;    /* required: "ok", "denied", "error", … */
	const char *detail;     /* free text, at most AUDIT_DETAIL_MAX bytes */
};

/* The schema (tables audit_log, audit_checkpoint, audit_subject and
 * audit_index_state), for module "audit":
 * audit_nmigrations steps, then an entry with version 0 that ends the list. */
extern const struct db_migration audit_migrations[];
extern const size_t audit_nmigrations;

/* Applies audit_migrations on c (idempotent). Returns 0 or < 0 with err set. */
int audit_migrate(struct db_conn *c, char *err, size_t errlen);

/* Starts the writer. Reads the chain head and the last checkpoint from db
 * (the tables must exist: see audit_migrate), copies sk (an Ed25519 secret
 * key, kept in locked memory and wiped on close) and key_id (stored with each
 * checkpoint). A checkpoint is written once every_n entries have been appended
 * since the last one, or every_secs seconds after it if anything was appended
 * since, whichever comes first. The writer holds one connection of db's pool
 * until audit_close(), so the pool needs at least two.
 * Returns 0 and *out, or AUDIT_EINVAL / AUDIT_EDB / AUDIT_ESYS. */
int audit_open(struct db *db, const unsigned char sk[crypto_sign_SECRETKEYBYTES],
	       const char *key_id, int every_n, int every_secs, struct audit **out);

/* Appends e to the chain and returns 0 once it is committed (durable), or
 * AUDIT_EINVAL (e is invalid; nothing queued), AUDIT_EDB (the batch holding e
 * was rolled back; e is not in the chain), AUDIT_ECLOSED. Blocks while the
 * queue is full. Thread-safe.
 * On SQLite, do not call it while this thread holds a write transaction: the
 * writer would wait for that lock (busy timeout) and the append would fail.
 * Record the intent first, then do the work (and append the outcome). */
int audit_append(struct audit *a, const struct audit_entry *e);
/* As audit_append(), and on success *seq receives the entry's sequence number. */
int audit_append_seq(struct audit *a, const struct audit_entry *e, int64_t *seq);

/* Counters since audit_open(), for /metrics and benchmarks. */
struct audit_stats {
	uint64_t appended;     /* entries committed */
	uint64_t failed;       /* entries rejected by a failed batch */
	uint64_t batches;      /* transactions committed */
	uint64_t checkpoints;  /* checkpoints written */
	int64_t head_seq;      /* last committed seq */
	uint64_t index_passes; /* subject indexer passes committed */
	int64_t indexed_upto;  /* entries up to this seq are in audit_subject */
};
void audit_get_stats(struct audit *a, struct audit_stats *st);

/* ---- the subject index ----
 * A resident's entries are found through table audit_subject (lg_code,
 * subject, seq), which is filled after the fact, not by audit_append():
 * every AUDIT_INDEX_INTERVAL_MS, or as soon as AUDIT_INDEX_PENDING entries
 * wait, and at audit_close(), the writer thread copies the subjects of the
 * entries above audit_index_state.indexed_upto, in one transaction that also
 * advances indexed_upto. audit_list_subject() adds the entries above
 * indexed_upto by scanning that tail, so it is exact at any moment. */
#define AUDIT_INDEX_INTERVAL_MS 200
#define AUDIT_INDEX_PENDING 8192
#define AUDIT_INDEX_PASS_MAX 65536 /* entries per pass (the audit_index_pass default) */

/* One indexer pass on c (no transaction open): indexes the entries above
 * indexed_upto, at most max_entries of them (<= 0: AUDIT_INDEX_PASS_MAX), in
 * one write transaction. Idempotent; safe next to a running writer (on SQLite
 * it waits for the write lock). *upto (may be NULL) receives indexed_upto
 * after the pass. Returns 0 or AUDIT_EDB. */
int audit_index_pass(struct db_conn *c, int64_t max_entries, int64_t *upto);

/* For tests: with on false the writer runs no indexer pass (not even at
 * audit_close()), as if the process died before one. */
void audit_set_indexing(struct audit *a, bool on);

/* Serves every queued entry, runs a last indexer pass (its failure is only
 * logged: the next start indexes the tail), writes a final checkpoint if
 * anything was appended since the last one, stops the writer, wipes the key and frees a.
 * No audit_append() may start once audit_close() has been called.
 * Returns 0, or AUDIT_EDB if the final checkpoint could not be written.
 * NULL is a no-op. */
int audit_close(struct audit *a);

/* ---- reading ---- */

struct audit_verify_result {
	int64_t entries;     /* entries whose hash was recomputed and matched */
	int64_t checkpoints; /* checkpoints whose signature and hash matched */
	int64_t last_seq;    /* last seq walked */
	int64_t broken_seq;  /* first broken seq (>= 1), 0 when intact */
	const char *reason;  /* static string, NULL when intact: "hash mismatch",
				"gap", "bad checkpoint signature" or
				"checkpoint does not match chain" */
};

/* Walks the whole chain in seq order (streaming, in pages: memory does not
 * grow with the chain), recomputes every hash, checks that seq runs 1, 2, 3 …
 * without gaps, checks every checkpoint's signature against pk and that its
 * hash is the chain's at its seq. Entries appended while it runs may or may
 * not be walked. Returns 0 if the chain is intact, AUDIT_EBROKEN with
 * res->broken_seq and res->reason set at the first fault, or AUDIT_EDB. */
int audit_verify(struct db_conn *c, const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
		 struct audit_verify_result *res);

/* The entries of one resident (subject) in one municipality, newest first:
 * those with seq < before_seq (before_seq <= 0: from the newest), at most
 * limit (see AUDIT_LIST_*). *out receives a new JSON array (caller owns it,
 * json_decref) of objects with keys seq, ts_ms, lg_code, actor_kind,
 * actor_id, actor_name, actor_org, action, subject, purpose, request_id,
 * outcome, detail (absent values are null). Returns 0, AUDIT_EINVAL or
 * AUDIT_EDB (*out NULL). */
int audit_list_subject(struct db_conn *c, const char *lg_code, const char *subject,
		       int64_t before_seq, int limit, json_t **out);
/* The same for every entry of one municipality, for its administrators. */
int audit_list_tenant(struct db_conn *c, const char *lg_code, int64_t before_seq, int limit,
		      json_t **out);

/* ---- the format, for verifiers and tests ---- */

/* 0 if e may be appended, else AUDIT_EINVAL: a required field is NULL or
 * empty, lg_code is not 6 ASCII digits, a field is longer than its maximum
 * or is not valid UTF-8. */
int audit_entry_check(const struct audit_entry *e);
/* hash_seq from hash_{seq-1} (prev) and the entry, as described above. */
void audit_entry_hash(const unsigned char prev[AUDIT_HASH_BYTES], int64_t seq, int64_t ts_ms,
		      const struct audit_entry *e, unsigned char out[AUDIT_HASH_BYTES]);
/* The message a checkpoint signs. */
void audit_checkpoint_message(int64_t seq, const unsigned char hash[AUDIT_HASH_BYTES],
			      unsigned char msg[AUDIT_CKPT_MSG_BYTES]);

const char *audit_strerror(int rc);

#endif
