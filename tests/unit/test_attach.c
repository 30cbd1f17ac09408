/* test_attach.c - the error paths of live filters (engine/attach.c): modes,
 * missing interfaces, bad arguments, detaching from an interface without a
 * program; and the value arithmetic of the live view. Nothing here attaches
 * a program: that is tests/cli/attach.sh, inside its own namespaces. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/attach.h"
#include "core/object.h"

static void test_modes(void **state)
{
    (void)state;
    enum bl_attach_mode m = BL_ATTACH_NATIVE;
    char *err = NULL;
    assert_int_equal(bl_attach_parse_mode("skb", &m, &err), 0);
    assert_int_equal(m, BL_ATTACH_SKB);
    assert_int_equal(bl_attach_parse_mode("generic", &m, &err), 0);
    assert_int_equal(m, BL_ATTACH_SKB);
    assert_int_equal(bl_attach_parse_mode("native", &m, &err), 0);
    assert_int_equal(m, BL_ATTACH_NATIVE);
    assert_int_equal(bl_attach_parse_mode("drv", &m, &err), 0);
    assert_int_equal(m, BL_ATTACH_NATIVE);
    assert_null(err);
    assert_int_equal(bl_attach_parse_mode("turbo", &m, &err), -EINVAL);
    assert_non_null(err);
    assert_non_null(strstr(err, "turbo"));
    assert_non_null(strstr(err, "skb or native"));
    free(err);
    err = NULL;
    assert_int_equal(bl_attach_parse_mode(NULL, &m, &err), -EINVAL);
    free(err);
    assert_string_equal(bl_attach_mode_name(BL_ATTACH_SKB), "skb");
    assert_string_equal(bl_attach_mode_name(BL_ATTACH_NATIVE), "native");
}

static void test_missing_interface(void **state)
{
    (void)state;
    char *err = NULL;
    assert_int_equal(bl_attach_ifindex("bl_nosuch0", &err), -ENODEV);
    assert_non_null(err);
    assert_non_null(strstr(err, "no such interface: bl_nosuch0"));
    free(err);
    err = NULL;
    assert_int_equal(bl_attach_ifindex("", &err), -EINVAL);
    assert_non_null(strstr(err, "--dev"));
    free(err);
    err = NULL;
    assert_int_equal(bl_attach_ifindex("an_interface_name_far_too_long", &err), -EINVAL);
    assert_non_null(strstr(err, "too long"));
    free(err);
    err = NULL;
    assert_true(bl_attach_ifindex("lo", NULL) > 0);

    /* the interface is checked before the file is even opened */
    struct bl_attachment *a = (void *)1;
    assert_int_equal(bl_attach_elf_file("/nonexistent.o", NULL, "bl_nosuch0", BL_ATTACH_SKB,
                                        &a, &err), -ENODEV);
    assert_null(a);
    assert_non_null(strstr(err, "no such interface"));
    free(err);
    err = NULL;

    bpflua_object *obj = bpflua_object_new();
    static const uint64_t insns[2] = { 0x00000002000000b7ull /* r0 = 2 */, 0x95 /* exit */ };
    struct bpflua_func_info f = { 0, "pass", NULL };
    assert_int_equal(bpflua_object_add_prog(obj, "pass", "xdp", insns, 2, &f, 1, NULL, 0), 0);
    a = (void *)1;
    assert_int_equal(bl_attach(obj, 0, "bl_nosuch0", BL_ATTACH_SKB, &a, &err), -ENODEV);
    assert_null(a);
    assert_non_null(strstr(err, "no such interface: bl_nosuch0"));
    free(err);
    err = NULL;

    /* detaching from a missing interface */
    assert_int_equal(bl_detach_dev("bl_nosuch0", NULL, &err), -ENODEV);
    assert_non_null(strstr(err, "no such interface"));
    free(err);
    bpflua_object_free(obj);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char *err = NULL;
    struct bl_attachment *a = NULL;
    bpflua_object *obj = bpflua_object_new();
    /* no program 0 */
    assert_int_equal(bl_attach(obj, 0, "lo", BL_ATTACH_SKB, &a, &err), -EINVAL);
    assert_null(a);
    assert_non_null(strstr(err, "no program 0"));
    free(err);
    err = NULL;
    static const uint64_t insns[2] = { 0x00000002000000b7ull, 0x95 };
    struct bpflua_func_info f = { 0, "pass", NULL };
    assert_int_equal(bpflua_object_add_prog(obj, "pass", "xdp", insns, 2, &f, 1, NULL, 0), 0);
    /* a mode that is neither skb nor native */
    assert_int_equal(bl_attach(obj, 0, "lo", (enum bl_attach_mode)7, &a, &err), -EINVAL);
    assert_null(a);
    assert_non_null(strstr(err, "mode"));
    free(err);
    err = NULL;
    assert_int_equal(bl_attach_elf_file("x.o", NULL, "lo", (enum bl_attach_mode)-1, &a, &err),
                     -EINVAL);
    assert_null(a);
    free(err);
    bpflua_object_free(obj);
    /* freeing nothing is fine */
    bl_attachment_free(NULL);
    assert_int_equal(bl_detach(NULL, NULL), 0);
}

static void test_values(void **state)
{
    (void)state;
    struct bl_attach_map_info m;
    memset(&m, 0, sizeof m);
    m.value_size = 8;
    m.n_cpus = 1;
    m.value_stride = 8;
    uint64_t v = 1234567890123ull;
    assert_int_equal(bl_attach_value_as_int(&m, &v), 1234567890123ll);
    /* per-CPU: the sum over CPUs, 4-byte values in 8-byte slots */
    unsigned char buf[32];
    memset(buf, 0xee, sizeof buf);
    uint32_t parts[4] = { 1, 20, 300, 4000 };
    for (int i = 0; i < 4; i++)
        memcpy(buf + 8 * i, &parts[i], 4);
    m.value_size = 4;
    m.n_cpus = 4;
    m.value_stride = 8;
    m.percpu = 1;
    assert_int_equal(bl_attach_value_as_int(&m, buf), 4321);
    /* signed values */
    int32_t neg[2] = { -5, 0 };
    m.n_cpus = 1;
    m.value_signed = 1;
    assert_int_equal(bl_attach_value_as_int(&m, neg), -5);
    m.value_signed = 0;
    assert_int_equal(bl_attach_value_as_int(&m, neg), 0xfffffffbll);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_missing_interface),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
