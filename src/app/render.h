/* Rendering pages: every HTML handler builds a JSON context and calls
 * page_render, which adds the keys every page shares (municipality, user,
 * CSRF token, menu flags) and renders through the autoescaping engine. */
#ifndef MADO_RENDER_H
#define MADO_RENDER_H
#include <jansson.h>

#include "app/app.h"

/* Renders templates/<tmpl>.html with ctx (stolen) plus the shared keys;
 * here names the menu entry to mark as current (or NULL). */
void page_render(struct req *r, struct res *s, int status, const char *tmpl, const char *title,
		 const char *here, json_t *ctx);
/* The friendly Japanese error page (installed as the HTML error hook). */
void page_error(struct req *r, struct res *s, int status, const char *title, const char *detail);

#endif
