/* The one-line progress display of the importers and the demo populator:
 * "[####......]  40%     123456 rows    98765 rows/s", redrawn with '\r' on
 * a terminal, and the monotonic clock that paces it. */
#ifndef MADO_PROGRESS_H
#define MADO_PROGRESS_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Seconds on the monotonic clock (for rates and for pacing redraws). */
double progress_now(void);

/* True when the line is due for a redraw: more than 0.1 s on the monotonic
 * clock since *last, which is then set to now (call it every few thousand
 * rows, not for every row). */
bool progress_due(double *last);

/* done as a percentage of total, 0 to 100 (0 when total is 0). */
int progress_pct(uint64_t done, uint64_t total);

/* Redraws the line on out: label (NULL: none) in a 36-column field, a
 * 20-character bar for pct, rows and rows per second over secs. */
void progress_show(FILE *out, const char *label, int pct, uint64_t rows, double secs);

#endif
