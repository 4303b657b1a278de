/* Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) for the second
 * log-in factor, the RFC 4648 base32 form authenticator apps exchange secrets
 * in, and the otpauth:// URI that a QR code carries to them. */
#ifndef MADO_AUTH_TOTP_H
#define MADO_AUTH_TOTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"

enum totp_alg { TOTP_SHA1, TOTP_SHA256, TOTP_SHA512 };

/* What an account's authenticator was set up with. Every app supports the
 * default: SHA-1, 6 digits, 30 s; window is how many steps either side of
 * "now" verification accepts (RFC 6238 §5.2 clock drift). */
struct totp_params {
	enum totp_alg alg;
	unsigned digits; /* 6..8 */
	unsigned period; /* seconds per step, 1..3600 */
	unsigned window; /* 0..10 steps before and after */
};
#define TOTP_PARAMS_DEFAULT ((struct totp_params){TOTP_SHA1, 6, 30, 1})

/* Secret size we generate (160 bits, RFC 4226 §4 R6) and the sizes accepted. */
#define TOTP_SECRET_BYTES 20
#define TOTP_KEY_MIN 16
#define TOTP_KEY_MAX 128
/* A code as text: up to 8 digits and a NUL. */
#define TOTP_CODE_SIZE 9
/* Longest code input accepted by totp_verify (spaces and full-width digits
 * take room). */
#define TOTP_INPUT_MAX 64

/* Module error codes (negative). */
enum {
	TOTP_EMISMATCH = -1201, /* code does not match any step in the window */
	TOTP_EREPLAY = -1202,   /* code matches a step already used */
	TOTP_EFORMAT = -1203,   /* code is not `digits` digits */
	TOTP_EINVAL = -1204,    /* bad key length, parameters, time or encoding */
	TOTP_ESPACE = -1205,    /* output buffer too small */
	TOTP_EINTERNAL = -1206, /* OpenSSL or libsodium failed */
};

/* RFC 4226 HOTP: HMAC(key, 8-byte big-endian counter), dynamically truncated,
 * modulo 10^digits, in *out. Returns 0, TOTP_EINVAL or TOTP_EINTERNAL. */
int totp_hotp(const unsigned char *key, size_t keylen, enum totp_alg alg, unsigned digits,
	      uint64_t counter, uint32_t *out);

/* The time step containing t (floor(t / period), T0 = 0). t must be >= 0.
 * Returns 0 or TOTP_EINVAL. */
int totp_step(const struct totp_params *p, time_t t, uint64_t *step);

/* The code for time t, zero-padded to p->digits digits, NUL-terminated.
 * Returns 0, TOTP_EINVAL or TOTP_EINTERNAL. */
int totp_generate(const unsigned char *key, size_t keylen, const struct totp_params *p, time_t t,
		  char out[TOTP_CODE_SIZE]);

/* Checks a code a user typed against steps now-window .. now+window.
 * The code may contain ASCII spaces and full-width digits (０-９, as a
 * Japanese IME produces), at most TOTP_INPUT_MAX bytes.
 * Replay protection: last_step is the highest step this account has already
 * logged in with (0 when none); a code that only matches steps <= last_step is
 * refused with TOTP_EREPLAY. On success returns 0 and stores the matched step
 * in *matched_step: the caller must save it as the account's new last_step
 * (atomically, e.g. UPDATE … WHERE last_step < ?) before granting access.
 * Otherwise returns TOTP_EMISMATCH, TOTP_EREPLAY, TOTP_EFORMAT, TOTP_EINVAL or
 * TOTP_EINTERNAL. All candidates are compared in constant time. */
int totp_verify(const unsigned char *key, size_t keylen, const struct totp_params *p,
		const char *code, size_t codelen, time_t now, uint64_t last_step,
		uint64_t *matched_step);

/* n random bytes for a new secret (n = TOTP_SECRET_BYTES normally).
 * Returns 0 or TOTP_EINTERNAL. */
int totp_secret_new(unsigned char *key, size_t n);

/* RFC 4648 base32 (alphabet A-Z2-7) of in[0..n) into out, NUL-terminated,
 * with "=" padding when pad is true. Room needed: 8*ceil(n/5)+1 bytes.
 * Returns 0 or TOTP_ESPACE. */
int totp_base32_encode(const unsigned char *in, size_t n, bool pad, char *out, size_t outsz);

/* Decodes base32: letters in either case, padding optional but correct when
 * present, no other characters, no stray bits. Returns 0 with the byte count
 * in *outlen, TOTP_EINVAL or TOTP_ESPACE. */
int totp_base32_decode(const char *s, size_t len, unsigned char *out, size_t outsz, size_t *outlen);

/* Appends to out the Key URI an authenticator app reads from a QR code:
 * otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=…&digits=…&period=…
 * issuer and account are NUL-terminated clean one-line UTF-8 (Japanese is
 * fine, it is percent-encoded), 1..256 bytes, without ':'. Returns 0,
 * TOTP_EINVAL, or -E2BIG from the buffer (out then holds a partial URI). */
int totp_uri(struct buf *out, const char *issuer, const char *account, const unsigned char *key,
	     size_t keylen, const struct totp_params *p);

/* "SHA1", "SHA256", "SHA512" (as in otpauth URIs), and the reverse
 * (case-insensitive). totp_alg_parse returns 0 or TOTP_EINVAL. */
const char *totp_alg_name(enum totp_alg alg);
int totp_alg_parse(const char *name, enum totp_alg *alg);

/* Japanese sentence for a user; English name for logs. Never NULL. */
const char *totp_message_ja(int rc);
const char *totp_strerror(int rc);

#endif
