/* Unit tests for common/jtext.c: each normalization on real addresses and
 * names, the error contract (invalid UTF-8, output limits leave the buffer
 * untouched), and the half-width kana table checked against ICU's NFKC. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/jtext.h"
#include "common/utf8.h"

typedef int (*jfn)(struct buf *, const char *, size_t);

static void expect_fn(jfn fn, const char *in, const char *want)
{
	struct buf b;
	buf_init(&b, 4096);
	int rc = fn(&b, in, strlen(in));
	if (rc != 0)
		fail_msg("rc %d for \"%s\"", rc, in);
	assert_string_equal(buf_cstr(&b), want);
	assert_true(utf8_valid(b.p ? b.p : "", b.len));
	buf_release(&b);
}

static int fold0(struct buf *b, const char *s, size_t n)
{
	return jtext_fold_for_match(b, s, n, 0);
}

static int fold_hira(struct buf *b, const char *s, size_t n)
{
	return jtext_fold_for_match(b, s, n, JTEXT_FOLD_HIRAGANA);
}

static jfn all_fns[] = {
	jtext_nfkc,
	jtext_ascii_to_halfwidth,
	jtext_ascii_to_fullwidth,
	jtext_kana_to_fullwidth,
	jtext_kana_to_halfwidth,
	jtext_katakana_to_hiragana,
	jtext_hiragana_to_katakana,
	jtext_kanji_to_arabic,
	jtext_arabic_to_kanji,
	jtext_fold_dashes,
	jtext_fold_ga,
	jtext_fold_no,
	jtext_old_to_new_kanji,
	jtext_strip_invisible,
	jtext_fold_spaces,
	fold0,
	fold_hira,
};
#define NFNS (sizeof(all_fns) / sizeof(all_fns[0]))

static void test_ascii_width(void **state)
{
	expect_fn(jtext_ascii_to_halfwidth, "東京都千代田区霞が関１丁目３−１",
		  "東京都千代田区霞が関1丁目3−1");
	expect_fn(jtext_ascii_to_halfwidth, "和歌山市松江北２丁目１９－２５",
		  "和歌山市松江北2丁目19-25");
	expect_fn(jtext_ascii_to_halfwidth, "ＡＢＣビル　５Ｆ（受付）", "ABCビル 5F(受付)");
	expect_fn(jtext_ascii_to_halfwidth, "ｶﾞｰﾃﾞﾝ", "ｶﾞｰﾃﾞﾝ");
	expect_fn(jtext_ascii_to_halfwidth, "！～", "!~");
	expect_fn(jtext_ascii_to_fullwidth, "ABC 5F-1", "ＡＢＣ　５Ｆ－１");
	expect_fn(jtext_ascii_to_fullwidth, "霞が関1丁目", "霞が関１丁目");
	expect_fn(jtext_ascii_to_fullwidth, "!~\t", "！～\t");
}

static void test_kana_width(void **state)
{
	expect_fn(jtext_kana_to_fullwidth, "ｶﾞｰﾃﾞﾝ", "ガーデン");
	expect_fn(jtext_kana_to_fullwidth, "ﾊﾟｰｸﾊｲﾂ", "パークハイツ");
	expect_fn(jtext_kana_to_fullwidth, "ｳﾞｨﾗ", "ヴィラ");
	expect_fn(jtext_kana_to_fullwidth, "ﾜﾞｦﾞ", "ヷヺ");
	expect_fn(jtext_kana_to_fullwidth, "ﾏﾞﾟ", "マ゛゜"); /* nothing to compose */
	expect_fn(jtext_kana_to_fullwidth, "ﾞｱ", "゛ア");
	expect_fn(jtext_kana_to_fullwidth, "｢ｺｰﾎﾟ｣､ﾒｿﾞﾝ･ﾄﾞ｡", "「コーポ」、メゾン・ド。");
	expect_fn(jtext_kana_to_fullwidth, "ABC１", "ABC１");
	expect_fn(jtext_kana_to_halfwidth, "ガーデン", "ｶﾞｰﾃﾞﾝ");
	expect_fn(jtext_kana_to_halfwidth, "パークハイツ", "ﾊﾟｰｸﾊｲﾂ");
	expect_fn(jtext_kana_to_halfwidth, "ヴィラ・ビポ", "ｳﾞｨﾗ･ﾋﾞﾎﾟ");
	expect_fn(jtext_kana_to_halfwidth, "ヰヱヶ漢字かな", "ヰヱヶ漢字かな");
	expect_fn(jtext_kana_to_halfwidth, "「コーポ」。", "｢ｺｰﾎﾟ｣｡");
}

/* Every half-width kana alone, and followed by each voicing mark, must give
 * what ICU's NFKC gives (apart from a mark left alone: NFKC makes it the
 * combining U+3099/U+309A, the function the spacing U+309B/U+309C). */
static void test_kana_table_vs_nfkc(void **state)
{
	struct buf a, b;
	buf_init(&a, 64);
	buf_init(&b, 64);
	int checked = 0;
	for (uint32_t c = 0xFF61; c <= 0xFF9D; c++) {
		for (uint32_t m = 0; m <= 2; m++) {
			char in[8];
			size_t n = utf8_encode(c, in);
			if (m)
				n += utf8_encode(m == 1 ? 0xFF9E : 0xFF9F, in + n);
			buf_reset(&a);
			buf_reset(&b);
			assert_int_equal(jtext_kana_to_fullwidth(&a, in, n), 0);
			assert_int_equal(jtext_nfkc(&b, in, n), 0);
			if (strcmp(buf_cstr(&a), buf_cstr(&b)) == 0) {
				checked++;
				continue;
			}
			/* Differ only in a trailing uncomposed mark. */
			assert_true(m != 0);
			assert_true(a.len == b.len);
			assert_memory_equal(a.p, b.p, a.len - 3);
		}
	}
	assert_true(checked > 61 + 20); /* each letter and every composition */
	buf_release(&a);
	buf_release(&b);
}

static void test_kana(void **state)
{
	expect_fn(jtext_katakana_to_hiragana, "ワタナベ　タロウ", "わたなべ　たろう");
	expect_fn(jtext_katakana_to_hiragana, "ガーデンハイツ", "がーでんはいつ");
	expect_fn(jtext_katakana_to_hiragana, "ヽヾヴヵヶ", "ゝゞゔゕゖ");
	expect_fn(jtext_katakana_to_hiragana, "ヷ・ー漢字ｶ", "ヷ・ー漢字ｶ");
	expect_fn(jtext_hiragana_to_katakana, "やまだ はなこ", "ヤマダ ハナコ");
	expect_fn(jtext_hiragana_to_katakana, "ゝゞゔ", "ヽヾヴ");
	expect_fn(jtext_hiragana_to_katakana, "霞が関", "霞ガ関");
}

static void test_kanji_to_arabic(void **state)
{
	expect_fn(jtext_kanji_to_arabic, "二〇二四年", "2024年");
	expect_fn(jtext_kanji_to_arabic, "三千五百六十七", "3567");
	expect_fn(jtext_kanji_to_arabic, "二千二十四", "2024");
	expect_fn(jtext_kanji_to_arabic, "十一", "11");
	expect_fn(jtext_kanji_to_arabic, "十", "10");
	expect_fn(jtext_kanji_to_arabic, "百", "100");
	expect_fn(jtext_kanji_to_arabic, "千", "1000");
	expect_fn(jtext_kanji_to_arabic, "百一", "101");
	expect_fn(jtext_kanji_to_arabic, "二十", "20");
	expect_fn(jtext_kanji_to_arabic, "一万", "10000");
	expect_fn(jtext_kanji_to_arabic, "三万五百", "30500");
	expect_fn(jtext_kanji_to_arabic, "九千九百九十九万九千九百九十九", "99999999");
	expect_fn(jtext_kanji_to_arabic, "一万千", "11000");
	expect_fn(jtext_kanji_to_arabic, "二丁目十五番地", "2丁目15番地");
	expect_fn(jtext_kanji_to_arabic, "霞が関一丁目三番一号", "霞が関1丁目3番1号");
	expect_fn(jtext_kanji_to_arabic, "〇", "0");
	expect_fn(jtext_kanji_to_arabic, "〇〇七", "007");
	expect_fn(jtext_kanji_to_arabic, "令和六年四月一日", "令和6年4月1日");
	expect_fn(jtext_kanji_to_arabic, "千代田区", "1000代田区"); /* documented */
	/* Malformed counted runs are copied. */
	expect_fn(jtext_kanji_to_arabic, "十十", "十十");
	expect_fn(jtext_kanji_to_arabic, "二三十", "二三十");
	expect_fn(jtext_kanji_to_arabic, "百千", "百千");
	expect_fn(jtext_kanji_to_arabic, "万", "万");
	expect_fn(jtext_kanji_to_arabic, "一万二万", "一万二万");
	expect_fn(jtext_kanji_to_arabic, "二千〇五", "二千〇五");
	expect_fn(jtext_kanji_to_arabic, "abc", "abc");
}

static void test_arabic_to_kanji(void **state)
{
	expect_fn(jtext_arabic_to_kanji, "2丁目", "二丁目");
	expect_fn(jtext_arabic_to_kanji, "24", "二十四");
	expect_fn(jtext_arabic_to_kanji, "10", "十");
	expect_fn(jtext_arabic_to_kanji, "11", "十一");
	expect_fn(jtext_arabic_to_kanji, "100", "百");
	expect_fn(jtext_arabic_to_kanji, "101", "百一");
	expect_fn(jtext_arabic_to_kanji, "2024", "二千二十四");
	expect_fn(jtext_arabic_to_kanji, "3567", "三千五百六十七");
	expect_fn(jtext_arabic_to_kanji, "10000", "一万");
	expect_fn(jtext_arabic_to_kanji, "30500", "三万五百");
	expect_fn(jtext_arabic_to_kanji, "99999999", "九千九百九十九万九千九百九十九");
	expect_fn(jtext_arabic_to_kanji, "0", "〇");
	expect_fn(jtext_arabic_to_kanji, "000", "〇");
	expect_fn(jtext_arabic_to_kanji, "05", "五");
	expect_fn(jtext_arabic_to_kanji, "100000000", "100000000");
	expect_fn(jtext_arabic_to_kanji, "松江北2丁目19-25", "松江北二丁目十九-二十五");
	expect_fn(jtext_arabic_to_kanji, "１２", "１２"); /* only ASCII digits */
}

/* Both directions agree on every value 0..99,999 and on some larger ones. */
static void test_numeral_roundtrip(void **state)
{
	struct buf k, a;
	buf_init(&k, 256);
	buf_init(&a, 256);
	for (uint32_t v = 0; v < 100000; v += (v < 12000 ? 1 : 7)) {
		char d[16];
		int nd = snprintf(d, sizeof(d), "%u", v);
		buf_reset(&k);
		buf_reset(&a);
		assert_int_equal(jtext_arabic_to_kanji(&k, d, (size_t)nd), 0);
		assert_int_equal(jtext_kanji_to_arabic(&a, k.p, k.len), 0);
		if (v == 0)
			assert_string_equal(buf_cstr(&a), "0");
		else
			assert_string_equal(buf_cstr(&a), d);
	}
	buf_release(&k);
	buf_release(&a);
}

static void test_dashes(void **state)
{
	expect_fn(jtext_fold_dashes, "霞が関1丁目3−1", "霞が関1丁目3-1");
	expect_fn(jtext_fold_dashes, "19－25", "19-25");
	expect_fn(jtext_fold_dashes, "1ー2ｰ3‐4‑5‒6–7—8―9─0━1", "1-2-3-4-5-6-7-8-9-0-1");
	expect_fn(jtext_fold_dashes, "１２ー３", "１２-３");
	expect_fn(jtext_fold_dashes, "三ー五", "三-五");
	expect_fn(jtext_fold_dashes, "2ー", "2-");
	expect_fn(jtext_fold_dashes, "−1", "-1");
	expect_fn(jtext_fold_dashes, "センター1", "センター1");
	expect_fn(jtext_fold_dashes, "コーポ", "コーポ");
	expect_fn(jtext_fold_dashes, "ｶﾞｰﾃﾞﾝ", "ｶﾞｰﾃﾞﾝ");
	expect_fn(jtext_fold_dashes, "ビル—本館", "ビル—本館");
	expect_fn(jtext_fold_dashes, "万ー", "万ー");
}

static void test_ga_no(void **state)
{
	expect_fn(jtext_fold_ga, "霞が関", "霞ヶ関");
	expect_fn(jtext_fold_ga, "霞ケ関", "霞ヶ関");
	expect_fn(jtext_fold_ga, "霞ヶ関", "霞ヶ関");
	expect_fn(jtext_fold_ga, "霞ヵ関", "霞ヶ関");
	expect_fn(jtext_fold_ga, "霞カ関", "霞ヶ関");
	expect_fn(jtext_fold_ga, "自由が丘", "自由ヶ丘");
	expect_fn(jtext_fold_ga, "駒ヶ根市", "駒ヶ根市");
	expect_fn(jtext_fold_ga, "袖ケ浦市", "袖ヶ浦市");
	expect_fn(jtext_fold_ga, "ケーキが好き", "ケーキが好き");
	expect_fn(jtext_fold_ga, "東京が", "東京が");
	expect_fn(jtext_fold_ga, "ヶ丘", "ヶ丘");
	expect_fn(jtext_fold_no, "木之本町", "木ノ本町");
	expect_fn(jtext_fold_no, "木の本町", "木ノ本町");
	expect_fn(jtext_fold_no, "木ノ本町", "木ノ本町");
	expect_fn(jtext_fold_no, "博之", "博之");
	expect_fn(jtext_fold_no, "ものの", "ものの");
}

static void test_old_kanji(void **state)
{
	expect_fn(jtext_old_to_new_kanji, "渡邊", "渡辺");
	expect_fn(jtext_old_to_new_kanji, "渡邉", "渡辺");
	expect_fn(jtext_old_to_new_kanji, "渡辺", "渡辺");
	expect_fn(jtext_old_to_new_kanji, "齋藤齊藤斉藤斎藤", "斎藤斉藤斉藤斎藤");
	expect_fn(jtext_old_to_new_kanji, "髙橋", "高橋");
	expect_fn(jtext_old_to_new_kanji, "山﨑嵜", "山崎崎");
	expect_fn(jtext_old_to_new_kanji, "中嶋嶌", "中島島");
	expect_fn(jtext_old_to_new_kanji, "澤田濱田", "沢田浜田");
	expect_fn(jtext_old_to_new_kanji, "國學院廣島", "国学院広島");
	expect_fn(jtext_old_to_new_kanji, "櫻井藏龍德惠榮", "桜井蔵竜徳恵栄");
	expect_fn(jtext_old_to_new_kanji, "飛驒", "飛騨");
	expect_fn(jtext_old_to_new_kanji, "東京都", "東京都");
}

static void test_invisible_spaces(void **state)
{
	expect_fn(jtext_strip_invisible, "\xEF\xBB\xBF和歌山市", "和歌山市");
	expect_fn(jtext_strip_invisible, "和\u200B歌\u200C山\u200D市\u2060\uFEFF", "和歌山市");
	expect_fn(jtext_strip_invisible, "a\u200Eb", "a\u200Eb");
	expect_fn(jtext_fold_spaces, "東京都　千代田区\u00A0霞が関", "東京都 千代田区 霞が関");
	expect_fn(jtext_fold_spaces, "a\u2002b\u202Fc\u205Fd\te", "a b c d\te");
}

static void test_nfkc(void **state)
{
	expect_fn(jtext_nfkc, "ｶﾞｰﾃﾞﾝ", "ガーデン");
	expect_fn(jtext_nfkc, "ＡＢＣ１２３", "ABC123");
	expect_fn(jtext_nfkc, "①㈱㍻", "1(株)平成");
	expect_fn(jtext_nfkc, "塚", "塚"); /* U+FA10 → U+585A */
	expect_fn(jtext_nfkc, "\xE3\x80\x80", " ");
	/* A long input takes the heap path. */
	char big[3 * 1000 + 1];
	char want[1000 + 1];
	for (int i = 0; i < 1000; i++) {
		memcpy(big + 3 * i, "\xEF\xBC\xA1", 3); /* Ａ */
		want[i] = 'A';
	}
	big[3000] = '\0';
	want[1000] = '\0';
	expect_fn(jtext_nfkc, big, want);
}

static void test_fold_for_match(void **state)
{
	expect_fn(fold0, "東京都千代田区霞が関１丁目３−１", "東京都千代田区霞ヶ関1丁目3-1");
	expect_fn(fold0, "東京都千代田区霞ケ関1-3-1", "東京都千代田区霞ヶ関1-3-1");
	expect_fn(fold0, "\xEF\xBB\xBF和歌山市松江北２丁目１９－２５", "和歌山市松江北2丁目19-25");
	expect_fn(fold0, "和歌山市松江北2丁目19ー25", "和歌山市松江北2丁目19-25");
	expect_fn(fold0, "ｶﾞｰﾃﾞﾝﾊｲﾂ　１０１号室", "ガーデンハイツ 101号室");
	expect_fn(fold0, "ｶ\u200Dﾞ", "ガ"); /* stripped before composing */
	expect_fn(fold0, "渡邊", "渡辺");
	expect_fn(fold0, "渡邉", "渡辺");
	expect_fn(fold0, "木之本町", "木ノ本町");
	expect_fn(fold0, "二〇二四年", "二〇二四年"); /* numerals untouched */
	expect_fn(fold0, "千代田区", "千代田区");
	expect_fn(fold_hira, "ワタナベ　ﾀﾛｳ", "わたなべ たろう");
	expect_fn(fold_hira, "霞ケ関センター", "霞ヶ関せんたー");
	expect_fn(fold_hira, "木ノ本", "木ノ本");
	expect_fn(fold0, "", "");

	/* Variants fold to one key. */
	const char *v[] = {"霞ヶ関", "霞ケ関", "霞が関", "霞ヵ関", "霞\u200Bが関"};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		expect_fn(fold0, v[i], "霞ヶ関");

	struct buf b;
	buf_init(&b, 100);
	assert_int_equal(jtext_fold_for_match(&b, "a", 1, 0x80), -EINVAL);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_invalid_utf8(void **state)
{
	static const char *bad[] = {"\xFF",     "abc\x80",      "\xE3\x81",
				    "\xC0\x80", "\xED\xA0\x80", "ｶ\xF5\x80\x80\x80"};
	for (size_t f = 0; f < NFNS; f++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct buf b;
			buf_init(&b, 1024);
			assert_int_equal(buf_puts(&b, "keep"), 0);
			assert_int_equal(all_fns[f](&b, bad[i], strlen(bad[i])), -EILSEQ);
			assert_string_equal(buf_cstr(&b), "keep");
			buf_release(&b);
		}
	}
}

static void test_empty_and_nul(void **state)
{
	for (size_t f = 0; f < NFNS; f++) {
		struct buf b;
		buf_init(&b, 16);
		assert_int_equal(all_fns[f](&b, "", 0), 0);
		assert_int_equal(b.len, 0);
		assert_int_equal(all_fns[f](&b, "a\0b", 3), 0);
		/* The NUL is kept (ａ\0ｂ from the full-width function). */
		assert_true(b.len == 3 || b.len == 7);
		assert_non_null(memchr(b.p, '\0', b.len));
		buf_release(&b);
	}
}

/* An output that does not fit gives -E2BIG and leaves the buffer as it was;
 * one byte more room makes it fit. */
static void test_output_limit(void **state)
{
	static const char *in[] = {"ＡＢＣ１２３ｶﾞｰﾃﾞﾝ", "霞が関１丁目３−１ ABC 2024",
				   "渡邊ワタナベ　わたなべ", "二千二十四 三千五百六十七 二〇二四",
				   "\xEF\xBB\xBF和\u200B歌山"};
	for (size_t f = 0; f < NFNS; f++) {
		for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
			struct buf full;
			buf_init(&full, 4096);
			assert_int_equal(all_fns[f](&full, in[i], strlen(in[i])), 0);
			size_t need = full.len;
			buf_release(&full);
			for (size_t room = 0; room <= need; room++) {
				struct buf b;
				buf_init(&b, 2 + room);
				assert_int_equal(buf_puts(&b, "xy"), 0);
				int rc = all_fns[f](&b, in[i], strlen(in[i]));
				if (room < need) {
					assert_int_equal(rc, -E2BIG);
					assert_string_equal(buf_cstr(&b), "xy");
				} else {
					assert_int_equal(rc, 0);
					assert_int_equal(b.len, 2 + need);
				}
				buf_release(&b);
			}
		}
	}
}

/* Appending keeps what was in the buffer. */
static void test_appends(void **state)
{
	struct buf b;
	buf_init(&b, 256);
	assert_int_equal(jtext_fold_for_match(&b, "渡邊", strlen("渡邊"), 0), 0);
	assert_int_equal(buf_putc(&b, '|'), 0);
	assert_int_equal(jtext_katakana_to_hiragana(&b, "タロウ", strlen("タロウ")), 0);
	assert_string_equal(buf_cstr(&b), "渡辺|たろう");
	buf_release(&b);
}

/* Four threads fold the same addresses at once (the first call of each
 * races on the lazy ICU set-up) and must all get the single-thread answer. */
static void *fold_worker(void *arg)
{
	const char *in = "\xEF\xBB\xBF東京都千代田区霞ケ関１丁目３−１ ｶﾞｰﾃﾞﾝ 渡邊";
	struct buf b;
	buf_init(&b, 1024);
	long bad = 0;
	for (int i = 0; i < 20000; i++) {
		buf_reset(&b);
		if (jtext_fold_for_match(&b, in, strlen(in), 0) ||
		    strcmp(buf_cstr(&b), "東京都千代田区霞ヶ関1丁目3-1 ガーデン 渡辺") != 0)
			bad++;
	}
	buf_release(&b);
	*(long *)arg = bad;
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	long bad[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fold_worker, &bad[i]), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(bad[i], 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_width),
		cmocka_unit_test(test_kana_width),
		cmocka_unit_test(test_kana_table_vs_nfkc),
		cmocka_unit_test(test_kana),
		cmocka_unit_test(test_kanji_to_arabic),
		cmocka_unit_test(test_arabic_to_kanji),
		cmocka_unit_test(test_numeral_roundtrip),
		cmocka_unit_test(test_dashes),
		cmocka_unit_test(test_ga_no),
		cmocka_unit_test(test_old_kanji),
		cmocka_unit_test(test_invisible_spaces),
		cmocka_unit_test(test_nfkc),
		cmocka_unit_test(test_fold_for_match),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_empty_and_nul),
		cmocka_unit_test(test_output_limit),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
