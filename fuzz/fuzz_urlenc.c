/* libFuzzer driver for urlenc: path decoding, component decoding and the
 * query/form parser under default and tiny limits, with a round trip:
 * whatever decodes must encode and decode back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/utf8.h"
#include "http/urlenc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct arena *a = arena_new();
	char *out;
	size_t len;

	if (urlenc_decode_path(a, s, size, &out) == 0) {
		if (!utf8_valid(out, strlen(out)) || out[0] != '/')
			abort();
	} else if (out) {
		abort();
	}

	for (int plus = 0; plus < 2; plus++) {
		if (urlenc_decode(a, s, size, plus, &out, &len) != 0)
			continue;
		if (len > size || strlen(out) != len || !utf8_valid(out, len))
			abort();
		struct buf b;
		buf_init(&b, 3 * len + 1);
		if (urlenc_encode(&b, out, len) != 0)
			abort();
		char *back;
		size_t blen;
		if (urlenc_decode(a, b.p ? b.p : "", b.len, true, &back, &blen) != 0)
			abort();
		if (blen != len || memcmp(back, out, len) != 0)
			abort();
		buf_release(&b);
	}

	struct urlenc_form f;
	struct urlenc_limits tiny = {.max_fields = 3, .max_name = 4, .max_value = 8};
	const struct urlenc_limits *lims[2] = {NULL, &tiny};
	for (int k = 0; k < 2; k++) {
		int rc = urlenc_parse(a, s, size, lims[k], &f);
		if (rc != 0) {
			if (f.n || f.fields)
				abort();
			continue;
		}
		if (lims[k] && f.n > tiny.max_fields)
			abort();
		for (size_t i = 0; i < f.n; i++) {
			const struct urlenc_field *x = &f.fields[i];
			if (!x->name_len || strlen(x->name) != x->name_len ||
			    strlen(x->value) != x->value_len)
				abort();
			if (lims[k] &&
			    (x->name_len > tiny.max_name || x->value_len > tiny.max_value))
				abort();
			if (urlenc_get(&f, x->name) == NULL)
				abort();
		}
	}
	arena_free(a);
	return 0;
}
