/* attach_tc.h - tc programs on the clsact qdisc of an interface (vm/attach_tc.c). */
#ifndef BPFLUA_ATTACH_TC_H
#define BPFLUA_ATTACH_TC_H

#include <stdint.h>

/* bpflua's own filter on a hook: always this handle and priority */
#define BL_TC_HANDLE 0xb1fu
#define BL_TC_PRIO 0xb1fu

struct bl_tc_state {
    int ifindex, egress;
    int created_qdisc;   /* the clsact qdisc was added by us */
    int attached;
    uint32_t prog_id;
};

/* Adds the clsact qdisc if the interface has none, then our direct-action
 * filter. -EEXIST (with a message) when the hook already has bpflua's. */
int bl_tc_attach(struct bl_tc_state *st, int ifindex, int egress, int prog_fd, char **err);
/* Removes our filter (if it is still our program) and the qdisc if we added
 * it and no filter is left. Async-signal tolerable: no allocation of ours. */
int bl_tc_detach(struct bl_tc_state *st);
/* The program id of bpflua's filter on the hook; -ENOENT if none. */
int bl_tc_prog_id(int ifindex, int egress, uint32_t *prog_id);
/* `bpflua detach`: removes bpflua's filters from both hooks (*found: how
 * many) and the clsact qdisc when it is left empty. */
int bl_tc_detach_dev(int ifindex, int *found);

#endif
