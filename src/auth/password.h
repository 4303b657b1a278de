/* Password storage and policy: Argon2id through libsodium's crypto_pwhash_str,
 * whose self-describing "$argon2id$v=19$m=…,t=…,p=1$salt$hash" string is what
 * the accounts table stores. No password ever leaves this module in clear. */
#ifndef MADO_AUTH_PASSWORD_H
#define MADO_AUTH_PASSWORD_H
#include <stddef.h>

/* Size of the buffer a stored hash needs, NUL included (crypto_pwhash_STRBYTES). */
#define PASSWORD_HASH_SIZE 128

/* Policy limits: at least 10 characters (code points, so 「あいうえおかきくけこ」
 * counts as 10), at most 1024 bytes of UTF-8. */
#define PASSWORD_MIN_CHARS 10
#define PASSWORD_MAX_BYTES 1024

/* Module error codes (negative). password_strerror() names them in English for
 * logs; password_message_ja() gives the sentence shown beside the field. */
enum {
	PASSWORD_EMISMATCH = -1101, /* wrong password */
	PASSWORD_EFORMAT = -1102,   /* stored string is not an Argon2 hash */
	PASSWORD_ETOOSHORT = -1103, /* fewer than PASSWORD_MIN_CHARS characters */
	PASSWORD_ETOOLONG = -1104,  /* more than PASSWORD_MAX_BYTES bytes */
	PASSWORD_EENCODING = -1105, /* not UTF-8, or contains control characters */
	PASSWORD_EINTERNAL = -1106, /* libsodium failed (init, out of memory) */
	PASSWORD_EINVAL = -1107,    /* bad cost parameters */
};

/* Argon2id work factors. The default is libsodium's INTERACTIVE profile
 * (opslimit 2, memlimit 64 MiB); tests lower it to keep the suite fast. */
struct password_cost {
	unsigned long long opslimit;
	size_t memlimit;
};

/* The INTERACTIVE profile, and the cheapest one Argon2id allows (tests only:
 * opslimit 1, memlimit 8 KiB). */
struct password_cost password_cost_interactive(void);
struct password_cost password_cost_minimum(void);

/* Sets the cost used wherever a function below is passed cost == NULL.
 * Call once at start-up, before threads exist. Returns 0, or PASSWORD_EINVAL
 * when the values are outside what Argon2id accepts (nothing changes). */
int password_set_default_cost(const struct password_cost *cost);
struct password_cost password_default_cost(void);

/* At most n password computations (hash, verify, dummy) run at once; the
 * rest wait. 0 (the default): the number of online CPUs. Also resets the
 * peak. */
void password_set_concurrency(unsigned n);
/* The most computations seen running at once since the last set (tests). */
unsigned password_peak_concurrency(void);

/* Hashes pw[0..len) with a fresh random salt into out (NUL-terminated,
 * PASSWORD_HASH_SIZE bytes of room). cost NULL means the default.
 * Does not apply the policy (see password_policy_check) but refuses more than
 * PASSWORD_MAX_BYTES. Returns 0, PASSWORD_ETOOLONG, PASSWORD_EINVAL or
 * PASSWORD_EINTERNAL. */
int password_hash(const char *pw, size_t len, const struct password_cost *cost,
		  char out[PASSWORD_HASH_SIZE]);

/* Checks pw[0..len) against a stored hash string (NUL-terminated, from
 * password_hash; legacy "$argon2i$" strings verify too). Returns 0 on match,
 * PASSWORD_EMISMATCH, PASSWORD_EFORMAT when stored is not a hash string, or
 * PASSWORD_ETOOLONG. Takes as long as one hash computation. */
int password_verify(const char *stored, const char *pw, size_t len);

/* Burns the time of one password_verify() at the default cost: call it when
 * the account does not exist, so response time does not reveal that. */
void password_verify_dummy(const char *pw, size_t len);

/* 1 when stored should be replaced by a new password_hash() after a
 * successful verify (other algorithm than Argon2id, or other cost than cost,
 * NULL meaning the default); 0 when it is current; PASSWORD_EFORMAT when it is
 * not a hash string. */
int password_needs_rehash(const char *stored, const struct password_cost *cost);

/* Applies the password policy to a new password: at most PASSWORD_MAX_BYTES
 * bytes, valid UTF-8 without control characters, at least PASSWORD_MIN_CHARS
 * characters. Returns 0 or PASSWORD_ETOOLONG / PASSWORD_EENCODING /
 * PASSWORD_ETOOSHORT; when msg_ja is not NULL it receives the Japanese
 * sentence for the form field (static storage), or NULL on success. */
int password_policy_check(const char *pw, size_t len, const char **msg_ja);

/* Japanese sentence for a user (static storage, never NULL). */
const char *password_message_ja(int rc);
/* English name of a module error code, for logs (never NULL). */
const char *password_strerror(int rc);

#endif
