/* test_limits.c - resource limits of objects: program size, program and map
 * counts, per-map and total map memory; each a clear -E2BIG. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/object.h"

static const uint8_t ret0[16] = { 0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0 };

static void test_prog_size(void **state)
{
    (void)state;
    bpflua_object *obj = bpflua_object_new();
    size_t n = BL_MAX_PROG_INSNS;
    uint8_t *insns = calloc(n + 1, 8);
    assert_non_null(insns);
    for (size_t i = 0; i + 1 < n; i++)
        insns[i * 8] = 0xb7; /* mov r0, 0 */
    insns[(n - 1) * 8] = 0x95;  /* exit */
    assert_int_equal(bpflua_object_add_prog(obj, "max", "xdp", insns, n, NULL, 0, NULL, 0), 0);
    assert_string_equal(bpflua_object_error(obj), "");
    insns[(n - 1) * 8] = 0xb7;
    insns[n * 8] = 0x95;
    assert_int_equal(bpflua_object_add_prog(obj, "over", "xdp", insns, n + 1, NULL, 0, NULL, 0),
                     -E2BIG);
    assert_non_null(strstr(bpflua_object_error(obj),
                           "program 'over' has 1000001 instructions, more than the limit of 1000000"));
    assert_int_equal(bpflua_prog_count(obj), 1);
    /* the accepted maximum verifies and runs */
    struct bpflua_verify_info info;
    char *err = NULL;
    assert_int_equal(bpflua_verify(obj, 0, 0, &info, &err, NULL), 0);
    assert_int_equal(info.max_insns, BL_MAX_PROG_INSNS);
    struct bpflua_run_opts o = { .engine = BPFLUA_ENGINE_INTERP };
    struct bpflua_run_result res;
    assert_int_equal(bpflua_run(obj, 0, NULL, 0, &o, &res, &err), 0);
    assert_int_equal(res.insns, BL_MAX_PROG_INSNS);
    free(insns);
    /* more function records than instructions */
    struct bpflua_func_info f[3] = { { 0, "a", NULL }, { 1, "b", NULL }, { 1, "c", NULL } };
    assert_int_equal(bpflua_object_add_prog(obj, "funcs", "xdp", ret0, 2, f, 3, NULL, 0), -E2BIG);
    assert_int_equal(bpflua_object_add_prog(obj, NULL, "xdp", ret0, 2, NULL, 0, NULL, 0), -EINVAL);
    assert_non_null(strstr(bpflua_object_error(obj), "name"));
    assert_int_equal(bpflua_object_add_prog(obj, "empty", "xdp", ret0, 0, NULL, 0, NULL, 0), -EINVAL);
    assert_non_null(strstr(bpflua_object_error(obj), "no instructions"));
    bpflua_object_free(obj);
}

static void test_prog_count(void **state)
{
    (void)state;
    bpflua_object *obj = bpflua_object_new();
    char name[32];
    for (unsigned i = 0; i < BL_MAX_PROGS; i++) {
        snprintf(name, sizeof name, "p%u", i);
        assert_int_equal(bpflua_object_add_prog(obj, name, "xdp", ret0, 2, NULL, 0, NULL, 0),
                         (int)i);
    }
    assert_int_equal(bpflua_object_add_prog(obj, "one_more", "xdp", ret0, 2, NULL, 0, NULL, 0),
                     -E2BIG);
    assert_non_null(strstr(bpflua_object_error(obj), "at most 4096 programs"));
    bpflua_object_free(obj);
}

static void test_map_limits(void **state)
{
    (void)state;
    bpflua_object *obj = bpflua_object_new();
    /* one map over stdlib's 256 MiB per map */
    struct bpflua_map_spec big = { .name = "big", .type = BPFLUA_MAP_ARRAY, .key_size = 4,
                                   .value_size = 8, .max_entries = 100000000 };
    assert_int_equal(bpflua_object_add_map(obj, &big), -E2BIG);
    assert_non_null(strstr(bpflua_object_error(obj), "256 MiB"));
    /* 200 MiB maps: four fit in the 1 GiB total, the sixth does not */
    char name[32];
    struct bpflua_map_spec m = { .type = BPFLUA_MAP_ARRAY, .key_size = 4, .value_size = 1024,
                                 .max_entries = 200 * 1024 };
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "m%d", i);
        m.name = name;
        assert_int_equal(bpflua_object_add_map(obj, &m), i);
    }
    m.name = "m5";
    assert_int_equal(bpflua_object_add_map(obj, &m), -E2BIG);
    assert_non_null(strstr(bpflua_object_error(obj), "limit of 1024 MiB for all maps together"));
    /* hash maps count their keys too */
    struct bpflua_map_spec h = { .name = "h", .type = BPFLUA_MAP_HASH, .key_size = 64,
                                 .value_size = 64, .max_entries = 1 << 20 };
    assert_int_equal(bpflua_object_add_map(obj, &h), -E2BIG);
    /* a small map still fits; a duplicate name is a clear error */
    struct bpflua_map_spec s = { .name = "small", .type = BPFLUA_MAP_HASH, .key_size = 4,
                                 .value_size = 8, .max_entries = 16 };
    assert_int_equal(bpflua_object_add_map(obj, &s), 5);
    assert_int_equal(bpflua_object_add_map(obj, &s), -EEXIST);
    assert_non_null(strstr(bpflua_object_error(obj), "defined twice"));
    bpflua_object_free(obj);

    /* the number of maps */
    obj = bpflua_object_new();
    for (unsigned i = 0; i < BL_MAX_MAPS; i++) {
        snprintf(name, sizeof name, "a%u", i);
        s.name = name;
        assert_int_equal(bpflua_object_add_map(obj, &s), (int)i);
    }
    s.name = "over";
    assert_int_equal(bpflua_object_add_map(obj, &s), -E2BIG);
    assert_non_null(strstr(bpflua_object_error(obj), "at most 1024 maps"));
    bpflua_object_free(obj);
}

/* The assembler reports the object's reason. */
static void test_asm_reports_limits(void **state)
{
    (void)state;
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(
        ".map big array key=4 value=8 entries=100000000\nmov %r0, 0\nexit\n", "big.asm", &err);
    assert_null(obj);
    assert_non_null(err);
    assert_non_null(strstr(err, "big.asm:1: map 'big': 100000000 entries of 8 bytes exceed the 256 MiB"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prog_size),
        cmocka_unit_test(test_prog_count),
        cmocka_unit_test(test_map_limits),
        cmocka_unit_test(test_asm_reports_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
