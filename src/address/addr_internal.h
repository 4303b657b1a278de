/* Inside the address module: the index's layout and the folding, shared by
 * addr_index.c (build), addr_match.c (look-up) and the unit tests. */
#ifndef MADO_ADDR_INTERNAL_H
#define MADO_ADDR_INTERNAL_H
#include <stdbool.h>
#include <stdint.h>

#include "address/address.h"
#include "common/buf.h"

/* Appends the matching form of s[0..n) to out (tmp is scratch). Returns 0,
 * -EILSEQ (not UTF-8), -E2BIG or -EIO. */
int addr_fold(struct buf *out, struct buf *tmp, const char *s, size_t n);
/* Rewrites the place-name variants of an addr_fold result in place (舟 → 船,
 * 篭 → 籠, 舘 → 館; lengths kept). Returns whether s holds a character of
 * a pair, in either form. Applied to the town keys (those holding one go
 * into AK_TOWN_VARIANT) and to the input when no town matched as written. */
bool addr_fold_variant(char *s, size_t n);

/* Kinds of key in the one hash table. Each key lives in a scope: the parent
 * it is looked up under (a prefecture, a city, a town) or 0. */
enum addr_kind {
	AK_PREF = 1,     /* scope 0; value: pref index */
	AK_CITY,         /* scope pref index + 1, or 0 for any prefecture; value: city */
	AK_TOWN,         /* scope city index; value: town */
	AK_TOWN_ALIAS,   /* scope city index; value: town (町 left out: 西川 for 西川町) */
	AK_KOAZA,        /* scope town index; value: town (a 小字 under its 大字) */
	AK_BLOCK,        /* scope town index; key "12"; value: block */
	AK_RSDT,         /* scope town index; key "12-3" or "12-3-4"; value: residence */
	AK_PARCEL,       /* scope town index; key "103" / "103-3" / "103-3-1"; value: parcel */
	AK_TOWN_VARIANT, /* scope city index; the AK_TOWN key through addr_fold_variant,
			  * for keys holding one of its characters; value: town */
	AK_TOWN_SUFFIX,  /* scope city index; key: the end of a 大字 name (三栄町 of
			  * 四谷三栄町); value: index in sfx[] (the prefix left out),
			  * or ADDR_SFX_AMBIGUOUS when two names of the city end so */
	AK_TOWN_ID,      /* build only: scope city index, key machiaza_id */
	AK_NKINDS
};

struct addr_pref {
	const char *name, *lg_code;
	double lat, lon;
	bool has_point;
};

struct addr_city {
	uint32_t pref;
	bool abr_towns; /* its towns come from ABR (with machiaza_id) */
	const char *county, *city, *ward, *lg_code;
	double lat, lon;
	bool has_point;
};

struct addr_town {
	uint32_t city;
	const char *oaza_cho, *chome, *koaza, *machiaza_id; /* machiaza_id NULL: towns.csv */
	bool rsdt, parcel; /* has 住居表示 residences / 地番 parcels in the index */
	bool detail;       /* a 丁目 or 小字 (level machiaza_detail) */
	bool has_point;
	double lat, lon;
};

struct addr_block {
	const char *blk_id, *blk_num;
	double lat, lon; /* mean of its residences */
	uint32_t npos;
};

struct addr_rsdt {
	uint32_t block;
	const char *rsdt_id, *rsdt_num, *rsdt_num2;
	bool has_point;
	double lat, lon;
};

struct addr_parcel {
	const char *prc_id, *n1, *n2, *n3;
	bool has_point;
	double lat, lon;
};

#define ADDR_SFX_AMBIGUOUS UINT32_MAX

struct addr_hent {
	uint64_t hash;
	uint32_t key_off, value, next; /* next: another entry with the same key, or 0 */
	uint32_t scope;
	uint16_t key_len;
	uint8_t kind;
};

struct addr_index {
	struct arena *strings;
	struct addr_pref *prefs;
	struct addr_city *cities;
	struct addr_town *towns;
	struct addr_block *blocks;
	struct addr_rsdt *rsdts;
	struct addr_parcel *parcels;
	size_t nprefs, ncities, ntowns, nblocks, nrsdts, nparcels;
	size_t cap_towns, cap_blocks, cap_rsdts, cap_parcels;
	/* the hash table: entries (index 0 unused) and open-addressing slots */
	struct addr_hent *ents;
	size_t nents, cap_ents;
	char *keys;
	size_t keys_len, keys_cap;
	uint32_t *slots;
	size_t mask;
	size_t max_len[AK_NKINDS]; /* longest key of each kind, in bytes */
	/* the prefixes of AK_TOWN_SUFFIX (四谷 for 三栄町), folded, in strings */
	const char **sfx;
	size_t nsfx, cap_sfx;
	/* the shared index only (addr_shared.c): references held, under its
	 * lock, and the registry generation read before the build */
	size_t refs;
	int64_t generation;
};

/* The first entry of kind in scope whose key is exactly k[0..n), or 0; then
 * addr_ix_next for others with the same key. */
uint32_t addr_ix_find(const struct addr_index *ix, enum addr_kind kind, uint32_t scope,
		      const char *k, size_t n);
uint32_t addr_ix_next(const struct addr_index *ix, uint32_t ent);
/* The entry of the longest key of kind in scope that s[0..n) starts with, or
 * 0; *len gets that key's length. One pass, hashing each byte once. */
uint32_t addr_ix_longest(const struct addr_index *ix, enum addr_kind kind, uint32_t scope,
			 const char *s, size_t n, size_t *len);
uint64_t addr_hash_start(enum addr_kind kind, uint32_t scope);

/* The server's background refresher of the shared index (addr_shared.c),
 * started and stopped by the module's start/stop hooks (addr_web.c).
 * addr_shared_stop also drops the shared index of app. */
int addr_shared_start(struct app *app);
void addr_shared_stop(struct app *app);

#endif
