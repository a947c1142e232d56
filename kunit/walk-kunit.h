/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit suites for module/walk.c, included at its end when the module is
 * built with COWTRACE_KUNIT=y (see module/Kbuild).
 *
 * Why compiled into the module rather than a separate test module: the
 * suites drive static helpers (fill_pte, fill_swap_pte) directly, a separate
 * module would need them exported, and 6.1 has no EXPORT_SYMBOL_IF_KUNIT.
 * The stock build carries no test code; the flag is only set for the debug
 * kernel, where loading the module runs the suites.
 *
 *   cowtrace_vma_flags   vm_flags decoding, a parameterised table
 *   cowtrace_pte_decode  PTE and swap-entry decoding into page records
 *   cowtrace_runs        which page record joins the run before it
 *   cowtrace_walk        the walker on a real mm: fault, write-protect, unmap
 */
#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/swapops.h>
#include <linux/uaccess.h>

/* ---- cowtrace_vma_flags ------------------------------------------------ */

struct vma_flags_case {
	const char *desc;
	unsigned long vm_flags;
	bool anon_vma;
	u32 want;
};

static const struct vma_flags_case vma_flags_cases[] = {
	{ "private writable: COW",
	  VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE, true,
	  COWTRACE_VMA_READ | COWTRACE_VMA_WRITE | COWTRACE_VMA_MAYREAD |
		  COWTRACE_VMA_MAYWRITE | COWTRACE_VMA_COW |
		  COWTRACE_VMA_ANON_VMA },
	{ "private read-only text that may be written: still COW",
	  VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC, false,
	  COWTRACE_VMA_READ | COWTRACE_VMA_EXEC | COWTRACE_VMA_MAYREAD |
		  COWTRACE_VMA_MAYWRITE | COWTRACE_VMA_MAYEXEC |
		  COWTRACE_VMA_COW },
	{ "private never writable: not COW", VM_READ | VM_MAYREAD, false,
	  COWTRACE_VMA_READ | COWTRACE_VMA_MAYREAD },
	{ "shared writable: not COW",
	  VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE |
		  VM_MAYSHARE,
	  false,
	  COWTRACE_VMA_READ | COWTRACE_VMA_WRITE | COWTRACE_VMA_SHARED |
		  COWTRACE_VMA_MAYREAD | COWTRACE_VMA_MAYWRITE |
		  COWTRACE_VMA_MAYSHARE },
	{ "MADV_DONTFORK", VM_MAYWRITE | VM_DONTCOPY, false,
	  COWTRACE_VMA_MAYWRITE | COWTRACE_VMA_DONTCOPY | COWTRACE_VMA_COW },
	{ "MADV_WIPEONFORK", VM_MAYWRITE | VM_WIPEONFORK, false,
	  COWTRACE_VMA_MAYWRITE | COWTRACE_VMA_WIPEONFORK | COWTRACE_VMA_COW },
	{ "THP and KSM advice", VM_HUGEPAGE | VM_MERGEABLE, false,
	  COWTRACE_VMA_HUGEPAGE | COWTRACE_VMA_MERGEABLE },
	{ "mlock and PFN map", VM_LOCKED | VM_PFNMAP | VM_IO, false,
	  COWTRACE_VMA_LOCKED | COWTRACE_VMA_PFNMAP | COWTRACE_VMA_IO },
	{ "nothing", 0, false, 0 },
};

static void vma_flags_desc(const struct vma_flags_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vma_flags, vma_flags_cases, vma_flags_desc);

static void vma_flags_decode(struct kunit *test)
{
	const struct vma_flags_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, cowtrace_vma_flags(c->vm_flags, c->anon_vma),
			c->want);
}

static struct kunit_case vma_flags_test_cases[] = {
	KUNIT_CASE_PARAM(vma_flags_decode, vma_flags_gen_params),
	{}
};

static struct kunit_suite cowtrace_vma_flags_suite = {
	.name = "cowtrace_vma_flags",
	.test_cases = vma_flags_test_cases,
};

/* ---- cowtrace_pte_decode ----------------------------------------------- */

/* A page-backed PTE: the page comes from the page allocator, unmapped. */
static struct page *decode_page(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	return page;
}

static struct cowtrace_page decode(pte_t pte)
{
	struct cowtrace_walk w = { .valid_subsection = ULONG_MAX };
	struct cowtrace_page rec = {};

	fill_pte(&w, &rec, pte);
	return rec;
}

static void pte_present_writable_dirty_young(struct kunit *test)
{
	struct page *page = decode_page(test);
	pte_t pte = pfn_pte(page_to_pfn(page), PAGE_KERNEL);
	struct cowtrace_page r;

	r = decode(cowtrace_pte_mkwrite(pte_mkdirty(pte_mkyoung(pte))));
	KUNIT_EXPECT_EQ(test, r.pfn, page_to_pfn(page));
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_PRESENT);
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_DIRTY);
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_YOUNG);
	/* a kernel page: examined, not anonymous, one reference, no mapping */
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PG_PAGE);
	KUNIT_EXPECT_FALSE(test, r.flags & COWTRACE_PG_ANON);
	KUNIT_EXPECT_EQ(test, r.refcount, 1);
	KUNIT_EXPECT_EQ(test, r.mapcount, 0);
	KUNIT_EXPECT_EQ(test, COWTRACE_PAGE_LEVEL(r.flags), COWTRACE_LEVEL_PTE);
	KUNIT_EXPECT_EQ(test, COWTRACE_PAGE_ORDER(r.flags), 0);
	__free_page(page);
}

static void pte_readonly_clean_old(struct kunit *test)
{
	struct page *page = decode_page(test);
	pte_t pte = pfn_pte(page_to_pfn(page), PAGE_KERNEL);
	struct cowtrace_page r;

	r = decode(pte_wrprotect(pte_mkclean(pte_mkold(pte))));
	KUNIT_EXPECT_EQ(test,
			r.flags & (COWTRACE_PTE_WRITE | COWTRACE_PTE_DIRTY |
				   COWTRACE_PTE_YOUNG),
			0);
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_PRESENT);
	__free_page(page);
}

static void pte_compound_page_reports_order(struct kunit *test)
{
	struct page *page = alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
	struct cowtrace_page head, tail;

	KUNIT_ASSERT_NOT_NULL(test, page);
	head = decode(pfn_pte(page_to_pfn(page), PAGE_KERNEL));
	tail = decode(pfn_pte(page_to_pfn(page) + 3, PAGE_KERNEL));
	KUNIT_EXPECT_EQ(test, COWTRACE_PAGE_ORDER(head.flags), 2);
	KUNIT_EXPECT_TRUE(test, head.flags & COWTRACE_PG_HEAD);
	KUNIT_EXPECT_TRUE(test, tail.flags & COWTRACE_PG_TAIL);
	KUNIT_EXPECT_TRUE(test, tail.flags & COWTRACE_PG_THP);
	KUNIT_EXPECT_EQ(test, tail.refcount, 1);
	__free_pages(page, 2);
}

static void pte_special_has_no_page(struct kunit *test)
{
	struct page *page = decode_page(test);
	struct cowtrace_page r;

	r = decode(pte_mkspecial(pfn_pte(page_to_pfn(page), PAGE_KERNEL)));
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_SPECIAL);
	KUNIT_EXPECT_FALSE(test, r.flags & COWTRACE_PG_PAGE);
	KUNIT_EXPECT_EQ(test, r.refcount, 0);
	__free_page(page);
}

static void pte_zero_page(struct kunit *test)
{
	unsigned long zero = page_to_pfn(ZERO_PAGE(0));
	struct cowtrace_page r;

	r = decode(pte_mkspecial(pfn_pte(zero, PAGE_READONLY)));
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PG_ZERO);
	KUNIT_EXPECT_FALSE(test, r.flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_FALSE(test, r.flags & COWTRACE_PG_PAGE);
	KUNIT_EXPECT_EQ(test, r.pfn, zero);
}

static void pte_soft_dirty_and_uffd_wp(struct kunit *test)
{
	struct page *page = decode_page(test);
	pte_t pte = pfn_pte(page_to_pfn(page), PAGE_KERNEL);
	struct cowtrace_page r;

	r = decode(pte_mksoft_dirty(pte));
	KUNIT_EXPECT_EQ(test, !!(r.flags & COWTRACE_PTE_SOFT_DIRTY),
			IS_ENABLED(CONFIG_MEM_SOFT_DIRTY));
	KUNIT_EXPECT_FALSE(test, r.flags & COWTRACE_PTE_UFFD_WP);
	r = decode(pte_mkuffd_wp(pte));
	KUNIT_EXPECT_EQ(test, !!(r.flags & COWTRACE_PTE_UFFD_WP),
			IS_ENABLED(CONFIG_HAVE_ARCH_USERFAULTFD_WP));
	__free_page(page);
}

static void swap_entry_type_and_offset(struct kunit *test)
{
	struct cowtrace_page r = decode(swp_entry_to_pte(swp_entry(3, 0x1234)));

	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_SWAP);
	KUNIT_EXPECT_FALSE(test, r.flags & COWTRACE_PTE_PRESENT);
	KUNIT_EXPECT_EQ(test, r.swap_type, 3);
	KUNIT_EXPECT_EQ(test, r.pfn, 0x1234);
	KUNIT_EXPECT_FALSE(test, r.flags & COWTRACE_PG_ANON_EXCL);
}

static void swap_entry_keeps_exclusive_and_soft_dirty(struct kunit *test)
{
	pte_t pte = swp_entry_to_pte(swp_entry(1, 42));
	struct cowtrace_page r;

	r = decode(pte_swp_mkexclusive(pte));
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PG_ANON_EXCL);
	r = decode(pte_swp_mksoft_dirty(pte));
	KUNIT_EXPECT_EQ(test, !!(r.flags & COWTRACE_PTE_SOFT_DIRTY),
			IS_ENABLED(CONFIG_MEM_SOFT_DIRTY));
}

static void migration_entries(struct kunit *test)
{
	struct page *page = decode_page(test);
	unsigned long pfn = page_to_pfn(page);
	struct cowtrace_page r;

	if (!IS_ENABLED(CONFIG_MIGRATION)) {
		__free_page(page);
		kunit_skip(test, "CONFIG_MIGRATION is off");
	}
	r = decode(swp_entry_to_pte(make_writable_migration_entry(pfn)));
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_MIGRATION);
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_FALSE(test, r.flags & COWTRACE_PTE_SWAP);
	KUNIT_EXPECT_EQ(test, r.pfn, pfn);
	r = decode(swp_entry_to_pte(make_readable_migration_entry(pfn)));
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_MIGRATION);
	KUNIT_EXPECT_FALSE(test, r.flags & COWTRACE_PTE_WRITE);
	__free_page(page);
}

static void uffd_wp_marker(struct kunit *test)
{
	struct cowtrace_page r;

	if (!IS_ENABLED(CONFIG_PTE_MARKER_UFFD_WP))
		kunit_skip(test, "CONFIG_PTE_MARKER_UFFD_WP is off");
	r = decode(make_pte_marker(PTE_MARKER_UFFD_WP));
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_MARKER);
	KUNIT_EXPECT_TRUE(test, r.flags & COWTRACE_PTE_UFFD_WP);
	KUNIT_EXPECT_FALSE(test, r.flags & COWTRACE_PTE_SWAP);
}

static struct kunit_case pte_decode_test_cases[] = {
	KUNIT_CASE(pte_present_writable_dirty_young),
	KUNIT_CASE(pte_readonly_clean_old),
	KUNIT_CASE(pte_compound_page_reports_order),
	KUNIT_CASE(pte_special_has_no_page),
	KUNIT_CASE(pte_zero_page),
	KUNIT_CASE(pte_soft_dirty_and_uffd_wp),
	KUNIT_CASE(swap_entry_type_and_offset),
	KUNIT_CASE(swap_entry_keeps_exclusive_and_soft_dirty),
	KUNIT_CASE(migration_entries),
	KUNIT_CASE(uffd_wp_marker),
	{}
};

static struct kunit_suite cowtrace_pte_decode_suite = {
	.name = "cowtrace_pte_decode",
	.test_cases = pte_decode_test_cases,
};

/* ---- cowtrace_runs: which page joins the run before it ----------------- */

/*
 * Each case offers one page to a run of @run_pages pages that starts at
 * address 0x10000, PFN 100 (with @run_step when it holds more than one).
 */
struct run_case {
	const char *desc;
	u32 run_pages, run_step;
	struct cowtrace_page next;
	bool joins;
	u32 want_step; /* the run's step after the page joined */
};

#define RUN_PAGE(n, p)                                            \
	{                                                         \
		.addr = 0x10000 + PAGE_SIZE * (n), .pfn = (p),    \
		.flags = COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE, \
		.refcount = 1, .mapcount = 1, .folio_mapcount = 1 \
	}

static const struct run_case run_cases[] = {
	{ "the next page at the next PFN joins", 1, 1, RUN_PAGE(1, 101), true,
	  1 },
	{ "the next page at the same PFN joins (zero page)", 1, 1,
	  RUN_PAGE(1, 100), true, 0 },
	{ "a PFN out of order does not", 1, 1, RUN_PAGE(1, 99), false, 1 },
	{ "a gap in addresses does not", 1, 1, RUN_PAGE(2, 102), false, 1 },
	{ "a run of three takes the fourth PFN", 3, 1, RUN_PAGE(3, 103), true,
	  1 },
	{ "a run of one PFN takes no other", 3, 0, RUN_PAGE(3, 103), false, 0 },
	{ "a run of one PFN takes it again", 3, 0, RUN_PAGE(3, 100), true, 0 },
	{ "other flags do not",
	  1,
	  1,
	  { .addr = 0x11000,
	    .pfn = 101,
	    .flags = COWTRACE_PTE_PRESENT | COWTRACE_PTE_WRITE |
		     COWTRACE_PG_PAGE,
	    .refcount = 1,
	    .mapcount = 1,
	    .folio_mapcount = 1 },
	  false,
	  1 },
	{ "another mapcount does not",
	  1,
	  1,
	  { .addr = 0x11000,
	    .pfn = 101,
	    .flags = COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE,
	    .refcount = 1,
	    .mapcount = 2,
	    .folio_mapcount = 1 },
	  false,
	  1 },
	{ "another refcount does not",
	  1,
	  1,
	  { .addr = 0x11000,
	    .pfn = 101,
	    .flags = COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE,
	    .refcount = 2,
	    .mapcount = 1,
	    .folio_mapcount = 1 },
	  false,
	  1 },
};

static void run_case_desc(const struct run_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(run, run_cases, run_case_desc);

static void run_extend_case(struct kunit *test)
{
	const struct run_case *c = test->param_value;
	struct cowtrace_page_run run = {
		.first = RUN_PAGE(0, 100),
		.nr_pages = c->run_pages,
		.pfn_step = c->run_step,
	};
	struct cowtrace_page_run before = run;

	KUNIT_EXPECT_EQ(test, run_extend(&run, &c->next), c->joins);
	if (!c->joins) {
		/* a refused page leaves the run as it was */
		KUNIT_EXPECT_EQ(test, memcmp(&run, &before, sizeof(run)), 0);
		return;
	}
	KUNIT_EXPECT_EQ(test, run.nr_pages, c->run_pages + 1);
	KUNIT_EXPECT_EQ(test, run.pfn_step, c->want_step);
	/* the first page stands for the run: joining does not change it */
	KUNIT_EXPECT_TRUE(test, !memcmp(&run.first, &before.first,
					sizeof(run.first)));
}

static struct kunit_case run_test_cases[] = { KUNIT_CASE_PARAM(run_extend_case,
							       run_gen_params),
					      {} };

static struct kunit_suite cowtrace_runs_suite = {
	.name = "cowtrace_runs",
	.test_cases = run_test_cases,
};

/* ---- cowtrace_walk: a real mm ------------------------------------------ */

/*
 * KUnit loads the suites from the module notifier, in the insmod process;
 * each case then runs in a kthread.  Borrow insmod's mm for the suite and
 * map, fault and unmap our own regions in it with kthread_use_mm().
 */
static struct mm_struct *walk_mm;
static pid_t walk_pid;

static int walk_suite_init(struct kunit_suite *suite)
{
	walk_mm = get_task_mm(current);
	walk_pid = task_tgid_nr(current);
	return walk_mm ? 0 : -ESRCH;
}

static void walk_suite_exit(struct kunit_suite *suite)
{
	mmput(walk_mm);
}

/* Map len bytes of private anonymous memory in walk_mm. */
static unsigned long walk_map(struct kunit *test, unsigned long len)
{
	unsigned long addr;

	addr = vm_mmap(NULL, 0, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	return addr;
}

static void walk_write(struct kunit *test, unsigned long addr, int npages)
{
	int i;

	for (i = 0; i < npages; i++)
		KUNIT_ASSERT_EQ(test,
				put_user((char)i,
					 (char __user *)addr + i * PAGE_SIZE),
				0);
}

/* Walk [start, end) in chunks of at most cap records; returns the count. */
static unsigned int walk_collect(struct kunit *test, unsigned long start,
				 unsigned long end, struct cowtrace_page *out,
				 unsigned int max, unsigned int cap)
{
	struct cowtrace_page *chunk;
	struct cowtrace_walk w;
	unsigned int n = 0;

	chunk = kunit_kcalloc(test, cap, sizeof(*chunk), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, chunk);
	cowtrace_walk_init(&w, walk_mm, start, end);
	w.pages = chunk;
	w.page_cap = cap;
	while (w.addr < w.end) {
		unsigned long before = w.addr;
		int why = cowtrace_walk_chunk(&w);

		KUNIT_ASSERT_GE(test, why, 0);
		/* done exactly when the whole range is */
		KUNIT_ASSERT_EQ(test, why == COWTRACE_WALK_DONE,
				w.addr >= w.end);
		KUNIT_ASSERT_LE(test, w.nr_pages, cap);
		KUNIT_ASSERT_LE(test, n + w.nr_pages, max);
		memcpy(out + n, chunk, w.nr_pages * sizeof(*chunk));
		n += w.nr_pages;
		/* every chunk makes progress */
		KUNIT_ASSERT_GT(test, w.addr, before);
	}
	return n;
}

/* Records of the npages pages at addr, in one big chunk. */
static unsigned int walk_pages(struct kunit *test, unsigned long addr,
			       unsigned int npages, struct cowtrace_page *out)
{
	return walk_collect(test, addr, addr + npages * PAGE_SIZE, out, npages,
			    64);
}

static void walk_clear_refs(struct kunit *test)
{
	unsigned long ubuf;
	char path[32];
	struct file *f;
	loff_t pos = 0;

	/*
	 * "4": clear soft-dirty, which write-protects every present PTE.  The
	 * procfs file has no write_iter, so kernel_write() refuses it, and
	 * vfs_write() is not exported: call its ->write with a user buffer of
	 * the mm we are using.
	 */
	ubuf = walk_map(test, PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, put_user('4', (char __user *)ubuf), 0);
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", walk_pid);
	f = filp_open(path, O_WRONLY, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	KUNIT_ASSERT_NOT_NULL(test, f->f_op->write);
	KUNIT_EXPECT_EQ(test, f->f_op->write(f, (char __user *)ubuf, 1, &pos),
			1);
	filp_close(f, NULL);
	vm_munmap(ubuf, PAGE_SIZE);
}

static void walk_written_anon_pages(struct kunit *test)
{
	struct cowtrace_page recs[8];
	unsigned long addr;
	unsigned int n, i;

	kthread_use_mm(walk_mm);
	addr = walk_map(test, 8 * PAGE_SIZE);
	walk_write(test, addr, 6);
	n = walk_pages(test, addr, 8, recs);
	KUNIT_EXPECT_EQ(test, n, 6);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, recs[i].addr, addr + i * PAGE_SIZE);
		KUNIT_EXPECT_TRUE(test, recs[i].flags & COWTRACE_PTE_PRESENT);
		KUNIT_EXPECT_TRUE(test, recs[i].flags & COWTRACE_PTE_WRITE);
		KUNIT_EXPECT_TRUE(test, recs[i].flags & COWTRACE_PG_ANON);
		KUNIT_EXPECT_TRUE(test, recs[i].flags & COWTRACE_PG_ANON_EXCL);
		KUNIT_EXPECT_EQ(test, recs[i].mapcount, 1);
	}
	vm_munmap(addr, 8 * PAGE_SIZE);
	kthread_unuse_mm(walk_mm);
}

static void walk_read_fault_maps_zero_page(struct kunit *test)
{
	struct cowtrace_page recs[2];
	unsigned long addr;
	char c;

	kthread_use_mm(walk_mm);
	addr = walk_map(test, 2 * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, get_user(c, (char __user *)addr), 0);
	KUNIT_EXPECT_EQ(test, walk_pages(test, addr, 2, recs), 1);
	KUNIT_EXPECT_TRUE(test, recs[0].flags & COWTRACE_PG_ZERO);
	KUNIT_EXPECT_FALSE(test, recs[0].flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_TRUE(test, is_zero_pfn(recs[0].pfn));
	vm_munmap(addr, 2 * PAGE_SIZE);
	kthread_unuse_mm(walk_mm);
}

static void walk_write_bit_follows_write_protect(struct kunit *test)
{
	struct cowtrace_page before[4], after[4], again[4];
	unsigned long addr;

	kthread_use_mm(walk_mm);
	addr = walk_map(test, 4 * PAGE_SIZE);
	walk_write(test, addr, 4);
	KUNIT_ASSERT_EQ(test, walk_pages(test, addr, 4, before), 4);
	walk_clear_refs(test);
	KUNIT_ASSERT_EQ(test, walk_pages(test, addr, 4, after), 4);
	KUNIT_EXPECT_TRUE(test, before[0].flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_FALSE(test, after[0].flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_FALSE(test, after[0].flags & COWTRACE_PTE_SOFT_DIRTY);
	KUNIT_EXPECT_EQ(test, after[0].pfn, before[0].pfn);
	/* still exclusive: the next write fault reuses the page, no copy */
	KUNIT_EXPECT_TRUE(test, after[0].flags & COWTRACE_PG_ANON_EXCL);
	walk_write(test, addr, 1);
	KUNIT_ASSERT_EQ(test, walk_pages(test, addr, 4, again), 4);
	KUNIT_EXPECT_TRUE(test, again[0].flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_EQ(test, again[0].pfn, before[0].pfn);
	KUNIT_EXPECT_FALSE(test, again[1].flags & COWTRACE_PTE_WRITE);
	vm_munmap(addr, 4 * PAGE_SIZE);
	kthread_unuse_mm(walk_mm);
}

static void walk_unmapped_range_is_gone(struct kunit *test)
{
	struct cowtrace_page recs[4];
	struct cowtrace_vma vmas[4];
	struct cowtrace_walk w;
	unsigned long addr;

	kthread_use_mm(walk_mm);
	addr = walk_map(test, 4 * PAGE_SIZE);
	walk_write(test, addr, 4);
	vm_munmap(addr + PAGE_SIZE, 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, walk_pages(test, addr, 4, recs), 2);
	KUNIT_EXPECT_EQ(test, recs[0].addr, addr);
	KUNIT_EXPECT_EQ(test, recs[1].addr, addr + 3 * PAGE_SIZE);
	/* and the VMA was split in two around the hole */
	cowtrace_walk_init(&w, walk_mm, addr, addr + 4 * PAGE_SIZE);
	w.vmas = vmas;
	w.vma_cap = ARRAY_SIZE(vmas);
	KUNIT_ASSERT_EQ(test, cowtrace_walk_chunk(&w), COWTRACE_WALK_DONE);
	KUNIT_EXPECT_EQ(test, w.nr_vmas, 2);
	KUNIT_EXPECT_EQ(test, vmas[0].end, addr + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, vmas[1].start, addr + 3 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, vmas[0].flags & COWTRACE_VMA_COW);
	KUNIT_EXPECT_TRUE(test, vmas[0].flags & COWTRACE_VMA_ANON_VMA);
	KUNIT_EXPECT_EQ(test, vmas[0].backing, COWTRACE_BACKING_ANON);
	vm_munmap(addr, 4 * PAGE_SIZE);
	kthread_unuse_mm(walk_mm);
}

static void walk_small_buffers_resume_exactly(struct kunit *test)
{
	struct cowtrace_page *whole, *bits;
	unsigned int n_whole, n_bits;
	unsigned long addr;

	whole = kunit_kcalloc(test, 64, sizeof(*whole), GFP_KERNEL);
	bits = kunit_kcalloc(test, 64, sizeof(*bits), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, whole);
	KUNIT_ASSERT_NOT_NULL(test, bits);
	kthread_use_mm(walk_mm);
	addr = walk_map(test, 40 * PAGE_SIZE);
	walk_write(test, addr, 40);
	n_whole =
		walk_collect(test, addr, addr + 40 * PAGE_SIZE, whole, 64, 64);
	n_bits = walk_collect(test, addr, addr + 40 * PAGE_SIZE, bits, 64, 7);
	KUNIT_EXPECT_EQ(test, n_whole, 40);
	KUNIT_EXPECT_EQ(test, n_bits, n_whole);
	KUNIT_EXPECT_EQ(test, memcmp(whole, bits, n_whole * sizeof(*whole)), 0);
	vm_munmap(addr, 40 * PAGE_SIZE);
	kthread_unuse_mm(walk_mm);
}

static void walk_vma_record_names_and_repeats(struct kunit *test)
{
	struct cowtrace_vma vmas[2];
	char *names, *pathbuf;
	struct cowtrace_walk w;
	unsigned long addr;

	names = kunit_kmalloc(test, PATH_MAX, GFP_KERNEL);
	pathbuf = kunit_kmalloc(test, PATH_MAX, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, names);
	KUNIT_ASSERT_NOT_NULL(test, pathbuf);
	kthread_use_mm(walk_mm);
	addr = walk_map(test, 4 * PAGE_SIZE);
	/* a walk starting inside the VMA reports it, with its real bounds */
	cowtrace_walk_init(&w, walk_mm, addr + PAGE_SIZE, addr + 2 * PAGE_SIZE);
	w.vmas = vmas;
	w.vma_cap = 1;
	w.names = names;
	w.names_cap = PATH_MAX;
	w.pathbuf = pathbuf;
	KUNIT_ASSERT_EQ(test, cowtrace_walk_chunk(&w), COWTRACE_WALK_DONE);
	KUNIT_ASSERT_EQ(test, w.nr_vmas, 1);
	KUNIT_EXPECT_LE(test, vmas[0].start, addr);
	KUNIT_EXPECT_GE(test, vmas[0].end, addr + 4 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, w.addr, addr + 2 * PAGE_SIZE);
	vm_munmap(addr, 4 * PAGE_SIZE);
	kthread_unuse_mm(walk_mm);
}

/*
 * A name that does not fit ends the chunk before its VMA, and says so: the
 * reason, not the counts, is what tells a caller its names buffer is full.
 * Asked again with no more room, the walk gives the same answer at the same
 * address: without the reason, a caller would loop there for ever.  Every
 * mm has a named VMA ([stack] at least), and one byte holds no name.
 */
static void walk_names_full_is_a_reason(struct kunit *test)
{
	struct cowtrace_vma *vmas;
	char *names, *pathbuf;
	struct cowtrace_walk w;
	unsigned long at;
	int why;

	vmas = kunit_kcalloc(test, COWTRACE_CHUNK_VMAS, sizeof(*vmas),
			     GFP_KERNEL);
	names = kunit_kmalloc(test, PATH_MAX, GFP_KERNEL);
	pathbuf = kunit_kmalloc(test, PATH_MAX, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, vmas);
	KUNIT_ASSERT_NOT_NULL(test, names);
	KUNIT_ASSERT_NOT_NULL(test, pathbuf);
	cowtrace_walk_init(&w, walk_mm, 0, walk_mm->task_size);
	w.vmas = vmas;
	w.vma_cap = COWTRACE_CHUNK_VMAS;
	w.names = names;
	w.names_cap = 1;
	w.pathbuf = pathbuf;
	do {
		why = cowtrace_walk_chunk(&w);
		KUNIT_ASSERT_GE(test, why, 0);
	} while (why == COWTRACE_WALK_VMAS_FULL || why == COWTRACE_WALK_BUDGET);
	KUNIT_ASSERT_EQ(test, why, COWTRACE_WALK_NAMES_FULL);
	KUNIT_EXPECT_EQ(test, w.names_len, 0);
	KUNIT_EXPECT_LT(test, w.addr, w.end);
	at = w.addr;
	KUNIT_EXPECT_EQ(test, cowtrace_walk_chunk(&w),
			COWTRACE_WALK_NAMES_FULL);
	KUNIT_EXPECT_EQ(test, w.nr_vmas, 0);
	KUNIT_EXPECT_EQ(test, w.addr, at);
	/* with room for it, the walk goes on from there */
	w.names_cap = PATH_MAX;
	KUNIT_ASSERT_GE(test, cowtrace_walk_chunk(&w), 0);
	KUNIT_EXPECT_GT(test, w.nr_vmas, 0);
	KUNIT_EXPECT_GT(test, w.names_len, 0);
	KUNIT_EXPECT_EQ(test, vmas[0].start, at);
}

/*
 * Pages among empty PTEs: at every position in a cache line of entries and
 * at both ends of a page table, each must be found, once, at its address.
 * These are the edges any faster way of skipping empty entries (a line at a
 * time, say) gets wrong.  The walk covers two page tables, [base, base + 1024
 * pages) with base 2 MiB aligned; the positions are page indexes in it.
 */
#define SKIP_PAGES 1024
/* unmapped: see walk_finds_pages_among_empty_ptes() */
static const u16 skip_holes[] = { 300, 700 };

struct skip_case {
	const char *desc;
	u16 pos[8];
	unsigned int nr_pos;
	unsigned int every; /* or every n-th page, from 0, if non-zero */
};

static const struct skip_case skip_cases[] = {
	{ "the first entry", { 0 }, 1, 0 },
	{ "the last of the first eight", { 7 }, 1, 0 },
	{ "the first of the next eight", { 8 }, 1, 0 },
	{ "one past eight", { 9 }, 1, 0 },
	{ "three across an eight", { 6, 7, 8 }, 3, 0 },
	{ "the last entry of a table", { 511 }, 1, 0 },
	{ "the first entry of the next table", { 512 }, 1, 0 },
	{ "the last entry walked", { 1023 }, 1, 0 },
	{ "both ends of both tables", { 0, 511, 512, 1023 }, 4, 0 },
	{ "every ninth page", {}, 0, 9 },
	{ "every page", {}, 0, 1 },
};

static void skip_case_desc(const struct skip_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(skip, skip_cases, skip_case_desc);

static bool skip_is_hole(unsigned int i)
{
	unsigned int h;

	for (h = 0; h < ARRAY_SIZE(skip_holes); h++)
		if (skip_holes[h] == i)
			return true;
	return false;
}

static bool skip_case_writes(const struct skip_case *c, unsigned int i)
{
	unsigned int k;

	if (skip_is_hole(i))
		return false;
	if (c->every)
		return i % c->every == 0;
	for (k = 0; k < c->nr_pos; k++)
		if (c->pos[k] == i)
			return true;
	return false;
}

static void walk_finds_pages_among_empty_ptes(struct kunit *test)
{
	const struct skip_case *c = test->param_value;
	unsigned long map, base, len = SKIP_PAGES * PAGE_SIZE + PMD_SIZE;
	struct cowtrace_page *recs;
	unsigned int n, i, want = 0;

	recs = kunit_kcalloc(test, SKIP_PAGES, sizeof(*recs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, recs);
	kthread_use_mm(walk_mm);
	map = walk_map(test, len);
	base = ALIGN(map, PMD_SIZE);
	/*
	 * The holes split the range into VMAs none of which holds a whole
	 * 2 MiB window, so no THP maps it, whatever the THP mode.
	 */
	for (i = 0; i < ARRAY_SIZE(skip_holes); i++) {
		unsigned long hole = base + skip_holes[i] * PAGE_SIZE;

		KUNIT_ASSERT_EQ(test, vm_munmap(hole, PAGE_SIZE), 0);
	}
	for (i = 0; i < SKIP_PAGES; i++)
		if (skip_case_writes(c, i))
			walk_write(test, base + i * PAGE_SIZE, 1);
	n = walk_collect(test, base, base + SKIP_PAGES * PAGE_SIZE, recs,
			 SKIP_PAGES, 64);
	for (i = 0; i < SKIP_PAGES; i++) {
		if (!skip_case_writes(c, i))
			continue;
		KUNIT_ASSERT_LT(test, want, n);
		KUNIT_EXPECT_EQ(test, recs[want].addr, base + i * PAGE_SIZE);
		KUNIT_EXPECT_TRUE(test, recs[want].flags & COWTRACE_PG_ANON);
		KUNIT_EXPECT_FALSE(test, recs[want].flags & COWTRACE_PG_THP);
		want++;
	}
	KUNIT_EXPECT_EQ(test, n, want);
	vm_munmap(map, len);
	kthread_unuse_mm(walk_mm);
}

/*
 * The chunk budget is COWTRACE_CHUNK_PMDS (512) page tables, empty ones
 * included.  A walk from a 1 GiB boundary spends the last of it on the last
 * PMD of the first PUD: the chunk must end there, at the second PUD, and not
 * take that PUD and the rest of the range with a budget gone past zero.
 * One page written in each GiB gives both PUDs a PMD table.
 */
static void walk_budget_ends_at_the_last_pmd_of_a_pud(struct kunit *test)
{
	const unsigned int cap = 2 * PTRS_PER_PTE + 16; /* two THPs, if THP */
	unsigned long map, base, len = 3 * PUD_SIZE;
	struct cowtrace_page *recs;
	struct cowtrace_walk w;
	int why;

	if (COWTRACE_CHUNK_PMDS != PTRS_PER_PMD)
		kunit_skip(test, "the budget is not one PUD's PMDs here");
	recs = kunit_kcalloc(test, cap, sizeof(*recs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, recs);
	kthread_use_mm(walk_mm);
	map = vm_mmap(NULL, 0, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(map));
	base = ALIGN(map, PUD_SIZE);
	walk_write(test, base, 1);
	walk_write(test, base + PUD_SIZE, 1);
	cowtrace_walk_init(&w, walk_mm, base, base + 2 * PUD_SIZE);
	w.pages = recs;
	w.page_cap = cap;
	why = cowtrace_walk_chunk(&w);
	KUNIT_EXPECT_EQ(test, why, COWTRACE_WALK_BUDGET);
	KUNIT_EXPECT_EQ(test, w.addr, base + PUD_SIZE);
	KUNIT_EXPECT_EQ(test, recs[0].addr, base);
	/* the next chunk takes the second GiB */
	why = cowtrace_walk_chunk(&w);
	KUNIT_EXPECT_EQ(test, why, COWTRACE_WALK_DONE);
	KUNIT_EXPECT_GE(test, w.nr_pages, 1);
	KUNIT_EXPECT_EQ(test, recs[0].addr, base + PUD_SIZE);
	vm_munmap(map, len);
	kthread_unuse_mm(walk_mm);
}

static void walk_mm_info_counts(struct kunit *test)
{
	struct cowtrace_mm_info info = {};

	KUNIT_ASSERT_EQ(test, cowtrace_mm_info(walk_mm, current, &info), 0);
	KUNIT_EXPECT_EQ(test, info.map_count, walk_mm->map_count);
	KUNIT_EXPECT_EQ(test, info.task_size, walk_mm->task_size);
	KUNIT_EXPECT_GT(test, info.total_vm, 0);
}

static struct kunit_case walk_test_cases[] = {
	KUNIT_CASE(walk_written_anon_pages),
	KUNIT_CASE(walk_read_fault_maps_zero_page),
	KUNIT_CASE(walk_write_bit_follows_write_protect),
	KUNIT_CASE(walk_unmapped_range_is_gone),
	KUNIT_CASE(walk_small_buffers_resume_exactly),
	KUNIT_CASE(walk_vma_record_names_and_repeats),
	KUNIT_CASE(walk_names_full_is_a_reason),
	KUNIT_CASE_PARAM(walk_finds_pages_among_empty_ptes, skip_gen_params),
	KUNIT_CASE(walk_budget_ends_at_the_last_pmd_of_a_pud),
	KUNIT_CASE(walk_mm_info_counts),
	{}
};

static struct kunit_suite cowtrace_walk_suite = {
	.name = "cowtrace_walk",
	.suite_init = walk_suite_init,
	.suite_exit = walk_suite_exit,
	.test_cases = walk_test_cases,
};

kunit_test_suites(&cowtrace_vma_flags_suite, &cowtrace_pte_decode_suite,
		  &cowtrace_runs_suite, &cowtrace_walk_suite);
