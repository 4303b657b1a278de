/* libFuzzer driver for JSON request bodies through jsonin_parse, with the
 * server's flags and limits. An accepted document must re-encode and parse
 * again, and can never be deeper than JSONIN_MAX_DEPTH. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int depth(const json_t *j)
{
	int d = 0, k;
	size_t i;
	const char *key;
	json_t *v;
	if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			if ((k = depth(v)) > d)
				d = k;
		return d + 1;
	}
	if (json_is_object(j)) {
		json_object_foreach ((json_t *)j, key, v)
			if ((k = depth(v)) > d)
				d = k;
		return d + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	/* a private copy without a terminating NUL: jansson must honour size */
	char *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	json_t *j = jsonin_parse(p, size, err, sizeof err);
	if (j) {
		if (!json_is_object(j) && !json_is_array(j))
			abort();
		if (depth(j) > JSONIN_MAX_DEPTH)
			abort();
		char *s = json_dumps(j, JSON_COMPACT);
		if (!s)
			abort();
		json_t *again = jsonin_parse(s, strlen(s), err, sizeof err);
		if (!again || !json_equal(j, again))
			abort();
		json_decref(again);
		free(s);
		json_decref(j);
	} else if (!err[0]) {
		abort();
	}
	free(p);
	return 0;
}
