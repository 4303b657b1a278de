/* The resident record's commands: `madoguchi resident import|export` and
 * `madoguchi demo populate`. main.c splits the arguments with
 * resident_cli_split, opens the application with what is left (the server
 * options) and calls resident_cli with the command's own arguments. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/lgcode.h"
#include "resident/resident.h"

#define DEFAULT_LG_CODE "302015" /* 和歌山市, the demo municipality */

/* Options of this CLI: name, and whether a value follows. */
static const struct {
	const char *name;
	bool value;
} own_opts[] = {
	{"--lg-code", true},   {"--on-error", true},   {"--as-of", true},
	{"-o", true},          {"--output", true},     {"--with-mynumber", false},
	{"--purpose", true},   {"--residents", true},  {"--seed", true},
	{"--if-empty", false}, {"--link-login", true}, {"--header", true},
};

static bool is_file_arg(const char *a)
{
	size_t n = strlen(a);
	return a[0] != '-' && n > 4 &&
	       (!strcasecmp(a + n - 4, ".csv") || !strcasecmp(a + n - 4, ".txt") ||
		!strcasecmp(a + n - 4, ".zip"));
}

int resident_cli_split(int *argc, char **argv, char **own, int max)
{
	int n = 0, keep = 2;
	if (*argc < 3 || argv[2][0] == '-') {
		fprintf(stderr, "madoguchi: %s needs a sub-command (%s)\n", argv[1],
			!strcmp(argv[1], "demo") ? "populate" : "import or export");
		return -1;
	}
	for (int i = 2; i < *argc; i++) {
		const char *a = argv[i];
		bool mine = i == 2 || is_file_arg(a) || (!strcmp(a, "-") && n > 0);
		int take = 1;
		for (size_t k = 0; !mine && k < sizeof own_opts / sizeof own_opts[0]; k++) {
			size_t ln = strlen(own_opts[k].name);
			if (!strcmp(a, own_opts[k].name)) {
				mine = true;
				take = own_opts[k].value && i + 1 < *argc ? 2 : 1;
			} else if (!strncmp(a, own_opts[k].name, ln) && a[ln] == '=') {
				mine = true;
			}
		}
		if (!mine) {
			argv[keep++] = argv[i];
			continue;
		}
		for (int t = 0; t < take; t++) {
			if (n >= max) {
				fprintf(stderr, "madoguchi: too many arguments\n");
				return -1;
			}
			own[n++] = argv[i + t];
		}
		i += take - 1;
	}
	argv[keep] = NULL;
	*argc = keep;
	return n;
}

/* The value of option name in argv[1..argc) ("--x V" or "--x=V"), or NULL. */
static const char *opt(int argc, char **argv, const char *name)
{
	size_t ln = strlen(name);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], name))
			return i + 1 < argc ? argv[i + 1] : "";
		if (!strncmp(argv[i], name, ln) && argv[i][ln] == '=')
			return argv[i] + ln + 1;
	}
	return NULL;
}

static bool flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

/* An option with two values: 0 when absent or first, 1 when second, -1
 * (with a message) for anything else. */
static int opt_choice(int argc, char **argv, const char *name, const char *first,
		      const char *second)
{
	const char *v = opt(argc, argv, name);
	if (!v || !strcmp(v, first))
		return 0;
	if (!strcmp(v, second))
		return 1;
	fprintf(stderr, "madoguchi: %s takes %s or %s\n", name, first, second);
	return -1;
}

/* True when s is a whole decimal number without a sign that fits *v. */
static bool parse_number(const char *s, unsigned long long *v)
{
	char *end = NULL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *s && !*end && !errno && *s != '-';
}

static const char *lg_code_of(int argc, char **argv, bool required)
{
	const char *lg = opt(argc, argv, "--lg-code");
	if (!lg && !required)
		lg = DEFAULT_LG_CODE;
	if (!lg || !lgcode_valid(lg)) {
		fprintf(stderr,
			"madoguchi: --lg-code takes a 全国地方公共団体コード (6 digits with "
			"check digit)\n");
		return NULL;
	}
	return lg;
}

static int cli_import(struct app *app, int argc, char **argv)
{
	const char *lg = lg_code_of(argc, argv, true);
	if (!lg)
		return 2;
	int skip = opt_choice(argc, argv, "--on-error", "abort", "skip");
	if (skip < 0)
		return 2;
	enum abr_on_error on_error = skip ? ABR_SKIP : ABR_ABORT;
	int nfiles = 0;
	for (int i = 1; i < argc; i++)
		nfiles += is_file_arg(argv[i]);
	if (nfiles == 0) {
		fprintf(stderr, "madoguchi: resident import needs one or more .csv files\n");
		return 2;
	}
	FILE *progress = isatty(STDERR_FILENO) ? stderr : NULL;
	for (int i = 1; i < argc; i++) {
		if (!is_file_arg(argv[i]))
			continue;
		struct resident_import_stats st;
		char err[512];
		if (resident_import_csv(app, lg, argv[i], on_error, stderr, progress, &st, err,
					sizeof err) != 0) {
			fprintf(stderr, "madoguchi: %s\n", err);
			return 1;
		}
		printf("%s: %s, %llu residents imported, %llu already registered, %llu skipped, "
		       "%.2f s\n",
		       argv[i], st.encoding, (unsigned long long)st.rows,
		       (unsigned long long)st.existing, (unsigned long long)st.skipped, st.seconds);
	}
	return 0;
}

static int cli_export(struct app *app, int argc, char **argv)
{
	const char *lg = lg_code_of(argc, argv, true);
	if (!lg)
		return 2;
	const char *path = opt(argc, argv, "-o");
	if (!path)
		path = opt(argc, argv, "--output");
	const char *purpose = opt(argc, argv, "--purpose");
	bool with_mn = flag(argc, argv, "--with-mynumber");
	int ja = opt_choice(argc, argv, "--header", "en", "ja");
	if (ja < 0)
		return 2;
	enum resident_csv_header header = ja ? RES_CSV_HEADER_JA : RES_CSV_HEADER_EN;
	FILE *out = stdout;
	if (path && *path && strcmp(path, "-") != 0) {
		/* never overwrite a file, and keep the new one private: it may
		 * hold My Numbers, and always holds personal data */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		out = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!out) {
			fprintf(stderr, "madoguchi: %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
	}
	char login[64];
	const char *user = getenv("USER");
	snprintf(login, sizeof login, "cli:%s", user && *user ? user : "unknown");
	struct resident_actor who = {
		.lg_code = lg,
		.actor_kind = "system",
		.actor_id = login,
		.actor_name = "madoguchi resident export",
		.purpose = purpose && *purpose ? purpose : "住民記録のCSV出力（コマンドライン）",
	};
	char err[512];
	int rc = resident_export_csv(app, &who, opt(argc, argv, "--as-of"), with_mn, header, out,
				     err, sizeof err);
	if (out != stdout && fclose(out) != 0 && rc == 0) {
		snprintf(err, sizeof err, "%s: %s", path, strerror(errno));
		rc = -EIO;
	}
	if (rc != 0) {
		fprintf(stderr, "madoguchi: resident export: %s\n", err);
		return rc == -EINVAL ? 2 : 1;
	}
	return 0;
}

static int count_residents(struct app *app, const char *lg, int64_t *n)
{
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st;
	int rc = -1;
	if (db_prepare(c, "SELECT COUNT(*) FROM residents WHERE lg_code = ?", &st) == 0) {
		db_bind_text(st, 1, lg);
		if (db_step(st) == DB_ROW) {
			*n = db_col_int64(st, 0);
			rc = 0;
		}
		db_done(st);
	}
	db_release(c);
	return rc;
}

/* Links the resident log-in `login` to a record of the population — the
 * head of a household aged 65 or more, the person the portal is built for —
 * and gives the account that resident's name, so the demo log-in sees a
 * whole record on わたしの情報. Nothing changes when the log-in already has a
 * record. */
static int link_login(struct app *app, const char *lg, const char *login)
{
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st;
	int64_t account = 0, linked = 0;
	char code[12] = "", name[301] = "";
	int rc = 1;
	if (db_prepare(c,
		       "SELECT a.id, (SELECT COUNT(*) FROM residents r WHERE r.lg_code = a.lg_code "
		       "AND r.account_id = a.id) FROM accounts a WHERE a.lg_code = ? AND "
		       "a.login = ? AND a.kind = 'resident'",
		       &st) != 0)
		goto out;
	db_bind_text(st, 1, lg);
	db_bind_text(st, 2, login);
	if (db_step(st) == DB_ROW) {
		account = db_col_int64(st, 0);
		linked = db_col_int64(st, 1);
	}
	db_done(st);
	if (account == 0) {
		fprintf(stderr, "madoguchi: demo populate: no resident log-in '%s' in %s\n", login,
			lg);
		goto out;
	}
	if (linked > 0) {
		rc = 0;
		goto out;
	}
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char cutoff[16];
	snprintf(cutoff, sizeof cutoff, "%04d-%02d-%02d", (tm.tm_year + 1900 - 65) % 10000,
		 (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
	if (db_prepare(c,
		       "SELECT juminhyo_code, name FROM residents WHERE lg_code = ? AND "
		       "account_id IS NULL AND status = 1 AND zokugara = '世帯主' AND birth <= ? "
		       "ORDER BY id LIMIT 1",
		       &st) != 0)
		goto out;
	db_bind_text(st, 1, lg);
	db_bind_text(st, 2, cutoff);
	if (db_step(st) == DB_ROW) {
		snprintf(code, sizeof code, "%s", db_col_text(st, 0));
		snprintf(name, sizeof name, "%s", db_col_text(st, 1));
	}
	db_done(st);
	if (!*code) {
		fprintf(stderr, "madoguchi: demo populate: no household head aged 65+ to link\n");
		goto out;
	}
	if (db_prepare(c, "UPDATE accounts SET display = ? WHERE id = ?", &st) != 0)
		goto out;
	db_bind_text(st, 1, name);
	db_bind_int64(st, 2, account);
	int s = db_step(st);
	db_done(st);
	if (s < 0)
		goto out;
	db_release(c);
	c = NULL;
	if (resident_link_account(app, lg, code, account) != 0) {
		fprintf(stderr, "madoguchi: demo populate: linking '%s' failed\n", login);
		goto out;
	}
	printf("log-in '%s' is now %s (住民票コード %s)\n", login, name, code);
	rc = 0;
out:
	if (c)
		db_release(c);
	return rc;
}

static int cli_populate(struct app *app, int argc, char **argv)
{
	const char *lg = lg_code_of(argc, argv, false);
	if (!lg)
		return 2;
	const char *count = opt(argc, argv, "--residents"), *seed = opt(argc, argv, "--seed");
	unsigned long long n = 0, s = 1;
	if (!count || !parse_number(count, &n) || n == 0) {
		fprintf(stderr, "madoguchi: demo populate needs --residents N\n");
		return 2;
	}
	if (seed && !parse_number(seed, &s)) {
		fprintf(stderr, "madoguchi: --seed takes a number\n");
		return 2;
	}
	int64_t existing = 0;
	if (flag(argc, argv, "--if-empty")) {
		if (count_residents(app, lg, &existing) != 0) {
			fprintf(stderr, "madoguchi: demo populate: cannot count the residents\n");
			return 1;
		}
		if (existing > 0)
			printf("%s already has %lld residents: nothing populated\n", lg,
			       (long long)existing);
	}
	char err[512];
	FILE *progress = isatty(STDERR_FILENO) ? stderr : NULL;
	if (existing == 0 && resident_populate(app, lg, n, s, progress, err, sizeof err) != 0) {
		fprintf(stderr, "madoguchi: demo populate: %s\n", err);
		return 1;
	}
	const char *login = opt(argc, argv, "--link-login");
	return login ? link_login(app, lg, login) : 0;
}

int resident_cli(struct app *app, int argc, char **argv)
{
	if (argc < 1)
		return 2;
	if (!strcmp(argv[0], "import"))
		return cli_import(app, argc, argv);
	if (!strcmp(argv[0], "export"))
		return cli_export(app, argc, argv);
	if (!strcmp(argv[0], "populate"))
		return cli_populate(app, argc, argv);
	fprintf(stderr, "madoguchi: unknown sub-command '%s'\n", argv[0]);
	return 2;
}
