/* Certificate log-in checks on OpenSSL 3 (see cert.h): reading PEM/DER,
 * building and judging the chain against the trusted CAs and CRLs, extracting
 * what is stored, and verifying the challenge signature. */
#include "auth/cert.h"

#include <errno.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"

#define CERT_STORE_MAX_OBJECTS 10000 /* CAs or CRLs in one trust-store file */
#define RSA_BITS_MIN 2048
#define RSA_BITS_MAX 8192 /* beyond this a key is a denial-of-service risk */

struct cert_store {
	X509_STORE *x509;
	size_t ncas, ncrls;
	time_t crl_next_update;
};

static void set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	if (!err || !errsz)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* Never prompt on a terminal for a pass phrase: nothing we read is encrypted. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* True when the last OpenSSL error only says "no further PEM block". */
static bool pem_at_end(void)
{
	unsigned long e = ERR_peek_last_error();
	return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* DER starts with a SEQUENCE tag; anything else is read as PEM. Leaves the
 * BIO rewound. Returns 1 for DER, 0 for PEM, -1 when empty or unreadable. */
static int bio_is_der(BIO *bio)
{
	unsigned char c;
	int n = BIO_read(bio, &c, 1);
	/* BIO_reset: memory BIOs return 1 on success, file BIOs 0; both
	 * return -1 on failure. */
	if (n != 1 || BIO_reset(bio) < 0)
		return -1;
	return c == 0x30;
}

static bool bio_at_eof(BIO *bio)
{
	unsigned char c;
	return BIO_read(bio, &c, 1) <= 0;
}

/* Appends the certificates in bio to out: every CERTIFICATE block of a PEM
 * stream (others skipped), or one DER certificate with nothing after it.
 * Stops after max PEM blocks (first_only: after one, ignoring the rest). Returns 0,
 * CERT_EPARSE (nothing found or a malformed block), CERT_ETOOLARGE. */
static int bio_read_certs(BIO *bio, STACK_OF(X509) * out, size_t max, bool first_only)
{
	int der = bio_is_der(bio);
	size_t n = 0;
	int rc = CERT_EPARSE;

	if (der < 0)
		goto out;
	if (der) {
		X509 *x = d2i_X509_bio(bio, NULL);
		if (!x)
			goto out;
		if (!bio_at_eof(bio) || !sk_X509_push(out, x)) {
			X509_free(x);
			goto out;
		}
		rc = 0;
		goto out;
	}
	for (;;) {
		X509 *x = PEM_read_bio_X509(bio, NULL, no_password, NULL);
		if (!x) {
			if (n > 0 && pem_at_end())
				rc = 0;
			goto out;
		}
		if (n == max) {
			X509_free(x);
			rc = CERT_ETOOLARGE;
			goto out;
		}
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			rc = CERT_EINTERNAL;
			goto out;
		}
		n++;
		if (first_only) {
			rc = 0;
			goto out;
		}
	}
out:
	ERR_clear_error();
	return rc;
}

static int bio_read_crls(BIO *bio, STACK_OF(X509_CRL) * out, size_t max)
{
	int der = bio_is_der(bio);
	size_t n = 0;
	int rc = CERT_EPARSE;

	if (der < 0)
		goto out;
	if (der) {
		X509_CRL *c = d2i_X509_CRL_bio(bio, NULL);
		if (!c)
			goto out;
		if (!bio_at_eof(bio) || !sk_X509_CRL_push(out, c)) {
			X509_CRL_free(c);
			goto out;
		}
		rc = 0;
		goto out;
	}
	for (;;) {
		X509_CRL *c = PEM_read_bio_X509_CRL(bio, NULL, no_password, NULL);
		if (!c) {
			if (n > 0 && pem_at_end())
				rc = 0;
			goto out;
		}
		if (n == max || !sk_X509_CRL_push(out, c)) {
			X509_CRL_free(c);
			rc = n == max ? CERT_ETOOLARGE : CERT_EINTERNAL;
			goto out;
		}
		n++;
	}
out:
	ERR_clear_error();
	return rc;
}

/* Reads a client-supplied certificate input into a stack: leaf first, then
 * up to CERT_CHAIN_MAX intermediates (or just the leaf when first_only). */
static int read_input(const char *data, size_t len, bool first_only, STACK_OF(X509) * *out)
{
	STACK_OF(X509) *sk = NULL;
	BIO *bio = NULL;
	int rc;

	*out = NULL;
	if (len > CERT_INPUT_MAX)
		return CERT_ETOOLARGE;
	if (!data || len == 0)
		return CERT_EPARSE;
	rc = CERT_EINTERNAL;
	sk = sk_X509_new_null();
	bio = BIO_new_mem_buf(data, (int)len);
	if (!sk || !bio)
		goto out;
	rc = bio_read_certs(bio, sk, CERT_CHAIN_MAX + 1, first_only);
	if (rc)
		goto out;
	*out = sk;
	sk = NULL;
out:
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return rc;
}

int cert_parse(const char *data, size_t len, X509 **out)
{
	STACK_OF(X509) *sk = NULL;
	int rc = read_input(data, len, true, &sk);
	if (rc)
		return rc;
	*out = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return 0;
}

/* ---- information for storage ---- */

static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return CERT_EPARSE;
	*out = timegm(&tm);
	return 0;
}

/* One line RFC 2253 rendering, UTF-8 kept as is (controls are escaped by
 * the RFC 2253 flags), into out[0..CERT_DN_SIZE). */
static int name_to_text(const X509_NAME *name, char out[CERT_DN_SIZE])
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	int rc = CERT_EINTERNAL;
	if (!bio)
		goto out;
	rc = CERT_EPARSE;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	long n = BIO_get_mem_data(bio, &p);
	if (n < 0 || n >= CERT_DN_SIZE || !utf8_clean_line(p, (size_t)n) ||
	    memchr(p, '\0', (size_t)n))
		goto out;
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	rc = 0;
out:
	BIO_free(bio);
	return rc;
}

static int common_name(const X509_NAME *name, char out[CERT_CN_SIZE])
{
	unsigned char *utf8 = NULL;
	int rc = CERT_EPARSE;
	int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

	out[0] = '\0';
	if (idx < 0)
		return 0;
	const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, idx);
	int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
	if (n < 0 || n >= CERT_CN_SIZE || !utf8_clean_line((const char *)utf8, (size_t)n) ||
	    memchr(utf8, '\0', (size_t)n))
		goto out;
	memcpy(out, utf8, (size_t)n);
	out[n] = '\0';
	rc = 0;
out:
	OPENSSL_free(utf8);
	return rc;
}

static void hex_lower(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		*out++ = digits[p[i] >> 4];
		*out++ = digits[p[i] & 15];
	}
	*out = '\0';
}

static int serial_to_hex(const ASN1_INTEGER *serial, char out[CERT_SERIAL_HEX_SIZE])
{
	int n = ASN1_STRING_length(serial);
	const unsigned char *p = ASN1_STRING_get0_data(serial);
	if (n < 0 || n > CERT_SERIAL_MAX_BYTES)
		return CERT_EPARSE;
	if (n == 0) {
		memcpy(out, "00", 3);
		return 0;
	}
	if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER)
		*out++ = '-';
	hex_lower(p, (size_t)n, out);
	return 0;
}

static void key_describe(X509 *x, struct cert_info *info)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	char group[64];
	size_t glen = 0;

	info->key_type = CERT_KEY_NONE;
	info->key_bits = 0;
	if (!pk)
		goto out;
	info->key_bits = EVP_PKEY_get_bits(pk) > 0 ? (unsigned)EVP_PKEY_get_bits(pk) : 0;
	if (EVP_PKEY_is_a(pk, "RSA")) {
		info->key_type = CERT_KEY_RSA;
	} else if (EVP_PKEY_is_a(pk, "EC") &&
		   EVP_PKEY_get_group_name(pk, group, sizeof group, &glen) == 1 &&
		   OBJ_sn2nid(group) == NID_X9_62_prime256v1) {
		/* Named curve only: explicit curve parameters have no group
		 * name and are refused. */
		info->key_type = CERT_KEY_EC_P256;
	}
out:
	ERR_clear_error();
}

int cert_info_get(X509 *x, struct cert_info *info)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc;

	memset(info, 0, sizeof *info);
	if (!x)
		return CERT_EPARSE;
	if ((rc = common_name(X509_get_subject_name(x), info->subject_cn)) ||
	    (rc = name_to_text(X509_get_subject_name(x), info->subject)) ||
	    (rc = name_to_text(X509_get_issuer_name(x), info->issuer)) ||
	    (rc = serial_to_hex(X509_get0_serialNumber(x), info->serial_hex)) ||
	    (rc = asn1_time_to_time_t(X509_get0_notBefore(x), &info->not_before)) ||
	    (rc = asn1_time_to_time_t(X509_get0_notAfter(x), &info->not_after)))
		goto out;
	rc = CERT_EINTERNAL;
	if (!X509_digest(x, EVP_sha256(), md, &mdlen) || mdlen != 32)
		goto out;
	hex_lower(md, mdlen, info->fingerprint);
	key_describe(x, info);
	rc = 0;
out:
	ERR_clear_error();
	return rc;
}

static bool key_allowed(const struct cert_info *info)
{
	return (info->key_type == CERT_KEY_RSA && info->key_bits >= RSA_BITS_MIN &&
		info->key_bits <= RSA_BITS_MAX) ||
	       info->key_type == CERT_KEY_EC_P256;
}

/* An end-entity certificate meant for signatures: not a CA, and when
 * keyUsage is present it allows digitalSignature and not keyCertSign. */
static int usage_check(X509 *x, char *err, size_t errsz)
{
	uint32_t flags = X509_get_extension_flags(x);
	uint32_t ku = X509_get_key_usage(x);

	if (flags & EXFLAG_INVALID) {
		set_err(err, errsz, "malformed certificate extensions");
		return CERT_EPARSE;
	}
	if (flags & EXFLAG_CA) {
		set_err(err, errsz, "certificate is a CA certificate (basicConstraints cA)");
		return CERT_EUSAGE;
	}
	if (ku != UINT32_MAX && (!(ku & KU_DIGITAL_SIGNATURE) || (ku & KU_KEY_CERT_SIGN))) {
		set_err(err, errsz, "keyUsage does not allow digitalSignature only use");
		return CERT_EUSAGE;
	}
	return 0;
}

/* ---- trust store ---- */

static int add_crls(struct cert_store *st, STACK_OF(X509) * cas, STACK_OF(X509_CRL) * crls,
		    char *err, size_t errsz)
{
	for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);
		bool signed_ok = false;
		for (int j = 0; j < sk_X509_num(cas) && !signed_ok; j++) {
			X509 *ca = sk_X509_value(cas, j);
			EVP_PKEY *pk = X509_get0_pubkey(ca);
			signed_ok = X509_NAME_cmp(X509_get_subject_name(ca),
						  X509_CRL_get_issuer(crl)) == 0 &&
				    pk && X509_CRL_verify(crl, pk) == 1;
		}
		ERR_clear_error();
		if (!signed_ok) {
			set_err(err, errsz, "CRL %d is not signed by any trusted CA", i + 1);
			return CERT_ELOAD;
		}
		time_t next;
		const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
		if (nu && asn1_time_to_time_t(nu, &next) == 0 &&
		    (st->crl_next_update == 0 || next < st->crl_next_update))
			st->crl_next_update = next;
		if (!X509_STORE_add_crl(st->x509, crl))
			return CERT_EINTERNAL;
		st->ncrls++;
	}
	return 0;
}

static struct cert_store *store_build(BIO *ca_bio, BIO *crl_bio, char *err, size_t errsz)
{
	struct cert_store *st = NULL, *ret = NULL;
	STACK_OF(X509) *cas = sk_X509_new_null();
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	int rc;

	if (!cas || !crls || !(st = OPENSSL_zalloc(sizeof *st)) || !(st->x509 = X509_STORE_new())) {
		set_err(err, errsz, "out of memory");
		goto out;
	}
	rc = bio_read_certs(ca_bio, cas, CERT_STORE_MAX_OBJECTS, false);
	if (rc) {
		set_err(err, errsz, "CA file: %s",
			rc == CERT_ETOOLARGE ? "too many certificates" :
					       "no certificate found, or a malformed one");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(cas); i++) {
		X509 *ca = sk_X509_value(cas, i);
		if (X509_check_ca(ca) == 0) {
			set_err(err, errsz, "CA file: certificate %d is not a CA certificate",
				i + 1);
			goto out;
		}
		if (!X509_STORE_add_cert(st->x509, ca)) {
			set_err(err, errsz, "CA file: certificate %d could not be added", i + 1);
			goto out;
		}
		st->ncas++;
	}
	if (crl_bio) {
		rc = bio_read_crls(crl_bio, crls, CERT_STORE_MAX_OBJECTS);
		if (rc) {
			set_err(err, errsz, "CRL file: no CRL found, or a malformed one");
			goto out;
		}
		if (add_crls(st, cas, crls, err, errsz))
			goto out;
	}
	/* Every certificate in the CA file is a trust anchor in its own right
	 * (PARTIAL_CHAIN), so a deployment may trust an issuing CA without
	 * its root. With CRLs loaded, the leaf's issuer must have a current
	 * one: no CRL means "status unknown", which fails closed. */
	unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
	if (st->ncrls)
		flags |= X509_V_FLAG_CRL_CHECK;
	if (!X509_STORE_set_flags(st->x509, flags) ||
	    !X509_STORE_set_depth(st->x509, CERT_CHAIN_MAX + 1)) {
		set_err(err, errsz, "cannot set verification flags");
		goto out;
	}
	ret = st;
	st = NULL;
out:
	cert_store_free(st);
	sk_X509_pop_free(cas, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	ERR_clear_error();
	return ret;
}

struct cert_store *cert_store_load(const char *ca_path, const char *crl_path, char *err,
				   size_t errsz)
{
	struct cert_store *st = NULL;
	BIO *ca = NULL, *crl = NULL;

	if (!ca_path) {
		set_err(err, errsz, "no CA file given");
		goto out;
	}
	if (!(ca = BIO_new_file(ca_path, "rb"))) {
		set_err(err, errsz, "cannot open CA file %s", ca_path);
		goto out;
	}
	if (crl_path && !(crl = BIO_new_file(crl_path, "rb"))) {
		set_err(err, errsz, "cannot open CRL file %s", crl_path);
		goto out;
	}
	st = store_build(ca, crl, err, errsz);
out:
	BIO_free(ca);
	BIO_free(crl);
	ERR_clear_error();
	return st;
}

struct cert_store *cert_store_load_mem(const char *ca, size_t ca_len, const char *crl,
				       size_t crl_len, char *err, size_t errsz)
{
	struct cert_store *st = NULL;
	BIO *cb = NULL, *rb = NULL;

	if (!ca || ca_len == 0 || ca_len > INT_MAX ||
	    (crl && (crl_len == 0 || crl_len > INT_MAX))) {
		set_err(err, errsz, "empty or oversized CA/CRL data");
		goto out;
	}
	if (!(cb = BIO_new_mem_buf(ca, (int)ca_len)) ||
	    (crl && !(rb = BIO_new_mem_buf(crl, (int)crl_len)))) {
		set_err(err, errsz, "out of memory");
		goto out;
	}
	st = store_build(cb, rb, err, errsz);
out:
	BIO_free(cb);
	BIO_free(rb);
	ERR_clear_error();
	return st;
}

void cert_store_free(struct cert_store *st)
{
	if (!st)
		return;
	X509_STORE_free(st->x509);
	OPENSSL_free(st);
}

size_t cert_store_ca_count(const struct cert_store *st)
{
	return st ? st->ncas : 0;
}

size_t cert_store_crl_count(const struct cert_store *st)
{
	return st ? st->ncrls : 0;
}

time_t cert_store_crl_next_update(const struct cert_store *st)
{
	return st ? st->crl_next_update : 0;
}

/* ---- verification ---- */

static int map_verify_error(int e, int depth)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		/* An expired CA is the deployment's problem, not the resident's. */
		return depth == 0 ? CERT_EEXPIRED : CERT_EUNTRUSTED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return depth == 0 ? CERT_ENOTYETVALID : CERT_EUNTRUSTED;
	case X509_V_ERR_CERT_REVOKED:
		return CERT_EREVOKED;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
	case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
		return CERT_ECRL;
	case X509_V_ERR_EE_KEY_TOO_SMALL:
		return CERT_EKEYTYPE;
	case X509_V_ERR_OUT_OF_MEM:
		return CERT_EINTERNAL;
	default:
		return CERT_EUNTRUSTED;
	}
}

int cert_verify(const struct cert_store *st, const char *leaf, size_t len, time_t now,
		struct cert_info *info, char *err, size_t errsz)
{
	struct cert_info local;
	STACK_OF(X509) *sk = NULL;
	X509 *x = NULL;
	X509_STORE_CTX *ctx = NULL;
	int rc;

	if (!info)
		info = &local;
	memset(info, 0, sizeof *info);
	set_err(err, errsz, "%s", "");
	if (!st) {
		set_err(err, errsz, "no trust store");
		return CERT_EINTERNAL;
	}
	rc = read_input(leaf, len, false, &sk);
	if (rc) {
		set_err(err, errsz, "%s", cert_strerror(rc));
		goto out;
	}
	x = sk_X509_shift(sk);
	rc = cert_info_get(x, info);
	if (rc) {
		set_err(err, errsz, "certificate fields cannot be represented");
		goto out;
	}
	if (!key_allowed(info)) {
		set_err(err, errsz, "key type %s, %u bits is not allowed",
			info->key_type == CERT_KEY_RSA     ? "RSA" :
			info->key_type == CERT_KEY_EC_P256 ? "EC P-256" :
							     "other",
			info->key_bits);
		rc = CERT_EKEYTYPE;
		goto out;
	}
	rc = usage_check(x, err, errsz);
	if (rc)
		goto out;

	rc = CERT_EINTERNAL;
	if (!(ctx = X509_STORE_CTX_new()) || !X509_STORE_CTX_init(ctx, st->x509, x, sk))
		goto out;
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(vp, now);
	/* Level 2: at least 112-bit security for every key and signature in
	 * the chain (RSA >= 2048, no SHA-1, no MD5). */
	X509_VERIFY_PARAM_set_auth_level(vp, 2);
	if (X509_verify_cert(ctx) == 1) {
		rc = 0;
		goto out;
	}
	int e = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	rc = map_verify_error(e, depth);
	set_err(err, errsz, "depth %d: %s", depth, X509_verify_cert_error_string(e));
out:
	X509_STORE_CTX_free(ctx);
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return rc;
}

int cert_verify_signature(const char *leaf, size_t len, const unsigned char *msg, size_t msglen,
			  const unsigned char *sig, size_t siglen)
{
	X509 *x = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	struct cert_info info;
	int rc = cert_parse(leaf, len, &x);

	if (rc)
		goto out;
	rc = cert_info_get(x, &info);
	if (rc)
		goto out;
	rc = CERT_EKEYTYPE;
	if (!key_allowed(&info))
		goto out;
	rc = CERT_ESIGNATURE;
	if (!sig || siglen == 0 || siglen > CERT_SIG_MAX || (!msg && msglen))
		goto out;
	rc = CERT_EINTERNAL;
	if (!(md = EVP_MD_CTX_new()) || EVP_DigestVerifyInit_ex(md, &pctx, "SHA256", NULL, NULL,
								X509_get0_pubkey(x), NULL) != 1)
		goto out;
	if (info.key_type == CERT_KEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	/* 1 is a valid signature; 0 a wrong one; < 0 a malformed one. */
	rc = EVP_DigestVerify(md, sig, siglen, msglen ? msg : (const unsigned char *)"", msglen) ==
			     1 ?
		     0 :
		     CERT_ESIGNATURE;
out:
	EVP_MD_CTX_free(md);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

int cert_to_pem(const char *in, size_t len, struct buf *out)
{
	STACK_OF(X509) *sk = NULL;
	BIO *bio = NULL;
	char *p;
	int rc = read_input(in, len, false, &sk);

	if (rc)
		goto out;
	rc = CERT_EINTERNAL;
	if (!(bio = BIO_new(BIO_s_mem())))
		goto out;
	for (int i = 0; i < sk_X509_num(sk); i++)
		if (!PEM_write_bio_X509(bio, sk_X509_value(sk, i)))
			goto out;
	long n = BIO_get_mem_data(bio, &p);
	if (n < 0)
		goto out;
	rc = buf_append(out, p, (size_t)n);
out:
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return rc;
}

const char *cert_strerror_ja(int rc)
{
	switch (rc) {
	case 0:
		return "";
	case CERT_EPARSE:
		return "証明書を読み取れませんでした。証明書ファイルの形式をご確認ください。";
	case CERT_ETOOLARGE:
		return "証明書のデータが大きすぎます。";
	case CERT_EEXPIRED:
		return "この証明書は有効期限が切れています。証明書を更新してから、もう一度お試しください。";
	case CERT_ENOTYETVALID:
		return "この証明書の有効期間はまだ始まっていません。";
	case CERT_EUNTRUSTED:
		return "この証明書は、このサービスが信頼する認証局から発行されたものではありません。";
	case CERT_EREVOKED:
		return "この証明書は失効しています。";
	case CERT_EKEYTYPE:
		return "この証明書の鍵の種類には対応していません。RSA（2048ビット以上）またはECDSA（P-256）の証明書をご利用ください。";
	case CERT_ESIGNATURE:
		return "署名を確認できませんでした。お手数ですが、最初からもう一度ログインしてください。";
	case CERT_ECRL:
		return "証明書の失効状況を確認できないため、ログインできません。しばらくしてからもう一度お試しください。";
	case CERT_EUSAGE:
		return "この証明書はログイン（利用者の認証）には使用できません。";
	default:
		return "システムエラーが発生しました。しばらくしてからもう一度お試しください。";
	}
}

const char *cert_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case CERT_EPARSE:
		return "not a certificate, or malformed";
	case CERT_ETOOLARGE:
		return "certificate input too large";
	case CERT_EEXPIRED:
		return "certificate has expired";
	case CERT_ENOTYETVALID:
		return "certificate is not yet valid";
	case CERT_EUNTRUSTED:
		return "certificate does not chain to a trusted CA";
	case CERT_EREVOKED:
		return "certificate is revoked";
	case CERT_EKEYTYPE:
		return "key type not allowed";
	case CERT_ESIGNATURE:
		return "signature does not verify";
	case CERT_ECRL:
		return "revocation status unknown";
	case CERT_EUSAGE:
		return "certificate not usable for log-in";
	case CERT_ELOAD:
		return "trust store could not be loaded";
	case CERT_EINTERNAL:
		return "internal OpenSSL failure";
	case -E2BIG:
		return "output buffer limit reached";
	default:
		return "unknown certificate error";
	}
}
