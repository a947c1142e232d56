/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference cowtrace depends on lives here, and only
 * here.  Each helper states what it means on every supported kernel, so the
 * walker can be read as if there were one kernel.
 */
#ifndef _COWTRACE_COMPAT_H
#define _COWTRACE_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/userfaultfd_k.h>

/*
 * The kernel we build for, as major.minor: sublevels change no API we use.
 * <linux/version.h> names the two numbers since 5.14; on 5.10 module/Kbuild
 * passes them from the kernel Makefile's VERSION and PATCHLEVEL, the numbers
 * the headers were made from.
 */
#ifdef LINUX_VERSION_MAJOR
#define COWTRACE_KERNEL \
	KERNEL_VERSION(LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL, 0)
#else
#define COWTRACE_KERNEL \
	KERNEL_VERSION(COWTRACE_KBUILD_VERSION, COWTRACE_KBUILD_PATCHLEVEL, 0)
#endif

/* True when building for a kernel older than major.minor. */
#define COWTRACE_BEFORE(major, minor) \
	(KERNEL_VERSION((major), (minor), 0) > COWTRACE_KERNEL)

#if !COWTRACE_BEFORE(6, 19)
#include <linux/leafops.h>
#endif

/*
 * The KUnit suites (kunit/, COWTRACE_KUNIT=y) are written for 6.1 and later:
 * they expect PageAnonExclusive and the swap PTE's exclusive bit, which 5.10
 * does not have, and call 5.12's kunit_skip() and 5.14's migration-entry
 * helpers.  Debian's 5.10 is built without CONFIG_KUNIT, so they were never
 * compiled there: refuse rather than build a test module no one has checked.
 */
#if defined(COWTRACE_KUNIT) && COWTRACE_BEFORE(6, 1)
#error "COWTRACE_KUNIT=y needs a 6.1 or later kernel with CONFIG_KUNIT"
#endif

/*
 * Before 5.16 there is no struct folio: a compound page is handled through
 * its head page.  This gives the walker the folio calls it makes, each the
 * page call it stands for, so walk.c reads the same on every kernel.  As the
 * kernel's own, this folio is its head page (its first member) and
 * page_folio() is compound_head().  Only 5.10 takes this branch, and every
 * helper means there what its folio namesake means on 6.1:
 *   folio_test_large	PageHead (a compound page; order 1 and up)
 *   folio_entire_mapcount	compound_mapcount: PMD (hugetlb: PUD/PMD) maps
 *   folio_test_double_map	PageDoubleMap: PMD- and PTE-mapped at once
 *   folio_maybe_dma_pinned	page_maybe_dma_pinned of the head page: exact
 *			(hpage_pincount) from order 2, else refcount-based
 * and the others are the plain flag, order and refcount of the head page.
 */
#if COWTRACE_BEFORE(5, 16)
struct folio {
	struct page page;
};

static inline struct folio *page_folio(struct page *page)
{
	return (struct folio *)compound_head(page);
}

static inline struct page *folio_page(struct folio *folio, unsigned long n)
{
	return nth_page(&folio->page, n);
}

static inline unsigned long *folio_flags(struct folio *folio, unsigned int n)
{
	return &folio_page(folio, n)->flags;
}

static inline bool folio_test_large(struct folio *folio)
{
	return PageHead(&folio->page);
}

static inline bool folio_test_hugetlb(struct folio *folio)
{
	return PageHuge(&folio->page);
}

static inline bool folio_test_anon(struct folio *folio)
{
	return PageAnon(&folio->page);
}

static inline bool folio_test_double_map(struct folio *folio)
{
	return PageDoubleMap(&folio->page);
}

static inline unsigned int folio_order(struct folio *folio)
{
	return compound_order(&folio->page);
}

static inline long folio_nr_pages(struct folio *folio)
{
	return compound_nr(&folio->page);
}

static inline int folio_ref_count(struct folio *folio)
{
	return page_ref_count(&folio->page);
}

static inline bool folio_maybe_dma_pinned(struct folio *folio)
{
	return page_maybe_dma_pinned(&folio->page);
}

static inline int folio_entire_mapcount(struct folio *folio)
{
	return compound_mapcount(&folio->page);
}
#endif

/* folio->mapping, tag bits and all, read once (the head page's on 5.10). */
static __always_inline unsigned long cowtrace_folio_mapping(struct folio *folio)
{
#if COWTRACE_BEFORE(5, 16)
	return (unsigned long)READ_ONCE(folio->page.mapping);
#else
	return (unsigned long)READ_ONCE(folio->mapping);
#endif
}

/*
 * PG_anon_exclusive, PageAnonExclusive() and the swap PTE's exclusive bit
 * (all 5.19+): an anonymous page known to be mapped by this process alone,
 * which a write fault may therefore reuse without copying.
 *
 * 5.10 has no such fact.  do_wp_page() decides reuse of an anonymous page at
 * fault time from "not KSM and page_count() == 1" (the rule from 5.8 to
 * 5.18), which no page flag records, and a refcount that is 1 now says
 * nothing about the next fault.  So there COWTRACE_HAS_ANON_EXCL is false,
 * the module does not advertise COWTRACE_FEAT_ANON_EXCL, and every helper
 * says "not known exclusive": COWTRACE_PG_ANON_EXCL is never set.  Readers
 * must take its absence as unknown, not as shared (docs/abi.md).
 */
#if COWTRACE_BEFORE(5, 19)
#define COWTRACE_HAS_ANON_EXCL false

static __always_inline bool cowtrace_flags_anon_exclusive(unsigned long pf)
{
	return false;
}

static __always_inline bool cowtrace_page_anon_exclusive(struct page *page)
{
	return false;
}

static __always_inline bool cowtrace_pte_swp_exclusive(pte_t pte)
{
	return false;
}
#else
#define COWTRACE_HAS_ANON_EXCL true

/* PG_anon_exclusive in a flags word read with cowtrace_page_flags_word() */
static __always_inline bool cowtrace_flags_anon_exclusive(unsigned long pf)
{
	return pf & BIT(PG_anon_exclusive);
}

static __always_inline bool cowtrace_page_anon_exclusive(struct page *page)
{
	return PageAnonExclusive(page);
}

static __always_inline bool cowtrace_pte_swp_exclusive(pte_t pte)
{
	return pte_swp_exclusive(pte);
}
#endif

/*
 * The vm_flags of any userfaultfd registration: __VM_UFFD_FLAGS since 5.13
 * (which added minor faults); on 5.10 the two modes it had.
 */
#if COWTRACE_BEFORE(5, 13)
#define COWTRACE_VM_UFFD_FLAGS (VM_UFFD_MISSING | VM_UFFD_WP)
#else
#define COWTRACE_VM_UFFD_FLAGS __VM_UFFD_FLAGS
#endif

/*
 * The userfaultfd bit of a present and of a swap PTE.  Before 7.3 it is the
 * write-protect bit (pte_uffd_wp); 7.3 renamed it pte_uffd when read-write
 * protection (UFFDIO_REGISTER_MODE_RWP) came to share it, so there it marks a
 * write-protected page in a WP-registered VMA and an access-protected one in
 * an RWP-registered VMA.  docs/abi.md says so for COWTRACE_PTE_UFFD_WP.
 */
#if COWTRACE_BEFORE(7, 3)
#define cowtrace_pte_uffd(pte) pte_uffd_wp(pte)
#define cowtrace_pte_swp_uffd(pte) pte_swp_uffd_wp(pte)
#else
#define cowtrace_pte_uffd(pte) pte_uffd(pte)
#define cowtrace_pte_swp_uffd(pte) pte_swp_uffd(pte)
#endif

/*
 * Two present PTEs alike in every bit but the PFN.  x86 keeps the PFN in one
 * field, so the rest is pte_flags(); elsewhere say no, which only turns off
 * the walker's fast path.
 */
static inline bool cowtrace_pte_same_but_pfn(pte_t a, pte_t b)
{
#ifdef CONFIG_X86
	return pte_flags(a) == pte_flags(b);
#else
	return false;
#endif
}

/*
 * Clear VMA flags from an ->mmap() handler.  6.3 made vm_flags read-only
 * outside the helpers that keep the VMA lock's rules.
 */
static inline void cowtrace_vm_flags_clear(struct vm_area_struct *vma,
					   unsigned long flags)
{
#if COWTRACE_BEFORE(6, 3)
	vma->vm_flags &= ~flags;
#else
	vm_flags_clear(vma, flags);
#endif
}

/* A page's flags word, read once; 6.18 wrapped it in memdesc_flags_t. */
static inline unsigned long cowtrace_page_flags_word(struct page *page)
{
#if COWTRACE_BEFORE(6, 18)
	return READ_ONCE(page->flags);
#else
	return READ_ONCE(page->flags.f);
#endif
}

/* A lockless snapshot of a PMD entry (pmd_read_atomic() before 6.5). */
static inline pmd_t cowtrace_pmdp_get(pmd_t *pmdp)
{
#if COWTRACE_BEFORE(6, 5)
	return pmd_read_atomic(pmdp);
#else
	return pmdp_get_lockless(pmdp);
#endif
}

/*
 * A PMD mapping device memory (fsdax) with the devmap bit.  6.17 removed the
 * bit and its helpers: device memory is mapped as ordinary large folios since,
 * and pmd_trans_huge() covers it.
 */
static inline bool cowtrace_pmd_devmap(pmd_t pmd)
{
#if COWTRACE_BEFORE(6, 17)
	return pmd_devmap(pmd);
#else
	return false;
#endif
}

/*
 * Map the PTE table under @pmdp and say which lock guards it, or return NULL
 * if the PMD does not point to a table now (the caller re-reads the PMD and
 * retries).  The caller takes *ptlp itself, then confirms the table with
 * cowtrace_pte_table_same() before reading it, and ends with
 * cowtrace_pte_unmap().
 *
 * Before 6.5 a PTE table cannot be freed while mmap_lock is held for read, so
 * once the caller has seen a table it stays.  From 6.5 on khugepaged may free
 * tables under mmap_read_lock via RCU (pte_free_defer), and the kernel's own
 * __pte_offset_map_lock() is not exported: redo what it does, an RCU read
 * side section plus the pmd_same() re-check under the PTE lock.
 */
static inline pte_t *cowtrace_pte_map(struct mm_struct *mm, pmd_t *pmdp,
				      unsigned long addr, pmd_t *pmdvalp,
				      spinlock_t **ptlp)
{
#if COWTRACE_BEFORE(6, 5)
	*pmdvalp = *pmdp;
	*ptlp = pte_lockptr(mm, pmdp);
	return pte_offset_map(pmdp, addr);
#else
	pmd_t pmdval;

	rcu_read_lock();
	pmdval = pmdp_get_lockless(pmdp);
	if (pmd_none(pmdval) || !pmd_present(pmdval) ||
	    pmd_trans_huge(pmdval) || cowtrace_pmd_devmap(pmdval) ||
	    pmd_bad(pmdval)) {
		rcu_read_unlock();
		return NULL;
	}
	*pmdvalp = pmdval;
	*ptlp = pte_lockptr(mm, &pmdval);
	return pte_offset_kernel(&pmdval, addr);
#endif
}

/* Under the PTE lock: is the table we mapped still the one @pmdp points to? */
static inline bool cowtrace_pte_table_same(pmd_t *pmdp, pmd_t pmdval)
{
#if COWTRACE_BEFORE(6, 5)
	return true;
#else
	return pmd_same(pmdval, pmdp_get_lockless(pmdp));
#endif
}

static inline void cowtrace_pte_unmap(pte_t *pte)
{
#if COWTRACE_BEFORE(6, 5)
	pte_unmap(pte);
#else
	rcu_read_unlock();
#endif
}

/*
 * A page's own PTE mappings: _mapcount + 1.
 *
 * From 6.12 on, the word is the page type instead on pages that have one
 * (page_has_type()), and a hugetlb folio is one: PGTY_hugetlb sits in its
 * head page's _mapcount, which read raw is about -201 million.  Such a page
 * has no PTE mappings of its own (a hugetlb folio is only ever mapped whole),
 * so it counts 0, as folio_precise_page_mapcount() (/proc/kpagecount) and
 * folio_mapcount() count it.  On 5.10 and 6.1 hugetlb keeps no type there
 * and page_mapcount() reads the word raw: so does this.  A small folio's
 * page is always counted; a large folio's is not without CONFIG_PAGE_MAPCOUNT
 * (COWTRACE_HAS_PAGE_MAPCOUNT below), and reads 0.
 */
static inline int cowtrace_page_own_mapcount(struct page *page)
{
	int mapcount = atomic_read(&page->_mapcount) + 1;

#if !COWTRACE_BEFORE(6, 12)
	if (page_mapcount_is_type(mapcount))
		mapcount = 0;
#endif
	return mapcount;
}

/*
 * How many page tables map this 4 KiB page.
 *
 * Up to 6.11 this is page_mapcount(): for a page of an anonymous or hugetlb
 * large folio it adds the folio's entire (PMD/PUD) mappings to the page's own
 * PTE mappings (5.10's __page_mapcount() sums the same as 6.1's).  For file
 * THP on 5.10 and 6.1 _mapcount already counts both.  From 6.12 it is the
 * same sum, what folio_precise_page_mapcount() (internal to fs/proc) computes
 * for /proc/kpagecount; without per-page counts (COWTRACE_HAS_PAGE_MAPCOUNT
 * below) it would miss a large folio's PTE mappings, and is not used.
 */
static inline unsigned int cowtrace_page_mapcount(struct page *page)
{
#if COWTRACE_BEFORE(6, 12)
	return page_mapcount(page);
#else
	struct folio *folio = page_folio(page);
	int mapcount = cowtrace_page_own_mapcount(page);

	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount;
#endif
}

/*
 * Whether the kernel counts each page's own PTE mappings.  6.15 made that
 * optional: with CONFIG_NO_PAGE_MAPCOUNT (experimental, the complement of
 * CONFIG_PAGE_MAPCOUNT) rmap keeps only folio-wide counts for a large folio
 * and leaves every page's _mapcount at -1, so no page of a PTE-mapped THP
 * says how many page tables map it.  A 2026 RFC would make that the only
 * behaviour, and the option may then go: test for CONFIG_PAGE_MAPCOUNT,
 * which would go with it.  Without it the module clears
 * COWTRACE_FEAT_PAGE_MAPCOUNT.
 */
#if COWTRACE_BEFORE(6, 15) || defined(CONFIG_PAGE_MAPCOUNT)
#define COWTRACE_HAS_PAGE_MAPCOUNT 1
#else
#define COWTRACE_HAS_PAGE_MAPCOUNT 0
#endif

/*
 * The average mapcount of a large folio's pages, rounded to the nearest and
 * at least 1 if any page is mapped: fs/proc's folio_average_page_mapcount()
 * (internal, not exported), which /proc/kpagecount and smaps report without
 * CONFIG_PAGE_MAPCOUNT.  Exact for a folio mapped only whole (hugetlb, a
 * PMD-mapped THP), where it is the entire mapcount.
 */
#if !COWTRACE_HAS_PAGE_MAPCOUNT
static inline int cowtrace_folio_average_page_mapcount(struct folio *folio)
{
	int mapcount = folio_large_mapcount(folio);
	int entire = folio_entire_mapcount(folio);
	int avg;

	if (mapcount <= 0)
		return 0;
	if (mapcount <= entire)
		return entire;
	mapcount -= entire;
	avg = ((unsigned int)mapcount + folio_nr_pages(folio) / 2) >>
	      folio_order(folio);
	return max(avg + entire, 1);
}
#endif

/*
 * Where pages are counted, a large folio page's mapcount is its own PTE
 * mappings (cowtrace_page_own_mapcount()) plus a term that is the same for
 * every page of its folio: the folio's entire (PMD/PUD) mappings, less 5.10's
 * and 6.1's DoubleMap correction.  The walker reads that term once per
 * folio, and for each of a THP's 512 pages only the page's own count
 * (cowtrace_large_page_mapcount()).  Where they are not, the term is the
 * whole figure: the folio's average, as /proc/kpagecount gives it there.
 */
static inline int cowtrace_folio_mapcount_base(struct folio *folio)
{
#if COWTRACE_HAS_PAGE_MAPCOUNT
	return cowtrace_page_mapcount(&folio->page) -
	       cowtrace_page_own_mapcount(&folio->page);
#else
	return cowtrace_folio_average_page_mapcount(folio);
#endif
}

/* @page of a large folio whose cowtrace_folio_mapcount_base() is @base */
static inline int cowtrace_large_page_mapcount(int base, struct page *page)
{
#if COWTRACE_HAS_PAGE_MAPCOUNT
	return base + cowtrace_page_own_mapcount(page);
#else
	return base;
#endif
}

/*
 * Whether any page of large @folio may be mapped by a PTE.  False only where
 * the folio's own counters say none is: then every page's own mapcount is 0,
 * every page's mapcount is cowtrace_folio_mapcount_base(), and the folio's
 * mapcount is its entire mapcount, so one read stands for all its pages.
 *   hugetlb	mapped only whole, on every kernel
 *   6.9+	_large_mapcount counts every mapping, _entire_mapcount the PMD
 *		and PUD ones: equal, no PTE maps a page
 *   before 6.9	no counter says it (6.2-6.8's _nr_pages_mapped needs a mask
 *		private to mm/; 5.10's and 6.1's PageDoubleMap is cleared when a
 *		migration takes the PMD mappings away, and not set again when
 *		remove_migration_ptes() restores PMD and PTEs), but every PTE
 *		mapping of an anonymous page holds a reference to its folio: a
 *		refcount equal to the entire mapcount leaves none for a PTE.
 *		Extra references (swap cache, GUP, isolation) only say maybe.
 *		File THP: the page cache holds references too: maybe
 * Like every mapcount read here, this races with rmap in other mms: a
 * snapshot is as exact as the counters are at the moment they are read.
 */
static inline bool cowtrace_folio_maybe_pte_mapped(struct folio *folio)
{
	if (folio_test_hugetlb(folio))
		return false;
#if COWTRACE_BEFORE(6, 9)
	return !folio_test_anon(folio) ||
	       folio_ref_count(folio) != folio_entire_mapcount(folio);
#else
	return folio_large_mapcount(folio) != folio_entire_mapcount(folio);
#endif
}

/*
 * How many page tables map any page of the folio: folio_mapcount().  On 6.1
 * that function is out of line and not exported, so its loop is repeated here;
 * it is O(folio pages) unless no PTE maps the folio, and the walker caches
 * the result per folio.  On 5.10 the same sum is total_mapcount()
 * (mm/huge_memory.c, not exported either).
 */
static inline unsigned int cowtrace_folio_mapcount(struct folio *folio)
{
#if COWTRACE_BEFORE(6, 9)
	int i, nr, total;

	if (likely(!folio_test_large(folio)))
		return cowtrace_page_own_mapcount(&folio->page);
	total = folio_entire_mapcount(folio);
	if (!cowtrace_folio_maybe_pte_mapped(folio))
		return total;
	nr = folio_nr_pages(folio);
	for (i = 0; i < nr; i++)
		total += cowtrace_page_own_mapcount(folio_page(folio, i));
#if COWTRACE_BEFORE(6, 2)
	/* 5.10, 6.1 file THP: each _mapcount already includes PMD mappings */
	if (!folio_test_anon(folio))
		return total - folio_entire_mapcount(folio) * nr;
	if (folio_test_double_map(folio))
		total -= nr;
#endif
	return total;
#else
	return folio_mapcount(folio);
#endif
}

/* The tag bits of folio->mapping: FOLIO_MAPPING_* since 6.16, PAGE_* before. */
#ifdef FOLIO_MAPPING_KSM
#define COWTRACE_MAPPING_ANON FOLIO_MAPPING_ANON
#define COWTRACE_MAPPING_KSM FOLIO_MAPPING_KSM
#define COWTRACE_MAPPING_FLAGS FOLIO_MAPPING_FLAGS
#else
#define COWTRACE_MAPPING_ANON PAGE_MAPPING_ANON
#define COWTRACE_MAPPING_KSM PAGE_MAPPING_KSM
#define COWTRACE_MAPPING_FLAGS PAGE_MAPPING_FLAGS
#endif

/* Make a PTE writable outside any VMA (6.6 gave pte_mkwrite() a vma). */
static inline pte_t cowtrace_pte_mkwrite(pte_t pte)
{
#if COWTRACE_BEFORE(6, 6)
	return pte_mkwrite(pte);
#else
	return pte_mkwrite_novma(pte);
#endif
}

/* A PMD migration entry (a THP being migrated). */
static inline bool cowtrace_pmd_migration(pmd_t pmd)
{
#if COWTRACE_BEFORE(6, 19)
	return is_pmd_migration_entry(pmd);
#else
	return pmd_is_migration_entry(pmd);
#endif
}

/*
 * What a non-present, non-none PTE holds, decoded alike on every kernel.
 * 6.19 replaced swp_entry_t's is_*_entry() helpers by softleaf_t and the
 * softleaf_is_*() family of leafops.h; the entries themselves did not change.
 */
enum cowtrace_leaf_kind {
	COWTRACE_LEAF_SWAP, /* offset and type on a swap device */
	COWTRACE_LEAF_MIGRATION, /* pfn: the page being migrated */
	COWTRACE_LEAF_DEVICE, /* pfn: device-private or -exclusive */
	COWTRACE_LEAF_MARKER, /* PTE marker, hwpoison, and the like */
};

struct cowtrace_leaf {
	enum cowtrace_leaf_kind kind;
	bool writable; /* migration/device: restores a writable PTE */
	bool uffd_wp_marker; /* the uffd-wp PTE marker */
	unsigned long pfn; /* MIGRATION, DEVICE */
	unsigned long offset; /* SWAP */
	unsigned int type; /* SWAP */
};

/*
 * 5.10 has no PTE markers (5.19: the uffd-wp marker), no device-exclusive
 * entries (5.14), and names the migration and device-private helpers by
 * their older names (is_write_*_entry(), *_entry_to_pfn(); 5.14 and 6.1
 * renamed them).  There a marker is only what non_swap_entry() leaves
 * (hwpoison), and uffd_wp_marker is never set: no such entry exists.
 */
static inline void cowtrace_decode_leaf(pte_t pte, struct cowtrace_leaf *l)
{
#if COWTRACE_BEFORE(5, 14)
	swp_entry_t entry = pte_to_swp_entry(pte);

	memset(l, 0, sizeof(*l));
	if (is_migration_entry(entry)) {
		l->kind = COWTRACE_LEAF_MIGRATION;
		l->writable = is_write_migration_entry(entry);
		l->pfn = migration_entry_to_pfn(entry);
	} else if (is_device_private_entry(entry)) {
		l->kind = COWTRACE_LEAF_DEVICE;
		l->writable = is_write_device_private_entry(entry);
		l->pfn = device_private_entry_to_pfn(entry);
	} else if (non_swap_entry(entry)) {
		l->kind = COWTRACE_LEAF_MARKER; /* hwpoison */
	} else {
		l->kind = COWTRACE_LEAF_SWAP;
		l->offset = swp_offset(entry);
		l->type = swp_type(entry);
	}
#elif COWTRACE_BEFORE(6, 19)
	swp_entry_t entry = pte_to_swp_entry(pte);

	memset(l, 0, sizeof(*l));
	if (is_pte_marker_entry(entry)) {
		l->kind = COWTRACE_LEAF_MARKER;
		l->uffd_wp_marker = pte_marker_uffd_wp(pte);
	} else if (is_migration_entry(entry)) {
		l->kind = COWTRACE_LEAF_MIGRATION;
		l->writable = is_writable_migration_entry(entry);
		l->pfn = swp_offset_pfn(entry);
	} else if (is_device_private_entry(entry) ||
		   is_device_exclusive_entry(entry)) {
		l->kind = COWTRACE_LEAF_DEVICE;
		l->writable = is_writable_device_private_entry(entry);
		l->pfn = swp_offset_pfn(entry);
	} else if (non_swap_entry(entry)) {
		l->kind = COWTRACE_LEAF_MARKER; /* hwpoison and friends */
	} else {
		l->kind = COWTRACE_LEAF_SWAP;
		l->offset = swp_offset(entry);
		l->type = swp_type(entry);
	}
#else
	softleaf_t entry = softleaf_from_pte(pte);

	memset(l, 0, sizeof(*l));
	if (softleaf_is_marker(entry)) {
		l->kind = COWTRACE_LEAF_MARKER;
		l->uffd_wp_marker = softleaf_is_uffd_wp_marker(entry);
	} else if (softleaf_is_migration(entry)) {
		l->kind = COWTRACE_LEAF_MIGRATION;
		l->writable = softleaf_is_migration_write(entry);
		l->pfn = softleaf_to_pfn(entry);
	} else if (softleaf_is_device_private(entry) ||
		   softleaf_is_device_exclusive(entry)) {
		l->kind = COWTRACE_LEAF_DEVICE;
		l->writable = softleaf_is_device_private_write(entry);
		l->pfn = softleaf_to_pfn(entry);
	} else if (softleaf_is_swap(entry)) {
		l->kind = COWTRACE_LEAF_SWAP;
		l->offset = swp_offset(entry);
		l->type = swp_type(entry);
	} else {
		l->kind = COWTRACE_LEAF_MARKER; /* hwpoison and friends */
	}
#endif
}

#endif /* _COWTRACE_COMPAT_H */
