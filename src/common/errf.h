/* One way to fill a caller's error buffer: functions that report failures as
 * (char *err, size_t errlen) write their message with errf and return its
 * result, so an error path is one line. */
#ifndef MADO_COMMON_ERRF_H
#define MADO_COMMON_ERRF_H
#include <stddef.h>

/* Formats into err (when errlen > 0) and returns -1. */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
