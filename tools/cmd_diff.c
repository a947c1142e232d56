// SPDX-License-Identifier: GPL-2.0
/* cowtrace diff, compare and watch. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "cli.h"
#include "report_html.h"
#include "reserve.h"
#include "snapfile.h"

static const char diff_help[] =
	"usage: cowtrace diff A B [--pages] [--json]\n"
	"\n"
	"What happened to each page of one process between snapshot A (before)\n"
	"and B (after); each is a snapshot file or a live PID.  Classes:\n"
	"unchanged, cow-copied, reused, write-protected, faulted, unmapped,\n"
	"swapped-out, swapped-in, ksm-merged, ksm-broken, zero-replaced,\n"
	"thp-collapsed, thp-split, migrated, shared-more, shared-less, other.\n"
	"  --pages   list every page that changed\n";

static const char compare_help[] =
	"usage: cowtrace compare PARENT CHILD [--pages] [--json] [--freeze] [--html FILE]\n"
	"\n"
	"The fork view: per VMA and in total, the pages PARENT and CHILD still\n"
	"share (same PFN at the same address), the pages that diverged (one side\n"
	"copied), and the pages only one side has.  Files or live PIDs.\n"
	"  --pages   list every page that is not shared\n"
	"  --freeze  stop live processes while they are read\n"
	"  --html F  also write the map of both to F: a self-contained HTML page\n";

static const char watch_help[] =
	"usage: cowtrace watch PARENT CHILD [--interval S] [--count N] [--json]\n"
	"\n"
	"Print the compare totals of two live processes every S seconds (default 1)\n"
	"until either exits, or N times.  --json prints one object per line.\n";

_Static_assert((int)CT_NR_CHANGES >= (int)CT_NR_RELATIONS, "group counts hold both");

/* Pages grouped by the VMA they fall in (from B, else from A). */
struct group {
	const struct ct_snapshot *s;
	const struct cowtrace_vma *v;
	uint64_t counts[CT_NR_CHANGES];	/* by ct_change (diff) or ct_relation */
	uint64_t writable_a, writable_b, anon_diverged;
};

struct grouping {
	struct group *g;
	size_t n, cap;
	struct group total;
	const struct ct_snapshot *a, *b;
	size_t last;		/* index + 1 of the last group found, 0: none */
};

static struct group *group_for(struct grouping *gr, uint64_t addr)
{
	const struct cowtrace_vma *v;
	const struct ct_snapshot *s = gr->b;

	/* pages come in address order: mostly still in the last one's VMA */
	if (gr->last) {
		struct group *g = &gr->g[gr->last - 1];

		if (g->s == gr->b && g->v && addr >= g->v->start && addr < g->v->end)
			return g;
	}
	v = ct_find_vma(gr->b, addr);

	if (!v) {
		v = ct_find_vma(gr->a, addr);
		s = gr->a;
	}
	for (size_t i = gr->n; i-- > 0;)
		if (gr->g[i].v == v) {
			gr->last = i + 1;
			return &gr->g[i];
		}
	if (ct_reserve((void **)&gr->g, &gr->cap, gr->n + 1, sizeof(*gr->g)))
		abort();
	memset(&gr->g[gr->n], 0, sizeof(gr->g[0]));
	gr->g[gr->n].s = s;
	gr->g[gr->n].v = v;
	gr->last = gr->n + 1;
	return &gr->g[gr->n++];
}

static const char *group_name(const struct group *g, char *buf, size_t len)
{
	if (!g->v)
		return "(outside any VMA)";
	return ct_vma_label(g->s, g->v, buf, len);
}

/* ---- diff ---- */

struct diff_ctx {
	struct grouping gr;
	int list;
	struct json *j;
};

static void print_changed_page(const struct cowtrace_page *a,
			       const struct cowtrace_page *b, enum ct_change c)
{
	char fa[96], fb[96];
	const struct cowtrace_page *r = b ? b : a;

	printf("  %012" PRIx64 " %-15s", (uint64_t)r->addr, ct_change_names[c]);
	if (a)
		printf(" pfn %#" PRIx64 "%s map %u [%s]", (uint64_t)a->pfn,
		       a->flags & COWTRACE_PTE_WRITE ? " w" : " ro", a->mapcount,
		       ct_page_flag_names(a->flags, fa, sizeof(fa)));
	else
		printf(" (none)");
	if (b)
		printf(" -> pfn %#" PRIx64 "%s map %u [%s]\n", (uint64_t)b->pfn,
		       b->flags & COWTRACE_PTE_WRITE ? " w" : " ro", b->mapcount,
		       ct_page_flag_names(b->flags, fb, sizeof(fb)));
	else
		printf(" -> (none)\n");
}

static void json_side(struct json *j, const char *key, const struct ct_snapshot *s,
		      const struct cowtrace_page *r)
{
	json_key(j, key);
	if (r)
		ct_json_page(j, s, r);
	else
		json_null(j);
}

static void diff_one(const struct cowtrace_page *a, const struct cowtrace_page *b,
		     void *arg)
{
	struct diff_ctx *d = arg;
	enum ct_change c = ct_classify_change(a, b);
	struct group *g = group_for(&d->gr, (b ? b : a)->addr);

	g->counts[c]++;
	d->gr.total.counts[c]++;
	if (!d->list || c == CT_UNCHANGED)
		return;
	if (d->j) {
		json_object(d->j);
		json_kuint(d->j, "addr", (b ? b : a)->addr);
		json_kstr(d->j, "class", ct_change_names[c]);
		json_side(d->j, "before", d->gr.a, a);
		json_side(d->j, "after", d->gr.b, b);
		json_end_object(d->j);
	} else {
		print_changed_page(a, b, c);
	}
}

static void json_counts(struct json *j, const uint64_t *counts, int n,
			const char *const *names, uint32_t page_size)
{
	for (int c = 0; c < n; c++) {
		json_key(j, names[c]);
		json_object(j);
		json_kuint(j, "pages", counts[c]);
		json_kuint(j, "bytes", counts[c] * page_size);
		json_end_object(j);
	}
}

static void print_counts(const uint64_t *counts, int n, const char *const *names,
			 uint32_t page_size, int skip_first)
{
	char sz[16];

	for (int c = skip_first; c < n; c++)
		if (counts[c])
			printf("    %-15s %8" PRIu64 " pages %10s\n", names[c], counts[c],
			       ct_human_bytes(counts[c] * page_size, sz, sizeof(sz)));
}

struct file_load {
	const char *path;
	struct ct_snapshot *s;
	struct ct_error err;
	int ret;
};

static void *load_file(void *arg)
{
	struct file_load *l = arg;

	l->ret = ct_file_load(l->path, l->s, &l->err);
	return NULL;
}

/*
 * Two snapshot files decode on two threads: decoding is most of a diff's
 * time, and the files are independent.  Live PIDs are taken one by one, as
 * --freeze and the module's one-call-at-a-time locking expect.
 */
static int load_two(const char *pa, const char *pb, const struct ct_take_opts *o,
		    struct ct_snapshot *a, struct ct_snapshot *b)
{
	struct file_load la = { .path = pa, .s = a }, lb = { .path = pb, .s = b };
	pthread_t th;
	int ret;

	if (ct_is_pid(pa) || ct_is_pid(pb) || pthread_create(&th, NULL, load_file, &lb)) {
		ret = ct_load(pa, o, a);
		if (ret)
			return ret;
		ret = ct_load(pb, o, b);
		if (ret)
			ct_snapshot_free(a);
		return ret;
	}
	load_file(&la);
	pthread_join(th, NULL);
	if (la.ret || lb.ret) {
		if (!la.ret)
			ct_snapshot_free(a);
		if (!lb.ret)
			ct_snapshot_free(b);
		return ct_err(EXIT_RUNTIME, "%s", la.ret ? la.err.msg : lb.err.msg);
	}
	return 0;
}

static int two_sources(const char *cmd, int argc, char **argv,
		       const struct ct_take_opts *o, struct ct_snapshot *a,
		       struct ct_snapshot *b)
{
	int ret;

	if (optind != argc - 2)
		return ct_usage(cmd, "expected two snapshots (files or PIDs)");
	ret = load_two(argv[optind], argv[optind + 1], o, a, b);
	if (ret)
		return ret;
	if (a->page_size != b->page_size) {
		ct_snapshot_free(a);
		ct_snapshot_free(b);
		return ct_err(EXIT_RUNTIME, "the snapshots have different page sizes");
	}
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pages", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct diff_ctx d = { 0 };
	struct ct_take_opts o;
	struct ct_snapshot a, b;
	struct json j;
	int json = 0, c, ret;
	char name[64];

	ct_take_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': d.list = 1; break;
		case 'j': json = 1; break;
		case 'h': fputs(diff_help, stdout); return EXIT_OK;
		default: return ct_usage("diff", "bad option");
		}
	}
	ret = two_sources("diff", argc, argv, &o, &a, &b);
	if (ret)
		return ret;
	if (a.pid != b.pid)
		fprintf(stderr, "cowtrace: note: diffing two different processes (%u, %u); "
			"'cowtrace compare' is the parent/child view\n", a.pid, b.pid);
	d.gr.a = &a;
	d.gr.b = &b;
	if (json) {
		json_init(&j, stdout);
		d.j = &j;
		json_object(&j);
		json_kuint(&j, "cowtrace", 1);
		json_kstr(&j, "kind", "diff");
		json_kuint(&j, "pid_before", a.pid);
		json_kuint(&j, "pid_after", b.pid);
		json_key(&j, "pages");
		json_array(&j);
	} else {
		printf("diff: pid %u (%s) -> pid %u (%s), %.3f s apart\n", a.pid, a.mm.comm,
		       b.pid, b.mm.comm, (double)(b.time_ns - a.time_ns) / 1e9);
		if (d.list)
			printf("\nchanged pages:\n");
	}
	ct_pair_pages(&a, &b, diff_one, &d);
	if (json) {
		json_end_array(&j);
		json_key(&j, "totals");
		json_object(&j);
		json_counts(&j, d.gr.total.counts, CT_NR_CHANGES, ct_change_names, a.page_size);
		json_end_object(&j);
		json_key(&j, "vmas");
		json_array(&j);
		for (size_t i = 0; i < d.gr.n; i++) {
			struct group *g = &d.gr.g[i];

			json_object(&j);
			json_kuint(&j, "start", g->v ? g->v->start : 0);
			json_kuint(&j, "end", g->v ? g->v->end : 0);
			json_kstr(&j, "name", group_name(g, name, sizeof(name)));
			json_key(&j, "classes");
			json_object(&j);
			json_counts(&j, g->counts, CT_NR_CHANGES, ct_change_names, a.page_size);
			json_end_object(&j);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
	} else {
		printf("\nper VMA (unchanged pages not listed):\n");
		for (size_t i = 0; i < d.gr.n; i++) {
			struct group *g = &d.gr.g[i];
			uint64_t changed = 0;

			for (int k = 1; k < CT_NR_CHANGES; k++)
				changed += g->counts[k];
			if (!changed)
				continue;
			printf("  %012" PRIx64 "-%012" PRIx64 " %s\n",
			       (uint64_t)(g->v ? g->v->start : 0),
			       (uint64_t)(g->v ? g->v->end : 0), group_name(g, name, sizeof(name)));
			print_counts(g->counts, CT_NR_CHANGES, ct_change_names, a.page_size, 1);
		}
		printf("\ntotal:\n");
		print_counts(d.gr.total.counts, CT_NR_CHANGES, ct_change_names, a.page_size, 0);
	}
	free(d.gr.g);
	ct_snapshot_free(&a);
	ct_snapshot_free(&b);
	return EXIT_OK;
}

/* ---- compare ---- */

struct compare_ctx {
	struct grouping gr;	/* a = parent, b = child */
	int list;
	struct json *j;
};

static void compare_one(const struct cowtrace_page *p, const struct cowtrace_page *c,
			void *arg)
{
	struct compare_ctx *x = arg;
	enum ct_relation rel = ct_classify_relation(p, c);
	struct group *g = group_for(&x->gr, (c ? c : p)->addr);
	struct group *groups[] = { g, &x->gr.total };

	for (int i = 0; i < 2; i++) {
		groups[i]->counts[rel]++;
		if (rel == CT_SHARED) {
			groups[i]->writable_a += !!(p->flags & COWTRACE_PTE_WRITE);
			groups[i]->writable_b += !!(c->flags & COWTRACE_PTE_WRITE);
		}
		if (rel == CT_DIVERGED && (p->flags & c->flags & COWTRACE_PG_ANON))
			groups[i]->anon_diverged++;
	}
	if (!x->list || rel == CT_SHARED)
		return;
	if (x->j) {
		json_object(x->j);
		json_kuint(x->j, "addr", (c ? c : p)->addr);
		json_kstr(x->j, "relation", ct_relation_names[rel]);
		json_side(x->j, "parent", x->gr.a, p);
		json_side(x->j, "child", x->gr.b, c);
		json_end_object(x->j);
	} else {
		printf("  %012" PRIx64 " %-11s parent %s%#" PRIx64 "  child %s%#" PRIx64 "\n",
		       (uint64_t)(c ? c : p)->addr, ct_relation_names[rel],
		       p ? "pfn " : "", (uint64_t)(p ? p->pfn : 0), c ? "pfn " : "",
		       (uint64_t)(c ? c->pfn : 0));
	}
}

static uint64_t group_total(const struct group *g)
{
	uint64_t n = 0;

	for (int r = 0; r < CT_NR_RELATIONS; r++)
		n += g->counts[r];
	return n;
}

static void json_compare_totals(struct json *j, const struct group *g, uint32_t ps)
{
	uint64_t all = group_total(g);

	for (int r = 0; r < CT_NR_RELATIONS; r++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_pages", ct_relation_names[r]);
		json_kuint(j, key, g->counts[r]);
		snprintf(key, sizeof(key), "%s_bytes", ct_relation_names[r]);
		json_kuint(j, key, g->counts[r] * ps);
		snprintf(key, sizeof(key), "%s_percent", ct_relation_names[r]);
		json_key(j, key);
		json_double(j, all ? 100.0 * (double)g->counts[r] / (double)all : 0.0);
	}
	json_kuint(j, "copied_anon_pages", g->anon_diverged);
	json_kuint(j, "parent_writable_shared_pages", g->writable_a);
	json_kuint(j, "child_writable_shared_pages", g->writable_b);
}

static void print_compare_row(const char *label, const struct group *g, uint32_t ps)
{
	uint64_t all = group_total(g);
	char cell[CT_NR_RELATIONS][40];

	for (int r = 0; r < CT_NR_RELATIONS; r++) {
		char sz[16], pct[16];

		snprintf(cell[r], sizeof(cell[r]), "%s %s",
			 ct_human_bytes(g->counts[r] * ps, sz, sizeof(sz)),
			 ct_percent(g->counts[r], all, pct, sizeof(pct)));
	}
	printf("%18s %18s %18s %18s  %s\n", cell[0], cell[1], cell[2], cell[3], label);
}

static int compare_once(struct ct_snapshot *a, struct ct_snapshot *b, int json,
			int list)
{
	struct ct_html_map map = { .parent = a, .child = b };
	struct ct_map_totals mt;
	struct compare_ctx x = { 0 };
	struct json j;
	char name[64], sz[16];

	x.gr.a = a;
	x.gr.b = b;
	x.list = list;
	if (json) {
		json_init(&j, stdout);
		x.j = &j;
		json_object(&j);
		json_kuint(&j, "cowtrace", 1);
		json_kstr(&j, "kind", "compare");
		json_kuint(&j, "parent", a->pid);
		json_kuint(&j, "child", b->pid);
		json_kuint(&j, "page_size", a->page_size);
		json_key(&j, "pages");
		json_array(&j);
	} else if (list) {
		printf("pages not shared:\n");
	}
	ct_pair_pages(a, b, compare_one, &x);
	if (json) {
		json_end_array(&j);
		json_key(&j, "totals");
		json_object(&j);
		json_compare_totals(&j, &x.gr.total, a->page_size);
		json_end_object(&j);
		/* the HTML map's states, page by page, as --html draws them */
		ct_map_count(&map, &mt);
		json_key(&j, "map");
		json_object(&j);
		ct_json_map_totals(&j, &mt);
		json_end_object(&j);
		json_key(&j, "vmas");
		json_array(&j);
		for (size_t i = 0; i < x.gr.n; i++) {
			json_object(&j);
			json_kuint(&j, "start", x.gr.g[i].v ? x.gr.g[i].v->start : 0);
			json_kuint(&j, "end", x.gr.g[i].v ? x.gr.g[i].v->end : 0);
			json_kstr(&j, "name", group_name(&x.gr.g[i], name, sizeof(name)));
			json_compare_totals(&j, &x.gr.g[i], a->page_size);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
	} else {
		printf("%scompare: parent %u (%s) and child %u (%s)\n\n", list ? "\n" : "",
		       a->pid, a->mm.comm, b->pid, b->mm.comm);
		printf("%18s %18s %18s %18s  %s\n", "SHARED", "DIVERGED", "PARENT-ONLY",
		       "CHILD-ONLY", "VMA");
		for (size_t i = 0; i < x.gr.n; i++)
			print_compare_row(group_name(&x.gr.g[i], name, sizeof(name)),
					  &x.gr.g[i], a->page_size);
		print_compare_row("TOTAL", &x.gr.total, a->page_size);
		printf("\ncopied by COW: %" PRIu64 " anonymous pages (%s)\n",
		       x.gr.total.anon_diverged,
		       ct_human_bytes(x.gr.total.anon_diverged * a->page_size, sz, sizeof(sz)));
		printf("shared pages writable: %" PRIu64 " in the parent, %" PRIu64
		       " in the child (COW pages are read-only on both sides)\n",
		       x.gr.total.writable_a, x.gr.total.writable_b);
	}
	free(x.gr.g);
	return EXIT_OK;
}

/* The map of both into an opened report, then close it. */
static int compare_html(struct ct_html *h, const char *path, const struct ct_snapshot *a,
			const struct ct_snapshot *b)
{
	char heading[160];
	struct ct_html_map map = { .heading = heading, .parent = a, .child = b };
	struct ct_error err;

	snprintf(heading, sizeof(heading), "parent %u (%s) and child %u (%s), every VMA (kernel %s)",
		 a->pid, a->mm.comm, b->pid, b->mm.comm, a->kernel);
	map.caption = "A plain compare cannot tell which side of a diverged page copied and "
		      "which reused the original, so both are drawn as copied; cowtrace run "
		      "knows the page at fork and tells them apart.";
	ct_html_map(h, &map);
	if (ct_html_close(h, &err))
		return ct_err(EXIT_RUNTIME, "%s: %s", path, err.msg);
	return EXIT_OK;
}

int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pages", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "freeze", no_argument, NULL, 'f' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ct_take_opts o;
	struct ct_snapshot a, b;
	const char *html = NULL;
	struct ct_error err;
	struct ct_html h;
	int json = 0, list = 0, c, ret;

	ct_take_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': list = 1; break;
		case 'j': json = 1; break;
		case 'f': o.freeze = 1; break;
		case 'H': html = optarg; break;
		case 'h': fputs(compare_help, stdout); return EXIT_OK;
		default: return ct_usage("compare", "bad option");
		}
	}
	/* an unwritable report fails before any work */
	if (html && ct_html_open(&h, html, "cowtrace compare", &err))
		return ct_err(EXIT_RUNTIME, "%s", err.msg);
	ret = two_sources("compare", argc, argv, &o, &a, &b);
	if (ret) {
		if (html)
			ct_html_discard(&h, html);
		return ret;
	}
	ret = compare_once(&a, &b, json, list);
	if (html && ret)
		ct_html_discard(&h, html);
	else if (html)
		ret = compare_html(&h, html, &a, &b);
	ct_snapshot_free(&a);
	ct_snapshot_free(&b);
	return ret;
}

/* ---- watch ---- */

static void count_relation(const struct cowtrace_page *p, const struct cowtrace_page *c,
			   void *arg)
{
	struct group *g = arg;
	enum ct_relation rel = ct_classify_relation(p, c);

	g->counts[rel]++;
	if (rel == CT_DIVERGED && (p->flags & c->flags & COWTRACE_PG_ANON))
		g->anon_diverged++;
}

static volatile sig_atomic_t watch_stop;

static void on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	double interval = 1.0;
	long count = -1, n = 0;
	struct ct_take_opts o;
	int json = 0, c;
	pid_t pp, cp;
	struct timespec t0, now;
	char *end;

	ct_take_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || interval < 0.01 || interval > 3600)
				return ct_usage("watch", "bad interval '%s': seconds, 0.01 to 3600", optarg);
			break;
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1)
				return ct_usage("watch", "bad count '%s'", optarg);
			break;
		case 'j': json = 1; break;
		case 'h': fputs(watch_help, stdout); return EXIT_OK;
		default: return ct_usage("watch", "bad option");
		}
	}
	if (optind != argc - 2 || !ct_is_pid(argv[optind]) || !ct_is_pid(argv[optind + 1]))
		return ct_usage("watch", "expected two live PIDs");
	pp = atoi(argv[optind]);
	cp = atoi(argv[optind + 1]);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!json)
		printf("%8s %12s %12s %12s %12s %12s\n", "TIME", "SHARED", "DIVERGED",
		       "PARENT-ONLY", "CHILD-ONLY", "COPIED");
	while (!watch_stop && (count < 0 || n < count)) {
		struct ct_snapshot a, b;
		struct ct_error err;
		struct group g = { 0 };
		double t;

		if (ct_take(pp, &o, &a, &err) || ct_take(cp, &o, &b, &err)) {
			if (err.code == ESRCH) {
				if (!json)
					printf("a process exited: %s\n", err.msg);
				return EXIT_OK;
			}
			return ct_err(EXIT_RUNTIME, "%s", err.msg);
		}
		ct_pair_pages(&a, &b, count_relation, &g);
		clock_gettime(CLOCK_MONOTONIC, &now);
		t = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
		if (json) {
			struct json j;

			json_init(&j, stdout);
			json_object(&j);
			json_kstr(&j, "kind", "watch");
			json_key(&j, "time");
			json_double(&j, t);
			for (int r = 0; r < CT_NR_RELATIONS; r++) {
				char key[32];

				snprintf(key, sizeof(key), "%s_pages", ct_relation_names[r]);
				json_kuint(&j, key, g.counts[r]);
			}
			json_kuint(&j, "copied_anon_pages", g.anon_diverged);
			json_end_object(&j);
		} else {
			char s[4][16], cp_[16];

			for (int r = 0; r < CT_NR_RELATIONS; r++)
				ct_human_bytes(g.counts[r] * a.page_size, s[r], sizeof(s[r]));
			printf("%7.1fs %12s %12s %12s %12s %12s\n", t, s[0], s[1], s[2], s[3],
			       ct_human_bytes(g.anon_diverged * a.page_size, cp_, sizeof(cp_)));
		}
		fflush(stdout);
		ct_snapshot_free(&a);
		ct_snapshot_free(&b);
		if (++n != count)
			usleep((useconds_t)(interval * 1e6));
	}
	return EXIT_OK;
}
