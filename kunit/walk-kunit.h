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
 *
 * These decode values and touch no mm.  The walker's suite on a real mm,
 * cowtrace_walk, is walk-mm-kunit.h, included after this file.
 */
#include <kunit/test.h>
#include <linux/swapops.h>

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

kunit_test_suites(&cowtrace_vma_flags_suite, &cowtrace_pte_decode_suite,
		  &cowtrace_runs_suite);
