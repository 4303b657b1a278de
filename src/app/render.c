/* Page rendering with the shared layout keys (see render.h). */
#include "app/render.h"

#include <stdio.h>
#include <string.h>

#include "app/dispatch.h"
#include "app/platform.h"
#include "common/log.h"
#include "http/req_internal.h"
#include "web/tmpl.h"

#define PAGE_MAX (2u << 20)

static json_t *shared_keys(struct req *r, struct res *s)
{
	json_t *k = json_object();
	struct principal *w = &r->who;
	const char *lg = w->kind != PRINCIPAL_NONE ? w->lg_code : NULL;
	const char *name = NULL;
	if (!lg) {
		/* signed out: name the municipality when the deployment hosts one */
		json_t *list = tenant_list(app_db(r));
		if (json_array_size(list) == 1) {
			json_t *m = json_array_get(list, 0);
			json_object_set_new(k, "muni",
					    json_pack("{s:O, s:O}", "name",
						      json_object_get(m, "name"), "lg_code",
						      json_object_get(m, "lg_code")));
		}
		json_decref(list);
		json_object_set_new(k, "csrf", json_string(platform_pre_csrf(r, s)));
	} else {
		name = w->muni_name;
		if (name || tenant_get(app_db(r), r->arena, lg, NULL, &name) == 0)
			json_object_set_new(k, "muni",
					    json_pack("{s:s, s:s}", "name", name, "lg_code", lg));
		json_object_set_new(
			k, "user",
			json_pack("{s:s, s:s, s:s}", "display", w->display, "login", w->login,
				  "kind", w->kind == PRINCIPAL_RESIDENT ? "resident" : "staff"));
		json_object_set_new(k, "csrf", json_string(w->csrf ? w->csrf : ""));
	}
	json_object_set_new(k, "nav",
			    json_pack("{s:b, s:b, s:b}", "is_resident",
				      w->kind == PRINCIPAL_RESIDENT, "is_staff",
				      req_can(r, "staff.console"), "is_admin",
				      req_can(r, "users.admin")));
	return k;
}

void page_render(struct req *r, struct res *s, int status, const char *tmpl, const char *title,
		 const char *here, json_t *ctx)
{
	if (!ctx)
		ctx = json_object();
	json_t *k = shared_keys(r, s);
	/* the handler's keys win over the shared ones */
	json_object_update_missing(ctx, k);
	json_decref(k);
	json_object_set_new(ctx, "title", json_string(title));
	json_object_set_new(ctx, "request_id", json_string(r->request_id));
	if (here)
		json_object_set_new(ctx, "here", json_pack("{s:b}", here, 1));

	struct buf out;
	buf_init(&out, PAGE_MAX);
	int rc = tmpl_render(r->app->tmpl, tmpl, ctx, &out);
	json_decref(ctx);
	if (rc != 0) {
		log_error("rendering %s failed: %d (request %s)", tmpl, rc, r->request_id);
		buf_release(&out);
		s->status = 500;
		res_text(r, s, 500, "text/plain; charset=utf-8", "システムでエラーが発生しました。",
			 strlen("システムでエラーが発生しました。"));
		return;
	}
	res_text(r, s, status, "text/html; charset=utf-8", buf_cstr(&out), out.len);
	buf_release(&out);
}

void page_error(struct req *r, struct res *s, int status, const char *title, const char *detail)
{
	char key[8];
	int known[] = {400, 403, 404, 405, 413, 429, 500, 503};
	int pick = status >= 500 ? 500 : 400;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (known[i] == status)
			pick = status;
	snprintf(key, sizeof key, "%d", pick);
	json_t *ctx = json_pack("{s:i, s:{s:b}}", "status", status, "is", key, 1);
	if (detail)
		json_object_set_new(ctx, "detail", json_string(detail));
	page_render(r, s, status, "error", title, NULL, ctx);
}
