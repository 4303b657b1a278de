/* JSON input from clients: jansson with the limits the server applies to every
 * request body — a size bound, a nesting depth of at most JSONIN_MAX_DEPTH
 * (checked before jansson allocates anything), duplicate keys refused, NUL in
 * strings refused, and only an object or array at the top. */
#ifndef MADO_JSONIN_H
#define MADO_JSONIN_H
#include <jansson.h>
#include <stddef.h>

#define JSONIN_MAX_DEPTH 32
#define JSONIN_MAX_BYTES ((size_t)1 << 20) /* 1 MiB */

/* Parses p[0..n). Returns a new reference (json_decref it), or NULL with an
 * English message in err ("line 1 column 5: …", "too deeply nested", …). */
json_t *jsonin_parse(const char *p, size_t n, char *err, size_t errlen);

/* As jsonin_parse with explicit bounds (max_depth counts [ and { levels). */
json_t *jsonin_parse_limits(const char *p, size_t n, size_t max_bytes, int max_depth, char *err,
			    size_t errlen);

#endif
