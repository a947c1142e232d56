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

#include "borrowed-mm.h"

/* enough written pages that the walk needs several chunks */
#define SUMMARY_PAGES (3UL * COWTRACE_CHUNK_PAGES)

/*
 * SUMMARY_PAGES written pages in insmod's mm; 0 if there is no room or a
 * write failed.  No assertion while the mm is in use (borrowed-mm.h).
 */
static unsigned long summary_map_pages(void)
{
	unsigned long addr, i;

	kthread_use_mm(borrowed_mm);
	addr = vm_mmap(NULL, 0, SUMMARY_PAGES * PAGE_SIZE,
		       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr)) {
		kthread_unuse_mm(borrowed_mm);
		return 0;
	}
	for (i = 0; i < SUMMARY_PAGES; i++) {
		char __user *page = (char __user *)addr + i * PAGE_SIZE;

		if (put_user(1, page)) {
			vm_munmap(addr, SUMMARY_PAGES * PAGE_SIZE);
			addr = 0;
			break;
		}
	}
	kthread_unuse_mm(borrowed_mm);
	return addr;
}

static void summary_unmap_pages(unsigned long addr)
{
	kthread_use_mm(borrowed_mm);
	vm_munmap(addr, SUMMARY_PAGES * PAGE_SIZE);
	kthread_unuse_mm(borrowed_mm);
}

/*
 * A walk over borrowed_mm as summary_show() does it, with an iterator
 * allocated before any signal is sent: vmalloc gives up for a killed task.
 */
static int summary_walk(struct view_iter *it, struct page_totals *t)
{
	memset(it, 0, sizeof(*it));
	it->mm = borrowed_mm;
	return summary_count(it, t);
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
	struct view_iter *it;
	unsigned long addr;
	bool pending;
	int err;

	it = kvzalloc(sizeof(*it), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, it);
	addr = summary_map_pages();
	if (!addr) {
		kvfree(it);
		kunit_skip(test,
			   "cannot map and write %lu pages in insmod's mm",
			   SUMMARY_PAGES);
	}
	KUNIT_EXPECT_EQ(test, summary_walk(it, &whole), 0);
	KUNIT_EXPECT_GE(test, whole.present, SUMMARY_PAGES);

	/* a kthread ignores signals unless it allows them */
	allow_signal(SIGKILL);
	send_sig(SIGKILL, current, 1);
	pending = fatal_signal_pending(current);
	err = summary_walk(it, &killed);
	flush_signals(current);
	disallow_signal(SIGKILL);
	kvfree(it);
	summary_unmap_pages(addr);

	KUNIT_ASSERT_TRUE(test, pending);
	KUNIT_EXPECT_EQ(test, err, -EINTR);
	KUNIT_EXPECT_LE(test, killed.pages, COWTRACE_CHUNK_PAGES);
}

static struct kunit_case summary_test_cases[] = {
	KUNIT_CASE(summary_stops_for_a_fatal_signal),
	{}
};

static struct kunit_suite cowtrace_summary_suite = {
	.name = "cowtrace_summary",
	.suite_init = borrowed_mm_init,
	.suite_exit = borrowed_mm_exit,
	.test_cases = summary_test_cases,
};

kunit_test_suites(&cowtrace_summary_suite);
