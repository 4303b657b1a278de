/* Name tables of the synthetic population (populate.c): common Japanese
 * surnames weighted by how many people bear them, and given names per sex
 * weighted by birth cohort, each with its katakana reading. */
#ifndef MADO_RESIDENT_NAMES_H
#define MADO_RESIDENT_NAMES_H
#include <stddef.h>

/* Birth cohorts of the given-name weights. */
enum {
	POPN_PRE1945 = 0, /* born before 1945 */
	POPN_1945,        /* 1945–1964 */
	POPN_1965,        /* 1965–1984 */
	POPN_1985,        /* 1985–2004 */
	POPN_2005,        /* 2005 and later */
	POPN_COHORTS
};

struct popn_surname {
	const char *kanji; /* as written, old and rare forms included (髙橋, 齋藤, 𠮷田) */
	const char *kana;  /* katakana reading */
	unsigned weight;   /* roughly thousands of bearers nationwide */
};

struct popn_given {
	const char *kanji; /* as written; some older women's names are in katakana */
	const char *kana;
	unsigned char w[POPN_COHORTS]; /* relative popularity per cohort, 0 = not used */
};

extern const struct popn_surname popn_surnames[];
extern const size_t popn_nsurnames;
extern const struct popn_given popn_male[];
extern const size_t popn_nmale;
extern const struct popn_given popn_female[];
extern const size_t popn_nfemale;

/* The cohort of a birth year. */
int popn_cohort(int birth_year);

#endif
