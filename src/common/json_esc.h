/* JSON string escaping into a bounded buffer, for log lines written by hand
 * where building a jansson object would cost more than the line itself. */
#ifndef MADO_JSON_ESC_H
#define MADO_JSON_ESC_H
#include "buf.h"

/* Appends s as a quoted JSON string; invalid UTF-8 bytes become U+FFFD.
 * Returns 0 or -E2BIG. */
int json_esc_append(struct buf *b, const char *s);

#endif
