/* libFuzzer driver for the 和暦 parsers. Any accepted date must format to the
 * long, short and ISO forms and parse back to exactly the same date; a parse
 * message must always be NUL-terminated inside WAREKI_MSG_MAX bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/wareki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct wareki_date *a, const struct wareki_date *b)
{
	if (a->year != b->year || a->month != b->month || a->day != b->day || a->era != b->era ||
	    a->era_year != b->era_year)
		abort();
}

static void reparse(const struct wareki_date *w)
{
	char out[WAREKI_FORMAT_MAX], msg[WAREKI_MSG_MAX];
	struct wareki_date back;
	int n;

	n = wareki_format_long(w, out, sizeof out);
	if (n <= 0 || wareki_parse(out, (size_t)n, &back, msg, sizeof msg) != 0)
		abort();
	same(w, &back);
	n = wareki_format_short(w, out, sizeof out);
	if (n <= 0 || wareki_parse(out, (size_t)n, &back, msg, sizeof msg) != 0)
		abort();
	same(w, &back);
	n = wareki_format_iso(w, out, sizeof out);
	if (n != 10 || wareki_parse_iso(out, (size_t)n, &back, msg, sizeof msg) != 0)
		abort();
	same(w, &back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[WAREKI_MSG_MAX];
	struct wareki_date w;
	/* a private copy without a terminating NUL: the parser must honour size */
	char *p = malloc(size ? size : 1);
	memcpy(p, data, size);

	int rc = wareki_parse(p, size, &w, msg, sizeof msg);
	if (!memchr(msg, '\0', sizeof msg))
		abort();
	if (rc == 0)
		reparse(&w);
	else if (rc > 0 || msg[0] == '\0')
		abort();
	rc = wareki_parse_iso(p, size, &w, msg, sizeof msg);
	if (rc == 0)
		reparse(&w);
	free(p);
	return 0;
}
