/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowtrace run --claims, printed: text, JSON (docs/json.md), the markdown
 * page docs/claims.md is made from, and the HTML report's table.
 */
#ifndef COWTRACE_CLAIMS_OUTPUT_H
#define COWTRACE_CLAIMS_OUTPUT_H

#include "claims.h"
#include "report_html.h"

/* The judged claims, and the machine they were judged on. */
struct ct_claims_report {
	const struct ct_claim_result *res;
	size_t n;
	const char *kernel;	/* uname -r */
	const char *source;	/* the snapshots' source: "module", "procfs" */
	int traced;		/* the module traced the runs */
	const char *const *played;	/* the scenarios played, each once */
	size_t nr_played;
};

/* The catalogue: the claims chosen[i] marks. */
void ct_claims_list(FILE *f, const int *chosen);
void ct_claims_text(FILE *f, const struct ct_claims_report *rep);
void ct_claims_json(FILE *f, const struct ct_claims_report *rep);
void ct_claims_markdown(FILE *f, const struct ct_claims_report *rep);
void ct_claims_html(struct ct_html *h, const struct ct_claims_report *rep);

#endif
