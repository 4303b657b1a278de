/* Import sources (see textsrc.h): the first 64 KiB are held back to decide
 * the encoding, then handed out before the rest; CP932 is converted to UTF-8
 * as a stream, so memory stays bounded whatever the file's size. Moved here
 * from registry/corp_import.c so every importer detects encodings alike. */
#include "common/textsrc.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "common/csv.h"
#include "common/progress.h"
#include "common/utf8.h"
#include "common/xalloc.h"

#define HEAD_MAX 65536                /* bytes looked at to decide the encoding */
#define CONV_IN 65536                 /* CP932 bytes converted at a time */
#define MAX_INPUT ((uint64_t)8 << 30) /* a zip member declared larger is refused */

struct textsrc {
	FILE *fp;
	zip_t *zip;
	zip_file_t *zf;
	char *member;
	uint64_t size, done;
	char head[HEAD_MAX];
	size_t head_len, head_pos;
	bool eof; /* the file (not the head) is at its end */
	/* CP932 */
	iconv_t cd;
	char in[CONV_IN];
	size_t in_len;
	bool drained; /* raw_read has returned 0: the head and the file are used up */
	bool bad;
};

static ssize_t raw_read(struct textsrc *s, char *buf, size_t n)
{
	if (s->head_pos < s->head_len) {
		size_t k = s->head_len - s->head_pos;
		if (k > n)
			k = n;
		memcpy(buf, s->head + s->head_pos, k);
		s->head_pos += k;
		return (ssize_t)k;
	}
	if (s->eof)
		return 0;
	ssize_t r;
	if (s->zf) {
		zip_int64_t z = zip_fread(s->zf, buf, n);
		r = z < 0 ? -1 : (ssize_t)z;
	} else {
		size_t k = fread(buf, 1, n, s->fp);
		r = k == 0 && ferror(s->fp) ? -1 : (ssize_t)k;
	}
	if (r == 0)
		s->eof = true;
	if (r > 0)
		s->done += (uint64_t)r;
	return r;
}

/* Converts CP932 to UTF-8 a window at a time; a byte sequence that is not
 * CP932 is a read error (the record's line is reported). */
static ssize_t cp932_read(struct textsrc *s, char *buf, size_t n)
{
	size_t produced = 0;
	while (produced == 0) {
		if (s->in_len < CONV_IN && !s->drained) {
			ssize_t r = raw_read(s, s->in + s->in_len, CONV_IN - s->in_len);
			if (r < 0)
				return -1;
			s->drained = r == 0;
			s->in_len += (size_t)r;
		}
		if (s->in_len == 0)
			return 0;
		char *ip = s->in, *op = buf + produced;
		size_t il = s->in_len, ol = n - produced;
		size_t rc = iconv(s->cd, &ip, &il, &op, &ol);
		int e = errno;
		memmove(s->in, ip, il);
		s->in_len = il;
		produced = (size_t)(op - buf);
		if (rc == (size_t)-1 && produced == 0) {
			/* what came before a bad sequence was handed out first, so
			 * the records before it are read and the error is reported
			 * at the record that holds it */
			if (e == EILSEQ || (e == EINVAL && s->drained)) {
				s->bad = true;
				return -1;
			}
			if (e == E2BIG)
				return -1; /* the window cannot take one character: not expected */
		}
	}
	return (ssize_t)produced;
}

static bool is_zip(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	unsigned char m[4] = {0};
	size_t n = fread(m, 1, 4, f);
	fclose(f);
	return n == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
}

void textsrc_close(struct textsrc *s)
{
	if (!s)
		return;
	if (s->cd != (iconv_t)-1)
		iconv_close(s->cd);
	if (s->zf)
		zip_fclose(s->zf);
	if (s->zip)
		zip_discard(s->zip);
	if (s->fp)
		fclose(s->fp);
	free(s->member);
	free(s);
}

/* Only regular file of the archive, or -1. */
static zip_int64_t only_file(zip_t *zip)
{
	zip_int64_t n = zip_get_num_entries(zip, 0), found = -1;
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(zip, (zip_uint64_t)i, 0);
		size_t len = name ? strlen(name) : 0;
		if (len == 0 || name[len - 1] == '/')
			continue;
		if (found >= 0)
			return -1;
		found = i;
	}
	return found;
}

/* Does the invalid tail of a full head look like a sequence cut by the
 * 64 KiB boundary (a lead byte and fewer continuation bytes than it needs)? */
static bool cut_sequence(const unsigned char *p, size_t n)
{
	if (n == 0 || n > 3)
		return false;
	size_t need = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
	if (need == 0 || p[0] > 0xF4 || n >= need)
		return false;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return false;
	return true;
}

struct textsrc *textsrc_open(const char *path, const char **encoding, char *err, size_t errlen)
{
	struct textsrc *s = xcalloc(1, sizeof(*s));
	s->cd = (iconv_t)-1;
	if (is_zip(path)) {
		int zerr = 0;
		s->zip = zip_open(path, ZIP_RDONLY, &zerr);
		zip_int64_t idx = s->zip ? only_file(s->zip) : -1;
		zip_stat_t zs;
		zip_stat_init(&zs);
		if (idx < 0) {
			snprintf(err, errlen, "%s: not a zip archive holding exactly one file",
				 path);
			goto fail;
		}
		if (zip_stat_index(s->zip, (zip_uint64_t)idx, 0, &zs) == 0 &&
		    (zs.valid & ZIP_STAT_SIZE)) {
			if (zs.size > MAX_INPUT) {
				snprintf(err, errlen, "%s: member larger than 8 GiB", path);
				goto fail;
			}
			s->size = zs.size;
		}
		s->zf = zip_fopen_index(s->zip, (zip_uint64_t)idx, 0);
		if (!s->zf) {
			snprintf(err, errlen, "%s: %s", path, zip_strerror(s->zip));
			goto fail;
		}
		s->member = xstrdup(zip_get_name(s->zip, (zip_uint64_t)idx, 0));
	} else {
		s->fp = fopen(path, "rb");
		if (!s->fp) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (fseek(s->fp, 0, SEEK_END) == 0) {
			long sz = ftell(s->fp);
			s->size = sz > 0 ? (uint64_t)sz : 0;
			rewind(s->fp);
		}
	}
	/* the head: read until full or the end */
	while (s->head_len < HEAD_MAX) {
		s->head_pos = s->head_len; /* raw_read must not hand the head out yet */
		ssize_t r = raw_read(s, s->head + s->head_len, HEAD_MAX - s->head_len);
		if (r < 0) {
			snprintf(err, errlen, "%s: read error", path);
			goto fail;
		}
		if (r == 0)
			break;
		s->head_len += (size_t)r;
	}
	s->head_pos = 0;
	const unsigned char *h = (const unsigned char *)s->head;
	if (s->head_len >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) {
		s->head_pos = 3;
		*encoding = "UTF-8 (BOM)";
		return s;
	}
	size_t ok = utf8_valid_prefix(s->head, s->head_len);
	if (ok == s->head_len ||
	    (s->head_len == HEAD_MAX && cut_sequence(h + ok, s->head_len - ok))) {
		*encoding = "UTF-8";
		return s;
	}
	s->cd = iconv_open("UTF-8", "CP932");
	if (s->cd == (iconv_t)-1) {
		snprintf(err, errlen, "%s: iconv cannot convert CP932 on this system", path);
		goto fail;
	}
	/* try the head strictly as CP932 */
	char out[4096];
	char *ip = s->head;
	size_t il = s->head_len;
	while (il > 0) {
		char *op = out;
		size_t ol = sizeof out;
		if (iconv(s->cd, &ip, &il, &op, &ol) == (size_t)-1) {
			if (errno == E2BIG)
				continue;
			if (errno == EINVAL && s->head_len == HEAD_MAX)
				break; /* a double-byte character cut by the boundary */
			snprintf(err, errlen, "%s: neither UTF-8 nor CP932 (Shift_JIS) text", path);
			goto fail;
		}
	}
	iconv(s->cd, NULL, NULL, NULL, NULL);
	*encoding = "CP932";
	return s;
fail:
	textsrc_close(s);
	return NULL;
}

ssize_t textsrc_read(void *ctx, char *buf, size_t n)
{
	struct textsrc *s = ctx;
	return s->cd == (iconv_t)-1 ? raw_read(s, buf, n) : cp932_read(s, buf, n);
}

bool textsrc_bad(const struct textsrc *s)
{
	return s->bad;
}

int textsrc_pct(const struct textsrc *s)
{
	return progress_pct(s->done, s->size);
}

void textsrc_csv_error(const struct textsrc *s, const struct csv *csv, const char *path, char *err,
		       size_t errlen)
{
	if (textsrc_bad(s))
		snprintf(err, errlen, "%s:%lu: not CP932 text; nothing of this file was imported",
			 path, csv_line(csv));
	else
		snprintf(err, errlen, "%s: %s; nothing of this file was imported", path,
			 csv_errmsg(csv));
}
