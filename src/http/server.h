/* The HTTP server: libmicrohttpd with epoll and a thread pool, request
 * limits (header and body size, connection count, per-IP connections, idle
 * and whole-request timeouts that cut off slowloris clients), and graceful
 * shutdown. It knows nothing of routes or sessions: every complete request is
 * handed to one dispatch function (app/dispatch.c). */
#ifndef MADO_SERVER_H
#define MADO_SERVER_H
#include <stddef.h>

#include "http/http.h"

struct server;

struct server_opts {
	const char *listen; /* IPv4 or IPv6 literal */
	int port;           /* 0 picks a free port; see server_port() */
	int threads;        /* worker threads (>= 1) */
	size_t max_body;
	size_t max_header;
	int max_conns;
	int max_conns_per_ip;
	int idle_timeout;    /* seconds */
	int request_timeout; /* seconds from connection (or previous response) to a complete request */
	const char *tls_cert_pem; /* contents, not paths; both or neither */
	const char *tls_key_pem;
	struct app *app;
	/* Called once per complete request on a worker thread; fills res. */
	void (*dispatch)(struct req *r, struct res *s);
	/* Called after the response is queued, with its duration in µs. */
	void (*finished)(struct req *r, struct res *s, long dur_us);
};

/* Starts listening. Returns 0, or -1 with a message in err. */
int server_start(const struct server_opts *opts, struct server **out, char *err, size_t errlen);
/* The bound port (useful when opts.port was 0). */
int server_port(const struct server *srv);
/* Requests being handled right now. */
int server_inflight(const struct server *srv);
/* Stops accepting, waits up to grace_secs for in-flight requests to finish,
 * then closes every connection and frees the server. */
void server_stop(struct server *srv, int grace_secs);

#endif
