/* Argon2id password hashing and the password policy (see password.h).
 * libsodium does the hashing; this file adds bounded inputs, the cost
 * configuration, rehash decisions and Japanese messages. */
#include "auth/password.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "common/utf8.h"

_Static_assert(PASSWORD_HASH_SIZE == crypto_pwhash_STRBYTES, "hash buffer size");

static const char prefix_id[] = crypto_pwhash_argon2id_STRPREFIX; /* "$argon2id$" */
static const char prefix_i[] = crypto_pwhash_argon2i_STRPREFIX;   /* "$argon2i$" */

/* Each Argon2id computation holds its memory cost (64 MiB by default) while it
 * runs: at most `gate_max` run at once, the others wait their turn (each
 * takes a fraction of a second), so a burst of log-ins cannot exhaust
 * memory. 0 until first used or set: then the number of online CPUs. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static unsigned gate_max, gate_busy, gate_peak;

static void gate_enter(void)
{
	pthread_mutex_lock(&gate_lock);
	if (gate_max == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		gate_max = n > 0 ? (unsigned)n : 1;
	}
	while (gate_busy >= gate_max)
		pthread_cond_wait(&gate_cond, &gate_lock);
	if (++gate_busy > gate_peak)
		gate_peak = gate_busy;
	pthread_mutex_unlock(&gate_lock);
}

static void gate_leave(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_busy--;
	pthread_cond_signal(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

void password_set_concurrency(unsigned n)
{
	pthread_mutex_lock(&gate_lock);
	gate_max = n; /* 0: the number of online CPUs, at the next computation */
	gate_peak = 0;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

unsigned password_peak_concurrency(void)
{
	pthread_mutex_lock(&gate_lock);
	unsigned p = gate_peak;
	pthread_mutex_unlock(&gate_lock);
	return p;
}

/* Written once at start-up (see password_set_default_cost), read afterwards. */
static struct password_cost default_cost = {
	crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE,
};

struct password_cost password_cost_interactive(void)
{
	struct password_cost c = {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
	return c;
}

struct password_cost password_cost_minimum(void)
{
	struct password_cost c = {crypto_pwhash_argon2id_OPSLIMIT_MIN,
				  crypto_pwhash_argon2id_MEMLIMIT_MIN};
	return c;
}

static int cost_ok(const struct password_cost *c)
{
	return c->opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
	       c->opslimit <= crypto_pwhash_argon2id_OPSLIMIT_MAX &&
	       c->memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
	       c->memlimit <= crypto_pwhash_argon2id_MEMLIMIT_MAX;
}

int password_set_default_cost(const struct password_cost *cost)
{
	if (!cost || !cost_ok(cost))
		return PASSWORD_EINVAL;
	default_cost = *cost;
	return 0;
}

struct password_cost password_default_cost(void)
{
	return default_cost;
}

int password_hash(const char *pw, size_t len, const struct password_cost *cost,
		  char out[PASSWORD_HASH_SIZE])
{
	const struct password_cost *c = cost ? cost : &default_cost;
	if (len > PASSWORD_MAX_BYTES)
		return PASSWORD_ETOOLONG;
	if ((!pw && len) || !cost_ok(c))
		return PASSWORD_EINVAL;
	if (sodium_init() < 0)
		return PASSWORD_EINTERNAL;
	/* crypto_pwhash_str uses Argon2id (crypto_pwhash_ALG_DEFAULT) and only
	 * reads len bytes, so a password may contain any byte. */
	gate_enter();
	int rc = crypto_pwhash_str_alg(out, len ? pw : "", len, c->opslimit, c->memlimit,
				       crypto_pwhash_ALG_ARGON2ID13);
	gate_leave();
	return rc == 0 ? 0 : PASSWORD_EINTERNAL;
}

static bool has_prefix(const char *s, const char *prefix, size_t n)
{
	return strncmp(s, prefix, n) == 0;
}

/* Copies a stored hash string into a buffer libsodium may read in full,
 * rejecting anything that cannot be one of ours. */
static int load_stored(const char *stored, char copy[PASSWORD_HASH_SIZE])
{
	if (!stored)
		return PASSWORD_EFORMAT;
	size_t n = strnlen(stored, PASSWORD_HASH_SIZE);
	if (n == PASSWORD_HASH_SIZE)
		return PASSWORD_EFORMAT;
	if (!has_prefix(stored, prefix_id, sizeof prefix_id - 1) &&
	    !has_prefix(stored, prefix_i, sizeof prefix_i - 1))
		return PASSWORD_EFORMAT;
	memset(copy, 0, PASSWORD_HASH_SIZE);
	memcpy(copy, stored, n);
	return 0;
}

int password_verify(const char *stored, const char *pw, size_t len)
{
	char copy[PASSWORD_HASH_SIZE];
	int rc = load_stored(stored, copy);
	if (rc)
		return rc;
	if (len > PASSWORD_MAX_BYTES)
		return PASSWORD_ETOOLONG;
	if (!pw && len)
		return PASSWORD_EMISMATCH;
	if (sodium_init() < 0)
		return PASSWORD_EINTERNAL;
	/* libsodium answers -1 both for "wrong password" and for a malformed
	 * string; the prefix check above already sorted out the latter, and a
	 * string that only looks like a hash can never match anything. */
	gate_enter();
	rc = crypto_pwhash_str_verify(copy, len ? pw : "", len);
	gate_leave();
	return rc == 0 ? 0 : PASSWORD_EMISMATCH;
}

void password_verify_dummy(const char *pw, size_t len)
{
	/* One Argon2id computation at the default cost is what a real verify
	 * costs; hashing (with a throw-away salt) does exactly that. */
	char scratch[PASSWORD_HASH_SIZE];
	if (len > PASSWORD_MAX_BYTES)
		return; /* password_verify refuses these at once too */
	(void)password_hash(pw, len, NULL, scratch);
	sodium_memzero(scratch, sizeof scratch);
}

int password_needs_rehash(const char *stored, const struct password_cost *cost)
{
	const struct password_cost *c = cost ? cost : &default_cost;
	char copy[PASSWORD_HASH_SIZE];
	int rc = load_stored(stored, copy);
	if (rc)
		return rc;
	if (!cost_ok(c))
		return PASSWORD_EINVAL;
	if (sodium_init() < 0)
		return PASSWORD_EINTERNAL;
	int r = crypto_pwhash_str_needs_rehash(copy, c->opslimit, c->memlimit);
	if (r < 0)
		return PASSWORD_EFORMAT;
	/* libsodium compares the parameters only; an Argon2i string with the
	 * right numbers must still be upgraded to Argon2id. */
	if (!has_prefix(copy, prefix_id, sizeof prefix_id - 1))
		return 1;
	return r ? 1 : 0;
}

int password_policy_check(const char *pw, size_t len, const char **msg_ja)
{
	int rc = 0;
	if (len > PASSWORD_MAX_BYTES)
		rc = PASSWORD_ETOOLONG;
	else if ((!pw && len) || (len && !utf8_clean_line(pw, len)))
		rc = PASSWORD_EENCODING;
	else if (len == 0 || utf8_count(pw, len) < PASSWORD_MIN_CHARS)
		rc = PASSWORD_ETOOSHORT;
	if (msg_ja)
		*msg_ja = rc ? password_message_ja(rc) : NULL;
	return rc;
}

const char *password_message_ja(int rc)
{
	switch (rc) {
	case 0:
		return "";
	case PASSWORD_ETOOSHORT:
		return "パスワードは10文字以上で入力してください。";
	case PASSWORD_ETOOLONG:
		return "パスワードが長すぎます。1024バイト（全角文字はおよそ340文字）以内で入力してください。";
	case PASSWORD_EENCODING:
		return "パスワードに使用できない文字（改行や制御文字など）が含まれています。";
	case PASSWORD_EMISMATCH:
	case PASSWORD_EFORMAT:
		/* Never say which of the two was wrong. */
		return "ログインIDまたはパスワードが正しくありません。";
	default:
		return "システムエラーが発生しました。しばらくしてからもう一度お試しください。";
	}
}

const char *password_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case PASSWORD_EMISMATCH:
		return "password does not match";
	case PASSWORD_EFORMAT:
		return "stored value is not an Argon2 hash string";
	case PASSWORD_ETOOSHORT:
		return "password shorter than the policy minimum";
	case PASSWORD_ETOOLONG:
		return "password longer than the policy maximum";
	case PASSWORD_EENCODING:
		return "password is not clean UTF-8";
	case PASSWORD_EINTERNAL:
		return "libsodium failure";
	case PASSWORD_EINVAL:
		return "invalid argument or cost";
	default:
		return "unknown password error";
	}
}
