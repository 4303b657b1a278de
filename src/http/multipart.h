/* multipart/form-data (RFC 7578 over RFC 2046): the boundary from the
 * Content-Type header, then the body split into fields and files. Strict:
 * anything that is not a well-formed form is refused as a whole, so handlers
 * never see half a form. Nothing is copied but names and text values. */
#ifndef MADO_MULTIPART_H
#define MADO_MULTIPART_H
#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"

enum multipart_err {
	MULTIPART_OK = 0,
	MULTIPART_ENOTFORM = -1,  /* the Content-Type is not multipart/form-data */
	MULTIPART_EBOUNDARY = -2, /* boundary parameter missing, repeated or invalid */
	MULTIPART_ESYNTAX = -3,   /* malformed body or part headers, or truncated */
	MULTIPART_ETOOMANY = -4,  /* more parts than limits.max_parts */
	MULTIPART_ETOOBIG = -5,   /* part headers or a text value over their limit */
	MULTIPART_EUTF8 = -6,     /* a name, filename or text value is not valid UTF-8 */
	MULTIPART_ENUL = -7,      /* a NUL byte in a text value */
};

const char *multipart_strerror(int err);

/* Longest boundary RFC 2046 allows; a buffer of MULTIPART_BOUNDARY_MAX + 1
 * bytes always holds one. */
#define MULTIPART_BOUNDARY_MAX 70

/* Extracts the boundary of a "multipart/form-data; boundary=…" header value
 * (media type and parameter name case-insensitive; the value a token or a
 * quoted-string) into out as a C string. Returns 0, MULTIPART_ENOTFORM, or
 * MULTIPART_EBOUNDARY (also when it does not fit outlen). */
int multipart_boundary(const char *content_type, char *out, size_t outlen);

struct multipart_limits {
	size_t max_parts;  /* fields and files together */
	size_t max_header; /* bytes of one part's header block */
	size_t max_value;  /* bytes of one text field (files are bounded by the body) */
};
#define MULTIPART_DEFAULT_MAX_PARTS 256
#define MULTIPART_DEFAULT_MAX_HEADER 4096
#define MULTIPART_DEFAULT_MAX_VALUE (1024 * 1024)

struct multipart_part {
	const char *name;         /* arena-owned, non-empty, UTF-8, no controls */
	const char *filename;     /* arena-owned, or NULL for a text field; "" when the
				     browser sent a file input with no file chosen.
				     Never use it as a path. */
	const char *content_type; /* arena-owned, or NULL when the part had none */
	const char *data;         /* points into the body (not NUL-terminated) */
	size_t len;
	const char *value; /* text fields only: a NUL-terminated, UTF-8-checked
				     arena copy of data; NULL for files */
};

struct multipart {
	struct multipart_part *parts; /* arena-owned, in body order */
	size_t n;
};

/* Parses body[0..len) with the given boundary (as from multipart_boundary).
 * The body must outlive out (file data points into it). A preamble before the
 * first delimiter and an epilogue after the last are ignored, as RFC 2046
 * says. lim may be NULL for the defaults. Returns 0 or a multipart_err; on
 * error out is empty. */
int multipart_parse(struct arena *a, const char *body, size_t len, const char *boundary,
		    const struct multipart_limits *lim, struct multipart *out);

/* The value of the first text field called name, or NULL. */
const char *multipart_get(const struct multipart *mp, const char *name);
/* The first part called name that is a file (filename != NULL), or NULL. */
const struct multipart_part *multipart_file(const struct multipart *mp, const char *name);

#endif
