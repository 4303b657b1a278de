/* The resident record (住民記録): residents and households of a municipality
 * with an effective-dated history of every change (異動), My Number kept only
 * encrypted with a keyed blind index, CSV import/export, and the look-ups the
 * staff console, the resident portal and once-only prefill build on. */
#ifndef MADO_RESIDENT_H
#define MADO_RESIDENT_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/app.h"
#include "common/buf.h"
#include "registry/registry.h"

/* Migrations (residents, resident_versions, households, …) and routes. */
extern const struct module resident_module;

#define RESIDENT_SEARCH_MAX 100

/* Kinds of change (異動事由). The string forms are the stable codes used in
 * CSV files, JSON and the audit log. */
enum resident_event {
	RES_EV_TENNYU = 1, /* "tennyu"  転入: moved in from another municipality */
	RES_EV_TENSHUTSU,  /* "tenshutsu" 転出: moved out (record stays, status moved_out) */
	RES_EV_TENKYO,     /* "tenkyo"  転居: moved within the municipality */
	RES_EV_SHUSSEI,    /* "shussei" 出生: birth */
	RES_EV_SHIBOU,     /* "shibou"  死亡: death (status deceased) */
	RES_EV_SETAI,      /* "setai"   世帯変更: household or 続柄 change */
	RES_EV_CORRECT,    /* "correct" 職権修正: correction of a field (name, kana …) */
};
const char *resident_event_code(enum resident_event ev);              /* "tennyu", … */
const char *resident_event_ja(enum resident_event ev);                /* "転入", … */
int resident_event_parse(const char *code, enum resident_event *out); /* 0 or -EINVAL */

enum resident_status { RES_ST_ACTIVE = 1, RES_ST_MOVED_OUT = 2, RES_ST_DECEASED = 3 };

/* One state of a resident, as input (strings borrowed, not copied) or as a
 * result (strings owned by the arena or JSON the function says). Dates are
 * ISO 8601 "YYYY-MM-DD". */
struct resident_rec {
	int64_t id;                /* internal row id (output only) */
	const char *lg_code;       /* 6 digits with check digit */
	const char *juminhyo_code; /* 住民票コード, 11 digits */
	const char *atena_no;      /* 宛名番号, digits with mod-11 check digit */
	const char *setai_no;      /* 世帯番号, same scheme */
	const char *name;          /* 氏名 as written (rare kanji kept) */
	const char *name_kana;     /* 氏名カナ (katakana) */
	const char *birth;         /* 生年月日 */
	int sex;                   /* 1 男, 2 女 (as 住民票), 9 未記載 */
	const char *zokugara;      /* 続柄 as written: 世帯主, 妻, 子, 母, … */
	const char *address;       /* the address as displayed (都道府県 to 号, building) */
	const char *machiaza_id;   /* ABR 町字ID (7 digits) or NULL */
	const char *blk_id;        /* ABR 街区ID or NULL */
	const char *rsdt_id;       /* ABR 住居ID or NULL */
	const char *prc_id;        /* ABR 地番ID or NULL */
	enum resident_status status;
};

/* The folding applied to names, kana and queries before comparing them (the
 * name_fold and kana_fold columns): width, half-width kana, katakana →
 * hiragana, old kanji → new, invisible characters; spaces removed and ASCII
 * lower-cased (it is corp_fold). Appends to out; 0 or -EILSEQ/-E2BIG/-EIO. */
int resident_fold(struct buf *out, const char *s, size_t n);

/* Validates every field of r (check digits, dates, lengths, UTF-8, kana).
 * Returns 0, or -EINVAL with a Japanese message naming the field in msg. */
int resident_validate(const struct resident_rec *r, char *msg, size_t msglen);

/* Bulk loading, for CSV import and `demo populate`: one transaction, rows
 * inserted with prepared statements reused, each as a new resident whose
 * first version starts at moved_in (the event is ev, normally RES_EV_TENNYU
 * or RES_EV_SHUSSEI). mynumber may be NULL; when given it is encrypted
 * (XChaCha20-Poly1305, key derived from the master key) and blind-indexed.
 * resident_bulk_add returns 0, -EINVAL (msg says why; nothing of that row is
 * written), -EEXIST (that 住民票コード is already registered in r->lg_code:
 * nothing written, the bulk goes on; a 宛名番号 already used by another
 * resident is -EINVAL) or -EIO (the bulk is then unusable: call resident_bulk_end with
 * commit false). resident_bulk_end commits or rolls back and frees; after
 * a commit it appends one audit entry "resident.change" (actor system) per
 * municipality loaded, when app->audit is open. The connection c must have
 * no transaction open; it stays the caller's. Do not call audit_append on
 * this thread between begin and end (SQLite: the write lock is held). */
struct resident_bulk;
int resident_bulk_begin(struct app *app, struct db_conn *c, struct resident_bulk **out);
int resident_bulk_add(struct resident_bulk *b, const struct resident_rec *r, const char *mynumber,
		      enum resident_event ev, const char *moved_in, char *msg, size_t msglen);
int resident_bulk_end(struct resident_bulk *b, bool commit);

/* Who is acting and why, for the audit entry every read and change writes.
 * actor_kind "staff", "resident" or "system". */
struct resident_actor {
	const char *lg_code; /* the actor's municipality: only its residents are visible */
	const char *actor_kind;
	const char *actor_id;
	const char *actor_name;
	const char *actor_org;
	const char *purpose; /* required for reads */
	const char *request_id;
	/* a resident reading their own record: its 住民票コード, so that the
	 * entries written under the other members of the household (household,
	 * prefill) name the actor RESIDENT_ORG_HOUSEHOLD, not "本人"; or NULL */
	const char *self_code;
};
/* actor_org of the entries under a household member's subject when another
 * member of the household (signed in, identity verified) read them. */
#define RESIDENT_ORG_HOUSEHOLD "同一世帯の方（本人確認済み）"

/* Records one change (異動) effective on date (異動日), notified on notified
 * (届出日): closes the current version and opens a new one with the fields
 * of r that are not NULL changed. History is never overwritten; a change
 * dated before the current version's start is refused (-EINVAL, msg).
 * Audited. Returns 0, -ENOENT, -EINVAL or -EIO. */
int resident_record_event(struct app *app, const struct resident_actor *who,
			  const char *juminhyo_code, enum resident_event ev, const char *date,
			  const char *notified, const struct resident_rec *r, char *msg,
			  size_t msglen);

/* The resident as of date (NULL: today) as a JSON object: every field of
 * resident_rec, "mynumber_masked" ("********3214" style: only the last 4
 * digits, or null), status, the version's valid_from/valid_to and event.
 * Audited with who->purpose. Returns 0, -ENOENT (no such resident in
 * who->lg_code, or not yet resident on that date), -EINVAL, -EIO. */
int resident_get(struct app *app, const struct resident_actor *who, const char *juminhyo_code,
		 const char *as_of, json_t **out);

/* Every version, oldest first, as a JSON array. Audited. */
int resident_history(struct app *app, const struct resident_actor *who, const char *juminhyo_code,
		     json_t **out);

/* Search within who->lg_code. q is matched against name and kana (folded:
 * width, kana, old kanji, spaces), or is a 住民票コード / 宛名番号 / 12-digit
 * My Number (then looked up by blind index only); birth (may be NULL)
 * narrows. Up to limit (≤ RESIDENT_SEARCH_MAX) current residents, as a JSON
 * array of summaries (no My Number). Audited (the query itself is not
 * logged when it is a My Number). */
int resident_search(struct app *app, const struct resident_actor *who, const char *q,
		    const char *birth, int limit, json_t **out);

/* The members of household setai_no (世帯番号) as of date as_of (ISO; NULL:
 * today in Japan): the residents of who->lg_code whose version valid on that
 * day has that 世帯番号 and status active — a member who left it (世帯変更,
 * 転居 to another household), moved out or died before that day is not
 * listed, nor one who joined it, moved in or was born after it. Head (続柄
 * 世帯主) first, then by birth and 宛名番号; each element the 14 state fields
 * of that day's version (no My Number). The caller owns *out. Audited before
 * it is handed over: one "resident.read" entry per member, under the
 * member's subject, with who->purpose and detail "household N as of D";
 * none at all is one not_found entry (subject NULL) and -ENOENT. Returns 0,
 * -ENOENT, -EINVAL (actor, 世帯番号 or date malformed), -EIO (the database
 * or the audit log failed: nothing handed over). */
int resident_household(struct app *app, const struct resident_actor *who, const char *setai_no,
		       const char *as_of, json_t **out);

/* Decrypts the My Number of a resident (for a legally based exchange only).
 * Audited with purpose; out receives 12 digits + NUL. Wipe it after use. */
int resident_mynumber(struct app *app, const struct resident_actor *who, const char *juminhyo_code,
		      char out[13]);

/* Links a resident login (accounts.id, kind resident) to a resident record,
 * and finds the record of a login. */
int resident_link_account(struct app *app, const char *lg_code, const char *juminhyo_code,
			  int64_t account_id);
int resident_of_account(struct app *app, const char *lg_code, int64_t account_id,
			char juminhyo_code[12]);

/* Once-only prefill: the fields a form may fill in for this resident
 * (name, name_kana, birth, sex, address, postal parts, setai_no, household
 * members' names), each read audited with purpose. Returns a JSON object. */
int resident_prefill(struct app *app, const struct resident_actor *who, const char *juminhyo_code,
		     json_t **out);

/* CSV (UTF-8, UTF-8 with BOM or CP932 in; UTF-8 with header out). Columns
 * by header name: juminhyo_code, atena_no, setai_no, name, name_kana, birth,
 * sex, zokugara, address, machiaza_id, blk_id, rsdt_id, prc_id, mynumber
 * (optional), event, moved_in, each also by its Japanese name (住民票コード,
 * 宛名番号, 世帯番号, 氏名, 氏名カナ or フリガナ …, see
 * docs/internals/resident.md), compared with width, kana, spaces and case
 * folded; a column named twice (by any two names) is an error. Birth and
 * dates also accepted in 和暦, sex as 1/2/9 or 男/女/男性/女性/未記載, event
 * as a code or 転入/出生. Rejected rows reported as FILE:LINE: message;
 * ABR_ABORT writes nothing. */
struct resident_import_stats {
	const char *encoding;
	uint64_t rows, skipped;
	double seconds;
	uint64_t existing; /* rows whose 住民票コード was already registered: left
			      as they are, so re-importing a file changes nothing */
};
int resident_import_csv(struct app *app, const char *lg_code, const char *path,
			enum abr_on_error on_error, FILE *report, FILE *progress,
			struct resident_import_stats *st, char *err, size_t errlen);
/* The header line an export writes: the English column codes (the default)
 * or their Japanese names (住民票コード, 宛名番号, …); both import alike. */
enum resident_csv_header { RES_CSV_HEADER_EN, RES_CSV_HEADER_JA };
/* Writes the current residents of lg_code (as of as_of, NULL today) in the
 * import format with header, without My Number unless with_mynumber
 * (audited). The values are the same whatever the header. */
int resident_export_csv(struct app *app, const struct resident_actor *who, const char *as_of,
			bool with_mynumber, enum resident_csv_header header, FILE *out, char *err,
			size_t errlen);

/* The CLI: `madoguchi resident import|export …` and `madoguchi demo
 * populate …` (argv[0] is the subcommand word). Returns the exit status. */
int resident_cli(struct app *app, int argc, char **argv);
/* For main.c, before it opens the app: moves the sub-command word (argv[2])
 * and this CLI's own options and files out of main's argv (argv[0] the
 * program, argv[1] "resident" or "demo"; argc adjusted) into own[], so
 * that what stays is the server options (--data-dir …). Returns the count
 * for resident_cli's argc, or -1 (with a message on stderr) when there is
 * no sub-command or more than max arguments. */
int resident_cli_split(int *argc, char **argv, char **own, int max);

/* Synthetic population (resident/populate.c): n residents in households
 * with a realistic age pyramid and Japanese names, addresses drawn from the
 * municipality's ABR residences and parcels, valid check digits and My
 * Numbers; deterministic for a seed. Shows progress on progress (may be
 * NULL). Returns 0 or -1 with err. */
int resident_populate(struct app *app, const char *lg_code, uint64_t n, uint64_t seed,
		      FILE *progress, char *err, size_t errlen);

#endif
