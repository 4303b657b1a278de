/* Server keys, kept in <data_dir>/keys/ with mode 0600 and held in
 * sodium_malloc'd memory: a 32-byte master secret (token hashing, TOTP secret
 * encryption; later modules derive their own subkeys from it) and the
 * Ed25519 key that signs audit checkpoints. Created on first use. */
#ifndef MADO_KEYS_H
#define MADO_KEYS_H
#include <sodium.h>
#include <stddef.h>

struct keys {
	unsigned char master[32];
	unsigned char audit_sk[crypto_sign_SECRETKEYBYTES];
	unsigned char audit_pk[crypto_sign_PUBLICKEYBYTES];
	char audit_key_id[17];       /* first 8 bytes of the public key, hex */
	unsigned char token_key[32]; /* KEY_TOKEN_HASH subkey, derived once at load */
};

/* Loads the keys from dir, creating any that are missing when create is true.
 * Returns NULL with a message in err on failure. */
struct keys *keys_load(const char *dir, int create, char *err, size_t errlen);
/* Wipes and frees. */
void keys_free(struct keys *k);
/* Derives a 32-byte subkey for a named purpose (crypto_kdf, context "madoguch"). */
void keys_derive(const struct keys *k, unsigned long id, unsigned char out[32]);

enum {
	KEY_TOKEN_HASH = 1,
	KEY_TOTP_ENC = 2,
	KEY_CSRF = 3,
	KEY_MYNUMBER_ENC = 4, /* resident/: XChaCha20-Poly1305 key of stored My Numbers */
	KEY_MYNUMBER_IDX = 5, /* resident/: keyed BLAKE2b blind index of My Numbers */
};

#endif
