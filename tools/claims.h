/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The textbook, checked: the claims about fork and copy-on-write that the
 * seed articles (../shared/seeds/, in Chinese) make, each with the scenario
 * steps that test it and a judge that decides it from what those steps
 * observed (run_result.h).  The catalogue is data (claims.c); the judges
 * (claim_judges.c) read only a run's numbers, so a verdict is what this
 * kernel did, never what a table says it should do.
 */
#ifndef COWTRACE_CLAIMS_H
#define COWTRACE_CLAIMS_H

#include <stddef.h>
#include <stdint.h>

#include "run_result.h"

enum ct_verdict {
	CT_V_TRUE,
	CT_V_FALSE,
	CT_V_PARTLY,		/* holds for one class of memory, not another */
	CT_V_TRUE_HERE,		/* true on this kernel only: others differ */
	CT_V_FALSE_HERE,
	CT_V_UNDECIDED,		/* the run lacked a fact the judge needs */
	CT_V_UNTESTED,		/* no experiment for it yet */
	CT_NR_VERDICTS
};

extern const char *const ct_verdict_names[CT_NR_VERDICTS];

#define CT_MAX_EVIDENCE 24

struct ct_evidence {
	char key[40];
	int64_t v;
};

/* What a judge found: one fact, or a fact about two classes of memory. */
struct ct_finding {
	int decided;
	int holds;
	int split;			/* class_a and class_b answered apart */
	const char *class_a, *class_b;
	int holds_a, holds_b;
	char observed[1024];		/* what the kernel did, with the numbers */
	char why_not[256];		/* not decided: which fact the run lacked */
	struct ct_evidence ev[CT_MAX_EVIDENCE];
	int nr_ev;
};

/* The runs a judge may read, by scenario name. */
struct ct_runs {
	const struct ct_run_result *const *r;
	size_t n;
	int has_do_fork;	/* the kernel has do_fork or _do_fork: 1, 0, -1 unknown */
};

const struct ct_run_result *ct_runs_find(const struct ct_runs *rs, const char *scenario);

typedef void (*ct_judge_fn)(const struct ct_runs *rs, struct ct_finding *f);

#define CT_CLAIM_MAX_SCENARIOS 4

struct ct_claim {
	const char *id;		/* "004-15": seed, then its claims in order */
	const char *seed;	/* "004" */
	const char *lines;	/* where in the seed: "85-87, 99-105" */
	const char *quote;	/* the seed's words, UTF-8 */
	const char *claim;	/* the claim in English, one line */
	const char *experiment;	/* the scenario steps that test it */
	const char *kernel;	/* the kernel facts that decide it */
	const char *scenarios[CT_CLAIM_MAX_SCENARIOS];	/* what the judge reads */
	ct_judge_fn judge;	/* NULL: no experiment written yet */
	int asserts_not;	/* the claim says the judge's fact does not hold */
	const char *untested;	/* with no judge: what is missing */
	const char *changes;	/* the verdict differs across kernels: where, how */
	const char *note;	/* a caveat the verdict carries, or NULL */
};

extern const struct ct_claim ct_claims[];
extern const size_t ct_nr_claims;

struct ct_claim_result {
	const struct ct_claim *c;
	enum ct_verdict verdict;
	char verdict_text[768];
	struct ct_finding f;
};

/* Judge claim c on the runs: the judge's finding, and the verdict it makes. */
void ct_judge_claim(const struct ct_claim *c, const struct ct_runs *rs,
		    struct ct_claim_result *out);

/* Whether sel ("004-15", or a seed: "004") selects claim c. */
int ct_claim_selected(const struct ct_claim *c, const char *sel);

/* cowtrace run --claims: what to print. */
struct ct_claims_opts {
	int json, markdown, list;
	const char *html_path;
};

int ct_claims_command(char **ids, int nr_ids, const struct ct_claims_opts *o);

#endif
