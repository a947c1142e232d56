/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpftrace as a witness for the tests and a baseline for the benchmarks:
 * started with its output in a file, known to be attached once its BEGIN
 * probe has printed a line starting "Tracing", and stopped reliably.
 */
#ifndef COWTRACE_BPFTRACE_RUN_H
#define COWTRACE_BPFTRACE_RUN_H

#include <sys/types.h>

#define BPFTRACE_PATH "/usr/bin/bpftrace"

struct bpftrace_run {
	pid_t pid;
	char out[64]; /* its stdout and stderr; the caller unlinks it */
};

/*
 * Run bpftrace with argv (argv[0] included) and wait up to attach_s seconds
 * for its "Tracing" line.  0 once attached; -1 otherwise, with why set and
 * bpftrace reaped (its output file is kept, to be read).
 */
int bpftrace_start(struct bpftrace_run *r, char *const argv[], int attach_s,
		   const char **why);

/*
 * Stop bpftrace as Ctrl-C would, so that it runs END and prints its maps,
 * and reap it.  Returns 0 if it exited so, 1 if it was still running
 * kill_after_s seconds later and was killed (its END output and maps are
 * then missing).
 */
int bpftrace_stop(struct bpftrace_run *r, int kill_after_s);

#endif
