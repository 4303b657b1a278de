/* Synthetic population (`madoguchi demo populate`): households of residents
 * with a census-shaped age pyramid, Japanese names with their readings,
 * addresses drawn from the municipality's ABR residences and parcels, and
 * valid check digits, loaded through resident_bulk_*. Deterministic for a seed. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/arena.h"
#include "common/checkdigit.h"
#include "common/lgcode.h"
#include "common/progress.h"
#include "common/xalloc.h"
#include "resident/names.h"
#include "resident/resident.h"

/* Ages are counted on this day, not today, so that a seed gives the same
 * population whatever day it runs. Move it forward now and then. */
#define POP_AS_OF_Y 2026
#define POP_AS_OF_M 10
#define POP_AS_OF_D 1

#define AGE_MAX 105
#define NBANDS 21        /* 0–4, 5–9, …, 95–99, 100+ */
#define HH_MAX 10        /* members of one generated household at most */
#define POP_MAX 20000000 /* residents per call: 宛名番号 has 9 digits, 世帯番号 8 */

/* ---- random numbers: xoshiro256** seeded through splitmix64 ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1). */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0, without modulo bias (rejection). */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
	do
		x = rng_next(r);
	while (x >= limit);
	return x % n;
}

static int rng_range(struct rng *r, int lo, int hi)
{
	return lo + (int)rng_below(r, (uint64_t)(hi - lo + 1));
}

static bool rng_chance(struct rng *r, double p)
{
	return rng_unit(r) < p;
}

/* ---- days (proleptic Gregorian, day 0 = 1970-01-01) ---- */

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void fmt_day(int64_t day, char out[11])
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* ---- the age pyramid ---- */

/* Japan, 2020 Population Census (令和2年国勢調査, 人口等基本集計, 不詳補完値):
 * population by five-year age group, in thousands, 0–4 … 95–99, 100+.
 * Sum 126,148 (published total 126,146); 65 and over 36,031 (28.6 %).
 * Written down without access to e-Stat: the shape and the totals are right,
 * a band may be a few thousand off. */
static const unsigned census2020[NBANDS] = {
	4541, 5114, 5376, 5706, 6320, 6384, 6714, 7498, 8476, 9868, 8738,
	7940, 7442, 8236, 9189, 7065, 5404, 3742, 1818, 497,  80,
};

/* How likely a person of each age band is to be the anchor of each kind of
 * household (the head of a one-person household, the husband of a couple,
 * …). Multiplied by the pyramid and the running correction; the shapes follow
 * the census tables of household type by age of head, roughly. */
enum role { R_SINGLE, R_COUPLE, R_FAMILY, R_LONE, R_MID, R_OLD, R_NROLES };
/* clang-format off */
static const float propensity[R_NROLES][NBANDS] = {
	/*            0-    5-   10-   15-   20-   25-   30-   35-   40-   45-   50-
	               55-   60-   65-   70-   75-   80-   85-   90-   95-  100+ */
	[R_SINGLE] = {   0,    0,    0, .25f, 1.0f, .90f, .60f, .45f, .40f, .35f, .35f,
	              .35f, .40f, .45f, .50f, .60f, .75f, .90f, 1.0f, 1.0f, 1.0f},
	[R_COUPLE] = {   0,    0,    0,    0, .10f, .30f, .30f, .20f, .20f, .25f, .40f,
	              .70f, 1.0f, 1.2f, 1.3f, 1.3f, 1.1f, .80f, .40f, .20f, .10f},
	[R_FAMILY] = {   0,    0,    0,    0,    0, .40f, 1.0f, 1.2f, 1.3f, 1.3f, 1.1f,
	              .80f, .50f, .30f, .15f, .05f, .05f, .05f,    0,    0,    0},
	[R_LONE]   = {   0,    0,    0,    0, .10f, .30f, .60f, .90f, 1.0f, 1.0f, .90f,
	              .70f, .60f, .60f, .60f, .60f, .50f, .30f, .10f, .05f,    0},
	[R_MID]    = {   0,    0,    0,    0,    0,    0,    0, .40f, .80f, 1.0f, 1.0f,
	              .90f, .60f, .30f, .10f,    0,    0,    0,    0,    0,    0},
	[R_OLD]    = {   0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
	              .10f, .40f, .90f, 1.0f, 1.0f, .80f, .50f, .20f, .05f,    0},
};
/* clang-format on */

struct pyramid {
	double target[AGE_MAX + 1]; /* share of each single year of age */
	double band_target[NBANDS];
	double corr[NBANDS]; /* running correction, so the total follows the census */
	uint64_t count[NBANDS], total, since;
};

static int band_of(int age)
{
	return age / 5 < NBANDS - 1 ? age / 5 : NBANDS - 1;
}

static void pyramid_init(struct pyramid *p)
{
	memset(p, 0, sizeof(*p));
	double sum = 0;
	for (int b = 0; b < NBANDS; b++)
		sum += census2020[b];
	/* 100+ spread over 100..105, thinning out */
	static const double tail[6] = {0.38, 0.25, 0.16, 0.10, 0.07, 0.04};
	for (int a = 0; a <= AGE_MAX; a++) {
		int b = band_of(a);
		double share = census2020[b] / sum;
		p->target[a] = b < NBANDS - 1 ? share / 5 : share * tail[a - 100];
	}
	for (int b = 0; b < NBANDS; b++) {
		p->band_target[b] = census2020[b] / sum;
		p->corr[b] = 1.0;
	}
}

/* Counts a generated age; every 1,000 people the correction of each band is
 * nudged towards its census share (a slow integral controller). */
static void pyramid_count(struct pyramid *p, int age)
{
	p->count[band_of(age)]++;
	p->total++;
	if (++p->since < 1000)
		return;
	p->since = 0;
	for (int b = 0; b < NBANDS; b++) {
		double actual = (double)p->count[b] / (double)p->total;
		double ratio = actual > 0 ? p->band_target[b] / actual : 2.0;
		p->corr[b] *= pow(ratio, 0.25);
		if (p->corr[b] < 0.05)
			p->corr[b] = 0.05;
		if (p->corr[b] > 20)
			p->corr[b] = 20;
	}
}

/* An age in [lo, hi] weighted by the pyramid, the correction and the role's
 * propensity (role -1: none). -1 when the range is empty. */
static int draw_age(struct pyramid *p, struct rng *r, int lo, int hi, int role)
{
	if (lo < 0)
		lo = 0;
	if (hi > AGE_MAX)
		hi = AGE_MAX;
	if (lo > hi)
		return -1;
	double w[AGE_MAX + 1], sum = 0;
	for (int a = lo; a <= hi; a++) {
		int b = band_of(a);
		w[a] = p->target[a] * p->corr[b] * (role >= 0 ? propensity[role][b] : 1.0f);
		sum += w[a];
	}
	if (sum <= 0)
		return rng_range(r, lo, hi);
	double u = rng_unit(r) * sum;
	for (int a = lo; a < hi; a++) {
		u -= w[a];
		if (u < 0)
			return a;
	}
	return hi;
}

/* ---- identifiers ---- */

/* A fixed pseudo-random permutation of [0, n) (n < 2^(2*half)): a four-round
 * Feistel network on 2*half bits, cycle-walked into range. Fixed keys, so
 * the k-th code is the same in every run: uniqueness comes from k. */
static uint64_t permute(uint64_t x, uint64_t n, int half, uint64_t key)
{
	uint64_t mask = (1ULL << half) - 1;
	do {
		uint64_t l = x >> half, rr = x & mask;
		for (int round = 0; round < 4; round++) {
			uint64_t k = key + (uint64_t)round;
			uint64_t f = splitmix64(&k) ^ rr;
			uint64_t tmp = rr;
			f = splitmix64(&f);
			rr = (l ^ f) & mask;
			l = tmp;
		}
		x = (l << half) | rr;
	} while (x >= n);
	return x;
}

/* 宛名番号 / 世帯番号: a sequence number and its modulus-11 check digit. */
static void make_atena(uint64_t seq, int digits, char *out, size_t outlen)
{
	snprintf(out, outlen, "%0*llu", digits, (unsigned long long)seq);
	out[digits] = (char)('0' + checkdigit_atena(out, (size_t)digits));
	out[digits + 1] = '\0';
}

/* 住民票コード of the k-th generated resident: 10 digits and a modulus-11
 * check digit (weights 2–7, the 宛名番号 rule). */
static void make_juminhyo(uint64_t k, char out[12])
{
	make_atena(permute(k % 10000000000ULL, 10000000000ULL, 17, 0x6A756D696E6879ULL), 10, out,
		   12);
}

static void make_mynumber(uint64_t k, char out[13])
{
	snprintf(out, 13, "%011llu",
		 (unsigned long long)permute(k % 100000000000ULL, 100000000000ULL, 19,
					     0x6D796E756D626572ULL));
	out[11] = (char)('0' + checkdigit_mynumber(out, 11));
	out[12] = '\0';
}

/* ---- addresses ---- */

struct addr {
	const char *town;        /* 和歌山県和歌山市 + 町字, shared by the town's rows */
	const char *machiaza_id; /* shared too */
	const char *blk_id, *rsdt_id, *prc_id;
	const char *tail; /* "2番3号" or "123番地4" */
};

struct addr_list {
	struct addr *v;
	size_t n, cap;
};

static void addr_push(struct addr_list *l, const struct addr *a)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = *a;
}

static const char *col(struct db_stmt *st, int i)
{
	const char *s = db_col_text(st, i);
	return s ? s : "";
}

/* 一 … 九十九 for a 丁目 number. */
static void kanji_number(int n, char *out, size_t outlen)
{
	static const char *const digit[10] = {"",   "一", "二", "三", "四",
					      "五", "六", "七", "八", "九"};
	snprintf(out, outlen, "%s%s%s", n >= 20 ? digit[n / 10] : "", n >= 10 ? "十" : "",
		 digit[n % 10]);
}

/* The display prefix of a town: pref, county, city, ward, 大字・町, 丁目, 小字.
 * 丁目 is written in kanji numerals as on most 住民票 (ABR has "１丁目"). */
static const char *town_name(struct arena *a, struct db_stmt *st, int first)
{
	char chome[64];
	int64_t cn = db_col_int64(st, first + 6);
	if (cn > 0 && cn < 100) {
		char num[32];
		kanji_number((int)cn, num, sizeof num);
		snprintf(chome, sizeof chome, "%s丁目", num);
	} else {
		snprintf(chome, sizeof chome, "%s", col(st, first + 5));
	}
	return arena_printf(a, "%s%s%s%s%s%s%s", col(st, first), col(st, first + 1),
			    col(st, first + 2), col(st, first + 3), col(st, first + 4), chome,
			    col(st, first + 7));
}

#define TOWN_COLS "t.pref, t.county, t.city, t.ward, t.oaza_cho, t.chome, t.chome_number, t.koaza"

static const char rsdt_sql[] =
	"SELECT r.machiaza_id, r.blk_id, r.rsdt_id, r.blk_num, r.rsdt_num, r.rsdt_num2, " TOWN_COLS
	" FROM abr_rsdt r JOIN abr_town t ON t.lg_code = r.lg_code AND t.machiaza_id = "
	"r.machiaza_id AND t.rsdt_addr_flg = 1 WHERE r.lg_code = ? AND r.rsdt2_id = '' AND "
	"coalesce(r.ablt_date, '') = '' AND coalesce(t.ablt_date, '') = '' AND "
	"coalesce(r.blk_num, '') <> '' ORDER BY r.machiaza_id, r.blk_id, r.rsdt_id";

static const char parcel_sql[] =
	"SELECT p.machiaza_id, p.prc_id, p.prc_num1, p.prc_num2, p.prc_num3, " TOWN_COLS
	" FROM abr_parcel p JOIN abr_town t ON t.lg_code = p.lg_code AND t.machiaza_id = "
	"p.machiaza_id AND t.rsdt_addr_flg = 0 WHERE p.lg_code = ? AND "
	"coalesce(p.rsdt_addr_flg, 0) = 0 AND coalesce(p.ablt_date, '') = '' AND "
	"coalesce(t.ablt_date, '') = '' AND coalesce(p.prc_num1, '') <> '' ORDER BY "
	"p.machiaza_id, p.prc_id";

/* Reads the 住居表示 residences (kind 0) or the parcels of 地番 areas (kind 1)
 * of lg_code, in key order. Returns 0 or -1 with err. */
static int load_addrs(struct db_conn *c, struct arena *a, const char *lg_code, int kind,
		      struct addr_list *out, char *err, size_t errlen)
{
	struct db_stmt *st;
	if (db_prepare(c, kind == 0 ? rsdt_sql : parcel_sql, &st) != 0) {
		snprintf(err, errlen, "ABR の表を読めません（migrate 済みですか）: %s",
			 db_errmsg(c));
		return -1;
	}
	db_bind_text(st, 1, lg_code);
	const char *town = NULL, *machiaza = NULL;
	int first = kind == 0 ? 6 : 5, s;
	while ((s = db_step(st)) == DB_ROW) {
		struct addr ad = {0};
		if (!machiaza || strcmp(machiaza, col(st, 0)) != 0) {
			machiaza = arena_strdup(a, col(st, 0));
			town = town_name(a, st, first);
		}
		ad.machiaza_id = machiaza;
		ad.town = town;
		if (kind == 0) {
			ad.blk_id = arena_strdup(a, col(st, 1));
			ad.rsdt_id = arena_strdup(a, col(st, 2));
			const char *rn = col(st, 4), *rn2 = col(st, 5);
			if (!*rn)
				ad.tail = arena_printf(a, "%s番", col(st, 3));
			else if (*rn2)
				ad.tail = arena_printf(a, "%s番%s-%s号", col(st, 3), rn, rn2);
			else
				ad.tail = arena_printf(a, "%s番%s号", col(st, 3), rn);
		} else {
			ad.prc_id = arena_strdup(a, col(st, 1));
			const char *n2 = col(st, 3), *n3 = col(st, 4);
			ad.tail = arena_printf(a, "%s番地%s%s%s", col(st, 2), n2, *n3 ? "の" : "",
					       n3);
		}
		addr_push(out, &ad);
	}
	db_done(st);
	if (s < 0) {
		snprintf(err, errlen, "ABR の表を読めません: %s", db_errmsg(c));
		return -1;
	}
	return 0;
}

/* ---- names ---- */

/* Cumulative weights for O(log n) weighted picks. */
struct picker {
	uint64_t *cum;
	size_t n;
};

static void picker_init(struct picker *p, size_t n)
{
	p->cum = xcalloc(n, sizeof(*p->cum));
	p->n = n;
}

static void picker_set(struct picker *p, size_t i, uint64_t w)
{
	p->cum[i] = (i ? p->cum[i - 1] : 0) + w;
}

static size_t picker_pick(const struct picker *p, struct rng *r)
{
	uint64_t u = rng_below(r, p->cum[p->n - 1]);
	size_t lo = 0, hi = p->n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->cum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct names {
	struct picker surname;
	struct picker given[2][POPN_COHORTS]; /* [0] male, [1] female */
};

static void names_init(struct names *nm)
{
	picker_init(&nm->surname, popn_nsurnames);
	for (size_t i = 0; i < popn_nsurnames; i++)
		picker_set(&nm->surname, i, popn_surnames[i].weight);
	for (int sx = 0; sx < 2; sx++) {
		const struct popn_given *g = sx ? popn_female : popn_male;
		size_t n = sx ? popn_nfemale : popn_nmale;
		for (int c = 0; c < POPN_COHORTS; c++) {
			picker_init(&nm->given[sx][c], n);
			for (size_t i = 0; i < n; i++)
				picker_set(&nm->given[sx][c], i, g[i].w[c]);
		}
	}
}

static void names_release(struct names *nm)
{
	free(nm->surname.cum);
	for (int sx = 0; sx < 2; sx++)
		for (int c = 0; c < POPN_COHORTS; c++)
			free(nm->given[sx][c].cum);
}

/* ---- households ---- */

enum kin { K_NONE, K_BLOOD, K_INLAW }; /* of the head's line, or married in */

struct member {
	int age, sex; /* 1 male, 2 female */
	const char *zokugara;
	enum kin kin;
	const struct popn_given *given;
	int64_t birth; /* day number */
	int64_t moved_in;
	enum resident_event ev;
};

struct household {
	struct member m[HH_MAX];
	int n;
	const struct popn_surname *surname;
};

struct gen {
	struct rng rng;
	struct pyramid pyr;
	struct names names;
	int64_t as_of; /* day number of POP_AS_OF */
};

static struct member *add(struct household *h, int age, int sex, const char *zokugara, enum kin kin)
{
	if (h->n == HH_MAX || age < 0)
		return NULL;
	struct member *m = &h->m[h->n++];
	memset(m, 0, sizeof(*m));
	m->age = age;
	m->sex = sex;
	m->zokugara = zokugara;
	m->kin = kin;
	return m;
}

static int other_sex(int sex)
{
	return sex == 1 ? 2 : 1;
}

static int child_sex(struct gen *g)
{
	return rng_chance(&g->rng, 0.512) ? 1 : 2; /* 105 boys to 100 girls */
}

/* The age of a spouse of someone aged a (18 or older; -1: none). */
static int spouse_age(struct gen *g, int a, int sex)
{
	/* husbands are about two years older than their wives */
	return sex == 1 ? draw_age(&g->pyr, &g->rng, a - 7 > 18 ? a - 7 : 18, a + 2, -1) :
			  draw_age(&g->pyr, &g->rng, a - 2 > 18 ? a - 2 : 18, a + 7, -1);
}

/* A child of parents aged p1 and p2 (p2 -1: one parent): 21–44 years younger
 * than each (so 20–45 years by birth date), at least min_age. */
static int child_age(struct gen *g, int p1, int p2, int min_age)
{
	int old = p2 > p1 ? p2 : p1, young = p2 >= 0 && p2 < p1 ? p2 : p1;
	int lo = old - 44 > min_age ? old - 44 : min_age;
	return draw_age(&g->pyr, &g->rng, lo, young - 21, -1);
}

/* Adds a child (or grandchild) of parents aged p1 and p2; a second child of
 * the same age is redrawn twice, so that twins stay rare. */
static void add_child(struct gen *g, struct household *h, int p1, int p2, int min_age,
		      const char *zokugara)
{
	int age = -1;
	for (int tries = 0; tries < 3; tries++) {
		age = child_age(g, p1, p2, min_age);
		bool taken = false;
		for (int i = 0; i < h->n; i++)
			taken |= !strcmp(h->m[i].zokugara, zokugara) && h->m[i].age == age;
		if (!taken)
			break;
	}
	add(h, age, child_sex(g), zokugara, K_BLOOD);
}

/* The head of a household (age a, sex) and the spouse (age b): 妻 or 夫. */
static void add_head_couple(struct household *h, int a, int sex, int b)
{
	add(h, a, sex, "世帯主", K_BLOOD);
	add(h, b, other_sex(sex), sex == 1 ? "妻" : "夫", K_INLAW);
}

/* How many children: p[k] is the chance of k (0..3), the rest is 4. */
static int nkids(struct gen *g, const double p[4])
{
	double u = rng_unit(&g->rng);
	int k = 0;
	while (k < 4 && u >= p[k])
		u -= p[k++];
	return k;
}

/* Builds the members of one household: its kind, then ages and 続柄. Shares:
 * 2020 census, general households: one person 38.0 %, couple only 20.1 %,
 * couple and children 25.0 %, one parent and children 9.0 %, other (mostly
 * three generations) 7.9 %. */
static void gen_members(struct gen *g, struct household *h)
{
	/* towards the census's sizes, roughly: 2 persons 28 %, 3 17 %, 4 12 %, 5+ 5 % */
	static const double family_kids[4] = {0, 0.47, 0.41, 0.10};
	static const double lone_kids[4] = {0, 0.63, 0.31, 0.05};
	static const double grand_kids[4] = {0.25, 0.35, 0.30, 0.09};
	struct rng *r = &g->rng;
	struct pyramid *p = &g->pyr;
	double u = rng_unit(r);
	h->n = 0;
	if (u < 0.380) { /* one person */
		int a = draw_age(p, r, 18, AGE_MAX, R_SINGLE);
		double pm = a < 60 ? 0.60 : a < 75 ? 0.45 : 0.30;
		add(h, a, rng_chance(r, pm) ? 1 : 2, "世帯主", K_BLOOD);
	} else if (u < 0.581) { /* couple */
		int a = draw_age(p, r, 20, AGE_MAX, R_COUPLE);
		int b = spouse_age(g, a, 1);
		if (rng_chance(r, 0.93))
			add_head_couple(h, a, 1, b);
		else
			add_head_couple(h, b, 2, a);
	} else if (u < 0.831) { /* couple and children */
		int a = draw_age(p, r, 23, 85, R_FAMILY);
		int b = spouse_age(g, a, 1);
		if (rng_chance(r, 0.95))
			add_head_couple(h, a, 1, b);
		else
			add_head_couple(h, b, 2, a);
		for (int k = nkids(g, family_kids); k > 0; k--)
			add_child(g, h, a, b, 0, "子");
	} else if (u < 0.921) { /* one parent and children */
		int a = draw_age(p, r, 22, 100, R_LONE);
		add(h, a, rng_chance(r, 0.15) ? 1 : 2, "世帯主", K_BLOOD);
		for (int k = nkids(g, lone_kids); k > 0; k--)
			add_child(g, h, a, -1, 0, "子");
	} else if (u < 0.9605) { /* three generations around a middle-aged head */
		int a = draw_age(p, r, 35, 75, R_MID);
		int sex = rng_chance(r, 0.85) ? 1 : 2;
		add(h, a, sex, "世帯主", K_BLOOD);
		int b = rng_chance(r, 0.85) ? spouse_age(g, a, sex) : -1;
		if (b >= 0)
			add(h, b, other_sex(sex), sex == 1 ? "妻" : "夫", K_INLAW);
		int mother = draw_age(p, r, a + 21, a + 44, -1);
		if (mother >= 0) {
			add(h, mother, 2, "母", K_BLOOD);
			if (rng_chance(r, 0.4)) {
				int lo = mother - 2 > a + 21 ? mother - 2 : a + 21;
				int hi = mother + 7 < a + 44 ? mother + 7 : a + 44;
				add(h, draw_age(p, r, lo, hi, -1), 1, "父", K_BLOOD);
			}
		}
		for (int k = nkids(g, grand_kids); k > 0; k--)
			add_child(g, h, a, b, 0, "子");
	} else { /* three generations around an elderly head */
		int a = draw_age(p, r, 60, AGE_MAX, R_OLD);
		int sex = rng_chance(r, 0.8) ? 1 : 2;
		add(h, a, sex, "世帯主", K_BLOOD);
		int b = rng_chance(r, sex == 1 ? 0.65 : 0.2) ? spouse_age(g, a, sex) : -1;
		if (b >= 0)
			add(h, b, other_sex(sex), sex == 1 ? "妻" : "夫", K_INLAW);
		int c = child_age(g, a, b, 22);
		if (c >= 0) {
			int csex = rng_chance(r, 0.8) ? 1 : 2;
			add(h, c, csex, "子", K_BLOOD);
			int d = rng_chance(r, 0.85) ? spouse_age(g, c, csex) : -1;
			if (d >= 0)
				add(h, d, other_sex(csex), csex == 1 ? "子の妻" : "子の夫",
				    K_INLAW);
			for (int k = nkids(g, grand_kids); k > 0; k--)
				add_child(g, h, c, d, 0, "孫");
		}
	}
}

/* Siblings (a run of 子 or of 孫) oldest first, as a 住民票 lists them. */
static void sort_siblings(struct household *h)
{
	for (int i = 1; i < h->n; i++) {
		struct member m = h->m[i];
		int j = i;
		while (j > 0 && !strcmp(h->m[j - 1].zokugara, m.zokugara) &&
		       h->m[j - 1].age < m.age) {
			h->m[j] = h->m[j - 1];
			j--;
		}
		h->m[j] = m;
	}
}

/* Birth dates, names, and how each member came to live here. */
static void gen_details(struct gen *g, struct household *h)
{
	struct rng *r = &g->rng;
	h->surname = &popn_surnames[picker_pick(&g->names.surname, r)];
	sort_siblings(h);
	for (int i = 0; i < h->n; i++) {
		struct member *m = &h->m[i];
		/* aged m->age on the reference day */
		int64_t first =
			days_from_civil(POP_AS_OF_Y - m->age - 1, POP_AS_OF_M, POP_AS_OF_D) + 1;
		int64_t last = days_from_civil(POP_AS_OF_Y - m->age, POP_AS_OF_M, POP_AS_OF_D);
		const struct member *prev = i > 0 ? &h->m[i - 1] : NULL;
		bool sibling = prev && !strcmp(prev->zokugara, m->zokugara) && m->kin == K_BLOOD;
		if (sibling && prev->age == m->age) {
			m->birth = prev->birth; /* twins */
		} else {
			/* one year of age apart: born 300 days after the elder at least */
			if (sibling && prev->age == m->age + 1 && prev->birth + 300 > first)
				first = prev->birth + 300;
			m->birth = first + (int64_t)rng_below(r, (uint64_t)(last - first + 1));
		}
		int y, mo, d;
		civil_from_days(m->birth, &y, &mo, &d);
		int sx = m->sex == 1 ? 0 : 1;
		const struct popn_given *tab = sx ? popn_female : popn_male;
		const struct picker *pk = &g->names.given[sx][popn_cohort(y)];
		for (int tries = 0; tries < 8; tries++) {
			m->given = &tab[picker_pick(pk, r)];
			bool clash = false;
			for (int j = 0; j < i; j++)
				clash |= h->m[j].given == m->given;
			if (!clash)
				break;
		}
		pyramid_count(&g->pyr, m->age);
	}
	/* About 40 % of households are of the town: the head's family was born
	 * here and those who married in moved in; the others moved in together
	 * on one day in the last 45 years, and children born since were born here. */
	int64_t year = 365;
	if (rng_chance(r, 0.40)) {
		for (int i = 0; i < h->n; i++) {
			struct member *m = &h->m[i];
			if (m->kin == K_BLOOD) {
				m->ev = RES_EV_SHUSSEI;
				m->moved_in = m->birth;
			} else {
				/* married in as an adult, before their first child */
				int64_t lo = m->birth + 18 * year, hi = g->as_of;
				for (int j = 0; j < h->n; j++)
					if (h->m[j].kin == K_BLOOD &&
					    h->m[j].birth > m->birth + 20 * year &&
					    h->m[j].birth < hi)
						hi = h->m[j].birth;
				if (lo > hi)
					lo = hi;
				m->ev = RES_EV_TENNYU;
				m->moved_in = lo + (int64_t)rng_below(r, (uint64_t)(hi - lo + 1));
			}
		}
		return;
	}
	int64_t lo = g->as_of - 45 * year;
	for (int i = 0; i < h->n; i++) {
		const struct member *m = &h->m[i];
		int64_t adult = m->birth + 18 * year;
		if ((m->kin == K_INLAW || i == 0) && adult > lo)
			lo = adult; /* the adults of the couple moved in as adults */
	}
	if (lo > g->as_of)
		lo = g->as_of;
	int64_t when = lo + (int64_t)rng_below(r, (uint64_t)(g->as_of - lo + 1));
	for (int i = 0; i < h->n; i++) {
		struct member *m = &h->m[i];
		if (m->birth >= when) {
			m->ev = RES_EV_SHUSSEI;
			m->moved_in = m->birth;
		} else {
			m->ev = RES_EV_TENNYU;
			m->moved_in = when;
		}
	}
}

/* The progress line, as the importers draw it (n is never 0 here). */
static void show_progress(FILE *out, uint64_t done, uint64_t total, double secs)
{
	progress_show(out, "residents (demo populate)", progress_pct(done, total), done, secs);
}

/* ---- the whole ---- */

/* The next free numbers: 住民票コード sequence (all municipalities: the code
 * is national), 宛名番号 and 世帯番号 bases of lg_code. */
static int next_numbers(struct db_conn *c, const char *lg_code, uint64_t *k, uint64_t *atena,
			uint64_t *setai, char *err, size_t errlen)
{
	static const char *const sql[3] = {
		"SELECT count(*) FROM residents",
		"SELECT max(atena_no) FROM residents WHERE lg_code = ? AND length(atena_no) = 10",
		"SELECT max(setai_no) FROM residents WHERE lg_code = ? AND length(setai_no) = 9",
	};
	uint64_t *out[3] = {k, atena, setai};
	static const uint64_t dflt[3] = {0, 100000000, 10000000};
	for (int i = 0; i < 3; i++) {
		struct db_stmt *st;
		if (db_prepare(c, sql[i], &st) != 0) {
			snprintf(err, errlen, "住民記録の表を読めません（migrate 済みですか）: %s",
				 db_errmsg(c));
			return -1;
		}
		if (i)
			db_bind_text(st, 1, lg_code);
		int s = db_step(st);
		*out[i] = dflt[i];
		if (s == DB_ROW && !db_col_is_null(st, 0)) {
			if (i == 0) {
				*out[i] = (uint64_t)db_col_int64(st, 0);
			} else {
				const char *v = db_col_text(st, 0);
				/* the base without its check digit */
				uint64_t n = strtoull(v, NULL, 10) / 10;
				if (n > *out[i])
					*out[i] = n;
			}
		}
		db_done(st);
		if (s < 0) {
			snprintf(err, errlen, "住民記録の表を読めません: %s", db_errmsg(c));
			return -1;
		}
	}
	return 0;
}

int resident_populate(struct app *app, const char *lg_code, uint64_t n, uint64_t seed,
		      FILE *progress, char *err, size_t errlen)
{
	int rc = -1;
	struct arena *a = arena_new();
	struct addr_list rsdt = {0}, parcel = {0};
	struct resident_bulk *bulk = NULL;
	struct gen *g = xcalloc(1, sizeof(*g));
	names_init(&g->names);
	struct db_conn *c = db_acquire(app->db);
	if (!lg_code || !lgcode_valid(lg_code)) {
		snprintf(err, errlen,
			 "全国地方公共団体コードが正しくありません: %s / invalid lg_code",
			 lg_code ? lg_code : "(null)");
		goto out;
	}
	if (n == 0 || n > POP_MAX) {
		snprintf(err, errlen, "人数は 1 から %d までです / residents must be 1..%d",
			 POP_MAX, POP_MAX);
		goto out;
	}
	if (load_addrs(c, a, lg_code, 0, &rsdt, err, errlen) != 0 ||
	    load_addrs(c, a, lg_code, 1, &parcel, err, errlen) != 0)
		goto out;
	if (rsdt.n == 0 && parcel.n == 0) {
		snprintf(
			err, errlen,
			"%s の住居表示・地番データ（ABR）がありません。先に madoguchi import abr で町字"
			"（mt_town）と住居表示（mt_rsdtdsp_rsdt）または地番（mt_parcel）を取り込んでください"
			" / no ABR residences or parcels imported for %s: import mt_town and "
			"mt_rsdtdsp_rsdt or mt_parcel first",
			lg_code, lg_code);
		goto out;
	}
	uint64_t k, atena, setai;
	if (next_numbers(c, lg_code, &k, &atena, &setai, err, errlen) != 0)
		goto out;
	if (atena + n > 999999999 || setai + n > 99999999 || k + n + 100000 > 10000000000ULL) {
		snprintf(err, errlen, "宛名番号・世帯番号の空きが足りません / numbers exhausted");
		goto out;
	}
	rng_seed(&g->rng, seed);
	pyramid_init(&g->pyr);
	g->as_of = days_from_civil(POP_AS_OF_Y, POP_AS_OF_M, POP_AS_OF_D);
	/* warm up: let the pyramid's correction settle before anyone is written,
	 * so that small populations have the census shape too */
	for (uint64_t warm = 0; warm < 30000;) {
		struct household h;
		gen_members(g, &h);
		gen_details(g, &h);
		warm += (uint64_t)h.n;
	}
	int brc = resident_bulk_begin(app, c, &bulk);
	if (brc != 0) {
		snprintf(err, errlen, "%s",
			 brc == -EINVAL ?
				 "鍵が読み込まれていません / keys not loaded" :
				 "住民記録の一括登録を始められません / cannot begin the bulk load");
		goto out;
	}
	/* 住居表示 areas are the dense centre: about 4 households in 10 there */
	double p_rsdt = rsdt.n == 0 ? 0 : parcel.n == 0 ? 1 : 0.42;
	double t0 = progress_now(), last = 0;
	uint64_t done = 0, retries = 0;
	while (done < n) {
		struct household h;
		gen_members(g, &h);
		gen_details(g, &h);
		if ((uint64_t)h.n > n - done)
			h.n = (int)(n - done); /* the last household is cut to fit */
		const struct addr *ad = rng_chance(&g->rng, p_rsdt) ?
						&rsdt.v[rng_below(&g->rng, rsdt.n)] :
						&parcel.v[rng_below(&g->rng, parcel.n)];
		char address[512], setai_no[16];
		snprintf(address, sizeof address, "%s%s", ad->town, ad->tail);
		make_atena(++setai, 8, setai_no, sizeof setai_no);
		for (int i = 0; i < h.n; i++) {
			const struct member *m = &h.m[i];
			char name[256], kana[256], birth[11], moved[11], code[12], atena_no[16],
				mn[13], msg[256];
			snprintf(name, sizeof name, "%s　%s", h.surname->kanji, m->given->kanji);
			snprintf(kana, sizeof kana, "%s　%s", h.surname->kana, m->given->kana);
			fmt_day(m->birth, birth);
			fmt_day(m->moved_in, moved);
			make_atena(++atena, 9, atena_no, sizeof atena_no);
			struct resident_rec rec = {
				.lg_code = lg_code,
				.atena_no = atena_no,
				.setai_no = setai_no,
				.name = name,
				.name_kana = kana,
				.birth = birth,
				.sex = m->sex,
				.zokugara = m->zokugara,
				.address = address,
				.machiaza_id = ad->machiaza_id,
				.blk_id = ad->blk_id,
				.rsdt_id = ad->rsdt_id,
				.prc_id = ad->prc_id,
				.status = RES_ST_ACTIVE,
			};
			int arc;
			do { /* a 住民票コード already taken (by an import): the next one */
				make_juminhyo(k, code);
				make_mynumber(k, mn);
				k++;
				rec.juminhyo_code = code;
				arc = resident_bulk_add(bulk, &rec, mn, m->ev, moved, msg,
							sizeof msg);
			} while (arc == -EEXIST && ++retries < 100000);
			sodium_memzero(mn, sizeof mn);
			if (arc != 0) {
				snprintf(err, errlen,
					 "%llu 人目を登録できません / resident %llu: %s",
					 (unsigned long long)done + 1, (unsigned long long)done + 1,
					 msg);
				goto out;
			}
			done++;
		}
		if (progress && (done & 1023) < (uint64_t)h.n && progress_due(&last))
			show_progress(progress, done, n, last - t0);
	}
	int erc = resident_bulk_end(bulk, true);
	bulk = NULL;
	if (erc != 0) {
		snprintf(err, errlen, "コミットに失敗しました / commit failed: %s", db_errmsg(c));
		goto out;
	}
	if (progress) {
		show_progress(progress, done, n, progress_now() - t0);
		fputc('\n', progress);
	}
	rc = 0;
out:
	if (bulk)
		resident_bulk_end(bulk, false);
	db_release(c);
	names_release(&g->names);
	free(g);
	free(rsdt.v);
	free(parcel.v);
	arena_free(a);
	return rc;
}
