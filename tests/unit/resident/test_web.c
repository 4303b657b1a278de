/* Unit tests for the resident record's web helpers (src/resident/web.c):
 * purpose resolution, dates in ISO and 和暦, the search-text normalizer that
 * decides when a query may be a My Number, display labels, and the scrubbing
 * of My Number keys from answers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resident/web_util.h"

static struct req *new_req(void)
{
	static struct req r;
	memset(&r, 0, sizeof r);
	r.arena = arena_new();
	return &r;
}

static void free_req(struct req *r)
{
	arena_free(r->arena);
}

static void test_purpose(void **state)
{
	(void)state;
	struct req *r = new_req();
	const char *field = NULL, *err = NULL;
	assert_string_equal(rweb_purpose_resolve(r, "certificate", NULL, false, &field, &err),
			    "証明書の発行");
	/* the label itself is accepted too */
	assert_string_equal(rweb_purpose_resolve(r, "届出の受付", NULL, false, &field, &err),
			    "届出の受付");
	assert_string_equal(
		rweb_purpose_resolve(r, " other ", "　児童手当の確認　", false, &field, &err),
		"その他：児童手当の確認");
	err = NULL;
	assert_null(rweb_purpose_resolve(r, NULL, NULL, false, &field, &err));
	assert_string_equal(field, "purpose");
	assert_non_null(strstr(err, "利用目的"));
	assert_null(rweb_purpose_resolve(r, "  ", NULL, true, &field, &err));
	assert_null(rweb_purpose_resolve(r, "other", "", false, &field, &err));
	assert_string_equal(field, "purpose_other");
	assert_null(rweb_purpose_resolve(r, "other", "a\nb", false, &field, &err));
	/* free text only where allowed (the API) */
	assert_null(rweb_purpose_resolve(r, "任意の目的", NULL, false, &field, &err));
	assert_string_equal(rweb_purpose_resolve(r, "任意の目的", NULL, true, &field, &err),
			    "任意の目的");
	char long_text[400];
	for (int i = 0; i < 101; i++)
		memcpy(long_text + 3 * i, "あ", 3);
	long_text[303] = '\0';
	assert_null(rweb_purpose_resolve(r, long_text, NULL, true, &field, &err));
	long_text[300] = '\0'; /* exactly 100 characters */
	assert_non_null(rweb_purpose_resolve(r, long_text, NULL, true, &field, &err));
	free_req(r);
}

static void test_purpose_query(void **state)
{
	(void)state;
	struct req *r = new_req();
	assert_string_equal(rweb_purpose_query(r, "certificate", "ignored"), "purpose=certificate");
	const char *q = rweb_purpose_query(r, "other", "a&b=c");
	assert_non_null(strstr(q, "&purpose_other="));
	assert_null(strstr(q + strlen("purpose=other&purpose_other="), "&"));
	free_req(r);
}

static void test_dates(void **state)
{
	(void)state;
	struct req *r = new_req();
	const char *iso = "x", *err = NULL;
	assert_int_equal(rweb_date(r, NULL, &iso, &err), 0);
	assert_null(iso);
	assert_int_equal(rweb_date(r, " ", &iso, &err), 0);
	assert_null(iso);
	assert_int_equal(rweb_date(r, "1985-04-01", &iso, &err), 0);
	assert_string_equal(iso, "1985-04-01");
	assert_int_equal(rweb_date(r, "昭和60年4月1日", &iso, &err), 0);
	assert_string_equal(iso, "1985-04-01");
	assert_int_equal(rweb_date(r, "R6.4.1", &iso, &err), 0);
	assert_string_equal(iso, "2024-04-01");
	/* wareki's own message for a day outside its era */
	assert_int_equal(rweb_date(r, "令和1年4月30日", &iso, &err), -EINVAL);
	assert_non_null(strstr(err, "令和"));
	assert_int_equal(rweb_date(r, "2024-02-30", &iso, &err), -EINVAL);
	assert_int_equal(rweb_date(r, "yesterday", &iso, &err), -EINVAL);
	assert_non_null(strstr(err, "2024-04-01"));
	char big[4096];
	memset(big, '9', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(rweb_date(r, big, &iso, &err), -EINVAL);
	assert_string_equal(rweb_date_ja(r, "2019-05-01"), "令和元年5月1日");
	assert_string_equal(rweb_date_ja(r, "garbage"), "garbage");
	assert_string_equal(rweb_date_ja(r, NULL), "");
	free_req(r);
}

static void test_search_text(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
		size_t digits;
	} cases[] = {
		{" 和歌山 花子 ", "和歌山 花子", 0},
		{"1234-5678-9018", "123456789018", 12},
		/* full-width digits, ideographic spaces and the minus sign */
		{"１２３４　５６７８−９０１８", "123456789018", 12},
		{"10000000014", "10000000014", 11},
		/* digits mixed with other text stay text, but are counted */
		{"七番丁23", "七番丁23", 2},
		{"---", "---", 0},
		/* a truncated full-width sequence is not read past the end */
		{"1\xef\xbc", "1\xef\xbc", 1},
		/* counted as the search folds them (NFKC): mathematical bold and
		 * circled digits are a My Number too */
		{"𝟏𝟐𝟑𝟒 𝟓𝟔𝟕𝟖 𝟗𝟎𝟏𝟖", "123456789018", 12},
		{"①②③④⑤⑥⑦⑧⑨⓪①⑧", "123456789018", 12},
		{"１２３４‐５６７８ー９０１８", "123456789018", 12},
		{"山田𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗𝟎𝟏𝟖", "山田𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗𝟎𝟏𝟖", 12},
	};
	struct req *r = new_req();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t d = 99;
		assert_string_equal(rweb_search_text(r, cases[i].in, &d), cases[i].out);
		assert_int_equal(d, cases[i].digits);
	}
	size_t d = 99;
	assert_null(rweb_search_text(r, NULL, &d));
	free_req(r);
}

/* Sets the query string r sees (req_query parses it again). */
static void set_query(struct req *r, const char *link)
{
	const char *q = strchr(link, '?');
	r->query = q ? q + 1 : "";
	r->qform = NULL;
}

/* A view link checks only in the session that made it, for the resident,
 * purpose and date it names, and not without its token. */
static void test_view_token(void **state)
{
	(void)state;
	struct req *r = new_req();
	r->who.csrf = "session-csrf-token-aaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *link =
		rweb_view_link(r, "12345678901", "other", "児童手当の確認", "2020-04-01");
	assert_non_null(strstr(link, "/staff/residents/12345678901?purpose=other&purpose_other="));
	assert_non_null(strstr(link, "&as_of=2020-04-01&t="));
	set_query(r, link);
	assert_int_equal(rweb_view_check(r, "12345678901"), 0);
	/* another resident, another session */
	assert_int_equal(rweb_view_check(r, "12345678902"), -EINVAL);
	r->who.csrf = "session-csrf-token-bbbbbbbbbbbbbbbbbbbbbbbbbbb";
	assert_int_equal(rweb_view_check(r, "12345678901"), -EINVAL);
	r->who.csrf = NULL;
	assert_int_equal(rweb_view_check(r, "12345678901"), -EINVAL);
	r->who.csrf = "session-csrf-token-aaaaaaaaaaaaaaaaaaaaaaaaaaa";
	/* the purpose or the date changed in the URL */
	char *bad = arena_strdup(r->arena, link);
	char *p = strstr(bad, "as_of=2020");
	p[9] = '1';
	set_query(r, bad);
	assert_int_equal(rweb_view_check(r, "12345678901"), -EINVAL);
	set_query(r, "/x?purpose=certificate&t=1.00");
	assert_int_equal(rweb_view_check(r, "12345678901"), -EINVAL);
	/* no token: nothing to check (the page asks for the purpose) */
	set_query(r, "/x?purpose=certificate");
	assert_int_equal(rweb_view_check(r, "12345678901"), -ENOENT);
	/* the purpose alone, no date */
	const char *plain = rweb_view_link(r, "12345678901", "certificate", NULL, NULL);
	set_query(r, plain);
	assert_int_equal(rweb_view_check(r, "12345678901"), 0);
	/* without a session (a bearer token) a link has no token */
	r->who.csrf = NULL;
	assert_null(strstr(rweb_view_link(r, "12345678901", "certificate", NULL, NULL), "&t="));
	free_req(r);
}

/* The console's and the API's allow-list of changes: 転入 and 出生 come by
 * import only. */
static void test_change_events(void **state)
{
	(void)state;
	enum resident_event ev;
	assert_true(rweb_change_event("tenkyo", &ev));
	assert_int_equal(ev, RES_EV_TENKYO);
	assert_true(rweb_change_event("correct", &ev));
	assert_false(rweb_change_event("tennyu", &ev));
	assert_false(rweb_change_event("shussei", &ev));
	assert_false(rweb_change_event(NULL, &ev));
	assert_false(rweb_change_event("", &ev));
}

static void test_code(void **state)
{
	(void)state;
	assert_true(rweb_code_ok("10000000014"));
	assert_false(rweb_code_ok("1000000001"));
	assert_false(rweb_code_ok("100000000141"));
	assert_false(rweb_code_ok("1000000001x"));
	assert_false(rweb_code_ok(NULL));
}

static void test_decorate(void **state)
{
	(void)state;
	struct req *r = new_req();
	json_t *rec =
		json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "birth", "1985-04-01",
			  "valid_from", "2010-04-01", "sex", 2, "status", "moved_out", "event",
			  "tenkyo", "mynumber", "123456789018", "mynumber_masked", "********9018");
	rweb_decorate(r, rec);
	assert_null(json_object_get(rec, "mynumber"));
	assert_string_equal(rweb_str(rec, "mynumber_masked"), "********9018");
	assert_string_equal(rweb_str(rec, "birth_ja"), "昭和60年4月1日");
	assert_string_equal(rweb_str(rec, "valid_from_ja"), "平成22年4月1日");
	assert_string_equal(rweb_str(rec, "sex_label"), "女");
	assert_string_equal(rweb_str(rec, "status_label"), "転出");
	assert_string_equal(rweb_str(rec, "event_ja"), "転居");
	assert_string_equal(rweb_str(rec, "missing"), "");
	json_t *arr = json_pack("[O]", rec);
	rweb_strip_mynumber(arr);
	assert_null(json_object_get(rec, "mynumber_masked"));
	json_decref(arr);
	json_decref(rec);
	free_req(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_purpose),    cmocka_unit_test(test_purpose_query),
		cmocka_unit_test(test_dates),      cmocka_unit_test(test_search_text),
		cmocka_unit_test(test_view_token), cmocka_unit_test(test_change_events),
		cmocka_unit_test(test_code),       cmocka_unit_test(test_decorate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
