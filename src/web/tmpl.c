/* The template engine (see tmpl.h): compiles Mustache-like sources into node
 * trees once, at start-up, and renders them with every value HTML-escaped.
 * The compiler also follows the surrounding HTML so that a value can only
 * land where escaping makes it safe. */
#include "web/tmpl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/xalloc.h"
#include "web/assets.h"

/* ---- compiled form ---- */

enum node_kind { N_TEXT, N_VAR, N_SECTION, N_INVERTED, N_PARTIAL };

#define VAR_URL 1u /* the value starts a URL attribute: check its scheme */

struct node {
	enum node_kind kind;
	unsigned line;
	unsigned flags;
	const char *s;      /* N_TEXT: the bytes; others: the tag's name as written */
	size_t n;           /* length of s */
	const char **parts; /* N_VAR, N_SECTION, N_INVERTED: name split at '.' */
	size_t nparts;      /* 0 for "." (the current context) */
	struct node *child; /* sections: the body */
	struct node *next;
};

struct tmpl {
	char *name;
	struct node *root;
	struct arena *arena; /* owns the nodes and the copy of the source */
};

struct tmpl_set {
	struct tmpl *v;
	size_t n, cap;
};

/* ---- HTML context tracking (compile time only) ---- */

enum hstate {
	H_TEXT,
	H_LT,      /* after '<' */
	H_MARKUP,  /* after "<!" */
	H_COMMENT, /* inside <!-- … --> */
	H_TAGNAME,
	H_TAG,  /* inside a tag, between attributes */
	H_ATTR, /* attribute name */
	H_AFTER_ATTR,
	H_BEFORE_VAL,
	H_VAL_DQ,
	H_VAL_SQ,
	H_VAL_UQ,
	H_RAW /* inside <script> or <style>, until its end tag */
};

#define HNAME_MAX 24

struct html {
	enum hstate st;
	bool endtag;
	char tag[HNAME_MAX];
	size_t ntag; /* HNAME_MAX means "longer than we keep" */
	char attr[HNAME_MAX];
	size_t nattr;
	size_t nval;         /* literal bytes or values so far in the attribute value */
	int dashes;          /* consecutive '-' in H_MARKUP / H_COMMENT */
	char raw[HNAME_MAX]; /* H_RAW: "</script" or "</style" */
	size_t nraw, rawmatch;
};

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static void name_add(char *dst, size_t *n, unsigned char c)
{
	if (*n + 1 < HNAME_MAX) {
		dst[(*n)++] = (char)lower(c);
		dst[*n] = '\0';
	} else {
		*n = HNAME_MAX;
	}
}

static bool name_is(const char *have, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(have, want, n) == 0;
}

static void html_end_of_tag(struct html *h)
{
	if (!h->endtag &&
	    (name_is(h->tag, h->ntag, "script") || name_is(h->tag, h->ntag, "style"))) {
		h->raw[0] = '<';
		h->raw[1] = '/';
		memcpy(h->raw + 2, h->tag, h->ntag + 1);
		h->nraw = h->ntag + 2;
		h->rawmatch = 0;
		h->st = H_RAW;
	} else {
		h->st = H_TEXT;
	}
}

static void html_step(struct html *h, unsigned char c)
{
	switch (h->st) {
	case H_TEXT:
		if (c == '<')
			h->st = H_LT;
		break;
	case H_LT:
		h->endtag = false;
		h->ntag = 0;
		h->tag[0] = '\0';
		if (c == '!') {
			h->st = H_MARKUP;
			h->dashes = 0;
		} else if (c == '/') {
			h->endtag = true;
			h->st = H_TAGNAME;
		} else if (c == '?') {
			h->endtag = true; /* bogus comment: ends at '>' */
			h->st = H_TAG;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			name_add(h->tag, &h->ntag, c);
			h->st = H_TAGNAME;
		} else {
			h->st = H_TEXT;
			html_step(h, c); /* "<<" starts again */
		}
		break;
	case H_MARKUP:
		if (c == '-') {
			if (++h->dashes == 2) {
				h->st = H_COMMENT;
				h->dashes = 0;
			}
		} else {
			/* <!DOCTYPE …> and other declarations: a tag without raw text */
			h->endtag = true;
			h->st = c == '>' ? H_TEXT : H_TAG;
		}
		break;
	case H_COMMENT:
		if (c == '-')
			h->dashes++;
		else if (c == '>' && h->dashes >= 2)
			h->st = H_TEXT;
		else
			h->dashes = 0;
		break;
	case H_TAGNAME:
		if (is_space(c) || c == '/')
			h->st = H_TAG;
		else if (c == '>')
			html_end_of_tag(h);
		else
			name_add(h->tag, &h->ntag, c);
		break;
	case H_TAG:
		if (c == '>') {
			html_end_of_tag(h);
		} else if (!is_space(c) && c != '/') {
			h->nattr = 0;
			name_add(h->attr, &h->nattr, c);
			h->st = H_ATTR;
		}
		break;
	case H_ATTR:
		if (is_space(c))
			h->st = H_AFTER_ATTR;
		else if (c == '/')
			h->st = H_TAG;
		else if (c == '=')
			h->st = H_BEFORE_VAL;
		else if (c == '>')
			html_end_of_tag(h);
		else
			name_add(h->attr, &h->nattr, c);
		break;
	case H_AFTER_ATTR:
		if (c == '/') {
			h->st = H_TAG;
		} else if (c == '=') {
			h->st = H_BEFORE_VAL;
		} else if (c == '>') {
			html_end_of_tag(h);
		} else if (!is_space(c)) {
			h->nattr = 0;
			name_add(h->attr, &h->nattr, c);
			h->st = H_ATTR;
		}
		break;
	case H_BEFORE_VAL:
		h->nval = 0;
		if (c == '"')
			h->st = H_VAL_DQ;
		else if (c == '\'')
			h->st = H_VAL_SQ;
		else if (c == '>')
			html_end_of_tag(h);
		else if (!is_space(c)) {
			h->st = H_VAL_UQ;
			h->nval = 1;
		}
		break;
	case H_VAL_DQ:
		if (c == '"')
			h->st = H_TAG;
		else
			h->nval++;
		break;
	case H_VAL_SQ:
		if (c == '\'')
			h->st = H_TAG;
		else
			h->nval++;
		break;
	case H_VAL_UQ:
		if (is_space(c))
			h->st = H_TAG;
		else if (c == '>')
			html_end_of_tag(h);
		else
			h->nval++;
		break;
	case H_RAW:
		if (lower(c) == (unsigned char)h->raw[h->rawmatch]) {
			if (++h->rawmatch == h->nraw) {
				h->endtag = true;
				h->st = H_TAG;
			}
		} else {
			h->rawmatch = c == '<' ? 1 : 0;
		}
		break;
	}
}

static bool attr_is_url(const struct html *h)
{
	static const char *const url_attrs[] = {
		"href",     "src",      "action",     "formaction", "cite",
		"poster",   "data",     "background", "ping",       "longdesc",
		"manifest", "codebase", "xlink:href", "srcset",     "icon",
		"usemap",   "archive",  "classid",    NULL,
	};
	for (size_t i = 0; url_attrs[i]; i++)
		if (name_is(h->attr, h->nattr, url_attrs[i]))
			return true;
	return false;
}

/* NULL when a value may appear here (setting *flags), else why not. */
static const char *html_var_problem(struct html *h, unsigned *flags)
{
	switch (h->st) {
	case H_TEXT:
		return NULL;
	case H_VAL_DQ:
	case H_VAL_SQ:
		if (h->nattr >= 2 && h->attr[0] == 'o' && h->attr[1] == 'n')
			return "a value is not allowed in an event-handler attribute";
		if (name_is(h->attr, h->nattr, "style") || name_is(h->attr, h->nattr, "srcdoc"))
			return "a value is not allowed in a style or srcdoc attribute";
		if (h->nval == 0 && attr_is_url(h))
			*flags |= VAR_URL;
		h->nval++;
		return NULL;
	case H_COMMENT:
		return "a value is not allowed inside an HTML comment";
	case H_RAW:
		return "a value is not allowed inside <script> or <style>";
	default:
		return "a value must be in text or in a quoted attribute value";
	}
}

/* ---- parser ---- */

struct parser {
	struct arena *a;
	const char *origin; /* for messages */
	const char *src;
	size_t len;
	size_t lpos; /* line-count cache: line number lline at offset lpos */
	unsigned lline;
	char *err;
	size_t errlen;
	struct html html;
	struct node *open[TMPL_MAX_NESTING];      /* open sections */
	struct node **tail[TMPL_MAX_NESTING + 1]; /* where the next node goes, per level */
	int depth;
};

static unsigned line_at(struct parser *p, size_t off)
{
	/* Queries move mostly forward, with short steps back (a text's start
	 * after its closing tag's line), so walk from the cached position. */
	for (; p->lpos > off; p->lpos--)
		if (p->src[p->lpos - 1] == '\n')
			p->lline--;
	for (; p->lpos < off; p->lpos++)
		if (p->src[p->lpos] == '\n')
			p->lline++;
	return p->lline;
}

__attribute__((format(printf, 3, 4))) static int perr(struct parser *p, unsigned line,
						      const char *fmt, ...)
{
	if (p->err && p->errlen) {
		int n = snprintf(p->err, p->errlen, "%s:%u: ", p->origin, line);
		if (n >= 0 && (size_t)n < p->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Splits a dotted name into arena strings. "." gives zero parts. */
static int split_name(struct parser *p, struct node *nd, const char *s, size_t n)
{
	if (n == 1 && s[0] == '.') {
		nd->parts = NULL;
		nd->nparts = 0;
		return 0;
	}
	size_t count = 1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (i == 0 || i + 1 == n || s[i + 1] == '.')
				return -1;
			count++;
		} else if (!is_name_char((unsigned char)s[i])) {
			return -1;
		}
	}
	nd->parts = arena_alloc(p->a, count * sizeof *nd->parts);
	nd->nparts = count;
	size_t start = 0, k = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			nd->parts[k++] = arena_strndup(p->a, s + start, i - start);
			start = i + 1;
		}
	}
	return 0;
}

/* Template and partial names: parts of [A-Za-z0-9_-] joined by '/'. */
static bool valid_tmpl_name(const char *s, size_t n)
{
	if (n == 0 || n > 200)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '/') {
			if (i == 0 || i + 1 == n || s[i + 1] == '/')
				return false;
		} else if (!is_name_char((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static struct node *new_node(struct parser *p, enum node_kind kind, unsigned line, const char *s,
			     size_t n)
{
	struct node *nd = arena_zalloc(p->a, sizeof *nd);
	nd->kind = kind;
	nd->line = line;
	nd->s = s;
	nd->n = n;
	*p->tail[p->depth] = nd;
	p->tail[p->depth] = &nd->next;
	return nd;
}

static void emit_text(struct parser *p, size_t from, size_t to)
{
	if (from >= to)
		return;
	for (size_t i = from; i < to; i++)
		html_step(&p->html, (unsigned char)p->src[i]);
	new_node(p, N_TEXT, line_at(p, from), p->src + from, to - from);
}

/* A tag alone on its line, apart from blanks, vanishes with its line. On
 * success sets *ls (start of the blanks before) and *le (after the newline). */
static bool standalone(const struct parser *p, size_t text_from, size_t open, size_t close_end,
		       size_t *ls, size_t *le)
{
	size_t i = open;
	while (i > text_from && (p->src[i - 1] == ' ' || p->src[i - 1] == '\t'))
		i--;
	if (!(i == 0 || p->src[i - 1] == '\n'))
		return false;
	if (i < text_from)
		return false;
	size_t j = close_end;
	while (j < p->len && (p->src[j] == ' ' || p->src[j] == '\t'))
		j++;
	if (j == p->len) {
		/* End of source: standalone only when the line has a start. */
	} else if (p->src[j] == '\n') {
		j++;
	} else if (p->src[j] == '\r' && j + 1 < p->len && p->src[j + 1] == '\n') {
		j += 2;
	} else {
		return false;
	}
	*ls = i;
	*le = j;
	return true;
}

static const char *find2(const char *s, size_t from, size_t len, char c)
{
	for (size_t i = from; i + 1 < len; i++)
		if (s[i] == c && s[i + 1] == c)
			return s + i;
	return NULL;
}

static int parse(struct parser *p, struct node **root)
{
	size_t pos = 0;
	*root = NULL;
	p->depth = 0;
	p->tail[0] = root;
	p->lpos = 0;
	p->lline = 1;
	memset(&p->html, 0, sizeof p->html);

	for (;;) {
		const char *o = find2(p->src, pos, p->len, '{');
		if (!o) {
			emit_text(p, pos, p->len);
			break;
		}
		size_t open = (size_t)(o - p->src);
		unsigned line = line_at(p, open);
		const char *c = find2(p->src, open + 2, p->len, '}');
		if (!c)
			return perr(p, line, "unclosed tag: '{{' without '}}'");
		size_t close = (size_t)(c - p->src);
		size_t cend = close + 2;
		const char *body = p->src + open + 2;
		size_t blen = close - (open + 2);
		char sigil = blen ? body[0] : '\0';

		if (sigil == '{' || sigil == '&')
			return perr(
				p, line,
				"raw output ('{{{' or '{{&') is not supported: every value is escaped");
		if (sigil == '=')
			return perr(p, line, "changing delimiters ('{{=') is not supported");

		bool may_stand = sigil == '#' || sigil == '^' || sigil == '/' || sigil == '>' ||
				 sigil == '!';
		size_t ls, le;
		if (may_stand && standalone(p, pos, open, cend, &ls, &le)) {
			emit_text(p, pos, ls);
			pos = le;
		} else {
			emit_text(p, pos, open);
			pos = cend;
		}
		if (sigil == '!')
			continue;

		/* The name, blanks trimmed. */
		const char *nm = body;
		size_t nn = blen;
		if (may_stand) {
			nm++;
			nn--;
		}
		while (nn && is_space((unsigned char)nm[0])) {
			nm++;
			nn--;
		}
		while (nn && is_space((unsigned char)nm[nn - 1]))
			nn--;
		if (nn == 0)
			return perr(p, line, "empty tag");

		if (sigil == '>') {
			if (!valid_tmpl_name(nm, nn))
				return perr(p, line, "bad partial name '%.*s'",
					    (int)(nn > 64 ? 64 : nn), nm);
			if (p->html.st != H_TEXT)
				return perr(p, line, "a partial must be in text, not inside a tag");
			new_node(p, N_PARTIAL, line, arena_strndup(p->a, nm, nn), nn);
			continue;
		}

		if (sigil == '/') {
			if (p->depth == 0)
				return perr(p, line, "'{{/%.*s}}' closes no section",
					    (int)(nn > 64 ? 64 : nn), nm);
			struct node *sec = p->open[p->depth - 1];
			if (sec->n != nn || memcmp(sec->s, nm, nn) != 0)
				return perr(
					p, line,
					"'{{/%.*s}}' does not match '{{%c%.*s}}' opened on line %u",
					(int)(nn > 64 ? 64 : nn), nm,
					sec->kind == N_SECTION ? '#' : '^',
					(int)(sec->n > 64 ? 64 : sec->n), sec->s, sec->line);
			p->depth--;
			continue;
		}

		enum node_kind kind = sigil == '#' ? N_SECTION : sigil == '^' ? N_INVERTED : N_VAR;
		unsigned flags = 0;
		if (kind == N_VAR) {
			const char *why = html_var_problem(&p->html, &flags);
			if (why)
				return perr(p, line, "'{{%.*s}}': %s", (int)(nn > 64 ? 64 : nn), nm,
					    why);
		} else if (p->depth == TMPL_MAX_NESTING) {
			return perr(p, line, "sections nested deeper than %d", TMPL_MAX_NESTING);
		}
		struct node *nd = new_node(p, kind, line, arena_strndup(p->a, nm, nn), nn);
		nd->flags = flags;
		if (split_name(p, nd, nm, nn) != 0)
			return perr(p, line, "bad name '%.*s'", (int)(nn > 64 ? 64 : nn), nm);
		if (kind != N_VAR) {
			p->open[p->depth++] = nd;
			p->tail[p->depth] = &nd->child;
		}
	}
	if (p->depth > 0) {
		struct node *sec = p->open[p->depth - 1];
		return perr(p, sec->line, "section '%.*s' is never closed",
			    (int)(sec->n > 64 ? 64 : sec->n), sec->s);
	}
	return 0;
}

/* ---- the set ---- */

struct tmpl_set *tmpl_set_new(void)
{
	return xcalloc(1, sizeof(struct tmpl_set));
}

static const struct tmpl *find_tmpl(const struct tmpl_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

int tmpl_exists(const struct tmpl_set *s, const char *name)
{
	return s && name && find_tmpl(s, name) != NULL;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int set_add(struct tmpl_set *s, const char *name, const char *origin, const char *src,
		   size_t len, char *err, size_t errlen)
{
	int rc = -EINVAL;
	struct parser p = {0};
	struct node *root = NULL;

	if (!name || !valid_tmpl_name(name, strlen(name))) {
		set_err(err, errlen, "bad template name");
		return -EINVAL;
	}
	if (find_tmpl(s, name)) {
		set_err(err, errlen, "%s: a template of that name is already loaded", origin);
		return -EEXIST;
	}
	if (len && memchr(src, '\0', len)) {
		set_err(err, errlen, "%s: contains a NUL byte", origin);
		return -EINVAL;
	}
	p.a = arena_new();
	p.origin = origin;
	p.src = arena_strndup(p.a, len ? src : "", len);
	p.len = len;
	p.err = err;
	p.errlen = errlen;
	rc = parse(&p, &root);
	if (rc)
		goto out;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n].name = xstrdup(name);
	s->v[s->n].root = root;
	s->v[s->n].arena = p.a;
	s->n++;
	p.a = NULL;
	rc = 0;
out:
	arena_free(p.a);
	return rc;
}

int tmpl_set_add(struct tmpl_set *s, const char *name, const char *src, size_t len, char *err,
		 size_t errlen)
{
	return set_add(s, name, name ? name : "?", src, len, err, errlen);
}

static int check_nodes(const struct tmpl_set *s, const struct tmpl *t, const struct node *n,
		       char *err, size_t errlen)
{
	for (; n; n = n->next) {
		if (n->kind == N_PARTIAL && !find_tmpl(s, n->s)) {
			set_err(err, errlen, "%s:%u: partial '%s' does not exist", t->name, n->line,
				n->s);
			return -ENOENT;
		}
		int rc = check_nodes(s, t, n->child, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

int tmpl_set_check(const struct tmpl_set *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n; i++) {
		int rc = check_nodes(s, &s->v[i], s->v[i].root, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

struct tmpl_set *tmpl_load_embedded(char *err, size_t errlen)
{
	static const char dir[] = "templates/", ext[] = ".html";
	struct tmpl_set *s = tmpl_set_new();
	size_t nloaded = 0;

	for (const struct asset *a = assets; a->path; a++) {
		size_t pl = strlen(a->path);
		if (pl <= sizeof dir - 1 + sizeof ext - 1 ||
		    strncmp(a->path, dir, sizeof dir - 1) != 0 ||
		    strcmp(a->path + pl - (sizeof ext - 1), ext) != 0)
			continue;
		char name[256];
		size_t nl = pl - (sizeof dir - 1) - (sizeof ext - 1);
		if (nl >= sizeof name) {
			set_err(err, errlen, "%s: name too long", a->path);
			goto fail;
		}
		memcpy(name, a->path + sizeof dir - 1, nl);
		name[nl] = '\0';
		if (set_add(s, name, a->path, (const char *)a->data, a->len, err, errlen) != 0)
			goto fail;
		nloaded++;
	}
	if (nloaded == 0) {
		set_err(err, errlen, "no templates are embedded");
		goto fail;
	}
	if (tmpl_set_check(s, err, errlen) != 0)
		goto fail;
	return s;
fail:
	tmpl_free(s);
	return NULL;
}

struct tmpl_set *tmpl_load_string(const char *name, const char *src, char *err, size_t errlen)
{
	struct tmpl_set *s = tmpl_set_new();
	if (tmpl_set_add(s, name, src, strlen(src), err, errlen) != 0) {
		tmpl_free(s);
		return NULL;
	}
	return s;
}

void tmpl_free(struct tmpl_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		arena_free(s->v[i].arena);
	}
	free(s->v);
	free(s);
}

const char *tmpl_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case -ENOENT:
		return "no template or partial by that name";
	case -ELOOP:
		return "partials nested too deeply";
	case -ERANGE:
		return "template rendering took too many steps";
	case -E2BIG:
		return "rendered page larger than its buffer allows";
	case -EINVAL:
		return "template parse error";
	case -EEXIST:
		return "template already loaded";
	default:
		return "unknown template error";
	}
}

/* ---- escaping ---- */

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0; /* above U+10FFFF */
		return 4;
	}
	return 0;
}

int tmpl_escape(struct buf *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t run = 0; /* start of bytes not yet copied */
	size_t i = 0;
	int rc;

	while (i < n) {
		const char *ent = NULL;
		size_t step = 1;
		switch (s[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		case '`':
			ent = "&#96;";
			break;
		case '=':
			ent = "&#61;";
			break;
		case '\0':
			ent = "\xef\xbf\xbd";
			break;
		default:
			if (s[i] >= 0x80) {
				step = utf8_len(s + i, n - i);
				if (step == 0) {
					ent = "\xef\xbf\xbd";
					step = 1;
				}
			}
		}
		if (!ent) {
			i += step;
			continue;
		}
		if ((rc = buf_append(out, s + run, i - run)) != 0 || (rc = buf_puts(out, ent)) != 0)
			return rc;
		i += step;
		run = i;
	}
	return buf_append(out, s + run, n - run);
}

/* ---- rendering ---- */

struct frame {
	json_t *v;
	const struct frame *up;
};

struct render {
	const struct tmpl_set *set;
	struct buf *out;
	unsigned long steps;
	int pdepth;
};

/* The value a name refers to, or NULL. "x.length" on an array x is its size
 * as a new integer, handed to the caller in *owned (json_decref it). */
static json_t *lookup(const struct frame *f, const struct node *n, json_t **owned)
{
	*owned = NULL;
	if (n->nparts == 0)
		return f->v;
	json_t *v = NULL;
	for (; f && !v; f = f->up)
		if (json_is_object(f->v))
			v = json_object_get(f->v, n->parts[0]);
	for (size_t i = 1; v && i < n->nparts; i++) {
		if (json_is_array(v) && i + 1 == n->nparts && strcmp(n->parts[i], "length") == 0)
			return *owned = json_integer((json_int_t)json_array_size(v));
		v = json_is_object(v) ? json_object_get(v, n->parts[i]) : NULL;
	}
	return v;
}

static bool truthy(const json_t *v)
{
	if (!v)
		return false;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	case JSON_TRUE:
		return true;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0.0;
	default:
		return false;
	}
}

/* Whether a URL attribute may start with s: relative, or an allowed scheme.
 * Browsers drop leading blanks and controls and ignore tabs and newlines
 * inside the scheme, so this does too. */
static bool url_allowed(const char *s, size_t n)
{
	static const char *const ok[] = {"http", "https", "mailto", "tel", NULL};
	char scheme[8];
	size_t k = 0, i = 0;
	bool too_long = false;

	while (i < n && (unsigned char)s[i] <= 0x20)
		i++;
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == ':')
			break;
		if (c == '/' || c == '?' || c == '#')
			return true; /* a path, query or fragment first: no scheme */
		if (k + 1 < sizeof scheme)
			scheme[k++] = (char)lower(c);
		else
			too_long = true;
	}
	if (i == n)
		return true; /* no ':' at all */
	if (too_long)
		return false; /* a long scheme is none we allow */
	scheme[k] = '\0';
	for (size_t j = 0; ok[j]; j++)
		if (strcmp(scheme, ok[j]) == 0)
			return true;
	return false;
}

static int put_real(struct buf *out, double d)
{
	char tmp[40];
	snprintf(tmp, sizeof tmp, "%.15g", d);
	if (strtod(tmp, NULL) != d)
		snprintf(tmp, sizeof tmp, "%.17g", d);
	return buf_puts(out, tmp);
}

static int put_value(struct render *r, const json_t *v, unsigned flags)
{
	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		if ((flags & VAR_URL) && !url_allowed(s, n))
			return buf_puts(r->out, "about:invalid#blocked");
		return tmpl_escape(r->out, s, n);
	}
	case JSON_INTEGER:
		return buf_printf(r->out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return put_real(r->out, json_real_value(v));
	case JSON_TRUE:
		return buf_puts(r->out, "true");
	case JSON_FALSE:
		return buf_puts(r->out, "false");
	default:
		return 0; /* null, objects and arrays print nothing */
	}
}

static int render_nodes(struct render *r, const struct node *n, const struct frame *f);

static int render_section(struct render *r, const struct node *n, const struct frame *f)
{
	json_t *owned;
	json_t *v = lookup(f, n, &owned);
	int rc = 0;
	if (n->kind == N_INVERTED) {
		if (!truthy(v))
			rc = render_nodes(r, n->child, f);
	} else if (!truthy(v)) {
		/* nothing */
	} else if (json_is_array(v)) {
		size_t i;
		json_t *item;
		json_array_foreach (v, i, item) {
			if (++r->steps > TMPL_MAX_STEPS) {
				rc = -ERANGE;
				break;
			}
			struct frame fr = {item, f};
			if ((rc = render_nodes(r, n->child, &fr)) != 0)
				break;
		}
	} else {
		struct frame fr = {v, f};
		rc = render_nodes(r, n->child, &fr);
	}
	json_decref(owned);
	return rc;
}

static int render_nodes(struct render *r, const struct node *n, const struct frame *f)
{
	int rc = 0;
	for (; n && rc == 0; n = n->next) {
		if (++r->steps > TMPL_MAX_STEPS)
			return -ERANGE;
		switch (n->kind) {
		case N_TEXT:
			rc = buf_append(r->out, n->s, n->n);
			break;
		case N_VAR: {
			json_t *owned;
			rc = put_value(r, lookup(f, n, &owned), n->flags);
			json_decref(owned);
			break;
		}
		case N_SECTION:
		case N_INVERTED:
			rc = render_section(r, n, f);
			break;
		case N_PARTIAL: {
			if (r->pdepth >= TMPL_MAX_PARTIAL_DEPTH)
				return -ELOOP;
			const struct tmpl *t = find_tmpl(r->set, n->s);
			if (!t)
				return -ENOENT;
			r->pdepth++;
			rc = render_nodes(r, t->root, f);
			r->pdepth--;
			break;
		}
		}
	}
	return rc;
}

int tmpl_render(const struct tmpl_set *s, const char *name, json_t *ctx, struct buf *out)
{
	const struct tmpl *t = s && name ? find_tmpl(s, name) : NULL;
	if (!t)
		return -ENOENT;
	json_t *empty = NULL;
	if (!ctx)
		ctx = empty = json_object();
	struct render r = {.set = s, .out = out};
	struct frame top = {ctx, NULL};
	int rc = render_nodes(&r, t->root, &top);
	json_decref(empty);
	return rc;
}
