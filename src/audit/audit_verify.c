/* The read side of the audit chain: verification of the whole chain and its
 * checkpoints, and the listings residents and administrators see.
 * Both only read, through any connection; neither needs the writer. */
#include "audit/audit.h"

#include <stdbool.h>
#include <string.h>

#include "common/xalloc.h"

/* Entries are walked in ranges of seq of this size. Checkpoints of a range
 * are read before its entries (at most one per seq), so that no two queries
 * are ever open at once on the connection (libpq could not do that). */
#define RANGE 1024

#define ENTRY_COLS                                                                                 \
	"seq, ts_ms, lg_code, actor_kind, actor_id, actor_name, actor_org, action, subject,"       \
	" purpose, request_id, outcome, detail"

static const char sql_range[] = "SELECT " ENTRY_COLS ", prev_hash, hash FROM audit_log"
				" WHERE seq > ? AND seq <= ? ORDER BY seq";
static const char sql_ckpt_range[] = "SELECT seq, hash, signature FROM audit_checkpoint"
				     " WHERE seq > ? AND seq <= ? ORDER BY seq";
static const char sql_ckpt_after[] = "SELECT seq, hash, signature FROM audit_checkpoint"
				     " WHERE seq > ? ORDER BY seq LIMIT 1";
static const char sql_max_seq[] = "SELECT COALESCE(MAX(seq), 0) FROM audit_log";
static const char sql_min_seq[] = "SELECT COALESCE(MIN(seq), 1) FROM audit_log";
static const char sql_min_ckpt[] = "SELECT COALESCE(MIN(seq), 1) FROM audit_checkpoint";
static const char sql_has_seq[] = "SELECT seq FROM audit_log WHERE seq = ?";

static const char *const R_HASH = "hash mismatch";
static const char *const R_GAP = "gap";
static const char *const R_SIG = "bad checkpoint signature";
static const char *const R_CKPT = "checkpoint does not match chain";

struct ckpt {
	int64_t seq;
	bool sig_ok;  /* signature verified over (seq, stored hash) */
	bool hash_ok; /* stored hash has the right size */
	unsigned char hash[AUDIT_HASH_BYTES];
};

static void broken(struct audit_verify_result *res, int64_t seq, const char *reason)
{
	res->broken_seq = seq;
	res->reason = reason;
}

/* Reads the current row of st (seq, hash, signature) into k and checks the
 * signature. */
static void ckpt_read(struct db_stmt *st, const unsigned char *pk, struct ckpt *k)
{
	size_t nh = 0, ns = 0;
	const void *h = db_col_blob(st, 1, &nh);
	const void *s = db_col_blob(st, 2, &ns);

	k->seq = db_col_int64(st, 0);
	k->hash_ok = h && nh == AUDIT_HASH_BYTES;
	k->sig_ok = false;
	memset(k->hash, 0, sizeof k->hash);
	if (!k->hash_ok || !s || ns != crypto_sign_BYTES)
		return;
	memcpy(k->hash, h, AUDIT_HASH_BYTES);
	unsigned char msg[AUDIT_CKPT_MSG_BYTES];
	audit_checkpoint_message(k->seq, k->hash, msg);
	k->sig_ok = crypto_sign_verify_detached(s, msg, sizeof msg, pk) == 0;
}

/* Checkpoint k against the chain's hash at its seq. Returns false (and fills
 * res) if it is bad. */
static bool ckpt_check(const struct ckpt *k, const unsigned char chain[AUDIT_HASH_BYTES],
		       struct audit_verify_result *res)
{
	if (!k->sig_ok) {
		broken(res, k->seq, R_SIG);
		return false;
	}
	if (!k->hash_ok || memcmp(k->hash, chain, AUDIT_HASH_BYTES) != 0) {
		broken(res, k->seq, R_CKPT);
		return false;
	}
	res->checkpoints++;
	return true;
}

static int load_ckpts(struct db_conn *c, const unsigned char *pk, int64_t lo, int64_t hi,
		      struct ckpt *ck, size_t *n)
{
	struct db_stmt *st = NULL;
	int rc = db_prepare(c, sql_ckpt_range, &st);

	*n = 0;
	if (rc < 0)
		return rc;
	if ((rc = db_bind_int64(st, 1, lo)) < 0 || (rc = db_bind_int64(st, 2, hi)) < 0)
		goto out;
	/* seq is the primary key, so a range of RANGE seqs holds at most RANGE. */
	while ((rc = db_step(st)) == DB_ROW && *n < RANGE)
		ckpt_read(st, pk, &ck[(*n)++]);
	if (rc == DB_ROW || rc == DB_DONE)
		rc = 0;
out:
	db_done(st);
	return rc;
}

/* Walks entries (lo, hi] against the running hash prev. Returns 0, or
 * AUDIT_EBROKEN with res filled, or a DB error. */
static int walk_range(struct db_conn *c, const unsigned char *pk, int64_t lo, int64_t hi,
		      unsigned char prev[AUDIT_HASH_BYTES], struct ckpt *ck,
		      struct audit_verify_result *res)
{
	struct db_stmt *st = NULL;
	size_t nck = 0, ick = 0;
	int64_t expected = lo + 1;
	int rc = load_ckpts(c, pk, lo, hi, ck, &nck);

	if (rc < 0)
		return rc;
	rc = db_prepare(c, sql_range, &st);
	if (rc < 0)
		return rc;
	if ((rc = db_bind_int64(st, 1, lo)) < 0 || (rc = db_bind_int64(st, 2, hi)) < 0)
		goto out;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t seq = db_col_int64(st, 0);
		struct audit_entry e = {
			.lg_code = db_col_text(st, 2),
			.actor_kind = db_col_text(st, 3),
			.actor_id = db_col_text(st, 4),
			.actor_name = db_col_text(st, 5),
			.actor_org = db_col_text(st, 6),
			.action = db_col_text(st, 7),
			.subject = db_col_text(st, 8),
			.purpose = db_col_text(st, 9),
			.request_id = db_col_text(st, 10),
			.outcome = db_col_text(st, 11),
			.detail = db_col_text(st, 12),
		};
		unsigned char h[AUDIT_HASH_BYTES];
		size_t np = 0, nh = 0;
		const void *sp, *sh;

		if (seq != expected) {
			broken(res, expected, R_GAP);
			rc = AUDIT_EBROKEN;
			goto out;
		}
		audit_entry_hash(prev, seq, db_col_int64(st, 1), &e, h);
		sp = db_col_blob(st, 13, &np);
		sh = db_col_blob(st, 14, &nh);
		if (!sp || np != AUDIT_HASH_BYTES || memcmp(sp, prev, AUDIT_HASH_BYTES) != 0 ||
		    !sh || nh != AUDIT_HASH_BYTES || memcmp(sh, h, AUDIT_HASH_BYTES) != 0) {
			broken(res, seq, R_HASH);
			rc = AUDIT_EBROKEN;
			goto out;
		}
		memcpy(prev, h, AUDIT_HASH_BYTES);
		res->entries++;
		res->last_seq = seq;
		expected++;
		for (; ick < nck && ck[ick].seq <= seq; ick++) {
			/* Entries are contiguous from lo + 1, so an earlier
			 * checkpoint cannot be left over here. */
			if (!ckpt_check(&ck[ick], h, res)) {
				rc = AUDIT_EBROKEN;
				goto out;
			}
		}
	}
	if (rc != DB_DONE)
		goto out;
	rc = 0;
	if (expected != hi + 1) {
		broken(res, expected, R_GAP);
		rc = AUDIT_EBROKEN;
	}
out:
	db_done(st);
	return rc;
}

/* After the walk up to max: a checkpoint beyond max is fine if entries
 * beyond max exist (appended meanwhile, committed no later than their
 * checkpoint); if not, the tail of the chain was cut off. */
static int check_tail(struct db_conn *c, const unsigned char *pk, int64_t max,
		      struct audit_verify_result *res)
{
	struct db_stmt *st = NULL;
	struct ckpt k;
	int rc = db_prepare(c, sql_ckpt_after, &st);

	if (rc < 0)
		return rc;
	rc = db_bind_int64(st, 1, max);
	if (rc == 0)
		rc = db_step(st);
	if (rc == DB_ROW)
		ckpt_read(st, pk, &k);
	db_done(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? 0 : rc;
	if (!k.sig_ok) {
		broken(res, k.seq, R_SIG);
		return AUDIT_EBROKEN;
	}
	rc = db_prepare(c, sql_has_seq, &st);
	if (rc < 0)
		return rc;
	rc = db_bind_int64(st, 1, max + 1);
	if (rc == 0)
		rc = db_step(st);
	db_done(st);
	if (rc == DB_ROW)
		return 0;
	if (rc == DB_DONE) {
		broken(res, max + 1, R_GAP);
		return AUDIT_EBROKEN;
	}
	return rc;
}

int audit_verify(struct db_conn *c, const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
		 struct audit_verify_result *res)
{
	unsigned char prev[AUDIT_HASH_BYTES] = {0};
	struct ckpt *ck = NULL;
	int64_t max = 0, min_e = 1, min_c = 1;
	int rc = AUDIT_EINVAL;

	if (!res)
		return AUDIT_EINVAL;
	memset(res, 0, sizeof *res);
	if (!c || !pk)
		goto out;
	if (sodium_init() < 0) {
		rc = AUDIT_ESYS;
		goto out;
	}
	rc = AUDIT_EDB;
	if (db_query_int64(c, sql_max_seq, &max) != DB_ROW ||
	    db_query_int64(c, sql_min_seq, &min_e) != DB_ROW ||
	    db_query_int64(c, sql_min_ckpt, &min_c) != DB_ROW)
		goto out;
	/* Rows below seq 1 are outside the walk, yet would be listed: the
	 * chain does not begin where it must. Reported at 1, so that
	 * broken_seq is never 0 when broken. */
	if (min_e < 1 || min_c < 1) {
		broken(res, 1, min_e <= min_c ? R_GAP : R_CKPT);
		rc = AUDIT_EBROKEN;
		goto out;
	}
	ck = xcalloc(RANGE, sizeof *ck);
	for (int64_t lo = 0; lo < max; lo += RANGE) {
		int64_t hi = max - lo > RANGE ? lo + RANGE : max;
		rc = walk_range(c, pk, lo, hi, prev, ck, res);
		if (rc < 0)
			goto out_rc;
	}
	rc = check_tail(c, pk, max, res);
out_rc:
	if (rc < 0 && rc != AUDIT_EBROKEN)
		rc = AUDIT_EDB;
out:
	free(ck);
	return rc;
}

/* ---- listing ---- */

/* A resident's entries: those up to indexed_upto through audit_subject, and
 * those above it (the tail the indexer has not reached) from audit_log by a
 * seq range. One statement, hence one snapshot on both backends: an indexer
 * pass committing meanwhile moves rows and indexed_upto together, so every
 * entry is in exactly one of the two disjoint ranges. The outer filter on
 * lg_code and subject keeps a stale audit_subject row (a hand edit of
 * audit_log, which verify reports) from listing someone else's entry. */
static const char sql_list_subject[] =
	"WITH st (u) AS (SELECT COALESCE(MAX(indexed_upto), 0) FROM audit_index_state)"
	" SELECT " ENTRY_COLS " FROM audit_log WHERE seq IN ("
	"SELECT seq FROM (SELECT s.seq FROM audit_subject s"
	" WHERE s.lg_code = ? AND s.subject = ? AND s.seq < ? AND s.seq <= (SELECT u FROM st)"
	" ORDER BY s.seq DESC LIMIT ?) AS i"
	" UNION ALL "
	"SELECT seq FROM (SELECT t.seq FROM audit_log t"
	" WHERE t.seq > (SELECT u FROM st) AND t.seq < ? AND t.lg_code = ? AND t.subject = ?"
	" ORDER BY t.seq DESC LIMIT ?) AS j)"
	" AND lg_code = ? AND subject = ? ORDER BY seq DESC LIMIT ?";
static const char sql_list_tenant[] = "SELECT " ENTRY_COLS " FROM audit_log"
				      " WHERE lg_code = ? AND seq < ? ORDER BY seq DESC LIMIT ?";

static const char *const list_keys[] = {
	"seq",    "ts_ms",   "lg_code", "actor_kind", "actor_id", "actor_name", "actor_org",
	"action", "subject", "purpose", "request_id", "outcome",  "detail"};

/* A JSON string, or null for SQL NULL and for text that is not UTF-8 (only
 * possible if the table was edited by hand: verify will say so). */
static json_t *json_text(struct db_stmt *st, int i)
{
	const char *s = db_col_text(st, i);
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_null();
}

static int list_run(struct db_stmt *st, json_t **out)
{
	json_t *arr = json_array();
	int rc;

	while ((rc = db_step(st)) == DB_ROW) {
		json_t *o = json_object();
		json_object_set_new(o, list_keys[0], json_integer(db_col_int64(st, 0)));
		json_object_set_new(o, list_keys[1], json_integer(db_col_int64(st, 1)));
		for (int i = 2; i < 13; i++)
			json_object_set_new(o, list_keys[i], json_text(st, i));
		json_array_append_new(arr, o);
	}
	if (rc != DB_DONE) {
		json_decref(arr);
		return AUDIT_EDB;
	}
	*out = arr;
	return 0;
}

static int clamp_limit(int limit)
{
	if (limit <= 0)
		return AUDIT_LIST_DEFAULT;
	return limit > AUDIT_LIST_MAX ? AUDIT_LIST_MAX : limit;
}

int audit_list_subject(struct db_conn *c, const char *lg_code, const char *subject,
		       int64_t before_seq, int limit, json_t **out)
{
	struct db_stmt *st = NULL;
	int rc = AUDIT_EINVAL;

	*out = NULL;
	if (!c || !lg_code || !*lg_code || !subject || !*subject)
		return rc;
	if (db_prepare(c, sql_list_subject, &st) < 0)
		return AUDIT_EDB;
	rc = AUDIT_EDB;
	int64_t before = before_seq > 0 ? before_seq : INT64_MAX;
	int lim = clamp_limit(limit);
	if (db_bind_text(st, 1, lg_code) < 0 || db_bind_text(st, 2, subject) < 0 ||
	    db_bind_int64(st, 3, before) < 0 || db_bind_int64(st, 4, lim) < 0 ||
	    db_bind_int64(st, 5, before) < 0 || db_bind_text(st, 6, lg_code) < 0 ||
	    db_bind_text(st, 7, subject) < 0 || db_bind_int64(st, 8, lim) < 0 ||
	    db_bind_text(st, 9, lg_code) < 0 || db_bind_text(st, 10, subject) < 0 ||
	    db_bind_int64(st, 11, lim) < 0)
		goto out;
	rc = list_run(st, out);
out:
	db_done(st);
	return rc;
}

int audit_list_tenant(struct db_conn *c, const char *lg_code, int64_t before_seq, int limit,
		      json_t **out)
{
	struct db_stmt *st = NULL;
	int rc = AUDIT_EINVAL;

	*out = NULL;
	if (!c || !lg_code || !*lg_code)
		return rc;
	if (db_prepare(c, sql_list_tenant, &st) < 0)
		return AUDIT_EDB;
	rc = AUDIT_EDB;
	if (db_bind_text(st, 1, lg_code) < 0 ||
	    db_bind_int64(st, 2, before_seq > 0 ? before_seq : INT64_MAX) < 0 ||
	    db_bind_int64(st, 3, clamp_limit(limit)) < 0)
		goto out;
	rc = list_run(st, out);
out:
	db_done(st);
	return rc;
}
