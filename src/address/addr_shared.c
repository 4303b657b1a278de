/* The index the server shares: built in the background when the server
 * starts, rebuilt when an importer has bumped the registry generation, and
 * swapped in under a mutex. Readers hold counted references, so an index is
 * freed only when its last reader lets go, and no lock is held while they
 * normalize. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address/addr_internal.h"
#include "common/log.h"
#include "registry/registry.h"

/* ix_lock guards cur, cur_app, the refs of every shared index and the
 * failure state; it is held for a few instructions at a time. build_lock
 * lets one build run at a time (a build takes a second or more); it is never
 * taken while ix_lock is held. */
static pthread_mutex_t ix_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;
static struct addr_index *cur; /* the current index; holds one reference */
static struct app *cur_app;    /* whose database it was built from */
/* After a failed first build, acquire gives the same error for a while
 * instead of each request retrying a build under the lock. */
static double failed_at;
static struct app *failed_app;
static char failed_err[256];

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t addr_index_generation(const struct addr_index *ix)
{
	return ix ? ix->generation : 0;
}

/* A new reference to app's current index, or NULL. ix_lock held. */
static const struct addr_index *ref_current(struct app *app)
{
	if (!cur || cur_app != app)
		return NULL;
	cur->refs++;
	return cur;
}

void addr_shared_release(const struct addr_index *cix)
{
	if (!cix)
		return;
	/* refs is bookkeeping beside the index, not part of what readers see */
	struct addr_index *ix = (struct addr_index *)cix;
	pthread_mutex_lock(&ix_lock);
	assert(ix->refs > 0);
	bool last = --ix->refs == 0;
	pthread_mutex_unlock(&ix_lock);
	if (last)
		addr_index_free(ix);
}

/* Reads the generation first, then builds: an import that commits during
 * the build leaves the generation newer than the index's, so the next
 * refresh builds again rather than missing it. build_lock held. */
static int refresh_locked(struct app *app, char *err, size_t errlen)
{
	struct db_conn *c = db_acquire(app->db);
	struct addr_index *ix = NULL, *old = NULL;
	struct addr_index_stats st;
	int64_t gen = 0;
	int rc = -1;
	if (registry_generation(c, &gen) != 0) {
		snprintf(err, errlen, "reading the registry generation failed: %s", db_errmsg(c));
		goto out;
	}
	pthread_mutex_lock(&ix_lock);
	bool current = cur && cur_app == app && cur->generation == gen;
	pthread_mutex_unlock(&ix_lock);
	if (current) {
		rc = 0;
		goto out;
	}
	if (addr_index_load(c, &ix, &st, err, errlen) != 0)
		goto out;
	ix->generation = gen;
	ix->refs = 1; /* the reference cur holds */
	pthread_mutex_lock(&ix_lock);
	old = cur; /* another app's index too: one shared index at a time */
	cur = ix;
	cur_app = app;
	if (failed_app == app)
		failed_app = NULL;
	pthread_mutex_unlock(&ix_lock);
	if (old)
		log_info("address index rebuilt for registry generation %lld: %zu towns, %zu "
			 "residences, %zu parcels in %.1f s",
			 (long long)gen, st.towns, st.residences, st.parcels, st.seconds);
	rc = 1;
out:
	db_release(c);
	if (rc < 0) {
		pthread_mutex_lock(&ix_lock);
		if (!cur || cur_app != app) {
			failed_app = app;
			failed_at = mono_s();
			snprintf(failed_err, sizeof failed_err, "%s", err);
		}
		pthread_mutex_unlock(&ix_lock);
	}
	addr_shared_release(old); /* freed here unless a reader still holds it */
	return rc;
}

int addr_shared_refresh(struct app *app, char *err, size_t errlen)
{
	pthread_mutex_lock(&build_lock);
	int rc = refresh_locked(app, err, errlen);
	pthread_mutex_unlock(&build_lock);
	return rc;
}

const struct addr_index *addr_shared_acquire(struct app *app, char *err, size_t errlen)
{
	pthread_mutex_lock(&ix_lock);
	const struct addr_index *ix = ref_current(app);
	pthread_mutex_unlock(&ix_lock);
	if (ix)
		return ix;
	/* No index of app yet: build it, or wait for the build under way. */
	pthread_mutex_lock(&build_lock);
	pthread_mutex_lock(&ix_lock);
	ix = ref_current(app);
	bool backoff = !ix && failed_app == app && mono_s() - failed_at < ADDR_RETRY_S;
	if (backoff)
		snprintf(err, errlen, "%s", failed_err);
	pthread_mutex_unlock(&ix_lock);
	if (!ix && !backoff && refresh_locked(app, err, errlen) >= 0) {
		pthread_mutex_lock(&ix_lock);
		ix = ref_current(app);
		pthread_mutex_unlock(&ix_lock);
	}
	pthread_mutex_unlock(&build_lock);
	return ix;
}

/* ---- the server's refresher ---- */

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond;
static pthread_t watch_thread;
static struct app *watch_app; /* non-NULL while the refresher runs */
static bool watch_stop;

/* Builds the index at once, then looks at the registry generation every
 * ADDR_REFRESH_S seconds (every ADDR_RETRY_S after a failure) until stopped.
 * A failure is logged once per distinct message; the old index stays. */
static void *watch(void *arg)
{
	struct app *app = arg;
	char err[256], last_err[256] = "";
	pthread_mutex_lock(&watch_lock);
	while (!watch_stop) {
		pthread_mutex_unlock(&watch_lock);
		int rc = addr_shared_refresh(app, err, sizeof err);
		if (rc < 0 && strcmp(err, last_err) != 0) {
			pthread_mutex_lock(&ix_lock);
			bool have = cur && cur_app == app;
			pthread_mutex_unlock(&ix_lock);
			if (have)
				log_warn(
					"address index not rebuilt, the previous one stays in use: %s",
					err);
			else
				log_warn("address index not loaded: %s", err);
			snprintf(last_err, sizeof last_err, "%s", err);
		} else if (rc >= 0) {
			last_err[0] = '\0';
		}
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += rc < 0 ? ADDR_RETRY_S : ADDR_REFRESH_S;
		pthread_mutex_lock(&watch_lock);
		while (!watch_stop &&
		       pthread_cond_timedwait(&watch_cond, &watch_lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&watch_lock);
	return NULL;
}

int addr_shared_start(struct app *app)
{
	pthread_mutex_lock(&watch_lock);
	int rc = 0;
	if (watch_app)
		goto out; /* one refresher per process: the server's app */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&watch_cond, &ca);
	pthread_condattr_destroy(&ca);
	watch_stop = false;
	if (pthread_create(&watch_thread, NULL, watch, app) != 0) {
		/* requests still build the index at first use; nothing refreshes it */
		log_warn("address: cannot start the index refresher");
		pthread_cond_destroy(&watch_cond);
		rc = -EAGAIN;
		goto out;
	}
	watch_app = app;
out:
	pthread_mutex_unlock(&watch_lock);
	return rc;
}

void addr_shared_stop(struct app *app)
{
	pthread_mutex_lock(&watch_lock);
	bool join = watch_app == app;
	if (join) {
		watch_stop = true;
		pthread_cond_signal(&watch_cond);
	}
	pthread_mutex_unlock(&watch_lock);
	if (join) {
		pthread_join(watch_thread, NULL);
		pthread_mutex_lock(&watch_lock);
		pthread_cond_destroy(&watch_cond);
		watch_app = NULL;
		pthread_mutex_unlock(&watch_lock);
	}
	struct addr_index *old = NULL;
	pthread_mutex_lock(&ix_lock);
	if (failed_app == app)
		failed_app = NULL;
	if (cur_app == app) {
		old = cur;
		cur = NULL;
		cur_app = NULL;
	}
	pthread_mutex_unlock(&ix_lock);
	addr_shared_release(old);
}
