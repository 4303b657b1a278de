/* Metrics registry (see metrics.h). Series live in a fixed open-addressed
 * table; a new series takes a mutex once, every later hit is an atomic add. */
#include "app/metrics.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "common/cidr.h"
#include "common/xalloc.h"
#include "jobs/jobs.h"

#define SERIES_MAX 1024
static const double bucket_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				   0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof bucket_le / sizeof bucket_le[0])

struct series {
	_Atomic(const char *) route; /* NULL: slot free */
	const char *method;
	int status;
	atomic_ullong count;
};

struct metrics {
	pthread_mutex_t lock;
	struct series s[SERIES_MAX];
	atomic_ullong bucket[NBUCKETS + 1];
	atomic_ullong sum_us;
	atomic_ullong total;
	atomic_ullong dropped;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static unsigned hash3(const char *route, const char *method, int status)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = route; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (const char *p = method; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ (unsigned)status) * 1099511628211ULL;
	return (unsigned)(h % SERIES_MAX);
}

static bool same(struct series *s, const char *route, const char *method, int status)
{
	const char *r = atomic_load(&s->route);
	return r && s->status == status && strcmp(r, route) == 0 && strcmp(s->method, method) == 0;
}

void metrics_record(struct metrics *m, const char *route, const char *method, int status,
		    long dur_us)
{
	if (!route)
		route = "unmatched";
	unsigned h = hash3(route, method, status);
	struct series *hit = NULL;
	for (unsigned i = 0; i < SERIES_MAX; i++) {
		struct series *s = &m->s[(h + i) % SERIES_MAX];
		if (!atomic_load(&s->route))
			break;
		if (same(s, route, method, status)) {
			hit = s;
			break;
		}
	}
	if (!hit) {
		pthread_mutex_lock(&m->lock);
		for (unsigned i = 0; i < SERIES_MAX; i++) {
			struct series *s = &m->s[(h + i) % SERIES_MAX];
			if (!atomic_load(&s->route)) {
				s->method = method;
				s->status = status;
				atomic_store(&s->route, route); /* publish last */
				hit = s;
				break;
			}
			if (same(s, route, method, status)) {
				hit = s;
				break;
			}
		}
		pthread_mutex_unlock(&m->lock);
	}
	if (hit)
		atomic_fetch_add(&hit->count, 1);
	else
		atomic_fetch_add(&m->dropped, 1);

	double secs = (double)dur_us / 1e6;
	size_t b = 0;
	while (b < NBUCKETS && secs > bucket_le[b])
		b++;
	atomic_fetch_add(&m->bucket[b], 1);
	atomic_fetch_add(&m->sum_us, (unsigned long long)(dur_us > 0 ? dur_us : 0));
	atomic_fetch_add(&m->total, 1);
}

/* Label values are route patterns and method names, which hold no quotes or
 * backslashes; escape anyway so a future route cannot break the format. */
static void put_label(struct buf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_putc(out, '\\');
		if (*v == '\n') {
			buf_puts(out, "\\n");
			continue;
		}
		buf_putc(out, *v);
	}
}

int metrics_render(struct metrics *m, struct app *app, struct buf *out)
{
	buf_puts(out, "# HELP mado_http_requests_total HTTP requests by route, method and status.\n"
		      "# TYPE mado_http_requests_total counter\n");
	for (unsigned i = 0; i < SERIES_MAX; i++) {
		struct series *s = &m->s[i];
		const char *route = atomic_load(&s->route);
		if (!route)
			continue;
		buf_puts(out, "mado_http_requests_total{route=\"");
		put_label(out, route);
		buf_puts(out, "\",method=\"");
		put_label(out, s->method);
		buf_printf(out, "\",status=\"%d\"} %llu\n", s->status,
			   (unsigned long long)atomic_load(&s->count));
	}
	buf_puts(out, "# HELP mado_http_request_duration_seconds Time from request to response.\n"
		      "# TYPE mado_http_request_duration_seconds histogram\n");
	unsigned long long cum = 0;
	for (size_t b = 0; b < NBUCKETS; b++) {
		cum += atomic_load(&m->bucket[b]);
		buf_printf(out, "mado_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
			   bucket_le[b], cum);
	}
	cum += atomic_load(&m->bucket[NBUCKETS]);
	buf_printf(out, "mado_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	buf_printf(out, "mado_http_request_duration_seconds_sum %.6f\n",
		   (double)atomic_load(&m->sum_us) / 1e6);
	buf_printf(out, "mado_http_request_duration_seconds_count %llu\n",
		   (unsigned long long)atomic_load(&m->total));

	int in_use = 0, total = 0;
	uint64_t waits = 0;
	db_pool_stats(app->db, &in_use, &total, &waits);
	buf_printf(out,
		   "# HELP mado_db_pool_connections Database connections by state.\n"
		   "# TYPE mado_db_pool_connections gauge\n"
		   "mado_db_pool_connections{state=\"in_use\"} %d\n"
		   "mado_db_pool_connections{state=\"idle\"} %d\n"
		   "# HELP mado_db_pool_waits_total Times a request waited for a connection.\n"
		   "# TYPE mado_db_pool_waits_total counter\n"
		   "mado_db_pool_waits_total %llu\n",
		   in_use, total - in_use, (unsigned long long)waits);

	buf_puts(out, "# HELP mado_jobs Background jobs by state.\n# TYPE mado_jobs gauge\n");
	struct db_conn *c = db_acquire(app->db);
	json_t *counts = NULL;
	if (jobs_counts(c, NULL, &counts) == 0 && json_is_object(counts)) {
		const char *state;
		json_t *v;
		json_object_foreach (counts, state, v) {
			buf_puts(out, "mado_jobs{state=\"");
			put_label(out, state);
			buf_printf(out, "\"} %lld\n", (long long)json_integer_value(v));
		}
	}
	json_decref(counts);
	db_release(c);
	buf_printf(out,
		   "# HELP mado_metrics_series_dropped_total Samples not recorded (table full).\n"
		   "# TYPE mado_metrics_series_dropped_total counter\n"
		   "mado_metrics_series_dropped_total %llu\n",
		   (unsigned long long)atomic_load(&m->dropped));
	return 0;
}

/* Compares hashes, so that neither the bytes nor the length of the token
 * leak through timing. */
static bool token_ok(const char *sent, const char *want)
{
	unsigned char hs[32], hw[32];
	crypto_generichash(hs, sizeof hs, (const unsigned char *)sent, strlen(sent), NULL, 0);
	crypto_generichash(hw, sizeof hw, (const unsigned char *)want, strlen(want), NULL, 0);
	return sodium_memcmp(hs, hw, sizeof hs) == 0;
}

bool metrics_allowed(struct req *r)
{
	const struct config *cfg = r->app->cfg;
	struct ipaddr ip;
	/* A request that names a client it was forwarded for is not taken as
	 * loopback: a proxy on this host (trusted or not) would otherwise make
	 * every outside client loopback, and so would a forwarding header the
	 * proxy step could not resolve (it falls back to the peer). */
	bool forwarded = req_header(r, "X-Forwarded-For") || req_header(r, "Forwarded");
	if (ip_parse(r->client_ip, strlen(r->client_ip), &ip) == 0 &&
	    ((ip_is_loopback(&ip) && !forwarded) || cidr_list_contains(cfg->metrics_allow, &ip)))
		return true;
	if (!cfg->metrics_token)
		return false;
	const char *authz = req_header(r, "Authorization");
	if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
		return false;
	const char *tok = authz + 7;
	while (*tok == ' ')
		tok++;
	return token_ok(tok, cfg->metrics_token);
}
