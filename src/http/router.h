/* Router: method + path pattern → route. Patterns are literal segments and
 * ':name' segments that match one non-empty segment; a trailing '*name'
 * matches the rest of the path. Matching is by segment, most literal first,
 * so "/a/new" wins over "/a/:id" whatever the registration order. */
#ifndef MADO_ROUTER_H
#define MADO_ROUTER_H
#include "http/http.h"

struct router;

struct router *router_new(void);
void router_free(struct router *rt);
/* Registers a route (the struct must outlive the router). Returns 0, or -1
 * when the pattern is malformed or the same method+pattern is already there. */
int router_add(struct router *rt, const struct route *route);

enum { ROUTER_FOUND = 0, ROUTER_NOT_FOUND = -1, ROUTER_BAD_METHOD = -2 };

/* Finds the route for method and an already percent-decoded path. On
 * ROUTER_FOUND fills req->route and req's params (values arena-allocated from
 * req->arena). On ROUTER_BAD_METHOD *allowed gets the methods the path does
 * accept (for the Allow header). */
int router_match(const struct router *rt, enum http_method m, const char *path, struct req *req,
		 unsigned *allowed);

/* Calls fn for every route (for /metrics labels and docs). */
void router_each(const struct router *rt, void (*fn)(const struct route *, void *), void *ctx);

#endif
