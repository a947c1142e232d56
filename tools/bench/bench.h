/* SPDX-License-Identifier: GPL-2.0 */
/* What every benchmark needs: a monotonic clock, and dying with errno. */
#ifndef COWTRACE_BENCH_H
#define COWTRACE_BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds on CLOCK_MONOTONIC. */
static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "NAME: what: strerror(errno)" on stderr, exit 2. */
static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
	exit(2);
}

#endif
