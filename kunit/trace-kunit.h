/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit suites for module/trace.c and module/ring.c, included at the end of
 * trace.c when built with COWTRACE_KUNIT=y (walk-kunit.h says why).
 *
 *   cowtrace_fault_classify  every before/after pair of entries a fault can
 *                            leave, and the event it is (a parameterised
 *                            table: the definition of each event kind)
 *   cowtrace_ring            bounded ring: order, seq numbers, loss counting
 *   cowtrace_fork_count      what fork's probes count, what that costs, and
 *                            a fork that lost its slot
 */
#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>

#include "borrowed-mm.h"

/* ---- cowtrace_fault_classify ------------------------------------------- */

#define OLD 0x1000UL
#define NEW 0x2000UL

/* Entries as the fault handler reads them. */
enum entry {
	NONE, /* pte_none */
	ANON_RO, /* an anonymous page, read-only */
	ANON_RW, /* an anonymous page, writable */
	ANON_RW_PMD, /* a whole THP, writable */
	ZERO_RO, /* the shared zero page */
	FILE_RO, /* a page-cache page, read-only */
	FILE_RW, /* a page-cache page, writable */
	SWAP, /* swap, migration: not judged */
};

static struct leaf make_leaf(enum entry e, unsigned long pfn)
{
	struct leaf l = { .pfn = pfn };

	l.present = e != NONE && e != SWAP;
	l.write = e == ANON_RW || e == ANON_RW_PMD || e == FILE_RW;
	l.anon = e == ANON_RO || e == ANON_RW || e == ANON_RW_PMD;
	l.pmd = e == ANON_RW_PMD;
	l.zero = e == ZERO_RO;
	l.ignore = e == SWAP;
	return l;
}

enum vma_kind { ANON_PRIVATE, ANON_SHARED, FILE_PRIVATE, FILE_SHARED };

struct classify_case {
	const char *desc;
	enum vma_kind vma;
	bool write;
	enum entry before, after;
	unsigned long before_pfn, after_pfn;
	u16 kind;
	u16 flags;
};

#define W COWTRACE_EVF_WRITE

static const struct classify_case classify_cases[] = {
	/* first touch */
	{ "read of a hole maps the zero page", ANON_PRIVATE, false, NONE,
	  ZERO_RO, 0, NEW, COWTRACE_EV_ANON_ZERO, 0 },
	{ "write to a hole maps a new page", ANON_PRIVATE, true, NONE, ANON_RW,
	  0, NEW, COWTRACE_EV_ANON_NEW, W },
	{ "write to a private file hole copies the file page", FILE_PRIVATE,
	  true, NONE, ANON_RW, 0, NEW, COWTRACE_EV_WP_COPY,
	  W | COWTRACE_EVF_FILE },
	{ "read of a file hole maps the page cache: no event", FILE_PRIVATE,
	  false, NONE, FILE_RO, 0, OLD, 0, 0 },
	{ "write to a shared file hole: no event", FILE_SHARED, true, NONE,
	  FILE_RW, 0, OLD, 0, 0 },
	/* write-protect faults */
	{ "write to a shared anon page copies it", ANON_PRIVATE, true, ANON_RO,
	  ANON_RW, OLD, NEW, COWTRACE_EV_WP_COPY, W },
	{ "write to the last sharer's page reuses it", ANON_PRIVATE, true,
	  ANON_RO, ANON_RW, OLD, OLD, COWTRACE_EV_WP_REUSE, W },
	{ "write to the zero page replaces it", ANON_PRIVATE, true, ZERO_RO,
	  ANON_RW, OLD, NEW, COWTRACE_EV_WP_ZERO, W },
	{ "write to a mapped private file page copies it", FILE_PRIVATE, true,
	  FILE_RO, ANON_RW, OLD, NEW, COWTRACE_EV_WP_COPY,
	  W | COWTRACE_EVF_FILE },
	{ "write to a MAP_SHARED file page is a shared write", FILE_SHARED,
	  true, FILE_RO, FILE_RW, OLD, OLD, COWTRACE_EV_WP_SHARED, W },
	{ "write to shared anon (shmem) is a shared write", ANON_SHARED, true,
	  FILE_RO, FILE_RW, OLD, OLD, COWTRACE_EV_WP_SHARED, W },
	{ "write that leaves the entry read-only is other", ANON_PRIVATE, true,
	  ANON_RO, ANON_RO, OLD, OLD, COWTRACE_EV_WP_OTHER, W },
	{ "write that leaves no entry is other", ANON_PRIVATE, true, ANON_RO,
	  NONE, OLD, 0, COWTRACE_EV_WP_OTHER, W },
	{ "unshare (read-only GUP pin) copies", ANON_PRIVATE, false, ANON_RO,
	  ANON_RO, OLD, NEW, COWTRACE_EV_WP_COPY, COWTRACE_EVF_UNSHARE },
	{ "PMD reuse of a whole THP", ANON_PRIVATE, true, ANON_RO, ANON_RW_PMD,
	  OLD, OLD, COWTRACE_EV_WP_REUSE, W | COWTRACE_EVF_PMD },
	/* not events */
	{ "write to a writable entry (dirty/young bit): no event", ANON_PRIVATE,
	  true, ANON_RW, ANON_RW, OLD, OLD, 0, 0 },
	{ "read of a present page: no event", ANON_PRIVATE, false, ANON_RO,
	  ANON_RO, OLD, OLD, 0, 0 },
	{ "swap-in: not judged", ANON_PRIVATE, true, SWAP, ANON_RW, OLD, NEW, 0,
	  0 },
};

static void classify_desc(const struct classify_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(classify, classify_cases, classify_desc);

static void fault_classify(struct kunit *test)
{
	const struct classify_case *c = test->param_value;
	struct fault_data d = {
		.fault_flags = c->write ? FAULT_FLAG_WRITE : 0,
		.shared = c->vma == ANON_SHARED || c->vma == FILE_SHARED,
		.anon_vma = c->vma == ANON_PRIVATE,
		.file_private = c->vma == FILE_PRIVATE,
		.before = make_leaf(c->before, c->before_pfn),
	};
	struct leaf after = make_leaf(c->after, c->after_pfn);
	u16 flags = 0;

	KUNIT_EXPECT_EQ(test, classify_fault(&d, &after, &flags), c->kind);
	if (c->kind)
		KUNIT_EXPECT_EQ(test, flags, c->flags);
}

static struct kunit_case classify_test_cases[] = {
	KUNIT_CASE_PARAM(fault_classify, classify_gen_params),
	{}
};

static struct kunit_suite cowtrace_fault_classify_suite = {
	.name = "cowtrace_fault_classify",
	.test_cases = classify_test_cases,
};

/* ---- cowtrace_ring ------------------------------------------------------ */

static void ring_push_kind(u16 kind)
{
	struct cowtrace_event ev = { .kind = kind };

	cowtrace_ring_push(&ev);
}

/* A full ring keeps the oldest events and counts the rest, seq and all. */
static void ring_keeps_oldest_counts_lost(struct kunit *test)
{
	struct cowtrace_ring_stats st;
	struct cowtrace_event out[4];
	unsigned int n, i;

	KUNIT_ASSERT_EQ(test, cowtrace_ring_reset(4), 0);
	cowtrace_ring_set_active(true);
	for (i = 0; i < 6; i++)
		ring_push_kind(COWTRACE_EV_WP_COPY);
	ring_push_kind(COWTRACE_EV_FORK);
	cowtrace_ring_stats(&st);
	KUNIT_EXPECT_EQ(test, st.produced, 7);
	KUNIT_EXPECT_EQ(test, st.lost, 3);
	KUNIT_EXPECT_EQ(test, st.queued, 4);
	KUNIT_EXPECT_EQ(test, st.kind_counts[COWTRACE_EV_WP_COPY], 6);
	KUNIT_EXPECT_EQ(test, st.kind_counts[COWTRACE_EV_FORK], 1);

	n = cowtrace_ring_pop(out, ARRAY_SIZE(out));
	KUNIT_ASSERT_EQ(test, n, 4);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, out[i].seq, i + 1);
	/* room again: the next event lands, its seq shows the gap */
	ring_push_kind(COWTRACE_EV_EXIT);
	KUNIT_ASSERT_EQ(test, cowtrace_ring_pop(out, 1), 1);
	KUNIT_EXPECT_EQ(test, out[0].seq, 8);
	KUNIT_EXPECT_EQ(test, out[0].kind, COWTRACE_EV_EXIT);

	/* stopped: nothing more is taken, and a reader is not kept waiting */
	cowtrace_ring_set_active(false);
	ring_push_kind(COWTRACE_EV_WP_COPY);
	cowtrace_ring_stats(&st);
	KUNIT_EXPECT_EQ(test, st.produced, 8);
	KUNIT_EXPECT_EQ(test, cowtrace_ring_wait(false), 0);
	KUNIT_EXPECT_EQ(test, cowtrace_ring_pop(out, 1), 0);
}

/* A non-blocking wait on an empty, active ring says so. */
static void ring_nonblocking_wait(struct kunit *test)
{
	KUNIT_ASSERT_EQ(test, cowtrace_ring_reset(4), 0);
	cowtrace_ring_set_active(true);
	KUNIT_EXPECT_EQ(test, cowtrace_ring_wait(true), -EAGAIN);
	ring_push_kind(COWTRACE_EV_EXIT);
	KUNIT_EXPECT_EQ(test, cowtrace_ring_wait(true), 0);
	cowtrace_ring_set_active(false);
}

static struct kunit_case ring_test_cases[] = {
	KUNIT_CASE(ring_keeps_oldest_counts_lost),
	KUNIT_CASE(ring_nonblocking_wait),
	{}
};

static struct kunit_suite cowtrace_ring_suite = {
	.name = "cowtrace_ring",
	.test_cases = ring_test_cases,
};

/* ---- cowtrace_fork_count ----------------------------------------------- */

/*
 * A 1 TiB MAP_NORESERVE reservation with one page written: fork's probes run
 * count_range() over it three times with preemption off.  They must find the
 * page, and take a step per entry of the one PMD table there and per empty
 * upper entry: about a thousand, where a step per 2 MiB is half a million.
 */
static void count_range_skips_empty_upper_levels(struct kunit *test)
{
	const unsigned long len = 1UL << 40;
	struct range_count c = {};
	unsigned long addr, bound;
	int err = 0;

	/* in insmod's mm: no assertion, no skip (borrowed-mm.h) */
	kthread_use_mm(borrowed_mm);
	addr = vm_mmap(NULL, 0, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0);
	if (!IS_ERR_VALUE(addr)) {
		err = put_user('x', (char __user *)addr + len / 2);
		if (!err)
			count_range(borrowed_mm, addr, addr + len, &c);
		vm_munmap(addr, len);
	}
	kthread_unuse_mm(borrowed_mm);

	if (IS_ERR_VALUE(addr))
		kunit_skip(test, "no room for a 1 TiB reservation");
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "put_user() in the reservation");
	/* a 4 KiB page, or a THP where the THP mode is "always" */
	KUNIT_EXPECT_TRUE(test, c.present == 1 || c.present == PTRS_PER_PTE);
	KUNIT_EXPECT_EQ(test, c.writable, c.present);
	/* the P4D entries it spans, each a PUD table; the one PMD table */
	bound = (len / P4D_SIZE + 2) * PTRS_PER_PUD + PTRS_PER_PMD;
	KUNIT_EXPECT_LE(test, c.steps, bound);
	KUNIT_EXPECT_LT(test, c.steps, len / PMD_SIZE / 64);
}

/*
 * A fork whose entry took a slot that no slot holds at return (which nothing
 * does today, but a probe must not oops if a change ever lets it happen):
 * the counts are unknown, so the event is counted lost, not pushed.
 */
static void clone_return_without_its_slot_loses_the_event(struct kunit *test)
{
	struct kretprobe_instance *ri;
	struct cowtrace_ring_stats before, after;
	struct pt_regs regs = {};
	struct clone_data *d;

	ri = kunit_kzalloc(test, sizeof(*ri) + sizeof(*d), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ri);
	d = (void *)ri->data;
	d->have_slot = true;
	memset(fork_slots, 0, sizeof(fork_slots));
	regs_set_return_value(&regs, 4242); /* a child's pid */
	KUNIT_ASSERT_EQ(test, cowtrace_ring_reset(4), 0);
	cowtrace_ring_set_active(true);
	cowtrace_ring_stats(&before);
	KUNIT_EXPECT_EQ(test, clone_return(ri, &regs), 0);
	cowtrace_ring_stats(&after);
	cowtrace_ring_set_active(false);
	KUNIT_EXPECT_EQ(test, after.lost, before.lost + 1);
	KUNIT_EXPECT_EQ(test, after.produced, before.produced);
}

static struct kunit_case count_test_cases[] = {
	KUNIT_CASE(count_range_skips_empty_upper_levels),
	KUNIT_CASE(clone_return_without_its_slot_loses_the_event),
	{}
};

static struct kunit_suite cowtrace_fork_count_suite = {
	.name = "cowtrace_fork_count",
	.suite_init = borrowed_mm_init,
	.suite_exit = borrowed_mm_exit,
	.test_cases = count_test_cases,
};

kunit_test_suites(&cowtrace_fault_classify_suite, &cowtrace_ring_suite,
		  &cowtrace_fork_count_suite);
