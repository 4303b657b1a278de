/* Helpers shared by the resident record's pages (web_pages.c) and JSON API
 * (web_api.c): who is acting and why, the purpose list, dates in ISO or 和暦,
 * and the Japanese labels the pages show. Private to src/resident/. */
#ifndef MADO_RESIDENT_WEB_UTIL_H
#define MADO_RESIDENT_WEB_UTIL_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "resident/resident.h"

/* Longest search text accepted, in bytes (a name with spaces is < 100). */
#define RWEB_Q_MAX 256
/* Longest free-text purpose (その他), in characters. */
#define RWEB_PURPOSE_MAX 100

/* The purposes a clerk picks from; code is what forms and URLs carry. */
struct rweb_purpose {
	const char *code;
	const char *label;
};
/* Ended by an entry with code NULL; the last real entry is "other". */
extern const struct rweb_purpose rweb_purposes[];

/* The kinds of change a clerk records for an existing resident, on the
 * console and the API alike (転入 and 出生 create residents: they come by
 * import); ended by NULL. */
extern const char *const rweb_change_events[];
/* True, with *ev, when code is one of rweb_change_events. */
bool rweb_change_event(const char *code, enum resident_event *ev);

/* Resolves a purpose from a choice code (or, when free is true, free text
 * as API callers send it) and the その他 text. Returns the Japanese purpose
 * (arena-owned) for the audit log, or NULL with a Japanese message in *err
 * naming what is wrong (*field says "purpose" or "purpose_other"). */
const char *rweb_purpose_resolve(struct req *r, const char *code, const char *other, bool free,
				 const char **field, const char **err);

/* [{value, label, selected}] for a purpose <select>. */
json_t *rweb_purpose_choices(const char *selected);

/* "purpose=CODE&purpose_other=TEXT" (percent-encoded, arena-owned), to carry
 * the purpose from a result list to a detail page. Never holds My Number. */
const char *rweb_purpose_query(struct req *r, const char *code, const char *other);

/* Fills who for the signed-in principal of r with purpose (borrowed). */
void rweb_actor(struct req *r, const char *purpose, struct resident_actor *who);

/* Records change ev of the resident code on date (notified: the day of the
 * 届出, NULL for the same day) with the fields of rec that change, as the
 * signed-in clerk receiving a 届出. Returns resident_record_event's result,
 * with its Japanese message in msg. */
int rweb_record_change(struct req *r, const char *code, enum resident_event ev, const char *date,
		       const char *notified, const struct resident_rec *rec, char *msg,
		       size_t msglen);

/* Parses a date written as ISO 8601 or 和暦 (令和6年4月1日, R6.4.1 …).
 * Empty or NULL in: returns 0 and *iso NULL. Otherwise 0 with *iso the
 * ISO form (arena-owned), or -EINVAL with a Japanese message in *err. */
int rweb_date(struct req *r, const char *in, const char **iso, const char **err);

/* "令和6年4月1日" for an ISO date (arena-owned), or the input unchanged when
 * it does not parse, or "" for NULL. */
const char *rweb_date_ja(struct req *r, const char *iso);

/* True when code is a 住民票コード in form: exactly 11 ASCII digits. */
bool rweb_code_ok(const char *code);

/* Digits from which a search text may hold a My Number (12 digits): it is
 * then refused in a URL, never written back into a page, and wiped. */
#define RWEB_MN_DIGITS 12

/* Normalizes a search text: trims spaces and folds it as the search does
 * (resident_fold: NFKC, width …), then sets *digits to the count of digits
 * in the folded text (so 𝟏𝟐 or ①② count). When the folded text is made
 * only of digits, spaces and hyphens/dashes, returns the ASCII digits alone
 * (and wipes the trimmed copy when there are RWEB_MN_DIGITS or more), else
 * the trimmed text. Arena-owned; the folded buffer is wiped. */
const char *rweb_search_text(struct req *r, const char *q, size_t *digits);

/* Seconds a view link of the staff console stays valid. */
#define RWEB_VIEW_TTL 900
/* Bytes of the view token's MAC in a link (hex: twice that). */
#define RWEB_VIEW_MAC_BYTES 16

/* The link that shows resident code with a purpose (code/その他 text as the
 * form sends them) and a 基準日 (ISO or NULL): /staff/residents/CODE?
 * purpose=…[&purpose_other=…][&as_of=…]&t=EXP.MAC, where MAC is an HMAC of
 * all of it and EXP keyed with the session's CSRF token: only this session
 * can make one, so a link from another site cannot make a clerk's browser
 * read (and log) a record. Arena-owned. */
const char *rweb_view_link(struct req *r, const char *code, const char *pcode, const char *pother,
			   const char *as_of);

/* Checks the t= of the request's query against code and the query's
 * purpose, purpose_other and as_of: 0 when valid, -ENOENT when there is
 * none, -ETIMEDOUT when expired, -EINVAL when it does not match. */
int rweb_view_check(struct req *r, const char *code);

/* Adds display keys to a resident or version object in place: <date>_ja
 * for birth, valid_from, valid_to and notified; sex_label, status_label,
 * event_ja. Removes any key that could hold a full My Number. */
void rweb_decorate(struct req *r, json_t *rec);
/* rweb_decorate on every element of an array. */
void rweb_decorate_all(struct req *r, json_t *arr);

/* Wipes what may hold a My Number once a search is answered: each of the
 * NUL-terminated strings given (arena-owned copies; NULL skipped), every
 * "q" of a submitted form and the raw request body. Call it on every exit
 * of a POST search, and of a GET one when rweb_search_text counted
 * RWEB_MN_DIGITS digits or more. */
void rweb_wipe(struct req *r, const char *a, const char *b);

/* Removes mynumber_masked from every element (household lists). */
void rweb_strip_mynumber(json_t *arr);

/* A string member of o, or "" when absent. */
const char *rweb_str(json_t *o, const char *key);

/* Handlers of resident_routes: pages (web_pages.c) and API (web_api.c). */
void rweb_page_search(struct req *r, struct res *s);
void rweb_page_detail(struct req *r, struct res *s);
void rweb_page_detail_post(struct req *r, struct res *s);
void rweb_page_change(struct req *r, struct res *s);
void rweb_page_change_post(struct req *r, struct res *s);
void rweb_page_me(struct req *r, struct res *s);
void rweb_api_search(struct req *r, struct res *s);
void rweb_api_search_post(struct req *r, struct res *s);
void rweb_api_get(struct req *r, struct res *s);
void rweb_api_history(struct req *r, struct res *s);
void rweb_api_household(struct req *r, struct res *s);
void rweb_api_prefill(struct req *r, struct res *s);
void rweb_api_event(struct req *r, struct res *s);
void rweb_api_me(struct req *r, struct res *s);
void rweb_api_me_prefill(struct req *r, struct res *s);

#endif
