/* Random bearer tokens (session ids, API tokens, CSRF and challenge nonces) and
 * the keyed hash under which they are stored: the database holds only
 * BLAKE2b-256(server secret, token), so a stolen table grants no log-in. */
#ifndef MADO_AUTH_TOKEN_H
#define MADO_AUTH_TOKEN_H
#include <stdbool.h>
#include <stddef.h>

/* Random bytes in a token, its text form (base64url without padding) and the
 * buffer size that text needs with its NUL. */
#define TOKEN_BYTES 32
#define TOKEN_STR_LEN 43
#define TOKEN_STR_SIZE (TOKEN_STR_LEN + 1)

/* Keyed hash of a token: raw bytes, and lowercase hex with its NUL. */
#define TOKEN_HASH_BYTES 32
#define TOKEN_HASH_HEX_SIZE (2 * TOKEN_HASH_BYTES + 1)

/* Server secret (hashing key): 32 bytes recommended; 16..64 accepted. */
#define TOKEN_KEY_BYTES 32
#define TOKEN_KEY_MIN 16
#define TOKEN_KEY_MAX 64

/* Module error codes (negative; token_strerror() names them). */
enum {
	TOKEN_EINIT = -1301,  /* libsodium could not be initialised */
	TOKEN_EINVAL = -1302, /* bad argument: key length, NULL, format */
	TOKEN_ESPACE = -1303, /* output buffer too small */
};

/* A new token: TOKEN_BYTES from the OS CSPRNG (randombytes_buf), written to
 * out as TOKEN_STR_LEN base64url characters and a NUL. The raw bytes are
 * wiped before returning. Returns 0 or TOKEN_EINIT. */
int token_new(char out[TOKEN_STR_SIZE]);

/* Fills buf with n random bytes (for keys and nonces). Returns 0 or TOKEN_EINIT. */
int token_random(void *buf, size_t n);

/* True when s[0..len) has the exact shape token_new() produces (43 chars of
 * the base64url alphabet whose last one carries no stray bits). Callers check
 * this before hashing or looking up what a client sent. */
bool token_format_ok(const char *s, size_t len);

/* BLAKE2b-256 of token[0..len) keyed with key[0..keylen) (TOKEN_KEY_MIN..MAX
 * bytes). The token is hashed as given, so the same text always gives the
 * same hash. Returns 0 or TOKEN_EINVAL / TOKEN_EINIT. */
int token_hash(const unsigned char *key, size_t keylen, const char *token, size_t len,
	       unsigned char out[TOKEN_HASH_BYTES]);

/* As token_hash, written as 64 lowercase hex digits and a NUL: the form
 * stored in the database. */
int token_hash_hex(const unsigned char *key, size_t keylen, const char *token, size_t len,
		   char out[TOKEN_HASH_HEX_SIZE]);

/* Constant-time equality of a[0..alen) and b[0..blen). Lengths are not
 * secret (a length mismatch returns false at once); contents are compared
 * without data-dependent branches. */
bool token_equal(const void *a, size_t alen, const void *b, size_t blen);

/* bin[0..n) as lowercase hex into out (outsz >= 2n+1, NUL-terminated).
 * Returns 0 or TOKEN_ESPACE. */
int token_hex_encode(const void *bin, size_t n, char *out, size_t outsz);

/* Decodes exactly len hex digits (either case, no separators) into out,
 * storing the byte count in *outlen. Returns 0, TOKEN_EINVAL (odd length or a
 * non-hex character) or TOKEN_ESPACE. */
int token_hex_decode(const char *hex, size_t len, unsigned char *out, size_t outsz, size_t *outlen);

/* bin[0..n) as base64url without padding into out (NUL-terminated).
 * Returns 0 or TOKEN_ESPACE. */
int token_b64url_encode(const void *bin, size_t n, char *out, size_t outsz);

/* Decodes base64url without padding (strict: no padding, no whitespace, no
 * stray bits). Returns 0, TOKEN_EINVAL or TOKEN_ESPACE. */
int token_b64url_decode(const char *s, size_t len, unsigned char *out, size_t outsz,
			size_t *outlen);

/* English name of a module error code, for logs. Never NULL. */
const char *token_strerror(int rc);

#endif
