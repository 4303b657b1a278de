/* The normalizer: fold the input, then match prefecture, municipality, town
 * (大字・丁目, 小字) by longest key in the index, then read 番地・号 and look
 * the block, residence or parcel up. Each level falls back to the one above
 * when it finds nothing; what is left over is "others". */
#include <errno.h>
#include <string.h>

#include "address/addr_internal.h"
#include "common/utf8.h"
#include "common/xalloc.h"

#define NUM_MAX 3
#define CITY_CANDIDATES 16

struct addr_work {
	struct buf in, tmp;
	char others[ADDR_INPUT_MAX * 4 + 1];
};

struct addr_work *addr_work_new(void)
{
	struct addr_work *w = xcalloc(1, sizeof(*w));
	buf_init(&w->in, ADDR_INPUT_MAX * 4);
	buf_init(&w->tmp, ADDR_INPUT_MAX * 4);
	return w;
}

void addr_work_free(struct addr_work *w)
{
	if (!w)
		return;
	buf_release(&w->in);
	buf_release(&w->tmp);
	free(w);
}

const char *addr_level_name(enum addr_level l)
{
	static const char *const names[] = {
		"error",           "unknown",           "prefecture",         "city",   "machiaza",
		"machiaza_detail", "residential_block", "residential_detail", "parcel",
	};
	return (unsigned)l < sizeof names / sizeof names[0] ? names[l] : "error";
}

/* The folded input being matched, and scratch room for the fallbacks'
 * rewritten copies of it (NULL in those copies). */
struct text {
	const char *p;
	size_t len;
	struct buf *scratch;
};

static size_t skip_ws(const struct text *t, size_t i)
{
	while (i < t->len && (t->p[i] == ' ' || t->p[i] == '\t'))
		i++;
	return i;
}

static bool at(const struct text *t, size_t i, const char *lit)
{
	size_t n = strlen(lit);
	return i + n <= t->len && memcmp(t->p + i, lit, n) == 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The entry of the longest key of kind in scope that starts at i, or 0. */
static uint32_t longest(const struct addr_index *ix, enum addr_kind kind, uint32_t scope,
			const struct text *t, size_t i, size_t *end)
{
	size_t n = 0;
	uint32_t e = addr_ix_longest(ix, kind, scope, t->p + i, t->len - i, &n);
	if (e)
		*end = i + n;
	return e;
}

/* "〒640-8511", "〒6408511", "640-8511" at the start. */
static size_t skip_postal(const struct text *t, size_t i)
{
	size_t j = i;
	bool mark = at(t, j, "〒");
	if (mark)
		j = skip_ws(t, j + 3);
	size_t d = j;
	while (d < t->len && is_digit(t->p[d]))
		d++;
	if (d - j == 3 && d < t->len && t->p[d] == '-') {
		size_t e = d + 1;
		while (e < t->len && is_digit(t->p[e]))
			e++;
		if (e - d - 1 == 4)
			return skip_ws(t, e);
	} else if (d - j == 7) {
		return skip_ws(t, d);
	}
	return mark ? j : i;
}

/* One complete reading of the input. */
struct reading {
	enum addr_level level;
	size_t end; /* bytes of the input consumed */
	uint32_t pref, city, town;
	int32_t block, rsdt, parcel;
};

static int better(const struct reading *a, const struct reading *b)
{
	if (a->level != b->level)
		return a->level > b->level;
	return a->end > b->end;
}

struct numbers {
	int count;
	char v[NUM_MAX][16];
	size_t end[NUM_MAX]; /* input consumed when the first k+1 numbers are used */
};

/* Reads up to three numbers written 12-3-4, 12番3号, 12番地の3, 12の3 …, with
 * the 番/番地/号 that ends each one taken as part of it. */
static void read_numbers(const struct text *t, size_t i, struct numbers *nb)
{
	nb->count = 0;
	i = skip_ws(t, i);
	if (i < t->len && t->p[i] == '-') /* 松江北2-19: the dash after a 丁目 */
		i++;
	while (nb->count < NUM_MAX && i < t->len && is_digit(t->p[i])) {
		size_t s = i;
		while (i < t->len && is_digit(t->p[i]))
			i++;
		size_t n = i - s;
		while (n > 1 && t->p[s] == '0') {
			s++;
			n--;
		}
		if (n >= sizeof nb->v[0])
			return;
		memcpy(nb->v[nb->count], t->p + s, n);
		nb->v[nb->count][n] = '\0';
		bool more = false;
		if (at(t, i, "番地の")) {
			i += 9;
			nb->end[nb->count] = i - 3;
			more = true;
		} else if (at(t, i, "番地") || at(t, i, "番")) {
			i += at(t, i, "番地") ? 6 : 3;
			nb->end[nb->count] = i;
			if (at(t, i, "の"))
				i += 3;
			more = true;
		} else if (at(t, i, "号")) {
			nb->end[nb->count] = i + 3;
			nb->count++;
			return;
		} else if (at(t, i, "地割")) {
			nb->end[nb->count] = i + 6;
			more = true;
			i += 6;
		} else {
			nb->end[nb->count] = i;
			if (i < t->len && t->p[i] == '-') {
				i++;
				more = true;
			} else if (at(t, i, "の") && i + 3 < t->len && is_digit(t->p[i + 3])) {
				i += 3;
				more = true;
			}
		}
		nb->count++;
		if (!more)
			return;
		i = skip_ws(t, i);
	}
}

static size_t join_key(char *key, size_t cap, const struct numbers *nb, int k)
{
	size_t n = 0;
	for (int j = 0; j < k; j++) {
		size_t l = strlen(nb->v[j]);
		if (n + l + 2 > cap)
			return 0;
		if (j)
			key[n++] = '-';
		memcpy(key + n, nb->v[j], l);
		n += l;
	}
	key[n] = '\0';
	return n;
}

/* Block, residence or parcel of town ti from the numbers at i. */
static void match_numbers(const struct addr_index *ix, const struct text *t, size_t i,
			  struct reading *r)
{
	struct numbers nb;
	read_numbers(t, i, &nb);
	if (nb.count == 0)
		return;
	const struct addr_town *town = &ix->towns[r->town];
	char key[64];
	if (town->rsdt) {
		for (int k = nb.count; k >= 2; k--) {
			size_t kn = join_key(key, sizeof key, &nb, k);
			uint32_t e = kn ? addr_ix_find(ix, AK_RSDT, r->town, key, kn) : 0;
			if (e) {
				r->rsdt = (int32_t)ix->ents[e].value;
				r->block = (int32_t)ix->rsdts[r->rsdt].block;
				r->level = ADDR_RESIDENTIAL_DETAIL;
				r->end = nb.end[k - 1];
				return;
			}
		}
	}
	if (town->parcel) {
		for (int k = nb.count; k >= 1; k--) {
			size_t kn = join_key(key, sizeof key, &nb, k);
			uint32_t e = kn ? addr_ix_find(ix, AK_PARCEL, r->town, key, kn) : 0;
			if (e) {
				r->parcel = (int32_t)ix->ents[e].value;
				r->level = ADDR_PARCEL;
				r->end = nb.end[k - 1];
				return;
			}
		}
	}
	if (town->rsdt) {
		uint32_t e = addr_ix_find(ix, AK_BLOCK, r->town, nb.v[0], strlen(nb.v[0]));
		if (e) {
			r->block = (int32_t)ix->ents[e].value;
			r->level = ADDR_RESIDENTIAL_BLOCK;
			r->end = nb.end[0];
		}
	}
}

/* 松江北2-19-25: a town written with its 丁目 number and a dash. Looks up
 * "<name><digits>丁目" (of kind AK_TOWN or AK_TOWN_VARIANT) where name runs
 * from i to the first digit. */
static uint32_t town_by_dash(const struct addr_index *ix, enum addr_kind kind, uint32_t city,
			     const struct text *t, size_t i, size_t *end)
{
	size_t max = ix->max_len[AK_TOWN];
	size_t d = i;
	while (d < t->len && d - i < max && !is_digit(t->p[d]))
		d++;
	if (d == i || d >= t->len || d - i >= max)
		return 0;
	size_t e = d;
	while (e < t->len && is_digit(t->p[e]) && e - d < 4)
		e++;
	if (e < t->len && t->p[e] != '-' && t->p[e] != ' ')
		return 0;
	char key[512];
	size_t kn = e - i;
	if (kn + 7 > sizeof key)
		return 0;
	memcpy(key, t->p + i, kn);
	memcpy(key + kn, "丁目", 6);
	uint32_t hit = addr_ix_find(ix, kind, city, key, kn + 6);
	if (hit)
		*end = e;
	return hit;
}

/* Kyoto writes the streets before the town: 河原町通二条下ル一之船入町,
 * 西中筋通北小路通上る丸屋町. When no town starts at i, the town is looked
 * for right after the last 上ル/下ル/西入/東入 (or る/入ル forms) within
 * the next few dozen characters. */
static uint32_t kyoto_town(const struct addr_index *ix, enum addr_kind kind, uint32_t city,
			   const struct text *t, size_t i, size_t *end)
{
	static const char *const marks[] = {"上ル",   "下ル",   "上る",   "下る", "西入ル",
					    "東入ル", "西入る", "東入る", "西入", "東入"};
	const struct addr_city *c = &ix->cities[city];
	if (!c->city || strcmp(c->city, "京都市") != 0)
		return 0;
	size_t limit = i + 240 < t->len ? i + 240 : t->len, after = 0;
	for (size_t j = i; j < limit; j++)
		for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
			if (at(t, j, marks[m])) {
				after = j + strlen(marks[m]);
				break;
			}
	return after ? longest(ix, kind, city, t, after, end) : 0;
}

/* The reading that takes town (ending the name at end) with its 小字 and
 * numbers. */
static void town_reading(const struct addr_index *ix, const struct text *t, uint32_t town,
			 size_t end, struct reading *r)
{
	r->town = town;
	r->level = ix->towns[town].detail ? ADDR_MACHIAZA_DETAIL : ADDR_MACHIAZA;
	r->end = end;
	/* a 小字 after its 大字, with or without 字 */
	size_t q = skip_ws(t, end), kend = 0;
	if (at(t, q, "小字"))
		q += 6;
	else if (at(t, q, "字"))
		q += 3;
	uint32_t k = longest(ix, AK_KOAZA, town, t, q, &kend);
	if (k) {
		r->town = ix->ents[k].value;
		r->level = ADDR_MACHIAZA_DETAIL;
		r->end = kend;
	}
	match_numbers(ix, t, r->end, r);
}

/* The readings of the town at p with the town keys of kind (AK_TOWN, or
 * AK_TOWN_VARIANT on the variant text). Up to three ways to read the town
 * are each followed to the end and the deepest reading wins (on a tie, the
 * one that reads further, then the plain name): the longest name; the 丁目
 * written as a number and a dash (太田4-13 may be 太田 parcel 4-13 or 太田4丁目
 * block 13); a name with its 町 left out. Kyoto's street form is the
 * fallback. Returns whether any town was read (r is left alone if not). */
static bool read_towns(const struct addr_index *ix, const struct text *t, size_t p,
		       enum addr_kind kind, struct reading *r)
{
	size_t ends[3] = {0, 0, 0};
	uint32_t cand[3];
	cand[0] = longest(ix, kind, r->city, t, p, &ends[0]);
	cand[1] = town_by_dash(ix, kind, r->city, t, p, &ends[1]);
	cand[2] = kind == AK_TOWN ? longest(ix, AK_TOWN_ALIAS, r->city, t, p, &ends[2]) : 0;
	if (!cand[0] && !cand[1] && !cand[2])
		cand[0] = kyoto_town(ix, kind, r->city, t, p, &ends[0]);
	struct reading base = *r;
	bool found = false;
	for (int c = 0; c < 3; c++) {
		if (!cand[c])
			continue;
		struct reading x = base;
		town_reading(ix, t, ix->ents[cand[c]].value, ends[c], &x);
		if (!found || better(&x, r))
			*r = x;
		found = true;
	}
	return found;
}

/* 和歌山市12-45 for 十二番丁45: a bare number where the town's name is that
 * number and 番丁 (or 番町). Taken only when the number after it is a parcel
 * or residence of that town: a bare number is otherwise a 地番. */
static bool numbered_town(const struct addr_index *ix, const struct text *t, size_t p,
			  struct reading *r)
{
	size_t d = p;
	while (d < t->len && is_digit(t->p[d]) && d - p < 4)
		d++;
	if (d == p || d >= t->len || t->p[d] != '-' || t->p[p] == '0')
		return false;
	static const char *const units[] = {"番丁", "番町"};
	char key[16];
	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
		memcpy(key, t->p + p, d - p);
		memcpy(key + (d - p), units[u], 6);
		uint32_t e = addr_ix_find(ix, AK_TOWN, r->city, key, d - p + 6);
		if (!e || addr_ix_next(ix, e))
			continue;
		struct reading x = *r;
		town_reading(ix, t, ix->ents[e].value, d, &x);
		if (x.level >= ADDR_RESIDENTIAL_BLOCK) {
			*r = x;
			return true;
		}
	}
	return false;
}

/* The town written without the prefix that AK_TOWN_SUFFIX keys it to
 * (三栄町 for 四谷三栄町): the input is read again with the prefix put back,
 * and the reading is taken when its town covers the whole suffix. A suffix
 * that ends two names of the municipality gives no reading. */
static bool suffix_town(const struct addr_index *ix, const struct text *t, size_t p,
			struct reading *r)
{
	size_t send = 0;
	uint32_t e = longest(ix, AK_TOWN_SUFFIX, r->city, t, p, &send);
	if (!e || !t->scratch || ix->ents[e].value == ADDR_SFX_AMBIGUOUS)
		return false;
	const char *prefix = ix->sfx[ix->ents[e].value];
	size_t plen = strlen(prefix);
	struct buf *b = t->scratch;
	buf_reset(b);
	if (buf_append(b, prefix, plen) != 0 || buf_append(b, t->p + p, t->len - p) != 0)
		return false;
	struct text v = {.p = b->p, .len = b->len, .scratch = NULL};
	struct reading x = *r;
	if (!read_towns(ix, &v, 0, AK_TOWN, &x) || x.end < plen + (send - p))
		return false;
	x.end = x.end - plen + p;
	*r = x;
	return true;
}

/* The town and below: the town's name as written (read_towns); failing
 * that, with its place-name variants folded (一之舟入町), as a bare number
 * (numbered_town), or as the end of a longer name (suffix_town). */
static void match_town(const struct addr_index *ix, const struct text *t, size_t i,
		       struct reading *r)
{
	i = skip_ws(t, i);
	size_t p = i;
	if (at(t, p, "大字"))
		p += 6;
	else if (at(t, p, "字"))
		p += 3;
	if (read_towns(ix, t, p, AK_TOWN, r))
		return;
	if (t->scratch) {
		struct buf *b = t->scratch;
		buf_reset(b);
		if (buf_append(b, t->p, t->len) == 0 && addr_fold_variant(b->p + p, b->len - p)) {
			struct text v = {.p = b->p, .len = b->len, .scratch = NULL};
			if (read_towns(ix, &v, p, AK_TOWN_VARIANT, r))
				return;
		}
	}
	if (p < t->len && is_digit(t->p[p]) && numbered_town(ix, t, p, r))
		return;
	suffix_town(ix, t, p, r);
}

/* Municipality and below, under prefecture pref (UINT32_MAX: any). */
static void match_city(const struct addr_index *ix, const struct text *t, size_t i,
		       struct reading *best)
{
	i = skip_ws(t, i);
	size_t end = 0;
	uint32_t scope = best->pref == UINT32_MAX ? 0 : best->pref + 1;
	uint32_t e = longest(ix, AK_CITY, scope, t, i, &end);
	int n = 0;
	struct reading base = *best;
	for (; e && n < CITY_CANDIDATES; e = addr_ix_next(ix, e), n++) {
		struct reading r = base;
		r.city = ix->ents[e].value;
		r.pref = ix->cities[r.city].pref;
		r.level = ADDR_CITY;
		r.end = end;
		match_town(ix, t, end, &r);
		if (n == 0 || better(&r, best))
			*best = r;
	}
}

static void set_point(struct addr_result *res, bool has, double lat, double lon, enum addr_level l)
{
	if (res->has_point || !has)
		return;
	res->has_point = true;
	res->lat = lat;
	res->lon = lon;
	res->coord_level = l;
}

static void fill(const struct addr_index *ix, struct addr_work *w, const struct text *t,
		 const struct reading *r, struct addr_result *res)
{
	res->level = r->level;
	if (r->parcel >= 0) {
		const struct addr_parcel *p = &ix->parcels[r->parcel];
		res->prc_num1 = p->n1;
		res->prc_num2 = p->n2;
		res->prc_num3 = p->n3;
		res->prc_id = p->prc_id;
		set_point(res, p->has_point, p->lat, p->lon, ADDR_PARCEL);
	}
	if (r->rsdt >= 0) {
		const struct addr_rsdt *rs = &ix->rsdts[r->rsdt];
		res->rsdt_num = rs->rsdt_num;
		res->rsdt_num2 = rs->rsdt_num2;
		res->rsdt_id = rs->rsdt_id;
		set_point(res, rs->has_point, rs->lat, rs->lon, ADDR_RESIDENTIAL_DETAIL);
	}
	if (r->block >= 0) {
		const struct addr_block *b = &ix->blocks[r->block];
		res->blk_num = b->blk_num;
		res->blk_id = b->blk_id;
		set_point(res, b->npos > 0, b->lat, b->lon, ADDR_RESIDENTIAL_BLOCK);
	}
	if (r->town != UINT32_MAX) {
		const struct addr_town *tw = &ix->towns[r->town];
		res->oaza_cho = tw->oaza_cho;
		res->chome = tw->chome;
		res->koaza = tw->koaza;
		res->machiaza_id = tw->machiaza_id;
		set_point(res, tw->has_point, tw->lat, tw->lon,
			  tw->detail ? ADDR_MACHIAZA_DETAIL : ADDR_MACHIAZA);
	}
	if (r->city != UINT32_MAX) {
		const struct addr_city *c = &ix->cities[r->city];
		res->county = c->county;
		res->city = c->city;
		res->ward = c->ward;
		res->lg_code = c->lg_code;
		set_point(res, c->has_point, c->lat, c->lon, ADDR_CITY);
	}
	if (r->pref != UINT32_MAX) {
		const struct addr_pref *p = &ix->prefs[r->pref];
		res->pref = p->name;
		if (!res->lg_code)
			res->lg_code = p->lg_code;
		set_point(res, p->has_point, p->lat, p->lon, ADDR_PREFECTURE);
	}
	size_t i = skip_ws(t, r->end);
	if (i < t->len && t->p[i] == '-' && r->town != UINT32_MAX) /* 白山1-[1-1] */
		i = skip_ws(t, i + 1);
	size_t j = t->len;
	while (j > i && (t->p[j - 1] == ' ' || t->p[j - 1] == '\t'))
		j--;
	if (j > i) {
		memcpy(w->others, t->p + i, j - i);
		w->others[j - i] = '\0';
		res->others = w->others;
	}
}

/* Spaces between the parts of a name (青森県上北郡 横浜町) are dropped: only
 * those before the first digit, so a building's name keeps its own. */
static void squeeze_name_spaces(struct buf *b)
{
	size_t o = 0, i = 0;
	bool digits = false;
	for (; i < b->len; i++) {
		char c = b->p[i];
		if (is_digit(c))
			digits = true;
		if (!digits && (c == ' ' || c == '\t') && o > 0)
			continue;
		b->p[o++] = c;
	}
	b->len = o;
	if (b->p)
		b->p[o] = '\0';
}

void addr_normalize(const struct addr_index *ix, struct addr_work *w, const char *s, size_t n,
		    struct addr_result *res)
{
	memset(res, 0, sizeof(*res));
	res->level = ADDR_ERROR;
	if (n > ADDR_INPUT_MAX) {
		res->error = "the address is longer than 4096 bytes";
		return;
	}
	if (!utf8_valid(s, n)) {
		res->error = "the address is not valid UTF-8";
		return;
	}
	buf_reset(&w->in);
	int rc = addr_fold(&w->in, &w->tmp, s, n);
	if (rc != 0) {
		res->error = rc == -E2BIG ? "the address is too long once normalized" :
					    "the address cannot be read";
		return;
	}
	squeeze_name_spaces(&w->in);
	struct text t = {.p = w->in.p ? w->in.p : "", .len = w->in.len, .scratch = &w->tmp};
	size_t i = skip_postal(&t, skip_ws(&t, 0));
	struct reading best = {.level = ADDR_UNKNOWN,
			       .end = i,
			       .pref = UINT32_MAX,
			       .city = UINT32_MAX,
			       .town = UINT32_MAX,
			       .block = -1,
			       .rsdt = -1,
			       .parcel = -1};
	size_t pend = 0;
	uint32_t pe = longest(ix, AK_PREF, 0, &t, i, &pend);
	if (pe) {
		struct reading r = best;
		r.pref = ix->ents[pe].value;
		r.level = ADDR_PREFECTURE;
		r.end = pend;
		match_city(ix, &t, pend, &r);
		best = r;
	}
	if (best.level < ADDR_CITY) {
		/* no prefecture, or a name read as one (京都市 → 京都): any prefecture */
		struct reading r = best;
		r.pref = UINT32_MAX;
		r.end = i;
		match_city(ix, &t, i, &r);
		/* a prefecture written in full (京都府) is not overruled */
		bool short_pref = pe && pend - i < strlen(ix->prefs[best.pref].name);
		if (r.level >= ADDR_CITY && (!pe || short_pref || r.pref == best.pref))
			best = r;
	}
	fill(ix, w, &t, &best, res);
}
