/* Base registries (ベース・レジストリ): the Address Base Registry (ABR) as
 * distributed by the Digital Agency. Later: corporate numbers and resident
 * records. Public reference data: rows carry lg_code but no personal data. */
#ifndef MADO_REGISTRY_H
#define MADO_REGISTRY_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/app.h"

extern const struct module registry_module;

/* What to do with a row that cannot be imported. */
enum abr_on_error {
	ABR_ABORT = 0, /* roll the file back: nothing of it is written */
	ABR_SKIP = 1,  /* leave the row out, report it, import the rest */
};

/* A row an importer cannot take: reports it on report (may be NULL) as
 * "FILE:LINE: msg"; then with ABR_ABORT returns -1 with err saying that
 * nothing of the file was imported (the caller rolls back), with ABR_SKIP
 * returns 0 (the caller counts it skipped and goes on). */
int abr_reject_row(FILE *report, enum abr_on_error on_error, const char *path, unsigned long line,
		   const char *msg, char *err, size_t errlen);

/* Writes of an importer's rows go through db_queue (pipelined on
 * PostgreSQL). Both return 0, or -1 with err naming FILE:LINE of the row
 * whose write failed (which may be an earlier one than line) and saying that
 * nothing of the file was imported; the caller rolls back. */
int abr_queue_row(struct db_stmt *st, const char *path, unsigned long line, char *err,
		  size_t errlen);
int abr_flush_rows(struct db_conn *c, const char *path, char *err, size_t errlen);

/* The registry generation: a counter that abr_import_file and
 * towns_import_file increment in the transaction that writes their rows (when
 * they wrote any), so that a running server can tell that the address index
 * it built is out of date (src/address/addr_shared.c).
 * registry_generation_bump: 0, or -1 with err "PATH: …" (the caller rolls
 * back). registry_generation: 0 with *out (0 before any import), or a
 * negative db error code. */
int registry_generation_bump(struct db_conn *c, const char *path, char *err, size_t errlen);
int registry_generation(struct db_conn *c, int64_t *out);

struct abr_import_stats {
	const char *kind; /* "town", "parcel", … (static) */
	uint64_t rows;    /* rows written (inserted or updated) */
	uint64_t skipped; /* rows left out (ABR_SKIP) */
	double seconds;
};

/* Imports one official ABR zip (one UTF-8 CSV inside, English header).
 * The kind of file is recognised from its header, columns are bound by name,
 * and every row is upserted, so importing the same file again changes
 * nothing. One transaction per file. Each rejected row is reported on report
 * as "FILE:LINE: message". progress (may be NULL) gets a one-line progress
 * display redrawn with '\r' (for a terminal). Returns 0, or -1 with a
 * message in err (then nothing of this file was written). */
int abr_import_file(struct app *app, const char *path, enum abr_on_error on_error, FILE *report,
		    FILE *progress, struct abr_import_stats *st, char *err, size_t errlen);

/* Imports japanese-addresses' towns.csv (header pref,city,town,koaza,lat,lng;
 * UTF-8) into town_names, upserting by (pref, city, town, koaza), and sets
 * each row's lg_code from abr_city by prefecture and county + city + ward
 * name (NULL when no current municipality has that name). Needs
 * mt_city_all imported first. Same error and progress contract as
 * abr_import_file. */
int towns_import_file(struct app *app, const char *path, enum abr_on_error on_error, FILE *report,
		      FILE *progress, struct abr_import_stats *st, char *err, size_t errlen);

#endif
