/* The registered modules, platform first. Adding a module is one line here. */
#include "address/address.h"
#include "app/app.h"
#include "app/pages.h"
#include "app/platform.h"
#include "audit/audit.h"
#include "jobs/jobs.h"
#include "registry/corp.h"
#include "registry/registry.h"
#include "resident/resident.h"

static const struct module platform_module = {
	.name = "platform",
	.migrations = platform_migrations,
	.routes = page_routes,
};
static const struct module api_module = {.name = "api", .routes = api_routes};
static const struct module certlogin_module = {.name = "certlogin", .routes = cert_routes};
static const struct module mfa_pages_module = {.name = "mfa_pages", .routes = mfa_routes};
static const struct module audit_module = {.name = "audit", .migrations = audit_migrations};
static const struct module jobs_module = {.name = "jobs", .migrations = jobs_migrations};

const struct module *const app_modules[] = {
	&platform_module,
	&audit_module,
	&jobs_module,
	&api_module,
	&certlogin_module,
	&mfa_pages_module,
	&registry_module,
	&corp_module,
	&resident_module,
	&address_module,
	NULL,
};
