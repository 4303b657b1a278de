/* Unit tests for app/config.c: strict values, the file format, the
 * environment, flags, the precedence defaults < file < env < flags, and
 * --help text that lists every option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/config.h"
#include "common/cidr.h"

static char tmpdir[64];

static int group_setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/mado-config-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int group_teardown(void **state)
{
	char p[128];
	snprintf(p, sizeof p, "%s/m.conf", tmpdir);
	unlink(p);
	rmdir(tmpdir);
	return 0;
}

/* No MADOGUCHI_* variable from the outside may leak into a test. */
static void clear_env(void)
{
	extern char **environ;
	for (;;) {
		char name[128] = "";
		for (char **e = environ; *e; e++) {
			if (strncmp(*e, "MADOGUCHI_", 10) == 0) {
				const char *eq = strchr(*e, '=');
				size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
				if (n < sizeof name) {
					memcpy(name, *e, n);
					name[n] = '\0';
				}
				break;
			}
		}
		if (!name[0])
			break;
		unsetenv(name);
	}
}

static int setup(void **state)
{
	clear_env();
	struct config *cfg = calloc(1, sizeof(*cfg));
	config_defaults(cfg);
	*state = cfg;
	return 0;
}

static int teardown(void **state)
{
	config_release(*state);
	free(*state);
	clear_env();
	return 0;
}

static const char *write_conf(const char *text)
{
	static char p[128];
	snprintf(p, sizeof p, "%s/m.conf", tmpdir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static void test_defaults(void **state)
{
	struct config *c = *state;
	assert_string_equal(c->listen, "127.0.0.1");
	assert_int_equal(c->port, 8080);
	assert_string_equal(c->data_dir, "./var");
	assert_string_equal(c->db_url, "sqlite:./var/madoguchi.db");
	assert_int_equal(c->threads, 0);
	assert_true(c->db_pool >= 1);
	assert_int_equal(c->max_body, 1024 * 1024);
	assert_int_equal(c->max_header, 16 * 1024);
	assert_true(c->max_conns > 0);
	assert_true(c->request_timeout > 0 && c->idle_timeout > 0);
	assert_null(c->tls_cert);
	assert_null(c->tls_key);
	assert_null(c->trusted_ca);
	assert_null(c->crl);
	assert_true(c->session_idle <= c->session_absolute);
	assert_string_equal(c->log_level, "info");
	assert_true(c->access_log);
}

static void test_set_values(void **state)
{
	struct config *c = *state;
	char err[256];
	assert_int_equal(config_set(c, "port", "9000", err, sizeof err), 0);
	assert_int_equal(c->port, 9000);
	assert_int_equal(config_set(c, "port", "0", err, sizeof err), 0);
	assert_int_equal(config_set(c, "max-body", "512k", err, sizeof err), 0);
	assert_int_equal(c->max_body, 512 * 1024);
	assert_int_equal(config_set(c, "max-body", "8M", err, sizeof err), 0);
	assert_int_equal(c->max_body, 8 * 1024 * 1024);
	assert_int_equal(config_set(c, "max-body", "1G", err, sizeof err), 0);
	assert_int_equal(c->max_body, 1024 * 1024 * 1024);
	assert_int_equal(config_set(c, "max-body", "4096", err, sizeof err), 0);
	assert_int_equal(c->max_body, 4096);
	assert_int_equal(config_set(c, "access-log", "off", err, sizeof err), 0);
	assert_false(c->access_log);
	assert_int_equal(config_set(c, "access-log", "YES", err, sizeof err), 0);
	assert_true(c->access_log);
	assert_int_equal(config_set(c, "listen", "::1", err, sizeof err), 0);
	assert_string_equal(c->listen, "::1");
	assert_int_equal(config_set(c, "log-level", "debug", err, sizeof err), 0);
	assert_string_equal(c->log_level, "debug");
	assert_int_equal(config_set(c, "tls-cert", "/etc/mado/cert.pem", err, sizeof err), 0);
	assert_string_equal(c->tls_cert, "/etc/mado/cert.pem");
	assert_int_equal(config_set(c, "tls-cert", "", err, sizeof err), 0); /* optional: unset */
	assert_null(c->tls_cert);
	assert_int_equal(config_set(c, "db", "postgres://mado@localhost/mado", err, sizeof err), 0);
	assert_string_equal(c->db_url, "postgres://mado@localhost/mado");
}

/* --trusted-proxy, --metrics-allow (lists of networks) and --metrics-token. */
static void test_proxy_options(void **state)
{
	struct config *c = *state;
	char err[256];
	assert_null(c->trusted_proxy);
	assert_null(c->metrics_allow);
	assert_null(c->metrics_token);

	assert_int_equal(
		config_set(c, "trusted-proxy", "10.0.0.0/8, 2001:db8::/32", err, sizeof err), 0);
	assert_non_null(c->trusted_proxy);
	assert_int_equal(c->trusted_proxy->n, 2);
	struct ipaddr a;
	assert_int_equal(ip_parse("10.20.30.40", 11, &a), 0);
	assert_true(cidr_list_contains(c->trusted_proxy, &a));
	/* a bad list leaves the old one in place and names the bad item */
	assert_int_equal(
		config_set(c, "trusted-proxy", "10.0.0.0/8,192.168.1.1/24", err, sizeof err), -1);
	assert_non_null(strstr(err, "trusted-proxy"));
	assert_non_null(strstr(err, "192.168.1.0/24"));
	assert_int_equal(c->trusted_proxy->n, 2);
	assert_int_equal(config_set(c, "trusted-proxy", "proxy.example.jp", err, sizeof err), -1);
	assert_int_equal(config_set(c, "trusted-proxy", "10.0.0.0/8,", err, sizeof err), -1);
	/* empty unsets */
	assert_int_equal(config_set(c, "trusted-proxy", "", err, sizeof err), 0);
	assert_null(c->trusted_proxy);

	assert_int_equal(config_set(c, "metrics-allow", "192.0.2.0/24", err, sizeof err), 0);
	assert_int_equal(c->metrics_allow->n, 1);

	assert_int_equal(
		config_set(c, "metrics-token", "abcdefghijklmnop-_.~+/==", err, sizeof err), 0);
	assert_string_equal(c->metrics_token, "abcdefghijklmnop-_.~+/==");
	/* refused tokens are never repeated in the message (it may be a secret) */
	static const char *const bad[] = {"short-secret", "has a blank in it!!",
					  "abcdefghijklmnop\"", "=abcdefghijklmnopq",
					  "abcdefghijklmnop=x"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(config_set(c, "metrics-token", bad[i], err, sizeof err), -1);
		if (strstr(err, bad[i]))
			fail_msg("the message repeats the token: %s", err);
	}
	assert_string_equal(c->metrics_token, "abcdefghijklmnop-_.~+/==");

	/* the file and the environment, like every option */
	const char *p = write_conf("trusted-proxy = 127.0.0.1/32, ::1\n"
				   "metrics-allow = \"10.9.0.0/16\"\n");
	assert_int_equal(config_load_file(c, p, err, sizeof err), 0);
	assert_int_equal(c->trusted_proxy->n, 2);
	assert_int_equal(c->metrics_allow->n, 1);
	setenv("MADOGUCHI_TRUSTED_PROXY", "172.16.0.0/12", 1);
	setenv("MADOGUCHI_METRICS_TOKEN", "0123456789abcdef0123", 1);
	assert_int_equal(config_load_env(c, err, sizeof err), 0);
	assert_int_equal(c->trusted_proxy->n, 1);
	assert_int_equal(c->trusted_proxy->v[0].bits, 96 + 12);
	assert_string_equal(c->metrics_token, "0123456789abcdef0123");
	p = write_conf("trusted-proxy = 10.0.0.1/8\n");
	assert_int_equal(config_load_file(c, p, err, sizeof err), -1);
	assert_non_null(strstr(err, ":1: trusted-proxy"));
}

static void test_set_refusals(void **state)
{
	struct config *c = *state;
	char err[256];
	static const struct {
		const char *key, *value, *msg;
	} bad[] = {
		{"port", "", "not an integer"},
		{"port", "80a", "not an integer"},
		{"port", " 80", "not an integer"},
		{"port", "80 ", "not an integer"},
		{"port", "+80", "not an integer"},
		{"port", "0x50", "not an integer"},
		{"port", "65536", "out of range"},
		{"port", "-1", "out of range"},
		{"port", "99999999999999999999999", "not an integer"},
		{"threads", "1e3", "not an integer"},
		{"max-body", "1T", "not a size"},
		{"max-body", "1MB", "not a size"},
		{"max-body", "-1M", "not a size"},
		{"max-body", "k", "not a size"},
		{"max-body", "2G", "out of range"},
		{"max-body", "100", "out of range"},
		{"max-body", "99999999999999999999G", "not a size"},
		{"max-body", "9007199254740992G", "not a size"},
		{"access-log", "maybe", "not true or false"},
		{"access-log", "", "not true or false"},
		{"listen", "localhost", "IPv4 or IPv6"},
		{"listen", "", "must not be empty"},
		{"data-dir", "", "must not be empty"},
		{"db", "mysql://x", "sqlite:PATH"},
		{"db", "sqlite:", "sqlite:PATH"},
		{"log-level", "verbose", "one of"},
		{"data-dir", "/var/\x01x", "UTF-8 text on one line"},
		{"data-dir", "/var/\xFF", "UTF-8 text on one line"},
		{"no-such-option", "1", "unknown option"},
		{"config", "x.conf", "unknown option"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		if (config_set(c, bad[i].key, bad[i].value, err, sizeof err) != -1)
			fail_msg("%s=%s accepted", bad[i].key, bad[i].value);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s=%s: message '%s' lacks '%s'", bad[i].key, bad[i].value, err,
				 bad[i].msg);
	}
	/* nothing changed */
	assert_int_equal(c->port, 8080);
	assert_string_equal(c->listen, "127.0.0.1");
	assert_true(c->access_log);
}

/* The default database follows the data directory; an explicit one stays. */
static void test_db_follows_data_dir(void **state)
{
	struct config *c = *state;
	char err[256];
	assert_int_equal(config_set(c, "data-dir", "/srv/mado", err, sizeof err), 0);
	assert_string_equal(c->db_url, "sqlite:/srv/mado/madoguchi.db");
	assert_int_equal(config_set(c, "db", "sqlite:/elsewhere.db", err, sizeof err), 0);
	assert_int_equal(config_set(c, "data-dir", "/srv/other", err, sizeof err), 0);
	assert_string_equal(c->db_url, "sqlite:/elsewhere.db");
}

static void test_text(void **state)
{
	struct config *c = *state;
	char err[256];
	static const char text[] = "\xEF\xBB\xBF# madoguchi settings\r\n"
				   "\n"
				   "   # indented comment\n"
				   "port = 8443\r\n"
				   "listen=0.0.0.0\n"
				   "\tdata-dir =  \"/srv/my data \"  \n"
				   "access-log = false\n"
				   "db = postgres://u:p#w@h/db\n" /* '#' inside a value is data */
				   "max-header = 32k";            /* no final newline */
	assert_int_equal(config_load_text(c, text, sizeof text - 1, "m.conf", err, sizeof err), 0);
	assert_int_equal(c->port, 8443);
	assert_string_equal(c->listen, "0.0.0.0");
	assert_string_equal(c->data_dir, "/srv/my data ");
	assert_false(c->access_log);
	assert_string_equal(c->db_url, "postgres://u:p#w@h/db");
	assert_int_equal(c->max_header, 32 * 1024);
}

static void test_text_errors(void **state)
{
	struct config *c = *state;
	char err[256];
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"port = 1\nbogus = 2\n", "m.conf:2: unknown option 'bogus'"},
		{"\n\nport 80\n", "m.conf:3: expected 'name = value'"},
		{"port = 1\nport = 2\n", "m.conf:2: 'port' is set twice"},
		{"port = http\n", "m.conf:1: port: 'http' is not an integer"},
		{"config = other.conf\n", "m.conf:1: a config file cannot name another"},
		{" = 5\n", "m.conf:1: unknown option ''"},
		{"listen = \"\"\n", "m.conf:1: listen: must not be empty"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct config t;
		config_defaults(&t);
		err[0] = '\0';
		assert_int_equal(config_load_text(&t, bad[i].text, strlen(bad[i].text), "m.conf",
						  err, sizeof err),
				 -1);
		if (strcmp(err, bad[i].msg) != 0)
			fail_msg("got '%s', want '%s'", err, bad[i].msg);
		config_release(&t);
	}
	static const char nul[] = "port = 1\0\n";
	assert_int_equal(config_load_text(c, nul, sizeof nul - 1, "m.conf", err, sizeof err), -1);
	assert_non_null(strstr(err, "NUL"));
	char *longline = malloc(5000);
	memset(longline, 'x', 4999);
	longline[4999] = '\0';
	assert_int_equal(config_load_text(c, longline, 4999, "m.conf", err, sizeof err), -1);
	assert_non_null(strstr(err, "m.conf:1: line longer"));
	free(longline);
}

static void test_file(void **state)
{
	struct config *c = *state;
	char err[256];
	const char *p = write_conf("port = 7000\njob-workers = 4\n");
	assert_int_equal(config_load_file(c, p, err, sizeof err), 0);
	assert_int_equal(c->port, 7000);
	assert_int_equal(c->job_workers, 4);
	p = write_conf("port = 7000\nport=1\n");
	assert_int_equal(config_load_file(c, p, err, sizeof err), -1);
	assert_non_null(strstr(err, p)); /* the file name starts the message */
	assert_non_null(strstr(err, ":2:"));
	assert_int_equal(config_load_file(c, "/nonexistent/m.conf", err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/m.conf"));
}

static void test_env(void **state)
{
	struct config *c = *state;
	char err[256];
	setenv("MADOGUCHI_PORT", "8181", 1);
	setenv("MADOGUCHI_MAX_CONNS_PER_IP", "3", 1);
	setenv("MADOGUCHI_ACCESS_LOG", "no", 1);
	setenv("MADOGUCHI_UNRELATED_THING", "whatever", 1); /* not ours: ignored */
	assert_int_equal(config_load_env(c, err, sizeof err), 0);
	assert_int_equal(c->port, 8181);
	assert_int_equal(c->max_conns_per_ip, 3);
	assert_false(c->access_log);
	setenv("MADOGUCHI_SESSION_IDLE", "soon", 1);
	assert_int_equal(config_load_env(c, err, sizeof err), -1);
	assert_non_null(strstr(err, "MADOGUCHI_SESSION_IDLE"));
}

static int run_args(struct config *c, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, errlen);
	argv[argc++] = (char *)"serve";
	for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return config_from_args(c, argc, argv, 1, err, errlen);
}

static void test_args(void **state)
{
	struct config *c = *state;
	char err[256];
	assert_int_equal(run_args(c, err, sizeof err, "--port=9001", "--listen",
				  "::", "--no-access-log", "--max-body", "2M", NULL),
			 0);
	assert_int_equal(c->port, 9001);
	assert_string_equal(c->listen, "::");
	assert_false(c->access_log);
	assert_int_equal(c->max_body, 2 * 1024 * 1024);
	assert_int_equal(run_args(c, err, sizeof err, "--access-log", NULL), 0);
	assert_true(c->access_log);
	assert_int_equal(run_args(c, err, sizeof err, "--access-log=false", NULL), 0);
	assert_false(c->access_log);
	assert_int_equal(run_args(c, err, sizeof err, NULL), 0);

	static const struct {
		const char *a, *b, *msg;
	} bad[] = {
		{"serve-extra", NULL, "unexpected argument 'serve-extra'"},
		{"--port", NULL, "--port needs a value"},
		{"--port", "--listen=::1", "--port needs a value"},
		{"--port=x", NULL, "--port: 'x' is not an integer"},
		{"--nope=1", NULL, "unknown option '--nope'"},
		{"--no-port", NULL, "unknown option '--no-port'"},
		{"--access-log", "true", "unexpected argument 'true'"},
		{"--config", NULL, "--config needs a value"},
		{"--tls-cert=/a.pem", NULL, "--tls-cert and --tls-key must be given together"},
		{"--session-idle=7200", "--session-absolute=3600", "must not exceed"},
		{"-p", NULL, "unexpected argument '-p'"},
		{"--", NULL, "unexpected argument '--'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct config t;
		config_defaults(&t);
		err[0] = '\0';
		assert_int_equal(run_args(&t, err, sizeof err, bad[i].a, bad[i].b, NULL), -1);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s %s: got '%s', want '%s'", bad[i].a, bad[i].b ? bad[i].b : "",
				 err, bad[i].msg);
		config_release(&t);
	}
}

static void test_help(void **state)
{
	struct config *c = *state;
	char err[256];
	assert_int_equal(run_args(c, err, sizeof err, "--help", NULL), CONFIG_HELP);
	/* --help wins even over arguments that would fail */
	assert_int_equal(run_args(c, err, sizeof err, "--port=bad", "bogus", "-h", NULL),
			 CONFIG_HELP);
	assert_int_equal(c->port, 8080);
}

/* defaults < file < env < flags, and --config is read first wherever it is. */
static void test_precedence(void **state)
{
	struct config *c = *state;
	char err[256];
	const char *p = write_conf("port = 1111\nthreads = 3\njob-workers = 5\nlog-level = warn\n");
	setenv("MADOGUCHI_PORT", "2222", 1);
	setenv("MADOGUCHI_THREADS", "6", 1);
	char cfgflag[160];
	snprintf(cfgflag, sizeof cfgflag, "--config=%s", p);
	assert_int_equal(run_args(c, err, sizeof err, "--port", "3333", cfgflag, NULL), 0);
	assert_int_equal(c->port, 3333);     /* flag */
	assert_int_equal(c->threads, 6);     /* env over file */
	assert_int_equal(c->job_workers, 5); /* file over default */
	assert_string_equal(c->log_level, "warn");
	assert_int_equal(c->db_pool, 8); /* default */

	/* MADOGUCHI_CONFIG names the file when no flag does */
	struct config t;
	config_defaults(&t);
	unsetenv("MADOGUCHI_PORT");
	setenv("MADOGUCHI_CONFIG", p, 1);
	assert_int_equal(run_args(&t, err, sizeof err, NULL), 0);
	assert_int_equal(t.port, 1111);
	config_release(&t);

	/* --config FILE (two arguments), and a bad file stops everything */
	config_defaults(&t);
	unsetenv("MADOGUCHI_CONFIG");
	p = write_conf("port = 1111\nbogus = 1\n");
	assert_int_equal(run_args(&t, err, sizeof err, "--config", p, "--port=5", NULL), -1);
	assert_non_null(strstr(err, "unknown option 'bogus'"));
	config_release(&t);
	config_defaults(&t);
	assert_int_equal(run_args(&t, err, sizeof err, "--config", p, "--config", p, NULL), -1);
	assert_non_null(strstr(err, "twice"));
	config_release(&t);
}

static void test_usage_lists_everything(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	config_usage(f);
	fclose(f);
	static const char *const must[] = {
		"--listen=ADDR",
		"--port=N",
		"--data-dir=DIR",
		"--db=URL",
		"--threads=N",
		"--db-pool=N",
		"--max-body=SIZE",
		"--max-header=SIZE",
		"--max-conns=N",
		"--max-conns-per-ip=N",
		"--idle-timeout=SECS",
		"--request-timeout=SECS",
		"--shutdown-grace=SECS",
		"--tls-cert=FILE",
		"--tls-key=FILE",
		"--session-idle=SECS",
		"--session-absolute=SECS",
		"--login-max-failures=N",
		"--login-lockout=SECS",
		"--audit-checkpoint-every=N",
		"--audit-checkpoint-secs=SECS",
		"--job-workers=N",
		"--trusted-ca=FILE",
		"--crl=FILE",
		"--log-level=LEVEL",
		"--[no-]access-log",
		"--config FILE",
		"default: 8080",
		"default: 127.0.0.1",
		"range 1k..1G",
		"env MADOGUCHI_MAX_CONNS_PER_IP",
		"--trusted-proxy=CIDR",
		"env MADOGUCHI_METRICS_TOKEN",
		"default: none",
	};
	for (size_t i = 0; i < sizeof must / sizeof *must; i++)
		if (!strstr(text, must[i]))
			fail_msg("usage lacks '%s'", must[i]);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_follows_data_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_lists_everything, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
