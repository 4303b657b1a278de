/* madoguchi's command line: wiring only. Each command opens the application
 * (app/boot.c) with what it needs and calls into the modules. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app/boot.h"
#include "app/keys.h"
#include "app/platform.h"
#include "app/dispatch.h"
#include "audit/audit.h"
#include "common/wipe.h"
#include "common/lgcode.h"
#include "common/cidr.h"
#include "common/log.h"
#include "http/server.h"
#include "address/address.h"
#include "registry/corp.h"
#include "registry/registry.h"
#include "resident/resident.h"
#include "auth/password.h"

#define DEFAULT_ABR_CITY "../shared/data/abr/mt_city_all.csv.zip"

/* Removes "--name" from argv (argc adjusted); true when it was there. */
static bool take_flag(int *argc, char **argv, const char *name)
{
	for (int i = 2; i < *argc; i++)
		if (strcmp(argv[i], name) == 0) {
			memmove(argv + i, argv + i + 1, sizeof(char *) * (size_t)(*argc - i));
			(*argc)--;
			return true;
		}
	return false;
}

/* Removes "--name VALUE" or "--name=VALUE" from argv and returns VALUE. */
static const char *take_opt(int *argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	for (int i = 2; i < *argc; i++) {
		if (strncmp(argv[i], name, n) != 0)
			continue;
		const char *v = NULL;
		int drop = 0;
		if (argv[i][n] == '=') {
			v = argv[i] + n + 1;
			drop = 1;
		} else if (argv[i][n] == '\0' && i + 1 < *argc) {
			v = argv[i + 1];
			drop = 2;
		} else {
			continue;
		}
		memmove(argv + i, argv + i + drop, sizeof(char *) * (size_t)(*argc - i - drop + 1));
		*argc -= drop;
		return v;
	}
	return NULL;
}

static void usage(FILE *out)
{
	fputs("usage: madoguchi COMMAND [options]\n\n"
	      "commands:\n"
	      "  serve                     run the HTTP server (see 'madoguchi serve --help')\n"
	      "  init [--demo]             create the data directory, keys and schema;\n"
	      "                            --demo adds 和歌山市 (302015) and demo accounts\n"
	      "  migrate                   apply pending schema migrations\n"
	      "  tenant add LG_CODE        host a municipality (name from the ABR list)\n"
	      "  user add --lg CODE --login L --kind resident|staff [--name N]\n"
	      "           [--roles r1,r2] [--password P [--temporary-password]]\n"
	      "                            create an account (--temporary-password: the\n"
	      "                            person must change it at the first log-in)\n"
	      "  token create --lg CODE --login L          issue an API token (shown once)\n"
	      "  audit verify              check the audit chain and its signed checkpoints\n"
	      "  import abr [--on-error abort|skip] FILE.zip…\n"
	      "                            import Address Base Registry zips as published\n"
	      "  import towns [--on-error abort|skip] towns.csv\n"
	      "                            import japanese-addresses' nationwide town names\n"
	      "  import corp [--on-error abort|skip] FILE.csv|FILE.zip…\n"
	      "                            import the National Tax Agency's 法人番号 files\n"
	      "                            (UTF-8, UTF-8 with BOM or CP932, detected)\n"
	      "  corp generate --count N [--seed S] [--encoding utf8|cp932]\n"
	      "                            write N realistic 法人番号 records to stdout\n"
	      "  address normalize [--format ndjson|json|csv|geojson] [--timing] [FILE|-]\n"
	      "                            normalize one address per line (standard input\n"
	      "                            when no FILE); needs the imported registry\n"
	      "  resident import --lg-code CODE [--on-error abort|skip] FILE.csv…\n"
	      "                            import residents (UTF-8, BOM or CP932; 和暦 dates)\n"
	      "  resident export --lg-code CODE [--as-of DATE] [--with-mynumber] [-o FILE]\n"
	      "                            write the residents as of DATE in the import format\n"
	      "  demo populate --residents N [--seed S] [--lg-code 302015]\n"
	      "                            make a synthetic population for a municipality\n\n"
	      "Every command takes the server options (--data-dir, --db, --config …).\n",
	      out);
}

static int load_config(struct config *cfg, int argc, char **argv)
{
	char err[512];
	config_defaults(cfg);
	int rc = config_from_args(cfg, argc, argv, 2, err, sizeof err);
	if (rc == CONFIG_HELP) {
		printf("usage: madoguchi %s [options]\n\n"
		       "Options come from defaults, then --config FILE, then MADOGUCHI_* "
		       "environment variables, then flags.\n\n",
		       argv[1]);
		config_usage(stdout);
		config_release(cfg);
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, "madoguchi: %s\n", err);
		config_release(cfg);
		return -1;
	}
	log_set_level(!strcmp(cfg->log_level, "debug") ? LOG_DEBUG :
		      !strcmp(cfg->log_level, "warn")  ? LOG_WARN :
		      !strcmp(cfg->log_level, "error") ? LOG_ERROR :
							 LOG_INFO);
	return 0;
}

static int open_app(struct app *app, struct config *cfg, unsigned flags)
{
	char err[512];
	if (app_open(app, cfg, flags, err, sizeof err) != 0) {
		fprintf(stderr, "madoguchi: %s\n", err);
		return -1;
	}
	return 0;
}

/* Loads the configuration from the remaining arguments and opens the
 * application with flags. Returns 0, or the exit status the command should
 * end with (--help prints the options and ends with 0). */
static int begin(int argc, char **argv, unsigned flags, struct config *cfg, struct app *app)
{
	int lc = load_config(cfg, argc, argv);
	if (lc != 0)
		return lc > 0 ? -1 : 2;
	if (open_app(app, cfg, flags) != 0) {
		config_release(cfg);
		return 1;
	}
	return 0;
}

static void end(struct config *cfg, struct app *app)
{
	app_close(app);
	config_release(cfg);
}

/* Checks that argv[2] is the sub-command word and removes it. */
static bool sub_command(int *argc, char **argv, const char *word)
{
	if (*argc < 3 || strcmp(argv[2], word) != 0) {
		usage(stderr);
		return false;
	}
	memmove(argv + 2, argv + 3, sizeof(char *) * (size_t)(*argc - 2));
	(*argc)--;
	return true;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b;
	buf_init(&b, 1u << 20);
	char chunk[4096];
	size_t n;
	int rc = 0;
	while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc = buf_append(&b, chunk, n);
	fclose(f);
	if (rc) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static int cmd_serve(int argc, char **argv)
{
	struct config cfg;
	int lc = load_config(&cfg, argc, argv);
	if (lc != 0)
		return lc > 0 ? 0 : 2;

	/* Signals are taken by sigwait() below, so block them in every thread. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct app app;
	if (open_app(&app, &cfg, BOOT_CREATE | BOOT_MIGRATE | BOOT_SERVE) != 0) {
		config_release(&cfg);
		return 1;
	}
	char *cert = NULL, *key = NULL;
	if (cfg.tls_cert && *cfg.tls_cert) {
		cert = slurp(cfg.tls_cert);
		key = cfg.tls_key ? slurp(cfg.tls_key) : NULL;
		if (!cert || !key) {
			fprintf(stderr, "madoguchi: cannot read TLS certificate or key\n");
			app_close(&app);
			config_release(&cfg);
			return 1;
		}
	}
	/* libmicrohttpd counts connections per TCP peer: behind a proxy that is
	 * the proxy, so the whole city would share one limit */
	if (cfg.trusted_proxy && cfg.trusted_proxy->n > 0 && cfg.max_conns_per_ip > 0)
		log_warn("--max-conns-per-ip %d counts the trusted proxy's connections, not each "
			 "client's: set it to 0 behind a proxy and limit clients there",
			 cfg.max_conns_per_ip);
	int threads = cfg.threads > 0 ? cfg.threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct server_opts so = {
		.listen = cfg.listen,
		.port = cfg.port,
		.threads = threads > 0 ? threads : 1,
		.max_body = cfg.max_body,
		.max_header = cfg.max_header,
		.max_conns = cfg.max_conns,
		.max_conns_per_ip = cfg.max_conns_per_ip,
		.idle_timeout = cfg.idle_timeout,
		.request_timeout = cfg.request_timeout,
		.tls_cert_pem = cert,
		.tls_key_pem = key,
		.app = &app,
		.dispatch = app_dispatch,
		.finished = app_finished,
	};
	struct server *srv;
	char err[512];
	if (server_start(&so, &srv, err, sizeof err) != 0) {
		fprintf(stderr, "madoguchi: %s\n", err);
		app_close(&app);
		config_release(&cfg);
		free(cert);
		free(key);
		return 1;
	}
	const char *v6 = strchr(cfg.listen, ':') ? "[" : "";
	printf("madoguchi: listening on %s://%s%s%s:%d\n", cert ? "https" : "http", v6, cfg.listen,
	       *v6 ? "]" : "", server_port(srv));
	fflush(stdout);

	int sig = 0;
	sigwait(&sigs, &sig);
	log_info("received signal %d: finishing %d in-flight requests", sig, server_inflight(srv));
	server_stop(srv, cfg.shutdown_grace);
	app_close(&app);
	config_release(&cfg);
	free(cert);
	free(key);
	log_info("stopped");
	return 0;
}

/* Adds a municipality by code, its names from the ABR municipality list. */
static int add_tenant(struct app *app, const char *code, const char *abr_zip)
{
	if (!lgcode_valid(code)) {
		fprintf(stderr,
			"madoguchi: %s is not a valid 全国地方公共団体コード (6 digits with check "
			"digit)\n",
			code);
		return 2;
	}
	struct lgcode_city city;
	char err[256];
	if (lgcode_lookup(abr_zip, code, &city, err, sizeof err) != 0) {
		fprintf(stderr, "madoguchi: %s: %s\n", code, err);
		return 2;
	}
	char name[3 * LGCODE_NAME_MAX];
	snprintf(name, sizeof name, "%s%s%s", city.county, city.city, city.ward);
	struct db_conn *c = db_acquire(app->db);
	int rc = tenant_add(c, code, city.pref, name);
	db_release(c);
	if (rc == -EEXIST) {
		printf("municipality %s %s is already hosted\n", code, name);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "madoguchi: cannot add %s: %s\n", code, db_strerror(rc));
		return 1;
	}
	printf("municipality %s %s%s added\n", code, city.pref, name);
	return 0;
}

static int add_user(struct app *app, const char *lg, const char *login, const char *name,
		    const char *kind, const char *roles_csv, const char *password, bool temporary,
		    bool quiet_exist)
{
	const char *roles[16];
	char buf[512];
	int n = 0;
	snprintf(buf, sizeof buf, "%s", roles_csv ? roles_csv : "");
	char *save = NULL;
	for (char *p = strtok_r(buf, ",", &save); p && n < 15; p = strtok_r(NULL, ",", &save))
		roles[n++] = p;
	roles[n] = NULL;
	const char *field = NULL;
	char msg[256];
	struct db_conn *c = db_acquire(app->db);
	int64_t id = 0;
	int rc = account_create(c, lg, login, name ? name : login, kind, password, temporary, roles,
				&id, &field, msg, sizeof msg);
	db_release(c);
	if (rc == -EEXIST && quiet_exist)
		return 0;
	if (rc != 0) {
		fprintf(stderr, "madoguchi: cannot create %s: %s%s%s\n", login,
			field ? field : db_strerror(rc), field ? ": " : "", field ? msg : "");
		return rc == -EINVAL || rc == -EEXIST ? 2 : 1;
	}
	printf("account %s created (id %lld)\n", login, (long long)id);
	return 0;
}

static int cmd_init(int argc, char **argv)
{
	bool demo = take_flag(&argc, argv, "--demo");
	const char *abr = take_opt(&argc, argv, "--abr-city");
	struct config cfg;
	struct app app;
	int rc = begin(argc, argv, BOOT_CREATE | BOOT_MIGRATE, &cfg, &app);
	if (rc)
		return rc < 0 ? 0 : rc;
	printf("data directory %s ready\n", cfg.data_dir);
	if (demo) {
		rc = add_tenant(&app, "302015", abr ? abr : DEFAULT_ABR_CITY);
		if (!rc)
			rc = add_user(&app, "302015", "resident", "和歌山 花子", "resident",
				      "resident", "madoguchi-resident", false, true);
		if (!rc)
			rc = add_user(&app, "302015", "clerk", "市民課 窓口一郎", "staff",
				      "shimin_clerk", "madoguchi-clerk", false, true);
		if (!rc)
			rc = add_user(&app, "302015", "admin", "情報政策課 管理者", "staff",
				      "sysadmin", "madoguchi-admin", false, true);
		if (!rc)
			printf("\ndemo municipality: 和歌山市 (lg_code 302015)\n"
			       "demo log-ins (ログインID / パスワード):\n"
			       "  resident  resident / madoguchi-resident   (住民)\n"
			       "  clerk     clerk / madoguchi-clerk         (市民課 職員)\n"
			       "  admin     admin / madoguchi-admin         (システム管理者)\n");
	}
	end(&cfg, &app);
	return rc;
}

static int cmd_migrate(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	int rc = begin(argc, argv, BOOT_CREATE | BOOT_MIGRATE, &cfg, &app);
	if (rc)
		return rc < 0 ? 0 : rc;
	printf("migrations applied\n");
	end(&cfg, &app);
	return 0;
}

static int cmd_tenant(int argc, char **argv)
{
	const char *abr = take_opt(&argc, argv, "--abr-city");
	if (!sub_command(&argc, argv, "add") || argc < 3 || argv[2][0] == '-') {
		fprintf(stderr, "madoguchi: tenant add needs a 全国地方公共団体コード\n");
		return 2;
	}
	const char *code = argv[2];
	memmove(argv + 2, argv + 3, sizeof(char *) * (size_t)(argc - 2));
	argc--;
	struct config cfg;
	struct app app;
	int rc = begin(argc, argv, BOOT_CREATE | BOOT_MIGRATE, &cfg, &app);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = add_tenant(&app, code, abr ? abr : DEFAULT_ABR_CITY);
	end(&cfg, &app);
	return rc;
}

static int cmd_user(int argc, char **argv)
{
	if (!sub_command(&argc, argv, "add"))
		return 2;
	const char *lg = take_opt(&argc, argv, "--lg"), *login = take_opt(&argc, argv, "--login");
	const char *name = take_opt(&argc, argv, "--name"), *kind = take_opt(&argc, argv, "--kind");
	const char *roles = take_opt(&argc, argv, "--roles");
	const char *password = take_opt(&argc, argv, "--password");
	bool temporary = take_flag(&argc, argv, "--temporary-password");
	if (!lg || !login || !kind) {
		fprintf(stderr, "madoguchi: user add needs --lg, --login and --kind\n");
		return 2;
	}
	struct config cfg;
	struct app app;
	int rc = begin(argc, argv, BOOT_MIGRATE, &cfg, &app);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = add_user(&app, lg, login, name, kind, roles, password, temporary, false);
	end(&cfg, &app);
	return rc;
}

static int cmd_token(int argc, char **argv)
{
	if (!sub_command(&argc, argv, "create"))
		return 2;
	const char *lg = take_opt(&argc, argv, "--lg"), *login = take_opt(&argc, argv, "--login");
	const char *label = take_opt(&argc, argv, "--label");
	if (!lg || !login) {
		fprintf(stderr, "madoguchi: token create needs --lg and --login\n");
		return 2;
	}
	struct config cfg;
	struct app app;
	int rc = begin(argc, argv, BOOT_MIGRATE, &cfg, &app);
	if (rc)
		return rc < 0 ? 0 : rc;
	struct arena *a = arena_new();
	struct db_conn *c = db_acquire(app.db);
	struct account acc;
	const char *token = NULL;
	rc = account_find(c, a, lg, login, &acc);
	/* a token of an account whose password an administrator set would only
	 * meet the temporary-password gate (app_dispatch): refuse it outright */
	bool temporary = rc == 0 && acc.must_change_password;
	if (rc == 0 && !temporary)
		rc = api_token_create(&app, c, a, lg, acc.id, label ? label : "cli", &token);
	db_release(c);
	if (temporary)
		fprintf(stderr,
			"madoguchi: %s has a temporary password: the person must change it "
			"first\n",
			login);
	else if (rc == 0)
		printf("%s\n", token);
	else
		fprintf(stderr, "madoguchi: no account %s in %s\n", login, lg);
	arena_free(a);
	end(&cfg, &app);
	return rc == 0 && !temporary ? 0 : 1;
}

static int cmd_audit(int argc, char **argv)
{
	if (!sub_command(&argc, argv, "verify"))
		return 2;
	struct config cfg;
	struct app app;
	int rc = begin(argc, argv, 0, &cfg, &app);
	if (rc)
		return rc < 0 ? 0 : rc;
	struct audit_verify_result vr;
	struct db_conn *c = db_acquire(app.db);
	rc = audit_verify(c, app.keys->audit_pk, &vr);
	db_release(c);
	int status;
	if (rc != 0 && vr.broken_seq == 0) {
		fprintf(stderr, "madoguchi: cannot read the audit log: %s\n", audit_strerror(rc));
		status = 1;
	} else if (vr.broken_seq) {
		printf("audit chain BROKEN at seq %lld: %s (%lld entries verified before it)\n",
		       (long long)vr.broken_seq, vr.reason ? vr.reason : "?",
		       (long long)vr.entries);
		status = 1;
	} else {
		printf("audit chain OK: %lld entries, %lld checkpoints\n", (long long)vr.entries,
		       (long long)vr.checkpoints);
		status = 0;
	}
	end(&cfg, &app);
	return status;
}

/* True when name ends with suffix, ASCII case ignored. */
static bool ends_with(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	return n > k && strcasecmp(name + n - k, suffix) == 0;
}

/* The options and files of an import: --on-error and the arguments ending
 * in one of the suffixes (removed from argv). Returns 0, or the exit status. */
static int import_args(int *argc, char **argv, const char *const *suffixes, const char *what,
		       enum abr_on_error *on_error, const char **files, int *nfiles)
{
	const char *mode = take_opt(argc, argv, "--on-error");
	*on_error = ABR_ABORT;
	if (mode && strcmp(mode, "skip") == 0) {
		*on_error = ABR_SKIP;
	} else if (mode && strcmp(mode, "abort") != 0) {
		fprintf(stderr, "madoguchi: --on-error takes abort or skip\n");
		return 2;
	}
	*nfiles = 0;
	for (int i = 2; i < *argc;) {
		bool match = false;
		for (const char *const *x = suffixes; *x; x++)
			match |= ends_with(argv[i], *x);
		if (argv[i][0] != '-' && match && *nfiles < 256) {
			files[(*nfiles)++] = argv[i];
			memmove(argv + i, argv + i + 1, sizeof(char *) * (size_t)(*argc - i));
			(*argc)--;
		} else {
			i++;
		}
	}
	if (*nfiles == 0) {
		fprintf(stderr, "madoguchi: %s\n", what);
		return 2;
	}
	return 0;
}

static int cmd_import_corp(int argc, char **argv)
{
	enum abr_on_error on_error;
	const char *files[256];
	int nfiles = 0;
	int rc = import_args(&argc, argv, (const char *const[]){".csv", ".zip", NULL},
			     "import corp needs one or more .csv or .zip files", &on_error, files,
			     &nfiles);
	if (rc)
		return rc;
	struct config cfg;
	struct app app;
	rc = begin(argc, argv, BOOT_CREATE | BOOT_MIGRATE, &cfg, &app);
	if (rc)
		return rc < 0 ? 0 : rc;
	FILE *progress = isatty(STDERR_FILENO) ? stderr : NULL;
	for (int i = 0; i < nfiles && rc == 0; i++) {
		struct corp_import_stats st;
		char err[512];
		if (corp_import_file(&app, files[i], on_error, stderr, progress, &st, err,
				     sizeof err) != 0) {
			fprintf(stderr, "madoguchi: %s\n", err);
			rc = 1;
			break;
		}
		printf("%s: %s, %llu records imported, %llu skipped, %.2f s\n", files[i],
		       st.encoding, (unsigned long long)st.rows, (unsigned long long)st.skipped,
		       st.seconds);
	}
	end(&cfg, &app);
	return rc;
}

static int cmd_corp(int argc, char **argv)
{
	if (!sub_command(&argc, argv, "generate"))
		return 2;
	const char *count = take_opt(&argc, argv, "--count"),
		   *seed = take_opt(&argc, argv, "--seed");
	const char *enc = take_opt(&argc, argv, "--encoding");
	char *end = NULL;
	errno = 0;
	unsigned long n = count ? strtoul(count, &end, 10) : 0;
	if (!count || !*count || *end || errno || *count == '-') {
		fprintf(stderr, "madoguchi: corp generate needs --count N\n");
		return 2;
	}
	unsigned long long s = 1;
	if (seed) {
		errno = 0;
		s = strtoull(seed, &end, 10);
		if (!*seed || *end || errno || *seed == '-') {
			fprintf(stderr, "madoguchi: --seed takes a number\n");
			return 2;
		}
	}
	if (enc && strcmp(enc, "utf8") != 0 && strcmp(enc, "cp932") != 0) {
		fprintf(stderr, "madoguchi: --encoding takes utf8 or cp932\n");
		return 2;
	}
	if (argc > 2) {
		fprintf(stderr, "madoguchi: corp generate: unexpected argument '%s'\n", argv[2]);
		return 2;
	}
	if (corp_generate(stdout, n, (uint64_t)s, enc && !strcmp(enc, "cp932")) != 0) {
		fprintf(stderr, "madoguchi: corp generate: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static int cmd_import(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[2], "corp")) {
		memmove(argv + 2, argv + 3, sizeof(char *) * (size_t)(argc - 2));
		return cmd_import_corp(argc - 1, argv);
	}
	bool towns = argc >= 3 && !strcmp(argv[2], "towns");
	if (towns)
		argv[2] = (char *)"abr";
	if (!sub_command(&argc, argv, "abr"))
		return 2;
	enum abr_on_error on_error;
	const char *files[256];
	int nfiles = 0;
	int rc = towns ? import_args(&argc, argv, (const char *const[]){".csv", NULL},
				     "import towns needs a towns.csv file", &on_error, files,
				     &nfiles) :
			 import_args(&argc, argv, (const char *const[]){".zip", NULL},
				     "import abr needs one or more .zip files", &on_error, files,
				     &nfiles);
	if (rc)
		return rc;
	struct config cfg;
	struct app app;
	rc = begin(argc, argv, BOOT_CREATE | BOOT_MIGRATE, &cfg, &app);
	if (rc)
		return rc < 0 ? 0 : rc;
	FILE *progress = isatty(STDERR_FILENO) ? stderr : NULL;
	for (int i = 0; i < nfiles && rc == 0; i++) {
		struct abr_import_stats st;
		char err[512];
		if ((towns ? towns_import_file : abr_import_file)(&app, files[i], on_error, stderr,
								  progress, &st, err,
								  sizeof err) != 0) {
			fprintf(stderr, "madoguchi: %s\n", err);
			rc = 1;
			break;
		}
		printf("%s: %s, %llu rows imported, %llu skipped, %.2f s\n", files[i], st.kind,
		       (unsigned long long)st.rows, (unsigned long long)st.skipped, st.seconds);
	}
	end(&cfg, &app);
	return rc;
}

static int cmd_address(int argc, char **argv)
{
	if (!sub_command(&argc, argv, "normalize"))
		return 2;
	if (take_flag(&argc, argv, "--help") || take_flag(&argc, argv, "-h")) {
		fputs("usage: madoguchi address normalize [--format ndjson|json|csv|geojson] "
		      "[--timing] [server options] [FILE|-]\n\n"
		      "Reads one address per line (standard input without FILE) and writes one\n"
		      "result per line in input order: the parts as the Address Base Registry\n"
		      "names them, lg_code and ABR ids, match_level (as abr-geocoder), lat/lon.\n"
		      "--timing prints n, load_s, normalize_s and addr_per_s to standard error.\n"
		      "The registry comes from the data directory (madoguchi import abr / towns).\n",
		      stdout);
		return 0;
	}
	const char *fmt_name = take_opt(&argc, argv, "--format");
	bool timing = take_flag(&argc, argv, "--timing");
	enum addr_format fmt = ADDR_FMT_NDJSON;
	if (fmt_name && addr_format_parse(fmt_name, &fmt) != 0) {
		fprintf(stderr, "madoguchi: --format takes json, ndjson, csv or geojson\n");
		return 2;
	}
	/* FILE or "-" is the last argument unless it is an option's value */
	const char *path = NULL;
	if (argc > 2 &&
	    (!strcmp(argv[argc - 1], "-") ||
	     (argv[argc - 1][0] != '-' && (argc == 3 || strncmp(argv[argc - 2], "--", 2) != 0 ||
					   strchr(argv[argc - 2], '='))))) {
		path = argv[argc - 1];
		argc--;
	}
	struct config cfg;
	struct app app;
	int rc = begin(argc, argv, BOOT_MIGRATE, &cfg, &app);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = addr_cli_normalize(&app, path, fmt, timing);
	end(&cfg, &app);
	return rc;
}

/* `resident import|export` and `demo populate`: the module takes its own
 * arguments out of argv, the rest opens the application. */
static int cmd_resident(int argc, char **argv)
{
	char *own[300];
	int nown = resident_cli_split(&argc, argv, own, 300);
	if (nown < 0)
		return 2;
	struct config cfg;
	struct app app;
	int rc = begin(argc, argv, BOOT_CREATE | BOOT_MIGRATE, &cfg, &app);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = resident_cli(&app, nown, own);
	end(&cfg, &app);
	return rc;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "madoguchi: libsodium failed to initialise\n");
		return 1;
	}
	/* before jansson or ICU allocate anything: their freed memory is zeroed */
	if (wipe_install() != 0)
		fprintf(stderr, "madoguchi: warning: ICU's memory will not be wiped\n");
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc, argv);
	if (!strcmp(cmd, "init"))
		return cmd_init(argc, argv);
	if (!strcmp(cmd, "migrate"))
		return cmd_migrate(argc, argv);
	if (!strcmp(cmd, "tenant"))
		return cmd_tenant(argc, argv);
	if (!strcmp(cmd, "user"))
		return cmd_user(argc, argv);
	if (!strcmp(cmd, "token"))
		return cmd_token(argc, argv);
	if (!strcmp(cmd, "audit"))
		return cmd_audit(argc, argv);
	if (!strcmp(cmd, "import"))
		return cmd_import(argc, argv);
	if (!strcmp(cmd, "corp"))
		return cmd_corp(argc, argv);
	if (!strcmp(cmd, "resident") || !strcmp(cmd, "demo"))
		return cmd_resident(argc, argv);
	if (!strcmp(cmd, "address"))
		return cmd_address(argc, argv);
	fprintf(stderr, "madoguchi: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return 2;
}
