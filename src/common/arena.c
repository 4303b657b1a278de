/* Region allocator (see arena.h): a list of chunks that grows geometrically.
 * Large requests get a chunk of their own so small ones do not waste space. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wipe.h"
#include "xalloc.h"

#define ARENA_CHUNK 8192
#define ARENA_ALIGN 16

struct chunk {
	struct chunk *next;
	size_t cap, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
	struct chunk *head;
	size_t total;
};

struct arena *arena_new(void)
{
	return xcalloc(1, sizeof(struct arena));
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	/* a request's arena holds decoded form fields (passwords among them),
	 * names and numbers: zeroed before the memory is reused (see wipe.h) */
	struct chunk *c = a->head;
	while (c) {
		struct chunk *next = c->next;
		wipe_free(c);
		c = next;
	}
	free(a);
}

static struct chunk *chunk_new(size_t cap)
{
	struct chunk *c = xmalloc(sizeof(*c) + cap);
	c->next = NULL;
	c->cap = cap;
	c->used = 0;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (n == 0)
		n = ARENA_ALIGN;
	struct chunk *c = a->head;
	if (!c || c->cap - c->used < n) {
		if (n > ARENA_CHUNK / 4) {
			/* a big block: its own chunk, placed behind the current head */
			struct chunk *big = chunk_new(n);
			big->used = n;
			if (c) {
				big->next = c->next;
				c->next = big;
			} else {
				a->head = big;
			}
			a->total += n;
			return big->data;
		}
		size_t cap = ARENA_CHUNK;
		if (c && c->cap < 16 * ARENA_CHUNK)
			cap = c->cap * 2;
		struct chunk *nc = chunk_new(cap);
		nc->next = c;
		a->head = c = nc;
	}
	void *p = c->data + c->used;
	c->used += n;
	a->total += n;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

size_t arena_used(const struct arena *a)
{
	return a->total;
}
