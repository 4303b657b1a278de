/* Unit tests for src/auth/cert.c. The test builds its own PKI at run time
 * with OpenSSL's C API (tests/support/certgen.c): a trusted CA, RSA-2048 and
 * ECDSA P-256 leaves, expired, not-yet-valid, revoked, foreign, weak and
 * misused certificates and CRLs, written to a temporary directory, and
 * checks every outcome of cert_verify() and cert_verify_signature(). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "auth/cert.h"
#include "certgen.h"

#define DAY 86400

/* A certificate with its key and PEM text. */
struct cred {
	EVP_PKEY *key;
	X509 *cert;
	char *pem;
	size_t len;
};

static struct fixture {
	char dir[64];
	time_t now;
	struct cred ca, other_ca, inter;
	struct cred rsa, ec, expired, notyet, revoked, other, selfsigned, rsa1024, p384, ed25519,
		inter_leaf, keyenc, sha1, ca_no_ku, certsign;
	struct cert_store *plain, *crl, *stale;
	char path_ca[128], path_crl[128], path_stale[128], path_other_crl[128], path_empty[128],
		path_leaf[128];
} fx;

static void cred_free(struct cred *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
	free(c->pem);
	memset(c, 0, sizeof *c);
}

/* Issues a certificate for a fresh key of the given kind. */
static int make(struct cred *c, EVP_PKEY *key, const struct certgen_opts *o, struct cred *issuer)
{
	c->key = key;
	if (!c->key)
		return -1;
	c->cert = certgen_cert(o, c->key, issuer ? issuer->cert : NULL,
			       issuer ? issuer->key : c->key);
	if (!c->cert)
		return -1;
	c->pem = certgen_cert_pem(c->cert, &c->len);
	return c->pem ? 0 : -1;
}

static int path_in(char *out, size_t n, const char *name)
{
	int k = snprintf(out, n, "%s/%s", fx.dir, name);
	return k > 0 && (size_t)k < n ? 0 : -1;
}

static int setup(void **state)
{
	char err[256];
	X509_CRL *crl = NULL, *stale = NULL, *other_crl = NULL;
	const time_t now = fx.now = time(NULL);
	int rc = -1;

	memcpy(fx.dir, "/tmp/mado-cert-XXXXXX", sizeof "/tmp/mado-cert-XXXXXX");
	if (!mkdtemp(fx.dir))
		return -1;

	struct certgen_opts ca = {"madoguchi テスト認証局",
				  now - 1000L * DAY,
				  now + 3650L * DAY,
				  1,
				  true,
				  NULL,
				  NULL};
	struct certgen_opts leaf = {"和歌山 太郎", now - DAY, now + 365L * DAY, 0x1001, false,
				    NULL,          NULL};
	if (make(&fx.ca, certgen_key_rsa(2048), &ca, NULL))
		goto out;
	ca.cn = "信頼されていない認証局";
	if (make(&fx.other_ca, certgen_key_ec("P-256"), &ca, NULL))
		goto out;
	ca.cn = "中間認証局";
	ca.serial = 2;
	if (make(&fx.inter, certgen_key_ec("P-256"), &ca, &fx.ca))
		goto out;
	ca.cn = "keyUsage のない CA";
	ca.serial = 3;
	ca.key_usage = "";
	if (make(&fx.ca_no_ku, certgen_key_ec("P-256"), &ca, &fx.ca))
		goto out;

	if (make(&fx.rsa, certgen_key_rsa(2048), &leaf, &fx.ca))
		goto out;
	leaf.cn = "和歌山 花子";
	leaf.serial = 0x1002;
	if (make(&fx.ec, certgen_key_ec("P-256"), &leaf, &fx.ca))
		goto out;
	leaf.cn = "失効 次郎";
	leaf.serial = 0x1003;
	if (make(&fx.revoked, certgen_key_ec("P-256"), &leaf, &fx.ca))
		goto out;
	leaf.cn = "部外 四郎";
	leaf.serial = 0x1004;
	if (make(&fx.other, certgen_key_ec("P-256"), &leaf, &fx.other_ca))
		goto out;
	leaf.cn = "自己署名";
	if (make(&fx.selfsigned, certgen_key_ec("P-256"), &leaf, NULL))
		goto out;
	leaf.cn = "弱い鍵";
	leaf.serial = 0x1005;
	if (make(&fx.rsa1024, certgen_key_rsa(1024), &leaf, &fx.ca))
		goto out;
	leaf.cn = "P-384";
	leaf.serial = 0x1006;
	if (make(&fx.p384, certgen_key_ec("P-384"), &leaf, &fx.ca))
		goto out;
	leaf.cn = "Ed25519";
	leaf.serial = 0x1007;
	if (make(&fx.ed25519, certgen_key_ed25519(), &leaf, &fx.ca))
		goto out;
	leaf.cn = "中間経由";
	leaf.serial = 0x1008;
	if (make(&fx.inter_leaf, certgen_key_ec("P-256"), &leaf, &fx.inter))
		goto out;
	leaf.cn = "暗号化専用";
	leaf.serial = 0x1009;
	leaf.key_usage = "critical,keyEncipherment";
	if (make(&fx.keyenc, certgen_key_rsa(2048), &leaf, &fx.ca))
		goto out;
	leaf.cn = "署名と証明書発行";
	leaf.serial = 0x100d;
	leaf.key_usage = "critical,digitalSignature,keyCertSign";
	if (make(&fx.certsign, certgen_key_ec("P-256"), &leaf, &fx.ca))
		goto out;
	leaf.key_usage = NULL;
	leaf.cn = "SHA-1 署名";
	leaf.serial = 0x100a;
	leaf.sign_md = "SHA1";
	if (make(&fx.sha1, certgen_key_ec("P-256"), &leaf, &fx.ca))
		goto out;
	leaf.sign_md = NULL;
	leaf.cn = "期限切れ 三郎";
	leaf.serial = 0x100b;
	leaf.not_before = now - 400L * DAY;
	leaf.not_after = now - DAY;
	if (make(&fx.expired, certgen_key_ec("P-256"), &leaf, &fx.ca))
		goto out;
	leaf.cn = "未来 五郎";
	leaf.serial = 0x100c;
	leaf.not_before = now + DAY;
	leaf.not_after = now + 400L * DAY;
	if (make(&fx.notyet, certgen_key_ec("P-256"), &leaf, &fx.ca))
		goto out;

	crl = certgen_crl(fx.ca.cert, fx.ca.key, &fx.revoked.cert, 1, now - 3600, now + 7 * DAY);
	stale = certgen_crl(fx.ca.cert, fx.ca.key, &fx.revoked.cert, 1, now - 9 * DAY,
			    now - 2 * DAY);
	other_crl = certgen_crl(fx.other_ca.cert, fx.other_ca.key, &fx.other.cert, 1, now - 3600,
				now + 7 * DAY);
	if (!crl || !stale || !other_crl)
		goto out;
	if (path_in(fx.path_ca, sizeof fx.path_ca, "ca.pem") ||
	    path_in(fx.path_crl, sizeof fx.path_crl, "crl.pem") ||
	    path_in(fx.path_stale, sizeof fx.path_stale, "stale-crl.pem") ||
	    path_in(fx.path_other_crl, sizeof fx.path_other_crl, "other-crl.pem") ||
	    path_in(fx.path_empty, sizeof fx.path_empty, "empty.pem") ||
	    path_in(fx.path_leaf, sizeof fx.path_leaf, "leaf.pem") ||
	    certgen_write_cert(fx.path_ca, fx.ca.cert) || certgen_write_crl(fx.path_crl, crl) ||
	    certgen_write_crl(fx.path_stale, stale) ||
	    certgen_write_crl(fx.path_other_crl, other_crl) ||
	    certgen_write_file(fx.path_empty, "", 0, 0644) ||
	    certgen_write_cert(fx.path_leaf, fx.rsa.cert))
		goto out;

	fx.plain = cert_store_load(fx.path_ca, NULL, err, sizeof err);
	fx.crl = cert_store_load(fx.path_ca, fx.path_crl, err, sizeof err);
	fx.stale = cert_store_load(fx.path_ca, fx.path_stale, err, sizeof err);
	if (!fx.plain || !fx.crl || !fx.stale) {
		fprintf(stderr, "store: %s\n", err);
		goto out;
	}
	rc = 0;
out:
	X509_CRL_free(crl);
	X509_CRL_free(stale);
	X509_CRL_free(other_crl);
	return rc;
}

static int teardown(void **state)
{
	struct cred *all[] = {&fx.ca,       &fx.other_ca,   &fx.inter,   &fx.rsa,
			      &fx.ec,       &fx.expired,    &fx.notyet,  &fx.revoked,
			      &fx.other,    &fx.selfsigned, &fx.rsa1024, &fx.p384,
			      &fx.ed25519,  &fx.inter_leaf, &fx.keyenc,  &fx.sha1,
			      &fx.ca_no_ku, &fx.certsign};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		cred_free(all[i]);
	cert_store_free(fx.plain);
	cert_store_free(fx.crl);
	cert_store_free(fx.stale);
	const char *files[] = {fx.path_ca,        fx.path_crl,   fx.path_stale,
			       fx.path_other_crl, fx.path_empty, fx.path_leaf};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (files[i][0])
			unlink(files[i]);
	rmdir(fx.dir);
	return 0;
}

static int verify(const struct cert_store *st, const struct cred *c, time_t now,
		  struct cert_info *info)
{
	char err[256];
	return cert_verify(st, c->pem, c->len, now, info, err, sizeof err);
}

/* ---- the good cases ---- */

static void test_valid_rsa(void **state)
{
	struct cert_info info;
	unsigned char *der;
	size_t dlen;
	unsigned char sha[crypto_hash_sha256_BYTES];
	char hex[65];

	assert_int_equal(verify(fx.crl, &fx.rsa, fx.now, &info), 0);
	assert_string_equal(info.subject_cn, "和歌山 太郎");
	assert_string_equal(info.subject, "CN=和歌山 太郎,O=madoguchi test,C=JP");
	assert_string_equal(info.issuer, "CN=madoguchi テスト認証局,O=madoguchi test,C=JP");
	assert_string_equal(info.serial_hex, "1001");
	assert_int_equal(info.key_type, CERT_KEY_RSA);
	assert_int_equal(info.key_bits, 2048);
	assert_int_equal(info.not_before, fx.now - DAY);
	assert_int_equal(info.not_after, fx.now + 365L * DAY);

	/* The fingerprint is SHA-256 over the DER, computed here with
	 * libsodium rather than OpenSSL. */
	der = certgen_cert_der(fx.rsa.cert, &dlen);
	assert_non_null(der);
	crypto_hash_sha256(sha, der, dlen);
	free(der);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	assert_string_equal(info.fingerprint, hex);

	/* Without a CRL the same certificate passes too. */
	assert_int_equal(verify(fx.plain, &fx.rsa, fx.now, NULL), 0);
}

static void test_valid_ec(void **state)
{
	struct cert_info info;
	assert_int_equal(verify(fx.crl, &fx.ec, fx.now, &info), 0);
	assert_int_equal(info.key_type, CERT_KEY_EC_P256);
	assert_int_equal(info.key_bits, 256);
	assert_string_equal(info.serial_hex, "1002");
	assert_string_equal(info.subject_cn, "和歌山 花子");
}

static void test_der_input(void **state)
{
	size_t dlen;
	unsigned char *der = certgen_cert_der(fx.ec.cert, &dlen);
	struct cert_info a, b;
	assert_non_null(der);
	assert_int_equal(cert_verify(fx.crl, (const char *)der, dlen, fx.now, &a, NULL, 0), 0);
	assert_int_equal(verify(fx.crl, &fx.ec, fx.now, &b), 0);
	assert_string_equal(a.fingerprint, b.fingerprint);
	/* Trailing bytes after a DER certificate are refused. */
	unsigned char *longer = malloc(dlen + 1);
	assert_non_null(longer);
	memcpy(longer, der, dlen);
	longer[dlen] = 0;
	assert_int_equal(cert_verify(fx.crl, (const char *)longer, dlen + 1, fx.now, &a, NULL, 0),
			 CERT_EPARSE);
	/* …and a truncated one. */
	assert_int_equal(cert_verify(fx.crl, (const char *)der, dlen - 1, fx.now, &a, NULL, 0),
			 CERT_EPARSE);
	free(longer);
	free(der);
}

static void test_chain_through_intermediate(void **state)
{
	char err[256];
	/* The intermediate is not in the trust store: alone, the leaf fails. */
	assert_int_equal(verify(fx.plain, &fx.inter_leaf, fx.now, NULL), CERT_EUNTRUSTED);
	/* With the intermediate after it in the PEM, the chain builds. */
	size_t n = fx.inter_leaf.len + fx.inter.len;
	char *both = malloc(n);
	assert_non_null(both);
	memcpy(both, fx.inter_leaf.pem, fx.inter_leaf.len);
	memcpy(both + fx.inter_leaf.len, fx.inter.pem, fx.inter.len);
	struct cert_info info;
	assert_int_equal(cert_verify(fx.plain, both, n, fx.now, &info, err, sizeof err), 0);
	assert_string_equal(info.subject_cn, "中間経由");
	/* With CRL checking on, the intermediate has no CRL: status unknown,
	 * which must fail closed. */
	assert_int_equal(cert_verify(fx.crl, both, n, fx.now, &info, err, sizeof err), CERT_ECRL);
	/* An intermediate given in front of the leaf is the wrong leaf: a CA. */
	char *swapped = malloc(n);
	assert_non_null(swapped);
	memcpy(swapped, fx.inter.pem, fx.inter.len);
	memcpy(swapped + fx.inter.len, fx.inter_leaf.pem, fx.inter_leaf.len);
	assert_int_equal(cert_verify(fx.plain, swapped, n, fx.now, &info, err, sizeof err),
			 CERT_EUSAGE);
	free(swapped);
	free(both);
}

/* ---- the bad cases, one code each ---- */

static void test_expired(void **state)
{
	struct cert_info info;
	char err[256];
	assert_int_equal(
		cert_verify(fx.crl, fx.expired.pem, fx.expired.len, fx.now, &info, err, sizeof err),
		CERT_EEXPIRED);
	assert_non_null(strstr(err, "expired"));
	/* The rejected certificate is still described, for the log. */
	assert_int_equal(strlen(info.fingerprint), 64);
	assert_string_equal(info.subject_cn, "期限切れ 三郎");
	/* The time that counts is the one passed in. */
	assert_int_equal(verify(fx.plain, &fx.rsa, fx.now + 366L * DAY, NULL), CERT_EEXPIRED);
	assert_int_equal(verify(fx.plain, &fx.expired, fx.now - 100L * DAY, NULL), 0);
	/* An expired (or not yet valid) CA is the deployment's problem and
	 * reads as "untrusted", not as the resident's expired certificate. */
	assert_int_equal(verify(fx.plain, &fx.rsa, fx.now + 3651L * DAY, NULL), CERT_EUNTRUSTED);
	assert_int_equal(verify(fx.plain, &fx.expired, fx.now - 1001L * DAY, NULL),
			 CERT_EUNTRUSTED);
}

static void test_not_yet_valid(void **state)
{
	assert_int_equal(verify(fx.crl, &fx.notyet, fx.now, NULL), CERT_ENOTYETVALID);
	assert_int_equal(verify(fx.plain, &fx.rsa, fx.now - 2 * DAY, NULL), CERT_ENOTYETVALID);
	assert_int_equal(verify(fx.plain, &fx.notyet, fx.now + 2 * DAY, NULL), 0);
}

static void test_untrusted(void **state)
{
	assert_int_equal(verify(fx.crl, &fx.other, fx.now, NULL), CERT_EUNTRUSTED);
	assert_int_equal(verify(fx.plain, &fx.other, fx.now, NULL), CERT_EUNTRUSTED);
	assert_int_equal(verify(fx.plain, &fx.selfsigned, fx.now, NULL), CERT_EUNTRUSTED);
	/* A store that trusts the other CA accepts its leaf: the CA is the
	 * only difference. */
	struct cert_store *st =
		cert_store_load_mem(fx.other_ca.pem, fx.other_ca.len, NULL, 0, NULL, 0);
	assert_non_null(st);
	assert_int_equal(verify(st, &fx.other, fx.now, NULL), 0);
	assert_int_equal(verify(st, &fx.rsa, fx.now, NULL), CERT_EUNTRUSTED);
	cert_store_free(st);
}

static void test_revoked(void **state)
{
	char err[256];
	assert_int_equal(
		cert_verify(fx.crl, fx.revoked.pem, fx.revoked.len, fx.now, NULL, err, sizeof err),
		CERT_EREVOKED);
	assert_non_null(strstr(err, "revoked"));
	/* Only the CRL makes the difference. */
	assert_int_equal(verify(fx.plain, &fx.revoked, fx.now, NULL), 0);
}

static void test_stale_crl_fails_closed(void **state)
{
	assert_int_equal(verify(fx.stale, &fx.rsa, fx.now, NULL), CERT_ECRL);
	assert_int_equal(verify(fx.stale, &fx.ec, fx.now, NULL), CERT_ECRL);
	/* A current CRL turns stale once its nextUpdate has passed. */
	assert_int_equal(verify(fx.crl, &fx.rsa, fx.now + 8 * DAY, NULL), CERT_ECRL);
	assert_int_equal(cert_store_crl_next_update(fx.crl), fx.now + 7 * DAY);
	assert_int_equal(cert_store_crl_next_update(fx.plain), 0);
}

static void test_key_types(void **state)
{
	struct cert_info info;
	assert_int_equal(verify(fx.crl, &fx.rsa1024, fx.now, &info), CERT_EKEYTYPE);
	assert_int_equal(info.key_type, CERT_KEY_RSA);
	assert_int_equal(info.key_bits, 1024);
	assert_int_equal(verify(fx.crl, &fx.p384, fx.now, &info), CERT_EKEYTYPE);
	assert_int_equal(info.key_type, CERT_KEY_NONE);
	assert_int_equal(verify(fx.crl, &fx.ed25519, fx.now, &info), CERT_EKEYTYPE);
	assert_int_equal(info.key_type, CERT_KEY_NONE);
}

static void test_usage(void **state)
{
	/* A CA certificate cannot log in, even one the store trusts. */
	assert_int_equal(verify(fx.plain, &fx.ca, fx.now, NULL), CERT_EUSAGE);
	assert_int_equal(verify(fx.plain, &fx.inter, fx.now, NULL), CERT_EUSAGE);
	assert_int_equal(verify(fx.plain, &fx.keyenc, fx.now, NULL), CERT_EUSAGE);
	/* basicConstraints cA alone (no keyUsage) is enough to refuse… */
	assert_int_equal(verify(fx.plain, &fx.ca_no_ku, fx.now, NULL), CERT_EUSAGE);
	/* …and so is keyCertSign alone (cA false). */
	assert_int_equal(verify(fx.plain, &fx.certsign, fx.now, NULL), CERT_EUSAGE);
}

static void test_weak_issuer_signature(void **state)
{
	/* SHA-1 signed by a trusted CA: refused at security level 2. */
	assert_int_equal(verify(fx.plain, &fx.sha1, fx.now, NULL), CERT_EUNTRUSTED);
}

static void test_bad_input(void **state)
{
	struct cert_info info;
	char err[256];
	assert_int_equal(cert_verify(fx.plain, NULL, 0, fx.now, &info, err, sizeof err),
			 CERT_EPARSE);
	assert_int_equal(cert_verify(fx.plain, "", 0, fx.now, &info, err, sizeof err), CERT_EPARSE);
	const char *junk = "hello, this is not a certificate";
	assert_int_equal(cert_verify(fx.plain, junk, strlen(junk), fx.now, &info, err, sizeof err),
			 CERT_EPARSE);
	/* A PEM cut short in the middle of its base64. */
	assert_int_equal(
		cert_verify(fx.plain, fx.rsa.pem, fx.rsa.len / 2, fx.now, &info, err, sizeof err),
		CERT_EPARSE);
	/* One flipped base64 character inside the signature. */
	char *bent = malloc(fx.rsa.len);
	assert_non_null(bent);
	memcpy(bent, fx.rsa.pem, fx.rsa.len);
	size_t pos = fx.rsa.len - 40;
	bent[pos] = bent[pos] == 'A' ? 'B' : 'A';
	int rc = cert_verify(fx.plain, bent, fx.rsa.len, fx.now, &info, err, sizeof err);
	assert_true(rc == CERT_EUNTRUSTED || rc == CERT_EPARSE);
	free(bent);
	/* A DER lookalike: SEQUENCE tag, then garbage. */
	assert_int_equal(
		cert_verify(fx.plain, "\x30\x82\xff\xff\x00", 5, fx.now, &info, err, sizeof err),
		CERT_EPARSE);

	/* Size limits: a huge blob, and more intermediates than allowed. */
	char *big = malloc(CERT_INPUT_MAX + 1);
	assert_non_null(big);
	memset(big, 'A', CERT_INPUT_MAX + 1);
	assert_int_equal(
		cert_verify(fx.plain, big, CERT_INPUT_MAX + 1, fx.now, &info, err, sizeof err),
		CERT_ETOOLARGE);
	size_t n = 0;
	for (int i = 0; i < CERT_CHAIN_MAX + 2; i++) {
		memcpy(big + n, fx.ec.pem, fx.ec.len);
		n += fx.ec.len;
	}
	assert_true(n <= CERT_INPUT_MAX);
	assert_int_equal(cert_verify(fx.plain, big, n, fx.now, &info, err, sizeof err),
			 CERT_ETOOLARGE);
	free(big);

	/* Other PEM blocks before the certificate are skipped. */
	size_t klen;
	char *key = certgen_key_pem(fx.ec.key, &klen);
	assert_non_null(key);
	char *mixed = malloc(klen + fx.ec.len);
	assert_non_null(mixed);
	memcpy(mixed, key, klen);
	memcpy(mixed + klen, fx.ec.pem, fx.ec.len);
	assert_int_equal(
		cert_verify(fx.plain, mixed, klen + fx.ec.len, fx.now, &info, err, sizeof err), 0);
	free(mixed);
	free(key);

	assert_int_equal(cert_verify(NULL, fx.ec.pem, fx.ec.len, fx.now, &info, err, sizeof err),
			 CERT_EINTERNAL);
}

/* ---- challenge signatures ---- */

static void sign_ok(struct cred *c)
{
	const unsigned char msg[] = "madoguchi-login\0nonce-4f1c2a";
	unsigned char sig[CERT_SIG_MAX];
	size_t n = sizeof sig;

	assert_int_equal(certgen_sign(c->key, NULL, msg, sizeof msg, sig, &n), 0);
	assert_int_equal(cert_verify_signature(c->pem, c->len, msg, sizeof msg, sig, n), 0);

	/* Tampered challenge: one bit of the nonce. */
	unsigned char bad[sizeof msg];
	memcpy(bad, msg, sizeof msg);
	bad[sizeof msg - 2] ^= 1;
	assert_int_equal(cert_verify_signature(c->pem, c->len, bad, sizeof bad, sig, n),
			 CERT_ESIGNATURE);
	/* Shorter challenge (prefix). */
	assert_int_equal(cert_verify_signature(c->pem, c->len, msg, sizeof msg - 1, sig, n),
			 CERT_ESIGNATURE);
	/* Tampered signature: a byte in the middle, then a truncation. */
	sig[n / 2] ^= 0x40;
	assert_int_equal(cert_verify_signature(c->pem, c->len, msg, sizeof msg, sig, n),
			 CERT_ESIGNATURE);
	sig[n / 2] ^= 0x40;
	assert_int_equal(cert_verify_signature(c->pem, c->len, msg, sizeof msg, sig, n - 1),
			 CERT_ESIGNATURE);
	assert_int_equal(cert_verify_signature(c->pem, c->len, msg, sizeof msg, sig, 0),
			 CERT_ESIGNATURE);
	assert_int_equal(cert_verify_signature(c->pem, c->len, msg, sizeof msg, NULL, n),
			 CERT_ESIGNATURE);
	/* Untouched again: still good (the flips above were undone). */
	assert_int_equal(cert_verify_signature(c->pem, c->len, msg, sizeof msg, sig, n), 0);

	/* A signature with SHA-1 instead of SHA-256 is refused. */
	n = sizeof sig;
	assert_int_equal(certgen_sign(c->key, "SHA1", msg, sizeof msg, sig, &n), 0);
	assert_int_equal(cert_verify_signature(c->pem, c->len, msg, sizeof msg, sig, n),
			 CERT_ESIGNATURE);
}

static void test_signature_rsa(void **state)
{
	sign_ok(&fx.rsa);
}

static void test_signature_ec(void **state)
{
	sign_ok(&fx.ec);
}

static void test_signature_wrong_key(void **state)
{
	const unsigned char msg[] = "challenge";
	unsigned char sig[CERT_SIG_MAX];
	size_t n = sizeof sig;

	/* Signed by another holder's key: refused against this certificate. */
	assert_int_equal(certgen_sign(fx.revoked.key, NULL, msg, sizeof msg, sig, &n), 0);
	assert_int_equal(
		cert_verify_signature(fx.revoked.pem, fx.revoked.len, msg, sizeof msg, sig, n), 0);
	assert_int_equal(cert_verify_signature(fx.ec.pem, fx.ec.len, msg, sizeof msg, sig, n),
			 CERT_ESIGNATURE);
	/* An ECDSA signature against an RSA certificate. */
	assert_int_equal(cert_verify_signature(fx.rsa.pem, fx.rsa.len, msg, sizeof msg, sig, n),
			 CERT_ESIGNATURE);
	/* A valid signature from a disallowed key type. */
	n = sizeof sig;
	assert_int_equal(certgen_sign(fx.rsa1024.key, NULL, msg, sizeof msg, sig, &n), 0);
	assert_int_equal(
		cert_verify_signature(fx.rsa1024.pem, fx.rsa1024.len, msg, sizeof msg, sig, n),
		CERT_EKEYTYPE);
	/* Oversized signature and unparseable certificate. */
	assert_int_equal(
		cert_verify_signature(fx.ec.pem, fx.ec.len, msg, sizeof msg, sig, CERT_SIG_MAX + 1),
		CERT_ESIGNATURE);
	assert_int_equal(cert_verify_signature("junk", 4, msg, sizeof msg, sig, n), CERT_EPARSE);
	/* DER certificate input works for signatures too. */
	size_t dlen;
	unsigned char *der = certgen_cert_der(fx.ec.cert, &dlen);
	assert_non_null(der);
	n = sizeof sig;
	assert_int_equal(certgen_sign(fx.ec.key, NULL, msg, sizeof msg, sig, &n), 0);
	assert_int_equal(cert_verify_signature((const char *)der, dlen, msg, sizeof msg, sig, n),
			 0);
	free(der);
}

/* ---- the trust store ---- */

static void test_store_load(void **state)
{
	char err[256];
	struct cert_store *st;

	assert_int_equal(cert_store_ca_count(fx.crl), 1);
	assert_int_equal(cert_store_crl_count(fx.crl), 1);
	assert_int_equal(cert_store_crl_count(fx.plain), 0);

	err[0] = '\0';
	st = cert_store_load("/nonexistent/ca.pem", NULL, err, sizeof err);
	assert_null(st);
	assert_non_null(strstr(err, "cannot open CA file"));
	st = cert_store_load(fx.path_ca, "/nonexistent/crl.pem", err, sizeof err);
	assert_null(st);
	assert_non_null(strstr(err, "CRL"));
	st = cert_store_load(fx.path_empty, NULL, err, sizeof err);
	assert_null(st);
	/* A leaf certificate is not a trust anchor. */
	st = cert_store_load(fx.path_leaf, NULL, err, sizeof err);
	assert_null(st);
	assert_non_null(strstr(err, "not a CA"));
	/* A CRL from a CA the store does not hold is refused at load time. */
	st = cert_store_load(fx.path_ca, fx.path_other_crl, err, sizeof err);
	assert_null(st);
	assert_non_null(strstr(err, "not signed"));
	/* A CRL file that holds no CRL. */
	st = cert_store_load(fx.path_ca, fx.path_ca, err, sizeof err);
	assert_null(st);
	assert_null(cert_store_load(NULL, NULL, NULL, 0));

	/* DER files (as CAs publish them) load too. */
	char der_ca[128], der_crl[128];
	size_t dlen;
	unsigned char *der = certgen_cert_der(fx.ca.cert, &dlen);
	X509_CRL *dc =
		certgen_crl(fx.ca.cert, fx.ca.key, &fx.revoked.cert, 1, fx.now - 60, fx.now + DAY);
	assert_non_null(der);
	assert_non_null(dc);
	unsigned char *crl_der = NULL;
	int crl_len = i2d_X509_CRL(dc, &crl_der);
	assert_true(crl_len > 0);
	assert_int_equal(path_in(der_ca, sizeof der_ca, "ca.der"), 0);
	assert_int_equal(path_in(der_crl, sizeof der_crl, "crl.der"), 0);
	assert_int_equal(certgen_write_file(der_ca, der, dlen, 0644), 0);
	assert_int_equal(certgen_write_file(der_crl, crl_der, (size_t)crl_len, 0644), 0);
	st = cert_store_load(der_ca, der_crl, err, sizeof err);
	assert_non_null(st);
	assert_int_equal(verify(st, &fx.ec, fx.now, NULL), 0);
	assert_int_equal(verify(st, &fx.revoked, fx.now, NULL), CERT_EREVOKED);
	cert_store_free(st);
	/* A truncated DER CRL is refused. */
	assert_int_equal(certgen_write_file(der_crl, crl_der, (size_t)crl_len - 1, 0644), 0);
	assert_null(cert_store_load(der_ca, der_crl, err, sizeof err));
	assert_non_null(strstr(err, "CRL file"));
	unlink(der_ca);
	unlink(der_crl);
	OPENSSL_free(crl_der);
	X509_CRL_free(dc);
	free(der);

	/* Several anchors in one file, from memory, each with its CRL. */
	size_t l1, l2;
	X509_CRL *c1 =
		certgen_crl(fx.ca.cert, fx.ca.key, &fx.revoked.cert, 1, fx.now - 60, fx.now + DAY);
	X509_CRL *c2 = certgen_crl(fx.other_ca.cert, fx.other_ca.key, &fx.other.cert, 1,
				   fx.now - 60, fx.now + 2 * DAY);
	char *p1 = certgen_crl_pem(c1, &l1), *p2 = certgen_crl_pem(c2, &l2);
	assert_non_null(p1);
	assert_non_null(p2);
	char *cas = malloc(fx.ca.len + fx.other_ca.len), *crls = malloc(l1 + l2);
	assert_non_null(cas);
	assert_non_null(crls);
	memcpy(cas, fx.ca.pem, fx.ca.len);
	memcpy(cas + fx.ca.len, fx.other_ca.pem, fx.other_ca.len);
	memcpy(crls, p1, l1);
	memcpy(crls + l1, p2, l2);
	st = cert_store_load_mem(cas, fx.ca.len + fx.other_ca.len, crls, l1 + l2, err, sizeof err);
	assert_non_null(st);
	assert_int_equal(cert_store_ca_count(st), 2);
	assert_int_equal(cert_store_crl_count(st), 2);
	assert_int_equal(cert_store_crl_next_update(st), fx.now + DAY);
	assert_int_equal(verify(st, &fx.rsa, fx.now, NULL), 0);
	assert_int_equal(verify(st, &fx.revoked, fx.now, NULL), CERT_EREVOKED);
	assert_int_equal(verify(st, &fx.other, fx.now, NULL), CERT_EREVOKED);
	cert_store_free(st);
	/* The intermediate as an anchor on its own (partial chain). */
	st = cert_store_load_mem(fx.inter.pem, fx.inter.len, NULL, 0, err, sizeof err);
	assert_non_null(st);
	assert_int_equal(verify(st, &fx.inter_leaf, fx.now, NULL), 0);
	assert_int_equal(verify(st, &fx.rsa, fx.now, NULL), CERT_EUNTRUSTED);
	cert_store_free(st);
	cert_store_free(NULL);

	X509_CRL_free(c1);
	X509_CRL_free(c2);
	free(p1);
	free(p2);
	free(cas);
	free(crls);
}

static void test_to_pem(void **state)
{
	struct buf b;
	size_t dlen;
	unsigned char *der = certgen_cert_der(fx.ec.cert, &dlen);
	assert_non_null(der);
	buf_init(&b, 64 * 1024);
	assert_int_equal(cert_to_pem((const char *)der, dlen, &b), 0);
	assert_string_equal(buf_cstr(&b), fx.ec.pem);
	buf_release(&b);
	free(der);

	/* Leaf plus intermediate: two blocks, the private key never copied. */
	size_t klen;
	char *key = certgen_key_pem(fx.inter_leaf.key, &klen);
	size_t n = fx.inter_leaf.len + klen + fx.inter.len;
	char *in = malloc(n);
	assert_non_null(key);
	assert_non_null(in);
	memcpy(in, fx.inter_leaf.pem, fx.inter_leaf.len);
	memcpy(in + fx.inter_leaf.len, key, klen);
	memcpy(in + fx.inter_leaf.len + klen, fx.inter.pem, fx.inter.len);
	buf_init(&b, 64 * 1024);
	assert_int_equal(cert_to_pem(in, n, &b), 0);
	assert_null(strstr(buf_cstr(&b), "PRIVATE KEY"));
	assert_int_equal(b.len, fx.inter_leaf.len + fx.inter.len);
	buf_release(&b);
	buf_init(&b, 100);
	assert_int_equal(cert_to_pem(in, n, &b), -E2BIG);
	buf_release(&b);
	free(in);
	free(key);
}

static void test_messages(void **state)
{
	const int codes[] = {CERT_EPARSE,     CERT_ETOOLARGE, CERT_EEXPIRED, CERT_ENOTYETVALID,
			     CERT_EUNTRUSTED, CERT_EREVOKED,  CERT_EKEYTYPE, CERT_ESIGNATURE,
			     CERT_ECRL,       CERT_EUSAGE,    CERT_EINTERNAL};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		assert_true(strlen(cert_strerror_ja(codes[i])) > 0);
		assert_true(strlen(cert_strerror(codes[i])) > 0);
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(codes[i], codes[j]);
			assert_string_not_equal(cert_strerror_ja(codes[i]),
						cert_strerror_ja(codes[j]));
		}
	}
	assert_non_null(strstr(cert_strerror_ja(CERT_EREVOKED), "失効"));
	assert_non_null(strstr(cert_strerror_ja(CERT_EEXPIRED), "有効期限"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_rsa),
		cmocka_unit_test(test_valid_ec),
		cmocka_unit_test(test_der_input),
		cmocka_unit_test(test_chain_through_intermediate),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_not_yet_valid),
		cmocka_unit_test(test_untrusted),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_stale_crl_fails_closed),
		cmocka_unit_test(test_key_types),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_weak_issuer_signature),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_signature_rsa),
		cmocka_unit_test(test_signature_ec),
		cmocka_unit_test(test_signature_wrong_key),
		cmocka_unit_test(test_store_load),
		cmocka_unit_test(test_to_pem),
		cmocka_unit_test(test_messages),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
