// SPDX-License-Identifier: GPL-2.0
/*
 * snapshot_bench: how fast each way of reading a process's pages is, on one
 * target, in one run, so that only ratios matter (times on shared machines
 * and under TCG are noise; ratios between methods measured back to back on
 * the same pages are not).
 *
 * The target is a forked child holding an anonymous region in one of four
 * shapes (every page, every other page, every 64th page, 2 MiB THPs), asleep
 * while it is read.  Each method reads exactly that region and is timed as
 * the best of --reps runs, into buffers allocated beforehand:
 *
 *   cowtrace     COWTRACE_IOC_SNAPSHOT as the tool calls it: PFN, PTE bits,
 *                mapcount, refcount and page flags for every populated page,
 *                as runs of like pages (40 bytes a run; a page unlike its
 *                neighbours is a run of one), written into a buffer mapped
 *                from the module (COWTRACE_SNAP_RUNS | COWTRACE_SNAP_MMAP).
 *   copied runs  the same runs copied out to a user buffer.
 *   per-page     the same ioctl without runs: 32 bytes for every page.
 *   pagemap      one pread of /proc/PID/pagemap over the region: 8 bytes a
 *                page, PFN and four flags, no write bit.  The baseline.
 *   page-types   what tools/mm/page-types does: pagemap, then kpagecount and
 *                kpageflags for each present PFN, one pread per run of
 *                consecutive PFNs (page-types batches the same way; per-PFN
 *                preads would be slower, and unfair to it).
 *   PAGEMAP_SCAN the 6.7+ ioctl on pagemap, asked for present pages: runs of
 *                pages, no PFNs.  Reported as n/a where the kernel lacks it.
 *
 * Scaling: a region of 1, 4 and 16 GiB with the same 4096 pages populated,
 * spread evenly, then 16 GiB with them all in its first 64 MiB, and a
 * process with 10,000 VMAs: cowtrace's time must follow populated pages,
 * the page tables holding them and VMAs, not virtual size.  Spread pages
 * sit in more page tables as the region grows, and each table is 512 entries
 * to look at; the clustered row holds the region at 16 GiB and the tables
 * few, which is what separates the two.
 *
 * Output: markdown tables on stdout.  No thresholds: a benchmark reports.
 *
 *	usage: snapshot_bench [--mib N] [--reps R] [--tiny]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/cowtrace.h>

#include "bench.h"

#define PAGE 4096ul
#define HUGE (2ul << 20)

#ifndef PAGEMAP_SCAN	/* 6.7 UAPI, absent from Debian 12's headers */
struct page_region {
	uint64_t start, end, categories;
};

struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT (1ull << 3)
#endif

static int ctl_fd = -1;

/* --- the target ---------------------------------------------------------- */

struct target {
	pid_t pid;
	uint64_t start, len;	/* the region */
	uint64_t populated;	/* 4 KiB pages */
	uint64_t tables;	/* page tables holding them (2 MiB windows) */
};

enum shape { FULL, HALF, SPARSE64, THP, NR_SHAPES };
static const char *const shape_names[] = { "100% populated", "50% populated",
					    "1/64 populated", "THP-backed" };

/*
 * Fork a child that maps the region, writes one page in every @touch_every
 * of its first @touch_len bytes (all of it if 0), then sleeps until killed.
 */
static struct target spawn_target(uint64_t len, enum shape shape, uint64_t touch_every,
				  uint64_t touch_len, int nvmas)
{
	struct target t = { .len = len };
	int p[2];

	if (pipe(p))
		die("pipe");
	t.pid = fork();
	if (t.pid < 0)
		die("fork");
	if (t.pid == 0) {
		uint64_t addr, populated = 0, tables = 0;
		char *r;

		if (nvmas) {
			uintptr_t last_window = 0;

			/* separate VMAs: alternate protections so none merge */
			for (int i = 0; i < nvmas; i++) {
				r = mmap(NULL, 2 * PAGE, i & 1 ? PROT_READ | PROT_WRITE :
					 PROT_READ | PROT_WRITE | PROT_EXEC,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				if (r == MAP_FAILED)
					_exit(1);
				r[0] = 1;
				populated++;
				/* they are mapped one below the other: count new windows */
				if ((uintptr_t)r / HUGE != last_window)
					tables++;
				last_window = (uintptr_t)r / HUGE;
			}
			addr = 0;
		} else {
			r = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (r == MAP_FAILED)
				_exit(1);
			r = (char *)(((uintptr_t)r + HUGE - 1) & ~(HUGE - 1));
			madvise(r, len, shape == THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
			if (!touch_len || touch_len > len)
				touch_len = len;
			for (uint64_t off = 0; off < touch_len; off += touch_every * PAGE) {
				if (!off || off / HUGE != (off - touch_every * PAGE) / HUGE)
					tables++;
				r[off] = 1;
				populated += shape == THP ? 0 : 1;
			}
			addr = (uintptr_t)r;
		}
		if (write(p[1], &addr, sizeof(addr)) != sizeof(addr) ||
		    write(p[1], &populated, sizeof(populated)) != sizeof(populated) ||
		    write(p[1], &tables, sizeof(tables)) != sizeof(tables))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &t.start, sizeof(t.start)) != sizeof(t.start) ||
	    read(p[0], &t.populated, sizeof(t.populated)) != sizeof(t.populated) ||
	    read(p[0], &t.tables, sizeof(t.tables)) != sizeof(t.tables)) {
		fprintf(stderr, "snapshot_bench: the target could not map %" PRIu64 " MiB\n",
			len >> 20);
		exit(2);
	}
	close(p[0]);
	return t;
}

static void kill_target(struct target *t)
{
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
}

/* --- the methods --------------------------------------------------------- */

struct bufs {
	struct cowtrace_page *pages;
	struct cowtrace_page_run *runs, *mapped;	/* mapped: COWTRACE_MMAP_MAX */
	struct cowtrace_vma *vmas;
	uint64_t *pm, *counts, *flags;
	struct page_region *regions;
	size_t cap_pages, cap_vmas;
};

/* Records the last cowtrace call returned: runs, or pages. */
static uint64_t last_records;

enum output { PER_PAGE, RUNS_COPIED, RUNS_MAPPED };

/* Returns populated pages read. */
static uint64_t snapshot(const struct target *t, uint64_t start, uint64_t end,
			 struct bufs *b, enum output out)
{
	const struct cowtrace_page_run *runs = out == RUNS_MAPPED ? b->mapped : b->runs;
	struct cowtrace_snapshot a = {
		.size = sizeof(a), .pid = t->pid, .start = start, .end = end,
		.flags = out == PER_PAGE ? 0 : COWTRACE_SNAP_RUNS,
		.pages = out == PER_PAGE ? (uintptr_t)b->pages :
			 out == RUNS_COPIED ? (uintptr_t)b->runs : 0,
		.page_cap = out == RUNS_MAPPED ? COWTRACE_MMAP_MAX / sizeof(*runs) :
			    b->cap_pages,
		.vmas = (uintptr_t)b->vmas, .vma_cap = b->cap_vmas,
	};
	uint64_t total = 0, records = 0;

	if (out == RUNS_MAPPED)
		a.flags |= COWTRACE_SNAP_MMAP;
	do {
		if (ioctl(ctl_fd, COWTRACE_IOC_SNAPSHOT, &a))
			die("COWTRACE_IOC_SNAPSHOT");
		records += a.page_count;
		if (out == PER_PAGE)
			total += a.page_count;
		for (uint32_t i = 0; out != PER_PAGE && i < a.page_count; i++)
			total += runs[i].nr_pages;
		a.start = a.next;
	} while (a.next < end);
	last_records = records;
	return total;
}

static uint64_t run_cowtrace(const struct target *t, uint64_t start, uint64_t end,
			     struct bufs *b)
{
	return snapshot(t, start, end, b, RUNS_MAPPED);
}

static uint64_t run_copied_runs(const struct target *t, uint64_t start, uint64_t end,
				struct bufs *b)
{
	return snapshot(t, start, end, b, RUNS_COPIED);
}

static uint64_t run_per_page(const struct target *t, uint64_t start, uint64_t end,
			     struct bufs *b)
{
	return snapshot(t, start, end, b, PER_PAGE);
}

static int open_proc(pid_t pid, const char *file)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	return fd;
}

/* pagemap over [start, end) in one pread (chunked at 64 MiB of entries). */
static uint64_t read_pagemap(int fd, uint64_t start, uint64_t end, uint64_t *pm)
{
	uint64_t n = (end - start) / PAGE, done = 0, present = 0;

	while (done < n) {
		size_t chunk = n - done > (8u << 20) ? (8u << 20) : n - done;
		ssize_t r = pread(fd, pm + done, chunk * 8, (start / PAGE + done) * 8);

		if (r != (ssize_t)(chunk * 8))
			die("pread pagemap");
		done += chunk;
	}
	for (uint64_t i = 0; i < n; i++)
		present += pm[i] >> 63;
	return present;
}

static uint64_t run_pagemap(const struct target *t, uint64_t start, uint64_t end,
			    struct bufs *b)
{
	int fd = open_proc(t->pid, "pagemap");
	uint64_t present = read_pagemap(fd, start, end, b->pm);

	close(fd);
	return present;
}

static uint64_t run_page_types(const struct target *t, uint64_t start, uint64_t end,
			       struct bufs *b)
{
	int fd = open_proc(t->pid, "pagemap");
	int kc = open("/proc/kpagecount", O_RDONLY), kf = open("/proc/kpageflags", O_RDONLY);
	uint64_t n = (end - start) / PAGE, present = 0, i = 0;

	if (kc < 0 || kf < 0)
		die("/proc/kpage*");
	read_pagemap(fd, start, end, b->pm);
	while (i < n) {
		uint64_t pfn, run = 1;

		if (!(b->pm[i] >> 63)) {
			i++;
			continue;
		}
		pfn = b->pm[i] & ((1ull << 55) - 1);
		while (i + run < n && (b->pm[i + run] >> 63) &&
		       (b->pm[i + run] & ((1ull << 55) - 1)) == pfn + run && run < 1024)
			run++;
		if (pread(kc, b->counts, run * 8, pfn * 8) != (ssize_t)(run * 8) ||
		    pread(kf, b->flags, run * 8, pfn * 8) != (ssize_t)(run * 8))
			die("pread kpagecount/kpageflags");
		present += run;
		i += run;
	}
	close(fd);
	close(kc);
	close(kf);
	return present;
}

static int have_pagemap_scan = -1;

static uint64_t run_pagemap_scan(const struct target *t, uint64_t start, uint64_t end,
				 struct bufs *b)
{
	int fd = open_proc(t->pid, "pagemap");
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = start, .end = end,
		.vec = (uintptr_t)b->regions, .vec_len = b->cap_pages,
		.category_mask = PAGE_IS_PRESENT, .return_mask = PAGE_IS_PRESENT,
	};
	uint64_t present = 0;
	long n;

	do {
		n = ioctl(fd, PAGEMAP_SCAN, &a);
		if (n < 0) {
			have_pagemap_scan = 0;
			close(fd);
			return 0;
		}
		for (long i = 0; i < n; i++)
			present += (b->regions[i].end - b->regions[i].start) / PAGE;
		a.start = a.walk_end;
	} while (n > 0 && a.walk_end < end);
	have_pagemap_scan = 1;
	close(fd);
	return present;
}

typedef uint64_t (*method_fn)(const struct target *, uint64_t, uint64_t, struct bufs *);

/* Best of reps; *pages gets what the method saw. */
static double best_time(method_fn fn, const struct target *t, uint64_t start, uint64_t end,
			struct bufs *b, int reps, uint64_t *pages)
{
	double best = 1e9;

	for (int i = 0; i < reps; i++) {
		double t0 = now();

		*pages = fn(t, start, end, b);
		t0 = now() - t0;
		if (t0 < best)
			best = t0;
	}
	return best;
}

static void cell(double secs, uint64_t pages, double base)
{
	double ratio = secs / base;

	/* a third decimal below 0.1x, so that a clustered 16 GiB is not "0.00x" */
	printf(" %.2f ms, %.1f Mpages/s (%.*fx) |", secs * 1e3, pages / secs / 1e6,
	       ratio < 0.1 ? 3 : 2, ratio);
}

int main(int argc, char **argv)
{
	uint64_t mib = 1024, pages = 0;
	int reps = 5, scale = 1;
	struct bufs b = { 0 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tiny"))
			mib = 8, reps = 1, scale = 0;
		else {
			fprintf(stderr, "usage: snapshot_bench [--mib N] [--reps R] [--tiny]\n");
			return 1;
		}
	}
	ctl_fd = open("/sys/kernel/debug/cowtrace/ctl", O_RDONLY);
	if (ctl_fd < 0)
		die("/sys/kernel/debug/cowtrace/ctl (load the module)");

	/* buffers for the largest read: 16 GiB of pagemap entries in scaling */
	b.cap_pages = (scale ? 16ull << 30 : mib << 20) / PAGE;
	if (b.cap_pages < (mib << 20) / PAGE)
		b.cap_pages = (mib << 20) / PAGE;
	b.cap_vmas = 16384;
	b.pages = calloc(b.cap_pages, sizeof(*b.pages));
	b.runs = calloc(b.cap_pages, sizeof(*b.runs));
	b.mapped = mmap(NULL, COWTRACE_MMAP_MAX, PROT_READ, MAP_SHARED, ctl_fd, 0);
	if (b.mapped == MAP_FAILED)
		die("mmap of the module's output buffer");
	b.vmas = calloc(b.cap_vmas, sizeof(*b.vmas));
	b.pm = calloc(b.cap_pages, sizeof(*b.pm));
	b.counts = calloc(1024, 8);
	b.flags = calloc(1024, 8);
	b.regions = calloc(b.cap_pages, sizeof(*b.regions));
	if (!b.pages || !b.runs || !b.vmas || !b.pm || !b.counts || !b.flags || !b.regions)
		die("calloc");

	printf("### Snapshot speed: %" PRIu64 " MiB anonymous region, best of %d\n\n", mib, reps);
	printf("Time, pages/s (populated pages over time) and time relative to one pread of pagemap.\n\n");
	printf("| shape | populated pages | cowtrace (runs, mapped buffer) | runs | copied runs | per-page records | pagemap pread | page-types way | PAGEMAP_SCAN |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (int s = 0; s < NR_SHAPES; s++) {
		static const uint64_t every[] = { 1, 2, 64, 512 };
		struct target t = spawn_target(mib << 20, s, every[s], 0, 0);
		uint64_t end = t.start + t.len;
		double base, ct, cr, pp, pt, scan;
		uint64_t runs;

		base = best_time(run_pagemap, &t, t.start, end, &b, reps, &pages);
		ct = best_time(run_cowtrace, &t, t.start, end, &b, reps, &t.populated);
		runs = last_records;
		cr = best_time(run_copied_runs, &t, t.start, end, &b, reps, &pages);
		if (pages != t.populated)
			die("mapped and copied runs disagree on the populated pages");
		pp = best_time(run_per_page, &t, t.start, end, &b, reps, &pages);
		if (pages != t.populated)
			die("per-page records and runs disagree on the populated pages");
		printf("| %s | %" PRIu64 " |", shape_names[s], t.populated);
		cell(ct, t.populated, base);
		printf(" %" PRIu64 " |", runs);
		cell(cr, t.populated, base);
		cell(pp, t.populated, base);
		cell(base, t.populated, base);
		pt = best_time(run_page_types, &t, t.start, end, &b, reps, &pages);
		cell(pt, t.populated, base);
		scan = best_time(run_pagemap_scan, &t, t.start, end, &b, reps, &pages);
		if (have_pagemap_scan)
			cell(scan, t.populated, base);
		else
			printf(" n/a (kernel before 6.7) |");
		printf("\n");
		kill_target(&t);
	}

	printf("\n### Scaling: the same populated pages in a larger address space\n\n");
	printf("| target | populated pages | page tables holding them | cowtrace ioctl | pagemap pread |\n");
	printf("|---|---|---|---|---|\n");
	for (int g = 0; g < 4; g++) {
		static const uint64_t gib[] = { 1, 4, 16, 16 };
		uint64_t len = scale ? gib[g] << 30 : (mib << 20) << (2 * (g % 3));
		bool clustered = g == 3;
		/* 4096 pages, spread evenly or every 4th page from the start */
		uint64_t every = clustered ? 4 : len / PAGE / 4096 ?: 1;
		struct target t;
		uint64_t end;
		double base, ct;

		if (!scale && len / PAGE > b.cap_pages)
			continue;
		t = spawn_target(len, SPARSE64, every, clustered ? 4096 * every * PAGE : 0, 0);
		end = t.start + t.len;
		base = best_time(run_pagemap, &t, t.start, end, &b, reps, &pages);
		ct = best_time(run_cowtrace, &t, t.start, end, &b, reps, &t.populated);
		printf("| %" PRIu64 " MiB sparse%s | %" PRIu64 " | %" PRIu64 " |", len >> 20,
		       clustered ? ", pages clustered at the start" : "", t.populated, t.tables);
		cell(ct, t.populated, base);
		cell(base, t.populated, base);
		printf("\n");
		kill_target(&t);
	}
	{
		int nvmas = scale ? 10000 : 100;
		struct target t = spawn_target(0, FULL, 1, 0, nvmas);
		double ct;

		/* the whole address space, one call sequence: VMAs are what it walks */
		ct = best_time(run_cowtrace, &t, 0, 1ull << 47, &b, reps, &t.populated);
		printf("| %d VMAs, whole address space | %" PRIu64 " | %" PRIu64 " |", nvmas,
		       t.populated, t.tables);
		printf(" %.2f ms, %.1f Mpages/s | n/a (one pread per VMA) |\n", ct * 1e3,
		       t.populated / ct / 1e6);
		kill_target(&t);
	}
	return 0;
}
