/* HTTP server on libmicrohttpd (see server.h). Bodies are collected into a
 * bounded buffer; a reaper thread shuts down connections that take longer than
 * request_timeout to deliver a complete request, which is what ends a
 * slowloris client that keeps resetting the idle timer with single bytes. */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/wipe.h"
#include "common/xalloc.h"
#include "http/req_internal.h"

enum conn_state { CONN_WAITING, CONN_RECEIVING, CONN_HANDLING };

/* Per TCP connection, for the reaper. Linked under server.conn_lock. */
struct conn_track {
	struct conn_track *prev, *next;
	int fd;
	enum conn_state state;
	int64_t since_ms; /* when the current wait/receive began */
	bool cut;
};

struct server {
	struct MHD_Daemon *d;
	struct server_opts o;
	atomic_int inflight;
	pthread_mutex_t conn_lock;
	struct conn_track conns; /* list head */
	pthread_t reaper;
	pthread_mutex_t reaper_lock;
	pthread_cond_t reaper_cond;
	bool stopping;
	int port;
};

/* Per HTTP request (MHD's con_cls). */
struct rctx {
	struct req req;
	struct res res;
	struct buf body;
	bool too_big;
	bool dispatched;
	struct timespec t0;
	struct conn_track *ct;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct server *srv = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn_track *ct = xcalloc(1, sizeof(*ct));
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		ct->fd = ci ? ci->connect_fd : -1;
		ct->state = CONN_WAITING;
		ct->since_ms = now_ms();
		pthread_mutex_lock(&srv->conn_lock);
		ct->next = srv->conns.next;
		ct->prev = &srv->conns;
		srv->conns.next->prev = ct;
		srv->conns.next = ct;
		pthread_mutex_unlock(&srv->conn_lock);
		*socket_ctx = ct;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct conn_track *ct = *socket_ctx;
		if (!ct)
			return;
		pthread_mutex_lock(&srv->conn_lock);
		ct->prev->next = ct->next;
		ct->next->prev = ct->prev;
		pthread_mutex_unlock(&srv->conn_lock);
		free(ct);
		*socket_ctx = NULL;
	}
}

static void conn_set_state(struct server *srv, struct conn_track *ct, enum conn_state st)
{
	if (!ct)
		return;
	pthread_mutex_lock(&srv->conn_lock);
	if (ct->state != st) {
		ct->state = st;
		if (st != CONN_HANDLING)
			ct->since_ms = now_ms();
	}
	pthread_mutex_unlock(&srv->conn_lock);
}

/* Cuts connections that have not delivered a whole request in time. A
 * connection being handled is never cut: a slow handler is not the client's
 * fault. shutdown() (not close()) lets MHD notice and clean up itself. */
static void *reaper_main(void *arg)
{
	struct server *srv = arg;
	int64_t limit = (int64_t)srv->o.request_timeout * 1000;
	pthread_mutex_lock(&srv->reaper_lock);
	while (!srv->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->reaper_cond, &srv->reaper_lock, &ts);
		if (srv->stopping)
			break;
		int64_t now = now_ms();
		pthread_mutex_lock(&srv->conn_lock);
		for (struct conn_track *ct = srv->conns.next; ct != &srv->conns; ct = ct->next) {
			if (ct->state == CONN_HANDLING || ct->cut || ct->fd < 0)
				continue;
			if (now - ct->since_ms > limit) {
				shutdown(ct->fd, SHUT_RDWR);
				ct->cut = true;
			}
		}
		pthread_mutex_unlock(&srv->conn_lock);
	}
	pthread_mutex_unlock(&srv->reaper_lock);
	return NULL;
}

static enum http_method method_of(const char *m)
{
	static const struct {
		const char *name;
		enum http_method m;
	} tab[] = {{"GET", HTTP_GET},        {"HEAD", HTTP_HEAD},   {"POST", HTTP_POST},
		   {"PUT", HTTP_PUT},        {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE},
		   {"OPTIONS", HTTP_OPTIONS}};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(m, tab[i].name) == 0)
			return tab[i].m;
	return 0;
}

/* Fast, non-cryptographic request ids: a per-thread random prefix and counter. */
static void make_request_id(char out[33])
{
	static _Thread_local uint64_t prefix, counter;
	if (!prefix)
		randombytes_buf(&prefix, sizeof prefix);
	uint64_t c = ++counter;
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)prefix, (unsigned long long)c);
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
			  (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)n);
}

static const char *raw_target(struct arena *a, struct MHD_Connection *conn, const char *url);

static enum MHD_Result send_res(struct server *srv, struct MHD_Connection *conn, struct rctx *rc)
{
	struct res *s = &rc->res;
	size_t len = 0;
	char *body = buf_detach(&s->body, &len);
	/* the body may be a resident's record: zeroed when libmicrohttpd is done */
	struct MHD_Response *resp =
		MHD_create_response_from_buffer_with_free_callback(len, body, wipe_free);
	if (!resp) {
		wipe_free(body);
		return MHD_NO;
	}
	if (s->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, s->content_type);
	/* The same strict headers on every response, errors included. */
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; script-src 'none'; object-src 'none'; "
				"style-src 'self'; img-src 'self' data:; base-uri 'none'; "
				"form-action 'self'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "X-Request-Id", rc->req.request_id);
	if (rc->req.tls)
		MHD_add_response_header(resp, "Strict-Transport-Security",
					"max-age=63072000; includeSubDomains");
	for (int i = 0; i < s->nheaders; i++)
		MHD_add_response_header(resp, s->headers[i].name, s->headers[i].value);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)s->status, resp);
	MHD_destroy_response(resp);
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long us = (long)((t1.tv_sec - rc->t0.tv_sec) * 1000000L +
			 (t1.tv_nsec - rc->t0.tv_nsec) / 1000);
	s->body.len = len; /* detached, but the size is still wanted by the access log */
	if (srv->o.finished)
		srv->o.finished(&rc->req, s, us);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	struct rctx *rc = *con_cls;

	if (!rc) {
		rc = xcalloc(1, sizeof(*rc));
		*con_cls = rc;
		atomic_fetch_add(&srv->inflight, 1);
		clock_gettime(CLOCK_MONOTONIC, &rc->t0);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		rc->ct = ci ? ci->socket_context : NULL;
		conn_set_state(srv, rc->ct, CONN_RECEIVING);
		buf_init(&rc->body, srv->o.max_body);
		req_setup(&rc->req, &rc->res, srv->o.app, conn);
		make_request_id(rc->req.request_id);
		client_ip(conn, rc->req.peer_ip, sizeof rc->req.peer_ip);
		memcpy(rc->req.client_ip, rc->req.peer_ip, sizeof rc->req.client_ip);
		rc->req.tls = srv->o.tls_cert_pem != NULL;
		req_resolve_client(&rc->req);
		rc->req.method = method_of(method);
		rc->req.raw_url = raw_target(rc->req.arena, conn, url);

		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl) {
			char *end = NULL;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno || end == cl || *end || n > srv->o.max_body)
				rc->too_big = true;
		}
		if (rc->too_big) {
			/* Answer before reading the body; MHD closes the connection after. */
			rc->dispatched = true;
			conn_set_state(srv, rc->ct, CONN_HANDLING);
			req_fail(&rc->req, &rc->res, 413);
			return send_res(srv, conn, rc);
		}
		return MHD_YES;
	}

	if (*upload_size) {
		if (!rc->too_big && buf_append(&rc->body, upload_data, *upload_size) != 0)
			rc->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rc->dispatched)
		return MHD_YES;
	rc->dispatched = true;
	conn_set_state(srv, rc->ct, CONN_HANDLING);

	if (rc->too_big) {
		req_fail(&rc->req, &rc->res, 413);
	} else {
		/* the body stays owned by rc->body; a NUL follows it */
		rc->req.body = buf_cstr(&rc->body);
		rc->req.body_len = rc->body.len;
		if (!rc->req.method)
			req_fail(&rc->req, &rc->res, 501);
		else
			srv->o.dispatch(&rc->req, &rc->res);
	}
	return send_res(srv, conn, rc);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct rctx *rc = *con_cls;
	if (!rc)
		return;
	conn_set_state(srv, rc->ct, CONN_WAITING);
	req_cleanup(&rc->req, &rc->res);
	buf_release(&rc->body);
	atomic_fetch_sub(&srv->inflight, 1);
	free(rc);
	*con_cls = NULL;
}

/* libmicrohttpd hands handlers the path and the query split into arguments
 * (left percent-encoded, see no_unescape); put the query back together so
 * that urlenc.c can decode and validate it like everything else. */
struct query_ctx {
	struct buf b;
	int overflow;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct query_ctx *q = cls;
	if (q->b.len && buf_putc(&q->b, '&'))
		q->overflow = 1;
	if (buf_puts(&q->b, key) || (value && (buf_putc(&q->b, '=') || buf_puts(&q->b, value))))
		q->overflow = 1;
	return q->overflow ? MHD_NO : MHD_YES;
}

static const char *raw_target(struct arena *a, struct MHD_Connection *conn, const char *url)
{
	struct query_ctx q = {.overflow = 0};
	buf_init(&q.b, 65536);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
	const char *out;
	if (q.overflow)
		out = arena_printf(a, "%s?%%", url); /* a bad escape: refused with 400 */
	else if (q.b.len)
		out = arena_printf(a, "%s?%s", url, buf_cstr(&q.b));
	else
		out = arena_strdup(a, url);
	buf_release(&q.b);
	return out;
}

/* Leave percent-escapes in place: urlenc.c decodes and validates them, so
 * %00 and invalid UTF-8 are refused instead of silently accepted. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("libmicrohttpd: %s", msg);
}

int server_start(const struct server_opts *opts, struct server **out, char *err, size_t errlen)
{
	struct server *srv = xcalloc(1, sizeof(*srv));
	srv->o = *opts;
	srv->conns.next = srv->conns.prev = &srv->conns;
	pthread_mutex_init(&srv->conn_lock, NULL);
	pthread_mutex_init(&srv->reaper_lock, NULL);
	pthread_cond_init(&srv->reaper_cond, NULL);

	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, opts->listen, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)opts->port);
	} else if (inet_pton(AF_INET6, opts->listen, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)opts->port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "listen address %s is not an IP address", opts->listen);
		goto fail;
	}
	if (opts->tls_cert_pem)
		flags |= MHD_USE_TLS;

	struct MHD_OptionItem tls_opts[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)opts->tls_cert_pem},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)opts->tls_key_pem},
		{MHD_OPTION_END, 0, NULL},
	};
	/* The connection memory pool holds the request line and headers; a
	 * request whose headers do not fit is refused by MHD (431). */
	size_t pool = opts->max_header + 4096;
	srv->d = MHD_start_daemon(
		flags, (uint16_t)opts->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)(opts->threads > 1 ? opts->threads : 1), MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)opts->max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)opts->max_conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)opts->idle_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, srv, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE,
		(unsigned)1, MHD_OPTION_ARRAY, opts->tls_cert_pem ? tls_opts : tls_opts + 2,
		MHD_OPTION_END);
	if (!srv->d) {
		snprintf(err, errlen, "cannot listen on %s:%d (%s)", opts->listen, opts->port,
			 errno ? strerror(errno) : "libmicrohttpd refused the options");
		goto fail;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = di ? di->port : opts->port;
	if (pthread_create(&srv->reaper, NULL, reaper_main, srv) != 0) {
		snprintf(err, errlen, "cannot start the connection reaper thread");
		MHD_stop_daemon(srv->d);
		goto fail;
	}
	*out = srv;
	return 0;
fail:
	pthread_mutex_destroy(&srv->conn_lock);
	pthread_mutex_destroy(&srv->reaper_lock);
	pthread_cond_destroy(&srv->reaper_cond);
	free(srv);
	*out = NULL;
	return -1;
}

int server_port(const struct server *srv)
{
	return srv->port;
}

int server_inflight(const struct server *srv)
{
	return atomic_load(&((struct server *)srv)->inflight);
}

void server_stop(struct server *srv, int grace_secs)
{
	if (!srv)
		return;
	MHD_socket ls = MHD_quiesce_daemon(srv->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	int64_t deadline = now_ms() + (int64_t)grace_secs * 1000;
	while (atomic_load(&srv->inflight) > 0 && now_ms() < deadline) {
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&srv->inflight) > 0)
		log_warn("shutdown: %d requests still running after %d s",
			 atomic_load(&srv->inflight), grace_secs);
	pthread_mutex_lock(&srv->reaper_lock);
	srv->stopping = true;
	pthread_cond_signal(&srv->reaper_cond);
	pthread_mutex_unlock(&srv->reaper_lock);
	pthread_join(srv->reaper, NULL);
	MHD_stop_daemon(srv->d);
	pthread_mutex_destroy(&srv->conn_lock);
	pthread_mutex_destroy(&srv->reaper_lock);
	pthread_cond_destroy(&srv->reaper_cond);
	free(srv);
}
