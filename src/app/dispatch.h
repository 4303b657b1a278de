/* Middleware and handler dispatch (see dispatch.c), plus the helpers handlers
 * use for the request-scoped database connection and permission checks. */
#ifndef MADO_DISPATCH_H
#define MADO_DISPATCH_H
#include <stdbool.h>

#include "app/app.h"

/* The server's dispatch and finished callbacks (server_opts). */
void app_dispatch(struct req *r, struct res *s);
void app_finished(struct req *r, struct res *s, long dur_us);
/* Installs the request clean-up hook that returns db connections. */
void app_dispatch_install(void);

/* The request's database connection, acquired on first use and released when
 * the request ends. Never NULL. */
struct db_conn *app_db(struct req *r);
/* The route parameter name as a positive decimal id; false when it is not
 * one (callers answer 404, as for an id that does not exist). */
bool req_param_id(struct req *r, const char *name, int64_t *out);
/* True when the signed-in principal holds perm (perm NULL: anyone signed in). */
bool req_can(const struct req *r, const char *perm);

#endif
