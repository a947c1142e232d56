// SPDX-License-Identifier: GPL-2.0
/* cowtrace snap and cowtrace show. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "snapfile.h"

static const char snap_help[] =
	"usage: cowtrace snap PID [-o FILE] [--json] [--range START-END]\n"
	"                         [--source auto|module|procfs] [--freeze]\n"
	"\n"
	"Take a snapshot of PID's mappings and populated pages.\n"
	"  -o, --output FILE   write the snapshot file (see docs/file-format.md)\n"
	"      --json          print it as JSON (to stdout, or to FILE with -o)\n"
	"      --range A-B     only [A, B), hex addresses\n"
	"      --source S      module (default when loaded) or procfs (no module;\n"
	"                      write/dirty/young/refcount then read as unavailable)\n"
	"      --freeze        SIGSTOP the target while it is read, for an exact picture\n"
	"Without -o or --json it prints what it captured.\n";

static const char show_help[] =
	"usage: cowtrace show FILE|PID [--vma SPEC] [--range START-END]\n"
	"                              [--only CLASS] [--no-pages] [--json]\n"
	"\n"
	"Print a per-VMA table and a per-page listing.\n"
	"  --vma SPEC    VMAs whose name contains SPEC, or the VMA holding address SPEC\n"
	"  --range A-B   pages in [A, B), hex\n"
	"  --only CLASS  shared|private|writable|ksm|thp|zero|swap\n"
	"  --no-pages    the VMA table only\n";

enum only { ONLY_ALL, ONLY_SHARED, ONLY_PRIVATE, ONLY_WRITABLE, ONLY_KSM,
	    ONLY_THP, ONLY_ZERO, ONLY_SWAP };

static int parse_only(const char *s, enum only *o)
{
	static const char *const names[] = { "", "shared", "private", "writable",
					     "ksm", "thp", "zero", "swap" };

	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*o = i;
			return 0;
		}
	return -1;
}

static int page_matches(const struct cowtrace_page *r, enum only o)
{
	uint32_t f = r->flags;

	switch (o) {
	case ONLY_SHARED:
		return (f & COWTRACE_PG_PAGE) && r->mapcount > 1;
	case ONLY_PRIVATE:
		return (f & COWTRACE_PG_PAGE) && r->mapcount <= 1;
	case ONLY_WRITABLE:
		return f & COWTRACE_PTE_WRITE;
	case ONLY_KSM:
		return f & COWTRACE_PG_KSM;
	case ONLY_THP:
		return f & COWTRACE_PG_THP;
	case ONLY_ZERO:
		return f & COWTRACE_PG_ZERO;
	case ONLY_SWAP:
		return f & COWTRACE_PTE_SWAP;
	default:
		return 1;
	}
}

static int vma_matches(const struct ct_snapshot *s, const struct cowtrace_vma *v,
		       const char *spec)
{
	char buf[64];
	uint64_t addr;
	char *end;

	if (!spec)
		return 1;
	addr = strtoull(spec, &end, 16);
	if (!*end && addr >= v->start && addr < v->end)
		return 1;
	return strstr(ct_vma_label(s, v, buf, sizeof(buf)), spec) != NULL;
}

struct vma_stats {
	uint64_t pages, resident, writable, shared, excl, zero, thp, swap;
};

static void vma_stats(const struct ct_snapshot *s, const struct cowtrace_vma *v,
		      struct vma_stats *st)
{
	size_t i = ct_first_page(s, v->start);

	memset(st, 0, sizeof(*st));
	for (; i < s->nr_pages && s->pages[i].addr < v->end; i++) {
		const struct cowtrace_page *r = &s->pages[i];

		st->pages++;
		st->resident += ct_page_is_resident(r);
		st->writable += !!(r->flags & COWTRACE_PTE_WRITE);
		st->shared += (r->flags & COWTRACE_PG_PAGE) && r->mapcount > 1;
		st->excl += !!(r->flags & COWTRACE_PG_ANON_EXCL);
		st->zero += !!(r->flags & COWTRACE_PG_ZERO);
		st->thp += !!(r->flags & COWTRACE_PG_THP);
		st->swap += !!(r->flags & COWTRACE_PTE_SWAP);
	}
}

static void print_header(const struct ct_snapshot *s)
{
	char when[32] = "?";
	time_t t = s->time_ns / 1000000000ull;
	struct tm tm;

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("pid %u (%s)  source %s  kernel %s  taken %s\n", s->pid,
	       s->mm.comm[0] ? s->mm.comm : "?",
	       s->source == CT_SOURCE_MODULE ? "module" : "procfs", s->kernel, when);
	if (s->source == CT_SOURCE_PROCFS)
		printf("(procfs source: write, dirty, young, refcount and folio mapcount are unavailable: '?')\n");
	if (s->unavailable & CT_UNAVAIL_PAGE_MAPCOUNT)
		printf("(this kernel counts no pages of a THP (CONFIG_NO_PAGE_MAPCOUNT): a THP page's MAP is its folio's average, '~')\n");
}

/*
 * A live target other than ourselves shares file pages with this cowtrace:
 * libc, the loader, the vDSO (and, for a puppet of cowtrace run, the whole
 * binary).  Our own mapping is one of each such page's mapcount and
 * refcount: say which pages, or the numbers read one too high.
 */
static void print_self_share(const struct ct_snapshot *s)
{
	enum { NAMES = 6 };
	char names[NAMES][64], label[64], list[NAMES * 66] = "";
	struct ct_pfn_set self;
	struct ct_error err;
	size_t nr_names = 0, more = 0, used = 0;
	uint64_t pages = 0;

	if (s->pid == (uint32_t)getpid() || ct_self_file_pfns(&self, &err))
		return;
	for (size_t i = 0; i < s->nr_vmas; i++) {
		const struct cowtrace_vma *v = &s->vmas[i];
		const char *name, *slash;
		uint64_t n = 0;
		size_t k;

		for (k = ct_first_page(s, v->start); k < s->nr_pages && s->pages[k].addr < v->end; k++)
			n += ct_page_is_file_page(&s->pages[k]) &&
			     ct_pfn_set_has(&self, s->pages[k].pfn);
		if (!n)
			continue;
		pages += n;
		name = ct_vma_label(s, v, label, sizeof(label));
		slash = strrchr(name, '/');
		name = slash ? slash + 1 : name;
		for (k = 0; k < nr_names && strcmp(names[k], name); k++)
			;
		if (k < nr_names)
			continue;
		if (nr_names == NAMES) {
			more++;
			continue;
		}
		snprintf(names[nr_names++], sizeof(names[0]), "%s", name);
	}
	ct_pfn_set_free(&self);
	if (!pages)
		return;
	for (size_t k = 0; k < nr_names; k++)
		used += snprintf(list + used, sizeof(list) - used, "%s%s", k ? ", " : "", names[k]);
	if (more)
		snprintf(list + used, sizeof(list) - used, " and %zu more", more);
	printf("(%" PRIu64 " of its file pages are mapped by this cowtrace too, pid %d: %s;"
	       " their MAP and REF count that mapping, one more than without cowtrace)\n",
	       pages, (int)getpid(), list);
}

static void print_vmas(const struct ct_snapshot *s, const char *spec)
{
	char sz[16], rss[16], perms[5], label[64];
	int wr = !(s->unavailable & CT_UNAVAIL_WRITE);

	printf("%-12s %-12s %9s %-5s %7s %9s %8s %7s %7s  %s\n", "START", "END",
	       "SIZE", "PERMS", "PAGES", "RSS", "WRITABLE", "SHARED", "EXCL", "NAME");
	for (size_t i = 0; i < s->nr_vmas; i++) {
		const struct cowtrace_vma *v = &s->vmas[i];
		struct vma_stats st;
		char wbuf[16];

		if (!vma_matches(s, v, spec))
			continue;
		vma_stats(s, v, &st);
		ct_perms(v, perms);
		snprintf(wbuf, sizeof(wbuf), "%" PRIu64, st.writable);
		printf("%012" PRIx64 " %012" PRIx64 " %9s %-5s %7" PRIu64 " %9s %8s %7" PRIu64
		       " %7" PRIu64 "  %s%s%s%s\n",
		       (uint64_t)v->start, (uint64_t)v->end, ct_human_bytes(v->end - v->start, sz, sizeof(sz)),
		       perms, st.pages,
		       ct_human_bytes(st.resident * s->page_size, rss, sizeof(rss)),
		       wr ? wbuf : "?", st.shared, st.excl,
		       ct_vma_label(s, v, label, sizeof(label)),
		       v->flags & COWTRACE_VMA_COW ? "" : " (not COW)",
		       v->flags & COWTRACE_VMA_DONTCOPY ? " (dontfork)" : "",
		       v->flags & COWTRACE_VMA_WIPEONFORK ? " (wipeonfork)" : "");
	}
}

static int page_selected(const struct ct_snapshot *s, const struct cowtrace_page *r,
			 const char *spec, enum only only)
{
	const struct cowtrace_vma *v;

	if (!page_matches(r, only))
		return 0;
	if (!spec)
		return 1;
	v = ct_find_vma(s, r->addr);
	return v && vma_matches(s, v, spec);
}

static void print_pages(const struct ct_snapshot *s, const char *spec,
			enum only only)
{
	char pte[8], flags[128];

	printf("\n%-12s %-10s %-3s %-7s %5s %5s %5s  %s\n", "ADDR", "PFN", "LVL",
	       "PTE", "MAP", "FMAP", "REF", "FLAGS");
	for (size_t i = 0; i < s->nr_pages; i++) {
		const struct cowtrace_page *r = &s->pages[i];
		char map[12] = "-", fmap[12] = "-", ref[12] = "-";

		if (!page_selected(s, r, spec, only))
			continue;
		ct_pte_letters(s, r, pte);
		if (r->flags & COWTRACE_PG_PAGE) {
			snprintf(map, sizeof(map), "%s%u",
				 ct_mapcount_is_average(s, r) ? "~" : "",
				 r->mapcount);
			if (!(s->unavailable & CT_UNAVAIL_FOLIO_MAPCOUNT))
				snprintf(fmap, sizeof(fmap), "%u", r->folio_mapcount);
			if (!(s->unavailable & CT_UNAVAIL_REFCOUNT))
				snprintf(ref, sizeof(ref), "%u", r->refcount);
		}
		printf("%012" PRIx64 " %#-10" PRIx64 " %-3s %-7s %5s %5s %5s  %s\n",
		       (uint64_t)r->addr, (uint64_t)r->pfn,
		       s->unavailable & CT_UNAVAIL_PTE_MISC ? "?" : ct_level_name(r->flags),
		       pte, map, fmap, ref,
		       ct_page_flag_names(r->flags, flags, sizeof(flags)));
	}
}

static void print_json(FILE *out, const struct ct_snapshot *s, const char *spec,
		       enum only only)
{
	struct json j;

	json_init(&j, out);
	json_object(&j);
	ct_json_snapshot_header(&j, s, "snapshot");
	json_key(&j, "vmas");
	json_array(&j);
	for (size_t i = 0; i < s->nr_vmas; i++)
		if (vma_matches(s, &s->vmas[i], spec))
			ct_json_vma(&j, s, &s->vmas[i]);
	json_end_array(&j);
	json_key(&j, "pages");
	json_array(&j);
	for (size_t i = 0; i < s->nr_pages; i++)
		if (page_selected(s, &s->pages[i], spec, only))
			ct_json_page(&j, s, &s->pages[i]);
	json_end_array(&j);
	json_end_object(&j);
}

int cmd_snap(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "range", required_argument, NULL, 'r' },
		{ "source", required_argument, NULL, 's' },
		{ "freeze", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ct_take_opts o;
	struct ct_snapshot s;
	struct ct_error err;
	const char *out = NULL;
	int json = 0, c, ret = EXIT_OK;

	ct_take_opts_init(&o);
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'j': json = 1; break;
		case 'f': o.freeze = 1; break;
		case 'r':
			if (ct_parse_range(optarg, &o.start, &o.end))
				return ct_usage("snap", "bad range '%s': want START-END in hex, START < END", optarg);
			break;
		case 's':
			if (ct_parse_source(optarg, &o.source))
				return ct_usage("snap", "bad source '%s': want auto, module or procfs", optarg);
			break;
		case 'h': fputs(snap_help, stdout); return EXIT_OK;
		default: return ct_usage("snap", "bad option");
		}
	}
	if (optind != argc - 1)
		return ct_usage("snap", "expected one PID");
	if (!ct_is_pid(argv[optind]))
		return ct_usage("snap", "'%s' is not a PID", argv[optind]);
	if (ct_take(atoi(argv[optind]), &o, &s, &err))
		return ct_err(EXIT_RUNTIME, "%s", err.msg);
	if (json) {
		FILE *f = out ? fopen(out, "we") : stdout;

		if (!f) {
			ret = ct_err(EXIT_RUNTIME, "cannot write %s", out);
		} else {
			print_json(f, &s, NULL, ONLY_ALL);
			if (out && fclose(f))
				ret = ct_err(EXIT_RUNTIME, "cannot write %s", out);
		}
	} else if (out) {
		if (ct_file_save(out, &s, &err))
			ret = ct_err(EXIT_RUNTIME, "%s", err.msg);
	} else {
		char rss[16];

		print_header(&s);
		print_self_share(&s);
		printf("%zu VMAs, %zu populated pages (%s); save it with -o FILE or print it with --json\n",
		       s.nr_vmas, s.nr_pages,
		       ct_human_bytes(s.nr_pages * s.page_size, rss, sizeof(rss)));
	}
	ct_snapshot_free(&s);
	return ret;
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vma", required_argument, NULL, 'v' },
		{ "range", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'O' },
		{ "no-pages", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "source", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ct_take_opts o;
	struct ct_snapshot s;
	const char *spec = NULL;
	enum only only = ONLY_ALL;
	int json = 0, pages = 1, c, ret;

	ct_take_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'v': spec = optarg; break;
		case 'n': pages = 0; break;
		case 'j': json = 1; break;
		case 'r':
			if (ct_parse_range(optarg, &o.start, &o.end))
				return ct_usage("show", "bad range '%s': want START-END in hex, START < END", optarg);
			break;
		case 'O':
			if (parse_only(optarg, &only))
				return ct_usage("show", "bad --only '%s': want shared, private, writable, ksm, thp, zero or swap", optarg);
			break;
		case 's':
			if (ct_parse_source(optarg, &o.source))
				return ct_usage("show", "bad source '%s'", optarg);
			break;
		case 'h': fputs(show_help, stdout); return EXIT_OK;
		default: return ct_usage("show", "bad option");
		}
	}
	if (optind != argc - 1)
		return ct_usage("show", "expected one FILE or PID");
	ret = ct_load(argv[optind], &o, &s);
	if (ret)
		return ret;
	if (!ct_is_pid(argv[optind]) && (o.start || o.end != 1ull << 56)) {
		/* a file holds what it holds: narrow it here */
		size_t n = 0;

		for (size_t i = 0; i < s.nr_pages; i++)
			if (s.pages[i].addr >= o.start && s.pages[i].addr < o.end)
				s.pages[n++] = s.pages[i];
		s.nr_pages = n;
	}
	if (json) {
		print_json(stdout, &s, spec, only);
	} else {
		print_header(&s);
		if (ct_is_pid(argv[optind]))
			print_self_share(&s);
		print_vmas(&s, spec);
		if (pages)
			print_pages(&s, spec, only);
	}
	ct_snapshot_free(&s);
	return EXIT_OK;
}
