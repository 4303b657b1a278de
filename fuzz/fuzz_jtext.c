/* libFuzzer driver for common/jtext.c: every normalization runs on the input
 * with a small and a large output limit. None may crash; each must accept
 * exactly the valid UTF-8 inputs and then produce valid UTF-8. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/jtext.h"
#include "common/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fold0(struct buf *b, const char *s, size_t n)
{
	return jtext_fold_for_match(b, s, n, 0);
}

static int fold_hira(struct buf *b, const char *s, size_t n)
{
	return jtext_fold_for_match(b, s, n, JTEXT_FOLD_HIRAGANA);
}

static int (*const fns[])(struct buf *, const char *, size_t) = {
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	bool valid = utf8_valid(s, size);
	for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
		struct buf big, small;
		buf_init(&big, 64 * size + 64);
		buf_init(&small, size / 2);
		int rc = fns[f](&big, s, size);
		if (!valid) {
			if (rc != -EILSEQ || big.len != 0)
				abort();
		} else {
			if (rc != 0 || !utf8_valid(big.p ? big.p : "", big.len))
				abort();
		}
		rc = fns[f](&small, s, size);
		if (rc == 0) {
			/* A fitting result must be the same as with room to spare. */
			if (small.len != big.len || (small.len && memcmp(small.p, big.p, big.len)))
				abort();
		} else if (small.len != 0) {
			abort();
		}
		buf_release(&big);
		buf_release(&small);
	}
	return 0;
}
