/* Log-in, sessions and API tokens (see platform.h). Session and API tokens
 * are random 256-bit values; only their keyed BLAKE2b hashes are stored, so a
 * copy of the database does not let anyone sign in. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/dispatch.h"
#include "app/keys.h"
#include "app/platform.h"
#include "app/roles.h"
#include "app/throttle.h"
#include "audit/audit.h"
#include "auth/password.h"
#include "auth/token.h"
#include "auth/totp.h"
#include "common/log.h"

bool platform_token_equal(const char *a, const char *b)
{
	return *a && token_equal(a, strlen(a), b, strlen(b));
}

char *platform_token_new(struct arena *a)
{
	char *out = arena_alloc(a, TOKEN_STR_SIZE);
	token_new(out);
	return out;
}

static void tok_hash(const struct app *app, const char *token, unsigned char out[32])
{
	token_hash(app->keys->token_key, sizeof app->keys->token_key, token, strlen(token), out);
}

const char *login_message_ja(enum login_result r)
{
	switch (r) {
	case LOGIN_OK:
		return "";
	case LOGIN_BAD:
		return "ログインIDまたはパスワードが違います。";
	case LOGIN_LOCKED:
		return "ログインに続けて失敗したため、一時的にロックしています。しばらくしてからお試しください。";
	case LOGIN_TOTP_REQUIRED:
		return "確認コード（6桁）を入力してください。";
	case LOGIN_TOTP_BAD:
		return "確認コードが違います。";
	case LOGIN_DISABLED:
		return "このアカウントは利用停止中です。窓口にお問い合わせください。";
	default:
		return "ただいまログインできません。しばらくしてからお試しください。";
	}
}

/* The lock-out (docs/internals/app.md, "Log-in throttling"). An attempt is
 * reserved before the password is verified, in one UPDATE that only matches an
 * account that is not locked, so that parallel requests cannot all be
 * verified: each one counts as a failure from the start, and the one that
 * brings the count to --login-max-failures sets the lock. A password that
 * turns out right gives its reservation back (login_attempt_release) or, on a
 * full log-in, resets the count (record_success). The conditional UPDATE is
 * atomic on SQLite (one writer) and on PostgreSQL (a concurrent UPDATE of the
 * row waits and re-checks the WHERE against the committed row). */
int login_attempt_reserve(struct app *app, struct db_conn *c, const struct account *acc,
			  int64_t *lock_set, int64_t *retry_after)
{
	int64_t now = platform_now_ms();
	int64_t until = now + (int64_t)app->cfg->login_lockout * 1000;
	struct db_stmt *st;
	*lock_set = 0;
	*retry_after = 0;
	int rc = db_prepare(
		c,
		"UPDATE accounts SET failed_logins = failed_logins + 1, "
		"locked_until_ms = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE "
		"locked_until_ms END WHERE id = ? AND lg_code = ? AND locked_until_ms <= ? "
		"RETURNING locked_until_ms",
		&st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, app->cfg->login_max_failures);
	db_bind_int64(st, 2, until);
	db_bind_int64(st, 3, acc->id);
	db_bind_text(st, 4, acc->lg_code);
	db_bind_int64(st, 5, now);
	rc = db_step(st);
	if (rc == DB_ROW && db_col_int64(st, 0) == until)
		*lock_set = until;
	db_done(st);
	if (rc < 0)
		return rc;
	if (rc == DB_ROW)
		return 0;
	/* no row: locked (or the account is gone); say for how long */
	if ((rc = db_prepare(c, "SELECT locked_until_ms FROM accounts WHERE id = ? AND lg_code = ?",
			     &st)) < 0)
		return rc;
	db_bind_int64(st, 1, acc->id);
	db_bind_text(st, 2, acc->lg_code);
	rc = db_step(st);
	int64_t locked = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_done(st);
	if (rc < 0)
		return rc;
	if (rc != DB_ROW)
		return -ENOENT;
	*retry_after = locked > now ? (locked - now + 999) / 1000 : 1;
	return 1;
}

int login_attempt_release(struct app *app, struct db_conn *c, const struct account *acc,
			  int64_t lock_set)
{
	struct db_stmt *st;
	/* The lock goes too when this reservation set it, or when the count is
	 * below the limit again (a parallel reservation locked, then this one
	 * turned out not to be a failure). */
	int rc = db_prepare(
		c,
		"UPDATE accounts SET failed_logins = CASE WHEN failed_logins > 0 THEN "
		"failed_logins - 1 ELSE 0 END, locked_until_ms = CASE WHEN "
		"locked_until_ms = ? OR failed_logins - 1 < ? THEN 0 ELSE locked_until_ms "
		"END WHERE id = ? AND lg_code = ?",
		&st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, lock_set ? lock_set : -1);
	db_bind_int64(st, 2, app->cfg->login_max_failures);
	db_bind_int64(st, 3, acc->id);
	db_bind_text(st, 4, acc->lg_code);
	rc = db_step(st);
	db_done(st);
	return rc < 0 ? rc : 0;
}

static int record_success(struct db_conn *c, const struct account *acc, int64_t totp_step)
{
	struct db_stmt *st;
	int rc = db_prepare(c,
			    "UPDATE accounts SET failed_logins = 0, locked_until_ms = 0, "
			    "totp_last_step = CASE WHEN ? > totp_last_step THEN ? ELSE "
			    "totp_last_step END WHERE id = ? AND lg_code = ?",
			    &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, totp_step);
	db_bind_int64(st, 2, totp_step);
	db_bind_int64(st, 3, acc->id);
	db_bind_text(st, 4, acc->lg_code);
	rc = db_step(st);
	db_done(st);
	return rc < 0 ? rc : 0;
}

int platform_totp_secret(struct app *app, const unsigned char *blob, size_t n, unsigned char *out,
			 size_t outmax)
{
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	const size_t ab = crypto_aead_xchacha20poly1305_ietf_ABYTES;
	if (n < nb + ab || n - nb - ab > outmax)
		return -EINVAL;
	unsigned char key[32];
	keys_derive(app->keys, KEY_TOTP_ENC, key);
	unsigned long long len = 0;
	int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(out, &len, NULL, blob + nb, n - nb,
							    NULL, 0, blob, key);
	sodium_memzero(key, sizeof key);
	return rc == 0 ? (int)len : -EINVAL;
}

static int login_check(struct app *app, struct db_conn *c, struct arena *a, const char *lg_code,
		       const char *login, const char *password, const char *totp,
		       struct account *out, int64_t *retry_after);

int login_password(struct app *app, struct db_conn *c, struct arena *a, const char *lg_code,
		   const char *login, const char *password, const char *totp, const char *ip,
		   struct account *out, int64_t *retry_after)
{
	*retry_after = 0;
	memset(out, 0, sizeof(*out));
	if (!lg_code || !login || !password)
		return LOGIN_BAD;
	/* the address's attempt is taken before anything is verified, like the
	 * account's (throttle.h), and given back unless it was a failure */
	if (!throttle_take(ip, app->cfg->login_ip_max_failures, platform_now_ms(), retry_after))
		return LOGIN_LOCKED;
	int res = login_check(app, c, a, lg_code, login, password, totp, out, retry_after);
	if (res != LOGIN_BAD && res != LOGIN_TOTP_BAD)
		throttle_give_back(ip, platform_now_ms());
	return res;
}

/* Gives back the attempt reserved on acc: the password was right. */
static int not_a_failure(struct app *app, struct db_conn *c, const struct account *acc,
			 int64_t lock_set, int res)
{
	return login_attempt_release(app, c, acc, lock_set) < 0 ? LOGIN_ERROR : res;
}

static int login_check(struct app *app, struct db_conn *c, struct arena *a, const char *lg_code,
		       const char *login, const char *password, const char *totp,
		       struct account *out, int64_t *retry_after)
{
	struct db_stmt *st;
	int rc = account_find(c, a, lg_code, login, out);
	if (rc == -ENOENT) {
		/* spend the same time as a real check so logins cannot be probed */
		password_verify_dummy(password, strlen(password));
		return LOGIN_BAD;
	}
	if (rc < 0)
		return LOGIN_ERROR;
	/* Counted as a failure before it is verified, so that parallel guesses
	 * stop at the limit. A locked account answers at once: 429 already
	 * tells a locked account from a wrong password, so spending an Argon2id
	 * run would hide nothing and only cost memory and time. */
	int64_t lock_set = 0;
	rc = login_attempt_reserve(app, c, out, &lock_set, retry_after);
	if (rc == 1)
		return LOGIN_LOCKED;
	if (rc == -ENOENT) {
		password_verify_dummy(password, strlen(password));
		return LOGIN_BAD;
	}
	if (rc < 0)
		return LOGIN_ERROR;
	int64_t now = platform_now_ms();

	char *hash = NULL;
	unsigned char secret_blob[128];
	size_t secret_len = 0;
	int64_t last_step = 0;
	if (db_prepare(
		    c,
		    "SELECT password_hash, totp_secret, totp_last_step FROM accounts WHERE id = ? "
		    "AND lg_code = ?",
		    &st) < 0)
		return LOGIN_ERROR;
	db_bind_int64(st, 1, out->id);
	db_bind_text(st, 2, lg_code);
	if (db_step(st) == DB_ROW) {
		const char *h = db_col_text(st, 0);
		hash = h ? arena_strdup(a, h) : NULL;
		size_t n = 0;
		const void *b = db_col_blob(st, 1, &n);
		if (b && n <= sizeof secret_blob) {
			memcpy(secret_blob, b, n);
			secret_len = n;
		}
		last_step = db_col_int64(st, 2);
	}
	db_done(st);
	/* without a stored hash the same time is spent as for a wrong password */
	if (!hash) {
		password_verify_dummy(password, strlen(password));
		return LOGIN_BAD; /* already counted */
	}
	if (password_verify(hash, password, strlen(password)) != 0)
		return LOGIN_BAD; /* already counted */
	/* only the right password learns that the account is disabled: anyone
	 * else gets the answer of an unknown login, in the same time */
	if (out->disabled)
		return not_a_failure(app, c, out, lock_set, LOGIN_DISABLED);
	int64_t step = 0;
	if (out->totp_enabled) {
		if (!totp || !*totp)
			return not_a_failure(app, c, out, lock_set, LOGIN_TOTP_REQUIRED);
		unsigned char secret[64];
		int slen =
			platform_totp_secret(app, secret_blob, secret_len, secret, sizeof secret);
		struct totp_params tp = TOTP_PARAMS_DEFAULT;
		uint64_t matched = 0;
		int ok = slen > 0 ?
				 totp_verify(secret, (size_t)slen, &tp, totp, strlen(totp),
					     (time_t)(now / 1000), (uint64_t)last_step, &matched) :
				 -1;
		step = (int64_t)matched;
		sodium_memzero(secret, sizeof secret);
		if (ok != 0) /* includes a replayed code: good once only; counted */
			return LOGIN_TOTP_BAD;
	}
	if (record_success(c, out, step) < 0)
		return LOGIN_ERROR;
	return LOGIN_OK;
}

static int session_insert(struct req *r, const struct account *acc, const char *method,
			  const char **token_out, const char **csrf_out)
{
	struct app *app = r->app;
	const char *token = platform_token_new(r->arena);
	const char *csrf = platform_token_new(r->arena);
	unsigned char h[32];
	tok_hash(app, token, h);
	int64_t now = platform_now_ms();
	struct db_stmt *st;
	int rc = db_prepare(app_db(r),
			    "INSERT INTO sessions (lg_code, account_id, token_hash, csrf, "
			    "created_ms, last_seen_ms, expires_ms, method, ip) VALUES "
			    "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, acc->lg_code);
	db_bind_int64(st, 2, acc->id);
	db_bind_blob(st, 3, h, sizeof h);
	db_bind_text(st, 4, csrf);
	db_bind_int64(st, 5, now);
	db_bind_int64(st, 6, now);
	db_bind_int64(st, 7, now + (int64_t)app->cfg->session_absolute * 1000);
	db_bind_text(st, 8, method);
	db_bind_text(st, 9, r->client_ip);
	rc = db_step(st);
	db_done(st);
	if (rc < 0)
		return rc;
	*token_out = token;
	*csrf_out = csrf;
	return 0;
}

static void session_delete(struct req *r, const char *token)
{
	unsigned char h[32];
	tok_hash(r->app, token, h);
	struct db_stmt *st;
	if (db_prepare(app_db(r), "DELETE FROM sessions WHERE token_hash = ?", &st) == 0) {
		db_bind_blob(st, 1, h, sizeof h);
		db_step(st);
		db_done(st);
	}
}

int session_start(struct req *r, struct res *s, const struct account *acc, const char *method)
{
	/* rotation: whatever session the browser had ends here */
	const char *old = req_cookie(r, SESSION_COOKIE);
	if (old && *old)
		session_delete(r, old);
	const char *token, *csrf;
	int rc = session_insert(r, acc, method, &token, &csrf);
	if (rc < 0)
		return rc;
	res_cookie(r, s, SESSION_COOKIE, token, -1);
	r->who.csrf = csrf;
	return 0;
}

int session_rotate(struct req *r, struct res *s)
{
	struct principal *w = &r->who;
	if (!w->session_id)
		return -ENOENT;
	/* the new session keeps the way the old one was started */
	char method[16] = "password";
	struct db_stmt *st;
	int rc = db_prepare(app_db(r), "SELECT method FROM sessions WHERE id = ? AND lg_code = ?",
			    &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, w->session_id);
	db_bind_text(st, 2, w->lg_code);
	rc = db_step(st);
	if (rc == DB_ROW && db_col_text(st, 0))
		snprintf(method, sizeof method, "%s", db_col_text(st, 0));
	db_done(st);
	if (rc < 0)
		return rc;
	if (rc != DB_ROW)
		return -ENOENT;
	struct account acc = {.id = w->account_id};
	snprintf(acc.lg_code, sizeof acc.lg_code, "%s", w->lg_code);
	return session_start(r, s, &acc, method);
}

void session_end(struct req *r, struct res *s)
{
	const char *old = req_cookie(r, SESSION_COOKIE);
	if (old && *old)
		session_delete(r, old);
	res_cookie(r, s, SESSION_COOKIE, "", 0);
}

int api_token_create(struct app *app, struct db_conn *c, struct arena *a, const char *lg_code,
		     int64_t account_id, const char *label, const char **token_out)
{
	char *token = platform_token_new(a);
	/* a recognisable prefix helps secret scanners find leaked tokens */
	char *full = arena_printf(a, "mdg_%s", token);
	unsigned char h[32];
	tok_hash(app, full, h);
	struct db_stmt *st;
	int rc = db_prepare(c,
			    "INSERT INTO api_tokens (lg_code, account_id, token_hash, label, "
			    "created_ms) VALUES (?, ?, ?, ?, ?)",
			    &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, lg_code);
	db_bind_int64(st, 2, account_id);
	db_bind_blob(st, 3, h, sizeof h);
	db_bind_text(st, 4, label);
	db_bind_int64(st, 5, platform_now_ms());
	rc = db_step(st);
	db_done(st);
	if (rc < 0)
		return rc;
	*token_out = full;
	return 0;
}

/* What both credentials resolve to: the account, its municipality's name and
 * its roles, one row per role, in one query (the first columns differ). */
#define PRINCIPAL_COLS                                                                             \
	"a.id, a.lg_code, a.login, a.display, a.kind, a.disabled, m.name, ar.role, "               \
	"a.must_change_password"
#define PRINCIPAL_JOINS                                                                            \
	" JOIN accounts a ON a.id = x.account_id AND a.lg_code = x.lg_code"                        \
	" JOIN municipalities m ON m.lg_code = a.lg_code"                                          \
	" LEFT JOIN account_roles ar ON ar.account_id = a.id"

/* Reads the rows of a PRINCIPAL_COLS query whose columns start at first into
 * r->who (permissions from the role table). Returns 0, -ENOENT (no row),
 * -EACCES (account disabled) or a DB error; leaves st stepped to the end. */
static int read_principal(struct req *r, struct db_stmt *st, int first, int rc)
{
	struct principal *w = &r->who;
	const char *roles[32];
	int nroles = 0;
	bool found = false, disabled = false;
	for (; rc == DB_ROW; rc = db_step(st)) {
		if (!found) {
			found = true;
			w->account_id = db_col_int64(st, first);
			snprintf(w->lg_code, sizeof w->lg_code, "%s", db_col_text(st, first + 1));
			w->login = arena_strdup(r->arena, db_col_text(st, first + 2));
			w->display = arena_strdup(r->arena, db_col_text(st, first + 3));
			const char *kind = db_col_text(st, first + 4);
			w->kind = strcmp(kind, "resident") == 0 ? PRINCIPAL_RESIDENT :
				  strcmp(kind, "staff") == 0    ? PRINCIPAL_STAFF :
								  PRINCIPAL_SYSTEM;
			disabled = db_col_int64(st, first + 5) != 0;
			w->muni_name = arena_strdup(r->arena, db_col_text(st, first + 6));
			/* read with the principal: the gate in dispatch.c costs no query */
			w->must_change_password = db_col_int64(st, first + 8) != 0;
		}
		if (!db_col_is_null(st, first + 7) && nroles < 31)
			roles[nroles++] = arena_strdup(r->arena, db_col_text(st, first + 7));
	}
	if (rc < 0 || !found || disabled) {
		memset(w, 0, sizeof(*w));
		return rc < 0 ? rc : found ? -EACCES : -ENOENT;
	}
	w->roles = arena_alloc(r->arena, sizeof(char *) * (size_t)(nroles + 1));
	memcpy(w->roles, roles, sizeof(char *) * (size_t)nroles);
	w->roles[nroles] = NULL;

	const char *perms[64];
	int n = 0;
	for (int i = 0; i < nroles; i++) {
		const struct role_def *rd = role_find(roles[i]);
		for (const char *const *p = rd ? rd->perms : NULL; p && *p && n < 63; p++) {
			bool dup = false;
			for (int k = 0; k < n; k++)
				dup |= strcmp(perms[k], *p) == 0;
			if (!dup)
				perms[n++] = *p;
		}
	}
	w->perms = arena_alloc(r->arena, sizeof(char *) * (size_t)(n + 1));
	memcpy(w->perms, perms, sizeof(char *) * (size_t)n);
	w->perms[n] = NULL;
	return 0;
}

static int auth_result(int rc)
{
	if (rc == 0)
		return PLATFORM_AUTH_OK;
	return rc == -ENOENT || rc == -EACCES ? PLATFORM_AUTH_NONE : PLATFORM_AUTH_UNAVAILABLE;
}

static int auth_bearer(struct req *r, const char *token)
{
	unsigned char h[32];
	tok_hash(r->app, token, h);
	struct db_stmt *st;
	int rc = db_prepare(app_db(r),
			    "SELECT " PRINCIPAL_COLS " FROM api_tokens x" PRINCIPAL_JOINS
			    " WHERE x.token_hash = ? AND x.revoked = 0",
			    &st);
	if (rc < 0)
		return PLATFORM_AUTH_UNAVAILABLE;
	db_bind_blob(st, 1, h, sizeof h);
	rc = read_principal(r, st, 0, db_step(st));
	db_done(st);
	return auth_result(rc);
}

static int auth_session(struct req *r, const char *token)
{
	struct app *app = r->app;
	unsigned char h[32];
	tok_hash(app, token, h);
	struct db_stmt *st;
	int rc = db_prepare(
		app_db(r),
		"SELECT x.id, x.csrf, x.last_seen_ms, x.expires_ms, x.method, " PRINCIPAL_COLS
		" FROM sessions x" PRINCIPAL_JOINS " WHERE x.token_hash = ?",
		&st);
	if (rc < 0)
		return PLATFORM_AUTH_UNAVAILABLE;
	db_bind_blob(st, 1, h, sizeof h);
	rc = db_step(st);
	int64_t sid = 0, last_seen = 0, expires = 0;
	const char *csrf = NULL;
	bool by_card = false;
	if (rc == DB_ROW) {
		sid = db_col_int64(st, 0);
		csrf = arena_strdup(r->arena, db_col_text(st, 1));
		last_seen = db_col_int64(st, 2);
		expires = db_col_int64(st, 3);
		by_card = !db_col_is_null(st, 4) && strcmp(db_col_text(st, 4), "certificate") == 0;
	}
	rc = read_principal(r, st, 5, rc);
	db_done(st);
	if (rc != 0)
		return auth_result(rc);
	/* a session begun with a log-in certificate proved the person: a
	 * temporary password does not hold it back (see app.md) */
	if (by_card)
		r->who.must_change_password = false;

	int64_t now = platform_now_ms();
	if (now > expires || now - last_seen > (int64_t)app->cfg->session_idle * 1000) {
		memset(&r->who, 0, sizeof r->who);
		session_delete(r, token);
		return PLATFORM_AUTH_NONE;
	}
	r->who.session_id = sid;
	r->who.csrf = csrf;
	/* slide the idle window, at most once a minute to spare the disk */
	if (now - last_seen > 60000 &&
	    db_prepare(app_db(r), "UPDATE sessions SET last_seen_ms = ? WHERE id = ?", &st) == 0) {
		db_bind_int64(st, 1, now);
		db_bind_int64(st, 2, sid);
		db_step(st);
		db_done(st);
	}
	return PLATFORM_AUTH_OK;
}

int platform_authenticate(struct req *r, bool *bearer)
{
	*bearer = false;
	const char *authz = req_header(r, "Authorization");
	if (authz && strncmp(authz, "Bearer ", 7) == 0) {
		*bearer = true;
		const char *tok = authz + 7;
		if (strlen(tok) < 20 || strlen(tok) > 200)
			return PLATFORM_AUTH_NONE;
		return auth_bearer(r, tok);
	}
	const char *cookie = req_cookie(r, SESSION_COOKIE);
	if (cookie && *cookie && strlen(cookie) < 200)
		return auth_session(r, cookie);
	return PLATFORM_AUTH_NONE;
}

const char *platform_pre_csrf(struct req *r, struct res *s)
{
	const char *have = req_cookie(r, PRE_SESSION_COOKIE);
	if (have && strlen(have) == 43)
		return have;
	const char *t = platform_token_new(r->arena);
	res_cookie(r, s, PRE_SESSION_COOKIE, t, -1);
	return t;
}

const char *platform_actor_org(struct req *r)
{
	const struct principal *w = &r->who;
	if (w->kind == PRINCIPAL_RESIDENT)
		return "本人";
	if (w->kind != PRINCIPAL_STAFF && w->kind != PRINCIPAL_SYSTEM)
		return NULL;
	const char *muni = w->muni_name;
	if (!muni)
		tenant_get(app_db(r), r->arena, w->lg_code, NULL, &muni);
	const char *dept = "";
	for (const char **p = w->roles; p && *p; p++) {
		const struct role_def *rd = role_find(*p);
		if (rd && strcmp(rd->kind, "staff") == 0) {
			dept = rd->label;
			break;
		}
	}
	return arena_printf(r->arena, "%s %s", muni ? muni : "", dept);
}

int platform_audit(struct req *r, const char *action, const char *subject, const char *purpose,
		   const char *outcome, const char *detail)
{
	struct principal *w = &r->who;
	const char *org = platform_actor_org(r);
	char actor_id[24];
	snprintf(actor_id, sizeof actor_id, "%lld", (long long)w->account_id);
	struct audit_entry e = {
		.lg_code = w->lg_code[0] ? w->lg_code : "000000",
		.actor_kind = w->kind == PRINCIPAL_RESIDENT ? "resident" :
			      w->kind == PRINCIPAL_STAFF    ? "staff" :
			      w->kind == PRINCIPAL_SYSTEM   ? "system" :
							      "anonymous",
		.actor_id = actor_id,
		.actor_name = w->display ? w->display : "",
		.actor_org = org ? org : "",
		.action = action,
		.subject = subject,
		.purpose = purpose,
		.request_id = r->request_id,
		.outcome = outcome,
		.detail = detail,
	};
	int rc = audit_append(r->app->audit, &e);
	if (rc < 0)
		log_error("audit append failed for %s (request %s): %d", action, r->request_id, rc);
	return rc;
}
