/* Prometheus metrics: requests by route, method and status, a latency
 * histogram, DB pool gauges and job counts, served at /metrics in the text
 * exposition format 0.0.4. Recording is lock-free after a series exists. */
#ifndef MADO_METRICS_H
#define MADO_METRICS_H
#include <stdbool.h>

#include "common/buf.h"

struct metrics;
struct app;
struct req;

/* The path the metrics are served at. */
#define METRICS_PATH "/metrics"

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
/* route is a static string (the route's name or pattern) or NULL for unrouted. */
void metrics_record(struct metrics *m, const char *route, const char *method, int status,
		    long dur_us);
/* Appends the exposition text; gauges are read from app (db pool, jobs). */
int metrics_render(struct metrics *m, struct app *app, struct buf *out);
/* Whether r may read the metrics: its client address (r->client_ip, which
 * behind a trusted proxy is the forwarded one) is loopback or in
 * --metrics-allow, or it sends "Authorization: Bearer <--metrics-token>".
 * Everyone else is answered 404, as if there were no such path. */
bool metrics_allowed(struct req *r);

#endif
