/* Configuration: built-in defaults, then a file, then MADOGUCHI_* environment
 * variables, then command-line flags — each later source overrides the earlier.
 * Every option has one entry in the table in config.c, which also produces
 * the --help text, so documentation and parser cannot drift apart. */
#ifndef MADO_CONFIG_H
#define MADO_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cidr_list;

struct config {
	char *listen;      /* "127.0.0.1" */
	int port;          /* 8080 */
	char *data_dir;    /* "./var" */
	char *db_url;      /* default: sqlite:<data_dir>/madoguchi.db */
	int threads;       /* HTTP worker threads; 0 = number of cores */
	int db_pool;       /* connections in the pool */
	size_t max_body;   /* bytes; larger → 413 */
	size_t max_header; /* bytes of request line + headers */
	int max_conns;     /* simultaneous connections */
	int max_conns_per_ip;
	int idle_timeout;    /* seconds without bytes before a connection is closed */
	int request_timeout; /* seconds to receive a whole request (slowloris) */
	int shutdown_grace;  /* seconds SIGTERM waits for in-flight requests */
	char *tls_cert;      /* PEM files; both set → HTTPS */
	char *tls_key;
	int session_idle;           /* seconds */
	int session_absolute;       /* seconds */
	int login_max_failures;     /* before temporary lock-out */
	int login_lockout;          /* seconds */
	int login_ip_max_failures;  /* per client address and 15 minutes; 0: no limit */
	int audit_checkpoint_every; /* entries */
	int audit_checkpoint_secs;
	int job_workers;
	char *trusted_ca; /* PEM bundle of CAs for certificate log-in */
	char *crl;        /* PEM CRL file for certificate log-in, optional */
	char *log_level;  /* debug, info, warn, error */
	bool access_log;
	/* Behind a reverse proxy (see docs/internals/http-server.md): peers in
	 * trusted_proxy may say who the client is (X-Forwarded-For) and which
	 * scheme it used (X-Forwarded-Proto). NULL: none, the headers are ignored. */
	struct cidr_list *trusted_proxy;
	/* /metrics answers loopback clients, clients in metrics_allow, and any
	 * client that sends "Authorization: Bearer <metrics_token>"; others 404. */
	struct cidr_list *metrics_allow;
	char *metrics_token;
};

/* Fills cfg with defaults. */
void config_defaults(struct config *cfg);
/* Reads "key = value" lines ('#' comments, blank lines). Keys are the long
 * flag names without "--". Returns 0, or -1 with "file:line: message" in err. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);
/* Parses a config text already in memory (used by the file loader and the fuzzer). */
int config_load_text(struct config *cfg, const char *text, size_t len, const char *origin,
		     char *err, size_t errlen);
/* MADOGUCHI_PORT=… etc. (name upper-cased, '-' → '_'). */
int config_load_env(struct config *cfg, char *err, size_t errlen);
/* Sets one option by its flag name from a string value, validating it. */
int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen);
/* Parses argv flags "--key=value" / "--key value" / "--flag" for booleans,
 * starting at argv[start]. A "--config FILE" flag is loaded first, before env.
 * A non-flag argument is an error. Returns 0, -1 with a message in err, or
 * CONFIG_HELP when --help or -h is among the arguments (nothing is loaded
 * then: print config_usage()). */
enum { CONFIG_HELP = 1 };
int config_from_args(struct config *cfg, int argc, char **argv, int start, char *err,
		     size_t errlen);
/* Writes the option table as --help text. */
void config_usage(FILE *out);
void config_release(struct config *cfg);

#endif
