// SPDX-License-Identifier: GPL-2.0
/*
 * From a judge's finding to a claim's verdict (claims.h): the claim says the
 * fact holds, or (asserts_not) that it does not; a fact about two classes of
 * memory that holds for one only makes it "partly"; a claim whose truth is
 * known to change across kernels is true or false "on this kernel only".
 */
#include <stdio.h>
#include <string.h>

#include "claims.h"

const char *const ct_verdict_names[CT_NR_VERDICTS] = {
	[CT_V_TRUE] = "true",
	[CT_V_FALSE] = "false",
	[CT_V_PARTLY] = "partly",
	[CT_V_TRUE_HERE] = "true on this kernel only",
	[CT_V_FALSE_HERE] = "false on this kernel only",
	[CT_V_UNDECIDED] = "undecided",
	[CT_V_UNTESTED] = "untested",
};

const struct ct_run_result *ct_runs_find(const struct ct_runs *rs, const char *scenario)
{
	for (size_t i = 0; rs && i < rs->n; i++)
		if (rs->r[i] && !strcmp(rs->r[i]->scenario, scenario))
			return rs->r[i];
	return NULL;
}

int ct_claim_selected(const struct ct_claim *c, const char *sel)
{
	return !strcmp(sel, c->id) || !strcmp(sel, c->seed);
}

static void verdict_split(const struct ct_claim *c, struct ct_claim_result *out)
{
	const struct ct_finding *f = &out->f;
	int a = f->holds_a != c->asserts_not, b = f->holds_b != c->asserts_not;

	if (a && b) {
		out->verdict = CT_V_TRUE;
		snprintf(out->verdict_text, sizeof(out->verdict_text), "true, for %s and for %s",
			 f->class_a, f->class_b);
	} else if (!a && !b) {
		out->verdict = CT_V_FALSE;
		snprintf(out->verdict_text, sizeof(out->verdict_text), "false, for %s and for %s",
			 f->class_a, f->class_b);
	} else {
		out->verdict = CT_V_PARTLY;
		snprintf(out->verdict_text, sizeof(out->verdict_text),
			 "partly: true for %s, false for %s", a ? f->class_a : f->class_b,
			 a ? f->class_b : f->class_a);
	}
}

static void verdict_one(const struct ct_claim *c, struct ct_claim_result *out)
{
	int holds = out->f.holds != c->asserts_not;

	if (c->changes) {
		out->verdict = holds ? CT_V_TRUE_HERE : CT_V_FALSE_HERE;
		snprintf(out->verdict_text, sizeof(out->verdict_text), "%s (it changes at %s)",
			 ct_verdict_names[out->verdict], c->changes);
	} else {
		out->verdict = holds ? CT_V_TRUE : CT_V_FALSE;
		snprintf(out->verdict_text, sizeof(out->verdict_text), "%s",
			 ct_verdict_names[out->verdict]);
	}
}

void ct_judge_claim(const struct ct_claim *c, const struct ct_runs *rs,
		    struct ct_claim_result *out)
{
	size_t l;

	memset(out, 0, sizeof(*out));
	out->c = c;
	if (!c->judge) {
		out->verdict = CT_V_UNTESTED;
		snprintf(out->verdict_text, sizeof(out->verdict_text), "untested: %s", c->untested);
		return;
	}
	c->judge(rs, &out->f);
	if (!out->f.decided) {
		out->verdict = CT_V_UNDECIDED;
		snprintf(out->verdict_text, sizeof(out->verdict_text), "undecided: %s",
			 out->f.why_not[0] ? out->f.why_not : "the run lacks a fact its judge needs");
		return;
	}
	if (out->f.split)
		verdict_split(c, out);
	else
		verdict_one(c, out);
	l = strlen(out->verdict_text);
	if (c->note)
		snprintf(out->verdict_text + l, sizeof(out->verdict_text) - l, "; %s", c->note);
}
