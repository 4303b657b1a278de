/* The platform's own tables: municipalities (tenants), accounts, roles,
 * sessions, API tokens and log-in certificates. Every row carries lg_code.
 * Numbered steps are never edited once released: add a new step instead. */
#include "app/platform.h"

const struct db_migration platform_migrations[] = {
	{1,
	 "CREATE TABLE municipalities ("
	 " lg_code TEXT PRIMARY KEY,"
	 " pref TEXT NOT NULL,"
	 " name TEXT NOT NULL,"
	 " created_ms BIGINT NOT NULL);"
	 "CREATE TABLE accounts ("
	 " id AUTOINCREMENT_PK,"
	 " lg_code TEXT NOT NULL REFERENCES municipalities(lg_code),"
	 " login TEXT NOT NULL,"
	 " display TEXT NOT NULL,"
	 " kind TEXT NOT NULL CHECK (kind IN ('resident','staff','system')),"
	 " password_hash TEXT,"
	 " totp_secret BLOB,"
	 " totp_enabled INTEGER NOT NULL DEFAULT 0,"
	 " totp_last_step BIGINT NOT NULL DEFAULT 0,"
	 " failed_logins INTEGER NOT NULL DEFAULT 0,"
	 " locked_until_ms BIGINT NOT NULL DEFAULT 0,"
	 " disabled INTEGER NOT NULL DEFAULT 0,"
	 " created_ms BIGINT NOT NULL,"
	 " UNIQUE (lg_code, login));"
	 "CREATE TABLE account_roles ("
	 " account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	 " lg_code TEXT NOT NULL,"
	 " role TEXT NOT NULL,"
	 " PRIMARY KEY (account_id, role));"
	 "CREATE TABLE sessions ("
	 " id AUTOINCREMENT_PK,"
	 " lg_code TEXT NOT NULL,"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	 " token_hash BLOB NOT NULL UNIQUE,"
	 " csrf TEXT NOT NULL,"
	 " created_ms BIGINT NOT NULL,"
	 " last_seen_ms BIGINT NOT NULL,"
	 " expires_ms BIGINT NOT NULL,"
	 " method TEXT NOT NULL,"
	 " ip TEXT);"
	 "CREATE INDEX sessions_account ON sessions(account_id);"
	 "CREATE TABLE api_tokens ("
	 " id AUTOINCREMENT_PK,"
	 " lg_code TEXT NOT NULL,"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	 " token_hash BLOB NOT NULL UNIQUE,"
	 " label TEXT NOT NULL,"
	 " created_ms BIGINT NOT NULL,"
	 " revoked INTEGER NOT NULL DEFAULT 0);"
	 "CREATE TABLE certificates ("
	 " id AUTOINCREMENT_PK,"
	 " lg_code TEXT NOT NULL,"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	 " fingerprint TEXT NOT NULL,"
	 " subject TEXT NOT NULL,"
	 " issuer TEXT NOT NULL,"
	 " serial TEXT NOT NULL,"
	 " not_after_ms BIGINT NOT NULL,"
	 " pem TEXT NOT NULL,"
	 " created_ms BIGINT NOT NULL,"
	 " UNIQUE (lg_code, fingerprint));"
	 "CREATE TABLE cert_challenges ("
	 " challenge_hash BLOB PRIMARY KEY,"
	 " lg_code TEXT NOT NULL,"
	 " expires_ms BIGINT NOT NULL,"
	 " used INTEGER NOT NULL DEFAULT 0);",
	 NULL},
	/* A password set by an administrator (a new account's, or a reset at the
	 * counter) is temporary: the person must change it before anything else
	 * (dispatch.c). Cleared by their own change on /me/password. */
	{2, "ALTER TABLE accounts ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;",
	 NULL},
	{0, NULL, NULL},
};
