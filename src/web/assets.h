/* Files compiled into the binary by cmake/embed.cmake: templates and static
 * assets, looked up by their path below src/web ("templates/layout.html"). */
#ifndef MADO_ASSETS_H
#define MADO_ASSETS_H
#include <stddef.h>

struct asset {
	const char *path;
	const unsigned char *data; /* NUL-terminated for convenience */
	size_t len;
};

/* Terminated by an entry whose path is NULL. */
extern const struct asset assets[];

/* The asset at path, or NULL. */
const struct asset *asset_find(const char *path);

#endif
