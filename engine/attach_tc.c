/* attach_tc.c - tc programs on an interface: a direct-action bpf filter on
 * the clsact qdisc's ingress or egress hook (libbpf's bpf_tc_* API).
 *
 * bpflua's filter always has the same handle and priority (BL_TC_HANDLE,
 * BL_TC_PRIO), so it can be told from anyone else's filters: attaching
 * refuses a hook that already has one, and `bpflua detach` removes exactly
 * it. The clsact qdisc is created when the interface has none and removed
 * again on detach only if we created it and no filter is left on it.
 */
#include "attach_tc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <bpf/libbpf.h>

#include "object.h"

static enum bpf_tc_attach_point point(int egress)
{
    return egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

/* Filters (of anyone) on one hook of the clsact qdisc: an RTM_GETTFILTER
 * dump, counted. 0 when there is no qdisc; a negative errno on failure. */
static int count_filters(int ifindex, int egress)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    struct {
        struct nlmsghdr nh;
        struct tcmsg tc;
    } req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = RTM_GETTFILTER;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.nh.nlmsg_seq = 1;
    req.tc.tcm_family = AF_UNSPEC;
    req.tc.tcm_ifindex = ifindex;
    req.tc.tcm_parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
    int n = 0, rc = 0;
    if (send(fd, &req, sizeof req, 0) < 0) {
        rc = -errno;
        goto out;
    }
    for (;;) {
        static __thread char buf[16384] __attribute__((aligned(4)));
        ssize_t len = recv(fd, buf, sizeof buf, 0);
        if (len < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
             h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE)
                goto out;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                rc = h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) ? e->error : -EIO;
                /* no clsact qdisc: no filters */
                if (rc == -EINVAL || rc == -ENOENT)
                    rc = 0;
                goto out;
            }
            if (h->nlmsg_type == RTM_NEWTFILTER)
                n++;
        }
        if (len == 0)
            goto out;
    }
out:
    close(fd);
    return rc < 0 ? rc : n;
}

int bl_tc_attach(struct bl_tc_state *st, int ifindex, int egress, int prog_fd, char **err)
{
    memset(st, 0, sizeof *st);
    st->ifindex = ifindex;
    st->egress = egress;
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point(egress));
    int r = bpf_tc_hook_create(&hook);
    if (r == 0)
        st->created_qdisc = 1;
    else if (r != -EEXIST) {
        bl_set_err(err, "cannot add a clsact qdisc: %s", strerror(-r));
        return r;
    }
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = BL_TC_HANDLE,
                .priority = BL_TC_PRIO);
    r = bpf_tc_attach(&hook, &opts);
    if (r < 0) {
        if (r == -EEXIST)
            bl_set_err(err, "%s already has a bpflua tc program; detach it with "
                       "`bpflua detach --dev IFACE`", egress ? "egress" : "ingress");
        else
            bl_set_err(err, "cannot attach the tc filter: %s", strerror(-r));
        bl_tc_detach(st);
        return r;
    }
    st->prog_id = opts.prog_id;
    st->attached = 1;
    return 0;
}

int bl_tc_prog_id(int ifindex, int egress, uint32_t *prog_id)
{
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point(egress));
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BL_TC_HANDLE, .priority = BL_TC_PRIO);
    int r = bpf_tc_query(&hook, &opts);
    if (r < 0)
        return r;
    *prog_id = opts.prog_id;
    return 0;
}

/* Removes bpflua's filter from one hook: 1 if there was one, 0 if not. */
static int remove_filter(int ifindex, int egress)
{
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point(egress));
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BL_TC_HANDLE, .priority = BL_TC_PRIO);
    int r = bpf_tc_detach(&hook, &opts);
    if (r == -ENOENT || r == -EINVAL)
        return 0; /* no such filter (or no clsact qdisc at all) */
    return r < 0 ? r : 1;
}

/* The clsact qdisc goes when neither hook has a filter left. */
static void remove_qdisc_if_empty(int ifindex)
{
    if (count_filters(ifindex, 0) != 0 || count_filters(ifindex, 1) != 0)
        return;
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
                .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
    bpf_tc_hook_destroy(&hook);
}

int bl_tc_detach(struct bl_tc_state *st)
{
    int r = 0;
    if (st->attached) {
        uint32_t id = 0;
        /* only our program: a filter someone put in its place stays */
        if (bl_tc_prog_id(st->ifindex, st->egress, &id) == 0 && id == st->prog_id)
            r = remove_filter(st->ifindex, st->egress);
        st->attached = 0;
    }
    if (st->created_qdisc)
        remove_qdisc_if_empty(st->ifindex);
    st->created_qdisc = 0;
    return r < 0 ? r : 0;
}

int bl_tc_detach_dev(int ifindex, int *found)
{
    *found = 0;
    for (int egress = 0; egress <= 1; egress++) {
        int r = remove_filter(ifindex, egress);
        if (r < 0)
            return r;
        *found += r;
    }
    /* the qdisc bpflua added for them, when nothing else uses it */
    if (*found)
        remove_qdisc_if_empty(ifindex);
    return 0;
}
