// SPDX-License-Identifier: GPL-2.0
/*
 * cowtrace run: the textbook scenarios, played on real processes.  Each step
 * drives a puppet (puppet.h), snapshots parent and child, diffs each against
 * its previous snapshot, and explains what the kernel did to the step's focus
 * page in one sentence built from what the snapshots show, never from what
 * the textbook says should happen.  What each step observed is also kept
 * (run_result.h), for the claims' judges (claims.h, cowtrace run --claims).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "claims.h"
#include "classify.h"
#include "cli.h"
#include "puppet.h"
#include "report_html.h"
#include "procstat.h"
#include "reserve.h"
#include "run_record.h"
#include "tracer.h"

#define MAX_REGIONS CT_RUN_MAX_REGIONS

struct region {
	uint64_t start, len;
	const char *what;
};

struct scen;

/*
 * A scenario's own sentence for its next focused step, given what the
 * generic one was built from: the focus page's records before (a) and after
 * (b), either NULL, and the snapshots' CT_UNAVAIL_* bits.  It replaces (or
 * extends) the sentence in buf; the story check runs all the same.
 */
typedef void (*tell_fn)(struct scen *sc, char *buf, size_t len, const struct ct_story_view *v,
			const struct cowtrace_page *a, const struct cowtrace_page *b,
			uint32_t unavailable);

struct scen {
	const char *name;
	struct puppet parent, child;
	int have_child, child_is_puppet;
	pid_t child_pid;		/* a vfork or exec child is not a puppet */
	struct ct_snapshot prev[2];	/* parent, child */
	int have_prev[2];
	struct region regions[MAX_REGIONS];
	int nr_regions;
	int step;
	struct json *j;
	int failed;
	struct ct_snapshot origin;	/* the parent when it forked: copy or reuse */
	int have_origin;
	struct ct_html *html;		/* one map per step, or NULL */
	struct ct_tracer tracer;	/* fd < 0: no module, no events */
	struct cowtrace_event *events;	/* scratch for reading events */
	struct cowtrace_event *step_ev;	/* the step's events in the regions */
	size_t nr_step_ev, step_ev_cap;
	int step_ev_short;		/* some of them could not be kept */
	struct ct_pfn_set self;		/* file pages we map too (snapshot.h) */
	tell_fn tell;			/* the next focused step's sentence, or NULL */
	void *tell_arg;
	int pipe_byte;			/* the step's PUP_PIPE_READ result, or -1 */
	char stopped[256];		/* why the scenario stopped early, or "" */
	int quiet;			/* no text and no JSON: the claims play it */
	struct ct_run_result *rec;	/* what each step observed */
	struct ct_run_value values[CT_RUN_MAX_VALUES];	/* for the next step */
	int nr_values;
};

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

static void add_region(struct scen *sc, uint64_t start, uint64_t len, const char *what)
{
	if (sc->nr_regions >= MAX_REGIONS)
		return;
	sc->regions[sc->nr_regions++] = (struct region){ start, len, what };
	sc->rec->regions[sc->rec->nr_regions][0] = start;
	sc->rec->regions[sc->rec->nr_regions++][1] = len;
}

/* An address whose records each step keeps for the claims, outside the regions. */
static void add_probe(struct scen *sc, uint64_t addr)
{
	if (sc->rec->nr_probes < CT_RUN_MAX_PROBES)
		sc->rec->probes[sc->rec->nr_probes++] = addr;
}

/* A number the next step records beside its snapshots (JSON "values"). */
static void note(struct scen *sc, const char *name, int64_t v)
{
	if (sc->nr_values < CT_RUN_MAX_VALUES)
		sc->values[sc->nr_values++] = (struct ct_run_value){ name, v };
}

static uint64_t call(struct scen *sc, struct puppet *p, enum puppet_op op,
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
static int text_out(const struct scen *sc)
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
	if (!text_out(sc))
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

	if (sc->tracer.fd < 0 || (!sc->j && !text_out(sc)))
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
static void observe(struct scen *sc, const char *action, int actor, uint64_t focus,
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
	else if (text_out(sc))
		text_step(sc, &st, why);
	for (int i = 0; i < 2; i++) {
		if (sc->have_prev[i])
			ct_snapshot_free(&sc->prev[i]);
		sc->have_prev[i] = i < n;
		if (i < n)
			sc->prev[i] = now[i];
	}
}

static void do_fork(struct scen *sc)
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

static void observe_fork(struct scen *sc)
{
	observe(sc, "fork()", 0, 0, NULL, NULL);
	if (!sc->failed && text_out(sc))
		printf("  fork() copied the page tables, not the pages: every private page above is now mapped by both, read-only in both\n");
}

static uint64_t map_region(struct scen *sc, uint64_t len, uint32_t how, const char *what)
{
	uint64_t a = call(sc, &sc->parent, PUP_MMAP, len, how, PROT_READ | PROT_WRITE);

	if (a != (uint64_t)-1)
		add_region(sc, a, len, what);
	return a;
}

/* ---- the scenarios ---- */

#define PG 4096ull

static void sc_shared_variable(struct scen *sc)
{
	uint64_t var = call(sc, &sc->parent, PUP_SELF, 0, 0, 0) & ~(PG - 1);

	add_region(sc, var, PG, "the page holding shared_variable");
	call(sc, &sc->parent, PUP_WRITE, var, 1, 10);
	observe(sc, "parent: int shared_variable = 10", 0, var, "wrote", NULL);
	do_fork(sc);
	observe_fork(sc);
	call(sc, &sc->child, PUP_WRITE, var, 1, 20);
	observe(sc, "child: shared_variable = 20", 1, var, "wrote", NULL);
	note(sc, "read_sum", (int64_t)call(sc, &sc->parent, PUP_READ, var, 1, 0));
	note(sc, "parent_wrote_sum", 10);
	observe(sc, "parent: printf(shared_variable) -> still 10", 0, 0, NULL,
		"the parent still maps its own page, now its only mapping: the child's write went to the child's copy");
}

/*
 * The exec'd child, once it runs the new program and sleeps: from then on
 * its snapshots are the new program's.  If it does not get there, the
 * scenario goes on without it.
 */
static void watch_exec(struct scen *sc, pid_t pid, const char *comm)
{
	struct ct_proc_stat st;

	if (sc->failed || ct_proc_wait_state(pid, 'S', comm, 5000, &st))
		return;
	sc->have_child = 1;
	sc->child_pid = pid;
}

static void sc_fork_exec(struct scen *sc)
{
	uint64_t buf = map_region(sc, 256 * PG, 0, "a 1 MiB heap");
	uint64_t pid;

	add_probe(sc, call(sc, &sc->parent, PUP_SELF, 1, 0, 0) & ~(PG - 1));	/* its text */
	call(sc, &sc->parent, PUP_WRITE, buf, 256 * PG, 1);
	observe(sc, "parent fills 1 MiB", 0, 0, NULL, "256 private pages, writable and exclusive");
	pid = call(sc, &sc->parent, PUP_EXEC_SLEEP, 0, 0, 0);
	watch_exec(sc, (pid_t)pid, "sleep");
	observe(sc, "fork() + exec(\"sleep\") in the child", 0, 0, NULL,
		"the child (pid %" PRIu64 ") replaced its copy of the address space at exec%s: the parent's pages were write-protected by fork() and are mapped once again",
		pid, sc->have_child ? " with sleep's" : "");
	call(sc, &sc->parent, PUP_WRITE, buf, PG, 2);
	observe(sc, "parent writes its first page", 0, buf, "wrote", NULL);
}

#define VFORK_PAGES 64
#define VFORK_BYTE 7	/* what vfork_write's child writes */

/* 256 KiB filled, and a vfork child that writes byte to every page of it (0: none). */
static uint64_t vfork_over_buffer(struct scen *sc, int byte)
{
	uint64_t buf = map_region(sc, VFORK_PAGES * PG, 0, "a 256 KiB buffer");
	uint64_t pid;

	call(sc, &sc->parent, PUP_WRITE, buf, VFORK_PAGES * PG, 1);
	observe(sc, "parent fills 256 KiB", 0, 0, NULL, NULL);
	pid = call(sc, &sc->parent, PUP_VFORK, buf, byte ? VFORK_PAGES * PG : 0, byte);
	if (pid == (uint64_t)-1)
		return 0;
	sc->have_child = 1;
	sc->child_pid = pid;
	return buf;
}

static void sc_vfork(struct scen *sc)
{
	if (!vfork_over_buffer(sc, 0))
		return;
	observe(sc, "vfork(): the child borrows the parent's mm", 0, 0, NULL,
		"no page table was copied and nothing was write-protected: the child runs in the parent's own address space (same PFNs, still writable)");
}

/* N2: the vfork child writes, and the parent reads what it wrote. */
static void sc_vfork_write(struct scen *sc)
{
	uint64_t buf = vfork_over_buffer(sc, VFORK_BYTE);
	int64_t sum;

	if (!buf)
		return;
	observe(sc, "vfork(): the child writes 7 to every page of the buffer", 0, 0, NULL,
		"the child (pid %d) wrote in the mm it borrows, which is the parent's: see what changed in the parent's pages, and what it reads next",
		(int)sc->child_pid);
	sum = (int64_t)call(sc, &sc->parent, PUP_READ, buf, VFORK_PAGES * PG, 0);
	note(sc, "read_sum", sum);
	note(sc, "child_wrote_sum", VFORK_BYTE * VFORK_PAGES);
	observe(sc, "parent reads one byte of every page", 0, 0, NULL,
		"the parent read %" PRId64 " over %d pages: %s", sum, VFORK_PAGES,
		sum == VFORK_BYTE * VFORK_PAGES ? "the bytes its vfork child wrote, in its own pages" :
		"not what its vfork child wrote");
}

/*
 * N3: a real vfork (CLONE_VFORK).  The puppet's vfork() cannot return, so it
 * cannot reply, until its child exits: the call is sent, the parent's state
 * read while the child lives, and the reply taken once the child is let go.
 */
static void sc_vfork_suspends(struct scen *sc)
{
	uint64_t buf = map_region(sc, 4 * PG, 0, "a 16 KiB buffer");
	struct ct_proc_stat st;
	int rel[2], early;
	pid_t child;

	call(sc, &sc->parent, PUP_WRITE, buf, 4 * PG, 1);
	observe(sc, "parent fills 16 KiB", 0, 0, NULL, NULL);
	if (sc->failed || pipe2(rel, O_CLOEXEC))
		return;
	if (puppet_call_begin(&sc->parent, PUP_VFORK_WAIT, 0, 0, 0, rel[0]) == (uint64_t)-1) {
		close(rel[0]);
		close(rel[1]);
		call(sc, &sc->parent, PUP_NOP, 0, 0, 0);	/* says what failed */
		return;
	}
	close(rel[0]);
	ct_proc_wait_state(sc->parent.pid, 'D', NULL, 2000, &st);
	early = puppet_replied(&sc->parent);
	child = ct_proc_child_of(sc->parent.pid);
	note(sc, "parent_state", st.state);
	note(sc, "replied_while_child_lives", early);
	if (child > 0 && !early) {
		sc->have_child = 1;
		sc->child_pid = child;
	}
	observe(sc, "vfork(): the child lives, blocked on a pipe", 0, 0, NULL,
		"the parent is in state %c (%s) while its child (pid %d) lives, and %s", st.state ? st.state : '?',
		st.state == 'D' ? "waiting in the kernel" : "not waiting in the kernel", (int)child,
		early ? "it has replied: vfork() returned" : "it has not replied: vfork() has not returned");
	close(rel[1]);	/* the child reads EOF and exits */
	if (puppet_call_end(&sc->parent) == (uint64_t)-1) {
		sc->failed = 1;
		ct_err(EXIT_RUNTIME, "scenario %s: vfork failed: %s", sc->name, strerror(errno));
		return;
	}
	note(sc, "vfork_returned", 1);
	sc->have_child = 0;	/* gone: its exit is in this step's events */
	observe(sc, "the child exits: vfork() returns in the parent", 0, 0, NULL,
		"the child (pid %d) exited, and only then did the parent's vfork() return", (int)child);
}

static void sc_private_vs_shared(struct scen *sc)
{
	uint64_t priv = map_region(sc, 4 * PG, 0, "MAP_PRIVATE");
	uint64_t shr = map_region(sc, 4 * PG, PUP_MAP_SHARED, "MAP_SHARED");
	int64_t sum;

	call(sc, &sc->parent, PUP_WRITE, priv, 4 * PG, 1);
	call(sc, &sc->parent, PUP_WRITE, shr, 4 * PG, 1);
	observe(sc, "parent writes a MAP_PRIVATE and a MAP_SHARED mapping", 0, 0, NULL, NULL);
	do_fork(sc);
	observe(sc, "fork()", 0, 0, NULL,
		"the private pages are now shared read-only; fork() copied no PTEs of the MAP_SHARED mapping at all: the child will fault them in");
	call(sc, &sc->child, PUP_WRITE, priv, PG, 2);
	observe(sc, "child writes the MAP_PRIVATE page", 1, priv, "wrote", NULL);
	call(sc, &sc->child, PUP_WRITE, shr, PG, 2);
	observe(sc, "child writes the MAP_SHARED page", 1, shr, "wrote", NULL);
	sum = (int64_t)call(sc, &sc->parent, PUP_READ, shr, PG, 0);
	note(sc, "read_sum", sum);
	note(sc, "child_wrote_sum", 2);
	observe(sc, "parent reads the MAP_SHARED page", 0, 0, NULL,
		"the parent read %" PRId64 ": %s", sum,
		sum == 2 ? "the byte the child wrote, in the one page both map" : "not the child's byte");
}

/* The page of text the puppets run, and a fork over it: its address. */
static uint64_t fork_over_text(struct scen *sc)
{
	uint64_t code = call(sc, &sc->parent, PUP_SELF, 1, 0, 0) & ~(PG - 1);

	add_region(sc, code, PG, "a page of program text");
	observe(sc, "the parent runs its code", 0, 0, NULL, NULL);
	do_fork(sc);
	observe_fork(sc);
	return code;
}

static void sc_readonly_code(struct scen *sc)
{
	uint64_t code = fork_over_text(sc);

	call(sc, &sc->child, PUP_READ, code, PG, 0);
	observe(sc, "the child runs the same code", 1, code, "executed", NULL);
}

/* N5: self-modifying code, after mprotect(): the byte written is the one read. */
static void sc_code_write(struct scen *sc)
{
	uint64_t code = fork_over_text(sc), byte;

	call(sc, &sc->child, PUP_MPROTECT, code, PG, PROT_READ | PROT_WRITE | PROT_EXEC);
	byte = call(sc, &sc->child, PUP_READ, code, 1, 0);
	call(sc, &sc->child, PUP_WRITE, code, 1, byte);
	observe(sc, "the child makes the page writable (mprotect) and writes a byte of its code",
		1, code, "wrote", NULL);
}

/*
 * A new page waits in its CPU's LRU batch, which holds a reference of its
 * own, until the batch is full: 64 more new pages (batches hold 15 or 31)
 * drain it, so later refcounts are the mappings' (and pins') only.  5.10's
 * do_wp_page() does not drain the batch itself, and that reference alone
 * makes a last sharer copy; 6.1's drains only its own CPU's.  The scratch
 * pages are in no region.
 */
static void drain_lru_batch(struct scen *sc)
{
	uint64_t scratch = call(sc, &sc->parent, PUP_MMAP, 64 * PG, 0, PROT_READ | PROT_WRITE);

	if (sc->failed)
		return;
	call(sc, &sc->parent, PUP_MADVISE, scratch, 64 * PG, MADV_NOHUGEPAGE);
	call(sc, &sc->parent, PUP_WRITE, scratch, 64 * PG, 1);
}

/* One page, written, forked, and written by each side in turn, first first. */
static void write_in_turn(struct scen *sc, int first)
{
	static const char *const names[2] = { "parent", "child" };
	uint64_t buf = map_region(sc, PG, 0, "one private page");
	char action[64];

	call(sc, &sc->parent, PUP_WRITE, buf, PG, 1);
	drain_lru_batch(sc);
	observe(sc, "parent writes a page (and 64 elsewhere, to drain this CPU's LRU batch)",
		0, buf, "wrote", NULL);
	do_fork(sc);
	observe_fork(sc);
	for (int k = 0; k < 2; k++) {
		int side = k ? !first : first;

		call(sc, side ? &sc->child : &sc->parent, PUP_WRITE, buf, PG, 2 + k);
		snprintf(action, sizeof(action), "%s writes it%s", names[side],
			 k ? ": the last sharer" : "");
		observe(sc, action, side, buf, "wrote", NULL);
	}
}

static void sc_last_sharer(struct scen *sc)
{
	write_in_turn(sc, CT_CHILD);
}

/* N1: the parent writes first, so it is the parent that copies. */
static void sc_parent_copies(struct scen *sc)
{
	write_in_turn(sc, CT_PARENT);
}

/* The parent reads memory it never touched, forks, and the child writes it. */
static void read_fork_write(struct scen *sc, uint64_t addr, uint64_t len, const char *action)
{
	note(sc, "read_sum", (int64_t)call(sc, &sc->parent, PUP_READ, addr, len, 0));
	observe(sc, action, 0, addr, "read", NULL);
	do_fork(sc);
	observe_fork(sc);
	call(sc, &sc->child, PUP_WRITE, addr, PG, 1);
	observe(sc, "child writes", 1, addr, "wrote", NULL);
}

static void sc_zero_page(struct scen *sc)
{
	uint64_t buf = map_region(sc, 4 * PG, 0, "untouched memory");

	call(sc, &sc->parent, PUP_MADVISE, buf, 4 * PG, MADV_NOHUGEPAGE);
	read_fork_write(sc, buf, 4 * PG, "parent reads untouched memory");
}

/* N4: what the kernel put in the BSS, a page no one has written. */
static void sc_bss(struct scen *sc)
{
	uint64_t bss = call(sc, &sc->parent, PUP_SELF, 2, 0, 0);

	add_region(sc, bss, PG, "a page of the program's BSS (uninitialised data)");
	read_fork_write(sc, bss, PG, "parent reads its BSS, never written");
}

#define MB2 (2ull << 20)

/* A region of 2 MiB, 2 MiB aligned (one PMD's reach), with that madvise(). */
static uint64_t map_2m(struct scen *sc, int advice, const char *what)
{
	uint64_t buf = call(sc, &sc->parent, PUP_MMAP, MB2, PUP_MAP_ALIGN_2M,
			    PROT_READ | PROT_WRITE);

	add_region(sc, buf, MB2, what);
	call(sc, &sc->parent, PUP_MADVISE, buf, MB2, advice);
	return buf;
}

/* N8: a first touch allocates the page tables the address needs. */
static void sc_first_touch(struct scen *sc)
{
	uint64_t buf = map_2m(sc, MADV_NOHUGEPAGE, "2 MiB, 2 MiB aligned: one page table's reach");

	observe(sc, "parent maps 2 MiB and touches none of it", 0, 0, NULL, NULL);
	call(sc, &sc->parent, PUP_READ, buf, PG, 0);
	observe(sc, "parent reads its first page", 0, buf, "read", NULL);
}

static void sc_thp(struct scen *sc)
{
	uint64_t len = MB2;
	uint64_t buf = map_2m(sc, MADV_HUGEPAGE, "a 2 MiB aligned region");

	call(sc, &sc->parent, PUP_WRITE, buf, len, 1);
	observe(sc, "parent writes 2 MiB with MADV_HUGEPAGE", 0, 0, NULL, NULL);
	if (!sc->failed && !(sc->prev[0].nr_pages &&
			     ct_find_page(&sc->prev[0], buf) &&
			     ct_find_page(&sc->prev[0], buf)->flags & COWTRACE_PG_THP)) {
		if (text_out(sc))
			printf("  (no THP here: transparent_hugepage is off or memory is fragmented)\n");
	}
	do_fork(sc);
	observe_fork(sc);
	call(sc, &sc->child, PUP_WRITE, buf + 5 * PG, 1, 2);
	observe(sc, "child writes one byte", 1, buf + 5 * PG, "wrote", NULL);
}

static int ksm_run(const char *val)
{
	FILE *f = fopen("/sys/kernel/mm/ksm/run", "we");
	int ok;

	if (!f)
		return -1;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static long ksm_full_scans(void)
{
	FILE *f = fopen("/sys/kernel/mm/ksm/full_scans", "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void sc_ksm(struct scen *sc)
{
	uint64_t buf = map_region(sc, 8 * PG, 0, "8 identical pages");
	long scans;

	call(sc, &sc->parent, PUP_FILL, buf, 8 * PG, 0x5a);
	call(sc, &sc->parent, PUP_MADVISE, buf, 8 * PG, MADV_MERGEABLE);
	observe(sc, "parent fills 8 pages with the same bytes, MADV_MERGEABLE", 0, 0, NULL, NULL);
	scans = ksm_full_scans();
	if (scans < 0 || ksm_run("1")) {
		if (text_out(sc))
			printf("  (KSM not available: cannot start ksmd; run as root on a kernel with CONFIG_KSM)\n");
		return;
	}
	for (int i = 0; i < 3000 && ksm_full_scans() < scans + 3; i++)
		usleep(10000);
	ksm_run("0");
	observe(sc, "ksmd scans and merges", 0, 0, NULL,
		"ksmd found identical pages and merged them into one write-protected KSM page: see the ksm-merged count");
	call(sc, &sc->parent, PUP_WRITE, buf, PG, 1);
	observe(sc, "parent writes one of them", 0, buf, "wrote", NULL);
	ksm_run("2");
}

static void sc_dontfork(struct scen *sc)
{
	uint64_t dont = map_region(sc, 4 * PG, 0, "MADV_DONTFORK");
	uint64_t wipe = map_region(sc, 4 * PG, 0, "MADV_WIPEONFORK");

	call(sc, &sc->parent, PUP_WRITE, dont, 4 * PG, 1);
	call(sc, &sc->parent, PUP_WRITE, wipe, 4 * PG, 1);
	call(sc, &sc->parent, PUP_MADVISE, dont, 4 * PG, MADV_DONTFORK);
	call(sc, &sc->parent, PUP_MADVISE, wipe, 4 * PG, MADV_WIPEONFORK);
	observe(sc, "parent writes two regions: one MADV_DONTFORK, one MADV_WIPEONFORK", 0, 0, NULL, NULL);
	do_fork(sc);
	observe(sc, "fork()", 0, 0, NULL,
		"the DONTFORK region is not in the child at all; the WIPEONFORK region is there but empty: nothing was shared");
	call(sc, &sc->child, PUP_READ, wipe, PG, 0);
	observe(sc, "child reads the wiped region", 1, wipe, "read", NULL);
}

/*
 * pinned_write: a page that only this process maps, but that another
 * reference holds (a pipe's, from vmsplice()), write-protected by soft-dirty
 * tracking and written again.  From 5.8 to 5.18 do_wp_page() reuses an
 * anonymous page only if its refcount is 1, so the pipe's reference makes it
 * copy; from 5.19 a PageAnonExclusive page is reused whatever its refcount.
 * Every sentence says which of the two this kernel did, from the records.
 */
#define PIN_OLD 0x11	/* the page's bytes when spliced */
#define PIN_NEW 0x22	/* and after the second write */

struct pin {
	int seen;		/* the write's records were there to compare */
	uint64_t old_pfn, new_pfn;	/* the page before and after the write */
	int excl;		/* PageAnonExclusive before the write */
	int copied;		/* the write moved the parent to another page */
	int reused;		/* the write made the same page writable again */
};

static void append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * Whether the records can say PageAnonExclusive at all.  The snapshots
 * report the bit where the kernel has it; a source that cannot tell says so
 * in its CT_UNAVAIL_* bits, and then no sentence may claim or deny it.
 */
static int anon_excl_known(uint32_t unavailable)
{
	return !(unavailable & CT_UNAVAIL_ANON_EXCL);
}

static int refcount_known(const struct cowtrace_page *r, uint32_t unavailable)
{
	return r && (r->flags & COWTRACE_PG_PAGE) && !(unavailable & CT_UNAVAIL_REFCOUNT);
}

/* "mapcount 1, refcount 2, PageAnonExclusive", as far as the record tells */
static void append_counts(char *buf, size_t len, const struct cowtrace_page *r,
			  uint32_t unavailable)
{
	if (!r || !(r->flags & COWTRACE_PG_PAGE))
		return;
	append(buf, len, "mapcount %u, ", r->mapcount);
	if (refcount_known(r, unavailable))
		append(buf, len, "refcount %u", r->refcount);
	else
		append(buf, len, "refcount not available from this source");
	if (r->flags & COWTRACE_PG_ANON_EXCL)
		append(buf, len, ", PageAnonExclusive");
	if (r->flags & COWTRACE_PG_DMA_PINNED)
		append(buf, len, ", DMA-pinned");
}

static int same_page(const struct cowtrace_page *a, const struct cowtrace_page *b)
{
	return a && b && (a->flags & COWTRACE_PTE_PRESENT) && (b->flags & COWTRACE_PTE_PRESENT) &&
	       a->pfn == b->pfn;
}

static void tell_first_write(struct scen *sc, char *buf, size_t len,
			     const struct ct_story_view *v, const struct cowtrace_page *a,
			     const struct cowtrace_page *b, uint32_t unavailable)
{
	(void)sc;
	(void)v;
	(void)a;
	if (b && (b->flags & COWTRACE_PG_PAGE)) {
		append(buf, len, "; ");
		append_counts(buf, len, b, unavailable);
	}
}

static void tell_vmsplice(struct scen *sc, char *buf, size_t len,
			  const struct ct_story_view *v, const struct cowtrace_page *a,
			  const struct cowtrace_page *b, uint32_t unavailable)
{
	(void)sc;
	(void)v;
	if (!same_page(a, b) || !(b->flags & COWTRACE_PG_PAGE))
		return;		/* not what vmsplice() does: the generic sentence */
	snprintf(buf, len, "parent vmspliced %#" PRIx64 " into a pipe: ", (uint64_t)b->addr);
	if (refcount_known(b, unavailable))
		append(buf, len, "refcount %u -> %u%s", a->refcount, b->refcount,
		       b->refcount == a->refcount + 1 ? ", the pipe buffer's reference" : "");
	else
		append(buf, len, "the pipe buffer took a reference (this source cannot show the refcount)");
	append(buf, len, ", while the mapcount %s %u%s: PFN %#" PRIx64 " stays; nothing was copied",
	       a->mapcount == b->mapcount ? "stays" : "is now", b->mapcount,
	       a->mapcount == b->mapcount ? " (a reference is not a mapping)" : "",
	       (uint64_t)b->pfn);
}

/*
 * Whether clear_refs write-protected the page: its write bit says so; where
 * the source cannot read that bit, the soft-dirty bit does, which
 * clear_soft_dirty() clears in the same PTE update.  A kernel without
 * CONFIG_MEM_SOFT_DIRTY accepts the "4" and does nothing: no bit ever set.
 */
static int clear_refs_protected(const struct cowtrace_page *a, const struct cowtrace_page *b,
				uint32_t unavailable)
{
	if (!same_page(a, b))
		return 0;
	if (!(unavailable & CT_UNAVAIL_WRITE))
		return !(b->flags & COWTRACE_PTE_WRITE);
	return (a->flags & COWTRACE_PTE_SOFT_DIRTY) && !(b->flags & COWTRACE_PTE_SOFT_DIRTY);
}

static void tell_clear_refs(struct scen *sc, char *buf, size_t len,
			    const struct ct_story_view *v, const struct cowtrace_page *a,
			    const struct cowtrace_page *b, uint32_t unavailable)
{
	int *protected = sc->tell_arg;

	(void)v;
	*protected = clear_refs_protected(a, b, unavailable);
	if (!same_page(a, b))
		return;
	snprintf(buf, len, "parent wrote \"4\" to /proc/self/clear_refs, for %#" PRIx64 ": ",
		 (uint64_t)b->addr);
	if (*protected && !(unavailable & CT_UNAVAIL_WRITE))
		append(buf, len, "soft-dirty tracking write-protected the PTE, so the next write faults");
	else if (*protected)
		append(buf, len,
		       "soft-dirty tracking cleared the PTE's soft-dirty bit, and write-protected it with it (this source cannot show the write bit), so the next write faults");
	else if (unavailable & CT_UNAVAIL_WRITE && !(a->flags & COWTRACE_PTE_SOFT_DIRTY))
		append(buf, len,
		       "the page was written but never soft-dirty: this kernel tracks no soft-dirty bits (no CONFIG_MEM_SOFT_DIRTY), and clear_refs did nothing");
	else if (unavailable & CT_UNAVAIL_WRITE)
		append(buf, len, "its soft-dirty bit is still set (this source cannot show the write bit)");
	else
		append(buf, len, "the PTE stayed writable%s, so the next write will not fault",
		       b->flags & COWTRACE_PG_DMA_PINNED ?
			       " (the page is DMA-pinned, and clear_refs never write-protects those)" :
			       (a->flags & COWTRACE_PTE_SOFT_DIRTY) ? "" :
			       ", and no soft-dirty bit was ever set: no CONFIG_MEM_SOFT_DIRTY here");
	append(buf, len, "; PFN %#" PRIx64 " stays, ", (uint64_t)b->pfn);
	append_counts(buf, len, b, unavailable);
}

static void tell_pinned_write(struct scen *sc, char *buf, size_t len,
			      const struct ct_story_view *v, const struct cowtrace_page *a,
			      const struct cowtrace_page *b, uint32_t unavailable)
{
	struct pin *pin = sc->tell_arg;
	int rc = refcount_known(a, unavailable);

	if (!a || !b || !(a->flags & COWTRACE_PTE_PRESENT) || !(b->flags & COWTRACE_PTE_PRESENT))
		return;
	pin->seen = 1;
	pin->old_pfn = a->pfn;
	pin->new_pfn = b->pfn;
	pin->excl = !!(a->flags & COWTRACE_PG_ANON_EXCL);
	pin->copied = a->pfn != b->pfn && (b->flags & COWTRACE_PG_ANON);
	pin->reused = v->story == CT_STORY_REUSED;
	if (pin->copied && a->mapcount == 1) {
		snprintf(buf, len,
			 "parent wrote %#" PRIx64 ": the kernel copied the page although only this process maps it (mapcount 1): PFN %#" PRIx64 " -> %#" PRIx64,
			 (uint64_t)b->addr, (uint64_t)a->pfn, (uint64_t)b->pfn);
		if (pin->excl)
			append(buf, len, ", and although the snapshot showed it PageAnonExclusive");
		else if (rc && a->refcount > 1)
			append(buf, len,
			       ". On this kernel the reuse rule is 'refcount == 1', and the pipe's reference made it %u",
			       a->refcount);
		else if (!rc)
			append(buf, len,
			       ". On this kernel the reuse rule counts references, not mappings: the pipe's reference (a refcount this source cannot show) ruled a reuse out");
	} else if (pin->reused) {
		snprintf(buf, len,
			 "parent wrote %#" PRIx64 ": the kernel reused the page without a copy: PFN %#" PRIx64 " stays and is writable again",
			 (uint64_t)b->addr, (uint64_t)b->pfn);
		if (pin->excl && rc && a->refcount > 1)
			append(buf, len,
			       ". It is PageAnonExclusive, so the pipe's extra reference (refcount %u) did not matter",
			       a->refcount);
		else if (pin->excl)
			append(buf, len, ". It is PageAnonExclusive, so no other reference could matter");
		else if (anon_excl_known(unavailable))
			append(buf, len, ", although the snapshot did not show it PageAnonExclusive");
		else
			append(buf, len, " (this source cannot show PageAnonExclusive)");
	}
	/* else: the generic sentence, e.g. no fault at all */
}

static void tell_pipe_read(struct scen *sc, char *buf, size_t len,
			   const struct ct_story_view *v, const struct cowtrace_page *a,
			   const struct cowtrace_page *b, uint32_t unavailable)
{
	const struct pin *pin = sc->tell_arg;
	int byte = sc->pipe_byte;

	(void)v;
	if (byte == PIN_OLD)
		snprintf(buf, len, "parent read the pipe: it delivered the old bytes (%#04x)", byte);
	else if (byte == PIN_NEW)
		snprintf(buf, len, "parent read the pipe: it delivered the new bytes (%#04x)", byte);
	else if (byte == 256)
		snprintf(buf, len, "parent read the pipe: it delivered a mix of bytes");
	else
		snprintf(buf, len, "parent read the pipe: it delivered %#04x, neither byte written", byte);
	if (!pin->seen) {
		append(buf, len, " (the write's records were not there to compare)");
		return;
	}
	if (byte == PIN_OLD && pin->copied)
		append(buf, len,
		       ": the pipe buffer still holds the page that was spliced, PFN %#" PRIx64 ", which the parent no longer maps; the parent's write went to its new page, PFN %#" PRIx64,
		       pin->old_pfn, pin->new_pfn);
	else if (byte == PIN_NEW && pin->old_pfn == pin->new_pfn)
		append(buf, len,
		       ": the pipe buffer holds the very page the parent wrote, PFN %#" PRIx64 "%s",
		       pin->new_pfn,
		       pin->reused && pin->excl ?
			       ", which the write reused because it was PageAnonExclusive" :
		       pin->reused ? ", which the write reused" : "");
	else
		append(buf, len, ", which the write's records do not explain (PFN %#" PRIx64 " -> %#" PRIx64 ")",
		       pin->old_pfn, pin->new_pfn);
	if (same_page(a, b) && refcount_known(a, unavailable) && refcount_known(b, unavailable) &&
	    b->refcount < a->refcount)
		append(buf, len, "; reading released the pipe's reference: refcount %u -> %u",
		       a->refcount, b->refcount);
}

static void observe_told(struct scen *sc, const char *action, uint64_t focus, const char *verb,
			 tell_fn tell, void *arg)
{
	sc->tell = tell;
	sc->tell_arg = arg;
	observe(sc, action, 0, focus, verb, NULL);
	sc->tell = NULL;
	sc->tell_arg = NULL;
}

static void stop(struct scen *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* End the scenario early, as a finding (the JSON's "stopped"), not a failure. */
static void stop(struct scen *sc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sc->stopped, sizeof(sc->stopped), fmt, ap);
	va_end(ap);
	if (text_out(sc))
		printf("  (stopped: %s)\n", sc->stopped);
}

static void sc_pinned_write(struct scen *sc)
{
	uint64_t buf = map_region(sc, PG, 0, "one private page, spliced into a pipe");
	struct pin pin = { 0 };
	uint64_t n;
	int protected = 0;

	if (sc->failed)
		return;
	call(sc, &sc->parent, PUP_MADVISE, buf, PG, MADV_NOHUGEPAGE);
	call(sc, &sc->parent, PUP_FILL, buf, PG, PIN_OLD);
	drain_lru_batch(sc);
	observe_told(sc, "parent writes a private page (and 64 elsewhere, to drain this CPU's LRU batch)",
		     buf, "wrote", tell_first_write, NULL);
	n = call(sc, &sc->parent, PUP_VMSPLICE, buf, PG, 0);
	if (sc->failed)
		return;
	if (n != PG) {
		stop(sc, "vmsplice() took %" PRIu64 " bytes of the page, not all %llu", n, PG);
		return;
	}
	observe_told(sc, "parent vmsplice()s the page into a pipe (no SPLICE_F_GIFT)", buf,
		     "vmspliced", tell_vmsplice, NULL);
	if (puppet_call(&sc->parent, PUP_SOFT_DIRTY_CLEAR, 0, 0, 0) == (uint64_t)-1) {
		if (errno == EPIPE) {	/* the puppet died: a failure, not a finding */
			sc->failed = 1;
			ct_err(EXIT_RUNTIME, "scenario %s: the puppet died", sc->name);
		} else {
			stop(sc, "cannot write \"4\" to /proc/self/clear_refs: %s (soft-dirty tracking needs CONFIG_MEM_SOFT_DIRTY)",
			     strerror(errno));
		}
		return;
	}
	observe_told(sc, "parent clears its soft-dirty bits (echo 4 > /proc/self/clear_refs)", buf,
		     "cleared", tell_clear_refs, &protected);
	if (sc->failed)
		return;
	if (!protected) {
		stop(sc, "clear_refs did not write-protect the page (see step %d): its next write would not fault",
		     sc->step);
		return;
	}
	call(sc, &sc->parent, PUP_FILL, buf, PG, PIN_NEW);
	observe_told(sc, "parent writes the page again", buf, "wrote", tell_pinned_write, &pin);
	n = call(sc, &sc->parent, PUP_PIPE_READ, PG, 0, 0);
	if (sc->failed)
		return;
	sc->pipe_byte = (int)n;
	observe_told(sc, "parent reads the pipe", buf, "read", tell_pipe_read, &pin);
	sc->pipe_byte = -1;
}

static const struct scenario {
	const char *name;
	void (*fn)(struct scen *sc);
	const char *summary;
} scenarios[] = {
	{ "shared_variable", sc_shared_variable,
	  "the classic: fork, the child changes a variable, the parent's stays" },
	{ "fork_exec", sc_fork_exec, "fork+exec: the child drops its copy; the parent reuses" },
	{ "vfork", sc_vfork, "vfork: the mm is borrowed, nothing is copied or protected" },
	{ "private_vs_shared", sc_private_vs_shared, "MAP_PRIVATE copies on write, MAP_SHARED never" },
	{ "readonly_code", sc_readonly_code, "program text stays shared: never written, never copied" },
	{ "last_sharer", sc_last_sharer, "the last sharer writes: reuse without a copy" },
	{ "zero_page", sc_zero_page, "reads map the zero page; a write replaces it" },
	{ "thp", sc_thp, "a 2 MiB THP shared after fork; one write splits and copies 4 KiB" },
	{ "ksm", sc_ksm, "KSM merges identical pages; a write breaks the merge" },
	{ "dontfork", sc_dontfork, "MADV_DONTFORK and MADV_WIPEONFORK" },
	{ "pinned_write", sc_pinned_write,
	  "a page another reference holds: refcount rule (5.8-5.18) vs PageAnonExclusive (5.19+)" },
	{ "parent_copies", sc_parent_copies, "the parent writes first: the parent gets the copy" },
	{ "vfork_write", sc_vfork_write, "the vfork child writes: its writes are the parent's" },
	{ "vfork_suspends", sc_vfork_suspends, "a real vfork: the parent waits until the child exits" },
	{ "bss", sc_bss, "the BSS is the zero page until written" },
	{ "code_write", sc_code_write, "self-modifying code: mprotect, write, a copy of the text page" },
	{ "first_touch", sc_first_touch, "a first touch allocates a page table (VmPTE grows)" },
};

#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const char run_help[] =
	"usage: cowtrace run SCENARIO [--json] [--html FILE]\n"
	"       cowtrace run --list\n"
	"       cowtrace run --claims [ID...] [--json | --markdown] [--html FILE]\n"
	"       cowtrace run --claims --list\n"
	"\n"
	"Play a copy-on-write scenario on real processes, step by step, with the\n"
	"parent's and child's snapshots diffed at each step.  --list names them.\n"
	"  --html F  also write F: a self-contained HTML page with the map of\n"
	"            parent and child at every step\n"
	"  --claims  check the claims of the textbook articles (all, or the IDs\n"
	"            given, e.g. 004-15, or a seed: 004): play the scenarios they\n"
	"            need, once each, and judge each claim by what the kernel did\n"
	"  --markdown  with --claims: the page docs/claims.md, from this run\n";

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

static int run_one(const struct scenario *s, struct json *j, struct ct_html *html,
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
	if (call(&sc, &sc.parent, PUP_NOP, 0, 0, 0) != (uint64_t)-1 &&
	    !snap(&sc, sc.parent.pid, &sc.prev[0]))
		sc.have_prev[0] = 1;
	/* puppets run this same binary: its pages are ours too (none if this fails) */
	ct_self_file_pfns(&sc.self, &err);
	if (j)
		json_head(j, s, &sc);
	else if (text_out(&sc))
		printf("scenario %s: %s\n", s->name, s->summary);
	s->fn(&sc);
	if (j)
		json_tail(j, &sc);
	rec->failed = sc.failed;
	snprintf(rec->stopped, sizeof(rec->stopped), "%s", sc.stopped);
	scen_free(&sc);
	return sc.failed ? EXIT_RUNTIME : EXIT_OK;
}

static const struct scenario *find_scenario(const char *name)
{
	for (size_t i = 0; i < NR_SCENARIOS; i++)
		if (!strcmp(name, scenarios[i].name))
			return &scenarios[i];
	return NULL;
}

int ct_run_scenario_exists(const char *name)
{
	return find_scenario(name) != NULL;
}

int ct_run_scenario(const char *name, struct ct_html *html, struct ct_run_result *r)
{
	const struct scenario *s = find_scenario(name);

	if (!s)
		return ct_err(EXIT_USAGE, "no scenario '%s'", name);
	return run_one(s, NULL, html, r, 1);
}

static int run_scenario(const struct scenario *s, int json, const char *html_path)
{
	struct ct_run_result *rec = calloc(1, sizeof(*rec));
	struct ct_error err;
	struct ct_html html;
	struct json j;
	int ret;

	if (!rec)
		return ct_err(EXIT_RUNTIME, "out of memory");
	if (json)
		json_init(&j, stdout);
	if (html_path) {
		char title[160];

		snprintf(title, sizeof(title), "cowtrace run %s: %s", s->name, s->summary);
		if (ct_html_open(&html, html_path, title, &err)) {
			free(rec);
			return ct_err(EXIT_RUNTIME, "%s", err.msg);
		}
	}
	ret = run_one(s, json ? &j : NULL, html_path ? &html : NULL, rec, 0);
	if (html_path && ct_html_close(&html, &err) && !ret)
		ret = ct_err(EXIT_RUNTIME, "%s: %s", html_path, err.msg);
	free(rec);
	return ret;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "html", required_argument, NULL, 'H' },
		{ "claims", no_argument, NULL, 'c' },
		{ "markdown", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ct_claims_opts co = { 0 };
	int claims = 0, c;
	const struct scenario *s;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': co.list = 1; break;
		case 'j': co.json = 1; break;
		case 'H': co.html_path = optarg; break;
		case 'c': claims = 1; break;
		case 'm': co.markdown = 1; break;
		case 'h': fputs(run_help, stdout); return EXIT_OK;
		default: return ct_usage("run", "bad option");
		}
	}
	if (claims)
		return ct_claims_command(argv + optind, argc - optind, &co);
	if (co.markdown)
		return ct_usage("run", "--markdown goes with --claims");
	if (co.list) {
		for (size_t i = 0; i < NR_SCENARIOS; i++)
			printf("%-18s %s\n", scenarios[i].name, scenarios[i].summary);
		return EXIT_OK;
	}
	if (optind != argc - 1)
		return ct_usage("run", "expected one SCENARIO (see 'cowtrace run --list')");
	s = find_scenario(argv[optind]);
	if (!s)
		return ct_usage("run", "no scenario '%s' (see 'cowtrace run --list')", argv[optind]);
	return run_scenario(s, co.json, co.html_path);
}
