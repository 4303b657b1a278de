/* HTML templates: a Mustache-like language whose output is always escaped.
 * There is no raw-output construct at all, so a handler cannot put markup
 * into a page except through a template file reviewed in the repository.
 *
 * Syntax
 *   {{name}} {{a.b}} {{.}}   a value from the data, HTML-escaped
 *   {{#x}}…{{/x}}            section: non-empty array → once per item;
 *                            non-empty object → once with x pushed; true,
 *                            non-empty string, non-zero number → once (x
 *                            pushed); otherwise (absent, null, false, "", 0,
 *                            [], {}) nothing
 *   {{^x}}…{{/x}}            inverted: once exactly when {{#x}} would render
 *                            nothing
 *   {{>name}}                partial: the template named name
 *                            (templates/<name>.html when loaded from assets)
 *   {{! text }}              comment, may span lines
 * Names are looked up in the innermost context first and then outward; in
 * a dotted name only the first part walks outward, the rest must resolve
 * inside what the first part found. "x.length" is the number of items of
 * an array x: {{#x.length}}<table>{{#x}}<tr>…{{/x}}</table>{{/x.length}}
 * wraps rows in a table only when there are rows (a number pushed on the
 * stack hides no names, unlike pushing an item would). A tag alone on its line (section,
 * inverted, close, partial, comment) takes its line with it, so templates
 * can be indented freely without leaving blank lines in the output.
 *
 * Values: strings are escaped (& < > " ' ` = become entities, invalid UTF-8
 * and NUL become U+FFFD); integers and reals print as numbers; true and
 * false print as "true" and "false"; null, absent, objects and arrays print
 * nothing.
 *
 * Because the engine knows it writes HTML, the compiler follows the markup
 * around each tag and refuses (as a parse error) a value inside a tag but
 * outside a quoted attribute value, inside <script> or <style>, inside an
 * HTML comment, or inside an event-handler (on…), style or srcdoc
 * attribute; partials are only allowed in text. A value that starts a URL
 * attribute (href, src, action, formaction, …) is checked when rendered:
 * a scheme other than http, https, mailto or tel is replaced by
 * "about:invalid#blocked" (javascript: URLs cannot be injected).
 *
 * Limits: sections nest at most TMPL_MAX_NESTING deep in one template,
 * partials at most TMPL_MAX_PARTIAL_DEPTH deep; one render visits at most
 * TMPL_MAX_STEPS nodes (arrays times nesting cannot spin forever); output
 * never grows past the struct buf's maximum.
 *
 * Thread safety: a set is built single-threaded, then any number of
 * threads may render from it at the same time (it is never written again),
 * provided nobody modifies the json_t data during the render. */
#ifndef MADO_TMPL_H
#define MADO_TMPL_H
#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"

#define TMPL_MAX_NESTING 32
#define TMPL_MAX_PARTIAL_DEPTH 16
#define TMPL_MAX_STEPS 2000000

/* A named collection of compiled templates. */
struct tmpl_set;

/* An empty set. Never NULL (aborts on OOM). Free with tmpl_free(). */
struct tmpl_set *tmpl_set_new(void);

/* Compiles src (len bytes; NUL bytes are refused) and adds it to s under
 * name, which may hold [A-Za-z0-9_-] and '/' between such parts. The source
 * is copied. Returns 0; -EINVAL with "name:line: message" in err on a parse
 * error or a bad name; -EEXIST when the name is taken. s is unchanged on
 * error. err may be NULL. */
int tmpl_set_add(struct tmpl_set *s, const char *name, const char *src, size_t len, char *err,
		 size_t errlen);

/* Checks that every partial named in s exists in s. Returns 0, or -ENOENT
 * with "name:line: message" in err for the first one missing. */
int tmpl_set_check(const struct tmpl_set *s, char *err, size_t errlen);

/* Every assets[] entry "templates/<name>.html", compiled and checked.
 * Returns the set, or NULL with a message naming the file and line in err. */
struct tmpl_set *tmpl_load_embedded(char *err, size_t errlen);

/* A new set holding one template compiled from the NUL-terminated src.
 * Partials are not checked (they fail when rendered). NULL on error, with
 * the message in err. For tests and fuzzing. */
struct tmpl_set *tmpl_load_string(const char *name, const char *src, char *err, size_t errlen);

/* True when s holds a template called name. */
int tmpl_exists(const struct tmpl_set *s, const char *name);

/* Renders template name with ctx (any JSON value; NULL means an empty
 * object) as the outermost context, appending to out. Returns 0, or:
 * -ENOENT no template (or partial) by that name, -ELOOP partials nested
 * deeper than TMPL_MAX_PARTIAL_DEPTH, -ERANGE more than TMPL_MAX_STEPS
 * nodes visited, -E2BIG out reached its maximum. On error out holds a
 * partial page: the caller must discard it (buf_reset). ctx is borrowed. */
int tmpl_render(const struct tmpl_set *s, const char *name, json_t *ctx, struct buf *out);

/* A static English description of a tmpl_* error code. */
const char *tmpl_strerror(int rc);

/* Frees the set and everything compiled into it. NULL is a no-op. */
void tmpl_free(struct tmpl_set *s);

/* Appends s (n bytes) HTML-escaped as {{x}} would. Returns 0 or -E2BIG.
 * Exposed for the few places that must escape outside a template (tests). */
int tmpl_escape(struct buf *out, const char *s, size_t n);

#endif
