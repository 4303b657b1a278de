/* libFuzzer driver for the CSV reader. The first byte picks options; the rest
 * is read twice — from memory, and streamed a few bytes per read — and both
 * readings must give the same records, the same error and the same line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct drip {
	const char *p;
	size_t n, pos, step;
};

static ssize_t drip_read(void *ctx, char *buf, size_t cap)
{
	struct drip *d = ctx;
	size_t k = d->n - d->pos;
	if (k > d->step)
		k = d->step;
	if (k > cap)
		k = cap;
	memcpy(buf, d->p + d->pos, k);
	d->pos += k;
	return (ssize_t)k;
}

/* Serialises every record (length-prefixed) and the outcome into out. */
static void run(struct csv *c, bool header, struct buf *out)
{
	static const char *const names[] = {"lg_code", "pref", "city"};
	int idx[3];
	int rc = 0;
	if (header) {
		rc = csv_header(c, names, 3, idx, false);
		if (rc == 0)
			buf_printf(out, "H%d,%d,%d;", idx[0], idx[1], idx[2]);
	}
	while (rc == 0 && (rc = csv_next(c)) > 0) {
		buf_printf(out, "R%zu@%lu:", csv_nfields(c), csv_line(c));
		for (size_t i = 0; i < csv_nfields(c); i++) {
			size_t n = csv_field_len(c, i);
			if (strlen(csv_field(c, i)) != n)
				abort(); /* fields never hold a NUL */
			buf_printf(out, "%zu:", n);
			buf_append(out, csv_field(c, i), n);
		}
		rc = 0;
	}
	buf_printf(out, "=%d %s", rc, csv_errmsg(c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	struct csv_opts o = {
		.max_record = (mode & 1) ? 64 : 0,
		.max_fields = (mode & 2) ? 4 : 0,
		.utf8 = mode & 4,
		.allow_ragged = mode & 8,
		.max_bytes = (mode & 16) ? 100 : 0,
	};
	bool header = mode & 32;
	struct buf a, b;
	buf_init(&a, 1 << 24);
	buf_init(&b, 1 << 24);

	struct csv *c = csv_new_mem(p, n, &o);
	run(c, header, &a);
	csv_free(c);

	struct drip d = {p, n, 0, 1 + (mode >> 6)};
	c = csv_new(drip_read, &d, &o);
	run(c, header, &b);
	csv_free(c);

	if (a.len != b.len || memcmp(buf_cstr(&a), buf_cstr(&b), a.len) != 0) {
		fprintf(stderr, "memory: %s\nstream: %s\n", buf_cstr(&a), buf_cstr(&b));
		abort();
	}
	buf_release(&a);
	buf_release(&b);
	return 0;
}
