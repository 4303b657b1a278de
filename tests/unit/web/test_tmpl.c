/* Unit tests for the template engine (src/web/tmpl.c) and the embedded
 * asset table (src/web/assets.c): escaping, sections, partials, limits,
 * parse errors, the HTML-context checks, and every shipped template. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "web/assets.h"
#include "web/tmpl.h"

#ifndef MADO_SOURCE_DIR
#define MADO_SOURCE_DIR "."
#endif

static json_t *js(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

/* Compiles src as template "t", renders it with the JSON ctx text, and
 * returns 0 with the output in *out (free it), or the error code. */
static int run(const char *src, const char *ctx, char **out)
{
	char err[256] = "";
	struct tmpl_set *s = tmpl_load_string("t", src, err, sizeof err);
	*out = NULL;
	if (!s)
		return -EINVAL;
	json_t *j = ctx ? js(ctx) : NULL;
	struct buf b;
	buf_init(&b, 1 << 20);
	int rc = tmpl_render(s, "t", j, &b);
	if (rc == 0)
		*out = buf_detach(&b, NULL);
	buf_release(&b);
	json_decref(j);
	tmpl_free(s);
	return rc;
}

/* Renders and compares with want. */
static void expect(const char *src, const char *ctx, const char *want)
{
	char *got;
	int rc = run(src, ctx, &got);
	if (rc != 0)
		fail_msg("render of %s failed: %s", src, tmpl_strerror(rc));
	if (strcmp(got, want) != 0)
		fail_msg("template %s\n  want [%s]\n  got  [%s]", src, want, got);
	free(got);
}

/* Expects a parse error whose message contains want. */
static void expect_parse_error(const char *src, const char *want)
{
	char err[256] = "";
	struct tmpl_set *s = tmpl_load_string("page", src, err, sizeof err);
	if (s) {
		tmpl_free(s);
		fail_msg("template %s compiled, expected error containing '%s'", src, want);
	}
	if (!strstr(err, want))
		fail_msg("template %s: error '%s' does not contain '%s'", src, err, want);
}

/* ---- values and escaping ---- */

static void test_escape_every_special_char(void **state)
{
	(void)state;
	expect("{{x}}", "{\"x\": \"&<>\\\"'`=\"}", "&amp;&lt;&gt;&quot;&#39;&#96;&#61;");
	expect("<p title=\"{{x}}\">{{x}}</p>", "{\"x\": \"a\\\"b\"}",
	       "<p title=\"a&quot;b\">a&quot;b</p>");
	/* Japanese and other valid UTF-8 pass through untouched. */
	expect("{{x}}", "{\"x\": \"和歌山市 窓口 😀\"}", "和歌山市 窓口 😀");
	/* Ordinary text and template text are not escaped. */
	expect("a & b {{x}}", "{\"x\": \"plain\"}", "a & b plain");
}

static void test_escape_bad_bytes(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1024);
	/* NUL, a lone continuation byte, a truncated sequence, an overlong '/',
	 * a surrogate and a code point above U+10FFFF all become U+FFFD. */
	static const char in[] = "a\0b\x80"
				 "c\xe3\x81"
				 "d\xc0\xaf"
				 "e\xed\xa0\x80"
				 "f\xf4\x90\x80\x80";
	assert_int_equal(tmpl_escape(&b, in, sizeof in - 1), 0);
	const char *r = "\xef\xbf\xbd";
	char want[128];
	/* Each invalid byte is replaced on its own. */
	snprintf(want, sizeof want, "a%sb%sc%s%sd%s%se%s%s%sf%s%s%s%s", r, r, r, r, r, r, r, r, r,
		 r, r, r, r);
	assert_string_equal(buf_cstr(&b), want);
	buf_release(&b);

	/* Through a render: a JSON string holding NUL (json_stringn). */
	struct tmpl_set *s = tmpl_load_string("t", "[{{x}}]", NULL, 0);
	assert_non_null(s);
	json_t *ctx = json_object();
	json_object_set_new(ctx, "x", json_stringn("a\0<", 3));
	buf_init(&b, 1024);
	assert_int_equal(tmpl_render(s, "t", ctx, &b), 0);
	assert_string_equal(buf_cstr(&b), "[a\xef\xbf\xbd&lt;]");
	buf_release(&b);
	json_decref(ctx);
	tmpl_free(s);
}

static void test_value_types(void **state)
{
	(void)state;
	expect("{{i}}|{{n}}|{{r}}|{{big}}|{{t}}|{{f}}|{{z}}|{{o}}|{{a}}|{{missing}}",
	       "{\"i\": 42, \"n\": -7, \"r\": 0.1, \"big\": 1e300, \"t\": true, \"f\": false,"
	       " \"z\": null, \"o\": {\"k\": 1}, \"a\": [1, 2]}",
	       "42|-7|0.1|1e+300|true|false||||");
	expect("{{r}}", "{\"r\": 0.30000000000000004}", "0.30000000000000004");
	/* A non-object context: {{.}} is the value itself. */
	expect("{{.}}", "\"<b>\"", "&lt;b&gt;");
	expect("[{{name}}]", "[1, 2]", "[]");
	expect("[{{name}}]", NULL, "[]");
}

static void test_dotted_names_and_context_stack(void **state)
{
	(void)state;
	const char *ctx = "{\"a\": {\"b\": {\"c\": \"deep\"}}, \"name\": \"outer\","
			  " \"list\": [{\"name\": \"one\"}, {\"x\": 1}], \"u\": {\"v\": 1}}";
	expect("{{a.b.c}}", ctx, "deep");
	expect("{{a.b.missing}}|{{a.x.c}}|{{name.x}}", ctx, "||");
	/* Inside an item, names walk outward to the root when not found. */
	expect("{{#list}}{{name}},{{/list}}", ctx, "one,outer,");
	/* Only the first part walks outward: a.v is not found through u. */
	expect("{{#u}}{{v}}{{a.b.c}}{{u.v}}{{b.c}}{{/u}}", ctx, "1deep1");
	/* Nested objects push contexts in order. */
	expect("{{#a}}{{#b}}{{c}}/{{name}}{{/b}}{{/a}}", ctx, "deep/outer");
	/* {{.}} in a list of scalars */
	expect("{{#xs}}[{{.}}]{{/xs}}", "{\"xs\": [\"a&\", 2, true]}", "[a&amp;][2][true]");
	/* x.length on arrays; on objects it is an ordinary key */
	expect("{{xs.length}} {{o.length}} {{#e.length}}E{{/e.length}}{{^e.length}}none{{/e.length}}",
	       "{\"xs\": [1, 2, 3], \"o\": {\"length\": \"L\"}, \"e\": []}", "3 L none");
	/* A pushed count hides nothing; a pushed item would. */
	expect("{{#xs.length}}{{#xs}}{{#c}}C{{/c}}{{/xs}}{{/xs.length}}",
	       "{\"xs\": [{\"c\": true}, {}]}", "C");
}

/* ---- sections ---- */

static void test_sections(void **state)
{
	(void)state;
	const char *src = "{{#v}}Y{{/v}}{{^v}}N{{/v}}";
	static const struct {
		const char *ctx, *want;
	} cases[] = {
		{"{}", "N"},
		{"{\"v\": null}", "N"},
		{"{\"v\": false}", "N"},
		{"{\"v\": true}", "Y"},
		{"{\"v\": \"\"}", "N"},
		{"{\"v\": \"x\"}", "Y"},
		{"{\"v\": 0}", "N"},
		{"{\"v\": 3}", "Y"},
		{"{\"v\": 0.0}", "N"},
		{"{\"v\": -0.5}", "Y"},
		{"{\"v\": []}", "N"},
		{"{\"v\": [1, 2, 3]}", "YYY"},
		{"{\"v\": {}}", "N"},
		{"{\"v\": {\"k\": 1}}", "Y"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect(src, cases[i].ctx, cases[i].want);

	/* A string section pushes the string. */
	expect("{{#s}}[{{.}}]{{/s}}", "{\"s\": \"<x>\"}", "[&lt;x&gt;]");
	/* Nested sections of the same name close in order. */
	expect("{{#a}}{{#a}}{{b}}{{/a}}{{/a}}", "{\"a\": {\"a\": {\"b\": \"in\"}}}", "in");
	/* Sections inside a tag, for boolean attributes. */
	expect("<input{{#c}} checked{{/c}}>", "{\"c\": true}", "<input checked>");
	expect("<input{{#c}} checked{{/c}}>", "{\"c\": false}", "<input>");
	/* Comments vanish, even across lines. */
	expect("a{{! note\n still }}b", "{}", "ab");
}

static void test_standalone_lines(void **state)
{
	(void)state;
	expect("<ul>\n  {{#xs}}\n  <li>{{.}}</li>\n  {{/xs}}\n</ul>\n", "{\"xs\": [1, 2]}",
	       "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>\n");
	expect("a\n{{! comment }}\nb\n", "{}", "a\nb\n");
	expect("a\r\n{{#x}}\r\nb\r\n{{/x}}\r\n", "{\"x\": true}", "a\r\nb\r\n");
	/* Not standalone: text on the same line stays. */
	expect("a {{#x}}b{{/x}} c\n", "{\"x\": true}", "a b c\n");
	/* A variable never makes its line vanish. */
	expect("{{v}}\n", "{\"v\": \"\"}", "\n");
	/* A standalone tag at the very end, without a newline. */
	expect("a\n{{#x}}b\n{{/x}}", "{\"x\": true}", "a\nb\n");
}

/* ---- partials ---- */

static void test_partials(void **state)
{
	(void)state;
	char err[256];
	struct tmpl_set *s = tmpl_set_new();
	const char *page = "<main>{{>part}}{{#items}}{{>item}}{{/items}}</main>";
	assert_int_equal(tmpl_set_add(s, "page", page, strlen(page), err, sizeof err), 0);
	assert_int_equal(tmpl_set_check(s, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "page:1"));
	assert_non_null(strstr(err, "part"));

	assert_int_equal(tmpl_set_add(s, "part", "<h1>{{title}}</h1>", 18, err, sizeof err), 0);
	assert_int_equal(tmpl_set_add(s, "sub/item", "x", 1, err, sizeof err), 0);
	assert_int_equal(tmpl_set_add(s, "item", "<i>{{n}}</i>", 12, err, sizeof err), 0);
	assert_int_equal(tmpl_set_check(s, err, sizeof err), 0);
	assert_int_equal(tmpl_set_add(s, "item", "again", 5, err, sizeof err), -EEXIST);
	assert_true(tmpl_exists(s, "sub/item"));
	assert_false(tmpl_exists(s, "nope"));

	json_t *ctx = js("{\"title\": \"T&\", \"items\": [{\"n\": 1}, {\"n\": 2}]}");
	struct buf b;
	buf_init(&b, 4096);
	assert_int_equal(tmpl_render(s, "page", ctx, &b), 0);
	assert_string_equal(buf_cstr(&b), "<main><h1>T&amp;</h1><i>1</i><i>2</i></main>");
	buf_reset(&b);
	assert_int_equal(tmpl_render(s, "missing", ctx, &b), -ENOENT);
	buf_release(&b);
	json_decref(ctx);
	tmpl_free(s);

	/* A partial missing at render time is an error, not silence. */
	char *out;
	assert_int_equal(run("a{{>ghost}}", "{}", &out), -ENOENT);
}

static void test_partial_depth_limit(void **state)
{
	(void)state;
	char err[256], name[16], src[64];
	struct buf b;
	buf_init(&b, 1 << 16);

	/* Self-recursion stops at the limit instead of overflowing the stack. */
	char *out;
	assert_int_equal(run("x{{>t}}", "{}", &out), -ELOOP);

	/* A chain p0 → p1 → … → pN: depth TMPL_MAX_PARTIAL_DEPTH works, one more fails. */
	for (int depth = TMPL_MAX_PARTIAL_DEPTH; depth <= TMPL_MAX_PARTIAL_DEPTH + 1; depth++) {
		struct tmpl_set *s = tmpl_set_new();
		for (int i = 0; i <= depth; i++) {
			snprintf(name, sizeof name, "p%d", i);
			if (i < depth)
				snprintf(src, sizeof src, "%d{{>p%d}}", i, i + 1);
			else
				snprintf(src, sizeof src, "end");
			assert_int_equal(tmpl_set_add(s, name, src, strlen(src), err, sizeof err),
					 0);
		}
		assert_int_equal(tmpl_set_check(s, err, sizeof err), 0);
		buf_reset(&b);
		int rc = tmpl_render(s, "p0", NULL, &b);
		if (depth == TMPL_MAX_PARTIAL_DEPTH) {
			assert_int_equal(rc, 0);
			assert_non_null(strstr(buf_cstr(&b), "15end"));
		} else {
			assert_int_equal(rc, -ELOOP);
		}
		tmpl_free(s);
	}
	buf_release(&b);
}

/* ---- limits ---- */

static void test_output_limit(void **state)
{
	(void)state;
	struct tmpl_set *s = tmpl_load_string("t", "{{#xs}}<p>{{.}}</p>{{/xs}}", NULL, 0);
	assert_non_null(s);
	json_t *ctx = js("{\"xs\": [\"aaaa\", \"bbbb\", \"cccc\"]}");
	struct buf b;
	buf_init(&b, 20); /* room for one paragraph of 11 bytes, not two */
	assert_int_equal(tmpl_render(s, "t", ctx, &b), -E2BIG);
	assert_true(b.len <= 20);
	buf_release(&b);
	buf_init(&b, 33);
	assert_int_equal(tmpl_render(s, "t", ctx, &b), 0);
	assert_string_equal(buf_cstr(&b), "<p>aaaa</p><p>bbbb</p><p>cccc</p>");
	buf_release(&b);
	/* Escaping counts against the limit too. */
	buf_init(&b, 8);
	json_decref(ctx);
	ctx = js("{\"xs\": [\"<<\"]}");
	assert_int_equal(tmpl_render(s, "t", ctx, &b), -E2BIG);
	buf_release(&b);
	json_decref(ctx);
	tmpl_free(s);
}

static void test_step_limit(void **state)
{
	(void)state;
	/* 100^4 iterations: must stop with -ERANGE rather than spin. */
	json_t *xs = json_array();
	for (int i = 0; i < 100; i++)
		json_array_append_new(xs, json_integer(i));
	json_t *ctx = json_pack("{s:o}", "xs", xs);
	struct tmpl_set *s = tmpl_load_string(
		"t", "{{#xs}}{{#xs}}{{#xs}}{{#xs}}{{/xs}}{{/xs}}{{/xs}}{{/xs}}", NULL, 0);
	assert_non_null(s);
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(tmpl_render(s, "t", ctx, &b), -ERANGE);
	buf_release(&b);
	json_decref(ctx);
	tmpl_free(s);
	assert_string_equal(tmpl_strerror(-ERANGE), "template rendering took too many steps");
}

static void test_nesting_limit(void **state)
{
	(void)state;
	char src[TMPL_MAX_NESTING * 20 + 64];
	struct buf b;
	buf_init(&b, sizeof src);
	for (int n = TMPL_MAX_NESTING; n <= TMPL_MAX_NESTING + 1; n++) {
		buf_reset(&b);
		for (int i = 0; i < n; i++)
			buf_puts(&b, "{{#a}}");
		for (int i = 0; i < n; i++)
			buf_puts(&b, "{{/a}}");
		char err[256];
		struct tmpl_set *s = tmpl_load_string("t", buf_cstr(&b), err, sizeof err);
		if (n == TMPL_MAX_NESTING) {
			assert_non_null(s);
		} else {
			assert_null(s);
			assert_non_null(strstr(err, "nested deeper"));
		}
		tmpl_free(s);
	}
	buf_release(&b);
}

/* ---- parse errors ---- */

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("a\nb\n{{#sec}}\nc", "page:3: section 'sec' is never closed");
	expect_parse_error("{{#a}}{{#b}}{{/a}}{{/b}}",
			   "page:1: '{{/a}}' does not match '{{#b}}' opened on line 1");
	expect_parse_error("{{^a}}\n\n{{/b}}",
			   "page:3: '{{/b}}' does not match '{{^a}}' opened on line 1");
	expect_parse_error("x\n{{/a}}", "page:2: '{{/a}}' closes no section");
	expect_parse_error("ok\n\nthen {{name", "page:3: unclosed tag");
	expect_parse_error("{{! never closed", "page:1: unclosed tag");
	expect_parse_error("{{{raw}}}", "raw output");
	expect_parse_error("{{&raw}}", "raw output");
	expect_parse_error("{{=<% %>=}}", "delimiters");
	expect_parse_error("{{}}", "empty tag");
	expect_parse_error("{{#}}{{/}}", "empty tag");
	expect_parse_error("{{ a b }}", "bad name");
	expect_parse_error("{{a..b}}", "bad name");
	expect_parse_error("{{.a}}", "bad name");
	expect_parse_error("{{a.}}", "bad name");
	expect_parse_error("{{>../etc/passwd}}", "bad partial name");
	expect_parse_error("{{>/abs}}", "bad partial name");
	expect_parse_error("{{>a//b}}", "bad partial name");

	/* Blanks inside tags are fine. */
	expect("{{ a }}{{# b }}B{{/ b }}", "{\"a\": 1, \"b\": true}", "1B");

	/* NUL bytes and bad names are refused; err may be NULL. */
	struct tmpl_set *s = tmpl_set_new();
	char err[128];
	assert_int_equal(tmpl_set_add(s, "t", "a\0b", 3, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(tmpl_set_add(s, "../t", "a", 1, NULL, 0), -EINVAL);
	assert_int_equal(tmpl_set_add(s, "t", "{{#x}}", 6, NULL, 0), -EINVAL);
	/* A failed add leaves no trace. */
	assert_false(tmpl_exists(s, "t"));
	assert_int_equal(tmpl_set_add(s, "t", "", 0, NULL, 0), 0);
	tmpl_free(s);

	/* A long error is cut to the buffer, still NUL-terminated. */
	char small[12];
	assert_null(tmpl_load_string("a-rather-long-name", "{{#x}}", small, sizeof small));
	assert_int_equal(strlen(small), sizeof small - 1);
}

/* ---- HTML context ---- */

static void test_html_context_refusals(void **state)
{
	(void)state;
	expect_parse_error("<a href={{u}}>", "quoted attribute value");
	expect_parse_error("<p {{attr}}>", "quoted attribute value");
	expect_parse_error("<{{tag}}>", "quoted attribute value");
	expect_parse_error("</{{tag}}>", "quoted attribute value");
	expect_parse_error("<p class=\"a\" data-x={{v}}>", "quoted attribute value");
	expect_parse_error("<script>var x = \"{{v}}\";</script>", "<script>");
	expect_parse_error("<STYLE>p { color: {{c}} }</STYLE>", "<script>");
	expect_parse_error("<!-- {{v}} -->", "HTML comment");
	expect_parse_error("<button onclick=\"go('{{v}}')\">", "event-handler");
	expect_parse_error("<p OnMouseOver='{{v}}'>", "event-handler");
	expect_parse_error("<p style=\"color: {{c}}\">", "style or srcdoc");
	expect_parse_error("<iframe srcdoc=\"{{c}}\">", "style or srcdoc");
	expect_parse_error("<p class=\"{{c}}\" {{>part}}>", "partial must be in text");
	expect_parse_error("<!-- x -->\n<p>\n<a href=\"/\" title={{t}}>", "page:3:");

	/* After the raw-text element ends, values are fine again. */
	expect("<script src=\"/a.js\"></script><p>{{v}}</p>", "{\"v\": \"<\"}",
	       "<script src=\"/a.js\"></script><p>&lt;</p>");
	/* A comment that mentions > and -- is still a comment until -->. */
	expect("<!-- a > b -- c -->{{v}}", "{\"v\": 1}", "<!-- a > b -- c -->1");
	/* Doctype, end tags, self-closing tags, single quotes. */
	expect("<!DOCTYPE html><br/><p title='{{v}}'>{{v}}</p>", "{\"v\": \"'\"}",
	       "<!DOCTYPE html><br/><p title='&#39;'>&#39;</p>");
	/* "a < b" in text is not a tag. */
	expect("1 < 2 {{v}}", "{\"v\": \"ok\"}", "1 < 2 ok");
	/* Attribute names that merely contain "on" or "style" are ordinary. */
	expect("<p data-on=\"{{v}}\" data-style=\"{{v}}\">", "{\"v\": 1}",
	       "<p data-on=\"1\" data-style=\"1\">");
}

static void test_url_attributes(void **state)
{
	(void)state;
	const char *src = "<a href=\"{{u}}\">x</a>";
	static const struct {
		const char *u, *want;
	} cases[] = {
		{"https://example.jp/a?b=c&d", "https://example.jp/a?b&#61;c&amp;d"},
		{"HTTP://example.jp/", "HTTP://example.jp/"},
		{"/history?before=12", "/history?before&#61;12"},
		{"relative/path:colon", "relative/path:colon"},
		{"#frag", "#frag"},
		{"mailto:a@example.jp", "mailto:a@example.jp"},
		{"tel:0734000000", "tel:0734000000"},
		{"", ""},
		{"javascript:alert(1)", "about:invalid#blocked"},
		{"JaVaScRiPt:alert(1)", "about:invalid#blocked"},
		{" \x01javascript:alert(1)", "about:invalid#blocked"},
		{"java\tscript:alert(1)", "about:invalid#blocked"},
		{"java\nscript:alert(1)", "about:invalid#blocked"},
		{"data:text/html,<script>", "about:invalid#blocked"},
		{"vbscript:x", "about:invalid#blocked"},
		{"verylongscheme:x", "about:invalid#blocked"},
	};
	struct tmpl_set *s = tmpl_load_string("t", src, NULL, 0);
	assert_non_null(s);
	struct buf b;
	buf_init(&b, 4096);
	char want[256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *ctx = json_pack("{s:s}", "u", cases[i].u);
		buf_reset(&b);
		assert_int_equal(tmpl_render(s, "t", ctx, &b), 0);
		snprintf(want, sizeof want, "<a href=\"%s\">x</a>", cases[i].want);
		if (strcmp(buf_cstr(&b), want) != 0)
			fail_msg("url %s: got %s", cases[i].u, buf_cstr(&b));
		json_decref(ctx);
	}
	buf_release(&b);
	tmpl_free(s);

	/* Other URL attributes, single quotes, upper case. */
	expect("<form ACTION='{{u}}'><img src=\"{{u}}\">", "{\"u\": \"javascript:x\"}",
	       "<form ACTION='about:invalid#blocked'><img src=\"about:invalid#blocked\">");
	/* A value after a literal prefix keeps the prefix's scheme: not checked. */
	expect("<a href=\"/users/{{u}}\">", "{\"u\": \"javascript:x\"}",
	       "<a href=\"/users/javascript:x\">");
	/* Non-URL attributes are not touched. */
	expect("<p title=\"{{u}}\">", "{\"u\": \"javascript:x\"}", "<p title=\"javascript:x\">");
	/* Numbers in URL attributes print as numbers. */
	expect("<a href=\"{{n}}\">", "{\"n\": 5}", "<a href=\"5\">");
}

/* ---- threads ---- */

struct thread_arg {
	const struct tmpl_set *s;
	json_t *ctx;
	const char *want;
	int failures;
};

static void *render_many(void *p)
{
	struct thread_arg *a = p;
	struct buf b;
	buf_init(&b, 1 << 16);
	for (int i = 0; i < 500; i++) {
		buf_reset(&b);
		if (tmpl_render(a->s, "page", a->ctx, &b) != 0 ||
		    strcmp(buf_cstr(&b), a->want) != 0)
			a->failures++;
	}
	buf_release(&b);
	return NULL;
}

static void test_concurrent_rendering(void **state)
{
	(void)state;
	struct tmpl_set *s = tmpl_set_new();
	const char *page = "{{>head}}{{#xs}}<li>{{n}}</li>{{/xs}}";
	assert_int_equal(tmpl_set_add(s, "page", page, strlen(page), NULL, 0), 0);
	assert_int_equal(tmpl_set_add(s, "head", "<h1>{{t}}</h1>", 14, NULL, 0), 0);
	json_t *ctx = js("{\"t\": \"<T>\", \"xs\": [{\"n\": 1}, {\"n\": 2}, {\"n\": 3}]}");
	struct thread_arg args[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){
			s, ctx, "<h1>&lt;T&gt;</h1><li>1</li><li>2</li><li>3</li>", 0};
		assert_int_equal(pthread_create(&th[i], NULL, render_many, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	json_decref(ctx);
	tmpl_free(s);
}

/* ---- the shipped templates ---- */

static void test_assets_table(void **state)
{
	(void)state;
	const struct asset *a = asset_find("static/site.css");
	assert_non_null(a);
	assert_true(a->len > 1000);
	assert_int_equal(a->data[a->len], '\0');
	assert_non_null(strstr((const char *)a->data, "@digital-go-jp/design-tokens"));
	assert_non_null(asset_find("templates/layout_head.html"));
	assert_null(asset_find("templates/nope.html"));
	assert_null(asset_find("site.css"));
	assert_null(asset_find(""));
	assert_null(asset_find(NULL));
}

static void test_embedded_templates_load(void **state)
{
	(void)state;
	char err[256] = "";
	struct tmpl_set *s = tmpl_load_embedded(err, sizeof err);
	if (!s)
		fail_msg("embedded templates: %s", err);

	/* Every .html file in the source tree is in the binary (the embedded
	 * table is not stale) and compiled. */
	DIR *d = opendir(MADO_SOURCE_DIR "/src/web/templates");
	assert_non_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l <= 5 || strcmp(e->d_name + l - 5, ".html") != 0)
			continue;
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(l - 5), e->d_name);
		if (!tmpl_exists(s, name))
			fail_msg("templates/%s is not embedded", e->d_name);
		n++;
	}
	closedir(d);
	assert_true(n >= 12);
	tmpl_free(s);
}

/* Each page renders with a typical context and keeps the layout's promises. */
static void test_pages_render(void **state)
{
	(void)state;
	static const char *const pages[] = {
		"index",         "login",           "login_cert", "account", "history",
		"staff_home",    "admin_users",     "admin_jobs", "error",   "me_totp",
		"me_totp_setup", "me_certificates", NULL,
	};
	struct tmpl_set *s = tmpl_load_embedded(NULL, 0);
	assert_non_null(s);
	json_t *ctx = js(
		"{\"title\": \"テスト<\", \"csrf\": \"tok&en\","
		" \"muni\": {\"name\": \"和歌山市\", \"lg_code\": \"302015\"},"
		" \"user\": {\"display\": \"紀州 花子\", \"login\": \"hanako\", \"kind\": \"resident\"},"
		" \"nav\": {\"is_resident\": true, \"is_staff\": true, \"is_admin\": true},"
		" \"can_write\": true, \"status\": 404, \"is\": {\"404\": true},"
		" \"request_id\": \"abc123\", \"challenge\": \"CHALLENGE\","
		" \"errors\": {\"login\": \"ログインIDを入力してください。\"},"
		" \"entries\": [{\"when\": \"2024年5月1日\", \"who\": \"<script>\"}],"
		" \"users\": [{\"id\": 7, \"display\": \"X\", \"role_choices\": [{\"name\": \"r\"}]}],"
		" \"dead\": [{\"id\": 9}], \"can\": {\"accounts_read\": true, \"jobs_admin\": true}}");
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; pages[i]; i++) {
		buf_reset(&b);
		int rc = tmpl_render(s, pages[i], ctx, &b);
		if (rc)
			fail_msg("%s: %s", pages[i], tmpl_strerror(rc));
		const char *html = buf_cstr(&b);
		static const char *const must[] = {
			"<!DOCTYPE html>",
			"<html lang=\"ja\">",
			"name=\"viewport\"",
			"href=\"#main\">本文へ移動</a>",
			"<main id=\"main\"",
			"</main>",
			"<footer",
			"/static/site.css",
			"<title>テスト&lt; | 和歌山市 窓口</title>",
			"value=\"tok&amp;en\"",
			"<h1",
			"</html>",
			NULL,
		};
		for (int k = 0; must[k]; k++)
			if (!strstr(html, must[k]))
				fail_msg("%s lacks %s", pages[i], must[k]);
		if (strstr(html, "<script>") || strstr(html, "{{") || strstr(html, "}}"))
			fail_msg("%s has unescaped or unrendered content", pages[i]);
		if (strstr(html, " style=\""))
			fail_msg("%s has an inline style (blocked by the CSP)", pages[i]);
	}
	/* Page-specific content. */
	buf_reset(&b);
	assert_int_equal(tmpl_render(s, "login", ctx, &b), 0);
	assert_non_null(strstr(buf_cstr(&b), "role=\"alert\""));
	assert_non_null(strstr(buf_cstr(&b), "aria-describedby=\"login-hint login-error\""));
	assert_non_null(
		strstr(buf_cstr(&b), "<a href=\"#login\">ログインIDを入力してください。</a>"));
	assert_non_null(strstr(buf_cstr(&b), "href=\"/login/cert\""));
	buf_reset(&b);
	assert_int_equal(tmpl_render(s, "history", ctx, &b), 0);
	assert_non_null(strstr(buf_cstr(&b), "<caption"));
	assert_non_null(strstr(buf_cstr(&b), "&lt;script&gt;"));
	buf_reset(&b);
	assert_int_equal(tmpl_render(s, "error", ctx, &b), 0);
	assert_non_null(strstr(buf_cstr(&b), "お探しのページは見つかりませんでした"));
	assert_null(strstr(buf_cstr(&b), "システムの内部で問題"));
	assert_non_null(strstr(buf_cstr(&b), "abc123"));
	buf_reset(&b);
	assert_int_equal(tmpl_render(s, "admin_users", ctx, &b), 0);
	assert_non_null(strstr(buf_cstr(&b), "action=\"/admin/users/7/roles\""));
	assert_non_null(strstr(buf_cstr(&b), "id=\"roles-7-r\""));

	/* Signed out, no errors: no alert, a log-in link, no log-out form. */
	json_t *anon = js(
		"{\"title\": \"ログイン\", \"muni\": {\"name\": \"和歌山市\", \"lg_code\": \"302015\"}}");
	buf_reset(&b);
	assert_int_equal(tmpl_render(s, "login", anon, &b), 0);
	assert_null(strstr(buf_cstr(&b), "role=\"alert\""));
	assert_null(strstr(buf_cstr(&b), "/logout"));
	assert_non_null(strstr(buf_cstr(&b), "name=\"lg_code\" value=\"302015\""));
	buf_reset(&b);
	assert_int_equal(tmpl_render(s, "history", anon, &b), 0);
	assert_non_null(strstr(buf_cstr(&b), "まだ利用の記録はありません"));
	assert_null(strstr(buf_cstr(&b), "<table"));
	json_decref(anon);

	buf_release(&b);
	json_decref(ctx);
	tmpl_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_every_special_char),
		cmocka_unit_test(test_escape_bad_bytes),
		cmocka_unit_test(test_value_types),
		cmocka_unit_test(test_dotted_names_and_context_stack),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_standalone_lines),
		cmocka_unit_test(test_partials),
		cmocka_unit_test(test_partial_depth_limit),
		cmocka_unit_test(test_output_limit),
		cmocka_unit_test(test_step_limit),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_html_context_refusals),
		cmocka_unit_test(test_url_attributes),
		cmocka_unit_test(test_concurrent_rendering),
		cmocka_unit_test(test_assets_table),
		cmocka_unit_test(test_embedded_templates_load),
		cmocka_unit_test(test_pages_render),
	};
	return cmocka_run_group_tests_name("web/tmpl", tests, NULL, NULL);
}
