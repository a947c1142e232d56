/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for guest tests: snapshots that must work, and the cross-check. */
#ifndef COWTRACE_GUEST_UTIL_H
#define COWTRACE_GUEST_UTIL_H

#include "../puppet.h"
#include "../snapshot.h"
#include "harness.h"

#define PAGE 4096ul

/* Snapshot pid through the module, cross-check it against procfs, return it. */
void snap_checked(pid_t pid, struct ct_snapshot *s);
/* Like snap_checked over [start, start+len). */
void snap_range_checked(pid_t pid, uint64_t start, uint64_t len,
			struct ct_snapshot *s);
/* Compare a module snapshot with a procfs one field by field (both ways). */
void crosscheck(const struct ct_snapshot *mod, const struct ct_snapshot *proc);

/* The page record at addr; fails the test if the page is not populated. */
const struct cowtrace_page *page_at(const struct ct_snapshot *s, uint64_t addr);

uint64_t must_call(struct puppet *p, enum puppet_op op, uint64_t a, uint64_t b,
		   uint64_t c);
void must_spawn(struct puppet *p);
void must_fork(struct puppet *parent, struct puppet *child);

/* The ioctl endpoint, read-write; fails the test when it cannot be opened. */
int must_open_ctl(void);

/* Is e one of the n errnos in list? */
int errno_in(const int *list, size_t n, int e);

/*
 * How a run of ioctls ended, for tests that hammer them: calls, successes,
 * each errno, and those not in the allowed list (the test's expectation).
 */
struct errno_tally {
	const int *allowed;
	size_t nr_allowed;
	int calls, ok, unexpected;
	int by_errno[256];
};

void tally_errno(struct errno_tally *t, int err);	/* err 0: success */
/* "# WHAT: N calls, N ok, N EINVAL, ..." */
void print_errno_tally(const char *what, const struct errno_tally *t);
/* "EINVAL"; glibc before 2.32 (Debian 11) has no strerrorname_np() */
const char *errno_name(int e);

int write_file(const char *path, const char *val);
long read_long(const char *path);
/* Does /sys/kernel/mm/transparent_hugepage/enabled allow MADV_HUGEPAGE? */
int thp_enabled(void);

#define PTE(r, bit) (!!((r)->flags & COWTRACE_PTE_##bit))
#define PG(r, bit) (!!((r)->flags & COWTRACE_PG_##bit))
/*
 * "r is PageAnonExclusive", as snapshot s can know it: before 5.19 the
 * kernel has no such flag, the snapshot marks it unavailable, and no page
 * may carry the bit.
 */
#define EXCLUSIVE(s, r) (((s)->unavailable & CT_UNAVAIL_ANON_EXCL) ? \
			 !PG(r, ANON_EXCL) : PG(r, ANON_EXCL))

#endif
