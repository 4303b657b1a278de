/* The resident record's module, its shared helpers and the validation of a
 * resident's fields: event codes, dates in Japan's time zone, the audit
 * entry of an actor, and My Number sealing (XChaCha20-Poly1305 bound to its
 * row) with a keyed blind index. Look-ups are in resident_query.c, changes in
 * resident_event.c, bulk loading in resident_bulk.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "audit/audit.h"
#include "common/lgcode.h"
#include "common/utf8.h"
#include "common/wareki.h"
#include "registry/corp.h"
#include "resident/resident_internal.h"
#include "resident/resident_web.h"

extern const struct db_migration resident_migrations[]; /* resident_schema.c */

const struct module resident_module = {
	.name = "resident",
	.migrations = resident_migrations,
	.routes = resident_routes,
};

/* ---- events ---- */

static const struct {
	enum resident_event ev;
	const char *code, *ja;
} events[] = {
	{RES_EV_TENNYU, "tennyu", "転入"},       {RES_EV_TENSHUTSU, "tenshutsu", "転出"},
	{RES_EV_TENKYO, "tenkyo", "転居"},       {RES_EV_SHUSSEI, "shussei", "出生"},
	{RES_EV_SHIBOU, "shibou", "死亡"},       {RES_EV_SETAI, "setai", "世帯変更"},
	{RES_EV_CORRECT, "correct", "職権修正"},
};
#define NEVENTS (sizeof events / sizeof events[0])

const char *resident_event_code(enum resident_event ev)
{
	for (size_t i = 0; i < NEVENTS; i++)
		if (events[i].ev == ev)
			return events[i].code;
	return "";
}

const char *resident_event_ja(enum resident_event ev)
{
	for (size_t i = 0; i < NEVENTS; i++)
		if (events[i].ev == ev)
			return events[i].ja;
	return "";
}

/* Accepts the code ("tennyu") or the Japanese name ("転入"). */
int resident_event_parse(const char *code, enum resident_event *out)
{
	for (size_t i = 0; code && i < NEVENTS; i++)
		if (!strcmp(code, events[i].code) || !strcmp(code, events[i].ja)) {
			*out = events[i].ev;
			return 0;
		}
	return -EINVAL;
}

const char *res_status_code(int status)
{
	return status == RES_ST_ACTIVE    ? "active" :
	       status == RES_ST_MOVED_OUT ? "moved_out" :
	       status == RES_ST_DECEASED  ? "deceased" :
					    "unknown";
}

static const char *status_ja(int status)
{
	return status == RES_ST_ACTIVE    ? "住民" :
	       status == RES_ST_MOVED_OUT ? "転出" :
	       status == RES_ST_DECEASED  ? "死亡" :
					    "不明";
}

int resident_fold(struct buf *out, const char *s, size_t n)
{
	return corp_fold(out, s, n);
}

/* ---- dates ---- */

void res_today(char out[RES_DATE_LEN + 1])
{
	time_t t = time(NULL) + 9 * 3600; /* JST has no daylight saving */
	struct tm tm;
	gmtime_r(&t, &tm);
	char tmp[32]; /* room for any int, to keep the compiler's range check quiet */
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	memcpy(out, tmp, RES_DATE_LEN);
	out[RES_DATE_LEN] = '\0';
}

int64_t res_now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

bool res_all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool res_valid_date(const char *s)
{
	struct wareki_date d;
	return s && strlen(s) == RES_DATE_LEN &&
	       wareki_parse_iso(s, RES_DATE_LEN, &d, NULL, 0) == 0;
}

/* ---- audit ---- */

bool res_actor_ok(const struct resident_actor *who, bool need_purpose)
{
	return who && who->lg_code && lgcode_valid(who->lg_code) && who->actor_kind &&
	       *who->actor_kind && (!need_purpose || (who->purpose && *who->purpose));
}

int res_audit(struct app *app, const struct resident_actor *who, const char *action,
	      const char *juminhyo_code, const char *outcome, const char *detail)
{
	if (!app->audit)
		return -EIO;
	char subject[32];
	if (juminhyo_code)
		snprintf(subject, sizeof subject, "resident:%s", juminhyo_code);
	struct audit_entry e = {
		.lg_code = who->lg_code,
		.actor_kind = who->actor_kind,
		.actor_id = who->actor_id,
		.actor_name = who->actor_name,
		.actor_org = who->self_code && juminhyo_code &&
					     strcmp(juminhyo_code, who->self_code) != 0 ?
				     RESIDENT_ORG_HOUSEHOLD :
				     who->actor_org,
		.action = action,
		.subject = juminhyo_code ? subject : NULL,
		.purpose = who->purpose,
		.request_id = who->request_id,
		.outcome = outcome,
		.detail = detail,
	};
	return audit_append(app->audit, &e) == 0 ? 0 : -EIO;
}

/* ---- My Number ---- */

static void mn_ad(const char *lg_code, const char *juminhyo_code, unsigned char ad[17])
{
	memcpy(ad, lg_code, 6);
	memcpy(ad + 6, juminhyo_code, 11);
}

void res_mn_seal(const unsigned char key[32], const char *lg_code, const char *juminhyo_code,
		 const char *mn, unsigned char out[RES_MN_ENC_BYTES])
{
	unsigned char ad[17];
	mn_ad(lg_code, juminhyo_code, ad);
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	randombytes_buf(out, nb);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + nb, &clen, (const unsigned char *)mn,
						   CHECKDIGIT_MYNUMBER_LEN, ad, sizeof ad, NULL,
						   out, key);
}

int res_mn_open(const unsigned char key[32], const char *lg_code, const char *juminhyo_code,
		const unsigned char *blob, size_t n, char out[13])
{
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	if (!blob || n != RES_MN_ENC_BYTES)
		return -EIO;
	unsigned char ad[17];
	mn_ad(lg_code, juminhyo_code, ad);
	unsigned long long mlen = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out, &mlen, NULL, blob + nb,
						       n - nb, ad, sizeof ad, blob, key) != 0 ||
	    mlen != CHECKDIGIT_MYNUMBER_LEN) {
		sodium_memzero(out, 13);
		return -EIO;
	}
	out[12] = '\0';
	return 0;
}

void res_mn_bidx(const unsigned char key[32], const char *mn, unsigned char out[RES_MN_BIDX_BYTES])
{
	crypto_generichash(out, RES_MN_BIDX_BYTES, (const unsigned char *)mn,
			   CHECKDIGIT_MYNUMBER_LEN, key, 32);
}

void res_mn_mask(const char *mn, char out[13])
{
	memset(out, '*', 8);
	memcpy(out + 8, mn + 8, 4);
	out[12] = '\0';
}

int res_mn_check(const char *mn, char *msg, size_t msglen)
{
	int rc = mn ? checkdigit_mynumber_check(mn, strlen(mn)) : CHECKDIGIT_ELENGTH;
	if (rc == 0)
		return 0;
	snprintf(msg, msglen, "%s",
		 rc == CHECKDIGIT_EMISMATCH ?
			 "個人番号のチェックデジットが一致しません。番号を確認してください。" :
			 "個人番号は12桁の半角数字で入力してください。");
	return -EINVAL;
}

/* ---- validation ---- */

static int bad(char *msg, size_t msglen, const char *text)
{
	snprintf(msg, msglen, "%s", text);
	return -EINVAL;
}

static bool empty(const char *s)
{
	return !s || !*s;
}

/* Clean one-line UTF-8 (no TAB either) of 1..max characters. */
static bool clean_text(const char *s, size_t max)
{
	size_t n = strlen(s), chars = utf8_count(s, n);
	return n > 0 && utf8_clean_line(s, n) && !memchr(s, '\t', n) && chars <= max;
}

static bool katakana(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || utf8_count(s, n) > RES_NAME_MAX_CHARS)
		return false;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		if (utf8_next(s, n, &i, &cp) == 0)
			return false;
		/* ァ..ヺ (ヴ included), ・, ー, ideographic and ASCII space */
		if (!((cp >= 0x30A1 && cp <= 0x30FA) || cp == 0x30FB || cp == 0x30FC ||
		      cp == 0x3000 || cp == ' '))
			return false;
	}
	return true;
}

static int check_number(const char *v, const char *field, char *msg, size_t msglen)
{
	int rc = v ? checkdigit_atena_check(v, strlen(v)) : CHECKDIGIT_ELENGTH;
	if (rc == CHECKDIGIT_EMISMATCH)
		snprintf(msg, msglen,
			 "%sのチェックデジットが一致しません。番号を確認してください。", field);
	else if (rc != 0)
		snprintf(msg, msglen, "%sは2〜16桁の半角数字で入力してください。", field);
	return rc == 0 ? 0 : -EINVAL;
}

static int check_abr_id(const char *v, size_t min, size_t max, const char *field, char *msg,
			size_t msglen)
{
	if (empty(v))
		return 0;
	size_t n = strlen(v);
	if (n < min || n > max || !res_all_digits(v, n)) {
		if (min == max)
			snprintf(msg, msglen, "%sは%zu桁の半角数字で入力してください。", field,
				 min);
		else
			snprintf(msg, msglen, "%sは%zu〜%zu桁の半角数字で入力してください。", field,
				 min, max);
		return -EINVAL;
	}
	return 0;
}

int resident_validate(const struct resident_rec *r, char *msg, size_t msglen)
{
	if (!r->lg_code || !lgcode_valid(r->lg_code))
		return bad(
			msg, msglen,
			"全国地方公共団体コードが正しくありません（6桁、チェックデジット付き）。");
	if (!r->juminhyo_code || strlen(r->juminhyo_code) != 11 ||
	    !res_all_digits(r->juminhyo_code, 11))
		return bad(msg, msglen, "住民票コードは11桁の半角数字で入力してください。");
	if (check_number(r->atena_no, "宛名番号", msg, msglen) != 0 ||
	    check_number(r->setai_no, "世帯番号", msg, msglen) != 0)
		return -EINVAL;
	if (empty(r->name))
		return bad(msg, msglen, "氏名を入力してください。");
	if (!clean_text(r->name, RES_NAME_MAX_CHARS))
		return bad(msg, msglen,
			   "氏名は100文字以内で、改行や制御文字を含めずに入力してください。");
	if (empty(r->name_kana))
		return bad(msg, msglen, "氏名カナを入力してください。");
	if (!utf8_valid(r->name_kana, strlen(r->name_kana)) || !katakana(r->name_kana))
		return bad(msg, msglen,
			   "氏名カナは全角カタカナ（100文字以内）で入力してください。");
	if (!r->birth || strlen(r->birth) != RES_DATE_LEN || !res_valid_date(r->birth))
		return bad(msg, msglen,
			   "生年月日の形式が正しくありません（例: 1980-04-01 または "
			   "昭和55年4月1日）。");
	char today[RES_DATE_LEN + 1];
	res_today(today);
	if (strcmp(r->birth, today) > 0)
		return bad(msg, msglen, "生年月日が未来の日付になっています。");
	if (r->sex != 1 && r->sex != 2 && r->sex != 9)
		return bad(msg, msglen, "性別は 1（男）、2（女）、9（未記載）のいずれかです。");
	if (!empty(r->zokugara) && !clean_text(r->zokugara, 20))
		return bad(msg, msglen, "続柄は20文字以内で入力してください。");
	if (!empty(r->address) && !clean_text(r->address, 200))
		return bad(msg, msglen,
			   "住所は200文字以内で、改行や制御文字を含めずに入力してください。");
	if (check_abr_id(r->machiaza_id, 7, 7, "町字ID", msg, msglen) != 0 ||
	    check_abr_id(r->blk_id, 1, 16, "街区ID", msg, msglen) != 0 ||
	    check_abr_id(r->rsdt_id, 1, 16, "住居ID", msg, msglen) != 0 ||
	    check_abr_id(r->prc_id, 1, 16, "地番ID", msg, msglen) != 0)
		return -EINVAL;
	if (r->status < RES_ST_ACTIVE || r->status > RES_ST_DECEASED)
		return bad(msg, msglen, "住民の状態が正しくありません。");
	return 0;
}

/* ---- the state columns ---- */

static void bind_opt(struct db_stmt *st, int idx, const char *v)
{
	if (empty(v))
		db_bind_null(st, idx);
	else
		db_bind_text(st, idx, v);
}

void res_state_bind(struct db_stmt *st, int first, const struct resident_rec *r)
{
	/* the order of RES_STATE_COLS, as res_state_json reads them back */
	const char *const text[] = {r->juminhyo_code, r->atena_no,  r->setai_no,
				    r->name,          r->name_kana, r->birth};
	for (int i = 0; i < 6; i++)
		db_bind_text(st, first + i, text[i]);
	db_bind_int64(st, first + 6, r->sex);
	const char *const more[] = {r->zokugara, r->address, r->machiaza_id,
				    r->blk_id,   r->rsdt_id, r->prc_id};
	for (int i = 0; i < 6; i++)
		bind_opt(st, first + 7 + i, more[i]);
	db_bind_int64(st, first + 13, r->status);
}

static json_t *text_or_null(struct db_stmt *st, int i)
{
	const char *v = db_col_text(st, i);
	return v ? json_string(v) : json_null();
}

void res_state_json(json_t *o, struct db_stmt *st, int first)
{
	static const char *const names[] = {"juminhyo_code", "atena_no",  "setai_no",
					    "name",          "name_kana", "birth"};
	for (int i = 0; i < 6; i++)
		json_object_set_new(o, names[i], text_or_null(st, first + i));
	int sex = (int)db_col_int64(st, first + 6);
	json_object_set_new(o, "sex", json_integer(sex));
	json_object_set_new(o, "sex_ja", json_string(sex == 1 ? "男" : sex == 2 ? "女" : "未記載"));
	static const char *const more[] = {"zokugara", "address", "machiaza_id",
					   "blk_id",   "rsdt_id", "prc_id"};
	for (int i = 0; i < 6; i++)
		json_object_set_new(o, more[i], text_or_null(st, first + 7 + i));
	int status = (int)db_col_int64(st, first + 13);
	json_object_set_new(o, "status", json_string(res_status_code(status)));
	json_object_set_new(o, "status_ja", json_string(status_ja(status)));
	const char *birth = db_col_text(st, first + 5);
	struct wareki_date d;
	char wa[WAREKI_FORMAT_MAX];
	if (birth && wareki_parse_iso(birth, strlen(birth), &d, NULL, 0) == 0 &&
	    wareki_format_long(&d, wa, sizeof wa) > 0)
		json_object_set_new(o, "birth_wareki", json_string(wa));
}
