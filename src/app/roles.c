/* The role table (see roles.h). Departments appear in role names
 * ("shimin" = 市民課) so a later department is one more row here. */
#include "app/roles.h"

#include <string.h>

static const char *const p_resident[] = {"self.read", "self.write", NULL};
/* resident.read / resident.write: the resident record (住民記録), see
 * docs/internals/resident.md; not given to sysadmin on purpose. */
static const char *const p_clerk[] = {"staff.console", "accounts.read", "resident.read",
				      "resident.write", NULL};
static const char *const p_supervisor[] = {"staff.console", "accounts.read",  "accounts.write",
					   "resident.read", "resident.write", NULL};
static const char *const p_sysadmin[] = {"staff.console",
					 "accounts.read",
					 "accounts.write",
					 "users.admin",
					 "jobs.admin",
					 "audit.verify",
					 NULL};

const struct role_def role_defs[] = {
	{"resident", "住民", "resident", p_resident},
	{"shimin_clerk", "市民課 職員", "staff", p_clerk},
	{"shimin_supervisor", "市民課 係長", "staff", p_supervisor},
	{"sysadmin", "システム管理者", "staff", p_sysadmin},
	{NULL, NULL, NULL, NULL},
};

const struct role_def *role_find(const char *name)
{
	for (const struct role_def *r = role_defs; r->name; r++)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

bool roles_grant(const char *const *roles, const char *perm)
{
	for (; roles && *roles; roles++) {
		const struct role_def *r = role_find(*roles);
		if (!r)
			continue;
		for (const char *const *p = r->perms; *p; p++)
			if (strcmp(*p, perm) == 0)
				return true;
	}
	return false;
}
