/* A text file to import, read as a byte stream in UTF-8 whatever it was
 * written in: a plain file or a zip holding one file, in UTF-8, UTF-8 with a
 * BOM or CP932 (Shift_JIS as Windows writes it), decided from its first
 * 64 KiB. Shared by the importers that take files made by other systems. */
#ifndef MADO_TEXTSRC_H
#define MADO_TEXTSRC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct textsrc;

/* Opens path (a zip archive holding exactly one file is read through, and
 * refused when its member is declared larger than 8 GiB) and decides its
 * encoding: *encoding receives "UTF-8", "UTF-8 (BOM)" or "CP932" (static).
 * A file that is neither is refused. Returns the source, or NULL with a
 * message in err. */
struct textsrc *textsrc_open(const char *path, const char **encoding, char *err, size_t errlen);
/* A csv_read_fn over the source (ctx is the struct textsrc): UTF-8 bytes,
 * the BOM skipped, CP932 converted with iconv a window at a time. A byte
 * sequence that is not CP932 is a read error (-1) and textsrc_bad() tells it
 * from an I/O error. */
ssize_t textsrc_read(void *ctx, char *buf, size_t n);
bool textsrc_bad(const struct textsrc *s);
struct csv;
/* The message for a CSV reader over s that stopped with an error: the line
 * that is not CP932, or the CSV error, each followed by "; nothing of this
 * file was imported" (the importers' one-transaction promise). */
void textsrc_csv_error(const struct textsrc *s, const struct csv *csv, const char *path, char *err,
		       size_t errlen);
/* How much of the file (or zip member) has been read, 0 to 100 (0 when its
 * size is unknown), for a progress display (common/progress.h). */
int textsrc_pct(const struct textsrc *s);
/* Closes and frees; NULL is a no-op. */
void textsrc_close(struct textsrc *s);

#endif
