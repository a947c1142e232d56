/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What one play of a cowtrace run scenario observed, step by step: the
 * numbers a judge of a textbook claim (claims.h) reads.  run_step.c fills it
 * from the snapshots and events it takes anyway; nothing here is a
 * prediction.  A fact the run could not see is marked unknown (mm_known,
 * CT_UNAVAIL_* bits, events_known), never filled with a guess.
 */
#ifndef COWTRACE_RUN_RESULT_H
#define COWTRACE_RUN_RESULT_H

#include "classify.h"

#define CT_RUN_MAX_STEPS 8
#define CT_RUN_MAX_REGIONS 4
#define CT_RUN_MAX_PROBES 2
#define CT_RUN_MAX_VALUES 4

enum { CT_PARENT, CT_CHILD };

/* One address in one process's snapshot. */
struct ct_run_at {
	int has_page, has_vma;
	struct cowtrace_page page;	/* when has_page */
	uint32_t vma_flags;		/* COWTRACE_VMA_*, when has_vma */
	uint64_t vma_ino;		/* the VMA's file, 0 if none */
};

/* One process at one step. */
struct ct_run_side {
	int seen;			/* snapshotted at this step */
	uint32_t source;		/* enum ct_source */
	uint32_t unavailable;		/* CT_UNAVAIL_* */
	int mm_known;			/* mm counters valid: the module's snapshot */
	struct cowtrace_mm_info mm;	/* M1: pgtables_bytes (VmPTE), mm_users, ... */
	size_t nr_vmas;
	size_t vmas_like_other;		/* VMAs the other side has with the same
					 * range and permissions */
	/* diff classes against this side's previous snapshot, per region */
	uint64_t changes[CT_RUN_MAX_REGIONS][CT_NR_CHANGES];
	struct ct_run_at before, after;	/* at the step's subject address */
	struct ct_run_at region[CT_RUN_MAX_REGIONS];	/* at each region's start */
	struct ct_run_at probe[CT_RUN_MAX_PROBES];	/* at the scenario's probes */
};

/* A number a scenario recorded beside the snapshots (a read's sum, ...). */
struct ct_run_value {
	const char *name;	/* a string literal */
	int64_t v;
};

struct ct_run_step {
	int step;			/* from 1, as the text output numbers them */
	char action[128];
	int actor;			/* CT_PARENT, CT_CHILD, or -1: no focus page */
	uint64_t focus;			/* 0: none */
	uint64_t subject;		/* the focus, else the first region's start */
	int has_story;
	enum ct_story story;		/* from the actor's records at the focus */
	int events_agree;		/* 1, 0, or -1: not checked */
	int nr_sides;			/* 1 before a child exists, else 2 */
	struct ct_run_side side[2];	/* CT_PARENT, CT_CHILD */
	uint64_t rel[CT_RUN_MAX_REGIONS][CT_NR_RELATIONS];	/* compare, per region */
	uint64_t writable_shared[CT_RUN_MAX_REGIONS];
	int events_known;		/* traced, and none lost or left out */
	uint64_t ev[3][COWTRACE_EV_NR_KINDS];	/* by parent, child, others, in the regions */
	uint64_t focus_ev[COWTRACE_EV_NR_KINDS];	/* by the actor at the focus page */
	int has_fork;
	struct cowtrace_event fork;	/* the step's first fork event */
	int exit_before_fork;		/* an exit event came before that fork event */
	struct ct_run_value values[CT_RUN_MAX_VALUES];
	int nr_values;
};

struct ct_run_result {
	char scenario[32];
	char kernel[65];		/* uname -r */
	int ran;			/* the scenario was played */
	int failed;			/* it failed (a runtime error, reported) */
	char stopped[256];		/* why it stopped early, or "" */
	int traced;			/* the module traced it */
	uint64_t regions[CT_RUN_MAX_REGIONS][2];	/* start, len */
	int nr_regions;
	uint64_t probes[CT_RUN_MAX_PROBES];
	int nr_probes;
	struct ct_run_step steps[CT_RUN_MAX_STEPS];
	int nr_steps;
};

/* The step numbered n (from 1), or NULL if the run did not get there. */
const struct ct_run_step *ct_run_step(const struct ct_run_result *r, int n);
/* The value the step recorded under name: 0, or -1 if it has none. */
int ct_run_value(const struct ct_run_step *st, const char *name, int64_t *v);
/* Totals over all regions: one side's changes, the pair's relations. */
uint64_t ct_run_changes(const struct ct_run_side *sd, enum ct_change c);
uint64_t ct_run_rel(const struct ct_run_step *st, enum ct_relation rel);
uint64_t ct_run_writable_shared(const struct ct_run_step *st);

struct json;
struct ct_html;
/* Whether there is a scenario of that name. */
int ct_run_scenario_exists(const char *name);
/*
 * Play one scenario quietly (no text, no JSON), recording what it observed
 * into r; with html, its maps go there, headed by the scenario's name.
 * Returns the exit status the scenario would have had.
 */
int ct_run_scenario(const char *name, struct ct_html *html, struct ct_run_result *r);

#endif
