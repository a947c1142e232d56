// SPDX-License-Identifier: GPL-2.0
/*
 * cowtrace run: play one textbook scenario (scenarios.c) on real processes,
 * step by step, as text, JSON or an HTML map; or, with --claims, judge the
 * textbook's claims by the scenarios they need (claims.h).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "cli.h"
#include "run_step.h"

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

static const struct scenario *find_scenario(const char *name)
{
	for (size_t i = 0; i < ct_nr_scenarios; i++)
		if (!strcmp(name, ct_scenarios[i].name))
			return &ct_scenarios[i];
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
	return scen_play(s, NULL, html, r, 1);
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
	ret = scen_play(s, json ? &j : NULL, html_path ? &html : NULL, rec, 0);
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
		for (size_t i = 0; i < ct_nr_scenarios; i++)
			printf("%-18s %s\n", ct_scenarios[i].name, ct_scenarios[i].summary);
		return EXIT_OK;
	}
	if (optind != argc - 1)
		return ct_usage("run", "expected one SCENARIO (see 'cowtrace run --list')");
	s = find_scenario(argv[optind]);
	if (!s)
		return ct_usage("run", "no scenario '%s' (see 'cowtrace run --list')", argv[optind]);
	return run_scenario(s, co.json, co.html_path);
}

