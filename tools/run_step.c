// SPDX-License-Identifier: GPL-2.0
/*
 * The step engine of cowtrace run.  Each step a scenario observes is
 * snapshotted in parent and child, diffed against each side's previous
 * snapshot, and the focus page explained in one sentence built from what the
 * snapshots show, never from what the textbook says should happen; the
 * sentence is checked against the step's own trace events where the module
 * traces.  What each step observed is also kept (run_result.h), for the
 * claims' judges (claims.h, cowtrace run --claims).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "reserve.h"
#include "run_record.h"
#include "run_step.h"

/* Events shown per step in text; the JSON and the counts have them all. */
#define STEP_EVENT_LINES 8
#define STEP_EVENTS_MAX 4096

static int in_regions(const struct scen *sc, uint64_t addr)
{
	for (int i = 0; i < sc->nr_regions; i++)
		if (addr >= sc->regions[i].start &&
		    addr < sc->regions[i].start + sc->regions[i].len)
			return 1;
	return 0;
}

void scen_add_region(struct scen *sc, uint64_t start, uint64_t len, const char *what)
{
	if (sc->nr_regions >= MAX_REGIONS)
		return;
	sc->regions[sc->nr_regions++] = (struct region){ start, len, what };
	sc->rec->regions[sc->rec->nr_regions][0] = start;
	sc->rec->regions[sc->rec->nr_regions++][1] = len;
}

/* An address whose records each step keeps for the claims, outside the regions. */
void scen_add_probe(struct scen *sc, uint64_t addr)
{
	if (sc->rec->nr_probes < CT_RUN_MAX_PROBES)
		sc->rec->probes[sc->rec->nr_probes++] = addr;
}

/* A number the next step records beside its snapshots (JSON "values"). */
void scen_note(struct scen *sc, const char *name, int64_t v)
{
	if (sc->nr_values < CT_RUN_MAX_VALUES)
		sc->values[sc->nr_values++] = (struct ct_run_value){ name, v };
}

uint64_t scen_call(struct scen *sc, struct puppet *p, enum puppet_op op,
		   uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t r = puppet_call(p, op, a, b, c);

	if (r == (uint64_t)-1 && !sc->failed) {
		sc->failed = 1;
		ct_err(EXIT_RUNTIME, "scenario %s: puppet operation %d failed: %s",
		       sc->name, op, strerror(errno));
	}
	return r;
}

static int snap(struct scen *sc, pid_t pid, struct ct_snapshot *s)
{
	struct ct_take_opts o;
	struct ct_error err;

	ct_take_opts_init(&o);
	if (ct_take(pid, &o, s, &err)) {
		sc->failed = 1;
		return ct_err(EXIT_RUNTIME, "%s", err.msg);
	}
	return 0;
}

/* Where the step's output goes: text unless --json, neither when quiet. */
int scen_text_out(const struct scen *sc)
{
	return !sc->j && !sc->quiet;
}

static void report_changes(struct scen *sc, const char *who, const struct ct_run_side *sd)
{
	int any = 0;

	if (sc->j) {
		json_key(sc->j, who);
		json_object(sc->j);
		for (int c = 1; c < CT_NR_CHANGES; c++)	/* what changed */
			if (ct_run_changes(sd, c))
				json_kuint(sc->j, ct_change_names[c], ct_run_changes(sd, c));
		json_end_object(sc->j);
		return;
	}
	if (!scen_text_out(sc))
		return;
	printf("    %-7s", who);
	for (int c = 1; c < CT_NR_CHANGES; c++) {
		if (!ct_run_changes(sd, c))
			continue;
		printf("%s %" PRIu64 " %s", any ? "," : "", ct_run_changes(sd, c), ct_change_names[c]);
		any = 1;
	}
	printf("%s\n", any ? "" : " no change");
}

/*
 * One sentence about the focus page: its story (classify.h), told from its
 * records before (a) and after (b) in the process that acted, the VMA there,
 * and its record in the other process.
 */
static void explain_page(char *buf, size_t len, const char *actor, const char *verb,
			 uint64_t addr, const struct ct_story_view *v,
			 const struct cowtrace_page *a, const struct cowtrace_page *b,
			 const struct cowtrace_page *other, const struct cowtrace_vma *vma,
			 const struct ct_pfn_set *self)
{
	int same_as_other = b && other && other->pfn == b->pfn &&
			    (other->flags & COWTRACE_PTE_PRESENT);
	int n = snprintf(buf, len, "%s %s %#" PRIx64 ": ", actor, verb, addr);

	if (n < 0 || (size_t)n >= len)
		return;
	buf += n;
	len -= n;
	switch (v->story) {
	case CT_STORY_NOTHING:
		snprintf(buf, len, "nothing is mapped there");
		break;
	case CT_STORY_ANON_NEW:
		snprintf(buf, len,
			 "first touch of anonymous memory, so the kernel allocated a new zeroed page (PFN %#" PRIx64 "); nothing was copied",
			 v->new_pfn);
		break;
	case CT_STORY_ZERO_MAPPED:
		snprintf(buf, len,
			 "first touch by a read, so the kernel mapped the shared zero page (PFN %#" PRIx64 "); nothing was copied",
			 v->new_pfn);
		break;
	case CT_STORY_PAGE_MAPPED:
		if (vma && (vma->flags & COWTRACE_VMA_SHARED))
			snprintf(buf, len,
				 "first touch of a shared mapping, so the kernel mapped %s (PFN %#" PRIx64 ")%s: nothing is copied, ever",
				 same_as_other ? "the very page the other process uses" :
						 "the file's own page",
				 v->new_pfn, b->flags & COWTRACE_PTE_WRITE ? ", writable" : "");
		else
			snprintf(buf, len,
				 "first touch, so the kernel mapped the file's page from the page cache, read-only (PFN %#" PRIx64 ")%s; nothing was copied",
				 v->new_pfn,
				 same_as_other ? ", the very page the other process maps" : "");
		break;
	case CT_STORY_FILE_COPIED:
		if (v->had)
			snprintf(buf, len,
				 "the page was the file's page from the page cache, mapped read-only in a private mapping, so the kernel copied it into a new anonymous page: PFN %#" PRIx64 " -> %#" PRIx64,
				 v->old_pfn, v->new_pfn);
		else
			snprintf(buf, len,
				 "first touch of a private file mapping, by a write, so the kernel read the file's page from the page cache and copied it into a new anonymous page (PFN %#" PRIx64 ") in the same fault",
				 v->new_pfn);
		break;
	case CT_STORY_COW_COPIED:
		snprintf(buf, len,
			 "the page was shared (mapcount %u), so the kernel copied it%s: PFN %#" PRIx64 " -> %#" PRIx64,
			 a->mapcount,
			 COWTRACE_PAGE_LEVEL(a->flags) == COWTRACE_LEVEL_PMD ?
				 " after splitting the huge PMD into PTEs" : "",
			 v->old_pfn, v->new_pfn);
		break;
	case CT_STORY_KSM_BROKEN:
		snprintf(buf, len,
			 "it was a KSM page merged with %u others, so the kernel broke the merge with a private copy: PFN %#" PRIx64 " -> %#" PRIx64,
			 a->mapcount - 1, v->old_pfn, v->new_pfn);
		break;
	case CT_STORY_REUSED:
		snprintf(buf, len,
			 "no one else maps the page any more (mapcount %u), so the kernel reused it without a copy: PFN %#" PRIx64 " is writable and exclusive again",
			 a->mapcount, v->new_pfn);
		break;
	case CT_STORY_SHARED_WRITE:
		snprintf(buf, len,
			 "the page of a shared mapping was mapped read-only, so the kernel made the same page writable (PFN %#" PRIx64 "): no copy",
			 v->new_pfn);
		break;
	case CT_STORY_ZERO_REPLACED:
		snprintf(buf, len,
			 "it mapped the shared zero page, so the kernel gave it a new zeroed page: PFN %#" PRIx64 " -> %#" PRIx64 "%s",
			 v->old_pfn, v->new_pfn,
			 other && (other->flags & COWTRACE_PG_ZERO) ?
				 "; the other process still maps the zero page" : "");
		break;
	case CT_STORY_UNCHANGED:
		if (b->flags & COWTRACE_PTE_WRITE && same_as_other)
			snprintf(buf, len,
				 "the page is writable in both processes (a shared mapping), so both use PFN %#" PRIx64 ": no fault, no copy",
				 v->new_pfn);
		else
			snprintf(buf, len, "nothing to do for the kernel: PFN %#" PRIx64 " stays, mapcount %u%s",
				 (uint64_t)b->pfn, b->mapcount,
				 ct_page_is_file_page(b) && ct_pfn_set_has(self, b->pfn) ?
					 " (one of them is this cowtrace's own mapping)" : "");
		break;
	default:
		snprintf(buf, len, "the page was %s: PFN %#" PRIx64 " -> %#" PRIx64,
			 ct_change_names[v->change], (uint64_t)(a ? a->pfn : 0),
			 (uint64_t)(b ? b->pfn : 0));
	}
}

static const char *who(const struct scen *sc, uint32_t pid)
{
	if (pid == (uint32_t)sc->parent.pid)
		return "parent";
	if (sc->have_child && pid == (uint32_t)sc->child_pid)
		return "child";
	return "other";
}

/*
 * Take the step's events in the scenario's regions (and its forks and exits)
 * out of the ring: what the kernel did, fault by fault.  All of them are in
 * by now: a fault's event is queued before the faulting access completes.
 */
static void collect_events(struct scen *sc)
{
	struct ct_error err;
	int n;

	sc->nr_step_ev = 0;
	sc->step_ev_short = 0;
	if (sc->tracer.fd < 0)
		return;
	while ((n = ct_trace_read(&sc->tracer, sc->events, STEP_EVENTS_MAX, 1, &err)) > 0) {
		for (int i = 0; i < n; i++) {
			const struct cowtrace_event *e = &sc->events[i];

			if (e->kind != COWTRACE_EV_FORK && e->kind != COWTRACE_EV_EXIT &&
			    !in_regions(sc, e->address))
				continue;
			if (ct_reserve((void **)&sc->step_ev, &sc->step_ev_cap,
				       sc->nr_step_ev + 1, sizeof(*e))) {
				sc->step_ev_short = 1;
				continue;
			}
			sc->step_ev[sc->nr_step_ev++] = *e;
		}
	}
	if (n < 0)
		sc->step_ev_short = 1;
}

/* Beside what the snapshots show: the step's events. */
static void report_events(struct scen *sc)
{
	uint64_t kinds[COWTRACE_EV_NR_KINDS] = { 0 };
	char line[256];

	if (sc->tracer.fd < 0 || (!sc->j && !scen_text_out(sc)))
		return;
	if (sc->j) {
		json_key(sc->j, "events");
		json_array(sc->j);
		for (size_t i = 0; i < sc->nr_step_ev; i++)
			ct_json_event(sc->j, &sc->step_ev[i]);
		json_end_array(sc->j);
		return;
	}
	for (size_t i = 0; i < sc->nr_step_ev; i++) {
		const struct cowtrace_event *e = &sc->step_ev[i];

		kinds[e->kind < COWTRACE_EV_NR_KINDS ? e->kind : 0]++;
		if (i < STEP_EVENT_LINES) {
			ct_event_format(e, line, sizeof(line));
			printf("    event: %-6s %s\n", who(sc, e->pid), line);
		}
	}
	if (sc->nr_step_ev > STEP_EVENT_LINES)
		printf("    event: ... %zu more\n", sc->nr_step_ev - STEP_EVENT_LINES);
	if (sc->nr_step_ev) {
		printf("    events:");
		for (int k = 1; k < COWTRACE_EV_NR_KINDS; k++)
			if (kinds[k])
				printf(" %s %" PRIu64, ct_event_kind_name(k), kinds[k]);
		printf("\n");
	}
}

/* The step's map covers the scenario's regions, as its tallies do. */
static void step_map_of(struct scen *sc, struct ct_html_map *m, struct ct_range *r,
			struct ct_snapshot *now, int n)
{
	for (int i = 0; i < sc->nr_regions; i++)
		r[i] = (struct ct_range){ sc->regions[i].start,
					  sc->regions[i].start + sc->regions[i].len };
	m->parent = &now[0];
	m->child = n == 2 ? &now[1] : NULL;
	m->origin = sc->have_origin ? &sc->origin : NULL;
	m->only = r;
	m->nr_only = sc->nr_regions;
}

static void step_map(struct scen *sc, const char *action, const char *why,
		     struct ct_snapshot *now, int n)
{
	struct ct_range r[MAX_REGIONS];
	struct ct_html_map m = { 0 };
	char heading[160];

	if (!sc->html)
		return;
	if (sc->quiet)	/* the claims' report: many scenarios in one page */
		snprintf(heading, sizeof(heading), "%s, step %d: %s", sc->name, sc->step, action);
	else
		snprintf(heading, sizeof(heading), "step %d: %s", sc->step, action);
	step_map_of(sc, &m, r, now, n);
	m.heading = heading;
	m.caption = why;
	ct_html_map(sc->html, &m);
}

/* In --json, the map's states per side, as --html draws them. */
static void step_map_totals(struct scen *sc, struct ct_snapshot *now, int n)
{
	struct ct_range r[MAX_REGIONS];
	struct ct_html_map m = { 0 };
	struct ct_map_totals t;

	step_map_of(sc, &m, r, now, n);
	ct_map_count(&m, &t);
	json_key(sc->j, "map");
	json_object(sc->j);
	ct_json_map_totals(sc->j, &t);
	json_end_object(sc->j);
}

/* The focus page's story and sentence, checked against the step's events. */
struct told {
	struct ct_story_view story;
	const struct cowtrace_page *a, *b;	/* the actor's records before, after */
	int checked, agree;
	char disagreement[256];
};

static void tell_focus(struct scen *sc, struct ct_snapshot *now, int n, int actor,
		       uint64_t focus, const char *verb, char *why, size_t len, struct told *t)
{
	static const char *const names[2] = { "parent", "child" };
	const struct cowtrace_vma *vma = ct_find_vma(&now[actor], focus);
	uint32_t pid = actor ? (uint32_t)sc->child_pid : (uint32_t)sc->parent.pid;

	if (!vma && sc->have_prev[actor])
		vma = ct_find_vma(&sc->prev[actor], focus);
	ct_story_of_pages(t->a, t->b, vma, now[actor].unavailable, &t->story);
	explain_page(why, len, names[actor], verb, focus, &t->story, t->a, t->b,
		     n == 2 ? ct_find_page(&now[!actor], focus) : NULL, vma, &sc->self);
	if (sc->tell)
		sc->tell(sc, why, len, &t->story, t->a, t->b, now[actor].unavailable);
	/* the sentence, from the snapshots, against the step's own events */
	if (sc->tracer.fd >= 0 && !sc->step_ev_short && !sc->tracer.lost) {
		t->checked = 1;
		t->agree = !ct_story_check(&t->story, sc->step_ev, sc->nr_step_ev, pid, focus,
					   t->disagreement, sizeof(t->disagreement));
		if (!t->agree) {
			size_t l = strlen(why);

			snprintf(why + l, len - l, "; but the trace disagrees: %s", t->disagreement);
		}
	}
}

/* What the step observed, into the scenario's record (run_result.h). */
static void record_step(struct scen *sc, struct ct_run_step *st, struct ct_snapshot *now,
			int n, const char *action, int actor, uint64_t focus,
			const struct told *t, int told)
{
	struct ct_run_obs o = {
		.step = sc->step, .action = action, .actor = actor, .focus = focus,
		.pids = { (uint32_t)sc->parent.pid, (uint32_t)sc->child_pid },
		.story = told ? &t->story : NULL,
		.events_agree = told && t->checked ? t->agree : -1,
		.ev = sc->step_ev, .nr_ev = sc->nr_step_ev,
		.events_known = sc->tracer.fd >= 0 && !sc->step_ev_short && !sc->tracer.lost,
		.values = sc->values, .nr_values = sc->nr_values,
	};

	for (int i = 0; i < n; i++) {
		o.prev[i] = sc->have_prev[i] ? &sc->prev[i] : NULL;
		o.now[i] = &now[i];
	}
	ct_run_record_step(sc->rec, &o, st);
	if (sc->rec->nr_steps < CT_RUN_MAX_STEPS)
		sc->rec->steps[sc->rec->nr_steps++] = *st;
	sc->nr_values = 0;
}

/* M1: each side's mm counters, where the snapshot's source has them. */
static void json_mm(struct json *j, const struct ct_run_step *st)
{
	static const char *const names[2] = { "parent", "child" };

	if (!st->side[0].mm_known)
		return;
	json_key(j, "mm");
	json_object(j);
	for (int i = 0; i < st->nr_sides; i++) {
		const struct cowtrace_mm_info *m = &st->side[i].mm;

		json_key(j, names[i]);
		json_object(j);
		json_kuint(j, "pgtables_bytes", m->pgtables_bytes);
		json_kuint(j, "mm_users", m->mm_users);
		json_kuint(j, "map_count", m->map_count);
		json_kuint(j, "rss_anon", m->rss_anon);
		json_kuint(j, "rss_file", m->rss_file);
		json_kuint(j, "rss_shmem", m->rss_shmem);
		json_kuint(j, "total_vm", m->total_vm);
		json_end_object(j);
	}
	json_end_object(j);
}

static void json_values(struct json *j, const struct ct_run_step *st)
{
	if (!st->nr_values)
		return;
	json_key(j, "values");
	json_object(j);
	for (int i = 0; i < st->nr_values; i++) {
		json_key(j, st->values[i].name);
		json_int(j, st->values[i].v);
	}
	json_end_object(j);
}

static void json_compare(struct json *j, const struct ct_run_step *st)
{
	json_key(j, "compare");
	json_object(j);
	for (int r = 0; r < CT_NR_RELATIONS; r++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_pages", ct_relation_names[r]);
		json_kuint(j, key, ct_run_rel(st, r));
	}
	json_kuint(j, "writable_shared_pages", ct_run_writable_shared(st));
	json_end_object(j);
}

static void json_step(struct scen *sc, const struct ct_run_step *st, struct ct_snapshot *now,
		      const char *why, int told, const struct told *t)
{
	struct json *j = sc->j;
	int actor = st->actor;

	json_object(j);
	json_kuint(j, "step", st->step);
	json_kstr(j, "action", st->action);
	json_kstr(j, "explanation", why);
	if (told) {
		json_kuint(j, "focus", st->focus);
		json_kuint(j, "actor", actor ? (uint32_t)sc->child_pid : (uint32_t)sc->parent.pid);
		json_kstr(j, "story", ct_story_names[t->story.story]);
		if (t->checked)
			json_kbool(j, "events_agree", t->agree);
		if (!t->agree)
			json_kstr(j, "disagreement", t->disagreement);
	}
	if (st->focus) {
		json_key(j, "page_before");
		t->a ? ct_json_page(j, &sc->prev[actor], t->a) : json_null(j);
		json_key(j, "page_after");
		t->b ? ct_json_page(j, &now[actor], t->b) : json_null(j);
	}
	if (sc->pipe_byte >= 0)
		json_kuint(j, "pipe_byte", (uint64_t)sc->pipe_byte);
	json_values(j, st);
	json_key(j, "changes");
	json_object(j);
	report_changes(sc, "parent", &st->side[0]);
	if (st->nr_sides == 2)
		report_changes(sc, "child", &st->side[1]);
	json_end_object(j);
	if (st->nr_sides == 2)
		json_compare(j, st);
	json_mm(j, st);
	step_map_totals(sc, now, st->nr_sides);
	report_events(sc);
	json_end_object(j);
}

static void text_mm(const struct ct_run_step *st)
{
	static const char *const names[2] = { "parent", "child" };
	char sz[16];

	if (!st->side[0].mm_known)
		return;
	printf("    mm:    ");
	for (int i = 0; i < st->nr_sides; i++)
		printf("%s %s VmPTE %s, mm_users %u, %u VMAs", i ? ";" : "", names[i],
		       ct_human_bytes(st->side[i].mm.pgtables_bytes, sz, sizeof(sz)),
		       st->side[i].mm.mm_users, st->side[i].mm.map_count);
	printf("\n");
}

static void text_step(struct scen *sc, const struct ct_run_step *st, const char *why)
{
	printf("\nstep %d: %s\n", st->step, st->action);
	if (*why)
		printf("  %s\n", why);
	report_changes(sc, "parent", &st->side[0]);
	if (st->nr_sides == 2) {
		report_changes(sc, "child", &st->side[1]);
		printf("    compare: %" PRIu64 " shared (%" PRIu64 " of them writable), %" PRIu64
		       " diverged, %" PRIu64 " parent-only, %" PRIu64 " child-only\n",
		       ct_run_rel(st, CT_SHARED), ct_run_writable_shared(st),
		       ct_run_rel(st, CT_DIVERGED), ct_run_rel(st, CT_PARENT_ONLY),
		       ct_run_rel(st, CT_CHILD_ONLY));
	}
	text_mm(st);
	report_events(sc);
}

/*
 * Snapshot everyone, record and print the step.  focus/actor name the page
 * the step was about (0 for none); text, if given, replaces the page sentence.
 */
void scen_observe(struct scen *sc, const char *action, int actor, uint64_t focus,
		  const char *verb, const char *fmt, ...)
{
	struct ct_snapshot now[2];
	pid_t pids[2] = { sc->parent.pid, sc->child_pid };
	int n = sc->have_child ? 2 : 1;
	char why[768] = "";
	struct told t = { .agree = 1 };
	struct ct_run_step st;
	int told = !fmt && focus;

	if (sc->failed)
		return;
	for (int i = 0; i < n; i++)
		if (snap(sc, pids[i], &now[i]))
			return;
	sc->step++;
	collect_events(sc);
	if (focus) {
		t.a = sc->have_prev[actor] ? ct_find_page(&sc->prev[actor], focus) : NULL;
		t.b = ct_find_page(&now[actor], focus);
	}
	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	} else if (focus) {
		tell_focus(sc, now, n, actor, focus, verb, why, sizeof(why), &t);
	}
	record_step(sc, &st, now, n, action, actor, focus, &t, told);
	if (n == 2 && !sc->have_origin && !ct_snapshot_copy(&sc->origin, &now[0]))
		sc->have_origin = 1;
	step_map(sc, action, why, now, n);
	if (sc->j)
		json_step(sc, &st, now, why, told, &t);
	else if (scen_text_out(sc))
		text_step(sc, &st, why);
	for (int i = 0; i < 2; i++) {
		if (sc->have_prev[i])
			ct_snapshot_free(&sc->prev[i]);
		sc->have_prev[i] = i < n;
		if (i < n)
			sc->prev[i] = now[i];
	}
}

void scen_fork(struct scen *sc)
{
	if (sc->failed)
		return;
	if (puppet_fork(&sc->parent, &sc->child)) {
		sc->failed = 1;
		ct_err(EXIT_RUNTIME, "fork failed: %s", strerror(errno));
		return;
	}
	sc->have_child = sc->child_is_puppet = 1;
	sc->child_pid = sc->child.pid;
}

void scen_observe_fork(struct scen *sc)
{
	scen_observe(sc, "fork()", 0, 0, NULL, NULL);
	if (!sc->failed && scen_text_out(sc))
		printf("  fork() copied the page tables, not the pages: every private page above is now mapped by both, read-only in both\n");
}

uint64_t scen_map_region(struct scen *sc, uint64_t len, uint32_t how, const char *what)
{
	uint64_t a = scen_call(sc, &sc->parent, PUP_MMAP, len, how, PROT_READ | PROT_WRITE);

	if (a != (uint64_t)-1)
		scen_add_region(sc, a, len, what);
	return a;
}

void scen_observe_told(struct scen *sc, const char *action, uint64_t focus, const char *verb,
		       tell_fn tell, void *arg)
{
	sc->tell = tell;
	sc->tell_arg = arg;
	scen_observe(sc, action, 0, focus, verb, NULL);
	sc->tell = NULL;
	sc->tell_arg = NULL;
}

/* End the scenario early, as a finding (the JSON's "stopped"), not a failure. */
void scen_stop(struct scen *sc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sc->stopped, sizeof(sc->stopped), fmt, ap);
	va_end(ap);
	if (scen_text_out(sc))
		printf("  (stopped: %s)\n", sc->stopped);
}

/*
 * Keep the puppets (a child inherits it) on one CPU: a new page waits in
 * its CPU's LRU batch, and a batch on another CPU is one that neither the
 * scratch writes of drain_lru_batch() nor 6.1's own drain in do_wp_page()
 * reach.  Best effort: where it fails, the scenarios still run.
 */
static void pin_to_one_cpu(pid_t pid)
{
	cpu_set_t mine, one;
	int cpu;

	if (sched_getaffinity(0, sizeof(mine), &mine))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &mine); cpu++)
		;
	if (cpu == CPU_SETSIZE)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(pid, sizeof(one), &one);
}

/* Events beside the snapshots, where the module can trace. */
static void start_tracing(struct scen *sc)
{
	struct ct_error err;

	if (!ct_module_available())
		return;
	sc->events = calloc(STEP_EVENTS_MAX, sizeof(*sc->events));
	if (!sc->events || ct_trace_start(&sc->tracer, sc->parent.pid, 1, &err)) {
		if (sc->events)
			fprintf(stderr, "cowtrace: no events in this run: %s\n", err.msg);
		sc->tracer.fd = -1;
	}
	sc->rec->traced = sc->tracer.fd >= 0;
}

static void json_head(struct json *j, const struct scenario *s, const struct scen *sc)
{
	json_object(j);
	json_kuint(j, "cowtrace", 1);
	json_kstr(j, "kind", "scenario");
	json_kstr(j, "name", s->name);
	json_kstr(j, "summary", s->summary);
	json_kuint(j, "parent", sc->parent.pid);
	json_key(j, "steps");
	json_array(j);
}

static void json_tail(struct json *j, const struct scen *sc)
{
	json_end_array(j);
	if (sc->stopped[0])
		json_kstr(j, "stopped", sc->stopped);
	json_kuint(j, "child", sc->child_pid);
	json_key(j, "regions");
	json_array(j);
	for (int i = 0; i < sc->nr_regions; i++) {
		json_object(j);
		json_kuint(j, "start", sc->regions[i].start);
		json_kuint(j, "len", sc->regions[i].len);
		json_kstr(j, "what", sc->regions[i].what);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

static void scen_free(struct scen *sc)
{
	for (int i = 0; i < 2; i++)
		if (sc->have_prev[i])
			ct_snapshot_free(&sc->prev[i]);
	if (sc->have_origin)
		ct_snapshot_free(&sc->origin);
	if (sc->child_is_puppet)
		puppet_kill(&sc->child);
	puppet_kill(&sc->parent);
	ct_trace_close(&sc->tracer);
	free(sc->events);
	free(sc->step_ev);
	ct_pfn_set_free(&sc->self);
}

int scen_play(const struct scenario *s, struct json *j, struct ct_html *html,
	      struct ct_run_result *rec, int quiet)
{
	struct scen sc = { .name = s->name, .j = j, .html = html, .tracer.fd = -1,
			   .pipe_byte = -1, .quiet = quiet, .rec = rec };
	struct ct_error err;
	struct utsname u;

	memset(rec, 0, sizeof(*rec));
	snprintf(rec->scenario, sizeof(rec->scenario), "%s", s->name);
	if (uname(&u) == 0)
		snprintf(rec->kernel, sizeof(rec->kernel), "%s", u.release);
	if (puppet_spawn(&sc.parent))
		return ct_err(EXIT_RUNTIME, "cannot start a process: %s", strerror(errno));
	rec->ran = 1;
	pin_to_one_cpu(sc.parent.pid);
	start_tracing(&sc);
	/*
	 * The parent before the first step, once it waits for orders: the
	 * first step's sentence then has a "before" too (the page the first
	 * write found may have been mapped already, a page-cache page).
	 */
	if (scen_call(&sc, &sc.parent, PUP_NOP, 0, 0, 0) != (uint64_t)-1 &&
	    !snap(&sc, sc.parent.pid, &sc.prev[0]))
		sc.have_prev[0] = 1;
	/* puppets run this same binary: its pages are ours too (none if this fails) */
	ct_self_file_pfns(&sc.self, &err);
	if (j)
		json_head(j, s, &sc);
	else if (scen_text_out(&sc))
		printf("scenario %s: %s\n", s->name, s->summary);
	s->fn(&sc);
	if (j)
		json_tail(j, &sc);
	rec->failed = sc.failed;
	snprintf(rec->stopped, sizeof(rec->stopped), "%s", sc.stopped);
	scen_free(&sc);
	return sc.failed ? EXIT_RUNTIME : EXIT_OK;
}
