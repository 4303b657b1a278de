/* Wiping allocator (see wipe.h). malloc_usable_size gives the whole block,
 * not only what the caller asked for, so slack that once held a longer
 * string is zeroed as well. */
#include "common/wipe.h"

#include <jansson.h>
#include <malloc.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uclean.h>

void *wipe_malloc(size_t n)
{
	return malloc(n ? n : 1);
}

void wipe_free(void *p)
{
	if (!p)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

void *wipe_realloc(void *p, size_t n)
{
	if (!p)
		return wipe_malloc(n);
	if (n == 0) {
		wipe_free(p);
		return NULL;
	}
	void *q = malloc(n);
	if (!q)
		return NULL; /* p is left as it was, as realloc does */
	size_t old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	wipe_free(p);
	return q;
}

static void *icu_alloc(const void *ctx, size_t n)
{
	(void)ctx;
	return wipe_malloc(n);
}

static void *icu_realloc(const void *ctx, void *p, size_t n)
{
	(void)ctx;
	return wipe_realloc(p, n);
}

static void icu_free(const void *ctx, void *p)
{
	(void)ctx;
	wipe_free(p);
}

int wipe_install(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
	UErrorCode st = U_ZERO_ERROR;
	u_setMemoryFunctions(NULL, icu_alloc, icu_realloc, icu_free, &st);
	return U_FAILURE(st) ? -1 : 0;
}
