/* What server.c needs from req.c: setting up and tearing down a request's
 * arena and response, and failing a request before it reaches a handler. */
#ifndef MADO_REQ_INTERNAL_H
#define MADO_REQ_INTERNAL_H
#include "http/http.h"

void req_setup(struct req *r, struct res *s, struct app *app, struct MHD_Connection *conn);
/* Releases the arena and anything the request still holds (its db connection). */
void req_cleanup(struct req *r, struct res *s);
/* A bare error response (413, 400, 501 …) as problem+json or HTML page. */
void req_fail(struct req *r, struct res *s, int status);
/* Reason phrase, Japanese title of a status. */
const char *http_status_title_ja(int status);

/* Hook run by req_cleanup (the app releases its db connection there). */
typedef void (*req_cleanup_fn)(struct req *r);
void http_set_cleanup_hook(req_cleanup_fn fn);

/* Hook run once per request when its headers are in and peer_ip, client_ip
 * and tls hold what the connection says (the app looks behind a trusted
 * proxy there), before anything is answered or logged. */
typedef void (*req_client_fn)(struct req *r);
void http_set_client_hook(req_client_fn fn);
void req_resolve_client(struct req *r);

#endif
