// SPDX-License-Identifier: GPL-2.0
/*
 * The claims' judges (claim_judges.h): each reads the steps of the runs its
 * claim names, says what the kernel did there with the numbers, and decides
 * whether its fact held.  Nothing here knows a kernel version: a verdict
 * that differs between kernels differs because the runs did.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "claim_judges.h"
#include "judge.h"

/* Regions of the scenarios, in the order scenarios.c adds them. */
enum { PVS_PRIVATE, PVS_SHARED };
enum { DF_DONTFORK, DF_WIPEONFORK };

#define PAGES(st, r) ((st)->rel[r][CT_SHARED] + (st)->rel[r][CT_DIVERGED] + \
		      (st)->rel[r][CT_PARENT_ONLY] + (st)->rel[r][CT_CHILD_ONLY])

/* The fault events the actor took at the focus page. */
static uint64_t write_faults(const struct ct_run_step *st)
{
	return st->focus_ev[COWTRACE_EV_WP_COPY] + st->focus_ev[COWTRACE_EV_WP_REUSE] +
	       st->focus_ev[COWTRACE_EV_WP_SHARED] + st->focus_ev[COWTRACE_EV_WP_ZERO] +
	       st->focus_ev[COWTRACE_EV_WP_OTHER];
}

/* Every fault event in the step's regions, by anyone. */
static uint64_t faults(const struct ct_run_step *st)
{
	uint64_t n = 0;

	for (int k = COWTRACE_EV_WP_COPY; k < COWTRACE_EV_NR_KINDS; k++)
		n += j_events(st, k);
	return n;
}

static int copied(const struct ct_run_step *st)
{
	return st->has_story && ct_story_copies(st->story);
}

static const char *story(const struct ct_run_step *st)
{
	return st->has_story ? ct_story_names[st->story] : "none";
}

/* The parent's private region: its PTEs were copied into the child. */
static int ptes_copied(const struct ct_run_step *st, int r)
{
	return st->rel[r][CT_SHARED] > 0 && !st->rel[r][CT_PARENT_ONLY];
}

static int write_protected(const struct ct_run_step *st, int r)
{
	return st->side[CT_PARENT].changes[r][CT_WRITE_PROTECTED] > 0 && !st->writable_shared[r];
}

static void child_vmpte(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step_opt(rs, SV, 2);

	if (!st || st->nr_sides < 2 || !st->side[CT_CHILD].mm_known)
		return;
	j_say(f, "a forked child's page tables: VmPTE %" PRIu64 " bytes (the parent's %" PRIu64 ")",
	      (uint64_t)st->side[CT_CHILD].mm.pgtables_bytes,
	      (uint64_t)st->side[CT_PARENT].mm.pgtables_bytes);
	j_num(f, "child_pgtables_bytes", (int64_t)st->side[CT_CHILD].mm.pgtables_bytes);
}

/* ---- fork ---- */

void judge_fork_shares(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, SV, 2);
	uint64_t shared, div, copies;

	if (!st)
		return;
	shared = ct_run_rel(st, CT_SHARED);
	div = ct_run_rel(st, CT_DIVERGED);
	copies = st->events_known ? j_events(st, COWTRACE_EV_WP_COPY) : 0;
	j_say(f, "after fork() the data page is the same page in both (PFN %#" PRIx64
	      "): %" PRIu64 " shared, %" PRIu64 " copied", j_pfn(&st->side[CT_PARENT].after),
	      shared, div);
	if (st->events_known)
		j_say(f, "%" PRIu64 " copy faults during the fork", copies);
	j_fork_event(f, st, "fork");
	j_num(f, "shared_pages", (int64_t)shared);
	j_num(f, "diverged_pages", (int64_t)div);
	j_decide(f, shared >= 1 && !div && !copies);
}

void judge_shares_pages_not_mm(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, SV, 2), *vf = j_step_opt(rs, VF, 2);
	uint64_t shared, div;

	if (!st)
		return;
	shared = ct_run_rel(st, CT_SHARED);
	div = ct_run_rel(st, CT_DIVERGED);
	j_say(f, "after fork() %" PRIu64 " page shared, %" PRIu64 " copied", shared, div);
	j_num(f, "shared_pages", (int64_t)shared);
	if (st->nr_sides == 2 && st->side[CT_CHILD].mm_known) {
		j_say(f, "but two address spaces: mm_users %u in the parent, %u in the child",
		      st->side[CT_PARENT].mm.mm_users, st->side[CT_CHILD].mm.mm_users);
		j_num(f, "parent_mm_users", st->side[CT_PARENT].mm.mm_users);
		j_num(f, "child_mm_users", st->side[CT_CHILD].mm.mm_users);
	}
	if (vf && vf->side[CT_PARENT].mm_known) {
		j_say(f, "one address space is what vfork() gives: mm_users %u",
		      vf->side[CT_PARENT].mm.mm_users);
		j_num(f, "vfork_mm_users", vf->side[CT_PARENT].mm.mm_users);
	}
	j_decide(f, shared >= 1 && !div);
}

void judge_fork_shares_readonly(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, SV, 2);
	uint64_t shared, wp, ws;

	if (!st || !j_need_write(f, st))
		return;
	shared = ct_run_rel(st, CT_SHARED);
	wp = ct_run_changes(&st->side[CT_PARENT], CT_WRITE_PROTECTED);
	ws = ct_run_writable_shared(st);
	j_say(f, "fork(): %" PRIu64 " page shared, the parent's PTE write-protected (%" PRIu64
	      " write-protected), writable in the parent %d, in the child %d", shared, wp,
	      j_writable(&st->side[CT_PARENT].after), j_writable(&st->side[CT_CHILD].after));
	j_fork_event(f, st, "fork");
	j_num(f, "shared_pages", (int64_t)shared);
	j_num(f, "write_protected", (int64_t)wp);
	j_num(f, "writable_shared_pages", (int64_t)ws);
	j_decide(f, shared >= 1 && !ct_run_rel(st, CT_DIVERGED) && wp >= 1 && !ws);
}

static void say_regions(struct ct_finding *f, const struct ct_run_step *st)
{
	j_say(f, "fork(): of %" PRIu64 " MAP_PRIVATE pages %" PRIu64 " are mapped in the child "
	      "(PTEs copied), %" PRIu64 " only in the parent; of %" PRIu64 " MAP_SHARED pages %"
	      PRIu64 " are mapped in the child, %" PRIu64 " only in the parent (no PTE copied)",
	      PAGES(st, PVS_PRIVATE), st->rel[PVS_PRIVATE][CT_SHARED],
	      st->rel[PVS_PRIVATE][CT_PARENT_ONLY], PAGES(st, PVS_SHARED),
	      st->rel[PVS_SHARED][CT_SHARED], st->rel[PVS_SHARED][CT_PARENT_ONLY]);
	j_num(f, "private_ptes_copied", (int64_t)st->rel[PVS_PRIVATE][CT_SHARED]);
	j_num(f, "shared_ptes_copied", (int64_t)st->rel[PVS_SHARED][CT_SHARED]);
	j_num(f, "shared_parent_only", (int64_t)st->rel[PVS_SHARED][CT_PARENT_ONLY]);
}

void judge_fork_copies_ptes(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, PVS, 2);

	if (!st)
		return;
	say_regions(f, st);
	j_fork_event(f, st, "fork");
	if (st->side[CT_CHILD].mm_known) {
		j_say(f, "the child's page tables: VmPTE %" PRIu64 " bytes",
		      (uint64_t)st->side[CT_CHILD].mm.pgtables_bytes);
		j_num(f, "child_pgtables_bytes", (int64_t)st->side[CT_CHILD].mm.pgtables_bytes);
	}
	j_decide_split(f, "private memory (an anon_vma)", ptes_copied(st, PVS_PRIVATE),
		       "MAP_SHARED memory", ptes_copied(st, PVS_SHARED));
}

static void say_protection(struct ct_finding *f, const struct ct_run_step *st)
{
	const uint64_t (*ch)[CT_NR_CHANGES] = st->side[CT_PARENT].changes;

	j_say(f, "the parent's PTEs write-protected by fork(): %" PRIu64 " MAP_PRIVATE, %" PRIu64
	      " MAP_SHARED; writable in both: %" PRIu64 " private, %" PRIu64 " shared",
	      ch[PVS_PRIVATE][CT_WRITE_PROTECTED], ch[PVS_SHARED][CT_WRITE_PROTECTED],
	      st->writable_shared[PVS_PRIVATE], st->writable_shared[PVS_SHARED]);
	j_num(f, "private_write_protected", (int64_t)ch[PVS_PRIVATE][CT_WRITE_PROTECTED]);
	j_num(f, "shared_write_protected", (int64_t)ch[PVS_SHARED][CT_WRITE_PROTECTED]);
}

void judge_fork_write_protects(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, PVS, 2);

	if (!st || !j_need_write(f, st))
		return;
	say_protection(f, st);
	j_decide_split(f, "private memory", write_protected(st, PVS_PRIVATE),
		       "MAP_SHARED memory", write_protected(st, PVS_SHARED));
}

void judge_fork_copies_and_protects(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, PVS, 2);

	if (!st || !j_need_write(f, st))
		return;
	say_regions(f, st);
	say_protection(f, st);
	j_decide_split(f, "private memory (an anon_vma)",
		       ptes_copied(st, PVS_PRIVATE) && write_protected(st, PVS_PRIVATE),
		       "MAP_SHARED memory",
		       ptes_copied(st, PVS_SHARED) && write_protected(st, PVS_SHARED));
}

void judge_fork_copies_data(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *sv = j_step(rs, f, SV, 2), *pv = j_step(rs, f, PVS, 2);
	uint64_t div;

	if (!sv || !pv)
		return;
	div = ct_run_rel(sv, CT_DIVERGED) + pv->rel[PVS_PRIVATE][CT_DIVERGED];
	j_say(f, "right after fork(): the data page %s (%" PRIu64 " shared, %" PRIu64
	      " copied); the heap's %" PRIu64 " pages: %" PRIu64 " shared, %" PRIu64 " copied",
	      ct_run_rel(sv, CT_DIVERGED) ? "was copied" : "is shared",
	      ct_run_rel(sv, CT_SHARED), ct_run_rel(sv, CT_DIVERGED), PAGES(pv, PVS_PRIVATE),
	      pv->rel[PVS_PRIVATE][CT_SHARED], pv->rel[PVS_PRIVATE][CT_DIVERGED]);
	j_num(f, "pages_copied_at_fork", (int64_t)div);
	j_decide(f, div > 0);
}

void judge_fork_copies_ptes_not_pages(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, FE, 2);
	const struct ct_run_result *r = ct_runs_find(rs, FE);
	uint64_t moved, pages;

	if (!st || !j_need_events(f, st))
		return;
	pages = r->regions[0][1] / 4096;
	moved = ct_run_changes(&st->side[CT_PARENT], CT_COW_COPIED) +
		ct_run_changes(&st->side[CT_PARENT], CT_MIGRATED);
	j_say(f, "fork() of a parent with %" PRIu64 " written private pages: %" PRIu64
	      " of them moved to another page, %" PRIu64 " write-protected", pages, moved,
	      ct_run_changes(&st->side[CT_PARENT], CT_WRITE_PROTECTED));
	j_fork_event(f, st, "fork");
	if (!st->has_fork)
		j_lacks(f, "%s step 2: no fork event", FE);
	child_vmpte(rs, f);
	j_num(f, "pages_copied", (int64_t)moved);
	j_decide(f, !moved && st->has_fork && st->fork.fork_ptes >= pages);
}

/* shared_variable's fork, and both sides' mm counters; NULL if the run lacks them. */
static const struct ct_run_step *fork_mms(const struct ct_runs *rs, struct ct_finding *f,
					  const struct cowtrace_mm_info **p,
					  const struct cowtrace_mm_info **c)
{
	const struct ct_run_step *st = j_step(rs, f, SV, 2);

	if (!st || !j_need_mm(f, st) || st->nr_sides < 2)
		return NULL;
	*p = &st->side[CT_PARENT].mm;
	*c = &st->side[CT_CHILD].mm;
	return st;
}

void judge_new_mm(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct cowtrace_mm_info *p, *c;
	const struct ct_run_step *st = fork_mms(rs, f, &p, &c);

	if (!st)
		return;
	j_say(f, "fork(): the child has an mm of its own (mm_users %u) with %u VMAs (the parent %u) "
	      "and %" PRIu64 " bytes of page tables; %" PRIu64 " data pages copied", c->mm_users,
	      c->map_count, p->map_count, (uint64_t)c->pgtables_bytes,
	      ct_run_rel(st, CT_DIVERGED));
	j_num(f, "child_mm_users", c->mm_users);
	j_num(f, "child_map_count", c->map_count);
	j_num(f, "child_pgtables_bytes", (int64_t)c->pgtables_bytes);
	j_decide(f, c->mm_users == 1 && c->map_count > 0 && c->pgtables_bytes > 0 &&
		     !ct_run_rel(st, CT_DIVERGED));
}

void judge_separate_mms(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct cowtrace_mm_info *p, *c;

	if (!fork_mms(rs, f, &p, &c))
		return;
	j_say(f, "after fork(): mm_users %u in the parent and %u in the child, so two address "
	      "spaces; page tables %" PRIu64 " and %" PRIu64 " bytes", p->mm_users, c->mm_users,
	      (uint64_t)p->pgtables_bytes, (uint64_t)c->pgtables_bytes);
	j_num(f, "parent_mm_users", p->mm_users);
	j_num(f, "child_mm_users", c->mm_users);
	j_num(f, "child_pgtables_bytes", (int64_t)c->pgtables_bytes);
	j_decide(f, p->mm_users == 1 && c->mm_users == 1 && c->pgtables_bytes > 0);
}

void judge_child_mm_layout(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct cowtrace_mm_info *pm, *cm;
	const struct ct_run_step *st = fork_mms(rs, f, &pm, &cm);
	const struct ct_run_side *p, *c;

	if (!st)
		return;
	p = &st->side[CT_PARENT];
	c = &st->side[CT_CHILD];
	j_say(f, "fork(): the child's own mm (mm_users %u; the parent's %u) has %zu VMAs, the "
	      "parent %zu; %zu of the parent's are in the child with the same range and "
	      "permissions", cm->mm_users, pm->mm_users, c->nr_vmas, p->nr_vmas,
	      p->vmas_like_other);
	j_num(f, "parent_vmas", (int64_t)p->nr_vmas);
	j_num(f, "child_vmas", (int64_t)c->nr_vmas);
	j_num(f, "vmas_alike", (int64_t)p->vmas_like_other);
	j_decide(f, cm->mm_users == 1 && pm->mm_users == 1 && c->nr_vmas == p->nr_vmas &&
		     p->vmas_like_other == p->nr_vmas);
}

void judge_every_vma_copied(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *sv = j_step(rs, f, SV, 2), *df = j_step(rs, f, DF, 2);
	const struct ct_run_side *p;

	if (!sv || !df)
		return;
	p = &sv->side[CT_PARENT];
	j_say(f, "an ordinary fork(): %zu of the parent's %zu VMAs are in the child, same range "
	      "and permissions", p->vmas_like_other, p->nr_vmas);
	j_say(f, "MADV_DONTFORK region: %s in the child; MADV_WIPEONFORK region: %s in the child",
	      df->side[CT_CHILD].region[DF_DONTFORK].has_vma ? "a VMA" : "no VMA",
	      df->side[CT_CHILD].region[DF_WIPEONFORK].has_vma ? "a VMA" : "no VMA");
	j_num(f, "vmas_alike", (int64_t)p->vmas_like_other);
	j_num(f, "parent_vmas", (int64_t)p->nr_vmas);
	j_num(f, "dontfork_vma_in_child", df->side[CT_CHILD].region[DF_DONTFORK].has_vma);
	j_decide_split(f, "ordinary VMAs", p->vmas_like_other == p->nr_vmas,
		       "a MADV_DONTFORK VMA", df->side[CT_CHILD].region[DF_DONTFORK].has_vma);
}

void judge_vmas_map_same_pages(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *sv = j_step(rs, f, SV, 2), *df = j_step(rs, f, DF, 2);

	if (!sv || !df)
		return;
	j_say(f, "an ordinary VMA after fork(): %" PRIu64 " page the same in both, %" PRIu64
	      " different", ct_run_rel(sv, CT_SHARED), ct_run_rel(sv, CT_DIVERGED));
	j_say(f, "a MADV_WIPEONFORK VMA (%s in the child): %" PRIu64 " pages the same, %" PRIu64
	      " only in the parent", df->side[CT_CHILD].region[DF_WIPEONFORK].has_vma ?
	      "present" : "absent", df->rel[DF_WIPEONFORK][CT_SHARED],
	      df->rel[DF_WIPEONFORK][CT_PARENT_ONLY]);
	j_num(f, "shared_pages", (int64_t)ct_run_rel(sv, CT_SHARED));
	j_num(f, "wipeonfork_shared_pages", (int64_t)df->rel[DF_WIPEONFORK][CT_SHARED]);
	j_decide_split(f, "ordinary VMAs",
		       ct_run_rel(sv, CT_SHARED) >= 1 && !ct_run_rel(sv, CT_DIVERGED),
		       "a MADV_WIPEONFORK VMA", df->rel[DF_WIPEONFORK][CT_SHARED] > 0);
}

void judge_parent_stays_writable(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, SV, 2);

	if (!st || !j_need_write(f, st) ||
	    !j_need_page(f, &st->side[CT_CHILD].after, "the child's data page after fork()"))
		return;
	j_say(f, "after fork() the parent's PTE is %s and the child's %s (PFN %#" PRIx64 " in both)",
	      j_writable(&st->side[CT_PARENT].after) ? "writable" : "read-only",
	      j_writable(&st->side[CT_CHILD].after) ? "writable" : "read-only",
	      j_pfn(&st->side[CT_PARENT].after));
	j_fork_event(f, st, "fork");
	j_num(f, "parent_write", j_writable(&st->side[CT_PARENT].after));
	j_num(f, "child_write", j_writable(&st->side[CT_CHILD].after));
	j_decide(f, j_writable(&st->side[CT_PARENT].after) &&
		     !j_writable(&st->side[CT_CHILD].after));
}

void judge_ro_pte_in_writable_vma(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *s2 = j_step(rs, f, SV, 2), *s3 = j_step(rs, f, SV, 3);
	const struct ct_run_at *c;

	if (!s2 || !s3 || !j_need_write(f, s2))
		return;
	c = &s2->side[CT_CHILD].after;
	if (!j_need_page(f, c, "the child's data page after fork()"))
		return;
	j_say(f, "after fork() the child's VMA is %s, its PTE %s; its write then: %s",
	      c->has_vma && (c->vma_flags & COWTRACE_VMA_WRITE) ? "writable" : "not writable",
	      j_writable(c) ? "writable" : "read-only", story(s3));
	j_num(f, "vma_write", c->has_vma && (c->vma_flags & COWTRACE_VMA_WRITE));
	j_num(f, "pte_write", j_writable(c));
	j_decide(f, c->has_vma && (c->vma_flags & COWTRACE_VMA_WRITE) && !j_writable(c) &&
		     copied(s3));
}

/* ---- the write after fork ---- */

void judge_write_faults(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *sv = j_step(rs, f, SV, 3), *ls = j_step(rs, f, LS, 4);

	if (!sv || !ls || !j_need_events(f, sv) || !j_need_events(f, ls))
		return;
	j_say(f, "the child's write to the shared page: %" PRIu64 " write fault (wp-copy %" PRIu64
	      "); the parent's write to it later, no longer shared: %" PRIu64 " (wp-reuse %" PRIu64 ")",
	      write_faults(sv), sv->focus_ev[COWTRACE_EV_WP_COPY], write_faults(ls),
	      ls->focus_ev[COWTRACE_EV_WP_REUSE]);
	j_num(f, "child_write_faults", (int64_t)write_faults(sv));
	j_num(f, "parent_write_faults", (int64_t)write_faults(ls));
	j_decide(f, write_faults(sv) >= 1 && write_faults(ls) >= 1);
}

static void say_pfns(struct ct_finding *f, const char *who, const struct ct_run_step *st,
		     int side)
{
	const struct ct_run_side *sd = &st->side[side];

	j_say(f, "%s: %s, PFN %#" PRIx64 " -> %#" PRIx64, who, story(st), j_pfn(&sd->before),
	      j_pfn(&sd->after));
}

void judge_every_write_copies(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *l3 = j_step(rs, f, LS, 3), *l4 = j_step(rs, f, LS, 4);
	const struct ct_run_step *z3 = j_step(rs, f, ZP, 3);

	if (!l3 || !l4 || !z3 || !j_need_write_story(f, LS, l3) || !j_need_write_story(f, LS, l4))
		return;
	say_pfns(f, "the child writes the shared page", l3, CT_CHILD);
	say_pfns(f, "then the parent, its last sharer, writes it", l4, CT_PARENT);
	j_say(f, "a write to the zero page: %s (a new zeroed page, nothing copied)", story(z3));
	j_num(f, "first_write_copied", copied(l3));
	j_num(f, "last_sharer_copied", copied(l4));
	j_num(f, "zero_page_write_copied", copied(z3));
	j_decide(f, copied(l3) && copied(l4) && copied(z3));
}

void judge_copies_only_written(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *s2 = j_step(rs, f, SV, 2), *s3 = j_step(rs, f, SV, 3);

	if (!s2 || !s3)
		return;
	j_say(f, "fork(): %" PRIu64 " pages copied, %" PRIu64 " shared; the child writes 1 page: "
	      "%s, %" PRIu64 " page now differs", ct_run_rel(s2, CT_DIVERGED),
	      ct_run_rel(s2, CT_SHARED), story(s3), ct_run_rel(s3, CT_DIVERGED));
	j_num(f, "copied_at_fork", (int64_t)ct_run_rel(s2, CT_DIVERGED));
	j_num(f, "copied_after_write", (int64_t)ct_run_rel(s3, CT_DIVERGED));
	j_decide(f, !ct_run_rel(s2, CT_DIVERGED) && ct_run_rel(s2, CT_SHARED) >= 1 &&
		     copied(s3) && ct_run_rel(s3, CT_DIVERGED) == 1);
}

void judge_writer_copies_others_keep(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, SV, 3);

	if (!st)
		return;
	say_pfns(f, "the child writes", st, CT_CHILD);
	j_say(f, "the parent keeps PFN %#" PRIx64 " (%s)", j_pfn(&st->side[CT_PARENT].after),
	      j_kept(&st->side[CT_PARENT]) ? "unchanged" : "changed");
	j_num(f, "child_copied", copied(st));
	j_num(f, "parent_kept", j_kept(&st->side[CT_PARENT]));
	j_decide(f, copied(st) && j_kept(&st->side[CT_PARENT]));
}

void judge_child_copy_parent_reads_old(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *s3 = j_step(rs, f, SV, 3), *s4 = j_step(rs, f, SV, 4);
	int64_t v, wrote;

	if (!s3 || !s4 || !j_need_value(f, SV, s4, "read_sum", &v) ||
	    !j_need_value(f, SV, s4, "parent_wrote_sum", &wrote))
		return;
	say_pfns(f, "the child writes", s3, CT_CHILD);
	j_say(f, "the parent keeps PFN %#" PRIx64 " and reads %" PRId64,
	      j_pfn(&s3->side[CT_PARENT].after), v);
	j_num(f, "parent_reads", v);
	j_decide(f, copied(s3) && j_kept(&s3->side[CT_PARENT]) && v == wrote);
}

void judge_writer_gets_writable_copy(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, SV, 3);

	if (!st || !j_need_write(f, st))
		return;
	say_pfns(f, "the child writes", st, CT_CHILD);
	j_say(f, "the new PTE is %s", j_writable(&st->side[CT_CHILD].after) ? "writable" : "read-only");
	j_num(f, "old_pfn", (int64_t)j_pfn(&st->side[CT_CHILD].before));
	j_num(f, "new_pfn", (int64_t)j_pfn(&st->side[CT_CHILD].after));
	j_num(f, "new_write", j_writable(&st->side[CT_CHILD].after));
	j_decide(f, copied(st) && j_writable(&st->side[CT_CHILD].after));
}

void judge_other_keeps_readonly(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, SV, 3);
	const struct ct_run_side *p;

	if (!st || !j_need_write(f, st))
		return;
	p = &st->side[CT_PARENT];
	j_say(f, "the child copied; the parent's PTE: PFN %#" PRIx64 " -> %#" PRIx64 ", %s, "
	      "mapcount %u -> %u", j_pfn(&p->before), j_pfn(&p->after),
	      j_writable(&p->after) ? "writable" : "still read-only", p->before.page.mapcount,
	      p->after.page.mapcount);
	j_num(f, "parent_kept", j_kept(p));
	j_num(f, "parent_write", j_writable(&p->after));
	j_decide(f, copied(st) && j_kept(p) && !j_writable(&p->after));
}

void judge_both_writable_after_copy(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, SV, 3), *ls = j_step_opt(rs, LS, 4);
	int pw, cw;

	if (!st || !j_need_write(f, st))
		return;
	pw = j_writable(&st->side[CT_PARENT].after);
	cw = j_writable(&st->side[CT_CHILD].after);
	j_say(f, "after the child's copy: the child's PTE %s, the parent's %s", cw ? "writable" :
	      "read-only", pw ? "writable" : "read-only");
	if (ls && ls->events_known)
		j_say(f, "so the parent's next write faults (last_sharer: %" PRIu64 " wp-reuse)",
		      ls->focus_ev[COWTRACE_EV_WP_REUSE]);
	j_num(f, "parent_write", pw);
	j_num(f, "child_write", cw);
	j_decide(f, copied(st) && pw && cw);
}

void judge_cow_steps(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, SV, 3);
	const struct ct_run_side *p, *c;

	if (!st || !j_need_write(f, st) || !j_need_refcount(f, st))
		return;
	p = &st->side[CT_PARENT];
	c = &st->side[CT_CHILD];
	if (!j_need_page(f, &p->before, "the parent's page before the copy") ||
	    !j_need_page(f, &p->after, "the parent's page after the copy"))
		return;
	say_pfns(f, "the child writes", st, CT_CHILD);
	j_say(f, "the child's new PTE %s; the old page's mapcount %u -> %u, refcount %u -> %u",
	      j_writable(&c->after) ? "writable" : "read-only", p->before.page.mapcount,
	      p->after.page.mapcount, p->before.page.refcount, p->after.page.refcount);
	j_num(f, "old_refcount_before", p->before.page.refcount);
	j_num(f, "old_refcount_after", p->after.page.refcount);
	j_decide(f, copied(st) && j_writable(&c->after) && j_kept(p) &&
		     p->before.page.mapcount == p->after.page.mapcount + 1 &&
		     p->after.page.refcount < p->before.page.refcount);
}

/* A write the judges look at: where it is, what to call it, and its class. */
struct write_case {
	const char *scenario;
	int step, side;
	const char *said, *key, *class;
};

/* The fact "the write copied", for two classes of writes. */
static void copied_by_class(const struct ct_runs *rs, struct ct_finding *f,
			    const struct write_case *a, const struct write_case *b)
{
	const struct ct_run_step *sa = j_step(rs, f, a->scenario, a->step);
	const struct ct_run_step *sb = j_step(rs, f, b->scenario, b->step);

	if (!sa || !sb || !j_need_write_story(f, a->scenario, sa) ||
	    !j_need_write_story(f, b->scenario, sb))
		return;
	say_pfns(f, a->said, sa, a->side);
	say_pfns(f, b->said, sb, b->side);
	j_num(f, a->key, copied(sa));
	j_num(f, b->key, copied(sb));
	j_decide_split(f, a->class, copied(sa), b->class, copied(sb));
}

void judge_first_copies_last_reuses(const struct ct_runs *rs, struct ct_finding *f)
{
	static const struct write_case first = {
		LS, 3, CT_CHILD, "the child writes first", "first_write_copied",
		"the first writer of a shared page"
	}, last = {
		LS, 4, CT_PARENT, "then the parent, its last sharer", "last_sharer_copied",
		"the last process to map it"
	};

	copied_by_class(rs, f, &first, &last);
}

void judge_fault_per_page_per_writer(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *l3 = j_step(rs, f, LS, 3), *l4 = j_step(rs, f, LS, 4);
	const struct ct_run_step *f3 = j_step(rs, f, FE, 3);

	if (!l3 || !l4 || !f3 || !j_need_events(f, l3) || !j_need_events(f, l4) ||
	    !j_need_events(f, f3))
		return;
	j_say(f, "one page written by the child and then by the parent: %" PRIu64 " + %" PRIu64
	      " write faults; the parent's first write after fork+exec: %" PRIu64,
	      write_faults(l3), write_faults(l4), write_faults(f3));
	j_num(f, "child_faults", (int64_t)write_faults(l3));
	j_num(f, "parent_faults", (int64_t)write_faults(l4));
	j_num(f, "after_exec_faults", (int64_t)write_faults(f3));
	j_decide(f, write_faults(l3) == 1 && write_faults(l4) == 1 && write_faults(f3) == 1);
}

void judge_fault_by_cause(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *f1 = j_step(rs, f, FE, 1), *z1 = j_step(rs, f, ZP, 1);
	const struct ct_run_step *z3 = j_step(rs, f, ZP, 3), *s3 = j_step(rs, f, SV, 3);
	const struct ct_run_step *l4 = j_step(rs, f, LS, 4);
	uint64_t n[5];

	if (!f1 || !z1 || !z3 || !s3 || !l4 || !j_need_events(f, f1) || !j_need_events(f, z1) ||
	    !j_need_events(f, z3) || !j_need_events(f, s3) || !j_need_events(f, l4))
		return;
	n[0] = f1->ev[CT_PARENT][COWTRACE_EV_ANON_NEW];
	n[1] = z1->ev[CT_PARENT][COWTRACE_EV_ANON_ZERO];
	n[2] = z3->focus_ev[COWTRACE_EV_WP_ZERO];
	n[3] = s3->focus_ev[COWTRACE_EV_WP_COPY];
	n[4] = l4->focus_ev[COWTRACE_EV_WP_REUSE];
	j_say(f, "first writes to unmapped memory: %" PRIu64 " anon-new; first reads: %" PRIu64
	      " anon-zero; a write to the zero page: %" PRIu64 " wp-zero; to a shared page: %" PRIu64
	      " wp-copy; to a page no longer shared: %" PRIu64 " wp-reuse", n[0], n[1], n[2], n[3],
	      n[4]);
	j_num(f, "anon_new", (int64_t)n[0]);
	j_num(f, "anon_zero", (int64_t)n[1]);
	j_num(f, "wp_zero", (int64_t)n[2]);
	j_num(f, "wp_copy", (int64_t)n[3]);
	j_num(f, "wp_reuse", (int64_t)n[4]);
	j_decide(f, n[0] && n[1] && n[2] && n[3] && n[4]);
}

/* ---- the reuse rule ---- */

void judge_only_shared_pages_copied(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *l3 = j_step(rs, f, LS, 3), *l4 = j_step(rs, f, LS, 4);
	const struct ct_run_step *p4 = j_step(rs, f, PW, 4);
	const struct ct_run_at *pb;

	if (!l3 || !l4 || !p4 || !j_need_write_story(f, LS, l3) ||
	    !j_need_write_story(f, LS, l4) || !j_need_write_story(f, PW, p4))
		return;
	pb = &p4->side[CT_PARENT].before;
	if (!j_need_page(f, pb, "pinned_write's page before the write"))
		return;
	say_pfns(f, "the child writes a shared page", l3, CT_CHILD);
	say_pfns(f, "the parent writes it, no longer shared", l4, CT_PARENT);
	say_pfns(f, "the parent writes a page only it maps (mapcount 1) but a pipe holds", p4,
		 CT_PARENT);
	j_num(f, "shared_page_copied", copied(l3));
	j_num(f, "unshared_page_copied", copied(l4));
	j_num(f, "pinned_mapcount", pb->page.mapcount);
	j_num(f, "pinned_page_copied", copied(p4));
	j_decide(f, copied(l3) && !copied(l4) && !(pb->page.mapcount == 1 && copied(p4)));
}

/* Whether a write followed 'refcount 1: reuse, more: copy'. */
static int follows_refcount_rule(struct ct_finding *f, const char *what,
				 const struct ct_run_step *st)
{
	const struct ct_run_at *b = &st->side[st->actor].before;
	int follows;

	follows = b->page.refcount == 1 ? st->story == CT_STORY_REUSED : copied(st);
	j_say(f, "%s: refcount %u, mapcount %u before the write: %s", what, b->page.refcount,
	      b->page.mapcount, copied(st) ? "copied" : "reused");
	return follows;
}

void judge_refcount_rule(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *l3 = j_step(rs, f, LS, 3), *l4 = j_step(rs, f, LS, 4);
	const struct ct_run_step *p4 = j_step(rs, f, PW, 4);
	int ok;

	if (!l3 || !l4 || !p4 || !j_need_refcount(f, l3) || !j_need_refcount(f, l4) ||
	    !j_need_refcount(f, p4) || !j_need_write_story(f, LS, l3) ||
	    !j_need_write_story(f, LS, l4) || !j_need_write_story(f, PW, p4) ||
	    !j_need_page(f, &l3->side[CT_CHILD].before, "last_sharer's page before step 3") ||
	    !j_need_page(f, &l4->side[CT_PARENT].before, "last_sharer's page before step 4") ||
	    !j_need_page(f, &p4->side[CT_PARENT].before, "pinned_write's page before step 4"))
		return;
	ok = follows_refcount_rule(f, "the child's write to a shared page", l3);
	ok &= follows_refcount_rule(f, "the last sharer's write", l4);
	ok &= follows_refcount_rule(f, "the write to a page a pipe also holds", p4);
	j_num(f, "pinned_refcount", p4->side[CT_PARENT].before.page.refcount);
	j_num(f, "pinned_anon_exclusive",
	      !!(p4->side[CT_PARENT].before.page.flags & COWTRACE_PG_ANON_EXCL));
	j_num(f, "pinned_copied", copied(p4));
	j_decide(f, ok);
}

/* ---- fork + exec ---- */

void judge_fork_exec_copies_nothing(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *f2 = j_step(rs, f, FE, 2), *f3 = j_step(rs, f, FE, 3);
	uint64_t moved, copies = 0;

	if (!f2 || !f3 || !j_need_write_story(f, FE, f3))
		return;
	moved = ct_run_changes(&f2->side[CT_PARENT], CT_COW_COPIED) +
		ct_run_changes(&f2->side[CT_PARENT], CT_MIGRATED);
	if (f2->events_known && f3->events_known)
		copies = j_events(f2, COWTRACE_EV_WP_COPY) + j_events(f3, COWTRACE_EV_WP_COPY);
	j_say(f, "fork() + exec(): %" PRIu64 " of the parent's pages moved; its next write: %s "
	      "(PFN %#" PRIx64 " -> %#" PRIx64 ")", moved, story(f3),
	      j_pfn(&f3->side[CT_PARENT].before), j_pfn(&f3->side[CT_PARENT].after));
	if (f2->events_known && f3->events_known)
		j_say(f, "%" PRIu64 " copy faults in the parent's memory", copies);
	if (f2->nr_sides == 2)
		j_say(f, "the exec'd child (%s) maps %" PRIu64 " of the parent's pages",
		      f2->side[CT_CHILD].mm.comm, f2->rel[0][CT_SHARED] + f2->rel[0][CT_DIVERGED]);
	j_fork_event(f, f2, "fork");
	j_num(f, "pages_copied", (int64_t)(moved + copies));
	j_decide(f, !moved && !copies && f3->story == CT_STORY_REUSED &&
		     (f2->nr_sides < 2 || !(f2->rel[0][CT_SHARED] + f2->rel[0][CT_DIVERGED])));
}

/* ---- reads, code, shared mappings ---- */

void judge_reads_share(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *s4 = j_step(rs, f, SV, 4), *z2 = j_step(rs, f, ZP, 2);
	int zero;

	if (!s4 || !z2)
		return;
	zero = z2->nr_sides == 2 &&
	       j_page(&z2->side[CT_PARENT].region[0]) && j_page(&z2->side[CT_CHILD].region[0]) &&
	       (z2->side[CT_PARENT].region[0].page.flags & COWTRACE_PG_ZERO) &&
	       (z2->side[CT_CHILD].region[0].page.flags & COWTRACE_PG_ZERO);
	j_say(f, "the parent reads its page: %s in either process%s",
	      j_no_change(&s4->side[CT_PARENT]) && j_no_change(&s4->side[CT_CHILD]) ?
	      "no change" : "a change", s4->events_known && !faults(s4) ? ", no fault" : "");
	j_say(f, "pages only read, after fork(): %" PRIu64 " the same in both, %s",
	      ct_run_rel(z2, CT_SHARED), zero ? "the zero page in both" : "not the zero page");
	j_num(f, "read_only_shared_pages", (int64_t)ct_run_rel(z2, CT_SHARED));
	j_num(f, "zero_page_in_both", zero);
	j_decide(f, j_no_change(&s4->side[CT_PARENT]) && j_no_change(&s4->side[CT_CHILD]) &&
		     (!s4->events_known || !faults(s4)) && ct_run_rel(z2, CT_SHARED) >= 1 && !ct_run_rel(z2, CT_DIVERGED) && zero);
}

static int readonly_vma(const struct ct_run_at *a)
{
	return a->has_vma && !(a->vma_flags & COWTRACE_VMA_WRITE);
}

void judge_text_shared_readonly(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *r2 = j_step(rs, f, RC, 2), *r3 = j_step(rs, f, RC, 3);
	int ro;

	if (!r2 || !r3)
		return;
	ro = readonly_vma(&r2->side[CT_PARENT].region[0]) &&
	     readonly_vma(&r2->side[CT_CHILD].region[0]);
	j_say(f, "after fork() the text page is %s in both (%" PRIu64 " shared, %" PRIu64
	      " different), in a VMA %s", ct_run_rel(r2, CT_SHARED) ? "the same page" : "not shared",
	      ct_run_rel(r2, CT_SHARED), ct_run_rel(r2, CT_DIVERGED),
	      ro ? "without write permission" : "that is writable");
	j_say(f, "the child runs it: %s, PFN %#" PRIx64 " -> %#" PRIx64, story(r3),
	      j_pfn(&r3->side[CT_CHILD].before), j_pfn(&r3->side[CT_CHILD].after));
	j_num(f, "shared_pages", (int64_t)ct_run_rel(r2, CT_SHARED));
	j_num(f, "readonly_vma", ro);
	j_num(f, "copied_when_run", copied(r3));
	j_decide(f, ct_run_rel(r2, CT_SHARED) >= 1 && !ct_run_rel(r2, CT_DIVERGED) && ro &&
		     !copied(r3) && j_kept(&r3->side[CT_CHILD]));
}

void judge_data_and_code_shared(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *sv = j_step(rs, f, SV, 2), *rc = j_step(rs, f, RC, 2);

	if (!sv || !rc)
		return;
	j_say(f, "after fork(): the data page %" PRIu64 " shared, %" PRIu64 " copied; the text page %"
	      PRIu64 " shared, %" PRIu64 " copied", ct_run_rel(sv, CT_SHARED),
	      ct_run_rel(sv, CT_DIVERGED), ct_run_rel(rc, CT_SHARED), ct_run_rel(rc, CT_DIVERGED));
	j_num(f, "data_shared", (int64_t)ct_run_rel(sv, CT_SHARED));
	j_num(f, "code_shared", (int64_t)ct_run_rel(rc, CT_SHARED));
	j_decide(f, ct_run_rel(sv, CT_SHARED) >= 1 && !ct_run_rel(sv, CT_DIVERGED) &&
		     ct_run_rel(rc, CT_SHARED) >= 1 && !ct_run_rel(rc, CT_DIVERGED));
}

void judge_private_shared_until_write(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *s2 = j_step(rs, f, PVS, 2), *s3 = j_step(rs, f, PVS, 3);

	if (!s2 || !s3)
		return;
	j_say(f, "MAP_PRIVATE after fork(): %" PRIu64 " pages shared, %" PRIu64 " copied; the "
	      "child writes one: %s, %" PRIu64 " page now differs", s2->rel[PVS_PRIVATE][CT_SHARED],
	      s2->rel[PVS_PRIVATE][CT_DIVERGED], story(s3), s3->rel[PVS_PRIVATE][CT_DIVERGED]);
	j_num(f, "shared_after_fork", (int64_t)s2->rel[PVS_PRIVATE][CT_SHARED]);
	j_num(f, "copied_after_write", (int64_t)s3->rel[PVS_PRIVATE][CT_DIVERGED]);
	j_decide(f, s2->rel[PVS_PRIVATE][CT_SHARED] >= 1 && !s2->rel[PVS_PRIVATE][CT_DIVERGED] &&
		     copied(s3) && s3->rel[PVS_PRIVATE][CT_DIVERGED] == 1);
}

void judge_map_shared_stays_shared(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, PVS, 4), *s5 = j_step(rs, f, PVS, 5);
	int64_t v, wrote;

	if (!st || !s5 || !j_need_write(f, st) || !j_need_value(f, PVS, s5, "read_sum", &v) ||
	    !j_need_value(f, PVS, s5, "child_wrote_sum", &wrote))
		return;
	j_say(f, "the child writes the MAP_SHARED page: %s; %" PRIu64 " page the same in both, %"
	      PRIu64 " of them writable in both, %" PRIu64 " different", story(st),
	      st->rel[PVS_SHARED][CT_SHARED], st->writable_shared[PVS_SHARED],
	      st->rel[PVS_SHARED][CT_DIVERGED]);
	j_say(f, "then the parent reads %" PRId64 " there (the child wrote %" PRId64 ")", v, wrote);
	j_num(f, "shared_pages", (int64_t)st->rel[PVS_SHARED][CT_SHARED]);
	j_num(f, "writable_shared_pages", (int64_t)st->writable_shared[PVS_SHARED]);
	j_num(f, "parent_reads", v);
	j_decide(f, st->rel[PVS_SHARED][CT_SHARED] >= 1 && st->writable_shared[PVS_SHARED] >= 1 &&
		     !st->rel[PVS_SHARED][CT_DIVERGED] && !copied(st) && v == wrote);
}

void judge_independent(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *sv = j_step(rs, f, SV, 3), *pv = j_step(rs, f, PVS, 4);
	const struct ct_run_step *p5 = j_step(rs, f, PVS, 5);
	int64_t v, wrote;

	if (!sv || !pv || !p5 || !j_need_value(f, PVS, p5, "read_sum", &v) ||
	    !j_need_value(f, PVS, p5, "child_wrote_sum", &wrote))
		return;
	j_say(f, "the child writes private memory: %s, the parent keeps PFN %#" PRIx64, story(sv),
	      j_pfn(&sv->side[CT_PARENT].after));
	j_say(f, "the child writes an inherited MAP_SHARED mapping: %" PRIu64 " page the same "
	      "in both after it (PFN %#" PRIx64 ")", pv->rel[PVS_SHARED][CT_SHARED],
	      j_pfn(&pv->side[CT_PARENT].region[PVS_SHARED]));
	j_say(f, "and the parent reads %" PRId64 " there, the child having written %" PRId64, v,
	      wrote);
	j_num(f, "private_parent_kept", j_kept(&sv->side[CT_PARENT]));
	j_num(f, "shared_pages_after_write", (int64_t)pv->rel[PVS_SHARED][CT_SHARED]);
	j_num(f, "parent_reads_shared", v);
	j_decide_split(f, "private memory", copied(sv) && j_kept(&sv->side[CT_PARENT]),
		       "a MAP_SHARED mapping inherited across fork()",
		       !pv->rel[PVS_SHARED][CT_SHARED] && v != wrote);
}

/* ---- vfork, clone ---- */

void judge_vfork_shares_mm(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, VF, 2);
	uint64_t shared, ws;
	int fork_ok = 1;

	if (!st || !j_need_write(f, st) || !j_need_mm(f, st))
		return;
	shared = ct_run_rel(st, CT_SHARED);
	ws = ct_run_writable_shared(st);
	j_say(f, "vfork(): parent and child use one mm (mm_users %u); %" PRIu64 " pages the same, "
	      "%" PRIu64 " of them still writable; the parent's PTEs %s",
	      st->side[CT_PARENT].mm.mm_users, shared, ws,
	      j_no_change(&st->side[CT_PARENT]) ? "untouched" : "changed");
	if (st->events_known && st->has_fork)
		fork_ok = (st->fork.flags & COWTRACE_EVF_VFORK) && !st->fork.fork_ptes;
	j_fork_event(f, st, "vfork");
	j_num(f, "mm_users", st->side[CT_PARENT].mm.mm_users);
	j_num(f, "writable_shared_pages", (int64_t)ws);
	j_decide(f, shared >= 1 && ws == shared && j_no_change(&st->side[CT_PARENT]) &&
		     st->side[CT_PARENT].mm.mm_users >= 2 && fork_ok);
}

void judge_vfork_copies_no_ptes(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *vf = j_step(rs, f, VF, 2), *fe = j_step(rs, f, FE, 2);

	if (!vf || !fe || !j_need_events(f, vf) || !j_need_events(f, fe))
		return;
	if (!vf->has_fork || !fe->has_fork) {
		j_lacks(f, "a fork event is missing");
		return;
	}
	j_fork_event(f, vf, "vfork");
	j_fork_event(f, fe, "fork");
	j_decide(f, (vf->fork.flags & COWTRACE_EVF_VFORK) && !vf->fork.fork_ptes &&
		     !vf->fork.fork_wrprotected && fe->fork.fork_ptes > 0);
}

void judge_clone_flags(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *vf = j_step(rs, f, VF, 2), *sv = j_step(rs, f, SV, 2);

	if (!vf || !sv || !j_need_mm(f, vf) || !j_need_mm(f, sv))
		return;
	j_say(f, "vfork() (CLONE_VM): mm_users %u, the address space shared; fork(): mm_users %u "
	      "and %u, copied", vf->side[CT_PARENT].mm.mm_users, sv->side[CT_PARENT].mm.mm_users,
	      sv->side[CT_CHILD].mm.mm_users);
	j_num(f, "vfork_mm_users", vf->side[CT_PARENT].mm.mm_users);
	j_num(f, "fork_parent_mm_users", sv->side[CT_PARENT].mm.mm_users);
	j_num(f, "fork_child_mm_users", sv->side[CT_CHILD].mm.mm_users);
	j_decide(f, vf->side[CT_PARENT].mm.mm_users >= 2 && sv->side[CT_PARENT].mm.mm_users == 1 &&
		     sv->side[CT_CHILD].mm.mm_users == 1);
}

void judge_clone_path(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *sv = j_step(rs, f, SV, 2), *vf = j_step(rs, f, VF, 2);
	int one_path;

	if (!sv || !vf || !j_need_events(f, sv) || !j_need_events(f, vf))
		return;
	if (rs->has_do_fork < 0) {
		j_lacks(f, "the kernel's symbols: /proc/kallsyms could not be read");
		return;
	}
	one_path = sv->has_fork && !(sv->fork.flags & COWTRACE_EVF_VFORK) && vf->has_fork &&
		   (vf->fork.flags & COWTRACE_EVF_VFORK);
	j_say(f, "fork() and vfork() each made %s event from the probe on kernel_clone() (the "
	      "vfork one flagged CLONE_VM); this kernel %s a function do_fork or _do_fork",
	      one_path ? "one" : "no", rs->has_do_fork ? "has" : "has no");
	j_num(f, "kernel_has_do_fork", rs->has_do_fork);
	j_decide_split(f, "the path through copy_process() shared by fork and vfork", one_path,
		       "the function do_fork", rs->has_do_fork);
}

void judge_fork_copies_vfork_shares(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *sv = j_step(rs, f, SV, 2), *rc = j_step(rs, f, RC, 2);
	const struct ct_run_step *vf = j_step(rs, f, VF, 2);

	if (!sv || !rc || !vf)
		return;
	j_say(f, "fork(): the data page %" PRIu64 " copied, the text page %" PRIu64 " copied; "
	      "vfork(): %" PRIu64 " data pages the same in both, %" PRIu64 " copied",
	      ct_run_rel(sv, CT_DIVERGED), ct_run_rel(rc, CT_DIVERGED), ct_run_rel(vf, CT_SHARED),
	      ct_run_rel(vf, CT_DIVERGED));
	j_num(f, "fork_pages_copied", (int64_t)(ct_run_rel(sv, CT_DIVERGED) +
						ct_run_rel(rc, CT_DIVERGED)));
	j_num(f, "vfork_pages_shared", (int64_t)ct_run_rel(vf, CT_SHARED));
	j_decide_split(f, "fork()", ct_run_rel(sv, CT_DIVERGED) || ct_run_rel(rc, CT_DIVERGED),
		       "vfork()", ct_run_rel(vf, CT_SHARED) >= 1 && !ct_run_rel(vf, CT_DIVERGED) &&
		       j_no_change(&vf->side[CT_PARENT]));
}

/* ---- the parent writes first (parent_copies) ---- */

void judge_parent_keeps_original(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, PC, 3);
	const struct ct_run_side *c;

	if (!st || !j_need_write_story(f, PC, st))
		return;
	c = &st->side[CT_CHILD];
	say_pfns(f, "the parent writes the shared page first", st, CT_PARENT);
	j_say(f, "the child keeps PFN %#" PRIx64 " (%s)", j_pfn(&c->after),
	      j_kept(c) ? "the original" : "a new page");
	j_num(f, "parent_copied", copied(st));
	j_num(f, "child_kept", j_kept(c));
	j_decide(f, !copied(st) && !j_kept(c));
}

void judge_child_writes_a_copy(const struct ct_runs *rs, struct ct_finding *f)
{
	static const struct write_case first = {
		SV, 3, CT_CHILD, "the child writes first", "first_write_copied",
		"the child writing first"
	}, second = {
		PC, 4, CT_CHILD, "the child writes after the parent copied", "after_parent_copied",
		"the child writing after the parent copied"
	};

	copied_by_class(rs, f, &first, &second);
}

void judge_only_child_copies(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *sv = j_step(rs, f, SV, 3), *pc = j_step(rs, f, PC, 3);

	if (!sv || !pc || !j_need_write_story(f, SV, sv) || !j_need_write_story(f, PC, pc))
		return;
	say_pfns(f, "the child writes a shared page", sv, CT_CHILD);
	say_pfns(f, "the parent writes a shared page", pc, CT_PARENT);
	j_num(f, "child_write_copied", copied(sv));
	j_num(f, "parent_write_copied", copied(pc));
	j_decide(f, copied(sv) && !copied(pc));
}

/* ---- vfork ---- */

/* vfork_write: what the child's writes did to the parent's pages, and what it read. */
/*
 * vfork_write: what the child's writes did to the parent's pages, and
 * whether the parent then read what the child wrote (*landed).
 */
static const struct ct_run_step *vfork_writes(const struct ct_runs *rs, struct ct_finding *f,
					      int *landed)
{
	const struct ct_run_step *w = j_step(rs, f, VW, 2), *r = j_step(rs, f, VW, 3);
	int64_t read, wrote;

	if (!w || !r || !j_need_value(f, VW, r, "read_sum", &read) ||
	    !j_need_value(f, VW, r, "child_wrote_sum", &wrote))
		return NULL;
	j_say(f, "the vfork child writes to each of %" PRIu64 " pages: the parent's pages %s (%"
	      PRIu64 " the same in both, %" PRIu64 " copied)", PAGES(w, 0),
	      j_no_change(&w->side[CT_PARENT]) ? "unchanged" : "changed", ct_run_rel(w, CT_SHARED),
	      ct_run_rel(w, CT_DIVERGED));
	if (w->events_known)
		j_say(f, "%" PRIu64 " faults", faults(w));
	j_say(f, "then the parent reads a sum of %" PRId64 " (the child wrote %" PRId64 ")", read,
	      wrote);
	j_num(f, "parent_reads", read);
	j_num(f, "child_wrote", wrote);
	j_num(f, "pages_copied", (int64_t)ct_run_rel(w, CT_DIVERGED));
	*landed = read == wrote;
	return w;
}

void judge_vfork_write_allocates_nothing(const struct ct_runs *rs, struct ct_finding *f)
{
	int landed;
	const struct ct_run_step *w = vfork_writes(rs, f, &landed);

	if (!w)
		return;
	j_decide(f, j_no_change(&w->side[CT_PARENT]) && !ct_run_rel(w, CT_DIVERGED) &&
		     (!w->events_known || !faults(w)) && landed);
}

void judge_vfork_child_writes_land(const struct ct_runs *rs, struct ct_finding *f)
{
	int landed;

	if (vfork_writes(rs, f, &landed))
		j_decide(f, landed);
}

void judge_shared_write_copies_parent(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *sv = j_step(rs, f, SV, 3), *w;
	int landed;

	w = vfork_writes(rs, f, &landed);
	if (!sv || !w)
		return;
	j_say(f, "after fork() the child's write copies %" PRIu64 " page, not the parent",
	      ct_run_rel(sv, CT_DIVERGED));
	j_num(f, "fork_pages_copied", (int64_t)ct_run_rel(sv, CT_DIVERGED));
	j_decide(f, ct_run_rel(w, CT_DIVERGED) > 0 || ct_run_rel(sv, CT_DIVERGED) > 1);
}

void judge_vfork_suspends(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *w = j_step(rs, f, VS, 2), *r = j_step(rs, f, VS, 3);
	int64_t state, early, returned;

	if (!w || !r || !j_need_value(f, VS, w, "parent_state", &state) ||
	    !j_need_value(f, VS, w, "replied_while_child_lives", &early) ||
	    !j_need_value(f, VS, r, "vfork_returned", &returned))
		return;
	j_say(f, "while the vfork child lives the parent is in state %c and %s; vfork() returns "
	      "once the child exits", (char)state, early ? "has returned" : "has not returned");
	if (r->events_known)
		j_say(f, "the child's exit event %s the parent's fork event",
		      r->exit_before_fork ? "comes before" : "does not come before");
	j_num(f, "parent_state", state);
	j_num(f, "returned_while_child_lives", early);
	j_decide(f, state == 'D' && !early && returned == 1 &&
		     (!r->events_known || (r->has_fork && r->exit_before_fork)));
}

/* ---- bss, code, exec, page tables ---- */

void judge_bss_zero(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, BSS, 1);
	const struct ct_run_at *a;
	int64_t v;
	int zero;

	if (!st || !j_need_value(f, BSS, st, "read_sum", &v))
		return;
	a = &st->side[CT_PARENT].after;
	if (!j_need_page(f, a, "the BSS page after the read"))
		return;
	zero = (a->page.flags & (COWTRACE_PG_ZERO | COWTRACE_PG_ANON)) && !a->vma_ino;
	j_say(f, "the first read of a BSS page: %s (PFN %#" PRIx64 "%s), reading %" PRId64,
	      story(st), j_pfn(a), a->page.flags & COWTRACE_PG_ZERO ? ", the zero page" : "", v);
	j_num(f, "read_sum", v);
	j_num(f, "zero_page", !!(a->page.flags & COWTRACE_PG_ZERO));
	j_decide(f, !v && zero);
}

void judge_code_write_copies(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, CW, 3);
	const struct ct_run_side *c, *p;

	if (!st || !j_need_write_story(f, CW, st))
		return;
	c = &st->side[CT_CHILD];
	p = &st->side[CT_PARENT];
	say_pfns(f, "the child writes its text page, made writable by mprotect()", st, CT_CHILD);
	j_say(f, "the new page is %s; the parent keeps PFN %#" PRIx64,
	      j_page(&c->after) && (c->after.page.flags & COWTRACE_PG_ANON) ? "anonymous" :
	      "not anonymous", j_pfn(&p->after));
	j_num(f, "child_copied", copied(st));
	j_num(f, "parent_kept", j_kept(p));
	j_decide(f, copied(st) && j_page(&c->after) && (c->after.page.flags & COWTRACE_PG_ANON) &&
		     j_kept(p));
}

/* fork_exec's step 2, with the exec'd child in it. */
static const struct ct_run_step *exec_child(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = j_step(rs, f, FE, 2);

	if (st && st->nr_sides < 2) {
		j_lacks(f, "%s step 2: the exec'd child was not seen running sleep", FE);
		return NULL;
	}
	return st;
}

void judge_exec_replaces(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *st = exec_child(rs, f);
	const struct ct_run_side *c;
	int same_text;

	if (!st)
		return;
	c = &st->side[CT_CHILD];
	same_text = j_page(&c->probe[0]) && j_pfn(&c->probe[0]) == j_pfn(&st->side[CT_PARENT].probe[0]);
	j_say(f, "after exec the child runs %s, in %zu VMAs: of the parent's %" PRIu64 " heap pages "
	      "it maps %" PRIu64 ", and %s the parent's text page", c->mm.comm, c->nr_vmas,
	      PAGES(st, 0), st->rel[0][CT_SHARED] + st->rel[0][CT_DIVERGED],
	      same_text ? "still maps" : "does not map");
	j_num(f, "child_maps_parent_pages", (int64_t)(st->rel[0][CT_SHARED] + st->rel[0][CT_DIVERGED]));
	j_num(f, "child_maps_parent_text", same_text);
	j_decide(f, !strcmp(c->mm.comm, "sleep") && !same_text && !st->rel[0][CT_SHARED] &&
		     !st->rel[0][CT_DIVERGED] && !st->rel[0][CT_CHILD_ONLY]);
}

void judge_exec_overwrites_text(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *s1 = j_step(rs, f, FE, 1), *s2 = exec_child(rs, f);
	const struct ct_run_at *before, *after, *child;
	int moved, copy;

	if (!s1 || !s2)
		return;
	before = &s1->side[CT_PARENT].probe[0];
	after = &s2->side[CT_PARENT].probe[0];
	child = &s2->side[CT_CHILD].probe[0];
	if (!j_need_page(f, before, "the parent's text page") ||
	    !j_need_page(f, after, "the parent's text page after the exec"))
		return;
	moved = j_pfn(before) != j_pfn(after);
	copy = j_page(child) && (child->page.flags & COWTRACE_PG_ANON);
	j_say(f, "the parent's text page: PFN %#" PRIx64 " -> %#" PRIx64 " across the child's exec; "
	      "the child %s at that address", j_pfn(before), j_pfn(after),
	      copy ? "has an anonymous copy" : j_page(child) ? "maps a file page" : "maps nothing");
	j_num(f, "parent_text_moved", moved);
	j_num(f, "child_text_copy", copy);
	j_decide(f, moved || copy);
}

void judge_first_touch_tables(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *s1 = j_step(rs, f, FT, 1), *s2 = j_step(rs, f, FT, 2);
	int64_t grew;

	if (!s1 || !s2 || !j_need_mm(f, s1) || !j_need_mm(f, s2))
		return;
	grew = (int64_t)s2->side[CT_PARENT].mm.pgtables_bytes -
	       (int64_t)s1->side[CT_PARENT].mm.pgtables_bytes;
	j_say(f, "the first read of a page in 2 MiB never touched: %s; VmPTE %" PRIu64 " -> %" PRIu64
	      " bytes", story(s2), (uint64_t)s1->side[CT_PARENT].mm.pgtables_bytes,
	      (uint64_t)s2->side[CT_PARENT].mm.pgtables_bytes);
	if (s2->events_known)
		j_say(f, "%" PRIu64 " fault (anon-zero %" PRIu64 ")", write_faults(s2) +
		      s2->focus_ev[COWTRACE_EV_ANON_ZERO] + s2->focus_ev[COWTRACE_EV_ANON_NEW],
		      s2->focus_ev[COWTRACE_EV_ANON_ZERO]);
	j_num(f, "pgtables_grew_bytes", grew);
	j_decide(f, grew >= 4096 && s2->has_story &&
		     (s2->story == CT_STORY_ZERO_MAPPED || s2->story == CT_STORY_ANON_NEW));
}

/* ---- memory costs: the commit charge (commit_charge) ---- */

/* The fork step: what the child was charged, and what it took. */
static const struct ct_run_step *commit_charge(const struct ct_runs *rs, struct ct_finding *f,
					       int64_t *len, int64_t *delta)
{
	const struct ct_run_step *st = j_step(rs, f, CC, 2);

	if (!st || !j_need_value(f, CC, st, "region_bytes", len) ||
	    !j_need_value(f, CC, st, "committed_delta_bytes", delta))
		return NULL;
	j_say(f, "fork of a parent with %" PRId64 " MiB of private writable memory, one page of "
	      "it written: Committed_AS grew %" PRId64 " KiB; in that memory the child shares %"
	      PRIu64 " page and has %" PRIu64 " of its own", *len >> 20, *delta >> 10,
	      st->rel[0][CT_SHARED], st->rel[0][CT_CHILD_ONLY] + st->rel[0][CT_DIVERGED]);
	j_num(f, "region_bytes", *len);
	j_num(f, "committed_delta_bytes", *delta);
	j_num(f, "child_new_pages", (int64_t)(st->rel[0][CT_CHILD_ONLY] + st->rel[0][CT_DIVERGED]));
	return st;
}

void judge_fork_charges_commit(const struct ct_runs *rs, struct ct_finding *f)
{
	int64_t len, delta;
	const struct ct_run_step *st = commit_charge(rs, f, &len, &delta);

	if (!st)
		return;
	j_decide_split(f, "physical memory", st->rel[0][CT_CHILD_ONLY] + st->rel[0][CT_DIVERGED] > 0,
		       "the commit charge", delta >= len);
}

void judge_fork_fails_past_commit_limit(const struct ct_runs *rs, struct ct_finding *f)
{
	const struct ct_run_step *s2 = j_step(rs, f, CC, 2), *s3;
	int64_t mode, room, big, err;

	if (!s2 || !j_need_value(f, CC, s2, "overcommit_memory", &mode))
		return;
	if (mode != 2) {
		j_lacks(f, "vm.overcommit_memory is %" PRId64 " here, not 2: there is no commit limit a "
			"fork can fail on, and running the machine out of memory is no experiment; as "
			"root, sysctl vm.overcommit_memory=2, play it again, and set it back to %" PRId64,
			mode, mode);
		return;
	}
	s3 = j_step(rs, f, CC, 3);
	if (!s3 || !j_need_value(f, CC, s3, "headroom_bytes", &room) ||
	    !j_need_value(f, CC, s3, "second_region_bytes", &big) ||
	    !j_need_value(f, CC, s3, "fork_errno", &err))
		return;
	j_say(f, "under vm.overcommit_memory=2, with %" PRId64 " MiB left under CommitLimit, the "
	      "parent maps %" PRId64 " MiB more, touches none of it, and forks: %s", room >> 20,
	      big >> 20, err ? strerror((int)err) : "the fork worked");
	j_num(f, "headroom_bytes", room);
	j_num(f, "second_region_bytes", big);
	j_num(f, "fork_errno", err);
	j_decide(f, err == ENOMEM);
}
