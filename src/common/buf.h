/* Growable byte buffer with a hard maximum (curl's dynbuf "toobig").
 * Every buffer is created with the largest size it may reach; growing past it
 * fails with -E2BIG, which callers turn into a 413 or 400, never a crash. */
#ifndef MADO_BUF_H
#define MADO_BUF_H
#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *p;    /* always NUL-terminated once anything was appended */
	size_t len; /* bytes in use, not counting the NUL */
	size_t cap;
	size_t max; /* largest len allowed */
};

/* An empty buffer that may grow to max bytes. Owns nothing until first append. */
void buf_init(struct buf *b, size_t max);
/* Frees the contents; the buffer may be used again after buf_init. */
void buf_release(struct buf *b);
/* Forget the contents but keep the allocation. */
void buf_reset(struct buf *b);

/* Each returns 0, or -E2BIG when the result would pass max (buffer unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* The contents as a C string ("" when empty); owned by the buffer. */
const char *buf_cstr(const struct buf *b);
/* Hands the allocation to the caller (free() it) and leaves b empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
