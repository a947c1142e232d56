/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A trace session on the module, for the trace and run commands and the
 * tests: start, read events, stop; and what an event means in bytes copied.
 */
#ifndef COWTRACE_TRACER_H
#define COWTRACE_TRACER_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/cowtrace.h>

#include "snapshot.h"

struct ct_tracer {
	int fd;			/* the session lives as long as this is open */
	uint32_t ring_events;
	/* from the last read: what the module counted, lost events included */
	uint64_t lost;
	uint64_t kind_counts[COWTRACE_EV_NR_KINDS];
	int active;
};

/* Start tracing pid (and, with children, its later descendants). */
int ct_trace_start(struct ct_tracer *t, pid_t pid, int children,
		   struct ct_error *err);
/*
 * Up to cap events into ev; returns how many, 0 when none is waiting
 * (nonblock) or the session has ended and is drained, -1 on error.
 */
int ct_trace_read(struct ct_tracer *t, struct cowtrace_event *ev, unsigned int cap,
		  int nonblock, struct ct_error *err);
/* Stop producing; events already queued can still be read. */
int ct_trace_stop(struct ct_tracer *t, struct ct_error *err);
void ct_trace_close(struct ct_tracer *t);

/* "wp-copy", ...: the names the module's 'events' file uses. */
const char *ct_event_kind_name(unsigned int kind);
/* Bytes a WP_COPY event copied: 4 KiB, or 2 MiB for a PMD; 0 for others. */
uint64_t ct_event_bytes_copied(const struct cowtrace_event *e);
/* One line, as the module's 'events' file prints it (without seq/time). */
void ct_event_format(const struct cowtrace_event *e, char *buf, size_t len);

struct json;
/* One event as a JSON object, per docs/json.md. */
void ct_json_event(struct json *j, const struct cowtrace_event *e);

#endif
