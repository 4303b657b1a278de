/* Test-only certificate factory: CA, leaf and CRL generation with OpenSSL 3's
 * C API, so unit, HTTP and browser tests make their own PKI at run time.
 * Never link this into the server. */
#ifndef MADO_TEST_CERTGEN_H
#define MADO_TEST_CERTGEN_H
#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* New key pairs, or NULL on failure. Release with EVP_PKEY_free().
 * group is an OpenSSL group name: "P-256", "P-384", … */
EVP_PKEY *certgen_key_rsa(unsigned bits);
EVP_PKEY *certgen_key_ec(const char *group);
EVP_PKEY *certgen_key_ed25519(void);

/* What a certificate says. cn is UTF-8 (Japanese allowed). */
struct certgen_opts {
	const char *cn;
	time_t not_before, not_after;
	uint64_t serial;
	bool ca;               /* basicConstraints CA:TRUE + keyCertSign, cRLSign */
	const char *key_usage; /* keyUsage value (openssl.cnf syntax); NULL: default
				 * ("critical,digitalSignature" for leaves), "" none */
	const char *sign_md;   /* digest name for the issuer's signature; NULL: SHA256 */
};

/* A certificate for key, signed by issuer_key; issuer NULL makes it
 * self-signed (issuer_key then must be key). Returns NULL on failure;
 * release with X509_free(). */
X509 *certgen_cert(const struct certgen_opts *o, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key);

/* A v2 CRL from ca listing the n certificates in revoked. Release with
 * X509_CRL_free(); NULL on failure. */
X509_CRL *certgen_crl(X509 *ca, EVP_PKEY *ca_key, X509 *const *revoked, size_t n,
		      time_t last_update, time_t next_update);

/* PEM/DER encodings in xmalloc'd memory (NUL-terminated for PEM, length in
 * *len); free() them. NULL on failure. Keys are unencrypted PKCS#8. */
char *certgen_cert_pem(X509 *x, size_t *len);
char *certgen_key_pem(EVP_PKEY *k, size_t *len);
char *certgen_crl_pem(X509_CRL *c, size_t *len);
unsigned char *certgen_cert_der(X509 *x, size_t *len);

/* Writes data to path (mode 0600 for keys, 0644 otherwise). Return 0 or -1. */
int certgen_write_file(const char *path, const void *data, size_t len, unsigned mode);
int certgen_write_cert(const char *path, X509 *x);
int certgen_write_key(const char *path, EVP_PKEY *k);
int certgen_write_crl(const char *path, X509_CRL *c);

/* Reads an unencrypted PEM private key; NULL on failure. */
EVP_PKEY *certgen_read_key(const char *path);

/* Signs msg with SHA-256 (md NULL) or the named digest: RSA PKCS#1 v1.5 or
 * ECDSA (DER). *siglen holds sig's room on entry, the length on return.
 * Returns 0 or -1. */
int certgen_sign(EVP_PKEY *k, const char *md, const unsigned char *msg, size_t n,
		 unsigned char *sig, size_t *siglen);

/* Writes the standard test PKI into dir (which must exist), valid around now:
 *   ca.pem ca.key               trusted CA (RSA-2048)
 *   leaf-rsa.pem leaf-rsa.key   valid leaf, RSA-2048
 *   leaf-ec.pem leaf-ec.key     valid leaf, ECDSA P-256
 *   revoked.pem revoked.key     valid leaf listed in crl.pem
 *   expired.pem expired.key     leaf whose validity ended a day before now
 *   crl.pem                     CRL of ca.pem revoking revoked.pem
 *   other-ca.pem other-ca.key   a CA nobody trusts
 *   other-leaf.pem other-leaf.key  leaf issued by other-ca
 * Returns 0, or -1 with a reason in err. */
int certgen_make_set(const char *dir, time_t now, char *err, size_t errsz);

#endif
