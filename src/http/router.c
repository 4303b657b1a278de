/* Router (see router.h): a trie with one node per path segment. Each node has
 * its literal children in a sorted array (binary search), at most one ':param'
 * child, and the routes that end there or take the rest of the path ('*name').
 * Matching walks the path once, tries literal before ':param' before '*rest'
 * and backtracks, so every trie node is visited at most once per request. */
#include "http/router.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "common/xalloc.h"

/* Deepest pattern accepted, in segments; keeps the matcher's recursion small. */
#define ROUTER_MAX_SEGMENTS 32
#define ROUTER_MAX_NAME 64
#define ROUTER_KNOWN_METHODS                                                                       \
	(HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE | HTTP_OPTIONS)

/* One registered route with its parameter names in path order. */
struct rentry {
	const struct route *route;
	int nparams;
	char *names[REQ_MAX_PARAMS];
	struct rentry *next; /* next route at the same node and kind */
};

struct rnode {
	char *seg; /* literal text of the edge leading here (NULL for root and ':param') */
	size_t seglen;
	struct rnode **lit; /* literal children sorted by (length, bytes) */
	size_t nlit, caplit;
	struct rnode *param; /* the ':name' child */
	struct rentry *here; /* routes ending at this node */
	struct rentry *rest; /* routes with '*name' after this node */
};

struct router {
	struct rnode root;
	struct rentry **all; /* registration order, for router_each */
	size_t nall, capall;
};

/* A pattern split into segments, before anything is inserted. */
enum seg_kind { SEG_LIT, SEG_PARAM, SEG_REST };
struct pseg {
	enum seg_kind kind;
	const char *p; /* literal text, or the name after ':' / '*' */
	size_t len;
};

struct router *router_new(void)
{
	return xcalloc(1, sizeof(struct router));
}

static void node_release(struct rnode *n)
{
	for (size_t i = 0; i < n->nlit; i++) {
		node_release(n->lit[i]);
		free(n->lit[i]);
	}
	free(n->lit);
	if (n->param) {
		node_release(n->param);
		free(n->param);
	}
	free(n->seg);
}

void router_free(struct router *rt)
{
	if (!rt)
		return;
	node_release(&rt->root);
	for (size_t i = 0; i < rt->nall; i++) {
		struct rentry *e = rt->all[i];
		for (int k = 0; k < e->nparams; k++)
			free(e->names[k]);
		free(e);
	}
	free(rt->all);
	free(rt);
}

static int seg_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

/* Index of the literal child equal to s, or -1; *ins gets the insert position. */
static long lit_find(const struct rnode *n, const char *s, size_t len, size_t *ins)
{
	size_t lo = 0, hi = n->nlit;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rnode *c = n->lit[mid];
		int r = seg_cmp(s, len, c->seg, c->seglen);
		if (r == 0)
			return (long)mid;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (ins)
		*ins = lo;
	return -1;
}

static struct rnode *lit_child(struct rnode *n, const char *s, size_t len)
{
	size_t ins = 0;
	long i = lit_find(n, s, len, &ins);
	if (i >= 0)
		return n->lit[i];
	if (n->nlit == n->caplit) {
		n->caplit = n->caplit ? n->caplit * 2 : 4;
		n->lit = xrealloc(n->lit, n->caplit * sizeof(*n->lit));
	}
	struct rnode *c = xcalloc(1, sizeof(*c));
	c->seg = xstrndup(s, len);
	c->seglen = len;
	memmove(n->lit + ins + 1, n->lit + ins, (n->nlit - ins) * sizeof(*n->lit));
	n->lit[ins] = c;
	n->nlit++;
	return c;
}

static bool name_ok(const char *p, size_t len)
{
	if (len == 0 || len > ROUTER_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static bool literal_ok(const char *p, size_t len)
{
	if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c == 0x7F || c == '?' || c == '#')
			return false;
	}
	return utf8_valid(p, len);
}

/* Splits and checks a pattern. Returns the number of segments, or -1. */
static int pattern_parse(const char *pat, struct pseg *segs, int *nparams)
{
	int n = 0, np = 0;
	if (pat[0] != '/')
		return -1;
	*nparams = 0;
	if (pat[1] == '\0')
		return 0;
	const char *s = pat + 1;
	for (;;) {
		const char *e = strchrnul(s, '/');
		size_t len = (size_t)(e - s);
		if (len == 0 || n == ROUTER_MAX_SEGMENTS)
			return -1; /* "//", a trailing '/', or too deep */
		struct pseg *g = &segs[n];
		if (s[0] == ':' || s[0] == '*') {
			g->kind = s[0] == ':' ? SEG_PARAM : SEG_REST;
			g->p = s + 1;
			g->len = len - 1;
			if (!name_ok(g->p, g->len) || np == REQ_MAX_PARAMS)
				return -1;
			if (g->kind == SEG_REST && *e != '\0')
				return -1; /* '*name' only as the last segment */
			for (int k = 0; k < n; k++) {
				if (segs[k].kind != SEG_LIT && segs[k].len == g->len &&
				    memcmp(segs[k].p, g->p, g->len) == 0)
					return -1; /* the same name twice */
			}
			np++;
		} else {
			g->kind = SEG_LIT;
			g->p = s;
			g->len = len;
			if (!literal_ok(s, len))
				return -1;
		}
		n++;
		if (*e == '\0')
			break;
		s = e + 1;
	}
	*nparams = np;
	return n;
}

static void all_push(struct router *rt, struct rentry *e)
{
	if (rt->nall == rt->capall) {
		rt->capall = rt->capall ? rt->capall * 2 : 16;
		rt->all = xrealloc(rt->all, rt->capall * sizeof(*rt->all));
	}
	rt->all[rt->nall++] = e;
}

int router_add(struct router *rt, const struct route *route)
{
	struct pseg segs[ROUTER_MAX_SEGMENTS];
	int nparams = 0;

	if (!rt || !route || !route->pattern || !route->methods ||
	    (route->methods & ~(unsigned)ROUTER_KNOWN_METHODS))
		return -1;
	if (!utf8_valid(route->pattern, strlen(route->pattern)))
		return -1;
	int nseg = pattern_parse(route->pattern, segs, &nparams);
	if (nseg < 0)
		return -1;

	/* Find the target list without creating nodes, so a duplicate leaves the
	 * trie as it was. */
	struct rnode *node = &rt->root;
	bool exists = true;
	int last = nseg;
	if (nseg > 0 && segs[nseg - 1].kind == SEG_REST)
		last = nseg - 1;
	for (int i = 0; i < last && exists; i++) {
		if (segs[i].kind == SEG_PARAM) {
			node = node->param;
		} else {
			long k = lit_find(node, segs[i].p, segs[i].len, NULL);
			node = k >= 0 ? node->lit[k] : NULL;
		}
		exists = node != NULL;
	}
	if (exists) {
		struct rentry *list = last < nseg ? node->rest : node->here;
		for (struct rentry *e = list; e; e = e->next)
			if (e->route->methods & route->methods)
				return -1;
	}

	node = &rt->root;
	for (int i = 0; i < last; i++) {
		if (segs[i].kind == SEG_PARAM) {
			if (!node->param)
				node->param = xcalloc(1, sizeof(*node->param));
			node = node->param;
		} else {
			node = lit_child(node, segs[i].p, segs[i].len);
		}
	}
	struct rentry *e = xcalloc(1, sizeof(*e));
	e->route = route;
	for (int i = 0; i < nseg; i++)
		if (segs[i].kind != SEG_LIT)
			e->names[e->nparams++] = xstrndup(segs[i].p, segs[i].len);
	assert(e->nparams == nparams);
	/* append, so that within one node earlier registrations are tried first */
	struct rentry **tail = last < nseg ? &node->rest : &node->here;
	while (*tail)
		tail = &(*tail)->next;
	*tail = e;
	all_push(rt, e);
	return 0;
}

/* ---- matching ---- */

struct mstate {
	unsigned m;
	unsigned allowed;
	const struct rentry *found;
	int nvals;
	const char *val[REQ_MAX_PARAMS];
	size_t len[REQ_MAX_PARAMS];
};

static unsigned allow_mask(unsigned methods)
{
	return methods | ((methods & HTTP_GET) ? HTTP_HEAD : 0);
}

/* The first route of list that takes the method; collects Allow otherwise.
 * HEAD is served by a GET route when no route at the node names HEAD. */
static const struct rentry *pick(const struct rentry *list, struct mstate *st)
{
	const struct rentry *via_get = NULL;
	for (const struct rentry *e = list; e; e = e->next) {
		if (e->route->methods & st->m)
			return e;
		if (!via_get && (allow_mask(e->route->methods) & st->m))
			via_get = e;
		st->allowed |= allow_mask(e->route->methods);
	}
	return via_get;
}

/* rem is "" at the end of the path or "/segment…". */
static bool walk(const struct rnode *n, const char *rem, struct mstate *st)
{
	if (*rem == '\0') {
		st->found = pick(n->here, st);
		return st->found != NULL;
	}
	const char *seg = rem + 1;
	const char *end = strchrnul(seg, '/');
	size_t len = (size_t)(end - seg);

	if (n->nlit && len) {
		long k = lit_find(n, seg, len, NULL);
		if (k >= 0 && walk(n->lit[k], end, st))
			return true;
	}
	if (n->param && len) {
		assert(st->nvals < REQ_MAX_PARAMS); /* pattern_parse bounds the depth */
		st->val[st->nvals] = seg;
		st->len[st->nvals] = len;
		st->nvals++;
		if (walk(n->param, end, st))
			return true;
		st->nvals--;
	}
	if (n->rest && *seg) {
		const struct rentry *e = pick(n->rest, st);
		if (e) {
			st->val[st->nvals] = seg;
			st->len[st->nvals] = strlen(seg);
			st->nvals++;
			st->found = e;
			return true;
		}
	}
	return false;
}

int router_match(const struct router *rt, enum http_method m, const char *path, struct req *req,
		 unsigned *allowed)
{
	struct mstate st;
	/* exactly one known method bit; anything else is taken by no route */
	unsigned mb = (unsigned)m;
	st.m = (mb && !(mb & (mb - 1)) && !(mb & ~(unsigned)ROUTER_KNOWN_METHODS)) ? mb : 0;
	st.allowed = 0;
	st.found = NULL;
	st.nvals = 0;

	req->route = NULL;
	req->nparams = 0;
	if (allowed)
		*allowed = 0;
	if (!path || path[0] != '/')
		return ROUTER_NOT_FOUND;

	const char *rem = path[1] == '\0' ? path + 1 : path;
	if (!walk(&rt->root, rem, &st)) {
		if (st.allowed) {
			if (allowed)
				*allowed = st.allowed;
			return ROUTER_BAD_METHOD;
		}
		return ROUTER_NOT_FOUND;
	}
	assert(st.nvals == st.found->nparams);
	req->route = st.found->route;
	req->nparams = st.nvals;
	for (int i = 0; i < st.nvals; i++) {
		req->param_name[i] = st.found->names[i];
		req->param_value[i] = arena_strndup(req->arena, st.val[i], st.len[i]);
	}
	return ROUTER_FOUND;
}

void router_each(const struct router *rt, void (*fn)(const struct route *, void *), void *ctx)
{
	for (size_t i = 0; i < rt->nall; i++)
		fn(rt->all[i]->route, ctx);
}
