/* Roles and permissions: the one place that says who may do what.
 * A role belongs to an account within its municipality; a route names the
 * permission it needs and dispatch.c checks it before any handler runs. */
#ifndef MADO_ROLES_H
#define MADO_ROLES_H
#include <stdbool.h>

struct role_def {
	const char *name;         /* "shimin_clerk" */
	const char *label;        /* "市民課 職員" */
	const char *kind;         /* account kind it applies to: "resident" or "staff" */
	const char *const *perms; /* NULL-terminated */
};

/* NULL-terminated table of every role. */
extern const struct role_def role_defs[];

const struct role_def *role_find(const char *name);
/* True when perm is granted by any of the NULL-terminated roles. */
bool roles_grant(const char *const *roles, const char *perm);

#endif
