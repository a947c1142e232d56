/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every claim's judge (claim_judges.c) does with a run: find the step
 * it reads, make sure the run saw the facts it needs (or say which it did
 * not: the claim is then undecided), write down the numbers, and decide.
 */
#ifndef COWTRACE_JUDGE_H
#define COWTRACE_JUDGE_H

#include "claims.h"

/* The scenarios the judges read. */
#define SV "shared_variable"
#define FE "fork_exec"
#define VF "vfork"
#define PVS "private_vs_shared"
#define RC "readonly_code"
#define LS "last_sharer"
#define ZP "zero_page"
#define DF "dontfork"
#define PW "pinned_write"
#define PC "parent_copies"
#define VW "vfork_write"
#define VS "vfork_suspends"
#define BSS "bss"
#define CW "code_write"
#define FT "first_touch"
#define CC "commit_charge"

/*
 * Step n of the scenario's run, or NULL, with f->why_not saying why: not
 * played, failed, stopped early, or short of that step.
 */
const struct ct_run_step *j_step(const struct ct_runs *rs, struct ct_finding *f,
				 const char *scenario, int n);

/* Step n if the run has it, for evidence that decides nothing: no why_not. */
const struct ct_run_step *j_step_opt(const struct ct_runs *rs, const char *scenario, int n);
/* Say why the claim is undecided (the first reason given stays). */
void j_lacks(struct ct_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The story of the step's write, if it was a write fault the records can
 * tell (a copy or a reuse); else 0, and why_not says so.
 */
int j_need_write_story(struct ct_finding *f, const char *scenario, const struct ct_run_step *st);
/* The value the step recorded, or 0 with why_not set. */
int j_need_value(struct ct_finding *f, const char *scenario, const struct ct_run_step *st,
		 const char *name, int64_t *v);
/* No change at all on that side, in every region. */
int j_no_change(const struct ct_run_side *sd);

/* Each returns 1 if the step has the fact, else 0 with f->why_not set. */
int j_need_write(struct ct_finding *f, const struct ct_run_step *st);	/* PTE write bits */
int j_need_refcount(struct ct_finding *f, const struct ct_run_step *st);
int j_need_mm(struct ct_finding *f, const struct ct_run_step *st);	/* M1 counters */
int j_need_events(struct ct_finding *f, const struct ct_run_step *st);
int j_need_page(struct ct_finding *f, const struct ct_run_at *a, const char *what);

/* The record's page, if one is present there. */
const struct cowtrace_page *j_page(const struct ct_run_at *a);
uint64_t j_pfn(const struct ct_run_at *a);
int j_writable(const struct ct_run_at *a);
/* The side kept its page at the step's subject: the same PFN before and after. */
int j_kept(const struct ct_run_side *sd);
/* Events of a kind in the step's regions, by anyone. */
uint64_t j_events(const struct ct_run_step *st, int kind);

/* "; "-separated sentences of what the kernel did. */
void j_say(struct ct_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void j_num(struct ct_finding *f, const char *key, int64_t v);
/* The step's fork event, said and numbered (KEY_ptes, ...), if the run traced it. */
void j_fork_event(struct ct_finding *f, const struct ct_run_step *st, const char *key);

/* Decide, unless a needed fact was missing. */
void j_decide(struct ct_finding *f, int holds);
void j_decide_split(struct ct_finding *f, const char *class_a, int holds_a,
		    const char *class_b, int holds_b);

#endif
