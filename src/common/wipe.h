/* Memory that held personal data is zeroed before it goes back to the
 * allocator. Our own buffers (buf.h) wipe when they grow and when they are
 * released; wipe_install() makes jansson and ICU, which copy request bodies
 * and the names and numbers they parse or fold, allocate through functions
 * that do the same. Freed memory would otherwise keep a searched My Number
 * until something else happens to overwrite it. */
#ifndef MADO_COMMON_WIPE_H
#define MADO_COMMON_WIPE_H
#include <stddef.h>

/* malloc / realloc / free that zero a block before giving it back (realloc
 * always moves, so the old block is zeroed too). Out of memory: NULL, as the
 * libraries expect. */
void *wipe_malloc(size_t n);
void *wipe_realloc(void *p, size_t n);
void wipe_free(void *p);

/* Installs them into jansson and ICU. Must run before either library is
 * first used (first thing in main); returns 0, or -1 when ICU had already
 * allocated (its memory then stays unwiped; jansson's is wiped regardless). */
int wipe_install(void);

#endif
