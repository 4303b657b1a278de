/* Helpers shared by the files of src/resident/ (not part of the module's
 * API): dates, the audit entry of an actor, My Number sealing and the blind
 * index, and the SQL column lists of a resident's state. */
#ifndef MADO_RESIDENT_INTERNAL_H
#define MADO_RESIDENT_INTERNAL_H
#include <sodium.h>

#include "common/checkdigit.h"
#include "resident/resident.h"

#define RES_DATE_LEN 10 /* "YYYY-MM-DD" */
/* nonce || ciphertext of the 12 digits || tag */
#define RES_MN_ENC_BYTES                                                                           \
	(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + CHECKDIGIT_MYNUMBER_LEN +                  \
	 crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define RES_MN_BIDX_BYTES 32
#define RES_NAME_MAX_CHARS 100
#define RES_FOLD_MAX 4096 /* bytes of a folded name (NFKC may expand) */

/* Today in Japan (UTC+9) as "YYYY-MM-DD". */
void res_today(char out[RES_DATE_LEN + 1]);
int64_t res_now_ms(void);
/* True for exactly "YYYY-MM-DD", a day that exists from 1873-01-01 on. */
bool res_valid_date(const char *s);
bool res_all_digits(const char *s, size_t n);

/* Appends one audit entry for who. action "resident.read" …, subject
 * "resident:<code>" or NULL. Returns 0, or -EIO when the entry could not be
 * committed (the caller then shows nothing). */
int res_audit(struct app *app, const struct resident_actor *who, const char *action,
	      const char *juminhyo_code, const char *outcome, const char *detail);
/* Checks who for a read: lg_code valid, actor_kind and purpose present. */
bool res_actor_ok(const struct resident_actor *who, bool need_purpose);

/* Encrypts the 12 digits of mn for the row (lg_code, juminhyo_code) with
 * key (KEY_MYNUMBER_ENC): out = nonce || ciphertext || tag. */
void res_mn_seal(const unsigned char key[32], const char *lg_code, const char *juminhyo_code,
		 const char *mn, unsigned char out[RES_MN_ENC_BYTES]);
/* Decrypts; 0 and out (12 digits + NUL), or -EIO when the blob does not open
 * for this row (wrong key, moved, altered). */
int res_mn_open(const unsigned char key[32], const char *lg_code, const char *juminhyo_code,
		const unsigned char *blob, size_t n, char out[13]);
/* Keyed BLAKE2b-256 of the 12 digits with key (KEY_MYNUMBER_IDX). */
void res_mn_bidx(const unsigned char key[32], const char *mn, unsigned char out[RES_MN_BIDX_BYTES]);
/* "********3214" (13 bytes with NUL). */
void res_mn_mask(const char *mn, char out[13]);
/* 0 when mn is 12 ASCII digits with a right check digit, else -EINVAL with msg. */
int res_mn_check(const char *mn, char *msg, size_t msglen);

/* Columns of a version (in resident_versions and the residents cache), in
 * the order res_state_bind binds them and res_state_json reads them. */
#define RES_STATE_COLS                                                                             \
	"juminhyo_code, atena_no, setai_no, name, name_kana, birth, sex, zokugara, address, "      \
	"machiaza_id, blk_id, rsdt_id, prc_id, status"
#define RES_STATE_NCOLS 14
/* Binds the 14 state columns of r starting at parameter first. */
void res_state_bind(struct db_stmt *st, int first, const struct resident_rec *r);
/* Adds the 14 state columns read from st starting at column first to o. */
void res_state_json(json_t *o, struct db_stmt *st, int first);

const char *res_status_code(int status);

#endif
