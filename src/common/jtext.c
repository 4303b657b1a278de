/* Japanese text normalization (see jtext.h): one table-driven pass over the
 * code points for the context rules, ICU's NFKC for the Unicode folding.
 * Hand tables instead of utrans: they are exact, allocation-free and shared. */
#include "jtext.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utypes.h>

#include "utf8.h"
#include "xalloc.h"

/* Operations of one pass; several may run in the same pass (see pass()). */
enum {
	OP_HALF_ASCII = 1 << 0,
	OP_FULL_ASCII = 1 << 1,
	OP_KANA_FULL = 1 << 2,
	OP_KANA_HALF = 1 << 3,
	OP_K2H = 1 << 4,
	OP_H2K = 1 << 5,
	OP_DASH = 1 << 6,
	OP_GA = 1 << 7,
	OP_NO = 1 << 8,
	OP_KANJI = 1 << 9,
	OP_INVISIBLE = 1 << 10,
	OP_SPACE = 1 << 11,
};

#define CP_DAKUTEN_HALF 0xFF9Eu
#define CP_HANDAKUTEN_HALF 0xFF9Fu
#define CP_CHOON 0x30FCu /* ー */
#define CP_SMALL_KE 0x30F6u
#define CP_KATA_NO 0x30CEu

/* Full-width forms of U+FF61..U+FF9F, in order. */
static const uint16_t kana_full[63] = {
	0x3002, 0x300C, 0x300D, 0x3001, 0x30FB, 0x30F2, 0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9,
	0x30E3, 0x30E5, 0x30E7, 0x30C3, 0x30FC, 0x30A2, 0x30A4, 0x30A6, 0x30A8, 0x30AA, 0x30AB,
	0x30AD, 0x30AF, 0x30B1, 0x30B3, 0x30B5, 0x30B7, 0x30B9, 0x30BB, 0x30BD, 0x30BF, 0x30C1,
	0x30C4, 0x30C6, 0x30C8, 0x30CA, 0x30CB, 0x30CC, 0x30CD, 0x30CE, 0x30CF, 0x30D2, 0x30D5,
	0x30D8, 0x30DB, 0x30DE, 0x30DF, 0x30E0, 0x30E1, 0x30E2, 0x30E4, 0x30E6, 0x30E8, 0x30E9,
	0x30EA, 0x30EB, 0x30EC, 0x30ED, 0x30EF, 0x30F3, 0x309B, 0x309C,
};

/* Old form → form in use, sorted by the old code point (bsearch). */
struct kanji_pair {
	uint32_t old, cur;
};
static const struct kanji_pair kanji_table[] = {
	{0x4F5B, 0x4ECF}, /* 佛 → 仏 */
	{0x4F86, 0x6765}, /* 來 → 来 */
	{0x50B3, 0x4F1D}, /* 傳 → 伝 */
	{0x50F9, 0x4FA1}, /* 價 → 価 */
	{0x5152, 0x5150}, /* 兒 → 児 */
	{0x51A8, 0x5BCC}, /* 冨 → 富 */
	{0x52DE, 0x52B4}, /* 勞 → 労 */
	{0x5377, 0x5DFB}, /* 卷 → 巻 */
	{0x570B, 0x56FD}, /* 國 → 国 */
	{0x5713, 0x5186}, /* 圓 → 円 */
	{0x5718, 0x56E3}, /* 團 → 団 */
	{0x589E, 0x5897}, /* 增 → 増 */
	{0x58EF, 0x58EE}, /* 壯 → 壮 */
	{0x58F9, 0x58F1}, /* 壹 → 壱 */
	{0x58FD, 0x5BFF}, /* 壽 → 寿 */
	{0x5B78, 0x5B66}, /* 學 → 学 */
	{0x5BE6, 0x5B9F}, /* 實 → 実 */
	{0x5BF6, 0x5B9D}, /* 寶 → 宝 */
	{0x5CEF, 0x5CF0}, /* 峯 → 峰 */
	{0x5D5C, 0x5D0E}, /* 嵜 → 崎 */
	{0x5D8B, 0x5CF6}, /* 嶋 → 島 */
	{0x5D8C, 0x5CF6}, /* 嶌 → 島 */
	{0x5DBD, 0x5CB3}, /* 嶽 → 岳 */
	{0x5EE3, 0x5E83}, /* 廣 → 広 */
	{0x5EF3, 0x5E81}, /* 廳 → 庁 */
	{0x5FB7, 0x5FB3}, /* 德 → 徳 */
	{0x60E0, 0x6075}, /* 惠 → 恵 */
	{0x61C9, 0x5FDC}, /* 應 → 応 */
	{0x6236, 0x6238}, /* 戶 → 戸 */
	{0x62DC, 0x62DD}, /* 拜 → 拝 */
	{0x66C9, 0x6681}, /* 曉 → 暁 */
	{0x66FE, 0x66FD}, /* 曾 → 曽 */
	{0x6703, 0x4F1A}, /* 會 → 会 */
	{0x689D, 0x6761}, /* 條 → 条 */
	{0x69AE, 0x6804}, /* 榮 → 栄 */
	{0x69C7, 0x69D9}, /* 槇 → 槙 */
	{0x6A02, 0x697D}, /* 樂 → 楽 */
	{0x6A9C, 0x6867}, /* 檜 → 桧 */
	{0x6AA2, 0x691C}, /* 檢 → 検 */
	{0x6AFB, 0x685C}, /* 櫻 → 桜 */
	{0x6DF5, 0x6E15}, /* 淵 → 渕 */
	{0x6DF8, 0x6E05}, /* 淸 → 清 */
	{0x6DFA, 0x6D45}, /* 淺 → 浅 */
	{0x6EAA, 0x6E13}, /* 溪 → 渓 */
	{0x6F81, 0x6E0B}, /* 澁 → 渋 */
	{0x6FA4, 0x6CA2}, /* 澤 → 沢 */
	{0x6FF1, 0x6D5C}, /* 濱 → 浜 */
	{0x6FF5, 0x6D5C}, /* 濵 → 浜 */
	{0x7027, 0x6EDD}, /* 瀧 → 滝 */
	{0x7028, 0x702C}, /* 瀨 → 瀬 */
	{0x71C8, 0x706F}, /* 燈 → 灯 */
	{0x71DF, 0x55B6}, /* 營 → 営 */
	{0x7368, 0x72EC}, /* 獨 → 独 */
	{0x756B, 0x753B}, /* 畫 → 画 */
	{0x767C, 0x767A}, /* 發 → 発 */
	{0x771E, 0x771F}, /* 眞 → 真 */
	{0x79AE, 0x793C}, /* 禮 → 礼 */
	{0x7A3B, 0x7A32}, /* 稻 → 稲 */
	{0x7A57, 0x7A42}, /* 穗 → 穂 */
	{0x7E23, 0x770C}, /* 縣 → 県 */
	{0x7E69, 0x7E04}, /* 繩 → 縄 */
	{0x8072, 0x58F0}, /* 聲 → 声 */
	{0x8207, 0x4E0E}, /* 與 → 与 */
	{0x820A, 0x65E7}, /* 舊 → 旧 */
	{0x820D, 0x820E}, /* 舍 → 舎 */
	{0x838A, 0x8358}, /* 莊 → 荘 */
	{0x842C, 0x4E07}, /* 萬 → 万 */
	{0x85CF, 0x8535}, /* 藏 → 蔵 */
	{0x85DD, 0x82B8}, /* 藝 → 芸 */
	{0x87A2, 0x86CD}, /* 螢 → 蛍 */
	{0x89C0, 0x89B3}, /* 觀 → 観 */
	{0x8B7D, 0x8A89}, /* 譽 → 誉 */
	{0x8B80, 0x8AAD}, /* 讀 → 読 */
	{0x8B8A, 0x5909}, /* 變 → 変 */
	{0x8C50, 0x8C4A}, /* 豐 → 豊 */
	{0x8CE3, 0x58F2}, /* 賣 → 売 */
	{0x8FA8, 0x5F01}, /* 辨 → 弁 */
	{0x8FAF, 0x5F01}, /* 辯 → 弁 */
	{0x905E, 0x9013}, /* 遞 → 逓 */
	{0x9089, 0x8FBA}, /* 邉 → 辺 */
	{0x908A, 0x8FBA}, /* 邊 → 辺 */
	{0x90A8, 0x6751}, /* 邨 → 村 */
	{0x9115, 0x90F7}, /* 鄕 → 郷 */
	{0x9322, 0x92AD}, /* 錢 → 銭 */
	{0x9435, 0x9244}, /* 鐵 → 鉄 */
	{0x945B, 0x9271}, /* 鑛 → 鉱 */
	{0x95DC, 0x95A2}, /* 關 → 関 */
	{0x9751, 0x9752}, /* 靑 → 青 */
	{0x975C, 0x9759}, /* 靜 → 静 */
	{0x9A52, 0x9A28}, /* 驒 → 騨 */
	{0x9A5B, 0x99C5}, /* 驛 → 駅 */
	{0x9AD9, 0x9AD8}, /* 髙 → 高 */
	{0x9DD7, 0x9D0E}, /* 鷗 → 鴎 */
	{0x9E7D, 0x5869}, /* 鹽 → 塩 */
	{0x9EC3, 0x9EC4}, /* 黃 → 黄 */
	{0x9ED1, 0x9ED2}, /* 黑 → 黒 */
	{0x9F4A, 0x6589}, /* 齊 → 斉 */
	{0x9F4B, 0x658E}, /* 齋 → 斎 (斎藤; 齊 is the old 斉) */
	{0x9F52, 0x6B6F}, /* 齒 → 歯 */
	{0x9F8D, 0x7ADC}, /* 龍 → 竜 */
	{0xFA11, 0x5D0E}, /* 﨑 → 崎 */
};

static bool is_dakuten_base(uint32_t c)
{
	return (c >= 0x30AB && c <= 0x30C2 && (c & 1)) || c == 0x30C4 || c == 0x30C6 ||
	       c == 0x30C8 || (c >= 0x30CF && c <= 0x30DB && (c - 0x30CF) % 3 == 0);
}

static bool is_handakuten_base(uint32_t c)
{
	return c >= 0x30CF && c <= 0x30DB && (c - 0x30CF) % 3 == 0;
}

static bool is_ideograph(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3FFFF) || c == 0x3005;
}

static bool is_kana(uint32_t c)
{
	return (c >= 0x3041 && c <= 0x30FF) || (c >= 0xFF66 && c <= 0xFF9F);
}

/* Value 0..9 of a digit, 10/100/1000/10000 of a unit, or -1. */
static int kanji_numeral(uint32_t c)
{
	switch (c) {
	case 0x3007:
		return 0; /* 〇 */
	case 0x4E00:
		return 1; /* 一 */
	case 0x4E8C:
		return 2; /* 二 */
	case 0x4E09:
		return 3; /* 三 */
	case 0x56DB:
		return 4; /* 四 */
	case 0x4E94:
		return 5; /* 五 */
	case 0x516D:
		return 6; /* 六 */
	case 0x4E03:
		return 7; /* 七 */
	case 0x516B:
		return 8; /* 八 */
	case 0x4E5D:
		return 9; /* 九 */
	case 0x5341:
		return 10; /* 十 */
	case 0x767E:
		return 100; /* 百 */
	case 0x5343:
		return 1000; /* 千 */
	case 0x4E07:
		return 10000; /* 万 */
	default:
		return -1;
	}
}

static const uint32_t kanji_digit[10] = {0x3007, 0x4E00, 0x4E8C, 0x4E09, 0x56DB,
					 0x4E94, 0x516D, 0x4E03, 0x516B, 0x4E5D};

/* Digits that make a following dash a hyphen (万 is not among them). */
static bool is_digit_like(uint32_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19))
		return true;
	int v = kanji_numeral(c);
	return v >= 0 && v <= 1000;
}

static bool is_dash(uint32_t c)
{
	switch (c) {
	case '-':
	case 0x2010:
	case 0x2011:
	case 0x2012:
	case 0x2013:
	case 0x2014:
	case 0x2015:
	case 0x2212:
	case 0xFF0D:
	case 0xFF70:
	case 0x30FC:
	case 0x2500:
	case 0x2501:
		return true;
	default:
		return false;
	}
}

static bool is_ga(uint32_t c)
{
	switch (c) {
	case 0x30F6: /* ヶ */
	case 0x30B1: /* ケ */
	case 0x304C: /* が */
	case 0x30F5: /* ヵ */
	case 0x30AB: /* カ */
	case 0x30AC: /* ガ */
	case 0x3096: /* ゖ */
	case 0x3095: /* ゕ */
		return true;
	default:
		return false;
	}
}

static bool is_no(uint32_t c)
{
	return c == 0x4E4B || c == 0x30CE || c == 0x306E; /* 之 ノ の */
}

static bool is_invisible(uint32_t c)
{
	return c == 0xFEFF || (c >= 0x200B && c <= 0x200D) || c == 0x2060;
}

static bool is_space(uint32_t c)
{
	return c == 0x3000 || c == 0x00A0 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F ||
	       c == 0x205F;
}

static uint32_t kanji_new(uint32_t c)
{
	size_t lo = 0, hi = sizeof(kanji_table) / sizeof(kanji_table[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (kanji_table[mid].old == c)
			return kanji_table[mid].cur;
		if (kanji_table[mid].old < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return c;
}

/* Half-width form of a full-width katakana or punctuation, or 0. */
static uint32_t kana_half(uint32_t c)
{
	for (size_t i = 0; i < 63; i++)
		if (kana_full[i] == c)
			return 0xFF61 + (uint32_t)i;
	return 0;
}

/* Encodes cp at the end of a small output vector. */
static void put(char *o, size_t *no, uint32_t cp)
{
	*no += utf8_encode(cp, o + *no);
}

static void restore(struct buf *out, size_t len)
{
	out->len = len;
	if (out->p)
		out->p[len] = '\0';
}

/* One pass over valid UTF-8 s[0..n): each code point sees the original code
 * points before and after it (prev, next), then is replaced by at most two.
 * The context rules (dash, ヶ, ノ) win over the per-character maps. */
static int pass(struct buf *out, const char *s, size_t n, unsigned ops)
{
	size_t start = out->len;
	uint32_t prev = 0, cur = 0, next = 0;
	int rc = 0;
	size_t i = 0;
	if (n)
		utf8_decode(s, n, &next);
	while (i < n) {
		cur = next;
		size_t k = utf8_decode(s + i, n - i, NULL);
		size_t j = i + k;
		next = 0;
		if (j < n)
			utf8_decode(s + j, n - j, &next);
		char o[8];
		size_t no = 0;
		uint32_t c = cur;
		if ((ops & OP_INVISIBLE) && is_invisible(c))
			goto advance;
		if ((ops & OP_DASH) && is_dash(c) &&
		    (is_digit_like(prev) ||
		     (is_digit_like(next) && !((c == CP_CHOON || c == 0xFF70) && is_kana(prev))))) {
			o[no++] = '-';
			goto emit;
		}
		if ((ops & OP_GA) && is_ga(c) && is_ideograph(prev) && is_ideograph(next)) {
			put(o, &no, CP_SMALL_KE);
			goto emit;
		}
		if ((ops & OP_NO) && is_no(c) && is_ideograph(prev) && is_ideograph(next)) {
			put(o, &no, CP_KATA_NO);
			goto emit;
		}
		if ((ops & OP_SPACE) && is_space(c))
			c = ' ';
		if ((ops & OP_HALF_ASCII) && c >= 0xFF01 && c <= 0xFF5E)
			c -= 0xFEE0;
		else if ((ops & OP_HALF_ASCII) && c == 0x3000)
			c = ' ';
		else if ((ops & OP_FULL_ASCII) && c >= 0x21 && c <= 0x7E)
			c += 0xFEE0;
		else if ((ops & OP_FULL_ASCII) && c == ' ')
			c = 0x3000;
		if ((ops & OP_KANA_FULL) && c >= 0xFF61 && c <= 0xFF9F) {
			uint32_t f = kana_full[c - 0xFF61];
			uint32_t v = 0;
			if (next == CP_DAKUTEN_HALF && c < CP_DAKUTEN_HALF) {
				if (is_dakuten_base(f))
					v = f + 1;
				else if (f == 0x30A6)
					v = 0x30F4; /* ヴ */
				else if (f == 0x30EF)
					v = 0x30F7; /* ヷ */
				else if (f == 0x30F2)
					v = 0x30FA; /* ヺ */
			} else if (next == CP_HANDAKUTEN_HALF && c < CP_DAKUTEN_HALF &&
				   is_handakuten_base(f)) {
				v = f + 2;
			}
			if (v) {
				j += 3; /* both marks are three bytes */
				next = 0;
				if (j < n)
					utf8_decode(s + j, n - j, &next);
				f = v;
			}
			c = f;
		} else if ((ops & OP_KANA_HALF) && c >= 0x3000 && c <= 0x30FF) {
			uint32_t h = kana_half(c);
			if (h) {
				c = h;
			} else if (is_dakuten_base(c - 1) || c == 0x30F4 || c == 0x30F7 ||
				   c == 0x30FA) {
				uint32_t base = c == 0x30F4 ? 0x30A6 :
						c == 0x30F7 ? 0x30EF :
						c == 0x30FA ? 0x30F2 :
							      c - 1;
				put(o, &no, kana_half(base));
				c = CP_DAKUTEN_HALF;
			} else if (is_handakuten_base(c - 2) && c != 0x30F7 && c != 0x30FA) {
				put(o, &no, kana_half(c - 2));
				c = CP_HANDAKUTEN_HALF;
			}
		}
		if (ops & OP_KANJI)
			c = kanji_new(c);
		if ((ops & OP_K2H) && ((c >= 0x30A1 && c <= 0x30F6) || c == 0x30FD || c == 0x30FE))
			c -= 0x60;
		else if ((ops & OP_H2K) &&
			 ((c >= 0x3041 && c <= 0x3096) || c == 0x309D || c == 0x309E))
			c += 0x60;
		put(o, &no, c);
emit:
		rc = buf_append(out, o, no);
		if (rc)
			goto out;
advance:
		prev = cur;
		i = j;
	}
out:
	if (rc)
		restore(out, start);
	return rc;
}

static int run_pass(struct buf *out, const char *s, size_t n, unsigned ops)
{
	if (!utf8_valid(s, n))
		return -EILSEQ;
	return pass(out, s, n, ops);
}

int jtext_ascii_to_halfwidth(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_HALF_ASCII);
}

int jtext_ascii_to_fullwidth(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_FULL_ASCII);
}

int jtext_kana_to_fullwidth(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_KANA_FULL);
}

int jtext_kana_to_halfwidth(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_KANA_HALF);
}

int jtext_katakana_to_hiragana(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_K2H);
}

int jtext_hiragana_to_katakana(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_H2K);
}

int jtext_fold_dashes(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_DASH);
}

int jtext_fold_ga(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_GA);
}

int jtext_fold_no(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_NO);
}

int jtext_old_to_new_kanji(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_KANJI);
}

int jtext_strip_invisible(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_INVISIBLE);
}

int jtext_fold_spaces(struct buf *out, const char *s, size_t n)
{
	return run_pass(out, s, n, OP_SPACE);
}

/* --- numerals --- */

static int put_cp(struct buf *out, uint32_t cp)
{
	char o[4];
	return buf_append(out, o, utf8_encode(cp, o));
}

/* Reads a counted run (it holds at least one unit); returns false when the
 * run is not a well-formed number. The value stays below 10^8. */
static bool parse_counted(const char *s, size_t n, uint32_t *value)
{
	uint32_t total = 0, section = 0, last_unit = 10000;
	int cur = -1;
	bool man = false;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		i += utf8_decode(s + i, n - i, &c);
		int v = kanji_numeral(c);
		if (v == 0)
			return false; /* 〇 only in digit-by-digit runs */
		if (v < 10) {
			if (cur >= 0)
				return false;
			cur = v;
		} else if (v < 10000) {
			if ((uint32_t)v >= last_unit)
				return false;
			section += (uint32_t)(cur < 0 ? 1 : cur) * (uint32_t)v;
			cur = -1;
			last_unit = (uint32_t)v;
		} else {
			if (man || (section == 0 && cur < 0))
				return false;
			total = (section + (uint32_t)(cur < 0 ? 0 : cur)) * 10000;
			section = 0;
			cur = -1;
			last_unit = 10000;
			man = true;
		}
	}
	if (cur >= 0)
		section += (uint32_t)cur;
	*value = total + section;
	return true;
}

int jtext_kanji_to_arabic(struct buf *out, const char *s, size_t n)
{
	size_t start = out->len;
	int rc = -EILSEQ;
	if (!utf8_valid(s, n))
		return rc;
	rc = 0;
	for (size_t i = 0; i < n && !rc;) {
		uint32_t c;
		size_t k = utf8_decode(s + i, n - i, &c);
		if (kanji_numeral(c) < 0) {
			rc = buf_append(out, s + i, k);
			i += k;
			continue;
		}
		size_t j = i;
		bool counted = false;
		while (j < n) {
			size_t kk = utf8_decode(s + j, n - j, &c);
			int v = kanji_numeral(c);
			if (v < 0)
				break;
			if (v >= 10)
				counted = true;
			j += kk;
		}
		if (!counted) {
			for (size_t p = i; p < j && !rc; p += 3) {
				utf8_decode(s + p, j - p, &c);
				rc = buf_putc(out, (char)('0' + kanji_numeral(c)));
			}
		} else {
			uint32_t v;
			if (parse_counted(s + i, j - i, &v))
				rc = buf_printf(out, "%u", v);
			else
				rc = buf_append(out, s + i, j - i);
		}
		i = j;
	}
	if (rc)
		restore(out, start);
	return rc;
}

/* Writes 1..9999 in counted form (千 not 一千). */
static int put_counted4(struct buf *out, uint32_t v)
{
	static const uint32_t unit_cp[3] = {0x5343, 0x767E, 0x5341}; /* 千 百 十 */
	static const uint32_t unit_val[3] = {1000, 100, 10};
	int rc = 0;
	for (int u = 0; u < 3 && !rc; u++) {
		uint32_t d = v / unit_val[u] % 10;
		if (d > 1)
			rc = put_cp(out, kanji_digit[d]);
		if (d && !rc)
			rc = put_cp(out, unit_cp[u]);
	}
	if (v % 10 && !rc)
		rc = put_cp(out, kanji_digit[v % 10]);
	return rc;
}

int jtext_arabic_to_kanji(struct buf *out, const char *s, size_t n)
{
	size_t start = out->len;
	int rc = -EILSEQ;
	if (!utf8_valid(s, n))
		return rc;
	rc = 0;
	for (size_t i = 0; i < n && !rc;) {
		if (s[i] < '0' || s[i] > '9') {
			size_t j = i + 1;
			while (j < n && (s[j] < '0' || s[j] > '9'))
				j++;
			rc = buf_append(out, s + i, j - i);
			i = j;
			continue;
		}
		size_t j = i;
		while (j < n && s[j] >= '0' && s[j] <= '9')
			j++;
		size_t z = i;
		while (z < j - 1 && s[z] == '0')
			z++;
		if (j - z > 8) {
			rc = buf_append(out, s + i, j - i);
			i = j;
			continue;
		}
		uint32_t v = 0;
		for (size_t p = z; p < j; p++)
			v = v * 10 + (uint32_t)(s[p] - '0');
		if (v == 0) {
			rc = put_cp(out, kanji_digit[0]);
		} else {
			if (v >= 10000) {
				rc = put_counted4(out, v / 10000);
				if (!rc)
					rc = put_cp(out, 0x4E07); /* 万 */
			}
			if (!rc && v % 10000)
				rc = put_counted4(out, v % 10000);
		}
		i = j;
	}
	if (rc)
		restore(out, start);
	return rc;
}

/* --- NFKC through ICU --- */

static const UNormalizer2 *nfkc;
static pthread_once_t nfkc_once = PTHREAD_ONCE_INIT;

/* unorm2_getNFKCInstance returns a process-wide singleton that ICU says must
 * not be closed; it is immutable and safe to use from every thread. */
static void nfkc_open(void)
{
	UErrorCode err = U_ZERO_ERROR;
	const UNormalizer2 *p = unorm2_getNFKCInstance(&err);
	if (U_SUCCESS(err))
		nfkc = p;
}

#define STACK_UNITS 512

/* NFKC of valid UTF-8 s[0..n), appended to out through pass(ops) (ops 0:
 * as is); with strip, the invisible characters are removed first (so that
 * ｶ<ZWJ>ﾞ still composes). Short inputs stay on the stack throughout. */
static int nfkc_append(struct buf *out, const char *s, size_t n, bool strip, unsigned ops)
{
	UChar src_st[STACK_UNITS], dst_st[2 * STACK_UNITS];
	char u8_st[4 * STACK_UNITS];
	UChar *src = src_st, *dst = dst_st;
	char *u8 = u8_st;
	int32_t nsrc = 0, ndst = 0, nu8 = 0;
	UErrorCode err = U_ZERO_ERROR;
	int rc = -EIO;

	pthread_once(&nfkc_once, nfkc_open);
	if (!nfkc)
		return rc;
	if (n > INT32_MAX / 32)
		return -E2BIG;
	if (n == 0)
		return buf_append(out, "", 0);
	if (n > STACK_UNITS)
		src = xmalloc(n * sizeof(*src));
	u_strFromUTF8(src, (int32_t)n, &nsrc, s, (int32_t)n, &err);
	if (U_FAILURE(err))
		goto out;
	if (strip) {
		int32_t w = 0;
		for (int32_t r = 0; r < nsrc; r++)
			if (!is_invisible(src[r]))
				src[w++] = src[r];
		nsrc = w;
	}
	ndst = unorm2_normalize(nfkc, src, nsrc, dst, 2 * STACK_UNITS, &err);
	if (err == U_BUFFER_OVERFLOW_ERROR) {
		err = U_ZERO_ERROR;
		dst = xmalloc(((size_t)ndst + 1) * sizeof(*dst));
		ndst = unorm2_normalize(nfkc, src, nsrc, dst, ndst + 1, &err);
	}
	if (U_FAILURE(err))
		goto out;
	if (ndst > STACK_UNITS) {
		/* 3 bytes per UTF-16 unit at most (a pair gives 4 bytes for 2). */
		u8 = xmalloc((size_t)ndst * 3 + 1);
		u_strToUTF8(u8, ndst * 3 + 1, &nu8, dst, ndst, &err);
	} else {
		u_strToUTF8(u8, (int32_t)sizeof(u8_st), &nu8, dst, ndst, &err);
	}
	if (U_FAILURE(err))
		goto out;
	rc = ops ? pass(out, u8, (size_t)nu8, ops) : buf_append(out, u8, (size_t)nu8);
out:
	if (src != src_st)
		free(src);
	if (dst != dst_st)
		free(dst);
	if (u8 != u8_st)
		free(u8);
	return rc;
}

int jtext_nfkc(struct buf *out, const char *s, size_t n)
{
	if (!utf8_valid(s, n))
		return -EILSEQ;
	return nfkc_append(out, s, n, false, 0);
}

int jtext_fold_for_match(struct buf *out, const char *s, size_t n, unsigned flags)
{
	if (flags & ~(unsigned)JTEXT_FOLD_HIRAGANA)
		return -EINVAL;
	if (!utf8_valid(s, n))
		return -EILSEQ;
	unsigned ops = OP_KANJI | OP_DASH | OP_GA | OP_NO;
	if (flags & JTEXT_FOLD_HIRAGANA)
		ops |= OP_K2H;
	return nfkc_append(out, s, n, true, ops);
}
