/* fuzz_asm - text through the assembler. Whatever assembles must
 * disassemble, and the disassembly must assemble back to the same
 * instructions (the round-trip promise). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpflua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_asm(text, "fuzz", &err);
    free(err);
    err = NULL;
    if (obj && bpflua_prog_count(obj) == 1) {
        char *dis = bpflua_disasm(obj, 0, 0);
        if (!dis) {
            fprintf(stderr, "assembled program does not disassemble\n");
            abort();
        }
        bpflua_object *again = bpflua_object_from_asm(dis, "fuzz", &err);
        if (!again) {
            fprintf(stderr, "disassembly does not assemble: %s\n---\n%s\n", err ? err : "?", dis);
            abort();
        }
        size_t n1 = 0, n2 = 0;
        const void *i1 = bpflua_prog_insns(obj, 0, &n1);
        const void *i2 = bpflua_prog_insns(again, 0, &n2);
        if (n1 != n2 || memcmp(i1, i2, n1 * 8) != 0) {
            fprintf(stderr, "round trip changed the instructions\n---\n%s\n", dis);
            abort();
        }
        bpflua_object_free(again);
        free(dis);
    }
    free(err);
    bpflua_object_free(obj);
    free(text);
    return 0;
}
