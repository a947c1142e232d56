/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A module's coverage through KCOV, used the way
 * Documentation/dev-tools/kcov.rst shows: the PCs one thread's system calls
 * ran through, kept where they fall in the module's text, and the set of
 * those reached so far.  The debug kernels instrument the module alone
 * (CONFIG_KCOV_INSTRUMENT_ALL=n, KCOV_INSTRUMENT in module/Kbuild), but the
 * range is checked all the same: on a kernel built otherwise, the kernel's
 * own PCs are in the trace too.
 */
#ifndef COWTRACE_KCOV_H
#define COWTRACE_KCOV_H

#include <stddef.h>
#include <stdint.h>

struct kcov {
	int fd;
	unsigned long *area;	/* area[0]: how many PCs follow */
	size_t words;
	uint64_t lo, hi;	/* the module's text, [lo, hi) */
	uint64_t offset;	/* added to a traced PC: KCOV takes KASLR's off */
	unsigned char *seen;	/* a bit per byte of [lo, hi): a PC reached */
	size_t distinct;	/* bits set in seen */
	unsigned long overflows;	/* calls with more PCs than area holds */
};

/*
 * Open /sys/kernel/debug/kcov, size and map the trace buffer.  -1 with why
 * set where this kernel has no KCOV (a test skips); any other failure
 * fails the test.
 */
int kcov_open(struct kcov *k, char *why, size_t whylen);

/*
 * Find the text of the loaded module name (its sections in /sys/module,
 * kptr_restrict lowered for the read if it hides them).  -1 with why set.
 */
int kcov_find_module(struct kcov *k, const char *name, char *why, size_t whylen);

/* Trace this thread's system calls from now on (KCOV_TRACE_PC). */
void kcov_enable(struct kcov *k);
/* Forget what was traced: the next call's PCs start here. */
void kcov_reset(struct kcov *k);
/*
 * Settle the offset from the PCs traced since the reset, of a call that
 * runs the module's code: 0, or KASLR's, whichever puts them in its text.
 * How many of them are in it then (0: KCOV does not see the module).
 */
size_t kcov_settle_offset(struct kcov *k);
/*
 * Merge the module's PCs traced since the reset into the set: how many
 * were new; *traced, if not NULL, says how many the module ran in all.
 */
size_t kcov_collect(struct kcov *k, size_t *traced);
/* KCOV_DISABLE, and everything freed. */
void kcov_close(struct kcov *k);

#endif
