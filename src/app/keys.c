/* Key files (see keys.h). Each key is written once with O_EXCL so two
 * processes starting together cannot create different keys. */
#include "app/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_exact(const char *path, unsigned char *p, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return got == n ? 0 : -EINVAL;
}

static int write_new(const char *path, const unsigned char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	size_t put = 0;
	while (put < n) {
		ssize_t w = write(fd, p + put, n - put);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(path);
			return -EIO;
		}
		put += (size_t)w;
	}
	int rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

/* Reads key file name into p, or makes it with gen() when allowed. */
static int load_one(const char *dir, const char *name, unsigned char *p, size_t n, int create,
		    void (*gen)(unsigned char *, size_t), char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int rc = read_exact(path, p, n);
	if (rc == -ENOENT && create) {
		gen(p, n);
		rc = write_new(path, p, n);
		if (rc == -EEXIST) /* another process won the race: use its key */
			rc = read_exact(path, p, n);
	}
	if (rc)
		snprintf(err, errlen, "key file %s: %s", path,
			 rc == -EINVAL ? "wrong size" : strerror(-rc));
	return rc;
}

static void gen_random(unsigned char *p, size_t n)
{
	randombytes_buf(p, n);
}

static void gen_ed25519(unsigned char *sk, size_t n)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	(void)n;
	crypto_sign_keypair(pk, sk);
}

struct keys *keys_load(const char *dir, int create, char *err, size_t errlen)
{
	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return NULL;
	}
	struct keys *k = sodium_malloc(sizeof(*k));
	if (!k) {
		snprintf(err, errlen, "out of secure memory");
		return NULL;
	}
	if (load_one(dir, "master.key", k->master, sizeof k->master, create, gen_random, err,
		     errlen) ||
	    load_one(dir, "audit-ed25519.key", k->audit_sk, sizeof k->audit_sk, create, gen_ed25519,
		     err, errlen)) {
		keys_free(k);
		return NULL;
	}
	crypto_sign_ed25519_sk_to_pk(k->audit_pk, k->audit_sk);
	keys_derive(k, KEY_TOKEN_HASH, k->token_key);
	for (int i = 0; i < 8; i++)
		snprintf(k->audit_key_id + 2 * i, 3, "%02x", k->audit_pk[i]);
	return k;
}

void keys_free(struct keys *k)
{
	if (k)
		sodium_free(k); /* sodium_free wipes before releasing */
}

void keys_derive(const struct keys *k, unsigned long id, unsigned char out[32])
{
	crypto_kdf_derive_from_key(out, 32, id, "madoguch", k->master);
}
