// SPDX-License-Identifier: GPL-2.0
/* The HTML map of parent and child (see report_html.h for the cell rules). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "report_html.h"
#include "reserve.h"

#define PG 4096ull
#define LINE_PX 1120	/* a band wraps at this width */
#define SMALL_MAP 256	/* cells: up to this many are drawn large */
#define BIG_GAP 16	/* pages: a gap this long gets a visible size label */

static const char *const cell_help[CT_NR_CELLS] = {
	[CT_CELL_SHARED] = "the same page in both, read-only in both: a write will copy it (COW)",
	[CT_CELL_SHARED_MAPPING] = "the same page, writable: a MAP_SHARED mapping, never copied",
	[CT_CELL_COPIED] = "each process has its own page here: this one is the copy (or, for a plain compare, one of the two)",
	[CT_CELL_OWN] = "this process's own page: the original, no longer shared once the other copied (a write reuses it), or an address only it maps",
	[CT_CELL_ZERO] = "the shared zero page (read faults on untouched anonymous memory)",
	[CT_CELL_KSM] = "a KSM-merged page",
	[CT_CELL_THP] = "part of a transparent huge page",
	[CT_CELL_SWAP] = "swapped out, or another non-present entry (migration, marker)",
	[CT_CELL_ABSENT] = "not present here, where the other process has a page",
};

/* ---- what the map covers ---- */

struct band {
	uint64_t start, end;
	const struct ct_snapshot *s;	/* whose VMA names the band */
	const struct cowtrace_vma *v;
};

struct bands {
	struct band *b;
	size_t n, cap;
};

static void add_band(struct bands *bs, uint64_t start, uint64_t end,
		     const struct ct_snapshot *s, const struct cowtrace_vma *v)
{
	if (start >= end)
		return;
	if (ct_reserve((void **)&bs->b, &bs->cap, bs->n + 1, sizeof(*bs->b)))
		abort();
	bs->b[bs->n++] = (struct band){ start, end, s, v };
}

/*
 * The union of both processes' VMAs, address-ordered, overlapping VMAs
 * merged into one band, clipped to the map's ranges.
 */
static void collect_bands(const struct ct_html_map *m, struct bands *bs)
{
	const struct ct_snapshot *side[2] = { m->parent, m->child };
	size_t idx[2] = { 0, 0 };

	for (;;) {
		const struct ct_snapshot *s = NULL;
		const struct cowtrace_vma *v = NULL;
		uint64_t start, end;

		for (int i = 0; i < 2; i++) {
			const struct cowtrace_vma *c;

			if (!side[i] || idx[i] >= side[i]->nr_vmas)
				continue;
			c = &side[i]->vmas[idx[i]];
			if (!v || c->start < v->start) {
				v = c;
				s = side[i];
			}
		}
		if (!v)
			break;
		start = v->start;
		end = v->end;
		/* swallow everything of either side that overlaps */
		for (int again = 1; again;) {
			again = 0;
			for (int i = 0; i < 2; i++)
				while (side[i] && idx[i] < side[i]->nr_vmas &&
				       side[i]->vmas[idx[i]].start < end) {
					if (side[i]->vmas[idx[i]].end > end) {
						end = side[i]->vmas[idx[i]].end;
						again = 1;
					}
					idx[i]++;
				}
		}
		if (!m->nr_only) {
			add_band(bs, start, end, s, v);
			continue;
		}
		for (size_t r = 0; r < m->nr_only; r++)
			add_band(bs, start > m->only[r].start ? start : m->only[r].start,
				 end < m->only[r].end ? end : m->only[r].end, s, v);
	}
}

/* ---- cells: one page, a run of like pages, or a block of pages ---- */

enum cell_mode { ONE_PER_PAGE, RUNS, BLOCKS };

struct cell {
	uint64_t start, end;
	uint64_t n[2][CT_NR_CELLS];
	const struct cowtrace_page *first[2];
	enum ct_cell state[2];		/* RUNS: the run's states */
	int open;
};

typedef void (*cell_fn)(const struct cell *c, uint64_t gap_pages, void *arg);

static const struct cowtrace_page *page_or_null(const struct ct_snapshot *s, size_t i,
						uint64_t end)
{
	return s && i < s->nr_pages && s->pages[i].addr < end ? &s->pages[i] : NULL;
}

/*
 * Walk one band's populated addresses, grouping them into cells by mode
 * (block: pages per block in BLOCKS mode), and call fn for each cell with
 * the unpopulated pages between it and the previous cell.
 */
static void walk_band(const struct ct_html_map *m, const struct band *b,
		      enum cell_mode mode, uint64_t block, cell_fn fn, void *arg)
{
	const struct ct_snapshot *side[2] = { m->parent, m->child };
	size_t i[2];
	struct cell c = { 0 };
	uint64_t prev_end = 0;

	for (int k = 0; k < 2; k++)
		i[k] = side[k] ? ct_first_page(side[k], b->start) : 0;
	for (;;) {
		const struct cowtrace_page *p = page_or_null(side[0], i[0], b->end);
		const struct cowtrace_page *q = page_or_null(side[1], i[1], b->end);
		const struct cowtrace_page *rec[2], *origin;
		enum ct_cell st[2];
		uint64_t addr;
		int extend;

		if (!p && !q)
			break;
		addr = !q || (p && p->addr <= q->addr) ? p->addr : q->addr;
		rec[0] = p && p->addr == addr ? p : NULL;
		rec[1] = q && q->addr == addr ? q : NULL;
		origin = m->origin ? ct_find_page(m->origin, addr) : NULL;
		for (int k = 0; k < 2; k++) {
			i[k] += !!rec[k];
			st[k] = ct_classify_cell(rec[k], rec[!k], origin);
		}
		switch (mode) {
		case ONE_PER_PAGE:
			extend = 0;
			break;
		case RUNS:
			extend = addr == c.end && st[0] == c.state[0] && st[1] == c.state[1];
			break;
		default:
			extend = addr / (block * PG) == c.start / (block * PG);
			break;
		}
		if (c.open && !extend) {
			fn(&c, prev_end ? (c.start - prev_end) / PG : 0, arg);
			prev_end = c.end;
		}
		if (!c.open || !extend) {
			memset(&c, 0, sizeof(c));
			c.open = 1;
			c.start = addr;
			c.state[0] = st[0];
			c.state[1] = st[1];
			c.first[0] = rec[0];
			c.first[1] = rec[1];
		}
		for (int k = 0; k < 2; k++) {
			if (side[k])
				c.n[k][st[k]]++;
			if (!c.first[k])
				c.first[k] = rec[k];
		}
		c.end = addr + PG;
	}
	if (c.open)
		fn(&c, prev_end ? (c.start - prev_end) / PG : 0, arg);
}

static void count_cell(const struct cell *c, uint64_t gap, void *arg)
{
	(void)c;
	(void)gap;
	++*(uint64_t *)arg;
}

static uint64_t count_cells(const struct ct_html_map *m, const struct bands *bs,
			    enum cell_mode mode, uint64_t block)
{
	uint64_t n = 0;

	for (size_t i = 0; i < bs->n; i++)
		walk_band(m, &bs->b[i], mode, block, count_cell, &n);
	return n;
}

static uint64_t longest_band_pages(const struct bands *bs)
{
	uint64_t longest = 0;

	for (size_t i = 0; i < bs->n; i++)
		if ((bs->b[i].end - bs->b[i].start) / PG > longest)
			longest = (bs->b[i].end - bs->b[i].start) / PG;
	return longest;
}

/* The cheapest mode whose cells fit the budget. */
static enum cell_mode choose_mode(const struct ct_html_map *m, const struct bands *bs,
				  uint64_t *block)
{
	*block = 1;
	if (count_cells(m, bs, ONE_PER_PAGE, 1) <= CT_HTML_PAGE_CELLS)
		return ONE_PER_PAGE;
	if (count_cells(m, bs, RUNS, 1) <= CT_HTML_CELLS)
		return RUNS;
	/*
	 * Blocks never span bands, so once a block holds the longest band the
	 * cells are as few as they get: thousands of small VMAs stay thousands
	 * of cells.
	 */
	for (*block = 2; *block < longest_band_pages(bs) &&
			 count_cells(m, bs, BLOCKS, *block) > CT_HTML_CELLS;
	     *block *= 2)
		;
	return BLOCKS;
}

/* ---- writing ---- */

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void describe_page(const struct ct_snapshot *s, const struct cowtrace_page *r,
			  char *buf, size_t len)
{
	char pte[8], flags[128];

	ct_pte_letters(s, r, pte);
	ct_page_flag_names(r->flags, flags, sizeof(flags));
	if (r->flags & COWTRACE_PTE_SWAP)
		snprintf(buf, len, "swap entry: type %u offset %#" PRIx64 ", pte %s",
			 r->swap_type, (uint64_t)r->pfn, pte);
	else
		snprintf(buf, len, "pfn %#" PRIx64 ", %s, pte %s, mapcount %u, refcount %u, %s [%s]",
			 (uint64_t)r->pfn, r->flags & COWTRACE_PTE_WRITE ? "writable" : "read-only",
			 pte, r->mapcount, r->refcount, ct_level_name(r->flags), flags);
}

/* One side of a cell, for the info panel: its states, then its first page. */
static void describe_side(const struct ct_snapshot *s, const struct cell *c, int k,
			  char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (int st = 0; st < CT_NR_CELLS && at < len; st++)
		if (c->n[k][st])
			at += snprintf(buf + at, len - at, "%s%s %" PRIu64, at ? ", " : "",
				       ct_cell_names[st], c->n[k][st]);
	if (at >= len)
		return;
	if (c->first[k]) {
		at += snprintf(buf + at, len - at, "; %s", c->end - c->start > PG ? "first page: " : "");
		if (at < len)
			describe_page(s, c->first[k], buf + at, len - at);
	}
}

struct drawing {
	const struct ct_html_map *m;
	FILE *svg;		/* the band's SVG body */
	struct json recs;	/* the map's records: [addr, pages, parent, child] */
	int sides;
	unsigned int slot, row;	/* px: a slot's width, a side's row height */
	unsigned int x, line;	/* slot position in the band */
	uint64_t nr_recs;
	struct ct_map_totals *t;
};

static unsigned int ilog2_u64(uint64_t v)
{
	unsigned int l = 0;

	while (v >>= 1)
		l++;
	return l;
}

static unsigned int line_height(const struct drawing *d)
{
	return d->sides * (d->row + 1) + 6;
}

/* Move to a place for w slots, wrapping the line if they do not fit. */
static void place(struct drawing *d, unsigned int w, unsigned int *x, unsigned int *y)
{
	if (d->x && (d->x + w) * d->slot > LINE_PX) {
		d->x = 0;
		d->line++;
	}
	*x = d->x * d->slot;
	*y = d->line * line_height(d);
	d->x += w;
}

static void draw_gap(struct drawing *d, uint64_t pages)
{
	unsigned int w = pages >= BIG_GAP ? 5 : 1, x, y;
	char sz[16];

	place(d, w, &x, &y);
	ct_human_bytes(pages * PG, sz, sizeof(sz));
	fprintf(d->svg, "<g class=\"gap\" data-pages=\"%" PRIu64 "\"><title>%s not populated</title>"
		"<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\"/>",
		pages, sz, x, y, w * d->slot - 1, d->sides * (d->row + 1) - 1);
	if (w > 1)
		fprintf(d->svg, "<text x=\"%u\" y=\"%u\">%s</text>", x + 1,
			y + d->sides * (d->row + 1) / 2 + 3, sz);
	fputs("</g>", d->svg);
}

static void draw_cell(const struct cell *c, uint64_t gap, void *arg)
{
	struct drawing *d = arg;
	const struct ct_snapshot *side[2] = { d->m->parent, d->m->child };
	uint64_t pages = (c->end - c->start) / PG;
	unsigned int w, x, y;
	char text[2][512], addr[24];

	if (gap)
		draw_gap(d, gap);
	/* a lone page: 1 slot; a run or block: wider the more it holds */
	w = pages == 1 ? 1 : 2 + (ilog2_u64(pages) > 6 ? 6 : ilog2_u64(pages)) / 2;
	place(d, w, &x, &y);
	fprintf(d->svg, "<g data-r=\"%" PRIu64 "\">", d->nr_recs);
	for (int k = 0; k < d->sides; k++) {
		uint64_t all = 0, done = 0;

		for (int st = 0; st < CT_NR_CELLS; st++)
			all += c->n[k][st];
		/* stacked shares of the states, top to bottom in enum order */
		for (int st = 0; st < CT_NR_CELLS; st++) {
			unsigned int top, bottom;

			if (!c->n[k][st])
				continue;
			top = (unsigned int)(done * d->row / all);
			done += c->n[k][st];
			bottom = (unsigned int)(done * d->row / all);
			if (bottom == top)	/* too small a share to see: 1 px */
				bottom = top + 1;
			fprintf(d->svg, "<rect data-s=\"%c\" class=\"c-%s\" data-n=\"%" PRIu64
				"\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\"/>",
				k ? 'c' : 'p', ct_cell_names[st], c->n[k][st], x,
				y + k * (d->row + 1) + top, w * d->slot - 1, bottom - top);
			d->t->pages[k][st] += c->n[k][st];
		}
	}
	fputs("</g>", d->svg);
	for (int k = 0; k < 2; k++) {
		text[k][0] = 0;
		if (side[k])
			describe_side(side[k], c, k, text[k], sizeof(text[k]));
	}
	snprintf(addr, sizeof(addr), "%#" PRIx64, (uint64_t)c->start);
	json_array(&d->recs);
	json_string(&d->recs, addr);
	json_uint(&d->recs, pages);
	json_string(&d->recs, text[0]);
	json_string(&d->recs, text[1]);
	json_end_array(&d->recs);
	d->nr_recs++;
}

static const char style[] =
	"body{font:13px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222}\n"
	"h1{font-size:20px}h2{font-size:16px;margin:24px 0 4px}\n"
	".band{margin:10px 0}.lbl{font:12px monospace;color:#333}\n"
	".lbl span{color:#777}svg{display:block;margin-top:2px}\n"
	".side{font:11px monospace;color:#777;float:left;width:44px}\n"
	".gap rect{fill:url(#hatch);stroke:#bbb}.gap text{font:8px monospace;fill:#555}\n"
	"rect.c-shared,.sw.c-shared{fill:#4e79a7;background:#4e79a7}\n"
	"rect.c-shared-mapping,.sw.c-shared-mapping{fill:#76b7b2;background:#76b7b2}\n"
	"rect.c-copied,.sw.c-copied{fill:#e15759;background:#e15759}\n"
	"rect.c-own,.sw.c-own{fill:#59a14f;background:#59a14f}\n"
	"rect.c-zero,.sw.c-zero{fill:#d8d8d8;background:#d8d8d8}\n"
	"rect.c-ksm,.sw.c-ksm{fill:#b07aa1;background:#b07aa1}\n"
	"rect.c-thp,.sw.c-thp{fill:#f28e2b;background:#f28e2b}\n"
	"rect.c-swap,.sw.c-swap{fill:#9c755f;background:#9c755f}\n"
	"rect.c-absent,.sw.c-absent{fill:#fff;stroke:#ccc;background:#fff}\n"
	"[data-r]:hover rect{stroke:#000}\n"
	"#legend{columns:2;column-gap:24px;font-size:12px}#legend p{column-span:all}\n"
	".sw{display:inline-block;width:12px;height:12px;border:1px solid #999;vertical-align:middle}\n"
	"table{border-collapse:collapse;margin:6px 0}td,th{padding:1px 10px;text-align:right}\n"
	"td:first-child,th:first-child{text-align:left}tr:nth-child(even){background:#f4f4f4}\n"
	"table.text td,table.text th{text-align:left;vertical-align:top;max-width:520px}\n"
	"#info{position:fixed;right:12px;bottom:12px;max-width:560px;background:#fffff0;\n"
	" border:1px solid #999;padding:6px 10px;font:12px monospace;white-space:pre-wrap;\n"
	" box-shadow:2px 2px 6px #0003}#info.pinned{border:2px solid #e15759}\n"
	"#nav{position:sticky;top:0;background:#fff;padding:4px 0;border-bottom:1px solid #ddd}\n"
	"#nav button{margin-right:6px}\n";

/*
 * Hover shows a cell's records, click pins them.  Maps page with buttons or
 * arrow keys; #map=N opens map N, #all shows every map at once.
 */
static const char script[] =
	"(function(){\n"
	"var info=document.getElementById('info'),pinned=false,cache={};\n"
	"function recs(m){if(!cache[m])cache[m]=JSON.parse(document.getElementById('r-'+m).textContent);return cache[m];}\n"
	"function show(t){var s=t.closest('section'),r=recs(s.dataset.map)[t.dataset.r];\n"
	" info.textContent=r[0]+' ('+r[1]+(r[1]>1?' pages':' page')+')\\nparent: '+(r[2]||'-')+\n"
	"  (s.dataset.child==='1'?'\\nchild:  '+(r[3]||'-'):'');}\n"
	"document.addEventListener('mouseover',function(e){var t=e.target.closest&&e.target.closest('[data-r]');if(t&&!pinned)show(t);});\n"
	"document.addEventListener('click',function(e){var t=e.target.closest('[data-r]');\n"
	" if(t){pinned=true;info.classList.add('pinned');show(t);}else if(!e.target.closest('#info')){pinned=false;info.classList.remove('pinned');}});\n"
	"var maps=document.querySelectorAll('section.map'),cur=0,nav=document.getElementById('nav');\n"
	"function go(i){cur=Math.max(0,Math.min(maps.length-1,i));\n"
	" maps.forEach(function(m,k){m.style.display=k===cur?'':'none';});\n"
	" nav.querySelector('span').textContent=' map '+(cur+1)+' of '+maps.length+' ';}\n"
	"if(maps.length>1){nav.style.display='';\n"
	" nav.querySelector('.prev').onclick=function(){go(cur-1);};\n"
	" nav.querySelector('.next').onclick=function(){go(cur+1);};\n"
	" nav.querySelector('.all').onclick=function(){maps.forEach(function(m){m.style.display='';});};\n"
	" document.addEventListener('keydown',function(e){if(e.key==='ArrowLeft')go(cur-1);if(e.key==='ArrowRight')go(cur+1);});\n"
	" var h=/^#map=(\\d+)$/.exec(location.hash);go(h?h[1]-1:0);\n"
	" if(location.hash==='#all')maps.forEach(function(m){m.style.display='';});}\n"
	"document.body.dataset.ready='1';\n"
	"})();\n";

int ct_html_open(struct ct_html *h, const char *path, const char *title,
		 struct ct_error *err)
{
	h->nr_maps = 0;
	h->f = fopen(path, "w");
	if (!h->f) {
		ct_set_error(err, errno, "cannot write the report %s: %s", path, strerror(errno));
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", h->f);
	html_text(h->f, title);
	fprintf(h->f, "</title>\n<style>\n%s</style></head>\n<body>\n<h1>", style);
	html_text(h->f, title);
	fputs("</h1>\n<svg width=\"0\" height=\"0\"><defs><pattern id=\"hatch\" width=\"4\" height=\"4\" "
	      "patternUnits=\"userSpaceOnUse\"><path d=\"M0,4 L4,0\" stroke=\"#bbb\"/></pattern></defs></svg>\n"
	      "<div id=\"legend\">", h->f);
	for (int st = 0; st < CT_NR_CELLS; st++) {
		fprintf(h->f, "<div><span class=\"sw c-%s\"></span> <b>%s</b>: ",
			ct_cell_names[st], ct_cell_names[st]);
		html_text(h->f, cell_help[st]);
		fputs("</div>\n", h->f);
	}
	fputs("<div><span class=\"sw\" style=\"background:repeating-linear-gradient(45deg,#fff 0 2px,#bbb 2px 3px)\">"
	      "</span> <b>gap</b>: an unpopulated stretch of the VMA, compressed; its size is labelled</div>\n"
	      "<p>Each band is a VMA: the parent's pages on top, the child's below.  A lone cell is one "
	      "page; a wider one a run or block of pages, split by state.  Hover a cell to see its "
	      "records; click to pin them.</p></div>\n"
	      "<div id=\"nav\" style=\"display:none\"><button class=\"prev\">&larr; previous</button>"
	      "<button class=\"next\">next &rarr;</button><button class=\"all\">show all</button><span></span></div>\n",
	      h->f);
	return 0;
}

/* States across, parent and child down; states neither side has are left out. */
static void write_totals(FILE *f, const struct ct_map_totals *t, int sides)
{
	static const char *const who[2] = { "parent", "child" };
	uint64_t sum[2] = { 0, 0 };
	char sz[16];

	fputs("<table class=\"totals\"><tr><th>pages</th>", f);
	for (int st = 0; st < CT_NR_CELLS; st++)
		if (t->pages[0][st] || t->pages[1][st])
			fprintf(f, "<th><span class=\"sw c-%s\"></span> %s</th>", ct_cell_names[st],
				ct_cell_names[st]);
	fputs("<th>mapped</th></tr>\n", f);
	for (int k = 0; k < sides; k++) {
		fprintf(f, "<tr><td>%s</td>", who[k]);
		for (int st = 0; st < CT_NR_CELLS; st++) {
			if (!t->pages[0][st] && !t->pages[1][st])
				continue;
			fprintf(f, "<td data-s=\"%c\" data-state=\"%s\">%" PRIu64 "</td>", k ? 'c' : 'p',
				ct_cell_names[st], t->pages[k][st]);
			sum[k] += st == CT_CELL_ABSENT ? 0 : t->pages[k][st];
		}
		fprintf(f, "<td>%" PRIu64 " (%s)</td></tr>\n", sum[k],
			ct_human_bytes(sum[k] * PG, sz, sizeof(sz)));
	}
	fputs("</table>\n", f);
}

void ct_html_map(struct ct_html *h, const struct ct_html_map *m)
{
	struct bands bs = { 0 };
	struct ct_map_totals t = { 0 };
	struct drawing d = { .m = m, .sides = m->child ? 2 : 1, .t = &t };
	char *body = NULL, *recs = NULL, name[96];
	size_t body_len = 0, recs_len = 0;
	enum cell_mode mode;
	uint64_t block;
	int small;
	FILE *out, *recs_f;

	collect_bands(m, &bs);
	mode = choose_mode(m, &bs, &block);
	/* a handful of pages (a scenario step) drawn large, thousands small */
	small = count_cells(m, &bs, mode, block) <= SMALL_MAP;
	d.slot = small ? 18 : 7;
	d.row = small ? 18 : 12;
	out = open_memstream(&body, &body_len);
	recs_f = open_memstream(&recs, &recs_len);
	if (!out || !recs_f)
		abort();
	json_init(&d.recs, recs_f);
	json_array(&d.recs);
	for (size_t i = 0; i < bs.n; i++) {
		const struct band *b = &bs.b[i];
		char *svg = NULL, range[16];
		size_t svg_len = 0;

		d.svg = open_memstream(&svg, &svg_len);
		if (!d.svg)
			abort();
		d.x = d.line = 0;
		walk_band(m, b, mode, block, draw_cell, &d);
		fclose(d.svg);
		if (!svg_len) {	/* nothing populated: say so, draw nothing */
			free(svg);
			continue;
		}
		fputs("<div class=\"band\"><div class=\"lbl\">", out);
		html_text(out, b->v ? ct_vma_label(b->s, b->v, name, sizeof(name)) : "?");
		fprintf(out, " <span>%#" PRIx64 "-%#" PRIx64 " (%s)</span></div>", (uint64_t)b->start,
			(uint64_t)b->end, ct_human_bytes(b->end - b->start, range, sizeof(range)));
		fprintf(out, "<div class=\"side\" style=\"line-height:%upx\">parent%s</div>",
			d.row + 1, m->child ? "<br>child" : "");
		fprintf(out, "<svg width=\"%u\" height=\"%u\">%s</svg></div>\n",
			d.line ? LINE_PX : d.x * d.slot, (d.line + 1) * line_height(&d), svg);
		free(svg);
	}
	json_end_array(&d.recs);
	fclose(out);
	fclose(recs_f);

	fprintf(h->f, "<section class=\"map\" data-map=\"%d\" data-child=\"%d\"><h2>", h->nr_maps,
		!!m->child);
	html_text(h->f, m->heading);
	fputs("</h2>\n", h->f);
	if (m->caption && *m->caption) {
		fputs("<p>", h->f);
		html_text(h->f, m->caption);
		fputs("</p>\n", h->f);
	}
	fprintf(h->f, "<p class=\"pids\">parent %u (%s)", m->parent->pid, m->parent->mm.comm);
	if (m->child)
		fprintf(h->f, ", child %u (%s)", m->child->pid, m->child->mm.comm);
	fprintf(h->f, "; %s</p>\n",
		mode == ONE_PER_PAGE ? "one cell per page" :
		mode == RUNS ? "runs of like pages merged into one cell" :
			       "pages grouped into aligned blocks, each cell split by state");
	write_totals(h->f, &t, d.sides);
	fwrite(body, 1, body_len, h->f);
	fprintf(h->f, "<script type=\"application/json\" id=\"r-%d\">", h->nr_maps);
	fwrite(recs, 1, recs_len, h->f);
	fputs("</script>\n</section>\n", h->f);
	free(body);
	free(recs);
	free(bs.b);
	h->nr_maps++;
}

void ct_html_table(struct ct_html *h, const char *heading, const char *intro,
		   const char *const *cols, size_t ncols, const char *const *cells, size_t nrows)
{
	fputs("<section class=\"text\"><h2>", h->f);
	html_text(h->f, heading);
	fputs("</h2>\n", h->f);
	if (intro) {
		fputs("<p>", h->f);
		html_text(h->f, intro);
		fputs("</p>\n", h->f);
	}
	fputs("<table class=\"text\"><tr>", h->f);
	for (size_t c = 0; c < ncols; c++) {
		fputs("<th>", h->f);
		html_text(h->f, cols[c]);
		fputs("</th>", h->f);
	}
	fputs("</tr>\n", h->f);
	for (size_t r = 0; r < nrows; r++) {
		fputs("<tr>", h->f);
		for (size_t c = 0; c < ncols; c++) {
			fputs(c ? "<td>" : "<th>", h->f);
			html_text(h->f, cells[r * ncols + c]);
			fputs(c ? "</td>" : "</th>", h->f);
		}
		fputs("</tr>\n", h->f);
	}
	fputs("</table></section>\n", h->f);
}

int ct_html_close(struct ct_html *h, struct ct_error *err)
{
	int bad;

	fprintf(h->f, "<div id=\"info\">hover a page</div>\n<script>\n%s</script>\n</body></html>\n",
		script);
	bad = ferror(h->f);
	if (fclose(h->f) || bad) {
		ct_set_error(err, EIO, "writing the report failed");
		return -1;
	}
	return 0;
}

void ct_html_discard(struct ct_html *h, const char *path)
{
	fclose(h->f);
	unlink(path);
}

/* ---- the same totals, counted plainly (for --json and the tests) ---- */

struct count_ctx {
	const struct ct_html_map *m;
	struct ct_map_totals *t;
};

static int wanted(const struct ct_html_map *m, uint64_t addr)
{
	if (!m->nr_only)
		return 1;
	for (size_t r = 0; r < m->nr_only; r++)
		if (addr >= m->only[r].start && addr < m->only[r].end)
			return 1;
	return 0;
}

static void count_pair(const struct cowtrace_page *p, const struct cowtrace_page *c,
		       void *arg)
{
	struct count_ctx *x = arg;
	uint64_t addr = (p ? p : c)->addr;
	const struct cowtrace_page *o;

	if (!wanted(x->m, addr))
		return;
	o = x->m->origin ? ct_find_page(x->m->origin, addr) : NULL;
	if (p || x->m->child)
		x->t->pages[0][ct_classify_cell(p, c, o)]++;
	if (x->m->child)
		x->t->pages[1][ct_classify_cell(c, p, o)]++;
}

void ct_map_count(const struct ct_html_map *m, struct ct_map_totals *t)
{
	struct count_ctx x = { m, t };
	struct ct_snapshot none = { 0 };

	memset(t, 0, sizeof(*t));
	ct_pair_pages(m->parent, m->child ? m->child : &none, count_pair, &x);
}

void ct_json_map_totals(struct json *j, const struct ct_map_totals *t)
{
	static const char *const side[2] = { "parent", "child" };

	for (int k = 0; k < 2; k++) {
		json_key(j, side[k]);
		json_object(j);
		for (int st = 0; st < CT_NR_CELLS; st++)
			json_kuint(j, ct_cell_names[st], t->pages[k][st]);
		json_end_object(j);
	}
}
