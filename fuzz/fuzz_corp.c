/* libFuzzer driver for the 法人番号 importer: the input is written to a file
 * and imported (encoding detection, CP932 conversion, record checks) into an
 * in-memory SQLite database, then used as a name search query. A failed
 * import must say why and leave nothing behind. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/corp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct app app;
static char dir[] = "/tmp/mado-fuzz-corp-XXXXXX";
static char path[64];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void init(void)
{
	char err[256];
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof path, "%s/in.csv", dir);
	atexit(cleanup);
	app.db = db_open("sqlite::memory:", 1, err, sizeof err);
	if (!app.db)
		abort();
	size_t n = 0;
	while (corp_module.migrations[n].version)
		n++;
	struct db_conn *c = db_acquire(app.db);
	if (db_migrate(c, "corp", corp_module.migrations, n, err, sizeof err) != 0)
		abort();
	db_release(c);
}

static int64_t rows(struct db_conn *c)
{
	int64_t n = -1;
	if (db_query_int64(c,
			   "SELECT (SELECT COUNT(*) FROM corp) + (SELECT COUNT(*) FROM "
			   "corp_history)",
			   &n) != DB_ROW)
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!app.db)
		init();
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	struct corp_import_stats st;
	char err[512] = "";
	enum abr_on_error mode = size && (data[size - 1] & 1) ? ABR_SKIP : ABR_ABORT;
	int rc = corp_import_file(&app, path, mode, NULL, NULL, &st, err, sizeof err);
	struct db_conn *c = db_acquire(app.db);
	if (rc != 0 && (!err[0] || rows(c) != 0))
		abort(); /* a failure says why and writes nothing */
	if (rc == 0 && (int64_t)st.rows > 0 && rows(c) == 0)
		abort();
	if (size <= 256) {
		char q[257];
		memcpy(q, data, size);
		q[size] = '\0';
		json_t *items = NULL;
		int s = corp_search(c, q, CORP_SEARCH_MAX, &items);
		if (s != 0 && s != -EINVAL)
			abort();
		json_decref(items);
	}
	if (db_exec(c, "DELETE FROM corp; DELETE FROM corp_history") != 0)
		abort();
	db_release(c);
	return 0;
}
