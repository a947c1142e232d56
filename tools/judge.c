// SPDX-License-Identifier: GPL-2.0
/* The judges' common steps (judge.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "judge.h"

#define lacks j_lacks

/* The first fact missing is the one named. */
void j_lacks(struct ct_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (f->why_not[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->why_not, sizeof(f->why_not), fmt, ap);
	va_end(ap);
}

const struct ct_run_step *j_step(const struct ct_runs *rs, struct ct_finding *f,
				 const char *scenario, int n)
{
	const struct ct_run_result *r = ct_runs_find(rs, scenario);
	const struct ct_run_step *st = ct_run_step(r, n);

	if (st)
		return st;
	if (!r || !r->ran)
		lacks(f, "scenario %s was not played", scenario);
	else if (r->failed)
		lacks(f, "scenario %s failed before its step %d", scenario, n);
	else if (r->stopped[0])
		lacks(f, "scenario %s stopped before its step %d: %s", scenario, n, r->stopped);
	else
		lacks(f, "scenario %s has no step %d", scenario, n);
	return NULL;
}

const struct ct_run_step *j_step_opt(const struct ct_runs *rs, const char *scenario, int n)
{
	return ct_run_step(ct_runs_find(rs, scenario), n);
}

int j_need_write_story(struct ct_finding *f, const char *scenario, const struct ct_run_step *st)
{
	if (st->has_story && (st->story == CT_STORY_REUSED || ct_story_copies(st->story)))
		return 1;
	lacks(f, "%s step %d: the records do not show the write reusing or copying the page (story %s)",
	      scenario, st->step, st->has_story ? ct_story_names[st->story] : "none");
	return 0;
}

int j_need_value(struct ct_finding *f, const char *scenario, const struct ct_run_step *st,
		 const char *name, int64_t *v)
{
	if (!ct_run_value(st, name, v))
		return 1;
	lacks(f, "%s step %d: no %s was recorded", scenario, st->step, name);
	return 0;
}

int j_no_change(const struct ct_run_side *sd)
{
	for (int c = CT_UNCHANGED + 1; c < CT_NR_CHANGES; c++)
		if (ct_run_changes(sd, c))
			return 0;
	return 1;
}

static uint32_t unavailable(const struct ct_run_step *st)
{
	uint32_t u = 0;

	for (int i = 0; i < st->nr_sides; i++)
		u |= st->side[i].unavailable;
	return u;
}

int j_need_write(struct ct_finding *f, const struct ct_run_step *st)
{
	if (!(unavailable(st) & CT_UNAVAIL_WRITE))
		return 1;
	lacks(f, "the PTE write bit: this source (procfs) cannot show it; load the cowtrace module");
	return 0;
}

int j_need_refcount(struct ct_finding *f, const struct ct_run_step *st)
{
	if (!(unavailable(st) & CT_UNAVAIL_REFCOUNT))
		return 1;
	lacks(f, "the page refcount: this source (procfs) cannot show it; load the cowtrace module");
	return 0;
}

int j_need_mm(struct ct_finding *f, const struct ct_run_step *st)
{
	for (int i = 0; i < st->nr_sides; i++) {
		if (!st->side[i].mm_known) {
			lacks(f, "the mm counters (VmPTE, mm_users): only the cowtrace module gives them");
			return 0;
		}
	}
	return 1;
}

int j_need_events(struct ct_finding *f, const struct ct_run_step *st)
{
	if (st->events_known)
		return 1;
	lacks(f, "the fault and fork events of step %d: not traced (no module) or some were lost",
	      st->step);
	return 0;
}

int j_need_page(struct ct_finding *f, const struct ct_run_at *a, const char *what)
{
	if (j_page(a))
		return 1;
	lacks(f, "%s: no page was mapped there", what);
	return 0;
}

const struct cowtrace_page *j_page(const struct ct_run_at *a)
{
	return a->has_page && (a->page.flags & COWTRACE_PTE_PRESENT) ? &a->page : NULL;
}

uint64_t j_pfn(const struct ct_run_at *a)
{
	return j_page(a) ? a->page.pfn : 0;
}

int j_writable(const struct ct_run_at *a)
{
	return j_page(a) && (a->page.flags & COWTRACE_PTE_WRITE);
}

int j_kept(const struct ct_run_side *sd)
{
	return j_page(&sd->before) && j_page(&sd->after) &&
	       sd->before.page.pfn == sd->after.page.pfn;
}

uint64_t j_events(const struct ct_run_step *st, int kind)
{
	return st->ev[0][kind] + st->ev[1][kind] + st->ev[2][kind];
}

void j_say(struct ct_finding *f, const char *fmt, ...)
{
	size_t used = strnlen(f->observed, sizeof(f->observed));
	va_list ap;

	if (used && used + 2 < sizeof(f->observed)) {
		memcpy(f->observed + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= sizeof(f->observed))
		return;
	va_start(ap, fmt);
	vsnprintf(f->observed + used, sizeof(f->observed) - used, fmt, ap);
	va_end(ap);
}

void j_num(struct ct_finding *f, const char *key, int64_t v)
{
	if (f->nr_ev >= CT_MAX_EVIDENCE)
		return;
	snprintf(f->ev[f->nr_ev].key, sizeof(f->ev[f->nr_ev].key), "%s", key);
	f->ev[f->nr_ev++].v = v;
}

void j_fork_event(struct ct_finding *f, const struct ct_run_step *st, const char *key)
{
	const struct cowtrace_event *e = &st->fork;
	char k[40];

	if (!st->events_known || !st->has_fork)
		return;
	j_say(f, "the %s event: %" PRIu64 " PTEs mapped in the child, %" PRIu64
	      " of the parent's made read-only, page tables of %u VMAs copied", key,
	      (uint64_t)e->fork_ptes, (uint64_t)e->fork_wrprotected, e->fork_vmas);
	snprintf(k, sizeof(k), "%s_ptes", key);
	j_num(f, k, (int64_t)e->fork_ptes);
	snprintf(k, sizeof(k), "%s_wrprotected", key);
	j_num(f, k, (int64_t)e->fork_wrprotected);
}

void j_decide(struct ct_finding *f, int holds)
{
	if (f->why_not[0])
		return;
	f->decided = 1;
	f->holds = !!holds;
}

void j_decide_split(struct ct_finding *f, const char *class_a, int holds_a,
		    const char *class_b, int holds_b)
{
	if (f->why_not[0])
		return;
	f->decided = f->split = 1;
	f->class_a = class_a;
	f->class_b = class_b;
	f->holds_a = !!holds_a;
	f->holds_b = !!holds_b;
}
