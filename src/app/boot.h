/* Bringing the application up and down: database, keys, migrations, the
 * audit writer, the job workers, templates and routes, in that order. The
 * CLI commands and the server share it so they see the same state. */
#ifndef MADO_BOOT_H
#define MADO_BOOT_H
#include "app/app.h"

enum {
	BOOT_CREATE = 1 << 0,  /* create the data directory and keys when missing */
	BOOT_MIGRATE = 1 << 1, /* apply pending migrations */
	BOOT_SERVE = 1 << 2,   /* also templates, routes, metrics, job workers */
};

/* Fills app from cfg. Returns 0, or -1 with a message in err (app is then
 * already closed). */
int app_open(struct app *app, struct config *cfg, unsigned flags, char *err, size_t errlen);
void app_close(struct app *app);
/* Applies every module's pending migrations. */
int app_migrate(struct app *app, char *err, size_t errlen);
/* Applies one module's pending migrations (its steps end with version 0). */
int app_migrate_module(struct db_conn *c, const struct module *m, char *err, size_t errlen);

#endif
