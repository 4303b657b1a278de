/* libFuzzer driver for form bodies: the input is a Content-Type line, LF, and
 * a body. The boundary comes from the fuzzed header (so boundaries are fuzzed
 * too); the body also goes through the urlencoded parser. Part invariants are
 * checked: data inside the body, text values NUL-free UTF-8, names non-empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/utf8.h"
#include "http/multipart.h"
#include "http/urlenc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	if (!nl)
		return 0;
	size_t hlen = (size_t)(nl - in);
	char *ctype = malloc(hlen + 1);
	memcpy(ctype, in, hlen);
	ctype[hlen] = '\0';
	const char *body = nl + 1;
	size_t blen = size - hlen - 1;
	/* a private copy, so ASan sees any read past the body */
	char *bcopy = malloc(blen ? blen : 1);
	memcpy(bcopy, body, blen);

	struct arena *a = arena_new();
	char boundary[MULTIPART_BOUNDARY_MAX + 1];
	if (multipart_boundary(ctype, boundary, sizeof boundary) == 0) {
		if (!boundary[0] || strlen(boundary) > MULTIPART_BOUNDARY_MAX)
			abort();
		struct multipart mp;
		struct multipart_limits lim = {.max_parts = 8, .max_header = 256, .max_value = 64};
		const struct multipart_limits *lims[2] = {NULL, &lim};
		for (int k = 0; k < 2; k++) {
			int rc = multipart_parse(a, bcopy, blen, boundary, lims[k], &mp);
			if (rc) {
				if (mp.n || mp.parts)
					abort();
				continue;
			}
			for (size_t i = 0; i < mp.n; i++) {
				const struct multipart_part *p = &mp.parts[i];
				if (!p->name || !p->name[0])
					abort();
				if (p->data < bcopy || p->data + p->len > bcopy + blen)
					abort();
				if (!p->filename != !!p->value)
					abort(); /* text fields have a value, files do not */
				if (p->value &&
				    (strlen(p->value) != p->len || !utf8_valid(p->value, p->len)))
					abort();
			}
		}
	}
	struct urlenc_form f;
	urlenc_parse(a, bcopy, blen, NULL, &f);
	arena_free(a);
	free(bcopy);
	free(ctype);
	return 0;
}
