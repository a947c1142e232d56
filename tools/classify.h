/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What happened to each page: between two snapshots of one process (diff),
 * and between a parent and its fork()ed child (compare).  Pure functions of
 * the records, so the host unit tests can prove every class.
 */
#ifndef COWTRACE_CLASSIFY_H
#define COWTRACE_CLASSIFY_H

#include "snapshot.h"

/* diff: the same address in snapshot A (before) and B (after). */
enum ct_change {
	CT_UNCHANGED,		/* same page, same mapping facts */
	CT_COW_COPIED,		/* was read-only, now a different page, writable */
	CT_REUSED,		/* same page, write bit and exclusivity gained */
	CT_WRITE_PROTECTED,	/* same page, write bit lost (a fork) */
	CT_FAULTED,		/* not populated before, populated now */
	CT_UNMAPPED,		/* populated before, gone now */
	CT_SWAPPED_OUT,
	CT_SWAPPED_IN,
	CT_KSM_MERGED,		/* now a KSM page */
	CT_KSM_BROKEN,		/* was a KSM page, now a private copy */
	CT_ZERO_REPLACED,	/* the zero page replaced by a real page */
	CT_THP_COLLAPSED,	/* PTE-mapped before, PMD-mapped THP now */
	CT_THP_SPLIT,		/* PMD-mapped before, PTE-mapped now */
	CT_MIGRATED,		/* a different page, no COW (compaction, NUMA) */
	CT_SHARED_MORE,		/* same page, now mapped more often */
	CT_SHARED_LESS,		/* same page, mapped less often (the other side copied) */
	CT_OTHER,		/* anything else: soft-dirty, uffd-wp, marker... */
	CT_NR_CHANGES
};

/* compare: the same address in the parent and the child. */
enum ct_relation {
	CT_SHARED,		/* same page (or swap slot) in both */
	CT_DIVERGED,		/* different pages: one side copied */
	CT_PARENT_ONLY,
	CT_CHILD_ONLY,
	CT_NR_RELATIONS
};

/*
 * The map (cowtrace compare/run --html): the colour of one process's page
 * at an address, given the other process's page there.  Special pages win
 * over the relation, so a THP shared after fork is drawn as THP.
 */
enum ct_cell {
	CT_CELL_SHARED,		/* the same page in both, read-only: COW pending */
	CT_CELL_SHARED_MAPPING,	/* the same page, writable: MAP_SHARED, no COW */
	CT_CELL_COPIED,		/* its own page where the other has another: a copy */
	CT_CELL_OWN,		/* the original after the other copied, or only here */
	CT_CELL_ZERO,		/* the shared zero page */
	CT_CELL_KSM,
	CT_CELL_THP,
	CT_CELL_SWAP,		/* swapped out, or another non-present entry */
	CT_CELL_ABSENT,		/* nothing here, where the other has a page */
	CT_NR_CELLS
};

extern const char *const ct_change_names[CT_NR_CHANGES];
extern const char *const ct_relation_names[CT_NR_RELATIONS];
extern const char *const ct_cell_names[CT_NR_CELLS];

/* a or b may be NULL (not populated); never both. */
enum ct_change ct_classify_change(const struct cowtrace_page *a,
				  const struct cowtrace_page *b);
enum ct_relation ct_classify_relation(const struct cowtrace_page *parent,
				      const struct cowtrace_page *child);
/*
 * self, other or both may be NULL.  origin is the page at this address when
 * the processes forked, if known: of two diverged pages, the one still at
 * the original PFN was reused and the other is the copy.  Without it both
 * are "copied", as a single compare cannot tell which side copied.
 */
enum ct_cell ct_classify_cell(const struct cowtrace_page *self,
			      const struct cowtrace_page *other,
			      const struct cowtrace_page *origin);

/*
 * Walk two snapshots' pages in address order, calling fn for every address
 * populated in either.  Returns the number of addresses visited.
 */
typedef void (*ct_pair_fn)(const struct cowtrace_page *a,
			   const struct cowtrace_page *b, void *arg);
size_t ct_pair_pages(const struct ct_snapshot *a, const struct ct_snapshot *b,
		     ct_pair_fn fn, void *arg);

/*
 * cowtrace run's step sentences: what the kernel did at one address of the
 * process that acted.  Told twice, independently: from its page records
 * before and after (and the VMA there), and from its trace events at that
 * address; ct_story_check() says whether the two accounts agree.
 */
enum ct_story {
	CT_STORY_NOTHING,	/* nothing mapped before or after */
	CT_STORY_UNCHANGED,	/* the same page: no fault worth telling */
	CT_STORY_ANON_NEW,	/* first touch of anonymous memory: a new zeroed page */
	CT_STORY_ZERO_MAPPED,	/* first touch by a read: the shared zero page */
	CT_STORY_PAGE_MAPPED,	/* first touch mapped the file's (or shmem's) own page */
	CT_STORY_FILE_COPIED,	/* a write to a private file mapping copied the
				 * page-cache page into a new anonymous page */
	CT_STORY_COW_COPIED,	/* a write copied a shared anonymous page */
	CT_STORY_KSM_BROKEN,	/* a write copied a KSM page */
	CT_STORY_REUSED,	/* a write made the same private page writable */
	CT_STORY_SHARED_WRITE,	/* a write made the same MAP_SHARED page writable */
	CT_STORY_ZERO_REPLACED,	/* a write replaced the zero page: nothing copied */
	CT_STORY_OTHER,		/* another change, which the diff class names */
	CT_NR_STORIES
};

extern const char *const ct_story_names[CT_NR_STORIES];

struct ct_story_view {
	enum ct_story story;
	enum ct_change change;	/* pages: the diff class of the two records */
	int had, has;		/* a page was mapped before, after */
	uint64_t old_pfn, new_pfn;	/* the PFNs then, where mapped */
};

/* Whether the story is one of a page copied. */
int ct_story_copies(enum ct_story s);
/*
 * From the records before (a) and after (b), either NULL, and the VMA at the
 * address (NULL if none).  @unavailable: the snapshots' CT_UNAVAIL_* bits;
 * without the write bit (procfs) a copy or a reuse is told by the page
 * becoming PageAnonExclusive.
 */
void ct_story_of_pages(const struct cowtrace_page *a, const struct cowtrace_page *b,
		       const struct cowtrace_vma *vma, uint32_t unavailable,
		       struct ct_story_view *v);
/*
 * From the fault events of process @pid at page @addr (forks, exits and other
 * addresses are skipped).  Returns how many there were; with none, the story
 * is CT_STORY_UNCHANGED: the module reports no fault there.
 */
size_t ct_story_of_events(const struct cowtrace_event *ev, size_t n, uint32_t pid,
			  uint64_t addr, struct ct_story_view *v);
/*
 * 0 if the page records' story @pages agrees with the events of @pid at
 * @addr: the same story, and the same PFNs before and after where both tell
 * them.  Otherwise -1, with @why saying how they disagree.
 */
int ct_story_check(const struct ct_story_view *pages, const struct cowtrace_event *ev,
		   size_t n, uint32_t pid, uint64_t addr, char *why, size_t len);

/* Totals of compare, for one VMA or the whole process. */
struct ct_compare_totals {
	uint64_t pages[CT_NR_RELATIONS];
	uint64_t parent_writable_shared;	/* shared pages writable in the parent */
	uint64_t child_writable_shared;
	uint64_t anon_diverged;			/* diverged anon pages: COW copies */
};

#endif
