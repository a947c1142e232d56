/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The step engine of cowtrace run (run_step.c) and the scenarios that drive
 * it (scenarios.c).  A scenario orders its puppets about (scen_call()) and
 * observes after each step (scen_observe()): the engine snapshots parent and
 * child, tells the focus page's story, checks it against the step's events,
 * records the step for the claims (run_result.h) and prints it as text, JSON
 * or an HTML map.
 */
#ifndef COWTRACE_RUN_STEP_H
#define COWTRACE_RUN_STEP_H

#include <stdint.h>

#include "classify.h"
#include "output.h"
#include "puppet.h"
#include "report_html.h"
#include "run_result.h"
#include "snapshot.h"
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

struct scenario {
	const char *name;
	void (*fn)(struct scen *sc);
	const char *summary;
};

/* scenarios.c: every scenario cowtrace run knows, in --list order */
extern const struct scenario ct_scenarios[];
extern const size_t ct_nr_scenarios;

/* Play s: text unless j (JSON) or quiet; every step recorded into rec. */
int scen_play(const struct scenario *s, struct json *j, struct ct_html *html,
	      struct ct_run_result *rec, int quiet);

/* What a scenario does with its puppets and steps (run_step.c says more). */
uint64_t scen_call(struct scen *sc, struct puppet *p, enum puppet_op op,
		   uint64_t a, uint64_t b, uint64_t c);
void scen_add_region(struct scen *sc, uint64_t start, uint64_t len, const char *what);
void scen_add_probe(struct scen *sc, uint64_t addr);
void scen_note(struct scen *sc, const char *name, int64_t v);
uint64_t scen_map_region(struct scen *sc, uint64_t len, uint32_t how, const char *what);
void scen_fork(struct scen *sc);
void scen_observe(struct scen *sc, const char *action, int actor, uint64_t focus,
		  const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void scen_observe_fork(struct scen *sc);
void scen_observe_told(struct scen *sc, const char *action, uint64_t focus, const char *verb,
		       tell_fn tell, void *arg);
void scen_stop(struct scen *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int scen_text_out(const struct scen *sc);

#endif
