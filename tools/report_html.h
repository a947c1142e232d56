/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTML report: a self-contained page (inline SVG, CSS and a little
 * script; nothing fetched) with one map per parent/child pair.  Each VMA is
 * a band of page cells, parent above child, coloured by enum ct_cell.
 *
 * Cells stay few however large the process: a map of up to
 * CT_HTML_PAGE_CELLS populated pages draws one cell per page; a larger one
 * merges runs of like pages, and if that is still more than CT_HTML_CELLS
 * cells, aligned blocks of pages, each drawn as stacked shares of its states.
 * Unpopulated stretches are compressed to a labelled gap.  Every drawn cell
 * says how many pages it stands for (data-n), so the cells of a state always
 * add up to the map's totals: the browser test checks exactly that.
 */
#ifndef COWTRACE_REPORT_HTML_H
#define COWTRACE_REPORT_HTML_H

#include <stdio.h>
#include "classify.h"

#define CT_HTML_PAGE_CELLS 4096
#define CT_HTML_CELLS 6000

struct ct_html {
	FILE *f;
	int nr_maps;
};

struct ct_range {
	uint64_t start, end;
};

struct ct_html_map {
	const char *heading;			/* "step 3: child writes ..." */
	const char *caption;			/* a sentence, or NULL */
	const struct ct_snapshot *parent;
	const struct ct_snapshot *child;	/* NULL: no child (yet) */
	const struct ct_snapshot *origin;	/* parent at fork, or NULL */
	const struct ct_range *only;		/* draw only these ranges ... */
	size_t nr_only;				/* ... or everything if 0 */
};

/* Pages per state: [0] the parent's side, [1] the child's. */
struct ct_map_totals {
	uint64_t pages[2][CT_NR_CELLS];
};

int ct_html_open(struct ct_html *h, const char *path, const char *title,
		 struct ct_error *err);
void ct_html_map(struct ct_html *h, const struct ct_html_map *m);
/*
 * A section of text: a table of nrows rows of ncols cells (cells[row * ncols
 * + col]), each escaped; the first column's cells are row headers.
 */
void ct_html_table(struct ct_html *h, const char *heading, const char *intro,
		   const char *const *cols, size_t ncols, const char *const *cells, size_t nrows);
int ct_html_close(struct ct_html *h, struct ct_error *err);
/* Close and remove a report that will not be finished. */
void ct_html_discard(struct ct_html *h, const char *path);

/* What a map of m would draw, counted without drawing it (for --json). */
void ct_map_count(const struct ct_html_map *m, struct ct_map_totals *t);
/* {"parent": {state: pages...}, "child": {...}} */
void ct_json_map_totals(struct json *j, const struct ct_map_totals *t);

#endif
