/* CSV inside a zip (see zipcsv.h), on libzip: zip_fread() is the CSV
 * reader's read callback, so memory stays at the reader's window. */
#include "zipcsv.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "xalloc.h"

struct zipcsv {
	zip_t *zip;
	zip_file_t *file;
	struct csv *csv;
	char *member;
	uint64_t size; /* uncompressed size of the member, 0 when unknown */
	uint64_t done; /* uncompressed bytes handed to the CSV reader */
};

static ssize_t zread(void *ctx, char *buf, size_t n)
{
	struct zipcsv *z = ctx;
	zip_int64_t r = zip_fread(z->file, buf, n);
	if (r > 0)
		z->done += (uint64_t)r;
	return r < 0 ? -1 : (ssize_t)r;
}

/* Index of the only regular file in the archive, or -1. */
static zip_int64_t only_file(zip_t *zip)
{
	zip_int64_t n = zip_get_num_entries(zip, 0), found = -1;
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(zip, (zip_uint64_t)i, 0);
		size_t len = name ? strlen(name) : 0;
		if (len == 0 || name[len - 1] == '/')
			continue; /* a directory entry */
		if (found >= 0)
			return -1;
		found = i;
	}
	return found;
}

int zipcsv_open(const char *path, const char *member, const struct csv_opts *opts,
		struct zipcsv **out, char *err, size_t errlen)
{
	struct zipcsv *z = xcalloc(1, sizeof(*z));
	struct csv_opts o = {0};
	zip_int64_t idx;
	zip_stat_t st;
	int zerr = 0, rc;

	*out = NULL;
	if (opts)
		o = *opts;
	if (!o.max_bytes)
		o.max_bytes = ZIPCSV_DEFAULT_MAX_BYTES;

	z->zip = zip_open(path, ZIP_RDONLY, &zerr);
	if (!z->zip) {
		zip_error_t ze;
		zip_error_init_with_code(&ze, zerr);
		snprintf(err, errlen, "%s: %s", path, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		rc = ZIPCSV_EOPEN;
		goto out;
	}
	idx = member ? zip_name_locate(z->zip, member, 0) : only_file(z->zip);
	if (idx < 0) {
		if (member)
			snprintf(err, errlen, "%s: no member '%s'", path, member);
		else
			snprintf(err, errlen, "%s: archive does not hold exactly one file", path);
		rc = ZIPCSV_EMEMBER;
		goto out;
	}
	zip_stat_init(&st);
	if (zip_stat_index(z->zip, (zip_uint64_t)idx, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE) &&
	    st.size > o.max_bytes) {
		snprintf(err, errlen, "%s: member larger than %zu bytes", path, o.max_bytes);
		rc = ZIPCSV_ETOOBIG;
		goto out;
	}
	z->file = zip_fopen_index(z->zip, (zip_uint64_t)idx, 0);
	if (!z->file) {
		snprintf(err, errlen, "%s: %s", path, zip_strerror(z->zip));
		rc = ZIPCSV_EOPEN;
		goto out;
	}
	z->member = xstrdup(zip_get_name(z->zip, (zip_uint64_t)idx, 0));
	z->size = (st.valid & ZIP_STAT_SIZE) ? (uint64_t)st.size : 0;
	z->csv = csv_new(zread, z, &o);
	*out = z;
	z = NULL;
	rc = 0;
out:
	zipcsv_close(z);
	return rc;
}

struct csv *zipcsv_csv(struct zipcsv *z)
{
	return z->csv;
}

void zipcsv_progress(const struct zipcsv *z, uint64_t *done, uint64_t *total)
{
	*done = z->done;
	*total = z->size;
}

const char *zipcsv_member(const struct zipcsv *z)
{
	return z->member;
}

void zipcsv_close(struct zipcsv *z)
{
	if (!z)
		return;
	csv_free(z->csv);
	if (z->file)
		zip_fclose(z->file);
	if (z->zip)
		zip_discard(z->zip);
	free(z->member);
	free(z);
}
