/* The platform's identity core: municipalities (tenants), accounts and
 * roles, password and TOTP log-in with lock-out, sessions, API tokens and
 * certificate log-in. Every function takes the tenant's lg_code and never
 * touches another tenant's rows. */
#ifndef MADO_PLATFORM_H
#define MADO_PLATFORM_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"

extern const struct db_migration platform_migrations[];

#define SESSION_COOKIE "mado_session"
#define PRE_SESSION_COOKIE "mado_pre" /* CSRF token before log-in (double submit) */

int64_t platform_now_ms(void);
/* Constant-time comparison of two NUL-terminated tokens. */
bool platform_token_equal(const char *a, const char *b);
/* A fresh random token: 32 bytes, base64url without padding, from arena a. */
char *platform_token_new(struct arena *a);

/* ---- municipalities ---- */
/* Adds a municipality: lg_code must be valid (check digit) and name is
 * looked up in the ABR municipality list unless pref/name are given.
 * Returns 0, -EEXIST (already there: not an error for idempotent init),
 * -EINVAL (bad code) or a DB error. */
int tenant_add(struct db_conn *c, const char *lg_code, const char *pref, const char *name);
/* 0 and the names (arena-owned), or -ENOENT. */
int tenant_get(struct db_conn *c, struct arena *a, const char *lg_code, const char **pref,
	       const char **name);
/* [{lg_code, pref, name}, …] ordered by lg_code. */
json_t *tenant_list(struct db_conn *c);

/* ---- accounts ---- */
struct account {
	int64_t id;
	char lg_code[7];
	const char *login, *display, *kind; /* arena-owned */
	const char **roles;                 /* NULL-terminated, arena-owned */
	bool totp_enabled;
	bool disabled;
	int failed_logins;
	int64_t locked_until_ms;
	int64_t created_ms;
	bool must_change_password; /* set by an administrator, not yet changed */
};

/* Creates an account with a password (may be NULL: no password log-in) and
 * roles (NULL-terminated; each must exist and fit the kind). temporary marks
 * the password as set by an administrator (must_change_password): the person
 * must change it before using anything else; true for the admin API and page,
 * false for the operator's CLI. On a validation failure returns -EINVAL and a
 * Japanese message for field *field in msg. */
int account_create(struct db_conn *c, const char *lg_code, const char *login, const char *display,
		   const char *kind, const char *password, bool temporary, const char *const *roles,
		   int64_t *id_out, const char **field, char *msg, size_t msglen);
int account_get(struct db_conn *c, struct arena *a, const char *lg_code, int64_t id,
		struct account *out);
int account_find(struct db_conn *c, struct arena *a, const char *lg_code, const char *login,
		 struct account *out);
/* Replaces the roles of account id. Refused with -EPERM and msg when id is
 * actor_id (nobody changes their own roles), with -EINVAL and msg for a role
 * that does not exist, does not fit the account's kind, or would join
 * account administration and the resident record on one account; -ENOENT
 * when the account is not of lg_code. */
/* The audit entry of a role change attempt on account id, from the result
 * of account_set_roles: ok, refused (own roles, or roles refused), not_found. */
void account_roles_audit(struct req *r, int64_t id, int rc);
int account_set_roles(struct db_conn *c, const char *lg_code, int64_t actor_id, int64_t id,
		      const char *const *roles, char *msg, size_t msglen);
/* {id, login, display, kind, lg_code, roles[], totp_enabled, disabled,
 * locked (true while locked_until_ms is in the future), locked_until_ms,
 * failed_logins, created_ms, must_change_password} */
json_t *account_json(const struct account *acc);
/* [account_json…] of one municipality. */
json_t *account_list(struct db_conn *c, struct arena *a, const char *lg_code);

/* ---- help at the counter: an administrator acting on another account ---- */
enum account_action {
	ACCOUNT_UNLOCK,         /* failed_logins and locked_until_ms back to 0 */
	ACCOUNT_TOTP_RESET,     /* TOTP off, pending or active secret dropped */
	ACCOUNT_PASSWORD_RESET, /* new, temporary password; unlocks; sessions and API tokens revoked */
	ACCOUNT_DISABLE,        /* no log-in; sessions and API tokens revoked */
	ACCOUNT_ENABLE,
	ACCOUNT_CERT_REVOKE, /* registration deleted; certificate sessions ended */
	ACCOUNT_ACTION_COUNT
};
/* The audit action ("account.unlock", …), a short key for URLs ("unlock",
 * "totp-reset", "password", "disable", "enable", "cert-revoke") and the
 * Japanese result sentence (「ロックを解除しました。」) of an action. */
const char *account_action_name(enum account_action what);
const char *account_action_key(enum account_action what);
const char *account_action_done_ja(enum account_action what);
/* Carries out what on account id of r's municipality for r's signed-in
 * administrator and audits it (subject account:<id>, outcome ok or refused).
 * password is the new one for ACCOUNT_PASSWORD_RESET (same policy as
 * account_create), cert_id the certificate for ACCOUNT_CERT_REVOKE; both
 * ignored otherwise. Returns 0, -ENOENT (no such account, or certificate of
 * it, in r's municipality), -EPERM (id is r's own account: nobody uses these
 * on themselves; audited as refused), -EINVAL (password refused by the
 * policy) or -EIO (database or audit log). msg gets a Japanese sentence for
 * -EPERM and -EINVAL. */
int account_admin_act(struct req *r, enum account_action what, int64_t id, const char *password,
		      int64_t cert_id, char *msg, size_t msglen);
/* ---- the signed-in person changing their own password ---- */
/* Changes the password of r's signed-in account (a session, not an API
 * token): current must verify against the stored hash, new_pw must pass the
 * policy of account_create and differ from current. A wrong current password
 * counts toward the lock-out exactly as a failed log-in does
 * (login_attempt_reserve, taken before verifying) and against the client
 * address (throttle.h), and a locked account is refused before anything is
 * verified, so a stolen session cannot be used to guess the password. On
 * success the hash is replaced, every other session of the account is ended
 * and every API token revoked (the caller rotates its own session with
 * session_rotate), the failure count goes back to 0, an administrator's
 * temporary password stops being temporary, and the change is
 * audited as account.password_change (subject account:<id>; a wrong current
 * password as outcome denied). Neither password is logged or kept.
 * Returns 0; -EINVAL with *errors (new, owned by the caller) holding a
 * Japanese message per field ("current_password", "new_password"); -EAGAIN
 * while the account is locked, *retry_after seconds; -EPERM when r is signed
 * in with an API token, -ENOENT when the account has no password (msg says
 * why); -ESTALE when the password was changed meanwhile (by an administrator);
 * -EIO (database or audit log). */
int account_password_change(struct req *r, const char *current, const char *new_pw, json_t **errors,
			    int64_t *retry_after, char *msg, size_t msglen);
/* The Japanese sentence shown after a successful change. */
const char *account_password_changed_ja(void);
/* 「管理者が設定した仮のパスワードです。…」: why everything else is refused. */
const char *account_temporary_password_ja(void);
/* True when r's signed-in account has a password (may use the form). */
bool account_has_password(struct req *r);

/* The log-in certificates registered for account id of lg_code, oldest first:
 * [{id, subject, issuer, serial, fingerprint, not_after_ms, created_ms}]. */
json_t *account_certificates(struct db_conn *c, const char *lg_code, int64_t id);
/* True when account id of lg_code has a TOTP secret begun but not confirmed. */
bool account_totp_is_pending(struct db_conn *c, const char *lg_code, int64_t id);

/* ---- log-in ---- */
/* ip: the client address, for the per-address limit (throttle.h). */
enum login_result {
	LOGIN_OK = 0,
	LOGIN_BAD = -1,           /* unknown login or wrong password: one answer for both */
	LOGIN_LOCKED = -2,        /* *retry_after seconds */
	LOGIN_TOTP_REQUIRED = -3, /* password right, second factor missing */
	LOGIN_TOTP_BAD = -4,
	LOGIN_DISABLED = -5,
	LOGIN_ERROR = -6, /* database unavailable */
};
int login_password(struct app *app, struct db_conn *c, struct arena *a, const char *lg_code,
		   const char *login, const char *password, const char *totp, const char *ip,
		   struct account *out, int64_t *retry_after);
const char *login_message_ja(enum login_result r);
/* Reserves one password (or TOTP) attempt on acc before it is verified: counts
 * it as a failure at once and, when that makes --login-max-failures, locks the
 * account for --login-lockout seconds, in one UPDATE that matches only an
 * unlocked account, so parallel attempts cannot exceed the limit. Returns 0
 * (reserved; *lock_set is the lock this reservation set, or 0), 1 when the
 * account is locked (*retry_after seconds; nothing may be verified), -ENOENT
 * when the account is gone, or a DB error. */
int login_attempt_reserve(struct app *app, struct db_conn *c, const struct account *acc,
			  int64_t *lock_set, int64_t *retry_after);
/* Gives back a reservation whose password turned out right without a full
 * log-in (second factor still to come, disabled account, /me/password): one
 * failure less, and the lock goes when this reservation set it or the count
 * is below the limit again. Returns 0 or a DB error. */
int login_attempt_release(struct app *app, struct db_conn *c, const struct account *acc,
			  int64_t lock_set);

/* Decrypts a stored TOTP secret (XChaCha20-Poly1305 under a key derived
 * from the master key, nonce first). Returns its length or < 0. */
int platform_totp_secret(struct app *app, const unsigned char *blob, size_t n, unsigned char *out,
			 size_t outmax);

/* ---- enrolling a second factor or a log-in certificate (certlogin.c) ----
 * For the signed-in account of r, shared by the JSON API and the pages. Each
 * write is audited (subject account:<id>); -EIO means the database or the
 * audit log failed. */
struct buf;
struct cert_info;
/* Makes a new TOTP secret and stores it encrypted and not yet enabled,
 * replacing a pending one. When b32 is not NULL it receives the secret in
 * base32 (64 bytes suffice; the caller wipes it with sodium_memzero), when
 * uri is not NULL the otpauth URI is appended to it. Returns 0, -EALREADY
 * when TOTP is already on (it is turned off at the counter only) or -EIO. */
int account_totp_begin(struct req *r, char *b32, size_t b32sz, struct buf *uri);
/* The same two forms of the pending (stored, not yet enabled) secret.
 * Returns 0, -ENOENT when none is pending (TOTP off and not begun, or on)
 * or -EIO. */
int account_totp_pending(struct req *r, char *b32, size_t b32sz, struct buf *uri);
/* Checks code (may be NULL) against the pending secret and turns TOTP on.
 * Returns 0, -ENOENT (nothing pending), a TOTP_E* code (wrong or malformed
 * code) or -EIO. */
int account_totp_confirm(struct req *r, const char *code);
/* Registers a log-in certificate (PEM or DER text, may be NULL) after
 * cert_verify(): trusted CA, validity, CRL, key type. On success *info
 * describes it. Returns 0, -EINVAL (missing or over CERT_INPUT_MAX), a
 * CERT_E* code, -EEXIST (already registered) or -EIO. */
int account_cert_register(struct req *r, const char *pem, struct cert_info *info);
/* Japanese sentence for a resident about an account_cert_register result. */
const char *account_cert_message_ja(int rc);

/* ---- sessions and tokens ---- */
/* Starts a session (rotating: the caller's old session, if any, is ended).
 * *token_out is the cookie value, *csrf_out the session's CSRF token. */
int session_start(struct req *r, struct res *s, const struct account *acc, const char *method);
/* Gives the request's session a new id (and CSRF token) with the same
 * account and log-in method, as a log-in does, and sets the cookie; the old
 * id stops working. Returns 0, -ENOENT (not a session) or a DB error. */
int session_rotate(struct req *r, struct res *s);
/* Ends the request's session and clears the cookie. */
void session_end(struct req *r, struct res *s);
/* Issues an API token for an account; *token_out is shown once. */
int api_token_create(struct app *app, struct db_conn *c, struct arena *a, const char *lg_code,
		     int64_t account_id, const char *label, const char **token_out);

enum { PLATFORM_AUTH_NONE = 0, PLATFORM_AUTH_OK = 1, PLATFORM_AUTH_UNAVAILABLE = -1 };
/* Sets r->who from the Authorization bearer token or the session cookie
 * (sliding the idle expiry); *bearer tells which. */
int platform_authenticate(struct req *r, bool *bearer);
/* The pre-session CSRF token for anonymous forms, setting its cookie if new. */
const char *platform_pre_csrf(struct req *r, struct res *s);

/* The organisation an audit entry names for r's principal: "<municipality>
 * <department of the first staff role>" for staff and system, "本人" for a
 * resident, NULL for nobody (arena-owned). */
const char *platform_actor_org(struct req *r);

/* Audit helper: appends an entry with actor, tenant and request id taken from
 * the request. subject may be NULL. Returns 0 or < 0 (the caller must not
 * reveal the data when this fails). */
int platform_audit(struct req *r, const char *action, const char *subject, const char *purpose,
		   const char *outcome, const char *detail);

#endif
