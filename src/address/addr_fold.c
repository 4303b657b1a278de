/* The folding applied to both the registry's names and the input before
 * they are compared: jtext_fold_for_match, then kanji numerals turned into
 * digits where they count something (二丁目, 十九番, 三号, 北二十四条, 一-二)
 * so that 二丁目 = ２丁目 = 2丁目, while 千代田 and 八王子 stay as they are
 * (八丁西町 becomes 8丁西町 on both sides, which is harmless), and a few
 * variant characters frequent in written addresses are unified.
 * addr_fold_variant is a second, narrower folding for place-name variants
 * (舟/船) that name different towns in the data: it is used for fallback
 * keys only, never for the town's own key. */
#include <errno.h>
#include <string.h>

#include "address/addr_internal.h"
#include "common/jtext.h"
#include "common/utf8.h"

static bool is_numeral(uint32_t cp)
{
	switch (cp) {
	case 0x3007: /* 〇 */
	case 0x4E00: /* 一 */
	case 0x4E8C: /* 二 */
	case 0x4E09: /* 三 */
	case 0x56DB: /* 四 */
	case 0x4E94: /* 五 */
	case 0x516D: /* 六 */
	case 0x4E03: /* 七 */
	case 0x516B: /* 八 */
	case 0x4E5D: /* 九 */
	case 0x5341: /* 十 */
	case 0x767E: /* 百 */
	case 0x5343: /* 千 */
		return true;
	default:
		return false;
	}
}

/* Variants seen in written addresses that jtext's old-kanji table leaves
 * alone because outside addresses they are different characters. */
static const char *variant(uint32_t cp)
{
	switch (cp) {
	case 0x5DFF: /* 巿 (the "futsu" radical), typed for 市 */
		return "市";
	case 0x83B5: /* 莵 → 菟 (莵道/菟道) */
		return "菟";
	case 0x5F4C: /* 彌 → 弥 */
		return "弥";
	default:
		return NULL;
	}
}

static bool starts_with(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	return n >= k && memcmp(s, lit, k) == 0;
}

/* Whether what follows a numeral run makes it a number. */
static bool counts_after(const char *s, size_t n)
{
	return starts_with(s, n, "丁") || starts_with(s, n, "番") || starts_with(s, n, "号") ||
	       starts_with(s, n, "条") || starts_with(s, n, "線") || starts_with(s, n, "地割") ||
	       starts_with(s, n, "-");
}

/* Whether s[0..n) ends with a digit, 番 or 地: what a number follows. */
static bool after_number(const char *s, size_t n)
{
	return (n >= 1 && s[n - 1] >= '0' && s[n - 1] <= '9') ||
	       (n >= 3 && (memcmp(s + n - 3, "番", 3) == 0 || memcmp(s + n - 3, "地", 3) == 0));
}

/* Whether what precedes (ending at s[n]) makes it a number: a dash, 番, 番地,
 * or の after a number (jtext made it ノ between kanji: 十一番地ノ四). */
static bool counts_before(const char *s, size_t n)
{
	if (n >= 1 && s[n - 1] == '-')
		return true;
	if (n >= 3 && (memcmp(s + n - 3, "番", 3) == 0 || memcmp(s + n - 3, "地", 3) == 0))
		return true;
	if (n >= 3 && (memcmp(s + n - 3, "の", 3) == 0 || memcmp(s + n - 3, "ノ", 3) == 0) &&
	    after_number(s, n - 3))
		return true;
	return false;
}

/* ノ between a number and a number is the particle の (11番地の4). */
static bool particle_no(const char *s, size_t n, size_t i)
{
	uint32_t next = 0;
	if (!after_number(s, i) || i + 3 >= n)
		return false;
	if (s[i + 3] >= '0' && s[i + 3] <= '9')
		return true;
	return utf8_decode(s + i + 3, n - i - 3, &next) != 0 && is_numeral(next);
}

int addr_fold(struct buf *out, struct buf *tmp, const char *s, size_t n)
{
	buf_reset(tmp);
	int rc = jtext_fold_for_match(tmp, s, n, 0);
	if (rc != 0)
		return rc;
	const char *p = tmp->p ? tmp->p : "";
	size_t len = tmp->len, i = 0, copied = 0;
	while (i < len) {
		uint32_t cp;
		size_t k = utf8_decode(p + i, len - i, &cp);
		if (k == 0)
			return -EILSEQ;
		if (!is_numeral(cp)) {
			const char *v = cp == 0x30CE && particle_no(p, len, i) ? "の" : variant(cp);
			if (v) {
				if (buf_append(out, p + copied, i - copied) != 0 ||
				    buf_puts(out, v) != 0)
					return -E2BIG;
				copied = i + k;
			}
			i += k;
			continue;
		}
		size_t start = i, end = i + k;
		while (end < len) {
			size_t k2 = utf8_decode(p + end, len - end, &cp);
			if (k2 == 0 || !is_numeral(cp))
				break;
			end += k2;
		}
		bool before = counts_before(p, start);
		bool after = counts_after(p + end, len - end);
		/* A run at the end after a separator ("19番地の二") counts too. */
		if (after || (before && (end == len || p[end] == ' ' || p[end] == '-'))) {
			if (buf_append(out, p + copied, start - copied) != 0 ||
			    jtext_kanji_to_arabic(out, p + start, end - start) != 0)
				return -E2BIG;
			copied = end;
		}
		i = end;
	}
	return buf_append(out, p + copied, len - copied);
}

/* Place-name variants that are distinct characters (not old/new forms, so
 * jtext leaves them alone) but are written for one another in town names:
 * 一之舟入町 for 京都市中京区's 一之船入町, 燈篭 for 燈籠, 舘 for 館. Every
 * pair is three UTF-8 bytes on both sides, so the rewrite keeps offsets. They
 * cannot go into addr_fold: 京都市中京区 has both 舟屋町 and 船屋町. */
static const char *const variants[][2] = {
	{"舟", "船"},
	{"篭", "籠"},
	{"舘", "館"},
};

bool addr_fold_variant(char *s, size_t n)
{
	bool found = false;
	for (size_t i = 0; i + 3 <= n; i++) {
		if (((unsigned char)s[i] & 0xF0) != 0xE0)
			continue;
		for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
			if (memcmp(s + i, variants[v][0], 3) == 0)
				memcpy(s + i, variants[v][1], 3);
			else if (memcmp(s + i, variants[v][1], 3) != 0)
				continue;
			found = true;
			break;
		}
		i += 2;
	}
	return found;
}
