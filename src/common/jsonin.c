/* Bounded JSON input (see jsonin.h). jansson's own depth limit is 2048 and
 * compiled in; a linear pre-scan that tracks strings and brackets refuses
 * deeper nesting before any parse tree is built. */
#include "jsonin.h"

#include <stdbool.h>
#include <stdio.h>

/* Deepest [ / { nesting in p[0..n), counting only brackets outside strings;
 * stops early once past limit. */
static int max_nesting(const char *p, size_t n, int limit)
{
	int depth = 0, deepest = 0;
	bool in_str = false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (in_str) {
			if (c == '\\')
				i++; /* the escaped character cannot end the string */
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > deepest) {
				deepest = depth;
				if (deepest > limit)
					break;
			}
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

json_t *jsonin_parse_limits(const char *p, size_t n, size_t max_bytes, int max_depth, char *err,
			    size_t errlen)
{
	json_error_t je;
	if (errlen)
		err[0] = '\0';
	if (n > max_bytes) {
		snprintf(err, errlen, "body larger than %zu bytes", max_bytes);
		return NULL;
	}
	if (max_nesting(p, n, max_depth) > max_depth) {
		snprintf(err, errlen, "nested deeper than %d levels", max_depth);
		return NULL;
	}
	json_t *j = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		snprintf(err, errlen, "line %d column %d: %s", je.line, je.column, je.text);
	return j;
}

json_t *jsonin_parse(const char *p, size_t n, char *err, size_t errlen)
{
	return jsonin_parse_limits(p, n, JSONIN_MAX_BYTES, JSONIN_MAX_DEPTH, err, errlen);
}
