// SPDX-License-Identifier: GPL-2.0
/* Page classification for diff, compare and run (see classify.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

const char *const ct_story_names[CT_NR_STORIES] = {
	[CT_STORY_NOTHING] = "nothing",
	[CT_STORY_UNCHANGED] = "unchanged",
	[CT_STORY_ANON_NEW] = "anon-new",
	[CT_STORY_ZERO_MAPPED] = "zero-mapped",
	[CT_STORY_PAGE_MAPPED] = "page-mapped",
	[CT_STORY_FILE_COPIED] = "file-copied",
	[CT_STORY_COW_COPIED] = "cow-copied",
	[CT_STORY_KSM_BROKEN] = "ksm-broken",
	[CT_STORY_REUSED] = "reused",
	[CT_STORY_SHARED_WRITE] = "shared-write",
	[CT_STORY_ZERO_REPLACED] = "zero-replaced",
	[CT_STORY_OTHER] = "other",
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

/* ---- run's stories ---- */

int ct_story_copies(enum ct_story s)
{
	return s == CT_STORY_FILE_COPIED || s == CT_STORY_COW_COPIED ||
	       s == CT_STORY_KSM_BROKEN;
}

/* A private mapping of a file: its pages are the page cache's until written. */
static int file_private(const struct cowtrace_vma *v)
{
	return v && v->backing == COWTRACE_BACKING_FILE && !(v->flags & COWTRACE_VMA_SHARED);
}

static int anon(const struct cowtrace_page *r)
{
	return F(r, COWTRACE_PG_ANON) && !F(r, COWTRACE_PG_ZERO);
}

/* A page of the page cache (or shmem): a struct page, not anonymous, not zero. */
static int cache_page(const struct cowtrace_page *r)
{
	return present(r) && F(r, COWTRACE_PG_PAGE) && !F(r, COWTRACE_PG_ANON) &&
	       !F(r, COWTRACE_PG_ZERO);
}

/* Without the write bit: a shared anonymous page became exclusive. */
static int became_exclusive(const struct cowtrace_page *a, const struct cowtrace_page *b)
{
	return anon(a) && anon(b) && !F(a, COWTRACE_PG_KSM) && !F(a, COWTRACE_PG_ANON_EXCL) &&
	       F(b, COWTRACE_PG_ANON_EXCL);
}

void ct_story_of_pages(const struct cowtrace_page *a, const struct cowtrace_page *b,
		       const struct cowtrace_vma *vma, uint32_t unavailable,
		       struct ct_story_view *v)
{
	int no_write_bit = !!(unavailable & CT_UNAVAIL_WRITE);

	memset(v, 0, sizeof(*v));
	v->had = a && present(a);
	v->has = b && present(b);
	v->old_pfn = v->had ? a->pfn : 0;
	v->new_pfn = v->has ? b->pfn : 0;
	if (!a && !b) {
		v->change = CT_UNCHANGED;
		v->story = CT_STORY_NOTHING;
		return;
	}
	v->change = ct_classify_change(a, b);
	v->story = CT_STORY_OTHER;
	switch (v->change) {
	case CT_FAULTED:
		if (!v->has)
			break;
		if (F(b, COWTRACE_PG_ZERO))
			v->story = CT_STORY_ZERO_MAPPED;
		else if (anon(b))
			/*
			 * A write to a private file mapping that found no
			 * page mapped reads the file's page and copies it in
			 * the same fault (do_cow_fault()): the result is
			 * anonymous, like a first touch of anonymous memory.
			 */
			v->story = file_private(vma) ? CT_STORY_FILE_COPIED : CT_STORY_ANON_NEW;
		else
			v->story = CT_STORY_PAGE_MAPPED;
		break;
	case CT_ZERO_REPLACED:
		v->story = CT_STORY_ZERO_REPLACED;
		break;
	case CT_KSM_BROKEN:
		v->story = CT_STORY_KSM_BROKEN;
		break;
	case CT_COW_COPIED:
	case CT_MIGRATED:
		/* the page cache's page, then an anonymous one: the write copied it */
		if (file_private(vma) && cache_page(a) && anon(b))
			v->story = CT_STORY_FILE_COPIED;
		else if (v->change == CT_COW_COPIED ||
			 (no_write_bit && became_exclusive(a, b)))
			v->story = CT_STORY_COW_COPIED;
		break;
	case CT_REUSED:
		v->story = vma && (vma->flags & COWTRACE_VMA_SHARED) ? CT_STORY_SHARED_WRITE :
								      CT_STORY_REUSED;
		break;
	case CT_UNCHANGED:
	case CT_SHARED_MORE:
	case CT_SHARED_LESS:
	case CT_OTHER:
		if (no_write_bit && v->has && became_exclusive(a, b))
			v->story = CT_STORY_REUSED;
		else if (v->change != CT_OTHER)
			v->story = CT_STORY_UNCHANGED;
		break;
	default:
		break;
	}
}

static int fault_event(const struct cowtrace_event *e)
{
	return e->kind != COWTRACE_EV_FORK && e->kind != COWTRACE_EV_EXIT;
}

size_t ct_story_of_events(const struct cowtrace_event *ev, size_t n, uint32_t pid,
			  uint64_t addr, struct ct_story_view *v)
{
	const struct cowtrace_event *first = NULL, *last = NULL;
	int copied = 0, file = 0;
	size_t count = 0;

	memset(v, 0, sizeof(*v));
	v->change = CT_UNCHANGED;
	v->story = CT_STORY_UNCHANGED;
	for (size_t i = 0; i < n; i++) {
		const struct cowtrace_event *e = &ev[i];

		if (!fault_event(e) || e->pid != pid || e->address != addr)
			continue;
		if (!first)
			first = e;
		last = e;
		count++;
		if (e->kind == COWTRACE_EV_WP_COPY) {
			copied = 1;
			file |= !!(e->flags & COWTRACE_EVF_FILE);
		}
	}
	if (!count)
		return 0;
	v->had = first->old_pfn != 0;
	v->old_pfn = first->old_pfn;
	v->has = last->new_pfn != 0;
	v->new_pfn = last->new_pfn;
	if (copied) {
		v->story = file ? CT_STORY_FILE_COPIED : CT_STORY_COW_COPIED;
		return count;
	}
	switch (last->kind) {
	case COWTRACE_EV_WP_REUSE:
		v->story = CT_STORY_REUSED;
		break;
	case COWTRACE_EV_WP_SHARED:
		v->story = CT_STORY_SHARED_WRITE;
		break;
	case COWTRACE_EV_WP_ZERO:
		/* a read mapped the zero page, a write replaced it: a first touch */
		v->story = first->kind == COWTRACE_EV_ANON_ZERO ? CT_STORY_ANON_NEW :
								  CT_STORY_ZERO_REPLACED;
		break;
	case COWTRACE_EV_ANON_ZERO:
		v->story = CT_STORY_ZERO_MAPPED;
		break;
	case COWTRACE_EV_ANON_NEW:
		v->story = CT_STORY_ANON_NEW;
		break;
	default:	/* WP_OTHER: a write fault that left the entry read-only */
		v->story = CT_STORY_OTHER;
	}
	return count;
}

/* The records' story @p against the events' story @e. */
static int stories_agree(enum ct_story p, enum ct_story e)
{
	if (p == e)
		return 1;
	/* the module cannot tell a KSM page from another anonymous one */
	if (p == CT_STORY_KSM_BROKEN && e == CT_STORY_COW_COPIED)
		return 1;
	/* a write fault that resolved nothing leaves the records as they were */
	return e == CT_STORY_OTHER && (p == CT_STORY_UNCHANGED || p == CT_STORY_OTHER);
}

static const char *pfn_words(char *buf, size_t len, int mapped, uint64_t pfn)
{
	if (mapped)
		snprintf(buf, len, "PFN %#" PRIx64, pfn);
	else
		snprintf(buf, len, "no page");
	return buf;
}

int ct_story_check(const struct ct_story_view *pages, const struct cowtrace_event *ev,
		   size_t n, uint32_t pid, uint64_t addr, char *why, size_t len)
{
	struct ct_story_view e;
	char pw[32], ew[32];

	if (!ct_story_of_events(ev, n, pid, addr, &e)) {
		/* no event: a page the module does not judge, or no fault at all */
		switch (pages->story) {
		case CT_STORY_NOTHING:
		case CT_STORY_UNCHANGED:
		case CT_STORY_PAGE_MAPPED:
		case CT_STORY_OTHER:
			return 0;
		default:
			snprintf(why, len, "the snapshots show %s, but no fault event was traced there",
				 ct_story_names[pages->story]);
			return -1;
		}
	}
	if (!stories_agree(pages->story, e.story)) {
		snprintf(why, len, "the snapshots show %s, the events %s",
			 ct_story_names[pages->story], ct_story_names[e.story]);
		return -1;
	}
	if (pages->had != e.had || (pages->had && pages->old_pfn != e.old_pfn)) {
		snprintf(why, len, "before the fault the snapshots show %s, the events %s",
			 pfn_words(pw, sizeof(pw), pages->had, pages->old_pfn),
			 pfn_words(ew, sizeof(ew), e.had, e.old_pfn));
		return -1;
	}
	if (pages->has != e.has || (pages->has && pages->new_pfn != e.new_pfn)) {
		snprintf(why, len, "after the fault the snapshots show %s, the events %s",
			 pfn_words(pw, sizeof(pw), pages->has, pages->new_pfn),
			 pfn_words(ew, sizeof(ew), e.has, e.new_pfn));
		return -1;
	}
	return 0;
}
