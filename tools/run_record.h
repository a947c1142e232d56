/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How run_step.c hands a step to run_result.c: the snapshots it took, its
 * events and its story.  Only run_step.c (and the unit tests) record steps.
 */
#ifndef COWTRACE_RUN_RECORD_H
#define COWTRACE_RUN_RECORD_H

#include "run_result.h"

struct ct_run_obs {
	int step;
	const char *action;
	const struct ct_snapshot *prev[2];	/* each side's previous snapshot, or NULL */
	const struct ct_snapshot *now[2];	/* now[CT_CHILD] NULL: no child yet */
	uint32_t pids[2];
	int actor;				/* CT_PARENT or CT_CHILD, with a focus */
	uint64_t focus;				/* 0: none */
	const struct ct_story_view *story;	/* NULL: the step tells none */
	int events_agree;			/* 1, 0, -1 not checked */
	const struct cowtrace_event *ev;	/* the step's events in the regions */
	size_t nr_ev;
	int events_known;
	const struct ct_run_value *values;
	int nr_values;
};

/* The step's results, against r's regions and probes. */
void ct_run_record_step(const struct ct_run_result *r, const struct ct_run_obs *o,
			struct ct_run_step *st);

#endif
