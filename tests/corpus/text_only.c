/* An object with its program in .text and no program section, as PREVAIL's
 * own test objects are built (no SEC): legacy maps, a pointer that is a map
 * value on one path and a stack buffer on the other, dereferenced after
 * the join (both are readable there).
 * unsafe: .text (on one path the pointer is the map value or NULL: the
 *   key may be 1, past the array's one entry)
 */
#include "common.h"

struct legacy_map LEGACY_MAP table = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 512, .max_entries = 1,
};

int pick(void *ctx)
{
    unsigned char buf[256];
    __builtin_memset(buf, 0, sizeof buf);
    __u32 r = bpf_get_prandom_u32(), key = r >> 31;
    unsigned char *val = bpf_map_lookup_elem(&table, &key);
    GOOD(if (!val) return 0;)
    unsigned char *p = (r & 1) ? val : buf + 128;
    return *p ? 1 : 0;
}
