/* attach_events.h - live events of an attached program (lua/attach_events.c). */
#ifndef BPFLUA_ATTACH_EVENTS_H
#define BPFLUA_ATTACH_EVENTS_H

#include <stdint.h>

#include "attach.h"
#include "bl_lua.h"

struct bl_event_reader;

/* Called for each event: the ring buffer's name, how to read the event and
 * its bytes (l->size of them). A nonzero return stops the current poll. */
typedef int (*bl_event_fn)(void *ud, const char *map, const struct bl_vlayout *l,
                           const void *data);

/* A reader of every ring buffer map of a; layouts (may be NULL) is the
 * bpflua object whose maps of the same names tell the event types. A reader
 * of an attachment without ring buffers is valid and reads nothing. */
struct bl_event_reader *bl_event_reader_new(const struct bl_attachment *a,
                                            const bpflua_object *layouts, bl_event_fn fn,
                                            void *ud, char **err);
/* Waits up to timeout_ms (0: no wait) and delivers what is there; returns
 * the number of events or a negative errno. */
int bl_event_reader_poll(struct bl_event_reader *r, int timeout_ms);
size_t bl_event_reader_count(const struct bl_event_reader *r);
const char *bl_event_reader_name(const struct bl_event_reader *r, size_t i);
uint64_t bl_event_reader_received(const struct bl_event_reader *r, size_t i);
/* Events of buffer i the program could not emit (full buffer), as a
 * bpflua-compiled program counts them in its drops map: 1 and *n, 0 when
 * the program keeps no count (the kernel reports none), or -errno. */
int bl_event_reader_dropped(const struct bl_event_reader *r, size_t i, uint64_t *n);
void bl_event_reader_free(struct bl_event_reader *r);

#endif
