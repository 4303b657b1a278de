/* Unit tests of the resident record (src/resident/) on a real SQLite file
 * and, when MADO_TEST_PG_URL is set, on PostgreSQL: validation messages, My Number sealing, blind index and masking, the
 * effective-dated history through 転入→転居→世帯変更→転出, tenant
 * isolation, the audit entries of reads, and the bulk loader's rate. */
#include <time.h>

#include "resident_fixture.h"

static struct resident_rec base_rec(const char *lg, const char *jc, const char *atena_no,
				    const char *setai_no)
{
	struct resident_rec r = {
		.lg_code = lg,
		.juminhyo_code = jc,
		.atena_no = atena_no,
		.setai_no = setai_no,
		.name = "髙橋 太郎",
		.name_kana = "タカハシ　タロウ",
		.birth = "1980-04-01",
		.sex = 1,
		.zokugara = "世帯主",
		.address = "和歌山県和歌山市七番丁23番地",
		.machiaza_id = "0001001",
		.status = RES_ST_ACTIVE,
	};
	return r;
}

static void expect_bad(struct resident_rec r, const char *word)
{
	char msg[256] = "";
	assert_int_equal(resident_validate(&r, msg, sizeof msg), -EINVAL);
	if (!strstr(msg, word))
		fail_msg("message '%s' does not name '%s'", msg, word);
}

/* One text field of a valid record set to value, and a word its message
 * must hold. */
#define FIELD(name) offsetof(struct resident_rec, name)
static const struct {
	size_t field;
	const char *value, *word;
} bad_fields[] = {
	{FIELD(lg_code), "302016", "全国地方公共団体コード"},
	{FIELD(juminhyo_code), "1234567890", "住民票コード"},
	{FIELD(juminhyo_code), "1234567890a", "住民票コード"},
	{FIELD(setai_no), "12x4", "世帯番号"},
	{FIELD(name), "", "氏名を入力"},
	{FIELD(name), "山田\x01太郎", "氏名"},
	{FIELD(name), "山田\xff", "氏名"},
	{FIELD(name_kana), "たかはし", "氏名カナ"},
	{FIELD(birth), "1980/04/01",
	 "生年月日の形式が正しくありません（例: 1980-04-01 または 昭和55年4月1日）。"},
	{FIELD(birth), "1980-02-30", "生年月日"},
	{FIELD(birth), "1850-01-01", "生年月日"},
	{FIELD(birth), "2999-01-01", "未来"},
	{FIELD(machiaza_id), "12", "町字ID"},
	{FIELD(address), "和歌山市\n七番丁", "住所"},
};

static void validation(void **state)
{
	(void)state;
	char a[24], s[24], bad[24], msg[256];
	atena(a, sizeof a, 1001);
	atena(s, sizeof s, 5001);
	struct resident_rec ok = base_rec(LG_A, "12345678901", a, s);
	assert_int_equal(resident_validate(&ok, msg, sizeof msg), 0);
	struct resident_rec r;
	for (size_t i = 0; i < sizeof bad_fields / sizeof bad_fields[0]; i++) {
		r = ok;
		*(const char **)((char *)&r + bad_fields[i].field) = bad_fields[i].value;
		expect_bad(r, bad_fields[i].word);
	}
	snprintf(bad, sizeof bad, "%s", a);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '9' ? '0' : (char)(bad[strlen(bad) - 1] + 1);
	r = ok, r.atena_no = bad;
	expect_bad(r, "宛名番号のチェックデジット");
	char longname[400] = "";
	for (int i = 0; i < 101; i++)
		memcpy(longname + 3 * i, "山", 3); /* 101 × 3 bytes: inside the array */
	r = ok, r.name = longname;
	expect_bad(r, "100文字");
	r = ok, r.name_kana = "ヴァイオレット・エヴァーガーデン";
	assert_int_equal(resident_validate(&r, msg, sizeof msg), 0);
	r = ok, r.sex = 3;
	expect_bad(r, "性別");
	/* My Number: refused by the bulk loader with its own message */
	struct fixture *f = *state;
	struct db_conn *c = db_acquire(f->app.db);
	struct resident_bulk *b;
	assert_int_equal(resident_bulk_begin(&f->app, c, &b), 0);
	assert_int_equal(resident_bulk_add(b, &ok, "983205673215", RES_EV_TENNYU, "2020-04-01", msg,
					   sizeof msg),
			 -EINVAL);
	assert_non_null(strstr(msg, "個人番号のチェックデジット"));
	assert_null(strstr(msg, "98320567321"));
	assert_int_equal(resident_bulk_add(b, &ok, "98320567321", RES_EV_TENNYU, "2020-04-01", msg,
					   sizeof msg),
			 -EINVAL);
	assert_non_null(strstr(msg, "個人番号は12桁"));
	assert_int_equal(
		resident_bulk_add(b, &ok, NULL, RES_EV_TENNYU, "1979-04-01", msg, sizeof msg),
		-EINVAL); /* before birth */
	assert_int_equal(resident_bulk_end(b, false), 0);
	db_release(c);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM residents"), 0);
}

static void mynumber_sealed(void **state)
{
	struct fixture *f = *state;
	char a1[24], a2[24], s1[24], s2[24], out[13];
	struct resident_rec r1 =
		base_rec(LG_A, "11111111111", atena(a1, sizeof a1, 1), atena(s1, sizeof s1, 100));
	struct resident_rec r2 =
		base_rec(LG_A, "22222222222", atena(a2, sizeof a2, 2), atena(s2, sizeof s2, 200));
	r2.name = "鈴木 花子";
	r2.name_kana = "スズキ ハナコ";
	assert_int_equal(add_one(&f->app, &r1, "983205673214", "2020-04-01"), 0);
	assert_int_equal(add_one(&f->app, &r2, NULL, "2020-04-01"), 0);
	/* nothing of the digits is stored in clear (hex of the bytes: no
	 * "3214" in ASCII; the text form: no digits in a row) */
	assert_int_equal(count(f->app.db,
			       on_pg(f) ?
				       "SELECT COUNT(*) FROM residents WHERE encode(mynumber_enc, "
				       "'escape') LIKE '%983205673214%' OR encode(mynumber_enc, "
				       "'hex') LIKE '%' || encode('3214'::bytea, 'hex') || '%'" :
				       "SELECT COUNT(*) FROM residents WHERE CAST(mynumber_enc "
				       "AS TEXT) LIKE '%983205673214%' OR hex(mynumber_enc) LIKE "
				       "'%' || hex('3214') || '%'"),
			 0);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM residents WHERE mynumber_enc IS "
					  "NOT NULL"),
			 1);
	assert_int_equal(count(f->app.db, "SELECT length(mynumber_enc) FROM residents WHERE "
					  "juminhyo_code = '11111111111'"),
			 24 + 12 + 16);
	struct resident_actor w = staff(LG_A, "番号法第9条に基づく事務");
	assert_int_equal(resident_mynumber(&f->app, &w, "11111111111", out), 0);
	assert_string_equal(out, "983205673214");
	sodium_memzero(out, sizeof out);
	assert_int_equal(resident_mynumber(&f->app, &w, "22222222222", out), -ENOENT);
	/* masked on the record */
	json_t *o = NULL;
	assert_int_equal(resident_get(&f->app, &w, "11111111111", NULL, &o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "mynumber_masked")),
			    "********3214");
	char *dumped = json_dumps(o, 0);
	assert_null(strstr(dumped, "983205673214"));
	free(dumped);
	json_decref(o);
	/* found by its blind index, also typed in full width */
	json_t *hits = NULL;
	assert_int_equal(resident_search(&f->app, &w, "983205673214", NULL, 10, &hits), 0);
	assert_int_equal(json_array_size(hits), 1);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(hits, 0), "juminhyo_code")),
		"11111111111");
	json_decref(hits);
	assert_int_equal(resident_search(&f->app, &w, "９８３２０５６７３２１４", NULL, 10, &hits),
			 0);
	assert_int_equal(json_array_size(hits), 1);
	json_decref(hits);
	/* the query is never in the audit log */
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log WHERE detail LIKE "
					  "'%3214%' OR purpose LIKE '%3214%'"),
			 0);
	assert_int_equal(count(f->app.db,
			       "SELECT COUNT(*) FROM audit_log WHERE action = "
			       "'resident.mynumber' AND subject = 'resident:11111111111'"),
			 1);
	/* a ciphertext moved to another row does not open there */
	struct db_conn *c = db_acquire(f->app.db);
	assert_int_equal(db_exec(c, "UPDATE residents SET mynumber_enc = (SELECT mynumber_enc FROM "
				    "residents WHERE juminhyo_code = '11111111111') WHERE "
				    "juminhyo_code = '22222222222'"),
			 0);
	db_release(c);
	assert_int_equal(resident_mynumber(&f->app, &w, "22222222222", out), -EIO);
	assert_int_equal(out[0], '\0');
	/* reads need a purpose */
	struct resident_actor nopurpose = staff(LG_A, NULL);
	assert_int_equal(resident_mynumber(&f->app, &nopurpose, "11111111111", out), -EINVAL);
}

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The state as of day: its address, setai_no and status, or ENOENT. */
static int as_of(struct fixture *f, const char *day, char *addr, char *setai, char *status)
{
	struct resident_actor w = staff(LG_A, "住民票の写しの交付");
	json_t *o = NULL;
	int rc = resident_get(&f->app, &w, "33333333333", day, &o);
	if (rc == 0) {
		snprintf(addr, 128, "%s", str(o, "address"));
		snprintf(setai, 24, "%s", str(o, "setai_no"));
		snprintf(status, 16, "%s", str(o, "status"));
		json_decref(o);
	}
	return rc;
}

static void event_sequence(void **state)
{
	struct fixture *f = *state;
	char a[24], s1[24], s2[24], addr[128], setai[24], status[16], msg[256];
	struct resident_rec r =
		base_rec(LG_A, "33333333333", atena(a, sizeof a, 3), atena(s1, sizeof s1, 300));
	r.address = "和歌山県和歌山市一番丁1番地";
	assert_int_equal(add_one(&f->app, &r, NULL, "2020-04-01"), 0);
	struct resident_actor w = staff(LG_A, NULL); /* changes default their purpose */
	struct resident_rec moved = {.address = "和歌山県和歌山市二番丁2番地",
				     .machiaza_id = "0002001"};
	assert_int_equal(resident_record_event(&f->app, &w, "33333333333", RES_EV_TENKYO,
					       "2021-06-15", "2021-06-20", &moved, msg, sizeof msg),
			 0);
	struct resident_rec hh = {.setai_no = atena(s2, sizeof s2, 301), .zokugara = "子"};
	assert_int_equal(resident_record_event(&f->app, &w, "33333333333", RES_EV_SETAI,
					       "2022-01-10", NULL, &hh, msg, sizeof msg),
			 0);
	assert_int_equal(resident_record_event(&f->app, &w, "33333333333", RES_EV_TENSHUTSU,
					       "2023-03-31", "2023-03-20", NULL, msg, sizeof msg),
			 0);
	assert_int_equal(as_of(f, "2020-03-31", addr, setai, status), -ENOENT);
	assert_int_equal(as_of(f, "2020-04-01", addr, setai, status), 0);
	assert_string_equal(addr, "和歌山県和歌山市一番丁1番地");
	assert_int_equal(as_of(f, "2021-06-14", addr, setai, status), 0);
	assert_string_equal(addr, "和歌山県和歌山市一番丁1番地");
	assert_int_equal(as_of(f, "2021-06-15", addr, setai, status), 0);
	assert_string_equal(addr, "和歌山県和歌山市二番丁2番地");
	assert_string_equal(setai, s1);
	assert_int_equal(as_of(f, "2022-01-09", addr, setai, status), 0);
	assert_string_equal(setai, s1);
	assert_int_equal(as_of(f, "2022-01-10", addr, setai, status), 0);
	assert_string_equal(setai, s2);
	assert_string_equal(addr, "和歌山県和歌山市二番丁2番地");
	assert_int_equal(as_of(f, "2023-03-30", addr, setai, status), 0);
	assert_string_equal(status, "active");
	assert_int_equal(as_of(f, "2023-03-31", addr, setai, status), 0);
	assert_string_equal(status, "moved_out");
	assert_int_equal(as_of(f, NULL, addr, setai, status), 0);
	assert_string_equal(status, "moved_out");
	/* the history: four versions chained, never overwritten */
	struct resident_actor rd = staff(LG_A, "異動履歴の確認");
	json_t *h = NULL;
	assert_int_equal(resident_history(&f->app, &rd, "33333333333", &h), 0);
	assert_int_equal(json_array_size(h), 4);
	static const char *const evs[] = {"tennyu", "tenkyo", "setai", "tenshutsu"};
	static const char *const from[] = {"2020-04-01", "2021-06-15", "2022-01-10", "2023-03-31"};
	for (size_t i = 0; i < 4; i++) {
		json_t *v = json_array_get(h, i);
		assert_string_equal(str(v, "event"), evs[i]);
		assert_string_equal(str(v, "valid_from"), from[i]);
		if (i < 3)
			assert_string_equal(str(v, "valid_to"), from[i + 1]);
		else
			assert_true(json_is_null(json_object_get(v, "valid_to")));
	}
	assert_string_equal(str(json_array_get(h, 1), "notified"), "2021-06-20");
	assert_string_equal(str(json_array_get(h, 1), "event_ja"), "転居");
	json_decref(h);
	/* a change dated before the current version is refused */
	msg[0] = '\0';
	assert_int_equal(resident_record_event(&f->app, &w, "33333333333", RES_EV_TENNYU,
					       "2023-01-01", NULL, NULL, msg, sizeof msg),
			 -EINVAL);
	assert_non_null(strstr(msg, "2023-03-31"));
	/* after 転出 only 転入 (or a correction) may follow */
	assert_int_equal(resident_record_event(&f->app, &w, "33333333333", RES_EV_TENKYO,
					       "2023-05-01", NULL, &moved, msg, sizeof msg),
			 -EINVAL);
	assert_int_equal(resident_record_event(&f->app, &w, "33333333333", RES_EV_TENNYU,
					       "2999-01-01", NULL, NULL, msg, sizeof msg),
			 -EINVAL);
	assert_int_equal(resident_record_event(&f->app, &w, "99999999999", RES_EV_TENKYO,
					       "2023-05-01", NULL, &moved, msg, sizeof msg),
			 -ENOENT);
	struct resident_rec badkana = {.name_kana = "たかはし"};
	assert_int_equal(resident_record_event(&f->app, &w, "33333333333", RES_EV_TENNYU,
					       "2024-01-01", NULL, &badkana, msg, sizeof msg),
			 -EINVAL);
	assert_non_null(strstr(msg, "氏名カナ"));
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM resident_versions"), 4);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log WHERE action = "
					  "'resident.change' AND subject = 'resident:33333333333' "
					  "AND outcome = 'ok'"),
			 3);
	/* 転入 again: active from that day, the 除票 period kept */
	assert_int_equal(resident_record_event(&f->app, &w, "33333333333", RES_EV_TENNYU,
					       "2024-01-01", NULL, NULL, msg, sizeof msg),
			 0);
	assert_int_equal(as_of(f, "2023-12-31", addr, setai, status), 0);
	assert_string_equal(status, "moved_out");
	assert_int_equal(as_of(f, "2024-01-01", addr, setai, status), 0);
	assert_string_equal(status, "active");
}

static void tenant_isolation(void **state)
{
	struct fixture *f = *state;
	char a[24], s[24], msg[256];
	struct resident_rec r =
		base_rec(LG_A, "44444444444", atena(a, sizeof a, 4), atena(s, sizeof s, 400));
	assert_int_equal(add_one(&f->app, &r, "983205673214", "2020-04-01"), 0);
	/* the same 住民票コード may be held in another municipality (a person who moved) */
	struct resident_rec rb = base_rec(LG_B, "44444444444", a, s);
	rb.name = "別人 次郎";
	rb.name_kana = "ベツジン ジロウ";
	assert_int_equal(add_one(&f->app, &rb, NULL, "2021-04-01"), 0);
	struct resident_actor wb = staff(LG_B, "住民票の写しの交付");
	json_t *o = NULL;
	assert_int_equal(resident_get(&f->app, &wb, "44444444444", NULL, &o), 0);
	assert_string_equal(str(o, "name"), "別人 次郎");
	assert_true(json_is_null(json_object_get(o, "mynumber_masked")));
	json_decref(o);
	json_t *hits = NULL;
	assert_int_equal(resident_search(&f->app, &wb, "タカハシ", NULL, 10, &hits), 0);
	assert_int_equal(json_array_size(hits), 0);
	json_decref(hits);
	assert_int_equal(resident_search(&f->app, &wb, "983205673214", NULL, 10, &hits), 0);
	assert_int_equal(json_array_size(hits), 0);
	json_decref(hits);
	char out[13];
	assert_int_equal(resident_mynumber(&f->app, &wb, "44444444444", out), -ENOENT);
	assert_int_equal(resident_household(&f->app, &wb, s, NULL, &hits), 0);
	assert_int_equal(json_array_size(hits), 1);
	assert_string_equal(str(json_array_get(hits, 0), "name"), "別人 次郎");
	json_decref(hits);
	/* B's staff cannot record a change on A's resident */
	struct resident_rec moved = {.address = "東京都千代田区"};
	assert_int_equal(resident_record_event(&f->app, &wb, "44444444444", RES_EV_TENKYO,
					       "2022-01-01", NULL, &moved, msg, sizeof msg),
			 0); /* B's own record */
	struct resident_actor wa = staff(LG_A, "住民票の写しの交付");
	assert_int_equal(resident_get(&f->app, &wa, "44444444444", NULL, &o), 0);
	assert_string_equal(str(o, "address"), "和歌山県和歌山市七番丁23番地");
	json_decref(o);
	/* an A-only resident is invisible to B */
	char a5[24];
	struct resident_rec r5 = base_rec(LG_A, "55555555555", atena(a5, sizeof a5, 5), s);
	assert_int_equal(add_one(&f->app, &r5, NULL, "2020-04-01"), 0);
	assert_int_equal(resident_get(&f->app, &wb, "55555555555", NULL, &o), -ENOENT);
	assert_int_equal(resident_history(&f->app, &wb, "55555555555", &o), -ENOENT);
	assert_int_equal(resident_prefill(&f->app, &wb, "55555555555", &o), -ENOENT);
	assert_int_equal(resident_record_event(&f->app, &wb, "55555555555", RES_EV_TENKYO,
					       "2022-01-01", NULL, &moved, msg, sizeof msg),
			 -ENOENT);
	/* and B's export holds only B's resident */
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	char err[256];
	assert_int_equal(resident_export_csv(&f->app, &wb, NULL, false, RES_CSV_HEADER_EN, mem, err,
					     sizeof err),
			 0);
	fclose(mem);
	assert_non_null(strstr(buf, "別人 次郎"));
	assert_null(strstr(buf, "髙橋"));
	free(buf);
}

static void audit_of_reads(void **state)
{
	struct fixture *f = *state;
	char a[24], s[24];
	struct resident_rec r =
		base_rec(LG_A, "66666666666", atena(a, sizeof a, 6), atena(s, sizeof s, 600));
	assert_int_equal(add_one(&f->app, &r, NULL, "2020-04-01"), 0);
	assert_int_equal(count(f->app.db,
			       "SELECT COUNT(*) FROM audit_log WHERE action = "
			       "'resident.change' AND actor_kind = 'system' AND lg_code = "
			       "'302015' AND detail LIKE '1 residents%'"),
			 1);
	json_t *o = NULL;
	struct resident_actor none = staff(LG_A, "");
	assert_int_equal(resident_get(&f->app, &none, "66666666666", NULL, &o), -EINVAL);
	assert_int_equal(resident_search(&f->app, &none, "タカハシ", NULL, 10, &o), -EINVAL);
	assert_int_equal(resident_household(&f->app, &none, s, NULL, &o), -EINVAL);
	assert_int_equal(resident_prefill(&f->app, &none, "66666666666", &o), -EINVAL);
	assert_int_equal(resident_history(&f->app, &none, "66666666666", &o), -EINVAL);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log WHERE action LIKE "
					  "'resident.%' AND action <> 'resident.change'"),
			 0);
	struct resident_actor w = staff(LG_A, "住民票の写しの交付");
	assert_int_equal(resident_get(&f->app, &w, "66666666666", "2021-01-01", &o), 0);
	json_decref(o);
	assert_int_equal(count(f->app.db,
			       "SELECT COUNT(*) FROM audit_log WHERE action = "
			       "'resident.read' AND subject = 'resident:66666666666' AND "
			       "purpose = '住民票の写しの交付' AND lg_code = '302015' AND "
			       "actor_id = '42' AND actor_kind = 'staff' AND request_id = "
			       "'req-1' AND outcome = 'ok'"),
			 1);
	assert_int_equal(resident_search(&f->app, &w, "ﾀｶﾊｼ", NULL, 10, &o), 0);
	assert_int_equal(json_array_size(o), 1);
	json_decref(o);
	assert_int_equal(count(f->app.db,
			       "SELECT COUNT(*) FROM audit_log WHERE action = "
			       "'resident.search' AND subject IS NULL AND detail LIKE '1 "
			       "hits%' AND detail NOT LIKE '%ﾀｶﾊｼ%'"),
			 1);
	assert_int_equal(resident_household(&f->app, &w, s, NULL, &o), 0);
	json_decref(o);
	assert_int_equal(resident_prefill(&f->app, &w, "66666666666", &o), 0);
	assert_string_equal(str(o, "name"), "髙橋 太郎");
	assert_true(json_is_array(json_object_get(o, "household")));
	json_decref(o);
	assert_int_equal(resident_history(&f->app, &w, "66666666666", &o), 0);
	json_decref(o);
	assert_int_equal(count(f->app.db,
			       "SELECT COUNT(*) FROM audit_log WHERE subject = "
			       "'resident:66666666666' AND purpose = '住民票の写しの交付'"),
			 4); /* read, household, prefill, history */
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log WHERE action = "
					  "'resident.prefill'"),
			 1);
	/* a miss is on the record too */
	assert_int_equal(resident_get(&f->app, &w, "77777777777", NULL, &o), -ENOENT);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log WHERE subject = "
					  "'resident:77777777777' AND outcome = 'not_found'"),
			 1);
}

static void search_and_household(void **state)
{
	struct fixture *f = *state;
	char a1[24], a2[24], a3[24], s[24], s2[24], msg[256];
	atena(s, sizeof s, 700);
	struct resident_rec head = base_rec(LG_A, "70000000001", atena(a1, sizeof a1, 71), s);
	head.name = "山田 太郎";
	head.name_kana = "ヤマダ タロウ";
	head.birth = "1970-01-01";
	struct resident_rec wife = head;
	wife.juminhyo_code = "70000000002";
	wife.atena_no = atena(a2, sizeof a2, 72);
	wife.name = "山田 花子";
	wife.name_kana = "ヤマダ ハナコ";
	wife.sex = 2;
	wife.zokugara = "妻";
	wife.birth = "1972-02-02";
	struct resident_rec other =
		base_rec(LG_A, "70000000003", atena(a3, sizeof a3, 73), atena(s2, sizeof s2, 701));
	other.name = "濱田 一郎";
	other.name_kana = "ハマダ イチロウ";
	assert_int_equal(add_one(&f->app, &wife, NULL, "2020-04-01"), 0);
	assert_int_equal(add_one(&f->app, &head, NULL, "2020-04-01"), 0);
	assert_int_equal(add_one(&f->app, &other, NULL, "2020-04-01"), 0);
	struct resident_actor w = staff(LG_A, "窓口での本人確認");
	static const struct {
		const char *q, *birth;
		size_t n;
	} cases[] = {
		{"山田", NULL, 2},
		{"やまだ", NULL, 2},
		{"ﾔﾏﾀﾞ ﾀﾛｳ", NULL, 1},
		{"山田　太郎", NULL, 1},
		{"浜田", NULL, 1},
		{"ハナコ", NULL, 1},
		{"山田", "1972-02-02", 1},
		{"山田", "昭和47年2月2日", 1},
		{"%", NULL, 0},
		{"70000000003", NULL, 1},
		{NULL, "1970-01-01", 1},
		{"佐藤", NULL, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *hits = NULL;
		assert_int_equal(
			resident_search(&f->app, &w, cases[i].q, cases[i].birth, 10, &hits), 0);
		if (json_array_size(hits) != cases[i].n)
			fail_msg("search '%s' found %zu, not %zu", cases[i].q ? cases[i].q : "",
				 json_array_size(hits), cases[i].n);
		json_decref(hits);
	}
	json_t *hits = NULL;
	assert_int_equal(resident_search(&f->app, &w, a3, NULL, 10, &hits), 0);
	assert_int_equal(json_array_size(hits), 1);
	json_decref(hits);
	assert_int_equal(resident_search(&f->app, &w, "", NULL, 10, &hits), -EINVAL);
	assert_int_equal(resident_search(&f->app, &w, "山田", "昭和", 10, &hits), -EINVAL);
	/* the household: head first */
	assert_int_equal(resident_household(&f->app, &w, s, NULL, &hits), 0);
	assert_int_equal(json_array_size(hits), 2);
	assert_string_equal(str(json_array_get(hits, 0), "zokugara"), "世帯主");
	json_decref(hits);
	assert_int_equal(resident_household(&f->app, &w, s2, NULL, &hits), 0);
	assert_int_equal(json_array_size(hits), 1);
	json_decref(hits);
	/* prefill names the other members */
	assert_int_equal(resident_prefill(&f->app, &w, "70000000001", &hits), 0);
	json_t *members = json_object_get(hits, "household");
	assert_int_equal(json_array_size(members), 1);
	assert_string_equal(str(json_array_get(members, 0), "name"), "山田 花子");
	assert_string_equal(str(hits, "birth_wareki"), "昭和45年1月1日");
	json_decref(hits);
	/* a login linked to its record */
	char jc[12];
	assert_int_equal(resident_of_account(&f->app, LG_A, 9, jc), -ENOENT);
	assert_int_equal(resident_link_account(&f->app, LG_A, "70000000002", 9), 0);
	assert_int_equal(resident_of_account(&f->app, LG_A, 9, jc), 0);
	assert_string_equal(jc, "70000000002");
	assert_int_equal(resident_of_account(&f->app, LG_B, 9, jc), -ENOENT);
	assert_int_equal(resident_link_account(&f->app, LG_A, "70000000001", 9), 0);
	assert_int_equal(resident_of_account(&f->app, LG_A, 9, jc), 0);
	assert_string_equal(jc, "70000000001");
	assert_int_equal(resident_link_account(&f->app, LG_A, "79999999999", 9), -ENOENT);
	/* a name change is searchable under the new name only */
	struct resident_rec rename = {.name = "佐藤 花子", .name_kana = "サトウ ハナコ"};
	assert_int_equal(resident_record_event(&f->app, &w, "70000000002", RES_EV_CORRECT,
					       "2024-01-01", NULL, &rename, msg, sizeof msg),
			 0);
	assert_int_equal(resident_search(&f->app, &w, "さとう", NULL, 10, &hits), 0);
	assert_int_equal(json_array_size(hits), 1);
	json_decref(hits);
	assert_int_equal(resident_search(&f->app, &w, "山田", NULL, 10, &hits), 0);
	assert_int_equal(json_array_size(hits), 1);
	json_decref(hits);
	/* re-adding a registered 住民票コード changes nothing */
	assert_int_equal(add_one(&f->app, &head, NULL, "2020-04-01"), -EEXIST);
	struct resident_rec dup_atena = other;
	dup_atena.juminhyo_code = "70000000009";
	assert_int_equal(add_one(&f->app, &dup_atena, NULL, "2020-04-01"), -EINVAL);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM residents"), 3);
}

/* Hits come in one order on either backend: prefix matches first, then by
 * the folded reading in code-point order (SQLite's byte order; PostgreSQL
 * would otherwise use the database's collation, e.g. ja-JP's, where が and
 * か differ only at the second level: がい < かく), then 宛名番号 — so a LIMIT keeps the same residents. */
static void search_order(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *jc, *name, *kana;
	} people[] = {
		{"60000000001", "山田 凱", "ヤマダ ガイ"},
		{"60000000002", "山田 清", "ヤマダ キヨシ"},
		{"60000000003", "山田 覚", "ヤマダ カク"},
		{"60000000004", "山田 一", "ヤマダ ハジメ"},
		{"60000000005", "小山田 香", "オヤマダ カオリ"},
	};
	char a[5][24], s[24];
	atena(s, sizeof s, 650);
	for (unsigned i = 0; i < 5; i++) {
		struct resident_rec r = base_rec(LG_A, people[i].jc, atena(a[i], 24, 651 + i), s);
		r.name = people[i].name;
		r.name_kana = people[i].kana;
		assert_int_equal(add_one(&f->app, &r, NULL, "2020-04-01"), 0);
	}
	struct resident_actor w = staff(LG_A, "窓口での本人確認");
	static const struct {
		const char *q, *birth;
		int limit;
		const char *want[5];
	} cases[] = {
		/* やまだかく < やまだがい < やまだきよし < やまだはじめ (ja-JP:
		 * がい < かく), then the one that only contains it */
		{"ヤマダ", NULL, 10, {"山田 覚", "山田 凱", "山田 清", "山田 一", "小山田 香"}},
		{"ヤマダ", NULL, 2, {"山田 覚", "山田 凱"}},
		{"山田", NULL, 3, {"山田 覚", "山田 凱", "山田 清"}},
		{NULL, "1980-04-01", 3, {"小山田 香", "山田 覚", "山田 凱"}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *hits = NULL;
		assert_int_equal(resident_search(&f->app, &w, cases[i].q, cases[i].birth,
						 cases[i].limit, &hits),
				 0);
		size_t n = 0;
		while (n < 5 && cases[i].want[n])
			n++;
		assert_int_equal(json_array_size(hits), n);
		for (size_t k = 0; k < n; k++)
			if (strcmp(str(json_array_get(hits, k), "name"), cases[i].want[k]) != 0)
				fail_msg("search %zu: hit %zu is %s, not %s", i, k,
					 str(json_array_get(hits, k), "name"), cases[i].want[k]);
		json_decref(hits);
	}
}

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static void bulk_rate(void **state)
{
	struct fixture *f = *state;
	/* PostgreSQL costs a round trip per statement (two per row, ≈ 3,500
	 * rows/s over loopback): fewer rows there keep the unit-pg layer short */
	const int N = on_pg(f) ? 2000 : 20000;
	static const char *const names[] = {"佐藤 太郎", "鈴木 花子", "髙橋 一郎", "田中 美咲"};
	static const char *const kanas[] = {"サトウ タロウ", "スズキ ハナコ", "タカハシ イチロウ",
					    "タナカ ミサキ"};
	struct db_conn *c = db_acquire(f->app.db);
	struct resident_bulk *b;
	char msg[256], jc[12], a[24], s[24], mn[13];
	double t0 = now_s(), cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	assert_int_equal(resident_bulk_begin(&f->app, c, &b), 0);
	for (int i = 0; i < N; i++) {
		snprintf(jc, sizeof jc, "%011d", 10000000 + i);
		struct resident_rec r = {
			.lg_code = LG_A,
			.juminhyo_code = jc,
			.atena_no = atena(a, sizeof a, 100000 + (unsigned)i),
			.setai_no = atena(s, sizeof s, 500000 + (unsigned)i / 3),
			.name = names[i % 4],
			.name_kana = kanas[i % 4],
			.birth = "1985-06-15",
			.sex = 1 + i % 2,
			.zokugara = i % 3 ? "子" : "世帯主",
			.address = "和歌山県和歌山市七番丁23番地",
			.machiaza_id = "0001001",
			.blk_id = "001",
			.rsdt_id = "023",
		};
		int rc = resident_bulk_add(b, &r, mynumber(mn, 12345000000ULL + (unsigned)i),
					   RES_EV_TENNYU, "2010-04-01", msg, sizeof msg);
		if (rc != 0)
			fail_msg("row %d: %s", i, msg);
	}
	double t1 = now_s();
	assert_int_equal(resident_bulk_end(b, true), 0);
	double secs = now_s() - t0, cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	db_release(c);
	/* wall time varies with the machine's load; the CPU time of this thread less */
	printf("resident bulk load (%s): %d residents with My Numbers in %.3f s wall (commit %.3f "
	       "s), %.3f s CPU: %.0f rows/s wall, %.1f µs/row CPU\n",
	       on_pg(f) ? "PostgreSQL" : "SQLite", N, secs, now_s() - t1, cpu, N / secs,
	       cpu * 1e6 / N);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM residents"), N);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM resident_versions"), N);
	assert_int_equal(count(f->app.db, "SELECT COUNT(DISTINCT mynumber_bidx) FROM residents"),
			 N);
	struct resident_actor w = staff(LG_A, "番号法第9条に基づく事務");
	char out[13];
	assert_int_equal(resident_mynumber(&f->app, &w, "00010001567", out), 0);
	assert_string_equal(out, mynumber(mn, 12345001567ULL));
	json_t *hits = NULL;
	assert_int_equal(resident_search(&f->app, &w, mn, NULL, 10, &hits), 0);
	assert_int_equal(json_array_size(hits), 1);
	json_decref(hits);
}

/* Records ev for 80000000001 on date (zokugara changed for setai and
 * correct); returns resident_record_event's code, msg its message. */
static int ev_on(struct fixture *f, enum resident_event ev, const char *date, const char *zoku,
		 char *msg, size_t msglen)
{
	struct resident_actor w = staff(LG_A, NULL);
	struct resident_rec ch = {.zokugara = zoku};
	msg[0] = '\0';
	return resident_record_event(&f->app, &w, "80000000001", ev, date, NULL, zoku ? &ch : NULL,
				     msg, msglen);
}

/* Which change may follow which state: 出生 never onto a record, 転入 only
 * after 転出, 転居/世帯変更/転出/死亡 only for a resident, 職権修正 always;
 * and one change a day (but a 職権修正). */
static void event_transitions(void **state)
{
	struct fixture *f = *state;
	char a[24], s1[24], msg[256];
	struct resident_rec r =
		base_rec(LG_A, "80000000001", atena(a, sizeof a, 81), atena(s1, sizeof s1, 800));
	assert_int_equal(add_one(&f->app, &r, NULL, "2020-04-01"), 0);
	/* active: no birth (born 1980), no 転入 */
	assert_int_equal(ev_on(f, RES_EV_SHUSSEI, "2021-01-01", NULL, msg, sizeof msg), -EINVAL);
	assert_non_null(strstr(msg, "出生"));
	assert_int_equal(ev_on(f, RES_EV_TENNYU, "2021-01-01", NULL, msg, sizeof msg), -EINVAL);
	assert_non_null(strstr(msg, "転入"));
	/* the day the current version starts: refused, but a correction */
	assert_int_equal(ev_on(f, RES_EV_SETAI, "2020-04-01", "子", msg, sizeof msg), -EINVAL);
	assert_non_null(strstr(msg, "同じ日"));
	assert_int_equal(ev_on(f, RES_EV_SETAI, "2021-02-01", "子", msg, sizeof msg), 0);
	assert_int_equal(ev_on(f, RES_EV_SETAI, "2021-02-01", "孫", msg, sizeof msg), -EINVAL);
	assert_int_equal(ev_on(f, RES_EV_TENSHUTSU, "2021-02-01", NULL, msg, sizeof msg), -EINVAL);
	assert_int_equal(ev_on(f, RES_EV_CORRECT, "2021-02-01", "孫", msg, sizeof msg), 0);
	assert_int_equal(ev_on(f, RES_EV_TENSHUTSU, "2021-03-01", NULL, msg, sizeof msg), 0);
	/* moved out: only 転入 or a correction */
	static const enum resident_event not_after_out[] = {
		RES_EV_TENSHUTSU, RES_EV_SHIBOU, RES_EV_SETAI, RES_EV_TENKYO, RES_EV_SHUSSEI};
	for (size_t i = 0; i < sizeof not_after_out / sizeof not_after_out[0]; i++)
		assert_int_equal(ev_on(f, not_after_out[i], "2021-04-01",
				       not_after_out[i] == RES_EV_SETAI ? "子" : NULL, msg,
				       sizeof msg),
				 -EINVAL);
	assert_int_equal(ev_on(f, RES_EV_TENNYU, "2021-05-01", NULL, msg, sizeof msg), 0);
	assert_int_equal(ev_on(f, RES_EV_SHIBOU, "2021-06-01", NULL, msg, sizeof msg), 0);
	/* deceased: a correction only */
	static const enum resident_event not_after_death[] = {RES_EV_TENNYU, RES_EV_TENSHUTSU,
							      RES_EV_SHIBOU, RES_EV_SETAI,
							      RES_EV_TENKYO, RES_EV_SHUSSEI};
	for (size_t i = 0; i < sizeof not_after_death / sizeof not_after_death[0]; i++)
		assert_int_equal(ev_on(f, not_after_death[i], "2021-07-01",
				       not_after_death[i] == RES_EV_SETAI ? "子" : NULL, msg,
				       sizeof msg),
				 -EINVAL);
	assert_int_equal(ev_on(f, RES_EV_CORRECT, "2021-07-01", "子", msg, sizeof msg), 0);
	/* 転入 (import), 世帯変更, 職権修正, 転出, 転入, 死亡, 職権修正 */
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM resident_versions WHERE "
					  "juminhyo_code = '80000000001'"),
			 7);
}

/* A prefill writes one entry under each other member of the household it
 * names; a resident reading their own household is labelled as a member of
 * the household under the others' subjects, as themselves under their own. */
static void household_entries(void **state)
{
	struct fixture *f = *state;
	char a1[24], a2[24], s[24];
	atena(s, sizeof s, 900);
	struct resident_rec head = base_rec(LG_A, "90000000001", atena(a1, sizeof a1, 91), s);
	struct resident_rec wife = head;
	wife.juminhyo_code = "90000000002";
	wife.atena_no = atena(a2, sizeof a2, 92);
	wife.name = "髙橋 花子";
	wife.name_kana = "タカハシ ハナコ";
	wife.sex = 2;
	wife.zokugara = "妻";
	assert_int_equal(add_one(&f->app, &head, NULL, "2020-04-01"), 0);
	assert_int_equal(add_one(&f->app, &wife, NULL, "2020-04-01"), 0);
	struct resident_actor w = staff(LG_A, "児童手当の申請");
	json_t *o = NULL;
	assert_int_equal(resident_prefill(&f->app, &w, "90000000001", &o), 0);
	assert_int_equal(json_array_size(json_object_get(o, "household")), 1);
	json_decref(o);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log WHERE action = "
					  "'resident.prefill' AND subject = 'resident:90000000002' "
					  "AND purpose = '児童手当の申請' AND outcome = 'ok'"),
			 1);
	struct resident_actor me = staff(LG_A, "本人による閲覧（わたしの情報）");
	me.actor_kind = "resident";
	me.actor_id = "7";
	me.actor_org = "本人";
	me.self_code = "90000000001";
	assert_int_equal(resident_household(&f->app, &me, s, NULL, &o), 0);
	assert_int_equal(json_array_size(o), 2);
	json_decref(o);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log WHERE actor_id = '7' "
					  "AND subject = 'resident:90000000002' AND actor_org = "
					  "'" RESIDENT_ORG_HOUSEHOLD "'"),
			 1);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log WHERE actor_id = '7' "
					  "AND subject = 'resident:90000000001' AND actor_org = "
					  "'本人'"),
			 1);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log WHERE actor_id = '7' "
					  "AND actor_org = '本人' AND subject <> "
					  "'resident:90000000001'"),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(validation, setup, teardown),
		cmocka_unit_test_setup_teardown(mynumber_sealed, setup, teardown),
		cmocka_unit_test_setup_teardown(event_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(event_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(household_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(tenant_isolation, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_of_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(search_and_household, setup, teardown),
		cmocka_unit_test_setup_teardown(search_order, setup, teardown),
		cmocka_unit_test_setup_teardown(bulk_rate, setup, teardown),
	};
	return RUN_BOTH("resident", tests);
}
