/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit suite for module/text.c, included at its end when built with
 * COWTRACE_KUNIT=y (walk-kunit.h says why).
 *
 *   cowtrace_summary  the summary's walk over a real mm, and how it ends
 */
#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

/* insmod's mm, borrowed as walk-kunit.h does for its walk suite */
static struct mm_struct *summary_mm;

/* enough written pages that the walk needs several chunks */
#define SUMMARY_PAGES (3UL * COWTRACE_CHUNK_PAGES)

static int summary_suite_init(struct kunit_suite *suite)
{
	summary_mm = get_task_mm(current);
	return summary_mm ? 0 : -ESRCH;
}

static void summary_suite_exit(struct kunit_suite *suite)
{
	mmput(summary_mm);
}

/* SUMMARY_PAGES written pages in summary_mm; 0 if there is no room */
static unsigned long summary_map_pages(struct kunit *test)
{
	unsigned long addr, i;

	kthread_use_mm(summary_mm);
	addr = vm_mmap(NULL, 0, SUMMARY_PAGES * PAGE_SIZE,
		       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr)) {
		kthread_unuse_mm(summary_mm);
		return 0;
	}
	for (i = 0; i < SUMMARY_PAGES; i++) {
		char __user *page = (char __user *)addr + i * PAGE_SIZE;

		KUNIT_ASSERT_EQ(test, put_user(1, page), 0);
	}
	kthread_unuse_mm(summary_mm);
	return addr;
}

/* a fresh iterator over summary_mm for each walk, as summary_show() takes */
static int summary_walk(struct page_totals *t)
{
	struct view_iter *it = kvzalloc(sizeof(*it), GFP_KERNEL);
	int err;

	if (!it)
		return -ENOMEM;
	it->mm = summary_mm;
	err = summary_count(it, t);
	kvfree(it);
	return err;
}

/*
 * A reader killed while the summary walks stops after the chunk it is in:
 * -EINTR, at most one chunk's pages counted.  Unkilled, the same walk
 * counts every page.  (Before the fatal-signal check the killed walk went on
 * to the end: mmap_read_lock_killable() does not look at signals when the
 * lock is free.)
 */
static void summary_stops_for_a_fatal_signal(struct kunit *test)
{
	struct page_totals whole = {}, killed = {};
	unsigned long addr = summary_map_pages(test);

	if (!addr)
		kunit_skip(test, "no room for %lu pages in insmod's mm",
			   SUMMARY_PAGES);
	KUNIT_EXPECT_EQ(test, summary_walk(&whole), 0);
	KUNIT_EXPECT_GE(test, whole.present, SUMMARY_PAGES);

	/* a kthread ignores signals unless it allows them */
	allow_signal(SIGKILL);
	send_sig(SIGKILL, current, 1);
	KUNIT_ASSERT_TRUE(test, fatal_signal_pending(current));
	KUNIT_EXPECT_EQ(test, summary_walk(&killed), -EINTR);
	flush_signals(current);
	disallow_signal(SIGKILL);
	KUNIT_EXPECT_LE(test, killed.pages, COWTRACE_CHUNK_PAGES);

	kthread_use_mm(summary_mm);
	vm_munmap(addr, SUMMARY_PAGES * PAGE_SIZE);
	kthread_unuse_mm(summary_mm);
}

static struct kunit_case summary_test_cases[] = {
	KUNIT_CASE(summary_stops_for_a_fatal_signal),
	{}
};

static struct kunit_suite cowtrace_summary_suite = {
	.name = "cowtrace_summary",
	.suite_init = summary_suite_init,
	.suite_exit = summary_suite_exit,
	.test_cases = summary_test_cases,
};

kunit_test_suites(&cowtrace_summary_suite);
