/* A generator of realistic 法人番号 bulk files (see corp.h): no real file is
 * at hand, so tests and benchmarks make their own, with valid check digits,
 * real municipalities, plausible names with furigana, and later records for
 * some numbers (name and address changes, closures, mergers). */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/checkdigit.h"
#include "registry/corp.h"

#define PENDING_MAX 512   /* corporations with changes still to be written */
#define SERIAL_MAX 999999 /* per registry office */

struct city {
	const char *pref, *pref_code, *city_code, *city, *post3, *office;
	const char *towns[4];
};

/* Real municipalities and towns; the office codes (the first four digits
 * of the 会社法人等番号) are synthetic. */
static const struct city cities[] = {
	{"東京都",
	 "13",
	 "101",
	 "千代田区",
	 "100",
	 "0100",
	 {"丸の内", "霞が関", "永田町", "大手町"}},
	{"東京都", "13", "102", "中央区", "104", "0101", {"銀座", "日本橋", "築地", "八丁堀"}},
	{"東京都", "13", "113", "渋谷区", "150", "0110", {"渋谷", "神宮前", "恵比寿", "代々木"}},
	{"大阪府", "27", "128", "大阪市中央区", "541", "1200", {"本町", "難波", "道修町", "北浜"}},
	{"和歌山県",
	 "30",
	 "201",
	 "和歌山市",
	 "640",
	 "1700",
	 {"七番丁", "本町", "杉ノ馬場", "東蔵前丁"}},
	{"和歌山県", "30", "203", "橋本市", "648", "1701", {"市脇", "東家", "古佐田", "妻"}},
	{"和歌山県", "30", "206", "田辺市", "646", "1702", {"新屋敷町", "東陽", "湊", "上屋敷"}},
	{"愛知県", "23", "106", "名古屋市中区", "460", "1800", {"栄", "錦", "丸の内", "大須"}},
	{"北海道",
	 "01",
	 "101",
	 "札幌市中央区",
	 "060",
	 "4300",
	 {"北一条西", "南一条西", "大通西", "北三条西"}},
	{"福岡県", "40", "133", "福岡市中央区", "810", "2900", {"天神", "大名", "赤坂", "舞鶴"}},
	{"宮城県",
	 "04",
	 "101",
	 "仙台市青葉区",
	 "980",
	 "3700",
	 {"一番町", "本町", "国分町", "中央"}},
	{"広島県",
	 "34",
	 "101",
	 "広島市中区",
	 "730",
	 "2400",
	 {"紙屋町", "大手町", "八丁堀", "基町"}},
	{"神奈川県",
	 "14",
	 "104",
	 "横浜市中区",
	 "231",
	 "0200",
	 {"山下町", "日本大通", "本町", "関内"}},
	{"沖縄県", "47", "201", "那覇市", "900", "3600", {"久茂地", "泉崎", "おもろまち", "松山"}},
	{"奈良県",
	 "29",
	 "201",
	 "奈良市",
	 "630",
	 "1600",
	 {"三条大路", "大宮町", "油阪町", "西大寺国見町"}},
	{"石川県", "17", "201", "金沢市", "920", "2100", {"広坂", "香林坊", "片町", "本町"}},
	{"鹿児島県",
	 "46",
	 "201",
	 "鹿児島市",
	 "892",
	 "3500",
	 {"山下町", "東千石町", "中央町", "名山町"}},
	{"新潟県",
	 "15",
	 "103",
	 "新潟市中央区",
	 "951",
	 "0900",
	 {"古町通", "万代", "西堀通", "東大通"}},
};
#define NCITIES (sizeof cities / sizeof cities[0])

struct word {
	const char *text, *kana;
};

static const struct word heads[] = {
	{"山田", "ヤマダ"},       {"東洋", "トウヨウ"},     {"日本", "ニホン"},
	{"中央", "チュウオウ"},   {"紀州", "キシュウ"},     {"大和", "ヤマト"},
	{"富士", "フジ"},         {"三和", "サンワ"},       {"丸山", "マルヤマ"},
	{"高橋", "タカハシ"},     {"北斗", "ホクト"},       {"南海", "ナンカイ"},
	{"青葉", "アオバ"},       {"松本", "マツモト"},     {"太平洋", "タイヘイヨウ"},
	{"平和", "ヘイワ"},       {"サクラ", "サクラ"},     {"ミライ", "ミライ"},
	{"グリーン", "グリーン"}, {"ひまわり", "ヒマワリ"}, {"ＡＢＣ", "エービーシー"},
	{"ＪＰ", "ジェイピー"},   {"ＮＥＸＴ", "ネクスト"}, {"アスカ", "アスカ"},
	{"旭", "アサヒ"},         {"双葉", "フタバ"},       {"若葉", "ワカバ"},
	{"協和", "キョウワ"},     {"窓口", "マドグチ"},     {"黒潮", "クロシオ"},
	{"高野", "コウヤ"},       {"熊野", "クマノ"},
};
static const struct word tails[] = {
	{"商事", "ショウジ"},         {"建設", "ケンセツ"},
	{"工業", "コウギョウ"},       {"電機", "デンキ"},
	{"食品", "ショクヒン"},       {"物産", "ブッサン"},
	{"運輸", "ウンユ"},           {"不動産", "フドウサン"},
	{"製作所", "セイサクショ"},   {"印刷", "インサツ"},
	{"興業", "コウギョウ"},       {"ホールディングス", "ホールディングス"},
	{"システムズ", "システムズ"}, {"農園", "ノウエン"},
	{"水産", "スイサン"},         {"梅干", "ウメボシ"},
	{"設計", "セッケイ"},         {"観光", "カンコウ"},
	{"薬品", "ヤクヒン"},         {"ソリューションズ", "ソリューションズ"},
};
static const struct word org_tails[] = {
	{"協会", "キョウカイ"}, {"福祉会", "フクシカイ"}, {"学園", "ガクエン"},
	{"会", "カイ"},         {"財団", "ザイダン"},     {"振興会", "シンコウカイ"},
};

/* Legal forms: the kind code, the form, whether it may follow the name, the
 * kind digits of the 会社法人等番号, and a weight out of 1000. */
struct form {
	const char *kind, *text, *reg;
	bool suffix_ok, org;
	int weight;
};
static const struct form forms[] = {
	{"301", "株式会社", "01", true, false, 600},
	{"302", "有限会社", "02", true, false, 120},
	{"305", "合同会社", "03", true, false, 120},
	{"303", "合名会社", "03", false, false, 5},
	{"304", "合資会社", "03", false, false, 15},
	{"399", "一般社団法人", "05", false, true, 60},
	{"399", "一般財団法人", "05", false, true, 20},
	{"399", "特定非営利活動法人", "05", false, true, 30},
	{"399", "医療法人社団", "05", false, true, 15},
	{"399", "社会福祉法人", "05", false, true, 15},
};
#define NFORMS (sizeof forms / sizeof forms[0])

struct corp_state {
	char number[14];
	unsigned char head, tail, form, city, town;
	bool suffix;
	unsigned short chome, ban, go, post4;
	long assign_day, last_day;
	int remaining;
};

struct gen {
	uint64_t rng;
	unsigned serial[NCITIES];
	struct corp_state pending[PENDING_MAX];
	int npending;
	unsigned long pending_total;
	char last_number[14];
	struct buf line;
};

static uint64_t next(struct gen *g)
{
	uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static unsigned rnd(struct gen *g, unsigned n)
{
	return (unsigned)(next(g) % n);
}

/* Days since 1970-01-01 → YYYY-MM-DD (proleptic Gregorian). */
static void day_to_date(long z, char out[16])
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long y = yoe + era * 400;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	long d = doy - (153 * mp + 2) / 5 + 1;
	long m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(out, 16, "%04d-%02d-%02d", (int)(y % 10000), (int)(m % 100), (int)(d % 100));
}

#define DAY_ASSIGN 16713L /* 2015-10-05, the day the numbers were first assigned */
#define DAY_END 20400L    /* 2025-11-08 */

/* Appends n as full-width digits (the registry writes addresses so). */
static void put_fw_number(struct buf *b, unsigned n)
{
	char digits[12];
	int k = snprintf(digits, sizeof digits, "%u", n);
	for (int i = 0; i < k; i++) {
		char fw[3] = {(char)0xEF, (char)0xBC, (char)(0x90 + (digits[i] - '0'))};
		buf_append(b, fw, 3);
	}
}

static void put_quoted(struct buf *b, const char *s)
{
	if (!*s)
		return;
	buf_putc(b, '"');
	buf_puts(b, s);
	buf_putc(b, '"');
}

/* A new corporation: number, name, address; false when every office is full. */
static bool new_corp(struct gen *g, struct corp_state *c)
{
	memset(c, 0, sizeof(*c));
	int w = (int)rnd(g, 1000), f = 0;
	for (; f < (int)NFORMS - 1; f++) {
		if (w < forms[f].weight)
			break;
		w -= forms[f].weight;
	}
	c->form = (unsigned char)f;
	c->suffix = forms[f].suffix_ok && rnd(g, 10) < 4;
	c->head = (unsigned char)rnd(g, sizeof heads / sizeof heads[0]);
	c->tail = (unsigned char)(forms[f].org ? rnd(g, sizeof org_tails / sizeof org_tails[0]) :
						 rnd(g, sizeof tails / sizeof tails[0]));
	unsigned ci = rnd(g, NCITIES);
	for (unsigned tries = 0; g->serial[ci] >= SERIAL_MAX; tries++) {
		if (tries == NCITIES)
			return false;
		ci = (ci + 1) % NCITIES;
	}
	c->city = (unsigned char)ci;
	c->town = (unsigned char)rnd(g, 4);
	c->chome = (unsigned short)(1 + rnd(g, 5));
	c->ban = (unsigned short)(1 + rnd(g, 30));
	c->go = (unsigned short)(1 + rnd(g, 20));
	c->post4 = (unsigned short)rnd(g, 10000);
	char base[13];
	snprintf(base, sizeof base, "%s%s%06u", cities[ci].office, forms[f].reg, ++g->serial[ci]);
	int cd = checkdigit_corporate(base, 12);
	snprintf(c->number, sizeof c->number, "%d%s", cd, base);
	c->assign_day = rnd(g, 10) < 7 ? DAY_ASSIGN : DAY_ASSIGN + (long)rnd(g, 3300);
	c->last_day = c->assign_day;
	return true;
}

/* Formats one record of c into g->line (UTF-8, CRLF). */
static void format_record(struct gen *g, const struct corp_state *c, unsigned long seq,
			  const char *process, const char *close_cause, const char *successor,
			  bool latest)
{
	struct buf *b = &g->line;
	const struct form *f = &forms[c->form];
	const struct word *h = &heads[c->head];
	const struct word *t = f->org ? &org_tails[c->tail] : &tails[c->tail];
	const struct city *ct = &cities[c->city];
	char change[16], update[16], assign[16];
	day_to_date(c->last_day, change);
	day_to_date(c->last_day + (long)rnd(g, 8), update);
	day_to_date(c->assign_day, assign);
	buf_reset(b);
	buf_printf(b, "%lu,%s,%s,0,%s,%s,\"", seq, c->number, process, update, change);
	if (!c->suffix)
		buf_puts(b, f->text);
	buf_puts(b, h->text);
	buf_puts(b, t->text);
	if (c->suffix)
		buf_puts(b, f->text);
	buf_printf(b, "\",,%s,\"%s\",\"%s\",\"%s", f->kind, ct->pref, ct->city, ct->towns[c->town]);
	put_fw_number(b, c->chome);
	buf_puts(b, "丁目");
	put_fw_number(b, c->ban);
	buf_puts(b, "－");
	put_fw_number(b, c->go);
	buf_printf(b, "\",,%s,%s,%s%04u,,,", ct->pref_code, ct->city_code, ct->post3,
		   (unsigned)c->post4);
	if (close_cause)
		buf_printf(b, "%s,%s,%s,,", change, close_cause, successor ? successor : "");
	else
		buf_puts(b, ",,,,");
	buf_printf(b, "%s,%d,,,,,", assign, latest ? 1 : 0);
	char kana[128];
	snprintf(kana, sizeof kana, "%s%s", h->kana, t->kana);
	put_quoted(b, kana);
	buf_puts(b, ",0\r\n");
}

static int emit(FILE *out, iconv_t cd, const struct buf *line)
{
	if (cd == (iconv_t)-1)
		return fwrite(line->p, 1, line->len, out) == line->len ? 0 : -1;
	char conv[4096];
	char *ip = line->p, *op = conv;
	size_t il = line->len, ol = sizeof conv;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
		return -1; /* every character of the tables is in CP932 */
	size_t n = sizeof conv - ol;
	return fwrite(conv, 1, n, out) == n ? 0 : -1;
}

int corp_generate(FILE *out, unsigned long count, uint64_t seed, bool cp932)
{
	struct gen *g = calloc(1, sizeof(*g));
	if (!g)
		return -1;
	g->rng = seed;
	for (size_t i = 0; i < NCITIES; i++)
		g->serial[i] = rnd(g, 400000); /* each office's register is already in use */
	buf_init(&g->line, 4096);
	iconv_t cd = (iconv_t)-1;
	int rc = -1;
	if (cp932 && (cd = iconv_open("CP932", "UTF-8")) == (iconv_t)-1)
		goto out;
	for (unsigned long seq = 1; seq <= count; seq++) {
		unsigned long left = count - seq + 1;
		bool change = g->npending > 0 && (g->pending_total >= left ||
						  g->npending == PENDING_MAX || rnd(g, 100) < 25);
		if (!change) {
			struct corp_state c;
			if (!new_corp(g, &c)) {
				errno = ERANGE; /* every office's register is full */
				goto out;
			}
			unsigned w = rnd(g, 100);
			int k = w < 70 ? 0 : w < 88 ? 1 : w < 96 ? 2 : 3;
			while (k > 0 && g->pending_total + (unsigned long)k > left - 1)
				k--;
			c.remaining = k;
			format_record(g, &c, seq, "01", NULL, NULL, k == 0);
			memcpy(g->last_number, c.number, sizeof c.number);
			if (k > 0) {
				g->pending[g->npending++] = c;
				g->pending_total += (unsigned long)k;
			}
		} else {
			int i = (int)rnd(g, (unsigned)g->npending);
			struct corp_state *c = &g->pending[i];
			c->remaining--;
			g->pending_total--;
			c->last_day += 30 + (long)rnd(g, 900);
			if (c->last_day > DAY_END)
				c->last_day = DAY_END;
			unsigned w = rnd(g, 100);
			if (c->remaining == 0 && w < 25) {
				format_record(g, c, seq, "21", "01", NULL, true); /* 清算の結了等 */
			} else if (c->remaining == 0 && w < 35 &&
				   strcmp(g->last_number, c->number) != 0) {
				format_record(g, c, seq, "71", "11", g->last_number,
					      true); /* 合併 */
			} else if (w < 60) {
				c->head = (unsigned char)rnd(g, sizeof heads / sizeof heads[0]);
				format_record(g, c, seq, "11", NULL, NULL, c->remaining == 0);
			} else {
				c->town = (unsigned char)rnd(g, 4);
				c->chome = (unsigned short)(1 + rnd(g, 5));
				c->ban = (unsigned short)(1 + rnd(g, 30));
				c->post4 = (unsigned short)rnd(g, 10000);
				format_record(g, c, seq, "12", NULL, NULL, c->remaining == 0);
			}
			if (c->remaining == 0)
				g->pending[i] = g->pending[--g->npending];
		}
		if (emit(out, cd, &g->line) != 0)
			goto out;
	}
	rc = fflush(out) == 0 ? 0 : -1;
out:
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	buf_release(&g->line);
	free(g);
	return rc;
}
