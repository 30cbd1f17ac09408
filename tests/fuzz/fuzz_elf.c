/* fuzz_elf - hostile ELF files through the reader, verifier and disassembler.
 * Any input must give an object or a clear error: never a crash or an
 * out-of-bounds read (AddressSanitizer watches). */
#include <stdint.h>
#include <stdlib.h>

#include "bpflua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *err = NULL;
    bpflua_object *obj = bpflua_object_from_elf(data, size, "fuzz.o", &err);
    if (obj) {
        for (size_t i = 0; i < bpflua_prog_count(obj) && i < 8; i++) {
            struct bpflua_verify_info info;
            char *verr = NULL;
            bpflua_verify(obj, i, 0, &info, &verr, NULL);
            free(verr);
            free(bpflua_disasm(obj, i, 1));
        }
        bpflua_object_free(obj);
    }
    free(err);
    return 0;
}
