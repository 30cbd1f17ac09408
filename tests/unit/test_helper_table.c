/* test_helper_table.c - the helper table (stdlib/helpers.c) names each
 * kernel helper id once: bl_helper_find returns the first entry, so a
 * second one (two engineers adding the same helper) would silently lose
 * its implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "stdlib/helpers.h"

static void test_ids_unique(void **state)
{
    (void)state;
    static uint8_t seen[65536];
    size_t n = 0;
    for (size_t i = 0; bl_helper_at(i); i++, n++) {
        uint32_t id = bl_helper_at(i)->id;
        if (id < sizeof seen && seen[id]++)
            fail_msg("helper id %u (%s) is in the table twice", id, bl_helper_at(i)->name);
        assert_ptr_equal(bl_helper_find(id), bl_helper_at(i));
    }
    assert_true(n > 50); /* the kernel helpers bpflua knows, and its own */
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_ids_unique) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
