/* Application start-up and shut-down (see boot.h). */
#include "app/boot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/dispatch.h"
#include "app/keys.h"
#include "app/metrics.h"
#include "app/render.h"
#include "audit/audit.h"
#include "auth/cert.h"
#include "common/log.h"
#include "http/router.h"
#include "jobs/jobs.h"
#include "web/tmpl.h"

static size_t count_steps(const struct db_migration *m)
{
	size_t n = 0;
	while (m && m[n].version)
		n++;
	return n;
}

int app_migrate_module(struct db_conn *c, const struct module *m, char *err, size_t errlen)
{
	if (!m->migrations)
		return 0;
	return db_migrate(c, m->name, m->migrations, count_steps(m->migrations), err, errlen);
}

int app_migrate(struct app *app, char *err, size_t errlen)
{
	struct db_conn *c = db_acquire(app->db);
	int rc = 0;
	for (const struct module *const *m = app_modules; *m && rc == 0; m++)
		rc = app_migrate_module(c, *m, err, errlen);
	db_release(c);
	return rc;
}

static int build_router(struct app *app, char *err, size_t errlen)
{
	app->router = router_new();
	for (const struct module *const *m = app_modules; *m; m++)
		for (const struct route *r = (*m)->routes; r && r->fn; r++)
			if (router_add(app->router, r) != 0) {
				snprintf(err, errlen, "module %s: bad or duplicate route %s",
					 (*m)->name, r->pattern);
				return -1;
			}
	return 0;
}

int app_open(struct app *app, struct config *cfg, unsigned flags, char *err, size_t errlen)
{
	memset(app, 0, sizeof(*app));
	app->cfg = cfg;
	if ((flags & BOOT_CREATE) && mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create data directory %s: %s", cfg->data_dir,
			 strerror(errno));
		return -1;
	}
	char keydir[4096];
	snprintf(keydir, sizeof keydir, "%s/keys", cfg->data_dir);
	app->keys = keys_load(keydir, (flags & BOOT_CREATE) != 0, err, errlen);
	if (!app->keys)
		goto fail;

	char url[4200];
	const char *db_url = cfg->db_url;
	if (!db_url || !*db_url) {
		snprintf(url, sizeof url, "sqlite:%s/madoguchi.db", cfg->data_dir);
		db_url = url;
	}
	/* Never fewer connections than may be held at once, or a request could
	 * wait for one forever: two per HTTP worker (the request's own, and the
	 * one the resident record's functions take beside it), one per job
	 * worker, the job lease keeper, the audit writer and the address index
	 * refresher. */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int need = 2 * (cfg->threads > 0 ? cfg->threads : (int)(cores > 0 ? cores : 1)) +
		   cfg->job_workers + 3;
	app->db = db_open(db_url, cfg->db_pool > need ? cfg->db_pool : need, err, errlen);
	if (!app->db)
		goto fail;
	if ((flags & BOOT_MIGRATE) && app_migrate(app, err, errlen) != 0)
		goto fail;

	if (audit_open(app->db, app->keys->audit_sk, app->keys->audit_key_id,
		       cfg->audit_checkpoint_every, cfg->audit_checkpoint_secs, &app->audit) != 0) {
		snprintf(err, errlen,
			 "cannot start the audit log (were migrations applied? try "
			 "'madoguchi migrate')");
		goto fail;
	}
	if (!(flags & BOOT_SERVE))
		return 0;

	app->tmpl = tmpl_load_embedded(err, errlen);
	if (!app->tmpl)
		goto fail;
	if (build_router(app, err, errlen) != 0)
		goto fail;
	app->metrics = metrics_new();
	if (cfg->trusted_ca && *cfg->trusted_ca) {
		app->certs = cert_store_load(cfg->trusted_ca,
					     cfg->crl && *cfg->crl ? cfg->crl : NULL, err, errlen);
		if (!app->certs)
			goto fail;
	}
	app->jobs = jobs_new(app->db, cfg->job_workers);
	for (const struct module *const *m = app_modules; *m; m++)
		if ((*m)->start && (*m)->start(app) != 0) {
			snprintf(err, errlen, "module %s failed to start", (*m)->name);
			goto fail;
		}
	if (jobs_start(app->jobs) != 0) {
		snprintf(err, errlen, "cannot start the job workers");
		goto fail;
	}
	http_set_html_error(page_error);
	app_dispatch_install();
	return 0;
fail:
	app_close(app);
	return -1;
}

void app_close(struct app *app)
{
	if (app->jobs) {
		jobs_stop(app->jobs);
		jobs_free(app->jobs);
	}
	for (const struct module *const *m = app_modules; *m; m++)
		if ((*m)->stop) /* every app, served or not: modules may hold state per app */
			(*m)->stop(app);
	if (app->audit)
		audit_close(app->audit);
	if (app->certs)
		cert_store_free(app->certs);
	metrics_free(app->metrics);
	if (app->router)
		router_free(app->router);
	if (app->tmpl)
		tmpl_free(app->tmpl);
	if (app->db)
		db_close(app->db);
	keys_free(app->keys);
	memset(app, 0, sizeof(*app));
}
