/* libFuzzer driver for the router and path decoding: a method byte and a raw
 * path, decoded by urlenc_decode_path and matched against a fixed table shaped
 * like the server's. Checks the invariants of a match, not just "no crash". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "http/router.h"
#include "http/urlenc.h"

static void h(struct req *r, struct res *s)
{
}

#define R(m, p)                                                                                    \
	{                                                                                          \
		(m), (p), h, NULL, 0, (p)                                                          \
	}

static const struct route table[] = {
	R(HTTP_GET, "/"),
	R(HTTP_GET, "/healthz"),
	R(HTTP_GET, "/readyz"),
	R(HTTP_GET, "/metrics"),
	R(HTTP_GET | HTTP_POST, "/login"),
	R(HTTP_POST, "/logout"),
	R(HTTP_GET, "/static/*path"),
	R(HTTP_GET, "/api/v1/me"),
	R(HTTP_GET, "/api/v1/users"),
	R(HTTP_POST, "/api/v1/users"),
	R(HTTP_GET, "/api/v1/users/new"),
	R(HTTP_GET | HTTP_PUT | HTTP_DELETE, "/api/v1/users/:id"),
	R(HTTP_GET, "/api/v1/users/:id/roles"),
	R(HTTP_PUT, "/api/v1/users/:id/roles/:role"),
	R(HTTP_GET, "/api/v1/t/:lg/residents/:rid/history"),
	R(HTTP_GET, "/api/v1/t/:lg/files/*rest"),
	R(HTTP_GET, "/a/:p1/:p2/:p3/:p4/:p5/:p6/:p7/*p8"),
	R(HTTP_GET, "/和歌山/:x"),
};

static struct router *rt;

static void build(void)
{
	rt = router_new();
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (router_add(rt, &table[i]) != 0)
			abort();
}

static void check(const char *path, enum http_method m)
{
	struct arena *a = arena_new();
	struct req req;
	unsigned allowed = 0;
	memset(&req, 0, sizeof req);
	req.arena = a;
	int rc = router_match(rt, m, path, &req, &allowed);
	if (rc == ROUTER_FOUND) {
		if (!req.route || req.nparams < 0 || req.nparams > REQ_MAX_PARAMS)
			abort();
		for (int i = 0; i < req.nparams; i++) {
			const char *n = req.param_name[i], *v = req.param_value[i];
			if (!n || !v || !*v)
				abort(); /* parameters never match an empty segment */
			bool rest = strstr(req.route->pattern, "*") != NULL && i == req.nparams - 1;
			if (!rest && strchr(v, '/'))
				abort(); /* a ':param' is exactly one segment */
			if (!strstr(path, v))
				abort();
		}
		bool ok = (req.route->methods & (unsigned)m) ||
			  (m == HTTP_HEAD && (req.route->methods & HTTP_GET));
		if (!ok)
			abort();
	} else if (rc == ROUTER_BAD_METHOD) {
		/* a real method (one bit) that the path refuses is not in Allow */
		bool single = m && !((unsigned)m & ((unsigned)m - 1));
		if (!allowed || (single && (allowed & (unsigned)m)) || req.route)
			abort();
	} else if (rc != ROUTER_NOT_FOUND || allowed || req.route || req.nparams) {
		abort();
	}
	arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rt)
		build();
	if (size < 1)
		return 0;
	enum http_method m = (enum http_method)(data[0] < 8 ? 1u << data[0] : data[0]);
	const char *raw = (const char *)data + 1;
	size_t n = size - 1;

	/* the raw bytes as a path, up to the first NUL */
	char *copy = malloc(n + 1);
	memcpy(copy, raw, n);
	copy[n] = '\0';
	check(copy, m);

	/* and decoded, as the server does it */
	struct arena *a = arena_new();
	char *path = NULL;
	if (urlenc_decode_path(a, raw, n, &path) == 0) {
		if (!path || path[0] != '/' || strlen(path) > n)
			abort();
		check(path, m);
	}
	arena_free(a);
	free(copy);
	return 0;
}
