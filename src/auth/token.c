/* Random tokens, their keyed BLAKE2b storage hash and the encoders they need
 * (see token.h). All randomness comes from libsodium's randombytes_buf, which
 * reads the kernel CSPRNG (getrandom). */
#include "auth/token.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

static int ensure_sodium(void)
{
	/* sodium_init() is idempotent and thread-safe; 1 means "already done". */
	return sodium_init() < 0 ? TOKEN_EINIT : 0;
}

int token_random(void *buf, size_t n)
{
	int rc = ensure_sodium();
	if (rc)
		return rc;
	randombytes_buf(buf, n);
	return 0;
}

int token_new(char out[TOKEN_STR_SIZE])
{
	unsigned char raw[TOKEN_BYTES];
	int rc = token_random(raw, sizeof raw);
	if (rc)
		goto out;
	rc = token_b64url_encode(raw, sizeof raw, out, TOKEN_STR_SIZE);
out:
	sodium_memzero(raw, sizeof raw);
	return rc;
}

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

bool token_format_ok(const char *s, size_t len)
{
	if (!s || len != TOKEN_STR_LEN)
		return false;
	int v = 0;
	for (size_t i = 0; i < len; i++) {
		v = b64url_value((unsigned char)s[i]);
		if (v < 0)
			return false;
	}
	/* 43 characters carry 258 bits for 256: the last two must be zero. */
	return (v & 3) == 0;
}

int token_hash(const unsigned char *key, size_t keylen, const char *token, size_t len,
	       unsigned char out[TOKEN_HASH_BYTES])
{
	if (!key || keylen < TOKEN_KEY_MIN || keylen > TOKEN_KEY_MAX || (!token && len))
		return TOKEN_EINVAL;
	int rc = ensure_sodium();
	if (rc)
		return rc;
	_Static_assert(TOKEN_KEY_MIN >= crypto_generichash_KEYBYTES_MIN, "key floor");
	_Static_assert(TOKEN_KEY_MAX <= crypto_generichash_KEYBYTES_MAX, "key ceiling");
	if (crypto_generichash(out, TOKEN_HASH_BYTES, (const unsigned char *)token, len, key,
			       keylen) != 0)
		return TOKEN_EINVAL;
	return 0;
}

int token_hash_hex(const unsigned char *key, size_t keylen, const char *token, size_t len,
		   char out[TOKEN_HASH_HEX_SIZE])
{
	unsigned char h[TOKEN_HASH_BYTES];
	int rc = token_hash(key, keylen, token, len, h);
	if (rc == 0)
		rc = token_hex_encode(h, sizeof h, out, TOKEN_HASH_HEX_SIZE);
	sodium_memzero(h, sizeof h);
	return rc;
}

bool token_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return false;
	if (alen == 0)
		return true;
	return sodium_memcmp(a, b, alen) == 0;
}

int token_hex_encode(const void *bin, size_t n, char *out, size_t outsz)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = bin;
	if (n > (SIZE_MAX - 1) / 2 || outsz < 2 * n + 1)
		return TOKEN_ESPACE;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int token_hex_decode(const char *hex, size_t len, unsigned char *out, size_t outsz, size_t *outlen)
{
	if ((!hex && len) || len % 2)
		return TOKEN_EINVAL;
	if (outsz < len / 2)
		return TOKEN_ESPACE;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_value((unsigned char)hex[i]);
		int lo = hex_value((unsigned char)hex[i + 1]);
		if (hi < 0 || lo < 0)
			return TOKEN_EINVAL;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	if (outlen)
		*outlen = len / 2;
	return 0;
}

int token_b64url_encode(const void *bin, size_t n, char *out, size_t outsz)
{
	const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	if (n > SIZE_MAX / 2 || outsz < sodium_base64_ENCODED_LEN(n, variant))
		return TOKEN_ESPACE;
	sodium_bin2base64(out, outsz, bin, n, variant);
	return 0;
}

int token_b64url_decode(const char *s, size_t len, unsigned char *out, size_t outsz, size_t *outlen)
{
	size_t n = 0;
	const char *end = NULL;
	if (!s && len)
		return TOKEN_EINVAL;
	/* Upper bound of the decoded size, checked first so a short buffer is
	 * reported as such and not as bad input. */
	if (outsz < len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0))
		return TOKEN_ESPACE;
	if (len == 0) {
		if (outlen)
			*outlen = 0;
		return 0;
	}
	/* libsodium rejects stray bits and impossible lengths itself; asking for
	 * the end pointer lets us insist that every character was consumed. */
	if (sodium_base642bin(out, outsz, s, len, NULL, &n, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != s + len)
		return TOKEN_EINVAL;
	if (outlen)
		*outlen = n;
	return 0;
}

const char *token_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case TOKEN_EINIT:
		return "libsodium initialisation failed";
	case TOKEN_EINVAL:
		return "invalid argument or encoding";
	case TOKEN_ESPACE:
		return "output buffer too small";
	default:
		return "unknown token error";
	}
}
