// SPDX-License-Identifier: GPL-2.0
/*
 * A scenario step's results (run_result.h): taken from its snapshots and
 * events, and read back by the step's output and the claims' judges.
 */
#include <string.h>

#include "run_result.h"
#include "run_record.h"

static int region_of(const struct ct_run_result *r, uint64_t addr)
{
	for (int i = 0; i < r->nr_regions; i++)
		if (addr >= r->regions[i][0] && addr < r->regions[i][0] + r->regions[i][1])
			return i;
	return -1;
}

static void at(const struct ct_snapshot *s, uint64_t addr, struct ct_run_at *out)
{
	const struct cowtrace_page *p = ct_find_page(s, addr);
	const struct cowtrace_vma *v = ct_find_vma(s, addr);

	memset(out, 0, sizeof(*out));
	if (p) {
		out->has_page = 1;
		out->page = *p;
	}
	if (v) {
		out->has_vma = 1;
		out->vma_flags = v->flags;
		out->vma_ino = v->ino;
	}
}

/* What ct_pair_pages() walks for: one side's changes, or the pair's relations. */
struct tally {
	const struct ct_run_result *r;
	struct ct_run_side *side;
	struct ct_run_step *st;
};

static void tally_change(const struct cowtrace_page *a, const struct cowtrace_page *b, void *arg)
{
	struct tally *t = arg;
	int reg = region_of(t->r, (b ? b : a)->addr);

	if (reg >= 0)
		t->side->changes[reg][ct_classify_change(a, b)]++;
}

static void tally_relation(const struct cowtrace_page *p, const struct cowtrace_page *c, void *arg)
{
	struct tally *t = arg;
	int reg = region_of(t->r, (p ? p : c)->addr);
	enum ct_relation rel;

	if (reg < 0)
		return;
	rel = ct_classify_relation(p, c);
	t->st->rel[reg][rel]++;
	if (rel == CT_SHARED && ((p->flags | c->flags) & COWTRACE_PTE_WRITE))
		t->st->writable_shared[reg]++;
}

#define PERM_FLAGS (COWTRACE_VMA_READ | COWTRACE_VMA_WRITE | COWTRACE_VMA_EXEC | \
		    COWTRACE_VMA_SHARED)

/* VMAs of a that b has too: the same range and permissions. */
static size_t vmas_alike(const struct ct_snapshot *a, const struct ct_snapshot *b)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nr_vmas; i++) {
		const struct cowtrace_vma *v = &a->vmas[i];
		const struct cowtrace_vma *w = ct_find_vma(b, v->start);

		n += w && w->start == v->start && w->end == v->end &&
		     (w->flags & PERM_FLAGS) == (v->flags & PERM_FLAGS);
	}
	return n;
}

static void record_side(const struct ct_run_result *r, const struct ct_run_obs *o, int i,
			struct ct_run_step *st)
{
	struct ct_run_side *sd = &st->side[i];
	const struct ct_snapshot *now = o->now[i], *prev = o->prev[i];
	struct tally t = { r, sd, st };

	sd->seen = 1;
	sd->source = now->source;
	sd->unavailable = now->unavailable;
	sd->mm_known = now->source == CT_SOURCE_MODULE;
	sd->mm = now->mm;
	sd->nr_vmas = now->nr_vmas;
	if (o->now[!i])
		sd->vmas_like_other = vmas_alike(now, o->now[!i]);
	ct_pair_pages(prev ? prev : &(struct ct_snapshot){ 0 }, now, tally_change, &t);
	if (prev)
		at(prev, st->subject, &sd->before);
	at(now, st->subject, &sd->after);
	for (int k = 0; k < r->nr_regions; k++)
		at(now, r->regions[k][0], &sd->region[k]);
	for (int k = 0; k < r->nr_probes; k++)
		at(now, r->probes[k], &sd->probe[k]);
}

static int who(const struct ct_run_obs *o, uint32_t pid)
{
	if (pid == o->pids[CT_PARENT])
		return 0;
	return o->now[CT_CHILD] && pid == o->pids[CT_CHILD] ? 1 : 2;
}

static void record_events(const struct ct_run_obs *o, struct ct_run_step *st)
{
	int exits = 0;

	st->events_known = o->events_known;
	for (size_t i = 0; i < o->nr_ev; i++) {
		const struct cowtrace_event *e = &o->ev[i];
		unsigned int k = e->kind < COWTRACE_EV_NR_KINDS ? e->kind : 0;

		st->ev[who(o, e->pid)][k]++;
		if (st->focus && st->actor >= 0 && e->pid == o->pids[st->actor] &&
		    (e->address & ~4095ull) == st->focus)
			st->focus_ev[k]++;
		exits += k == COWTRACE_EV_EXIT;
		if (k == COWTRACE_EV_FORK && !st->has_fork) {
			st->has_fork = 1;
			st->fork = *e;
			st->exit_before_fork = exits > 0;
		}
	}
}

void ct_run_record_step(const struct ct_run_result *r, const struct ct_run_obs *o,
			struct ct_run_step *st)
{
	struct tally rt = { r, NULL, st };

	memset(st, 0, sizeof(*st));
	st->step = o->step;
	strncpy(st->action, o->action, sizeof(st->action) - 1);
	st->focus = o->focus;
	st->actor = o->focus ? o->actor : -1;
	st->subject = o->focus ? o->focus : r->nr_regions ? r->regions[0][0] : 0;
	st->has_story = !!o->story;
	if (o->story)
		st->story = o->story->story;
	st->events_agree = o->events_agree;
	st->nr_sides = o->now[CT_CHILD] ? 2 : 1;
	for (int i = 0; i < st->nr_sides; i++)
		record_side(r, o, i, st);
	if (st->nr_sides == 2)
		ct_pair_pages(o->now[0], o->now[1], tally_relation, &rt);
	record_events(o, st);
	for (int i = 0; i < o->nr_values && i < CT_RUN_MAX_VALUES; i++)
		st->values[st->nr_values++] = o->values[i];
}

/* ---- reading them back ---- */

const struct ct_run_step *ct_run_step(const struct ct_run_result *r, int n)
{
	return r && n >= 1 && n <= r->nr_steps ? &r->steps[n - 1] : NULL;
}

int ct_run_value(const struct ct_run_step *st, const char *name, int64_t *v)
{
	for (int i = 0; i < st->nr_values; i++) {
		if (!strcmp(st->values[i].name, name)) {
			*v = st->values[i].v;
			return 0;
		}
	}
	return -1;
}

uint64_t ct_run_changes(const struct ct_run_side *sd, enum ct_change c)
{
	uint64_t n = 0;

	for (int k = 0; k < CT_RUN_MAX_REGIONS; k++)
		n += sd->changes[k][c];
	return n;
}

uint64_t ct_run_rel(const struct ct_run_step *st, enum ct_relation rel)
{
	uint64_t n = 0;

	for (int k = 0; k < CT_RUN_MAX_REGIONS; k++)
		n += st->rel[k][rel];
	return n;
}

uint64_t ct_run_writable_shared(const struct ct_run_step *st)
{
	uint64_t n = 0;

	for (int k = 0; k < CT_RUN_MAX_REGIONS; k++)
		n += st->writable_shared[k];
	return n;
}
