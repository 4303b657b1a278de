/* libFuzzer driver for the template engine: compiles the input as a template
 * and renders it against a fixed context. Besides crashes, hangs and leaks,
 * it checks the one promise that matters: data never reaches the page
 * unescaped. Seeds: the shipped templates in src/web/templates/. */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "web/tmpl.h"

/* Every 'Q' in the context sits inside one of these markers, between
 * spaces, never at the start or end of a string. When the template itself
 * has no 'Q', a marker can only reach the output unescaped if escaping
 * failed: escaped, it reads "Q&lt;Q", "Q&quot;Q" or "Q&#39;Q". */
static const char *const marks[] = {"Q<Q", "Q\"Q", "Q'Q", NULL};

static const char ctx_text[] =
	"{\"name\": \"n Q<Q Q\\\"Q Q'Q & = ` e\","
	" \"num\": 42, \"real\": -1.5, \"t\": true, \"f\": false, \"z\": null,"
	" \"url\": \"javascript:alert( Q<Q )\","
	" \"empty\": \"\", \"zero\": 0, \"none\": [], \"nothing\": {},"
	" \"obj\": {\"name\": \"inner Q<Q x\", \"deep\": {\"x\": \"d Q\\\"Q d\"}},"
	" \"list\": [{\"name\": \"a Q'Q a\"}, {\"name\": \"b\", \"list\": [1, 2]}, \"l Q<Q l\", 3, true],"
	" \"nested\": [[1, [\"m Q<Q m\"]], {\"obj\": {}}]}";

static json_t *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ctx) {
		ctx = json_loads(ctx_text, 0, NULL);
		if (!ctx)
			abort();
	}

	char err[256];
	struct tmpl_set *s = tmpl_set_new();
	/* A partial the input may call, which may call the input back. */
	static const char part[] = "<b>{{name}}</b>{{#list}}{{>t}}{{/list}}";
	if (tmpl_set_add(s, "p", part, sizeof part - 1, err, sizeof err) != 0)
		abort();
	if (tmpl_set_add(s, "t", (const char *)data, size, err, sizeof err) == 0) {
		(void)tmpl_set_check(s, err, sizeof err);
		struct buf out;
		buf_init(&out, 1 << 16);
		int rc = tmpl_render(s, "t", ctx, &out);
		if (rc == 0 || rc == -E2BIG || rc == -ELOOP || rc == -ERANGE || rc == -ENOENT) {
			if (!memchr(data, 'Q', size))
				for (int i = 0; marks[i]; i++)
					if (memmem(buf_cstr(&out), out.len, marks[i],
						   strlen(marks[i])))
						abort();
		} else {
			abort(); /* no other error may come out of a render */
		}
		buf_release(&out);
	}
	tmpl_free(s);
	return 0;
}
