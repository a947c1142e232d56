// SPDX-License-Identifier: GPL-2.0
/* The judged claims, printed (claims_output.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "claims_output.h"
#include "output.h"

/* "line 29", "lines 85-87, 99-105" */
static const char *line_word(const struct ct_claim *c)
{
	return strpbrk(c->lines, ",-") ? "lines" : "line";
}

static const char *what_it_tests(const struct ct_claim *c)
{
	return c->judge ? c->experiment : "no experiment yet";
}

void ct_claims_list(FILE *f, const int *chosen)
{
	for (size_t i = 0; i < ct_nr_claims; i++) {
		const struct ct_claim *c = &ct_claims[i];

		if (!chosen[i])
			continue;
		fprintf(f, "%-7s seed %s, %s %-14s %s\n        tested by: %s\n", c->id, c->seed,
			line_word(c), c->lines, c->claim, what_it_tests(c));
	}
}

static void count_verdicts(const struct ct_claims_report *rep, size_t counts[CT_NR_VERDICTS])
{
	memset(counts, 0, CT_NR_VERDICTS * sizeof(counts[0]));
	for (size_t i = 0; i < rep->n; i++)
		counts[rep->res[i].verdict]++;
}

static void verdict_totals(FILE *f, const struct ct_claims_report *rep, const char *sep)
{
	size_t counts[CT_NR_VERDICTS];
	int any = 0;

	count_verdicts(rep, counts);
	for (int v = 0; v < CT_NR_VERDICTS; v++) {
		if (!counts[v])
			continue;
		fprintf(f, "%s%zu %s", any ? sep : "", counts[v], ct_verdict_names[v]);
		any = 1;
	}
}

/* ---- text ---- */

void ct_claims_text(FILE *f, const struct ct_claims_report *rep)
{
	fprintf(f, "%zu claims of the seed articles, judged on Linux %s (snapshots: %s; events: %s)\n",
		rep->n, rep->kernel, rep->source, rep->traced ? "traced" : "none, no module");
	for (size_t i = 0; i < rep->n; i++) {
		const struct ct_claim_result *r = &rep->res[i];
		const struct ct_claim *c = r->c;

		fprintf(f, "\nclaim %s (seed %s, %s %s): %s\n", c->id, c->seed, line_word(c),
			c->lines, c->claim);
		fprintf(f, "  seed says: %s\n", c->quote);
		fprintf(f, "  ran:       %s\n", what_it_tests(c));
		if (r->f.observed[0])
			fprintf(f, "  kernel:    %s\n", r->f.observed);
		fprintf(f, "  verdict:   %s\n", r->verdict_text);
	}
	fprintf(f, "\non %s: ", rep->kernel);
	verdict_totals(f, rep, ", ");
	fprintf(f, "\n");
}

/* ---- JSON ---- */

static void json_claim(struct json *j, const struct ct_claims_report *rep,
		       const struct ct_claim_result *r)
{
	const struct ct_claim *c = r->c;

	json_object(j);
	json_kstr(j, "id", c->id);
	json_kstr(j, "seed", c->seed);
	json_kstr(j, "line", c->lines);
	json_kstr(j, "quote", c->quote);
	json_kstr(j, "claim", c->claim);
	json_kstr(j, "experiment", what_it_tests(c));
	json_key(j, "scenarios");
	json_array(j);
	for (int k = 0; k < CT_CLAIM_MAX_SCENARIOS && c->scenarios[k]; k++)
		json_string(j, c->scenarios[k]);
	json_end_array(j);
	json_kstr(j, "verdict", ct_verdict_names[r->verdict]);
	json_kstr(j, "verdict_text", r->verdict_text);
	json_kstr(j, "observed", r->f.observed);
	if (r->f.why_not[0])
		json_kstr(j, "why_undecided", r->f.why_not);
	json_key(j, "evidence");
	json_object(j);
	for (int k = 0; k < r->f.nr_ev; k++) {
		json_key(j, r->f.ev[k].key);
		json_int(j, r->f.ev[k].v);
	}
	json_end_object(j);
	json_key(j, "changes_at");
	c->changes ? json_string(j, c->changes) : json_null(j);
	json_kstr(j, "kernel", rep->kernel);
	json_kstr(j, "kernel_facts", c->kernel);
	json_end_object(j);
}

void ct_claims_json(FILE *f, const struct ct_claims_report *rep)
{
	struct json j;

	json_init(&j, f);
	json_object(&j);
	json_kuint(&j, "cowtrace", 1);
	json_kstr(&j, "kind", "claims");
	json_kstr(&j, "kernel", rep->kernel);
	json_kstr(&j, "source", rep->source);
	json_kbool(&j, "traced", rep->traced);
	json_key(&j, "played");
	json_array(&j);
	for (size_t i = 0; i < rep->nr_played; i++)
		json_string(&j, rep->played[i]);
	json_end_array(&j);
	json_key(&j, "claims");
	json_array(&j);
	for (size_t i = 0; i < rep->n; i++)
		json_claim(&j, rep, &rep->res[i]);
	json_end_array(&j);
	json_end_object(&j);
	fputc('\n', f);
}

/* ---- markdown: docs/claims.md ---- */

/* Table cells may not hold a '|' or a line break. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void md_summary(FILE *f, const struct ct_claims_report *rep)
{
	fprintf(f, "| claim | seed, line | says | verdict |\n|---|---|---|---|\n");
	for (size_t i = 0; i < rep->n; i++) {
		const struct ct_claim_result *r = &rep->res[i];

		fprintf(f, "| [%s](#%s) | %s, %s | ", r->c->id, r->c->id, r->c->seed, r->c->lines);
		md_cell(f, r->c->claim);
		fprintf(f, " | **%s** |\n", ct_verdict_names[r->verdict]);
	}
}

static void md_claim(FILE *f, const struct ct_claim_result *r)
{
	const struct ct_claim *c = r->c;

	fprintf(f, "\n### <a id=\"%s\"></a>%s (seed %s, %s %s)\n\n", c->id, c->id, c->seed,
		line_word(c), c->lines);
	fprintf(f, "> %s\n\n", c->quote);
	fprintf(f, "- **Says**: %s\n", c->claim);
	fprintf(f, "- **Experiment**: %s\n", what_it_tests(c));
	if (r->f.observed[0])
		fprintf(f, "- **What the kernel did**: %s\n", r->f.observed);
	fprintf(f, "- **Verdict**: **%s**", ct_verdict_names[r->verdict]);
	if (strcmp(r->verdict_text, ct_verdict_names[r->verdict]))
		fprintf(f, " (%s)", r->verdict_text);
	fprintf(f, "\n- **Kernel facts**: %s\n", c->kernel);
}

void ct_claims_markdown(FILE *f, const struct ct_claims_report *rep)
{
	const char *seed = "";

	fprintf(f, "# What the textbook says, and what Linux does\n\n");
	fprintf(f, "Generated by `cowtrace run --claims --markdown` on Linux %s (snapshots: %s; "
		"events: %s). Do not edit it: run that again.\n\n", rep->kernel, rep->source,
		rep->traced ? "traced by the module" : "none");
	fprintf(f, "Each claim below is a sentence about what the kernel does, taken from one of "
		"five Chinese articles on fork and copy-on-write (the seeds, `shared/seeds/`), "
		"with its passage and an English wording. `cowtrace run` played the scenario "
		"steps named under *Experiment* on real processes, and the verdict was computed "
		"from what they observed on this kernel. A claim is **partly** true when it "
		"states a rule for all memory that holds for one class and not another; **on "
		"this kernel only** when the kernel's rule changed at the version given. The "
		"guest tests (`tools/tests/guest_cli.py`, `claims_verdicts_are_the_kernels`) "
		"predict every verdict on every kernel they boot.\n\n");
	fprintf(f, "On %s: ", rep->kernel);
	verdict_totals(f, rep, ", ");
	fprintf(f, ".\n\n");
	md_summary(f, rep);
	for (size_t i = 0; i < rep->n; i++) {
		if (strcmp(seed, rep->res[i].c->seed)) {
			seed = rep->res[i].c->seed;
			fprintf(f, "\n## Seed %s\n", seed);
		}
		md_claim(f, &rep->res[i]);
	}
}

/* ---- the HTML report's table ---- */

void ct_claims_html(struct ct_html *h, const struct ct_claims_report *rep)
{
	static const char *const cols[] = { "claim", "the seed says", "what the kernel did",
					     "verdict" };
	const char **cells = calloc(rep->n * 4, sizeof(*cells));
	char (*ids)[64] = calloc(rep->n, sizeof(*ids));
	char intro[256];

	if (!cells || !ids) {
		free(cells);
		free(ids);
		return;
	}
	for (size_t i = 0; i < rep->n; i++) {
		const struct ct_claim_result *r = &rep->res[i];

		snprintf(ids[i], sizeof(ids[i]), "%s (seed %s, %s %s)", r->c->id, r->c->seed,
			 line_word(r->c), r->c->lines);
		cells[i * 4] = ids[i];
		cells[i * 4 + 1] = r->c->claim;
		cells[i * 4 + 2] = r->f.observed[0] ? r->f.observed : what_it_tests(r->c);
		cells[i * 4 + 3] = r->verdict_text;
	}
	snprintf(intro, sizeof(intro), "Judged on Linux %s (snapshots: %s; events: %s). The "
		 "maps above are the steps the judges read.", rep->kernel, rep->source,
		 rep->traced ? "traced" : "none");
	ct_html_table(h, "The claims, judged", intro, cols, 4, cells, rep->n);
	free(cells);
	free(ids);
}
