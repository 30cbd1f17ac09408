/* events.h - draining ring buffers into the event log (engine/events_drain.c). */
#ifndef BPFLUA_EVENTS_H
#define BPFLUA_EVENTS_H

#include "bpflua.h"

/* Pops every record of the object's own ring buffers into its event log
 * (keep) or counts them (not kept: runs after the first), and takes their
 * drop counts. 0 or -ENOMEM. */
int bl_events_drain(bpflua_object *obj, int keep);

#endif
