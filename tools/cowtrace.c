// SPDX-License-Identifier: GPL-2.0
/*
 * cowtrace: watch copy-on-write happen.  main() is a dispatch table, in the
 * manner of tools/perf: each subcommand parses its own options.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "puppet.h"

const struct cmd ct_commands[] = {
	{ "snap", cmd_snap, "PID [-o FILE] [--json]", "take a snapshot of a process" },
	{ "show", cmd_show, "FILE|PID", "print a snapshot: VMAs and pages" },
	{ "diff", cmd_diff, "A B", "what happened to each page between two snapshots" },
	{ "compare", cmd_compare, "PARENT CHILD", "what a parent and its child still share" },
	{ "watch", cmd_watch, "PARENT CHILD", "compare, over time, until either exits" },
	{ "trace", cmd_trace, "-p PID | -- CMD", "print COW events live, then who copied what" },
	{ "run", cmd_run, "SCENARIO|--list|--claims", "play a COW scenario, or judge the textbook's claims" },
	{ NULL, NULL, NULL, NULL }
};

static int usage(FILE *f, int code)
{
	fprintf(f, "usage: cowtrace COMMAND [ARGS...]   (cowtrace COMMAND --help)\n\n");
	for (const struct cmd *c = ct_commands; c->name; c++)
		fprintf(f, "  %-8s %-24s %s\n", c->name, c->args, c->summary);
	fprintf(f, "\nSnapshots come from the cowtrace module when it is loaded, else from\n"
		   "/proc/PID/pagemap, /proc/kpagecount and /proc/kpageflags (root).\n"
		   "Every command takes --json.  Exit status: 0 ok, 1 usage, 2 runtime error.\n"
		   "See cowtrace(1).\n");
	return code;
}

int main(int argc, char **argv)
{
	puppet_maybe_run(argc, argv);
	if (argc < 2)
		return usage(stderr, EXIT_USAGE);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout, EXIT_OK);
	for (const struct cmd *c = ct_commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "cowtrace: unknown command '%s'\n", argv[1]);
	return usage(stderr, EXIT_USAGE);
}
