/* Builds the normalizer's index from the registry tables: prefectures,
 * municipalities, towns (ABR where it has them, towns.csv elsewhere), 住居表示
 * blocks and residences, and 地番 parcels, each with its point, plus one
 * open-addressing hash table over folded names and numbers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address/addr_internal.h"
#include "common/arena.h"
#include "common/utf8.h"
#include "common/xalloc.h"

#define KEY_MAX 1024

/* FNV-1a over (kind, scope) then the key's bytes, with a final mix; split
 * in three so that addr_ix_longest can extend one hash byte by byte. */
uint64_t addr_hash_start(enum addr_kind kind, uint32_t scope)
{
	return (1469598103934665603ULL ^ ((uint64_t)kind << 32 | scope)) * 1099511628211ULL;
}

static inline uint64_t hash_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * 1099511628211ULL;
}

static inline uint64_t hash_end(uint64_t h)
{
	return h ^ (h >> 29);
}

static uint64_t hash_key(enum addr_kind kind, uint32_t scope, const char *k, size_t n)
{
	uint64_t h = addr_hash_start(kind, scope);
	for (size_t i = 0; i < n; i++)
		h = hash_step(h, (unsigned char)k[i]);
	return hash_end(h);
}

/* The probe of one key whose hash is known. */
static uint32_t find_h(const struct addr_index *ix, uint64_t h, enum addr_kind kind, uint32_t scope,
		       const char *k, size_t n)
{
	for (size_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
		uint32_t e = ix->slots[i];
		if (e == 0)
			return 0;
		const struct addr_hent *he = &ix->ents[e];
		if (he->hash == h && he->kind == kind && he->scope == scope && he->key_len == n &&
		    memcmp(ix->keys + he->key_off, k, n) == 0)
			return e;
	}
}

uint32_t addr_ix_longest(const struct addr_index *ix, enum addr_kind kind, uint32_t scope,
			 const char *s, size_t n, size_t *len)
{
	if (!ix->slots)
		return 0;
	if (n > ix->max_len[kind])
		n = ix->max_len[kind];
	uint64_t h = addr_hash_start(kind, scope);
	uint32_t best = 0;
	for (size_t i = 0; i < n; i++) {
		h = hash_step(h, (unsigned char)s[i]);
		if (i + 1 < n && ((unsigned char)s[i + 1] & 0xC0) == 0x80)
			continue; /* inside a character */
		uint32_t e = find_h(ix, hash_end(h), kind, scope, s, i + 1);
		if (e) {
			best = e;
			*len = i + 1;
		}
	}
	return best;
}

static bool same_key(const struct addr_index *ix, const struct addr_hent *e, uint64_t h,
		     enum addr_kind kind, uint32_t scope, const char *k, size_t n)
{
	return e->hash == h && e->kind == kind && e->scope == scope && e->key_len == n &&
	       memcmp(ix->keys + e->key_off, k, n) == 0;
}

uint32_t addr_ix_find(const struct addr_index *ix, enum addr_kind kind, uint32_t scope,
		      const char *k, size_t n)
{
	if (!ix->slots || n == 0 || n > ix->max_len[kind])
		return 0;
	return find_h(ix, hash_key(kind, scope, k, n), kind, scope, k, n);
}

uint32_t addr_ix_next(const struct addr_index *ix, uint32_t ent)
{
	return ix->ents[ent].next;
}

static void grow_slots(struct addr_index *ix)
{
	size_t nslots = ix->slots ? (ix->mask + 1) * 2 : 1 << 16;
	uint32_t *slots = xcalloc(nslots, sizeof(*slots));
	size_t mask = nslots - 1;
	for (uint32_t e = 1; e < ix->nents; e++) {
		/* only the first entry of a chain sits in a slot */
		const struct addr_hent *he = &ix->ents[e];
		if (he->kind == 0)
			continue;
		size_t i = he->hash & mask;
		while (slots[i])
			i = (i + 1) & mask;
		slots[i] = e;
	}
	free(ix->slots);
	ix->slots = slots;
	ix->mask = mask;
}

/* Adds value under (kind, scope, key). A key already there gets the value
 * chained after its others, unless the same value is there already. */
static void ix_add(struct addr_index *ix, enum addr_kind kind, uint32_t scope, const char *k,
		   size_t n, uint32_t value)
{
	if (n == 0 || n > 0xFFFF)
		return;
	if (!ix->slots || (ix->nents + 1) * 2 > ix->mask + 1)
		grow_slots(ix);
	uint64_t h = hash_key(kind, scope, k, n);
	size_t i = h & ix->mask;
	uint32_t head = 0;
	for (;; i = (i + 1) & ix->mask) {
		uint32_t e = ix->slots[i];
		if (e == 0)
			break;
		if (same_key(ix, &ix->ents[e], h, kind, scope, k, n)) {
			head = e;
			break;
		}
	}
	if (ix->nents == ix->cap_ents) {
		ix->cap_ents = ix->cap_ents ? ix->cap_ents * 2 : 1 << 15;
		ix->ents = xrealloc(ix->ents, ix->cap_ents * sizeof(*ix->ents));
		if (ix->nents == 0)
			ix->nents = 1; /* entry 0 means none */
	}
	uint32_t e;
	if (head) {
		uint32_t last = head;
		for (uint32_t x = head; x; x = ix->ents[x].next) {
			if (ix->ents[x].value == value)
				return;
			last = x;
		}
		e = (uint32_t)ix->nents++;
		ix->ents[e] = ix->ents[head];
		ix->ents[e].kind = 0; /* chained: not in a slot; key shared with head */
		ix->ents[e].value = value;
		ix->ents[e].next = 0;
		ix->ents[last].next = e;
		return;
	}
	if (ix->keys_len + n > ix->keys_cap) {
		ix->keys_cap = ix->keys_cap ? ix->keys_cap * 2 : 1 << 20;
		while (ix->keys_len + n > ix->keys_cap)
			ix->keys_cap *= 2;
		ix->keys = xrealloc(ix->keys, ix->keys_cap);
	}
	memcpy(ix->keys + ix->keys_len, k, n);
	e = (uint32_t)ix->nents++;
	ix->ents[e] = (struct addr_hent){.hash = h,
					 .key_off = (uint32_t)ix->keys_len,
					 .value = value,
					 .scope = scope,
					 .key_len = (uint16_t)n,
					 .kind = (uint8_t)kind};
	ix->keys_len += n;
	ix->slots[i] = e;
	if (n > ix->max_len[kind])
		ix->max_len[kind] = n;
}

/* arr with room for element n of a doubling array (capacity *cap). */
static void *grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : first;
	return xrealloc(arr, *cap * elem);
}

/* The build's scratch: folding buffers. */
struct build {
	struct addr_index *ix;
	struct buf key, tmp, raw;
};

/* Folds s (NULL as "") into b->key; returns the key or NULL. */
static const char *fold(struct build *b, const char *s)
{
	buf_reset(&b->key);
	if (!s || !*s)
		return "";
	if (addr_fold(&b->key, &b->tmp, s, strlen(s)) != 0)
		return NULL;
	return buf_cstr(&b->key);
}

static const char *skip_prefix(const char *s, const char *lit)
{
	size_t n = strlen(lit);
	return strncmp(s, lit, n) == 0 && s[n] ? s + n : s;
}

/* A 大字/字 written before a name is optional in addresses. */
static const char *strip_aza(const char *s)
{
	s = skip_prefix(s, "大字");
	s = skip_prefix(s, "小字");
	return skip_prefix(s, "字");
}

static char *dup(struct addr_index *ix, const char *s)
{
	return s && *s ? arena_strdup(ix->strings, s) : NULL;
}

/* Digits without leading zeros ("0012" → "12"); other text as is. */
static const char *canon_num(const char *s)
{
	if (!s)
		return "";
	while (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		s++;
	return s;
}

static void add_point(bool *has, double *lat, double *lon, struct db_stmt *st, int col)
{
	if (db_col_is_null(st, col) || db_col_is_null(st, col + 1))
		return;
	*lat = db_col_double(st, col);
	*lon = db_col_double(st, col + 1);
	*has = true;
}

static int load_prefs(struct build *b, struct db_conn *c)
{
	struct addr_index *ix = b->ix;
	struct db_stmt *st;
	if (db_prepare(c,
		       "SELECT p.lg_code, p.pref, pos.rep_lat, pos.rep_lon FROM abr_pref p "
		       "LEFT JOIN abr_lg_pos pos ON pos.lg_code = p.lg_code "
		       "WHERE COALESCE(p.ablt_date, '') = '' ORDER BY p.lg_code",
		       &st) != 0)
		return -1;
	int rc;
	size_t cap = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *name = db_col_text(st, 1);
		if (!name || !*name)
			continue;
		ix->prefs = grow(ix->prefs, ix->nprefs, &cap, sizeof(*ix->prefs), 64);
		struct addr_pref *p = &ix->prefs[ix->nprefs];
		*p = (struct addr_pref){.name = dup(ix, name),
					.lg_code = dup(ix, db_col_text(st, 0))};
		add_point(&p->has_point, &p->lat, &p->lon, st, 2);
		const char *k = fold(b, name);
		if (k) {
			size_t n = strlen(k);
			ix_add(ix, AK_PREF, 0, k, n, (uint32_t)ix->nprefs);
			/* 和歌山 for 和歌山県, 東京 for 東京都; 北海道 keeps its 道 */
			if (n > 3 && strcmp(k, "北海道") != 0 &&
			    (!strcmp(k + n - 3, "県") || !strcmp(k + n - 3, "府") ||
			     !strcmp(k + n - 3, "都")))
				ix_add(ix, AK_PREF, 0, k, n - 3, (uint32_t)ix->nprefs);
		}
		ix->nprefs++;
	}
	db_done(st);
	return rc == DB_DONE ? 0 : -1;
}

static uint32_t pref_of(const struct addr_index *ix, const char *name)
{
	for (size_t i = 0; name && i < ix->nprefs; i++)
		if (!strcmp(ix->prefs[i].name, name))
			return (uint32_t)i;
	return UINT32_MAX;
}

/* Registers a city name under its prefecture and under "any prefecture". */
static void add_city_key(struct build *b, uint32_t pref, uint32_t city, const char *a,
			 const char *bb, const char *cc)
{
	buf_reset(&b->raw);
	buf_puts(&b->raw, a ? a : "");
	buf_puts(&b->raw, bb ? bb : "");
	buf_puts(&b->raw, cc ? cc : "");
	const char *k = fold(b, buf_cstr(&b->raw));
	if (!k || !*k)
		return;
	ix_add(b->ix, AK_CITY, pref + 1, k, strlen(k), city);
	ix_add(b->ix, AK_CITY, 0, k, strlen(k), city);
}

static int load_cities(struct build *b, struct db_conn *c)
{
	struct addr_index *ix = b->ix;
	struct db_stmt *st;
	if (db_prepare(c,
		       "SELECT c.lg_code, c.pref, c.county, c.city, c.ward, pos.rep_lat, "
		       "pos.rep_lon FROM abr_city c LEFT JOIN abr_lg_pos pos ON "
		       "pos.lg_code = c.lg_code WHERE COALESCE(c.ablt_date, '') = '' "
		       "ORDER BY c.lg_code",
		       &st) != 0)
		return -1;
	int rc;
	size_t cap = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		uint32_t pref = pref_of(ix, db_col_text(st, 1));
		const char *lg = db_col_text(st, 0);
		if (pref == UINT32_MAX || !lg)
			continue;
		ix->cities = grow(ix->cities, ix->ncities, &cap, sizeof(*ix->cities), 2048);
		uint32_t ci = (uint32_t)ix->ncities++;
		struct addr_city *cy = &ix->cities[ci];
		*cy = (struct addr_city){.pref = pref,
					 .county = dup(ix, db_col_text(st, 2)),
					 .city = dup(ix, db_col_text(st, 3)),
					 .ward = dup(ix, db_col_text(st, 4)),
					 .lg_code = dup(ix, lg)};
		add_point(&cy->has_point, &cy->lat, &cy->lon, st, 5);
		add_city_key(b, pref, ci, cy->county, cy->city, cy->ward);
		if (cy->county)
			add_city_key(b, pref, ci, NULL, cy->city, cy->ward);
		ix_add(ix, AK_TOWN_ID, UINT32_MAX, lg, strlen(lg), ci);
	}
	db_done(st);
	return rc == DB_DONE ? 0 : -1;
}

static uint32_t city_by_code(const struct addr_index *ix, const char *lg)
{
	uint32_t e = lg ? addr_ix_find(ix, AK_TOWN_ID, UINT32_MAX, lg, strlen(lg)) : 0;
	return e ? ix->ents[e].value : UINT32_MAX;
}

static uint32_t new_town(struct addr_index *ix, const struct addr_town *t)
{
	ix->towns = grow(ix->towns, ix->ntowns, &ix->cap_towns, sizeof(*ix->towns), 4096);
	uint32_t ti = (uint32_t)ix->ntowns++;
	ix->towns[ti] = *t;
	return ti;
}

/* Keys of a town: its folded 大字 + 丁目 (+ 小字) without a leading 大字/字,
 * aliases with a 町 left out or a final 丁 written 町, and for a 小字 the 小字
 * alone under its 大字 (base, when known). */
static void add_town_keys(struct build *b, uint32_t ti, uint32_t base)
{
	struct addr_index *ix = b->ix;
	const struct addr_town *t = &ix->towns[ti];
	buf_reset(&b->raw);
	buf_puts(&b->raw, strip_aza(t->oaza_cho ? t->oaza_cho : ""));
	buf_puts(&b->raw, t->chome ? t->chome : "");
	if (t->koaza)
		buf_puts(&b->raw, strip_aza(t->koaza));
	const char *k = fold(b, buf_cstr(&b->raw));
	if (!k || !*k)
		return;
	size_t n = strlen(k);
	ix_add(ix, AK_TOWN, t->city, k, n, ti);
	char alias[KEY_MAX];
	/* 一之舟入町 for 一之船入町: the key with its place-name variants folded,
	 * looked up only when the key as written finds no town */
	if (n < sizeof alias) {
		memcpy(alias, k, n);
		if (addr_fold_variant(alias, n))
			ix_add(ix, AK_TOWN_VARIANT, t->city, alias, n, ti);
	}
	/* 町 is often left out when written: 西川 for 西川町, 木之本西山 for
	 * 木之本町西山. Each 町 after the first character gives an alias
	 * without it (at most two, so the table stays small). */
	int made = 0;
	for (size_t i = 3; i + 3 <= n && n < sizeof alias && made < 2; i++) {
		if (memcmp(k + i, "町", 3) != 0)
			continue;
		memcpy(alias, k, i);
		memcpy(alias + i, k + i + 3, n - i - 3);
		ix_add(ix, AK_TOWN_ALIAS, t->city, alias, n - 3, ti);
		made++;
	}
	/* 和歌山市's 七番丁 is often written 7番町: a final 丁 may be read as 町 */
	if (n > 3 && n < sizeof alias && !memcmp(k + n - 3, "丁", 3)) {
		memcpy(alias, k, n - 3);
		memcpy(alias + n - 3, "町", 3);
		ix_add(ix, AK_TOWN_ALIAS, t->city, alias, n, ti);
	}
	if (t->koaza && base != UINT32_MAX) {
		const char *kk = fold(b, strip_aza(t->koaza));
		if (kk && *kk)
			ix_add(ix, AK_KOAZA, base, kk, strlen(kk), ti);
	}
}

static uint32_t town_by_id(const struct addr_index *ix, uint32_t city, const char *id)
{
	uint32_t e = id ? addr_ix_find(ix, AK_TOWN_ID, city, id, strlen(id)) : 0;
	return e ? ix->ents[e].value : UINT32_MAX;
}

int addr_town_known(const struct addr_index *ix, const char *lg_code, const char *machiaza_id)
{
	uint32_t city = lg_code ? city_by_code(ix, lg_code) : UINT32_MAX;
	if (city == UINT32_MAX || !ix->cities[city].abr_towns)
		return -1;
	return machiaza_id && town_by_id(ix, city, machiaza_id) != UINT32_MAX ? 1 : 0;
}

static int load_abr_towns(struct build *b, struct db_conn *c)
{
	struct addr_index *ix = b->ix;
	struct db_stmt *st;
	/* 大字 rows (no 小字) first, so a 小字 finds its 大字 */
	if (db_prepare(c,
		       "SELECT t.lg_code, t.machiaza_id, t.oaza_cho, t.chome, t.koaza, "
		       "t.rsdt_addr_flg, pos.rep_lat, pos.rep_lon FROM abr_town t "
		       "LEFT JOIN abr_town_pos pos ON pos.lg_code = t.lg_code AND "
		       "pos.machiaza_id = t.machiaza_id AND pos.rsdt_addr_flg = t.rsdt_addr_flg "
		       "WHERE COALESCE(t.ablt_date, '') = '' "
		       "ORDER BY CASE WHEN COALESCE(t.koaza, '') = '' THEN 0 ELSE 1 END, "
		       "t.lg_code, t.machiaza_id",
		       &st) != 0)
		return -1;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		uint32_t city = city_by_code(ix, db_col_text(st, 0));
		const char *id = db_col_text(st, 1);
		if (city == UINT32_MAX || !id)
			continue;
		bool rsdt = db_col_int64(st, 5) == 1;
		uint32_t ti = town_by_id(ix, city, id);
		if (ti != UINT32_MAX) { /* the other half (住居表示 / 地番) of a town */
			struct addr_town *t = &ix->towns[ti];
			t->rsdt |= rsdt;
			t->parcel |= !rsdt;
			if (!t->has_point)
				add_point(&t->has_point, &t->lat, &t->lon, st, 6);
			continue;
		}
		struct addr_town t = {.city = city,
				      .oaza_cho = dup(ix, db_col_text(st, 2)),
				      .chome = dup(ix, db_col_text(st, 3)),
				      .koaza = dup(ix, db_col_text(st, 4)),
				      .machiaza_id = dup(ix, id),
				      .rsdt = rsdt,
				      .parcel = !rsdt};
		t.detail = t.chome || t.koaza;
		add_point(&t.has_point, &t.lat, &t.lon, st, 6);
		ti = new_town(ix, &t);
		ix->cities[city].abr_towns = true;
		ix_add(ix, AK_TOWN_ID, city, id, strlen(id), ti);
		uint32_t base = UINT32_MAX;
		if (t.koaza) {
			buf_reset(&b->raw);
			buf_puts(&b->raw, strip_aza(t.oaza_cho ? t.oaza_cho : ""));
			buf_puts(&b->raw, t.chome ? t.chome : "");
			const char *k = fold(b, buf_cstr(&b->raw));
			uint32_t e = k ? addr_ix_find(ix, AK_TOWN, city, k, strlen(k)) : 0;
			if (e)
				base = ix->ents[e].value;
		}
		add_town_keys(b, ti, base);
	}
	db_done(st);
	return rc == DB_DONE ? 0 : -1;
}

/* Splits "旭ケ丘一丁目" into 旭ケ丘 and 一丁目 (towns.csv writes them as one).
 * Display only: the keys are built from the two joined again. */
static void split_chome(struct addr_index *ix, const char *town, const char **oaza,
			const char **chome)
{
	static const char *const numerals[] = {"〇", "一", "二", "三", "四", "五", "六",
					       "七", "八", "九", "十", "百", "千"};
	size_t n = strlen(town);
	*oaza = dup(ix, town);
	*chome = NULL;
	/* 一丁目, and 堺市's 二丁 (南花田口町二丁) */
	size_t unit = n > 6 && !strcmp(town + n - 6, "丁目") ? 6 :
		      n > 3 && !strcmp(town + n - 3, "丁")   ? 3 :
							       0;
	if (unit == 0)
		return;
	size_t i = n - unit;
	for (;;) {
		bool hit = false;
		if (i > 0 && ((town[i - 1] >= '0' && town[i - 1] <= '9'))) {
			i--;
			hit = true;
		}
		for (size_t k = 0; !hit && k < sizeof numerals / sizeof numerals[0]; k++)
			if (i >= 3 && !memcmp(town + i - 3, numerals[k], 3)) {
				i -= 3;
				hit = true;
			}
		if (!hit)
			break;
	}
	if (i == 0 || i == n - unit)
		return;
	*oaza = arena_strndup(ix->strings, town, i);
	*chome = dup(ix, town + i);
}

static int load_town_names(struct build *b, struct db_conn *c)
{
	struct addr_index *ix = b->ix;
	struct db_stmt *st;
	if (db_prepare(c,
		       "SELECT n.lg_code, n.town, n.koaza, n.lat, n.lng FROM town_names n "
		       "WHERE n.lg_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM abr_town t "
		       "WHERE t.lg_code = n.lg_code) ORDER BY n.lg_code, n.town, n.koaza",
		       &st) != 0)
		return -1;
	int rc;
	uint32_t base = UINT32_MAX;
	const char *base_name = NULL;
	while ((rc = db_step(st)) == DB_ROW) {
		uint32_t city = city_by_code(ix, db_col_text(st, 0));
		const char *town = db_col_text(st, 1), *koaza = db_col_text(st, 2);
		if (city == UINT32_MAX || !town || !*town)
			continue;
		/* rows are sorted: the 大字 row (no 小字) comes before its 小字 */
		if (base == UINT32_MAX || ix->towns[base].city != city || !base_name ||
		    strcmp(base_name, town) != 0) {
			struct addr_town t = {.city = city};
			split_chome(ix, town, &t.oaza_cho, &t.chome);
			t.detail = t.chome != NULL;
			if (!koaza || !*koaza)
				add_point(&t.has_point, &t.lat, &t.lon, st, 3);
			base = new_town(ix, &t);
			base_name = arena_strdup(ix->strings, town);
			add_town_keys(b, base, UINT32_MAX);
			if (!koaza || !*koaza)
				continue;
		}
		if (!koaza || !*koaza)
			continue;
		struct addr_town t = ix->towns[base];
		t.koaza = dup(ix, koaza);
		t.detail = true;
		t.has_point = false;
		add_point(&t.has_point, &t.lat, &t.lon, st, 3);
		if (!ix->towns[base].has_point && t.has_point) {
			ix->towns[base].has_point = true;
			ix->towns[base].lat = t.lat;
			ix->towns[base].lon = t.lon;
		}
		uint32_t ti = new_town(ix, &t);
		add_town_keys(b, ti, base);
	}
	db_done(st);
	return rc == DB_DONE ? 0 : -1;
}

/* A folded 大字 name of a municipality, for the suffix keys. */
struct oaza_name {
	uint32_t city;
	const char *name;
};

static int cmp_oaza(const void *a, const void *b)
{
	const struct oaza_name *x = a, *y = b;
	if (x->city != y->city)
		return x->city < y->city ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The first of v[0..n) (sorted) not before s[0..len), by strncmp order. */
static size_t lower_bound(const struct oaza_name *v, size_t n, const char *s, size_t len)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(v[mid].name, s, len);
		if (c < 0 || (c == 0 && strlen(v[mid].name) < len))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool starts_with(const char *name, const char *s, size_t len)
{
	return strncmp(name, s, len) == 0;
}

/* Whether the prefix s[0..len) of a 大字 name of the municipality whose names
 * are v[0..n) is a boundary at which residents drop it: it is itself a 大字
 * of the municipality (四谷 for 四谷三栄町), or it ends with 町/村 and starts
 * at least two of them (an old municipality: 河芸町 of 河芸町千里ヶ丘). */
static bool prefix_boundary(const struct oaza_name *v, size_t n, const char *s, size_t len)
{
	size_t lb = lower_bound(v, n, s, len);
	if (lb < n && strlen(v[lb].name) == len && starts_with(v[lb].name, s, len))
		return true;
	if (len < 3 || (memcmp(s + len - 3, "町", 3) != 0 && memcmp(s + len - 3, "村", 3) != 0))
		return false;
	return lb + 1 < n && starts_with(v[lb].name, s, len) && starts_with(v[lb + 1].name, s, len);
}

/* Whether s (NUL-terminated) is one of v[0..n). */
static bool has_name(const struct oaza_name *v, size_t n, const char *s)
{
	size_t len = strlen(s), lb = lower_bound(v, n, s, len);
	return lb < n && strcmp(v[lb].name, s) == 0;
}

/* One suffix key; a second prefix for the same key makes it ambiguous. */
static void add_suffix(struct addr_index *ix, uint32_t city, const char *s, const char *prefix,
		       size_t plen)
{
	size_t n = strlen(s);
	uint32_t e = addr_ix_find(ix, AK_TOWN_SUFFIX, city, s, n);
	if (e) {
		ix->ents[e].value = ADDR_SFX_AMBIGUOUS;
		return;
	}
	ix->sfx = grow(ix->sfx, ix->nsfx, &ix->cap_sfx, sizeof(*ix->sfx), 1024);
	ix->sfx[ix->nsfx] = arena_strndup(ix->strings, prefix, plen);
	ix_add(ix, AK_TOWN_SUFFIX, city, s, n, (uint32_t)ix->nsfx);
	ix->nsfx++;
}

/* Suffix keys: residents write 三栄町 for 新宿区's 四谷三栄町, dropping the
 * name of the old area. For each 大字 name of a municipality (folded, 小字
 * rows aside), each end of it that follows a prefix_boundary of at least two
 * characters and has at least two characters itself, and that is not a 大字
 * name of the municipality by itself, is keyed to the prefix left out. */
static int build_suffixes(struct build *b, struct db_conn *c)
{
	(void)c;
	struct addr_index *ix = b->ix;
	struct arena *names = arena_new();
	struct oaza_name *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t ti = 0; ti < ix->ntowns; ti++) {
		const struct addr_town *t = &ix->towns[ti];
		if (t->koaza)
			continue;
		const char *k = fold(b, strip_aza(t->oaza_cho ? t->oaza_cho : ""));
		if (!k || !*k || strlen(k) >= KEY_MAX)
			continue;
		if (n && v[n - 1].city == t->city && !strcmp(v[n - 1].name, k))
			continue; /* the next 丁目 of the same 大字 */
		v = grow(v, n, &cap, sizeof(*v), 4096);
		v[n++] = (struct oaza_name){.city = t->city, .name = arena_strdup(names, k)};
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_oaza);
	size_t u = 0; /* the same name may come from towns apart (ABR 住居表示 and 地番 rows) */
	for (size_t i = 0; i < n; i++)
		if (u == 0 || cmp_oaza(&v[u - 1], &v[i]) != 0)
			v[u++] = v[i];
	n = u;
	for (size_t g = 0; g < n;) {
		size_t end = g;
		while (end < n && v[end].city == v[g].city)
			end++;
		for (size_t i = g; i < end; i++) {
			const char *name = v[i].name;
			size_t len = strlen(name), chars = 0, total = utf8_count(name, len);
			for (size_t j = 0; j < len; j++) {
				if (((unsigned char)name[j] & 0xC0) == 0x80)
					continue;
				if (chars >= 2 && total - chars >= 2 &&
				    prefix_boundary(v + g, end - g, name, j) &&
				    !has_name(v + g, end - g, name + j))
					add_suffix(ix, v[g].city, name + j, name, j);
				chars++;
			}
		}
		g = end;
	}
	free(v);
	arena_free(names);
	return 0;
}

/* The rows of residences and parcels are sorted by lg_code, then
 * machiaza_id: the municipality is looked up once per run of rows. */
struct row_cursor {
	const char *last_lg;
	uint32_t city;
};

/* The town of a row whose columns 0 and 1 are lg_code and machiaza_id, or
 * UINT32_MAX when it is not in the index. */
static uint32_t row_town(struct addr_index *ix, struct db_stmt *st, struct row_cursor *cur)
{
	const char *lg = db_col_text(st, 0);
	if (!lg)
		return UINT32_MAX;
	if (!cur->last_lg || strcmp(cur->last_lg, lg) != 0) {
		cur->city = city_by_code(ix, lg);
		cur->last_lg = arena_strdup(ix->strings, lg);
	}
	return cur->city == UINT32_MAX ? UINT32_MAX : town_by_id(ix, cur->city, db_col_text(st, 1));
}

/* Adds the key "a", "a-b" or "a-b-c" (empty parts end it) under town. */
static void add_num_key(struct addr_index *ix, enum addr_kind kind, uint32_t town, const char *a,
			const char *bb, const char *cc, uint32_t value)
{
	char key[128];
	int kn = !*bb ? snprintf(key, sizeof key, "%s", a) :
		 !*cc ? snprintf(key, sizeof key, "%s-%s", a, bb) :
			snprintf(key, sizeof key, "%s-%s-%s", a, bb, cc);
	if (kn > 0 && (size_t)kn < sizeof key)
		ix_add(ix, kind, town, key, (size_t)kn, value);
}

/* The block blk of town ti, made on first sight. */
static uint32_t block_of(struct addr_index *ix, uint32_t ti, const char *blk, const char *blk_id)
{
	uint32_t e = addr_ix_find(ix, AK_BLOCK, ti, blk, strlen(blk));
	if (e)
		return ix->ents[e].value;
	ix->blocks = grow(ix->blocks, ix->nblocks, &ix->cap_blocks, sizeof(*ix->blocks), 4096);
	uint32_t bi = (uint32_t)ix->nblocks++;
	ix->blocks[bi] = (struct addr_block){.blk_id = dup(ix, blk_id), .blk_num = dup(ix, blk)};
	ix_add(ix, AK_BLOCK, ti, blk, strlen(blk), bi);
	return bi;
}

static int load_rsdt(struct build *b, struct db_conn *c)
{
	struct addr_index *ix = b->ix;
	struct db_stmt *st;
	if (db_prepare(c,
		       "SELECT r.lg_code, r.machiaza_id, r.blk_id, r.rsdt_id, r.blk_num, "
		       "r.rsdt_num, r.rsdt_num2, pos.rep_lat, pos.rep_lon FROM abr_rsdt r "
		       "LEFT JOIN abr_rsdt_pos pos ON pos.lg_code = r.lg_code AND "
		       "pos.machiaza_id = r.machiaza_id AND pos.blk_id = r.blk_id AND "
		       "pos.rsdt_id = r.rsdt_id AND pos.rsdt2_id = r.rsdt2_id "
		       "WHERE COALESCE(r.ablt_date, '') = '' "
		       "ORDER BY r.lg_code, r.machiaza_id, r.blk_id, r.rsdt_id",
		       &st) != 0)
		return -1;
	int rc;
	struct row_cursor cur = {NULL, UINT32_MAX};
	while ((rc = db_step(st)) == DB_ROW) {
		uint32_t ti = row_town(ix, st, &cur);
		const char *blk = canon_num(db_col_text(st, 4)),
			   *num = canon_num(db_col_text(st, 5)),
			   *num2 = canon_num(db_col_text(st, 6));
		if (ti == UINT32_MAX || !*blk || !*num)
			continue;
		ix->towns[ti].rsdt = true;
		uint32_t bi = block_of(ix, ti, blk, db_col_text(st, 2));
		ix->rsdts = grow(ix->rsdts, ix->nrsdts, &ix->cap_rsdts, sizeof(*ix->rsdts), 16384);
		uint32_t ri = (uint32_t)ix->nrsdts++;
		struct addr_rsdt *r = &ix->rsdts[ri];
		*r = (struct addr_rsdt){.block = bi,
					.rsdt_id = dup(ix, db_col_text(st, 3)),
					.rsdt_num = dup(ix, num),
					.rsdt_num2 = dup(ix, num2)};
		add_point(&r->has_point, &r->lat, &r->lon, st, 7);
		if (r->has_point) {
			struct addr_block *bl = &ix->blocks[bi];
			bl->lat += r->lat;
			bl->lon += r->lon;
			bl->npos++;
		}
		add_num_key(ix, AK_RSDT, ti, blk, num, num2, ri);
	}
	db_done(st);
	for (size_t i = 0; i < ix->nblocks; i++)
		if (ix->blocks[i].npos) {
			ix->blocks[i].lat /= ix->blocks[i].npos;
			ix->blocks[i].lon /= ix->blocks[i].npos;
		}
	return rc == DB_DONE ? 0 : -1;
}

static int load_parcels(struct build *b, struct db_conn *c)
{
	struct addr_index *ix = b->ix;
	struct db_stmt *st;
	if (db_prepare(c,
		       "SELECT p.lg_code, p.machiaza_id, p.prc_id, p.prc_num1, p.prc_num2, "
		       "p.prc_num3, pos.rep_lat, pos.rep_lon FROM abr_parcel p "
		       "LEFT JOIN abr_parcel_pos pos ON pos.lg_code = p.lg_code AND "
		       "pos.machiaza_id = p.machiaza_id AND pos.prc_id = p.prc_id "
		       "WHERE COALESCE(p.ablt_date, '') = '' "
		       "ORDER BY p.lg_code, p.machiaza_id, p.prc_id",
		       &st) != 0)
		return -1;
	int rc;
	struct row_cursor cur = {NULL, UINT32_MAX};
	while ((rc = db_step(st)) == DB_ROW) {
		uint32_t ti = row_town(ix, st, &cur);
		const char *n1 = canon_num(db_col_text(st, 3)), *n2 = canon_num(db_col_text(st, 4)),
			   *n3 = canon_num(db_col_text(st, 5));
		if (ti == UINT32_MAX || !*n1)
			continue;
		ix->towns[ti].parcel = true;
		ix->parcels = grow(ix->parcels, ix->nparcels, &ix->cap_parcels,
				   sizeof(*ix->parcels), 65536);
		uint32_t pi = (uint32_t)ix->nparcels++;
		struct addr_parcel *p = &ix->parcels[pi];
		*p = (struct addr_parcel){.prc_id = dup(ix, db_col_text(st, 2)),
					  .n1 = dup(ix, n1),
					  .n2 = dup(ix, n2),
					  .n3 = dup(ix, n3)};
		add_point(&p->has_point, &p->lat, &p->lon, st, 6);
		add_num_key(ix, AK_PARCEL, ti, n1, n2, n3, pi);
	}
	db_done(st);
	return rc == DB_DONE ? 0 : -1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Gives back what the doubling arrays over-allocated (up to half of each). */
static void shrink(struct addr_index *ix)
{
#define SHRINK(arr, n, cap)                                                                        \
	if ((n) > 0 && (n) < (cap)) {                                                              \
		arr = xrealloc(arr, (n) * sizeof(*(arr)));                                         \
		cap = n;                                                                           \
	}
	SHRINK(ix->towns, ix->ntowns, ix->cap_towns);
	SHRINK(ix->blocks, ix->nblocks, ix->cap_blocks);
	SHRINK(ix->rsdts, ix->nrsdts, ix->cap_rsdts);
	SHRINK(ix->parcels, ix->nparcels, ix->cap_parcels);
	SHRINK(ix->ents, ix->nents, ix->cap_ents);
	SHRINK(ix->keys, ix->keys_len, ix->keys_cap);
	SHRINK(ix->sfx, ix->nsfx, ix->cap_sfx);
#undef SHRINK
}

int addr_index_load(struct db_conn *c, struct addr_index **out, struct addr_index_stats *st,
		    char *err, size_t errlen)
{
	double t0 = now_s();
	struct addr_index *ix = xcalloc(1, sizeof(*ix));
	ix->strings = arena_new();
	struct build b = {.ix = ix};
	buf_init(&b.key, KEY_MAX * 4);
	buf_init(&b.tmp, KEY_MAX * 4);
	buf_init(&b.raw, KEY_MAX);
	static const char *const what[] = {"prefectures",     "municipalities", "ABR towns",
					   "towns.csv towns", "town suffixes",  "residences",
					   "parcels"};
	int (*const steps[])(struct build *, struct db_conn *) = {
		load_prefs,     load_cities, load_abr_towns, load_town_names,
		build_suffixes, load_rsdt,   load_parcels};
	int rc = 0;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (steps[i](&b, c) != 0) {
			snprintf(err, errlen, "address index: reading %s failed: %s", what[i],
				 db_errmsg(c));
			rc = -1;
			break;
		}
	buf_release(&b.key);
	buf_release(&b.tmp);
	buf_release(&b.raw);
	if (rc != 0) {
		addr_index_free(ix);
		*out = NULL;
		return -1;
	}
	if (!ix->slots)
		grow_slots(ix);
	shrink(ix);
	if (st) {
		*st = (struct addr_index_stats){
			.prefs = ix->nprefs,
			.cities = ix->ncities,
			.towns = ix->ntowns,
			.blocks = ix->nblocks,
			.residences = ix->nrsdts,
			.parcels = ix->nparcels,
			.memory_bytes = arena_used(ix->strings) + ix->cap_ents * sizeof(*ix->ents) +
					ix->keys_cap + (ix->mask + 1) * sizeof(uint32_t) +
					ix->cap_towns * sizeof(*ix->towns) +
					ix->cap_blocks * sizeof(*ix->blocks) +
					ix->cap_rsdts * sizeof(*ix->rsdts) +
					ix->cap_parcels * sizeof(*ix->parcels) +
					ix->cap_sfx * sizeof(*ix->sfx),
			.seconds = now_s() - t0};
	}
	*out = ix;
	return 0;
}

void addr_index_free(struct addr_index *ix)
{
	if (!ix)
		return;
	arena_free(ix->strings);
	free(ix->prefs);
	free(ix->cities);
	free(ix->towns);
	free(ix->blocks);
	free(ix->rsdts);
	free(ix->parcels);
	free(ix->sfx);
	free(ix->ents);
	free(ix->keys);
	free(ix->slots);
	free(ix);
}
