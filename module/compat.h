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

/*
 * KUnit reaches the walker's internals through symbols exported only when
 * KUnit is built.  kunit/visibility.h provides that from 6.2; before it, do
 * what it does.
 */
#if IS_ENABLED(CONFIG_KUNIT) && __has_include(<kunit/visibility.h>)
#include <kunit/visibility.h>
#elif IS_ENABLED(CONFIG_KUNIT)
#define VISIBLE_IF_KUNIT
#define EXPORT_SYMBOL_IF_KUNIT(symbol) \
	EXPORT_SYMBOL_NS(symbol, EXPORTED_FOR_KUNIT_TESTING)
#else
#define VISIBLE_IF_KUNIT static
#define EXPORT_SYMBOL_IF_KUNIT(symbol)
#endif

/* A lockless snapshot of a PMD entry (pmd_read_atomic() before 6.5). */
static inline pmd_t cowtrace_pmdp_get(pmd_t *pmdp)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	return pmd_read_atomic(pmdp);
#else
	return pmdp_get_lockless(pmdp);
#endif
}

/*
 * Map and lock the PTE table under @pmdp, or return NULL if the PMD no longer
 * points to a table (the caller re-reads the PMD and retries).
 *
 * Before 6.5 a PTE table cannot be freed while mmap_lock is held for read, so
 * once the caller has seen a table pte_offset_map_lock() is safe.  From 6.5 on,
 * khugepaged may free tables under mmap_read_lock via RCU (pte_free_defer), and
 * the kernel's own __pte_offset_map_lock() is not exported: redo what it does,
 * RCU read side plus the pmd_same() re-check under the PTE lock.
 */
static inline pte_t *cowtrace_pte_map_lock(struct mm_struct *mm, pmd_t *pmdp,
					   unsigned long addr,
					   spinlock_t **ptlp)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	return pte_offset_map_lock(mm, pmdp, addr, ptlp);
#else
	pmd_t pmdval;
	spinlock_t *ptl;
	pte_t *pte;

	rcu_read_lock();
	pmdval = pmdp_get_lockless(pmdp);
	if (pmd_none(pmdval) || !pmd_present(pmdval) ||
	    pmd_trans_huge(pmdval) || pmd_devmap(pmdval) || pmd_bad(pmdval))
		goto fail;
	pte = pte_offset_kernel(&pmdval, addr);
	ptl = pte_lockptr(mm, &pmdval);
	spin_lock(ptl);
	if (likely(pmd_same(pmdval, pmdp_get_lockless(pmdp)))) {
		*ptlp = ptl;
		return pte;
	}
	spin_unlock(ptl);
fail:
	rcu_read_unlock();
	return NULL;
#endif
}

static inline void cowtrace_pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	pte_unmap_unlock(pte, ptl);
#else
	spin_unlock(ptl);
	rcu_read_unlock();
#endif
}

/*
 * How many page tables map this 4 KiB page.
 *
 * Up to 6.11 this is page_mapcount(): for a page of an anonymous or hugetlb
 * large folio it adds the folio's entire (PMD/PUD) mappings to the page's own
 * PTE mappings.  For file THP on 6.1 _mapcount already counts both.
 */
static inline unsigned int cowtrace_page_mapcount(struct page *page)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
	return page_mapcount(page);
#else
	struct folio *folio = page_folio(page);
	int mapcount = atomic_read(&page->_mapcount) + 1;

	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount;
#endif
}

/*
 * How many page tables map any page of the folio: folio_mapcount().  On 6.1
 * that function is out of line and not exported, so its loop is repeated here;
 * it is O(folio pages), and the walker caches the result per folio.
 */
static inline unsigned int cowtrace_folio_mapcount(struct folio *folio)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
	int i, nr, total;

	if (likely(!folio_test_large(folio)))
		return atomic_read(&folio->_mapcount) + 1;
	total = folio_entire_mapcount(folio);
	if (folio_test_hugetlb(folio))
		return total;
	nr = folio_nr_pages(folio);
	for (i = 0; i < nr; i++)
		total += atomic_read(&folio_page(folio, i)->_mapcount) + 1;
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	/* 6.1 file THP: each _mapcount already includes the PMD mappings */
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

#endif /* _COWTRACE_COMPAT_H */
