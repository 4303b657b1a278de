/* Public-key log-in, modelled on the user certificate of the My Number card
 * (利用者証明用電子証明書): check that an X.509 certificate chains to a CA the
 * deployment trusts, is within its validity period, is not on the CA's
 * revocation list and holds an allowed key; then check that the holder signed
 * a one-time server challenge with that key. OpenSSL 3 does the cryptography. */
#ifndef MADO_AUTH_CERT_H
#define MADO_AUTH_CERT_H
#include <openssl/types.h>
#include <stddef.h>
#include <time.h>

#include "common/buf.h"

/* Largest certificate input accepted (PEM or DER, leaf plus intermediates),
 * most intermediates that may follow the leaf, largest signature. */
#define CERT_INPUT_MAX (64 * 1024)
#define CERT_CHAIN_MAX 8
#define CERT_SIG_MAX 1024

/* Sizes of the text fields of struct cert_info, NUL included. */
#define CERT_CN_SIZE 257
#define CERT_DN_SIZE 1024
#define CERT_SERIAL_MAX_BYTES 32
#define CERT_SERIAL_HEX_SIZE (2 * CERT_SERIAL_MAX_BYTES + 2)
#define CERT_FP_HEX_SIZE 65

/* Module error codes (negative); cert_strerror_ja() words them for users. */
enum {
	CERT_EPARSE = -1401,       /* not a certificate, or a malformed one */
	CERT_ETOOLARGE = -1402,    /* input above CERT_INPUT_MAX / CERT_CHAIN_MAX */
	CERT_EEXPIRED = -1403,     /* now is after notAfter */
	CERT_ENOTYETVALID = -1404, /* now is before notBefore */
	CERT_EUNTRUSTED = -1405,   /* no chain to a trusted CA (or the CA's own problem) */
	CERT_EREVOKED = -1406,     /* serial is on the issuer's CRL */
	CERT_EKEYTYPE = -1407,     /* key is not RSA >= 2048 bits or ECDSA P-256 */
	CERT_ESIGNATURE = -1408,   /* challenge signature does not verify */
	CERT_ECRL = -1409,         /* revocation status unknown: CRL missing, stale, bad */
	CERT_EUSAGE = -1410,       /* a CA certificate, or keyUsage without digitalSignature */
	CERT_ELOAD = -1411,        /* trust store: unreadable file, no CA, bad CRL */
	CERT_EINTERNAL = -1412,    /* OpenSSL failed (out of memory) */
};

enum cert_key_type { CERT_KEY_NONE = 0, CERT_KEY_RSA, CERT_KEY_EC_P256 };

/* What is stored about a registered certificate. All strings are
 * NUL-terminated UTF-8 without control characters. */
struct cert_info {
	char subject_cn[CERT_CN_SIZE];         /* first commonName, "" when absent */
	char subject[CERT_DN_SIZE];            /* RFC 2253 form, e.g. "CN=…,O=…,C=JP" */
	char issuer[CERT_DN_SIZE];             /* RFC 2253 form */
	char serial_hex[CERT_SERIAL_HEX_SIZE]; /* lowercase, "-" first if negative */
	char fingerprint[CERT_FP_HEX_SIZE];    /* SHA-256 of the DER, lowercase hex */
	enum cert_key_type key_type;
	unsigned key_bits; /* RSA modulus bits, or 256 */
	time_t not_before, not_after;
};

/* The CAs (and CRLs) a deployment trusts. Immutable once loaded, so one store
 * may serve every thread; to take a new CRL, load a new store and swap. */
struct cert_store;

/* Loads every certificate in ca_path (PEM, several allowed, or one DER) as a
 * trust anchor: each must be a CA certificate. When crl_path is not NULL,
 * every CRL in it (PEM, several allowed, or one DER) is loaded, each must be
 * signed by one of those CAs, and from then on cert_verify() requires a
 * current CRL for the leaf's issuer (X509_V_FLAG_CRL_CHECK). Returns the store
 * (free with cert_store_free), or NULL with a reason in err (English, for the
 * administrator; err may be NULL). */
struct cert_store *cert_store_load(const char *ca_path, const char *crl_path, char *err,
				   size_t errsz);
/* As cert_store_load, from memory (crl may be NULL with crl_len 0). */
struct cert_store *cert_store_load_mem(const char *ca, size_t ca_len, const char *crl,
				       size_t crl_len, char *err, size_t errsz);
void cert_store_free(struct cert_store *st);

/* Number of CA certificates and CRLs in the store. */
size_t cert_store_ca_count(const struct cert_store *st);
size_t cert_store_crl_count(const struct cert_store *st);
/* Earliest nextUpdate of the loaded CRLs (reload before then: afterwards every
 * verification fails with CERT_ECRL), or 0 when no CRL is loaded. */
time_t cert_store_crl_next_update(const struct cert_store *st);

/* Parses the first certificate of data[0..len): PEM (any other PEM blocks
 * before it are skipped) or DER. On success *out is a new reference the
 * caller releases with X509_free(). Returns 0, CERT_EPARSE or CERT_ETOOLARGE. */
int cert_parse(const char *data, size_t len, X509 **out);

/* Fills *info from a parsed certificate (no trust decision). Returns 0, or
 * CERT_EPARSE when a field cannot be represented (e.g. a DN longer than
 * CERT_DN_SIZE, a name with control characters, an unreadable key). */
int cert_info_get(X509 *x, struct cert_info *info);

/* Verifies a certificate offered for log-in: leaf[0..len) is PEM (the leaf,
 * optionally followed by up to CERT_CHAIN_MAX intermediates) or one DER
 * certificate. Checks, at time now: key type, that it is an end-entity
 * certificate usable for signatures, the chain to a trust anchor of st
 * (OpenSSL security level 2: no SHA-1 or weak CA keys), validity periods, and
 * the CRL when st has one. Returns 0 or a CERT_E* code; err receives an
 * English detail for logs (may be NULL). *info (may be NULL) is zeroed first
 * and, once the certificate has been read, describes it even when a later
 * check fails, so a rejection can be logged by fingerprint. */
int cert_verify(const struct cert_store *st, const char *leaf, size_t len, time_t now,
		struct cert_info *info, char *err, size_t errsz);

/* Checks sig[0..siglen) over msg[0..msglen) against the public key of the
 * first certificate in leaf[0..len) (PEM or DER): RSA PKCS#1 v1.5 with
 * SHA-256, or ECDSA P-256 with SHA-256 in DER (SEQUENCE { r, s }) form.
 * This does not judge the certificate: call cert_verify() too, at every
 * log-in, since a certificate may be revoked after registration.
 * Returns 0, CERT_ESIGNATURE, CERT_EKEYTYPE, CERT_EPARSE, CERT_ETOOLARGE or
 * CERT_EINTERNAL. */
int cert_verify_signature(const char *leaf, size_t len, const unsigned char *msg, size_t msglen,
			  const unsigned char *sig, size_t siglen);

/* Appends the leaf and any intermediates of in[0..len) (PEM or DER) to out
 * as canonical PEM: the form to store at registration. Returns 0, CERT_EPARSE,
 * CERT_ETOOLARGE or -E2BIG from the buffer. */
int cert_to_pem(const char *in, size_t len, struct buf *out);

/* Japanese sentence for a resident (static, never NULL), and English name
 * for logs. */
const char *cert_strerror_ja(int rc);
const char *cert_strerror(int rc);

#endif
