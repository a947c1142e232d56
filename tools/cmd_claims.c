// SPDX-License-Identifier: GPL-2.0
/*
 * cowtrace run --claims [ID...]: play the scenarios the chosen claims read,
 * each once however many claims read it, judge every claim on what they
 * observed, and print the verdicts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "claims.h"
#include "claims_output.h"
#include "cli.h"
#include "report_html.h"

#define MAX_RUNS 24

struct plan {
	int *chosen;			/* per claim */
	const char *scenarios[MAX_RUNS];	/* to play, each once */
	size_t nr_scenarios;
};

static int check_ids(char **ids, int nr_ids)
{
	for (int k = 0; k < nr_ids; k++) {
		size_t i;

		for (i = 0; i < ct_nr_claims && !ct_claim_selected(&ct_claims[i], ids[k]); i++)
			;
		if (i == ct_nr_claims)
			return ct_usage("run", "no claim '%s' (see 'cowtrace run --claims --list')",
					ids[k]);
	}
	return 0;
}

static void add_scenario(struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->nr_scenarios; i++)
		if (!strcmp(p->scenarios[i], name))
			return;
	if (p->nr_scenarios < MAX_RUNS)
		p->scenarios[p->nr_scenarios++] = name;
}

static void make_plan(char **ids, int nr_ids, struct plan *p)
{
	for (size_t i = 0; i < ct_nr_claims; i++) {
		const struct ct_claim *c = &ct_claims[i];

		p->chosen[i] = !nr_ids;
		for (int k = 0; k < nr_ids; k++)
			p->chosen[i] |= ct_claim_selected(c, ids[k]);
		if (!p->chosen[i] || !c->judge)
			continue;
		for (int s = 0; s < CT_CLAIM_MAX_SCENARIOS && c->scenarios[s]; s++)
			add_scenario(p, c->scenarios[s]);
	}
}

/* Whether the running kernel has a do_fork (it was renamed kernel_clone in 5.10). */
static int kernel_has_do_fork(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], name[256];
	int found = 0, any = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %255s", name) != 1)
			continue;
		any = 1;
		found |= !strcmp(name, "do_fork") || !strcmp(name, "_do_fork");
	}
	fclose(f);
	return any ? found : -1;
}

/* The snapshots' source and whether events came, from the first run that has them. */
static void describe_runs(struct ct_run_result **runs, size_t n, struct ct_claims_report *rep)
{
	rep->source = "none";
	for (size_t i = 0; i < n; i++) {
		if (!runs[i]->nr_steps)
			continue;
		rep->source = runs[i]->steps[0].side[0].source == CT_SOURCE_MODULE ? "module" :
			      "procfs";
		rep->traced = runs[i]->traced;
		return;
	}
}

static int play(const struct plan *p, struct ct_run_result **runs, struct ct_html *html)
{
	int ret = EXIT_OK;

	for (size_t i = 0; i < p->nr_scenarios; i++) {
		int r = ct_run_scenario(p->scenarios[i], html, runs[i]);

		if (r && !ret)
			ret = r;
	}
	return ret;
}

static void judge_all(const struct plan *p, struct ct_run_result **runs,
		      struct ct_claim_result *res, size_t *n)
{
	struct ct_runs rs = { (const struct ct_run_result *const *)runs, p->nr_scenarios,
			      kernel_has_do_fork() };

	*n = 0;
	for (size_t i = 0; i < ct_nr_claims; i++)
		if (p->chosen[i])
			ct_judge_claim(&ct_claims[i], &rs, &res[(*n)++]);
}

static void print(const struct ct_claims_opts *o, const struct ct_claims_report *rep)
{
	if (o->json)
		ct_claims_json(stdout, rep);
	else if (o->markdown)
		ct_claims_markdown(stdout, rep);
	else
		ct_claims_text(stdout, rep);
}

static int open_html(const struct ct_claims_opts *o, struct ct_html *html)
{
	struct ct_error err;

	if (!o->html_path)
		return 0;
	if (ct_html_open(html, o->html_path, "cowtrace run --claims: the textbook, checked", &err))
		return ct_err(EXIT_RUNTIME, "%s", err.msg);
	return 0;
}

static int close_html(const struct ct_claims_opts *o, struct ct_html *html,
		      const struct ct_claims_report *rep)
{
	struct ct_error err;

	if (!o->html_path)
		return 0;
	ct_claims_html(html, rep);
	if (ct_html_close(html, &err))
		return ct_err(EXIT_RUNTIME, "%s: %s", o->html_path, err.msg);
	return 0;
}

static int judge_and_print(const struct ct_claims_opts *o, struct plan *p,
			   struct ct_run_result **runs)
{
	struct ct_claim_result *res = calloc(ct_nr_claims, sizeof(*res));
	struct ct_claims_report rep = { 0 };
	struct ct_html html;
	struct utsname u;
	int ret;

	if (!res)
		return ct_err(EXIT_RUNTIME, "out of memory");
	if (open_html(o, &html)) {
		free(res);
		return EXIT_RUNTIME;
	}
	ret = play(p, runs, o->html_path ? &html : NULL);
	judge_all(p, runs, res, &rep.n);
	rep.res = res;
	rep.played = p->scenarios;
	rep.nr_played = p->nr_scenarios;
	rep.kernel = uname(&u) == 0 ? u.release : "unknown";
	describe_runs(runs, p->nr_scenarios, &rep);
	print(o, &rep);
	if (close_html(o, &html, &rep) && !ret)
		ret = EXIT_RUNTIME;
	free(res);
	return ret;
}

int ct_claims_command(char **ids, int nr_ids, const struct ct_claims_opts *o)
{
	struct ct_run_result *runs[MAX_RUNS] = { 0 };
	struct plan p = { 0 };
	int ret = EXIT_RUNTIME;

	if (o->json && o->markdown)
		return ct_usage("run", "--json or --markdown, not both");
	if (check_ids(ids, nr_ids))
		return EXIT_USAGE;
	p.chosen = calloc(ct_nr_claims, sizeof(*p.chosen));
	if (!p.chosen)
		return ct_err(EXIT_RUNTIME, "out of memory");
	make_plan(ids, nr_ids, &p);
	if (o->list) {
		ct_claims_list(stdout, p.chosen);
		free(p.chosen);
		return EXIT_OK;
	}
	for (size_t i = 0; i < p.nr_scenarios; i++) {
		runs[i] = calloc(1, sizeof(*runs[i]));
		if (!runs[i]) {
			ret = ct_err(EXIT_RUNTIME, "out of memory");
			goto out;
		}
	}
	ret = judge_and_print(o, &p, runs);
out:
	for (size_t i = 0; i < p.nr_scenarios; i++)
		free(runs[i]);
	free(p.chosen);
	return ret;
}
