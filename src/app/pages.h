/* Routes of the web shell (pages.c), the JSON API (api.c), the
 * certificate log-in (certlogin.c) and the second-factor and certificate
 * enrolment pages (mfa_pages.c). */
#ifndef MADO_PAGES_H
#define MADO_PAGES_H
#include <jansson.h>

#include "http/http.h"

extern const struct route page_routes[];
extern const struct route api_routes[];
extern const struct route cert_routes[];
extern const struct route mfa_routes[];

/* The signed-in account's audit entries, newest first, with Japanese labels;
 * *next_before is the seq for the next page or 0. NULL on DB failure. */
json_t *history_items(struct req *r, int64_t before, int limit, int64_t *next_before);

/* The signed-in account's registered log-in certificates, oldest first:
 * [{subject, not_after}] with not_after in Japanese ("2026年5月1日 9時00分"). */
json_t *me_certificates(struct req *r);

/* "2024年5月1日 10時20分" (Japan time) from Unix milliseconds, arena-owned. */
const char *jst_time(struct arena *a, int64_t ms);

#endif
