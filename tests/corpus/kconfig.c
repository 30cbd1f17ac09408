/* libbpf-era tools read the running kernel's configuration through
 * __kconfig externs (libbpf fills a read-only .kconfig map): a kprobe
 * returning LINUX_KERNEL_VERSION unless a weak CONFIG_ option is set.
 * tests/cli/corpus.sh runs it and compares with uname.
 */
#include "common.h"

extern int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_BPFLUA_NOT_AN_OPTION __kconfig __weak;

SEC("kprobe/do_nanosleep")
int kernel_version(void *ctx)
{
    if (CONFIG_BPFLUA_NOT_AN_OPTION)
        return 1;
    return LINUX_KERNEL_VERSION;
}
