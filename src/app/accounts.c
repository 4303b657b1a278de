/* Municipalities and accounts (see platform.h): creation with validation,
 * look-up always scoped to one lg_code, role assignment, the help an
 * administrator gives at the counter (unlock, second factor, password,
 * disable, certificate revocation) and the person's own password change. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <time.h>

#include "app/dispatch.h"
#include "app/platform.h"
#include "app/roles.h"
#include "app/throttle.h"
#include "auth/password.h"
#include "common/log.h"
#include "common/lgcode.h"
#include "common/utf8.h"

int64_t platform_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tenant_add(struct db_conn *c, const char *lg_code, const char *pref, const char *name)
{
	if (!lg_code || !lgcode_valid(lg_code) || !pref || !name || !*name)
		return -EINVAL;
	struct db_stmt *st;
	int rc = db_prepare(c,
			    "INSERT INTO municipalities (lg_code, pref, name, created_ms) "
			    "VALUES (?, ?, ?, ?) ON CONFLICT (lg_code) DO NOTHING",
			    &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, lg_code);
	db_bind_text(st, 2, pref);
	db_bind_text(st, 3, name);
	db_bind_int64(st, 4, platform_now_ms());
	rc = db_step(st);
	int64_t n = db_changes(st);
	db_done(st);
	if (rc < 0)
		return rc;
	return n == 0 ? -EEXIST : 0;
}

int tenant_get(struct db_conn *c, struct arena *a, const char *lg_code, const char **pref,
	       const char **name)
{
	struct db_stmt *st;
	int rc = db_prepare(c, "SELECT pref, name FROM municipalities WHERE lg_code = ?", &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, lg_code);
	rc = db_step(st);
	if (rc == DB_ROW) {
		if (pref)
			*pref = arena_strdup(a, db_col_text(st, 0));
		if (name)
			*name = arena_strdup(a, db_col_text(st, 1));
		rc = 0;
	} else if (rc == DB_DONE) {
		rc = -ENOENT;
	}
	db_done(st);
	return rc;
}

json_t *tenant_list(struct db_conn *c)
{
	json_t *arr = json_array();
	struct db_stmt *st;
	if (db_prepare(c, "SELECT lg_code, pref, name FROM municipalities ORDER BY lg_code", &st) <
	    0)
		return arr;
	while (db_step(st) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "lg_code",
						     db_col_text(st, 0), "pref", db_col_text(st, 1),
						     "name", db_col_text(st, 2)));
	db_done(st);
	return arr;
}

/* Logins: 3–64 of [a-z0-9._-], starting with a letter or digit. */
static bool login_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')))
			return false;
	}
	return true;
}

static int check_roles(const char *kind, const char *const *roles, char *msg, size_t msglen)
{
	for (const char *const *p = roles; p && *p; p++) {
		const struct role_def *rd = role_find(*p);
		if (!rd) {
			snprintf(msg, msglen, "役割「%.64s」はありません。", *p);
			return -EINVAL;
		}
		if (strcmp(rd->kind, kind) != 0) {
			snprintf(msg, msglen,
				 "役割「%s」はこの種別のアカウントには付けられません。", rd->label);
			return -EINVAL;
		}
	}
	/* Separation of duties: whoever administers accounts does not also read
	 * the resident record with the same account. */
	if (roles_grant(roles, "users.admin") && roles_grant(roles, "resident.read")) {
		snprintf(
			msg, msglen,
			"システム管理者の役割と住民記録を扱う役割は、同じアカウントに付けられません"
			"（職務の分離）。");
		return -EINVAL;
	}
	return 0;
}

static int insert_roles(struct db_conn *c, const char *lg_code, int64_t id,
			const char *const *roles)
{
	for (const char *const *p = roles; p && *p; p++) {
		struct db_stmt *st;
		int rc = db_prepare(c,
				    "INSERT INTO account_roles (account_id, lg_code, role) VALUES "
				    "(?, ?, ?) ON CONFLICT DO NOTHING",
				    &st);
		if (rc < 0)
			return rc;
		db_bind_int64(st, 1, id);
		db_bind_text(st, 2, lg_code);
		db_bind_text(st, 3, *p);
		rc = db_step(st);
		db_done(st);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The policy every new password passes, wherever it is set (account
 * creation, a reset at the counter, a change by the person): -EINVAL with
 * the Japanese sentence for the field in msg, or 0. */
static int new_password_ok(const char *pw, char *msg, size_t msglen)
{
	const char *why = NULL;
	if (!pw) {
		snprintf(msg, msglen, "新しいパスワードを入力してください。");
		return -EINVAL;
	}
	if (password_policy_check(pw, strlen(pw), &why) != 0) {
		snprintf(msg, msglen, "%s", why ? why : "パスワードを確認してください。");
		return -EINVAL;
	}
	return 0;
}

int account_create(struct db_conn *c, const char *lg_code, const char *login, const char *display,
		   const char *kind, const char *password, bool temporary, const char *const *roles,
		   int64_t *id_out, const char **field, char *msg, size_t msglen)
{
	char hash[PASSWORD_HASH_SIZE];
	int rc = -EINVAL;
	*field = NULL;
	msg[0] = '\0';
	if (!login || !login_ok(login)) {
		*field = "login";
		snprintf(msg, msglen,
			 "ログインIDは半角英小文字・数字と . _ - で 3〜64 文字にしてください。");
		return -EINVAL;
	}
	if (!display || !*display || strlen(display) > 200 ||
	    !utf8_clean(display, strlen(display))) {
		*field = "display";
		snprintf(msg, msglen, "氏名（表示名）を 200 バイト以内で入力してください。");
		return -EINVAL;
	}
	if (!kind ||
	    (strcmp(kind, "resident") && strcmp(kind, "staff") && strcmp(kind, "system"))) {
		*field = "kind";
		snprintf(msg, msglen, "アカウントの種別を選んでください。");
		return -EINVAL;
	}
	if (check_roles(kind, roles, msg, msglen) != 0) {
		*field = "roles";
		return -EINVAL;
	}
	if (password) {
		if (new_password_ok(password, msg, msglen) != 0) {
			*field = "password";
			return -EINVAL;
		}
		if (password_hash(password, strlen(password), NULL, hash) != 0)
			return -ENOMEM;
	}

	if ((rc = db_begin_write(c)) < 0)
		return rc;
	struct db_stmt *st;
	rc = db_prepare(
		c,
		"INSERT INTO accounts (lg_code, login, display, kind, password_hash, "
		"created_ms, must_change_password) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
		&st);
	if (rc < 0)
		goto fail;
	db_bind_text(st, 1, lg_code);
	db_bind_text(st, 2, login);
	db_bind_text(st, 3, display);
	db_bind_text(st, 4, kind);
	db_bind_text(st, 5, password ? hash : NULL);
	db_bind_int64(st, 6, platform_now_ms());
	/* only a password can be temporary */
	db_bind_int64(st, 7, password && temporary ? 1 : 0);
	rc = db_step(st);
	int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_done(st);
	if (rc == DB_ECONSTRAINT) {
		*field = "login";
		snprintf(msg, msglen, "このログインIDはすでに使われています。");
		rc = -EEXIST;
		goto fail;
	}
	if (rc != DB_ROW) {
		rc = rc < 0 ? rc : DB_EFAIL;
		goto fail;
	}
	if ((rc = insert_roles(c, lg_code, id, roles)) < 0)
		goto fail;
	if ((rc = db_commit(c)) < 0)
		goto fail;
	if (id_out)
		*id_out = id;
	sodium_memzero(hash, sizeof hash);
	return 0;
fail:
	db_rollback(c);
	sodium_memzero(hash, sizeof hash);
	return rc;
}

static const char **load_roles(struct db_conn *c, struct arena *a, int64_t id)
{
	const char *tmp[32];
	int n = 0;
	struct db_stmt *st;
	if (db_prepare(c, "SELECT role FROM account_roles WHERE account_id = ? ORDER BY role",
		       &st) == 0) {
		db_bind_int64(st, 1, id);
		while (n < 31 && db_step(st) == DB_ROW)
			tmp[n++] = arena_strdup(a, db_col_text(st, 0));
		db_done(st);
	}
	const char **out = arena_alloc(a, sizeof(char *) * (size_t)(n + 1));
	memcpy(out, tmp, sizeof(char *) * (size_t)n);
	out[n] = NULL;
	return out;
}

#define ACCOUNT_COLS                                                                               \
	"SELECT id, lg_code, login, display, kind, totp_enabled, disabled, failed_logins, "        \
	"locked_until_ms, created_ms, must_change_password FROM accounts "

static int read_account(struct db_conn *c, struct db_stmt *st, struct arena *a, struct account *out)
{
	int rc = db_step(st);
	if (rc == DB_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = db_col_int64(st, 0);
		snprintf(out->lg_code, sizeof out->lg_code, "%s", db_col_text(st, 1));
		out->login = arena_strdup(a, db_col_text(st, 2));
		out->display = arena_strdup(a, db_col_text(st, 3));
		out->kind = arena_strdup(a, db_col_text(st, 4));
		out->totp_enabled = db_col_int64(st, 5) != 0;
		out->disabled = db_col_int64(st, 6) != 0;
		out->failed_logins = (int)db_col_int64(st, 7);
		out->locked_until_ms = db_col_int64(st, 8);
		out->created_ms = db_col_int64(st, 9);
		out->must_change_password = db_col_int64(st, 10) != 0;
		rc = 0;
	} else if (rc == DB_DONE) {
		rc = -ENOENT;
	}
	db_done(st);
	if (rc == 0)
		out->roles = load_roles(c, a, out->id);
	return rc;
}

int account_get(struct db_conn *c, struct arena *a, const char *lg_code, int64_t id,
		struct account *out)
{
	struct db_stmt *st;
	int rc = db_prepare(c, ACCOUNT_COLS "WHERE lg_code = ? AND id = ?", &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, lg_code);
	db_bind_int64(st, 2, id);
	return read_account(c, st, a, out);
}

int account_find(struct db_conn *c, struct arena *a, const char *lg_code, const char *login,
		 struct account *out)
{
	struct db_stmt *st;
	int rc = db_prepare(c, ACCOUNT_COLS "WHERE lg_code = ? AND login = ?", &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, lg_code);
	db_bind_text(st, 2, login);
	return read_account(c, st, a, out);
}

void account_roles_audit(struct req *r, int64_t id, int rc)
{
	char subj[32];
	snprintf(subj, sizeof subj, "account:%lld", (long long)id);
	const char *outcome = rc == 0 ? "ok" : rc == -ENOENT ? "not_found" : "refused";
	const char *detail = rc == -EPERM ? "own roles" : rc == -EINVAL ? "roles refused" : NULL;
	platform_audit(r, "account.roles", subj, "役割の変更", outcome, detail);
}

int account_set_roles(struct db_conn *c, const char *lg_code, int64_t actor_id, int64_t id,
		      const char *const *roles, char *msg, size_t msglen)
{
	struct arena *a = arena_new();
	struct account acc;
	int rc = account_get(c, a, lg_code, id, &acc);
	if (rc < 0)
		goto out;
	if (id == actor_id) {
		snprintf(msg, msglen,
			 "自分自身の役割は変更できません。ほかの管理者に依頼してください。");
		rc = -EPERM;
		goto out;
	}
	if ((rc = check_roles(acc.kind, roles, msg, msglen)) < 0)
		goto out;
	if ((rc = db_begin_write(c)) < 0)
		goto out;
	struct db_stmt *st;
	rc = db_prepare(c, "DELETE FROM account_roles WHERE account_id = ? AND lg_code = ?", &st);
	if (rc == 0) {
		db_bind_int64(st, 1, id);
		db_bind_text(st, 2, lg_code);
		rc = db_step(st);
		db_done(st);
	}
	if (rc >= 0)
		rc = insert_roles(c, lg_code, id, roles);
	if (rc >= 0)
		rc = db_commit(c);
	if (rc < 0)
		db_rollback(c);
	else
		rc = 0;
out:
	arena_free(a);
	return rc;
}

json_t *account_json(const struct account *acc)
{
	json_t *roles = json_array();
	for (const char **p = acc->roles; p && *p; p++)
		json_array_append_new(roles, json_string(*p));
	bool locked = acc->locked_until_ms > platform_now_ms();
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:b, s:I, s:i, s:I, s:b}", "id",
			 (json_int_t)acc->id, "login", acc->login, "display", acc->display, "kind",
			 acc->kind, "lg_code", acc->lg_code, "roles", roles, "totp_enabled",
			 acc->totp_enabled, "disabled", acc->disabled, "locked", locked,
			 "locked_until_ms", (json_int_t)(locked ? acc->locked_until_ms : 0),
			 "failed_logins", acc->failed_logins, "created_ms",
			 (json_int_t)acc->created_ms, "must_change_password",
			 acc->must_change_password);
}

json_t *account_list(struct db_conn *c, struct arena *a, const char *lg_code)
{
	json_t *arr = json_array();
	int64_t ids[1000];
	int n = 0;
	struct db_stmt *st;
	if (db_prepare(c, "SELECT id FROM accounts WHERE lg_code = ? ORDER BY id LIMIT 1000", &st) <
	    0)
		return arr;
	db_bind_text(st, 1, lg_code);
	while (n < 1000 && db_step(st) == DB_ROW)
		ids[n++] = db_col_int64(st, 0);
	db_done(st);
	for (int i = 0; i < n; i++) {
		struct account acc;
		if (account_get(c, a, lg_code, ids[i], &acc) == 0)
			json_array_append_new(arr, account_json(&acc));
	}
	return arr;
}

/* ---- help at the counter ---- */

static const struct {
	const char *name, *key, *purpose, *done;
} action_tab[ACCOUNT_ACTION_COUNT] = {
	[ACCOUNT_UNLOCK] = {"account.unlock", "unlock", "窓口での支援（ログインのロックの解除）",
			    "ロックを解除しました。"},
	[ACCOUNT_TOTP_RESET] =
		{"account.totp_reset", "totp-reset", "窓口での支援（確認コードの再設定）",
		 "確認コード（2段階認証）の設定を解除しました。次回はパスワードだけで"
		 "ログインできます。本人に、もう一度設定してもらってください。"},
	[ACCOUNT_PASSWORD_RESET] = {"account.password_reset", "password",
				    "窓口での支援（パスワードの再設定）",
				    "パスワードを再設定しました。ログイン中の画面と API "
				    "トークンはすべて無効にしました。"},
	[ACCOUNT_DISABLE] = {"account.disable", "disable", "アカウントの利用停止",
			     "アカウントの利用を停止しました。ログイン中の画面と API "
			     "トークンはすべて無効にしました。"},
	[ACCOUNT_ENABLE] = {"account.enable", "enable", "アカウントの利用再開",
			    "アカウントの利用を再開しました。"},
	[ACCOUNT_CERT_REVOKE] = {"account.cert_revoke", "cert-revoke",
				 "窓口での支援（ログイン用電子証明書の登録の取り消し）",
				 "電子証明書の登録を取り消しました。"},
};

const char *account_action_name(enum account_action what)
{
	return (unsigned)what < ACCOUNT_ACTION_COUNT ? action_tab[what].name : "account.unknown";
}

const char *account_action_key(enum account_action what)
{
	return (unsigned)what < ACCOUNT_ACTION_COUNT ? action_tab[what].key : "";
}

const char *account_action_done_ja(enum account_action what)
{
	return (unsigned)what < ACCOUNT_ACTION_COUNT ? action_tab[what].done : "";
}

/* Runs sql with parameters (?1 an id, ?2 lg_code). Returns the number of
 * rows changed or a negative DB error. */
static int64_t run_id_lg(struct db_conn *c, const char *sql, int64_t id, const char *lg_code)
{
	struct db_stmt *st;
	int rc = db_prepare(c, sql, &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, lg_code);
	rc = db_step(st);
	int64_t n = db_changes(st);
	db_done(st);
	return rc < 0 ? rc : n;
}

/* Ends every session of the account but keep_session (0: none kept) and
 * revokes every API token of it (in the caller's transaction). */
static int revoke_credentials(struct db_conn *c, const char *lg_code, int64_t id,
			      int64_t keep_session)
{
	struct db_stmt *st;
	int rc = db_prepare(
		c, "DELETE FROM sessions WHERE account_id = ? AND lg_code = ? AND id <> ?", &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, lg_code);
	db_bind_int64(st, 3, keep_session);
	rc = db_step(st);
	db_done(st);
	if (rc < 0)
		return rc;
	int64_t n = run_id_lg(c,
			      "UPDATE api_tokens SET revoked = 1 WHERE account_id = ? AND "
			      "lg_code = ? AND revoked = 0",
			      id, lg_code);
	return n < 0 ? (int)n : 0;
}

static int set_password(struct db_conn *c, const char *lg_code, int64_t id, const char *hash)
{
	struct db_stmt *st;
	/* a new password also ends the lock-out: the person is at the counter;
	 * and it is temporary: the administrator knows it, so the person must
	 * change it before anything else (dispatch.c) */
	int rc = db_prepare(c,
			    "UPDATE accounts SET password_hash = ?, failed_logins = 0, "
			    "locked_until_ms = 0, must_change_password = 1 WHERE id = ? AND "
			    "lg_code = ?",
			    &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, hash);
	db_bind_int64(st, 2, id);
	db_bind_text(st, 3, lg_code);
	rc = db_step(st);
	db_done(st);
	return rc < 0 ? rc : revoke_credentials(c, lg_code, id, 0);
}

/* Deletes certificate cert_id of account id; its fingerprint goes to fp.
 * Returns 0, 1 when the account has no such certificate, or a DB error
 * (whose codes overlap -errno values, hence the positive 1). */
static int revoke_cert(struct db_conn *c, const char *lg_code, int64_t id, int64_t cert_id,
		       char *fp, size_t fpsz)
{
	struct db_stmt *st;
	int rc = db_prepare(c,
			    "SELECT fingerprint FROM certificates WHERE id = ? AND account_id = ? "
			    "AND lg_code = ?",
			    &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, cert_id);
	db_bind_int64(st, 2, id);
	db_bind_text(st, 3, lg_code);
	rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(fp, fpsz, "%s", db_col_text(st, 0));
	db_done(st);
	if (rc < 0)
		return rc;
	if (rc != DB_ROW)
		return 1;
	rc = db_prepare(
		c, "DELETE FROM certificates WHERE id = ? AND account_id = ? AND lg_code = ?", &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, cert_id);
	db_bind_int64(st, 2, id);
	db_bind_text(st, 3, lg_code);
	rc = db_step(st);
	db_done(st);
	if (rc < 0)
		return rc;
	/* A session does not record which certificate started it: end every
	 * certificate session of the account, so a lost card's is among them. */
	int64_t n = run_id_lg(c,
			      "DELETE FROM sessions WHERE account_id = ? AND lg_code = ? AND "
			      "method = 'certificate'",
			      id, lg_code);
	return n < 0 ? (int)n : 0;
}

int account_admin_act(struct req *r, enum account_action what, int64_t id, const char *password,
		      int64_t cert_id, char *msg, size_t msglen)
{
	struct db_conn *c = app_db(r);
	const char *lg = r->who.lg_code;
	struct arena *a = arena_new();
	char hash[PASSWORD_HASH_SIZE], subj[32], fp[80] = "";
	struct account acc;
	int rc;
	bool began = false;
	hash[0] = '\0';
	msg[0] = '\0';
	if ((unsigned)what >= ACCOUNT_ACTION_COUNT) {
		rc = -EINVAL;
		goto out;
	}
	snprintf(subj, sizeof subj, "account:%lld", (long long)id);
	rc = account_get(c, a, lg, id, &acc);
	if (rc < 0) {
		rc = rc == -ENOENT ? -ENOENT : -EIO;
		/* an id of another municipality, or none: the attempt is recorded */
		if (rc == -ENOENT)
			platform_audit(r, action_tab[what].name, subj, action_tab[what].purpose,
				       "not_found", NULL);
		goto out;
	}
	if (id == r->who.account_id) {
		/* Separation of duties, as for roles: another administrator acts,
		 * after checking the person at the counter. */
		snprintf(msg, msglen,
			 "ご自身のアカウントには、この操作はできません。ほかの管理者に依頼して"
			 "ください。");
		platform_audit(r, action_tab[what].name, subj, action_tab[what].purpose, "refused",
			       "own account");
		rc = -EPERM;
		goto out;
	}
	if (what == ACCOUNT_PASSWORD_RESET) {
		if (new_password_ok(password, msg, msglen) != 0) {
			platform_audit(r, action_tab[what].name, subj, action_tab[what].purpose,
				       "refused", "password policy");
			rc = -EINVAL;
			goto out;
		}
		if (password_hash(password, strlen(password), NULL, hash) != 0) {
			rc = -EIO;
			goto out;
		}
	}
	if (db_begin_write(c) < 0) {
		rc = -EIO;
		goto out;
	}
	began = true;
	int64_t n = 0;
	switch (what) {
	case ACCOUNT_UNLOCK:
		n = run_id_lg(c,
			      "UPDATE accounts SET failed_logins = 0, locked_until_ms = 0 WHERE id "
			      "= ? AND lg_code = ?",
			      id, lg);
		break;
	case ACCOUNT_TOTP_RESET:
		n = run_id_lg(c,
			      "UPDATE accounts SET totp_enabled = 0, totp_secret = NULL, "
			      "totp_last_step = 0 WHERE id = ? AND lg_code = ?",
			      id, lg);
		break;
	case ACCOUNT_PASSWORD_RESET:
		n = set_password(c, lg, id, hash);
		break;
	case ACCOUNT_DISABLE:
		n = run_id_lg(c, "UPDATE accounts SET disabled = 1 WHERE id = ? AND lg_code = ?",
			      id, lg);
		if (n >= 0)
			n = revoke_credentials(c, lg, id, 0);
		break;
	case ACCOUNT_ENABLE:
		n = run_id_lg(c, "UPDATE accounts SET disabled = 0 WHERE id = ? AND lg_code = ?",
			      id, lg);
		break;
	case ACCOUNT_CERT_REVOKE:
		n = revoke_cert(c, lg, id, cert_id, fp, sizeof fp);
		if (n == 1) {
			db_rollback(c);
			began = false;
			platform_audit(r, action_tab[what].name, subj, action_tab[what].purpose,
				       "not_found", "no such certificate");
			rc = -ENOENT;
			goto out;
		}
		break;
	default:
		n = -EINVAL;
		break;
	}
	if (n < 0 || db_commit(c) < 0) {
		rc = -EIO;
		goto out;
	}
	began = false;
	/* After the commit: the audit writer needs the write lock we held. If
	 * the entry cannot be written the change stands; say so loudly. */
	if (platform_audit(r, action_tab[what].name, subj, action_tab[what].purpose, "ok",
			   fp[0] ? fp : NULL) != 0) {
		log_error("audit: %s on %s was committed but its audit entry failed",
			  action_tab[what].name, subj);
		rc = -EIO;
		goto out;
	}
	rc = 0;
out:
	if (began)
		db_rollback(c);
	sodium_memzero(hash, sizeof hash);
	arena_free(a);
	return rc;
}

/* ---- the person changing their own password ---- */

#define PW_CHANGE_ACTION "account.password_change"
#define PW_CHANGE_PURPOSE "本人によるパスワードの変更"

const char *account_password_changed_ja(void)
{
	return "パスワードを変更しました。ほかの端末でのログインと API "
	       "トークンは、すべて無効にしました。";
}

/* The stored password hash of account id of lg_code into out ("" when the
 * account has none). Returns 0, -ENOENT or a DB error. */
static int load_hash(struct db_conn *c, const char *lg_code, int64_t id,
		     char out[PASSWORD_HASH_SIZE])
{
	struct db_stmt *st;
	out[0] = '\0';
	int rc = db_prepare(c, "SELECT password_hash FROM accounts WHERE id = ? AND lg_code = ?",
			    &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, lg_code);
	rc = db_step(st);
	if (rc == DB_ROW) {
		const char *h = db_col_text(st, 0);
		/* a longer string is no hash of ours: it fails verification */
		if (h && strlen(h) < PASSWORD_HASH_SIZE)
			snprintf(out, PASSWORD_HASH_SIZE, "%s", h);
		else if (h)
			snprintf(out, PASSWORD_HASH_SIZE, "%s", "$invalid$");
		rc = 0;
	} else if (rc == DB_DONE) {
		rc = -ENOENT;
	}
	db_done(st);
	return rc;
}

const char *account_temporary_password_ja(void)
{
	return "管理者が設定した仮のパスワードです。続けるには新しいパスワードを設定してください。";
}

bool account_has_password(struct req *r)
{
	char h[PASSWORD_HASH_SIZE];
	bool yes = load_hash(app_db(r), r->who.lg_code, r->who.account_id, h) == 0 && h[0];
	sodium_memzero(h, sizeof h);
	return yes;
}

/* Replaces the hash, if it is still old, and ends every other session and
 * API token of the account, in one transaction. Returns 0, 1 when the hash
 * changed meanwhile, or a DB error. */
static int replace_password(struct db_conn *c, const char *lg_code, int64_t id, const char *old,
			    const char *hash, int64_t keep_session)
{
	int rc = db_begin_write(c);
	if (rc < 0)
		return rc;
	struct db_stmt *st;
	/* the failure count goes back to 0, as after a log-in; a password the
	 * person chose is no longer an administrator's temporary one */
	rc = db_prepare(c,
			"UPDATE accounts SET password_hash = ?, failed_logins = 0, "
			"locked_until_ms = 0, must_change_password = 0 WHERE id = ? AND "
			"lg_code = ? AND password_hash = ?",
			&st);
	if (rc < 0)
		goto fail;
	db_bind_text(st, 1, hash);
	db_bind_int64(st, 2, id);
	db_bind_text(st, 3, lg_code);
	db_bind_text(st, 4, old);
	rc = db_step(st);
	int64_t n = db_changes(st);
	db_done(st);
	if (rc < 0)
		goto fail;
	if (n != 1) {
		db_rollback(c);
		return 1;
	}
	if ((rc = revoke_credentials(c, lg_code, id, keep_session)) < 0)
		goto fail;
	if ((rc = db_commit(c)) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(c);
	return rc;
}

int account_password_change(struct req *r, const char *current, const char *new_pw, json_t **errors,
			    int64_t *retry_after, char *msg, size_t msglen)
{
	struct db_conn *c = app_db(r);
	const char *lg = r->who.lg_code;
	int64_t id = r->who.account_id;
	struct arena *a = arena_new();
	char stored[PASSWORD_HASH_SIZE], hash[PASSWORD_HASH_SIZE], subj[32], why[256];
	json_t *errs = json_object();
	struct account acc;
	int rc;
	stored[0] = hash[0] = '\0';
	*errors = NULL;
	*retry_after = 0;
	msg[0] = '\0';
	snprintf(subj, sizeof subj, "account:%lld", (long long)id);
	if (!r->who.session_id) {
		/* a program's token: a change would revoke it with the others, and
		 * it is the person's act, on a signed-in screen */
		snprintf(msg, msglen,
			 "パスワードの変更は、ログインした画面から行ってください（API "
			 "トークンでは変更できません）。");
		rc = -EPERM;
		goto out;
	}
	if (account_get(c, a, lg, id, &acc) != 0 || load_hash(c, lg, id, stored) != 0) {
		rc = -EIO;
		goto out;
	}
	if (!stored[0]) {
		snprintf(msg, msglen,
			 "このアカウントにはパスワードが設定されていません。電子証明書でログイン"
			 "してください。");
		rc = -ENOENT;
		goto out;
	}
	int64_t now = platform_now_ms();
	if (acc.locked_until_ms > now) {
		/* nothing is verified while locked: the lock-out holds for a stolen
		 * session as it does for the log-in form */
		*retry_after = (acc.locked_until_ms - now + 999) / 1000;
		snprintf(msg, msglen, "%s", login_message_ja(LOGIN_LOCKED));
		platform_audit(r, PW_CHANGE_ACTION, subj, PW_CHANGE_PURPOSE, "denied", "locked");
		rc = -EAGAIN;
		goto out;
	}
	bool have_current = current && *current, verified = false;
	if (!have_current)
		json_object_set_new(errs, "current_password",
				    json_string("現在のパスワードを入力してください。"));
	if (!new_pw || !*new_pw)
		json_object_set_new(errs, "new_password",
				    json_string("新しいパスワードを入力してください。"));
	else if (new_password_ok(new_pw, why, sizeof why) != 0)
		json_object_set_new(errs, "new_password", json_string(why));
	if (have_current) {
		/* Counted as a failure before it is verified, against the address
		 * and against the account (the same counter as a failed log-in), so
		 * that parallel guesses stop at the limits; given back when right. */
		int64_t lock_set = 0;
		if (!throttle_take(r->client_ip, r->app->cfg->login_ip_max_failures, now,
				   retry_after)) {
			snprintf(msg, msglen, "%s", login_message_ja(LOGIN_LOCKED));
			platform_audit(r, PW_CHANGE_ACTION, subj, PW_CHANGE_PURPOSE, "denied",
				       "address throttled");
			rc = -EAGAIN;
			goto out;
		}
		rc = login_attempt_reserve(r->app, c, &acc, &lock_set, retry_after);
		if (rc != 0)
			throttle_give_back(r->client_ip, platform_now_ms());
		if (rc == 1) {
			snprintf(msg, msglen, "%s", login_message_ja(LOGIN_LOCKED));
			platform_audit(r, PW_CHANGE_ACTION, subj, PW_CHANGE_PURPOSE, "denied",
				       "locked");
			rc = -EAGAIN;
			goto out;
		}
		if (rc != 0) {
			rc = -EIO;
			goto out;
		}
		if (password_verify(stored, current, strlen(current)) == 0) {
			verified = true;
			throttle_give_back(r->client_ip, platform_now_ms());
			if (login_attempt_release(r->app, c, &acc, lock_set) < 0) {
				rc = -EIO;
				goto out;
			}
		} else {
			platform_audit(r, PW_CHANGE_ACTION, subj, PW_CHANGE_PURPOSE, "denied",
				       "wrong current password");
			json_object_set_new(
				errs, "current_password",
				json_string(
					"現在のパスワードが違います。続けて間違えると、しばらくの"
					"あいだログインできなくなります。"));
		}
	}
	if (verified && !json_object_get(errs, "new_password") && strcmp(current, new_pw) == 0)
		json_object_set_new(
			errs, "new_password",
			json_string(
				"新しいパスワードは、現在のパスワードと違うものにしてください。"));
	if (json_object_size(errs)) {
		*errors = errs;
		errs = NULL;
		rc = -EINVAL;
		goto out;
	}
	if (password_hash(new_pw, strlen(new_pw), NULL, hash) != 0) {
		rc = -EIO;
		goto out;
	}
	rc = replace_password(c, lg, id, stored, hash, r->who.session_id);
	if (rc == 1) {
		snprintf(msg, msglen,
			 "パスワードがほかの操作で変更されました。画面を開き直して、もう一度お試し"
			 "ください。");
		rc = -ESTALE;
		goto out;
	}
	if (rc < 0 ||
	    platform_audit(r, PW_CHANGE_ACTION, subj, PW_CHANGE_PURPOSE, "ok", NULL) != 0) {
		rc = -EIO;
		goto out;
	}
	rc = 0;
out:
	json_decref(errs);
	sodium_memzero(stored, sizeof stored);
	sodium_memzero(hash, sizeof hash);
	arena_free(a);
	return rc;
}

json_t *account_certificates(struct db_conn *c, const char *lg_code, int64_t id)
{
	json_t *arr = json_array();
	struct db_stmt *st;
	if (db_prepare(c,
		       "SELECT id, subject, issuer, serial, fingerprint, not_after_ms, created_ms "
		       "FROM certificates WHERE account_id = ? AND lg_code = ? ORDER BY id LIMIT "
		       "100",
		       &st) != 0)
		return arr;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, lg_code);
	while (db_step(st) == DB_ROW)
		json_array_append_new(
			arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I}", "id",
				       (json_int_t)db_col_int64(st, 0), "subject",
				       db_col_text(st, 1), "issuer", db_col_text(st, 2), "serial",
				       db_col_text(st, 3), "fingerprint", db_col_text(st, 4),
				       "not_after_ms", (json_int_t)db_col_int64(st, 5),
				       "created_ms", (json_int_t)db_col_int64(st, 6)));
	db_done(st);
	return arr;
}

bool account_totp_is_pending(struct db_conn *c, const char *lg_code, int64_t id)
{
	struct db_stmt *st;
	bool pending = false;
	if (db_prepare(c,
		       "SELECT CASE WHEN totp_secret IS NOT NULL AND totp_enabled = 0 THEN 1 ELSE "
		       "0 END FROM accounts WHERE id = ? AND lg_code = ?",
		       &st) != 0)
		return false;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, lg_code);
	if (db_step(st) == DB_ROW)
		pending = db_col_int64(st, 0) != 0;
	db_done(st);
	return pending;
}
