/* test_records.c - the version-1 object model: record types, LPM keys,
 * ring buffer event types and initial map contents; written to ELF (BTF
 * structs by record name, the event typedef marker, .bpflua.init) and read
 * back; libbpf opens the object and the kernel (when bpf(2) works) creates
 * its maps from that BTF. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "core/bpflua.h"
#include "core/object.h"
#include "testutil.h"

/* Flow { saddr u32, daddr u32, sport u16, dport u16, proto u8 }: 16 bytes */
static const struct bpflua_field flow_fields[] = {
    { "saddr", 0, 4, 0 }, { "daddr", 4, 4, 0 }, { "sport", 8, 2, 0 },
    { "dport", 10, 2, 0 }, { "proto", 12, 1, 0 },
};
/* Stats { packets u64, delta i32 }: 16 bytes */
static const struct bpflua_field stats_fields[] = {
    { "packets", 0, 8, 0 }, { "delta", 8, 4, 1 },
};
/* Drop { saddr u32, len u16 }: 8 bytes */
static const struct bpflua_field drop_fields[] = { { "saddr", 0, 4, 0 }, { "len", 4, 2, 0 } };

static bpflua_object *v1_object(void)
{
    bpflua_object *obj = bpflua_object_new();
    assert_int_equal(bpflua_object_add_record(obj, "Flow", 16, flow_fields, 5), 0);
    assert_int_equal(bpflua_object_add_record(obj, "Stats", 16, stats_fields, 2), 1);
    assert_int_equal(bpflua_object_add_record(obj, "Drop", 8, drop_fields, 2), 2);
    struct bpflua_map_spec flows = { .name = "flows", .type = BPFLUA_MAP_LRU_HASH, .key_size = 16,
                                     .value_size = 16, .max_entries = 64, .key_record = 1,
                                     .value_record = 2 };
    struct bpflua_map_spec lpm = { .name = "blocked", .type = BPFLUA_MAP_LPM_TRIE, .key_size = 8,
                                   .value_size = 4, .max_entries = 16, .flags = 1 };
    struct bpflua_map_spec pc = { .name = "per_cpu", .type = BPFLUA_MAP_PERCPU_ARRAY,
                                  .key_size = 4, .value_size = 16, .max_entries = 4,
                                  .value_record = 2 };
    struct bpflua_map_spec ev = { .name = "drops", .type = BPFLUA_MAP_RINGBUF,
                                  .max_entries = 4096, .value_record = 3,
                                  .event_type = BPFLUA_EVENT_RECORD };
    struct bpflua_map_spec iev = { .name = "counts", .type = BPFLUA_MAP_RINGBUF,
                                   .max_entries = 8192, .event_type = BPFLUA_EVENT_INT };
    assert_int_equal(bpflua_object_add_map(obj, &flows), 0);
    assert_int_equal(bpflua_object_add_map(obj, &lpm), 1);
    assert_int_equal(bpflua_object_add_map(obj, &pc), 2);
    assert_int_equal(bpflua_object_add_map(obj, &ev), 3);
    assert_int_equal(bpflua_object_add_map(obj, &iev), 4);
    /* init: 10.0.0.0/8 -> 1, 192.168.1.0/24 -> 2; per_cpu[3] = {7, -2} */
    uint8_t k1[8] = { 8, 0, 0, 0, 10, 0, 0, 0 }, k2[8] = { 24, 0, 0, 0, 192, 168, 1, 0 };
    uint32_t v1 = 1, v2 = 2, idx = 3;
    uint8_t st[16] = { 7, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
    assert_int_equal(bpflua_map_add_init(obj, 1, k1, &v1), 0);
    assert_int_equal(bpflua_map_add_init(obj, 1, k2, &v2), 0);
    assert_int_equal(bpflua_map_add_init(obj, 2, &idx, st), 0);
    static const char prog[] = "  mov %r0, 2\n  exit\n";
    bpflua_object *as = tu_assemble(prog, "p");
    assert_true(bpflua_object_add_prog(obj, "p", "xdp", as->progs[0].insns, as->progs[0].n_insns,
                                       NULL, 0, NULL, 0) >= 0);
    bpflua_object_free(as);
    return obj;
}

static void *to_elf(bpflua_object *obj, size_t *len)
{
    void *buf = NULL;
    char *err = NULL;
    if (bpflua_object_to_elf(obj, &buf, len, &err))
        fail_msg("to_elf: %s", err ? err : "?");
    return buf;
}

static void assert_record(const bpflua_object *obj, uint32_t ref, const char *name, uint32_t size,
                          const struct bpflua_field *fields, size_t n)
{
    assert_true(ref > 0);
    uint32_t got_size = 0;
    size_t got_n = 0;
    assert_string_equal(bpflua_record_info(obj, ref - 1, &got_size, &got_n), name);
    assert_int_equal(got_size, size);
    assert_int_equal(got_n, n);
    for (size_t i = 0; i < n; i++) {
        struct bpflua_field f;
        assert_int_equal(bpflua_record_field(obj, ref - 1, i, &f), 0);
        assert_string_equal(f.name, fields[i].name);
        assert_int_equal(f.offset, fields[i].offset);
        assert_int_equal(f.size, fields[i].size);
        assert_int_equal(f.is_signed, fields[i].is_signed);
    }
    struct bpflua_field f;
    assert_int_equal(bpflua_record_field(obj, ref - 1, n, &f), -ENOENT);
}

static void test_roundtrip(void **state)
{
    (void)state;
    bpflua_object *obj = v1_object();
    size_t len = 0;
    void *buf = to_elf(obj, &len);
    char *err = NULL;
    bpflua_object *back = bpflua_object_from_elf(buf, len, "v1.o", &err);
    if (!back)
        fail_msg("from_elf: %s", err ? err : "?");
    struct bpflua_map_spec s;
    assert_int_equal(bpflua_map_spec(back, 0, &s), 0);
    assert_record(back, s.key_record, "Flow", 16, flow_fields, 5);
    assert_record(back, s.value_record, "Stats", 16, stats_fields, 2);
    assert_int_equal(bpflua_map_spec(back, 1, &s), 0);
    assert_int_equal(s.type, BPFLUA_MAP_LPM_TRIE);
    assert_int_equal(s.key_record, 0); /* the LPM key is not a record */
    assert_int_equal(s.flags, 1);
    assert_int_equal(bpflua_map_spec(back, 2, &s), 0);
    assert_int_equal(s.type, BPFLUA_MAP_PERCPU_ARRAY);
    assert_record(back, s.value_record, "Stats", 16, stats_fields, 2);
    assert_int_equal(bpflua_map_spec(back, 3, &s), 0);
    assert_int_equal(s.event_type, BPFLUA_EVENT_RECORD);
    assert_record(back, s.value_record, "Drop", 8, drop_fields, 2);
    assert_int_equal(s.value_size, 0);
    assert_int_equal(bpflua_map_spec(back, 4, &s), 0);
    assert_int_equal(s.event_type, BPFLUA_EVENT_INT);
    assert_int_equal(s.value_record, 0);
    /* records shared by two maps are one record */
    assert_int_equal(bpflua_record_count(back), 3);
    /* init entries, in order */
    assert_int_equal(bpflua_map_init_count(back, 0), 0);
    assert_int_equal(bpflua_map_init_count(back, 1), 2);
    assert_int_equal(bpflua_map_init_count(back, 2), 1);
    for (size_t m = 1; m <= 2; m++)
        for (size_t i = 0; i < bpflua_map_init_count(obj, m); i++) {
            const void *k1, *v1, *k2, *v2;
            assert_int_equal(bpflua_map_init_entry(obj, m, i, &k1, &v1), 0);
            assert_int_equal(bpflua_map_init_entry(back, m, i, &k2, &v2), 0);
            assert_memory_equal(k1, k2, obj->maps[m].key_size);
            assert_memory_equal(v1, v2, obj->maps[m].value_size);
        }
    assert_int_equal(bpflua_map_init_entry(back, 1, 2, NULL, NULL), -ENOENT);
    /* written again, the image is the same */
    size_t len2 = 0;
    void *buf2 = to_elf(back, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    free(buf2);
    free(buf);
    bpflua_object_free(back);
    bpflua_object_free(obj);
}

/* libbpf sees the records as the maps' BTF key/value types, skips
 * .bpflua.init, and the kernel creates the maps from that BTF. */
static void test_libbpf_and_kernel(void **state)
{
    (void)state;
    bpflua_object *obj = v1_object();
    size_t len = 0;
    void *buf = to_elf(obj, &len);
    libbpf_print_fn_t old = libbpf_set_print(NULL);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "v1");
    struct bpf_object *bo = bpf_object__open_mem(buf, len, &opts);
    assert_non_null(bo);
    struct btf *btf = bpf_object__btf(bo);
    struct bpf_map *m = bpf_object__find_map_by_name(bo, "flows");
    assert_non_null(m);
    const struct btf_type *kt = btf__type_by_id(btf, bpf_map__btf_key_type_id(m));
    assert_non_null(kt);
    assert_string_equal(btf__name_by_offset(btf, kt->name_off), "Flow");
    const struct btf_type *vt = btf__type_by_id(btf, bpf_map__btf_value_type_id(m));
    assert_string_equal(btf__name_by_offset(btf, vt->name_off), "Stats");
    assert_int_equal(btf_vlen(kt), 5);
    assert_int_equal(btf_members(kt)[3].offset, 80); /* dport at byte 10 */
    assert_true(btf__find_by_name_kind(btf, "__bpflua_event__drops", BTF_KIND_TYPEDEF) > 0);
    assert_true(btf__find_by_name_kind(btf, "__bpflua_event__counts", BTF_KIND_TYPEDEF) > 0);
    m = bpf_object__find_map_by_name(bo, "blocked");
    assert_int_equal(bpf_map__type(m), BPF_MAP_TYPE_LPM_TRIE);
    assert_int_equal(bpf_map__map_flags(m), 1);
    int rc = bpf_object__load(bo);
    libbpf_set_print(old);
    if (rc == -EPERM || rc == -ENOSYS) {
        print_message("kernel part skipped: bpf(2) not available (%d)\n", rc);
    } else {
        assert_int_equal(rc, 0);
        m = bpf_object__find_map_by_name(bo, "flows");
        assert_true(bpf_map__fd(m) >= 0);
    }
    bpf_object__close(bo);
    free(buf);
    bpflua_object_free(obj);
}

static void test_bad_records(void **state)
{
    (void)state;
    bpflua_object *obj = bpflua_object_new();
    struct bpflua_field dup[] = { { "a", 0, 4, 0 }, { "a", 4, 4, 0 } };
    struct bpflua_field odd[] = { { "a", 0, 3, 0 } };
    struct bpflua_field out[] = { { "a", 6, 4, 0 } };
    struct bpflua_field noname[] = { { "", 0, 4, 0 } };
    assert_int_equal(bpflua_object_add_record(obj, "R", 8, dup, 2), -EINVAL);
    assert_non_null(strstr(bpflua_object_error(obj), "duplicate"));
    assert_int_equal(bpflua_object_add_record(obj, "R", 8, odd, 1), -EINVAL);
    assert_int_equal(bpflua_object_add_record(obj, "R", 8, out, 1), -EINVAL);
    assert_int_equal(bpflua_object_add_record(obj, "R", 8, noname, 1), -EINVAL);
    assert_int_equal(bpflua_object_add_record(obj, "R", 0, NULL, 0), -EINVAL);
    assert_int_equal(bpflua_object_add_record(obj, NULL, 8, dup, 1), -EINVAL);
    assert_int_equal(bpflua_object_add_record(obj, "R", 8, dup, 1), 0);
    assert_null(bpflua_record_info(obj, 1, NULL, NULL));
    /* a map's record must exist and have the key/value size */
    struct bpflua_map_spec bad = { .name = "m", .type = BPFLUA_MAP_HASH, .key_size = 4,
                                   .value_size = 8, .max_entries = 4, .key_record = 1 };
    assert_int_equal(bpflua_object_add_map(obj, &bad), -EINVAL);
    bad.key_record = 0;
    bad.value_record = 2;
    assert_int_equal(bpflua_object_add_map(obj, &bad), -EINVAL);
    bad.value_record = 1;
    bad.event_type = BPFLUA_EVENT_RECORD; /* not a ring buffer */
    assert_int_equal(bpflua_object_add_map(obj, &bad), -EINVAL);
    bad.event_type = 0;
    assert_int_equal(bpflua_object_add_map(obj, &bad), 0);
    /* init: not on a ring buffer, not beyond max_entries */
    uint8_t k[4] = { 0 }, v[8] = { 0 };
    for (int i = 0; i < 4; i++) {
        k[0] = (uint8_t)i;
        assert_int_equal(bpflua_map_add_init(obj, 0, k, v), 0);
    }
    assert_int_equal(bpflua_map_add_init(obj, 0, k, v), -E2BIG);
    assert_int_equal(bpflua_map_add_init(obj, 1, k, v), -EINVAL);
    struct bpflua_map_spec rb = { .name = "rb", .type = BPFLUA_MAP_RINGBUF, .max_entries = 4096 };
    assert_int_equal(bpflua_object_add_map(obj, &rb), 1);
    assert_int_equal(bpflua_map_add_init(obj, 1, k, v), -EINVAL);
    bpflua_object_free(obj);
}

/* A damaged .bpflua.init is an error naming the section, never a crash. */
static void test_bad_init_section(void **state)
{
    (void)state;
    bpflua_object *obj = v1_object();
    size_t len = 0;
    uint8_t *buf = to_elf(obj, &len);
    uint8_t *sec = NULL;
    for (size_t i = 0; i + 8 <= len; i++)
        if (memcmp(buf + i, "BLINIT1", 8) == 0)
            sec = buf + i;
    assert_non_null(sec);
    for (size_t off = 0; off < 40; off++)
        for (int bit = 0; bit < 8; bit += 3) {
            sec[off] ^= (uint8_t)(1u << bit);
            char *err = NULL;
            bpflua_object *back = bpflua_object_from_elf(buf, len, "bad.o", &err);
            if (!back)
                assert_non_null(err);
            bpflua_object_free(back);
            free(err);
            sec[off] ^= (uint8_t)(1u << bit);
        }
    /* the count of the first map's entries, made huge */
    memset(sec + 8 + 4 + 7 + 8, 0xff, 4);
    char *err = NULL;
    assert_null(bpflua_object_from_elf(buf, len, "bad.o", &err));
    assert_non_null(strstr(err, ".bpflua.init"));
    free(err);
    free(buf);
    bpflua_object_free(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_libbpf_and_kernel),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_bad_init_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
