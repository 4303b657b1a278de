/* The application context shared by every module, and how a module plugs in.
 *
 * A module is a folder with one header exposing `extern const struct module
 * <name>_module;`: its migrations, its routes, and optional start/stop hooks.
 * Registering it is one line in app/modules.c. */
#ifndef MADO_APP_H
#define MADO_APP_H
#include <stddef.h>

#include "app/config.h"
#include "db/db.h"
#include "http/http.h"

struct audit;
struct jobs;
struct metrics;
struct router;
struct keys;
struct tmpl_set;
struct cert_store;

struct app {
	struct config *cfg;
	struct db *db;
	struct audit *audit;
	struct jobs *jobs;
	struct metrics *metrics;
	struct router *router;
	struct keys *keys;
	struct tmpl_set *tmpl;
	struct cert_store *certs; /* trusted CAs for certificate log-in, or NULL */
};

struct module {
	const char *name;
	/* schema steps, ended by an entry with version 0 (NULL: none) */
	const struct db_migration *migrations;
	/* routes, ended by an entry with fn NULL (NULL: none) */
	const struct route *routes;
	/* start: called when the server starts (BOOT_SERVE), after migrations.
	 * stop: called by app_close for every app, served or not, so it must
	 * cope with start never having run. */
	int (*start)(struct app *app);
	void (*stop)(struct app *app);
};

/* NULL-terminated list of registered modules, platform first. */
extern const struct module *const app_modules[];

#endif
