// SPDX-License-Identifier: GPL-2.0
/* Trace sessions on the module's ioctls (see tracer.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "output.h"
#include "tracer.h"

static const char *const kind_names[COWTRACE_EV_NR_KINDS] =
	COWTRACE_EV_NAMES_INIT;

const char *ct_event_kind_name(unsigned int kind)
{
	return kind && kind < COWTRACE_EV_NR_KINDS ? kind_names[kind] : "unknown";
}

uint64_t ct_event_bytes_copied(const struct cowtrace_event *e)
{
	if (e->kind != COWTRACE_EV_WP_COPY)
		return 0;
	return e->flags & COWTRACE_EVF_PMD ? 2u << 20 : 4096;
}

void ct_event_format(const struct cowtrace_event *e, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%u/%u cpu%u %s", e->pid, e->tid, e->cpu,
			 ct_event_kind_name(e->kind));

	if (n < 0 || (size_t)n >= len)
		return;
	if (e->kind == COWTRACE_EV_FORK)
		snprintf(buf + n, len - n, " child=%u vmas=%u ptes=%" PRIu64
			 " wrprotected=%" PRIu64 "%s", e->child_pid, e->fork_vmas,
			 (uint64_t)e->fork_ptes, (uint64_t)e->fork_wrprotected,
			 e->flags & COWTRACE_EVF_VFORK ? " vfork" : "");
	else if (e->kind != COWTRACE_EV_EXIT)
		snprintf(buf + n, len - n, " addr=0x%" PRIx64 " pfn=0x%" PRIx64
			 "->0x%" PRIx64 "%s%s%s%s", (uint64_t)e->address,
			 (uint64_t)e->old_pfn, (uint64_t)e->new_pfn,
			 e->flags & COWTRACE_EVF_WRITE ? " write" : "",
			 e->flags & COWTRACE_EVF_PMD ? " pmd" : "",
			 e->flags & COWTRACE_EVF_FILE ? " file" : "",
			 e->flags & COWTRACE_EVF_UNSHARE ? " unshare" : "");
}

int ct_trace_start(struct ct_tracer *t, pid_t pid, int children,
		   struct ct_error *err)
{
	struct cowtrace_trace_start a = {
		.size = sizeof(a),
		.flags = children ? COWTRACE_TRACE_CHILDREN : 0,
		.pid = pid,
	};

	memset(t, 0, sizeof(*t));
	t->fd = ct_open_ctl(err);
	if (t->fd < 0)
		return -1;
	if (ioctl(t->fd, COWTRACE_IOC_TRACE_START, &a) == 0) {
		t->ring_events = a.ring_events;
		t->active = 1;
		return 0;
	}
	switch (errno) {
	case EBUSY:
		ct_set_error(err, errno, "another trace session is running: stop it with 'echo stop > /sys/kernel/debug/cowtrace/trace'");
		break;
	case ESRCH:
		ct_set_error(err, errno, "no process %d to trace", (int)pid);
		break;
	case ENOENT:
		ct_set_error(err, errno, "this kernel has no probe point '%s', so cowtrace cannot trace here (snapshots still work)",
			     a.missing);
		break;
	case EOPNOTSUPP:
		ct_set_error(err, errno, "this kernel has no kretprobes (CONFIG_KRETPROBES): tracing is not possible, snapshots still work");
		break;
	case ENOTTY:
		ct_set_error(err, errno, "the loaded cowtrace module predates tracing: reload it from this version");
		break;
	default:
		ct_set_error(err, errno, "cannot start tracing pid %d: %s", (int)pid,
			     strerror(errno));
	}
	close(t->fd);
	t->fd = -1;
	return -1;
}

int ct_trace_read(struct ct_tracer *t, struct cowtrace_event *ev, unsigned int cap,
		  int nonblock, struct ct_error *err)
{
	struct cowtrace_trace_read a = {
		.size = sizeof(a),
		.flags = nonblock ? COWTRACE_READ_NONBLOCK : 0,
		.events = (uintptr_t)ev,
		.cap = cap,
	};

	if (ioctl(t->fd, COWTRACE_IOC_TRACE_READ, &a)) {
		if (errno == EAGAIN)
			return 0;
		ct_set_error(err, errno, "reading trace events: %s", strerror(errno));
		return -1;
	}
	t->lost = a.lost;
	t->active = a.active;
	memcpy(t->kind_counts, a.kind_counts, sizeof(t->kind_counts));
	return (int)a.count;
}

int ct_trace_stop(struct ct_tracer *t, struct ct_error *err)
{
	struct cowtrace_trace_stop a = { .size = sizeof(a) };

	if (ioctl(t->fd, COWTRACE_IOC_TRACE_STOP, &a) && errno != ENOENT) {
		ct_set_error(err, errno, "stopping the trace: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void ct_trace_close(struct ct_tracer *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

void ct_json_event(struct json *j, const struct cowtrace_event *e)
{
	json_object(j);
	json_kuint(j, "seq", e->seq);
	json_kuint(j, "time_ns", e->time_ns);
	json_kuint(j, "pid", e->pid);
	json_kuint(j, "tid", e->tid);
	json_kuint(j, "cpu", e->cpu);
	json_kstr(j, "kind", ct_event_kind_name(e->kind));
	if (e->kind == COWTRACE_EV_FORK) {
		json_kuint(j, "child", e->child_pid);
		json_kbool(j, "vfork", !!(e->flags & COWTRACE_EVF_VFORK));
		json_kuint(j, "vmas", e->fork_vmas);
		json_kuint(j, "ptes", e->fork_ptes);
		json_kuint(j, "wrprotected", e->fork_wrprotected);
	} else if (e->kind != COWTRACE_EV_EXIT) {
		json_kuint(j, "addr", e->address);
		json_kuint(j, "old_pfn", e->old_pfn);
		json_kuint(j, "new_pfn", e->new_pfn);
		json_kbool(j, "write", !!(e->flags & COWTRACE_EVF_WRITE));
		json_kbool(j, "pmd", !!(e->flags & COWTRACE_EVF_PMD));
		json_kbool(j, "file", !!(e->flags & COWTRACE_EVF_FILE));
		json_kbool(j, "unshare", !!(e->flags & COWTRACE_EVF_UNSHARE));
	}
	json_end_object(j);
}
