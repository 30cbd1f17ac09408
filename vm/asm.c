/* asm.c - assembler for the bpf_conformance text form, plus bpflua's
 * directives (docs/asm.md): `.map`, `lddw %rN, map:NAME`, `lddw %rN,
 * func:LABEL`. Two passes: instructions are encoded as lines are read,
 * label references are recorded and patched once every label is known.
 * Errors read "name:line: message"; the first one ends assembly.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"

enum fix_kind { FIX_JUMP_OFF, FIX_JA32, FIX_CALL_LOCAL, FIX_FUNC };

struct fixup {
    uint32_t pc;
    unsigned line;
    enum fix_kind kind;
    char label[BL_NAME_MAX];
};

struct label { char name[BL_NAME_MAX]; uint32_t pc; };

struct assembler {
    const char *name;
    unsigned line;              /* current line, for errors */
    unsigned first_line;        /* line of the text's first line */
    char *err;                  /* first error */
    struct bl_insn *insns;
    uint32_t n, cap;
    struct bpflua_line_info *lines; /* one per instruction */
    struct label *labels;
    uint32_t n_labels, cap_labels;
    struct fixup *fixups;
    uint32_t n_fixups, cap_fixups;
    bpflua_object *obj;
    char (*func_names)[BL_NAME_MAX]; /* names made up for unlabelled functions */
};

/* kinds of operand text */
enum operand_kind { OPND_REG, OPND_IMM, OPND_MEM, OPND_SYMBOL };

struct operand {
    enum operand_kind kind;
    unsigned reg;
    int64_t value;              /* imm, or mem offset */
    int imm_wide;               /* an imm beyond 32 bits */
    char text[BL_NAME_MAX + 16];
};

#define MAX_OPERANDS 3

__attribute__((format(printf, 2, 3)))
static int fail(struct assembler *as, const char *fmt, ...)
{
    if (as->err)
        return -EINVAL;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    as->err = bl_asprintf("%s:%u: %s", as->name, as->line, msg);
    return -EINVAL;
}

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    uint32_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

static int emit(struct assembler *as, struct bl_insn insn)
{
    if (as->n >= 1000000)
        return fail(as, "program too long");
    uint32_t cap = as->cap;
    if (grow((void **)&as->insns, &cap, as->n + 1, sizeof *as->insns) ||
        grow((void **)&as->lines, &as->cap, as->n + 1, sizeof *as->lines))
        return fail(as, "out of memory");
    as->lines[as->n] = (struct bpflua_line_info){ as->n, as->line - as->first_line + 1, 1 };
    as->insns[as->n++] = insn;
    return 0;
}

static int add_fixup(struct assembler *as, enum fix_kind kind, const char *label)
{
    if (strlen(label) >= BL_NAME_MAX)
        return fail(as, "label name too long '%s'", label);
    if (grow((void **)&as->fixups, &as->cap_fixups, as->n_fixups + 1, sizeof *as->fixups))
        return fail(as, "out of memory");
    struct fixup *f = &as->fixups[as->n_fixups++];
    f->pc = as->n;
    f->line = as->line;
    f->kind = kind;
    snprintf(f->label, sizeof f->label, "%s", label);
    return 0;
}

static const struct label *find_label(const struct assembler *as, const char *name)
{
    for (uint32_t i = 0; i < as->n_labels; i++)
        if (strcmp(as->labels[i].name, name) == 0)
            return &as->labels[i];
    return NULL;
}

static int define_label(struct assembler *as, const char *name)
{
    if (strlen(name) >= BL_NAME_MAX)
        return fail(as, "label name too long '%s'", name);
    if (find_label(as, name))
        return fail(as, "label '%s' defined twice", name);
    if (grow((void **)&as->labels, &as->cap_labels, as->n_labels + 1, sizeof *as->labels))
        return fail(as, "out of memory");
    struct label *l = &as->labels[as->n_labels++];
    snprintf(l->name, sizeof l->name, "%s", name);
    l->pc = as->n;
    return 0;
}

/* ---- operand parsing ----------------------------------------------------- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

static int is_ident_start(int c) { return isalpha(c) || c == '_' || c == '.'; }
static int is_ident_char(int c) { return isalnum(c) || c == '_' || c == '.'; }

static int parse_reg(struct assembler *as, const char *s, unsigned *reg)
{
    const char *p = s;
    if (*p == '%')
        p++;
    if (*p != 'r' || !isdigit((unsigned char)p[1]))
        return fail(as, "bad register '%s'", s);
    char *end;
    unsigned long r = strtoul(p + 1, &end, 10);
    if (*end || r > 10)
        return fail(as, "bad register '%s'", s);
    *reg = (unsigned)r;
    return 0;
}

/* A decimal or 0x number with optional sign, fitting in 64 bits. */
static int parse_number(const char *s, int64_t *out, int *wide)
{
    int neg = 0;
    const char *p = s;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(p, &end, 0);
    if (*end || errno)
        return -EINVAL;
    if (neg && v > (1ULL << 63))
        return -EINVAL;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    /* 32-bit immediates may be written signed or as the unsigned pattern */
    *wide = neg ? v > (1ULL << 31) : v > 0xffffffffULL;
    return 0;
}

static int parse_operand(struct assembler *as, char *s, struct operand *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->text, sizeof o->text, "%s", s);
    if (*s == '[') {
        size_t len = strlen(s);
        if (len < 3 || s[len - 1] != ']')
            return fail(as, "bad memory operand '%s'", s);
        s[len - 1] = '\0';
        char *body = trim(s + 1);
        char *sign = body + strcspn(body, "+-");
        int64_t off = 0;
        int wide = 0;
        if (*sign) {
            char *num = trim(sign);
            if (parse_number(num, &off, &wide) < 0 || off < -32768 || off > 32767)
                return fail(as, "bad offset in memory operand '%s'", o->text);
            *sign = '\0';
        }
        o->kind = OPND_MEM;
        o->value = off;
        return parse_reg(as, trim(body), &o->reg);
    }
    if (*s == '%' || (*s == 'r' && isdigit((unsigned char)s[1]))) {
        o->kind = OPND_REG;
        return parse_reg(as, s, &o->reg);
    }
    if (*s == '+' || *s == '-' || isdigit((unsigned char)*s)) {
        o->kind = OPND_IMM;
        if (parse_number(s, &o->value, &o->imm_wide) < 0)
            return fail(as, "bad number '%s'", s);
        return 0;
    }
    if (is_ident_start((unsigned char)*s)) {
        o->kind = OPND_SYMBOL;
        for (const char *p = s; *p; p++)
            if (!is_ident_char((unsigned char)*p) && *p != ':' && *p != '+' && *p != '-')
                return fail(as, "bad operand '%s'", s);
        return 0;
    }
    return fail(as, "bad operand '%s'", s);
}

static int split_operands(struct assembler *as, char *s, struct operand *ops, int *n)
{
    *n = 0;
    s = trim(s);
    if (!*s)
        return 0;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        if (*n == MAX_OPERANDS)
            return fail(as, "too many operands");
        char *t = trim(s);
        if (!*t)
            return fail(as, "missing operand");
        if (parse_operand(as, t, &ops[(*n)++]) < 0)
            return -EINVAL;
        if (!comma)
            return 0;
        s = comma + 1;
    }
}

/* ---- instructions -------------------------------------------------------- */

static int want(struct assembler *as, const struct operand *ops, int n, const char *mnem,
                const char *shape)
{
    int len = (int)strlen(shape);
    if (n != len)
        return fail(as, "'%s' takes %d operand%s, got %d", mnem, len, len == 1 ? "" : "s", n);
    for (int k = 0; k < n; k++) {
        const struct operand *o = &ops[k];
        switch (shape[k]) {
        case 'r':
            if (o->kind != OPND_REG)
                return fail(as, "'%s': operand %d must be a register, got '%s'", mnem, k + 1, o->text);
            break;
        case 'i':
            if (o->kind != OPND_IMM)
                return fail(as, "'%s': operand %d must be a number, got '%s'", mnem, k + 1, o->text);
            if (o->imm_wide)
                return fail(as, "'%s': immediate '%s' does not fit in 32 bits", mnem, o->text);
            break;
        case 'm':
            if (o->kind != OPND_MEM)
                return fail(as, "'%s': operand %d must be [%%rN+off], got '%s'", mnem, k + 1, o->text);
            break;
        case 't': /* jump target: label or +N/-N */
            if (o->kind != OPND_SYMBOL && o->kind != OPND_IMM)
                return fail(as, "'%s': operand %d must be a label or +offset, got '%s'", mnem, k + 1, o->text);
            break;
        }
    }
    return 0;
}

/* A target operand: a number is pc-relative now; a label is patched later. */
static int target_operand(struct assembler *as, const struct operand *o, enum fix_kind kind,
                          int64_t *rel)
{
    *rel = 0;
    if (o->kind == OPND_IMM) {
        int64_t dest = (int64_t)as->n + 1 + o->value;
        if (dest < 0 || dest > 2000000 || o->imm_wide)
            return fail(as, "jump target out of range '%s'", o->text);
        *rel = o->value;
        return 0;
    }
    return add_fixup(as, kind, o->text);
}

static int encode_lddw(struct assembler *as, const struct operand *ops, int n)
{
    if (n != 2 || ops[0].kind != OPND_REG)
        return fail(as, "'lddw' takes a register and a 64-bit value");
    struct bl_insn lo = { .code = BL_LD | BL_IMM | BL_DW, .dst = ops[0].reg };
    struct bl_insn hi = { 0 };
    const struct operand *v = &ops[1];
    if (v->kind == OPND_IMM) {
        lo.imm = (int32_t)(uint32_t)(uint64_t)v->value;
        hi.imm = (int32_t)(uint32_t)((uint64_t)v->value >> 32);
    } else if (v->kind == OPND_SYMBOL && strncmp(v->text, "map:", 4) == 0) {
        int idx = bpflua_map_find(as->obj, v->text + 4);
        if (idx < 0)
            return fail(as, "undefined map '%s'", v->text + 4);
        lo.src = BL_PSEUDO_MAP_FD;
        lo.imm = idx;
    } else if (v->kind == OPND_SYMBOL && strncmp(v->text, "map_value:", 10) == 0) {
        char name[BL_NAME_MAX];
        const char *plus = strchr(v->text + 10, '+');
        size_t len = plus ? (size_t)(plus - (v->text + 10)) : strlen(v->text + 10);
        if (len >= sizeof name)
            return fail(as, "map name too long");
        memcpy(name, v->text + 10, len);
        name[len] = '\0';
        int idx = bpflua_map_find(as->obj, name);
        if (idx < 0)
            return fail(as, "undefined map '%s'", name);
        int64_t off = 0;
        int wide = 0;
        if (plus && (parse_number(plus + 1, &off, &wide) < 0 || wide || off < 0))
            return fail(as, "bad map_value offset '%s'", v->text);
        lo.src = BL_PSEUDO_MAP_VALUE;
        lo.imm = idx;
        hi.imm = (int32_t)off;
    } else if (v->kind == OPND_SYMBOL && strncmp(v->text, "func:", 5) == 0) {
        lo.src = BL_PSEUDO_FUNC;
        const char *t = v->text + 5;
        if (*t == '+' || *t == '-') {
            struct operand num = { .kind = OPND_IMM };
            snprintf(num.text, sizeof num.text, "%s", t);
            if (parse_number(t, &num.value, &num.imm_wide) < 0)
                return fail(as, "bad function offset '%s'", v->text);
            int64_t rel;
            if (target_operand(as, &num, FIX_FUNC, &rel) < 0)
                return -EINVAL;
            lo.imm = (int32_t)rel;
        } else if (add_fixup(as, FIX_FUNC, t) < 0) {
            return -EINVAL;
        }
    } else {
        return fail(as, "'lddw': bad value '%s'", v->text);
    }
    if (emit(as, lo) < 0)
        return -EINVAL;
    return emit(as, hi);
}

/* Encodes one instruction of op `o` from its operands. */
static int encode(struct assembler *as, int op, const struct operand *ops, int n)
{
    const struct bl_opinfo *o = &bl_ops[op];
    const char *m = o->mnemonic;
    struct bl_insn i = { .code = o->code };
    int64_t rel;
    switch (o->fmt) {
    case BL_FMT_ALU_K:
        if (want(as, ops, n, m, "ri"))
            return -EINVAL;
        i.dst = ops[0].reg;
        i.imm = (int32_t)(uint32_t)(uint64_t)ops[1].value;
        i.off = (int16_t)o->disc;
        break;
    case BL_FMT_ALU_X:
        if (want(as, ops, n, m, "rr"))
            return -EINVAL;
        i.dst = ops[0].reg;
        i.src = ops[1].reg;
        i.off = (int16_t)o->disc;
        break;
    case BL_FMT_NEG:
    case BL_FMT_CALLX:
        if (want(as, ops, n, m, "r"))
            return -EINVAL;
        i.dst = ops[0].reg;
        break;
    case BL_FMT_END:
        if (want(as, ops, n, m, "r"))
            return -EINVAL;
        i.dst = ops[0].reg;
        i.imm = o->disc;
        break;
    case BL_FMT_LDDW:
        return encode_lddw(as, ops, n);
    case BL_FMT_LDABS:
        if (want(as, ops, n, m, "i"))
            return -EINVAL;
        i.imm = (int32_t)ops[0].value;
        break;
    case BL_FMT_LDIND:
        if (want(as, ops, n, m, "ri"))
            return -EINVAL;
        i.src = ops[0].reg;
        i.imm = (int32_t)ops[1].value;
        break;
    case BL_FMT_LDX:
        if (want(as, ops, n, m, "rm"))
            return -EINVAL;
        i.dst = ops[0].reg;
        i.src = ops[1].reg;
        i.off = (int16_t)ops[1].value;
        break;
    case BL_FMT_ST:
        if (want(as, ops, n, m, "mi"))
            return -EINVAL;
        i.dst = ops[0].reg;
        i.off = (int16_t)ops[0].value;
        i.imm = (int32_t)(uint32_t)(uint64_t)ops[1].value;
        break;
    case BL_FMT_STX:
    case BL_FMT_ATOMIC:
        if (want(as, ops, n, m, "mr"))
            return -EINVAL;
        i.dst = ops[0].reg;
        i.off = (int16_t)ops[0].value;
        i.src = ops[1].reg;
        if (o->fmt == BL_FMT_ATOMIC)
            i.imm = o->disc;
        break;
    case BL_FMT_JA:
        if (want(as, ops, n, m, "t") || target_operand(as, &ops[0], FIX_JUMP_OFF, &rel))
            return -EINVAL;
        if (rel < -32768 || rel > 32767)
            return fail(as, "jump target out of range '%s'", ops[0].text);
        i.off = (int16_t)rel;
        break;
    case BL_FMT_JA32:
        if (want(as, ops, n, m, "t") || target_operand(as, &ops[0], FIX_JA32, &rel))
            return -EINVAL;
        i.imm = (int32_t)rel;
        break;
    case BL_FMT_JMP_K:
    case BL_FMT_JMP_X:
        if (want(as, ops, n, m, o->fmt == BL_FMT_JMP_K ? "rit" : "rrt") ||
            target_operand(as, &ops[2], FIX_JUMP_OFF, &rel))
            return -EINVAL;
        if (rel < -32768 || rel > 32767)
            return fail(as, "jump target out of range '%s'", ops[2].text);
        i.dst = ops[0].reg;
        if (o->fmt == BL_FMT_JMP_K)
            i.imm = (int32_t)(uint32_t)(uint64_t)ops[1].value;
        else
            i.src = ops[1].reg;
        i.off = (int16_t)rel;
        break;
    case BL_FMT_CALL:
        if (want(as, ops, n, m, "i"))
            return -EINVAL;
        i.imm = (int32_t)ops[0].value;
        break;
    case BL_FMT_CALL_LOCAL:
        if (want(as, ops, n, m, "t") || target_operand(as, &ops[0], FIX_CALL_LOCAL, &rel))
            return -EINVAL;
        i.src = BL_PSEUDO_CALL;
        i.imm = (int32_t)rel;
        break;
    case BL_FMT_EXIT:
        if (want(as, ops, n, m, ""))
            return -EINVAL;
        break;
    }
    return emit(as, i);
}

static int find_op(const char *mnemonic, int want_reg_source)
{
    int found = -1;
    for (int op = 0; op < BL_OP_COUNT; op++) {
        if (strcmp(bl_ops[op].mnemonic, mnemonic) != 0)
            continue;
        uint8_t fmt = bl_ops[op].fmt;
        int reg_source = fmt == BL_FMT_ALU_X || fmt == BL_FMT_JMP_X;
        int has_variants = fmt == BL_FMT_ALU_K || fmt == BL_FMT_ALU_X ||
                           fmt == BL_FMT_JMP_K || fmt == BL_FMT_JMP_X;
        if (!has_variants || reg_source == want_reg_source)
            return op;
        if (found < 0)
            found = op;
    }
    return found;
}

/* Reads the mnemonic at *s, which is several words for "lock fetch add"
 * and "call local", leaving *s at the operands. */
static size_t next_word(char **s, char *out, size_t cap)
{
    char *p = *s;
    while (isspace((unsigned char)*p))
        p++;
    size_t k = 0;
    while (isalnum((unsigned char)p[k]) && k + 1 < cap) {
        out[k] = p[k];
        k++;
    }
    out[k] = '\0';
    if (k)
        *s = p + k;
    return k;
}

static void read_mnemonic(char **s, char *out, size_t cap)
{
    char word[32];
    out[0] = '\0';
    if (!next_word(s, out, cap))
        return;
    char *peek = *s;
    if (strcmp(out, "lock") == 0) {
        if (next_word(s, word, sizeof word) && strcmp(word, "fetch") == 0) {
            snprintf(out, cap, "lock fetch");
            next_word(s, word, sizeof word);
        }
        snprintf(out + strlen(out), cap - strlen(out), " %s", word);
    } else if (strcmp(out, "call") == 0) {
        if (next_word(&peek, word, sizeof word) && strcmp(word, "local") == 0) {
            snprintf(out, cap, "call local");
            *s = peek;
        }
    }
}

static int assemble_insn(struct assembler *as, char *s)
{
    char mnem[64];
    read_mnemonic(&s, mnem, sizeof mnem);
    if (!mnem[0])
        return fail(as, "expected an instruction, got '%s'", s);
    struct operand ops[MAX_OPERANDS];
    int n;
    if (split_operands(as, s, ops, &n) < 0)
        return -EINVAL;
    /* aliases: swapN = bswapN; "call %rN" = callx */
    char alias[64];
    if (strncmp(mnem, "swap", 4) == 0) {
        snprintf(alias, sizeof alias, "b%.62s", mnem);
        memcpy(mnem, alias, strlen(alias) + 1);
    }
    if (strcmp(mnem, "call") == 0 && n == 1 && ops[0].kind == OPND_REG)
        snprintf(mnem, sizeof mnem, "callx");
    int want_reg = n >= 2 && ops[1].kind == OPND_REG;
    int op = find_op(mnem, want_reg);
    if (op < 0)
        return fail(as, "unknown mnemonic '%s'", mnem);
    return encode(as, op, ops, n);
}

/* .map NAME TYPE key=K value=V entries=N [flags=F] [inner=MAP] */
static int directive_map(struct assembler *as, char *s)
{
    char *save = NULL;
    char *name = strtok_r(s, " \t", &save);
    char *type = strtok_r(NULL, " \t", &save);
    if (!name || !type)
        return fail(as, "'.map' needs NAME TYPE key=K value=V entries=N");
    struct bpflua_map_spec spec = { .name = name };
    spec.type = bl_map_type_by_name(type);
    if (!spec.type)
        return fail(as, "unknown map type '%s' (the kernel's names: hash, array, lru_hash, "
                    "percpu_array, percpu_hash, lpm_trie, ringbuf, ...)", type);
    for (char *kv; (kv = strtok_r(NULL, " \t", &save));) {
        char *eq = strchr(kv, '=');
        int64_t v;
        int wide;
        if (eq && strncmp(kv, "inner=", 6) == 0) { /* maps of maps: the template's name */
            int t = bpflua_map_find(as->obj, eq + 1);
            if (t < 0)
                return fail(as, "inner map '%s' is not defined before", eq + 1);
            spec.inner_map = (uint32_t)t + 1;
            continue;
        }
        if (!eq || parse_number(eq + 1, &v, &wide) < 0 || v < 0 || wide)
            return fail(as, "bad map attribute '%s'", kv);
        *eq = '\0';
        if (strcmp(kv, "key") == 0)
            spec.key_size = (uint32_t)v;
        else if (strcmp(kv, "value") == 0)
            spec.value_size = (uint32_t)v;
        else if (strcmp(kv, "entries") == 0)
            spec.max_entries = (uint32_t)v;
        else if (strcmp(kv, "flags") == 0)
            spec.flags = (uint32_t)v;
        else
            return fail(as, "unknown map attribute '%s'", kv);
    }
    if (bpflua_map_find(as->obj, name) >= 0)
        return fail(as, "map '%s' defined twice", name);
    int rc = bpflua_object_add_map(as->obj, &spec);
    if (rc < 0)
        return *bpflua_object_error(as->obj) ? fail(as, "%s", bpflua_object_error(as->obj))
                                             : fail(as, "bad map '%s': %s", name, strerror(-rc));
    return 0;
}

static int assemble_line(struct assembler *as, char *line)
{
    line[strcspn(line, "#;")] = '\0';
    char *s = trim(line);
    /* "  12: insn" as bpflua_disasm prints it: the index is a comment */
    if (isdigit((unsigned char)*s)) {
        char *p = s;
        while (isdigit((unsigned char)*p))
            p++;
        if (*p == ':')
            s = trim(p + 1);
    }
    if (strncmp(s, ".map", 4) == 0 && (s[4] == '\0' || isspace((unsigned char)s[4])))
        return directive_map(as, s + 4);
    if (*s == '.')
        return fail(as, "unknown directive '%s'", s);
    /* labels: "name:" possibly followed by an instruction */
    while (is_ident_start((unsigned char)*s)) {
        char *p = s;
        while (is_ident_char((unsigned char)*p))
            p++;
        if (*p != ':')
            break;
        *p = '\0';
        if (define_label(as, s) < 0)
            return -EINVAL;
        s = trim(p + 1);
    }
    if (!*s)
        return 0;
    return assemble_insn(as, s);
}

/* ---- second pass: labels ------------------------------------------------- */

/* The pc a label names. An undefined `exit` means the next exit
 * instruction, as the conformance files use it. */
static int resolve(struct assembler *as, const struct fixup *f, int64_t *pc)
{
    const struct label *l = find_label(as, f->label);
    if (l) {
        *pc = l->pc;
        return 0;
    }
    if (strcmp(f->label, "exit") == 0 && f->kind == FIX_JUMP_OFF) {
        for (uint32_t k = f->pc; k < as->n; k++)
            if (as->insns[k].code == (BL_JMP | BL_EXIT)) {
                *pc = k;
                return 0;
            }
    }
    return fail(as, "undefined label '%s'", f->label);
}

static int apply_fixups(struct assembler *as)
{
    for (uint32_t k = 0; k < as->n_fixups; k++) {
        const struct fixup *f = &as->fixups[k];
        as->line = f->line;
        int64_t dest = 0;
        if (resolve(as, f, &dest) < 0)
            return -EINVAL;
        int64_t rel = dest - ((int64_t)f->pc + 1);
        struct bl_insn *i = &as->insns[f->pc];
        if (f->kind == FIX_JUMP_OFF) {
            if (rel < -32768 || rel > 32767)
                return fail(as, "jump target out of range '%s'", f->label);
            i->off = (int16_t)rel;
        } else {
            i->imm = (int32_t)rel;
        }
    }
    /* every target must be an instruction, not past the end nor inside lddw */
    for (uint32_t pc = 0; pc < as->n; pc++) {
        const struct bl_insn *i = &as->insns[pc];
        int op = bl_op_decode(i);
        int64_t dest;
        if (op < 0)
            continue;
        switch (bl_ops[op].fmt) {
        case BL_FMT_JA: case BL_FMT_JMP_K: case BL_FMT_JMP_X:
            dest = (int64_t)pc + 1 + i->off;
            break;
        case BL_FMT_JA32: case BL_FMT_CALL_LOCAL:
            dest = (int64_t)pc + 1 + i->imm;
            break;
        case BL_FMT_LDDW:
            if (i->src != BL_PSEUDO_FUNC) {
                pc++;
                continue;
            }
            dest = (int64_t)pc + 1 + i->imm;
            pc++;
            break;
        default:
            continue;
        }
        as->line = as->lines[pc].line + as->first_line - 1;
        if (dest < 0 || dest >= as->n)
            return fail(as, "jump target out of range '%+lld' (insn %lld, the program has %u)",
                        (long long)(dest - pc - 1), (long long)dest, as->n);
    }
    return 0;
}

/* Function starts: 0, and every `call local` / `func:` target. */
static int collect_funcs(struct assembler *as, const char *main_name,
                         struct bpflua_func_info **out, size_t *n_out)
{
    struct bpflua_func_info *funcs = calloc(as->n + 1, sizeof *funcs);
    as->func_names = calloc(as->n + 1, sizeof *as->func_names);
    if (!funcs || !as->func_names) {
        free(funcs);
        return fail(as, "out of memory");
    }
    size_t n = 0;
    funcs[n++] = (struct bpflua_func_info){ 0, main_name, NULL };
    for (uint32_t pc = 0; pc < as->n; pc++) {
        const struct bl_insn *i = &as->insns[pc];
        int is_call = i->code == (BL_JMP | BL_CALL) && i->src == BL_PSEUDO_CALL;
        int is_func = bl_is_lddw(i) && i->src == BL_PSEUDO_FUNC;
        if (!is_call && !is_func)
            continue;
        uint32_t dest = (uint32_t)((int64_t)pc + 1 + i->imm);
        int seen = 0;
        for (size_t k = 0; k < n; k++)
            seen |= funcs[k].insn == dest;
        if (!seen) {
            const char *name = NULL;
            for (uint32_t l = 0; l < as->n_labels && !name; l++)
                if (as->labels[l].pc == dest)
                    name = as->labels[l].name;
            if (!name) { /* a numeric target: a unique made-up name */
                snprintf(as->func_names[n], BL_NAME_MAX, "func_%u", dest);
                name = as->func_names[n];
            }
            funcs[n++] = (struct bpflua_func_info){ dest, name, NULL };
        }
        if (is_func)
            pc++;
    }
    /* sorted by start */
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && funcs[b - 1].insn > funcs[b].insn; b--) {
            struct bpflua_func_info t = funcs[b];
            funcs[b] = funcs[b - 1];
            funcs[b - 1] = t;
        }
    *out = funcs;
    *n_out = n;
    return 0;
}

/* lddw's second slot may not be a jump target */
static int check_targets_not_mid_lddw(struct assembler *as)
{
    uint8_t *second = calloc(as->n + 1, 1);
    if (!second)
        return fail(as, "out of memory");
    for (uint32_t pc = 0; pc + 1 < as->n; pc++)
        if (bl_is_lddw(&as->insns[pc]))
            second[++pc] = 1;
    int rc = 0;
    for (uint32_t pc = 0; pc < as->n && rc == 0; pc++) {
        if (second[pc])
            continue;
        const struct bl_insn *i = &as->insns[pc];
        int op = bl_op_decode(i);
        if (op < 0)
            continue;
        int64_t dest;
        uint8_t fmt = bl_ops[op].fmt;
        if (fmt == BL_FMT_JA || fmt == BL_FMT_JMP_K || fmt == BL_FMT_JMP_X)
            dest = (int64_t)pc + 1 + i->off;
        else if (fmt == BL_FMT_JA32 || fmt == BL_FMT_CALL_LOCAL ||
                 (fmt == BL_FMT_LDDW && i->src == BL_PSEUDO_FUNC))
            dest = (int64_t)pc + 1 + i->imm;
        else
            continue;
        if (dest >= 0 && dest < as->n && second[dest]) {
            as->line = as->lines[pc].line + as->first_line - 1;
            rc = fail(as, "jump target is the second half of lddw (insn %lld)", (long long)dest);
        }
    }
    free(second);
    return rc;
}

/* program name: the file's base name without extension, as an identifier
 * (the disassembler prints it as a label) */
static void prog_name_from(const char *name, char *out, size_t cap)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t len = strcspn(base, ".");
    if (len == 0)
        base = "prog", len = 4;
    if (len >= cap)
        len = cap - 1;
    for (size_t k = 0; k < len; k++)
        out[k] = is_ident_char((unsigned char)base[k]) ? base[k] : '_';
    out[len] = '\0';
}

bpflua_object *bl_asm_assemble(const char *text, const char *name, unsigned first_line,
                               char **err)
{
    if (!text || !name) {
        bl_set_err(err, "no assembler text");
        return NULL;
    }
    struct assembler as = { .name = name, .obj = bpflua_object_new() };
    char *copy = strdup(text);
    if (!as.obj || !copy) {
        bpflua_object_free(as.obj);
        free(copy);
        bl_set_err(err, "out of memory");
        return NULL;
    }
    as.line = first_line;
    as.first_line = first_line;
    for (char *line = copy, *next; line && !as.err; line = next, as.line++) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        assemble_line(&as, line);
    }
    if (!as.err && as.n == 0) {
        as.line = first_line;
        fail(&as, "no instructions");
    }
    if (!as.err && as.n && bl_is_lddw(&as.insns[as.n - 1]))
        fail(&as, "lddw without its second half");
    if (!as.err)
        apply_fixups(&as);
    if (!as.err)
        check_targets_not_mid_lddw(&as);

    char prog_name[BL_NAME_MAX];
    prog_name_from(name, prog_name, sizeof prog_name);
    struct bpflua_func_info *funcs = NULL;
    size_t n_funcs = 0;
    if (!as.err)
        collect_funcs(&as, prog_name, &funcs, &n_funcs);
    if (!as.err) {
        int rc = bpflua_object_add_prog(as.obj, prog_name, "xdp", as.insns, as.n, funcs, n_funcs,
                                        as.lines, as.n);
        if (rc >= 0)
            rc = bpflua_object_set_source(as.obj, name, text);
        if (rc < 0) {
            as.line = first_line;
            fail(&as, "cannot build the object: %s",
                 *bpflua_object_error(as.obj) ? bpflua_object_error(as.obj) : strerror(-rc));
        }
    }
    free(funcs);
    free(copy);
    free(as.insns);
    free(as.lines);
    free(as.labels);
    free(as.fixups);
    free(as.func_names);
    if (as.err) {
        bpflua_object_free(as.obj);
        if (err)
            *err = as.err;
        else
            free(as.err);
        return NULL;
    }
    return as.obj;
}

bpflua_object *bpflua_object_from_asm(const char *text, const char *name, char **err)
{
    return bl_asm_assemble(text, name ? name : "<asm>", 1, err);
}
