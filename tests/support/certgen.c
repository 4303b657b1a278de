/* Test PKI factory (see certgen.h). Plain OpenSSL 3 C API: EVP_PKEY key
 * generation, X509 and X509_CRL building, PEM/DER output. Test code only, so
 * failures return NULL/-1 and leave the explaining to the test. */
#include "certgen.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"

#define DAY 86400

EVP_PKEY *certgen_key_rsa(unsigned bits)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

EVP_PKEY *certgen_key_ec(const char *group)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
}

EVP_PKEY *certgen_key_ed25519(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int set_name(X509_NAME *name, const char *cn)
{
	if (!X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const unsigned char *)"JP", -1,
					-1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					(const unsigned char *)"madoguchi test", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0))
		return -1;
	return 0;
}

static const EVP_MD *sign_md_for(EVP_PKEY *issuer_key, const char *name)
{
	/* Ed25519/Ed448 sign without a separate digest. */
	if (EVP_PKEY_is_a(issuer_key, "ED25519") || EVP_PKEY_is_a(issuer_key, "ED448"))
		return NULL;
	return EVP_get_digestbyname(name ? name : "SHA256");
}

X509 *certgen_cert(const struct certgen_opts *o, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	const char *ku = o->key_usage;

	if (!x || !X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), o->serial) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), o->not_before) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), o->not_after) ||
	    set_name(X509_get_subject_name(x), o->cn) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) :
					      X509_get_subject_name(x)) ||
	    !X509_set_pubkey(x, key))
		goto fail;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (!ku)
		ku = o->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature";
	if (add_ext(x, &ctx, NID_basic_constraints, o->ca ? "critical,CA:TRUE" : "CA:FALSE") ||
	    (*ku && add_ext(x, &ctx, NID_key_usage, ku)) ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"))
		goto fail;
	if (!o->ca && add_ext(x, &ctx, NID_ext_key_usage, "clientAuth"))
		goto fail;
	if (!X509_sign(x, issuer_key, sign_md_for(issuer_key, o->sign_md)))
		goto fail;
	return x;
fail:
	ERR_print_errors_fp(stderr);
	X509_free(x);
	return NULL;
}

X509_CRL *certgen_crl(X509 *ca, EVP_PKEY *ca_key, X509 *const *revoked, size_t n,
		      time_t last_update, time_t next_update)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509_EXTENSION *akid = NULL;
	X509V3_CTX ctx;

	if (!crl || !t || !num || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
	    !ASN1_TIME_set(t, last_update) || !X509_CRL_set1_lastUpdate(crl, t) ||
	    !ASN1_TIME_set(t, next_update) || !X509_CRL_set1_nextUpdate(crl, t))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		if (!r || !ASN1_TIME_set(t, last_update) ||
		    !X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked[i])) ||
		    !X509_REVOKED_set_revocationDate(r, t) || !X509_CRL_add0_revoked(crl, r)) {
			X509_REVOKED_free(r);
			goto fail;
		}
	}
	X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
	akid = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	if (!akid || !X509_CRL_add_ext(crl, akid, -1) || !ASN1_INTEGER_set(num, 1) ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1 || !X509_CRL_sort(crl) ||
	    !X509_CRL_sign(crl, ca_key, sign_md_for(ca_key, NULL)))
		goto fail;
	X509_EXTENSION_free(akid);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	return crl;
fail:
	ERR_print_errors_fp(stderr);
	X509_EXTENSION_free(akid);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return NULL;
}

/* Copies what a memory BIO holds into a NUL-terminated xmalloc'd string. */
static char *bio_to_string(BIO *bio, size_t *len)
{
	char *p;
	long n = BIO_get_mem_data(bio, &p);
	if (n < 0)
		return NULL;
	char *s = xmalloc((size_t)n + 1);
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	if (len)
		*len = (size_t)n;
	return s;
}

char *certgen_cert_pem(X509 *x, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = bio && PEM_write_bio_X509(bio, x) ? bio_to_string(bio, len) : NULL;
	BIO_free(bio);
	return s;
}

char *certgen_key_pem(EVP_PKEY *k, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = bio && PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) ?
			  bio_to_string(bio, len) :
			  NULL;
	BIO_free(bio);
	return s;
}

char *certgen_crl_pem(X509_CRL *c, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = bio && PEM_write_bio_X509_CRL(bio, c) ? bio_to_string(bio, len) : NULL;
	BIO_free(bio);
	return s;
}

unsigned char *certgen_cert_der(X509 *x, size_t *len)
{
	int n = i2d_X509(x, NULL);
	if (n <= 0)
		return NULL;
	unsigned char *der = xmalloc((size_t)n), *p = der;
	if (i2d_X509(x, &p) != n) {
		free(der);
		return NULL;
	}
	*len = (size_t)n;
	return der;
}

int certgen_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	const char *p = data;
	int rc = -1;
	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		p += w;
		len -= (size_t)w;
	}
	rc = 0;
out:
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

static int write_string(const char *path, char *s, size_t len, unsigned mode)
{
	int rc = s ? certgen_write_file(path, s, len, mode) : -1;
	if (s)
		OPENSSL_cleanse(s, len);
	free(s);
	return rc;
}

int certgen_write_cert(const char *path, X509 *x)
{
	size_t len = 0;
	char *s = certgen_cert_pem(x, &len);
	return write_string(path, s, len, 0644);
}

int certgen_write_key(const char *path, EVP_PKEY *k)
{
	size_t len = 0;
	char *s = certgen_key_pem(k, &len);
	return write_string(path, s, len, 0600);
}

int certgen_write_crl(const char *path, X509_CRL *c)
{
	size_t len = 0;
	char *s = certgen_crl_pem(c, &len);
	return write_string(path, s, len, 0644);
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

EVP_PKEY *certgen_read_key(const char *path)
{
	BIO *bio = BIO_new_file(path, "rb");
	EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
	BIO_free(bio);
	return k;
}

int certgen_sign(EVP_PKEY *k, const char *md, const unsigned char *msg, size_t n,
		 unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int rc = -1;
	if (!ctx || EVP_DigestSignInit_ex(ctx, &pctx, md ? md : "SHA256", NULL, NULL, k, NULL) != 1)
		goto out;
	if (EVP_PKEY_is_a(k, "RSA") && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_DigestSign(ctx, sig, siglen, msg, n) != 1)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* ---- the standard set ---- */

struct member {
	const char *name; /* file stem */
	EVP_PKEY *key;
	X509 *cert;
};

static int save(const char *dir, struct member *m, char *err, size_t errsz)
{
	char path[4096];
	int n = snprintf(path, sizeof path, "%s/%s.pem", dir, m->name);
	if (n < 0 || (size_t)n >= sizeof path || certgen_write_cert(path, m->cert)) {
		snprintf(err, errsz, "cannot write %s/%s.pem", dir, m->name);
		return -1;
	}
	n = snprintf(path, sizeof path, "%s/%s.key", dir, m->name);
	if (n < 0 || (size_t)n >= sizeof path || certgen_write_key(path, m->key)) {
		snprintf(err, errsz, "cannot write %s/%s.key", dir, m->name);
		return -1;
	}
	return 0;
}

int certgen_make_set(const char *dir, time_t now, char *err, size_t errsz)
{
	struct member m[] = {
		{"ca", NULL, NULL},         {"leaf-rsa", NULL, NULL}, {"leaf-ec", NULL, NULL},
		{"revoked", NULL, NULL},    {"expired", NULL, NULL},  {"other-ca", NULL, NULL},
		{"other-leaf", NULL, NULL},
	};
	enum { CA, RSA, EC, REVOKED, EXPIRED, OTHER_CA, OTHER_LEAF, N };
	_Static_assert(N == sizeof m / sizeof m[0], "member table");
	X509_CRL *crl = NULL;
	int rc = -1;

	snprintf(err, errsz, "key generation failed");
	m[CA].key = certgen_key_rsa(2048);
	m[RSA].key = certgen_key_rsa(2048);
	m[EC].key = certgen_key_ec("P-256");
	m[REVOKED].key = certgen_key_ec("P-256");
	m[EXPIRED].key = certgen_key_ec("P-256");
	m[OTHER_CA].key = certgen_key_ec("P-256");
	m[OTHER_LEAF].key = certgen_key_ec("P-256");
	for (int i = 0; i < N; i++)
		if (!m[i].key)
			goto out;

	struct certgen_opts ca = {
		"madoguchi テスト認証局", now - DAY, now + 3650L * DAY, 1, true, NULL, NULL};
	struct certgen_opts other = {
		"信頼されていない認証局", now - DAY, now + 3650L * DAY, 1, true, NULL, NULL};
	struct certgen_opts leaf = {NULL, now - DAY, now + 730L * DAY, 0, false, NULL, NULL};

	snprintf(err, errsz, "certificate generation failed");
	if (!(m[CA].cert = certgen_cert(&ca, m[CA].key, NULL, m[CA].key)) ||
	    !(m[OTHER_CA].cert = certgen_cert(&other, m[OTHER_CA].key, NULL, m[OTHER_CA].key)))
		goto out;
	leaf.cn = "和歌山 太郎";
	leaf.serial = 0x1001;
	if (!(m[RSA].cert = certgen_cert(&leaf, m[RSA].key, m[CA].cert, m[CA].key)))
		goto out;
	leaf.cn = "和歌山 花子";
	leaf.serial = 0x1002;
	if (!(m[EC].cert = certgen_cert(&leaf, m[EC].key, m[CA].cert, m[CA].key)))
		goto out;
	leaf.cn = "失効 次郎";
	leaf.serial = 0x1003;
	if (!(m[REVOKED].cert = certgen_cert(&leaf, m[REVOKED].key, m[CA].cert, m[CA].key)))
		goto out;
	leaf.cn = "期限切れ 三郎";
	leaf.serial = 0x1004;
	leaf.not_before = now - 400L * DAY;
	leaf.not_after = now - DAY;
	if (!(m[EXPIRED].cert = certgen_cert(&leaf, m[EXPIRED].key, m[CA].cert, m[CA].key)))
		goto out;
	leaf.cn = "部外 四郎";
	leaf.serial = 0x2001;
	leaf.not_before = now - DAY;
	leaf.not_after = now + 730L * DAY;
	if (!(m[OTHER_LEAF].cert =
		      certgen_cert(&leaf, m[OTHER_LEAF].key, m[OTHER_CA].cert, m[OTHER_CA].key)))
		goto out;
	/* A CRL good for a year, so a directory made once serves a long test run. */
	if (!(crl = certgen_crl(m[CA].cert, m[CA].key, &m[REVOKED].cert, 1, now - 3600,
				now + 365L * DAY)))
		goto out;

	for (int i = 0; i < N; i++)
		if (save(dir, &m[i], err, errsz))
			goto out;
	char path[4096];
	int n = snprintf(path, sizeof path, "%s/crl.pem", dir);
	if (n < 0 || (size_t)n >= sizeof path || certgen_write_crl(path, crl)) {
		snprintf(err, errsz, "cannot write %s/crl.pem", dir);
		goto out;
	}
	snprintf(err, errsz, "ok");
	rc = 0;
out:
	for (int i = 0; i < N; i++) {
		X509_free(m[i].cert);
		EVP_PKEY_free(m[i].key);
	}
	X509_CRL_free(crl);
	return rc;
}
