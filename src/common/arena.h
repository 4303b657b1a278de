/* Region allocator: many small allocations, one release.
 * Every HTTP request owns one arena, released once the response is sent;
 * functions that allocate for a caller take the arena as their first argument. */
#ifndef MADO_ARENA_H
#define MADO_ARENA_H
#include <stdarg.h>
#include <stddef.h>

struct arena;

/* A new empty arena. Never NULL (aborts on OOM). Release with arena_free(). */
struct arena *arena_new(void);
/* Frees every allocation made from the arena and the arena itself. NULL is a no-op. */
void arena_free(struct arena *a);

/* Memory aligned for any type, owned by the arena. n may be 0. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Bytes handed out so far (for tests and metrics). */
size_t arena_used(const struct arena *a);

#endif
