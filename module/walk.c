// SPDX-License-Identifier: GPL-2.0
/*
 * The page-table walker: one chunk of [addr, end) of an mm into UAPI records.
 *
 * Modelled on fs/proc/task_mmu.c's pagemap walk, but self-contained, because
 * walk_page_range(), vm_normal_page() and the pte_offset_map internals are not
 * exported to modules.  Locking, as the kernel's own walkers do it:
 *
 *   mmap_read_lock_killable	for one chunk, never across copy_to_user
 *   i_mmap_rwsem (read)	hugetlb VMAs only: keeps shared PMD tables alive
 *   PMD lock			while reading a PMD/hugetlb leaf and its page
 *   PTE lock			while reading a PTE and its page
 *   page_table_lock		while reading a PUD leaf
 *
 * A chunk ends when a record buffer is full or after COWTRACE_CHUNK_PMDS page
 * tables, so a huge sparse address space cannot pin mmap_lock, and says which
 * (enum cowtrace_walk_stop); cond_resched() runs after every PMD.  w->addr is
 * always the first address not yet reported.
 */
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/huge_mm.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/mman.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/swapops.h>
#include <linux/userfaultfd_k.h>

#include "compat.h"
#include "cowtrace.h"

/* PMDs (page tables) visited per chunk: 512 is 1 GiB of address space. */
#define COWTRACE_CHUNK_PMDS 512

struct walk_state {
	struct cowtrace_walk *w;
	struct vm_area_struct *vma;
	unsigned int pmd_budget; /* page tables and VMAs left this chunk */
	bool stop;
	enum cowtrace_walk_stop why; /* set with stop */
};

static void stop_walk(struct walk_state *s, enum cowtrace_walk_stop why)
{
	s->stop = true;
	s->why = why;
}

/*
 * Count a PMD (or a VMA) against the chunk's budget: true when that was the
 * last the chunk may take.  The budget never goes below zero, wherever the
 * PMD that spends it lies (the last of a PUD, of a VMA): once spent, every
 * later check says so, and the chunk ends at the next one.
 */
static bool budget_spent(struct walk_state *s)
{
	if (s->pmd_budget)
		s->pmd_budget--;
	return !s->pmd_budget;
}

u32 cowtrace_vma_flags(unsigned long vm_flags, bool has_anon_vma)
{
	static const struct {
		unsigned long vm;
		u32 ct;
	} map[] = {
		{ VM_READ, COWTRACE_VMA_READ },
		{ VM_WRITE, COWTRACE_VMA_WRITE },
		{ VM_EXEC, COWTRACE_VMA_EXEC },
		{ VM_SHARED, COWTRACE_VMA_SHARED },
		{ VM_MAYREAD, COWTRACE_VMA_MAYREAD },
		{ VM_MAYWRITE, COWTRACE_VMA_MAYWRITE },
		{ VM_MAYEXEC, COWTRACE_VMA_MAYEXEC },
		{ VM_MAYSHARE, COWTRACE_VMA_MAYSHARE },
		{ VM_DONTCOPY, COWTRACE_VMA_DONTCOPY },
		{ VM_WIPEONFORK, COWTRACE_VMA_WIPEONFORK },
		{ VM_HUGEPAGE, COWTRACE_VMA_HUGEPAGE },
		{ VM_NOHUGEPAGE, COWTRACE_VMA_NOHUGEPAGE },
		{ VM_MERGEABLE, COWTRACE_VMA_MERGEABLE },
		{ VM_LOCKED, COWTRACE_VMA_LOCKED },
		{ VM_PFNMAP, COWTRACE_VMA_PFNMAP },
		{ VM_IO, COWTRACE_VMA_IO },
		{ VM_HUGETLB, COWTRACE_VMA_HUGETLB },
		{ VM_MIXEDMAP, COWTRACE_VMA_MIXEDMAP },
		{ VM_GROWSDOWN, COWTRACE_VMA_GROWSDOWN },
		{ VM_SOFTDIRTY, COWTRACE_VMA_SOFTDIRTY },
		{ COWTRACE_VM_UFFD_FLAGS, COWTRACE_VMA_UFFD },
	};
	u32 flags = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].vm && (vm_flags & map[i].vm))
			flags |= map[i].ct;
	if ((vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE)
		flags |= COWTRACE_VMA_COW;
	if (has_anon_vma)
		flags |= COWTRACE_VMA_ANON_VMA;
	return flags;
}

/* The name /proc/PID/maps would print, and what kind of backing that is. */
static const char *vma_name(struct vm_area_struct *vma, char *buf, int buflen,
			    u32 *backing)
{
	struct mm_struct *mm = vma->vm_mm;

	if (vma->vm_file) {
		*backing = COWTRACE_BACKING_FILE;
		return d_path(&vma->vm_file->f_path, buf, buflen);
	}
	if (vma->vm_ops && vma->vm_ops->name) {
		*backing = COWTRACE_BACKING_SPECIAL;
		return vma->vm_ops->name(vma);
	}
	if (vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk) {
		*backing = COWTRACE_BACKING_HEAP;
		return "[heap]";
	}
	if (vma->vm_start <= mm->start_stack &&
	    vma->vm_end >= mm->start_stack) {
		*backing = COWTRACE_BACKING_STACK;
		return "[stack]";
	}
#ifdef CONFIG_ANON_VMA_NAME
	/* anon_name shares a union with file fields: valid without vm_file */
	if (vma->anon_name) {
		*backing = COWTRACE_BACKING_ANON_NAMED;
		snprintf(buf, buflen, "[anon:%s]", vma->anon_name->name);
		return buf;
	}
#endif
	*backing = COWTRACE_BACKING_ANON;
	return NULL;
}

/*
 * Fill @rec for @vma.  The name goes to names[*names_len...] when it fits in
 * names_cap; returns false (and writes nothing) when it does not.
 */
static bool fill_vma(struct cowtrace_vma *rec, struct vm_area_struct *vma,
		     struct cowtrace_walk *w)
{
	const char *name;
	size_t len = 0;
	u32 backing;

	memset(rec, 0, sizeof(*rec));
	rec->start = vma->vm_start;
	rec->end = vma->vm_end;
	rec->pgoff = vma->vm_pgoff;
	rec->vm_flags = vma->vm_flags;
	rec->flags = cowtrace_vma_flags(vma->vm_flags, !!vma->anon_vma);
	if (vma->vm_file) {
		struct inode *inode = file_inode(vma->vm_file);

		rec->ino = inode->i_ino;
		rec->dev = new_encode_dev(inode->i_sb->s_dev);
	}
	name = vma_name(vma, w->pathbuf, PATH_MAX, &backing);
	rec->backing = backing;
	if (IS_ERR_OR_NULL(name) || !w->names)
		return true;
	len = strlen(name);
	if (w->names_len + len + 1 > w->names_cap)
		return false;
	memcpy(w->names + w->names_len, name, len + 1);
	rec->name_off = w->names_len;
	rec->name_len = len;
	w->names_len += len + 1;
	return true;
}

/*
 * The helpers from here to walk_pte_table() run once per page, so they are
 * inlined into the loops: a call and return per helper per page cost more
 * than the work they do (several times over under QEMU's TCG, where a return
 * is a lookup).
 *
 * Fold @page into @run when it is the run's next page: the next address, the
 * PFN one on (or the same PFN, for a run of zero-page mappings), and every
 * other field equal.  Returns false, changing nothing, otherwise.
 */
static __always_inline bool run_extend(struct cowtrace_page_run *run,
				       const struct cowtrace_page *page)
{
	const struct cowtrace_page *first = &run->first;
	u64 n = run->nr_pages;
	u32 step;

	if (page->addr != first->addr + n * PAGE_SIZE ||
	    page->flags != first->flags || page->refcount != first->refcount ||
	    page->mapcount != first->mapcount ||
	    page->folio_mapcount != first->folio_mapcount || n == U32_MAX)
		return false;
	if (n == 1) {
		if (page->pfn == first->pfn + 1)
			step = 1;
		else if (page->pfn == first->pfn)
			step = 0;
		else
			return false;
		run->pfn_step = step;
	} else if (page->pfn != first->pfn + n * run->pfn_step) {
		return false;
	}
	run->nr_pages++;
	return true;
}

/*
 * Hand one page record to the chunk: into the run before it when it extends
 * it, else into a new record.  False, with w->addr at the page, when the
 * chunk's buffer is full.
 */
static __always_inline bool push_page(struct walk_state *s,
				      const struct cowtrace_page *page)
{
	struct cowtrace_walk *w = s->w;
	struct cowtrace_page_run *run;

	if (w->runs && w->nr_pages &&
	    run_extend(&w->runs[w->nr_pages - 1], page))
		return true;
	if (w->nr_pages >= w->page_cap) {
		stop_walk(s, COWTRACE_WALK_PAGES_FULL);
		w->addr = page->addr;
		return false;
	}
	if (!w->runs) {
		w->pages[w->nr_pages++] = *page;
		return true;
	}
	run = &w->runs[w->nr_pages++];
	run->first = *page;
	run->nr_pages = 1;
	run->pfn_step = 1;
	return true;
}

/*
 * The folio-wide facts, read once per folio.  Its flags word and mapping are
 * each read once and tested here, because every folio_test_*() reads them
 * again.  A small folio is its one page, so its facts are the page's.
 */
static __always_inline void read_folio_facts(struct cowtrace_walk *w,
					     struct folio *folio)
{
	unsigned long pf = READ_ONCE(*folio_flags(folio, 0));
	unsigned long mapping = cowtrace_folio_mapping(folio);
	bool large = pf & BIT(PG_head);
	bool anon_excl_tracked = false;
	u32 flags = COWTRACE_PG_PAGE;

	if (mapping & COWTRACE_MAPPING_ANON) {
		flags |= COWTRACE_PG_ANON;
		if ((mapping & COWTRACE_MAPPING_FLAGS) == COWTRACE_MAPPING_KSM)
			flags |= COWTRACE_PG_KSM;
		else
			anon_excl_tracked = true;
	}
	if (large) {
		flags |= folio_test_hugetlb(folio) ? COWTRACE_PG_HUGETLB :
						     COWTRACE_PG_THP;
		flags |= min_t(u32, folio_order(folio), 31)
			 << COWTRACE_ORDER_SHIFT;
		w->folio_facts.page_mapcount_base =
			cowtrace_folio_mapcount_base(folio);
		/* summing a THP's 512 mapcounts once per page: quadratic */
		w->folio_facts.mapcount = cowtrace_folio_mapcount(folio);
	} else {
		if (anon_excl_tracked && cowtrace_flags_anon_exclusive(pf))
			flags |= COWTRACE_PG_ANON_EXCL;
		w->folio_facts.mapcount =
			cowtrace_page_own_mapcount(&folio->page);
	}
	if ((pf & BIT(PG_swapbacked)) && (pf & BIT(PG_swapcache)))
		flags |= COWTRACE_PG_SWAPCACHE;
	if (pf & BIT(PG_lru))
		flags |= COWTRACE_PG_LRU;
	if (pf & BIT(PG_mlocked))
		flags |= COWTRACE_PG_MLOCKED;
	w->folio_facts.refcount = folio_ref_count(folio);
	/* a small folio's pins are counted in its refcount */
	if (large ? folio_maybe_dma_pinned(folio) :
		    w->folio_facts.refcount >= GUP_PIN_COUNTING_BIAS)
		flags |= COWTRACE_PG_DMA_PINNED;
	w->folio_facts.flags = flags;
	w->folio_facts.raw_flags = pf;
	w->folio_facts.raw_mapping = mapping;
	w->folio_facts.folio = folio;
}

/* What is cached from struct pages is only good while their lock is held. */
static void forget_folio_facts(struct cowtrace_walk *w)
{
	w->folio_facts.folio = NULL;
	w->valid_subsection = ULONG_MAX;
}

/* @page of the large folio whose facts w->folio_facts holds */
static __always_inline u32 large_page_mapcount(struct cowtrace_walk *w,
					       struct page *page)
{
	return cowtrace_large_page_mapcount(w->folio_facts.page_mapcount_base,
					    page);
}

/*
 * What struct page says.  Called with the PTE or PMD lock held, so the page
 * stays mapped, and so allocated, while it is read.  @entire: the folio is
 * mapped whole by one PMD or PUD leaf.
 */
static __always_inline void fill_page(struct cowtrace_walk *w,
				      struct cowtrace_page *rec,
				      struct page *page, struct folio *folio,
				      bool entire)
{
	struct page *excl_page;
	u32 flags;

	if (w->folio_facts.folio != folio)
		read_folio_facts(w, folio);
	flags = w->folio_facts.flags;
	rec->refcount = w->folio_facts.refcount;
	rec->folio_mapcount = w->folio_facts.mapcount;
	if (!(flags & (COWTRACE_PG_THP | COWTRACE_PG_HUGETLB))) {
		rec->flags |= flags;
		rec->mapcount = w->folio_facts.mapcount;
		return;
	}
	flags |= page == &folio->page ? COWTRACE_PG_HEAD : COWTRACE_PG_TAIL;
	rec->mapcount = large_page_mapcount(w, page);
	/*
	 * A folio mapped whole (a PMD-mapped THP, hugetlb) keeps
	 * PG_anon_exclusive on its head page only; a PTE-mapped one keeps it
	 * per page.
	 */
	if ((flags & (COWTRACE_PG_ANON | COWTRACE_PG_KSM)) ==
	    COWTRACE_PG_ANON) {
		excl_page = entire || (flags & COWTRACE_PG_HUGETLB) ?
				    &folio->page :
				    page;
		if (cowtrace_page_anon_exclusive(excl_page))
			flags |= COWTRACE_PG_ANON_EXCL;
	}
	rec->flags |= flags;
}

/* A non-present PTE (or hugetlb leaf): swap, migration, device, marker. */
static void fill_swap_pte(struct cowtrace_page *rec, pte_t pte,
			  unsigned long index)
{
	struct cowtrace_leaf leaf;

	if (pte_swp_soft_dirty(pte))
		rec->flags |= COWTRACE_PTE_SOFT_DIRTY;
	if (cowtrace_pte_swp_uffd(pte))
		rec->flags |= COWTRACE_PTE_UFFD_WP;

	cowtrace_decode_leaf(pte, &leaf);
	switch (leaf.kind) {
	case COWTRACE_LEAF_MARKER:
		rec->flags |= COWTRACE_PTE_MARKER;
		if (leaf.uffd_wp_marker)
			rec->flags |= COWTRACE_PTE_UFFD_WP;
		break;
	case COWTRACE_LEAF_MIGRATION:
	case COWTRACE_LEAF_DEVICE:
		rec->flags |= leaf.kind == COWTRACE_LEAF_MIGRATION ?
				      COWTRACE_PTE_MIGRATION :
				      COWTRACE_PTE_DEVICE;
		if (leaf.writable)
			rec->flags |= COWTRACE_PTE_WRITE;
		rec->pfn = leaf.pfn + index;
		break;
	case COWTRACE_LEAF_SWAP:
		rec->flags |= COWTRACE_PTE_SWAP;
		rec->pfn = leaf.offset;
		rec->swap_type = leaf.type;
		/* the swap PTE carries PageAnonExclusive across swap-out */
		if (cowtrace_pte_swp_exclusive(pte))
			rec->flags |= COWTRACE_PG_ANON_EXCL;
		break;
	}
}

/*
 * The struct page behind a present PTE, as vm_normal_page() decides it on
 * architectures with pte_special (all we build for): special PTEs (zero
 * page, PFN maps) have none.
 */
static __always_inline struct page *pte_page_or_null(struct cowtrace_walk *w,
						     pte_t pte)
{
	unsigned long pfn = pte_pfn(pte);
	unsigned long subsection = pfn >> PFN_SUBSECTION_SHIFT;

	if (pte_special(pte))
		return NULL;
	/*
	 * pfn_valid() is exact per 2 MiB subsection, and a subsection that
	 * holds a page mapped under the lock we hold cannot go offline: one
	 * lookup serves all 512 neighbours of a page found valid.
	 */
	if (subsection != w->valid_subsection) {
		if (!pfn_valid(pfn))
			return NULL;
		w->valid_subsection = subsection;
	}
	return pfn_to_page(pfn);
}

/*
 * The bits of a present entry, at any level: huge entries are read in PTE
 * format (see walk_leaf()).
 */
static __always_inline u32 present_entry_flags(pte_t pte)
{
	u32 flags = COWTRACE_PTE_PRESENT;

	if (pte_write(pte))
		flags |= COWTRACE_PTE_WRITE;
	if (pte_dirty(pte))
		flags |= COWTRACE_PTE_DIRTY;
	if (pte_young(pte))
		flags |= COWTRACE_PTE_YOUNG;
	if (pte_soft_dirty(pte))
		flags |= COWTRACE_PTE_SOFT_DIRTY;
	if (cowtrace_pte_uffd(pte))
		flags |= COWTRACE_PTE_UFFD_WP;
	if (pte_protnone(pte))
		flags |= COWTRACE_PTE_PROTNONE;
	return flags;
}

static __always_inline void fill_pte(struct cowtrace_walk *w,
				     struct cowtrace_page *rec, pte_t pte)
{
	struct page *page;

	if (!pte_present(pte)) {
		fill_swap_pte(rec, pte, 0);
		return;
	}
	rec->flags |= present_entry_flags(pte);
	if (pte_special(pte))
		rec->flags |= COWTRACE_PTE_SPECIAL;
	rec->pfn = pte_pfn(pte);
	if (is_zero_pfn(rec->pfn)) {
		rec->flags |= COWTRACE_PG_ZERO;
		return;
	}
	page = pte_page_or_null(w, pte);
	if (page)
		fill_page(w, rec, page, page_folio(page), false);
}

/* @page is a small folio with the words folio_facts was made from. */
static __always_inline bool small_page_repeats_facts(struct cowtrace_walk *w,
						     struct page *page)
{
	return !PageTail(page) &&
	       cowtrace_page_flags_word(page) == w->folio_facts.raw_flags &&
	       (unsigned long)READ_ONCE(page->mapping) ==
		       w->folio_facts.raw_mapping &&
	       page_ref_count(page) == w->folio_facts.refcount &&
	       cowtrace_page_own_mapcount(page) == w->folio_facts.mapcount;
}

/*
 * The fast path of dense memory.  The page @last maps has just gone into the
 * last run, its record made from a small folio whose raw words folio_facts
 * kept.  Each of the next PTEs, from @ptep on (at most @max), that maps the
 * next PFN by an entry alike but for the PFN, to a small folio with the same
 * words, would make the same record one page and one PFN on (see
 * run_extend()): lengthen the run by those without decoding anything.
 * Returns how many PTEs it took.
 */
static __always_inline unsigned long take_repeats(struct cowtrace_walk *w,
						  pte_t *ptep, pte_t last,
						  unsigned long max)
{
	struct cowtrace_page_run *run = NULL;
	unsigned long n, pfn;
	pte_t pte;

	for (n = 0; n < max; n++, last = pte) {
		pte = ptep_get(ptep + n);
		pfn = pte_pfn(pte);
		if (!cowtrace_pte_same_but_pfn(pte, last) ||
		    pfn != pte_pfn(last) + 1)
			break;
		if (!run) {
			/* a run of small-folio pages, PFNs one apart */
			if (!w->runs)
				break;
			run = &w->runs[w->nr_pages - 1];
			if ((run->first.flags &
			     (COWTRACE_PG_PAGE | COWTRACE_PG_THP |
			      COWTRACE_PG_HUGETLB | COWTRACE_PTE_SPECIAL)) !=
				    COWTRACE_PG_PAGE ||
			    (run->nr_pages > 1 && run->pfn_step != 1))
				break;
		}
		if (run->nr_pages == U32_MAX ||
		    pfn >> PFN_SUBSECTION_SHIFT != w->valid_subsection ||
		    is_zero_pfn(pfn))
			break;
		if (!small_page_repeats_facts(w, pfn_to_page(pfn)))
			break;
		run->pfn_step = 1;
		run->nr_pages++;
	}
	if (n) /* the facts are the last page's now (same values) */
		w->folio_facts.folio = page_folio(pfn_to_page(pte_pfn(last)));
	return n;
}

static void walk_pte_table(struct walk_state *s, pmd_t *pmdp,
			   unsigned long addr, unsigned long end, bool *retry)
{
	struct cowtrace_walk *w = s->w;
	spinlock_t *ptl; /* held while PTEs and their pages are read */
	pte_t *start_pte, *pte;
	pmd_t pmdval;

	start_pte = cowtrace_pte_map(w->mm, pmdp, addr, &pmdval, &ptl);
	if (!start_pte) {
		*retry = true;
		return;
	}
	spin_lock(ptl);
	if (!cowtrace_pte_table_same(pmdp, pmdval)) {
		*retry = true;
		goto out;
	}
	for (pte = start_pte; addr != end; pte++, addr += PAGE_SIZE) {
		pte_t ptent = ptep_get(pte);
		struct cowtrace_page rec;
		unsigned long taken;

		if (pte_none(ptent))
			continue;
		rec = (struct cowtrace_page){ .addr = addr };
		fill_pte(w, &rec, ptent);
		if (!push_page(s, &rec))
			break;
		taken = take_repeats(w, pte + 1, ptent,
				     (end - addr - PAGE_SIZE) >> PAGE_SHIFT);
		pte += taken;
		addr += taken << PAGE_SHIFT;
	}
out:
	spin_unlock(ptl);
	cowtrace_pte_unmap(start_pte);
	forget_folio_facts(w);
}

/*
 * Emit one record per 4 KiB page of a PMD or PUD leaf mapping @base..,
 * called with the leaf's lock held.  @entry is the leaf in PTE format, which
 * is how x86 (and the hugetlb code everywhere) reads huge entries; the PFN
 * comes from the level's own accessor because the PAT bit moves.
 *
 * Every tail page of the folio has the same record but for its address, PFN
 * and own mapcount, so a tail whose mapcount matches the run the tail before
 * it went into (the last run) only lengthens that run.  When no PTE maps any
 * page of the folio (cowtrace_folio_maybe_pte_mapped()), the tails' own
 * mapcounts are all 0: the first tail's record stands for every one after
 * it, and the leaf costs the struct-page reads of two pages, not of 512.
 */
static void walk_leaf(struct walk_state *s, pte_t entry, unsigned long pfn,
		      unsigned long base, unsigned long addr, unsigned long end,
		      u32 level)
{
	struct cowtrace_walk *w = s->w;
	struct vm_area_struct *vma = s->vma;
	struct cowtrace_page_run *tail_run = NULL;
	struct cowtrace_page tail = {}; /* the first tail's record, once made */
	struct folio *folio = NULL;
	bool huge_zero = false, tails_alike = false;
	u32 flags = level << COWTRACE_LEVEL_SHIFT;

	/* one entry maps every page of the leaf: decode it once */
	if (pte_present(entry))
		flags |= present_entry_flags(entry);
	if (pte_present(entry) && pfn_valid(pfn)) {
		folio = page_folio(pfn_to_page(pfn));
		/*
		 * huge_zero_pfn is not exported.  Only the huge zero page can
		 * be PMD-mapped in an anonymous VMA without being anonymous.
		 */
		huge_zero = vma_is_anonymous(vma) && !folio_test_anon(folio);
		if (huge_zero)
			flags |= COWTRACE_PG_ZERO | COWTRACE_PG_THP |
				 (folio_order(folio) << COWTRACE_ORDER_SHIFT);
		else if (folio_test_large(folio)) /* not a devmap PMD's page */
			tails_alike = !cowtrace_folio_maybe_pte_mapped(folio);
	}
	for (; addr != end; addr += PAGE_SIZE) {
		unsigned long index = (addr - base) >> PAGE_SHIFT;
		struct cowtrace_page rec = { .addr = addr, .flags = flags };
		struct page *page;

		if (!pte_present(entry)) {
			fill_swap_pte(&rec, entry, index);
		} else if (folio && !huge_zero) {
			page = pfn_to_page(pfn + index);
			if (tail_run && tails_alike) {
				/* this tail and every one after it */
				tail_run->nr_pages += PHYS_PFN(end - addr);
				return;
			}
			if (tail_run && page != &folio->page &&
			    tail_run->first.mapcount ==
				    large_page_mapcount(w, page)) {
				tail_run->nr_pages++;
				continue;
			}
			if (tail.flags && tails_alike) {
				rec = tail;
				rec.addr = addr;
			} else {
				fill_page(w, &rec, page, folio, true);
			}
			rec.pfn = pfn + index;
		} else {
			rec.pfn = pfn + index;
		}
		if (!push_page(s, &rec))
			return;
		if (rec.flags & COWTRACE_PG_TAIL)
			tail = rec;
		tail_run = w->runs && (rec.flags & COWTRACE_PG_TAIL) ?
				   &w->runs[w->nr_pages - 1] :
				   NULL;
	}
}

static bool pmd_is_leaf(struct vm_area_struct *vma, pmd_t pmd)
{
	if (is_vm_hugetlb_page(vma))
		return !pmd_none(pmd);
	return pmd_trans_huge(pmd) || cowtrace_pmd_devmap(pmd) ||
	       cowtrace_pmd_migration(pmd);
}

/* [addr, end) of the PMD table holding @pmdp, the entry for @addr. */
static void walk_pmd_range(struct walk_state *s, pmd_t *pmdp,
			   unsigned long addr, unsigned long end)
{
	struct cowtrace_walk *w = s->w;
	unsigned long next;

	do {
		bool retry;
		pmd_t pmd;

		next = pmd_addr_end(addr, end);
again:
		retry = false;
		pmd = cowtrace_pmdp_get(pmdp);
		if (pmd_none(pmd))
			goto done;
		if (pmd_is_leaf(s->vma, pmd)) {
			spinlock_t *ptl = pmd_lock(w->mm, pmdp);

			pmd = *pmdp;
			if (!pmd_is_leaf(s->vma, pmd)) {
				spin_unlock(ptl);
				goto again;
			}
			walk_leaf(s, __pte(pmd_val(pmd)),
				  pmd_present(pmd) ? pmd_pfn(pmd) : 0,
				  addr & PMD_MASK, addr, next,
				  COWTRACE_LEVEL_PMD);
			spin_unlock(ptl);
			forget_folio_facts(w);
		} else if (!pmd_bad(pmd)) {
			walk_pte_table(s, pmdp, addr, next, &retry);
			if (retry)
				goto again;
		}
		if (s->stop)
			return;
done:
		w->addr = next;
		/* after every PMD, an empty one too: no spinlock or RCU held */
		cond_resched();
		if (budget_spent(s)) {
			stop_walk(s, COWTRACE_WALK_BUDGET);
			return;
		}
	} while (pmdp++, addr = next, addr != end);
}

static bool pud_is_leaf(struct vm_area_struct *vma, pud_t pud)
{
	if (is_vm_hugetlb_page(vma) &&
	    huge_page_size(hstate_vma(vma)) == PUD_SIZE)
		return !pud_none(pud);
	return pud_leaf(pud);
}

/* One PUD entry, read as @pud by cowtrace_pud_lookup(): [addr, next) of it. */
static void walk_pud(struct walk_state *s, pud_t *pudp, pud_t pud,
		     unsigned long addr, unsigned long next)
{
	struct cowtrace_walk *w = s->w;

	if (pud_none(pud))
		return;
	if (pud_is_leaf(s->vma, pud)) {
		/* huge_pte_lockptr() and pud_lockptr() for PUD leaves */
		spin_lock(&w->mm->page_table_lock);
		pud = READ_ONCE(*pudp);
		if (pud_is_leaf(s->vma, pud))
			walk_leaf(s, __pte(pud_val(pud)),
				  pud_present(pud) ? pud_pfn(pud) : 0,
				  addr & PUD_MASK, addr, next,
				  COWTRACE_LEVEL_PUD);
		spin_unlock(&w->mm->page_table_lock);
		forget_folio_facts(w);
	} else if (!pud_bad(pud)) {
		/* not the _lockless form: pmd_lock() needs the table's own entry */
		walk_pmd_range(s, pmd_offset(pudp, addr), addr, next);
	}
}

/*
 * The descent through the upper levels, the one both the walker (mmap_lock
 * held) and the trace probes (no lock, interrupts off: trace.c) use.  Every
 * entry is read once and the level below found from the value read, as
 * GUP-fast does, so the entry tested is the entry followed even while
 * another CPU changes it.  A level the kernel folds has no table of its own:
 * its "entry" is then the copy in @u, so @u must live as long as the pointer
 * returned is used.  A reader never "fixes" a bad entry the way
 * pgd_none_or_clear_bad() does: it skips it.
 *
 * Returns the PUD entry mapping @addr, its value in u->pud; or NULL when the
 * PGD or P4D entry above it is empty or bad.  *next is where the entry the
 * descent stopped at ends (at most @end), and where a walk goes on: a whole
 * empty PGD (512 GiB) or P4D entry is one step, not one per PMD.
 */
pud_t *cowtrace_pud_lookup(struct mm_struct *mm, unsigned long addr,
			   unsigned long end, struct cowtrace_upper *u,
			   unsigned long *next)
{
	pgd_t *pgdp = pgd_offset(mm, addr);
	p4d_t *p4dp;
	pud_t *pudp;

	u->pgd = READ_ONCE(*pgdp);
	if (pgd_none(u->pgd) || pgd_bad(u->pgd)) {
		*next = pgd_addr_end(addr, end);
		return NULL;
	}
	p4dp = p4d_offset_lockless(pgdp, u->pgd, addr);
	u->p4d = READ_ONCE(*p4dp);
	if (p4d_none(u->p4d) || p4d_bad(u->p4d)) {
		*next = p4d_addr_end(addr, end);
		return NULL;
	}
	pudp = pud_offset_lockless(p4dp, u->p4d, addr);
	u->pud = READ_ONCE(*pudp);
	*next = pud_addr_end(addr, end);
	return pudp;
}

static void walk_vma_pages(struct walk_state *s, unsigned long end)
{
	struct cowtrace_walk *w = s->w;
	unsigned long addr = w->addr, next;

	do {
		struct cowtrace_upper u;
		pud_t *pudp = cowtrace_pud_lookup(w->mm, addr, end, &u, &next);

		if (pudp)
			walk_pud(s, pudp, u.pud, addr, next);
		if (s->stop)
			return;
		w->addr = next;
	} while (addr = next, addr != end);
}

/*
 * Every field starts cleared: a buffer pointer the caller does not set is
 * NULL, "no records of that kind".  The ioctl's walk lives on its stack, and
 * a stale page pointer there once sent a VMA-only walk into the page tables
 * with no room for a page: it stopped at the first one, where it began.
 */
void cowtrace_walk_init(struct cowtrace_walk *w, struct mm_struct *mm,
			unsigned long start, unsigned long end)
{
	*w = (struct cowtrace_walk){
		.mm = mm,
		.end = end,
		.addr = start,
		.last_vma_start = -1UL,
	};
	forget_folio_facts(w);
}

/*
 * Fill the buffers from w->addr on; on return w->addr is where the next chunk
 * starts (w->end when the range is done).  Returns -EINTR, or why the chunk
 * ended: COWTRACE_WALK_DONE exactly when w->addr has reached w->end.
 */
int cowtrace_walk_chunk(struct cowtrace_walk *w)
{
	struct walk_state s = { .w = w, .pmd_budget = COWTRACE_CHUNK_PMDS };
	enum cowtrace_walk_stop why = COWTRACE_WALK_DONE;
	struct vm_area_struct *vma;
	int ret;

	w->nr_vmas = 0;
	w->nr_pages = 0;
	w->names_len = 0;
	if (w->addr >= w->end)
		return COWTRACE_WALK_DONE;
	ret = mmap_read_lock_killable(w->mm);
	if (ret)
		return ret;

	for (vma = find_vma(w->mm, w->addr); vma && vma->vm_start < w->end;
	     vma = find_vma(w->mm, w->addr)) {
		unsigned long vma_end = min(vma->vm_end, w->end);
		struct address_space *hugetlb_mapping = NULL;

		s.vma = vma;
		if (w->addr < vma->vm_start)
			w->addr = vma->vm_start;
		if (w->vmas && vma->vm_start != w->last_vma_start) {
			if (w->nr_vmas >= w->vma_cap) {
				why = COWTRACE_WALK_VMAS_FULL;
				goto out;
			}
			if (!fill_vma(&w->vmas[w->nr_vmas], vma, w)) {
				why = COWTRACE_WALK_NAMES_FULL;
				goto out;
			}
			w->nr_vmas++;
			w->last_vma_start = vma->vm_start;
		}
		if (w->pages || w->runs) {
			/* huge_pmd_unshare() needs i_mmap_rwsem for write */
			if (is_vm_hugetlb_page(vma) && vma->vm_file) {
				hugetlb_mapping = vma->vm_file->f_mapping;
				i_mmap_lock_read(hugetlb_mapping);
			}
			walk_vma_pages(&s, vma_end);
			if (hugetlb_mapping)
				i_mmap_unlock_read(hugetlb_mapping);
			if (s.stop) {
				why = s.why;
				goto out;
			}
		}
		w->addr = vma_end;
		if (w->addr >= w->end)
			goto out;
		if (budget_spent(&s)) {
			why = COWTRACE_WALK_BUDGET;
			goto out;
		}
	}
	w->addr = w->end;
out:
	mmap_read_unlock(w->mm);
	return w->addr >= w->end ? COWTRACE_WALK_DONE : why;
}

#ifdef COWTRACE_KUNIT
#include "../kunit/walk-kunit.h"
#include "../kunit/walk-mm-kunit.h"
#endif
