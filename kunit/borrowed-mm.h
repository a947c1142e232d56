/* SPDX-License-Identifier: GPL-2.0 */
/*
 * insmod's mm, borrowed by the KUnit suites that need a real one
 * (cowtrace_walk, cowtrace_summary, cowtrace_fork_count), and the rule for
 * using it.
 *
 * KUnit runs a module's suites from the module notifier, in the insmod
 * process.  borrowed_mm_init(), a suite_init, takes a reference on that
 * process's mm (get_task_mm(): mm_users), borrowed_mm_exit() drops it.  Each
 * case runs in a kthread of its own, which works in the mm between
 * kthread_use_mm(borrowed_mm) and kthread_unuse_mm(borrowed_mm).
 *
 * The rule: nothing that can end a case runs between those two calls, in
 * the case or in any helper it calls there: no KUNIT_ASSERT_*(), no
 * kunit_skip().  A failed assertion or a skip ends the case's kthread at once
 * (kunit_try_catch_throw() -> kthread_complete_and_exit()), still using the
 * mm, and the kthread's exit_mm() then mmput()s an mm_users reference it
 * never took: kthread_use_mm() only mmgrab()s.  insmod's mm is freed under
 * insmod, and a failed test is a use-after-free instead of a "not ok".
 *
 * So while the mm is in use: check with KUNIT_EXPECT_*() only, have helpers
 * return whether they succeeded (an address, 0 for none; a count, negative
 * for a failed check), and leave by one path that ends in
 * kthread_unuse_mm().  Allocate, assert and skip before kthread_use_mm() or
 * after kthread_unuse_mm().  scripts/lint checks this.
 */
#ifndef COWTRACE_KUNIT_BORROWED_MM_H
#define COWTRACE_KUNIT_BORROWED_MM_H

#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>

static struct mm_struct *borrowed_mm;
/* insmod's thread group, for its /proc/PID files */
static pid_t borrowed_tgid;

static int borrowed_mm_init(struct kunit_suite *suite)
{
	borrowed_mm = get_task_mm(current);
	borrowed_tgid = task_tgid_nr(current);
	return borrowed_mm ? 0 : -ESRCH;
}

static void borrowed_mm_exit(struct kunit_suite *suite)
{
	if (borrowed_mm)
		mmput(borrowed_mm);
	borrowed_mm = NULL;
}

#endif /* COWTRACE_KUNIT_BORROWED_MM_H */
