/* Unit tests for http/router.c: precedence (literal > :param > *rest) in any
 * registration order, backtracking, trailing slashes, 405 with Allow, HEAD via
 * GET, malformed and duplicate patterns, parameter copies in the arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "http/router.h"

static void h(struct req *r, struct res *s)
{
}

#define R(m, p)                                                                                    \
	{                                                                                          \
		(m), (p), h, NULL, 0, (p)                                                          \
	}

struct fx {
	struct router *rt;
	struct arena *arena;
	struct req req;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->rt = router_new();
	f->arena = arena_new();
	f->req.arena = f->arena;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	router_free(f->rt);
	arena_free(f->arena);
	free(f);
	return 0;
}

static int match(struct fx *f, enum http_method m, const char *path, unsigned *allowed)
{
	return router_match(f->rt, m, path, &f->req, allowed);
}

static const char *param(struct fx *f, const char *name)
{
	for (int i = 0; i < f->req.nparams; i++)
		if (strcmp(f->req.param_name[i], name) == 0)
			return f->req.param_value[i];
	return NULL;
}

static void test_literal_and_root(void **state)
{
	struct fx *f = *state;
	static const struct route root = R(HTTP_GET, "/"), hz = R(HTTP_GET, "/healthz"),
				  deep = R(HTTP_GET, "/api/v1/me");
	assert_int_equal(router_add(f->rt, &root), 0);
	assert_int_equal(router_add(f->rt, &hz), 0);
	assert_int_equal(router_add(f->rt, &deep), 0);

	assert_int_equal(match(f, HTTP_GET, "/", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &root);
	assert_int_equal(f->req.nparams, 0);
	assert_int_equal(match(f, HTTP_GET, "/healthz", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &hz);
	assert_int_equal(match(f, HTTP_GET, "/api/v1/me", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &deep);

	assert_int_equal(match(f, HTTP_GET, "/api/v1", NULL), ROUTER_NOT_FOUND);
	assert_null(f->req.route);
	assert_int_equal(match(f, HTTP_GET, "/api/v1/me/x", NULL), ROUTER_NOT_FOUND);
	assert_int_equal(match(f, HTTP_GET, "/healthz2", NULL), ROUTER_NOT_FOUND);
	assert_int_equal(match(f, HTTP_GET, "/HEALTHZ", NULL), ROUTER_NOT_FOUND);
	assert_int_equal(match(f, HTTP_GET, "", NULL), ROUTER_NOT_FOUND);
	assert_int_equal(match(f, HTTP_GET, "healthz", NULL), ROUTER_NOT_FOUND);
	assert_int_equal(match(f, HTTP_GET, NULL, NULL), ROUTER_NOT_FOUND);
}

/* "/a/" is not "/a", and "//a" is not "/a": paths are matched segment by
 * segment and empty segments match nothing but a '*rest'. */
static void test_trailing_and_empty_segments(void **state)
{
	struct fx *f = *state;
	static const struct route a = R(HTTP_GET, "/a"), id = R(HTTP_GET, "/u/:id");
	assert_int_equal(router_add(f->rt, &a), 0);
	assert_int_equal(router_add(f->rt, &id), 0);
	assert_int_equal(match(f, HTTP_GET, "/a", NULL), ROUTER_FOUND);
	assert_int_equal(match(f, HTTP_GET, "/a/", NULL), ROUTER_NOT_FOUND);
	assert_int_equal(match(f, HTTP_GET, "//a", NULL), ROUTER_NOT_FOUND);
	assert_int_equal(match(f, HTTP_GET, "/u/", NULL), ROUTER_NOT_FOUND); /* :id is non-empty */
	assert_int_equal(match(f, HTTP_GET, "/u//", NULL), ROUTER_NOT_FOUND);
	assert_int_equal(match(f, HTTP_GET, "/u/7/", NULL), ROUTER_NOT_FOUND);
	assert_int_equal(match(f, HTTP_GET, "/u/7", NULL), ROUTER_FOUND);
	assert_string_equal(param(f, "id"), "7");
}

static void test_params(void **state)
{
	struct fx *f = *state;
	static const struct route r = R(HTTP_GET, "/t/:lg/residents/:id/history");
	assert_int_equal(router_add(f->rt, &r), 0);
	char path[] = "/t/302015/residents/山田-1/history";
	assert_int_equal(match(f, HTTP_GET, path, NULL), ROUTER_FOUND);
	assert_int_equal(f->req.nparams, 2);
	assert_string_equal(f->req.param_name[0], "lg");
	assert_string_equal(f->req.param_value[0], "302015");
	assert_string_equal(f->req.param_name[1], "id");
	assert_string_equal(f->req.param_value[1], "山田-1");
	/* values are copies in the arena, not pointers into the path */
	memset(path, 'x', sizeof path - 1);
	assert_string_equal(param(f, "lg"), "302015");
	assert_true(arena_used(f->arena) > 0);
}

/* Literal beats :param beats *rest whatever the order of registration. */
static void test_precedence_any_order(void **state)
{
	struct fx *f = *state;
	static const struct route rest = R(HTTP_GET, "/a/*path"), prm = R(HTTP_GET, "/a/:id"),
				  lit = R(HTTP_GET, "/a/new");
	assert_int_equal(router_add(f->rt, &rest), 0);
	assert_int_equal(router_add(f->rt, &prm), 0);
	assert_int_equal(router_add(f->rt, &lit), 0);

	assert_int_equal(match(f, HTTP_GET, "/a/new", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &lit);
	assert_int_equal(f->req.nparams, 0);
	assert_int_equal(match(f, HTTP_GET, "/a/42", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &prm);
	assert_string_equal(param(f, "id"), "42");
	assert_int_equal(match(f, HTTP_GET, "/a/42/x/y", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &rest);
	assert_string_equal(param(f, "path"), "42/x/y");
	assert_int_equal(match(f, HTTP_GET, "/a/", NULL), ROUTER_NOT_FOUND); /* *rest non-empty */
	assert_int_equal(match(f, HTTP_GET, "/a", NULL), ROUTER_NOT_FOUND);
}

/* A literal branch that dead-ends gives way to the :param branch. */
static void test_backtracking(void **state)
{
	struct fx *f = *state;
	static const struct route lit = R(HTTP_GET, "/a/new/edit"),
				  prm = R(HTTP_GET, "/a/:id/view");
	assert_int_equal(router_add(f->rt, &lit), 0);
	assert_int_equal(router_add(f->rt, &prm), 0);
	assert_int_equal(match(f, HTTP_GET, "/a/new/view", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &prm);
	assert_string_equal(param(f, "id"), "new");
	assert_int_equal(match(f, HTTP_GET, "/a/new/edit", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &lit);
	assert_int_equal(f->req.nparams, 0); /* the abandoned branch left no param */
}

static void test_methods_and_allow(void **state)
{
	struct fx *f = *state;
	static const struct route get = R(HTTP_GET, "/users/:id"),
				  put = R(HTTP_PUT | HTTP_DELETE, "/users/:id"),
				  post = R(HTTP_POST, "/users");
	unsigned allowed = 0;
	assert_int_equal(router_add(f->rt, &get), 0);
	assert_int_equal(router_add(f->rt, &put), 0);
	assert_int_equal(router_add(f->rt, &post), 0);

	assert_int_equal(match(f, HTTP_DELETE, "/users/3", &allowed), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &put);
	assert_int_equal(match(f, HTTP_POST, "/users/3", &allowed), ROUTER_BAD_METHOD);
	assert_int_equal(allowed, HTTP_GET | HTTP_HEAD | HTTP_PUT | HTTP_DELETE);
	assert_null(f->req.route);
	assert_int_equal(match(f, HTTP_GET, "/users", &allowed), ROUTER_BAD_METHOD);
	assert_int_equal(allowed, HTTP_POST);
	/* NULL allowed is fine */
	assert_int_equal(match(f, HTTP_PATCH, "/users", NULL), ROUTER_BAD_METHOD);
	/* 404 clears allowed */
	allowed = 99;
	assert_int_equal(match(f, HTTP_GET, "/nope", &allowed), ROUTER_NOT_FOUND);
	assert_int_equal(allowed, 0);
	/* HEAD is served by the GET route */
	assert_int_equal(match(f, HTTP_HEAD, "/users/3", &allowed), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &get);
	/* an unknown method value, or several bits at once, is taken by no route */
	assert_int_equal(match(f, (enum http_method)0, "/users/3", &allowed), ROUTER_BAD_METHOD);
	assert_int_equal(match(f, (enum http_method)(HTTP_GET | HTTP_POST), "/users/3", &allowed),
			 ROUTER_BAD_METHOD);
	assert_int_equal(match(f, (enum http_method)(1 << 12), "/users/3", &allowed),
			 ROUTER_BAD_METHOD);
}

/* An explicit HEAD route wins over HEAD-via-GET at the same node. */
static void test_explicit_head(void **state)
{
	struct fx *f = *state;
	static const struct route get = R(HTTP_GET, "/f"), head = R(HTTP_HEAD, "/f");
	assert_int_equal(router_add(f->rt, &get), 0);
	assert_int_equal(router_add(f->rt, &head), 0);
	assert_int_equal(match(f, HTTP_HEAD, "/f", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &head);
	assert_int_equal(match(f, HTTP_GET, "/f", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &get);
}

/* A method refused by the literal route falls through to the :param route
 * that takes it. */
static void test_method_falls_through(void **state)
{
	struct fx *f = *state;
	static const struct route lit = R(HTTP_GET, "/a/new"), prm = R(HTTP_POST, "/a/:id");
	assert_int_equal(router_add(f->rt, &lit), 0);
	assert_int_equal(router_add(f->rt, &prm), 0);
	assert_int_equal(match(f, HTTP_POST, "/a/new", NULL), ROUTER_FOUND);
	assert_ptr_equal(f->req.route, &prm);
	assert_string_equal(param(f, "id"), "new");
}

static void test_malformed_patterns(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"",
		"a",
		"//",
		"/a/",
		"/a//b",
		"/:",
		"/*",
		"/:1x",
		"/:a-b",
		"/*rest/more",
		"/:id/:id",
		"/:id/*id",
		"/a/./b",
		"/a/../b",
		"/.",
		"/a b",
		"/a?b",
		"/a#b",
		"/a\tb",
		"/\xFF",
		"/a\x7F",
		"/:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"/:p1/:p2/:p3/:p4/:p5/:p6/:p7/:p8/:p9",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct route r = R(HTTP_GET, bad[i]);
		if (router_add(f->rt, &r) != -1)
			fail_msg("pattern '%s' was accepted", bad[i]);
	}
	static const struct route nomethod = R(0, "/x"), badmethod = R(1u << 20, "/x");
	assert_int_equal(router_add(f->rt, &nomethod), -1);
	assert_int_equal(router_add(f->rt, &badmethod), -1);
	struct route nopat = R(HTTP_GET, NULL);
	assert_int_equal(router_add(f->rt, &nopat), -1);
	assert_int_equal(router_add(f->rt, NULL), -1);
	/* nothing got registered */
	assert_int_equal(match(f, HTTP_GET, "/x", NULL), ROUTER_NOT_FOUND);
}

static void test_max_params(void **state)
{
	struct fx *f = *state;
	static const struct route r = R(HTTP_GET, "/:p1/:p2/:p3/:p4/:p5/:p6/:p7/*p8");
	assert_int_equal(router_add(f->rt, &r), 0);
	assert_int_equal(match(f, HTTP_GET, "/1/2/3/4/5/6/7/8/9", NULL), ROUTER_FOUND);
	assert_int_equal(f->req.nparams, REQ_MAX_PARAMS);
	assert_string_equal(param(f, "p7"), "7");
	assert_string_equal(param(f, "p8"), "8/9");
}

static void test_duplicates(void **state)
{
	struct fx *f = *state;
	static const struct route a = R(HTTP_GET | HTTP_POST, "/x/:id"), b = R(HTTP_POST, "/x/:id"),
				  c = R(HTTP_GET, "/x/:other"), d = R(HTTP_DELETE, "/x/:key"),
				  e = R(HTTP_GET, "/s/*a"), g = R(HTTP_GET, "/s/*b");
	assert_int_equal(router_add(f->rt, &a), 0);
	assert_int_equal(router_add(f->rt, &b), -1); /* same method and pattern */
	assert_int_equal(router_add(f->rt, &c), -1); /* same shape, overlapping method */
	assert_int_equal(router_add(f->rt, &d), 0);  /* same shape, other method */
	assert_int_equal(router_add(f->rt, &e), 0);
	assert_int_equal(router_add(f->rt, &g), -1);
	assert_int_equal(router_add(f->rt, &a), -1);
	/* each route reports its own parameter names */
	assert_int_equal(match(f, HTTP_DELETE, "/x/9", NULL), ROUTER_FOUND);
	assert_string_equal(f->req.param_name[0], "key");
	assert_int_equal(match(f, HTTP_GET, "/x/9", NULL), ROUTER_FOUND);
	assert_string_equal(f->req.param_name[0], "id");
}

static void collect(const struct route *r, void *ctx)
{
	char *out = ctx;
	size_t n = strlen(out);
	snprintf(out + n, 200 - n, "%s;", r->name);
}

static void test_each_in_order(void **state)
{
	struct fx *f = *state;
	static const struct route r1 = R(HTTP_GET, "/z"), r2 = R(HTTP_GET, "/a/:id"),
				  r3 = R(HTTP_GET, "/m/*rest"), r4 = R(HTTP_GET, "/");
	assert_int_equal(router_add(f->rt, &r1), 0);
	assert_int_equal(router_add(f->rt, &r2), 0);
	assert_int_equal(router_add(f->rt, &r3), 0);
	assert_int_equal(router_add(f->rt, &r4), 0);
	char out[200] = "";
	router_each(f->rt, collect, out);
	assert_string_equal(out, "/z;/a/:id;/m/*rest;/;");
}

/* Many siblings: the sorted literal table is searched correctly. */
static void test_many_literals(void **state)
{
	struct fx *f = *state;
	static struct route rs[300];
	static char pats[300][24];
	for (int i = 0; i < 300; i++) {
		snprintf(pats[i], sizeof pats[i], "/p/%d/x", (i * 7919) % 1000);
		rs[i] = (struct route)R(HTTP_GET, pats[i]);
		assert_int_equal(router_add(f->rt, &rs[i]), 0);
	}
	for (int i = 0; i < 300; i++) {
		assert_int_equal(match(f, HTTP_GET, pats[i], NULL), ROUTER_FOUND);
		assert_ptr_equal(f->req.route, &rs[i]);
	}
	assert_int_equal(match(f, HTTP_GET, "/p/1001/x", NULL), ROUTER_NOT_FOUND);
}

/* A hostile path: very deep, very long; no crash and a plain 404. */
static void test_hostile_path(void **state)
{
	struct fx *f = *state;
	static const struct route r = R(HTTP_GET, "/:a/:b/:c");
	assert_int_equal(router_add(f->rt, &r), 0);
	size_t n = 100000;
	char *p = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		p[i] = (i % 2) ? 'x' : '/';
	p[n] = '\0';
	assert_int_equal(match(f, HTTP_GET, p, NULL), ROUTER_NOT_FOUND);
	memset(p, '/', n);
	assert_int_equal(match(f, HTTP_GET, p, NULL), ROUTER_NOT_FOUND);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_literal_and_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_and_empty_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence_any_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backtracking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_methods_and_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explicit_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_method_falls_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_patterns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_literals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_path, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
