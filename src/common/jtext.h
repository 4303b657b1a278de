/* Japanese text normalization on UTF-8: width, kana, kanji numerals, dashes,
 * place-name particles (ヶ, ノ), old kanji forms, invisible characters and
 * spaces, each as one explicit function, plus the chain used for matching.
 *
 * Common contract of every function below:
 * - s[0..n) is the input; it must be valid UTF-8 (utf8.h), else the function
 *   returns -EILSEQ. NUL bytes are valid and copied like any character.
 * - The result is APPENDED to out (a struct buf with its own maximum). On
 *   success the function returns 0. When the result would pass out->max it
 *   returns -E2BIG. On any error out is left exactly as it was on entry.
 * - The output is always valid UTF-8 when the input was.
 * - Thread-safe: there is no mutable shared state; the ICU normalizer is a
 *   process-wide immutable singleton fetched once.
 * - Empty input appends nothing and returns 0. */
#ifndef MADO_JTEXT_H
#define MADO_JTEXT_H
#include <stddef.h>

#include "common/buf.h"

/* Unicode NFKC (ICU unorm2). Folds full-width ASCII and half-width katakana
 * (with ｶﾞ → ガ composition), ideographic space and NBSP to ' ', compatibility
 * ideographs (塚 U+FA10 → 塚) and also ①→1, ㈱→(株), ㍻→平成. Returns -EIO when
 * ICU fails for a reason other than the two above (not expected). */
int jtext_nfkc(struct buf *out, const char *s, size_t n);

/* Full-width ASCII (U+FF01..U+FF5E) → ASCII (！..～ → !..~), U+3000 → ' '.
 * Nothing else changes (half-width katakana and kanji stay). */
int jtext_ascii_to_halfwidth(struct buf *out, const char *s, size_t n);
/* ASCII '!'..'~' → U+FF01..U+FF5E, ' ' → U+3000 (the display form on forms
 * that ask for 全角). Control characters and everything else stay. */
int jtext_ascii_to_fullwidth(struct buf *out, const char *s, size_t n);

/* Half-width katakana and punctuation (U+FF61..U+FF9F) → full-width, with the
 * voicing marks composed: ｶﾞ → ガ, ﾊﾟ → パ, ｳﾞ → ヴ, ﾜﾞ → ヷ, ｦﾞ → ヺ, ｰ → ー.
 * A mark that cannot compose becomes the spacing ゛ (U+309B) or ゜ (U+309C). */
int jtext_kana_to_fullwidth(struct buf *out, const char *s, size_t n);
/* The reverse: full-width katakana, ー, 。「」、・ → half-width; voiced and
 * semi-voiced letters become two characters (ガ → ｶﾞ, パ → ﾊﾟ). Katakana with
 * no half-width form (ヰ, ヱ, ヵ, ヶ, small ヮ) stay full-width. */
int jtext_kana_to_halfwidth(struct buf *out, const char *s, size_t n);

/* Katakana U+30A1..U+30F6 → hiragana U+3041..U+3096, ヽヾ → ゝゞ. ー, ・ and
 * ヷ..ヺ (which have no hiragana) stay. */
int jtext_katakana_to_hiragana(struct buf *out, const char *s, size_t n);
/* Hiragana U+3041..U+3096 → katakana U+30A1..U+30F6, ゝゞ → ヽヾ. */
int jtext_hiragana_to_katakana(struct buf *out, const char *s, size_t n);

/* Kanji numerals → ASCII digits, run by run. A run is a maximal sequence of
 * 〇一二三四五六七八九十百千万. A run without 十百千万 is read digit by digit
 * (二〇二四 → 2024, 一 → 1); a run with them is read as a counted number
 * (二千二十四 → 2024, 十一 → 11, 百 → 100, 三万五百 → 30500). A counted run that
 * is not well formed (十十, 二三十, 百千, 万万, a lone 万) is copied unchanged.
 * Every numeral is converted, including those inside names (千代田 → 1000代田,
 * 一宮 → 1宮): callers apply this only where a number is expected. */
int jtext_kanji_to_arabic(struct buf *out, const char *s, size_t n);
/* ASCII digit runs → counted kanji numerals (24 → 二十四, 10 → 十, 2024 →
 * 二千二十四, 0 → 〇, 10000 → 一万); leading zeros are ignored (05 → 五). A run
 * whose value is above 99,999,999 (no unit above 万 is written) is copied
 * unchanged. */
int jtext_arabic_to_kanji(struct buf *out, const char *s, size_t n);

/* The dash family ‐ ‑ ‒ – — ― − － ｰ ー ─ ━ and '-' becomes ASCII '-' when it
 * follows a digit (0-9, ０-９, 〇一..九十百千), or when it precedes one and is
 * not a long-vowel mark (ー, ｰ) right after kana. So 3−1 → 3-1, 1ー2 → 1-2,
 * 第2ー → 第2-, but センター1 and コーポ stay. Other characters are unchanged. */
int jtext_fold_dashes(struct buf *out, const char *s, size_t n);

/* ヶ ケ が ヵ カ ガ ゖ ゕ between two CJK ideographs become ヶ: 霞が関, 霞ケ関,
 * 霞ヶ関 all → 霞ヶ関; 自由が丘 → 自由ヶ丘. Elsewhere (ケーキ, 東京が) they stay. */
int jtext_fold_ga(struct buf *out, const char *s, size_t n);
/* 之 ノ の between two CJK ideographs become ノ: 木之本, 木の本 → 木ノ本. */
int jtext_fold_no(struct buf *out, const char *s, size_t n);

/* Old kanji forms (旧字体) and common variants → the forms in everyday use,
 * from a table of 101 pairs frequent in addresses and names: 澤→沢, 濱→浜,
 * 邊/邉→辺, 齋→斎, 齊→斉, 國→国, 廣→広, 藏→蔵, 櫻→桜, 龍→竜, 髙→高, 﨑→崎,
 * 嶋→島, 德→徳, 惠→恵, 榮→栄 … (see the table in jtext.c). */
int jtext_old_to_new_kanji(struct buf *out, const char *s, size_t n);

/* Removes BOM and zero-width characters anywhere: U+FEFF, U+200B, U+200C,
 * U+200D, U+2060. */
int jtext_strip_invisible(struct buf *out, const char *s, size_t n);
/* The space characters U+3000, U+00A0, U+2000..U+200A, U+202F, U+205F → ' '.
 * TAB, LF and CR stay. */
int jtext_fold_spaces(struct buf *out, const char *s, size_t n);

/* Flags of jtext_fold_for_match. */
enum {
	JTEXT_FOLD_HIRAGANA = 1 << 0, /* also katakana → hiragana (for kana names) */
};

/* The folding used for searching and matching addresses and names; apply it
 * to both sides of a comparison. In order: strip invisible characters, NFKC
 * (width, half-width kana, spaces, compatibility ideographs), old → new kanji,
 * dash folding, katakana → hiragana when JTEXT_FOLD_HIRAGANA is given, ヶ and
 * ノ folding. Kanji numerals are NOT converted (千代田, 一宮, 八王子 would
 * break); the address parser does that where it expects a number. Returns 0,
 * -EILSEQ, -E2BIG or -EIO as above, -EINVAL for unknown flags. */
int jtext_fold_for_match(struct buf *out, const char *s, size_t n, unsigned flags);

#endif
