/* A CSV file inside a zip archive, read as a stream (the ABR data of the
 * Digital Agency is published as one CSV per zip). The member is inflated
 * through the CSV reader a window at a time; nothing is extracted to disk. */
#ifndef MADO_ZIPCSV_H
#define MADO_ZIPCSV_H
#include <stddef.h>
#include <stdint.h>

#include "common/csv.h"

enum zipcsv_err {
	ZIPCSV_EOPEN = -1,   /* the file is missing or not a zip archive */
	ZIPCSV_EMEMBER = -2, /* the member is absent, or (member NULL) the archive
				does not hold exactly one file */
	ZIPCSV_ETOOBIG = -3, /* the member is declared larger than max_bytes */
};

/* Input bound used when opts->max_bytes is 0: a zip bomb stops here. */
#define ZIPCSV_DEFAULT_MAX_BYTES ((size_t)1 << 30)

struct zipcsv;

/* Opens member (or, when NULL, the archive's only file) of the zip at path
 * for reading as CSV with opts (NULL for the defaults). Returns 0 with *out
 * set, or a zipcsv_err with a message in err. Close with zipcsv_close(). */
int zipcsv_open(const char *path, const char *member, const struct csv_opts *opts,
		struct zipcsv **out, char *err, size_t errlen);
/* The reader, owned by z: csv_next(), csv_header() … on it. Read errors of
 * the archive (a corrupt deflate stream, a CRC mismatch) come back as CSV_EIO. */
struct csv *zipcsv_csv(struct zipcsv *z);
/* Name of the member being read (owned by z). */
const char *zipcsv_member(const struct zipcsv *z);
/* Uncompressed bytes read so far and the member's size (0 when the archive
 * does not say), for progress display. The CSV reader reads ahead, so done
 * runs slightly ahead of the records returned. */
void zipcsv_progress(const struct zipcsv *z, uint64_t *done, uint64_t *total);
void zipcsv_close(struct zipcsv *z);

#endif
