/* The resident record's pages and API routes (staff console, わたしの情報,
 * once-only prefill), registered by resident_module. */
#ifndef MADO_RESIDENT_WEB_H
#define MADO_RESIDENT_WEB_H
#include "http/router.h"

/* Ended by an entry with fn NULL. */
extern const struct route resident_routes[];

#endif
