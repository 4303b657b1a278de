/* Allocation wrappers: the out-of-memory policy is decided once, here.
 * Every allocation either succeeds or aborts the process with a message
 * (as redis' zmalloc and git's xmalloc do), so callers never check for NULL. */
#ifndef MADO_XALLOC_H
#define MADO_XALLOC_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
