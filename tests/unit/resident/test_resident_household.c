/* Unit tests of the household as of a date (resident_household with as_of):
 * a family's history built from real changes — 転入, 出生, 世帯変更, 死亡,
 * 転出 — and the members read on the days before, on and after each, on a
 * real SQLite file and, when MADO_TEST_PG_URL is set, on PostgreSQL. */
#include "resident_fixture.h"

/* 世帯番号 of the family (S1), of the daughter's own household (S2) and of
 * a neighbour (S3); filled by build_family. */
static char S1[24], S2[24], S3[24];

#define FATHER "71000000001"
#define MOTHER "71000000002"
#define DAUGHTER "71000000003"
#define SON "71000000004"
#define NEIGHBOUR "71000000005"
#define OTHER_LG "71000000006"

#define BORN_X "2018-07-20"  /* 出生 of the son */
#define SPLIT_Y "2021-04-01" /* 世帯変更: the daughter sets up her own household */
#define DIED_Z "2023-09-10"  /* 死亡 of the father */
#define HEAD_W "2023-09-20"  /* 世帯変更: the mother becomes 世帯主 */
#define OUT_V "2024-03-01"   /* 転出 of the daughter */

static struct resident_rec person(const char *lg, const char *jc, unsigned atena_base,
				  const char *setai, const char *name, const char *kana,
				  const char *birth, int sex, const char *zokugara)
{
	static char atenas[8][24];
	static unsigned next;
	char *a = atenas[next++ % 8];
	struct resident_rec r = {
		.lg_code = lg,
		.juminhyo_code = jc,
		.atena_no = atena(a, 24, atena_base),
		.setai_no = setai,
		.name = name,
		.name_kana = kana,
		.birth = birth,
		.sex = sex,
		.zokugara = zokugara,
		.address = "和歌山県和歌山市七番丁23番地",
		.machiaza_id = "0001001",
		.status = RES_ST_ACTIVE,
	};
	return r;
}

/* One new resident by the bulk path (as import does), by ev on day. */
static void add(struct fixture *f, const struct resident_rec *r, enum resident_event ev,
		const char *day)
{
	struct db_conn *c = db_acquire(f->app.db);
	struct resident_bulk *b;
	char msg[256] = "";
	assert_int_equal(resident_bulk_begin(&f->app, c, &b), 0);
	int rc = resident_bulk_add(b, r, NULL, ev, day, msg, sizeof msg);
	assert_int_equal(resident_bulk_end(b, rc == 0), 0);
	db_release(c);
	if (rc != 0)
		fail_msg("add %s: %d %s", r->juminhyo_code, rc, msg);
}

static void change(struct fixture *f, const char *jc, enum resident_event ev, const char *day,
		   const char *setai, const char *zokugara)
{
	struct resident_actor w = staff(LG_A, NULL);
	struct resident_rec ch = {.setai_no = setai, .zokugara = zokugara};
	char msg[256] = "";
	int rc = resident_record_event(&f->app, &w, jc, ev, day, NULL,
				       setai || zokugara ? &ch : NULL, msg, sizeof msg);
	if (rc != 0)
		fail_msg("%s %s on %s: %d %s", jc, resident_event_code(ev), day, rc, msg);
}

/* The family: father (世帯主, younger than his wife, so that "head first" is
 * not just "oldest first"), mother and daughter move in on 2015-04-01; a son
 * is born on X; the daughter sets up her own household on Y; the father dies
 * on Z; the mother becomes 世帯主 on W; the daughter moves away on V. A
 * neighbour in another household, and a resident of another municipality
 * with the family's very 世帯番号, must never show. */
static void build_family(struct fixture *f)
{
	atena(S1, sizeof S1, 7100);
	atena(S2, sizeof S2, 7101);
	atena(S3, sizeof S3, 7102);
	struct resident_rec r;
	r = person(LG_A, FATHER, 71001, S1, "紀伊 一郎", "キイ イチロウ", "1983-05-05", 1,
		   "世帯主");
	add(f, &r, RES_EV_TENNYU, "2015-04-01");
	r = person(LG_A, MOTHER, 71002, S1, "紀伊 和子", "キイ カズコ", "1980-02-02", 2, "妻");
	add(f, &r, RES_EV_TENNYU, "2015-04-01");
	r = person(LG_A, DAUGHTER, 71003, S1, "紀伊 美咲", "キイ ミサキ", "2005-10-10", 2, "子");
	add(f, &r, RES_EV_TENNYU, "2015-04-01");
	r = person(LG_A, NEIGHBOUR, 71005, S3, "隣野 次郎", "トナリノ ジロウ", "1990-01-01", 1,
		   "世帯主");
	add(f, &r, RES_EV_TENNYU, "2010-01-01");
	r = person(LG_B, OTHER_LG, 71006, S1, "千代田 三郎", "チヨダ サブロウ", "1970-03-03", 1,
		   "世帯主");
	add(f, &r, RES_EV_TENNYU, "2010-01-01");
	r = person(LG_A, SON, 71004, S1, "紀伊 翔太", "キイ ショウタ", BORN_X, 1, "子");
	add(f, &r, RES_EV_SHUSSEI, BORN_X);
	change(f, DAUGHTER, RES_EV_SETAI, SPLIT_Y, S2, "世帯主");
	change(f, FATHER, RES_EV_SHIBOU, DIED_Z, NULL, NULL);
	change(f, MOTHER, RES_EV_SETAI, HEAD_W, NULL, "世帯主");
	change(f, DAUGHTER, RES_EV_TENSHUTSU, OUT_V, NULL, NULL);
}

/* The members of setai on day (NULL: today) as "code:続柄" joined by
 * spaces, in the order returned, into out; returns resident_household's
 * code. Checks that every member's state is that of the day's version. */
static int members(struct fixture *f, const char *setai, const char *day, char *out, size_t cap)
{
	struct resident_actor w = staff(LG_A, "世帯の確認");
	json_t *arr = NULL;
	out[0] = '\0';
	int rc = resident_household(&f->app, &w, setai, day, &arr);
	if (rc != 0) {
		assert_null(arr);
		return rc;
	}
	size_t i, n = 0;
	json_t *m;
	json_array_foreach (arr, i, m) {
		assert_string_equal(json_string_value(json_object_get(m, "setai_no")), setai);
		assert_string_equal(json_string_value(json_object_get(m, "status")), "active");
		assert_null(json_object_get(m, "mynumber_masked"));
		int k = snprintf(out + n, cap - n, "%s%s:%s", i ? " " : "",
				 json_string_value(json_object_get(m, "juminhyo_code")),
				 json_string_value(json_object_get(m, "zokugara")));
		assert_true(k > 0 && (size_t)k < cap - n);
		n += (size_t)k;
	}
	json_decref(arr);
	return 0;
}

static void expect(struct fixture *f, const char *setai, const char *day, const char *want)
{
	char got[512];
	int rc = members(f, setai, day, got, sizeof got);
	if (!want) {
		if (rc != -ENOENT)
			fail_msg("household %s on %s: %d, members \"%s\", expected none", setai,
				 day ? day : "today", rc, got);
		return;
	}
	if (rc != 0 || strcmp(got, want) != 0)
		fail_msg("household %s on %s: %d \"%s\", expected \"%s\"", setai,
			 day ? day : "today", rc, got, want);
}

#define F_HEAD FATHER ":世帯主"
#define M_WIFE MOTHER ":妻"
#define M_HEAD MOTHER ":世帯主"
#define D_CHILD DAUGHTER ":子"
#define D_HEAD DAUGHTER ":世帯主"
#define S_CHILD SON ":子"

static void household_through_history(void **state)
{
	struct fixture *f = *state;
	build_family(f);
	/* before the family moved in */
	expect(f, S1, "2015-03-31", NULL);
	/* 転入: head first (he is younger than his wife), then by birth */
	expect(f, S1, "2015-04-01", F_HEAD " " M_WIFE " " D_CHILD);
	/* 出生 on X: not the day before, from X on */
	expect(f, S1, "2018-07-19", F_HEAD " " M_WIFE " " D_CHILD);
	expect(f, S1, BORN_X, F_HEAD " " M_WIFE " " D_CHILD " " S_CHILD);
	/* 世帯変更 on Y: the daughter leaves S1 and heads S2 */
	expect(f, S1, "2021-03-31", F_HEAD " " M_WIFE " " D_CHILD " " S_CHILD);
	expect(f, S2, "2021-03-31", NULL);
	expect(f, S1, SPLIT_Y, F_HEAD " " M_WIFE " " S_CHILD);
	expect(f, S2, SPLIT_Y, D_HEAD);
	/* 死亡 on Z: the father is not a member from Z on */
	expect(f, S1, "2023-09-09", F_HEAD " " M_WIFE " " S_CHILD);
	expect(f, S1, DIED_Z, M_WIFE " " S_CHILD);
	/* 世帯変更 on W: the mother's 続柄 of that day */
	expect(f, S1, "2023-09-19", M_WIFE " " S_CHILD);
	expect(f, S1, HEAD_W, M_HEAD " " S_CHILD);
	/* 転出 on V: S2 is empty from V on */
	expect(f, S2, "2024-02-29", D_HEAD);
	expect(f, S2, OUT_V, NULL);
	/* today (NULL) and an explicit later day agree */
	expect(f, S1, NULL, M_HEAD " " S_CHILD);
	expect(f, S1, "2025-01-01", M_HEAD " " S_CHILD);
	expect(f, S2, NULL, NULL);
	/* the neighbour's household, unaffected by all of it */
	expect(f, S3, "2015-04-01", NEIGHBOUR ":世帯主");
	expect(f, S3, NULL, NEIGHBOUR ":世帯主");
	/* the other municipality's clerk sees only its own resident under S1 */
	struct resident_actor wb = staff(LG_B, "世帯の確認");
	json_t *arr = NULL;
	assert_int_equal(resident_household(&f->app, &wb, S1, BORN_X, &arr), 0);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(arr, 0), "juminhyo_code")),
		OTHER_LG);
	json_decref(arr);
}

/* Each member read is audited under the member's subject with the purpose
 * and the day; an empty household is one not_found entry; a malformed day
 * is refused before anything is read or written. */
static void household_audit(void **state)
{
	struct fixture *f = *state;
	build_family(f);
	char detail[128], sql[512], out[512];
	assert_int_equal(members(f, S1, BORN_X, out, sizeof out), 0);
	snprintf(detail, sizeof detail, "household %s as of %s", S1, BORN_X);
	static const char *const codes[] = {FATHER, MOTHER, DAUGHTER, SON};
	for (int i = 0; i < 4; i++) {
		snprintf(sql, sizeof sql,
			 "SELECT COUNT(*) FROM audit_log WHERE action = 'resident.read' AND "
			 "subject = 'resident:%s' AND purpose = '世帯の確認' AND detail = '%s' AND "
			 "outcome = 'ok' AND actor_id = '42' AND lg_code = '302015'",
			 codes[i], detail);
		assert_int_equal(count(f->app.db, sql), 1);
	}
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM audit_log WHERE detail = '%s'", detail);
	assert_int_equal(count(f->app.db, sql), 4);
	/* the father after his death: not read, so not logged under him */
	assert_int_equal(members(f, S1, DIED_Z, out, sizeof out), 0);
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM audit_log WHERE subject = 'resident:%s' AND detail = "
		 "'household %s as of %s'",
		 FATHER, S1, DIED_Z);
	assert_int_equal(count(f->app.db, sql), 0);
	/* an empty household: one not_found entry, no subject */
	assert_int_equal(members(f, S2, "2015-04-01", out, sizeof out), -ENOENT);
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM audit_log WHERE subject IS NULL AND outcome = "
		 "'not_found' AND detail = 'household %s as of 2015-04-01'",
		 S2);
	assert_int_equal(count(f->app.db, sql), 1);
	/* refused before anything is read: no entry */
	int64_t before = count(f->app.db, "SELECT COUNT(*) FROM audit_log");
	struct resident_actor w = staff(LG_A, "世帯の確認");
	json_t *arr = NULL;
	static const char *const bad_days[] = {"2021-02-30",  "2021-4-1", "令和3年4月1日",
					       "2021-04-01x", "",         "1872-12-31"};
	for (size_t i = 0; i < sizeof bad_days / sizeof *bad_days; i++) {
		if (resident_household(&f->app, &w, S1, bad_days[i], &arr) != -EINVAL)
			fail_msg("day \"%s\" was not refused", bad_days[i]);
		assert_null(arr);
	}
	assert_int_equal(resident_household(&f->app, &w, "12345", BORN_X, &arr), -EINVAL);
	struct resident_actor none = staff(LG_A, NULL);
	assert_int_equal(resident_household(&f->app, &none, S1, BORN_X, &arr), -EINVAL);
	assert_int_equal(count(f->app.db, "SELECT COUNT(*) FROM audit_log"), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(household_through_history, setup, teardown),
		cmocka_unit_test_setup_teardown(household_audit, setup, teardown),
	};
	return RUN_BOTH("resident_household", tests);
}
