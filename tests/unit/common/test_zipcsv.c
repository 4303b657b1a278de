/* Unit tests for common/zipcsv.c: real zip files written with libzip in a
 * temporary directory — one member, several, a named member, a directory
 * entry, a corrupted member (CRC), a file that is not a zip, a size bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include <cmocka.h>

#include "common/zipcsv.h"

struct member {
	const char *name;
	const char *data; /* NULL: a directory entry */
	bool store;       /* no compression, so the bytes are findable in the file */
};

struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof f->dir, "/tmp/mado-zipcsv-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/t.zip", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void make_zip(const char *path, const struct member *m, size_t n)
{
	int err = 0;
	unlink(path);
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_EXCL, &err);
	assert_non_null(z);
	for (size_t i = 0; i < n; i++) {
		if (!m[i].data) {
			assert_true(zip_dir_add(z, m[i].name, 0) >= 0);
			continue;
		}
		zip_source_t *src = zip_source_buffer(z, m[i].data, strlen(m[i].data), 0);
		assert_non_null(src);
		zip_int64_t idx = zip_file_add(z, m[i].name, src, 0);
		assert_true(idx >= 0);
		if (m[i].store)
			assert_int_equal(
				zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0), 0);
	}
	assert_int_equal(zip_close(z), 0);
}

static const char city_csv[] = "\xEF\xBB\xBFlg_code,name\r\n302015,和歌山市\r\n131059,文京区\r\n";

static int read_all(struct zipcsv *z, char *out, size_t cap)
{
	struct csv *c = zipcsv_csv(z);
	size_t len = 0;
	int rc;
	out[0] = '\0';
	while ((rc = csv_next(c)) > 0)
		len += (size_t)snprintf(out + len, cap - len, "%s=%s;", csv_field(c, 0),
					csv_field(c, 1));
	return rc;
}

static void test_single_member(void **state)
{
	struct fx *f = *state;
	struct member m[] = {{"data/", NULL, false}, {"data/mt_city_all.csv", city_csv, false}};
	make_zip(f->path, m, 2);
	struct zipcsv *z = NULL;
	char err[256], out[256];
	assert_int_equal(zipcsv_open(f->path, NULL, NULL, &z, err, sizeof err), 0);
	assert_string_equal(zipcsv_member(z), "data/mt_city_all.csv");
	assert_int_equal(read_all(z, out, sizeof out), 0);
	assert_string_equal(out, "lg_code=name;302015=和歌山市;131059=文京区;");
	zipcsv_close(z);
}

static void test_named_and_ambiguous(void **state)
{
	struct fx *f = *state;
	struct member m[] = {{"a.csv", "x,y\n1,2\n", false}, {"b.csv", city_csv, false}};
	make_zip(f->path, m, 2);
	struct zipcsv *z = (struct zipcsv *)1;
	char err[256] = "", out[256];
	assert_int_equal(zipcsv_open(f->path, NULL, NULL, &z, err, sizeof err), ZIPCSV_EMEMBER);
	assert_null(z);
	assert_non_null(strstr(err, "exactly one"));
	assert_int_equal(zipcsv_open(f->path, "c.csv", NULL, &z, err, sizeof err), ZIPCSV_EMEMBER);
	assert_non_null(strstr(err, "c.csv"));
	assert_int_equal(zipcsv_open(f->path, "a.csv", NULL, &z, err, sizeof err), 0);
	assert_int_equal(read_all(z, out, sizeof out), 0);
	assert_string_equal(out, "x=y;1=2;");
	zipcsv_close(z);
}

static void test_not_a_zip(void **state)
{
	struct fx *f = *state;
	struct zipcsv *z = NULL;
	char err[256] = "";
	FILE *fp = fopen(f->path, "wb");
	assert_non_null(fp);
	fputs("lg_code,name\n302015,x\n", fp);
	fclose(fp);
	assert_int_equal(zipcsv_open(f->path, NULL, NULL, &z, err, sizeof err), ZIPCSV_EOPEN);
	assert_non_null(strstr(err, f->path));
	assert_int_equal(zipcsv_open("/nonexistent/x.zip", NULL, NULL, &z, err, sizeof err),
			 ZIPCSV_EOPEN);
	assert_null(z);
}

/* Flip one stored byte: the CRC check at the end of the member fails and the
 * CSV reader reports a read error instead of returning altered data quietly. */
static void test_corrupt_member(void **state)
{
	struct fx *f = *state;
	static char big[20000];
	size_t n = 0;
	n += (size_t)snprintf(big + n, sizeof big - n, "lg_code,name\n");
	for (int i = 0; n < sizeof big - 40; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "%06d,town-%d\n", i, i);
	struct member m[] = {{"c.csv", big, true}};
	make_zip(f->path, m, 1);

	FILE *fp = fopen(f->path, "r+b");
	assert_non_null(fp);
	static char file[40000];
	size_t fn = fread(file, 1, sizeof file, fp);
	char *hit = memmem(file, fn, "town-100\n", 9);
	assert_non_null(hit);
	hit[0] = 'T';
	assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
	assert_int_equal(fwrite(file, 1, fn, fp), fn);
	fclose(fp);

	struct zipcsv *z = NULL;
	char err[256], out[64];
	assert_int_equal(zipcsv_open(f->path, NULL, NULL, &z, err, sizeof err), 0);
	struct csv *c = zipcsv_csv(z);
	int rc;
	while ((rc = csv_next(c)) > 0)
		;
	(void)out;
	assert_int_equal(rc, CSV_EIO);
	zipcsv_close(z);
}

static void test_size_bound(void **state)
{
	struct fx *f = *state;
	struct member m[] = {{"c.csv", city_csv, false}};
	make_zip(f->path, m, 1);
	struct csv_opts o = {.max_bytes = 16};
	struct zipcsv *z = NULL;
	char err[256];
	assert_int_equal(zipcsv_open(f->path, NULL, &o, &z, err, sizeof err), ZIPCSV_ETOOBIG);
	assert_null(z);
	o.max_bytes = sizeof city_csv - 1;
	assert_int_equal(zipcsv_open(f->path, NULL, &o, &z, err, sizeof err), 0);
	zipcsv_close(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_named_and_ambiguous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_zip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_bound, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
