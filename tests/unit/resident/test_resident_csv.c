/* Unit tests of the resident record's CSV import and export
 * (src/resident/resident_csv.c) on real SQLite files: UTF-8, UTF-8 with a
 * BOM and CP932 files, 和暦 dates, bad rows in abort and skip mode with
 * FILE:LINE, idempotent re-import, and export → import round trips. */
#include <iconv.h>

#include "common/lgcode.h"
#include "resident_fixture.h"

/* Three residents of one household; codes start with prefix (1 digit). */
static char *good_csv(char prefix)
{
	char a1[24], a2[24], a3[24], s[24], mn[13];
	atena(a1, sizeof a1, (unsigned)(prefix - '0') * 1000 + 1);
	atena(a2, sizeof a2, (unsigned)(prefix - '0') * 1000 + 2);
	atena(a3, sizeof a3, (unsigned)(prefix - '0') * 1000 + 3);
	atena(s, sizeof s, (unsigned)(prefix - '0') * 1000 + 500);
	mynumber(mn, 98765432100ULL + (unsigned)(prefix - '0'));
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	fprintf(m,
		"name,name_kana,juminhyo_code,atena_no,setai_no,birth,sex,zokugara,address,"
		"machiaza_id,mynumber,event,moved_in\r\n"
		"齋藤 一郎,サイトウ イチロウ,%c0000000001,%s,%s,昭和55年4月1日,1,世帯主,"
		"\"和歌山県和歌山市七番丁23番地, コーポ和歌山101\",0001001,%s,tennyu,2015-04-01\r\n"
		"齋藤 花子,サイトウ ハナコ,%c0000000002,%s,%s,1982-12-24,女,妻,"
		"和歌山県和歌山市七番丁23番地,0001001,,転入,H27.4.1\r\n"
		"齋藤 健太,サイトウ ケンタ,%c0000000003,%s,%s,2016-05-05,1,子,"
		"和歌山県和歌山市七番丁23番地,,,shussei,\r\n",
		prefix, a1, s, mn, prefix, a2, s, prefix, a3, s);
	fclose(m);
	return out;
}

/* Writes n bytes of text to f->dir/name; its path goes to path. */
static void write_file(struct fixture *f, const char *name, const char *text, size_t n,
		       char path[160])
{
	snprintf(path, 160, "%s/%s", f->dir, name);
	FILE *out = fopen(path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(text, 1, n, out), n);
	assert_int_equal(fclose(out), 0);
}

static char *to_cp932(const char *utf8, size_t *outlen)
{
	iconv_t cd = iconv_open("CP932", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	size_t il = strlen(utf8), ol = il * 2 + 16;
	char *out = calloc(1, ol), *op = out;
	char *ip = (char *)utf8;
	size_t cap = ol;
	assert_int_not_equal(iconv(cd, &ip, &il, &op, &ol), (size_t)-1);
	iconv_close(cd);
	*outlen = cap - ol;
	return out;
}

/* utf8 written in encoding ("UTF-8", "UTF-8 (BOM)" or "CP932", as the
 * import names them): malloc'd, its length in *n. */
static char *in_encoding(const char *utf8, const char *encoding, size_t *n)
{
	if (!strcmp(encoding, "CP932"))
		return to_cp932(utf8, n);
	bool bom = !strcmp(encoding, "UTF-8 (BOM)");
	size_t len = strlen(utf8);
	char *out = malloc(len + 3);
	memcpy(out, "\xEF\xBB\xBF", bom ? 3 : 0);
	memcpy(out + (bom ? 3 : 0), utf8, len);
	*n = len + (bom ? 3 : 0);
	return out;
}

static int import(struct fixture *f, const char *lg, const char *path, enum abr_on_error mode,
		  struct resident_import_stats *st, char **report, char *err, size_t errlen)
{
	size_t rlen = 0;
	FILE *rep = open_memstream(report, &rlen);
	int rc = resident_import_csv(&f->app, lg, path, mode, rep, NULL, st, err, errlen);
	fclose(rep);
	return rc;
}

static void three_encodings(void **state)
{
	struct fixture *f = *state;
	char path[160], err[512], *report = NULL;
	struct resident_import_stats st;
	static const struct {
		char prefix; /* of the 住民票コード, so the files do not overlap */
		const char *file, *encoding;
	} files[] = {
		{'1', "u.csv", "UTF-8"}, {'2', "b.csv", "UTF-8 (BOM)"}, {'3', "s.csv", "CP932"}};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *text = good_csv(files[i].prefix);
		size_t n;
		char *bytes = in_encoding(text, files[i].encoding, &n);
		write_file(f, files[i].file, bytes, n, path);
		free(bytes);
		free(text);
		assert_int_equal(import(f, LG_A, path, ABR_ABORT, &st, &report, err, sizeof err),
				 0);
		assert_string_equal(st.encoding, files[i].encoding);
		assert_int_equal(st.rows, 3);
		assert_string_equal(report, "");
		free(report);
	}
	/* again: nothing changes */
	assert_int_equal(import(f, LG_A, path, ABR_ABORT, &st, &report, err, sizeof err), 0);
	assert_int_equal(st.rows, 0);
	assert_int_equal(st.existing, 3);
	free(report);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM residents"), 9);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM resident_versions"), 9);
	/* the values as written, dates from 和暦, quoted commas kept */
	struct resident_actor w = staff(LG_A, "取込結果の確認");
	json_t *o = NULL;
	assert_int_equal(resident_get(&f->app, &w, "30000000001", NULL, &o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "齋藤 一郎");
	assert_string_equal(json_string_value(json_object_get(o, "birth")), "1980-04-01");
	assert_string_equal(json_string_value(json_object_get(o, "address")),
			    "和歌山県和歌山市七番丁23番地, コーポ和歌山101");
	char mn[13], masked[13] = "********";
	mynumber(mn, 98765432103ULL);
	memcpy(masked + 8, mn + 8, 5);
	assert_string_equal(json_string_value(json_object_get(o, "mynumber_masked")), masked);
	json_decref(o);
	assert_int_equal(resident_get(&f->app, &w, "30000000002", NULL, &o), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "sex")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "moved_in")), "2015-04-01");
	json_decref(o);
	/* 出生 without a date: resident since birth */
	assert_int_equal(resident_get(&f->app, &w, "30000000003", "2016-05-05", &o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "event")), "shussei");
	json_decref(o);
	/* searchable by kana in either script and by the name as written */
	assert_int_equal(resident_search(&f->app, &w, "さいとう", NULL, 50, &o), 0);
	assert_int_equal(json_array_size(o), 9);
	json_decref(o);
	assert_int_equal(resident_search(&f->app, &w, "齋藤 花子", NULL, 50, &o), 0);
	assert_int_equal(json_array_size(o), 3);
	json_decref(o);
}

static const char bad_head[] = "juminhyo_code,atena_no,setai_no,name,name_kana,birth,sex\n";

static char *bad_csv(void)
{
	char a[4][24], s[24];
	for (int i = 0; i < 4; i++)
		atena(a[i], sizeof a[i], 9000 + (unsigned)i);
	atena(s, sizeof s, 9500);
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	fprintf(m,
		"%s"
		"90000000001,%s,%s,田中 一,タナカ ハジメ,1990-01-01,1\n"
		"90000000002,%s,%s,田中 二,タナカ フタバ,1990-13-01,2\n"
		"90000000003,%s,%s,田中 三,たなか みつ,1991-01-01,2\n"
		"90000000004,%s,%s,田中 四,タナカ ヨツ,1992-01-01,1\n",
		bad_head, a[0], s, a[1], s, a[2], s, a[3], s);
	fclose(m);
	return out;
}

static void bad_rows(void **state)
{
	struct fixture *f = *state;
	char path[160], err[512], *report = NULL;
	struct resident_import_stats st;
	char *text = bad_csv();
	write_file(f, "bad.csv", text, strlen(text), path);
	free(text);
	assert_int_equal(import(f, LG_A, path, ABR_ABORT, &st, &report, err, sizeof err), -1);
	char want[400];
	snprintf(want, sizeof want, "%s:3: 生年月日の形式が正しくありません", path);
	if (!strstr(err, want))
		fail_msg("err: %s", err);
	assert_non_null(strstr(report, want));
	free(report);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM residents"), 0);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM resident_versions"), 0);
	assert_int_equal(import(f, LG_A, path, ABR_SKIP, &st, &report, err, sizeof err), 0);
	assert_int_equal(st.rows, 2);
	assert_int_equal(st.skipped, 2);
	assert_non_null(strstr(report, want));
	snprintf(want, sizeof want, "%s:4: 氏名カナ", path);
	assert_non_null(strstr(report, want));
	free(report);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM residents"), 2);
	/* a header without a required column */
	write_file(f, "nohead.csv", "juminhyo_code,name\n12345678901,x\n", 33, path);
	assert_int_equal(import(f, LG_A, path, ABR_SKIP, &st, &report, err, sizeof err), -1);
	assert_non_null(strstr(err, "atena_no"));
	free(report);
	/* neither UTF-8 nor CP932 */
	write_file(f, "bin.csv", bad_head, sizeof bad_head - 1, path);
	FILE *fp = fopen(path, "ab");
	fputs("\x81\x7f\xff\xfe\n", fp);
	fclose(fp);
	assert_int_equal(import(f, LG_A, path, ABR_SKIP, &st, &report, err, sizeof err), -1);
	free(report);
	/* a wrong municipality code */
	assert_int_equal(import(f, "302016", path, ABR_SKIP, &st, &report, err, sizeof err), -1);
	free(report);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM residents"), 2);
}

/* The export as a malloc'd string (through a temporary file). */
static char *export_text(struct fixture *f, const char *lg, const char *as_of, bool mn)
{
	char err[256];
	FILE *m = tmpfile();
	assert_non_null(m);
	struct resident_actor w = staff(lg, "移行データの作成");
	assert_int_equal(resident_export_csv(&f->app, &w, as_of, mn, m, err, sizeof err), 0);
	long n = ftell(m);
	assert_true(n > 0);
	rewind(m);
	char *buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, m), (size_t)n);
	fclose(m);
	return buf;
}

static void round_trip(void **state)
{
	struct fixture *f = *state;
	char path[160], err[512], *report = NULL, msg[256];
	struct resident_import_stats st;
	char *text = good_csv('4');
	write_file(f, "in.csv", text, strlen(text), path);
	free(text);
	assert_int_equal(import(f, LG_A, path, ABR_ABORT, &st, &report, err, sizeof err), 0);
	free(report);
	/* a later change, so the export as of today differs from the import */
	struct resident_actor w = staff(LG_A, NULL);
	struct resident_rec moved = {.address = "和歌山県和歌山市十番丁1番地",
				     .machiaza_id = "0001010"};
	assert_int_equal(resident_record_event(&f->app, &w, "40000000003", RES_EV_TENKYO,
					       "2020-01-01", NULL, &moved, msg, sizeof msg),
			 0);
	char *before = export_text(f, LG_A, "2019-12-31", true);
	char *now = export_text(f, LG_A, NULL, true);
	char *plain = export_text(f, LG_A, NULL, false);
	assert_string_not_equal(before, now);
	assert_non_null(strstr(now, "十番丁"));
	assert_non_null(strstr(now, "\"和歌山県和歌山市七番丁23番地, コーポ和歌山101\""));
	char mn[13];
	mynumber(mn, 98765432104ULL);
	assert_non_null(strstr(now, mn));
	assert_null(strstr(plain, mn));
	assert_int_equal(strncmp(now, "juminhyo_code,atena_no,setai_no,name,", 37), 0);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log WHERE action = "
					  "'resident.export' AND detail LIKE '%with My Numbers%'"),
			 2);
	/* as of a day before anyone moved in: just the header */
	char *empty = export_text(f, LG_A, "2000-01-01", false);
	size_t lines = 0;
	for (const char *p = empty; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1);
	free(empty);
	/* into a second deployment (other keys), then out again: the same bytes */
	struct fixture g = {0};
	snprintf(g.dir, sizeof g.dir, "/tmp/mado-resident2-XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	assert_int_equal(fixture_open(&g), 0);
	write_file(&g, "now.csv", now, strlen(now), path);
	assert_int_equal(import(&g, LG_A, path, ABR_ABORT, &st, &report, err, sizeof err), 0);
	free(report);
	assert_int_equal(st.rows, 3);
	char *again = export_text(&g, LG_A, NULL, true);
	assert_string_equal(again, now);
	free(again);
	fixture_close(&g);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", g.dir);
	assert_int_equal(system(cmd), 0);
	free(before);
	free(now);
	free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(three_encodings, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
