/* RFC 6238 TOTP, RFC 4648 base32 and otpauth:// URIs (see totp.h).
 * HMAC comes from OpenSSL 3's EVP_Q_mac; randomness and the constant-time
 * comparison from libsodium. */
#include "auth/totp.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"

#define TOTP_WINDOW_MAX 10
#define TOTP_PERIOD_MAX 3600
#define TOTP_LABEL_MAX 256

static const char *const alg_names[] = {"SHA1", "SHA256", "SHA512"};

const char *totp_alg_name(enum totp_alg alg)
{
	if ((unsigned)alg >= sizeof alg_names / sizeof alg_names[0])
		return "SHA1";
	return alg_names[alg];
}

int totp_alg_parse(const char *name, enum totp_alg *alg)
{
	for (unsigned i = 0; name && i < sizeof alg_names / sizeof alg_names[0]; i++) {
		if (strcasecmp(name, alg_names[i]) == 0) {
			*alg = (enum totp_alg)i;
			return 0;
		}
	}
	return TOTP_EINVAL;
}

static bool params_ok(const struct totp_params *p)
{
	return p && (unsigned)p->alg <= TOTP_SHA512 && p->digits >= 6 && p->digits <= 8 &&
	       p->period >= 1 && p->period <= TOTP_PERIOD_MAX && p->window <= TOTP_WINDOW_MAX;
}

static bool key_ok(const unsigned char *key, size_t keylen)
{
	return key && keylen >= TOTP_KEY_MIN && keylen <= TOTP_KEY_MAX;
}

static const uint32_t pow10_table[] = {1,      10,      100,      1000,     10000,
				       100000, 1000000, 10000000, 100000000};

int totp_hotp(const unsigned char *key, size_t keylen, enum totp_alg alg, unsigned digits,
	      uint64_t counter, uint32_t *out)
{
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	int rc = TOTP_EINVAL;

	if (!key_ok(key, keylen) || (unsigned)alg > TOTP_SHA512 || digits < 6 || digits > 8)
		goto out;
	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	if (!EVP_Q_mac(NULL, "HMAC", NULL, alg_names[alg], NULL, key, keylen, msg, sizeof msg, mac,
		       sizeof mac, &maclen) ||
	    maclen < 20) {
		ERR_clear_error();
		rc = TOTP_EINTERNAL;
		goto out;
	}
	/* RFC 4226 §5.3 dynamic truncation: the low nibble of the last byte
	 * picks where 31 bits are read (offset + 3 <= 15 + 3 < maclen). */
	unsigned off = mac[maclen - 1] & 0x0f;
	uint32_t bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
		       (uint32_t)mac[off + 2] << 8 | (uint32_t)mac[off + 3];
	*out = bin % pow10_table[digits];
	rc = 0;
out:
	OPENSSL_cleanse(mac, sizeof mac);
	return rc;
}

int totp_step(const struct totp_params *p, time_t t, uint64_t *step)
{
	if (!params_ok(p) || t < 0)
		return TOTP_EINVAL;
	*step = (uint64_t)t / p->period;
	return 0;
}

static void format_code(uint32_t v, unsigned digits, char out[TOTP_CODE_SIZE])
{
	for (unsigned i = digits; i > 0; i--) {
		out[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	out[digits] = '\0';
}

int totp_generate(const unsigned char *key, size_t keylen, const struct totp_params *p, time_t t,
		  char out[TOTP_CODE_SIZE])
{
	uint64_t step;
	uint32_t v;
	int rc = totp_step(p, t, &step);
	if (rc)
		return rc;
	rc = totp_hotp(key, keylen, p->alg, p->digits, step, &v);
	if (rc)
		return rc;
	format_code(v, p->digits, out);
	return 0;
}

/* Reduces what the user typed to ASCII digits: ASCII spaces are skipped and
 * full-width digits U+FF10..U+FF19 (EF BC 90..99) become 0..9. Returns the
 * digit count, or -1 on anything else or more than max digits. */
static int normalize_code(const char *s, size_t n, char *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		char d;
		if (c == ' ') {
			i++;
			continue;
		}
		if (c >= '0' && c <= '9') {
			d = (char)c;
			i++;
		} else if (c == 0xEF && i + 2 < n && (unsigned char)s[i + 1] == 0xBC &&
			   (unsigned char)s[i + 2] >= 0x90 && (unsigned char)s[i + 2] <= 0x99) {
			d = (char)('0' + ((unsigned char)s[i + 2] - 0x90));
			i += 3;
		} else {
			return -1;
		}
		if (k == max)
			return -1;
		out[k++] = d;
	}
	return (int)k;
}

int totp_verify(const unsigned char *key, size_t keylen, const struct totp_params *p,
		const char *code, size_t codelen, time_t now, uint64_t last_step,
		uint64_t *matched_step)
{
	char typed[TOTP_CODE_SIZE], want[TOTP_CODE_SIZE];
	uint64_t step, found = 0;
	bool fresh = false, replayed = false;
	int rc;

	if (!params_ok(p) || !key_ok(key, keylen) || (!code && codelen))
		return TOTP_EINVAL;
	if (codelen > TOTP_INPUT_MAX ||
	    normalize_code(code, codelen, typed, p->digits) != (int)p->digits)
		return TOTP_EFORMAT;
	typed[p->digits] = '\0';
	rc = totp_step(p, now, &step);
	if (rc)
		return rc;

	/* Every step in the window is computed and compared, whatever matched
	 * earlier, so timing says nothing about which step (if any) matched. */
	uint64_t lo = step >= p->window ? step - p->window : 0;
	uint64_t hi = step + p->window;
	for (uint64_t s = lo; s <= hi; s++) {
		uint32_t v;
		rc = totp_hotp(key, keylen, p->alg, p->digits, s, &v);
		if (rc)
			goto out;
		format_code(v, p->digits, want);
		bool eq = CRYPTO_memcmp(typed, want, p->digits) == 0;
		if (eq && s > last_step && !fresh) {
			fresh = true;
			found = s;
		} else if (eq && s <= last_step) {
			replayed = true;
		}
	}
	if (fresh) {
		*matched_step = found;
		rc = 0;
	} else {
		rc = replayed ? TOTP_EREPLAY : TOTP_EMISMATCH;
	}
out:
	sodium_memzero(typed, sizeof typed);
	sodium_memzero(want, sizeof want);
	return rc;
}

int totp_secret_new(unsigned char *key, size_t n)
{
	if (sodium_init() < 0)
		return TOTP_EINTERNAL;
	randombytes_buf(key, n);
	return 0;
}

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int totp_base32_encode(const unsigned char *in, size_t n, bool pad, char *out, size_t outsz)
{
	if (n > (SIZE_MAX / 8 - 5))
		return TOTP_ESPACE;
	size_t full = (n + 4) / 5 * 8;
	size_t bits = n * 8;
	size_t nchars = (bits + 4) / 5;
	if (outsz < (pad ? full : nchars) + 1)
		return TOTP_ESPACE;
	size_t k = 0;
	uint32_t acc = 0;
	unsigned nacc = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8 | in[i]) & 0xfff;
		nacc += 8;
		while (nacc >= 5) {
			nacc -= 5;
			out[k++] = b32_alphabet[(acc >> nacc) & 31];
		}
	}
	if (nacc > 0)
		out[k++] = b32_alphabet[(acc << (5 - nacc)) & 31];
	while (pad && k < full)
		out[k++] = '=';
	out[k] = '\0';
	return 0;
}

static int b32_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int totp_base32_decode(const char *s, size_t len, unsigned char *out, size_t outsz, size_t *outlen)
{
	if (!s && len)
		return TOTP_EINVAL;
	/* Padding: only at the end, only to a multiple of 8, only as much as
	 * the data length calls for (checked below via the remainder). */
	size_t n = len;
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n < len && (len % 8 != 0 || len - n > 6))
		return TOTP_EINVAL;
	/* 8 characters carry 5 bytes; a final group of 2, 4, 5 or 7 characters
	 * carries 1, 2, 3 or 4 bytes; 1, 3 or 6 characters cannot occur. */
	static const signed char tail_bytes[8] = {0, -1, 1, -1, 2, 3, -1, 4};
	int tail = tail_bytes[n % 8];
	if (tail < 0)
		return TOTP_EINVAL;
	if (n < len && len - n != (8 - n % 8) % 8)
		return TOTP_EINVAL;
	size_t need = n / 8 * 5 + (size_t)tail;
	if (outsz < need)
		return TOTP_ESPACE;

	uint32_t acc = 0;
	unsigned nacc = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b32_value((unsigned char)s[i]);
		if (v < 0)
			return TOTP_EINVAL;
		acc = (acc << 5 | (uint32_t)v) & 0xfff;
		nacc += 5;
		if (nacc >= 8) {
			nacc -= 8;
			out[k++] = (unsigned char)(acc >> nacc);
		}
	}
	/* Leftover bits must be zero: one encoding per byte string. */
	if (nacc && (acc & ((1u << nacc) - 1)) != 0)
		return TOTP_EINVAL;
	if (outlen)
		*outlen = k;
	return 0;
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static int put_escaped(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int rc;
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			rc = buf_putc(out, (char)*p);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			rc = buf_append(out, e, 3);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static bool label_ok(const char *s)
{
	if (!s)
		return false;
	size_t n = strnlen(s, TOTP_LABEL_MAX + 1);
	return n >= 1 && n <= TOTP_LABEL_MAX && utf8_clean_line(s, n) && !memchr(s, ':', n);
}

int totp_uri(struct buf *out, const char *issuer, const char *account, const unsigned char *key,
	     size_t keylen, const struct totp_params *p)
{
	/* TOTP_KEY_MAX bytes take at most 8 * 26 characters of base32. */
	char secret[(TOTP_KEY_MAX + 4) / 5 * 8 + 1];
	int rc = TOTP_EINVAL;

	if (!label_ok(issuer) || !label_ok(account) || !key_ok(key, keylen) || !params_ok(p))
		goto out;
	rc = totp_base32_encode(key, keylen, false, secret, sizeof secret);
	if (rc)
		goto out;
	/* Label "issuer:account" and the issuer parameter both carry the
	 * issuer, as Google's Key Uri Format recommends for old and new apps. */
	if ((rc = buf_puts(out, "otpauth://totp/")) || (rc = put_escaped(out, issuer)) ||
	    (rc = buf_putc(out, ':')) || (rc = put_escaped(out, account)) ||
	    (rc = buf_puts(out, "?secret=")) || (rc = buf_puts(out, secret)) ||
	    (rc = buf_puts(out, "&issuer=")) || (rc = put_escaped(out, issuer)) ||
	    (rc = buf_printf(out, "&algorithm=%s&digits=%u&period=%u", alg_names[p->alg], p->digits,
			     p->period)))
		goto out;
	rc = 0;
out:
	sodium_memzero(secret, sizeof secret);
	return rc;
}

const char *totp_message_ja(int rc)
{
	switch (rc) {
	case 0:
		return "";
	case TOTP_EMISMATCH:
		return "確認コードが正しくありません。認証アプリに表示されている最新のコードを入力してください。";
	case TOTP_EREPLAY:
		return "この確認コードは既に使用されました。次のコードが表示されるまでお待ちください。";
	case TOTP_EFORMAT:
		return "確認コードは数字6桁（設定によっては8桁）で入力してください。";
	case TOTP_EINVAL:
		return "入力内容に誤りがあります。";
	default:
		return "システムエラーが発生しました。しばらくしてからもう一度お試しください。";
	}
}

const char *totp_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case TOTP_EMISMATCH:
		return "code does not match";
	case TOTP_EREPLAY:
		return "code matches an already used time step";
	case TOTP_EFORMAT:
		return "code is not the expected number of digits";
	case TOTP_EINVAL:
		return "invalid argument";
	case TOTP_ESPACE:
		return "output buffer too small";
	case TOTP_EINTERNAL:
		return "crypto library failure";
	case -E2BIG:
		return "output buffer limit reached";
	default:
		return "unknown totp error";
	}
}
