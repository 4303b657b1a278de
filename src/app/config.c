/* Configuration (see config.h): one table of options drives defaults, the
 * file parser, the environment, the flags and --help. Values are parsed
 * strictly — whole-string integers with range checks, sizes with k/M/G
 * suffixes, booleans from a fixed word list — and every error names its
 * source ("madoguchi.conf:12: …", "MADOGUCHI_PORT: …", "--port: …"). */
#include "common/errf.h"
#include "app/config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cidr.h"
#include "common/utf8.h"
#include "common/xalloc.h"

#define CONFIG_MAX_FILE (1024 * 1024)
#define CONFIG_MAX_LINE 4096
#define CONFIG_MAX_VALUE 4096
#define CONFIG_ENV_PREFIX "MADOGUCHI_"

/* OPT_CIDRS: a comma-separated list of networks, kept parsed as a malloc'ed
 * struct cidr_list (NULL when unset). */
enum opt_type { OPT_INT, OPT_SIZE, OPT_STR, OPT_BOOL, OPT_CIDRS };

/* An empty string value means "not set" (NULL) instead of an error. */
#define OPT_OPTIONAL 1u
/* A secret: messages never repeat the value. */
#define OPT_SECRET 2u

struct opt {
	const char *name; /* flag name without "--"; also the file key */
	enum opt_type type;
	size_t off;      /* of the field in struct config */
	const char *def; /* default, as text parsed by the same code (NULL: none) */
	long long min, max;
	unsigned flags;
	const char *(*check)(const char *v); /* extra check for strings: NULL or why not */
	const char *meta;                    /* placeholder in --help */
	const char *help;
};

static const char *check_addr(const char *v)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, v, a) == 1 || inet_pton(AF_INET6, v, a) == 1)
		return NULL;
	return "must be an IPv4 or IPv6 address";
}

static const char *check_db(const char *v)
{
	if (strncmp(v, "sqlite:", 7) == 0 && v[7])
		return NULL;
	if (strncmp(v, "postgres://", 11) == 0 || strncmp(v, "postgresql://", 13) == 0)
		return NULL;
	return "must be sqlite:PATH or postgres://…";
}

static const char *check_level(const char *v)
{
	static const char *const levels[] = {"debug", "info", "warn", "error"};
	for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
		if (strcmp(v, levels[i]) == 0)
			return NULL;
	return "must be one of debug, info, warn, error";
}

/* A bearer token as RFC 6750 allows it (b64token), long enough not to be
 * guessed: it is the only thing between the metrics and the network. */
static const char *check_token(const char *v)
{
	size_t n = strlen(v);
	if (n < 16 || n > 256)
		return "must be 16 to 256 characters long";
	size_t i = 0;
	while (i < n && (strchr("-._~+/", v[i]) || (v[i] >= '0' && v[i] <= '9') ||
			 (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z')))
		i++;
	while (i < n && v[i] == '=')
		i++;
	if (i != n)
		return "may hold only letters, digits and - . _ ~ + / (then = padding)";
	return NULL;
}

#define OFF(f) offsetof(struct config, f)
#define DAY 86400LL

static const struct opt opts[] = {
	{"listen", OPT_STR, OFF(listen), "127.0.0.1", 0, 0, 0, check_addr, "ADDR",
	 "IP address to listen on"},
	{"port", OPT_INT, OFF(port), "8080", 0, 65535, 0, NULL, "N",
	 "TCP port to listen on (0 picks a free port)"},
	{"data-dir", OPT_STR, OFF(data_dir), "./var", 0, 0, 0, NULL, "DIR",
	 "directory for the SQLite database, keys and uploads"},
	{"db", OPT_STR, OFF(db_url), NULL, 0, 0, 0, check_db, "URL",
	 "database: sqlite:PATH or postgres://user@host/db (default: sqlite:DATA-DIR/madoguchi.db)"},
	{"threads", OPT_INT, OFF(threads), "0", 0, 1024, 0, NULL, "N",
	 "HTTP worker threads; 0 means one per CPU core"},
	{"db-pool", OPT_INT, OFF(db_pool), "8", 1, 1024, 0, NULL, "N",
	 "database connections in the pool"},
	{"max-body", OPT_SIZE, OFF(max_body), "1M", 1024, 1LL << 30, 0, NULL, "SIZE",
	 "largest request body; larger gets 413"},
	{"max-header", OPT_SIZE, OFF(max_header), "16k", 1024, 1LL << 20, 0, NULL, "SIZE",
	 "largest request line plus headers"},
	{"max-conns", OPT_INT, OFF(max_conns), "1024", 1, 1000000, 0, NULL, "N",
	 "simultaneous connections"},
	{"max-conns-per-ip", OPT_INT, OFF(max_conns_per_ip), "64", 0, 1000000, 0, NULL, "N",
	 "simultaneous connections from one address; 0 means no per-address limit"},
	{"idle-timeout", OPT_INT, OFF(idle_timeout), "30", 1, 3600, 0, NULL, "SECS",
	 "seconds without a byte before a connection is closed"},
	{"request-timeout", OPT_INT, OFF(request_timeout), "15", 1, 3600, 0, NULL, "SECS",
	 "seconds to receive a whole request (cuts off slowloris)"},
	{"shutdown-grace", OPT_INT, OFF(shutdown_grace), "10", 0, 3600, 0, NULL, "SECS",
	 "seconds SIGTERM waits for requests in flight"},
	{"tls-cert", OPT_STR, OFF(tls_cert), NULL, 0, 0, OPT_OPTIONAL, NULL, "FILE",
	 "PEM certificate chain; with --tls-key, serve HTTPS"},
	{"tls-key", OPT_STR, OFF(tls_key), NULL, 0, 0, OPT_OPTIONAL, NULL, "FILE",
	 "PEM private key for --tls-cert"},
	{"session-idle", OPT_INT, OFF(session_idle), "1800", 60, 7 * DAY, 0, NULL, "SECS",
	 "seconds of inactivity after which a session ends"},
	{"session-absolute", OPT_INT, OFF(session_absolute), "43200", 60, 30 * DAY, 0, NULL, "SECS",
	 "seconds after log-in at which a session ends regardless"},
	{"login-max-failures", OPT_INT, OFF(login_max_failures), "5", 1, 1000, 0, NULL, "N",
	 "failed log-ins in a row before a temporary lock-out"},
	{"login-lockout", OPT_INT, OFF(login_lockout), "900", 1, DAY, 0, NULL, "SECS",
	 "seconds a locked-out account waits"},
	{"login-ip-max-failures", OPT_INT, OFF(login_ip_max_failures), "30", 0, 1000000, 0, NULL,
	 "N",
	 "failed log-ins from one client address per 15 minutes before it is refused (0: no "
	 "limit; behind a reverse proxy, set --trusted-proxy or every client shares its "
	 "address)"},
	{"audit-checkpoint-every", OPT_INT, OFF(audit_checkpoint_every), "1000", 1, 10000000, 0,
	 NULL, "N", "audit entries between signed checkpoints"},
	{"audit-checkpoint-secs", OPT_INT, OFF(audit_checkpoint_secs), "60", 1, DAY, 0, NULL,
	 "SECS", "longest time between signed audit checkpoints"},
	{"job-workers", OPT_INT, OFF(job_workers), "2", 0, 256, 0, NULL, "N",
	 "background job worker threads; 0 runs no jobs"},
	{"trusted-ca", OPT_STR, OFF(trusted_ca), NULL, 0, 0, OPT_OPTIONAL, NULL, "FILE",
	 "PEM bundle of CAs trusted for certificate log-in"},
	{"crl", OPT_STR, OFF(crl), NULL, 0, 0, OPT_OPTIONAL, NULL, "FILE",
	 "PEM certificate revocation list for certificate log-in"},
	{"log-level", OPT_STR, OFF(log_level), "info", 0, 0, 0, check_level, "LEVEL",
	 "diagnostic log level: debug, info, warn or error"},
	{"access-log", OPT_BOOL, OFF(access_log), "true", 0, 0, 0, NULL, NULL,
	 "write one JSON line per request to stderr"},
	{"trusted-proxy", OPT_CIDRS, OFF(trusted_proxy), NULL, 0, 0, OPT_OPTIONAL, NULL,
	 "CIDR[,CIDR...]",
	 "reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (the client "
	 "address is the rightmost one not in these networks); others' are ignored"},
	{"metrics-allow", OPT_CIDRS, OFF(metrics_allow), NULL, 0, 0, OPT_OPTIONAL, NULL,
	 "CIDR[,CIDR...]",
	 "client networks besides loopback that may read /metrics (others get 404)"},
	{"metrics-token", OPT_STR, OFF(metrics_token), NULL, 0, 0, OPT_OPTIONAL | OPT_SECRET,
	 check_token, "TOKEN",
	 "a client sending 'Authorization: Bearer TOKEN' may read /metrics from any address "
	 "(prefer the file or MADOGUCHI_METRICS_TOKEN: flags show in ps)"},
};

#define NOPTS (sizeof opts / sizeof *opts)
_Static_assert(NOPTS <= 64, "the file loader tracks options in a 64-bit set");

static const struct opt *opt_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static bool digits(const char *s)
{
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	return true;
}

/* A whole-string decimal integer: optional '-', digits, nothing else. */
static int parse_int(const char *s, long long *out)
{
	const char *p = s[0] == '-' ? s + 1 : s;
	if (!digits(p))
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Digits with an optional k, M or G suffix (powers of 1024). */
static int parse_size(const char *s, long long *out)
{
	if (!digits(s))
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (*end && end[1] != '\0')
		return -1;
	if (v > (unsigned long long)LLONG_MAX >> shift)
		return -1;
	*out = (long long)(v << shift);
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static char *derived_db(const char *data_dir)
{
	size_t n = strlen(data_dir) + sizeof "sqlite:/madoguchi.db";
	char *s = xmalloc(n);
	snprintf(s, n, "sqlite:%s/madoguchi.db", data_dir);
	return s;
}

/* Validates value for o and stores it. Messages are "'value' is not …". */
static int opt_set(struct config *cfg, const struct opt *o, const char *value, char *err,
		   size_t errlen)
{
	char *field = (char *)cfg + o->off;
	size_t vlen = strlen(value);
	long long v = 0;
	bool b;

	if (vlen > CONFIG_MAX_VALUE)
		return errf(err, errlen, "value longer than %d bytes", CONFIG_MAX_VALUE);
	if (!utf8_clean_line(value, vlen))
		return errf(err, errlen, "value is not valid UTF-8 text on one line");

	switch (o->type) {
	case OPT_INT:
	case OPT_SIZE:
		if ((o->type == OPT_INT ? parse_int(value, &v) : parse_size(value, &v)) < 0) {
			return errf(err, errlen, "'%s' is not %s", value,
				    o->type == OPT_INT ? "an integer" : "a size (like 512k or 8M)");
		}
		if (v < o->min || v > o->max)
			return errf(err, errlen, "%s is out of range %lld..%lld", value, o->min,
				    o->max);
		if (o->type == OPT_INT)
			*(int *)(void *)field = (int)v;
		else
			*(size_t *)(void *)field = (size_t)v;
		return 0;
	case OPT_BOOL:
		if (parse_bool(value, &b) < 0)
			return errf(err, errlen, "'%s' is not true or false", value);
		*(bool *)(void *)field = b;
		return 0;
	case OPT_CIDRS: {
		struct cidr_list **lp = (struct cidr_list **)(void *)field, *l = NULL;
		if (vlen) {
			char why[192];
			l = xmalloc(sizeof(*l));
			if (cidr_list_parse(value, l, why, sizeof why) < 0) {
				free(l);
				return errf(err, errlen, "%s", why);
			}
		}
		free(*lp);
		*lp = l;
		return 0;
	}
	case OPT_STR:
		break;
	}

	char **sp = (char **)(void *)field;
	if (vlen == 0 && !(o->flags & OPT_OPTIONAL))
		return errf(err, errlen, "must not be empty");
	const char *why = vlen && o->check ? o->check(value) : NULL;
	if (why && (o->flags & OPT_SECRET))
		return errf(err, errlen, "the value %s", why);
	if (why)
		return errf(err, errlen, "'%s' %s", value, why);
	if (o->off == OFF(data_dir) && cfg->data_dir && cfg->db_url) {
		/* the default database lives in the data directory: keep it there */
		char *old = derived_db(cfg->data_dir);
		if (strcmp(old, cfg->db_url) == 0) {
			free(cfg->db_url);
			cfg->db_url = derived_db(value);
		}
		free(old);
	}
	free(*sp);
	*sp = vlen ? xstrdup(value) : NULL;
	return 0;
}

void config_defaults(struct config *cfg)
{
	char err[128];
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NOPTS; i++) {
		if (!opts[i].def)
			continue;
		int rc = opt_set(cfg, &opts[i], opts[i].def, err, sizeof err);
		(void)rc;
		assert(rc == 0 && "every default in the table parses");
	}
	cfg->db_url = derived_db(cfg->data_dir);
}

int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	const struct opt *o = opt_find(key, strlen(key));
	char msg[256];
	if (!o)
		return errf(err, errlen, "unknown option '%s'", key);
	if (opt_set(cfg, o, value, msg, sizeof msg) < 0)
		return errf(err, errlen, "%s: %s", key, msg);
	return 0;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

int config_load_text(struct config *cfg, const char *text, size_t len, const char *origin,
		     char *err, size_t errlen)
{
	char line[CONFIG_MAX_LINE + 1];
	char msg[256];
	uint64_t seen = 0;
	unsigned long lineno = 0;
	size_t pos = 0;

	if (!origin)
		origin = "config";
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	if (memchr(text, '\0', len))
		return errf(err, errlen, "%s: NUL byte in file", origin);

	while (pos < len) {
		lineno++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > CONFIG_MAX_LINE)
			return errf(err, errlen, "%s:%lu: line longer than %d bytes", origin,
				    lineno, CONFIG_MAX_LINE);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';

		char *p = line, *e = line + n;
		while (p < e && is_ws(*p))
			p++;
		if (p == e || *p == '#')
			continue;
		char *eq = memchr(p, '=', (size_t)(e - p));
		if (!eq)
			return errf(err, errlen, "%s:%lu: expected 'name = value'", origin, lineno);
		char *k = p, *ke = eq;
		while (ke > k && is_ws(ke[-1]))
			ke--;
		char *v = eq + 1;
		while (v < e && is_ws(*v))
			v++;
		while (e > v && is_ws(e[-1]))
			e--;
		if (e - v >= 2 && *v == '"' && e[-1] == '"') {
			v++; /* "…" keeps spaces at either end; no escapes inside */
			e--;
		}
		*e = '\0';
		*ke = '\0';

		const struct opt *o = opt_find(k, (size_t)(ke - k));
		if (!o) {
			if (strcmp(k, "config") == 0)
				return errf(err, errlen,
					    "%s:%lu: a config file cannot name another", origin,
					    lineno);
			return errf(err, errlen, "%s:%lu: unknown option '%s'", origin, lineno, k);
		}
		uint64_t bit = (uint64_t)1 << (o - opts);
		if (seen & bit)
			return errf(err, errlen, "%s:%lu: '%s' is set twice", origin, lineno, k);
		seen |= bit;
		if (opt_set(cfg, o, v, msg, sizeof msg) < 0)
			return errf(err, errlen, "%s:%lu: %s: %s", origin, lineno, k, msg);
	}
	return 0;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	int rc = -1;

	if (!f)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	text = xmalloc(CONFIG_MAX_FILE + 1);
	size_t n = fread(text, 1, CONFIG_MAX_FILE + 1, f);
	if (ferror(f)) {
		errf(err, errlen, "%s: read error", path);
		goto out;
	}
	if (n > CONFIG_MAX_FILE) {
		errf(err, errlen, "%s: larger than %d bytes", path, CONFIG_MAX_FILE);
		goto out;
	}
	rc = config_load_text(cfg, text, n, path, err, errlen);
out:
	free(text);
	fclose(f);
	return rc;
}

/* "MADOGUCHI_" + name upper-cased with '-' as '_'. */
static void env_name(const struct opt *o, char *out, size_t cap)
{
	size_t n = strlen(CONFIG_ENV_PREFIX);
	memcpy(out, CONFIG_ENV_PREFIX, n);
	for (const char *s = o->name; *s && n + 1 < cap; s++)
		out[n++] = *s == '-' ? '_' : (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s);
	out[n] = '\0';
}

int config_load_env(struct config *cfg, char *err, size_t errlen)
{
	char name[64], msg[256];
	for (size_t i = 0; i < NOPTS; i++) {
		env_name(&opts[i], name, sizeof name);
		const char *v = getenv(name);
		if (!v)
			continue;
		if (opt_set(cfg, &opts[i], v, msg, sizeof msg) < 0)
			return errf(err, errlen, "%s: %s", name, msg);
	}
	return 0;
}

/* Splits "--name=value" / "--name". */
static bool flag_split(const char *arg, const char **name, size_t *nlen, const char **value)
{
	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0' || arg[2] == '=')
		return false;
	*name = arg + 2;
	const char *eq = strchr(*name, '=');
	*nlen = eq ? (size_t)(eq - *name) : strlen(*name);
	*value = eq ? eq + 1 : NULL;
	return true;
}

static int cross_check(const struct config *cfg, char *err, size_t errlen)
{
	if (!cfg->tls_cert != !cfg->tls_key)
		return errf(err, errlen, "--tls-cert and --tls-key must be given together");
	if (cfg->session_idle > cfg->session_absolute)
		return errf(err, errlen, "--session-idle must not exceed --session-absolute");
	return 0;
}

struct flagval {
	const struct opt *o;
	const char *value;
};

int config_from_args(struct config *cfg, int argc, char **argv, int start, char *err, size_t errlen)
{
	const char *file = NULL, *name, *value;
	struct flagval *fv = NULL;
	size_t nfv = 0, nlen;
	char msg[256];
	int rc = -1;

	for (int i = start; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return CONFIG_HELP;

	/* parse every flag first; apply them only after the file and env */
	if (argc > start)
		fv = xcalloc((size_t)(argc - start), sizeof(*fv));
	for (int i = start; i < argc; i++) {
		if (!flag_split(argv[i], &name, &nlen, &value)) {
			errf(err, errlen, "unexpected argument '%s'", argv[i]);
			goto out;
		}
		const struct opt *o = opt_find(name, nlen);
		bool is_config = nlen == 6 && memcmp(name, "config", 6) == 0;
		if (!o && !is_config && !value && nlen > 3 && memcmp(name, "no-", 3) == 0) {
			o = opt_find(name + 3, nlen - 3);
			if (o && o->type == OPT_BOOL) {
				fv[nfv++] = (struct flagval){o, "false"};
				continue;
			}
			o = NULL;
		}
		if (!o && !is_config) {
			errf(err, errlen, "unknown option '--%.*s'", (int)nlen, name);
			goto out;
		}
		if (!value && o && o->type == OPT_BOOL) {
			value = "true";
		} else if (!value) {
			if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
				errf(err, errlen, "--%.*s needs a value", (int)nlen, name);
				goto out;
			}
			value = argv[++i];
		}
		if (is_config) {
			if (file) {
				errf(err, errlen, "--config given twice");
				goto out;
			}
			if (!*value) {
				errf(err, errlen, "--config needs a file");
				goto out;
			}
			file = value;
			continue;
		}
		fv[nfv++] = (struct flagval){o, value};
	}

	if (!file) {
		const char *ef = getenv(CONFIG_ENV_PREFIX "CONFIG");
		if (ef && *ef)
			file = ef;
	}
	if (file && config_load_file(cfg, file, err, errlen) < 0)
		goto out;
	if (config_load_env(cfg, err, errlen) < 0)
		goto out;
	for (size_t k = 0; k < nfv; k++) {
		if (opt_set(cfg, fv[k].o, fv[k].value, msg, sizeof msg) < 0) {
			errf(err, errlen, "--%s: %s", fv[k].o->name, msg);
			goto out;
		}
	}
	rc = cross_check(cfg, err, errlen);
out:
	free(fv);
	return rc;
}

/* A size default or bound as people write it: 1048576 → "1M". */
static void fmt_size(char *out, size_t cap, long long v)
{
	if (v >= (1LL << 30) && v % (1LL << 30) == 0)
		snprintf(out, cap, "%lldG", v >> 30);
	else if (v >= (1LL << 20) && v % (1LL << 20) == 0)
		snprintf(out, cap, "%lldM", v >> 20);
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(out, cap, "%lldk", v >> 10);
	else
		snprintf(out, cap, "%lld", v);
}

void config_usage(FILE *out)
{
	char env[64], lo[32], hi[32];
	fprintf(out, "Options. Each is also a MADOGUCHI_NAME environment variable and a\n"
		     "'name = value' line in the file named by --config FILE (or\n"
		     "MADOGUCHI_CONFIG). Flags override the environment, which overrides\n"
		     "the file, which overrides the defaults. Sizes take a k, M or G suffix.\n\n");
	fprintf(out, "  --config FILE\n      read options from FILE first\n");
	fprintf(out, "  --help\n      show this text\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		env_name(o, env, sizeof env);
		if (o->type == OPT_BOOL)
			fprintf(out, "  --[no-]%s\n", o->name);
		else
			fprintf(out, "  --%s=%s\n", o->name, o->meta);
		fprintf(out, "      %s\n      [", o->help);
		if (o->def)
			fprintf(out, "default: %s; ", o->def);
		else if (o->flags & OPT_OPTIONAL)
			fprintf(out, "default: none; ");
		if (o->type == OPT_SIZE) {
			fmt_size(lo, sizeof lo, o->min);
			fmt_size(hi, sizeof hi, o->max);
			fprintf(out, "range %s..%s; ", lo, hi);
		} else if (o->type == OPT_INT) {
			fprintf(out, "range %lld..%lld; ", o->min, o->max);
		}
		fprintf(out, "env %s]\n", env);
	}
}

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < NOPTS; i++) {
		char *field = (char *)cfg + opts[i].off;
		if (opts[i].type == OPT_STR) {
			char **sp = (char **)(void *)field;
			free(*sp);
			*sp = NULL;
		} else if (opts[i].type == OPT_CIDRS) {
			struct cidr_list **lp = (struct cidr_list **)(void *)field;
			free(*lp);
			*lp = NULL;
		}
	}
}
