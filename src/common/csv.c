/* CSV reader (see csv.h): a byte-at-a-time state machine over a refillable
 * input window, writing unescaped fields into one bounded record buffer.
 * Memory is the window (64 KiB, none for in-memory input), the record buffer
 * (bounded by max_record) and the field table (bounded by max_fields). */
#include "csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xalloc.h"

#define CSV_WINDOW 65536
#define CSV_DEFAULT_MAX_RECORD 65536
#define CSV_DEFAULT_MAX_FIELDS 256

enum state { S_START, S_UNQUOTED, S_QUOTED, S_QUOTE_SEEN, S_CR };

struct csv {
	struct csv_opts o;
	csv_read_fn fn;
	void *ctx;
	bool eof, started;
	bool nl_pending; /* the last byte was LF: line counts up at the next byte */
	int err;
	char errmsg[160];

	/* input window */
	char *win;      /* owned, NULL for memory input */
	const char *in; /* win, or the caller's memory */
	size_t inpos, inlen;
	size_t consumed; /* bytes parsed so far, for max_bytes (counted here, not at
			     read time, so memory and streams fail at the same byte) */

	/* current record: fields separated by NULs */
	char *rec;
	size_t reclen, reccap;
	size_t *off, *len;
	size_t nf, fcap;
	size_t width; /* field count of the first record, 0 before it */
	unsigned long line, recline;
};

static void csv_init(struct csv *c, const struct csv_opts *opts)
{
	if (opts)
		c->o = *opts;
	if (!c->o.max_record)
		c->o.max_record = CSV_DEFAULT_MAX_RECORD;
	if (!c->o.max_fields)
		c->o.max_fields = CSV_DEFAULT_MAX_FIELDS;
	c->line = 1;
}

struct csv *csv_new(csv_read_fn fn, void *ctx, const struct csv_opts *opts)
{
	struct csv *c = xcalloc(1, sizeof(*c));
	csv_init(c, opts);
	c->fn = fn;
	c->ctx = ctx;
	c->win = xmalloc(CSV_WINDOW);
	c->in = c->win;
	return c;
}

struct csv *csv_new_mem(const char *p, size_t n, const struct csv_opts *opts)
{
	struct csv *c = xcalloc(1, sizeof(*c));
	csv_init(c, opts);
	c->in = p;
	c->inlen = n;
	c->eof = true;
	return c;
}

void csv_free(struct csv *c)
{
	if (!c)
		return;
	free(c->win);
	free(c->rec);
	free(c->off);
	free(c->len);
	free(c);
}

const char *csv_strerror(int err)
{
	switch (err) {
	case CSV_OK:
		return "ok";
	case CSV_EIO:
		return "read error";
	case CSV_EQUOTE:
		return "misplaced or unterminated quote";
	case CSV_ECR:
		return "CR without LF";
	case CSV_ETOOBIG:
		return "record or input too large";
	case CSV_ETOOMANY:
		return "too many fields";
	case CSV_EWIDTH:
		return "wrong number of fields";
	case CSV_EUTF8:
		return "invalid UTF-8";
	case CSV_ENUL:
		return "NUL byte";
	case CSV_EHEADER:
		return "bad header";
	}
	return "unknown error";
}

__attribute__((format(printf, 3, 4))) static int fail(struct csv *c, int err, const char *fmt, ...)
{
	char what[120];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(c->errmsg, sizeof c->errmsg, "line %lu: %s", c->line, what);
	c->err = err;
	return err;
}

/* Makes input available. Returns 1 when there is some, 0 at EOF, <0 on error. */
static int fill(struct csv *c)
{
	if (c->inpos < c->inlen)
		return 1;
	if (c->eof)
		return 0;
	ssize_t r = c->fn(c->ctx, c->win, CSV_WINDOW);
	if (r < 0)
		return fail(c, CSV_EIO, "read error");
	if (r == 0) {
		c->eof = true;
		return 0;
	}
	if ((size_t)r > CSV_WINDOW)
		return fail(c, CSV_EIO, "read callback overran its buffer");
	c->in = c->win;
	c->inpos = 0;
	c->inlen = (size_t)r;
	return 1;
}

static void skip_bom(struct csv *c)
{
	/* a stream may deliver fewer than three bytes at first: top the window up */
	while (c->win && c->inlen < 3 && !c->eof) {
		ssize_t r = c->fn(c->ctx, c->win + c->inlen, CSV_WINDOW - c->inlen);
		if (r < 0 || (size_t)r > CSV_WINDOW - c->inlen) {
			fail(c, CSV_EIO, "read error");
			return;
		}
		if (r == 0)
			c->eof = true;
		c->inlen += (size_t)r;
	}
	if (c->inlen - c->inpos >= 3 && memcmp(c->in + c->inpos, "\xEF\xBB\xBF", 3) == 0) {
		c->inpos += 3;
		c->consumed = 3;
	}
}

static int rec_put(struct csv *c, char ch)
{
	if (c->reclen == c->reccap) {
		/* NULs between fields make the buffer at most max_record + max_fields */
		size_t cap = c->reccap ? c->reccap * 2 : 256;
		size_t max = c->o.max_record + c->o.max_fields + 1;
		if (cap > max)
			cap = max;
		if (cap <= c->reclen)
			return fail(c, CSV_ETOOBIG, "record longer than %zu bytes",
				    c->o.max_record);
		c->rec = xrealloc(c->rec, cap);
		c->reccap = cap;
	}
	c->rec[c->reclen++] = ch;
	return 0;
}

static int field_begin(struct csv *c)
{
	if (c->nf == c->o.max_fields)
		return fail(c, CSV_ETOOMANY, "more than %zu fields", c->o.max_fields);
	if (c->nf == c->fcap) {
		size_t cap = c->fcap ? c->fcap * 2 : 16;
		if (cap > c->o.max_fields)
			cap = c->o.max_fields;
		c->off = xrealloc(c->off, cap * sizeof(*c->off));
		c->len = xrealloc(c->len, cap * sizeof(*c->len));
		c->fcap = cap;
	}
	c->off[c->nf] = c->reclen;
	c->len[c->nf] = 0;
	c->nf++;
	return 0;
}

static int field_end(struct csv *c)
{
	c->len[c->nf - 1] = c->reclen - c->off[c->nf - 1];
	return rec_put(c, '\0');
}

/* Checks a finished record. Returns 1, or an error. */
static int record_done(struct csv *c)
{
	if (c->o.utf8 && !utf8_valid(c->rec, c->reclen)) {
		c->line = c->recline; /* report where the record started */
		return fail(c, CSV_EUTF8, "invalid UTF-8");
	}
	if (!c->width) {
		c->width = c->nf;
	} else if (c->nf != c->width && !c->o.allow_ragged) {
		c->line = c->recline;
		return fail(c, CSV_EWIDTH, "%zu fields where the first record has %zu", c->nf,
			    c->width);
	}
	return 1;
}

int csv_next(struct csv *c)
{
	if (c->err)
		return c->err;
	if (!c->started) {
		c->started = true;
		skip_bom(c);
		if (c->err)
			return c->err;
	}
	enum state st = S_START;
	size_t raw = 0;
	int rc;
	c->reclen = 0;
	c->nf = 0;
	if (c->nl_pending) {
		c->line++;
		c->nl_pending = false;
	}
	c->recline = c->line;

	for (;;) {
		rc = fill(c);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		char ch = c->in[c->inpos++];
		/* an error on a LF is reported on the line the LF ends */
		if (c->nl_pending) {
			c->line++;
			c->nl_pending = false;
		}
		if (++raw > c->o.max_record)
			return fail(c, CSV_ETOOBIG, "record longer than %zu bytes",
				    c->o.max_record);
		if (c->o.max_bytes && ++c->consumed > c->o.max_bytes)
			return fail(c, CSV_ETOOBIG, "input larger than %zu bytes", c->o.max_bytes);
		if (ch == '\0')
			return fail(c, CSV_ENUL, "NUL byte");
		if (ch == '\n')
			c->nl_pending = true;

		switch (st) {
		case S_START:
			if (ch == '\n' && c->nf == 0) {
				/* a blank line: not a record */
				raw = 0;
				c->recline = c->line + 1;
				continue;
			}
			if (ch == '\r') {
				/* "a,\r\n" ends with an empty field; a bare "\r\n" is blank */
				if (c->nf && ((rc = field_begin(c)) || (rc = field_end(c))))
					return rc;
				st = S_CR;
				continue;
			}
			if ((rc = field_begin(c)))
				return rc;
			if (ch == '"') {
				st = S_QUOTED;
			} else if (ch == ',') {
				if ((rc = field_end(c)))
					return rc;
			} else if (ch == '\n') {
				if ((rc = field_end(c)))
					return rc;
				return record_done(c);
			} else {
				if ((rc = rec_put(c, ch)))
					return rc;
				st = S_UNQUOTED;
			}
			break;
		case S_UNQUOTED:
		case S_QUOTE_SEEN:
			if (ch == '"' && st == S_QUOTE_SEEN) {
				if ((rc = rec_put(c, '"')))
					return rc;
				st = S_QUOTED;
			} else if (ch == '"') {
				return fail(c, CSV_EQUOTE, "quote inside an unquoted field");
			} else if (ch == ',') {
				if ((rc = field_end(c)))
					return rc;
				st = S_START;
			} else if (ch == '\r' || ch == '\n') {
				if ((rc = field_end(c)))
					return rc;
				if (ch == '\n')
					return record_done(c);
				st = S_CR;
			} else if (st == S_QUOTE_SEEN) {
				return fail(c, CSV_EQUOTE, "text after a closing quote");
			} else if ((rc = rec_put(c, ch))) {
				return rc;
			}
			break;
		case S_QUOTED:
			if (ch == '"')
				st = S_QUOTE_SEEN;
			else if ((rc = rec_put(c, ch)))
				return rc;
			break;
		case S_CR:
			if (ch != '\n')
				return fail(c, CSV_ECR, "CR without LF");
			if (c->nf == 0) {
				/* a blank CRLF line */
				raw = 0;
				st = S_START;
				c->recline = c->line + 1;
				continue;
			}
			return record_done(c);
		}
	}

	/* end of input */
	switch (st) {
	case S_START:
		if (c->nf == 0)
			return 0;
		/* "a,<EOF>": the trailing empty field */
		if ((rc = field_begin(c)) || (rc = field_end(c)))
			return rc;
		return record_done(c);
	case S_UNQUOTED:
	case S_QUOTE_SEEN:
		if ((rc = field_end(c)))
			return rc;
		return record_done(c);
	case S_QUOTED:
		c->line = c->recline;
		return fail(c, CSV_EQUOTE, "unterminated quoted field");
	case S_CR:
		/* "a\r<EOF>": a final record ended by a lone CR */
		return c->nf ? record_done(c) : 0;
	}
	return 0;
}

size_t csv_nfields(const struct csv *c)
{
	return c->err ? 0 : c->nf;
}

const char *csv_field(const struct csv *c, size_t i)
{
	if (c->err || i >= c->nf)
		return "";
	return c->rec + c->off[i];
}

size_t csv_field_len(const struct csv *c, size_t i)
{
	if (c->err || i >= c->nf)
		return 0;
	return c->len[i];
}

const char *csv_get(const struct csv *c, int idx)
{
	return idx < 0 ? "" : csv_field(c, (size_t)idx);
}

int csv_header(struct csv *c, const char *const names[], size_t n, int idx[], bool required)
{
	int rc = csv_next(c);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fail(c, CSV_EHEADER, "empty input, no header");
	for (size_t i = 0; i < n; i++) {
		idx[i] = -1;
		for (size_t k = 0; k < c->nf; k++) {
			if (strcmp(csv_field(c, k), names[i]) != 0)
				continue;
			if (idx[i] >= 0) {
				c->line = c->recline;
				return fail(c, CSV_EHEADER, "column '%s' appears twice", names[i]);
			}
			idx[i] = (int)k;
		}
		if (idx[i] < 0 && required) {
			c->line = c->recline;
			return fail(c, CSV_EHEADER, "missing column '%s'", names[i]);
		}
	}
	return 0;
}

unsigned long csv_line(const struct csv *c)
{
	return c->recline;
}

const char *csv_errmsg(const struct csv *c)
{
	return c->errmsg;
}
