/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc/PID/stat says of a process the scenarios drive but cannot ask:
 * its state (R, S, D, ...), its parent, its name.  For cowtrace run, which
 * waits on a vfork parent (state D) and on an exec'd child.
 */
#ifndef COWTRACE_PROCSTAT_H
#define COWTRACE_PROCSTAT_H

#include <sys/types.h>

struct ct_proc_stat {
	char state;		/* 'R', 'S', 'D', 'Z', ... */
	pid_t ppid;
	char comm[16];
};

/* 0, or -1 if there is no such process (or its stat cannot be read). */
int ct_proc_stat(pid_t pid, struct ct_proc_stat *st);
/* A child of ppid, the first /proc lists, or -1 if it has none. */
pid_t ct_proc_child_of(pid_t ppid);
/*
 * Poll, up to ms milliseconds, until pid is in state (and, if comm is not
 * NULL, has that name).  Returns 0 once it is, else -1 with st as last read.
 */
int ct_proc_wait_state(pid_t pid, char state, const char *comm, int ms, struct ct_proc_stat *st);

#endif
