/* Unit tests for src/common/wipe.c: the wiping allocator is installed into
 * jansson and ICU when it runs first (as in main), both libraries work
 * through it, and wipe_realloc keeps what the block held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <string.h>

#include "common/buf.h"
#include "common/jtext.h"
#include "common/wipe.h"

/* Runs first (main() installs before anything else too). */
static void installs_into_jansson_and_icu(void **state)
{
	(void)state;
	assert_int_equal(wipe_install(), 0);
	json_malloc_t m = NULL;
	json_free_t f = NULL;
	json_get_alloc_funcs(&m, &f);
	assert_ptr_equal(m, wipe_malloc);
	assert_ptr_equal(f, wipe_free);
}

/* Both libraries still do their work through it. */
static void libraries_work_through_it(void **state)
{
	(void)state;
	json_error_t e;
	json_t *j = json_loads("{\"name\":\"山田 太郎\",\"mynumber\":\"123456789018\"}", 0, &e);
	assert_non_null(j);
	char *out = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(out, "{\"mynumber\":\"123456789018\",\"name\":\"山田 太郎\"}");
	wipe_free(out);
	json_decref(j);

	struct buf b;
	buf_init(&b, 4096);
	const char *in = "ＡＢＣ　二丁目１０番";
	assert_int_equal(jtext_fold_for_match(&b, in, strlen(in), 0), 0);
	assert_non_null(strstr(buf_cstr(&b), "ABC"));
	buf_release(&b);
}

static void realloc_keeps_contents(void **state)
{
	(void)state;
	char *p = wipe_realloc(NULL, 8);
	assert_non_null(p);
	memcpy(p, "1234567", 8);
	p = wipe_realloc(p, 4096);
	assert_non_null(p);
	assert_string_equal(p, "1234567");
	p[4095] = 'x';
	p = wipe_realloc(p, 4);
	assert_non_null(p);
	assert_memory_equal(p, "1234", 4);
	assert_null(wipe_realloc(p, 0)); /* freed */
	wipe_free(NULL);
	void *z = wipe_malloc(0); /* a block, not NULL */
	assert_non_null(z);
	wipe_free(z);
}

/* A buffer that grows many times keeps every byte (it moves, not reallocs). */
static void buf_growth_keeps_contents(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 50000);
	for (size_t i = 0; i < b.len; i++)
		if (b.p[i] != (char)('0' + i % 10))
			fail_msg("byte %zu is %c", i, b.p[i]);
	assert_int_equal(b.p[b.len], '\0');
	buf_release(&b);
	assert_null(b.p);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(installs_into_jansson_and_icu),
		cmocka_unit_test(libraries_work_through_it),
		cmocka_unit_test(realloc_keeps_contents),
		cmocka_unit_test(buf_growth_keeps_contents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
