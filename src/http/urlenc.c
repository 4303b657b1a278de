/* Percent-decoding and urlencoded forms (see urlenc.h). Decoding never grows
 * the text, so each component is decoded into one arena block of its raw
 * length, then checked as a whole (UTF-8, dot segments). */
#include "http/urlenc.h"

#include <string.h>

#include "common/utf8.h"

const char *urlenc_strerror(int err)
{
	switch (err) {
	case URLENC_OK:
		return "ok";
	case URLENC_EHEX:
		return "bad percent-escape";
	case URLENC_ENUL:
		return "NUL byte";
	case URLENC_EUTF8:
		return "invalid UTF-8";
	case URLENC_EDOTSEG:
		return "dot segment in path";
	case URLENC_ESLASH:
		return "encoded slash in path";
	case URLENC_ECTRL:
		return "control character in path";
	case URLENC_EPATH:
		return "path does not start with '/'";
	case URLENC_ETOOMANY:
		return "too many fields";
	case URLENC_ETOOBIG:
		return "field or path too long";
	case URLENC_ENAME:
		return "empty field name";
	}
	return "unknown error";
}

static inline int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into dst (n bytes of room). In path mode %2F is refused
 * and '+' is literal. Returns 0 or an urlenc_err; *dlen gets the length. */
static int decode_raw(const char *s, size_t n, bool plus, bool path, char *dst, size_t *dlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3)
				return URLENC_EHEX;
			int hi = hexval((unsigned char)s[i + 1]),
			    lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return URLENC_EHEX;
			c = (unsigned char)(hi << 4 | lo);
			if (path && c == '/')
				return URLENC_ESLASH;
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			return URLENC_ENUL;
		dst[o++] = (char)c;
	}
	*dlen = o;
	return 0;
}

static bool has_dot_segment(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		/* p[i] is the first byte of a segment (after a '/') */
		const char *e = memchr(p + i, '/', n - i);
		size_t len = e ? (size_t)(e - (p + i)) : n - i;
		if ((len == 1 && p[i] == '.') || (len == 2 && p[i] == '.' && p[i + 1] == '.'))
			return true;
		i += len + 1;
	}
	return false;
}

int urlenc_decode_path(struct arena *a, const char *raw, size_t n, char **out)
{
	*out = NULL;
	if (n == 0 || raw[0] != '/')
		return URLENC_EPATH;
	if (n > URLENC_MAX_PATH)
		return URLENC_ETOOBIG;
	char *dst = arena_alloc(a, n + 1);
	size_t len = 0;
	int rc = decode_raw(raw, n, false, true, dst, &len);
	if (rc)
		return rc;
	dst[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)dst[i];
		if (c < 0x20 || c == 0x7F)
			return URLENC_ECTRL;
	}
	if (!utf8_valid(dst, len))
		return URLENC_EUTF8;
	if (has_dot_segment(dst + 1, len - 1))
		return URLENC_EDOTSEG;
	*out = dst;
	return 0;
}

int urlenc_decode(struct arena *a, const char *s, size_t n, bool plus, char **out, size_t *outlen)
{
	*out = NULL;
	char *dst = arena_alloc(a, n + 1);
	size_t len = 0;
	int rc = decode_raw(s, n, plus, false, dst, &len);
	if (rc)
		return rc;
	dst[len] = '\0';
	if (!utf8_valid(dst, len))
		return URLENC_EUTF8;
	*out = dst;
	if (outlen)
		*outlen = len;
	return 0;
}

/* Decodes one name or value bounded by max decoded bytes. A raw text longer
 * than 3 * max cannot decode to max bytes or less, so it is refused before
 * anything is allocated. */
static int decode_bounded(struct arena *a, const char *s, size_t n, size_t max, char **out,
			  size_t *outlen)
{
	if (max < ((size_t)-1) / 3 && n > 3 * max)
		return URLENC_ETOOBIG;
	int rc = urlenc_decode(a, s, n, true, out, outlen);
	if (rc)
		return rc;
	if (*outlen > max) {
		*out = NULL;
		return URLENC_ETOOBIG;
	}
	return 0;
}

int urlenc_parse(struct arena *a, const char *s, size_t n, const struct urlenc_limits *lim,
		 struct urlenc_form *out)
{
	static const struct urlenc_limits defaults = {
		URLENC_DEFAULT_MAX_FIELDS,
		URLENC_DEFAULT_MAX_NAME,
		URLENC_DEFAULT_MAX_VALUE,
	};
	if (!lim)
		lim = &defaults;
	out->fields = NULL;
	out->n = 0;

	/* count the non-empty pieces first, to size the array exactly */
	size_t count = 0;
	for (size_t i = 0; i < n;) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t len = amp ? (size_t)(amp - (s + i)) : n - i;
		if (len > 0 && ++count > lim->max_fields)
			return URLENC_ETOOMANY;
		i += len + 1;
	}
	if (count == 0)
		return 0;

	struct urlenc_field *f = arena_alloc(a, count * sizeof(*f));
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		const char *p = s + i;
		const char *amp = memchr(p, '&', n - i);
		size_t len = amp ? (size_t)(amp - p) : n - i;
		i += len + 1;
		if (len == 0)
			continue;
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;
		if (nlen == 0)
			return URLENC_ENAME;
		char *name, *value;
		size_t vlen;
		int rc = decode_bounded(a, p, nlen, lim->max_name, &name, &f[k].name_len);
		if (rc)
			return rc;
		if (eq)
			rc = decode_bounded(a, eq + 1, len - nlen - 1, lim->max_value, &value,
					    &vlen);
		else
			rc = decode_bounded(a, "", 0, lim->max_value, &value, &vlen);
		if (rc)
			return rc;
		f[k].name = name;
		f[k].value = value;
		f[k].value_len = vlen;
		k++;
	}
	out->fields = f;
	out->n = k;
	return 0;
}

const char *urlenc_get(const struct urlenc_form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return f->fields[i].value;
	return NULL;
}

int urlenc_encode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = b->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
		int rc;
		if (keep) {
			rc = buf_putc(b, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			rc = buf_append(b, e, 3);
		}
		if (rc) {
			/* leave b as it was, as every buf_* call does */
			b->len = start;
			if (b->p)
				b->p[start] = '\0';
			return rc;
		}
	}
	return 0;
}
