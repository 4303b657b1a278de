/* CSV reader (RFC 4180): quoted fields with "" escapes and embedded line
 * breaks, CRLF or LF record ends, a UTF-8 BOM skipped, every record bounded.
 * It pulls bytes from a read callback, so a 100 MB import streams through a
 * fixed amount of memory; records are read one at a time and stay valid until
 * the next csv_next(). Columns are bound by header name, not by position. */
#ifndef MADO_CSV_H
#define MADO_CSV_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum csv_err {
	CSV_OK = 0,
	CSV_EIO = -1,      /* the read callback failed */
	CSV_EQUOTE = -2,   /* a quote inside an unquoted field, text after a closing
			      quote, or an unterminated quoted field */
	CSV_ECR = -3,      /* a CR not followed by LF outside quotes */
	CSV_ETOOBIG = -4,  /* a record over max_record bytes, or input over max_bytes */
	CSV_ETOOMANY = -5, /* a record with more than max_fields fields */
	CSV_EWIDTH = -6,   /* a record with another number of fields than the first */
	CSV_EUTF8 = -7,    /* a record that is not valid UTF-8 (opts.utf8) */
	CSV_ENUL = -8,     /* a NUL byte */
	CSV_EHEADER = -9,  /* header missing, or a bound column absent or repeated */
};

/* Returns bytes read into buf (at most n), 0 at end of input, < 0 on error. */
typedef ssize_t (*csv_read_fn)(void *ctx, char *buf, size_t n);

/* Zero means the default for each size. */
struct csv_opts {
	size_t max_record; /* raw bytes of one record, quotes and line end included;
			      default 64 KiB */
	size_t max_fields; /* default 256 */
	size_t max_bytes;  /* all input; default unlimited */
	bool utf8;         /* refuse records that are not valid UTF-8 */
	bool allow_ragged; /* records may differ in field count */
};

struct csv;

/* A reader over fn. opts may be NULL for the defaults. Never NULL. */
struct csv *csv_new(csv_read_fn fn, void *ctx, const struct csv_opts *opts);
/* A reader over memory (not copied; p must outlive the reader). */
struct csv *csv_new_mem(const char *p, size_t n, const struct csv_opts *opts);
void csv_free(struct csv *c);

/* Reads the next record. Returns 1 when there is one, 0 at the end of the
 * input, or a negative csv_err (sticky: later calls return it again). Blank
 * lines are skipped. */
int csv_next(struct csv *c);

/* Fields of the current record: NUL-terminated, unescaped, owned by the reader
 * until the next csv_next(). Out of range gives "" and 0. */
size_t csv_nfields(const struct csv *c);
const char *csv_field(const struct csv *c, size_t i);
size_t csv_field_len(const struct csv *c, size_t i);
/* As csv_field for an index from csv_header; idx < 0 gives "". */
const char *csv_get(const struct csv *c, int idx);

/* Reads the first record as a header and binds names[i] to its column in
 * idx[i] (-1 when absent). Returns 0; CSV_EHEADER when the input is empty, a
 * column is named twice, or (required) a name is absent; or a read error. */
int csv_header(struct csv *c, const char *const names[], size_t n, int idx[], bool required);

/* Physical line (1-based) on which the current record started. */
unsigned long csv_line(const struct csv *c);
/* "line N: what went wrong" for the last error, or "" (owned by the reader). */
const char *csv_errmsg(const struct csv *c);
const char *csv_strerror(int err);

#endif
