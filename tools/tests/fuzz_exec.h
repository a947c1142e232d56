/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One fuzzed call, sent and judged, for both ioctl fuzzers.  The call goes
 * out from a copy of its struct (the kernel writes outputs into it; a corpus
 * keeps the input), under the watchdog, with a timer that wakes a blocked
 * call after 50 ms; it must succeed or fail with an errno docs/abi.md lists.
 */
#ifndef COWTRACE_FUZZ_EXEC_H
#define COWTRACE_FUZZ_EXEC_H

#include "fuzz_gen.h"
#include "guest_util.h"

/* Every errno docs/abi.md allows an ioctl to return. */
#define FUZZ_NR_DOCUMENTED 12
extern const int fuzz_documented[FUZZ_NR_DOCUMENTED];

/* How a run of calls was answered. */
struct fuzz_verdicts {
	struct errno_tally t;
	int undocumented;	/* a return or errno not in docs/abi.md */
};

#define FUZZ_VERDICTS_INIT \
	{ .t = { .allowed = fuzz_documented, .nr_allowed = FUZZ_NR_DOCUMENTED } }

/*
 * Seed the generator (printing the seed), give it a live target and a gone
 * pid, arm the wake timer, and map an output buffer from fd, so that
 * SNAP_MMAP calls get as far as the walk.  live is killed by the caller.
 */
void fuzz_exec_setup(int fd, struct puppet *live);

/* Send call number i (who names the fuzzer): 0 or the errno, *ret the return. */
int fuzz_exec(int fd, const struct fuzz_call *c, const char *who, long i, int *ret);

/* Tally the answer; an undocumented one fails the test (the first ten named). */
void fuzz_judge(struct fuzz_verdicts *v, const struct fuzz_call *c, int ret, int err);

/* A call that started a trace session: stop it, so the next can start one. */
void fuzz_end_session(int fd, const struct fuzz_call *c, int ret);

void stop_any_session(int fd);

#endif
