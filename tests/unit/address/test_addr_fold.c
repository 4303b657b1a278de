/* Unit tests of addr_fold (src/address/addr_fold.c): the folding applied to
 * both the registry's names and the input, so that the ways one address is
 * written compare equal while names made of numerals keep their kanji. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "address/addr_internal.h"
#include "common/buf.h"

/* The folded form of s, or NULL when addr_fold fails (its code in *rc). */
static const char *fold_rc(const char *s, size_t n, int *rc)
{
	/* several results may be alive in one assertion: a ring of them */
	static char results[4][4096];
	static unsigned next;
	char *result = results[next++ % 4];
	struct buf out, tmp;
	buf_init(&out, 16384);
	buf_init(&tmp, 16384);
	*rc = addr_fold(&out, &tmp, s, n);
	const char *r = NULL;
	if (*rc == 0) {
		snprintf(result, sizeof results[0], "%s", buf_cstr(&out));
		r = result;
	}
	buf_release(&out);
	buf_release(&tmp);
	return r;
}

static const char *fold(const char *s)
{
	int rc;
	const char *r = fold_rc(s, strlen(s), &rc);
	assert_int_equal(rc, 0);
	assert_non_null(r);
	return r;
}

/* a and b fold to the same text, and that text is want. */
static void same(const char *a, const char *b, const char *want)
{
	char fa[4096];
	snprintf(fa, sizeof fa, "%s", fold(a));
	assert_string_equal(fa, want);
	assert_string_equal(fold(b), want);
}

static void chome_numerals(void **state)
{
	(void)state;
	same("２丁目", "二丁目", "2丁目");
	assert_string_equal(fold("2丁目"), "2丁目");
	same("松江北２丁目", "松江北二丁目", "松江北2丁目");
	same("十二丁目", "１２丁目", "12丁目");
}

static void banchi_numerals(void **state)
{
	(void)state;
	assert_string_equal(fold("十九番"), "19番");
	assert_string_equal(fold("十九番二十五号"), "19番25号");
	assert_string_equal(fold("三号"), "3号");
	/* a run at the end after 番地の counts too: written in kanji or in
	 * digits, 番地の + number folds the same */
	same("19番地の二", "19番地の2", "19番地の2");
	same("百三番地の三", "103番地の3", "103番地の3");
	/* a numeral before a dash, and a numeral after one */
	assert_string_equal(fold("一-二"), "1-2");
}

static void jo_numerals(void **state)
{
	(void)state;
	same("北二十四条", "北24条", "北24条");
	same("北２４条西", "北二十四条西", "北24条西");
}

static void names_keep_their_kanji(void **state)
{
	(void)state;
	assert_string_equal(fold("八王子"), "八王子");
	assert_string_equal(fold("千代田"), "千代田");
	assert_string_equal(fold("千代田区"), "千代田区");
	assert_string_equal(fold("八王子市"), "八王子市");
	assert_string_equal(fold("一宮市"), "一宮市");
	assert_string_equal(fold("三鷹市"), "三鷹市");
	assert_string_equal(fold("九段南"), "九段南");
	/* a name's numeral is kept even when a number follows later */
	assert_string_equal(fold("千代田区九段南一丁目"), "千代田区九段南1丁目");
}

static void ga_between_kanji(void **state)
{
	(void)state;
	char a[256], b[256], c[256];
	snprintf(a, sizeof a, "%s", fold("霞ヶ関"));
	snprintf(b, sizeof b, "%s", fold("霞ケ関"));
	snprintf(c, sizeof c, "%s", fold("霞が関"));
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	assert_string_equal(fold("旭ケ丘"), fold("旭ヶ丘"));
	assert_string_equal(fold("旭が丘"), fold("旭ヶ丘"));
	/* not between kanji: stays */
	assert_string_equal(fold("ケーキ"), "ケーキ");
}

static void variant_kanji(void **state)
{
	(void)state;
	assert_string_equal(fold("和歌山巿"), "和歌山市");
	assert_string_equal(fold("和歌山巿"), fold("和歌山市"));
	assert_string_equal(fold("莵道"), "菟道");
	assert_string_equal(fold("莵道"), fold("菟道"));
	/* old forms from jtext's table */
	assert_string_equal(fold("大澤"), fold("大沢"));
}

/* The second, narrower folding (fallback keys only): 舟/船, 篭/籠, 舘/館 in
 * place, lengths kept, true when either form of a pair is there. */
static void place_name_variants(void **state)
{
	(void)state;
	char s[64];
	snprintf(s, sizeof s, "%s", fold("一之舟入町"));
	size_t n = strlen(s);
	assert_true(addr_fold_variant(s, n));
	assert_int_equal(strlen(s), n);
	char want[64];
	snprintf(want, sizeof want, "%s", fold("一之船入町"));
	assert_string_equal(s, want);
	/* the target form counts too: the key 一之船入町 is a variant key */
	assert_true(addr_fold_variant(want, strlen(want)));
	assert_string_equal(want, s);
	snprintf(s, sizeof s, "一乗寺燈篭本町舘山");
	assert_true(addr_fold_variant(s, strlen(s)));
	assert_string_equal(s, "一乗寺燈籠本町館山");
	/* nothing to do: false, text unchanged (addr_fold does not fold them) */
	snprintf(s, sizeof s, "四谷三栄町2-8");
	assert_false(addr_fold_variant(s, strlen(s)));
	assert_string_equal(s, "四谷三栄町2-8");
	assert_string_equal(fold("舟屋町"), "舟屋町");
	/* a cut character at the end and stray bytes are left alone */
	static const char cut[] = "\xE8\x88";
	snprintf(s, sizeof s, "%s", cut);
	assert_false(addr_fold_variant(s, strlen(s)));
	assert_memory_equal(s, cut, 2);
	assert_false(addr_fold_variant(s, 0));
}

static void width_and_dashes(void **state)
{
	(void)state;
	assert_string_equal(fold("１８－１"), "18-1");
	assert_string_equal(fold("１８ー１"), "18-1");
	assert_string_equal(fold("18−1"), "18-1");
	assert_string_equal(fold("１８‐１‐３"), "18-1-3");
	assert_string_equal(fold("19-25"), "19-25");
	/* a long-vowel mark in katakana stays */
	assert_string_equal(fold("センター"), "センター");
	/* half-width katakana becomes full-width */
	assert_string_equal(fold("ｺｰﾎﾟ"), "コーポ");
}

static void invisible_characters(void **state)
{
	(void)state;
	assert_string_equal(fold("\xEF\xBB\xBF松江北"), "松江北");
	assert_string_equal(fold("松\xE2\x80\x8B江北"), "松江北");
}

static void invalid_utf8(void **state)
{
	(void)state;
	int rc;
	assert_null(fold_rc("\xff", 1, &rc));
	assert_int_equal(rc, -EILSEQ);
	assert_null(fold_rc("松江\xE5\x8C", 8, &rc)); /* truncated sequence */
	assert_int_equal(rc, -EILSEQ);
	assert_null(fold_rc("\xC0\xAF", 2, &rc)); /* overlong '/' */
	assert_int_equal(rc, -EILSEQ);
	assert_null(fold_rc("\xED\xA0\x80", 3, &rc)); /* a surrogate */
	assert_int_equal(rc, -EILSEQ);
}

static void empty_and_bounded(void **state)
{
	(void)state;
	int rc;
	const char *r = fold_rc("", 0, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(r, "");
	/* longer than the output buffer may grow: -E2BIG, not a crash */
	struct buf out, tmp;
	buf_init(&out, 64);
	buf_init(&tmp, 64);
	char big[300];
	memset(big, 'a', sizeof big);
	assert_int_equal(addr_fold(&out, &tmp, big, sizeof big), -E2BIG);
	buf_release(&out);
	buf_release(&tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chome_numerals),      cmocka_unit_test(banchi_numerals),
		cmocka_unit_test(jo_numerals),         cmocka_unit_test(names_keep_their_kanji),
		cmocka_unit_test(ga_between_kanji),    cmocka_unit_test(variant_kanji),
		cmocka_unit_test(width_and_dashes),    cmocka_unit_test(invisible_characters),
		cmocka_unit_test(invalid_utf8),        cmocka_unit_test(empty_and_bounded),
		cmocka_unit_test(place_name_variants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
