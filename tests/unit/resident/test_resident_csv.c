/* Unit tests of the resident record's CSV import and export
 * (src/resident/resident_csv.c) on real SQLite files and, when
 * MADO_TEST_PG_URL is set, on PostgreSQL: UTF-8, UTF-8 with a
 * BOM and CP932 files, English, Japanese and mixed headers, 和暦 dates,
 * 性別 and 異動事由 as clerks write them, bad rows in abort and skip mode with
 * FILE:LINE, idempotent re-import, and export → import round trips with
 * either header. */
#include <iconv.h>

#include "common/lgcode.h"
#include "resident_fixture.h"

/* The numbers of a household of three whose codes start with prefix (1
 * digit): 宛名番号 a[0..2], 世帯番号 s, the head's My Number mn. */
struct household {
	char a[3][24], s[24], mn[13];
};

static void household(char prefix, struct household *h)
{
	unsigned base = (unsigned)(prefix - '0') * 1000;
	for (unsigned i = 0; i < 3; i++)
		atena(h->a[i], sizeof h->a[i], base + 1 + i);
	atena(h->s, sizeof h->s, base + 500);
	mynumber(h->mn, 98765432100ULL + (unsigned)(prefix - '0'));
}

/* The CSV of a household of three whose codes start with prefix: the
 * header head (13 names, in the order name, kana, 住民票コード, 宛名番号,
 * 世帯番号, 生年月日, 性別, 続柄, 住所, 町字ID, 個人番号, 異動事由, 異動日)
 * and for each resident name, kana, birth, sex, zokugara, address (as a CSV
 * field), machiaza_id, event and moved_in; the head gets a My Number. */
static char *household_csv(char prefix, const char *head, const char *const rows[3][9])
{
	struct household h;
	household(prefix, &h);
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	fprintf(m, "%s\r\n", head);
	for (int i = 0; i < 3; i++) {
		const char *const *r = rows[i];
		fprintf(m, "%s,%s,%c000000000%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\r\n", r[0], r[1],
			prefix, i + 1, h.a[i], h.s, r[2], r[3], r[4], r[5], r[6],
			i == 0 ? h.mn : "", r[7], r[8]);
	}
	fclose(m);
	return out;
}

/* Three residents of one household; codes start with prefix (1 digit). */
static char *good_csv(char prefix)
{
	static const char *const rows[3][9] = {
		{"齋藤 一郎", "サイトウ イチロウ", "昭和55年4月1日", "1", "世帯主",
		 "\"和歌山県和歌山市七番丁23番地, コーポ和歌山101\"", "0001001", "tennyu",
		 "2015-04-01"},
		{"齋藤 花子", "サイトウ ハナコ", "1982-12-24", "女", "妻",
		 "和歌山県和歌山市七番丁23番地", "0001001", "転入", "H27.4.1"},
		{"齋藤 健太", "サイトウ ケンタ", "2016-05-05", "1", "子",
		 "和歌山県和歌山市七番丁23番地", "", "shussei", ""},
	};
	return household_csv(prefix,
			     "name,name_kana,juminhyo_code,atena_no,setai_no,birth,sex,zokugara,"
			     "address,machiaza_id,mynumber,event,moved_in",
			     rows);
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

/* Writes the malloc'd utf8 (freed here) in encoding to f->dir/name and
 * imports it, which must take its three rows without a report. */
static void import_household(struct fixture *f, const char *name, char *utf8, const char *encoding,
			     char path[160])
{
	char err[512], *report = NULL;
	struct resident_import_stats st;
	size_t n;
	char *bytes = in_encoding(utf8, encoding, &n);
	write_file(f, name, bytes, n, path);
	free(bytes);
	free(utf8);
	if (import(f, LG_A, path, ABR_ABORT, &st, &report, err, sizeof err) != 0)
		fail_msg("%s: %s", name, err);
	assert_string_equal(st.encoding, encoding);
	assert_int_equal(st.rows, 3);
	assert_string_equal(report, "");
	free(report);
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
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		import_household(f, files[i].file, good_csv(files[i].prefix), files[i].encoding,
				 path);
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
static char *export_hdr(struct fixture *f, const char *lg, const char *as_of, bool mn,
			enum resident_csv_header hdr)
{
	char err[256];
	FILE *m = tmpfile();
	assert_non_null(m);
	struct resident_actor w = staff(lg, "移行データの作成");
	assert_int_equal(resident_export_csv(&f->app, &w, as_of, mn, hdr, m, err, sizeof err), 0);
	long n = ftell(m);
	assert_true(n > 0);
	rewind(m);
	char *buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, m), (size_t)n);
	fclose(m);
	return buf;
}

static char *export_text(struct fixture *f, const char *lg, const char *as_of, bool mn)
{
	return export_hdr(f, lg, as_of, mn, RES_CSV_HEADER_EN);
}

/* Opens a new deployment g (other keys, its own directory, on f's
 * backend: its own PostgreSQL schema) and imports text into it, which must
 * succeed. */
static void import_fresh(const struct fixture *f, struct fixture *g, const char *text,
			 struct resident_import_stats *st)
{
	char path[160], err[512], *report = NULL;
	assert_int_equal(fixture_make(g, on_pg(f)), 0);
	assert_int_equal(fixture_open(g), 0);
	write_file(g, "in.csv", text, strlen(text), path);
	if (import(g, LG_A, path, ABR_ABORT, st, &report, err, sizeof err) != 0)
		fail_msg("%s", err);
	free(report);
}

/* Closes g and removes its directory (and schema). */
static void drop_fresh(struct fixture *g)
{
	assert_int_equal(fixture_drop(g), 0);
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
	/* the Japanese header: the same values under 住民票コード, 宛名番号 … */
	char *now_ja = export_hdr(f, LG_A, NULL, true, RES_CSV_HEADER_JA);
	static const char ja_head[] = "住民票コード,宛名番号,世帯番号,氏名,氏名カナ,生年月日,性別,"
				      "続柄,住所,町字ID,街区ID,住居ID,地番ID,個人番号,異動事由,"
				      "異動日\r\n";
	assert_int_equal(strncmp(now_ja, ja_head, strlen(ja_head)), 0);
	assert_string_equal(now_ja + strlen(ja_head), strchr(now, '\n') + 1);
	/* each file into a new deployment (other keys), then out again in
	 * both headers: the same bytes */
	const char *const files[] = {now, now_ja};
	for (size_t i = 0; i < 2; i++) {
		struct fixture g = {0};
		import_fresh(f, &g, files[i], &st);
		assert_int_equal(st.rows, 3);
		char *again = export_text(&g, LG_A, NULL, true);
		char *again_ja = export_hdr(&g, LG_A, NULL, true, RES_CSV_HEADER_JA);
		assert_string_equal(again, now);
		assert_string_equal(again_ja, now_ja);
		free(again);
		free(again_ja);
		drop_fresh(&g);
	}
	free(before);
	free(now);
	free(now_ja);
	free(plain);
}

/* A value a spreadsheet would run as a formula (= + - @) is exported with
 * a leading ', before quoting; import takes that one ' off again, so the
 * file still round-trips (a value that itself starts with ' and then one of
 * those gets one more). */
static void formula_guard(void **state)
{
	struct fixture *f = *state;
	char path[160], err[512], *report = NULL, msg[256];
	struct resident_import_stats st;
	char *text = good_csv('5');
	write_file(f, "in.csv", text, strlen(text), path);
	free(text);
	assert_int_equal(import(f, LG_A, path, ABR_ABORT, &st, &report, err, sizeof err), 0);
	free(report);
	struct resident_actor w = staff(LG_A, NULL);
	static const struct {
		const char *jc, *zokugara, *want;
	} cases[] = {
		{"50000000001", "=SUM(1,2)", "\"'=SUM(1,2)\""},
		{"50000000002", "@cmd", ",'@cmd,"},
		{"50000000003", "'+1", ",''+1,"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resident_rec ch = {.zokugara = cases[i].zokugara};
		if (resident_record_event(&f->app, &w, cases[i].jc, RES_EV_CORRECT, "2024-01-01",
					  NULL, &ch, msg, sizeof msg) != 0)
			fail_msg("%s: %s", cases[i].zokugara, msg);
	}
	char *out = export_text(f, LG_A, NULL, false);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (!strstr(out, cases[i].want))
			fail_msg("no %s in %s", cases[i].want, out);
	assert_null(strstr(out, ",=SUM"));
	assert_null(strstr(out, "\"=SUM"));
	/* into a new deployment and out again: the same bytes */
	struct fixture g = {0};
	import_fresh(f, &g, out, &st);
	assert_int_equal(count(g.app.db, "SELECT COUNT(*) FROM residents WHERE zokugara = "
					 "'=SUM(1,2)' OR zokugara = '@cmd' OR zokugara = '''+1'"),
			 3);
	char *again = export_text(&g, LG_A, NULL, false);
	assert_string_equal(again, out);
	free(again);
	drop_fresh(&g);
	free(out);
}

/* Three residents of one household as a municipal system writes them:
 * the columns named by head (see household_csv) and 性別/異動事由 in
 * Japanese. */
static char *ja_csv(char prefix, const char *head)
{
	static const char *const rows[3][9] = {
		{"山田 太郎", "ヤマダ タロウ", "昭和50年1月2日", "男性", "世帯主",
		 "和歌山県和歌山市七番丁23番地", "0001001", "転入", "令和2年4月1日"},
		{"山田 花子", "ヤマダ ハナコ", "1978-03-04", "女", "妻",
		 "和歌山県和歌山市七番丁23番地", "0001001", "転入", "2020-04-01"},
		{"山田 一郎", "ヤマダ イチロウ", "2021-06-07", "１", "子",
		 "和歌山県和歌山市七番丁23番地", "", "出生", ""},
	};
	return household_csv(prefix, head, rows);
}

static void japanese_headers(void **state)
{
	struct fixture *f = *state;
	char path[160];
	static const struct {
		char prefix; /* of the 住民票コード, so the files do not overlap */
		const char *encoding, *head;
	} cases[] = {
		{'1', "UTF-8",
		 "氏名,氏名カナ,住民票コード,宛名番号,世帯番号,生年月日,性別,続柄,住所,町字ID,"
		 "個人番号,異動事由,異動日"},
		{'2', "UTF-8 (BOM)",
		 "氏名,氏名カナ,住民票コード,宛名番号,世帯番号,生年月日,性別,続柄,住所,町字ID,"
		 "個人番号,異動事由,異動日"},
		{'3', "CP932",
		 "氏名,氏名カナ,住民票コード,宛名番号,世帯番号,生年月日,性別,続柄,住所,町字ID,"
		 "個人番号,異動事由,異動日"},
		/* the other names municipal systems use */
		{'4', "CP932",
		 "氏名,氏名（カナ）,住民票コード,宛名番号,世帯番号,生年月日,性別,世帯主との続柄,"
		 "住所,町字ID,マイナンバー,異動事由,住民となった日"},
		{'5', "UTF-8",
		 "氏名,カナ氏名,住民票コード,宛名番号,世帯番号,生年月日,性別,続柄,住所,町字ID,"
		 "個人番号,異動事由,異動日"},
		/* width, spaces and case folded */
		{'6', "UTF-8",
		 " 氏名 ,ﾌﾘｶﾞﾅ,住民票 コード,宛名番号,世帯番号,生年月日,性別,続　柄,住所,町字ＩＤ,"
		 "個人番号,異動事由,異動日"},
		{'7', "CP932",
		 "氏名,氏名 (カナ),住民票コード,宛名番号,世帯番号,生年月日,性別,続柄,住所,町字id,"
		 "個人番号,異動事由,異動日"},
		/* English and Japanese mixed */
		{'8', "UTF-8",
		 "name,フリガナ,juminhyo_code,宛名番号,setai_no,生年月日,sex,続柄,address,"
		 "Machiaza_ID,マイナンバー,event,住民となった日"},
	};
	struct resident_actor w = staff(LG_A, "取込結果の確認");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[16];
		snprintf(name, sizeof name, "ja%zu.csv", i);
		import_household(f, name, ja_csv(cases[i].prefix, cases[i].head), cases[i].encoding,
				 path);
		/* every column landed where it belongs */
		char code[12], mn[13], masked[13] = "********";
		json_t *o = NULL;
		snprintf(code, sizeof code, "%c0000000001", cases[i].prefix);
		assert_int_equal(resident_get(&f->app, &w, code, NULL, &o), 0);
		assert_string_equal(json_string_value(json_object_get(o, "name")), "山田 太郎");
		assert_string_equal(json_string_value(json_object_get(o, "name_kana")),
				    "ヤマダ タロウ");
		assert_string_equal(json_string_value(json_object_get(o, "birth")), "1975-01-02");
		assert_int_equal(json_integer_value(json_object_get(o, "sex")), 1);
		assert_string_equal(json_string_value(json_object_get(o, "zokugara")), "世帯主");
		assert_string_equal(json_string_value(json_object_get(o, "address")),
				    "和歌山県和歌山市七番丁23番地");
		assert_string_equal(json_string_value(json_object_get(o, "machiaza_id")),
				    "0001001");
		assert_string_equal(json_string_value(json_object_get(o, "moved_in")),
				    "2020-04-01");
		mynumber(mn, 98765432100ULL + (unsigned)(cases[i].prefix - '0'));
		memcpy(masked + 8, mn + 8, 5);
		assert_string_equal(json_string_value(json_object_get(o, "mynumber_masked")),
				    masked);
		json_decref(o);
		snprintf(code, sizeof code, "%c0000000002", cases[i].prefix);
		assert_int_equal(resident_get(&f->app, &w, code, NULL, &o), 0);
		assert_int_equal(json_integer_value(json_object_get(o, "sex")), 2);
		assert_string_equal(json_string_value(json_object_get(o, "event")), "tennyu");
		json_decref(o);
		snprintf(code, sizeof code, "%c0000000003", cases[i].prefix);
		assert_int_equal(resident_get(&f->app, &w, code, NULL, &o), 0);
		assert_int_equal(json_integer_value(json_object_get(o, "sex")), 1);
		assert_string_equal(json_string_value(json_object_get(o, "event")), "shussei");
		json_decref(o);
	}
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM residents"),
			 (int64_t)(3 * (sizeof cases / sizeof cases[0])));
}

/* A column named twice, by the same name or by two of its names, and a
 * required column missing under a Japanese header: refused naming them. */
static void header_errors(void **state)
{
	struct fixture *f = *state;
	char path[160], err[512], *report = NULL;
	struct resident_import_stats st;
	static const struct {
		const char *head, *want[3];
	} cases[] = {
		{"住民票コード,宛名番号,世帯番号,氏名,氏名カナ,生年月日,性別,フリガナ",
		 {"列「氏名カナ」（5列目）と列「フリガナ」（8列目）", "name_kana"}},
		{"name_kana,住民票コード,宛名番号,世帯番号,氏名,生年月日,性別,氏名（カナ）",
		 {"列「name_kana」（1列目）と列「氏名（カナ）」（8列目）"}},
		{"住民票コード,宛名番号,世帯番号,氏名,氏名カナ,生年月日,性別,個人番号,マイナンバー",
		 {"列「個人番号」（8列目）と列「マイナンバー」（9列目）", "mynumber"}},
		{"住民票コード,宛名番号,世帯番号,氏名,氏名カナ,生年月日,性別,異動日,住民となった日",
		 {"列「異動日」（8列目）と列「住民となった日」（9列目）"}},
		/* two spellings that fold to one name */
		{"住民票コード,宛名番号,世帯番号,氏名,氏名 カナ,生年月日,性別,氏名カナ",
		 {"列「氏名カナ」（5列目）と列「氏名カナ」（8列目）"}},
		{"juminhyo_code,atena_no,setai_no,name,name_kana,birth,sex,sex",
		 {"列「sex」（7列目）と列「sex」（8列目）", "性別"}},
		{"住民票コード,世帯番号,氏名,氏名カナ,生年月日,性別",
		 {"見出し行に 宛名番号 (atena_no) の列がありません"}},
		{"住民票コード,宛名番号,世帯番号,氏名,生年月日,性別,カナ",
		 {"氏名カナ (name_kana) の列がありません"}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[512], name[16];
		snprintf(text, sizeof text, "%s\n90000000001,x,y,z,ア,1990-01-01,1,,\n",
			 cases[i].head);
		snprintf(name, sizeof name, "dup%zu.csv", i);
		write_file(f, name, text, strlen(text), path);
		assert_int_equal(import(f, LG_A, path, ABR_SKIP, &st, &report, err, sizeof err),
				 -1);
		free(report);
		char at[200];
		snprintf(at, sizeof at, "%s:1: ", path);
		if (strncmp(err, at, strlen(at)) != 0)
			fail_msg("case %zu: %s", i, err);
		for (size_t k = 0; k < 3 && cases[i].want[k]; k++)
			if (!strstr(err, cases[i].want[k]))
				fail_msg("case %zu: no '%s' in: %s", i, cases[i].want[k], err);
	}
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM residents"), 0);
}

/* 性別 and 異動事由 as clerks write them, one row each: what is stored, or
 * the row refused with a message naming the field. */
static void japanese_values(void **state)
{
	struct fixture *f = *state;
	char path[160], err[512], *report = NULL;
	struct resident_import_stats st;
	static const struct {
		const char *sex, *event, *moved_in;
		int want_sex;           /* 0: refused */
		const char *want_event; /* stored event, or a part of the refusal */
	} cases[] = {
		{"1", "", "", 1, "shussei"},
		{"男", "転入", "2020-04-01", 1, "tennyu"},
		{"男性", "出生", "", 1, "shussei"},
		{"１", "ｔｅｎｎｙｕ", "2020-04-01", 1, "tennyu"},
		{" 2 ", "Tennyu", "2020-04-01", 2, "tennyu"},
		{"女", " 転入 ", "2020-04-01", 2, "tennyu"},
		{"女性", "出生", "2001-02-03", 2, "shussei"},
		{"９", "転　入", "2020-04-01", 9, "tennyu"},
		{"未記載", "shussei", "", 9, "shussei"},
		{"", "転入", "2020-04-01", 0, "性別"},
		{"3", "転入", "2020-04-01", 0, "性別"},
		{"おとこ", "転入", "2020-04-01", 0, "性別"},
		{"男", "転校", "2020-04-01", 0, "異動事由"},
		{"男", "転入", "", 0, "異動日"},
		{"男", "死亡", "2020-04-01", 0, "転入"},
	};
	struct resident_actor w = staff(LG_A, "取込結果の確認");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[600], name[16], code[12], a[24], s[24];
		snprintf(code, sizeof code, "5%010zu", i + 1);
		atena(a, sizeof a, 5000 + i);
		atena(s, sizeof s, 5500 + i);
		snprintf(
			text, sizeof text,
			"住民票コード,宛名番号,世帯番号,氏名,氏名カナ,生年月日,性別,異動事由,異動日\n"
			"%s,%s,%s,試験 太郎,シケン タロウ,2001-02-03,%s,%s,%s\n",
			code, a, s, cases[i].sex, cases[i].event, cases[i].moved_in);
		snprintf(name, sizeof name, "v%zu.csv", i);
		write_file(f, name, text, strlen(text), path);
		assert_int_equal(import(f, LG_A, path, ABR_SKIP, &st, &report, err, sizeof err), 0);
		if (cases[i].want_sex == 0) {
			if (st.skipped != 1 || !strstr(report, cases[i].want_event))
				fail_msg("case %zu: not refused for %s: %s", i, cases[i].want_event,
					 report);
			free(report);
			continue;
		}
		if (st.rows != 1)
			fail_msg("case %zu: refused: %s", i, report);
		free(report);
		json_t *o = NULL;
		assert_int_equal(resident_get(&f->app, &w, code, NULL, &o), 0);
		assert_int_equal(json_integer_value(json_object_get(o, "sex")), cases[i].want_sex);
		assert_string_equal(json_string_value(json_object_get(o, "event")),
				    cases[i].want_event);
		json_decref(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(three_encodings, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(formula_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(japanese_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(header_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(japanese_values, setup, teardown),
	};
	return RUN_BOTH("resident_csv", tests);
}
