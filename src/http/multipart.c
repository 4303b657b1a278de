/* multipart/form-data parser (see multipart.h). The body is scanned once with
 * memmem for "CRLF--boundary"; each part's header block is parsed line by
 * line within its bound. Quoted parameter values follow the HTML form
 * encoding (browsers write '"' as %22 and never backslash-escape), so a quoted
 * value runs to the next '"' and backslashes are literal. */
#include "http/multipart.h"

#include <string.h>
#include <strings.h>

#include "common/utf8.h"

/* Header lines one part may carry before it is called hostile. */
#define MP_MAX_HEADERS 16

const char *multipart_strerror(int err)
{
	switch (err) {
	case MULTIPART_OK:
		return "ok";
	case MULTIPART_ENOTFORM:
		return "not multipart/form-data";
	case MULTIPART_EBOUNDARY:
		return "missing or invalid boundary";
	case MULTIPART_ESYNTAX:
		return "malformed multipart body";
	case MULTIPART_ETOOMANY:
		return "too many parts";
	case MULTIPART_ETOOBIG:
		return "part header or field too large";
	case MULTIPART_EUTF8:
		return "invalid UTF-8 in field";
	case MULTIPART_ENUL:
		return "NUL byte in field";
	}
	return "unknown error";
}

static inline bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_tchar(char ch)
{
	unsigned char c = (unsigned char)ch;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars (space allowed, but not as the last character). */
static bool boundary_ok(const char *b, size_t n)
{
	if (n == 0 || n > MULTIPART_BOUNDARY_MAX || b[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || (c && strchr("'()+_,-./:=? ", c));
		if (!ok)
			return false;
	}
	return true;
}

struct param {
	const char *name, *val;
	size_t nlen, vlen;
};

/* Parses the next "; name=value" from *pp (bounded by end). Returns 1 with
 * *pm filled, 0 at the end, -1 on a syntax error. A trailing ';' is allowed. */
static int next_param(const char **pp, const char *end, struct param *pm)
{
	const char *p = *pp;
	while (p < end && is_ows(*p))
		p++;
	if (p == end)
		return 0;
	if (*p != ';')
		return -1;
	p++;
	while (p < end && is_ows(*p))
		p++;
	if (p == end) {
		*pp = p;
		return 0;
	}
	pm->name = p;
	while (p < end && is_tchar(*p))
		p++;
	pm->nlen = (size_t)(p - pm->name);
	if (pm->nlen == 0 || p == end || *p != '=')
		return -1;
	p++;
	if (p < end && *p == '"') {
		p++;
		const char *q = memchr(p, '"', (size_t)(end - p));
		if (!q)
			return -1;
		pm->val = p;
		pm->vlen = (size_t)(q - p);
		p = q + 1;
	} else {
		pm->val = p;
		while (p < end && *p != ';' && !is_ows(*p) && *p != '"' &&
		       (unsigned char)*p > 0x20 && *p != 0x7F)
			p++;
		pm->vlen = (size_t)(p - pm->val);
		if (pm->vlen == 0)
			return -1;
	}
	*pp = p;
	return 1;
}

static bool name_is(const struct param *pm, const char *name)
{
	return pm->nlen == strlen(name) && strncasecmp(pm->name, name, pm->nlen) == 0;
}

/* Reads the media type at the start of [p, end) and checks it is want. */
static bool media_type_is(const char **pp, const char *end, const char *want)
{
	const char *p = *pp;
	while (p < end && is_ows(*p))
		p++;
	const char *t = p;
	while (p < end && *p != ';' && !is_ows(*p))
		p++;
	size_t n = (size_t)(p - t);
	*pp = p;
	return n == strlen(want) && strncasecmp(t, want, n) == 0;
}

int multipart_boundary(const char *content_type, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	if (!content_type)
		return MULTIPART_ENOTFORM;
	const char *p = content_type, *end = content_type + strlen(content_type);
	if (!media_type_is(&p, end, "multipart/form-data"))
		return MULTIPART_ENOTFORM;
	struct param pm, b = {0};
	bool seen = false;
	int r;
	while ((r = next_param(&p, end, &pm)) > 0) {
		if (name_is(&pm, "boundary")) {
			if (seen)
				return MULTIPART_EBOUNDARY;
			seen = true;
			b = pm;
		}
	}
	if (r < 0 || !seen || !boundary_ok(b.val, b.vlen) || b.vlen + 1 > outlen)
		return MULTIPART_EBOUNDARY;
	memcpy(out, b.val, b.vlen);
	out[b.vlen] = '\0';
	return 0;
}

/* ---- body ---- */

struct hdrs {
	const char *disp, *ctype; /* header values, trimmed */
	size_t disp_len, ctype_len;
};

/* Parses the header block at body[*pos..], up to and including the empty
 * line, within max bytes. */
static int parse_headers(const char *body, size_t len, size_t *pos, size_t max, struct hdrs *h)
{
	size_t p = *pos;
	size_t limit = len - p < max ? len : p + max;
	int nh = 0;
	memset(h, 0, sizeof(*h));
	for (;;) {
		const char *line = body + p;
		const char *cr = memchr(line, '\r', limit - p);
		if (!cr)
			return limit < len ? MULTIPART_ETOOBIG : MULTIPART_ESYNTAX;
		size_t n = (size_t)(cr - line);
		if ((size_t)(cr - body) + 1 >= len || cr[1] != '\n')
			return MULTIPART_ESYNTAX;
		if ((size_t)(cr - body) + 2 > limit)
			return MULTIPART_ETOOBIG;
		p += n + 2;
		if (n == 0)
			break; /* the empty line that ends the block */
		if (++nh > MP_MAX_HEADERS)
			return MULTIPART_ETOOBIG;
		if (memchr(line, '\n', n) || is_ows(line[0]))
			return MULTIPART_ESYNTAX; /* bare LF, or obsolete line folding */
		const char *colon = memchr(line, ':', n);
		if (!colon || colon == line)
			return MULTIPART_ESYNTAX;
		for (const char *c = line; c < colon; c++)
			if (!is_tchar(*c))
				return MULTIPART_ESYNTAX;
		size_t nlen = (size_t)(colon - line);
		const char *v = colon + 1, *ve = line + n;
		while (v < ve && is_ows(*v))
			v++;
		while (ve > v && is_ows(ve[-1]))
			ve--;
		if (!utf8_clean_line(v, (size_t)(ve - v)))
			return MULTIPART_EUTF8;
		if (nlen == 19 && strncasecmp(line, "Content-Disposition", 19) == 0) {
			if (h->disp)
				return MULTIPART_ESYNTAX;
			h->disp = v;
			h->disp_len = (size_t)(ve - v);
		} else if (nlen == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
			if (h->ctype)
				return MULTIPART_ESYNTAX;
			h->ctype = v;
			h->ctype_len = (size_t)(ve - v);
		}
		/* other headers (Content-Transfer-Encoding …) are ignored, RFC 7578 4.7 */
	}
	*pos = p;
	return 0;
}

/* Fills name and filename of part from a Content-Disposition value. */
static int parse_disposition(struct arena *a, const struct hdrs *h, struct multipart_part *part)
{
	if (!h->disp)
		return MULTIPART_ESYNTAX; /* Content-Disposition is required, RFC 7578 4.2 */
	const char *p = h->disp, *end = h->disp + h->disp_len;
	if (!media_type_is(&p, end, "form-data"))
		return MULTIPART_ESYNTAX;
	struct param pm, name = {0}, fname = {0};
	int r;
	while ((r = next_param(&p, end, &pm)) > 0) {
		struct param *slot = NULL;
		if (name_is(&pm, "name"))
			slot = &name;
		else if (name_is(&pm, "filename"))
			slot = &fname;
		if (!slot)
			continue; /* filename* and the like: RFC 7578 4.2 says not to use them */
		if (slot->name)
			return MULTIPART_ESYNTAX;
		*slot = pm;
	}
	if (r < 0 || !name.name || name.vlen == 0)
		return MULTIPART_ESYNTAX;
	/* the whole header value was checked by utf8_clean_line already */
	part->name = arena_strndup(a, name.val, name.vlen);
	part->filename = fname.name ? arena_strndup(a, fname.val, fname.vlen) : NULL;
	part->content_type = h->ctype ? arena_strndup(a, h->ctype, h->ctype_len) : NULL;
	return 0;
}

int multipart_parse(struct arena *a, const char *body, size_t len, const char *boundary,
		    const struct multipart_limits *lim, struct multipart *out)
{
	static const struct multipart_limits defaults = {
		MULTIPART_DEFAULT_MAX_PARTS,
		MULTIPART_DEFAULT_MAX_HEADER,
		MULTIPART_DEFAULT_MAX_VALUE,
	};
	char delim[4 + MULTIPART_BOUNDARY_MAX + 1]; /* "\r\n--" boundary */
	struct multipart_part *parts = NULL;
	size_t n = 0, cap = 0, pos;
	int rc;

	out->parts = NULL;
	out->n = 0;
	if (!lim)
		lim = &defaults;
	if (!body)
		body = ""; /* memmem's arguments are declared non-null */
	size_t blen = boundary ? strlen(boundary) : 0;
	if (!boundary_ok(boundary ? boundary : "", blen))
		return MULTIPART_EBOUNDARY;
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, blen);
	size_t dlen = 4 + blen;

	/* the first delimiter: at the very start, or after a preamble and CRLF */
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
		pos = dlen - 2;
	} else {
		const char *d = memmem(body, len, delim, dlen);
		if (!d)
			return MULTIPART_ESYNTAX;
		pos = (size_t)(d - body) + dlen;
	}

	for (;;) {
		/* just after a delimiter: "--" closes, else padding and CRLF */
		if (len - pos >= 2 && body[pos] == '-' && body[pos + 1] == '-')
			break;
		while (pos < len && is_ows(body[pos]))
			pos++;
		if (len - pos < 2 || body[pos] != '\r' || body[pos + 1] != '\n')
			return MULTIPART_ESYNTAX;
		pos += 2;

		if (n == lim->max_parts)
			return MULTIPART_ETOOMANY;
		struct hdrs h;
		rc = parse_headers(body, len, &pos, lim->max_header, &h);
		if (rc)
			return rc;
		const char *d = memmem(body + pos, len - pos, delim, dlen);
		if (!d)
			return MULTIPART_ESYNTAX; /* truncated: no closing delimiter */

		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			if (ncap > lim->max_parts)
				ncap = lim->max_parts;
			struct multipart_part *np = arena_alloc(a, ncap * sizeof(*np));
			if (n)
				memcpy(np, parts, n * sizeof(*np));
			parts = np;
			cap = ncap;
		}
		struct multipart_part *part = &parts[n];
		memset(part, 0, sizeof(*part));
		rc = parse_disposition(a, &h, part);
		if (rc)
			return rc;
		part->data = body + pos;
		part->len = (size_t)(d - (body + pos));
		if (!part->filename) {
			if (part->len > lim->max_value)
				return MULTIPART_ETOOBIG;
			if (memchr(part->data, '\0', part->len))
				return MULTIPART_ENUL;
			if (!utf8_valid(part->data, part->len))
				return MULTIPART_EUTF8;
			part->value = arena_strndup(a, part->data, part->len);
		}
		n++;
		pos = (size_t)(d - body) + dlen;
	}
	out->parts = parts;
	out->n = n;
	return 0;
}

const char *multipart_get(const struct multipart *mp, const char *name)
{
	for (size_t i = 0; i < mp->n; i++)
		if (mp->parts[i].value && strcmp(mp->parts[i].name, name) == 0)
			return mp->parts[i].value;
	return NULL;
}

const struct multipart_part *multipart_file(const struct multipart *mp, const char *name)
{
	for (size_t i = 0; i < mp->n; i++)
		if (mp->parts[i].filename && strcmp(mp->parts[i].name, name) == 0)
			return &mp->parts[i];
	return NULL;
}
