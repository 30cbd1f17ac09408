/* pcap.c - reading classic libpcap capture files.
 *
 * Layout (all fields in the writer's byte order, told by the magic):
 *   global header, 24 bytes: magic u32, version u16 u16, thiszone i32,
 *     sigfigs u32, snaplen u32, linktype u32
 *   per record, 16 bytes: ts_sec u32, ts_frac u32, incl_len u32, orig_len u32,
 *     then incl_len bytes of packet
 * Magic 0xa1b2c3d4 has microsecond timestamps, 0xa1b23c4d nanoseconds;
 * read byte-swapped they say the file is of the other endianness.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_lua.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAPNG_MAGIC  0x0a0d0d0au
#define PCAP_MAX_RECORD (16u << 20)

static uint32_t rd32(const unsigned char *p, int swap)
{
    uint32_t le = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    uint32_t be = (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
    return swap ? be : le;
}

static void perr(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void perr(char **err, const char *fmt, ...)
{
    if (!err)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(*err);
    *err = strdup(msg);
}

void bl_packet_list_free(struct bl_packet_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->pkts[i].data);
    free(l->pkts);
    l->pkts = NULL;
    l->n = 0;
}

int bl_pcap_parse(const void *data, size_t len, struct bl_packet_list *out, char **err)
{
    const unsigned char *buf = data;
    out->pkts = NULL;
    out->n = 0;
    if (len < 24) {
        perr(err, "not a pcap file: %lu bytes, shorter than the 24-byte header",
             (unsigned long)len);
        return -1;
    }
    uint32_t magic = rd32(buf, 0);
    int swap;
    if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS)
        swap = 0;
    else if (rd32(buf, 1) == PCAP_MAGIC_US || rd32(buf, 1) == PCAP_MAGIC_NS)
        swap = 1;
    else if (magic == PCAPNG_MAGIC) {
        perr(err, "pcapng files are not supported: convert with `editcap -F pcap IN OUT`");
        return -1;
    } else {
        perr(err, "not a pcap file: bad magic 0x%08lx", (unsigned long)magic);
        return -1;
    }
    uint32_t major = ((uint32_t)buf[4 + swap] | (uint32_t)buf[5 - swap] << 8);
    if (major != 2) {
        perr(err, "unsupported pcap version %lu", (unsigned long)major);
        return -1;
    }
    size_t cap = 0, off = 24;
    unsigned long index = 0;
    while (off < len) {
        index++;
        if (len - off < 16) {
            perr(err, "truncated pcap file: record %lu header cut short at byte %lu",
                 index, (unsigned long)off);
            goto fail;
        }
        uint32_t incl = rd32(buf + off + 8, swap);
        if (incl > PCAP_MAX_RECORD) {
            perr(err, "corrupt pcap file: record %lu claims %lu bytes", index, (unsigned long)incl);
            goto fail;
        }
        off += 16;
        if (len - off < incl) {
            perr(err, "truncated pcap file: record %lu needs %lu bytes", index, (unsigned long)incl);
            goto fail;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct bl_packet *np = realloc(out->pkts, cap * sizeof *np);
            if (!np) {
                perr(err, "out of memory");
                goto fail;
            }
            out->pkts = np;
        }
        unsigned char *p = malloc(incl ? incl : 1);
        if (!p) {
            perr(err, "out of memory");
            goto fail;
        }
        memcpy(p, buf + off, incl);
        out->pkts[out->n].data = p;
        out->pkts[out->n].len = incl;
        out->n++;
        off += incl;
    }
    return 0;
fail:
    bl_packet_list_free(out);
    return -1;
}

int bl_pcap_read(const char *path, struct bl_packet_list *out, char **err)
{
    size_t len;
    char *buf = bl_read_file(path, &len, err);
    if (!buf)
        return -1;
    char *perr_msg = NULL;
    int rc = bl_pcap_parse(buf, len, out, &perr_msg);
    free(buf);
    if (rc < 0 && err) {
        size_t n = strlen(path) + strlen(perr_msg ? perr_msg : "") + 3;
        free(*err);
        *err = malloc(n);
        if (*err)
            snprintf(*err, n, "%s: %s", path, perr_msg ? perr_msg : "");
    }
    free(perr_msg);
    return rc;
}
