/* Percent-decoding of request paths and parsing of query strings and
 * application/x-www-form-urlencoded bodies into (name, value) lists.
 * libmicrohttpd is told to leave escapes alone, so this is the one place where
 * %XX is decoded, and where %00, bad escapes, invalid UTF-8 and dot segments
 * are refused (each with its own error, turned into a 400 by the caller). */
#ifndef MADO_URLENC_H
#define MADO_URLENC_H
#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/buf.h"

enum urlenc_err {
	URLENC_OK = 0,
	URLENC_EHEX = -1,     /* '%' not followed by two hex digits */
	URLENC_ENUL = -2,     /* a NUL byte (raw or %00) */
	URLENC_EUTF8 = -3,    /* decoded bytes are not valid UTF-8 */
	URLENC_EDOTSEG = -4,  /* a "." or ".." path segment (after decoding) */
	URLENC_ESLASH = -5,   /* %2F in a path: would change the segment structure */
	URLENC_ECTRL = -6,    /* a control character (U+0000..U+001F, U+007F) in a path */
	URLENC_EPATH = -7,    /* a path not starting with '/' */
	URLENC_ETOOMANY = -8, /* more fields than limits.max_fields */
	URLENC_ETOOBIG = -9,  /* a name, value or path longer than its limit */
	URLENC_ENAME = -10,   /* a field with an empty name ("=x") */
};

/* Text of an urlenc_err (English, for logs and problem details). */
const char *urlenc_strerror(int err);

/* Bounds for urlenc_parse. Lengths are of the decoded bytes. */
struct urlenc_limits {
	size_t max_fields; /* fields after dropping empty pieces */
	size_t max_name;
	size_t max_value;
};
#define URLENC_DEFAULT_MAX_FIELDS 256
#define URLENC_DEFAULT_MAX_NAME 256
#define URLENC_DEFAULT_MAX_VALUE (1024 * 1024)
/* The path length bound of urlenc_decode_path. */
#define URLENC_MAX_PATH 8192

/* Decodes the raw path of a request target (without the query) into a
 * NUL-terminated string allocated from a. Refuses (with the errors above):
 * not starting with '/', a bad escape, NUL, %2F, control characters, invalid
 * UTF-8, "." and ".." segments, more than URLENC_MAX_PATH bytes. '+' stays
 * '+'. On error *out is NULL. */
int urlenc_decode_path(struct arena *a, const char *raw, size_t n, char **out);

/* Decodes one component (a query or form name or value): %XX, and '+' as
 * space when plus is true. The result is NUL-terminated in a, its length in
 * *outlen (may be NULL). Refuses bad escapes, NUL and invalid UTF-8. Control
 * characters are kept (a textarea sends CR LF); check with utf8_clean_line
 * where one line is expected. */
int urlenc_decode(struct arena *a, const char *s, size_t n, bool plus, char **out, size_t *outlen);

struct urlenc_field {
	const char *name, *value; /* NUL-terminated, valid UTF-8, arena-owned */
	size_t name_len, value_len;
};

struct urlenc_form {
	struct urlenc_field *fields; /* arena-owned, in input order */
	size_t n;
};

/* Parses "a=1&b=x+y&c" (a query string or a form body) into out. '+' is a
 * space (WHATWG application/x-www-form-urlencoded, which browsers also use
 * for GET forms). Empty pieces ("a=1&&b=2", a trailing '&') are skipped; a
 * piece without '=' is a field with an empty value; an empty name is an
 * error. lim may be NULL for the defaults. Everything is allocated from a; on
 * error out is empty. */
int urlenc_parse(struct arena *a, const char *s, size_t n, const struct urlenc_limits *lim,
		 struct urlenc_form *out);

/* The value of the first field called name, or NULL. */
const char *urlenc_get(const struct urlenc_form *f, const char *name);

/* Appends s[0..n) percent-encoded (everything but ALPHA DIGIT "-._~"), for
 * building query strings such as "?next=…". Returns 0 or -E2BIG. */
int urlenc_encode(struct buf *b, const char *s, size_t n);

#endif
