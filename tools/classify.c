// SPDX-License-Identifier: GPL-2.0
/* Page classification for diff and compare (see classify.h). */
#include "classify.h"

const char *const ct_change_names[CT_NR_CHANGES] = {
	[CT_UNCHANGED] = "unchanged",
	[CT_COW_COPIED] = "cow-copied",
	[CT_REUSED] = "reused",
	[CT_WRITE_PROTECTED] = "write-protected",
	[CT_FAULTED] = "faulted",
	[CT_UNMAPPED] = "unmapped",
	[CT_SWAPPED_OUT] = "swapped-out",
	[CT_SWAPPED_IN] = "swapped-in",
	[CT_KSM_MERGED] = "ksm-merged",
	[CT_KSM_BROKEN] = "ksm-broken",
	[CT_ZERO_REPLACED] = "zero-replaced",
	[CT_THP_COLLAPSED] = "thp-collapsed",
	[CT_THP_SPLIT] = "thp-split",
	[CT_MIGRATED] = "migrated",
	[CT_SHARED_MORE] = "shared-more",
	[CT_SHARED_LESS] = "shared-less",
	[CT_OTHER] = "other",
};

const char *const ct_relation_names[CT_NR_RELATIONS] = {
	[CT_SHARED] = "shared",
	[CT_DIVERGED] = "diverged",
	[CT_PARENT_ONLY] = "parent_only",
	[CT_CHILD_ONLY] = "child_only",
};

const char *const ct_cell_names[CT_NR_CELLS] = {
	[CT_CELL_SHARED] = "shared",
	[CT_CELL_SHARED_MAPPING] = "shared-mapping",
	[CT_CELL_COPIED] = "copied",
	[CT_CELL_OWN] = "own",
	[CT_CELL_ZERO] = "zero",
	[CT_CELL_KSM] = "ksm",
	[CT_CELL_THP] = "thp",
	[CT_CELL_SWAP] = "swap",
	[CT_CELL_ABSENT] = "absent",
};

#define F(r, bit) (!!((r)->flags & (bit)))

static int present(const struct cowtrace_page *r)
{
	return F(r, COWTRACE_PTE_PRESENT);
}

static int level(const struct cowtrace_page *r)
{
	return COWTRACE_PAGE_LEVEL(r->flags);
}

/* Facts whose change, alone, is "other" (dirty, young, LRU are churn). */
#define CT_OTHER_FACTS (COWTRACE_PTE_SOFT_DIRTY | COWTRACE_PTE_UFFD_WP | \
			COWTRACE_PTE_MARKER | COWTRACE_PTE_MIGRATION |    \
			COWTRACE_PTE_DEVICE | COWTRACE_PTE_PROTNONE |     \
			COWTRACE_PG_DMA_PINNED | COWTRACE_PG_MLOCKED |    \
			COWTRACE_PG_ANON | COWTRACE_PG_ANON_EXCL)

enum ct_change ct_classify_change(const struct cowtrace_page *a,
				  const struct cowtrace_page *b)
{
	if (!a)
		return CT_FAULTED;
	if (!b)
		return CT_UNMAPPED;
	if (present(a) && F(b, COWTRACE_PTE_SWAP))
		return CT_SWAPPED_OUT;
	if (F(a, COWTRACE_PTE_SWAP) && present(b))
		return CT_SWAPPED_IN;
	if (!present(a) || !present(b))
		return a->pfn == b->pfn && a->flags == b->flags ? CT_UNCHANGED : CT_OTHER;

	if (!F(a, COWTRACE_PG_KSM) && F(b, COWTRACE_PG_KSM))
		return CT_KSM_MERGED;
	if (a->pfn != b->pfn) {
		if (F(a, COWTRACE_PG_KSM))
			return CT_KSM_BROKEN;
		if (F(a, COWTRACE_PG_ZERO) && !F(b, COWTRACE_PG_ZERO))
			return CT_ZERO_REPLACED;
		if (level(a) == COWTRACE_LEVEL_PTE && level(b) == COWTRACE_LEVEL_PMD)
			return CT_THP_COLLAPSED;
		/* a write fault on a page that could not be reused */
		if (!F(a, COWTRACE_PTE_WRITE) && F(b, COWTRACE_PTE_WRITE))
			return CT_COW_COPIED;
		return CT_MIGRATED;
	}
	if (level(a) == COWTRACE_LEVEL_PMD && level(b) == COWTRACE_LEVEL_PTE)
		return CT_THP_SPLIT;
	if (!F(a, COWTRACE_PTE_WRITE) && F(b, COWTRACE_PTE_WRITE))
		return CT_REUSED;
	if (F(a, COWTRACE_PTE_WRITE) && !F(b, COWTRACE_PTE_WRITE))
		return CT_WRITE_PROTECTED;
	if (b->mapcount > a->mapcount)
		return CT_SHARED_MORE;
	if (b->mapcount < a->mapcount)
		return CT_SHARED_LESS;
	if ((a->flags ^ b->flags) & CT_OTHER_FACTS)
		return CT_OTHER;
	return CT_UNCHANGED;
}

enum ct_relation ct_classify_relation(const struct cowtrace_page *parent,
				      const struct cowtrace_page *child)
{
	if (!child)
		return CT_PARENT_ONLY;
	if (!parent)
		return CT_CHILD_ONLY;
	if (F(parent, COWTRACE_PTE_SWAP) != F(child, COWTRACE_PTE_SWAP))
		return CT_DIVERGED;
	if (F(parent, COWTRACE_PTE_SWAP))
		return parent->pfn == child->pfn &&
		       parent->swap_type == child->swap_type ? CT_SHARED : CT_DIVERGED;
	return parent->pfn == child->pfn ? CT_SHARED : CT_DIVERGED;
}

enum ct_cell ct_classify_cell(const struct cowtrace_page *self,
			      const struct cowtrace_page *other,
			      const struct cowtrace_page *origin)
{
	if (!self)
		return CT_CELL_ABSENT;
	if (!present(self))
		return CT_CELL_SWAP;
	if (F(self, COWTRACE_PG_ZERO))
		return CT_CELL_ZERO;
	if (F(self, COWTRACE_PG_KSM))
		return CT_CELL_KSM;
	if (F(self, COWTRACE_PG_THP) || level(self) != COWTRACE_LEVEL_PTE)
		return CT_CELL_THP;
	if (!other)
		return CT_CELL_OWN;
	if (ct_classify_relation(self, other) == CT_SHARED)
		return F(self, COWTRACE_PTE_WRITE) ? CT_CELL_SHARED_MAPPING : CT_CELL_SHARED;
	if (origin && present(origin) && origin->pfn == self->pfn)
		return CT_CELL_OWN;
	return CT_CELL_COPIED;
}

size_t ct_pair_pages(const struct ct_snapshot *a, const struct ct_snapshot *b,
		     ct_pair_fn fn, void *arg)
{
	size_t i = 0, j = 0, n = 0;

	while (i < a->nr_pages || j < b->nr_pages) {
		const struct cowtrace_page *pa = i < a->nr_pages ? &a->pages[i] : NULL;
		const struct cowtrace_page *pb = j < b->nr_pages ? &b->pages[j] : NULL;

		if (pa && pb && pa->addr == pb->addr) {
			fn(pa, pb, arg);
			i++, j++;
		} else if (pa && (!pb || pa->addr < pb->addr)) {
			fn(pa, NULL, arg);
			i++;
		} else {
			fn(NULL, pb, arg);
			j++;
		}
		n++;
	}
	return n;
}
