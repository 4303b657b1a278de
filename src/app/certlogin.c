/* Public-key log-in modelled on the My Number card's user certificate
 * (利用者証明用電子証明書), and TOTP enrolment. A resident registers a
 * certificate issued by a CA this deployment trusts; to log in, their client
 * signs a one-time challenge, and the server checks the signature, the chain,
 * the validity period and the CRL again at every log-in. */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "app/dispatch.h"
#include "app/keys.h"
#include "app/pages.h"
#include "app/platform.h"
#include "app/render.h"
#include "auth/cert.h"
#include "auth/token.h"
#include "auth/totp.h"
#include "http/req_internal.h"

#define CHALLENGE_TTL_MS (300 * 1000)
/* First line of the text a resident's client signs to log in. */
#define CERT_LOGIN_DOMAIN "madoguchi-login-v1"

static void challenge_hash(const char *ch, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)ch, strlen(ch), NULL, 0);
}

/* Issues a challenge for lg_code; NULL on DB failure. */
static const char *challenge_new(struct req *r, const char *lg_code)
{
	const char *ch = platform_token_new(r->arena);
	unsigned char h[32];
	challenge_hash(ch, h);
	int64_t now = platform_now_ms();
	struct db_stmt *st;
	/* expired challenges are swept as new ones are made */
	if (db_prepare(app_db(r), "DELETE FROM cert_challenges WHERE expires_ms < ?", &st) == 0) {
		db_bind_int64(st, 1, now);
		db_step(st);
		db_done(st);
	}
	if (db_prepare(app_db(r),
		       "INSERT INTO cert_challenges (challenge_hash, lg_code, expires_ms) VALUES "
		       "(?, ?, ?)",
		       &st) != 0)
		return NULL;
	db_bind_blob(st, 1, h, sizeof h);
	db_bind_text(st, 2, lg_code);
	db_bind_int64(st, 3, now + CHALLENGE_TTL_MS);
	int rc = db_step(st);
	db_done(st);
	return rc < 0 ? NULL : ch;
}

/* Marks the challenge used; true only the first time, before it expires. */
static bool challenge_take(struct req *r, const char *lg_code, const char *ch)
{
	unsigned char h[32];
	challenge_hash(ch, h);
	struct db_stmt *st;
	if (db_prepare(
		    app_db(r),
		    "UPDATE cert_challenges SET used = 1 WHERE challenge_hash = ? AND lg_code = ? "
		    "AND used = 0 AND expires_ms >= ?",
		    &st) != 0)
		return false;
	db_bind_blob(st, 1, h, sizeof h);
	db_bind_text(st, 2, lg_code);
	db_bind_int64(st, 3, platform_now_ms());
	int rc = db_step(st);
	int64_t n = db_changes(st);
	db_done(st);
	return rc >= 0 && n == 1;
}

/* Decodes base64 (standard or URL-safe, padding and line breaks allowed). */
static int b64_decode(const char *s, unsigned char *out, size_t outmax, size_t *outlen)
{
	size_t n = strlen(s);
	if (sodium_base642bin(out, outmax, s, n, " \r\n\t", outlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) == 0)
		return 0;
	return sodium_base642bin(out, outmax, s, n, " \r\n\t=", outlen, NULL,
				 sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

enum { CL_OK = 0, CL_BAD_INPUT = -1, CL_CHALLENGE = -2, CL_UNKNOWN = -3, CL_DB = -4 };

/* The whole certificate log-in check; on CL_OK fills acc. On a certificate
 * problem returns the CERT_E* code. */
static int cert_login_check(struct req *r, const char *lg, const char *challenge, const char *pem,
			    const char *sig_b64, struct account *acc)
{
	if (!r->app->certs)
		return CERT_EUNTRUSTED;
	if (!lg || !challenge || !pem || !sig_b64 || strlen(pem) > CERT_INPUT_MAX)
		return CL_BAD_INPUT;
	unsigned char sig[CERT_SIG_MAX];
	size_t siglen = 0;
	if (b64_decode(sig_b64, sig, sizeof sig, &siglen) != 0)
		return CL_BAD_INPUT;
	if (!challenge_take(r, lg, challenge))
		return CL_CHALLENGE;
	struct cert_info info;
	int rc = cert_verify(r->app->certs, pem, strlen(pem), time(NULL), &info, NULL, 0);
	if (rc != 0)
		return rc;
	/* The signed text names its purpose and municipality, so a signature
	 * made for anything else can never serve as a log-in. */
	char *msg = arena_printf(r->arena, "%s\n%s\n%s", CERT_LOGIN_DOMAIN, lg, challenge);
	rc = cert_verify_signature(pem, strlen(pem), (const unsigned char *)msg, strlen(msg), sig,
				   siglen);
	if (rc != 0)
		return rc;
	struct db_stmt *st;
	if (db_prepare(app_db(r),
		       "SELECT account_id FROM certificates WHERE lg_code = ? AND fingerprint = ?",
		       &st) != 0)
		return CL_DB;
	db_bind_text(st, 1, lg);
	db_bind_text(st, 2, info.fingerprint);
	rc = db_step(st);
	int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_done(st);
	if (rc < 0)
		return CL_DB;
	if (!id)
		return CL_UNKNOWN;
	rc = account_get(app_db(r), r->arena, lg, id, acc);
	if (rc != 0)
		return rc == -ENOENT ? CL_UNKNOWN : CL_DB;
	if (acc->disabled)
		return CL_UNKNOWN;
	return CL_OK;
}

static const char *cert_login_message(int rc)
{
	switch (rc) {
	case CL_BAD_INPUT:
		return "証明書と署名を正しく送信してください。";
	case CL_CHALLENGE:
		return "確認用の文字列の有効期限が切れたか、すでに使われています。もう一度お試しください。";
	case CL_UNKNOWN:
		return "この証明書は登録されていません。";
	case CL_DB:
		return "ただいまログインできません。しばらくしてからお試しください。";
	default:
		return cert_strerror_ja(rc);
	}
}

static void after_login(struct req *r, struct res *s, struct account *acc)
{
	r->who.kind = strcmp(acc->kind, "resident") == 0 ? PRINCIPAL_RESIDENT : PRINCIPAL_STAFF;
	r->who.account_id = acc->id;
	r->who.display = acc->display;
	r->who.roles = acc->roles;
	char subj[32];
	snprintf(subj, sizeof subj, "account:%lld", (long long)acc->id);
	platform_audit(r, "auth.login", subj, "本人確認（ログイン）", "ok", "certificate");
}

static void api_challenge(struct req *r, struct res *s)
{
	json_t *in = req_json(r, s);
	if (!in)
		return;
	const char *lg = json_string_value(json_object_get(in, "lg_code"));
	lg = lg ? arena_strdup(r->arena, lg) : NULL;
	json_decref(in);
	if (!lg || tenant_get(app_db(r), r->arena, lg, NULL, NULL) != 0) {
		res_problem(r, s, 404, "その市区町村はこのシステムにありません", NULL);
		return;
	}
	const char *ch = challenge_new(r, lg);
	if (!ch) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	res_json(r, s, 200,
		 json_pack("{s:s, s:s, s:i}", "challenge", ch, "sign",
			   arena_printf(r->arena, "%s\n%s\n%s", CERT_LOGIN_DOMAIN, lg, ch),
			   "expires_in", CHALLENGE_TTL_MS / 1000));
}

static void api_cert_login(struct req *r, struct res *s)
{
	json_t *in = req_json(r, s);
	if (!in)
		return;
	const char *lg = json_string_value(json_object_get(in, "lg_code"));
	struct account acc;
	int rc = cert_login_check(r, lg, json_string_value(json_object_get(in, "challenge")),
				  json_string_value(json_object_get(in, "certificate")),
				  json_string_value(json_object_get(in, "signature")), &acc);
	if (lg && strlen(lg) == 6)
		snprintf(r->who.lg_code, sizeof r->who.lg_code, "%s", lg);
	json_decref(in);
	if (rc != CL_OK) {
		if (r->who.lg_code[0])
			platform_audit(r, "auth.login", NULL, "本人確認（ログイン）", "denied",
				       cert_strerror(rc));
		res_problem(r, s,
			    rc == CL_DB        ? 503 :
			    rc == CL_BAD_INPUT ? 400 :
						 401,
			    cert_login_message(rc), NULL);
		return;
	}
	if (session_start(r, s, &acc, "certificate") != 0) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	after_login(r, s, &acc);
	json_t *out = account_json(&acc);
	json_object_set_new(out, "csrf", json_string(r->who.csrf));
	res_json(r, s, 200, out);
}

/* The audit subject of the signed-in account. */
static const char *self_subject(struct req *r)
{
	return arena_printf(r->arena, "account:%lld", (long long)r->who.account_id);
}

int account_cert_register(struct req *r, const char *pem, struct cert_info *info)
{
	if (!pem || !*pem || strlen(pem) > CERT_INPUT_MAX)
		return -EINVAL;
	int rc = r->app->certs ?
			 cert_verify(r->app->certs, pem, strlen(pem), time(NULL), info, NULL, 0) :
			 CERT_EUNTRUSTED;
	if (rc != 0)
		return rc;
	struct buf canon;
	buf_init(&canon, CERT_INPUT_MAX * 2);
	if (cert_to_pem(pem, strlen(pem), &canon) != 0) {
		buf_release(&canon);
		return CERT_EPARSE;
	}
	struct db_stmt *st;
	rc = db_prepare(
		app_db(r),
		"INSERT INTO certificates (lg_code, account_id, fingerprint, subject, issuer, "
		"serial, not_after_ms, pem, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		&st);
	if (rc == 0) {
		db_bind_text(st, 1, r->who.lg_code);
		db_bind_int64(st, 2, r->who.account_id);
		db_bind_text(st, 3, info->fingerprint);
		db_bind_text(st, 4, info->subject);
		db_bind_text(st, 5, info->issuer);
		db_bind_text(st, 6, info->serial_hex);
		db_bind_int64(st, 7, (int64_t)info->not_after * 1000);
		db_bind_text(st, 8, buf_cstr(&canon));
		db_bind_int64(st, 9, platform_now_ms());
		rc = db_step(st);
		db_done(st);
	}
	buf_release(&canon);
	if (rc == DB_ECONSTRAINT)
		return -EEXIST;
	if (rc < 0)
		return -EIO;
	if (platform_audit(r, "certificate.register", self_subject(r), "ログイン用証明書の登録",
			   "ok", info->fingerprint) != 0)
		return -EIO;
	return 0;
}

const char *account_cert_message_ja(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "PEM 形式の証明書を貼り付けてください。";
	case -EEXIST:
		return "この証明書はすでに登録されています。";
	case -EIO:
		return "ただいま登録できません。しばらくしてからお試しください。";
	default:
		return cert_strerror_ja(rc);
	}
}

static void api_cert_register(struct req *r, struct res *s)
{
	json_t *in = req_json(r, s);
	if (!in)
		return;
	struct cert_info info;
	int rc = account_cert_register(r, json_string_value(json_object_get(in, "certificate")),
				       &info);
	json_decref(in);
	if (rc == -EINVAL) {
		res_problem_fields(r, s, 400, "入力内容を確認してください",
				   json_pack("{s:s}", "certificate", account_cert_message_ja(rc)));
		return;
	}
	if (rc == -EEXIST) {
		res_problem(r, s, 409, "この証明書はすでに登録されています", NULL);
		return;
	}
	if (rc == -EIO) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	if (rc != 0) {
		res_problem_fields(r, s, 422, "この証明書は登録できません",
				   json_pack("{s:s}", "certificate", account_cert_message_ja(rc)));
		return;
	}
	res_json(r, s, 201,
		 json_pack("{s:s, s:s, s:s, s:I}", "fingerprint", info.fingerprint, "subject",
			   info.subject, "issuer", info.issuer, "not_after",
			   (json_int_t)info.not_after));
}

/* The otpauth URI of secret for the signed-in account, appended to uri. */
static int totp_uri_for(struct req *r, const unsigned char *secret, size_t n, struct buf *uri)
{
	const char *muni = NULL;
	tenant_get(app_db(r), r->arena, r->who.lg_code, NULL, &muni);
	struct totp_params tp = TOTP_PARAMS_DEFAULT;
	return totp_uri(uri, muni ? muni : "madoguchi", r->who.login, secret, n, &tp);
}

int account_totp_begin(struct req *r, char *b32, size_t b32sz, struct buf *uri)
{
	unsigned char secret[TOTP_SECRET_BYTES], key[32];
	unsigned char blob[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + TOTP_SECRET_BYTES +
			   crypto_aead_xchacha20poly1305_ietf_ABYTES];
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	int rc = -EIO;
	if (totp_secret_new(secret, sizeof secret) != 0)
		goto out;
	keys_derive(r->app->keys, KEY_TOTP_ENC, key);
	randombytes_buf(blob, nb);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + nb, &clen, secret, sizeof secret, NULL, 0,
						   NULL, blob, key);
	sodium_memzero(key, sizeof key);
	/* Only while TOTP is off: a stolen session must not be able to swap the
	 * second factor for one of its own (turning it off is done at the counter). */
	struct db_stmt *st;
	if (db_prepare(app_db(r),
		       "UPDATE accounts SET totp_secret = ?, totp_enabled = 0, totp_last_step = 0 "
		       "WHERE id = ? AND lg_code = ? AND totp_enabled = 0",
		       &st) != 0)
		goto out;
	db_bind_blob(st, 1, blob, nb + (size_t)clen);
	db_bind_int64(st, 2, r->who.account_id);
	db_bind_text(st, 3, r->who.lg_code);
	int step = db_step(st);
	int64_t changed = db_changes(st);
	db_done(st);
	if (step < 0)
		goto out;
	if (changed != 1) {
		rc = -EALREADY;
		goto out;
	}
	if (platform_audit(r, "account.totp_begin", self_subject(r), "二段階認証の設定", "ok",
			   NULL) != 0)
		goto out;
	if (b32 && totp_base32_encode(secret, sizeof secret, false, b32, b32sz) != 0)
		goto out;
	if (uri && totp_uri_for(r, secret, sizeof secret, uri) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(blob, sizeof blob);
	return rc;
}

/* The signed-in account's pending (stored, not enabled) TOTP secret and its
 * encrypted form as stored; returns the secret's length, -ENOENT or -EIO. */
static int totp_pending_secret(struct req *r, unsigned char *secret, size_t secretsz,
			       unsigned char *blob, size_t blobsz, size_t *blobn)
{
	struct db_stmt *st;
	size_t n = 0;
	bool pending = false;
	if (db_prepare(app_db(r),
		       "SELECT totp_secret, totp_enabled FROM accounts WHERE id = ? AND "
		       "lg_code = ?",
		       &st) != 0)
		return -EIO;
	db_bind_int64(st, 1, r->who.account_id);
	db_bind_text(st, 2, r->who.lg_code);
	int rc = db_step(st);
	if (rc == DB_ROW && db_col_int64(st, 1) == 0) {
		const void *b = db_col_blob(st, 0, &n);
		if (b && n > 0 && n <= blobsz) {
			memcpy(blob, b, n);
			pending = true;
		}
	}
	db_done(st);
	if (rc < 0)
		return -EIO;
	if (!pending)
		return -ENOENT;
	*blobn = n;
	int len = platform_totp_secret(r->app, blob, n, secret, secretsz);
	return len > 0 ? len : -ENOENT;
}

int account_totp_pending(struct req *r, char *b32, size_t b32sz, struct buf *uri)
{
	unsigned char secret[TOTP_KEY_MAX], blob[256];
	size_t bn = 0;
	int len = totp_pending_secret(r, secret, sizeof secret, blob, sizeof blob, &bn);
	int rc = len < 0 ? len : 0;
	if (rc == 0 && b32 && totp_base32_encode(secret, (size_t)len, false, b32, b32sz) != 0)
		rc = -EIO;
	if (rc == 0 && uri && totp_uri_for(r, secret, (size_t)len, uri) != 0)
		rc = -EIO;
	sodium_memzero(secret, sizeof secret);
	return rc;
}

int account_totp_confirm(struct req *r, const char *code)
{
	unsigned char secret[TOTP_KEY_MAX], blob[256];
	size_t bn = 0;
	int len = totp_pending_secret(r, secret, sizeof secret, blob, sizeof blob, &bn);
	if (len < 0)
		return len;
	uint64_t matched = 0;
	struct totp_params tp = TOTP_PARAMS_DEFAULT;
	int rc = code ? totp_verify(secret, (size_t)len, &tp, code, strlen(code), time(NULL), 0,
				    &matched) :
			TOTP_EFORMAT;
	sodium_memzero(secret, sizeof secret);
	if (rc != 0)
		return rc;
	/* Enables exactly the secret the code was checked against: a new one
	 * begun in between is not switched on by a code for the old one. */
	struct db_stmt *st;
	if (db_prepare(app_db(r),
		       "UPDATE accounts SET totp_enabled = 1, totp_last_step = ? WHERE id = ? AND "
		       "lg_code = ? AND totp_enabled = 0 AND totp_secret = ?",
		       &st) != 0)
		return -EIO;
	db_bind_int64(st, 1, (int64_t)matched);
	db_bind_int64(st, 2, r->who.account_id);
	db_bind_text(st, 3, r->who.lg_code);
	db_bind_blob(st, 4, blob, bn);
	int step = db_step(st);
	int64_t changed = db_changes(st);
	db_done(st);
	if (step < 0)
		return -EIO;
	if (changed != 1)
		return -ENOENT;
	if (platform_audit(r, "account.totp", self_subject(r), "二段階認証の設定", "ok", NULL) != 0)
		return -EIO;
	return 0;
}

static void api_totp_begin(struct req *r, struct res *s)
{
	char b32[64];
	struct buf uri;
	buf_init(&uri, 1024);
	int rc = account_totp_begin(r, b32, sizeof b32, &uri);
	if (rc == -EALREADY)
		res_problem(r, s, 409, "確認コードはすでに設定されています",
			    "無効にするには窓口にお越しください。");
	else if (rc != 0)
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
	else
		res_json(r, s, 200,
			 json_pack("{s:s, s:s}", "secret", b32, "otpauth_uri", buf_cstr(&uri)));
	sodium_memzero(b32, sizeof b32);
	buf_release(&uri);
}

static void api_totp_confirm(struct req *r, struct res *s)
{
	json_t *in = req_json(r, s);
	if (!in)
		return;
	int rc = account_totp_confirm(r, json_string_value(json_object_get(in, "code")));
	json_decref(in);
	if (rc == -ENOENT) {
		res_problem(r, s, 409, "先に確認コードの設定を始めてください", NULL);
		return;
	}
	if (rc == -EIO) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	if (rc != 0) {
		res_problem_fields(r, s, 400, "確認コードが違います",
				   json_pack("{s:s}", "code", "確認コード（6桁）が違います。"));
		return;
	}
	res_json(r, s, 200, json_pack("{s:b}", "totp_enabled", 1));
}

/* ---- the no-JavaScript pages ---- */

static void page_cert(struct req *r, struct res *s)
{
	json_t *munis = tenant_list(app_db(r));
	const char *lg = req_query(r, "lg_code");
	if (!lg && json_array_size(munis) == 1)
		lg = arena_strdup(r->arena, json_string_value(json_object_get(
						    json_array_get(munis, 0), "lg_code")));
	json_t *ctx = json_object();
	json_object_set_new(ctx, "munis", munis);
	json_object_set_new(ctx, "muni_select", json_boolean(json_array_size(munis) > 1));
	if (lg && tenant_get(app_db(r), r->arena, lg, NULL, NULL) == 0) {
		const char *ch = challenge_new(r, lg);
		if (ch) {
			json_object_set_new(ctx, "challenge", json_string(ch));
			json_object_set_new(ctx, "sign_text",
					    json_string(arena_printf(r->arena, "%s\n%s\n%s",
								     CERT_LOGIN_DOMAIN, lg, ch)));
		}
		json_object_set_new(ctx, "lg_code", json_string(lg));
	}
	page_render(r, s, 200, "login_cert", "証明書でログイン", NULL, ctx);
}

static void page_cert_post(struct req *r, struct res *s)
{
	const char *lg = req_form(r, "lg_code");
	struct account acc;
	int rc = cert_login_check(r, lg, req_form(r, "challenge"), req_form(r, "certificate"),
				  req_form(r, "signature"), &acc);
	if (rc != CL_OK) {
		json_t *ctx = json_pack("{s:s}", "error", cert_login_message(rc));
		if (lg && tenant_get(app_db(r), r->arena, lg, NULL, NULL) == 0) {
			const char *ch = challenge_new(r, lg);
			if (ch)
				json_object_set_new(ctx, "challenge", json_string(ch));
			json_object_set_new(ctx, "lg_code", json_string(lg));
		}
		page_render(r, s, rc == CL_BAD_INPUT ? 400 : 401, "login_cert", "証明書でログイン",
			    NULL, ctx);
		return;
	}
	if (session_start(r, s, &acc, "certificate") != 0) {
		res_problem(r, s, 503, http_status_title_ja(503), NULL);
		return;
	}
	after_login(r, s, &acc);
	res_redirect(r, s, strcmp(acc.kind, "resident") == 0 ? "/me" : "/staff");
}

const struct route cert_routes[] = {
	{HTTP_POST, "/api/v1/auth/cert/challenge", api_challenge, NULL, ROUTE_PUBLIC, NULL},
	{HTTP_POST, "/api/v1/auth/cert/login", api_cert_login, NULL, ROUTE_PUBLIC, NULL},
	{HTTP_POST, "/api/v1/me/certificates", api_cert_register, NULL, 0, NULL},
	{HTTP_POST, "/api/v1/me/totp", api_totp_begin, NULL, 0, NULL},
	{HTTP_POST, "/api/v1/me/totp/confirm", api_totp_confirm, NULL, 0, NULL},
	{HTTP_GET, "/login/cert", page_cert, NULL, ROUTE_PUBLIC | ROUTE_HTML, NULL},
	{HTTP_POST, "/login/cert", page_cert_post, NULL, ROUTE_PUBLIC | ROUTE_HTML, NULL},
	{0, NULL, NULL, NULL, 0, NULL},
};
